// mm/huge_knobs_test.cc: the transparent_hugepage `defrag` and `use_zero_page` knobs
// (mm/huge_memory.cc set_transparent_hugepage_defrag / _use_zero_page): what each defrag
// mode lets a huge fault do when no 2 MiB block is free (direct reclaim: allocstall_normal;
// waking kswapd: its kswapd_order), and a read fault without the huge zero folio.
#include <vector>

#include "gtest/gtest.h"
#include "mm/huge_mm.h"
#include "mm/mm.h"
#include "mm/mmzone.h"
#include "mm/pagewalk.h"
#include "mm/testing/kernel_fixture.h"

namespace kernel {
namespace {

using kernel_testing::BootedKernel;

constexpr unsigned long kRW = PROT_READ | PROT_WRITE;
constexpr unsigned long kAnon = MAP_PRIVATE | MAP_ANONYMOUS;

class HugeKnobsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    set_transparent_hugepage_enabled(k_.ks(), THP_ALWAYS);
    t_ = k_.Spawn("t");
  }
  void TearDown() override {
    for (page* p : held_) __free_pages(p, 0);
    EXPECT_EQ(k_.DebugVm(), "");
  }

  // Leaves no free 2 MiB block: every page the allocator gives without reclaim is taken
  // (it stops at the min watermark), then every other one by pfn is given back, so no two
  // of those are buddies. The zone is back above its low watermark, so a 4 KiB fault
  // never needs the slow path.
  void FragmentEveryBlock() {
    k_.RunAs(t_);
    std::vector<page*> all;
    for (;;) {
      page* p = alloc_pages((GFP_HIGHUSER_MOVABLE & ~__GFP_RECLAIM) | __GFP_NOWARN, 0);
      if (p == nullptr) break;
      all.push_back(p);
    }
    for (page* p : all) {
      if (page_to_pfn(p) % 2 == 0)
        __free_pages(p, 0);
      else
        held_.push_back(p);
    }
    zone* z = k_.ks()->zone_normal;
    ASSERT_GT(z->free_pages, static_cast<long>(low_wmark_pages(z)) + 64);
    for (int order = HPAGE_PMD_ORDER; order <= MAX_PAGE_ORDER; ++order)
      ASSERT_EQ(z->free_area[order].nr_free, 0u) << "order " << order;
    z->kswapd_order = 0;
  }

  // A fresh 2 MiB-aligned anonymous VMA, MADV_HUGEPAGE when `madvised`; its first page
  // written. Returns whether a PMD leaf maps it.
  bool FaultHuge(bool madvised) {
    const unsigned long a = k_.Mmap(t_, 0, HPAGE_PMD_SIZE, kRW, kAnon);
    EXPECT_FALSE(IS_ERR_VALUE(a));
    if (madvised) {
      k_.RunAs(t_);
      EXPECT_EQ(do_madvise(a, HPAGE_PMD_SIZE, MADV_HUGEPAGE), 0);
    }
    EXPECT_TRUE(k_.UserStore(t_, a, 1).ok());
    pmd_t* pmd = mm_find_pmd(t_->mm, a);
    return pmd != nullptr && pmd_trans_huge(*pmd);
  }

  struct Seen {
    long stalls;        // direct reclaim entered (allocstall_normal)
    int kswapd_order;   // what woke kswapd asked for (0: nothing)
    long fallbacks;     // thp_fault_fallback
  };
  Seen FaultUnderFragmentation(thp_defrag_mode mode, bool madvised) {
    set_transparent_hugepage_defrag(k_.ks(), mode);
    FragmentEveryBlock();
    const long stalls = k_.stat(ALLOCSTALL_NORMAL);
    const long fallbacks = k_.stat(THP_FAULT_FALLBACK);
    EXPECT_FALSE(FaultHuge(madvised));
    return {k_.stat(ALLOCSTALL_NORMAL) - stalls, k_.ks()->zone_normal->kswapd_order,
            k_.stat(THP_FAULT_FALLBACK) - fallbacks};
  }

  BootedKernel k_{uint64_t{16} << 20};
  task_struct* t_ = nullptr;
  std::vector<page*> held_;
};

TEST_F(HugeKnobsTest, DefragNamesReadBackWhatWasWritten) {
  EXPECT_STREQ(transparent_hugepage_defrag_name(k_.ks()), "madvise");  // the boot default
  const struct {
    thp_defrag_mode mode;
    const char* name;
  } kModes[] = {{THP_DEFRAG_ALWAYS, "always"},
                {THP_DEFRAG_DEFER, "defer"},
                {THP_DEFRAG_DEFER_MADVISE, "defer+madvise"},
                {THP_DEFRAG_NEVER, "never"},
                {THP_DEFRAG_MADVISE, "madvise"}};
  for (const auto& m : kModes) {
    set_transparent_hugepage_defrag(k_.ks(), m.mode);
    EXPECT_STREQ(transparent_hugepage_defrag_name(k_.ks()), m.name);
  }
  // defrag never touches enabled, use_zero_page or the khugepaged defrag bit.
  EXPECT_STREQ(transparent_hugepage_enabled_name(k_.ks()), "always");
  EXPECT_TRUE(test_bit(TRANSPARENT_HUGEPAGE_USE_ZERO_PAGE_FLAG, &k_.ks()->transparent_hugepage_flags));
  EXPECT_TRUE(
      test_bit(TRANSPARENT_HUGEPAGE_DEFRAG_KHUGEPAGED_FLAG, &k_.ks()->transparent_hugepage_flags));
}

TEST_F(HugeKnobsTest, WithAFreeBlockEveryModeGetsAHugePage) {
  for (thp_defrag_mode mode : {THP_DEFRAG_NEVER, THP_DEFRAG_DEFER, THP_DEFRAG_ALWAYS}) {
    set_transparent_hugepage_defrag(k_.ks(), mode);
    EXPECT_TRUE(FaultHuge(false)) << transparent_hugepage_defrag_name(k_.ks());
  }
  EXPECT_EQ(k_.stat(THP_FAULT_ALLOC), 3);
  EXPECT_EQ(k_.stat(ALLOCSTALL_NORMAL), 0);
}

TEST_F(HugeKnobsTest, DefragNeverNeitherReclaimsNorWakesKswapd) {
  const Seen s = FaultUnderFragmentation(THP_DEFRAG_NEVER, /*madvised=*/true);
  EXPECT_EQ(s.stalls, 0);
  EXPECT_EQ(s.kswapd_order, 0);
  EXPECT_EQ(s.fallbacks, 1);
}

TEST_F(HugeKnobsTest, DefragAlwaysReclaimsDirectlyEvenWithoutMadvise) {
  const Seen s = FaultUnderFragmentation(THP_DEFRAG_ALWAYS, /*madvised=*/false);
  EXPECT_EQ(s.stalls, 1);  // __GFP_NORETRY for an unadvised VMA: one attempt
  EXPECT_EQ(s.fallbacks, 1);
}

TEST_F(HugeKnobsTest, DefragDeferWakesKswapdAndNeverStalls) {
  const Seen s = FaultUnderFragmentation(THP_DEFRAG_DEFER, /*madvised=*/true);
  EXPECT_EQ(s.stalls, 0);
  EXPECT_EQ(s.kswapd_order, static_cast<int>(HPAGE_PMD_ORDER));
  EXPECT_EQ(s.fallbacks, 1);
}

TEST_F(HugeKnobsTest, DefragDeferMadviseStallsOnlyForAdvisedVmas) {
  const Seen plain = FaultUnderFragmentation(THP_DEFRAG_DEFER_MADVISE, /*madvised=*/false);
  EXPECT_EQ(plain.stalls, 0);
  EXPECT_EQ(plain.kswapd_order, static_cast<int>(HPAGE_PMD_ORDER));
  const Seen advised = FaultUnderFragmentation(THP_DEFRAG_DEFER_MADVISE, /*madvised=*/true);
  EXPECT_EQ(advised.stalls, 1);
  EXPECT_EQ(advised.kswapd_order, 0);  // __GFP_DIRECT_RECLAIM instead of __GFP_KSWAPD_RECLAIM
}

TEST_F(HugeKnobsTest, DefragMadviseStallsOnlyForAdvisedVmasAndNeverWakesKswapd) {
  const Seen plain = FaultUnderFragmentation(THP_DEFRAG_MADVISE, /*madvised=*/false);
  EXPECT_EQ(plain.stalls, 0);
  EXPECT_EQ(plain.kswapd_order, 0);
  const Seen advised = FaultUnderFragmentation(THP_DEFRAG_MADVISE, /*madvised=*/true);
  EXPECT_EQ(advised.stalls, 1);
  EXPECT_EQ(advised.kswapd_order, 0);
}

TEST_F(HugeKnobsTest, UseZeroPageOffMakesAReadFaultAllocateAHugePage) {
  set_transparent_hugepage_use_zero_page(k_.ks(), false);
  const unsigned long a = k_.Mmap(t_, 0, HPAGE_PMD_SIZE, kRW, kAnon);
  uint64_t v = ~0ULL;
  ASSERT_TRUE(k_.UserLoad(t_, a + 5 * PAGE_SIZE, &v).ok());
  EXPECT_EQ(v, 0u);
  pmd_t* pmd = mm_find_pmd(t_->mm, a);
  ASSERT_NE(pmd, nullptr);
  ASSERT_TRUE(pmd_trans_huge(*pmd));
  EXPECT_FALSE(is_huge_zero_pmd(*pmd));
  EXPECT_EQ(k_.stat(THP_ZERO_PAGE_ALLOC), 0);
  EXPECT_EQ(k_.stat(THP_FAULT_ALLOC), 1);
  EXPECT_EQ(get_mm_counter(t_->mm, MM_ANONPAGES), HPAGE_PMD_NR);
  // Back on, the next read fault maps the huge zero folio again.
  set_transparent_hugepage_use_zero_page(k_.ks(), true);
  const unsigned long b = k_.Mmap(t_, 0, HPAGE_PMD_SIZE, kRW, kAnon);
  ASSERT_TRUE(k_.UserLoad(t_, b, &v).ok());
  pmd = mm_find_pmd(t_->mm, b);
  ASSERT_NE(pmd, nullptr);
  EXPECT_TRUE(is_huge_zero_pmd(*pmd));
  EXPECT_EQ(k_.stat(THP_ZERO_PAGE_ALLOC), 1);
}

}  // namespace
}  // namespace kernel
