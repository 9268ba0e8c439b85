// hw/tlb_profile.h: the shape of a TLB hierarchy (SDM vol. 3A 4.10.2).
//
// The SDM leaves TLB organisation to the implementation (SDM 4.10.2.1: "the
// details ... are implementation-specific"). A TlbProfile describes one:
// levels (L1 DTLB, STLB, ...), each holding one or more set-associative
// arrays, each array caching one page size with its own capacity; an array
// may also hold 2 MiB entries next to 4 KiB ones (Intel's unified STLB).
// Profiles are plain data; Tlb (tlb.h) is built from one.
//
// Built-in profiles (FindTlbProfile):
//   "skylake"     Skylake client (the default)
//   "goldencove"  Golden Cove (Alder Lake P-core / Sapphire Rapids)
//   "tiny"        a 2-level toy TLB small enough to watch evictions
// Each profile's `source` says where its numbers come from.
#ifndef MMSIM_HW_TLB_PROFILE_H_
#define MMSIM_HW_TLB_PROFILE_H_

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "hw/access.h"

namespace hw {

struct TlbArrayConfig {
  PageSize size;  // the page size this array caches
  int sets;       // power of two (set index = page number & (sets - 1))
  int ways;       // 1..64
  // A 4 KiB array that also caches 2 MiB entries (Intel's "shared 4K/2M"
  // STLB). 2 MiB entries are indexed by their own page number, va >> 21.
  bool shares_2m = false;

  int entries() const { return sets * ways; }
};

struct TlbLevelConfig {
  std::string name;                     // "DTLB", "STLB", ... (views print "L1 DTLB")
  std::vector<TlbArrayConfig> arrays;
};

// Victim choice within a set once every way is valid (an invalid way is
// always used first, lowest index first). Both are deterministic.
enum class TlbReplacement {
  kLru,       // true LRU: the way least recently hit or filled
  kTreePlru,  // tree pseudo-LRU: one bit per inner node of a binary tree
              // over the ways; for a non-power-of-two way count the tree
              // is built over the next power of two and never points at a
              // way that does not exist
};

// One paging-structure cache (SDM 4.10.3): `sets` x `ways` entries, true
// LRU within a set. sets = ways = 0: the cache does not exist.
struct PscArrayConfig {
  int sets = 0;  // power of two (set index = the entry's address prefix & (sets - 1))
  int ways = 0;  // 1..64

  int entries() const { return sets * ways; }
};

// The three paging-structure caches of 4-level paging (SDM 4.10.3.1). The
// SDM documents what an entry holds and when it may be used, not how many
// there are; each profile's `psc_source` says where its sizes come from.
struct PscConfig {
  PscArrayConfig pml4e;  // tagged by linear-address bits 47:39 and PCID
  PscArrayConfig pdpte;  // ... bits 47:30
  PscArrayConfig pde;    // ... bits 47:21

  bool enabled() const {
    return pml4e.entries() + pdpte.entries() + pde.entries() > 0;
  }
};

struct TlbProfile {
  std::string name;
  std::string source;  // citation for the numbers
  std::vector<TlbLevelConfig> levels;
  TlbReplacement replacement = TlbReplacement::kLru;
  // Paging-structure caches; all-zero turns them off (every walk from CR3).
  PscConfig psc;
  std::string psc_source;  // where the PSC sizes come from
};

// The suffix that names a built-in profile with its paging-structure caches
// off: FindTlbProfile("skylake_nopsc") (for comparisons).
inline constexpr absl::string_view kNoPscSuffix = "_nopsc";

// OK iff `profile` can build a Tlb: at least one level; every array has a
// power-of-two set count, 1..64 ways; no level has two arrays for one size;
// the first level has a 4 KiB array; every paging-structure cache is absent
// (0 x 0) or has a power-of-two set count and 1..64 ways.
absl::Status ValidateTlbProfile(const TlbProfile& profile);

// A built-in profile by name, or nullptr. A built-in name followed by
// kNoPscSuffix gives that profile with PscConfig{} (caches off).
const TlbProfile* FindTlbProfile(absl::string_view name);
// The "skylake" profile.
const TlbProfile& DefaultTlbProfile();
// Names of the built-in profiles, in a fixed order (without the _nopsc
// variants).
std::vector<std::string> TlbProfileNames();

const char* TlbReplacementName(TlbReplacement r);  // "lru", "tree-plru"

}  // namespace hw

#endif  // MMSIM_HW_TLB_PROFILE_H_
