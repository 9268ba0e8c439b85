// mm/memory_test.cc: demand paging, the zero page, COW, and allocation failure in faults.
#include <cstring>

#include "gtest/gtest.h"
#include "mm/fault_inject.h"
#include "mm/mm.h"
#include "mm/mmzone.h"
#include "mm/testing/mm_fixture.h"

namespace kernel {
namespace {

using mm_testing::MmMachine;

constexpr unsigned long kRW = PROT_READ | PROT_WRITE;
constexpr unsigned long kAnon = MAP_PRIVATE | MAP_ANONYMOUS;

TEST(Memory, DemandPagingAllocatesOnFirstWrite) {
  MmMachine m;
  mm_struct* mm = m.NewMm();
  m.RunOn(0, mm);
  unsigned long a = m.Mmap(0, 0, 8 * PAGE_SIZE, kRW, kAnon);
  ASSERT_FALSE(IS_ERR_VALUE(a));
  const long faults = m.stat(PGFAULT), anon = m.stat(NR_ANON_MAPPED);
  EXPECT_EQ(get_mm_rss(mm), 0u);
  for (int i = 0; i < 8; ++i) {
    auto r = m.UserStore(0, a + i * PAGE_SIZE + 8, 0x1000 + i);
    ASSERT_TRUE(r.ok()) << i;
    ASSERT_EQ(r.pf_error_codes.size(), 1u);
    EXPECT_EQ(r.pf_error_codes[0], hw::kPfErrWrite | hw::kPfErrUser);  // not present
  }
  EXPECT_EQ(m.stat(PGFAULT) - faults, 8);
  EXPECT_EQ(m.stat(NR_ANON_MAPPED) - anon, 8);
  EXPECT_EQ(get_mm_counter(mm, MM_ANONPAGES), 8u);
  for (int i = 0; i < 8; ++i) {
    uint64_t v = 0;
    ASSERT_TRUE(m.UserLoad(0, a + i * PAGE_SIZE + 8, &v).ok());
    EXPECT_EQ(v, 0x1000u + i);
    pte_t pte = *MmMachine::PteOf(mm, a + i * PAGE_SIZE);
    EXPECT_TRUE(pte_write(pte) && pte_dirty(pte) && pte_young(pte));
    EXPECT_TRUE(PageAnonExclusive(pte_page(pte)));
  }
  // One pud, pmd and pte table below the pgd.
  EXPECT_EQ(mm_pgtables_bytes(mm), 3 * PAGE_SIZE);
  EXPECT_EQ(m.DebugVm(), "");
}

TEST(Memory, ZeroPageOnReadThenPrivatePageOnWrite) {
  MmMachine m;
  mm_struct* mm = m.NewMm();
  m.RunOn(0, mm);
  unsigned long a = m.Mmap(0, 0, PAGE_SIZE, kRW, kAnon);
  const unsigned long free_before = nr_free_pages();
  uint64_t v = 1;
  auto r = m.UserLoad(0, a, &v);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(v, 0u);
  pte_t pte = *MmMachine::PteOf(mm, a);
  EXPECT_TRUE(is_zero_pfn(pte_pfn(pte)));
  EXPECT_TRUE(pte_special(pte));
  EXPECT_FALSE(pte_write(pte));
  EXPECT_EQ(get_mm_rss(mm), 0u);
  EXPECT_EQ(page_ref_count(kst().zero_page), 1);  // not taken for the mapping (6.5+)
  // The pte table was the only allocation (pud and pmd tables too: three frames).
  EXPECT_EQ(nr_free_pages(), free_before - 3);
  EXPECT_EQ(m.DebugVm(), "");

  r = m.UserStore(0, a, 42);
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(r.pf_error_codes.size(), 1u);
  EXPECT_EQ(r.pf_error_codes[0], hw::kPfErrPresent | hw::kPfErrWrite | hw::kPfErrUser);
  pte = *MmMachine::PteOf(mm, a);
  EXPECT_FALSE(is_zero_pfn(pte_pfn(pte)));
  EXPECT_TRUE(pte_write(pte));
  EXPECT_FALSE(pte_special(pte));
  EXPECT_EQ(get_mm_counter(mm, MM_ANONPAGES), 1u);
  ASSERT_TRUE(m.UserLoad(0, a, &v).ok());
  EXPECT_EQ(v, 42u);
  const unsigned char* zp = static_cast<const unsigned char*>(page_address(kst().zero_page));
  for (unsigned long i = 0; i < PAGE_SIZE; ++i) ASSERT_EQ(zp[i], 0);
  EXPECT_EQ(m.DebugVm(), "");
}

TEST(Memory, WriteToReadOnlyMappingIsRefused) {
  MmMachine m;
  mm_struct* mm = m.NewMm();
  m.RunOn(0, mm);
  unsigned long a = m.Mmap(0, 0, PAGE_SIZE, PROT_READ, kAnon);
  auto r = m.UserStore(0, a, 1);
  EXPECT_TRUE(r.sigsegv);
  EXPECT_FALSE(r.ok());
  uint64_t v;
  EXPECT_TRUE(m.UserLoad(0, a, &v).ok());
  r = m.UserStore(0, a, 1);  // now a protection fault on the zero page
  EXPECT_TRUE(r.sigsegv);
  EXPECT_EQ(r.pf_error_codes.back(), hw::kPfErrPresent | hw::kPfErrWrite | hw::kPfErrUser);
  EXPECT_EQ(m.DebugVm(), "");
}

TEST(Memory, MunmapReturnsEveryFrameAndPageTable) {
  MmMachine m;
  mm_struct* mm = m.NewMm();
  m.RunOn(0, mm);
  const unsigned long free_before = nr_free_pages();
  const long tables_before = m.stat(NR_PAGETABLE);
  // 3 MiB crossing a 2 MiB boundary: two pte tables.
  unsigned long a = m.Mmap(0, 0x40000000UL - PAGE_SIZE * 256, 768 * PAGE_SIZE, kRW,
                           kAnon | MAP_FIXED);
  ASSERT_EQ(a, 0x40000000UL - PAGE_SIZE * 256);
  for (unsigned long off = 0; off < 768 * PAGE_SIZE; off += PAGE_SIZE)
    ASSERT_TRUE(m.UserStore(0, a + off, off).ok());
  EXPECT_EQ(get_mm_counter(mm, MM_ANONPAGES), 768u);
  EXPECT_GT(m.stat(NR_PAGETABLE), tables_before);
  EXPECT_EQ(m.DebugVm(), "");
  ASSERT_EQ(m.Munmap(0, a, 768 * PAGE_SIZE), 0);
  EXPECT_EQ(nr_free_pages(), free_before);
  EXPECT_EQ(m.stat(NR_PAGETABLE), tables_before);
  EXPECT_EQ(mm_pgtables_bytes(mm), 0u);
  EXPECT_EQ(get_mm_rss(mm), 0u);
  EXPECT_EQ(mm->map_count, 0);
  EXPECT_EQ(m.DebugVm(), "");
}

TEST(Memory, PartialMunmapKeepsTablesNeighboursUse) {
  MmMachine m;
  mm_struct* mm = m.NewMm();
  m.RunOn(0, mm);
  unsigned long a = m.Mmap(0, 0, 4 * PAGE_SIZE, kRW, kAnon);
  for (int i = 0; i < 4; ++i) ASSERT_TRUE(m.UserStore(0, a + i * PAGE_SIZE, i).ok());
  ASSERT_EQ(m.Munmap(0, a + PAGE_SIZE, 2 * PAGE_SIZE), 0);
  EXPECT_EQ(mm->map_count, 2);
  EXPECT_EQ(get_mm_counter(mm, MM_ANONPAGES), 2u);
  uint64_t v;
  ASSERT_TRUE(m.UserLoad(0, a + 3 * PAGE_SIZE, &v).ok());
  EXPECT_EQ(v, 3u);
  EXPECT_TRUE(m.UserLoad(0, a + PAGE_SIZE, &v).sigsegv);
  EXPECT_EQ(m.DebugVm(), "");
}

// Copy-on-write between two address spaces, set up the way fork's copy_present_pte does.
TEST(Memory, CopyOnWriteCopiesSharedPageAndReusesExclusiveOne) {
  MmMachine m;
  mm_struct* mm1 = m.NewMm();
  mm_struct* mm2 = m.NewMm();
  m.RunOn(0, mm1);
  unsigned long a = m.Mmap(0, 0x10000000, PAGE_SIZE, kRW, kAnon | MAP_FIXED);
  ASSERT_TRUE(m.UserStore(0, a, 111).ok());
  m.RunOn(1, mm2);
  ASSERT_EQ(m.Mmap(1, a, PAGE_SIZE, kRW, kAnon | MAP_FIXED), a);
  // copy_present_pte: write-protect in the parent, share the page, map it in the child.
  {
    pte_t* src = MmMachine::PteOf(mm1, a);
    page* p = pte_page(*src);
    vm_area_struct* v1 = vma_lookup(mm1, a);
    vm_area_struct* v2 = vma_lookup(mm2, a);
    ASSERT_EQ(anon_vma_prepare(v2), 0);
    ptep_set_wrprotect(mm1, a, src);
    flush_tlb_page(v1, a);
    get_page(p);
    ASSERT_EQ(folio_try_dup_anon_rmap_pte(p, p, v1), 0);
    mmap_read_lock(mm2);
    pgd_t* pgd = pgd_offset(mm2, a);
    pud_t* pud = pud_alloc(mm2, p4d_offset(pgd, a), a);
    pmd_t* pmd = pmd_alloc(mm2, pud, a);
    ASSERT_FALSE(pte_alloc(mm2, pmd));
    set_pte_at(mm2, a, pte_offset_kernel(pmd, a), pte_mkold(pte_wrprotect(*src)));
    mmap_read_unlock(mm2);
    add_mm_counter(mm2, MM_ANONPAGES, 1);
    EXPECT_EQ(page_mapcount(p), 2);
    EXPECT_EQ(m.DebugVm(), "");
  }
  page* shared = pte_page(*MmMachine::PteOf(mm1, a));

  // An unshare request (GUP read pin of a COW-shared page) gives mm2 a read-only copy.
  m.RunOn(1, mm2);
  mmap_read_lock(mm2);
  EXPECT_EQ(handle_mm_fault(vma_lookup(mm2, a), a, FAULT_FLAG_UNSHARE, nullptr), 0u);
  mmap_read_unlock(mm2);
  pte_t p2 = *MmMachine::PteOf(mm2, a);
  EXPECT_NE(pte_page(p2), shared);
  EXPECT_FALSE(pte_write(p2));
  EXPECT_FALSE(pte_dirty(p2));
  EXPECT_EQ(page_mapcount(shared), 1);
  uint64_t v = 0;
  ASSERT_TRUE(m.UserLoad(1, a, &v).ok());
  EXPECT_EQ(v, 111u);
  EXPECT_EQ(m.DebugVm(), "");

  // mm1's write: the page is no longer shared (refcount 1) but not marked exclusive
  // either, so do_wp_page reuses it after wp_can_reuse_anon_folio.
  m.RunOn(0, mm1);
  auto r = m.UserStore(0, a, 222);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(pte_page(*MmMachine::PteOf(mm1, a)), shared);
  EXPECT_TRUE(PageAnonExclusive(shared));
  m.RunOn(1, mm2);
  ASSERT_TRUE(m.UserLoad(1, a, &v).ok());
  EXPECT_EQ(v, 111u);
  // mm2's copy is exclusive: its write reuses it in place.
  page* copy = pte_page(*MmMachine::PteOf(mm2, a));
  ASSERT_TRUE(m.UserStore(1, a, 333).ok());
  EXPECT_EQ(pte_page(*MmMachine::PteOf(mm2, a)), copy);
  m.RunOn(0, mm1);
  ASSERT_TRUE(m.UserLoad(0, a, &v).ok());
  EXPECT_EQ(v, 222u);
  EXPECT_EQ(m.DebugVm(), "");
}

TEST(Memory, SharedPageWriteCopies) {
  MmMachine m;
  mm_struct* mm = m.NewMm();
  m.RunOn(0, mm);
  unsigned long a = m.Mmap(0, 0, PAGE_SIZE, kRW, kAnon);
  ASSERT_TRUE(m.UserStore(0, a, 5).ok());
  pte_t* ptep = MmMachine::PteOf(mm, a);
  page* old = pte_page(*ptep);
  // Someone else holds a reference (a pin or a second mapping): the write must copy.
  ClearPageAnonExclusive(old);
  ptep_set_wrprotect(mm, a, ptep);
  flush_tlb_page(vma_lookup(mm, a), a);
  get_page(old);
  auto r = m.UserStore(0, a, 6);
  ASSERT_TRUE(r.ok());
  page* now = pte_page(*MmMachine::PteOf(mm, a));
  EXPECT_NE(now, old);
  EXPECT_EQ(page_ref_count(old), 1);  // only our extra reference remains
  EXPECT_EQ(page_mapcount(old), 0);
  EXPECT_EQ(*static_cast<uint64_t*>(page_address(old)), 5u);
  uint64_t v;
  ASSERT_TRUE(m.UserLoad(0, a, &v).ok());
  EXPECT_EQ(v, 6u);
  put_page(old);
  EXPECT_EQ(m.DebugVm(), "");
}

// Every allocation a first fault makes (pud, pmd and pte tables, the anon_vma, the page)
// fails in turn: the fault reports VM_FAULT_OOM and, once the mm is gone, every frame and
// slab object is back.
TEST(Memory, AllocationFailureAtEachSiteIsOomAndLeaksNothing) {
  MmMachine m;
  const unsigned long free0 = nr_free_pages();
  const long slab0 = kst().slab_allocations;
  for (const char* point : {"fail_page_alloc", "fail_pgtable", "failslab", "fail_fault"}) {
    for (long nth = 1;; ++nth) {
      mm_struct* mm = m.NewMm();
      m.RunOn(0, mm);
      unsigned long a = m.Mmap(0, 0, 2 * PAGE_SIZE, kRW, kAnon);
      ASSERT_FALSE(IS_ERR_VALUE(a));
      ASSERT_EQ(fault_inject_arm(point, {.nth = static_cast<uint64_t>(nth), .times = 1}), 0);
      auto r = m.UserStore(0, a, 7);
      const uint64_t fired = fault_inject_failures(point);
      fault_inject_disarm(nullptr);
      if (fired == 0) {
        EXPECT_TRUE(r.ok()) << point << " nth=" << nth;
        EXPECT_GT(nth, 1) << point << " never reached";
        m.DestroyMm(mm);
        break;
      }
      EXPECT_FALSE(r.ok()) << point << " nth=" << nth;
      EXPECT_EQ(r.vm_fault, VM_FAULT_OOM) << point << " nth=" << nth;
      EXPECT_EQ(get_mm_rss(mm), 0u);
      EXPECT_EQ(m.DebugVm(), "") << point << " nth=" << nth;
      // The same fault succeeds once memory is there again.
      EXPECT_TRUE(m.UserStore(0, a, 7).ok());
      m.DestroyMm(mm);
      EXPECT_EQ(nr_free_pages(), free0) << point << " nth=" << nth;
      EXPECT_EQ(kst().slab_allocations, slab0) << point << " nth=" << nth;
      ASSERT_LT(nth, 20);
    }
  }
  EXPECT_EQ(nr_free_pages(), free0);
  EXPECT_EQ(kst().slab_allocations, slab0);
}

TEST(Memory, ExitMmapFreesEverything) {
  MmMachine m;
  const unsigned long free0 = nr_free_pages();
  const long slab0 = kst().slab_allocations;
  mm_struct* mm = m.NewMm();
  m.RunOn(0, mm);
  for (int i = 0; i < 5; ++i) {
    unsigned long a = m.Mmap(0, 0, 3 * PAGE_SIZE, i % 2 ? PROT_READ : kRW, kAnon);
    uint64_t v;
    ASSERT_TRUE(m.UserLoad(0, a, &v).ok());
    if (!(i % 2)) {
      ASSERT_TRUE(m.UserStore(0, a + PAGE_SIZE, i).ok());
    }
  }
  EXPECT_EQ(mm->map_count, 5);
  m.DestroyMm(mm);
  EXPECT_EQ(nr_free_pages(), free0);
  EXPECT_EQ(kst().slab_allocations, slab0);
  EXPECT_EQ(m.stat(NR_ANON_MAPPED), 0);
  EXPECT_EQ(m.stat(NR_PAGETABLE), 0);
  EXPECT_EQ(m.DebugVm(), "");
}

}  // namespace
}  // namespace kernel
