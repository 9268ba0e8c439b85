// hw/paging_entry.h: one 64-bit paging-structure entry (SDM vol. 3A 4.5).
//
// The same bits mean slightly different things at each level. Layout of an
// entry under 4-level paging (SDM Tables 4-14..4-19 in the editions before
// 5-level paging; Tables 4-15..4-20 in current ones):
//
//   63  62..59  58..52  51..M  M-1..12           11..9  8  7   6  5  4   3   2   1   0
//  +--+-------+-------+------+------------------+-----+--+---+--+--+---+---+---+---+--+
//  |XD| (PK)  |ignored| rsvd | address of table |ign. |G |PS |D |A |PCD|PWT|U/S|R/W|P |
//  |  |       |       | (0)  | or 4 KiB frame   |     |  |PAT|  |  |   |   |   |   |  |
//  +--+-------+-------+------+------------------+-----+--+---+--+--+---+---+---+---+--+
//
//  - Bit 7 is PS in a PDPTE/PDE (1 = maps a 1 GiB/2 MiB page), reserved in a
//    PML4E, and PAT in a PTE.
//  - In a large leaf (PS=1) bit 12 is PAT and the frame address starts at bit
//    21 (2 MiB) or 30 (1 GiB); bits 20..13 / 29..13 are reserved.
//  - G and D are meaningful only in leaves; ignored in table pointers.
//  - XD is reserved unless IA32_EFER.NXE = 1 (SDM 4.1.3).
//  - M is MAXPHYADDR; bits 51..M are reserved (SDM 4.1.4).
//  - Bits 62..59 of a LEAF are its protection key (SDM 4.6.2), used only
//    when CR4.PKE = 1; otherwise ignored (never reserved). Ignored in table
//    pointers.
//
// PagingEntry is a plain value type over the raw uint64_t; it never touches
// memory. The walker reads and writes entries through PhysMem.
#ifndef MMSIM_HW_PAGING_ENTRY_H_
#define MMSIM_HW_PAGING_ENTRY_H_

#include <cstdint>
#include <ostream>
#include <string>

#include "hw/access.h"
#include "hw/addr.h"

namespace hw {

class PagingEntry {
 public:
  // Bit positions, named as in the SDM.
  static constexpr int kBitP = 0;          // Present
  static constexpr int kBitRW = 1;         // Read/write
  static constexpr int kBitUS = 2;         // User/supervisor
  static constexpr int kBitPWT = 3;        // Page-level write-through
  static constexpr int kBitPCD = 4;        // Page-level cache disable
  static constexpr int kBitA = 5;          // Accessed
  static constexpr int kBitD = 6;          // Dirty (leaves only)
  static constexpr int kBitPS = 7;         // Page size (PDPTE, PDE)
  static constexpr int kBitPAT = 7;        // PAT (PTE only)
  static constexpr int kBitG = 8;          // Global (leaves only)
  static constexpr int kBitPATLarge = 12;  // PAT in a 2 MiB / 1 GiB leaf
  static constexpr int kBitPkey = 59;      // Protection key, bits 62:59
  static constexpr int kBitXD = 63;        // Execute-disable

  static constexpr uint64_t kP = uint64_t{1} << kBitP;
  static constexpr uint64_t kRW = uint64_t{1} << kBitRW;
  static constexpr uint64_t kUS = uint64_t{1} << kBitUS;
  static constexpr uint64_t kPWT = uint64_t{1} << kBitPWT;
  static constexpr uint64_t kPCD = uint64_t{1} << kBitPCD;
  static constexpr uint64_t kA = uint64_t{1} << kBitA;
  static constexpr uint64_t kD = uint64_t{1} << kBitD;
  static constexpr uint64_t kPS = uint64_t{1} << kBitPS;
  static constexpr uint64_t kPAT = uint64_t{1} << kBitPAT;
  static constexpr uint64_t kG = uint64_t{1} << kBitG;
  static constexpr uint64_t kPATLarge = uint64_t{1} << kBitPATLarge;
  static constexpr uint64_t kXD = uint64_t{1} << kBitXD;
  static constexpr uint64_t kPkeyMask = uint64_t{0xf} << kBitPkey;

  // The leaf flags for protection key `pkey` (0..15; higher bits dropped),
  // to OR into a builder's `flags`.
  static constexpr uint64_t PkeyFlags(int pkey) {
    return (static_cast<uint64_t>(pkey) << kBitPkey) & kPkeyMask;
  }

  // Largest MAXPHYADDR the format allows (SDM 4.1.4).
  static constexpr int kMaxPhyAddrLimit = 52;
  // Address fields at the widest MAXPHYADDR: bits 51..12, 51..21, 51..30.
  static constexpr uint64_t kAddrMask = 0x000F'FFFF'FFFF'F000ull;
  static constexpr uint64_t kAddrMask2M = 0x000F'FFFF'FFE0'0000ull;
  static constexpr uint64_t kAddrMask1G = 0x000F'FFFF'C000'0000ull;

  // Bits [maxphyaddr, 51]: must be zero in any present entry.
  static constexpr uint64_t AboveMaxPhyAddrMask(int maxphyaddr) {
    return kAddrMask & ~((uint64_t{1} << maxphyaddr) - 1);
  }

  // The reserved bits of a present entry at `level` (4 = PML4E, 3 = PDPTE,
  // 2 = PDE, 1 = PTE). `leaf_large` says the PDPTE/PDE has PS = 1.
  // SDM 4.5 Tables 4-14..4-19 and SDM 4.7 ("RSVD flag"):
  //   all levels  bits 51..M;  bit 63 (XD) when IA32_EFER.NXE = 0
  //   PML4E       bit 7 (PS must be 0)
  //   PDPTE PS=1  bits 29..13 (bit 12 is PAT)
  //   PDE   PS=1  bits 20..13 (bit 12 is PAT)
  static constexpr uint64_t ReservedMask(int level, bool leaf_large,
                                         int maxphyaddr, bool nxe) {
    uint64_t mask = AboveMaxPhyAddrMask(maxphyaddr);
    if (!nxe) mask |= kXD;
    if (level == 4) {
      mask |= kPS;
    } else if (level == 3 && leaf_large) {
      mask |= BitRange(29, 13);
    } else if (level == 2 && leaf_large) {
      mask |= BitRange(20, 13);
    }
    return mask;
  }

  constexpr PagingEntry() = default;
  explicit constexpr PagingEntry(uint64_t raw) : raw_(raw) {}

  // Builders. `flags` are OR-ed in; P is always set, PS for large leaves.
  // REQUIRES: the address is aligned to the table/page size.
  static constexpr PagingEntry Table(PhysAddr table, uint64_t flags) {
    return PagingEntry((table.value() & kAddrMask) | flags | kP);
  }
  static constexpr PagingEntry Page4K(PhysAddr frame, uint64_t flags) {
    return PagingEntry((frame.value() & kAddrMask) | flags | kP);
  }
  static constexpr PagingEntry Page2M(PhysAddr frame, uint64_t flags) {
    return PagingEntry((frame.value() & kAddrMask2M) | flags | kP | kPS);
  }
  static constexpr PagingEntry Page1G(PhysAddr frame, uint64_t flags) {
    return PagingEntry((frame.value() & kAddrMask1G) | flags | kP | kPS);
  }

  constexpr uint64_t raw() const { return raw_; }

  constexpr bool present() const { return raw_ & kP; }
  constexpr bool writable() const { return raw_ & kRW; }
  constexpr bool user() const { return raw_ & kUS; }
  constexpr bool pwt() const { return raw_ & kPWT; }
  constexpr bool pcd() const { return raw_ & kPCD; }
  constexpr bool accessed() const { return raw_ & kA; }
  constexpr bool dirty() const { return raw_ & kD; }
  constexpr bool ps() const { return raw_ & kPS; }
  constexpr bool pat() const { return raw_ & kPAT; }  // PTE
  constexpr bool pat_large() const { return raw_ & kPATLarge; }  // PS=1
  constexpr bool global() const { return raw_ & kG; }
  constexpr bool xd() const { return raw_ & kXD; }
  // The protection key, bits 62:59 (meaningful in a leaf).
  constexpr int pkey() const {
    return static_cast<int>((raw_ & kPkeyMask) >> kBitPkey);
  }

  // The address field of a table pointer or 4 KiB leaf: bits M-1..12.
  constexpr PhysAddr addr(int maxphyaddr) const {
    return PhysAddr(raw_ & kAddrMask & ~AboveMaxPhyAddrMask(maxphyaddr));
  }
  // The frame number in bits 51..12 (reserved bits are the walker's concern).
  constexpr Pfn pfn() const { return Pfn((raw_ & kAddrMask) >> kPageShift); }
  // The base of the page a leaf of `size` maps: bits M-1..12 / ..21 / ..30.
  constexpr PhysAddr frame_addr(PageSize size, int maxphyaddr) const {
    const uint64_t field = size == PageSize::k4K   ? kAddrMask
                           : size == PageSize::k2M ? kAddrMask2M
                                                   : kAddrMask1G;
    return PhysAddr(raw_ & field & ~AboveMaxPhyAddrMask(maxphyaddr));
  }

  // Value-returning mutators.
  constexpr PagingEntry with_present(bool v) const { return With(kP, v); }
  constexpr PagingEntry with_writable(bool v) const { return With(kRW, v); }
  constexpr PagingEntry with_user(bool v) const { return With(kUS, v); }
  constexpr PagingEntry with_pwt(bool v) const { return With(kPWT, v); }
  constexpr PagingEntry with_pcd(bool v) const { return With(kPCD, v); }
  constexpr PagingEntry with_accessed(bool v) const { return With(kA, v); }
  constexpr PagingEntry with_dirty(bool v) const { return With(kD, v); }
  constexpr PagingEntry with_ps(bool v) const { return With(kPS, v); }
  constexpr PagingEntry with_global(bool v) const { return With(kG, v); }
  constexpr PagingEntry with_xd(bool v) const { return With(kXD, v); }
  // Replaces bits 62:59 with `pkey` (0..15; higher bits dropped).
  constexpr PagingEntry with_pkey(int pkey) const {
    return PagingEntry((raw_ & ~kPkeyMask) | PkeyFlags(pkey));
  }
  // Replaces bits 51..12 (table pointer or 4 KiB leaf).
  constexpr PagingEntry with_addr(PhysAddr pa) const {
    return PagingEntry((raw_ & ~kAddrMask) | (pa.value() & kAddrMask));
  }
  constexpr PagingEntry with_pfn(Pfn pfn) const {
    return with_addr(PhysAddr::FromPfn(pfn));
  }
  // Replaces the frame field of a leaf of `size`, keeping PAT (bit 12) of a
  // large leaf.
  constexpr PagingEntry with_frame(PhysAddr pa, PageSize size) const {
    const uint64_t field = size == PageSize::k4K   ? kAddrMask
                           : size == PageSize::k2M ? kAddrMask2M
                                                   : kAddrMask1G;
    return PagingEntry((raw_ & ~field) | (pa.value() & field));
  }

  // In-place mutators.
  void set_present(bool v) { *this = with_present(v); }
  void set_writable(bool v) { *this = with_writable(v); }
  void set_user(bool v) { *this = with_user(v); }
  void set_pwt(bool v) { *this = with_pwt(v); }
  void set_pcd(bool v) { *this = with_pcd(v); }
  void set_accessed(bool v) { *this = with_accessed(v); }
  void set_dirty(bool v) { *this = with_dirty(v); }
  void set_ps(bool v) { *this = with_ps(v); }
  void set_global(bool v) { *this = with_global(v); }
  void set_xd(bool v) { *this = with_xd(v); }
  void set_pkey(int pkey) { *this = with_pkey(pkey); }
  void set_addr(PhysAddr pa) { *this = with_addr(pa); }
  void set_pfn(Pfn pfn) { *this = with_pfn(pfn); }

  friend constexpr bool operator==(PagingEntry, PagingEntry) = default;

  // "0x...: P RW US A D PS G XD pkey=N addr=0x..." (flags that are set; the
  // key when it is not 0).
  std::string ToString() const;
  friend std::ostream& operator<<(std::ostream& os, PagingEntry e) {
    return os << e.ToString();
  }

 private:
  // Bits hi..lo inclusive.
  static constexpr uint64_t BitRange(int hi, int lo) {
    return ((hi == 63 ? ~uint64_t{0} : (uint64_t{1} << (hi + 1)) - 1) >> lo)
           << lo;
  }
  constexpr PagingEntry With(uint64_t mask, bool v) const {
    return PagingEntry(v ? (raw_ | mask) : (raw_ & ~mask));
  }

  uint64_t raw_ = 0;
};

static_assert(PagingEntry::kP == 1ull << 0);
static_assert(PagingEntry::kRW == 1ull << 1);
static_assert(PagingEntry::kUS == 1ull << 2);
static_assert(PagingEntry::kPWT == 1ull << 3);
static_assert(PagingEntry::kPCD == 1ull << 4);
static_assert(PagingEntry::kA == 1ull << 5);
static_assert(PagingEntry::kD == 1ull << 6);
static_assert(PagingEntry::kPS == 1ull << 7);
static_assert(PagingEntry::kPAT == 1ull << 7);
static_assert(PagingEntry::kG == 1ull << 8);
static_assert(PagingEntry::kPATLarge == 1ull << 12);
static_assert(PagingEntry::kXD == 1ull << 63);
static_assert(PagingEntry::kPkeyMask == 0x7800'0000'0000'0000ull);
static_assert(sizeof(PagingEntry) == 8);

}  // namespace hw

#endif  // MMSIM_HW_PAGING_ENTRY_H_
