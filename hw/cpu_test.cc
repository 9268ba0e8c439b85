// hw/cpu_test.cc: registers, TLB behaviour seen through the CPU (stale
// entries, PCID, global pages, INVLPG/INVPCID), D-bit re-walks, cross-page
// accesses, uaccess-style copies, faults and observer events.
#include "hw/cpu.h"

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

#include "gtest/gtest.h"
#include "hw/access.h"
#include "hw/addr.h"
#include "hw/observer.h"
#include "hw/page_table_builder.h"
#include "hw/paging_entry.h"
#include "hw/phys_mem.h"
#include "hw/tlb.h"
#include "hw/tlb_entry.h"
#include "hw/tlb_profile.h"
#include "hw/walker.h"

namespace hw {
namespace {

using E = PagingEntry;

constexpr uint64_t kUrw = E::kRW | E::kUS;
constexpr VirtAddr kUserVa(0x0000'0040'0000'0000ull);
constexpr VirtAddr kKernVa(0xffff'8880'0000'0000ull);

class CpuTest : public ::testing::Test {
 protected:
  CpuTest()
      : mem_(64 << 20), tables_(&mem_, Pfn(1)), cpu_(0, &mem_, DefaultTlbProfile()) {
    EXPECT_TRUE(cpu_.WriteCr3(tables_.cr3()).ok());
  }

  // Data frames come from the top of memory, away from the page tables.
  PhysAddr Frame(uint64_t i) const {
    return PhysAddr::FromPfn(Pfn(mem_.num_frames() - 1 - i));
  }
  uint64_t Read64(VirtAddr va) {
    uint64_t v = 0;
    const Fault f = cpu_.Load(va, &v, sizeof(v));
    EXPECT_TRUE(f.ok()) << f;
    return v;
  }
  uint64_t Phys64(PhysAddr pa) const { return mem_.ReadU64(pa); }

  PhysMem mem_;
  PageTableBuilder tables_;
  Cpu cpu_;
};

TEST_F(CpuTest, ResetStateIsLongModeWithFeaturesOff) {
  Cpu cpu(3, &mem_, DefaultTlbProfile());
  EXPECT_EQ(cpu.id(), 3);
  EXPECT_EQ(cpu.cr0(), Cpu::kCr0Pe | Cpu::kCr0Pg);
  EXPECT_EQ(cpu.cr4(), Cpu::kCr4Pae);
  EXPECT_EQ(cpu.efer(), Cpu::kEferLme | Cpu::kEferLma);
  EXPECT_EQ(cpu.cpl(), 0);
  EXPECT_FALSE(cpu.ac());
  EXPECT_EQ(cpu.pcid(), 0);
  EXPECT_EQ(&cpu.mem(), &mem_);
  EXPECT_EQ(cpu.paging_mode().maxphyaddr, 46);
}

TEST_F(CpuTest, ControlRegisterBitsAreTheSdmOnes) {
  EXPECT_EQ(Cpu::kCr0Wp, 0x10000u);
  EXPECT_EQ(Cpu::kCr0Pg, 0x80000000u);
  EXPECT_EQ(Cpu::kCr4Pge, 0x80u);
  EXPECT_EQ(Cpu::kCr4Pcide, 0x20000u);
  EXPECT_EQ(Cpu::kCr4Smep, 0x100000u);
  EXPECT_EQ(Cpu::kCr4Smap, 0x200000u);
  EXPECT_EQ(Cpu::kEferNxe, 0x800u);
  EXPECT_EQ(Cpu::kCr3NoFlush, 0x8000'0000'0000'0000ull);
}

TEST_F(CpuTest, IllegalRegisterWritesAreGeneralProtection) {
  const uint64_t cr0 = cpu_.cr0(), cr3 = cpu_.cr3(), cr4 = cpu_.cr4();
  EXPECT_EQ(cpu_.WriteCr0(cr0 & ~Cpu::kCr0Pg).kind,
            Fault::Kind::kGeneralProtection);
  EXPECT_EQ(cpu_.WriteCr0(cr0 | (1ull << 32)).kind,
            Fault::Kind::kGeneralProtection);
  EXPECT_EQ(cpu_.WriteCr4(cr4 & ~Cpu::kCr4Pae).kind,
            Fault::Kind::kGeneralProtection);
  EXPECT_EQ(cpu_.WriteCr3(cr3 | (1ull << 46)).kind,  // above MAXPHYADDR
            Fault::Kind::kGeneralProtection);
  EXPECT_EQ(cpu_.WriteCr3(cr3 | Cpu::kCr3NoFlush).kind,  // PCIDE = 0
            Fault::Kind::kGeneralProtection);
  EXPECT_EQ(cpu_.WriteEfer(0).kind, Fault::Kind::kGeneralProtection);
  // PCIDE cannot be set while CR3[11:0] != 0.
  ASSERT_TRUE(cpu_.WriteCr3(cr3 | 0x5).ok());
  EXPECT_EQ(cpu_.WriteCr4(cr4 | Cpu::kCr4Pcide).kind,
            Fault::Kind::kGeneralProtection);
  // Nothing changed.
  EXPECT_EQ(cpu_.cr0(), cr0);
  EXPECT_EQ(cpu_.cr3(), cr3 | 0x5);
  EXPECT_EQ(cpu_.cr4(), cr4);
  // LMA is read-only.
  ASSERT_TRUE(cpu_.WriteEfer(Cpu::kEferLme | Cpu::kEferNxe).ok());
  EXPECT_EQ(cpu_.efer(), Cpu::kEferLme | Cpu::kEferLma | Cpu::kEferNxe);
  EXPECT_TRUE(cpu_.paging_mode().nxe);
}

TEST_F(CpuTest, PcidIsCr3LowBitsOnlyWithPcide) {
  ASSERT_TRUE(cpu_.WriteCr3(tables_.cr3() | 0x18).ok());  // PWT|PCD
  EXPECT_EQ(cpu_.pcid(), 0);
  ASSERT_TRUE(cpu_.WriteCr3(tables_.cr3()).ok());
  ASSERT_TRUE(cpu_.WriteCr4(cpu_.cr4() | Cpu::kCr4Pcide).ok());
  ASSERT_TRUE(cpu_.WriteCr3(tables_.cr3() | 0x123 | Cpu::kCr3NoFlush).ok());
  EXPECT_EQ(cpu_.pcid(), 0x123);
  EXPECT_EQ(cpu_.cr3(), tables_.cr3() | 0x123);  // bit 63 not stored
}

TEST_F(CpuTest, LoadStoreRoundTripThroughTheTlb) {
  tables_.Map(kUserVa, Frame(0), PageSize::k4K, kUrw);
  const uint64_t v = 0x1122334455667788;
  ASSERT_TRUE(cpu_.Store(kUserVa + 0x10, &v, sizeof(v)).ok());
  EXPECT_EQ(Phys64(Frame(0) + 0x10), v);
  EXPECT_EQ(Read64(kUserVa + 0x10), v);
  const TlbCounters& l1 = cpu_.tlb().counters(0);
  EXPECT_EQ(l1.misses, 1u);
  EXPECT_EQ(l1.hits, 1u);
  EXPECT_EQ(cpu_.tlb().counters(1).walks, 1u);
  const Cpu::Translation t = cpu_.Translate(kUserVa + 0x123, AccessType::kRead);
  ASSERT_TRUE(t.fault.ok());
  EXPECT_EQ(t.pa, Frame(0) + 0x123);
  EXPECT_EQ(t.size, PageSize::k4K);
}

TEST_F(CpuTest, StaleEntryIsUsedUntilInvlpg) {
  tables_.Map(kUserVa, Frame(0), PageSize::k4K, kUrw);
  mem_.WriteU64(Frame(0), 0xAAAA);
  mem_.WriteU64(Frame(1), 0xBBBB);
  EXPECT_EQ(Read64(kUserVa), 0xAAAAu);
  // Repoint the PTE without telling the TLB.
  tables_.SetEntry(kUserVa, 1, E::Page4K(Frame(1), kUrw));
  EXPECT_EQ(Read64(kUserVa), 0xAAAAu);  // stale, as on hardware
  cpu_.Invlpg(kUserVa + 0x800);         // any address in the page
  EXPECT_EQ(Read64(kUserVa), 0xBBBBu);
}

TEST_F(CpuTest, StaleEntryIsUsedUntilCr3Write) {
  tables_.Map(kUserVa, Frame(0), PageSize::k4K, kUrw);
  mem_.WriteU64(Frame(0), 1);
  mem_.WriteU64(Frame(1), 2);
  EXPECT_EQ(Read64(kUserVa), 1u);
  tables_.SetEntry(kUserVa, 1, E::Page4K(Frame(1), kUrw));
  EXPECT_EQ(Read64(kUserVa), 1u);
  ASSERT_TRUE(cpu_.WriteCr3(cpu_.cr3()).ok());  // reload: flushes non-global
  EXPECT_EQ(Read64(kUserVa), 2u);
}

TEST_F(CpuTest, RemovedMappingStillTranslatesUntilFlushed) {
  tables_.Map(kUserVa, Frame(0), PageSize::k4K, kUrw);
  mem_.WriteU64(Frame(0), 7);
  EXPECT_EQ(Read64(kUserVa), 7u);
  tables_.SetEntry(kUserVa, 1, E(0));  // unmap, no flush
  EXPECT_EQ(Read64(kUserVa), 7u);
  cpu_.Invlpg(kUserVa);
  uint64_t v;
  const Fault f = cpu_.Load(kUserVa, &v, sizeof(v));
  EXPECT_TRUE(f.page_fault());
  EXPECT_EQ(f.error_code, 0u);  // not present, read, supervisor
  EXPECT_EQ(cpu_.cr2(), kUserVa.value());
}

TEST_F(CpuTest, PcidEntriesSurviveASwitchAndComeBack) {
  // Two address spaces: A (tables_) and B, mapping kUserVa to different
  // frames.
  PageTableBuilder b(&mem_, tables_.next_free() + 16);
  tables_.Map(kUserVa, Frame(0), PageSize::k4K, kUrw);
  b.Map(kUserVa, Frame(1), PageSize::k4K, kUrw);
  mem_.WriteU64(Frame(0), 0xA);
  mem_.WriteU64(Frame(1), 0xB);
  mem_.WriteU64(Frame(2), 0xC);
  ASSERT_TRUE(cpu_.WriteCr4(cpu_.cr4() | Cpu::kCr4Pcide).ok());
  ASSERT_TRUE(cpu_.WriteCr3(tables_.cr3() | 1).ok());
  EXPECT_EQ(Read64(kUserVa), 0xAu);
  ASSERT_TRUE(cpu_.WriteCr3(b.cr3() | 2).ok());
  EXPECT_EQ(Read64(kUserVa), 0xBu);
  // Change A's mapping behind the TLB's back, then switch back to PCID 1
  // with NOFLUSH: the old translation is still cached and still used.
  tables_.SetEntry(kUserVa, 1, E::Page4K(Frame(2), kUrw));
  const uint64_t walks = cpu_.tlb().counters(1).walks;
  ASSERT_TRUE(cpu_.WriteCr3(tables_.cr3() | 1 | Cpu::kCr3NoFlush).ok());
  EXPECT_EQ(Read64(kUserVa), 0xAu);
  EXPECT_EQ(cpu_.tlb().counters(1).walks, walks);  // a hit, no walk
  // Without NOFLUSH, PCID 1's entries are dropped on the switch.
  ASSERT_TRUE(cpu_.WriteCr3(b.cr3() | 2 | Cpu::kCr3NoFlush).ok());
  EXPECT_EQ(Read64(kUserVa), 0xBu);
  ASSERT_TRUE(cpu_.WriteCr3(tables_.cr3() | 1).ok());
  EXPECT_EQ(Read64(kUserVa), 0xCu);
}

TEST_F(CpuTest, GlobalEntriesSurviveCr3WritesButNotPgeToggles) {
  ASSERT_TRUE(cpu_.WriteCr4(cpu_.cr4() | Cpu::kCr4Pge).ok());
  tables_.Map(kKernVa, Frame(0), PageSize::k4K, E::kRW | E::kG);
  tables_.Map(kUserVa, Frame(0), PageSize::k4K, kUrw);  // not global
  mem_.WriteU64(Frame(0), 1);
  mem_.WriteU64(Frame(1), 2);
  EXPECT_EQ(Read64(kKernVa), 1u);
  EXPECT_EQ(Read64(kUserVa), 1u);
  tables_.SetEntry(kKernVa, 1, E::Page4K(Frame(1), E::kRW | E::kG));
  tables_.SetEntry(kUserVa, 1, E::Page4K(Frame(1), kUrw));
  ASSERT_TRUE(cpu_.WriteCr3(cpu_.cr3()).ok());
  EXPECT_EQ(Read64(kKernVa), 1u);  // global: survived
  EXPECT_EQ(Read64(kUserVa), 2u);  // non-global: re-walked
  // G without CR4.PGE is not global; toggling PGE flushes globals.
  ASSERT_TRUE(cpu_.WriteCr4(cpu_.cr4() & ~Cpu::kCr4Pge).ok());
  EXPECT_EQ(Read64(kKernVa), 2u);
  tables_.SetEntry(kKernVa, 1, E::Page4K(Frame(0), E::kRW | E::kG));
  ASSERT_TRUE(cpu_.WriteCr3(cpu_.cr3()).ok());
  EXPECT_EQ(Read64(kKernVa), 1u);  // PGE = 0: the G bit did not protect it
}

TEST_F(CpuTest, InvlpgAnywhereInALargePageDropsIt) {
  const VirtAddr va(0x0000'0040'0020'0000ull);
  tables_.Map(va, PhysAddr(0x20'0000), PageSize::k2M, kUrw);
  tables_.Map(VirtAddr(0x0000'0080'0000'0000ull), PhysAddr(0), PageSize::k1G,
              kUrw);
  mem_.WriteU64(PhysAddr(0x20'0000 + 0x1000), 5);
  mem_.WriteU64(PhysAddr(0x40'0000 + 0x1000), 6);
  EXPECT_EQ(Read64(va + 0x1000), 5u);
  tables_.SetEntry(va, 2, E::Page2M(PhysAddr(0x40'0000), kUrw));
  EXPECT_EQ(Read64(va + 0x1000), 5u);
  cpu_.Invlpg(va + 0x1f'f000);  // last 4K of the 2M page
  EXPECT_EQ(Read64(va + 0x1000), 6u);
  // 1G: translate, then INVLPG deep inside it.
  const VirtAddr g(0x0000'0080'0000'0000ull);
  EXPECT_EQ(Read64(g + 0x40'1000), 6u);
  EXPECT_NE(cpu_.tlb().Peek(g, 0), nullptr);
  cpu_.Invlpg(g + 0x3fff'f000);
  EXPECT_EQ(cpu_.tlb().Peek(g, 0), nullptr);
}

TEST_F(CpuTest, InvpcidTypes) {
  ASSERT_TRUE(cpu_.WriteCr4(cpu_.cr4() | Cpu::kCr4Pcide | Cpu::kCr4Pge).ok());
  tables_.Map(kUserVa, Frame(0), PageSize::k4K, kUrw);
  tables_.Map(kUserVa + kPageSize, Frame(1), PageSize::k4K, kUrw);
  tables_.Map(kKernVa, Frame(2), PageSize::k4K, E::kRW | E::kG);
  Tlb& tlb = cpu_.tlb();
  auto warm = [&](uint16_t pcid) {
    ASSERT_TRUE(cpu_.WriteCr3(tables_.cr3() | pcid | Cpu::kCr3NoFlush).ok());
    Read64(kUserVa);
    Read64(kUserVa + kPageSize);
    Read64(kKernVa);
  };
  warm(1);
  warm(2);
  // Type 0: one address in one PCID, globals kept.
  ASSERT_TRUE(cpu_.Invpcid(0, 1, kUserVa).ok());
  EXPECT_EQ(tlb.Peek(kUserVa, 1), nullptr);
  EXPECT_NE(tlb.Peek(kUserVa, 2), nullptr);
  EXPECT_NE(tlb.Peek(kUserVa + kPageSize, 1), nullptr);
  ASSERT_TRUE(cpu_.Invpcid(0, 1, kKernVa).ok());
  EXPECT_NE(tlb.Peek(kKernVa, 1), nullptr);
  // Type 1: one PCID, globals kept.
  ASSERT_TRUE(cpu_.Invpcid(1, 2, VirtAddr(0)).ok());
  EXPECT_EQ(tlb.Peek(kUserVa, 2), nullptr);
  EXPECT_NE(tlb.Peek(kUserVa + kPageSize, 1), nullptr);
  EXPECT_NE(tlb.Peek(kKernVa, 2), nullptr);
  // Type 3: every PCID, globals kept.
  warm(2);
  ASSERT_TRUE(cpu_.Invpcid(3, 0, VirtAddr(0)).ok());
  EXPECT_EQ(tlb.Peek(kUserVa + kPageSize, 1), nullptr);
  EXPECT_EQ(tlb.Peek(kUserVa, 2), nullptr);
  EXPECT_NE(tlb.Peek(kKernVa, 7), nullptr);
  // Type 2: everything.
  ASSERT_TRUE(cpu_.Invpcid(2, 0, VirtAddr(0)).ok());
  EXPECT_EQ(tlb.Peek(kKernVa, 1), nullptr);
  EXPECT_EQ(tlb.CountValid(0) + tlb.CountValid(1), 0u);
  // Invalid uses.
  EXPECT_FALSE(cpu_.Invpcid(4, 0, VirtAddr(0)).ok());
  EXPECT_FALSE(cpu_.Invpcid(1, 4096, VirtAddr(0)).ok());
  EXPECT_FALSE(cpu_.Invpcid(0, 1, VirtAddr(0x0000'8000'0000'0000ull)).ok());
  ASSERT_TRUE(cpu_.WriteCr3(tables_.cr3()).ok());
  ASSERT_TRUE(cpu_.WriteCr4(cpu_.cr4() & ~Cpu::kCr4Pcide).ok());
  EXPECT_FALSE(cpu_.Invpcid(1, 1, VirtAddr(0)).ok());
  EXPECT_TRUE(cpu_.Invpcid(1, 0, VirtAddr(0)).ok());
}

TEST_F(CpuTest, WriteThroughACleanEntryRewalksToSetDirty) {
  const PhysAddr pte = tables_.Map(kUserVa, Frame(0), PageSize::k4K, kUrw);
  Read64(kUserVa);
  EXPECT_EQ(Phys64(pte) & (E::kA | E::kD), E::kA);
  EXPECT_EQ(cpu_.tlb().counters(1).walks, 1u);
  const uint64_t v = 9;
  ASSERT_TRUE(cpu_.Store(kUserVa, &v, 8).ok());
  EXPECT_EQ(Phys64(pte) & E::kD, E::kD);
  EXPECT_EQ(cpu_.tlb().counters(1).walks, 2u);  // SDM 4.8 re-walk
  ASSERT_TRUE(cpu_.Store(kUserVa, &v, 8).ok());
  EXPECT_EQ(cpu_.tlb().counters(1).walks, 2u);  // now cached dirty
  // If the PTE vanished meanwhile, the D-setting walk faults and the stale
  // entry goes.
  tables_.Map(kUserVa + kPageSize, Frame(1), PageSize::k4K, kUrw);
  Read64(kUserVa + kPageSize);
  tables_.SetEntry(kUserVa + kPageSize, 1, E(0));
  const Fault f = cpu_.Store(kUserVa + kPageSize, &v, 8);
  EXPECT_TRUE(f.page_fault());
  EXPECT_EQ(f.error_code, kPfErrWrite);
  EXPECT_EQ(cpu_.tlb().Peek(kUserVa + kPageSize, 0), nullptr);
}

TEST_F(CpuTest, CachedRightsGiveSpuriousFaultThenRetrySucceeds) {
  // Read-only page, cached; then made writable without a flush. The write
  // faults on the cached rights (SDM 4.10.4.3), the fault drops the entry
  // (SDM 4.10.4.1), and the retry walks and succeeds.
  const PhysAddr pte = tables_.Map(kUserVa, Frame(0), PageSize::k4K, E::kUS);
  cpu_.SetCpl(3);
  Read64(kUserVa);
  tables_.SetEntry(kUserVa, 1, E(mem_.ReadU64(pte) | E::kRW));
  const uint64_t v = 3;
  const Fault f = cpu_.Store(kUserVa, &v, 8);
  ASSERT_TRUE(f.page_fault());
  EXPECT_EQ(f.error_code, kPfErrPresent | kPfErrWrite | kPfErrUser);
  EXPECT_EQ(cpu_.tlb().Peek(kUserVa, 0), nullptr);
  EXPECT_TRUE(cpu_.Store(kUserVa, &v, 8).ok());
  EXPECT_EQ(Phys64(Frame(0)), 3u);
}

TEST_F(CpuTest, FaultingTranslationIsNotCached) {
  uint64_t v;
  EXPECT_TRUE(cpu_.Load(kUserVa, &v, 8).page_fault());
  EXPECT_EQ(cpu_.tlb().CountValid(0), 0u);
  // Map it: no flush is needed for a previously not-present page.
  tables_.Map(kUserVa, Frame(0), PageSize::k4K, kUrw);
  mem_.WriteU64(Frame(0), 77);
  EXPECT_EQ(Read64(kUserVa), 77u);
}

TEST_F(CpuTest, CrossPageStoreFaultingOnTheSecondPageWritesNothing) {
  tables_.Map(kUserVa, Frame(0), PageSize::k4K, kUrw);
  tables_.Map(kUserVa + kPageSize, Frame(1), PageSize::k4K, E::kUS);  // RO
  cpu_.SetCpl(3);
  const uint8_t src[16] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16};
  const Fault f = cpu_.Store(kUserVa + kPageSize - 4, src, sizeof(src));
  ASSERT_TRUE(f.page_fault());
  EXPECT_EQ(f.error_code, kPfErrPresent | kPfErrWrite | kPfErrUser);
  EXPECT_EQ(f.cr2, (kUserVa + kPageSize).value());
  EXPECT_EQ(cpu_.cr2(), (kUserVa + kPageSize).value());
  for (int i = 0; i < 4; ++i) {
    EXPECT_EQ(mem_.ptr(Frame(0) + kPageSize - 4)[i], 0) << i;
  }
  // Not-present second page: same.
  const VirtAddr w(0x0000'0050'0000'0000ull);
  tables_.Map(w, Frame(2), PageSize::k4K, kUrw);
  EXPECT_EQ(cpu_.Store(w + kPageSize - 2, src, 4).error_code,
            kPfErrWrite | kPfErrUser);
  EXPECT_EQ(mem_.ptr(Frame(2) + kPageSize - 2)[0], 0);
  // A load that crosses into a missing page leaves the buffer alone.
  uint8_t dst[8] = {0xee, 0xee, 0xee, 0xee, 0xee, 0xee, 0xee, 0xee};
  EXPECT_TRUE(cpu_.Load(w + kPageSize - 2, dst, 8).page_fault());
  EXPECT_EQ(dst[0], 0xee);
  // Both pages present: the bytes land on both sides.
  ASSERT_TRUE(cpu_.Store(kUserVa + kPageSize - 4, src, 4).ok());
  EXPECT_EQ(mem_.ptr(Frame(0) + kPageSize - 1)[0], 4);
}

TEST_F(CpuTest, CopyToLinearStopsAtTheFirstFaultingByte) {
  // Pages 0 and 1 mapped, page 2 not.
  tables_.Map(kUserVa, Frame(0), PageSize::k4K, kUrw);
  tables_.Map(kUserVa + kPageSize, Frame(1), PageSize::k4K, kUrw);
  std::vector<uint8_t> src(10000);
  for (size_t i = 0; i < src.size(); ++i) src[i] = static_cast<uint8_t>(i * 7);
  cpu_.SetCpl(3);
  const Cpu::CopyResult r = cpu_.CopyToLinear(kUserVa + 100, src.data(), src.size());
  EXPECT_EQ(r.done, 2 * kPageSize - 100);
  ASSERT_TRUE(r.fault.page_fault());
  EXPECT_EQ(r.fault.cr2, (kUserVa + 2 * kPageSize).value());
  EXPECT_EQ(r.fault.error_code, kPfErrWrite | kPfErrUser);
  EXPECT_EQ(std::memcmp(mem_.ptr(Frame(0) + 100), src.data(), kPageSize - 100), 0);
  EXPECT_EQ(std::memcmp(mem_.ptr(Frame(1)), src.data() + kPageSize - 100,
                        kPageSize),
            0);
  EXPECT_EQ(mem_.ptr(Frame(0))[99], 0);  // the byte before is untouched

  std::vector<uint8_t> back(10000, 0xee);
  const Cpu::CopyResult rb =
      cpu_.CopyFromLinear(back.data(), kUserVa + 100, back.size());
  EXPECT_EQ(rb.done, 2 * kPageSize - 100);
  EXPECT_TRUE(rb.fault.page_fault());
  EXPECT_EQ(rb.fault.error_code, kPfErrUser);
  EXPECT_EQ(std::memcmp(back.data(), src.data(), rb.done), 0);
  EXPECT_EQ(back[rb.done], 0xee);
  // A copy that faults on its first byte does nothing.
  const Cpu::CopyResult none =
      cpu_.CopyToLinear(kUserVa + 2 * kPageSize + 5, src.data(), 10);
  EXPECT_EQ(none.done, 0u);
  EXPECT_TRUE(none.fault.page_fault());
  // Zero bytes: nothing to do, no fault.
  EXPECT_TRUE(cpu_.CopyToLinear(VirtAddr(1ull << 60), src.data(), 0).fault.ok());
}

// A copy between a frame and itself (the host buffer is the frame, seen through the
// direct map) is defined: memmove's result in both directions, page by page.
TEST_F(CpuTest, OverlappingCopiesHaveMemmoveResults) {
  // Frame(1) and Frame(0) are adjacent, in that order, on the host.
  tables_.Map(kUserVa, Frame(1), PageSize::k4K, kUrw);
  tables_.Map(kUserVa + kPageSize, Frame(0), PageSize::k4K, kUrw);
  uint8_t* f0 = mem_.ptr(Frame(1));
  ASSERT_EQ(mem_.ptr(Frame(0)), f0 + kPageSize);
  auto fill = [&] {
    for (size_t i = 0; i < 2 * kPageSize; ++i) f0[i] = static_cast<uint8_t>(i * 13 + 1);
  };
  // Short lengths too: up to 16 bytes take the two-load path (hw/cpu.cc MoveBytes), and
  // from 2048 on a forward copy that may go forward takes `rep movsb`.
  for (size_t len : {1, 2, 3, 4, 5, 7, 8, 9, 15, 16, 17, 2047, 2048, 2100, 3000})
  for (int shift : {1, -1, 2, -3, 8, -8, 4095, -100}) {
    SCOPED_TRACE(testing::Message() << "len " << len << " shift " << shift);
    fill();
    std::vector<uint8_t> want(f0, f0 + 2 * kPageSize);
    // To the user range: source is the host bytes at 200, destination 200 + shift.
    std::memmove(want.data() + 200 + shift, want.data() + 200, len);
    Cpu::CopyResult r = cpu_.CopyToLinear(kUserVa + 200 + shift, f0 + 200, len);
    ASSERT_TRUE(r.fault.ok());
    EXPECT_EQ(std::memcmp(f0, want.data(), want.size()), 0);
    // From the user range back over itself.
    fill();
    want.assign(f0, f0 + 2 * kPageSize);
    std::memmove(want.data() + 1000, want.data() + 1000 + shift, len);
    r = cpu_.CopyFromLinear(f0 + 1000, kUserVa + 1000 + shift, len);
    ASSERT_TRUE(r.fault.ok());
    EXPECT_EQ(std::memcmp(f0, want.data(), want.size()), 0);
  }
}

// A run of copies over consecutive addresses longer than the stream threshold moves its
// later pages with non-temporal stores on the host: the bytes must be the same, and a copy
// elsewhere (or a misaligned one) ends or skips the streaming.
TEST_F(CpuTest, StreamingCopyRunsMoveTheSameBytes) {
  constexpr int kPages = 8;
  for (int i = 0; i < kPages; ++i) {
    tables_.Map(kUserVa + i * kPageSize, Frame(i), PageSize::k4K, kUrw);
  }
  std::vector<uint8_t> src(kPages * kPageSize);
  for (size_t i = 0; i < src.size(); ++i) src[i] = static_cast<uint8_t>(i * 31 + 7);
  cpu_.set_stream_threshold(2 * kPageSize);
  ASSERT_EQ(cpu_.streamed_bytes(), 0u);
  for (int i = 0; i < kPages; ++i) {
    const Cpu::CopyResult r =
        cpu_.CopyToLinear(kUserVa + i * kPageSize, src.data() + i * kPageSize, kPageSize);
    ASSERT_TRUE(r.fault.ok());
    ASSERT_EQ(r.done, kPageSize);
  }
  // The run passes 2 pages during the third copy: pages 2..7 streamed.
  EXPECT_EQ(cpu_.streamed_bytes(), (kPages - 2) * kPageSize);
  for (int i = 0; i < kPages; ++i) {
    EXPECT_EQ(std::memcmp(mem_.ptr(Frame(i)), src.data() + i * kPageSize, kPageSize), 0)
        << "page " << i;
  }
  // Back from the start: a new run, below the threshold again.
  std::vector<uint8_t> back(src.size(), 0);
  const uint64_t before = cpu_.streamed_bytes();
  ASSERT_TRUE(cpu_.CopyFromLinear(back.data(), kUserVa, 2 * kPageSize).fault.ok());
  EXPECT_EQ(cpu_.streamed_bytes(), before);
  // Continuing it: the rest streams into the host buffer, which is misaligned by one byte
  // for the last pages (those take the ordinary copy); every byte arrives.
  ASSERT_TRUE(cpu_.CopyFromLinear(back.data() + 2 * kPageSize, kUserVa + 2 * kPageSize,
                                  3 * kPageSize)
                  .fault.ok());
  EXPECT_EQ(cpu_.streamed_bytes(), before + 3 * kPageSize);
  std::vector<uint8_t> odd(3 * kPageSize + 1, 0);
  ASSERT_TRUE(
      cpu_.CopyFromLinear(odd.data() + 1, kUserVa + 5 * kPageSize, 3 * kPageSize).fault.ok());
  EXPECT_EQ(std::memcmp(back.data(), src.data(), 5 * kPageSize), 0);
  EXPECT_EQ(std::memcmp(odd.data() + 1, src.data() + 5 * kPageSize, 3 * kPageSize), 0);
  // The default threshold is 3/4 of the host's last-level cache, and at least 4 MiB.
  EXPECT_EQ(Cpu(1, &mem_, DefaultTlbProfile()).stream_threshold(),
            std::max<uint64_t>(HostLastLevelCacheBytes() / 4 * 3, uint64_t{4} << 20));
}

TEST(HostCacheTest, ParsesSysfsSizes) {
  EXPECT_EQ(ParseCacheSize("32768K"), uint64_t{32} << 20);
  EXPECT_EQ(ParseCacheSize("512K"), uint64_t{512} << 10);
  EXPECT_EQ(ParseCacheSize("2M"), uint64_t{2} << 20);
  EXPECT_EQ(ParseCacheSize("4096"), 4096u);
  EXPECT_EQ(ParseCacheSize(""), 0u);
  EXPECT_EQ(ParseCacheSize("K"), 0u);
  EXPECT_EQ(ParseCacheSize("32768 K"), 0u);
  EXPECT_EQ(ParseCacheSize("12Q"), 0u);
  EXPECT_EQ(ParseCacheSize("99999999999999999999999K"), 0u);
}

// The kernel's figure wins over the C library's: on an AMD EPYC VM glibc's sysconf reads the
// L3 as 256 MiB where sysfs (and lscpu) read 32 MiB, and a threshold of 3/4 of 256 MiB never
// streamed a 64 MiB copy.
TEST(HostCacheTest, LastLevelCacheIsTheKernels) {
  std::FILE* f = std::fopen("/sys/devices/system/cpu/cpu0/cache/index3/size", "r");
  if (f == nullptr) GTEST_SKIP() << "this host has no sysfs L3 entry";
  char buf[64] = {};
  const bool got = std::fgets(buf, sizeof buf, f) != nullptr;
  std::fclose(f);
  ASSERT_TRUE(got);
  std::string_view text(buf);
  while (!text.empty() && text.back() == '\n') text.remove_suffix(1);
  EXPECT_EQ(HostLastLevelCacheBytes(), ParseCacheSize(text)) << "sysfs says " << text;
}

TEST_F(CpuTest, CopiesWithinALargePage) {
  const VirtAddr va(0x0000'0040'0020'0000ull);
  tables_.Map(va, PhysAddr(0x20'0000), PageSize::k2M, kUrw);
  std::vector<uint8_t> src(3 * kPageSize + 17, 0x5c);
  const Cpu::CopyResult r = cpu_.CopyToLinear(va + 0x801, src.data(), src.size());
  ASSERT_TRUE(r.fault.ok());
  EXPECT_EQ(r.done, src.size());
  EXPECT_EQ(mem_.ptr(PhysAddr(0x20'0801))[src.size() - 1], 0x5c);
  EXPECT_EQ(cpu_.tlb().counters(1).walks, 1u);
}

TEST_F(CpuTest, NonCanonicalAccessIsGeneralProtection) {
  uint64_t v;
  cpu_.WriteCr2(0x42);
  const Fault f = cpu_.Load(VirtAddr(0x0000'8000'0000'0000ull), &v, 8);
  EXPECT_EQ(f.kind, Fault::Kind::kGeneralProtection);
  EXPECT_EQ(cpu_.cr2(), 0x42u);  // only #PF writes CR2
  cpu_.Invlpg(VirtAddr(0x0000'8000'0000'0000ull));  // a no-op, not a crash
}

TEST_F(CpuTest, PhysicalAddressOutsideMemoryIsMachineCheck) {
  tables_.Map(kUserVa, PhysAddr(1ull << 40), PageSize::k4K, kUrw);
  uint64_t v = 0;
  EXPECT_EQ(cpu_.Load(kUserVa, &v, 8).kind, Fault::Kind::kMachineCheck);
  const Cpu::CopyResult r = cpu_.CopyToLinear(kUserVa, &v, 8);
  EXPECT_EQ(r.done, 0u);
  EXPECT_EQ(r.fault.kind, Fault::Kind::kMachineCheck);
}

TEST_F(CpuTest, SupervisorAccessRulesThroughTheCpu) {
  tables_.Map(kUserVa, Frame(0), PageSize::k4K, kUrw);
  uint64_t v;
  ASSERT_TRUE(cpu_.WriteCr4(cpu_.cr4() | Cpu::kCr4Smap | Cpu::kCr4Smep).ok());
  EXPECT_EQ(cpu_.Load(kUserVa, &v, 8).error_code, kPfErrPresent);
  cpu_.Stac();
  EXPECT_TRUE(cpu_.Load(kUserVa, &v, 8).ok());
  EXPECT_EQ(cpu_.Fetch(kUserVa, &v, 8).error_code, kPfErrPresent | kPfErrFetch);
  cpu_.Clac();
  EXPECT_FALSE(cpu_.Load(kUserVa, &v, 8).ok());
  // NX with NXE.
  ASSERT_TRUE(cpu_.WriteEfer(cpu_.efer() | Cpu::kEferNxe).ok());
  tables_.Map(kKernVa, Frame(1), PageSize::k4K, E::kRW | E::kXD);
  EXPECT_TRUE(cpu_.Load(kKernVa, &v, 8).ok());
  EXPECT_EQ(cpu_.Fetch(kKernVa, &v, 8).error_code, kPfErrPresent | kPfErrFetch);
  // WP.
  tables_.Map(kKernVa + kPageSize, Frame(2), PageSize::k4K, 0);
  EXPECT_TRUE(cpu_.Store(kKernVa + kPageSize, &v, 8).ok());
  ASSERT_TRUE(cpu_.WriteCr0(cpu_.cr0() | Cpu::kCr0Wp).ok());
  EXPECT_EQ(cpu_.Store(kKernVa + kPageSize, &v, 8).error_code,
            kPfErrPresent | kPfErrWrite);
}

// The TLB-hit path checks rights from the cached entry; it must agree with
// the walker for every combination the walker matrix covers at the leaf.
TEST_F(CpuTest, CachedRightsAgreeWithTheWalker) {
  tables_.Map(kUserVa, Frame(0), PageSize::k4K, 0, 0);
  PhysAddr at[4];
  uint64_t base[4];
  for (int i = 0; i < 4; ++i) {
    at[i] = tables_.EntryAddr(kUserVa, 4 - i);
    base[i] = mem_.ReadU64(at[i]);
  }
  int failures = 0;
  for (unsigned us = 0; us < 16; ++us) {
    for (unsigned rw = 0; rw < 16; ++rw) {
      for (unsigned xd = 0; xd < 2; ++xd) {  // XD on the leaf or nowhere
        for (unsigned m = 0; m < 32 * 3; ++m) {
          const bool cpl3 = m & 1, wp = m & 2, nxe = m & 4, smep = m & 8,
                     smap = m & 16;
          const AccessType type = static_cast<AccessType>(m / 32);
          for (int i = 0; i < 4; ++i) {
            mem_.WriteU64(at[i], base[i] | ((us >> i) & 1 ? E::kUS : 0) |
                                     ((rw >> i) & 1 ? E::kRW : 0) |
                                     (i == 3 && xd ? E::kXD : 0));
          }
          ASSERT_TRUE(cpu_.WriteCr0(Cpu::kCr0Pe | Cpu::kCr0Pg |
                                    (wp ? Cpu::kCr0Wp : 0))
                          .ok());
          ASSERT_TRUE(cpu_.WriteEfer(Cpu::kEferLme | (nxe ? Cpu::kEferNxe : 0))
                          .ok());
          ASSERT_TRUE(cpu_.WriteCr4(Cpu::kCr4Pae | (smep ? Cpu::kCr4Smep : 0) |
                                    (smap ? Cpu::kCr4Smap : 0))
                          .ok());
          cpu_.Invlpg(kUserVa);
          // Warm the TLB with a supervisor read that SMAP cannot block.
          cpu_.SetCpl(0);
          cpu_.Stac();
          uint64_t v;
          const bool warmed = cpu_.Load(kUserVa, &v, 8).ok();
          cpu_.Clac();
          cpu_.SetCpl(cpl3 ? 3 : 0);
          const WalkResult ref = PeekWalk(mem_, cpu_.cr3(), kUserVa, type,
                                          cpu_.paging_mode());
          const uint64_t walks = cpu_.tlb().counters(1).walks;
          const Cpu::Translation t = cpu_.Translate(kUserVa, type);
          const bool hit_path = warmed && cpu_.tlb().counters(1).walks == walks;
          if (t.fault != ref.fault ||
              (t.fault.ok() && t.pa != ref.PhysFor(kUserVa))) {
            ADD_FAILURE() << "us=" << us << " rw=" << rw << " xd=" << xd
                          << " cpl3=" << cpl3 << " wp=" << wp << " nxe=" << nxe
                          << " smep=" << smep << " smap=" << smap << " "
                          << type << ": cpu " << t.fault << ", walker "
                          << ref.fault << (hit_path ? " (TLB hit)" : "");
            if (++failures > 10) return;
          }
        }
      }
    }
  }
}

class EventLog : public HwObserver {
 public:
  void OnWalkStep(int cpu, int level, PhysAddr, uint64_t) override {
    log.push_back("walk " + std::to_string(level));
  }
  void OnTlbHit(int cpu, int level, VirtAddr, const TlbEntry&) override {
    log.push_back("hit " + std::to_string(level));
  }
  void OnTlbMiss(int cpu, VirtAddr) override { log.push_back("miss"); }
  void OnPscHit(int cpu, int level, VirtAddr, PhysAddr) override {
    log.push_back("psc " + std::to_string(level));
  }
  void OnTlbFill(int cpu, int level, const TlbEntry&) override {
    log.push_back("fill " + std::to_string(level));
  }
  void OnTlbFlush(int cpu, TlbFlushKind kind, uint16_t, VirtAddr) override {
    log.push_back(std::string("flush ") + TlbFlushKindName(kind));
  }
  void OnFault(int cpu, const Fault& f, AccessType) override {
    log.push_back("fault " + FaultToString(f));
  }
  void OnCr3Write(int cpu, uint64_t old_cr3, uint64_t new_cr3) override {
    log.push_back("cr3");
    cpus.push_back(cpu);
  }
  std::vector<std::string> log;
  std::vector<int> cpus;
};

// Without paging-structure caches every miss walks from CR3 (psc_test.cc
// and cpu_psc_test.cc have the story with them).
// Observes `cpu` with `log`, loads CR3, maps kUserVa to `frame` and loads from it.
void StartStory(Cpu& cpu, EventLog& log, PageTableBuilder& tables, PhysAddr frame) {
  cpu.set_observer(&log);
  ASSERT_TRUE(cpu.WriteCr3(tables.cr3()).ok());
  tables.Map(kUserVa, frame, PageSize::k4K, kUrw);
  uint64_t v;
  ASSERT_TRUE(cpu.Load(kUserVa, &v, 8).ok());
}

TEST_F(CpuTest, ObserverSeesTheWholeStory) {
  Cpu cpu(5, &mem_, *FindTlbProfile("tiny_nopsc"));
  EventLog log;
  StartStory(cpu, log, tables_, Frame(0));
  uint64_t v;
  ASSERT_TRUE(cpu.Load(kUserVa, &v, 8).ok());
  EXPECT_TRUE(cpu.Load(kUserVa + kPageSize, &v, 8).page_fault());
  cpu.Invlpg(kUserVa);
  EXPECT_EQ(log.log, (std::vector<std::string>{
                         "cr3", "flush cr3-write",                       //
                         "miss", "walk 4", "walk 3", "walk 2", "walk 1",  //
                         "fill 0", "fill 1",                              //
                         "hit 0",                                         //
                         "miss", "walk 4", "walk 3", "walk 2", "walk 1",  //
                         "fault #PF(0 0) cr2=0x4000001000",               //
                         "flush invlpg"}));
  EXPECT_EQ(log.cpus, std::vector<int>{5});
  cpu.set_observer(nullptr);
  ASSERT_TRUE(cpu.Load(kUserVa, &v, 8).ok());
  EXPECT_EQ(log.log.size(), 17u);
}

// With them the second miss, in the same 2 MiB region, starts below the
// PDE-cache entry the first walk left: one read, the PTE.
TEST_F(CpuTest, ObserverSeesPscHits) {
  Cpu cpu(5, &mem_, *FindTlbProfile("tiny"));
  EventLog log;
  StartStory(cpu, log, tables_, Frame(0));
  uint64_t v;
  EXPECT_TRUE(cpu.Load(kUserVa + kPageSize, &v, 8).page_fault());
  EXPECT_EQ(log.log, (std::vector<std::string>{
                         "cr3", "flush cr3-write",                       //
                         "miss", "walk 4", "walk 3", "walk 2", "walk 1",  //
                         "fill 0", "fill 1",                              //
                         "miss", "psc 2", "walk 1",                       //
                         "fault #PF(0 0) cr2=0x4000001000"}));
}

TEST_F(CpuTest, CpusShareMemoryButNotTlbs) {
  Cpu other(1, &mem_, DefaultTlbProfile());
  ASSERT_TRUE(other.WriteCr3(tables_.cr3()).ok());
  tables_.Map(kUserVa, Frame(0), PageSize::k4K, kUrw);
  const uint64_t v = 0x77;
  ASSERT_TRUE(cpu_.Store(kUserVa, &v, 8).ok());
  uint64_t got = 0;
  ASSERT_TRUE(other.Load(kUserVa, &got, 8).ok());
  EXPECT_EQ(got, 0x77u);
  // cpu_ remaps and flushes only its own TLB: `other` still sees the old
  // frame until it is shot down.
  tables_.SetEntry(kUserVa, 1, E::Page4K(Frame(1), kUrw));
  cpu_.Invlpg(kUserVa);
  EXPECT_EQ(Read64(kUserVa), 0u);
  ASSERT_TRUE(other.Load(kUserVa, &got, 8).ok());
  EXPECT_EQ(got, 0x77u);
  other.Invlpg(kUserVa);
  ASSERT_TRUE(other.Load(kUserVa, &got, 8).ok());
  EXPECT_EQ(got, 0u);
}

// --- Protection keys (SDM 4.6.2) -------------------------------------------

constexpr uint32_t PkruAd(int k) { return kPkruAd << (2 * k); }
constexpr uint32_t PkruWd(int k) { return kPkruWd << (2 * k); }

// A CPU with PKU and CR4.PKE = 1.
void EnablePke(Cpu& cpu) {
  cpu.set_has_pku(true);
  ASSERT_TRUE(cpu.WriteCr4(cpu.cr4() | Cpu::kCr4Pke).ok());
}

TEST_F(CpuTest, PkeNeedsPkuAndWrpkruNeedsPke) {
  EXPECT_EQ(Cpu::kCr4Pke, 0x400000u);
  EXPECT_FALSE(cpu_.has_pku());
  EXPECT_EQ(cpu_.pkru(), 0u);
  const uint64_t cr4 = cpu_.cr4();
  // No PKU: CR4.PKE is #GP, state unchanged.
  EXPECT_EQ(cpu_.WriteCr4(cr4 | Cpu::kCr4Pke).kind, Fault::Kind::kGeneralProtection);
  EXPECT_EQ(cpu_.cr4(), cr4);
  EXPECT_FALSE(cpu_.paging_mode().pke);
  // WRPKRU with CR4.PKE = 0 (#UD, reported as #GP), PKRU unchanged.
  EXPECT_EQ(cpu_.WritePkru(0x5555'5554).kind, Fault::Kind::kGeneralProtection);
  EXPECT_EQ(cpu_.pkru(), 0u);
  cpu_.set_has_pku(true);
  EXPECT_TRUE(cpu_.has_pku());
  EXPECT_EQ(cpu_.WritePkru(0x5555'5554).kind, Fault::Kind::kGeneralProtection);
  ASSERT_TRUE(cpu_.WriteCr4(cr4 | Cpu::kCr4Pke).ok());
  EXPECT_TRUE(cpu_.paging_mode().pke);
  ASSERT_TRUE(cpu_.WritePkru(0x5555'5554).ok());
  EXPECT_EQ(cpu_.pkru(), 0x5555'5554u);
  EXPECT_EQ(cpu_.paging_mode().pkru, 0x5555'5554u);
  // PKE can be cleared again; PKRU keeps its value but is not consulted.
  ASSERT_TRUE(cpu_.WriteCr4(cr4).ok());
  EXPECT_FALSE(cpu_.paging_mode().pke);
  EXPECT_EQ(cpu_.pkru(), 0x5555'5554u);
  EXPECT_EQ(cpu_.WritePkru(0).kind, Fault::Kind::kGeneralProtection);
}

// PKRU is not cached: a TLB hit checks the entry's key against the current
// PKRU, so WRPKRU takes effect at once without any flush (SDM 4.10.2.2).
TEST_F(CpuTest, TlbHitRechecksAChangedPkruWithoutAFlush) {
  tables_.Map(kUserVa, Frame(0), PageSize::k4K, kUrw | E::kD | E::PkeyFlags(1));
  EnablePke(cpu_);
  cpu_.SetCpl(3);
  uint64_t v = 0;
  ASSERT_TRUE(cpu_.Load(kUserVa, &v, 8).ok());  // fills the TLB
  const uint64_t walks = cpu_.tlb().counters(1).walks;
  const uint64_t flushes = cpu_.tlb().counters(0).flushes;
  ASSERT_TRUE(cpu_.WritePkru(PkruAd(1)).ok());
  EXPECT_EQ(cpu_.tlb().CountValid(0), 1u);  // WRPKRU flushed nothing
  EXPECT_EQ(cpu_.tlb().counters(0).flushes, flushes);
  Fault f = cpu_.Load(kUserVa + 8, &v, 8);
  EXPECT_EQ(f, Fault::PageFault((kUserVa + 8).value(),
                                kPfErrPresent | kPfErrUser | kPfErrPk));
  EXPECT_EQ(cpu_.pf_error_code(), kPfErrPresent | kPfErrUser | kPfErrPk);
  EXPECT_EQ(cpu_.cr2(), (kUserVa + 8).value());
  EXPECT_EQ(cpu_.tlb().counters(1).walks, walks);  // decided on the hit
  ASSERT_TRUE(cpu_.WritePkru(0).ok());
  EXPECT_TRUE(cpu_.Load(kUserVa, &v, 8).ok());

  // The hit uses the key the entry cached, not the one now in memory: the
  // PTE's key changes to 0 (no INVLPG), PKRU denies key 1, the access faults.
  ASSERT_TRUE(cpu_.Store(kUserVa, &v, 8).ok());  // cached, D = 1
  tables_.SetEntry(kUserVa, 1, tables_.Entry(kUserVa, 1).with_pkey(0));
  ASSERT_TRUE(cpu_.WritePkru(PkruWd(1)).ok());
  EXPECT_TRUE(cpu_.Load(kUserVa, &v, 8).ok());  // WD: reads pass
  EXPECT_EQ(cpu_.Store(kUserVa, &v, 8).error_code,
            kPfErrPresent | kPfErrWrite | kPfErrUser | kPfErrPk);
  // The #PF dropped the entry; the retry walks and finds key 0.
  EXPECT_TRUE(cpu_.Store(kUserVa, &v, 8).ok());

  // Clearing CR4.PKE turns the check off at once, on hits too.
  tables_.SetEntry(kUserVa, 1, tables_.Entry(kUserVa, 1).with_pkey(1));
  cpu_.Invlpg(kUserVa);
  ASSERT_TRUE(cpu_.Load(kUserVa, &v, 8).ok());
  ASSERT_TRUE(cpu_.WritePkru(0xffff'ffff).ok());
  EXPECT_FALSE(cpu_.Load(kUserVa, &v, 8).ok());  // dropped the entry
  ASSERT_TRUE(cpu_.WriteCr4(cpu_.cr4() & ~Cpu::kCr4Pke).ok());
  EXPECT_TRUE(cpu_.Load(kUserVa, &v, 8).ok());  // walks (key ignored), fills
  EXPECT_TRUE(cpu_.Load(kUserVa, &v, 8).ok());  // a hit, key ignored
  const uint64_t walks2 = cpu_.tlb().counters(1).walks;
  ASSERT_TRUE(cpu_.WriteCr4(cpu_.cr4() | Cpu::kCr4Pke).ok());
  EXPECT_EQ(cpu_.Load(kUserVa, &v, 8).error_code,
            kPfErrPresent | kPfErrUser | kPfErrPk);  // on the hit again
  EXPECT_EQ(cpu_.tlb().counters(1).walks, walks2);
}

TEST_F(CpuTest, PkeyRulesThroughTheCpu) {
  // Key 2 on a user page, key 2 also on a supervisor page.
  tables_.Map(kUserVa, Frame(0), PageSize::k4K, kUrw | E::kD | E::PkeyFlags(2));
  tables_.Map(kKernVa, Frame(1), PageSize::k4K, E::kRW | E::kD | E::PkeyFlags(2));
  EnablePke(cpu_);
  uint64_t v = 0;
  // WD: user writes fault, reads pass; fetches ignore PKRU entirely.
  ASSERT_TRUE(cpu_.WritePkru(PkruWd(2)).ok());
  cpu_.SetCpl(3);
  EXPECT_TRUE(cpu_.Load(kUserVa, &v, 8).ok());
  EXPECT_EQ(cpu_.Store(kUserVa, &v, 8).error_code,
            kPfErrPresent | kPfErrWrite | kPfErrUser | kPfErrPk);
  ASSERT_TRUE(cpu_.WritePkru(PkruAd(2) | PkruWd(2)).ok());
  EXPECT_TRUE(cpu_.Fetch(kUserVa, &v, 8).ok());
  // Supervisor: WD counts only with CR0.WP = 1; AD always.
  cpu_.SetCpl(0);
  ASSERT_TRUE(cpu_.WritePkru(PkruWd(2)).ok());
  EXPECT_TRUE(cpu_.Store(kUserVa, &v, 8).ok());
  ASSERT_TRUE(cpu_.WriteCr0(cpu_.cr0() | Cpu::kCr0Wp).ok());
  EXPECT_EQ(cpu_.Store(kUserVa, &v, 8).error_code,
            kPfErrPresent | kPfErrWrite | kPfErrPk);
  EXPECT_TRUE(cpu_.Load(kUserVa, &v, 8).ok());
  ASSERT_TRUE(cpu_.WritePkru(PkruAd(2)).ok());
  EXPECT_EQ(cpu_.Load(kUserVa, &v, 8).error_code, kPfErrPresent | kPfErrPk);
  // A supervisor-mode address is never checked.
  ASSERT_TRUE(cpu_.WritePkru(0xffff'ffff).ok());
  EXPECT_TRUE(cpu_.Load(kKernVa, &v, 8).ok());
  EXPECT_TRUE(cpu_.Store(kKernVa, &v, 8).ok());
}

TEST_F(CpuTest, TwoMegLeafKeyIsUsed) {
  const VirtAddr va(0x0000'0040'0020'0000ull);
  tables_.Map(va, PhysAddr(0x20'0000), PageSize::k2M,
              kUrw | E::kD | E::PkeyFlags(3));
  EnablePke(cpu_);
  cpu_.SetCpl(3);
  uint64_t v = 0;
  ASSERT_TRUE(cpu_.Load(va, &v, 8).ok());
  bool seen = false;
  cpu_.tlb().ForEachEntry([&](int, const TlbEntry& e) {
    if (e.size == PageSize::k2M) {
      seen = true;
      EXPECT_EQ(e.pkey, 3);
      EXPECT_NE(e.ToString().find(" pkey=3"), std::string::npos) << e.ToString();
    }
  });
  EXPECT_TRUE(seen);
  const uint64_t walks = cpu_.tlb().counters(1).walks;
  ASSERT_TRUE(cpu_.WritePkru(PkruAd(3)).ok());
  const VirtAddr inside = va + 0x12'3458;  // another 4 KiB page of the 2 MiB one
  EXPECT_EQ(cpu_.Load(inside, &v, 8),
            Fault::PageFault(inside.value(), kPfErrPresent | kPfErrUser | kPfErrPk));
  EXPECT_EQ(cpu_.tlb().counters(1).walks, walks);  // the 2 MiB entry hit
  ASSERT_TRUE(cpu_.WritePkru(PkruAd(2)).ok());  // another key
  EXPECT_TRUE(cpu_.Load(inside, &v, 8).ok());
}

// The kernel's copies (supervisor mode, as copy_from_user/copy_to_user run)
// stop at the first byte whose key denies, with PK in the error code.
TEST_F(CpuTest, CopiesReportProtectionKeyFaults) {
  tables_.Map(kUserVa, Frame(0), PageSize::k4K, kUrw | E::kD);
  tables_.Map(kUserVa + kPageSize, Frame(1), PageSize::k4K,
              kUrw | E::kD | E::PkeyFlags(1));
  EnablePke(cpu_);
  ASSERT_TRUE(cpu_.WritePkru(PkruAd(1)).ok());
  std::vector<uint8_t> buf(2 * kPageSize, 0x5a);
  Cpu::CopyResult r = cpu_.CopyFromLinear(buf.data(), kUserVa + 100, 2 * kPageSize - 200);
  EXPECT_EQ(r.done, kPageSize - 100);
  EXPECT_EQ(r.fault, Fault::PageFault((kUserVa + kPageSize).value(),
                                      kPfErrPresent | kPfErrPk));
  r = cpu_.CopyToLinear(kUserVa + 100, buf.data(), 2 * kPageSize - 200);
  EXPECT_EQ(r.done, kPageSize - 100);
  EXPECT_EQ(r.fault, Fault::PageFault((kUserVa + kPageSize).value(),
                                      kPfErrPresent | kPfErrWrite | kPfErrPk));
  EXPECT_EQ(mem_.ptr(Frame(1))[0], 0);  // nothing written past the fault
  // WD with CR0.WP = 1 (as Linux runs): reads copy, writes stop.
  ASSERT_TRUE(cpu_.WriteCr0(cpu_.cr0() | Cpu::kCr0Wp).ok());
  ASSERT_TRUE(cpu_.WritePkru(PkruWd(1)).ok());
  r = cpu_.CopyFromLinear(buf.data(), kUserVa + 100, 2 * kPageSize - 200);
  EXPECT_TRUE(r.fault.ok()) << r.fault;
  EXPECT_EQ(r.done, 2 * kPageSize - 200);
  r = cpu_.CopyToLinear(kUserVa + 100, buf.data(), 2 * kPageSize - 200);
  EXPECT_EQ(r.done, kPageSize - 100);
  EXPECT_EQ(r.fault.error_code, kPfErrPresent | kPfErrWrite | kPfErrPk);
  // From user mode too (the U bit joins).
  cpu_.SetCpl(3);
  r = cpu_.CopyToLinear(kUserVa + 100, buf.data(), 2 * kPageSize - 200);
  EXPECT_EQ(r.fault.error_code, kPfErrPresent | kPfErrWrite | kPfErrUser | kPfErrPk);
}

// The TLB-hit check of the key (a precomputed mask) agrees with the walker's
// (PkeyDenies) for every PKRU pattern of the entry's key, mode and access.
TEST_F(CpuTest, CachedKeyCheckAgreesWithTheWalker) {
  tables_.Map(kUserVa, Frame(0), PageSize::k4K, 0);
  const PhysAddr pte = tables_.EntryAddr(kUserVa, 1);
  const uint64_t base = mem_.ReadU64(pte) | E::kD;
  EnablePke(cpu_);
  const uint64_t cr0 = cpu_.cr0();
  int failures = 0;
  for (int key : {0, 1, 15}) {
    for (uint32_t bits = 0; bits < 4; ++bits) {  // the key's AD and WD
      for (uint32_t others : {0u, 0xffff'ffffu}) {
        const uint32_t pkru =
            (others & ~(3u << (2 * key))) | (bits << (2 * key));
        for (unsigned m = 0; m < 16 * 3; ++m) {
          const bool cpl3 = m & 1, wp = m & 2, us = m & 4, rw = m & 8;
          const AccessType type = static_cast<AccessType>(m / 16);
          mem_.WriteU64(pte, base | E::PkeyFlags(key) | (us ? E::kUS : 0) |
                                 (rw ? E::kRW : 0));
          ASSERT_TRUE(cpu_.WriteCr0(cr0 | (wp ? Cpu::kCr0Wp : 0)).ok());
          cpu_.Invlpg(kUserVa);
          // Warm the TLB with a supervisor read under an open PKRU.
          cpu_.SetCpl(0);
          ASSERT_TRUE(cpu_.WritePkru(0).ok());
          uint64_t v;
          const bool warmed = cpu_.Load(kUserVa, &v, 8).ok();
          ASSERT_TRUE(cpu_.WritePkru(pkru).ok());
          cpu_.SetCpl(cpl3 ? 3 : 0);
          const WalkResult ref =
              PeekWalk(mem_, cpu_.cr3(), kUserVa, type, cpu_.paging_mode());
          const uint64_t walks = cpu_.tlb().counters(1).walks;
          const Cpu::Translation t = cpu_.Translate(kUserVa, type);
          const bool hit_path = warmed && cpu_.tlb().counters(1).walks == walks;
          if (t.fault != ref.fault || !hit_path) {
            ADD_FAILURE() << "key=" << key << " pkru=" << std::hex << pkru
                          << std::dec << " cpl3=" << cpl3 << " wp=" << wp
                          << " us=" << us << " rw=" << rw << " " << type
                          << ": cpu " << t.fault << ", walker " << ref.fault
                          << (hit_path ? " (TLB hit)" : " (walked)");
            if (++failures > 10) return;
          }
        }
      }
    }
  }
}

}  // namespace
}  // namespace hw
