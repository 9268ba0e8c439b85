# Lab: anatomy of a page fault (docs/labs/page_fault.md): the scenario with the answers.
machine memory=64M cpus=1 tlb=skylake seed=1
process p

# Four pages of anonymous memory. mmap only creates a VMA: no page, no page table yet.
p: mmap 0x10000000 16K rw- private,anon
expect 0x10000000
show maps p
# Q1: a VMA, rw-, and no page-table entry for any of its pages.
expect vma p 0x10000000 start=0x10000000 end=0x10004000 prot=rw- flags=rd,wr,mr,mw,me,ac
expect pte p 0x10000000 none
expect pte p 0x10003000 none

# Step 1: the first read of page 0, with every hardware event and kernel call.
mark begin
trace full
p: load 0x10000000 1
trace off
show pagetable p 0x10000000
# Q2: one fault; it allocated the three missing page tables (PUD, PMD and PTE table) and
# no page for the data: the PTE maps the shared zero page (pfn 1), read-only.
expect vmstat pgfault +1 since begin
expect vmstat nr_page_table_pages +3 since begin
expect vmstat nr_anon_pages +0 since begin
expect pte p 0x10000000 present,user,accessed,nx,zero,!writable,!dirty pfn=1
# Q3: after the fault the CPU walked again and cached the translation.
expect tlb 0 p 0x10000000 cached
expect tlb 0 walks +2 since begin
# The fault's error code: 0x4, U alone (a read, from user mode, of a page not present).
expect fault p addr=0x10000000 error=U
expect fault cpu 0 addr=0x10000000 error=U

# Step 2: the first write to the same page.
mark read_done
trace calls
p: store 0x10000000 "A"
trace off
show pagetable p 0x10000000
# Q4: a write-protect fault (error code 0x7): wp_page_copy gives the page a private copy,
# writable and dirty, and flushes the stale read-only translation of the zero page.
expect vmstat pgfault +1 since read_done
expect vmstat nr_anon_pages +1 since read_done
expect vmstat nr_tlb_local_flush_one +1 since read_done
expect pte p 0x10000000 present,writable,user,accessed,dirty,!zero pfn!=1 as page0
expect page page0 refcount=1 mapcount=1 flags=anon,anon_exclusive,swapbacked
expect fault p addr=0x10000000 error=P|W|U

# Step 3: the first write to page 1, which was never read.
mark second_page
p: store 0x10001000 "B"
# Q5: one fault (do_anonymous_page straight to a new page), and no new page table: page 1's
# PTE is in the same table as page 0's.
expect vmstat pgfault +1 since second_page
expect vmstat nr_page_table_pages +0 since second_page
expect pte p 0x10001000 present,writable,dirty
# Its error code has no P: the PTE was not present.
expect fault p addr=0x10001000 error=W|U

# Step 4: another write to page 0.
mark again
p: store 0x10000800 "C"
# Q6: no fault at all: the TLB already has a writable translation.
expect vmstat pgfault +0 since again
expect tlb 0 walks +0 since again
expect fault p addr=0x10001000 error=W|U

# Step 5: a write the VMA does not allow.
p: mprotect 0x10002000 4K r--
expect 0
mark denied
trace full
p: store 0x10002000 "D"
# Q7: SIGSEGV. do_user_addr_fault finds the VMA is not writable (access_error) and signals
# before calling handle_mm_fault, so the fault is not counted and nothing is mapped.
expect SIGSEGV
trace off
# The #PF came all the same: error code 0x6, a write from user mode to a page not present
# (the VMA, not the page table, forbids it).
expect fault p addr=0x10002000 error=W|U
expect vmstat pgfault +0 since denied
expect pte p 0x10002000 none
show vmstat
