// mm/vma_test.cc: VMA lookup, mmap placement and arguments, splitting and merging
// (checked against what Linux 6.x does), map_count and its limit.
#include <vector>

#include "gtest/gtest.h"
#include "mm/mm.h"
#include "mm/mmzone.h"
#include "mm/pagewalk.h"
#include "mm/sched_hooks.h"
#include "mm/testing/file_helpers.h"
#include "mm/testing/kernel_fixture.h"

namespace kernel {
namespace {

using kernel_testing::BootedKernel;

constexpr unsigned long kRW = PROT_READ | PROT_WRITE;
constexpr unsigned long kAnon = MAP_PRIVATE | MAP_ANONYMOUS;
long Err(unsigned long v) { return static_cast<long>(v); }

std::vector<std::pair<unsigned long, unsigned long>> Vmas(mm_struct* mm) {
  std::vector<std::pair<unsigned long, unsigned long>> out;
  for (auto& [start, vma] : mm->mm_mt) out.push_back({vma->vm_start, vma->vm_end});
  return out;
}

class VmaTest : public ::testing::Test {
 protected:
  VmaTest() : m_(16 << 20, 1) {}
  // A process whose address space starts empty: its [stack] is unmapped, so the VMAs
  // each test sees are its own.
  void SetUp() override {
    t_ = m_.Spawn("t");
    mm_ = t_->mm;
    ASSERT_EQ(m_.Munmap(t_, BootedKernel::kStackTop - BootedKernel::kStackSize,
                        BootedKernel::kStackSize),
              0);
    ASSERT_EQ(mm_->map_count, 0);
  }
  BootedKernel m_;
  task_struct* t_ = nullptr;
  mm_struct* mm_ = nullptr;
};

TEST_F(VmaTest, FindVmaEdges) {
  const unsigned long A = 0x100000, B = 0x200000;
  ASSERT_EQ(m_.Mmap(t_, A, 2 * PAGE_SIZE, kRW, kAnon | MAP_FIXED), A);
  ASSERT_EQ(m_.Mmap(t_, B, PAGE_SIZE, PROT_READ, kAnon | MAP_FIXED), B);
  vm_area_struct* va = vma_lookup(mm_, A);
  vm_area_struct* vb = vma_lookup(mm_, B);
  ASSERT_NE(va, nullptr);
  ASSERT_NE(vb, nullptr);
  EXPECT_EQ(find_vma(mm_, 0), va);                      // below everything: the first
  EXPECT_EQ(find_vma(mm_, A), va);
  EXPECT_EQ(find_vma(mm_, A + 2 * PAGE_SIZE - 1), va);  // last byte
  EXPECT_EQ(find_vma(mm_, A + 2 * PAGE_SIZE), vb);      // vm_end is exclusive
  EXPECT_EQ(find_vma(mm_, B - 1), vb);                  // in the gap: the next one
  EXPECT_EQ(find_vma(mm_, B + PAGE_SIZE), nullptr);     // above everything
  EXPECT_EQ(vma_lookup(mm_, B - 1), nullptr);
  EXPECT_EQ(vma_lookup(mm_, A + PAGE_SIZE), va);
  vm_area_struct* prev = nullptr;
  EXPECT_EQ(find_vma_prev(mm_, B, &prev), vb);
  EXPECT_EQ(prev, va);
  EXPECT_EQ(find_vma_prev(mm_, A, &prev), va);
  EXPECT_EQ(prev, nullptr);
  EXPECT_EQ(find_vma_prev(mm_, B + PAGE_SIZE, &prev), nullptr);
  EXPECT_EQ(prev, vb);
  EXPECT_EQ(find_vma_intersection(mm_, A + 2 * PAGE_SIZE, B), nullptr);
  EXPECT_EQ(find_vma_intersection(mm_, A + 2 * PAGE_SIZE, B + 1), vb);
  EXPECT_EQ(vma_next(mm_, va), vb);
  EXPECT_EQ(vma_next(mm_, vb), nullptr);
  EXPECT_EQ(vma_prev(mm_, vb), va);
}

TEST_F(VmaTest, TopDownPlacementMergesNeighbours) {
  const unsigned long base = mm_->mmap_base;
  unsigned long a = m_.Mmap(t_, 0, 2 * PAGE_SIZE, kRW, kAnon);
  EXPECT_EQ(a, base - 2 * PAGE_SIZE);
  unsigned long b = m_.Mmap(t_, 0, PAGE_SIZE, kRW, kAnon);
  EXPECT_EQ(b, a - PAGE_SIZE);
  EXPECT_EQ(mm_->map_count, 1);  // same flags, adjacent: one VMA
  unsigned long c = m_.Mmap(t_, 0, PAGE_SIZE, PROT_READ, kAnon);
  EXPECT_EQ(c, b - PAGE_SIZE);
  EXPECT_EQ(mm_->map_count, 2);  // different flags: no merge
  vm_area_struct* v = vma_lookup(mm_, a);
  EXPECT_EQ(v->vm_start, b);
  EXPECT_EQ(v->vm_end, base);
  EXPECT_EQ(v->vm_pgoff, b >> PAGE_SHIFT);
  EXPECT_EQ(v->vm_flags & VM_ACCESS_FLAGS, VM_READ | VM_WRITE);
  EXPECT_EQ(pgprot_val(v->vm_page_prot), pgprot_val(PAGE_COPY));  // COW: read-only PTEs
  EXPECT_EQ(mm_->total_vm, 4u);
  EXPECT_EQ(mm_->data_vm, 3u);
}

TEST_F(VmaTest, HintFixedAndNoReplace) {
  unsigned long hint = 0x7000000;
  EXPECT_EQ(m_.Mmap(t_, hint, PAGE_SIZE, kRW, kAnon), hint);
  // The hint is taken but occupied: the kernel picks elsewhere.
  unsigned long other = m_.Mmap(t_, hint, PAGE_SIZE, kRW, kAnon);
  EXPECT_NE(other, hint);
  EXPECT_FALSE(IS_ERR_VALUE(other));
  EXPECT_EQ(Err(m_.Mmap(t_, hint, PAGE_SIZE, kRW, kAnon | MAP_FIXED_NOREPLACE)), -EEXIST);
  ASSERT_TRUE(m_.UserStore(t_, hint, 9).ok());
  const unsigned long free_before = nr_free_pages();
  const long tables_before = m_.stat(NR_PAGETABLE);
  // MAP_FIXED replaces: the old page (and the tables only it used) are freed, and the new
  // mapping reads zero.
  EXPECT_EQ(m_.Mmap(t_, hint, PAGE_SIZE, PROT_READ, kAnon | MAP_FIXED), hint);
  EXPECT_EQ(m_.stat(NR_PAGETABLE), tables_before - 3);
  EXPECT_EQ(nr_free_pages(), free_before + 1 + 3);
  uint64_t v = 1;
  ASSERT_TRUE(m_.UserLoad(t_, hint, &v).ok());
  EXPECT_EQ(v, 0u);
  EXPECT_EQ(vma_lookup(mm_, hint)->vm_flags & VM_ACCESS_FLAGS, VM_READ);
  // Hints below vm.mmap_min_addr are raised to it (round_hint_to_min), root or not.
  EXPECT_EQ(m_.Mmap(t_, 0x1000, PAGE_SIZE, kRW, kAnon), kst().mmap_min_addr);
  EXPECT_EQ(m_.DebugVm(), "");
}

// security/min_addr.c + cap_mmap_addr: below vm.mmap_min_addr (dac_mmap_min_addr) a
// fixed mapping needs CAP_SYS_RAWIO. The default process is root with every capability
// (as the host's `mmap 0x1000 ... MAP_FIXED` by root returns 0x1000); a user without it
// gets EPERM; the limit is the machine's sysctl. Hints are raised to mmap_min_addr, at
// least CONFIG_LSM_MMAP_MIN_ADDR (the host, with vm.mmap_min_addr = 4096, raises a
// 0x3000 hint to 0x10000 and lets a user map 0x1000).
TEST_F(VmaTest, MmapMinAddrNeedsCapSysRawio) {
  ASSERT_EQ(kst().dac_mmap_min_addr, 65536u);
  ASSERT_EQ(kst().mmap_min_addr, 65536u);
  EXPECT_EQ(m_.Mmap(t_, 0x1000, PAGE_SIZE, kRW, kAnon | MAP_FIXED), 0x1000u);
  ASSERT_NE(vma_lookup(mm_, 0x1000), nullptr);
  task_struct* user = m_.Spawn("user", kernel_testing::TestCreds::User(1000, 1000));
  EXPECT_EQ(Err(m_.Mmap(user, 0x1000, PAGE_SIZE, kRW, kAnon | MAP_FIXED)), -EPERM);
  EXPECT_EQ(Err(m_.Mmap(user, 0xf000, PAGE_SIZE, kRW, kAnon | MAP_FIXED)), -EPERM);
  EXPECT_EQ(m_.Mmap(user, 0x20000, PAGE_SIZE, kRW, kAnon | MAP_FIXED), 0x20000u);
  // Lowered to 4096 (this host's setting): 0x1000 is allowed for the user, 0 is not,
  // and hints are still raised to 65536.
  kst().dac_mmap_min_addr = 4096;
  update_mmap_min_addr(&kst());
  EXPECT_EQ(kst().mmap_min_addr, 65536u);
  EXPECT_EQ(m_.Mmap(user, 0x1000, PAGE_SIZE, kRW, kAnon | MAP_FIXED), 0x1000u);
  EXPECT_EQ(Err(m_.Mmap(user, 0, PAGE_SIZE, kRW, kAnon | MAP_FIXED)), -EPERM);
  EXPECT_EQ(m_.Mmap(t_, 0, PAGE_SIZE, kRW, kAnon | MAP_FIXED), 0u);  // root may map page 0
  EXPECT_EQ(m_.Mmap(user, 0x3000, PAGE_SIZE, kRW, kAnon), 0x10000u);
  // Raised above the LSM minimum: that value is both limits; hints are page-aligned up.
  kst().dac_mmap_min_addr = 0x30800;
  update_mmap_min_addr(&kst());
  EXPECT_EQ(kst().mmap_min_addr, 0x30800u);
  EXPECT_EQ(m_.Mmap(user, 0x2000, PAGE_SIZE, kRW, kAnon), 0x31000u);
  EXPECT_EQ(Err(m_.Mmap(user, 0x30000, PAGE_SIZE, kRW, kAnon | MAP_FIXED)), -EPERM);
  EXPECT_EQ(m_.DebugVm(), "");
}

TEST_F(VmaTest, ArgumentErrors) {
  EXPECT_EQ(Err(m_.Mmap(t_, 0, 0, kRW, kAnon)), -EINVAL);                     // len 0
  EXPECT_EQ(Err(m_.Mmap(t_, 0x100001, PAGE_SIZE, kRW, kAnon | MAP_FIXED)), -EINVAL);
  EXPECT_EQ(Err(m_.Mmap(t_, 0, PAGE_SIZE, kRW, MAP_ANONYMOUS)), -EINVAL);    // no type
  EXPECT_EQ(Err(m_.Mmap(t_, 0, PAGE_SIZE, kRW, MAP_SHARED | MAP_ANONYMOUS | MAP_GROWSDOWN)),
            -EINVAL);  // a shared stack
  EXPECT_EQ(Err(m_.Mmap(t_, 0, TASK_SIZE + PAGE_SIZE, kRW, kAnon)), -ENOMEM);
  EXPECT_EQ(Err(m_.Mmap(t_, 0, ~0UL - 10, kRW, kAnon)), -ENOMEM);            // len overflows
  EXPECT_EQ(Err(m_.Mmap(t_, TASK_SIZE - PAGE_SIZE, 2 * PAGE_SIZE, kRW, kAnon | MAP_FIXED)),
            -ENOMEM);
  EXPECT_EQ(m_.Munmap(t_, 0x100001, PAGE_SIZE), -EINVAL);
  EXPECT_EQ(m_.Munmap(t_, 0x100000, 0), -EINVAL);
  EXPECT_EQ(m_.Munmap(t_, 0x100000, PAGE_SIZE), 0);  // nothing mapped: fine
  EXPECT_EQ(m_.Mprotect(t_, 0x100001, PAGE_SIZE, PROT_READ), -EINVAL);
  EXPECT_EQ(m_.Mprotect(t_, 0x100000, 0, PROT_READ), 0);
  EXPECT_EQ(m_.Mprotect(t_, 0x100000, PAGE_SIZE, PROT_READ), -ENOMEM);  // unmapped
  EXPECT_EQ(m_.Mprotect(t_, 0x100000, PAGE_SIZE, 0x10), -EINVAL);       // unknown bit
  ASSERT_EQ(m_.Mmap(t_, 0x100000, PAGE_SIZE, kRW, kAnon | MAP_FIXED), 0x100000u);
  ASSERT_EQ(m_.Mmap(t_, 0x102000, PAGE_SIZE, kRW, kAnon | MAP_FIXED), 0x102000u);
  EXPECT_EQ(m_.Mprotect(t_, 0x100000, 3 * PAGE_SIZE, PROT_READ), -ENOMEM);  // a hole
  // The first VMA was changed before the hole was found (as in Linux).
  EXPECT_EQ(mm_->map_count, 2);
  EXPECT_EQ(vma_lookup(mm_, 0x100000)->vm_flags & VM_ACCESS_FLAGS, VM_READ);
  // A range that starts in the hole: -ENOMEM and nothing changes. One that runs past the
  // last VMA: the VMA changes, then -ENOMEM (measured on 6.18: same three results).
  EXPECT_EQ(m_.Mprotect(t_, 0x101000, 2 * PAGE_SIZE, PROT_WRITE), -ENOMEM);
  EXPECT_EQ(vma_lookup(mm_, 0x102000)->vm_flags & VM_ACCESS_FLAGS, VM_READ | VM_WRITE);
  EXPECT_EQ(m_.Mprotect(t_, 0x102000, 2 * PAGE_SIZE, PROT_READ), -ENOMEM);
  EXPECT_EQ(vma_lookup(mm_, 0x102000)->vm_flags & VM_ACCESS_FLAGS, VM_READ);
}

// arch_validate_prot (generic, x86 has no own): PROT_SEM (0x8) is accepted and ignored.
TEST_F(VmaTest, MprotectAcceptsProtSem) {
  ASSERT_EQ(m_.Mmap(t_, 0x100000, PAGE_SIZE, kRW, kAnon | MAP_FIXED), 0x100000u);
  EXPECT_EQ(m_.Mprotect(t_, 0x100000, PAGE_SIZE, PROT_READ | PROT_SEM), 0);
  EXPECT_EQ(vma_lookup(mm_, 0x100000)->vm_flags & VM_ACCESS_FLAGS, VM_READ);
  EXPECT_EQ(m_.Mprotect(t_, 0x100000, PAGE_SIZE, PROT_SEM), 0);
  EXPECT_EQ(vma_lookup(mm_, 0x100000)->vm_flags & VM_ACCESS_FLAGS, VM_NONE);
}

// mprotect_fixup (6.5+): an anonymous private mapping with no anon_vma (never faulted)
// gives its VM_ACCOUNT back when it becomes read-only, so it merges with a read-only
// neighbour; once faulted, the charge stays and the two stay apart.
TEST_F(VmaTest, MprotectReadOnlyDropsAccountOfUnfaultedAnon) {
  const unsigned long a = 0x100000;
  ASSERT_EQ(m_.Mmap(t_, a, 2 * PAGE_SIZE, kRW, kAnon | MAP_FIXED), a);
  ASSERT_EQ(m_.Mmap(t_, a + 2 * PAGE_SIZE, PAGE_SIZE, PROT_READ, kAnon | MAP_FIXED),
            a + 2 * PAGE_SIZE);
  ASSERT_EQ(mm_->map_count, 2);
  ASSERT_TRUE(vma_lookup(mm_, a)->vm_flags & VM_ACCOUNT);
  ASSERT_EQ(m_.Mprotect(t_, a, 2 * PAGE_SIZE, PROT_READ), 0);
  EXPECT_EQ(mm_->map_count, 1);
  EXPECT_EQ(Vmas(mm_)[0], std::make_pair(a, a + 3 * PAGE_SIZE));
  EXPECT_FALSE(vma_lookup(mm_, a)->vm_flags & VM_ACCOUNT);
  // Writable again: charged again (and split from nothing: it is the whole VMA).
  ASSERT_EQ(m_.Mprotect(t_, a, 3 * PAGE_SIZE, kRW), 0);
  EXPECT_TRUE(vma_lookup(mm_, a)->vm_flags & VM_ACCOUNT);
  // Faulted: it has an anon_vma, so read-only keeps VM_ACCOUNT and does not merge with
  // a fresh read-only mapping (which has none).
  ASSERT_TRUE(m_.UserStore(t_, a, 1).ok());
  ASSERT_EQ(m_.Mmap(t_, a + 3 * PAGE_SIZE, PAGE_SIZE, PROT_READ, kAnon | MAP_FIXED),
            a + 3 * PAGE_SIZE);
  ASSERT_EQ(m_.Mprotect(t_, a, 3 * PAGE_SIZE, PROT_READ), 0);
  EXPECT_TRUE(vma_lookup(mm_, a)->vm_flags & VM_ACCOUNT);
  EXPECT_EQ(mm_->map_count, 2);
  EXPECT_EQ(m_.DebugVm(), "");
}

// ksys_mmap_pgoff / do_mmap's MAP_SHARED_VALIDATE and MAP_HUGETLB rules, with the
// results measured on the 6.18 host (vm.nr_hugepages = 0, no 1 GiB hstate).
TEST_F(VmaTest, SharedValidateAndHugetlbWithoutAPool) {
  // Anonymous: MAP_SHARED_VALIDATE is not a valid type (-EINVAL, unknown flags or not);
  // plain MAP_SHARED and MAP_PRIVATE ignore an unknown bit.
  EXPECT_EQ(Err(m_.Mmap(t_, 0, PAGE_SIZE, kRW, MAP_SHARED_VALIDATE | MAP_ANONYMOUS)), -EINVAL);
  EXPECT_EQ(Err(m_.Mmap(t_, 0, PAGE_SIZE, kRW, MAP_SHARED_VALIDATE | MAP_ANONYMOUS | 0x400000)),
            -EINVAL);
  EXPECT_FALSE(IS_ERR_VALUE(m_.Mmap(t_, 0, PAGE_SIZE, kRW, MAP_SHARED | MAP_ANONYMOUS | 0x400000)));
  EXPECT_FALSE(IS_ERR_VALUE(m_.Mmap(t_, 0, PAGE_SIZE, kRW, kAnon | 0x400000)));
  const int maps = mm_->map_count;
  // Anonymous MAP_HUGETLB: the 2 MiB size (default or MAP_HUGE_2MB) has no pages: -ENOMEM,
  // whatever the type or protection; other sizes have no hstate: -EINVAL.
  EXPECT_EQ(Err(m_.Mmap(t_, 0, 2UL << 20, kRW, kAnon | MAP_HUGETLB)), -ENOMEM);
  EXPECT_EQ(Err(m_.Mmap(t_, 0, PAGE_SIZE, kRW, kAnon | MAP_HUGETLB)), -ENOMEM);
  EXPECT_EQ(Err(m_.Mmap(t_, 0, 2UL << 20, kRW, MAP_SHARED | MAP_ANONYMOUS | MAP_HUGETLB)),
            -ENOMEM);
  EXPECT_EQ(Err(m_.Mmap(t_, 0, 2UL << 20, kRW,
                        MAP_SHARED_VALIDATE | MAP_ANONYMOUS | MAP_HUGETLB)),
            -ENOMEM);
  EXPECT_EQ(Err(m_.Mmap(t_, 0, 2UL << 20, PROT_NONE, kAnon | MAP_HUGETLB)), -ENOMEM);
  EXPECT_EQ(Err(m_.Mmap(t_, 0, 2UL << 20, kRW, kAnon | MAP_HUGETLB | MAP_HUGE_2MB)), -ENOMEM);
  EXPECT_EQ(Err(m_.Mmap(t_, 0, 1UL << 30, kRW, kAnon | MAP_HUGETLB | MAP_HUGE_1GB)), -EINVAL);
  EXPECT_EQ(Err(m_.Mmap(t_, 0, 2UL << 20, kRW, kAnon | MAP_HUGETLB | (16UL << MAP_HUGE_SHIFT))),
            -EINVAL);
  EXPECT_EQ(Err(m_.Mmap(t_, 0, 0, kRW, kAnon | MAP_HUGETLB)), -EINVAL);
  EXPECT_EQ(Err(m_.Mmap(t_, 0x400001000, 2UL << 20, kRW, kAnon | MAP_HUGETLB | MAP_FIXED)),
            -EINVAL);
  EXPECT_EQ(Err(m_.Mmap(t_, 0x400000000, 2UL << 20, kRW, kAnon | MAP_HUGETLB | MAP_FIXED)),
            -ENOMEM);
  EXPECT_EQ(Err(m_.Mmap(t_, 0, 2UL << 20, kRW, MAP_ANONYMOUS | MAP_HUGETLB)), -EINVAL);
  EXPECT_EQ(mm_->map_count, maps);
}

// special_mapping_split: [vvar] is one piece. munmap, mprotect or MAP_FIXED over a part
// of it is -EINVAL (6.18 host: the same); the whole VMA can change, and an mprotect that
// changes nothing needs no split.
TEST_F(VmaTest, SpecialMappingRefusesSplit) {
  m_.RunAs(t_);
  unsigned long v = map_vvar(0);
  ASSERT_FALSE(IS_ERR_VALUE(v));
  vm_area_struct* vma = vma_lookup(mm_, v);
  ASSERT_NE(vma, nullptr);
  const unsigned long len = vma->vm_end - vma->vm_start;
  ASSERT_GT(len, PAGE_SIZE);
  const int maps = mm_->map_count;
  EXPECT_EQ(m_.Mprotect(t_, v, PAGE_SIZE, PROT_READ), 0);  // no change, no split
  EXPECT_EQ(m_.Mprotect(t_, v, PAGE_SIZE, PROT_NONE), -EINVAL);
  EXPECT_EQ(m_.Munmap(t_, v, PAGE_SIZE), -EINVAL);
  EXPECT_EQ(m_.Munmap(t_, v + PAGE_SIZE, PAGE_SIZE), -EINVAL);
  EXPECT_EQ(Err(m_.Mmap(t_, v + PAGE_SIZE, PAGE_SIZE, kRW, kAnon | MAP_FIXED)), -EINVAL);
  EXPECT_EQ(mm_->map_count, maps);
  EXPECT_EQ(vma_lookup(mm_, v)->vm_end, v + len);
  EXPECT_EQ(m_.Mprotect(t_, v, len, PROT_NONE), 0);  // the whole VMA
  EXPECT_EQ(m_.Munmap(t_, v, len), 0);
  EXPECT_EQ(mm_->map_count, maps - 1);
  EXPECT_EQ(m_.DebugVm(), "");
}

// arch_get_unmapped_area_topdown falls back to the bottom-up search (arch_get_unmapped_area
// from TASK_UNMAPPED_BASE) when nothing fits below mmap_base: the lowest gap above it.
TEST_F(VmaTest, TopDownFallsBackToBottomUp) {
  const unsigned long base = mm_->mmap_base;
  ASSERT_NE(base, 0u);
  // One PROT_NONE VMA fills everything from mmap_min_addr up to mmap_base.
  const unsigned long low = kst().mmap_min_addr;
  ASSERT_EQ(m_.Mmap(t_, low, base - low, PROT_NONE, kAnon | MAP_FIXED | MAP_NORESERVE), low);
  // And one above it, two pages later: the bottom-up search finds the two-page gap at
  // mmap_base first (the top-down one over [mmap_base, TASK_SIZE) would pick the top).
  ASSERT_EQ(m_.Mmap(t_, base + 2 * PAGE_SIZE, PAGE_SIZE, PROT_NONE, kAnon | MAP_FIXED),
            base + 2 * PAGE_SIZE);
  // (The gap below mmap_min_addr is never searched, even for root.)
  EXPECT_EQ(m_.Mmap(t_, 0, 2 * PAGE_SIZE, PROT_READ, kAnon), base);
  EXPECT_EQ(m_.Mmap(t_, 0, 2 * PAGE_SIZE, PROT_READ, kAnon), base + 3 * PAGE_SIZE);
  EXPECT_EQ(m_.DebugVm(), "");
}

TEST_F(VmaTest, FlagsFromMmapArguments) {
  unsigned long a = m_.Mmap(t_, 0, PAGE_SIZE, kRW, kAnon | MAP_NORESERVE);
  EXPECT_TRUE(vma_lookup(mm_, a)->vm_flags & VM_NORESERVE);
  EXPECT_FALSE(vma_lookup(mm_, a)->vm_flags & VM_ACCOUNT);
  unsigned long b = m_.Mmap(t_, 0x20000000, 4 * PAGE_SIZE, kRW, kAnon | MAP_GROWSDOWN);
  EXPECT_TRUE(vma_lookup(mm_, b)->vm_flags & VM_GROWSDOWN);
  EXPECT_TRUE(vma_lookup(mm_, b)->vm_flags & VM_ACCOUNT);
  // The stack guard gap keeps a hinted mapping from ending right below it.
  unsigned long c = m_.Mmap(t_, b - PAGE_SIZE, PAGE_SIZE, kRW, kAnon);
  EXPECT_NE(c, b - PAGE_SIZE);
  unsigned long x = m_.Mmap(t_, 0, PAGE_SIZE, PROT_EXEC, kAnon);
  EXPECT_EQ(mm_->exec_vm, 1u);
  // --x is readable at the PTE level on x86; -w- private is a read-only (COW) PTE.
  EXPECT_EQ(pgprot_val(vma_lookup(mm_, x)->vm_page_prot), pgprot_val(PAGE_READONLY_EXEC));
  EXPECT_EQ(pgprot_val(vm_get_page_prot(VM_WRITE)), pgprot_val(PAGE_COPY));
  EXPECT_EQ(pgprot_val(vm_get_page_prot(VM_NONE)), pgprot_val(PAGE_NONE));
  EXPECT_EQ(pgprot_val(vm_get_page_prot(VM_SHARED | VM_WRITE)), pgprot_val(PAGE_SHARED));
}

TEST_F(VmaTest, MprotectMiddleSplitsInThreeAndRestoringMergesBack) {
  unsigned long a = m_.Mmap(t_, 0, 3 * PAGE_SIZE, kRW, kAnon);
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(m_.UserStore(t_, a + i * PAGE_SIZE, i).ok());
  ASSERT_EQ(m_.Mprotect(t_, a + PAGE_SIZE, PAGE_SIZE, PROT_READ), 0);
  EXPECT_EQ(mm_->map_count, 3);
  auto vmas = Vmas(mm_);
  ASSERT_EQ(vmas.size(), 3u);
  EXPECT_EQ(vmas[0], std::make_pair(a, a + PAGE_SIZE));
  EXPECT_EQ(vmas[1], std::make_pair(a + PAGE_SIZE, a + 2 * PAGE_SIZE));
  EXPECT_EQ(vma_lookup(mm_, a + PAGE_SIZE)->vm_pgoff, (a >> PAGE_SHIFT) + 1);
  EXPECT_FALSE(pte_write(*mm_find_pte(mm_, a + PAGE_SIZE)));
  EXPECT_TRUE(pte_write(*mm_find_pte(mm_, a)));
  EXPECT_EQ(m_.DebugVm(), "");
  ASSERT_EQ(m_.Mprotect(t_, a + PAGE_SIZE, PAGE_SIZE, kRW), 0);
  EXPECT_EQ(mm_->map_count, 1);
  EXPECT_EQ(Vmas(mm_)[0], std::make_pair(a, a + 3 * PAGE_SIZE));
  // The exclusive anon page got its write bit back without a fault.
  EXPECT_TRUE(pte_write(*mm_find_pte(mm_, a + PAGE_SIZE)));
  EXPECT_EQ(m_.DebugVm(), "");
}

TEST_F(VmaTest, MprotectEdgesMergeWithNeighbours) {
  unsigned long a = m_.Mmap(t_, 0, 4 * PAGE_SIZE, kRW, kAnon);
  ASSERT_EQ(m_.Mprotect(t_, a, 2 * PAGE_SIZE, PROT_READ), 0);  // split: [RO RO][RW RW]
  EXPECT_EQ(mm_->map_count, 2);
  ASSERT_EQ(m_.Mprotect(t_, a + 2 * PAGE_SIZE, PAGE_SIZE, PROT_READ), 0);  // merges left
  EXPECT_EQ(mm_->map_count, 2);
  EXPECT_EQ(vma_lookup(mm_, a)->vm_end, a + 3 * PAGE_SIZE);
  ASSERT_EQ(m_.Mprotect(t_, a + 2 * PAGE_SIZE, PAGE_SIZE, kRW), 0);  // merges right
  EXPECT_EQ(mm_->map_count, 2);
  EXPECT_EQ(vma_lookup(mm_, a + 3 * PAGE_SIZE)->vm_start, a + 2 * PAGE_SIZE);
  ASSERT_EQ(m_.Mprotect(t_, a, 4 * PAGE_SIZE, PROT_NONE), 0);  // both become one
  EXPECT_EQ(mm_->map_count, 1);
  uint64_t v;
  EXPECT_TRUE(m_.UserLoad(t_, a, &v).sigsegv);
  EXPECT_EQ(m_.DebugVm(), "");
}

// Records the VMA layout at every preemption point while installed as the scheduler (the
// lock entry points then take their full paths, each lock and unlock a point), and checks
// that the layout changes only inside `lock`'s write section: between a point where it
// is about to be taken and the point just after it is released (vma_prepare /
// vma_complete, mm/vma.c), never while only mmap_lock is held.
class LayoutWatch : public sched_hooks {
 public:
  LayoutWatch(mm_struct* mm, const void* lock) : mm_(mm), lock_(lock), last_(Vmas(mm)) {
    kst().sched = this;
  }
  ~LayoutWatch() override { kst().sched = nullptr; }
  void preempt_point(sched_point_kind kind, const void* obj, const char* name) override {
    auto now = Vmas(mm_);
    if (now != last_) {
      ++changes_;
      // Changed since the previous point: that point took `lock` (or it was held
      // there), and this one has just released it.
      EXPECT_TRUE(inside_ && kind == SCHED_POINT_UNLOCK && obj == lock_)
          << "VMA bounds changed outside the lock, seen at " << sched_point_name(kind) << " "
          << (name ? name : "");
    }
    if (obj == lock_) inside_ = kind == SCHED_POINT_LOCK;
    last_ = std::move(now);
  }
  void wait(const void*, const char* name, bool (*cond)(const void*), const void* arg) override {
    ASSERT_TRUE(cond(arg)) << "would sleep on " << name;
  }
  void ipi_raised(int) override {}
  int changes() const { return changes_; }

 private:
  mm_struct* mm_;
  const void* lock_;
  std::vector<std::pair<unsigned long, unsigned long>> last_;
  bool inside_ = false;
  int changes_ = 0;
};

TEST_F(VmaTest, MergesAndSplitsMoveBoundsUnderTheAnonVmaLock) {
  unsigned long a = m_.Mmap(t_, 0, 4 * PAGE_SIZE, kRW, kAnon);
  for (int i = 0; i < 4; ++i) ASSERT_TRUE(m_.UserStore(t_, a + i * PAGE_SIZE, i).ok());
  anon_vma* av = vma_lookup(mm_, a)->anon_vma;
  ASSERT_NE(av, nullptr);
  {
    LayoutWatch watch(mm_, &av->root->rwsem);
    ASSERT_EQ(m_.Mprotect(t_, a, 2 * PAGE_SIZE, PROT_READ), 0);              // split
    ASSERT_EQ(m_.Mprotect(t_, a + 2 * PAGE_SIZE, PAGE_SIZE, PROT_READ), 0);  // prev grows
    ASSERT_EQ(m_.Mprotect(t_, a + 2 * PAGE_SIZE, PAGE_SIZE, kRW), 0);        // next grows back
    ASSERT_EQ(m_.Mprotect(t_, a + PAGE_SIZE, PAGE_SIZE, kRW), 0);  // vma shrinks, next grows
    ASSERT_EQ(m_.Mprotect(t_, a, PAGE_SIZE, kRW), 0);  // vma and next become one
    // Each of the five moved bounds exactly once, each time under the lock.
    EXPECT_EQ(watch.changes(), 5);
  }
  EXPECT_EQ(mm_->map_count, 1);
  EXPECT_EQ(Vmas(mm_)[0], std::make_pair(a, a + 4 * PAGE_SIZE));
  EXPECT_EQ(m_.DebugVm(), "");
}

TEST_F(VmaTest, FileVmaMergesMoveBoundsUnderIMmapRwsem) {
  file* f = kernel_testing::MakeTestFile("merge", 3);
  ASSERT_FALSE(IS_ERR(f));
  m_.RunAs(t_);
  unsigned long a = vm_mmap_pgoff(f, 0, 3 * PAGE_SIZE, PROT_READ, MAP_SHARED, 0);
  ASSERT_FALSE(IS_ERR_VALUE(a));
  {
    LayoutWatch watch(mm_, &f->f_mapping->i_mmap_rwsem);
    ASSERT_EQ(m_.Mprotect(t_, a + PAGE_SIZE, PAGE_SIZE, PROT_NONE), 0);  // split twice
    ASSERT_EQ(m_.Mprotect(t_, a + PAGE_SIZE, PAGE_SIZE, PROT_READ), 0);  // all three merge
    EXPECT_EQ(watch.changes(), 3);
  }
  EXPECT_EQ(mm_->map_count, 1);
  EXPECT_EQ(Vmas(mm_)[0], std::make_pair(a, a + 3 * PAGE_SIZE));
  EXPECT_EQ(m_.Munmap(t_, a, 3 * PAGE_SIZE), 0);
  fput(f);
}

TEST_F(VmaTest, MunmapMiddleSplitsAndRefillMerges) {
  unsigned long a = m_.Mmap(t_, 0, 3 * PAGE_SIZE, kRW, kAnon);
  ASSERT_EQ(m_.Munmap(t_, a + PAGE_SIZE, PAGE_SIZE), 0);
  EXPECT_EQ(mm_->map_count, 2);
  EXPECT_EQ(mm_->total_vm, 2u);
  // Filling the hole with the same flags merges all three back into one.
  ASSERT_EQ(m_.Mmap(t_, a + PAGE_SIZE, PAGE_SIZE, kRW, kAnon | MAP_FIXED), a + PAGE_SIZE);
  EXPECT_EQ(mm_->map_count, 1);
  EXPECT_EQ(Vmas(mm_)[0], std::make_pair(a, a + 3 * PAGE_SIZE));
  // munmap across several VMAs.
  ASSERT_EQ(m_.Mprotect(t_, a + PAGE_SIZE, PAGE_SIZE, PROT_READ), 0);
  ASSERT_EQ(m_.Munmap(t_, a, 3 * PAGE_SIZE), 0);
  EXPECT_EQ(mm_->map_count, 0);
  EXPECT_EQ(mm_->total_vm, 0u);
}

TEST_F(VmaTest, MapCountLimit) {
  const int limit = kst().sysctl_max_map_count;
  ASSERT_EQ(limit, DEFAULT_MAX_MAP_COUNT);
  // Non-adjacent one-page mappings, each its own VMA, placed by hint.
  const unsigned long base = 0x100000000UL;
  int n = 0;
  for (;; ++n) {
    unsigned long want = base + 2UL * n * PAGE_SIZE;
    unsigned long got = m_.Mmap(t_, want, PAGE_SIZE, kRW, kAnon);
    if (IS_ERR_VALUE(got)) {
      EXPECT_EQ(Err(got), -ENOMEM);
      break;
    }
    ASSERT_EQ(got, want);
    ASSERT_LT(n, limit + 10);
  }
  // do_mmap refuses only when map_count is already above the limit.
  EXPECT_EQ(n, limit + 1);
  EXPECT_EQ(mm_->map_count, limit + 1);
  ASSERT_EQ(m_.Munmap(t_, base, 2 * PAGE_SIZE * 3), 0);  // three VMAs go
  EXPECT_EQ(mm_->map_count, limit - 2);
  // A three-page VMA; at the limit, splitting it is refused.
  unsigned long big = m_.Mmap(t_, 0, 3 * PAGE_SIZE, kRW, kAnon);
  ASSERT_FALSE(IS_ERR_VALUE(big));
  ASSERT_EQ(m_.Mmap(t_, base, PAGE_SIZE, kRW, kAnon | MAP_FIXED), base);
  EXPECT_EQ(mm_->map_count, limit);
  EXPECT_EQ(m_.Mprotect(t_, big + PAGE_SIZE, PAGE_SIZE, PROT_READ), -ENOMEM);
  EXPECT_EQ(m_.Munmap(t_, big + PAGE_SIZE, PAGE_SIZE), -ENOMEM);
  // Unmapping a whole edge needs one split only... which is also refused at the limit,
  // but removing the whole VMA is always allowed.
  EXPECT_EQ(m_.Munmap(t_, big, 3 * PAGE_SIZE), 0);
  EXPECT_EQ(mm_->map_count, limit - 1);
}

}  // namespace
}  // namespace kernel
