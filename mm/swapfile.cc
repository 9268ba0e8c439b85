// mm/swapfile.cc: the swap device's slots and their reference counts.
//
// Port of mm/swapfile.c at Linux 6.18 (folio_alloc_swap, swap_range_alloc/free,
// swap_entries_free, put_swap_folio, __swap_duplicate / swap_duplicate, swap_free,
// free_swap_and_cache, __try_to_reclaim_swap, folio_free_swap, __swap_count,
// folio_swapped, swapcache_prepare, swapcache_clear, get_nr_swap_pages / vm_swap_full of
// include/linux/swap.h and mm/swap.h).
//
// Deviations (grep "DEVIATION(swapfile)"):
//  - No swap clusters, no per-CPU allocation caches, no SSD or rotational heuristics: a
//    slot is the next free one from a round-robin cursor (scan_swap_map_slots of Linux
//    4.x, before clusters), searched between lowest_bit and highest_bit.
//  - One device made at boot (swapon_simulated, not sys_swapon: no swap header parsing,
//    no bad blocks, no swapoff/try_to_unuse). Its priority is -2, the first device's.
//  - No count continuation (COUNT_CONTINUED): swap_duplicate fails past SWAP_MAP_MAX.
//  - nr_swap_pages is a plain counter in kernel_state (atomic_long_t in Linux).
#include <cstring>
#include <new>

#include "mm/kernel.h"
#include "mm/mm.h"
#include "mm/printk.h"
#include "mm/swap.h"
#include "mm/trace.h"

namespace kernel {
namespace {

unsigned char swap_count(unsigned char ent) { return ent & ~SWAP_HAS_CACHE; }

// mm/swapfile.c: swap_range_alloc. A slot is taken: the free count goes down.
void swap_range_alloc(swap_info_struct* si, unsigned long offset) {
  if (offset == si->lowest_bit) si->lowest_bit++;
  if (offset == si->highest_bit) si->highest_bit--;
  si->inuse_pages++;
  if (si->inuse_pages == si->pages) {
    si->lowest_bit = si->max;
    si->highest_bit = 0;
  }
  kst().nr_swap_pages--;
}

// mm/swapfile.c: swap_range_free. The slot is free again; its block is dropped
// (swap_slot_free_notify's discard), its workingset shadow too, and it joins the search
// range.
void swap_range_free(swap_info_struct* si, unsigned long offset) {
  swap_cache_clear_shadow(si->type, offset, offset);
  if (offset < si->lowest_bit) si->lowest_bit = offset;
  if (offset > si->highest_bit) si->highest_bit = offset;
  si->blocks.erase(offset);
  si->inuse_pages--;
  kst().nr_swap_pages++;
}

// mm/swapfile.c: scan_swap_map_slots, reduced (see the banner). 0 when full.
unsigned long scan_swap_map_slots(swap_info_struct* si, unsigned char usage) {
  if (!(si->flags & SWP_WRITEOK) || si->inuse_pages == si->pages) return 0;
  unsigned long offset = si->cluster_next;
  if (offset < si->lowest_bit || offset > si->highest_bit) offset = si->lowest_bit;
  const unsigned long start = offset;
  while (si->swap_map[offset]) {
    if (++offset > si->highest_bit) offset = si->lowest_bit;
    if (offset == start) return 0;
  }
  si->swap_map[offset] = usage;
  swap_range_alloc(si, offset);
  si->cluster_next = offset + 1;
  return offset;
}

// mm/swapfile.c: swap_entries_free. The last reference and the cache are gone.
void swap_entries_free(swap_info_struct* si, swp_entry_t entry) {
  const unsigned long offset = swp_offset(entry);
  VM_BUG_ON(si->swap_map[offset] != 0);
  swap_range_free(si, offset);
  trace_event("swap_entry_free", "offset=%lu", offset);
}

// mm/swapfile.c: swap_entry_put_locked. Drops `usage` (1 or SWAP_HAS_CACHE); frees the
// slot when nothing holds it any more. Returns what is left.
unsigned char swap_entry_put_locked(swap_info_struct* si, swp_entry_t entry,
                                    unsigned char usage) {
  const unsigned long offset = swp_offset(entry);
  unsigned char count = si->swap_map[offset];
  unsigned char has_cache = count & SWAP_HAS_CACHE;
  count &= ~SWAP_HAS_CACHE;
  if (usage == SWAP_HAS_CACHE) {
    VM_BUG_ON(!has_cache);
    has_cache = 0;
  } else {
    VM_BUG_ON(count == 0);
    count--;
  }
  usage = count | has_cache;
  si->swap_map[offset] = usage;
  if (!usage) swap_entries_free(si, entry);
  return usage;
}

// mm/swapfile.c: __try_to_reclaim_swap, for the one slot zap just released: if the
// swap cache holds a folio nobody maps, drop it from the cache (the slot goes with it).
int __try_to_reclaim_swap(swap_info_struct* /*si*/, unsigned long /*offset*/, swp_entry_t entry) {
  folio* f = swap_cache_get_folio(entry);
  if (f == nullptr) return 0;
  int ret = 0;
  if (folio_trylock(f)) {
    if (folio_test_swapcache(f) && f->swap.val == entry.val) ret = folio_free_swap(f) ? 1 : 0;
    folio_unlock(f);
  }
  folio_put(f);
  return ret;
}

}  // namespace

// mm/swapfile.c: _swap_info_get / swp_swap_info. The device of an entry, or null.
swap_info_struct* swp_swap_info(swp_entry_t entry) {
  swap_info_struct* si = kst().swap_info;
  if (si == nullptr || swp_type(entry) != static_cast<unsigned int>(si->type)) return nullptr;
  if (swp_offset(entry) >= si->max) return nullptr;
  return si;
}

// include/linux/swap.h
long get_nr_swap_pages() { return static_cast<long>(kst().nr_swap_pages); }

// mm/swap.h: vm_swap_full. More than half the swap in use: keep no slot for a page
// that is in memory anyway.
bool vm_swap_full() { return kst().nr_swap_pages * 2 < kst().total_swap_pages; }

// mm/swapfile.c: folio_alloc_swap. A slot for the folio, held by SWAP_HAS_CACHE, and
// the folio in the swap cache under it. 0, or -ENOMEM (no free slot, or the cache
// could not grow).
int folio_alloc_swap(folio* f) {
  VM_BUG_ON_FOLIO(!folio_test_locked(f), f);
  VM_BUG_ON_FOLIO(!folio_test_uptodate(f), f);
  // DEVIATION(swapfile): no swap clusters, so no run of slots for a large folio: refuse
  // it as Linux 6.18 does without CONFIG_THP_SWAP; the caller splits it and retries.
  if (folio_test_large(f)) return -EAGAIN;
  swap_info_struct* si = kst().swap_info;
  if (si == nullptr || get_nr_swap_pages() <= 0) return -ENOMEM;
  unsigned long offset = scan_swap_map_slots(si, SWAP_HAS_CACHE);
  if (offset == 0) return -ENOMEM;
  swp_entry_t entry = swp_entry(si->type, offset);
  if (swap_cache_add_folio(f, entry, __GFP_HIGH | __GFP_NOWARN, nullptr)) {
    put_swap_folio(f, entry);
    return -ENOMEM;
  }
  trace_event("folio_alloc_swap", "pfn=%#lx offset=%lu", folio_pfn(f), offset);
  return 0;
}

// mm/swapfile.c: put_swap_folio. The swap cache no longer holds the slot.
void put_swap_folio(folio* /*f*/, swp_entry_t entry) {
  swap_info_struct* si = swp_swap_info(entry);
  if (si == nullptr) return;
  swap_entry_put_locked(si, entry, SWAP_HAS_CACHE);
}

// mm/swapfile.c: __swap_duplicate, usage 1. -ENOENT for a free slot (a stale entry),
// -ENOMEM past SWAP_MAP_MAX (DEVIATION(swapfile): no continuation).
int swap_duplicate(swp_entry_t entry) {
  swap_info_struct* si = swp_swap_info(entry);
  if (si == nullptr) return -EINVAL;
  const unsigned long offset = swp_offset(entry);
  unsigned char ent = si->swap_map[offset];
  if (unlikely(ent == SWAP_MAP_BAD)) return -ENOENT;
  unsigned char has_cache = ent & SWAP_HAS_CACHE;
  unsigned char count = swap_count(ent);
  if (!count && !has_cache) return -ENOENT;
  if (count >= SWAP_MAP_MAX) return -ENOMEM;
  si->swap_map[offset] = (count + 1) | has_cache;
  return 0;
}

// include/linux/swap.h: swap_free (swap_free_nr, nr = 1).
void swap_free(swp_entry_t entry) {
  swap_info_struct* si = swp_swap_info(entry);
  if (si == nullptr) return;
  swap_entry_put_locked(si, entry, 1);
}

// mm/swapfile.c: free_swap_and_cache (free_swap_and_cache_nr, nr = 1). Zap dropped a
// swap PTE: its reference goes, and a swap-cache folio left without one is freed too.
void free_swap_and_cache(swp_entry_t entry) {
  swap_info_struct* si = swp_swap_info(entry);
  if (si == nullptr) return;
  const unsigned long offset = swp_offset(entry);
  unsigned char left = swap_entry_put_locked(si, entry, 1);
  if (left == SWAP_HAS_CACHE) __try_to_reclaim_swap(si, offset, entry);
}

// mm/swapfile.c: __swap_count. The references to the slot (PTEs), without the cache.
int __swap_count(swp_entry_t entry) {
  swap_info_struct* si = swp_swap_info(entry);
  if (si == nullptr) return 0;
  return swap_count(si->swap_map[swp_offset(entry)]);
}

// mm/swapfile.c: folio_swapped. Does any PTE still refer to the folio's slot?
bool folio_swapped(folio* f) {
  if (!folio_test_swapcache(f)) return false;
  return __swap_count(f->swap) != 0;
}

// mm/swapfile.c: folio_free_swap (try_to_free_swap before 6.9). A locked swap-cache
// folio whose slot no PTE refers to leaves the swap cache; the slot is freed. True if so.
bool folio_free_swap(folio* f) {
  VM_BUG_ON_FOLIO(!folio_test_locked(f), f);
  if (!folio_test_swapcache(f)) return false;
  if (folio_test_writeback(f)) return false;
  if (folio_swapped(f)) return false;
  swap_cache_del_folio(f);
  // The page is in memory and its slot is gone: it must be written again if reclaimed.
  folio_set_dirty(f);
  return true;
}

// mm/swapfile.c: swapcache_prepare (__swap_duplicate with SWAP_HAS_CACHE). Claims the
// slot for a swap-in; -EEXIST if a folio is already in the cache for it, -ENOENT if the
// slot is free (the PTE changed meanwhile).
int swapcache_prepare(swp_entry_t entry) {
  swap_info_struct* si = swp_swap_info(entry);
  if (si == nullptr) return -EINVAL;
  const unsigned long offset = swp_offset(entry);
  unsigned char ent = si->swap_map[offset];
  unsigned char has_cache = ent & SWAP_HAS_CACHE;
  unsigned char count = swap_count(ent);
  if (!count && !has_cache) return -ENOENT;
  if (has_cache) return -EEXIST;
  si->swap_map[offset] = count | SWAP_HAS_CACHE;
  return 0;
}

// mm/swapfile.c: swapcache_clear. Undo swapcache_prepare (a swap-in that gave up).
void swapcache_clear(swap_info_struct* si, swp_entry_t entry) {
  swap_entry_put_locked(si, entry, SWAP_HAS_CACHE);
}

// DEVIATION(swapfile): sys_swapon reduced to what the machine's swap= needs: a
// device of bytes / PAGE_SIZE slots, slot 0 the header (SWAP_MAP_BAD, never used).
int swapon_simulated(unsigned long bytes) {
  kernel_state& ks = kst();
  if (ks.swap_info != nullptr) return -EBUSY;
  unsigned long maxpages = bytes >> PAGE_SHIFT;
  if (maxpages < 2 || maxpages > (1UL << 32)) return -EINVAL;
  auto* si = new (std::nothrow) swap_info_struct();
  if (si == nullptr) return -ENOMEM;
  si->swap_map = new (std::nothrow) unsigned char[maxpages]();
  if (si->swap_map == nullptr) {
    delete si;
    return -ENOMEM;
  }
  si->max = static_cast<unsigned int>(maxpages);
  si->swap_map[0] = SWAP_MAP_BAD;
  si->pages = static_cast<unsigned int>(maxpages - 1);
  si->lowest_bit = 1;
  si->highest_bit = maxpages - 1;
  si->cluster_next = 1;
  si->flags = SWP_USED | SWP_WRITEOK;
  ks.swap_info = si;
  ks.nr_swap_pages += si->pages;
  ks.total_swap_pages += si->pages;
  pr_info("Adding %luk swap on %s.  Priority:%d extents:1 across:%luk ", si->pages * (PAGE_SIZE / 1024),
          SWAP_DEVICE_NAME, si->prio, si->pages * (PAGE_SIZE / 1024));
  return 0;
}

void swap_shutdown(kernel_state* ks) {
  swap_info_struct* si = ks->swap_info;
  if (si == nullptr) return;
  delete[] si->swap_map;
  delete si;
  ks->swap_info = nullptr;
  ks->nr_swap_pages = 0;
  ks->total_swap_pages = 0;
}

}  // namespace kernel
