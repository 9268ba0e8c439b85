// mm/arch/x86/extable.cc: the exception table and its fixups.
// Port of arch/x86/mm/extable.c (fixup_exception, ex_handler_default,
// ex_handler_uaccess) and kernel/extable.c (search_exception_tables), Linux 6.18.
// See mm/arch/x86/extable.h for the deviation (instruction addresses are names).
#include "mm/arch/x86/extable.h"

#include <iterator>

#include "mm/bug.h"

namespace kernel {
namespace {

// The fixup of each uaccess site: "return the count not done" (here: leave the loop).
constexpr exception_table_entry kExTable[] = {
    {UA_INSN_COPY_USER, UA_INSN_COPY_USER + 0x80, EX_TYPE_UACCESS},
    {UA_INSN_CLEAR_USER, UA_INSN_CLEAR_USER + 0x80, EX_TYPE_UACCESS},
    {UA_INSN_GET_USER, UA_INSN_GET_USER + 0x80, EX_TYPE_UACCESS},
    {UA_INSN_PUT_USER, UA_INSN_PUT_USER + 0x80, EX_TYPE_UACCESS},
};

// arch/x86/mm/extable.c
bool ex_handler_default(const exception_table_entry* e, pt_regs* regs) {
  regs->ip = ex_fixup_addr(e);
  return true;
}

// arch/x86/mm/extable.c: a #GP in a user access means a non-canonical address reached a
// uaccess routine without access_ok: a kernel bug, but one that is fixed up.
bool ex_handler_uaccess(const exception_table_entry* e, pt_regs* regs, int trapnr) {
  if (trapnr == X86_TRAP_GP)
    WARN_ON_ONCE(true);  // "General protection fault in user access. Non-canonical address?"
  return ex_handler_default(e, regs);
}

}  // namespace

// kernel/extable.c
const exception_table_entry* search_exception_tables(unsigned long addr) {
  for (const exception_table_entry& e : kExTable)
    if (e.insn == addr) return &e;
  return nullptr;
}

// arch/x86/mm/extable.c
int fixup_exception(pt_regs* regs, int trapnr, unsigned long /*error_code*/,
                    unsigned long /*fault_addr*/) {
  const exception_table_entry* e = search_exception_tables(regs->ip);
  if (e == nullptr) return 0;
  switch (e->type) {
    case EX_TYPE_DEFAULT:
      return ex_handler_default(e, regs);
    case EX_TYPE_UACCESS:
      return ex_handler_uaccess(e, regs, trapnr);
    default:
      BUG();
  }
}

}  // namespace kernel
