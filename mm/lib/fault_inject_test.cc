// mm/lib/fault_inject_test.cc: the fault_attr rule (mm/fault_attr.h) on a bare kernel_state
// (no boot needed: only kst().fault_inject is read).
#include "mm/fault_inject.h"

#include <vector>

#include "gtest/gtest.h"

namespace kernel {
namespace {

class FaultInjectTest : public ::testing::Test {
 protected:
  kernel_state ks_;
  kernel_state_scope scope_{&ks_};
};

TEST_F(FaultInjectTest, UnarmedPointsNeverFail) {
  for (int i = 0; i < 100; ++i) EXPECT_FALSE(should_fail_point(FAIL_PAGE_ALLOC, 1));
  EXPECT_EQ(fault_inject_calls("fail_page_alloc"), 0u);  // not even counted
}

TEST_F(FaultInjectTest, NthFailsFromThatPassThenStopsAfterTimes) {
  ASSERT_EQ(fault_inject_arm("failslab", {.nth = 3, .times = 2, .probability = 1.0}), 0);
  std::vector<bool> got;
  for (int i = 0; i < 6; ++i) got.push_back(should_failslab(8, 0));
  EXPECT_EQ(got, (std::vector<bool>{false, false, true, true, false, false}));
  EXPECT_EQ(fault_inject_calls("failslab"), 6u);
  EXPECT_EQ(fault_inject_failures("failslab"), 2u);
  EXPECT_FALSE(should_fail_alloc_page(0, 0));  // other points unaffected
}

TEST_F(FaultInjectTest, RearmingRestartsTheCount) {
  ASSERT_EQ(fault_inject_arm("fail_gup", {.nth = 2, .times = 1}), 0);
  EXPECT_FALSE(should_fail_point(FAIL_GUP));
  EXPECT_TRUE(should_fail_point(FAIL_GUP));
  ASSERT_EQ(fault_inject_arm("fail_gup", {.nth = 2, .times = 1}), 0);
  EXPECT_EQ(fault_inject_calls("fail_gup"), 0u);
  EXPECT_FALSE(should_fail_point(FAIL_GUP));
  EXPECT_TRUE(should_fail_point(FAIL_GUP));
  EXPECT_EQ(ks_.fault_inject.nr_armed, 1);  // armed twice, counted once
}

TEST_F(FaultInjectTest, ProbabilityIsSeededAndRoughlyRight) {
  auto run = [&](uint64_t seed) {
    fault_inject_seed(seed);
    EXPECT_EQ(fault_inject_arm("fail_gup", {.nth = 0, .times = -1, .probability = 0.25}), 0);
    std::vector<bool> v;
    for (int i = 0; i < 4000; ++i) v.push_back(should_fail_point(FAIL_GUP));
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

TEST_F(FaultInjectTest, RejectsUnknownPointsAndBadSpecs) {
  EXPECT_EQ(fault_inject_arm("fail_everything", {}), -EINVAL);
  EXPECT_EQ(fault_inject_arm(nullptr, {}), -EINVAL);
  EXPECT_EQ(fault_inject_arm("failslab", {.nth = 0, .times = 1, .probability = 1.5}), -EINVAL);
  EXPECT_EQ(fault_inject_arm("failslab", {.nth = 0, .times = 1, .probability = -0.1}), -EINVAL);
  EXPECT_EQ(fault_inject_arm("failslab", {.nth = 0, .times = 0, .probability = 1.0}), -EINVAL);
  EXPECT_EQ(fault_inject_arm("failslab", {.nth = 0, .times = -2, .probability = 1.0}), -EINVAL);
  EXPECT_EQ(ks_.fault_inject.nr_armed, 0);
}

TEST_F(FaultInjectTest, DisarmStopsFailuresAndKeepsCounts) {
  ASSERT_EQ(fault_inject_arm("fail_fault", {.nth = 0, .times = -1, .probability = 1.0}), 0);
  ASSERT_EQ(fault_inject_arm("fail_uaccess", {.nth = 0, .times = -1, .probability = 1.0}), 0);
  EXPECT_TRUE(should_fail_point(FAIL_FAULT));
  fault_inject_disarm("fail_fault");
  EXPECT_FALSE(should_fail_point(FAIL_FAULT));
  EXPECT_EQ(fault_inject_failures("fail_fault"), 1u);
  EXPECT_TRUE(should_fail_point(FAIL_UACCESS));
  fault_inject_disarm(nullptr);
  EXPECT_FALSE(should_fail_point(FAIL_UACCESS));
  EXPECT_EQ(ks_.fault_inject.nr_armed, 0);
}

TEST_F(FaultInjectTest, NamesAndIndicesAgree) {
  for (int i = 0; i < NR_FAULT_POINTS; ++i) EXPECT_EQ(fault_point_by_name(fault_point_names[i]), i);
  EXPECT_EQ(fault_point_by_name("FAILSLAB"), -EINVAL);
}

}  // namespace
}  // namespace kernel
