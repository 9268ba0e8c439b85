// mm/pagewalk.cc: read-only page-table lookups.
// Port of mm_find_pmd (mm/rmap.c) and a lock-free follow_pte (mm/memory.c), Linux 6.18.
//
// Deviations (grep "DEVIATION(pagewalk)"):
//  - mm_find_pte has no Linux counterpart by that name: it is follow_pte by mm instead of
//    VMA, without taking the pte lock, for inspection only.
#include "mm/pagewalk.h"

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

}  // namespace kernel
