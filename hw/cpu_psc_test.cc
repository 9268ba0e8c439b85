// hw/cpu_psc_test.cc: the paging-structure caches seen through the CPU
// (SDM 4.10.3 fill and use, 4.10.4.1 invalidation), including the stale
// entry they allow: a PDE-cache entry that still points at a page-table
// frame the OS has freed and reused.
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "hw/access.h"
#include "hw/addr.h"
#include "hw/cpu.h"
#include "hw/observer.h"
#include "hw/page_table_builder.h"
#include "hw/paging_entry.h"
#include "hw/phys_mem.h"
#include "hw/psc.h"
#include "hw/tlb_profile.h"

namespace hw {
namespace {

using E = PagingEntry;

constexpr uint64_t kUrw = E::kRW | E::kUS;
constexpr uint64_t k2M = uint64_t{1} << 21;
constexpr uint64_t k1G = uint64_t{1} << 30;
constexpr uint64_t k512G = uint64_t{1} << 39;
constexpr VirtAddr kVa(0x0000'0040'0000'0000ull);  // 2 MiB, 1 GiB, 512 GiB aligned

class StepCounter : public HwObserver {
 public:
  void OnWalkStep(int, int level, PhysAddr, uint64_t) override { levels.push_back(level); }
  void OnPscHit(int, int level, VirtAddr, PhysAddr table) override {
    psc_levels.push_back(level);
    psc_tables.push_back(table);
  }
  void Clear() {
    levels.clear();
    psc_levels.clear();
    psc_tables.clear();
  }
  std::vector<int> levels;
  std::vector<int> psc_levels;
  std::vector<PhysAddr> psc_tables;
};

class CpuPscTest : public ::testing::Test {
 protected:
  explicit CpuPscTest(const char* profile = "skylake")
      : mem_(64 << 20), tables_(&mem_, Pfn(1)), cpu_(0, &mem_, *FindTlbProfile(profile)) {
    EXPECT_TRUE(cpu_.WriteCr3(tables_.cr3()).ok());
    cpu_.SetCpl(3);
    cpu_.set_observer(&steps_);
  }
  PhysAddr Frame(uint64_t i) const { return PhysAddr::FromPfn(Pfn(mem_.num_frames() - 1 - i)); }
  Fault Load(VirtAddr va, uint64_t* v) { return cpu_.Load(va, v, sizeof(*v)); }
  // Walk steps of one load that misses the TLB.
  std::vector<int> StepsOf(VirtAddr va) {
    steps_.Clear();
    uint64_t v;
    EXPECT_TRUE(Load(va, &v).ok());
    return steps_.levels;
  }
  uint64_t PscHits() const {
    const PagingStructureCache& p = cpu_.psc();
    return p.counters(PscLevel::kPml4e).hits + p.counters(PscLevel::kPdpte).hits +
           p.counters(PscLevel::kPde).hits;
  }

  PhysMem mem_;
  PageTableBuilder tables_;
  Cpu cpu_;
  StepCounter steps_;
};

TEST_F(CpuPscTest, LongestMatchSkipsUpperLevels) {
  const VirtAddr same_pt = kVa + kPageSize;
  const VirtAddr same_pd = kVa + k2M;
  const VirtAddr same_pdpt = kVa + k1G;
  const VirtAddr same_pml4 = kVa + k512G;
  for (VirtAddr va : {kVa, same_pt, same_pd, same_pdpt, same_pml4}) {
    tables_.Map(va, Frame(0), PageSize::k4K, kUrw);
  }
  EXPECT_EQ(StepsOf(kVa), (std::vector<int>{4, 3, 2, 1}));
  EXPECT_EQ(steps_.psc_levels, std::vector<int>{});
  // A PDE-cache hit: the TLB-miss walk is one read, the PTE.
  EXPECT_EQ(StepsOf(same_pt), std::vector<int>{1});
  EXPECT_EQ(steps_.psc_levels, std::vector<int>{2});
  EXPECT_EQ(steps_.psc_tables, std::vector<PhysAddr>{tables_.Entry(kVa, 2).addr(46)});
  // A PDPTE-cache hit: PDE and PTE.
  EXPECT_EQ(StepsOf(same_pd), (std::vector<int>{2, 1}));
  EXPECT_EQ(steps_.psc_levels, std::vector<int>{3});
  // A PML4E-cache hit: PDPTE, PDE, PTE.
  EXPECT_EQ(StepsOf(same_pdpt), (std::vector<int>{3, 2, 1}));
  EXPECT_EQ(steps_.psc_levels, std::vector<int>{4});
  // Nothing cached for another PML4 slot.
  EXPECT_EQ(StepsOf(same_pml4), (std::vector<int>{4, 3, 2, 1}));
  const PagingStructureCache& p = cpu_.psc();
  EXPECT_EQ(p.counters(PscLevel::kPde).hits, 1u);
  EXPECT_EQ(p.counters(PscLevel::kPdpte).hits, 1u);
  EXPECT_EQ(p.counters(PscLevel::kPml4e).hits, 1u);
  EXPECT_EQ(p.counters(PscLevel::kPde).misses, 4u);
  // Second walk filled nothing new; the others filled what they read.
  EXPECT_EQ(p.CountValid(PscLevel::kPml4e), 2u);
  EXPECT_EQ(p.CountValid(PscLevel::kPdpte), 3u);
  EXPECT_EQ(p.CountValid(PscLevel::kPde), 4u);
}

TEST_F(CpuPscTest, LargePagesAreLeavesNotCacheEntries) {
  tables_.Map(kVa, PhysAddr(16 << 20), PageSize::k2M, kUrw);
  tables_.Map(kVa + k1G, PhysAddr(0), PageSize::k1G, kUrw);
  EXPECT_EQ(StepsOf(kVa), (std::vector<int>{4, 3, 2}));
  EXPECT_EQ(StepsOf(kVa + k1G), (std::vector<int>{3}));  // PML4E cached
  EXPECT_EQ(cpu_.psc().CountValid(PscLevel::kPde), 0u);
  EXPECT_EQ(cpu_.psc().CountValid(PscLevel::kPdpte), 1u);  // kVa's, a table
  EXPECT_EQ(cpu_.psc().CountValid(PscLevel::kPml4e), 1u);
}

class CpuNoPscTest : public CpuPscTest {
 protected:
  CpuNoPscTest() : CpuPscTest("skylake_nopsc") {}
};

TEST_F(CpuNoPscTest, EveryMissWalksFromCr3) {
  tables_.Map(kVa, Frame(0), PageSize::k4K, kUrw);
  tables_.Map(kVa + kPageSize, Frame(1), PageSize::k4K, kUrw);
  EXPECT_EQ(StepsOf(kVa), (std::vector<int>{4, 3, 2, 1}));
  EXPECT_EQ(StepsOf(kVa + kPageSize), (std::vector<int>{4, 3, 2, 1}));
  EXPECT_FALSE(cpu_.psc().enabled());
  EXPECT_EQ(PscHits(), 0u);
  EXPECT_EQ(cpu_.psc().counters(PscLevel::kPde).misses, 0u);
}

// SDM 4.10.3.1: entries are made from paging-structure entries whose A bit
// is 1; a walk through a cached entry reads (and sets A in) only the levels
// below it.
TEST_F(CpuPscTest, AccessedBitsOnlyBelowTheCachedLevel) {
  tables_.Map(kVa, Frame(0), PageSize::k4K, kUrw);
  tables_.Map(kVa + kPageSize, Frame(1), PageSize::k4K, kUrw);
  uint64_t v;
  ASSERT_TRUE(Load(kVa, &v).ok());
  for (int level = 4; level >= 1; --level) EXPECT_TRUE(tables_.Entry(kVa, level).accessed());
  // The OS clears A in the PDE (as reclaim's young-bit test does on a PMD).
  tables_.SetEntry(kVa, 2, E(tables_.Entry(kVa, 2).raw() & ~E::kA));
  ASSERT_TRUE(Load(kVa + kPageSize, &v).ok());
  EXPECT_FALSE(tables_.Entry(kVa, 2).accessed()) << "the PDE came from the cache";
  EXPECT_TRUE(tables_.Entry(kVa + kPageSize, 1).accessed());
  // After an invalidation the walk reads the PDE again and sets A.
  cpu_.Invlpg(kVa + 2 * kPageSize);
  tables_.Map(kVa + 2 * kPageSize, Frame(2), PageSize::k4K, kUrw);
  ASSERT_TRUE(Load(kVa + 2 * kPageSize, &v).ok());
  EXPECT_TRUE(tables_.Entry(kVa, 2).accessed());
}

// The rights a PDE-cache entry carries are combined with the PTE's; a #PF
// drops the cache entries for the faulting address (SDM 4.10.4.1), so once
// the OS has made the PDE writable in memory the retry succeeds without any
// INVLPG (the spurious-fault path Linux relies on).
TEST_F(CpuPscTest, CachedRightsCombineAndAPageFaultDropsThem) {
  tables_.Map(kVa, Frame(0), PageSize::k4K, kUrw, E::kUS);  // PDE etc. read-only
  tables_.Map(kVa + kPageSize, Frame(1), PageSize::k4K, kUrw, E::kUS);
  uint64_t v = 1;
  ASSERT_TRUE(Load(kVa, &v).ok());
  const PscEntry* pde = cpu_.psc().Peek(PscLevel::kPde, kVa, cpu_.pcid());
  ASSERT_NE(pde, nullptr);
  EXPECT_FALSE(pde->writable);
  EXPECT_TRUE(pde->user);
  for (int level = 4; level >= 2; --level) {
    tables_.SetEntry(kVa, level, E(tables_.Entry(kVa, level).raw() | E::kRW));
  }
  // The stale, read-only PDE-cache entry decides: #PF P|W|U.
  const Fault f = cpu_.Store(kVa + kPageSize, &v, 8);
  ASSERT_TRUE(f.page_fault());
  EXPECT_EQ(f.error_code, kPfErrPresent | kPfErrWrite | kPfErrUser);
  EXPECT_EQ(cpu_.psc().Peek(PscLevel::kPde, kVa, cpu_.pcid()), nullptr);
  EXPECT_EQ(cpu_.psc().Peek(PscLevel::kPml4e, kVa, cpu_.pcid()), nullptr);
  EXPECT_TRUE(cpu_.Store(kVa + kPageSize, &v, 8).ok());
}

// ---- The stale entry ----------------------------------------------------
//
// A process touched A: the PDE cache holds "region of A -> page table T".
// The OS then tears the region down: it clears the PDE, frees T, and T is
// reused (here as a data page whose bytes happen to look like a present
// user PTE for B, another page of the same region). If the OS does not
// invalidate, a TLB miss on B goes through the stale PDE-cache entry into
// the reused frame and translates B to whatever that frame says: the SDM
// allows this (4.10.4.2: software must invalidate after changing an entry
// that references another paging structure). Each invalidation below is
// checked for whether it removes the entry.
class StaleEntryTest : public CpuPscTest {
 protected:
  static constexpr VirtAddr kA = kVa;
  static constexpr VirtAddr kB = kVa + 7 * kPageSize;
  static constexpr uint64_t kSecret = 0x5ec2e7;

  void SetUp() override {
    ASSERT_TRUE(cpu_.WriteCr4(cpu_.cr4() | Cpu::kCr4Pcide | Cpu::kCr4Pge).ok());
    cr3_ = tables_.cr3() | kPcid;
    ASSERT_TRUE(cpu_.WriteCr3(cr3_).ok());
    tables_.Map(kA, Frame(0), PageSize::k4K, kUrw);
    uint64_t v;
    ASSERT_TRUE(Load(kA, &v).ok());
    table_ = tables_.Entry(kA, 2).addr(46);
    ASSERT_NE(cpu_.psc().Peek(PscLevel::kPde, kA, kPcid), nullptr);
    // Teardown without a flush: PDE cleared, the table frame reused.
    tables_.SetEntry(kA, 2, E(0));
    std::vector<uint8_t> zero(kPageSize, 0);
    mem_.Write(table_, zero.data(), kPageSize);
    mem_.WriteU64(table_ + 8 * 7, E::Page4K(Frame(5), kUrw).raw());  // "PTE" for B
    mem_.WriteU64(Frame(5), kSecret);
  }
  // True iff a load of B reads through the stale PDE-cache entry.
  bool ReadsThroughStaleEntry() {
    uint64_t v = 0;
    const Fault f = Load(kB, &v);
    if (f.ok()) {
      EXPECT_EQ(v, kSecret);
      return true;
    }
    EXPECT_TRUE(f.page_fault());
    EXPECT_EQ(f.error_code, kPfErrUser) << "not present, at the cleared PDE";
    return false;
  }

  static constexpr uint16_t kPcid = 5;
  uint64_t cr3_ = 0;
  PhysAddr table_;
};

TEST_F(StaleEntryTest, WithoutInvalidationTheWalkUsesTheFreedTable) {
  EXPECT_TRUE(ReadsThroughStaleEntry());
  EXPECT_EQ(steps_.levels.back(), 1);  // the only read: the "PTE" in the reused frame
}

TEST_F(StaleEntryTest, InvlpgOfAnyAddressDropsThePcidsEntries) {
  cpu_.Invlpg(VirtAddr(0x1234000));  // far from the region
  EXPECT_FALSE(ReadsThroughStaleEntry());
}

TEST_F(StaleEntryTest, Cr3WriteFlushesUnlessNoFlush) {
  ASSERT_TRUE(cpu_.WriteCr3(cr3_ | Cpu::kCr3NoFlush).ok());
  EXPECT_NE(cpu_.psc().Peek(PscLevel::kPde, kA, kPcid), nullptr);
  ASSERT_TRUE(cpu_.WriteCr3(cr3_).ok());
  EXPECT_FALSE(ReadsThroughStaleEntry());
}

TEST_F(StaleEntryTest, Cr3WriteOfAnotherPcidKeepsThisOnes) {
  ASSERT_TRUE(cpu_.WriteCr3(tables_.cr3() | 6).ok());  // flushes PCID 6 only
  ASSERT_TRUE(cpu_.WriteCr3(cr3_ | Cpu::kCr3NoFlush).ok());
  EXPECT_TRUE(ReadsThroughStaleEntry());
}

TEST_F(StaleEntryTest, InvpcidType0DropsOnlyEntriesForItsAddress) {
  ASSERT_TRUE(cpu_.Invpcid(0, kPcid, kA + k2M).ok());  // next region: PML4E, PDPTE go
  EXPECT_NE(cpu_.psc().Peek(PscLevel::kPde, kA, kPcid), nullptr);
  ASSERT_TRUE(cpu_.Invpcid(0, kPcid + 1, kA).ok());  // other PCID
  EXPECT_NE(cpu_.psc().Peek(PscLevel::kPde, kA, kPcid), nullptr);
  // (No load of B here: it would put B's stale translation in the TLB.)
  ASSERT_TRUE(cpu_.Invpcid(0, kPcid, kA + 3 * kPageSize).ok());  // same region
  EXPECT_FALSE(ReadsThroughStaleEntry());
}

TEST_F(StaleEntryTest, InvpcidType1IsPerPcid) {
  ASSERT_TRUE(cpu_.Invpcid(1, kPcid + 1, VirtAddr(0)).ok());
  EXPECT_NE(cpu_.psc().Peek(PscLevel::kPde, kA, kPcid), nullptr);
  ASSERT_TRUE(cpu_.Invpcid(1, kPcid, VirtAddr(0)).ok());
  EXPECT_FALSE(ReadsThroughStaleEntry());
}

TEST_F(StaleEntryTest, InvpcidTypes2And3DropEverything) {
  for (int type : {2, 3}) {
    SCOPED_TRACE(type);
    uint64_t v;
    tables_.Map(kVa + k1G, Frame(3), PageSize::k4K, kUrw);
    ASSERT_TRUE(Load(kVa + k1G, &v).ok());
    ASSERT_GT(cpu_.psc().CountValid(PscLevel::kPde), 0u);
    ASSERT_TRUE(cpu_.Invpcid(type, 0, VirtAddr(0)).ok());
    for (PscLevel l : {PscLevel::kPml4e, PscLevel::kPdpte, PscLevel::kPde}) {
      EXPECT_EQ(cpu_.psc().CountValid(l), 0u);
    }
  }
  EXPECT_FALSE(ReadsThroughStaleEntry());
}

TEST_F(StaleEntryTest, Cr4PgeToggleDropsEverything) {
  ASSERT_TRUE(cpu_.WriteCr4(cpu_.cr4() & ~Cpu::kCr4Pge).ok());
  EXPECT_FALSE(ReadsThroughStaleEntry());
}

TEST_F(StaleEntryTest, Cr4PcideOffDropsEverythingButPcideOnDoesNot) {
  ASSERT_TRUE(cpu_.WriteCr4(cpu_.cr4() | Cpu::kCr4Smap).ok());  // no flush
  EXPECT_NE(cpu_.psc().Peek(PscLevel::kPde, kA, kPcid), nullptr);
  ASSERT_TRUE(cpu_.WriteCr3(tables_.cr3() | Cpu::kCr3NoFlush).ok());  // PCID 0
  ASSERT_TRUE(cpu_.WriteCr4(cpu_.cr4() & ~Cpu::kCr4Pcide).ok());
  EXPECT_EQ(cpu_.psc().CountValid(PscLevel::kPde), 0u);
}

TEST_F(StaleEntryTest, AFaultElsewhereKeepsTheEntry) {
  uint64_t v;
  EXPECT_TRUE(Load(kVa + k1G, &v).page_fault());  // nothing mapped there
  EXPECT_TRUE(ReadsThroughStaleEntry());
}

}  // namespace
}  // namespace hw
