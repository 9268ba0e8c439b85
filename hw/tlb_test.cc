// hw/tlb_test.cc: lookup, fills, promotion, replacement order, invalidation
// and counters of the TLB model (SDM 4.10).
#include "hw/tlb.h"

#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "hw/access.h"
#include "hw/addr.h"
#include "hw/observer.h"
#include "hw/tlb_entry.h"
#include "hw/tlb_profile.h"

namespace hw {
namespace {

// A 4K entry for linear page `vpn` -> frame `pfn`.
TlbEntry Page(uint64_t vpn, uint64_t pfn, uint16_t pcid = 0,
              bool global = false) {
  return TlbEntry{.vpn = vpn, .pfn = pfn, .pcid = pcid, .size = PageSize::k4K,
                  .valid = true, .global = global, .writable = true,
                  .user = true, .dirty = true};
}

TlbEntry Large(VirtAddr va, PhysAddr pa, PageSize size, uint16_t pcid = 0) {
  TlbEntry e = Page(va.value() >> kPageShift, pa.value() >> kPageShift, pcid);
  e.size = size;
  return e;
}

// One level, one 4K array.
TlbProfile OneArray(int sets, int ways, TlbReplacement r) {
  return TlbProfile{.name = "test",
                    .levels = {{"L1", {{PageSize::k4K, sets, ways}}}},
                    .replacement = r};
}

// Two levels: L1 4K 1 set x 2 ways, 2M 1 x 1; L2 4K+2M 2 sets x 4 ways.
TlbProfile TwoLevels() {
  return TlbProfile{
      .name = "two",
      .levels = {{"L1", {{PageSize::k4K, 1, 2}, {PageSize::k2M, 1, 1}}},
                 {"L2", {{PageSize::k4K, 2, 4, /*shares_2m=*/true},
                         {PageSize::k1G, 1, 2}}}},
      .replacement = TlbReplacement::kLru};
}

VirtAddr Va(uint64_t vpn) { return VirtAddr(vpn << kPageShift); }

class EventLog : public HwObserver {
 public:
  void OnTlbHit(int cpu, int level, VirtAddr va, const TlbEntry&) override {
    log.push_back("hit L" + std::to_string(level));
  }
  void OnTlbMiss(int cpu, VirtAddr va) override { log.push_back("miss"); }
  void OnTlbFill(int cpu, int level, const TlbEntry& e) override {
    log.push_back("fill L" + std::to_string(level) + " " +
                  std::to_string(e.vpn));
  }
  void OnTlbEvict(int cpu, int level, const TlbEntry& e) override {
    log.push_back("evict L" + std::to_string(level) + " " +
                  std::to_string(e.vpn));
  }
  std::vector<std::string> log;
};

TEST(TlbTest, MissThenFillThenHit) {
  Tlb tlb(OneArray(4, 2, TlbReplacement::kLru));
  EXPECT_EQ(tlb.Lookup(Va(5), 0), nullptr);
  tlb.Fill(Page(5, 0x55));
  const TlbEntry* e = tlb.Lookup(Va(5) + 0x123, 0);
  ASSERT_NE(e, nullptr);
  EXPECT_EQ(e->pfn, 0x55u);
  EXPECT_EQ(e->Translate(Va(5) + 0x123), PhysAddr(0x55123));
  EXPECT_EQ(tlb.Lookup(Va(6), 0), nullptr);
  EXPECT_EQ(tlb.counters(0),
            (TlbCounters{.hits = 1, .misses = 2, .fills = 1}));
}

TEST(TlbTest, PcidTagsSeparateAddressSpacesAndGlobalMatchesAll) {
  Tlb tlb(OneArray(4, 4, TlbReplacement::kLru));
  tlb.Fill(Page(5, 0x11, /*pcid=*/1));
  tlb.Fill(Page(5, 0x22, /*pcid=*/2));
  tlb.Fill(Page(9, 0x99, /*pcid=*/1, /*global=*/true));
  EXPECT_EQ(tlb.Lookup(Va(5), 1)->pfn, 0x11u);
  EXPECT_EQ(tlb.Lookup(Va(5), 2)->pfn, 0x22u);
  EXPECT_EQ(tlb.Lookup(Va(5), 3), nullptr);
  EXPECT_EQ(tlb.Lookup(Va(9), 3)->pfn, 0x99u);  // global: any PCID
}

TEST(TlbTest, RefillOfTheSameTranslationReplacesInPlace) {
  Tlb tlb(OneArray(1, 2, TlbReplacement::kLru));
  tlb.Fill(Page(1, 0x10));
  TlbEntry clean = Page(1, 0x10);
  clean.dirty = false;
  tlb.Fill(clean);
  tlb.Fill(Page(2, 0x20));
  EXPECT_EQ(tlb.CountValid(0), 2u);
  EXPECT_EQ(tlb.counters(0).evictions, 0u);
  EXPECT_FALSE(tlb.Lookup(Va(1), 0)->dirty);
}

TEST(TlbTest, LruEvictsTheLeastRecentlyUsedWay) {
  Tlb tlb(OneArray(2, 2, TlbReplacement::kLru));
  EventLog log;
  tlb.set_observer(&log, 0);
  // vpn 0, 2, 4 all map to set 0 (vpn & 1 == 0).
  tlb.Fill(Page(0, 0x100));
  tlb.Fill(Page(2, 0x102));
  ASSERT_NE(tlb.Lookup(Va(0), 0), nullptr);  // 0 is now most recent
  tlb.Fill(Page(4, 0x104));                  // evicts 2
  EXPECT_EQ(tlb.Lookup(Va(2), 0), nullptr);
  EXPECT_NE(tlb.Lookup(Va(0), 0), nullptr);
  EXPECT_NE(tlb.Lookup(Va(4), 0), nullptr);
  tlb.Fill(Page(6, 0x106));  // 0 was used before 4: evicts 0
  EXPECT_EQ(tlb.Lookup(Va(0), 0), nullptr);
  EXPECT_EQ(log.log, (std::vector<std::string>{
                         "fill L0 0", "fill L0 2", "hit L0", "evict L0 2",
                         "fill L0 4", "miss", "hit L0", "hit L0", "evict L0 0",
                         "fill L0 6", "miss"}));
  // Set 1 was never disturbed.
  tlb.Fill(Page(1, 0x101));
  EXPECT_NE(tlb.Lookup(Va(6), 0), nullptr);
  EXPECT_EQ(tlb.counters(0).evictions, 2u);
}

TEST(TlbTest, TreePlruVictimOrderWithFourWays) {
  Tlb tlb(OneArray(1, 4, TlbReplacement::kTreePlru));
  for (uint64_t v = 0; v < 4; ++v) tlb.Fill(Page(v, v));  // ways 0..3
  // Last touch was way 3 (right half): the tree points left, then at way 0
  // (way 1 was touched after way 0 in the left pair).
  tlb.Fill(Page(10, 10));
  EXPECT_EQ(tlb.Lookup(Va(0), 0), nullptr);  // way 0 replaced by vpn 10
  // Touch vpn 10 (way 0): the tree now points right, at way 2 (way 3 was
  // touched after way 2).
  ASSERT_NE(tlb.Lookup(Va(10), 0), nullptr);
  tlb.Fill(Page(11, 11));
  EXPECT_EQ(tlb.Lookup(Va(2), 0), nullptr);
  // Last touches: 11 (way 2)... the tree points left, at way 1.
  tlb.Fill(Page(12, 12));
  EXPECT_EQ(tlb.Lookup(Va(1), 0), nullptr);
  EXPECT_NE(tlb.Lookup(Va(3), 0), nullptr);
  EXPECT_NE(tlb.Lookup(Va(10), 0), nullptr);
  EXPECT_NE(tlb.Lookup(Va(11), 0), nullptr);
  EXPECT_NE(tlb.Lookup(Va(12), 0), nullptr);
}

TEST(TlbTest, TreePlruWithThreeWaysNeverPicksAMissingWay) {
  Tlb tlb(OneArray(1, 3, TlbReplacement::kTreePlru));
  for (uint64_t v = 0; v < 3; ++v) tlb.Fill(Page(v, v));
  // Every fill must land in way 0..2 and evict exactly one valid entry.
  for (uint64_t v = 3; v < 200; ++v) {
    tlb.Fill(Page(v, v));
    EXPECT_EQ(tlb.CountValid(0), 3u);
    if (v % 3 == 0) tlb.Lookup(Va(v - 1), 0);  // vary the touch pattern
  }
  EXPECT_EQ(tlb.counters(0).evictions, 197u);
  // Deterministic: a second TLB fed the same sequence has the same content.
  Tlb again(OneArray(1, 3, TlbReplacement::kTreePlru));
  for (uint64_t v = 0; v < 200; ++v) {
    again.Fill(Page(v, v));
    if (v >= 3 && v % 3 == 0) again.Lookup(Va(v - 1), 0);
  }
  std::vector<uint64_t> a, b;
  tlb.ForEachEntry([&](int, const TlbEntry& e) { a.push_back(e.vpn); });
  again.ForEachEntry([&](int, const TlbEntry& e) { b.push_back(e.vpn); });
  EXPECT_EQ(a, b);
}

TEST(TlbTest, LargeEntriesMatchAnyAddressInside) {
  Tlb tlb(TwoLevels());
  tlb.Fill(Large(VirtAddr(0x4000'0000), PhysAddr(0x20'0000), PageSize::k2M));
  tlb.Fill(Large(VirtAddr(0x8000'0000), PhysAddr(0x4000'0000), PageSize::k1G));
  const TlbEntry* e = tlb.Lookup(VirtAddr(0x401f'fff8), 0);
  ASSERT_NE(e, nullptr);
  EXPECT_EQ(e->size, PageSize::k2M);
  EXPECT_EQ(e->Translate(VirtAddr(0x401f'fff8)), PhysAddr(0x3f'fff8));
  EXPECT_EQ(tlb.Lookup(VirtAddr(0x4020'0000), 0), nullptr);
  e = tlb.Lookup(VirtAddr(0xbfff'f000), 0);
  ASSERT_NE(e, nullptr);
  EXPECT_EQ(e->size, PageSize::k1G);
  // A 4K entry for 0x4000'0000 and the 2M entry are different translations.
  tlb.Fill(Page(0x40000, 0x7));
  EXPECT_EQ(tlb.Lookup(VirtAddr(0x4000'0000), 0)->size, PageSize::k4K);
  EXPECT_EQ(tlb.Lookup(VirtAddr(0x4000'1000), 0)->size, PageSize::k2M);
}

TEST(TlbTest, InvlpgAnywhereInsideALargePageDropsIt) {
  Tlb tlb(TwoLevels());
  tlb.Fill(Large(VirtAddr(0x4000'0000), PhysAddr(0x20'0000), PageSize::k2M));
  tlb.Fill(Large(VirtAddr(0x8000'0000), PhysAddr(0x4000'0000), PageSize::k1G));
  EXPECT_EQ(tlb.CountValid(0), 1u);  // L1 has no 1G array in this profile
  EXPECT_EQ(tlb.CountValid(1), 2u);
  EXPECT_EQ(tlb.InvalidatePage(VirtAddr(0x4012'3000), 0), 2u);  // L1 + L2
  EXPECT_EQ(tlb.Lookup(VirtAddr(0x4000'0000), 0), nullptr);
  EXPECT_EQ(tlb.InvalidatePage(VirtAddr(0xa000'0000), 0), 1u);
  EXPECT_EQ(tlb.Lookup(VirtAddr(0x8000'0000), 0), nullptr);
}

TEST(TlbTest, InvalidatePageRespectsPcidAndGlobal) {
  Tlb tlb(OneArray(4, 4, TlbReplacement::kLru));
  tlb.Fill(Page(5, 0x11, 1));
  tlb.Fill(Page(5, 0x22, 2));
  tlb.Fill(Page(5, 0x33, 3, /*global=*/true));
  // INVLPG in PCID 1: PCID 1's entry and the global one go; PCID 2's stays.
  EXPECT_EQ(tlb.InvalidatePage(Va(5), 1), 2u);
  EXPECT_EQ(tlb.Lookup(Va(5), 2)->pfn, 0x22u);
  EXPECT_EQ(tlb.Lookup(Va(5), 1), nullptr);
  // INVPCID type 0 keeps globals.
  tlb.Fill(Page(5, 0x33, 3, /*global=*/true));
  EXPECT_EQ(tlb.InvalidatePageNonGlobal(Va(5), 2), 1u);
  EXPECT_EQ(tlb.Lookup(Va(5), 2)->pfn, 0x33u);
}

TEST(TlbTest, FlushesByScope) {
  Tlb tlb(OneArray(8, 4, TlbReplacement::kLru));
  tlb.Fill(Page(1, 1, 1));
  tlb.Fill(Page(2, 2, 2));
  tlb.Fill(Page(3, 3, 1, /*global=*/true));
  EXPECT_EQ(tlb.FlushPcid(1), 1u);  // not the global one
  EXPECT_EQ(tlb.Lookup(Va(1), 1), nullptr);
  EXPECT_NE(tlb.Lookup(Va(2), 2), nullptr);
  EXPECT_NE(tlb.Lookup(Va(3), 1), nullptr);
  tlb.Fill(Page(1, 1, 1));
  EXPECT_EQ(tlb.FlushNonGlobal(), 2u);
  EXPECT_EQ(tlb.CountValid(0), 1u);
  EXPECT_EQ(tlb.FlushAll(), 1u);
  EXPECT_EQ(tlb.CountValid(0), 0u);
  EXPECT_EQ(tlb.counters(0).flushes, 3u);
  EXPECT_EQ(tlb.counters(0).invalidations, 4u);
}

TEST(TlbTest, SecondLevelHitPromotesToTheFirst) {
  Tlb tlb(TwoLevels());
  EventLog log;
  tlb.set_observer(&log, 0);
  // L1 4K holds 2 entries (one set); fill 3 pages that share L2 set 0.
  tlb.Fill(Page(0, 0x10));
  tlb.Fill(Page(2, 0x12));
  tlb.Fill(Page(4, 0x14));  // evicts vpn 0 from L1 only
  EXPECT_EQ(tlb.CountValid(0), 2u);
  EXPECT_EQ(tlb.CountValid(1), 3u);
  log.log.clear();
  const TlbEntry* e = tlb.Lookup(Va(0), 0);
  ASSERT_NE(e, nullptr);
  EXPECT_EQ(e->pfn, 0x10u);
  EXPECT_EQ(log.log, (std::vector<std::string>{"hit L1", "evict L0 2",
                                               "fill L0 0"}));
  EXPECT_EQ(tlb.counters(0).misses, 1u);
  EXPECT_EQ(tlb.counters(1).hits, 1u);
  // Now it is an L1 hit.
  ASSERT_NE(tlb.Lookup(Va(0), 0), nullptr);
  EXPECT_EQ(tlb.counters(0).hits, 1u);
  // A miss everywhere counts a miss at each level.
  EXPECT_EQ(tlb.Lookup(Va(100), 0), nullptr);
  EXPECT_EQ(tlb.counters(0).misses, 2u);
  EXPECT_EQ(tlb.counters(1).misses, 1u);
  tlb.CountWalk();
  EXPECT_EQ(tlb.counters(1).walks, 1u);
  EXPECT_EQ(tlb.counters(0).walks, 0u);
  tlb.ResetCounters();
  EXPECT_EQ(tlb.counters(0), TlbCounters{});
  EXPECT_EQ(tlb.counters(1), TlbCounters{});
}

TEST(TlbTest, SharedStlbHolds2MEntriesNextTo4K) {
  Tlb tlb(*FindTlbProfile("tiny"));
  tlb.Fill(Large(VirtAddr(0x20'0000), PhysAddr(0x60'0000), PageSize::k2M));
  tlb.Fill(Page(0x200, 0x999));  // 4K page at the same base
  size_t stlb_2m = 0, stlb_4k = 0;
  tlb.ForEachEntry([&](int level, const TlbEntry& e) {
    if (level != 1) return;
    (e.size == PageSize::k2M ? stlb_2m : stlb_4k) += 1;
  });
  EXPECT_EQ(stlb_2m, 1u);
  EXPECT_EQ(stlb_4k, 1u);
}

TEST(TlbTest, PeekHasNoSideEffects) {
  Tlb tlb(TwoLevels());
  tlb.Fill(Page(0, 0x10));
  tlb.Fill(Page(2, 0x12));
  tlb.Fill(Page(4, 0x14));  // vpn 0 now only in L2
  tlb.ResetCounters();
  const TlbEntry* e = tlb.Peek(Va(0), 0);
  ASSERT_NE(e, nullptr);
  EXPECT_EQ(e->pfn, 0x10u);
  EXPECT_EQ(tlb.Peek(Va(77), 0), nullptr);
  EXPECT_EQ(tlb.counters(0), TlbCounters{});
  EXPECT_EQ(tlb.counters(1), TlbCounters{});
  EXPECT_EQ(tlb.CountValid(0), 2u);  // no promotion
}

TEST(TlbTest, SkylakeCapacity) {
  Tlb tlb(DefaultTlbProfile());
  EXPECT_EQ(tlb.num_levels(), 2);
  EXPECT_EQ(tlb.profile().name, "skylake");
  for (uint64_t v = 0; v < 4096; ++v) tlb.Fill(Page(v, v));
  EXPECT_EQ(tlb.CountValid(0), 64u);
  EXPECT_EQ(tlb.CountValid(1), 1536u);
  // The most recent 64 pages are all L1 hits (16 sets x 4 ways, consecutive
  // pages spread over the sets).
  tlb.ResetCounters();
  for (uint64_t v = 4096 - 64; v < 4096; ++v) {
    ASSERT_NE(tlb.Lookup(Va(v), 0), nullptr);
  }
  EXPECT_EQ(tlb.counters(0).hits, 64u);
  EXPECT_EQ(tlb.counters(0).misses, 0u);
}

// Random fills, lookups and every kind of invalidation, mixing page sizes and
// PCIDs. After each step: CountValid agrees with an enumeration of the entries,
// and a lookup misses only if no valid entry anywhere (ForEachEntry, which
// scans every slot) covers the address for that PCID.
TEST(TlbTest, RandomOperationsKeepCountsAndNeverMissACachedPage) {
  for (TlbReplacement r : {TlbReplacement::kLru, TlbReplacement::kTreePlru}) {
    TlbProfile profile = TwoLevels();
    profile.replacement = r;
    Tlb tlb(profile);
    uint64_t seed = 12345;
    auto next = [&seed](uint64_t n) {
      seed = seed * 6364136223846793005ull + 1442695040888963407ull;
      return (seed >> 33) % n;
    };
    const uint64_t k2MPages = PageBytesOf(PageSize::k2M) >> kPageShift;
    const uint64_t k1GPages = PageBytesOf(PageSize::k1G) >> kPageShift;
    for (int step = 0; step < 20000; ++step) {
      // Addresses in the first 2 GiB: 1G pages 0-1, 2M pages 0-3 of each.
      const uint64_t vpn = next(2) * k1GPages + next(4) * k2MPages + next(8);
      const uint16_t pcid = static_cast<uint16_t>(next(3));
      switch (next(9)) {
        case 0:
        case 1:
          tlb.Fill(Page(vpn, vpn + 100, pcid, next(8) == 0));
          break;
        case 2:
          tlb.Fill(Large(Va(vpn & ~(k2MPages - 1)), PhysAddr(1ull << 30),
                         PageSize::k2M, pcid));
          break;
        case 3:
          tlb.Fill(Large(Va(vpn & ~(k1GPages - 1)), PhysAddr(1ull << 31),
                         PageSize::k1G, pcid));
          break;
        case 4:
          tlb.InvalidatePage(Va(vpn), pcid);
          break;
        case 5:
          tlb.InvalidatePageNonGlobal(Va(vpn), pcid);
          break;
        case 6:
          if (next(20) == 0) tlb.FlushPcid(pcid);
          if (next(40) == 0) tlb.FlushNonGlobal();
          if (next(80) == 0) tlb.FlushAll();
          break;
        default: {
          bool cached = false;
          tlb.ForEachEntry([&](int, const TlbEntry& e) {
            cached |= e.Covers(Va(vpn)) && (e.pcid == pcid || e.global);
          });
          const TlbEntry* hit = tlb.Lookup(Va(vpn), pcid);
          ASSERT_EQ(hit != nullptr, cached) << "step " << step;
          if (hit != nullptr) {
            EXPECT_TRUE(hit->Covers(Va(vpn)));
            EXPECT_TRUE(hit->pcid == pcid || hit->global);
          }
        }
      }
      size_t scanned[2] = {0, 0};
      tlb.ForEachEntry([&](int level, const TlbEntry&) { ++scanned[level]; });
      ASSERT_EQ(tlb.CountValid(0), scanned[0]) << "step " << step;
      ASSERT_EQ(tlb.CountValid(1), scanned[1]) << "step " << step;
    }
  }
}

TEST(TlbDeathTest, InvalidProfileIsRejected) {
  EXPECT_DEATH(Tlb(OneArray(3, 2, TlbReplacement::kLru)), "not a power of 2");
}

}  // namespace
}  // namespace hw
