# The transparent_hugepage knobs beyond `enabled` (docs/thp.md §1): use_zero_page=0 makes
# a read fault allocate a huge page instead of mapping the huge zero page. defrag=never
# only shows the syntax here: its effect (no direct reclaim, no kswapd wake-up for a huge
# fault) needs memory with no free 2 MiB block, as in mm/huge_knobs_test.cc.
# host: sim-only (the host runs with its boot defaults, defrag=madvise, use_zero_page=1).
machine memory=32M cpus=1 seed=5 thp=always thp_defrag=never thp_use_zero_page=0
process p
mark before
p: mmap 0 2M rw- private,anon
expect 0x7ffff7c00000
p: load 0x7ffff7c01000 8
expect "\x00\x00\x00\x00\x00\x00\x00\x00"
# A read, and yet a huge page of its own, mapped writable and dirty as after a write.
expect pte p 0x7ffff7c01000 present,huge,!zero,writable,dirty
expect vmstat thp_fault_alloc +1 since before
expect vmstat thp_zero_page_alloc +0 since before
show smaps p 0x7ffff7c00000 2M
