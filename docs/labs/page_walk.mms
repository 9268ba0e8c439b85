# Lab: walking the 4-level page table by hand (docs/labs/page_walk.md).
machine memory=64M cpus=1 tlb=skylake seed=1
process p

# One page with a message in it.
p: mmap 0x7f3a5c8e1000 8K rw- private,anon
expect 0x7f3a5c8e1000
p: store 0x7f3a5c8e1234 "walk me"
expect 0
show pagetable p 0x7f3a5c8e1234

# A page in the next 2 MiB region, then one in another 1 GiB region.
mark near
p: mmap 0x7f3a5ca00000 4K rw- private,anon
p: store 0x7f3a5ca00000 "2M away"
mark far
p: mmap 0x7f3b00000000 4K rw- private,anon
p: store 0x7f3b00000000 "1G away"
show pagetable p

# The first page becomes read-only.
p: mprotect 0x7f3a5c8e1000 4K r--
expect 0
show pagetable p 0x7f3a5c8e1234
