// bench/fork_bench.cc: the cost of fork and of copy-on-write on the simulated machine.
//
//  BM_Fork/MiB                  fork(2) of a process whose MiB of private anonymous memory
//                               is all touched: dup_mm, dup_mmap, copy_page_range
//                               write-protecting every PTE in the parent and sharing the
//                               page with the child (mapcount 2), one flush_tlb_mm.
//                               Reported per page of the parent's memory.
//  BM_FirstWriteAfterFork/MiB   after such a fork, the parent's first write to each page:
//                               #PF (write to a read-only PTE), do_wp_page, a new page,
//                               a 4 KiB copy, ptep_clear_flush and the new PTE, the
//                               retried store. One user-mode 1-byte store per page.
//  BM_WriteNoFault/MiB          the same stores to pages that are already writable: the
//                               simulator's cost of a user store without a fault, to
//                               subtract from the figure above.
//  BM_ExitAfterFork/MiB         the child's exit (and reap) right after the fork: zapping
//                               shared PTEs (mapcount 2 -> 1) and freeing its tables.
//
// The host memory behind simulated DRAM is committed before timing, so the figures are the
// simulator's, not the host kernel's first touch of its own pages. --fork_smoke runs a
// reduced set (4 MiB) once, for the smoke test; the default size is 1 GiB.
#include <algorithm>
#include <cstdint>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "bench/bench_main.h"
#include "benchmark/benchmark.h"
#include "hw/phys_mem.h"
#include "mm/kernel.h"
#include "mm/mm.h"
#include "sim/machine.h"

namespace {

constexpr uint64_t kPage = 4096;
constexpr uint64_t kBase = 0x200000000000;
constexpr int kRW = PROT_READ | PROT_WRITE;
constexpr int kAnonFixed = MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED;

// A machine with one process whose `bytes` of private anonymous memory at kBase are all
// touched, and room for a full copy of them plus page tables.
struct Forkable {
  std::unique_ptr<sim::Machine> m;
  int parent = -1;
  uint64_t pages = 0;

  bool Build(uint64_t bytes) {
    sim::MachineConfig config;
    config.memory_bytes = 2 * bytes + bytes / 64 + (64ull << 20);
    config.cpus = 1;
    auto made = sim::Machine::Create(config);
    if (!made.ok()) return false;
    m = std::move(*made);
    hw::PhysMem& pm = m->phys();
    std::memset(pm.frame(hw::Pfn(0)), 0, pm.size_bytes());  // commit the host memory
    auto p = m->CreateProcess("parent", sim::ProcessCreds{});
    if (!p.ok()) return false;
    parent = *p;
    if (m->Mmap(parent, kBase, bytes, kRW, kAnonFixed).ret != static_cast<long>(kBase))
      return false;
    pages = bytes / kPage;
    // Touch every page (1 MiB stores: one fault per page).
    std::vector<uint8_t> chunk(std::min<uint64_t>(bytes, 1 << 20), 0x5a);
    for (uint64_t off = 0; off < bytes; off += chunk.size())
      if (!m->Store(parent, kBase + off, chunk).ok) return false;
    return true;
  }
  int Fork() { return static_cast<int>(m->Fork(parent).ret); }
  bool ExitAndReap(int child) {
    return m->Exit(child).ret == 0 && m->Reap(parent, child).ret == child;
  }
  // One 1-byte user store per page.
  bool WriteEveryPage(uint8_t v) {
    const uint8_t b[1] = {v};
    for (uint64_t i = 0; i < pages; ++i)
      if (!m->Store(parent, kBase + i * kPage, b).ok) return false;
    return true;
  }
};

void PerPage(benchmark::State& state, uint64_t pages) {
  const double n = static_cast<double>(pages) * static_cast<double>(state.iterations());
  state.counters["per_page"] =
      benchmark::Counter(n, benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
  state.counters["pages"] = static_cast<double>(pages);
  state.SetItemsProcessed(static_cast<int64_t>(n));
}

void BM_Fork(benchmark::State& state, int mib) {
  Forkable f;
  if (!f.Build(static_cast<uint64_t>(mib) << 20)) {
    state.SkipWithError("set-up failed");
    return;
  }
  for (auto _ : state) {
    const int child = f.Fork();
    state.PauseTiming();
    if (child <= 0 || !f.ExitAndReap(child)) {
      state.SkipWithError("fork/exit failed");
      break;  // no timer calls after an error (the library CHECKs that)
    }
    state.ResumeTiming();
  }
  PerPage(state, f.pages);
}

void BM_FirstWriteAfterFork(benchmark::State& state, int mib) {
  Forkable f;
  if (!f.Build(static_cast<uint64_t>(mib) << 20)) {
    state.SkipWithError("set-up failed");
    return;
  }
  uint8_t v = 1;
  for (auto _ : state) {
    state.PauseTiming();
    const int child = f.Fork();
    if (child <= 0) {
      state.SkipWithError("fork failed");
      break;  // no timer calls after an error (the library CHECKs that)
    }
    state.ResumeTiming();
    if (!f.WriteEveryPage(v++)) {
      state.SkipWithError("store failed");
      break;
    }
    state.PauseTiming();
    if (!f.ExitAndReap(child)) {
      state.SkipWithError("exit failed");
      break;
    }
    state.ResumeTiming();
  }
  PerPage(state, f.pages);
}

void BM_WriteNoFault(benchmark::State& state, int mib) {
  Forkable f;
  if (!f.Build(static_cast<uint64_t>(mib) << 20)) {
    state.SkipWithError("set-up failed");
    return;
  }
  uint8_t v = 1;
  for (auto _ : state) {
    if (!f.WriteEveryPage(v++)) {
      state.SkipWithError("store failed");
      break;
    }
  }
  PerPage(state, f.pages);
}

void BM_ExitAfterFork(benchmark::State& state, int mib) {
  Forkable f;
  if (!f.Build(static_cast<uint64_t>(mib) << 20)) {
    state.SkipWithError("set-up failed");
    return;
  }
  for (auto _ : state) {
    state.PauseTiming();
    const int child = f.Fork();
    if (child <= 0) {
      state.SkipWithError("fork failed");
      break;  // no timer calls after an error (the library CHECKs that)
    }
    state.ResumeTiming();
    if (!f.ExitAndReap(child)) {
      state.SkipWithError("exit failed");
      break;
    }
  }
  PerPage(state, f.pages);
}

void RegisterAll(bool smoke) {
  const int mib = smoke ? 4 : 1024;
  auto reg = [&](const char* name, void (*fn)(benchmark::State&, int)) {
    auto* b = benchmark::RegisterBenchmark(absl::StrCat(name, "/", mib).c_str(),
                                           [fn, mib](benchmark::State& s) { fn(s, mib); })
                  ->Unit(benchmark::kMillisecond);
    if (smoke) b->Iterations(1);
  };
  reg("BM_Fork", BM_Fork);
  reg("BM_FirstWriteAfterFork", BM_FirstWriteAfterFork);
  reg("BM_WriteNoFault", BM_WriteNoFault);
  reg("BM_ExitAfterFork", BM_ExitAfterFork);
}

}  // namespace

int main(int argc, char** argv) {
  bool smoke = false;
  int out = 1;
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--fork_smoke") == 0) {
      smoke = true;
    } else {
      argv[out++] = argv[i];
    }
  }
  argc = out;
  RegisterAll(smoke);
  if (!benchmain::FlagsKeepErrorsVisible(argc, argv)) return 2;
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 2;
  return benchmain::RunBenchmarks();  // 1 when a benchmark reported an error
}
