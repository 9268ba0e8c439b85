# The scenario the browser test (tests/html/browser_test.py) steps through in
# `mmsim --html`: a parent writes a page, forks, and the child breaks COW on it.
machine memory=64M cpus=1 seed=3
process parent
parent: mmap 0x400000 2*4K rw- private,anon
expect 0x400000
parent: store 0x400000 "parent"
expect 0
parent: fork child
child: store 0x400000 "child"
expect 0
child: load 0x400000 5
expect "child"
show pagemap parent 0x400000 4K
show pagemap child 0x400000 4K
show maps child
show tlb 0
