# The [stack] VMA (VM_GROWSDOWN) grows when the process itself touches the page just
# below it, but not when another process reaches there with process_vm_readv/writev
# (GUP never grows stacks), and never past RLIMIT_STACK (8 MiB).
process p
process peer
peer: mmap 0x500000 4K rw- private,anon,fixed
expect 0x500000
peer: process_vm_readv p [0x500000:8] [0x7ffffffdeff8:8]
expect -1 EFAULT
p: store 0x7ffffffde000 "grown"
expect 0
peer: process_vm_readv p [0x500000:5] [0x7ffffffde000:5]
expect 5
expect-mem peer 0x500000 "grown"
p: load 0x7fffff7fe000 8
expect SIGSEGV
show maps p
