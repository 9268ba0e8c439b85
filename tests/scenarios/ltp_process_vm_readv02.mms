# LTP testcases/kernel/syscalls/cma/process_vm_readv02.c: child 1 reads the
# string "THIS IS A TEST" from child 0's memory with one iovec on each side.
process ltp
ltp: fork child0
ltp: fork child1

child0: mmap 0x600000 4K rw- private,anon
expect 0x600000
child0: store 0x600000 "THIS IS A TEST\0"
expect 0

child1: mmap 0x700000 4K rw- private,anon
expect 0x700000
child1: process_vm_readv child0 [0x700000:14] [0x600000:14]
expect 14
expect-mem child1 0x700000 "THIS IS A TEST"

child1: exit
ltp: reap child1
child0: exit
ltp: reap child0
