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

// The PCID under which CPU `cpu` keeps mm's entries (its ASID slot + 1), or 0: none.
uint16_t PcidOf(BootedKernel& m, int cpu, const mm_struct* mm) {
  const tlb_state& ts = m.ks()->cpu_tlbstate[cpu];
  for (int asid = 0; asid < TLB_NR_DYN_ASIDS; ++asid)
    if (ts.ctxs[asid].ctx_id == mm->context.ctx_id) return kern_pcid(static_cast<u16>(asid));
  return 0;
}

TEST(Tlb, SwitchMmLoadsCr3WithTheAsidSlotsPcid) {
  BootedKernel m;
  task_struct* t = m.Spawn("t");
  mm_struct* mm = t->mm;
  EXPECT_EQ(m.cpu(0)->cr3() & PTE_PFN_MASK, __pa(mm->pgd));
  EXPECT_EQ(m.cpu(0)->pcid(), kern_pcid(m.ks()->cpu_tlbstate[0].loaded_mm_asid));
  EXPECT_EQ(m.cpu(0)->pcid(), PcidOf(m, 0, mm));
  EXPECT_GE(m.cpu(0)->pcid(), 1);
  EXPECT_LE(m.cpu(0)->pcid(), TLB_NR_DYN_ASIDS);
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
  const uint16_t pcid = PcidOf(m, 0, mm);
  const hw::TlbEntry* e = m.cpu(0)->tlb().Peek(hw::VirtAddr(a), pcid);
  ASSERT_NE(e, nullptr);
  EXPECT_TRUE(e->writable);
  const long one = m.stat(NR_TLB_LOCAL_FLUSH_ONE);
  const u64 gen = atomic64_read(&mm->context.tlb_gen);
  ASSERT_EQ(m.Mprotect(t, a, PAGE_SIZE, PROT_READ), 0);
  EXPECT_EQ(m.stat(NR_TLB_LOCAL_FLUSH_ONE), one + 1);
  EXPECT_EQ(static_cast<u64>(atomic64_read(&mm->context.tlb_gen)), gen + 1);
  EXPECT_FALSE(Cached(m.cpu(0), a, pcid));
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
  const uint16_t pcid0 = PcidOf(m, 0, mm), pcid1 = PcidOf(m, 1, mm);
  ASSERT_TRUE(Cached(m.cpu(0), a, pcid0));
  ASSERT_TRUE(Cached(m.cpu(1), a, pcid1));
  const long sent = m.stat(NR_TLB_REMOTE_FLUSH), got = m.stat(NR_TLB_REMOTE_FLUSH_RECEIVED);
  ASSERT_EQ(m.Munmap(t, a, 2 * PAGE_SIZE), 0);
  EXPECT_FALSE(Cached(m.cpu(0), a, pcid0));
  EXPECT_FALSE(Cached(m.cpu(1), a, pcid1));
  EXPECT_GE(m.stat(NR_TLB_REMOTE_FLUSH), sent + 1);
  EXPECT_GE(m.stat(NR_TLB_REMOTE_FLUSH_RECEIVED), got + 1);
  EXPECT_TRUE(m.UserLoad(t2, a, &v).sigsegv);
  EXPECT_FALSE(mm_cpumask(mm)->test(2));
  EXPECT_EQ(m.DebugVm(), "");
}

// A CPU that switched away stays in the mask (6.12). Flushes that free no page tables do
// not IPI it while it runs another mm (6.14), unless a second has passed since the mm's
// last trim: then it gets the IPI and leaves the mask instead of flushing. Either way
// switching back in finds its ASID slot behind the mm's tlb_gen and flushes.
TEST(Tlb, LazyCpumaskIsTrimmedOncePerSecondAndSwitchBackFlushes) {
  BootedKernel m;
  task_struct* t = m.Spawn("t");
  task_struct* t2 = m.SpawnThread(t);
  task_struct* o = m.Spawn("other");
  mm_struct* mm = t->mm;
  m.RunAs(t, 0);
  m.RunAs(t2, 1);
  unsigned long a = m.Mmap(t, 0, 2 * PAGE_SIZE, kRW, kAnon);
  ASSERT_TRUE(m.UserStore(t2, a, 1).ok());
  ASSERT_TRUE(m.UserStore(t2, a + PAGE_SIZE, 1).ok());
  m.RunAs(o, 1);  // t2 is switched out
  EXPECT_TRUE(mm_cpumask(mm)->test(1));  // lazily kept
  const uint16_t pcid = PcidOf(m, 1, mm);
  ASSERT_TRUE(Cached(m.cpu(1), a, pcid));
  long sent = m.stat(NR_TLB_REMOTE_FLUSH), got = m.stat(NR_TLB_REMOTE_FLUSH_RECEIVED);
  ASSERT_EQ(m.Mprotect(t, a, PAGE_SIZE, PROT_READ), 0);
  EXPECT_EQ(m.stat(NR_TLB_REMOTE_FLUSH), sent + 1);     // flush_tlb_multi ran...
  EXPECT_EQ(m.stat(NR_TLB_REMOTE_FLUSH_RECEIVED), got);  // ...but CPU 1 was skipped
  EXPECT_TRUE(mm_cpumask(mm)->test(1));
  EXPECT_TRUE(Cached(m.cpu(1), a, pcid));  // a dead entry: the slot is behind tlb_gen
  EXPECT_EQ(m.DebugVm(), "");              // dead entries do not count
  // A second later the next flush trims the mask.
  m.ks()->jiffies += HZ + 1;
  sent = m.stat(NR_TLB_REMOTE_FLUSH);
  got = m.stat(NR_TLB_REMOTE_FLUSH_RECEIVED);
  ASSERT_EQ(m.Mprotect(t, a + PAGE_SIZE, PAGE_SIZE, PROT_READ), 0);
  EXPECT_EQ(m.stat(NR_TLB_REMOTE_FLUSH), sent + 1);
  EXPECT_EQ(m.stat(NR_TLB_REMOTE_FLUSH_RECEIVED), got + 1);
  EXPECT_FALSE(mm_cpumask(mm)->test(1));   // dropped by the shootdown...
  EXPECT_TRUE(Cached(m.cpu(1), a + PAGE_SIZE, pcid));  // ...without a flush
  EXPECT_EQ(mm->context.next_trim_cpumask, m.ks()->jiffies + HZ);
  // Within the same second no more trimming IPIs: CPU 1 is out of the mask anyway.
  m.RunAs(t2, 1);
  EXPECT_FALSE(Cached(m.cpu(1), a, pcid));  // the switch flushed the slot
  EXPECT_FALSE(Cached(m.cpu(1), a + PAGE_SIZE, pcid));
  EXPECT_TRUE(mm_cpumask(mm)->test(1));
  EXPECT_TRUE(m.UserStore(t2, a, 2).sigsegv);
  EXPECT_TRUE(m.UserStore(t2, a + PAGE_SIZE, 2).sigsegv);
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
  const uint16_t pcid = PcidOf(m, 0, mm);
  for (int i = 0; i < 64; ++i) EXPECT_FALSE(Cached(m.cpu(0), a + i * PAGE_SIZE, pcid));
  EXPECT_EQ(m.DebugVm(), "");
}

TEST(Tlb, AsidSlotsKeepOtherMmsEntriesAcrossSwitches) {
  BootedKernel m;
  task_struct* t1 = m.Spawn("t1");
  task_struct* t2 = m.Spawn("t2");
  mm_struct* mm1 = t1->mm;
  unsigned long a = m.Mmap(t1, 0, PAGE_SIZE, kRW, kAnon);
  ASSERT_TRUE(m.UserStore(t1, a, 1).ok());
  const uint16_t pcid = PcidOf(m, 0, mm1);
  m.RunAs(t2, 0);
  m.RunAs(t1, 0);  // its slot is current: no flush, the entry survives
  EXPECT_EQ(PcidOf(m, 0, mm1), pcid);
  EXPECT_TRUE(Cached(m.cpu(0), a, pcid));
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
