// bench/pvm_host.cc: see pvm_host.h.
#include "bench/pvm_host.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstddef>
#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace pvmbench {

static_assert(sizeof(HostIov) == sizeof(struct iovec));
static_assert(offsetof(HostIov, base) == offsetof(struct iovec, iov_base));
static_assert(offsetof(HostIov, len) == offsetof(struct iovec, iov_len));

void FillPattern(uint8_t* p, size_t len) { hw::FillPattern(0, p, len); }

namespace {

constexpr size_t k2M = size_t{2} << 20;

size_t PageRound(size_t bytes) { return (bytes + 4095) & ~size_t{4095}; }
size_t HugeRound(size_t bytes) { return (bytes + k2M - 1) & ~(k2M - 1); }

// An anonymous private region of `bytes` (at `at` if not null). Not huge: 4 KiB pages
// (MADV_NOHUGEPAGE), the simulated benchmarks' default. Huge: 2 MiB aligned (an
// over-sized mapping trimmed on both ends) and MADV_HUGEPAGE, so that the host's
// THP enabled=madvise gives it PMD mappings on first touch.
void* MapRegion(void* at, size_t bytes, bool huge = false) {
  const int flags = MAP_PRIVATE | MAP_ANONYMOUS | (at != nullptr ? MAP_FIXED : 0);
  if (!huge || at != nullptr) {
    void* p = mmap(at, bytes, PROT_READ | PROT_WRITE, flags, -1, 0);
    if (p == MAP_FAILED) return nullptr;
    (void)madvise(p, bytes, huge ? MADV_HUGEPAGE : MADV_NOHUGEPAGE);
    return p;
  }
  void* raw = mmap(nullptr, bytes + k2M, PROT_READ | PROT_WRITE, flags, -1, 0);
  if (raw == MAP_FAILED) return nullptr;
  const uintptr_t r = reinterpret_cast<uintptr_t>(raw);
  const uintptr_t a = (r + k2M - 1) & ~(uintptr_t{k2M} - 1);
  if (a > r) munmap(raw, a - r);
  if (r + bytes + k2M > a + bytes) munmap(reinterpret_cast<void*>(a + bytes), r + bytes + k2M - (a + bytes));
  void* p = reinterpret_cast<void*>(a);
  (void)madvise(p, bytes, MADV_HUGEPAGE);
  return p;
}

bool ReadFull(int fd, void* buf, size_t len) {
  auto* p = static_cast<uint8_t*>(buf);
  while (len > 0) {
    const ssize_t n = read(fd, p, len);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    p += n;
    len -= static_cast<size_t>(n);
  }
  return true;
}

bool WriteFull(int fd, const void* buf, size_t len) {
  const auto* p = static_cast<const uint8_t*>(buf);
  while (len > 0) {
    const ssize_t n = write(fd, p, len);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    p += n;
    len -= static_cast<size_t>(n);
  }
  return true;
}

// The child: only async-signal-safe calls from here on (the parent may have threads).
[[noreturn]] void ChildMain(int cmd_fd, int reply_fd, size_t bytes, bool touch, bool huge) {
  prctl(PR_SET_PDEATHSIG, SIGKILL);
  void* base = MapRegion(nullptr, bytes, huge);
  uint64_t addr = reinterpret_cast<uint64_t>(base);
  if (base != nullptr && touch) FillPattern(static_cast<uint8_t*>(base), bytes);
  if (!WriteFull(reply_fd, &addr, sizeof(addr)) || base == nullptr) _exit(1);
  for (;;) {
    char c;
    if (!ReadFull(cmd_fd, &c, 1) || c == 'Q') _exit(0);
    bool ok = true;
    if (c == 'F') {
      ok = munmap(base, bytes) == 0 && MapRegion(base, bytes, huge) == base;
    }
    const char reply = ok ? 'k' : 'e';
    if (!WriteFull(reply_fd, &reply, 1)) _exit(1);
  }
}

long long StatusField(const char* field) {
  FILE* f = fopen("/proc/self/status", "r");
  if (f == nullptr) return -1;
  char line[256];
  long long kb = -1;
  const size_t n = strlen(field);
  while (fgets(line, sizeof(line), f) != nullptr) {
    if (strncmp(line, field, n) == 0 && line[n] == ':') {
      kb = strtoll(line + n + 1, nullptr, 10);
      break;
    }
  }
  fclose(f);
  return kb < 0 ? -1 : kb * 1024;
}

}  // namespace

bool HostTarget::Start(size_t bytes, bool touch, std::string* err, bool huge) {
  bytes = huge ? HugeRound(bytes) : PageRound(bytes);
  huge_ = huge;
  int cmd[2], reply[2];
  if (pipe2(cmd, O_CLOEXEC) != 0) {
    *err = "pipe failed";
    return false;
  }
  if (pipe2(reply, O_CLOEXEC) != 0) {
    close(cmd[0]);
    close(cmd[1]);
    *err = "pipe failed";
    return false;
  }
  const pid_t pid = fork();
  if (pid < 0) {
    *err = std::string("fork failed: ") + strerror(errno);
    for (int fd : {cmd[0], cmd[1], reply[0], reply[1]}) close(fd);
    return false;
  }
  if (pid == 0) {
    close(cmd[1]);
    close(reply[0]);
    ChildMain(cmd[0], reply[1], bytes, touch, huge);
  }
  close(cmd[0]);
  close(reply[1]);
  pid_ = pid;
  cmd_fd_ = cmd[1];
  reply_fd_ = reply[0];
  if (!ReadFull(reply_fd_, &base_, sizeof(base_)) || base_ == 0) {
    *err = "the child could not map its region";
    return false;
  }
  return true;
}

bool HostTarget::Command(char c) {
  char reply = 0;
  return WriteFull(cmd_fd_, &c, 1) && ReadFull(reply_fd_, &reply, 1) && reply == 'k';
}

bool HostTarget::Fresh() { return Command('F'); }

HostTarget::~HostTarget() {
  if (pid_ > 0) {
    const char q = 'Q';
    if (!WriteFull(cmd_fd_, &q, 1)) kill(pid_, SIGKILL);
    int status;
    while (waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
    }
  }
  if (cmd_fd_ >= 0) close(cmd_fd_);
  if (reply_fd_ >= 0) close(reply_fd_);
}

long HostProcessVmReadv(pid_t pid, const HostIov* local, unsigned long liovcnt,
                        const HostIov* remote, unsigned long riovcnt) {
  const long r = syscall(SYS_process_vm_readv, pid, local, liovcnt, remote, riovcnt, 0UL);
  return r < 0 ? -errno : r;
}

long HostProcessVmWritev(pid_t pid, const HostIov* local, unsigned long liovcnt,
                         const HostIov* remote, unsigned long riovcnt) {
  const long r = syscall(SYS_process_vm_writev, pid, local, liovcnt, remote, riovcnt, 0UL);
  return r < 0 ? -errno : r;
}

HostBuffer::HostBuffer(size_t bytes, bool huge)
    : bytes_(PageRound(bytes)), mapped_(huge ? HugeRound(bytes) : PageRound(bytes)) {
  p_ = static_cast<uint8_t*>(MapRegion(nullptr, mapped_, huge));
  if (p_ == nullptr) {
    perror("pvm_bench: mmap");
    abort();
  }
  memset(p_, 0, mapped_);
}

HostBuffer::~HostBuffer() {
  if (p_ != nullptr) munmap(p_, mapped_);
}

long long AnonHugeBytes(pid_t pid, uint64_t start) {
  char path[64];
  if (pid == 0) {
    snprintf(path, sizeof(path), "/proc/self/smaps");
  } else {
    snprintf(path, sizeof(path), "/proc/%d/smaps", static_cast<int>(pid));
  }
  FILE* f = fopen(path, "r");
  if (f == nullptr) return -1;
  char line[512];
  bool in_vma = false;
  long long kb = -1;
  while (fgets(line, sizeof(line), f) != nullptr) {
    unsigned long long lo, hi;
    // A VMA header is "lo-hi perms offset dev inode [name]"; no field line ("Size:",
    // "AnonHugePages:", ...) parses as two hex numbers joined by '-'.
    if (sscanf(line, "%llx-%llx ", &lo, &hi) == 2) {
      if (in_vma) break;  // the next VMA: ours had no AnonHugePages line
      in_vma = lo <= start && start < hi;
      continue;
    }
    if (in_vma && strncmp(line, "AnonHugePages:", 14) == 0) {
      kb = strtoll(line + 14, nullptr, 10);
      break;
    }
  }
  fclose(f);
  return kb < 0 ? -1 : kb * 1024;
}

long long CurrentRssBytes() { return StatusField("VmRSS"); }
long long PeakRssBytes() { return StatusField("VmHWM"); }

bool ResetPeakRss() {
  const int fd = open("/proc/self/clear_refs", O_WRONLY | O_CLOEXEC);
  if (fd < 0) return false;
  const bool ok = write(fd, "5", 1) == 1;
  close(fd);
  return ok;
}

}  // namespace pvmbench
