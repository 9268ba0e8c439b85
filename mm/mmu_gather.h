// mm/mmu_gather.h: the mmu_gather, batching what an unmap frees until the TLB flush.
//
// Port of include/asm-generic/tlb.h at Linux 6.18: the gather, the range it records, and
// the page/table batches. The flush itself is the arch hook tlb_flush
// (mm/arch/x86/tlb.h); mm/mmu_gather.cc is mm/mmu_gather.c.
#ifndef MMSIM_MM_MMU_GATHER_H_
#define MMSIM_MM_MMU_GATHER_H_

#include "mm/arch/x86/pgtable.h"
#include "mm/arch/x86/tlb.h"
#include "mm/mm_types.h"

namespace kernel {

// (PAGE_SIZE - 2 * sizeof(void*)) / sizeof(void*), as for one mmu_gather_batch page.
inline constexpr unsigned int MAX_GATHER_BATCH = 510;

struct mmu_gather {
  mm_struct* mm;
  unsigned long start;
  unsigned long end;
  unsigned int fullmm : 1;          // tearing the whole address space down
  unsigned int need_flush_all : 1;
  unsigned int freed_tables : 1;    // page-table pages were unlinked
  unsigned int cleared_ptes : 1;
  unsigned int cleared_pmds : 1;
  unsigned int cleared_puds : 1;
  unsigned int cleared_p4ds : 1;
  unsigned int nr_pages;            // pages waiting for the flush
  unsigned int nr_tables;           // page-table pages waiting for the flush
  // One slot per page; a run of nr > 1 pages of one folio takes two (the first page
  // marked ENCODED_PAGE_BIT_NR_PAGES_NEXT, then nr), so one spare slot past the batch.
  page* pages[MAX_GATHER_BATCH + 1];
  page* tables[MAX_GATHER_BATCH];
};

void tlb_gather_mmu(mmu_gather* tlb, mm_struct* mm);
void tlb_gather_mmu_fullmm(mmu_gather* tlb, mm_struct* mm);
void tlb_finish_mmu(mmu_gather* tlb);
// Flush the TLB for the gathered range, then free what was gathered.
void tlb_flush_mmu(mmu_gather* tlb);
void tlb_flush_mmu_tlbonly(mmu_gather* tlb);
// Queue one reference of `p` to be dropped after the flush. True: the batch is full and
// the caller must tlb_flush_mmu() before queueing more.
bool __tlb_remove_page(mmu_gather* tlb, page* p, bool delay_rmap);
// The same for nr_pages consecutive pages of one folio (one reference each), as one entry.
bool __tlb_remove_folio_pages(mmu_gather* tlb, page* p, unsigned int nr_pages, bool delay_rmap);
inline void tlb_remove_page(mmu_gather* tlb, page* p) {
  if (__tlb_remove_page(tlb, p, false)) tlb_flush_mmu(tlb);
}
// Queue a page-table page (already pagetable_dtor'ed) to be freed after the flush.
void tlb_remove_table(mmu_gather* tlb, page* table);

inline void __tlb_adjust_range(mmu_gather* tlb, unsigned long address, unsigned long range_size) {
  if (address < tlb->start) tlb->start = address;
  if (address + range_size > tlb->end) tlb->end = address + range_size;
}
inline void tlb_flush_pte_range(mmu_gather* tlb, unsigned long address, unsigned long size) {
  __tlb_adjust_range(tlb, address, size);
  tlb->cleared_ptes = 1;
}
inline void tlb_flush_pmd_range(mmu_gather* tlb, unsigned long address, unsigned long size) {
  __tlb_adjust_range(tlb, address, size);
  tlb->cleared_pmds = 1;
}
inline void tlb_flush_pud_range(mmu_gather* tlb, unsigned long address, unsigned long size) {
  __tlb_adjust_range(tlb, address, size);
  tlb->cleared_puds = 1;
}
inline void tlb_flush_p4d_range(mmu_gather* tlb, unsigned long address, unsigned long size) {
  __tlb_adjust_range(tlb, address, size);
  tlb->cleared_p4ds = 1;
}
inline void tlb_remove_tlb_entry(mmu_gather* tlb, pte_t* /*ptep*/, unsigned long address) {
  tlb_flush_pte_range(tlb, address, PAGE_SIZE);
}
// Per-VMA flushing keeps the flushed range tight (not for a full-mm teardown).
inline void tlb_start_vma(mmu_gather* /*tlb*/, vm_area_struct* /*vma*/) {}
inline void tlb_end_vma(mmu_gather* tlb, vm_area_struct* /*vma*/) {
  if (tlb->fullmm) return;
  tlb_flush_mmu_tlbonly(tlb);
}
// include/asm-generic/tlb.h: the stride of the flush, from the lowest level cleared.
inline unsigned int tlb_get_unmap_shift(const mmu_gather* tlb) {
  if (tlb->cleared_ptes) return PAGE_SHIFT;
  if (tlb->cleared_pmds) return PMD_SHIFT;
  if (tlb->cleared_puds) return PUD_SHIFT;
  if (tlb->cleared_p4ds) return P4D_SHIFT;
  return PAGE_SHIFT;
}

}  // namespace kernel

#endif  // MMSIM_MM_MMU_GATHER_H_
