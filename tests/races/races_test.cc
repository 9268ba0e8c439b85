// The race suite (issue #13 item 6): for each race, every schedule within a preemption
// bound that covers the outcome set is explored (kAll), every schedule passes the end
// checks (races.cc: no deadlock, debug_vm clean at every switch and at the end, pins
// balanced), every outcome replays from its schedule id, and the set of outcomes equals
// the one derived from Linux 6.18 (docs/races.md gives the derivations).
#include <set>
#include <string>

#include "gtest/gtest.h"
#include "sim/sched/explore.h"
#include "tests/races/races.h"

namespace races {
namespace {

sim::ExploreOptions All(int preemptions) {
  sim::ExploreOptions o;
  o.mode = sim::ExploreOptions::Mode::kAll;
  o.preemptions = preemptions;
  return o;
}

void ExpectExactly(const Explored& e, const std::set<std::string>& want) {
  EXPECT_TRUE(e.exhausted);
  EXPECT_EQ(Texts(e), want);
  uint64_t total = 0;
  for (const auto& [text, n] : e.outcomes) total += n;
  EXPECT_EQ(total, e.schedules);
}

class RacesTest : public testing::TestWithParam<const char*> {};

TEST_P(RacesTest, ExactOutcomes) {
  const RaceCase& c = Case(GetParam());
  ExpectExactly(ExploreRace(All(c.bound), c.run), c.allowed);
}

INSTANTIATE_TEST_SUITE_P(Races, RacesTest,
                         testing::Values("ReadvVsMunmap", "WritevVsMprotect", "ReadvVsExit",
                                         "WritevVsFork", "ReadvVsLocalMunmap",
                                         "MunmapVsStaleTlbLoad", "CowWriteWrite",
                                         "RwsemWriterQueue", "PageoutVsChildMunmap",
                                         "PageoutVsChildFork"),
                         [](const testing::TestParamInfo<const char*>& i) {
                           return std::string(i.param);
                         });

}  // namespace
}  // namespace races
