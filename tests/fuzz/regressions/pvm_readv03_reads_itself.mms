# libFuzzer (mmsim_fuzzer) found this mutation of ltp_process_vm_readv03.mms: child1 reads
# from itself, so the simulated CPU copied between a frame and itself with overlapping
# memcpy ranges (ASan: memcpy-param-overlap in hw::Cpu::CopyToLinear). Fixed in hw/cpu.cc.
# LTP testcases/kernel/syscalls/cma/process_vm_readv03.c with its defaults:
# nr_iovecs = 10 remote buffers of random sizes totalling bufsz = 100000 bytes,
# read into NUM_LOCAL_VECS = 4 local buffers, every byte checked. The sizes are
# fixed here (LTP draws them with rand()); the bytes are the address pattern, so
# child 1's buffers sit at the same addresses as child 0's.
let BUF = 0x200000
let BUFSZ = 100000
process ltp
ltp: fork child0
ltp: fork child1

child0: mmap BUF 100K rw- private,anon
expect BUF
child0: fill BUF BUFSZ pattern
expect 0

child1: mmap BUF 100K rw- private,anon
expect BUF
child1: process_vm_readv child1 [BUF:30000, BUF+30000:5000, BUF+35000:45000, BUF+80000:20000] [BUF:20000, BUF+20000:7000, BUF+27000:15000, BUF+42000:3000, BUF+45000:9000, BUF+54000:11000, BUF+65000:6000, BUF+71000:12000, BUF+83000:4000, BUF+87000:13000]
expect BUFSZ
expect-mem child1 BUF pattern(BUFSZ)
expect-same child0 BUF child1 BUF BUFSZ

child1: exit
ltp: reap child1
child0: exit
ltp: reap child0
