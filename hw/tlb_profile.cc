// hw/tlb_profile.cc: the built-in TLB profiles and their validation.
#include "hw/tlb_profile.h"

#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"

namespace hw {
namespace {

// Paging-structure cache sizes for the two Intel profiles. Intel documents
// what PSC entries hold (SDM 4.10.3), not how many there are: 2 PML4E, 4
// PDPTE and 32 PDE entries are the sizes the research literature commonly
// quotes for Intel Core parts (e.g. Barr, Cox and Rixner, "Translation
// Caching: Skip, Don't Walk (the Page Table)", ISCA 2010; Bhattacharjee,
// "Large-Reach Memory Management Unit Caches", MICRO 2013), used here as a
// choice, not a measurement. The organisation (PML4E/PDPTE fully associative,
// PDE 8 sets x 4 ways, true LRU) is ours.
constexpr PscConfig kIntelPsc = {
    .pml4e = {1, 2},
    .pdpte = {1, 4},
    .pde = {8, 4},
};
constexpr const char* kIntelPscSource =
    "choice: 2/4/32 entries as commonly quoted for Intel Core parts (Barr et "
    "al. ISCA 2010, Bhattacharjee MICRO 2013); Intel documents no sizes";

std::vector<TlbProfile>* MakeProfiles() {
  auto* profiles = new std::vector<TlbProfile>;

  // Intel 64 and IA-32 Architectures Optimization Reference Manual
  // (order no. 248966), Skylake client microarchitecture, table "TLB
  // parameters": DTLB 4K 64 entries 4-way, 2M/4M 32 entries 4-way, 1G 4
  // entries fully associative; STLB 4K+2M shared 1536 entries 12-way, 1G 16
  // entries 4-way. Instruction TLBs are not modelled: one hierarchy serves
  // data accesses and fetches. Intel does not document the replacement
  // policy; tree-PLRU is the usual assumption.
  profiles->push_back(TlbProfile{
      .name = "skylake",
      .source = "Intel Optimization Reference Manual (248966), Skylake "
                "client microarchitecture, TLB parameters table",
      .levels =
          {
              {"DTLB",
               {{PageSize::k4K, 16, 4},
                {PageSize::k2M, 8, 4},
                {PageSize::k1G, 1, 4}}},
              {"STLB",
               {{PageSize::k4K, 128, 12, /*shares_2m=*/true},
                {PageSize::k1G, 4, 4}}},
          },
      .replacement = TlbReplacement::kTreePlru,
      .psc = kIntelPsc,
      .psc_source = kIntelPscSource,
  });

  // Same manual, Golden Cove microarchitecture (12th gen Core P-core,
  // 4th gen Xeon Scalable), table "TLB parameters": load DTLB 4K 96 entries
  // 6-way, 2M/4M 32 entries 4-way, 1G 8 entries fully associative; STLB
  // 4K+2M shared 2048 entries 16-way, 1G 1024 entries 8-way. The separate
  // 16-entry store DTLB is not modelled.
  profiles->push_back(TlbProfile{
      .name = "goldencove",
      .source = "Intel Optimization Reference Manual (248966), Golden Cove "
                "microarchitecture, TLB parameters table",
      .levels =
          {
              {"DTLB",
               {{PageSize::k4K, 16, 6},
                {PageSize::k2M, 8, 4},
                {PageSize::k1G, 1, 8}}},
              {"STLB",
               {{PageSize::k4K, 128, 16, /*shares_2m=*/true},
                {PageSize::k1G, 128, 8}}},
          },
      .replacement = TlbReplacement::kTreePlru,
      .psc = kIntelPsc,
      .psc_source = kIntelPscSource,
  });

  // A teaching TLB: evictions after a handful of pages, true LRU so the
  // victim is easy to predict by hand.
  profiles->push_back(TlbProfile{
      .name = "tiny",
      .source = "mmsim teaching profile (not a real part)",
      .levels =
          {
              {"DTLB",
               {{PageSize::k4K, 2, 2},
                {PageSize::k2M, 1, 2},
                {PageSize::k1G, 1, 1}}},
              {"STLB",
               {{PageSize::k4K, 2, 4, /*shares_2m=*/true},
                {PageSize::k1G, 1, 2}}},
          },
      .replacement = TlbReplacement::kLru,
      // One PML4E, one PDPTE and two PDE entries: a second 2 MiB region
      // keeps both PDEs, a third evicts the older.
      .psc = {.pml4e = {1, 1}, .pdpte = {1, 1}, .pde = {1, 2}},
      .psc_source = "mmsim teaching profile (not a real part)",
  });
  // The same profiles with the paging-structure caches off.
  const size_t n = profiles->size();
  for (size_t i = 0; i < n; ++i) {
    TlbProfile p = (*profiles)[i];
    p.name = absl::StrCat(p.name, kNoPscSuffix);
    p.psc = PscConfig{};
    p.psc_source = "paging-structure caches off";
    profiles->push_back(std::move(p));
  }
  return profiles;
}

const std::vector<TlbProfile>& Profiles() {
  static const std::vector<TlbProfile>* const kProfiles = MakeProfiles();
  return *kProfiles;
}

}  // namespace

absl::Status ValidateTlbProfile(const TlbProfile& profile) {
  if (profile.levels.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat("TLB profile '", profile.name, "' has no levels"));
  }
  for (size_t l = 0; l < profile.levels.size(); ++l) {
    const TlbLevelConfig& level = profile.levels[l];
    bool has[3] = {false, false, false};
    for (const TlbArrayConfig& a : level.arrays) {
      const auto where = [&] {
        return absl::StrCat("TLB profile '", profile.name, "' level ", l, " (",
                            level.name, ") ", PageSizeName(a.size),
                            " array: ");
      };
      if (a.sets <= 0 || (a.sets & (a.sets - 1)) != 0) {
        return absl::InvalidArgumentError(
            absl::StrCat(where(), "sets = ", a.sets, " is not a power of 2"));
      }
      if (a.ways < 1 || a.ways > 64) {
        return absl::InvalidArgumentError(
            absl::StrCat(where(), "ways = ", a.ways, " is not in 1..64"));
      }
      if (a.shares_2m && a.size != PageSize::k4K) {
        return absl::InvalidArgumentError(
            absl::StrCat(where(), "only a 4K array can share 2M entries"));
      }
      const int idx = static_cast<int>(a.size);
      if (has[idx] || (a.shares_2m && has[1])) {
        return absl::InvalidArgumentError(
            absl::StrCat(where(), "page size cached by two arrays"));
      }
      has[idx] = true;
      if (a.shares_2m) has[1] = true;
    }
    if (l == 0 && !has[0]) {
      return absl::InvalidArgumentError(
          absl::StrCat("TLB profile '", profile.name,
                       "': the first level needs a 4K array"));
    }
  }
  const struct {
    const char* name;
    const PscArrayConfig& c;
  } pscs[] = {{"PML4E", profile.psc.pml4e},
              {"PDPTE", profile.psc.pdpte},
              {"PDE", profile.psc.pde}};
  for (const auto& [name, c] : pscs) {
    if (c.sets == 0 && c.ways == 0) continue;
    if (c.sets <= 0 || (c.sets & (c.sets - 1)) != 0 || c.ways < 1 ||
        c.ways > 64) {
      return absl::InvalidArgumentError(absl::StrCat(
          "TLB profile '", profile.name, "' ", name, " cache: ", c.sets,
          " sets x ", c.ways, " ways (need a power of 2 x 1..64, or 0 x 0)"));
    }
  }
  return absl::OkStatus();
}

const TlbProfile* FindTlbProfile(absl::string_view name) {
  for (const TlbProfile& p : Profiles()) {
    if (p.name == name) return &p;
  }
  return nullptr;
}

const TlbProfile& DefaultTlbProfile() { return Profiles().front(); }

std::vector<std::string> TlbProfileNames() {
  std::vector<std::string> names;
  for (const TlbProfile& p : Profiles()) {
    if (!absl::EndsWith(p.name, kNoPscSuffix)) names.push_back(p.name);
  }
  return names;
}

const char* TlbReplacementName(TlbReplacement r) {
  switch (r) {
    case TlbReplacement::kLru:
      return "lru";
    case TlbReplacement::kTreePlru:
      return "tree-plru";
  }
  return "?";
}

}  // namespace hw
