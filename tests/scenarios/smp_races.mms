# Two CPUs and two races (docs/scenario-language.md, "Concurrency: together and explore").
#  1. process_vm_readv racing an munmap of the range it reads: the pages it has pinned
#     outlive the munmap, so it copies everything, or (the munmap first) fails with EFAULT;
#     it never reads freed memory.
#  2. A load on CPU 1 racing an munmap on CPU 0 of the page it reads. CPU 1 caches the
#     translation, so the munmap must shoot it down (an IPI to the CPUs in mm_cpumask):
#     the load sees the data or faults, never a freed page.
# host: the host runs each explore block once (its scheduler picks the interleaving); --compare
# checks that run is one of the outcomes the simulator found
machine cpus=2 memory=16M
process target cpu=0
thread peer of target cpu=1
process reader cpu=1
target: mmap 0x10000 8K rw- private,anon,populate
target: fill 0x10000 8K 0x41
reader: mmap 0x20000 8K rw- private,anon,populate
peer: load 0x10000 1
expect "A"
show cpus

explore all preemptions=2
  together
    reader: process_vm_readv target [0x20000:8K] [0x10000:8K]
    target: munmap 0x10000 8K
  end
  expect-always reader=8K or reader=4K or reader=EFAULT
  expect-sometimes reader=8K
  expect-sometimes reader=EFAULT
end

explore all
  together
    target: munmap 0x10000 8K
    peer: load 0x10000 1
  end
  expect-always peer="A" or peer=SIGSEGV
  expect-sometimes peer="A"
  expect-sometimes peer=SIGSEGV
end

# The default schedule runs the munmap first: afterwards the load faults.
together
  target: munmap 0x10000 8K
  expect 0
  peer: load 0x10000 1
  expect SIGSEGV
end
show vmstat
