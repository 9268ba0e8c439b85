// sim/host/server.h: the host side of `mmsim --host`: every scenario task is a real task
// (process or thread) on the machine's own kernel, running a small server that performs
// the statements mmsim sends it over a socketpair.
//
// Protocol (one request, one response, strictly alternating per channel):
//   mmsim -> task   Request header, then `len` payload bytes
//   task -> mmsim   Response header (with an SCM_RIGHTS fd for kFork/kThread/kSpawn:
//                   the new task's channel), then `len` payload bytes
// A new task's first message on its own channel is a Response whose `ret` is its tid
// (or -1 and the errno with which setting it up failed).
//
// Processes come from a zygote forked at start, before the simulator allocates anything,
// so each process begins with a small, known set of host mappings (the zygote's binary,
// libc, heap, stack, vdso). Every process also gets the simulator's stack: a
// MAP_GROWSDOWN mapping of Machine::kStackSize below Machine::kStackTop, and
// RLIMIT_STACK 8 MiB, the simulator's limit.
#ifndef MMSIM_SIM_HOST_SERVER_H_
#define MMSIM_SIM_HOST_SERVER_H_

#include <sys/types.h>

#include <cstdint>

namespace sim::host {

enum class Op : uint32_t {
  kSpawn = 1,   // zygote only: a new process. a: ruid euid suid rgid egid sgid caps dumpable
  kMmap,        // a: addr len prot flags offset readonly; payload: file path (empty: anon)
  kMunmap,      // a: addr len
  kMprotect,    // a: addr len prot
  kStore,       // a: addr; payload: the bytes, stored one by one
  kLoad,        // a: addr len; response payload: bytes loaded (up to a fault)
  kPvm,         // a: write pid lvec liovcnt rvec riovcnt flags (raw syscall)
  kFork,        // response: child pid, fd of the child's channel
  kThread,      // response: tid, fd of the thread's channel
  kExit,        // SYS_exit after the response
  kReap,        // a: pid; wait4(pid, WNOHANG), retried briefly while it is 0
  kSetresuid,   // a: r e s
  kSetresgid,   // a: r e s
  kCapset,      // a: caps (permitted = effective; inheritable empty)
  kDumpable,    // a: 0|1
  kPeek,        // a: addr len; /proc/self/mem (reads what a debugger would)
  kMaps,        // response payload: /proc/self/maps, then the server's own buffers
  kMadvise,     // a: addr len advice
  kMlock,       // a: addr len flags (0: mlock, else mlock2)
  kMunlock,     // a: addr len
  kMlockall,    // a: flags
  kMunlockall,
};

struct Request {
  Op op;
  uint32_t pad;
  uint64_t a[8];
  uint64_t len;  // payload bytes that follow
};

struct Response {
  int64_t ret;
  int32_t err;
  int32_t signo;        // a user access that faulted: SIGSEGV or SIGBUS
  uint64_t fault_addr;  // its si_addr
  uint64_t error_code;  // the page-fault error code the signal frame carries
  uint64_t len;         // payload bytes that follow
};

// Machine::kStackTop and kStackSize (server.cc cannot include sim/machine.h: the
// kernel port's names clash with libc's; host_runner.cc checks they agree).
inline constexpr uint64_t kSimStackTop = 0x7ffffffff000ull;
inline constexpr uint64_t kSimStackSize = 128ull << 10;

// Forks the zygote; returns its pid and sets *fd to mmsim's end of its channel.
// Must be called while mmsim is single-threaded and small (at start).
pid_t StartZygote(int* fd);

}  // namespace sim::host

#endif  // MMSIM_SIM_HOST_SERVER_H_
