# Lab: cross-process access and credentials (docs/labs/pvm_creds.md).
machine memory=64M cpus=1 tlb=skylake seed=1
process target uid=1000 gid=1000 caps=none
process peer uid=1000 gid=1000 caps=none
process other uid=2000 gid=2000 caps=none
process debugger uid=2000 gid=2000 caps=cap_sys_ptrace

# The target keeps a secret; each reader has a buffer for it.
target: mmap 0x10000000 4K rw- private,anon
target: store 0x10000000 "secret"
peer: mmap 0x20000000 4K rw- private,anon
other: mmap 0x20000000 4K rw- private,anon
debugger: mmap 0x20000000 4K rw- private,anon

# Step 1: three readers, one call each.
mark pins
trace calls
peer: process_vm_readv target [0x20000000:6] [0x10000000:6]
trace off
other: process_vm_readv target [0x20000000:6] [0x10000000:6]
debugger: process_vm_readv target [0x20000000:6] [0x10000000:6]

# Step 2: the target makes itself non-dumpable (prctl PR_SET_DUMPABLE 0).
target: dumpable 0
peer: process_vm_readv target [0x20000000:6] [0x10000000:6]
debugger: process_vm_readv target [0x20000000:6] [0x10000000:6]
target: dumpable 1

# Step 3: writing. First into writable memory, then into a read-only page.
peer: store 0x20000000 "SECRET"
peer: process_vm_writev target [0x20000000:6] [0x10000000:6]
target: mprotect 0x10000000 4K r--
peer: process_vm_writev target [0x20000000:6] [0x10000000:6]

# Step 4: a root process becomes group 1000 and uid 1000 (real and effective) but keeps 0
# as its saved uid, and gives up its capabilities. Then it drops the saved uid too.
process admin
admin: mmap 0x10000000 4K rw- private,anon
admin: store 0x10000000 "admin!"
admin: setresgid 1000 1000 1000
admin: setresuid 1000 1000 0
admin: capset none
peer: process_vm_readv admin [0x20000000:6] [0x10000000:6]
admin: dumpable 1
peer: process_vm_readv admin [0x20000000:6] [0x10000000:6]
admin: setresuid 1000 1000 1000
peer: process_vm_readv admin [0x20000000:6] [0x10000000:6]
