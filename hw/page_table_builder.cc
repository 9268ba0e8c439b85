// hw/page_table_builder.cc: see page_table_builder.h.
#include "hw/page_table_builder.h"

#include "hw/check.h"

namespace hw {
namespace {

// Linear-address bit where the index of `level` starts (SDM 4.5).
constexpr int IndexShift(int level) { return kPageShift + 9 * (level - 1); }

uint64_t IndexOf(VirtAddr va, int level) {
  return (va.value() >> IndexShift(level)) & 0x1ff;
}

// The level whose entry maps a page of `size`.
constexpr int LeafLevel(PageSize size) {
  return size == PageSize::k4K ? 1 : size == PageSize::k2M ? 2 : 3;
}

}  // namespace

PageTableBuilder::PageTableBuilder(PhysMem* mem, Pfn first_free_frame)
    : mem_(mem), next_(first_free_frame) {
  CHECK(mem != nullptr);
  root_ = AllocFrame();
}

Pfn PageTableBuilder::AllocFrame() {
  CHECK(next_.value() < mem_->num_frames(), "page-table frames exhausted");
  const Pfn pfn = next_;
  ++next_;
  mem_->ZeroFrame(pfn);
  return pfn;
}

PhysAddr PageTableBuilder::EntryAddr(VirtAddr va, int level) const {
  CHECK(level >= 1 && level <= 4);
  PhysAddr table = PhysAddr::FromPfn(root_);
  for (int l = 4; l > level; --l) {
    const PagingEntry e(mem_->ReadU64(table + IndexOf(va, l) * 8));
    CHECK(e.present() && !(l < 4 && e.ps()), "no table on this path");
    table = e.addr(mem_->maxphyaddr());
  }
  return table + IndexOf(va, level) * 8;
}

PhysAddr PageTableBuilder::Map(VirtAddr va, PhysAddr pa, PageSize size,
                               uint64_t leaf_flags, uint64_t table_flags) {
  CHECK(va.IsCanonical());
  CHECK((va.value() & (PageBytesOf(size) - 1)) == 0, "va not aligned");
  CHECK((pa.value() & (PageBytesOf(size) - 1)) == 0, "pa not aligned");
  const int leaf_level = LeafLevel(size);
  PhysAddr table = PhysAddr::FromPfn(root_);
  for (int l = 4; l > leaf_level; --l) {
    const PhysAddr ea = table + IndexOf(va, l) * 8;
    PagingEntry e(mem_->ReadU64(ea));
    if (!e.present()) {
      e = PagingEntry::Table(PhysAddr::FromPfn(AllocFrame()), table_flags);
      mem_->WriteU64(ea, e.raw());
    }
    CHECK(!(l < 4 && e.ps()), "a large page already maps this address");
    table = e.addr(mem_->maxphyaddr());
  }
  const PhysAddr leaf_addr = table + IndexOf(va, leaf_level) * 8;
  const PagingEntry leaf =
      size == PageSize::k4K   ? PagingEntry::Page4K(pa, leaf_flags)
      : size == PageSize::k2M ? PagingEntry::Page2M(pa, leaf_flags)
                              : PagingEntry::Page1G(pa, leaf_flags);
  mem_->WriteU64(leaf_addr, leaf.raw());
  return leaf_addr;
}

}  // namespace hw
