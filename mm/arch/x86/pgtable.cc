// mm/arch/x86/pgtable.cc: page-table page allocation and a few entry updates.
// Port of arch/x86/mm/pgtable.c, include/linux/mm.h (pagetable_alloc, pagetable_pte_ctor,
// pagetable_dtor) and mm/pgtable-generic.c at Linux 6.18. Deviations: see pgtable.h.
#include "mm/arch/x86/pgtable.h"

#include "mm/arch/x86/init.h"
#include "mm/arch/x86/tlb.h"
#include "mm/mm.h"

namespace kernel {
namespace {

// include/linux/mm.h: pagetable_alloc + the level's ctor. Null on failure.
page* pagetable_alloc_level(mm_struct* mm, unsigned long level) {
  page* p = alloc_page(GFP_PGTABLE_USER);
  if (p == nullptr) return nullptr;
  __SetPageTable(p);
  p->pt_mm = mm;
  p->pt_level = level;
  mod_node_page_state(NR_PAGETABLE, 1);
  return p;
}

}  // namespace

// include/linux/mm.h: pagetable_dtor.
void pagetable_dtor(page* pt_page) {
  __ClearPageTable(pt_page);
  pt_page->pt_mm = nullptr;
  pt_page->pt_level = 0;
  pt_page->_pt_pad_1 = 0;
  pt_page->_pt_pad_2 = 0;
  pt_page->_pt_pad_3 = 0;
  mod_node_page_state(NR_PAGETABLE, -1);
}

// arch/x86/mm/pgtable.c: pgd_ctor. With 4-level paging the kernel half is shared below
// the pgd: copying swapper_pg_dir's top-level entries shares every lower table. DEVIATION
// (pgtable): no pgd_list (pgd_list_add) and so no pgd_lock: the kernel half never changes
// after boot here, so nothing (sync_global_pgds) needs to find every pgd.
void pgd_ctor(mm_struct* /*mm*/, pgd_t* pgd) {
  clone_pgd_range(pgd + KERNEL_PGD_BOUNDARY, kst().init_mm.pgd + KERNEL_PGD_BOUNDARY,
                  KERNEL_PGD_PTRS);
}

// arch/x86/mm/pgtable.c
pgd_t* pgd_alloc(mm_struct* mm) {
  page* p = pagetable_alloc_level(mm, 4);
  if (p == nullptr) return nullptr;
  pgd_t* pgd = static_cast<pgd_t*>(page_address(p));
  pgd_ctor(mm, pgd);  // under pgd_lock in Linux, which guards only pgd_list
  return pgd;
}

// arch/x86/mm/pgtable.c: the shared kernel-half tables belong to swapper_pg_dir; only the
// pgd page itself goes (pgd_dtor has no pgd_list to leave, see pgd_ctor).
void pgd_free(mm_struct* /*mm*/, pgd_t* pgd) {
  page* p = virt_to_page(pgd);
  pagetable_dtor(p);
  __free_page(p);
}

// arch/x86/mm/pgtable.c (pte_alloc_one -> __pte_alloc_one)
page* pte_alloc_one(mm_struct* mm) { return pagetable_alloc_level(mm, 1); }

// include/asm-generic/pgalloc.h
void pte_free(mm_struct* /*mm*/, page* pte_page) {
  pagetable_dtor(pte_page);
  __free_page(pte_page);
}

// include/asm-generic/pgalloc.h
pmd_t* pmd_alloc_one(mm_struct* mm, unsigned long /*addr*/) {
  page* p = pagetable_alloc_level(mm, 2);
  return p ? static_cast<pmd_t*>(page_address(p)) : nullptr;
}

// include/asm-generic/pgalloc.h
void pmd_free(mm_struct* /*mm*/, pmd_t* pmd) {
  page* p = virt_to_page(pmd);
  pagetable_dtor(p);
  __free_page(p);
}

// include/asm-generic/pgalloc.h
pud_t* pud_alloc_one(mm_struct* mm, unsigned long /*addr*/) {
  page* p = pagetable_alloc_level(mm, 3);
  return p ? static_cast<pud_t*>(page_address(p)) : nullptr;
}

// include/asm-generic/pgalloc.h
void pud_free(mm_struct* /*mm*/, pud_t* pud) {
  page* p = virt_to_page(pud);
  pagetable_dtor(p);
  __free_page(p);
}

// arch/x86/mm/pgtable.c
int ptep_set_access_flags(vm_area_struct* /*vma*/, unsigned long /*address*/, pte_t* ptep,
                          pte_t entry, int dirty) {
  int changed = !pte_same(ptep_get(ptep), entry);
  if (changed && dirty) set_pte(ptep, entry);
  return changed;
}

// mm/pgtable-generic.c
pte_t ptep_clear_flush(vm_area_struct* vma, unsigned long address, pte_t* ptep) {
  mm_struct* mm = vma->vm_mm;
  pte_t pte = ptep_get_and_clear(mm, address, ptep);
  if (pte_accessible(mm, pte)) flush_tlb_page(vma, address);
  return pte;
}

// mm/pgtable-generic.c (see the DEVIATION in pgtable.h)
bool ptep_clear_flush_young(vm_area_struct* vma, unsigned long address, pte_t* ptep) {
  const bool young = ptep_test_and_clear_young(vma, address, ptep);
  if (young) flush_tlb_page(vma, address);
  return young;
}

// mm/pgtable-generic.c (x86: pmdp_establish of the entry without _PAGE_PRESENT)
pmd_t pmdp_invalidate(vm_area_struct* vma, unsigned long address, pmd_t* pmdp) {
  pmd_t old = *pmdp;
  set_pmd(pmdp, __pmd(pmd_val(old) & ~_PAGE_PRESENT));
  flush_pmd_tlb_range(vma, address & PMD_MASK, (address & PMD_MASK) + PMD_SIZE);
  return old;
}

// mm/pgtable-generic.c
pmd_t pmdp_huge_clear_flush(vm_area_struct* vma, unsigned long address, pmd_t* pmdp) {
  pmd_t pmd = pmdp_huge_get_and_clear(vma->vm_mm, address, pmdp);
  flush_pmd_tlb_range(vma, address & PMD_MASK, (address & PMD_MASK) + PMD_SIZE);
  return pmd;
}

}  // namespace kernel
