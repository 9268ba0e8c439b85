// mm/pagewalk.h: read-only page-table lookups (include/linux/pagewalk.h, mm/rmap.c's
// mm_find_pmd; Linux 6.18), for code that inspects an address space without changing it:
// rmap,
// debug checks, tests and sim/'s views.
#ifndef MMSIM_MM_PAGEWALK_H_
#define MMSIM_MM_PAGEWALK_H_

#include "mm/mm.h"

namespace kernel {

// mm/rmap.c: the pmd slot covering `address` in mm, or null when the p4d or pud level
// has no table there (or the pud is a leaf). Allocates nothing and takes no lock.
pmd_t* mm_find_pmd(mm_struct* mm, unsigned long address);

// DEVIATION(pagewalk): follow_pte (mm/memory.c) without the VMA and the page-table lock:
// the pte slot mapping `address` in mm (pte_offset_map on mm_find_pmd), or null when a
// table on the way is missing. The slot may hold pte_none. For readers that hold what
// they need (mmap_lock, or a stopped machine).
pte_t* mm_find_pte(mm_struct* mm, unsigned long address);

// ---- walking with callbacks (include/linux/pagewalk.h, mm/pagewalk.c) ----
struct mm_walk;
// DEVIATION(pagewalk): the pmd_entry callback only (no pte_entry, pte_hole, hugetlb or
// test_walk): every user here (madvise, mlock) walks PTE tables from pmd_entry.
struct mm_walk_ops {
  // Called for each pmd in range that is not none, with [addr, next) inside one VMA.
  // A non-zero return ends the walk with that value.
  int (*pmd_entry)(pmd_t* pmd, unsigned long addr, unsigned long next, mm_walk* walk);
};
struct mm_walk {
  const mm_walk_ops* ops;
  mm_struct* mm;
  vm_area_struct* vma;
  void* priv;
};
// mm/pagewalk.c: walk [start, end) of one VMA (start and end inside it). mmap_lock held.
int walk_page_range_vma(vm_area_struct* vma, unsigned long start, unsigned long end,
                        const mm_walk_ops* ops, void* priv);
// mm/pagewalk.c: walk [start, end) of mm, VMA by VMA (holes are skipped). mmap_lock held.
int walk_page_range(mm_struct* mm, unsigned long start, unsigned long end,
                    const mm_walk_ops* ops, void* priv);

}  // namespace kernel

#endif  // MMSIM_MM_PAGEWALK_H_
