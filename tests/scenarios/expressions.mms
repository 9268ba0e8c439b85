# NUM forms: hex, K/M/G suffixes, + - * and parentheses, let names.
let BASE = 0x100000000000
let SLOT = 38*4K
let ADDR = BASE + SLOT + 100      # spaces are fine where the NUM ends the line
let TWO_PAGES = (4K + 4K)
let BIG = 1G+(2*4K)-1
process p
p: mmap BASE BIG+1 rw- private,anon,noreserve
expect BASE
p: store ADDR "x\ty\n\\\"\x7f\0"
expect 0
p: load 0x100000000000+38*4K+100 1
expect "x"
p: mprotect BASE (TWO_PAGES * 3) r--
expect 0
p: fill BASE+(16*4K) 0x10 0xff
expect 0
expect-mem p BASE+16*4K hex:ffffffffffffffffffffffffffffffff
p: munmap BASE 1G+2*4K
expect 0
