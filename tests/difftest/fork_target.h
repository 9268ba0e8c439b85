// tests/difftest/fork_target.h: the plumbing the fork-based differential tests share
// (sharing_diff_test, thp_diff_test): a target process forked by the test reports in over
// a pipe and waits; the test calls process_vm_readv/writev on it with the raw syscall; and
// on the simulator side, the caller's buffer is mapped and filled the same way before the
// simulated call.
#ifndef MMSIM_TESTS_DIFFTEST_FORK_TARGET_H_
#define MMSIM_TESTS_DIFFTEST_FORK_TARGET_H_

#include <sys/types.h>
#include <sys/uio.h>

#include <cstdint>
#include <memory>
#include <vector>

#include "absl/status/statusor.h"
#include "sim/machine.h"
#include "tests/difftest/case.h"

namespace difftest {

// The raw system call (not libc's wrapper, which sanitizers intercept), flags 0.
ssize_t HostPvm(bool write, pid_t pid, const iovec* l, unsigned long ln, const iovec* rv,
                unsigned long rn);

// What a target reports when it is set up (one atomic pipe write).
struct ReadyMsg {
  int32_t tag;  // 'R'
  int32_t is_child;
  int32_t pid;
};

// Waits for one ReadyMsg on fd, with a timeout.
bool WaitReady(int fd, ReadyMsg* msg, int timeout_ms = 20000);

// In a target (after fork; async-signal-safe): reports 'R' with getpid() on `ready`, then
// blocks until the test closes `go`. False if the report could not be written.
bool ReportReadyAndWait(int ready, int go, bool is_child);

// The test process's side of a host call, as SimCallFromLocal below: maps
// [kLocalBase, +max(local_len, 1)) here (MAP_FIXED_NOREPLACE), fills it (the local pattern
// for a write, `read_fill` for a read), calls process_vm_writev/readv on `target` with
// `remote` (absolute addresses), copies the local bytes to *local and unmaps. Returns the
// call's result with its errno in *err (0 on success); InternalError if the buffer cannot
// be mapped.
absl::StatusOr<ssize_t> HostCallFromLocal(pid_t target, bool write, uint64_t local_len,
                                          uint8_t read_fill, const std::vector<Iov>& remote,
                                          std::vector<uint8_t>* local, int* err);

// The simulated caller's side of a call: maps [kLocalBase, +max(local_len, 1)) in `caller`
// (MAP_FIXED), fills it with the local pattern for a write or with `read_fill` for a read,
// and calls process_vm_writev/readv on `target` with that one local element and `remote`
// (absolute addresses).
absl::StatusOr<sim::SysResult> SimCallFromLocal(sim::Machine& m, int caller, int target,
                                                bool write, uint64_t local_len, uint8_t read_fill,
                                                const std::vector<sim::Machine::Iovec>& remote);

// A simulated machine as every differential test here starts one: built from `config`,
// with the host's vm.mmap_min_addr, and two processes, "caller" and "target".
struct SimCallerAndTarget {
  std::unique_ptr<sim::Machine> machine;
  int caller = 0;
  int target = 0;
};
absl::StatusOr<SimCallerAndTarget> MakeSimCallerAndTarget(const sim::MachineConfig& config);

}  // namespace difftest

#endif  // MMSIM_TESTS_DIFFTEST_FORK_TARGET_H_
