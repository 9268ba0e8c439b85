// sim/sched/explore.cc: see explore.h.
#include "sim/sched/explore.h"

#include <algorithm>
#include <map>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "hw/splitmix64.h"

namespace sim {
namespace {

// One decision of the current depth-first path.
struct Node {
  std::vector<int> runnable;
  int running = -1;
  int chosen = -1;
  std::vector<int> untried;  // alternatives not yet explored from here
  bool on_default_path = true;  // every choice before this one followed the default rule
};

// Replays `prefix`, then follows the default rule; records every decision.
class DfsPolicy : public SchedulePolicy {
 public:
  DfsPolicy(const std::vector<Node>& prefix, size_t prefix_len) : prefix_(prefix), len_(prefix_len) {}
  int Choose(const Decision& d) override {
    if (d.step < len_) {
      const Node& n = prefix_[d.step];
      if (!std::equal(n.runnable.begin(), n.runnable.end(), d.runnable.begin(), d.runnable.end()) ||
          n.running != d.running)
        diverged_ = true;
      if (std::binary_search(d.runnable.begin(), d.runnable.end(), n.chosen)) return n.chosen;
      diverged_ = true;
    }
    Node n;
    n.runnable.assign(d.runnable.begin(), d.runnable.end());
    n.running = d.running;
    n.chosen = DefaultChoice(d);
    seen_.push_back(std::move(n));
    return seen_.back().chosen;
  }
  std::vector<Node>& seen() { return seen_; }
  bool diverged() const { return diverged_; }

 private:
  const std::vector<Node>& prefix_;
  size_t len_;
  std::vector<Node> seen_;
  bool diverged_ = false;
};

// What the default rule picks at a recorded decision.
int DefaultOf(const Node& n) {
  Decision d;
  d.running = n.running;
  d.runnable = n.runnable;
  return DefaultChoice(d);
}

bool IsPreemption(const Node& n, int choice) {
  return n.running >= 0 && choice != n.running &&
         std::binary_search(n.runnable.begin(), n.runnable.end(), n.running);
}

// PCT: random priorities, the highest-priority runnable path runs; at depth-1 change
// points the running path drops below every initial priority.
class PctPolicy : public SchedulePolicy {
 public:
  PctPolicy(uint64_t seed, int depth, uint64_t expected_steps) : rng_(seed) {
    for (int i = 1; i < depth; ++i)
      change_points_.emplace_back(expected_steps == 0 ? 0 : rng_.Next() % expected_steps, depth - i);
  }
  int Choose(const Decision& d) override {
    for (int id : d.runnable) Priority(id);
    for (const auto& [step, low] : change_points_)
      if (step == d.step && d.running >= 0) priority_[d.running] = static_cast<uint64_t>(low);
    int best = d.runnable.front();
    for (int id : d.runnable)
      if (Priority(id) > Priority(best)) best = id;
    return best;
  }

 private:
  uint64_t Priority(int id) {
    if (static_cast<size_t>(id) >= priority_.size()) priority_.resize(static_cast<size_t>(id) + 1, 0);
    // Initial priorities sit above every change-point priority (1..depth-1).
    if (priority_[id] == 0) priority_[id] = (rng_.Next() >> 8) + 1024;
    return priority_[id];
  }
  hw::SplitMix64 rng_;
  std::vector<uint64_t> priority_;
  std::vector<std::pair<uint64_t, int>> change_points_;
};

uint64_t RunSeed(uint64_t seed, uint64_t run) {
  hw::SplitMix64 mix(seed ^ (run * 0x9e3779b97f4a7c15ULL));
  return mix.Next();
}

struct Collector {
  std::map<std::string, ExploreOutcome> outcomes;
  uint64_t schedules = 0;
  void Add(std::string text, const ScheduleId& id) {
    ++schedules;
    auto [it, inserted] = outcomes.try_emplace(text);
    if (inserted) {
      it->second.text = std::move(text);
      it->second.schedule_id = id.ToString();
    }
    ++it->second.count;
  }
  ExploreResult Done(bool exhausted) {
    ExploreResult r;
    r.schedules = schedules;
    r.exhausted = exhausted;
    for (auto& [text, o] : outcomes) r.outcomes.push_back(std::move(o));
    return r;
  }
};

absl::StatusOr<ExploreResult> ExploreAll(const ExploreOptions& o, const RunOnce& run_one) {
  Collector out;
  std::vector<Node> stack;
  size_t prefix_len = 0;
  uint64_t first_departures = 0;  // ordinals of the subtrees (sharding)
  bool first_run = true;
  uint64_t runs = 0;
  for (;;) {
    if (runs >= o.max_schedules) return out.Done(false);
    ++runs;
    DfsPolicy dfs(stack, prefix_len);
    RecordingPolicy rec(&dfs);
    absl::StatusOr<std::string> text = run_one(rec);
    if (!text.ok()) return text.status();
    if (dfs.diverged())
      return absl::InternalError(absl::StrCat(
          "explore: a replayed schedule took different decisions than before (schedule ",
          rec.id().ToString(), "): the block is not deterministic"));
    // Extend the path with the decisions past the prefix.
    int preempted = 0;
    for (size_t i = 0; i < prefix_len; ++i)
      if (IsPreemption(stack[i], stack[i].chosen)) ++preempted;
    bool on_default = prefix_len == 0 || (stack[prefix_len - 1].on_default_path &&
                                          stack[prefix_len - 1].chosen == DefaultOf(stack[prefix_len - 1]));
    stack.resize(prefix_len);
    for (Node& n : dfs.seen()) {
      n.on_default_path = on_default;
      for (int alt : n.runnable) {
        if (alt == n.chosen) continue;
        if (IsPreemption(n, alt) && preempted >= o.preemptions) continue;
        n.untried.push_back(alt);
      }
      stack.push_back(std::move(n));
    }
    const bool owned = first_run ? o.shard_index == 0 : true;
    first_run = false;
    if (owned) out.Add(std::move(*text), rec.id());
    // Backtrack to the deepest node with an alternative left (skipping subtrees of
    // other shards).
    for (;;) {
      while (!stack.empty() && stack.back().untried.empty()) stack.pop_back();
      if (stack.empty()) return out.Done(true);
      Node& n = stack.back();
      n.chosen = n.untried.front();
      n.untried.erase(n.untried.begin());
      if (o.shard_count > 1 && n.on_default_path) {
        // A first departure from the default schedule: a subtree of its own.
        if (first_departures++ % static_cast<uint64_t>(o.shard_count) !=
            static_cast<uint64_t>(o.shard_index))
          continue;
      }
      prefix_len = stack.size();
      break;
    }
  }
}

}  // namespace

absl::StatusOr<ExploreResult> Explore(const ExploreOptions& o, const RunOnce& run_one) {
  if (o.shard_count < 1 || o.shard_index < 0 || o.shard_index >= o.shard_count)
    return absl::InvalidArgumentError("explore: shard index out of range");
  if (o.preemptions < 0) return absl::InvalidArgumentError("explore: preemptions must be >= 0");
  if (o.mode == ExploreOptions::Mode::kAll) return ExploreAll(o, run_one);
  if (o.mode == ExploreOptions::Mode::kPct && o.depth < 1)
    return absl::InvalidArgumentError("explore: pct depth must be >= 1");

  Collector out;
  uint64_t expected_steps = 0;
  if (o.mode == ExploreOptions::Mode::kPct) {
    // One default run measures how many decisions a run takes (PCT's k).
    DefaultPolicy def;
    RecordingPolicy rec(&def);
    absl::StatusOr<std::string> text = run_one(rec);
    if (!text.ok()) return text.status();
    expected_steps = rec.steps();
  }
  for (uint64_t r = static_cast<uint64_t>(o.shard_index); r < o.runs;
       r += static_cast<uint64_t>(o.shard_count)) {
    std::unique_ptr<SchedulePolicy> inner;
    if (o.mode == ExploreOptions::Mode::kRandom)
      inner = std::make_unique<RandomPolicy>(RunSeed(o.seed, r));
    else
      inner = std::make_unique<PctPolicy>(RunSeed(o.seed, r), o.depth, expected_steps);
    RecordingPolicy rec(inner.get());
    absl::StatusOr<std::string> text = run_one(rec);
    if (!text.ok()) return text.status();
    out.Add(std::move(*text), rec.id());
  }
  return out.Done(false);
}

}  // namespace sim
