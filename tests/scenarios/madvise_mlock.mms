# madvise and mlock (mm/madvise.cc, mm/mlock.cc). Every result here is the host kernel's
# too (`mmsim --compare`): this host has no swap, so MADV_PAGEOUT leaves anonymous memory
# resident in both, and nothing here runs short of memory, so MADV_FREE'd data stays.
file f size=8K data="file page zero"
process p
p: mmap 0x20000000 16K rw- private,anon
expect 0x20000000
p: fill 0x20000000 16K 0x5a
expect 0
# MADV_DONTNEED: private anonymous memory reads back as zeros.
p: madvise 0x20000000 4K dontneed
expect 0
p: load 0x20000000 4
expect hex:00000000
p: load 0x20001000 4
expect hex:5A5A5A5A
# MADV_FREE: lazily freed; until reclaim discards it, the data is there, and a write
# takes it back.
p: madvise 0x20001000 4K free
expect 0
p: load 0x20001000 4
expect hex:5A5A5A5A
p: store 0x20001000 "kept"
expect 0
# MADV_COLD and MADV_PAGEOUT age and reclaim; without swap the pages stay.
p: madvise 0x20002000 8K cold
expect 0
p: madvise 0x20002000 8K pageout
expect 0
p: load 0x20003ffc 4
expect hex:5A5A5A5A
# The argument rules: unaligned start, unknown advice, a zero length.
p: madvise 0x20000001 4K dontneed
expect -1 EINVAL
p: madvise 0x20000000 4K 12345
expect -1 EINVAL
p: madvise 0x20000000 0 dontneed
expect 0
# A hole: ENOMEM, after the advice was applied to what is mapped.
p: munmap 0x20001000 4K
expect 0
p: madvise 0x20000000 16K dontneed
expect -1 ENOMEM
p: load 0x20002000 4
expect hex:00000000
p: fill 0x20002000 8K 0x33
expect 0
# File memory: WILLNEED reads ahead; FREE is for anonymous memory only.
p: mmap 0x30000000 8K r-- private file=f
expect 0x30000000
p: madvise 0x30000000 8K willneed
expect 0
p: load 0x30000000 14
expect "file page zero"
p: madvise 0x30000000 8K free
expect -1 EINVAL
# mlock: locked memory cannot be dropped (only with dontneed_locked).
p: mlock 0x20002000 8K
expect 0
p: madvise 0x20002000 4K dontneed
expect -1 EINVAL
p: madvise 0x20002000 4K cold
expect -1 EINVAL
p: madvise 0x20002000 4K dontneed_locked
expect 0
p: load 0x20002000 4
expect hex:00000000
p: load 0x20003000 4
expect hex:33333333
show maps p
p: munlock 0x20002000 8K
expect 0
# A hole inside the range: ENOMEM.
p: mlock 0x20000000 16K
expect -1 ENOMEM
p: munlock 0x20000000 16K
expect -1 ENOMEM
p: mlock 0x20000000 4K onfault
expect 0
p: munlock 0x20000000 4K
expect 0
# mlockall: MCL_ONFAULT alone and no flags are invalid.
p: mlockall onfault
expect -1 EINVAL
p: mlockall 0
expect -1 EINVAL
p: mlockall current,future
expect 0
p: mmap 0x40000000 4K rw- private,anon
expect 0x40000000
p: munlockall
expect 0
p: munlock 0x40000000 4K
expect 0
