// mm/arch/x86/fault.cc: the x86 page-fault handler.
// Port of arch/x86/mm/fault.c (exc_page_fault, handle_page_fault, do_kern_addr_fault,
// do_user_addr_fault, access_error, bad_area*, do_sigbus, kernelmode_fixup_or_oops,
// page_fault_oops, set_signal_archinfo), pagefault_out_of_memory from mm/oom_kill.c and exc_general_protection from
// arch/x86/kernel/traps.c and the user-mode exception entry of arch/x86/entry/entry_64.S,
// Linux 6.18.
//
// Deviations (grep "DEVIATION(fault)"):
//  - Signals are recorded in the task (mm/arch/x86/fault.h), not delivered.
//  - exc_page_fault also records the fault (address, error code, a count) in the task,
//    for the simulator's `expect fault` checks.
//  - An oops (a kernel-mode fault nobody expected: no exception-table entry, SMAP or
//    SMEP violations, reserved bits) prints Linux's report and stops the simulator with
//    BUG: it is a bug in the simulated kernel.
//  - No per-VMA-lock fast path (lock_vma_under_rcu): every fault takes mmap_lock.
//  - access_error refuses an instruction fetch from a VMA without VM_EXEC up front. Linux
//    6.x lets the not-present case populate the page and fails on the refault (PROT|INSTR);
//    the signal is the same, this skips the useless population.
//  - No vsyscall emulation, no kprobes/kmmio, no pagefault_disable() regions, no perf
//    events.
//  - pagefault_out_of_memory: Linux 6.18 only warns there and retries the fault, because
//    the allocator's out_of_memory (mm/oom_kill.cc here too) has already killed a victim,
//    or panicked with "System is deadlocked on memory" when none could be chosen. A fault
//    still ends in VM_FAULT_OOM here when the allocation failed without a kill: an injected
//    failure (fail_page_alloc, failslab), or no killable task. Instead of retrying forever
//    (or panicking), the port applies vm.oom_kill_allocating_task=1: the faulting task is
//    the victim and gets SIGKILL (recorded with the fault address and error code); the
//    global init is never a victim (oom_unkillable_task), its fault is retried as in Linux.
#include "mm/arch/x86/fault.h"

#include <cstdio>

#include "mm/arch/x86/extable.h"
#include "mm/arch/x86/pkeys.h"
#include "mm/mm.h"
#include "mm/sched.h"
#include "mm/trace.h"

namespace kernel {
namespace {

// kernel/signal.c: force_sig_fault. DEVIATION(fault): recorded, not delivered.
void force_sig_fault(int sig, int code, unsigned long addr) {
  task_struct* tsk = current();
  tsk->last_signal = sig;
  tsk->last_signal_addr = addr;
  tsk->last_si_code = code;
  trace_event("signal_generate", "sig=%d code=%d addr=%#lx pid=%d comm=%s", sig, code, addr,
              tsk->pid, tsk->comm);
}

// kernel/signal.c: force_sig_pkuerr. DEVIATION(fault): recorded, not delivered (the key
// goes to the trace only).
void force_sig_pkuerr(unsigned long addr, u32 pkey) {
  task_struct* tsk = current();
  tsk->last_signal = SIGSEGV;
  tsk->last_signal_addr = addr;
  tsk->last_si_code = SEGV_PKUERR;
  trace_event("signal_generate", "sig=%d code=%d addr=%#lx pkey=%u pid=%d comm=%s", SIGSEGV,
              SEGV_PKUERR, addr, pkey, tsk->pid, tsk->comm);
}

// arch/x86/mm/fault.c: what the signal frame tells user space about the fault.
void set_signal_archinfo(unsigned long address, unsigned long error_code) {
  task_struct* tsk = current();
  // Faults on kernel addresses are reported as protection faults, so user space cannot
  // learn which kernel pages are present.
  if (address >= TASK_SIZE_MAX) error_code |= X86_PF_PROT;
  tsk->thread.trap_nr = X86_TRAP_PF;
  tsk->thread.error_code = error_code | X86_PF_USER;
  tsk->thread.cr2 = address;
}

// arch/x86/mm/fault.c: show_fault_oops + the die() that follows.
[[noreturn]] void page_fault_oops(pt_regs* regs, unsigned long error_code,
                                  unsigned long address) {
  std::fprintf(stderr, "BUG: unable to handle page fault for address: %016lx\n", address);
  if (!(error_code & X86_PF_USER) && address < TASK_SIZE_MAX) {
    if (error_code & X86_PF_INSTR)
      std::fprintf(stderr, "unable to execute userspace code (SMEP?)\n");
    else if ((error_code & X86_PF_PROT) || !(regs->flags & X86_EFLAGS_AC))
      std::fprintf(stderr, "kernel access of user memory without stac() (SMAP?)\n");
  }
  std::fprintf(stderr, "#PF: %s %s in %s mode\n",
               (error_code & X86_PF_USER) ? "user" : "supervisor",
               (error_code & X86_PF_INSTR)   ? "instruction fetch"
               : (error_code & X86_PF_WRITE) ? "write access"
                                             : "read access",
               user_mode(regs) ? "user" : "kernel");
  std::fprintf(stderr, "#PF: error_code(0x%04lx) - %s\n", error_code,
               !(error_code & X86_PF_PROT)  ? "not-present page"
               : (error_code & X86_PF_RSVD) ? "reserved bit violation"
               : (error_code & X86_PF_PK)   ? "protection keys violation"
                                            : "permissions violation");
  std::fprintf(stderr, "RIP: %#lx\n", regs->ip);
  kernel_bug(__FILE__, __LINE__, "page_fault_oops");
}

// arch/x86/mm/fault.c: a kernel-mode fault the handler could not resolve.
void kernelmode_fixup_or_oops(pt_regs* regs, unsigned long error_code, unsigned long address,
                              int /*signal*/, int /*si_code*/) {
  WARN_ON_ONCE(user_mode(regs));
  // The faulting instruction was a user access: continue at its fixup.
  if (fixup_exception(regs, X86_TRAP_PF, error_code, address)) {
    trace_event("uaccess_fixup", "address=%#lx error_code=%#lx ip=%#lx", address, error_code,
                regs->ip);
    return;
  }
  page_fault_oops(regs, error_code, address);
}

// arch/x86/mm/fault.c
void __bad_area_nosemaphore(pt_regs* regs, unsigned long error_code, unsigned long address,
                            u32 pkey, int si_code) {
  if (!user_mode(regs)) {
    kernelmode_fixup_or_oops(regs, error_code, address, SIGSEGV, si_code);
    return;
  }
  if (!(error_code & X86_PF_USER)) {
    WARN_ON_ONCE(true);  // "kernel-mode error from user-mode"
    return;
  }
  set_signal_archinfo(address, error_code);
  if (si_code == SEGV_PKUERR)
    force_sig_pkuerr(address, pkey);
  else
    force_sig_fault(SIGSEGV, si_code, address);
}

// arch/x86/mm/fault.c
void bad_area_nosemaphore(pt_regs* regs, unsigned long error_code, unsigned long address) {
  __bad_area_nosemaphore(regs, error_code, address, 0, SEGV_MAPERR);
}

// arch/x86/mm/fault.c: a bad area found with mmap_lock held.
void __bad_area(pt_regs* regs, unsigned long error_code, unsigned long address, mm_struct* mm,
                vm_area_struct* /*vma*/, u32 pkey, int si_code) {
  // Something tried to access memory that isn't in our memory map. Fix it, but check if
  // it's kernel or user first.
  mmap_read_unlock(mm);
  __bad_area_nosemaphore(regs, error_code, address, pkey, si_code);
}

// arch/x86/mm/fault.c: was this access error the protection key's doing?
static bool bad_area_access_from_pkeys(unsigned long error_code, vm_area_struct* vma) {
  // This code is always called on the current mm.
  const bool foreign = false;
  if (!cpu_feature_enabled_ospke()) return false;
  if (error_code & X86_PF_PK) return true;
  // This checks permission keys on the VMA:
  if (!arch_vma_access_permitted(vma, (error_code & X86_PF_WRITE), (error_code & X86_PF_INSTR),
                                 foreign))
    return true;
  return false;
}

// arch/x86/mm/fault.c
void bad_area_access_error(pt_regs* regs, unsigned long error_code, unsigned long address,
                           mm_struct* mm, vm_area_struct* vma) {
  // This OSPKE check is not strictly necessary at runtime. But, doing it this way allows
  // compiler optimizations if pkeys are compiled out.
  if (bad_area_access_from_pkeys(error_code, vma)) {
    // A protection key fault means that the PKRU value did not allow access to some PTE.
    // Userspace can figure out what PKRU was from the XSAVE state. This function captures
    // the pkey from the vma and passes it to userspace so userspace can discover which
    // protection key was set on the PTE.
    const u32 pkey = static_cast<u32>(vma_pkey(vma));
    __bad_area(regs, error_code, address, mm, vma, pkey, SEGV_PKUERR);
  } else {
    __bad_area(regs, error_code, address, mm, vma, 0, SEGV_ACCERR);
  }
}

// arch/x86/mm/fault.c
void do_sigbus(pt_regs* regs, unsigned long error_code, unsigned long address,
               vm_fault_t /*fault*/) {
  if (!user_mode(regs)) {
    kernelmode_fixup_or_oops(regs, error_code, address, SIGBUS, BUS_ADRERR);
    return;
  }
  set_signal_archinfo(address, error_code);
  force_sig_fault(SIGBUS, BUS_ADRERR, address);
}

// arch/x86/mm/fault.c: may this access use this VMA at all? (true: no)
bool access_error(unsigned long error_code, vm_area_struct* vma) {
  // This is only called for the current mm, so:
  const bool foreign = false;
  // Read or write was blocked by protection keys. This is always an unconditional error
  // and can never result in a follow-up action to resolve the fault, like a COW.
  if (error_code & X86_PF_PK) return true;
  // Make sure to check the VMA so that we do not perform faults just to hit a X86_PF_PK
  // as soon as we fill in a page.
  if (!arch_vma_access_permitted(vma, (error_code & X86_PF_WRITE), (error_code & X86_PF_INSTR),
                                 foreign))
    return true;
  if (error_code & X86_PF_WRITE) return !(vma->vm_flags & VM_WRITE);
  // DEVIATION(fault): see the file comment.
  if (error_code & X86_PF_INSTR) return !(vma->vm_flags & VM_EXEC);
  // A read of a present page that faulted anyway is a protection violation.
  if (error_code & X86_PF_PROT) return true;
  // A read of a not-present page: any of read, write or exec permission will do
  // (x86 cannot map a page writable or executable but not readable).
  return !(vma->vm_flags & VM_ACCESS_FLAGS);
}

// include/linux/sched/signal.h: was the fault interrupted by a signal?
bool fault_signal_pending(vm_fault_t fault, pt_regs* regs) {
  task_struct* tsk = current();
  return (fault & VM_FAULT_RETRY) &&
         (fatal_signal_pending(tsk) || (user_mode(regs) && tsk->fatal_signal));
}

// arch/x86/mm/fault.c: a fault on a kernel-half address. Nothing there is reachable
// through a simulated CPU (the kernel uses the direct map on the host), so every such
// fault is a bad area: a signal for user mode, a fixup or an oops for the kernel.
void do_kern_addr_fault(pt_regs* regs, unsigned long hw_error_code, unsigned long address) {
  WARN_ON_ONCE(hw_error_code & X86_PF_PK);
  bad_area_nosemaphore(regs, hw_error_code, address);
}

// arch/x86/mm/fault.c
void handle_page_fault(pt_regs* regs, unsigned long error_code, unsigned long address) {
  if (unlikely(fault_in_kernel_space(address)))
    do_kern_addr_fault(regs, error_code, address);
  else
    do_user_addr_fault(regs, error_code, address);
}

}  // namespace

// arch/x86/mm/fault.c
bool fault_in_kernel_space(unsigned long address) { return address >= TASK_SIZE_MAX; }

// mm/oom_kill.c: in Linux the allocation that failed already had its chance to reclaim or
// kill, and the handler only warns and lets the task retry. DEVIATION(fault): see the file
// comment; out_of_memory's oom_kill_allocating_task branch, run here.
void pagefault_out_of_memory() {
  task_struct* tsk = current();
  if (fatal_signal_pending(tsk)) return;
  trace_event("pagefault_out_of_memory", "pid=%d comm=%s", tsk->pid, tsk->comm);
  if (tsk->mm == nullptr || tsk == kst().child_reaper) return;  // oom_unkillable_task
  // oom_kill_process -> __oom_kill_process: do_send_sig_info(SIGKILL, SEND_SIG_PRIV, ...),
  // mark_oom_victim. SIGKILL carries no si_addr; the record keeps where the access failed.
  const unsigned long address = tsk->thread.cr2;  // set_signal_archinfo, just before
  trace_event("mark_victim", "pid=%d comm=%s reason=oom_kill_allocating_task", tsk->pid, tsk->comm);
  tsk->fatal_signal = true;
  force_sig_fault(SIGKILL, SI_KERNEL, address);
}

// arch/x86/mm/fault.c
void do_user_addr_fault(pt_regs* regs, unsigned long error_code, unsigned long address) {
  task_struct* tsk = current();
  mm_struct* mm = tsk->mm;
  unsigned int flags = FAULT_FLAG_DEFAULT;
  trace_call tc("do_user_addr_fault", "address=%#lx error_code=%#lx %s", address, error_code,
                user_mode(regs) ? "user" : "kernel");

  // The kernel tried to execute user memory: SMEP said no, and nothing can fix that.
  if (unlikely((error_code & (X86_PF_USER | X86_PF_INSTR)) == X86_PF_INSTR))
    page_fault_oops(regs, error_code, address);

  // Reserved bits are never set in the user part of the page tables: pgtable_bad.
  if (unlikely(error_code & X86_PF_RSVD)) page_fault_oops(regs, error_code, address);

  // SMAP: a supervisor access to user memory is legal only inside stac()/clac(). Without
  // AC it is a kernel bug, whatever the exception table says.
  if (unlikely((this_cpu_hw()->cr4() & hw::Cpu::kCr4Smap) && !(error_code & X86_PF_USER) &&
               !(regs->flags & X86_EFLAGS_AC)))
    page_fault_oops(regs, error_code, address);

  // A kernel thread (no mm) has no user memory to fault in.
  if (unlikely(mm == nullptr)) {
    bad_area_nosemaphore(regs, error_code, address);
    return;
  }

  if (user_mode(regs)) flags |= FAULT_FLAG_USER;
  if (error_code & X86_PF_WRITE) flags |= FAULT_FLAG_WRITE;
  if (error_code & X86_PF_INSTR) flags |= FAULT_FLAG_INSTRUCTION;

  vm_fault_t fault;
  for (;;) {  // retry:
    vm_area_struct* vma = lock_mm_and_find_vma(mm, address, regs);
    if (unlikely(vma == nullptr)) {
      bad_area_nosemaphore(regs, error_code, address);
      return;
    }
    // The VMA exists; does it allow this kind of access?
    if (unlikely(access_error(error_code, vma))) {
      bad_area_access_error(regs, error_code, address, mm, vma);
      return;
    }
    fault = handle_mm_fault(vma, address, flags, regs);

    if (fault_signal_pending(fault, regs)) {
      // Killed while the lock was dropped; a kernel access gets its fixup.
      if (!user_mode(regs)) kernelmode_fixup_or_oops(regs, error_code, address, SIGBUS, BUS_ADRERR);
      return;
    }
    // The fault is done, mmap_lock already released.
    if (fault & VM_FAULT_COMPLETED) return;
    // handle_mm_fault dropped mmap_lock to wait; take it again and retry once more.
    if (unlikely(fault & VM_FAULT_RETRY)) {
      flags |= FAULT_FLAG_TRIED;
      continue;
    }
    mmap_read_unlock(mm);
    break;
  }

  if (likely(!(fault & VM_FAULT_ERROR))) return;

  if (fatal_signal_pending(tsk) && !user_mode(regs)) {
    kernelmode_fixup_or_oops(regs, error_code, address, 0, 0);
    return;
  }
  if (fault & VM_FAULT_OOM) {
    // A kernel access gives up (short copy); user space retries after the OOM path.
    if (!user_mode(regs)) {
      kernelmode_fixup_or_oops(regs, error_code, address, SIGSEGV, SEGV_MAPERR);
      return;
    }
    set_signal_archinfo(address, error_code);  // DEVIATION(fault): for the SIGKILL record
    pagefault_out_of_memory();
  } else {
    if (fault & (VM_FAULT_SIGBUS | VM_FAULT_HWPOISON | VM_FAULT_HWPOISON_LARGE))
      do_sigbus(regs, error_code, address, fault);
    else if (fault & VM_FAULT_SIGSEGV)
      bad_area_nosemaphore(regs, error_code, address);
    else
      BUG();
  }
}

// arch/x86/mm/fault.c
void exc_page_fault(pt_regs* regs, unsigned long error_code) {
  unsigned long address = this_cpu_hw()->cr2();  // read_cr2
  trace_event(user_mode(regs) ? "page_fault_user" : "page_fault_kernel",
              "address=%#lx ip=%#lx error_code=%#lx", address, regs->ip, error_code);
  if (task_struct* tsk = current(); tsk != nullptr) {  // DEVIATION(fault): sim's record
    tsk->last_pf_addr = address;
    tsk->last_pf_error_code = error_code;
    ++tsk->nr_pf;
  }
  handle_page_fault(regs, error_code, address);
}

// arch/x86/kernel/traps.c: #GP. Here only a non-canonical address raises it.
void exc_general_protection(pt_regs* regs, unsigned long error_code) {
  task_struct* tsk = current();
  trace_event("general_protection", "ip=%#lx error_code=%#lx %s", regs->ip, error_code,
              user_mode(regs) ? "user" : "kernel");
  if (user_mode(regs)) {
    // gp_user_force_sig_segv: SIGSEGV with si_code SI_KERNEL and no address.
    tsk->thread.error_code = error_code;
    tsk->thread.trap_nr = X86_TRAP_GP;
    force_sig_fault(SIGSEGV, SI_KERNEL, 0);
    return;
  }
  if (fixup_exception(regs, X86_TRAP_GP, error_code, 0)) return;
  std::fprintf(stderr, "general protection fault: %04lx RIP: %#lx\n", error_code, regs->ip);
  kernel_bug(__FILE__, __LINE__, "general protection fault in the kernel");
}

// arch/x86/include/asm/idtentry.h: the vector the CPU raised, to its handler.
void exc_dispatch(pt_regs* regs, const hw::Fault& fault) {
  switch (fault.kind) {
    case hw::Fault::Kind::kPageFault:
      exc_page_fault(regs, fault.error_code);
      return;
    case hw::Fault::Kind::kGeneralProtection:
      exc_general_protection(regs, 0);
      return;
    case hw::Fault::Kind::kMachineCheck:
      // A translation to outside memory: the kernel's own page tables are broken.
      kernel_bug(__FILE__, __LINE__, "access reached no memory");
    case hw::Fault::Kind::kNone:
      BUG();
  }
}

// arch/x86/entry/entry_64.S: the user-mode half of idtentry.
void user_exception_entry(const hw::Fault& fault, unsigned long ip, unsigned long sp) {
  hw::Cpu* c = this_cpu_hw();
  c->SetCpl(0);
  pt_regs regs{};
  regs.ip = ip;
  regs.cs = __USER_CS;
  regs.flags = X86_EFLAGS_IF;
  regs.sp = sp;
  exc_dispatch(&regs, fault);
  c->SetCpl(3);
}

}  // namespace kernel
