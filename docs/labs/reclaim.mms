# Lab: reclaim, swap and the OOM killer (docs/labs/reclaim.md).
machine memory=4M swap=4M cpus=1 tlb=skylake seed=1
process p
p: mmap 0x10000000 6M rw- private,anon
expect 0x10000000

# Step 1: 6 MiB of data on a 4 MiB machine with 4 MiB of swap.
mark filling
p: fill 0x10000000 6M pattern
show swaps
show pagemap p 0x10000000 8K
show pagemap p 0x105fe000 8K
show lru

# Step 2: read the first page again.
mark swapin
trace calls
p: load 0x10000000 4
trace off
show pagemap p 0x10000000 4K

# Step 3: free it all.
p: munmap 0x10000000 6M
show swaps

# Step 4: two processes want more than memory and swap hold together.
process big
process small
big: mmap 0x20000000 8M rw- private,anon
small: mmap 0x20000000 8M rw- private,anon
big: fill 0x20000000 5M 0x5a
mark oom
small: fill 0x20000000 4M 0xa5
show dmesg
big: load 0x20000000 4
