// mm/arch/x86/uaccess.cc: user copies executed by the simulated CPU.
// Port of arch/x86/lib/copy_user_64.S (rep_movs_alternative: the rep movsb copy and
// its fault fixup), arch/x86/lib/usercopy_64.c / clear_user (rep stosb),
// arch/x86/lib/getuser.S and putuser.S, the copy_{from,to}_user wrappers of
// include/linux/uaccess.h and lib/usercopy.c, and stac()/clac() of asm/smap.h, Linux 6.18.
// The contract and the deviations are in mm/arch/x86/uaccess.h.
#include "mm/arch/x86/uaccess.h"

#include <algorithm>
#include <cstdint>

#include "mm/arch/x86/extable.h"
#include "mm/arch/x86/fault.h"
#include "mm/fault_inject.h"
#include "mm/kernel.h"
#include "mm/trace.h"

namespace kernel {
namespace {

// DEVIATION(uaccess): how often one access may fault again, with no byte moved, after
// the handler said it was fixed, before the copy gives up.
inline constexpr int kMaxFaultsWithoutProgress = 16;

// The trap the CPU took during a user access at "instruction" `insn`, handed to the
// kernel's handlers as the hardware would. True: resolved, retry the access. False: the
// exception-table fixup ran (regs.ip moved): stop.
bool uaccess_trap(const hw::Fault& fault, unsigned long insn) {
  hw::Cpu* cpu = this_cpu_hw();
  pt_regs regs{};
  regs.ip = insn;
  regs.cs = __KERNEL_CS;
  regs.flags = X86_EFLAGS_IF | (cpu->ac() ? X86_EFLAGS_AC : 0);
  exc_dispatch(&regs, fault);
  return regs.ip == insn;
}

enum class copy_dir { from_user, to_user, clear };

// arch/x86/include/asm/uaccess_64.h copy_user_generic() and arch/x86/lib/copy_user_64.S:
// stac, then rep movsb (or rep stosb for clear), restarted after each fault the handler
// resolves, stopping at the first byte it cannot, then clac. Returns the bytes not done.
// The CPU is looked up once: stac, the copy and clac run on the same one. A template on
// the direction: every page that process_vm_readv/writev moves comes through here.
template <copy_dir dir>
unsigned long copy_user_generic(void* kbuf, unsigned long uaddr, unsigned long len) {
  static const uint8_t kZeros[PAGE_SIZE] = {};
  hw::Cpu* cpu = this_cpu_hw();
  cpu->Stac();  // stac()
  constexpr unsigned long insn =
      dir == copy_dir::clear ? UA_INSN_CLEAR_USER : UA_INSN_COPY_USER;
  unsigned long done = 0;
  int stuck = 0;
  bool retrying = false;  // the last pass ended in a fault the handler resolved
  while (done < len) {
    // DEVIATION(uaccess): the fail_uaccess point, once per page-sized piece (not again
    // when the piece restarts after a resolved fault).
    if (!retrying && should_fail_point(FAIL_UACCESS, len - done)) break;
    retrying = false;
    const unsigned long addr = uaddr + done;
    const unsigned long chunk = std::min(len - done, PAGE_SIZE - (addr & ~PAGE_MASK));
    // Initialised in place from the call (no copy of the returned struct: a 16-byte
    // reload of what the callee just stored field by field stalls store forwarding).
    const hw::Cpu::CopyResult r = [&] {
      if constexpr (dir == copy_dir::from_user) {
        return cpu->CopyFromLinear(static_cast<uint8_t*>(kbuf) + done, hw::VirtAddr(addr),
                                   chunk);
      } else if constexpr (dir == copy_dir::to_user) {
        return cpu->CopyToLinear(hw::VirtAddr(addr), static_cast<const uint8_t*>(kbuf) + done,
                                 chunk);
      } else {
        return cpu->CopyToLinear(hw::VirtAddr(addr), kZeros, chunk);
      }
    }();
    done += r.done;
    if (r.done > 0) stuck = 0;
    if (likely(r.fault.ok())) {
      if (r.done < chunk) break;  // cannot happen: a short copy always reports a fault
      continue;
    }
    if (!uaccess_trap(r.fault, insn)) break;
    if (++stuck > kMaxFaultsWithoutProgress) {
      WARN_ON_ONCE(true);  // the handler keeps "fixing" a fault that keeps coming back
      break;
    }
    // A piece lies in one page, so it faults before its first byte: it restarts whole,
    // without a new injection decision.
    retrying = true;
  }
  cpu->Clac();  // clac()
  return len - done;
}

// arch/x86/lib/getuser.S / putuser.S: one mov, restarted after a resolved fault.
int user_mov(void* kval, unsigned long uaddr, unsigned long size, bool store) {
  hw::Cpu* cpu = this_cpu_hw();
  const unsigned long insn = store ? UA_INSN_PUT_USER : UA_INSN_GET_USER;
  for (int stuck = 0;; ++stuck) {
    if (stuck == 0 && should_fail_point(FAIL_UACCESS, size)) return -EFAULT;
    hw::Fault f = store ? cpu->Store(hw::VirtAddr(uaddr), kval, size)
                        : cpu->Load(hw::VirtAddr(uaddr), kval, size);
    if (f.ok()) return 0;
    if (!uaccess_trap(f, insn)) return -EFAULT;
    if (stuck >= kMaxFaultsWithoutProgress) {
      WARN_ON_ONCE(true);
      return -EFAULT;
    }
  }
}

}  // namespace

// arch/x86/include/asm/smap.h
void stac() { this_cpu_hw()->Stac(); }
void clac() { this_cpu_hw()->Clac(); }

// arch/x86/include/asm/uaccess_64.h
unsigned long raw_copy_from_user(void* to, const void __user* from, unsigned long n) {
  trace_call tc("raw_copy_from_user", "from=%#lx n=%lu", __user_addr(from), n);
  return tc.ret(copy_user_generic<copy_dir::from_user>(to, __user_addr(from), n));
}

// arch/x86/include/asm/uaccess_64.h
unsigned long raw_copy_to_user(void __user* to, const void* from, unsigned long n) {
  trace_call tc("raw_copy_to_user", "to=%#lx n=%lu", __user_addr(to), n);
  return tc.ret(
      copy_user_generic<copy_dir::to_user>(const_cast<void*>(from), __user_addr(to), n));
}

// include/linux/uaccess.h: _inline_copy_from_user. The part not copied is zeroed, so a
// caller never sees stale kernel bytes.
unsigned long copy_from_user(void* to, const void __user* from, unsigned long n) {
  unsigned long res = n;
  if (likely(access_ok(from, n))) res = raw_copy_from_user(to, from, n);
  if (unlikely(res)) std::memset(static_cast<uint8_t*>(to) + (n - res), 0, res);
  return res;
}

// include/linux/uaccess.h: _inline_copy_to_user.
unsigned long copy_to_user(void __user* to, const void* from, unsigned long n) {
  if (access_ok(to, n)) n = raw_copy_to_user(to, from, n);
  return n;
}

// arch/x86/include/asm/uaccess_64.h: __clear_user (rep stosb with its fixup).
unsigned long __clear_user(void __user* to, unsigned long n) {
  trace_call tc("__clear_user", "to=%#lx n=%lu", __user_addr(to), n);
  return tc.ret(copy_user_generic<copy_dir::clear>(nullptr, __user_addr(to), n));
}

// arch/x86/include/asm/uaccess_64.h
unsigned long clear_user(void __user* to, unsigned long n) {
  if (access_ok(to, n)) return __clear_user(to, n);
  return n;
}

// arch/x86/lib/getuser.S: __get_user_nocheck_{1,2,4,8}.
int __get_user_n(void* x, const void __user* ptr, unsigned long size) {
  BUG_ON(size != 1 && size != 2 && size != 4 && size != 8);
  stac();
  int ret = user_mov(x, __user_addr(ptr), size, /*store=*/false);
  clac();
  if (ret) std::memset(x, 0, size);
  return ret;
}

// arch/x86/lib/putuser.S: __put_user_nocheck_{1,2,4,8}.
int __put_user_n(const void* x, void __user* ptr, unsigned long size) {
  BUG_ON(size != 1 && size != 2 && size != 4 && size != 8);
  stac();
  int ret = user_mov(const_cast<void*>(x), __user_addr(ptr), size, /*store=*/true);
  clac();
  return ret;
}

}  // namespace kernel
