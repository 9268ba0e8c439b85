// mm/trace_decode.h: what the numbers in a trace mean (the role of the __print_flags /
// __print_symbolic tables in include/trace/events/*.h and show_gfp_flags()).
//
// The trace points (mm/trace.h) record raw numbers cheaply: a return value as a long, the
// arguments as "name=value" text. This file says, per traced function, what its return type
// is and which of its arguments are flag words, and turns them into names when a trace is
// rendered, never on the kernel's path:
//   filemap_fault = 516          -> filemap_fault = VM_FAULT_MAJOR|VM_FAULT_LOCKED
//   mm_access = -13              -> mm_access = -EACCES
//   mmap_region = 16777216       -> mmap_region = 0x1000000
//   handle_mm_fault(flags=0x255) -> handle_mm_fault(flags=FAULT_FLAG_WRITE|...)
// Plain counts (bytes copied, pages pinned, pids) stay decimal. A function missing from the
// table keeps its raw decimal result and its arguments as recorded.
//
// Flag words decode the way trace_print_flags_seq() does: the table is walked in order, each
// entry whose whole mask is set prints its name and clears its bits (so composite names such
// as GFP_KERNEL come first), and bits no entry names print as a trailing hex number.
#ifndef MMSIM_MM_TRACE_DECODE_H_
#define MMSIM_MM_TRACE_DECODE_H_

#include <cstdint>
#include <string>

#include "absl/strings/string_view.h"

namespace kernel {

// The C type of a traced function's result, as far as reading it goes.
enum class trace_ret_kind : uint8_t {
  count,     // int, long, ssize_t, size_t, pid_t: a number, or a negative errno
  address,   // unsigned long user address (do_mmap): hex, or a negative errno
  vm_fault,  // vm_fault_t: VM_FAULT_* bits, 0 when none
  err_ptr,   // a pointer: recorded only when it is an ERR_PTR, shown as its errno
  boolean,   // bool: true / false
};

// The flag words the trace arguments carry.
enum class trace_flags_kind : uint8_t {
  none,
  foll,         // FOLL_* (gup)
  fault_flag,   // FAULT_FLAG_* (handle_mm_fault)
  gfp,          // gfp_t
  prot,         // PROT_*
  map,          // MAP_* (mmap flags)
  vm,           // VM_* (vm_flags_t)
  ptrace_mode,  // PTRACE_MODE_*
  clone,        // CLONE_*
  pte,          // an x86-64 page-table entry: pfn and _PAGE_* bits
};

// The result kind of `fn`; count for a function not in the table.
trace_ret_kind trace_ret_kind_of(absl::string_view fn);
// Which flag word the argument `arg` of function or event `fn` is (none when it is not one).
trace_flags_kind trace_arg_kind(absl::string_view fn, absl::string_view arg);

// Renderings.
std::string decode_errno(long err);            // -13 -> "-EACCES"; unknown: "-4000"
std::string decode_trace_ret(absl::string_view fn, long ret);
std::string decode_flags(trace_flags_kind kind, uint64_t value);
// An x86-64 paging entry's bits alone, "P|RW|USR|A|D|NX" ("none" when no bit is set).
std::string decode_pte_bits(uint64_t entry);
// "addr=0x1000 flags=0x255 user" with every known flag argument of `fn` rewritten by
// decode_flags; tokens that are not name=number stay as they are.
std::string decode_trace_args(absl::string_view fn, absl::string_view args);

}  // namespace kernel

#endif  // MMSIM_MM_TRACE_DECODE_H_
