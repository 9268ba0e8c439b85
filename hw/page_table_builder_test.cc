// hw/page_table_builder_test.cc: the test helper builds what the walker reads.
#include "hw/page_table_builder.h"

#include "gtest/gtest.h"
#include "hw/access.h"
#include "hw/addr.h"
#include "hw/paging_entry.h"
#include "hw/phys_mem.h"

namespace hw {
namespace {

TEST(PageTableBuilderTest, MapsEachPageSizeAndReportsEntryAddresses) {
  PhysMem mem(16 << 20);
  PageTableBuilder b(&mem, Pfn(1));
  EXPECT_EQ(b.cr3(), 0x1000u);
  const VirtAddr va4k(0x0000'7f12'3456'7000ull);
  const PhysAddr pte = b.Map(va4k, PhysAddr(0xa000), PageSize::k4K,
                             PagingEntry::kRW);
  // PML4 in frame 1, then PDPT, PD, PT in frames 2, 3, 4.
  EXPECT_EQ(b.EntryAddr(va4k, 4), PhysAddr(0x17f0));
  EXPECT_EQ(b.EntryAddr(va4k, 3), PhysAddr(0x2240));
  EXPECT_EQ(b.EntryAddr(va4k, 2), PhysAddr(0x3d10));
  EXPECT_EQ(b.EntryAddr(va4k, 1), PhysAddr(0x4b38));
  EXPECT_EQ(pte, PhysAddr(0x4b38));
  EXPECT_EQ(b.Entry(va4k, 1).raw(), 0xa003u);
  EXPECT_EQ(b.Entry(va4k, 4).raw(),
            0x2000u | PagingEntry::kP | PageTableBuilder::kDefaultTableFlags);
  EXPECT_EQ(b.next_free(), Pfn(5));

  // A 2M page next to it reuses the PML4E/PDPTE and needs no new table.
  const VirtAddr va2m(0x0000'7f12'3460'0000ull);
  const PhysAddr pde = b.Map(va2m, PhysAddr(0x40'0000), PageSize::k2M, 0);
  EXPECT_EQ(b.next_free(), Pfn(5));
  EXPECT_EQ(mem.ReadU64(pde), 0x40'0000u | PagingEntry::kP | PagingEntry::kPS);
  // A 1G page in a new PML4 slot needs one PDPT.
  const PhysAddr pdpte = b.Map(VirtAddr(0xffff'8000'4000'0000ull),
                               PhysAddr(0x4000'0000), PageSize::k1G,
                               PagingEntry::kG);
  EXPECT_EQ(b.next_free(), Pfn(6));
  EXPECT_EQ(mem.ReadU64(pdpte),
            0x4000'0000u | PagingEntry::kP | PagingEntry::kPS | PagingEntry::kG);
}

TEST(PageTableBuilderTest, AllocFrameZeroes) {
  PhysMem mem(1 << 20);
  PageTableBuilder b(&mem, Pfn(10));
  mem.frame(Pfn(11))[7] = 1;
  EXPECT_EQ(b.AllocFrame(), Pfn(11));
  EXPECT_EQ(mem.frame(Pfn(11))[7], 0);
}

TEST(PageTableBuilderDeathTest, RejectsMisalignedAndOverlappingMaps) {
  PhysMem mem(1 << 20);
  PageTableBuilder b(&mem, Pfn(1));
  EXPECT_DEATH(b.Map(VirtAddr(0x1000), PhysAddr(0x1000), PageSize::k2M, 0),
               "va not aligned");
  b.Map(VirtAddr(0x20'0000), PhysAddr(0), PageSize::k2M, 0);
  EXPECT_DEATH(b.Map(VirtAddr(0x20'1000), PhysAddr(0), PageSize::k4K, 0),
               "large page already maps");
}

}  // namespace
}  // namespace hw
