# Lab: copy-on-write, refcounts and mapcounts (docs/labs/cow.md).
machine memory=64M cpus=1 tlb=skylake seed=1
process parent

# Two private pages, written by the parent.
parent: mmap 0x10000000 8K rw- private,anon
expect 0x10000000
parent: store 0x10000000 "page zero"
parent: store 0x10001000 "page one"
show pagemap parent 0x10000000 8K

# fork: the child gets a copy of the page tables, not of the pages.
mark forked
parent: fork child
show pagemap parent 0x10000000 8K
show pagemap child 0x10000000 8K

# The child writes page 0.
mark child_write
trace calls
child: store 0x10000000 "CHILD"
trace off
show pagemap parent 0x10000000 8K
show pagemap child 0x10000000 8K

# Then the parent writes page 0 too.
mark parent_write
trace calls
parent: store 0x10000000 "PARENT"
trace off

# The child exits; the parent reaps it and writes page 1.
child: exit
parent: reap child
mark alone
parent: store 0x10001000 "mine"
show pagemap parent 0x10000000 8K
