# Protection faults and the munmap/mprotect argument checks.
process p uid=1000 gid=1000 caps=none
p: mmap 0x10000000 16K r-- private,anon
expect 0x10000000
p: store 0x10000000 hex:deadbeef
expect SIGSEGV
p: mprotect 0x10000000 4K rw-
expect 0
p: store 0x10000000 hex:deadbeef
expect 0
p: load 0x10000000 4
expect hex:DEADBEEF
p: mprotect 0x10001000 0x1000 ---
expect 0
p: load 0x10001000 1
expect SIGSEGV
p: mprotect 0x10002000 4K r-x
expect 0
p: munmap 0x10000001 4K          # unaligned
expect -1 EINVAL
p: munmap 0x10000000 16K
expect 0
p: load 0x10000000 1
expect SIGSEGV
