// hw/splitmix64.h: the simulator's one deterministic pseudo-random generator.
//
// SplitMix64 (Steele, Lea and Flood, "Fast splittable pseudorandom number generators",
// OOPSLA 2014): a 64-bit counter advanced by the golden-ratio increment and passed through
// a bijective mixer. Every seeded decision in the project draws from it (fault injection
// in the kernel port, the differential test generators), so one seed gives the same
// sequence everywhere. Not for anything that needs unpredictability.
#ifndef MMSIM_HW_SPLITMIX64_H_
#define MMSIM_HW_SPLITMIX64_H_

#include <cstdint>

namespace hw {

class SplitMix64 {
 public:
  explicit constexpr SplitMix64(uint64_t seed = 0) : state_(seed) {}

  // The next 64 uniformly distributed bits.
  constexpr uint64_t Next() {
    uint64_t z = (state_ += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
  }
  // Uniform in [0, 1): the top 53 bits as a double's mantissa.
  constexpr double NextUnit() {
    return static_cast<double>(Next() >> 11) * (1.0 / 9007199254740992.0);
  }

  constexpr uint64_t state() const { return state_; }

 private:
  uint64_t state_;
};

}  // namespace hw

#endif  // MMSIM_HW_SPLITMIX64_H_
