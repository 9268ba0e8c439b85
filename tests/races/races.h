// tests/races/races.h: the race scenarios of issue #13 item 6, each as a RunOnce for
// sim::Explore: boot a fresh machine, set the scene, run the racing calls with
// Machine::Together under the explorer's policy, check the end state (no deadlock,
// debug_vm clean at every switch and at the end, pins balanced) and return the outcome
// text. A failed check is an error status (the exploration stops and reports it with the
// schedule id that produced it). docs/races.md derives each outcome set from Linux 6.18.
#ifndef MMSIM_TESTS_RACES_RACES_H_
#define MMSIM_TESTS_RACES_RACES_H_

#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "sim/sched/explore.h"
#include "sim/sched/schedule.h"

namespace races {

// process_vm_readv of two target pages ('A', 'B'; one page per pin batch) into two local
// pages ('.') vs munmap of the target range. "readv=RET munmap=RET local=XY".
absl::StatusOr<std::string> ReadvVsMunmap(sim::SchedulePolicy& policy);
// process_vm_writev of two local pages ('X', 'Y') into two target pages ('.') vs
// mprotect(PROT_READ) of the target range. "writev=RET mprotect=RET target=XY".
absl::StatusOr<std::string> WritevVsMprotect(sim::SchedulePolicy& policy);
// process_vm_readv of two target pages vs exit_group of the (single-threaded) target.
// "readv=RET exit=RET local=XY".
absl::StatusOr<std::string> ReadvVsExit(sim::SchedulePolicy& policy);
// process_vm_writev of 'X' into one target page ('.') vs fork of the target.
// "writev=RET fork=ok parent=P child=C".
absl::StatusOr<std::string> WritevVsFork(sim::SchedulePolicy& policy);
// process_vm_readv of two target pages into two local pages vs munmap of the local pages
// by another thread of the caller. "readv=RET munmap=RET".
absl::StatusOr<std::string> ReadvVsLocalMunmap(sim::SchedulePolicy& policy);
// A thread on CPU 0 unmaps a page that a thread on CPU 1 has in its TLB and loads, then
// maps and fills ('Z') a new page (the freed frame is the likeliest to come back).
// "load=B|SEGV stale=0|1 remote_flush=N received=N": B the byte loaded, stale=1 when
// the load hit the TLB while the PTE was already clear.
absl::StatusOr<std::string> MunmapVsStaleTlbLoad(sim::SchedulePolicy& policy);
// Two threads store into the same page, shared copy-on-write with a forked child.
// "parent=xy child=.. copies=N".
absl::StatusOr<std::string> CowWriteWrite(sim::SchedulePolicy& policy);
// A long process_vm_readv (faulting in two pages under mmap_read_lock), munmap by the
// target (an mmap_lock writer) and a third path taking mmap_read_lock of the target.
// "queued_behind_writer=0|1 with_readv=0|1 after_munmap=0|1": whether, just before its
// attempt, the readv held the lock and a writer waited; whether it got the lock while the
// readv still held it; whether the munmap had run before it got it.
absl::StatusOr<std::string> RwsemWriterQueue(sim::SchedulePolicy& policy);

// MADV_PAGEOUT by the parent of a page it has to itself vs the forked child's munmap or
// fork: reclaim's rmap walk (try_to_unmap: folio_lock_anon_vma_read, the root anon_vma's
// rwsem for reading) against unlink_anon_vmas / anon_vma_clone (the same rwsem for
// writing). "pageout=RET other=RET parent=A|swapped child=C|-" (the child's own page).
absl::StatusOr<std::string> PageoutVsChildMunmap(sim::SchedulePolicy& policy);
absl::StatusOr<std::string> PageoutVsChildFork(sim::SchedulePolicy& policy);

// A race with the outcome set Linux 6.18 allows (docs/races.md derives each).
struct RaceCase {
  const char* name;
  sim::RunOnce run;
  std::set<std::string> allowed;
  int bound;  // the preemption bound at which kAll finds every allowed outcome
};
const std::vector<RaceCase>& Cases();
const RaceCase& Case(const std::string& name);

// The exploration options with this test shard's part (TEST_SHARD_INDEX /
// TEST_TOTAL_SHARDS; one shard when unset).
sim::ExploreOptions WithTestShard(sim::ExploreOptions o);
int TestShardCount();
// Marks the test as shard-aware (touches TEST_SHARD_STATUS_FILE) and keeps gtest from
// splitting the test list itself: every shard runs every test's own part.
void PrepareShards();

struct Explored {
  std::map<std::string, uint64_t> outcomes;  // text -> schedules
  uint64_t schedules = 0;
  bool exhausted = false;
  double seconds = 0;
};
// Explores, replays every outcome by its schedule id (gtest failures if a replay gives
// another text) and returns what was found; gtest failure on an error.
Explored ExploreRace(const sim::ExploreOptions& o, const sim::RunOnce& run);
std::set<std::string> Texts(const Explored& e);

}  // namespace races

#endif  // MMSIM_TESTS_RACES_RACES_H_
