# Lab: transparent huge pages (docs/labs/thp.md). Questions in thp.md; answers in thp_solution.mms.
machine memory=64M cpus=1 tlb=skylake seed=1 thp=madvise
process p
process reader

# 4 MiB of anonymous memory: unhinted and a multiple of 2 MiB, so on a 2 MiB boundary.
p: mmap 0 4M rw- private,anon
# Under thp=madvise only VMAs with MADV_HUGEPAGE get huge pages.
p: madvise 0x7ffff7a00000 4M hugepage

# Step 1: the first write to the first 2 MiB.
mark first
p: store 0x7ffff7a00000 "A"
show pagetable p 0x7ffff7a00000

# Step 2: read the last page of the huge page.
mark reach
p: load 0x7ffff7bff000 1
show tlb 0

# Step 3: a read of the second 2 MiB, never written.
mark zero
p: load 0x7ffff7c00000 1
show pagetable p 0x7ffff7c00000

# Step 4: unmap one 4 KiB page in the middle of the first huge page.
mark split
p: munmap 0x7ffff7a01000 4K
show pagetable p 0x7ffff7a00000

# Step 5: another process reads the first huge page with process_vm_readv.
reader: mmap 0x10000 4K rw- private,anon
trace full
reader: process_vm_readv p [0x10000:16] [0x7ffff7a00000:16]
trace off
