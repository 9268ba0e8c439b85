// hw/check_test.cc: CHECK aborts with file:line; DCHECK vanishes under NDEBUG.
#include "hw/check.h"

#include "gtest/gtest.h"

namespace hw {
namespace {

TEST(CheckTest, PassingCheckDoesNothing) {
  int evaluated = 0;
  CHECK(++evaluated == 1);
  CHECK(evaluated == 1, "with a message");
  EXPECT_EQ(evaluated, 1);
}

TEST(CheckDeathTest, FailingCheckAbortsWithFileLineAndExpression) {
  EXPECT_DEATH(CHECK(1 + 1 == 3), "check_test.cc:[0-9]+: CHECK failed: 1 \\+ 1 == 3");
  EXPECT_DEATH(CHECK(false, "frame out of range"), "CHECK failed: false \\(frame out of range\\)");
}

TEST(CheckTest, DcheckIsCompiledOutUnderNdebug) {
  int evaluated = 0;
  DCHECK(++evaluated > 0);
#ifdef NDEBUG
  EXPECT_EQ(evaluated, 0);
#else
  EXPECT_EQ(evaluated, 1);
#endif
}

#ifndef NDEBUG
TEST(CheckDeathTest, FailingDcheckAbortsInDebugBuilds) {
  EXPECT_DEATH(DCHECK(2 < 1), "CHECK failed: 2 < 1");
}
#endif

}  // namespace
}  // namespace hw
