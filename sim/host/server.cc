// sim/host/server.cc: the task side of the host runner (see server.h). Everything here
// runs in forked children and their threads: plain syscalls and fixed buffers, no malloc
// (a thread's first malloc would map a new arena where a scenario may want its memory).
#include "sim/host/server.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <grp.h>
#include <time.h>
#include <ucontext.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>

#include "sim/host/channel.h"


namespace sim::host {
namespace {

// ---- the server's own mappings (reported by kMaps so mmsim can tell clashes) ----

struct Range {
  uint64_t lo, hi;
};
constexpr int kMaxOwn = 256;
Range g_own[kMaxOwn];
int g_nown = 0;
pthread_mutex_t g_own_lock = PTHREAD_MUTEX_INITIALIZER;

void* OwnMap(size_t len) {
  void* p = mmap(nullptr, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (p == MAP_FAILED) return nullptr;
  pthread_mutex_lock(&g_own_lock);
  if (g_nown < kMaxOwn) g_own[g_nown++] = {reinterpret_cast<uint64_t>(p), reinterpret_cast<uint64_t>(p) + len};
  pthread_mutex_unlock(&g_own_lock);
  return p;
}

void OwnUnmap(void* p, size_t len) {
  munmap(p, len);
  pthread_mutex_lock(&g_own_lock);
  for (int i = 0; i < g_nown; ++i) {
    if (g_own[i].lo == reinterpret_cast<uint64_t>(p)) g_own[i] = g_own[--g_nown];
  }
  pthread_mutex_unlock(&g_own_lock);
}

// A growable buffer made of OwnMap pages.
struct Buf {
  uint8_t* p = nullptr;
  size_t cap = 0;
  bool Reserve(size_t n) {
    if (n <= cap) return true;
    size_t want = 1 << 20;
    while (want < n) want *= 2;
    void* q = OwnMap(want);
    if (q == nullptr) return false;
    if (p != nullptr) OwnUnmap(p, cap);
    p = static_cast<uint8_t*>(q);
    cap = want;
    return true;
  }
};

// ---- channel I/O ----

// Sends the header (with `pass_fd` attached when >= 0), then the payload.
bool Reply(int fd, Response r, const void* payload, size_t len, int pass_fd = -1) {
  r.len = len;
  iovec iov = {&r, sizeof r};
  msghdr msg = {};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int))] = {};
  if (pass_fd >= 0) {
    msg.msg_control = control;
    msg.msg_controllen = sizeof control;
    cmsghdr* c = CMSG_FIRSTHDR(&msg);
    c->cmsg_level = SOL_SOCKET;
    c->cmsg_type = SCM_RIGHTS;
    c->cmsg_len = CMSG_LEN(sizeof(int));
    std::memcpy(CMSG_DATA(c), &pass_fd, sizeof(int));
  }
  ssize_t k;
  do {
    k = sendmsg(fd, &msg, MSG_NOSIGNAL);
  } while (k < 0 && errno == EINTR);
  if (k != static_cast<ssize_t>(sizeof r)) return false;
  return len == 0 || SendAll(fd, payload, len);
}

Response Sys(long ret) {
  Response r = {};
  r.ret = ret;
  r.err = ret == -1 ? errno : 0;
  return r;
}

void CloseAllBut(int keep) {
  for (int fd = 3; fd < 1024; ++fd) {
    if (fd != keep) close(fd);
  }
}

// ---- user accesses with SIGSEGV/SIGBUS caught ----

thread_local sigjmp_buf* t_jump = nullptr;
thread_local int t_signo = 0;
thread_local uint64_t t_addr = 0;
thread_local uint64_t t_error_code = 0;

void OnFault(int signo, siginfo_t* info, void* uc_void) {
  if (t_jump == nullptr) {  // a fault outside an access: the server's own bug
    signal(signo, SIG_DFL);
    return;
  }
  t_signo = signo;
  t_addr = reinterpret_cast<uint64_t>(info->si_addr);
  t_error_code = static_cast<uint64_t>(static_cast<ucontext_t*>(uc_void)->uc_mcontext.gregs[REG_ERR]);
  siglongjmp(*t_jump, 1);
}

// One byte at p, read or written by the CPU with no sanitizer check first: under ASan an
// instrumented access would read the shadow of p before p itself, and the shadow of a
// kernel-half address is non-canonical (#GP, SIGSEGV at 0) where the host's answer is
// a #PF at p. Out of line, so the instrumented caller cannot absorb them.
[[gnu::noinline, gnu::no_sanitize_address]] uint8_t RawLoad(volatile uint8_t* p) { return *p; }
[[gnu::noinline, gnu::no_sanitize_address]] void RawStore(volatile uint8_t* p, uint8_t v) { *p = v; }

// Byte-wise loads (write false) or stores of [addr, addr+len). Returns the response:
// ret 0, or a fault with its signal, address and error code; *done = bytes completed.
Response Access(bool write, uint64_t addr, uint8_t* buf, uint64_t len, uint64_t* done) {
  Response r = {};
  volatile uint64_t i = 0;
  sigjmp_buf jb;
  if (sigsetjmp(jb, 1) != 0) {
    t_jump = nullptr;
    r.ret = -1;
    r.signo = t_signo;
    r.fault_addr = t_addr;
    r.error_code = t_error_code;
    *done = i;
    return r;
  }
  t_jump = &jb;
  for (;;) {
    const uint64_t k = i;  // i is volatile: it must survive the longjmp
    if (k >= len) break;
    volatile uint8_t* p = reinterpret_cast<volatile uint8_t*>(addr + k);
    if (write) {
      RawStore(p, buf[k]);
    } else {
      buf[k] = RawLoad(p);
    }
    i = k + 1;
  }
  t_jump = nullptr;
  *done = len;
  return r;
}

// ---- credentials ----

long CapsetCall(uint64_t caps) {
  __user_cap_header_struct h = {_LINUX_CAPABILITY_VERSION_3, 0};
  __user_cap_data_struct d[2] = {};
  d[0].permitted = d[0].effective = static_cast<uint32_t>(caps);
  d[1].permitted = d[1].effective = static_cast<uint32_t>(caps >> 32);
  return syscall(SYS_capset, &h, d);
}

uint64_t PermittedCaps() {
  __user_cap_header_struct h = {_LINUX_CAPABILITY_VERSION_3, 0};
  __user_cap_data_struct d[2] = {};
  if (syscall(SYS_capget, &h, d) != 0) return 0;
  return d[0].permitted | (uint64_t{d[1].permitted} << 32);
}

// A new process takes its scenario credentials and the simulator's stack. Returns 0 or
// an errno.
int SetUpProcess(const uint64_t* a) {
  struct rlimit rl = {8ul << 20, 8ul << 20};  // the simulator's RLIMIT_STACK
  if (setrlimit(RLIMIT_STACK, &rl) != 0) return errno;
  const uint64_t top = kSimStackTop, size = kSimStackSize;
  void* want = reinterpret_cast<void*>(top - size);
  void* got = mmap(want, size, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_GROWSDOWN | MAP_FIXED_NOREPLACE, -1, 0);
  if (got == MAP_FAILED) return errno;
  if (got != want) return EEXIST;
  if (setgroups(0, nullptr) != 0 && errno != EPERM) return errno;
  if (prctl(PR_SET_KEEPCAPS, 1) != 0) return errno;
  if (setresgid(static_cast<gid_t>(a[3]), static_cast<gid_t>(a[4]), static_cast<gid_t>(a[5])) != 0) return errno;
  if (setresuid(static_cast<uid_t>(a[0]), static_cast<uid_t>(a[1]), static_cast<uid_t>(a[2])) != 0) return errno;
  // Capabilities the host does not grant (its bounding set) cannot be had; the rest are.
  if (CapsetCall(a[6] & PermittedCaps()) != 0) return errno;
  if (prctl(PR_SET_KEEPCAPS, 0) != 0) return errno;
  if (prctl(PR_SET_DUMPABLE, a[7] != 0 ? 1 : 0) != 0) return errno;
  return 0;
}

// ---- the server loop ----

void Serve(int fd);

void* ThreadMain(void* arg) {
  const int fd = static_cast<int>(reinterpret_cast<intptr_t>(arg));
  Response hello = {};
  hello.ret = gettid();
  if (Reply(fd, hello, nullptr, 0)) Serve(fd);
  syscall(SYS_exit, 0);
  return nullptr;
}

long ReapChild(pid_t pid) {
  // The child's exit may still be in flight when its parent asks; give it a moment.
  for (int tries = 0;; ++tries) {
    int status = 0;
    long r = wait4(pid, &status, WNOHANG, nullptr);
    if (r != 0 || tries == 100) return r;
    timespec ts = {0, 2000000};
    nanosleep(&ts, nullptr);
  }
}

void Serve(int fd) {
  Buf buf;
  for (;;) {
    Request q;
    if (!RecvAll(fd, &q, sizeof q)) break;  // mmsim is done with us
    if (!buf.Reserve(q.len + 1) || (q.len > 0 && !RecvAll(fd, buf.p, q.len))) break;
    const uint64_t* a = q.a;
    Response r = {};
    switch (q.op) {
      case Op::kMmap: {
        int file = -1;
        if (q.len > 0) {
          buf.p[q.len] = 0;
          file = open(reinterpret_cast<char*>(buf.p), a[5] != 0 ? O_RDONLY : O_RDWR);
          if (file < 0) {
            r = Sys(-1);
            break;
          }
        }
        r = Sys(syscall(SYS_mmap, a[0], a[1], a[2], a[3], file, a[4]));
        if (file >= 0) close(file);
        if (r.ret != -1) r.err = 0;  // an address, not a failure
        break;
      }
      case Op::kMunmap: r = Sys(syscall(SYS_munmap, a[0], a[1])); break;
      case Op::kMprotect: r = Sys(syscall(SYS_mprotect, a[0], a[1], a[2])); break;
      case Op::kStore: {
        uint64_t done = 0;
        r = Access(true, a[0], buf.p, q.len, &done);
        break;
      }
      case Op::kLoad: {
        uint64_t done = 0;
        if (!buf.Reserve(a[1])) {
          r = Sys(-1);
          break;
        }
        r = Access(false, a[0], buf.p, a[1], &done);
        if (!Reply(fd, r, buf.p, done)) return;
        continue;
      }
      case Op::kPvm:
        r = Sys(syscall(a[0] != 0 ? SYS_process_vm_writev : SYS_process_vm_readv,
                        static_cast<pid_t>(a[1]), a[2], a[3], a[4], a[5], a[6]));
        break;
      case Op::kFork: {
        int sv[2];
        if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) != 0) {
          r = Sys(-1);
          break;
        }
        pid_t pid = fork();
        if (pid == 0) {
          CloseAllBut(sv[1]);
          fd = sv[1];
          Response hello = {};
          hello.ret = getpid();
          if (!Reply(fd, hello, nullptr, 0)) _exit(0);
          continue;  // the child serves its own channel from here on
        }
        close(sv[1]);
        r = Sys(pid);
        const bool ok = Reply(fd, r, nullptr, 0, pid > 0 ? sv[0] : -1);
        close(sv[0]);
        if (!ok) return;
        continue;
      }
      case Op::kThread: {
        int sv[2];
        if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) != 0) {
          r = Sys(-1);
          break;
        }
        constexpr size_t kStack = 256 << 10;
        void* stack = OwnMap(kStack);
        pthread_attr_t attr;
        pthread_attr_init(&attr);
        pthread_attr_setstack(&attr, stack, kStack);
        pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
        pthread_t t;
        int e = stack == nullptr ? ENOMEM
                                 : pthread_create(&t, &attr, ThreadMain,
                                                  reinterpret_cast<void*>(static_cast<intptr_t>(sv[1])));
        pthread_attr_destroy(&attr);
        if (e != 0) {
          close(sv[0]);
          close(sv[1]);
          errno = e;
          r = Sys(-1);
          break;
        }
        r = Sys(0);
        const bool ok = Reply(fd, r, nullptr, 0, sv[0]);
        close(sv[0]);
        if (!ok) return;
        continue;
      }
      case Op::kExit:
        Reply(fd, Sys(0), nullptr, 0);
        close(fd);
        syscall(SYS_exit, 0);
        break;
      case Op::kReap: r = Sys(ReapChild(static_cast<pid_t>(a[0]))); break;
      case Op::kSetresuid: r = Sys(syscall(SYS_setresuid, a[0], a[1], a[2])); break;
      case Op::kSetresgid: r = Sys(syscall(SYS_setresgid, a[0], a[1], a[2])); break;
      case Op::kCapset: r = Sys(CapsetCall(a[0])); break;
      case Op::kDumpable: r = Sys(prctl(PR_SET_DUMPABLE, a[0])); break;
      case Op::kMadvise: r = Sys(syscall(SYS_madvise, a[0], a[1], a[2])); break;
      case Op::kMlock:
        r = Sys(a[2] == 0 ? syscall(SYS_mlock, a[0], a[1]) : syscall(SYS_mlock2, a[0], a[1], a[2]));
        break;
      case Op::kMunlock: r = Sys(syscall(SYS_munlock, a[0], a[1])); break;
      case Op::kMlockall: r = Sys(syscall(SYS_mlockall, a[0])); break;
      case Op::kMunlockall: r = Sys(syscall(SYS_munlockall)); break;
      case Op::kPeek: {
        if (!buf.Reserve(a[1])) {
          r = Sys(-1);
          break;
        }
        int mem = open("/proc/self/mem", O_RDONLY);
        long k = mem < 0 ? -1 : pread(mem, buf.p, a[1], static_cast<off_t>(a[0]));
        r = Sys(k);
        if (mem >= 0) close(mem);
        if (!Reply(fd, r, buf.p, k > 0 ? static_cast<size_t>(k) : 0)) return;
        continue;
      }
      case Op::kMaps: {
        int maps = open("/proc/self/maps", O_RDONLY);
        size_t n = 0;
        while (maps >= 0) {
          if (!buf.Reserve(n + 4096)) break;
          ssize_t k = read(maps, buf.p + n, 4096);
          if (k <= 0) break;
          n += static_cast<size_t>(k);
        }
        if (maps >= 0) close(maps);
        pthread_mutex_lock(&g_own_lock);
        for (int i = 0; i < g_nown && buf.Reserve(n + 64); ++i) {
          n += static_cast<size_t>(snprintf(reinterpret_cast<char*>(buf.p + n), 64,
                                            "%lx-%lx (mmsim host server buffer)\n",
                                            static_cast<unsigned long>(g_own[i].lo),
                                            static_cast<unsigned long>(g_own[i].hi)));
        }
        pthread_mutex_unlock(&g_own_lock);
        if (!Reply(fd, Sys(0), buf.p, n)) return;
        continue;
      }
      case Op::kSpawn:
      default:
        errno = EINVAL;
        r = Sys(-1);
        break;
    }
    if (!Reply(fd, r, nullptr, 0)) break;
  }
  syscall(SYS_exit_group, 0);
}

[[noreturn]] void ZygoteMain(int fd) {
  prctl(PR_SET_PDEATHSIG, SIGKILL);
  CloseAllBut(fd);
  struct sigaction sa = {};
  sa.sa_sigaction = OnFault;
  sa.sa_flags = SA_SIGINFO | SA_NODEFER;
  sigaction(SIGSEGV, &sa, nullptr);
  sigaction(SIGBUS, &sa, nullptr);
  for (;;) {
    Request q;
    if (!RecvAll(fd, &q, sizeof q) || q.op != Op::kSpawn || q.len != 0) _exit(0);
    int sv[2];
    if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) != 0) {
      if (!Reply(fd, Sys(-1), nullptr, 0)) _exit(0);
      continue;
    }
    pid_t pid = fork();
    if (pid == 0) {
      prctl(PR_SET_PDEATHSIG, 0);
      CloseAllBut(sv[1]);
      Response hello = {};
      int e = SetUpProcess(q.a);
      hello.ret = e == 0 ? getpid() : -1;
      hello.err = e;
      if (!Reply(sv[1], hello, nullptr, 0) || e != 0) _exit(0);
      Serve(sv[1]);
      _exit(0);
    }
    close(sv[1]);
    const bool ok = Reply(fd, Sys(pid), nullptr, 0, pid > 0 ? sv[0] : -1);
    close(sv[0]);
    if (!ok) _exit(0);
  }
}

}  // namespace

pid_t StartZygote(int* fd) {
  int sv[2];
  if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0) return -1;
  pid_t pid = fork();
  if (pid < 0) return -1;
  if (pid == 0) {
    // Drop CLOEXEC on our end (CloseAllBut keeps it; nothing execs).
    ZygoteMain(sv[1]);
  }
  close(sv[1]);
  *fd = sv[0];
  return pid;
}

}  // namespace sim::host
