// mm/huge_memory_test.cc: large folios and anonymous THPs (mm/huge_memory.cc): the
// compound page layout, the huge fault and its fallback, the huge zero folio, zap and
// split, fork sharing and do_huge_pmd_wp_page, mprotect, MADV_HUGEPAGE, the THP-aligned
// unhinted mmap, GUP pins on a large folio (_pincount), and MADV_FREE / MADV_COLD /
// MADV_PAGEOUT on THPs with the reclaim of lazyfree THPs.
#include <vector>

#include "gtest/gtest.h"
#include "hw/tlb.h"
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

class HugeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    set_transparent_hugepage_enabled(k_.ks(), THP_ALWAYS);
    t_ = k_.Spawn("t");
    mm_ = t_->mm;
  }
  // An unhinted anonymous mapping of `len` bytes (THP-aligned when len is a 2M multiple).
  unsigned long Map(unsigned long len, unsigned long prot = kRW) {
    unsigned long a = k_.Mmap(t_, 0, len, prot, kAnon);
    EXPECT_FALSE(IS_ERR_VALUE(a));
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
  void Store(unsigned long va, uint64_t v, task_struct* t = nullptr) {
    ASSERT_TRUE(k_.UserStore(t ? t : t_, va, v).ok());
  }
  uint64_t Load(unsigned long va, task_struct* t = nullptr) {
    uint64_t v = ~0ULL;
    EXPECT_TRUE(k_.UserLoad(t ? t : t_, va, &v).ok());
    return v;
  }
  int Madvise(unsigned long a, size_t len, int advice) {
    k_.RunAs(t_);
    return do_madvise(a, len, advice);
  }
  static int Pincount(folio* f) { return atomic_read(&folio_tail1(f)->_pincount); }

  BootedKernel k_{uint64_t{64} << 20};
  task_struct* t_ = nullptr;
  mm_struct* mm_ = nullptr;
};

TEST_F(HugeTest, CompoundPageLayout) {
  k_.RunAs(t_);
  const long free_before = k_.FreePages();
  folio* f = folio_alloc(GFP_HIGHUSER_MOVABLE, HPAGE_PMD_ORDER);
  ASSERT_NE(f, nullptr);
  EXPECT_TRUE(folio_test_large(f));
  EXPECT_EQ(folio_order(f), HPAGE_PMD_ORDER);
  EXPECT_EQ(folio_nr_pages(f), 512);
  EXPECT_EQ(page_folio(f + 1), f);
  EXPECT_EQ(page_folio(f + 511), f);
  EXPECT_TRUE(PageTail(f + 300));
  EXPECT_FALSE(PageTail(f));
  EXPECT_EQ(page_ref_count(f + 1), 0);
  EXPECT_EQ(folio_large_mapcount(f), 0);
  EXPECT_EQ(folio_entire_mapcount(f), 0);
  EXPECT_EQ(Pincount(f), 0);
  EXPECT_EQ(k_.FreePages(), free_before - 512);
  // A small page stays its own folio.
  page* p = alloc_page(GFP_KERNEL);
  ASSERT_NE(p, nullptr);
  EXPECT_EQ(page_folio(p), p);
  EXPECT_EQ(folio_nr_pages(p), 1);
  __free_page(p);
  folio_put(f);  // the whole order-9 block goes back
  EXPECT_EQ(k_.FreePages(), free_before);
  EXPECT_EQ(page_folio(f + 1), f + 1);  // no longer a tail
  EXPECT_EQ(k_.DebugVm(), "");
}

TEST_F(HugeTest, UnhintedTwoMegMappingIsAligned) {
  unsigned long a = Map(k2M);
  EXPECT_EQ(a & (k2M - 1), 0u);
  // The layout of Linux 6.7+ with ASLR off: the first one lands at 0x7ffff7c00000 under
  // a top at 0x7ffff7fff000 (here: wherever the top is, on the first aligned address
  // below it).
  unsigned long b = Map(4 * PAGE_SIZE);
  EXPECT_NE(b & (k2M - 1), 0u);  // not a 2M multiple: not aligned
  unsigned long c = Map(2 * k2M);
  EXPECT_EQ(c & (k2M - 1), 0u);
  EXPECT_LT(c, a);
}

TEST_F(HugeTest, WriteFaultMapsOnePmdLeaf) {
  unsigned long a = Map(k2M);
  const long faults = k_.stat(PGFAULT), free_before = k_.FreePages();
  const long tables_before = static_cast<long>(mm_pgtables_bytes(mm_) / PAGE_SIZE);
  Store(a + 12345 * 8, 0xabc);
  EXPECT_EQ(k_.stat(PGFAULT) - faults, 1);
  EXPECT_EQ(k_.stat(THP_FAULT_ALLOC), 1);
  pmd_t pmd = Pmd(a);
  ASSERT_TRUE(pmd_trans_huge(pmd));
  EXPECT_TRUE(pmd_write(pmd) && pmd_dirty(pmd));
  folio* f = page_folio(pmd_page(pmd));
  EXPECT_EQ(folio_order(f), HPAGE_PMD_ORDER);
  EXPECT_EQ(folio_entire_mapcount(f), 1);
  EXPECT_EQ(folio_mapcount(f), 1);
  EXPECT_EQ(folio_ref_count(f), 1);
  EXPECT_TRUE(PageAnonExclusive(f));
  EXPECT_EQ(k_.stat(NR_ANON_THPS), 512);
  EXPECT_EQ(k_.stat(NR_ANON_MAPPED), 512);
  EXPECT_EQ(get_mm_counter(mm_, MM_ANONPAGES), 512u);
  // 512 data pages and the tables: the deposited PTE table (counted in pgtables_bytes)
  // and any pud or pmd table the walk had to allocate.
  const long tables = static_cast<long>(mm_pgtables_bytes(mm_) / PAGE_SIZE) - tables_before;
  EXPECT_GE(tables, 1);
  EXPECT_EQ(free_before - k_.FreePages(), 512 + tables);
  // Every other page of the 2M needs no fault: one entry covers it.
  for (unsigned long off = 0; off < k2M; off += 64 * PAGE_SIZE) Store(a + off, off);
  EXPECT_EQ(k_.stat(PGFAULT) - faults, 1);
  EXPECT_EQ(Load(a + 12345 * 8), 0xabcu);
  EXPECT_EQ(Load(a + 64 * PAGE_SIZE), 64 * PAGE_SIZE);
  EXPECT_EQ(k_.DebugVm(), "");
}

TEST_F(HugeTest, OneTlbEntryCoversTheHugePage) {
  unsigned long a = Map(k2M);
  k_.RunAs(t_, 0);
  Store(a, 1);
  for (unsigned long off = 0; off < k2M; off += PAGE_SIZE) Store(a + off, off);
  int huge = 0, small = 0;
  k_.cpu(0)->tlb().ForEachEntry([&](int, const hw::TlbEntry& e) {
    if (e.va_base().value() < a || e.va_base().value() >= a + k2M) return;
    if (e.size == hw::PageSize::k2M) {
      ++huge;
      EXPECT_EQ(e.va_base().value(), a);
      EXPECT_EQ(e.pfn, pmd_pfn(Pmd(a)));
      EXPECT_TRUE(e.writable && e.dirty);
    } else {
      ++small;
    }
  });
  EXPECT_GE(huge, 1);
  EXPECT_EQ(small, 0);
  // munmap flushes it.
  ASSERT_EQ(k_.Munmap(t_, a, k2M), 0);
  huge = 0;
  k_.cpu(0)->tlb().ForEachEntry([&](int, const hw::TlbEntry& e) {
    if (e.va_base().value() == a) ++huge;
  });
  EXPECT_EQ(huge, 0);
  EXPECT_EQ(k_.DebugVm(), "");
}

TEST_F(HugeTest, MlockLocksTheWholeHugePage) {
  unsigned long a = Map(k2M);
  Store(a, 1);
  k_.RunAs(t_);
  ASSERT_EQ(sys_mlock(a, k2M), 0);
  folio* f = page_folio(pmd_page(Pmd(a)));
  EXPECT_TRUE(folio_test_mlocked(f));
  EXPECT_EQ(k_.stat(NR_MLOCK), 512);
  k_.RunAs(t_);
  ASSERT_EQ(k_.Munmap(t_, a, k2M), 0);
  EXPECT_EQ(k_.stat(NR_MLOCK), 0);
  EXPECT_EQ(k_.DebugVm(), "");
}

TEST_F(HugeTest, MadviseModeNeedsMadvHugepage) {
  set_transparent_hugepage_enabled(k_.ks(), THP_MADVISE);
  unsigned long a = Map(2 * k2M);
  Store(a, 1);
  EXPECT_FALSE(pmd_trans_huge(Pmd(a)));
  EXPECT_EQ(k_.stat(THP_FAULT_ALLOC), 0);
  ASSERT_EQ(Madvise(a + k2M, k2M, MADV_HUGEPAGE), 0);
  vm_area_struct* vma = vma_lookup(mm_, a + k2M);
  ASSERT_NE(vma, nullptr);
  EXPECT_TRUE(vma->vm_flags & VM_HUGEPAGE);
  Store(a + k2M, 2);
  EXPECT_TRUE(pmd_trans_huge(Pmd(a + k2M)));
  EXPECT_EQ(k_.stat(THP_FAULT_ALLOC), 1);
  // MADV_NOHUGEPAGE wins over enabled=always.
  set_transparent_hugepage_enabled(k_.ks(), THP_ALWAYS);
  unsigned long b = Map(k2M);
  ASSERT_EQ(Madvise(b, k2M, MADV_NOHUGEPAGE), 0);
  Store(b, 3);
  EXPECT_FALSE(pmd_trans_huge(Pmd(b)));
  EXPECT_EQ(k_.DebugVm(), "");
}

TEST_F(HugeTest, UnalignedVmaFallsBackToSmallPages) {
  // 2M + 4K from a fixed unaligned address: no aligned 2M lies inside.
  unsigned long a = k_.Mmap(t_, 0x10001000, k2M, kRW, kAnon | MAP_FIXED);
  ASSERT_EQ(a, 0x10001000u);
  Store(a, 1);
  EXPECT_FALSE(pmd_trans_huge(Pmd(a)));
  EXPECT_TRUE(pte_present(Pte(a)));
  EXPECT_EQ(k_.stat(THP_FAULT_ALLOC), 0);
  EXPECT_EQ(k_.stat(THP_FAULT_FALLBACK), 0);  // Linux counts only failed allocations
  EXPECT_EQ(k_.DebugVm(), "");
}

TEST_F(HugeTest, ReadFaultMapsTheHugeZeroFolioThenWriteReplacesIt) {
  unsigned long a = Map(k2M);
  EXPECT_EQ(Load(a + 100 * PAGE_SIZE), 0u);
  pmd_t pmd = Pmd(a);
  ASSERT_TRUE(pmd_trans_huge(pmd));
  EXPECT_TRUE(is_huge_zero_pmd(pmd));
  EXPECT_FALSE(pmd_write(pmd));
  EXPECT_EQ(k_.stat(THP_ZERO_PAGE_ALLOC), 1);
  EXPECT_EQ(k_.stat(NR_ANON_MAPPED), 0);
  EXPECT_EQ(get_mm_counter(mm_, MM_ANONPAGES), 0u);
  Store(a + 8, 7);
  pmd = Pmd(a);
  ASSERT_TRUE(pmd_trans_huge(pmd));
  EXPECT_FALSE(is_huge_zero_pmd(pmd));
  EXPECT_TRUE(pmd_write(pmd));
  EXPECT_EQ(k_.stat(THP_FAULT_ALLOC), 1);
  EXPECT_EQ(Load(a + 8), 7u);
  EXPECT_EQ(Load(a + 100 * PAGE_SIZE), 0u);
  EXPECT_EQ(k_.DebugVm(), "");
}

TEST_F(HugeTest, MunmapOfAllFreesTheFolio) {
  unsigned long a = Map(k2M);
  const long free_before = k_.FreePages();
  const long tables_before = static_cast<long>(mm_pgtables_bytes(mm_) / PAGE_SIZE);
  Store(a, 1);
  ASSERT_EQ(k_.Munmap(t_, a, k2M), 0);
  EXPECT_EQ(k_.stat(NR_ANON_THPS), 0);
  EXPECT_EQ(k_.stat(NR_ANON_MAPPED), 0);
  EXPECT_EQ(k_.stat(THP_SPLIT_PMD), 0);
  EXPECT_EQ(get_mm_counter(mm_, MM_ANONPAGES), 0u);
  // The folio and the deposited table are back; upper tables only if nothing else uses them.
  const long tables = static_cast<long>(mm_pgtables_bytes(mm_) / PAGE_SIZE) - tables_before;
  EXPECT_EQ(free_before - k_.FreePages(), tables);
  EXPECT_EQ(k_.DebugVm(), "");
}

TEST_F(HugeTest, PartialMunmapSplitsThePmd) {
  unsigned long a = Map(k2M);
  for (unsigned long off = 0; off < k2M; off += PAGE_SIZE) Store(a + off, off + 1);
  folio* f = page_folio(pmd_page(Pmd(a)));
  ASSERT_EQ(k_.Munmap(t_, a + k2M - 16 * PAGE_SIZE, 16 * PAGE_SIZE), 0);
  EXPECT_EQ(k_.stat(THP_SPLIT_PMD), 1);
  EXPECT_FALSE(pmd_trans_huge(Pmd(a)));
  pte_t pte = Pte(a + PAGE_SIZE);
  ASSERT_TRUE(pte_present(pte));
  EXPECT_EQ(pte_page(pte), f + 1);
  EXPECT_TRUE(pte_write(pte));
  // The folio stays whole until reclaim splits it (the deferred split queue): 496 pages
  // mapped by PTEs, one reference each.
  EXPECT_EQ(folio_entire_mapcount(f), 0);
  EXPECT_EQ(folio_mapcount(f), 496);
  EXPECT_EQ(folio_ref_count(f), 496);
  EXPECT_EQ(k_.stat(NR_ANON_THPS), 0);
  EXPECT_EQ(k_.stat(NR_ANON_MAPPED), 496);
  EXPECT_EQ(get_mm_counter(mm_, MM_ANONPAGES), 496u);
  EXPECT_EQ(Load(a + 100 * PAGE_SIZE), 100 * PAGE_SIZE + 1);
  EXPECT_EQ(k_.DebugVm(), "");
  const long free_before = k_.FreePages();
  const long tables_before = static_cast<long>(mm_pgtables_bytes(mm_) / PAGE_SIZE);
  ASSERT_EQ(k_.Munmap(t_, a, k2M - 16 * PAGE_SIZE), 0);
  // The last mapping gone, the whole folio is freed, with the tables no longer used.
  const long tables = tables_before - static_cast<long>(mm_pgtables_bytes(mm_) / PAGE_SIZE);
  EXPECT_EQ(k_.FreePages() - free_before, 512 + tables);
  EXPECT_EQ(k_.DebugVm(), "");
}

TEST_F(HugeTest, DontneedOfPartSplitsOfAllZaps) {
  unsigned long a = Map(2 * k2M);
  Store(a, 1);
  Store(a + k2M, 2);
  ASSERT_EQ(Madvise(a + PAGE_SIZE, PAGE_SIZE, MADV_DONTNEED), 0);
  EXPECT_EQ(k_.stat(THP_SPLIT_PMD), 1);
  EXPECT_FALSE(pte_present(Pte(a + PAGE_SIZE)));
  EXPECT_EQ(Load(a + PAGE_SIZE), 0u);  // a new zero-filled small page... or the zero page
  EXPECT_EQ(Load(a), 1u);
  ASSERT_EQ(Madvise(a + k2M, k2M, MADV_DONTNEED), 0);
  EXPECT_EQ(k_.stat(THP_SPLIT_PMD), 1);
  EXPECT_EQ(pmd_val(Pmd(a + k2M)), 0u);
  EXPECT_EQ(k_.DebugVm(), "");
}

TEST_F(HugeTest, MprotectWholeKeepsThePmdPartSplits) {
  unsigned long a = Map(k2M);
  Store(a, 1);
  ASSERT_EQ(k_.Mprotect(t_, a, k2M, PROT_READ), 0);
  pmd_t pmd = Pmd(a);
  ASSERT_TRUE(pmd_trans_huge(pmd));
  EXPECT_FALSE(pmd_write(pmd));
  EXPECT_EQ(k_.stat(THP_SPLIT_PMD), 0);
  ASSERT_EQ(k_.Mprotect(t_, a, k2M, kRW), 0);
  EXPECT_TRUE(pmd_write(Pmd(a)));  // exclusive: made writable at once
  ASSERT_EQ(k_.Mprotect(t_, a, PAGE_SIZE, PROT_READ), 0);
  EXPECT_EQ(k_.stat(THP_SPLIT_PMD), 1);
  EXPECT_FALSE(pte_write(Pte(a)));
  EXPECT_TRUE(pte_write(Pte(a + PAGE_SIZE)));
  EXPECT_EQ(k_.DebugVm(), "");
}

TEST_F(HugeTest, ForkSharesThePmdAndTheFirstWriteSplitsAndCopies) {
  unsigned long a = Map(k2M);
  Store(a, 11);
  folio* f = page_folio(pmd_page(Pmd(a)));
  task_struct* child = k_.Fork(t_);
  EXPECT_FALSE(pmd_write(Pmd(a)));
  pmd_t* cpmd = mm_find_pmd(child->mm, a);
  ASSERT_NE(cpmd, nullptr);
  ASSERT_TRUE(pmd_trans_huge(*cpmd));
  EXPECT_EQ(pmd_page(*cpmd), f);
  EXPECT_EQ(folio_entire_mapcount(f), 2);
  EXPECT_EQ(folio_ref_count(f), 2);
  EXPECT_FALSE(PageAnonExclusive(f));
  EXPECT_EQ(k_.DebugVm(), "");
  // The parent's write: the folio is shared, so the pmd is split and one page copied.
  Store(a + 8, 12);
  EXPECT_EQ(k_.stat(THP_SPLIT_PMD), 1);
  EXPECT_FALSE(pmd_trans_huge(Pmd(a)));
  EXPECT_NE(pte_page(Pte(a)), f);
  EXPECT_EQ(pte_page(Pte(a + PAGE_SIZE)), f + 1);
  EXPECT_EQ(Load(a, child), 11u);
  EXPECT_EQ(Load(a + 8, child), 0u);
  EXPECT_EQ(Load(a + 8), 12u);
  EXPECT_EQ(k_.DebugVm(), "");
  // The child's write after the parent went away: exclusive again, reused in place.
  k_.ExitAndReap(t_);
  EXPECT_EQ(folio_mapcount(f), 1);
  Store(a + 16, 13, child);
  EXPECT_TRUE(pmd_trans_huge(*mm_find_pmd(child->mm, a)));
  EXPECT_TRUE(pmd_write(*mm_find_pmd(child->mm, a)));
  EXPECT_EQ(k_.stat(THP_SPLIT_PMD), 1);
  EXPECT_EQ(k_.DebugVm(), "");
}

TEST_F(HugeTest, PinOfALargeFolioCountsInPincount) {
  unsigned long a = Map(k2M);
  Store(a, 1);
  folio* f = page_folio(pmd_page(Pmd(a)));
  k_.RunAs(t_);
  std::vector<page*> pages(8);
  int locked = 1;
  mmap_read_lock(mm_);
  // Four pages across the middle of the THP.
  long n = pin_user_pages_remote(mm_, a + 254 * PAGE_SIZE, 4, FOLL_WRITE, pages.data(), &locked);
  if (locked) mmap_read_unlock(mm_);
  ASSERT_EQ(n, 4);
  for (int i = 0; i < 4; ++i) EXPECT_EQ(pages[i], f + 254 + i);
  EXPECT_EQ(Pincount(f), 4);
  EXPECT_EQ(folio_ref_count(f), 1 + 4);  // +1 per pin, not GUP_PIN_COUNTING_BIAS
  EXPECT_TRUE(folio_maybe_dma_pinned(f));
  EXPECT_EQ(k_.stat(NR_FOLL_PIN_ACQUIRED), 4);
  EXPECT_EQ(k_.DebugVm(false), "");
  // munmap drops the mapping and its reference; the pins keep the folio's memory.
  ASSERT_EQ(k_.Munmap(t_, a, k2M), 0);
  EXPECT_EQ(folio_mapcount(f), 0);
  EXPECT_EQ(folio_ref_count(f), 4);
  EXPECT_EQ(Pincount(f), 4);
  const long free_before = k_.FreePages();
  unpin_user_pages_dirty_lock(pages.data(), 4, true);
  EXPECT_EQ(k_.stat(NR_FOLL_PIN_RELEASED), 4);
  EXPECT_EQ(k_.FreePages() - free_before, 512);  // the last unpin frees the whole folio
  EXPECT_EQ(k_.DebugVm(), "");
}

TEST_F(HugeTest, PinAfterSplitStillCountsInPincount) {
  unsigned long a = Map(k2M);
  Store(a, 1);
  folio* f = page_folio(pmd_page(Pmd(a)));
  ASSERT_EQ(k_.Mprotect(t_, a, PAGE_SIZE, PROT_READ), 0);  // split
  k_.RunAs(t_);
  std::vector<page*> pages(2);
  int locked = 1;
  mmap_read_lock(mm_);
  long n = pin_user_pages_remote(mm_, a + 10 * PAGE_SIZE, 2, 0, pages.data(), &locked);
  if (locked) mmap_read_unlock(mm_);
  ASSERT_EQ(n, 2);
  EXPECT_EQ(Pincount(f), 2);
  EXPECT_EQ(folio_ref_count(f), 512 + 2);
  unpin_user_pages(pages.data(), 2);
  EXPECT_EQ(Pincount(f), 0);
  EXPECT_EQ(folio_ref_count(f), 512);
  EXPECT_EQ(k_.DebugVm(), "");
}

TEST_F(HugeTest, NoFreeTwoMegBlockFallsBackAndCounts) {
  // Take every free order-9 and larger block, so the buddy has no 2 MiB to give.
  k_.RunAs(t_);
  std::vector<folio*> held;
  for (;;) {
    folio* f = folio_alloc(GFP_HIGHUSER_MOVABLE | __GFP_NORETRY | __GFP_NOWARN, HPAGE_PMD_ORDER);
    if (f == nullptr) break;
    held.push_back(f);
  }
  ASSERT_FALSE(held.empty());
  unsigned long a = Map(k2M);
  Store(a, 5);
  EXPECT_FALSE(pmd_trans_huge(Pmd(a)));
  EXPECT_TRUE(pte_present(Pte(a)));
  EXPECT_GE(k_.stat(THP_FAULT_FALLBACK), 1);
  EXPECT_EQ(Load(a), 5u);
  for (folio* f : held) folio_put(f);
  EXPECT_EQ(k_.DebugVm(), "");
}


// ---- split_folio and the deferred split queue ----

class HugeSplitTest : public HugeTest {
 protected:
  // A THP at a fresh 2M mapping, every page written with its offset + 1.
  folio* FaultAll(unsigned long a) {
    for (unsigned long off = 0; off < k2M; off += PAGE_SIZE) Store(a + off, off + 1);
    return page_folio(pmd_page(Pmd(a)));
  }
  unsigned long QueueLen() { return k_.ks()->deferred_split_queue.split_queue_len; }
  long LruPages() {
    long n = 0;
    for (int lru = 0; lru < NR_LRU_LISTS; ++lru) n += k_.ks()->zone_normal->__lruvec.nr_pages[lru];
    return n;
  }
  long Pin(unsigned long va, int n, std::vector<page*>* pages) {
    k_.RunAs(t_);
    pages->resize(n);
    int locked = 1;
    mmap_read_lock(mm_);
    long got = pin_user_pages_remote(mm_, va, n, 0, pages->data(), &locked);
    if (locked) mmap_read_unlock(mm_);
    return got;
  }
  unsigned long DirectReclaim() {
    k_.RunAs(t_);
    return try_to_free_pages(0, GFP_KERNEL);
  }
};

TEST_F(HugeSplitTest, SplitFolioOfAPteMappedThpMakes512SmallFolios) {
  unsigned long a = Map(k2M);
  folio* f = FaultAll(a);
  ASSERT_EQ(k_.Mprotect(t_, a, PAGE_SIZE, PROT_READ), 0);  // split the pmd
  const long free_before = k_.FreePages(), lru_before = LruPages();
  folio_get(f);
  ASSERT_TRUE(folio_trylock(f));
  EXPECT_TRUE(can_split_folio(f, 1, nullptr));
  ASSERT_EQ(split_folio(f), 0);
  EXPECT_EQ(k_.stat(THP_SPLIT_PAGE), 1);
  EXPECT_FALSE(folio_test_large(f));
  EXPECT_TRUE(folio_test_locked(f));  // the caller's page stays locked
  EXPECT_FALSE(folio_test_locked(f + 7));
  EXPECT_EQ(folio_ref_count(f), 2);  // its PTE and ours
  for (long i = 1; i < 512; i += 73) {
    EXPECT_EQ(page_folio(f + i), f + i);
    EXPECT_EQ(folio_ref_count(f + i), 1);
    EXPECT_EQ(folio_mapcount(f + i), 1);
    EXPECT_TRUE(folio_test_anon(f + i));
    EXPECT_TRUE(folio_test_lru(f + i));
    EXPECT_TRUE(folio_test_dirty(f + i));
    EXPECT_TRUE(PageAnonExclusive(f + i));
    EXPECT_EQ((f + i)->index, f->index + i);
  }
  // Everything is still mapped: nothing freed; the LRU holds the same pages.
  EXPECT_EQ(k_.FreePages(), free_before);
  EXPECT_EQ(LruPages(), lru_before);
  EXPECT_EQ(k_.stat(NR_ANON_MAPPED), 512);
  folio_unlock(f);
  folio_put(f);
  EXPECT_EQ(Load(a + 300 * PAGE_SIZE), 300 * PAGE_SIZE + 1);
  EXPECT_EQ(pte_page(Pte(a + 300 * PAGE_SIZE)), f + 300);
  EXPECT_EQ(k_.DebugVm(), "");
  // Each page now goes on its own.
  ASSERT_EQ(k_.Munmap(t_, a + PAGE_SIZE, 4 * PAGE_SIZE), 0);
  EXPECT_EQ(k_.FreePages() - free_before, 4);
  EXPECT_EQ(k_.DebugVm(), "");
}

TEST_F(HugeSplitTest, SplitFolioOfAPmdMappedThpSplitsThePmdFirst) {
  unsigned long a = Map(k2M);
  folio* f = FaultAll(a);
  folio_get(f);
  ASSERT_TRUE(folio_trylock(f));
  ASSERT_EQ(split_folio(f), 0);
  folio_unlock(f);
  folio_put(f);
  EXPECT_EQ(k_.stat(THP_SPLIT_PMD), 1);  // unmap_folio: TTU_SPLIT_HUGE_PMD
  EXPECT_EQ(k_.stat(THP_SPLIT_PAGE), 1);
  EXPECT_FALSE(pmd_trans_huge(Pmd(a)));
  EXPECT_EQ(k_.stat(NR_ANON_THPS), 0);
  EXPECT_EQ(k_.stat(NR_ANON_MAPPED), 512);
  EXPECT_EQ(Load(a + 511 * PAGE_SIZE), 511 * PAGE_SIZE + 1);
  EXPECT_EQ(k_.DebugVm(), "");
}

TEST_F(HugeSplitTest, PartialMunmapQueuesTheFolioForADeferredSplit) {
  unsigned long a = Map(k2M);
  folio* f = FaultAll(a);
  EXPECT_EQ(QueueLen(), 0u);
  ASSERT_EQ(k_.Munmap(t_, a + k2M - 16 * PAGE_SIZE, 16 * PAGE_SIZE), 0);
  // Queued once, on the first page unmapped while others stay mapped.
  EXPECT_EQ(k_.stat(THP_DEFERRED_SPLIT_PAGE), 1);
  EXPECT_EQ(QueueLen(), 1u);
  EXPECT_TRUE(folio_test_partially_mapped(f));
  ASSERT_EQ(k_.Munmap(t_, a + k2M - 32 * PAGE_SIZE, 16 * PAGE_SIZE), 0);
  EXPECT_EQ(k_.stat(THP_DEFERRED_SPLIT_PAGE), 1);
  EXPECT_EQ(QueueLen(), 1u);
  EXPECT_EQ(k_.DebugVm(), "");
  // Unmapping the rest frees the folio, which leaves the queue as it goes.
  const long free_before = k_.FreePages();
  ASSERT_EQ(k_.Munmap(t_, a, k2M - 32 * PAGE_SIZE), 0);
  EXPECT_EQ(QueueLen(), 0u);
  EXPECT_GE(k_.FreePages() - free_before, 512);
  EXPECT_EQ(k_.DebugVm(), "");
}

TEST_F(HugeSplitTest, ReclaimSplitsAPartlyUnmappedThpAndFreesTheUnmappedPages) {
  unsigned long a = Map(k2M);
  folio* f = FaultAll(a);
  ASSERT_EQ(k_.Munmap(t_, a + k2M - 16 * PAGE_SIZE, 16 * PAGE_SIZE), 0);
  EXPECT_EQ(folio_ref_count(f), 496);
  const long free_before = k_.FreePages();
  // Direct reclaim (no swap: nothing on the LRU can go) works down to priority 0, where
  // the deferred split shrinker's share of a one-folio queue reaches it.
  DirectReclaim();
  EXPECT_EQ(k_.stat(THP_SPLIT_PAGE), 1);
  EXPECT_EQ(k_.stat(THP_SPLIT_PAGE_FAILED), 0);
  EXPECT_EQ(QueueLen(), 0u);
  EXPECT_FALSE(folio_test_large(f));
  // The 16 unmapped 4 KiB pages are back in the buddy allocator; the rest stay mapped.
  EXPECT_EQ(k_.FreePages() - free_before, 16);
  EXPECT_EQ(k_.stat(NR_ANON_MAPPED), 496);
  for (long i = 0; i < 496; i += 55) {
    EXPECT_EQ(folio_ref_count(f + i), 1);
    EXPECT_EQ(Load(a + i * PAGE_SIZE), i * PAGE_SIZE + 1);
  }
  EXPECT_EQ(page_ref_count(f + 500), 0);
  EXPECT_EQ(k_.DebugVm(), "");
}

TEST_F(HugeSplitTest, APinnedThpIsNotSplitAndStaysQueued) {
  unsigned long a = Map(k2M);
  folio* f = FaultAll(a);
  ASSERT_EQ(k_.Munmap(t_, a + k2M - 16 * PAGE_SIZE, 16 * PAGE_SIZE), 0);
  std::vector<page*> pages;
  ASSERT_EQ(Pin(a + 10 * PAGE_SIZE, 2, &pages), 2);
  EXPECT_FALSE(can_split_folio(f, 0, nullptr));
  const long free_before = k_.FreePages();
  DirectReclaim();
  EXPECT_EQ(k_.stat(THP_SPLIT_PAGE), 0);
  EXPECT_GE(k_.stat(THP_SPLIT_PAGE_FAILED), 1);
  EXPECT_TRUE(folio_test_large(f));
  EXPECT_TRUE(folio_test_partially_mapped(f));
  EXPECT_EQ(QueueLen(), 1u);  // put back for a later try
  EXPECT_EQ(k_.FreePages(), free_before);
  EXPECT_EQ(folio_ref_count(f), 496 + 2);
  EXPECT_EQ(k_.DebugVm(false), "");
  // Unpinned, the next reclaim splits it.
  unpin_user_pages(pages.data(), 2);
  DirectReclaim();
  EXPECT_EQ(k_.stat(THP_SPLIT_PAGE), 1);
  EXPECT_FALSE(folio_test_large(f));
  EXPECT_EQ(k_.FreePages() - free_before, 16);
  EXPECT_EQ(k_.DebugVm(), "");
}

// ---- a PTE-mapped THP: batched zap, copy and aging (folio_pte_batch, page_vma_mapped_walk) ----

class PteMappedThpTest : public HugeSplitTest {
 protected:
  // A THP at a fresh 2M mapping, every page written, its PMD split by an mprotect of its
  // first page there and back again: one VMA over 512 PTEs of one folio.
  folio* PteMapped(unsigned long a) {
    folio* f = FaultAll(a);
    EXPECT_EQ(k_.Mprotect(t_, a, PAGE_SIZE, PROT_READ), 0);
    EXPECT_EQ(k_.Mprotect(t_, a, PAGE_SIZE, kRW), 0);
    EXPECT_EQ(k_.stat(THP_SPLIT_PMD), 1);
    vm_area_struct* vma = find_vma(mm_, a);
    EXPECT_TRUE(vma != nullptr && vma->vm_start == a && vma->vm_end == a + k2M);
    EXPECT_TRUE(folio_test_large(f));
    EXPECT_EQ(folio_mapcount(f), 512);
    EXPECT_EQ(folio_entire_mapcount(f), 0);
    return f;
  }
  int Referenced(folio* f, vm_flags_t* vm_flags) {
    k_.RunAs(t_);
    return folio_referenced(f, 0, vm_flags);
  }
};

// Linux 6.18 zaps a PTE-mapped large folio's PTEs as one batch (zap_present_ptes ->
// folio_remove_rmap_ptes), so a folio unmapped whole is never partially mapped on the way:
// not queued for the deferred split, thp_deferred_split_page unchanged.
TEST_F(PteMappedThpTest, MunmapOfAllDoesNotQueueItForADeferredSplit) {
  unsigned long a = Map(k2M);
  PteMapped(a);
  const long free_before = k_.FreePages();
  const long tables_before = static_cast<long>(mm_pgtables_bytes(mm_) / PAGE_SIZE);
  ASSERT_EQ(k_.Munmap(t_, a, k2M), 0);
  EXPECT_EQ(k_.stat(THP_DEFERRED_SPLIT_PAGE), 0);
  EXPECT_EQ(QueueLen(), 0u);
  EXPECT_EQ(k_.stat(NR_ANON_MAPPED), 0);
  EXPECT_EQ(get_mm_counter(mm_, MM_ANONPAGES), 0u);
  const long tables = tables_before - static_cast<long>(mm_pgtables_bytes(mm_) / PAGE_SIZE);
  EXPECT_EQ(k_.FreePages() - free_before, 512 + tables);
  EXPECT_EQ(k_.DebugVm(), "");
}

TEST_F(PteMappedThpTest, ExitDoesNotQueueItForADeferredSplit) {
  unsigned long a = Map(k2M);
  PteMapped(a);
  const long free_before = k_.FreePages();
  k_.ExitAndReap(t_);
  EXPECT_EQ(k_.stat(THP_DEFERRED_SPLIT_PAGE), 0);
  EXPECT_EQ(QueueLen(), 0u);
  EXPECT_EQ(k_.stat(NR_ANON_MAPPED), 0);
  EXPECT_GE(k_.FreePages() - free_before, 512);
  EXPECT_EQ(k_.DebugVm(), "");
}

// A zap that covers part of the folio leaves it partially mapped: queued, once.
TEST_F(PteMappedThpTest, PartialMunmapStillQueuesItOnce) {
  unsigned long a = Map(k2M);
  folio* f = PteMapped(a);
  ASSERT_EQ(k_.Munmap(t_, a + 100 * PAGE_SIZE, 16 * PAGE_SIZE), 0);
  EXPECT_EQ(k_.stat(THP_DEFERRED_SPLIT_PAGE), 1);
  EXPECT_EQ(QueueLen(), 1u);
  EXPECT_TRUE(folio_test_partially_mapped(f));
  EXPECT_EQ(folio_mapcount(f), 496);
  EXPECT_EQ(k_.stat(NR_ANON_MAPPED), 496);
  ASSERT_EQ(k_.Munmap(t_, a + 200 * PAGE_SIZE, 16 * PAGE_SIZE), 0);
  EXPECT_EQ(k_.stat(THP_DEFERRED_SPLIT_PAGE), 1);
  EXPECT_EQ(Load(a + 99 * PAGE_SIZE), 99 * PAGE_SIZE + 1);
  EXPECT_EQ(Load(a + 116 * PAGE_SIZE), 116 * PAGE_SIZE + 1);
  EXPECT_EQ(k_.DebugVm(), "");
}

// A zap that starts inside the folio batches from there to its end (or the range's).
TEST_F(PteMappedThpTest, MunmapOfTheTailQueuesItAndTheRestFreesIt) {
  unsigned long a = Map(k2M);
  folio* f = PteMapped(a);
  ASSERT_EQ(k_.Munmap(t_, a + 256 * PAGE_SIZE, 256 * PAGE_SIZE), 0);
  EXPECT_EQ(k_.stat(THP_DEFERRED_SPLIT_PAGE), 1);
  EXPECT_EQ(folio_mapcount(f), 256);
  const long free_before = k_.FreePages();
  ASSERT_EQ(k_.Munmap(t_, a, 256 * PAGE_SIZE), 0);
  EXPECT_EQ(QueueLen(), 0u);  // freed, and off the queue as it went
  EXPECT_GE(k_.FreePages() - free_before, 512);
  EXPECT_EQ(k_.DebugVm(), "");
}

// Fork copies the 512 PTEs as one batch (folio_try_dup_anon_rmap_ptes): every page shared
// and no longer exclusive, both write-protected; the child's exit zaps them as a batch too.
TEST_F(PteMappedThpTest, ForkDuplicatesTheBatchAndTheChildsExitDoesNotQueueIt) {
  unsigned long a = Map(k2M);
  folio* f = PteMapped(a);
  task_struct* child = k_.Fork(t_);
  EXPECT_EQ(folio_mapcount(f), 1024);
  EXPECT_EQ(folio_ref_count(f), 1024);
  EXPECT_EQ(get_mm_counter(child->mm, MM_ANONPAGES), 512u);
  for (long i = 0; i < 512; i += 97) {
    EXPECT_FALSE(PageAnonExclusive(f + i));
    EXPECT_EQ(page_mapcount(f + i), 2);
    EXPECT_FALSE(pte_write(Pte(a + i * PAGE_SIZE)));
    pte_t* cpte = mm_find_pte(child->mm, a + i * PAGE_SIZE);
    ASSERT_NE(cpte, nullptr);
    EXPECT_EQ(pte_page(*cpte), f + i);
    EXPECT_FALSE(pte_write(*cpte));
    EXPECT_TRUE(pte_dirty(*cpte));  // a private mapping keeps the dirty bit
    EXPECT_FALSE(pte_young(*cpte));
  }
  EXPECT_EQ(Load(a + 300 * PAGE_SIZE, child), 300 * PAGE_SIZE + 1);
  EXPECT_EQ(k_.DebugVm(), "");
  k_.ExitAndReap(child);
  EXPECT_EQ(folio_mapcount(f), 512);
  EXPECT_EQ(k_.stat(THP_DEFERRED_SPLIT_PAGE), 0);
  EXPECT_EQ(QueueLen(), 0u);
  EXPECT_EQ(k_.DebugVm(), "");
}

// A pinned PTE-mapped THP: the batch may not be shared (-EAGAIN), so fork falls back to
// one PTE at a time and gives the child its own copy of every exclusive page.
TEST_F(PteMappedThpTest, ForkOfAPinnedOneCopiesEveryPageForTheChild) {
  unsigned long a = Map(k2M);
  folio* f = PteMapped(a);
  std::vector<page*> pages;
  ASSERT_EQ(Pin(a + 5 * PAGE_SIZE, 1, &pages), 1);
  task_struct* child = k_.Fork(t_);
  EXPECT_EQ(folio_mapcount(f), 512);
  EXPECT_TRUE(PageAnonExclusive(f + 5));
  EXPECT_EQ(get_mm_counter(child->mm, MM_ANONPAGES), 512u);
  for (long i = 0; i < 512; i += 73) {
    pte_t* cpte = mm_find_pte(child->mm, a + i * PAGE_SIZE);
    ASSERT_NE(cpte, nullptr);
    EXPECT_NE(page_folio(pte_page(*cpte)), f);
    EXPECT_EQ(Load(a + i * PAGE_SIZE, child), i * PAGE_SIZE + 1);
  }
  unpin_user_pages(pages.data(), 1);
  EXPECT_EQ(k_.DebugVm(), "");
}

// folio_referenced_one over page_vma_mapped_walk: the VMA counts once however many of
// its PTEs were young, and each young bit is cleared.
TEST_F(PteMappedThpTest, FolioReferencedCountsEachVmaOnceAndClearsEveryYoungPte) {
  unsigned long a = Map(k2M);
  folio* f = PteMapped(a);
  vm_flags_t vm_flags = 0;
  EXPECT_EQ(Referenced(f, &vm_flags), 1);
  EXPECT_TRUE(vm_flags & VM_WRITE);
  for (long i = 0; i < 512; i += 51) EXPECT_FALSE(pte_young(Pte(a + i * PAGE_SIZE)));
  EXPECT_EQ(Referenced(f, &vm_flags), 0);
  EXPECT_EQ(vm_flags, 0u);
  Load(a + 400 * PAGE_SIZE);
  EXPECT_EQ(Referenced(f, &vm_flags), 1);
  // Two VMAs over the folio (the first page read-only): each young one counts.
  ASSERT_EQ(k_.Mprotect(t_, a, PAGE_SIZE, PROT_READ), 0);
  Load(a);
  Load(a + 7 * PAGE_SIZE);
  EXPECT_EQ(Referenced(f, &vm_flags), 2);
  EXPECT_EQ(k_.DebugVm(), "");
}

TEST_F(PteMappedThpTest, FolioReferencedOfAPmdMappedThpClearsThePmdYoungBit) {
  unsigned long a = Map(k2M);
  folio* f = FaultAll(a);
  vm_flags_t vm_flags = 0;
  EXPECT_TRUE(pmd_young(Pmd(a)));
  EXPECT_EQ(Referenced(f, &vm_flags), 1);
  EXPECT_FALSE(pmd_young(Pmd(a)));
  EXPECT_EQ(Referenced(f, &vm_flags), 0);
  EXPECT_EQ(k_.DebugVm(), "");
}

// An mlocked VMA that maps the whole folio under one page-table lock reports VM_LOCKED
// (the folio is unevictable); one that maps only part of it does not.
TEST_F(PteMappedThpTest, FolioReferencedReportsVmLockedOnlyForAWhollyMappedFolio) {
  unsigned long a = Map(k2M);
  folio* f = PteMapped(a);
  k_.RunAs(t_);
  ASSERT_EQ(sys_mlock(a, k2M), 0);
  vm_flags_t vm_flags = 0;
  Referenced(f, &vm_flags);
  EXPECT_TRUE(vm_flags & VM_LOCKED);
  k_.RunAs(t_);
  ASSERT_EQ(sys_munlock(a, k2M), 0);
  k_.RunAs(t_);
  ASSERT_EQ(sys_mlock(a, PAGE_SIZE), 0);  // a VMA of its own over the first page only
  Load(a + 9 * PAGE_SIZE);
  Referenced(f, &vm_flags);
  EXPECT_FALSE(vm_flags & VM_LOCKED);
  EXPECT_TRUE(vm_flags & VM_WRITE);
  EXPECT_EQ(k_.DebugVm(), "");
}

// unmap_folio splits the folio's PMD in every VMA that maps it (page_vma_mapped_walk finds
// each, split_huge_pmd_locked splits it under the lock the walk took).
TEST_F(HugeSplitTest, SplitFolioSplitsThePmdInEveryProcessSharingIt) {
  unsigned long a = Map(k2M);
  folio* f = FaultAll(a);
  task_struct* child = k_.Fork(t_);
  ASSERT_TRUE(pmd_trans_huge(*mm_find_pmd(child->mm, a)));
  folio_get(f);
  ASSERT_TRUE(folio_trylock(f));
  ASSERT_EQ(split_folio(f), 0);
  folio_unlock(f);
  folio_put(f);
  EXPECT_EQ(k_.stat(THP_SPLIT_PMD), 2);
  EXPECT_EQ(k_.stat(THP_SPLIT_PAGE), 1);
  EXPECT_FALSE(pmd_trans_huge(Pmd(a)));
  EXPECT_FALSE(pmd_trans_huge(*mm_find_pmd(child->mm, a)));
  EXPECT_EQ(folio_mapcount(f + 3), 2);
  EXPECT_EQ(Load(a + 3 * PAGE_SIZE, child), 3 * PAGE_SIZE + 1);
  EXPECT_EQ(k_.DebugVm(), "");
}


// The shrinker's scan goes round the queue until nr_to_scan is used up (a folio that cannot
// be split goes back and is met again), and says SHRINK_STOP only when nothing was split
// and the queue is empty.
TEST_F(HugeSplitTest, DeferredSplitScanUsesItsWholeBudgetAndStopsOnlyWhenEmpty) {
  unsigned long a = Map(k2M);
  folio* f = FaultAll(a);
  ASSERT_EQ(k_.Munmap(t_, a + k2M - 16 * PAGE_SIZE, 16 * PAGE_SIZE), 0);
  std::vector<page*> pages;
  ASSERT_EQ(Pin(a, 1, &pages), 1);
  k_.RunAs(t_);
  const long failed = k_.stat(THP_SPLIT_PAGE_FAILED);
  EXPECT_EQ(deferred_split_scan(5), 0u);  // not SHRINK_STOP: the queue still holds it
  EXPECT_EQ(k_.stat(THP_SPLIT_PAGE_FAILED) - failed, 5);
  EXPECT_EQ(QueueLen(), 1u);
  unpin_user_pages(pages.data(), 1);
  k_.RunAs(t_);
  EXPECT_EQ(deferred_split_scan(5), 1u);
  EXPECT_FALSE(folio_test_large(f));
  EXPECT_EQ(QueueLen(), 0u);
  EXPECT_EQ(deferred_split_scan(5), SHRINK_STOP);
  EXPECT_EQ(k_.DebugVm(), "");
}

// ---- reclaim of large folios: split, then swap out page by page ----

class HugeSwapTest : public HugeSplitTest {
 protected:
  void SetUp() override {
    HugeSplitTest::SetUp();
    ASSERT_EQ(swapon_simulated(8 << 20), 0);
  }
  // The MADV_PAGEOUT path for one folio: isolate it and reclaim it (no reference check).
  unsigned long PageoutOne(folio* f) {
    k_.RunAs(t_);
    if (!folio_isolate_lru(f)) return ~0UL;
    list_head folio_list;
    INIT_LIST_HEAD(&folio_list);
    list_add(&f->lru, &folio_list);
    return reclaim_pages(&folio_list);
  }
};

TEST_F(HugeSwapTest, PageoutOfAThpSplitsItAndSwapsEveryPage) {
  unsigned long a = Map(k2M);
  folio* f = FaultAll(a);
  const long free_before = k_.FreePages();
  // Swap has no room for a whole THP here, so the folio is split (its pmd first) and its
  // 512 pages go out one by one.
  EXPECT_EQ(PageoutOne(f), 512u);
  EXPECT_EQ(k_.stat(THP_SWPOUT_FALLBACK), 1);
  EXPECT_EQ(k_.stat(THP_SPLIT_PAGE), 1);
  EXPECT_EQ(k_.stat(THP_SPLIT_PMD), 1);
  EXPECT_EQ(k_.stat(PSWPOUT), 512);
  EXPECT_EQ(k_.stat(NR_ANON_MAPPED), 0);
  EXPECT_EQ(get_mm_counter(mm_, MM_SWAPENTS), 512u);
  EXPECT_EQ(k_.FreePages() - free_before, 512);
  EXPECT_EQ(k_.DebugVm(), "");
  // Every page comes back from swap with its data (as 4 KiB pages).
  for (unsigned long off = 0; off < k2M; off += PAGE_SIZE) ASSERT_EQ(Load(a + off), off + 1);
  EXPECT_EQ(k_.stat(PSWPIN), 512);
  EXPECT_FALSE(pmd_trans_huge(Pmd(a)));
  EXPECT_EQ(k_.DebugVm(), "");
}

TEST_F(HugeSwapTest, MemoryPressureSwapsOutAThpThroughTheFallback) {
  unsigned long a = Map(k2M);
  FaultAll(a);
  // Direct reclaim until the THP has gone to swap: it ages like any anon folio (its pmd's
  // accessed bit, then the active list), and is split when it reaches swap.
  for (int i = 0; i < 200 && k_.stat(THP_SWPOUT_FALLBACK) == 0; ++i) DirectReclaim();
  EXPECT_EQ(k_.stat(THP_SWPOUT_FALLBACK), 1);
  EXPECT_EQ(k_.stat(THP_SPLIT_PAGE), 1);
  EXPECT_GE(k_.stat(PSWPOUT), 1);
  EXPECT_EQ(k_.DebugVm(), "");
  for (unsigned long off = 0; off < k2M; off += PAGE_SIZE) ASSERT_EQ(Load(a + off), off + 1);
  EXPECT_EQ(k_.DebugVm(), "");
}

TEST_F(HugeSwapTest, APinnedThpIsNotSplitForSwap) {
  unsigned long a = Map(k2M);
  folio* f = FaultAll(a);
  std::vector<page*> pages;
  ASSERT_EQ(Pin(a, 1, &pages), 1);
  EXPECT_EQ(PageoutOne(f), 0u);
  EXPECT_EQ(k_.stat(THP_SPLIT_PAGE), 0);
  EXPECT_EQ(k_.stat(PSWPOUT), 0);
  EXPECT_TRUE(folio_test_large(f));
  EXPECT_TRUE(pmd_trans_huge(Pmd(a)));
  unpin_user_pages(pages.data(), 1);
  EXPECT_EQ(k_.DebugVm(), "");
}

// ---- MADV_FREE, MADV_COLD and MADV_PAGEOUT on THPs; lazyfree THPs under reclaim ----
// (docs/semantics.md §13 H9-H10; no swap, as the differential host.)

class HugeMadviseTest : public HugeSplitTest {
 protected:
  int Mprotect(unsigned long a, size_t len, unsigned long prot) {
    k_.RunAs(t_);
    return do_mprotect_pkey(a, len, prot, -1);
  }
  long AnonPages() { return static_cast<long>(get_mm_counter(mm_, MM_ANONPAGES)); }
  long Stat(vm_stat_item i) { return k_.stat(i); }
  // A THP at a fresh 2M mapping, mapped by 512 PTEs in one VMA (an mprotect round trip
  // split its pmd and merged the VMA back); the folio stays large.
  folio* PteMappedThp(unsigned long* a) {
    *a = Map(k2M);
    folio* f = FaultAll(*a);
    EXPECT_EQ(Mprotect(*a, PAGE_SIZE, PROT_READ), 0);
    EXPECT_EQ(Mprotect(*a, PAGE_SIZE, kRW), 0);
    EXPECT_FALSE(pmd_trans_huge(Pmd(*a)));
    EXPECT_EQ(page_folio(pte_page(Pte(*a + k2M - PAGE_SIZE))), f);
    k_.RunAs(t_);
    EXPECT_EQ(find_vma(mm_, *a)->vm_end, *a + k2M) << "the two VMAs merged back";
    return f;
  }
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
// the folio swap-backed again instead of discarding it. This is 6.18's source; the
// differential host splits the pmd first and keeps the folio PTE-mapped (docs/thp.md,
// "The known difference").
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
  for (unsigned long off = 0; off < k2M; off += PAGE_SIZE) {
    if (off != 5 * PAGE_SIZE) {
      ASSERT_EQ(Load(a + off), off + 1);
    }
  }
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
  unsigned long a;
  folio* f = PteMappedThp(&a);
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
  unsigned long a;
  folio* f = PteMappedThp(&a);
  ASSERT_EQ(Madvise(a, k2M, MADV_FREE), 0);
  Store(a + 100 * PAGE_SIZE, 77);
  ASSERT_EQ(Madvise(a, k2M, MADV_PAGEOUT), 0);
  EXPECT_EQ(Stat(PGLAZYFREED), 0);
  EXPECT_TRUE(folio_test_swapbacked(f));
  EXPECT_EQ(AnonPages(), 512);
  EXPECT_EQ(Load(a + 100 * PAGE_SIZE), 77u);
  for (unsigned long off = 0; off < k2M; off += PAGE_SIZE) {
    if (off != 100 * PAGE_SIZE) {
      ASSERT_EQ(Load(a + off), off + 1);
    }
  }
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
