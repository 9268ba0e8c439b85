// tests/pvm/side_effects_test.cc: what process_vm_readv/writev do to the target besides
// moving bytes (docs/semantics.md §7.1 side effects before the copy, §7.5 dirtying, §7.6 unpin).
//
//  * Remote pages are pinned a batch (up to 1024 pages) at a time, before the copy and
//    regardless of how much local space remains: a 1-byte writev against 1000 never-touched
//    pages allocates all 1000 (RSS 0 -> 1000 anon pages); a 1-byte readv maps 1000 zero-page
//    PTEs and allocates nothing but page tables.
//  * Every pin is dropped again (NR_FOLL_PIN_ACQUIRED == NR_FOLL_PIN_RELEASED) after every
//    call, also after injected failures; the zero page is never pinned (>= 6.5).
//  * For writev, the pinned batch is write-faulted and dirtied even when the local source
//    faults after the first page.
// The fixture additionally runs debug_vm and the pin-balance check after every step.
#include <cstdint>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "mm/process_vm_access.h"
#include "tests/pvm/pvm_fixture.h"

namespace pvmtest {
namespace {

constexpr uint64_t L = kLocal;
constexpr uint64_t R = kRemote;

class SideEffects : public PvmTest {};

// docs/semantics.md §7.1: "process_vm_writev of 1 local byte against a 1000-page never-touched remote
// element allocates all 1000 target pages (RSS 0 -> 4000 kB, measured)".
TEST_F(SideEffects, OneByteWritevAllocatesTheWholeRemoteBatch) {
  constexpr uint64_t n = 1000;
  MapPattern(caller_, L, kPage);
  Map(target_, R, n * kPage, kRW);
  ASSERT_EQ(AnonRss(target_), 0);
  const long free_before = vmstat(kernel::NR_FREE_PAGES);
  EXPECT_TRUE(Returns(Writev(IovList{{L, 1}}, IovList{{R, n * kPage}}), 1));
  EXPECT_EQ(AnonRss(target_), static_cast<long>(n)) << "RSS must grow by the whole batch";
  EXPECT_GE(free_before - vmstat(kernel::NR_FREE_PAGES), static_cast<long>(n));
  // Every page is a private, writable, dirty page of its own (not the zero page).
  int zero = 0, missing = 0, clean = 0;
  for (uint64_t i = 0; i < n; ++i) {
    const std::optional<kernel::pte_t> pte = LookupPte(target_, R + i * kPage);
    if (!pte || !kernel::pte_present(*pte)) {
      ++missing;
      continue;
    }
    if (MapsZeroPage(target_, R + i * kPage)) ++zero;
    if (!kernel::pte_dirty(*pte) || !kernel::pte_write(*pte)) ++clean;
  }
  EXPECT_EQ(missing, 0) << "pages not mapped after the writev";
  EXPECT_EQ(zero, 0) << "pages still mapping the zero page";
  EXPECT_EQ(clean, 0) << "PTEs not writable+dirty (a write fault installs RW|DIRTY)";
  // Bytes: the first one is the caller's, the rest are zeros.
  std::vector<uint8_t> want(n * kPage, 0);
  want[0] = Pat(L);
  EXPECT_TRUE(SameBytes(Peek(target_, R, n * kPage), want, R));
}

// With more than 1024 pages only the first batch is pinned before the local stream runs out.
TEST_F(SideEffects, OneByteWritevAllocatesOnlyTheFirstBatch) {
  ASSERT_EQ(*m().Sysctl("mmsim.pvm_max_batch_pages"), 1024);
  constexpr uint64_t n = 1100;
  MapPattern(caller_, L, kPage);
  Map(target_, R, n * kPage, kRW);
  EXPECT_TRUE(Returns(Writev(IovList{{L, 1}}, IovList{{R, n * kPage}}), 1));
  EXPECT_EQ(AnonRss(target_), static_cast<long>(kPinBatchPages));
  EXPECT_NE(MappedPage(target_, R + (kPinBatchPages - 1) * kPage), nullptr);
  EXPECT_EQ(MappedPage(target_, R + kPinBatchPages * kPage), nullptr)
      << "page 1024 belongs to the second batch, which is never pinned";
}

// docs/semantics.md §7.1-§7.2: "readv of the same maps 1000 zero-page PTEs (RSS unchanged)". Nothing but
// page-table pages is allocated.
TEST_F(SideEffects, ReadvOfUntouchedMemoryMapsTheZeroPage) {
  constexpr uint64_t n = 1000;
  MapFilled(caller_, L, kPage, kLocalFill);
  Map(target_, R, n * kPage, kRW);
  // The raw call form, with the iovec arrays placed beforehand: the measurement then sees
  // only what the syscall itself allocates.
  const uint64_t lvec = PlaceIovecs(IovList{{L, 1}});
  const uint64_t rvec = PlaceIovecs(IovList{{R, n * kPage}});
  const long free_before = vmstat(kernel::NR_FREE_PAGES);
  const long pt_before = vmstat(kernel::NR_PAGETABLE);
  const long pins_before = vmstat(kernel::NR_FOLL_PIN_ACQUIRED);
  EXPECT_TRUE(Returns(CallRaw(Dir::kRead, caller_, target_, lvec, 1, rvec, 1), 1));
  EXPECT_EQ(AnonRss(target_), 0);
  const long pt_delta = vmstat(kernel::NR_PAGETABLE) - pt_before;
  EXPECT_EQ(free_before - vmstat(kernel::NR_FREE_PAGES), pt_delta)
      << "a read fault of anon memory allocates nothing but page tables";
  EXPECT_LE(pt_delta, 4) << "1000 pages from a 1 GiB boundary need one PUD table, one PMD "
                           "table and two PTE tables";
  int not_zero = 0, writable = 0;
  for (uint64_t i = 0; i < n; ++i) {
    if (!MapsZeroPage(target_, R + i * kPage)) ++not_zero;
    const std::optional<kernel::pte_t> pte = LookupPte(target_, R + i * kPage);
    if (pte && kernel::pte_write(*pte)) ++writable;
  }
  EXPECT_EQ(not_zero, 0) << "PTEs that do not point at the zero pfn";
  EXPECT_EQ(writable, 0) << "zero-page PTEs must be read-only";
  EXPECT_EQ(vmstat(kernel::NR_FOLL_PIN_ACQUIRED), pins_before)
      << "the zero page is not pinned (>= 6.5)";
  EXPECT_TRUE(SameBytes(Peek(caller_, L, 2), {0, kLocalFill}));
}

// A later writev over zero-page PTEs COW-breaks each page it pins (one new page per page).
TEST_F(SideEffects, WritevOverZeroPageAllocatesPrivatePages) {
  MapPattern(caller_, L, 4 * kPage);
  Map(target_, R, 8 * kPage, kRW);
  EXPECT_TRUE(Returns(Readv(IovList{{L + 3 * kPage, 1}}, IovList{{R, 8 * kPage}}), 1));
  ASSERT_TRUE(MapsZeroPage(target_, R));
  ASSERT_EQ(AnonRss(target_), 0);
  EXPECT_TRUE(Returns(Writev(IovList{{L, 3 * kPage}}, IovList{{R + kPage, 3 * kPage}}), 3 * kPage));
  EXPECT_EQ(AnonRss(target_), 3);
  EXPECT_TRUE(MapsZeroPage(target_, R)) << "page 0 was not written";
  for (int i = 1; i <= 3; ++i) EXPECT_FALSE(MapsZeroPage(target_, R + i * kPage)) << i;
  EXPECT_TRUE(MapsZeroPage(target_, R + 4 * kPage)) << "page 4 was not written";
  EXPECT_TRUE(SameBytes(Peek(target_, R + kPage, 3 * kPage), PatBytes(L, 3 * kPage), R + kPage));
}

// Pins are counted per page and dropped per batch; a 1-byte readv pins the whole batch.
TEST_F(SideEffects, PinsAreTakenPerBatchAndAllReleased) {
  MapFilled(caller_, L, 4 * kPage, kLocalFill);
  MapPattern(target_, R, 1100 * kPage);
  const long acq = vmstat(kernel::NR_FOLL_PIN_ACQUIRED);
  EXPECT_TRUE(Returns(Readv(IovList{{L, 4 * kPage}}, IovList{{R, 4 * kPage}}), 4 * kPage));
  EXPECT_EQ(vmstat(kernel::NR_FOLL_PIN_ACQUIRED) - acq, 4) << "4 present pages, 4 pins";
  const long acq2 = vmstat(kernel::NR_FOLL_PIN_ACQUIRED);
  EXPECT_TRUE(Returns(Readv(IovList{{L, 1}}, IovList{{R, 1000 * kPage}}), 1));
  EXPECT_EQ(vmstat(kernel::NR_FOLL_PIN_ACQUIRED) - acq2, 1000)
      << "the whole batch is pinned before the copy";
  const long acq3 = vmstat(kernel::NR_FOLL_PIN_ACQUIRED);
  EXPECT_TRUE(Returns(Readv(IovList{{L, 1}}, IovList{{R, 1100 * kPage}}), 1));
  EXPECT_EQ(vmstat(kernel::NR_FOLL_PIN_ACQUIRED) - acq3, 1024) << "one batch of 1024 pages";
  // After the calls no page of R is still pinned (refcount below GUP_PIN_COUNTING_BIAS).
  int pinned = 0;
  for (uint64_t i = 0; i < 1100; ++i) {
    kernel::page* p = MappedPage(target_, R + i * kPage);
    if (p != nullptr && kernel::folio_maybe_dma_pinned(p)) ++pinned;
  }
  EXPECT_EQ(pinned, 0);
}

// Reading present memory allocates nothing at all: no pages, no kernel objects left behind
// (the page-pointer array is freed).
TEST_F(SideEffects, ReadvOfPresentMemoryAllocatesNothing) {
  MapFilled(caller_, L, 64 * kPage, kLocalFill);
  MapPattern(target_, R, 64 * kPage);
  IovList remote;
  for (int i = 0; i < 20; ++i) remote.push_back({R + i * 3 * kPage + 5, 3 * kPage});
  const uint64_t lvec = PlaceIovecs(IovList{{L, 64 * kPage}});
  const uint64_t rvec = PlaceIovecs(remote);
  const long free_before = vmstat(kernel::NR_FREE_PAGES);
  const long slab_before = m().slab_allocations();
  EXPECT_TRUE(Returns(CallRaw(Dir::kRead, caller_, target_, lvec, 1, rvec, remote.size()),
                      60 * kPage));
  EXPECT_EQ(vmstat(kernel::NR_FREE_PAGES), free_before);
  EXPECT_EQ(m().slab_allocations(), slab_before) << "kernel objects leaked by the call";
  EXPECT_EQ(AnonRss(target_), 64);
}

// docs/semantics.md §7.1 and §4.4: "with a local-source fault, the remote batch has already been write-faulted
// and dirtied". The local source has one readable page, then PROT_NONE; the remote element is
// 8 never-touched pages: all 8 are allocated, mapped writable and dirty, and their folios
// are dirty; only the first page's bytes changed.
TEST_F(SideEffects, WritevWithLocalFaultStillFaultsAndDirtiesTheRemoteBatch) {
  MapPattern(caller_, L, 2 * kPage);
  Protect(caller_, L + kPage, kPage, kNone);
  Map(target_, R, 8 * kPage, kRW);
  EXPECT_TRUE(Returns(Writev(IovList{{L, 2 * kPage}}, IovList{{R, 8 * kPage}}), kPage));
  EXPECT_EQ(AnonRss(target_), 8);
  for (int i = 0; i < 8; ++i) {
    SCOPED_TRACE(i);
    const std::optional<kernel::pte_t> pte = LookupPte(target_, R + i * kPage);
    ASSERT_TRUE(pte && kernel::pte_present(*pte));
    EXPECT_FALSE(MapsZeroPage(target_, R + i * kPage));
    EXPECT_TRUE(kernel::pte_write(*pte));
    EXPECT_TRUE(kernel::pte_dirty(*pte));
    kernel::page* p = MappedPage(target_, R + i * kPage);
    ASSERT_NE(p, nullptr);
    EXPECT_TRUE(kernel::PageDirty(p)) << "unpin_user_pages_dirty_lock dirties every folio";
  }
  std::vector<uint8_t> want(8 * kPage, 0);
  for (uint64_t i = 0; i < kPage; ++i) want[i] = Pat(L + i);
  EXPECT_TRUE(SameBytes(Peek(target_, R, 8 * kPage), want, R));
}

// A writev that stops at a remote hole still dirties what it pinned before the hole, and the
// bytes past the return value keep their old contents (no zeroing).
TEST_F(SideEffects, WritevPartialLeavesLaterRemoteBytesAlone) {
  MapPattern(caller_, L, 4 * kPage);
  Map(target_, R, 2 * kPage, kRW);
  FillByte(target_, R, 2 * kPage, 0x5a);
  Map(target_, R + 3 * kPage, kPage, kRW);
  FillByte(target_, R + 3 * kPage, kPage, 0x5a);
  EXPECT_TRUE(Returns(Writev(IovList{{L, 4 * kPage}}, IovList{{R + 100, 4 * kPage}}),
                      2 * kPage - 100));
  std::vector<uint8_t> want(2 * kPage, 0x5a);
  for (uint64_t i = 100; i < 2 * kPage; ++i) want[i] = Pat(L + i - 100);
  EXPECT_TRUE(SameBytes(Peek(target_, R, 2 * kPage), want, R));
  EXPECT_TRUE(SameBytes(Peek(target_, R + 3 * kPage, kPage), std::vector<uint8_t>(kPage, 0x5a)))
      << "the page after the hole is never reached";
}


// docs/semantics.md §7.4, >= 5.19: a read pin of a COW-shared anon page first "unshares"
// it: the target gets a private copy mapped read-only and clean (smaps: Shared_Dirty ->
// Private_Clean); the process it shares with keeps the original frame; no byte changes.
TEST_F(SideEffects, ReadvOfCowSharedPageUnsharesItInTheTarget) {
  MapFilled(caller_, L, 4 * kPage, kLocalFill);
  MapPattern(target_, R, 4 * kPage);
  const sim::SysResult f = m().Fork(target_);
  ASSERT_GT(f.ret, 0) << "fork: " << Show(f);
  const int child = static_cast<int>(f.ret);
  CheckVm("fork(target)");
  auto pfn = [&](int pid, uint64_t addr) -> long {
    const std::optional<kernel::pte_t> pte = LookupPte(pid, addr);
    if (!pte || !kernel::pte_present(*pte)) return -1;
    return static_cast<long>(kernel::pte_pfn(*pte));
  };
  std::vector<long> shared;
  for (int i = 0; i < 4; ++i) {
    shared.push_back(pfn(child, R + i * kPage));
    ASSERT_EQ(pfn(target_, R + i * kPage), shared[i]) << "page " << i << " not shared after fork";
  }
  const uint64_t lvec = PlaceIovecs(IovList{{L, 2 * kPage}});
  const uint64_t rvec = PlaceIovecs(IovList{{R, 2 * kPage}});
  const long free_before = vmstat(kernel::NR_FREE_PAGES);
  EXPECT_TRUE(Returns(CallRaw(Dir::kRead, caller_, target_, lvec, 1, rvec, 1), 2 * kPage));
  EXPECT_EQ(free_before - vmstat(kernel::NR_FREE_PAGES), 2) << "one copy per pinned page";
  for (int i = 0; i < 4; ++i) {
    SCOPED_TRACE(i);
    EXPECT_EQ(pfn(child, R + i * kPage), shared[i]) << "the other process keeps the original";
    if (i < 2) {
      EXPECT_NE(pfn(target_, R + i * kPage), shared[i]) << "the pinned page was not unshared";
      const std::optional<kernel::pte_t> pte = LookupPte(target_, R + i * kPage);
      ASSERT_TRUE(pte.has_value());
      EXPECT_FALSE(kernel::pte_write(*pte)) << "the unshared copy is mapped read-only";
      EXPECT_FALSE(kernel::pte_dirty(*pte)) << "the unshared copy is clean";
    } else {
      EXPECT_EQ(pfn(target_, R + i * kPage), shared[i]) << "an unread page stays shared";
    }
  }
  EXPECT_TRUE(SameBytes(Peek(caller_, L, 2 * kPage), PatBytes(R, 2 * kPage), L));
  EXPECT_TRUE(SameBytes(Peek(target_, R, 4 * kPage), PatBytes(R, 4 * kPage), R));
  EXPECT_TRUE(SameBytes(Peek(child, R, 4 * kPage), PatBytes(R, 4 * kPage), R));
}

// A writev into a COW-shared page gives the target its own copy (do_wp_page), writable
// and dirty; the other process keeps the original frame and bytes.
TEST_F(SideEffects, WritevOfCowSharedPageCopiesItInTheTarget) {
  MapPattern(caller_, L, kPage);
  MapFilled(target_, R, 2 * kPage, 0x77);
  const sim::SysResult f = m().Fork(target_);
  ASSERT_GT(f.ret, 0) << "fork: " << Show(f);
  const int child = static_cast<int>(f.ret);
  kernel::page* orig = MappedPage(child, R);
  ASSERT_NE(orig, nullptr);
  ASSERT_EQ(MappedPage(target_, R), orig);
  EXPECT_TRUE(Returns(Writev(IovList{{L, 10}}, IovList{{R + 5, 10}}), 10));
  EXPECT_NE(MappedPage(target_, R), orig);
  EXPECT_EQ(MappedPage(child, R), orig);
  const std::optional<kernel::pte_t> pte = LookupPte(target_, R);
  ASSERT_TRUE(pte.has_value());
  EXPECT_TRUE(kernel::pte_write(*pte) && kernel::pte_dirty(*pte));
  std::vector<uint8_t> want(2 * kPage, 0x77);
  for (int i = 0; i < 10; ++i) want[5 + i] = Pat(L + i);
  EXPECT_TRUE(SameBytes(Peek(target_, R, 2 * kPage), want, R));
  EXPECT_TRUE(SameBytes(Peek(child, R, 2 * kPage), std::vector<uint8_t>(2 * kPage, 0x77), R));
}

// docs/semantics.md §6.4, concurrent munmap: the target unmaps the range after a batch was pinned
// (the mmap_lock is not held during the copy). The pins keep the frames alive: the copy
// still reads the old contents (readv) or lands in the no longer mapped pages (writev, the
// write is lost), those bytes count in the return value, the next batch re-resolves the
// VMA and fails, and the frames are freed when the batch is unpinned.
class ConcurrentMunmap : public DirTest {};
INSTANTIATE_TEST_SUITE_P(Pvm, ConcurrentMunmap, ::testing::Values(Dir::kRead, Dir::kWrite),
                         DirParamName());

TEST_P(ConcurrentMunmap, PinsKeepUnmappedPagesAliveUntilUnpin) {
  constexpr uint64_t n = kPinBatchPages + 76;  // two batches
  MapLocal(L, n * kPage);
  MapRemote(R, n * kPage);
  const Snapshot before = TakeSnapshot();
  std::vector<kernel::page*> first_batch;
  int batches = 0, unpinned_alive = 0;
  kernel::pvm_hooks hooks;
  hooks.after_pin = [&](kernel::mm_struct* mm, unsigned long start, long pinned,
                        kernel::page** pages) {
    if (batches++ != 0) return;
    EXPECT_EQ(start, R);
    EXPECT_EQ(pinned, static_cast<long>(kPinBatchPages));
    first_batch.assign(pages, pages + pinned);
    // Another thread of the target unmaps the whole range.
    kernel::mmap_write_lock(mm);
    EXPECT_EQ(kernel::do_munmap(mm, R, n * kPage), 0);
    kernel::mmap_write_unlock(mm);
  };
  hooks.before_unpin = [&](kernel::mm_struct*, unsigned long, long pinned, kernel::page** pages) {
    for (long i = 0; i < pinned; ++i) {
      // Unmapped, but still allocated: only the pin holds it.
      if (kernel::page_ref_count(pages[i]) >= static_cast<int>(kernel::GUP_PIN_COUNTING_BIAS) &&
          kernel::page_mapcount(pages[i]) == 0) {
        ++unpinned_alive;
      }
    }
  };
  m().SetPvmHooks(&hooks);
  const sim::SysResult r = Call(dir(), IovList{{L, n * kPage}}, IovList{{R, n * kPage}});
  m().SetPvmHooks(nullptr);
  ForgetPid(target_);  // R is gone
  EXPECT_TRUE(Returns(r, kPinBatchPages * kPage)) << "the first batch counts, the second fails";
  EXPECT_EQ(batches, 1);
  EXPECT_EQ(unpinned_alive, static_cast<int>(kPinBatchPages))
      << "pinned pages must stay allocated (refcount >= GUP_PIN_COUNTING_BIAS) though unmapped";
  if (reading()) {
    // The first batch's bytes arrived (read from the pinned, unmapped frames).
    std::vector<uint8_t> want = PatBytes(R, kPinBatchPages * kPage);
    want.resize(n * kPage, kLocalFill);
    EXPECT_TRUE(SameBytes(Peek(caller_, L, n * kPage), want, L));
  } else {
    ExpectUntouched(Without(before, target_));
  }
  int still_allocated = 0;
  for (kernel::page* p : first_batch) still_allocated += kernel::page_ref_count(p) != 0;
  EXPECT_EQ(still_allocated, 0) << "the frames must be freed by the unpin";
  EXPECT_EQ(AnonRss(target_), 0);
}

// Injected failures at every fault point, at several positions, in both directions: every
// call leaves the pins balanced and the machine consistent (the fixture checks both after
// each call), returns a sane result, and moves exactly the bytes its return value says.
class InjectedFailures : public DirTest {};
INSTANTIATE_TEST_SUITE_P(Pvm, InjectedFailures, ::testing::Values(Dir::kRead, Dir::kWrite),
                         DirParamName());

TEST_P(InjectedFailures, PinsBalancedAndBytesConsistent) {
  // Remote: 4 filled pages, 4 never-touched pages, 20 filled pages; local: 40 pages.
  MapRemote(R, 4 * kPage);
  Map(target_, R + 4 * kPage, 4 * kPage, kRW);
  MapRemote(R + 8 * kPage, 20 * kPage);
  MapLocal(L, 40 * kPage);
  IovList remote;
  for (int i = 0; i < 10; ++i) remote.push_back({R + i * 2 * kPage + 100 * i, 2 * kPage + 50});
  const IovList local = {{L, 20 * kPage}, {L + 20 * kPage + 3, 20 * kPage - 3}};
  const uint64_t lvec = PlaceIovecs(local), rvec = PlaceIovecs(remote);
  const uint64_t full = StreamLen(remote);
  int calls = 0, failed = 0;
  for (const char* point : kernel::fault_point_names) {
    for (int skip : {0, 1, 2, 5, 9, 30}) {
      for (int64_t times : {int64_t{1}, int64_t{-1}}) {
        SCOPED_TRACE(absl::StrCat(point, " skip ", skip, " times ", times));
        const Snapshot before = TakeSnapshot();
        sim::SysResult r;
        {
          ScopedFault inj(m(), point, skip, times);
          r = CallRaw(dir(), caller_, target_, lvec, local.size(), rvec, remote.size());
        }
        const uint64_t failures = m().FaultFailures(point);
        ++calls;
        if (failures > 0) ++failed;
        EXPECT_TRUE((r.ret >= 0 && r.err == 0) || (r.ret == -1 && r.err != 0)) << Show(r);
        EXPECT_LE(r.ret, static_cast<long>(full));
        if (r.ret == -1) {
          EXPECT_TRUE(r.err == EFAULT || r.err == ENOMEM) << Show(r);
        }
        if (r.ret > 0) {
          ExpectStreamCopy(dir(), local, remote, r.ret, before);
        } else {
          ExpectUntouched(before);
        }
        if (failures == 0) {
          EXPECT_TRUE(Returns(r, full)) << "nothing was injected, so the call must complete";
        }
        if (HasFailure()) return;
      }
    }
  }
  EXPECT_GT(failed, 0) << "no fault point fired in " << calls << " calls";
  RecordProperty("calls", calls);
  RecordProperty("calls_with_injected_failures", failed);
}

}  // namespace
}  // namespace pvmtest
