// hw/tlb.h: a multi-level, set-associative TLB (SDM vol. 3A 4.10).
//
// What is modelled (SDM section in brackets):
//   - Entries cache a translation with combined rights, the leaf's D flag, the
//     PCID and the global bit (4.10.2.2, 4.10.2.4); see tlb_entry.h.
//   - A lookup matches an entry whose page contains the address and whose
//     PCID is the current one or which is global (4.10.2.4).
//   - Several page sizes, each in its own array, and levels below the first
//     (L1 DTLB, STLB) as the TlbProfile describes (4.10.2.1: organisation is
//     implementation-specific).
//   - Invalidation: INVLPG (4.10.4.1: every entry for the address in the
//     current PCID whatever its page size, plus global entries for it),
//     INVPCID types 0-3, flushes by PCID, non-global, everything.
// What is not: paging-structure caches (4.10.3), separate instruction TLBs,
// the store DTLB, memory types.
//
// Hierarchy policy: a miss in every level is filled (Cpu::Translate, after a
// successful walk) into every level that has an array for the page size; a
// hit in a lower level is copied into the levels above it ("promotion").
// Levels are neither inclusive nor exclusive: evicting from L1 leaves the
// STLB copy. Within a set an invalid way is used first (lowest index), then
// the profile's replacement policy picks the victim (LRU or tree-PLRU; see
// tlb_profile.h). Everything is deterministic.
//
// Invariants:
//   1. A slot is valid iff its tag != kInvalidTag; entries[slot].valid agrees.
//   2. A valid slot's entry has the array's page size (or 2M in a shared 4K
//      array) and sits in set (entry page number & (sets - 1)).
//   3. Within one array no two valid slots hold the same (page, size, PCID).
// Pointers returned by Lookup()/Peek() stay valid until the next call that
// changes the TLB (Lookup itself may promote, Fill, any invalidation).
//
// Thread safety: none; one Tlb belongs to one Cpu.
#ifndef MMSIM_HW_TLB_H_
#define MMSIM_HW_TLB_H_

#include <array>
#include <cstddef>
#include <cstdint>
#include <vector>

#include "absl/base/optimization.h"
#include "absl/functional/function_ref.h"
#include "hw/access.h"
#include "hw/addr.h"
#include "hw/observer.h"
#include "hw/tlb_entry.h"
#include "hw/tlb_profile.h"

namespace hw {

// Per-level event counts (names follow the usual PMU vocabulary).
struct TlbCounters {
  uint64_t hits = 0;         // lookups satisfied at this level
  uint64_t misses = 0;       // lookups that reached this level and missed
  uint64_t walks = 0;        // page walks (counted at the last level, where
                             // the page-miss handler sits)
  uint64_t fills = 0;        // entries written (walk fills and promotions)
  uint64_t evictions = 0;    // valid entries replaced by a fill
  uint64_t flushes = 0;      // invalidation operations applied
  uint64_t invalidations = 0;  // entries dropped by those operations

  friend bool operator==(const TlbCounters&, const TlbCounters&) = default;
};

class Tlb {
 public:
  // CHECK-fails unless ValidateTlbProfile(profile) is OK. Copies the profile.
  explicit Tlb(const TlbProfile& profile);

  Tlb(const Tlb&) = delete;
  Tlb& operator=(const Tlb&) = delete;

  // The translation for `va` in address space `pcid`, or nullptr on a miss in
  // every level. Updates replacement state and counters, promotes lower-level
  // hits. Inline fast path: one probe of the L1 4K array.
  const TlbEntry* Lookup(VirtAddr va, uint16_t pcid);

  // The same search with no side effects (no counters, replacement update,
  // promotion or observer calls). For views and checkers.
  const TlbEntry* Peek(VirtAddr va, uint16_t pcid) const;

  // Caches `entry` in every level with an array for entry.size. An entry for
  // the same page, size and PCID is overwritten in place; otherwise the
  // victim is chosen as described above. REQUIRES: entry.valid, and vpn
  // aligned to the page size.
  void Fill(const TlbEntry& entry);

  // Invalidations. Each returns the number of entries dropped (all levels)
  // and counts one flush at every level.
  //
  // INVLPG: drops every entry whose page contains `va` and whose PCID is
  // `pcid` or which is global, in every level and array.
  size_t InvalidatePage(VirtAddr va, uint16_t pcid);
  // INVPCID type 0: the same but keeps global entries.
  size_t InvalidatePageNonGlobal(VirtAddr va, uint16_t pcid);
  // Non-global entries of `pcid` (CR3 write, INVPCID type 1).
  size_t FlushPcid(uint16_t pcid);
  // Non-global entries of every PCID (INVPCID type 3).
  size_t FlushNonGlobal();
  // Everything, global entries too (INVPCID type 2, CR4.PGE toggle).
  size_t FlushAll();

  // Calls fn(level, entry) for every valid entry, level by level, array by
  // array, slot by slot (a fixed order).
  void ForEachEntry(absl::FunctionRef<void(int, const TlbEntry&)> fn) const;
  // Number of valid entries in `level`.
  size_t CountValid(int level) const;

  // Notes one page walk (Cpu calls this; see TlbCounters::walks).
  void CountWalk() { ++counters_.back().walks; }

  const TlbCounters& counters(int level) const { return counters_[level]; }
  void ResetCounters();
  int num_levels() const { return static_cast<int>(levels_.size()); }
  const TlbProfile& profile() const { return profile_; }

  // Events go to `observer` (may be null) tagged with CPU `cpu`.
  void set_observer(HwObserver* observer, int cpu) {
    observer_ = observer;
    cpu_ = cpu;
  }

 private:
  static constexpr uint64_t kInvalidTag = ~uint64_t{0};

  // One set-associative array. Slot s = set * ways + way.
  struct Array {
    PageSize size = PageSize::k4K;
    bool shares_2m = false;
    int ways = 0;
    int tree_leaves = 0;  // ways rounded up to a power of two (PLRU)
    uint64_t set_mask = 0;
    std::vector<uint64_t> tags;     // per slot: Tag(vpn, size) or kInvalidTag
    std::vector<TlbEntry> entries;  // per slot
    std::vector<uint64_t> stamps;   // per slot: last use (LRU)
    std::vector<uint64_t> plru;     // per set: tree bits (PLRU)
    // Tree-PLRU touch of way w: bits = (bits | plru_set[w]) & ~plru_clear[w]
    // (precomputed so the hit path does no tree walk).
    std::vector<uint64_t> plru_set;
    std::vector<uint64_t> plru_clear;
    uint64_t clock = 0;
  };
  struct Level {
    std::vector<Array> arrays;  // the 4K array first, if there is one
  };

  // Tag of a page: its 4K-granular page number and size code, so a 4K entry
  // and a 2M entry for the same base never compare equal.
  static uint64_t Tag(uint64_t vpn, PageSize size) {
    return (vpn << 2) | static_cast<uint64_t>(size);
  }

  void Touch(Array& a, size_t set, int way) {
    if (replacement_ == TlbReplacement::kLru) {
      a.stamps[set * a.ways + way] = ++a.clock;
    } else {
      a.plru[set] = (a.plru[set] | a.plru_set[way]) & ~a.plru_clear[way];
    }
  }
  static void InitPlruMasks(Array& a);
  // The replacement policy's choice in a set whose ways are all valid (an
  // invalid way, the lowest, is used first: Insert finds it).
  int PolicyVictim(const Array& a, size_t set) const;

  // One probe of the slow path: `size` pages in array `a` (shift = its
  // PageShiftOf). Precomputed per level in the probe order (arrays in level
  // order, then the sizes an array holds), without the fast path's probe of
  // the L1 4K array, so that a lookup that misses L1 (an STLB hit, a 2M page)
  // runs one tight loop instead of searching the profile's structure.
  struct ProbeSpec {
    Array* a = nullptr;
    PageSize size = PageSize::k4K;
    int shift = 0;
  };
  struct LevelProbes {
    std::array<ProbeSpec, 6> p;  // at most 3 arrays of which one shares 2M
    int n = 0;
  };
  // The hit in `way` of `set` of `a` in `level`: replacement update, counters,
  // observer, promotion into the levels above; returns the highest copy.
  const TlbEntry* Hit(int level, Array& a, size_t set, int way, VirtAddr va);

  const TlbEntry* LookupSlow(VirtAddr va, uint16_t pcid);
  // Slot in `a` holding a translation of `size` for va/pcid, or -1.
  static ptrdiff_t Probe(const Array& a, PageSize size, VirtAddr va,
                         uint16_t pcid);
  // The array of `level` that caches `size`, or nullptr.
  Array* ArrayFor(int level, PageSize size);
  TlbEntry* Insert(int level, Array& a, const TlbEntry& entry);
  void Drop(int level, Array& a, size_t slot);
  // Drops the entries of `va`'s page that satisfy keep_global/pcid rules.
  size_t InvalidateAddress(VirtAddr va, uint16_t pcid, bool include_global);
  template <typename Pred>
  size_t InvalidateWhere(Pred pred);

  TlbProfile profile_;
  TlbReplacement replacement_;
  std::vector<Level> levels_;
  std::vector<TlbCounters> counters_;
  std::vector<LevelProbes> probes_;  // per level: the slow path's probes
  // Per level and PageSize: the array that caches that size, or nullptr
  // (what ArrayFor answers, looked up once).
  std::vector<std::array<Array*, 3>> array_for_;
  // The fast-path array, levels_[0].arrays[0], and copies of what the hit
  // path reads from it (saves pointer chasing through the vectors).
  Array* l1_4k_ = nullptr;
  const uint64_t* l1_tags_ = nullptr;
  TlbEntry* l1_entries_ = nullptr;
  uint64_t l1_set_mask_ = 0;
  int l1_ways_ = 0;
  HwObserver* observer_ = nullptr;
  int cpu_ = 0;
};

inline const TlbEntry* Tlb::Lookup(VirtAddr va, uint16_t pcid) {
  const uint64_t vpn = va.value() >> kPageShift;
  const uint64_t tag = Tag(vpn, PageSize::k4K);
  const size_t set = vpn & l1_set_mask_;
  const size_t base = set * l1_ways_;
  const uint64_t* tags = l1_tags_ + base;
  for (int w = 0; w < l1_ways_; ++w) {
    if (tags[w] == tag) {
      TlbEntry& e = l1_entries_[base + w];
      if (ABSL_PREDICT_TRUE(e.pcid == pcid || e.global)) {
        Touch(*l1_4k_, set, w);
        ++counters_[0].hits;
        if (ABSL_PREDICT_FALSE(observer_ != nullptr)) {
          observer_->OnTlbHit(cpu_, 0, va, e);
        }
        return &e;
      }
    }
  }
  return LookupSlow(va, pcid);
}

}  // namespace hw

#endif  // MMSIM_HW_TLB_H_
