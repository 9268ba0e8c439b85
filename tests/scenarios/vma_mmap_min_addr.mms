# Mapping below vm.mmap_min_addr (65536, the machine's default) needs CAP_SYS_RAWIO
# (security/commoncap.c cap_mmap_addr). Root has it: on Linux 6.18 root's
# `mmap 0x1000 ... fixed` returns 0x1000 too.
process root
process app uid=1000 gid=1000 caps=none
process rawio uid=1000 gid=1000 caps=cap_sys_rawio
root: mmap 0x1000 4K rw- private,anon,fixed
expect 0x1000
root: store 0x1000 "low"
expect 0
root: load 0x1000 3
expect "low"
rawio: mmap 0x2000 4K rw- private,anon,fixed
expect 0x2000
app: mmap 0x1000 4K rw- private,anon,fixed
expect -1 EPERM
app: mmap 0xf000 4K rw- private,anon,fixed
expect -1 EPERM
app: mmap 0x10000 4K rw- private,anon,fixed
expect 0x10000
# A hint below the limit is raised to it (round_hint_to_min), even for root.
root: mmap 0x3000 4K r-- private,anon
expect 0x10000
