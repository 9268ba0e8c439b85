// Tests of mm/bug.cc: WARN_ON_ONCE latches per machine, and each machine counts its own
// warnings.
#include "gtest/gtest.h"
#include "mm/bug.h"
#include "mm/testing/kernel_fixture.h"

namespace kernel {
namespace {

using kernel_testing::BootedKernel;

// One call site, reached from every machine below.
bool WarnSite(bool cond) { return WARN_ON_ONCE(cond); }

TEST(BugTest, WarnOnceLatchesPerMachine) {
  {
    BootedKernel a;
    const unsigned long w0 = kernel_warn_count();
    EXPECT_FALSE(WarnSite(false));
    EXPECT_EQ(kernel_warn_count(), w0);
    EXPECT_TRUE(WarnSite(true));  // reports
    EXPECT_EQ(kernel_warn_count(), w0 + 1);
    EXPECT_TRUE(WarnSite(true));  // still true, but latched: no second report
    EXPECT_EQ(kernel_warn_count(), w0 + 1);
  }
  // A new machine boots with every latch clear and its own count.
  BootedKernel b;
  const unsigned long w0 = kernel_warn_count();
  EXPECT_TRUE(WarnSite(true));
  EXPECT_EQ(kernel_warn_count(), w0 + 1);
}

TEST(BugTest, MachinesLatchIndependentlyWhileBothLive) {
  BootedKernel a;
  const unsigned long wa = kernel_warn_count();
  EXPECT_TRUE(WarnSite(true));
  EXPECT_EQ(kernel_warn_count(), wa + 1);
  {
    BootedKernel b;  // its scope is now the active one
    const unsigned long wb = kernel_warn_count();
    EXPECT_TRUE(WarnSite(true));
    EXPECT_EQ(kernel_warn_count(), wb + 1);
    EXPECT_EQ(b.ks()->warn_count, wb + 1);
  }
  EXPECT_EQ(a.ks()->warn_count, wa + 1);  // b's report did not land here
  EXPECT_TRUE(WarnSite(true));
  EXPECT_EQ(kernel_warn_count(), wa + 1);  // a's latch is still set
}

}  // namespace
}  // namespace kernel
