# LTP testcases/kernel/syscalls/cma/process_vm01.c, run as process_vm01 -r:
# the errno contract of process_vm_readv, one block per cma_test_* function.
machine memory=256M cpus=2 seed=1
let PAGE = 4K
let LBUF = 0x10000          # ldummy
let RBUF = 0x20000          # rdummy
let BAD = 0xffffffffffffffff  # (void *)-1
process ltp
ltp: mmap LBUF PAGE rw- private,anon,fixed
expect LBUF
ltp: mmap RBUF PAGE rw- private,anon,fixed
expect RBUF

# cma_test_sane_params: one page from ourselves
ltp: process_vm_readv ltp [LBUF:PAGE] [RBUF:PAGE]
expect 4096

# cma_test_flags: only flags == 0 is allowed
ltp: process_vm_readv ltp [LBUF:PAGE] [RBUF:PAGE] flags=-0x7fffffff
expect -1 EINVAL
ltp: process_vm_readv ltp [LBUF:PAGE] [RBUF:PAGE] flags=-1
expect -1 EINVAL
ltp: process_vm_readv ltp [LBUF:PAGE] [RBUF:PAGE] flags=1
expect -1 EINVAL
ltp: process_vm_readv ltp [LBUF:PAGE] [RBUF:PAGE] flags=0x7fffffff
expect -1 EINVAL
ltp: process_vm_readv ltp [LBUF:PAGE] [RBUF:PAGE] flags=0
expect 4096

# cma_test_iov_len_overflow: iov_len = (ssize_t)-1
ltp: process_vm_readv ltp [LBUF:BAD] [RBUF:BAD]
expect -1 EINVAL

# cma_test_iov_invalid: bad iov_base, then bad iovec array pointers
ltp: process_vm_readv ltp [BAD:PAGE] [RBUF:PAGE]
expect -1 EFAULT
ltp: process_vm_readv ltp [LBUF:PAGE] [BAD:PAGE]
expect -1 EFAULT
ltp: process_vm_readv ltp raw(BAD, 1) [RBUF:PAGE]
expect -1 EFAULT
ltp: process_vm_readv ltp [LBUF:PAGE] raw(BAD, 1)
expect -1 EFAULT

# cma_test_invalid_pid: pid -1, then pid_max + 1 (pid_max is 4194304 on 64-bit)
ltp: process_vm_readv -1 [LBUF:PAGE] [RBUF:PAGE]
expect -1 ESRCH
ltp: process_vm_readv 4194304+1 [LBUF:PAGE] [RBUF:PAGE]
expect -1 ESRCH

# cma_test_invalid_perm: a child that setuid()s to nobody may not touch its parent
ltp: fork child
child: setresuid 65534 65534 65534
expect 0
child: process_vm_readv ltp [LBUF:PAGE] [RBUF:PAGE]
expect -1 EPERM
child: exit
ltp: reap child

# cma_test_invalid_protection: a PROT_NONE page on either side
ltp: mmap 0x30000 PAGE --- private,anon
expect 0x30000
ltp: process_vm_readv ltp [0x30000:PAGE] [RBUF:PAGE]
expect -1 EFAULT
ltp: process_vm_readv ltp [LBUF:PAGE] [0x30000:PAGE]
expect -1 EFAULT
ltp: munmap 0x30000 PAGE
expect 0
