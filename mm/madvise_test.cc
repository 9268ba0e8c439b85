// mm/madvise_test.cc: MADV_DONTNEED, MADV_FREE, MADV_COLD, MADV_PAGEOUT, MADV_WILLNEED,
// the flag advice (MADV_NORMAL/RANDOM/SEQUENTIAL, DONTDUMP/DODUMP, MERGEABLE/UNMERGEABLE),
// MADV_POPULATE_READ/WRITE, and the argument and VMA-walk rules they share.
#include "gtest/gtest.h"
#include "mm/fault_inject.h"
#include "mm/fs.h"
#include "mm/huge_mm.h"
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
  EXPECT_EQ(Madvise(a, PAGE_SIZE, 9), -EINVAL);   // MADV_REMOVE: not modelled (EINVAL here on Linux too)
  EXPECT_EQ(Madvise(a, PAGE_SIZE, 102), -EINVAL);  // MADV_GUARD_INSTALL: not modelled
  // Every other value up to MADV_DONTNEED_LOCKED that Linux 6.18 accepts is accepted.
  for (int advice : {MADV_NORMAL, MADV_RANDOM, MADV_SEQUENTIAL, MADV_WILLNEED, MADV_DONTNEED,
                     MADV_FREE, MADV_DONTFORK, MADV_DOFORK, MADV_MERGEABLE, MADV_UNMERGEABLE,
                     MADV_HUGEPAGE, MADV_NOHUGEPAGE, MADV_DONTDUMP, MADV_DODUMP,
                     MADV_WIPEONFORK, MADV_KEEPONFORK, MADV_COLD, MADV_PAGEOUT,
                     MADV_POPULATE_READ, MADV_POPULATE_WRITE, 24})
    EXPECT_EQ(Madvise(a, PAGE_SIZE, advice), 0) << advice;
  EXPECT_EQ(Madvise(a + 1, PAGE_SIZE, MADV_POPULATE_READ), -EINVAL);
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


// ---- the flag advice: access pattern, core dump, KSM ----

namespace {

vm_flags_t FlagsAt(mm_struct* mm, unsigned long va) {
  vm_area_struct* vma = vma_lookup(mm, va);
  return vma == nullptr ? 0 : vma->vm_flags;
}

}  // namespace

// MADV_RANDOM and MADV_SEQUENTIAL exclude each other; MADV_NORMAL clears both. Advice on
// part of a VMA splits it; advice that changes nothing does not.
TEST_F(MadviseTest, AccessPatternAdviceSetsAndClearsTheReadFlags) {
  unsigned long a = Map(4, kRW);
  mm_struct* mm = p_->mm;
  const int maps = mm->map_count;
  ASSERT_EQ(Madvise(a + PAGE_SIZE, PAGE_SIZE, MADV_RANDOM), 0);
  EXPECT_EQ(mm->map_count, maps + 2);
  EXPECT_TRUE(FlagsAt(mm, a + PAGE_SIZE) & VM_RAND_READ);
  EXPECT_FALSE(FlagsAt(mm, a) & (VM_RAND_READ | VM_SEQ_READ));
  EXPECT_FALSE(FlagsAt(mm, a + 2 * PAGE_SIZE) & (VM_RAND_READ | VM_SEQ_READ));
  ASSERT_EQ(Madvise(a + PAGE_SIZE, PAGE_SIZE, MADV_SEQUENTIAL), 0);
  EXPECT_EQ(FlagsAt(mm, a + PAGE_SIZE) & (VM_RAND_READ | VM_SEQ_READ), VM_SEQ_READ);
  ASSERT_EQ(Madvise(a + PAGE_SIZE, PAGE_SIZE, MADV_RANDOM), 0);
  EXPECT_EQ(FlagsAt(mm, a + PAGE_SIZE) & (VM_RAND_READ | VM_SEQ_READ), VM_RAND_READ);
  // MADV_NORMAL over the whole range: the flags go and the pieces merge again.
  ASSERT_EQ(Madvise(a, 4 * PAGE_SIZE, MADV_NORMAL), 0);
  EXPECT_FALSE(FlagsAt(mm, a + PAGE_SIZE) & (VM_RAND_READ | VM_SEQ_READ));
  EXPECT_EQ(mm->map_count, maps);
  EXPECT_EQ(Madvise(a, 4 * PAGE_SIZE, MADV_NORMAL), 0);
  EXPECT_EQ(mm->map_count, maps);
  EXPECT_EQ(k_.DebugVm(), "");
}

// vma_has_recency: accesses through a MADV_RANDOM (or MADV_SEQUENTIAL) mapping do not
// count in page aging. folio_referenced skips the VMA, leaving its accessed bit alone.
TEST_F(MadviseTest, RandomAndSequentialMappingsHaveNoRecency) {
  unsigned long a = Map(2, kRW);
  Store(a, 1);
  Store(a + PAGE_SIZE, 2);
  ASSERT_EQ(Madvise(a + PAGE_SIZE, PAGE_SIZE, MADV_RANDOM), 0);
  ASSERT_TRUE(pte_young(Pte(a)) && pte_young(Pte(a + PAGE_SIZE)));
  vm_flags_t vm_flags;
  k_.RunAs(p_);
  EXPECT_EQ(folio_referenced(FolioAt(a), 0, &vm_flags), 1);
  EXPECT_FALSE(pte_young(Pte(a)));  // tested and cleared
  EXPECT_EQ(folio_referenced(FolioAt(a + PAGE_SIZE), 0, &vm_flags), 0);
  EXPECT_EQ(vm_flags, 0u);
  EXPECT_TRUE(pte_young(Pte(a + PAGE_SIZE)));  // not looked at
  ASSERT_EQ(Madvise(a + PAGE_SIZE, PAGE_SIZE, MADV_SEQUENTIAL), 0);
  k_.RunAs(p_);
  EXPECT_EQ(folio_referenced(FolioAt(a + PAGE_SIZE), 0, &vm_flags), 0);
  ASSERT_EQ(Madvise(a + PAGE_SIZE, PAGE_SIZE, MADV_NORMAL), 0);
  k_.RunAs(p_);
  EXPECT_EQ(folio_referenced(FolioAt(a + PAGE_SIZE), 0, &vm_flags), 1);
  EXPECT_EQ(k_.DebugVm(), "");
}

// MADV_DONTDUMP sets VM_DONTDUMP, MADV_DODUMP clears it, except on a special mapping
// ([vvar]: VM_IO | VM_PFNMAP), which stays out of core dumps.
TEST_F(MadviseTest, DontdumpAndDodump) {
  unsigned long a = Map(2, kRW);
  mm_struct* mm = p_->mm;
  ASSERT_EQ(Madvise(a, 2 * PAGE_SIZE, MADV_DONTDUMP), 0);
  EXPECT_TRUE(FlagsAt(mm, a) & VM_DONTDUMP);
  ASSERT_EQ(Madvise(a, PAGE_SIZE, MADV_DODUMP), 0);
  EXPECT_FALSE(FlagsAt(mm, a) & VM_DONTDUMP);
  EXPECT_TRUE(FlagsAt(mm, a + PAGE_SIZE) & VM_DONTDUMP);
  k_.RunAs(p_);
  unsigned long v = map_vvar(0);
  ASSERT_FALSE(IS_ERR_VALUE(v));
  ASSERT_TRUE(FlagsAt(mm, v) & VM_SPECIAL);
  EXPECT_EQ(Madvise(v, PAGE_SIZE, MADV_DONTDUMP), 0);
  EXPECT_EQ(Madvise(v, PAGE_SIZE, MADV_DODUMP), -EINVAL);
  EXPECT_TRUE(FlagsAt(mm, v) & VM_DONTDUMP);
  EXPECT_EQ(k_.DebugVm(), "");
}

// MADV_MERGEABLE (CONFIG_KSM, ksmd not running): a private anonymous VMA is marked
// VM_MERGEABLE and its mm registered (MMF_VM_MERGEABLE, inherited over fork); a shared
// one is ignored (0, no mark). MADV_UNMERGEABLE clears the mark.
TEST_F(MadviseTest, MergeableMarksPrivateVmasAndRegistersTheMm) {
  unsigned long a = Map(2, kRW);
  mm_struct* mm = p_->mm;
  Store(a, 0x77);
  EXPECT_FALSE(test_bit(MMF_VM_MERGEABLE, &mm->flags));
  ASSERT_EQ(Madvise(a, PAGE_SIZE, MADV_MERGEABLE), 0);
  EXPECT_TRUE(FlagsAt(mm, a) & VM_MERGEABLE);
  EXPECT_FALSE(FlagsAt(mm, a + PAGE_SIZE) & VM_MERGEABLE);
  EXPECT_TRUE(test_bit(MMF_VM_MERGEABLE, &mm->flags));
  unsigned long s = k_.Mmap(p_, 0, PAGE_SIZE, kRW, MAP_SHARED | MAP_ANONYMOUS);
  ASSERT_FALSE(IS_ERR_VALUE(s));
  EXPECT_EQ(Madvise(s, PAGE_SIZE, MADV_MERGEABLE), 0);
  EXPECT_FALSE(FlagsAt(mm, s) & VM_MERGEABLE);
  // The child inherits the marked VMA, and is registered too (ksm_fork).
  task_struct* c = k_.Fork(p_);
  ASSERT_NE(c, nullptr);
  EXPECT_TRUE(test_bit(MMF_VM_MERGEABLE, &c->mm->flags));
  EXPECT_TRUE(FlagsAt(c->mm, a) & VM_MERGEABLE);
  k_.ExitAndReap(c);
  // Nothing was merged: the page is the process's own as before.
  ASSERT_EQ(Madvise(a, 2 * PAGE_SIZE, MADV_UNMERGEABLE), 0);
  EXPECT_FALSE(FlagsAt(mm, a) & VM_MERGEABLE);
  EXPECT_EQ(Load(a), 0x77u);
  EXPECT_EQ(k_.DebugVm(), "");
}

// ---- MADV_POPULATE_READ, MADV_POPULATE_WRITE ----

// POPULATE_READ read-faults: private anonymous memory gets the shared zero page (no RSS).
// POPULATE_WRITE write-faults: private pages, writable and dirty, counted in RSS; over
// zero pages it breaks the COW. No user access is made: no #PF is taken by the task.
TEST_F(MadviseTest, PopulateReadMapsTheZeroPageAndPopulateWriteAllocates) {
  unsigned long a = Map(4, kRW);
  mm_struct* mm = p_->mm;
  const long anon = k_.stat(NR_ANON_MAPPED);
  ASSERT_EQ(Madvise(a, 2 * PAGE_SIZE, MADV_POPULATE_READ), 0);
  for (int i = 0; i < 2; ++i) {
    pte_t pte = Pte(a + i * PAGE_SIZE);
    ASSERT_TRUE(pte_present(pte)) << i;
    EXPECT_TRUE(is_zero_pfn(pte_pfn(pte))) << i;
    EXPECT_FALSE(pte_write(pte)) << i;
  }
  EXPECT_FALSE(pte_present(Pte(a + 2 * PAGE_SIZE)));
  EXPECT_EQ(get_mm_counter(mm, MM_ANONPAGES), 0u);
  ASSERT_EQ(Madvise(a + PAGE_SIZE, 3 * PAGE_SIZE, MADV_POPULATE_WRITE), 0);
  EXPECT_TRUE(is_zero_pfn(pte_pfn(Pte(a))));
  for (int i = 1; i < 4; ++i) {
    pte_t pte = Pte(a + i * PAGE_SIZE);
    ASSERT_TRUE(pte_present(pte)) << i;
    EXPECT_FALSE(is_zero_pfn(pte_pfn(pte))) << i;
    EXPECT_TRUE(pte_write(pte) && pte_dirty(pte)) << i;
  }
  EXPECT_EQ(get_mm_counter(mm, MM_ANONPAGES), 3u);
  EXPECT_EQ(k_.stat(NR_ANON_MAPPED), anon + 3);
  // Populating again finds everything in place.
  const long faults = k_.stat(PGFAULT);
  ASSERT_EQ(Madvise(a + PAGE_SIZE, 3 * PAGE_SIZE, MADV_POPULATE_WRITE), 0);
  EXPECT_EQ(k_.stat(PGFAULT), faults);
  EXPECT_EQ(Load(a + 3 * PAGE_SIZE), 0u);
  EXPECT_EQ(k_.DebugVm(), "");
}

// The errors: a range the VMA does not allow the access in is EINVAL (PROT_NONE, a
// read-only range for POPULATE_WRITE, VM_IO|VM_PFNMAP); a hole is ENOMEM, at once (unlike
// the other advice, which goes on past it); a file page past end-of-file is EFAULT (the
// fault's SIGBUS). Pages before the failure stay populated.
TEST_F(MadviseTest, PopulateErrors) {
  mm_struct* mm = p_->mm;
  unsigned long ro = Map(2, PROT_READ);
  EXPECT_EQ(Madvise(ro, 2 * PAGE_SIZE, MADV_POPULATE_WRITE), -EINVAL);
  EXPECT_FALSE(pte_present(Pte(ro)));
  EXPECT_EQ(Madvise(ro, 2 * PAGE_SIZE, MADV_POPULATE_READ), 0);
  EXPECT_TRUE(pte_present(Pte(ro + PAGE_SIZE)));
  unsigned long none = Map(1, PROT_NONE);
  EXPECT_EQ(Madvise(none, PAGE_SIZE, MADV_POPULATE_READ), -EINVAL);
  EXPECT_EQ(Madvise(none, PAGE_SIZE, MADV_POPULATE_WRITE), -EINVAL);
  k_.RunAs(p_);
  unsigned long v = map_vvar(0);
  ASSERT_FALSE(IS_ERR_VALUE(v));
  EXPECT_EQ(Madvise(v, PAGE_SIZE, MADV_POPULATE_READ), -EINVAL);
  // A hole after the first page: that page is done, the page after the hole is not.
  unsigned long a = Map(3, kRW);
  ASSERT_EQ(k_.Munmap(p_, a + PAGE_SIZE, PAGE_SIZE), 0);
  EXPECT_EQ(Madvise(a, 3 * PAGE_SIZE, MADV_POPULATE_WRITE), -ENOMEM);
  EXPECT_TRUE(pte_present(Pte(a)));
  EXPECT_FALSE(pte_present(Pte(a + 2 * PAGE_SIZE)));
  EXPECT_EQ(get_mm_counter(mm, MM_ANONPAGES), 1u);
  // (MADV_DONTNEED over the same range goes on past the hole, then says ENOMEM.)
  EXPECT_EQ(Madvise(a, 3 * PAGE_SIZE, MADV_DONTNEED), -ENOMEM);
  EXPECT_FALSE(pte_present(Pte(a)));
  // A two-page file mapped over four pages: the pages past end-of-file SIGBUS.
  file* f = MakeTestFile("populate", 2);
  unsigned long fa = MapFile(f, 4, PROT_READ, MAP_PRIVATE);
  EXPECT_EQ(Madvise(fa, 4 * PAGE_SIZE, MADV_POPULATE_READ), -EFAULT);
  EXPECT_TRUE(pte_present(Pte(fa)) && pte_present(Pte(fa + PAGE_SIZE)));
  EXPECT_EQ(Load(fa + 8), TestFileWord(8));
  k_.RunAs(p_);
  fput(f);
  EXPECT_EQ(k_.DebugVm(), "");
}

// POPULATE_WRITE on a shared file mapping write-faults its pages: they are dirtied in the
// page cache, as a store would. POPULATE_READ maps them clean.
TEST_F(MadviseTest, PopulateOnASharedFileMapping) {
  file* f = MakeTestFile("shared", 2);
  unsigned long a = MapFile(f, 2, kRW, MAP_SHARED);
  ASSERT_EQ(Madvise(a, 2 * PAGE_SIZE, MADV_POPULATE_READ), 0);
  EXPECT_TRUE(pte_present(Pte(a)));
  EXPECT_FALSE(pte_write(Pte(a)));  // write-protected until written (dirty tracking)
  EXPECT_FALSE(folio_test_dirty(FolioAt(a)));
  ASSERT_EQ(Madvise(a, PAGE_SIZE, MADV_POPULATE_WRITE), 0);
  EXPECT_TRUE(pte_write(Pte(a)));
  EXPECT_TRUE(folio_test_dirty(FolioAt(a)));
  EXPECT_FALSE(folio_test_dirty(FolioAt(a + PAGE_SIZE)));
  EXPECT_EQ(Load(a + 16), TestFileWord(16));
  k_.RunAs(p_);
  fput(f);
  EXPECT_EQ(k_.DebugVm(), "");
}

// With thp=always POPULATE_WRITE over an aligned 2 MiB range faults in one huge page, as
// a write fault would; POPULATE_READ there maps the huge zero page.
TEST_F(MadviseTest, PopulateWriteAllocatesHugePagesWithThpAlways) {
  set_transparent_hugepage_enabled(k_.ks(), THP_ALWAYS);
  mm_struct* mm = p_->mm;
  unsigned long a = k_.Mmap(p_, 0, 2 * HPAGE_PMD_SIZE, kRW);
  ASSERT_FALSE(IS_ERR_VALUE(a));
  ASSERT_EQ(a % HPAGE_PMD_SIZE, 0u);
  const long thp = k_.stat(THP_FAULT_ALLOC);
  ASSERT_EQ(Madvise(a, HPAGE_PMD_SIZE, MADV_POPULATE_WRITE), 0);
  pmd_t* pmd = mm_find_pmd(mm, a);
  ASSERT_NE(pmd, nullptr);
  EXPECT_TRUE(pmd_trans_huge(*pmd));
  EXPECT_FALSE(is_huge_zero_pmd(*pmd));
  EXPECT_EQ(k_.stat(THP_FAULT_ALLOC), thp + 1);
  EXPECT_EQ(get_mm_counter(mm, MM_ANONPAGES), static_cast<unsigned long>(HPAGE_PMD_NR));
  ASSERT_EQ(Madvise(a + HPAGE_PMD_SIZE, HPAGE_PMD_SIZE, MADV_POPULATE_READ), 0);
  pmd = mm_find_pmd(mm, a + HPAGE_PMD_SIZE);
  ASSERT_NE(pmd, nullptr);
  EXPECT_TRUE(is_huge_zero_pmd(*pmd));
  EXPECT_EQ(get_mm_counter(mm, MM_ANONPAGES), static_cast<unsigned long>(HPAGE_PMD_NR));
  EXPECT_EQ(k_.DebugVm(), "");
}

// MADV_POPULATE_* take the mmap_lock for reading only: another reader is not excluded.
TEST_F(MadviseTest, PopulateRunsUnderTheMmapReadLock) {
  unsigned long a = Map(1, kRW);
  mm_struct* mm = p_->mm;
  k_.RunAs(p_);
  mmap_read_lock(mm);  // a reader already in: a write-locked advice would have to wait
  EXPECT_EQ(do_madvise(a, PAGE_SIZE, MADV_POPULATE_WRITE), 0);
  mmap_read_unlock(mm);
  EXPECT_TRUE(pte_present(Pte(a)));
}

}  // namespace
}  // namespace kernel
