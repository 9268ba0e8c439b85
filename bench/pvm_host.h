// bench/pvm_host.h: the host side of bench/pvm_bench.cc: the real process_vm_readv/writev
// against a forked child, host memory buffers, and the process's RSS.
//
// Kept in its own translation unit because the host's <sys/mman.h> and <sys/uio.h> define
// PROT_*, MAP_* and struct iovec, which collide with the kernel port's names (mm/mm.h).
//
// HostTarget forks a child that maps one anonymous private region (4 KiB pages:
// MADV_NOHUGEPAGE, or, for the THP benchmarks, 2 MiB aligned with MADV_HUGEPAGE), optionally fills it with
// the benchmark pattern, sends its address up a pipe and then waits for commands. The
// parent reads and writes the region with the real syscalls. The child dies with the parent
// (PR_SET_PDEATHSIG) and is killed and reaped by the destructor.
#ifndef MMSIM_BENCH_PVM_HOST_H_
#define MMSIM_BENCH_PVM_HOST_H_

#include <sys/types.h>

#include <cstddef>
#include <cstdint>
#include <string>

#include "hw/pattern.h"

namespace pvmbench {

// Layout-compatible with struct iovec (checked in pvm_host.cc).
struct HostIov {
  void* base;
  size_t len;
};

// The byte every benchmark region holds at offset `off` from its start.
inline uint8_t Pattern(uint64_t off) { return hw::PatternByte(off); }
void FillPattern(uint8_t* p, size_t len);

class HostTarget {
 public:
  HostTarget() = default;
  ~HostTarget();
  HostTarget(const HostTarget&) = delete;
  HostTarget& operator=(const HostTarget&) = delete;

  // Forks the child with a `bytes` region; `touch` fills it with the pattern (pre-faulted),
  // otherwise it is never touched. `huge`: the region is 2 MiB aligned and MADV_HUGEPAGE
  // (THP backed if the host kernel found order-9 pages: see AnonHugeBytes). False (and
  // *err) on failure.
  bool Start(size_t bytes, bool touch, std::string* err, bool huge = false);
  pid_t pid() const { return pid_; }
  uint64_t base() const { return base_; }
  // munmap + mmap(MAP_FIXED) of the region in the child: untouched again (no pages, no
  // page tables), at the same address. Blocks until the child has done it.
  bool Fresh();

 private:
  bool Command(char c);
  bool huge_ = false;
  pid_t pid_ = -1;
  int cmd_fd_ = -1;
  int reply_fd_ = -1;
  uint64_t base_ = 0;
};

// syscall(SYS_process_vm_readv / SYS_process_vm_writev, ...): bytes or -errno.
long HostProcessVmReadv(pid_t pid, const HostIov* local, unsigned long liovcnt,
                        const HostIov* remote, unsigned long riovcnt);
long HostProcessVmWritev(pid_t pid, const HostIov* local, unsigned long liovcnt,
                         const HostIov* remote, unsigned long riovcnt);

// A page-aligned anonymous host buffer with 4 KiB pages, pre-faulted (zero-filled); `huge`:
// 2 MiB aligned, MADV_HUGEPAGE, rounded up to 2 MiB (THP backed if the host allows).
class HostBuffer {
 public:
  explicit HostBuffer(size_t bytes, bool huge = false);
  ~HostBuffer();
  HostBuffer(const HostBuffer&) = delete;
  HostBuffer& operator=(const HostBuffer&) = delete;
  uint8_t* data() const { return p_; }
  size_t size() const { return bytes_; }

 private:
  uint8_t* p_ = nullptr;
  size_t bytes_ = 0;
  size_t mapped_ = 0;
};

// The AnonHugePages bytes of the VMA of process `pid` (0: this process) that contains
// `start` (all of it, if the kernel merged it with a neighbour), from /proc/<pid>/smaps;
// -1 if there is no such VMA or smaps is unreadable.
long long AnonHugeBytes(pid_t pid, uint64_t start);

// /proc/self/status fields in bytes (-1 if unreadable).
long long CurrentRssBytes();  // VmRSS
long long PeakRssBytes();     // VmHWM
// Resets VmHWM to the current RSS (writes "5" to /proc/self/clear_refs). False if the
// kernel refused.
bool ResetPeakRss();

}  // namespace pvmbench

#endif  // MMSIM_BENCH_PVM_HOST_H_
