# The madvise advice that sets VMA flags (access pattern, core dump, KSM) and the advice
# that populates (mm/madvise.cc, mm/ksm.cc, mm/gup.cc faultin_page_range). Every result
# here is the host kernel's too (`mmsim --compare`): the return values and errnos are
# checked against Linux; the `expect vma` lines (smaps VmFlags) are the simulator's.
file f size=8K data="file page zero"
process p
p: mmap 0x20000000 16K rw- private,anon
expect 0x20000000
# MADV_SEQUENTIAL and MADV_RANDOM (VmFlags sr, rr) exclude each other; MADV_NORMAL clears
# both. Advice on part of the mapping splits it.
p: madvise 0x20000000 4K sequential
expect 0
p: madvise 0x20001000 4K random
expect 0
expect vma p 0x20000000 end=0x20001000 flags=sr,!rr
expect vma p 0x20001000 start=0x20001000 end=0x20002000 flags=rr,!sr
p: madvise 0x20000000 4K random
expect 0
expect vma p 0x20000000 end=0x20002000 flags=rr,!sr
p: madvise 0x20000000 16K normal
expect 0
expect vma p 0x20000000 start=0x20000000 end=0x20004000 flags=!rr,!sr
# MADV_DONTDUMP / MADV_DODUMP (dd): out of and back into core dumps.
p: madvise 0x20002000 8K dontdump
expect 0
expect vma p 0x20003000 start=0x20002000 flags=dd
p: madvise 0x20002000 8K dodump
expect 0
expect vma p 0x20003000 start=0x20000000 flags=!dd
# MADV_MERGEABLE / MADV_UNMERGEABLE (mg, CONFIG_KSM): the mark KSM scans for.
p: madvise 0x20000000 16K mergeable
expect 0
expect vma p 0x20000000 flags=mg
p: madvise 0x20000000 16K unmergeable
expect 0
expect vma p 0x20000000 flags=!mg
# Shared memory cannot be merged: the advice is ignored, not refused.
p: mmap 0x21000000 4K rw- shared,anon
expect 0x21000000
p: madvise 0x21000000 4K mergeable
expect 0
expect vma p 0x21000000 flags=sh,!mg
# MADV_POPULATE_WRITE faults the pages in writable; what was there stays.
p: store 0x20000000 "kept"
expect 0
p: madvise 0x20000000 16K populate_write
expect 0
p: load 0x20000000 4
expect "kept"
p: load 0x20003000 4
expect hex:00000000
# MADV_POPULATE_READ on read-only memory is fine; POPULATE_WRITE there is EINVAL, and
# PROT_NONE refuses both.
p: mmap 0x22000000 8K r-- private,anon
expect 0x22000000
p: madvise 0x22000000 8K populate_read
expect 0
p: madvise 0x22000000 8K populate_write
expect -1 EINVAL
p: mprotect 0x22001000 4K ---
expect 0
p: madvise 0x22000000 8K populate_read
expect -1 EINVAL
p: madvise 0x22001000 4K populate_write
expect -1 EINVAL
# A hole: ENOMEM at once (the pages before it are populated).
p: munmap 0x20001000 4K
expect 0
p: madvise 0x20000000 16K populate_read
expect -1 ENOMEM
# A file page wholly past end-of-file: the fault's SIGBUS is EFAULT.
p: mmap 0x30000000 16K r-- private file=f
expect 0x30000000
p: madvise 0x30000000 8K populate_read
expect 0
p: madvise 0x30000000 16K populate_read
expect -1 EFAULT
p: load 0x30000000 14
expect "file page zero"
# MADV_REMOVE (9) needs a shared writable file mapping, MADV_COLLAPSE (25) a huge-page
# sized range: both are EINVAL on private anonymous memory.
p: madvise 0x20002000 4K 9
expect -1 EINVAL
p: madvise 0x20002000 4K 25
expect -1 EINVAL
p: madvise 0x20002001 4K populate_write
expect -1 EINVAL
show maps p
