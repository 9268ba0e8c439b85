# The kernel half every process shares (docs/semantics.md §14): the direct map at
# 0xffff888000000000 is mapped, but not for user mode.
machine memory=64M cpus=1
let K = 0xffff888000000000
process a
process b
a: mmap 0x10000 4K rw- private,anon,fixed
expect 0x10000
# K6: a remote element in the kernel half fails before any walk.
a: process_vm_readv b [0x10000:16] [K:16]
expect -1 EFAULT
a: process_vm_writev b [0x10000:16] [K+0x1000:16]
expect -1 EFAULT
# K4: present but supervisor-only: #PF P|U (|W), SIGSEGV.
a: load K 8
expect SIGSEGV
expect fault a addr=K error=P|U
b: store K+0x2000 hex:01
expect SIGSEGV
expect fault b addr=K+0x2000 error=P|W|U
# Past the end of memory: not present, SIGSEGV all the same.
a: load K+64M 8
expect SIGSEGV
expect fault a addr=K+64M error=U
