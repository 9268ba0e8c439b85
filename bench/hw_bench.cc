// bench/hw_bench.cc: the hot paths of hw/, each beside a host baseline.
//
//   TLB-hit translation      Cpu::Translate on an L1 hit         target < 5 ns
//   4-level walk (4K, 2M)    hw::Walk on warm tables             target < 40 ns
//   4 KiB copy               Cpu::CopyToLinear/CopyFromLinear    target within
//                            with a cached translation           1.3x of memcpy
//
// Run: bazel run -c opt //bench:hw_bench
// (Debian's libbenchmark is built without NDEBUG and says so; the measured
// code is ours, built -O2 -DNDEBUG.)
#include <cstdint>
#include <cstring>
#include <vector>

#include "benchmark/benchmark.h"
#include "hw/access.h"
#include "hw/access_rights.h"
#include "hw/addr.h"
#include "hw/cpu.h"
#include "hw/observer.h"
#include "hw/page_table_builder.h"
#include "hw/paging_entry.h"
#include "hw/phys_mem.h"
#include "hw/tlb_profile.h"
#include "hw/walker.h"

namespace hw {
namespace {

constexpr VirtAddr kVa(0x0000'7f00'0000'0000ull);
constexpr int kPages = 16;  // fits the L1 DTLB of every profile but "tiny"

// A machine with kPages 4K pages at kVa and one 2M page after them.
struct Machine {
  Machine()
      : mem(kDefaultPhysMemBytes),
        tables(&mem, Pfn(1)),
        cpu(0, &mem, DefaultTlbProfile()) {
    for (int i = 0; i < kPages; ++i) {
      tables.Map(kVa + i * kPageSize, PhysAddr::FromPfn(Pfn(1024 + i)),
                 PageSize::k4K, PagingEntry::kRW | PagingEntry::kUS);
    }
    tables.Map(kVa2M(), PhysAddr(32 << 20), PageSize::k2M,
               PagingEntry::kRW | PagingEntry::kUS);
    (void)cpu.WriteCr3(tables.cr3());
    // Warm the TLB and set A/D everywhere, so hits stay hits.
    for (int i = 0; i < kPages; ++i) {
      const uint64_t zero = 0;
      (void)cpu.Store(kVa + i * kPageSize, &zero, sizeof(zero));
    }
  }
  static VirtAddr kVa2M() { return VirtAddr(0x0000'7f00'0020'0000ull); }

  PhysMem mem;
  PageTableBuilder tables;
  Cpu cpu;
};

void BM_TlbHitTranslate(benchmark::State& state) {
  Machine m;
  for (auto _ : state) {
    benchmark::DoNotOptimize(m.cpu.Translate(kVa + 0x10, AccessType::kRead));
  }
}
BENCHMARK(BM_TlbHitTranslate);

// The same, rotating over 16 pages (16 different sets of the L1 DTLB).
void BM_TlbHitTranslate16Pages(benchmark::State& state) {
  Machine m;
  uint64_t i = 0;
  for (auto _ : state) {
    const VirtAddr va = kVa + ((i++ & (kPages - 1)) << kPageShift) + 0x10;
    benchmark::DoNotOptimize(m.cpu.Translate(va, AccessType::kWrite));
  }
}
BENCHMARK(BM_TlbHitTranslate16Pages);

// An 8-byte load through the CPU (TLB hit + copy).
void BM_TlbHitLoad8(benchmark::State& state) {
  Machine m;
  uint64_t v = 0;
  for (auto _ : state) {
    (void)m.cpu.Load(kVa + 0x18, &v, sizeof(v));
    benchmark::DoNotOptimize(v);
  }
}
BENCHMARK(BM_TlbHitLoad8);

// TLB hit with an observer attached (one virtual call per hit).
void BM_TlbHitTranslateObserved(benchmark::State& state) {
  Machine m;
  HwObserver quiet;
  m.cpu.set_observer(&quiet);
  for (auto _ : state) {
    benchmark::DoNotOptimize(m.cpu.Translate(kVa + 0x10, AccessType::kRead));
  }
}
BENCHMARK(BM_TlbHitTranslateObserved);

// One full 4-level walk (A bits already set, so no write-back).
void BM_Walk4K(benchmark::State& state) {
  Machine m;
  const PagingMode mode = m.cpu.paging_mode();
  for (auto _ : state) {
    benchmark::DoNotOptimize(Walk(m.mem, m.cpu.cr3(), kVa + 0x10,
                                  AccessType::kRead, mode, nullptr));
  }
}
BENCHMARK(BM_Walk4K);

// A walk that ends in a 2 MiB leaf (three levels).
void BM_Walk2M(benchmark::State& state) {
  Machine m;
  const PagingMode mode = m.cpu.paging_mode();
  (void)Walk(m.mem, m.cpu.cr3(), Machine::kVa2M(), AccessType::kWrite, mode,
             nullptr);
  for (auto _ : state) {
    benchmark::DoNotOptimize(Walk(m.mem, m.cpu.cr3(), Machine::kVa2M() + 0x10,
                                  AccessType::kRead, mode, nullptr));
  }
}
BENCHMARK(BM_Walk2M);

// INVLPG + a translation that misses everywhere, walks and fills.
void BM_TlbMissTranslate(benchmark::State& state) {
  Machine m;
  for (auto _ : state) {
    m.cpu.Invlpg(kVa);
    benchmark::DoNotOptimize(m.cpu.Translate(kVa + 0x10, AccessType::kRead));
  }
}
BENCHMARK(BM_TlbMissTranslate);

// Baseline: memcpy of 4 KiB from a host buffer into a frame of simulated
// memory (the same destination memory the CPU copies use).
void BM_HostMemcpy4K(benchmark::State& state) {
  Machine m;
  std::vector<uint8_t> src(kPageSize, 0x5a);
  uint8_t* dst = m.mem.frame(Pfn(1024));
  for (auto _ : state) {
    std::memcpy(dst, src.data(), kPageSize);
    benchmark::ClobberMemory();
  }
  state.SetBytesProcessed(state.iterations() * kPageSize);
}
BENCHMARK(BM_HostMemcpy4K);

void BM_CopyToLinear4K(benchmark::State& state) {
  Machine m;
  std::vector<uint8_t> src(kPageSize, 0x5a);
  for (auto _ : state) {
    benchmark::DoNotOptimize(m.cpu.CopyToLinear(kVa, src.data(), kPageSize));
    benchmark::ClobberMemory();
  }
  state.SetBytesProcessed(state.iterations() * kPageSize);
}
BENCHMARK(BM_CopyToLinear4K);

// Baseline for the other direction: a frame into a host buffer.
void BM_HostMemcpyFrom4K(benchmark::State& state) {
  Machine m;
  std::vector<uint8_t> dst(kPageSize);
  const uint8_t* src = m.mem.frame(Pfn(1024));
  for (auto _ : state) {
    std::memcpy(dst.data(), src, kPageSize);
    benchmark::ClobberMemory();
  }
  state.SetBytesProcessed(state.iterations() * kPageSize);
}
BENCHMARK(BM_HostMemcpyFrom4K);

void BM_CopyFromLinear4K(benchmark::State& state) {
  Machine m;
  std::vector<uint8_t> dst(kPageSize);
  for (auto _ : state) {
    benchmark::DoNotOptimize(m.cpu.CopyFromLinear(dst.data(), kVa, kPageSize));
    benchmark::ClobberMemory();
  }
  state.SetBytesProcessed(state.iterations() * kPageSize);
}
BENCHMARK(BM_CopyFromLinear4K);

}  // namespace
}  // namespace hw
