# Lab: transparent huge pages (docs/labs/thp.md): the scenario with the answers.
machine memory=64M cpus=1 tlb=skylake seed=1 thp=madvise
process p
process reader

# 4 MiB of anonymous memory: unhinted and a multiple of 2 MiB, so on a 2 MiB boundary.
p: mmap 0 4M rw- private,anon
expect 0x7ffff7a00000
# Under thp=madvise only VMAs with MADV_HUGEPAGE get huge pages.
p: madvise 0x7ffff7a00000 4M hugepage
expect 0
# Q1: the VMA starts on a 2 MiB boundary (smaps shows VM_HUGEPAGE as hg in VmFlags).
expect vma p 0x7ffff7a00000 start=0x7ffff7a00000 end=0x7ffff7e00000 flags=rd,wr

# Step 1: the first write to the first 2 MiB.
mark first
p: store 0x7ffff7a00000 "A"
expect 0
show pagetable p 0x7ffff7a00000
# Q2: one fault maps all 2 MiB: one THP allocated (order 9), the PDE is the leaf. Three
# page tables: the PUD and PMD tables, and a PTE table the fault deposits beside the PMD
# (pgtable_trans_huge_deposit) for a later split. The fault was a user write to a page
# not present. `expect pte` reports the PMD leaf (huge) with the frame of the page at
# the address: the folio starts at pfn 0x200, 2 MiB aligned.
expect vmstat pgfault +1 since first
expect vmstat thp_fault_alloc +1 since first
expect vmstat nr_page_table_pages +3 since first
expect fault p addr=0x7ffff7a00000 error=W|U
expect pte p 0x7ffff7a00000 present,huge,writable,dirty pfn=0x200
expect pte p 0x7ffff7bff000 present,huge pfn=0x3ff

# Step 2: read the last page of the huge page.
mark reach
p: load 0x7ffff7bff000 1
show tlb 0
# Q3: no fault and no page walk: the one TLB entry the store left covers 512 pages.
expect vmstat pgfault +0 since reach
expect tlb 0 walks +0 since reach
expect tlb 0 p 0x7ffff7bff000 cached
expect tlb 0 p 0x7ffff7b00000 cached

# Step 3: a read of the second 2 MiB, never written.
mark zero
p: load 0x7ffff7c00000 1
expect hex:00
show pagetable p 0x7ffff7c00000
# Q4: the huge zero page, mapped read-only by a PMD; no THP is allocated for the read.
expect vmstat thp_zero_page_alloc +1 since zero
expect vmstat thp_fault_alloc +0 since zero
expect fault p addr=0x7ffff7c00000 error=U
expect pte p 0x7ffff7c00000 present,huge,zero,!writable

# Step 4: unmap one 4 KiB page in the middle of the first huge page.
mark split
p: munmap 0x7ffff7a01000 4K
expect 0
show pagetable p 0x7ffff7a00000
# Q5: the PMD is split first: the deposited PTE table takes its place (no new page table),
# its PTEs keep mapping the same frames, and the unmapped page's PTE is empty.
expect vmstat thp_split_pmd +1 since split
expect vmstat nr_page_table_pages +0 since split
expect pte p 0x7ffff7a00000 present,!huge,writable,dirty pfn=0x200
expect pte p 0x7ffff7a02000 present,writable pfn=0x202
expect pte p 0x7ffff7a01000 none
expect-mem p 0x7ffff7a00000 "A"

# Step 5: another process reads the first huge page with process_vm_readv.
reader: mmap 0x10000 4K rw- private,anon
expect 0x10000
trace full
reader: process_vm_readv p [0x10000:16] [0x7ffff7a00000:16]
expect 16
trace off
# Q6: the copy pinned one page of the (still large) folio: the trace's gup_pin line shows
# refcount 512 = 511 + 1, not 511 + 1024 (a large folio counts pins in _pincount, not by
expect page at p 0x7ffff7a00000 refcount=511
