// mm/rmap_test.cc: folio_mkclean over rmap_walk_file and page_vma_mapped_walk
// (page_mkclean_one / page_vma_mkclean_one).
#include "gtest/gtest.h"
#include "mm/fs.h"
#include "mm/mm.h"
#include "mm/testing/file_helpers.h"
#include "mm/testing/one_process_test.h"

namespace kernel {
namespace {

using kernel_testing::MakeTestFile;
using kernel_testing::TestFileWord;
using kernel_testing::UserAccess;
using kernel_testing::UserMemoryTest;

constexpr unsigned long kRW = PROT_READ | PROT_WRITE;
constexpr uint32_t kWpFault = hw::kPfErrPresent | hw::kPfErrWrite | hw::kPfErrUser;

class RmapTest : public UserMemoryTest {
 protected:
  // `pages` pages of f from page `pgoff`, mapped with prot and flags as t.
  unsigned long MapFileAs(task_struct* t, file* f, unsigned long pgoff, int pages,
                          unsigned long flags) {
    k_.RunAs(t);
    unsigned long a = vm_mmap_pgoff(f, 0, pages * PAGE_SIZE, kRW, flags, pgoff);
    EXPECT_FALSE(IS_ERR_VALUE(a));
    return a;
  }
  static pte_t PteOf(task_struct* t, unsigned long va) {
    pte_t* pte = mm_find_pte(t->mm, va);
    return pte == nullptr ? __pte(0) : *pte;
  }
  UserAccess StoreAs(task_struct* t, unsigned long va, uint64_t v) {
    k_.RunAs(t);
    return k_.UserStore(t, va, v);
  }
  int Mkclean(folio* f) {
    folio_lock(f);
    const int cleaned = folio_mkclean(f);
    folio_unlock(f);
    return cleaned;
  }
};

// One page-cache folio (file page 1) written through three shared mappings: two VMAs of p_
// that map it at different offsets into them, and one of a second process. folio_mkclean
// finds each PTE through i_mmap and page_vma_mapped_walk and makes it clean and
// read-only, counting one per PTE; neighbouring pages and private mappings keep theirs.
// The next write through a cleaned PTE takes a write-protect fault and dirties the folio
// again, and only that PTE is writable afterwards.
TEST_F(RmapTest, FolioMkcleanWriteProtectsEverySharedPte) {
  file* f = MakeTestFile("mkclean", 3);
  ASSERT_FALSE(IS_ERR(f));
  task_struct* q = k_.Spawn("q");
  const unsigned long a = MapFileAs(p_, f, 0, 2, MAP_SHARED);  // page 1 at a + 4K
  const unsigned long b = MapFileAs(p_, f, 1, 2, MAP_SHARED);  // page 1 at b
  const unsigned long c = MapFileAs(q, f, 1, 1, MAP_SHARED);   // page 1 at c
  const unsigned long pr = MapFileAs(p_, f, 1, 1, MAP_PRIVATE);
  ASSERT_NE(a + PAGE_SIZE, b);
  ASSERT_TRUE(StoreAs(p_, a, 10).ok());  // page 0: another folio
  ASSERT_TRUE(StoreAs(p_, a + PAGE_SIZE, 11).ok());
  ASSERT_TRUE(StoreAs(p_, b + 8, 12).ok());
  ASSERT_TRUE(StoreAs(q, c + 16, 13).ok());
  k_.RunAs(p_);
  EXPECT_EQ(Load(pr), 11u);  // a private read maps the page cache folio read-only
  const pte_t pr_pte = PteOf(p_, pr);
  ASSERT_TRUE(pte_present(pr_pte));
  ASSERT_FALSE(pte_write(pr_pte));

  folio* fo = page_folio(pte_page(PteOf(p_, b)));
  ASSERT_EQ(fo, page_folio(pte_page(PteOf(p_, a + PAGE_SIZE))));
  ASSERT_EQ(fo, page_folio(pte_page(PteOf(q, c))));
  ASSERT_EQ(fo, page_folio(pte_page(pr_pte)));
  folio* page0 = page_folio(pte_page(PteOf(p_, a)));
  ASSERT_NE(fo, page0);
  EXPECT_EQ(folio_mapcount(fo), 4);
  for (const pte_t pte : {PteOf(p_, a + PAGE_SIZE), PteOf(p_, b), PteOf(q, c)}) {
    EXPECT_TRUE(pte_write(pte));
    EXPECT_TRUE(pte_dirty(pte));
  }
  EXPECT_TRUE(folio_test_dirty(fo));

  EXPECT_EQ(Mkclean(fo), 3);
  for (const pte_t pte : {PteOf(p_, a + PAGE_SIZE), PteOf(p_, b), PteOf(q, c)}) {
    EXPECT_TRUE(pte_present(pte));
    EXPECT_EQ(page_folio(pte_page(pte)), fo);
    EXPECT_FALSE(pte_write(pte));
    EXPECT_FALSE(pte_dirty(pte));
  }
  EXPECT_EQ(pte_val(PteOf(p_, pr)), pte_val(pr_pte));  // the private PTE is untouched
  EXPECT_TRUE(pte_write(PteOf(p_, a)));  // page 0's folio is not this one
  EXPECT_TRUE(pte_dirty(PteOf(p_, a)));
  EXPECT_EQ(folio_mapcount(fo), 4);
  EXPECT_EQ(Mkclean(fo), 0);  // nothing left to clean

  // Writeback's step: PG_dirty goes too (folio_mkclean found nothing dirty any more).
  folio_lock(fo);
  EXPECT_TRUE(folio_clear_dirty_for_io(fo));
  folio_unlock(fo);
  EXPECT_FALSE(folio_test_dirty(fo));

  // The next write through b faults on the read-only PTE and re-dirties the folio.
  const UserAccess w = StoreAs(p_, b + 24, 14);
  ASSERT_TRUE(w.ok());
  ASSERT_EQ(w.pf_error_codes.size(), 1u);
  EXPECT_EQ(w.pf_error_codes[0], kWpFault);
  EXPECT_TRUE(folio_test_dirty(fo));
  EXPECT_TRUE(pte_write(PteOf(p_, b)));
  EXPECT_TRUE(pte_dirty(PteOf(p_, b)));
  EXPECT_FALSE(pte_write(PteOf(p_, a + PAGE_SIZE)));
  EXPECT_FALSE(pte_write(PteOf(q, c)));
  // Every write landed in the one folio.
  k_.RunAs(q);
  uint64_t v = 0;
  ASSERT_TRUE(k_.UserLoad(q, c + 24, &v).ok());
  EXPECT_EQ(v, 14u);
  ASSERT_TRUE(k_.UserLoad(q, c, &v).ok());
  EXPECT_EQ(v, 11u);
  EXPECT_EQ(Mkclean(fo), 1);
  EXPECT_FALSE(pte_write(PteOf(p_, b)));

  k_.RunAs(p_);
  EXPECT_EQ(Load(a), 10u);
  EXPECT_EQ(Load(a + PAGE_SIZE + 32), TestFileWord(PAGE_SIZE + 32));  // not written
  fput(f);
  EXPECT_EQ(k_.DebugVm(), "");
}

}  // namespace
}  // namespace kernel
