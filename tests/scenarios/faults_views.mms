# Fault injection, tracing and the /proc-like views.
# host: sim-only fault injection (`fail`) changes what the later statements return; the views are the simulator's
machine memory=32M cpus=2 tlb=tiny seed=0xdecafbad
trace calls
process p                    # before the failure policies, so clone does not fail
p: mmap 0x1000000 16K rw- private,anon
expect 0x1000000
p: fill 0x1000000 16K 0x5a
show buddy
show tlb
show tlb 1
show page 0x100
trace full
fail fail_uaccess nth=1 times=2 probability=1
p: process_vm_readv p [0x1000000:4K] [0x1002000:4K]
expect -1 EFAULT             # fail_uaccess fails the first copy
# An injected allocation failure in a user fault kills the faulting task (SIGKILL,
# docs/semantics.md §15), so the failures are armed after p's user accesses (its fill, the iovec stores).
fail fail_page_alloc nth=3 times=1
fail failslab probability=0.25
trace off
show maps p
show pagetable p
show vmstat
