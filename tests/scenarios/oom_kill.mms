# Out of memory without swap: the OOM killer (mm/oom_kill.cc) kills the process with the
# most resident memory and reaps it; the allocation that ran out is retried and succeeds.
# host: sim-only (killing a process on the host is not the point); the kill's kernel-log
# lines are in `show dmesg`, the counter is oom_kill in `show vmstat`.
machine memory=4M cpus=1
process big
process small
big: mmap 0x10000000 4M rw- private,anon
expect 0x10000000
small: mmap 0x10000000 4M rw- private,anon
expect 0x10000000
big: fill 0x10000000 2400K 0x5a
expect 0
# 4 MiB is 1024 frames; the min watermark keeps 63 free: small's 1.6 MiB does not fit
# beside big's 2.4 MiB, and big (the larger) is killed on the way.
small: fill 0x10000000 1600K 0xa5
expect 0
small: load 0x10000000 4
expect hex:A5A5A5A5
small: load 0x1018f000 4
expect hex:A5A5A5A5
# big was the victim: whatever it tries next ends with the SIGKILL it died of.
big: load 0x10000000 4
expect SIGKILL
show dmesg
show vmstat
