// hw/page_table_builder.h: builds x86-64 4-level page tables in PhysMem.
//
// A test and benchmark helper (testonly): it writes paging-structure entries
// (SDM vol. 3A 4.5) the way an OS would, taking page-table frames from a
// bump allocator that starts at a given frame. It knows nothing of any OS; the
// real kernel port (mm/) builds its own tables.
//
//   PageTableBuilder b(&mem, Pfn(1));           // frames 1.. for tables
//   b.Map(VirtAddr(0x400000), PhysAddr(0x200000), PageSize::k4K,
//         PagingEntry::kRW | PagingEntry::kUS);
//   cpu.WriteCr3(b.cr3());
#ifndef MMSIM_HW_PAGE_TABLE_BUILDER_H_
#define MMSIM_HW_PAGE_TABLE_BUILDER_H_

#include <cstdint>

#include "hw/access.h"
#include "hw/addr.h"
#include "hw/paging_entry.h"
#include "hw/phys_mem.h"

namespace hw {

class PageTableBuilder {
 public:
  // Flags given to the PML4E/PDPTE/PDE that Map creates.
  static constexpr uint64_t kDefaultTableFlags =
      PagingEntry::kRW | PagingEntry::kUS;

  // Allocates the PML4 table at `first_free_frame` and later tables after
  // it. `mem` must outlive the builder.
  PageTableBuilder(PhysMem* mem, Pfn first_free_frame);

  // The CR3 value for these tables (PCID 0, PWT = PCD = 0).
  uint64_t cr3() const { return PhysAddr::FromPfn(root_).value(); }
  Pfn root() const { return root_; }
  // The next frame the allocator would hand out.
  Pfn next_free() const { return next_; }

  // A zeroed frame from the bump allocator (CHECK-fails when memory is out).
  Pfn AllocFrame();

  // Maps the page of `size` at `va` to the frame at `pa` with `leaf_flags`
  // (P, and PS for large pages, are added). Missing tables are created with
  // `table_flags` (P added); existing table entries are left as they are.
  // REQUIRES: va canonical, va and pa aligned to `size`, and no leaf already
  // mapping a larger page over `va`. Returns the address of the leaf entry.
  PhysAddr Map(VirtAddr va, PhysAddr pa, PageSize size, uint64_t leaf_flags,
               uint64_t table_flags = kDefaultTableFlags);

  // Address of the entry at `level` (4 = PML4E ... 1 = PTE) on `va`'s path.
  // REQUIRES: the tables above it exist (CHECK-fails otherwise).
  PhysAddr EntryAddr(VirtAddr va, int level) const;
  PagingEntry Entry(VirtAddr va, int level) const {
    return PagingEntry(mem_->ReadU64(EntryAddr(va, level)));
  }
  void SetEntry(VirtAddr va, int level, PagingEntry e) {
    mem_->WriteU64(EntryAddr(va, level), e.raw());
  }

 private:
  PhysMem* const mem_;
  Pfn root_;
  Pfn next_;
};

}  // namespace hw

#endif  // MMSIM_HW_PAGE_TABLE_BUILDER_H_
