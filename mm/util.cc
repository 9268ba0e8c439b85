// mm/util.cc: vm_mmap_pgoff, the mmap entry below the syscall, and folio_pte_batch.
// Port of mm/util.c at Linux 6.18.
#include <algorithm>

#include "mm/huge_mm.h"
#include "mm/mm.h"
#include "mm/trace.h"

namespace kernel {

// mm/util.c: take mmap_lock, map, drop it, then populate if MAP_POPULATE asked for it.
unsigned long vm_mmap_pgoff(file* file, unsigned long addr, unsigned long len,
                            unsigned long prot, unsigned long flag, unsigned long pgoff) {
  trace_call tc("vm_mmap_pgoff", "addr=%#lx len=%#lx prot=%#lx flags=%#lx", addr, len, prot, flag);
  mm_struct* mm = current()->mm;
  unsigned long populate;
  if (mmap_write_lock_killable(mm)) return tc.ret(static_cast<unsigned long>(-EINTR));
  unsigned long ret = do_mmap(file, addr, len, prot, flag, 0, pgoff, &populate);
  mmap_write_unlock(mm);
  if (populate && !IS_ERR_VALUE(ret)) mm_populate(ret, populate);
  return tc.ret(ret);
}

// mm/internal.h: __pte_batch_clear_ignored. The bits a batch may differ in, cleared.
static inline pte_t __pte_batch_clear_ignored(pte_t pte, fpb_t flags) {
  if (!(flags & FPB_RESPECT_DIRTY)) pte = pte_mkclean(pte);
  if (likely(!(flags & FPB_RESPECT_SOFT_DIRTY))) pte = pte_clear_flags(pte, _PAGE_SOFT_DIRTY);
  if (likely(!(flags & FPB_RESPECT_WRITE))) pte = pte_wrprotect(pte);
  return pte_mkold(pte);
}

// mm/internal.h: folio_pte_batch_flags (Linux 6.18). How many PTEs from ptep (at most
// max_nr, never past the folio's last page) map consecutive pages of `f` with the same
// bits but those `flags` ignore; *ptentp (a copy, not the table's entry) gains the
// write/young/dirty bits of the batch as FPB_MERGE_* ask. x86 has no contiguous-PTE
// hint (pte_batch_hint is 1).
unsigned int folio_pte_batch_flags(folio* f, vm_area_struct* vma, pte_t* ptep,
                                          pte_t* ptentp, unsigned int max_nr, fpb_t flags) {
  bool any_writable = false, any_young = false, any_dirty = false;
  pte_t pte = *ptentp;
  VM_WARN_ON_ONCE(!pte_present(pte));
  VM_WARN_ON_ONCE(!folio_test_large(f) || max_nr < 1);
  max_nr = std::min<unsigned long>(max_nr, folio_pfn(f) + folio_nr_pages(f) - pte_pfn(pte));
  unsigned int nr = 1;
  pte_t expected_pte = __pte_batch_clear_ignored(pte_advance_pfn(pte, nr), flags);
  ptep = ptep + nr;
  while (nr < max_nr) {
    pte = ptep_get(ptep);
    if (!pte_same(__pte_batch_clear_ignored(pte, flags), expected_pte)) break;
    if (flags & FPB_MERGE_WRITE) any_writable |= pte_write(pte);
    if (flags & FPB_MERGE_YOUNG_DIRTY) {
      any_young |= pte_young(pte);
      any_dirty |= pte_dirty(pte);
    }
    expected_pte = pte_advance_pfn(expected_pte, 1);
    ptep++;
    nr++;
  }
  if (any_writable) *ptentp = pte_mkwrite(*ptentp, vma);
  if (any_young) *ptentp = pte_mkyoung(*ptentp);
  if (any_dirty) *ptentp = pte_mkdirty(*ptentp);
  return std::min(nr, max_nr);
}

// mm/util.c: folio_pte_batch (no flags: only the pfns and the bits that matter).
unsigned int folio_pte_batch(folio* f, pte_t* ptep, pte_t pte, unsigned int max_nr) {
  return folio_pte_batch_flags(f, nullptr, ptep, &pte, max_nr, 0);
}

}  // namespace kernel
