// sim/fault/fault_policy_test.cc
#include "sim/fault/fault_policy.h"

#include <vector>

#include "gtest/gtest.h"

namespace sim {
namespace {

TEST(FaultPolicy, UnarmedPointsNeverFail) {
  FaultPolicy p(1);
  for (int i = 0; i < 100; ++i) EXPECT_FALSE(p.should_fail("fail_page_alloc", 1));
}

TEST(FaultPolicy, NthFailsExactlyThatPassThenStopsAfterTimes) {
  FaultPolicy p(1);
  ASSERT_TRUE(p.Arm("failslab", {.nth = 3, .times = 2, .probability = 1.0}).ok());
  std::vector<bool> got;
  for (int i = 0; i < 6; ++i) got.push_back(p.should_fail("failslab", 8));
  EXPECT_EQ(got, (std::vector<bool>{false, false, true, true, false, false}));
  EXPECT_EQ(p.calls("failslab"), 6u);
  EXPECT_EQ(p.failures("failslab"), 2u);
  EXPECT_FALSE(p.should_fail("fail_page_alloc", 1));  // other points unaffected
}

TEST(FaultPolicy, ProbabilityIsSeededAndRoughlyRight) {
  auto run = [](uint64_t seed) {
    FaultPolicy p(seed);
    EXPECT_TRUE(p.Arm("fail_gup", {.nth = 0, .times = -1, .probability = 0.25}).ok());
    std::vector<bool> v;
    for (int i = 0; i < 4000; ++i) v.push_back(p.should_fail("fail_gup", 0));
    return v;
  };
  std::vector<bool> a = run(7), b = run(7), c = run(8);
  EXPECT_EQ(a, b);  // same seed, same failures
  EXPECT_NE(a, c);
  int n = 0;
  for (bool x : a) n += x;
  EXPECT_GT(n, 800);
  EXPECT_LT(n, 1200);
}

TEST(FaultPolicy, RejectsUnknownPointsAndBadSpecsWithReasons) {
  FaultPolicy p(1);
  absl::Status s = p.Arm("fail_everything", {});
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("fail_page_alloc"), absl::string_view::npos);
  EXPECT_FALSE(p.Arm("failslab", {.nth = 0, .times = 1, .probability = 1.5}).ok());
  EXPECT_FALSE(p.Arm("failslab", {.nth = 0, .times = 0, .probability = 1.0}).ok());
}

TEST(FaultPolicy, DisarmStopsFailures) {
  FaultPolicy p(1);
  ASSERT_TRUE(p.Arm("fail_fault", {.nth = 0, .times = -1, .probability = 1.0}).ok());
  EXPECT_TRUE(p.should_fail("fail_fault", 0));
  p.Disarm("fail_fault");
  EXPECT_FALSE(p.should_fail("fail_fault", 0));
}

}  // namespace
}  // namespace sim
