// Tests of mm/process_vm_access.cc on a booted kernel: the batching of remote pins
// (1024 pages, or the run-time knob), what the test hooks see between pin and copy (the
// pins keep unmapped frames alive), the side effects of pinning before copying, and that
// every call leaves the pins balanced. The error table and partial-transfer rule are
// tests/pvm's; here each level of the port is checked where it is easiest to see.
#include "mm/process_vm_access.h"

#include <cstring>
#include <string>
#include <utility>
#include <vector>

#include "gtest/gtest.h"
#include "hw/pattern.h"
#include "mm/arch/x86/uaccess.h"
#include "mm/fault_inject.h"
#include "mm/lockdep.h"
#include "mm/mm.h"
#include "mm/pagewalk.h"
#include "mm/testing/kernel_fixture.h"
#include "mm/trace.h"

namespace kernel {
namespace {

using kernel_testing::BootedKernel;
using kernel_testing::TestCreds;

constexpr unsigned long kR = 0x200000000000UL;        // the target's mappings
constexpr unsigned long kL = 0x300000000000UL;        // the caller's buffers
constexpr unsigned long kScratch = 0x100000000000UL;  // the caller's iovec arrays
constexpr unsigned long kScratchPages = 16;

void __user* U(unsigned long a) { return reinterpret_cast<void __user*>(a); }

uint8_t Pat(unsigned long a) { return hw::PatternByte(a); }

enum class Dir { kRead, kWrite };

struct Batch {
  unsigned long start;
  long pinned;
};

class PvmTest : public ::testing::Test {
 protected:
  void SetUp() override {
    caller_ = k_.Spawn("caller");
    target_ = k_.Spawn("target");
    MapIn(caller_, kScratch, kScratchPages, PROT_READ | PROT_WRITE);
    // Touched now, so that writing the iovec arrays allocates nothing during a test.
    FillByte(caller_, kScratch, kScratchPages * PAGE_SIZE, 0);
    hooks_.after_pin = [this](mm_struct* mm, unsigned long start, long pinned, page** pages) {
      EXPECT_FALSE(rwsem_is_locked(&mm->mmap_lock));  // the copy runs unlocked
      EXPECT_EQ(lockdep_depth(current()), 0);          // holding no lock at all
      EXPECT_EQ(preempt_count(), 0);
      batches_.push_back({start, pinned});
      if (on_pin_) on_pin_(mm, start, pinned, pages);
    };
    ks()->pvm_hooks = &hooks_;
  }
  void TearDown() override {
    ks()->pvm_hooks = nullptr;
    EXPECT_EQ(k_.DebugVm(), "");
  }
  kernel_state* ks() { return k_.ks(); }

  void MapIn(task_struct* t, unsigned long addr, unsigned long pages, unsigned long prot) {
    ASSERT_EQ(k_.Mmap(t, addr, pages * PAGE_SIZE, prot, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED),
              addr);
  }
  void Unmap(task_struct* t, unsigned long addr, unsigned long pages) {
    k_.RunAs(t);
    ASSERT_EQ(vm_munmap(addr, pages * PAGE_SIZE), 0);
  }
  // The pattern (by address) written into t's memory as t would write it.
  void FillPattern(task_struct* t, unsigned long addr, unsigned long len) {
    std::vector<uint8_t> v(len);
    for (unsigned long i = 0; i < len; ++i) v[i] = Pat(addr + i);
    k_.RunAs(t);
    ASSERT_EQ(copy_to_user(U(addr), v.data(), len), 0u);
  }
  void FillByte(task_struct* t, unsigned long addr, unsigned long len, uint8_t b) {
    std::vector<uint8_t> v(len, b);
    k_.RunAs(t);
    ASSERT_EQ(copy_to_user(U(addr), v.data(), len), 0u);
  }
  std::vector<uint8_t> Read(task_struct* t, unsigned long addr, unsigned long len) {
    std::vector<uint8_t> v(len);
    k_.RunAs(t);
    EXPECT_EQ(copy_from_user(v.data(), U(addr), len), 0u);
    return v;
  }
  // The byte at i of `got` must be the pattern of address base + i, for i < n.
  static ::testing::AssertionResult IsPattern(const std::vector<uint8_t>& got, unsigned long base,
                                              unsigned long n) {
    for (unsigned long i = 0; i < n; ++i) {
      if (got[i] != Pat(base + i))
        return ::testing::AssertionFailure() << "byte " << i << " got " << int(got[i])
                                             << " want " << int(Pat(base + i));
    }
    return ::testing::AssertionSuccess();
  }

  // process_vm_readv/writev(target, local, remote, flags) made by `caller`, with both
  // arrays in the caller's memory. Checks the pins are balanced afterwards.
  long Call(Dir dir, const std::vector<iovec>& local, const std::vector<iovec>& remote,
            unsigned long flags = 0, task_struct* caller = nullptr, task_struct* target = nullptr) {
    if (caller == nullptr) caller = caller_;
    if (target == nullptr) target = target_;
    k_.RunAs(caller);
    const unsigned long lvec = kScratch, rvec = kScratch + kScratchPages * PAGE_SIZE / 2;
    EXPECT_EQ(copy_to_user(U(lvec), local.data(), local.size() * sizeof(iovec)), 0u);
    EXPECT_EQ(copy_to_user(U(rvec), remote.data(), remote.size() * sizeof(iovec)), 0u);
    auto* l = reinterpret_cast<const iovec __user*>(lvec);
    auto* r = reinterpret_cast<const iovec __user*>(rvec);
    const long ret = dir == Dir::kRead
                         ? sys_process_vm_readv(target->pid, l, local.size(), r, remote.size(), flags)
                         : sys_process_vm_writev(target->pid, l, local.size(), r, remote.size(), flags);
    EXPECT_EQ(ks()->vm_stat[NR_FOLL_PIN_ACQUIRED], ks()->vm_stat[NR_FOLL_PIN_RELEASED])
        << "pins out of balance after the call";
    return ret;
  }

  pte_t* Pte(mm_struct* mm, unsigned long va) { return mm_find_pte(mm, va); }
  long Rss(task_struct* t) { return static_cast<long>(get_mm_counter(t->mm, MM_ANONPAGES)); }

  BootedKernel k_{uint64_t{256} << 20};
  task_struct* caller_ = nullptr;
  task_struct* target_ = nullptr;
  pvm_hooks hooks_;
  std::vector<Batch> batches_;
  std::function<void(mm_struct*, unsigned long, long, page**)> on_pin_;
};

// A remote element of 1029 pages from R+100 (pages 0..1029 of R). The first batch is
// pages 0..1023; a hole right after it (page 1024) ends the transfer exactly there.
TEST_F(PvmTest, BatchBoundaryWithAHoleJustAfterIt) {
  const unsigned long n = 1030;
  MapIn(target_, kR, 1024, PROT_READ | PROT_WRITE);
  MapIn(target_, kR + 1025 * PAGE_SIZE, n - 1025, PROT_READ | PROT_WRITE);
  FillPattern(target_, kR, 1024 * PAGE_SIZE);
  FillPattern(target_, kR + 1025 * PAGE_SIZE, (n - 1025) * PAGE_SIZE);
  MapIn(caller_, kL, n, PROT_READ | PROT_WRITE);
  FillByte(caller_, kL, n * PAGE_SIZE, 0xee);

  const long want = 1024 * PAGE_SIZE - 100;
  EXPECT_EQ(Call(Dir::kRead, {{U(kL), n * PAGE_SIZE}}, {{U(kR + 100), 1029 * PAGE_SIZE}}), want);
  ASSERT_EQ(batches_.size(), 1u);
  EXPECT_EQ(batches_[0].start, kR);
  EXPECT_EQ(batches_[0].pinned, 1024);
  auto got = Read(caller_, kL, n * PAGE_SIZE);
  EXPECT_TRUE(IsPattern(got, kR + 100, want));
  for (unsigned long i = want; i < got.size(); ++i) ASSERT_EQ(got[i], 0xee) << i;

  // The same for writev: the remote bytes from the hole on keep their contents.
  batches_.clear();
  FillPattern(caller_, kL, n * PAGE_SIZE);
  EXPECT_EQ(Call(Dir::kWrite, {{U(kL), n * PAGE_SIZE}}, {{U(kR + 100), 1029 * PAGE_SIZE}}), want);
  ASSERT_EQ(batches_.size(), 1u);
  auto remote = Read(target_, kR, 1024 * PAGE_SIZE);
  EXPECT_TRUE(IsPattern(remote, kR, 100));
  std::vector<uint8_t> tail(remote.begin() + 100, remote.end());
  EXPECT_TRUE(IsPattern(tail, kL, want));
  EXPECT_TRUE(IsPattern(Read(target_, kR + 1025 * PAGE_SIZE, PAGE_SIZE), kR + 1025 * PAGE_SIZE,
                        PAGE_SIZE));

  // With no hole, two batches: 1024 pages, then the other 6.
  batches_.clear();
  MapIn(target_, kR + 1024 * PAGE_SIZE, 1, PROT_READ | PROT_WRITE);
  FillPattern(target_, kR, n * PAGE_SIZE);
  EXPECT_EQ(Call(Dir::kRead, {{U(kL), n * PAGE_SIZE}}, {{U(kR + 100), 1029 * PAGE_SIZE}}),
            static_cast<long>(1029 * PAGE_SIZE));
  ASSERT_EQ(batches_.size(), 2u);
  EXPECT_EQ(batches_[1].start, kR + 1024 * PAGE_SIZE);
  EXPECT_EQ(batches_[1].pinned, 6);
  EXPECT_TRUE(IsPattern(Read(caller_, kL, 1029 * PAGE_SIZE), kR + 100, 1029 * PAGE_SIZE));
}

// A hole at the last page of the first batch: GUP pins 1023 pages, the copy uses them,
// and the next batch fails at once. Same page-granular result; the batch is not atomic.
TEST_F(PvmTest, HoleInsideTheFirstBatch) {
  MapIn(target_, kR, 1023, PROT_READ | PROT_WRITE);
  MapIn(target_, kR + 1024 * PAGE_SIZE, 8, PROT_READ | PROT_WRITE);
  FillPattern(target_, kR, 1023 * PAGE_SIZE);
  MapIn(caller_, kL, 1100, PROT_READ | PROT_WRITE);
  EXPECT_EQ(Call(Dir::kRead, {{U(kL), 1100 * PAGE_SIZE}}, {{U(kR + 100), 1030 * PAGE_SIZE}}),
            static_cast<long>(1023 * PAGE_SIZE - 100));
  ASSERT_EQ(batches_.size(), 1u);
  EXPECT_EQ(batches_[0].pinned, 1023);
  EXPECT_TRUE(IsPattern(Read(caller_, kL, 1023 * PAGE_SIZE - 100), kR + 100,
                        1023 * PAGE_SIZE - 100));
}

TEST_F(PvmTest, RuntimeBatchKnob) {
  MapIn(target_, kR, 2000, PROT_READ | PROT_WRITE);
  FillPattern(target_, kR, 2000 * PAGE_SIZE);
  MapIn(caller_, kL, 2000, PROT_READ | PROT_WRITE);

  ks()->sysctl_pvm_max_batch_pages = 16;
  EXPECT_EQ(Call(Dir::kRead, {{U(kL), 100 * PAGE_SIZE}}, {{U(kR), 100 * PAGE_SIZE}}),
            static_cast<long>(100 * PAGE_SIZE));
  std::vector<long> sizes;
  for (const Batch& b : batches_) sizes.push_back(b.pinned);
  EXPECT_EQ(sizes, (std::vector<long>{16, 16, 16, 16, 16, 16, 4}));
  for (size_t i = 0; i < batches_.size(); ++i) EXPECT_EQ(batches_[i].start, kR + i * 16 * PAGE_SIZE);
  EXPECT_TRUE(IsPattern(Read(caller_, kL, 100 * PAGE_SIZE), kR, 100 * PAGE_SIZE));

  // Zero or negative counts as 1.
  batches_.clear();
  ks()->sysctl_pvm_max_batch_pages = 0;
  EXPECT_EQ(Call(Dir::kWrite, {{U(kL), 3 * PAGE_SIZE}}, {{U(kR + 10), 3 * PAGE_SIZE}}),
            static_cast<long>(3 * PAGE_SIZE));
  EXPECT_EQ(batches_.size(), 4u);

  // Larger than Linux's 1024: one batch, with a bigger kmalloc'd array.
  batches_.clear();
  ks()->sysctl_pvm_max_batch_pages = 4096;
  FillPattern(target_, kR, 2000 * PAGE_SIZE);
  EXPECT_EQ(Call(Dir::kRead, {{U(kL), 2000 * PAGE_SIZE}}, {{U(kR), 2000 * PAGE_SIZE}}),
            static_cast<long>(2000 * PAGE_SIZE));
  ASSERT_EQ(batches_.size(), 1u);
  EXPECT_EQ(batches_[0].pinned, 2000);
  EXPECT_TRUE(IsPattern(Read(caller_, kL, 2000 * PAGE_SIZE), kR, 2000 * PAGE_SIZE));

  // Back to the kernel's value: 1024 + 976.
  batches_.clear();
  ks()->sysctl_pvm_max_batch_pages = static_cast<int>(PVM_MAX_USER_PAGES);
  EXPECT_EQ(Call(Dir::kRead, {{U(kL), 2000 * PAGE_SIZE}}, {{U(kR), 2000 * PAGE_SIZE}}),
            static_cast<long>(2000 * PAGE_SIZE));
  ASSERT_EQ(batches_.size(), 2u);
  EXPECT_EQ(batches_[0].pinned, 1024);
  EXPECT_EQ(batches_[1].pinned, 976);
}

// The target unmaps the range between pin and copy (the hook runs where the kernel has
// released mmap_lock): the copy still reads the old data through the pins, the bytes
// count, and the frames are freed only when the batch is unpinned.
TEST_F(PvmTest, MunmapBetweenPinAndCopyReadsOldDataAndFreesAtUnpin) {
  MapIn(target_, kR, 4, PROT_READ | PROT_WRITE);
  FillPattern(target_, kR, 4 * PAGE_SIZE);
  MapIn(caller_, kL, 4, PROT_READ | PROT_WRITE);
  FillByte(caller_, kL, 4 * PAGE_SIZE, 0xee);
  std::vector<page*> frames;
  long free_after_munmap = 0;
  on_pin_ = [&](mm_struct* mm, unsigned long start, long pinned, page** pages) {
    ASSERT_EQ(pinned, 4);
    mmap_write_lock(mm);
    EXPECT_EQ(do_munmap(mm, start, 4 * PAGE_SIZE), 0);
    mmap_write_unlock(mm);
    EXPECT_EQ(find_vma_intersection(mm, start, start + 4 * PAGE_SIZE), nullptr);
    for (long i = 0; i < pinned; ++i) {
      frames.push_back(pages[i]);
      EXPECT_EQ(page_ref_count(pages[i]), static_cast<int>(GUP_PIN_COUNTING_BIAS)) << i;
      EXPECT_FALSE(PageBuddy(pages[i]));
    }
    free_after_munmap = k_.FreePages();
  };
  int unpins = 0;
  hooks_.before_unpin = [&](mm_struct*, unsigned long start, long pinned, page** pages) {
    ++unpins;
    EXPECT_EQ(start, kR);
    EXPECT_EQ(pinned, 4);
    // Copied, not yet unpinned: still held by the pins alone.
    for (long i = 0; i < pinned; ++i)
      EXPECT_EQ(page_ref_count(pages[i]), static_cast<int>(GUP_PIN_COUNTING_BIAS)) << i;
  };
  EXPECT_EQ(Call(Dir::kRead, {{U(kL), 4 * PAGE_SIZE}}, {{U(kR), 4 * PAGE_SIZE}}),
            static_cast<long>(4 * PAGE_SIZE));
  on_pin_ = nullptr;
  hooks_.before_unpin = nullptr;
  EXPECT_EQ(unpins, 1);
  ASSERT_EQ(frames.size(), 4u);
  EXPECT_EQ(k_.FreePages(), free_after_munmap + 4);
  for (page* p : frames) EXPECT_EQ(page_ref_count(p), 0);
  EXPECT_TRUE(IsPattern(Read(caller_, kL, 4 * PAGE_SIZE), kR, 4 * PAGE_SIZE));
  // The next call finds no VMA.
  EXPECT_EQ(Call(Dir::kRead, {{U(kL), PAGE_SIZE}}, {{U(kR), PAGE_SIZE}}), -EFAULT);
}

// The same for writev: the write lands in frames that are no longer mapped, so it is
// lost for anonymous memory, yet it counts.
TEST_F(PvmTest, MunmapBetweenPinAndCopyLosesTheWrite) {
  MapIn(target_, kR, 2, PROT_READ | PROT_WRITE);
  FillByte(target_, kR, 2 * PAGE_SIZE, 0x11);
  MapIn(caller_, kL, 2, PROT_READ | PROT_WRITE);
  FillPattern(caller_, kL, 2 * PAGE_SIZE);
  on_pin_ = [&](mm_struct* mm, unsigned long start, long, page**) {
    mmap_write_lock(mm);
    EXPECT_EQ(do_munmap(mm, start, 2 * PAGE_SIZE), 0);
    mmap_write_unlock(mm);
  };
  EXPECT_EQ(Call(Dir::kWrite, {{U(kL), 2 * PAGE_SIZE}}, {{U(kR), 2 * PAGE_SIZE}}),
            static_cast<long>(2 * PAGE_SIZE));
  on_pin_ = nullptr;
  MapIn(target_, kR, 2, PROT_READ | PROT_WRITE);
  EXPECT_EQ(Read(target_, kR, 2 * PAGE_SIZE), std::vector<uint8_t>(2 * PAGE_SIZE, 0));
}

TEST_F(PvmTest, OneByteWritevAllocatesEveryPageOfTheRemoteBatch) {
  MapIn(target_, kR, 1000, PROT_READ | PROT_WRITE);
  MapIn(caller_, kL, 1, PROT_READ | PROT_WRITE);
  FillByte(caller_, kL, 1, 0x5a);
  ASSERT_EQ(Rss(target_), 0);
  const long pins0 = ks()->vm_stat[NR_FOLL_PIN_ACQUIRED];
  EXPECT_EQ(Call(Dir::kWrite, {{U(kL), 1}}, {{U(kR), 1000 * PAGE_SIZE}}), 1);
  EXPECT_EQ(Rss(target_), 1000);  // RSS 0 -> 4000 kB, as measured on Linux
  EXPECT_EQ(ks()->vm_stat[NR_FOLL_PIN_ACQUIRED] - pins0, 1000);
  for (unsigned long i = 0; i < 1000; ++i) {
    pte_t* pte = Pte(target_->mm, kR + i * PAGE_SIZE);
    ASSERT_NE(pte, nullptr) << i;
    ASSERT_TRUE(pte_present(*pte) && pte_write(*pte) && pte_dirty(*pte)) << i;
    ASSERT_TRUE(PageDirty(pte_page(*pte))) << i;  // unpin_user_pages_dirty_lock
    ASSERT_EQ(page_ref_count(pte_page(*pte)), 1) << i;
  }
  std::vector<uint8_t> first = Read(target_, kR, 2);
  EXPECT_EQ(first[0], 0x5a);
  EXPECT_EQ(first[1], 0);
}

TEST_F(PvmTest, ReadvOfUntouchedMemoryMapsTheZeroPageAndAllocatesNothing) {
  MapIn(target_, kR, 1000, PROT_READ | PROT_WRITE);
  MapIn(caller_, kL, 1000, PROT_READ | PROT_WRITE);
  FillByte(caller_, kL, 1000 * PAGE_SIZE, 0xee);
  const long free0 = k_.FreePages();
  const long pins0 = ks()->vm_stat[NR_FOLL_PIN_ACQUIRED];
  EXPECT_EQ(Call(Dir::kRead, {{U(kL), 1000 * PAGE_SIZE}}, {{U(kR), 1000 * PAGE_SIZE}}),
            static_cast<long>(1000 * PAGE_SIZE));
  EXPECT_EQ(Rss(target_), 0);
  EXPECT_EQ(ks()->vm_stat[NR_FOLL_PIN_ACQUIRED], pins0);  // the zero page is never pinned
  EXPECT_LE(free0 - k_.FreePages(), 4);  // page tables only
  for (unsigned long i = 0; i < 1000; ++i) {
    pte_t* pte = Pte(target_->mm, kR + i * PAGE_SIZE);
    ASSERT_NE(pte, nullptr) << i;
    ASSERT_TRUE(is_zero_pfn(pte_pfn(*pte))) << i;
  }
  EXPECT_EQ(Read(caller_, kL, 1000 * PAGE_SIZE), std::vector<uint8_t>(1000 * PAGE_SIZE, 0));
}

// The page-pointer array: on the stack up to PVM_MAX_PP_ARRAY_COUNT entries, else kmalloc'd,
// sized as in 6.12+: `(base + len - 1) / PAGE_SIZE - base / PAGE_SIZE + 1` pages.
TEST_F(PvmTest, PagePointerArrayOnTheStackOrKmalloced) {
  MapIn(target_, kR, 32, PROT_READ | PROT_WRITE);
  FillPattern(target_, kR, 32 * PAGE_SIZE);
  MapIn(caller_, kL, 32, PROT_READ | PROT_WRITE);
  FillByte(caller_, kL, 32 * PAGE_SIZE, 0);
  long slab_at_pin = 0;
  on_pin_ = [&](mm_struct*, unsigned long, long, page**) { slab_at_pin = ks()->slab_allocations; };
  auto slab_during = [&](unsigned long pages) {
    const long slab0 = ks()->slab_allocations;
    EXPECT_EQ(Call(Dir::kRead, {{U(kL), pages * PAGE_SIZE}}, {{U(kR), pages * PAGE_SIZE}}),
              static_cast<long>(pages * PAGE_SIZE));
    EXPECT_EQ(ks()->slab_allocations, slab0) << "the array is freed";
    return slab_at_pin - slab0;
  };
  EXPECT_EQ(slab_during(15), 0);
  EXPECT_EQ(slab_during(16), 0);  // page aligned: 16 entries -> pp_stack
  EXPECT_EQ(slab_during(17), 1);  // 17 -> kmalloc
  EXPECT_EQ(slab_during(32), 1);
}

// docs/semantics.md §5.3: with every kmalloc failing, a page-aligned 64 KiB read still
// works on Linux 6.12+ (16 entries fit pp_stack; the one-element local vector is a UBUF and
// the one-element remote vector fits iovstack_r), and 17 pages is ENOMEM.
TEST_F(PvmTest, PageAlignedSixteenPagesNeedNoKmallocUnderFailslab) {
  MapIn(target_, kR, 32, PROT_READ | PROT_WRITE);
  FillPattern(target_, kR, 32 * PAGE_SIZE);
  MapIn(caller_, kL, 32, PROT_READ | PROT_WRITE);
  FillByte(caller_, kL, 32 * PAGE_SIZE, 0);
  ASSERT_EQ(fault_inject_arm("failslab", {.nth = 0, .times = -1}), 0);
  EXPECT_EQ(Call(Dir::kRead, {{U(kL), 16 * PAGE_SIZE}}, {{U(kR), 16 * PAGE_SIZE}}),
            static_cast<long>(16 * PAGE_SIZE));
  EXPECT_EQ(Call(Dir::kRead, {{U(kL), 17 * PAGE_SIZE}}, {{U(kR), 17 * PAGE_SIZE}}), -ENOMEM);
  // Not page aligned: 16 pages' worth of bytes from +1 spans 17 pages.
  EXPECT_EQ(Call(Dir::kRead, {{U(kL), 16 * PAGE_SIZE}}, {{U(kR + 1), 16 * PAGE_SIZE}}), -ENOMEM);
  fault_inject_disarm(nullptr);
  EXPECT_EQ(Read(caller_, kL, 16 * PAGE_SIZE), Read(target_, kR, 16 * PAGE_SIZE));
}

TEST_F(PvmTest, PermissionDeniedIsEpermBeforeAnyAddressIsLookedAt) {
  task_struct* user = k_.Spawn("user", TestCreds::User(1000, 1000));
  MapIn(user, kScratch, kScratchPages, PROT_READ | PROT_WRITE);
  FillByte(user, kScratch, kScratchPages * PAGE_SIZE, 0);
  MapIn(user, kL, 1, PROT_READ | PROT_WRITE);
  MapIn(target_, kR, 1, PROT_READ | PROT_WRITE);
  // mm_access says EACCES; the syscall says EPERM.
  EXPECT_EQ(Call(Dir::kRead, {{U(kL), 16}}, {{U(kR), 16}}, 0, user), -EPERM);
  EXPECT_EQ(Call(Dir::kWrite, {{U(kL), 16}}, {{U(~0UL - 100), 16}}, 0, user), -EPERM);
  EXPECT_TRUE(batches_.empty());
}

TEST_F(PvmTest, EarlyReturnsAndArgumentChecks) {
  MapIn(target_, kR, 1, PROT_READ | PROT_WRITE);
  MapIn(caller_, kL, 1, PROT_READ | PROT_WRITE);
  EXPECT_EQ(Call(Dir::kRead, {{U(kL), 16}}, {{U(kR), 16}}, 1), -EINVAL);
  // All remote lengths 0: 0, and the pid is not even looked up.
  k_.RunAs(caller_);
  iovec l{U(kL), 16}, r{U(kR), 0};
  ASSERT_EQ(copy_to_user(U(kScratch), &l, sizeof(l)), 0u);
  ASSERT_EQ(copy_to_user(U(kScratch + 16), &r, sizeof(r)), 0u);
  auto* lv = reinterpret_cast<const iovec __user*>(kScratch);
  auto* rv = reinterpret_cast<const iovec __user*>(kScratch + 16);
  EXPECT_EQ(sys_process_vm_readv(-1, lv, 1, rv, 1, 0), 0);
  EXPECT_EQ(sys_process_vm_readv(-1, lv, 1, rv, 0, 0), 0);
  r.iov_len = 16;
  ASSERT_EQ(copy_to_user(U(kScratch + 16), &r, sizeof(r)), 0u);
  EXPECT_EQ(sys_process_vm_readv(-1, lv, 1, rv, 1, 0), -ESRCH);
  // Local total 0: 0 before rvec is read (even a bad pointer and count).
  EXPECT_EQ(sys_process_vm_readv(target_->pid, lv, 0, reinterpret_cast<const iovec __user*>(~0UL),
                                 UIO_MAXIOV + 1, 0),
            0);
  // liovcnt is an `unsigned` inside import_iovec, as in Linux: 2^32 + 1 means 1.
  EXPECT_EQ(sys_process_vm_readv(target_->pid, lv, (1UL << 32) + 1, rv, 1, 0), 16);
  EXPECT_EQ(ks()->vm_stat[NR_FOLL_PIN_ACQUIRED], ks()->vm_stat[NR_FOLL_PIN_RELEASED]);
}

// A local fault in the middle of a batch: partial, byte-exact, and the batch is still
// unpinned (and, for writev, every remote page of it was write-faulted and dirtied).
TEST_F(PvmTest, LocalFaultMidBatchIsByteExactAndUnpinsTheBatch) {
  MapIn(target_, kR, 8, PROT_READ | PROT_WRITE);
  FillByte(target_, kR, 8 * PAGE_SIZE, 0x33);
  MapIn(caller_, kL, 2, PROT_READ | PROT_WRITE);  // kL + 2 pages: unmapped
  FillPattern(caller_, kL, 2 * PAGE_SIZE);
  const long want = 2 * PAGE_SIZE - 1000;
  EXPECT_EQ(Call(Dir::kWrite, {{U(kL + 1000), 8 * PAGE_SIZE}}, {{U(kR + 5), 8 * PAGE_SIZE - 5}}),
            want);
  ASSERT_EQ(batches_.size(), 1u);
  EXPECT_EQ(batches_[0].pinned, 8);
  auto remote = Read(target_, kR, 8 * PAGE_SIZE);
  EXPECT_EQ(remote[4], 0x33);
  std::vector<uint8_t> moved(remote.begin() + 5, remote.begin() + 5 + want);
  EXPECT_TRUE(IsPattern(moved, kL + 1000, want));
  for (unsigned long i = 5 + want; i < remote.size(); ++i) ASSERT_EQ(remote[i], 0x33) << i;
  for (unsigned long i = 0; i < 8; ++i)
    EXPECT_TRUE(PageDirty(pte_page(*Pte(target_->mm, kR + i * PAGE_SIZE)))) << i;
}

TEST_F(PvmTest, TheCallGraphIsTheKernels) {
  struct CallLog : kernel_observer {
    std::vector<std::string> fns;
    void on_enter(const char* fn, const std::string&) override { fns.emplace_back(fn); }
  } log;
  MapIn(target_, kR, 2, PROT_READ | PROT_WRITE);
  FillPattern(target_, kR, 2 * PAGE_SIZE);
  MapIn(caller_, kL, 2, PROT_READ | PROT_WRITE);
  ks()->observer = &log;
  EXPECT_EQ(Call(Dir::kRead, {{U(kL), PAGE_SIZE}, {U(kL + PAGE_SIZE), PAGE_SIZE}},
                 {{U(kR), 2 * PAGE_SIZE}}),
            static_cast<long>(2 * PAGE_SIZE));
  ks()->observer = nullptr;
  auto index = [&](const std::string& fn) {
    for (size_t i = 0; i < log.fns.size(); ++i)
      if (log.fns[i] == fn) return static_cast<long>(i);
    return -1L;
  };
  const std::vector<std::string> order = {
      "process_vm_rw",          "import_iovec",          "iovec_from_user",
      "process_vm_rw_core",     "process_vm_rw_single_vec", "pin_user_pages_remote",
      "__get_user_pages",       "follow_page_mask",      "process_vm_rw_pages",
      "copy_page_to_iter",      "unpin_user_pages_dirty_lock"};
  long prev = -1;
  for (const std::string& fn : order) {
    const long at = index(fn);
    EXPECT_GT(at, prev) << fn;
    prev = at;
  }
}

// A target fault that drops mmap_lock (VM_FAULT_RETRY, as filemap_fault does when it must
// wait) makes GUP return with the lock released (locked == 0); single_vec must then not
// unlock it again (up_read would BUG on an unheld lock).
struct DroppingFault {
  static inline const vm_operations_struct* orig = nullptr;
  static inline int retries = 0;
  static vm_fault_t fault(vm_fault* vmf) {
    if ((vmf->flags & FAULT_FLAG_ALLOW_RETRY) && !(vmf->flags & FAULT_FLAG_TRIED)) {
      ++retries;
      mmap_read_unlock(vmf->vma->vm_mm);
      return VM_FAULT_RETRY;
    }
    return orig->fault(vmf);
  }
};

TEST_F(PvmTest, GupDroppingTheLockMidBatchIsHandled) {
  ASSERT_EQ(k_.Mmap(target_, kR, 8 * PAGE_SIZE, PROT_READ | PROT_WRITE,
                    MAP_SHARED | MAP_ANONYMOUS | MAP_FIXED),
            kR);
  vm_area_struct* vma = find_vma(target_->mm, kR);
  ASSERT_NE(vma, nullptr);
  ASSERT_NE(vma->vm_ops, nullptr);
  DroppingFault::orig = vma->vm_ops;
  DroppingFault::retries = 0;
  vm_operations_struct ops = *vma->vm_ops;
  ops.fault = DroppingFault::fault;
  vma->vm_ops = &ops;
  MapIn(caller_, kL, 8, PROT_READ | PROT_WRITE);
  FillPattern(caller_, kL, 8 * PAGE_SIZE);
  EXPECT_EQ(Call(Dir::kWrite, {{U(kL), 8 * PAGE_SIZE}}, {{U(kR), 8 * PAGE_SIZE}}),
            static_cast<long>(8 * PAGE_SIZE));
  EXPECT_EQ(DroppingFault::retries, 8);
  EXPECT_FALSE(rwsem_is_locked(&target_->mm->mmap_lock));
  FillByte(caller_, kL, 8 * PAGE_SIZE, 0);
  EXPECT_EQ(Call(Dir::kRead, {{U(kL), 8 * PAGE_SIZE}}, {{U(kR), 8 * PAGE_SIZE}}),
            static_cast<long>(8 * PAGE_SIZE));
  vma->vm_ops = DroppingFault::orig;
  EXPECT_TRUE(IsPattern(Read(caller_, kL, 8 * PAGE_SIZE), kL, 8 * PAGE_SIZE));
}

}  // namespace
}  // namespace kernel
