// mm/vmscan.cc: page reclaim.
//
// Port of mm/vmscan.c at Linux 6.18 (the classic two-list LRU: do_try_to_free_pages,
// shrink_node, shrink_lruvec, get_scan_count (reduced), shrink_list, shrink_active_list,
// shrink_inactive_list, isolate_lru_folios, move_folios_to_lru, shrink_folio_list,
// __remove_mapping, zone_reclaimable_pages, try_to_free_pages, wakeup_kswapd, and for
// MADV_PAGEOUT folio_isolate_lru, folio_putback_lru, reclaim_pages, reclaim_folio_list).
//
// Deviations (grep "DEVIATION(vmscan)"):
//  - Reclaim so far frees unmapped clean page-cache folios only: shrink_folio_list keeps a
//    mapped folio (no try_to_unmap yet), and a dirty file folio goes back active as direct
//    reclaim's does in Linux (only kswapd writes pages out, and there is no kswapd yet:
//    wakeup_kswapd has no thread to wake). Without swap (no swap devices yet) the anon
//    lists are not scanned, as get_scan_count's SCAN_FILE decides in Linux.
//  - shrink_active_list deactivates without folio_referenced (no rmap reference check),
//    so mapped executable folios are not kept active.
//  - No shrinkers (slab is host memory), no memcg, no MGLRU, no writeback throttling.
#include "mm/vmscan.h"

#include <algorithm>

#include "mm/fs.h"
#include "mm/mm.h"
#include "mm/trace.h"

namespace kernel {
namespace {

// mm/vmscan.c
struct scan_control {
  unsigned long nr_to_reclaim;
  gfp_t gfp_mask;
  int order;
  int priority;
  bool may_unmap;
  bool may_swap;
  unsigned long nr_scanned;
  unsigned long nr_reclaimed;
};

bool current_is_kswapd() { return current()->flags & PF_KSWAPD; }

// mm/vmscan.c: __remove_mapping. The folio is locked and unmapped; take it out of the
// page cache if only the cache and the isolation hold references (a pin or any other
// holder keeps it).
bool __remove_mapping(address_space* mapping, folio* f) {
  // folio_ref_freeze(folio, 1 + 1): the cache's reference and isolation's.
  if (folio_ref_count(f) != 2) return false;
  if (unlikely(folio_test_dirty(f))) return false;
  filemap_remove_folio(f);  // __filemap_remove_folio + the cache's reference
  (void)mapping;
  return true;
}

// mm/vmscan.c: shrink_folio_list. Returns the folios reclaimed; those kept stay on
// folio_list (activated ones with PG_active set).
unsigned long shrink_folio_list(list_head* folio_list, scan_control* sc) {
  list_head ret_folios;
  INIT_LIST_HEAD(&ret_folios);
  list_head free_folios;
  INIT_LIST_HEAD(&free_folios);
  unsigned long nr_reclaimed = 0;
  while (!list_empty(folio_list)) {
    folio* f = list_last_entry(folio_list, folio, lru);
    list_del(&f->lru);
    if (!folio_trylock(f)) goto keep;
    sc->nr_scanned++;
    if (unlikely(!folio_evictable(f))) goto activate_locked;
    if (!sc->may_unmap && folio_mapped(f)) goto keep_locked;
    if (folio_test_writeback(f)) goto activate_locked;
    // An anonymous or shmem folio needs a swap slot; there is no swap device yet.
    if (folio_test_anon(f) || folio_test_swapbacked(f) || shmem_mapping(f->mapping))
      goto activate_locked;
    // DEVIATION(vmscan): no try_to_unmap yet: a mapped folio stays.
    if (folio_mapped(f)) goto activate_locked;
    if (folio_test_dirty(f)) {
      // Only kswapd writes file folios out; direct reclaim marks them for immediate
      // reclaim once written and moves on.
      folio_set_reclaim(f);
      goto activate_locked;
    }
    if (f->mapping == nullptr || !__remove_mapping(f->mapping, f)) goto keep_locked;
    folio_unlock(f);
    nr_reclaimed++;
    list_add(&f->lru, &free_folios);
    continue;
  activate_locked:
    if (folio_evictable(f) && !folio_test_active(f)) {
      folio_set_active(f);
      count_vm_event(PGACTIVATE);
    }
  keep_locked:
    folio_unlock(f);
  keep:
    list_add(&f->lru, &ret_folios);
  }
  // free_unref_folios: the isolation reference is the last one.
  while (!list_empty(&free_folios)) {
    folio* f = list_first_entry(&free_folios, folio, lru);
    list_del(&f->lru);
    folio_put(f);
  }
  list_splice(&ret_folios, folio_list);
  return nr_reclaimed;
}

// mm/vmscan.c: reclaim_folio_list. Reclaim what can be reclaimed of the isolated folios
// (unmapping allowed, swap allowed); the rest go back to the LRU.
unsigned int reclaim_folio_list(list_head* folio_list) {
  scan_control sc{};
  sc.gfp_mask = GFP_KERNEL;
  sc.may_unmap = true;
  sc.may_swap = true;
  unsigned int nr_reclaimed = static_cast<unsigned int>(shrink_folio_list(folio_list, &sc));
  while (!list_empty(folio_list)) {
    folio* f = list_last_entry(folio_list, folio, lru);  // lru_to_folio
    list_del(&f->lru);
    folio_putback_lru(f);
    trace_event("mm_vmscan_reclaim_pages", "pfn=%#lx", folio_pfn(f));
  }
  return nr_reclaimed;
}

// mm/vmscan.c: isolate_lru_folios. Up to nr_to_scan folios from the tail of `lru`, each
// off the list with a reference and PG_lru cleared.
unsigned long isolate_lru_folios(unsigned long nr_to_scan, lruvec* lv, list_head* dst,
                                 unsigned long* nr_scanned, lru_list lru) {
  list_head* src = &lv->lists[lru];
  unsigned long nr_taken = 0;
  *nr_scanned = 0;
  while (*nr_scanned < nr_to_scan && !list_empty(src)) {
    folio* f = list_last_entry(src, folio, lru);
    (*nr_scanned)++;
    folio_get(f);
    lruvec_del_folio(lv, f);
    folio_clear_lru(f);
    list_add(&f->lru, dst);
    nr_taken++;
  }
  return nr_taken;
}

// mm/vmscan.c: move_folios_to_lru. Back on the lists their flags name; the isolation
// reference goes (the last one frees the folio, off the LRU).
void move_folios_to_lru(lruvec* lv, list_head* list) {
  while (!list_empty(list)) {
    folio* f = list_first_entry(list, folio, lru);
    list_del(&f->lru);
    folio_set_lru(f);
    lruvec_add_folio(lv, f);
    folio_put(f);
  }
}

// mm/vmscan.c
unsigned long shrink_inactive_list(unsigned long nr_to_scan, lruvec* lv, scan_control* sc,
                                   lru_list lru) {
  list_head folio_list;
  INIT_LIST_HEAD(&folio_list);
  unsigned long nr_scanned;
  unsigned long nr_taken = isolate_lru_folios(nr_to_scan, lv, &folio_list, &nr_scanned, lru);
  count_vm_events(current_is_kswapd() ? PGSCAN_KSWAPD : PGSCAN_DIRECT, static_cast<long>(nr_scanned));
  if (nr_taken == 0) return 0;
  unsigned long nr_reclaimed = shrink_folio_list(&folio_list, sc);
  move_folios_to_lru(lv, &folio_list);
  count_vm_events(current_is_kswapd() ? PGSTEAL_KSWAPD : PGSTEAL_DIRECT, static_cast<long>(nr_reclaimed));
  trace_event("mm_vmscan_lru_shrink_inactive", "nr_scanned=%lu nr_reclaimed=%lu lru=%s", nr_scanned,
              nr_reclaimed, lru_list_name(lru));
  return nr_reclaimed;
}

// mm/vmscan.c: shrink_active_list. DEVIATION(vmscan): every scanned folio is deactivated.
void shrink_active_list(unsigned long nr_to_scan, lruvec* lv, scan_control* /*sc*/, lru_list lru) {
  list_head l_hold;
  INIT_LIST_HEAD(&l_hold);
  unsigned long nr_scanned;
  unsigned long nr_taken = isolate_lru_folios(nr_to_scan, lv, &l_hold, &nr_scanned, lru);
  list_head l_inactive;
  INIT_LIST_HEAD(&l_inactive);
  while (!list_empty(&l_hold)) {
    folio* f = list_last_entry(&l_hold, folio, lru);
    list_del(&f->lru);
    folio_clear_active(f);
    folio_set_workingset(f);
    list_add(&f->lru, &l_inactive);
  }
  count_vm_events(PGDEACTIVATE, static_cast<long>(nr_taken));
  move_folios_to_lru(lv, &l_inactive);
}

// mm/vmscan.c: inactive_is_low. The inactive list should hold at least
// active / inactive_ratio, the ratio sqrt(10 * GiB of the list pair) (1 below 1 GiB).
bool inactive_is_low(lruvec* lv, lru_list inactive_lru) {
  lru_list active_lru = static_cast<lru_list>(inactive_lru + LRU_ACTIVE);
  unsigned long inactive = lv->nr_pages[inactive_lru];
  unsigned long active = lv->nr_pages[active_lru];
  unsigned long gb = (inactive + active) >> (30 - PAGE_SHIFT);
  unsigned long inactive_ratio = 1;
  if (gb) {
    inactive_ratio = 1;
    while ((inactive_ratio + 1) * (inactive_ratio + 1) <= 10 * gb) inactive_ratio++;  // int_sqrt
  }
  return inactive * inactive_ratio < active;
}

// mm/vmscan.c: shrink_list.
unsigned long shrink_list(lru_list lru, unsigned long nr_to_scan, lruvec* lv, scan_control* sc) {
  if (is_active_lru(lru)) {
    if (inactive_is_low(lv, static_cast<lru_list>(lru - LRU_ACTIVE)))
      shrink_active_list(nr_to_scan, lv, sc, lru);
    return 0;
  }
  return shrink_inactive_list(nr_to_scan, lv, sc, lru);
}

// mm/vmscan.c: shrink_lruvec with get_scan_count reduced to its no-swap case (SCAN_FILE)
// and the equal split otherwise: each evictable list is scanned size >> priority (at
// least SWAP_CLUSTER_MAX once the priority reaches 0).
void shrink_lruvec(lruvec* lv, scan_control* sc) {
  unsigned long nr[NR_LRU_LISTS] = {};
  const bool scan_anon = sc->may_swap && kst().total_swap_pages > 0;
  for (int lru = 0; lru < LRU_UNEVICTABLE; ++lru) {
    if (!scan_anon && !is_file_lru(static_cast<lru_list>(lru))) continue;
    unsigned long size = lv->nr_pages[lru];
    unsigned long scan = size >> sc->priority;
    if (!scan && sc->priority == 0) scan = std::min(size, SWAP_CLUSTER_MAX);
    nr[lru] = scan;
  }
  bool more = true;
  while (more) {
    more = false;
    for (int lru = 0; lru < LRU_UNEVICTABLE; ++lru) {
      if (!nr[lru]) continue;
      unsigned long nr_to_scan = std::min(nr[lru], SWAP_CLUSTER_MAX);
      nr[lru] -= nr_to_scan;
      sc->nr_reclaimed += shrink_list(static_cast<lru_list>(lru), nr_to_scan, lv, sc);
      if (nr[lru]) more = true;
    }
    if (sc->nr_reclaimed >= sc->nr_to_reclaim) break;
  }
  // Keep the inactive lists from running dry for the next round.
  if (scan_anon && inactive_is_low(lv, LRU_INACTIVE_ANON))
    shrink_active_list(SWAP_CLUSTER_MAX, lv, sc, LRU_ACTIVE_ANON);
}

// mm/vmscan.c: shrink_node (one node, no memcg hierarchy).
void shrink_node(scan_control* sc) { shrink_lruvec(&kst().zone_normal->__lruvec, sc); }

// mm/vmscan.c: do_try_to_free_pages. Scan harder (priority 12 down to 0) until enough
// pages are reclaimed.
unsigned long do_try_to_free_pages(scan_control* sc) {
  sc->priority = DEF_PRIORITY;
  do {
    sc->nr_scanned = 0;
    shrink_node(sc);
    if (sc->nr_reclaimed >= sc->nr_to_reclaim) break;
  } while (--sc->priority >= 0);
  return sc->nr_reclaimed;
}

}  // namespace

// mm/vmscan.c
bool folio_isolate_lru(folio* f) {
  VM_BUG_ON_FOLIO(!folio_ref_count(f), f);
  if (!folio_test_lru(f)) return false;
  folio_clear_lru(f);  // folio_test_clear_lru
  folio_get(f);
  lruvec_del_folio(folio_lruvec(f), f);
  return true;
}

// mm/vmscan.c
void folio_putback_lru(folio* f) {
  folio_add_lru(f);
  folio_put(f);  // drop the isolation reference
}

// mm/vmscan.c: reclaim_pages. One node, so one reclaim_folio_list. Reclaim here must not
// recurse into reclaim (memalloc_noreclaim_save: PF_MEMALLOC).
unsigned long reclaim_pages(list_head* folio_list) {
  unsigned long nr_reclaimed = 0;
  if (list_empty(folio_list)) return nr_reclaimed;
  trace_call tc("reclaim_pages", "");
  task_struct* tsk = current();
  const unsigned int noreclaim_flag = tsk->flags & PF_MEMALLOC;
  tsk->flags |= PF_MEMALLOC;
  list_head node_folio_list;
  INIT_LIST_HEAD(&node_folio_list);
  while (!list_empty(folio_list)) {
    folio* f = list_last_entry(folio_list, folio, lru);
    folio_clear_active(f);
    list_del(&f->lru);  // list_move
    list_add(&f->lru, &node_folio_list);
  }
  nr_reclaimed += reclaim_folio_list(&node_folio_list);
  tsk->flags = (tsk->flags & ~PF_MEMALLOC) | noreclaim_flag;  // memalloc_noreclaim_restore
  return tc.ret(nr_reclaimed);
}

// mm/vmscan.c
unsigned long zone_reclaimable_pages(zone* z) {
  const lruvec* lv = &z->__lruvec;
  unsigned long nr = lv->nr_pages[LRU_INACTIVE_FILE] + lv->nr_pages[LRU_ACTIVE_FILE];
  if (kst().total_swap_pages > 0)  // can_reclaim_anon_pages
    nr += lv->nr_pages[LRU_INACTIVE_ANON] + lv->nr_pages[LRU_ACTIVE_ANON];
  return nr;
}

// mm/vmscan.c
unsigned long try_to_free_pages(int order, gfp_t gfp_mask) {
  scan_control sc{};
  sc.nr_to_reclaim = SWAP_CLUSTER_MAX;
  sc.gfp_mask = gfp_mask;
  sc.order = order;
  sc.priority = DEF_PRIORITY;
  sc.may_unmap = true;
  sc.may_swap = true;
  trace_call tc("try_to_free_pages", "order=%d gfp=%#x", order, gfp_mask);
  return tc.ret(do_try_to_free_pages(&sc));
}

// mm/vmscan.c: wakeup_kswapd. DEVIATION(vmscan): no kswapd thread yet; the zone's state
// is checked and traced as Linux does before its wake_up_interruptible.
void wakeup_kswapd(zone* z, gfp_t gfp_flags, int order, int /*highest_zoneidx*/) {
  if (z->kswapd == nullptr) return;
  if (z->kswapd_order < order) z->kswapd_order = order;
  trace_event("mm_vmscan_wakeup_kswapd", "order=%d gfp=%#x", order, gfp_flags);
}

}  // namespace kernel
