# Lab: walking the 4-level page table by hand (docs/labs/page_walk.md): with the answers.
machine memory=64M cpus=1 tlb=skylake seed=1
process p

# One page with a message in it.
p: mmap 0x7f3a5c8e1000 8K rw- private,anon
expect 0x7f3a5c8e1000
p: store 0x7f3a5c8e1234 "walk me"
expect 0
show pagetable p 0x7f3a5c8e1234
# Q1: 0x7f3a5c8e1234 = 254 * 512G + 233 * 1G + 228 * 2M + 225 * 4K + 0x234: PML4 index 254,
# PDPT index 233, PD index 228, PT index 225, offset 0x234. The address built back from
# those indices is the same page:
let VA = 254*512G + 233*1G + 228*2M + 225*4K + 0x234
expect pte p VA present,writable,user,dirty pfn=10
# Q2: the PTE holds frame 7, so the byte is at physical address 7 * 4K + 0x234 = 0x7234:
# a private anonymous page, mapped once.
expect pte p 0x7f3a5c8e1234 pfn=10
expect page 10 mapcount=1 flags=anon
expect-mem p 0x7f3a5c8e1234 "walk me"

# A page in the next 2 MiB region, then one in another 1 GiB region.
mark near
p: mmap 0x7f3a5ca00000 4K rw- private,anon
p: store 0x7f3a5ca00000 "2M away"
# Q3: 0x7f3a5ca00000 has PD index 229, not 228: one new page table (a PTE table) under
# the same page directory.
expect vmstat nr_page_table_pages +1 since near
mark far
p: mmap 0x7f3b00000000 4K rw- private,anon
p: store 0x7f3b00000000 "1G away"
# Q4: 0x7f3b00000000 has PDPT index 236: a new page directory and a new PTE table; the
# PML4 entry 254 is shared by all three pages.
expect vmstat nr_page_table_pages +2 since far
show pagetable p

# The first page becomes read-only.
p: mprotect 0x7f3a5c8e1000 4K r--
expect 0
show pagetable p 0x7f3a5c8e1234
# Q5: only the PTE changes: R/W is cleared, and since the page was dirty, x86 moves D to
# the software bit 58 (SavedDirty) so the CPU cannot set D on a read-only entry behind
# the kernel's back. The upper levels stay RW: rights are the AND over all four levels.
expect pte p 0x7f3a5c8e1234 present,user,saved_dirty,!writable,!dirty pfn=10
expect vma p 0x7f3a5c8e1234 start=0x7f3a5c8e1000 end=0x7f3a5c8e2000 prot=r--
