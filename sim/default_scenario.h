// sim/default_scenario.h: the guided scenario mmsim runs when given no file.
#ifndef MMSIM_SIM_DEFAULT_SCENARIO_H_
#define MMSIM_SIM_DEFAULT_SCENARIO_H_

namespace sim {

inline constexpr const char kDefaultScenarioName[] = "<built-in tour>";

// Two processes, demand faults, a traced process_vm_readv, a partial transfer, a
// permission refusal, then the maps, the page tables and a TLB.
inline constexpr const char kDefaultScenario[] = R"mms(# mmsim's built-in tour (see docs/tour.md for a line-by-line reading).
machine memory=64M cpus=2 tlb=skylake seed=1

# Three processes: a reader, its target, and an unprivileged stranger.
process reader
process target
process stranger uid=1000 gid=1000 caps=none

# The target maps 4 pages. Nothing is allocated yet: the first store demand-faults
# page 0 (do_anonymous_page), the fill faults page 1.
target: mmap 0x7f0000000000 16K rw- private,anon,fixed
expect 0x7f0000000000
target: store 0x7f0000000000 "hello from the target"
target: fill 0x7f0000001000 4K pattern
# Punch a hole: page 3 goes away again.
target: munmap 0x7f0000003000 4K
expect 0

reader: mmap 0x7f1000000000 16K rw- private,anon,fixed

# The kernel path, traced: import the local iovec, look up the target, check ptrace
# access, pin the remote page (GUP), copy it, unpin.
trace calls
reader: process_vm_readv target [0x7f1000000000:21] [0x7f0000000000:21]
expect 21
trace off
expect-mem reader 0x7f1000000000 "hello from the target"

# A partial transfer: the remote range runs from page 2 (never touched: the zero page)
# into the hole at page 3. The kernel copies up to the hole's page and returns the count.
reader: process_vm_readv target [0x7f1000000000:16K] [0x7f0000002000:8K]
expect 4096

# The stranger has another uid and no CAP_SYS_PTRACE: refused before any page is touched.
stranger: process_vm_readv target [0x7ffffffef000:8] [0x7f0000000000:8]
expect -1 EPERM

# What it all looks like.
show maps target
show pagetable target 0x7f0000001000
show pagemap target 0x7f0000000000 16K
show tlb 0
show vmstat
)mms";

}  // namespace sim

#endif  // MMSIM_SIM_DEFAULT_SCENARIO_H_
