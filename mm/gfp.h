// mm/gfp.h: allocation flags and the page allocator's interface (include/linux/gfp.h,
// gfp_types.h), Linux 6.18 values for the flags this port uses.
#ifndef MMSIM_MM_GFP_H_
#define MMSIM_MM_GFP_H_

#include "mm/mm_types.h"

namespace kernel {

inline constexpr gfp_t ___GFP_DMA = 0x01;
inline constexpr gfp_t ___GFP_HIGHMEM = 0x02;
inline constexpr gfp_t ___GFP_DMA32 = 0x04;
inline constexpr gfp_t ___GFP_MOVABLE = 0x08;
inline constexpr gfp_t ___GFP_RECLAIMABLE = 0x10;
inline constexpr gfp_t ___GFP_HIGH = 0x20;
inline constexpr gfp_t ___GFP_IO = 0x40;
inline constexpr gfp_t ___GFP_FS = 0x80;
inline constexpr gfp_t ___GFP_ZERO = 0x100;
inline constexpr gfp_t ___GFP_DIRECT_RECLAIM = 0x400;
inline constexpr gfp_t ___GFP_KSWAPD_RECLAIM = 0x800;
inline constexpr gfp_t ___GFP_WRITE = 0x1000;
inline constexpr gfp_t ___GFP_NOWARN = 0x2000;
inline constexpr gfp_t ___GFP_RETRY_MAYFAIL = 0x4000;
inline constexpr gfp_t ___GFP_NOFAIL = 0x8000;
inline constexpr gfp_t ___GFP_NORETRY = 0x10000;
inline constexpr gfp_t ___GFP_COMP = 0x40000;
inline constexpr gfp_t ___GFP_HARDWALL = 0x100000;
inline constexpr gfp_t ___GFP_ACCOUNT = 0x400000;

inline constexpr gfp_t __GFP_HIGHMEM = ___GFP_HIGHMEM;
inline constexpr gfp_t __GFP_MOVABLE = ___GFP_MOVABLE;
inline constexpr gfp_t __GFP_IO = ___GFP_IO;
inline constexpr gfp_t __GFP_FS = ___GFP_FS;
inline constexpr gfp_t __GFP_ZERO = ___GFP_ZERO;
inline constexpr gfp_t __GFP_DIRECT_RECLAIM = ___GFP_DIRECT_RECLAIM;
inline constexpr gfp_t __GFP_KSWAPD_RECLAIM = ___GFP_KSWAPD_RECLAIM;
inline constexpr gfp_t __GFP_RECLAIM = ___GFP_DIRECT_RECLAIM | ___GFP_KSWAPD_RECLAIM;
inline constexpr gfp_t __GFP_WRITE = ___GFP_WRITE;  // the caller intends to dirty the page
inline constexpr gfp_t __GFP_NOWARN = ___GFP_NOWARN;
inline constexpr gfp_t __GFP_HIGH = ___GFP_HIGH;
inline constexpr gfp_t __GFP_RETRY_MAYFAIL = ___GFP_RETRY_MAYFAIL;
inline constexpr gfp_t __GFP_NOFAIL = ___GFP_NOFAIL;
inline constexpr gfp_t __GFP_NORETRY = ___GFP_NORETRY;
inline constexpr gfp_t __GFP_COMP = ___GFP_COMP;
inline constexpr gfp_t __GFP_HARDWALL = ___GFP_HARDWALL;
inline constexpr gfp_t __GFP_ACCOUNT = ___GFP_ACCOUNT;

inline constexpr gfp_t GFP_KERNEL = __GFP_RECLAIM | __GFP_IO | __GFP_FS;
inline constexpr gfp_t GFP_KERNEL_ACCOUNT = GFP_KERNEL | __GFP_ACCOUNT;
inline constexpr gfp_t GFP_NOWAIT = __GFP_KSWAPD_RECLAIM | __GFP_NOWARN;
inline constexpr gfp_t GFP_USER = __GFP_RECLAIM | __GFP_IO | __GFP_FS | __GFP_HARDWALL;
inline constexpr gfp_t GFP_HIGHUSER = GFP_USER | __GFP_HIGHMEM;
inline constexpr gfp_t GFP_HIGHUSER_MOVABLE = GFP_HIGHUSER | __GFP_MOVABLE;
inline constexpr gfp_t GFP_PGTABLE_USER = GFP_KERNEL_ACCOUNT | __GFP_ZERO;

inline constexpr int MAX_PAGE_ORDER = 10;           // 6.8+ name of MAX_ORDER
inline constexpr int NR_PAGE_ORDERS = MAX_PAGE_ORDER + 1;
inline constexpr unsigned int PAGE_ALLOC_COSTLY_ORDER = 3;  // include/linux/mmzone.h
inline constexpr int MAX_RECLAIM_RETRIES = 16;             // mm/internal.h

// mm/page_alloc.cc. A failed allocation returns null (or 0); nothing here crashes on OOM.
page* alloc_pages(gfp_t gfp_mask, unsigned int order);
inline page* alloc_page(gfp_t gfp_mask) { return alloc_pages(gfp_mask, 0); }
folio* folio_alloc(gfp_t gfp, unsigned int order);
folio* vma_alloc_folio(gfp_t gfp, int order, vm_area_struct* vma, unsigned long addr);
void __free_pages(page* p, unsigned int order);
unsigned long __get_free_pages(gfp_t gfp_mask, unsigned int order);  // kernel VA or 0
unsigned long get_zeroed_page(gfp_t gfp_mask);
void free_pages(unsigned long addr, unsigned int order);
inline void __free_page(page* p) { __free_pages(p, 0); }
// mm/page_alloc.c: make 2^order fresh pages one large folio (__GFP_COMP does it).
void prep_compound_page(page* p, unsigned int order);
inline void free_page(unsigned long addr) { free_pages(addr, 0); }

}  // namespace kernel

#endif  // MMSIM_MM_GFP_H_
