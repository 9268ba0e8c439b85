// sim/views.cc
#include "sim/views.h"

#include <cstring>
#include <set>
#include <tuple>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "hw/paging_entry.h"
#include "hw/psc.h"
#include "mm/arch/x86/init.h"
#include "mm/arch/x86/pkeys.h"
#include "mm/fs.h"
#include "mm/huge_mm.h"
#include "mm/kernel.h"
#include "mm/mm.h"
#include "mm/mmzone.h"
#include "mm/pagewalk.h"
#include "mm/sched.h"
#include "mm/smp.h"
#include "mm/swap.h"
#include "mm/trace_decode.h"

namespace sim {
namespace {

using hw::PagingEntry;

absl::StatusOr<kernel::mm_struct*> MmOf(Machine& m, int pid) {
  kernel::task_struct* t = m.FindTask(pid);
  if (t == nullptr) return absl::NotFoundError(absl::StrCat("no task with pid ", pid));
  if (t->mm == nullptr) return absl::FailedPreconditionError(absl::StrCat("pid ", pid, " has no mm"));
  return t->mm;
}

// Reads entry `index` of the table in frame `table_pa`.
uint64_t ReadEntry(Machine& m, uint64_t table_pa, unsigned index) {
  return m.phys().ReadU64(hw::PhysAddr(table_pa + 8ull * index));
}

uint64_t SignExtend(uint64_t va) { return (va & (1ull << 47)) ? (va | 0xffff000000000000ull) : va; }

// "RW USR NX" style rights of a leaf as ptdump prints them, plus A/D/G.
std::string Rights(uint64_t e) {
  PagingEntry pe(e);
  return absl::StrFormat("%s %s %s %s %s %s", pe.writable() ? "RW" : "ro", pe.user() ? "USR" : "   ",
                         pe.xd() ? "NX" : "x ", pe.accessed() ? "A" : "-", pe.dirty() ? "D" : "-",
                         pe.global() ? "GLB" : "   ");
}

const char* LevelName(int level) {
  static constexpr const char* kNames[] = {"?", "pte", "pmd", "pud", "pgd"};
  return kNames[level >= 1 && level <= 4 ? level : 0];
}

// Calls fn(va, size, entry, level) for every present leaf of the tables at cr3, in order.
template <typename Fn>
void ForEachLeaf(Machine& m, uint64_t table_pa, int level, uint64_t va_base, Fn&& fn) {
  const int shift = 12 + 9 * (level - 1);
  for (unsigned i = 0; i < 512; ++i) {
    uint64_t e = ReadEntry(m, table_pa, i);
    PagingEntry pe(e);
    if (!pe.present()) continue;
    uint64_t va = va_base + (uint64_t{i} << shift);
    if (level == 1 || ((level == 2 || level == 3) && pe.ps())) {
      fn(va, uint64_t{1} << shift, e, level);
    } else {
      ForEachLeaf(m, e & kernel::PTE_PFN_MASK, level - 1, va, fn);
    }
  }
}

// One line of /proc/PID/maps (fs/proc/task_mmu.c show_map_vma), without the newline.
std::string MapsLine(const kernel::vm_area_struct* vma) {
  const kernel::vm_flags_t f = vma->vm_flags;
  std::string line = absl::StrFormat(
      "%08x-%08x %c%c%c%c %08x %02x:%02x %u ", vma->vm_start, vma->vm_end,
      (f & kernel::VM_READ) ? 'r' : '-', (f & kernel::VM_WRITE) ? 'w' : '-',
      (f & kernel::VM_EXEC) ? 'x' : '-', (f & kernel::VM_MAYSHARE) ? 's' : 'p',
      vma->vm_file != nullptr ? (vma->vm_pgoff << kernel::PAGE_SHIFT) : 0, 0, 0,
      vma->vm_file != nullptr ? kernel::file_inode(vma->vm_file)->i_ino : 0);
  std::string name;
  if (vma->vm_file != nullptr) {
    const kernel::inode* inode = kernel::file_inode(vma->vm_file);
    name = absl::StrCat("/", inode->i_name, inode->i_nlink == 0 ? " (deleted)" : "");
  } else if (vma->anon_name != nullptr) {
    name = vma->anon_name;
  }
  if (!name.empty()) {
    // As fs/proc/task_mmu.c: seq_setwidth(m, 25 + sizeof(void *) * 6 - 1) before the
    // prefix, then seq_pad(m, ' '): spaces up to that width, then one more, then the name
    // (so it starts at column 74 after any prefix shorter than the width).
    constexpr size_t kWidth = 25 + sizeof(void*) * 6 - 1;
    if (line.size() < kWidth) line.append(kWidth - line.size(), ' ');
    absl::StrAppend(&line, " ", name);
  }
  return line;
}

}  // namespace

// fs/proc/task_mmu.c: the VmFlags mnemonics, in bit order (show_smap_vma_flags).
absl::Span<const VmFlagMnemonic> VmFlagMnemonics() {
  using namespace kernel;
  static constexpr VmFlagMnemonic kMnemonics[] = {
      {VM_READ, "rd"},       {VM_WRITE, "wr"},       {VM_EXEC, "ex"},
      {VM_SHARED, "sh"},     {VM_MAYREAD, "mr"},     {VM_MAYWRITE, "mw"},
      {VM_MAYEXEC, "me"},    {VM_MAYSHARE, "ms"},    {VM_GROWSDOWN, "gd"},
      {VM_UFFD_MISSING, "um"}, {VM_PFNMAP, "pf"},    {VM_LOCKED, "lo"},
      {VM_IO, "io"},         {VM_SEQ_READ, "sr"},    {VM_RAND_READ, "rr"},
      {VM_DONTCOPY, "dc"},   {VM_DONTEXPAND, "de"},
      {VM_ACCOUNT, "ac"},    {VM_NORESERVE, "nr"},   {VM_WIPEONFORK, "wf"},
      {VM_DONTDUMP, "dd"},   {VM_SOFTDIRTY, "sd"},   {VM_MIXEDMAP, "mm"},
      {VM_HUGEPAGE, "hg"},   {VM_NOHUGEPAGE, "nh"},  {VM_MERGEABLE, "mg"}};
  return kMnemonics;
}

absl::StatusOr<std::string> ShowMaps(Machine& m, int pid) {
  return m.Inspect([&](const kernel::kernel_state&) -> absl::StatusOr<std::string> {
    absl::StatusOr<kernel::mm_struct*> mm = MmOf(m, pid);
    if (!mm.ok()) return mm.status();
    std::string out;
    for (const auto& [start, vma] : (*mm)->mm_mt) absl::StrAppend(&out, MapsLine(vma), "\n");
    return out;
  });
}

std::vector<TableRow> TableRows(Machine& m, uint64_t table_pa, int level, uint64_t va_base,
                                bool kernel_half) {
  std::vector<TableRow> rows;
  const int shift = 12 + 9 * (level - 1);
  for (unsigned i = 0; i < 512; ++i) {
    const uint64_t e = ReadEntry(m, table_pa, i);
    PagingEntry pe(e);
    if (!pe.present()) continue;
    const bool kernel = kernel_half || (level == 4 && i >= 256);
    const bool leaf = level == 1 || ((level == 2 || level == 3) && pe.ps());
    const uint64_t va = va_base + (uint64_t{i} << shift);
    const uint64_t pfn = (e & kernel::PTE_PFN_MASK) >> 12;
    const uint64_t pages = uint64_t{1} << (shift - 12);
    if (kernel && leaf && !rows.empty()) {
      TableRow& prev = rows.back();
      // Extend the previous run: the next index, the same bits, the next frames.
      if (prev.leaf && prev.kernel_half && prev.last + 1 == i &&
          (prev.entry & ~kernel::PTE_PFN_MASK) == (e & ~kernel::PTE_PFN_MASK) &&
          prev.last_pfn + pages == pfn) {
        prev.last = i;
        prev.last_pfn = pfn;
        prev.va_end = SignExtend(va + (uint64_t{1} << shift) - 1);
        continue;
      }
    }
    TableRow row;
    row.first = row.last = i;
    row.entry = e;
    row.va_start = SignExtend(va);
    row.va_end = SignExtend(va + (uint64_t{1} << shift) - 1);
    row.va_base_child = va;
    row.last_pfn = pfn;
    row.leaf = leaf;
    row.kernel_half = kernel;
    rows.push_back(row);
  }
  return rows;
}

absl::StatusOr<std::string> ShowPagetable(Machine& m, int pid) {
  return m.Inspect([&](const kernel::kernel_state&) -> absl::StatusOr<std::string> {
    absl::StatusOr<kernel::mm_struct*> mm = MmOf(m, pid);
    if (!mm.ok()) return mm.status();
    const uint64_t root = kernel::__pa((*mm)->pgd);
    std::string out = absl::StrFormat("---[ User Space, pid %d, pgd at pa %#x ]---\n", pid, root);
    // Merge runs of leaves that are contiguous in VA, same level and same rights.
    struct Run {
      uint64_t start = 0, end = 0, rights = 0;
      int level = 0;
      bool open = false;
    } run;
    constexpr uint64_t kRightsMask = PagingEntry::kRW | PagingEntry::kUS | PagingEntry::kXD |
                                     PagingEntry::kG;
    auto flush = [&] {
      if (!run.open) return;
      uint64_t size = run.end - run.start;
      std::string sz = size >= (1ull << 30) && size % (1ull << 30) == 0
                           ? absl::StrCat(size >> 30, "G")
                           : size >= (1ull << 20) && size % (1ull << 20) == 0
                                 ? absl::StrCat(size >> 20, "M")
                                 : absl::StrCat(size >> 10, "K");
      absl::StrAppendFormat(&out, "0x%016x-0x%016x %9s %s %s %s %s%s\n", SignExtend(run.start),
                            SignExtend(run.end), sz, (run.rights & PagingEntry::kRW) ? "RW" : "ro",
                            (run.rights & PagingEntry::kUS) ? "USR" : "   ",
                            (run.rights & PagingEntry::kXD) ? "NX" : "x ", LevelName(run.level),
                            (run.rights & PagingEntry::kG) ? " GLB" : "");
      run.open = false;
    };
    auto leaf = [&](uint64_t va, uint64_t size, uint64_t e, int level) {
      uint64_t rights = e & kRightsMask;
      if (run.open && run.end == va && run.level == level && run.rights == rights) {
        run.end = va + size;
        return;
      }
      flush();
      run = {va, va + size, rights, level, true};
    };
    // PML4 entries never are leaves: walk each present one's PDPT.
    auto half = [&](unsigned from, unsigned to, bool print_slots) {
      for (unsigned i = from; i < to; ++i) {
        const uint64_t e = ReadEntry(m, root, i);
        if (!PagingEntry(e).present()) continue;
        const uint64_t va = uint64_t{i} << 39;
        if (print_slots) {
          flush();
          absl::StrAppendFormat(&out, "[%3u] 0x%016x  %#018x  %s -> PDPT @pa %#x%s\n", i, SignExtend(va), e,
                                kernel::decode_flags(kernel::trace_flags_kind::pte, e),
                                e & kernel::PTE_PFN_MASK,
                                SignExtend(va) == kernel::PAGE_OFFSET ? " (direct map)" : "");
        }
        ForEachLeaf(m, e & kernel::PTE_PFN_MASK, 3, va, leaf);
      }
      flush();
    };
    half(0, 256, false);
    // The kernel half: PML4 entries 256-511, copied from swapper_pg_dir into every pgd
    // (pgd_ctor), so all processes share the kernel's tables. Each present slot, then its
    // leaves merged as above (docs/semantics.md §14).
    absl::StrAppendFormat(&out, "---[ Kernel Space, PML4 entries 256-511 (swapper_pg_dir's) ]---\n");
    half(256, 512, true);
    return out;
  });
}

absl::StatusOr<std::string> ShowPagetableWalk(Machine& m, int pid, uint64_t addr) {
  return m.Inspect([&](const kernel::kernel_state&) -> absl::StatusOr<std::string> {
    absl::StatusOr<kernel::mm_struct*> mm = MmOf(m, pid);
    if (!mm.ok()) return mm.status();
    uint64_t table = kernel::__pa((*mm)->pgd);
    std::string out = absl::StrFormat("walk of %#x in pid %d (cr3 table at pa %#x)\n", addr, pid, table);
    static constexpr const char* kEntry[] = {"?", "PTE  ", "PDE  ", "PDPTE", "PML4E"};
    for (int level = 4; level >= 1; --level) {
      const int shift = 12 + 9 * (level - 1);
      const unsigned index = (addr >> shift) & 511;
      const uint64_t ea = table + 8ull * index;
      const uint64_t e = m.phys().ReadU64(hw::PhysAddr(ea));
      PagingEntry pe(e);
      absl::StrAppendFormat(&out, "  %s [%3u] @pa %#011x = %#018x", kEntry[level], index, ea, e);
      if (!pe.present()) {
        if (level == 1 && (e & kernel::_PAGE_PROTNONE)) {
          // L1TF: the kernel stores a PROT_NONE entry's frame number inverted.
          absl::StrAppendFormat(&out, "  not present (PROT_NONE, pfn %#x stored inverted)%s\n",
                                kernel::pte_pfn(kernel::__pte(e)),
                                (e & kernel::_PAGE_SAVED_DIRTY) ? " SavedDirty" : "");
        } else if (level == 1 && kernel::is_swap_pte(kernel::__pte(e))) {
          // A swap entry: type and offset, the offset stored inverted (L1TF).
          const kernel::swp_entry_t ent = kernel::pte_to_swp_entry(kernel::__pte(e));
          absl::StrAppendFormat(&out, "  not present (swap type %u offset %#x stored inverted%s)\n",
                                kernel::swp_type(ent), kernel::swp_offset(ent),
                                kernel::pte_swp_exclusive(kernel::__pte(e)) ? ", exclusive" : "");
        } else {
          absl::StrAppend(&out, (e & kernel::_PAGE_PROTNONE) ? "  not present (PROT_NONE)\n"
                                                             : "  not present\n");
        }
        return out;
      }
      absl::StrAppend(&out, "  ", Rights(e));
      // A write-protected dirty entry keeps its dirtiness in software bit 58.
      if (e & kernel::_PAGE_SAVED_DIRTY) absl::StrAppend(&out, " SavedDirty");
      if (level == 1 || ((level == 2 || level == 3) && pe.ps())) {
        const uint64_t frame = e & kernel::PTE_PFN_MASK & ~((uint64_t{1} << shift) - 1);
        const uint64_t pa = frame + (addr & ((uint64_t{1} << shift) - 1));
        // A PS entry above the PTE level is a huge leaf (a THP at the PDE: 2M).
        absl::StrAppendFormat(&out, "  -> pa %#x (pfn %#x)%s%s\n", pa, pa >> 12,
                              kernel::is_zero_pfn(pa >> 12) ? " zero page" : "",
                              level == 2 ? (kernel::is_huge_zero_pmd(kernel::__pmd(e))
                                                ? " 2M leaf (huge zero page)"
                                                : " 2M leaf")
                                         : level == 3 ? " 1G leaf" : "");
        return out;
      }
      absl::StrAppend(&out, "\n");
      table = e & kernel::PTE_PFN_MASK;
    }
    return out;
  });
}

namespace {

// The bits of a /proc/PID/pagemap entry (fs/proc/task_mmu.c, Documentation/admin-guide/mm/
// pagemap.rst).
constexpr uint64_t PM_PFRAME_MASK = (1ull << 55) - 1;  // bits 0-54: pfn, or swap type | offset << 5
constexpr uint64_t PM_SOFT_DIRTY = 1ull << 55;
constexpr uint64_t PM_MMAP_EXCLUSIVE = 1ull << 56;
constexpr uint64_t PM_UFFD_WP = 1ull << 57;
constexpr uint64_t PM_GUARD_REGION = 1ull << 58;
constexpr uint64_t PM_FILE = 1ull << 61;
constexpr uint64_t PM_SWAP = 1ull << 62;
constexpr uint64_t PM_PRESENT = 1ull << 63;
constexpr int MAX_SWAPFILES_SHIFT = 5;

// The entry a privileged reader (one that sees pfns) gets for `va`: pte_to_pagemap_entry for
// a mapped address, pagemap_pte_hole's for a hole in a VMA, 0 outside every VMA. Linux 6.18:
// bit 56 is set when this page is mapped exactly once (folio_precise_page_mapcount == 1; the
// same as !folio_maybe_mapped_shared for the order-0 folios mmsim has). mmsim has no
// userfaultfd, guard regions or swap soft-dirty bit, so bits 57, 58 and a swap entry's 55
// stay clear.
// For a PMD leaf `e` is the pmd (pagemap_pmd_range_thp): the frame is the 4 KiB page at va
// inside it, and the huge zero folio counts as no page, as vm_normal_page_pmd has it.
uint64_t PagemapEntry(kernel::mm_struct* mm, uint64_t va, uint64_t e, bool pmd_leaf = false) {
  kernel::vm_area_struct* vma = kernel::vma_lookup(mm, va);
  if (vma == nullptr) return 0;
  uint64_t frame = 0, flags = 0;
  const kernel::pte_t pte = kernel::__pte(e);
  kernel::page* page = nullptr;
  if (pmd_leaf) {
    const kernel::pmd_t pmd = kernel::__pmd(e);
    frame = kernel::pmd_pfn(pmd) + ((va >> 12) & 511);
    flags |= PM_PRESENT;
    if (!kernel::is_huge_zero_pmd(pmd)) page = kernel::pfn_to_page(frame);
    if (e & kernel::_PAGE_SOFT_DIRTY) flags |= PM_SOFT_DIRTY;
  } else if (PagingEntry(e).present()) {
    frame = kernel::pte_pfn(pte);
    flags |= PM_PRESENT;
    page = kernel::vm_normal_page(vma, va, pte);
    if (e & kernel::_PAGE_SOFT_DIRTY) flags |= PM_SOFT_DIRTY;
  } else if (kernel::is_swap_pte(pte) && !(e & kernel::_PAGE_PROTNONE)) {
    const kernel::swp_entry_t ent = kernel::pte_to_swp_entry(pte);
    frame = kernel::swp_type(ent) | (kernel::swp_offset(ent) << MAX_SWAPFILES_SHIFT);
    flags |= PM_SWAP;
  }
  if (page != nullptr) {
    if (!kernel::PageAnon(page)) flags |= PM_FILE;
    if ((flags & PM_PRESENT) && kernel::page_mapcount(page) == 1) flags |= PM_MMAP_EXCLUSIVE;
  }
  if (vma->vm_flags & kernel::VM_SOFTDIRTY) flags |= PM_SOFT_DIRTY;
  return (frame & PM_PFRAME_MASK) | flags;
}

// "present,exclusive,soft-dirty": the set bits 55-63 by their pagemap.rst meaning.
std::string PagemapBits(uint64_t pm) {
  static constexpr std::pair<uint64_t, const char*> kBits[] = {
      {PM_PRESENT, "present"}, {PM_SWAP, "swapped"},         {PM_FILE, "file/shared-anon"},
      {PM_MMAP_EXCLUSIVE, "exclusively-mapped"},             {PM_SOFT_DIRTY, "soft-dirty"},
      {PM_UFFD_WP, "uffd-wp"}, {PM_GUARD_REGION, "guard"},
  };
  std::string out;
  for (const auto& [bit, name] : kBits)
    if (pm & bit) absl::StrAppend(&out, out.empty() ? "" : ",", name);
  return out.empty() ? "-" : out;
}

// What the simulator knows about a mapped page, after the raw pagemap entry: "anon
// mapcount=1 refcount=1 anon_exclusive". The refcount is its folio's. anon_exclusive is
// PG_anon_exclusive (a write may reuse the page without a copy), not pagemap's bit 56 (mapped
// exactly once), which the brackets show. For a page under a PMD leaf the folio's pincount
// shows too, and PG_anon_exclusive is read from the head page, where Linux keeps it for a
// PMD-mapped THP.
std::string DescribePage(kernel::page* p, bool pmd_leaf) {
  kernel::folio* f = kernel::page_folio(p);
  return absl::StrFormat("%s mapcount=%d refcount=%d%s%s%s", kernel::PageAnon(p) ? "anon" : "file",
                         kernel::page_mapcount(p), kernel::folio_ref_count(f),
                         pmd_leaf ? absl::StrCat(" pincount=", kernel::atomic_read(&kernel::folio_tail1(f)->_pincount)) : "",
                         kernel::PageAnonExclusive(pmd_leaf ? f : p) ? " anon_exclusive" : "",
                         kernel::page_mapcount(p) > 1 ? " shared" : "");
}

}  // namespace

absl::StatusOr<std::string> ShowPagemap(Machine& m, int pid, uint64_t addr, uint64_t len) {
  return m.Inspect([&](const kernel::kernel_state&) -> absl::StatusOr<std::string> {
    absl::StatusOr<kernel::mm_struct*> mm = MmOf(m, pid);
    if (!mm.ok()) return mm.status();
    if (len > (1ull << 30)) return absl::InvalidArgumentError("pagemap: at most 1 GiB at a time");
    // The range must lie in the user half of the address space, [0, 2^47) with 4-level
    // paging (what /proc/PID/pagemap covers): a range that wraps or runs past its top is an
    // error, not a loop.
    constexpr uint64_t kUserTop = 1ull << 47;
    if (addr > kUserTop || len > kUserTop - addr)
      return absl::InvalidArgumentError(absl::StrFormat(
          "pagemap: the range %#x + %#x runs past the top of the user address space (%#x)",
          addr, len, kUserTop));
    std::string out;
    for (uint64_t va = addr & ~0xfffull; va < addr + len; va += 4096) {
      // A huge pmd (a THP or the huge zero folio): its 4 KiB page at va, flagged thp.
      kernel::pmd_t* pmdp = kernel::mm_find_pmd(*mm, va);
      if (pmdp != nullptr && kernel::pmd_present(*pmdp) && kernel::pmd_trans_huge(*pmdp)) {
        const kernel::pmd_t pmd = *pmdp;
        const uint64_t pfn = kernel::pmd_pfn(pmd) + ((va >> 12) & 511);
        std::string what;
        if (kernel::is_huge_zero_pmd(pmd)) {
          what = "huge-zero-page";
        } else {
          what = DescribePage(kernel::pfn_to_page(pfn), /*pmd_leaf=*/true);
        }
        const uint64_t pm = PagemapEntry(*mm, va, kernel::pmd_val(pmd), /*pmd_leaf=*/true);
        absl::StrAppendFormat(&out, "%#014x  pm=0x%016x %-40s present pfn=%#x %s %s thp(pmd) %s\n", va, pm,
                              absl::StrCat("[", PagemapBits(pm), "]"), pfn, kernel::pmd_write(pmd) ? "rw" : "ro",
                              kernel::pmd_dirty(pmd) ? "dirty" : "clean", what);
        continue;
      }
      kernel::pte_t* ptep = kernel::mm_find_pte(*mm, va);
      const uint64_t e = ptep != nullptr ? kernel::pte_val(kernel::ptep_get(ptep)) : 0;
      // First the raw 64-bit entry as /proc/PID/pagemap holds it, with its bits 55-63 named;
      // then what the simulator knows about the page.
      const uint64_t pm = PagemapEntry(*mm, va, e);
      absl::StrAppendFormat(&out, "%#014x  pm=0x%016x %-40s ", va, pm, absl::StrCat("[", PagemapBits(pm), "]"));
      PagingEntry pe(e);
      if (!pe.present()) {
        const kernel::pte_t pte = kernel::__pte(e);
        if (kernel::is_swap_pte(pte) && !(e & kernel::_PAGE_PROTNONE)) {
          // pagemap's PM_SWAP: the page is out on swap, at this slot. The swap PTE's own
          // exclusive marker keeps PG_anon_exclusive while the page is out.
          const kernel::swp_entry_t ent = kernel::pte_to_swp_entry(pte);
          absl::StrAppendFormat(&out, "swapped type=%u offset=%#x%s\n", kernel::swp_type(ent),
                                kernel::swp_offset(ent),
                                kernel::pte_swp_exclusive(pte) ? " anon_exclusive" : "");
          continue;
        }
        absl::StrAppendFormat(&out, "not present%s\n", (e & kernel::_PAGE_PROTNONE) ? " (PROT_NONE)" : "");
        continue;
      }
      const uint64_t pfn = kernel::pte_pfn(kernel::ptep_get(ptep));
      std::string what;
      if (kernel::is_zero_pfn(pfn)) {
        what = "zero-page";
      } else if (kernel::pfn_valid(pfn)) {
        // A page of a PTE-mapped THP shows its folio's refcount and the thp flag.
        kernel::page* p = kernel::pfn_to_page(pfn);
        what = absl::StrCat(DescribePage(p, /*pmd_leaf=*/false), kernel::PageCompound(p) ? " thp(pte)" : "");
      }
      absl::StrAppendFormat(&out, "present pfn=%#x %s %s %s\n", pfn, pe.writable() ? "rw" : "ro",
                            pe.dirty() ? "dirty" : "clean", what);
    }
    return out;
  });
}

absl::StatusOr<std::string> ShowTlb(Machine& m, int cpu) {
  if (cpu >= m.num_cpus())
    return absl::InvalidArgumentError(
        absl::StrCat("no CPU ", cpu, " (the machine has ", m.num_cpus(), ": 0..", m.num_cpus() - 1, ")"));
  std::string out;
  for (int c = 0; c < m.num_cpus(); ++c) {
    if (cpu >= 0 && c != cpu) continue;
    hw::Cpu& k = m.cpu(c);
    const hw::Tlb& tlb = k.tlb();
    absl::StrAppendFormat(&out, "cpu%d  tlb=%s  cr3=%#x  pcid=%u\n", c, tlb.profile().name, k.cr3(),
                          k.pcid());
    for (int level = 0; level < tlb.num_levels(); ++level) {
      const hw::TlbCounters& n = tlb.counters(level);
      absl::StrAppendFormat(&out, "  L%d %-6s valid=%u hits=%u misses=%u walks=%u evictions=%u flushes=%u\n",
                            level + 1, tlb.profile().levels[level].name, tlb.CountValid(level), n.hits,
                            n.misses, n.walks, n.evictions, n.flushes);
    }
    // The paging-structure caches (absent from a _nopsc profile).
    const hw::PagingStructureCache& psc = k.psc();
    if (psc.enabled()) {
      for (hw::PscLevel l : {hw::PscLevel::kPml4e, hw::PscLevel::kPdpte, hw::PscLevel::kPde}) {
        const hw::PscCounters& n = psc.counters(l);
        absl::StrAppendFormat(&out, "  PSC %-5s valid=%u hits=%u misses=%u evictions=%u invalidations=%u\n",
                              hw::PscLevelName(l), psc.CountValid(l), n.hits, n.misses, n.evictions,
                              n.invalidations);
      }
    }
    tlb.ForEachEntry([&](int level, const hw::TlbEntry& e) {
      absl::StrAppendFormat(&out, "    L%d %s\n", level + 1, e.ToString());
    });
    psc.ForEachEntry([&](hw::PscLevel l, const hw::PscEntry& e) {
      absl::StrAppendFormat(&out, "    PSC %s\n", e.ToString(l));
    });
  }
  return out;
}

absl::StatusOr<std::string> ShowPage(Machine& m, uint64_t pfn) {
  return m.Inspect([&](const kernel::kernel_state& ks) -> absl::StatusOr<std::string> {
    if (!kernel::pfn_valid(pfn)) return absl::InvalidArgumentError(absl::StrFormat("pfn %#x is not valid", pfn));
    kernel::page* p = kernel::pfn_to_page(pfn);
    // A deferred frame's struct page was never written (mm/mm_init.cc): show the one boot
    // would have written, a free frame, the head of an order-MAX_PAGE_ORDER block or inside one.
    kernel::page deferred;
    if (kernel::early_page_deferred(ks.zone_normal, pfn)) {
      std::memset(static_cast<void*>(&deferred), 0, sizeof(deferred));
      kernel::atomic_set(&deferred._mapcount, -1);
      if ((pfn & (kernel::MAX_ORDER_NR_PAGES - 1)) == 0) {
        deferred.page_type = kernel::PGTY_buddy;
        deferred.private_ = kernel::MAX_PAGE_ORDER;
      }
      p = &deferred;
    }
    static constexpr const char* kFlagNames[] = {
        "locked", "writeback", "referenced", "uptodate", "dirty", "lru", "head", "waiters",
        "active", "workingset", "owner_priv_1", "anon_exclusive", "arch_1", "reserved",
        "private", "private_2", "reclaim", "swapbacked", "unevictable", "mlocked"};
    // A large folio's first tail keeps the order in its low flag byte (_flags_1): not flags.
    const bool tail = kernel::PageTail(p);
    const kernel::page* head = kernel::compound_head(p);
    const unsigned long shown = (tail && p == head + 1) ? p->flags & ~0xfful : p->flags;
    std::string flags;
    for (int b = 0; b < kernel::__NR_PAGEFLAGS; ++b) {
      if (shown & (1ul << b)) absl::StrAppend(&flags, flags.empty() ? "" : "|", kFlagNames[b]);
    }
    std::string compound;
    if (tail || kernel::PageHead(p))
      compound = absl::StrFormat("  compound %s: head pfn=%#x order=%u\n", tail ? "tail" : "head",
                                 kernel::page_to_pfn(head), kernel::folio_order(head));
    const char* type = kernel::PageBuddy(p) ? "buddy" : kernel::PageTable(p) ? "table"
                       : kernel::PageSlab(p) ? "slab" : "none";
    return absl::StrFormat(
        "page pfn=%#x pa=%#x\n  flags=%#x(%s)\n  _refcount=%d _mapcount=%d page_type=%s%s\n"
        "  mapping=%s index=%#x private=%#x\n%s",
        pfn, pfn << 12, shown, flags, kernel::page_ref_count(p), atomic_read(&p->_mapcount), type,
        kernel::is_zero_page(p) ? " (the zero page)" : "",
        // Host addresses vary between runs; views must not, so say what mapping is.
        p->mapping == nullptr ? "null" : kernel::PageAnon(p) ? "anon_vma|PAGE_MAPPING_ANON" : "address_space",
        p->index, p->private_, compound);
  });
}

std::string ShowBuddy(Machine& m) {
  return m.Inspect([&](const kernel::kernel_state& ks) -> std::string {
    kernel::zone* z = ks.zone_normal;
    std::string out = absl::StrFormat("Node 0, zone %8s", z != nullptr ? z->name : "Normal");
    for (int o = 0; o < kernel::NR_PAGE_ORDERS; ++o) {
      // Deferred blocks (mm/mm_init.cc) are free order-MAX_PAGE_ORDER blocks not yet listed.
      unsigned long n = z != nullptr ? z->free_area[o].nr_free : 0;
      if (o == kernel::MAX_PAGE_ORDER) n += kernel::zone_deferred_blocks(z);
      absl::StrAppendFormat(&out, " %6u", n);
    }
    return out + "\n";
  });
}

std::string ShowCpus(Machine& m) {
  return m.Inspect([&](const kernel::kernel_state& ks) -> std::string {
    auto who = [](const kernel::task_struct* t) {
      return absl::StrFormat("%d %s", t->pid, t->comm);
    };
    std::string out = absl::StrFormat("%-4s%-20s%-20s%-6s%-11s%-9s%s\n", "CPU", "CURRENT",
                                      "LOADED MM OF", "PCID", "ROOT PFN", "CPUMASK", "IPI");
    for (int cpu = 0; cpu < m.num_cpus(); ++cpu) {
      const kernel::task_struct* t = ks.current_task[cpu];
      const bool idle = t == nullptr || t->pid == 0;
      kernel::mm_struct* mm = ks.cpu_tlbstate[cpu].loaded_mm;
      std::string owner = "-";
      if (mm != nullptr) owner = mm->owner != nullptr ? who(mm->owner) : std::string("(no owner)");
      const uint64_t cr3 = m.cpu(cpu).cr3();
      const bool in_mask = mm != nullptr && kernel::mm_cpumask(mm)->test(static_cast<size_t>(cpu));
      absl::StrAppendFormat(&out, "%-4d%-20s%-20s%-6u%-11s%-9s%s\n", cpu,
                            idle ? std::string("idle") : who(t), owner,
                            static_cast<unsigned>(cr3 & hw::Cpu::kCr3PcidMask),
                            absl::StrFormat("%#x", (cr3 & ~hw::Cpu::kCr3NoFlush) >> 12),
                            in_mask ? "yes" : "-",
                            kernel::cpu_ipi_pending(cpu) ? "pending" : "-");
    }
    return out;
  });
}

std::string ShowVmstat(Machine& m) {
  return m.Inspect([&](const kernel::kernel_state& ks) -> std::string {
    std::string out;
    for (int i = 0; i < kernel::NR_VM_STAT_ITEMS; ++i) {
      const long v = kernel::vmstat_shown_value(i, ks.vm_stat[i]);
      absl::StrAppendFormat(&out, "%s %d\n", kernel::vm_stat_name(i), v);
    }
    return out;
  });
}

// The kernel log, one message a line, as dmesg prints it (without timestamps).
std::string ShowDmesg(Machine& m) {
  return m.Inspect([&](const kernel::kernel_state& ks) -> std::string {
    std::string out;
    for (const std::string& line : ks.printk_log) {
      // "<level>text": dmesg drops the level prefix.
      const size_t close = line.find('>');
      absl::StrAppend(&out, close == std::string::npos ? line : line.substr(close + 1), "\n");
    }
    return out;
  });
}

// /proc/swaps as mm/swapfile.c's swap_show prints it: a header, then one line per
// device with its size and use in kB (used: slots held by a PTE or the swap cache).
std::string ShowSwaps(Machine& m) {
  return m.Inspect([&](const kernel::kernel_state& ks) -> std::string {
    std::string out = "Filename\t\t\t\tType\t\tSize\t\tUsed\t\tPriority\n";
    const kernel::swap_info_struct* si = ks.swap_info;
    if (si == nullptr) return out;
    const unsigned long bytes = static_cast<unsigned long>(si->pages) * (kernel::PAGE_SIZE / 1024);
    const unsigned long inuse = static_cast<unsigned long>(si->inuse_pages) * (kernel::PAGE_SIZE / 1024);
    const int len = static_cast<int>(std::string(kernel::SWAP_DEVICE_NAME).size());
    absl::StrAppendFormat(&out, "%s%*s%s\t%lu\t%s%lu\t%s%d\n", kernel::SWAP_DEVICE_NAME,
                          len < 40 ? 40 - len : 1, " ", "partition", bytes,
                          bytes < 10000000 ? "\t" : "", inuse, inuse < 10000000 ? "\t" : "",
                          si->prio);
    return out;
  });
}

std::string EntryBits(uint64_t e) {
  std::string bits = kernel::decode_pte_bits(e);
  for (char& c : bits)
    if (c == '|') c = ' ';
  return bits;
}

namespace {

// One node per page table, one record field per present entry with the virtual range it
// covers, where it points and its bits; an edge from each entry to the table below it.
// Tables are named by their physical address, so a table reached twice is drawn once.
struct DotWalker {
  Machine& m;
  std::string& out;
  std::set<uint64_t> drawn;

  void Table(uint64_t pa, int level, uint64_t va_base, bool kernel_half) {
    if (!drawn.insert(pa).second) return;
    static constexpr const char* kName[] = {"?", "PT", "PD", "PDPT", "PML4"};
    std::string fields;
    std::vector<std::tuple<unsigned, uint64_t, uint64_t>> children;  // index, table pa, va
    for (const TableRow& r : TableRows(m, pa, level, va_base, kernel_half)) {
      const uint64_t next = r.entry & kernel::PTE_PFN_MASK;
      // A PMD or PUD leaf (a THP, or the direct map) maps its whole range: marked 2M or 1G.
      const char* size = level == 2 && r.leaf ? " 2M" : level == 3 && r.leaf ? " 1G" : "";
      if (r.first == r.last) {
        absl::StrAppendFormat(&fields, "|<e%u> [%u] %#x-%#x -\\> %s %#x %s%s", r.first, r.first, r.va_start,
                              r.va_end, r.leaf ? "pfn" : kName[level - 1], r.leaf ? next >> 12 : next,
                              EntryBits(r.entry), size);
      } else {  // a kernel-half run of leaves
        absl::StrAppendFormat(&fields, "|<e%u> [%u-%u] %#x-%#x -\\> pfn %#x-%#x %s%s x%u", r.first, r.first,
                              r.last, r.va_start, r.va_end, next >> 12,
                              r.last_pfn + (uint64_t{1} << (9 * (level - 1))) - 1, EntryBits(r.entry), size,
                              r.last - r.first + 1);
      }
      if (level == 4 && r.va_start == kernel::PAGE_OFFSET) fields += " (direct map)";
      if (!r.leaf) children.emplace_back(r.first, next, r.va_base_child);
    }
    absl::StrAppendFormat(&out, "  t%x [label=\"%s @pa %#x%s%s\"];\n", pa, kName[level], pa,
                          kernel_half ? " (kernel half, shared)" : "", fields);
    for (const auto& [i, child, va] : children) {
      absl::StrAppendFormat(&out, "  t%x:e%u -> t%x;\n", pa, i, child);
      Table(child, level - 1, va, kernel_half || (level == 4 && i >= 256));
    }
  }
};

}  // namespace

absl::StatusOr<std::string> PagetableDot(Machine& m, const std::vector<DotTask>& tasks) {
  return m.Inspect([&](const kernel::kernel_state&) -> absl::StatusOr<std::string> {
    std::string out = "digraph pagetables {\n  rankdir=LR;\n  node [shape=record, fontname=monospace];\n";
    DotWalker w{m, out, {}};
    for (const DotTask& t : tasks) {
      absl::StatusOr<kernel::mm_struct*> mm = MmOf(m, t.pid);
      if (!mm.ok()) return mm.status();
      const uint64_t root = kernel::__pa((*mm)->pgd);
      absl::StrAppendFormat(&out, "  task%d [shape=box, label=\"%s (pid %d)\\ncr3 -> pgd @pa %#x\"];\n",
                            t.pid, t.name, t.pid, root);
      absl::StrAppendFormat(&out, "  task%d -> t%x;\n", t.pid, root);
      w.Table(root, 4, 0, false);
    }
    return out + "}\n";
  });
}

absl::StatusOr<std::string> PagetableDot(Machine& m, int pid) {
  return PagetableDot(m, {DotTask{absl::StrCat("pid ", pid), pid}});
}

// ---- memory pressure views: /proc/meminfo, the LRU lists, /proc/PID/smaps ----

namespace {

// fs/proc/meminfo.c show_val_kb: the name padded to 16 columns, pages in kB in 8.
void ShowValKb(std::string* out, const char* name, unsigned long pages) {
  absl::StrAppendFormat(out, "%-16s%8u kB\n", name, pages << (kernel::PAGE_SHIFT - 10));
}

// Calls fn(folio) for every page-cache folio of every file (simfs and shmem).
template <typename Fn>
void ForEachCacheFolio(const kernel::kernel_state& ks, Fn&& fn) {
  for (const auto& [ino, inode] : ks.inodes)
    for (const auto& [index, f] : inode->i_data.i_pages) fn(inode, f);
}

}  // namespace

std::string ShowMeminfo(Machine& m) {
  return m.Inspect([&](const kernel::kernel_state& ks) -> std::string {
    using namespace kernel;
    const long* st = ks.vm_stat;
    const zone* z = ks.zone_normal;
    const unsigned long lru[NR_LRU_LISTS] = {
        static_cast<unsigned long>(st[NR_INACTIVE_ANON]), static_cast<unsigned long>(st[NR_ACTIVE_ANON]),
        static_cast<unsigned long>(st[NR_INACTIVE_FILE]), static_cast<unsigned long>(st[NR_ACTIVE_FILE]),
        static_cast<unsigned long>(st[NR_UNEVICTABLE])};
    // DEVIATION: NR_FILE_PAGES, NR_SHMEM, NR_FILE_DIRTY, NR_WRITEBACK and the swap cache's
    // size are not kept as counters; they are counted here from the page cache and mem_map.
    unsigned long cached = 0, shmem = 0, dirty = 0, writeback = 0, swapcached = 0;
    const unsigned long mlocked = static_cast<unsigned long>(st[NR_MLOCK]);
    ForEachCacheFolio(ks, [&](const inode* ino, const folio* f) {
      ++cached;
      if (ino->i_data.a_ops != nullptr && ino->i_data.a_ops->writepage == nullptr) ++shmem;
      if (folio_test_dirty(f) && !folio_test_swapbacked(f)) ++dirty;  // NR_FILE_DIRTY
      if (folio_test_writeback(f)) ++writeback;
    });
    for (unsigned long pfn = 0; pfn < ks.max_pfn; ++pfn) {
      const page* p = &ks.mem_map[pfn];
      if (!early_page_deferred(z, pfn) && test_bit(PG_swapcache, &p->flags)) ++swapcached;
    }
    const unsigned long free = static_cast<unsigned long>(st[NR_FREE_PAGES]);
    // mm/show_mem.c: si_mem_available. Free memory above the reserves, plus the page
    // cache reclaim could drop without thrashing (half of it, or all but the low
    // watermark's worth). No reclaimable slab or kernel memory is counted here.
    long available = static_cast<long>(free) - static_cast<long>(z->totalreserve_pages);
    unsigned long pagecache = lru[LRU_ACTIVE_FILE] + lru[LRU_INACTIVE_FILE];
    pagecache -= std::min(pagecache / 2, low_wmark_pages(z));
    available += static_cast<long>(pagecache);
    if (available < 0) available = 0;
    const unsigned long swap_total = ks.total_swap_pages;
    const unsigned long swap_free = ks.nr_swap_pages;
    std::string out;
    ShowValKb(&out, "MemTotal:", totalram_pages());
    ShowValKb(&out, "MemFree:", free);
    ShowValKb(&out, "MemAvailable:", static_cast<unsigned long>(available));
    ShowValKb(&out, "Buffers:", 0);
    ShowValKb(&out, "Cached:", cached);  // the page cache; the swap cache is not in it here
    ShowValKb(&out, "SwapCached:", swapcached);
    ShowValKb(&out, "Active:", lru[LRU_ACTIVE_ANON] + lru[LRU_ACTIVE_FILE]);
    ShowValKb(&out, "Inactive:", lru[LRU_INACTIVE_ANON] + lru[LRU_INACTIVE_FILE]);
    ShowValKb(&out, "Active(anon):", lru[LRU_ACTIVE_ANON]);
    ShowValKb(&out, "Inactive(anon):", lru[LRU_INACTIVE_ANON]);
    ShowValKb(&out, "Active(file):", lru[LRU_ACTIVE_FILE]);
    ShowValKb(&out, "Inactive(file):", lru[LRU_INACTIVE_FILE]);
    ShowValKb(&out, "Unevictable:", lru[LRU_UNEVICTABLE]);
    ShowValKb(&out, "Mlocked:", mlocked);
    ShowValKb(&out, "SwapTotal:", swap_total);
    ShowValKb(&out, "SwapFree:", swap_free);
    ShowValKb(&out, "Dirty:", dirty);
    ShowValKb(&out, "Writeback:", writeback);
    ShowValKb(&out, "AnonPages:", static_cast<unsigned long>(st[NR_ANON_MAPPED]));
    ShowValKb(&out, "Mapped:", static_cast<unsigned long>(st[NR_FILE_MAPPED]));
    ShowValKb(&out, "Shmem:", shmem);
    ShowValKb(&out, "PageTables:", static_cast<unsigned long>(st[NR_PAGETABLE]));
    ShowValKb(&out, "AnonHugePages:", static_cast<unsigned long>(st[NR_ANON_THPS]));
    return out;
  });
}

std::string ShowLru(Machine& m) {
  return m.Inspect([&](const kernel::kernel_state& ks) -> std::string {
    using namespace kernel;
    const lruvec* lv = &ks.zone_normal->__lruvec;
    std::string out;
    for (int lru = 0; lru < NR_LRU_LISTS; ++lru) {
      absl::StrAppendFormat(&out, "%s: %u pages (head first)\n", lru_list_name(lru), lv->nr_pages[lru]);
      const list_head* head = &lv->lists[lru];
      for (const list_head* l = head->next; l != head; l = l->next) {
        const folio* f = list_entry(const_cast<list_head*>(l), folio, lru);
        std::string flags;
        auto flag = [&](bool on, const char* name) {
          if (on) absl::StrAppend(&flags, flags.empty() ? "" : ",", name);
        };
        flag(folio_test_referenced(f), "referenced");
        flag(folio_test_active(f), "active");
        flag(folio_test_workingset(f), "workingset");
        flag(folio_test_dirty(f), "dirty");
        flag(folio_test_writeback(f), "writeback");
        flag(folio_test_reclaim(f), "reclaim");
        flag(folio_test_swapbacked(f), "swapbacked");
        flag(folio_test_unevictable(f), "unevictable");
        flag(folio_test_mlocked(f), "mlocked");
        std::string owner;
        if (folio_test_anon(f)) {
          owner = "anon";
        } else if (f->mapping != nullptr) {
          const inode* ino = f->mapping->host;
          owner = absl::StrFormat("file /%s index %#x", ino->i_name, f->index);
        } else {
          owner = "no mapping";
        }
        absl::StrAppendFormat(&out, "  pfn %#x %s mapcount %d [%s]\n", folio_pfn(f), owner,
                              folio_mapcount(f), flags);
      }
    }
    return out;
  });
}

namespace {

// fs/proc/task_mmu.c: struct mem_size_stats, the fields mmsim can have. Pss values carry
// PSS_SHIFT fraction bits.
struct MemSizeStats {
  static constexpr int kPssShift = 12;
  uint64_t resident = 0, shared_clean = 0, shared_dirty = 0, private_clean = 0,
           private_dirty = 0, referenced = 0, anonymous = 0, lazyfree = 0, swap = 0,
           anonymous_thp = 0;
  uint64_t pss = 0, pss_dirty = 0, pss_locked = 0, swap_pss = 0;
};

std::string VmFlagsLine(kernel::vm_flags_t f) {
  std::string out = "VmFlags: ";
  for (const VmFlagMnemonic& m : VmFlagMnemonics())
    if (f & m.flag) absl::StrAppend(&out, m.name, " ");
  return out;
}

// fs/proc/task_mmu.c: smaps_pte_range / smaps_account for the small pages of one VMA.
MemSizeStats SmapsOfVma(const kernel::kernel_state& ks, kernel::vm_area_struct* vma) {
  using namespace kernel;
  MemSizeStats mss;
  const bool locked = vma->vm_flags & VM_LOCKED;
  auto account = [&](const page* p, bool young, bool dirty_entry, bool thp) {
    // smaps_account / smaps_page_accumulate for one 4 KiB page.
    const folio* f = page_folio(p);
    const bool dirty = dirty_entry || folio_test_dirty(f);
    mss.resident += PAGE_SIZE;
    if (young || folio_test_referenced(f)) mss.referenced += PAGE_SIZE;
    if (folio_test_anon(f)) {
      mss.anonymous += PAGE_SIZE;
      if (thp) mss.anonymous_thp += PAGE_SIZE;
      if (!folio_test_swapbacked(f) && !dirty) mss.lazyfree += PAGE_SIZE;
    }
    // A page of a large folio counts its own mappings (folio_precise_page_mapcount).
    const int mapcount = folio_test_large(f) ? page_mapcount(p) : folio_mapcount(f);
    uint64_t pss = uint64_t{PAGE_SIZE} << MemSizeStats::kPssShift;
    if (mapcount >= 2) pss /= static_cast<uint64_t>(mapcount);
    mss.pss += pss;
    if (dirty) mss.pss_dirty += pss;
    if (locked) mss.pss_locked += pss;
    if (mapcount < 2)
      (dirty ? mss.private_dirty : mss.private_clean) += PAGE_SIZE;
    else
      (dirty ? mss.shared_dirty : mss.shared_clean) += PAGE_SIZE;
  };
  for (unsigned long addr = vma->vm_start; addr < vma->vm_end; addr += PAGE_SIZE) {
    // smaps_pmd_entry: a huge pmd counts its 512 pages (the huge zero folio none).
    if (pmd_t* pmdp = mm_find_pmd(vma->vm_mm, addr);
        pmdp != nullptr && pmd_present(*pmdp) && pmd_trans_huge(*pmdp)) {
      if (!is_huge_zero_pmd(*pmdp)) {
        const page* head = &ks.mem_map[pmd_pfn(*pmdp)];
        for (long i = 0; i < HPAGE_PMD_NR; ++i)
          account(head + i, pmd_young(*pmdp), pmd_dirty(*pmdp), true);
      }
      addr = (addr & HPAGE_PMD_MASK) + HPAGE_PMD_SIZE - PAGE_SIZE;
      continue;
    }
    pte_t* ptep = mm_find_pte(vma->vm_mm, addr);
    if (ptep == nullptr) continue;
    const pte_t pte = ptep_get(ptep);
    if (pte_none(pte)) continue;
    if (!pte_present(pte)) {
      // A swap entry. DEVIATION: its swap count is taken as 1 (SwapPss = Swap).
      mss.swap += PAGE_SIZE;
      mss.swap_pss += uint64_t{PAGE_SIZE} << MemSizeStats::kPssShift;
      continue;
    }
    // vm_normal_page: no struct page to count for PFN maps and the zero page.
    if (vma->vm_flags & (VM_PFNMAP | VM_IO)) continue;
    const unsigned long pfn = pte_pfn(pte);
    if (pfn >= ks.max_pfn || &ks.mem_map[pfn] == ks.zero_page) continue;
    account(&ks.mem_map[pfn], pte_young(pte), pte_dirty(pte), false);
  }
  return mss;
}

}  // namespace

absl::StatusOr<std::string> ShowSmaps(Machine& m, int pid, uint64_t addr, uint64_t len) {
  return m.Inspect([&](const kernel::kernel_state& ks) -> absl::StatusOr<std::string> {
    absl::StatusOr<kernel::mm_struct*> mm = MmOf(m, pid);
    if (!mm.ok()) return mm.status();
    std::string out;
    for (const auto& [start, vma] : (*mm)->mm_mt) {
      if (len != 0 && (vma->vm_end <= addr || vma->vm_start >= addr + len)) continue;
      const MemSizeStats mss = SmapsOfVma(ks, vma);
      absl::StrAppend(&out, MapsLine(vma), "\n");
      auto kb = [&](const char* name, uint64_t bytes) {
        absl::StrAppendFormat(&out, "%-16s%8u kB\n", name, bytes >> 10);
      };
      constexpr int kShift = MemSizeStats::kPssShift;
      kb("Size:", vma->vm_end - vma->vm_start);
      kb("KernelPageSize:", kernel::PAGE_SIZE);
      kb("MMUPageSize:", kernel::PAGE_SIZE);
      kb("Rss:", mss.resident);
      kb("Pss:", mss.pss >> kShift);
      kb("Pss_Dirty:", mss.pss_dirty >> kShift);
      kb("Shared_Clean:", mss.shared_clean);
      kb("Shared_Dirty:", mss.shared_dirty);
      kb("Private_Clean:", mss.private_clean);
      kb("Private_Dirty:", mss.private_dirty);
      kb("Referenced:", mss.referenced);
      kb("Anonymous:", mss.anonymous);
      kb("KSM:", 0);
      kb("LazyFree:", mss.lazyfree);
      kb("AnonHugePages:", mss.anonymous_thp);
      kb("ShmemPmdMapped:", 0);
      kb("FilePmdMapped:", 0);
      kb("Shared_Hugetlb:", 0);
      kb("Private_Hugetlb:", 0);
      kb("Swap:", mss.swap);
      kb("SwapPss:", mss.swap_pss >> kShift);
      kb("Locked:", mss.pss_locked >> kShift);
      // thp_vma_allowable_order with the smaps flag: may this VMA hold a THP?
      absl::StrAppendFormat(&out, "%-16s%8d\n", "THPeligible:",
                            kernel::thp_vma_allowable_order(vma, vma->vm_flags, kernel::PMD_ORDER) ? 1 : 0);
      // arch_pkeys_enabled(): a CPU with protection keys shows each VMA's key.
      if (ks.x86_feature_ospke)
        absl::StrAppendFormat(&out, "%-16s%8d\n", "ProtectionKey:", kernel::vma_pkey(vma));
      absl::StrAppend(&out, VmFlagsLine(vma->vm_flags), "\n");
    }
    return out;
  });
}

}  // namespace sim
