# Lab: TLB shootdowns and races (docs/labs/shootdown.md).
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

# Step 2: the target write-protects page 0 on CPU 0.
mark protect
trace calls
target: mprotect 0x10000 4K r--
trace off

# Step 3: the thread goes to sleep: CPU 1 runs nothing (a kernel thread would keep the mm
# loaded lazily). The target unmaps page 1.
kthread idle cpu=1
mark unmap
target: munmap 0x11000 4K

# Step 4: a race. The target unmaps page 2 while its thread, back on CPU 1, reads it.
schedule peer cpu=1
peer: load 0x12000 1
explore all
  together
    target: munmap 0x12000 4K
    peer: load 0x12000 1
  end
end
