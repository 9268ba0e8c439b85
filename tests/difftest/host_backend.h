// tests/difftest/host_backend.h: runs a Case on the real host kernel.
//
// The target. The first Run forks a target child T (a "target server"), and
// later Runs reuse it; each Run still gives T a fresh set of mappings. Reusing
// T matters for speed: every fork write-protects all of the test process's
// memory, and the copy-on-write faults that follow cost more than the case
// itself (a page fault costs ~10 us in this project's VM).
//
// How one Run(c) works:
//  1. The test process (the caller) checks that both windows are empty in its
//     own address space and in T's (/proc/PID/maps), forking T if needed.
//  2. It sends c.remote_layout to T. T maps each region with
//     MAP_FIXED_NOREPLACE|MAP_PRIVATE|MAP_ANONYMOUS read-write, fills it,
//     mprotects it to its prot, and reports "ready".
//  3. The caller maps c.local_layout the same way in the local window, then
//     makes the call with the raw syscall (syscall(SYS_process_vm_readv, ...);
//     not the libc wrapper, which sanitizers intercept) and records ret/errno.
//     The iovec arrays live in the caller's ordinary heap.
//  4. The caller mprotects its regions read-only, copies their bytes and
//     unmaps them, then tells T to go on. T mprotects its regions read-only,
//     sends their bytes, unmaps them and reports "done".
// The caller is T's parent, so Yama's ptrace_scope=1 allows the access even
// without CAP_SYS_PTRACE. Every wait has a timeout (poll); T dies with the
// thread that forked it (PR_SET_PDEATHSIG) and on an alarm if the caller
// stops answering mid-case; on any error the caller kills and reaps T (a new
// one is forked on the next Run) and unmaps what it mapped. The destructor
// closes the channel and reaps T.
//
// Availability. The first Run (or Availability()) makes a sanity call: a
// 1-byte process_vm_readv of a mapped page. If it fails with EPERM or ENOSYS
// (seccomp, a container without ptrace rights, a kernel without the syscall),
// the backend is Unavailable and every Run returns that status; tests must
// GTEST_SKIP() with it. Any other surprise in the sanity call is Internal.
//
// Not thread-safe: one HostBackend per thread, created and used on the same
// thread (PR_SET_PDEATHSIG follows the forking thread), and no other thread
// may map anything in the windows while Run is active.
#ifndef MMSIM_TESTS_DIFFTEST_HOST_BACKEND_H_
#define MMSIM_TESTS_DIFFTEST_HOST_BACKEND_H_

#include <sys/types.h>

#include <optional>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "tests/difftest/case.h"

namespace difftest {

class HostBackend final : public Backend {
 public:
  // `timeout_ms` bounds each wait for the target child.
  explicit HostBackend(int timeout_ms = 20000);
  ~HostBackend() override;
  HostBackend(const HostBackend&) = delete;
  HostBackend& operator=(const HostBackend&) = delete;

  // OK if the host can run cases; Unavailable (with the reason) if the
  // sanity call was refused with EPERM/ENOSYS; Internal if the harness itself
  // failed. Computed once, on first use.
  absl::Status Availability();

  // See Backend. Returns Availability() if that is not OK.
  absl::StatusOr<Outcome> Run(const Case& c) override;
  std::string name() const override { return "host"; }

 private:
  absl::StatusOr<Outcome> RunUnchecked(const Case& c);
  absl::Status StartTarget();
  void StopTarget();

  const int timeout_ms_;
  std::optional<absl::Status> availability_;
  pid_t target_pid_ = -1;  // T, or -1 if none is running
  int target_fd_ = -1;     // our end of the channel to T
};

}  // namespace difftest

#endif  // MMSIM_TESTS_DIFFTEST_HOST_BACKEND_H_
