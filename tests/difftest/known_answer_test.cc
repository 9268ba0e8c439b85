// tests/difftest/known_answer_test.cc: exact answers from docs/semantics.md.
//
// Each test builds a Case by hand and the exact Outcome that docs/semantics.md's
// section 0, error table (c) and partial-transfer rule predict: the return
// value, errno, and every byte of both sides. The suite runs twice: on the
// host kernel (it validates the harness, and docs/semantics.md, against the real
// thing; it is SKIPPED with the reason if the host forbids process_vm_readv)
// and on the spec model (it validates the model against the same text).
// Tests marked "derived" assert a consequence of docs/semantics.md's stated check
// order that the document does not list in a row of its own.
// Permission (EPERM) and pid (ESRCH) errors are out of scope: a Case always
// has a valid, accessible target.
#include <errno.h>
#include <sys/mman.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "gtest/gtest.h"
#include "tests/difftest/case.h"
#include "tests/difftest/compare.h"
#include "tests/difftest/generator.h"
#include "tests/difftest/host_backend.h"
#include "tests/difftest/model_backend.h"

namespace difftest {
namespace {

constexpr uint64_t A = kRemoteBase;
constexpr uint64_t L = kLocalBase;
constexpr uint64_t P = kPageSize;
constexpr int RW = PROT_READ | PROT_WRITE;
constexpr uint64_t kNeg = kSsizeMax + 1;  // negative as ssize_t
constexpr uint64_t kMinus1 = ~uint64_t{0};
using Fill = Region::Fill;

Region Rgn(uint64_t addr, uint64_t pages, int prot = RW, Fill fill = Fill::kPattern,
           uint8_t byte = 0) {
  return {.addr = addr, .len = pages * P, .prot = prot, .fill = fill, .byte = byte};
}

// The initial contents of a layout, byte by byte from the formulas (not from
// the library's tables).
std::vector<uint8_t> Image(const Layout& l, Side side) {
  std::vector<uint8_t> out;
  for (const Region& r : l.regions) {
    for (uint64_t a = r.addr; a < r.end(); ++a) {
      out.push_back(r.fill == Fill::kZero ? 0 : r.fill == Fill::kByte ? r.byte : PatternByte(side, a));
    }
  }
  return out;
}

uint64_t Offset(const Layout& l, uint64_t addr) {
  uint64_t start = 0;
  for (const Region& r : l.regions) {
    if (addr >= r.addr && addr < r.end()) return start + (addr - r.addr);
    start += r.len;
  }
  ADD_FAILURE() << std::hex << "0x" << addr << " is in no region";
  return 0;
}

// The Outcome docs/semantics.md predicts, built up by the test.
class Want {
 public:
  explicit Want(const Case& c)
      : c_(c), local0_(Image(c.local_layout, Side::kLocal)),
        remote0_(Image(c.remote_layout, Side::kRemote)) {
    o_.local_bytes = local0_;
    o_.remote_bytes = remote0_;
  }
  // The call returns `ret` (>= 0).
  Want& Ret(int64_t ret) {
    o_.ret = ret;
    o_.err = 0;
    return *this;
  }
  Want& Error(int err) {
    o_.ret = -1;
    o_.err = err;
    return *this;
  }
  // n bytes moved between local `la` and remote `ra` in the call's direction.
  Want& Moved(uint64_t la, uint64_t ra, uint64_t n) {
    for (uint64_t i = 0; i < n; ++i) {
      const uint64_t lo = Offset(c_.local_layout, la + i), ro = Offset(c_.remote_layout, ra + i);
      if (c_.call.write) {
        o_.remote_bytes[ro] = local0_[lo];
      } else {
        o_.local_bytes[lo] = remote0_[ro];
      }
    }
    return *this;
  }
  const Outcome& outcome() const { return o_; }

 private:
  const Case& c_;
  std::vector<uint8_t> local0_, remote0_;
  Outcome o_;
};

class KnownAnswer : public testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    if (GetParam() == "host") {
      auto host = std::make_unique<HostBackend>();
      const absl::Status s = host->Availability();
      if (absl::IsUnavailable(s)) GTEST_SKIP() << s;
      ASSERT_TRUE(s.ok()) << s;
      backend_ = std::move(host);
    } else {
      backend_ = std::make_unique<ModelBackend>();
    }
  }

  // Runs c and expects exactly `want`.
  void Check(const Case& c, const Want& want) {
    absl::StatusOr<Outcome> got = backend_->Run(c);
    ASSERT_TRUE(got.ok()) << got.status();
    std::optional<std::string> d = Diff(c, want.outcome(), *got);
    EXPECT_FALSE(d.has_value()) << backend_->name() << " departs from docs/semantics.md:\n"
                                << d.value_or("") << DescribeCase(c, want.outcome());
  }

  std::unique_ptr<Backend> backend_;
};

Case Make(bool write, Layout local, Layout remote, std::vector<Iov> lv, std::vector<Iov> rv,
          uint64_t flags = 0) {
  Case c;
  c.local_layout = std::move(local);
  c.remote_layout = std::move(remote);
  c.call = {.write = write, .local = std::move(lv), .remote = std::move(rv), .flags = flags};
  return c;
}

// ---------------------------------------------------------------------------
// Section 0: the stream model.

TEST_P(KnownAnswer, WholePagesBothDirections) {
  for (bool write : {false, true}) {
    SCOPED_TRACE(write ? "writev" : "readv");
    Case c = Make(write, {{Rgn(L, 2, RW, write ? Fill::kPattern : Fill::kZero)}},
                  {{Rgn(A, 2, RW, write ? Fill::kZero : Fill::kPattern)}}, {{L, 2 * P}},
                  {{A, 2 * P}});
    Check(c, Want(c).Ret(2 * P).Moved(L, A, 2 * P));
  }
}

TEST_P(KnownAnswer, StreamsPairByteForByteAcrossElements) {
  for (bool write : {false, true}) {
    SCOPED_TRACE(write ? "writev" : "readv");
    Case c = Make(write, {{Rgn(L, 1, RW, Fill::kByte, 0x11)}}, {{Rgn(A, 2, RW, Fill::kPattern)}},
                  {{L + 1000, 70}, {L + 5, 0}, {L + 7, 80}},
                  {{A + 10, 100}, {A + 3000, 0}, {A + P + 5, 50}});
    if (write) c.local_layout.regions[0].fill = Fill::kPattern;
    Check(c, Want(c).Ret(150)
                 .Moved(L + 1000, A + 10, 70)
                 .Moved(L + 7, A + 80, 30)
                 .Moved(L + 37, A + P + 5, 50));
  }
}

TEST_P(KnownAnswer, ReturnsMinOfLocalAndRemoteTotals) {
  Case c = Make(false, {{Rgn(L, 1, RW, Fill::kZero)}}, {{Rgn(A, 1)}}, {{L, 50}}, {{A, 100}});
  Check(c, Want(c).Ret(50).Moved(L, A, 50));
  c.call.local = {{L, 300}};
  Check(c, Want(c).Ret(100).Moved(L, A, 100));
}

TEST_P(KnownAnswer, NeverTouchedAnonReadsZerosAndCanBeWritten) {
  Case c = Make(false, {{Rgn(L, 1, RW, Fill::kByte, 0x77)}}, {{Rgn(A, 3, RW, Fill::kZero)}},
                {{L, P}}, {{A + P, P}});
  Check(c, Want(c).Ret(P).Moved(L, A + P, P));
  c.call.write = true;
  Check(c, Want(c).Ret(P).Moved(L, A + P, P));
}

TEST_P(KnownAnswer, RemoteStreamSpansAdjacentReadableVmas) {
  Case c = Make(false, {{Rgn(L, 3, RW, Fill::kZero)}},
                {{Rgn(A, 1, RW), Rgn(A + P, 1, PROT_READ, Fill::kByte, 0x42),
                  Rgn(A + 2 * P, 1, PROT_READ | PROT_EXEC)}},
                {{L, 3 * P}}, {{A + 10, 2 * P + 100}});
  Check(c, Want(c).Ret(2 * P + 100).Moved(L, A + 10, 2 * P + 100));
}

// ---------------------------------------------------------------------------
// The partial-transfer rule, remote side: page granularity.

TEST_P(KnownAnswer, RemoteElementRunningIntoHoleStopsAtTheHolesPage) {
  for (bool write : {false, true}) {
    SCOPED_TRACE(write ? "writev" : "readv");
    Case c = Make(write, {{Rgn(L, 4, RW, write ? Fill::kPattern : Fill::kZero)}},
                  {{Rgn(A, 2, RW, Fill::kPattern)}}, {{L, 4 * P}}, {{A + 100, 3 * P}});
    Check(c, Want(c).Ret(2 * P - 100).Moved(L, A + 100, 2 * P - 100));
  }
}

TEST_P(KnownAnswer, KernelMdExample8092) {
  // "(A+38p+100, 3 pages) with a hole at page 40 ... now it returns 8092".
  Case c = Make(false, {{Rgn(L, 3, RW, Fill::kZero)}}, {{Rgn(A, 40)}}, {{L, 3 * P}},
                {{A + 38 * P + 100, 3 * P}});
  Check(c, Want(c).Ret(8092).Moved(L, A + 38 * P + 100, 8092));
}

TEST_P(KnownAnswer, RemoteProtBoundaryStopsLikeAHole) {
  Case c = Make(false, {{Rgn(L, 1, RW, Fill::kZero)}}, {{Rgn(A, 1), Rgn(A + P, 1, PROT_NONE)}},
                {{L, 100}}, {{A + P - 5, 10}});
  Check(c, Want(c).Ret(5).Moved(L, A + P - 5, 5));
}

TEST_P(KnownAnswer, LaterElementsAreNotProcessedAfterAFault) {
  Case c = Make(false, {{Rgn(L, 1, RW, Fill::kZero)}}, {{Rgn(A, 1), Rgn(A + 2 * P, 1)}},
                {{L, 1000}}, {{A, 100}, {A + P - 10, 20}, {A + 2 * P, 100}});
  Check(c, Want(c).Ret(110).Moved(L, A, 100).Moved(L + 100, A + P - 10, 10));
}

TEST_P(KnownAnswer, ElementStartingInsideABadPageStopsAtItsStart) {
  Case c = Make(false, {{Rgn(L, 1, RW, Fill::kZero)}}, {{Rgn(A, 1)}}, {{L, 1000}},
                {{A, 50}, {A + P + 7, 100}});
  Check(c, Want(c).Ret(50).Moved(L, A, 50));
}

TEST_P(KnownAnswer, FirstRemoteElementInAHoleIsEfault) {
  for (bool write : {false, true}) {
    Case c = Make(write, {{Rgn(L, 1)}}, {{Rgn(A, 1)}}, {{L, 100}}, {{A + P, 10}});
    Check(c, Want(c).Error(EFAULT));
  }
}

TEST_P(KnownAnswer, LocalStreamExhaustedBeforeABadRemotePageIsNoError) {
  Case c = Make(false, {{Rgn(L, 1, RW, Fill::kZero)}}, {{Rgn(A, 1)}}, {{L, 100}},
                {{A, 100}, {A + 5 * P, 10}});
  Check(c, Want(c).Ret(100).Moved(L, A, 100));
  c.call.local = {{L, 50}};
  c.call.remote = {{A, 50}, {0, 10}};
  Check(c, Want(c).Ret(50).Moved(L, A, 50));
}

TEST_P(KnownAnswer, CrossingThe1024PageBatch) {
  Case c = Make(false, {{Rgn(L, 1100, RW, Fill::kZero)}}, {{Rgn(A, 1100)}}, {{L, 1030 * P}},
                {{A + 5, 1030 * P}});
  Check(c, Want(c).Ret(1030 * P).Moved(L, A + 5, 1030 * P));
  // A hole after 1050 pages, in the element's second batch.
  c.remote_layout = {{Rgn(A, 1050)}};
  c.call.local = {{L, 1100 * P}};
  c.call.remote = {{A + 100, 1100 * P}};
  Check(c, Want(c).Ret(1050 * P - 100).Moved(L, A + 100, 1050 * P - 100));
}

// ---------------------------------------------------------------------------
// The partial-transfer rule, local side: byte granularity.

TEST_P(KnownAnswer, LocalFaultIsByteExactReadv) {
  Case c = Make(false, {{Rgn(L, 1, RW, Fill::kZero)}}, {{Rgn(A, 1)}}, {{L + P - 123, 1000}},
                {{A, 1000}});
  Check(c, Want(c).Ret(123).Moved(L + P - 123, A, 123));
}

TEST_P(KnownAnswer, LocalFaultIsByteExactWritev) {
  Case c = Make(true, {{Rgn(L, 1)}}, {{Rgn(A, 1, RW, Fill::kByte, 0xee)}}, {{L + P - 77, 500}},
                {{A + 1000, 500}});
  Check(c, Want(c).Ret(77).Moved(L + P - 77, A + 1000, 77));
}

TEST_P(KnownAnswer, LocalFaultInASecondElement) {
  Case c = Make(false, {{Rgn(L, 1, RW, Fill::kZero)}}, {{Rgn(A, 1)}}, {{L, 10}, {L + P, 10}},
                {{A, 100}});
  Check(c, Want(c).Ret(10).Moved(L, A, 10));
  c.call.local = {{L, 10}, {0, 10}};  // NULL with len > 0 passes import, faults on copy
  Check(c, Want(c).Ret(10).Moved(L, A, 10));
}

TEST_P(KnownAnswer, LocalFaultAtTheFirstByteIsEfault) {
  for (bool write : {false, true}) {
    Case c = Make(write, {{Rgn(L, 1)}}, {{Rgn(A, 1)}}, {{L + P, 10}}, {{A, 10}});
    Check(c, Want(c).Error(EFAULT));
  }
}

TEST_P(KnownAnswer, LocalProtAsymmetry) {
  struct Row {
    bool write;
    int local_prot;
    bool ok;
  };
  // readv writes the local side (needs W); writev reads it (R, W or X will do, but not X
  // alone where the CPU has protection keys: Linux gives an exactly-PROT_EXEC mapping the
  // execute-only key, whose PKRU bits deny every data access, the kernel's included).
  const bool exec_only_readable = !HostHasPku();
  for (const Row& row : {Row{false, PROT_READ, false}, Row{false, PROT_WRITE, true},
                         Row{false, PROT_EXEC, false}, Row{false, PROT_NONE, false},
                         Row{false, PROT_READ | PROT_EXEC, false},
                         Row{true, PROT_EXEC, exec_only_readable},
                         Row{true, PROT_READ | PROT_EXEC, true},
                         Row{true, PROT_WRITE, true}, Row{true, PROT_NONE, false},
                         Row{true, PROT_READ, true}}) {
    SCOPED_TRACE(std::string(row.write ? "writev, local " : "readv, local ") +
                 ProtString(row.local_prot));
    Case c = Make(row.write, {{Rgn(L, 1, row.local_prot)}}, {{Rgn(A, 1, RW, Fill::kByte, 0x3c)}},
                  {{L + 8, 200}}, {{A + 16, 200}});
    if (row.ok) {
      Check(c, Want(c).Ret(200).Moved(L + 8, A + 16, 200));
    } else {
      Check(c, Want(c).Error(EFAULT));
    }
  }
}

TEST_P(KnownAnswer, RemoteProtNeedsVmReadOrVmWrite) {
  struct Row {
    bool write;
    int remote_prot;
    bool ok;
  };
  // check_vma_flags: reads need VM_READ, writes need VM_WRITE.
  for (const Row& row : {Row{false, PROT_READ, true}, Row{false, PROT_READ | PROT_EXEC, true},
                         Row{false, PROT_EXEC, false}, Row{false, PROT_WRITE, false},
                         Row{false, PROT_NONE, false}, Row{true, PROT_WRITE, true},
                         Row{true, PROT_READ, false}, Row{true, PROT_READ | PROT_EXEC, false},
                         Row{true, PROT_EXEC, false}, Row{true, PROT_NONE, false}}) {
    SCOPED_TRACE(std::string(row.write ? "writev, remote " : "readv, remote ") +
                 ProtString(row.remote_prot));
    Case c = Make(row.write, {{Rgn(L, 1)}}, {{Rgn(A, 1, row.remote_prot)}}, {{L + 8, 200}},
                  {{A + 16, 200}});
    if (row.ok) {
      Check(c, Want(c).Ret(200).Moved(L + 8, A + 16, 200));
    } else {
      Check(c, Want(c).Error(EFAULT));
    }
  }
}

// ---------------------------------------------------------------------------
// Error table (c): argument checks.

TEST_P(KnownAnswer, NonzeroFlagsAreEinvalBeforeAnythingElse) {
  for (uint64_t flags : {uint64_t{1}, uint64_t{2}, uint64_t{1} << 63, kMinus1}) {
    Case c = Make(false, {{Rgn(L, 1)}}, {{Rgn(A, 1)}}, {{L, 10}}, {{A, 10}}, flags);
    Check(c, Want(c).Error(EINVAL));
    c.call.local.clear();  // flags come before "local total 0 -> 0"
    Check(c, Want(c).Error(EINVAL));
  }
}

TEST_P(KnownAnswer, IovecCounts) {
  Case c = Make(false, {{Rgn(L, 1, RW, Fill::kZero)}}, {{Rgn(A, 1)}}, {}, {});
  // liovcnt 1025: EINVAL.
  c.call.local.assign(1025, {L, 1});
  c.call.remote = {{A, 10}};
  Check(c, Want(c).Error(EINVAL));
  // riovcnt 1025 with a local total > 0: EINVAL.
  c.call.local = {{L, 10}};
  c.call.remote.assign(1025, {A, 1});
  Check(c, Want(c).Error(EINVAL));
  // riovcnt 1025 but local total 0: 0, rvec never read.
  c.call.local = {{L, 0}, {L + 1, 0}};
  Check(c, Want(c).Ret(0));
  // 1024 and 1024: accepted.
  c.call.local.clear();
  c.call.remote.clear();
  for (uint64_t i = 0; i < 1024; ++i) {
    c.call.local.push_back({L + 3 * i, 1});
    c.call.remote.push_back({A + 2 * i + 1, 1});
  }
  Want want(c);
  want.Ret(1024);
  for (uint64_t i = 0; i < 1024; ++i) want.Moved(L + 3 * i, A + 2 * i + 1, 1);
  Check(c, want);
}

TEST_P(KnownAnswer, LiovcntZeroIsZero) {
  Case c = Make(false, {{Rgn(L, 1)}}, {{Rgn(A, 1)}}, {}, {{A, 10}});
  Check(c, Want(c).Ret(0));
  c.call.remote.assign(1025, {kMinus1, kNeg});  // never looked at
  Check(c, Want(c).Ret(0));
}

TEST_P(KnownAnswer, RiovcntZeroIsZero) {
  Case c = Make(false, {{Rgn(L, 1)}}, {{Rgn(A, 1)}}, {{L, 10}}, {});
  Check(c, Want(c).Ret(0));
}

TEST_P(KnownAnswer, ZeroLengthRemoteElementsAreSkippedWhateverTheirBase) {
  Case c = Make(false, {{Rgn(L, 1, RW, Fill::kZero)}}, {{Rgn(A, 1)}}, {{L, 100}},
                {{kMinus1, 0}, {A, 10}, {0, 0}, {A + 5 * P, 0}, {A + 20, 5}});
  Check(c, Want(c).Ret(15).Moved(L, A, 10).Moved(L + 10, A + 20, 5));
  // All remote lengths 0: 0.
  c.call.remote = {{kMinus1, 0}, {0, 0}};
  Check(c, Want(c).Ret(0));
}

TEST_P(KnownAnswer, ZeroLengthLocalElementAtMinus1IsEfaultWithTwoElements) {
  Case c = Make(false, {{Rgn(L, 1)}}, {{Rgn(A, 1)}}, {{L, 10}, {kMinus1, 0}}, {{A, 10}});
  Check(c, Want(c).Error(EFAULT));
}

TEST_P(KnownAnswer, LengthAboveSsizeMaxIsEinval) {
  Case c = Make(false, {{Rgn(L, 1)}}, {{Rgn(A, 1)}}, {{L, kNeg}}, {{A, 10}});
  Check(c, Want(c).Error(EINVAL));
  c.call.local = {{L, 10}};
  c.call.remote = {{A, 10}, {A, kMinus1}};
  Check(c, Want(c).Error(EINVAL));
  c.call.remote = {{A, kNeg}};
  Check(c, Want(c).Error(EINVAL));
  // Stated order: length signs (array copy) before access_ok.
  c.call.local = {{kMinus1, 5}, {L, kNeg}};
  c.call.remote = {{A, 10}};
  Check(c, Want(c).Error(EINVAL));
}

TEST_P(KnownAnswer, RemoteLengthSsizeMaxIsLimitedByLocalOrHole) {
  Case c = Make(false, {{Rgn(L, 3, RW, Fill::kZero)}}, {{Rgn(A, 2)}}, {{L, P}}, {{A, kSsizeMax}});
  Check(c, Want(c).Ret(P).Moved(L, A, P));
  c.call.local = {{L, 3 * P}};
  Check(c, Want(c).Ret(2 * P).Moved(L, A, 2 * P));
  // Remote sums above SSIZE_MAX are accepted too.
  c.call.remote = {{A, 10}, {A, kSsizeMax}, {A, kSsizeMax}};
  Check(c, Want(c).Ret(10 + 2 * P).Moved(L, A, 10).Moved(L + 10, A, 2 * P));
}

TEST_P(KnownAnswer, SingleLocalIovecWithHugeLengthIsClamped) {
  Case c = Make(false, {{Rgn(L, 1, RW, Fill::kZero)}}, {{Rgn(A, 1)}}, {{L, uint64_t{1} << 47}},
                {{A, 100}});
  Check(c, Want(c).Ret(100).Moved(L, A, 100));
  c.call.local = {{L, kSsizeMax}};
  Check(c, Want(c).Ret(100).Moved(L, A, 100));
  // With two local elements the unclamped length fails access_ok.
  c.call.local = {{L, uint64_t{1} << 47}, {L, 1}};
  Check(c, Want(c).Error(EFAULT));
  // Each <= SSIZE_MAX but the sum above it: EFAULT, not EINVAL.
  c.call.local = {{L, kSsizeMax}, {L, kSsizeMax}};
  Check(c, Want(c).Error(EFAULT));
}

TEST_P(KnownAnswer, LocalNonUserAddressIsEfaultAtImport) {
  Case c = Make(false, {{Rgn(L, 1)}}, {{Rgn(A, 1)}}, {{L, 10}, {0xffff888000000000, 10}},
                {{A, 100}});
  Check(c, Want(c).Error(EFAULT));
  c.call.local = {{L, 10}, {kUserTop, 1}};
  Check(c, Want(c).Error(EFAULT));
}

TEST_P(KnownAnswer, RemoteBadAddressesAreEfault) {
  for (uint64_t base : {uint64_t{0}, kMinus1, uint64_t{0xffff888000000000}, kUserTop,
                        uint64_t{0x0000800000000000}, A + kWindowSize - P}) {
    SCOPED_TRACE(base);
    Case c = Make(false, {{Rgn(L, 1)}}, {{Rgn(A, 1)}}, {{L, 10}}, {{base, 10}});
    Check(c, Want(c).Error(EFAULT));
  }
}

// Derived: a single local element goes through import_ubuf, which runs
// access_ok(base, clamped len) too, so a zero-length element at -1 is EFAULT
// even alone.
TEST_P(KnownAnswer, DerivedSingleZeroLengthLocalAtMinus1IsEfault) {
  Case c = Make(false, {{Rgn(L, 1)}}, {{Rgn(A, 1)}}, {{kMinus1, 0}}, {{A, 10}});
  Check(c, Want(c).Error(EFAULT));
}

INSTANTIATE_TEST_SUITE_P(Backends, KnownAnswer, testing::Values("host", "model"),
                         [](const testing::TestParamInfo<std::string>& info) {
                           return info.param;
                         });

}  // namespace
}  // namespace difftest
