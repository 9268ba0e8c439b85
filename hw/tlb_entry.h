// hw/tlb_entry.h: one cached translation (SDM vol. 3A 4.10.2).
//
// SDM 4.10.2.2 lists what a TLB entry holds: the physical frame for a page
// number, the logical-AND of the R/W and U/S flags over the paging-structure
// entries used, the logical-OR of the XD flags, the leaf's dirty flag (and
// memory type, not modelled), tagged with the PCID (SDM 4.10.1) and whether
// the translation is global (G = 1 in the leaf with CR4.PGE = 1, SDM 4.10.2.4).
// It also holds the leaf's protection key (SDM 4.10.2.2), never PKRU: every hit
// checks the key against the current PKRU, so WRPKRU needs no invalidation.
#ifndef MMSIM_HW_TLB_ENTRY_H_
#define MMSIM_HW_TLB_ENTRY_H_

#include <cstdint>
#include <string>

#include "hw/access.h"
#include "hw/addr.h"

namespace hw {

struct TlbEntry {
  uint64_t vpn = 0;   // va >> 12 of the page base (of the large page for
                      // 2M/1G entries)
  uint64_t pfn = 0;   // frame number of the page base
  uint16_t pcid = 0;  // process-context identifier (0 when CR4.PCIDE = 0)
  PageSize size = PageSize::k4K;
  bool valid = false;
  bool global = false;    // matches in every PCID
  bool writable = false;  // R/W AND-ed over all levels
  bool user = false;      // U/S AND-ed over all levels
  bool nx = false;        // XD OR-ed over all levels
  bool dirty = false;     // D of the leaf when the entry was filled
  uint8_t pkey = 0;       // protection key of the leaf (bits 62:59), 0..15

  VirtAddr va_base() const { return VirtAddr(vpn << kPageShift); }
  PhysAddr pa_base() const { return PhysAddr(pfn << kPageShift); }
  uint64_t bytes() const { return PageBytesOf(size); }
  // True iff `va` lies inside the page this entry maps.
  bool Covers(VirtAddr va) const {
    return (va.value() >> PageShiftOf(size)) ==
           (vpn >> (PageShiftOf(size) - kPageShift));
  }
  // The physical address `va` translates to. REQUIRES: Covers(va).
  PhysAddr Translate(VirtAddr va) const {
    return PhysAddr((pfn << kPageShift) + (va.value() & (bytes() - 1)));
  }

  // "va:0x... -> pa:0x... 4K pcid=1 W U NX D G pkey=1" (for views and
  // traces; the key only when it is not 0).
  std::string ToString() const;

  friend bool operator==(const TlbEntry&, const TlbEntry&) = default;
};

}  // namespace hw

#endif  // MMSIM_HW_TLB_ENTRY_H_
