# Lab: reclaim, swap and the OOM killer (docs/labs/reclaim.md): with the answers.
machine memory=4M swap=4M cpus=1 tlb=skylake seed=1
process p
p: mmap 0x10000000 6M rw- private,anon
expect 0x10000000

# Step 1: 6 MiB of data on a 4 MiB machine with 4 MiB of swap.
mark filling
p: fill 0x10000000 6M pattern
# Q1: the fill succeeds. 1536 pages do not fit: kswapd (woken when free memory fell below
# the low watermark) reclaimed 618 of them to swap, before any allocation had to reclaim
# by itself (no direct reclaim, no allocation stall). 916 stay resident.
expect 0
expect vmstat pswpout +620 since filling
expect vmstat pgsteal_kswapd +620 since filling
expect vmstat pgsteal_direct +0 since filling
expect vmstat allocstall_normal +0 since filling
expect vmstat nr_inactive_anon 916
show swaps
show pagemap p 0x10000000 8K
show pagemap p 0x105fe000 8K
show lru
# Q2: the oldest pages went first (the tail of the inactive list): page 0's PTE is now a
# swap entry (slot 1), the last pages are still present.
expect pte p 0x10000000 swap,!present
expect pte p 0x10001000 swap
expect pte p 0x105ff000 present,writable,dirty

# Step 2: read the first page again.
mark swapin
trace calls
p: load 0x10000000 4
expect "!(/6"
trace off
# Q3: a major fault: do_swap_page allocates a page, reads slot 1 into it and maps it. The
# page was exclusive to p, so the slot is freed at once and the page is dirty (its only
# copy is in memory again); the PTE is writable but clean: no write happened yet.
expect vmstat pswpin +1 since swapin
expect vmstat pgmajfault +1 since swapin
expect pte p 0x10000000 present,writable,!dirty
expect page at p 0x10000000 refcount=1 mapcount=1 flags=anon,anon_exclusive,swapbacked,dirty
show pagemap p 0x10000000 4K

# Step 3: free it all.
p: munmap 0x10000000 6M
show swaps

# Step 4: two processes want more than memory and swap hold together.
process big
process small
big: mmap 0x20000000 8M rw- private,anon
small: mmap 0x20000000 8M rw- private,anon
big: fill 0x20000000 5M 0x5a
mark oom
small: fill 0x20000000 4M 0xa5
# Q4: memory and swap ran out while small was filling; the OOM killer chose big (the
# largest: resident pages, swap entries and page tables), killed it and reaped its memory,
# and small's allocation was retried and succeeded. big's next access ends with the
# SIGKILL it died of.
expect 0
expect vmstat oom_kill +1 since oom
show dmesg
expect-mem small 0x20000000 hex:a5a5a5a5
big: load 0x20000000 4
expect SIGKILL
