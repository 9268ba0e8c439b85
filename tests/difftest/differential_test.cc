// tests/difftest/differential_test.cc: the simulator against the host kernel, seed by seed.
//
// For each seed in [DIFFTEST_FIRST_SEED, DIFFTEST_FIRST_SEED + DIFFTEST_CASES) (defaults 0
// and 2000; pass them with --test_env=NAME=VALUE), GenerateCase(seed) runs on the host
// kernel (HostBackend: two real processes and the real syscall) and on a fresh simulated
// machine (SimBackend). The test fails when
//  * the Outcomes differ (return value, errno, or any byte of either side), or
//  * the simulator's machine checks (debug_vm, pin balance) found a problem after the call.
// On a failure the case is shrunk (compare.h Shrink) with "still fails" meaning the same
// kind of failure, and the message holds the seed, the diff and the minimal case as C++
// and as mmsim scenario text, ready to paste into a test.
// Where the host forbids process_vm_readv (seccomp, no ptrace rights) every case is
// SKIPPED with the host backend's reason.
#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <limits>
#include <optional>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "tests/difftest/case.h"
#include "tests/difftest/compare.h"
#include "tests/difftest/generator.h"
#include "tests/difftest/host_backend.h"
#include "tests/difftest/sim_backend.h"

namespace difftest {
namespace {

constexpr uint64_t kDefaultDifferentialCases = 2000;
// Predicate evaluations the shrinker may spend on one diverging case (each one runs the
// case on the host and on a fresh machine).
constexpr int kShrinkBudget = 800;

uint64_t EnvU64(const char* name, uint64_t fallback) {
  const char* v = std::getenv(name);
  if (v == nullptr || *v == '\0') return fallback;
  errno = 0;
  char* end = nullptr;
  const unsigned long long x = std::strtoull(v, &end, 0);
  if (errno != 0 || *end != '\0') {
    std::fprintf(stderr, "differential_test: ignoring %s=%s (not a number)\n", name, v);
    return fallback;
  }
  return x;
}
uint64_t FirstSeed() { return EnvU64("DIFFTEST_FIRST_SEED", 0); }
int NumCases() {
  return static_cast<int>(std::min<uint64_t>(EnvU64("DIFFTEST_CASES", kDefaultDifferentialCases),
                                             std::numeric_limits<int32_t>::max()));
}

// One host backend per test process: its availability probe runs once.
HostBackend& Host() {
  static HostBackend* const backend = new HostBackend();
  return *backend;
}

// What went wrong with one case (the diff, the machine-check violations, or the
// simulator backend's error), or nullopt if the simulator agreed with the host's `want`.
std::optional<std::string> Compare(const Case& c, const Outcome& want, SimBackend& sim) {
  absl::StatusOr<Outcome> got = sim.Run(c);
  if (!got.ok()) return absl::StrCat("the simulator backend failed: ", got.status().ToString(), "\n");
  std::string what;
  if (std::optional<std::string> d = Diff(c, want, *got)) {
    absl::StrAppend(&what, "host (want) and sim (got) differ:\n", *d);
  }
  if (!sim.violations().empty()) {
    absl::StrAppend(&what, "machine checks after the call:\n", sim.violations());
  }
  if (what.empty()) return std::nullopt;
  return what;
}

class Differential : public testing::TestWithParam<int> {};

TEST_P(Differential, SimMatchesHost) {
  const absl::Status avail = Host().Availability();
  if (absl::IsUnavailable(avail)) GTEST_SKIP() << "host backend unavailable: " << avail;
  ASSERT_TRUE(avail.ok()) << avail;
  const uint64_t seed = FirstSeed() + static_cast<uint64_t>(GetParam());
  const Case c = GenerateCase(seed);
  const absl::StatusOr<Outcome> want = Host().Run(c);
  ASSERT_TRUE(want.ok()) << "seed " << seed << ": host backend: " << want.status() << "\n"
                         << DescribeCase(c);
  RecordProperty("host_ret", static_cast<int64_t>(want->ret));
  RecordProperty("host_errno", want->err);
  SimBackend sim;
  const std::optional<std::string> first = Compare(c, *want, sim);
  if (!first.has_value()) return;

  // Shrink while the same kind of failure persists (a diff stays a diff, a violation a
  // violation, a backend error an error).
  auto kind = [](const std::string& what) {
    return std::string(what.find("differ:") != std::string::npos ? "d" : "") +
           (what.find("machine checks") != std::string::npos ? "v" : "") +
           (what.find("backend failed") != std::string::npos ? "e" : "");
  };
  const std::string first_kind = kind(*first);
  auto still_fails = [&](const Case& k) {
    const absl::StatusOr<Outcome> w = Host().Run(k);
    if (!w.ok()) return false;
    const std::optional<std::string> f = Compare(k, *w, sim);
    if (!f.has_value()) return false;
    const std::string fk = kind(*f);
    for (char ch : first_kind) {
      if (fk.find(ch) != std::string::npos) return true;
    }
    return false;
  };
  const Case small = Shrink(c, still_fails, kShrinkBudget);
  const absl::StatusOr<Outcome> want_small = Host().Run(small);
  ASSERT_TRUE(want_small.ok()) << want_small.status();
  const std::optional<std::string> last = Compare(small, *want_small, sim);
  ADD_FAILURE() << "seed " << seed << ": the simulator diverges from the host kernel.\n"
                << "Original case: " << *first << "Shrunk case: "
                << last.value_or("(no longer fails)\n") << DescribeCase(small, *want_small);
}

INSTANTIATE_TEST_SUITE_P(Seeds, Differential, testing::Range(0, NumCases()));

// Prints the seed range and the host backend's availability once per test process.
class Banner : public testing::Environment {
 public:
  void SetUp() override {
    const uint64_t first = FirstSeed();
    std::printf("differential_test: seeds [%llu, %llu) (DIFFTEST_FIRST_SEED, DIFFTEST_CASES)\n",
                static_cast<unsigned long long>(first),
                static_cast<unsigned long long>(first + NumCases()));
    const absl::Status s = Host().Availability();
    std::printf("differential_test: host backend: %s\n",
                s.ok() ? "available" : s.ToString().c_str());
    std::fflush(stdout);
  }
};
testing::Environment* const kBanner = testing::AddGlobalTestEnvironment(new Banner);

}  // namespace
}  // namespace difftest
