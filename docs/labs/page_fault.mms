# Lab: anatomy of a page fault (docs/labs/page_fault.md).
machine memory=64M cpus=1 tlb=skylake seed=1
process p

# Four pages of anonymous memory. mmap only creates a VMA: no page, no page table yet.
p: mmap 0x10000000 16K rw- private,anon
expect 0x10000000
show maps p

# Step 1: the first read of page 0, with every hardware event and kernel call.
mark begin
trace full
p: load 0x10000000 1
trace off
show pagetable p 0x10000000

# Step 2: the first write to the same page.
mark read_done
trace calls
p: store 0x10000000 "A"
trace off
show pagetable p 0x10000000

# Step 3: the first write to page 1, which was never read.
mark second_page
p: store 0x10001000 "B"

# Step 4: another write to page 0.
mark again
p: store 0x10000800 "C"

# Step 5: a write the VMA does not allow.
p: mprotect 0x10002000 4K r--
expect 0
mark denied
trace full
p: store 0x10002000 "D"
trace off
show vmstat
