// mm/arch/x86/ptrace.h: the register frame of a trap and the #PF error code.
// Port of arch/x86/include/asm/ptrace.h, asm/trap_pf.h and the RFLAGS bits of
// uapi/asm/processor-flags.h, Linux 6.18, reduced to what the fault path consults.
//
// Deviations (grep "DEVIATION(ptrace.h)"):
//  - pt_regs keeps only ip, sp, cs and flags. The simulated kernel has no instruction
//    stream: `ip` names the kernel "instruction" that faulted (a uaccess site from
//    mm/arch/x86/extable.h) or, for user mode, an arbitrary user address, and the
//    exception-table fixup moves it exactly as Linux moves regs->ip.
#ifndef MMSIM_MM_ARCH_X86_PTRACE_H_
#define MMSIM_MM_ARCH_X86_PTRACE_H_

namespace kernel {

// arch/x86/include/asm/segment.h: the selectors user_mode() looks at (RPL in bits 1:0).
inline constexpr unsigned long __KERNEL_CS = 0x10;
inline constexpr unsigned long __USER_CS = 0x33;

// arch/x86/include/uapi/asm/processor-flags.h
inline constexpr unsigned long X86_EFLAGS_IF = 1UL << 9;
inline constexpr unsigned long X86_EFLAGS_AC = 1UL << 18;

struct pt_regs {
  unsigned long ip;     // the faulting instruction; the fixup rewrites it
  unsigned long cs;     // __USER_CS when the trap came from user mode
  unsigned long flags;  // RFLAGS at the trap: X86_EFLAGS_AC matters for SMAP
  unsigned long sp;
};

// arch/x86/include/asm/ptrace.h: did the trap come from CPL 3?
inline bool user_mode(const pt_regs* regs) { return (regs->cs & 3) == 3; }
inline unsigned long instruction_pointer(const pt_regs* regs) { return regs->ip; }

// arch/x86/include/asm/trap_pf.h: the #PF error code (SDM vol. 3A 4.7).
enum x86_pf_error_code : unsigned long {
  X86_PF_PROT = 1UL << 0,   // 0: not-present page; 1: protection violation
  X86_PF_WRITE = 1UL << 1,  // the access was a write
  X86_PF_USER = 1UL << 2,   // it came from user mode
  X86_PF_RSVD = 1UL << 3,   // a reserved bit was set in a paging entry
  X86_PF_INSTR = 1UL << 4,  // instruction fetch
  X86_PF_PK = 1UL << 5,     // protection-key violation
};

// arch/x86/include/asm/trapnr.h
inline constexpr int X86_TRAP_GP = 13;
inline constexpr int X86_TRAP_PF = 14;

}  // namespace kernel

#endif  // MMSIM_MM_ARCH_X86_PTRACE_H_
