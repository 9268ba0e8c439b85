# File mappings: shared writes, the page past EOF, a read-only file.
file f size=6K data="hello, file\n"
file ro size=4K data=repeat(4K,0x41) readonly
process p
p: mmap 0x20000000 12K rw- shared file=f
expect 0x20000000
p: load 0x20000000 12
expect "hello, file\n"
p: store 0x20000000 "HELLO"
expect 0
p: load 0x20001800 16           # past EOF but inside the last page: zeroes
expect repeat(16,0)
p: load 0x20002000 1            # a whole page past EOF
expect SIGBUS
p: mmap 0x30000000 4K rw- shared file=ro
expect -1 EACCES
p: mmap 0x30000000 4K r-- private file=ro offset=0
expect 0x30000000
p: load 0x30000000 4
expect "AAAA"
p: mmap 0x30000000 4K rw- private,anon,fixed,noreplace
expect -1 EEXIST
p: mmap 0 4K rw- private        # no file= means fd -1
expect -1 EBADF
p: mmap 0x40000000 4K rw- shared file=f offset=0x123
expect -1 EINVAL
