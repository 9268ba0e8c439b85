// mm/arch/x86/tlb_test.cc: arch/x86/mm/tlb.c's context handling: per-CPU ASID slots and
// their reuse, tlb_gen generations caught up at switch-in, lazy TLB for kernel threads,
// and shootdown IPIs (counted, and run synchronously when no scheduler is installed).
#include <vector>

#include "gtest/gtest.h"
#include "mm/arch/x86/tlb.h"
#include "mm/mm.h"
#include "mm/pagewalk.h"
#include "mm/smp.h"
#include "mm/testing/kernel_fixture.h"

namespace kernel {
namespace {

using kernel_testing::BootedKernel;

constexpr unsigned long kRW = PROT_READ | PROT_WRITE;
// One address every process has: the top page of its [stack].
constexpr unsigned long kStackVa = BootedKernel::kStackTop - PAGE_SIZE;

uint64_t Tag(int i) { return 0x5a5a000000000000ull | static_cast<uint64_t>(i); }

const hw::TlbEntry* Peek(hw::Cpu* c, unsigned long va, uint16_t pcid) {
  return c->tlb().Peek(hw::VirtAddr(va), pcid);
}

// The ASID slot CPU `cpu` keeps for mm, or -1.
int SlotOf(BootedKernel& m, int cpu, const mm_struct* mm) {
  const tlb_state& ts = m.ks()->cpu_tlbstate[cpu];
  for (int asid = 0; asid < TLB_NR_DYN_ASIDS; ++asid)
    if (ts.ctxs[asid].ctx_id == mm->context.ctx_id) return asid;
  return -1;
}

u64 TlbGen(const mm_struct* mm) { return static_cast<u64>(atomic64_read(&mm->context.tlb_gen)); }

// A process with thread t on CPU 0 and thread t2 on CPU 1, and `pages` anonymous pages at
// `a` that t2 has written (page i holds i + 1), so CPU 1 caches them.
struct TwoThreads {
  task_struct* t;
  task_struct* t2;
  mm_struct* mm;
  unsigned long a;
};
TwoThreads SpawnTwoThreads(BootedKernel& m, int pages) {
  TwoThreads s;
  s.t = m.Spawn("t");
  s.t2 = m.SpawnThread(s.t);
  s.mm = s.t->mm;
  m.RunAs(s.t, 0);
  m.RunAs(s.t2, 1);
  s.a = m.Mmap(s.t, 0, pages * PAGE_SIZE, kRW);
  for (int i = 0; i < pages; ++i)
    EXPECT_TRUE(m.UserStore(s.t2, s.a + i * PAGE_SIZE, static_cast<uint64_t>(i + 1)).ok());
  return s;
}

// Far more live address spaces than PCIDs (4095, and only 6 used per CPU): each process
// stores its own value at the same virtual address, then all of them run again on both
// CPUs, each right after the process 4095 numbers away (which a fixed PCID per mm, taken
// modulo 4095, would have given the same PCID). Every load sees its own bytes.
TEST(TlbAsid, FiveThousandLiveProcessesSeeOnlyTheirOwnBytes) {
  constexpr int kProcs = 5000;
  BootedKernel m(uint64_t{192} << 20, 2);
  std::vector<task_struct*> procs;
  procs.reserve(kProcs);
  for (int i = 0; i < kProcs; ++i) {
    task_struct* p = m.Spawn("p");
    ASSERT_NE(p, nullptr);
    procs.push_back(p);
    m.RunAs(p, i % 2);
    ASSERT_TRUE(m.UserStore(p, kStackVa, Tag(i)).ok()) << i;
    const uint16_t pcid = m.cpu(i % 2)->pcid();
    ASSERT_GE(pcid, 1);
    ASSERT_LE(pcid, TLB_NR_DYN_ASIDS);
  }
  for (int round = 0; round < 2; ++round) {
    for (int i = 0; i < kProcs; ++i) {
      const int cpu = (i + round) % 2;
      const int j = (i + 4095) % kProcs;
      for (int k : {j, i}) {
        m.RunAs(procs[k], cpu);
        uint64_t v = 0;
        ASSERT_TRUE(m.UserLoad(procs[k], kStackVa, &v).ok());
        // Round 0 stored k + kProcs after reading; a process read twice in a round
        // (as j, then as i) sees its own newer value.
        ASSERT_TRUE(v == Tag(k) || v == Tag(k + kProcs)) << "process " << k << " read " << v;
        if (round == 0) {
          ASSERT_TRUE(m.UserStore(procs[k], kStackVa, Tag(k + kProcs)).ok());
        } else {
          ASSERT_EQ(v, Tag(k + kProcs)) << "process " << k;
        }
      }
    }
  }
  EXPECT_EQ(m.DebugVm(), "");
}

// Seven mms in turn on one CPU: the seventh takes the first one's ASID slot (round
// robin), and the CR3 load that does so flushes the slot's PCID, so the first mm's
// translation of the shared address is gone before the seventh could hit it. Coming back,
// the first mm gets another slot, again with a flush; an mm whose slot survived keeps its
// entries (no flush).
TEST(TlbAsid, ReusingASlotAcrossSevenMmsFlushesIt) {
  BootedKernel m;
  std::vector<task_struct*> p;
  for (int i = 0; i < 7; ++i) p.push_back(m.Spawn("p"));
  std::vector<uint16_t> pcid(7);
  std::vector<unsigned long> pfn(7);
  // CPU 1 has run nothing but its idle task: init_mm holds slot 0, next_asid is 1.
  for (int i = 0; i < 7; ++i) {
    m.RunAs(p[i], 1);
    pcid[i] = m.cpu(1)->pcid();
    if (i == 6) {
      // p[6] took p[0]'s slot: p[0]'s entry of that PCID was flushed by the CR3 load.
      EXPECT_EQ(pcid[6], pcid[0]);
      EXPECT_EQ(Peek(m.cpu(1), kStackVa, pcid[6]), nullptr);
    }
    ASSERT_TRUE(m.UserStore(p[i], kStackVa, Tag(i)).ok());
    pfn[i] = pte_pfn(*mm_find_pte(p[i]->mm, kStackVa));
    const hw::TlbEntry* e = Peek(m.cpu(1), kStackVa, pcid[i]);
    ASSERT_NE(e, nullptr);
    EXPECT_EQ(e->pfn, pfn[i]);
  }
  // Slots 1..5, then 0 (init_mm's), then 1 again.
  const std::vector<uint16_t> want = {2, 3, 4, 5, 6, 1, 2};
  EXPECT_EQ(pcid, want);
  EXPECT_EQ(SlotOf(m, 1, p[0]->mm), -1);       // evicted
  EXPECT_EQ(SlotOf(m, 1, &m.ks()->init_mm), -1);  // evicted by p[5]

  // p[0] returns: a new slot (2, p[1]'s), flushed, and its own value.
  m.RunAs(p[0], 1);
  EXPECT_EQ(m.cpu(1)->pcid(), 3);
  EXPECT_EQ(SlotOf(m, 1, p[1]->mm), -1);
  EXPECT_EQ(Peek(m.cpu(1), kStackVa, 3), nullptr);  // p[1]'s entry is gone
  uint64_t v = 0;
  ASSERT_TRUE(m.UserLoad(p[0], kStackVa, &v).ok());
  EXPECT_EQ(v, Tag(0));
  // p[5]'s slot (0, PCID 1) is still current: no flush, its entry is still there.
  m.RunAs(p[5], 1);
  EXPECT_EQ(m.cpu(1)->pcid(), 1);
  const hw::TlbEntry* e = Peek(m.cpu(1), kStackVa, 1);
  ASSERT_NE(e, nullptr);
  EXPECT_EQ(e->pfn, pfn[5]);
  ASSERT_TRUE(m.UserLoad(p[5], kStackVa, &v).ok());
  EXPECT_EQ(v, Tag(5));
  // Every process still reads its own bytes.
  for (int i = 0; i < 7; ++i) {
    m.RunAs(p[i], 1);
    ASSERT_TRUE(m.UserLoad(p[i], kStackVa, &v).ok());
    EXPECT_EQ(v, Tag(i)) << i;
  }
  EXPECT_EQ(m.DebugVm(), "");
}

// A flush while the CPU runs another mm skips it (no IPI: it is not lazy, and the mask
// was trimmed less than a second ago); its slot falls behind the mm's tlb_gen, and the
// switch back in flushes and catches up. The same from lazy mode (a kernel thread kept
// the mm loaded): the same-mm path of switch_mm_irqs_off compares the generations.
TEST(TlbAsid, AFlushMissedWhileSwitchedAwayIsCaughtUpAtSwitchIn) {
  BootedKernel m;
  auto [t, t2, mm, a] = SpawnTwoThreads(m, 2);
  task_struct* o = m.Spawn("o");
  task_struct* kt = m.SpawnKthread("kt");
  const int slot = SlotOf(m, 1, mm);
  ASSERT_GE(slot, 0);
  const uint16_t pcid = kern_pcid(static_cast<u16>(slot));
  const tlb_context& ctx = m.ks()->cpu_tlbstate[1].ctxs[slot];
  EXPECT_EQ(ctx.tlb_gen, TlbGen(mm));

  // (1) Switched to another mm.
  m.RunAs(o, 1);
  const long got = m.stat(NR_TLB_REMOTE_FLUSH_RECEIVED);
  ASSERT_EQ(m.Mprotect(t, a, PAGE_SIZE, PROT_READ), 0);
  EXPECT_EQ(m.stat(NR_TLB_REMOTE_FLUSH_RECEIVED), got);
  EXPECT_EQ(ctx.tlb_gen + 1, TlbGen(mm));
  EXPECT_NE(Peek(m.cpu(1), a, pcid), nullptr);  // dead until the switch
  m.RunAs(t2, 1);
  EXPECT_EQ(SlotOf(m, 1, mm), slot);  // the same slot, flushed
  EXPECT_EQ(ctx.tlb_gen, TlbGen(mm));
  EXPECT_EQ(Peek(m.cpu(1), a, pcid), nullptr);
  EXPECT_TRUE(m.UserStore(t2, a, 2).sigsegv);

  // (2) Lazy: a kernel thread keeps mm loaded on CPU 1.
  ASSERT_TRUE(m.UserStore(t2, a + PAGE_SIZE, 3).ok());
  ASSERT_NE(Peek(m.cpu(1), a + PAGE_SIZE, pcid), nullptr);
  m.RunAs(kt, 1);
  EXPECT_EQ(m.ks()->cpu_tlbstate[1].loaded_mm, mm);
  EXPECT_TRUE(m.ks()->cpu_tlbstate_shared[1].is_lazy);
  const long got2 = m.stat(NR_TLB_REMOTE_FLUSH_RECEIVED);
  ASSERT_EQ(m.Mprotect(t, a + PAGE_SIZE, PAGE_SIZE, PROT_READ), 0);
  EXPECT_EQ(m.stat(NR_TLB_REMOTE_FLUSH_RECEIVED), got2);  // lazy: skipped
  EXPECT_EQ(ctx.tlb_gen + 1, TlbGen(mm));
  EXPECT_NE(Peek(m.cpu(1), a + PAGE_SIZE, pcid), nullptr);
  EXPECT_EQ(m.DebugVm(), "");  // a lazy CPU's stale slot is dead
  m.RunAs(t2, 1);  // prev == next, was lazy, behind: flush the same ASID
  EXPECT_FALSE(m.ks()->cpu_tlbstate_shared[1].is_lazy);
  EXPECT_EQ(m.cpu(1)->pcid(), pcid);
  EXPECT_EQ(ctx.tlb_gen, TlbGen(mm));
  EXPECT_EQ(Peek(m.cpu(1), a + PAGE_SIZE, pcid), nullptr);
  EXPECT_TRUE(m.UserStore(t2, a + PAGE_SIZE, 4).sigsegv);
  uint64_t v = 0;
  ASSERT_TRUE(m.UserLoad(t2, a + PAGE_SIZE, &v).ok());
  EXPECT_EQ(v, 3u);
  EXPECT_EQ(m.DebugVm(), "");
}

// Lazy TLB: a kernel thread keeps the user mm loaded (and referenced). A flush that frees
// no page tables skips the CPU; one that frees page tables reaches it, and its handler
// switches the CPU to init_mm instead of flushing. Counts are exact: one
// NR_TLB_REMOTE_FLUSH per flush_tlb_multi, one _RECEIVED per remote handler run.
TEST(TlbAsid, LazyCpuIsSkippedUnlessPageTablesAreFreed) {
  BootedKernel m;
  auto [t, t2, mm, a] = SpawnTwoThreads(m, 1);
  task_struct* kt = m.SpawnKthread("kt");
  task_struct* kt2 = m.SpawnKthread("kt2");
  m.RunAs(t, 0);  // kthreadd, which made kt and kt2 on CPU 0, had borrowed mm there
  const int count = atomic_read(&mm->mm_count);
  m.RunAs(kt, 1);  // user -> kernel: the mm is grabbed
  EXPECT_EQ(kt->active_mm, mm);
  EXPECT_EQ(atomic_read(&mm->mm_count), count + 1);
  m.RunAs(kt2, 1);  // kernel -> kernel: the borrowed mm is handed over, not grabbed again
  EXPECT_EQ(kt2->active_mm, mm);
  EXPECT_EQ(kt->active_mm, nullptr);
  EXPECT_EQ(atomic_read(&mm->mm_count), count + 1);
  EXPECT_EQ(m.ks()->cpu_tlbstate[1].loaded_mm, mm);
  EXPECT_EQ(m.cpu(1)->cr3() & PTE_PFN_MASK, __pa(mm->pgd));

  long sent = m.stat(NR_TLB_REMOTE_FLUSH), got = m.stat(NR_TLB_REMOTE_FLUSH_RECEIVED);
  ASSERT_EQ(m.Mprotect(t, a, PAGE_SIZE, PROT_READ), 0);
  EXPECT_EQ(m.stat(NR_TLB_REMOTE_FLUSH), sent + 1);
  EXPECT_EQ(m.stat(NR_TLB_REMOTE_FLUSH_RECEIVED), got);
  EXPECT_EQ(m.ks()->cpu_tlbstate[1].loaded_mm, mm);

  // munmap flushes twice: the zapped page at tlb_end_vma (no tables freed yet: CPU 1
  // skipped), then with the PTE table of the only mapping in its 2 MiB freed
  // (freed_tables: CPU 1 is reached).
  sent = m.stat(NR_TLB_REMOTE_FLUSH);
  got = m.stat(NR_TLB_REMOTE_FLUSH_RECEIVED);
  ASSERT_EQ(m.Munmap(t, a, PAGE_SIZE), 0);
  EXPECT_EQ(m.stat(NR_TLB_REMOTE_FLUSH), sent + 2);
  EXPECT_EQ(m.stat(NR_TLB_REMOTE_FLUSH_RECEIVED), got + 1);
  EXPECT_EQ(m.ks()->cpu_tlbstate[1].loaded_mm, &m.ks()->init_mm);
  EXPECT_EQ(m.cpu(1)->cr3() & PTE_PFN_MASK, __pa(m.ks()->init_mm.pgd));
  EXPECT_FALSE(m.ks()->cpu_tlbstate_shared[1].is_lazy);
  EXPECT_EQ(kt2->active_mm, mm);  // still borrowed (and referenced)
  EXPECT_TRUE(mm_cpumask(mm)->test(1));
  EXPECT_EQ(m.DebugVm(), "");

  // Now CPU 1 runs init_mm, not lazily: of the next munmap's two flushes the first skips
  // it (no trim within the second), the second (tables freed) finds it on another mm and
  // takes it out of the mask.
  unsigned long b = m.Mmap(t, 0, PAGE_SIZE, kRW);
  ASSERT_TRUE(m.UserStore(t, b, 1).ok());
  got = m.stat(NR_TLB_REMOTE_FLUSH_RECEIVED);
  ASSERT_EQ(m.Munmap(t, b, PAGE_SIZE), 0);
  EXPECT_EQ(m.stat(NR_TLB_REMOTE_FLUSH_RECEIVED), got + 1);
  EXPECT_FALSE(mm_cpumask(mm)->test(1));

  m.RunAs(t2, 1);  // kernel -> user: the borrowed reference is dropped
  EXPECT_EQ(kt2->active_mm, nullptr);
  EXPECT_EQ(atomic_read(&mm->mm_count), count);
  EXPECT_TRUE(mm_cpumask(mm)->test(1));
  EXPECT_EQ(m.DebugVm(), "");
}

// With no scheduler installed an IPI is taken at once: when the flush returns, the remote
// handler has run (counted once on each side), the remote TLB no longer holds the entry,
// its ASID slot is at the mm's generation, and nothing is left queued.
TEST(TlbAsid, RemoteFlushWithoutASchedulerRunsTheHandlerSynchronously) {
  BootedKernel m;
  ASSERT_EQ(m.ks()->sched, nullptr);
  auto [t, t2, mm, a] = SpawnTwoThreads(m, 4);
  const uint16_t pcid1 = m.cpu(1)->pcid();
  for (int i = 0; i < 4; ++i) ASSERT_NE(Peek(m.cpu(1), a + i * PAGE_SIZE, pcid1), nullptr);
  const long sent = m.stat(NR_TLB_REMOTE_FLUSH), got = m.stat(NR_TLB_REMOTE_FLUSH_RECEIVED);
  const long local_one = m.stat(NR_TLB_LOCAL_FLUSH_ONE);
  m.RunAs(t, 0);
  ASSERT_EQ(m.Mprotect(t, a, 4 * PAGE_SIZE, PROT_READ), 0);
  EXPECT_EQ(m.stat(NR_TLB_REMOTE_FLUSH), sent + 1);
  EXPECT_EQ(m.stat(NR_TLB_REMOTE_FLUSH_RECEIVED), got + 1);
  EXPECT_EQ(m.stat(NR_TLB_LOCAL_FLUSH_ONE), local_one + 4);  // the initiator's own 4 pages
  for (int i = 0; i < 4; ++i) EXPECT_EQ(Peek(m.cpu(1), a + i * PAGE_SIZE, pcid1), nullptr);
  EXPECT_EQ(m.ks()->cpu_tlbstate[1].ctxs[SlotOf(m, 1, mm)].tlb_gen, TlbGen(mm));
  EXPECT_EQ(m.ks()->cpu_tlbstate[0].ctxs[SlotOf(m, 0, mm)].tlb_gen, TlbGen(mm));
  EXPECT_FALSE(cpu_ipi_pending(1));
  EXPECT_EQ(smp_processor_id(), 0);  // the handler ran as CPU 1 and gave CPU 0 back
  EXPECT_TRUE(m.UserStore(t2, a, 9).sigsegv);
  EXPECT_EQ(m.DebugVm(), "");
}

// Boot: every CPU runs init_mm under ASID 0 (PCID 1), lazily, with its idle task holding
// init_mm as active_mm; init_mm is ctx_id 1 and its pgd is swapper_pg_dir, frame 2, just
// after the zero page (mm/arch/x86/init.cc).
TEST(TlbAsid, BootLoadsInitMmUnderAsidZero) {
  BootedKernel m(uint64_t{64} << 20, 3);
  for (int cpu = 1; cpu < 3; ++cpu) {
    const tlb_state& ts = m.ks()->cpu_tlbstate[cpu];
    EXPECT_EQ(ts.loaded_mm, &m.ks()->init_mm);
    EXPECT_EQ(ts.loaded_mm_asid, 0);
    EXPECT_EQ(ts.next_asid, 1);
    EXPECT_EQ(ts.ctxs[0].ctx_id, 1u);
    EXPECT_EQ(m.cpu(cpu)->pcid(), 1);
    EXPECT_EQ(m.cpu(cpu)->cr3() & PTE_PFN_MASK, __pa(m.ks()->init_mm.pgd));
    EXPECT_EQ(__pa(m.ks()->init_mm.pgd), 2ul << PAGE_SHIFT);
    EXPECT_EQ(idle_task(cpu)->active_mm, &m.ks()->init_mm);
  }
  EXPECT_FALSE(mm_cpumask(&m.ks()->init_mm)->any());
}

}  // namespace
}  // namespace kernel
