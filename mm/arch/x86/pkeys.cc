// mm/arch/x86/pkeys.cc: protection keys (see pkeys.h). Port of arch/x86/mm/pkeys.c, the
// pkey helpers of arch/x86/include/asm/pkeys.h, pkru.h and mmu_context.h, and
// arch_set_user_pkey_access from arch/x86/kernel/fpu/xstate.c, Linux 6.18.
#include "mm/arch/x86/pkeys.h"

#include "hw/cpu.h"
#include "mm/bug.h"
#include "mm/errno.h"
#include "mm/kernel.h"

namespace kernel {

bool cpu_feature_enabled_ospke() { return kst().x86_feature_ospke; }

// arch/x86/include/asm/pkeys.h
int arch_max_pkey() { return cpu_feature_enabled_ospke() ? 16 : 1; }

// arch/x86/include/asm/pkru.h: read_pkru (rdpkru when OSPKE, else 0)
u32 read_pkru() {
  if (!cpu_feature_enabled_ospke()) return 0;
  return this_cpu_hw()->pkru();
}

// arch/x86/include/asm/pkru.h: write_pkru (wrpkru when OSPKE)
void write_pkru(u32 pkru) {
  if (!cpu_feature_enabled_ospke()) return;
  // WRPKRU is only issued when the value changes (a serialising instruction).
  if (pkru != this_cpu_hw()->pkru()) BUG_ON(!this_cpu_hw()->WritePkru(pkru).ok());
}

// arch/x86/include/asm/pkru.h
u32 pkru_get_init_value() { return cpu_feature_enabled_ospke() ? init_pkru_value : 0; }

// arch/x86/include/asm/pkru.h
void pkru_write_default() {
  if (!cpu_feature_enabled_ospke()) return;
  write_pkru(pkru_get_init_value());
}

// arch/x86/include/asm/pkeys.h: the lowest free key, or -1.
int mm_pkey_alloc(mm_struct* mm) {
  // Note: this is the one and only place we make sure that the pkey is valid as far as
  // the hardware is concerned. The rest of the kernel trusts that only good, valid pkeys
  // come out of here.
  const u16 all_pkeys_mask = static_cast<u16>((1U << arch_max_pkey()) - 1);
  // Are we out of pkeys? We must handle this specially because ffz() behavior is
  // undefined if there are no zeros.
  if (mm->context.pkey_allocation_map == all_pkeys_mask) return -1;
  const int ret = __builtin_ctz(~static_cast<unsigned>(mm->context.pkey_allocation_map));  // ffz
  mm->context.pkey_allocation_map |= static_cast<u16>(1U << ret);  // mm_set_pkey_allocated
  return ret;
}

// arch/x86/kernel/fpu/xstate.c: arch_set_user_pkey_access. Only the running task's PKRU
// can be set: the register holds it.
int arch_set_user_pkey_access(task_struct* tsk, int pkey, unsigned long init_val) {
  BUG_ON(tsk != current());
  // This check implies XSAVE support. OSPKE only gets set if we enable XSAVE and we
  // enable PKU in XCR0.
  if (!cpu_feature_enabled_ospke()) return -EINVAL;
  // This code should only be called with valid 'pkey' values originating from in-kernel
  // users. Complain if a bad value is observed.
  if (WARN_ON_ONCE(pkey >= arch_max_pkey())) return -EINVAL;
  // Set the bits we need in PKRU:
  u32 new_pkru_bits = 0;
  if (init_val & PKEY_DISABLE_ACCESS) new_pkru_bits |= PKRU_AD_BIT;
  if (init_val & PKEY_DISABLE_WRITE) new_pkru_bits |= PKRU_WD_BIT;
  // Shift the bits in to the correct place in PKRU for pkey.
  const int pkey_shift = pkey * PKRU_BITS_PER_PKEY;
  new_pkru_bits <<= pkey_shift;
  // Get old PKRU and mask off any old bits in place:
  u32 old_pkru = read_pkru();
  old_pkru &= ~((PKRU_AD_BIT | PKRU_WD_BIT) << pkey_shift);
  // Write old part along with new part:
  write_pkru(old_pkru | new_pkru_bits);
  return 0;
}

namespace {

// arch/x86/mm/pkeys.c
int __execute_only_pkey(mm_struct* mm) {
  bool need_to_set_mm_pkey = false;
  int execute_only_pkey = mm->context.execute_only_pkey;
  // Do we need to assign a pkey for mm's execute-only maps?
  if (execute_only_pkey == -1) {
    // Go allocate one to use, which might fail.
    execute_only_pkey = mm_pkey_alloc(mm);
    if (execute_only_pkey < 0) return -1;
    need_to_set_mm_pkey = true;
  }
  // We do not want to go through the relatively costly dance to set PKRU if we do not
  // need to. Check it first and assume that if the execute-only pkey is access-disabled
  // that we do not have to set it ourselves.
  if (!need_to_set_mm_pkey &&
      !__pkru_allows_read(read_pkru(), static_cast<u16>(execute_only_pkey))) {
    return execute_only_pkey;
  }
  // Set up PKRU so that it denies access for everything other than execution.
  const int ret = arch_set_user_pkey_access(current(), execute_only_pkey, PKEY_DISABLE_ACCESS);
  // If the PKRU-set operation failed somehow, just return 0 and effectively disable
  // execute-only support.
  if (ret) {
    mm->context.pkey_allocation_map &= static_cast<u16>(~(1U << execute_only_pkey));  // mm_set_pkey_free
    return -1;
  }
  // We got one, store it and use it from here on out.
  if (need_to_set_mm_pkey) mm->context.execute_only_pkey = static_cast<s16>(execute_only_pkey);
  return execute_only_pkey;
}

// arch/x86/mm/pkeys.c
bool vma_is_pkey_exec_only(vm_area_struct* vma) {
  // Do this check first since the vm_flags should be hot.
  if ((vma->vm_flags & VM_ACCESS_FLAGS) != VM_EXEC) return false;
  if (vma_pkey(vma) != vma->vm_mm->context.execute_only_pkey) return false;
  return true;
}

// arch/x86/mm/pkeys.c: only for *plain* mprotect calls.
int __arch_override_mprotect_pkey(vm_area_struct* vma, int prot, int pkey) {
  // Is this an mprotect_pkey() call? If so, never override the value that came from the
  // user.
  if (pkey != -1) return pkey;
  // The mapping is execute-only. Go try to get the execute-only protection key. If we
  // fail to do that, fall through as if we do not have execute-only support in this mm.
  if (prot == PROT_EXEC) {
    pkey = execute_only_pkey(vma->vm_mm);
    if (pkey > 0) return pkey;
  } else if (vma_is_pkey_exec_only(vma)) {
    // Protections are *not* PROT_EXEC, but the mapping is using the exec-only pkey. This
    // mapping was PROT_EXEC and will no longer be. Move back to the default pkey.
    return ARCH_DEFAULT_PKEY;
  }
  // This is a vanilla, non-pkey mprotect (or we failed to setup execute-only), inherit
  // the pkey from the VMA we are working on.
  return vma_pkey(vma);
}

}  // namespace

// arch/x86/include/asm/pkeys.h
int execute_only_pkey(mm_struct* mm) {
  if (!cpu_feature_enabled_ospke()) return ARCH_DEFAULT_PKEY;
  return __execute_only_pkey(mm);
}

// arch/x86/include/asm/pkeys.h
int arch_override_mprotect_pkey(vm_area_struct* vma, int prot, int pkey) {
  if (!cpu_feature_enabled_ospke()) return 0;
  return __arch_override_mprotect_pkey(vma, prot, pkey);
}

// arch/x86/include/asm/mmu_context.h
bool arch_vma_access_permitted(vm_area_struct* vma, bool write, bool execute, bool foreign) {
  // pkeys never affect instruction fetches.
  if (execute) return true;
  // Allow access to mms other than the current one (a remote GUP).
  if (foreign || vma->vm_mm != current()->mm) return true;  // vma_is_foreign
  if (!cpu_feature_enabled_ospke()) return true;  // arch_vma_access_permitted's pkru check
  // __pkru_allows_pkey(vma_pkey(vma), write)
  const u32 pkru = read_pkru();
  const u16 pkey = static_cast<u16>(vma_pkey(vma));
  if (!__pkru_allows_read(pkru, pkey)) return false;
  if (write && !__pkru_allows_write(pkru, pkey)) return false;
  return true;
}

// arch/x86/include/asm/mmu_context.h: init_new_context's pkey part.
void mm_init_pkeys(mm_struct* mm) {
  if (cpu_feature_enabled_ospke()) {
    // pkey 0 is the default and allocated implicitly.
    mm->context.pkey_allocation_map = 0x1;
    // -1 means unallocated or invalid.
    mm->context.execute_only_pkey = -1;
  }
}

// arch/x86/include/asm/mmu_context.h (arch_dup_mmap): a fork's mm has the parent's keys.
void arch_dup_pkeys(mm_struct* oldmm, mm_struct* mm) {
  if (!cpu_feature_enabled_ospke()) return;
  // Duplicate the oldmm pkey state in mm:
  mm->context.pkey_allocation_map = oldmm->context.pkey_allocation_map;
  mm->context.execute_only_pkey = oldmm->context.execute_only_pkey;
}

// arch/x86/include/asm/fpu/sched.h: x86_pkru_load, from __switch_to.
void x86_pkru_load(task_struct* prev, task_struct* next) {
  if (!cpu_feature_enabled_ospke()) return;
  // Stash the prev task's value:
  prev->thread.pkru = read_pkru();
  // PKRU writes are slightly expensive. Avoid them when not strictly necessary:
  if (prev->thread.pkru != next->thread.pkru) write_pkru(next->thread.pkru);
}

// arch/x86/kernel/cpu/common.c: setup_pku. The machine's CPUs are alike, so the boot
// CPU's X86_FEATURE_OSPKE stands for all of them.
void setup_pku(hw::Cpu* c) {
  if (!c->has_pku()) return;  // cpu_feature_enabled(X86_FEATURE_PKU)
  BUG_ON(!c->WriteCr4(c->cr4() | hw::Cpu::kCr4Pke).ok());  // cr4_set_bits(X86_CR4_PKE)
  // setup_force_cpu_cap(X86_FEATURE_OSPKE)
  kst().x86_feature_ospke = true;
  // Load the default PKRU value (pkru_write_default, on this CPU).
  BUG_ON(!c->WritePkru(init_pkru_value).ok());
}

}  // namespace kernel
