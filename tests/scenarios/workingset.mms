# Workingset detection (mm/workingset.cc): where reclaim evicts a page it leaves a shadow
# entry stamped with the time of eviction; the fault that brings the page back is a
# refault, and if it came back within the workingset's size (the refault distance) it is
# activated at once. docs/reclaim.md §11 walks through it; the counters are the
# workingset_* lines of `show vmstat`.
# host: sim-only (the host's counters move with everything else it runs, and it has no
# swap for the anonymous half).
machine memory=8M swap=8M cpus=1
file f size=32K data="workingset"
process p
# Four anonymous pages: with swap they are part of the workingset file pages compete with.
p: mmap 0x10000000 16K rw- private,anon
expect 0x10000000
p: fill 0x10000000 16K pattern
expect 0
p: mmap 0x30000000 32K r-- shared file=f
expect 0x30000000
# Read the file: eight pages in the page cache, on the inactive file list.
p: load 0x30000000 32K
# Evict page 0 (MADV_PAGEOUT reclaims at once): a shadow takes its slot in the cache.
p: madvise 0x30000000 4K pageout
expect 0
# Read it again: a major fault and a refault. One eviction since, so the distance is 1,
# within the workingset (active file 0 + inactive and active anon 4): the page comes
# back active (workingset_refault_file 1, workingset_activate_file 1).
p: load 0x30000000 10
expect "workingset"
# Evict pages 1..7 in order, then read page 1: seven evictions since its own, more than
# the workingset (4 anon pages, 1 active file page) holds; it comes back inactive
# (workingset_refault_file 2, workingset_activate_file still 1).
p: madvise 0x30001000 28K pageout
expect 0
p: load 0x30001000 4
expect hex:00000000
show lru
# Anonymous memory: the shadow sits in the swap slot; the swap-in is the refault
# (workingset_refault_anon). Its workingset includes the file lists: activated.
p: madvise 0x10000000 4K pageout
expect 0
p: load 0x10000000 4K
expect pattern(4K)
# MADV_WILLNEED reads a swapped-out page into the swap cache without mapping it: the
# refault is counted there (pswpin too), and the access that follows is a minor fault.
p: madvise 0x10001000 4K pageout
expect 0
p: madvise 0x10001000 4K willneed
expect 0
expect-mem p 0x10001000 pattern(4K)
show vmstat
