// bench/mm_bench.cc: the cost of the kernel's memory paths on the simulated machine.
//
//  BM_DemandFault           first-touch write faults over an anonymous mapping (1 GiB =
//                           262,144 faults): #PF on the CPU, handle_mm_fault, a zeroed
//                           page, the PTE, the retried store. Reported per page.
//  BM_DemandFaultWarmHost   the same with the host memory behind simulated DRAM already
//                           committed (the first variant mostly measures the host
//                           kernel's first touch of each frame).
//  BM_MmapMunmapHint/N      mmap(4 pages, hinted at a free spot) + munmap with N VMAs
//                           present: VMA-tree lookups, insert and erase (O(log N)).
//  BM_MmapMunmapTopDown/N   the same without a hint: the top-down gap search walks
//                           down past the N packed VMAs (linear in N here; see
//                           mm/mmap.cc "DEVIATION(mmap)").
#include <cstdint>
#include <cstring>

#include "benchmark/benchmark.h"
#include "mm/kernel/task.h"
#include "mm/mm.h"
#include "mm/testing/kernel_fixture.h"

namespace {

using namespace kernel;  // NOLINT
using kernel_testing::BootedKernel;

constexpr unsigned long kRW = PROT_READ | PROT_WRITE;
constexpr unsigned long kAnon = MAP_PRIVATE | MAP_ANONYMOUS;

void DemandFault(benchmark::State& state, bool warm) {
  const unsigned long bytes = static_cast<unsigned long>(state.range(0)) << 20;
  const unsigned long pages = bytes >> PAGE_SHIFT;
  // Room for the pages, their page tables and the allocator's two reserved frames.
  BootedKernel m(bytes + (bytes >> 6) + (16UL << 20), 1);
  if (warm) {
    // Commit the host memory behind simulated DRAM first, so the figure is the
    // simulator's fault path, not the host kernel's first touch of its own pages.
    hw::PhysMem* pm = m.ks()->phys;
    std::memset(pm->frame(hw::Pfn(0)), 0, pm->size_bytes());
  }
  long faults = 0;
  for (auto _ : state) {
    state.PauseTiming();
    task_struct* t = m.Spawn("bench");
    unsigned long a = m.Mmap(t, 0, bytes, kRW, kAnon);
    if (IS_ERR_VALUE(a)) {
      state.SkipWithError("mmap failed");
      break;  // no timer calls after an error (the library CHECKs that)
    }
    state.ResumeTiming();
    bool failed = false;
    for (unsigned long i = 0; i < pages && !failed; ++i) {
      failed = !m.UserStore(t, a + i * PAGE_SIZE, i).ok();
    }
    if (failed) {
      state.SkipWithError("fault failed");
      break;
    }
    faults += static_cast<long>(pages);
    state.PauseTiming();
    m.ExitAndReap(t);
    state.ResumeTiming();
  }
  state.counters["per_page"] =
      benchmark::Counter(static_cast<double>(faults), benchmark::Counter::kIsRate |
                                                          benchmark::Counter::kInvert);
  state.SetItemsProcessed(faults);
}
void BM_DemandFault(benchmark::State& state) { DemandFault(state, false); }
void BM_DemandFaultWarmHost(benchmark::State& state) { DemandFault(state, true); }
// 1 GiB in optimised builds; debug builds (the smoke test, sanitizers) poison and check
// every frame, so they fault a smaller region.
#ifdef NDEBUG
constexpr int kDemandFaultMiB = 1024;
#else
constexpr int kDemandFaultMiB = 32;
#endif
BENCHMARK(BM_DemandFault)->Arg(kDemandFaultMiB)->Unit(benchmark::kMillisecond)->Iterations(1);
BENCHMARK(BM_DemandFaultWarmHost)
    ->Arg(kDemandFaultMiB)
    ->Unit(benchmark::kMillisecond)
    ->Iterations(1);

// N one-page VMAs packed below mmap_base (alternating protections so none merge),
// placed by hint so building them is O(N log N).
task_struct* BuildVmas(BootedKernel& m, long n) {
  task_struct* t = m.Spawn("bench");
  for (long i = 0; i < n; ++i) {
    unsigned long want = t->mm->mmap_base - static_cast<unsigned long>(i + 1) * PAGE_SIZE;
    unsigned long got = m.Mmap(t, want, PAGE_SIZE, i % 2 ? PROT_READ : kRW, kAnon);
    if (got != want) return nullptr;
  }
  return t;
}

void MmapMunmap(benchmark::State& state, bool hint) {
  const long n = state.range(0);
  BootedKernel m(64UL << 20, 1);
  task_struct* t = BuildVmas(m, n);
  if (t == nullptr || t->mm->map_count != n + 1) {  // and exec's [stack]
    state.SkipWithError("setup failed");
    return;
  }
  const unsigned long where = hint ? 0x10000000UL : 0;
  for (auto _ : state) {
    unsigned long a = m.Mmap(t, where, 4 * PAGE_SIZE, kRW, kAnon);
    if (IS_ERR_VALUE(a) || m.Munmap(t, a, 4 * PAGE_SIZE) != 0) {
      state.SkipWithError("mmap/munmap failed");
      break;
    }
  }
  state.SetItemsProcessed(state.iterations());
}

void BM_MmapMunmapHint(benchmark::State& state) { MmapMunmap(state, true); }
void BM_MmapMunmapTopDown(benchmark::State& state) { MmapMunmap(state, false); }
BENCHMARK(BM_MmapMunmapHint)->Arg(100)->Arg(1000)->Arg(10000)->Arg(60000);
BENCHMARK(BM_MmapMunmapTopDown)->Arg(100)->Arg(1000)->Arg(10000)->Arg(60000);

}  // namespace
