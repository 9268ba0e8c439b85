// tests/difftest/seeded_test.cc: generated cases on the host, seed by seed.
//
// For each seed of the range in seeds.h (default [0, 200), one seed per test):
//  * HostIsDeterministic: the case run twice on the host gives identical
//    Outcomes (the harness is deterministic: nothing left over between runs,
//    no dependence on timing or on what was mapped before);
//  * HostMatchesModel: the host agrees with the spec model of docs/semantics.md. On
//    a divergence the case is shrunk (host vs model) and the failure prints
//    the diff and the minimal case as C++ and as mmsim scenario text.
// Both are SKIPPED, with the reason, where the host forbids process_vm_readv.
#include <cstdint>
#include <optional>
#include <string>

#include "absl/status/status.h"
#include "gtest/gtest.h"
#include "tests/difftest/case.h"
#include "tests/difftest/compare.h"
#include "tests/difftest/generator.h"
#include "tests/difftest/host_backend.h"
#include "tests/difftest/model_backend.h"
#include "tests/difftest/seeds.h"

namespace difftest {
namespace {

// A chunk of seeds stops after this many failures (each one is shrunk).
constexpr int kMaxFailuresPerTest = 3;

class Seeded : public testing::TestWithParam<int> {
 protected:
  // One backend (and one target process) for the whole suite.
  static void SetUpTestSuite() { host_ = new HostBackend(); }
  static void TearDownTestSuite() {
    delete host_;  // reaps the target
    host_ = nullptr;
  }

  void SetUp() override {
    const absl::Status s = host_->Availability();
    if (absl::IsUnavailable(s)) GTEST_SKIP() << s;
    ASSERT_TRUE(s.ok()) << s;
  }

  // Runs `check` on every seed of this test; reports each failure it returns.
  template <typename Check>
  void ForEachSeed(Check check) {
    int failures = 0;
    const SeedRange range = SeedsOfTest(GetParam());
    for (uint64_t seed = range.begin; seed < range.end && failures < kMaxFailuresPerTest; ++seed) {
      if (std::optional<std::string> f = check(GenerateCase(seed))) {
        ADD_FAILURE() << "seed " << seed << ": " << *f;
        ++failures;
      }
    }
  }

  static HostBackend* host_;
};

HostBackend* Seeded::host_ = nullptr;

TEST_P(Seeded, HostIsDeterministic) {
  ForEachSeed([](const Case& c) -> std::optional<std::string> {
    absl::StatusOr<Outcome> a = host_->Run(c);
    absl::StatusOr<Outcome> b = host_->Run(c);
    if (!a.ok() || !b.ok()) {
      return "host backend failed: " + (a.ok() ? b : a).status().ToString() + "\n" +
             DescribeCase(c);
    }
    if (std::optional<std::string> d = Diff(c, *a, *b)) {
      return "two host runs differ:\n" + *d + DescribeCase(c, *a);
    }
    return std::nullopt;
  });
}

TEST_P(Seeded, HostMatchesModel) {
  ModelBackend model;
  ForEachSeed([&](const Case& c) -> std::optional<std::string> {
    absl::StatusOr<Outcome> want = host_->Run(c);
    if (!want.ok()) return "host backend failed: " + want.status().ToString() + "\n" + DescribeCase(c);
    absl::StatusOr<Outcome> got = model.Run(c);
    if (!got.ok()) return "model failed: " + got.status().ToString();
    if (!Diff(c, *want, *got).has_value()) return std::nullopt;
    auto diverges = [&](const Case& k) {
      absl::StatusOr<Outcome> w = host_->Run(k);
      absl::StatusOr<Outcome> g = model.Run(k);
      return w.ok() && g.ok() && Diff(k, *w, *g).has_value();
    };
    const Case small = Shrink(c, diverges);
    const Outcome w = *host_->Run(small);
    const Outcome g = *model.Run(small);
    return "host (want) and model (got) diverge; shrunk case:\n" +
           Diff(small, w, g).value_or("(no longer diverges)\n") + DescribeCase(small, w);
  });
}

INSTANTIATE_TEST_SUITE_P(Seeds, Seeded, testing::Range(0, NumTests()));

}  // namespace
}  // namespace difftest
