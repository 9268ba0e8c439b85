# Swap (mm/swapfile.cc, mm/swap_state.cc, mm/page_io.cc): a process writes half again as
# much as the machine's memory; reclaim swaps the oldest anonymous pages out and every
# byte comes back on the next access (a major fault, a read from the slot). Fork shares
# the swapped-out slots, process_vm_readv of a swapped-out page swaps it in, and exit
# gives every slot back.
# host: sim-only (the host has no swap to compare against); `show swaps` is /proc/swaps,
# the pswpin/pswpout/pgmajfault counters are in `show vmstat`.
machine memory=8M swap=16M cpus=1
process p
process reader
p: mmap 0x10000000 12M rw- private,anon
expect 0x10000000
reader: mmap 0x20000000 64K rw- private,anon
expect 0x20000000
# 12 MiB on an 8 MiB machine: without swap= this is an OOM kill (oom_kill.mms).
p: fill 0x10000000 12M pattern
expect 0
show swaps
# The first pages went out first; reading them back is byte-exact.
p: load 0x10000000 4K
expect pattern(4K)
expect-mem p 0x10400000 pattern(64K)
# Fork: the child refers to the same slots; both read the same bytes, and a write by
# one is not seen by the other.
p: fork child
expect-same child 0x10000000 p 0x10000000 1M
child: store 0x10001000 "child was here"
expect 0
expect-mem p 0x10001000 pattern(14)
expect-mem child 0x10001000 "child was here"
child: exit
p: reap child
# Out again (the rest of the buffer is read), then read through process_vm_readv.
expect-same p 0x10100000 p 0x10100000 8M
reader: process_vm_readv p [0x20000000:64K] [0x10010000:64K]
expect 65536
expect-same reader 0x20000000 p 0x10010000 64K
p: munmap 0x10000000 12M
expect 0
show swaps
show vmstat
