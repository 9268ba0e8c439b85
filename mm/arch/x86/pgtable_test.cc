// mm/arch/x86/pgtable_test.cc: the raw x86 PTE encoding of Linux 6.6+ (SavedDirty, bit 58;
// the L1TF inversion of non-present entries' frame numbers), through the accessors and
// through fork, write faults and mprotect.
#include "mm/arch/x86/pgtable.h"

#include "gtest/gtest.h"
#include "hw/access.h"
#include "mm/mm.h"
#include "mm/pagewalk.h"
#include "mm/testing/kernel_fixture.h"

namespace kernel {
namespace {

using kernel_testing::BootedKernel;

constexpr unsigned long kRW = PROT_READ | PROT_WRITE;
constexpr unsigned long kAnon = MAP_PRIVATE | MAP_ANONYMOUS;
constexpr unsigned long kPfn = 0x1234;

pteval_t Frame(pte_t pte) { return pte_val(pte) & PTE_PFN_MASK; }

// One private anonymous page of t, written (so its PTE is Write=1,Dirty=1); its address.
unsigned long MapDirtyPage(BootedKernel& m, task_struct* t, uint64_t value) {
  const unsigned long a = m.Mmap(t, 0, PAGE_SIZE, kRW, kAnon);
  EXPECT_FALSE(IS_ERR_VALUE(a));
  EXPECT_TRUE(m.UserStore(t, a, value).ok());
  EXPECT_EQ(pte_flags(*mm_find_pte(t->mm, a)) & (_PAGE_RW | _PAGE_DIRTY_BITS),
            _PAGE_RW | _PAGE_DIRTY);
  return a;
}

TEST(Pgtable, WrprotectMovesDirtyToSavedDirtyAndMkwriteMovesItBack) {
  EXPECT_EQ(_PAGE_SAVED_DIRTY, 1ULL << 58);
  pte_t pte = pte_mkdirty(pfn_pte(kPfn, PAGE_SHARED));
  EXPECT_EQ(pte_flags(pte) & _PAGE_DIRTY_BITS, _PAGE_DIRTY);
  EXPECT_TRUE(pte_dirty(pte));

  pte_t ro = pte_wrprotect(pte);
  EXPECT_FALSE(pte_write(ro));
  EXPECT_EQ(pte_flags(ro) & _PAGE_DIRTY_BITS, _PAGE_SAVED_DIRTY);  // never Write=0,Dirty=1
  EXPECT_TRUE(pte_dirty(ro));
  EXPECT_EQ(pte_pfn(ro), kPfn);

  pte_t rw = pte_mkwrite(ro, nullptr);
  EXPECT_TRUE(pte_write(rw));
  EXPECT_EQ(pte_flags(rw) & _PAGE_DIRTY_BITS, _PAGE_DIRTY);
  EXPECT_TRUE(pte_same(rw, pte));

  // Dirtying a read-only entry sets SavedDirty only; cleaning clears both.
  pte_t clean_ro = pte_wrprotect(pfn_pte(kPfn, PAGE_SHARED));
  EXPECT_FALSE(pte_dirty(clean_ro));
  EXPECT_EQ(pte_flags(pte_mkdirty(clean_ro)) & _PAGE_DIRTY_BITS, _PAGE_SAVED_DIRTY);
  EXPECT_FALSE(pte_dirty(pte_mkclean(ro)));
  EXPECT_FALSE(pte_dirty(pte_mkclean(pte)));
}

TEST(Pgtable, ProtNoneEntriesStoreTheirFrameInverted) {
  pte_t none = pfn_pte(kPfn, PAGE_NONE);
  EXPECT_FALSE(pte_flags(none) & _PAGE_PRESENT);
  EXPECT_TRUE(pte_protnone(none));
  EXPECT_EQ(Frame(none), ~(kPfn << PAGE_SHIFT) & PTE_PFN_MASK);
  EXPECT_EQ(pte_pfn(none), kPfn);
  EXPECT_EQ(protnone_mask(pte_val(none)), ~0ULL);
  EXPECT_EQ(protnone_mask(0), 0u);  // an empty entry is not inverted

  // pte_modify flips the frame only when presence changes.
  pte_t present = pte_modify(none, PAGE_READONLY);
  EXPECT_EQ(Frame(present), kPfn << PAGE_SHIFT);
  EXPECT_EQ(pte_pfn(present), kPfn);
  pte_t again = pte_modify(present, PAGE_NONE);
  EXPECT_EQ(Frame(again), Frame(none));
  EXPECT_EQ(Frame(pte_modify(none, PAGE_NONE)), Frame(none));

  // A writable dirty entry made PROT_NONE keeps its dirtiness in SavedDirty.
  pte_t dirty = pte_mkdirty(pfn_pte(kPfn, PAGE_SHARED));
  pte_t dirty_none = pte_modify(dirty, PAGE_NONE);
  EXPECT_EQ(pte_flags(dirty_none) & _PAGE_DIRTY_BITS, _PAGE_SAVED_DIRTY);
  EXPECT_TRUE(pte_dirty(dirty_none));
  EXPECT_EQ(pte_pfn(dirty_none), kPfn);
}

TEST(Pgtable, ForkOfADirtyPageLeavesSavedDirtyPtes) {
  BootedKernel m;
  task_struct* t = m.Spawn("t");
  const unsigned long a = MapDirtyPage(m, t, 0x1111);
  pte_t before = *mm_find_pte(t->mm, a);

  task_struct* child = m.Fork(t);
  ASSERT_NE(child, nullptr);
  for (task_struct* p : {t, child}) {
    pte_t pte = *mm_find_pte(p->mm, a);
    EXPECT_EQ(pte_flags(pte) & (_PAGE_RW | _PAGE_DIRTY_BITS), _PAGE_SAVED_DIRTY) << p->comm;
    EXPECT_TRUE(pte_dirty(pte));
    EXPECT_EQ(pte_pfn(pte), pte_pfn(before));
  }

  // The parent's write copies the page; its new entry is Write=1,Dirty=1 again.
  ASSERT_TRUE(m.UserStore(t, a, 0x2222).ok());
  pte_t after = *mm_find_pte(t->mm, a);
  EXPECT_EQ(pte_flags(after) & (_PAGE_RW | _PAGE_DIRTY_BITS), _PAGE_RW | _PAGE_DIRTY);
  EXPECT_NE(pte_pfn(after), pte_pfn(before));
  // The child's entry is now the only mapping: its write reuses the page, and mkwrite
  // moves SavedDirty back to Dirty.
  ASSERT_TRUE(m.UserStore(child, a, 0x3333).ok());
  pte_t child_pte = *mm_find_pte(child->mm, a);
  EXPECT_EQ(pte_flags(child_pte) & (_PAGE_RW | _PAGE_DIRTY_BITS), _PAGE_RW | _PAGE_DIRTY);
  EXPECT_EQ(pte_pfn(child_pte), pte_pfn(before));
  EXPECT_EQ(m.DebugVm(), "");
}

TEST(Pgtable, MprotectNoneInvertsTheFrameAndBackRestoresIt) {
  BootedKernel m;
  task_struct* t = m.Spawn("t");
  const unsigned long a = MapDirtyPage(m, t, 0xabcd);
  const pte_t before = *mm_find_pte(t->mm, a);
  const unsigned long pfn = pte_pfn(before);

  ASSERT_EQ(m.Mprotect(t, a, PAGE_SIZE, PROT_NONE), 0);
  pte_t none = *mm_find_pte(t->mm, a);
  EXPECT_TRUE(pte_protnone(none));
  EXPECT_TRUE(pte_present(none));  // to the kernel it still maps the page
  EXPECT_EQ(Frame(none), ~(pfn << PAGE_SHIFT) & PTE_PFN_MASK);
  EXPECT_EQ(pte_pfn(none), pfn);
  EXPECT_EQ(pte_flags(none) & _PAGE_DIRTY_BITS, _PAGE_SAVED_DIRTY);
  // The CPU's walker stops at a not-present entry: the #PF has no P bit.
  uint64_t v = 0;
  {
    auto r = m.UserLoad(t, a, &v);
    EXPECT_FALSE(r.ok());
    EXPECT_TRUE(r.sigsegv);
    ASSERT_FALSE(r.pf_error_codes.empty());
    EXPECT_FALSE(r.pf_error_codes[0] & hw::kPfErrPresent);
  }

  ASSERT_EQ(m.Mprotect(t, a, PAGE_SIZE, kRW), 0);
  pte_t back = *mm_find_pte(t->mm, a);
  EXPECT_TRUE(pte_flags(back) & _PAGE_PRESENT);
  EXPECT_EQ(Frame(back), pfn << PAGE_SHIFT);
  EXPECT_TRUE(pte_dirty(back));
  ASSERT_TRUE(m.UserLoad(t, a, &v).ok());
  EXPECT_EQ(v, 0xabcdu);
  ASSERT_TRUE(m.UserStore(t, a, 0xef).ok());
  back = *mm_find_pte(t->mm, a);
  EXPECT_EQ(pte_flags(back) & (_PAGE_RW | _PAGE_DIRTY_BITS), _PAGE_RW | _PAGE_DIRTY);
  EXPECT_EQ(pte_pfn(back), pfn);
  EXPECT_EQ(m.DebugVm(), "");
}

}  // namespace
}  // namespace kernel
