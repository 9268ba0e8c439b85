// mm/page_ref.h: the page reference count (include/linux/page_ref.h, mm.h get/put) at
// Linux 6.18.
//
// Every change of _refcount goes through these helpers so that one place can trace it.
// put_page()/folio_put() free the page to the buddy allocator when the count drops to zero
// (__folio_put in mm/page_alloc.cc).
#ifndef MMSIM_MM_PAGE_REF_H_
#define MMSIM_MM_PAGE_REF_H_

#include "mm/mm_types.h"

namespace kernel {

inline int page_ref_count(const page* p) { return atomic_read(&p->_refcount); }
inline int folio_ref_count(const folio* f) { return page_ref_count(f); }
inline void set_page_count(page* p, int v) { atomic_set(&p->_refcount, v); }
inline void init_page_count(page* p) { set_page_count(p, 1); }
inline void page_ref_add(page* p, int nr) { atomic_add(nr, &p->_refcount); }
inline void page_ref_sub(page* p, int nr) { atomic_sub(nr, &p->_refcount); }
inline void page_ref_inc(page* p) { atomic_inc(&p->_refcount); }
inline void page_ref_dec(page* p) { atomic_dec(&p->_refcount); }
inline int page_ref_sub_and_test(page* p, int nr) { return atomic_sub_return(nr, &p->_refcount) == 0; }
inline int page_ref_dec_and_test(page* p) { return atomic_dec_return(&p->_refcount) == 0; }
inline void folio_ref_add(folio* f, int nr) { page_ref_add(f, nr); }
inline void folio_ref_inc(folio* f) { page_ref_inc(f); }
inline void folio_ref_sub(folio* f, int nr) { page_ref_sub(f, nr); }
inline int folio_ref_sub_and_test(folio* f, int nr) { return page_ref_sub_and_test(f, nr); }
inline int folio_put_testzero(folio* f) {
  VM_BUG_ON(folio_ref_count(f) == 0);
  return page_ref_dec_and_test(f);
}

void __folio_put(folio* f);  // mm/page_alloc.cc: the last reference is gone; free the page

inline void folio_get(folio* f) {
  VM_BUG_ON(folio_ref_count(f) <= 0);
  folio_ref_inc(f);
}
inline void get_page(page* p) { folio_get(page_folio(p)); }
inline void folio_put(folio* f) {
  if (folio_put_testzero(f)) __folio_put(f);
}
inline void folio_put_refs(folio* f, int refs) {
  if (folio_ref_sub_and_test(f, refs)) __folio_put(f);
}
inline void put_page(page* p) { folio_put(page_folio(p)); }

// include/linux/page_ref.h: folio_ref_freeze. Only when exactly `count` references are
// held, drop them all to 0 at once: folio_try_get fails until folio_ref_unfreeze.
inline bool folio_ref_freeze(folio* f, int count) {
  if (page_ref_count(f) != count) return false;
  set_page_count(f, 0);
  return true;
}
inline void folio_ref_unfreeze(folio* f, int count) {
  VM_BUG_ON(folio_ref_count(f) != 0);
  set_page_count(f, count);
}
// include/linux/page_ref.h: folio_try_get. A reference unless the folio is being freed
// (or is frozen).
inline bool folio_try_get(folio* f) { return atomic_inc_not_zero(&f->_refcount); }

}  // namespace kernel

#endif  // MMSIM_MM_PAGE_REF_H_
