// hw/walker.h: the 4-level page walker (SDM vol. 3A 4.5, 4.6, 4.7, 4.8).
//
// How 4-level paging splits a 48-bit linear address (SDM 4.5, Figure 4-8):
//
//   63          48 47      39 38      30 29      21 20      12 11         0
//  +--------------+----------+----------+----------+----------+------------+
//  | sign extend  |  PML4    |  PDPT    |   PD     |   PT     |   offset   |
//  | of bit 47    |  index   |  index   |  index   |  index   |            |
//  +--------------+----------+----------+----------+----------+------------+
//                      |          |          |          |
//   CR3[M-1:12] -> PML4E -> PDPTE --PS=1--> 1 GiB page (offset = bits 29..0)
//                              |
//                              +-> PDE --PS=1--> 2 MiB page (offset = 20..0)
//                                   |
//                                   +-> PTE -> 4 KiB page (offset = 11..0)
//
// Each index is 9 bits and selects one 8-byte entry in a 4 KiB table. The walk
// is one loop over a constexpr table of levels (walker.cc); the per-level
// differences are data, not code.
//
// Order of checks, as the SDM specifies them:
//   1. A non-canonical address is #GP, before any table is read (SDM 3.3.7.1).
//   2. Per level: P = 0 ends the walk with a not-present #PF; a reserved bit
//      (PagingEntry::ReservedMask) ends it with #PF P|RSVD (SDM 4.7).
//   3. At the leaf, the combined rights are checked (SDM 4.6, access_rights.h),
//      and with CR4.PKE = 1 the leaf's protection key against PKRU (SDM
//      4.6.2, PkeyDenies): a denial by the key adds PK to the #PF error code.
//   4. Only if the access is allowed: A is set in every entry used and, for a
//      write, D in the leaf (SDM 4.8), written back to simulated memory.
//      (Real processors may set A bits during a walk that then faults; this
//      model sets none, so a failed access never changes memory.)
// PCD/PWT/PAT are carried in `leaf` but have no effect. Walk starts at CR3;
// WalkFrom starts lower, where a paging-structure cache (psc.h, SDM 4.10.3)
// left off: it reads only the entries below, sets A only in those, and
// combines their rights with the cached ones.
// A table entry outside simulated memory reads as all-ones, like a read of
// unbacked physical memory, and so faults with RSVD.
#ifndef MMSIM_HW_WALKER_H_
#define MMSIM_HW_WALKER_H_

#include <cstdint>

#include "hw/access.h"
#include "hw/access_rights.h"
#include "hw/addr.h"
#include "hw/observer.h"
#include "hw/paging_entry.h"
#include "hw/phys_mem.h"

namespace hw {

struct WalkResult {
  Fault fault;  // kind == kNone on success; the fields below are then valid
  PhysAddr frame;  // base of the leaf page
  PageSize size = PageSize::k4K;
  bool writable = false;  // R/W AND-ed over all levels
  bool user = false;      // U/S AND-ed over all levels
  bool nx = false;        // XD OR-ed over all levels
  bool global = false;    // G of the leaf (the CPU ANDs it with CR4.PGE)
  bool dirty = false;     // D of the leaf after this access
  uint8_t pkey = 0;       // protection key of the leaf, bits 62:59 (reported
                          // whatever CR4.PKE; only checked when PKE = 1)

  // Where the walk ended: the leaf (on success) or the entry that faulted
  // (0 when the fault was #GP). `leaf` holds its value as left in memory.
  int leaf_level = 0;  // 1 = PTE, 2 = PDE, 3 = PDPTE, 4 = PML4E
  PhysAddr leaf_entry_addr;
  PagingEntry leaf;

  // For the paging-structure caches: the paging level the walk read first
  // (4 = PML4E unless it started below a PSC hit) and, for each non-leaf
  // entry it read, the table that entry references and the rights combined
  // down to it. upper[0] = PML4E, [1] = PDPTE, [2] = PDE; only rows
  // 4 - first_level .. leaf row - 1 are set, and only on success.
  struct Upper {
    PhysAddr table;
    bool writable = false;
    bool user = false;
    bool nx = false;
  };
  int first_level = 4;
  Upper upper[3];

  bool ok() const { return fault.ok(); }
  // The physical address of `va`. REQUIRES: ok() and va inside the page.
  PhysAddr PhysFor(VirtAddr va) const {
    return frame + (va.value() & (PageBytesOf(size) - 1));
  }
};

// Translates `va` for `type` under `mode`, starting at the PML4 table in
// `cr3` (bits M-1..12; PCID/PCD/PWT bits are ignored). Sets A/D bits as
// described above. Reports each entry read to `obs` (may be null) as CPU
// `cpu`. Does not touch any TLB and does not raise anything: the caller
// (Cpu) turns the fault into CR2 and an observer event.
WalkResult Walk(PhysMem& mem, uint64_t cr3, VirtAddr va, AccessType type,
                const PagingMode& mode, HwObserver* obs, int cpu = 0);

// Where a walk begins: level 4 = the PML4 table in CR3 (`table` unused);
// level 3/2/1 = the PDPTE/PDE/PTE in `table`, with the rights a
// paging-structure cache accumulated above it.
struct WalkStart {
  int level = 4;
  PhysAddr table;
  bool writable = true;
  bool user = true;
  bool nx = false;
};

// Walk, starting at `start` (the TLB-miss path with a PSC hit). `cr3` is
// used only when start.level == 4.
WalkResult WalkFrom(PhysMem& mem, uint64_t cr3, const WalkStart& start,
                    VirtAddr va, AccessType type, const PagingMode& mode,
                    HwObserver* obs, int cpu = 0);

// The same walk and checks with no side effects: no A/D updates, no observer
// calls. For views and consistency checkers (e.g. "does this TLB entry agree
// with the page tables?").
WalkResult PeekWalk(const PhysMem& mem, uint64_t cr3, VirtAddr va,
                    AccessType type, const PagingMode& mode);

}  // namespace hw

#endif  // MMSIM_HW_WALKER_H_
