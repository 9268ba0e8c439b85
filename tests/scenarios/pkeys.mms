# Protection keys (docs/semantics.md §4.5). On a CPU with PKU, Linux gives a mapping made
# or mprotect()ed with exactly PROT_EXEC the process's execute-only key (1 in a fresh
# process), whose PKRU access-disable bit is set: the CPU refuses every data access to it,
# a user load (SIGSEGV, SEGV_PKUERR) and the kernel's own copy of a process_vm_writev
# source (EFAULT) alike. r-x keeps key 0 and reads. Without PKU (pku=0, the default) the
# same --x page reads: x86 cannot map a page executable but not readable.
# host: sim-only (pku=1 needs a PKU host; the differential tests compare with the host's own PKU)
machine memory=16M pku=1
process caller
process target
target: mmap 0x20000 4K rw- private,anon
expect 0x20000
caller: mmap 0x10000 8K rw- private,anon
expect 0x10000
caller: fill 0x10000 8K pattern
expect 0
# Page 0x10000 r-x (key 0), page 0x11000 --x (the execute-only key).
caller: mprotect 0x10000 4K r-x
expect 0
caller: mprotect 0x11000 4K --x
expect 0
caller: load 0x10000 8
expect pattern(8)
caller: load 0x11000 8
expect SIGSEGV
caller: process_vm_writev target [0x11000:200] [0x20000:200]
expect -1 EFAULT
# A local stream that runs from the r-x page into the --x one stops at the boundary.
caller: process_vm_writev target [0x10f00:512] [0x20000:512]
expect 256
# Back to readable: mprotect moves the page to the default key.
caller: mprotect 0x11000 4K r-x
expect 0
caller: process_vm_writev target [0x11000:200] [0x20000:200]
expect 200
# The remote side is GUP with FOLL_REMOTE, which never checks keys: a --x target page
# fails for want of VM_READ, as on any x86.
caller: mmap 0x30000 4K rw- private,anon
expect 0x30000
target: mprotect 0x20000 4K --x
expect 0
caller: process_vm_readv target [0x30000:8] [0x20000:8]
expect -1 EFAULT
