# A task that has exited makes no more user accesses: its load, store and fill give
# -1 ESRCH, as its system calls do (docs/semantics.md §15), and never a signal.
# host: sim-only (the host runner has no channel to a task after its exit)
machine memory=16M
process p
process q
p: mmap 0x10000 4K rw- private,anon
expect 0x10000
p: store 0x10000 hex:11
expect 0
p: exit
p: load 0x10000 8
expect -1 ESRCH
p: store 0x10000 hex:22
expect -1 ESRCH
p: fill 0x10000 4K 0x33
expect -1 ESRCH
p: munmap 0x10000 4K
expect -1 ESRCH
# A live task is unaffected.
q: mmap 0x10000 4K rw- private,anon
expect 0x10000
q: load 0x10000 1
expect hex:00
