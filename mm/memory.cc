// mm/memory.cc: page tables, page faults and unmapping.
//
// Port of mm/memory.c at Linux 6.12: __pte_alloc / __pmd_alloc / __pud_alloc (pmd_install),
// vm_normal_page, the zap path (zap_pte_range .. unmap_vmas, zap_page_range_single), the
// page-table teardown (free_pgtables, free_pgd_range), and the anonymous fault path
// (handle_mm_fault -> __handle_mm_fault -> handle_pte_fault -> do_anonymous_page /
// do_wp_page -> wp_page_reuse / wp_page_copy).
//
// Every PTE change here owes the TLB what Linux owes it: a new entry over a non-present
// one needs no flush (the CPU cached nothing for it; a #PF drops the page's entries); an
// entry whose frame changes is cleared and flushed before the new one is set
// (ptep_clear_flush in wp_page_copy); relaxing A/D/RW needs none (spurious faults fix
// themselves); zapped entries are flushed through the mmu_gather before their pages go.
//
// Deviations (grep "DEVIATION(memory)"):
//  - File-backed faults (do_fault) are a stub that returns VM_FAULT_SIGBUS: file mappings
//    arrive later. Swap entries do not exist (no swap): a non-present, non-none PTE is a bug.
//  - No THP/hugetlb (pmd and pud leaves are never created), no userfaultfd, no NUMA hinting
//    faults, no mmu notifiers, no memcg charging, no LRU.
//  - fail_pgtable and fail_fault are fault points this port adds (mm/fault_inject.h).
#include <algorithm>
#include <cstring>

#include "mm/fault_inject.h"
#include "mm/mm.h"
#include "mm/trace.h"

namespace kernel {

// ---- page-table allocation ----

// mm/memory.c: pmd_install.
static void pmd_install(mm_struct* mm, pmd_t* pmd, page** pte) {
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
  if (should_fail_point("fail_pgtable")) return -ENOMEM;
  page* new_page = pte_alloc_one(mm);
  if (new_page == nullptr) return -ENOMEM;
  pmd_install(mm, pmd, &new_page);
  if (new_page != nullptr) pte_free(mm, new_page);
  return 0;
}

// mm/memory.c
int __pmd_alloc(mm_struct* mm, pud_t* pud, unsigned long address) {
  if (should_fail_point("fail_pgtable")) return -ENOMEM;
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
  if (should_fail_point("fail_pgtable")) return -ENOMEM;
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

// mm/memory.c: zap_pte_range. Returns where it stopped (end, or earlier when the gather
// batch filled up and was flushed).
static unsigned long zap_pte_range(mmu_gather* tlb, vm_area_struct* vma, pmd_t* pmd,
                                   unsigned long addr, unsigned long end) {
  mm_struct* mm = tlb->mm;
  long rss[NR_MM_COUNTERS] = {};
  bool force_flush = false;
  spinlock_t* ptl;
  pte_t* start_pte = pte_offset_map_lock(mm, pmd, addr, &ptl);
  if (start_pte == nullptr) return addr;
  pte_t* pte = start_pte;
  do {
    pte_t ptent = ptep_get(pte);
    if (pte_none(ptent)) continue;
    if (pte_present(ptent)) {
      page* p = vm_normal_page(vma, addr, ptent);
      ptent = ptep_get_and_clear(mm, addr, pte);
      tlb_remove_tlb_entry(tlb, pte, addr);
      if (p == nullptr) continue;  // the zero page or a raw PFN: nothing to release
      folio* f = page_folio(p);
      if (!folio_test_anon(f)) {
        if (pte_dirty(ptent)) folio_set_dirty(f);
        if (pte_young(ptent)) folio_set_referenced(f);
      }
      rss[mm_counter(f)]--;
      folio_remove_rmap_pte(f, p, vma);
      if (unlikely(__tlb_remove_page(tlb, p, false))) {
        force_flush = true;
        addr += PAGE_SIZE;
        break;
      }
      continue;
    }
    // DEVIATION(memory): no swap or migration entries exist, so this is corruption.
    print_bad_pte(vma, addr, ptent);
    pte_clear(mm, addr, pte);
  } while (pte++, addr += PAGE_SIZE, addr != end);
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
                                   unsigned long addr, unsigned long end) {
  pmd_t* pmd = pmd_offset(pud, addr);
  unsigned long next;
  do {
    next = pmd_addr_end(addr, end);
    if (pmd_none(*pmd)) {
      addr = next;
      continue;
    }
    addr = zap_pte_range(tlb, vma, pmd, addr, next);
    if (addr != next) pmd--;  // the batch filled up: redo this table from addr
  } while (pmd++, addr != end);
  return addr;
}

// mm/memory.c
static unsigned long zap_pud_range(mmu_gather* tlb, vm_area_struct* vma, p4d_t* p4d,
                                   unsigned long addr, unsigned long end) {
  pud_t* pud = pud_offset(p4d, addr);
  unsigned long next;
  do {
    next = pud_addr_end(addr, end);
    if (pud_none_or_clear_bad(pud)) continue;
    next = zap_pmd_range(tlb, vma, pud, addr, next);
  } while (pud++, addr = next, addr != end);
  return addr;
}

// mm/memory.c
static unsigned long zap_p4d_range(mmu_gather* tlb, vm_area_struct* vma, pgd_t* pgd,
                                   unsigned long addr, unsigned long end) {
  p4d_t* p4d = p4d_offset(pgd, addr);
  unsigned long next;
  do {
    next = p4d_addr_end(addr, end);
    if (p4d_none_or_clear_bad(p4d)) continue;
    next = zap_pud_range(tlb, vma, p4d, addr, next);
  } while (p4d++, addr = next, addr != end);
  return addr;
}

// mm/memory.c
static void unmap_page_range(mmu_gather* tlb, vm_area_struct* vma, unsigned long addr,
                             unsigned long end) {
  BUG_ON(addr >= end);
  tlb_start_vma(tlb, vma);
  pgd_t* pgd = pgd_offset(vma->vm_mm, addr);
  unsigned long next;
  do {
    next = pgd_addr_end(addr, end);
    if (pgd_none(*pgd)) continue;
    next = zap_p4d_range(tlb, vma, pgd, addr, next);
  } while (pgd++, addr = next, addr != end);
  tlb_end_vma(tlb, vma);
}

// mm/memory.c
static void unmap_single_vma(mmu_gather* tlb, vm_area_struct* vma, unsigned long start_addr,
                             unsigned long end_addr) {
  unsigned long start = std::max(vma->vm_start, start_addr);
  if (start >= vma->vm_end) return;
  unsigned long end = std::min(vma->vm_end, end_addr);
  if (end <= vma->vm_start) return;
  if (start != end) unmap_page_range(tlb, vma, start, end);
}

// mm/memory.c
void unmap_vmas(mmu_gather* tlb, vm_area_struct* const* vmas, int nr_vmas,
                unsigned long start_addr, unsigned long end_addr) {
  trace_call tc("unmap_vmas", "start=%#lx end=%#lx nr=%d", start_addr, end_addr, nr_vmas);
  for (int i = 0; i < nr_vmas; ++i) unmap_single_vma(tlb, vmas[i], start_addr, end_addr);
}

// mm/memory.c
void zap_page_range_single(vm_area_struct* vma, unsigned long address, unsigned long size) {
  mmu_gather tlb;
  tlb_gather_mmu(&tlb, vma->vm_mm);
  unmap_single_vma(&tlb, vma, address, address + size);
  tlb_finish_mmu(&tlb);
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
// their anon_vmas are unlinked and the tables under them freed, keeping tables that
// neighbours in [floor, ceiling) still use.
void free_pgtables(mmu_gather* tlb, vm_area_struct* const* vmas, int nr_vmas,
                   unsigned long floor, unsigned long ceiling) {
  int i = 0;
  while (i < nr_vmas) {
    vm_area_struct* vma = vmas[i++];
    unsigned long addr = vma->vm_start;
    unlink_anon_vmas(vma);
    // Gather nearby VMAs into one call down.
    while (i < nr_vmas && vmas[i]->vm_start <= vma->vm_end + PMD_SIZE) {
      vma = vmas[i++];
      unlink_anon_vmas(vma);
    }
    free_pgd_range(tlb, addr, vma->vm_end, floor, i < nr_vmas ? vmas[i]->vm_start : ceiling);
  }
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

// include/linux/mm.h
static pte_t maybe_mkwrite(pte_t pte, vm_area_struct* vma) {
  if (likely(vma->vm_flags & VM_WRITE)) pte = pte_mkwrite(pte, vma);
  return pte;
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
setpte:
  set_pte_at(vma->vm_mm, addr, vmf->pte, entry);
  // No need to invalidate: the entry was not present before.
  update_mmu_cache(vma, addr, vmf->pte);
  pte_unmap_unlock(vmf->pte, vmf->ptl);
  trace_event("do_anonymous_page", "addr=%#lx %s pfn=%#lx", addr,
              f ? "new" : "zero", pte_pfn(entry));
  return 0;
}

// mm/memory.c: do_fault. DEVIATION(memory): file mappings come later.
static vm_fault_t do_fault(vm_fault* /*vmf*/) { return VM_FAULT_SIGBUS; }

// mm/memory.c
static vm_fault_t do_pte_missing(vm_fault* vmf) {
  if (vma_is_anonymous(vmf->vma)) return do_anonymous_page(vmf);
  return do_fault(vmf);
}

// mm/memory.c: wp_page_reuse. The page is ours alone: make the entry writable in place.
static void wp_page_reuse(vm_fault* vmf, folio* f) {
  vm_area_struct* vma = vmf->vma;
  VM_BUG_ON(!(vmf->flags & FAULT_FLAG_WRITE));
  VM_BUG_ON(is_zero_pfn(pte_pfn(vmf->orig_pte)));
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

// mm/rmap.c: folio_move_anon_rmap. The folio now belongs to this VMA's anon_vma.
static void folio_move_anon_rmap(folio* f, vm_area_struct* vma) {
  VM_BUG_ON(!vma->anon_vma);
  f->mapping = reinterpret_cast<address_space*>(reinterpret_cast<unsigned long>(vma->anon_vma) |
                                                PAGE_MAPPING_ANON);
}

// mm/memory.c: wp_can_reuse_anon_folio (small folios only).
static bool wp_can_reuse_anon_folio(folio* f, vm_area_struct* vma) {
  if (folio_ref_count(f) > 1) return false;
  if (!folio_trylock(f)) return false;
  if (folio_ref_count(f) != 1) {
    folio_unlock(f);
    return false;
  }
  folio_move_anon_rmap(f, vma);
  folio_unlock(f);
  return true;
}

// mm/memory.c: do_wp_page. A write (or an unshare request) hit a present, non-writable
// PTE. Called with the PTE lock held; releases it.
static vm_fault_t do_wp_page(vm_fault* vmf) {
  const bool unshare = vmf->flags & FAULT_FLAG_UNSHARE;
  vm_area_struct* vma = vmf->vma;
  folio* f = nullptr;

  vmf->page = vm_normal_page(vma, vmf->address, vmf->orig_pte);
  if (vmf->page) f = page_folio(vmf->page);

  if (vma->vm_flags & (VM_SHARED | VM_MAYSHARE)) {
    // DEVIATION(memory): shared mappings (wp_page_shared / wp_pfn_shared) need
    // ->page_mkwrite or a writable vm_page_prot; there are none yet.
    pte_unmap_unlock(vmf->pte, vmf->ptl);
    return VM_FAULT_SIGBUS;
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

  // DEVIATION(memory): no swap entries, no NUMA hinting faults.
  if (!pte_present(vmf->orig_pte)) {
    pte_unmap(vmf->pte);
    return VM_FAULT_SIGBUS;
  }

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
  return handle_pte_fault(&vmf);
}

// mm/memory.c: sanitize_fault_flags.
static vm_fault_t sanitize_fault_flags(vm_area_struct* vma, unsigned int* flags) {
  if (unlikely(*flags & FAULT_FLAG_UNSHARE)) {
    if (WARN_ON_ONCE(*flags & FAULT_FLAG_WRITE)) return VM_FAULT_SIGSEGV;
    if (WARN_ON_ONCE(!is_cow_mapping(vma->vm_flags))) return VM_FAULT_SIGSEGV;
  }
  if (*flags & FAULT_FLAG_WRITE) {
    if (WARN_ON_ONCE(!(vma->vm_flags & VM_MAYWRITE))) return VM_FAULT_SIGSEGV;
  }
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
  mmap_assert_locked(vma->vm_mm);
  if (should_fail_point("fail_fault")) {
    ret = VM_FAULT_OOM;
  } else {
    ret = sanitize_fault_flags(vma, &flags);
    if (!ret) ret = __handle_mm_fault(vma, address, flags);
  }
  mm_account_fault(ret);
  return tc.ret(ret);
}

}  // namespace kernel
