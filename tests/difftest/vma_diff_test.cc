// tests/difftest/vma_diff_test.cc: mmap, mprotect, munmap, VMA merging, madvise and mlock,
// the simulator against the host kernel.
//
// Each case is a short program of steps (map, protect, unmap, store a byte, fork and go
// on in the child, drop root, count the VMAs over a range). On the host a forked child
// runs it (a `fork` step forks again and the grandchild goes on) and reports each step's
// result over a pipe; in the simulator a fresh sim::Machine runs it on one process (a
// `fork` step continues in Machine::Fork's child). The results are compared step by
// step: the return value or errno, for `count` the number of VMAs, which shows
// which mappings merged, for `resident` the present pages of a range (/proc/self/pagemap)
// and for `vmlck` the locked pages (VmLck). The machine's vm.mmap_min_addr is set to the host's
// (/proc/sys/vm/mmap_min_addr) first.
//
// Where the host cannot run a case (not root, a huge page pool configured) it is
// SKIPPED. Tagged no_tsan: fork and fixed addresses in TSan's range.
#include <errno.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "gtest/gtest.h"
#include "mm/kernel.h"
#include "mm/mm.h"
#include "mm/pagewalk.h"
#include "sim/machine.h"
#include "tests/difftest/case.h"

namespace {

constexpr uint64_t P = 4096;
constexpr uint64_t kBase = 0x200000000000;  // above every sanitizer's shadow
constexpr uint64_t kFilePages = 16;
constexpr int kRW = PROT_READ | PROT_WRITE;
constexpr int kAnon = MAP_PRIVATE | MAP_ANONYMOUS;

enum class Op {
  kMmap, kMprotect, kMunmap, kStore, kFork, kDropRawio, kCount, kMadvise, kLoad,
  kMlock, kMunlock, kMlockall, kMunlockall, kResident, kVmLck, kSetMemlock, kDropIpcLock,
};

struct Step {
  Op op;
  uint64_t addr = 0;
  uint64_t len = 0;
  int prot = 0;
  int flags = 0;
  bool file = false;      // kMmap: map the case's file at offset `off`
  uint64_t off = 0;
  bool vvar = false;      // addr is an offset from the start of [vvar]
  bool vvar_len = false;  // len is the length of [vvar]
  bool any_addr = false;  // kMmap: compare only success or the errno
};

Step Mmap(uint64_t a, uint64_t l, int prot, int flags) { return {Op::kMmap, a, l, prot, flags}; }
Step MmapFile(uint64_t a, uint64_t l, int prot, int flags, uint64_t off) {
  Step s{Op::kMmap, a, l, prot, flags};
  s.file = true;
  s.off = off;
  return s;
}
Step Any(Step s) {
  s.any_addr = true;
  return s;
}
Step Mprotect(uint64_t a, uint64_t l, int prot) { return {Op::kMprotect, a, l, prot}; }
Step Munmap(uint64_t a, uint64_t l) { return {Op::kMunmap, a, l}; }
Step Store(uint64_t a) { return {Op::kStore, a}; }
Step Fork() { return {Op::kFork}; }
// Drop CAP_SYS_RAWIO from the permitted and effective sets (capset(2)).
Step DropRawio() { return {Op::kDropRawio}; }
Step Count(uint64_t a, uint64_t l) { return {Op::kCount, a, l}; }
Step Madvise(uint64_t a, uint64_t l, int advice) { return {Op::kMadvise, a, l, advice}; }
Step Load(uint64_t a) { return {Op::kLoad, a}; }  // the byte at a (mapped and readable)
// mlock2 with flags (0: mlock), munlock, mlockall(flags), munlockall.
Step Mlock(uint64_t a, uint64_t l, int flags = 0) { return {Op::kMlock, a, l, flags}; }
Step Munlock(uint64_t a, uint64_t l) { return {Op::kMunlock, a, l}; }
Step Mlockall(int flags) { return {Op::kMlockall, 0, 0, flags}; }
Step Munlockall() { return {Op::kMunlockall}; }
// The pages of [a, a + l) a PTE maps now; the process's VmLck in pages.
Step Resident(uint64_t a, uint64_t l) { return {Op::kResident, a, l}; }
Step VmLck() { return {Op::kVmLck}; }
// setrlimit(RLIMIT_MEMLOCK, {cur, max}); drop CAP_IPC_LOCK like DropRawio.
Step SetMemlock(uint64_t cur, uint64_t max) { return {Op::kSetMemlock, cur, max}; }
Step DropIpcLock() { return {Op::kDropIpcLock}; }
Step Vvar(Step s, bool whole = false) {
  s.vvar = true;
  s.vvar_len = whole;
  return s;
}

struct Result {
  long ret;
  int err;
  bool operator==(const Result& o) const { return ret == o.ret && err == o.err; }
};

std::string Show(const Step& s) {
  static const char* const kNames[] = {"mmap",     "mprotect",   "munmap",   "store",
                                       "fork",     "drop-rawio", "count",    "madvise",
                                       "load",     "mlock",      "munlock",  "mlockall",
                                       "munlockall", "resident", "vmlck",    "set-memlock",
                                       "drop-ipc-lock"};
  return absl::StrFormat("%s%s addr=%#x len=%#x prot=%#x flags=%#x%s", kNames[int(s.op)],
                         s.vvar ? "(vvar)" : "", s.addr, s.len, s.prot, s.flags,
                         s.file ? absl::StrFormat(" file off=%#x", s.off) : "");
}

// ---- the host ----

struct Vma {
  uint64_t start, end;
  std::string name;
};
std::vector<Vma> HostMaps() {
  std::vector<Vma> out;
  std::ifstream in("/proc/self/maps");
  std::string line;
  while (std::getline(in, line)) {
    unsigned long s = 0, e = 0;
    if (sscanf(line.c_str(), "%lx-%lx", &s, &e) != 2) continue;
    size_t sp = line.rfind(' ');
    out.push_back({s, e, sp == std::string::npos ? "" : line.substr(sp + 1)});
  }
  return out;
}

long HostCount(uint64_t lo, uint64_t hi) {
  long n = 0;
  for (const Vma& v : HostMaps())
    if (v.start < hi && v.end > lo) ++n;
  return n;
}

// Present pages of [lo, hi) from /proc/self/pagemap (bit 63 of each entry).
long HostResident(uint64_t lo, uint64_t hi) {
  int pm = open("/proc/self/pagemap", O_RDONLY);
  if (pm < 0) return -2;
  long n = 0;
  for (uint64_t va = lo; va < hi; va += P) {
    uint64_t e = 0;
    if (pread(pm, &e, sizeof(e), static_cast<off_t>(va / P * sizeof(e))) != sizeof(e)) {
      n = -2;
      break;
    }
    if (e >> 63) ++n;
  }
  close(pm);
  return n;
}

// VmLck of /proc/self/status, in pages.
long HostVmLck() {
  std::ifstream in("/proc/self/status");
  std::string line;
  while (std::getline(in, line)) {
    unsigned long kb = 0;
    if (sscanf(line.c_str(), "VmLck: %lu kB", &kb) == 1) return static_cast<long>(kb * 1024 / P);
  }
  return -2;
}

// capset(2) without `cap` in the permitted, effective and inheritable sets.
long HostDropCap(int cap) {
  // <linux/capability.h>'s structs (its macros would clash with mm/sched.h's names).
  struct {
    uint32_t version;
    int pid;
  } h{0x20080522, 0};  // _LINUX_CAPABILITY_VERSION_3
  struct {
    uint32_t effective, permitted, inheritable;
  } d[2];
  long ret = syscall(SYS_capget, &h, d);
  if (ret == 0) {
    d[0].effective &= ~(1u << cap);
    d[0].permitted &= ~(1u << cap);
    d[0].inheritable &= ~(1u << cap);
    ret = syscall(SYS_capset, &h, d);
  }
  return ret;
}

void HostRunSteps(const std::vector<Step>& steps, int fd, int out) {
  uint64_t vvar = 0, vvar_len = 0;
  for (const Vma& v : HostMaps())
    if (v.name == "[vvar]") vvar = v.start, vvar_len = v.end - v.start;
  for (const Step& s : steps) {
    uint64_t a = s.addr + (s.vvar ? vvar : 0);
    uint64_t l = s.vvar_len ? vvar_len : s.len;
    Result r{0, 0};
    long ret = 0;
    switch (s.op) {
      case Op::kMmap: {
        void* p = mmap(reinterpret_cast<void*>(a), l, s.prot, s.flags, s.file ? fd : -1,
                       static_cast<off_t>(s.off));
        ret = p == MAP_FAILED ? -1 : static_cast<long>(reinterpret_cast<uintptr_t>(p));
        break;
      }
      case Op::kMprotect:
        ret = mprotect(reinterpret_cast<void*>(a), l, s.prot);
        break;
      case Op::kMunmap:
        ret = munmap(reinterpret_cast<void*>(a), l);
        break;
      case Op::kStore:
        *reinterpret_cast<volatile uint8_t*>(a) = 1;
        break;
      case Op::kFork: {
        pid_t c = fork();
        if (c < 0) ret = -1;
        if (c > 0) {  // the child goes on; this process waits for it and leaves
          int st;
          waitpid(c, &st, 0);
          _exit(0);
        }
        break;
      }
      case Op::kDropRawio:
        ret = HostDropCap(kernel::CAP_SYS_RAWIO);
        break;
      case Op::kDropIpcLock:
        ret = HostDropCap(kernel::CAP_IPC_LOCK);
        break;
      // The raw system calls: the sanitizers' interceptors make mlock, munlock,
      // mlockall and munlockall no-ops that return 0.
      case Op::kMlock:
        ret = s.prot ? syscall(SYS_mlock2, a, l, s.prot) : syscall(SYS_mlock, a, l);
        break;
      case Op::kMunlock:
        ret = syscall(SYS_munlock, a, l);
        break;
      case Op::kMlockall:
        ret = syscall(SYS_mlockall, s.prot);
        break;
      case Op::kMunlockall:
        ret = syscall(SYS_munlockall);
        break;
      case Op::kResident:
        ret = HostResident(a, a + l);
        break;
      case Op::kVmLck:
        ret = HostVmLck();
        break;
      case Op::kSetMemlock: {
        struct rlimit lim = {s.addr, s.len};
        ret = setrlimit(RLIMIT_MEMLOCK, &lim);
        break;
      }
      case Op::kCount:
        ret = HostCount(a, a + l);
        break;
      case Op::kMadvise:
        ret = madvise(reinterpret_cast<void*>(a), l, s.prot);
        break;
      case Op::kLoad:
        ret = *reinterpret_cast<volatile uint8_t*>(a);
        break;
    }
    if (ret == -1 && s.op != Op::kCount && s.op != Op::kLoad && s.op != Op::kResident &&
        s.op != Op::kVmLck) {
      r = {-1, errno};
    } else {
      r = {ret, 0};
    }
    if (s.op == Op::kMmap && s.any_addr && r.ret != -1) r.ret = 0;
    if (write(out, &r, sizeof(r)) != sizeof(r)) _exit(3);
  }
}

std::vector<Result> HostRun(const std::vector<Step>& steps) {
  std::string path = absl::StrCat(getenv("TEST_TMPDIR") ? getenv("TEST_TMPDIR") : "/tmp",
                                  "/vma_diff_XXXXXX");
  int fd = mkstemp(path.data());
  if (fd < 0 || ftruncate(fd, kFilePages * P) != 0) return {};
  unlink(path.c_str());
  int pipefd[2];
  if (pipe(pipefd) != 0) return {};
  pid_t c = fork();
  if (c == 0) {
    close(pipefd[0]);
    HostRunSteps(steps, fd, pipefd[1]);
    _exit(0);
  }
  close(pipefd[1]);
  std::vector<Result> out;
  Result r;
  while (read(pipefd[0], &r, sizeof(r)) == sizeof(r)) out.push_back(r);
  close(pipefd[0]);
  close(fd);
  int st;
  waitpid(c, &st, 0);
  return out;
}

// ---- the simulator ----

long SimCount(sim::Machine& m, int pid, uint64_t lo, uint64_t hi) {
  long n = 0;
  for (const auto& [start, vma] : m.FindTask(pid)->mm->mm_mt)
    if (vma->vm_start < hi && vma->vm_end > lo) ++n;
  return n;
}

std::vector<Result> SimRun(const std::vector<Step>& steps, std::string* error) {
  sim::MachineConfig config;
  difftest::UseHostCpu(&config);  // the host's CPU features
  auto made = sim::Machine::Create(config);
  if (!made.ok()) {
    *error = made.status().ToString();
    return {};
  }
  sim::Machine& m = **made;
  // vm.mmap_min_addr as on the host.
  absl::Status set = m.SetSysctl("vm.mmap_min_addr", static_cast<long>(difftest::HostMmapMinAddr()));
  if (!set.ok()) {
    *error = set.ToString();
    return {};
  }
  auto pid_or = m.CreateProcess("vma", sim::ProcessCreds{});
  auto fd_or = m.CreateFile("f", kFilePages * P, {});
  if (!pid_or.ok() || !fd_or.ok()) {
    *error = "CreateProcess/CreateFile";
    return {};
  }
  int pid = *pid_or;
  uint64_t vvar = 0, vvar_len = 0;
  bool uses_vvar = false;
  for (const Step& s : steps) uses_vvar |= s.vvar;
  if (uses_vvar) {
    sim::SysResult v = m.MapVvar(pid, 0);
    if (v.ret == -1) {
      *error = "MapVvar";
      return {};
    }
    vvar = static_cast<uint64_t>(v.ret);
    const kernel::vm_area_struct* vma = kernel::vma_lookup(m.FindTask(pid)->mm, vvar);
    vvar_len = vma->vm_end - vma->vm_start;
  }
  std::vector<Result> out;
  for (const Step& s : steps) {
    uint64_t a = s.addr + (s.vvar ? vvar : 0);
    uint64_t l = s.vvar_len ? vvar_len : s.len;
    sim::SysResult r{0, 0};
    switch (s.op) {
      case Op::kMmap:
        r = m.Mmap(pid, a, l, s.prot, s.flags, s.file ? *fd_or : -1, s.off);
        break;
      case Op::kMprotect:
        r = m.Mprotect(pid, a, l, s.prot);
        break;
      case Op::kMunmap:
        r = m.Munmap(pid, a, l);
        break;
      case Op::kStore: {
        const uint8_t one = 1;
        if (!m.Store(pid, a, {&one, 1}).ok) r = {-1, EFAULT};
        break;
      }
      case Op::kFork:
        r = m.Fork(pid);
        if (r.ret > 0) pid = static_cast<int>(r.ret), r.ret = 0;
        break;
      case Op::kDropRawio:
        r = m.CapSet(pid, kernel::CAP_FULL_SET.val & ~(1ULL << kernel::CAP_SYS_RAWIO));
        break;
      case Op::kDropIpcLock:
        r = m.CapSet(pid, kernel::CAP_FULL_SET.val & ~(1ULL << kernel::CAP_IPC_LOCK));
        break;
      case Op::kMlock:
        r = m.Mlock(pid, a, l, s.prot);
        break;
      case Op::kMunlock:
        r = m.Munlock(pid, a, l);
        break;
      case Op::kMlockall:
        r = m.Mlockall(pid, s.prot);
        break;
      case Op::kMunlockall:
        r = m.Munlockall(pid);
        break;
      case Op::kResident: {
        kernel::mm_struct* mm = m.FindTask(pid)->mm;
        long n = m.Inspect([&](const kernel::kernel_state&) {
          long present = 0;
          for (uint64_t va = a; va < a + l; va += P) {
            kernel::pte_t* pte = kernel::mm_find_pte(mm, va);
            if (pte != nullptr && kernel::pte_present(*pte)) ++present;
          }
          return present;
        });
        r = {n, 0};
        break;
      }
      case Op::kVmLck:
        r = {static_cast<long>(m.FindTask(pid)->mm->locked_vm), 0};
        break;
      case Op::kSetMemlock:
        r = m.Setrlimit(pid, RLIMIT_MEMLOCK, s.addr, s.len);
        break;
      case Op::kCount:
        r = {SimCount(m, pid, a, a + l), 0};
        break;
      case Op::kMadvise:
        r = m.Madvise(pid, a, l, s.prot);
        break;
      case Op::kLoad: {
        sim::UserAccess u = m.Load(pid, a, 1);
        r = u.ok ? sim::SysResult{u.bytes.at(0), 0} : sim::SysResult{-1, EFAULT};
        break;
      }
    }
    if (s.op == Op::kMmap && s.any_addr && r.ret != -1) r.ret = 0;
    out.push_back({r.ret, r.err});
  }
  std::string report;
  if (m.DebugVmCheck(&report) != 0) *error = "debug_vm: " + report;
  return out;
}

void RunCase(const std::vector<Step>& steps) {
  if (geteuid() != 0) GTEST_SKIP() << "the host cases need root (CAP_SYS_RAWIO)";
  std::string error;
  std::vector<Result> sim = SimRun(steps, &error);
  ASSERT_EQ(error, "");
  std::vector<Result> host = HostRun(steps);
  ASSERT_EQ(host.size(), steps.size()) << "the host child stopped early";
  ASSERT_EQ(sim.size(), steps.size());
  for (size_t i = 0; i < steps.size(); ++i)
    EXPECT_TRUE(sim[i] == host[i]) << "step " << i << ": " << Show(steps[i]) << "\n  host "
                                   << host[i].ret << " errno " << strerror(host[i].err)
                                   << "\n  sim  " << sim[i].ret << " errno "
                                   << strerror(sim[i].err);
}

// cap_mmap_addr: root (CAP_SYS_RAWIO) maps below vm.mmap_min_addr; without
// CAP_SYS_RAWIO page 0 (below the host's 4096) is refused; a hint is raised to
// CONFIG_LSM_MMAP_MIN_ADDR (65536) even though the sysctl is lower.
TEST(VmaDiffTest, MmapMinAddr) {
  RunCase({Mmap(0x1000, P, kRW, kAnon | MAP_FIXED), Count(0, 0x10000),
           Mmap(0x3000, P, kRW, kAnon | MAP_FIXED), Munmap(0x1000, P), Munmap(0x3000, P),
           Mmap(0x3000, P, PROT_READ, kAnon), Munmap(0x10000, P),
           DropRawio(), Mmap(0, P, kRW, kAnon | MAP_FIXED),
           Mmap(0x1000, P, kRW, kAnon | MAP_FIXED),
           Mmap(0x10000, P, kRW, kAnon | MAP_FIXED), Munmap(0x10000, P)});
}

// mprotect: PROT_SEM is accepted, unknown bits are not; a hole gives ENOMEM after the
// VMAs before it were changed.
TEST(VmaDiffTest, MprotectBitsAndHoles) {
  const uint64_t x = kBase;
  RunCase({Mmap(x, 3 * P, kRW, kAnon | MAP_FIXED), Mprotect(x, P, PROT_READ | PROT_SEM),
           Mprotect(x, P, PROT_READ | 0x10), Mprotect(x, P, kRW), Munmap(x + P, P),
           Mprotect(x, 3 * P, PROT_READ), Count(x, 3 * P), Mprotect(x + P, 2 * P, PROT_WRITE),
           Mprotect(x + 2 * P, 2 * P, PROT_READ), Mprotect(x, P, kRW),
           Mmap(x + P, P, PROT_READ, kAnon | MAP_FIXED), Count(x, 3 * P),
           Mprotect(x + 3 * P, P, PROT_READ)});
}

// mprotect_fixup gives VM_ACCOUNT back on never-faulted anonymous memory, so it merges
// with a read-only neighbour; a faulted one keeps it and does not.
TEST(VmaDiffTest, MprotectAccountAndMerge) {
  const uint64_t x = kBase, y = kBase + 0x100000;
  RunCase({Mmap(x, 2 * P, kRW, kAnon | MAP_FIXED), Mmap(x + 2 * P, P, PROT_READ, kAnon | MAP_FIXED),
           Mprotect(x, 2 * P, PROT_READ), Count(x, 3 * P), Mmap(y, 2 * P, kRW, kAnon | MAP_FIXED),
           Store(y), Mmap(y + 2 * P, P, PROT_READ, kAnon | MAP_FIXED),
           Mprotect(y, 2 * P, PROT_READ),
           Count(y, 3 * P)});
}

// anon_vma chains: after fork, the child's new mapping next to an inherited, faulted
// VMA stays apart (vma_had_uncowed_parents); next to an unfaulted one it merges; the
// parent's own faulted VMAs still merge.
TEST(VmaDiffTest, AnonMergeAfterFork) {
  const uint64_t e = kBase + 0x10000, f = kBase + 0x100000, g = kBase + 0x200000;
  RunCase({Mmap(e, P, kRW, kAnon | MAP_FIXED), Store(e), Mmap(f, P, kRW, kAnon | MAP_FIXED),
           Mmap(g, P, kRW, kAnon | MAP_FIXED), Store(g), Mmap(g + P, P, kRW, kAnon | MAP_FIXED),
           Count(g, 2 * P), Store(g + P), Fork(), Mmap(e + P, P, kRW, kAnon | MAP_FIXED),
           Count(e, 2 * P), Store(e + P), Count(e, 2 * P), Mmap(f + P, P, kRW, kAnon | MAP_FIXED),
           Count(f, 2 * P), Mmap(e - P, P, kRW, kAnon | MAP_FIXED), Count(e - P, 2 * P),
           Mprotect(e, P, PROT_READ), Mprotect(e, P, kRW), Count(e - P, 3 * P), Store(e),
           Mprotect(g + P, P, PROT_READ), Mprotect(g + P, P, kRW), Count(g, 2 * P)});
}

// File VMAs merge: same file, contiguous offsets, same flags (shared or private); a
// split shmem or file mapping merges back when the protection is restored.
TEST(VmaDiffTest, FileMerge) {
  const uint64_t x = kBase, y = kBase + 0x100000, z = kBase + 0x200000, w = kBase + 0x300000;
  RunCase({MmapFile(x, P, kRW, MAP_SHARED | MAP_FIXED, 0),
           MmapFile(x + P, P, kRW, MAP_SHARED | MAP_FIXED, P), Count(x, 2 * P),
           MmapFile(x + 2 * P, P, kRW, MAP_SHARED | MAP_FIXED, 5 * P), Count(x, 3 * P),
           MmapFile(x + 3 * P, P, PROT_READ, MAP_SHARED | MAP_FIXED, 6 * P), Count(x, 4 * P),
           MmapFile(y, P, kRW, MAP_PRIVATE | MAP_FIXED, 0),
           MmapFile(y + P, P, kRW, MAP_PRIVATE | MAP_FIXED, P), Count(y, 2 * P),
           MmapFile(z, 3 * P, kRW, MAP_SHARED | MAP_FIXED, 0), Mprotect(z + P, P, PROT_READ),
           Count(z, 3 * P), Mprotect(z + P, P, kRW), Count(z, 3 * P),
           Mmap(w, 2 * P, kRW, MAP_SHARED | MAP_ANONYMOUS | MAP_FIXED),
           Mprotect(w + P, P, PROT_READ), Count(w, 2 * P), Mprotect(w + P, P, kRW),
           Count(w, 2 * P), Mmap(w + 2 * P, P, kRW, MAP_SHARED | MAP_ANONYMOUS | MAP_FIXED),
           Count(w, 3 * P)});
}

// madvise's fork advice: MADV_WIPEONFORK (private anonymous only) gives the child zeros
// there, MADV_DONTFORK leaves the range out of the child; both split the VMA and
// merge back when undone; a hole is ENOMEM after the rest got the advice.
TEST(VmaDiffTest, MadviseForkAdvice) {
  const uint64_t x = kBase, y = kBase + 0x100000, z = kBase + 0x200000, s = kBase + 0x300000;
  RunCase({Mmap(x, 3 * P, kRW, kAnon | MAP_FIXED), Store(x), Store(x + P), Store(x + 2 * P),
           Madvise(x + P, P, MADV_WIPEONFORK), Count(x, 3 * P),
           Madvise(x + 3 * P, P, MADV_WIPEONFORK),
           Mmap(y, 2 * P, kRW, kAnon | MAP_FIXED), Store(y), Madvise(y, P, MADV_DONTFORK),
           Count(y, 2 * P), Mmap(s, P, kRW, MAP_SHARED | MAP_ANONYMOUS | MAP_FIXED),
           Madvise(s, P, MADV_WIPEONFORK), Madvise(s, P, MADV_DONTFORK), Madvise(s, P, MADV_DOFORK),
           MmapFile(z, P, kRW, MAP_PRIVATE | MAP_FIXED, 0), Madvise(z, P, MADV_WIPEONFORK),
           Madvise(x, 3 * P, 12345), Madvise(x + 1, P, MADV_DOFORK), Madvise(x, 0, MADV_DOFORK),
           Munmap(y + P, P), Madvise(y, 3 * P, MADV_DOFORK), Count(y, P),
           Madvise(y, P, MADV_DONTFORK), Fork(), Load(x), Load(x + P), Load(x + 2 * P),
           Count(x, 3 * P), Count(y, P), Madvise(x + P, P, MADV_KEEPONFORK), Count(x, 3 * P)});
}

// [vvar] cannot be split: munmap, mprotect or MAP_FIXED over a part of it is EINVAL.
TEST(VmaDiffTest, SpecialMappingSplit) {
  RunCase({Vvar(Mprotect(0, P, PROT_READ)), Vvar(Mprotect(0, P, PROT_NONE)),
           Vvar(Munmap(0, P)), Vvar(Munmap(P, P)), Vvar(Mmap(P, P, kRW, kAnon | MAP_FIXED)),
           Vvar(Count(0, P), true), Vvar(Mprotect(0, 0, PROT_NONE), true)});
}

// MAP_SHARED_VALIDATE's flag check and MAP_HUGETLB with no huge pages.
TEST(VmaDiffTest, MapFlags) {
  std::ifstream a("/proc/sys/vm/nr_hugepages"), b("/proc/sys/vm/nr_overcommit_hugepages");
  long nr = -1, over = -1;
  a >> nr;
  b >> over;
  if (nr != 0 || over != 0) GTEST_SKIP() << "the host has a huge page pool";
  const uint64_t x = kBase + 0x40000000;  // 2 MiB aligned
  const int huge = kAnon | MAP_HUGETLB;
  RunCase({Mmap(0, P, kRW, MAP_SHARED_VALIDATE | MAP_ANONYMOUS),
           Mmap(0, P, kRW, MAP_SHARED_VALIDATE | MAP_ANONYMOUS | 0x400000),
           Any(Mmap(0, P, kRW, MAP_SHARED | MAP_ANONYMOUS | 0x400000)),
           Any(MmapFile(0, P, kRW, MAP_SHARED_VALIDATE, 0)),
           MmapFile(0, P, kRW, MAP_SHARED_VALIDATE | 0x400000, 0),
           MmapFile(0, P, kRW, MAP_SHARED_VALIDATE | MAP_SYNC, 0),
           MmapFile(x, P, kRW, MAP_SHARED_VALIDATE | MAP_FIXED_NOREPLACE, 0),
           Any(MmapFile(0, P, kRW, MAP_SHARED | 0x400000, 0)),
           MmapFile(0, P, kRW, MAP_SHARED | MAP_HUGETLB, 0), Mmap(0, 2 << 20, kRW, huge),
           Mmap(0, P, kRW, huge), Mmap(0, 2 << 20, kRW, MAP_SHARED | MAP_ANONYMOUS | MAP_HUGETLB),
           Mmap(0, 2 << 20, kRW, MAP_SHARED_VALIDATE | MAP_ANONYMOUS | MAP_HUGETLB),
           Mmap(0, 2 << 20, PROT_NONE, huge), Mmap(0, 1 << 30, kRW, huge | (30 << MAP_HUGE_SHIFT)),
           Mmap(0, 2 << 20, kRW, huge | (21 << MAP_HUGE_SHIFT)),
           Mmap(0, 2 << 20, kRW, huge | (16 << MAP_HUGE_SHIFT)), Mmap(0, 0, kRW, huge),
           Mmap(x + P, 2 << 20, kRW, huge | MAP_FIXED), Mmap(x, 2 << 20, kRW, huge | MAP_FIXED),
           Mmap(0, 2 << 20, kRW, MAP_ANONYMOUS | MAP_HUGETLB), Count(x, 2 << 20)});
}

// madvise's page advice on private anonymous memory: DONTNEED zero-fills, FREE keeps the
// data until reclaim (none here) and a write keeps it for good, COLD changes nothing
// visible, PAGEOUT leaves anonymous memory resident without swap (this host has none);
// the argument rules (unaligned, unknown advice, overflow, len 0) and holes (ENOMEM after
// the rest got the advice); FREE is for anonymous private memory only.
TEST(VmaDiffTest, MadvisePageAdvice) {
  const uint64_t x = kBase, y = kBase + 0x100000, z = kBase + 0x200000;
  RunCase({Mmap(x, 4 * P, kRW, kAnon | MAP_FIXED), Store(x), Store(x + P), Store(x + 2 * P),
           Store(x + 3 * P), Resident(x, 4 * P), Madvise(x, P, MADV_DONTNEED),
           Resident(x, 4 * P), Load(x), Load(x + P), Madvise(x + P, P, MADV_FREE),
           Resident(x + P, P), Load(x + P), Store(x + P), Load(x + P),
           Madvise(x + 2 * P, P, MADV_COLD), Resident(x + 2 * P, P), Load(x + 2 * P),
           Madvise(x + 2 * P, 2 * P, MADV_PAGEOUT), Resident(x + 2 * P, 2 * P),
           Load(x + 3 * P), Madvise(x + 1, P, MADV_DONTNEED), Madvise(x, P, 12345),
           Madvise(x, P, MADV_HWPOISON + 1), Madvise(x, 0, MADV_DONTNEED),
           Madvise(x, ~uint64_t{0} - 10, MADV_DONTNEED), Madvise(x, 0 - x, MADV_DONTNEED),
           Madvise(x, 0 - x, MADV_COLD), Munmap(x + P, P), Madvise(x, 3 * P, MADV_DONTNEED),
           Resident(x, 4 * P), Madvise(y, P, MADV_DONTNEED), Madvise(y, P, MADV_WILLNEED),
           MmapFile(y, 2 * P, kRW, MAP_PRIVATE | MAP_FIXED, 0), Madvise(y, 2 * P, MADV_FREE),
           Madvise(y, 2 * P, MADV_COLD), Madvise(y, 2 * P, MADV_PAGEOUT),
           Madvise(y, 2 * P, MADV_WILLNEED), Load(y), Store(y + P), Load(y + P),
           Madvise(y, 2 * P, MADV_DONTNEED), Load(y + P),
           Mmap(z, P, kRW, MAP_SHARED | MAP_ANONYMOUS | MAP_FIXED), Madvise(z, P, MADV_FREE),
           Store(z), Madvise(z, P, MADV_COLD), Load(z), Count(x, 4 * P)});
}

// The flag advice (NORMAL/RANDOM/SEQUENTIAL, DONTDUMP/DODUMP, MERGEABLE/UNMERGEABLE) on
// private anonymous memory: 0, and the VMA splits and merges back (Count); on shared
// memory MERGEABLE is ignored. MADV_POPULATE_READ/WRITE: what they map (Resident: the
// zero page counts), EINVAL on read-only (WRITE) and PROT_NONE memory, ENOMEM at a hole
// (the pages before it stay mapped), EFAULT past the end of a file (16 pages, mapped 20).
TEST(VmaDiffTest, MadviseFlagAndPopulateAdvice) {
  const uint64_t x = kBase, y = kBase + 0x100000, z = kBase + 0x200000, w = kBase + 0x300000;
  RunCase({Mmap(x, 4 * P, kRW, kAnon | MAP_FIXED), Madvise(x, P, MADV_RANDOM), Count(x, 4 * P),
           Madvise(x + P, P, MADV_SEQUENTIAL), Count(x, 4 * P), Madvise(x, 4 * P, MADV_NORMAL),
           Count(x, 4 * P), Madvise(x + 2 * P, P, MADV_DONTDUMP), Count(x, 4 * P),
           Madvise(x, 4 * P, MADV_DODUMP), Count(x, 4 * P), Madvise(x + P, P, MADV_MERGEABLE),
           Count(x, 4 * P), Madvise(x, 4 * P, MADV_UNMERGEABLE), Count(x, 4 * P),
           Resident(x, 4 * P), Madvise(x, 2 * P, MADV_POPULATE_READ), Resident(x, 4 * P),
           Madvise(x + P, 3 * P, MADV_POPULATE_WRITE), Resident(x, 4 * P), Load(x + 3 * P),
           Madvise(x + 1, P, MADV_POPULATE_READ), Madvise(x, 0, MADV_POPULATE_WRITE),
           Mmap(y, 2 * P, PROT_READ, kAnon | MAP_FIXED), Madvise(y, 2 * P, MADV_POPULATE_WRITE),
           Resident(y, 2 * P), Madvise(y, 2 * P, MADV_POPULATE_READ), Resident(y, 2 * P),
           Mprotect(y + P, P, PROT_NONE), Madvise(y, 2 * P, MADV_POPULATE_READ),
           Madvise(y + P, P, MADV_POPULATE_WRITE),
           Mmap(z, 4 * P, kRW, MAP_SHARED | MAP_ANONYMOUS | MAP_FIXED),
           Madvise(z, 4 * P, MADV_MERGEABLE), Count(z, 4 * P), Madvise(z, 4 * P, MADV_POPULATE_WRITE),
           Resident(z, 4 * P), Munmap(x + 2 * P, P), Madvise(x, 4 * P, MADV_DONTNEED),
           Resident(x, 4 * P), Madvise(x, 4 * P, MADV_POPULATE_READ), Resident(x, 4 * P),
           MmapFile(w, 20 * P, PROT_READ, MAP_PRIVATE | MAP_FIXED, 0),
           Madvise(w, 16 * P, MADV_POPULATE_READ), Resident(w, 20 * P),
           Madvise(w, 20 * P, MADV_POPULATE_READ), Madvise(w, 20 * P, MADV_POPULATE_WRITE)});
}

// MADV_PAGEOUT on clean page cache a process maps: the pages are unmapped and dropped
// (the process's Rss falls).
TEST(VmaDiffTest, MadvisePageoutFileDropsRss) {
  const uint64_t x = kBase;
  // Every page is touched first: how many a single fault maps (fault-around over what
  // readahead brought in) differs between the two and is not the point here.
  RunCase({MmapFile(x, 4 * P, PROT_READ, MAP_SHARED | MAP_FIXED, 0), Load(x), Load(x + P),
           Load(x + 2 * P), Load(x + 3 * P), Resident(x, 4 * P), Madvise(x, 4 * P, MADV_PAGEOUT),
           Resident(x, 4 * P), Load(x)});
}

// mlock, mlock2 and munlock: populate, VmLck, the VMA split and merge, unaligned ranges,
// holes (ENOMEM, after locking what precedes the hole), a length of ~0 (0 after rounding:
// nothing to do), PROT_NONE (locked but
// ENOMEM: it cannot be faulted in), MLOCK_ONFAULT (nothing populated, faults locked),
// locked memory refusing DONTNEED/FREE/COLD/PAGEOUT; mlockall's flag rules and
// MCL_FUTURE populating a new mapping.
TEST(VmaDiffTest, MlockMunlockMlockall) {
  const uint64_t x = kBase, z = kBase + 0x100000, w = kBase + 0x200000, v = kBase + 0x300000;
  RunCase({Mmap(x, 4 * P, kRW, kAnon | MAP_FIXED), Mlock(x + P, 2 * P), VmLck(),
           Resident(x, 4 * P), Count(x, 4 * P), Mlock(x, 4 * P), VmLck(), Count(x, 4 * P),
           Munlock(x + P, P), VmLck(), Count(x, 4 * P), Munlock(x, 4 * P), VmLck(),
           Count(x, 4 * P), Mlock(x + 100, P), VmLck(), Munlock(x, 4 * P),
           Madvise(x, P, MADV_DONTNEED), Mlock(x, P), Madvise(x, P, MADV_DONTNEED),
           Madvise(x, P, MADV_FREE), Madvise(x, P, MADV_COLD), Madvise(x, P, MADV_PAGEOUT),
           Madvise(x, P, MADV_WILLNEED), Resident(x, P), Munlock(x, P),
           Munmap(x + 2 * P, P), Mlock(x, 4 * P), VmLck(), Munlock(x, 4 * P), VmLck(),
           Mlock(x, 0), Mlock(x, ~uint64_t{0}), Mlock(x, P, 2), Mmap(z, 2 * P, kRW, kAnon | MAP_FIXED),
           Mlock(z, 2 * P, MLOCK_ONFAULT), Resident(z, 2 * P), VmLck(), Store(z),
           Resident(z, 2 * P), Mlock(z, 2 * P), Resident(z, 2 * P), VmLck(), Munlock(z, 2 * P),
           Mmap(w, P, PROT_NONE, kAnon | MAP_FIXED), Mlock(w, P), VmLck(), Munlock(w, P),
           Mmap(w, P, kRW, kAnon | MAP_FIXED | MAP_LOCKED), VmLck(), Resident(w, P),
           Munmap(w, P), VmLck(), Mlockall(0), Mlockall(MCL_ONFAULT), Mlockall(8),
           Mlockall(MCL_FUTURE), Mmap(v, 2 * P, kRW, kAnon | MAP_FIXED), Resident(v, 2 * P),
           Munlockall(), VmLck(), Mlockall(MCL_FUTURE | MCL_ONFAULT),
           Mmap(v, 2 * P, kRW, kAnon | MAP_FIXED), Resident(v, 2 * P), Munlockall(), VmLck()});
}

// RLIMIT_MEMLOCK without CAP_IPC_LOCK: mlock beyond the limit is ENOMEM (a range already
// locked is not counted twice; a length that wraps is too big before it is invalid),
// MAP_LOCKED beyond it EAGAIN, mlockall(MCL_CURRENT) ENOMEM when the whole address space
// exceeds it; a zero limit is EPERM for all three. (The limit is only lowered: the host
// may lack CAP_SYS_RESOURCE.)
TEST(VmaDiffTest, MlockRlimitMemlock) {
  const uint64_t x = kBase, y = kBase + 0x100000;
  RunCase({SetMemlock(2 * P, 2 * P), DropIpcLock(), Mmap(x, 4 * P, kRW, kAnon | MAP_FIXED),
           Mlock(x, 3 * P), VmLck(), Mlock(x, 0 - x), Mlock(x, 2 * P), Mlock(x + P, 2 * P), Mlock(x, 2 * P),
           VmLck(), Mmap(y, P, kRW, kAnon | MAP_FIXED | MAP_LOCKED), Mlockall(MCL_CURRENT),
           Mlockall(MCL_FUTURE), Munlockall(), VmLck(), SetMemlock(0, 0), Mlock(x, P),
           Mlockall(MCL_CURRENT), Mmap(y, P, kRW, kAnon | MAP_FIXED | MAP_LOCKED),
           Munlock(x, P), SetMemlock(P, 0), Mlock(x, P), VmLck(), Munlock(x, 4 * P),
           Munlock(x, 0 - x)});
}

}  // namespace
