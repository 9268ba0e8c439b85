// sim/views.h: the machine's state in the formats Linux users already know.
//
//   ShowMaps       /proc/PID/maps, byte for byte in Linux's layout
//   ShowPagetable  the kernel's ptdump (ranges with equal attributes merged), or with an
//                  address, the 4-level walk for it entry by entry
//   ShowPagemap    /proc/PID/pagemap decoded per page (present, PFN, dirty, exclusive,
//                  zero page)
//   ShowTlb        each CPU's TLB entries per level, with PCID, G bit and rights
//   ShowPage       a struct page
//   ShowBuddy      /proc/buddyinfo
//   ShowVmstat     /proc/vmstat (the counters this port keeps)
//   ShowCpus       per CPU: the current task (or idle), whose mm is loaded, CR3's PCID and
//                  root page-table frame, whether the CPU is in that mm's mm_cpumask, and
//                  whether a call-function IPI is pending for it
//   ShowDmesg      the kernel log, e.g. the OOM killer's "Out of memory: Killed process ..."
//   PagetableDot   the page-table tree of a process as Graphviz DOT
//
// Views read state without side effects: no faults, no TLB fills, no counters moved.
#ifndef MMSIM_SIM_VIEWS_H_
#define MMSIM_SIM_VIEWS_H_

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "sim/machine.h"

namespace sim {

absl::StatusOr<std::string> ShowMaps(Machine& m, int pid);
absl::StatusOr<std::string> ShowPagetable(Machine& m, int pid);
absl::StatusOr<std::string> ShowPagetableWalk(Machine& m, int pid, uint64_t addr);
absl::StatusOr<std::string> ShowPagemap(Machine& m, int pid, uint64_t addr, uint64_t len);
absl::StatusOr<std::string> ShowTlb(Machine& m, int cpu);  // cpu < 0: every CPU
absl::StatusOr<std::string> ShowPage(Machine& m, uint64_t pfn);
std::string ShowBuddy(Machine& m);
std::string ShowVmstat(Machine& m);
std::string ShowCpus(Machine& m);
std::string ShowDmesg(Machine& m);  // the kernel log (dmesg)
std::string ShowSwaps(Machine& m);  // /proc/swaps
absl::StatusOr<std::string> PagetableDot(Machine& m, int pid);

}  // namespace sim

#endif  // MMSIM_SIM_VIEWS_H_
