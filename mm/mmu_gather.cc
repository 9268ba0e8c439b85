// mm/mmu_gather.cc: gathering pages and page-table pages until the TLB flush.
// Port of mm/mmu_gather.c (and the out-of-line parts of include/asm-generic/tlb.h) at
// Linux 6.18.
//
// Deviations (grep "DEVIATION(mmu_gather)"): fixed-size batches inside the gather (no
// mmu_gather_batch chain, no RCU table freeing, no delayed rmap).
#include "mm/mmu_gather.h"

#include <cstdint>

#include "mm/mm.h"
#include "mm/swap.h"

namespace kernel {

namespace {
// include/asm-generic/tlb.h: __tlb_reset_range.
void __tlb_reset_range(mmu_gather* tlb) {
  if (tlb->fullmm) {
    tlb->start = 0;
    tlb->end = TLB_FLUSH_ALL;
  } else {
    tlb->start = TLB_FLUSH_ALL;
    tlb->end = 0;
  }
  tlb->freed_tables = 0;
  tlb->cleared_ptes = 0;
  tlb->cleared_pmds = 0;
  tlb->cleared_puds = 0;
  tlb->cleared_p4ds = 0;
}

// mm/mmu_gather.c: tlb_table_flush (the page-table pages go after the TLB flush).
void tlb_table_flush(mmu_gather* tlb) {
  for (unsigned int i = 0; i < tlb->nr_tables; ++i) __free_page(tlb->tables[i]);
  tlb->nr_tables = 0;
}

// include/linux/mm_types.h: encoded_page. Bit 1 of a page pointer says that the
// next slot holds a page count, not a page.
constexpr uintptr_t ENCODED_PAGE_BIT_NR_PAGES_NEXT = 2;
page* encode_page(page* p, uintptr_t flags) {
  return reinterpret_cast<page*>(reinterpret_cast<uintptr_t>(p) | flags);
}
uintptr_t encoded_page_flags(page* p) { return reinterpret_cast<uintptr_t>(p) & 3; }
page* encoded_page_ptr(page* p) {
  return reinterpret_cast<page*>(reinterpret_cast<uintptr_t>(p) & ~uintptr_t{3});
}

// mm/mmu_gather.c: tlb_batch_pages_flush (free_pages_and_swap_cache): each entry drops
// one reference, or nr of them for a run of one folio's pages.
void tlb_batch_pages_flush(mmu_gather* tlb) {
  for (unsigned int i = 0; i < tlb->nr_pages; ++i) {
    folio* f = page_folio(encoded_page_ptr(tlb->pages[i]));
    free_swap_cache(f);
    int refs = 1;
    if (unlikely(encoded_page_flags(tlb->pages[i]) & ENCODED_PAGE_BIT_NR_PAGES_NEXT))
      refs = static_cast<int>(reinterpret_cast<uintptr_t>(tlb->pages[++i]));
    folio_put_refs(f, refs);
  }
  tlb->nr_pages = 0;
}

void __tlb_gather_mmu(mmu_gather* tlb, mm_struct* mm, bool fullmm) {
  tlb->mm = mm;
  tlb->fullmm = fullmm;
  tlb->need_flush_all = 0;
  tlb->nr_pages = 0;
  tlb->nr_tables = 0;
  __tlb_reset_range(tlb);
}
}  // namespace

// mm/mmu_gather.c
void tlb_gather_mmu(mmu_gather* tlb, mm_struct* mm) { __tlb_gather_mmu(tlb, mm, false); }

// mm/mmu_gather.c
void tlb_gather_mmu_fullmm(mmu_gather* tlb, mm_struct* mm) { __tlb_gather_mmu(tlb, mm, true); }

// include/asm-generic/tlb.h
void tlb_flush_mmu_tlbonly(mmu_gather* tlb) {
  if (!(tlb->freed_tables || tlb->cleared_ptes || tlb->cleared_pmds || tlb->cleared_puds ||
        tlb->cleared_p4ds))
    return;
  tlb_flush(tlb);
  __tlb_reset_range(tlb);
}

// mm/mmu_gather.c
void tlb_flush_mmu(mmu_gather* tlb) {
  tlb_flush_mmu_tlbonly(tlb);
  tlb_table_flush(tlb);
  tlb_batch_pages_flush(tlb);
}

// mm/mmu_gather.c
void tlb_finish_mmu(mmu_gather* tlb) { tlb_flush_mmu(tlb); }

// mm/mmu_gather.c: __tlb_remove_folio_pages_size. One page takes one slot; a run of
// nr_pages of one folio two (the page, marked, then the count). True once the batch is
// full (DEVIATION(mmu_gather): no next batch to chain).
bool __tlb_remove_folio_pages(mmu_gather* tlb, page* p, unsigned int nr_pages,
                              bool /*delay_rmap*/) {
  VM_BUG_ON(tlb->nr_pages >= MAX_GATHER_BATCH);
  if (likely(nr_pages == 1)) {
    tlb->pages[tlb->nr_pages++] = p;
  } else {
    tlb->pages[tlb->nr_pages++] = encode_page(p, ENCODED_PAGE_BIT_NR_PAGES_NEXT);
    tlb->pages[tlb->nr_pages++] = reinterpret_cast<page*>(uintptr_t{nr_pages});  // encode_nr_pages
  }
  return tlb->nr_pages >= MAX_GATHER_BATCH;
}

// include/asm-generic/tlb.h: __tlb_remove_page (__tlb_remove_folio_pages_size, one page).
bool __tlb_remove_page(mmu_gather* tlb, page* p, bool delay_rmap) {
  return __tlb_remove_folio_pages(tlb, p, 1, delay_rmap);
}

// mm/mmu_gather.c
void tlb_remove_table(mmu_gather* tlb, page* table) {
  if (tlb->nr_tables == MAX_GATHER_BATCH) tlb_flush_mmu(tlb);
  tlb->tables[tlb->nr_tables++] = table;
}

}  // namespace kernel
