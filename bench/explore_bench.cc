// The interleaving explorer's throughput (issue [smp]): how many schedules per second it
// runs on the readv-vs-munmap race (a reader's process_vm_readv of 16 pages of a target
// that unmaps them at the same time, on two CPUs), next to the baseline of one plain run
// of the same block without a scheduler (boot, setup, readv, munmap), measured in the same
// process. Every schedule boots a fresh machine and replays the setup, as `explore` does.
//
//   bazel run -c opt //bench:explore_bench
//
// Figures: items_per_second is schedules (or plain runs) per second; the ratio of the
// two is the cost of scheduling, replay and fibers over the bare kernel work.
#include <cstdint>
#include <functional>
#include <memory>
#include <vector>

#include "benchmark/benchmark.h"
#include "mm/mm.h"
#include "sim/machine.h"
#include "sim/sched/explore.h"
#include "sim/sched/schedule.h"

namespace {

constexpr uint64_t kTarget = 0x10000000;
constexpr uint64_t kLocal = 0x20000000;
constexpr int kPages = 16;
constexpr uint64_t kBytes = kPages * 4096;

struct World {
  std::unique_ptr<sim::Machine> m;
  int reader = 0, target = 0;
};

World Setup() {
  sim::MachineConfig config;
  config.memory_bytes = 2ull << 20;
  config.cpus = 2;
  World w;
  w.m = std::move(*sim::Machine::Create(config));
  w.reader = *w.m->CreateProcess("reader", sim::ProcessCreds{});
  w.target = *w.m->CreateProcess("target", sim::ProcessCreds{});
  w.m->Schedule(w.reader, 0);
  w.m->Schedule(w.target, 1);
  const int rw = PROT_READ | PROT_WRITE;
  const int flags = MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED | MAP_POPULATE;
  w.m->Mmap(w.reader, kLocal, kBytes, rw, flags);
  w.m->Mmap(w.target, kTarget, kBytes, rw, flags);
  (void)w.m->IovecArea(w.reader);
  return w;
}

// The block; returns the outcome (readv's result).
long Race(World& w, sim::SchedulePolicy* policy) {
  sim::SysResult readv{}, unmap{};
  const sim::Machine::Iovec local{kLocal, kBytes}, remote{kTarget, kBytes};
  if (policy == nullptr) {
    readv = w.m->ProcessVmReadv(w.reader, w.target, {&local, 1}, {&remote, 1});
    unmap = w.m->Munmap(w.target, kTarget, kBytes);
  } else {
    std::vector<std::function<void()>> calls = {
        [&] { readv = w.m->ProcessVmReadv(w.reader, w.target, {&local, 1}, {&remote, 1}); },
        [&] { unmap = w.m->Munmap(w.target, kTarget, kBytes); },
    };
    (void)w.m->Together(calls, policy);
  }
  return readv.ret * 8 + unmap.ret;
}

void BM_PlainRun(benchmark::State& state) {
  for (auto _ : state) {
    World w = Setup();
    benchmark::DoNotOptimize(Race(w, nullptr));
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()));
}
BENCHMARK(BM_PlainRun)->Name("explore/baseline/plain_run");

void Explore(benchmark::State& state, sim::ExploreOptions o) {
  uint64_t schedules = 0, outcomes = 0;
  for (auto _ : state) {
    absl::StatusOr<sim::ExploreResult> r =
        sim::Explore(o, [](sim::SchedulePolicy& p) -> absl::StatusOr<std::string> {
          World w = Setup();
          return std::to_string(Race(w, &p));
        });
    if (!r.ok()) {
      state.SkipWithError(std::string(r.status().message()).c_str());
      return;
    }
    schedules += r->schedules;
    outcomes = r->outcomes.size();
  }
  state.SetItemsProcessed(static_cast<int64_t>(schedules));
  state.counters["schedules"] = static_cast<double>(schedules) / static_cast<double>(state.iterations());
  state.counters["outcomes"] = static_cast<double>(outcomes);
}

void BM_ExploreAll(benchmark::State& state) {
  sim::ExploreOptions o;
  o.mode = sim::ExploreOptions::Mode::kAll;
  o.preemptions = static_cast<int>(state.range(0));
  Explore(state, o);
}
BENCHMARK(BM_ExploreAll)->Name("explore/all/preemptions")->Arg(1)->Arg(2)->Unit(benchmark::kMillisecond);

void BM_ExploreRandom(benchmark::State& state) {
  sim::ExploreOptions o;
  o.mode = sim::ExploreOptions::Mode::kRandom;
  o.runs = 1000;
  Explore(state, o);
}
BENCHMARK(BM_ExploreRandom)->Name("explore/random/1000")->Unit(benchmark::kMillisecond);

}  // namespace
