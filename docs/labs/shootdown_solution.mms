# Lab: TLB shootdowns and races (docs/labs/shootdown.md): with the answers.
machine cpus=2 memory=16M tlb=skylake seed=1
process target cpu=0
thread peer of target cpu=1
target: mmap 0x10000 16K rw- private,anon
expect 0x10000
target: fill 0x10000 16K 0x41
show cpus

# Step 1: both CPUs use pages 0 and 1: the target on CPU 0, its thread on CPU 1.
target: load 0x10000 1
peer: load 0x10000 1
peer: load 0x11000 1
show tlb 1
# Q1: CPU 0 caches page 0 for the target, CPU 1 pages 0 and 1 for the thread: the same mm
# under a different PCID on each CPU, and both CPUs are in its mm_cpumask.
expect tlb 0 target 0x10000 cached
expect tlb 1 peer 0x10000 cached
expect tlb 1 peer 0x11000 cached

# Step 2: the target write-protects page 0 on CPU 0.
mark protect
trace calls
target: mprotect 0x10000 4K r--
trace off
# Q2: the PTE changed on CPU 0, but CPU 1 may cache it: CPU 0 sends CPU 1 an IPI
# (flush_tlb_mm_range -> flush_tlb_multi) and CPU 1 flushes the one page; CPU 0 flushes it
# locally. Page 1 stays cached on CPU 1: the flush covered only the changed range.
expect vmstat nr_tlb_remote_flush +1 since protect
expect vmstat nr_tlb_remote_flush_received +1 since protect
expect tlb 0 target 0x10000 absent
expect tlb 1 peer 0x10000 absent
expect tlb 1 peer 0x11000 cached

# Step 3: the thread goes to sleep: CPU 1 runs nothing (a kernel thread would keep the mm
# loaded lazily). The target unmaps page 1.
kthread idle cpu=1
mark unmap
target: munmap 0x11000 4K
# Q3: CPU 1 is lazy (a kernel thread runs there with the target's mm still loaded): the
# flush is counted as remote but no IPI is sent (nothing received), because no page table
# was freed. CPU 1 keeps a stale translation of page 1, harmless while nothing runs in user
# mode there; when the thread comes back, switch_mm sees the mm's flush generation moved
# and flushes the PCID first.
expect 0
expect vmstat nr_tlb_remote_flush +1 since unmap
expect vmstat nr_tlb_remote_flush_received +0 since unmap
expect tlb 1 peer 0x11000 cached

# Step 4: a race. The target unmaps page 2 while its thread, back on CPU 1, reads it.
schedule peer cpu=1
expect tlb 1 peer 0x11000 absent
peer: load 0x12000 1
explore all
  together
    target: munmap 0x12000 4K
    peer: load 0x12000 1
  end
  # Q4: the load either reads the data (it ran before the munmap took the page away) or
  # faults (after the shootdown): it never reads a freed frame through a stale entry.
  expect-always peer="A" or peer=SIGSEGV
  expect-sometimes peer="A"
  expect-sometimes peer=SIGSEGV
  expect-always target=0
end
