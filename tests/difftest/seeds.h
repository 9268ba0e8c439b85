// tests/difftest/seeds.h: which seeds the seeded suites run.
//
// DIFFTEST_CASES (default 200) cases starting at DIFFTEST_FIRST_SEED
// (default 0): seeds [first, first + cases). Both are read from the
// environment at static-initialisation time, because gtest instantiates
// parameterized suites then; pass them with --test_env=NAME=VALUE.
#ifndef MMSIM_TESTS_DIFFTEST_SEEDS_H_
#define MMSIM_TESTS_DIFFTEST_SEEDS_H_

#include <cstdint>

namespace difftest {

inline constexpr uint64_t kDefaultCases = 200;

// DIFFTEST_FIRST_SEED, or 0.
uint64_t FirstSeed();
// DIFFTEST_CASES, or kDefaultCases. Capped at INT32_MAX (gtest's Range is int).
int NumCases();

}  // namespace difftest

#endif  // MMSIM_TESTS_DIFFTEST_SEEDS_H_
