// tests/difftest/compare.cc: Diff and Shrink.
#include "tests/difftest/compare.h"

#include <sys/mman.h>

#include <algorithm>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/str_format.h"
#include "tests/difftest/case.h"
#include "tests/difftest/generator.h"

namespace difftest {
namespace {

// "remote 0x200000001234 (region 2 +0x234)" or "remote byte 4660".
std::string Locate(const Layout* layout, Side side, uint64_t offset) {
  if (layout != nullptr) {
    uint64_t start = 0;
    for (size_t i = 0; i < layout->regions.size(); ++i) {
      const Region& r = layout->regions[i];
      if (offset < start + r.len) {
        return absl::StrFormat("%s %#x (region %d %s +0x%x)", SideName(side),
                               r.addr + (offset - start), i, ProtString(r.prot), offset - start);
      }
      start += r.len;
    }
  }
  return absl::StrFormat("%s byte %d", SideName(side), offset);
}

void DiffBytes(std::string& out, const Layout* layout, Side side, const std::vector<uint8_t>& want,
               const std::vector<uint8_t>& got) {
  if (want == got) return;
  if (want.size() != got.size()) {
    absl::StrAppendFormat(&out, "%s bytes: want %d bytes, got %d (a backend bug)\n", SideName(side),
                          want.size(), got.size());
  }
  const size_t n = std::min(want.size(), got.size());
  size_t first = n, last = n, count = 0;
  for (size_t i = 0; i < n; ++i) {
    if (want[i] == got[i]) continue;
    if (first == n) first = i;
    last = i;
    ++count;
  }
  if (count == 0) return;
  absl::StrAppendFormat(&out, "%s bytes: %d differ; first at %s: want 0x%02x got 0x%02x", SideName(side),
                        count, Locate(layout, side, first), want[first], got[first]);
  if (last != first) {
    absl::StrAppendFormat(&out, "; last at %s: want 0x%02x got 0x%02x", Locate(layout, side, last),
                          want[last], got[last]);
  }
  out += "\n";
}

std::optional<std::string> DiffImpl(const Case* c, const Outcome& want, const Outcome& got) {
  std::string out;
  if (want.ret != got.ret || want.err != got.err) {
    auto ret = [](const Outcome& o) {
      return o.ret < 0 ? absl::StrFormat("%d %s", o.ret, ErrnoName(o.err))
                       : absl::StrFormat("%d", o.ret) + (o.err ? " errno " + ErrnoName(o.err) : "");
    };
    absl::StrAppendFormat(&out, "return: want %s, got %s\n", ret(want), ret(got));
  }
  DiffBytes(out, c ? &c->local_layout : nullptr, Side::kLocal, want.local_bytes, got.local_bytes);
  DiffBytes(out, c ? &c->remote_layout : nullptr, Side::kRemote, want.remote_bytes,
            got.remote_bytes);
  if (out.empty()) return std::nullopt;
  return out;
}

// ---------------------------------------------------------------------------
// Shrink

class Shrinker {
 public:
  Shrinker(const Case& c, const CasePredicate& pred, int budget)
      : best_(c), pred_(pred), budget_(budget) {}

  Case Run() {
    bool progress = true;
    while (progress && budget_ > 0) {
      progress = false;
      progress |= ClearFlags();
      progress |= DropChunks(&Call::remote);
      progress |= DropChunks(&Call::local);
      progress |= DropRegions(&Case::remote_layout);
      progress |= DropRegions(&Case::local_layout);
      progress |= ShortenIovecs(&Call::remote);
      progress |= ShortenIovecs(&Call::local);
      progress |= ShrinkRegions(&Case::remote_layout);
      progress |= ShrinkRegions(&Case::local_layout);
      progress |= Simplify(&Case::remote_layout);
      progress |= Simplify(&Case::local_layout);
    }
    return best_;
  }

 private:
  // Accepts `candidate` as the new best if it is valid and still fails.
  bool Try(const Case& candidate) {
    if (budget_ <= 0 || candidate == best_ || !ValidateCase(candidate).ok()) return false;
    --budget_;
    if (!pred_(candidate)) return false;
    best_ = candidate;
    return true;
  }

  bool ClearFlags() {
    if (best_.call.flags == 0) return false;
    Case k = best_;
    k.call.flags = 0;
    return Try(k);
  }

  bool DropChunks(std::vector<Iov> Call::*field) {
    bool any = false;
    for (size_t chunk = std::max<size_t>((best_.call.*field).size() / 2, 1); chunk >= 1;
         chunk /= 2) {
      for (size_t i = 0; i < (best_.call.*field).size();) {
        Case k = best_;
        auto& v = k.call.*field;
        v.erase(v.begin() + i, v.begin() + std::min(v.size(), i + chunk));
        if (Try(k)) {
          any = true;
        } else {
          i += chunk;
        }
      }
      if (chunk == 1) break;
    }
    return any;
  }

  bool DropRegions(Layout Case::*field) {
    bool any = false;
    for (size_t i = 0; i < (best_.*field).regions.size();) {
      Case k = best_;
      auto& v = (k.*field).regions;
      v.erase(v.begin() + i);
      if (Try(k)) {
        any = true;
      } else {
        ++i;
      }
    }
    return any;
  }

  // Lowers *value (reached through `get` on a copy of best_) as far as the
  // predicate allows, trying big steps first. `floor` is the smallest value.
  template <typename Get>
  bool Lower(Get get, uint64_t floor, uint64_t unit) {
    bool any = false;
    uint64_t v = get(best_);
    if (v <= floor) return false;
    // First the floor itself, then descending steps (binary-search style).
    {
      Case k = best_;
      get(k) = floor;
      if (Try(k)) return true;
    }
    for (uint64_t step = ((v - floor) / unit / 2) * unit; step >= unit; step = (step / unit / 2) * unit) {
      while (get(best_) >= floor + step) {
        Case k = best_;
        get(k) -= step;
        if (!Try(k)) break;
        any = true;
      }
      if (step == unit) break;
    }
    return any;
  }

  bool ShortenIovecs(std::vector<Iov> Call::*field) {
    bool any = false;
    for (size_t i = 0; i < (best_.call.*field).size(); ++i) {
      any |= Lower([&](Case& k) -> uint64_t& { return (k.call.*field)[i].len; }, 0, 1);
    }
    return any;
  }

  bool ShrinkRegions(Layout Case::*field) {
    bool any = false;
    for (size_t i = 0; i < (best_.*field).regions.size(); ++i) {
      // From the end.
      any |= Lower([&](Case& k) -> uint64_t& { return (k.*field).regions[i].len; }, kPageSize,
                   kPageSize);
      // From the front: move addr up by whole pages.
      for (uint64_t pages = (best_.*field).regions[i].len / kPageSize / 2; pages >= 1; pages /= 2) {
        Case k = best_;
        Region& r = (k.*field).regions[i];
        if (r.len <= pages * kPageSize) continue;
        r.addr += pages * kPageSize;
        r.len -= pages * kPageSize;
        any |= Try(k);
      }
    }
    return any;
  }

  bool Simplify(Layout Case::*field) {
    bool any = false;
    for (size_t i = 0; i < (best_.*field).regions.size(); ++i) {
      Case k = best_;
      Region& r = (k.*field).regions[i];
      if (r.fill != Region::Fill::kZero) {
        r.fill = Region::Fill::kZero;
        r.byte = 0;
        any |= Try(k);
      }
      k = best_;
      Region& r2 = (k.*field).regions[i];
      if (r2.prot != (PROT_READ | PROT_WRITE)) {
        r2.prot = PROT_READ | PROT_WRITE;
        any |= Try(k);
      }
    }
    return any;
  }

  Case best_;
  const CasePredicate& pred_;
  int budget_;
};

}  // namespace

std::optional<std::string> Diff(const Outcome& want, const Outcome& got) {
  return DiffImpl(nullptr, want, got);
}

std::optional<std::string> Diff(const Case& c, const Outcome& want, const Outcome& got) {
  return DiffImpl(&c, want, got);
}

Case Shrink(const Case& c, const CasePredicate& still_fails, int max_evaluations) {
  return Shrinker(c, still_fails, max_evaluations).Run();
}

}  // namespace difftest
