// sim/default_scenario.h: the guided scenario mmsim runs when given no file, the one copy
// of the tour's text. `mmsim --print-tour` prints it; docs/tour.md quotes it and reads
// its trace line by line (//docs:tour_test checks both against the binary).
#ifndef MMSIM_SIM_DEFAULT_SCENARIO_H_
#define MMSIM_SIM_DEFAULT_SCENARIO_H_

namespace sim {

inline constexpr const char kDefaultScenarioName[] = "<built-in tour>";

// Three processes, demand faults, one process_vm_readv traced with every kernel call and
// hardware event, a partial transfer, a permission refusal, then the maps, the page
// tables, the pagemap, a TLB and the vmstat counters.
inline constexpr const char kDefaultScenario[] = R"mms(# mmsim's built-in tour: docs/tour.md reads it line by line (`mmsim --print-tour` prints it).
machine memory=64M cpus=1 tlb=skylake seed=1

# Three processes: a reader, its target, and an unprivileged stranger.
process reader
process target
process stranger uid=1000 gid=1000 caps=none

# The target maps 4 pages. Nothing is allocated yet: the store demand-faults page 0
# (do_anonymous_page), the fill faults page 1. Then page 3 goes away again: a hole.
target: mmap 0x7f0000000000 16K rw- private,anon,fixed
expect 0x7f0000000000
target: store 0x7f0000000000 "hello"
target: fill 0x7f0000001000 4K pattern
target: munmap 0x7f0000003000 4K
expect 0
reader: mmap 0x7f1000000000 16K rw- private,anon,fixed
reader: store 0x7f1000000000 "....."

# One process_vm_readv with every kernel call and hardware event: import the local
# iovec, look up the target, check ptrace access, pin the remote page (GUP), copy, unpin.
trace full
reader: process_vm_readv target [0x7f1000000000:5] [0x7f0000000000:5]
expect 5
trace off
expect-mem reader 0x7f1000000000 "hello"

# A partial transfer: the remote range runs from page 2 (never touched: the zero page)
# into the hole at page 3. The kernel copies up to the hole's page and returns the count.
reader: process_vm_readv target [0x7f1000000000:16K] [0x7f0000002000:8K]
expect 4096

# The stranger has another uid and no CAP_SYS_PTRACE: refused before any page is touched.
# Traced (kernel calls only): see where the refusal comes from.
trace calls
stranger: process_vm_readv target [0x7ffffffef000:8] [0x7f0000000000:8]
expect -1 EPERM
trace off

# What it all looks like.
show maps target
show pagetable target 0x7f0000001000
show pagemap target 0x7f0000000000 16K
show tlb 0
show vmstat
)mms";

}  // namespace sim

#endif  // MMSIM_SIM_DEFAULT_SCENARIO_H_
