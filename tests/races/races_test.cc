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

TEST(RacesTest, ReadvVsMunmap) {
  ExpectExactly(ExploreRace(All(1), ReadvVsMunmap),
                {"readv=EFAULT munmap=0 local=..", "readv=4096 munmap=0 local=A.",
                 "readv=8192 munmap=0 local=AB"});
}

TEST(RacesTest, WritevVsMprotect) {
  ExpectExactly(ExploreRace(All(1), WritevVsMprotect),
                {"writev=EFAULT mprotect=0 target=..", "writev=4096 mprotect=0 target=X.",
                 "writev=8192 mprotect=0 target=XY"});
}

TEST(RacesTest, ReadvVsExit) {
  ExpectExactly(ExploreRace(All(1), ReadvVsExit),
                {"readv=ESRCH exit=0 local=..", "readv=8192 exit=0 local=AB"});
}

TEST(RacesTest, WritevVsFork) {
  ExpectExactly(ExploreRace(All(1), WritevVsFork),
                {"writev=4096 fork=ok parent=X child=.", "writev=4096 fork=ok parent=X child=X"});
}

TEST(RacesTest, ReadvVsLocalMunmap) {
  ExpectExactly(ExploreRace(All(1), ReadvVsLocalMunmap),
                {"readv=EFAULT munmap=0 local=--", "readv=4096 munmap=0 local=--",
                 "readv=8192 munmap=0 local=--"});
}

TEST(RacesTest, MunmapVsStaleTlbLoad) {
  ExpectExactly(ExploreRace(All(1), MunmapVsStaleTlbLoad),
                {"load=A stale=0 remote_flush=1 received=1",
                 "load=A stale=1 remote_flush=1 received=1",
                 "load=SEGV stale=0 remote_flush=1 received=1"});
}

TEST(RacesTest, CowWriteWrite) {
  ExpectExactly(ExploreRace(All(1), CowWriteWrite), {"parent=xy child=.. copies=1"});
}

TEST(RacesTest, RwsemWriterQueue) {
  ExpectExactly(ExploreRace(All(1), RwsemWriterQueue),
                {"queued_behind_writer=0 with_readv=0 after_munmap=0",
                 "queued_behind_writer=0 with_readv=0 after_munmap=1",
                 "queued_behind_writer=0 with_readv=1 after_munmap=0",
                 "queued_behind_writer=0 with_readv=1 after_munmap=1",
                 "queued_behind_writer=1 with_readv=0 after_munmap=1"});
}

}  // namespace
}  // namespace races
