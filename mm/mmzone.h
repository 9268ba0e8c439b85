// mm/mmzone.h: the zone and its buddy free lists (include/linux/mmzone.h), Linux 6.18.
//
// Deviations (grep "DEVIATION(mmzone)"):
//  - One node, one zone (ZONE_NORMAL) spanning every frame of simulated memory.
//  - No migrate types: free_area[order] has a single free list, not one per MIGRATE_*.
//  - No per-CPU page lists, no zone lock (one host thread drives a machine).
//  - The node (pglist_data) is folded into the zone: the zone holds the lruvec and kswapd's
//    state (pgdat->__lruvec, pgdat->kswapd, kswapd_order, kswapd_highest_zoneidx).
#ifndef MMSIM_MM_MMZONE_H_
#define MMSIM_MM_MMZONE_H_

#include "mm/gfp.h"
#include "mm/kernel.h"
#include "mm/mm_types.h"
#include "mm/types.h"

namespace kernel {

// A free list of one order: blocks of 2^order frames, each linked by its head page's lru.
struct free_area {
  list_head free_list;  // DEVIATION(mmzone): one list, no MIGRATE_TYPES
  unsigned long nr_free;  // blocks on the list
};

// include/linux/mmzone.h: frames per MAX_PAGE_ORDER block; x86-64's SECTION_SIZE_BITS 27
// (128 MiB sections).
inline constexpr unsigned long MAX_ORDER_NR_PAGES = 1UL << MAX_PAGE_ORDER;
inline constexpr unsigned long PAGES_PER_SECTION = 1UL << (27 - PAGE_SHIFT);

// include/linux/mmzone.h: the LRU lists. Base LRU_BASE + LRU_FILE * file + LRU_ACTIVE * active.
enum lru_list : int {
  LRU_INACTIVE_ANON = 0,
  LRU_ACTIVE_ANON = 1,
  LRU_INACTIVE_FILE = 2,
  LRU_ACTIVE_FILE = 3,
  LRU_UNEVICTABLE = 4,
  NR_LRU_LISTS
};
inline constexpr int LRU_BASE = 0;
inline constexpr int LRU_ACTIVE = 1;
inline constexpr int LRU_FILE = 2;
inline bool is_file_lru(lru_list lru) { return lru == LRU_INACTIVE_FILE || lru == LRU_ACTIVE_FILE; }
inline bool is_active_lru(lru_list lru) { return lru == LRU_ACTIVE_ANON || lru == LRU_ACTIVE_FILE; }
const char* lru_list_name(int lru);  // "inactive_anon", ... (mm/swap.cc)

// include/linux/mmzone.h: the folios of one node (here: the machine) on their LRU lists.
struct lruvec {
  list_head lists[NR_LRU_LISTS];
  unsigned long nr_pages[NR_LRU_LISTS];  // DEVIATION(mmzone): lru_zone_size without memcg
  // Evictions and activations so far: the clock workingset shadow entries are stamped
  // with (mm/workingset.cc). atomic_long_t in Linux.
  unsigned long nonresident_age;
};

// include/linux/mmzone.h: one zone (ZONE_NORMAL, index 0).
inline constexpr int MAX_NR_ZONES = 1;

// include/linux/mmzone.h
enum zone_watermarks { WMARK_MIN, WMARK_LOW, WMARK_HIGH, WMARK_PROMO, NR_WMARK };

struct zone {
  unsigned long _watermark[NR_WMARK];  // set by __setup_per_zone_wmarks
  unsigned long watermark_boost;
  long lowmem_reserve[1];              // DEVIATION(mmzone): one zone, nothing reserved

  const char* name;
  unsigned long zone_start_pfn;
  unsigned long spanned_pages;  // frames from zone_start_pfn to the end of memory
  unsigned long present_pages;  // frames that exist (all of them here)
  atomic_long_t managed_pages;  // frames the buddy allocator was given at boot
  struct free_area free_area[NR_PAGE_ORDERS];
  long free_pages;              // zone_page_state(zone, NR_FREE_PAGES)
  // DEVIATION(mmzone): CONFIG_DEFERRED_STRUCT_PAGE_INIT's pgdat->first_deferred_pfn, as a
  // range: the MAX_PAGE_ORDER blocks in [first_deferred_pfn, deferred_end_pfn) are free,
  // counted in free_pages/NR_FREE_PAGES/managed_pages, but neither on free_area[] nor with
  // struct pages initialised (their mem_map is untouched host memory). deferred_grow_zone
  // hands them out from the top down; see mm/mm_init.cc.
  unsigned long first_deferred_pfn;
  unsigned long deferred_end_pfn;
  // --- pglist_data (DEVIATION(mmzone): the one node lives in the one zone) ---
  struct lruvec __lruvec;
  task_struct* kswapd;          // kswapd0, created at boot (mm/vmscan.cc kswapd_run)
  int kswapd_order;
  int kswapd_highest_zoneidx;   // MAX_NR_ZONES: no request since kswapd last read it
  int kswapd_failures;          // balance_pgdat runs in a row that reclaimed nothing
  // DEVIATION(mmzone): pgdat->kswapd_wait reduced to whether kswapd sleeps on it
  // (waitqueue_active); the sleeper's state is kswapd's task_struct::__state.
  bool kswapd_wait_active;
  unsigned long totalreserve_pages;
};

inline unsigned long wmark_pages(const zone* z, zone_watermarks i) {
  return z->_watermark[i] + z->watermark_boost;
}
inline unsigned long min_wmark_pages(const zone* z) { return wmark_pages(z, WMARK_MIN); }
inline unsigned long low_wmark_pages(const zone* z) { return wmark_pages(z, WMARK_LOW); }
inline unsigned long high_wmark_pages(const zone* z) { return wmark_pages(z, WMARK_HIGH); }
inline lruvec* folio_lruvec(const folio* /*f*/) { return &kst().zone_normal->__lruvec; }
inline lruvec* mem_cgroup_lruvec(zone* z) { return &z->__lruvec; }

// mm/internal.h: the allocator's alloc_flags.
inline constexpr unsigned int ALLOC_WMARK_MIN = WMARK_MIN;
inline constexpr unsigned int ALLOC_WMARK_LOW = WMARK_LOW;
inline constexpr unsigned int ALLOC_WMARK_HIGH = WMARK_HIGH;
inline constexpr unsigned int ALLOC_NO_WATERMARKS = 0x04;
inline constexpr unsigned int ALLOC_WMARK_MASK = ALLOC_NO_WATERMARKS - 1;
inline constexpr unsigned int ALLOC_OOM = 0x08;
inline constexpr unsigned int ALLOC_NON_BLOCK = 0x10;
inline constexpr unsigned int ALLOC_MIN_RESERVE = 0x20;
inline constexpr unsigned int ALLOC_CPUSET = 0x40;
inline constexpr unsigned int ALLOC_HIGHATOMIC = 0x200;
inline constexpr unsigned int ALLOC_KSWAPD = 0x800;
inline constexpr unsigned int ALLOC_RESERVES =
    ALLOC_NON_BLOCK | ALLOC_MIN_RESERVE | ALLOC_HIGHATOMIC | ALLOC_OOM;

// mm/page_alloc.c: __setup_per_zone_wmarks / init_per_zone_wmark_min (at boot).
void init_per_zone_wmark_min();
// mm/page_alloc.c: the free pages above `mark` for an order-`order` request?
bool zone_watermark_ok(zone* z, unsigned int order, unsigned long mark, int highest_zoneidx,
                       unsigned int alloc_flags);


inline unsigned long zone_managed_pages(const zone* z) {
  return static_cast<unsigned long>(atomic_long_read(&z->managed_pages));
}
inline unsigned long zone_end_pfn(const zone* z) { return z->zone_start_pfn + z->spanned_pages; }
inline bool zone_spans_pfn(const zone* z, unsigned long pfn) {
  return pfn >= z->zone_start_pfn && pfn < zone_end_pfn(z);
}
inline zone* page_zone(const page* /*p*/) { return kst().zone_normal; }

// mm/internal.h: the order of a free block, kept in its head page's private field.
inline unsigned int buddy_order(const page* p) { return static_cast<unsigned int>(p->private_); }
// mm/internal.h: the pfn of the buddy of the order-`order` block at pfn.
inline unsigned long __find_buddy_pfn(unsigned long page_pfn, unsigned int order) {
  return page_pfn ^ (1UL << order);
}

// mm/page_alloc.c (declared in mm/internal.h): gives a block of boot memory to the buddy
// allocator and counts it in managed_pages.
void __free_pages_core(page* p, unsigned int order);

// mm/mm_init.c: deferred_grow_zone. Initialises the highest deferred MAX_PAGE_ORDER block
// of `z` and puts it on free_area[MAX_PAGE_ORDER]; false if none is left.
bool deferred_grow_zone(zone* z, unsigned int order);
// Whether `pfn`'s struct page is still deferred (never initialised: a free frame).
inline bool early_page_deferred(const zone* z, unsigned long pfn) {
  return z != nullptr && pfn >= z->first_deferred_pfn && pfn < z->deferred_end_pfn;
}
// Free MAX_PAGE_ORDER blocks still deferred (buddyinfo counts them as order-10 blocks).
inline unsigned long zone_deferred_blocks(const zone* z) {
  return z == nullptr ? 0 : (z->deferred_end_pfn - z->first_deferred_pfn) >> MAX_PAGE_ORDER;
}
// page_alloc.cc: a block whose struct pages deferred_grow_zone just initialised goes on its
// free list; the frames were counted free at boot.
void __free_pages_deferred(page* p, unsigned int order);

// The number of free frames (global_zone_page_state(NR_FREE_PAGES)).
inline unsigned long nr_free_pages() { return static_cast<unsigned long>(kst().vm_stat[NR_FREE_PAGES]); }
inline unsigned long totalram_pages() {
  return kst().zone_normal ? zone_managed_pages(kst().zone_normal) : 0;
}

}  // namespace kernel

#endif  // MMSIM_MM_MMZONE_H_
