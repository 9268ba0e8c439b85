// mm/mm_id_test.cc: CONFIG_MM_ID (Linux 6.15+, here as in 6.18): mm ids (mm_alloc_id /
// mm_free_id), a large folio's two mm slots and its "maybe mapped shared" bit
// (folio_{set,add,sub}_large_mapcount, mm/mm.h), and what they buy: a write fault on a
// PTE-mapped THP reuses the folio in place when this mm is its only mapper
// (__wp_can_reuse_large_anon_folio, mm/memory.cc), including after a fork whose child
// went away. docs/semantics.md H-rule "PTE-mapped THP reuse"; docs/thp.md section 6.
#include <algorithm>
#include <string>

#include "gtest/gtest.h"
#include "mm/huge_mm.h"
#include "mm/mm.h"
#include "mm/pagewalk.h"
#include "mm/testing/kernel_fixture.h"

namespace kernel {
namespace {

using kernel_testing::BootedKernel;

constexpr unsigned long kRW = PROT_READ | PROT_WRITE;
constexpr unsigned long k2M = HPAGE_PMD_SIZE;

class MmIdTest : public ::testing::Test {
 protected:
  void SetUp() override {
    set_transparent_hugepage_enabled(k_.ks(), THP_ALWAYS);
    t_ = k_.Spawn("t");
  }
  // A 2 MiB THP, PMD-mapped in t_, its first word 1.
  folio* MapThp() {
    a_ = k_.Mmap(t_, 0, k2M, kRW);
    EXPECT_FALSE(IS_ERR_VALUE(a_));
    Store(t_, a_, 1);
    pmd_t* pmd = mm_find_pmd(t_->mm, a_);
    EXPECT_TRUE(pmd != nullptr && pmd_trans_huge(*pmd));
    return page_folio(pmd_page(*pmd));
  }
  // Split t_'s PMD to PTEs the way mprotect of one page does, and give the page its
  // protection back (the VMAs merge again).
  void SplitByMprotect(task_struct* t) {
    ASSERT_EQ(k_.Mprotect(t, a_ + PAGE_SIZE, PAGE_SIZE, PROT_READ), 0);
    ASSERT_EQ(k_.Mprotect(t, a_ + PAGE_SIZE, PAGE_SIZE, kRW), 0);
    pmd_t* pmd = mm_find_pmd(t->mm, a_);
    ASSERT_TRUE(pmd != nullptr && !pmd_trans_huge(*pmd));
  }
  void Store(task_struct* t, unsigned long va, uint64_t v) {
    ASSERT_TRUE(k_.UserStore(t, va, v).ok());
  }
  uint64_t Load(task_struct* t, unsigned long va) {
    uint64_t v = ~0ULL;
    EXPECT_TRUE(k_.UserLoad(t, va, &v).ok());
    return v;
  }
  unsigned long Pfn(task_struct* t, unsigned long va) {
    pte_t* pte = mm_find_pte(t->mm, va);
    return pte == nullptr || !pte_present(*pte) ? 0 : pte_pfn(*pte);
  }
  static int SlotCount(folio* f, int idx) { return folio_tail2(f)->_mm_id_mapcount[idx] + 1; }

  BootedKernel k_{uint64_t{64} << 20};
  task_struct* t_ = nullptr;
  unsigned long a_ = 0;
};

TEST_F(MmIdTest, EveryMmHasItsOwnIdAndInitMmTheDummy) {
  task_struct* u = k_.Spawn("u");
  EXPECT_GE(t_->mm->mm_id, MM_ID_MIN);
  EXPECT_LE(t_->mm->mm_id, MM_ID_MAX);
  EXPECT_NE(t_->mm->mm_id, u->mm->mm_id);
  EXPECT_EQ(k_.ks()->init_mm.mm_id, MM_ID_DUMMY);
  task_struct* c = k_.Fork(t_);
  EXPECT_NE(c->mm->mm_id, t_->mm->mm_id);  // dup_mm gets a new one, not the parent's
  EXPECT_NE(c->mm->mm_id, u->mm->mm_id);
}

TEST_F(MmIdTest, IdsAreFreedAtTeardownAndReusedLowestFirst) {
  const size_t live = k_.ks()->mm_ida.size();
  task_struct* u = k_.Spawn("u");
  const mm_id_t uid = u->mm->mm_id;
  task_struct* v = k_.Spawn("v");
  k_.ExitAndReap(u);
  EXPECT_EQ(k_.ks()->mm_ida.size(), live + 1);
  task_struct* w = k_.Spawn("w");
  EXPECT_EQ(w->mm->mm_id, uid);  // ida_alloc_range: the lowest free id
  k_.ExitAndReap(w);
  k_.ExitAndReap(v);
  // Many short-lived processes never use up the ids: each gives its id back in __mmdrop.
  mm_id_t highest = 0;
  for (int i = 0; i < 500; ++i) {
    task_struct* c = k_.Fork(t_);
    highest = std::max(highest, c->mm->mm_id);
    k_.ExitAndReap(c);
  }
  EXPECT_LE(highest, static_cast<mm_id_t>(live + 2));
  EXPECT_EQ(k_.ks()->mm_ida.size(), live);
  EXPECT_EQ(k_.DebugVm(), "");
}

TEST_F(MmIdTest, SlotsFollowTheFaultTheForkAndTheSplit) {
  folio* f = MapThp();
  // The huge fault: slot 0 is this mm's, one mapping (the PMD), not shared.
  EXPECT_EQ(folio_mm_id(f, 0), t_->mm->mm_id);
  EXPECT_EQ(SlotCount(f, 0), 1);
  EXPECT_EQ(folio_mm_id(f, 1), MM_ID_DUMMY);
  EXPECT_FALSE(folio_test_large_maybe_mapped_shared(f));
  EXPECT_FALSE(folio_maybe_mapped_shared(f));
  task_struct* c = k_.Fork(t_);
  // copy_huge_pmd: the child's PMD takes slot 1, and the folio is maybe shared.
  EXPECT_EQ(folio_mm_id(f, 1), c->mm->mm_id);
  EXPECT_EQ(SlotCount(f, 1), 1);
  EXPECT_TRUE(folio_maybe_mapped_shared(f));
  // The parent's PMD becomes 512 PTEs: its slot counts them.
  SplitByMprotect(t_);
  EXPECT_EQ(SlotCount(f, 0), 512);
  EXPECT_EQ(SlotCount(f, 1), 1);
  EXPECT_EQ(folio_large_mapcount(f), 513);
  EXPECT_TRUE(folio_maybe_mapped_shared(f));
  EXPECT_EQ(k_.DebugVm(), "");
  // The child goes: its slot is freed and the parent's holds every mapping again.
  k_.ExitAndReap(c);
  EXPECT_EQ(folio_mm_id(f, 1), MM_ID_DUMMY);
  EXPECT_EQ(SlotCount(f, 1), 0);
  EXPECT_FALSE(folio_test_large_maybe_mapped_shared(f));
  EXPECT_EQ(k_.DebugVm(), "");
}

// A single process's PTE-mapped THP: its pages stay PageAnonExclusive through the split,
// so a write after the protection comes back needs no copy and no new page.
TEST_F(MmIdTest, ThpSplitAndWrittenInOneProcessStaysInPlace) {
  folio* f = MapThp();
  SplitByMprotect(t_);
  const long free_before = k_.FreePages();
  const unsigned long pfn = Pfn(t_, a_ + 5 * PAGE_SIZE);
  EXPECT_EQ(pfn, folio_pfn(f) + 5);
  Store(t_, a_ + 5 * PAGE_SIZE, 7);
  Store(t_, a_ + PAGE_SIZE, 8);
  EXPECT_EQ(Pfn(t_, a_ + 5 * PAGE_SIZE), pfn);
  EXPECT_EQ(Pfn(t_, a_ + PAGE_SIZE), folio_pfn(f) + 1);
  EXPECT_EQ(k_.FreePages(), free_before);
  EXPECT_EQ(folio_ref_count(f), 512);
  EXPECT_EQ(k_.DebugVm(), "");
}

TEST_F(MmIdTest, AfterForkBothSidesCopy) {
  folio* f = MapThp();
  task_struct* c = k_.Fork(t_);
  SplitByMprotect(t_);
  // The parent's PTE is read-only and not exclusive; the child still maps the folio.
  Store(t_, a_ + 5 * PAGE_SIZE, 50);
  EXPECT_NE(Pfn(t_, a_ + 5 * PAGE_SIZE), folio_pfn(f) + 5);
  // The child's write splits its PMD (do_huge_pmd_wp_page: refcount > 1), then copies.
  Store(c, a_ + 6 * PAGE_SIZE, 60);
  EXPECT_NE(Pfn(c, a_ + 6 * PAGE_SIZE), folio_pfn(f) + 6);
  EXPECT_EQ(Pfn(c, a_ + 5 * PAGE_SIZE), folio_pfn(f) + 5);
  EXPECT_EQ(Load(c, a_ + 5 * PAGE_SIZE), 0u);
  EXPECT_EQ(Load(t_, a_ + 6 * PAGE_SIZE), 0u);
  EXPECT_EQ(Load(c, a_), 1u);
  EXPECT_EQ(k_.DebugVm(), "");
}

// What MM_ID buys: once the child is gone, the parent's slot holds every mapping, every
// reference is a mapping, and the write reuses the page where it is.
TEST_F(MmIdTest, AfterForkAndTheChildsExitTheParentsWriteReuses) {
  folio* f = MapThp();
  task_struct* c = k_.Fork(t_);
  SplitByMprotect(t_);
  k_.ExitAndReap(c);
  EXPECT_FALSE(folio_maybe_mapped_shared(f));
  EXPECT_EQ(folio_large_mapcount(f), 512);
  EXPECT_EQ(folio_ref_count(f), 512);
  const unsigned long pfn = Pfn(t_, a_ + 5 * PAGE_SIZE);
  ASSERT_EQ(pfn, folio_pfn(f) + 5);
  EXPECT_FALSE(pte_write(*mm_find_pte(t_->mm, a_ + 5 * PAGE_SIZE)));
  EXPECT_FALSE(PageAnonExclusive(f + 5));
  const long free_before = k_.FreePages(), faults = k_.stat(PGFAULT);
  Store(t_, a_ + 5 * PAGE_SIZE, 55);
  EXPECT_EQ(k_.stat(PGFAULT) - faults, 1);
  EXPECT_EQ(Pfn(t_, a_ + 5 * PAGE_SIZE), pfn);  // same frame
  EXPECT_TRUE(pte_write(*mm_find_pte(t_->mm, a_ + 5 * PAGE_SIZE)));
  EXPECT_TRUE(PageAnonExclusive(f + 5));
  EXPECT_EQ(k_.FreePages(), free_before);  // nothing allocated, nothing freed
  EXPECT_EQ(Load(t_, a_), 1u);
  EXPECT_EQ(k_.DebugVm(), "");
}

// The same with the split done by MADV_DONTNEED of one page, and the child's mapping
// gone by munmap rather than exit.
TEST_F(MmIdTest, AfterForkAndTheChildsMunmapTheParentsWriteReuses) {
  folio* f = MapThp();
  task_struct* c = k_.Fork(t_);
  k_.RunAs(t_);
  ASSERT_EQ(do_madvise(a_ + 3 * PAGE_SIZE, PAGE_SIZE, MADV_DONTNEED), 0);
  EXPECT_EQ(folio_large_mapcount(f), 511 + 1);
  Store(t_, a_ + 9 * PAGE_SIZE, 9);  // still shared with the child's PMD: copied
  EXPECT_NE(Pfn(t_, a_ + 9 * PAGE_SIZE), folio_pfn(f) + 9);
  ASSERT_EQ(k_.Munmap(c, a_, k2M), 0);
  EXPECT_FALSE(folio_maybe_mapped_shared(f));
  Store(t_, a_ + 10 * PAGE_SIZE, 10);
  EXPECT_EQ(Pfn(t_, a_ + 10 * PAGE_SIZE), folio_pfn(f) + 10);
  EXPECT_EQ(Load(t_, a_ + 9 * PAGE_SIZE), 9u);
  EXPECT_EQ(k_.DebugVm(), "");
}

// Two slots, three mms: the third maps untracked. When the two slot holders are gone the
// folio is mapped by one mm, but no slot says so and the bit stays set (as in 6.18, which
// documents this imprecision): that mm's write copies.
TEST_F(MmIdTest, AThirdMmLeavesTheSharedBitSet) {
  folio* f = MapThp();
  SplitByMprotect(t_);  // 512 exclusive PTEs in the parent
  task_struct* c1 = k_.Fork(t_);
  task_struct* c2 = k_.Fork(t_);
  EXPECT_EQ(folio_mm_id(f, 0), t_->mm->mm_id);
  EXPECT_EQ(folio_mm_id(f, 1), c1->mm->mm_id);
  EXPECT_EQ(folio_large_mapcount(f), 3 * 512);
  k_.Exit(t_);  // the slot holders go; c2 stays (reparented)
  k_.ExitAndReap(c1);
  EXPECT_EQ(folio_large_mapcount(f), 512);
  EXPECT_EQ(folio_mm_id(f, 0), MM_ID_DUMMY);
  EXPECT_EQ(folio_mm_id(f, 1), MM_ID_DUMMY);
  EXPECT_TRUE(folio_test_large_maybe_mapped_shared(f));
  EXPECT_TRUE(folio_maybe_mapped_shared(f));
  EXPECT_EQ(k_.DebugVm(), "");
  Store(c2, a_ + 5 * PAGE_SIZE, 5);
  EXPECT_NE(Pfn(c2, a_ + 5 * PAGE_SIZE), folio_pfn(f) + 5);
  EXPECT_EQ(Load(c2, a_), 1u);
  EXPECT_EQ(k_.DebugVm(), "");
}

TEST_F(MmIdTest, DebugVmChecksTheSlotsAgainstTheMappings) {
  folio* f = MapThp();
  SplitByMprotect(t_);
  ASSERT_EQ(k_.DebugVm(), "");
  page* p2 = folio_tail2(f);
  p2->_mm_id_mapcount[0] += 1;  // one more than the mm has
  EXPECT_NE(k_.DebugVm().find("counts 513 mappings but that mm has 512"), std::string::npos);
  p2->_mm_id_mapcount[0] -= 1;
  p2->_mm_ids |= FOLIO_MM_IDS_SHARED_BIT;  // set is allowed: "maybe"
  EXPECT_EQ(k_.DebugVm(), "");
  p2->_mm_ids &= ~FOLIO_MM_IDS_SHARED_BIT;
  const mm_id_t id = folio_mm_id(f, 0);
  folio_set_mm_id(f, 0, MM_ID_DUMMY);  // no slot holds the mappings, yet "exclusive"
  p2->_mm_id_mapcount[0] = -1;
  EXPECT_NE(k_.DebugVm().find("no mm slot holds all 512 mappings"), std::string::npos);
  folio_set_mm_id(f, 0, id);
  p2->_mm_id_mapcount[0] = 511;
  EXPECT_EQ(k_.DebugVm(), "");
}

}  // namespace
}  // namespace kernel
