// Tests of mm/arch/x86/init.cc and pgd_alloc's kernel half: swapper_pg_dir's direct map,
// the frames it lives in, every pgd sharing it, what a user access to it gets, and the
// TLB's global entries for it.
#include "mm/arch/x86/init.h"

#include <cstring>
#include <vector>

#include "gtest/gtest.h"
#include "hw/walker.h"
#include "mm/arch/x86/fault.h"
#include "mm/arch/x86/pgtable.h"
#include "mm/arch/x86/tlb.h"
#include "mm/kernel/task.h"
#include "mm/mm.h"
#include "mm/testing/kernel_fixture.h"

namespace kernel {
namespace {

using kernel_testing::BootedKernel;

constexpr pteval_t kLargeLeaf = _PAGE_PRESENT | _PAGE_RW | _PAGE_ACCESSED | _PAGE_DIRTY |
                                _PAGE_PSE | _PAGE_GLOBAL | _PAGE_NX;

pgd_t* Swapper(BootedKernel& k) { return k.ks()->init_mm.pgd; }

// A supervisor-mode software walk of init_mm's tables.
hw::WalkResult KernelPeek(BootedKernel& k, unsigned long va) {
  hw::PagingMode mode = k.cpu(0)->paging_mode();
  mode.user = false;
  return hw::PeekWalk(*k.ks()->phys, __pa(Swapper(k)), hw::VirtAddr(va), hw::AccessType::kRead,
                      mode);
}

TEST(KernelHalfTest, LayoutConstants) {
  EXPECT_EQ(pgd_index(PAGE_OFFSET), 273u);
  EXPECT_EQ(pgd_index(__START_KERNEL_map), 511u);
  EXPECT_EQ(KERNEL_PGD_PTRS, 239);
  EXPECT_EQ(pgprot_val(PAGE_KERNEL_LARGE), kLargeLeaf);
}

// 64 MiB: the pgd, one pud table and one pmd table of 32 2 MiB leaves: three frames, the
// ones after the zero page (the "kernel image"), reserved; the buddy allocator never had
// them.
TEST(KernelHalfTest, DirectMapOf64MiBUses2MiBPagesInTheFramesAfterTheZeroPage) {
  BootedKernel k(64ul << 20);
  const unsigned long max_pfn = k.ks()->max_pfn;
  pgd_t* pgd = Swapper(k);
  EXPECT_EQ(__pa(pgd) >> PAGE_SHIFT, 2u);
  for (int i = 0; i < PTRS_PER_PGD; ++i)
    if (i != 273) {
      EXPECT_EQ(pgd_val(pgd[i]), 0u) << "slot " << i;
    }
  const p4d_t p4d = *p4d_offset(pgd + 273, PAGE_OFFSET);
  EXPECT_EQ(p4d_flags(p4d), _PAGE_TABLE);
  EXPECT_EQ(p4d_pfn(p4d), 3u);
  pud_t* pud = p4d_pgtable(p4d);
  EXPECT_EQ(pud_flags(pud[0]), _PAGE_TABLE);
  EXPECT_EQ(pud_pfn(pud[0]), 4u);
  for (int i = 1; i < PTRS_PER_PUD; ++i) EXPECT_TRUE(pud_none(pud[i]));
  pmd_t* pmd = pud_pgtable(pud[0]);
  for (int i = 0; i < PTRS_PER_PMD; ++i) {
    if (i < 32) {
      EXPECT_EQ(pmd_flags(pmd[i]), kLargeLeaf) << i;
      EXPECT_EQ(pmd_pfn(pmd[i]), static_cast<unsigned long>(i) * 512) << i;
    } else {
      EXPECT_TRUE(pmd_none(pmd[i])) << i;
    }
  }
  for (unsigned long pfn = 2; pfn < 5; ++pfn) {
    EXPECT_TRUE(PageReserved(pfn_to_page(pfn))) << pfn;
    EXPECT_FALSE(PageTable(pfn_to_page(pfn))) << pfn;  // not pagetable_alloc'ed
  }
  EXPECT_FALSE(PageReserved(pfn_to_page(5)));
  EXPECT_FALSE(PageReserved(pfn_to_page(max_pfn - 1)));
  // The walk the CPU would do: PAGE_OFFSET + pa is pa, global, supervisor-only, NX.
  const hw::WalkResult r = KernelPeek(k, PAGE_OFFSET + 0x1234567);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r.PhysFor(hw::VirtAddr(PAGE_OFFSET + 0x1234567)).value(), 0x1234567u);
  EXPECT_EQ(r.size, hw::PageSize::k2M);
  EXPECT_TRUE(r.global);
  EXPECT_FALSE(r.user);
  EXPECT_TRUE(r.nx);
  EXPECT_TRUE(r.writable);
  EXPECT_FALSE(KernelPeek(k, PAGE_OFFSET + (64ul << 20)).ok());  // beyond memory
  EXPECT_EQ(k.DebugVm(), "");
}

// 1 GiB + 3 MiB: a 1 GiB leaf, then one 2 MiB leaf and 256 4 KiB pages of a pte table.
TEST(KernelHalfTest, DirectMapUsesTheLargestPagesThatFit) {
  BootedKernel k((1ul << 30) + (3ul << 20), 1);
  pgd_t* pgd = Swapper(k);
  pud_t* pud = p4d_pgtable(*p4d_offset(pgd + 273, PAGE_OFFSET));
  EXPECT_EQ(pud_flags(pud[0]), kLargeLeaf);
  EXPECT_EQ(pud_pfn(pud[0]), 0u);
  EXPECT_EQ(pud_flags(pud[1]), _PAGE_TABLE);
  pmd_t* pmd = pud_pgtable(pud[1]);
  EXPECT_EQ(pmd_flags(pmd[0]), kLargeLeaf);
  EXPECT_EQ(pmd_pfn(pmd[0]), (1ul << 30) >> PAGE_SHIFT);
  EXPECT_EQ(pmd_flags(pmd[1]), _PAGE_TABLE);
  EXPECT_TRUE(pmd_none(pmd[2]));
  pte_t* pte = pte_offset_kernel(pmd + 1, PAGE_OFFSET + (1ul << 30) + (2ul << 20));
  for (int i = 0; i < PTRS_PER_PTE; ++i) {
    if (i < 256) {
      EXPECT_EQ(pte_flags(pte[i]), pgprot_val(PAGE_KERNEL)) << i;
      EXPECT_EQ(pte_pfn(pte[i]), ((1ul << 30) + (2ul << 20)) / PAGE_SIZE + i) << i;
    } else {
      EXPECT_TRUE(pte_none(pte[i])) << i;
    }
  }
  const unsigned long last = (1ul << 30) + (3ul << 20) - 8;
  hw::WalkResult r = KernelPeek(k, PAGE_OFFSET + last);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r.size, hw::PageSize::k4K);
  EXPECT_EQ(r.PhysFor(hw::VirtAddr(PAGE_OFFSET + last)).value(), last);
  r = KernelPeek(k, PAGE_OFFSET + 0x3fffffff);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r.size, hw::PageSize::k1G);
  // pgd, pud, pmd, pte: frames 2..5.
  EXPECT_EQ(__pa(pgd) >> PAGE_SHIFT, 2u);
  EXPECT_EQ(pud_pfn(pud[1]), 4u);
  EXPECT_EQ(pmd_pfn(pmd[1]), 5u);
  EXPECT_TRUE(PageReserved(pfn_to_page(5)));
  EXPECT_FALSE(PageReserved(pfn_to_page(6)));
}

bool SharesKernelHalf(BootedKernel& k, const mm_struct* mm) {
  return std::memcmp(mm->pgd + KERNEL_PGD_BOUNDARY, Swapper(k) + KERNEL_PGD_BOUNDARY,
                     KERNEL_PGD_PTRS * sizeof(pgd_t)) == 0;
}

// pgd_alloc copies slots 273..511; slots 256..272 stay empty, as in swapper_pg_dir.
TEST(KernelHalfTest, EveryPgdSharesSwapperPgDirsKernelHalf) {
  BootedKernel k;
  task_struct* a = k.Spawn("a");
  task_struct* b = k.Fork(a);
  EXPECT_NE(a->mm->pgd, b->mm->pgd);
  for (const task_struct* t : {a, b}) {
    EXPECT_TRUE(SharesKernelHalf(k, t->mm));
    EXPECT_NE(pgd_val(t->mm->pgd[273]), 0u);
    for (int i = 256; i < KERNEL_PGD_BOUNDARY; ++i) EXPECT_EQ(pgd_val(t->mm->pgd[i]), 0u);
  }
  EXPECT_EQ(k.DebugVm(), "");
}

// A user-mode access to the direct map: present (the kernel half is mapped) but not user,
// so #PF with P|U[|W], and SIGSEGV/SEGV_MAPERR at that address (do_kern_addr_fault ->
// bad_area_nosemaphore).
TEST(KernelHalfTest, UserAccessToTheDirectMapIsSigsegv) {
  BootedKernel k;
  task_struct* t = k.Spawn("t");
  k.RunAs(t);
  uint64_t v = 0;
  kernel_testing::UserAccess r = k.UserLoad(t, PAGE_OFFSET, &v, 1);
  EXPECT_TRUE(r.sigsegv);
  ASSERT_EQ(r.pf_error_codes.size(), 1u);
  EXPECT_EQ(r.pf_error_codes[0], X86_PF_PROT | X86_PF_USER);
  EXPECT_EQ(t->last_si_code, SEGV_MAPERR);
  EXPECT_EQ(t->last_signal_addr, PAGE_OFFSET);
  EXPECT_EQ(t->thread.error_code, static_cast<unsigned long>(X86_PF_PROT | X86_PF_USER));
  t->last_signal = 0;
  r = k.UserStore(t, PAGE_OFFSET + 0x2000, 1, 1);
  EXPECT_TRUE(r.sigsegv);
  ASSERT_EQ(r.pf_error_codes.size(), 1u);
  EXPECT_EQ(r.pf_error_codes[0], X86_PF_PROT | X86_PF_USER | X86_PF_WRITE);
  EXPECT_EQ(t->last_signal_addr, PAGE_OFFSET + 0x2000);
  // Beyond the end of memory nothing is mapped: not present, reported as PROT anyway.
  t->last_signal = 0;
  r = k.UserLoad(t, PAGE_OFFSET + (1ul << 30), &v, 1);
  EXPECT_TRUE(r.sigsegv);
  ASSERT_EQ(r.pf_error_codes.size(), 1u);
  EXPECT_EQ(r.pf_error_codes[0], X86_PF_USER);
  EXPECT_EQ(t->thread.error_code, static_cast<unsigned long>(X86_PF_PROT | X86_PF_USER));
  // The failed walks left no TLB entry.
  EXPECT_EQ(k.cpu(t->on_cpu)->tlb().Peek(hw::VirtAddr(PAGE_OFFSET), k.cpu(t->on_cpu)->pcid()),
            nullptr);
  EXPECT_EQ(k.DebugVm(), "");
}

// Forks and exits free each pgd but never the shared tables: free pages return to the
// same count and swapper_pg_dir is untouched.
TEST(KernelHalfTest, ForkAndExitNeverFreeTheSharedTables) {
  BootedKernel k;
  task_struct* parent = k.Spawn("parent");
  std::vector<pgd_t> before(Swapper(k), Swapper(k) + PTRS_PER_PGD);
  const long free_before = k.FreePages();
  const long tables_before = k.stat(NR_PAGETABLE);
  for (int round = 0; round < 3; ++round) {
    std::vector<task_struct*> kids;
    for (int i = 0; i < 8; ++i) kids.push_back(k.Fork(parent));
    for (task_struct* c : kids) EXPECT_TRUE(SharesKernelHalf(k, c->mm));
    EXPECT_EQ(k.DebugVm(), "");
    for (task_struct* c : kids) k.ExitAndReap(c);
    EXPECT_EQ(k.FreePages(), free_before) << "round " << round;
    EXPECT_EQ(k.stat(NR_PAGETABLE), tables_before);
  }
  EXPECT_EQ(std::memcmp(before.data(), Swapper(k), PAGE_SIZE), 0);
  for (unsigned long pfn = 2; pfn < 5; ++pfn) {
    EXPECT_TRUE(PageReserved(pfn_to_page(pfn)));
    EXPECT_EQ(page_ref_count(pfn_to_page(pfn)), 1);
  }
  EXPECT_EQ(k.DebugVm(), "");
}

// The direct map's leaves are global: a kernel-mode access through the CPU caches a global
// entry, which survives a CR3 switch to another mm (as with PGE in Linux; the entries never
// change after boot, so nothing flushes them), while user entries are never global and a
// user access still faults on a hit of the global supervisor entry.
TEST(KernelHalfTest, DirectMapEntriesAreGlobalAndSurviveCr3Switches) {
  BootedKernel k;
  task_struct* a = k.Spawn("a");
  task_struct* b = k.Spawn("b");
  k.RunAs(a, 0);
  hw::Cpu* c = k.cpu(0);
  ASSERT_EQ(c->cpl(), 0);
  page* pg = alloc_page(GFP_KERNEL);
  ASSERT_NE(pg, nullptr);
  const unsigned long pa = page_to_pfn(pg) << PAGE_SHIFT;
  std::memcpy(__va(pa), "direct!", 8);
  char buf[8] = {};
  ASSERT_TRUE(c->Load(hw::VirtAddr(PAGE_OFFSET + pa), buf, 8).ok());
  EXPECT_STREQ(buf, "direct!");
  const hw::TlbEntry* e = c->tlb().Peek(hw::VirtAddr(PAGE_OFFSET + pa), c->pcid());
  ASSERT_NE(e, nullptr);
  EXPECT_TRUE(e->global);
  uint64_t v = 0;
  ASSERT_TRUE(k.UserStore(a, BootedKernel::kStackTop - 8, 7).ok());
  const uint16_t pcid_a = c->pcid();
  k.RunAs(b, 0);
  EXPECT_NE(c->pcid(), pcid_a);
  // The kernel entry is visible under b's PCID; a's user entry is not.
  e = c->tlb().Peek(hw::VirtAddr(PAGE_OFFSET + pa), c->pcid());
  ASSERT_NE(e, nullptr);
  EXPECT_TRUE(e->global);
  EXPECT_EQ(c->tlb().Peek(hw::VirtAddr(BootedKernel::kStackTop - 8), c->pcid()), nullptr);
  const hw::TlbEntry* ua = c->tlb().Peek(hw::VirtAddr(BootedKernel::kStackTop - 8), pcid_a);
  if (ua != nullptr) {
    EXPECT_FALSE(ua->global);
  }
  kernel_testing::UserAccess r = k.UserLoad(b, PAGE_OFFSET + pa, &v, 1);
  EXPECT_TRUE(r.sigsegv);
  ASSERT_EQ(r.pf_error_codes.size(), 1u);
  EXPECT_EQ(r.pf_error_codes[0], X86_PF_PROT | X86_PF_USER);
  // Only a full flush (INVPCID type 2 / a CR4.PGE toggle) drops it.
  c->tlb().FlushAll();
  EXPECT_EQ(c->tlb().Peek(hw::VirtAddr(PAGE_OFFSET + pa), c->pcid()), nullptr);
  __free_page(pg);
  EXPECT_EQ(k.DebugVm(), "");
}

// debug_vm checks both parts of the upper half: slots 256..272 stay empty, and 273..511 are
// swapper_pg_dir's.
TEST(KernelHalfTest, DebugVmCatchesAnEntryBelowTheBoundaryOrADifferentKernelSlot) {
  BootedKernel k;
  task_struct* t = k.Spawn("t");
  pgd_t* pgd = t->mm->pgd;
  const pgd_t saved_260 = pgd[260], saved_273 = pgd[273];
  pgd[260] = pgd[273];
  EXPECT_NE(k.DebugVm(false).find("pgd slot 260 below the kernel boundary"), std::string::npos);
  pgd[260] = saved_260;
  pgd[273] = __pgd(pgd_val(saved_273) ^ _PAGE_RW);
  EXPECT_NE(k.DebugVm(false).find("kernel pgd slot 273"), std::string::npos);
  pgd[273] = saved_273;
  EXPECT_EQ(k.DebugVm(), "");
}

}  // namespace
}  // namespace kernel
