# Transparent huge pages (docs/thp.md): an aligned 2 MiB mapping, one huge fault, reads
# and a process_vm_readv across the 2 MiB boundary, fork sharing the huge page, a partial
# munmap that splits it, and MADV_NOHUGEPAGE.
# host: sim-only (the host randomises unhinted mmap addresses, and this scenario names the
# ASLR-off one; a THP comparison with the host needs personality(ADDR_NO_RANDOMIZE)).
machine memory=64M cpus=1 seed=3 thp=always
process p
process reader
# Unhinted and a multiple of 2M: on a 2M boundary (Linux 6.7+ with ASLR off).
p: mmap 0 4M rw- private,anon
expect 0x7ffff7a00000
p: fill 0x7ffff7a00000 4M pattern
expect 0
p: load 0x7ffff7bffff8 16
expect pattern(16)
show pagetable p 0x7ffff7a00000
show tlb
show pagemap p 0x7ffff7bff000 8K
show meminfo
# 24 bytes either side of the boundary between the two huge pages.
reader: mmap 0x10000 4K rw- private,anon
expect 0x10000
reader: process_vm_readv p [0x10000:48] [0x7ffff7bfffe8:48]
expect 48
expect-same reader 0x10000 p 0x7ffff7bfffe8 48
# And a write across it: GUP pins a page of each THP (their _pincount, not the bias).
reader: store 0x10100 "0123456789abcdef0123456789ABCDEF"
expect 0
reader: process_vm_writev p [0x10100:32] [0x7ffff7bffff0:32]
expect 32
expect-mem p 0x7ffff7bffff0 "0123456789abcdef0123456789ABCDEF"
p: fork child
child: store 0x7ffff7a00100 "child"
expect 0
expect-mem child 0x7ffff7a00100 "child"
expect-mem p 0x7ffff7a00100 pattern(5)
show pagemap p 0x7ffff7a00000 8K
# Part of the second huge page goes: its pmd is split first.
p: munmap 0x7ffff7dff000 4K
expect 0
p: load 0x7ffff7dfe000 8
expect pattern(8)
show vmstat
child: exit
p: reap child
p: madvise 0x7ffff7a00000 2M nohugepage
expect 0
show smaps p 0x7ffff7a00000 4K
