# Threads share an mm; a kthread has none; credentials and capabilities
# decide who may use process_vm_readv on whom.
machine cpus=4
process app uid=1000 gid=1000 caps=none
thread worker of app
kthread kswapd0
process debugger caps=cap_sys_ptrace,cap_kill
app: mmap 0x7f0000000000 64K rw- private,anon
expect 0x7f0000000000
worker: store 0x7f0000000000+100 "from the worker thread"
expect 0
debugger: mmap 0x500000 4K rw- private,anon
expect 0x500000
debugger: process_vm_readv worker [0x500000:22] [0x7f0000000064:22]
expect 22
expect-mem debugger 0x500000 "from the worker thread"
debugger: process_vm_readv kswapd0 [0x500000:8] [0x1000:8]
expect -1 ESRCH
debugger: process_vm_readv app [] []
expect 0
debugger: process_vm_readv app raw(0x500000, 1025) [0x7f0000000000:8]
expect -1 EINVAL
app: setresuid -1 2000 -1
expect -1 EPERM
app: setresgid -1 -1 -1
expect 0
app: dumpable 0
expect 0
debugger: process_vm_writev app [0x500000:4] [0x7f0000000000:4]
expect 4
app: process_vm_readv debugger [0x7f0000000000:4] [0x500000:4]
expect -1 EPERM
debugger: capset none
expect 0
