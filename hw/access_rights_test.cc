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

// PKRU with only key `k`'s AD / WD bits set.
constexpr uint32_t Ad(int k) { return kPkruAd << (2 * k); }
constexpr uint32_t Wd(int k) { return kPkruWd << (2 * k); }

PagingMode Pke(PagingMode m, uint32_t pkru, bool wp = false) {
  m.pke = true;
  m.pkru = pkru;
  m.wp = wp;
  return m;
}

TEST(AccessRightsTest, PkeyAccessDisableDeniesEveryDataAccess) {
  for (PagingMode m : {Pke(User(), Ad(1)), Pke(Super(), Ad(1)),
                       Pke(Super(), Ad(1), /*wp=*/true)}) {
    EXPECT_TRUE(PkeyDenies(true, 1, kR, m)) << m.user;
    EXPECT_TRUE(PkeyDenies(true, 1, kW, m)) << m.user;
    EXPECT_FALSE(PkeyDenies(true, 1, kX, m)) << m.user;  // fetches: never
    EXPECT_FALSE(PkeyDenies(true, 0, kR, m)) << m.user;  // another key
    EXPECT_FALSE(PkeyDenies(true, 2, kW, m)) << m.user;
  }
  // Key 15 uses bits 30 and 31.
  EXPECT_TRUE(PkeyDenies(true, 15, kR, Pke(User(), 1u << 30)));
  EXPECT_TRUE(PkeyDenies(true, 15, kW, Pke(User(), 1u << 31)));
  EXPECT_FALSE(PkeyDenies(true, 15, kR, Pke(User(), 1u << 31)));
}

TEST(AccessRightsTest, PkeyWriteDisableDependsOnModeAndWp) {
  // User mode: WD denies writes whatever WP, never reads.
  EXPECT_TRUE(PkeyDenies(true, 3, kW, Pke(User(), Wd(3), false)));
  EXPECT_TRUE(PkeyDenies(true, 3, kW, Pke(User(), Wd(3), true)));
  EXPECT_FALSE(PkeyDenies(true, 3, kR, Pke(User(), Wd(3), true)));
  // Supervisor mode: WD denies writes only with CR0.WP = 1.
  EXPECT_FALSE(PkeyDenies(true, 3, kW, Pke(Super(), Wd(3), false)));
  EXPECT_TRUE(PkeyDenies(true, 3, kW, Pke(Super(), Wd(3), true)));
  EXPECT_FALSE(PkeyDenies(true, 3, kR, Pke(Super(), Wd(3), true)));
  EXPECT_FALSE(PkeyDenies(true, 3, kX, Pke(User(), Wd(3) | Ad(3), true)));
}

TEST(AccessRightsTest, PkeysOnlyGovernUserModeAddresses) {
  const uint32_t all = 0xffff'ffff;  // every key AD and WD
  for (PagingMode m : {Pke(User(), all, true), Pke(Super(), all, true)}) {
    for (AccessType t : {kR, kW, kX}) {
      EXPECT_FALSE(PkeyDenies(/*user_page=*/false, 5, t, m));
    }
  }
  EXPECT_TRUE(PkeyDenies(true, 5, kR, Pke(Super(), all)));
}

TEST(AccessRightsTest, PkeDisabledIgnoresKeyBits) {
  PagingMode m = User();
  m.pkru = 0xffff'ffff;  // pke = false
  m.wp = true;
  for (AccessType t : {kR, kW, kX}) {
    for (int k = 0; k < kNumPkeys; ++k) EXPECT_FALSE(PkeyDenies(true, k, t, m));
  }
  EXPECT_EQ(PkeyDenyMask(kR, m), 0u);
  EXPECT_EQ(PkeyDenyMask(kW, m), 0u);
}

TEST(AccessRightsTest, PkeyDenyMasks) {
  // Linux's default PKRU (0x55555554): AD on keys 1..15, key 0 open.
  PagingMode m = Pke(User(), 0x5555'5554);
  EXPECT_EQ(PkeyDenyMask(kR, m), 0xfffeu);
  EXPECT_EQ(PkeyDenyMask(kW, m), 0xfffeu);
  EXPECT_EQ(PkeyDenyMask(kX, m), 0u);
  m = Pke(Super(), Ad(2) | Wd(4), /*wp=*/false);
  EXPECT_EQ(PkeyDenyMask(kR, m), 1u << 2);
  EXPECT_EQ(PkeyDenyMask(kW, m), 1u << 2);  // WD ignored without WP
  m.wp = true;
  EXPECT_EQ(PkeyDenyMask(kW, m), (1u << 2) | (1u << 4));
}

// The mask (computed by bit gathering, for the TLB-hit path) agrees with the per-key
// rule for every key, mode and a spread of PKRU values.
TEST(AccessRightsTest, PkeyDenyMaskMatchesPkeyDenies) {
  uint32_t pkru = 0x9e3779b9u;
  for (int i = 0; i < 200; ++i) {
    pkru = pkru * 1664525u + 1013904223u;
    for (const PagingMode& base : {User(), Super()}) {
      for (bool wp : {false, true}) {
        PagingMode m = Pke(base, pkru, wp);
        for (AccessType t : {kR, kW, kX}) {
          uint32_t want = 0;
          for (int k = 0; k < kNumPkeys; ++k)
            if (PkeyDenies(/*user_page=*/true, k, t, m)) want |= uint32_t{1} << k;
          ASSERT_EQ(PkeyDenyMask(t, m), want) << std::hex << "pkru " << pkru;
        }
      }
    }
  }
}

TEST(AccessRightsTest, PkeyCheckIsIndependentOfOrdinaryRights) {
  // A user write to a read-only page with WD: both deny; the key still does,
  // so the #PF gets PK.
  const PagingMode m = Pke(User(), Wd(1));
  EXPECT_FALSE(AccessAllowed(/*writable=*/false, true, false, kW, m));
  EXPECT_TRUE(PkeyDenies(true, 1, kW, m));
  // The ordinary rights never look at PKRU.
  EXPECT_TRUE(AccessAllowed(true, true, false, kR, Pke(User(), Ad(0))));
}

TEST(AccessRightsTest, PkErrorBitIsBitFive) {
  EXPECT_EQ(kPfErrPk, 0x20u);
  EXPECT_EQ(PfErrorCodeToString(kPfErrPresent | kPfErrUser | kPfErrPk), "P|U|PK");
}

}  // namespace
}  // namespace hw
