# Lab: error paths via fault injection (docs/labs/fault_injection.md).
machine memory=64M cpus=1 tlb=skylake seed=1
process p
process reader
p: mmap 0x10000000 16K rw- private,anon
expect 0x10000000
p: fill 0x10000000 8K 0x41
reader: mmap 0x20000000 16K rw- private,anon
expect 0x20000000
reader: fill 0x20000000 16K 0

# Step 1: the next slab allocation fails. mmap needs a struct vm_area_struct.
fail failslab nth=1 times=1
trace calls
p: mmap 0x30000000 4K rw- private,anon
trace off

# Step 2: GUP cannot have the second page of a remote read.
fail fail_gup nth=2 times=2
trace calls
reader: process_vm_readv p [0x20000000:8K] [0x10000000:8K]
trace off

# Step 3: ... and now not even the first.
fail fail_gup nth=1 times=1
reader: process_vm_readv p [0x20000000:8K] [0x10000000:8K]

# Step 4: the fourth copy between kernel and user memory fails (as if the page vanished).
fail fail_uaccess nth=4 times=1
trace calls
reader: process_vm_readv p [0x20000000:8K] [0x10000000:8K]
trace off

# Step 5: a user page fault cannot get memory.
process victim
victim: mmap 0x40000000 4K rw- private,anon
mark before_oom
fail fail_fault nth=1 times=1
trace calls
victim: store 0x40000000 "x"
trace off
