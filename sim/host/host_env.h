// sim/host/host_env.h: the facts about the host kernel a scenario's result can depend on,
// read once at start, printed by `mmsim --host` and `--compare`, and applied to the
// simulated machine for `--compare` where the simulator has the same knob.
#ifndef MMSIM_SIM_HOST_HOST_ENV_H_
#define MMSIM_SIM_HOST_HOST_ENV_H_

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/string_view.h"

namespace sim {
class Machine;
}

namespace sim::host {

struct HostEnv {
  std::string kernel;          // uname -r
  long mmap_min_addr = -1;     // vm.mmap_min_addr (-1: unreadable)
  long max_map_count = -1;     // vm.max_map_count
  long suid_dumpable = -1;     // fs.suid_dumpable
  std::string thp;             // /sys/kernel/mm/transparent_hugepage/enabled, the chosen mode
  int ptrace_scope = -1;       // kernel.yama.ptrace_scope; -1: no Yama
  uint32_t uid = 0, euid = 0;
  uint64_t cap_effective = 0, cap_bounding = 0;
  // /proc/self/uid_map and gid_map: [first, first+count) ids this user namespace maps.
  std::vector<std::pair<uint64_t, uint64_t>> uid_map, gid_map;
  bool pvm_allowed = false;    // process_vm_readv from this process on a forked child worked
  std::string pvm_error;       // if not, the errno's name
};

// Reads the facts (forks a short-lived child to try process_vm_readv on).
HostEnv ReadHostEnv();

// "# host: ..." lines.
std::string FormatHostEnv(const HostEnv& env);

// Whether uid (gid) `id` exists in this user namespace; -1 (0xffffffff) always does.
bool UidMapped(const HostEnv& env, uint32_t id);
bool GidMapped(const HostEnv& env, uint32_t id);

// The capabilities scenario processes can hold on this host (the bounding set).
uint64_t GrantableCaps(const HostEnv& env);

// Applies what the simulator can model (sysctls) to `m`; returns one "# sim: ..." line
// per fact, saying whether it was applied and, if not, why.
std::vector<std::string> ApplyHostEnv(const HostEnv& env, Machine& m);

// AnonHugePages of /proc/PID/smaps (kB: memory mapped by PMD-sized THPs), summed over the
// VMAs that overlap [lo, hi); -1 when the file cannot be read. How the host side shows
// that a MADV_HUGEPAGE region really is THP-backed (docs/host.md).
long HostAnonHugePagesKb(int pid, uint64_t lo, uint64_t hi);
// The sum of one field ("Rss:", "LazyFree:", ...) over the VMAs of smaps text (the host's
// /proc/PID/smaps or the simulator's `show smaps`) that meet [lo, hi), in kB.
long SmapsFieldKb(absl::string_view smaps, uint64_t lo, uint64_t hi, absl::string_view field);

}  // namespace sim::host

#endif  // MMSIM_SIM_HOST_HOST_ENV_H_
