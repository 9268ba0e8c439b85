// hw/walker.cc: the page walk as one loop over a table of levels.
// See walker.h for the address split and the order of checks.
#include "hw/walker.h"

#include <cstdint>

#include "absl/base/optimization.h"

namespace hw {
namespace {

// How an entry at a level can end the walk.
enum class LeafRule : uint8_t {
  kNever,   // PML4E: always references a table (PS is reserved)
  kIfPs,    // PDPTE/PDE: a leaf when PS = 1
  kAlways,  // PTE
};

// One row per paging level, top down (SDM 4.5, Tables 4-14..4-19).
struct LevelDesc {
  int level;           // 4 = PML4, 3 = PDPT, 2 = PD, 1 = PT
  int shift;           // lowest linear-address bit of this level's index
  LeafRule leaf_rule;
  PageSize leaf_size;  // page size mapped when this entry is a leaf
  // Level-specific reserved bits (on top of bits 51..M and XD-without-NXE):
  uint64_t rsvd;        // ... in an entry that references a table / a PTE
  uint64_t rsvd_large;  // ... in a PDPTE/PDE with PS = 1
};

constexpr LevelDesc kLevels[] = {
    {4, 39, LeafRule::kNever, PageSize::k4K, PagingEntry::kPS, 0},
    {3, 30, LeafRule::kIfPs, PageSize::k1G, 0, 0x3fff'e000},  // bits 29:13
    {2, 21, LeafRule::kIfPs, PageSize::k2M, 0, 0x001f'e000},  // bits 20:13
    {1, 12, LeafRule::kAlways, PageSize::k4K, 0, 0},
};

// The table must say what PagingEntry::ReservedMask says (the documented
// form); checked at compile time for a sample MAXPHYADDR.
constexpr bool TableMatchesReservedMask() {
  for (const LevelDesc& d : kLevels) {
    const uint64_t common = PagingEntry::AboveMaxPhyAddrMask(40);
    if (PagingEntry::ReservedMask(d.level, false, 40, true) != (common | d.rsvd)) {
      return false;
    }
    if (d.leaf_rule == LeafRule::kIfPs &&
        PagingEntry::ReservedMask(d.level, true, 40, true) !=
            (common | d.rsvd_large)) {
      return false;
    }
  }
  return true;
}
static_assert(TableMatchesReservedMask());
constexpr int kNumLevels = sizeof(kLevels) / sizeof(kLevels[0]);
constexpr uint64_t kIndexMask = 0x1ff;  // 9 bits: 512 entries per table

static_assert(kLevels[0].shift == kLinearAddressBits - 9);
static_assert(PageShiftOf(PageSize::k1G) == kLevels[1].shift);
static_assert(PageShiftOf(PageSize::k2M) == kLevels[2].shift);
static_assert(PageShiftOf(PageSize::k4K) == kLevels[3].shift);

// Reads one entry; physical addresses with no memory behind them read as
// all-ones (which any checker then rejects as reserved).
inline uint64_t ReadEntry(const PhysMem& mem, PhysAddr pa) {
  if (ABSL_PREDICT_FALSE(!mem.Contains(pa, sizeof(uint64_t)))) {
    return ~uint64_t{0};
  }
  return mem.ReadU64(pa);
}

WalkResult PageFault(VirtAddr va, uint32_t error_code, int level,
                     PhysAddr entry_addr, uint64_t entry) {
  WalkResult r;
  r.fault = Fault::PageFault(va.value(), error_code);
  r.leaf_level = level;
  r.leaf_entry_addr = entry_addr;
  r.leaf = PagingEntry(entry);
  return r;
}

// kCommit = true: the architectural walk (A/D updates, observer).
// kCommit = false: a side-effect-free probe; `mem` is then only read.
// `start` says where the walk begins: at the PML4 table in CR3, or below a
// paging-structure-cache hit with the rights the cache accumulated.
template <bool kCommit>
WalkResult DoWalk(const PhysMem& mem, PhysMem* mutable_mem, uint64_t cr3,
                  const WalkStart& start, VirtAddr va, AccessType type,
                  const PagingMode& mode, HwObserver* obs, int cpu) {
  if (ABSL_PREDICT_FALSE(!va.IsCanonical())) {
    WalkResult r;
    r.fault = Fault::GeneralProtection(va.value());
    return r;
  }
  const int m = mode.maxphyaddr;
  const uint32_t access_bits = AccessErrorBits(type, mode);
  // Reserved at every level: bits 51..M, and XD unless EFER.NXE = 1.
  const uint64_t rsvd_common =
      PagingEntry::AboveMaxPhyAddrMask(m) | (mode.nxe ? 0 : PagingEntry::kXD);

  PhysAddr entry_addrs[kNumLevels];
  uint64_t entries[kNumLevels];
  // Tables referenced by the non-leaf entries read, and the rights combined
  // down to each (what a paging-structure cache may keep, SDM 4.10.3.1).
  WalkResult::Upper upper[kNumLevels - 1];
  const int first = kNumLevels - start.level;  // row of the first entry read
  bool writable = start.writable;
  bool user = start.user;
  bool nx = start.nx;
  PhysAddr table = start.level == 4 ? PagingEntry(cr3).addr(m) : start.table;

  for (int i = first; i < kNumLevels; ++i) {
    const LevelDesc& d = kLevels[i];
    const PhysAddr entry_addr =
        table + (((va.value() >> d.shift) & kIndexMask) << 3);
    const uint64_t raw = ReadEntry(mem, entry_addr);
    if constexpr (kCommit) {
      if (ABSL_PREDICT_FALSE(obs != nullptr)) {
        obs->OnWalkStep(cpu, d.level, entry_addr, raw);
      }
    }
    entry_addrs[i] = entry_addr;
    entries[i] = raw;
    const PagingEntry e(raw);

    if (!e.present()) {
      return PageFault(va, access_bits, d.level, entry_addr, raw);
    }
    const bool large = d.leaf_rule == LeafRule::kIfPs && e.ps();
    if (raw & (rsvd_common | (large ? d.rsvd_large : d.rsvd))) {
      return PageFault(va, kPfErrPresent | kPfErrRsvd | access_bits, d.level,
                       entry_addr, raw);
    }
    writable = writable && e.writable();
    user = user && e.user();
    nx = nx || e.xd();
    if (!large && d.leaf_rule != LeafRule::kAlways) {
      table = e.addr(m);
      upper[i] = WalkResult::Upper{table, writable, user, nx};
      continue;
    }

    // Leaf: SDM 4.6 rights on the combined flags, and the protection key
    // (SDM 4.6.2), which sets PK whenever it denies.
    const bool pk_denies = PkeyDenies(user, e.pkey(), type, mode);
    if (!AccessAllowed(writable, user, nx, type, mode) ||
        ABSL_PREDICT_FALSE(pk_denies)) {
      return PageFault(va,
                       kPfErrPresent | access_bits | (pk_denies ? kPfErrPk : 0),
                       d.level, entry_addr, raw);
    }
    // SDM 4.8: set A in every entry used and D in the leaf for a write.
    uint64_t leaf = raw | PagingEntry::kA;
    if (type == AccessType::kWrite) leaf |= PagingEntry::kD;
    if constexpr (kCommit) {
      for (int j = first; j < i; ++j) {
        if (!(entries[j] & PagingEntry::kA) &&
            mem.Contains(entry_addrs[j], sizeof(uint64_t))) {
          mutable_mem->WriteU64(entry_addrs[j], entries[j] | PagingEntry::kA);
        }
      }
      if (leaf != raw && mem.Contains(entry_addr, sizeof(uint64_t))) {
        mutable_mem->WriteU64(entry_addr, leaf);
      }
    } else {
      leaf = raw;  // a peek reports the entry as it is
    }

    WalkResult r;
    r.size = large ? d.leaf_size : PageSize::k4K;
    r.frame = e.frame_addr(r.size, m);
    r.writable = writable;
    r.user = user;
    r.nx = nx;
    r.global = e.global();
    r.pkey = static_cast<uint8_t>(e.pkey());
    r.dirty = (leaf & PagingEntry::kD) != 0;
    r.leaf_level = d.level;
    r.leaf_entry_addr = entry_addr;
    r.leaf = PagingEntry(leaf);
    r.first_level = start.level;
    for (int j = first; j < i; ++j) r.upper[j] = upper[j];
    return r;
  }
  __builtin_unreachable();  // the PTE row always ends the walk
}

}  // namespace

WalkResult Walk(PhysMem& mem, uint64_t cr3, VirtAddr va, AccessType type,
                const PagingMode& mode, HwObserver* obs, int cpu) {
  return DoWalk<true>(mem, &mem, cr3, WalkStart{}, va, type, mode, obs, cpu);
}

WalkResult WalkFrom(PhysMem& mem, uint64_t cr3, const WalkStart& start,
                    VirtAddr va, AccessType type, const PagingMode& mode,
                    HwObserver* obs, int cpu) {
  return DoWalk<true>(mem, &mem, cr3, start, va, type, mode, obs, cpu);
}

WalkResult PeekWalk(const PhysMem& mem, uint64_t cr3, VirtAddr va,
                    AccessType type, const PagingMode& mode) {
  return DoWalk<false>(mem, nullptr, cr3, WalkStart{}, va, type, mode, nullptr,
                       0);
}

}  // namespace hw
