// Machine::Together and the explorer on user accesses: two threads of one process, one
// storing four pages in order while the other loads them. Which of the writer's pages the
// reader sees depends only on where the scheduler switches paths, so the outcome sets of
// the exploration modes can be derived by hand and checked exactly.
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "mm/mm.h"
#include "sim/machine.h"
#include "sim/sched/explore.h"
#include "sim/sched/schedule.h"

namespace sim {
namespace {

constexpr int kRw = PROT_READ | PROT_WRITE;
constexpr int kAnon = MAP_PRIVATE | MAP_ANONYMOUS;
constexpr uint64_t kBase = 0x10000000;
constexpr int kPages = 4;

struct Race {
  std::unique_ptr<Machine> m;
  int writer = 0, reader = 0;
};

Race Boot(int writer_cpu, int reader_cpu) {
  MachineConfig config;
  config.memory_bytes = 4ull << 20;
  config.cpus = 2;
  Race s;
  auto m = Machine::Create(config);
  EXPECT_TRUE(m.ok()) << m.status();
  s.m = std::move(*m);
  s.writer = *s.m->CreateProcess("writer", ProcessCreds{});
  s.reader = *s.m->CreateThread(s.writer, "reader");
  EXPECT_EQ(s.m->Mmap(s.writer, kBase, kPages * 4096, kRw, kAnon | MAP_FIXED).ret,
            static_cast<long>(kBase));
  s.m->Schedule(s.writer, writer_cpu);
  s.m->Schedule(s.reader, reader_cpu);
  return s;
}

// Runs the race under `policy`; the outcome is one character per page the reader saw:
// 'w' (the writer's byte) or '0'.
std::string RunRace(SchedulePolicy& policy, int writer_cpu, int reader_cpu,
                    Machine::TogetherResult* out = nullptr) {
  Race s = Boot(writer_cpu, reader_cpu);
  UserAccess loaded;
  std::vector<uint8_t> data(kPages * 4096, 'w');
  std::vector<std::function<void()>> calls = {
      [&] { EXPECT_TRUE(s.m->Store(s.writer, kBase, data).ok); },
      [&] { loaded = s.m->Load(s.reader, kBase, kPages * 4096); },
  };
  absl::StatusOr<Machine::TogetherResult> r = s.m->Together(calls, &policy);
  EXPECT_TRUE(r.ok()) << r.status();
  EXPECT_FALSE(r->deadlock) << r->deadlock_report;
  if (out != nullptr) *out = *r;
  EXPECT_TRUE(loaded.ok);
  std::string seen;
  for (int i = 0; i < kPages && loaded.bytes.size() == kPages * 4096u; ++i)
    seen += loaded.bytes[i * 4096] == 'w' ? 'w' : '0';
  std::string report;
  EXPECT_EQ(s.m->DebugVmCheck(&report), 0) << report;
  return seen;
}

TEST(TogetherTest, DefaultScheduleRunsOnePathAfterAnother) {
  DefaultPolicy policy;
  Machine::TogetherResult r;
  EXPECT_EQ(RunRace(policy, 0, 1, &r), "wwww");  // the writer (path 0) goes first, whole
  EXPECT_EQ(r.schedule_id, "0");
  EXPECT_EQ(r.preemptions, 0u);
  EXPECT_GT(r.steps, 2u * kPages);  // a decision at every page of both paths
}

TEST(TogetherTest, BothTasksRunOnTheirOwnCpus) {
  Race s = Boot(0, 1);
  int writer_cpu = -1, reader_cpu = -1;
  std::vector<std::function<void()>> calls = {
      [&] {
        (void)s.m->RunInKernel(s.writer, [&] { writer_cpu = kernel::smp_processor_id(); });
      },
      [&] {
        (void)s.m->RunInKernel(s.reader, [&] { reader_cpu = kernel::smp_processor_id(); });
      },
  };
  ASSERT_TRUE(s.m->Together(calls).ok());
  EXPECT_EQ(writer_cpu, 0);
  EXPECT_EQ(reader_cpu, 1);
  EXPECT_EQ(s.m->Current(0), s.writer);
  EXPECT_EQ(s.m->Current(1), s.reader);
}

// With at most one preemption: the writer is cut after j pages and the reader reads all
// (it sees the first j pages written), or the reader starts first (a free choice: nothing
// ran yet) and is cut after i pages (it sees the last 4-i pages written).
std::set<std::string> OnePreemptionOutcomes() {
  std::set<std::string> want;
  for (int j = 0; j <= kPages; ++j) want.insert(std::string(j, 'w') + std::string(kPages - j, '0'));
  for (int i = 0; i <= kPages; ++i) want.insert(std::string(i, '0') + std::string(kPages - i, 'w'));
  return want;
}

void ExpectExploreAll(int writer_cpu, int reader_cpu) {
  ExploreOptions o;
  o.mode = ExploreOptions::Mode::kAll;
  o.preemptions = 1;
  absl::StatusOr<ExploreResult> r =
      Explore(o, [&](SchedulePolicy& p) -> absl::StatusOr<std::string> {
        return RunRace(p, writer_cpu, reader_cpu);
      });
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_TRUE(r->exhausted);
  std::set<std::string> got;
  uint64_t total = 0;
  for (const ExploreOutcome& oc : r->outcomes) {
    got.insert(oc.text);
    total += oc.count;
    // Each outcome's schedule id replays it.
    absl::StatusOr<ScheduleId> id = ParseScheduleId(oc.schedule_id);
    ASSERT_TRUE(id.ok()) << id.status();
    ReplayPolicy replay(*id);
    EXPECT_EQ(RunRace(replay, writer_cpu, reader_cpu), oc.text) << "schedule " << oc.schedule_id;
  }
  EXPECT_EQ(got, OnePreemptionOutcomes());
  EXPECT_EQ(total, r->schedules);
}

TEST(TogetherTest, ExploreAllOnTwoCpusFindsExactlyTheOnePreemptionOutcomes) {
  ExpectExploreAll(0, 1);
}

TEST(TogetherTest, ExploreAllOnOneCpuPreemptsWithContextSwitches) { ExpectExploreAll(0, 0); }

TEST(TogetherTest, ZeroPreemptionsExploresOnlyTheFreeChoices) {
  ExploreOptions o;
  o.preemptions = 0;
  absl::StatusOr<ExploreResult> r = Explore(
      o, [&](SchedulePolicy& p) -> absl::StatusOr<std::string> { return RunRace(p, 0, 1); });
  ASSERT_TRUE(r.ok()) << r.status();
  std::set<std::string> got;
  for (const ExploreOutcome& oc : r->outcomes) got.insert(oc.text);
  EXPECT_EQ(got, (std::set<std::string>{"wwww", "0000"}));
}

TEST(TogetherTest, ShardsPartitionTheSchedules) {
  ExploreOptions o;
  o.preemptions = 2;
  auto run = [&](SchedulePolicy& p) -> absl::StatusOr<std::string> { return RunRace(p, 0, 1); };
  absl::StatusOr<ExploreResult> whole = Explore(o, run);
  ASSERT_TRUE(whole.ok());
  std::map<std::string, uint64_t> merged;
  uint64_t schedules = 0;
  for (int shard = 0; shard < 3; ++shard) {
    ExploreOptions so = o;
    so.shard_count = 3;
    so.shard_index = shard;
    absl::StatusOr<ExploreResult> part = Explore(so, run);
    ASSERT_TRUE(part.ok());
    schedules += part->schedules;
    for (const ExploreOutcome& oc : part->outcomes) merged[oc.text] += oc.count;
  }
  std::map<std::string, uint64_t> want;
  for (const ExploreOutcome& oc : whole->outcomes) want[oc.text] = oc.count;
  EXPECT_EQ(merged, want);
  EXPECT_EQ(schedules, whole->schedules);
}

TEST(TogetherTest, RandomAndPctAreSeededAndReplayable) {
  for (auto mode : {ExploreOptions::Mode::kRandom, ExploreOptions::Mode::kPct}) {
    ExploreOptions o;
    o.mode = mode;
    o.runs = 40;
    o.seed = 7;
    o.depth = 2;
    auto run = [&](SchedulePolicy& p) -> absl::StatusOr<std::string> { return RunRace(p, 0, 1); };
    absl::StatusOr<ExploreResult> a = Explore(o, run);
    absl::StatusOr<ExploreResult> b = Explore(o, run);
    ASSERT_TRUE(a.ok() && b.ok());
    ASSERT_EQ(a->outcomes.size(), b->outcomes.size());
    for (size_t i = 0; i < a->outcomes.size(); ++i) {
      EXPECT_EQ(a->outcomes[i].text, b->outcomes[i].text);
      EXPECT_EQ(a->outcomes[i].count, b->outcomes[i].count);
      EXPECT_EQ(a->outcomes[i].schedule_id, b->outcomes[i].schedule_id);
    }
    EXPECT_EQ(a->schedules, 40u);
    EXPECT_GE(a->outcomes.size(), 2u) << "40 random schedules all gave one outcome";
  }
}

TEST(ScheduleIdTest, RoundTripsAndRejectsGarbage) {
  absl::StatusOr<ScheduleId> id = ParseScheduleId("3.1-17.0");
  ASSERT_TRUE(id.ok());
  EXPECT_EQ(id->ToString(), "3.1-17.0");
  EXPECT_EQ(ParseScheduleId("0")->departures.size(), 0u);
  for (const char* bad : {"", "3", "3.", ".1", "3.1-2.0", "3.1-", "a.b", "3.-1", "+3.1", "3.1.2"})
    EXPECT_FALSE(ParseScheduleId(bad).ok()) << bad;
}

}  // namespace
}  // namespace sim
