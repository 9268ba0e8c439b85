# Lab: TLB reach, associativity and PCIDs (docs/labs/tlb.md).
# The `tiny` TLB: L1 4 entries (2 sets x 2 ways), STLB 8 entries (2 sets x 4 ways), LRU.
machine memory=64M cpus=1 tlb=tiny seed=1
process p
process q
let BASE = 0x10000000

# Sixteen pages, all written once so that every one is mapped (the faults happen here).
p: mmap BASE 64K rw- private,anon
expect 0x10000000
p: fill BASE 64K 1
expect 0

# Part A: reach. Write 4, 8, then 16 pages in a row, twice each; count the second pass.
p: fill BASE 16K 2
mark four
p: fill BASE 16K 3
show tlb 0
p: fill BASE 32K 4
mark eight
p: fill BASE 32K 5
p: fill BASE 64K 6
mark sixteen
p: fill BASE 64K 7

# Part B: associativity. Five pages touched round and round, one byte each: first
# pages 0-4, then pages 0, 2, 4, 6, 8. One warm-up round, then the round we count.
p: fill BASE 1 9
p: fill BASE+4K 1 9
p: fill BASE+8K 1 9
p: fill BASE+12K 1 9
p: fill BASE+16K 1 9
mark mixed
p: fill BASE 1 9
p: fill BASE+4K 1 9
p: fill BASE+8K 1 9
p: fill BASE+12K 1 9
p: fill BASE+16K 1 9

p: fill BASE 1 9
p: fill BASE+8K 1 9
p: fill BASE+16K 1 9
p: fill BASE+24K 1 9
p: fill BASE+32K 1 9
mark even
p: fill BASE 1 9
p: fill BASE+8K 1 9
p: fill BASE+16K 1 9
p: fill BASE+24K 1 9
p: fill BASE+32K 1 9

# Part C: PCIDs. q runs on the same CPU in between; then p writes page 0 again.
p: fill BASE 1 10
q: mmap BASE 4K rw- private,anon
q: fill BASE 1 1
show cpus
mark back
p: fill BASE 1 11
