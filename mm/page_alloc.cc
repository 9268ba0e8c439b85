// mm/page_alloc.cc: the buddy page allocator.
//
// Port of mm/page_alloc.c at Linux 6.18 (names and shapes of __rmqueue_smallest, expand,
// __free_one_page, free_pages_prepare, post_alloc_hook, __free_pages; 6.8+ MAX_PAGE_ORDER;
// the watermarks: calculate_min_free_kbytes, __setup_per_zone_wmarks, __zone_watermark_ok;
// the slow path: gfp_to_alloc_flags, __alloc_pages_slowpath, __alloc_pages_direct_reclaim,
// should_reclaim_retry, __alloc_pages_may_oom).
//
// Blocks of 2^order frames live on zone->free_area[order]; the head page of a free block is
// typed PGTY_buddy and holds the order in page->private_. Allocation takes the smallest
// order that has a block and splits the rest back down (expand); freeing merges a block
// with its buddy (pfn ^ (1 << order)) for as long as the buddy is a free block of the same
// order.
//
// Deviations (grep "DEVIATION(page_alloc)"):
//  - No per-CPU page lists, migrate types, highatomic reserves or compaction. One zone, so
//    no zonelist to walk and no lowmem_reserve; the oom_lock is not taken (one path at a
//    time reaches the OOM killer: nothing between its trylock and unlock is a point).
//  - should_reclaim_retry counts reclaim rounds without progress, as Linux does, but has no
//    per-zone "could the reclaimable pages satisfy the watermark" estimate beyond the LRU
//    sizes, and never sleeps (no congestion wait).
//  - A page that fails the free-time checks (bad_page) is reported with WARN and leaked,
//    as Linux does, but without the dump.
//  - Debug builds poison freed frames with 0x6b and verify the poison when the frame is
//    handed out again (xv6's kfree junk, Linux's page_poisoning), so a write through a
//    stale mapping shows up at the next allocation.
#include <algorithm>
#include <cstring>

#include "mm/oom.h"
#include "mm/vmscan.h"
#include "mm/fault_inject.h"
#include "mm/huge_mm.h"
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
  if (PageLRU(p)) return "PAGE_FLAGS_CHECK_AT_FREE flag(s) set (lru)";
  if (PageLocked(p)) return "PAGE_FLAGS_CHECK_AT_FREE flag(s) set (locked)";
  if (p->page_type != PGTY_none) return "page still has a type";
  return nullptr;
}

void bad_page(page* p, const char* reason) {
  kernel_warn(__FILE__, __LINE__, "Bad page state");
  trace_event("mm_bad_page", "pfn=%#lx reason=%s", page_to_pfn(p), reason);
}

// mm/page_alloc.c: free_tail_page_prepare. A tail page of a large folio going back: its
// share of the folio's counts must be settled; it stops being a tail. 1 if it is bad.
int free_tail_page_prepare(page* head_page, page* p) {
  const char* reason = nullptr;
  switch (p - head_page) {
    case 1:
      // the first tail page: the folio's mapping counts and pins
      if (unlikely(folio_large_mapcount(head_page))) reason = "nonzero large_mapcount";
      else if (unlikely(folio_entire_mapcount(head_page))) reason = "nonzero entire_mapcount";
      else if (unlikely(atomic_read(&p->_nr_pages_mapped))) reason = "nonzero nr_pages_mapped";
      else if (unlikely(atomic_read(&p->_pincount))) reason = "nonzero pincount";
      break;
    case 2:
      // the second tail page: _deferred_list overlays ->mapping
      if (unlikely(!list_empty(&p->_deferred_list))) reason = "on deferred list";
      // CONFIG_MM_ID (Linux checks them in page[1], where it keeps them)
      else if (unlikely(p->_mm_id_mapcount[0] != -1)) reason = "nonzero mm mapcount 0";
      else if (unlikely(p->_mm_id_mapcount[1] != -1)) reason = "nonzero mm mapcount 1";
      break;
    default:
      if (p->_tail_mapping != nullptr) reason = "corrupted mapping in tail page";
      break;
  }
  if (reason == nullptr && unlikely(compound_head(p) != head_page)) reason = "corrupted compound_head";
  if (reason != nullptr) bad_page(p, reason);
  p->_tail_mapping = nullptr;
  p->compound_head = 0;  // clear_compound_head
  p->_folio_nr_pages = 0;
  return reason != nullptr;
}

// mm/page_alloc.c: free_pages_prepare. False if the page must not go back (bad state).
bool free_pages_prepare(page* p, unsigned int order) {
  bool ok = true;
  if (unlikely(PageHead(p))) {
    // A large folio: undo prep_compound_page.
    for (unsigned int i = 1; i < (1U << order); ++i)
      if (free_tail_page_prepare(p, p + i)) ok = false;
    p[1].flags &= ~0xffUL;  // PAGE_FLAGS_SECOND: the order
    p[1].index = 0;
    p[1].private_ = 0;
    clear_bit(PG_head, &p->flags);
  }
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

}  // namespace

// mm/internal.h: prep_compound_head. The folio's order and counts in its first tail page.
static void prep_compound_head(page* p, unsigned int order) {
  page* p1 = folio_tail1(p);
  p1->flags = (p1->flags & ~0xffUL) | order;  // folio_set_order: _flags_1
  p1->_folio_nr_pages = 1UL << order;
  atomic_set(&p1->_large_mapcount, -1);
  atomic_set(&p1->_entire_mapcount, -1);
  atomic_set(&p1->_nr_pages_mapped, 0);
  atomic_set(&p1->_pincount, 0);
  if (order > 1) {
    INIT_LIST_HEAD(folio_deferred_list(p));
    // CONFIG_MM_ID: both slots free, not shared (page[2] here: see mm/mm_types.h).
    page* p2 = folio_tail2(p);
    p2->_mm_ids = 0;
    p2->_mm_id_mapcount[0] = -1;
    p2->_mm_id_mapcount[1] = -1;
  }
}

// mm/internal.h: prep_compound_tail.
static void prep_compound_tail(page* head, int tail_idx) {
  page* p = head + tail_idx;
  p->_tail_mapping = nullptr;  // DEVIATION(page_alloc): Linux poisons it (TAIL_MAPPING)
  p->compound_head = reinterpret_cast<unsigned long>(head) | 1;  // set_compound_head
  p->private_ = 0;
}

// mm/page_alloc.c: prep_compound_page. 2^order pages become one large folio.
void prep_compound_page(page* p, unsigned int order) {
  const int nr_pages = 1 << order;
  set_bit(PG_head, &p->flags);  // __SetPageHead
  for (int i = 1; i < nr_pages; i++) prep_compound_tail(p, i);
  prep_compound_head(p, order);
}

namespace {

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
  if (order && (gfp_flags & __GFP_COMP)) prep_compound_page(p, order);
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


// ---- watermarks ----

// mm/page_alloc.c: __zone_watermark_ok. Are there more than `mark` free pages (less what
// the request may dip into) left after taking 2^order, and a free block of that order?
static bool __zone_watermark_ok(zone* z, unsigned int order, unsigned long mark,
                                int highest_zoneidx, unsigned int alloc_flags, long free_pages) {
  long min = static_cast<long>(mark);
  free_pages -= (1L << order) - 1;  // __zone_watermark_unusable_free (no highatomic)
  if (unlikely(alloc_flags & ALLOC_RESERVES)) {
    // __GFP_HIGH and atomic requests may use part of the reserve; OOM victims more.
    if (alloc_flags & ALLOC_MIN_RESERVE) {
      min -= min / 2;
      if (alloc_flags & ALLOC_NON_BLOCK) min -= min / 4;
    }
    if (alloc_flags & ALLOC_OOM) min -= min / 2;
  }
  if (free_pages <= min + z->lowmem_reserve[highest_zoneidx]) return false;
  if (!order) return true;
  for (unsigned int o = order; o < NR_PAGE_ORDERS; o++)
    if (z->free_area[o].nr_free) return true;
  return false;
}

// mm/page_alloc.c
bool zone_watermark_ok(zone* z, unsigned int order, unsigned long mark, int highest_zoneidx,
                       unsigned int alloc_flags) {
  return __zone_watermark_ok(z, order, mark, highest_zoneidx, alloc_flags, z->free_pages);
}

// mm/page_alloc.c: calculate_totalreserve_pages (one zone, no lowmem_reserve).
static void calculate_totalreserve_pages() {
  zone* z = kst().zone_normal;
  unsigned long max = high_wmark_pages(z);
  if (max > zone_managed_pages(z)) max = zone_managed_pages(z);
  z->totalreserve_pages = max;
}

// mm/page_alloc.c: __setup_per_zone_wmarks. min is min_free_kbytes in pages (all of it:
// there is one lowmem zone); low and high are each a step above, the step being a quarter
// of min or watermark_scale_factor/10000 of the zone, whichever is larger.
static void __setup_per_zone_wmarks() {
  kernel_state& ks = kst();
  unsigned long pages_min = static_cast<unsigned long>(ks.min_free_kbytes) >> (PAGE_SHIFT - 10);
  zone* z = ks.zone_normal;
  unsigned long lowmem_pages = zone_managed_pages(z);
  unsigned long tmp = lowmem_pages ? pages_min * zone_managed_pages(z) / lowmem_pages : 0;
  z->_watermark[WMARK_MIN] = tmp;
  tmp = std::max(tmp >> 2, zone_managed_pages(z) * static_cast<unsigned long>(ks.watermark_scale_factor) / 10000);
  z->watermark_boost = 0;
  z->_watermark[WMARK_LOW] = min_wmark_pages(z) + tmp;
  z->_watermark[WMARK_HIGH] = low_wmark_pages(z) + tmp;
  z->_watermark[WMARK_PROMO] = high_wmark_pages(z) + tmp;
  trace_event("mm_setup_per_zone_wmarks", "min=%lu low=%lu high=%lu", z->_watermark[WMARK_MIN],
              z->_watermark[WMARK_LOW], z->_watermark[WMARK_HIGH]);
  calculate_totalreserve_pages();
}

// lib/math/int_sqrt.c
static unsigned long int_sqrt(unsigned long x) {
  if (x <= 1) return x;
  unsigned long m = 1UL << ((63 - __builtin_clzl(x)) & ~1UL);
  unsigned long y = 0;
  while (m != 0) {
    unsigned long b = y + m;
    y >>= 1;
    if (x >= b) {
      x -= b;
      y += m;
    }
    m >>= 2;
  }
  return y;
}

// mm/page_alloc.c: calculate_min_free_kbytes + init_per_zone_wmark_min (a core_initcall):
// min_free_kbytes = sqrt(16 * lowmem kbytes), clamped to [128, 262144].
void init_per_zone_wmark_min() {
  kernel_state& ks = kst();
  // nr_free_buffer_pages: managed pages above the high watermark (not yet set: 0).
  unsigned long lowmem_kbytes = (zone_managed_pages(ks.zone_normal) - high_wmark_pages(ks.zone_normal)) *
                                (PAGE_SIZE >> 10);
  int new_min_free_kbytes = static_cast<int>(int_sqrt(lowmem_kbytes * 16));
  if (new_min_free_kbytes > ks.user_min_free_kbytes)
    ks.min_free_kbytes = std::clamp(new_min_free_kbytes, 128, 262144);
  __setup_per_zone_wmarks();
}

// ---- allocation ----

// mm/page_alloc.c: get_page_from_freelist (one zone).
static page* get_page_from_freelist(gfp_t gfp_mask, unsigned int order, unsigned int alloc_flags) {
  zone* z = kst().zone_normal;
  if (!(alloc_flags & ALLOC_NO_WATERMARKS)) {
    unsigned long mark = wmark_pages(z, static_cast<zone_watermarks>(alloc_flags & ALLOC_WMARK_MASK));
    // Below the mark (for order > 0: no free block of the order): deferred struct pages
    // may still hold free blocks; grow the zone and try again. No node_reclaim.
    while (!zone_watermark_ok(z, order, mark, 0, alloc_flags))
      if (!deferred_grow_zone(z, order)) return nullptr;
  }
  page* p = __rmqueue_smallest(z, order);  // rmqueue
  if (p == nullptr) return nullptr;
  prep_new_page(p, order, gfp_mask);
  count_vm_events(PGALLOC_NORMAL, 1L << order);
  return p;
}

// mm/page_alloc.c: gfp_to_alloc_flags.
static unsigned int gfp_to_alloc_flags(gfp_t gfp_mask, unsigned int /*order*/) {
  unsigned int alloc_flags = ALLOC_WMARK_MIN | ALLOC_CPUSET;
  if (gfp_mask & __GFP_HIGH) alloc_flags |= ALLOC_MIN_RESERVE;
  if (gfp_mask & __GFP_KSWAPD_RECLAIM) alloc_flags |= ALLOC_KSWAPD;
  if (!(gfp_mask & __GFP_DIRECT_RECLAIM)) {
    alloc_flags |= ALLOC_NON_BLOCK;
    alloc_flags |= ALLOC_MIN_RESERVE;
  }
  return alloc_flags;
}

// mm/page_alloc.c: __gfp_pfmemalloc_flags. An OOM victim may dig into the reserves to exit.
static unsigned int __gfp_pfmemalloc_flags(gfp_t /*gfp_mask*/) {
  if (tsk_is_oom_victim(current())) return ALLOC_OOM;
  return 0;
}

// mm/page_alloc.c: wake_all_kswapds (one zone).
static void wake_all_kswapds(unsigned int order, gfp_t gfp_mask) {
  wakeup_kswapd(kst().zone_normal, gfp_mask, static_cast<int>(order), 0);
}

// mm/page_alloc.c: __alloc_pages_direct_reclaim (__perform_reclaim inlined).
static page* __alloc_pages_direct_reclaim(gfp_t gfp_mask, unsigned int order,
                                          unsigned int alloc_flags,
                                          unsigned long* did_some_progress) {
  task_struct* tsk = current();
  const unsigned int noreclaim_flag = tsk->flags & PF_MEMALLOC;  // memalloc_noreclaim_save
  tsk->flags |= PF_MEMALLOC;
  *did_some_progress = try_to_free_pages(order, gfp_mask);
  tsk->flags = (tsk->flags & ~PF_MEMALLOC) | noreclaim_flag;
  if (unlikely(!*did_some_progress)) return nullptr;
  return get_page_from_freelist(gfp_mask, order, alloc_flags);
}

// mm/page_alloc.c: should_reclaim_retry. Reclaim is worth another round while it makes
// progress, or until MAX_RECLAIM_RETRIES rounds in a row made none, if what is free plus
// what could be reclaimed would lift the zone over its min watermark.
static bool should_reclaim_retry(gfp_t /*gfp_mask*/, unsigned int order, unsigned int alloc_flags,
                                 bool did_some_progress, int* no_progress_loops) {
  if (did_some_progress && order <= PAGE_ALLOC_COSTLY_ORDER)
    *no_progress_loops = 0;
  else
    (*no_progress_loops)++;
  if (*no_progress_loops > MAX_RECLAIM_RETRIES) return false;
  zone* z = kst().zone_normal;
  unsigned long available = zone_reclaimable_pages(z);
  available -= std::min<unsigned long>(available, static_cast<unsigned long>(*no_progress_loops) * available / MAX_RECLAIM_RETRIES);
  available += static_cast<unsigned long>(z->free_pages);
  return __zone_watermark_ok(z, order, min_wmark_pages(z), 0, alloc_flags, static_cast<long>(available));
}

// mm/page_alloc.c: __alloc_pages_may_oom. Reclaim gave up: one last try at the high
// watermark (someone may have freed memory), then the OOM killer.
static page* __alloc_pages_may_oom(gfp_t gfp_mask, unsigned int order,
                                   unsigned long* did_some_progress) {
  oom_control oc{};
  oc.gfp_mask = gfp_mask;
  oc.order = static_cast<int>(order);
  *did_some_progress = 0;
  page* p = get_page_from_freelist((gfp_mask | __GFP_HARDWALL) & ~__GFP_DIRECT_RECLAIM, order,
                                   ALLOC_WMARK_HIGH | ALLOC_CPUSET);
  if (p) return p;
  // The OOM killer will not help with a costly order, or a caller that prefers failure.
  if (order > PAGE_ALLOC_COSTLY_ORDER) return nullptr;
  if (gfp_mask & __GFP_RETRY_MAYFAIL) return nullptr;
  if (out_of_memory(&oc) || WARN_ON_ONCE(gfp_mask & __GFP_NOFAIL)) *did_some_progress = 1;
  return nullptr;
}

// mm/page_alloc.c: __alloc_pages_slowpath. The free lists are below the low watermark:
// wake kswapd, try at min, reclaim directly, and as a last resort kill.
static page* __alloc_pages_slowpath(gfp_t gfp_mask, unsigned int order) {
  const bool can_direct_reclaim = gfp_mask & __GFP_DIRECT_RECLAIM;
  const bool costly_order = order > PAGE_ALLOC_COSTLY_ORDER;
  unsigned long did_some_progress = 0;
  int no_progress_loops = 0;
  page* p = nullptr;
  unsigned int alloc_flags = gfp_to_alloc_flags(gfp_mask, order);
  if (alloc_flags & ALLOC_KSWAPD) wake_all_kswapds(order, gfp_mask);
  p = get_page_from_freelist(gfp_mask, order, alloc_flags);
  if (p) return p;
  for (;;) {  // retry:
    if (alloc_flags & ALLOC_KSWAPD) wake_all_kswapds(order, gfp_mask);
    unsigned int reserve_flags = __gfp_pfmemalloc_flags(gfp_mask);
    if (reserve_flags) alloc_flags = reserve_flags | (alloc_flags & ALLOC_KSWAPD) | ALLOC_CPUSET;
    p = get_page_from_freelist(gfp_mask, order, alloc_flags);
    if (p) return p;
    if (!can_direct_reclaim) break;
    // Reclaim itself must not recurse into reclaim.
    if (current()->flags & PF_MEMALLOC) break;
    count_vm_event(ALLOCSTALL_NORMAL);
    p = __alloc_pages_direct_reclaim(gfp_mask, order, alloc_flags, &did_some_progress);
    if (p) return p;
    if (gfp_mask & __GFP_NORETRY) break;
    if (costly_order && !(gfp_mask & __GFP_RETRY_MAYFAIL)) break;
    if (should_reclaim_retry(gfp_mask, order, alloc_flags, did_some_progress != 0, &no_progress_loops))
      continue;
    p = __alloc_pages_may_oom(gfp_mask, order, &did_some_progress);
    if (p) return p;
    // A victim that has the reserves and still fails must not loop forever.
    if (tsk_is_oom_victim(current()) && (alloc_flags & ALLOC_OOM)) break;
    if (did_some_progress) {
      no_progress_loops = 0;
      continue;
    }
    break;
  }
  // nopage: warn_alloc
  trace_event("mm_page_alloc_fail", "order=%u gfp=%#x", order, gfp_mask);
  return nullptr;
}

// mm/page_alloc.c: __alloc_pages: the fast path at the low watermark, else the slow path.
page* alloc_pages(gfp_t gfp_mask, unsigned int order) {
  if (WARN_ON_ONCE(order > MAX_PAGE_ORDER)) return nullptr;
  // prepare_alloc_pages: an injected failure returns at once, before any reclaim.
  if (should_fail_alloc_page(gfp_mask, order)) {
    trace_event("mm_page_alloc_fail", "order=%u gfp=%#x injected", order, gfp_mask);
    return nullptr;
  }
  page* p = get_page_from_freelist(gfp_mask, order, ALLOC_WMARK_LOW);
  if (unlikely(p == nullptr)) p = __alloc_pages_slowpath(gfp_mask, order);
  if (p == nullptr) return nullptr;
  trace_event("mm_page_alloc", "pfn=%#lx order=%u gfp=%#x", page_to_pfn(p), order, gfp_mask);
  return p;
}

// mm/mempolicy.c / mm/page_alloc.c: folio_alloc (__folio_alloc). A higher order is one
// large folio (__GFP_COMP).
folio* folio_alloc(gfp_t gfp, unsigned int order) {
  page* p = alloc_pages(gfp | (order ? __GFP_COMP : 0), order);
  return p != nullptr ? page_folio(p) : nullptr;  // page_rmappable_folio
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
void __folio_put(folio* f) {
  __page_cache_release(f);
  folio_unqueue_deferred_split(f);
  free_the_page(f, folio_order(f));
}

}  // namespace kernel
