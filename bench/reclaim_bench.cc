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
//   pressure/fill/swap_out        a 16 MiB machine with 32 MiB of swap, half of it already
//                                 full of anonymous memory: the fill pushes anonymous
//                                 pages out to swap (try_to_unmap, swap_writeout).
// Counters: pages_per_s is pages filled per second; reclaimed_per_s is pages reclaimed
// (pgsteal_direct + pgsteal_kswapd) per second of the timed fill. The ratio of the
// rows' times per page is the cost reclaim adds to a fault.
//
// And the fault a swapped-out page costs beside a minor one:
//   pressure/fault/minor          a load from a page of anonymous memory never touched
//                                 (do_anonymous_page maps the zero page);
//   pressure/fault/swap_in        a load from a page that reclaim wrote to swap
//                                 (do_swap_page: a major fault, the page read back).
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

World Boot(uint64_t memory, uint64_t swap = 0) {
  sim::MachineConfig config;
  config.memory_bytes = memory;
  config.swap_bytes = swap;
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

void Run(benchmark::State& state, uint64_t memory, uint64_t cache, uint64_t swap = 0) {
  long reclaimed = 0;
  for (auto _ : state) {
    state.PauseTiming();
    World w = Boot(memory, swap);
    (void)w.m->Mmap(w.pid, kFillAt, kFill, PROT_READ | PROT_WRITE,
                    MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED);
    // Warm up: the frames the fill will get are touched once on the host and initialised
    // once in the kernel (deferred struct page init), so neither row times that.
    (void)w.m->Mmap(w.pid, kCacheAt, kFill, PROT_READ | PROT_WRITE,
                    MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED | MAP_POPULATE);
    (void)w.m->Munmap(w.pid, kCacheAt, kFill);
    if (cache && swap == 0) FillPageCache(w, cache);
    if (cache && swap != 0) {  // anonymous memory instead of page cache
      (void)w.m->Mmap(w.pid, kCacheAt, cache, PROT_READ | PROT_WRITE,
                      MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED | MAP_POPULATE);
      std::vector<uint8_t> bytes(cache, 0x5a);
      (void)w.m->Store(w.pid, kCacheAt, {bytes.data(), bytes.size()});
    }
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

// 8 MiB of anonymous memory on a 16 MiB machine with swap: the 16 MiB fill must swap.
void BM_FillSwapOut(benchmark::State& state) { Run(state, 16ull << 20, 8ull << 20, 32ull << 20); }
BENCHMARK(BM_FillSwapOut)->Name("pressure/fill/swap_out")->Unit(benchmark::kMillisecond);

// One load per page over kFaultPages pages, after `prepare`; the time per load is the
// fault's cost (both rows pay the same Machine::Load overhead).
constexpr uint64_t kFaultPages = 512;
void Faults(benchmark::State& state, bool swapped) {
  long major_faults = 0;
  for (auto _ : state) {
    state.PauseTiming();
    World w = Boot(16ull << 20, 64ull << 20);
    const uint64_t bytes = kFaultPages * kPage;
    (void)w.m->Mmap(w.pid, kFillAt, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED);
    if (swapped) {
      std::vector<uint8_t> data(bytes, 0xa5);
      (void)w.m->Store(w.pid, kFillAt, {data.data(), data.size()});
      // Push them out: a fill larger than the machine's memory, then freed.
      const uint64_t push = 24ull << 20;
      (void)w.m->Mmap(w.pid, kCacheAt, push, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED);
      const uint8_t one = 1;
      for (uint64_t off = 0; off < push; off += kPage) (void)w.m->Store(w.pid, kCacheAt + off, {&one, 1});
      (void)w.m->Munmap(w.pid, kCacheAt, push);
    }
    const long majors = w.m->vmstat(kernel::PGMAJFAULT);
    state.ResumeTiming();
    for (uint64_t off = 0; off < bytes; off += kPage) {
      if (!w.m->Load(w.pid, kFillAt + off, 1).ok) std::abort();
    }
    state.PauseTiming();
    major_faults += w.m->vmstat(kernel::PGMAJFAULT) - majors;
    w.m.reset();
    state.ResumeTiming();
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * kFaultPages));
  // Per load: 1 when every page came back from swap.
  state.counters["major_per_load"] = benchmark::Counter(
      static_cast<double>(major_faults) / static_cast<double>(state.iterations() * kFaultPages));
}
void BM_FaultMinor(benchmark::State& state) { Faults(state, false); }
BENCHMARK(BM_FaultMinor)->Name("pressure/fault/minor")->Unit(benchmark::kMicrosecond);
void BM_FaultSwapIn(benchmark::State& state) { Faults(state, true); }
BENCHMARK(BM_FaultSwapIn)->Name("pressure/fault/swap_in")->Unit(benchmark::kMicrosecond);

}  // namespace
