// hw/access_rights_test.cc: named cases of SDM 4.6 (the exhaustive matrix is
// walker_access_test.cc).
#include "hw/access_rights.h"

#include "gtest/gtest.h"

namespace hw {
namespace {

constexpr AccessType kR = AccessType::kRead;
constexpr AccessType kW = AccessType::kWrite;
constexpr AccessType kX = AccessType::kFetch;

PagingMode User() { return PagingMode{.user = true}; }
PagingMode Super() { return PagingMode{}; }

TEST(AccessRightsTest, UserModeNeedsUserPages) {
  EXPECT_TRUE(AccessAllowed(false, true, false, kR, User()));
  EXPECT_FALSE(AccessAllowed(true, false, false, kR, User()));
  EXPECT_FALSE(AccessAllowed(false, true, false, kW, User()));
  EXPECT_TRUE(AccessAllowed(true, true, false, kW, User()));
  // WP does not matter to user-mode writes.
  PagingMode m = User();
  m.wp = false;
  EXPECT_FALSE(AccessAllowed(false, true, false, kW, m));
}

TEST(AccessRightsTest, SupervisorWritesToReadOnlyPagesDependOnWp) {
  PagingMode m = Super();
  EXPECT_TRUE(AccessAllowed(false, false, false, kW, m));
  m.wp = true;
  EXPECT_FALSE(AccessAllowed(false, false, false, kW, m));
  EXPECT_TRUE(AccessAllowed(true, false, false, kW, m));
}

TEST(AccessRightsTest, SmapBlocksSupervisorDataAccessUnlessAc) {
  PagingMode m = Super();
  m.smap = true;
  EXPECT_FALSE(AccessAllowed(true, true, false, kR, m));
  EXPECT_FALSE(AccessAllowed(true, true, false, kW, m));
  EXPECT_TRUE(AccessAllowed(true, false, false, kR, m));  // supervisor page
  m.ac = true;
  EXPECT_TRUE(AccessAllowed(true, true, false, kR, m));
  EXPECT_TRUE(AccessAllowed(true, true, false, kW, m));
  // SMAP does not govern fetches.
  m.ac = false;
  EXPECT_TRUE(AccessAllowed(true, true, false, kX, m));
}

TEST(AccessRightsTest, SmepAndNx) {
  PagingMode m = Super();
  m.smep = true;
  EXPECT_FALSE(AccessAllowed(true, true, false, kX, m));
  EXPECT_TRUE(AccessAllowed(true, false, false, kX, m));
  m.nxe = true;
  EXPECT_FALSE(AccessAllowed(true, false, true, kX, m));
  EXPECT_TRUE(AccessAllowed(true, false, true, kR, m));  // NX is fetch-only
  PagingMode u = User();
  EXPECT_TRUE(AccessAllowed(true, true, true, kX, u));  // NXE = 0: XD unused
  u.nxe = true;
  EXPECT_FALSE(AccessAllowed(true, true, true, kX, u));
}

TEST(AccessRightsTest, ErrorCodeBits) {
  EXPECT_EQ(AccessErrorBits(kR, Super()), 0u);
  EXPECT_EQ(AccessErrorBits(kW, User()), kPfErrWrite | kPfErrUser);
  EXPECT_EQ(AccessErrorBits(kX, User()), kPfErrUser);  // no NXE, no SMEP
  PagingMode m = Super();
  m.nxe = true;
  EXPECT_EQ(AccessErrorBits(kX, m), kPfErrFetch);
  m.nxe = false;
  m.smep = true;
  EXPECT_EQ(AccessErrorBits(kX, m), kPfErrFetch);
  EXPECT_EQ(AccessErrorBits(kR, m), 0u);
}

}  // namespace
}  // namespace hw
