// mm/page-flags.h: page->flags bits, page types, and their test/set helpers.
// Mirrors include/linux/page-flags.h (Linux 6.18), reduced.
#ifndef MMSIM_MM_PAGE_FLAGS_H_
#define MMSIM_MM_PAGE_FLAGS_H_

#include "mm/kernel.h"
#include "mm/lockdep.h"
#include "mm/mm_types.h"
#include "mm/sched_hooks.h"

namespace kernel {

enum pageflags {
  PG_locked,
  PG_writeback,
  PG_referenced,
  PG_uptodate,
  PG_dirty,
  PG_lru,
  PG_head,
  PG_waiters,
  PG_active,
  PG_workingset,
  PG_owner_priv_1,
  PG_owner_2,
  PG_arch_1,
  PG_reserved,
  PG_private,
  PG_private_2,
  PG_reclaim,
  PG_swapbacked,
  PG_unevictable,
  PG_mlocked,
  __NR_PAGEFLAGS,
  PG_anon_exclusive = PG_owner_2,  // anon pages: mapped exclusively by one process
  PG_swapcache = PG_owner_priv_1,  // swap-backed folios: in the swap cache (folio->swap)
};

// page->mapping tag bits (include/linux/page-flags.h).
inline constexpr unsigned long PAGE_MAPPING_ANON = 0x1;

// Page types (include/linux/page-flags.h enum pagetype, 6.12+ layout).
enum pagetype : unsigned int {
  PGTY_none = 0,
  PGTY_buddy = 0xf0,
  PGTY_offline = 0xf1,
  PGTY_table = 0xf2,
  PGTY_guard = 0xf3,
  PGTY_slab = 0xf5,
  PGTY_zsmalloc = 0xf6,
  PGTY_unaccepted = 0xf7,
};

inline bool test_bit(int nr, const unsigned long* addr) { return (*addr >> nr) & 1UL; }
inline void set_bit(int nr, unsigned long* addr) { *addr |= 1UL << nr; }
inline void clear_bit(int nr, unsigned long* addr) { *addr &= ~(1UL << nr); }
inline bool test_and_set_bit(int nr, unsigned long* addr) {
  bool old = test_bit(nr, addr);
  set_bit(nr, addr);
  return old;
}
inline bool test_and_clear_bit(int nr, unsigned long* addr) {
  bool old = test_bit(nr, addr);
  clear_bit(nr, addr);
  return old;
}

// PageFoo / SetPageFoo / ClearPageFoo and the folio_test_foo family. The page forms act
// on the page's folio (Linux's PF_HEAD policy: a tail page's flag is its head's), except
// PageAnonExclusive, which is per page (PF_ANY) as in Linux.
#define MMSIM_PAGEFLAG(Uname, lname)                                                          \
  inline bool Page##Uname(const page* p) {                                                    \
    return test_bit(PG_##lname, &compound_head(p)->flags);                                    \
  }                                                                                           \
  inline void SetPage##Uname(page* p) { set_bit(PG_##lname, &compound_head(p)->flags); }      \
  inline void ClearPage##Uname(page* p) { clear_bit(PG_##lname, &compound_head(p)->flags); }  \
  inline bool folio_test_##lname(const folio* f) { return test_bit(PG_##lname, &f->flags); } \
  inline void folio_set_##lname(folio* f) { set_bit(PG_##lname, &f->flags); }                 \
  inline void folio_clear_##lname(folio* f) { clear_bit(PG_##lname, &f->flags); }

MMSIM_PAGEFLAG(Locked, locked)
MMSIM_PAGEFLAG(Referenced, referenced)
MMSIM_PAGEFLAG(Uptodate, uptodate)
MMSIM_PAGEFLAG(Dirty, dirty)
MMSIM_PAGEFLAG(LRU, lru)
MMSIM_PAGEFLAG(Active, active)
MMSIM_PAGEFLAG(Reserved, reserved)
MMSIM_PAGEFLAG(Private, private)
MMSIM_PAGEFLAG(SwapBacked, swapbacked)
MMSIM_PAGEFLAG(Writeback, writeback)
MMSIM_PAGEFLAG(Unevictable, unevictable)
MMSIM_PAGEFLAG(Mlocked, mlocked)
MMSIM_PAGEFLAG(Reclaim, reclaim)
MMSIM_PAGEFLAG(Workingset, workingset)
inline bool PageAnonExclusive(const page* p) { return test_bit(PG_anon_exclusive, &p->flags); }
inline void SetPageAnonExclusive(page* p) { set_bit(PG_anon_exclusive, &p->flags); }
inline void ClearPageAnonExclusive(page* p) { clear_bit(PG_anon_exclusive, &p->flags); }
#undef MMSIM_PAGEFLAG

// include/linux/page-flags.h: PG_swapcache counts only on swap-backed folios (the bit is
// PG_owner_priv_1, which other folios use for other things).
inline bool folio_test_swapcache(const folio* f) {
  return folio_test_swapbacked(f) && test_bit(PG_swapcache, &f->flags);
}
inline void folio_set_swapcache(folio* f) { set_bit(PG_swapcache, &f->flags); }
inline void folio_clear_swapcache(folio* f) { clear_bit(PG_swapcache, &f->flags); }

inline bool folio_test_clear_unevictable(folio* f) { return test_and_clear_bit(PG_unevictable, &f->flags); }
inline bool folio_test_clear_referenced(folio* f) { return test_and_clear_bit(PG_referenced, &f->flags); }
inline bool folio_test_clear_active(folio* f) { return test_and_clear_bit(PG_active, &f->flags); }

inline bool folio_test_anon(const folio* f) {
  return (reinterpret_cast<unsigned long>(f->mapping) & PAGE_MAPPING_ANON) != 0;
}
inline bool PageAnon(const page* p) { return folio_test_anon(page_folio(p)); }

// ---- large folios (include/linux/page-flags.h, mm.h) ----
// A large folio's head page has PG_head; its first tail keeps the order in the low byte
// of its flags (_flags_1) and the page count in _folio_nr_pages, as on 64-bit Linux.
inline bool PageHead(const page* p) { return test_bit(PG_head, &p->flags); }
inline bool PageCompound(const page* p) { return PageHead(p) || PageTail(p); }
inline bool folio_test_large(const folio* f) { return PageHead(f); }
inline unsigned int folio_order(const folio* f) {
  if (!folio_test_large(f)) return 0;
  return static_cast<unsigned int>(folio_tail1(f)->flags & 0xff);
}
inline long folio_nr_pages(const folio* f) {
  if (!folio_test_large(f)) return 1;
  return static_cast<long>(folio_tail1(f)->_folio_nr_pages);
}
inline int folio_large_mapcount(const folio* f) {
  return atomic_read(&folio_tail1(f)->_large_mapcount) + 1;
}
inline int folio_entire_mapcount(const folio* f) {
  return atomic_read(&folio_tail1(f)->_entire_mapcount) + 1;
}
// include/linux/page-flags.h (CONFIG_MM_ID): the "maybe mapped shared" bit of a large
// folio's _mm_ids (mm/mm.h keeps it).
inline bool folio_test_large_maybe_mapped_shared(const folio* f) {
  return test_bit(FOLIO_MM_IDS_SHARED_BITNUM, &folio_tail2(f)->_mm_ids);
}
// include/linux/page-flags.h: PG_partially_mapped, a flag of a large folio's second page
// (FOLIO_SECOND_PAGE) on PG_reclaim's bit: some of its pages were unmapped while others
// stay mapped, and it waits on the deferred split queue.
inline constexpr int PG_partially_mapped = PG_reclaim;
inline bool folio_test_partially_mapped(const folio* f) {
  return folio_test_large(f) && test_bit(PG_partially_mapped, &folio_tail1(f)->flags);
}
inline void folio_set_partially_mapped(folio* f) {
  set_bit(PG_partially_mapped, &folio_tail1(f)->flags);
}
inline void folio_clear_partially_mapped(folio* f) {
  clear_bit(PG_partially_mapped, &folio_tail1(f)->flags);
}

#define MMSIM_PAGETYPE(Uname, lname)                                                  \
  inline bool Page##Uname(const page* p) { return p->page_type == PGTY_##lname; }     \
  inline void __SetPage##Uname(page* p) {                                             \
    VM_BUG_ON(p->page_type != PGTY_none);                                             \
    p->page_type = PGTY_##lname;                                                      \
  }                                                                                   \
  inline void __ClearPage##Uname(page* p) {                                           \
    VM_BUG_ON(p->page_type != PGTY_##lname);                                          \
    p->page_type = PGTY_none;                                                         \
  }

MMSIM_PAGETYPE(Buddy, buddy)
MMSIM_PAGETYPE(Table, table)
MMSIM_PAGETYPE(Slab, slab)
#undef MMSIM_PAGETYPE

// ---- the folio lock (include/linux/pagemap.h, mm/filemap.c) ----
// PG_locked is the lock. A task that finds it set sleeps in __folio_lock until it is clear
// (mm/filemap.cc; without a scheduler that BUGs naming "folio_lock"). Each attempt passes
// a preemption point first and each unlock one after. DEVIATION(page-flags): lockdep
// records the folio lock (Linux has no lockdep map for it) so that the deadlock report
// can name folio holders; there is no PG_waiters (a sleeper's condition is PG_locked
// itself, so an unlock has nobody to wake explicitly).
inline constexpr const char* FOLIO_LOCK_NAME = "folio_lock";
void __folio_lock(folio* f);  // mm/filemap.cc: sleeps until the lock is ours
// include/linux/pagemap.h
inline bool folio_trylock(folio* f) {
  sched_point(SCHED_POINT_LOCK, f, FOLIO_LOCK_NAME);
  if (unlikely(test_and_set_bit(PG_locked, &f->flags))) return false;
  lock_acquire(f, FOLIO_LOCK_NAME, 0);
  return true;
}
// include/linux/pagemap.h
inline void folio_lock(folio* f) {
  might_sleep();
  if (sched_single_path()) {  // no point to pass, no lockdep record (mm/sched_hooks.h)
    if (unlikely(test_and_set_bit(PG_locked, &f->flags))) __folio_lock(f);
    return;
  }
  sched_point(SCHED_POINT_LOCK, f, FOLIO_LOCK_NAME);
  if (unlikely(test_and_set_bit(PG_locked, &f->flags))) __folio_lock(f);
  lock_acquire(f, FOLIO_LOCK_NAME, 0);
}
// mm/filemap.c
inline void folio_unlock(folio* f) {
  BUG_ON(!folio_test_locked(f));
  if (sched_single_path()) {
    clear_bit(PG_locked, &f->flags);
    return;
  }
  lock_release(f);
  clear_bit(PG_locked, &f->flags);
  sched_point(SCHED_POINT_UNLOCK, f, FOLIO_LOCK_NAME);
}
// include/linux/page-flags.h: lock a folio nobody else can see yet (no point, no wait).
inline void __folio_set_locked(folio* f) {
  BUG_ON(folio_test_locked(f));
  set_bit(PG_locked, &f->flags);
  lock_acquire(f, FOLIO_LOCK_NAME, 0);
}
// include/linux/page-flags.h: unlock a folio nobody else could see (no wake-up).
inline void __folio_clear_locked(folio* f) {
  lock_release(f);
  clear_bit(PG_locked, &f->flags);
}
inline void lock_page(page* p) { folio_lock(p); }
inline void unlock_page(page* p) { folio_unlock(p); }

}  // namespace kernel

#endif  // MMSIM_MM_PAGE_FLAGS_H_
