// sim/sched/explore.h: the interleaving explorer.
//
// Explore runs one concurrent block many times, each time on a fresh machine brought to
// the same starting state (the caller's run_one does that), under different schedules, and
// collects the distinct outcomes (the caller's text for a run: each path's result plus
// whatever it checks afterwards), each with how many schedules produced it and the id of
// the first schedule that did (replayable with ReplayPolicy / --schedule=ID).
//
// Modes:
//  - kAll: every schedule with at most `preemptions` preemptions (switches away from a
//    path that could have gone on; switches forced by a blocked or finished path are free
//    and all explored), by depth-first search over the decisions (iterative context
//    bounding, as CHESS does). `exhausted` says whether the whole space was covered
//    before max_schedules.
//  - kRandom: `runs` runs, each choosing uniformly among the runnable paths at every
//    decision, seeded by (seed, run index).
//  - kPct: `runs` runs of PCT (Burckhardt et al., ASPLOS 2010): random distinct path
//    priorities, the highest-priority runnable path always runs, and depth-1 priority
//    change points at random steps (among the steps a first, default run took), which
//    finds any bug of depth `depth` with probability >= 1/(n * k^(depth-1)) per run.
//
// Sharding (shard_count > 1): the schedules are split into disjoint sets, shard
// shard_index runs only its own; the union over shards of outcomes and counts equals the
// unsharded result. kAll splits by the first departure from the default schedule (every
// shard runs the default schedule once to find the departures; shard 0 owns the default
// schedule itself); kRandom and kPct by run index (run r belongs to shard r % count).
#ifndef MMSIM_SIM_SCHED_EXPLORE_H_
#define MMSIM_SIM_SCHED_EXPLORE_H_

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "sim/sched/schedule.h"

namespace sim {

struct ExploreOptions {
  enum class Mode { kAll, kRandom, kPct };
  Mode mode = Mode::kAll;
  int preemptions = 2;           // kAll: the preemption bound
  uint64_t runs = 100;           // kRandom, kPct
  int depth = 2;                 // kPct: the bug depth d (d - 1 change points)
  uint64_t seed = 0;
  int shard_index = 0;
  int shard_count = 1;
  uint64_t max_schedules = 1000000;  // a cap on runs (kAll); the result says if it was hit
};

struct ExploreOutcome {
  std::string text;         // what run_one returned
  uint64_t count = 0;       // schedules that produced it
  std::string schedule_id;  // the first of them (ScheduleId::ToString)
};

struct ExploreResult {
  std::vector<ExploreOutcome> outcomes;  // sorted by text
  uint64_t schedules = 0;                // runs made by this shard
  bool exhausted = false;                // kAll: every schedule within the bound was run
};

// Runs the block once under `policy` (which the explorer owns and records through) on a
// fresh machine and returns the outcome text; an error stops the exploration and is
// returned.
using RunOnce = std::function<absl::StatusOr<std::string>(SchedulePolicy& policy)>;

absl::StatusOr<ExploreResult> Explore(const ExploreOptions& options, const RunOnce& run_one);

}  // namespace sim

#endif  // MMSIM_SIM_SCHED_EXPLORE_H_
