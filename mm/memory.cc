// mm/memory.cc: page tables, page faults, unmapping and fork's page-table copy.
//
// Port of mm/memory.c at Linux 6.18: __pte_alloc / __pmd_alloc / __pud_alloc (pmd_install),
// vm_normal_page, the zap path (zap_pte_range -> do_zap_pte_range -> zap_present_ptes /
// zap_present_folio_ptes with folio_pte_batch of mm/internal.h .. unmap_vmas,
// zap_page_range_single, unmap_mapping_range), the page-table teardown (free_pgtables,
// free_pgd_range), fork's copy (copy_page_range -> copy_p4d/pud/pmd/pte_range ->
// copy_present_ptes (batching a large folio's PTEs, folio_try_dup_anon_rmap_ptes) /
// copy_present_page), and the fault path (handle_mm_fault -> __handle_mm_fault ->
// handle_pte_fault -> do_anonymous_page / do_fault (do_read_fault with fault-around:
// should_fault_around, do_fault_around -> ->map_pages; do_cow_fault,
// do_shared_fault, __do_fault, finish_fault) / do_wp_page (wp_page_reuse, wp_page_copy,
// wp_page_shared, wp_pfn_shared)), vmf_insert_pfn, and lock_mm_and_find_vma with its
// stack expansion (get_mmap_lock_carefully, upgrade_mmap_lock_carefully,
// mmap_upgrade_trylock), and access_remote_vm / __access_remote_vm (6.18: /proc/PID/mem's
// and ptrace's way into another address space).
//
// Every PTE change here owes the TLB what Linux owes it: a new entry over a non-present
// one needs no flush (the CPU cached nothing for it; a #PF drops the page's entries); an
// entry whose frame changes is cleared and flushed before the new one is set
// (ptep_clear_flush in wp_page_copy); relaxing A/D/RW needs none (spurious faults fix
// themselves); zapped entries are flushed through the mmu_gather before their pages go;
// fork write-protects the parent's private PTEs and dup_mmap flushes the parent's TLBs
// once at the end (flush_tlb_mm), before the parent can run again.
//
// Deviations (grep "DEVIATION(memory)"):
//  - Every non-present, non-none PTE is a swap entry (no migration, device or marker
//    entries), so zap_nonpresent_ptes, copy_nonpresent_pte and do_swap_page meet only
//    those. do_swap_page always goes through the swap cache (the device is not
//    SWP_SYNCHRONOUS_IO) and has no KSM copy, no large-folio swap-in.
//  - fault_around_bytes is the default 64 KiB (16 pages) and has no debugfs knob.
//  - Anonymous PMD-sized THPs only (mm/huge_memory.cc): no hugetlb, no file THP, no
//    PUD leaves, no mTHP (do_anonymous_page maps order 0). No userfaultfd, no NUMA hinting
//    faults, no mmu notifiers, no memcg charging, no LRU, no KSM, no PAT (track_pfn_*).
//  - ->fault never drops mmap_lock (file I/O is synchronous, mm/fs.h), so
//    vmf_can_call_fault always agrees and no fault returns VM_FAULT_RETRY.
//  - fail_pgtable and fail_fault are fault points this port adds (mm/fault_inject.h).
#include <algorithm>
#include <climits>
#include <cstring>

#include "mm/arch/x86/extable.h"
#include "mm/arch/x86/pkeys.h"
#include "mm/arch/x86/ptrace.h"
#include "mm/fault_inject.h"
#include "mm/fs.h"
#include "mm/huge_mm.h"
#include "mm/mm.h"
#include "mm/sched_hooks.h"
#include "mm/swap.h"
#include "mm/trace.h"

namespace kernel {

// ---- page-table allocation ----

// mm/memory.c: pmd_install.
void pmd_install(mm_struct* mm, pmd_t* pmd, page** pte) {
  spinlock_t* ptl = pmd_lock(mm, pmd);
  if (likely(pmd_none(*pmd))) {
    mm_inc_nr_ptes(mm);
    pmd_populate(mm, pmd, *pte);
    *pte = nullptr;
  }
  spin_unlock(ptl);
}

// mm/memory.c
int __pte_alloc(mm_struct* mm, pmd_t* pmd) {
  if (should_fail_point(FAIL_PGTABLE)) return -ENOMEM;
  page* new_page = pte_alloc_one(mm);
  if (new_page == nullptr) return -ENOMEM;
  pmd_install(mm, pmd, &new_page);
  if (new_page != nullptr) pte_free(mm, new_page);
  return 0;
}

// mm/memory.c
int __pmd_alloc(mm_struct* mm, pud_t* pud, unsigned long address) {
  if (should_fail_point(FAIL_PGTABLE)) return -ENOMEM;
  pmd_t* new_pmd = pmd_alloc_one(mm, address);
  if (new_pmd == nullptr) return -ENOMEM;
  spinlock_t* ptl = pud_lock(mm, pud);
  if (!pud_present(*pud)) {
    mm_inc_nr_pmds(mm);
    pud_populate(mm, pud, new_pmd);
  } else {
    pmd_free(mm, new_pmd);  // another thread got there first
  }
  spin_unlock(ptl);
  return 0;
}

// mm/memory.c
int __pud_alloc(mm_struct* mm, p4d_t* p4d, unsigned long address) {
  if (should_fail_point(FAIL_PGTABLE)) return -ENOMEM;
  pud_t* new_pud = pud_alloc_one(mm, address);
  if (new_pud == nullptr) return -ENOMEM;
  spin_lock(&mm->page_table_lock);
  if (!p4d_present(*p4d)) {
    mm_inc_nr_puds(mm);
    p4d_populate(mm, p4d, new_pud);
  } else {
    pud_free(mm, new_pud);
  }
  spin_unlock(&mm->page_table_lock);
  return 0;
}

// ---- normal pages ----

// mm/memory.c: print_bad_pte, reduced to a warning and a trace event.
static void print_bad_pte(vm_area_struct* vma, unsigned long addr, pte_t pte) {
  kernel_warn(__FILE__, __LINE__, "BUG: Bad page map");
  trace_event("bad_pte", "mm=%p addr=%#lx pte=%#llx", static_cast<void*>(vma->vm_mm), addr,
              static_cast<unsigned long long>(pte_val(pte)));
}

// mm/memory.c: the struct page behind a PTE, or null for special mappings (the zero page,
// raw PFNs). x86 has ARCH_HAS_PTE_SPECIAL, so the special bit decides.
page* vm_normal_page(vm_area_struct* vma, unsigned long addr, pte_t pte) {
  unsigned long pfn = pte_pfn(pte);
  if (likely(!pte_special(pte))) {
    if (unlikely(!pfn_valid(pfn))) {
      print_bad_pte(vma, addr, pte);
      return nullptr;
    }
    return pfn_to_page(pfn);
  }
  if (vma->vm_flags & (VM_PFNMAP | VM_MIXEDMAP)) return nullptr;
  if (is_zero_pfn(pfn)) return nullptr;
  print_bad_pte(vma, addr, pte);
  return nullptr;
}

// mm/memory.c
folio* vm_normal_folio(vm_area_struct* vma, unsigned long addr, pte_t pte) {
  page* p = vm_normal_page(vma, addr, pte);
  return p ? page_folio(p) : nullptr;
}

// ---- zapping ----

// mm/memory.c: should_zap_cows / should_zap_folio. Without details everything goes; a
// truncation (unmap_mapping_range) zaps private COW copies only when asked to.
static inline bool should_zap_cows(const zap_details* details) {
  if (details == nullptr) return true;
  return details->even_cows;
}
static inline bool should_zap_folio(const zap_details* details, const folio* f) {
  if (should_zap_cows(details)) return true;
  return !folio_test_anon(f);
}

// mm/memory.c: zap_nonpresent_ptes (nr = 1). A swap entry: its slot loses this
// reference (and a swap-cache folio nobody needs goes too); truncation keeps private
// COW copies, swapped out or not, unless asked.
static void zap_nonpresent_ptes(vm_area_struct* vma, pte_t* pte, pte_t ptent, unsigned long addr,
                                zap_details* details, long* rss) {
  swp_entry_t entry = pte_to_swp_entry(ptent);
  if (!non_swap_entry(entry)) {
    // Genuine swap entries, hence private anon pages.
    if (!should_zap_cows(details)) return;
    rss[MM_SWAPENTS]--;
    free_swap_and_cache(entry);
  } else {
    print_bad_pte(vma, addr, ptent);
  }
  pte_clear(vma->vm_mm, addr, pte);  // clear_not_present_full_ptes
}

// mm/memory.c: zap_present_folio_ptes. Clear nr PTEs mapping consecutive pages of one
// folio, then take their rmap and references away as one batch (folio_remove_rmap_ptes,
// __tlb_remove_folio_pages).
static void zap_present_folio_ptes(mmu_gather* tlb, vm_area_struct* vma, folio* f, page* p,
                                   pte_t* pte, pte_t ptent, unsigned int nr, unsigned long addr,
                                   long* rss, bool* force_flush, bool* force_break) {
  mm_struct* mm = tlb->mm;
  if (!folio_test_anon(f)) {
    // get_and_clear_full_ptes: the batch's A/D bits, the only record of accesses.
    for (unsigned int i = 0; i < nr; i++) {
      pte_t old = ptep_get_and_clear(mm, addr + i * PAGE_SIZE, pte + i);
      if (pte_dirty(old)) ptent = pte_mkdirty(ptent);
      if (pte_young(old)) ptent = pte_mkyoung(ptent);
    }
    if (pte_dirty(ptent)) folio_mark_dirty(f);
    if (pte_young(ptent) && likely(vma_has_recency(vma))) folio_mark_accessed(f);
  } else {
    // clear_full_ptes: anon folios need no up-to-date A/D bits.
    for (unsigned int i = 0; i < nr; i++) ptep_get_and_clear(mm, addr + i * PAGE_SIZE, pte + i);
  }
  rss[mm_counter(f)] -= nr;
  tlb_flush_pte_range(tlb, addr, PAGE_SIZE * nr);  // tlb_remove_tlb_entries
  folio_remove_rmap_ptes(f, p, static_cast<int>(nr), vma);
  if (unlikely(folio_mapcount(f) < 0)) print_bad_pte(vma, addr, ptent);
  if (unlikely(__tlb_remove_folio_pages(tlb, p, nr, false))) {
    *force_flush = true;
    *force_break = true;
  }
}

// mm/memory.c: zap_present_ptes. The zero page or a raw pfn: just the entry. A page of
// a large folio: as many PTEs as map the folio's following pages in one batch
// (folio_pte_batch), so the rmap sees the whole unmap at once. Returns the PTEs done.
static int zap_present_ptes(mmu_gather* tlb, vm_area_struct* vma, pte_t* pte, pte_t ptent,
                            unsigned int max_nr, unsigned long addr, zap_details* details,
                            long* rss, bool* force_flush, bool* force_break) {
  mm_struct* mm = tlb->mm;
  page* p = vm_normal_page(vma, addr, ptent);
  if (p == nullptr) {
    // The zero page or a raw PFN: nothing to release, no up-to-date A/D bits needed.
    ptep_get_and_clear(mm, addr, pte);
    tlb_remove_tlb_entry(tlb, pte, addr);
    return 1;
  }
  folio* f = page_folio(p);
  if (unlikely(!should_zap_folio(details, f))) return 1;
  // The common small-folio case stays apart from the batching.
  if (unlikely(folio_test_large(f) && max_nr != 1)) {
    const unsigned int nr = folio_pte_batch(f, pte, ptent, max_nr);
    zap_present_folio_ptes(tlb, vma, f, p, pte, ptent, nr, addr, rss, force_flush, force_break);
    return static_cast<int>(nr);
  }
  zap_present_folio_ptes(tlb, vma, f, p, pte, ptent, 1, addr, rss, force_flush, force_break);
  return 1;
}

// mm/memory.c: do_zap_pte_range. Skip a run of empty PTEs, then zap what follows it:
// one PTE or a batch of one folio's. Returns the PTEs passed over.
static int do_zap_pte_range(mmu_gather* tlb, vm_area_struct* vma, pte_t* pte, unsigned long addr,
                            unsigned long end, zap_details* details, long* rss,
                            bool* force_flush, bool* force_break) {
  pte_t ptent = ptep_get(pte);
  int max_nr = static_cast<int>((end - addr) / PAGE_SIZE);
  int nr = 0;
  // Skip all consecutive none ptes.
  if (pte_none(ptent)) {
    for (nr = 1; nr < max_nr; nr++) {
      ptent = ptep_get(pte + nr);
      if (!pte_none(ptent)) break;
    }
    max_nr -= nr;
    if (!max_nr) return nr;
    pte += nr;
    addr += nr * PAGE_SIZE;
  }
  if (pte_present(ptent)) {
    nr += zap_present_ptes(tlb, vma, pte, ptent, static_cast<unsigned int>(max_nr), addr, details,
                           rss, force_flush, force_break);
  } else {
    zap_nonpresent_ptes(vma, pte, ptent, addr, details, rss);
    nr += 1;
  }
  return nr;
}

// mm/memory.c: zap_pte_range. Returns where it stopped (end, or earlier when the gather
// batch filled up and was flushed).
static unsigned long zap_pte_range(mmu_gather* tlb, vm_area_struct* vma, pmd_t* pmd,
                                   unsigned long addr, unsigned long end,
                                   zap_details* details) {
  mm_struct* mm = tlb->mm;
  long rss[NR_MM_COUNTERS] = {};
  bool force_flush = false, force_break = false;
  spinlock_t* ptl;
  pte_t* start_pte = pte_offset_map_lock(mm, pmd, addr, &ptl);
  if (start_pte == nullptr) return addr;
  pte_t* pte = start_pte;
  int nr;
  do {
    nr = do_zap_pte_range(tlb, vma, pte, addr, end, details, rss, &force_flush, &force_break);
    if (unlikely(force_break)) {
      addr += nr * PAGE_SIZE;
      break;
    }
  } while (pte += nr, addr += PAGE_SIZE * nr, addr != end);
  for (int i = 0; i < NR_MM_COUNTERS; ++i)
    if (rss[i]) add_mm_counter(mm, i, rss[i]);
  pte_unmap_unlock(start_pte, ptl);
  if (force_flush) tlb_flush_mmu(tlb);
  return addr;
}

// include/linux/pgtable.h: *_none_or_clear_bad.
static bool pmd_none_or_clear_bad(pmd_t* pmd) {
  if (pmd_none(*pmd)) return true;
  if (unlikely(pmd_bad(*pmd))) {
    kernel_warn(__FILE__, __LINE__, "bad pmd");
    pmd_clear(pmd);
    return true;
  }
  return false;
}
static bool pud_none_or_clear_bad(pud_t* pud) {
  if (pud_none(*pud)) return true;
  if (unlikely(pud_bad(*pud))) {
    kernel_warn(__FILE__, __LINE__, "bad pud");
    pud_clear(pud);
    return true;
  }
  return false;
}
static bool p4d_none_or_clear_bad(p4d_t* p4d) {
  if (p4d_none(*p4d)) return true;
  if (unlikely(p4d_bad(*p4d))) {
    kernel_warn(__FILE__, __LINE__, "bad p4d");
    p4d_clear(p4d);
    return true;
  }
  return false;
}

// mm/memory.c
static unsigned long zap_pmd_range(mmu_gather* tlb, vm_area_struct* vma, pud_t* pud,
                                   unsigned long addr, unsigned long end,
                                   zap_details* details) {
  pmd_t* pmd = pmd_offset(pud, addr);
  unsigned long next;
  do {
    next = pmd_addr_end(addr, end);
    if (pmd_trans_huge(*pmd)) {
      // A zap of part of a huge page splits it first; all of it goes in one step.
      if (next - addr != HPAGE_PMD_SIZE) {
        __split_huge_pmd(vma, pmd, addr, false);
      } else if (zap_huge_pmd(tlb, vma, pmd, addr)) {
        addr = next;
        continue;
      }
      // fall through: the pmd now points at a PTE table
    }
    if (pmd_none(*pmd)) {
      addr = next;
      continue;
    }
    addr = zap_pte_range(tlb, vma, pmd, addr, next, details);
    if (addr != next) pmd--;  // the batch filled up: redo this table from addr
  } while (pmd++, cond_resched(), addr != end);
  return addr;
}

// mm/memory.c
static unsigned long zap_pud_range(mmu_gather* tlb, vm_area_struct* vma, p4d_t* p4d,
                                   unsigned long addr, unsigned long end,
                                   zap_details* details) {
  pud_t* pud = pud_offset(p4d, addr);
  unsigned long next;
  do {
    next = pud_addr_end(addr, end);
    if (pud_none_or_clear_bad(pud)) continue;
    next = zap_pmd_range(tlb, vma, pud, addr, next, details);
  } while (pud++, addr = next, addr != end);
  return addr;
}

// mm/memory.c
static unsigned long zap_p4d_range(mmu_gather* tlb, vm_area_struct* vma, pgd_t* pgd,
                                   unsigned long addr, unsigned long end,
                                   zap_details* details) {
  p4d_t* p4d = p4d_offset(pgd, addr);
  unsigned long next;
  do {
    next = p4d_addr_end(addr, end);
    if (p4d_none_or_clear_bad(p4d)) continue;
    next = zap_pud_range(tlb, vma, p4d, addr, next, details);
  } while (p4d++, addr = next, addr != end);
  return addr;
}

// mm/memory.c
void unmap_page_range(mmu_gather* tlb, vm_area_struct* vma, unsigned long addr,
                             unsigned long end, zap_details* details) {
  BUG_ON(addr >= end);
  tlb_start_vma(tlb, vma);
  pgd_t* pgd = pgd_offset(vma->vm_mm, addr);
  unsigned long next;
  do {
    next = pgd_addr_end(addr, end);
    if (pgd_none(*pgd)) continue;
    next = zap_p4d_range(tlb, vma, pgd, addr, next, details);
  } while (pgd++, addr = next, addr != end);
  tlb_end_vma(tlb, vma);
}

// mm/memory.c
static void unmap_single_vma(mmu_gather* tlb, vm_area_struct* vma, unsigned long start_addr,
                             unsigned long end_addr, zap_details* details) {
  unsigned long start = std::max(vma->vm_start, start_addr);
  if (start >= vma->vm_end) return;
  unsigned long end = std::min(vma->vm_end, end_addr);
  if (end <= vma->vm_start) return;
  if (start != end) unmap_page_range(tlb, vma, start, end, details);
}

// mm/memory.c
void unmap_vmas(mmu_gather* tlb, vm_area_struct* const* vmas, int nr_vmas,
                unsigned long start_addr, unsigned long end_addr) {
  trace_call tc("unmap_vmas", "start=%#lx end=%#lx nr=%d", start_addr, end_addr, nr_vmas);
  for (int i = 0; i < nr_vmas; ++i) unmap_single_vma(tlb, vmas[i], start_addr, end_addr, nullptr);
}

// mm/memory.c
void zap_page_range_single(vm_area_struct* vma, unsigned long address, unsigned long size,
                           zap_details* details) {
  mmu_gather tlb;
  tlb_gather_mmu(&tlb, vma->vm_mm);
  unmap_single_vma(&tlb, vma, address, address + size, details);
  tlb_finish_mmu(&tlb);
}

// mm/memory.c: unmap_mapping_range_vma / unmap_mapping_range_tree. Zap the pages of file
// indices [first_index, last_index] in every VMA that maps the file.
static void unmap_mapping_range_tree(address_space* mapping, pgoff_t first_index,
                                     pgoff_t last_index, zap_details* details) {
  for (list_head* l = mapping->i_mmap.next; l != &mapping->i_mmap; l = l->next) {
    vm_area_struct* vma = list_entry(l, vm_area_struct, shared.list);
    const pgoff_t vba = vma->vm_pgoff;
    const pgoff_t vea = vba + vma_pages(vma) - 1;
    if (vea < first_index || vba > last_index) continue;
    const pgoff_t zba = std::max(first_index, vba);
    const pgoff_t zea = std::min(last_index, vea);
    zap_page_range_single(vma, ((zba - vba) << PAGE_SHIFT) + vma->vm_start,
                          (zea - zba + 1) << PAGE_SHIFT, details);
  }
}

// mm/memory.c: unmap the file's [holebegin, holebegin + holelen) (byte offsets; holelen 0
// means "to the end") from every mapping of it. Private COW copies of those pages are
// zapped only with even_cows (truncate wants them gone: access past EOF must SIGBUS).
void unmap_mapping_range(address_space* mapping, loff_t const holebegin, loff_t const holelen,
                         int even_cows) {
  trace_call tc("unmap_mapping_range", "ino=%lu holebegin=%#llx holelen=%#llx even_cows=%d",
                mapping->host->i_ino, static_cast<long long>(holebegin),
                static_cast<long long>(holelen), even_cows);
  pgoff_t hba = static_cast<pgoff_t>(holebegin) >> PAGE_SHIFT;
  pgoff_t hlen = (static_cast<pgoff_t>(holelen) + PAGE_SIZE - 1) >> PAGE_SHIFT;
  // Check for overflow.
  if (sizeof(holelen) > sizeof(hlen)) {
    long long holeend = (holebegin + holelen + static_cast<long long>(PAGE_SIZE) - 1) >> PAGE_SHIFT;
    if (holeend & ~static_cast<long long>(ULONG_MAX)) hlen = ULONG_MAX - hba + 1;
  }
  zap_details details{};
  details.even_cows = even_cows != 0;
  pgoff_t first_index = hba;
  pgoff_t last_index = hba + hlen - 1;
  if (last_index < first_index) last_index = ULONG_MAX;
  i_mmap_lock_read(mapping);
  if (mapping_mapped(mapping)) unmap_mapping_range_tree(mapping, first_index, last_index, &details);
  i_mmap_unlock_read(mapping);
}

// mm/memory.c: unmap_mapping_folio. Zap this (locked) folio's PTEs in every mapping of
// its file; private COW copies made from it stay.
void unmap_mapping_folio(folio* f) {
  address_space* mapping = f->mapping;
  VM_BUG_ON(!folio_test_locked(f));
  zap_details details{};
  details.even_cows = false;
  i_mmap_lock_read(mapping);
  if (mapping_mapped(mapping)) unmap_mapping_range_tree(mapping, f->index, f->index, &details);
  i_mmap_unlock_read(mapping);
}

// ---- freeing page tables ----

// mm/memory.c
static void free_pte_range(mmu_gather* tlb, pmd_t* pmd, unsigned long addr) {
  page* token = pmd_page(*pmd);
  pmd_clear(pmd);
  pte_free_tlb(tlb, token, addr);
  mm_dec_nr_ptes(tlb->mm);
}

// mm/memory.c
static void free_pmd_range(mmu_gather* tlb, pud_t* pud, unsigned long addr, unsigned long end,
                           unsigned long floor, unsigned long ceiling) {
  unsigned long start = addr;
  pmd_t* pmd = pmd_offset(pud, addr);
  unsigned long next;
  do {
    next = pmd_addr_end(addr, end);
    if (pmd_none_or_clear_bad(pmd)) continue;
    free_pte_range(tlb, pmd, addr);
  } while (pmd++, addr = next, addr != end);

  start &= PUD_MASK;
  if (start < floor) return;
  if (ceiling) {
    ceiling &= PUD_MASK;
    if (!ceiling) return;
  }
  if (end - 1 > ceiling - 1) return;
  pmd = pmd_offset(pud, start);
  pud_clear(pud);
  pmd_free_tlb(tlb, pmd, start);
  mm_dec_nr_pmds(tlb->mm);
}

// mm/memory.c
static void free_pud_range(mmu_gather* tlb, p4d_t* p4d, unsigned long addr, unsigned long end,
                           unsigned long floor, unsigned long ceiling) {
  unsigned long start = addr;
  pud_t* pud = pud_offset(p4d, addr);
  unsigned long next;
  do {
    next = pud_addr_end(addr, end);
    if (pud_none_or_clear_bad(pud)) continue;
    free_pmd_range(tlb, pud, addr, next, floor, ceiling);
  } while (pud++, addr = next, addr != end);

  start &= P4D_MASK;
  if (start < floor) return;
  if (ceiling) {
    ceiling &= P4D_MASK;
    if (!ceiling) return;
  }
  if (end - 1 > ceiling - 1) return;
  pud = pud_offset(p4d, start);
  p4d_clear(p4d);
  pud_free_tlb(tlb, pud, start);
  mm_dec_nr_puds(tlb->mm);
}

// mm/memory.c
static void free_p4d_range(mmu_gather* tlb, pgd_t* pgd, unsigned long addr, unsigned long end,
                           unsigned long floor, unsigned long ceiling) {
  p4d_t* p4d = p4d_offset(pgd, addr);
  unsigned long next;
  do {
    next = p4d_addr_end(addr, end);
    if (p4d_none_or_clear_bad(p4d)) continue;
    free_pud_range(tlb, p4d, addr, next, floor, ceiling);
  } while (p4d++, addr = next, addr != end);
  // The p4d level is folded into the pgd: there is no p4d table to free.
}

// mm/memory.c: free the page tables of [addr, end) that no mapping in [floor, ceiling)
// still needs (ceiling 0 means "the top of the address space").
void free_pgd_range(mmu_gather* tlb, unsigned long addr, unsigned long end, unsigned long floor,
                    unsigned long ceiling) {
  addr &= PMD_MASK;
  if (addr < floor) {
    addr += PMD_SIZE;
    if (!addr) return;
  }
  if (ceiling) {
    ceiling &= PMD_MASK;
    if (!ceiling) return;
  }
  if (end - 1 > ceiling - 1) end -= PMD_SIZE;
  if (addr > end - 1) return;
  pgd_t* pgd = pgd_offset(tlb->mm, addr);
  unsigned long next;
  do {
    next = pgd_addr_end(addr, end);
    if (pgd_none(*pgd)) continue;
    free_p4d_range(tlb, pgd, addr, next, floor, ceiling);
  } while (pgd++, addr = next, addr != end);
}

// The mm-only form of the contract: gathers, frees, flushes.
void free_pgd_range(mm_struct* mm, unsigned long addr, unsigned long end, unsigned long floor,
                    unsigned long ceiling) {
  mmu_gather tlb;
  tlb_gather_mmu(&tlb, mm);
  free_pgd_range(&tlb, addr, end, floor, ceiling);
  tlb_finish_mmu(&tlb);
}

// mm/memory.c: free_pgtables. The VMAs are being torn down (already out of the tree);
// their anon_vmas are unlinked, they leave their files' i_mmap, and the tables under them
// are freed, keeping tables that neighbours in [floor, ceiling) still use.
void free_pgtables(mmu_gather* tlb, vm_area_struct* const* vmas, int nr_vmas,
                   unsigned long floor, unsigned long ceiling) {
  int i = 0;
  while (i < nr_vmas) {
    vm_area_struct* vma = vmas[i++];
    unsigned long addr = vma->vm_start;
    unlink_anon_vmas(vma);
    unlink_file_vma(vma);  // unlink_file_vma_batch_add
    // Gather nearby VMAs into one call down.
    while (i < nr_vmas && vmas[i]->vm_start <= vma->vm_end + PMD_SIZE) {
      vma = vmas[i++];
      unlink_anon_vmas(vma);
      unlink_file_vma(vma);
    }
    free_pgd_range(tlb, addr, vma->vm_end, floor, i < nr_vmas ? vmas[i]->vm_start : ceiling);
  }
}

// ---- fork: copying page tables ----

// include/linux/mm.h: give a PTE write permission if the VMA has it.
static pte_t maybe_mkwrite(pte_t pte, vm_area_struct* vma) {
  if (likely(vma->vm_flags & VM_WRITE)) pte = pte_mkwrite(pte, vma);
  return pte;
}

// mm/memory.c: folio_prealloc. A page for a copy, zeroed if asked.
static folio* folio_prealloc(mm_struct* /*src_mm*/, vm_area_struct* vma, unsigned long addr,
                             bool need_zero) {
  return vma_alloc_folio(GFP_HIGHUSER_MOVABLE | (need_zero ? __GFP_ZERO : 0), 0, vma, addr);
}

// mm/memory.c: copy_present_page. The parent's page may be pinned for DMA, so the child
// gets its own copy now (with *prealloc), mapped writable if the VMA allows; the parent's
// PTE stays as it was. -EAGAIN: no page preallocated yet.
static int copy_present_page(vm_area_struct* dst_vma, vm_area_struct* src_vma, pte_t* dst_pte,
                             pte_t* /*src_pte*/, unsigned long addr, long* rss, folio** prealloc,
                             page* p) {
  folio* new_folio = *prealloc;
  if (new_folio == nullptr) return -EAGAIN;
  // copy_mc_user_highpage: the source is reachable through the direct map.
  std::memcpy(folio_address(new_folio), page_address(p), PAGE_SIZE);
  *prealloc = nullptr;
  folio_set_uptodate(new_folio);  // __folio_mark_uptodate
  folio_add_new_anon_rmap(new_folio, dst_vma, addr);
  folio_add_lru_vma(new_folio, dst_vma);
  rss[MM_ANONPAGES]++;
  pte_t pte = mk_pte(new_folio, dst_vma->vm_page_prot);
  pte = maybe_mkwrite(pte_mkdirty(pte), dst_vma);
  set_pte_at(dst_vma->vm_mm, addr, dst_pte, pte);
  trace_event("copy_present_page", "addr=%#lx parent_pfn=%#lx child_pfn=%#lx (maybe pinned)",
              addr, page_to_pfn(p), page_to_pfn(new_folio));
  (void)src_vma;
  return 0;
}

// mm/memory.c: __copy_present_ptes. nr PTEs of one folio (or one PTE): a COW mapping is
// write-protected in both processes; a shared one is clean in the child; the child's
// entries start old.
static void __copy_present_ptes(vm_area_struct* dst_vma, vm_area_struct* src_vma,
                                pte_t* dst_pte, pte_t* src_pte, pte_t pte, unsigned long addr,
                                int nr) {
  mm_struct* src_mm = src_vma->vm_mm;
  if (is_cow_mapping(src_vma->vm_flags) && pte_write(pte)) {
    // The parent's TLBs may still allow writes: dup_mmap flushes them (flush_tlb_mm)
    // before the parent runs again.
    for (int i = 0; i < nr; i++)  // wrprotect_ptes
      ptep_set_wrprotect(src_mm, addr + i * PAGE_SIZE, src_pte + i);
    pte = pte_wrprotect(pte);
  }
  if (src_vma->vm_flags & VM_SHARED) pte = pte_mkclean(pte);
  pte = pte_mkold(pte);
  for (int i = 0; i < nr; i++)  // set_ptes
    set_pte_at(dst_vma->vm_mm, addr + i * PAGE_SIZE, dst_pte + i, pte_advance_pfn(pte, i));
}

// mm/memory.c: copy_present_ptes. Returns the PTEs done (a batch of one large folio's
// pages, or 1) or -EAGAIN (a page must be preallocated first).
static int copy_present_ptes(vm_area_struct* dst_vma, vm_area_struct* src_vma, pte_t* dst_pte,
                             pte_t* src_pte, pte_t pte, unsigned long addr, int max_nr,
                             long* rss, folio** prealloc) {
  page* p = vm_normal_page(src_vma, addr, pte);
  if (unlikely(p == nullptr)) {
    // The zero page or a raw pfn (VM_PFNMAP): nothing to account, just the entry.
    __copy_present_ptes(dst_vma, src_vma, dst_pte, src_pte, pte, addr, 1);
    return 1;
  }
  folio* f = page_folio(p);
  // Batch a large folio's PTEs unless a copy is likely (a page already preallocated);
  // the common small-folio case stays apart from the batching.
  if (unlikely(*prealloc == nullptr && folio_test_large(f) && max_nr != 1)) {
    fpb_t flags = FPB_MERGE_WRITE;
    if (!(src_vma->vm_flags & VM_SHARED)) flags |= FPB_RESPECT_DIRTY;
    const int nr = static_cast<int>(
        folio_pte_batch_flags(f, src_vma, src_pte, &pte, static_cast<unsigned int>(max_nr), flags));
    folio_ref_add(f, nr);
    if (folio_test_anon(f)) {
      if (unlikely(folio_try_dup_anon_rmap_ptes(f, p, nr, dst_vma, src_vma))) {
        folio_ref_sub(f, nr);
        return -EAGAIN;
      }
      rss[MM_ANONPAGES] += nr;
      VM_WARN_ON_ONCE(PageAnonExclusive(p));
    } else {
      for (int i = 0; i < nr; i++) folio_dup_file_rmap_pte(f, p + i);  // folio_dup_file_rmap_ptes
      rss[mm_counter_file(f)] += nr;
    }
    __copy_present_ptes(dst_vma, src_vma, dst_pte, src_pte, pte, addr, nr);
    return nr;
  }
  folio_get(f);
  if (folio_test_anon(f)) {
    // A page the parent may have pinned for DMA must stay the parent's own: the child
    // gets a copy now, so a later COW cannot separate the pin from the parent's mapping.
    if (unlikely(folio_try_dup_anon_rmap_pte(f, p, dst_vma, src_vma))) {
      folio_put(f);
      int err = copy_present_page(dst_vma, src_vma, dst_pte, src_pte, addr, rss, prealloc, p);
      return err ? err : 1;
    }
    rss[MM_ANONPAGES]++;
    VM_WARN_ON_ONCE(PageAnonExclusive(p));
  } else {
    folio_dup_file_rmap_pte(f, p);
    rss[mm_counter_file(f)]++;
  }
  __copy_present_ptes(dst_vma, src_vma, dst_pte, src_pte, pte, addr, 1);
  return 1;
}

// mm/memory.c: copy_nonpresent_pte, for a swap entry: the child refers to the same slot
// (one more reference), and the entry is no longer exclusive in either process.
// 0, or -EIO when the slot's count cannot grow.
static int copy_nonpresent_pte(mm_struct* dst_mm, mm_struct* src_mm, pte_t* dst_pte,
                               pte_t* src_pte, vm_area_struct* /*dst_vma*/,
                               vm_area_struct* src_vma, unsigned long addr, long* rss) {
  pte_t orig_pte = ptep_get(src_pte);
  pte_t pte = orig_pte;
  swp_entry_t entry = pte_to_swp_entry(orig_pte);
  if (likely(!non_swap_entry(entry))) {
    if (swap_duplicate(entry) < 0) return -EIO;
    // Mark the swap entry as shared.
    if (pte_swp_exclusive(orig_pte)) {
      pte = pte_swp_clear_exclusive(orig_pte);
      set_pte_at(src_mm, addr, src_pte, pte);
    }
    rss[MM_SWAPENTS]++;
  } else {
    print_bad_pte(src_vma, addr, orig_pte);
    return 0;
  }
  set_pte_at(dst_mm, addr, dst_pte, pte);
  return 0;
}

// mm/memory.c: copy_pte_range. On -EAGAIN both locks are dropped, a page is allocated,
// and the copy resumes where it stopped.
static int copy_pte_range(vm_area_struct* dst_vma, vm_area_struct* src_vma, pmd_t* dst_pmd,
                          pmd_t* src_pmd, unsigned long addr, unsigned long end) {
  mm_struct* dst_mm = dst_vma->vm_mm;
  mm_struct* src_mm = src_vma->vm_mm;
  folio* prealloc = nullptr;
  int ret = 0;
again:
  {
    long rss[NR_MM_COUNTERS] = {};
    spinlock_t *dst_ptl, *src_ptl;
    if (pte_alloc(dst_mm, dst_pmd)) {
      ret = -ENOMEM;
      goto out;
    }
    pte_t* dst_pte = pte_offset_map_lock(dst_mm, dst_pmd, addr, &dst_ptl);
    if (dst_pte == nullptr) {
      ret = -ENOMEM;
      goto out;
    }
    pte_t* src_pte = pte_offset_map_lock(src_mm, src_pmd, addr, &src_ptl);
    if (src_pte == nullptr) {
      pte_unmap_unlock(dst_pte, dst_ptl);
      goto out;  // ret == 0
    }
    pte_t* orig_src_pte = src_pte;
    pte_t* orig_dst_pte = dst_pte;
    int nr;
    do {
      nr = 1;
      pte_t ptent = ptep_get(src_pte);
      if (pte_none(ptent)) continue;
      if (unlikely(!pte_present(ptent))) {
        ret = copy_nonpresent_pte(dst_mm, src_mm, dst_pte, src_pte, dst_vma, src_vma, addr, rss);
        if (ret == -EIO) break;
        ret = 0;
        continue;
      }
      const int max_nr = static_cast<int>((end - addr) / PAGE_SIZE);
      ret = copy_present_ptes(dst_vma, src_vma, dst_pte, src_pte, ptent, addr, max_nr, rss,
                              &prealloc);
      // A pinned page of a batch: -EAGAIN gets a page, and the retry copies page by page.
      if (unlikely(ret == -EAGAIN)) break;
      if (unlikely(prealloc != nullptr)) {
        // A preallocated page is for the address it was allocated for only.
        folio_put(prealloc);
        prealloc = nullptr;
      }
      nr = ret;
      ret = 0;
    } while (dst_pte += nr, src_pte += nr, addr += PAGE_SIZE * nr, addr != end);
    pte_unmap_unlock(orig_src_pte, src_ptl);
    for (int i = 0; i < NR_MM_COUNTERS; ++i)
      if (rss[i]) add_mm_counter(dst_mm, i, rss[i]);  // add_mm_rss_vec
    pte_unmap_unlock(orig_dst_pte, dst_ptl);
  }
  cond_resched();
  if (ret == -EIO) {
    // DEVIATION(memory): add_swap_count_continuation does not exist: the slot's count
    // is full, and fork fails as when that allocation fails in Linux.
    ret = -ENOMEM;
    goto out;
  }
  if (ret == -EAGAIN) {
    prealloc = folio_prealloc(src_mm, src_vma, addr, false);
    if (prealloc == nullptr) return -ENOMEM;
    ret = 0;
  }
  if (addr != end) goto again;
out:
  if (unlikely(prealloc != nullptr)) folio_put(prealloc);
  return ret;
}

// mm/memory.c
static int copy_pmd_range(vm_area_struct* dst_vma, vm_area_struct* src_vma, pud_t* dst_pud,
                          pud_t* src_pud, unsigned long addr, unsigned long end) {
  pmd_t* dst_pmd = pmd_alloc(dst_vma->vm_mm, dst_pud, addr);
  if (dst_pmd == nullptr) return -ENOMEM;
  pmd_t* src_pmd = pmd_offset(src_pud, addr);
  unsigned long next;
  do {
    next = pmd_addr_end(addr, end);
    if (pmd_trans_huge(*src_pmd)) {
      VM_BUG_ON_VMA(next - addr != HPAGE_PMD_SIZE, src_vma);
      int err = copy_huge_pmd(dst_vma->vm_mm, src_vma->vm_mm, dst_pmd, src_pmd, addr, dst_vma,
                              src_vma);
      if (err == -ENOMEM) return -ENOMEM;
      if (!err) continue;
      // fall through: the pmd was split, copy its PTEs
    }
    if (pmd_none_or_clear_bad(src_pmd)) continue;
    if (copy_pte_range(dst_vma, src_vma, dst_pmd, src_pmd, addr, next)) return -ENOMEM;
  } while (dst_pmd++, src_pmd++, addr = next, addr != end);
  return 0;
}

// mm/memory.c
static int copy_pud_range(vm_area_struct* dst_vma, vm_area_struct* src_vma, p4d_t* dst_p4d,
                          p4d_t* src_p4d, unsigned long addr, unsigned long end) {
  pud_t* dst_pud = pud_alloc(dst_vma->vm_mm, dst_p4d, addr);
  if (dst_pud == nullptr) return -ENOMEM;
  pud_t* src_pud = pud_offset(src_p4d, addr);
  unsigned long next;
  do {
    next = pud_addr_end(addr, end);
    if (pud_none_or_clear_bad(src_pud)) continue;
    if (copy_pmd_range(dst_vma, src_vma, dst_pud, src_pud, addr, next)) return -ENOMEM;
  } while (dst_pud++, src_pud++, addr = next, addr != end);
  return 0;
}

// mm/memory.c
static int copy_p4d_range(vm_area_struct* dst_vma, vm_area_struct* src_vma, pgd_t* dst_pgd,
                          pgd_t* src_pgd, unsigned long addr, unsigned long end) {
  p4d_t* dst_p4d = p4d_alloc(dst_vma->vm_mm, dst_pgd, addr);
  if (dst_p4d == nullptr) return -ENOMEM;
  p4d_t* src_p4d = p4d_offset(src_pgd, addr);
  unsigned long next;
  do {
    next = p4d_addr_end(addr, end);
    if (p4d_none_or_clear_bad(src_p4d)) continue;
    if (copy_pud_range(dst_vma, src_vma, dst_p4d, src_p4d, addr, next)) return -ENOMEM;
  } while (dst_p4d++, src_p4d++, addr = next, addr != end);
  return 0;
}

// mm/memory.c: vma_needs_copy. Mappings whose pages a fault would bring back (shared
// ones, private file mappings never written) are not copied: fork stays cheap and the
// child faults them in. Raw-pfn mappings and anything with anonymous pages are.
static bool vma_needs_copy(vm_area_struct* /*dst_vma*/, vm_area_struct* src_vma) {
  if (src_vma->vm_flags & (VM_PFNMAP | VM_MIXEDMAP)) return true;
  if (src_vma->anon_vma) return true;
  return false;
}

// mm/memory.c
int copy_page_range(vm_area_struct* dst_vma, vm_area_struct* src_vma) {
  unsigned long addr = src_vma->vm_start;
  unsigned long end = src_vma->vm_end;
  mm_struct* dst_mm = dst_vma->vm_mm;
  mm_struct* src_mm = src_vma->vm_mm;
  if (!vma_needs_copy(dst_vma, src_vma)) return 0;
  trace_call tc("copy_page_range", "vma=[%#lx,%#lx) flags=%#lx", addr, end, src_vma->vm_flags);
  if (is_cow_mapping(src_vma->vm_flags)) mmap_assert_write_locked(src_mm);
  int ret = 0;
  pgd_t* dst_pgd = pgd_offset(dst_mm, addr);
  pgd_t* src_pgd = pgd_offset(src_mm, addr);
  unsigned long next;
  do {
    next = pgd_addr_end(addr, end);
    if (pgd_none(*src_pgd)) continue;
    if (unlikely(copy_p4d_range(dst_vma, src_vma, dst_pgd, src_pgd, addr, next))) {
      ret = -ENOMEM;
      break;
    }
  } while (dst_pgd++, src_pgd++, addr = next, addr != end);
  return tc.ret(ret);
}

// ---- faults ----

// mm/memory.c: vmf_pte_changed.
static bool vmf_pte_changed(vm_fault* vmf) {
  if (vmf->flags & FAULT_FLAG_ORIG_PTE_VALID) return !pte_same(ptep_get(vmf->pte), vmf->orig_pte);
  return !pte_none(ptep_get(vmf->pte));
}

// mm/memory.c: vmf_anon_prepare.
static vm_fault_t vmf_anon_prepare(vm_fault* vmf) {
  vm_area_struct* vma = vmf->vma;
  if (likely(vma->anon_vma)) return 0;
  if (anon_vma_prepare(vma)) return VM_FAULT_OOM;
  return 0;
}

// mm/memory.c: do_anonymous_page. The zero page for a read; a new zeroed, exclusive,
// dirty page for a write.
static vm_fault_t do_anonymous_page(vm_fault* vmf) {
  vm_area_struct* vma = vmf->vma;
  unsigned long addr = vmf->address;
  vm_fault_t ret = 0;
  folio* f = nullptr;
  pte_t entry;

  // A shared mapping without vm_ops cannot be anonymous memory.
  if (vma->vm_flags & VM_SHARED) return VM_FAULT_SIGBUS;
  if (pte_alloc(vma->vm_mm, vmf->pmd)) return VM_FAULT_OOM;

  if (!(vmf->flags & FAULT_FLAG_WRITE)) {
    entry = pte_mkspecial(pfn_pte(page_to_pfn(ZERO_PAGE(addr)), vma->vm_page_prot));
    vmf->pte = pte_offset_map_lock(vma->vm_mm, vmf->pmd, addr, &vmf->ptl);
    if (vmf->pte == nullptr) return 0;
    if (vmf_pte_changed(vmf)) {
      pte_unmap_unlock(vmf->pte, vmf->ptl);
      return 0;
    }
    goto setpte;
  }

  ret = vmf_anon_prepare(vmf);
  if (ret) return ret;
  // alloc_anon_folio -> vma_alloc_zeroed_movable_folio
  f = vma_alloc_folio(GFP_HIGHUSER_MOVABLE | __GFP_ZERO, 0, vma, addr);
  if (f == nullptr) return VM_FAULT_OOM;
  folio_set_uptodate(f);  // __folio_mark_uptodate

  entry = mk_pte(f, vma->vm_page_prot);
  if (vma->vm_flags & VM_WRITE) entry = pte_mkwrite(pte_mkdirty(entry), vma);

  vmf->pte = pte_offset_map_lock(vma->vm_mm, vmf->pmd, addr, &vmf->ptl);
  if (vmf->pte == nullptr) {
    folio_put(f);
    return 0;
  }
  if (vmf_pte_changed(vmf)) {
    pte_unmap_unlock(vmf->pte, vmf->ptl);
    folio_put(f);
    return 0;
  }
  add_mm_counter(vma->vm_mm, MM_ANONPAGES, 1);
  folio_add_new_anon_rmap(f, vma, addr);
  folio_add_lru_vma(f, vma);
setpte:
  set_pte_at(vma->vm_mm, addr, vmf->pte, entry);
  // No need to invalidate: the entry was not present before.
  update_mmu_cache(vma, addr, vmf->pte);
  pte_unmap_unlock(vmf->pte, vmf->ptl);
  trace_event("do_anonymous_page", "addr=%#lx %s pfn=%#lx", addr,
              f ? "new" : "zero", pte_pfn(entry));
  return 0;
}

// ---- faults on file, shmem and special mappings ----

// mm/memory.c: __do_fault. Ask the mapping for the page (->fault); on success vmf->page
// holds it, referenced and locked.
static vm_fault_t __do_fault(vm_fault* vmf) {
  vm_area_struct* vma = vmf->vma;
  // Preallocate the PTE table before taking the page lock (Linux: memcg reclaim could
  // wait on that page otherwise).
  if (pmd_none(*vmf->pmd) && vmf->prealloc_pte == nullptr) {
    if (should_fail_point(FAIL_PGTABLE)) return VM_FAULT_OOM;
    vmf->prealloc_pte = pte_alloc_one(vma->vm_mm);
    if (vmf->prealloc_pte == nullptr) return VM_FAULT_OOM;
  }
  vm_fault_t ret = vma->vm_ops->fault(vmf);
  if (unlikely(ret & (VM_FAULT_ERROR | VM_FAULT_NOPAGE | VM_FAULT_RETRY | VM_FAULT_DONE_COW)))
    return ret;
  folio* f = page_folio(vmf->page);
  if (unlikely(!(ret & VM_FAULT_LOCKED)))
    folio_lock(f);
  else
    VM_BUG_ON_PAGE(!PageLocked(vmf->page), vmf->page);
  return ret;
}

// mm/memory.c: set_pte_range (one page). A write makes the entry dirty and, if the VMA
// allows, writable; a COW copy becomes a new exclusive anon page, anything else one more
// mapping of a file page.
// (x86 does not want prefaulted PTEs old, so fault-around entries are young like this one.)
void set_pte_range(vm_fault* vmf, folio* f, page* p, unsigned long addr) {
  vm_area_struct* vma = vmf->vma;
  const bool write = vmf->flags & FAULT_FLAG_WRITE;
  pte_t entry = mk_pte(p, vma->vm_page_prot);  // x86: the protections carry _PAGE_ACCESSED
  if (write)
    entry = maybe_mkwrite(pte_mkdirty(entry), vma);
  else if (pte_write(entry) && folio_test_dirty(f))
    entry = pte_mkdirty(entry);
  if (write && !(vma->vm_flags & VM_SHARED)) {
    // A copy-on-write page.
    folio_add_new_anon_rmap(f, vma, addr);
    folio_add_lru_vma(f, vma);
  } else {
    folio_add_file_rmap_pte(f, p, vma);
  }
  set_pte_at(vma->vm_mm, addr, vmf->pte, entry);
  // No need to invalidate: the entry was not present before.
  update_mmu_cache(vma, addr, vmf->pte);
}

// mm/memory.c: finish_fault. Install the PTE for vmf->page (or the COW copy) unless
// someone else installed one meanwhile (VM_FAULT_NOPAGE). The page reference passes to
// the mapping.
static vm_fault_t finish_fault(vm_fault* vmf) {
  vm_area_struct* vma = vmf->vma;
  const bool is_cow = (vmf->flags & FAULT_FLAG_WRITE) && !(vma->vm_flags & VM_SHARED);
  page* p = is_cow ? vmf->cow_page : vmf->page;
  folio* f = page_folio(p);
  vm_fault_t ret = 0;
  const unsigned long addr = vmf->address;

  if (pmd_none(*vmf->pmd)) {
    if (vmf->prealloc_pte != nullptr) {
      // pmd_install, as __pte_alloc does.
      spinlock_t* ptl = pmd_lock(vma->vm_mm, vmf->pmd);
      if (likely(pmd_none(*vmf->pmd))) {
        mm_inc_nr_ptes(vma->vm_mm);
        pmd_populate(vma->vm_mm, vmf->pmd, vmf->prealloc_pte);
        vmf->prealloc_pte = nullptr;
      }
      spin_unlock(ptl);
    } else if (unlikely(pte_alloc(vma->vm_mm, vmf->pmd))) {
      return VM_FAULT_OOM;
    }
  }
  vmf->pte = pte_offset_map_lock(vma->vm_mm, vmf->pmd, addr, &vmf->ptl);
  if (vmf->pte == nullptr) return VM_FAULT_NOPAGE;
  // Re-check the PTE: the lock was dropped while ->fault ran.
  if (unlikely(vmf_pte_changed(vmf))) {
    ret = VM_FAULT_NOPAGE;
  } else {
    set_pte_range(vmf, f, p, addr);
    add_mm_counter(vma->vm_mm, is_cow ? MM_ANONPAGES : mm_counter_file(f), 1);
    trace_event("finish_fault", "addr=%#lx pfn=%#lx %s", addr, page_to_pfn(p),
                is_cow ? "cow" : (vmf->flags & FAULT_FLAG_WRITE) ? "shared-write" : "read");
  }
  pte_unmap_unlock(vmf->pte, vmf->ptl);
  return ret;
}

// mm/memory.c: do_page_mkwrite. Tell the file that the page is about to be written
// (it marks it dirty); returns with the folio locked (VM_FAULT_LOCKED) unless the page
// was truncated meanwhile (VM_FAULT_NOPAGE) or ->page_mkwrite failed.
static vm_fault_t do_page_mkwrite(vm_fault* vmf, folio* f) {
  const unsigned int old_flags = vmf->flags;
  vmf->flags = FAULT_FLAG_WRITE | FAULT_FLAG_MKWRITE;
  vm_fault_t ret = vmf->vma->vm_ops->page_mkwrite(vmf);
  vmf->flags = old_flags;  // restore, so the caller still knows what kind of fault this is
  if (unlikely(ret & (VM_FAULT_ERROR | VM_FAULT_NOPAGE))) return ret;
  if (unlikely(!(ret & VM_FAULT_LOCKED))) {
    folio_lock(f);
    if (f->mapping == nullptr) {
      folio_unlock(f);
      return 0;  // retry
    }
    ret |= VM_FAULT_LOCKED;
  } else {
    VM_BUG_ON_FOLIO(!folio_test_locked(f), f);
  }
  return ret;
}

// mm/memory.c: fault_dirty_shared_page. A shared page was written: dirty it for
// writeback and unlock it. (balance_dirty_pages has no throttling to do here.)
static vm_fault_t fault_dirty_shared_page(vm_fault* vmf) {
  folio* f = page_folio(vmf->page);
  folio_mark_dirty(f);
  folio_unlock(f);
  return 0;
}

// mm/memory.c: fault_around_bytes = 64 KiB, in pages (rounded down to a power of two).
static constexpr unsigned long fault_around_pages = 65536 >> PAGE_SHIFT;

// mm/memory.c: should_fault_around. Only mappings with ->map_pages can; no userfaultfd here.
static inline bool should_fault_around(vm_fault* vmf) {
  // No ->map_pages?  No way to fault around...
  if (!vmf->vma->vm_ops->map_pages) return false;
  // One page would be no "around" at all.
  return fault_around_pages > 1;
}

// mm/memory.c: do_fault_around. Map the page-cache pages already present in the
// fault_around_pages-aligned window around the fault, clipped to the VMA and to this PTE
// table; VM_FAULT_NOPAGE when the faulting page itself got mapped.
static vm_fault_t do_fault_around(vm_fault* vmf) {
  pgoff_t nr_pages = fault_around_pages;
  pgoff_t pte_off = pte_index(vmf->address);
  // The page offset of vmf->address within the VMA.
  pgoff_t vma_off = vmf->pgoff - vmf->vma->vm_pgoff;
  pgoff_t from_pte, to_pte;
  vm_fault_t ret;

  // The PTE offset of the start address, clamped to the VMA.
  from_pte = std::max(pte_off & ~(nr_pages - 1), pte_off - std::min(pte_off, vma_off));

  // The PTE offset of the end address, clamped to the VMA and PTE.
  to_pte = std::min({from_pte + nr_pages, static_cast<pgoff_t>(PTRS_PER_PTE),
                     pte_off + vma_pages(vmf->vma) - vma_off}) -
           1;

  if (pmd_none(*vmf->pmd)) {
    // DEVIATION(memory): fail_pgtable, as at every page-table allocation of the port.
    if (should_fail_point(FAIL_PGTABLE)) return VM_FAULT_OOM;
    vmf->prealloc_pte = pte_alloc_one(vmf->vma->vm_mm);
    if (!vmf->prealloc_pte) return VM_FAULT_OOM;
  }

  ret = vmf->vma->vm_ops->map_pages(vmf, vmf->pgoff + from_pte - pte_off,
                                    vmf->pgoff + to_pte - pte_off);
  return ret;
}

// mm/memory.c: do_read_fault. Map what the page cache already has around the fault
// (->map_pages); if that did not include the faulting page, ask ->fault for it and map it
// read-only (or, for a shared writable mapping without writenotify, as vm_page_prot allows).
static vm_fault_t do_read_fault(vm_fault* vmf) {
  vm_fault_t ret = 0;
  folio* f;

  // ->map_pages first, ->fault as the fallback when the page is not ready to be mapped.
  if (should_fault_around(vmf)) {
    ret = do_fault_around(vmf);
    if (ret) return ret;
  }

  ret = __do_fault(vmf);
  if (unlikely(ret & (VM_FAULT_ERROR | VM_FAULT_NOPAGE | VM_FAULT_RETRY))) return ret;
  ret |= finish_fault(vmf);
  f = page_folio(vmf->page);
  folio_unlock(f);
  if (unlikely(ret & (VM_FAULT_ERROR | VM_FAULT_NOPAGE | VM_FAULT_RETRY))) folio_put(f);
  return ret;
}

// mm/memory.c: do_cow_fault. A write to a private file mapping: copy the file's page into
// a new anonymous page and map that; the page cache keeps the original.
static vm_fault_t do_cow_fault(vm_fault* vmf) {
  vm_area_struct* vma = vmf->vma;
  vm_fault_t ret = vmf_anon_prepare(vmf);
  if (ret) return ret;
  folio* f = folio_prealloc(vma->vm_mm, vma, vmf->address, false);
  if (f == nullptr) return VM_FAULT_OOM;
  vmf->cow_page = f;
  ret = __do_fault(vmf);
  if (unlikely(ret & (VM_FAULT_ERROR | VM_FAULT_NOPAGE | VM_FAULT_RETRY))) goto uncharge_out;
  if (ret & VM_FAULT_DONE_COW) return ret;
  // copy_mc_user_highpage
  std::memcpy(page_address(vmf->cow_page), page_address(vmf->page), PAGE_SIZE);
  folio_set_uptodate(f);  // __folio_mark_uptodate
  ret |= finish_fault(vmf);
  unlock_page(vmf->page);
  put_page(vmf->page);
  if (unlikely(ret & (VM_FAULT_ERROR | VM_FAULT_NOPAGE | VM_FAULT_RETRY))) goto uncharge_out;
  return ret;
uncharge_out:
  folio_put(f);
  return ret;
}

// mm/memory.c: do_shared_fault. A write to a shared file mapping: the page cache page
// itself is mapped writable and dirtied (after ->page_mkwrite, when the file has one).
static vm_fault_t do_shared_fault(vm_fault* vmf) {
  vm_area_struct* vma = vmf->vma;
  vm_fault_t ret = __do_fault(vmf);
  if (unlikely(ret & (VM_FAULT_ERROR | VM_FAULT_NOPAGE | VM_FAULT_RETRY))) return ret;
  folio* f = page_folio(vmf->page);
  // Does the file want to know that the page is about to become writable?
  if (vma->vm_ops->page_mkwrite) {
    folio_unlock(f);
    vm_fault_t tmp = do_page_mkwrite(vmf, f);
    if (unlikely(!tmp || (tmp & (VM_FAULT_ERROR | VM_FAULT_NOPAGE)))) {
      folio_put(f);
      return tmp;
    }
  }
  ret |= finish_fault(vmf);
  if (unlikely(ret & (VM_FAULT_ERROR | VM_FAULT_NOPAGE | VM_FAULT_RETRY))) {
    folio_unlock(f);
    folio_put(f);
    return ret;
  }
  ret |= fault_dirty_shared_page(vmf);
  return ret;
}

// mm/memory.c: do_fault. A missing PTE in a VMA with vm_ops.
static vm_fault_t do_fault(vm_fault* vmf) {
  vm_area_struct* vma = vmf->vma;
  mm_struct* vm_mm = vma->vm_mm;
  vm_fault_t ret;
  if (vma->vm_ops->fault == nullptr) {
    // A mapping that was populated up front and has nothing to fault in.
    vmf->pte = pmd_none(*vmf->pmd) ? nullptr
                                   : pte_offset_map_lock(vm_mm, vmf->pmd, vmf->address, &vmf->ptl);
    if (unlikely(vmf->pte == nullptr)) {
      ret = VM_FAULT_SIGBUS;
    } else {
      ret = pte_none(ptep_get(vmf->pte)) ? VM_FAULT_SIGBUS : VM_FAULT_NOPAGE;
      pte_unmap_unlock(vmf->pte, vmf->ptl);
    }
  } else if (!(vmf->flags & FAULT_FLAG_WRITE)) {
    ret = do_read_fault(vmf);
  } else if (!(vma->vm_flags & VM_SHARED)) {
    ret = do_cow_fault(vmf);
  } else {
    ret = do_shared_fault(vmf);
  }
  // A preallocated table that was not needed.
  if (vmf->prealloc_pte != nullptr) {
    pte_free(vm_mm, vmf->prealloc_pte);
    vmf->prealloc_pte = nullptr;
  }
  return ret;
}

// mm/memory.c: insert_pfn. A special PTE for a raw pfn (no struct page behind it that
// rmap or refcounts would follow).
static vm_fault_t insert_pfn(vm_area_struct* vma, unsigned long addr, unsigned long pfn,
                             pgprot_t prot) {
  mm_struct* mm = vma->vm_mm;
  pgd_t* pgd = pgd_offset(mm, addr);
  p4d_t* p4d = p4d_alloc(mm, pgd, addr);
  pud_t* pud = p4d ? pud_alloc(mm, p4d, addr) : nullptr;
  pmd_t* pmd = pud ? pmd_alloc(mm, pud, addr) : nullptr;
  if (pmd == nullptr || pte_alloc(mm, pmd)) return VM_FAULT_OOM;
  spinlock_t* ptl;
  pte_t* pte = pte_offset_map_lock(mm, pmd, addr, &ptl);
  if (pte == nullptr) return VM_FAULT_OOM;
  if (pte_none(ptep_get(pte))) {
    pte_t entry = pte_mkspecial(pfn_pte(pfn, prot));
    set_pte_at(mm, addr, pte, entry);
    update_mmu_cache(vma, addr, pte);
  }
  pte_unmap_unlock(pte, ptl);
  return VM_FAULT_NOPAGE;
}

// mm/memory.c: vmf_insert_pfn (vmf_insert_pfn_prot with the VMA's protections).
vm_fault_t vmf_insert_pfn(vm_area_struct* vma, unsigned long addr, unsigned long pfn) {
  BUG_ON(!(vma->vm_flags & (VM_PFNMAP | VM_MIXEDMAP)));
  BUG_ON((vma->vm_flags & (VM_PFNMAP | VM_MIXEDMAP)) == (VM_PFNMAP | VM_MIXEDMAP));
  if (addr < vma->vm_start || addr >= vma->vm_end) return VM_FAULT_SIGBUS;
  return insert_pfn(vma, addr, pfn, vma->vm_page_prot);
}

// mm/memory.c
static vm_fault_t do_pte_missing(vm_fault* vmf) {
  if (vma_is_anonymous(vmf->vma)) return do_anonymous_page(vmf);
  return do_fault(vmf);
}

// mm/memory.c: wp_page_reuse. The page is ours alone (or a shared mapping's page): make
// the entry writable in place.
static void wp_page_reuse(vm_fault* vmf, folio* f) {
  vm_area_struct* vma = vmf->vma;
  VM_BUG_ON(!(vmf->flags & FAULT_FLAG_WRITE));
  VM_WARN_ON_ONCE(is_zero_pfn(pte_pfn(vmf->orig_pte)));
  VM_BUG_ON(f && folio_test_anon(f) && !PageAnonExclusive(vmf->page));
  pte_t entry = pte_mkyoung(vmf->orig_pte);
  entry = maybe_mkwrite(pte_mkdirty(entry), vma);
  if (ptep_set_access_flags(vma, vmf->address, vmf->pte, entry, 1))
    update_mmu_cache(vma, vmf->address, vmf->pte);
  pte_unmap_unlock(vmf->pte, vmf->ptl);
  trace_event("wp_page_reuse", "addr=%#lx pfn=%#lx", vmf->address, pte_pfn(entry));
}

// mm/memory.c: wp_page_copy. Copy the page (or take a zeroed one for the zero page),
// then switch the PTE over: clear + flush the old entry before the new one goes in.
static vm_fault_t wp_page_copy(vm_fault* vmf) {
  const bool unshare = vmf->flags & FAULT_FLAG_UNSHARE;
  vm_area_struct* vma = vmf->vma;
  mm_struct* mm = vma->vm_mm;
  folio* old_folio = vmf->page ? page_folio(vmf->page) : nullptr;
  folio* new_folio = nullptr;
  bool page_copied = false;

  vm_fault_t ret = vmf_anon_prepare(vmf);
  if (unlikely(ret)) {
    if (old_folio) folio_put(old_folio);
    return ret;
  }
  bool pfn_is_zero = is_zero_pfn(pte_pfn(vmf->orig_pte));
  // folio_prealloc
  new_folio = vma_alloc_folio(GFP_HIGHUSER_MOVABLE | (pfn_is_zero ? __GFP_ZERO : 0), 0, vma,
                              vmf->address);
  if (new_folio == nullptr) {
    if (old_folio) folio_put(old_folio);
    return VM_FAULT_OOM;
  }
  if (!pfn_is_zero) {
    // __wp_page_copy_user: the source is reachable through the direct map.
    std::memcpy(folio_address(new_folio), page_address(vmf->page), PAGE_SIZE);
  }
  folio_set_uptodate(new_folio);

  vmf->pte = pte_offset_map_lock(mm, vmf->pmd, vmf->address, &vmf->ptl);
  if (likely(vmf->pte && pte_same(ptep_get(vmf->pte), vmf->orig_pte))) {
    if (old_folio) {
      if (!folio_test_anon(old_folio)) {
        dec_mm_counter(mm, mm_counter_file(old_folio));
        inc_mm_counter(mm, MM_ANONPAGES);
      }
    } else {
      inc_mm_counter(mm, MM_ANONPAGES);
    }
    pte_t entry = mk_pte(new_folio, vma->vm_page_prot);
    if (!unshare) entry = maybe_mkwrite(pte_mkdirty(entry), vma);
    // Clear and flush first, so no CPU can hold the old translation once the new
    // entry is visible.
    ptep_clear_flush(vma, vmf->address, vmf->pte);
    folio_add_new_anon_rmap(new_folio, vma, vmf->address);
    folio_add_lru_vma(new_folio, vma);
    BUG_ON(unshare && pte_write(entry));
    set_pte_at(mm, vmf->address, vmf->pte, entry);
    update_mmu_cache(vma, vmf->address, vmf->pte);
    if (old_folio) folio_remove_rmap_pte(old_folio, vmf->page, vma);
    trace_event("wp_page_copy", "addr=%#lx old_pfn=%#lx new_pfn=%#lx%s", vmf->address,
                pte_pfn(vmf->orig_pte), page_to_pfn(new_folio), unshare ? " unshare" : "");
    // Free the old page: the mapping's reference goes below.
    new_folio = old_folio;
    page_copied = true;
    pte_unmap_unlock(vmf->pte, vmf->ptl);
  } else if (vmf->pte) {
    pte_unmap_unlock(vmf->pte, vmf->ptl);
  }
  if (new_folio) folio_put(new_folio);
  if (old_folio) folio_put(old_folio);  // the reference do_wp_page took
  (void)page_copied;
  return 0;
}

// mm/memory.c: __wp_can_reuse_large_anon_folio (CONFIG_MM_ID, Linux 6.15+). A write to
// a page of a PTE-mapped THP: reuse it in place if every reference to the folio is a
// mapping and every mapping is this mm's (the MM_ID slots say nobody else maps it).
static bool __wp_can_reuse_large_anon_folio(folio* f, vm_area_struct* vma) {
  bool exclusive = false;
  // A single mapped page: copy it and let the rest of the folio go.
  if (folio_large_mapcount(f) <= 1) return false;
  // An anon page is mapped at most once per mm, and each mapping holds one reference
  // (taken before the mapcount on map, dropped after it on unmap). So if the refcount is
  // the mapcount and one mm holds every mapping, that mm is the folio's only user.
  if (folio_test_large_maybe_mapped_shared(f)) return false;
  if (unlikely(folio_test_swapcache(f))) {
    // The swap cache's references would spoil the count: drop it if no PTE needs it.
    if (!folio_trylock(f)) return false;
    folio_free_swap(f);
    folio_unlock(f);
  }
  if (folio_large_mapcount(f) != folio_ref_count(f)) return false;
  // Hold the slots still while the counts are compared again.
  folio_lock_large_mapcount(f);
  VM_WARN_ON_ONCE(folio_large_mapcount(f) > folio_ref_count(f));
  if (folio_test_large_maybe_mapped_shared(f)) goto unlock;
  if (folio_large_mapcount(f) != folio_ref_count(f)) goto unlock;
  VM_WARN_ON_ONCE(folio_large_mapcount(f) > folio_nr_pages(f));
  VM_WARN_ON_ONCE(folio_entire_mapcount(f));
  VM_WARN_ON_ONCE(folio_mm_id(f, 0) != vma->vm_mm->mm_id &&
                  folio_mm_id(f, 1) != vma->vm_mm->mm_id);
  // No folio lock needed: migration or swap-out would hold a reference we did not count.
  exclusive = true;
unlock:
  folio_unlock_large_mapcount(f);
  return exclusive;
}

// mm/memory.c: wp_can_reuse_anon_folio.
static bool wp_can_reuse_anon_folio(folio* f, vm_area_struct* vma) {
  if (folio_test_large(f)) return __wp_can_reuse_large_anon_folio(f, vma);  // CONFIG_MM_ID
  // The swap cache may hold the only other reference: drop it if no PTE needs the slot.
  if (folio_ref_count(f) > 1 + (folio_test_swapcache(f) ? 1 : 0)) return false;
  if (!folio_trylock(f)) return false;
  if (folio_test_swapcache(f)) folio_free_swap(f);
  if (folio_ref_count(f) != 1) {
    folio_unlock(f);
    return false;
  }
  folio_move_anon_rmap(f, vma);
  folio_unlock(f);
  return true;
}

// mm/memory.c: finish_mkwrite_fault. After ->page_mkwrite (which may have slept), make
// the PTE writable if it is still the one we faulted on.
static vm_fault_t finish_mkwrite_fault(vm_fault* vmf, folio* f) {
  WARN_ON_ONCE(!(vmf->vma->vm_flags & VM_SHARED));
  vmf->pte = pte_offset_map_lock(vmf->vma->vm_mm, vmf->pmd, vmf->address, &vmf->ptl);
  if (vmf->pte == nullptr) return VM_FAULT_NOPAGE;
  // Someone else changed the PTE while the lock was dropped: leave it to them.
  if (!pte_same(ptep_get(vmf->pte), vmf->orig_pte)) {
    pte_unmap_unlock(vmf->pte, vmf->ptl);
    return VM_FAULT_NOPAGE;
  }
  wp_page_reuse(vmf, f);
  return 0;
}

// mm/memory.c: wp_pfn_shared. A raw-pfn shared mapping: writable in place (after
// ->pfn_mkwrite, if the driver has one).
static vm_fault_t wp_pfn_shared(vm_fault* vmf) {
  vm_area_struct* vma = vmf->vma;
  if (vma->vm_ops && vma->vm_ops->pfn_mkwrite) {
    pte_unmap_unlock(vmf->pte, vmf->ptl);
    vmf->flags |= FAULT_FLAG_MKWRITE;
    vm_fault_t ret = vma->vm_ops->pfn_mkwrite(vmf);
    if (ret & (VM_FAULT_ERROR | VM_FAULT_NOPAGE)) return ret;
    return finish_mkwrite_fault(vmf, nullptr);
  }
  wp_page_reuse(vmf, nullptr);
  return 0;
}

// mm/memory.c: wp_page_shared. The first write to a page of a shared mapping that
// tracks writes (writenotify): ->page_mkwrite dirties it, then the PTE becomes writable.
static vm_fault_t wp_page_shared(vm_fault* vmf, folio* f) {
  vm_area_struct* vma = vmf->vma;
  vm_fault_t ret = 0;
  folio_get(f);
  if (vma->vm_ops && vma->vm_ops->page_mkwrite) {
    pte_unmap_unlock(vmf->pte, vmf->ptl);
    vm_fault_t tmp = do_page_mkwrite(vmf, f);
    if (unlikely(!tmp || (tmp & (VM_FAULT_ERROR | VM_FAULT_NOPAGE)))) {
      folio_put(f);
      return tmp;
    }
    tmp = finish_mkwrite_fault(vmf, f);
    if (unlikely(tmp & (VM_FAULT_ERROR | VM_FAULT_NOPAGE))) {
      folio_unlock(f);
      folio_put(f);
      return tmp;
    }
  } else {
    wp_page_reuse(vmf, f);
    folio_lock(f);
  }
  ret |= fault_dirty_shared_page(vmf);
  folio_put(f);
  return ret;
}

// mm/memory.c: do_wp_page. A write (or an unshare request) hit a present, non-writable
// PTE. Called with the PTE lock held; releases it.
static vm_fault_t do_wp_page(vm_fault* vmf) {
  const bool unshare = vmf->flags & FAULT_FLAG_UNSHARE;
  vm_area_struct* vma = vmf->vma;
  folio* f = nullptr;

  vmf->page = vm_normal_page(vma, vmf->address, vmf->orig_pte);
  if (vmf->page) f = page_folio(vmf->page);

  // Shared mapping: VM_WRITE and FAULT_FLAG_WRITE are certain here (no unshare, no COW).
  if (vma->vm_flags & (VM_SHARED | VM_MAYSHARE)) {
    if (vmf->page == nullptr) return wp_pfn_shared(vmf);
    return wp_page_shared(vmf, f);
  }
  // Private mapping: reuse an exclusive anonymous page, copy anything else.
  if (f && folio_test_anon(f) &&
      (PageAnonExclusive(vmf->page) || wp_can_reuse_anon_folio(f, vma))) {
    if (!PageAnonExclusive(vmf->page)) SetPageAnonExclusive(vmf->page);
    if (unlikely(unshare)) {
      pte_unmap_unlock(vmf->pte, vmf->ptl);
      return 0;
    }
    wp_page_reuse(vmf, f);
    return 0;
  }
  if (f) folio_get(f);
  pte_unmap_unlock(vmf->pte, vmf->ptl);
  return wp_page_copy(vmf);
}

// mm/memory.c: should_try_to_free_swap. Drop the swap cache's copy after a swap-in when
// swap is short, the page is mlocked (it will not go out again), or a write would
// otherwise have to copy the page only because the cache holds a reference.
static inline bool should_try_to_free_swap(folio* f, vm_area_struct* vma,
                                           unsigned int fault_flags) {
  if (!folio_test_swapcache(f)) return false;
  if (vm_swap_full() || (vma->vm_flags & VM_LOCKED) || folio_test_mlocked(f)) return true;
  return (fault_flags & FAULT_FLAG_WRITE) && folio_ref_count(f) == (1 + folio_nr_pages(f));
}

// mm/memory.c: do_swap_page. The PTE holds a swap entry: find the page in the swap cache
// or read it from its slot (a major fault), map it, and give up this PTE's reference to
// the slot. Called with the PTE mapped but unlocked (handle_pte_fault).
static vm_fault_t do_swap_page(vm_fault* vmf) {
  vm_area_struct* vma = vmf->vma;
  folio *swapcache, *f = nullptr;
  page* p;
  rmap_t rmap_flags = RMAP_NONE;
  bool exclusive = false;
  vm_fault_t ret = 0;
  pte_t pte;

  swp_entry_t entry = pte_to_swp_entry(vmf->orig_pte);
  if (unlikely(non_swap_entry(entry))) {
    print_bad_pte(vma, vmf->address, vmf->orig_pte);
    pte_unmap(vmf->pte);
    return VM_FAULT_SIGBUS;
  }
  pte_unmap(vmf->pte);
  vmf->pte = nullptr;
  // get_swap_device: the device is there for as long as the entry is.
  swap_info_struct* si = swp_swap_info(entry);
  if (unlikely(si == nullptr)) return VM_FAULT_SIGBUS;

  f = swap_cache_get_folio(entry);
  swapcache = f;
  if (!f) {
    f = swapin_readahead(entry, GFP_HIGHUSER_MOVABLE, vmf);
    swapcache = f;
    if (!f) {
      // Back out if somebody else faulted in this PTE meanwhile.
      vmf->pte = pte_offset_map_lock(vma->vm_mm, vmf->pmd, vmf->address, &vmf->ptl);
      if (likely(vmf->pte && pte_same(ptep_get(vmf->pte), vmf->orig_pte))) ret = VM_FAULT_OOM;
      goto unlock;
    }
    // Had to read the page from swap: a major fault.
    ret = VM_FAULT_MAJOR;
    count_vm_event(PGMAJFAULT);
  }

  folio_lock(f);  // folio_lock_or_retry: I/O is synchronous, nothing to retry
  p = f;          // folio_file_page
  if (swapcache) {
    // folio_free_swap or a racing fault may have taken it out of the cache.
    if (unlikely(!folio_test_swapcache(f) || f->swap.val != entry.val)) goto out_page;
  }

  // Back out if somebody else already faulted in this PTE.
  vmf->pte = pte_offset_map_lock(vma->vm_mm, vmf->pmd, vmf->address, &vmf->ptl);
  if (unlikely(!vmf->pte || !pte_same(ptep_get(vmf->pte), vmf->orig_pte))) goto out_nomap;
  if (unlikely(!folio_test_uptodate(f))) {
    ret = VM_FAULT_SIGBUS;  // the read failed
    goto out_nomap;
  }
  // A swap PTE never points at a swap-cache page that is still exclusive.
  BUG_ON(folio_test_anon(f) && PageAnonExclusive(p));

  // Under the PT lock (fork shares entries under it): is the page certainly ours alone?
  exclusive = pte_swp_exclusive(vmf->orig_pte);

  // Remove the swap entry and conditionally free up the swap cache: the folio
  // reference we hold keeps the page.
  swap_free(entry);
  if (should_try_to_free_swap(f, vma, vmf->flags)) folio_free_swap(f);

  add_mm_counter(vma->vm_mm, MM_ANONPAGES, 1);
  add_mm_counter(vma->vm_mm, MM_SWAPENTS, -1);
  pte = mk_pte(p, vma->vm_page_prot);

  // As do_wp_page, but for pages certainly not shared: the entry said exclusive, or
  // nothing else holds the folio.
  if (exclusive || folio_ref_count(f) == 1) {
    if (vma->vm_flags & VM_WRITE) {
      pte = pte_mkwrite(pte, vma);
      if (vmf->flags & FAULT_FLAG_WRITE) {
        pte = pte_mkdirty(pte);
        vmf->flags &= ~FAULT_FLAG_WRITE;
      }
    }
    rmap_flags |= RMAP_EXCLUSIVE;
  }
  vmf->orig_pte = pte;

  if (!folio_test_anon(f)) {
    // Read from swap just now, or left in the cache after its last mapping went and
    // its anon_vma with it: it becomes this VMA's.
    folio_add_new_anon_rmap(f, vma, vmf->address, rmap_flags);
  } else {
    folio_add_anon_rmap_pte(f, p, vma, vmf->address, rmap_flags);
  }
  VM_BUG_ON(!folio_test_anon(f) || (pte_write(pte) && !PageAnonExclusive(p)));
  set_pte_at(vma->vm_mm, vmf->address, vmf->pte, pte);
  folio_unlock(f);
  trace_event("do_swap_page", "addr=%#lx offset=%lu pfn=%#lx%s%s", vmf->address,
              swp_offset(entry), folio_pfn(f), (ret & VM_FAULT_MAJOR) ? " major" : "",
              (rmap_flags & RMAP_EXCLUSIVE) ? " exclusive" : "");

  if (vmf->flags & FAULT_FLAG_WRITE) {
    ret |= do_wp_page(vmf);
    if (ret & VM_FAULT_ERROR) ret &= VM_FAULT_ERROR;
    return ret;
  }
  // No need to invalidate: it was non-present before.
  update_mmu_cache(vma, vmf->address, vmf->pte);
unlock:
  if (vmf->pte) pte_unmap_unlock(vmf->pte, vmf->ptl);
  return ret;
out_nomap:
  if (vmf->pte) pte_unmap_unlock(vmf->pte, vmf->ptl);
out_page:
  folio_unlock(f);
  folio_put(f);
  return ret;
}

// mm/memory.c: handle_pte_fault.
static vm_fault_t handle_pte_fault(vm_fault* vmf) {
  if (unlikely(pmd_none(*vmf->pmd))) {
    vmf->pte = nullptr;
    vmf->flags &= ~FAULT_FLAG_ORIG_PTE_VALID;
  } else {
    vmf->pte = pte_offset_map(vmf->pmd, vmf->address);
    if (unlikely(vmf->pte == nullptr)) return 0;
    vmf->ptl = pte_lockptr(vmf->vma->vm_mm, vmf->pmd);
    vmf->orig_pte = ptep_get(vmf->pte);
    vmf->flags |= FAULT_FLAG_ORIG_PTE_VALID;
    if (pte_none(vmf->orig_pte)) {
      pte_unmap(vmf->pte);
      vmf->pte = nullptr;
    }
  }
  if (vmf->pte == nullptr) return do_pte_missing(vmf);

  // DEVIATION(memory): no NUMA hinting faults (no PROT_NONE-present entries reach here).
  if (!pte_present(vmf->orig_pte)) return do_swap_page(vmf);

  spin_lock(vmf->ptl);
  pte_t entry = vmf->orig_pte;
  if (unlikely(!pte_same(ptep_get(vmf->pte), entry))) {
    pte_unmap_unlock(vmf->pte, vmf->ptl);
    return 0;
  }
  if (vmf->flags & (FAULT_FLAG_WRITE | FAULT_FLAG_UNSHARE)) {
    if (!pte_write(entry)) return do_wp_page(vmf);
    if (likely(vmf->flags & FAULT_FLAG_WRITE)) entry = pte_mkdirty(entry);
  }
  entry = pte_mkyoung(entry);
  if (ptep_set_access_flags(vmf->vma, vmf->address, vmf->pte, entry,
                            vmf->flags & FAULT_FLAG_WRITE)) {
    update_mmu_cache(vmf->vma, vmf->address, vmf->pte);
  }
  // else: a spurious fault. x86's flush_tlb_fix_spurious_fault is empty: the #PF already
  // dropped the stale translation of the faulting CPU.
  pte_unmap_unlock(vmf->pte, vmf->ptl);
  return 0;
}

// mm/memory.c: __handle_mm_fault. Allocates the upper tables on the way down.
static vm_fault_t __handle_mm_fault(vm_area_struct* vma, unsigned long address,
                                    unsigned int flags) {
  mm_struct* mm = vma->vm_mm;
  vm_fault vmf{};
  vmf.vma = vma;
  vmf.address = address & PAGE_MASK;
  vmf.real_address = address;
  vmf.flags = flags;
  vmf.pgoff = linear_page_index(vma, address);
  vmf.gfp_mask = GFP_KERNEL;

  pgd_t* pgd = pgd_offset(mm, address);
  p4d_t* p4d = p4d_alloc(mm, pgd, address);
  if (p4d == nullptr) return VM_FAULT_OOM;
  vmf.pud = pud_alloc(mm, p4d, address);
  if (vmf.pud == nullptr) return VM_FAULT_OOM;
  vmf.pmd = pmd_alloc(mm, vmf.pud, address);
  if (vmf.pmd == nullptr) return VM_FAULT_OOM;

  if (pmd_none(*vmf.pmd) && thp_vma_allowable_order(vma, vma->vm_flags, PMD_ORDER)) {
    // create_huge_pmd: only anonymous VMAs get here.
    vm_fault_t ret = do_huge_pmd_anonymous_page(&vmf);
    if (!(ret & VM_FAULT_FALLBACK)) return ret;
  } else {
    vmf.orig_pmd = pmdp_get(vmf.pmd);  // pmdp_get_lockless
    if (pmd_trans_huge(vmf.orig_pmd)) {
      if ((flags & (FAULT_FLAG_WRITE | FAULT_FLAG_UNSHARE)) && !pmd_write(vmf.orig_pmd)) {
        // wp_huge_pmd: anonymous VMAs only hold huge pmds here.
        vm_fault_t ret = do_huge_pmd_wp_page(&vmf);
        if (!(ret & VM_FAULT_FALLBACK)) return ret;
      } else {
        huge_pmd_set_accessed(&vmf);
        return 0;
      }
    }
  }
  return handle_pte_fault(&vmf);
}

// mm/memory.c: sanitize_fault_flags.
static vm_fault_t sanitize_fault_flags(vm_area_struct* vma, unsigned int* flags) {
  if (unlikely(*flags & FAULT_FLAG_UNSHARE)) {
    if (WARN_ON_ONCE(*flags & FAULT_FLAG_WRITE)) return VM_FAULT_SIGSEGV;
    // Unsharing means something only where COW can happen; elsewhere it is an ordinary
    // read fault.
    if (!is_cow_mapping(vma->vm_flags)) *flags &= ~FAULT_FLAG_UNSHARE;
  } else if (*flags & FAULT_FLAG_WRITE) {
    // A write fault needs a mapping that may ever be writable ...
    if (WARN_ON_ONCE(!(vma->vm_flags & VM_MAYWRITE))) return VM_FAULT_SIGSEGV;
    // ... and forcing a write into a read-only mapping only works by COW.
    if (WARN_ON_ONCE(!(vma->vm_flags & VM_WRITE) && !is_cow_mapping(vma->vm_flags)))
      return VM_FAULT_SIGSEGV;
  }
  // No per-VMA locks (FAULT_FLAG_VMA_LOCK), so their check is absent.
  return 0;
}

// mm/memory.c: mm_account_fault. Every completed fault counts in PGFAULT, failed ones too.
static void mm_account_fault(vm_fault_t ret) {
  if (ret & VM_FAULT_RETRY) return;
  count_vm_event(PGFAULT);
}

// mm/memory.c. Called with mmap_lock held (for reading at least).
vm_fault_t handle_mm_fault(vm_area_struct* vma, unsigned long address, unsigned int flags,
                           struct pt_regs* /*regs*/) {
  trace_call tc("handle_mm_fault", "addr=%#lx flags=%#x", address, flags);
  vm_fault_t ret;
  // DEVIATION(memory): a preemption point: another CPU's path may run before the fault.
  sched_point(SCHED_POINT_FAULT, vma->vm_mm, "handle_mm_fault");
  mmap_assert_locked(vma->vm_mm);
  if (should_fail_point(FAIL_FAULT)) {
    ret = VM_FAULT_OOM;
  } else {
    ret = sanitize_fault_flags(vma, &flags);
    if (!ret && !arch_vma_access_permitted(vma, flags & FAULT_FLAG_WRITE,
                                           flags & FAULT_FLAG_INSTRUCTION,
                                           flags & FAULT_FLAG_REMOTE))
      ret = VM_FAULT_SIGSEGV;
    if (!ret) ret = __handle_mm_fault(vma, address, flags);
  }
  mm_account_fault(ret);
  return tc.ret(ret);
}

namespace {

// mm/memory.c: kernel code may only sleep on mmap_lock where it expects faults.
bool get_mmap_lock_carefully(mm_struct* mm, pt_regs* regs) {
  if (likely(mmap_read_trylock(mm))) return true;
  if (regs != nullptr && !user_mode(regs)) {
    if (search_exception_tables(instruction_pointer(regs)) == nullptr) return false;
  }
  return mmap_read_lock_killable(mm) == 0;
}

// mm/memory.c: there is no atomic upgrade of mmap_lock from read to write.
bool mmap_upgrade_trylock(mm_struct* /*mm*/) { return false; }

// mm/memory.c: drop the read lock and take the write lock, with the same care as
// get_mmap_lock_carefully for kernel-mode faults.
bool upgrade_mmap_lock_carefully(mm_struct* mm, pt_regs* regs) {
  mmap_read_unlock(mm);
  if (regs != nullptr && !user_mode(regs)) {
    if (search_exception_tables(instruction_pointer(regs)) == nullptr) return false;
  }
  return mmap_write_lock_killable(mm) == 0;
}

}  // namespace

// mm/memory.c (6.5+): mmap_lock held for reading and the VMA containing addr, or null
// with the lock dropped. An address just below a VM_GROWSDOWN VMA grows that stack down
// to it (with the write lock, then downgraded), within stack_guard_gap of the VMA below
// and RLIMIT_STACK. GUP never comes here: it does not grow stacks (gup_vma_lookup).
vm_area_struct* lock_mm_and_find_vma(mm_struct* mm, unsigned long addr, pt_regs* regs) {
  if (!get_mmap_lock_carefully(mm, regs)) return nullptr;
  vm_area_struct* vma = find_vma(mm, addr);
  if (likely(vma != nullptr && vma->vm_start <= addr)) return vma;
  // Well, dang. We might still be successful, but only if we can extend a vma to do so.
  if (vma == nullptr || !(vma->vm_flags & VM_GROWSDOWN)) {
    mmap_read_unlock(mm);
    return nullptr;
  }
  // The upgrade cannot be atomic: drop, re-take for writing, look again.
  if (!mmap_upgrade_trylock(mm)) {
    if (!upgrade_mmap_lock_carefully(mm, regs)) return nullptr;
    vma = find_vma(mm, addr);
    if (vma == nullptr) goto fail;
    if (vma->vm_start <= addr) goto success;
    if (!(vma->vm_flags & VM_GROWSDOWN)) goto fail;
  }
  if (expand_stack_locked(vma, addr)) goto fail;
success:
  mmap_write_downgrade(mm);
  return vma;
fail:
  mmap_write_unlock(mm);
  return nullptr;
}


// include/linux/mm.h: one page of mm at addr with a reference (FOLL_GET), and the VMA it
// lies in; ERR_PTR when get_user_pages_remote could not have it. mmap_lock held.
static page* get_user_page_vma_remote(mm_struct* mm, unsigned long addr, int gup_flags,
                                      vm_area_struct** vmap) {
  page* page;
  vm_area_struct* vma;
  long got;

  if (WARN_ON_ONCE(unlikely(gup_flags & FOLL_NOWAIT))) return ERR_PTR<struct page>(-EINVAL);

  got = get_user_pages_remote(mm, addr, 1, gup_flags, &page, nullptr);

  if (got < 0) return ERR_PTR<struct page>(got);

  vma = vma_lookup(mm, addr);
  if (WARN_ON_ONCE(!vma)) {
    put_page(page);
    return ERR_PTR<struct page>(-EINVAL);
  }

  *vmap = vma;
  return page;
}

// mm/memory.c: the loop behind access_remote_vm. Transfers what it can and stops at the
// first page it cannot have (no VMA even after growing a stack, a VMA GUP refuses such as
// VM_IO|VM_PFNMAP with no ->access, a fault that fails); returns the bytes done.
static int __access_remote_vm(mm_struct* mm, unsigned long addr, void* buf, int len,
                              unsigned int gup_flags) {
  trace_call tc("__access_remote_vm", "addr=%#lx len=%d gup_flags=%#x", addr, len, gup_flags);
  uint8_t* old_buf = static_cast<uint8_t*>(buf);
  uint8_t* cur = old_buf;
  int write = gup_flags & FOLL_WRITE;

  if (mmap_read_lock_killable(mm)) return tc.ret(0);

  // untagged_addr_remote(): the identity (no LAM).

  // Avoid triggering the temporary warning in __get_user_pages.
  if (!vma_lookup(mm, addr) && !expand_stack(mm, addr)) return tc.ret(0);

  // Ignore errors, just check how much was successfully transferred.
  while (len) {
    int bytes, offset;
    uint8_t* maddr;
    vm_area_struct* vma = nullptr;
    page* page = get_user_page_vma_remote(mm, addr, static_cast<int>(gup_flags), &vma);

    if (IS_ERR(page)) {
      // We might need to expand the stack to access it.
      vma = vma_lookup(mm, addr);
      if (!vma) {
        vma = expand_stack(mm, addr);

        // mmap_lock was dropped on failure.
        if (!vma) return tc.ret(static_cast<int>(cur - old_buf));

        // Try again if stack expansion worked.
        continue;
      }

      // A VM_IO | VM_PFNMAP VMA could be reached through vm_ops->access
      // (CONFIG_HAVE_IOREMAP_PROT: generic_access_phys); no VMA here has one.
      bytes = 0;
      if (bytes <= 0) break;
    } else {
      bytes = len;
      offset = static_cast<int>(addr & (PAGE_SIZE - 1));
      if (bytes > static_cast<int>(PAGE_SIZE) - offset) bytes = static_cast<int>(PAGE_SIZE) - offset;

      maddr = static_cast<uint8_t*>(page_address(page));  // kmap_local_page
      if (write) {
        // copy_to_user_page: a plain copy on x86 (no cache aliasing to fix).
        std::memcpy(maddr + offset, cur, static_cast<size_t>(bytes));
        folio_mark_dirty(page_folio(page));  // set_page_dirty_lock
      } else {
        // copy_from_user_page.
        std::memcpy(cur, maddr + offset, static_cast<size_t>(bytes));
      }
      put_page(page);  // unmap_and_put_page
    }
    len -= bytes;
    cur += bytes;
    addr += static_cast<unsigned long>(bytes);
  }
  mmap_read_unlock(mm);

  return tc.ret(static_cast<int>(cur - old_buf));
}

// mm/memory.c: access another process' address space as given in mm. The caller holds
// a reference on mm (mmget / mm_access). Returns the bytes transferred.
int access_remote_vm(mm_struct* mm, unsigned long addr, void* buf, int len,
                     unsigned int gup_flags) {
  return __access_remote_vm(mm, addr, buf, len, gup_flags);
}

}  // namespace kernel
