# fork shares private memory copy-on-write: after fork both sides map the same page
# read-only (mapcount 2); the first write on either side copies, the other keeps its page.
machine memory=64M cpus=2
process parent
parent: mmap 0x400000 3*4K rw- private,anon,fixed
expect 0x400000
parent: fill 0x400000 12K pattern
expect 0
parent: fork child
child: load 0x400000 16
expect pattern(16)
show pagemap parent 0x400000 12K
# The child writes page 1: it gets its own copy.
child: store 0x401000 "child's own"
expect 0
expect-mem parent 0x401000 pattern(11)
expect-mem child 0x401000 "child's own"
# The parent writes page 2: the parent copies, the child keeps the original.
parent: store 0x402000 "parent's own"
expect 0
expect-mem child 0x402000 pattern(12)
expect-mem parent 0x402000 "parent's own"
# Page 0 is still shared: equal on both sides.
expect-same parent 0x400000 child 0x400000 4K
show pagemap child 0x400000 12K
# A third process reads the child's shared page 0 (a read pin "unshares" it: the child
# gets a private read-only copy) and writes into page 0 (only the child's copy changes).
process peer
peer: mmap 0x500000 4K rw- private,anon,fixed
expect 0x500000
peer: store 0x500000 "peer"
expect 0
peer: process_vm_readv child [0x500004:12] [0x400000:12]
expect 12
peer: process_vm_writev child [0x500000:4] [0x400010:4]
expect 4
expect-mem child 0x400010 "peer"
expect-mem parent 0x400010 pattern(4)
child: exit
parent: reap child
expect 5
parent: store 0x400000 "reused"
expect 0
expect-mem parent 0x400000 "reused"
