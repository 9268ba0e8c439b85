// hw/psc.cc: lookup, fill and invalidation of the paging-structure caches.
#include "hw/psc.h"

#include <cstddef>
#include <cstdint>

#include "absl/strings/str_format.h"

namespace hw {
namespace {

constexpr int kShift[kNumPscLevels] = {39, 30, 21};  // PML4E, PDPTE, PDE
constexpr const char* kName[kNumPscLevels] = {"PML4E", "PDPTE", "PDE"};

}  // namespace

const char* PscLevelName(PscLevel level) {
  return kName[static_cast<int>(level)];
}

std::string PscEntry::ToString(PscLevel level) const {
  const int shift = kShift[static_cast<int>(level)];
  // Sign-extend bit 47 back into a canonical address.
  const uint64_t va = static_cast<uint64_t>(
      static_cast<int64_t>((prefix << shift) << 16) >> 16);
  return absl::StrFormat("%s va:%#x/%d -> table pa:%#x pcid=%u%s%s%s",
                         PscLevelName(level), va, shift, table.value(), pcid,
                         writable ? " W" : "", user ? " U" : "",
                         nx ? " NX" : "");
}

PagingStructureCache::PagingStructureCache(const PscConfig& config) {
  const PscArrayConfig* configs[kNumPscLevels] = {&config.pml4e, &config.pdpte,
                                                  &config.pde};
  for (int i = 0; i < kNumPscLevels; ++i) {
    Cache& c = caches_[i];
    c.config = *configs[i];
    c.shift = kShift[i];
    const size_t n = static_cast<size_t>(c.config.entries());
    c.set_mask = c.config.sets > 0 ? static_cast<uint64_t>(c.config.sets) - 1 : 0;
    c.tags.assign(n, kInvalidTag);
    c.entries.assign(n, PscEntry{});
    c.stamps.assign(n, 0);
  }
  enabled_ = config.enabled();
}

ptrdiff_t PagingStructureCache::Find(const Cache& c, uint64_t tag,
                                     uint64_t prefix) {
  const int ways = c.config.ways;
  if (ways == 0) return -1;
  const size_t base = static_cast<size_t>(prefix & c.set_mask) * ways;
  for (int w = 0; w < ways; ++w) {
    if (c.tags[base + w] == tag) return static_cast<ptrdiff_t>(base + w);
  }
  return -1;
}

PscMatch PagingStructureCache::Lookup(VirtAddr va, uint16_t pcid) {
  // Longest match first: a PDE-cache hit leaves only the PTE to read.
  for (int i = kNumPscLevels - 1; i >= 0; --i) {
    Cache& c = caches_[i];
    if (c.config.ways == 0) continue;
    const uint64_t prefix = Prefix(va, c.shift);
    const ptrdiff_t slot = Find(c, Tag(prefix, pcid), prefix);
    if (slot < 0) {
      ++c.counters.misses;
      continue;
    }
    ++c.counters.hits;
    c.stamps[static_cast<size_t>(slot)] = ++c.clock;
    const PscEntry& e = c.entries[static_cast<size_t>(slot)];
    PscMatch m;
    m.level = 3 - i;  // PML4E entry -> read the PDPTE (level 3), ...
    m.table = e.table;
    m.writable = e.writable;
    m.user = e.user;
    m.nx = e.nx;
    return m;
  }
  return PscMatch{};
}

void PagingStructureCache::Fill(int level, VirtAddr va, uint16_t pcid,
                                PhysAddr table, bool writable, bool user,
                                bool nx) {
  Cache& c = caches_[4 - level];  // 4 -> PML4E cache, 3 -> PDPTE, 2 -> PDE
  const int ways = c.config.ways;
  if (ways == 0) return;
  const uint64_t prefix = Prefix(va, c.shift);
  const uint64_t tag = Tag(prefix, pcid);
  ptrdiff_t slot = Find(c, tag, prefix);
  if (slot < 0) {
    // An invalid way first, lowest index; else the least recently used.
    const size_t base = static_cast<size_t>(prefix & c.set_mask) * ways;
    size_t victim = base;
    bool found_invalid = false;
    for (int w = 0; w < ways; ++w) {
      if (c.tags[base + w] == kInvalidTag) {
        victim = base + w;
        found_invalid = true;
        break;
      }
      if (c.stamps[base + w] < c.stamps[victim]) victim = base + w;
    }
    if (!found_invalid) ++c.counters.evictions;
    slot = static_cast<ptrdiff_t>(victim);
  }
  const size_t s = static_cast<size_t>(slot);
  c.tags[s] = tag;
  c.entries[s] = PscEntry{prefix, table, pcid, writable, user, nx};
  c.stamps[s] = ++c.clock;
  ++c.counters.fills;
}

template <typename Pred>
size_t PagingStructureCache::InvalidateWhere(Pred pred) {
  size_t dropped = 0;
  for (int i = 0; i < kNumPscLevels; ++i) {
    Cache& c = caches_[i];
    for (size_t s = 0; s < c.tags.size(); ++s) {
      if (c.tags[s] != kInvalidTag && pred(i, c.entries[s])) {
        c.tags[s] = kInvalidTag;
        c.entries[s] = PscEntry{};
        ++c.counters.invalidations;
        ++dropped;
      }
    }
  }
  return dropped;
}

size_t PagingStructureCache::InvalidatePcid(uint16_t pcid) {
  if (!enabled_) return 0;
  return InvalidateWhere(
      [pcid](int, const PscEntry& e) { return e.pcid == pcid; });
}

size_t PagingStructureCache::InvalidateAddress(VirtAddr va, uint16_t pcid) {
  if (!enabled_) return 0;
  return InvalidateWhere([va, pcid](int i, const PscEntry& e) {
    return e.pcid == pcid && e.prefix == Prefix(va, kShift[i]);
  });
}

size_t PagingStructureCache::InvalidateAll() {
  if (!enabled_) return 0;
  return InvalidateWhere([](int, const PscEntry&) { return true; });
}

void PagingStructureCache::ForEachEntry(
    absl::FunctionRef<void(PscLevel, const PscEntry&)> fn) const {
  for (int i = 0; i < kNumPscLevels; ++i) {
    const Cache& c = caches_[i];
    for (size_t s = 0; s < c.tags.size(); ++s) {
      if (c.tags[s] != kInvalidTag) fn(static_cast<PscLevel>(i), c.entries[s]);
    }
  }
}

size_t PagingStructureCache::CountValid(PscLevel level) const {
  const Cache& c = caches_[static_cast<int>(level)];
  size_t n = 0;
  for (uint64_t t : c.tags) n += t != kInvalidTag;
  return n;
}

const PscEntry* PagingStructureCache::Peek(PscLevel level, VirtAddr va,
                                           uint16_t pcid) const {
  const Cache& c = caches_[static_cast<int>(level)];
  const uint64_t prefix = Prefix(va, c.shift);
  const ptrdiff_t slot = Find(c, Tag(prefix, pcid), prefix);
  return slot < 0 ? nullptr : &c.entries[static_cast<size_t>(slot)];
}

void PagingStructureCache::ResetCounters() {
  for (Cache& c : caches_) c.counters = PscCounters{};
}

}  // namespace hw
