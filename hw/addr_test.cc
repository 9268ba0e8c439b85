// hw/addr_test.cc: page geometry, strong address types, canonical addresses.
#include "hw/addr.h"

#include <sstream>

#include "absl/strings/str_format.h"
#include "gtest/gtest.h"

namespace hw {
namespace {

TEST(AddrTest, PageGeometryMatchesTheSdm) {
  EXPECT_EQ(kPageSize, 4096u);
  EXPECT_EQ(kPageMask, 0xFFFF'FFFF'FFFF'F000ull);
  EXPECT_EQ(kLargePageSize, 2u << 20);
  EXPECT_EQ(kHugePageSize, 1u << 30);
  EXPECT_EQ(kLargePageMask, 0xFFFF'FFFF'FFE0'0000ull);
  EXPECT_EQ(kHugePageMask, 0xFFFF'FFFF'C000'0000ull);
}

TEST(AddrTest, PhysAddrAndPfnConvert) {
  const PhysAddr pa(0x12345678);
  EXPECT_EQ(pa.pfn(), Pfn(0x12345));
  EXPECT_EQ(pa.page_offset(), 0x678u);
  EXPECT_EQ(pa.page_base(), PhysAddr(0x12345000));
  EXPECT_EQ(PhysAddr::FromPfn(Pfn(0x12345)), PhysAddr(0x12345000));
  EXPECT_EQ((pa + 8).value(), 0x12345680u);
  EXPECT_EQ((pa - 0x678), PhysAddr(0x12345000));
  EXPECT_EQ(PhysAddr(0x3000) - PhysAddr(0x1000), 0x2000u);
  EXPECT_EQ(Pfn(7) - Pfn(3), 4u);
  EXPECT_EQ(Pfn(7) + 1, Pfn(8));
}

TEST(AddrTest, Comparisons) {
  EXPECT_LT(Pfn(1), Pfn(2));
  EXPECT_GT(PhysAddr(0x2000), PhysAddr(0x1fff));
  EXPECT_LE(VirtAddr(5), VirtAddr(5));
  EXPECT_NE(VirtAddr(5), VirtAddr(6));
}

TEST(AddrTest, VirtAddrParts) {
  const VirtAddr va(0x7f12'3456'7abc);
  EXPECT_EQ(va.vpn(), 0x7f1234567u);
  EXPECT_EQ(va.page_offset(), 0xabcu);
  EXPECT_EQ(va.page_base(), VirtAddr(0x7f12'3456'7000));
}

TEST(AddrTest, CanonicalMeansBits63To47Equal) {
  EXPECT_TRUE(VirtAddr(0).IsCanonical());
  EXPECT_TRUE(VirtAddr(0x0000'7fff'ffff'ffffull).IsCanonical());
  EXPECT_FALSE(VirtAddr(0x0000'8000'0000'0000ull).IsCanonical());
  EXPECT_FALSE(VirtAddr(0xffff'7fff'ffff'ffffull).IsCanonical());
  EXPECT_TRUE(VirtAddr(0xffff'8000'0000'0000ull).IsCanonical());
  EXPECT_TRUE(VirtAddr(~0ull).IsCanonical());
  EXPECT_FALSE(VirtAddr(0x0001'0000'0000'0000ull).IsCanonical());
  EXPECT_FALSE(VirtAddr(0x8000'0000'0000'0000ull).IsCanonical());
}

TEST(AddrTest, PrintsAsHex) {
  EXPECT_EQ(absl::StrFormat("%s", PhysAddr(0x1000)), "pa:0x1000");
  EXPECT_EQ(absl::StrFormat("%s", VirtAddr(0xabc)), "va:0xabc");
  EXPECT_EQ(absl::StrFormat("%s", Pfn(0x10)), "pfn:0x10");
  std::ostringstream os;
  os << VirtAddr(0x7000) << " " << PhysAddr(0) << " " << Pfn(255);
  EXPECT_EQ(os.str(), "va:0x7000 pa:0 pfn:0xff");
}

}  // namespace
}  // namespace hw
