// hw/splitmix64_test.cc
#include "hw/splitmix64.h"

#include <set>

#include "gtest/gtest.h"

namespace hw {
namespace {

// The reference sequence for seed 0 (the published splitmix64.c by Vigna, first outputs):
// pins the constants, so a typo in the mixer cannot pass unnoticed and renumber every seed.
TEST(SplitMix64, MatchesTheReferenceSequence) {
  SplitMix64 r(0);
  EXPECT_EQ(r.Next(), 0xe220a8397b1dcdafULL);
  EXPECT_EQ(r.Next(), 0x6e789e6aa1b965f4ULL);
  EXPECT_EQ(r.Next(), 0x06c45d188009454fULL);
}

TEST(SplitMix64, SameSeedSameSequenceOtherSeedOther) {
  SplitMix64 a(42), b(42), c(43);
  for (int i = 0; i < 100; ++i) {
    const uint64_t x = a.Next();
    EXPECT_EQ(x, b.Next());
    EXPECT_NE(x, c.Next());
  }
}

TEST(SplitMix64, NextUnitIsInTheHalfOpenUnitIntervalAndSpreads) {
  SplitMix64 r(7);
  int buckets[10] = {};
  for (int i = 0; i < 10000; ++i) {
    const double u = r.NextUnit();
    ASSERT_GE(u, 0.0);
    ASSERT_LT(u, 1.0);
    ++buckets[static_cast<int>(u * 10)];
  }
  for (int b : buckets) EXPECT_GT(b, 800) << "a tenth of [0,1) got " << b << " of 10000";
}

}  // namespace
}  // namespace hw
