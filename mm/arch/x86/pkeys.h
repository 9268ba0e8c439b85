// mm/arch/x86/pkeys.h: memory protection keys (PKU) as Linux 6.18 uses them on x86-64.
// Port of arch/x86/include/asm/pkeys.h, arch/x86/include/asm/pkru.h, the pkey parts of
// arch/x86/include/asm/mmu_context.h and include/linux/pkeys.h; the code is in pkeys.cc.
//
// On a CPU with PKU, Linux turns CR4.PKE on at boot and gives every task a PKRU value
// (init_pkru_value: every key but 0 access-disabled). A mapping made or mprotect()ed with
// exactly PROT_EXEC gets the mm's "execute-only" key, allocated on first use, whose
// access-disable bit is set in the task's PKRU: the hardware then refuses every data
// access to those pages (the kernel's uaccess included), while instruction fetches pass.
// Remote accesses (GUP with FOLL_REMOTE, as process_vm_readv/writev make) skip the check.
//
// Deviations (grep "DEVIATION(pkeys)"):
//  - The pkey_alloc/pkey_free/pkey_mprotect system calls are not ported: the only keys in
//    use are 0 and the execute-only key.
//  - PKRU lives in task_struct::thread.pkru and in the CPU's register; there is no XSAVE
//    buffer (Linux 6.18 keeps the user value in thread.pkru as well).
#ifndef MMSIM_MM_ARCH_X86_PKEYS_H_
#define MMSIM_MM_ARCH_X86_PKEYS_H_

#include <sys/mman.h>

#include "mm/mm.h"
#include "mm/mm_types.h"
#include "mm/sched.h"

namespace kernel {

// include/uapi/asm-generic/mman-common.h (the host's <sys/mman.h> has the same values).
#ifndef PKEY_DISABLE_ACCESS
#define PKEY_DISABLE_ACCESS 0x1
#endif
#ifndef PKEY_DISABLE_WRITE
#define PKEY_DISABLE_WRITE 0x2
#endif
static_assert(PKEY_DISABLE_ACCESS == 0x1, "PKEY_DISABLE_ACCESS");
static_assert(PKEY_DISABLE_WRITE == 0x2, "PKEY_DISABLE_WRITE");
inline constexpr unsigned long PKEY_ACCESS_MASK = PKEY_DISABLE_ACCESS | PKEY_DISABLE_WRITE;

// arch/x86/include/asm/pkru.h
inline constexpr u32 PKRU_AD_BIT = 0x1u;
inline constexpr u32 PKRU_WD_BIT = 0x2u;
inline constexpr int PKRU_BITS_PER_PKEY = 2;
// arch/x86/mm/pkeys.c: every key but 0 access-disabled (PKR_AD_KEY(1) | ... | (15)).
inline constexpr u32 init_pkru_value = 0x55555554u;

// arch/x86/include/asm/pkeys.h
inline constexpr int ARCH_DEFAULT_PKEY = 0;
int arch_max_pkey();  // 16 with X86_FEATURE_OSPKE, else 1

// The boot CPU's X86_FEATURE_OSPKE: PKU present and CR4.PKE set by setup_pku.
bool cpu_feature_enabled_ospke();

// arch/x86/include/asm/pkru.h: the PKRU of the running CPU (RDPKRU / WRPKRU).
u32 read_pkru();
void write_pkru(u32 pkru);
// arch/x86/include/asm/pkru.h
inline bool __pkru_allows_read(u32 pkru, u16 pkey) {
  const int pkru_pkey_bits = pkey * PKRU_BITS_PER_PKEY;
  return !(pkru & (PKRU_AD_BIT << pkru_pkey_bits));
}
inline bool __pkru_allows_write(u32 pkru, u16 pkey) {
  const int pkru_pkey_bits = pkey * PKRU_BITS_PER_PKEY;
  // Access-disable disables writes too, so check both bits.
  return !(pkru & ((PKRU_AD_BIT | PKRU_WD_BIT) << pkru_pkey_bits));
}
// arch/x86/include/asm/pkru.h: pkru_get_init_value
u32 pkru_get_init_value();
// arch/x86/include/asm/pkru.h: pkru_write_default
void pkru_write_default();

// arch/x86/include/asm/pkeys.h: the key in a VMA's flags.
inline int vma_pkey(const vm_area_struct* vma) {
  return static_cast<int>((vma->vm_flags & ARCH_VM_PKEY_FLAGS) >> VM_PKEY_SHIFT);
}
// include/linux/mman.h (x86's arch_calc_vm_prot_bits): a key as VMA flag bits.
inline vm_flags_t arch_calc_vm_prot_bits(unsigned long /*prot*/, unsigned long key) {
  return ((key & 0x1) ? VM_PKEY_BIT0 : 0) | ((key & 0x2) ? VM_PKEY_BIT1 : 0) |
         ((key & 0x4) ? VM_PKEY_BIT2 : 0) | ((key & 0x8) ? VM_PKEY_BIT3 : 0);
}

// arch/x86/include/asm/pkeys.h: the mm's allocation bitmap.
// (mm_pkey_is_allocated and mm_pkey_free serve pkey_mprotect/pkey_free: not ported.)
int mm_pkey_alloc(mm_struct* mm);
// arch/x86/kernel/fpu/xstate.c: set a key's access bits in tsk's (current's) PKRU.
int arch_set_user_pkey_access(task_struct* tsk, int pkey, unsigned long init_val);
// arch/x86/include/asm/pkeys.h / arch/x86/mm/pkeys.c
int execute_only_pkey(mm_struct* mm);
int arch_override_mprotect_pkey(vm_area_struct* vma, int prot, int pkey);

// arch/x86/include/asm/mmu_context.h: does PKRU let current make this access to vma?
// Instruction fetches and foreign (remote) accesses are not checked.
bool arch_vma_access_permitted(vm_area_struct* vma, bool write, bool execute, bool foreign);
// arch/x86/include/asm/mmu_context.h: the pkey half of init_new_context / arch_dup_mmap.
void mm_init_pkeys(mm_struct* mm);
void arch_dup_pkeys(mm_struct* oldmm, mm_struct* mm);
// arch/x86/include/asm/fpu/sched.h's x86_pkru_load, called by __switch_to.
void x86_pkru_load(task_struct* prev, task_struct* next);
// arch/x86/kernel/cpu/common.c: setup_pku, on each CPU at boot.
void setup_pku(hw::Cpu* c);

}  // namespace kernel

#endif  // MMSIM_MM_ARCH_X86_PKEYS_H_
