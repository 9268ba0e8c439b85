# Copy-on-write of a PTE-mapped THP (docs/thp.md "Reusing a PTE-mapped THP: mm ids",
# docs/semantics.md H11): after fork the writer copies while the other process maps the
# folio, and reuses the page in place once that process has exited.
# host: sim-only (the same situations are compared with the host's pagemap PFNs by
# //tests/difftest:thp_diff_test, ThpCow; a --host task cannot read PFNs).
machine memory=64M cpus=1 seed=5 thp=madvise
process p
p: mmap 0 2M rw- private,anon
expect 0x7ffff7c00000
p: madvise 0x7ffff7c00000 2M hugepage
expect 0
p: store 0x7ffff7c00000 "thp"
expect 0
expect pte p 0x7ffff7c05000 present,huge,writable
p: fork c1
# p's PMD becomes 512 PTEs over the same folio: mprotect of one page and back.
p: mprotect 0x7ffff7c01000 4K r--
expect 0
p: mprotect 0x7ffff7c01000 4K rw-
expect 0
expect pte p 0x7ffff7c05000 present,!huge,!writable as five
expect pte p 0x7ffff7c06000 present,!huge,!writable as six
# c1 still maps the folio (its PMD): p's write copies.
p: store 0x7ffff7c06000 "copied"
expect 0
expect pte p 0x7ffff7c06000 present,writable pfn!=six
c1: exit
p: reap c1
# Only p maps the folio now, and every reference is one of p's PTEs: reused in place.
p: store 0x7ffff7c05000 "reused"
expect 0
expect pte p 0x7ffff7c05000 present,writable pfn=five
expect-mem p 0x7ffff7c00000 "thp"
expect-mem p 0x7ffff7c05000 "reused"
show pagemap p 0x7ffff7c05000 8K
