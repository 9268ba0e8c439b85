// mm/arch/x86/fault.h: the x86 trap entry points for #PF and #GP.
// Port of the declarations of arch/x86/include/asm/traps.h and idtentry.h for
// exc_page_fault / exc_general_protection, plus do_user_addr_fault (static in
// arch/x86/mm/fault.c, exposed for tests), Linux 6.18.
//
// Who calls these: whatever ran an access on a simulated CPU and got a fault back. For a
// user-mode (CPL 3) access that is sim/ (sim::Machine::Store/Load); for a kernel-mode one
// it is the uaccess code (mm/arch/x86/uaccess.cc). The caller builds the pt_regs of the
// trap (user_mode(), RFLAGS.AC, the faulting "instruction") and passes the #PF error code
// the CPU reported; CR2 is read from the current CPU.
//
// Outcomes:
//  - fixed: the handler returns; the access may be retried (demand paging, COW, ...);
//  - user mode, not fixable: SIGSEGV or SIGBUS is recorded in current() (last_signal,
//    last_signal_addr, last_si_code, thread.{cr2,trap_nr,error_code}), never delivered:
//    DEVIATION(fault): the simulated task is not killed and the simulator carries on;
//  - kernel mode, not fixable: the exception-table fixup moves regs->ip (the uaccess
//    routine then returns a short count), or, with no entry, the kernel oopses: BUG.
#ifndef MMSIM_MM_ARCH_X86_FAULT_H_
#define MMSIM_MM_ARCH_X86_FAULT_H_

#include <csignal>

#include "hw/access.h"
#include "mm/arch/x86/ptrace.h"

namespace kernel {

// include/uapi/asm-generic/siginfo.h, from the host's <csignal> (pinned here).
static_assert(SEGV_MAPERR == 1, "SEGV_MAPERR");
static_assert(SEGV_ACCERR == 2, "SEGV_ACCERR");
static_assert(SEGV_PKUERR == 4, "SEGV_PKUERR");
static_assert(BUS_ADRERR == 2, "BUS_ADRERR");
static_assert(SI_KERNEL == 0x80, "SI_KERNEL");

// arch/x86/mm/fault.c: DEFINE_IDTENTRY_RAW_ERRORCODE(exc_page_fault). Reads CR2.
void exc_page_fault(pt_regs* regs, unsigned long error_code);
// arch/x86/kernel/traps.c: DEFINE_IDTENTRY_ERRORCODE(exc_general_protection)
// (a non-canonical address).
void exc_general_protection(pt_regs* regs, unsigned long error_code);
// arch/x86/mm/fault.c: the fault on a user-half address, as handle_page_fault calls it.
void do_user_addr_fault(pt_regs* regs, unsigned long error_code, unsigned long address);
// arch/x86/mm/fault.c: does `address` belong to the kernel half (>= TASK_SIZE_MAX)?
bool fault_in_kernel_space(unsigned long address);
// mm/oom_kill.c: a VM_FAULT_OOM reached the user-mode fault handler.
void pagefault_out_of_memory();

// arch/x86/include/asm/idtentry.h: run the handler of the exception `fault` reports
// (#PF: exc_page_fault, #GP: exc_general_protection) with `regs` as the entry saved them.
// DEVIATION(fault): a machine check (a translation outside simulated memory) means the
// kernel's own tables are broken: BUG.
void exc_dispatch(pt_regs* regs, const hw::Fault& fault);
// arch/x86/entry/entry_64.S: the current CPU raised `fault` while running user code at
// CPL 3. Enters the kernel at CPL 0 with the pt_regs of a trap from user mode
// (__USER_CS, RFLAGS.IF, `ip`, `sp`), dispatches it and returns to user mode (CPL 3).
void user_exception_entry(const hw::Fault& fault, unsigned long ip, unsigned long sp);

}  // namespace kernel

#endif  // MMSIM_MM_ARCH_X86_FAULT_H_
