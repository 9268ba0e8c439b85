// mm/vmscan.h: page reclaim's interface (include/linux/swap.h, mm/internal.h), Linux 6.18.
#ifndef MMSIM_MM_VMSCAN_H_
#define MMSIM_MM_VMSCAN_H_

#include "mm/gfp.h"
#include "mm/mmzone.h"

namespace kernel {

inline constexpr int DEF_PRIORITY = 12;
inline constexpr unsigned long SWAP_CLUSTER_MAX = 32;

// mm/vmscan.c: direct reclaim for an allocation of 2^order pages; the pages reclaimed.
unsigned long try_to_free_pages(int order, gfp_t gfp_mask);
// mm/vmscan.c: the LRU pages reclaim could free (file; anon too when there is swap).
unsigned long zone_reclaimable_pages(zone* z);
// mm/vmscan.c: take a folio off its LRU list with a reference (false if it is not on one).
bool folio_isolate_lru(folio* f);
// mm/vmscan.c: put an isolated folio back on the list its flags name, dropping the
// isolation reference.
void folio_putback_lru(folio* f);
// mm/vmscan.c: reclaim the isolated folios on folio_list now (MADV_PAGEOUT); those kept go
// back to the LRU. Returns the number reclaimed.
unsigned long reclaim_pages(list_head* folio_list);
// mm/vmscan.c: tell kswapd the zone fell below its low watermark.
void wakeup_kswapd(zone* z, gfp_t gfp_flags, int order, int highest_zoneidx);

}  // namespace kernel

#endif  // MMSIM_MM_VMSCAN_H_
