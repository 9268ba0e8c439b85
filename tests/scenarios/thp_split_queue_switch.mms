# A partial munmap of a THP queues it for the deferred split (swap= makes the queue's
# shrinker run) while another task's process_vm_writev waits to run. Linux 6.18's
# __folio_remove_rmap drops the page's mapcount, then takes split_queue_lock in
# deferred_split_folio, and only then lowers NR_ANON_MAPPED (__folio_mod_stat): at that
# lock's release, where this schedule switches paths, the counter is one page ahead of
# the mappings. --check's debug_vm at a switch must accept that (docs/semantics.md H7);
# every counter must agree again once both calls have returned.
# host: sim-only (a chosen interleaving of two system calls).
machine memory=64M swap=16M cpus=2 seed=3 thp=always
process p
process rd
p: mmap 0 2M rw- private,anon
expect 0x7ffff7c00000
p: fill 0x7ffff7c00000 2M pattern
expect 0
rd: mmap 0x10000 16K rw- private,anon
expect 0x10000
rd: store 0x10000 "written by rd"
expect 0
# Path 1 (p) runs first and is switched away from at decision 15: the release of
# split_queue_lock inside folio_remove_rmap_ptes.
together schedule=0.1-15.0
  rd: process_vm_writev p [0x10000:12K] [0x7ffff7c00000:12K]
  expect 4096
  p: munmap 0x7ffff7c01000 4K
  expect 0
end
expect vmstat thp_deferred_split_page 1
# 511 pages of the THP, rd's page at 0x10000 and the page its iovecs are built in.
expect vmstat nr_anon_pages 513
expect-mem p 0x7ffff7c00000 "written by rd"
