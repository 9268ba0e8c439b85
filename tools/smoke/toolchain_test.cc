#include "absl/status/statusor.h"
#include "absl/strings/str_format.h"
#include "gtest/gtest.h"
TEST(Toolchain, AbslAndGtestLink) {
  absl::StatusOr<int> v = 42;
  EXPECT_EQ(absl::StrFormat("%d", *v), "42");
}
