// hw/walker_test.cc: walks over hand-built tables (4K, 2M, 1G leaves),
// not-present and reserved-bit faults, A/D updates, and the observer.
//
// The tables are written entry by entry at addresses computed by hand, so the
// test does not share index arithmetic with the walker. The linear address
// used throughout is
//   va = 0x0000'7f12'3456'7abc: PML4 index 0xfe, PDPT 0x48, PD 0x1a2,
//                               PT 0x167, offset 0xabc.
// Tables: PML4 in frame 1, PDPT frame 2, PD frame 3, PT frame 4, data frame
// 0xa, so the entries used sit at 0x17f0, 0x2240, 0x3d10 and 0x4b38.
#include "hw/walker.h"

#include <vector>

#include "gtest/gtest.h"
#include "hw/access.h"
#include "hw/access_rights.h"
#include "hw/addr.h"
#include "hw/observer.h"
#include "hw/paging_entry.h"
#include "hw/phys_mem.h"

namespace hw {
namespace {

using E = PagingEntry;

constexpr VirtAddr kVa(0x0000'7f12'3456'7abcull);
constexpr uint64_t kCr3 = 0x1000;
constexpr PhysAddr kPml4e(0x17f0);
constexpr PhysAddr kPdpte(0x2240);
constexpr PhysAddr kPde(0x3d10);
constexpr PhysAddr kPte(0x4b38);
constexpr uint64_t kUrw = E::kP | E::kRW | E::kUS;

struct Step {
  int level;
  PhysAddr addr;
  uint64_t entry;
};

class RecordingObserver : public HwObserver {
 public:
  void OnWalkStep(int cpu, int level, PhysAddr entry_addr,
                  uint64_t entry) override {
    steps.push_back({level, entry_addr, entry});
    last_cpu = cpu;
  }
  std::vector<Step> steps;
  int last_cpu = -1;
};

class WalkerTest : public ::testing::Test {
 protected:
  WalkerTest() : mem_(8 << 20) {}

  // PML4E -> PDPT -> PD -> PT -> frame 0xa, all present, user, writable.
  void Build4K() {
    mem_.WriteU64(kPml4e, 0x2000 | kUrw);
    mem_.WriteU64(kPdpte, 0x3000 | kUrw);
    mem_.WriteU64(kPde, 0x4000 | kUrw);
    mem_.WriteU64(kPte, 0xa000 | kUrw);
  }
  uint64_t At(PhysAddr pa) const { return mem_.ReadU64(pa); }

  PhysMem mem_;
  PagingMode mode_{.nxe = true};
};

TEST_F(WalkerTest, FourKWalkFindsTheFrameAndSetsAccessedBits) {
  Build4K();
  RecordingObserver obs;
  const WalkResult r = Walk(mem_, kCr3, kVa, AccessType::kRead, mode_, &obs, 7);
  ASSERT_TRUE(r.ok()) << r.fault;
  EXPECT_EQ(r.frame, PhysAddr(0xa000));
  EXPECT_EQ(r.PhysFor(kVa), PhysAddr(0xaabc));
  EXPECT_EQ(r.size, PageSize::k4K);
  EXPECT_TRUE(r.writable && r.user);
  EXPECT_FALSE(r.nx || r.global || r.dirty);
  EXPECT_EQ(r.leaf_level, 1);
  EXPECT_EQ(r.leaf_entry_addr, kPte);
  // SDM 4.8: A in every entry used; D untouched by a read.
  EXPECT_EQ(At(kPml4e), 0x2000 | kUrw | E::kA);
  EXPECT_EQ(At(kPdpte), 0x3000 | kUrw | E::kA);
  EXPECT_EQ(At(kPde), 0x4000 | kUrw | E::kA);
  EXPECT_EQ(At(kPte), 0xa000 | kUrw | E::kA);
  // The observer saw the four entries as read (before A was set).
  ASSERT_EQ(obs.steps.size(), 4u);
  EXPECT_EQ(obs.last_cpu, 7);
  const Step want[] = {{4, kPml4e, 0x2000 | kUrw},
                       {3, kPdpte, 0x3000 | kUrw},
                       {2, kPde, 0x4000 | kUrw},
                       {1, kPte, 0xa000 | kUrw}};
  for (int i = 0; i < 4; ++i) {
    EXPECT_EQ(obs.steps[i].level, want[i].level);
    EXPECT_EQ(obs.steps[i].addr, want[i].addr);
    EXPECT_EQ(obs.steps[i].entry, want[i].entry);
  }
}

TEST_F(WalkerTest, WriteSetsDirtyOnlyInTheLeaf) {
  Build4K();
  const WalkResult r = Walk(mem_, kCr3, kVa, AccessType::kWrite, mode_, nullptr);
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r.dirty);
  EXPECT_EQ(At(kPml4e), 0x2000 | kUrw | E::kA);
  EXPECT_EQ(At(kPdpte), 0x3000 | kUrw | E::kA);
  EXPECT_EQ(At(kPde), 0x4000 | kUrw | E::kA);
  EXPECT_EQ(At(kPte), 0xa000 | kUrw | E::kA | E::kD);
}

TEST_F(WalkerTest, TwoMegLeafInThePde) {
  mem_.WriteU64(kPml4e, 0x2000 | kUrw);
  mem_.WriteU64(kPdpte, 0x3000 | kUrw);
  // 2 MiB page at 0x20'0000, PAT set (bit 12), global.
  mem_.WriteU64(kPde, 0x20'0000 | E::kPATLarge | E::kPS | E::kG | kUrw);
  const WalkResult r = Walk(mem_, kCr3, kVa, AccessType::kWrite, mode_, nullptr);
  ASSERT_TRUE(r.ok()) << r.fault;
  EXPECT_EQ(r.size, PageSize::k2M);
  EXPECT_EQ(r.frame, PhysAddr(0x20'0000));
  EXPECT_EQ(r.PhysFor(kVa), PhysAddr(0x36'7abc));  // + (va & 0x1f'ffff)
  EXPECT_TRUE(r.global);
  EXPECT_EQ(r.leaf_level, 2);
  EXPECT_EQ(At(kPde),
            0x20'0000 | E::kPATLarge | E::kPS | E::kG | kUrw | E::kA | E::kD);
  EXPECT_EQ(At(kPdpte), 0x3000 | kUrw | E::kA);
  EXPECT_EQ(At(kPte), 0u);  // never looked at
}

TEST_F(WalkerTest, OneGigLeafInThePdpte) {
  mem_.WriteU64(kPml4e, 0x2000 | kUrw);
  mem_.WriteU64(kPdpte, 0x4000'0000 | E::kPS | kUrw);
  const WalkResult r = Walk(mem_, kCr3, kVa, AccessType::kRead, mode_, nullptr);
  ASSERT_TRUE(r.ok()) << r.fault;
  EXPECT_EQ(r.size, PageSize::k1G);
  EXPECT_EQ(r.frame, PhysAddr(0x4000'0000));
  EXPECT_EQ(r.PhysFor(kVa), PhysAddr(0x7456'7abc));  // + (va & 0x3fff'ffff)
  EXPECT_EQ(r.leaf_level, 3);
  EXPECT_EQ(At(kPdpte), 0x4000'0000 | E::kPS | kUrw | E::kA);
}

TEST_F(WalkerTest, Cr3LowBitsAndPcidAreIgnoredForTheTableAddress) {
  Build4K();
  const uint64_t cr3 = kCr3 | 0x18 /* PWT|PCD */ | 0x5 /* or a PCID */;
  EXPECT_TRUE(Walk(mem_, cr3, kVa, AccessType::kRead, mode_, nullptr).ok());
}

TEST_F(WalkerTest, NonCanonicalIsGeneralProtectionWithoutReadingTables) {
  Build4K();
  RecordingObserver obs;
  const WalkResult r = Walk(mem_, kCr3, VirtAddr(0x0000'8000'0000'0000ull),
                            AccessType::kRead, mode_, &obs);
  EXPECT_EQ(r.fault.kind, Fault::Kind::kGeneralProtection);
  EXPECT_TRUE(obs.steps.empty());
}

TEST_F(WalkerTest, NotPresentAtEachLevel) {
  const PhysAddr entries[] = {kPml4e, kPdpte, kPde, kPte};
  for (int level = 4; level >= 1; --level) {
    Build4K();
    const PhysAddr victim = entries[4 - level];
    // Not present, but with other bits set: they must be ignored (no RSVD).
    mem_.WriteU64(victim, ~(E::kP | E::kA));
    for (AccessType t :
         {AccessType::kRead, AccessType::kWrite, AccessType::kFetch}) {
      PagingMode m = mode_;
      m.user = true;
      const WalkResult r = Walk(mem_, kCr3, kVa, t, m, nullptr);
      ASSERT_TRUE(r.fault.page_fault()) << "level " << level;
      EXPECT_EQ(r.fault.cr2, kVa.value());
      const uint32_t want = kPfErrUser |
                            (t == AccessType::kWrite ? kPfErrWrite : 0) |
                            (t == AccessType::kFetch ? kPfErrFetch : 0);
      EXPECT_EQ(r.fault.error_code, want)
          << "level " << level << " " << t << ": "
          << PfErrorCodeToString(r.fault.error_code);
      EXPECT_EQ(r.leaf_level, level);
      EXPECT_EQ(r.leaf_entry_addr, victim);
    }
    // No A bit was set anywhere on a failed walk.
    for (PhysAddr pa : entries) EXPECT_EQ(At(pa) & E::kA, 0u);
  }
}

// Each case sets `bits` in the entry at `level` of a valid 4K/2M/1G path and
// expects #PF with P|RSVD.
struct RsvdCase {
  const char* name;
  int level;
  uint64_t bits;
  int leaf;  // 1 = 4K path, 2 = 2M leaf in the PDE, 3 = 1G leaf in the PDPTE
};

TEST_F(WalkerTest, ReservedBitsFaultWithRsvd) {
  const RsvdCase cases[] = {
      {"PML4E PS", 4, E::kPS, 1},
      {"PML4E bit 46 (= MAXPHYADDR)", 4, 1ull << 46, 1},
      {"PML4E bit 51", 4, 1ull << 51, 1},
      {"PDPTE bit 47", 3, 1ull << 47, 1},
      {"PDE bit 50", 2, 1ull << 50, 1},
      {"PTE bit 46", 1, 1ull << 46, 1},
      {"1G leaf bit 13", 3, 1ull << 13, 3},
      {"1G leaf bit 29", 3, 1ull << 29, 3},
      {"1G leaf bit 46", 3, 1ull << 46, 3},
      {"2M leaf bit 13", 2, 1ull << 13, 2},
      {"2M leaf bit 20", 2, 1ull << 20, 2},
      {"2M leaf bit 51", 2, 1ull << 51, 2},
  };
  for (const RsvdCase& c : cases) {
    mem_.WriteU64(kPml4e, 0x2000 | kUrw);
    mem_.WriteU64(kPdpte, c.leaf == 3 ? (0x4000'0000 | E::kPS | kUrw)
                                      : (0x3000 | kUrw));
    mem_.WriteU64(kPde, c.leaf == 2 ? (0x20'0000 | E::kPS | kUrw)
                                    : (0x4000 | kUrw));
    mem_.WriteU64(kPte, 0xa000 | kUrw);
    const PhysAddr at[] = {kPte, kPde, kPdpte, kPml4e};
    const PhysAddr victim = at[c.level - 1];
    mem_.WriteU64(victim, At(victim) | c.bits);
    PagingMode m = mode_;  // MAXPHYADDR 46, NXE on
    const WalkResult r = Walk(mem_, kCr3, kVa, AccessType::kWrite, m, nullptr);
    ASSERT_TRUE(r.fault.page_fault()) << c.name;
    EXPECT_EQ(r.fault.error_code, kPfErrPresent | kPfErrRsvd | kPfErrWrite)
        << c.name;
    EXPECT_EQ(r.leaf_level, c.level) << c.name;
    EXPECT_EQ(At(kPml4e) & E::kA, 0u) << c.name;
  }
}

TEST_F(WalkerTest, NonReservedLookalikesDoNotFault) {
  // Bit 13 of a 4K PTE is address, bit 7 of a PTE is PAT, bits 52..62 and
  // 11..9 are ignored, bit 45 is below MAXPHYADDR = 46.
  Build4K();
  mem_.WriteU64(kPte, At(kPte) | (1ull << 13) | E::kPAT | (0x7ffull << 52) |
                          (0x7ull << 9));
  mem_.WriteU64(kPde, At(kPde) | (0x7ffull << 52));
  const WalkResult r = Walk(mem_, kCr3, kVa, AccessType::kRead, mode_, nullptr);
  ASSERT_TRUE(r.ok()) << r.fault;
  EXPECT_EQ(r.frame, PhysAddr(0xa000 | (1ull << 13)));
  // With MAXPHYADDR = 52 the bit-46 address is legal.
  Build4K();
  mem_.WriteU64(kPte, (1ull << 46) | kUrw);
  PagingMode wide = mode_;
  wide.maxphyaddr = 52;
  const WalkResult w = Walk(mem_, kCr3, kVa, AccessType::kRead, wide, nullptr);
  ASSERT_TRUE(w.ok()) << w.fault;
  EXPECT_EQ(w.frame, PhysAddr(1ull << 46));
}

TEST_F(WalkerTest, XdIsReservedWhenNxeIsClear) {
  for (PhysAddr victim : {kPml4e, kPdpte, kPde, kPte}) {
    Build4K();
    mem_.WriteU64(victim, At(victim) | E::kXD);
    PagingMode m = mode_;
    m.nxe = false;
    const WalkResult r = Walk(mem_, kCr3, kVa, AccessType::kRead, m, nullptr);
    ASSERT_TRUE(r.fault.page_fault());
    EXPECT_EQ(r.fault.error_code, kPfErrPresent | kPfErrRsvd);
    // With NXE = 1 the same tables translate, and nx is reported.
    Build4K();
    mem_.WriteU64(victim, At(victim) | E::kXD);
    const WalkResult ok = Walk(mem_, kCr3, kVa, AccessType::kRead, mode_, nullptr);
    ASSERT_TRUE(ok.ok());
    EXPECT_TRUE(ok.nx);
  }
}

TEST_F(WalkerTest, RightsAreCombinedAcrossLevels) {
  Build4K();
  // Read-only in the PDPTE only: user writes fault with P|W|U.
  mem_.WriteU64(kPdpte, At(kPdpte) & ~E::kRW);
  PagingMode user = mode_;
  user.user = true;
  WalkResult r = Walk(mem_, kCr3, kVa, AccessType::kWrite, user, nullptr);
  ASSERT_TRUE(r.fault.page_fault());
  EXPECT_EQ(r.fault.error_code, kPfErrPresent | kPfErrWrite | kPfErrUser);
  EXPECT_EQ(r.leaf_level, 1);  // the check happens at the leaf
  // A failed access leaves A and D alone.
  EXPECT_EQ(At(kPml4e) & E::kA, 0u);
  EXPECT_EQ(At(kPte) & (E::kA | E::kD), 0u);
  // Supervisor page in the PML4E only: user reads fault, result not user.
  Build4K();
  mem_.WriteU64(kPml4e, At(kPml4e) & ~E::kUS);
  r = Walk(mem_, kCr3, kVa, AccessType::kRead, user, nullptr);
  EXPECT_EQ(r.fault.error_code, kPfErrPresent | kPfErrUser);
  r = Walk(mem_, kCr3, kVa, AccessType::kRead, mode_, nullptr);
  ASSERT_TRUE(r.ok());
  EXPECT_FALSE(r.user);
  EXPECT_TRUE(r.writable);
}

TEST_F(WalkerTest, TableOutsideMemoryReadsAsAllOnes) {
  Build4K();
  // The PDPTE points at a page directory far beyond the 8 MiB of memory.
  mem_.WriteU64(kPdpte, (1ull << 40) | kUrw);
  RecordingObserver obs;
  const WalkResult r = Walk(mem_, kCr3, kVa, AccessType::kRead, mode_, &obs);
  ASSERT_TRUE(r.fault.page_fault());
  EXPECT_EQ(r.fault.error_code, kPfErrPresent | kPfErrRsvd);
  ASSERT_EQ(obs.steps.size(), 3u);
  EXPECT_EQ(obs.steps[2].entry, ~0ull);
}

TEST_F(WalkerTest, PeekWalkHasNoSideEffects) {
  Build4K();
  const WalkResult p =
      PeekWalk(mem_, kCr3, kVa, AccessType::kWrite, mode_);
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(p.PhysFor(kVa), PhysAddr(0xaabc));
  EXPECT_FALSE(p.dirty);
  EXPECT_EQ(At(kPml4e), 0x2000 | kUrw);
  EXPECT_EQ(At(kPte), 0xa000 | kUrw);
}

// The protection key is bits 62:59 of the LEAF, at whichever level the walk
// ends (SDM 4.6.2); key bits in table pointers are ignored.
TEST_F(WalkerTest, ProtectionKeyComesFromTheLeafAtEachLevel) {
  PagingMode mode = mode_;
  mode.pke = true;
  mode.user = true;
  // 4 KiB: key 5 in the PTE; other keys in the tables above are ignored.
  mem_.WriteU64(kPml4e, 0x2000 | kUrw | E::PkeyFlags(9));
  mem_.WriteU64(kPdpte, 0x3000 | kUrw | E::PkeyFlags(10));
  mem_.WriteU64(kPde, 0x4000 | kUrw | E::PkeyFlags(11));
  mem_.WriteU64(kPte, 0xa000 | kUrw | E::PkeyFlags(5));
  WalkResult r = Walk(mem_, kCr3, kVa, AccessType::kRead, mode, nullptr);
  ASSERT_TRUE(r.ok()) << r.fault;
  EXPECT_EQ(r.pkey, 5);
  EXPECT_EQ(r.frame, PhysAddr(0xa000));  // key bits are not address bits
  // 2 MiB leaf in the PDE.
  mem_.WriteU64(kPde, 0x20'0000 | E::kPS | kUrw | E::PkeyFlags(7));
  r = Walk(mem_, kCr3, kVa, AccessType::kRead, mode, nullptr);
  ASSERT_TRUE(r.ok()) << r.fault;
  EXPECT_EQ(r.size, PageSize::k2M);
  EXPECT_EQ(r.pkey, 7);
  EXPECT_EQ(r.frame, PhysAddr(0x20'0000));
  // 1 GiB leaf in the PDPTE.
  mem_.WriteU64(kPdpte, 0x4000'0000 | E::kPS | kUrw | E::PkeyFlags(15));
  r = Walk(mem_, kCr3, kVa, AccessType::kRead, mode, nullptr);
  ASSERT_TRUE(r.ok()) << r.fault;
  EXPECT_EQ(r.size, PageSize::k1G);
  EXPECT_EQ(r.pkey, 15);
  EXPECT_EQ(r.frame, PhysAddr(0x4000'0000));

  // The check uses that leaf's key at each level.
  const struct {
    PhysAddr leaf;
    uint64_t value;
    int key;
  } leaves[] = {
      {kPte, 0xa000 | kUrw | E::PkeyFlags(5), 5},
      {kPde, 0x20'0000 | E::kPS | kUrw | E::PkeyFlags(7), 7},
      {kPdpte, 0x4000'0000 | E::kPS | kUrw | E::PkeyFlags(15), 15},
  };
  for (const auto& l : leaves) {
    mem_.WriteU64(kPml4e, 0x2000 | kUrw);
    mem_.WriteU64(kPdpte, 0x3000 | kUrw);
    mem_.WriteU64(kPde, 0x4000 | kUrw);
    mem_.WriteU64(l.leaf, l.value);
    mode.pkru = kPkruAd << (2 * l.key);
    r = Walk(mem_, kCr3, kVa, AccessType::kRead, mode, nullptr);
    EXPECT_EQ(r.fault, Fault::PageFault(kVa.value(),
                                        kPfErrPresent | kPfErrUser | kPfErrPk))
        << "key " << l.key;
    // Any other key's AD leaves the access alone.
    mode.pkru = ~(uint32_t{3} << (2 * l.key));
    r = Walk(mem_, kCr3, kVa, AccessType::kWrite, mode, nullptr);
    EXPECT_TRUE(r.ok()) << "key " << l.key << ": " << r.fault;
  }
}

TEST_F(WalkerTest, ProtectionKeyFaultSetsPkAndNoAccessedBits) {
  Build4K();
  mem_.WriteU64(kPte, 0xa000 | kUrw | E::PkeyFlags(1));
  PagingMode mode = mode_;
  mode.user = true;
  mode.pke = true;
  mode.pkru = kPkruWd << 2;  // key 1: WD
  EXPECT_TRUE(Walk(mem_, kCr3, kVa, AccessType::kRead, mode, nullptr).ok());
  mem_.WriteU64(kPte, 0xa000 | kUrw | E::PkeyFlags(1));  // A cleared again
  const WalkResult w = Walk(mem_, kCr3, kVa, AccessType::kWrite, mode, nullptr);
  EXPECT_EQ(w.fault, Fault::PageFault(kVa.value(), kPfErrPresent | kPfErrWrite |
                                                       kPfErrUser | kPfErrPk));
  EXPECT_EQ(w.leaf_level, 1);
  EXPECT_EQ(At(kPte), 0xa000 | kUrw | E::PkeyFlags(1));  // no A, no D
  // Fetches are never checked against PKRU.
  mode.pkru = 0xffff'ffff;
  EXPECT_TRUE(Walk(mem_, kCr3, kVa, AccessType::kFetch, mode, nullptr).ok());
  // A read-only page and WD: both deny, PK is still reported.
  mem_.WriteU64(kPte, 0xa000 | E::kP | E::kUS | E::PkeyFlags(1));
  mode.pkru = kPkruWd << 2;
  EXPECT_EQ(Walk(mem_, kCr3, kVa, AccessType::kWrite, mode, nullptr).fault.error_code,
            kPfErrPresent | kPfErrWrite | kPfErrUser | kPfErrPk);
  // A supervisor-mode address is never checked: a user-mode read gets the
  // ordinary U/S fault, without PK, and a supervisor write is allowed.
  mem_.WriteU64(kPte, 0xa000 | E::kP | E::kRW | E::PkeyFlags(1));
  mode.pkru = 0xffff'ffff;
  EXPECT_EQ(Walk(mem_, kCr3, kVa, AccessType::kRead, mode, nullptr).fault.error_code,
            kPfErrPresent | kPfErrUser);
  mode.user = false;
  EXPECT_TRUE(Walk(mem_, kCr3, kVa, AccessType::kWrite, mode, nullptr).ok());
}

TEST_F(WalkerTest, KeyBitsAreIgnoredNotReservedWithoutPke) {
  Build4K();
  mem_.WriteU64(kPte, 0xa000 | kUrw | E::kPkeyMask);  // key 15
  PagingMode mode = mode_;
  mode.user = true;
  mode.pkru = 0xffff'ffff;  // pke = false: not looked at
  const WalkResult r = Walk(mem_, kCr3, kVa, AccessType::kWrite, mode, nullptr);
  ASSERT_TRUE(r.ok()) << r.fault;
  EXPECT_EQ(r.frame, PhysAddr(0xa000));
  EXPECT_EQ(r.pkey, 15);  // reported as the leaf holds it
}

}  // namespace
}  // namespace hw
