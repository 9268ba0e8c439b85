// hw/tlb_entry_test.cc: coverage and translation of cached entries.
#include "hw/tlb_entry.h"

#include "gtest/gtest.h"

namespace hw {
namespace {

TEST(TlbEntryTest, FourKEntryCoversItsPage) {
  TlbEntry e{.vpn = 0x12345, .pfn = 0x777, .size = PageSize::k4K, .valid = true};
  EXPECT_TRUE(e.Covers(VirtAddr(0x12345000)));
  EXPECT_TRUE(e.Covers(VirtAddr(0x12345fff)));
  EXPECT_FALSE(e.Covers(VirtAddr(0x12346000)));
  EXPECT_EQ(e.Translate(VirtAddr(0x12345abc)), PhysAddr(0x777abc));
  EXPECT_EQ(e.va_base(), VirtAddr(0x12345000));
  EXPECT_EQ(e.pa_base(), PhysAddr(0x777000));
}

TEST(TlbEntryTest, LargeEntriesCoverTheWholeLargePage) {
  // 2 MiB page at va 0x4000'0000 -> pa 0x20'0000.
  TlbEntry e{.vpn = 0x40000, .pfn = 0x200, .size = PageSize::k2M, .valid = true};
  EXPECT_TRUE(e.Covers(VirtAddr(0x4000'0000)));
  EXPECT_TRUE(e.Covers(VirtAddr(0x401f'ffff)));
  EXPECT_FALSE(e.Covers(VirtAddr(0x4020'0000)));
  EXPECT_EQ(e.Translate(VirtAddr(0x4012'3456)), PhysAddr(0x32'3456));
  TlbEntry g{.vpn = 0x80000, .pfn = 0x40000, .size = PageSize::k1G, .valid = true};
  EXPECT_TRUE(g.Covers(VirtAddr(0xbfff'ffff)));
  EXPECT_EQ(g.Translate(VirtAddr(0x8765'4321)), PhysAddr(0x4765'4321));
  EXPECT_EQ(g.bytes(), kHugePageSize);
}

TEST(TlbEntryTest, ToString) {
  TlbEntry e{.vpn = 1, .pfn = 2, .pcid = 3, .valid = true, .global = true,
             .writable = true, .user = true, .dirty = true};
  EXPECT_EQ(e.ToString(), "va:0x1000 -> pa:0x2000 4K pcid=3 W U D G");
  EXPECT_EQ(TlbEntry{}.ToString(), "invalid");
}

TEST(TlbEntryTest, ToStringShowsANonzeroProtectionKey) {
  TlbEntry e{.vpn = 1, .pfn = 2, .valid = true, .user = true, .pkey = 1};
  EXPECT_EQ(e.ToString(), "va:0x1000 -> pa:0x2000 4K pcid=0 R U pkey=1");
  e.pkey = 0;
  EXPECT_EQ(e.ToString(), "va:0x1000 -> pa:0x2000 4K pcid=0 R U");
}

}  // namespace
}  // namespace hw
