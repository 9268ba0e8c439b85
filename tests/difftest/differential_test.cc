// tests/difftest/differential_test.cc: the simulator against the host kernel, seed by seed.
//
// For each seed of the range seeds.h reads from the environment (DIFFTEST_FIRST_SEED,
// DIFFTEST_CASES, DIFFTEST_CHUNK; pass them with --test_env=NAME=VALUE), GenerateCase(seed)
// runs on the host kernel (HostBackend: two real processes and the real syscall) and on a
// fresh simulated machine (SimBackend). The test fails when
//  * the Outcomes differ (return value, errno, or any byte of either side), or
//  * the simulator's machine checks (debug_vm, pin balance) found a problem after the call.
// On a failure the case is shrunk (compare.h Shrink) with "still fails" meaning the same
// kind of failure, and the message holds the seed, the diff and the minimal case as C++
// and as mmsim scenario text, ready to paste into a test.
// Where the host forbids process_vm_readv (seccomp, no ptrace rights) every case is
// SKIPPED with the host backend's reason.
#include <cstdint>
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
#include "tests/difftest/seeds.h"
#include "tests/difftest/sim_backend.h"

namespace difftest {
namespace {

// Predicate evaluations the shrinker may spend on one diverging case (each one runs the
// case on the host and on a fresh machine).
constexpr int kShrinkBudget = 800;

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

// One seed: nullopt when the simulator agrees with the host, else the failure message
// (with the shrunk case). A host backend error is a failure too.
std::optional<std::string> CheckSeed(uint64_t seed) {
  const Case c = GenerateCase(seed);
  const absl::StatusOr<Outcome> want = Host().Run(c);
  if (!want.ok()) {
    return absl::StrCat("host backend: ", want.status().ToString(), "\n", DescribeCase(c));
  }
  SimBackend sim;
  const std::optional<std::string> first = Compare(c, *want, sim);
  if (!first.has_value()) return std::nullopt;

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
  if (!want_small.ok()) return absl::StrCat("host backend: ", want_small.status().ToString());
  const std::optional<std::string> last = Compare(small, *want_small, sim);
  return absl::StrCat("the simulator diverges from the host kernel.\nOriginal case: ", *first,
                      "Shrunk case: ", last.value_or("(no longer fails)\n"),
                      DescribeCase(small, *want_small));
}

class Differential : public testing::TestWithParam<int> {};

// Test number i runs the seeds SeedsOfTest(i) (one seed unless DIFFTEST_CHUNK is set).
TEST_P(Differential, SimMatchesHost) {
  const absl::Status avail = Host().Availability();
  if (absl::IsUnavailable(avail)) GTEST_SKIP() << "host backend unavailable: " << avail;
  ASSERT_TRUE(avail.ok()) << avail;
  const SeedRange range = SeedsOfTest(GetParam());
  for (uint64_t seed = range.begin; seed < range.end; ++seed) {
    if (std::optional<std::string> f = CheckSeed(seed)) {
      ADD_FAILURE() << "seed " << seed << ": " << *f;
      return;  // one shrunk failure per test is enough to read
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Seeds, Differential, testing::Range(0, NumTests()));

}  // namespace
}  // namespace difftest
