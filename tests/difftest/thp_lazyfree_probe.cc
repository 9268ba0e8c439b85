// thp_lazyfree_probe: a host experiment (not a test) for what reclaim does to a lazyfree
// THP. For each variant it maps one 2 MiB MADV_HUGEPAGE region, writes it (one THP),
// then runs the variant's steps (MADV_FREE, a write, MADV_COLD, MADV_PAGEOUT, ...),
// printing after every step the /proc/vmstat deltas that matter, the region's smaps
// (AnonHugePages, LazyFree, Rss) and the head page's /proc/kpageflags bits (root only).
// Pinned to one CPU (sched_setaffinity) so the per-CPU LRU batches are this CPU's.
// /proc/vmstat is system-wide: other work on the host can add noise, so each variant
// runs --reps times (default 3). docs/thp.md, "MADV_FREE, MADV_COLD and MADV_PAGEOUT on
// THPs", records what it found.
//
//   bazel run //tests/difftest:thp_lazyfree_probe -- [--reps=N]
#include <fcntl.h>  // vmsplice
#include <sched.h>
#include <sys/mman.h>
#include <sys/uio.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

namespace {

constexpr uint64_t k2M = 2ull << 20;

std::map<std::string, int64_t> ReadVmstat() {
  std::map<std::string, int64_t> m;
  std::ifstream f("/proc/vmstat");
  std::string k;
  int64_t v;
  while (f >> k >> v) m[k] = v;
  return m;
}

// AnonHugePages, LazyFree, Rss (kB) of the mapping starting at `start`.
struct Smaps {
  int64_t anon_huge = -1, lazyfree = -1, rss = -1;
};

Smaps ReadSmaps(uintptr_t start) {
  std::ifstream f("/proc/self/smaps");
  std::string line;
  Smaps s;
  bool in = false;
  while (std::getline(f, line)) {
    unsigned long lo, hi;
    if (std::sscanf(line.c_str(), "%lx-%lx ", &lo, &hi) == 2 && line.find(':') > line.find(' ')) {
      in = lo == start;
      continue;
    }
    if (!in) continue;
    long v;
    if (std::sscanf(line.c_str(), "AnonHugePages: %ld", &v) == 1) s.anon_huge = v;
    if (std::sscanf(line.c_str(), "LazyFree: %ld", &v) == 1) s.lazyfree = v;
    if (std::sscanf(line.c_str(), "Rss: %ld", &v) == 1) s.rss = v;
  }
  return s;
}

// The head page's kpageflags as letters (empty when not present or not root).
std::string HeadFlags(uintptr_t addr) {
  int pm = open("/proc/self/pagemap", O_RDONLY);
  uint64_t e = 0;
  if (pm < 0 || pread(pm, &e, 8, (addr / 4096) * 8) != 8) {
    if (pm >= 0) close(pm);
    return "?";
  }
  close(pm);
  if (!(e >> 63)) return "not-present";
  const uint64_t pfn = e & ((1ull << 55) - 1);
  if (pfn == 0) return "pfn-hidden";
  int kf = open("/proc/kpageflags", O_RDONLY);
  uint64_t f = 0;
  if (kf < 0 || pread(kf, &f, 8, pfn * 8) != 8) {
    if (kf >= 0) close(kf);
    return "?";
  }
  close(kf);
  // include/uapi/linux/kernel-page-flags.h
  static const std::pair<int, const char*> kBits[] = {
      {2, "referenced"}, {4, "dirty"}, {5, "lru"},  {6, "active"},     {12, "anon"},
      {14, "swapbacked"}, {15, "compound_head"}, {22, "thp"}, {23, "zero_page"}, {24, "idle"}};
  std::string out;
  for (auto [bit, name] : kBits)
    if (f >> bit & 1) out += std::string(out.empty() ? "" : ",") + name;
  return out;
}

constexpr int kWriteStep = -1, kReadStep = -2, kPinStep = -3;

const char* const kCounters[] = {"thp_split_pmd",   "thp_split_page", "thp_deferred_split_page",
                                 "pglazyfree",      "pglazyfreed",    "pgdeactivate",
                                 "pgsteal_anon",    "pgsteal_file",   "thp_swpout_fallback"};

struct Step {
  const char* name;
  // A madvise advice, or kWriteStep (write one byte per page of [off, off+len)), kReadStep
  // (report the byte at off: 0 once the THP was discarded, 0x5a or 0x77 while it keeps its
  // data), kPinStep (vmsplice the page at off into a pipe: a page reference the mappings do
  // not account for, held until the variant ends).
  int advice;
  uint64_t off, len;
};

void Run(const char* variant, const std::vector<Step>& steps) {
  void* raw = mmap(nullptr, 2 * k2M, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (raw == MAP_FAILED) std::exit(1);
  const uintptr_t a = (reinterpret_cast<uintptr_t>(raw) + k2M - 1) & ~(k2M - 1);
  // Keep exactly the aligned 2 MiB (one VMA, so smaps is about the THP alone).
  if (a > reinterpret_cast<uintptr_t>(raw)) munmap(raw, a - reinterpret_cast<uintptr_t>(raw));
  munmap(reinterpret_cast<void*>(a + k2M), reinterpret_cast<uintptr_t>(raw) + 2 * k2M - a - k2M);
  char* p = reinterpret_cast<char*>(a);
  madvise(p, k2M, MADV_HUGEPAGE);
  std::memset(p, 0x5a, k2M);
  std::printf("== %s\n", variant);
  int pin_pipe[2] = {-1, -1};
  auto show = [&](const char* what, const std::map<std::string, int64_t>& before, int ret) {
    const auto after = ReadVmstat();
    const Smaps s = ReadSmaps(a);
    std::printf("  %-22s ret=%-3d AnonHuge=%-5ld LazyFree=%-5ld Rss=%-5ld", what, ret,
                static_cast<long>(s.anon_huge), static_cast<long>(s.lazyfree),
                static_cast<long>(s.rss));
    for (const char* k : kCounters) {
      const int64_t d = after.at(k) - before.at(k);
      if (d != 0) std::printf(" %s%+ld", k, static_cast<long>(d));
    }
    std::printf("\n  %-22s head: %s\n", "", HeadFlags(a).c_str());
  };
  show("faulted", ReadVmstat(), 0);
  for (const Step& s : steps) {
    const auto before = ReadVmstat();
    int ret = 0;
    if (s.advice == kWriteStep) {
      for (uint64_t o = s.off; o < s.off + s.len; o += 4096) p[o] = 0x77;
    } else if (s.advice == kReadStep) {
      ret = static_cast<unsigned char>(*static_cast<volatile char*>(p + s.off));
    } else if (s.advice == kPinStep) {
      iovec v{p + s.off, 4096};
      ret = pipe(pin_pipe) == 0 ? static_cast<int>(vmsplice(pin_pipe[1], &v, 1, 0)) : -1;
    } else {
      ret = madvise(p + s.off, s.len, s.advice);
    }
    show(s.name, before, ret);
  }
  if (pin_pipe[0] >= 0) {
    close(pin_pipe[0]);
    close(pin_pipe[1]);
  }
  munmap(p, k2M);
}

}  // namespace

int main(int argc, char** argv) {
  int reps = 3;
  for (int i = 1; i < argc; ++i) {
    char* end = nullptr;
    if (std::strncmp(argv[i], "--reps=", 7) == 0 &&
        (reps = static_cast<int>(std::strtol(argv[i] + 7, &end, 10))) > 0 && *end == '\0') {
      continue;
    } else {
      std::fprintf(stderr, "thp_lazyfree_probe: bad flag %s (want --reps=N, N > 0)\n", argv[i]);
      return 2;
    }
  }
  cpu_set_t one;
  CPU_ZERO(&one);
  CPU_SET(0, &one);
  if (sched_setaffinity(0, sizeof(one), &one) != 0) std::perror("sched_setaffinity");
  utsname u;
  uname(&u);
  std::printf("host %s %s; THP enabled: ", u.sysname, u.release);
  std::fflush(stdout);
  if (system("cat /sys/kernel/mm/transparent_hugepage/enabled") != 0) std::printf("?\n");
  const Step kFree{"MADV_FREE", MADV_FREE, 0, k2M};
  const Step kWrite{"write 1 byte/page", kWriteStep, 0, k2M};
  const Step kWrite1{"write 1 byte", kWriteStep, 0x3000, 1};
  const Step kPin{"vmsplice 1 page (pin)", kPinStep, 0x5000, 4096};
  const Step kCold{"MADV_COLD", MADV_COLD, 0, k2M};
  const Step kPageout{"MADV_PAGEOUT", MADV_PAGEOUT, 0, k2M};
  const Step kRead{"read byte 0x3000", kReadStep, 0x3000, 1};
  for (int r = 0; r < reps; ++r) {
    std::printf("---- rep %d\n", r);
    Run("clean: FREE, PAGEOUT", {kFree, kPageout, kRead});
    Run("redirtied: FREE, write all, PAGEOUT", {kFree, kWrite, kPageout, kRead});
    Run("redirtied: FREE, write 1 byte, PAGEOUT", {kFree, kWrite1, kPageout, kRead});
    Run("clean: FREE, COLD", {kFree, kCold, kRead});
    Run("redirtied: FREE, write all, COLD", {kFree, kWrite, kCold, kRead});
    Run("redirtied: FREE, write, COLD, PAGEOUT", {kFree, kWrite, kCold, kPageout, kRead});
    Run("redirtied: FREE, write, PAGEOUT, PAGEOUT", {kFree, kWrite, kPageout, kPageout, kRead});
    Run("swap-backed: PAGEOUT", {kPageout, kRead});
    Run("pinned clean: vmsplice, FREE, PAGEOUT", {kPin, kFree, kPageout, kRead});
    Run("pinned swap-backed: vmsplice, PAGEOUT", {kPin, kPageout, kRead});
  }
  return 0;
}
