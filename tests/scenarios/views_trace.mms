# Readable traces and the views that say what they mirror (issue #16 items 4 and 6). Its
# whole output is pinned in golden/views_trace.out (tests/scenarios/BUILD): decoded results
# (VM_FAULT_*, -EFAULT, hex addresses) and flags (FAULT_FLAG_*, FOLL_*, gfp, PROT/MAP/VM,
# PTE bits), the raw pagemap entry, the kernel half, a DOT graph of two tasks.
# host: sim-only (trace, views and fault injection are the simulator's)
machine memory=16M cpus=2 tlb=tiny seed=7
process p
process q
file f size=8K
p: mmap 0x10000000 8K rw- private,anon
expect 0x10000000
trace calls
p: fill 0x10000000 4K 0x11
p: mmap 0x20000000 8K r-- shared file=f
expect 0x20000000
p: load 0x20000000 1
expect "\0"
q: process_vm_readv p [0x10000000:16] [0x10000000:16]
expect -1 EFAULT            # q has nothing mapped at its own 0x10000000
trace off
show pagemap p 0x10000000 8K
show pagemap p 0x20000000 4K
p: fork c
show pagemap p 0x10000000 4K
trace full
c: store 0x10000000 "x"
trace off
show pagemap p 0x10000000 4K
show pagemap c 0x10000000 4K
show pagetable p
show dot p c
