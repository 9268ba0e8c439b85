// mm/workingset.cc: workingset detection, the shadow entries reclaim leaves behind.
//
// Port of mm/workingset.c at Linux 6.18 (pack_shadow, unpack_shadow,
// workingset_age_nonresident, workingset_eviction, workingset_test_recent,
// workingset_refault, workingset_activation, workingset_init).
//
// When reclaim evicts a page-cache or swap-cache folio (__remove_mapping), the slot it
// leaves in the cache gets a shadow: the lruvec's nonresident_age at eviction, the node,
// the memcg and whether the folio was in the workingset (PG_workingset). nonresident_age
// ticks on every eviction and activation, so when the page is faulted back in
// (filemap_add_folio, or the swap-in path for anon) the difference is the refault
// distance: how many more slots the in-memory lists would have needed to keep it. If that
// fits in the workingset (the active file list, plus the anon lists when there is swap to
// put anon on, plus the inactive file list for an anon refault), the folio is activated
// at once instead of starting at the bottom of the inactive list.
//
// Deviations (grep "DEVIATION(workingset)"):
//  - No memcg: the memcg id packed is 0, the lruvec is the node's, and
//    workingset_eviction / workingset_test_recent take no memcg and no stats flush.
//  - No multi-gen LRU (lru_gen_eviction / lru_gen_refault; CONFIG_LRU_GEN off).
//  - No shadow-node shrinker (workingset_update_node, count/scan_shadow_nodes,
//    WORKINGSET_NODES / WORKINGSET_NODERECLAIM): shadows live until their slot is
//    reused, truncated or (swap) freed; their host memory is one map entry each.
//  - lru_note_cost_refault (the anon/file cost balance of get_scan_count) is not modelled:
//    get_scan_count here has no cost balance to feed.
//  - unpack_shadow is not static: debug_vm decodes shadows with it.
#include "mm/mm.h"
#include "mm/mmzone.h"
#include "mm/printk.h"
#include "mm/swap.h"
#include "mm/trace.h"

namespace kernel {
namespace {

// include/linux/xarray.h: BITS_PER_XA_VALUE is BITS_PER_LONG - 1.
constexpr int BITS_PER_LONG = 64;
constexpr int WORKINGSET_SHIFT = 1;
constexpr int NODES_SHIFT = 6;            // CONFIG_NODES_SHIFT of x86_64 (not MAXSMP)
constexpr int MEM_CGROUP_ID_SHIFT = 16;  // include/linux/memcontrol.h
constexpr int EVICTION_SHIFT =
    (BITS_PER_LONG - BITS_PER_XA_VALUE) + WORKINGSET_SHIFT + NODES_SHIFT + MEM_CGROUP_ID_SHIFT;
constexpr unsigned long EVICTION_MASK = ~0UL >> EVICTION_SHIFT;

// mm/workingset.c: pack_shadow.
void* pack_shadow(int memcgid, int node_id, unsigned long eviction, bool workingset) {
  eviction &= EVICTION_MASK;
  eviction = (eviction << MEM_CGROUP_ID_SHIFT) | static_cast<unsigned long>(memcgid);
  eviction = (eviction << NODES_SHIFT) | static_cast<unsigned long>(node_id);
  eviction = (eviction << WORKINGSET_SHIFT) | (workingset ? 1UL : 0UL);
  return xa_mk_value(eviction);
}

}  // namespace

// mm/workingset.c: unpack_shadow. DEVIATION(workingset): not static, debug_vm decodes
// shadows with it.
void unpack_shadow(void* shadow, int* memcgidp, int* nidp, unsigned long* evictionp,
                   bool* workingsetp) {
  unsigned long entry = xa_to_value(shadow);
  const bool workingset = entry & ((1UL << WORKINGSET_SHIFT) - 1);
  entry >>= WORKINGSET_SHIFT;
  const int nid = static_cast<int>(entry & ((1UL << NODES_SHIFT) - 1));
  entry >>= NODES_SHIFT;
  const int memcgid = static_cast<int>(entry & ((1UL << MEM_CGROUP_ID_SHIFT) - 1));
  entry >>= MEM_CGROUP_ID_SHIFT;
  *memcgidp = memcgid;
  *nidp = nid;
  *evictionp = entry;
  *workingsetp = workingset;
}

namespace {

// include/linux/vmstat.h: lruvec_page_state for the LRU sizes.
unsigned long lruvec_page_state(const lruvec* lv, lru_list lru) { return lv->nr_pages[lru]; }

}  // namespace

// mm/workingset.c: workingset_age_nonresident. DEVIATION(workingset): one lruvec, no
// parent memcgs to age as well.
void workingset_age_nonresident(lruvec* lv, unsigned long nr_pages) {
  lv->nonresident_age += nr_pages;
}

// mm/workingset.c: workingset_eviction. The folio is locked, off the LRU and on its way
// out of the cache. DEVIATION(workingset): Linux also asserts a frozen reference count
// (__remove_mapping froze it); this port's __remove_mapping checks the count instead.
void* workingset_eviction(folio* f) {
  VM_BUG_ON_FOLIO(folio_test_lru(f), f);
  VM_BUG_ON_FOLIO(!folio_test_locked(f), f);
  lruvec* lv = folio_lruvec(f);
  unsigned long eviction = lv->nonresident_age;
  eviction >>= kst().workingset_bucket_order;
  workingset_age_nonresident(lv, folio_nr_pages(f));
  void* shadow = pack_shadow(/*memcgid=*/0, /*node_id=*/0, eviction, folio_test_workingset(f));
  trace_event("mm_workingset_eviction", "pfn=%#lx eviction=%lu workingset=%d", folio_pfn(f),
              eviction, folio_test_workingset(f) ? 1 : 0);
  return shadow;
}

// mm/workingset.c: workingset_test_recent. Is the refault distance of `shadow` within
// the workingset the folio competes with?
bool workingset_test_recent(void* shadow, bool file, bool* workingset) {
  int memcgid, nid;
  unsigned long eviction;
  unpack_shadow(shadow, &memcgid, &nid, &eviction, workingset);
  eviction <<= kst().workingset_bucket_order;
  const lruvec* eviction_lruvec = &kst().zone_normal->__lruvec;  // mem_cgroup_lruvec(NULL, pgdat)
  const unsigned long refault = eviction_lruvec->nonresident_age;
  // The unsigned difference is right across a wrap of the clock (within EVICTION_MASK).
  const unsigned long refault_distance = (refault - eviction) & EVICTION_MASK;
  // Pages that could not stay resident even with all memory given to the workingset are
  // not activated. Anon competes only when there is swap to put it on.
  unsigned long workingset_size = lruvec_page_state(eviction_lruvec, LRU_ACTIVE_FILE);
  if (!file) workingset_size += lruvec_page_state(eviction_lruvec, LRU_INACTIVE_FILE);
  if (get_nr_swap_pages() > 0) {  // mem_cgroup_get_nr_swap_pages
    workingset_size += lruvec_page_state(eviction_lruvec, LRU_ACTIVE_ANON);
    if (file) workingset_size += lruvec_page_state(eviction_lruvec, LRU_INACTIVE_ANON);
  }
  trace_event("mm_workingset_test_recent", "file=%d distance=%lu workingset_size=%lu", file ? 1 : 0,
              refault_distance, workingset_size);
  return refault_distance <= workingset_size;
}

// mm/workingset.c: workingset_refault. `f` (locked, new, not yet on the LRU) replaces the
// page evicted at `shadow`: count the refault, and activate the folio if it was evicted
// recently enough; restore its workingset bit if it had it.
void workingset_refault(folio* f, void* shadow) {
  const bool file = folio_is_file_lru(f);
  VM_BUG_ON_FOLIO(!folio_test_locked(f), f);
  const long nr = folio_nr_pages(f);
  lruvec* lv = folio_lruvec(f);
  mod_node_page_state(static_cast<vm_stat_item>(WORKINGSET_REFAULT_ANON + file), nr);
  bool workingset;
  if (!workingset_test_recent(shadow, file, &workingset)) return;
  folio_set_active(f);
  workingset_age_nonresident(lv, nr);
  mod_node_page_state(static_cast<vm_stat_item>(WORKINGSET_ACTIVATE_ANON + file), nr);
  // The folio was active before it was evicted.
  if (workingset) {
    folio_set_workingset(f);
    mod_node_page_state(static_cast<vm_stat_item>(WORKINGSET_RESTORE_ANON + file), nr);
  }
}

// mm/workingset.c: workingset_activation. DEVIATION(workingset): no memcg to filter on.
void workingset_activation(folio* f) {
  workingset_age_nonresident(folio_lruvec(f), folio_nr_pages(f));
}

// mm/workingset.c: workingset_init. The shadow has EVICTION_MASK bits for the clock; on a
// machine whose page count needs more, evictions are counted in buckets of
// 2^bucket_order pages.
void workingset_init() {
  const unsigned int timestamp_bits = BITS_PER_LONG - EVICTION_SHIFT;
  const unsigned long pages = totalram_pages();
  // fls_long(totalram_pages() - 1)
  const unsigned int max_order = pages <= 1 ? 0 : 64 - __builtin_clzl(pages - 1);
  unsigned int bucket_order = 0;
  if (max_order > timestamp_bits) bucket_order = max_order - timestamp_bits;
  kst().workingset_bucket_order = bucket_order;
  pr_info("workingset: timestamp_bits=%d max_order=%d bucket_order=%u", timestamp_bits, max_order,
          bucket_order);
}

}  // namespace kernel
