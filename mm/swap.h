// mm/swap.h: swap entries, the swap device and the swap cache.
//
// Port of include/linux/swap.h, include/linux/swapops.h, mm/swap.h and the swap half of
// arch/x86/include/asm/pgtable_64.h at Linux 6.18.
//
// Deviations (grep "DEVIATION(swap_h)"):
//  - One swap device (type 0) at most, a partition "/dev/mmsim-swap" made at boot from
//    the machine's swap= size (mm/swapfile.cc: swapon_simulated). Its blocks are host
//    memory, kept only for slots that were written (mm/page_io.cc).
//  - No non-swap entries (migration, device, hwpoison, PTE markers): every non-present,
//    non-none PTE is a swap entry.
//  - No swap count continuation: a slot counts at most SWAP_MAP_MAX references, one more
//    fails (swap_duplicate -ENOMEM; fork then fails as add_swap_count_continuation's
//    failure does in Linux).
#ifndef MMSIM_MM_SWAP_H_
#define MMSIM_MM_SWAP_H_

#include <memory>
#include <string>
#include <unordered_map>

#include "mm/arch/x86/pgtable.h"
#include "mm/gfp.h"
#include "mm/mm_types.h"

namespace kernel {

struct vm_fault;

// ---- the arch-independent entry (include/linux/swapops.h) ----
inline constexpr int MAX_SWAPFILES_SHIFT = 5;
inline constexpr int MAX_SWAPFILES = 1 << MAX_SWAPFILES_SHIFT;  // DEVIATION(swap_h): no non-swap types
inline constexpr int BITS_PER_XA_VALUE = 64 - 1;
inline constexpr int SWP_TYPE_SHIFT = BITS_PER_XA_VALUE - MAX_SWAPFILES_SHIFT;
inline constexpr unsigned long SWP_OFFSET_MASK = (1UL << SWP_TYPE_SHIFT) - 1;

// include/linux/swapops.h
inline swp_entry_t swp_entry(unsigned long type, unsigned long offset) {
  return swp_entry_t{(type << SWP_TYPE_SHIFT) | (offset & SWP_OFFSET_MASK)};
}
inline unsigned int swp_type(swp_entry_t entry) {
  return static_cast<unsigned int>(entry.val >> SWP_TYPE_SHIFT);
}
inline unsigned long swp_offset(swp_entry_t entry) { return entry.val & SWP_OFFSET_MASK; }
inline bool non_swap_entry(swp_entry_t entry) { return swp_type(entry) >= MAX_SWAPFILES; }

// ---- x86-64's PTE layout of a swap entry (arch/x86/include/asm/pgtable_64.h) ----
// | type (5) | inverted offset (50) | 0 0 0 0 0 | E | 0 0 0 0 0 P=0 |
// bits 63..59 type, 58..9 the offset inverted (so a non-present PTE never names real
// memory to a speculating CPU: L1TF), bit 7 (PSE) the exclusive marker.
inline constexpr int SWP_TYPE_BITS = 5;
inline constexpr int SWP_OFFSET_FIRST_BIT = _PAGE_BIT_PROTNONE + 1;
inline constexpr int SWP_OFFSET_SHIFT = SWP_OFFSET_FIRST_BIT + SWP_TYPE_BITS;
inline constexpr pteval_t _PAGE_SWP_EXCLUSIVE = _PAGE_PSE;

inline unsigned long __swp_type(swp_entry_t x) { return x.val >> (64 - SWP_TYPE_BITS); }
inline unsigned long __swp_offset(swp_entry_t x) {
  return ~x.val << SWP_TYPE_BITS >> SWP_OFFSET_SHIFT;
}
inline swp_entry_t __swp_entry(unsigned long type, unsigned long offset) {
  return swp_entry_t{(~offset << SWP_OFFSET_SHIFT >> SWP_TYPE_BITS) |
                     (type << (64 - SWP_TYPE_BITS))};
}
inline swp_entry_t __pte_to_swp_entry(pte_t pte) { return swp_entry_t{pte_val(pte)}; }
inline pte_t __swp_entry_to_pte(swp_entry_t x) { return __pte(x.val); }

// arch/x86/include/asm/pgtable.h
inline bool pte_swp_exclusive(pte_t pte) { return pte_flags(pte) & _PAGE_SWP_EXCLUSIVE; }
inline pte_t pte_swp_mkexclusive(pte_t pte) { return pte_set_flags(pte, _PAGE_SWP_EXCLUSIVE); }
inline pte_t pte_swp_clear_exclusive(pte_t pte) {
  return pte_clear_flags(pte, _PAGE_SWP_EXCLUSIVE);
}

// include/linux/swapops.h: a non-present, non-none PTE.
inline bool is_swap_pte(pte_t pte) { return !pte_none(pte) && !pte_present(pte); }
// include/linux/swapops.h: the flag bits (exclusive; no soft-dirty, no uffd-wp) are
// cleared before the entry is decoded.
inline pte_t pte_swp_clear_flags(pte_t pte) { return pte_swp_clear_exclusive(pte); }
inline swp_entry_t pte_to_swp_entry(pte_t pte) {
  pte = pte_swp_clear_flags(pte);
  swp_entry_t arch_entry = __pte_to_swp_entry(pte);
  return swp_entry(__swp_type(arch_entry), __swp_offset(arch_entry));
}
inline pte_t swp_entry_to_pte(swp_entry_t entry) {
  swp_entry_t arch_entry = __swp_entry(swp_type(entry), swp_offset(entry));
  return __swp_entry_to_pte(arch_entry);
}

// ---- the swap device (include/linux/swap.h) ----
inline constexpr unsigned char SWAP_HAS_CACHE = 0x40;  // a swap-cache folio holds the slot
inline constexpr unsigned char COUNT_CONTINUED = 0x80;  // (never set: no continuation)
inline constexpr unsigned char SWAP_MAP_MAX = 0x3e;     // most references one byte counts
inline constexpr unsigned char SWAP_MAP_BAD = 0x3f;     // the header page 0
enum {
  SWP_USED = 1 << 0,
  SWP_WRITEOK = 1 << 1,
};
// The name /proc/swaps shows for the device.
inline constexpr const char* SWAP_DEVICE_NAME = "/dev/mmsim-swap";

// include/linux/swap.h: one swap device. DEVIATION(swap_h): no clusters, no plist, no
// swap_file/bdev; the blocks and the swap cache (Linux: the swap table) are host maps.
struct swap_info_struct {
  unsigned long flags = 0;  // SWP_USED | SWP_WRITEOK
  short prio = -2;          // swapon's default priority for the first device
  signed char type = 0;
  unsigned int max = 0;     // slots, including the header slot 0
  unsigned char* swap_map = nullptr;  // per slot: references | SWAP_HAS_CACHE
  unsigned long lowest_bit = 1, highest_bit = 0;  // the slot range to search
  unsigned long cluster_next = 1;  // where the next search starts (round robin)
  unsigned int pages = 0;          // usable slots (max - 1)
  unsigned int inuse_pages = 0;    // slots with a reference or a cache folio
  // The swap cache of this device: slot -> folio (swap_address_space's xarray).
  std::unordered_map<unsigned long, folio*> swap_cache;
  // DEVIATION(swap_h): the same xarray's value entries: slot -> the workingset shadow
  // (xa_mk_value) of the folio reclaim took out of the cache. A slot has a folio or a
  // shadow, never both; the shadow goes when the slot is freed.
  std::unordered_map<unsigned long, void*> shadows;
  // The device's blocks: one host page per slot that was ever written (page_io.cc).
  std::unordered_map<unsigned long, std::unique_ptr<unsigned char[]>> blocks;
  unsigned long nr_blocks_failed = 0;  // writes the host refused memory for
};

// ---- mm/swapfile.c ----
// DEVIATION(swap_h): sys_swapon for the machine's one device, at boot: `bytes` of swap
// (a multiple of PAGE_SIZE; the first page is the header, as mkswap leaves it). 0 or
// -ENOMEM (the host refused the swap map) / -EINVAL.
int swapon_simulated(unsigned long bytes);
// Frees the device's host memory (kernel_shutdown; after every mm is gone).
void swap_shutdown(kernel_state* ks);
swap_info_struct* swp_swap_info(swp_entry_t entry);
int folio_alloc_swap(folio* f);                      // a slot + the swap cache; 0 or -ENOMEM
void put_swap_folio(folio* f, swp_entry_t entry);    // the cache's hold on the slot goes
int swap_duplicate(swp_entry_t entry);               // one more reference; 0 or -errno
void swap_free(swp_entry_t entry);                   // one reference less
void free_swap_and_cache(swp_entry_t entry);         // zap: a reference less, cache freed
// mm/swap.c: MADV_FREE's step: a clean exclusive anon folio loses PG_swapbacked.
void folio_mark_lazyfree(folio* f);
bool folio_free_swap(folio* f);                      // try_to_free_swap before 6.9
int __swap_count(swp_entry_t entry);                 // references (no cache bit)
bool folio_swapped(folio* f);                        // the folio's slot still referenced
bool vm_swap_full();
long get_nr_swap_pages();
// swapcache_prepare: claim SWAP_HAS_CACHE for a read; -EEXIST if a folio has it.
int swapcache_prepare(swp_entry_t entry);
void swapcache_clear(swap_info_struct* si, swp_entry_t entry);

// ---- mm/swap_state.c ----
folio* swap_cache_get_folio(swp_entry_t entry);
void free_swap_cache(folio* f);  // zap's last unmap: the slot goes if unreferenced
// Adds the folio; a shadow the slot held is taken out and returned in *shadowp (if given).
int swap_cache_add_folio(folio* f, swp_entry_t entry, gfp_t gfp, void** shadowp);
// Takes the folio out; a non-null shadow is left in the slot in its place.
void __swap_cache_del_folio(folio* f, swp_entry_t entry, void* shadow);
void swap_cache_del_folio(folio* f);
void* swap_cache_get_shadow(swp_entry_t entry);  // the slot's shadow, or null
// The shadows of slots [begin, end] of device `type` go (the slots were freed).
void swap_cache_clear_shadow(int type, unsigned long begin, unsigned long end);
folio* swapin_readahead(swp_entry_t entry, gfp_t gfp_mask, vm_fault* vmf);
// mm/swap_state.c: read_swap_cache_async. The slot's folio in the swap cache (read in if
// it was not there), unmapped, with a reference; null if none could be had.
folio* read_swap_cache_async(swp_entry_t entry, gfp_t gfp_mask, vm_area_struct* vma,
                             unsigned long addr);

// ---- include/linux/xarray.h: value entries (what shadows are) ----
inline void* xa_mk_value(unsigned long v) { return reinterpret_cast<void*>((v << 1) | 1); }
inline unsigned long xa_to_value(const void* entry) {
  return reinterpret_cast<unsigned long>(entry) >> 1;
}
inline bool xa_is_value(const void* entry) { return reinterpret_cast<unsigned long>(entry) & 1; }

// ---- mm/workingset.c (declared in include/linux/swap.h) ----
// The shadow of a folio reclaim is evicting (locked, off the LRU): the eviction time on
// the lruvec's nonresident_age clock, the node and whether the folio was in the workingset.
void* workingset_eviction(folio* f);
// Would a refault of a folio evicted at `shadow` have fitted in the workingset?
bool workingset_test_recent(void* shadow, bool file, bool* workingset);
// A new locked folio took the place of `shadow`: count the refault and activate it if
// the refault distance is within the workingset.
void workingset_refault(folio* f, void* shadow);
// A folio was activated (folio_mark_accessed): the nonresident clock ticks.
void workingset_activation(folio* f);
// Decodes a shadow: memcg id, node, eviction time and the workingset bit.
void unpack_shadow(void* shadow, int* memcgidp, int* nidp, unsigned long* evictionp,
                   bool* workingsetp);
struct lruvec;
void workingset_age_nonresident(lruvec* lv, unsigned long nr_pages);
// Boot: bucket_order from the memory size (module_init in Linux).
void workingset_init();

// ---- mm/page_io.c ----
int swap_writeout(folio* f);
void swap_read_folio(folio* f);

}  // namespace kernel

#endif  // MMSIM_MM_SWAP_H_
