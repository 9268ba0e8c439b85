// mm/page_alloc_test.cc: the buddy allocator, mm_core_init and kmalloc.
#include <array>
#include <cstring>
#include <vector>

#include "absl/strings/str_format.h"
#include "gtest/gtest.h"
#include "mm/fault_inject.h"
#include "mm/mm.h"
#include "mm/mmzone.h"
#include "mm/slab.h"
#include "mm/testing/kernel_fixture.h"

namespace kernel {
namespace {

using kernel_testing::BootedKernel;

std::array<unsigned long, NR_PAGE_ORDERS> FreeCounts() {
  std::array<unsigned long, NR_PAGE_ORDERS> c{};
  for (int o = 0; o < NR_PAGE_ORDERS; ++o) c[o] = kst().zone_normal->free_area[o].nr_free;
  return c;
}

TEST(PageAlloc, BootPutsEveryFrameButTheReservedOnesInTheBuddyAllocator) {
  BootedKernel m(16 << 20, 1);
  const unsigned long frames = (16 << 20) >> PAGE_SHIFT;
  EXPECT_EQ(kst().max_pfn, frames);
  // Frame 0, the zero page and the three frames of swapper_pg_dir's direct map
  // (docs/semantics.md §14 K2) are reserved; the rest is free but for what boot took:
  // init's pgd, its only page table (exec maps a [stack] but touches none of it).
  EXPECT_EQ(m.stat(NR_PAGETABLE), 1);
  EXPECT_EQ(nr_free_pages(), frames - 2 - 3 - 1);
  EXPECT_TRUE(PageReserved(pfn_to_page(0)));
  EXPECT_TRUE(PageReserved(kst().zero_page));
  const unsigned char* z = static_cast<const unsigned char*>(page_address(kst().zero_page));
  for (unsigned long i = 0; i < PAGE_SIZE; ++i) ASSERT_EQ(z[i], 0);
  // 16 MiB = 4096 frames: order-10 blocks from 1024 up, smaller ones below.
  EXPECT_EQ(kst().zone_normal->free_area[MAX_PAGE_ORDER].nr_free, 3u);
  EXPECT_EQ(m.DebugVm(), "");
}

TEST(PageAlloc, SplitThenMergeRestoresTheFreeLists) {
  BootedKernel m(16 << 20, 1);
  auto before = FreeCounts();
  const long free_before = nr_free_pages();
  // Boot's one allocation (init's pgd) left its buddy as a lone order-0 block: take it
  // first, so that `p` comes from splitting a larger block.
  page* odd = alloc_pages(GFP_KERNEL, 0);
  page* p = alloc_pages(GFP_KERNEL, 0);
  ASSERT_NE(odd, nullptr);
  ASSERT_NE(p, nullptr);
  __free_pages(odd, 0);
  EXPECT_EQ(page_ref_count(p), 1);
  EXPECT_FALSE(PageBuddy(p));
  EXPECT_EQ(static_cast<long>(nr_free_pages()), free_before - 1);
  // The buddy of the page we got is now a free order-0 block.
  page* buddy = pfn_to_page(__find_buddy_pfn(page_to_pfn(p), 0));
  EXPECT_TRUE(PageBuddy(buddy));
  EXPECT_EQ(buddy_order(buddy), 0u);
  EXPECT_EQ(m.DebugVm(true), "debug_vm: pfn " + absl::StrFormat("%#lx", page_to_pfn(p)) +
                                 ": allocated (refcount 1) but used by nothing (leak)\n");
  __free_pages(p, 0);
  EXPECT_EQ(FreeCounts(), before);
  EXPECT_EQ(static_cast<long>(nr_free_pages()), free_before);
  EXPECT_EQ(m.DebugVm(), "");
}

TEST(PageAlloc, MixedOrdersFreedInAnyOrderMergeBack) {
  BootedKernel m(16 << 20, 1);
  auto before = FreeCounts();
  const long allocs = kst().vm_stat[PGALLOC_NORMAL];
  std::vector<std::pair<page*, unsigned>> blocks;
  for (int round = 0; round < 40; ++round) {
    unsigned order = static_cast<unsigned>((round * 7) % 5);
    page* p = alloc_pages(GFP_KERNEL, order);
    ASSERT_NE(p, nullptr);
    EXPECT_EQ(page_to_pfn(p) & ((1UL << order) - 1), 0u) << "order " << order;
    blocks.push_back({p, order});
  }
  // Free every other block, then the rest backwards.
  for (size_t i = 0; i < blocks.size(); i += 2) __free_pages(blocks[i].first, blocks[i].second);
  for (size_t i = blocks.size(); i-- > 0;)
    if (i % 2) __free_pages(blocks[i].first, blocks[i].second);
  EXPECT_EQ(FreeCounts(), before);
  EXPECT_GT(kst().vm_stat[PGALLOC_NORMAL], allocs);
  EXPECT_EQ(kst().vm_stat[PGALLOC_NORMAL] - allocs, kst().vm_stat[PGFREE]);
  EXPECT_EQ(m.DebugVm(), "");
}

TEST(PageAlloc, ExhaustionReturnsNullAndFreeingRecovers) {
  BootedKernel m(4 << 20, 1);
  std::vector<page*> pages;
  // GFP_KERNEL stops at the min watermark: min_free_kbytes = sqrt(16 * 4072 kB) = 255 kB,
  // 63 pages (nothing to reclaim, and the OOM killer finds only init).
  while (page* p = alloc_page(GFP_KERNEL)) pages.push_back(p);
  EXPECT_EQ(min_wmark_pages(m.ks()->zone_normal), 63u);
  EXPECT_EQ(nr_free_pages(), 63u);
  // Less frame 0, the zero page, the direct map's three tables and init's pgd.
  EXPECT_EQ(pages.size(), ((4u << 20) >> PAGE_SHIFT) - 2 - 3 - 1 - 63);
  EXPECT_EQ(alloc_pages(GFP_KERNEL, 3), nullptr);
  // A request that cannot sleep (no direct reclaim) may take half the reserve and a
  // quarter of what is left: it stops at 63 - 31 - 8 = 24 free pages.
  while (page* p = alloc_page(GFP_NOWAIT)) pages.push_back(p);
  EXPECT_EQ(nr_free_pages(), 24u);
  for (page* p : pages) __free_page(p);
  EXPECT_EQ(nr_free_pages(), pages.size() + 24);
  // Fully merged again: 1024 frames less the two reserved ones and init's pgd (all low)
  // leave [512, 1024) whole.
  page* big = alloc_pages(GFP_KERNEL, 9);
  ASSERT_NE(big, nullptr);
  EXPECT_EQ(page_to_pfn(big), 512u);
  __free_pages(big, 9);
}

TEST(PageAlloc, ZeroFlagAndHelpers) {
  BootedKernel m(16 << 20, 1);
  unsigned long va = get_zeroed_page(GFP_KERNEL);
  ASSERT_NE(va, 0u);
  const unsigned char* b = reinterpret_cast<const unsigned char*>(va);
  for (unsigned long i = 0; i < PAGE_SIZE; ++i) ASSERT_EQ(b[i], 0);
  std::memset(reinterpret_cast<void*>(va), 0xaa, PAGE_SIZE);
  free_page(va);
  unsigned long va4 = __get_free_pages(GFP_KERNEL | __GFP_ZERO, 2);
  ASSERT_NE(va4, 0u);
  for (unsigned long i = 0; i < 4 * PAGE_SIZE; ++i)
    ASSERT_EQ(reinterpret_cast<const unsigned char*>(va4)[i], 0);
  free_pages(va4, 2);
  folio* f = folio_alloc(GFP_HIGHUSER_MOVABLE, 0);
  ASSERT_NE(f, nullptr);
  folio_put(f);  // the last reference frees it (__folio_put)
  EXPECT_EQ(m.DebugVm(), "");
}

#ifndef NDEBUG
TEST(PageAlloc, DebugBuildsPoisonFreedFramesAndCatchUseAfterFree) {
  BootedKernel m(16 << 20, 1);
  page* p = alloc_page(GFP_KERNEL);
  ASSERT_NE(p, nullptr);
  unsigned char* mem = static_cast<unsigned char*>(page_address(p));
  __free_page(p);
  for (unsigned long i = 0; i < PAGE_SIZE; ++i) ASSERT_EQ(mem[i], 0x6b);
  mem[100] = 1;  // a write after free
  unsigned long warns = kernel_warn_count();
  // LIFO free lists hand the same frame out again; the poison check notices.
  page* q = alloc_page(GFP_KERNEL);
  EXPECT_EQ(q, p);
  EXPECT_EQ(kernel_warn_count(), warns + 1);
  __free_page(q);
}
#endif

TEST(PageAlloc, FailPageAllocInjectedReturnsNullAndLeaksNothing) {
  BootedKernel m(16 << 20, 1);
  ASSERT_EQ(fault_inject_arm("fail_page_alloc", {.nth = 2, .times = 1}), 0);
  const unsigned long free_before = nr_free_pages();
  page* a = alloc_page(GFP_KERNEL);
  page* b = alloc_page(GFP_KERNEL);
  page* c = alloc_page(GFP_KERNEL);
  EXPECT_NE(a, nullptr);
  EXPECT_EQ(b, nullptr);
  EXPECT_NE(c, nullptr);
  EXPECT_EQ(fault_inject_failures("fail_page_alloc"), 1u);
  EXPECT_EQ(nr_free_pages(), free_before - 2);
  __free_page(a);
  __free_page(c);
  EXPECT_EQ(nr_free_pages(), free_before);
  fault_inject_disarm(nullptr);
  EXPECT_EQ(m.DebugVm(), "");
}

TEST(PageAlloc, BadPageIsReportedAndNotFreed) {
  BootedKernel m(16 << 20, 1);
  page* p = alloc_page(GFP_KERNEL);
  atomic_set(&p->_mapcount, 0);  // pretend a PTE still maps it
  unsigned long warns = kernel_warn_count();
  const unsigned long free_before = nr_free_pages();
  __free_page(p);
  EXPECT_EQ(kernel_warn_count(), warns + 1);
  EXPECT_EQ(nr_free_pages(), free_before);  // leaked, as Linux does
  EXPECT_FALSE(PageBuddy(p));
}

TEST(Slab, AccountingAndFailslab) {
  BootedKernel m(16 << 20, 1);
  const long objs = kst().slab_allocations, bytes = kst().slab_bytes;
  void* a = kmalloc(100, GFP_KERNEL);
  int* z = static_cast<int*>(kzalloc(64, GFP_KERNEL));
  ASSERT_NE(a, nullptr);
  ASSERT_NE(z, nullptr);
  for (int i = 0; i < 16; ++i) EXPECT_EQ(z[i], 0);
  EXPECT_EQ(kst().slab_allocations, objs + 2);
  EXPECT_EQ(kst().slab_bytes, bytes + 164);
  EXPECT_EQ(ksize(a), 100u);
  EXPECT_EQ(kmalloc(0, GFP_KERNEL), ZERO_SIZE_PTR);
  EXPECT_EQ(kmalloc_array(~size_t{0} / 2, 4, GFP_KERNEL), nullptr);
  void* arr = kcalloc(10, 8, GFP_KERNEL);
  ASSERT_NE(arr, nullptr);
  kfree(arr);
  kfree(a);
  kfree(z);
  kfree(nullptr);
  kfree(ZERO_SIZE_PTR);
  EXPECT_EQ(kst().slab_allocations, objs);
  EXPECT_EQ(kst().slab_bytes, bytes);

  ASSERT_EQ(fault_inject_arm("failslab", {.nth = 1, .times = 1}), 0);
  EXPECT_EQ(kmalloc(32, GFP_KERNEL), nullptr);
  EXPECT_EQ(kst().slab_allocations, objs);
  fault_inject_disarm(nullptr);
}

}  // namespace
}  // namespace kernel
