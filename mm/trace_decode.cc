// mm/trace_decode.cc: the tables behind mm/trace_decode.h.
//
// The flag tables follow include/trace/events/mmflags.h (gfp, VM_*), the VM_FAULT_RESULT_TRACE
// list of include/linux/mm_types.h and the uapi headers at Linux 6.18, restricted to the
// names this port defines. Keep the function table in step with the trace_call sites: a
// function whose result is not a plain count must be listed, or its result shows in decimal.
#include "mm/trace_decode.h"

#include <cerrno>
#include <cstdlib>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "mm/arch/x86/pgtable_types.h"
#include "mm/errno.h"
#include "mm/errno_names.h"
#include "mm/gfp.h"
#include "mm/kernel/task.h"
#include "mm/mm.h"
#include "mm/sched.h"

namespace kernel {
namespace {

struct flag_name {
  uint64_t mask;
  const char* name;
};

// include/trace/events/mmflags.h __def_gfpflag_names: composite names first.
constexpr flag_name kGfpNames[] = {
    {GFP_HIGHUSER_MOVABLE, "GFP_HIGHUSER_MOVABLE"},
    {GFP_HIGHUSER, "GFP_HIGHUSER"},
    {GFP_USER, "GFP_USER"},
    {GFP_KERNEL_ACCOUNT, "GFP_KERNEL_ACCOUNT"},
    {GFP_KERNEL, "GFP_KERNEL"},
    {GFP_NOWAIT, "GFP_NOWAIT"},
    {___GFP_DMA, "GFP_DMA"},
    {__GFP_HIGHMEM, "__GFP_HIGHMEM"},
    {___GFP_DMA32, "GFP_DMA32"},
    {__GFP_HIGH, "__GFP_HIGH"},
    {__GFP_IO, "__GFP_IO"},
    {__GFP_FS, "__GFP_FS"},
    {__GFP_NOWARN, "__GFP_NOWARN"},
    {__GFP_RETRY_MAYFAIL, "__GFP_RETRY_MAYFAIL"},
    {__GFP_NOFAIL, "__GFP_NOFAIL"},
    {__GFP_NORETRY, "__GFP_NORETRY"},
    {__GFP_COMP, "__GFP_COMP"},
    {__GFP_ZERO, "__GFP_ZERO"},
    {__GFP_HARDWALL, "__GFP_HARDWALL"},
    {___GFP_RECLAIMABLE, "__GFP_RECLAIMABLE"},
    {__GFP_MOVABLE, "__GFP_MOVABLE"},
    {__GFP_ACCOUNT, "__GFP_ACCOUNT"},
    {__GFP_RECLAIM, "__GFP_RECLAIM"},
    {__GFP_DIRECT_RECLAIM, "__GFP_DIRECT_RECLAIM"},
    {__GFP_KSWAPD_RECLAIM, "__GFP_KSWAPD_RECLAIM"},
};

constexpr flag_name kFollNames[] = {
    {FOLL_WRITE, "FOLL_WRITE"},
    {FOLL_GET, "FOLL_GET"},
    {FOLL_DUMP, "FOLL_DUMP"},
    {FOLL_FORCE, "FOLL_FORCE"},
    {FOLL_NOWAIT, "FOLL_NOWAIT"},
    {FOLL_NOFAULT, "FOLL_NOFAULT"},
    {FOLL_HWPOISON, "FOLL_HWPOISON"},
    {FOLL_ANON, "FOLL_ANON"},
    {FOLL_LONGTERM, "FOLL_LONGTERM"},
    {FOLL_SPLIT_PMD, "FOLL_SPLIT_PMD"},
    {FOLL_INTERRUPTIBLE, "FOLL_INTERRUPTIBLE"},
    {FOLL_HONOR_NUMA_FAULT, "FOLL_HONOR_NUMA_FAULT"},
    {FOLL_TOUCH, "FOLL_TOUCH"},
    {FOLL_TRIED, "FOLL_TRIED"},
    {FOLL_REMOTE, "FOLL_REMOTE"},
    {FOLL_PIN, "FOLL_PIN"},
    {FOLL_FAST_ONLY, "FOLL_FAST_ONLY"},
    {FOLL_UNLOCKABLE, "FOLL_UNLOCKABLE"},
    {FOLL_MADV_POPULATE, "FOLL_MADV_POPULATE"},
};

constexpr flag_name kFaultFlagNames[] = {
    {FAULT_FLAG_WRITE, "FAULT_FLAG_WRITE"},
    {FAULT_FLAG_MKWRITE, "FAULT_FLAG_MKWRITE"},
    {FAULT_FLAG_ALLOW_RETRY, "FAULT_FLAG_ALLOW_RETRY"},
    {FAULT_FLAG_RETRY_NOWAIT, "FAULT_FLAG_RETRY_NOWAIT"},
    {FAULT_FLAG_KILLABLE, "FAULT_FLAG_KILLABLE"},
    {FAULT_FLAG_TRIED, "FAULT_FLAG_TRIED"},
    {FAULT_FLAG_USER, "FAULT_FLAG_USER"},
    {FAULT_FLAG_REMOTE, "FAULT_FLAG_REMOTE"},
    {FAULT_FLAG_INSTRUCTION, "FAULT_FLAG_INSTRUCTION"},
    {FAULT_FLAG_INTERRUPTIBLE, "FAULT_FLAG_INTERRUPTIBLE"},
    {FAULT_FLAG_UNSHARE, "FAULT_FLAG_UNSHARE"},
    {FAULT_FLAG_ORIG_PTE_VALID, "FAULT_FLAG_ORIG_PTE_VALID"},
    {FAULT_FLAG_VMA_LOCK, "FAULT_FLAG_VMA_LOCK"},
};

// VM_FAULT_RESULT_TRACE order.
constexpr flag_name kVmFaultNames[] = {
    {VM_FAULT_OOM, "VM_FAULT_OOM"},
    {VM_FAULT_SIGBUS, "VM_FAULT_SIGBUS"},
    {VM_FAULT_MAJOR, "VM_FAULT_MAJOR"},
    {VM_FAULT_HWPOISON, "VM_FAULT_HWPOISON"},
    {VM_FAULT_HWPOISON_LARGE, "VM_FAULT_HWPOISON_LARGE"},
    {VM_FAULT_SIGSEGV, "VM_FAULT_SIGSEGV"},
    {VM_FAULT_NOPAGE, "VM_FAULT_NOPAGE"},
    {VM_FAULT_LOCKED, "VM_FAULT_LOCKED"},
    {VM_FAULT_RETRY, "VM_FAULT_RETRY"},
    {VM_FAULT_FALLBACK, "VM_FAULT_FALLBACK"},
    {VM_FAULT_DONE_COW, "VM_FAULT_DONE_COW"},
    {VM_FAULT_NEEDDSYNC, "VM_FAULT_NEEDDSYNC"},
    {VM_FAULT_COMPLETED, "VM_FAULT_COMPLETED"},
};

constexpr flag_name kProtNames[] = {
    {PROT_READ, "PROT_READ"},           {PROT_WRITE, "PROT_WRITE"},
    {PROT_EXEC, "PROT_EXEC"},           {PROT_SEM, "PROT_SEM"},
    {PROT_GROWSDOWN, "PROT_GROWSDOWN"}, {PROT_GROWSUP, "PROT_GROWSUP"},
};

// MAP_SHARED_VALIDATE (3) first, so that it is not read as MAP_SHARED|MAP_PRIVATE.
constexpr flag_name kMapNames[] = {
    {MAP_SHARED_VALIDATE, "MAP_SHARED_VALIDATE"},
    {MAP_SHARED, "MAP_SHARED"},
    {MAP_PRIVATE, "MAP_PRIVATE"},
    {MAP_FIXED, "MAP_FIXED"},
    {MAP_ANONYMOUS, "MAP_ANONYMOUS"},
    {MAP_32BIT, "MAP_32BIT"},
    {MAP_GROWSDOWN, "MAP_GROWSDOWN"},
    {MAP_DENYWRITE, "MAP_DENYWRITE"},
    {MAP_EXECUTABLE, "MAP_EXECUTABLE"},
    {MAP_LOCKED, "MAP_LOCKED"},
    {MAP_NORESERVE, "MAP_NORESERVE"},
    {MAP_POPULATE, "MAP_POPULATE"},
    {MAP_NONBLOCK, "MAP_NONBLOCK"},
    {MAP_STACK, "MAP_STACK"},
    {MAP_HUGETLB, "MAP_HUGETLB"},
    {MAP_SYNC, "MAP_SYNC"},
    {MAP_FIXED_NOREPLACE, "MAP_FIXED_NOREPLACE"},
    {MAP_UNINITIALIZED, "MAP_UNINITIALIZED"},
};

// include/trace/events/mmflags.h __def_vmaflag_names, the flags this port has.
constexpr flag_name kVmNames[] = {
    {VM_READ, "VM_READ"},         {VM_WRITE, "VM_WRITE"},           {VM_EXEC, "VM_EXEC"},
    {VM_SHARED, "VM_SHARED"},     {VM_MAYREAD, "VM_MAYREAD"},       {VM_MAYWRITE, "VM_MAYWRITE"},
    {VM_MAYEXEC, "VM_MAYEXEC"},   {VM_MAYSHARE, "VM_MAYSHARE"},     {VM_GROWSDOWN, "VM_GROWSDOWN"},
    {VM_UFFD_MISSING, "VM_UFFD_MISSING"}, {VM_PFNMAP, "VM_PFNMAP"}, {VM_LOCKED, "VM_LOCKED"},
    {VM_IO, "VM_IO"},             {VM_DONTCOPY, "VM_DONTCOPY"},     {VM_DONTEXPAND, "VM_DONTEXPAND"},
    {VM_LOCKONFAULT, "VM_LOCKONFAULT"}, {VM_ACCOUNT, "VM_ACCOUNT"}, {VM_NORESERVE, "VM_NORESERVE"},
    {VM_WIPEONFORK, "VM_WIPEONFORK"}, {VM_DONTDUMP, "VM_DONTDUMP"}, {VM_SOFTDIRTY, "VM_SOFTDIRTY"},
    {VM_MIXEDMAP, "VM_MIXEDMAP"},
};

constexpr flag_name kPtraceModeNames[] = {
    {PTRACE_MODE_READ, "PTRACE_MODE_READ"},         {PTRACE_MODE_ATTACH, "PTRACE_MODE_ATTACH"},
    {PTRACE_MODE_NOAUDIT, "PTRACE_MODE_NOAUDIT"},   {PTRACE_MODE_FSCREDS, "PTRACE_MODE_FSCREDS"},
    {PTRACE_MODE_REALCREDS, "PTRACE_MODE_REALCREDS"},
};

constexpr flag_name kCloneNames[] = {
    {CLONE_VM, "CLONE_VM"},           {CLONE_FS, "CLONE_FS"},         {CLONE_FILES, "CLONE_FILES"},
    {CLONE_SIGHAND, "CLONE_SIGHAND"}, {CLONE_VFORK, "CLONE_VFORK"},   {CLONE_PARENT, "CLONE_PARENT"},
    {CLONE_THREAD, "CLONE_THREAD"},   {CLONE_SYSVSEM, "CLONE_SYSVSEM"}, {CLONE_UNTRACED, "CLONE_UNTRACED"},
};

// x86-64 entry bits, in bit order, with ptdump's short names.
constexpr flag_name kPteNames[] = {
    {_PAGE_PRESENT, "P"}, {_PAGE_RW, "RW"},        {_PAGE_USER, "USR"},
    {_PAGE_PWT, "PWT"},   {_PAGE_PCD, "PCD"},      {_PAGE_ACCESSED, "A"},
    {_PAGE_DIRTY, "D"},   {_PAGE_PSE, "PSE"},      {_PAGE_GLOBAL, "G"},
    {_PAGE_SPECIAL, "SPECIAL"}, {_PAGE_SOFT_DIRTY, "SOFT_DIRTY"}, {_PAGE_SAVED_DIRTY, "SAVED_DIRTY"},
    {_PAGE_NX, "NX"},
};

template <size_t N>
std::string print_flags(uint64_t value, const flag_name (&names)[N], const char* zero) {
  if (value == 0) return zero;
  std::string out;
  for (const flag_name& f : names) {
    if (f.mask == 0 || (value & f.mask) != f.mask) continue;
    absl::StrAppend(&out, out.empty() ? "" : "|", f.name);
    value &= ~f.mask;
  }
  if (value != 0) absl::StrAppendFormat(&out, "%s%#x", out.empty() ? "" : "|", value);
  return out;
}


// Per traced function (trace_call sites) or event (trace_event sites): the result type and
// the arguments that are flag words. Functions with a plain count result and no flag
// arguments need no entry.
struct trace_point_info {
  const char* fn;
  trace_ret_kind ret;
  struct {
    const char* arg;
    trace_flags_kind kind;
  } args[3];
};
constexpr trace_ret_kind kCount = trace_ret_kind::count;
constexpr trace_point_info kTracePoints[] = {
    // mm/gup.c
    {"follow_page_mask", trace_ret_kind::err_ptr, {{"flags", trace_flags_kind::foll}}},
    {"faultin_page", kCount, {{"fault_flags", trace_flags_kind::fault_flag}}},
    {"__get_user_pages", kCount, {{"gup_flags", trace_flags_kind::foll}}},
    {"get_user_pages_remote", kCount, {{"gup_flags", trace_flags_kind::foll}}},
    {"pin_user_pages_remote", kCount, {{"gup_flags", trace_flags_kind::foll}}},
    {"iovec_from_user", trace_ret_kind::err_ptr, {}},
    // mm/memory.c
    {"handle_mm_fault", trace_ret_kind::vm_fault, {{"flags", trace_flags_kind::fault_flag}}},
    {"__access_remote_vm", kCount, {{"gup_flags", trace_flags_kind::foll}}},
    {"copy_page_range", kCount, {{"flags", trace_flags_kind::vm}}},
    {"filemap_fault", trace_ret_kind::vm_fault, {}},
    {"filemap_map_pages", trace_ret_kind::vm_fault, {}},
    {"shmem_fault", trace_ret_kind::vm_fault, {}},
    // mm/mmap.c, mm/util.c, mm/mprotect.c, arch/x86/entry/vdso
    {"vm_mmap_pgoff", trace_ret_kind::address, {{"prot", trace_flags_kind::prot}, {"flags", trace_flags_kind::map}}},
    {"do_mmap", trace_ret_kind::address, {{"prot", trace_flags_kind::prot}, {"flags", trace_flags_kind::map}}},
    {"mmap_region", trace_ret_kind::address, {{"flags", trace_flags_kind::vm}}},
    {"map_vvar", trace_ret_kind::address, {}},
    {"do_mprotect_pkey", kCount, {{"prot", trace_flags_kind::prot}}},
    // kernel/
    {"mm_access", trace_ret_kind::err_ptr, {{"mode", trace_flags_kind::ptrace_mode}}},
    {"__ptrace_may_access", kCount, {{"mode", trace_flags_kind::ptrace_mode}}},
    {"dup_mm", trace_ret_kind::err_ptr, {}},
    {"kernel_clone", kCount, {{"flags", trace_flags_kind::clone}}},
    {"task_newtask", kCount, {{"clone_flags", trace_flags_kind::clone}}},
    // reclaim and allocation
    {"out_of_memory", trace_ret_kind::boolean, {{"gfp", trace_flags_kind::gfp}}},
    {"try_to_free_pages", kCount, {{"gfp", trace_flags_kind::gfp}}},
    {"mm_page_alloc", kCount, {{"gfp", trace_flags_kind::gfp}}},
    {"mm_page_alloc_fail", kCount, {{"gfp", trace_flags_kind::gfp}}},
    {"mm_vmscan_wakeup_kswapd", kCount, {{"gfp", trace_flags_kind::gfp}}},
    {"bad_pte", kCount, {{"pte", trace_flags_kind::pte}}},
};

const trace_point_info* find_trace_point(absl::string_view fn) {
  for (const trace_point_info& t : kTracePoints)
    if (fn == t.fn) return &t;
  return nullptr;
}

// "0x1f", "0" or "31" -> the number; false for anything else.
bool parse_number(absl::string_view s, uint64_t* out) {
  if (s.empty()) return false;
  int base = 10;
  if (s.size() > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
    base = 16;
    s.remove_prefix(2);
  }
  uint64_t v = 0;
  for (char c : s) {
    int d;
    if (c >= '0' && c <= '9') d = c - '0';
    else if (base == 16 && c >= 'a' && c <= 'f') d = c - 'a' + 10;
    else if (base == 16 && c >= 'A' && c <= 'F') d = c - 'A' + 10;
    else return false;
    if (v > (UINT64_MAX - static_cast<uint64_t>(d)) / static_cast<uint64_t>(base)) return false;
    v = v * static_cast<uint64_t>(base) + static_cast<uint64_t>(d);
  }
  *out = v;
  return true;
}

}  // namespace

trace_ret_kind trace_ret_kind_of(absl::string_view fn) {
  const trace_point_info* t = find_trace_point(fn);
  return t == nullptr ? trace_ret_kind::count : t->ret;
}

trace_flags_kind trace_arg_kind(absl::string_view fn, absl::string_view arg) {
  const trace_point_info* t = find_trace_point(fn);
  if (t == nullptr) return trace_flags_kind::none;
  for (const auto& a : t->args)
    if (a.arg != nullptr && arg == a.arg) return a.kind;
  return trace_flags_kind::none;
}

std::string decode_errno(long err) {
  for (const errno_name& e : kErrnoNames)
    if (err == -e.number) return absl::StrCat("-", e.name);
  if (err == -ERESTARTSYS) return "-ERESTARTSYS";
  return absl::StrCat(err);
}

std::string decode_trace_ret(absl::string_view fn, long ret) {
  const bool is_err = ret < 0 && ret >= -static_cast<long>(MAX_ERRNO);
  switch (trace_ret_kind_of(fn)) {
    case trace_ret_kind::count:
    case trace_ret_kind::err_ptr:
      return is_err ? decode_errno(ret) : absl::StrCat(ret);
    case trace_ret_kind::address:
      return is_err ? decode_errno(ret) : absl::StrFormat("%#x", static_cast<unsigned long>(ret));
    case trace_ret_kind::vm_fault:
      return print_flags(static_cast<uint64_t>(ret) & 0xffffffffu, kVmFaultNames, "0");
    case trace_ret_kind::boolean:
      return ret != 0 ? "true" : "false";
  }
  return absl::StrCat(ret);
}

std::string decode_flags(trace_flags_kind kind, uint64_t value) {
  switch (kind) {
    case trace_flags_kind::none: return absl::StrFormat("%#x", value);
    case trace_flags_kind::foll: return print_flags(value, kFollNames, "0");
    case trace_flags_kind::fault_flag: return print_flags(value, kFaultFlagNames, "0");
    case trace_flags_kind::gfp: return print_flags(value, kGfpNames, "none");
    case trace_flags_kind::prot: return print_flags(value, kProtNames, "PROT_NONE");
    case trace_flags_kind::map: return print_flags(value, kMapNames, "0");
    case trace_flags_kind::vm: return print_flags(value, kVmNames, "VM_NONE");
    case trace_flags_kind::ptrace_mode: return print_flags(value, kPtraceModeNames, "0");
    case trace_flags_kind::clone: return print_flags(value, kCloneNames, "0");
    case trace_flags_kind::pte: {
      // The frame number (bits 12..51), then the bits; a not-present entry is just "0".
      if (value == 0) return "0";
      const uint64_t pfn = (value & 0x000ffffffffff000ull) >> 12;
      return absl::StrFormat("pfn=%#x %s", pfn, decode_pte_bits(value));
    }
  }
  return absl::StrFormat("%#x", value);
}

std::string decode_pte_bits(uint64_t entry) {
  return print_flags(entry & ~PTE_PFN_MASK, kPteNames, "none");
}

std::string decode_trace_args(absl::string_view fn, absl::string_view args) {
  const trace_point_info* t = find_trace_point(fn);
  if (t == nullptr) return std::string(args);
  std::string out;
  bool first = true;
  for (absl::string_view tok : absl::StrSplit(args, ' ')) {
    if (!first) out.push_back(' ');
    first = false;
    const size_t eq = tok.find('=');
    uint64_t v = 0;
    trace_flags_kind kind = eq == absl::string_view::npos ? trace_flags_kind::none
                                                          : trace_arg_kind(fn, tok.substr(0, eq));
    if (kind == trace_flags_kind::none || !parse_number(tok.substr(eq + 1), &v)) {
      out.append(tok.data(), tok.size());
      continue;
    }
    absl::StrAppend(&out, tok.substr(0, eq + 1), decode_flags(kind, v));
  }
  return out;
}

}  // namespace kernel
