// hw/pattern_test.cc
#include "hw/pattern.h"

#include <cstdint>
#include <vector>

#include "gtest/gtest.h"

namespace hw {
namespace {

// The formula written out, independently of the header.
TEST(Pattern, IsTheDocumentedFormula) {
  EXPECT_EQ(PatternByte(0), 0x21);
  EXPECT_EQ(PatternByte(1), 0x21 + 7);
  EXPECT_EQ(PatternByte(0x1000), 0x21 + 131);
  EXPECT_EQ(PatternByte(0x7f0000001238), ((0x7f0000001ull * 131) + 0x238 * 7 + 0x21) % 256);
  static_assert(PatternByte(0x2008) == (2 * 131 + 8 * 7 + 0x21) % 256);
}

TEST(Pattern, NeighboursAndPagesDiffer) {
  for (uint64_t a = 0x10000; a < 0x10000 + 4096 - 1; ++a) {
    EXPECT_NE(PatternByte(a), PatternByte(a + 1)) << a;
  }
  // The same offset in consecutive pages.
  EXPECT_NE(PatternByte(0x10123), PatternByte(0x11123));
}

TEST(Pattern, FillMatchesPatternByte) {
  std::vector<uint8_t> v(5000);
  FillPattern(0x3ffe, v.data(), v.size());
  for (size_t i = 0; i < v.size(); ++i) ASSERT_EQ(v[i], PatternByte(0x3ffe + i)) << i;
}

}  // namespace
}  // namespace hw
