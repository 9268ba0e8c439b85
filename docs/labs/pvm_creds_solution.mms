# Lab: cross-process access and credentials (docs/labs/pvm_creds.md): with the answers.
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
# Q1: allowed: same real uid as the target's three uids, same gids, and the target is
# dumpable, so __ptrace_may_access returns 0. The remote page was pinned for the copy and
# unpinned after it: its refcount is back to 1.
expect-mem peer 0x20000000 "secret"
expect vmstat nr_foll_pin_acquired +1 since pins
expect vmstat nr_foll_pin_released +1 since pins
expect page at target 0x10000000 refcount=1 mapcount=1
other: process_vm_readv target [0x20000000:6] [0x10000000:6]
# Q2: refused (another uid, no CAP_SYS_PTRACE), before any page was looked up: nothing
# pinned, nothing copied.
expect -1 EPERM
expect vmstat nr_foll_pin_acquired +1 since pins
expect-mem other 0x20000000 hex:000000000000
debugger: process_vm_readv target [0x20000000:6] [0x10000000:6]
# Q3: allowed: another uid, but CAP_SYS_PTRACE overrides the uid and gid rule.
expect 6
expect-mem debugger 0x20000000 "secret"

# Step 2: the target makes itself non-dumpable (prctl PR_SET_DUMPABLE 0).
target: dumpable 0
peer: process_vm_readv target [0x20000000:6] [0x10000000:6]
# Q4: a non-dumpable target refuses even a reader with its uids; CAP_SYS_PTRACE still
# gets through.
expect -1 EPERM
debugger: process_vm_readv target [0x20000000:6] [0x10000000:6]
expect 6
target: dumpable 1

# Step 3: writing. First into writable memory, then into a read-only page.
peer: store 0x20000000 "SECRET"
peer: process_vm_writev target [0x20000000:6] [0x10000000:6]
# Q5: the first write lands (6 bytes). The second finds the page read-only: GUP for a
# write without FOLL_FORCE fails, so the call returns EFAULT and the page is unchanged.
expect 6
expect-mem target 0x10000000 "SECRET"
target: mprotect 0x10000000 4K r--
peer: process_vm_writev target [0x20000000:6] [0x10000000:6]
expect -1 EFAULT
expect pte target 0x10000000 present,!writable
expect-mem target 0x10000000 "SECRET"

# Step 4: a root process becomes group 1000 and uid 1000 (real and effective) but keeps 0
# as its saved uid, and gives up its capabilities. Then it drops the saved uid too.
process admin
admin: mmap 0x10000000 4K rw- private,anon
admin: store 0x10000000 "admin!"
admin: setresgid 1000 1000 1000
admin: setresuid 1000 1000 0
admin: capset none
peer: process_vm_readv admin [0x20000000:6] [0x10000000:6]
# Q6: refused for two reasons at first: the saved uid 0 is not the peer's uid; changing the
# effective ids made the process non-dumpable (commit_creds sets fs.suid_dumpable, 0);
# dumpable again, the saved uid still refuses; only with all three uids 1000 (and the
# gids) may the peer read it.
expect -1 EPERM
admin: dumpable 1
peer: process_vm_readv admin [0x20000000:6] [0x10000000:6]
expect -1 EPERM
admin: setresuid 1000 1000 1000
peer: process_vm_readv admin [0x20000000:6] [0x10000000:6]
expect 6
expect-mem peer 0x20000000 "admin!"
