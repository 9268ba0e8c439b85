// The two-path races at a deeper preemption bound (RACES_DEEP_PREEMPTIONS, default 3: two
// more than races_test needs to find every outcome; the three-path mmap_lock race is
// explored at 2 by races_test, its bound 3 is ~10^5 schedules), split
// across Bazel test shards: shard k of n runs only its part of each exploration
// (ExploreOptions::shard_index/count; kAll splits by the first departure from the default
// schedule), so every shard runs every test. Each shard checks that its schedules end
// clean (races.cc) and produce only outcomes Linux allows; unsharded, the exact set is
// also checked. The union over shards is the unsharded result (sim/sched/explore.h).
#include <cstdio>
#include <cstdlib>
#include <set>
#include <string>

#include "gtest/gtest.h"
#include "sim/sched/explore.h"
#include "tests/races/races.h"

namespace races {
namespace {

int DeepPreemptions() {
  const char* v = std::getenv("RACES_DEEP_PREEMPTIONS");
  return v != nullptr && std::atoi(v) > 0 ? std::atoi(v) : 3;
}

class DeepTest : public testing::TestWithParam<const char*> {};

TEST_P(DeepTest, OnlyAllowedOutcomes) {
  const RaceCase& c = Case(GetParam());
  sim::ExploreOptions o;
  o.mode = sim::ExploreOptions::Mode::kAll;
  o.preemptions = DeepPreemptions();
  o = WithTestShard(o);
  Explored e = ExploreRace(o, c.run);
  EXPECT_TRUE(e.exhausted);
  for (const std::string& text : Texts(e))
    EXPECT_TRUE(c.allowed.count(text)) << "an outcome Linux cannot produce: " << text;
  if (o.shard_count == 1) {
    EXPECT_EQ(Texts(e), c.allowed);
  }
}

INSTANTIATE_TEST_SUITE_P(Races, DeepTest,
                         testing::Values("ReadvVsMunmap", "WritevVsMprotect", "ReadvVsExit",
                                         "WritevVsFork", "ReadvVsLocalMunmap",
                                         "MunmapVsStaleTlbLoad", "CowWriteWrite"),
                         [](const testing::TestParamInfo<const char*>& i) {
                           return std::string(i.param);
                         });

}  // namespace
}  // namespace races

int main(int argc, char** argv) {
  setenv("RACES_CHECK_EVERY_SWITCH", "0", /*overwrite=*/0);  // races_test checks every switch
  races::PrepareShards();
  testing::InitGoogleTest(&argc, argv);
  return RUN_ALL_TESTS();
}
