// mm/pagewalk.cc: read-only page-table lookups.
// Port of mm_find_pmd (mm/rmap.c), a lock-free follow_pte (mm/memory.c) and of
// walk_page_range / walk_page_range_vma (mm/pagewalk.c), Linux 6.18.
//
// Deviations (grep "DEVIATION(pagewalk)"):
//  - mm_find_pte has no Linux counterpart by that name: it is follow_pte by mm instead of
//    VMA, without taking the pte lock, for inspection only.
//  - The callback walk knows pmd_entry only (see mm/pagewalk.h) and walks no huge pmds.
#include "mm/pagewalk.h"

#include <algorithm>

namespace kernel {

// mm/rmap.c
pmd_t* mm_find_pmd(mm_struct* mm, unsigned long address) {
  pgd_t* pgd = pgd_offset(mm, address);
  p4d_t* p4d = p4d_offset(pgd, address);
  if (!p4d_present(*p4d)) return nullptr;
  pud_t* pud = pud_offset(p4d, address);
  if (!pud_present(*pud) || pud_leaf(*pud)) return nullptr;
  return pmd_offset(pud, address);
}

// mm/memory.c: follow_pte. DEVIATION(pagewalk): see the file comment.
pte_t* mm_find_pte(mm_struct* mm, unsigned long address) {
  pmd_t* pmd = mm_find_pmd(mm, address);
  if (pmd == nullptr) return nullptr;
  return pte_offset_map(pmd, address);
}

// mm/pagewalk.c: walk_pmd_range .. walk_pgd_range folded into one loop: each pmd slot of
// [start, end) that holds a table goes to ops->pmd_entry.
static int walk_pgd_range(unsigned long addr, unsigned long end, mm_walk* walk) {
  int err = 0;
  unsigned long next;
  for (; addr < end; addr = next) {
    next = pmd_addr_end(addr, end);
    pmd_t* pmd = mm_find_pmd(walk->mm, addr);
    if (pmd == nullptr || pmd_none(*pmd)) continue;
    err = walk->ops->pmd_entry(pmd, addr, next, walk);
    if (err) break;
  }
  return err;
}

// mm/pagewalk.c
int walk_page_range_vma(vm_area_struct* vma, unsigned long start, unsigned long end,
                        const mm_walk_ops* ops, void* priv) {
  mm_walk walk{ops, vma->vm_mm, vma, priv};
  if (start < vma->vm_start || end > vma->vm_end) return -EINVAL;
  mmap_assert_locked(walk.mm);
  return walk_pgd_range(start, end, &walk);
}

// mm/pagewalk.c
int walk_page_range(mm_struct* mm, unsigned long start, unsigned long end,
                    const mm_walk_ops* ops, void* priv) {
  if (start >= end) return -EINVAL;
  mmap_assert_locked(mm);
  int err = 0;
  vm_area_struct* vma = find_vma(mm, start);
  while (vma != nullptr && vma->vm_start < end) {
    unsigned long s = std::max(start, vma->vm_start);
    unsigned long e = std::min(end, vma->vm_end);
    err = walk_page_range_vma(vma, s, e, ops, priv);
    if (err) break;
    vma = find_vma(mm, vma->vm_end);
  }
  return err;
}

}  // namespace kernel
