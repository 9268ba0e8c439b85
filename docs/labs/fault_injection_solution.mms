# Lab: error paths via fault injection (docs/labs/fault_injection.md): with the answers.
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
# Q1: mmap_region cannot allocate the VMA (kmalloc_fail in the trace): the call fails with
# ENOMEM and leaves nothing behind.
expect -1 ENOMEM
trace off
expect vma p 0x30000000 none

# Step 2: GUP cannot have the second page of a remote read.
fail fail_gup nth=2 times=2
trace calls
reader: process_vm_readv p [0x20000000:8K] [0x10000000:8K]
# Q2: the first GUP call pins only page 0 (page 1's pass fails: a short pin is fine), the
# data of page 0 is copied, then the call for page 1 fails outright. process_vm_rw returns
# what it copied: 4096, a partial transfer, and every pin was dropped again.
expect 4096
trace off
expect-mem reader 0x20000000 repeat(4K,0x41)
expect-mem reader 0x20001000 repeat(4K,0)
expect page at p 0x10000000 refcount=1
expect page at p 0x10001000 refcount=1

# Step 3: ... and now not even the first.
fail fail_gup nth=1 times=1
reader: process_vm_readv p [0x20000000:8K] [0x10000000:8K]
# Q3: nothing was copied, and process_vm_rw_single_vec reports a failed pin as EFAULT
# (whatever GUP's own error, here ENOMEM).
expect -1 EFAULT

# Step 4: the fourth copy between kernel and user memory fails (as if the page vanished).
fail fail_uaccess nth=4 times=1
trace calls
reader: process_vm_readv p [0x20000000:8K] [0x10000000:8K]
# Q4: the copies are: the two iovec arrays from the reader (1, 2), page 0 to the reader
# (3), page 1 to the reader (4): that one copies nothing (4096 bytes left), so the call
# returns the 4096 bytes of page 0.
expect 4096
trace off

# Step 5: a user page fault cannot get memory.
process victim
victim: mmap 0x40000000 4K rw- private,anon
mark before_oom
fail fail_fault nth=1 times=1
trace calls
victim: store 0x40000000 "x"
# Q5: handle_mm_fault returns VM_FAULT_OOM and do_user_addr_fault calls
# pagefault_out_of_memory. In Linux 6.18 the allocator's OOM killer would have chosen a
# victim already; mmsim stands in for it there with the vm.oom_kill_allocating_task rule
# (docs/semantics.md §15): the faulting task gets SIGKILL and exits. No page was mapped.
expect SIGKILL
trace off
expect vmstat pgfault +1 since before_oom
expect vmstat nr_anon_pages +0 since before_oom
