// mm/swap.cc: the LRU lists.
//
// Port of the LRU half of mm/swap.c at Linux 6.18 (folio_add_lru, lru_add, folio_activate,
// folio_mark_accessed, __page_cache_release) and of include/linux/mm_inline.h
// (folio_lru_list, lruvec_add_folio, lruvec_del_folio, update_lru_size).
//
// Deviations (grep "DEVIATION(swap)"):
//  - No per-CPU folio batches (cpu_fbatches): a folio joins or moves between the lists at
//    once, so no lru_add_drain is ever needed and the batches hold no references.
//  - No multi-gen LRU (CONFIG_LRU_GEN off, as lru_gen_enabled() is false by default on
//    most distributions): the two-list active/inactive scheme only.
//  - No memcg: one lruvec, the node's.
#include "mm/fs.h"
#include "mm/mm.h"
#include "mm/mmzone.h"
#include "mm/swap.h"
#include "mm/trace.h"

namespace kernel {

namespace {
const char* const kLruNames[NR_LRU_LISTS] = {"inactive_anon", "active_anon", "inactive_file",
                                             "active_file", "unevictable"};
}  // namespace

const char* lru_list_name(int lru) { return lru >= 0 && lru < NR_LRU_LISTS ? kLruNames[lru] : "?"; }

// include/linux/mm_inline.h: folio_is_file_lru. Swap-backed folios (anon, shmem) are anon LRU.
bool folio_is_file_lru(const folio* f) { return !folio_test_swapbacked(f); }

// mm/internal.h: folio_evictable. DEVIATION(swap): no unevictable mappings (SHM_LOCK,
// ramfs), so only mlock makes a folio unevictable.
bool folio_evictable(const folio* f) { return !folio_test_mlocked(f); }

// include/linux/mm_inline.h: folio_lru_list.
lru_list folio_lru_list(const folio* f) {
  VM_BUG_ON_FOLIO(folio_test_active(f) && folio_test_unevictable(f), const_cast<folio*>(f));
  if (folio_test_unevictable(f)) return LRU_UNEVICTABLE;
  int lru = folio_is_file_lru(f) ? LRU_INACTIVE_FILE : LRU_INACTIVE_ANON;
  if (folio_test_active(f)) lru += LRU_ACTIVE;
  return static_cast<lru_list>(lru);
}

// include/linux/mm_inline.h: update_lru_size (__update_lru_size + the zone's count).
static void update_lru_size(lruvec* lv, lru_list lru, long nr_pages) {
  lv->nr_pages[lru] += nr_pages;
  mod_node_page_state(static_cast<vm_stat_item>(NR_INACTIVE_ANON + static_cast<int>(lru)), nr_pages);
}

// include/linux/mm_inline.h
void lruvec_add_folio(lruvec* lv, folio* f) {
  lru_list lru = folio_lru_list(f);
  update_lru_size(lv, lru, folio_nr_pages(f));
  list_add(&f->lru, &lv->lists[lru]);
}

// include/linux/mm_inline.h
void lruvec_add_folio_tail(lruvec* lv, folio* f) {
  lru_list lru = folio_lru_list(f);
  update_lru_size(lv, lru, folio_nr_pages(f));
  list_add_tail(&f->lru, &lv->lists[lru]);
}

// include/linux/mm_inline.h
void lruvec_del_folio(lruvec* lv, folio* f) {
  lru_list lru = folio_lru_list(f);
  list_del(&f->lru);
  update_lru_size(lv, lru, -folio_nr_pages(f));
}

// mm/swap.c: lru_add. The folio goes on the list its flags name; one that cannot be
// evicted (mlocked, or in an unevictable mapping) goes on LRU_UNEVICTABLE.
static void lru_add(lruvec* lv, folio* f) {
  folio_test_clear_unevictable(f);
  VM_BUG_ON_FOLIO(folio_test_lru(f), f);
  if (!folio_evictable(f)) {
    folio_clear_active(f);
    folio_set_unevictable(f);
  }
  folio_set_lru(f);
  lruvec_add_folio(lv, f);
  trace_event("mm_lru_insertion", "pfn=%#lx lru=%s", folio_pfn(f), lru_list_name(folio_lru_list(f)));
}

// mm/swap.c: folio_add_lru. DEVIATION(swap): straight onto the list (no batch).
void folio_add_lru(folio* f) {
  VM_BUG_ON_FOLIO(folio_test_active(f) && folio_test_unevictable(f), f);
  VM_BUG_ON_FOLIO(folio_test_lru(f), f);
  lru_add(folio_lruvec(f), f);
}

// mm/swap.c: folio_add_lru_vma. A folio first mapped into a VM_LOCKED VMA is mlocked
// and goes straight onto the unevictable list (mm/mlock.cc).
void folio_add_lru_vma(folio* f, vm_area_struct* vma) {
  VM_BUG_ON_FOLIO(folio_test_lru(f), f);
  if (unlikely((vma->vm_flags & (VM_LOCKED | VM_SPECIAL)) == VM_LOCKED))
    mlock_new_folio(f);
  else
    folio_add_lru(f);
}

// mm/swap.c: lru_activate. An inactive folio moves to the head of its active list.
static void lru_activate(lruvec* lv, folio* f) {
  if (folio_test_active(f) || folio_test_unevictable(f)) return;
  lruvec_del_folio(lv, f);
  folio_set_active(f);
  lruvec_add_folio(lv, f);
  trace_event("mm_lru_activate", "pfn=%#lx", folio_pfn(f));
  count_vm_events(PGACTIVATE, folio_nr_pages(f));
}

// mm/swap.c: lru_move_tail. To the tail of the inactive list: reclaim's next pick.
static void lru_move_tail(lruvec* lv, folio* f) {
  if (folio_test_unevictable(f)) return;
  lruvec_del_folio(lv, f);
  folio_clear_active(f);
  lruvec_add_folio_tail(lv, f);
  trace_event("mm_lru_rotate", "pfn=%#lx", folio_pfn(f));
}

// mm/swap.c: folio_rotate_reclaimable. Writeback of a folio reclaim wanted gone
// finished: move it where reclaim looks next. DEVIATION(swap): at once (no lru_rotate
// batch); PGROTATED is not counted.
void folio_rotate_reclaimable(folio* f) {
  if (folio_test_locked(f) || folio_test_dirty(f) || folio_test_unevictable(f)) return;
  if (!folio_test_lru(f)) return;  // isolated, or on no list
  lru_move_tail(folio_lruvec(f), f);
}

// mm/swap.c: folio_activate.
void folio_activate(folio* f) {
  if (folio_test_lru(f)) lru_activate(folio_lruvec(f), f);
}

// mm/swap.c: folio_mark_accessed. The second access of an inactive folio activates it;
// accesses no PTE's accessed bit records (read(2), GUP with FOLL_TOUCH) come here.
void folio_mark_accessed(folio* f) {
  if (!folio_test_referenced(f)) {
    folio_set_referenced(f);
  } else if (folio_test_unevictable(f)) {
    // Unevictable folios are never aged.
  } else if (!folio_test_active(f)) {
    if (folio_test_lru(f))
      folio_activate(f);
    else
      folio_set_active(f);  // __lru_cache_activate_folio: DEVIATION(swap): no batch to search
    folio_clear_referenced(f);
    workingset_activation(f);
  }
}

// mm/swap.c: __page_cache_release. The last reference is gone: off the LRU.
void __page_cache_release(folio* f) {
  if (folio_test_lru(f)) {
    lruvec_del_folio(folio_lruvec(f), f);
    // __folio_clear_lru_flags
    folio_clear_lru(f);
    folio_clear_active(f);
    folio_clear_unevictable(f);
  }
  if (unlikely(folio_test_mlocked(f))) {
    // Freed while still mlocked (its last locked mapping went without munlock).
    const long nr_pages = folio_nr_pages(f);
    mod_node_page_state(NR_MLOCK, -nr_pages);  // __zone_stat_mod_folio
    folio_clear_mlocked(f);
    count_vm_events(UNEVICTABLE_PGCLEARED, nr_pages);
  }
}

}  // namespace kernel
