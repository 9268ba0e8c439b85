// mm/workingset_test.cc: workingset shadow entries (mm/workingset.cc) on a booted kernel.
// Reclaim leaves a shadow where it evicts a page-cache or swap-cache folio; the refault
// that replaces it is counted and, when the refault distance fits in the workingset,
// activated at once. Truncation, munmap and exit drop the shadows. The rules are
// docs/semantics.md §12 R15.
#include "gtest/gtest.h"
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

class WorkingsetTest : public UserMemoryTest {
 protected:
  // A shared mapping of a new `pages`-page test file, every page read (so mapped and on
  // the inactive file list).
  unsigned long MapAndReadFile(file** f, int pages) {
    *f = MakeTestFile("ws", pages);
    k_.RunAs(p_);
    unsigned long a = vm_mmap_pgoff(*f, 0, pages * PAGE_SIZE, PROT_READ, MAP_SHARED, 0);
    EXPECT_FALSE(IS_ERR_VALUE(a));
    for (int i = 0; i < pages; ++i) EXPECT_EQ(Load(a + i * PAGE_SIZE), TestFileWord(i * PAGE_SIZE));
    return a;
  }
  // The second access of a cached page activates it (folio_mark_accessed, as read(2)).
  void Activate(file* f, pgoff_t index) {
    folio* fo = f->f_mapping->i_pages.at(index);
    folio_mark_accessed(fo);
    folio_mark_accessed(fo);
    ASSERT_TRUE(folio_test_active(fo));
  }
  bool Shadowed(file* f, pgoff_t index) { return f->f_mapping->i_shadows.count(index) != 0; }
  unsigned long Age() { return k_.ks()->zone_normal->__lruvec.nonresident_age; }
  void Close(file* f, unsigned long a, int pages) {
    ASSERT_EQ(k_.Munmap(p_, a, pages * PAGE_SIZE), 0);
    k_.RunAs(p_);
    fput(f);
  }
};

TEST_F(WorkingsetTest, BootSizesTheEvictionClock) {
  // 64 MiB: 2^14 pages fit the 40 timestamp bits with room to spare.
  EXPECT_EQ(k_.ks()->workingset_bucket_order, 0u);
  bool logged = false;
  for (const std::string& l : k_.ks()->printk_log)
    logged |=
        l.find("workingset: timestamp_bits=40 max_order=14 bucket_order=0") != std::string::npos;
  EXPECT_TRUE(logged);
}

// Evicted and read again at once: a refault distance of 1, within the four active file
// pages, so the new folio goes straight to the active list.
TEST_F(WorkingsetTest, FileRefaultWithinTheWorkingsetIsActivated) {
  file* f;
  unsigned long a = MapAndReadFile(&f, 8);
  for (pgoff_t i = 4; i < 8; ++i) Activate(f, i);
  ASSERT_EQ(k_.stat(NR_ACTIVE_FILE), 4);
  const unsigned long age = Age();
  ASSERT_EQ(Madvise(a, PAGE_SIZE, MADV_PAGEOUT), 0);
  EXPECT_EQ(f->f_mapping->i_pages.count(0), 0u);
  EXPECT_TRUE(Shadowed(f, 0));
  EXPECT_EQ(Age(), age + 1);  // the eviction ticked the clock
  EXPECT_EQ(k_.DebugVm(), "");
  const long majflt = k_.stat(PGMAJFAULT);
  EXPECT_EQ(Load(a + 8), TestFileWord(8));
  EXPECT_EQ(k_.stat(PGMAJFAULT), majflt + 1);  // read from the file again
  EXPECT_EQ(k_.stat(WORKINGSET_REFAULT_FILE), 1);
  EXPECT_EQ(k_.stat(WORKINGSET_ACTIVATE_FILE), 1);
  EXPECT_EQ(k_.stat(WORKINGSET_RESTORE_FILE), 0);  // it had not been active before
  EXPECT_EQ(k_.stat(WORKINGSET_REFAULT_ANON), 0);
  folio* fo = f->f_mapping->i_pages.at(0);
  EXPECT_TRUE(folio_test_active(fo));
  EXPECT_EQ(folio_lru_list(fo), LRU_ACTIVE_FILE);
  EXPECT_FALSE(Shadowed(f, 0));
  EXPECT_EQ(k_.DebugVm(), "");
  Close(f, a, 8);
  EXPECT_EQ(k_.DebugVm(), "");
}

// Four evictions later the first page's distance (4) exceeds the one active page: it
// refaults onto the inactive list. The last one evicted (distance 1) is activated.
TEST_F(WorkingsetTest, FileRefaultBeyondTheWorkingsetStaysInactive) {
  file* f;
  unsigned long a = MapAndReadFile(&f, 5);
  Activate(f, 4);
  ASSERT_EQ(k_.stat(NR_ACTIVE_FILE), 1);
  ASSERT_EQ(Madvise(a, PAGE_SIZE, MADV_PAGEOUT), 0);
  ASSERT_EQ(Madvise(a + PAGE_SIZE, 3 * PAGE_SIZE, MADV_PAGEOUT), 0);
  for (pgoff_t i = 0; i < 4; ++i) EXPECT_TRUE(Shadowed(f, i)) << i;
  EXPECT_EQ(k_.DebugVm(), "");
  EXPECT_EQ(Load(a), TestFileWord(0));
  EXPECT_EQ(k_.stat(WORKINGSET_REFAULT_FILE), 1);
  EXPECT_EQ(k_.stat(WORKINGSET_ACTIVATE_FILE), 0);
  EXPECT_EQ(folio_lru_list(f->f_mapping->i_pages.at(0)), LRU_INACTIVE_FILE);
  // Pages 1..3 went in that order: page 3 last, one tick before now.
  EXPECT_EQ(Load(a + 3 * PAGE_SIZE), TestFileWord(3 * PAGE_SIZE));
  EXPECT_EQ(k_.stat(WORKINGSET_REFAULT_FILE), 2);
  EXPECT_EQ(k_.stat(WORKINGSET_ACTIVATE_FILE), 1);
  EXPECT_EQ(folio_lru_list(f->f_mapping->i_pages.at(3)), LRU_ACTIVE_FILE);
  EXPECT_EQ(k_.DebugVm(), "");
  Close(f, a, 5);
}

// A page that was active, aged (MADV_COLD marks it PG_workingset as it deactivates it)
// and evicted carries the workingset bit in its shadow: its refault restores it.
TEST_F(WorkingsetTest, RefaultOfAFormerlyActivePageRestoresTheWorkingsetBit) {
  file* f;
  unsigned long a = MapAndReadFile(&f, 4);
  for (pgoff_t i = 0; i < 4; ++i) Activate(f, i);
  ASSERT_EQ(Madvise(a, PAGE_SIZE, MADV_COLD), 0);
  folio* fo = f->f_mapping->i_pages.at(0);
  ASSERT_FALSE(folio_test_active(fo));
  ASSERT_TRUE(folio_test_workingset(fo));
  ASSERT_EQ(Madvise(a, PAGE_SIZE, MADV_PAGEOUT), 0);
  ASSERT_TRUE(Shadowed(f, 0));
  EXPECT_EQ(Load(a), TestFileWord(0));
  EXPECT_EQ(k_.stat(WORKINGSET_REFAULT_FILE), 1);
  EXPECT_EQ(k_.stat(WORKINGSET_ACTIVATE_FILE), 1);
  EXPECT_EQ(k_.stat(WORKINGSET_RESTORE_FILE), 1);
  fo = f->f_mapping->i_pages.at(0);
  EXPECT_TRUE(folio_test_active(fo));
  EXPECT_TRUE(folio_test_workingset(fo));
  EXPECT_EQ(k_.DebugVm(), "");
  Close(f, a, 4);
}

// Truncation drops the shadows past the new end (a page that comes back after it is new,
// not a refault); the page straddling the end keeps its shadow.
TEST_F(WorkingsetTest, TruncateDropsTheShadows) {
  file* f;
  unsigned long a = MapAndReadFile(&f, 4);
  ASSERT_EQ(Madvise(a, 4 * PAGE_SIZE, MADV_PAGEOUT), 0);
  for (pgoff_t i = 0; i < 4; ++i) ASSERT_TRUE(Shadowed(f, i)) << i;
  k_.RunAs(p_);
  ASSERT_EQ(do_ftruncate(f, PAGE_SIZE + 100), 0);
  EXPECT_TRUE(Shadowed(f, 0));
  EXPECT_TRUE(Shadowed(f, 1));  // holds bytes [PAGE_SIZE, PAGE_SIZE + 100) still
  EXPECT_FALSE(Shadowed(f, 2));
  EXPECT_FALSE(Shadowed(f, 3));
  EXPECT_EQ(k_.DebugVm(), "");
  ASSERT_EQ(do_ftruncate(f, 0), 0);
  EXPECT_TRUE(f->f_mapping->i_shadows.empty());
  EXPECT_TRUE(mapping_empty(f->f_mapping));
  // Grown again, the first page is read anew: no refault.
  ASSERT_EQ(do_ftruncate(f, 4 * PAGE_SIZE), 0);
  EXPECT_EQ(Load(a), 0u);
  EXPECT_EQ(k_.stat(WORKINGSET_REFAULT_FILE), 0);
  EXPECT_EQ(k_.DebugVm(), "");
  Close(f, a, 4);
  EXPECT_EQ(k_.DebugVm(), "");
}

// A write into an evicted page through write(2) is not a refault (filemap_add_folio
// with __GFP_WRITE): its shadow is replaced without a count.
TEST_F(WorkingsetTest, AWriteIntoAnEvictedPageIsNoRefault) {
  file* f;
  unsigned long a = MapAndReadFile(&f, 2);
  ASSERT_EQ(Madvise(a, PAGE_SIZE, MADV_PAGEOUT), 0);
  ASSERT_TRUE(Shadowed(f, 0));
  k_.RunAs(p_);
  loff_t pos = 16;
  const char data[] = "overwrite";
  ASSERT_EQ(kernel_write(f, data, sizeof(data), &pos), static_cast<ssize_t>(sizeof(data)));
  EXPECT_FALSE(Shadowed(f, 0));
  EXPECT_EQ(k_.stat(WORKINGSET_REFAULT_FILE), 0);
  EXPECT_EQ(k_.DebugVm(), "");
  Close(f, a, 2);
}

// Anonymous memory: the shadow sits in the swap slot. The swap-in counts
// workingset_refault_anon; with a page of inactive file cache to compete with, a
// distance of 1 activates it.
TEST_F(WorkingsetTest, AnonRefaultFromSwapIsCountedAndActivated) {
  ASSERT_EQ(swapon_simulated(4 << 20), 0);
  file* f;
  unsigned long fa = MapAndReadFile(&f, 1);  // one inactive file page
  unsigned long a = Map(2, kRW);
  Store(a, 0xa0);
  Store(a + PAGE_SIZE, 0xa1);
  ASSERT_EQ(Madvise(a, PAGE_SIZE, MADV_PAGEOUT), 0);
  ASSERT_TRUE(is_swap_pte(Pte(a)));
  const swp_entry_t entry = pte_to_swp_entry(Pte(a));
  EXPECT_NE(swap_cache_get_shadow(entry), nullptr);
  EXPECT_EQ(k_.DebugVm(), "");
  EXPECT_EQ(Load(a), 0xa0u);
  EXPECT_EQ(k_.stat(WORKINGSET_REFAULT_ANON), 1);
  EXPECT_EQ(k_.stat(WORKINGSET_ACTIVATE_ANON), 1);
  EXPECT_EQ(k_.stat(WORKINGSET_REFAULT_FILE), 0);
  pte_t pte = Pte(a);
  ASSERT_TRUE(pte_present(pte));
  folio* fo = page_folio(pte_page(pte));
  EXPECT_EQ(folio_lru_list(fo), LRU_ACTIVE_ANON);
  EXPECT_TRUE(k_.ks()->swap_info->shadows.empty());
  EXPECT_EQ(k_.DebugVm(), "");
  Close(f, fa, 1);
}

// A shadow lives only as long as its slot: munmap of the swap PTE frees the slot and
// the shadow with it, and so does exit.
TEST_F(WorkingsetTest, AnonShadowsGoWithTheirSlotsAtMunmapAndExit) {
  unsigned long a = MapSwappedOut(2, 1);
  swap_info_struct* si = k_.ks()->swap_info;
  ASSERT_EQ(si->shadows.size(), 2u);
  ASSERT_EQ(k_.Munmap(p_, a, PAGE_SIZE), 0);
  EXPECT_EQ(si->shadows.size(), 1u);
  EXPECT_EQ(k_.DebugVm(), "");
  // A child shares the remaining slot through fork; the slot (and its shadow) outlives
  // the parent's exit and goes with the child's.
  task_struct* child = k_.Fork(p_);
  ASSERT_NE(child, nullptr);
  k_.ExitAndReap(p_);
  p_ = nullptr;
  EXPECT_EQ(si->shadows.size(), 1u);
  EXPECT_EQ(k_.DebugVm(), "");
  k_.ExitAndReap(child);
  EXPECT_TRUE(si->shadows.empty());
  EXPECT_EQ(k_.ks()->nr_swap_pages, k_.ks()->total_swap_pages);
  EXPECT_EQ(k_.DebugVm(), "");
}

// debug_vm notices a shadow where none may be: beside a folio, past end-of-file, in a free
// swap slot, or one that is not a value entry.
TEST_F(WorkingsetTest, DebugVmReportsMisplacedShadows) {
  ASSERT_EQ(swapon_simulated(4 << 20), 0);
  file* f;
  unsigned long a = MapAndReadFile(&f, 2);
  address_space* mapping = f->f_mapping;
  void* shadow = xa_mk_value(0);
  mapping->i_shadows[0] = shadow;  // page 0 is cached
  EXPECT_NE(k_.DebugVm().find("both a folio and a shadow"), std::string::npos);
  mapping->i_shadows.clear();
  mapping->i_shadows[5] = shadow;  // the file has 2 pages
  EXPECT_NE(k_.DebugVm().find("past end-of-file"), std::string::npos);
  mapping->i_shadows.clear();
  mapping->i_shadows[1] = reinterpret_cast<void*>(0x1000);  // a pointer, not a value
  EXPECT_NE(k_.DebugVm().find("not a value entry"), std::string::npos);
  mapping->i_shadows.clear();
  swap_info_struct* si = k_.ks()->swap_info;
  si->shadows[7] = shadow;  // slot 7 is free
  EXPECT_NE(k_.DebugVm().find("swap slot 7: a shadow but the slot is free"), std::string::npos);
  si->shadows.clear();
  EXPECT_EQ(k_.DebugVm(), "");
  Close(f, a, 2);
}

}  // namespace
}  // namespace kernel
