// mm/page_alloc.cc: the buddy page allocator.
//
// Port of mm/page_alloc.c at Linux 6.18 (names and shapes of __rmqueue_smallest, expand,
// __free_one_page, free_pages_prepare, post_alloc_hook, __free_pages; 6.8+ MAX_PAGE_ORDER).
//
// Blocks of 2^order frames live on zone->free_area[order]; the head page of a free block is
// typed PGTY_buddy and holds the order in page->private_. Allocation takes the smallest
// order that has a block and splits the rest back down (expand); freeing merges a block
// with its buddy (pfn ^ (1 << order)) for as long as the buddy is a free block of the same
// order.
//
// Deviations (grep "DEVIATION(page_alloc)"):
//  - No per-CPU page lists, migrate types, watermarks, reclaim or compaction: a request
//    that the free lists cannot satisfy fails at once (null), whatever the gfp flags say.
//  - A page that fails the free-time checks (bad_page) is reported with WARN and leaked,
//    as Linux does, but without the dump.
//  - Debug builds poison freed frames with 0x6b and verify the poison when the frame is
//    handed out again (xv6's kfree junk, Linux's page_poisoning), so a write through a
//    stale mapping shows up at the next allocation.
#include <cstring>

#include "mm/fault_inject.h"
#include "mm/mm.h"
#include "mm/mmzone.h"
#include "mm/trace.h"

namespace kernel {
namespace {

#ifdef CONFIG_DEBUG_VM
constexpr unsigned char PAGE_POISON = 0x6b;
// DEVIATION(page_alloc): the "this frame holds poison" mark is the first unused flag bit.
constexpr int PG_poisoned = __NR_PAGEFLAGS;

void kernel_poison_page(page* p) {
  std::memset(page_address(p), PAGE_POISON, PAGE_SIZE);
  set_bit(PG_poisoned, &p->flags);
}

// mm/page_poison.c: check_poison_mem.
void check_poison_page(page* p) {
  if (!test_and_clear_bit(PG_poisoned, &p->flags)) return;
  const unsigned char* mem = static_cast<const unsigned char*>(page_address(p));
  for (unsigned long i = 0; i < PAGE_SIZE; ++i) {
    if (mem[i] != PAGE_POISON) {
      // A write after free: report where, then carry on with the (now zeroed) page.
      kernel_warn(__FILE__, __LINE__, "page poison overwritten (use after free)");
      trace_event("mm_page_poison_bad", "pfn=%#lx offset=%#lx byte=%#x", page_to_pfn(p), i,
                  static_cast<unsigned>(mem[i]));
      return;
    }
  }
}
#endif

// mm/page_alloc.c: set_buddy_order.
inline void set_buddy_order(page* p, unsigned int order) {
  p->private_ = order;
  __SetPageBuddy(p);
}

// mm/page_alloc.c: page_is_buddy. The buddy is a free block head of this order.
inline bool page_is_buddy(const page* buddy, unsigned int order) {
  return PageBuddy(buddy) && buddy_order(buddy) == order;
}

// mm/page_alloc.c: __add_to_free_list / add_to_free_list.
inline void add_to_free_list(page* p, zone* z, unsigned int order, bool tail) {
  free_area* area = &z->free_area[order];
  if (tail)
    list_add_tail(&p->lru, &area->free_list);
  else
    list_add(&p->lru, &area->free_list);
  area->nr_free++;
}

// mm/page_alloc.c: del_page_from_free_list.
inline void del_page_from_free_list(page* p, zone* z, unsigned int order) {
  list_del(&p->lru);
  __ClearPageBuddy(p);
  p->private_ = 0;
  z->free_area[order].nr_free--;
}

// mm/page_alloc.c: __mod_zone_freepage_state.
inline void account_freepages(zone* z, long nr_pages) {
  z->free_pages += nr_pages;
  kst().vm_stat[NR_FREE_PAGES] += nr_pages;
}

// mm/page_alloc.c: buddy_merge_likely. If the block one order up is itself about to merge,
// put this one at the tail so it stays free longer.
bool buddy_merge_likely(unsigned long pfn, unsigned long buddy_pfn, unsigned int order) {
  if (order >= MAX_PAGE_ORDER - 1) return false;
  unsigned long higher_page_pfn = buddy_pfn & pfn;
  unsigned long higher_buddy_pfn = __find_buddy_pfn(higher_page_pfn, order + 1);
  if (!pfn_valid(higher_buddy_pfn)) return false;
  return page_is_buddy(pfn_to_page(higher_buddy_pfn), order + 1);
}

// mm/page_alloc.c: __free_one_page.
void __free_one_page(page* p, unsigned long pfn, zone* z, unsigned int order) {
  VM_BUG_ON_PAGE(pfn & ((1UL << order) - 1), p);
  account_freepages(z, 1L << order);
  unsigned long buddy_pfn = 0;
  while (order < MAX_PAGE_ORDER) {
    buddy_pfn = __find_buddy_pfn(pfn, order);
    if (!zone_spans_pfn(z, buddy_pfn)) break;
    page* buddy = p + (static_cast<long>(buddy_pfn) - static_cast<long>(pfn));
    if (!page_is_buddy(buddy, order)) break;
    del_page_from_free_list(buddy, z, order);
    unsigned long combined_pfn = buddy_pfn & pfn;
    p = p + (static_cast<long>(combined_pfn) - static_cast<long>(pfn));
    pfn = combined_pfn;
    order++;
  }
  set_buddy_order(p, order);
  bool to_tail = order < MAX_PAGE_ORDER && buddy_merge_likely(pfn, __find_buddy_pfn(pfn, order), order);
  add_to_free_list(p, z, order, to_tail);
}

// mm/page_alloc.c: expand. Hands the upper halves of a 2^high block back, keeping 2^low.
void expand(zone* z, page* p, unsigned int low, unsigned int high) {
  unsigned long size = 1UL << high;
  while (high > low) {
    high--;
    size >>= 1;
    add_to_free_list(&p[size], z, high, false);
    set_buddy_order(&p[size], high);
  }
}

// mm/page_alloc.c: __rmqueue_smallest.
page* __rmqueue_smallest(zone* z, unsigned int order) {
  for (unsigned int current_order = order; current_order < NR_PAGE_ORDERS; ++current_order) {
    free_area* area = &z->free_area[current_order];
    // DEVIATION(page_alloc): CONFIG_DEFERRED_STRUCT_PAGE_INIT's grow-on-demand, placed where
    // the deferred blocks would have been taken had boot freed them: every block freed since
    // boot went to the head of this list, ahead of them, and among themselves the highest
    // comes first; so they come only once the list is empty, top down.
    if (list_empty(&area->free_list) &&
        (current_order != MAX_PAGE_ORDER || !deferred_grow_zone(z, order)))
      continue;
    page* p = list_first_entry(&area->free_list, page, lru);
    del_page_from_free_list(p, z, current_order);
    expand(z, p, order, current_order);
    account_freepages(z, -(1L << order));
    return p;
  }
  return nullptr;
}

// mm/page_alloc.c: page_bad_reason / bad_page, reduced.
const char* page_bad_reason(const page* p) {
  if (atomic_read(&p->_mapcount) != -1) return "nonzero mapcount";
  if (p->mapping != nullptr && !PageAnon(p)) return "non-NULL mapping";
  if (page_ref_count(p) != 0) return "nonzero _refcount";
  if (PageReserved(p)) return "PAGE_FLAGS_CHECK_AT_FREE flag(s) set (reserved)";
  if (PageLocked(p)) return "PAGE_FLAGS_CHECK_AT_FREE flag(s) set (locked)";
  if (p->page_type != PGTY_none) return "page still has a type";
  return nullptr;
}

void bad_page(page* p, const char* reason) {
  kernel_warn(__FILE__, __LINE__, "Bad page state");
  trace_event("mm_bad_page", "pfn=%#lx reason=%s", page_to_pfn(p), reason);
}

// mm/page_alloc.c: free_pages_prepare. False if the page must not go back (bad state).
bool free_pages_prepare(page* p, unsigned int order) {
  bool ok = true;
  for (unsigned int i = 0; i < (1U << order); ++i) {
    page* q = p + i;
    // An anon page's mapping is cleared here, as PageMappingFlags pages are in Linux.
    if (PageAnon(q)) q->mapping = nullptr;
    if (const char* reason = page_bad_reason(q)) {
      bad_page(q, reason);
      ok = false;
    }
  }
  if (!ok) return false;
  for (unsigned int i = 0; i < (1U << order); ++i) {
    page* q = p + i;
    q->flags = 0;
    q->mapping = nullptr;
    q->index = 0;
    q->private_ = 0;
#ifdef CONFIG_DEBUG_VM
    kernel_poison_page(q);
#endif
  }
  return true;
}

// mm/page_alloc.c: free_one_page / free_unref_page, without the pcp lists.
void free_the_page(page* p, unsigned int order) {
  trace_event("mm_page_free", "pfn=%#lx order=%u", page_to_pfn(p), order);
  if (!free_pages_prepare(p, order)) return;
  count_vm_events(PGFREE, 1L << order);
  __free_one_page(p, page_to_pfn(p), page_zone(p), order);
}

// mm/page_alloc.c: check_new_page.
bool check_new_page(page* p) {
  if (const char* reason = page_bad_reason(p)) {
    bad_page(p, reason);
    return true;
  }
  return false;
}

// mm/page_alloc.c: post_alloc_hook / prep_new_page.
void prep_new_page(page* p, unsigned int order, gfp_t gfp_flags) {
  for (unsigned int i = 0; i < (1U << order); ++i) {
    page* q = p + i;
    check_new_page(q);
#ifdef CONFIG_DEBUG_VM
    check_poison_page(q);
#endif
    q->private_ = 0;
    q->flags = 0;
  }
  if (gfp_flags & __GFP_ZERO) std::memset(page_address(p), 0, PAGE_SIZE << order);
  set_page_count(p, 1);  // set_page_refcounted
}

}  // namespace

// mm/page_alloc.c: __free_pages_core. Hands boot memory to the buddy allocator.
void __free_pages_core(page* p, unsigned int order) {
  for (unsigned int i = 0; i < (1U << order); ++i) {
    page* q = p + i;
    q->flags = 0;
    set_page_count(q, 0);
  }
  atomic_long_add(1L << order, &page_zone(p)->managed_pages);
  __free_one_page(p, page_to_pfn(p), page_zone(p), order);
}

// DEVIATION(page_alloc): the tail of __free_pages_core for a block deferred_grow_zone
// initialised; boot already counted its frames as managed and free.
void __free_pages_deferred(page* p, unsigned int order) {
  set_buddy_order(p, order);
  add_to_free_list(p, page_zone(p), order, false);
}

// mm/page_alloc.c: __alloc_pages (the fast path is all there is).
page* alloc_pages(gfp_t gfp_mask, unsigned int order) {
  if (WARN_ON_ONCE(order > MAX_PAGE_ORDER)) return nullptr;
  if (should_fail_alloc_page(gfp_mask, order)) {
    trace_event("mm_page_alloc_fail", "order=%u gfp=%#x injected", order, gfp_mask);
    return nullptr;
  }
  zone* z = kst().zone_normal;
  page* p = __rmqueue_smallest(z, order);
  if (p == nullptr) {
    trace_event("mm_page_alloc_fail", "order=%u gfp=%#x", order, gfp_mask);
    return nullptr;
  }
  prep_new_page(p, order, gfp_mask);
  count_vm_events(PGALLOC_NORMAL, 1L << order);
  trace_event("mm_page_alloc", "pfn=%#lx order=%u gfp=%#x", page_to_pfn(p), order, gfp_mask);
  return p;
}

// mm/mempolicy.c / mm/page_alloc.c: folio_alloc. Without large folios only order 0 forms
// one folio; a higher order is the head of a run of pages.
folio* folio_alloc(gfp_t gfp, unsigned int order) {
  return page_folio(alloc_pages(gfp | (order ? __GFP_COMP : 0), order));
}

// mm/mempolicy.c: vma_alloc_folio (no NUMA policy to consult).
folio* vma_alloc_folio(gfp_t gfp, int order, vm_area_struct* /*vma*/, unsigned long /*addr*/) {
  return folio_alloc(gfp, static_cast<unsigned int>(order));
}

// mm/page_alloc.c: __free_pages. Drops a reference; the last one frees the block. If
// someone else still holds the head of a non-compound block, the tail pages are freed.
void __free_pages(page* p, unsigned int order) {
  if (p == nullptr) return;
  if (folio_put_testzero(p)) {
    free_the_page(p, order);
  } else {
    while (order-- > 0) free_the_page(p + (1U << order), order);
  }
}

// mm/page_alloc.c
unsigned long __get_free_pages(gfp_t gfp_mask, unsigned int order) {
  page* p = alloc_pages(gfp_mask & ~__GFP_HIGHMEM, order);
  if (p == nullptr) return 0;
  return reinterpret_cast<unsigned long>(page_address(p));
}

// mm/page_alloc.c
unsigned long get_zeroed_page(gfp_t gfp_mask) { return __get_free_pages(gfp_mask | __GFP_ZERO, 0); }

// mm/page_alloc.c
void free_pages(unsigned long addr, unsigned int order) {
  if (addr != 0) __free_pages(virt_to_page(reinterpret_cast<const void*>(addr)), order);
}

// mm/swap.c: __folio_put. The last reference is gone.
void __folio_put(folio* f) { free_the_page(f, 0); }

}  // namespace kernel
