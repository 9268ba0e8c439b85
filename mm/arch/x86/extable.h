// mm/arch/x86/extable.h: the kernel's exception table.
// Port of arch/x86/include/asm/extable.h, asm/extable_fixup_types.h and
// arch/x86/mm/extable.c (search_exception_tables, fixup_exception and the uaccess
// handler), Linux 6.18.
//
// In Linux every instruction that may fault on a user address (the rep movsb of
// copy_user, the movs of get_user/put_user, the rep stosb of clear_user) has an entry
// {faulting instruction, fixup}. When the page-fault handler cannot resolve a kernel-mode
// fault, fixup_exception moves regs->ip to the fixup, and the uaccess routine returns
// what it had not done.
//
// DEVIATION(extable): the simulated kernel has no machine code. Each uaccess routine of
// mm/arch/x86/uaccess.cc passes one of the "instruction addresses" below as regs->ip when
// it enters the fault handler; the table maps it to a fixup address, and the routine
// sees the fixup taken when regs->ip comes back changed.
#ifndef MMSIM_MM_ARCH_X86_EXTABLE_H_
#define MMSIM_MM_ARCH_X86_EXTABLE_H_

#include "mm/arch/x86/ptrace.h"

namespace kernel {

// arch/x86/include/asm/extable_fixup_types.h
enum ex_type : int {
  EX_TYPE_NONE = 0,
  EX_TYPE_DEFAULT = 1,
  EX_TYPE_UACCESS = 3,
};

// arch/x86/include/asm/extable.h (absolute addresses instead of relative offsets).
struct exception_table_entry {
  unsigned long insn;
  unsigned long fixup;
  int type;
};

// The uaccess "instructions" of this port, in a made-up kernel text range.
inline constexpr unsigned long UACCESS_TEXT_BASE = 0xffffffff81c00000UL;
inline constexpr unsigned long UA_INSN_COPY_USER = UACCESS_TEXT_BASE + 0x000;   // rep movsb
inline constexpr unsigned long UA_INSN_CLEAR_USER = UACCESS_TEXT_BASE + 0x100;  // rep stosb
inline constexpr unsigned long UA_INSN_GET_USER = UACCESS_TEXT_BASE + 0x200;    // mov (%rax)
inline constexpr unsigned long UA_INSN_PUT_USER = UACCESS_TEXT_BASE + 0x300;    // mov to (%rcx)

// kernel/extable.c: the entry for the instruction at `addr`, or null.
const exception_table_entry* search_exception_tables(unsigned long addr);
// arch/x86/mm/extable.c: apply the fixup for regs->ip, if there is one. Returns 1 if
// regs now point at the fixup, 0 if the fault is not one the kernel expected.
int fixup_exception(pt_regs* regs, int trapnr, unsigned long error_code,
                    unsigned long fault_addr);
inline unsigned long ex_fixup_addr(const exception_table_entry* x) { return x->fixup; }

}  // namespace kernel

#endif  // MMSIM_MM_ARCH_X86_EXTABLE_H_
