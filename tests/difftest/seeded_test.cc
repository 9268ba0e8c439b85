// tests/difftest/seeded_test.cc: generated cases on the host, seed by seed.
//
// For each seed in [DIFFTEST_FIRST_SEED, +DIFFTEST_CASES) (default [0, 200)):
//  * HostIsDeterministic: the case run twice on the host gives identical
//    Outcomes (the harness is deterministic: no leftovers between runs, no
//    dependence on timing or on what was mapped before);
//  * HostMatchesModel: the host agrees with the spec model of KERNEL.md. On
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

class Seeded : public testing::TestWithParam<int> {
 protected:
  void SetUp() override {
    const absl::Status s = host().Availability();
    if (absl::IsUnavailable(s)) GTEST_SKIP() << s;
    ASSERT_TRUE(s.ok()) << s;
    seed_ = FirstSeed() + static_cast<uint64_t>(GetParam());
    case_ = GenerateCase(seed_);
  }

  // One backend (and one target process) for the whole suite.
  static void SetUpTestSuite() { host_ = new HostBackend(); }
  static void TearDownTestSuite() {
    delete host_;  // reaps the target
    host_ = nullptr;
  }
  static HostBackend& host() { return *host_; }
  static HostBackend* host_;

  uint64_t seed_ = 0;
  Case case_;
};

HostBackend* Seeded::host_ = nullptr;

TEST_P(Seeded, HostIsDeterministic) {
  absl::StatusOr<Outcome> a = host().Run(case_);
  ASSERT_TRUE(a.ok()) << "seed " << seed_ << ": " << a.status() << "\n" << DescribeCase(case_);
  absl::StatusOr<Outcome> b = host().Run(case_);
  ASSERT_TRUE(b.ok()) << "seed " << seed_ << ": " << b.status() << "\n" << DescribeCase(case_);
  std::optional<std::string> d = Diff(case_, *a, *b);
  EXPECT_FALSE(d.has_value()) << "seed " << seed_ << ": two host runs differ:\n"
                              << *d << DescribeCase(case_, *a);
}

TEST_P(Seeded, HostMatchesModel) {
  ModelBackend model;
  absl::StatusOr<Outcome> want = host().Run(case_);
  ASSERT_TRUE(want.ok()) << "seed " << seed_ << ": " << want.status() << "\n"
                         << DescribeCase(case_);
  absl::StatusOr<Outcome> got = model.Run(case_);
  ASSERT_TRUE(got.ok()) << got.status();
  if (!Diff(case_, *want, *got).has_value()) return;
  auto diverges = [&](const Case& k) {
    absl::StatusOr<Outcome> w = host().Run(k);
    absl::StatusOr<Outcome> g = model.Run(k);
    return w.ok() && g.ok() && Diff(k, *w, *g).has_value();
  };
  const Case small = Shrink(case_, diverges);
  const Outcome w = *host().Run(small);
  const Outcome g = *model.Run(small);
  ADD_FAILURE() << "seed " << seed_ << ": host (want) and model (got) diverge; shrunk case:\n"
                << Diff(small, w, g).value_or("(no longer diverges)\n") << DescribeCase(small, w);
}

INSTANTIATE_TEST_SUITE_P(Seeds, Seeded, testing::Range(0, NumCases()));

}  // namespace
}  // namespace difftest
