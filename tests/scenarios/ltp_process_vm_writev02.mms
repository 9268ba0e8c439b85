# LTP testcases/kernel/syscalls/cma/process_vm_writev02.c with bufsz = 100000:
# child 0 fills its buffer with DEFAULT_CHAR (53); child 1 writes bufsz bytes
# from the middle of a buffer padded with PADDING_SIZE (10) bytes of 53 on each
# side; child 0 then checks every byte, and that nothing past the end changed.
let BUF = 0x800000
let BUFSZ = 100000
let PADDING_SIZE = 10
process ltp
ltp: fork child0
ltp: fork child1

child0: mmap BUF 128K rw- private,anon
expect BUF
child0: fill BUF BUFSZ 53
expect 0

child1: mmap BUF-4K 132K rw- private,anon
expect BUF-4K
child1: fill BUF-PADDING_SIZE BUFSZ+2*PADDING_SIZE 53
expect 0
child1: fill BUF BUFSZ pattern
expect 0
child1: process_vm_writev child0 [BUF:BUFSZ] [BUF:BUFSZ]
expect BUFSZ

expect-mem child0 BUF pattern(BUFSZ)
# ...and nothing after it changed, to the end of child 0's mapping: its last pages were
# never touched, and read as /proc/PID/mem reads them (the zero page).
expect-mem child0 BUF+BUFSZ repeat(128K-BUFSZ, 0)

child1: exit
ltp: reap child1
child0: exit
ltp: reap child0
