# Lazy TLB and time: a CPU that ran a thread of t and then another process stays in t's
# mm_cpumask (Linux 6.18 clears it lazily). A TLB flush of t skips it, unless the flush is
# also a trim, which should_trim_cpumask allows once a second (HZ jiffies) per mm. jiffies
# advance by one per kernel entry, and `sleep` lets time pass without any.
# host: sim-only (jiffies and mm_cpumask are the simulator's).
machine cpus=2
process t cpu=0
thread t2 of t cpu=1
process o cpu=1
t: mmap 0x10000000 8K rw- private,anon,fixed
expect 0x10000000
t2: store 0x10000000 "a"
expect 0
t2: store 0x10001000 "b"
expect 0
# o takes CPU 1: t2 is switched out, CPU 1 stays in t's mm_cpumask.
o: mmap 0x20000000 4K rw- private,anon,fixed
expect 0x20000000
# Within the mm's first second: CPU 1 gets no flush IPI.
mark quick
t: mprotect 0x10000000 4K r--
expect vmstat nr_tlb_remote_flush_received +0 since quick
# A second later the next flush trims: CPU 1 gets the IPI and leaves the mask.
sleep 1s
mark later
t: mprotect 0x10001000 4K r--
expect vmstat nr_tlb_remote_flush_received +1 since later
# CPU 1 is out of the mask now: the next flush sends nothing.
mark after
t: mprotect 0x10000000 8K rw-
expect vmstat nr_tlb_remote_flush +0 since after
