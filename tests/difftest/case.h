// tests/difftest/case.h: one process_vm_readv/writev experiment as plain data.
//
// A Case is two address-space layouts (the caller's "local" one and the
// target's "remote" one) plus one call. A Backend runs a Case somewhere (the
// host kernel, the simulator, a spec model) and returns an Outcome: the
// syscall's return value and errno, and the contents of every region of both
// layouts after the call. Two backends agree on a Case when their Outcomes are
// equal (see compare.h for a readable diff).
//
// Everything here is plain data, copyable and comparable with ==, so cases can
// be generated from a seed (generator.h), shrunk (compare.h) and pasted into a
// test (DescribeCase prints C++ aggregate-initializer code for a Case).
//
// Address windows. All regions of a side live in that side's window:
//   remote (target):  [kRemoteBase, kRemoteBase + kWindowSize)
//   local  (caller):  [kLocalBase,  kLocalBase  + kWindowSize)
// Both windows lie above ASan's shadow (0x00007fff8000..0x10007fff7fff) and far
// from where Linux puts the heap, libraries and stack, so the host backend can
// map them with MAP_FIXED_NOREPLACE in an instrumented test binary. The last
// page of each window is never part of a region, so every byte stream that
// starts inside a window runs into a hole before it can leave the window.
//
// The byte patterns:
//   remote side, at virtual address a:  ((a>>12)*131 + (a&0xfff)*7  + 0x21) mod 256
//                                       (hw::PatternByte, hw/pattern.h)
//   local side,  at virtual address a:  ((a>>12)*37  + (a&0xfff)*11 + 0x5b) mod 256
//                                       (defined here only: case.cc)
// Both change from page to page and from byte to byte, and they differ from
// each other, so a byte copied to the wrong place, or from the wrong side,
// shows. Limitation: within one page each pattern repeats every 256 bytes, so
// a displacement by a multiple of 256 bytes inside one page is invisible.
// The scenario language's `pattern` (sim/scenario/ast.h) is the remote formula,
// whatever the process; DescribeCase's scenario text notes the local mismatch.
#ifndef MMSIM_TESTS_DIFFTEST_CASE_H_
#define MMSIM_TESTS_DIFFTEST_CASE_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace difftest {

inline constexpr uint64_t kPageSize = 4096;

// Window bases and size (see the file comment). 64 GiB each.
inline constexpr uint64_t kRemoteBase = 0x200000000000;
inline constexpr uint64_t kLocalBase = 0x300000000000;
inline constexpr uint64_t kWindowSize = uint64_t{64} << 30;

// x86-64 with 4-level paging: user addresses are below this (TASK_SIZE_MAX).
// An iovec element with len > 0 may start at an address >= kUserTop (kernel,
// non-canonical, (void*)-1): nothing is ever mapped there.
inline constexpr uint64_t kUserTop = 0x00007ffffffff000;

// Kernel limits that the generator and the known-answer tests aim at.
inline constexpr uint64_t kUioMaxIov = 1024;                  // UIO_MAXIOV
inline constexpr uint64_t kSsizeMax = 0x7fffffffffffffff;     // SSIZE_MAX
inline constexpr uint64_t kMaxRwCount = 0x7ffff000;           // MAX_RW_COUNT
inline constexpr uint64_t kPinBatchPages = 1024;              // pages per GUP batch

// Safety limits enforced by ValidateCase (a Case outside them is rejected
// before any backend touches memory).
inline constexpr uint64_t kMaxLayoutBytes = uint64_t{64} << 20;  // per side
inline constexpr size_t kMaxIovecs = 4096;                       // per vector

enum class Side { kLocal, kRemote };

// "local" or "remote".
const char* SideName(Side side);

// The fill byte at virtual address `addr` of `side` (formulas above).
uint8_t PatternByte(Side side, uint64_t addr);

// The 4096 pattern bytes of the page at `page_addr` (page-aligned) of `side`:
// PatternPage(side, p)[i] == PatternByte(side, p + i). Points into a table
// built on first use (thread-safe); valid for the life of the process.
const uint8_t* PatternPage(Side side, uint64_t page_addr);

// kLocalBase or kRemoteBase.
uint64_t WindowBase(Side side);

// The host's vm.mmap_min_addr (/proc/sys/vm/mmap_min_addr; 65536 if it cannot be read).
// The simulated machines take it (Machine::SetSysctl), so both sides refuse the same
// low addresses.
unsigned long HostMmapMinAddr();

// Has the host kernel turned protection keys on (CPUID.7.0:ECX.OSPKE, i.e. CR4.PKE)? Then
// it makes PROT_EXEC-only mappings unreadable (docs/semantics.md §3), and the simulated
// machines compared with it get the same CPU (MachineConfig::pku).
bool HostHasPku();
// Has the host CPU 1 GiB pages (CPUID.80000001H:EDX.Page1GB)? Then Linux has a 1 GiB hugetlb
// page size (MAP_HUGE_1GB: ENOMEM from an empty pool rather than EINVAL), and so do the
// simulated machines compared with it (MachineConfig::gbpages).
bool HostHasGbpages();
// Gives a simulated machine's config (sim::MachineConfig) the host's CPU features, so that
// it and the host kernel it is compared with behave alike.
template <typename MachineConfig>
void UseHostCpu(MachineConfig* config) {
  config->pku = HostHasPku();
  config->gbpages = HostHasGbpages();
}

// "rw-", "r-x", "---", ...: the /proc/PID/maps spelling of PROT_* bits.
std::string ProtString(int prot);

// One private anonymous mapping. addr and len are page-aligned, len > 0.
// Set-up order on every backend: map it read-write, fill it, then change the
// protection to `prot` (if prot is not PROT_READ|PROT_WRITE).
struct Region {
  enum class Fill {
    kZero,     // never touched: reads give zeros from the zero page
    kPattern,  // PatternByte(side, a) at every address a
    kByte,     // every byte is `byte`
  };
  uint64_t addr = 0;
  uint64_t len = 0;
  int prot = 0;  // PROT_READ|PROT_WRITE|PROT_EXEC bits; 0 = PROT_NONE
  Fill fill = Fill::kZero;
  uint8_t byte = 0;  // used only by Fill::kByte

  uint64_t end() const { return addr + len; }
  friend bool operator==(const Region&, const Region&) = default;
};

// The mappings of one side. Holes are simply absent regions. Regions must not
// overlap; they need not be sorted, and Outcome bytes follow this order.
struct Layout {
  std::vector<Region> regions;

  uint64_t TotalBytes() const;
  friend bool operator==(const Layout&, const Layout&) = default;
};

// One struct iovec.
struct Iov {
  uint64_t base = 0;
  uint64_t len = 0;
  friend bool operator==(const Iov&, const Iov&) = default;
};

// One syscall: process_vm_readv (write=false) or process_vm_writev (write=true)
// of pid(target), lvec=local, liovcnt=local.size(), rvec=remote,
// riovcnt=remote.size(), flags. The iovec arrays themselves live in ordinary,
// readable memory of the caller.
struct Call {
  bool write = false;
  std::vector<Iov> local, remote;
  uint64_t flags = 0;
  friend bool operator==(const Call&, const Call&) = default;
};

struct Case {
  Layout local_layout;
  Layout remote_layout;
  Call call;
  friend bool operator==(const Case&, const Case&) = default;
};

// What a backend observed.
struct Outcome {
  int64_t ret = 0;  // the syscall's return value (-1 on error)
  int err = 0;      // errno if ret < 0, else 0
  // The contents after the call of every region of the local (resp. remote)
  // layout, concatenated in region order, whatever the region's prot.
  std::vector<uint8_t> local_bytes;
  std::vector<uint8_t> remote_bytes;
  friend bool operator==(const Outcome&, const Outcome&) = default;
};

// Checks that a Case is safe and meaningful to run:
//  * regions: page-aligned addr and len, len > 0, prot within RWX, inside the
//    side's window minus its last page, no two overlapping, each layout at most
//    kMaxLayoutBytes;
//  * at most kMaxIovecs elements per vector;
//  * every iovec element with len > 0 starts inside one of the two windows,
//    in page 0, or at/after kUserTop. (Such a stream can never reach memory of
//    the test process itself: it stops at the first hole, and every window
//    ends in one.) Zero-length elements may have any base.
// Returns InvalidArgument naming the offending field otherwise.
absl::Status ValidateCase(const Case& c);

// The interface every backend implements.
//
// Contract for Run(c):
//  * REQUIRES: ValidateCase(c).ok(). A backend returns InvalidArgument otherwise.
//  * Two processes exist for the duration of the call: the caller and the
//    target, in different address spaces. The target has exactly the regions of
//    c.remote_layout and nothing else in the remote window; the caller has
//    exactly c.local_layout in the local window. Neither has anything mapped in
//    the other's window. Each region is set up as described at Region.
//  * The caller has permission to access the target (no EPERM), and the pid
//    is valid (no ESRCH): Cases test memory and iovec semantics only.
//  * The call is made once, exactly as described by c.call (liovcnt and
//    riovcnt are the vector sizes; a count above 1024 is passed as is).
//  * Afterwards the backend reads every region's bytes without side effects on
//    what it reports (e.g. mprotect to read-only, or a debug read), and tears
//    everything down, so Run can be called again with the same result.
//  * Returns an Outcome for every result of the call, including errors of the
//    call itself (ret -1, err EFAULT, ...). A non-OK Status means the backend
//    could not run the experiment: Unavailable when the backend cannot run
//    here at all (e.g. process_vm_readv is forbidden), Internal for a harness
//    failure.
class Backend {
 public:
  virtual ~Backend();
  virtual absl::StatusOr<Outcome> Run(const Case& c) = 0;
  virtual std::string name() const = 0;
};

}  // namespace difftest

#endif  // MMSIM_TESTS_DIFFTEST_CASE_H_
