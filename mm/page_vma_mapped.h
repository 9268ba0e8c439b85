// mm/page_vma_mapped.h: page_vma_mapped_walk, finding the page-table entries that map a
// range of pfns (a folio) inside one VMA (include/linux/rmap.h, Linux 6.18).
#ifndef MMSIM_MM_PAGE_VMA_MAPPED_H_
#define MMSIM_MM_PAGE_VMA_MAPPED_H_

#include "mm/mm.h"

namespace kernel {

// include/linux/rmap.h: the walk's flags.
inline constexpr unsigned int PVMW_SYNC = 1u << 0;       // look at every PTE under its lock
// DEVIATION(page_vma_mapped): there are no migration entries, so a PVMW_MIGRATION walk
// finds nothing; the flag is here so callers read as Linux's do.
inline constexpr unsigned int PVMW_MIGRATION = 1u << 1;  // look for migration entries
inline constexpr unsigned int PVMW_PGTABLE_CROSSED = 1u << 16;  // set: left a PTE table

// include/linux/rmap.h: struct page_vma_mapped_walk. The caller fills pfn, nr_pages,
// pgoff, vma, address and flags (folio_vma_walk does); pmd, pte and ptl start null. After
// each true return, pmd (and pte, unless a PMD leaf maps the range) point at the entry
// found at `address`, with ptl held.
struct page_vma_mapped_walk {
  unsigned long pfn;
  unsigned long nr_pages;
  pgoff_t pgoff;
  vm_area_struct* vma;
  unsigned long address;
  pmd_t* pmd;
  pte_t* pte;
  spinlock_t* ptl;
  unsigned int flags;
};

// include/linux/rmap.h: DEFINE_FOLIO_VMA_WALK. A walk over folio f's pages in vma,
// starting at `address` (where its first page is, or vm_start if the folio begins
// before the VMA).
inline struct page_vma_mapped_walk folio_vma_walk(folio* f, vm_area_struct* vma,
                                                  unsigned long address, unsigned int flags) {
  struct page_vma_mapped_walk pvmw = {
      folio_pfn(f), static_cast<unsigned long>(folio_nr_pages(f)), f->index, vma, address,
      nullptr,      nullptr,                                        nullptr,  flags};
  return pvmw;
}

// mm/page_vma_mapped.c: the next entry of the walk that maps one of its pfns: true with
// pvmw->ptl held, or false (nothing more in this VMA; everything released).
bool page_vma_mapped_walk(struct page_vma_mapped_walk* pvmw);

// include/linux/rmap.h: page_vma_mapped_walk_done. Stop a walk before it returned false.
inline void page_vma_mapped_walk_done(struct page_vma_mapped_walk* pvmw) {
  if (pvmw->pte) pte_unmap(pvmw->pte);
  if (pvmw->ptl) spin_unlock(pvmw->ptl);
}

// include/linux/rmap.h: page_vma_mapped_walk_restart. Walk again from the current
// address (after the caller changed the page table there, e.g. split a PMD leaf).
inline void page_vma_mapped_walk_restart(struct page_vma_mapped_walk* pvmw) {
  WARN_ON_ONCE(!pvmw->pmd && !pvmw->pte);
  if (likely(pvmw->ptl))
    spin_unlock(pvmw->ptl);
  else
    WARN_ON_ONCE(1);
  pvmw->ptl = nullptr;
  pvmw->pmd = nullptr;
  pvmw->pte = nullptr;
}

}  // namespace kernel

#endif  // MMSIM_MM_PAGE_VMA_MAPPED_H_
