// hw/pattern.h: the address pattern, the byte every layer's tests and demos fill memory
// with so that misplaced bytes show.
//
// The byte at virtual address a is
//   ((a >> 12) * 131 + (a & 0xfff) * 7 + 0x21) mod 256.
// Neighbouring bytes differ and every page has its own sequence, so a byte copied to the
// wrong offset, or a page mapped at the wrong place, reads back wrong. Limitation: within
// one page the sequence repeats every 256 bytes.
//
// Users: the scenario language's `fill ... pattern` and `pattern(LEN)` (sim/scenario/ast.h),
// the kernel-port and process_vm suites, the differential suite's remote side
// (tests/difftest/case.h) and the benchmarks (addressed by offset in a region). It lives
// in hw/ because hw/ is the one layer every other one may depend on; it is plain
// arithmetic, no model of the machine.
#ifndef MMSIM_HW_PATTERN_H_
#define MMSIM_HW_PATTERN_H_

#include <cstddef>
#include <cstdint>

namespace hw {

constexpr uint8_t PatternByte(uint64_t addr) {
  return static_cast<uint8_t>((addr >> 12) * 131 + (addr & 0xfff) * 7 + 0x21);
}

// Writes PatternByte(addr + i) to out[i] for i in [0, len).
inline void FillPattern(uint64_t addr, uint8_t* out, size_t len) {
  for (size_t i = 0; i < len; ++i) out[i] = PatternByte(addr + i);
}

}  // namespace hw

#endif  // MMSIM_HW_PATTERN_H_
