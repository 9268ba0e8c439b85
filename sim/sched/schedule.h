// sim/sched/schedule.h: schedules: who runs next at each preemption point, and how a
// schedule is written down so that it can be replayed.
//
// While several kernel paths are in flight (Machine::Together), exactly one runs at a time.
// Each time the running path reaches a preemption point of the kernel (mm/sched_hooks.h),
// blocks, or finishes, the scheduler asks a SchedulePolicy which runnable path runs next.
// That question is a Decision; the sequence of answers is the schedule.
//
// Paths are numbered 0..n-1 in the order they were given to Together. The default rule
// (DefaultChoice) is "keep running the path that reached the point; if it cannot go on,
// the lowest-numbered runnable path": no preemption at all. A schedule id lists only
// where a run departed from that rule, as "STEP.PATH" pairs joined by '-', e.g. "3.1-17.0"
// (at decision 3 path 1 ran, at decision 17 path 0 ran, every other decision followed the
// default rule); the empty schedule is written "0" (no departures). The same scenario,
// machine and schedule id give the same run, byte for byte.
#ifndef MMSIM_SIM_SCHED_SCHEDULE_H_
#define MMSIM_SIM_SCHED_SCHEDULE_H_

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"
#include "hw/splitmix64.h"
#include "mm/sched_hooks.h"

namespace sim {

struct Decision {
  uint64_t step = 0;                 // 0, 1, 2 ... within one run
  int running = -1;                  // the path that reached the point; -1 if it cannot go on
  absl::Span<const int> runnable;    // the paths that may run now, ascending, never empty
  kernel::sched_point_kind kind = kernel::SCHED_POINT_PATH_START;  // the point reached
  const char* name = "";             // the point's name (a lock's name, "copy_page" ...)
};

// The default rule (see the file comment).
int DefaultChoice(const Decision& d);

class SchedulePolicy {
 public:
  virtual ~SchedulePolicy() = default;
  // Must return one of d.runnable.
  virtual int Choose(const Decision& d) = 0;
};

// A schedule as its departures from the default rule.
struct ScheduleId {
  std::vector<std::pair<uint64_t, int>> departures;  // (step, path), steps ascending
  std::string ToString() const;                      // "3.1-17.0", or "0"
};
// Parses ToString's form. InvalidArgument says what is wrong and where.
absl::StatusOr<ScheduleId> ParseScheduleId(absl::string_view text);

// Follows the default rule.
class DefaultPolicy : public SchedulePolicy {
 public:
  int Choose(const Decision& d) override { return DefaultChoice(d); }
};

// Replays a ScheduleId: at each listed step, the listed path if it is runnable (else the
// default rule: a schedule replayed on a different scenario degrades, never crashes).
class ReplayPolicy : public SchedulePolicy {
 public:
  explicit ReplayPolicy(ScheduleId id) : id_(std::move(id)) {}
  int Choose(const Decision& d) override;

 private:
  ScheduleId id_;
  size_t next_ = 0;
};

// Records the schedule another policy takes: every decision's runnable set and choice,
// and its departures from the default rule (the replayable id).
class RecordingPolicy : public SchedulePolicy {
 public:
  explicit RecordingPolicy(SchedulePolicy* inner) : inner_(inner) {}
  int Choose(const Decision& d) override;
  const ScheduleId& id() const { return id_; }
  uint64_t steps() const { return steps_; }
  uint64_t preemptions() const { return preemptions_; }  // switches away from a path that could go on

 private:
  SchedulePolicy* inner_;
  ScheduleId id_;
  uint64_t steps_ = 0;
  uint64_t preemptions_ = 0;
};

// Chooses uniformly among the runnable paths at every decision, from a seeded generator:
// the same seed gives the same schedule.
class RandomPolicy : public SchedulePolicy {
 public:
  explicit RandomPolicy(uint64_t seed) : rng_(seed) {}
  int Choose(const Decision& d) override {
    return d.runnable[static_cast<size_t>(rng_.Next() % d.runnable.size())];
  }

 private:
  hw::SplitMix64 rng_;
};

}  // namespace sim

#endif  // MMSIM_SIM_SCHED_SCHEDULE_H_
