// tests/difftest/seeds.h: which seeds the seeded suites run.
//
// From the environment (pass with --test_env=NAME=VALUE):
//   DIFFTEST_CASES       how many seeds (default kDefaultCases below)
//   DIFFTEST_FIRST_SEED  the first seed (default 0)
//   DIFFTEST_CHUNK       seeds per gtest test (default 1)
// The seeds are [first, first + cases). A seeded suite is instantiated with
// testing::Range(0, NumTests()), and test number i runs SeedsOfTest(i). With
// the default chunk of 1, test i runs seed first + i. Each gtest test costs
// about 0.5 KiB and 20 us to register, so for a million cases set a chunk
// (e.g. 1000) to keep registration and test.xml small. Read at static
// initialisation time, because gtest instantiates parameterized suites then.
#ifndef MMSIM_TESTS_DIFFTEST_SEEDS_H_
#define MMSIM_TESTS_DIFFTEST_SEEDS_H_

#include <cstdint>

namespace difftest {

// The one default case count of every seeded difftest suite (seeded_test,
// differential_test): enough seeds to reach every branch of the generator many times over
// while a default `bazel test` stays within the tests' timeouts.
inline constexpr uint64_t kDefaultCases = 2000;

// DIFFTEST_FIRST_SEED, or 0.
uint64_t FirstSeed();
// DIFFTEST_CASES, or kDefaultCases.
uint64_t NumCases();
// DIFFTEST_CHUNK, or 1 (at least 1).
uint64_t SeedsPerTest();
// ceil(NumCases() / SeedsPerTest()), capped at INT32_MAX (gtest's Range is int).
int NumTests();

// The seeds of test number `index`: [begin, end).
struct SeedRange {
  uint64_t begin, end;
};
SeedRange SeedsOfTest(int index);

}  // namespace difftest

#endif  // MMSIM_TESTS_DIFFTEST_SEEDS_H_
