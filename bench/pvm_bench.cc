// bench/pvm_bench.cc: the page-batching loop of process_vm_readv/writev, simulated and real.
//
// Three implementations of the same transfers, in one binary and one run:
//   sim     sim::Machine::ProcessVm{Readv,Writev}, raw form: the iovec arrays are written
//           once into the caller's simulated memory, then the call is looped. The caller
//           runs on CPU 0, the target is current on CPU 1.
//   host    the host kernel: syscall(SYS_process_vm_readv/writev) against a forked child
//           that holds the same layout (bench/pvm_host.h), 4 KiB pages on both sides.
//   memcpy  host memcpy of the same byte streams between two pre-faulted buffers (the
//           physical limit: no pinning, no translation). Op "copy": one memcpy per iovec
//           element; op "pages" (1x1): one memcpy per 4 KiB source page, the copies both
//           kernels make, with nothing around them.
//
// Benchmark names (bench/pvm_report.py parses them):
//   pvm/<impl>/<op>/<shape>/<state>/<bytes>      the matrix
//   batch/sim/<op>/1x1/prefaulted/<bytes>/<batch>  the batch-size knob (pages per pin batch)
//   psc/sim/readv/1x1/prefaulted/<bytes>/<on|off>  paging-structure caches on (the default
//                                                  skylake profile) or off (skylake_nopsc)
//   thp/<impl>/readv/1x1/prefaulted/<bytes>        both regions (and memcpy's buffers) 2 MiB
//                                                  aligned, MADV_HUGEPAGE and THP backed:
//                                                  the host's smaps AnonHugePages, the
//                                                  simulator's PMD leaves (thp=madvise)
//   scale_pages/<impl>/<op>/1x1/<pages>           cost per page, 1 page .. 64 MiB
//   scale_vmas/sim/readv/<vmas>                    cost per call against N target VMAs
//   memory/sim/<sim MiB>/<touched MiB>             host memory per simulated frame, peak RSS
// <op> is readv or writev (memcpy: copy or pages). <shape> is LxR: L local and R remote iovec
// elements over the same byte stream: 1x1; 1xN (remote split into page-sized elements, at
// most 1024); 1024x1, 1x1024 and 1024x1024 (bytes/1024-byte elements, 4 B .. 1 KiB).
// <state>: prefaulted (every page of both sides present and writable) or firsttouch (the
// remote region was never touched: writev allocates every page, readv maps the zero page;
// the region is unmapped and mapped again between iterations, with the timer paused).
//
// Counters: bytes_per_second, pages_per_second (data pages moved), ns_per_page; sim only:
// pins per call (NR_FOLL_PIN_ACQUIRED), dtlb_misses and stlb_misses per call (first and
// last TLB level, both CPUs), pde_cache_hits per call (TLB misses whose walk read only the
// PTE). Times are CPU time of the calling thread (the host syscall
// runs in it too), which the machine's other load disturbs less than wall time.
//
// Run: bazel run -c opt //bench:report   (runs this, prints ratios, draws plots), or
//      bazel run -c opt //bench:pvm_bench -- --benchmark_filter=pvm/sim/readv/1x1
// --pvm_smoke registers a reduced set (sizes up to 1 MiB, 1,000 VMAs, a 256 MiB machine)
// for the smoke tests, which also run under ASan.
// (Debian's libbenchmark is built without NDEBUG and says so; the measured code is ours.)
#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <functional>
#include <memory>
#include <string>
#include <tuple>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/types/span.h"
#include "bench/bench_main.h"
#include "benchmark/benchmark.h"
#include "bench/pvm_host.h"
#include "hw/addr.h"
#include "hw/cpu.h"
#include "hw/phys_mem.h"
#include "hw/psc.h"
#include "mm/kernel.h"
#include "mm/mm.h"
#include "mm/mm_types.h"
#include "mm/pagewalk.h"
#include "sim/machine.h"

namespace pvmbench {
namespace {

constexpr uint64_t kPage = 4096;
constexpr uint64_t kKiB = 1024, kMiB = 1024 * 1024;
// Where the regions live: the target's at kRemote, the caller's buffer at kLocal, the
// caller's iovec arrays at kIovArea (local array first, remote array kIovHalf later).
constexpr uint64_t kRemote = 0x200000000000;
constexpr uint64_t kLocal = 0x300000000000;
constexpr uint64_t kIovArea = 0x310000000000;
constexpr uint64_t kIovHalf = 32 * kKiB;  // 2048 iovecs
constexpr int kRW = static_cast<int>(PROT_READ | PROT_WRITE);
constexpr int kAnonFixed =
    static_cast<int>(MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED);
constexpr uint8_t kFill = 0xee;  // the other side's bytes before a transfer
constexpr uint64_t k2M = 2 * 1024 * 1024;
// madvise(2) advice, the uapi value (include/uapi/asm-generic/mman-common.h).
constexpr int kMadvHugepage = 14;

// --pvm_smoke: the reduced set, which only has to run (no host-memory warm-up).
bool g_smoke = false;

enum class Op { kReadv, kWritev };
enum class Shape { k1x1, k1xN, k1024x1, k1x1024, k1024x1024 };

const char* OpName(Op op) { return op == Op::kReadv ? "readv" : "writev"; }
const char* ShapeName(Shape s) {
  switch (s) {
    case Shape::k1x1: return "1x1";
    case Shape::k1xN: return "1xN";
    case Shape::k1024x1: return "1024x1";
    case Shape::k1x1024: return "1x1024";
    case Shape::k1024x1024: return "1024x1024";
  }
  return "?";
}

uint64_t PageRound(uint64_t bytes) { return (bytes + kPage - 1) & ~(kPage - 1); }
uint64_t PagesOf(uint64_t bytes) { return PageRound(bytes) / kPage; }
uint64_t HugeRound(uint64_t bytes) { return (bytes + k2M - 1) & ~(k2M - 1); }

// One iovec element: `len` bytes at offset `off` of its side's region.
struct Seg {
  uint64_t off;
  uint64_t len;
};
struct Layout {
  std::vector<Seg> local, remote;
};

std::vector<Seg> Split(uint64_t bytes, uint64_t n) {
  std::vector<Seg> v;
  const uint64_t each = bytes / n;
  for (uint64_t i = 0; i < n; ++i) v.push_back(Seg{i * each, each});
  return v;
}

// Both streams cover [0, bytes) of their region, in order.
Layout MakeLayout(Shape s, uint64_t bytes) {
  switch (s) {
    case Shape::k1x1: return {Split(bytes, 1), Split(bytes, 1)};
    case Shape::k1xN:
      return {Split(bytes, 1), Split(bytes, std::min<uint64_t>(1024, PagesOf(bytes)))};
    case Shape::k1024x1: return {Split(bytes, 1024), Split(bytes, 1)};
    case Shape::k1x1024: return {Split(bytes, 1), Split(bytes, 1024)};
    case Shape::k1024x1024: return {Split(bytes, 1024), Split(bytes, 1024)};
  }
  return {};
}

bool ShapeFits(Shape s, uint64_t bytes) {
  switch (s) {
    case Shape::k1x1: return true;
    case Shape::k1xN: return bytes >= 16 * kPage;  // at least 16 remote elements
    default: return bytes >= 4 * kKiB && bytes <= 1 * kMiB;  // 4 B .. 1 KiB elements
  }
}

std::string SizeName(uint64_t bytes) { return absl::StrCat(bytes); }

void SetPerCall(benchmark::State& state, const char* name, double total) {
  state.counters[name] = benchmark::Counter(total, benchmark::Counter::kAvgIterations);
}

void SetThroughput(benchmark::State& state, uint64_t bytes) {
  const double iters = static_cast<double>(state.iterations());
  state.SetBytesProcessed(static_cast<int64_t>(iters * static_cast<double>(bytes)));
  const double pages = iters * static_cast<double>(PagesOf(bytes));
  state.counters["pages_per_second"] = benchmark::Counter(pages, benchmark::Counter::kIsRate);
  // Seconds per page (printed as e.g. "120n"); the JSON holds seconds.
  state.counters["ns_per_page"] = benchmark::Counter(
      pages, benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
}

// ---------------------------------------------------------------------------------------
// The simulated machine.

struct SimRig {
  std::unique_ptr<sim::Machine> m;
  int caller = 0;
  int target = 0;
  uint64_t region = 0;  // bytes mapped on each side
  uint64_t lcnt = 0, rcnt = 0;
  int default_batch = 0;  // the kernel's sysctl_pvm_max_batch_pages at boot
};

// Stores `len` bytes into pid's memory at addr, 1 MiB at a time: the pattern of the
// region offset (pattern == true) or kFill.
bool SimFill(sim::Machine& m, int pid, uint64_t addr, uint64_t len, bool pattern) {
  std::vector<uint8_t> chunk;
  for (uint64_t done = 0; done < len;) {
    const uint64_t n = std::min<uint64_t>(len - done, kMiB);
    chunk.resize(n);
    for (uint64_t i = 0; i < n; ++i) chunk[i] = pattern ? Pattern(done + i) : kFill;
    if (!m.Store(pid, addr + done, chunk).ok) return false;
    done += n;
  }
  return true;
}

// Does pid's memory at addr hold the pattern of offsets [0, len)? (or zeros)
bool SimCheck(sim::Machine& m, int pid, uint64_t addr, uint64_t len, bool zeros) {
  for (uint64_t done = 0; done < len;) {
    const uint64_t n = std::min<uint64_t>(len - done, kMiB);
    auto bytes = m.PeekUser(pid, addr + done, n);
    if (!bytes.ok()) return false;
    for (uint64_t i = 0; i < n; ++i)
      if ((*bytes)[i] != (zeros ? 0 : Pattern(done + i))) return false;
    done += n;
  }
  return true;
}

bool SimWriteIovecs(sim::Machine& m, int pid, uint64_t at, uint64_t base,
                    const std::vector<Seg>& segs) {
  std::vector<uint8_t> bytes(segs.size() * 16);
  for (size_t i = 0; i < segs.size(); ++i) {
    const uint64_t b = base + segs[i].off;
    std::memcpy(&bytes[i * 16], &b, 8);
    std::memcpy(&bytes[i * 16 + 8], &segs[i].len, 8);
  }
  return m.Store(pid, at, bytes).ok;
}

// Commit the host memory behind every simulated frame (rewriting each frame's first
// byte with itself: no simulated state changes), so that first-touch figures are the
// simulator's fault path and not the host kernel's first touch of the simulator's DRAM.
void WarmHostMemory(sim::Machine& m) {
  hw::PhysMem& pm = m.phys();
  for (uint64_t pfn = 0; pfn < pm.num_frames(); ++pfn) {
    volatile uint8_t* p = pm.frame(hw::Pfn(pfn));
    p[0] = p[0];
  }
}

// A machine with a caller and a target, the target's region mapped (touched with the
// pattern if `touch_remote`), the caller's buffer mapped and pre-faulted (kFill for readv,
// the pattern for writev), and the iovec arrays of `lay` in the caller's memory.
// `thp`: both regions are whole 2 MiB pages with MADV_HUGEPAGE under thp=madvise, so
// that their first touch maps PMD leaves (checked by SimCheckThp).
// Returns "" or what failed.
std::string SetUpSim(SimRig* r, Op op, uint64_t bytes, const Layout& lay, bool touch_remote,
                     const char* tlb = "skylake", bool thp = false) {
  r->region = thp ? HugeRound(bytes) : PageRound(bytes);
  sim::MachineConfig cfg;
  cfg.tlb = tlb;
  cfg.thp = "madvise";  // the default, as on the host: only MADV_HUGEPAGE regions are huge
  // Both regions, their page tables and room for the kernel's own pages.
  cfg.memory_bytes = std::max<uint64_t>(32 * kMiB, 2 * r->region + r->region / 64 + 16 * kMiB);
  cfg.cpus = 2;
  auto m = sim::Machine::Create(cfg);
  if (!m.ok()) return std::string(m.status().message());
  r->m = std::move(*m);
  sim::Machine& mc = *r->m;
  r->default_batch = static_cast<int>(mc.Sysctl("mmsim.pvm_max_batch_pages").value_or(1024));
  auto caller = mc.CreateProcess("caller", sim::ProcessCreds{});
  auto target = mc.CreateProcess("target", sim::ProcessCreds{});
  if (!caller.ok() || !target.ok()) return "CreateProcess failed";
  r->caller = *caller;
  r->target = *target;
  mc.Schedule(r->target, 1);
  mc.Schedule(r->caller, 0);
  if (mc.Mmap(r->target, kRemote, r->region, kRW, kAnonFixed).ret != static_cast<long>(kRemote))
    return "target mmap failed";
  if (thp && mc.Madvise(r->target, kRemote, r->region, kMadvHugepage).ret != 0)
    return "target MADV_HUGEPAGE failed";
  if (touch_remote && !SimFill(mc, r->target, kRemote, r->region, op == Op::kReadv))
    return "target pre-fault failed";
  if (mc.Mmap(r->caller, kLocal, r->region, kRW, kAnonFixed).ret != static_cast<long>(kLocal))
    return "caller mmap failed";
  if (thp && mc.Madvise(r->caller, kLocal, r->region, kMadvHugepage).ret != 0)
    return "caller MADV_HUGEPAGE failed";
  if (!SimFill(mc, r->caller, kLocal, r->region, op == Op::kWritev))
    return "caller pre-fault failed";
  if (mc.Mmap(r->caller, kIovArea, 2 * kIovHalf, kRW, kAnonFixed).ret !=
      static_cast<long>(kIovArea))
    return "iovec area mmap failed";
  if (!SimWriteIovecs(mc, r->caller, kIovArea, kLocal, lay.local) ||
      !SimWriteIovecs(mc, r->caller, kIovArea + kIovHalf, kRemote, lay.remote))
    return "iovec arrays failed";
  r->lcnt = lay.local.size();
  r->rcnt = lay.remote.size();
  return "";
}

// After a THP set-up: is every 2 MiB of both regions a PMD leaf (NR_ANON_THPS counts
// the pages PMD-mapped, and the first PMD of each region is a leaf)? "" or what is not.
std::string SimCheckThp(SimRig& r) {
  const long want = static_cast<long>(2 * r.region / kPage);
  const long got = r.m->vmstat(kernel::NR_ANON_THPS);
  if (got != want) return absl::StrCat("NR_ANON_THPS is ", got, ", wanted ", want);
  for (auto [pid, addr, cpu] : {std::tuple{r.target, kRemote, 1}, std::tuple{r.caller, kLocal, 0}}) {
    auto leaf = r.m->RunInKernel(
        pid,
        [addr = addr] {
          kernel::pmd_t* pmd = kernel::mm_find_pmd(kernel::current()->mm, addr);
          return pmd != nullptr && kernel::pmd_trans_huge(*pmd);
        },
        cpu);
    if (!leaf.ok() || !*leaf) return absl::StrCat("no PMD leaf at ", absl::Hex(addr));
  }
  return "";
}

sim::SysResult SimCall(SimRig& r, Op op, uint64_t rvec = kIovArea + kIovHalf) {
  return op == Op::kReadv
             ? r.m->ProcessVmReadv(r.caller, r.target, kIovArea, r.lcnt, rvec, r.rcnt, 0)
             : r.m->ProcessVmWritev(r.caller, r.target, kIovArea, r.lcnt, rvec, r.rcnt, 0);
}

// The simulated counters the benchmarks report, summed over CPUs.
struct SimCounts {
  double pins = 0, dtlb_misses = 0, stlb_misses = 0, pde_cache_hits = 0;
};
SimCounts Snap(sim::Machine& m) {
  SimCounts c;
  c.pins = static_cast<double>(m.vmstat(kernel::NR_FOLL_PIN_ACQUIRED));
  for (int i = 0; i < m.num_cpus(); ++i) {
    const hw::Tlb& tlb = m.cpu(i).tlb();
    c.dtlb_misses += static_cast<double>(tlb.counters(0).misses);
    c.stlb_misses += static_cast<double>(tlb.counters(tlb.num_levels() - 1).misses);
    c.pde_cache_hits += static_cast<double>(m.cpu(i).psc().counters(hw::PscLevel::kPde).hits);
  }
  return c;
}
void SetSimCounters(benchmark::State& state, const SimCounts& a, const SimCounts& b) {
  SetPerCall(state, "pins", b.pins - a.pins);
  SetPerCall(state, "dtlb_misses", b.dtlb_misses - a.dtlb_misses);
  SetPerCall(state, "stlb_misses", b.stlb_misses - a.stlb_misses);
  SetPerCall(state, "pde_cache_hits", b.pde_cache_hits - a.pde_cache_hits);
}

// Checks one call before the timed loop: the count, and the bytes on the receiving side.
std::string SimFirstCall(SimRig& r, Op op, uint64_t bytes, bool zero_page) {
  sim::SysResult res = SimCall(r, op);
  if (res.ret != static_cast<long>(bytes))
    return absl::StrCat("first call returned ", res.ret, " errno ", res.err);
  const bool ok = op == Op::kReadv ? SimCheck(*r.m, r.caller, kLocal, bytes, zero_page)
                                   : SimCheck(*r.m, r.target, kRemote, bytes, false);
  return ok ? "" : "the copied bytes are wrong";
}

// Google Benchmark calls a benchmark function several times (iteration-count trials,
// repetitions). Rigs are kept, keyed by what was set up, so setting up (and checking) a
// 64 MiB transfer happens once per benchmark, not once per trial, also when
// --benchmark_enable_random_interleaving runs the repetitions of many benchmarks in turn.
// The rigs of each kind are charged about their memory (CachedRig's `bytes`) and the
// least recently used go first past kRigCacheBytes.
constexpr uint64_t kRigCacheBytes = uint64_t{1} << 30;

template <typename Rig>
struct RigCache {
  struct Entry {
    std::string key;
    std::unique_ptr<Rig> rig;
    std::string err;
    uint64_t bytes = 0;
    uint64_t last_use = 0;
  };
  std::vector<Entry> entries;
  uint64_t bytes = 0;
  uint64_t clock = 0;
};

// Returns the cached rig for `key`, or sets up a new one with `setup` (which returns ""
// or an error) after making room for `bytes` (a transfer of that size: its two regions and
// the machine or process around them). *err is the setup's error (the rig is then
// unusable).
template <typename Rig, typename Setup>
Rig* CachedRig(RigCache<Rig>& cache, const std::string& key, uint64_t bytes, Setup setup,
               std::string* err) {
  ++cache.clock;
  for (auto& e : cache.entries) {
    if (e.key != key) continue;
    e.last_use = cache.clock;
    *err = e.err;
    return e.rig.get();
  }
  const uint64_t cost = 2 * bytes + (uint64_t{4} << 20);
  // Free the least recently used first: the new rig need not coexist with them.
  while (!cache.entries.empty() && cache.bytes + cost > kRigCacheBytes) {
    auto lru = std::min_element(
        cache.entries.begin(), cache.entries.end(),
        [](const auto& a, const auto& b) { return a.last_use < b.last_use; });
    cache.bytes -= lru->bytes;
    cache.entries.erase(lru);
  }
  typename RigCache<Rig>::Entry e;
  e.key = key;
  e.rig = std::make_unique<Rig>();
  e.bytes = cost;
  e.last_use = cache.clock;
  e.err = setup(e.rig.get());
  *err = e.err;
  cache.bytes += cost;
  cache.entries.push_back(std::move(e));
  return cache.entries.back().rig.get();
}

RigCache<SimRig> g_sim_rigs;

void BM_SimPrefaulted(benchmark::State& state, Op op, Shape shape, uint64_t bytes, int batch,
                      const char* tlb = "skylake", bool thp = false) {
  std::string err;
  SimRig* r = CachedRig(
      g_sim_rigs,
      absl::StrCat("prefaulted/", OpName(op), "/", ShapeName(shape), "/", bytes, "/", tlb,
                   thp ? "/thp" : ""),
      bytes,
      [&](SimRig* rig) {
        std::string e =
            SetUpSim(rig, op, bytes, MakeLayout(shape, bytes), /*touch_remote=*/true, tlb, thp);
        if (e.empty() && thp) e = SimCheckThp(*rig);
        return e.empty() ? SimFirstCall(*rig, op, bytes, false) : e;
      },
      &err);
  if (!err.empty()) {
    state.SkipWithError(err.c_str());
    return;
  }
  const absl::Status st =
      r->m->SetSysctl("mmsim.pvm_max_batch_pages", batch > 0 ? batch : r->default_batch);
  if (!st.ok()) {
    state.SkipWithError(std::string(st.message()).c_str());
    return;
  }
  const SimCounts before = Snap(*r->m);
  for (auto _ : state) {
    const sim::SysResult res = SimCall(*r, op);
    if (res.ret != static_cast<long>(bytes)) {
      state.SkipWithError("short transfer");
      break;
    }
  }
  SetSimCounters(state, before, Snap(*r->m));
  SetThroughput(state, bytes);
}

// Untouched target memory: writev allocates (and zeroes) every page, readv maps the zero
// page. The region is unmapped and mapped again, timer paused, after every call.
void BM_SimFirstTouch(benchmark::State& state, Op op, uint64_t bytes) {
  auto fresh = [](SimRig& r) {
    return r.m->Munmap(r.target, kRemote, r.region).ret == 0 &&
           r.m->Mmap(r.target, kRemote, r.region, kRW, kAnonFixed).ret ==
               static_cast<long>(kRemote);
  };
  std::string err;
  SimRig* r = CachedRig(
      g_sim_rigs, absl::StrCat("firsttouch/", OpName(op), "/", bytes), bytes,
      [&](SimRig* rig) {
        std::string e = SetUpSim(rig, op, bytes, MakeLayout(Shape::k1x1, bytes), false);
        if (!e.empty()) return e;
        if (!g_smoke) WarmHostMemory(*rig->m);
        e = SimFirstCall(*rig, op, bytes, /*zero_page=*/true);
        if (e.empty() && !fresh(*rig)) e = "munmap/mmap failed";
        return e;
      },
      &err);
  if (!err.empty()) {
    state.SkipWithError(err.c_str());
    return;
  }
  const SimCounts before = Snap(*r->m);
  for (auto _ : state) {
    const sim::SysResult res = SimCall(*r, op);
    state.PauseTiming();
    const bool ok = res.ret == static_cast<long>(bytes) && fresh(*r);
    state.ResumeTiming();
    if (!ok) {
      state.SkipWithError("short transfer or munmap/mmap failed");
      break;
    }
  }
  SetSimCounters(state, before, Snap(*r->m));
  SetThroughput(state, bytes);
}

// One-page readv calls against a target with `vmas` one-page VMAs (gaps between them, so
// none merge), rotating over 64 of them spread across the address range: the VMA lookup
// (find_vma) is the part that depends on the count.
void BM_SimVmas(benchmark::State& state, int vmas) {
  constexpr int kTargets = 64;
  std::string err;
  SimRig* r = CachedRig(
      g_sim_rigs, absl::StrCat("vmas/", vmas), kPage,
      [&](SimRig* rig) {
        std::string e = SetUpSim(rig, Op::kReadv, kPage, MakeLayout(Shape::k1x1, kPage), false);
        if (!e.empty()) return e;
        sim::Machine& m = *rig->m;
        // The region SetUpSim mapped is VMA 0; add the others above it.
        for (int i = 1; i < vmas; ++i) {
          const uint64_t a = kRemote + static_cast<uint64_t>(i) * 2 * kPage;
          if (m.Mmap(rig->target, a, kPage, kRW, kAnonFixed).ret != static_cast<long>(a))
            return absl::StrCat("mmap of VMA ", i, " failed");
        }
        std::vector<Seg> rsegs;
        for (int j = 0; j < kTargets; ++j) {
          const uint64_t off =
              static_cast<uint64_t>(j) * static_cast<uint64_t>(vmas) / kTargets * 2 * kPage;
          rsegs.push_back(Seg{off, kPage});
          if (!SimFill(m, rig->target, kRemote + off, kPage, true))
            return std::string("pre-fault failed");
        }
        if (!SimWriteIovecs(m, rig->caller, kIovArea + kIovHalf, kRemote, rsegs))
          return std::string("iovec arrays failed");
        rig->rcnt = 1;
        if (SimCall(*rig, Op::kReadv).ret != static_cast<long>(kPage))
          return std::string("first call failed");
        return std::string();
      },
      &err);
  if (!err.empty()) {
    state.SkipWithError(err.c_str());
    return;
  }
  const SimCounts before = Snap(*r->m);
  uint64_t i = 0;
  for (auto _ : state) {
    const uint64_t rvec = kIovArea + kIovHalf + (i++ % kTargets) * 16;
    if (SimCall(*r, Op::kReadv, rvec).ret != static_cast<long>(kPage)) {
      state.SkipWithError("short transfer");
      break;
    }
  }
  SetSimCounters(state, before, Snap(*r->m));
  SetThroughput(state, kPage);
  state.counters["vmas"] = vmas;
}

// Host memory of a machine: struct page per frame, the RSS a booted machine adds per
// simulated frame, and the peak RSS once `touched_mib` of user memory has been written.
void BM_Memory(benchmark::State& state, uint64_t sim_mib, uint64_t touched_mib) {
  double base = 0, boot = 0, peak = 0, touched_rss = 0, after = 0, frames = 0;
  bool peak_reset = false;
  std::string err;
  g_sim_rigs = {};  // a cached machine would count in the baseline (registered first anyway)
  for (auto _ : state) {
    base = static_cast<double>(CurrentRssBytes());
    peak_reset = ResetPeakRss();
    {
      sim::MachineConfig cfg;
      cfg.memory_bytes = sim_mib * kMiB;
      auto mo = sim::Machine::Create(cfg);
      if (!mo.ok()) {
        err = std::string(mo.status().message());
        break;
      }
      sim::Machine& m = **mo;
      frames = static_cast<double>(m.phys().num_frames());
      boot = static_cast<double>(CurrentRssBytes());
      auto pid = m.CreateProcess("toucher", sim::ProcessCreds{});
      const uint64_t len = touched_mib * kMiB;
      if (!pid.ok() ||
          m.Mmap(*pid, kRemote, len, kRW, kAnonFixed).ret != static_cast<long>(kRemote) ||
          !SimFill(m, *pid, kRemote, len, true)) {
        err = "touching the memory failed";
        break;
      }
      touched_rss = static_cast<double>(CurrentRssBytes());
      peak = static_cast<double>(PeakRssBytes());
    }
    after = static_cast<double>(CurrentRssBytes());
  }
  if (!err.empty()) {
    state.SkipWithError(err.c_str());
    return;
  }
  state.counters["struct_page_bytes"] = sizeof(kernel::page);
  state.counters["boot_bytes_per_frame"] = (boot - base) / frames;
  state.counters["base_rss_mib"] = base / kMiB;
  state.counters["touched_rss_mib"] = touched_rss / kMiB;
  state.counters["peak_rss_mib"] = peak / kMiB;
  state.counters["peak_over_base_mib"] = (peak - base) / kMiB;
  state.counters["after_destroy_mib"] = after / kMiB;
  state.counters["peak_was_reset"] = peak_reset ? 1 : 0;
}

// ---------------------------------------------------------------------------------------
// The host kernel.

std::vector<HostIov> HostIovecs(uint64_t base, const std::vector<Seg>& segs) {
  std::vector<HostIov> v;
  for (const Seg& s : segs) v.push_back(HostIov{reinterpret_cast<void*>(base + s.off), s.len});
  return v;
}

struct HostRig {
  HostTarget target;
  std::unique_ptr<HostBuffer> local;
  std::vector<HostIov> liov, riov;
};

// `huge`: both regions 2 MiB aligned and MADV_HUGEPAGE (the host's THP enabled=madvise
// then maps them with PMDs on first touch; HostCheckThp says whether it did).
std::string SetUpHost(HostRig* r, Op op, uint64_t bytes, const Layout& lay, bool touch_remote,
                      bool huge = false) {
  std::string err;
  if (!r->target.Start(PageRound(bytes), touch_remote, &err, huge)) return err;
  r->local = std::make_unique<HostBuffer>(PageRound(bytes), huge);
  if (op == Op::kWritev) {
    FillPattern(r->local->data(), r->local->size());
  } else {
    std::memset(r->local->data(), kFill, r->local->size());
  }
  r->liov = HostIovecs(reinterpret_cast<uint64_t>(r->local->data()), lay.local);
  r->riov = HostIovecs(r->target.base(), lay.remote);
  return "";
}

// Is all of a huge region of `bytes` THP backed (smaps AnonHugePages of its VMA, `pid`
// 0: this process)? "" or what is not.
std::string HostCheckThp(pid_t pid, uint64_t base, uint64_t bytes, const char* what) {
  const long long huge = AnonHugeBytes(pid, base);
  if (huge < static_cast<long long>(HugeRound(bytes)))
    return absl::StrCat(benchmain::kUnavailable, "the host's ", what,
                        " is not THP backed (AnonHugePages ", huge,
                        " bytes of ", HugeRound(bytes),
                        "; /sys/kernel/mm/transparent_hugepage/enabled must allow madvise)");
  return "";
}

long HostCall(HostRig& r, Op op) {
  return op == Op::kReadv ? HostProcessVmReadv(r.target.pid(), r.liov.data(), r.liov.size(),
                                               r.riov.data(), r.riov.size())
                          : HostProcessVmWritev(r.target.pid(), r.liov.data(), r.liov.size(),
                                                r.riov.data(), r.riov.size());
}

// One checked call: the count, and the received bytes (a writev is read back).
std::string HostFirstCall(HostRig& r, Op op, uint64_t bytes, bool zero_page) {
  const long n = HostCall(r, op);
  if (n != static_cast<long>(bytes))
    return n < 0 ? absl::StrCat(n == -EPERM || n == -ENOSYS ? benchmain::kUnavailable : "",
                                "host syscall failed: errno ", -n)
                 : absl::StrCat("host syscall returned ", n);
  std::vector<uint8_t> got(bytes);
  if (op == Op::kReadv) {
    std::memcpy(got.data(), r.local->data(), bytes);
  } else {
    const HostIov l{got.data(), bytes};
    const HostIov rem{reinterpret_cast<void*>(r.target.base()), bytes};
    if (HostProcessVmReadv(r.target.pid(), &l, 1, &rem, 1) != static_cast<long>(bytes))
      return "read-back failed";
  }
  const bool zeros = zero_page && op == Op::kReadv;
  for (uint64_t i = 0; i < bytes; ++i)
    if (got[i] != (zeros ? 0 : Pattern(i))) return "the copied bytes are wrong";
  return "";
}

RigCache<HostRig> g_host_rigs;

void BM_HostPrefaulted(benchmark::State& state, Op op, Shape shape, uint64_t bytes,
                       bool huge = false) {
  std::string err;
  HostRig* r = CachedRig(
      g_host_rigs,
      absl::StrCat("prefaulted/", OpName(op), "/", ShapeName(shape), "/", bytes,
                   huge ? "/thp" : ""),
      bytes,
      [&](HostRig* rig) {
        std::string e = SetUpHost(rig, op, bytes, MakeLayout(shape, bytes), true, huge);
        if (e.empty() && huge) e = HostCheckThp(rig->target.pid(), rig->target.base(), bytes, "target region");
        if (e.empty() && huge)
          e = HostCheckThp(0, reinterpret_cast<uint64_t>(rig->local->data()), bytes, "local buffer");
        return e.empty() ? HostFirstCall(*rig, op, bytes, false) : e;
      },
      &err);
  if (!err.empty()) {
    state.SkipWithError(err.c_str());
    return;
  }
  for (auto _ : state) {
    if (HostCall(*r, op) != static_cast<long>(bytes)) {
      state.SkipWithError("short transfer");
      break;
    }
  }
  SetThroughput(state, bytes);
}

void BM_HostFirstTouch(benchmark::State& state, Op op, uint64_t bytes) {
  std::string err;
  HostRig* r = CachedRig(
      g_host_rigs, absl::StrCat("firsttouch/", OpName(op), "/", bytes), bytes,
      [&](HostRig* rig) {
        std::string e = SetUpHost(rig, op, bytes, MakeLayout(Shape::k1x1, bytes), false);
        if (e.empty()) e = HostFirstCall(*rig, op, bytes, true);
        if (e.empty() && !rig->target.Fresh()) e = "munmap/mmap in the child failed";
        return e;
      },
      &err);
  if (!err.empty()) {
    state.SkipWithError(err.c_str());
    return;
  }
  for (auto _ : state) {
    const long n = HostCall(*r, op);
    state.PauseTiming();
    const bool ok = n == static_cast<long>(bytes) && r->target.Fresh();
    state.ResumeTiming();
    if (!ok) {
      state.SkipWithError("short transfer or munmap/mmap failed");
      break;
    }
  }
  SetThroughput(state, bytes);
}

// ---------------------------------------------------------------------------------------
// memcpy: the same byte streams, element by element, between two pre-faulted buffers.
// With `piece` (a power of two), no copy crosses a `piece` boundary of the source: page-sized
// pieces are the copies a kernel that moves one pinned page at a time makes.

void StreamCopy(uint8_t* dst, const std::vector<Seg>& dsegs, const uint8_t* src,
                const std::vector<Seg>& ssegs, uint64_t piece = 0) {
  size_t di = 0, si = 0;
  uint64_t doff = 0, soff = 0;
  while (di < dsegs.size() && si < ssegs.size()) {
    uint64_t n = std::min(dsegs[di].len - doff, ssegs[si].len - soff);
    if (piece != 0) n = std::min(n, piece - ((ssegs[si].off + soff) & (piece - 1)));
    std::memcpy(dst + dsegs[di].off + doff, src + ssegs[si].off + soff, n);
    doff += n;
    soff += n;
    if (doff == dsegs[di].len) ++di, doff = 0;
    if (soff == ssegs[si].len) ++si, soff = 0;
  }
}

void BM_Memcpy(benchmark::State& state, Shape shape, uint64_t bytes, bool huge = false,
               uint64_t piece = 0) {
  const Layout lay = MakeLayout(shape, bytes);
  HostBuffer src(bytes, huge), dst(bytes, huge);
  FillPattern(src.data(), src.size());
  if (huge) {
    std::string e = HostCheckThp(0, reinterpret_cast<uint64_t>(src.data()), bytes, "source");
    if (e.empty()) e = HostCheckThp(0, reinterpret_cast<uint64_t>(dst.data()), bytes, "destination");
    if (!e.empty()) {
      state.SkipWithError(e.c_str());
      return;
    }
  }
  for (auto _ : state) {
    StreamCopy(dst.data(), lay.local, src.data(), lay.remote, piece);
    benchmark::ClobberMemory();
  }
  if (std::memcmp(dst.data(), src.data(), bytes) != 0) state.SkipWithError("memcpy is wrong");
  SetThroughput(state, bytes);
}

// ---------------------------------------------------------------------------------------
// Registration.

template <typename Fn>
void Register(const std::string& name, Fn fn) {
  benchmark::RegisterBenchmark(name.c_str(), fn);
}

void RegisterAll(bool smoke) {
  g_smoke = smoke;
  std::vector<uint64_t> sizes = {8, 4 * kKiB, 64 * kKiB, 1 * kMiB, 16 * kMiB, 64 * kMiB};
  std::vector<uint64_t> touch_sizes = {4 * kKiB, 64 * kKiB, 1 * kMiB, 16 * kMiB, 64 * kMiB};
  std::vector<uint64_t> batch_sizes = {1 * kMiB, 64 * kMiB};
  std::vector<uint64_t> thp_sizes = {64 * kKiB, 1 * kMiB, 64 * kMiB};
  std::vector<int> vma_counts = {1, 10, 100, 1000, 10000, 60000};
  uint64_t max_scale_pages = 16384;  // 64 MiB
  uint64_t mem_sim_mib = 16384, mem_touched_mib = 1024;
  if (smoke) {
    sizes = {8, 4 * kKiB, 64 * kKiB, 1 * kMiB};
    touch_sizes = {4 * kKiB, 64 * kKiB};
    batch_sizes = {1 * kMiB};
    thp_sizes = {64 * kKiB, 1 * kMiB};
    vma_counts = {1, 10, 100, 1000};
    max_scale_pages = 256;
    mem_sim_mib = 256;
    mem_touched_mib = 16;
  }
  const Shape shapes[] = {Shape::k1x1, Shape::k1xN, Shape::k1024x1, Shape::k1x1024,
                          Shape::k1024x1024};

  Register(absl::StrCat("memory/sim/", mem_sim_mib, "/", mem_touched_mib),
           [=](benchmark::State& s) { BM_Memory(s, mem_sim_mib, mem_touched_mib); });

  for (Shape shape : shapes) {
    for (uint64_t bytes : sizes) {
      if (!ShapeFits(shape, bytes)) continue;
      const std::string tail = absl::StrCat(ShapeName(shape), "/prefaulted/", SizeName(bytes));
      for (Op op : {Op::kReadv, Op::kWritev}) {
        Register(absl::StrCat("pvm/sim/", OpName(op), "/", tail),
                 [=](benchmark::State& s) { BM_SimPrefaulted(s, op, shape, bytes, 0); });
        Register(absl::StrCat("pvm/host/", OpName(op), "/", tail),
                 [=](benchmark::State& s) { BM_HostPrefaulted(s, op, shape, bytes); });
      }
      Register(absl::StrCat("pvm/memcpy/copy/", tail),
               [=](benchmark::State& s) { BM_Memcpy(s, shape, bytes); });
      if (shape == Shape::k1x1 && bytes > kPage) {
        Register(absl::StrCat("pvm/memcpy/pages/", tail),
                 [=](benchmark::State& s) { BM_Memcpy(s, shape, bytes, false, kPage); });
      }
    }
  }
  for (uint64_t bytes : touch_sizes) {
    for (Op op : {Op::kReadv, Op::kWritev}) {
      const std::string tail = absl::StrCat(OpName(op), "/1x1/firsttouch/", SizeName(bytes));
      Register(absl::StrCat("pvm/sim/", tail),
               [=](benchmark::State& s) { BM_SimFirstTouch(s, op, bytes); });
      Register(absl::StrCat("pvm/host/", tail),
               [=](benchmark::State& s) { BM_HostFirstTouch(s, op, bytes); });
    }
  }
  for (uint64_t bytes : batch_sizes) {
    for (Op op : {Op::kReadv, Op::kWritev}) {
      for (int batch : {1, 16, 64, 256, 1024, 4096}) {
        Register(absl::StrCat("batch/sim/", OpName(op), "/1x1/prefaulted/", SizeName(bytes), "/",
                              batch),
                 [=](benchmark::State& s) {
                   BM_SimPrefaulted(s, op, Shape::k1x1, bytes, batch);
                 });
      }
    }
  }
  for (uint64_t bytes : batch_sizes) {
    for (bool on : {true, false}) {
      Register(absl::StrCat("psc/sim/readv/1x1/prefaulted/", SizeName(bytes), on ? "/on" : "/off"),
               [=](benchmark::State& s) {
                 BM_SimPrefaulted(s, Op::kReadv, Shape::k1x1, bytes, 0,
                                  on ? "skylake" : "skylake_nopsc");
               });
    }
  }
  for (uint64_t bytes : thp_sizes) {
    const std::string tail = absl::StrCat("1x1/prefaulted/", SizeName(bytes));
    Register(absl::StrCat("thp/sim/readv/", tail), [=](benchmark::State& s) {
      BM_SimPrefaulted(s, Op::kReadv, Shape::k1x1, bytes, 0, "skylake", /*thp=*/true);
    });
    Register(absl::StrCat("thp/host/readv/", tail), [=](benchmark::State& s) {
      BM_HostPrefaulted(s, Op::kReadv, Shape::k1x1, bytes, /*huge=*/true);
    });
    Register(absl::StrCat("thp/memcpy/copy/", tail),
             [=](benchmark::State& s) { BM_Memcpy(s, Shape::k1x1, bytes, /*huge=*/true); });
  }
  for (uint64_t pages = 1; pages <= max_scale_pages; pages *= 4) {
    const uint64_t bytes = pages * kPage;
    Register(absl::StrCat("scale_pages/sim/readv/1x1/", pages),
             [=](benchmark::State& s) { BM_SimPrefaulted(s, Op::kReadv, Shape::k1x1, bytes, 0); });
    Register(absl::StrCat("scale_pages/host/readv/1x1/", pages),
             [=](benchmark::State& s) { BM_HostPrefaulted(s, Op::kReadv, Shape::k1x1, bytes); });
    Register(absl::StrCat("scale_pages/memcpy/copy/1x1/", pages),
             [=](benchmark::State& s) { BM_Memcpy(s, Shape::k1x1, bytes); });
  }
  for (int vmas : vma_counts) {
    Register(absl::StrCat("scale_vmas/sim/readv/", vmas),
             [=](benchmark::State& s) { BM_SimVmas(s, vmas); });
  }
}

}  // namespace
}  // namespace pvmbench

int main(int argc, char** argv) {
  bool smoke = false;
  int out = 1;
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--pvm_smoke") == 0) {
      smoke = true;
    } else {
      argv[out++] = argv[i];
    }
  }
  argc = out;
  pvmbench::RegisterAll(smoke);
  if (!benchmain::FlagsKeepErrorsVisible(argc, argv)) return 2;
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 2;
  // How the simulator copies on this host (read by bench/pvm_report.py): page copies in a
  // run longer than this go out with non-temporal stores.
  benchmark::AddCustomContext("mmsim_stream_threshold",
                              std::to_string(hw::Cpu::DefaultStreamThreshold()));
  return benchmain::RunBenchmarks();  // 1 when a benchmark reported an error
}
