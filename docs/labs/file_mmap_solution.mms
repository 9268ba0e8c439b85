# Lab: file mappings and the page cache (docs/labs/file_mmap.md): with the answers.
machine memory=64M cpus=1 tlb=skylake seed=1
file notes size=6K data="page cache demo\n"
process writer
process reader

# Both map the file: the writer shared, the reader private.
writer: mmap 0x20000000 12K rw- shared file=notes
expect 0x20000000
reader: mmap 0x30000000 8K rw- private file=notes
expect 0x30000000

# Step 1: the first read of page 0 of the file, by the writer.
mark first_read
trace calls
writer: load 0x20000000 16
trace off
# Q1: a major fault: the page was not in the page cache, so filemap_fault allocated one,
# added it to the cache (index 0 of the file) and read it from the file. The PTE maps the
# page-cache page itself, read-only although the mapping is rw-: a later write must be
# seen (the page gets dirty). The page has two references: the cache's and the mapping's.
expect vmstat pgmajfault +1 since first_read
expect vmstat pgfault +1 since first_read
expect vmstat nr_inactive_file +1 since first_read
expect vmstat nr_mapped +1 since first_read
expect pte writer 0x20000000 present,user,!writable as cache
expect page cache refcount=2 mapcount=1 flags=uptodate,lru,!anon,!dirty

# Step 2: the reader reads the same page of the file.
mark second_read
reader: load 0x30000000 16
# Q2: a minor fault: the page was in the cache. The reader maps the very same page, so it
# now has two mappings and three references.
expect "page cache demo\n"
expect vmstat pgmajfault +0 since second_read
expect vmstat pgfault +1 since second_read
expect pte reader 0x30000000 present,!writable pfn=cache
expect page cache refcount=3 mapcount=2

# Step 3: the writer writes through its shared mapping.
mark shared_write
writer: store 0x20000000 "PAGE"
# Q3: a write fault on the read-only PTE of a shared mapping: the kernel makes it writable
# in place and marks the page-cache page dirty (to be written back to the file). No copy,
# so the reader, whose private mapping still maps that page, sees the change.
expect vmstat pgfault +1 since shared_write
expect pte writer 0x20000000 present,writable,dirty pfn=cache
expect page cache refcount=3 mapcount=2 flags=dirty
reader: load 0x30000000 16
expect "PAGE cache demo\n"

# Step 4: the reader writes through its private mapping.
mark private_write
trace calls
reader: store 0x30000000 "mine"
trace off
# Q4: a private mapping never writes to the file: wp_page_copy gives the reader an
# anonymous copy, and the page-cache page loses that mapping. The writer still sees the
# file's data.
expect pte reader 0x30000000 present,writable,dirty pfn!=cache as copy
expect page copy refcount=1 mapcount=1 flags=anon
expect page cache refcount=2 mapcount=1 flags=dirty
writer: load 0x20000000 16
expect "PAGE cache demo\n"

# Step 5: loads past the end of the file (6K): in its last page, then a page further.
writer: load 0x20001ff0 16
# Q5: inside the file's last page the bytes past the end (6K) read as zeros; a page wholly
# past the end cannot be backed: SIGBUS, not SIGSEGV (the VMA is there).
expect repeat(16,0)
writer: load 0x20002000 1
expect SIGBUS
expect vma writer 0x20002000 start=0x20000000 end=0x20003000 flags=sh,ms
show maps reader
show pagemap reader 0x30000000 8K
