# Lab: copy-on-write, refcounts and mapcounts (docs/labs/cow.md): with the answers.
machine memory=64M cpus=1 tlb=skylake seed=1
process parent

# Two private pages, written by the parent.
parent: mmap 0x10000000 8K rw- private,anon
expect 0x10000000
parent: store 0x10000000 "page zero"
parent: store 0x10001000 "page one"
show pagemap parent 0x10000000 8K
# Q1: each page is mapped once and referenced once, and is exclusive to the parent
# (PG_anon_exclusive): frames 7 and 8.
expect pte parent 0x10000000 present,writable,dirty as p0
expect pte parent 0x10001000 present,writable,dirty as p1
expect page p0 refcount=1 mapcount=1 flags=anon,anon_exclusive
expect page p1 refcount=1 mapcount=1 flags=anon,anon_exclusive

# fork: the child gets a copy of the page tables, not of the pages.
mark forked
parent: fork child
show pagemap parent 0x10000000 8K
show pagemap child 0x10000000 8K
# Q2: no page was copied. Both processes map the same frames, write-protected in both
# (dirty kept in saved_dirty); each page has two mappings and two references and is no
# longer exclusive.
expect vmstat nr_anon_pages +0 since forked
expect pte child 0x10000000 present,!writable,saved_dirty pfn=p0
expect pte parent 0x10000000 present,!writable,saved_dirty pfn=p0
expect pte child 0x10001000 present,!writable pfn=p1
expect page p0 refcount=2 mapcount=2 flags=anon,!anon_exclusive
expect page p1 refcount=2 mapcount=2 flags=!anon_exclusive

# The child writes page 0.
mark child_write
trace calls
child: store 0x10000000 "CHILD"
trace off
show pagemap parent 0x10000000 8K
show pagemap child 0x10000000 8K
# Q3: a write-protect fault; the page is shared, so wp_page_copy gives the child a new
# frame, writable and exclusive. The old frame is the parent's alone now (one mapping, one
# reference) but the parent's PTE is still read-only.
expect vmstat pgfault +1 since child_write
expect vmstat nr_anon_pages +1 since child_write
expect pte child 0x10000000 present,writable,dirty pfn!=p0 as c0
expect page c0 refcount=1 mapcount=1 flags=anon,anon_exclusive
expect page p0 refcount=1 mapcount=1
expect pte parent 0x10000000 present,!writable pfn=p0

# Then the parent writes page 0 too.
mark parent_write
trace calls
parent: store 0x10000000 "PARENT"
trace off
# Q4: a fault again, but no copy: the parent holds the only reference, so
# wp_page_reuse makes its PTE writable in place.
expect vmstat pgfault +1 since parent_write
expect vmstat nr_anon_pages +0 since parent_write
expect pte parent 0x10000000 present,writable,dirty pfn=p0
expect-mem child 0x10000000 "CHILD"

# The child exits; the parent reaps it and writes page 1.
child: exit
parent: reap child
mark alone
parent: store 0x10001000 "mine"
show pagemap parent 0x10000000 8K
# Q5: the child's exit dropped its mappings: page 1 is mapped once again, so the write
# reuses it (one fault, no new page).
expect vmstat pgfault +1 since alone
expect vmstat nr_anon_pages +0 since alone
expect pte parent 0x10001000 present,writable,dirty pfn=p1
expect page p1 refcount=1 mapcount=1 flags=anon_exclusive
expect page c0 refcount=0 mapcount=0
