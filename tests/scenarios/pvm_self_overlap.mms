# A process that reads itself with process_vm_readv, the local buffer overlapping the
# remote range in the same page (found by the parser+interpreter fuzzer: the simulated
# CPU copied between a frame and itself with overlapping memcpy ranges, undefined
# behaviour in the simulator). The copy is defined now: memmove's result.
#   - destination below the source: what every forward copy gives, the host CPU's too;
#   - destination above the source: the bytes as they were before the copy. Real
#     hardware does not define this case: Linux 6.18 on this machine's AMD CPU gives
#     "AABCDEFGHHJKLMNOP" below (every 8th byte repeats); hw/cpu.h says why mmsim
#     chooses memmove. A stated deviation from the host kernel:
# host: deviation dst-above-src overlapping copy: the simulator gives memmove's result, the host CPU's chunked copy repeats bytes
let X = 0x10000000
process p
p: mmap X 4K rw- private,anon,fixed
expect X

# Destination one byte below the source.
p: store X "ABCDEFGHIJKLMNOPQ"
expect 0
p: process_vm_readv p [X:16] [X+1:16]
expect 16
expect-mem p X "BCDEFGHIJKLMNOPQQ"

# Destination one byte above the source.
p: store X "ABCDEFGHIJKLMNOPQ"
expect 0
p: process_vm_readv p [X+1:16] [X:16]
expect 16
expect-mem p X "AABCDEFGHIJKLMNOP"

# The same through process_vm_writev (local is the source, remote the destination).
p: store X "ABCDEFGHIJKLMNOPQ"
expect 0
p: process_vm_writev p [X:16] [X+1:16]
expect 16
expect-mem p X "AABCDEFGHIJKLMNOP"
