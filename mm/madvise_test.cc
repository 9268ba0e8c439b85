// mm/madvise_test.cc: MADV_DONTNEED, MADV_FREE, MADV_COLD, MADV_PAGEOUT, MADV_WILLNEED
// and the argument and VMA-walk rules they share with the fork advice.
#include "gtest/gtest.h"
#include "mm/fault_inject.h"
#include "mm/fs.h"
#include "mm/mm.h"
#include "mm/mmzone.h"
#include "mm/pagewalk.h"
#include "mm/swap.h"
#include "mm/testing/file_helpers.h"
#include "mm/testing/one_process_test.h"

namespace kernel {
namespace {

using kernel_testing::MakeTestFile;
using kernel_testing::UserMemoryTest;
using kernel_testing::TestFileWord;

constexpr unsigned long kRW = PROT_READ | PROT_WRITE;

class MadviseTest : public UserMemoryTest {
 protected:
  folio* FolioAt(unsigned long va) {
    pte_t pte = Pte(va);
    return pte_present(pte) ? page_folio(pte_page(pte)) : nullptr;
  }
  unsigned long MapFile(file* f, int pages, unsigned long prot, unsigned long flags) {
    k_.RunAs(p_);
    unsigned long a = vm_mmap_pgoff(f, 0, pages * PAGE_SIZE, prot, flags, 0);
    EXPECT_FALSE(IS_ERR_VALUE(a));
    return a;
  }
};

TEST_F(MadviseTest, ArgumentErrors) {
  unsigned long a = Map(2, kRW);
  EXPECT_EQ(Madvise(a, PAGE_SIZE, 12345), -EINVAL);
  EXPECT_EQ(Madvise(a, PAGE_SIZE, 25), -EINVAL);  // MADV_COLLAPSE: DEVIATION(madvise), not modelled
  EXPECT_EQ(Madvise(a, PAGE_SIZE, MADV_HUGEPAGE), 0);        // mm/huge_memory.cc
  EXPECT_EQ(Madvise(a + 1, PAGE_SIZE, MADV_DONTNEED), -EINVAL);
  EXPECT_EQ(Madvise(a, ~0UL - 10, MADV_DONTNEED), -EINVAL);   // rounds up to 0
  EXPECT_EQ(Madvise(a, ~0UL - a - 100, MADV_DONTNEED), -EINVAL);  // end wraps
  EXPECT_EQ(Madvise(a, 0, MADV_DONTNEED), 0);
  EXPECT_EQ(Madvise(0x1000, PAGE_SIZE, MADV_DONTNEED), -ENOMEM);
  EXPECT_EQ(Madvise(a, 1, MADV_COLD), 0);  // one byte: its page
}

TEST_F(MadviseTest, DontneedZeroFillsPrivateAnonAndFreesThePages) {
  unsigned long a = Map(3, kRW);
  for (int i = 0; i < 3; ++i) Store(a + i * PAGE_SIZE, 100 + i);
  const long anon = k_.stat(NR_ANON_MAPPED);
  ASSERT_EQ(Madvise(a, 2 * PAGE_SIZE, MADV_DONTNEED), 0);
  EXPECT_EQ(get_mm_counter(p_->mm, MM_ANONPAGES), 1u);
  EXPECT_EQ(k_.stat(NR_ANON_MAPPED), anon - 2);
  EXPECT_FALSE(pte_present(Pte(a)));
  EXPECT_EQ(Load(a), 0u);
  EXPECT_EQ(Load(a + PAGE_SIZE), 0u);
  EXPECT_EQ(Load(a + 2 * PAGE_SIZE), 102u);
  EXPECT_EQ(k_.DebugVm(), "");
}

TEST_F(MadviseTest, DontneedOnPrivateFileDropsTheCowCopy) {
  file* f = MakeTestFile("priv", 2);
  unsigned long a = MapFile(f, 2, kRW, MAP_PRIVATE);
  Store(a + 8, 0xdead);
  EXPECT_EQ(Load(a + 8), 0xdeadu);
  EXPECT_EQ(get_mm_counter(p_->mm, MM_ANONPAGES), 1u);
  ASSERT_EQ(Madvise(a, 2 * PAGE_SIZE, MADV_DONTNEED), 0);
  EXPECT_EQ(get_mm_counter(p_->mm, MM_ANONPAGES), 0u);
  EXPECT_EQ(Load(a + 8), kernel_testing::TestFileWord(8));  // the file's bytes again
  k_.RunAs(p_);
  fput(f);
  EXPECT_EQ(k_.DebugVm(), "");
}

TEST_F(MadviseTest, HoleIsEnomemButTheRestIsDone) {
  unsigned long a = Map(3, kRW);
  for (int i = 0; i < 3; ++i) Store(a + i * PAGE_SIZE, 1);
  ASSERT_EQ(k_.Munmap(p_, a + PAGE_SIZE, PAGE_SIZE), 0);
  EXPECT_EQ(Madvise(a, 3 * PAGE_SIZE, MADV_DONTNEED), -ENOMEM);
  EXPECT_FALSE(pte_present(Pte(a)));
  EXPECT_FALSE(pte_present(Pte(a + 2 * PAGE_SIZE)));
}

TEST_F(MadviseTest, LockedMemoryRefusesDontneedFreeColdPageout) {
  unsigned long a = Map(2, kRW);
  k_.RunAs(p_);
  ASSERT_EQ(sys_mlock(a, 2 * PAGE_SIZE), 0);
  EXPECT_EQ(Madvise(a, PAGE_SIZE, MADV_DONTNEED), -EINVAL);
  EXPECT_EQ(Madvise(a, PAGE_SIZE, MADV_FREE), -EINVAL);
  EXPECT_EQ(Madvise(a, PAGE_SIZE, MADV_COLD), -EINVAL);
  EXPECT_EQ(Madvise(a, PAGE_SIZE, MADV_PAGEOUT), -EINVAL);
  EXPECT_EQ(Madvise(a, PAGE_SIZE, MADV_WILLNEED), 0);
  const long mlocked = k_.stat(NR_MLOCK);
  // MADV_DONTNEED_LOCKED drops it, munlocking as the zap unmaps it.
  EXPECT_EQ(Madvise(a, PAGE_SIZE, 24 /* MADV_DONTNEED_LOCKED */), 0);
  EXPECT_EQ(k_.stat(NR_MLOCK), mlocked - 1);
  EXPECT_FALSE(pte_present(Pte(a)));
  EXPECT_EQ(k_.DebugVm(), "");
}

TEST_F(MadviseTest, FreeMakesExclusiveAnonLazyfree) {
  unsigned long a = Map(2, kRW);
  Store(a, 41);
  Store(a + PAGE_SIZE, 42);
  folio* f = FolioAt(a);
  ASSERT_TRUE(pte_dirty(Pte(a)) && pte_young(Pte(a)));
  const long lazy = k_.stat(PGLAZYFREE);
  ASSERT_EQ(Madvise(a, PAGE_SIZE, MADV_FREE), 0);
  // Still mapped, but clean and old, and no longer swap-backed: on the file list.
  ASSERT_EQ(FolioAt(a), f);
  EXPECT_FALSE(pte_dirty(Pte(a)));
  EXPECT_FALSE(pte_young(Pte(a)));
  EXPECT_TRUE(folio_test_anon(f));
  EXPECT_FALSE(folio_test_swapbacked(f));
  EXPECT_FALSE(folio_test_dirty(f));
  EXPECT_EQ(folio_lru_list(f), LRU_INACTIVE_FILE);
  EXPECT_EQ(k_.stat(PGLAZYFREE) - lazy, 1);
  // The neighbour is untouched.
  EXPECT_TRUE(folio_test_swapbacked(FolioAt(a + PAGE_SIZE)));
  // Until reclaim discards it, the data is still there; a write dirties the PTE again.
  EXPECT_EQ(Load(a), 41u);
  Store(a, 43);
  EXPECT_TRUE(pte_dirty(Pte(a)));
  EXPECT_EQ(Load(a), 43u);
  EXPECT_EQ(k_.DebugVm(), "");
}

TEST_F(MadviseTest, FreeRefusesFileAndShmemAndSkipsSharedPages) {
  file* f = MakeTestFile("free", 1);
  unsigned long fa = MapFile(f, 1, kRW, MAP_PRIVATE);
  EXPECT_EQ(Madvise(fa, PAGE_SIZE, MADV_FREE), -EINVAL);
  k_.RunAs(p_);
  unsigned long sa = vm_mmap_pgoff(nullptr, 0, PAGE_SIZE, kRW, MAP_SHARED | MAP_ANONYMOUS, 0);
  EXPECT_EQ(Madvise(sa, PAGE_SIZE, MADV_FREE), -EINVAL);
  // A page shared with a child after fork (and dirty) is not ours to free.
  unsigned long a = Map(1, kRW);
  Store(a, 5);
  task_struct* c = k_.Fork(p_);
  ASSERT_NE(c, nullptr);
  folio_set_dirty(FolioAt(a));  // as reclaim leaves an anon folio it could not free
  ASSERT_EQ(Madvise(a, PAGE_SIZE, MADV_FREE), 0);
  EXPECT_TRUE(folio_test_swapbacked(FolioAt(a)));
  EXPECT_TRUE(folio_test_dirty(FolioAt(a)));
  k_.ExitAndReap(c);
  k_.RunAs(p_);
  fput(f);
  EXPECT_EQ(k_.DebugVm(), "");
}

TEST_F(MadviseTest, ColdDeactivatesAndClearsYoung) {
  unsigned long a = Map(1, kRW);
  Store(a, 1);
  folio* f = FolioAt(a);
  folio_activate(f);
  ASSERT_EQ(folio_lru_list(f), LRU_ACTIVE_ANON);
  ASSERT_TRUE(pte_young(Pte(a)));
  const long deact = k_.stat(PGDEACTIVATE);
  ASSERT_EQ(Madvise(a, PAGE_SIZE, MADV_COLD), 0);
  EXPECT_EQ(folio_lru_list(f), LRU_INACTIVE_ANON);
  EXPECT_FALSE(pte_young(Pte(a)));
  EXPECT_FALSE(folio_test_referenced(f));
  EXPECT_TRUE(folio_test_workingset(f));
  EXPECT_EQ(k_.stat(PGDEACTIVATE) - deact, 1);
  EXPECT_EQ(Load(a), 1u);  // nothing lost
}

// No swap device: MADV_PAGEOUT cannot reclaim anonymous memory, which stays resident
// (shrink_folio_list activates it, as Linux does when add_to_swap fails).
TEST_F(MadviseTest, PageoutWithoutSwapKeepsAnonResident) {
  unsigned long a = Map(2, kRW);
  Store(a, 7);
  Store(a + PAGE_SIZE, 8);
  ASSERT_EQ(Madvise(a, 2 * PAGE_SIZE, MADV_PAGEOUT), 0);
  EXPECT_EQ(get_mm_counter(p_->mm, MM_ANONPAGES), 2u);
  folio* f = FolioAt(a);
  ASSERT_NE(f, nullptr);
  EXPECT_TRUE(folio_test_lru(f));
  EXPECT_EQ(folio_lru_list(f), LRU_ACTIVE_ANON);
  EXPECT_EQ(Load(a), 7u);
  EXPECT_EQ(Load(a + PAGE_SIZE), 8u);
  EXPECT_EQ(k_.DebugVm(), "");
}

// The reclaim side of MADV_PAGEOUT on page cache: a clean mapped file page is unmapped
// and dropped (try_to_unmap in shrink_folio_list).
TEST_F(MadviseTest, PageoutDropsCleanFilePages) {
  file* f = MakeTestFile("out", 2);
  unsigned long a = MapFile(f, 2, PROT_READ, MAP_SHARED);
  EXPECT_EQ(Load(a), TestFileWord(0));
  EXPECT_EQ(Load(a + PAGE_SIZE), TestFileWord(PAGE_SIZE));
  ASSERT_EQ(get_mm_counter(p_->mm, MM_FILEPAGES), 2u);
  ASSERT_EQ(Madvise(a, 2 * PAGE_SIZE, MADV_PAGEOUT), 0);
  EXPECT_EQ(get_mm_counter(p_->mm, MM_FILEPAGES), 0u);
  EXPECT_EQ(f->f_mapping->nrpages, 0u);
  EXPECT_EQ(Load(a + PAGE_SIZE), TestFileWord(PAGE_SIZE));  // read back from the file
  k_.RunAs(p_);
  fput(f);
}

// What MADV_PAGEOUT does to page cache today: every folio of the range goes through
// reclaim (isolated, shrink_folio_list, put back), a shared read-only file the caller
// did not open for writing only for privileged callers (can_do_file_pageout).
TEST_F(MadviseTest, PageoutSendsFileFoliosThroughReclaim) {
  file* f = MakeTestFile("scan", 2);
  unsigned long a = MapFile(f, 2, PROT_READ, MAP_SHARED);
  EXPECT_EQ(Load(a), TestFileWord(0));
  folio* fo = FolioAt(a);
  ASSERT_NE(fo, nullptr);
  folio_set_referenced(fo);
  ASSERT_EQ(Madvise(a, 2 * PAGE_SIZE, MADV_PAGEOUT), 0);
  // try_to_unmap (the swap work) unmaps the clean folio and reclaim frees it: the PTE is
  // gone, and the next load reads the file again.
  pte_t* pte = mm_find_pte(p_->mm, a);
  EXPECT_TRUE(pte == nullptr || pte_none(*pte));
  EXPECT_EQ(Load(a), TestFileWord(0));
  k_.RunAs(p_);
  fput(f);
  EXPECT_EQ(k_.DebugVm(), "");
}

TEST_F(MadviseTest, WillneedReadsFileIntoThePageCacheWithoutMapping) {
  file* f = MakeTestFile("ahead", 3);
  unsigned long a = MapFile(f, 4, PROT_READ, MAP_PRIVATE);  // one page past EOF
  ASSERT_EQ(f->f_mapping->nrpages, 0u);
  const long faults = k_.stat(PGMAJFAULT);
  ASSERT_EQ(Madvise(a + PAGE_SIZE, 3 * PAGE_SIZE, MADV_WILLNEED), 0);
  // Pages 1 and 2 (not the first; nothing past end-of-file), unmapped.
  EXPECT_EQ(f->f_mapping->nrpages, 2u);
  EXPECT_EQ(f->f_mapping->i_pages.count(0), 0u);
  EXPECT_EQ(get_mm_rss(p_->mm), 0u);
  folio* fo = f->f_mapping->i_pages.at(1);
  EXPECT_TRUE(folio_test_uptodate(fo));
  EXPECT_EQ(folio_lru_list(fo), LRU_INACTIVE_FILE);
  // A later fault finds it cached: a minor fault.
  EXPECT_EQ(Load(a + PAGE_SIZE + 16), TestFileWord(PAGE_SIZE + 16));
  EXPECT_EQ(k_.stat(PGMAJFAULT), faults);
  k_.RunAs(p_);
  fput(f);
  EXPECT_EQ(k_.DebugVm(), "");
}

// docs/semantics.md §12 R16.
TEST_F(MadviseTest, WillneedOnAnonymousMemorySwapsIn) {
  ASSERT_EQ(swapon_simulated(4 << 20), 0);
  unsigned long a = Map(4, kRW);
  for (int i = 0; i < 4; ++i) Store(a + i * PAGE_SIZE, 0x5100 + i);
  // Pages 0..2 go to swap (MADV_PAGEOUT reclaims them at once); page 3 stays.
  ASSERT_EQ(Madvise(a, 3 * PAGE_SIZE, MADV_PAGEOUT), 0);
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(is_swap_pte(Pte(a + i * PAGE_SIZE))) << i;
  ASSERT_TRUE(pte_present(Pte(a + 3 * PAGE_SIZE)));
  const long pswpin = k_.stat(PSWPIN), majflt = k_.stat(PGMAJFAULT), faults = k_.stat(PGFAULT);
  // WILLNEED over pages 1..3: the two swapped-out ones are read into the swap cache,
  // unmapped (their PTEs still hold the swap entries); the present one is left alone.
  ASSERT_EQ(Madvise(a + PAGE_SIZE, 3 * PAGE_SIZE, MADV_WILLNEED), 0);
  EXPECT_EQ(k_.stat(PSWPIN), pswpin + 2);
  EXPECT_EQ(k_.stat(PGFAULT), faults);  // nothing was faulted
  for (int i = 1; i < 3; ++i) {
    pte_t pte = Pte(a + i * PAGE_SIZE);
    ASSERT_TRUE(is_swap_pte(pte)) << i;
    folio* f = swap_cache_get_folio(pte_to_swp_entry(pte));
    ASSERT_NE(f, nullptr) << i;
    EXPECT_TRUE(folio_test_uptodate(f));
    EXPECT_FALSE(folio_mapped(f));
    EXPECT_TRUE(folio_test_lru(f));
    folio_put(f);
  }
  EXPECT_TRUE(is_swap_pte(Pte(a)));  // outside the range: still out, not in the cache
  EXPECT_EQ(swap_cache_get_folio(pte_to_swp_entry(Pte(a))), nullptr);
  EXPECT_EQ(k_.DebugVm(), "");
  // The accesses that follow find the pages in the swap cache: minor faults, no reads.
  EXPECT_EQ(Load(a + PAGE_SIZE), 0x5101u);
  EXPECT_EQ(Load(a + 2 * PAGE_SIZE), 0x5102u);
  EXPECT_EQ(k_.stat(PGMAJFAULT), majflt);
  EXPECT_EQ(k_.stat(PSWPIN), pswpin + 2);
  EXPECT_EQ(k_.stat(PGFAULT), faults + 2);
  // Page 0 was not advised: its access is a major fault that reads the slot.
  EXPECT_EQ(Load(a), 0x5100u);
  EXPECT_EQ(k_.stat(PGMAJFAULT), majflt + 1);
  EXPECT_EQ(k_.stat(PSWPIN), pswpin + 3);
  EXPECT_EQ(k_.DebugVm(), "");
}

// The page allocation and the swap-cache insertion of WILLNEED's read can fail: the
// advice still succeeds (it is only a hint), the entries stay in the PTEs, and the data
// comes back at the next fault.
TEST_F(MadviseTest, WillneedSwapInUnderInjectedFailuresLeavesTheMachineConsistent) {
  unsigned long a = MapSwappedOut(2, 0x77);
  fault_spec once;
  once.times = 1;
  for (const char* point : {"fail_page_alloc", "failslab"}) {
    k_.RunAs(p_);
    ASSERT_EQ(fault_inject_arm(point, once), 0);
    const long pswpin = k_.stat(PSWPIN);
    EXPECT_EQ(Madvise(a, PAGE_SIZE, MADV_WILLNEED), 0) << point;
    EXPECT_EQ(k_.stat(PSWPIN), pswpin) << point;
    EXPECT_EQ(swap_cache_get_folio(pte_to_swp_entry(Pte(a))), nullptr) << point;
    EXPECT_EQ(__swap_count(pte_to_swp_entry(Pte(a))), 1) << point;
    EXPECT_EQ(k_.DebugVm(), "") << point;
  }
  EXPECT_EQ(Load(a), 0x77u);
  EXPECT_EQ(Load(a + PAGE_SIZE), 0x78u);
  EXPECT_EQ(k_.DebugVm(), "");
}

TEST_F(MadviseTest, WillneedOnAnonymousMemoryWithoutSwapIsANoOp) {
  unsigned long a = Map(2, kRW);
  ASSERT_EQ(Madvise(a, 2 * PAGE_SIZE, MADV_WILLNEED), 0);
  EXPECT_EQ(get_mm_rss(p_->mm), 0u);
}

}  // namespace
}  // namespace kernel
