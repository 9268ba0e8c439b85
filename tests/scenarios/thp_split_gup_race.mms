# process_vm_writev into a THP while the target's own madvise of one of its pages splits
# the folio (docs/semantics.md H7, H9). Linux 6.18's __folio_split freezes the refcount
# with every PTE already a migration entry, so GUP waits and then pins the new 4 KiB
# folios: the write always moves all 12 KiB. mmsim keeps the PTEs in place, so no switch
# may come while the refcount is frozen (GUP would meet a refcount of 0: a WARN and
# EFAULT). Every schedule with one preemption is run.
# host: sim-only (explore blocks are simulator-only).
machine memory=64M swap=16M cpus=2 seed=3 thp=always
process p
process rd
p: mmap 0 2M rw- private,anon
expect 0x7ffff7c00000
p: fill 0x7ffff7c00000 2M pattern
expect 0
rd: mmap 0x10000 16K rw- private,anon
expect 0x10000
rd: fill 0x10000 12K 0x5a
expect 0
explore all preemptions=1
  together
    rd: process_vm_writev p [0x10000:12K] [0x7ffff7c00000:12K]
    p: madvise 0x7ffff7c00000 4K free
  end
  expect-mem p 0x7ffff7c02ff8 repeat(8,0x5a)
  expect-always rd=12288 p=0
end
explore all preemptions=1
  together
    rd: process_vm_writev p [0x10000:12K] [0x7ffff7c00000:12K]
    p: madvise 0x7ffff7c01000 4K pageout
  end
  expect-mem p 0x7ffff7c00000 repeat(12K,0x5a)
  expect-always rd=12288 p=0
end
