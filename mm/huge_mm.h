// mm/huge_mm.h: transparent huge pages (include/linux/huge_mm.h) at Linux 6.18, the
// anonymous, PMD-sized part: the sysfs knobs, the fault, zap, split, fork and mprotect
// entry points of mm/huge_memory.cc, and the page-table deposit of mm/pgtable-generic.c.
#ifndef MMSIM_MM_HUGE_MM_H_
#define MMSIM_MM_HUGE_MM_H_

#include "mm/mm.h"

namespace kernel {

inline constexpr int HPAGE_PMD_SHIFT = PMD_SHIFT;
inline constexpr unsigned int HPAGE_PMD_ORDER = HPAGE_PMD_SHIFT - PAGE_SHIFT;  // 9
inline constexpr unsigned int PMD_ORDER = HPAGE_PMD_ORDER;
inline constexpr long HPAGE_PMD_NR = 1L << HPAGE_PMD_ORDER;  // 512
inline constexpr unsigned long HPAGE_PMD_SIZE = 1UL << HPAGE_PMD_SHIFT;
inline constexpr unsigned long HPAGE_PMD_MASK = ~(HPAGE_PMD_SIZE - 1);

// include/linux/huge_mm.h: the bits of transparent_hugepage_flags (kernel_state), set by
// /sys/kernel/mm/transparent_hugepage/{enabled,defrag,use_zero_page}.
enum transparent_hugepage_flag {
  TRANSPARENT_HUGEPAGE_UNSUPPORTED,
  TRANSPARENT_HUGEPAGE_FLAG,           // enabled=always
  TRANSPARENT_HUGEPAGE_REQ_MADV_FLAG,  // enabled=madvise
  TRANSPARENT_HUGEPAGE_DEFRAG_DIRECT_FLAG,
  TRANSPARENT_HUGEPAGE_DEFRAG_KSWAPD_FLAG,
  TRANSPARENT_HUGEPAGE_DEFRAG_KSWAPD_OR_MADV_FLAG,
  TRANSPARENT_HUGEPAGE_DEFRAG_REQ_MADV_FLAG,
  TRANSPARENT_HUGEPAGE_DEFRAG_KHUGEPAGED_FLAG,
  TRANSPARENT_HUGEPAGE_USE_ZERO_PAGE_FLAG,
};
// mm/huge_memory.c: the boot default with CONFIG_TRANSPARENT_HUGEPAGE_MADVISE (the
// differential host's): enabled=madvise, defrag=madvise, use_zero_page=1.
inline constexpr unsigned long TRANSPARENT_HUGEPAGE_DEFAULT_FLAGS =
    (1UL << TRANSPARENT_HUGEPAGE_REQ_MADV_FLAG) |
    (1UL << TRANSPARENT_HUGEPAGE_DEFRAG_REQ_MADV_FLAG) |
    (1UL << TRANSPARENT_HUGEPAGE_DEFRAG_KHUGEPAGED_FLAG) |
    (1UL << TRANSPARENT_HUGEPAGE_USE_ZERO_PAGE_FLAG);
// What `machine thp=` / --thp= write to the `enabled` knob: 0 never, 1 madvise, 2 always.
enum thp_enabled_mode { THP_NEVER = 0, THP_MADVISE = 1, THP_ALWAYS = 2 };
void set_transparent_hugepage_enabled(kernel_state* ks, thp_enabled_mode mode);
const char* transparent_hugepage_enabled_name(const kernel_state* ks);  // "always" ...
// What `machine thp_defrag=` / --thp_defrag= write to the `defrag` knob, one flag each
// (never: none of them).
enum thp_defrag_mode {
  THP_DEFRAG_ALWAYS,         // "always": TRANSPARENT_HUGEPAGE_DEFRAG_DIRECT_FLAG
  THP_DEFRAG_DEFER,          // "defer": ..._DEFRAG_KSWAPD_FLAG
  THP_DEFRAG_DEFER_MADVISE,  // "defer+madvise": ..._DEFRAG_KSWAPD_OR_MADV_FLAG
  THP_DEFRAG_MADVISE,        // "madvise" (the default): ..._DEFRAG_REQ_MADV_FLAG
  THP_DEFRAG_NEVER,          // "never"
};
void set_transparent_hugepage_defrag(kernel_state* ks, thp_defrag_mode mode);
const char* transparent_hugepage_defrag_name(const kernel_state* ks);  // "always" ...
// `use_zero_page` (`machine thp_use_zero_page=0|1`): whether a read fault maps the huge
// zero folio.
void set_transparent_hugepage_use_zero_page(kernel_state* ks, bool on);

// include/linux/huge_mm.h
bool hugepage_global_enabled();
bool hugepage_global_always();
bool transparent_hugepage_use_zero_page();
// May the VMA hold a PMD-mapped THP at all (knobs, VM_HUGEPAGE / VM_NOHUGEPAGE)?
bool thp_vma_allowable_order(vm_area_struct* vma, vm_flags_t vm_flags, unsigned int order);
// Does the aligned 2 MiB around addr lie inside the VMA?
bool thp_vma_suitable_order(vm_area_struct* vma, unsigned long addr, unsigned int order);

// ---- the huge zero folio ----
bool is_huge_zero_folio(const folio* f);
bool is_huge_zero_pmd(pmd_t pmd);

// ---- faults ----
vm_fault_t do_huge_pmd_anonymous_page(vm_fault* vmf);
vm_fault_t do_huge_pmd_wp_page(vm_fault* vmf);
void huge_pmd_set_accessed(vm_fault* vmf);

// ---- teardown, split, fork, mprotect ----
// 1 if the huge pmd was zapped (the folio goes with the gather), 0 if it was not one.
int zap_huge_pmd(mmu_gather* tlb, vm_area_struct* vma, pmd_t* pmd, unsigned long addr);
// Replace a huge pmd by a PTE table mapping the same folio (thp_split_pmd).
void __split_huge_pmd(vm_area_struct* vma, pmd_t* pmd, unsigned long address, bool freeze);
void split_huge_pmd_address(vm_area_struct* vma, unsigned long address, bool freeze);
// The same with the pmd lock held and `address` the huge page's start (a PMD leaf that
// page_vma_mapped_walk found for one folio).
void split_huge_pmd_locked(vm_area_struct* vma, unsigned long address, pmd_t* pmd, bool freeze);
// mm/huge_memory.c: a VMA is about to be cut at start/end: split the huge pmds the cuts
// would run through.
void vma_adjust_trans_huge(vm_area_struct* vma, unsigned long start, unsigned long end,
                           vm_area_struct* next);
// 0: copied; -EAGAIN: not a huge pmd any more (split; copy the PTEs); -ENOMEM.
int copy_huge_pmd(mm_struct* dst_mm, mm_struct* src_mm, pmd_t* dst_pmd, pmd_t* src_pmd,
                  unsigned long addr, vm_area_struct* dst_vma, vm_area_struct* src_vma);
// include/linux/huge_mm.h: the page-table lock if *pmd is a huge pmd, else null.
spinlock_t* __pmd_trans_huge_lock(pmd_t* pmd, vm_area_struct* vma);
// mm/huge_memory.c: MADV_FREE over a huge pmd covering [addr, next): true if done there
// (a whole THP made lazy free), false to go on with the PTEs (after a split).
bool madvise_free_huge_pmd(mmu_gather* tlb, vm_area_struct* vma, pmd_t* pmd, unsigned long addr,
                           unsigned long next);
// mm/huge_memory.c: try_to_unmap_one's step for a lazy-free PMD-mapped THP: discard it
// whole (true), or keep it mapped (false; made swap-backed again if it was redirtied).
bool unmap_huge_pmd_locked(vm_area_struct* vma, unsigned long addr, pmd_t* pmdp, folio* f);
// mm/internal.h: fpb_t, what folio_pte_batch_flags compares and merges.
using fpb_t = unsigned int;
inline constexpr fpb_t FPB_RESPECT_DIRTY = 1u << 0;       // a dirty bit ends the batch
inline constexpr fpb_t FPB_RESPECT_SOFT_DIRTY = 1u << 1;  // so does a soft-dirty bit
inline constexpr fpb_t FPB_RESPECT_WRITE = 1u << 2;       // and a write bit
inline constexpr fpb_t FPB_MERGE_WRITE = 1u << 3;         // writable if any was
inline constexpr fpb_t FPB_MERGE_YOUNG_DIRTY = 1u << 4;   // young/dirty if any was

unsigned int folio_pte_batch_flags(folio* f, vm_area_struct* vma, pte_t* ptep, pte_t* ptentp,
                                   unsigned int max_nr, fpb_t flags);
// mm/util.c: the run of PTEs from ptep that map consecutive pages of f (at most max_nr),
// with no FPB_* flags: only the pfns and the bits that matter.
unsigned int folio_pte_batch(folio* f, pte_t* ptep, pte_t pte, unsigned int max_nr);
// mm/khugepaged.c / mm/madvise.c: MADV_HUGEPAGE / MADV_NOHUGEPAGE on one VMA's flags.
int hugepage_madvise(vm_area_struct* vma, vm_flags_t* vm_flags, int advice);
// mm/huge_memory.c: thp_get_unmapped_area_vmflags, an address for an unhinted anonymous
// mapping of a 2 MiB multiple, aligned to 2 MiB when there is room.
unsigned long thp_get_unmapped_area_vmflags(file* filp, unsigned long addr, unsigned long len,
                                            unsigned long pgoff, unsigned long flags);

// ---- folio split and the deferred split queue (mm/huge_memory.c) ----
// Split a locked large anon folio (the caller holds one reference) into order-0 folios:
// 0, or -EAGAIN when something besides its mappings holds it (a GUP pin). The head stays
// locked; new folios go after it on the LRU, or on `list` (each with a reference) when
// the head was isolated; those nothing maps are freed.
int split_huge_page_to_list_to_order(page* p, list_head* list, unsigned int new_order);
int split_folio_to_list(folio* f, list_head* list);
int split_folio(folio* f);
bool can_split_folio(folio* f, int caller_pins, int* pextra_pins);
// Queue a partially mapped THP for the split (thp_deferred_split_page).
void deferred_split_folio(folio* f, bool partially_mapped);
// Off the queue (the folio is being freed): mm/internal.h's inline and its slow path.
bool folio_unqueue_deferred_split(folio* f);
bool __folio_unqueue_deferred_split(folio* f);
// The deferred split shrinker: count_objects and scan_objects.
unsigned long deferred_split_count();
unsigned long deferred_split_scan(unsigned long nr_to_scan);
// include/linux/shrinker.h
inline constexpr unsigned long SHRINK_STOP = ~0UL;
inline constexpr unsigned long SHRINK_EMPTY = ~0UL - 1;

// ---- mm/pgtable-generic.c: the PTE table a huge pmd keeps for its split ----
void pgtable_trans_huge_deposit(mm_struct* mm, pmd_t* pmdp, page* pgtable);
page* pgtable_trans_huge_withdraw(mm_struct* mm, pmd_t* pmdp);

// ---- rmap of PMD mappings and PTE ranges (mm/rmap.cc) ----
void folio_add_anon_rmap_ptes(folio* f, page* p, int nr_pages, vm_area_struct* vma,
                              unsigned long address, rmap_t flags);
void folio_add_anon_rmap_pmd(folio* f, page* p, vm_area_struct* vma, unsigned long address,
                             rmap_t flags);
void folio_remove_rmap_pmd(folio* f, page* p, vm_area_struct* vma);
int folio_try_dup_anon_rmap_pmd(folio* f, page* p, vm_area_struct* dst_vma,
                                vm_area_struct* src_vma);
// mm/rmap.c: folio_move_anon_rmap. An exclusive folio moves to the VMA's own anon_vma.
void folio_move_anon_rmap(folio* f, vm_area_struct* vma);

}  // namespace kernel

#endif  // MMSIM_MM_HUGE_MM_H_
