// tests/pvm/pvm_fixture.h: the fixture of the process_vm_readv/process_vm_writev suites.
//
// Every suite in tests/pvm checks the simulator against docs/semantics.md case for case:
// the return value, errno and the bytes on both sides. PvmTest boots one sim::Machine per
// test with two root processes, `caller` (makes the calls) and `target` (is read/written),
// and offers step helpers (map, fill, protect, call) that each end with a whole-machine
// consistency check:
//  * Machine::DebugVmCheck() must report 0 violations after every step;
//  * after every process_vm_* call, NR_FOLL_PIN_ACQUIRED == NR_FOLL_PIN_RELEASED (every pin
//    the syscall took has been dropped again, on success and on every error path).
// A failed check is a test failure naming the step.
//
// Addresses. The target's memory is mapped at kRemote.., the caller's at kLocal..; both
// are far from the [stack] VMA. "Pattern" memory holds, at virtual address a,
//   Pat(a) = hw::PatternByte(a) = ((a >> 12) * 131 + (a & 0xfff) * 7 + 0x21) mod 256,
// which changes from byte to byte and from page to page, so a byte copied to or from the
// wrong place shows. Local buffers are usually filled with one constant (kLocalFill) so that
// "untouched" is easy to see.
//
// Short names for the mmap/mprotect constants the suites use (kR, kRW, kMapFixed ...),
// checked against <sys/mman.h>, which mm/mm.h includes.
#ifndef MMSIM_TESTS_PVM_PVM_FIXTURE_H_
#define MMSIM_TESTS_PVM_PVM_FIXTURE_H_

#include <cerrno>
#include <cstdint>
#include <algorithm>
#include <cstring>
#include <map>
#include <memory>
#include <optional>
#include <ostream>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/types/span.h"
#include "gtest/gtest.h"
#include "hw/pattern.h"
#include "mm/fault_inject.h"
#include "mm/kernel.h"
#include "mm/mm.h"
#include "mm/pagewalk.h"
#include "sim/machine.h"
#include "sim/scenario/errno_names.h"

namespace pvmtest {

inline constexpr uint64_t kPage = 4096;

// Protection bits (PROT_*) and mmap flags (MAP_*), x86-64 Linux values.
inline constexpr int kNone = 0x0;
inline constexpr int kR = 0x1;
inline constexpr int kW = 0x2;
inline constexpr int kX = 0x4;
inline constexpr int kRW = kR | kW;
inline constexpr int kMapShared = 0x01;
inline constexpr int kMapPrivate = 0x02;
inline constexpr int kMapFixed = 0x10;
inline constexpr int kMapAnonymous = 0x20;
inline constexpr int kMapGrowsdown = 0x0100;
static_assert(kR == PROT_READ && kW == PROT_WRITE && kX == PROT_EXEC);
static_assert(kMapShared == MAP_SHARED && kMapPrivate == MAP_PRIVATE && kMapFixed == MAP_FIXED &&
              kMapAnonymous == MAP_ANONYMOUS && kMapGrowsdown == MAP_GROWSDOWN);

// Where the suites map memory: the target's regions at kRemote + ..., the caller's at
// kLocal + ... (the difftest windows, see tests/difftest/case.h).
inline constexpr uint64_t kRemote = 0x200000000000;
inline constexpr uint64_t kLocal = 0x300000000000;

// Limits from docs/semantics.md §5.1 (constants).
inline constexpr uint64_t kUioMaxIov = 1024;
inline constexpr uint64_t kSsizeMax = 0x7fffffffffffffff;
inline constexpr uint64_t kMaxRwCount = 0x7ffff000;
inline constexpr uint64_t kTaskSizeMax = 0x00007ffffffff000;
inline constexpr uint64_t kPinBatchPages = 1024;
// Addresses where nothing can ever be mapped.
inline constexpr uint64_t kMinusOne = ~uint64_t{0};                 // (void*)-1
inline constexpr uint64_t kKernelAddr = 0xffff888000000000;         // direct map
inline constexpr uint64_t kNonCanonical = 0x0000800000000000;       // first non-canonical
inline constexpr uint64_t kVsyscall = 0xffffffffff600000;           // the vsyscall page

// The fill of local buffers before a readv: a constant that no pattern run reproduces for
// long, so untouched bytes are plain to see.
inline constexpr uint8_t kLocalFill = 0xee;

using Iov = sim::Machine::Iovec;
using IovList = std::vector<Iov>;

// The pattern byte at virtual address a (see the file comment).
inline uint8_t Pat(uint64_t a) { return hw::PatternByte(a); }
inline std::vector<uint8_t> PatBytes(uint64_t addr, uint64_t len) {
  std::vector<uint8_t> v(len);
  hw::FillPattern(addr, v.data(), v.size());
  return v;
}

// "EFAULT", "EINVAL", ... for messages.
inline std::string ErrName(int err) {
  if (err == 0) return "0";
  const char* name = sim::scenario::ErrnoName(err);
  return name != nullptr ? std::string(name) : absl::StrCat("errno ", err);
}
inline std::string Show(const sim::SysResult& r) {
  return r.ret >= 0 && r.err == 0 ? absl::StrCat(r.ret)
                                  : absl::StrCat(r.ret, " ", ErrName(r.err));
}

// EXPECT_TRUE(Returns(r, 4096)) / EXPECT_TRUE(Fails(r, EFAULT)): the libc convention result
// of a call, with a readable message on mismatch.
inline ::testing::AssertionResult Returns(const sim::SysResult& r, long want) {
  if (r.ret == want && r.err == 0) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << "got " << Show(r) << ", want " << want;
}
inline ::testing::AssertionResult Fails(const sim::SysResult& r, int want_err) {
  if (r.ret == -1 && r.err == want_err) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << "got " << Show(r) << ", want -1 " << ErrName(want_err);
}

// Compares two byte ranges and names the first difference (and how many bytes differ).
inline ::testing::AssertionResult SameBytes(const std::vector<uint8_t>& got,
                                            const std::vector<uint8_t>& want,
                                            uint64_t base_addr = 0) {
  if (got.size() != want.size()) {
    return ::testing::AssertionFailure() << "size " << got.size() << ", want " << want.size();
  }
  uint64_t first = 0, count = 0, last = 0;
  for (uint64_t i = 0; i < got.size(); ++i) {
    if (got[i] != want[i]) {
      if (count == 0) first = i;
      last = i;
      ++count;
    }
  }
  if (count == 0) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << absl::StrFormat(
             "%d of %d bytes differ; first at offset %d (addr %#x): got %#04x want %#04x; "
             "last at offset %d (addr %#x)",
             count, got.size(), first, base_addr + first, got[first], want[first], last,
             base_addr + last);
}

// Stream helpers for the expectations of the partial-transfer rule.
//
// The addresses of the first `limit` bytes named by an iovec list, joined in order
// (docs/semantics.md §1.1: the "stream").
inline std::vector<uint64_t> StreamAddrs(absl::Span<const Iov> iovs, uint64_t limit) {
  std::vector<uint64_t> out;
  for (const Iov& v : iovs) {
    for (uint64_t i = 0; i < v.len && out.size() < limit; ++i) out.push_back(v.base + i);
    if (out.size() >= limit) break;
  }
  return out;
}
// The stream length (saturating at 2^64-1).
inline uint64_t StreamLen(absl::Span<const Iov> iovs) {
  uint64_t n = 0;
  for (const Iov& v : iovs) n = v.len > ~uint64_t{0} - n ? ~uint64_t{0} : n + v.len;
  return n;
}


// Arms the fault point `point` of machine `m` (mm/fault_inject.h) for the scope's
// lifetime: the first `skip` passes through it succeed, the next `times` fail (-1: all),
// the rest succeed. The counts stay readable on the machine after the scope ends
// (Machine::FaultCalls / FaultFailures).
class ScopedFault {
 public:
  ScopedFault(sim::Machine& m, const char* point, uint64_t skip = 0, int64_t times = -1)
      : m_(m), point_(point) {
    const absl::Status st = m_.ArmFault(point_, {.nth = skip + 1, .times = times});
    EXPECT_TRUE(st.ok()) << st;
  }
  ~ScopedFault() { m_.DisarmFault(point_); }
  ScopedFault(const ScopedFault&) = delete;
  ScopedFault& operator=(const ScopedFault&) = delete;

 private:
  sim::Machine& m_;
  const char* point_;
};

// Transfer direction, for suites parameterized over readv and writev.
enum class Dir { kRead, kWrite };
inline const char* DirName(Dir d) { return d == Dir::kRead ? "Readv" : "Writev"; }
inline void PrintTo(Dir d, std::ostream* os) { *os << DirName(d); }
struct DirParamName {
  std::string operator()(const ::testing::TestParamInfo<Dir>& info) const {
    return DirName(info.param);
  }
};

// The fixture. Suites derive from it (or from PvmTestWithParam<T> for TEST_P).
class PvmFixture {
 public:
  virtual ~PvmFixture() = default;

 protected:
  // Boots the machine and creates `caller` and `target` (both root, full capabilities,
  // dumpable). Records a fatal failure if that is impossible.
  void BootMachine(const sim::MachineConfig& config = DefaultConfig()) {
    auto m = sim::Machine::Create(config);
    ASSERT_TRUE(m.ok()) << "Machine::Create: " << m.status();
    machine_ = std::move(*m);
    auto c = machine_->CreateProcess("caller", sim::ProcessCreds{});
    ASSERT_TRUE(c.ok()) << "CreateProcess(caller): " << c.status();
    caller_ = *c;
    auto t = machine_->CreateProcess("target", sim::ProcessCreds{});
    ASSERT_TRUE(t.ok()) << "CreateProcess(target): " << t.status();
    target_ = *t;
    CheckVm("boot + CreateProcess(caller, target)");
  }

  static sim::MachineConfig DefaultConfig() {
    sim::MachineConfig c;
    c.memory_bytes = uint64_t{256} << 20;
    return c;
  }

  sim::Machine& m() { return *machine_; }
  long vmstat(kernel::vm_stat_item item) { return machine_->vmstat(item); }

  // ---- the whole-machine checks ----

  // DebugVmCheck must be clean; `step` names what just happened.
  void CheckVm(const std::string& step) {
    if (machine_ == nullptr) return;
    std::string report;
    const int violations = machine_->DebugVmCheck(&report);
    EXPECT_EQ(violations, 0) << "debug_vm after " << step << ":\n" << report;
  }
  // Every pin taken so far has been released.
  void CheckPins(const std::string& step) {
    EXPECT_EQ(vmstat(kernel::NR_FOLL_PIN_ACQUIRED), vmstat(kernel::NR_FOLL_PIN_RELEASED))
        << "FOLL_PIN acquired/released out of balance after " << step;
  }

  // ---- set-up steps (each followed by CheckVm) ----

  // A private anonymous mapping at the fixed address `addr`.
  void Map(int pid, uint64_t addr, uint64_t len, int prot, int extra_flags = 0) {
    const sim::SysResult r =
        m().Mmap(pid, addr, len, prot, kMapPrivate | kMapAnonymous | kMapFixed | extra_flags);
    EXPECT_EQ(static_cast<uint64_t>(r.ret), addr)
        << "mmap(" << Hex(addr) << ", " << len << ") in pid " << pid << ": " << Show(r);
    if (static_cast<uint64_t>(r.ret) == addr) {
      Forget(pid, addr, len);
      regions_.push_back({pid, addr, len});
    }
    CheckVm(absl::StrCat("mmap ", Hex(addr), "+", len, " pid ", pid));
  }
  void Unmap(int pid, uint64_t addr, uint64_t len) {
    const sim::SysResult r = m().Munmap(pid, addr, len);
    EXPECT_TRUE(Returns(r, 0)) << "munmap(" << Hex(addr) << ", " << len << ")";
    Forget(pid, addr, len);
    CheckVm(absl::StrCat("munmap ", Hex(addr), "+", len, " pid ", pid));
  }
  void Protect(int pid, uint64_t addr, uint64_t len, int prot) {
    const sim::SysResult r = m().Mprotect(pid, addr, len, prot);
    EXPECT_TRUE(Returns(r, 0)) << "mprotect(" << Hex(addr) << ", " << len << ", " << prot << ")";
    CheckVm(absl::StrCat("mprotect ", Hex(addr), "+", len, " pid ", pid));
  }
  // User-mode stores of `bytes` at `addr` (the memory must be writable).
  void Store(int pid, uint64_t addr, absl::Span<const uint8_t> bytes) {
    const sim::UserAccess a = m().Store(pid, addr, bytes);
    EXPECT_TRUE(a.ok) << "user store at " << Hex(addr) << "+" << bytes.size() << " in pid "
                      << pid << ": signal " << a.signal << " at " << Hex(a.fault_addr);
    CheckVm(absl::StrCat("store ", Hex(addr), "+", bytes.size(), " pid ", pid));
  }
  void FillPattern(int pid, uint64_t addr, uint64_t len) { Store(pid, addr, PatBytes(addr, len)); }
  void FillByte(int pid, uint64_t addr, uint64_t len, uint8_t b) {
    Store(pid, addr, std::vector<uint8_t>(len, b));
  }
  // Map read-write, fill with the pattern, then change the protection to `prot`.
  void MapPattern(int pid, uint64_t addr, uint64_t len, int prot = kRW) {
    Map(pid, addr, len, kRW);
    FillPattern(pid, addr, len);
    if (prot != kRW) Protect(pid, addr, len, prot);
  }
  // Map read-write, fill with `b`, then change the protection to `prot`.
  void MapFilled(int pid, uint64_t addr, uint64_t len, uint8_t b, int prot = kRW) {
    Map(pid, addr, len, kRW);
    FillByte(pid, addr, len, b);
    if (prot != kRW) Protect(pid, addr, len, prot);
  }

  // A file mapping (MAP_FIXED | `flags`, MAP_SHARED or MAP_PRIVATE) of fd at `off`. The
  // first `tracked` bytes (default: all) join the snapshots; they must be faulted in
  // (Touch) before a snapshot, since Peek cannot read a file page that is not mapped yet.
  void MapFile(int pid, uint64_t addr, uint64_t len, int prot, int flags, int fd, uint64_t off,
               uint64_t tracked = ~uint64_t{0}) {
    const sim::SysResult r = m().Mmap(pid, addr, len, prot, flags | kMapFixed, fd, off);
    EXPECT_EQ(static_cast<uint64_t>(r.ret), addr)
        << "mmap(" << Hex(addr) << ", " << len << ", fd " << fd << ") in pid " << pid << ": "
        << Show(r);
    if (static_cast<uint64_t>(r.ret) == addr) {
      Forget(pid, addr, len);
      regions_.push_back({pid, addr, std::min(len, tracked)});
    }
    CheckVm(absl::StrCat("mmap file ", Hex(addr), "+", len, " pid ", pid));
  }
  // User-mode loads of every page of [addr, addr+len): faults the pages in.
  void Touch(int pid, uint64_t addr, uint64_t len) {
    const sim::UserAccess a = m().Load(pid, addr, len);
    EXPECT_TRUE(a.ok) << "user load at " << Hex(addr) << "+" << len << " in pid " << pid
                      << ": signal " << a.signal << " at " << Hex(a.fault_addr);
    CheckVm(absl::StrCat("load ", Hex(addr), "+", len, " pid ", pid));
  }

  // The bytes at addr..addr+len of pid, without side effects. Machine::PeekUser (a
  // hardware-style read walk, like /proc/PID/mem) where it can read; where it cannot, a
  // software walk of pid's page tables: a page without a PTE (never touched) reads as
  // zeros, as the process would see it, and a PROT_NONE page (PTE not present for the CPU
  // but still mapping its frame) reads from its frame.
  std::vector<uint8_t> Peek(int pid, uint64_t addr, uint64_t len) {
    auto all = m().PeekUser(pid, addr, len);
    if (all.ok()) return *std::move(all);
    std::vector<uint8_t> out;
    out.reserve(len);
    for (uint64_t a = addr; a < addr + len;) {
      const uint64_t n = std::min(addr + len, (a & ~(kPage - 1)) + kPage) - a;
      auto part = m().PeekUser(pid, a, n);
      if (part.ok()) {
        out.insert(out.end(), part->begin(), part->end());
        a += n;
        continue;
      }
      const std::optional<kernel::pte_t> pte = LookupPte(pid, a);
      if (!pte.has_value() || kernel::pte_none(*pte)) {
        const int vma = VmaKind(pid, a);
        EXPECT_NE(vma, 0) << "Peek of " << Hex(a) << " in pid " << pid << ": not mapped at all";
        EXPECT_NE(vma, 2) << "Peek of " << Hex(a) << " in pid " << pid
                          << ": a file page never faulted in; Touch() it first";
        out.insert(out.end(), n, 0);
      } else if (kernel::pte_present(*pte)) {  // includes PROT_NONE
        const uint8_t* frame = m().phys().ptr(hw::PhysAddr(kernel::pte_pfn(*pte) << 12));
        out.insert(out.end(), frame + (a & (kPage - 1)), frame + (a & (kPage - 1)) + n);
      } else {
        ADD_FAILURE() << "cannot read " << Hex(a) << " of pid " << pid << ": " << part.status()
                      << ", PTE " << Hex(kernel::pte_val(*pte));
        out.insert(out.end(), n, 0);
      }
      a += n;
    }
    return out;
  }

  // ---- page-table and accounting views ----

  // The PTE that maps `addr` in pid's address space, or nullopt if no page table covers
  // it. A software walk of the real tables (pgd -> p4d -> pud -> pmd -> pte), no side effects.
  std::optional<kernel::pte_t> LookupPte(int pid, uint64_t addr) {
    kernel::task_struct* t = m().FindTask(pid);
    if (t == nullptr || t->mm == nullptr) return std::nullopt;
    return m().Inspect([&](const kernel::kernel_state&) -> std::optional<kernel::pte_t> {
      kernel::pte_t* pte = kernel::mm_find_pte(t->mm, addr);
      if (pte == nullptr) return std::nullopt;
      return kernel::ptep_get(pte);
    });
  }
  // 0: no VMA of pid contains addr; 1: an anonymous VMA does; 2: a file-backed one.
  int VmaKind(int pid, uint64_t addr) {
    kernel::task_struct* t = m().FindTask(pid);
    if (t == nullptr || t->mm == nullptr) return 0;
    const kernel::vm_area_struct* vma =
        m().Inspect([&](const kernel::kernel_state&) { return kernel::vma_lookup(t->mm, addr); });
    if (vma == nullptr) return 0;
    return vma->vm_file == nullptr ? 1 : 2;
  }
  // The struct page mapped at `addr` of pid (nullptr if not present).
  kernel::page* MappedPage(int pid, uint64_t addr) {
    const std::optional<kernel::pte_t> pte = LookupPte(pid, addr);
    if (!pte || !kernel::pte_present(*pte)) return nullptr;
    return m().Inspect([&](const kernel::kernel_state&) { return kernel::pte_page(*pte); });
  }
  bool MapsZeroPage(int pid, uint64_t addr) {
    const std::optional<kernel::pte_t> pte = LookupPte(pid, addr);
    if (!pte || !kernel::pte_present(*pte)) return false;
    return m().Inspect(
        [&](const kernel::kernel_state&) { return kernel::is_zero_pfn(kernel::pte_pfn(*pte)); });
  }
  // Resident anonymous pages of pid (RSS "anon", MM_ANONPAGES).
  long AnonRss(int pid) {
    kernel::task_struct* t = m().FindTask(pid);
    if (t == nullptr || t->mm == nullptr) return -1;
    return static_cast<long>(kernel::get_mm_counter(t->mm, kernel::MM_ANONPAGES));
  }

  // ---- the calls (each followed by CheckPins and CheckVm) ----

  // process_vm_readv/writev(target, local, remote, flags) made by `pid`, with the iovec
  // arrays written into pid's memory by the Machine (as libc would pass them).
  sim::SysResult Call(Dir dir, int pid, int target, absl::Span<const Iov> local,
                      absl::Span<const Iov> remote, uint64_t flags = 0) {
    const sim::SysResult r = dir == Dir::kRead
                                 ? m().ProcessVmReadv(pid, target, local, remote, flags)
                                 : m().ProcessVmWritev(pid, target, local, remote, flags);
    AfterCall(dir, r);
    return r;
  }
  sim::SysResult Call(Dir dir, absl::Span<const Iov> local, absl::Span<const Iov> remote,
                      uint64_t flags = 0) {
    return Call(dir, caller_, target_, local, remote, flags);
  }
  sim::SysResult Readv(absl::Span<const Iov> local, absl::Span<const Iov> remote) {
    return Call(Dir::kRead, local, remote);
  }
  sim::SysResult Writev(absl::Span<const Iov> local, absl::Span<const Iov> remote) {
    return Call(Dir::kWrite, local, remote);
  }
  // The raw form: lvec/rvec are addresses in pid's memory (see PutIovecs).
  sim::SysResult CallRaw(Dir dir, int pid, int target, uint64_t lvec, uint64_t liovcnt,
                         uint64_t rvec, uint64_t riovcnt, uint64_t flags = 0) {
    const sim::SysResult r =
        dir == Dir::kRead
            ? m().ProcessVmReadv(pid, target, lvec, liovcnt, rvec, riovcnt, flags)
            : m().ProcessVmWritev(pid, target, lvec, liovcnt, rvec, riovcnt, flags);
    AfterCall(dir, r);
    return r;
  }

  // Writes `iovs` as struct iovec[] (16 bytes each, little endian) at `addr` of pid.
  void PutIovecs(int pid, uint64_t addr, absl::Span<const Iov> iovs) {
    std::vector<uint8_t> raw(iovs.size() * 16);
    for (size_t i = 0; i < iovs.size(); ++i) {
      std::memcpy(&raw[i * 16], &iovs[i].base, 8);
      std::memcpy(&raw[i * 16 + 8], &iovs[i].len, 8);
    }
    Store(pid, addr, raw);
  }


  // ---- snapshots and the partial-transfer expectation ----

  // A mapping made with Map(), tracked so that snapshots can cover all of them.
  struct Region {
    int pid;
    uint64_t addr;
    uint64_t len;
  };
  // The bytes of every tracked region, in regions_ order.
  struct Snapshot {
    std::vector<Region> regions;
    std::vector<std::vector<uint8_t>> bytes;
    // The byte at addr of pid, or -1 if no tracked region holds it.
    int At(int pid, uint64_t addr) const {
      for (size_t i = 0; i < regions.size(); ++i) {
        const Region& g = regions[i];
        if (g.pid == pid && addr >= g.addr && addr - g.addr < g.len) return bytes[i][addr - g.addr];
      }
      return -1;
    }
    void Set(int pid, uint64_t addr, uint8_t v) {
      for (size_t i = 0; i < regions.size(); ++i) {
        const Region& g = regions[i];
        if (g.pid == pid && addr >= g.addr && addr - g.addr < g.len) {
          bytes[i][addr - g.addr] = v;
          return;
        }
      }
    }
  };
  Snapshot TakeSnapshot() {
    Snapshot s;
    s.regions = regions_;
    for (const Region& g : regions_) s.bytes.push_back(Peek(g.pid, g.addr, g.len));
    return s;
  }
  // `s` without the regions of `pid` (e.g. after pid exited).
  static Snapshot Without(const Snapshot& s, int pid) {
    Snapshot out;
    for (size_t i = 0; i < s.regions.size(); ++i) {
      if (s.regions[i].pid == pid) continue;
      out.regions.push_back(s.regions[i]);
      out.bytes.push_back(s.bytes[i]);
    }
    return out;
  }
  // Stops tracking every region of `pid`.
  void ForgetPid(int pid) {
    std::vector<Region> out;
    for (const Region& g : regions_) {
      if (g.pid != pid) out.push_back(g);
    }
    regions_ = std::move(out);
  }
  // Every tracked region now holds exactly `want`'s bytes (`what` names the expectation).
  void ExpectMemory(const Snapshot& want, const std::string& what) {
    for (size_t i = 0; i < want.regions.size(); ++i) {
      const Region& g = want.regions[i];
      const std::string side = g.pid == caller_ ? "caller" : g.pid == target_ ? "target"
                                                                             : absl::StrCat("pid ", g.pid);
      EXPECT_TRUE(SameBytes(Peek(g.pid, g.addr, g.len), want.bytes[i], g.addr))
          << what << ": " << side << " region " << Hex(g.addr) << "+" << g.len;
    }
  }
  // The memory after a call that moved nothing: every tracked byte as in `before`.
  void ExpectUntouched(const Snapshot& before) { ExpectMemory(before, "nothing may move"); }
  // The memory after a call that returned `n` (> 0): the partial-transfer rule of docs/semantics.md §4.
  // Destination stream positions [0, n) hold the source stream's bytes from `before`; every
  // other tracked byte (the rest of the destination, and the whole source) is unchanged.
  // local_pid's stream is `local`, remote_pid's is `remote`.
  void ExpectStreamCopy(Dir dir, absl::Span<const Iov> local, absl::Span<const Iov> remote,
                        long n, const Snapshot& before, int local_pid = -1,
                        int remote_pid = -1) {
    if (local_pid < 0) local_pid = caller_;
    if (remote_pid < 0) remote_pid = target_;
    Snapshot want = before;
    ASSERT_LE(static_cast<uint64_t>(n), std::min(StreamLen(local), StreamLen(remote)))
        << "a call cannot move more than min(local, remote) stream bytes";
    const std::vector<uint64_t> l = StreamAddrs(local, n), r = StreamAddrs(remote, n);
    const std::vector<uint64_t>& src = dir == Dir::kRead ? r : l;
    const std::vector<uint64_t>& dst = dir == Dir::kRead ? l : r;
    const int src_pid = dir == Dir::kRead ? remote_pid : local_pid;
    const int dst_pid = dir == Dir::kRead ? local_pid : remote_pid;
    for (long i = 0; i < n; ++i) {
      const int v = before.At(src_pid, src[i]);
      ASSERT_GE(v, 0) << "source stream byte " << i << " at " << Hex(src[i])
                      << " is outside every tracked region: the test is wrong";
      want.Set(dst_pid, dst[i], static_cast<uint8_t>(v));
    }
    ExpectMemory(want, absl::StrCat(DirName(dir), " of ", n, " stream bytes"));
  }

  // ---- iovec arrays in the caller's memory, for the raw call form ----

  // Writes `iovs` into a scratch area of pid's memory (mapped on first use at
  // kArrayArea, kArrayAreaPages pages, followed by a hole) and returns its address.
  uint64_t PlaceIovecs(absl::Span<const Iov> iovs, int pid = -1) {
    if (pid < 0) pid = caller_;
    EnsureArrayArea(pid);
    uint64_t& next = array_next_[pid];
    const uint64_t addr = next;
    next += (iovs.size() * 16 + 63) & ~uint64_t{63};
    EXPECT_LE(next, kArrayArea + kArrayAreaPages * kPage) << "iovec scratch area is full";
    if (!iovs.empty()) PutIovecs(pid, addr, iovs);
    return addr;
  }
  // Writes the first `readable` elements of `iovs` so that they end exactly at the end of
  // the scratch area: the rest of the array lies in the unmapped page after it.
  uint64_t PlaceIovecsRunningIntoHole(absl::Span<const Iov> iovs, size_t readable,
                                      int pid = -1) {
    if (pid < 0) pid = caller_;
    EnsureArrayArea(pid);
    const uint64_t end = kArrayArea + kArrayAreaPages * kPage;
    const uint64_t addr = end - readable * 16;
    PutIovecs(pid, addr, iovs.subspan(0, readable));
    return addr;
  }
  static constexpr uint64_t kArrayArea = kLocal + 0x40000000;
  static constexpr uint64_t kArrayAreaPages = 64;

  static std::string Hex(uint64_t v) { return absl::StrFormat("%#x", v); }

  std::unique_ptr<sim::Machine> machine_;
  int caller_ = -1;
  int target_ = -1;
  std::vector<Region> regions_;

 private:
  // Stops tracking [addr, addr+len) of pid (splitting regions it cuts).
  void Forget(int pid, uint64_t addr, uint64_t len) {
    std::vector<Region> out;
    for (const Region& g : regions_) {
      if (g.pid != pid || g.addr + g.len <= addr || addr + len <= g.addr) {
        out.push_back(g);
        continue;
      }
      if (g.addr < addr) out.push_back({pid, g.addr, addr - g.addr});
      if (addr + len < g.addr + g.len) out.push_back({pid, addr + len, g.addr + g.len - addr - len});
    }
    regions_ = std::move(out);
  }
  void EnsureArrayArea(int pid) {
    if (array_next_.count(pid)) return;
    const sim::SysResult r = m().Mmap(pid, kArrayArea, kArrayAreaPages * kPage, kRW,
                                      kMapPrivate | kMapAnonymous | kMapFixed);
    EXPECT_EQ(static_cast<uint64_t>(r.ret), kArrayArea) << "mmap of the iovec area: " << Show(r);
    array_next_[pid] = kArrayArea;
  }
  std::map<int, uint64_t> array_next_;

  void AfterCall(Dir dir, const sim::SysResult& r) {
    const std::string step = absl::StrCat("process_vm_", dir == Dir::kRead ? "readv" : "writev",
                                          " #", ++calls_, " (returned ", Show(r), ")");
    CheckPins(step);
    CheckVm(step);
  }
  int calls_ = 0;
};

// The fixture for TEST_F.
class PvmTest : public ::testing::Test, public PvmFixture {
 protected:
  void SetUp() override { BootMachine(); }
};

// The fixture for TEST_P, parameterized over T (often Dir).
template <typename T>
class PvmTestWithParam : public ::testing::TestWithParam<T>, public PvmFixture {
 protected:
  void SetUp() override { BootMachine(); }
};


// The fixture for suites parameterized over the direction. The "source" side of a transfer
// (the target for readv, the caller for writev) holds the pattern, the "destination" side
// kLocalFill, so every moved byte is visible.
class DirTest : public PvmTestWithParam<Dir> {
 protected:
  Dir dir() const { return GetParam(); }
  bool reading() const { return GetParam() == Dir::kRead; }

  // Maps read-write, fills, then sets `prot`.
  void MapSource(int pid, uint64_t addr, uint64_t len, int prot = kRW) {
    MapPattern(pid, addr, len, prot);
  }
  void MapDest(int pid, uint64_t addr, uint64_t len, int prot = kRW) {
    MapFilled(pid, addr, len, kLocalFill, prot);
  }
  // A region of the target / the caller, filled as its role in this direction says.
  void MapRemote(uint64_t addr, uint64_t len, int prot = kRW) {
    reading() ? MapSource(target_, addr, len, prot) : MapDest(target_, addr, len, prot);
  }
  void MapLocal(uint64_t addr, uint64_t len, int prot = kRW) {
    reading() ? MapDest(caller_, addr, len, prot) : MapSource(caller_, addr, len, prot);
  }

  // Makes the call (caller -> target) and checks every tracked byte against the
  // partial-transfer rule for the value it returned: the first ret stream bytes moved, no
  // other byte changed (nothing at all on an error). Returns the result.
  sim::SysResult Transfer(absl::Span<const Iov> local, absl::Span<const Iov> remote,
                          uint64_t flags = 0) {
    const Snapshot before = TakeSnapshot();
    const sim::SysResult r = Call(dir(), local, remote, flags);
    if (r.ret > 0) {
      ExpectStreamCopy(dir(), local, remote, r.ret, before);
    } else {
      ExpectUntouched(before);
    }
    return r;
  }
};

}  // namespace pvmtest

#endif  // MMSIM_TESTS_PVM_PVM_FIXTURE_H_
