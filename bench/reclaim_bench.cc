// Memory pressure (issue [pressure]): what reclaim costs, next to what the same work costs
// without it, measured in the same process.
//
//   bazel run -c opt //bench:reclaim_bench
//
// Each run boots a machine, prepares it (not timed), then times one user-space fill of
// kFill bytes, a store per page:
//   pressure/fill/baseline        a machine large enough that nothing is reclaimed: the
//                                 cost of a minor (anonymous) fault per page;
//   pressure/fill/reclaim_cache   a machine whose free memory is mostly clean page cache
//                                 (a file read through a mapping, then unmapped): every
//                                 page of the fill is one the allocator's slow path took
//                                 back by direct reclaim.
// Counters: pages_per_s is pages filled per second; reclaimed_per_s is pages reclaimed
// (pgsteal_direct + pgsteal_kswapd) per second of the timed fill. The ratio of the two
// rows' times per page is the cost reclaim adds to a fault.
#include <cstdint>
#include <memory>
#include <vector>

#include "benchmark/benchmark.h"
#include "mm/mm.h"
#include "sim/machine.h"

namespace {

constexpr uint64_t kPage = 4096;
constexpr uint64_t kFill = 16ull << 20;  // the timed fill
constexpr uint64_t kFillAt = 0x10000000;
constexpr uint64_t kCacheAt = 0x40000000;

struct World {
  std::unique_ptr<sim::Machine> m;
  int pid = 0;
};

World Boot(uint64_t memory) {
  sim::MachineConfig config;
  config.memory_bytes = memory;
  config.cpus = 1;
  World w;
  w.m = std::move(*sim::Machine::Create(config));
  w.pid = *w.m->CreateProcess("filler", sim::ProcessCreds{});
  return w;
}

long Reclaimed(const sim::Machine& m) {
  return m.vmstat(kernel::PGSTEAL_DIRECT) + m.vmstat(kernel::PGSTEAL_KSWAPD);
}

// Fills the page cache with `bytes` of a file read through a mapping, then unmaps it, so
// the pages stay cached, clean and unmapped: what reclaim frees first.
void FillPageCache(World& w, uint64_t bytes) {
  std::vector<uint8_t> data(bytes, 0x5a);
  const int fd = *w.m->CreateFile("cache", bytes, data);
  (void)w.m->Mmap(w.pid, kCacheAt, bytes, PROT_READ, MAP_SHARED | MAP_FIXED, fd);
  for (uint64_t off = 0; off < bytes; off += kPage) (void)w.m->Load(w.pid, kCacheAt + off, 1);
  (void)w.m->Munmap(w.pid, kCacheAt, bytes);
}

// The timed part: one store per page of a fresh private anonymous mapping.
void Fill(World& w) {
  const uint8_t byte = 1;
  for (uint64_t off = 0; off < kFill; off += kPage) {
    if (!w.m->Store(w.pid, kFillAt + off, {&byte, 1}).ok) {
      std::abort();  // a benchmark that stops measuring what it says is worse than none
    }
  }
}

void Run(benchmark::State& state, uint64_t memory, uint64_t cache) {
  long reclaimed = 0;
  for (auto _ : state) {
    state.PauseTiming();
    World w = Boot(memory);
    (void)w.m->Mmap(w.pid, kFillAt, kFill, PROT_READ | PROT_WRITE,
                    MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED);
    // Warm up: the frames the fill will get are touched once on the host and initialised
    // once in the kernel (deferred struct page init), so neither row times that.
    (void)w.m->Mmap(w.pid, kCacheAt, kFill, PROT_READ | PROT_WRITE,
                    MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED | MAP_POPULATE);
    (void)w.m->Munmap(w.pid, kCacheAt, kFill);
    if (cache) FillPageCache(w, cache);
    const long before = Reclaimed(*w.m);
    state.ResumeTiming();
    Fill(w);
    state.PauseTiming();
    reclaimed += Reclaimed(*w.m) - before;
    w.m.reset();
    state.ResumeTiming();
  }
  const double pages = static_cast<double>(state.iterations()) * (kFill / kPage);
  state.counters["pages_per_s"] = benchmark::Counter(pages, benchmark::Counter::kIsRate);
  state.counters["reclaimed_per_s"] =
      benchmark::Counter(static_cast<double>(reclaimed), benchmark::Counter::kIsRate);
  state.counters["reclaimed_per_iter"] =
      benchmark::Counter(static_cast<double>(reclaimed) / static_cast<double>(state.iterations()));
}

void BM_FillBaseline(benchmark::State& state) { Run(state, 64ull << 20, 0); }
BENCHMARK(BM_FillBaseline)->Name("pressure/fill/baseline")->Unit(benchmark::kMillisecond);

// 40 MiB of a 48 MiB machine is page cache: the 16 MiB fill must take most of its pages
// back from the cache.
void BM_FillReclaimCache(benchmark::State& state) { Run(state, 48ull << 20, 40ull << 20); }
BENCHMARK(BM_FillReclaimCache)->Name("pressure/fill/reclaim_cache")->Unit(benchmark::kMillisecond);

}  // namespace
