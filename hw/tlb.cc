// hw/tlb.cc: lookup slow path, fills, replacement and invalidation.
#include "hw/tlb.h"

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>

#include "hw/check.h"

namespace hw {
namespace {

// Page sizes an array holds, in probe order.
int SizesOf(PageSize size, bool shares_2m, PageSize out[2]) {
  out[0] = size;
  if (shares_2m) {
    out[1] = PageSize::k2M;
    return 2;
  }
  return 1;
}

}  // namespace

Tlb::Tlb(const TlbProfile& profile)
    : profile_(profile), replacement_(profile.replacement) {
  const absl::Status status = ValidateTlbProfile(profile_);
  if (!status.ok()) {
    const std::string message(status.message());
    CHECK(status.ok(), message.c_str());
  }
  levels_.resize(profile_.levels.size());
  counters_.resize(profile_.levels.size());
  for (size_t l = 0; l < profile_.levels.size(); ++l) {
    for (const TlbArrayConfig& c : profile_.levels[l].arrays) {
      Array a;
      a.size = c.size;
      a.shares_2m = c.shares_2m;
      a.ways = c.ways;
      a.tree_leaves = 1;
      while (a.tree_leaves < c.ways) a.tree_leaves *= 2;
      a.set_mask = static_cast<uint64_t>(c.sets) - 1;
      a.tags.assign(static_cast<size_t>(c.entries()), kInvalidTag);
      a.entries.assign(static_cast<size_t>(c.entries()), TlbEntry{});
      a.stamps.assign(static_cast<size_t>(c.entries()), 0);
      a.plru.assign(static_cast<size_t>(c.sets), 0);
      InitPlruMasks(a);
      levels_[l].arrays.push_back(std::move(a));
    }
    // The 4K array first: the fast path and the probe order rely on it.
    std::stable_sort(levels_[l].arrays.begin(), levels_[l].arrays.end(),
                     [](const Array& x, const Array& y) {
                       return static_cast<int>(x.size) <
                              static_cast<int>(y.size);
                     });
  }
  l1_4k_ = &levels_[0].arrays[0];
  CHECK(l1_4k_->size == PageSize::k4K);
  // levels_ and its arrays do not move from here on: the tables below point
  // into them.
  probes_.resize(levels_.size());
  array_for_.resize(levels_.size());
  for (size_t l = 0; l < levels_.size(); ++l) {
    for (const PageSize size : {PageSize::k4K, PageSize::k2M, PageSize::k1G}) {
      array_for_[l][static_cast<size_t>(size)] = ArrayFor(static_cast<int>(l), size);
    }
    LevelProbes& lp = probes_[l];
    for (Array& a : levels_[l].arrays) {
      PageSize sizes[2];
      const int n = SizesOf(a.size, a.shares_2m, sizes);
      for (int i = 0; i < n; ++i) {
        if (l == 0 && &a == l1_4k_ && sizes[i] == PageSize::k4K) continue;
        CHECK(lp.n < static_cast<int>(lp.p.size()), "too many TLB arrays in a level");
        lp.p[static_cast<size_t>(lp.n++)] = ProbeSpec{&a, sizes[i], PageShiftOf(sizes[i])};
      }
    }
  }
  l1_tags_ = l1_4k_->tags.data();
  l1_entries_ = l1_4k_->entries.data();
  l1_set_mask_ = l1_4k_->set_mask;
  l1_ways_ = l1_4k_->ways;
}

// Tree-PLRU: node n (heap numbering from 1) has children 2n and 2n+1. Bit n
// set means "the next victim is in the right subtree". A touch points every
// node on the way's path away from it; the masks below record, per way,
// which bits that sets and which it clears.
void Tlb::InitPlruMasks(Array& a) {
  a.plru_set.assign(static_cast<size_t>(a.ways), 0);
  a.plru_clear.assign(static_cast<size_t>(a.ways), 0);
  for (int way = 0; way < a.ways; ++way) {
    int node = 1;
    int lo = 0;
    int hi = a.tree_leaves;
    while (hi - lo > 1) {
      const int mid = (lo + hi) / 2;
      if (way < mid) {
        a.plru_set[way] |= uint64_t{1} << node;  // victim side: right
        node = 2 * node;
        hi = mid;
      } else {
        a.plru_clear[way] |= uint64_t{1} << node;  // victim side: left
        node = 2 * node + 1;
        lo = mid;
      }
    }
  }
}

int Tlb::PolicyVictim(const Array& a, size_t set) const {
  const size_t base = set * a.ways;
  if (replacement_ == TlbReplacement::kLru) {
    int victim = 0;
    for (int w = 1; w < a.ways; ++w) {
      if (a.stamps[base + w] < a.stamps[base + victim]) victim = w;
    }
    return victim;
  }
  const uint64_t bits = a.plru[set];
  int node = 1;
  int lo = 0;
  int hi = a.tree_leaves;
  while (hi - lo > 1) {
    const int mid = (lo + hi) / 2;
    // The right half may hold only ways that do not exist (non-power-of-two
    // way counts); then the left half is the only choice.
    if (((bits >> node) & 1) != 0 && mid < a.ways) {
      node = 2 * node + 1;
      lo = mid;
    } else {
      node = 2 * node;
      hi = mid;
    }
  }
  return lo;
}

ptrdiff_t Tlb::Probe(const Array& a, PageSize size, VirtAddr va,
                     uint16_t pcid) {
  const int shift = PageShiftOf(size);
  const uint64_t page = va.value() >> shift;
  const uint64_t tag = Tag(page << (shift - kPageShift), size);
  const size_t base = (page & a.set_mask) * a.ways;
  for (int w = 0; w < a.ways; ++w) {
    if (a.tags[base + w] == tag) {
      const TlbEntry& e = a.entries[base + w];
      if (e.pcid == pcid || e.global) return static_cast<ptrdiff_t>(base + w);
    }
  }
  return -1;
}

Tlb::Array* Tlb::ArrayFor(int level, PageSize size) {
  for (Array& a : levels_[level].arrays) {
    if (a.size == size || (size == PageSize::k2M && a.shares_2m)) return &a;
  }
  return nullptr;
}

const TlbEntry* Tlb::Hit(int level, Array& a, size_t set, int way, VirtAddr va) {
  Touch(a, set, way);
  ++counters_[level].hits;
  const TlbEntry* e = &a.entries[set * static_cast<size_t>(a.ways) + static_cast<size_t>(way)];
  if (ABSL_PREDICT_FALSE(observer_ != nullptr)) {
    observer_->OnTlbHit(cpu_, level, va, *e);
  }
  if (level == 0) return e;  // an L1 hit (2M, 1G pages): nothing above it
  // Promote into the levels above that cache this size; hand out the
  // highest copy.
  const TlbEntry copy = *e;
  for (int up = level - 1; up >= 0; --up) {
    if (Array* ua = array_for_[static_cast<size_t>(up)][static_cast<size_t>(copy.size)];
        ua != nullptr) {
      e = Insert(up, *ua, copy);
    }
  }
  return e;
}

const TlbEntry* Tlb::LookupSlow(VirtAddr va, uint16_t pcid) {
  // The same probes as Peek, in the same order, less the L1 4K probe the
  // fast path made (probes_).
  const int levels = num_levels();
  for (int l = 0; l < levels; ++l) {
    const LevelProbes& lp = probes_[static_cast<size_t>(l)];
    for (int i = 0; i < lp.n; ++i) {
      const ProbeSpec& ps = lp.p[static_cast<size_t>(i)];
      Array& a = *ps.a;
      const uint64_t page = va.value() >> ps.shift;
      const uint64_t tag = Tag(page << (ps.shift - kPageShift), ps.size);
      const size_t set = page & a.set_mask;
      const size_t base = set * static_cast<size_t>(a.ways);
      const uint64_t* tags = a.tags.data() + base;
      for (int w = 0; w < a.ways; ++w) {
        if (tags[w] != tag) continue;
        const TlbEntry& e = a.entries[base + static_cast<size_t>(w)];
        if (e.pcid == pcid || e.global) return Hit(l, a, set, w, va);
      }
    }
    ++counters_[l].misses;
  }
  if (ABSL_PREDICT_FALSE(observer_ != nullptr)) observer_->OnTlbMiss(cpu_, va);
  return nullptr;
}

const TlbEntry* Tlb::Peek(VirtAddr va, uint16_t pcid) const {
  for (const Level& level : levels_) {
    for (const Array& a : level.arrays) {
      PageSize sizes[2];
      const int n = SizesOf(a.size, a.shares_2m, sizes);
      for (int i = 0; i < n; ++i) {
        const ptrdiff_t slot = Probe(a, sizes[i], va, pcid);
        if (slot >= 0) return &a.entries[static_cast<size_t>(slot)];
      }
    }
  }
  return nullptr;
}

TlbEntry* Tlb::Insert(int level, Array& a, const TlbEntry& entry) {
  const int shift = PageShiftOf(entry.size);
  const uint64_t page = entry.vpn >> (shift - kPageShift);
  const uint64_t tag = Tag(entry.vpn, entry.size);
  const size_t set = page & a.set_mask;
  const size_t base = set * a.ways;

  // One pass finds the same translation (refreshed in place, invariant 3)
  // or else the lowest invalid way, which is used before any victim.
  int way = -1;
  int free_way = -1;
  const uint64_t* tags = a.tags.data() + base;
  for (int w = 0; w < a.ways; ++w) {
    if (tags[w] == tag && a.entries[base + w].pcid == entry.pcid) {
      way = w;
      break;
    }
    if (tags[w] == kInvalidTag && free_way < 0) free_way = w;
  }
  if (way < 0 && free_way >= 0) {
    way = free_way;
  } else if (way < 0) {
    way = PolicyVictim(a, set);  // every way valid: an eviction
    ++counters_[level].evictions;
    if (ABSL_PREDICT_FALSE(observer_ != nullptr)) {
      observer_->OnTlbEvict(cpu_, level, a.entries[base + way]);
    }
  }
  a.tags[base + way] = tag;
  TlbEntry& slot = a.entries[base + way];
  slot = entry;
  slot.valid = true;
  Touch(a, set, way);
  ++counters_[level].fills;
  if (ABSL_PREDICT_FALSE(observer_ != nullptr)) {
    observer_->OnTlbFill(cpu_, level, slot);
  }
  return &slot;
}

void Tlb::Fill(const TlbEntry& entry) {
  DCHECK(entry.valid);
  DCHECK((entry.vpn & ((PageBytesOf(entry.size) >> kPageShift) - 1)) == 0);
  for (int l = 0; l < num_levels(); ++l) {
    if (Array* a = array_for_[static_cast<size_t>(l)][static_cast<size_t>(entry.size)];
        a != nullptr) {
      Insert(l, *a, entry);
    }
  }
}

void Tlb::Drop(int level, Array& a, size_t slot) {
  a.tags[slot] = kInvalidTag;
  a.entries[slot].valid = false;
  ++counters_[level].invalidations;
}

size_t Tlb::InvalidateAddress(VirtAddr va, uint16_t pcid,
                              bool include_global) {
  size_t dropped = 0;
  for (int l = 0; l < num_levels(); ++l) {
    ++counters_[l].flushes;
    for (Array& a : levels_[l].arrays) {
      PageSize sizes[2];
      const int n = SizesOf(a.size, a.shares_2m, sizes);
      for (int i = 0; i < n; ++i) {
        const int shift = PageShiftOf(sizes[i]);
        const uint64_t page = va.value() >> shift;
        const uint64_t tag = Tag(page << (shift - kPageShift), sizes[i]);
        const size_t base = (page & a.set_mask) * a.ways;
        for (int w = 0; w < a.ways; ++w) {
          if (a.tags[base + w] != tag) continue;
          const TlbEntry& e = a.entries[base + w];
          if (e.global ? include_global : e.pcid == pcid) {
            Drop(l, a, base + w);
            ++dropped;
          }
        }
      }
    }
  }
  return dropped;
}

size_t Tlb::InvalidatePage(VirtAddr va, uint16_t pcid) {
  return InvalidateAddress(va, pcid, /*include_global=*/true);
}

size_t Tlb::InvalidatePageNonGlobal(VirtAddr va, uint16_t pcid) {
  return InvalidateAddress(va, pcid, /*include_global=*/false);
}

template <typename Pred>
size_t Tlb::InvalidateWhere(Pred pred) {
  size_t dropped = 0;
  for (int l = 0; l < num_levels(); ++l) {
    ++counters_[l].flushes;
    for (Array& a : levels_[l].arrays) {
      for (size_t s = 0; s < a.tags.size(); ++s) {
        if (a.tags[s] != kInvalidTag && pred(a.entries[s])) {
          Drop(l, a, s);
          ++dropped;
        }
      }
    }
  }
  return dropped;
}

size_t Tlb::FlushPcid(uint16_t pcid) {
  return InvalidateWhere(
      [pcid](const TlbEntry& e) { return !e.global && e.pcid == pcid; });
}

size_t Tlb::FlushNonGlobal() {
  return InvalidateWhere([](const TlbEntry& e) { return !e.global; });
}

size_t Tlb::FlushAll() {
  return InvalidateWhere([](const TlbEntry&) { return true; });
}

void Tlb::ForEachEntry(
    absl::FunctionRef<void(int, const TlbEntry&)> fn) const {
  for (int l = 0; l < num_levels(); ++l) {
    for (const Array& a : levels_[l].arrays) {
      for (size_t s = 0; s < a.tags.size(); ++s) {
        if (a.tags[s] != kInvalidTag) fn(l, a.entries[s]);
      }
    }
  }
}

size_t Tlb::CountValid(int level) const {
  size_t n = 0;
  for (const Array& a : levels_[level].arrays) {
    for (uint64_t tag : a.tags) n += tag != kInvalidTag;
  }
  return n;
}

void Tlb::ResetCounters() {
  for (TlbCounters& c : counters_) c = TlbCounters{};
}

}  // namespace hw
