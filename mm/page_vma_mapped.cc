// mm/page_vma_mapped.cc: page_vma_mapped_walk, the rmap walks' way from a folio and a VMA
// to the page-table entries that map it.
//
// Port of mm/page_vma_mapped.c at Linux 6.18: not_found, map_pte, check_pte, check_pmd,
// step_forward, page_vma_mapped_walk, with vma_address_end of mm/internal.h.
//
// Deviations (grep "DEVIATION(page_vma_mapped)"):
//  - No hugetlb, no device-private or device-exclusive entries, no migration entries
//    (pte or pmd): a non-present entry never maps a page here, so PVMW_MIGRATION walks
//    find nothing.
//  - The pmd and PTE locks are one lock (mm->page_table_lock: no split page-table locks),
//    and pte_offset_map_rw_nolock is pte_offset_map with the PTE lock pointer beside it.
#include "mm/page_vma_mapped.h"

#include <climits>

#include "mm/huge_mm.h"

namespace kernel {

namespace {

// mm/internal.h: vma_address_end. Where the walk's pfns end in the VMA (or vm_end).
unsigned long vma_address_end(const struct page_vma_mapped_walk* pvmw) {
  const vm_area_struct* vma = pvmw->vma;
  if (pvmw->nr_pages == 1) return pvmw->address + PAGE_SIZE;
  const pgoff_t pgoff = pvmw->pgoff + pvmw->nr_pages;
  unsigned long address = vma->vm_start + ((pgoff - vma->vm_pgoff) << PAGE_SHIFT);
  // Beyond the VMA (or wrapped through 0)?
  if (address < vma->vm_start || address > vma->vm_end) address = vma->vm_end;
  return address;
}

// mm/page_vma_mapped.c
bool not_found(struct page_vma_mapped_walk* pvmw) {
  page_vma_mapped_walk_done(pvmw);
  return false;
}

// mm/page_vma_mapped.c: map_pte. Map the PTE at pvmw->address; with PVMW_SYNC lock it
// at once, else only when it is present (an empty or swap PTE cannot map the folio, and
// the walk moves on without the lock). *ptlp gets the table's lock either way.
bool map_pte(struct page_vma_mapped_walk* pvmw, pmd_t* pmdvalp, spinlock_t** ptlp) {
  mm_struct* mm = pvmw->vma->vm_mm;
  if (pvmw->flags & PVMW_SYNC) {
    // Use the stricter lookup.
    pvmw->pte = pte_offset_map_lock(mm, pvmw->pmd, pvmw->address, &pvmw->ptl);
    *ptlp = pvmw->ptl;
    return pvmw->pte != nullptr;
  }
  for (;;) {
    // pte_offset_map_rw_nolock: the table, the pmd it was read from, and its lock.
    *pmdvalp = pmdp_get(pvmw->pmd);
    pvmw->pte = pte_offset_map(pvmw->pmd, pvmw->address);
    if (pvmw->pte == nullptr) return false;
    *ptlp = pte_lockptr(mm, pvmw->pmd);
    const pte_t ptent = ptep_get(pvmw->pte);
    // DEVIATION(page_vma_mapped): every non-present entry is a swap entry (no migration
    // or device entries), which maps nothing.
    if (pvmw->flags & PVMW_MIGRATION) return false;
    if (!pte_present(ptent)) return false;
    spin_lock(*ptlp);
    if (unlikely(!pmd_same(*pmdvalp, pmdp_get(pvmw->pmd)))) {
      pte_unmap_unlock(pvmw->pte, *ptlp);
      continue;  // the table changed under us: again
    }
    pvmw->ptl = *ptlp;
    return true;
  }
}

// mm/page_vma_mapped.c: check_pte. Does the PTE at pvmw->pte (covering pte_nr pages)
// map one of [pvmw->pfn, pvmw->pfn + nr_pages)?
bool check_pte(const struct page_vma_mapped_walk* pvmw, unsigned long pte_nr) {
  const pte_t ptent = ptep_get(pvmw->pte);
  // DEVIATION(page_vma_mapped): no migration entries to match for PVMW_MIGRATION.
  if (pvmw->flags & PVMW_MIGRATION) return false;
  if (!pte_present(ptent)) return false;
  const unsigned long pfn = pte_pfn(ptent);
  if ((pfn + pte_nr - 1) < pvmw->pfn) return false;
  if (pfn > (pvmw->pfn + pvmw->nr_pages - 1)) return false;
  return true;
}

// mm/page_vma_mapped.c: check_pmd. Do the PMD leaf's pfns overlap the walk's? (Careful
// not to overflow.)
bool check_pmd(unsigned long pfn, const struct page_vma_mapped_walk* pvmw) {
  if ((pfn + HPAGE_PMD_NR - 1) < pvmw->pfn) return false;
  if (pfn > pvmw->pfn + pvmw->nr_pages - 1) return false;
  return true;
}

// mm/page_vma_mapped.c
void step_forward(struct page_vma_mapped_walk* pvmw, unsigned long size) {
  pvmw->address = (pvmw->address + size) & ~(size - 1);
  if (!pvmw->address) pvmw->address = ULONG_MAX;
}

}  // namespace

// mm/page_vma_mapped.c: page_vma_mapped_walk. From pvmw->address on (or past the last
// entry returned), the next PMD leaf or PTE in the VMA that maps one of the walk's pfns.
// A PMD leaf is the only mapping there can be, so the call after it ends the walk; a
// PTE-mapped large folio is returned one PTE at a time, the lock kept while the walk
// stays in one PTE table (PVMW_PGTABLE_CROSSED once it left one).
bool page_vma_mapped_walk(struct page_vma_mapped_walk* pvmw) {
  vm_area_struct* vma = pvmw->vma;
  mm_struct* mm = vma->vm_mm;
  spinlock_t* ptl = nullptr;
  pmd_t pmde = __pmd(0);

  // The only possible pmd mapping has been handled on last iteration.
  if (pvmw->pmd && !pvmw->pte) return not_found(pvmw);

  const unsigned long end = vma_address_end(pvmw);
  if (pvmw->pte) goto next_pte;
restart:
  do {
    {
      pgd_t* pgd = pgd_offset(mm, pvmw->address);
      p4d_t* p4d = p4d_offset(pgd, pvmw->address);  // the pgd slot (folded p4d)
      if (!p4d_present(*p4d)) {
        step_forward(pvmw, PGDIR_SIZE);
        continue;
      }
      pud_t* pud = pud_offset(p4d, pvmw->address);
      if (!pud_present(*pud)) {
        step_forward(pvmw, PUD_SIZE);
        continue;
      }
      pvmw->pmd = pmd_offset(pud, pvmw->address);
    }
    // Read the pmd once: it may change under us until its lock is held.
    pmde = pmdp_get(pvmw->pmd);
    if (pmd_trans_huge(pmde)) {
      pvmw->ptl = pmd_lock(mm, pvmw->pmd);
      pmde = *pvmw->pmd;
      if (likely(pmd_trans_huge(pmde))) {
        if (pvmw->flags & PVMW_MIGRATION) return not_found(pvmw);
        if (!check_pmd(pmd_pfn(pmde), pvmw)) return not_found(pvmw);
        return true;
      }
      // THP pmd was split under us: handle on pte level.
      spin_unlock(pvmw->ptl);
      pvmw->ptl = nullptr;
    } else if (!pmd_present(pmde)) {
      // With PVMW_SYNC, take and drop the pmd lock so the walk cannot end early while
      // zap_huge_pmd has cleared the pmd but not yet taken the folio's mapcount down.
      if ((pvmw->flags & PVMW_SYNC) && thp_vma_suitable_order(vma, pvmw->address, PMD_ORDER) &&
          pvmw->nr_pages >= static_cast<unsigned long>(HPAGE_PMD_NR)) {
        spinlock_t* pmd_ptl = pmd_lock(mm, pvmw->pmd);
        spin_unlock(pmd_ptl);
      }
      step_forward(pvmw, PMD_SIZE);
      continue;
    }
    if (!map_pte(pvmw, &pmde, &ptl)) {
      if (!pvmw->pte) goto restart;
      goto next_pte;
    }
  this_pte:
    if (check_pte(pvmw, 1)) return true;
  next_pte:
    do {
      pvmw->address += PAGE_SIZE;
      if (pvmw->address >= end) return not_found(pvmw);
      // Did we cross page table boundary?
      if ((pvmw->address & (PMD_SIZE - PAGE_SIZE)) == 0) {
        if (pvmw->ptl) {
          spin_unlock(pvmw->ptl);
          pvmw->ptl = nullptr;
        }
        pte_unmap(pvmw->pte);
        pvmw->pte = nullptr;
        pvmw->flags |= PVMW_PGTABLE_CROSSED;
        goto restart;
      }
      pvmw->pte++;
    } while (pte_none(ptep_get(pvmw->pte)));

    if (!pvmw->ptl) {
      // The lock map_pte left untaken (it saw a non-present PTE before this one).
      if (ptl == nullptr) ptl = pte_lockptr(mm, pvmw->pmd);
      spin_lock(ptl);
      if (unlikely(!pmd_same(pmde, pmdp_get(pvmw->pmd)))) {
        pte_unmap_unlock(pvmw->pte, ptl);
        pvmw->pte = nullptr;
        goto restart;
      }
      pvmw->ptl = ptl;
    }
    goto this_pte;
  } while (pvmw->address < end);

  return false;
}

}  // namespace kernel
