// mm/tlb_test.cc: the flushes each page-table change owes, shootdowns to other CPUs,
// the lazy mm_cpumask, and debug_vm catching what a missing flush or a bad refcount leaves.
#include "gtest/gtest.h"
#include "mm/mm.h"
#include "mm/pagewalk.h"
#include "mm/testing/kernel_fixture.h"

namespace kernel {
namespace {

using kernel_testing::BootedKernel;

constexpr unsigned long kRW = PROT_READ | PROT_WRITE;
constexpr unsigned long kAnon = MAP_PRIVATE | MAP_ANONYMOUS;

bool Cached(hw::Cpu* c, unsigned long va, uint16_t pcid) {
  return c->tlb().Peek(hw::VirtAddr(va), pcid) != nullptr;
}

TEST(Tlb, SwitchMmLoadsCr3WithPcid) {
  BootedKernel m;
  task_struct* t = m.Spawn("t");
  mm_struct* mm = t->mm;
  EXPECT_EQ(m.cpu(0)->cr3() & PTE_PFN_MASK, __pa(mm->pgd));
  EXPECT_EQ(m.cpu(0)->pcid(), mm->context.pcid);
  EXPECT_TRUE(mm_cpumask(mm)->test(0));
  EXPECT_EQ(this_cpu_loaded_mm(), mm);
}

// The TLB holds a writable translation; mprotect(PROT_READ) must flush it so the next
// user store faults (present | write | user), not silently succeeds.
TEST(Tlb, MprotectReadOnlyFlushesACachedWritableEntry) {
  BootedKernel m;
  task_struct* t = m.Spawn("t");
  mm_struct* mm = t->mm;
  unsigned long a = m.Mmap(t, 0, PAGE_SIZE, kRW, kAnon);
  ASSERT_TRUE(m.UserStore(t, a, 1).ok());
  ASSERT_TRUE(m.UserStore(t, a, 2).ok());  // a TLB hit
  const hw::TlbEntry* e = m.cpu(0)->tlb().Peek(hw::VirtAddr(a), mm->context.pcid);
  ASSERT_NE(e, nullptr);
  EXPECT_TRUE(e->writable);
  const long one = m.stat(NR_TLB_LOCAL_FLUSH_ONE);
  ASSERT_EQ(m.Mprotect(t, a, PAGE_SIZE, PROT_READ), 0);
  EXPECT_EQ(m.stat(NR_TLB_LOCAL_FLUSH_ONE), one + 1);
  EXPECT_FALSE(Cached(m.cpu(0), a, mm->context.pcid));
  auto r = m.UserStore(t, a, 3);
  EXPECT_TRUE(r.sigsegv);
  ASSERT_EQ(r.pf_error_codes.size(), 1u);
  EXPECT_EQ(r.pf_error_codes[0], hw::kPfErrPresent | hw::kPfErrWrite | hw::kPfErrUser);
  uint64_t v = 0;
  ASSERT_TRUE(m.UserLoad(t, a, &v).ok());
  EXPECT_EQ(v, 2u);
  EXPECT_EQ(m.DebugVm(), "");
}

TEST(Tlb, ShootdownReachesEveryCpuRunningTheMm) {
  BootedKernel m(64 << 20, 3);
  task_struct* t = m.Spawn("t");
  task_struct* t2 = m.SpawnThread(t);  // a second thread of t's process
  task_struct* o = m.Spawn("other");
  mm_struct* mm = t->mm;
  m.RunAs(t, 0);
  m.RunAs(t2, 1);
  m.RunAs(o, 2);
  unsigned long a = m.Mmap(t, 0, 2 * PAGE_SIZE, kRW, kAnon);
  ASSERT_TRUE(m.UserStore(t, a, 1).ok());
  uint64_t v;
  ASSERT_TRUE(m.UserLoad(t2, a, &v).ok());
  const uint16_t pcid = mm->context.pcid;
  ASSERT_TRUE(Cached(m.cpu(0), a, pcid));
  ASSERT_TRUE(Cached(m.cpu(1), a, pcid));
  const long sent = m.stat(NR_TLB_REMOTE_FLUSH), got = m.stat(NR_TLB_REMOTE_FLUSH_RECEIVED);
  ASSERT_EQ(m.Munmap(t, a, 2 * PAGE_SIZE), 0);
  EXPECT_FALSE(Cached(m.cpu(0), a, pcid));
  EXPECT_FALSE(Cached(m.cpu(1), a, pcid));
  EXPECT_GE(m.stat(NR_TLB_REMOTE_FLUSH), sent + 1);
  EXPECT_GE(m.stat(NR_TLB_REMOTE_FLUSH_RECEIVED), got + 1);
  EXPECT_TRUE(m.UserLoad(t2, a, &v).sigsegv);
  EXPECT_FALSE(mm_cpumask(mm)->test(2));
  EXPECT_EQ(m.DebugVm(), "");
}

// A CPU that switched away stays in the mask until a shootdown finds it elsewhere; it is
// then dropped instead of flushed, and switching back in flushes the PCID.
TEST(Tlb, LazyCpumaskDropsAndSwitchBackFlushes) {
  BootedKernel m;
  task_struct* t = m.Spawn("t");
  task_struct* t2 = m.SpawnThread(t);
  task_struct* o = m.Spawn("other");
  mm_struct* mm = t->mm;
  m.RunAs(t, 0);
  m.RunAs(t2, 1);
  unsigned long a = m.Mmap(t, 0, PAGE_SIZE, kRW, kAnon);
  ASSERT_TRUE(m.UserStore(t2, a, 1).ok());
  m.RunAs(o, 1);  // t2 is switched out
  EXPECT_TRUE(mm_cpumask(mm)->test(1));  // lazily kept
  const uint16_t pcid = mm->context.pcid;
  ASSERT_TRUE(Cached(m.cpu(1), a, pcid));
  ASSERT_EQ(m.Mprotect(t, a, PAGE_SIZE, PROT_READ), 0);
  EXPECT_FALSE(mm_cpumask(mm)->test(1));  // dropped by the shootdown
  EXPECT_TRUE(Cached(m.cpu(1), a, pcid));  // ...without a flush (a dead entry)
  EXPECT_EQ(m.DebugVm(), "");              // dead entries do not count
  m.RunAs(t2, 1);
  EXPECT_FALSE(Cached(m.cpu(1), a, pcid));  // the switch flushed it
  EXPECT_TRUE(m.UserStore(t2, a, 2).sigsegv);
  EXPECT_EQ(m.DebugVm(), "");
}

TEST(Tlb, LargeRangeBecomesAFullFlush) {
  BootedKernel m;
  task_struct* t = m.Spawn("t");
  mm_struct* mm = t->mm;
  unsigned long a = m.Mmap(t, 0, 64 * PAGE_SIZE, kRW, kAnon);
  for (int i = 0; i < 64; ++i) ASSERT_TRUE(m.UserStore(t, a + i * PAGE_SIZE, i).ok());
  const long all = m.stat(NR_TLB_LOCAL_FLUSH_ALL), one = m.stat(NR_TLB_LOCAL_FLUSH_ONE);
  ASSERT_EQ(m.Mprotect(t, a, 64 * PAGE_SIZE, PROT_READ), 0);  // 64 > ceiling of 33
  EXPECT_EQ(m.stat(NR_TLB_LOCAL_FLUSH_ALL), all + 1);
  EXPECT_EQ(m.stat(NR_TLB_LOCAL_FLUSH_ONE), one);
  for (int i = 0; i < 64; ++i) EXPECT_FALSE(Cached(m.cpu(0), a + i * PAGE_SIZE, mm->context.pcid));
  EXPECT_EQ(m.DebugVm(), "");
}

TEST(Tlb, PcidsKeepOtherMmsEntriesAcrossSwitches) {
  BootedKernel m;
  task_struct* t1 = m.Spawn("t1");
  task_struct* t2 = m.Spawn("t2");
  mm_struct* mm1 = t1->mm;
  unsigned long a = m.Mmap(t1, 0, PAGE_SIZE, kRW, kAnon);
  ASSERT_TRUE(m.UserStore(t1, a, 1).ok());
  m.RunAs(t2, 0);
  m.RunAs(t1, 0);  // still in mm1's mask: no flush needed, the entry survives
  EXPECT_TRUE(Cached(m.cpu(0), a, mm1->context.pcid));
  EXPECT_EQ(m.DebugVm(), "");
}

TEST(DebugVm, DetectsASkippedFlush) {
  BootedKernel m;
  task_struct* t = m.Spawn("t");
  mm_struct* mm = t->mm;
  unsigned long a = m.Mmap(t, 0, PAGE_SIZE, kRW, kAnon);
  ASSERT_TRUE(m.UserStore(t, a, 1).ok());
  pte_t* ptep = mm_find_pte(mm, a);
  ptep_set_wrprotect(mm, a, ptep);  // ... and "forget" flush_tlb_page
  std::string report = m.DebugVm();
  EXPECT_NE(report.find("allows writes the pte forbids"), std::string::npos) << report;
  EXPECT_TRUE(m.UserStore(t, a, 2).ok());  // the stale entry really is used
  flush_tlb_page(vma_lookup(mm, a), a);
  EXPECT_EQ(m.DebugVm(), "");
  // Clearing a PTE without a flush leaves a translation the tables no longer have.
  uint64_t v;
  ASSERT_TRUE(m.UserLoad(t, a, &v).ok());  // refill the TLB
  pte_t old = ptep_get_and_clear(mm, a, ptep);
  report = m.DebugVm();
  EXPECT_NE(report.find("not present (missed flush)"), std::string::npos) << report;
  set_pte_at(mm, a, ptep, old);
  EXPECT_EQ(m.DebugVm(), "");
}

TEST(DebugVm, DetectsACorruptedRefcountAndMapcount) {
  BootedKernel m;
  task_struct* t = m.Spawn("t");
  mm_struct* mm = t->mm;
  unsigned long a = m.Mmap(t, 0, PAGE_SIZE, kRW, kAnon);
  ASSERT_TRUE(m.UserStore(t, a, 1).ok());
  page* p = pte_page(*mm_find_pte(mm, a));
  page_ref_inc(p);
  std::string report = m.DebugVm();
  EXPECT_NE(report.find("refcount 2, expected 1"), std::string::npos) << report;
  EXPECT_EQ(m.DebugVm(/*expect_no_pins=*/false), "");  // an outstanding pin could explain it
  page_ref_dec(p);
  atomic_inc(&p->_mapcount);
  report = m.DebugVm();
  EXPECT_NE(report.find("mapcount 2 but 1 ptes map it"), std::string::npos) << report;
  atomic_dec(&p->_mapcount);
  add_mm_counter(mm, MM_ANONPAGES, 1);
  report = m.DebugVm();
  EXPECT_NE(report.find("rss counter"), std::string::npos) << report;
  add_mm_counter(mm, MM_ANONPAGES, -1);
  EXPECT_EQ(m.DebugVm(), "");
}

TEST(DebugVm, DetectsAPteToAFreeFrame) {
  BootedKernel m;
  task_struct* t = m.Spawn("t");
  mm_struct* mm = t->mm;
  unsigned long a = m.Mmap(t, 0, PAGE_SIZE, kRW, kAnon);
  ASSERT_TRUE(m.UserStore(t, a, 1).ok());
  page* spare = alloc_page(GFP_KERNEL);
  unsigned long pfn = page_to_pfn(spare);
  __free_page(spare);
  pte_t* ptep = mm_find_pte(mm, a);
  pte_t old = *ptep;
  set_pte(ptep, pfn_pte(pfn, vma_lookup(mm, a)->vm_page_prot));
  std::string report = m.DebugVm();
  EXPECT_NE(report.find("maps free frame"), std::string::npos) << report;
  set_pte(ptep, old);
  flush_tlb_page(vma_lookup(mm, a), a);
  EXPECT_EQ(m.DebugVm(), "");
}

}  // namespace
}  // namespace kernel
