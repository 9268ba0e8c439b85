# Lab: TLB reach, associativity and PCIDs (docs/labs/tlb.md): with the answers.
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
# Q1: the L1 holds 4 translations (16 KiB of reach): the second pass over 4 pages finds
# every one in the L1, no miss, no walk.
expect tlb 0 misses +0 since four
expect tlb 0 walks +0 since four
expect tlb 0 p BASE+12K cached
show tlb 0
p: fill BASE 32K 4
mark eight
p: fill BASE 32K 5
# Q2: 8 pages overflow the L1 (every lookup misses there, LRU evicting in turn) but fit
# the STLB (8 entries, 32 KiB of reach): 8 L1 misses, no walk.
expect tlb 0 misses +8 since eight
expect tlb 0 walks +0 since eight
p: fill BASE 64K 6
mark sixteen
p: fill BASE 64K 7
# Q3: 16 pages overflow both; with LRU and a cyclic pattern each page was evicted just
# before it was needed again: every access walks.
expect tlb 0 walks +16 since sixteen

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
# Q4: the set is bit 12 of the address (2 sets). Pages 0-4 spread over both STLB sets
# (3 and 2 pages: they fit 4 ways); pages 0, 2, 4, 6, 8 all fall in set 0: five pages for
# four ways, so in a round every one is evicted before its turn.
expect tlb 0 walks +0 since mixed

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
expect tlb 0 walks +5 since even

# Part C: PCIDs. q runs on the same CPU in between; then p writes page 0 again.
p: fill BASE 1 10
q: mmap BASE 4K rw- private,anon
q: fill BASE 1 1
show cpus
mark back
p: fill BASE 1 11
# Q5: q ran with its own PCID (4; p has 3), so switching CR3 to q and back flushed
# nothing: p's translation of page 0 was still there, no walk.
expect tlb 0 walks +0 since back
expect tlb 0 p BASE cached
expect tlb 0 q BASE cached
