// tests/difftest/host_backend.cc: the host-kernel backend (see host_backend.h).
#include "tests/difftest/host_backend.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cstdint>
#include <cstring>
#include <string>
#include <type_traits>
#include <vector>

#include "absl/cleanup/cleanup.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_format.h"
#include "sim/host/channel.h"
#include "tests/difftest/case.h"

namespace difftest {
namespace {

constexpr int kReadWrite = PROT_READ | PROT_WRITE;

// The protocol between the caller (parent) and the target server T:
//   parent -> T   SetupMsg, then `count` Regions      map, fill, protect these
//   T -> parent   ReadyMsg                            done (or the errno)
//   parent -> T   kGoTag                              the call is over
//   T -> parent   the bytes of every region, then kDoneTag once all is unmapped
// T serves cases until the channel closes.
constexpr uint32_t kSetupTag = 0x53657475;  // "Setu"
constexpr char kReadyTag = 'R';
constexpr char kGoTag = 'G';
constexpr char kDoneTag = 'D';
constexpr size_t kMaxRegions = kMaxLayoutBytes / kPageSize;

struct SetupMsg {
  uint32_t tag;
  uint32_t count;
};

// T's answer to a SetupMsg: errno of the first failing mmap/mprotect, or 0,
// and the index of the region that failed.
struct ReadyMsg {
  char tag;
  int32_t err;
  int32_t region;
};

static_assert(std::is_trivially_copyable_v<Region>, "Regions are sent as bytes");

// Writes the fill of `r` (which must be mapped read-write).
// Async-signal-safe (T calls it after fork).
void FillRegion(const Region& r, Side side) {
  auto* p = reinterpret_cast<uint8_t*>(r.addr);
  switch (r.fill) {
    case Region::Fill::kZero:
      return;  // never touched
    case Region::Fill::kByte:
      memset(p, r.byte, r.len);
      return;
    case Region::Fill::kPattern:
      for (uint64_t page = r.addr; page < r.end(); page += kPageSize) {
        memcpy(reinterpret_cast<void*>(page), PatternPage(side, page), kPageSize);
      }
      return;
  }
}

// Maps, fills and protects regions[0, n). On failure returns the errno and
// sets *failed to the region index; regions [0, *mapped) are mapped either
// way. Async-signal-safe.
int SetUpRegions(const Region* regions, size_t n, Side side, size_t* mapped, size_t* failed) {
  *mapped = 0;
  for (size_t i = 0; i < n; ++i) {
    const Region& r = regions[i];
    *failed = i;
    void* want = reinterpret_cast<void*>(r.addr);
    // A region that is about to be filled is populated in one go: each page
    // would be faulted in by the fill anyway, and a fault taken from user
    // mode costs more (notably in VMs). A kZero region stays untouched.
    const int populate = r.fill == Region::Fill::kZero ? 0 : MAP_POPULATE;
    void* got = mmap(want, r.len, kReadWrite,
                     MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE | populate, -1, 0);
    if (got == MAP_FAILED) return errno;
    if (got != want) {  // a kernel without MAP_FIXED_NOREPLACE took it as a hint
      munmap(got, r.len);
      return EEXIST;
    }
    *mapped = i + 1;
    FillRegion(r, side);
    if (r.prot != kReadWrite && mprotect(want, r.len, r.prot) != 0) return errno;
  }
  return 0;
}

void UnmapRegions(const Region* regions, size_t n) {
  for (size_t i = 0; i < n; ++i) munmap(reinterpret_cast<void*>(regions[i].addr), regions[i].len);
}

int64_t NowMs() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return int64_t{ts.tv_sec} * 1000 + ts.tv_nsec / 1000000;
}

// Receives exactly n bytes, waiting at most timeout_ms in total. For the parent.
absl::Status RecvAll(int fd, void* p, size_t n, int timeout_ms, const char* what) {
  auto* b = static_cast<uint8_t*>(p);
  const int64_t deadline = NowMs() + timeout_ms;
  size_t got = 0;
  while (got < n) {
    const int64_t left = deadline - NowMs();
    if (left <= 0) {
      return absl::DeadlineExceededError(absl::StrFormat(
          "host backend: timed out after %d ms waiting for %s (%d of %d bytes)", timeout_ms,
          what, got, n));
    }
    pollfd pfd = {fd, POLLIN, 0};
    int r = poll(&pfd, 1, static_cast<int>(left));
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) return absl::InternalError(absl::StrFormat("poll: %s", strerror(errno)));
    if (r == 0) continue;
    ssize_t k = recv(fd, b + got, n - got, 0);
    if (k < 0 && (errno == EINTR || errno == EAGAIN)) continue;
    if (k < 0) return absl::InternalError(absl::StrFormat("recv %s: %s", what, strerror(errno)));
    if (k == 0) {
      return absl::InternalError(absl::StrFormat(
          "host backend: target closed the channel while sending %s (%d of %d bytes)", what, got,
          n));
    }
    got += static_cast<size_t>(k);
  }
  return absl::OkStatus();
}

// The target server. Never returns. Between fork and _exit it makes only
// syscalls and copies memory (no malloc, no locks).
[[noreturn]] void TargetMain(int fd, pid_t parent, int timeout_ms) {
  prctl(PR_SET_PDEATHSIG, SIGKILL);  // die with the thread that forked us
  if (getppid() != parent) _exit(3);
  sigset_t alrm;
  sigemptyset(&alrm);
  sigaddset(&alrm, SIGALRM);
  sigprocmask(SIG_UNBLOCK, &alrm, nullptr);
  signal(SIGALRM, SIG_DFL);
  const unsigned backstop = static_cast<unsigned>(3 * timeout_ms / 1000 + 5);

  void* buf = mmap(nullptr, kMaxRegions * sizeof(Region), kReadWrite,
                   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (buf == MAP_FAILED) _exit(4);
  auto* regions = static_cast<Region*>(buf);
  for (;;) {
    alarm(0);  // idle: wait for the next case as long as the parent lives
    SetupMsg setup;
    if (!::sim::host::RecvAll(fd, &setup, sizeof setup)) _exit(0);  // the parent is done
    alarm(backstop);  // busy: a parent that stops answering must not strand us
    if (setup.tag != kSetupTag || setup.count > kMaxRegions) _exit(5);
    if (!::sim::host::RecvAll(fd, regions, setup.count * sizeof(Region))) _exit(6);

    size_t mapped = 0, failed = 0;
    ReadyMsg ready = {kReadyTag, 0, 0};
    ready.err = SetUpRegions(regions, setup.count, Side::kRemote, &mapped, &failed);
    ready.region = static_cast<int32_t>(failed);
    if (!::sim::host::SendAll(fd, &ready, sizeof ready)) _exit(7);
    if (ready.err != 0) {
      UnmapRegions(regions, mapped);
      continue;
    }
    char cmd = 0;
    if (!::sim::host::RecvAll(fd, &cmd, 1) || cmd != kGoTag) _exit(8);
    for (size_t i = 0; i < setup.count; ++i) {
      const Region& r = regions[i];
      if (mprotect(reinterpret_cast<void*>(r.addr), r.len, PROT_READ) != 0) _exit(9);
      if (!::sim::host::SendAll(fd, reinterpret_cast<const void*>(r.addr), r.len)) _exit(10);
    }
    UnmapRegions(regions, setup.count);
    if (!::sim::host::SendAll(fd, &kDoneTag, 1)) _exit(11);
  }
}

// Fails if anything is mapped in either window of process `pid` (0 = self).
absl::Status CheckWindowsEmpty(pid_t pid) {
  const std::string path =
      pid == 0 ? std::string("/proc/self/maps") : absl::StrFormat("/proc/%d/maps", pid);
  int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return absl::InternalError(absl::StrFormat("open %s: %s", path, strerror(errno)));
  std::string maps;
  char buf[16384];
  for (;;) {
    ssize_t k = read(fd, buf, sizeof buf);
    if (k < 0 && errno == EINTR) continue;
    if (k <= 0) break;
    maps.append(buf, static_cast<size_t>(k));
  }
  close(fd);
  size_t pos = 0;
  while (pos < maps.size()) {
    size_t eol = maps.find('\n', pos);
    if (eol == std::string::npos) eol = maps.size();
    const std::string line = maps.substr(pos, eol - pos);
    pos = eol + 1;
    unsigned long long lo = 0, hi = 0;
    if (sscanf(line.c_str(), "%llx-%llx", &lo, &hi) != 2) continue;
    for (uint64_t base : {kLocalBase, kRemoteBase}) {
      if (lo < base + kWindowSize && hi > base) {
        return absl::FailedPreconditionError(absl::StrFormat(
            "host backend: the window at %#x is not empty in %s: %s", base,
            pid == 0 ? "the test process" : "the target", line));
      }
    }
  }
  return absl::OkStatus();
}

Case SanityCase() {
  Case c;
  c.remote_layout.regions = {{.addr = kRemoteBase,
                              .len = kPageSize,
                              .prot = kReadWrite,
                              .fill = Region::Fill::kByte,
                              .byte = 0xa5}};
  c.local_layout.regions = {
      {.addr = kLocalBase, .len = kPageSize, .prot = kReadWrite, .fill = Region::Fill::kZero}};
  c.call.local = {{kLocalBase, 1}};
  c.call.remote = {{kRemoteBase, 1}};
  return c;
}

}  // namespace

HostBackend::HostBackend(int timeout_ms) : timeout_ms_(timeout_ms) {}

HostBackend::~HostBackend() { StopTarget(); }

absl::Status HostBackend::StartTarget() {
  // Everything T needs is built before fork: it only makes syscalls and
  // copies memory.
  (void)PatternPage(Side::kRemote, 0);
  int sv[2];
  if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0) {
    return absl::InternalError(absl::StrFormat("socketpair: %s", strerror(errno)));
  }
  const pid_t parent = getpid();
  const pid_t pid = fork();
  if (pid < 0) {
    const int e = errno;
    close(sv[0]);
    close(sv[1]);
    return absl::InternalError(absl::StrFormat("fork: %s", strerror(e)));
  }
  if (pid == 0) {
    close(sv[0]);
    TargetMain(sv[1], parent, timeout_ms_);
  }
  close(sv[1]);
  target_pid_ = pid;
  target_fd_ = sv[0];
  return absl::OkStatus();
}

void HostBackend::StopTarget() {
  if (target_pid_ <= 0) return;
  close(target_fd_);  // an idle T sees EOF and exits
  target_fd_ = -1;
  int status;
  const int64_t deadline = NowMs() + 1000;
  pid_t r;
  while ((r = waitpid(target_pid_, &status, WNOHANG)) == 0 && NowMs() < deadline) {
    usleep(200);
  }
  if (r == 0) {
    kill(target_pid_, SIGKILL);
    while (waitpid(target_pid_, &status, 0) < 0 && errno == EINTR) {
    }
  }
  target_pid_ = -1;
}

absl::Status HostBackend::Availability() {
  if (availability_.has_value()) return *availability_;
  absl::StatusOr<Outcome> o = RunUnchecked(SanityCase());
  if (!o.ok()) {
    availability_ = o.status();
  } else if (o->ret == -1 && (o->err == EPERM || o->err == ENOSYS)) {
    availability_ = absl::UnavailableError(absl::StrFormat(
        "host process_vm_readv is not usable here: a 1-byte readv of the test's own forked child "
        "failed with %s (%s); seccomp, a container without ptrace rights, or a kernel without "
        "CONFIG_CROSS_MEMORY_ATTACH",
        o->err == EPERM ? "EPERM" : "ENOSYS", strerror(o->err)));
  } else if (o->ret != 1 || o->err != 0 || o->local_bytes.empty() || o->local_bytes[0] != 0xa5) {
    availability_ = absl::InternalError(absl::StrFormat(
        "host backend sanity call: a 1-byte readv of a mapped page returned %d (errno %d), "
        "local byte %#x; expected 1 and 0xa5",
        o->ret, o->err, o->local_bytes.empty() ? -1 : o->local_bytes[0]));
  } else {
    availability_ = absl::OkStatus();
  }
  return *availability_;
}

absl::StatusOr<Outcome> HostBackend::Run(const Case& c) {
  if (absl::Status s = Availability(); !s.ok()) return s;
  return RunUnchecked(c);
}

absl::StatusOr<Outcome> HostBackend::RunUnchecked(const Case& c) {
  if (absl::Status s = ValidateCase(c); !s.ok()) return s;
  if (absl::Status s = CheckWindowsEmpty(0); !s.ok()) return s;
  if (target_pid_ <= 0) {
    if (absl::Status s = StartTarget(); !s.ok()) return s;
  }
  // On any failure from here on, T's state is unknown: stop it, and start a
  // fresh one on the next Run.
  absl::Cleanup stop_target = [this] { StopTarget(); };
  if (absl::Status s = CheckWindowsEmpty(target_pid_); !s.ok()) return s;

  const int fd = target_fd_;
  const SetupMsg setup = {kSetupTag, static_cast<uint32_t>(c.remote_layout.regions.size())};
  if (!::sim::host::SendAll(fd, &setup, sizeof setup) ||
      !::sim::host::SendAll(fd, c.remote_layout.regions.data(), setup.count * sizeof(Region))) {
    return absl::InternalError(absl::StrFormat("host backend: target vanished: %s", strerror(errno)));
  }
  ReadyMsg ready;
  if (absl::Status s = RecvAll(fd, &ready, sizeof ready, timeout_ms_, "the ready message");
      !s.ok()) {
    return s;
  }
  if (ready.tag != kReadyTag) return absl::InternalError("host backend: garbled ready message");
  if (ready.err != 0) {
    const Region& r = c.remote_layout.regions[static_cast<size_t>(ready.region)];
    return absl::InternalError(absl::StrFormat(
        "host backend: target could not set up remote region %d [%#x, +0x%x) %s: %s", ready.region,
        r.addr, r.len, ProtString(r.prot), strerror(ready.err)));
  }

  std::vector<iovec> lvec(c.call.local.size()), rvec(c.call.remote.size());
  for (size_t i = 0; i < lvec.size(); ++i) {
    lvec[i] = {reinterpret_cast<void*>(c.call.local[i].base), c.call.local[i].len};
  }
  for (size_t i = 0; i < rvec.size(); ++i) {
    rvec[i] = {reinterpret_cast<void*>(c.call.remote[i].base), c.call.remote[i].len};
  }
  Outcome out;
  out.local_bytes.reserve(c.local_layout.TotalBytes());
  out.remote_bytes.resize(c.remote_layout.TotalBytes());

  const Region* local = c.local_layout.regions.data();
  const size_t nlocal = c.local_layout.regions.size();
  size_t mapped = 0, failed = 0;
  absl::Cleanup unmap_local = [&] { UnmapRegions(local, mapped); };
  if (int e = SetUpRegions(local, nlocal, Side::kLocal, &mapped, &failed); e != 0) {
    const Region& r = local[failed];
    return absl::InternalError(absl::StrFormat(
        "host backend: could not set up local region %d [%#x, +0x%x) %s: %s", failed, r.addr, r.len,
        ProtString(r.prot), strerror(e)));
  }

  errno = 0;
  const long ret = syscall(c.call.write ? SYS_process_vm_writev : SYS_process_vm_readv,
                           static_cast<long>(target_pid_), lvec.data(),
                           static_cast<unsigned long>(lvec.size()), rvec.data(),
                           static_cast<unsigned long>(rvec.size()),
                           static_cast<unsigned long>(c.call.flags));
  const int err = errno;
  out.ret = ret;
  out.err = ret < 0 ? err : 0;

  for (size_t i = 0; i < nlocal; ++i) {
    const Region& r = local[i];
    if (!(r.prot & PROT_READ) &&
        mprotect(reinterpret_cast<void*>(r.addr), r.len, PROT_READ) != 0) {
      return absl::InternalError(absl::StrFormat("mprotect local %#x: %s", r.addr, strerror(errno)));
    }
    const auto* p = reinterpret_cast<const uint8_t*>(r.addr);
    out.local_bytes.insert(out.local_bytes.end(), p, p + r.len);
  }
  std::move(unmap_local).Invoke();

  if (!::sim::host::SendAll(fd, &kGoTag, 1)) {
    return absl::InternalError(absl::StrFormat("host backend: target vanished after the call: %s",
                                               strerror(errno)));
  }
  if (absl::Status s = RecvAll(fd, out.remote_bytes.data(), out.remote_bytes.size(), timeout_ms_,
                               "the remote bytes");
      !s.ok()) {
    return s;
  }
  char done = 0;
  if (absl::Status s = RecvAll(fd, &done, 1, timeout_ms_, "the done message"); !s.ok()) return s;
  if (done != kDoneTag) return absl::InternalError("host backend: garbled done message");
  std::move(stop_target).Cancel();
  return out;
}

}  // namespace difftest
