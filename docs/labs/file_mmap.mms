# Lab: file mappings and the page cache (docs/labs/file_mmap.md).
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

# Step 2: the reader reads the same page of the file.
mark second_read
reader: load 0x30000000 16

# Step 3: the writer writes through its shared mapping.
mark shared_write
writer: store 0x20000000 "PAGE"
reader: load 0x30000000 16

# Step 4: the reader writes through its private mapping.
mark private_write
trace calls
reader: store 0x30000000 "mine"
trace off
writer: load 0x20000000 16

# Step 5: loads past the end of the file (6K): in its last page, then a page further.
writer: load 0x20001ff0 16
writer: load 0x20002000 1
show maps reader
show pagemap reader 0x30000000 8K
