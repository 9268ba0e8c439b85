// mm/huge_madvise_test.cc: MADV_FREE, MADV_COLD and MADV_PAGEOUT on anonymous THPs, and
// reclaim of lazyfree THPs (mm/madvise.cc, mm/huge_memory.cc madvise_free_huge_pmd and
// unmap_huge_pmd_locked, mm/rmap.cc try_to_unmap_one; docs/semantics.md §13 H9-H10).
// The machine has no swap, as the differential host.
#include <vector>

#include "gtest/gtest.h"
#include "mm/huge_mm.h"
#include "mm/mm.h"
#include "mm/pagewalk.h"
#include "mm/swap.h"
#include "mm/testing/kernel_fixture.h"
#include "mm/vmscan.h"

namespace kernel {
namespace {

using kernel_testing::BootedKernel;

constexpr unsigned long kRW = PROT_READ | PROT_WRITE;
constexpr unsigned long kAnon = MAP_PRIVATE | MAP_ANONYMOUS;
constexpr unsigned long k2M = HPAGE_PMD_SIZE;

class HugeMadviseTest : public ::testing::Test {
 protected:
  void SetUp() override {
    set_transparent_hugepage_enabled(k_.ks(), THP_ALWAYS);
    t_ = k_.Spawn("t");
    mm_ = t_->mm;
  }
  unsigned long Map(unsigned long len) {
    unsigned long a = k_.Mmap(t_, 0, len, kRW, kAnon);
    EXPECT_FALSE(IS_ERR_VALUE(a));
    EXPECT_EQ(a & ~HPAGE_PMD_MASK, 0u);
    return a;
  }
  pmd_t Pmd(unsigned long va) {
    pmd_t* pmd = mm_find_pmd(mm_, va);
    return pmd == nullptr ? __pmd(0) : *pmd;
  }
  pte_t Pte(unsigned long va) {
    pte_t* pte = mm_find_pte(mm_, va);
    return pte == nullptr ? __pte(0) : *pte;
  }
  void Store(unsigned long va, uint64_t v) { ASSERT_TRUE(k_.UserStore(t_, va, v).ok()); }
  uint64_t Load(unsigned long va) {
    uint64_t v = ~0ULL;
    EXPECT_TRUE(k_.UserLoad(t_, va, &v).ok());
    return v;
  }
  int Madvise(unsigned long a, size_t len, int advice) {
    k_.RunAs(t_);
    return do_madvise(a, len, advice);
  }
  int Mprotect(unsigned long a, size_t len, unsigned long prot) {
    k_.RunAs(t_);
    return do_mprotect_pkey(a, len, prot, -1);
  }
  // A THP at a, every page written with its offset + 1.
  folio* FaultAll(unsigned long a) {
    for (unsigned long off = 0; off < k2M; off += PAGE_SIZE) Store(a + off, off + 1);
    EXPECT_TRUE(pmd_trans_huge(Pmd(a)));
    return page_folio(pmd_page(Pmd(a)));
  }
  long AnonPages() { return static_cast<long>(get_mm_counter(mm_, MM_ANONPAGES)); }
  long Stat(vm_stat_item i) { return k_.stat(i); }

  BootedKernel k_{uint64_t{64} << 20};
  task_struct* t_ = nullptr;
  mm_struct* mm_ = nullptr;
};

// H9: MADV_FREE over a whole THP keeps the pmd and the folio whole.
TEST_F(HugeMadviseTest, FreeOfAWholeThpMakesItLazyfreeWithoutASplit) {
  unsigned long a = Map(k2M);
  folio* f = FaultAll(a);
  ASSERT_TRUE(pmd_dirty(Pmd(a)));
  const long lazy = Stat(PGLAZYFREE);
  ASSERT_EQ(Madvise(a, k2M, MADV_FREE), 0);
  ASSERT_TRUE(pmd_trans_huge(Pmd(a)));
  EXPECT_EQ(page_folio(pmd_page(Pmd(a))), f);
  EXPECT_FALSE(pmd_dirty(Pmd(a)));
  EXPECT_FALSE(pmd_young(Pmd(a)));
  EXPECT_TRUE(folio_test_large(f));
  EXPECT_FALSE(folio_test_swapbacked(f));
  EXPECT_FALSE(folio_test_dirty(f));
  EXPECT_EQ(folio_lru_list(f), LRU_INACTIVE_FILE);
  EXPECT_EQ(Stat(PGLAZYFREE) - lazy, 512);
  EXPECT_EQ(Stat(THP_SPLIT_PAGE), 0);
  EXPECT_EQ(Stat(THP_SPLIT_PMD), 0);
  EXPECT_EQ(Stat(NR_ANON_THPS), 512);  // AnonHugePages: 2048 kB
  EXPECT_EQ(AnonPages(), 512);         // Rss unchanged
  // Until reclaim comes, the data is all there.
  for (unsigned long off = 0; off < k2M; off += 64 * PAGE_SIZE) EXPECT_EQ(Load(a + off), off + 1);
  EXPECT_EQ(k_.DebugVm(), "");
}

// H9: MADV_FREE over part of a THP splits it; only that part becomes lazyfree.
TEST_F(HugeMadviseTest, FreeOfPartOfAThpSplitsItAndFreesThePart) {
  unsigned long a = Map(k2M);
  FaultAll(a);
  const long lazy = Stat(PGLAZYFREE);
  ASSERT_EQ(Madvise(a + PAGE_SIZE, 2 * PAGE_SIZE, MADV_FREE), 0);
  EXPECT_FALSE(pmd_trans_huge(Pmd(a)));
  EXPECT_EQ(Stat(THP_SPLIT_PAGE), 1);
  EXPECT_EQ(Stat(THP_SPLIT_PMD), 1);
  EXPECT_EQ(Stat(NR_ANON_THPS), 0);
  EXPECT_EQ(Stat(PGLAZYFREE) - lazy, 2);
  folio* freed = page_folio(pte_page(Pte(a + PAGE_SIZE)));
  EXPECT_FALSE(folio_test_large(freed));
  EXPECT_FALSE(folio_test_swapbacked(freed));
  EXPECT_FALSE(pte_dirty(Pte(a + PAGE_SIZE)));
  EXPECT_TRUE(folio_test_swapbacked(page_folio(pte_page(Pte(a)))));
  EXPECT_TRUE(pte_dirty(Pte(a + 3 * PAGE_SIZE)));
  EXPECT_EQ(AnonPages(), 512);
  EXPECT_EQ(k_.DebugVm(), "");
}

// H10: reclaim (here MADV_PAGEOUT) discards a clean lazyfree THP whole; the next read
// sees zeros.
TEST_F(HugeMadviseTest, PageoutDiscardsACleanLazyfreeThpWhole) {
  unsigned long a = Map(k2M);
  FaultAll(a);
  ASSERT_EQ(Madvise(a, k2M, MADV_FREE), 0);
  const long free_before = k_.FreePages();
  ASSERT_EQ(Madvise(a, k2M, MADV_PAGEOUT), 0);
  EXPECT_EQ(Stat(PGLAZYFREED), 512);
  EXPECT_EQ(Stat(THP_SPLIT_PAGE), 0);
  EXPECT_EQ(Stat(THP_SPLIT_PMD), 0);
  EXPECT_TRUE(pmd_none(Pmd(a)));
  EXPECT_EQ(AnonPages(), 0);
  EXPECT_EQ(Stat(NR_ANON_THPS), 0);
  // The folio and the deposited PTE table went back to the allocator.
  EXPECT_EQ(k_.FreePages() - free_before, 513);
  EXPECT_EQ(k_.DebugVm(), "");
  EXPECT_EQ(Load(a), 0u);
  EXPECT_EQ(Load(a + k2M - PAGE_SIZE), 0u);
  EXPECT_EQ(k_.DebugVm(), "");
}

// H10: a write after MADV_FREE keeps the data: reclaim finds the pmd dirty and makes
// the folio swap-backed again instead of discarding it.
TEST_F(HugeMadviseTest, AWriteAfterFreeKeepsTheThpAndItsData) {
  unsigned long a = Map(k2M);
  folio* f = FaultAll(a);
  ASSERT_EQ(Madvise(a, k2M, MADV_FREE), 0);
  Store(a + 5 * PAGE_SIZE, 0xabcd);
  EXPECT_TRUE(pmd_dirty(Pmd(a)));
  ASSERT_EQ(Madvise(a, k2M, MADV_PAGEOUT), 0);
  EXPECT_EQ(Stat(PGLAZYFREED), 0);
  EXPECT_TRUE(folio_test_swapbacked(f));
  ASSERT_TRUE(pmd_trans_huge(Pmd(a)));
  EXPECT_EQ(page_folio(pmd_page(Pmd(a))), f);
  EXPECT_EQ(AnonPages(), 512);
  EXPECT_EQ(Load(a + 5 * PAGE_SIZE), 0xabcdu);
  for (unsigned long off = 0; off < k2M; off += PAGE_SIZE)
    if (off != 5 * PAGE_SIZE) ASSERT_EQ(Load(a + off), off + 1);
  EXPECT_EQ(k_.DebugVm(), "");
}

// A GUP pin keeps a clean lazyfree THP mapped (another reference than the mappings).
TEST_F(HugeMadviseTest, APinnedLazyfreeThpIsNotDiscarded) {
  unsigned long a = Map(k2M);
  folio* f = FaultAll(a);
  ASSERT_EQ(Madvise(a, k2M, MADV_FREE), 0);
  k_.RunAs(t_);
  page* pg = nullptr;
  int locked = 1;
  mmap_read_lock(mm_);
  ASSERT_EQ(pin_user_pages_remote(mm_, a, 1, 0, &pg, &locked), 1);
  if (locked) mmap_read_unlock(mm_);
  ASSERT_EQ(Madvise(a, k2M, MADV_PAGEOUT), 0);
  EXPECT_EQ(Stat(PGLAZYFREED), 0);
  EXPECT_TRUE(pmd_trans_huge(Pmd(a)));
  EXPECT_FALSE(folio_test_swapbacked(f));
  unpin_user_pages(&pg, 1);
  EXPECT_EQ(Load(a + PAGE_SIZE), PAGE_SIZE + 1);
  EXPECT_EQ(k_.DebugVm(), "");
}

// H9: MADV_COLD over a whole THP ages it through the pmd, without a split.
TEST_F(HugeMadviseTest, ColdOfAWholeThpDeactivatesItWithoutASplit) {
  unsigned long a = Map(k2M);
  folio* f = FaultAll(a);
  ASSERT_TRUE(pmd_young(Pmd(a)));
  // As if reclaim had promoted it to the active list.
  lruvec_del_folio(folio_lruvec(f), f);
  folio_set_active(f);
  lruvec_add_folio(folio_lruvec(f), f);
  ASSERT_EQ(Madvise(a, k2M, MADV_COLD), 0);
  EXPECT_TRUE(pmd_trans_huge(Pmd(a)));
  EXPECT_FALSE(pmd_young(Pmd(a)));
  EXPECT_TRUE(pmd_dirty(Pmd(a)));
  EXPECT_EQ(folio_lru_list(f), LRU_INACTIVE_ANON);
  EXPECT_TRUE(folio_test_workingset(f));
  EXPECT_EQ(Stat(PGDEACTIVATE), 512);
  EXPECT_EQ(Stat(THP_SPLIT_PAGE), 0);
  EXPECT_EQ(k_.DebugVm(), "");
}

// MADV_COLD over part of a THP splits it (the folio, not only the pmd).
TEST_F(HugeMadviseTest, ColdOfPartOfAThpSplitsIt) {
  unsigned long a = Map(k2M);
  FaultAll(a);
  ASSERT_EQ(Madvise(a, 16 * PAGE_SIZE, MADV_COLD), 0);
  EXPECT_FALSE(pmd_trans_huge(Pmd(a)));
  EXPECT_EQ(Stat(THP_SPLIT_PAGE), 1);
  EXPECT_FALSE(pte_young(Pte(a)));
  EXPECT_TRUE(pte_young(Pte(a + 16 * PAGE_SIZE)));
  EXPECT_EQ(k_.DebugVm(), "");
}

// Without swap, MADV_PAGEOUT of a swap-backed THP splits it on the way to swap (the
// THP_SWPOUT_FALLBACK path) and keeps every page resident.
TEST_F(HugeMadviseTest, PageoutOfAThpWithoutSwapSplitsItAndKeepsTheData) {
  unsigned long a = Map(k2M);
  FaultAll(a);
  ASSERT_EQ(Madvise(a, k2M, MADV_PAGEOUT), 0);
  EXPECT_EQ(Stat(THP_SPLIT_PAGE), 1);
  EXPECT_EQ(Stat(THP_SWPOUT_FALLBACK), 1);
  EXPECT_FALSE(pmd_trans_huge(Pmd(a)));
  EXPECT_EQ(AnonPages(), 512);
  for (unsigned long off = 0; off < k2M; off += 32 * PAGE_SIZE) EXPECT_EQ(Load(a + off), off + 1);
  EXPECT_EQ(k_.DebugVm(), "");
}

// A PTE-mapped THP (its pmd split by an mprotect round trip) that the range maps whole
// stays large: MADV_FREE marks it lazyfree, and reclaim discards its 512 PTEs as a batch.
TEST_F(HugeMadviseTest, APteMappedLazyfreeThpIsFreedAndDiscardedWhole) {
  unsigned long a = Map(k2M);
  folio* f = FaultAll(a);
  ASSERT_EQ(Mprotect(a, PAGE_SIZE, PROT_READ), 0);
  ASSERT_EQ(Mprotect(a, PAGE_SIZE, kRW), 0);
  ASSERT_FALSE(pmd_trans_huge(Pmd(a)));
  ASSERT_EQ(page_folio(pte_page(Pte(a + k2M - PAGE_SIZE))), f);
  k_.RunAs(t_);
  ASSERT_EQ(find_vma(mm_, a)->vm_end, a + k2M) << "the two VMAs merged back";
  ASSERT_EQ(Madvise(a, k2M, MADV_FREE), 0);
  EXPECT_TRUE(folio_test_large(f));
  EXPECT_FALSE(folio_test_swapbacked(f));
  EXPECT_FALSE(pte_dirty(Pte(a + 7 * PAGE_SIZE)));
  EXPECT_EQ(Stat(THP_SPLIT_PAGE), 0);
  ASSERT_EQ(Madvise(a, k2M, MADV_PAGEOUT), 0);
  EXPECT_EQ(Stat(PGLAZYFREED), 512);
  EXPECT_EQ(AnonPages(), 0);
  EXPECT_TRUE(pte_none(Pte(a)));
  EXPECT_EQ(Load(a + 3 * PAGE_SIZE), 0u);
  EXPECT_EQ(k_.DebugVm(), "");
}

// The same PTE-mapped lazyfree THP with one page written again: the batch sees the dirty
// PTE, every PTE is put back and the folio is swap-backed again.
TEST_F(HugeMadviseTest, APteMappedLazyfreeThpWrittenAgainKeepsEveryPage) {
  unsigned long a = Map(k2M);
  folio* f = FaultAll(a);
  ASSERT_EQ(Mprotect(a, PAGE_SIZE, PROT_READ), 0);
  ASSERT_EQ(Mprotect(a, PAGE_SIZE, kRW), 0);
  ASSERT_EQ(Madvise(a, k2M, MADV_FREE), 0);
  Store(a + 100 * PAGE_SIZE, 77);
  ASSERT_EQ(Madvise(a, k2M, MADV_PAGEOUT), 0);
  EXPECT_EQ(Stat(PGLAZYFREED), 0);
  EXPECT_TRUE(folio_test_swapbacked(f));
  EXPECT_EQ(AnonPages(), 512);
  EXPECT_EQ(Load(a + 100 * PAGE_SIZE), 77u);
  for (unsigned long off = 0; off < k2M; off += PAGE_SIZE)
    if (off != 100 * PAGE_SIZE) ASSERT_EQ(Load(a + off), off + 1);
  EXPECT_EQ(k_.DebugVm(), "");
}

// After fork both processes map the THP: MADV_FREE and MADV_COLD leave it alone.
TEST_F(HugeMadviseTest, FreeAndColdLeaveASharedThpAlone) {
  unsigned long a = Map(k2M);
  folio* f = FaultAll(a);
  task_struct* c = k_.Fork(t_);
  ASSERT_NE(c, nullptr);
  ASSERT_EQ(Madvise(a, k2M, MADV_FREE), 0);
  EXPECT_TRUE(folio_test_swapbacked(f));
  EXPECT_EQ(Stat(PGLAZYFREE), 0);
  EXPECT_TRUE(pmd_trans_huge(Pmd(a)));
  EXPECT_EQ(k_.DebugVm(), "");
}

}  // namespace
}  // namespace kernel
