// mm/arch/x86/psc_test.cc: Linux's TLB flushing stays correct with the hardware's
// paging-structure caches (hw/psc.h, SDM 4.10.3).
//
// The hazard: a CPU caches "this 2 MiB region -> page table T" (a PDE-cache entry).
// munmap clears the PMD and frees T (free_pgtables -> pte_free_tlb, which sets
// mmu_gather.freed_tables), T is reused, and a walk that still trusts the cached entry
// reads its "PTEs" out of whatever T now holds. Linux's discipline: tlb_finish_mmu flushes
// before the table page can be reused (flush_tlb_func: INVLPG, which drops every PSC
// entry of the PCID, or a CR3 reload), and a freed_tables flush also reaches lazy CPUs
// (native_flush_tlb_multi), which then leave the mm (switch to init_mm) and flush the
// PCID when they come back (choose_new_asid sees the newer tlb_gen).
#include <cstdint>

#include "gtest/gtest.h"
#include "hw/cpu.h"
#include "hw/psc.h"
#include "hw/tlb_profile.h"
#include "hw/walker.h"
#include "mm/arch/x86/tlb.h"
#include "mm/mm.h"
#include "mm/testing/kernel_fixture.h"

namespace kernel {
namespace {

using kernel_testing::BootedKernel;

constexpr unsigned long kRW = PROT_READ | PROT_WRITE;
constexpr uint64_t kSecret = 0x5ec2e75ec2e7ull;
constexpr uint64_t kFakePteFlags = 0x7;  // P | R/W | U/S

// The physical frame and page table behind `va` in the address space loaded on `cpu`.
hw::WalkResult PeekUser(hw::Cpu* cpu, unsigned long va) {
  hw::PagingMode mode = cpu->paging_mode();
  mode.user = true;
  return hw::PeekWalk(cpu->mem(), cpu->cr3(), hw::VirtAddr(va), hw::AccessType::kRead, mode);
}

// One CPU. The process touches `a`, the only mapping in its 2 MiB (so munmap frees the
// PTE table), then munmaps it; the freed table frame comes back as a data page of the
// same process, which writes a PTE-shaped value into it for a page `b` of the old region.
// A "CPU" that got no flush (a second hw::Cpu on the same memory, standing for dropping
// Linux's flush) walks through its stale PDE-cache entry into that frame and reads the
// secret; the real CPU, flushed by Linux, faults and the task gets SIGSEGV.
TEST(PscLinux, MunmapFreedTableIsNotWalkedThroughAStaleEntry) {
  BootedKernel m(uint64_t{64} << 20, 1);
  task_struct* t = m.Spawn("t");
  m.RunAs(t, 0);
  hw::Cpu* cpu = m.cpu(0);
  ASSERT_TRUE(cpu->psc().enabled());

  const unsigned long a = 0x600000000000UL;  // 1 GiB aligned: nothing else near it
  const unsigned long b = a + 7 * PAGE_SIZE;
  ASSERT_EQ(m.Mmap(t, a, 8 * PAGE_SIZE, kRW, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED), a);
  ASSERT_TRUE(m.UserStore(t, a, 1).ok());
  const uint16_t pcid = cpu->pcid();
  const hw::PscEntry* pde = cpu->psc().Peek(hw::PscLevel::kPde, hw::VirtAddr(a), pcid);
  ASSERT_NE(pde, nullptr);
  const hw::PhysAddr table = pde->table;
  EXPECT_EQ(table, PeekUser(cpu, a).upper[2].table);

  // The CPU without the flush: same page tables, same PCID, its own caches.
  hw::Cpu unflushed(7, &cpu->mem(), hw::DefaultTlbProfile());
  ASSERT_TRUE(unflushed.WriteEfer(cpu->efer()).ok());  // NXE: the kernel's PTEs carry XD
  ASSERT_TRUE(unflushed.WriteCr0(cpu->cr0()).ok());
  ASSERT_TRUE(unflushed.WriteCr4(cpu->cr4()).ok());
  ASSERT_TRUE(unflushed.WriteCr3(cpu->cr3()).ok());
  unflushed.SetCpl(3);
  ASSERT_TRUE(unflushed.Translate(hw::VirtAddr(a), hw::AccessType::kRead).fault.ok());
  ASSERT_NE(unflushed.psc().Peek(hw::PscLevel::kPde, hw::VirtAddr(a), pcid), nullptr);

  // Pages in the same 1 GiB (so munmap frees only the PTE table, not the PMD table),
  // the first one faulted in now.
  const unsigned long c = a + (4UL << 20);
  constexpr int kPages = 64;
  ASSERT_EQ(m.Mmap(t, c, kPages * PAGE_SIZE, kRW, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED), c);
  ASSERT_TRUE(m.UserStore(t, c, 0).ok());

  const long local_flushes = m.stat(NR_TLB_LOCAL_FLUSH_ONE) + m.stat(NR_TLB_LOCAL_FLUSH_ALL);
  ASSERT_EQ(m.Munmap(t, a, 8 * PAGE_SIZE), 0);
  EXPECT_GT(m.stat(NR_TLB_LOCAL_FLUSH_ONE) + m.stat(NR_TLB_LOCAL_FLUSH_ALL), local_flushes);
  // Linux's flush left nothing of this PCID in the caches for the region.
  EXPECT_EQ(cpu->psc().Peek(hw::PscLevel::kPde, hw::VirtAddr(a), pcid), nullptr);
  EXPECT_EQ(cpu->psc().Peek(hw::PscLevel::kPdpte, hw::VirtAddr(a), pcid), nullptr);
  EXPECT_EQ(cpu->psc().Peek(hw::PscLevel::kPml4e, hw::VirtAddr(a), pcid), nullptr);
  EXPECT_FALSE(PeekUser(cpu, a).ok());

  // Reuse: fault in fresh pages until one of them is the freed table frame.
  unsigned long reused = 0;
  for (int i = 1; i < kPages && reused == 0; ++i) {
    const unsigned long va = c + i * PAGE_SIZE;
    ASSERT_TRUE(m.UserStore(t, va, 0).ok());
    if (PeekUser(cpu, va).frame == table) reused = va;
  }
  ASSERT_NE(reused, 0UL) << "the freed page table was not reused within " << kPages << " pages";
  // The secret page, and a PTE-shaped value for b in the reused frame.
  const unsigned long secret_va = c;
  ASSERT_TRUE(m.UserStore(t, secret_va, kSecret).ok());
  const uint64_t secret_pa = PeekUser(cpu, secret_va).frame.value();
  ASSERT_TRUE(m.UserStore(t, reused + 8 * ((b >> PAGE_SHIFT) & 511), secret_pa | kFakePteFlags).ok());

  // Without the flush: the walk for b reads one entry, the "PTE" in the reused frame.
  const hw::Cpu::Translation stale = unflushed.Translate(hw::VirtAddr(b), hw::AccessType::kRead);
  ASSERT_TRUE(stale.fault.ok());
  EXPECT_EQ(stale.pa.value(), secret_pa);
  EXPECT_EQ(cpu->mem().ReadU64(stale.pa), kSecret);

  // With Linux's flush: b is unmapped, the access is a SIGSEGV.
  uint64_t v = 0;
  const kernel_testing::UserAccess r = m.UserLoad(t, b, &v);
  EXPECT_TRUE(r.sigsegv);
  EXPECT_NE(v, kSecret);
  EXPECT_EQ(m.DebugVm(), "");
}

// Two CPUs. CPU 1 caches the region for the process, then runs a kernel thread lazily
// with the process's mm still loaded. A flush that frees no tables (mprotect) skips the
// lazy CPU and its PDE-cache entry stays; munmap's freed_tables flush reaches it, it
// leaves the mm for init_mm (so no walk of it uses the stale entry), and when the process
// runs there again the PCID is flushed because the mm's tlb_gen moved.
TEST(PscLinux, FreedTablesFlushReachesTheLazyCpu) {
  BootedKernel m;
  task_struct* t = m.Spawn("t");
  task_struct* t2 = m.SpawnThread(t);
  m.RunAs(t, 0);
  m.RunAs(t2, 1);
  const unsigned long a = 0x600000000000UL;
  ASSERT_EQ(m.Mmap(t, a, 2 * PAGE_SIZE, kRW, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED), a);
  ASSERT_TRUE(m.UserStore(t2, a, 1).ok());
  ASSERT_TRUE(m.UserStore(t2, a + PAGE_SIZE, 2).ok());
  hw::Cpu* cpu1 = m.cpu(1);
  const uint16_t pcid1 = cpu1->pcid();
  const hw::VirtAddr va(a);
  ASSERT_NE(cpu1->psc().Peek(hw::PscLevel::kPde, va, pcid1), nullptr);

  task_struct* kt = m.SpawnKthread("kt");
  m.RunAs(t, 0);
  m.RunAs(kt, 1);  // lazy: CR3 still the process's
  ASSERT_TRUE(m.ks()->cpu_tlbstate_shared[1].is_lazy);
  ASSERT_EQ(cpu1->pcid(), pcid1);

  ASSERT_EQ(m.Mprotect(t, a, PAGE_SIZE, PROT_READ), 0);  // no tables freed: CPU 1 skipped
  EXPECT_NE(cpu1->psc().Peek(hw::PscLevel::kPde, va, pcid1), nullptr);

  ASSERT_EQ(m.Munmap(t, a, 2 * PAGE_SIZE), 0);  // freed_tables: CPU 1 is told
  EXPECT_EQ(m.ks()->cpu_tlbstate[1].loaded_mm, &m.ks()->init_mm);
  EXPECT_NE(cpu1->pcid(), pcid1);
  // A walk on CPU 1 now (a speculative one, say) starts at init_mm's tables.
  EXPECT_TRUE(cpu1->Translate(va + 7 * PAGE_SIZE, hw::AccessType::kRead).fault.page_fault());

  m.RunAs(t2, 1);  // back in the same slot, behind on tlb_gen: the PCID is flushed
  EXPECT_EQ(cpu1->pcid(), pcid1);
  EXPECT_EQ(cpu1->psc().Peek(hw::PscLevel::kPde, va, pcid1), nullptr);
  uint64_t v = 0;
  EXPECT_TRUE(m.UserLoad(t2, a + 7 * PAGE_SIZE, &v).sigsegv);
  EXPECT_EQ(m.DebugVm(), "");
}

}  // namespace
}  // namespace kernel
