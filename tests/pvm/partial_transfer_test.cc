// tests/pvm/partial_transfer_test.cc: the partial-transfer rule of docs/semantics.md §4, byte for byte.
//
// The rule (docs/semantics.md §4): the walk over the streams stops at
//  * the first remote page that cannot be pinned: the stop point is that page's start, or
//    the element's start if the element begins inside that page (4 KiB granularity in the
//    remote address space; neither iovec elements nor 1024-page pin batches matter);
//  * the first local byte that cannot be accessed (byte granularity);
//  * the end of either stream (a local stream that runs out first is no error).
// The call returns the bytes moved if > 0, else -1 EFAULT; later elements are never
// processed. Every test checks the return value and, through DirTest::Transfer, every byte of
// both sides: stream positions [0, ret) moved, nothing else changed.
//
// Layout names: R.. are target regions (kRemote + ...), L.. caller regions (kLocal + ...).
#include <cstdint>
#include <vector>

#include "gtest/gtest.h"
#include "tests/pvm/pvm_fixture.h"

namespace pvmtest {
namespace {

class PartialTransfer : public DirTest {};

INSTANTIATE_TEST_SUITE_P(Pvm, PartialTransfer, ::testing::Values(Dir::kRead, Dir::kWrite),
                         DirParamName());

constexpr uint64_t L = kLocal;
constexpr uint64_t R = kRemote;

// ---- remote holes --------------------------------------------------------------------

// A hole at the start of an element: the first element -> -1 EFAULT; a later element ->
// the bytes of the earlier ones.
TEST_P(PartialTransfer, HoleAtStartOfElement) {
  MapRemote(R + kPage, 3 * kPage);  // page 0 is a hole
  MapLocal(L, 8 * kPage);
  EXPECT_TRUE(Fails(Transfer(IovList{{L, 8 * kPage}}, IovList{{R, 4 * kPage}}), EFAULT));
  EXPECT_TRUE(Fails(Transfer(IovList{{L, 8 * kPage}}, IovList{{R + 4095, 2}}), EFAULT))
      << "element starts on the last byte of the hole";
  EXPECT_TRUE(Returns(
      Transfer(IovList{{L, 8 * kPage}}, IovList{{R + kPage + 10, 300}, {R + 100, kPage}}), 300));
}

// A hole in the middle of an element: bytes up to the hole's first byte.
TEST_P(PartialTransfer, HoleInMiddleOfElement) {
  MapRemote(R, 3 * kPage);
  MapRemote(R + 4 * kPage, 3 * kPage);  // page 3 is a hole
  MapLocal(L, 8 * kPage);
  EXPECT_TRUE(
      Returns(Transfer(IovList{{L, 8 * kPage}}, IovList{{R + 100, 6 * kPage}}), 3 * kPage - 100));
  // The same hole, reached through two local elements.
  EXPECT_TRUE(Returns(Transfer(IovList{{L + 1, 5000}, {L + 3 * kPage, 4 * kPage}},
                               IovList{{R + 2 * kPage + 1, 2 * kPage}}),
                      kPage - 1));
}

// A hole at the end of an element: everything up to the end of the mapping.
TEST_P(PartialTransfer, HoleAtEndOfElement) {
  MapRemote(R, 3 * kPage);
  MapLocal(L, 8 * kPage);
  EXPECT_TRUE(Returns(Transfer(IovList{{L, 8 * kPage}}, IovList{{R + 2 * kPage + 5, kPage}}),
                      kPage - 5));
  EXPECT_TRUE(Returns(Transfer(IovList{{L, 8 * kPage}}, IovList{{R, 3 * kPage + 1}}), 3 * kPage))
      << "one byte into the hole";
}

// A failing second element after a good first one: the first element's bytes plus the valid
// prefix of the second; the (valid) third element is not processed.
TEST_P(PartialTransfer, FailingSecondElementStopsTheWalk) {
  MapRemote(R, 2 * kPage);
  MapRemote(R + 0x10000, 2 * kPage);
  MapLocal(L, 16 * kPage);
  const IovList local = {{L, 16 * kPage}};
  EXPECT_TRUE(Returns(Transfer(local, IovList{{R + 5, 1000}, {R + kPage + 7, 2 * kPage},
                                              {R + 0x10000, 2 * kPage}}),
                      1000 + kPage - 7));
  EXPECT_TRUE(Returns(
      Transfer(local, IovList{{R, 2 * kPage}, {R + 0x8000, 10}, {R + 0x10000, kPage}}),
      2 * kPage))
      << "second element entirely in a hole";
}

// The local stream runs out before a bad remote page: the full local count, no error.
TEST_P(PartialTransfer, LocalStreamRunsOutBeforeBadRemotePage) {
  MapRemote(R, 2 * kPage);
  MapLocal(L, 4 * kPage);
  EXPECT_TRUE(Returns(Transfer(IovList{{L, 2 * kPage}}, IovList{{R, 100 * kPage}}), 2 * kPage));
  EXPECT_TRUE(Returns(Transfer(IovList{{L, 2 * kPage - 1}}, IovList{{R + 1, 2 * kPage}}),
                      2 * kPage - 1))
      << "the last local byte is the last mapped remote byte";
  EXPECT_TRUE(Returns(Transfer(IovList{{L, 100}}, IovList{{R, 100}, {kMinusOne, 10}}), 100))
      << "the bad element is never reached";
}

// Transfers crossing the 1024-page pin batch, with a hole just after it. The batch does not
// change the result: the stop is the hole's first byte.
TEST_P(PartialTransfer, CrossingThe1024PageBatchWithHoleJustAfter) {
  constexpr uint64_t n = kPinBatchPages;
  MapRemote(R, (n + 1) * kPage);  // 1025 pages, then a hole
  MapLocal(L, (n + 8) * kPage);
  const IovList local = {{L, (n + 8) * kPage}};
  // From R: batch 1 = pages 0..1023, batch 2 = page 1024 (mapped) then 1025 (hole).
  EXPECT_TRUE(Returns(Transfer(local, IovList{{R, (n + 4) * kPage}}), (n + 1) * kPage));
  // From mid-page: batch 1 = pages 0..1023 again; the stop is still page 1025.
  EXPECT_TRUE(Returns(Transfer(local, IovList{{R + 100, (n + 4) * kPage}}), (n + 1) * kPage - 100));
  // A hole exactly at the first page of the second batch.
  const uint64_t R2 = R + 0x1000000;
  MapRemote(R2, n * kPage);
  EXPECT_TRUE(Returns(Transfer(local, IovList{{R2, (n + 4) * kPage}}), n * kPage));
  EXPECT_TRUE(Returns(Transfer(local, IovList{{R2 + 4095, (n + 4) * kPage}}), n * kPage - 4095));
}

// The old worked example (docs/semantics.md §4.1, §11): an element (A + 38 pages + 100, 3 pages) with a
// hole at page 40 returns 8092 (v3.2..v3.15 returned -1 EFAULT: batch-atomic).
TEST_P(PartialTransfer, SeedEraExampleReturns8092) {
  const uint64_t A = R;
  MapRemote(A, 40 * kPage);  // pages 0..39; page 40 is a hole
  MapRemote(A + 41 * kPage, 4 * kPage);
  MapLocal(L, 4 * kPage);
  EXPECT_TRUE(Returns(Transfer(IovList{{L, 4 * kPage}}, IovList{{A + 38 * kPage + 100, 3 * kPage}}),
                      8092));
}

// An element starting mid-page on a bad page: the stop is the element's own start.
TEST_P(PartialTransfer, ElementStartingMidPageOnBadPage) {
  MapRemote(R, 2 * kPage);
  // Page 2: a page the direction cannot use (PROT_NONE); page 3 a hole.
  MapRemote(R + 2 * kPage, kPage, kNone);
  MapLocal(L, 4 * kPage);
  const IovList local = {{L, 4 * kPage}};
  EXPECT_TRUE(Returns(Transfer(local, IovList{{R + 100, 200}, {R + 2 * kPage + 50, 100}}), 200))
      << "PROT_NONE page";
  EXPECT_TRUE(Returns(Transfer(local, IovList{{R + 100, 200}, {R + 3 * kPage + 3000, 100}}), 200))
      << "hole";
  EXPECT_TRUE(Fails(Transfer(local, IovList{{R + 2 * kPage + 4000, 200}}), EFAULT))
      << "first element";
}

// ---- local faults -------------------------------------------------------------------

// The local stream meets an unmapped page: byte-exact stop at its first byte, also when the
// remote side is page-misaligned against it.
TEST_P(PartialTransfer, LocalUnmappedPageInTheMiddleIsByteExact) {
  MapRemote(R, 8 * kPage);
  MapLocal(L, 2 * kPage);
  MapLocal(L + 3 * kPage, 2 * kPage);  // page 2 is a hole
  EXPECT_TRUE(Returns(Transfer(IovList{{L + 1, 4 * kPage}}, IovList{{R + 333, 6 * kPage}}),
                      2 * kPage - 1));
  EXPECT_TRUE(Returns(Transfer(IovList{{L + 3 * kPage + 7, 5}, {L + 2 * kPage - 9, 100}},
                               IovList{{R + 333, 6 * kPage}}),
                      5 + 9))
      << "second local element runs into the hole";
}

// The local stream meets a PROT_NONE page: byte-exact stop.
TEST_P(PartialTransfer, LocalProtNonePageInTheMiddleIsByteExact) {
  MapRemote(R, 8 * kPage);
  MapLocal(L, 5 * kPage);
  Protect(caller_, L + 2 * kPage, kPage, kNone);
  EXPECT_TRUE(Returns(Transfer(IovList{{L + 4001, 4 * kPage}}, IovList{{R + 1, 6 * kPage}}),
                      2 * kPage - 4001));
  EXPECT_TRUE(Fails(Transfer(IovList{{L + 2 * kPage + 1, 10}}, IovList{{R, kPage}}), EFAULT));
}

// A local fault and a remote fault in the same call: whichever comes first in the stream
// decides.
TEST_P(PartialTransfer, EarlierOfLocalAndRemoteFaultWins) {
  MapRemote(R, 3 * kPage);  // remote hole at R + 3 pages
  MapLocal(L, 5 * kPage);
  Protect(caller_, L + 2 * kPage, kPage, kNone);
  // Local fault at stream position 2*4096 - 10; remote hole at 3*4096 - 10.
  EXPECT_TRUE(Returns(Transfer(IovList{{L + 10, 5 * kPage}}, IovList{{R + 10, 4 * kPage}}),
                      2 * kPage - 10));
  // Remote hole at stream position 1*4096 - 10, before the local fault.
  EXPECT_TRUE(Returns(Transfer(IovList{{L + 10, 5 * kPage}}, IovList{{R + 2 * kPage + 10, 4 * kPage}}),
                      kPage - 10));
}

// The local-side asymmetry (docs/semantics.md §4.5): the local side is checked by the
// CPU, where any of r/w/x allows a read and only w allows a write. So a local -w- page can be
// readv's destination and writev's source, a local --x (or r--, r-x) page can be writev's
// source but not readv's destination.
TEST_P(PartialTransfer, LocalWriteOnlyAndExecOnlyPages) {
  MapRemote(R, 4 * kPage);
  const uint64_t Lw = L, Lx = L + 0x10000, Lr = L + 0x20000, Lrx = L + 0x30000;
  MapLocal(Lw, kPage, kW);
  MapLocal(Lx, kPage, kX);
  MapLocal(Lr, kPage, kR);
  MapLocal(Lrx, kPage, kR | kX);
  const IovList remote = {{R + 10, 3 * kPage}};
  EXPECT_TRUE(Returns(Transfer(IovList{{Lw, kPage}}, remote), kPage)) << "-w-";
  if (reading()) {
    EXPECT_TRUE(Fails(Transfer(IovList{{Lx, kPage}}, remote), EFAULT)) << "--x destination";
    EXPECT_TRUE(Fails(Transfer(IovList{{Lr, kPage}}, remote), EFAULT)) << "r-- destination";
    EXPECT_TRUE(Fails(Transfer(IovList{{Lrx, kPage}}, remote), EFAULT)) << "r-x destination";
    EXPECT_TRUE(Returns(Transfer(IovList{{Lw + 100, kPage - 100}, {Lx, 10}}, remote), kPage - 100))
        << "-w- then --x";
  } else {
    EXPECT_TRUE(Returns(Transfer(IovList{{Lx, kPage}}, remote), kPage)) << "--x source";
    EXPECT_TRUE(Returns(Transfer(IovList{{Lr, kPage}}, remote), kPage)) << "r-- source";
    EXPECT_TRUE(Returns(Transfer(IovList{{Lrx, kPage}}, remote), kPage)) << "r-x source";
  }
}

// ---- remote protections --------------------------------------------------------------

// The remote side is checked by GUP's check_vma_flags: reading needs VM_READ, writing needs
// VM_WRITE. Remote --x and -w- fail readv; remote r-- and r-x fail writev; remote -w- is fine
// for writev; PROT_NONE fails both. Each bad page stops the walk at its first byte.
TEST_P(PartialTransfer, RemoteProtections) {
  struct Case {
    const char* name;
    int prot;
    bool readable, writable;
  };
  MapLocal(L, 4 * kPage);
  uint64_t at = R;
  for (const Case& c : {Case{"---", kNone, false, false}, Case{"r--", kR, true, false},
                        Case{"--x", kX, false, false}, Case{"-w-", kW, false, true},
                        Case{"r-x", kR | kX, true, false}, Case{"rw-", kRW, true, true},
                        Case{"rwx", kRW | kX, true, true}}) {
    SCOPED_TRACE(c.name);
    // [rw- page][page with c.prot]
    MapRemote(at, 2 * kPage);
    if (c.prot != kRW) Protect(target_, at + kPage, kPage, c.prot);
    const bool ok = reading() ? c.readable : c.writable;
    EXPECT_TRUE(Returns(Transfer(IovList{{L, 4 * kPage}}, IovList{{at + 100, 2 * kPage - 100}}),
                        ok ? 2 * kPage - 100 : kPage - 100));
    const sim::SysResult r = Transfer(IovList{{L, 4 * kPage}}, IovList{{at + kPage + 1, 10}});
    EXPECT_TRUE(ok ? Returns(r, 10) : Fails(r, EFAULT));
    at += 0x10000;
  }
}

// ---- element bookkeeping -------------------------------------------------------------

// Zero-length elements anywhere in either vector add nothing to the stream.
TEST_P(PartialTransfer, ZeroLengthElements) {
  MapRemote(R, 3 * kPage);
  MapLocal(L, 2 * kPage);
  // (Zero-length local elements still pass access_ok, so their bases are user addresses;
  // see ErrorTable.Step2_ZeroLengthLocalElementAtMinusOneIsEfault.)
  const IovList local = {{0, 0}, {L + 4000, 0}, {L + 4000, 200}, {L + 8 * kPage, 0}, {L, 0},
                         {L + 10, 50}, {L, 0}};
  const IovList remote = {{R + 3, 0}, {kKernelAddr, 0}, {R + 4090, 10}, {R, 0}, {R + 8000, 240},
                          {0, 0}};
  EXPECT_TRUE(Returns(Transfer(local, remote), 250));
  EXPECT_TRUE(Returns(Transfer(local, IovList{{R, 0}, {R + 1, 0}}), 0)) << "only empty remote";
}

// 1024 iovecs on each side work; 1025 on either side is EINVAL.
TEST_P(PartialTransfer, Iovecs1024And1025) {
  MapRemote(R, 1025 * kPage);
  MapLocal(L, 1025 * kPage);
  IovList remote, local;
  // Remote: 1024 one-page elements in reverse page order; local: 1024 elements of 4096 bytes
  // each starting 7 bytes into a page.
  for (uint64_t i = 0; i < 1024; ++i) remote.push_back({R + (1023 - i) * kPage, kPage});
  for (uint64_t i = 0; i < 1024; ++i) local.push_back({L + i * kPage + 7, kPage});
  EXPECT_TRUE(Returns(Transfer(local, remote), 1024 * kPage));
  remote.push_back({R + 1024 * kPage, kPage});
  EXPECT_TRUE(Fails(Transfer(local, remote), EINVAL)) << "riovcnt 1025";
  remote.pop_back();
  local.push_back({L + 1024 * kPage, 1});
  EXPECT_TRUE(Fails(Transfer(local, remote), EINVAL)) << "liovcnt 1025";
}

// Remote elements may overlap and repeat; each is walked independently, in order.
TEST_P(PartialTransfer, OverlappingRemoteElements) {
  MapRemote(R, 2 * kPage);
  MapLocal(L, 4 * kPage);
  const IovList remote = {{R + 100, 300}, {R, 1000}, {R + 100, 300}, {R + kPage - 1, 2}};
  EXPECT_TRUE(Returns(Transfer(IovList{{L, 4 * kPage}}, remote), 1602));
}

}  // namespace
}  // namespace pvmtest
