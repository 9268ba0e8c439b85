// hw/psc.h: the paging-structure caches (SDM vol. 3A 4.10.3).
//
// Besides the TLB, which caches whole translations, a processor may cache
// the upper levels of a walk so that a TLB miss reads fewer entries. For
// 4-level paging the SDM (4.10.3.1) describes three caches:
//
//   cache   tagged by (and PCID)  holds
//   PML4E   linear bits 47:39     the PDPT's physical address; R/W, U/S, XD
//                                 of the PML4E
//   PDPTE   linear bits 47:30     the page directory's address; R/W and U/S
//                                 AND-ed, XD OR-ed over PML4E and PDPTE
//   PDE     linear bits 47:21     the page table's address; rights combined
//                                 over PML4E, PDPTE and PDE
//
// Rules modelled (SDM 4.10.3.1, 4.10.3.2):
//   - An entry is created only from a paging-structure entry with P = 1, no
//     reserved bit set and A = 1 in memory (the walk sets A first). This
//     model creates entries only after a successful walk, which is when the
//     walker sets A bits; a PDPTE or PDE that maps a page (PS = 1) is a leaf
//     and gets no entry. Dirty bits exist only in leaves: no D here.
//   - On a TLB miss the longest match is used: a PDE-cache entry means only
//     the PTE is read; else a PDPTE-cache entry (read PDE, PTE); else a
//     PML4E-cache entry (read PDPTE, PDE, PTE); else the walk starts at CR3.
//     Rights found in the cache are combined with those of the entries read.
//     A walk that uses a cache entry does not touch (or set A in) the entries
//     the cache stands for: changing them in memory has no effect until an
//     invalidation, exactly the staleness the SDM allows.
//   - There are no global PSC entries: every entry belongs to one PCID.
// Invalidation (SDM 4.10.4.1; Cpu applies these together with the TLB's):
//   INVLPG                 every entry of the current PCID, any address
//   INVPCID type 0         the entries of that PCID that would be used to
//                          translate the address (InvalidateAddress)
//   INVPCID type 1         every entry of that PCID
//   INVPCID types 2 and 3  everything
//   MOV to CR3             every entry of the new PCID unless bit 63 is set
//                          (PCIDE = 0: PCID 0)
//   MOV to CR4             everything when PGE changes, PCIDE goes 1 -> 0,
//                          or SMEP goes 0 -> 1 (as the TLB)
//   #PF                    the entries that would be used for the faulting
//                          address, in the current PCID
//
// Organisation: each cache is `sets` x `ways` with true LRU (PscConfig in
// tlb_profile.h); a cache with no entries is skipped. Deterministic.
// Thread safety: none; one cache belongs to one Cpu.
#ifndef MMSIM_HW_PSC_H_
#define MMSIM_HW_PSC_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "absl/base/optimization.h"
#include "absl/functional/function_ref.h"
#include "hw/addr.h"
#include "hw/tlb_profile.h"

namespace hw {

// The caches, top down. Index into PscCounters arrays and ForEachEntry.
enum class PscLevel : uint8_t { kPml4e = 0, kPdpte = 1, kPde = 2 };
inline constexpr int kNumPscLevels = 3;
const char* PscLevelName(PscLevel level);  // "PML4E", "PDPTE", "PDE"

// One cached upper-level entry.
struct PscEntry {
  uint64_t prefix = 0;  // linear-address bits 47:shift of the level, >> shift
  PhysAddr table;       // the next-level table this entry references
  uint16_t pcid = 0;
  bool writable = false;  // R/W AND-ed from the PML4E down to this entry
  bool user = false;      // U/S AND-ed
  bool nx = false;        // XD OR-ed
  // "PDE va:0x7f0000000000/21 -> table pa:0x11000 pcid=3 W U NX"
  std::string ToString(PscLevel level) const;
};

struct PscCounters {
  uint64_t hits = 0;           // lookups answered by this cache
  uint64_t misses = 0;         // lookups that probed it and missed
  uint64_t fills = 0;          // entries written after a walk
  uint64_t evictions = 0;      // valid entries replaced by a fill
  uint64_t invalidations = 0;  // entries dropped by invalidations

  friend bool operator==(const PscCounters&, const PscCounters&) = default;
};

// Where a walk may start after a PSC lookup.
struct PscMatch {
  int level = 4;     // paging level whose entry is read first: 1 = PTE
                     // (PDE-cache hit) ... 4 = PML4E (no hit)
  PhysAddr table;    // the table holding that entry (unset when level = 4)
  bool writable = true;
  bool user = true;
  bool nx = false;
};

class PagingStructureCache {
 public:
  // REQUIRES: ValidateTlbProfile accepted the profile holding `config`.
  explicit PagingStructureCache(const PscConfig& config);

  PagingStructureCache(const PagingStructureCache&) = delete;
  PagingStructureCache& operator=(const PagingStructureCache&) = delete;

  // False when every cache has zero entries (the profile turned them off).
  bool enabled() const { return enabled_; }

  // The longest match for `va` in `pcid`: probes PDE, then PDPTE, then
  // PML4E, counting a miss in each cache probed and a hit in the one that
  // answers; updates LRU. REQUIRES: enabled(), va canonical.
  PscMatch Lookup(VirtAddr va, uint16_t pcid);

  // Caches the entry of paging level `level` (4 = PML4E, 3 = PDPTE, 2 = PDE)
  // used for `va`: it references `table`, and the rights are those
  // accumulated down to it. Overwrites an entry with the same tag.
  void Fill(int level, VirtAddr va, uint16_t pcid, PhysAddr table,
            bool writable, bool user, bool nx);

  // Invalidations (see the table above); each returns the entries dropped.
  size_t InvalidatePcid(uint16_t pcid);
  size_t InvalidateAddress(VirtAddr va, uint16_t pcid);
  size_t InvalidateAll();

  // Every valid entry, PML4E cache first, slot order within a cache.
  void ForEachEntry(
      absl::FunctionRef<void(PscLevel, const PscEntry&)> fn) const;
  size_t CountValid(PscLevel level) const;
  // The entries a lookup of `va` in `pcid` could use, without side effects
  // (nullptr if none), for views and tests.
  const PscEntry* Peek(PscLevel level, VirtAddr va, uint16_t pcid) const;

  const PscCounters& counters(PscLevel level) const {
    return caches_[static_cast<int>(level)].counters;
  }
  void ResetCounters();
  const PscArrayConfig& config(PscLevel level) const {
    return caches_[static_cast<int>(level)].config;
  }

 private:
  static constexpr uint64_t kInvalidTag = ~uint64_t{0};

  struct Cache {
    PscArrayConfig config;
    int shift = 0;  // 39, 30, 21
    uint64_t set_mask = 0;
    std::vector<uint64_t> tags;  // per slot: Tag(prefix, pcid) or kInvalidTag
    std::vector<PscEntry> entries;
    std::vector<uint64_t> stamps;  // LRU
    uint64_t clock = 0;
    PscCounters counters;
  };

  // Bits 47:shift of the address, the PCID in the low 12 bits of the tag.
  static uint64_t Prefix(VirtAddr va, int shift) {
    return (va.value() & ((uint64_t{1} << kLinearAddressBits) - 1)) >> shift;
  }
  static uint64_t Tag(uint64_t prefix, uint16_t pcid) {
    return (prefix << 12) | pcid;
  }
  // Slot of (prefix, pcid) in `c`, or -1.
  static ptrdiff_t Find(const Cache& c, uint64_t tag, uint64_t prefix);
  template <typename Pred>
  size_t InvalidateWhere(Pred pred);

  Cache caches_[kNumPscLevels];
  bool enabled_ = false;
};

}  // namespace hw

#endif  // MMSIM_HW_PSC_H_
