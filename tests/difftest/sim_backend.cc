// tests/difftest/sim_backend.cc: see sim_backend.h.
#include "tests/difftest/sim_backend.h"

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/types/span.h"
#include "hw/addr.h"
#include "mm/kernel.h"
#include "mm/mm.h"
#include "mm/pagewalk.h"
#include "sim/machine.h"

namespace difftest {
namespace {

// mmap(2) flags and PROT_* (x86-64 Linux values; the kernel port spells them the same).
constexpr int kProtRW = static_cast<int>(PROT_READ | PROT_WRITE);
constexpr int kMapFlags =
    static_cast<int>(MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED);

// Stores are made in chunks of this many bytes (bounded host memory for big regions).
constexpr uint64_t kChunk = uint64_t{1} << 20;

std::string Where(Side side, const Region& r) {
  return absl::StrFormat("%s region %#x+%#x", SideName(side), r.addr, r.len);
}

// Maps, fills and protects one region of pid, as Region's comment says.
absl::Status SetUpRegion(sim::Machine& m, int pid, Side side, const Region& r) {
  const sim::SysResult map = m.Mmap(pid, r.addr, r.len, kProtRW, kMapFlags);
  if (map.ret < 0 || static_cast<uint64_t>(map.ret) != r.addr) {
    return absl::InternalError(absl::StrCat("mmap of ", Where(side, r), " returned ", map.ret,
                                            " errno ", map.err));
  }
  if (r.fill != Region::Fill::kZero) {
    std::vector<uint8_t> buf;
    for (uint64_t off = 0; off < r.len; off += kChunk) {
      const uint64_t n = std::min(kChunk, r.len - off);
      buf.resize(n);
      if (r.fill == Region::Fill::kByte) {
        std::memset(buf.data(), r.byte, n);
      } else {
        for (uint64_t p = 0; p < n; p += kPageSize) {
          std::memcpy(buf.data() + p, PatternPage(side, r.addr + off + p), kPageSize);
        }
      }
      const sim::UserAccess a = m.Store(pid, r.addr + off, buf);
      if (!a.ok) {
        return absl::InternalError(absl::StrFormat("fill of %s: user store faulted at %#x (signal %d)",
                                                   Where(side, r), a.fault_addr, a.signal));
      }
    }
  }
  if (r.prot != kProtRW) {
    const sim::SysResult p = m.Mprotect(pid, r.addr, r.len, r.prot);
    if (p.ret != 0) {
      return absl::InternalError(absl::StrCat("mprotect of ", Where(side, r), " to ",
                                              ProtString(r.prot), " returned ", p.ret,
                                              " errno ", p.err));
    }
  }
  return absl::OkStatus();
}

// The PTE that maps `addr` in pid, or nullopt if no page table covers it (software walk
// of the kernel's tables, no side effects).
std::optional<kernel::pte_t> LookupPte(sim::Machine& m, int pid, uint64_t addr) {
  kernel::task_struct* t = m.FindTask(pid);
  if (t == nullptr || t->mm == nullptr) return std::nullopt;
  return m.Inspect([&](const kernel::kernel_state&) -> std::optional<kernel::pte_t> {
    kernel::pte_t* pte = kernel::mm_find_pte(t->mm, addr);
    if (pte == nullptr) return std::nullopt;
    return kernel::ptep_get(pte);
  });
}

// Appends the bytes of every region of `layout` in pid to `out`: Machine::PeekUser where
// it can read; page by page where it cannot: a page with no PTE was never touched and
// reads as zeros; a PROT_NONE page (not present for the CPU, still mapping its frame) is
// read from its frame.
absl::Status ReadBack(sim::Machine& m, int pid, Side side, const Layout& layout,
                      std::vector<uint8_t>* out) {
  for (const Region& r : layout.regions) {
    absl::StatusOr<std::vector<uint8_t>> bytes = m.PeekUser(pid, r.addr, r.len);
    if (bytes.ok() && bytes->size() == r.len) {
      out->insert(out->end(), bytes->begin(), bytes->end());
      continue;
    }
    for (uint64_t a = r.addr; a < r.end(); a += kPageSize) {
      absl::StatusOr<std::vector<uint8_t>> page = m.PeekUser(pid, a, kPageSize);
      if (page.ok() && page->size() == kPageSize) {
        out->insert(out->end(), page->begin(), page->end());
        continue;
      }
      const std::optional<kernel::pte_t> pte = LookupPte(m, pid, a);
      if (!pte.has_value() || kernel::pte_none(*pte)) {
        out->insert(out->end(), kPageSize, 0);
      } else if (kernel::pte_present(*pte)) {
        const uint8_t* frame = m.phys().ptr(hw::PhysAddr(kernel::pte_pfn(*pte) << 12));
        out->insert(out->end(), frame, frame + kPageSize);
      } else {
        return absl::InternalError(absl::StrFormat(
            "cannot read %#x of %s (PeekUser: %s; PTE %#x)", a, Where(side, r),
            page.status().ToString(), kernel::pte_val(*pte)));
      }
    }
  }
  return absl::OkStatus();
}

std::vector<sim::Machine::Iovec> ToIovecs(const std::vector<Iov>& v) {
  std::vector<sim::Machine::Iovec> out;
  out.reserve(v.size());
  for (const Iov& i : v) out.push_back({i.base, i.len});
  return out;
}

}  // namespace

absl::StatusOr<Outcome> SimBackend::Run(const Case& c) {
  violations_.clear();
  if (absl::Status s = ValidateCase(c); !s.ok()) return s;

  sim::MachineConfig config;
  const uint64_t need = 4 * (c.local_layout.TotalBytes() + c.remote_layout.TotalBytes());
  config.memory_bytes = std::max(kMinMemoryBytes, need + (uint64_t{128} << 20));
  UseHostCpu(&config);  // the host's CPU features
  absl::StatusOr<std::unique_ptr<sim::Machine>> made = sim::Machine::Create(config);
  if (!made.ok()) {
    return absl::InternalError(absl::StrCat("Machine::Create: ", made.status().ToString()));
  }
  sim::Machine& m = **made;
  if (absl::Status s = m.SetSysctl("vm.mmap_min_addr", static_cast<long>(HostMmapMinAddr()));
      !s.ok())
    return s;
  absl::StatusOr<int> caller = m.CreateProcess("caller", sim::ProcessCreds{});
  absl::StatusOr<int> target = m.CreateProcess("target", sim::ProcessCreds{});
  if (!caller.ok() || !target.ok()) {
    return absl::InternalError(absl::StrCat("CreateProcess: ", caller.status().ToString(), " / ",
                                            target.status().ToString()));
  }
  for (const Region& r : c.remote_layout.regions) {
    if (absl::Status s = SetUpRegion(m, *target, Side::kRemote, r); !s.ok()) return s;
  }
  for (const Region& r : c.local_layout.regions) {
    if (absl::Status s = SetUpRegion(m, *caller, Side::kLocal, r); !s.ok()) return s;
  }

  const std::vector<sim::Machine::Iovec> local = ToIovecs(c.call.local);
  const std::vector<sim::Machine::Iovec> remote = ToIovecs(c.call.remote);
  const long acquired_before = m.vmstat(kernel::NR_FOLL_PIN_ACQUIRED);
  const sim::SysResult r =
      c.call.write ? m.ProcessVmWritev(*caller, *target, local, remote, c.call.flags)
                   : m.ProcessVmReadv(*caller, *target, local, remote, c.call.flags);

  // The machine checks.
  std::string report;
  const int bad = m.DebugVmCheck(&report);
  if (bad != 0) absl::StrAppend(&violations_, "debug_vm: ", bad, " violation(s):\n", report, "\n");
  const long acquired = m.vmstat(kernel::NR_FOLL_PIN_ACQUIRED);
  const long released = m.vmstat(kernel::NR_FOLL_PIN_RELEASED);
  if (acquired != released) {
    absl::StrAppend(&violations_, "pins out of balance after the call: NR_FOLL_PIN_ACQUIRED ",
                    acquired, " (", acquired - acquired_before, " by the call), RELEASED ",
                    released, "\n");
  }

  Outcome out;
  out.ret = r.ret;
  out.err = r.ret < 0 ? r.err : 0;
  if (absl::Status s = ReadBack(m, *caller, Side::kLocal, c.local_layout, &out.local_bytes);
      !s.ok()) {
    return s;
  }
  if (absl::Status s = ReadBack(m, *target, Side::kRemote, c.remote_layout, &out.remote_bytes);
      !s.ok()) {
    return s;
  }
  return out;
}

}  // namespace difftest
