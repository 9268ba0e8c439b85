// hw/psc_test.cc: the paging-structure caches on their own (lookup order,
// LRU, PCID tagging, the three invalidation scopes).
#include "hw/psc.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "hw/addr.h"
#include "hw/tlb_profile.h"

namespace hw {
namespace {

constexpr PscConfig kSmall = {.pml4e = {1, 2}, .pdpte = {1, 4}, .pde = {2, 2}};
constexpr uint64_t k2M = uint64_t{1} << 21;
constexpr uint64_t k1G = uint64_t{1} << 30;

TEST(PscTest, EmptyCacheMissesEveryLevelAndStartsAtCr3) {
  PagingStructureCache psc(kSmall);
  ASSERT_TRUE(psc.enabled());
  const PscMatch m = psc.Lookup(VirtAddr(0x400000), 1);
  EXPECT_EQ(m.level, 4);
  EXPECT_TRUE(m.writable && m.user && !m.nx);
  for (PscLevel l : {PscLevel::kPml4e, PscLevel::kPdpte, PscLevel::kPde}) {
    EXPECT_EQ(psc.counters(l).misses, 1u) << PscLevelName(l);
    EXPECT_EQ(psc.counters(l).hits, 0u);
  }
}

TEST(PscTest, LongestMatchWinsAndCarriesRights) {
  PagingStructureCache psc(kSmall);
  const VirtAddr va(0x7f0000201000);
  psc.Fill(4, va, 3, PhysAddr(0xa000), true, true, false);
  psc.Fill(3, va, 3, PhysAddr(0xb000), true, true, true);
  PscMatch m = psc.Lookup(va, 3);
  EXPECT_EQ(m.level, 2);  // PDPTE hit: the PDE is read next
  EXPECT_EQ(m.table, PhysAddr(0xb000));
  EXPECT_TRUE(m.nx);
  EXPECT_EQ(psc.counters(PscLevel::kPde).misses, 1u);
  EXPECT_EQ(psc.counters(PscLevel::kPdpte).hits, 1u);
  EXPECT_EQ(psc.counters(PscLevel::kPml4e).hits + psc.counters(PscLevel::kPml4e).misses, 0u);

  psc.Fill(2, va, 3, PhysAddr(0xc000), false, true, true);
  m = psc.Lookup(va + 0x1ff000 - 0x1000, 3);  // same 2 MiB region
  EXPECT_EQ(m.level, 1);
  EXPECT_EQ(m.table, PhysAddr(0xc000));
  EXPECT_FALSE(m.writable);
  // The next 2 MiB region shares only the PDPTE.
  m = psc.Lookup(va + k2M, 3);
  EXPECT_EQ(m.level, 2);
  // A different PCID shares nothing.
  EXPECT_EQ(psc.Lookup(va, 4).level, 4);
}

TEST(PscTest, LruEvictsWithinASet) {
  PagingStructureCache psc(kSmall);  // PDE: 2 sets x 2 ways
  // Regions 0, 2, 4 (2 MiB units) all index set 0.
  psc.Fill(2, VirtAddr(0 * k2M), 1, PhysAddr(0x1000), true, true, false);
  psc.Fill(2, VirtAddr(2 * k2M), 1, PhysAddr(0x2000), true, true, false);
  EXPECT_EQ(psc.Lookup(VirtAddr(0), 1).level, 1);  // region 0 now MRU
  psc.Fill(2, VirtAddr(4 * k2M), 1, PhysAddr(0x3000), true, true, false);
  EXPECT_EQ(psc.counters(PscLevel::kPde).evictions, 1u);
  EXPECT_NE(psc.Peek(PscLevel::kPde, VirtAddr(0), 1), nullptr);
  EXPECT_EQ(psc.Peek(PscLevel::kPde, VirtAddr(2 * k2M), 1), nullptr);
  EXPECT_NE(psc.Peek(PscLevel::kPde, VirtAddr(4 * k2M), 1), nullptr);
  // A refill of the same tag overwrites in place.
  psc.Fill(2, VirtAddr(4 * k2M), 1, PhysAddr(0x4000), true, true, false);
  EXPECT_EQ(psc.Peek(PscLevel::kPde, VirtAddr(4 * k2M), 1)->table, PhysAddr(0x4000));
  EXPECT_EQ(psc.CountValid(PscLevel::kPde), 2u);
  EXPECT_EQ(psc.counters(PscLevel::kPde).evictions, 1u);
}

TEST(PscTest, InvalidationScopes) {
  PagingStructureCache psc(kSmall);
  const VirtAddr a(0x1000), b(k1G + 0x1000);
  for (uint16_t pcid : {1, 2}) {
    psc.Fill(4, a, pcid, PhysAddr(0xa000), true, true, false);
    psc.Fill(3, a, pcid, PhysAddr(0xb000), true, true, false);
    psc.Fill(2, a, pcid, PhysAddr(0xc000), true, true, false);
  }
  psc.Fill(3, b, 1, PhysAddr(0xd000), true, true, false);  // shares a's PML4E
  // INVPCID type 0 scope: entries of PCID 1 that would translate `b`:
  // its PML4E (shared with a) and its PDPTE; a's PDPTE and PDE stay.
  EXPECT_EQ(psc.InvalidateAddress(b, 1), 2u);
  EXPECT_EQ(psc.Peek(PscLevel::kPml4e, a, 1), nullptr);
  EXPECT_NE(psc.Peek(PscLevel::kPdpte, a, 1), nullptr);
  EXPECT_NE(psc.Peek(PscLevel::kPde, a, 1), nullptr);
  EXPECT_NE(psc.Peek(PscLevel::kPml4e, a, 2), nullptr);
  // One PCID (CR3 write, INVLPG, INVPCID type 1).
  EXPECT_EQ(psc.InvalidatePcid(1), 2u);
  EXPECT_EQ(psc.Lookup(a, 1).level, 4);
  EXPECT_EQ(psc.Lookup(a, 2).level, 1);
  // Everything.
  EXPECT_EQ(psc.InvalidateAll(), 3u);
  EXPECT_EQ(psc.Lookup(a, 2).level, 4);
  EXPECT_EQ(psc.counters(PscLevel::kPml4e).invalidations +
                psc.counters(PscLevel::kPdpte).invalidations +
                psc.counters(PscLevel::kPde).invalidations,
            7u);
}

TEST(PscTest, HighHalfPrefixesPrintCanonical) {
  PagingStructureCache psc(kSmall);
  psc.Fill(2, VirtAddr(0xffff888000200000), 0, PhysAddr(0x5000), true, false, true);
  std::vector<std::string> lines;
  psc.ForEachEntry([&](PscLevel l, const PscEntry& e) { lines.push_back(e.ToString(l)); });
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_EQ(lines[0], "PDE va:0xffff888000200000/21 -> table pa:0x5000 pcid=0 W NX");
}

TEST(PscTest, ProfilesHavePscAndNoPscVariants) {
  const TlbProfile* sky = FindTlbProfile("skylake");
  ASSERT_NE(sky, nullptr);
  EXPECT_TRUE(sky->psc.enabled());
  EXPECT_EQ(sky->psc.pde.entries(), 32);
  EXPECT_EQ(sky->psc.pdpte.entries(), 4);
  EXPECT_EQ(sky->psc.pml4e.entries(), 2);
  EXPECT_FALSE(sky->psc_source.empty());
  for (const std::string& name : TlbProfileNames()) {
    const TlbProfile* off = FindTlbProfile(name + std::string(kNoPscSuffix));
    ASSERT_NE(off, nullptr) << name;
    EXPECT_FALSE(off->psc.enabled());
    EXPECT_TRUE(ValidateTlbProfile(*off).ok());
    EXPECT_EQ(off->levels.size(), FindTlbProfile(name)->levels.size());
  }
  PagingStructureCache none(FindTlbProfile("tiny_nopsc")->psc);
  EXPECT_FALSE(none.enabled());
  EXPECT_EQ(none.InvalidateAll(), 0u);
}

TEST(PscTest, ValidateRejectsBadPscShapes) {
  TlbProfile p = *FindTlbProfile("tiny");
  p.psc.pde = {3, 2};
  EXPECT_FALSE(ValidateTlbProfile(p).ok());
  p.psc.pde = {1, 65};
  EXPECT_FALSE(ValidateTlbProfile(p).ok());
  p.psc.pde = {0, 0};
  EXPECT_TRUE(ValidateTlbProfile(p).ok());
}

}  // namespace
}  // namespace hw
