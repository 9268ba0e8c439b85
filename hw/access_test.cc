// hw/access_test.cc: page sizes and the #PF error-code vocabulary (SDM 4.7).
#include "hw/access.h"

#include "gtest/gtest.h"

namespace hw {
namespace {

TEST(AccessTest, ErrorCodeBitsAreThoseOfFigure4_12) {
  EXPECT_EQ(kPfErrPresent, 0x1u);
  EXPECT_EQ(kPfErrWrite, 0x2u);
  EXPECT_EQ(kPfErrUser, 0x4u);
  EXPECT_EQ(kPfErrRsvd, 0x8u);
  EXPECT_EQ(kPfErrFetch, 0x10u);
  EXPECT_EQ(kPfErrPk, 0x20u);
}

TEST(AccessTest, PageSizes) {
  EXPECT_EQ(PageShiftOf(PageSize::k4K), 12);
  EXPECT_EQ(PageShiftOf(PageSize::k2M), 21);
  EXPECT_EQ(PageShiftOf(PageSize::k1G), 30);
  EXPECT_EQ(PageBytesOf(PageSize::k2M), kLargePageSize);
  EXPECT_STREQ(PageSizeName(PageSize::k1G), "1G");
}

TEST(AccessTest, FaultConstructorsAndText) {
  EXPECT_TRUE(Fault{}.ok());
  const Fault pf = Fault::PageFault(0x1000, kPfErrPresent | kPfErrWrite);
  EXPECT_TRUE(pf.page_fault());
  EXPECT_FALSE(pf.ok());
  EXPECT_EQ(FaultToString(pf), "#PF(0x3 P|W) cr2=0x1000");
  EXPECT_EQ(PfErrorCodeToString(kPfErrUser | kPfErrRsvd | kPfErrFetch),
            "U|RSVD|I");
  EXPECT_EQ(PfErrorCodeToString(0), "0");
  EXPECT_EQ(Fault::GeneralProtection().kind, Fault::Kind::kGeneralProtection);
  EXPECT_NE(Fault::PageFault(1, 0), Fault::PageFault(2, 0));
  EXPECT_STREQ(AccessTypeName(AccessType::kFetch), "fetch");
}

}  // namespace
}  // namespace hw
