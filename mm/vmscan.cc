// mm/vmscan.cc: page reclaim.
//
// Port of mm/vmscan.c at Linux 6.18 (the classic two-list LRU: do_try_to_free_pages,
// shrink_node, shrink_lruvec, get_scan_count (reduced), shrink_list, shrink_active_list,
// shrink_inactive_list, isolate_lru_folios, move_folios_to_lru, shrink_folio_list,
// __remove_mapping (with the workingset shadow it leaves), zone_reclaimable_pages,
// try_to_free_pages, wakeup_kswapd, and for MADV_PAGEOUT folio_isolate_lru,
// folio_putback_lru, reclaim_pages, reclaim_folio_list).
//
// kswapd (kswapd_run at boot, the kswapd body, kswapd_try_to_sleep, prepare_kswapd_sleep,
// balance_pgdat, kswapd_shrink_node, pgdat_balanced, kswapd_age_node) and aging through
// rmap (folio_check_references, folio_referenced in shrink_active_list) are 6.18's.
//
// Deviations (grep "DEVIATION(vmscan)"):
//  - Reclaim frees clean page-cache folios (unmapping them first) and anonymous folios
//    (to swap: folio_alloc_swap, try_to_unmap, pageout -> swap_writeout, then out of the
//    swap cache in __remove_mapping); lazyfree (MADV_FREE) folios are dropped if clean,
//    a PMD-mapped lazyfree THP whole (try_to_unmap_one -> unmap_huge_pmd_locked).
//    Shmem folios are not swapped out (no shmem_writeout). Dirty file folios are not
//    written by reclaim (as in 6.18, where pageout() leaves filesystem folios to the
//    flushers): they are
//    marked PG_reclaim and activated, and shrink_inactive_list wakes the flushers
//    (wakeup_flusher_threads, which writes them back at once here, mm/filemap.cc);
//    folio_end_writeback then rotates them to the inactive tail for the next round.
//    Without swap the anon lists are not scanned, as get_scan_count's SCAN_FILE decides
//    in Linux.
//  - The swap cache has no address_space (swap_address_space): __remove_mapping and
//    pageout tell a swap-cache folio by PG_swapcache.
//  - kswapd: no short HZ/10 nap before sleeping (no timers), no watermark boosting
//    (watermark_boost stays 0), no kcompactd, no PGDAT_DIRTY/WRITEBACK/CONGESTED flags
//    (they steer pageout of dirty file folios and writeback stalls, neither of which
//    exists here), no PAGEOUTRUN / KSWAPD_*_HIT_QUICKLY counters.
//  - No shrinkers (slab is host memory), no memcg, no MGLRU, no writeback throttling.
#include "mm/vmscan.h"

#include <algorithm>
#include <cstdio>

#include "mm/fs.h"
#include "mm/huge_mm.h"
#include "mm/kernel/task.h"
#include "mm/mm.h"
#include "mm/rwsem.h"
#include "mm/sched_hooks.h"
#include "mm/swap.h"
#include "mm/trace.h"

namespace kernel {
namespace {

// mm/vmscan.c
struct scan_control {
  unsigned long nr_to_reclaim;
  gfp_t gfp_mask;
  int order;
  int priority;
  bool may_writepage;
  bool may_unmap;
  bool may_swap;
  unsigned long nr_scanned;
  unsigned long nr_reclaimed;
};

bool current_is_kswapd() { return current()->flags & PF_KSWAPD; }

// mm/vmscan.c (include/linux/vmstat.h's struct reclaim_stat, the fields kept).
struct reclaim_stat {
  unsigned int nr_dirty;           // dirty or under writeback (file LRU)
  unsigned int nr_unqueued_dirty;  // dirty and not yet queued for writeback
  unsigned int nr_writeback;       // under writeback, marked for immediate reclaim
  unsigned int nr_ref_keep;        // referenced once: another trip round the inactive list
  unsigned int nr_activate[2];     // activated, [anon, file]
};

// mm/vmscan.c
enum folio_references {
  FOLIOREF_RECLAIM,
  FOLIOREF_RECLAIM_CLEAN,
  FOLIOREF_KEEP,
  FOLIOREF_ACTIVATE,
};

// mm/vmscan.c: folio_check_references. What the accessed bits (folio_referenced) and
// PG_referenced say about an inactive folio: activate it (used twice, or mapped
// executable file), keep it inactive for one more round (used once through a mapping),
// or reclaim it (clean only, if its only use was read(2) and the like).
folio_references folio_check_references(folio* f, scan_control* /*sc*/) {
  vm_flags_t vm_flags;
  const int referenced_ptes = folio_referenced(f, 1, &vm_flags);
  const bool referenced_folio = folio_test_clear_referenced(f);
  // Found in a VM_LOCKED VMA: to the unevictable list by way of activation.
  if (vm_flags & VM_LOCKED) return FOLIOREF_ACTIVATE;
  // rmap lock contention: rotate.
  if (referenced_ptes == -1) return FOLIOREF_KEEP;
  if (referenced_ptes) {
    // Every mapped folio starts with the accessed bit of the fault that mapped it: mark
    // it, and let a second reference (PTE or mark) activate it.
    folio_set_referenced(f);
    if (referenced_folio || referenced_ptes > 1) return FOLIOREF_ACTIVATE;
    // File-backed executable folios are activated after their first use.
    if ((vm_flags & VM_EXEC) && folio_is_file_lru(f)) return FOLIOREF_ACTIVATE;
    return FOLIOREF_KEEP;
  }
  // Reclaim if clean, defer dirty folios to writeback.
  if (referenced_folio && folio_is_file_lru(f)) return FOLIOREF_RECLAIM_CLEAN;
  return FOLIOREF_RECLAIM;
}

// mm/vmscan.c: folio_check_dirty_writeback. Anon folios are not the flushers' business.
void folio_check_dirty_writeback(folio* f, bool* dirty, bool* writeback) {
  if (!folio_is_file_lru(f) || (folio_test_anon(f) && !folio_test_swapbacked(f))) {
    *dirty = false;
    *writeback = false;
    return;
  }
  *dirty = folio_test_dirty(f);
  *writeback = folio_test_writeback(f);
}

// mm/vmscan.c: pageout's results.
enum pageout_t { PAGE_KEEP, PAGE_ACTIVATE, PAGE_SUCCESS, PAGE_CLEAN };

// mm/vmscan.c: is_page_cache_freeable. Only the cache and the isolation hold it.
bool is_page_cache_freeable(folio* f) { return folio_ref_count(f) == 1 + folio_nr_pages(f); }

// mm/vmscan.c: pageout, for swap-cache folios (6.18 leaves dirty file folios to the
// flushers: shrink_folio_list never brings them here). The folio is locked; on
// PAGE_SUCCESS it comes back unlocked.
pageout_t pageout(folio* f) {
  if (!is_page_cache_freeable(f)) return PAGE_KEEP;
  if (!folio_test_swapcache(f)) return PAGE_ACTIVATE;
  // folio_clear_dirty_for_io: swap cannot write back through mappings, the flag is all.
  if (test_and_clear_bit(PG_dirty, &f->flags)) {
    folio_set_reclaim(f);
    swap_writeout(f);
    if (!folio_test_writeback(f)) folio_clear_reclaim(f);  // synchronous write
    trace_event("mm_vmscan_write_folio", "pfn=%#lx", folio_pfn(f));
    return PAGE_SUCCESS;
  }
  return PAGE_CLEAN;
}

// mm/vmscan.c: __remove_mapping. The folio is locked and unmapped; take it out of the
// page cache or the swap cache if only the cache and the isolation hold references (a
// pin or any other holder keeps it). When reclaim evicts it (`reclaimed`), a workingset
// shadow takes its slot (mm/workingset.cc), unless the file is being evicted.
bool __remove_mapping(address_space* mapping, folio* f, bool reclaimed) {
  void* shadow = nullptr;
  // folio_ref_freeze(folio, 1 + 1): the cache's reference and isolation's.
  if (folio_ref_count(f) != 2) return false;
  if (unlikely(folio_test_dirty(f))) return false;
  if (folio_test_swapcache(f)) {
    swp_entry_t swap = f->swap;
    // The swap cache's mapping is never exiting.
    if (reclaimed) shadow = workingset_eviction(f);
    __swap_cache_del_folio(f, swap, shadow);
    put_swap_folio(f, swap);  // the slot keeps the PTEs' references and the data
    folio_ref_sub(f, 1);      // the cache's reference
    return true;
  }
  if (reclaimed && folio_is_file_lru(f) && !mapping_exiting(mapping))
    shadow = workingset_eviction(f);
  __filemap_remove_folio(f, shadow);
  folio_put_refs(f, 1);  // filemap_free_folio: the cache's reference
  return true;
}

// mm/vmscan.c: shrink_folio_list. Returns the folios reclaimed; those kept stay on
// folio_list (activated ones with PG_active set).
unsigned long shrink_folio_list(list_head* folio_list, scan_control* sc, reclaim_stat* stat,
                                bool ignore_references) {
  list_head ret_folios;
  INIT_LIST_HEAD(&ret_folios);
  list_head free_folios;
  INIT_LIST_HEAD(&free_folios);
  unsigned long nr_reclaimed = 0;
  *stat = reclaim_stat{};
  while (!list_empty(folio_list)) {
    folio_references references = FOLIOREF_RECLAIM;
    bool dirty, writeback;
    folio* f = list_last_entry(folio_list, folio, lru);
    list_del(&f->lru);
    long nr_pages;
    if (!folio_trylock(f)) goto keep;
    // Account the number of base pages.
    nr_pages = folio_nr_pages(f);
    sc->nr_scanned += nr_pages;
    if (unlikely(!folio_evictable(f))) goto activate_locked;
    // Large folios here are anon THPs: a swap-backed one is split on the way to swap
    // (below); a lazyfree (MADV_FREE) one stays whole and try_to_unmap discards it.
    if (!sc->may_unmap && folio_mapped(f)) goto keep_locked;
    // Dirty folios not yet queued for I/O tell reclaim to nudge the flushers.
    folio_check_dirty_writeback(f, &dirty, &writeback);
    if (dirty || writeback) stat->nr_dirty++;
    if (dirty && !writeback) stat->nr_unqueued_dirty++;
    if (folio_test_writeback(f)) {
      // Under writeback (case 2 of Linux's three): mark it for immediate reclaim once
      // written, and move it out of the way. DEVIATION(vmscan): I/O completes at once
      // here (mm/fs.h), so only a writer racing with reclaim is ever seen in this state.
      folio_set_reclaim(f);
      stat->nr_writeback++;
      goto activate_locked;
    }
    if (!ignore_references) references = folio_check_references(f, sc);
    switch (references) {
      case FOLIOREF_ACTIVATE:
        goto activate_locked;
      case FOLIOREF_KEEP:
        stat->nr_ref_keep++;
        goto keep_locked;
      case FOLIOREF_RECLAIM:
      case FOLIOREF_RECLAIM_CLEAN:
        break;  // try to reclaim the folio below
    }
    // Anonymous memory needs a swap slot to go; a lazyfree folio can go without one.
    if (folio_test_anon(f) && folio_test_swapbacked(f)) {
      if (!folio_test_swapcache(f)) {
        if (!(sc->gfp_mask & __GFP_IO)) goto keep_locked;
        if (folio_maybe_dma_pinned(f)) goto keep_locked;
        if (folio_test_large(f)) {
          // Cannot split the folio: skip it.
          if (!can_split_folio(f, 1, nullptr)) goto activate_locked;
          // Split partially mapped folios right away: the unmapped pages need no I/O.
          if (!list_empty(folio_deferred_list(f)) && folio_test_partially_mapped(f) &&
              split_folio_to_list(f, folio_list))
            goto activate_locked;
        }
        if (folio_alloc_swap(f)) {
          if (!folio_test_large(f)) goto activate_locked;  // activate_locked_split
          // Fall back to swapping the pages one by one: the 511 others join folio_list.
          if (split_folio_to_list(f, folio_list)) goto activate_locked;
          count_vm_event(THP_SWPOUT_FALLBACK);  // nr_pages >= HPAGE_PMD_NR
          if (folio_alloc_swap(f)) goto activate_locked;  // activate_locked_split
        }
        // A MADV_FREE folio whose PTE lost its dirty bit would not be written: always
        // dirty it so the swap copy is made.
        folio_mark_dirty(f);
      }
    }
    // DEVIATION(vmscan): shmem folios stay (no shmem_writeout).
    if (!folio_test_anon(f) && (folio_test_swapbacked(f) || shmem_mapping(f->mapping)))
      goto activate_locked;
    // A folio split above: its tail pages make their own pass and are counted then.
    if (nr_pages > 1 && !folio_test_large(f)) {
      sc->nr_scanned -= nr_pages - 1;
      nr_pages = 1;
    }
    // The folio is mapped into the page tables of one or more processes: unmap it
    // (a PMD-mapped one with TTU_SPLIT_HUGE_PMD: see try_to_unmap_one).
    if (folio_mapped(f)) {
      const bool was_swapbacked = folio_test_swapbacked(f);
      try_to_unmap(f);
      if (folio_mapped(f)) {
        (void)was_swapbacked;  // nr_lazyfree_fail
        goto activate_locked;
      }
    }
    // Unmapped, it cannot be newly pinned; a pinned one is not reclaimed.
    if (folio_maybe_dma_pinned(f)) goto activate_locked;
    if (folio_test_dirty(f)) {
      if (folio_is_file_lru(f)) {
        // Reclaim does not write filesystem folios (6.18's pageout() returns PAGE_ACTIVATE
        // for them, kswapd or not): mark the folio for immediate reclaim once written and
        // leave it to the flushers, which shrink_inactive_list wakes.
        folio_set_reclaim(f);
        goto activate_locked;
      }
      if (references == FOLIOREF_RECLAIM_CLEAN) goto keep_locked;
      switch (pageout(f)) {
        case PAGE_KEEP:
          goto keep_locked;
        case PAGE_ACTIVATE:
          goto activate_locked;
        case PAGE_SUCCESS:
          if (folio_test_writeback(f)) goto keep;
          if (folio_test_dirty(f)) goto keep;
          // A synchronous write: try to free the folio now.
          if (!folio_trylock(f)) goto keep;
          if (folio_test_dirty(f) || folio_test_writeback(f)) goto keep_locked;
          [[fallthrough]];
        case PAGE_CLEAN:
          break;
      }
    }
    if (folio_test_anon(f) && !folio_test_swapbacked(f)) {
      // folio_ref_freeze(folio, 1): only the isolation holds a lazyfree folio.
      if (folio_ref_count(f) != 1) goto keep_locked;
      count_vm_events(PGLAZYFREED, nr_pages);
    } else if (folio_test_swapcache(f)) {
      if (!__remove_mapping(nullptr, f, true)) goto keep_locked;
    } else if (folio_test_anon(f) || f->mapping == nullptr ||
               !__remove_mapping(f->mapping, f, true)) {
      goto keep_locked;
    }
    folio_unlock(f);
    nr_reclaimed += nr_pages;
    list_add(&f->lru, &free_folios);
    continue;
  activate_locked:
    // Not a candidate for swapping, so reclaim swap space.
    if (folio_test_swapcache(f) && (vm_swap_full() || folio_test_mlocked(f))) folio_free_swap(f);
    if (!folio_test_mlocked(f) && !folio_test_active(f)) {
      folio_set_active(f);
      stat->nr_activate[folio_is_file_lru(f)]++;
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
  count_vm_events(PGACTIVATE, stat->nr_activate[0] + stat->nr_activate[1]);
  return nr_reclaimed;
}

// mm/vmscan.c: reclaim_folio_list. Reclaim what can be reclaimed of the isolated folios
// (unmapping allowed, swap allowed); the rest go back to the LRU.
unsigned int reclaim_folio_list(list_head* folio_list) {
  scan_control sc{};
  sc.gfp_mask = GFP_KERNEL;
  sc.may_unmap = true;
  sc.may_swap = true;
  reclaim_stat dummy_stat;
  unsigned int nr_reclaimed =
      static_cast<unsigned int>(shrink_folio_list(folio_list, &sc, &dummy_stat, true));
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
    // Activations age the nonresident clock as evictions do (mm/workingset.cc).
    if (folio_test_active(f)) workingset_age_nonresident(lv, folio_nr_pages(f));
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
  reclaim_stat stat;
  unsigned long nr_reclaimed = shrink_folio_list(&folio_list, sc, &stat, false);
  move_folios_to_lru(lv, &folio_list);
  count_vm_events(current_is_kswapd() ? PGSTEAL_KSWAPD : PGSTEAL_DIRECT, static_cast<long>(nr_reclaimed));
  // Only dirty folios not queued for I/O at the tail: the flushers are behind (or
  // asleep). Nudge them.
  if (stat.nr_unqueued_dirty == nr_taken) wakeup_flusher_threads(WB_REASON_VMSCAN);
  trace_event("mm_vmscan_lru_shrink_inactive", "nr_scanned=%lu nr_reclaimed=%lu lru=%s", nr_scanned,
              nr_reclaimed, lru_list_name(lru));
  return nr_reclaimed;
}

// mm/vmscan.c: shrink_active_list. Deactivates the scanned folios, except referenced
// executable file folios, which get another trip round the active list.
void shrink_active_list(unsigned long nr_to_scan, lruvec* lv, scan_control* /*sc*/, lru_list lru) {
  list_head l_hold;
  INIT_LIST_HEAD(&l_hold);
  unsigned long nr_scanned;
  isolate_lru_folios(nr_to_scan, lv, &l_hold, &nr_scanned, lru);
  list_head l_active;
  INIT_LIST_HEAD(&l_active);
  list_head l_inactive;
  INIT_LIST_HEAD(&l_inactive);
  long nr_deactivate = 0;
  while (!list_empty(&l_hold)) {
    cond_resched();
    folio* f = list_last_entry(&l_hold, folio, lru);
    list_del(&f->lru);
    if (unlikely(!folio_evictable(f))) {
      folio_add_lru(f);  // folio_putback_lru
      folio_put(f);
      continue;
    }
    // Referenced or rmap lock contention: rotate.
    vm_flags_t vm_flags;
    if (folio_referenced(f, 0, &vm_flags) != 0) {
      // Executable code gets a better chance to stay under moderate pressure; anon
      // VM_EXEC folios (JITs) do not.
      if ((vm_flags & VM_EXEC) && folio_is_file_lru(f)) {
        list_add(&f->lru, &l_active);
        continue;
      }
    }
    folio_clear_active(f);  // we are de-activating
    folio_set_workingset(f);
    list_add(&f->lru, &l_inactive);
    nr_deactivate++;
  }
  move_folios_to_lru(lv, &l_active);
  move_folios_to_lru(lv, &l_inactive);
  count_vm_events(PGDEACTIVATE, nr_deactivate);
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
  const bool scan_anon = sc->may_swap && get_nr_swap_pages() > 0;  // can_reclaim_anon_pages
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

// mm/shrinker.c: do_shrink_slab for the one shrinker there is. Scan a share of the
// queue that grows as the priority drops (freeable >> priority, times 4 / DEFAULT_SEEKS),
// plus what earlier calls left over, in SHRINK_BATCH steps.
static unsigned long do_shrink_slab(int priority) {
  constexpr long kBatchSize = 128;  // SHRINK_BATCH (the shrinker sets no batch)
  constexpr long kSeeks = 2;        // DEFAULT_SEEKS
  const long freeable = static_cast<long>(deferred_split_count());
  if (freeable == 0) return 0;
  long& nr_deferred = kst().deferred_split_queue.nr_deferred;
  const long nr = nr_deferred;  // xchg_nr_deferred
  nr_deferred = 0;
  const long delta = (freeable >> priority) * 4 / kSeeks;
  long total_scan = (nr >> priority) + delta;
  total_scan = std::min(total_scan, 2 * freeable);
  unsigned long freed = 0;
  long scanned = 0;
  // Scan in batches; a queue smaller than a batch is scanned whole once total_scan
  // reaches its size.
  while (total_scan >= kBatchSize || total_scan >= freeable) {
    const long nr_to_scan = std::min(kBatchSize, total_scan);
    const unsigned long ret = deferred_split_scan(static_cast<unsigned long>(nr_to_scan));
    if (ret == SHRINK_STOP) break;
    freed += ret;
    total_scan -= nr_to_scan;
    scanned += nr_to_scan;
  }
  // What was not done is left for the next call, within twice what there is.
  long next_deferred = std::max(nr + delta - scanned, 0L);
  next_deferred = std::min(next_deferred, 2 * freeable);
  nr_deferred += next_deferred;  // add_nr_deferred
  return freed;
}

// mm/shrinker.c: shrink_slab. DEVIATION(vmscan): the only shrinker is the THP deferred
// split queue's (thp-deferred_split); there are no slab caches to shrink and no memcg.
unsigned long shrink_slab(gfp_t /*gfp_mask*/, int priority) {
  return do_shrink_slab(priority);
}

// mm/vmscan.c: shrink_node (one node, no memcg hierarchy; shrink_node_memcgs's
// shrink_lruvec then shrink_slab).
void shrink_node(scan_control* sc) {
  zone* pgdat = kst().zone_normal;
  unsigned long nr_reclaimed = sc->nr_reclaimed;
  shrink_lruvec(&pgdat->__lruvec, sc);
  shrink_slab(sc->gfp_mask, sc->priority);
  // Progress revives a kswapd that gave up on the node (direct reclaim's too).
  if (sc->nr_reclaimed - nr_reclaimed) pgdat->kswapd_failures = 0;
}

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

// ---- kswapd ----

// mm/vmscan.c: kswapd_age_node. Keep the inactive anon list from running dry, so that
// the anon folios the next rounds look at have had time to be referenced again.
void kswapd_age_node(zone* pgdat, scan_control* sc) {
  if (!(sc->may_swap && kst().total_swap_pages > 0)) return;  // can_age_anon_pages
  lruvec* lv = mem_cgroup_lruvec(pgdat);
  if (!inactive_is_low(lv, LRU_INACTIVE_ANON)) return;
  shrink_active_list(SWAP_CLUSTER_MAX, lv, sc, LRU_ACTIVE_ANON);
}

// mm/vmscan.c
bool pgdat_watermark_boosted(zone* pgdat, int /*highest_zoneidx*/) { return pgdat->watermark_boost; }

// mm/vmscan.c: pgdat_balanced. Is the zone above its high watermark for this order?
bool pgdat_balanced(zone* pgdat, int order, int highest_zoneidx) {
  unsigned long mark = high_wmark_pages(pgdat);  // no NUMA_BALANCING_MEMORY_TIERING
  return zone_watermark_ok(pgdat, static_cast<unsigned int>(order), mark, highest_zoneidx, 0);
}

// mm/vmscan.c: prepare_kswapd_sleep. May kswapd sleep: the zone is balanced, or kswapd
// has failed so often that the node is hopeless (left to direct reclaim)?
// DEVIATION(vmscan): no pfmemalloc_wait (no direct reclaim throttling) and no
// PGDAT_* congestion flags to clear.
bool prepare_kswapd_sleep(zone* pgdat, int order, int highest_zoneidx) {
  if (pgdat->kswapd_failures >= MAX_RECLAIM_RETRIES) return true;
  return pgdat_balanced(pgdat, order, highest_zoneidx);
}

// mm/vmscan.c: kswapd_shrink_node. One round at sc->priority, aiming at the high
// watermark's worth of pages. True if it scanned (or reclaimed) that much, so that
// balance_pgdat need not scan harder.
bool kswapd_shrink_node(zone* pgdat, scan_control* sc) {
  unsigned long nr_reclaimed = sc->nr_reclaimed;
  sc->nr_to_reclaim = std::max(high_wmark_pages(pgdat), SWAP_CLUSTER_MAX);
  shrink_node(sc);
  // A high-order request that got twice its size back rechecks at order 0.
  if (sc->order && sc->nr_reclaimed >= (2UL << sc->order)) sc->order = 0;  // compact_gap
  return std::max(sc->nr_scanned, sc->nr_reclaimed - nr_reclaimed) >= sc->nr_to_reclaim;
}

// mm/vmscan.c: balance_pgdat. Reclaim, priority 12 down to 1, until the zone is over its
// high watermark. Returns the order it ended at.
// DEVIATION(vmscan): no watermark boosting to account for (watermark_boost stays 0:
// there is no fragmentation-driven boost), no PAGEOUTRUN count, no freezer.
int balance_pgdat(zone* pgdat, int order, int highest_zoneidx) {
  scan_control sc{};
  sc.gfp_mask = GFP_KERNEL;
  sc.order = order;
  sc.may_unmap = true;
  trace_call tc("balance_pgdat", "order=%d free=%ld high=%lu", order, pgdat->free_pages,
                high_wmark_pages(pgdat));
  unsigned long nr_boost_reclaim = pgdat->watermark_boost;
  sc.priority = DEF_PRIORITY;
  do {
    unsigned long nr_reclaimed = sc.nr_reclaimed;
    bool raise_priority = true;
    const bool balanced = pgdat_balanced(pgdat, sc.order, highest_zoneidx);
    if (!nr_boost_reclaim && balanced) goto out;
    sc.may_writepage = !nr_boost_reclaim;  // !laptop_mode
    sc.may_swap = !nr_boost_reclaim;
    // Background aging: give anon folios a chance to be referenced before reclaim.
    kswapd_age_node(pgdat, &sc);
    if (sc.priority < DEF_PRIORITY - 2) sc.may_writepage = true;
    sc.nr_scanned = 0;
    if (kswapd_shrink_node(pgdat, &sc)) raise_priority = false;
    if (kthread_should_stop()) break;
    nr_reclaimed = sc.nr_reclaimed - nr_reclaimed;
    nr_boost_reclaim -= std::min(nr_boost_reclaim, nr_reclaimed);
    if (nr_boost_reclaim && !nr_reclaimed) break;
    if (raise_priority || !nr_reclaimed) sc.priority--;
    cond_resched();
  } while (sc.priority >= 1);
  if (!sc.nr_reclaimed) pgdat->kswapd_failures++;
out:
  tc.ret(sc.nr_reclaimed);
  return sc.order;
}

// mm/vmscan.c: kswapd_highest_zoneidx. MAX_NR_ZONES means no new request: keep the last.
int kswapd_highest_zoneidx(zone* pgdat, int prev_highest_zoneidx) {
  int curr_idx = pgdat->kswapd_highest_zoneidx;
  return curr_idx == MAX_NR_ZONES ? prev_highest_zoneidx : curr_idx;
}

// kswapd sleeps until wakeup_kswapd sets it running again, or kthread_stop.
bool kswapd_woken(const void* arg) {
  const task_struct* tsk = static_cast<const task_struct*>(arg);
  return tsk->__state == TASK_RUNNING || tsk->kthread_should_stop;
}

// mm/vmscan.c: kswapd_try_to_sleep. If the zone is balanced, sleep on kswapd_wait until
// the allocator wakes kswapd again.
// DEVIATION(vmscan): no timers, so no short HZ/10 nap before the full sleep (Linux naps
// first to catch a premature sleep; here "remaining" is always 0), and no kcompactd to
// wake and no per-CPU vmstat thresholds to switch.
void kswapd_try_to_sleep(zone* pgdat, int /*alloc_order*/, int reclaim_order,
                         int highest_zoneidx) {
  task_struct* tsk = current();
  if (kthread_should_stop()) return;
  // prepare_to_wait(&pgdat->kswapd_wait, &wait, TASK_INTERRUPTIBLE)
  pgdat->kswapd_wait_active = true;
  tsk->__state = TASK_INTERRUPTIBLE;
  if (prepare_kswapd_sleep(pgdat, reclaim_order, highest_zoneidx)) {
    trace_event("mm_vmscan_kswapd_sleep", "nid=0");
    if (!kthread_should_stop()) sched_wait(&pgdat->kswapd_wait_active, "kswapd_wait", kswapd_woken, tsk);
  }
  // finish_wait
  tsk->__state = TASK_RUNNING;
  pgdat->kswapd_wait_active = false;
}

// mm/vmscan.c: kswapd, the thread's body: sleep while the zone is balanced; when woken,
// balance it to the high watermark.
int kswapd(void* p) {
  zone* pgdat = static_cast<zone*>(p);
  task_struct* tsk = current();
  int alloc_order, reclaim_order;
  int highest_zoneidx = MAX_NR_ZONES - 1;
  // A memory allocator itself: its own allocations may use the reserves, and it never
  // recurses into reclaim.
  tsk->flags |= PF_MEMALLOC | PF_KSWAPD;
  pgdat->kswapd_order = 0;
  pgdat->kswapd_highest_zoneidx = MAX_NR_ZONES;
  for (;;) {
    alloc_order = reclaim_order = pgdat->kswapd_order;
    highest_zoneidx = kswapd_highest_zoneidx(pgdat, highest_zoneidx);
  kswapd_try_sleep:
    kswapd_try_to_sleep(pgdat, alloc_order, reclaim_order, highest_zoneidx);
    // The new order and zone index a waker asked for.
    alloc_order = pgdat->kswapd_order;
    highest_zoneidx = kswapd_highest_zoneidx(pgdat, highest_zoneidx);
    pgdat->kswapd_order = 0;
    pgdat->kswapd_highest_zoneidx = MAX_NR_ZONES;
    if (kthread_should_stop()) break;
    trace_event("mm_vmscan_kswapd_wake", "nid=0 zid=%d order=%d", highest_zoneidx, alloc_order);
    reclaim_order = balance_pgdat(pgdat, alloc_order, highest_zoneidx);
    if (reclaim_order < alloc_order) goto kswapd_try_sleep;
  }
  tsk->flags &= ~(PF_MEMALLOC | PF_KSWAPD);
  return 0;
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
  if (get_nr_swap_pages() > 0)  // can_reclaim_anon_pages
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
  sc.may_writepage = true;  // !laptop_mode
  sc.may_unmap = true;
  sc.may_swap = true;
  trace_call tc("try_to_free_pages", "order=%d gfp=%#x", order, gfp_mask);
  return tc.ret(do_try_to_free_pages(&sc));
}

// mm/vmscan.c: wakeup_kswapd. The zone fell below its low watermark: record the order
// asked for and wake kswapd, unless it is awake already, the zone is balanced after
// all, or kswapd has given up on it (then direct reclaim does the work).
void wakeup_kswapd(zone* z, gfp_t gfp_flags, int order, int highest_zoneidx) {
  zone* pgdat = z;
  if (zone_managed_pages(z) == 0) return;  // managed_zone
  int curr_idx = pgdat->kswapd_highest_zoneidx;
  if (curr_idx == MAX_NR_ZONES || curr_idx < highest_zoneidx)
    pgdat->kswapd_highest_zoneidx = highest_zoneidx;
  if (pgdat->kswapd_order < order) pgdat->kswapd_order = order;
  if (!pgdat->kswapd_wait_active) return;  // waitqueue_active
  // Hopeless node, leave it to direct reclaim if possible.
  if (pgdat->kswapd_failures >= MAX_RECLAIM_RETRIES ||
      (pgdat_balanced(pgdat, order, highest_zoneidx) &&
       !pgdat_watermark_boosted(pgdat, highest_zoneidx)))
    return;  // (no kcompactd to wake)
  trace_event("mm_vmscan_wakeup_kswapd", "nid=0 zid=%d order=%d gfp=%#x", highest_zoneidx, order,
              gfp_flags);
  wake_up_process(pgdat->kswapd);  // wake_up_interruptible(&pgdat->kswapd_wait)
}

// mm/vmscan.c: kswapd_run. Start the node's kswapd ("kswapd0").
void kswapd_run(int nid) {
  zone* pgdat = kst().zone_normal;
  if (pgdat->kswapd != nullptr) return;
  char name[16];
  std::snprintf(name, sizeof(name), "kswapd%d", nid);
  task_struct* t = kthread_run(kswapd, pgdat, name);
  if (IS_ERR(t)) {
    // Failure at boot is fatal in Linux (BUG_ON(system_state < SYSTEM_RUNNING)).
    BUG();
  }
  pgdat->kswapd = t;
}

// mm/vmscan.c: kswapd_init (module_init): one kswapd per node with memory.
int kswapd_init() {
  kswapd_run(0);
  return 0;
}

}  // namespace kernel
