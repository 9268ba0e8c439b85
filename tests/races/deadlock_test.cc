// An ABBA deadlock under the scheduler: two paths take the mmap_lock of two mms in
// opposite orders (RunInKernel bodies). Exploring with one preemption finds the schedule
// where each holds its first lock and waits for the other's: Together returns
// deadlock=true with a lockdep-style report naming both waits and both holders, the
// machine is wedged (later system calls fail with EDEADLK, RunInKernel with
// FailedPrecondition), and destroying it neither hangs nor crashes (the abandoned paths'
// locks are never released; shutdown must cope).
#include <cstdio>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "gtest/gtest.h"
#include "mm/mm.h"
#include "sim/machine.h"
#include "sim/sched/explore.h"
#include "sim/sched/schedule.h"

namespace {

struct Abba {
  std::unique_ptr<sim::Machine> m;
  int a = 0, b = 0;
  sim::Machine::TogetherResult result;
};

// Path 0 (task "alpha" on CPU 0) locks alpha's mm then beta's; path 1 ("beta", CPU 1) the
// other way round. Each path's order alone is fine; together they can deadlock.
Abba RunAbba(sim::SchedulePolicy& policy) {
  sim::MachineConfig config;
  config.memory_bytes = 4ull << 20;
  config.cpus = 2;
  Abba s;
  s.m = std::move(*sim::Machine::Create(config));
  s.a = *s.m->CreateProcess("alpha", sim::ProcessCreds{});
  s.b = *s.m->CreateProcess("beta", sim::ProcessCreds{});
  s.m->Schedule(s.a, 0);
  s.m->Schedule(s.b, 1);
  kernel::mm_struct* ma = s.m->FindTask(s.a)->mm;
  kernel::mm_struct* mb = s.m->FindTask(s.b)->mm;
  auto nested = [](kernel::mm_struct* first, kernel::mm_struct* second) {
    kernel::mmap_write_lock(first);
    kernel::mmap_write_lock(second);
    kernel::mmap_write_unlock(second);
    kernel::mmap_write_unlock(first);
  };
  std::vector<std::function<void()>> calls = {
      [&] { EXPECT_TRUE(s.m->RunInKernel(s.a, [&] { nested(ma, mb); }).ok()); },
      [&] { EXPECT_TRUE(s.m->RunInKernel(s.b, [&] { nested(mb, ma); }).ok()); },
  };
  absl::StatusOr<sim::Machine::TogetherResult> r = s.m->Together(calls, &policy);
  EXPECT_TRUE(r.ok()) << r.status();
  if (r.ok()) s.result = *r;
  return s;
}

TEST(DeadlockTest, AbbaOnMmapLocksIsFoundReportedAndWedgesTheMachine) {
  sim::ExploreOptions o;
  o.mode = sim::ExploreOptions::Mode::kAll;
  o.preemptions = 1;
  std::string deadlock_id;
  absl::StatusOr<sim::ExploreResult> r =
      sim::Explore(o, [&](sim::SchedulePolicy& p) -> absl::StatusOr<std::string> {
        Abba s = RunAbba(p);
        if (!s.result.deadlock) {
          std::string report;
          EXPECT_EQ(s.m->DebugVmCheck(&report), 0) << report;
          EXPECT_FALSE(s.m->wedged());
          return std::string("ok");
        }
        return std::string("deadlock");
      });  // each Abba is destroyed here, deadlocked or not: shutdown must cope
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_TRUE(r->exhausted);
  std::set<std::string> got;
  for (const sim::ExploreOutcome& oc : r->outcomes) {
    got.insert(oc.text);
    if (oc.text == "deadlock") deadlock_id = oc.schedule_id;
  }
  EXPECT_EQ(got, (std::set<std::string>{"deadlock", "ok"}));
  ASSERT_FALSE(deadlock_id.empty());

  // Replay the deadlock and look at it.
  absl::StatusOr<sim::ScheduleId> id = sim::ParseScheduleId(deadlock_id);
  ASSERT_TRUE(id.ok());
  sim::ReplayPolicy replay(*id);
  Abba s = RunAbba(replay);
  ASSERT_TRUE(s.result.deadlock);
  const std::string& rep = s.result.deadlock_report;
  SCOPED_TRACE(rep);
  // Both waiters, by task and CPU, each waiting for an mmap_lock held by the other.
  EXPECT_TRUE(absl::StrContains(rep, "deadlock")) << rep;
  EXPECT_TRUE(absl::StrContains(rep, absl::StrCat("task ", s.a, " (alpha) on CPU 0 waits for mmap_lock, held by task ", s.b, " (beta, write)\n    holds mmap_lock (write)\n")));
  EXPECT_TRUE(absl::StrContains(rep, absl::StrCat("task ", s.b, " (beta) on CPU 1 waits for mmap_lock, held by task ", s.a, " (alpha, write)\n    holds mmap_lock (write)\n")));
  std::printf("%s", rep.c_str());
  // Wedged: nothing more runs.
  EXPECT_TRUE(s.m->wedged());
  sim::SysResult mm = s.m->Mmap(s.a, 0x10000000, 4096, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS);
  EXPECT_EQ(mm.ret, -1);
  EXPECT_EQ(mm.err, EDEADLK);
  EXPECT_EQ(s.m->Munmap(s.b, 0x10000000, 4096).err, EDEADLK);
  EXPECT_FALSE(s.m->RunInKernel(s.a, [] {}).ok());
  std::vector<std::function<void()>> more = {[] {}};
  EXPECT_FALSE(s.m->Together(more).ok() && !s.m->wedged());
  s.m.reset();  // must return
}

}  // namespace
