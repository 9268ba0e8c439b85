// tests/pvm/error_table_test.cc: the error table of docs/semantics.md §3, row by row, for readv and writev.
//
// Each TEST_P runs twice, as process_vm_readv and as process_vm_writev, and checks the exact
// return value and errno of one row of the error/return-value table, in the table's order of
// checks:
//   1 flags; 2 local vector (count, array copy, length sign, access_ok, clamp);
//   3 local total == 0 -> 0; 4 remote vector (count, array copy, length sign);
//   5 all remote lengths 0 -> 0; 6 kmalloc; 7 pid lookup; 8 mm and permission; 9 transfer.
// Where a row says nothing moves, the test checks that every byte of both sides is as before;
// where it transfers, the bytes follow the partial-transfer rule (ExpectStreamCopy).
// The order-of-check consequences get their own tests (an invalid pid is reported only
// when steps 1-6 pass, permission comes before any remote address, ...).
//
// Set-up of every test (MapPair): L = 4 pages at kLocal in `caller`, R = 4 pages at kRemote
// in `target`. The source side of the direction (R for readv, L for writev) holds the
// pattern, the destination side holds kLocalFill. Both processes are root.
//
// The rows about file mappings, MAP_SHARED, [vvar] and COW-shared pages use the
// Machine's sharing features (CreateFile, file Mmap, MapVvar, Fork).
#include <climits>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "tests/pvm/pvm_fixture.h"

namespace pvmtest {
namespace {

constexpr uint64_t L = kLocal;
constexpr uint64_t R = kRemote;
constexpr uint64_t kPairLen = 4 * kPage;

sim::ProcessCreds Creds(uint32_t uid, uint32_t gid, uint64_t caps) {
  sim::ProcessCreds c;
  c.ruid = c.euid = c.suid = uid;
  c.rgid = c.egid = c.sgid = gid;
  c.caps = caps;
  return c;
}
// Recognisable file contents: the pattern of a virtual address no mapping uses.
std::vector<uint8_t> FileData(uint64_t len) { return PatBytes(0x5a5a5000, len); }

constexpr uint64_t kNoCaps = 0;
constexpr uint64_t kCapSysPtrace = uint64_t{1} << kernel::CAP_SYS_PTRACE;
constexpr uint64_t kAllCaps = kernel::CAP_FULL_SET.val;

class ErrorTable : public PvmTestWithParam<Dir> {
 protected:
  void SetUp() override {
    PvmTestWithParam<Dir>::SetUp();
    if (HasFatalFailure()) return;
    MapPairIn(caller_, target_);
    before_ = TakeSnapshot();
  }
  Dir dir() const { return GetParam(); }
  bool reading() const { return GetParam() == Dir::kRead; }

  // L in lpid and R in rpid, the source side with the pattern, the destination with
  // kLocalFill.
  void MapPairIn(int lpid, int rpid, uint64_t l = L, uint64_t r = R, uint64_t len = kPairLen) {
    if (reading()) {
      MapPattern(rpid, r, len);
      MapFilled(lpid, l, len, kLocalFill);
    } else {
      MapPattern(lpid, l, len);
      MapFilled(rpid, r, len, kLocalFill);
    }
  }
  // Re-takes the "before" snapshot after extra set-up.
  void Rebase() { before_ = TakeSnapshot(); }

  sim::SysResult Do(absl::Span<const Iov> local, absl::Span<const Iov> remote,
                    uint64_t flags = 0) {
    return Call(dir(), local, remote, flags);
  }
  sim::SysResult DoPid(int pid, absl::Span<const Iov> local, absl::Span<const Iov> remote) {
    return Call(dir(), caller_, pid, local, remote);
  }
  sim::SysResult DoRaw(uint64_t lvec, uint64_t liovcnt, uint64_t rvec, uint64_t riovcnt,
                       uint64_t flags = 0, int pid = -2) {
    return CallRaw(dir(), caller_, pid == -2 ? target_ : pid, lvec, liovcnt, rvec, riovcnt,
                   flags);
  }
  void ExpectNothingMoved() { ExpectUntouched(before_); }
  void ExpectMoved(absl::Span<const Iov> local, absl::Span<const Iov> remote, long n) {
    ExpectStreamCopy(dir(), local, remote, n, before_);
  }

  // A process with the given credentials and the same 4-page mappings as L or R (the
  // source/destination role of `as_local`).
  int NewProcess(const std::string& comm, const sim::ProcessCreds& creds) {
    auto p = m().CreateProcess(comm, creds);
    EXPECT_TRUE(p.ok()) << "CreateProcess(" << comm << "): " << p.status();
    CheckVm("CreateProcess " + comm);
    return p.ok() ? *p : -1;
  }

  // The permission rows: a fresh caller and target with the given credentials, a 4-page
  // call between them, and the bytes checked (moved on success, untouched otherwise).
  // `tweak(caller, target)` runs after the mappings are made.
  sim::SysResult CallAs(const sim::ProcessCreds& c, const sim::ProcessCreds& t,
                        const std::function<void(int, int)>& tweak = nullptr) {
    const int cp = NewProcess("pcaller", c), tp = NewProcess("ptarget", t);
    if (cp < 0 || tp < 0) return {-2, 0};
    MapPairIn(cp, tp);
    if (tweak) tweak(cp, tp);
    const Snapshot snap = TakeSnapshot();
    const IovList local = {{L, kPairLen}}, remote = {{R, kPairLen}};
    const sim::SysResult r = Call(dir(), cp, tp, local, remote);
    if (r.ret > 0) {
      ExpectStreamCopy(dir(), local, remote, r.ret, snap, cp, tp);
    } else {
      ExpectUntouched(snap);
    }
    return r;
  }

  Snapshot before_;
};

INSTANTIATE_TEST_SUITE_P(Pvm, ErrorTable, ::testing::Values(Dir::kRead, Dir::kWrite),
                         DirParamName());

// ---------------------------------------------------------------------------------------
// Baseline: the set-up itself works (a 4-page transfer moves exactly those bytes).
TEST_P(ErrorTable, BaselineFullTransfer) {
  const IovList local = {{L, kPairLen}}, remote = {{R, kPairLen}};
  EXPECT_TRUE(Returns(Do(local, remote), kPairLen));
  ExpectMoved(local, remote, kPairLen);
}

// ---- step 1: flags ----------------------------------------------------------------------

// Row: flags != 0 (any bit, including bit 63) -> -1 EINVAL, before anything else.
TEST_P(ErrorTable, Step1_AnyFlagBitIsEinval) {
  const IovList local = {{L, kPairLen}}, remote = {{R, kPairLen}};
  for (uint64_t flags : {uint64_t{1}, uint64_t{2}, uint64_t{0x80000000}, uint64_t{INT_MAX},
                         static_cast<uint64_t>(-static_cast<int64_t>(INT_MAX)), ~uint64_t{0},
                         uint64_t{1} << 63}) {
    SCOPED_TRACE(Hex(flags));
    EXPECT_TRUE(Fails(Do(local, remote, flags), EINVAL));
  }
  ExpectNothingMoved();
}

// Order: the flags check comes before everything else: before the local count, before the
// local array copy, before "local total 0 -> 0", before "riovcnt 0 -> 0", before the pid.
TEST_P(ErrorTable, Step1_FlagsCheckedBeforeEverythingElse) {
  const uint64_t lgood = PlaceIovecs(IovList{{L, 16}});
  const uint64_t rgood = PlaceIovecs(IovList{{R, 16}});
  EXPECT_TRUE(Fails(DoRaw(lgood, 1025, rgood, 1, 1), EINVAL)) << "liovcnt 1025";
  EXPECT_TRUE(Fails(DoRaw(0, 1, rgood, 1, 1), EINVAL)) << "lvec NULL";
  EXPECT_TRUE(Fails(DoRaw(lgood, 0, rgood, 1, 1), EINVAL)) << "liovcnt 0 would return 0";
  EXPECT_TRUE(Fails(DoRaw(lgood, 1, rgood, 0, 1), EINVAL)) << "riovcnt 0 would return 0";
  EXPECT_TRUE(Fails(DoRaw(lgood, 1, kMinusOne, 1, 1), EINVAL)) << "rvec (void*)-1";
  EXPECT_TRUE(Fails(DoRaw(lgood, 1, rgood, 1, 1, -1), EINVAL)) << "pid -1";
  ExpectNothingMoved();
}

// ---- step 2: the local vector -----------------------------------------------------------

// Row: liovcnt > 1024 -> -1 EINVAL (checked before the array is read: a NULL lvec gives
// EINVAL too).
TEST_P(ErrorTable, Step2_LiovcntOver1024IsEinval) {
  IovList many(1025, Iov{L, 1});
  const uint64_t lvec = PlaceIovecs(many);
  const uint64_t rvec = PlaceIovecs(IovList{{R, kPairLen}});
  EXPECT_TRUE(Fails(DoRaw(lvec, 1025, rvec, 1), EINVAL)) << "1025 valid elements";
  EXPECT_TRUE(Fails(DoRaw(0, 1025, rvec, 1), EINVAL)) << "NULL array";
  EXPECT_TRUE(Fails(DoRaw(lvec, 0xffffffff, rvec, 1), EINVAL)) << "UINT_MAX";
  ExpectNothingMoved();
}

// Row: import_iovec takes an `unsigned` count, so liovcnt is cut to its low 32 bits
// (measured on Linux 6.18, docs/semantics.md §2.3.1): 2^32 + 1 is one element, 2^32 is none
// (the call returns 0). riovcnt is checked against UIO_MAXIOV as the full 64-bit value.
TEST_P(ErrorTable, Step2_LiovcntIsCutTo32Bits) {
  const IovList local = {{L, kPairLen}}, remote = {{R, kPairLen}};
  const uint64_t lvec = PlaceIovecs(local), rvec = PlaceIovecs(remote);
  const uint64_t k2to32 = uint64_t{1} << 32;
  EXPECT_TRUE(Fails(DoRaw(lvec, 1, rvec, k2to32 + 1), EINVAL)) << "riovcnt 2^32 + 1";
  EXPECT_TRUE(Returns(DoRaw(lvec, k2to32, rvec, 1), 0)) << "liovcnt 2^32";
  ExpectNothingMoved();
  EXPECT_TRUE(Returns(DoRaw(lvec, k2to32 + 1, rvec, 1), kPairLen)) << "liovcnt 2^32 + 1";
  ExpectMoved(local, remote, kPairLen);
}

// Row: liovcnt == 1024 -> OK (1024 one-byte local elements receive/provide 1024 bytes).
TEST_P(ErrorTable, Step2_Liovcnt1024IsAccepted) {
  IovList local;
  for (uint64_t i = 0; i < 1024; ++i) local.push_back({L + 3 * i, 1});
  const IovList remote = {{R + 100, 1024}};
  EXPECT_TRUE(Returns(Do(local, remote), 1024));
  ExpectMoved(local, remote, 1024);
}

// Row: lvec array pointer NULL, (void*)-1, or partly unreadable -> -1 EFAULT; nothing moves
// (the array copy is all or nothing).
TEST_P(ErrorTable, Step2_LocalArrayFaultIsEfault) {
  const IovList two = {{L, kPage}, {L + kPage, kPage}};
  const uint64_t rvec = PlaceIovecs(IovList{{R, kPairLen}});
  EXPECT_TRUE(Fails(DoRaw(0, 2, rvec, 1), EFAULT)) << "NULL";
  EXPECT_TRUE(Fails(DoRaw(kMinusOne, 2, rvec, 1), EFAULT)) << "(void*)-1";
  EXPECT_TRUE(Fails(DoRaw(kMinusOne, 1, rvec, 1), EFAULT)) << "(void*)-1, liovcnt 1";
  // The first element is readable and valid, the second lies in a hole.
  const uint64_t partly = PlaceIovecsRunningIntoHole(two, 1);
  EXPECT_TRUE(Fails(DoRaw(partly, 2, rvec, 1), EFAULT)) << "partly unreadable";
  ExpectNothingMoved();
}

// Row: one local iov_len > SSIZE_MAX -> -1 EINVAL; nothing moves. With several elements, the
// length-sign check of the array copy comes before access_ok of any element.
TEST_P(ErrorTable, Step2_LocalLengthAboveSsizeMaxIsEinval) {
  const IovList remote = {{R, kPairLen}};
  EXPECT_TRUE(Fails(Do(IovList{{L, kSsizeMax + 1}}, remote), EINVAL)) << "single";
  EXPECT_TRUE(Fails(Do(IovList{{L, kPage}, {L, ~uint64_t{0}}}, remote), EINVAL)) << "second";
  EXPECT_TRUE(Fails(Do(IovList{{kKernelAddr, 10}, {L, kSsizeMax + 1}}, remote), EINVAL))
      << "an access_ok failure in element 0 does not hide element 1's negative length";
  ExpectNothingMoved();
}

// Row: sum of local lengths > SSIZE_MAX with each <= SSIZE_MAX -> -1 EFAULT (not EINVAL):
// the huge element fails access_ok.
TEST_P(ErrorTable, Step2_LocalSumAboveSsizeMaxIsEfault) {
  const IovList local = {{L, uint64_t{1} << 62}, {L, uint64_t{1} << 62},
                         {L, uint64_t{1} << 62}};
  EXPECT_TRUE(Fails(Do(local, IovList{{R, kPairLen}}), EFAULT));
  const IovList two = {{L, kPage}, {L, kSsizeMax}};
  EXPECT_TRUE(Fails(Do(two, IovList{{R, kPairLen}}), EFAULT));
  ExpectNothingMoved();
}

// Row: a local element with base+len > TASK_SIZE and liovcnt >= 2 -> -1 EFAULT (access_ok on
// the unclamped length); nothing moves, not even the valid first element.
TEST_P(ErrorTable, Step2_LocalElementPastTaskSizeMultiIsEfault) {
  const IovList remote = {{R, kPairLen}};
  EXPECT_TRUE(Fails(Do(IovList{{L, kPage}, {L + kPage, kTaskSizeMax - L}}, remote), EFAULT));
  EXPECT_TRUE(Fails(Do(IovList{{L, kPage}, {kTaskSizeMax - 100, 200}}, remote), EFAULT));
  EXPECT_TRUE(Fails(Do(IovList{{L, kTaskSizeMax}, {L, kPage}}, remote), EFAULT));
  ExpectNothingMoved();
}

// Row: the same with liovcnt == 1 -> clamped to 0x7ffff000 and succeeds (ITER_UBUF, >= 6.4):
// the transfer is then limited by the remote stream.
TEST_P(ErrorTable, Step2_LocalElementPastTaskSizeSingleIsClamped) {
  const IovList local = {{L, kTaskSizeMax}}, remote = {{R, kPage + 123}};
  EXPECT_TRUE(Returns(Do(local, remote), kPage + 123));
  ExpectMoved(local, remote, kPage + 123);
}

// Row: a zero-length local element with base (void*)-1 and liovcnt >= 2 -> -1 EFAULT
// (access_ok(-1, 0) fails); nothing moves.
TEST_P(ErrorTable, Step2_ZeroLengthLocalElementAtMinusOneIsEfault) {
  EXPECT_TRUE(Fails(Do(IovList{{L, kPage}, {kMinusOne, 0}}, IovList{{R, kPairLen}}), EFAULT));
  EXPECT_TRUE(Fails(Do(IovList{{kMinusOne, 0}, {L, kPage}}, IovList{{R, kPairLen}}), EFAULT));
  ExpectNothingMoved();
}

// Row: a local element with a kernel address (liovcnt >= 2) -> -1 EFAULT at import; nothing
// moves (the valid element before it stays untouched).
TEST_P(ErrorTable, Step2_LocalKernelAddressIsEfaultAtImport) {
  const IovList remote = {{R, kPairLen}};
  EXPECT_TRUE(Fails(Do(IovList{{L, kPage}, {kKernelAddr, 10}}, remote), EFAULT));
  EXPECT_TRUE(Fails(Do(IovList{{L, kPage}, {kNonCanonical, 10}}, remote), EFAULT));
  ExpectNothingMoved();
}

// Row: a local element with base NULL and len > 0 (liovcnt >= 2) passes import and faults
// during the copy: a partial transfer of the bytes before it.
TEST_P(ErrorTable, Step2_LocalNullElementFaultsOnCopy) {
  const IovList local = {{L, 100}, {0, 100}}, remote = {{R, 200}};
  EXPECT_TRUE(Returns(Do(local, remote), 100));
  ExpectMoved(local, remote, 100);
}

// ---- step 3: local total == 0 -> 0 --------------------------------------------------------

// Row: liovcnt == 0 (any lvec, any pid) -> 0.
TEST_P(ErrorTable, Step3_LiovcntZeroReturnsZero) {
  const uint64_t rvec = PlaceIovecs(IovList{{R, kPairLen}});
  EXPECT_TRUE(Returns(DoRaw(0, 0, rvec, 1), 0));
  EXPECT_TRUE(Returns(DoRaw(kMinusOne, 0, rvec, 1, 0, -1), 0)) << "lvec -1, pid -1";
  EXPECT_TRUE(Returns(DoRaw(kMinusOne, 0, kMinusOne, 5000, 0, 31337), 0))
      << "rvec -1 and riovcnt 5000 are never looked at";
  ExpectNothingMoved();
}

// Order: with a local total of 0 the remote vector is never read: riovcnt 1025, a bad rvec
// pointer, a negative remote length and an invalid pid all still give 0.
TEST_P(ErrorTable, Step3_LocalTotalZeroSkipsRemoteChecks) {
  const uint64_t lzero = PlaceIovecs(IovList{{L, 0}});
  const uint64_t lzeros = PlaceIovecs(IovList{{L, 0}, {0, 0}, {L + 5, 0}});
  const uint64_t rvec = PlaceIovecs(IovList{{R, kPairLen}});
  const uint64_t rneg = PlaceIovecs(IovList{{R, kSsizeMax + 1}});
  EXPECT_TRUE(Returns(DoRaw(lzero, 1, rvec, 1025), 0)) << "riovcnt 1025 with local total 0";
  EXPECT_TRUE(Returns(DoRaw(lzeros, 3, rvec, 1025), 0)) << "riovcnt 1025, 3 empty elements";
  EXPECT_TRUE(Returns(DoRaw(lzero, 1, 0, 1), 0)) << "rvec NULL";
  EXPECT_TRUE(Returns(DoRaw(lzero, 1, kMinusOne, 1), 0)) << "rvec (void*)-1";
  EXPECT_TRUE(Returns(DoRaw(lzero, 1, rneg, 1), 0)) << "remote length > SSIZE_MAX";
  EXPECT_TRUE(Returns(DoRaw(lzero, 1, rvec, 1, 0, -1), 0)) << "pid -1";
  ExpectNothingMoved();
}

// ---- step 4: the remote vector ----------------------------------------------------------

// Row: riovcnt > 1024 (and local total > 0) -> -1 EINVAL.
TEST_P(ErrorTable, Step4_RiovcntOver1024IsEinval) {
  IovList many(1025, Iov{R, 1});
  EXPECT_TRUE(Fails(Do(IovList{{L, kPairLen}}, many), EINVAL));
  const uint64_t lvec = PlaceIovecs(IovList{{L, kPairLen}});
  EXPECT_TRUE(Fails(DoRaw(lvec, 1, 0, 1025), EINVAL)) << "checked before the array is read";
  EXPECT_TRUE(Fails(DoRaw(lvec, 1, 0, ~uint64_t{0}), EINVAL)) << "ULONG_MAX";
  ExpectNothingMoved();
}

// Row: riovcnt == 1024 -> OK (1024 one-byte remote elements, every third byte).
TEST_P(ErrorTable, Step4_Riovcnt1024IsAccepted) {
  IovList remote;
  for (uint64_t i = 0; i < 1024; ++i) remote.push_back({R + 3 * i, 1});
  const IovList local = {{L + 7, 1024}};
  EXPECT_TRUE(Returns(Do(local, remote), 1024));
  ExpectMoved(local, remote, 1024);
}

// Row: rvec array pointer NULL, (void*)-1, or partly unreadable -> -1 EFAULT; nothing moves.
TEST_P(ErrorTable, Step4_RemoteArrayFaultIsEfault) {
  const uint64_t lvec = PlaceIovecs(IovList{{L, kPairLen}});
  EXPECT_TRUE(Fails(DoRaw(lvec, 1, 0, 1), EFAULT)) << "NULL";
  EXPECT_TRUE(Fails(DoRaw(lvec, 1, kMinusOne, 1), EFAULT)) << "(void*)-1";
  const IovList two = {{R, kPage}, {R + kPage, kPage}};
  const uint64_t partly = PlaceIovecsRunningIntoHole(two, 1);
  EXPECT_TRUE(Fails(DoRaw(lvec, 1, partly, 2), EFAULT)) << "partly unreadable";
  ExpectNothingMoved();
}

// Row: one remote iov_len > SSIZE_MAX -> -1 EINVAL; nothing moves, not even the valid element
// before it.
TEST_P(ErrorTable, Step4_RemoteLengthAboveSsizeMaxIsEinval) {
  const IovList local = {{L, kPairLen}};
  EXPECT_TRUE(Fails(Do(local, IovList{{R, kSsizeMax + 1}}), EINVAL));
  EXPECT_TRUE(Fails(Do(local, IovList{{R, kPage}, {R + kPage, ~uint64_t{0}}}), EINVAL));
  ExpectNothingMoved();
}

// Order: local vector errors come before remote vector errors (an access_ok failure in the
// local vector gives EFAULT even with riovcnt 1025; a local NULL array gives EFAULT even with
// a negative remote length).
TEST_P(ErrorTable, Step4_LocalVectorErrorsComeFirst) {
  const uint64_t lbad = PlaceIovecs(IovList{{L, kPage}, {kKernelAddr, 10}});
  const uint64_t rneg = PlaceIovecs(IovList{{R, kSsizeMax + 1}});
  EXPECT_TRUE(Fails(DoRaw(lbad, 2, rneg, 1025), EFAULT));
  EXPECT_TRUE(Fails(DoRaw(0, 1, rneg, 1), EFAULT));
  ExpectNothingMoved();
}

// Row: a zero-length remote element with any base is skipped, without any check.
TEST_P(ErrorTable, Step4_ZeroLengthRemoteElementAnyBaseIsSkipped) {
  const IovList local = {{L, kPairLen}};
  const IovList remote = {{kMinusOne, 0}, {0, 0}, {kKernelAddr, 0}, {R + 10, 2 * kPage},
                          {kNonCanonical, 0}, {R + 3 * kPage, 100}};
  EXPECT_TRUE(Returns(Do(local, remote), 2 * kPage + 100));
  ExpectMoved(local, remote, 2 * kPage + 100);
}

// Row: the sum of remote lengths > SSIZE_MAX is no error; the local stream limits the
// transfer.
TEST_P(ErrorTable, Step4_RemoteSumAboveSsizeMaxIsAccepted) {
  const IovList local = {{L, 2 * kPage}};
  const IovList remote = {{R, kSsizeMax}, {R, kSsizeMax}, {R, kSsizeMax}};
  EXPECT_TRUE(Returns(Do(local, remote), 2 * kPage));
  ExpectMoved(local, remote, 2 * kPage);
}

// Row: remote iov_len == SSIZE_MAX -> no error; limited by the local stream or by the first
// hole.
TEST_P(ErrorTable, Step4_RemoteLengthSsizeMaxIsLimitedByLocalOrHole) {
  EXPECT_TRUE(Returns(Do(IovList{{L, 100}}, IovList{{R, kSsizeMax}}), 100));
  ExpectMoved(IovList{{L, 100}}, IovList{{R, kSsizeMax}}, 100);
  Rebase();
  // R is 4 pages followed by a hole; the local stream is longer (8 pages in two regions).
  const uint64_t L2 = L + 0x100000;
  MapFilled(caller_, L2, kPairLen, kLocalFill);
  Rebase();
  const IovList local = {{L, kPairLen}, {L2, kPairLen}}, remote = {{R + 1000, kSsizeMax}};
  EXPECT_TRUE(Returns(Do(local, remote), kPairLen - 1000));
  ExpectMoved(local, remote, kPairLen - 1000);
}

// ---- step 5: all remote lengths 0 -> 0 ----------------------------------------------------

// Row: riovcnt == 0 (any rvec, any pid) -> 0, without a pid lookup.
TEST_P(ErrorTable, Step5_RiovcntZeroReturnsZeroWithoutPidLookup) {
  const uint64_t lvec = PlaceIovecs(IovList{{L, kPairLen}});
  EXPECT_TRUE(Returns(DoRaw(lvec, 1, 0, 0), 0));
  EXPECT_TRUE(Returns(DoRaw(lvec, 1, kMinusOne, 0, 0, -1), 0)) << "pid -1";
  EXPECT_TRUE(Returns(DoRaw(lvec, 1, kMinusOne, 0, 0, 31337), 0)) << "unused pid";
  ExpectNothingMoved();
}

// Row: all remote lengths 0 -> 0, without a pid lookup (an invalid pid, a kernel thread and
// a zombie still give 0).
TEST_P(ErrorTable, Step5_AllRemoteLengthsZeroReturnsZeroWithoutPidLookup) {
  const IovList local = {{L, kPairLen}};
  const IovList remote = {{R, 0}, {kMinusOne, 0}, {0, 0}};
  EXPECT_TRUE(Returns(Do(local, remote), 0));
  EXPECT_TRUE(Returns(DoPid(-1, local, remote), 0)) << "pid -1";
  EXPECT_TRUE(Returns(DoPid(0, local, remote), 0)) << "pid 0";
  EXPECT_TRUE(Returns(DoPid(31337, local, remote), 0)) << "unused pid";
  auto kt = m().CreateKthread("kworker");
  ASSERT_TRUE(kt.ok()) << kt.status();
  EXPECT_TRUE(Returns(DoPid(*kt, local, remote), 0)) << "kernel thread";
  ExpectNothingMoved();
}

// ---- step 6: kmalloc -------------------------------------------------------------------

// Row: failure to allocate the iovec or page arrays -> -1 ENOMEM (fault point "failslab").
// Linux kmallocs the local and remote iovec copies only above UIO_FASTIOV (8) elements and
// the page-pointer array only above 16 entries; each of the three allocations is failed.
TEST_P(ErrorTable, Step6_KmallocFailureIsEnomem) {
  IovList nine_local, nine_remote;
  for (uint64_t i = 0; i < 9; ++i) nine_local.push_back({L + i * 100, 100});
  for (uint64_t i = 0; i < 9; ++i) nine_remote.push_back({R + i * 100, 100});
  const uint64_t l1 = PlaceIovecs(IovList{{L, kPairLen}});
  const uint64_t l9 = PlaceIovecs(nine_local);
  const uint64_t r1 = PlaceIovecs(IovList{{R, kPairLen}});
  const uint64_t r9 = PlaceIovecs(nine_remote);
  // 17 pages of remote element: the page array no longer fits the 16 entries on the stack.
  // (The element runs into the hole after R, which does not matter: kmalloc comes first.)
  const uint64_t r17 = PlaceIovecs(IovList{{R, 17 * kPage}});
  struct Row {
    const char* what;
    uint64_t lvec, liovcnt, rvec, riovcnt;
  };
  for (const Row& row : {Row{"9 local iovecs", l9, 9, r1, 1},
                         Row{"9 remote iovecs", l1, 1, r9, 9},
                         Row{"17-entry page array", l1, 1, r17, 1}}) {
    SCOPED_TRACE(row.what);
    sim::SysResult r;
    {
      ScopedFault failslab(m(), "failslab");
      r = DoRaw(row.lvec, row.liovcnt, row.rvec, row.riovcnt);
    }
    EXPECT_TRUE(Fails(r, ENOMEM));
    EXPECT_GE(m().FaultFailures("failslab"), 1u) << "no kmalloc was failed";
  }
  ExpectNothingMoved();
}

// Order: ENOMEM (step 6) comes before the pid lookup (step 7).
TEST_P(ErrorTable, Step6_KmallocFailureComesBeforePidLookup) {
  const uint64_t l1 = PlaceIovecs(IovList{{L, kPairLen}});
  const uint64_t r17 = PlaceIovecs(IovList{{R, 17 * kPage}});
  sim::SysResult r;
  {
    ScopedFault failslab(m(), "failslab");
    r = DoRaw(l1, 1, r17, 1, 0, -1);
  }
  EXPECT_TRUE(Fails(r, ENOMEM));
  ExpectNothingMoved();
}

// With at most 8 iovecs per side and at most 16 page entries nothing is kmalloc'd (the
// kernel uses its on-stack arrays), so a failing kmalloc cannot affect the call.
TEST_P(ErrorTable, Step6_SmallCallsDoNotKmalloc) {
  const IovList local = {{L, kPairLen}}, remote = {{R, kPairLen}};
  const uint64_t l1 = PlaceIovecs(local);
  const uint64_t r1 = PlaceIovecs(remote);
  sim::SysResult r;
  {
    ScopedFault failslab(m(), "failslab");
    r = DoRaw(l1, 1, r1, 1);
  }
  EXPECT_TRUE(Returns(r, kPairLen));
  EXPECT_EQ(m().FaultCalls("failslab"), 0u) << "a 1+1-element, 4-page call kmalloc'd";
  ExpectMoved(local, remote, kPairLen);
}

// ---- step 7: pid lookup ------------------------------------------------------------------

// Row: pid <= 0, unused, or > pid_max -> -1 ESRCH; nothing moves.
TEST_P(ErrorTable, Step7_InvalidPidIsEsrch) {
  const IovList local = {{L, kPairLen}}, remote = {{R, kPairLen}};
  ASSERT_EQ(m().FindTask(31337), nullptr) << "pick another unused pid";
  const int pid_max = m().Inspect([](const kernel::kernel_state& ks) { return ks.pid_max; });
  for (int pid : {0, -1, INT_MIN, 31337, pid_max + 1, INT_MAX}) {
    SCOPED_TRACE(pid);
    EXPECT_TRUE(Fails(DoPid(pid, local, remote), ESRCH));
  }
  ExpectNothingMoved();
}

// Order: an invalid pid is reported only when steps 1-6 pass.
TEST_P(ErrorTable, Step7_InvalidPidReportedOnlyAfterEarlierSteps) {
  const uint64_t lgood = PlaceIovecs(IovList{{L, kPairLen}});
  const uint64_t lzero = PlaceIovecs(IovList{{L, 0}});
  const uint64_t rgood = PlaceIovecs(IovList{{R, kPairLen}});
  const uint64_t rzero = PlaceIovecs(IovList{{R, 0}});
  const uint64_t rneg = PlaceIovecs(IovList{{R, kSsizeMax + 1}});
  const int bad = -1;
  EXPECT_TRUE(Fails(DoRaw(lgood, 1, rgood, 1, 4, bad), EINVAL)) << "1: flags";
  EXPECT_TRUE(Fails(DoRaw(lgood, 1025, rgood, 1, 0, bad), EINVAL)) << "2: liovcnt";
  EXPECT_TRUE(Fails(DoRaw(0, 2, rgood, 1, 0, bad), EFAULT)) << "2: lvec array";
  EXPECT_TRUE(Returns(DoRaw(lzero, 1, rgood, 1, 0, bad), 0)) << "3: local total 0";
  EXPECT_TRUE(Fails(DoRaw(lgood, 1, rgood, 1025, 0, bad), EINVAL)) << "4: riovcnt";
  EXPECT_TRUE(Fails(DoRaw(lgood, 1, 0, 1, 0, bad), EFAULT)) << "4: rvec array";
  EXPECT_TRUE(Fails(DoRaw(lgood, 1, rneg, 1, 0, bad), EINVAL)) << "4: remote length";
  EXPECT_TRUE(Returns(DoRaw(lgood, 1, rzero, 1, 0, bad), 0)) << "5: remote lengths 0";
  EXPECT_TRUE(Fails(DoRaw(lgood, 1, rgood, 1, 0, bad), ESRCH)) << "7: pid";
  ExpectNothingMoved();
}

// ---- step 8: mm and permission -----------------------------------------------------------

// Row: the pid of a kernel thread -> -1 ESRCH, even for an unprivileged caller (the mm is
// checked before permission).
TEST_P(ErrorTable, Step8_KernelThreadIsEsrch) {
  auto kt = m().CreateKthread("kworker/0:1");
  ASSERT_TRUE(kt.ok()) << kt.status();
  const IovList local = {{L, kPairLen}}, remote = {{R, kPairLen}};
  EXPECT_TRUE(Fails(DoPid(*kt, local, remote), ESRCH)) << "root caller";
  const int unpriv = NewProcess("unpriv", Creds(1000, 1000, kNoCaps));
  MapPairIn(unpriv, target_, L, R + 0x100000);  // the caller needs its own L
  Rebase();
  EXPECT_TRUE(Fails(Call(dir(), unpriv, *kt, local, remote), ESRCH)) << "unprivileged caller";
  ExpectNothingMoved();
}

// Row: a zombie (exited, not reaped) -> -1 ESRCH.
TEST_P(ErrorTable, Step8_ZombieIsEsrch) {
  EXPECT_TRUE(Returns(m().Exit(target_), 0));
  CheckVm("exit(target)");
  const IovList local = {{L, kPairLen}}, remote = {{R, kPairLen}};
  EXPECT_TRUE(Fails(Do(local, remote), ESRCH));
  // The target's memory is gone: only the caller's side is checked.
  ForgetPid(target_);
  ExpectUntouched(Without(before_, target_));
}

// Row: a reaped pid -> -1 ESRCH.
TEST_P(ErrorTable, Step8_ReapedPidIsEsrch) {
  const int pid = target_;
  EXPECT_TRUE(Returns(m().Exit(pid), 0));
  EXPECT_TRUE(Returns(m().Reap(0, pid), pid));
  CheckVm("exit + reap(target)");
  EXPECT_EQ(m().FindTask(pid), nullptr) << "a reaped pid must be gone";
  EXPECT_TRUE(Fails(Do(IovList{{L, kPairLen}}, IovList{{R, kPairLen}}), ESRCH));
  ForgetPid(pid);
  ExpectUntouched(Without(before_, pid));
}

// Row: a zombie thread-group leader whose other thread lives -> -1 ESRCH for the leader pid;
// the live thread's TID works (same mm).
TEST_P(ErrorTable, Step8_ZombieLeaderWithLiveThread) {
  auto tid = m().CreateThread(target_, "worker");
  ASSERT_TRUE(tid.ok()) << tid.status();
  EXPECT_TRUE(Returns(m().Exit(target_), 0)) << "the leader thread exits (not the group)";
  CheckVm("exit(leader)");
  // The address space now belongs to the live thread only: look at it through the TID.
  for (Region& g : regions_) {
    if (g.pid == target_) g.pid = *tid;
  }
  for (Region& g : before_.regions) {
    if (g.pid == target_) g.pid = *tid;
  }
  const IovList local = {{L, kPairLen}}, remote = {{R, kPairLen}};
  EXPECT_TRUE(Fails(Do(local, remote), ESRCH)) << "leader pid";
  ExpectNothingMoved();
  EXPECT_TRUE(Returns(DoPid(*tid, local, remote), kPairLen)) << "live TID";
  ExpectStreamCopy(dir(), local, remote, kPairLen, before_, caller_, *tid);
}

// Row: pid = TID of a non-leader thread -> OK (same mm).
TEST_P(ErrorTable, Step8_NonLeaderTidWorks) {
  auto tid = m().CreateThread(target_, "worker");
  ASSERT_TRUE(tid.ok()) << tid.status();
  ASSERT_NE(*tid, target_);
  const IovList local = {{L, kPairLen}}, remote = {{R + 5, kPairLen - 5}};
  EXPECT_TRUE(Returns(DoPid(*tid, local, remote), kPairLen - 5));
  ExpectMoved(local, remote, kPairLen - 5);
}

// Row: the caller's own pid (same mm) -> OK, with no ptrace check: an unprivileged,
// non-dumpable process may read and write itself.
TEST_P(ErrorTable, Step8_OwnPidWorksWithoutPtraceCheck) {
  const int self = NewProcess("self", Creds(1000, 1000, kNoCaps));
  const uint64_t S = L + 0x100000;  // the "remote" side, in the same process
  MapPairIn(self, self, L, S);
  EXPECT_TRUE(Returns(m().SetDumpable(self, false), 0));
  const Snapshot snap = TakeSnapshot();
  const IovList local = {{L, kPairLen}}, remote = {{S, kPairLen}};
  const sim::SysResult r = Call(dir(), self, self, local, remote);
  EXPECT_TRUE(Returns(r, kPairLen));
  ExpectStreamCopy(dir(), local, remote, kPairLen, snap, self, self);
  // The root caller_ reading itself, too.
  const uint64_t S2 = L + 0x200000;
  MapPairIn(caller_, caller_, L + 0x300000, S2);
  const Snapshot snap2 = TakeSnapshot();
  const IovList local2 = {{L + 0x300000, kPairLen}}, remote2 = {{S2, kPairLen}};
  EXPECT_TRUE(Returns(Call(dir(), caller_, caller_, local2, remote2), kPairLen));
  ExpectStreamCopy(dir(), local2, remote2, kPairLen, snap2, caller_, caller_);
}

// Baseline for the permission rows: equal credentials, no capabilities -> OK.
TEST_P(ErrorTable, Step8_SameCredsWithoutCapsWork) {
  EXPECT_TRUE(Returns(CallAs(Creds(1000, 1000, kNoCaps), Creds(1000, 1000, kNoCaps)), kPairLen));
}

// Row: uid or gid mismatch (real creds), no CAP_SYS_PTRACE -> -1 EPERM. The caller's real
// uid must equal the target's uid, euid and suid (and the same for gids).
TEST_P(ErrorTable, Step8_UidOrGidMismatchIsEperm) {
  const sim::ProcessCreds c = Creds(1000, 1000, kNoCaps);
  sim::ProcessCreds t = Creds(1001, 1000, kNoCaps);
  EXPECT_TRUE(Fails(CallAs(c, t), EPERM)) << "uid";
  t = Creds(1000, 1001, kNoCaps);
  EXPECT_TRUE(Fails(CallAs(c, t), EPERM)) << "gid";
  t = Creds(1000, 1000, kNoCaps);
  t.euid = 1001;
  EXPECT_TRUE(Fails(CallAs(c, t), EPERM)) << "target euid";
  t = Creds(1000, 1000, kNoCaps);
  t.suid = 0;
  EXPECT_TRUE(Fails(CallAs(c, t), EPERM)) << "target suid";
  t = Creds(1000, 1000, kNoCaps);
  t.egid = 1001;
  EXPECT_TRUE(Fails(CallAs(c, t), EPERM)) << "target egid";
  t = Creds(1000, 1000, kNoCaps);
  t.sgid = 0;
  EXPECT_TRUE(Fails(CallAs(c, t), EPERM)) << "target sgid";
  // The same mismatch is fine with CAP_SYS_PTRACE.
  EXPECT_TRUE(Returns(CallAs(Creds(1000, 1000, kCapSysPtrace), Creds(1001, 1001, kNoCaps)),
                      kPairLen))
      << "CAP_SYS_PTRACE overrides the uid/gid rule";
}

// Row: target non-dumpable, caller without CAP_SYS_PTRACE -> -1 EPERM; with CAP_SYS_PTRACE
// -> OK.
TEST_P(ErrorTable, Step8_NonDumpableTarget) {
  auto undump = [this](int /*c*/, int t) { EXPECT_TRUE(Returns(m().SetDumpable(t, false), 0)); };
  EXPECT_TRUE(Fails(CallAs(Creds(1000, 1000, kNoCaps), Creds(1000, 1000, kNoCaps), undump), EPERM))
      << "without CAP_SYS_PTRACE";
  EXPECT_TRUE(
      Returns(CallAs(Creds(1000, 1000, kCapSysPtrace), Creds(1000, 1000, kNoCaps), undump), kPairLen))
      << "with CAP_SYS_PTRACE";
  sim::ProcessCreds born_undumpable = Creds(1000, 1000, kNoCaps);
  born_undumpable.dumpable = false;
  EXPECT_TRUE(Fails(CallAs(Creds(1000, 1000, kNoCaps), born_undumpable), EPERM))
      << "created non-dumpable";
}

// Row (note): a root -> uid setuid makes a process non-dumpable while suid_dumpable = 0, so a
// caller with the new uid and no capabilities gets EPERM.
TEST_P(ErrorTable, Step8_SetuidFromRootMakesTargetNonDumpable) {
  ASSERT_EQ(*m().Sysctl("fs.suid_dumpable"), 0);
  auto setuid = [this](int /*c*/, int t) {
    EXPECT_TRUE(Returns(m().SetResGid(t, 1000, 1000, 1000), 0));
    EXPECT_TRUE(Returns(m().SetResUid(t, 1000, 1000, 1000), 0));
  };
  EXPECT_TRUE(Fails(CallAs(Creds(1000, 1000, kNoCaps), Creds(0, 0, kAllCaps), setuid), EPERM));
}

// Row: a root caller without CAP_SYS_PTRACE -> a root target -> -1 EPERM (the target's
// permitted set is not a subset of the caller's).
TEST_P(ErrorTable, Step8_RootWithoutCapSysPtraceToRootIsEperm) {
  EXPECT_TRUE(Fails(CallAs(Creds(0, 0, kAllCaps & ~kCapSysPtrace), Creds(0, 0, kAllCaps)), EPERM));
  // Dropping it later with capset works the same way.
  auto drop = [this](int c, int /*t*/) {
    EXPECT_TRUE(Returns(m().CapSet(c, kAllCaps & ~kCapSysPtrace), 0));
  };
  EXPECT_TRUE(Fails(CallAs(Creds(0, 0, kAllCaps), Creds(0, 0, kAllCaps), drop), EPERM));
  // A root target with a smaller permitted set is fine.
  EXPECT_TRUE(Returns(CallAs(Creds(0, 0, kAllCaps & ~kCapSysPtrace),
                             Creds(0, 0, kAllCaps & ~kCapSysPtrace)),
                      kPairLen));
}

// Row: caller ruid matches, euid differs -> OK (real creds are used).
TEST_P(ErrorTable, Step8_RealUidMatchesEffectiveDiffersWorks) {
  sim::ProcessCreds c = Creds(1000, 1000, kNoCaps);
  c.euid = 2000;
  c.egid = 2000;
  EXPECT_TRUE(Returns(CallAs(c, Creds(1000, 1000, kNoCaps)), kPairLen));
}

// Row: caller euid matches, ruid differs -> -1 EPERM.
TEST_P(ErrorTable, Step8_EffectiveUidMatchesRealDiffersIsEperm) {
  sim::ProcessCreds c = Creds(2000, 1000, kNoCaps);
  c.euid = 1000;
  EXPECT_TRUE(Fails(CallAs(c, Creds(1000, 1000, kNoCaps)), EPERM)) << "uid";
  c = Creds(1000, 2000, kNoCaps);
  c.egid = 1000;
  EXPECT_TRUE(Fails(CallAs(c, Creds(1000, 1000, kNoCaps)), EPERM)) << "gid";
}

// Row: permission denied and remote address invalid -> -1 EPERM (permission comes first).
TEST_P(ErrorTable, Step8_PermissionComesBeforeRemoteAddress) {
  const int cp = NewProcess("pcaller", Creds(1000, 1000, kNoCaps));
  const int tp = NewProcess("ptarget", Creds(1001, 1001, kNoCaps));
  MapPairIn(cp, tp);
  const Snapshot snap = TakeSnapshot();
  const IovList local = {{L, kPairLen}};
  EXPECT_TRUE(Fails(Call(dir(), cp, tp, local, IovList{{kMinusOne, 10}}), EPERM));
  EXPECT_TRUE(Fails(Call(dir(), cp, tp, local, IovList{{R + 0x10000000, 10}}), EPERM));
  EXPECT_TRUE(Fails(Call(dir(), cp, tp, local, IovList{{kKernelAddr, kPage}}), EPERM));
  ExpectUntouched(snap);
}

// Row: a fatal signal while waiting for exec_update_lock -> -1 EINTR. Simulated by holding
// the target's exec_update_lock for writing (an exec in progress) with a SIGKILL pending for
// the caller.
TEST_P(ErrorTable, Step8_FatalSignalWaitingForExecUpdateLockIsEintr) {
  kernel::task_struct* t = m().FindTask(target_);
  kernel::task_struct* c = m().FindTask(caller_);
  ASSERT_NE(t, nullptr);
  ASSERT_NE(c, nullptr);
  const IovList local = {{L, kPairLen}}, remote = {{R, kPairLen}};
  const uint64_t lvec = PlaceIovecs(local), rvec = PlaceIovecs(remote);
  sim::SysResult r;
  // The exec in progress is the target's own.
  ASSERT_TRUE(
      m().RunInKernel(target_, [&] { kernel::down_write(&t->signal->exec_update_lock); }).ok());
  c->fatal_signal = true;
  r = reading() ? m().ProcessVmReadv(caller_, target_, lvec, 1, rvec, 1, 0)
                : m().ProcessVmWritev(caller_, target_, lvec, 1, rvec, 1, 0);
  c->fatal_signal = false;
  ASSERT_TRUE(
      m().RunInKernel(target_, [&] { kernel::up_write(&t->signal->exec_update_lock); }).ok());
  CheckPins("call with a fatal signal pending");
  CheckVm("call with a fatal signal pending");
  EXPECT_TRUE(Fails(r, EINTR));
  ExpectNothingMoved();
}

// A fatal signal already pending when the call starts: exec_update_lock is free, so the
// killable lock is taken anyway (it only gives up where it would sleep); GUP then refuses to
// fault with a fatal signal pending (-EINTR from the first pin), which
// process_vm_rw_single_vec reports, like any failed pin, as EFAULT.
TEST_P(ErrorTable, Step8_FatalSignalPendingWithTheLockFreeIsEfaultFromGup) {
  kernel::task_struct* c = m().FindTask(caller_);
  ASSERT_NE(c, nullptr);
  const IovList local = {{L, kPairLen}}, remote = {{R, kPairLen}};
  const uint64_t lvec = PlaceIovecs(local), rvec = PlaceIovecs(remote);
  c->fatal_signal = true;
  const sim::SysResult r = reading() ? m().ProcessVmReadv(caller_, target_, lvec, 1, rvec, 1, 0)
                                     : m().ProcessVmWritev(caller_, target_, lvec, 1, rvec, 1, 0);
  c->fatal_signal = false;
  CheckPins("call with a fatal signal pending, lock free");
  CheckVm("call with a fatal signal pending, lock free");
  EXPECT_TRUE(Fails(r, EFAULT));
  ExpectNothingMoved();
}

TEST_P(ErrorTable, Step8_FatalSignalDuringGupIsSkipped) {
  GTEST_SKIP() << "row 'fatal signal during GUP -> EINTR or partial' needs a fault point that "
                  "raises a fatal signal in the middle of GUP (mm/fault_inject.h has none; one "
                  "pending before the call stops the first pin, see the test above)";
}

// ---- step 9: the transfer ---------------------------------------------------------------

// Row: remote address unmapped at the start of the first element -> -1 EFAULT.
TEST_P(ErrorTable, Step9_RemoteUnmappedAtStartIsEfault) {
  const IovList local = {{L, kPairLen}};
  EXPECT_TRUE(Fails(Do(local, IovList{{R + kPairLen, 10}}), EFAULT)) << "hole after R";
  EXPECT_TRUE(Fails(Do(local, IovList{{R - kPage, 2 * kPage}}), EFAULT)) << "hole before R";
  EXPECT_TRUE(Fails(Do(local, IovList{{0, kPage}}), EFAULT)) << "NULL";
  ExpectNothingMoved();
}

// Row: a remote element runs from mapped into unmapped memory -> partial: the bytes up to the
// start of the first bad page.
TEST_P(ErrorTable, Step9_RemoteElementRunsIntoHole) {
  const IovList local = {{L, kPairLen}}, remote = {{R + 2 * kPage + 300, 3 * kPage}};
  EXPECT_TRUE(Returns(Do(local, remote), 2 * kPage - 300));
  ExpectMoved(local, remote, 2 * kPage - 300);
}

// Row: a fault in the 2nd rvec element after the 1st succeeded -> the bytes of earlier
// elements plus the valid prefix of the failing one; later elements are not processed.
TEST_P(ErrorTable, Step9_FaultInSecondElementStopsTheWalk) {
  const IovList local = {{L, kPairLen}};
  const IovList remote = {{R, 1000}, {R + 3 * kPage + 96, 2 * kPage}, {R + kPage, 500}};
  EXPECT_TRUE(Returns(Do(local, remote), 1000 + kPage - 96));
  ExpectMoved(local, remote, 1000 + kPage - 96);
}

// Row: the local stream is exhausted before a bad remote page or element -> the full local
// count, no error.
TEST_P(ErrorTable, Step9_LocalExhaustedBeforeBadRemote) {
  const IovList local = {{L, 2 * kPage}};
  EXPECT_TRUE(Returns(Do(local, IovList{{R + 2 * kPage, 10 * kPage}}), 2 * kPage));
  ExpectMoved(local, IovList{{R + 2 * kPage, 10 * kPage}}, 2 * kPage);
  Rebase();
  const IovList remote = {{R, kPage}, {R + kPage, kPage}, {kMinusOne, 10}, {0, 10}};
  EXPECT_TRUE(Returns(Do(local, remote), 2 * kPage));
  ExpectMoved(local, remote, 2 * kPage);
}

// Row: local buffer faults in the middle (unmapped, PROT_NONE, or for readv a read-only
// destination) -> partial, byte-exact.
TEST_P(ErrorTable, Step9_LocalFaultInTheMiddleIsByteExact) {
  // L2: 2 pages, then an unmapped page, then L3.
  const uint64_t L2 = L + 0x100000;
  MapFilled(caller_, L2, 2 * kPage, kLocalFill);
  if (!reading()) FillPattern(caller_, L2, 2 * kPage);
  Rebase();
  IovList local = {{L2 + 1000, 5 * kPage}};
  EXPECT_TRUE(Returns(Do(local, IovList{{R, kPairLen}}), 2 * kPage - 1000)) << "unmapped";
  ExpectMoved(local, IovList{{R, kPairLen}}, 2 * kPage - 1000);
  // PROT_NONE in the middle of L: page 2.
  Protect(caller_, L + 2 * kPage, kPage, kNone);
  Rebase();
  local = {{L + 17, kPairLen - 17}};
  EXPECT_TRUE(Returns(Do(local, IovList{{R, kPairLen}}), 2 * kPage - 17)) << "PROT_NONE";
  ExpectMoved(local, IovList{{R, kPairLen}}, 2 * kPage - 17);
  if (reading()) {
    // Read-only destination: page 1 of L.
    Protect(caller_, L + kPage, kPage, kR);
    Rebase();
    local = {{L + 5, kPairLen}};
    EXPECT_TRUE(Returns(Do(local, IovList{{R, kPairLen}}), kPage - 5)) << "read-only";
    ExpectMoved(local, IovList{{R, kPairLen}}, kPage - 5);
  }
}

// Row: local buffer faults at its first byte -> -1 EFAULT.
TEST_P(ErrorTable, Step9_LocalFaultAtFirstByteIsEfault) {
  const IovList remote = {{R, kPairLen}};
  EXPECT_TRUE(Fails(Do(IovList{{L + kPairLen, 10}}, remote), EFAULT)) << "unmapped";
  EXPECT_TRUE(Fails(Do(IovList{{0, 10}, {L, 10}}, remote), EFAULT)) << "NULL, liovcnt 2";
  Protect(caller_, L + 3 * kPage, kPage, kNone);
  Rebase();
  EXPECT_TRUE(Fails(Do(IovList{{L + 3 * kPage, 10}}, remote), EFAULT)) << "PROT_NONE";
  if (reading()) {
    Protect(caller_, L, kPage, kR);
    Rebase();
    EXPECT_TRUE(Fails(Do(IovList{{L + 100, 10}}, remote), EFAULT)) << "read-only destination";
  }
  ExpectNothingMoved();
}

// Row: write to a read-only remote mapping (anon private r--, r-x) -> -1 EFAULT, or partial up
// to the read-only page. For readv the same mappings are fine.
TEST_P(ErrorTable, Step9_RemoteReadOnlyMapping) {
  Protect(target_, R + 2 * kPage, kPage, kR);
  Protect(target_, R + 3 * kPage, kPage, kR | kX);
  Rebase();
  const IovList local = {{L, kPairLen}};
  if (reading()) {
    EXPECT_TRUE(Returns(Do(local, IovList{{R, kPairLen}}), kPairLen));
    ExpectMoved(local, IovList{{R, kPairLen}}, kPairLen);
  } else {
    EXPECT_TRUE(Returns(Do(local, IovList{{R + 10, kPairLen}}), 2 * kPage - 10));
    ExpectMoved(local, IovList{{R + 10, kPairLen}}, 2 * kPage - 10);
    Rebase();
    EXPECT_TRUE(Fails(Do(local, IovList{{R + 2 * kPage, 10}}), EFAULT)) << "r--";
    EXPECT_TRUE(Fails(Do(local, IovList{{R + 3 * kPage, 10}}), EFAULT)) << "r-x";
    ExpectNothingMoved();
  }
}

// Row: write to a read-only remote file mapping (file private r--, file shared r--) -> -1
// EFAULT, or partial up to the read-only page. Reading them is fine.
TEST_P(ErrorTable, Step9_RemoteReadOnlyFileMappings) {
  const std::vector<uint8_t> data = FileData(4 * kPage);
  auto fd = m().CreateFile("ro_file", 4 * kPage, data);
  ASSERT_TRUE(fd.ok()) << fd.status();
  const uint64_t P = R + 0x100000, S = R + 0x200000;
  // [anon rw- page][file page r--] twice: MAP_PRIVATE at P, MAP_SHARED at S.
  MapPairIn(caller_, target_, L + 0x100000, P - kPage, kPage);
  MapFile(target_, P, 2 * kPage, kR, kMapPrivate, *fd, 0);
  MapPairIn(caller_, target_, L + 0x200000, S - kPage, kPage);
  MapFile(target_, S, 2 * kPage, kR, kMapShared, *fd, 0);
  Touch(target_, P, 2 * kPage);
  Touch(target_, S, 2 * kPage);
  Rebase();
  const IovList local = {{L, kPairLen}};
  for (const uint64_t F : {P, S}) {
    SCOPED_TRACE(F == P ? "MAP_PRIVATE" : "MAP_SHARED");
    const IovList remote = {{F - kPage + 100, 2 * kPage}};
    if (reading()) {
      EXPECT_TRUE(Returns(Do(local, remote), 2 * kPage));
      ExpectMoved(local, remote, 2 * kPage);
    } else {
      EXPECT_TRUE(Returns(Do(local, remote), kPage - 100));
      ExpectMoved(local, remote, kPage - 100);
      Rebase();
      EXPECT_TRUE(Fails(Do(local, IovList{{F + 10, 10}}), EFAULT));
      ExpectNothingMoved();
    }
    Rebase();
  }
  auto file = m().ReadFile(*fd);
  ASSERT_TRUE(file.ok()) << file.status();
  EXPECT_TRUE(SameBytes(*file, data)) << "the file must not change";
}

// Row: write to a remote -w- mapping -> OK; read from a remote PROT_NONE, --x or -w- mapping
// -> -1 EFAULT, or partial up to it.
TEST_P(ErrorTable, Step9_RemoteProtNoneExecWriteOnly) {
  const uint64_t R2 = R + 0x100000;
  // R2: [rw-][---][rw-][--x][rw-][-w-]
  MapPattern(target_, R2, 6 * kPage);
  if (!reading()) FillByte(target_, R2, 6 * kPage, kLocalFill);
  Protect(target_, R2 + kPage, kPage, kNone);
  Protect(target_, R2 + 3 * kPage, kPage, kX);
  Protect(target_, R2 + 5 * kPage, kPage, kW);
  Rebase();
  const IovList local = {{L, kPairLen}};
  for (uint64_t bad : {uint64_t{1}, uint64_t{3}}) {
    SCOPED_TRACE(bad == 1 ? "PROT_NONE" : "--x");
    const IovList remote = {{R2 + (bad - 1) * kPage + 50, 2 * kPage}};
    EXPECT_TRUE(Returns(Do(local, remote), kPage - 50));
    ExpectMoved(local, remote, kPage - 50);
    Rebase();
    EXPECT_TRUE(Fails(Do(local, IovList{{R2 + bad * kPage, 10}}), EFAULT));
    ExpectNothingMoved();
  }
  const IovList wo = {{R2 + 5 * kPage, kPage}};
  if (reading()) {
    EXPECT_TRUE(Fails(Do(local, wo), EFAULT)) << "-w-";
    ExpectNothingMoved();
  } else {
    EXPECT_TRUE(Returns(Do(local, wo), kPage)) << "-w-";
    ExpectMoved(local, wo, kPage);
  }
}

// Row: a remote VM_IO/VM_PFNMAP mapping ([vvar]) -> -1 EFAULT, in both directions.
TEST_P(ErrorTable, Step9_RemoteVvarPfnmap) {
  const sim::SysResult v = m().MapVvar(target_);
  ASSERT_GT(v.ret, 0) << Show(v);
  CheckVm("MapVvar");
  const uint64_t vvar = static_cast<uint64_t>(v.ret);
  const IovList local = {{L, kPairLen}};
  EXPECT_TRUE(Fails(Do(local, IovList{{vvar, 16}}), EFAULT)) << "backed first page";
  EXPECT_TRUE(Fails(Do(local, IovList{{vvar + 3 * kPage + 8, 8}}), EFAULT)) << "last page";
  EXPECT_TRUE(Returns(Do(local, IovList{{R, 100}, {vvar, 16}, {R + 100, 100}}), 100))
      << "a [vvar] element stops the walk after the bytes before it";
  ExpectMoved(local, IovList{{R, 100}}, 100);
}

// Row: a remote vsyscall page, kernel address, non-canonical address or wrapping range ->
// -1 EFAULT.
TEST_P(ErrorTable, Step9_RemoteImpossibleAddressesAreEfault) {
  const IovList local = {{L, kPairLen}};
  for (const Iov& bad : {Iov{kVsyscall, 8}, Iov{kKernelAddr, kPage}, Iov{kNonCanonical, 10},
                         Iov{0x00007fffffffffff, 2}, Iov{kMinusOne - 10, 100},
                         Iov{kMinusOne, 1}}) {
    SCOPED_TRACE(Hex(bad.base));
    EXPECT_TRUE(Fails(Do(local, IovList{bad}), EFAULT));
  }
  ExpectNothingMoved();
}

// Row: a remote address just below a GROWSDOWN VMA -> -1 EFAULT (GUP does not grow stacks).
TEST_P(ErrorTable, Step9_BelowGrowsdownIsEfault) {
  const uint64_t G = R + 0x1000000;
  Map(target_, G, 4 * kPage, kRW, kMapGrowsdown);
  Rebase();
  const IovList local = {{L, kPairLen}};
  EXPECT_TRUE(Fails(Do(local, IovList{{G - kPage, kPage}}), EFAULT)) << "MAP_GROWSDOWN";
  EXPECT_TRUE(Fails(Do(local, IovList{{G - 8, 16}}), EFAULT)) << "straddling the start";
  // The target's [stack] VMA.
  kernel::task_struct* t = m().FindTask(target_);
  ASSERT_NE(t, nullptr);
  uint64_t stack_start = 0;
  for (const auto& [start, vma] : t->mm->mm_mt) {
    if (vma->vm_flags & kernel::VM_GROWSDOWN) stack_start = vma->vm_start;
  }
  ASSERT_NE(stack_start, 0u) << "the target has no VM_GROWSDOWN [stack] VMA";
  EXPECT_TRUE(Fails(Do(local, IovList{{stack_start - kPage, kPage}}), EFAULT)) << "[stack]";
  ExpectNothingMoved();
  // ... and the VMAs did not grow.
  for (const auto& [start, vma] : t->mm->mm_mt) {
    if (vma->vm_flags & kernel::VM_GROWSDOWN) {
      EXPECT_TRUE(vma->vm_start == stack_start || vma->vm_start == G)
          << "a GROWSDOWN VMA grew to " << Hex(vma->vm_start);
    }
  }
}

// Row: read of a file mapping past EOF -> -1 EFAULT, or partial up to the EOF page
// (filemap_fault's SIGBUS becomes EFAULT). The file has 4096 + 100 bytes; a 3-page mapping
// has 2 valid pages (the second one only partly file data, the rest reads as zeros) and
// a page past EOF. For writev the mapping is MAP_SHARED read-write (the same fault path
// serves writes) and the file receives the bytes up to its end.
TEST_P(ErrorTable, Step9_FileMappingPastEof) {
  constexpr uint64_t kSize = kPage + 100;
  const std::vector<uint8_t> data = FileData(kSize);
  auto fd = m().CreateFile("short_file", kSize, data);
  ASSERT_TRUE(fd.ok()) << fd.status();
  const uint64_t F = R + 0x100000;
  MapFile(target_, F, 3 * kPage, reading() ? kR : kRW, reading() ? kMapPrivate : kMapShared,
          *fd, 0, /*tracked=*/2 * kPage);
  Touch(target_, F, 2 * kPage);
  Rebase();
  const IovList local = {{L, kPairLen}};
  EXPECT_TRUE(Fails(Do(local, IovList{{F + 2 * kPage, 10}}), EFAULT)) << "at EOF page";
  ExpectNothingMoved();
  const IovList remote = {{F + 50, 3 * kPage}};
  EXPECT_TRUE(Returns(Do(local, remote), 2 * kPage - 50));
  ExpectMoved(local, remote, 2 * kPage - 50);
  auto file = m().ReadFile(*fd);
  ASSERT_TRUE(file.ok()) << file.status();
  std::vector<uint8_t> want = data;
  if (!reading()) {
    for (uint64_t i = 50; i < kSize; ++i) want[i] = Pat(L + i - 50);
  }
  EXPECT_TRUE(SameBytes(*file, want)) << "file contents";
}

// Row: read of never-touched anon memory -> OK, zeros (zero page). Write to never-touched anon
// memory, or to a page mapped to the zero page by an earlier read -> OK.
TEST_P(ErrorTable, Step9_NeverTouchedAnonMemory) {
  const uint64_t Z = R + 0x200000;
  Map(target_, Z, 4 * kPage, kRW);
  Rebase();
  const IovList local = {{L, kPairLen}}, remote = {{Z + 1, kPairLen - 1}};
  EXPECT_TRUE(Returns(Do(local, remote), kPairLen - 1));
  ExpectMoved(local, remote, kPairLen - 1);
  if (reading()) {
    EXPECT_TRUE(SameBytes(Peek(caller_, L, kPairLen - 1), std::vector<uint8_t>(kPairLen - 1, 0)));
  } else {
    // Z was never touched and now holds the pattern from L.
    EXPECT_TRUE(SameBytes(Peek(target_, Z + 1, kPairLen - 1), PatBytes(L, kPairLen - 1), Z + 1));
  }
  // Write after a read mapped the zero page.
  const uint64_t Z2 = R + 0x300000;
  Map(target_, Z2, 2 * kPage, kRW);
  Rebase();
  EXPECT_TRUE(Returns(Call(Dir::kRead, IovList{{L + 3 * kPage, kPage}}, IovList{{Z2, 2 * kPage}}),
                      kPage));
  const Snapshot mid = TakeSnapshot();
  const IovList l2 = {{L, 2 * kPage}}, r2 = {{Z2, 2 * kPage}};
  EXPECT_TRUE(Returns(Call(Dir::kWrite, l2, r2), 2 * kPage));
  ExpectStreamCopy(Dir::kWrite, l2, r2, 2 * kPage, mid);
}

// Row: write to a COW-shared anon page -> OK; only the target's copy changes. (Reads of
// it are fine too; their side effect, the unshare, is in side_effects_test.)
TEST_P(ErrorTable, Step9_CowSharedAnonPage) {
  const sim::SysResult f = m().Fork(target_);
  ASSERT_GT(f.ret, 0) << "fork: " << Show(f);
  const int child = static_cast<int>(f.ret);
  CheckVm("fork(target)");
  const std::vector<uint8_t> child_before = Peek(child, R, kPairLen);
  const IovList local = {{L, kPairLen}}, remote = {{R + 10, 2 * kPage}};
  EXPECT_TRUE(Returns(Do(local, remote), 2 * kPage));
  ExpectMoved(local, remote, 2 * kPage);
  EXPECT_TRUE(SameBytes(Peek(child, R, kPairLen), child_before, R))
      << "the other process sharing the pages must see no change";
}

// Rows: write to a MAP_SHARED file mapping (read-write) -> OK, the file is updated; write to
// a MAP_PRIVATE file mapping (read-write) -> OK, the file is unchanged. Reads of both give
// the file's bytes.
TEST_P(ErrorTable, Step9_FileMappingsReadWrite) {
  const std::vector<uint8_t> data = FileData(4 * kPage);
  auto shared_fd = m().CreateFile("shared_file", 4 * kPage, data);
  auto private_fd = m().CreateFile("private_file", 4 * kPage, data);
  ASSERT_TRUE(shared_fd.ok() && private_fd.ok());
  const uint64_t S = R + 0x100000, P = R + 0x200000;
  MapFile(target_, S, 4 * kPage, kRW, kMapShared, *shared_fd, 0);
  MapFile(target_, P, 4 * kPage, kRW, kMapPrivate, *private_fd, 0);
  Touch(target_, S, 4 * kPage);
  Touch(target_, P, 4 * kPage);
  Rebase();
  const IovList local = {{L, kPairLen}};
  for (const uint64_t F : {S, P}) {
    SCOPED_TRACE(F == S ? "MAP_SHARED" : "MAP_PRIVATE");
    const IovList remote = {{F + kPage + 7, 2 * kPage}};
    EXPECT_TRUE(Returns(Do(local, remote), 2 * kPage));
    ExpectMoved(local, remote, 2 * kPage);
    Rebase();
  }
  auto shared_file = m().ReadFile(*shared_fd);
  auto private_file = m().ReadFile(*private_fd);
  ASSERT_TRUE(shared_file.ok() && private_file.ok());
  std::vector<uint8_t> want_shared = data;
  if (!reading()) {
    for (uint64_t i = 0; i < 2 * kPage; ++i) want_shared[kPage + 7 + i] = Pat(L + i);
  }
  EXPECT_TRUE(SameBytes(*shared_file, want_shared)) << "MAP_SHARED: the file sees the writes";
  EXPECT_TRUE(SameBytes(*private_file, data)) << "MAP_PRIVATE: the file is unchanged";
}

// Row: a remote range spanning several readable (or writable) VMAs -> OK.
TEST_P(ErrorTable, Step9_RemoteRangeSpanningSeveralVmas) {
  // R is one VMA; split it into three with different protections that all allow the access.
  Protect(target_, R + kPage, kPage, reading() ? kR : kW);
  Protect(target_, R + 2 * kPage, kPage, reading() ? (kR | kX) : (kW | kX));
  Rebase();
  const IovList local = {{L, kPairLen}}, remote = {{R + 33, kPairLen - 33}};
  EXPECT_TRUE(Returns(Do(local, remote), kPairLen - 33));
  ExpectMoved(local, remote, kPairLen - 33);
}

// Row: zero-length elements in both vectors are skipped.
TEST_P(ErrorTable, Step9_ZeroLengthElementsInBothVectors) {
  const IovList local = {{L, 0}, {L + 10, 100}, {L, 0}, {0, 0}, {L + 200, 3000}, {L + 5, 0}};
  const IovList remote = {{R, 0}, {R + 7, 1}, {kMinusOne, 0}, {R + 5000, 3099}, {R, 0}};
  EXPECT_TRUE(Returns(Do(local, remote), 3100));
  ExpectMoved(local, remote, 3100);
}

// Row: local longer or shorter than remote -> min(local total, transferable remote).
TEST_P(ErrorTable, Step9_LocalLongerOrShorterThanRemote) {
  EXPECT_TRUE(Returns(Do(IovList{{L, kPairLen}}, IovList{{R, 1234}}), 1234)) << "local longer";
  ExpectMoved(IovList{{L, kPairLen}}, IovList{{R, 1234}}, 1234);
  Rebase();
  EXPECT_TRUE(Returns(Do(IovList{{L, 777}}, IovList{{R + 1, kPairLen - 1}}), 777))
      << "local shorter";
  ExpectMoved(IovList{{L, 777}}, IovList{{R + 1, kPairLen - 1}}, 777);
}

// Row: OOM during the remote fault -> collapsed to -1 EFAULT, or partial (fault point
// "fail_fault": handle_mm_fault returns VM_FAULT_OOM). A transient OOM (one failure) is
// retried by the next pin batch and the call completes.
TEST_P(ErrorTable, Step9_OomDuringRemoteFault) {
  const uint64_t Z = R + 0x200000;
  Map(target_, Z, 4 * kPage, kRW);  // never touched: every page faults once
  Rebase();
  const IovList local = {{L, kPairLen}}, remote = {{Z, kPairLen}};
  const uint64_t lvec = PlaceIovecs(local), rvec = PlaceIovecs(remote);
  {
    ScopedFault oom(m(), "fail_fault", /*skip=*/0);
    EXPECT_TRUE(Fails(DoRaw(lvec, 1, rvec, 1), EFAULT)) << "OOM at the first page";
  }
  ExpectNothingMoved();
  {
    ScopedFault oom(m(), "fail_fault", /*skip=*/2);
    EXPECT_TRUE(Returns(DoRaw(lvec, 1, rvec, 1), 2 * kPage)) << "persistent OOM at page 2";
  }
  ExpectMoved(local, remote, 2 * kPage);
}

TEST_P(ErrorTable, Step9_TransientOomIsRetriedByTheNextBatch) {
  const uint64_t Z = R + 0x200000;
  Map(target_, Z, 4 * kPage, kRW);
  Rebase();
  const IovList local = {{L, kPairLen}}, remote = {{Z, kPairLen}};
  const uint64_t lvec = PlaceIovecs(local), rvec = PlaceIovecs(remote);
  {
    ScopedFault oom(m(), "fail_fault", /*skip=*/2, /*times=*/1);
    EXPECT_TRUE(Returns(DoRaw(lvec, 1, rvec, 1), kPairLen));
  }
  EXPECT_EQ(m().FaultFailures("fail_fault"), 1u);
  ExpectMoved(local, remote, kPairLen);
}

// Row: a pin error other than EFAULT (here -ENOMEM from fault point "fail_gup") reaches
// userspace as EFAULT: the original error code is lost.
TEST_P(ErrorTable, Step9_PinErrorIsCollapsedToEfault) {
  const IovList local = {{L, kPairLen}}, remote = {{R, kPairLen}};
  const uint64_t lvec = PlaceIovecs(local), rvec = PlaceIovecs(remote);
  {
    ScopedFault gup(m(), "fail_gup");
    EXPECT_TRUE(Fails(DoRaw(lvec, 1, rvec, 1), EFAULT));
  }
  ExpectNothingMoved();
  {
    ScopedFault gup(m(), "fail_gup", /*skip=*/3);
    EXPECT_TRUE(Returns(DoRaw(lvec, 1, rvec, 1), 3 * kPage));
  }
  ExpectMoved(local, remote, 3 * kPage);
}

// Row: local total > 0x7ffff000 -> at most 2147479552 bytes move; later local bytes are
// untouched. 1024 local elements of 2 MiB (1023 over one buffer A, the last over B) make a
// local stream of 2 GiB; 1024 remote elements over one 2 MiB region make the remote stream
// as long. The clamp cuts B's element to 2 MiB - 4096 bytes.
TEST_P(ErrorTable, Step2_LocalTotalIsClampedToMaxRwCount) {
  constexpr uint64_t k2M = uint64_t{2} << 20;
  const uint64_t A = L + 0x1000000, B = L + 0x2000000, X = R + 0x1000000;
  if (reading()) {
    MapPattern(target_, X, k2M);
    MapFilled(caller_, A, k2M, kLocalFill);
    MapFilled(caller_, B, k2M, kLocalFill);
  } else {
    MapFilled(target_, X, k2M, kLocalFill);
    MapPattern(caller_, A, k2M);
    MapPattern(caller_, B, k2M);
  }
  IovList local(1023, Iov{A, k2M}), remote(1024, Iov{X, k2M});
  local.push_back({B, k2M});
  const sim::SysResult r = Do(local, remote);
  EXPECT_TRUE(Returns(r, kMaxRwCount));
  const uint64_t cut = kMaxRwCount - 1023 * k2M;
  ASSERT_EQ(cut, k2M - kPage);
  if (reading()) {
    EXPECT_TRUE(SameBytes(Peek(caller_, A, k2M), PatBytes(X, k2M), A));
    EXPECT_TRUE(SameBytes(Peek(caller_, B, cut), PatBytes(X, cut), B));
    EXPECT_TRUE(SameBytes(Peek(caller_, B + cut, kPage), std::vector<uint8_t>(kPage, kLocalFill),
                          B + cut))
        << "the last local page is past MAX_RW_COUNT";
  } else {
    EXPECT_TRUE(SameBytes(Peek(target_, X, cut), PatBytes(B, cut), X));
    EXPECT_TRUE(SameBytes(Peek(target_, X + cut, kPage), PatBytes(A + cut, kPage), X + cut))
        << "the last remote page keeps what the 1023rd element wrote";
  }
}

}  // namespace
}  // namespace pvmtest
