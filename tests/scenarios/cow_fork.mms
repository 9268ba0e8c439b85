# Copy-on-write after fork: the child sees the parent's bytes until it writes.
machine memory=64M cpus=1 seed=7
process parent
parent: mmap 0x400000 2*4K rw- private,anon,populate
expect 0x400000
parent: fill 0x400000 8K pattern
expect 0
parent: fork child
child: load 0x400000 16
expect pattern(16)
child: store 0x401000 "child was here"
expect 0
expect-mem parent 0x401000 pattern(14)
expect-mem child 0x401000 "child was here"
expect-same parent 0x400000 child 0x400000 4K
show maps child
show pagetable child 0x401000
show pagemap parent 0x400000 8K
child: exit
parent: reap child
show vmstat
