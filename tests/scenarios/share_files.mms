# File mappings: a MAP_SHARED write changes the file and every other mapping of it; a
# MAP_PRIVATE write makes a private copy; a page wholly past end-of-file is SIGBUS (the
# rest of the last page reads as zeros); a read-only file refuses a shared writable
# mapping; a shared file mapping survives fork, a private copy is copy-on-write again.
file f size=6K data="the file's first bytes"
file ro size=4K data=repeat(4K,0x41) readonly
process p
p: mmap 0x20000000 12K rw- shared,fixed file=f
expect 0x20000000
p: mmap 0x30000000 12K rw- private,fixed file=f
expect 0x30000000
p: load 0x30000000 22
expect "the file's first bytes"
p: store 0x20000000 "THE FILE"
expect 0
expect-mem p 0x30000000 "THE FILE's first bytes"
p: store 0x30000004 "copy"
expect 0
expect-mem p 0x20000000 "THE FILE's"
expect-mem p 0x30000000 "THE copy's"
p: load 0x20001800 16
expect repeat(16,0)
p: load 0x20002000 1
expect SIGBUS
p: store 0x30002010 "x"
expect SIGBUS
p: mmap 0x40000000 4K rw- shared,fixed file=ro
expect -1 EACCES
p: mmap 0x40000000 4K rw- private,fixed file=ro
expect 0x40000000
p: store 0x40000000 "BB"
expect 0
expect-mem p 0x40000000 "BBAA"
p: fork child
child: load 0x20000000 8
expect "THE FILE"
child: store 0x20000004 "-fork"
expect 0
expect-mem p 0x20000000 "THE -fork"
child: store 0x30000000 "C"
expect 0
expect-mem p 0x30000000 "THE copy"
expect-mem child 0x30000000 "CHE copy"
process peer
peer: mmap 0x500000 4K rw- private,anon,fixed
expect 0x500000
peer: process_vm_readv p [0x500000:8192] [0x20001000:8192]
expect 4096
peer: process_vm_writev p [0x500000:4] [0x40000000:4]
expect 4
show maps p
