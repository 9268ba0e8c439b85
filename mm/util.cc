// mm/util.cc: vm_mmap_pgoff, the mmap entry below the syscall, and folio_pte_batch.
// Port of mm/util.c at Linux 6.18.
#include <algorithm>

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

// mm/util.c: folio_pte_batch (folio_pte_batch_flags with no FPB_* flags). How many PTEs
// from ptep (pte is *ptep, at most max_nr, never past the folio's last page) map
// consecutive pages of f with the same bits, the dirty, accessed, writable and
// soft-dirty bits aside.
unsigned int folio_pte_batch(folio* f, pte_t* ptep, pte_t pte, unsigned int max_nr) {
  const unsigned long folio_end_pfn = folio_pfn(f) + folio_nr_pages(f);
  max_nr = static_cast<unsigned int>(
      std::min<unsigned long>(max_nr, folio_end_pfn - pte_pfn(pte)));
  // __pte_batch_clear_ignored
  auto ignored = [](pte_t e) { return pte_mkold(pte_wrprotect(pte_mkclean(e))); };
  const pteval_t expected = pte_val(ignored(pte));
  unsigned int nr = 1;
  for (; nr < max_nr; nr++) {
    const pte_t e = ptep_get(ptep + nr);
    if (!pte_present(e)) break;
    if (pte_val(ignored(e)) != expected + (static_cast<pteval_t>(nr) << PAGE_SHIFT)) break;
  }
  return nr;
}

}  // namespace kernel
