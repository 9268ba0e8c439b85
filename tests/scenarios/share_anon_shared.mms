# MAP_SHARED|MAP_ANONYMOUS memory is one shmem object: after fork both sides see each
# other's writes (it is not copied), and process_vm_writev into one side shows in the other.
machine memory=64M cpus=2
process parent
parent: mmap 0x600000 2*4K rw- shared,anon,fixed
expect 0x600000
parent: store 0x600000 "written before fork"
expect 0
parent: fork child
child: load 0x600000 19
expect "written before fork"
child: store 0x601000 "written by the child"
expect 0
parent: load 0x601000 20          # the parent's first touch finds the child's page
expect "written by the child"
parent: store 0x600000 "WRITTEN"
expect 0
expect-mem child 0x600000 "WRITTEN before fork"
process peer
peer: mmap 0x500000 4K rw- private,anon,fixed
expect 0x500000
peer: store 0x500000 "via pvm"
expect 0
peer: process_vm_writev parent [0x500000:7] [0x601100:7]
expect 7
expect-mem child 0x601100 "via pvm"
show maps child
child: exit
parent: load 0x601100 7
expect "via pvm"
