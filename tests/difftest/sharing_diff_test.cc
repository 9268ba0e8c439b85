// tests/difftest/sharing_diff_test.cc: process_vm_readv/writev against targets whose
// memory is shared, the simulator against the host kernel.
//
// differential_test covers private anonymous targets. Here the target's one region is
//   - kCow:        private anonymous memory of a process P that forked: the target is the
//                  child C (or P itself), and both share the pages copy-on-write;
//   - kSharedAnon: MAP_SHARED|MAP_ANONYMOUS memory of P, shared with its forked child C;
//   - kFile:       a file mapping (MAP_SHARED or MAP_PRIVATE, read-write or read-only,
//                  of a file opened read-write or read-only) whose file may end before
//                  the mapping does (pages wholly past end-of-file SIGBUS / EFAULT); with
//                  `fork`, P maps it and the target is C.
// Before the call, "pre-writes" by P or C break COW on some pages (or, for shared memory,
// show on both sides). On the host, P and C are real processes (P forks C) and the file is
// a real temporary file with the same contents; in the simulator they are a sim::Machine's
// processes (Machine::Fork) and a simfs file (Machine::CreateFile).
//
// The outcome compared: the return value and errno; the caller's local bytes; the bytes
// of the region as P and as C see them (read back with process_vm_readv, only the part
// that can be read: the pages up to end-of-file); and the file's contents (read(2) /
// Machine::ReadFile). A write into a COW-shared page must change only the target's copy,
// a shared mapping's write must show on both sides and in the file, a private one must
// not reach the file. In the simulator, debug_vm must stay clean and every pin released.
//
// Cases come from seeds (DIFFTEST_SHARE_CASES, default 300). Host runs are SKIPPED where
// the host refuses process_vm_readv (EPERM/ENOSYS). Tagged no_tsan: fork and fixed
// addresses in TSan's range.
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "gtest/gtest.h"
#include "hw/splitmix64.h"
#include "mm/kernel.h"
#include "mm/mm.h"
#include "sim/machine.h"
#include "tests/difftest/case.h"
#include "tests/difftest/fork_target.h"

namespace difftest {
namespace {

constexpr uint64_t kRegion = kRemoteBase;       // the target's region
constexpr uint64_t kLocal = kLocalBase;         // the caller's buffer for the call
constexpr uint64_t kReadback = kLocalBase + (uint64_t{1} << 30);  // the caller's readback buffer
constexpr uint64_t kMaxPages = 8;
constexpr uint8_t kLocalFill = 0xee;

struct PreWrite {
  bool by_child;
  uint64_t page;
  uint8_t byte;
};

struct ShareCase {
  enum class Kind { kCow, kSharedAnon, kFile } kind = Kind::kCow;
  bool fork = true;            // P forks C (always for kCow and kSharedAnon)
  bool target_child = true;    // the call's pid: C, or P
  bool write = false;          // process_vm_writev, else readv
  bool shared = false;         // kFile: MAP_SHARED, else MAP_PRIVATE
  bool file_readonly = false;  // kFile: opened O_RDONLY
  int prot = PROT_READ | PROT_WRITE;
  uint64_t pages = 1;          // the mapping's length in pages
  uint64_t file_size = 0;      // kFile: the file's length in bytes
  std::vector<PreWrite> pre;
  std::vector<Iov> remote;     // absolute addresses
  uint64_t local_len = 0;
};

struct ShareOutcome {
  int64_t ret = 0;
  int err = 0;
  std::vector<uint8_t> local, parent, child, file;
  bool operator==(const ShareOutcome&) const = default;
};

std::string KindName(ShareCase::Kind k) {
  switch (k) {
    case ShareCase::Kind::kCow: return "cow";
    case ShareCase::Kind::kSharedAnon: return "shared-anon";
    case ShareCase::Kind::kFile: return "file";
  }
  return "?";
}

std::string Describe(const ShareCase& c) {
  std::vector<std::string> pre;
  for (const PreWrite& w : c.pre)
    pre.push_back(absl::StrFormat("%s page %d = %#x", w.by_child ? "C" : "P", w.page, w.byte));
  std::vector<std::string> rem;
  for (const Iov& v : c.remote) rem.push_back(absl::StrFormat("[%#x:%#x]", v.base, v.len));
  return absl::StrFormat(
      "%s%s%s%s %s %d pages prot=%d file_size=%#x target=%s local=%#x remote=%s pre={%s}",
      KindName(c.kind), c.kind == ShareCase::Kind::kFile ? (c.shared ? " shared" : " private") : "",
      c.file_readonly ? " O_RDONLY" : "", c.fork ? " forked" : "", c.write ? "writev" : "readv",
      c.pages, c.prot, c.file_size, c.target_child ? "C" : "P", c.local_len,
      absl::StrJoin(rem, ","), absl::StrJoin(pre, "; "));
}

std::string Show(const ShareOutcome& o) {
  auto sum = [](const std::vector<uint8_t>& v) {
    uint64_t h = 1469598103934665603ull;
    for (uint8_t b : v) h = (h ^ b) * 1099511628211ull;
    return absl::StrFormat("%d bytes #%016x", v.size(), h);
  };
  return absl::StrFormat("ret=%d err=%d local=%s parent=%s child=%s file=%s", o.ret, o.err,
                         sum(o.local), sum(o.parent), sum(o.child), sum(o.file));
}

// The file's byte at offset i: the remote pattern of the address it is mapped at.
uint8_t FileByte(uint64_t i) { return PatternByte(Side::kRemote, kRegion + i); }

// How much of the region can be read back: everything, or for a file the pages up to
// the one holding end-of-file.
uint64_t Readable(const ShareCase& c) {
  uint64_t len = c.pages * kPageSize;
  if (c.kind == ShareCase::Kind::kFile)
    len = std::min(len, (c.file_size + kPageSize - 1) / kPageSize * kPageSize);
  if (!(c.prot & PROT_READ)) len = 0;
  return len;
}

bool PageBelowEof(const ShareCase& c, uint64_t page) {
  return c.kind != ShareCase::Kind::kFile || page * kPageSize < c.file_size;
}

// ---- the generator (hw::SplitMix64) ----
class Rng {
 public:
  explicit Rng(uint64_t seed) : s_(seed * 0x9e3779b97f4a7c15ull + 0x5eed) {}
  uint64_t Next() { return s_.Next(); }
  uint64_t Below(uint64_t n) { return Next() % n; }
  bool Chance(int percent) { return Below(100) < static_cast<uint64_t>(percent); }

 private:
  hw::SplitMix64 s_;
};

ShareCase Generate(uint64_t seed) {
  Rng r(seed);
  ShareCase c;
  c.kind = static_cast<ShareCase::Kind>(r.Below(3));
  c.write = r.Chance(50);
  c.pages = 1 + r.Below(kMaxPages);
  c.fork = c.kind != ShareCase::Kind::kFile || r.Chance(40);
  c.target_child = c.fork && r.Chance(75);
  if (c.kind == ShareCase::Kind::kFile) {
    c.shared = r.Chance(50);
    c.file_readonly = r.Chance(25);
    // The file ends anywhere from inside the first page to past the mapping's end.
    c.file_size = 1 + r.Below((c.pages + 1) * kPageSize);
    c.prot = PROT_READ | ((c.file_readonly && c.shared) || r.Chance(20) ? 0 : PROT_WRITE);
  } else {
    c.prot = r.Chance(85) ? (PROT_READ | PROT_WRITE) : PROT_READ;
  }
  // Pre-writes need a writable mapping and a page below end-of-file.
  if (c.prot & PROT_WRITE) {
    const uint64_t n = r.Below(4);
    for (uint64_t i = 0; i < n; ++i) {
      PreWrite w{c.fork && r.Chance(50), r.Below(c.pages), static_cast<uint8_t>(r.Next())};
      if (PageBelowEof(c, w.page)) c.pre.push_back(w);
    }
  }
  // One or two remote elements inside the region (possibly past end-of-file), or
  // running off its end into the hole after it.
  const uint64_t span = c.pages * kPageSize;
  const uint64_t nrem = 1 + r.Below(2);
  uint64_t total = 0;
  for (uint64_t i = 0; i < nrem; ++i) {
    const uint64_t off = r.Below(span);
    const uint64_t len = 1 + r.Below(span - off + (r.Chance(15) ? kPageSize : 0));
    c.remote.push_back({kRegion + off, len});
    total += len;
  }
  c.local_len = r.Chance(80) ? total : 1 + r.Below(total);
  return c;
}

// ---- the host ----

// Reads `len` bytes at `addr` of pid into a vector (process_vm_readv).
absl::StatusOr<std::vector<uint8_t>> HostPeek(pid_t pid, uint64_t addr, uint64_t len) {
  std::vector<uint8_t> out(len);
  if (len == 0) return out;
  iovec l{out.data(), len};
  iovec rv{reinterpret_cast<void*>(addr), len};
  const ssize_t n = HostPvm(false, pid, &l, 1, &rv, 1);
  if (n != static_cast<ssize_t>(len))
    return absl::InternalError(absl::StrFormat("readback of pid %d: %d (errno %d)", pid, n, errno));
  return out;
}

// The target processes' side (P, and C if it forks). Runs after fork; async-signal-safe
// calls only. Reports 'R' on `ready` when set up, then blocks on `go` until the test
// closes it.
[[noreturn]] void RunTargets(const ShareCase& c, int file_fd, int ready, int go) {
  alarm(30);
  auto die = [] { _exit(2); };
  void* want = reinterpret_cast<void*>(kRegion);
  void* p = MAP_FAILED;
  const uint64_t len = c.pages * kPageSize;
  switch (c.kind) {
    case ShareCase::Kind::kCow:
      p = mmap(want, len, PROT_READ | PROT_WRITE,
               MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
      break;
    case ShareCase::Kind::kSharedAnon:
      p = mmap(want, len, PROT_READ | PROT_WRITE,
               MAP_SHARED | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
      break;
    case ShareCase::Kind::kFile:
      p = mmap(want, len, c.prot, (c.shared ? MAP_SHARED : MAP_PRIVATE) | MAP_FIXED_NOREPLACE,
               file_fd, 0);
      break;
  }
  if (p != want) die();
  if (c.kind != ShareCase::Kind::kFile) {
    for (uint64_t a = kRegion; a < kRegion + len; a += kPageSize)
      memcpy(reinterpret_cast<void*>(a), PatternPage(Side::kRemote, a), kPageSize);
    if (mprotect(want, len, c.prot) != 0) die();
  }
  auto pre_writes = [&](bool child) {
    for (const PreWrite& w : c.pre) {
      if (w.by_child != child) continue;
      memset(reinterpret_cast<void*>(kRegion + w.page * kPageSize + 100), w.byte, 16);
    }
  };
  pre_writes(false);
  pid_t child = -1;
  if (c.fork) {
    child = fork();
    if (child < 0) die();
    if (child == 0) {
      alarm(30);
      pre_writes(true);
      _exit(ReportReadyAndWait(ready, go, true) ? 0 : 2);
    }
  }
  if (!ReportReadyAndWait(ready, go, false)) die();
  if (child > 0) waitpid(child, nullptr, 0);
  _exit(0);
}

// Runs a case on the host. Unavailable when the host refuses process_vm_readv.
absl::StatusOr<ShareOutcome> RunHost(const ShareCase& c) {
  std::string path = absl::StrCat(getenv("TEST_TMPDIR") ? getenv("TEST_TMPDIR") : "/tmp",
                                  "/sharing_diff_XXXXXX");
  int file_fd = -1;
  if (c.kind == ShareCase::Kind::kFile) {
    file_fd = mkstemp(path.data());
    if (file_fd < 0) return absl::InternalError("mkstemp");
    std::vector<uint8_t> bytes(c.file_size);
    for (uint64_t i = 0; i < c.file_size; ++i) bytes[i] = FileByte(i);
    if (pwrite(file_fd, bytes.data(), bytes.size(), 0) != static_cast<ssize_t>(bytes.size()))
      return absl::InternalError("pwrite");
    if (c.file_readonly) {
      close(file_fd);
      file_fd = open(path.c_str(), O_RDONLY);
      if (file_fd < 0) return absl::InternalError("open O_RDONLY");
    }
  }
  int ready[2], go[2];
  if (pipe(ready) != 0 || pipe(go) != 0) return absl::InternalError("pipe");
  const pid_t parent = fork();
  if (parent < 0) return absl::InternalError("fork");
  if (parent == 0) {
    close(ready[0]);
    close(go[1]);
    RunTargets(c, file_fd, ready[1], go[0]);
  }
  close(ready[1]);
  close(go[0]);
  ShareOutcome o;
  absl::Status status = absl::OkStatus();
  // The targets report in: P, and C with its pid.
  const int expected = c.fork ? 2 : 1;
  pid_t child = -1;
  for (int i = 0; i < expected && status.ok(); ++i) {
    ReadyMsg msg{};
    if (!WaitReady(ready[0], &msg)) {
      status = absl::InternalError("target set-up failed or timed out");
    } else if (msg.is_child) {
      child = msg.pid;
    }
  }
  if (status.ok() && c.fork && child <= 0) status = absl::InternalError("no child reported");
  if (status.ok()) {
    int err = 0;
    absl::StatusOr<ssize_t> r = HostCallFromLocal(c.target_child ? child : parent, c.write,
                                                  c.local_len, kLocalFill, c.remote, &o.local, &err);
    if (!r.ok()) status = r.status();
    o.ret = r.ok() ? *r : -1;
    o.err = err;
    if (r.ok() && *r < 0 && (err == EPERM || err == ENOSYS)) {
      status = absl::UnavailableError(absl::StrCat("host process_vm_*: ", strerror(err)));
    }
    const uint64_t readable = Readable(c);
    if (status.ok()) {
      absl::StatusOr<std::vector<uint8_t>> pb = HostPeek(parent, kRegion, readable);
      if (pb.ok()) o.parent = *pb; else status = pb.status();
    }
    if (status.ok() && c.fork) {
      absl::StatusOr<std::vector<uint8_t>> cb = HostPeek(child, kRegion, readable);
      if (cb.ok()) o.child = *cb; else status = cb.status();
    }
    if (status.ok() && file_fd >= 0) {
      o.file.resize(c.file_size);
      if (pread(file_fd, o.file.data(), o.file.size(), 0) != static_cast<ssize_t>(o.file.size()))
        status = absl::InternalError("pread");
    }
  }
  close(go[1]);  // the targets exit
  close(ready[0]);
  int ws;
  waitpid(parent, &ws, 0);
  if (status.ok() && !(WIFEXITED(ws) && WEXITSTATUS(ws) == 0))
    status = absl::InternalError("the target process failed");
  if (file_fd >= 0) {
    close(file_fd);
    unlink(path.c_str());
  }
  if (!status.ok()) return status;
  return o;
}

// ---- the simulator ----

// The machine every simulator run here uses (64 MiB).
absl::StatusOr<std::unique_ptr<sim::Machine>> MakeMachine() {
  sim::MachineConfig config;
  UseHostCpu(&config);  // the host's CPU features
  config.memory_bytes = uint64_t{64} << 20;
  return sim::Machine::Create(config);
}

absl::StatusOr<ShareOutcome> RunSim(const ShareCase& c, std::string* violations) {
  sim::MachineConfig config;
  UseHostCpu(&config);  // the host's CPU features
  config.memory_bytes = uint64_t{64} << 20;
  absl::StatusOr<SimCallerAndTarget> made = MakeSimCallerAndTarget(config);
  if (!made.ok()) return made.status();
  sim::Machine& m = *made->machine;
  const int caller = made->caller;
  const int p = made->target;
  const uint64_t len = c.pages * kPageSize;
  auto ok_map = [](const sim::SysResult& r) { return r.ret == static_cast<long>(kRegion); };
  int fd = -1;
  switch (c.kind) {
    case ShareCase::Kind::kCow:
    case ShareCase::Kind::kSharedAnon: {
      const int type = c.kind == ShareCase::Kind::kCow ? MAP_PRIVATE : MAP_SHARED;
      if (!ok_map(m.Mmap(p, kRegion, len, PROT_READ | PROT_WRITE,
                         type | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE)))
        return absl::InternalError("sim mmap");
      std::vector<uint8_t> fill(len);
      for (uint64_t i = 0; i < len; ++i) fill[i] = PatternByte(Side::kRemote, kRegion + i);
      if (!m.Store(p, kRegion, fill).ok) return absl::InternalError("sim fill");
      if (m.Mprotect(p, kRegion, len, c.prot).ret != 0) return absl::InternalError("mprotect");
      break;
    }
    case ShareCase::Kind::kFile: {
      std::vector<uint8_t> bytes(c.file_size);
      for (uint64_t i = 0; i < c.file_size; ++i) bytes[i] = FileByte(i);
      auto f = m.CreateFile("sharing_diff", c.file_size, bytes, c.file_readonly);
      if (!f.ok()) return f.status();
      fd = *f;
      if (!ok_map(m.Mmap(p, kRegion, len, c.prot,
                         (c.shared ? MAP_SHARED : MAP_PRIVATE) | MAP_FIXED_NOREPLACE, fd)))
        return absl::InternalError("sim file mmap");
      break;
    }
  }
  auto pre_writes = [&](int pid, bool child) {
    for (const PreWrite& w : c.pre) {
      if (w.by_child != child) continue;
      if (!m.Store(pid, kRegion + w.page * kPageSize + 100, std::vector<uint8_t>(16, w.byte)).ok)
        return false;
    }
    return true;
  };
  if (!pre_writes(p, false)) return absl::InternalError("sim pre-write P");
  int child = -1;
  if (c.fork) {
    const sim::SysResult f = m.Fork(p);
    if (f.ret <= 0) return absl::InternalError("sim fork");
    child = static_cast<int>(f.ret);
    if (!pre_writes(child, true)) return absl::InternalError("sim pre-write C");
  }
  const uint64_t readback_len = std::max<uint64_t>(Readable(c), 1);
  if (m.Mmap(caller, kReadback, readback_len, PROT_READ | PROT_WRITE,
             MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED)
          .ret != static_cast<long>(kReadback))
    return absl::InternalError("sim readback mmap");
  std::vector<sim::Machine::Iovec> remote;
  for (const Iov& v : c.remote) remote.push_back({v.base, v.len});
  const long pins_before = m.vmstat(kernel::NR_FOLL_PIN_ACQUIRED);
  absl::StatusOr<sim::SysResult> r = SimCallFromLocal(
      m, caller, c.target_child ? child : p, c.write, c.local_len, kLocalFill, remote);
  if (!r.ok()) return r.status();
  ShareOutcome o;
  o.ret = r->ret;
  o.err = r->ret < 0 ? r->err : 0;
  std::string report;
  if (m.DebugVmCheck(&report) != 0) *violations += report;
  if (m.vmstat(kernel::NR_FOLL_PIN_ACQUIRED) !=
      m.vmstat(kernel::NR_FOLL_PIN_RELEASED))
    *violations += absl::StrFormat("pins unbalanced (%d acquired during the call)\n",
                                   m.vmstat(kernel::NR_FOLL_PIN_ACQUIRED) - pins_before);
  auto peek_local = [&](uint64_t addr, uint64_t n) -> absl::StatusOr<std::vector<uint8_t>> {
    if (n == 0) return std::vector<uint8_t>();
    return m.PeekUser(caller, addr, n);
  };
  absl::StatusOr<std::vector<uint8_t>> lb = peek_local(kLocal, c.local_len);
  if (!lb.ok()) return lb.status();
  o.local = *lb;
  // Read back as the host does: process_vm_readv of what can be read.
  auto readback = [&](int pid, std::vector<uint8_t>* out) -> absl::Status {
    const uint64_t n = Readable(c);
    if (n == 0) return absl::OkStatus();
    const sim::SysResult rb = m.ProcessVmReadv(caller, pid, {{kReadback, n}}, {{kRegion, n}});
    if (rb.ret != static_cast<long>(n))
      return absl::InternalError(absl::StrFormat("sim readback of %d: %d errno %d", pid, rb.ret, rb.err));
    absl::StatusOr<std::vector<uint8_t>> b = m.PeekUser(caller, kReadback, n);
    if (!b.ok()) return b.status();
    *out = *b;
    return absl::OkStatus();
  };
  if (absl::Status s = readback(p, &o.parent); !s.ok()) return s;
  if (c.fork) {
    if (absl::Status s = readback(child, &o.child); !s.ok()) return s;
  }
  if (fd >= 0) {
    absl::StatusOr<std::vector<uint8_t>> fb = m.ReadFile(fd);
    if (!fb.ok()) return fb.status();
    o.file = *fb;
  }
  if (m.DebugVmCheck(&report) != 0) *violations += report;
  return o;
}

uint64_t NumCases() {
  const char* s = getenv("DIFFTEST_SHARE_CASES");
  return s != nullptr ? std::strtoull(s, nullptr, 10) : 300;
}

// The generator reaches every kind, direction, EOF and both targets.
TEST(SharingDiff, GeneratorCoversTheKinds) {
  int kinds[3] = {}, writes = 0, past_eof = 0, children = 0, pre = 0;
  for (uint64_t seed = 0; seed < NumCases(); ++seed) {
    const ShareCase c = Generate(seed);
    kinds[static_cast<int>(c.kind)]++;
    writes += c.write;
    children += c.target_child;
    pre += !c.pre.empty();
    for (const Iov& v : c.remote)
      if (c.kind == ShareCase::Kind::kFile && v.base + v.len > kRegion + c.file_size) ++past_eof;
    EXPECT_LE(Readable(c), c.pages * kPageSize);
  }
  EXPECT_GT(kinds[0], 0);
  EXPECT_GT(kinds[1], 0);
  EXPECT_GT(kinds[2], 0);
  EXPECT_GT(writes, 0);
  EXPECT_GT(past_eof, 0);
  EXPECT_GT(children, 0);
  EXPECT_GT(pre, 0);
}

// Hand-made cases with the answer docs/semantics.md gives, on the simulator alone (they hold even
// where the host cannot run).
TEST(SharingDiff, KnownAnswersOnTheSimulator) {
  // A writev into the child's COW-shared page changes only the child.
  ShareCase cow;
  cow.kind = ShareCase::Kind::kCow;
  cow.write = true;
  cow.pages = 2;
  cow.remote = {{kRegion + 10, 20}};
  cow.local_len = 20;
  std::string v;
  absl::StatusOr<ShareOutcome> o = RunSim(cow, &v);
  ASSERT_TRUE(o.ok()) << o.status();
  EXPECT_EQ(v, "");
  EXPECT_EQ(o->ret, 20);
  EXPECT_EQ(o->parent[10], PatternByte(Side::kRemote, kRegion + 10));
  EXPECT_EQ(o->child[10], PatternByte(Side::kLocal, kLocal));
  // A shared anonymous mapping: both see it.
  ShareCase shm = cow;
  shm.kind = ShareCase::Kind::kSharedAnon;
  o = RunSim(shm, &v);
  ASSERT_TRUE(o.ok()) << o.status();
  EXPECT_EQ(o->parent, o->child);
  EXPECT_EQ(o->parent[10], PatternByte(Side::kLocal, kLocal));
  // A file ending at 100 bytes: a readv across the page past EOF stops there.
  ShareCase eof;
  eof.kind = ShareCase::Kind::kFile;
  eof.fork = false;
  eof.target_child = false;
  eof.shared = true;
  eof.pages = 3;
  eof.file_size = 100;
  eof.remote = {{kRegion + 50, 2 * kPageSize}};
  eof.local_len = 2 * kPageSize;
  o = RunSim(eof, &v);
  ASSERT_TRUE(o.ok()) << o.status();
  EXPECT_EQ(o->ret, static_cast<long>(kPageSize - 50));
  EXPECT_EQ(o->local[0], FileByte(50));
  EXPECT_EQ(o->local[60], 0);  // past end-of-file inside the last page: zeros
  EXPECT_EQ(v, "");
}

// ---- fault-around: RSS after one read fault on a cached file ----
// A read fault on a file mapping maps, besides the faulting page, every page of the
// 64 KiB-aligned window around it (fault_around_bytes) that the page cache already holds,
// clipped to the VMA, to the PTE table (2 MiB) and to end-of-file. Both sides write the
// file first, so every page is cached, map it read-only and privately, load one byte,
// and count the VMA's resident pages.
struct AroundCase {
  uint64_t file_size;   // bytes
  uint64_t map_pages;   // the mapping's length
  uint64_t map_offset;  // pages from a 2 MiB-aligned base to the mapping's start
  uint64_t touch_page;  // the page (of the mapping) loaded
  uint64_t linux_rss;   // pages Linux 6.18 maps (measured here, order-0 folios)
};

constexpr uint64_t kAroundBase = kRegion + (uint64_t{1} << 32);  // 2 MiB aligned

std::string Describe(const AroundCase& c) {
  return absl::StrFormat("file_size=%#x map_pages=%d map_offset=%d touch_page=%d", c.file_size,
                         c.map_pages, c.map_offset, c.touch_page);
}

// The host's resident pages of the VMA at `start`, from /proc/self/smaps.
absl::StatusOr<uint64_t> HostVmaRssPages(uint64_t start) {
  int fd = open("/proc/self/smaps", O_RDONLY);
  if (fd < 0) return absl::UnavailableError("no /proc/self/smaps");
  std::string text;
  char buf[65536];
  ssize_t n;
  while ((n = read(fd, buf, sizeof(buf))) > 0) text.append(buf, static_cast<size_t>(n));
  close(fd);
  const std::string head = absl::StrFormat("%x-", start);
  size_t at = text.rfind("\n" + head);
  if (at == std::string::npos && text.compare(0, head.size(), head) == 0) at = 0;
  if (at == std::string::npos) return absl::InternalError("the mapping is not in smaps");
  const size_t rss = text.find("\nRss:", at);
  if (rss == std::string::npos) return absl::InternalError("no Rss line");
  return std::strtoull(text.c_str() + rss + 5, nullptr, 10) / 4;  // kB -> pages
}

absl::StatusOr<uint64_t> RunAroundHost(const AroundCase& c) {
  std::string path = absl::StrCat(getenv("TEST_TMPDIR") ? getenv("TEST_TMPDIR") : "/tmp",
                                  "/fault_around_XXXXXX");
  const int fd = mkstemp(path.data());
  if (fd < 0) return absl::InternalError("mkstemp");
  unlink(path.c_str());
  std::vector<uint8_t> bytes(c.file_size), back(c.file_size);
  for (uint64_t i = 0; i < c.file_size; ++i) bytes[i] = FileByte(i);
  // Written and read back: every page is in the page cache and up to date. Written a page
  // at a time, so that the page cache holds order-0 folios as the simulator's does (a
  // filesystem with large folios sizes them by the write; a whole large folio is mapped at
  // once when it fits, which the simulator, with small folios only, never does).
  for (uint64_t off = 0; off < c.file_size; off += kPageSize) {
    const size_t n = static_cast<size_t>(std::min<uint64_t>(kPageSize, c.file_size - off));
    if (pwrite(fd, bytes.data() + off, n, static_cast<off_t>(off)) != static_cast<ssize_t>(n)) {
      close(fd);
      return absl::InternalError("pwrite");
    }
  }
  if (pread(fd, back.data(), back.size(), 0) != static_cast<ssize_t>(back.size())) {
    close(fd);
    return absl::InternalError("pread");
  }
  const uint64_t addr = kAroundBase + c.map_offset * kPageSize;
  void* p = mmap(reinterpret_cast<void*>(addr), c.map_pages * kPageSize, PROT_READ,
                 MAP_PRIVATE | MAP_FIXED_NOREPLACE, fd, 0);
  close(fd);
  if (p != reinterpret_cast<void*>(addr)) return absl::InternalError("mmap");
  const uint8_t got = *reinterpret_cast<volatile uint8_t*>(addr + c.touch_page * kPageSize);
  absl::StatusOr<uint64_t> rss = HostVmaRssPages(addr);
  munmap(p, c.map_pages * kPageSize);
  if (rss.ok() && got != FileByte(c.touch_page * kPageSize))
    return absl::InternalError("the loaded byte differs from the file");
  return rss;
}

absl::StatusOr<uint64_t> RunAroundSim(const AroundCase& c, std::string* violations) {
  auto made = MakeMachine();
  if (!made.ok()) return made.status();
  sim::Machine& m = **made;
  auto p = m.CreateProcess("p", sim::ProcessCreds{});
  if (!p.ok()) return p.status();
  std::vector<uint8_t> bytes(c.file_size);
  for (uint64_t i = 0; i < c.file_size; ++i) bytes[i] = FileByte(i);
  auto fd = m.CreateFile("fault_around", c.file_size, {});
  if (!fd.ok()) return fd.status();
  if (m.WriteFile(*fd, 0, bytes).ret != static_cast<long>(bytes.size()))
    return absl::InternalError("sim write");
  const uint64_t addr = kAroundBase + c.map_offset * kPageSize;
  if (m.Mmap(*p, addr, c.map_pages * kPageSize, PROT_READ, MAP_PRIVATE | MAP_FIXED_NOREPLACE, *fd)
          .ret != static_cast<long>(addr))
    return absl::InternalError("sim mmap");
  const sim::UserAccess a = m.Load(*p, addr + c.touch_page * kPageSize, 1);
  if (!a.ok || a.bytes.size() != 1 || a.bytes[0] != FileByte(c.touch_page * kPageSize))
    return absl::InternalError("sim load");
  std::string report;
  if (m.DebugVmCheck(&report) != 0) *violations += report;
  return kernel::get_mm_counter(m.FindTask(*p)->mm, kernel::MM_FILEPAGES);
}

TEST(SharingDiff, FaultAroundRssMatchesHost) {
  const AroundCase cases[] = {
      {16 * kPageSize, 16, 0, 5, 16},        // the whole 64 KiB window
      {10 * kPageSize + 100, 16, 0, 2, 11},  // stops at end-of-file
      {16 * kPageSize, 16, 8, 0, 16},        // starts at the VMA, runs 16 pages from there
      {32 * kPageSize, 32, 504, 7, 8},       // clipped to the PTE table (2 MiB boundary)
      {32 * kPageSize, 32, 0, 20, 16},       // the second window only
  };
  for (const AroundCase& c : cases) {
    std::string violations;
    absl::StatusOr<uint64_t> sim = RunAroundSim(c, &violations);
    ASSERT_TRUE(sim.ok()) << Describe(c) << ": " << sim.status();
    EXPECT_EQ(violations, "") << Describe(c);
    EXPECT_EQ(*sim, c.linux_rss) << Describe(c);
    absl::StatusOr<uint64_t> host = RunAroundHost(c);
    if (absl::IsUnavailable(host.status())) GTEST_SKIP() << host.status();
    ASSERT_TRUE(host.ok()) << Describe(c) << ": " << host.status();
    EXPECT_EQ(*sim, *host) << Describe(c);
  }
}

TEST(SharingDiff, SimulatorMatchesHost) {
  // Availability: a 1-byte read of our own memory.
  {
    static uint8_t probe_src = 1, probe_dst = 0;
    iovec l{&probe_dst, 1}, rv{&probe_src, 1};
    errno = 0;
    if (HostPvm(false, getpid(), &l, 1, &rv, 1) != 1 && (errno == EPERM || errno == ENOSYS))
      GTEST_SKIP() << "the host refuses process_vm_readv: " << strerror(errno);
  }
  int diverged = 0, ran = 0, failed = 0, partial = 0, full = 0;
  for (uint64_t seed = 0; seed < NumCases(); ++seed) {
    const ShareCase c = Generate(seed);
    absl::StatusOr<ShareOutcome> host = RunHost(c);
    if (absl::IsUnavailable(host.status())) GTEST_SKIP() << host.status();
    ASSERT_TRUE(host.ok()) << "seed " << seed << " " << Describe(c) << ": " << host.status();
    std::string violations;
    absl::StatusOr<ShareOutcome> got = RunSim(c, &violations);
    ASSERT_TRUE(got.ok()) << "seed " << seed << " " << Describe(c) << ": " << got.status();
    ++ran;
    uint64_t want = 0;
    for (const Iov& v : c.remote) want += v.len;
    want = std::min(want, c.local_len);
    if (host->ret < 0) ++failed;
    else if (static_cast<uint64_t>(host->ret) < want) ++partial;
    else ++full;
    EXPECT_EQ(violations, "") << "seed " << seed << " " << Describe(c);
    if (!(*host == *got)) {
      ++diverged;
      ADD_FAILURE() << "seed " << seed << ": " << Describe(c) << "\n  host: " << Show(*host)
                    << "\n  sim:  " << Show(*got);
      if (diverged > 10) break;
    }
  }
  EXPECT_GT(ran, 0);
  std::printf("sharing_diff: %d cases (host: %d errors, %d partial, %d full), %d diverged\n",
              ran, failed, partial, full, diverged);
}

}  // namespace
}  // namespace difftest
