// mm/swap_state.cc: the swap cache.
//
// Port of mm/swap_state.c at Linux 6.18 (swap_cache_get_folio, swap_cache_get_shadow,
// swap_cache_add_folio, __swap_cache_del_folio, swap_cache_del_folio,
// swap_cache_clear_shadow, __read_swap_cache_async, read_swap_cache_async,
// swapin_readahead).
//
// Deviations (grep "DEVIATION(swap_state)"):
//  - The cache is a host map per device (slot -> folio), not 6.18's swap table in the
//    clusters. Adding to it can fail as the xarray's node allocation could before 6.18:
//    the failslab point is consulted there (one kmalloc of an xa_node).
//  - swap_cache_del_folio gives the slot's SWAP_HAS_CACHE back itself (6.17's
//    delete_from_swap_cache: __delete_from_swap_cache + put_swap_folio + the reference).
//  - swapin_readahead reads the one page asked for: no cluster or VMA readahead window.
//  - Shadow entries (mm/workingset.cc) are a second host map beside the cache
//    (swap_info_struct::shadows), not value entries in the same table.
#include <new>

#include "mm/fault_inject.h"
#include "mm/kernel.h"
#include "mm/mm.h"
#include "mm/swap.h"
#include "mm/trace.h"

namespace kernel {

// mm/swap_state.c: swap_cache_get_folio. The folio caching this slot, with a
// reference, or null.
folio* swap_cache_get_folio(swp_entry_t entry) {
  swap_info_struct* si = swp_swap_info(entry);
  if (si == nullptr) return nullptr;
  auto it = si->swap_cache.find(swp_offset(entry));
  if (it == si->swap_cache.end()) return nullptr;
  folio* f = it->second;
  folio_get(f);
  return f;
}

// mm/swap_state.c: swap_cache_get_shadow. The workingset shadow reclaim left in the
// slot, or null.
void* swap_cache_get_shadow(swp_entry_t entry) {
  swap_info_struct* si = swp_swap_info(entry);
  if (si == nullptr) return nullptr;
  auto it = si->shadows.find(swp_offset(entry));
  return it == si->shadows.end() ? nullptr : it->second;
}

// mm/swap_state.c: swap_cache_add_folio. The locked, swap-backed folio caches the
// slot (which its caller holds with SWAP_HAS_CACHE); the cache takes a reference. A
// shadow in the slot is replaced, and handed to the caller through *shadowp.
// 0 or -ENOMEM.
int swap_cache_add_folio(folio* f, swp_entry_t entry, gfp_t gfp, void** shadowp) {
  VM_BUG_ON_FOLIO(!folio_test_locked(f), f);
  VM_BUG_ON_FOLIO(folio_test_swapcache(f), f);
  VM_BUG_ON_FOLIO(!folio_test_swapbacked(f), f);
  swap_info_struct* si = swp_swap_info(entry);
  if (si == nullptr) return -EINVAL;
  // DEVIATION(swap_state): xas_nomem's node allocation, through the failslab point.
  if (should_failslab(64, gfp)) {
    trace_event("swap_cache_add_fail", "offset=%lu injected", swp_offset(entry));
    return -ENOMEM;
  }
  try {
    si->swap_cache.emplace(swp_offset(entry), f);
  } catch (const std::bad_alloc&) {
    return -ENOMEM;
  }
  folio_ref_add(f, 1);
  folio_set_swapcache(f);
  f->swap = entry;
  auto old = si->shadows.find(swp_offset(entry));
  if (old != si->shadows.end()) {
    if (shadowp) *shadowp = old->second;
    si->shadows.erase(old);
  }
  return 0;
}

// mm/swap_state.c: __swap_cache_del_folio. The folio leaves the cache, `shadow` (if
// any) taking its place; the caller deals with the slot and the cache's reference.
void __swap_cache_del_folio(folio* f, swp_entry_t entry, void* shadow) {
  VM_BUG_ON_FOLIO(!folio_test_locked(f), f);
  VM_BUG_ON_FOLIO(!folio_test_swapcache(f), f);
  VM_BUG_ON_FOLIO(folio_test_writeback(f), f);
  VM_BUG_ON_FOLIO(f->swap.val != entry.val, f);
  swap_info_struct* si = swp_swap_info(entry);
  si->swap_cache.erase(swp_offset(entry));
  if (shadow) {
    // DEVIATION(swap_state): the slot's entry exists already in Linux's table, so storing
    // the shadow cannot fail there; if the host map cannot grow, the shadow is dropped
    // (the refault then counts as a first fault).
    try {
      si->shadows[swp_offset(entry)] = shadow;
    } catch (const std::bad_alloc&) {
    }
  }
  f->swap.val = 0;
  folio_clear_swapcache(f);
}

// mm/swap_state.c: swap_cache_del_folio. Out of the cache, the slot's cache hold given
// back, the cache's reference dropped (the caller still holds one).
void swap_cache_del_folio(folio* f) {
  swp_entry_t entry = f->swap;
  __swap_cache_del_folio(f, entry, nullptr);
  put_swap_folio(f, entry);
  folio_ref_sub(f, 1);
}

// mm/swap_state.c: swap_cache_clear_shadow. Slots [begin, end] were freed: their
// shadows go (a new use of the slot must not look like a refault).
void swap_cache_clear_shadow(int type, unsigned long begin, unsigned long end) {
  swap_info_struct* si = kst().swap_info;
  if (si == nullptr || si->type != type || si->shadows.empty()) return;
  for (unsigned long offset = begin; offset <= end; ++offset) si->shadows.erase(offset);
}

// mm/swap_state.c: free_swap_cache. A page zap just unmapped for the last time keeps
// no swap slot: it leaves the swap cache if nothing else refers to the slot (the
// folio itself goes with the gather's reference).
void free_swap_cache(folio* f) {
  if (folio_test_swapcache(f) && !folio_mapped(f) && folio_trylock(f)) {
    folio_free_swap(f);
    folio_unlock(f);
  }
}

// mm/swap_state.c: __read_swap_cache_async. The slot's folio from the cache, or a new
// locked one added to the cache and the LRU (*new_page_allocated: the caller reads it).
// Null when no page could be had, or the slot was freed meanwhile.
static folio* __read_swap_cache_async(swp_entry_t entry, gfp_t gfp_mask, vm_area_struct* vma,
                                      unsigned long addr, bool* new_page_allocated) {
  *new_page_allocated = false;
  folio* new_folio = nullptr;
  for (;;) {
    folio* f = swap_cache_get_folio(entry);
    if (f) return f;
    // swap_entry_swapped: a slot nobody refers to any more has nothing to read.
    if (!__swap_count(entry)) goto put_and_return;
    new_folio = vma_alloc_folio(gfp_mask, 0, vma, addr);
    if (new_folio == nullptr) goto put_and_return;
    int err = swapcache_prepare(entry);
    if (!err) break;
    folio_put(new_folio);
    new_folio = nullptr;
    if (err != -EEXIST) goto put_and_return;
    // Another path is adding the slot's folio: look again (it is there now, since
    // nothing here sleeps between its swapcache_prepare and its swap_cache_add_folio).
  }
  __folio_set_locked(new_folio);
  folio_set_swapbacked(new_folio);  // __folio_set_swapbacked
  {
    void* shadow = nullptr;
    if (swap_cache_add_folio(new_folio, entry, gfp_mask, &shadow)) goto fail_unlock;
    // The page was reclaimed from here before: a refault (mm/workingset.cc).
    if (shadow) workingset_refault(new_folio, shadow);
  }
  folio_add_lru(new_folio);
  *new_page_allocated = true;
  return new_folio;
fail_unlock:
  put_swap_folio(new_folio, entry);
  folio_unlock(new_folio);
put_and_return:
  if (new_folio) folio_put(new_folio);
  return nullptr;
}

// mm/swap_state.c: read_swap_cache_async. The slot's folio, read in if it was not in the
// swap cache, with a reference (unlocked once the synchronous read is done). For
// MADV_WILLNEED: the pages come in without being mapped.
folio* read_swap_cache_async(swp_entry_t entry, gfp_t gfp_mask, vm_area_struct* vma,
                             unsigned long addr) {
  bool page_allocated;
  folio* f = __read_swap_cache_async(entry, gfp_mask, vma, addr, &page_allocated);
  if (page_allocated) swap_read_folio(f);
  return f;
}

// mm/swap_state.c: swapin_readahead. DEVIATION(swap_state): the faulting page only.
folio* swapin_readahead(swp_entry_t entry, gfp_t gfp_mask, vm_fault* vmf) {
  bool page_allocated;
  folio* f = __read_swap_cache_async(entry, gfp_mask, vmf->vma, vmf->address, &page_allocated);
  if (f && page_allocated) swap_read_folio(f);
  return f;
}

}  // namespace kernel
