# kswapd: background reclaim (mm/vmscan.cc). kswapd0 sleeps from boot; an allocation
# that finds the zone below its low watermark wakes it, and it reclaims page cache up to
# the high watermark before it sleeps again, so the allocating task never reclaims
# itself (pgscan_direct stays 0). Dirty file pages are not written by reclaim: the
# flushers it wakes write them to the file, and the next round frees them.
# host: sim-only (the host's reclaim depends on everything else it runs).
machine memory=4M cpus=1
file cache size=2M data=repeat(2M,0x33)
file log size=8K data=repeat(8K,0x2e)
process reader
process hog
# Two dirty pages of `log`, written through a shared mapping and unmapped: the oldest
# pages of the inactive file list, so reclaim meets them first.
reader: mmap 0x30000000 8K rw- shared file=log
expect 0x30000000
reader: store 0x30000000 "first page"
expect 0
reader: store 0x30001000 "second page"
expect 0
reader: munmap 0x30000000 8K
expect 0
# 2 MiB of clean page cache that nobody maps any more.
reader: mmap 0x20000000 2M r-- shared file=cache
expect 0x20000000
reader: load 0x20000000 2M
expect repeat(2M,0x33)
reader: munmap 0x20000000 2M
expect 0
show meminfo
# 2000 KiB of anon memory does not fit beside the cache.
hog: mmap 0x10000000 3M rw- private,anon
expect 0x10000000
hog: fill 0x10000000 2000K 0x5a
expect 0
hog: load 0x101f3000 4
expect hex:5A5A5A5A
# The flushers reclaim woke wrote `log` to the file and the pages were freed: a fresh
# mapping reads them back from the file (major faults).
reader: mmap 0x30000000 8K r-- shared file=log
expect 0x30000000
reader: load 0x30000000 10
expect "first page"
reader: load 0x30001000 11
expect "second page"
show vmstat
show meminfo
show smaps hog
