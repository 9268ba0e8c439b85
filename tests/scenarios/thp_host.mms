# Transparent huge pages, the simulator beside the host kernel (`mmsim --compare`;
# docs/host.md, "THP differential tests"). A MADV_HUGEPAGE region at a fixed 2 MiB-aligned
# address, written whole (two huge pages on both sides: the host has THP enabled=madvise,
# the machine's default), then process_vm_readv/writev inside one huge page, across the
# 2 MiB boundary, after a partial munmap that splits a PMD, into the hole after the region,
# after MADV_DONTNEED of part of a huge page, and after fork (the target writes its
# copy-on-write shared PMD; a writev into the child's). Fixed addresses: where an unhinted
# mmap lands depends on the host's ASLR and its own libraries, which
# tests/difftest/thp_diff_test compares with ASLR off.
machine memory=64M cpus=1 seed=1 thp=madvise
process p
process reader
p: mmap 0x40000000 4M rw- private,anon
expect 0x40000000
p: madvise 0x40000000 4M hugepage
expect 0
p: fill 0x40000000 4M pattern
expect 0
show smaps p 0x40000000 4K
reader: mmap 0x10000 64K rw- private,anon
expect 0x10000
# Inside the first huge page, then 32 bytes either side of the 2 MiB boundary.
reader: process_vm_readv p [0x10000:4096] [0x40001000:4096]
expect 4096
expect-same reader 0x10000 p 0x40001000 4096
reader: process_vm_readv p [0x10000:64] [0x401fffe0:64]
expect 64
expect-same reader 0x10000 p 0x401fffe0 64
reader: store 0x10100 "0123456789abcdef0123456789ABCDEF"
expect 0
reader: process_vm_writev p [0x10100:32] [0x401ffff0:32]
expect 32
expect-mem p 0x401ffff0 "0123456789abcdef0123456789ABCDEF"
# One page out of the second huge page: its PMD is split; a read up to the hole stops there.
p: munmap 0x40300000 4K
expect 0
reader: process_vm_readv p [0x10000:8K] [0x402fff00:8K]
expect 256
expect-same reader 0x10000 p 0x402fff00 256
# A read running off the end of the region: partial.
reader: process_vm_readv p [0x10000:8K] [0x403fff00:8K]
expect 256
# MADV_DONTNEED of 16 KiB inside the first huge page: zeros there afterwards.
p: madvise 0x40002000 16K dontneed
expect 0
reader: process_vm_readv p [0x10000:16] [0x40001ff8:16]
expect 16
expect-same reader 0x10000 p 0x40001ff8 16
expect-mem reader 0x10008 "\x00\x00\x00\x00\x00\x00\x00\x00"
# fork: both share the huge pages write-protected. The target writes its copy first.
p: fork child
expect-mem child 0x40100000 pattern(6)
p: store 0x40100000 "parent"
expect 0
reader: process_vm_readv p [0x10000:6] [0x40100000:6]
expect 6
expect-mem reader 0x10000 "parent"
reader: process_vm_readv child [0x10000:6] [0x40100000:6]
expect 6
expect-same reader 0x10000 child 0x40100000 6
# A writev into the child's shared PMD breaks COW for the child only.
reader: process_vm_writev child [0x10100:16] [0x40180000:16]
expect 16
expect-mem child 0x40180000 "0123456789abcdef"
expect-mem p 0x40180000 pattern(16)
show smaps p 0x40000000 4K
