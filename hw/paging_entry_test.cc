// hw/paging_entry_test.cc: bit layout, address fields and reserved-bit masks
// of paging-structure entries (SDM 4.5, Tables 4-14..4-19).
#include "hw/paging_entry.h"

#include "gtest/gtest.h"

namespace hw {
namespace {

using E = PagingEntry;

// Bits hi..lo written out by hand, independent of the class's helper.
constexpr uint64_t Bits(int hi, int lo) {
  uint64_t m = 0;
  for (int b = lo; b <= hi; ++b) m |= uint64_t{1} << b;
  return m;
}

TEST(PagingEntryTest, FlagAccessorsReadTheirBit) {
  const E all(~0ull);
  EXPECT_TRUE(all.present() && all.writable() && all.user() && all.pwt() &&
              all.pcd() && all.accessed() && all.dirty() && all.ps() &&
              all.global() && all.xd() && all.pat() && all.pat_large());
  const E none(0);
  EXPECT_FALSE(none.present() || none.writable() || none.user() ||
               none.accessed() || none.dirty() || none.ps() || none.global() ||
               none.xd());
  EXPECT_TRUE(E(0x1).present());
  EXPECT_TRUE(E(0x2).writable());
  EXPECT_TRUE(E(0x4).user());
  EXPECT_TRUE(E(0x20).accessed());
  EXPECT_TRUE(E(0x40).dirty());
  EXPECT_TRUE(E(0x80).ps());
  EXPECT_TRUE(E(0x100).global());
  EXPECT_TRUE(E(1ull << 63).xd());
  EXPECT_FALSE(E(0x40).accessed());
}

TEST(PagingEntryTest, MutatorsSetAndClearOneBit) {
  E e(0);
  e.set_present(true);
  e.set_dirty(true);
  e.set_xd(true);
  EXPECT_EQ(e.raw(), 0x8000'0000'0000'0041ull);
  e.set_dirty(false);
  EXPECT_EQ(e.raw(), 0x8000'0000'0000'0001ull);
  EXPECT_EQ(E(0).with_writable(true).with_user(true).with_global(true).raw(),
            0x106u);
  EXPECT_EQ(E(0xfff).with_accessed(false).raw(), 0xfdfu);
  EXPECT_EQ(E(0x1).with_pfn(Pfn(0x12345)).raw(), 0x12345001u);
  EXPECT_EQ(E(0x8000'0000'0000'0007ull).with_addr(PhysAddr(0xabc000)).raw(),
            0x8000'0000'00ab'c007ull);
}

TEST(PagingEntryTest, AddressFieldStopsBelowMaxPhyAddr) {
  // Bits 51..12 all set plus flags.
  const E e(0x000F'FFFF'FFFF'F067ull);
  EXPECT_EQ(e.addr(52).value(), 0x000F'FFFF'FFFF'F000ull);
  EXPECT_EQ(e.addr(46).value(), 0x0000'3FFF'FFFF'F000ull);
  EXPECT_EQ(e.addr(36).value(), 0x0000'000F'FFFF'F000ull);
  EXPECT_EQ(e.pfn(), Pfn(0xFF'FFFF'FFFFull));
}

TEST(PagingEntryTest, LargeLeafFrameIgnoresPatAndLowBits) {
  // A 2 MiB leaf at 0x4020'0000 with PAT (bit 12) set.
  const E two_m = E::Page2M(PhysAddr(0x4020'0000), E::kRW | E::kPATLarge);
  EXPECT_TRUE(two_m.ps());
  EXPECT_TRUE(two_m.pat_large());
  EXPECT_EQ(two_m.frame_addr(PageSize::k2M, 46).value(), 0x4020'0000u);
  const E one_g = E::Page1G(PhysAddr(0x1'4000'0000), E::kPATLarge);
  EXPECT_EQ(one_g.frame_addr(PageSize::k1G, 46).value(), 0x1'4000'0000u);
  // with_frame keeps PAT; with_addr would not.
  EXPECT_TRUE(two_m.with_frame(PhysAddr(0x60'0000), PageSize::k2M).pat_large());
  EXPECT_EQ(two_m.with_frame(PhysAddr(0x60'0000), PageSize::k2M)
                .frame_addr(PageSize::k2M, 46)
                .value(),
            0x60'0000u);
}

TEST(PagingEntryTest, BuildersSetPresentAndPs) {
  EXPECT_EQ(E::Table(PhysAddr(0x5000), E::kRW).raw(), 0x5003u);
  EXPECT_EQ(E::Page4K(PhysAddr(0x7000), E::kUS | E::kXD).raw(),
            0x8000'0000'0000'7005ull);
  EXPECT_EQ(E::Page2M(PhysAddr(0x20'0000), 0).raw(), 0x20'0081u);
  EXPECT_EQ(E::Page1G(PhysAddr(0x4000'0000), E::kG).raw(), 0x4000'0181u);
}

TEST(PagingEntryTest, ReservedMasksFollowTheSdmTables) {
  const uint64_t above46 = Bits(51, 46);
  // PML4E: PS must be 0.
  EXPECT_EQ(E::ReservedMask(4, false, 46, true), above46 | Bits(7, 7));
  // PDPTE referencing a page directory / mapping a 1 GiB page.
  EXPECT_EQ(E::ReservedMask(3, false, 46, true), above46);
  EXPECT_EQ(E::ReservedMask(3, true, 46, true), above46 | Bits(29, 13));
  // PDE referencing a page table / mapping a 2 MiB page.
  EXPECT_EQ(E::ReservedMask(2, false, 46, true), above46);
  EXPECT_EQ(E::ReservedMask(2, true, 46, true), above46 | Bits(20, 13));
  // PTE: bit 7 is PAT, not reserved.
  EXPECT_EQ(E::ReservedMask(1, false, 46, true), above46);
  // XD is reserved when EFER.NXE = 0, at every level.
  for (int level = 1; level <= 4; ++level) {
    EXPECT_EQ(E::ReservedMask(level, false, 46, false) & E::kXD, E::kXD);
    EXPECT_EQ(E::ReservedMask(level, false, 46, true) & E::kXD, 0u);
  }
  // MAXPHYADDR = 52 leaves no address bits reserved; 36 reserves 51..36.
  EXPECT_EQ(E::ReservedMask(1, false, 52, true), 0u);
  EXPECT_EQ(E::ReservedMask(1, false, 36, true), Bits(51, 36));
  // Ignored bits (52..62, 11..9) are never reserved.
  for (int level = 1; level <= 4; ++level) {
    EXPECT_EQ(E::ReservedMask(level, level == 2 || level == 3, 40, false) &
                  (Bits(62, 52) | Bits(11, 9)),
              0u);
  }
}

TEST(PagingEntryTest, ToStringNamesTheFlags) {
  EXPECT_EQ(E(0).ToString(), "0x0000000000000000: not-present");
  const std::string s =
      E::Page4K(PhysAddr(0x7000), E::kRW | E::kA | E::kXD).ToString();
  EXPECT_NE(s.find(" P RW A XD addr=0x7000"), std::string::npos) << s;
}

TEST(PagingEntryTest, ProtectionKeyIsBits62To59) {
  EXPECT_EQ(E::kBitPkey, 59);
  EXPECT_EQ(E::PkeyFlags(1), 1ull << 59);
  EXPECT_EQ(E::PkeyFlags(15), 0xfull << 59);
  EXPECT_EQ(E::PkeyFlags(16), 0u);  // only 4 bits
  const E e = E::Page4K(PhysAddr(0x7000), E::kRW | E::kXD | E::PkeyFlags(6));
  EXPECT_EQ(e.pkey(), 6);
  EXPECT_TRUE(e.xd());
  EXPECT_EQ(e.addr(46), PhysAddr(0x7000));
  EXPECT_EQ(e.with_pkey(9).pkey(), 9);
  EXPECT_EQ(e.with_pkey(0).raw(), e.raw() & ~E::kPkeyMask);
  EXPECT_TRUE(e.with_pkey(0).xd());  // neighbours untouched
  E f = E::Page2M(PhysAddr(0x20'0000), 0);
  f.set_pkey(15);
  EXPECT_EQ(f.pkey(), 15);
  EXPECT_EQ(f.frame_addr(PageSize::k2M, 46), PhysAddr(0x20'0000));
  EXPECT_NE(e.ToString().find(" XD pkey=6 addr=0x7000"), std::string::npos)
      << e.ToString();
  EXPECT_EQ(E::Page4K(PhysAddr(0x7000), 0).ToString().find("pkey"),
            std::string::npos);
}

}  // namespace
}  // namespace hw
