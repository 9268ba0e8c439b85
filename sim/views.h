// sim/views.h: the machine's state in the formats Linux users already know.
//
//   ShowMaps       /proc/PID/maps, byte for byte in Linux's layout
//   ShowPagetable  the kernel's ptdump (ranges with equal attributes merged), or with an
//                  address, the 4-level walk for it entry by entry
//   ShowPagemap    /proc/PID/pagemap per page: the raw 64-bit entry with its bits named as
//                  in pagemap.rst, then decoded (present, PFN, dirty, mapcount,
//                  PG_anon_exclusive as anon_exclusive, zero page)
//   ShowTlb        each CPU's TLB entries per level, with PCID, G bit and rights
//   ShowPage       a struct page
//   ShowBuddy      /proc/buddyinfo
//   ShowVmstat     /proc/vmstat (the counters this port keeps)
//   ShowCpus       per CPU: the current task (or idle), whose mm is loaded, CR3's PCID and
//                  root page-table frame, whether the CPU is in that mm's mm_cpumask, and
//                  whether a call-function IPI is pending for it
//   ShowDmesg      the kernel log, e.g. the OOM killer's "Out of memory: Killed process ..."
//   ShowMeminfo    /proc/meminfo (the fields mmsim can compute)
//   ShowLru        the LRU lists with their folios and flags
//   ShowSmaps      /proc/PID/smaps, in Linux's layout
//   PagetableDot   the page-table trees of one or more processes as one Graphviz DOT graph:
//                  a node per table, a field per present entry (virtual range, next table
//                  or pfn, bits), the kernel half of each PML4 (swapper_pg_dir's tables,
//                  drawn once and summarised: one field per run of equal leaves)
//   TableRows      a page table's present entries as the tree views list them
//
// Views read state without side effects: no faults, no TLB fills, no counters moved.
#ifndef MMSIM_SIM_VIEWS_H_
#define MMSIM_SIM_VIEWS_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/types/span.h"
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
// /proc/meminfo's fields that mmsim keeps (fs/proc/meminfo.c layout: "%-16s%8lu kB").
std::string ShowMeminfo(Machine& m);
// The five LRU lists, each folio head first: pfn, owner (anon / file and index), mapcount
// and its LRU-relevant flags (referenced, active, dirty, writeback, reclaim ...).
std::string ShowLru(Machine& m);
// /proc/PID/smaps (fs/proc/task_mmu.c layout); with len > 0 only the VMAs meeting
// [addr, addr + len).
absl::StatusOr<std::string> ShowSmaps(Machine& m, int pid, uint64_t addr = 0, uint64_t len = 0);
std::string ShowSwaps(Machine& m);  // /proc/swaps
struct DotTask {
  std::string name;  // the label (the scenario's task name)
  int pid;
};
absl::StatusOr<std::string> PagetableDot(Machine& m, const std::vector<DotTask>& tasks);
absl::StatusOr<std::string> PagetableDot(Machine& m, int pid);  // labelled "pid N"

// One row of a page table as the tree views (DOT, the HTML viewer) list it: a present entry,
// or in the kernel half (PML4 slots 256..511 and every table under them, swapper_pg_dir's,
// the same in every process) a run of consecutive leaf entries with equal bits mapping
// consecutive frames, so the direct map of any memory size is a handful of rows.
struct TableRow {
  unsigned first = 0, last = 0;    // entry indexes; first == last for a single entry
  uint64_t entry = 0;              // the first entry
  uint64_t va_start = 0;           // canonical (sign-extended) start of the first entry
  uint64_t va_end = 0;             // canonical last byte of the last entry
  uint64_t va_base_child = 0;      // for a table entry: the child's va_base (not extended)
  uint64_t last_pfn = 0;           // the last entry's (first) frame number
  bool leaf = false;
  bool kernel_half = false;
};
// Rows of the table at `table_pa` (level 4 = PML4 ... 1 = PT) whose first entry maps
// `va_base`; `kernel_half` says the table lies under a kernel-half PML4 slot. Reads
// simulated memory only: call it inside Machine::Inspect.
std::vector<TableRow> TableRows(Machine& m, uint64_t table_pa, int level, uint64_t va_base,
                                bool kernel_half);
// "P RW USR A D NX": an entry's bits as the trace decoder names them (kernel::decode_pte_bits),
// space-separated, for the tree views' labels (DOT records, the HTML viewer).
std::string EntryBits(uint64_t e);

// fs/proc/task_mmu.c show_smap_vma_flags: each VM_ flag smaps names, and its mnemonic, in
// the order smaps prints them ("rd", "wr", ... "mm").
struct VmFlagMnemonic {
  kernel::vm_flags_t flag;
  const char* name;
};
absl::Span<const VmFlagMnemonic> VmFlagMnemonics();

}  // namespace sim

#endif  // MMSIM_SIM_VIEWS_H_
