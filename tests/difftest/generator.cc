// tests/difftest/generator.cc: GenerateCase and DescribeCase.
#include "tests/difftest/generator.h"

#include <errno.h>
#include <string.h>
#include <sys/mman.h>

#include <algorithm>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_format.h"
#include "sim/scenario/errno_names.h"
#include "tests/difftest/case.h"

namespace difftest {

uint64_t Rng::Below(uint64_t n) {
  return static_cast<uint64_t>((static_cast<unsigned __int128>(Next()) * n) >> 64);
}

uint64_t Rng::Between(uint64_t lo, uint64_t hi) {
  if (hi - lo == ~uint64_t{0}) return Next();
  return lo + Below(hi - lo + 1);
}

namespace {

constexpr int kR = PROT_READ, kW = PROT_WRITE, kX = PROT_EXEC;
constexpr uint64_t kIovBudgetBytes = uint64_t{8} << 20;  // ordinary lengths, per vector

int PickProt(Rng& rng) {
  // rw- is the common case; the rest each appear about one time in eleven.
  static constexpr int kProts[] = {kR | kW, kR | kW, kR | kW, kR | kW, kR | kW, kR,
                                   kR,      0,       kW,      kX,      kR | kX};
  return kProts[rng.Below(sizeof kProts / sizeof kProts[0])];
}

// Whether `side` may move bytes at a page of protection `prot` in a readv
// (write=false) or writev (write=true), by the rules of ModelBackend: the
// remote side is pinned by VMA flags (read needs PROT_READ, write needs
// PROT_WRITE); the local side goes through the CPU (a readv destination needs
// PROT_WRITE, a writev source any of R/W/X).
bool Allows(Side side, bool write, int prot) {
  if (side == Side::kRemote) return (prot & (write ? kW : kR)) != 0;
  return write ? prot != 0 : (prot & kW) != 0;
}

// `big`: one region gets 1030..1100 pages, so an element can span more than
// one 1024-page pin batch. Page faults dominate the host's cost per case, so
// big regions appear only in the cases that are built to use them.
// `wide` (not with `big`, to stay under the layout limit): a third of the
// regions get 17..72 pages, so elements inside one region cross the kernel's
// 16-entry on-stack page array (PVM_MAX_PP_ARRAY_COUNT) and need the
// kmalloc'ed one.
Layout GenLayout(Rng& rng, Side side, bool big, bool wide) {
  Layout layout;
  const int n = static_cast<int>(rng.Between(1, 8));
  const int big_index = big ? static_cast<int>(rng.Below(n)) : -1;
  uint64_t addr = WindowBase(side) + rng.Below(4) * kPageSize;
  for (int i = 0; i < n; ++i) {
    if (i > 0) {
      // Mostly a hole; a quarter of the time the next region is adjacent, so
      // elements cross a prot boundary without a hole.
      if (!rng.OneIn(4)) addr += kPageSize * (rng.OneIn(8) ? rng.Between(1, 5000) : rng.Between(1, 3));
    }
    uint64_t pages = rng.OneIn(2) ? rng.Between(1, 8) : rng.Between(1, 40);
    if (wide && !big && rng.OneIn(3)) pages = rng.Between(17, 72);
    if (i == big_index) pages = rng.Between(1030, 1100);
    Region r;
    r.addr = addr;
    r.len = pages * kPageSize;
    r.prot = PickProt(rng);
    switch (rng.Below(4)) {
      case 0:
        r.fill = Region::Fill::kZero;
        break;
      case 1:
        r.fill = Region::Fill::kByte;
        r.byte = static_cast<uint8_t>(rng.OneIn(8) ? 0 : rng.Between(1, 255));
        break;
      default:
        r.fill = Region::Fill::kPattern;
        break;
    }
    layout.regions.push_back(r);
    addr += r.len;
  }
  return layout;
}

// An element over most of the largest region of `l`: it starts in the
// region's first two pages and so spans more than 1024 pages.
Iov BatchElement(Rng& rng, const Layout& l) {
  const Region* big = &l.regions[0];
  for (const Region& r : l.regions) {
    if (r.len > big->len) big = &r;
  }
  const uint64_t base = big->addr + rng.Below(2 * kPageSize);
  uint64_t len = big->end() - base;
  if (rng.OneIn(2)) len += rng.Between(1, 2 * kPageSize);  // and into what follows
  return {base, len};
}

// Makes sure at least one region of `l` allows the transfer on `side`, so a
// vector built to move bytes has somewhere to start: if none does, one region
// becomes rw-. With `largest`, the largest region always allows it (so a
// batch element, or a long run led from there, moves its many pages).
void EnsureAccessible(Rng& rng, Layout& l, Side side, bool write, bool largest) {
  if (largest) {
    // The first of the largest, as BatchElement and IovGen::Largest pick it.
    Region* big = &l.regions[0];
    for (Region& r : l.regions) {
      if (r.len > big->len) big = &r;
    }
    if (!Allows(side, write, big->prot)) big->prot = kR | kW;
    return;
  }
  for (const Region& r : l.regions) {
    if (Allows(side, write, r.prot)) return;
  }
  l.regions[rng.Below(l.regions.size())].prot = kR | kW;
}

// How many elements a vector gets.
uint64_t PickCount(Rng& rng) {
  const uint64_t k = rng.Below(1000);
  if (k < 25) return 0;
  if (k < 40) return kUioMaxIov;  // 1024: accepted
  if (k < 48) return kUioMaxIov + 1;  // 1025: EINVAL
  if (k < 90) return rng.Between(41, kUioMaxIov);
  if (k < 550) return rng.Between(1, 4);
  return rng.Between(1, 40);
}

// How many elements a vector built to move bytes gets: one (the kernel's
// single-segment ITER_UBUF path) a third of the time, mostly a few, sometimes
// hundreds.
uint64_t PickTransferCount(Rng& rng) {
  const uint64_t k = rng.Below(100);
  if (k < 35) return 1;
  if (k < 70) return rng.Between(2, 4);
  if (k < 92) return rng.Between(5, 40);
  return rng.Between(41, 300);
}

// Generates the elements of one side. `own` is that side's layout, `other` the
// other side's (its window is a hole on this side).
class IovGen {
 public:
  IovGen(Rng& rng, const Layout& own, const Layout& other, Side side, bool write)
      : rng_(rng), own_(own), other_(other), side_(side), write_(write) {}

  // `count` elements; a large count gets mostly short, in-region elements.
  std::vector<Iov> Vector(uint64_t count) {
    std::vector<Iov> v;
    v.reserve(count);
    budget_ = kIovBudgetBytes;
    const bool big = count > 40;
    for (uint64_t i = 0; i < count; ++i) {
      // In a big vector an unusual element shows up about once per vector.
      const bool unusual = !big || rng_.OneIn(count);
      Iov e;
      e.base = Base(unusual);
      e.len = Len(e.base, unusual, big);
      v.push_back(e);
    }
    return v;
  }

  // `count` elements built to move bytes. Argument checks cannot fail: no
  // negative lengths, nothing the local access_ok rejects. The first element
  // starts inside a region this side may access (EnsureAccessible made one)
  // and is not empty, so at least one byte moves whatever follows and the
  // return is positive. Without `clean`, the later elements are ordinary ones
  // and one in eight strays into a hole, so the stream often stops partway
  // (a partial transfer) at a hole, a PROT_NONE or read-only page, or the
  // end of a region. With `clean`, every element lies inside accessible
  // regions, and the transfer is usually complete. With `long_run`, lengths
  // are drawn only from the long kinds (to a region's end, 17..64 pages, over
  // later regions), so the shorter stream too passes 16 pages.
  std::vector<Iov> TransferVector(uint64_t count, bool clean, bool long_run) {
    std::vector<Iov> v;
    v.reserve(count);
    budget_ = kIovBudgetBytes;
    const bool many = count > 40;
    for (uint64_t i = 0; i < count; ++i) {
      Iov e;
      if (i == 0 || clean) {
        // A long run leads from the start of the largest region, so it is
        // not cut short by the region's end.
        const Region& r = long_run && i == 0 ? Largest() : PickAccessible();
        e.base = long_run && i == 0 ? r.addr + rng_.Below(300)
                 : rng_.OneIn(3)    ? r.addr + kPageSize * rng_.Below(r.len / kPageSize)
                                    : r.addr + rng_.Below(r.len);
        e.len = clean ? std::min(TransferLen(e.base, many, long_run), r.end() - e.base)
                      : TransferLen(e.base, many, long_run);
        if (i == 0 && e.len == 0) {
          e.len = rng_.Between(1, r.end() - e.base);
          budget_ -= e.len;  // the first draw: the budget is still whole
        }
      } else {
        e.base = rng_.OneIn(8) ? Stray() : Base(/*unusual=*/false);
        e.len = TransferLen(e.base, many, long_run);
      }
      v.push_back(e);
    }
    // Now and then the last element runs on as far as the syscall allows:
    // the remote stream then stops at the first hole, and the local one is
    // clamped to MAX_RW_COUNT. (Exempt from the budget, like Huge().)
    if (!clean && count > 0 && rng_.OneIn(16)) {
      v.back().len = side_ == Side::kRemote ? kSsizeMax : kMaxRwCount;
    }
    return v;
  }

  // `count` ordinary elements whose lengths add up to exactly `total`.
  std::vector<Iov> VectorWithTotal(uint64_t count, uint64_t total) {
    std::vector<uint64_t> cuts = {0, total};
    for (uint64_t i = 1; i < count; ++i) cuts.push_back(rng_.Below(total + 1));
    std::sort(cuts.begin(), cuts.end());
    std::vector<Iov> v;
    for (uint64_t i = 0; i + 1 < cuts.size(); ++i) {
      v.push_back({Base(/*unusual=*/false), cuts[i + 1] - cuts[i]});
    }
    return v;
  }

 private:
  const Region& PickRegion(const Layout& l) { return l.regions[rng_.Below(l.regions.size())]; }

  // A region of this side that allows the transfer. REQUIRES: one exists.
  const Region& PickAccessible() {
    std::vector<const Region*> ok;
    for (const Region& r : own_.regions) {
      if (Allows(side_, write_, r.prot)) ok.push_back(&r);
    }
    return *ok[rng_.Below(ok.size())];
  }

  const Region& Largest() const {
    const Region* big = &own_.regions[0];
    for (const Region& r : own_.regions) {
      if (r.len > big->len) big = &r;
    }
    return *big;
  }

  // A base where the stream is likely to stop: just outside a region (a hole
  // or an adjacent region of another prot), the other side's window, the own
  // window's last page, page 0, and on the remote side only, a non-user
  // address (on the local side access_ok would fail the whole call instead).
  uint64_t Stray() {
    switch (rng_.Below(side_ == Side::kRemote ? 5 : 4)) {
      case 0: {
        const Region& r = PickRegion(own_);
        const uint64_t before = rng_.Between(1, 300);
        if (rng_.OneIn(2) && r.addr - before >= WindowBase(side_)) return r.addr - before;
        return r.end() + rng_.Below(2 * kPageSize);
      }
      case 1: {
        const Region& o = PickRegion(other_);
        return o.addr + rng_.Below(o.len);
      }
      case 2:
        return WindowBase(side_) + kWindowSize - kPageSize + rng_.Below(kPageSize);
      case 3:
        return rng_.Below(kPageSize);
      default:
        return rng_.OneIn(2) ? kUserTop : 0xffff888000000000;
    }
  }

  // Lengths for TransferVector: no huge ones, more that cross the 16-page
  // array or run past the end of the region into what follows.
  uint64_t TransferLen(uint64_t base, bool many, bool long_run) {
    uint64_t len;
    const uint64_t k = long_run ? rng_.Between(60, 99) : rng_.Below(100);
    if (many) {
      len = k < 10 ? 0 : k < 90 ? rng_.Between(1, 600) : kPageSize;
    } else if (k < 8) {
      len = 0;
    } else if (k < 30) {
      len = rng_.Between(1, 300);
    } else if (k < 48) {
      len = rng_.Between(1, 3 * kPageSize);
    } else if (k < 60) {
      len = kPageSize * rng_.Between(1, 8);
    } else if (k < 72) {
      len = DistanceToRegionEnd(base);
    } else if (k < 84) {
      len = rng_.Between(16 * kPageSize + 1, 64 * kPageSize);  // > PVM_MAX_PP_ARRAY_COUNT pages
    } else if (k < 96) {
      len = DistanceToLaterRegionEnd(base);
    } else {
      len = rng_.Between(1, 1100 * kPageSize);  // may cross a 1024-page pin batch
    }
    if (len > budget_) len = budget_;
    budget_ -= len;
    return len;
  }

  // Bytes from base to the end of a later own-side region, over whatever
  // holes and prot changes lie between (GenLayout places regions in address
  // order); to the end of its own region if it is the last, 1 page if in none.
  uint64_t DistanceToLaterRegionEnd(uint64_t base) {
    const std::vector<Region>& rs = own_.regions;
    for (size_t i = 0; i < rs.size(); ++i) {
      if (base >= rs[i].addr && base < rs[i].end()) {
        const size_t j = i + rng_.Below(std::min<size_t>(rs.size() - i, 3));
        return rs[j].end() - base - (j > i && rng_.OneIn(2) ? rng_.Below(rs[j].len) : 0);
      }
    }
    return kPageSize;
  }

  uint64_t Base(bool unusual) {
    const uint64_t k = unusual ? rng_.Below(100) : rng_.Below(70);
    const Region& r = PickRegion(own_);
    if (k < 40) return r.addr + rng_.Below(r.len);  // anywhere inside, unaligned
    if (k < 48) return r.addr;
    if (k < 56) return r.addr + kPageSize * rng_.Below(r.len / kPageSize);
    if (k < 64) return r.end() - rng_.Between(1, 300);  // runs off the end
    if (k < 70) return r.addr + rng_.Below(300);
    if (k < 78) {  // just outside a region: a hole or an adjacent region
      const uint64_t before = rng_.Between(1, 300);
      if (rng_.OneIn(2) && r.addr - before >= WindowBase(side_)) return r.addr - before;
      return r.end() + rng_.Below(2 * kPageSize);
    }
    if (k < 82) return 0;  // NULL
    if (k < 85) return ~uint64_t{0};  // (void*)-1
    if (k < 87) return rng_.Below(kPageSize);  // page 0
    if (k < 90) {
      static constexpr uint64_t kFar[] = {0xffff888000000000, 0x0000800000000000, kUserTop,
                                          0xfffffffffffff000, 0x8000000000000000};
      return kFar[rng_.Below(sizeof kFar / sizeof kFar[0])];
    }
    if (k < 95) {  // the other side's window: a hole here
      const Region& o = PickRegion(other_);
      return o.addr + rng_.Below(o.len);
    }
    // The last page of the own window, always a hole.
    return WindowBase(side_) + kWindowSize - kPageSize + rng_.Below(kPageSize);
  }

  uint64_t Len(uint64_t base, bool unusual, bool big) {
    uint64_t len;
    const uint64_t k = unusual ? rng_.Below(100) : rng_.Below(92);
    if (big) {
      // Short elements keep a 1024-element vector cheap.
      if (k >= 92) return Huge();
      len = k < 15 ? 0 : k < 85 ? rng_.Between(1, 600) : kPageSize;
    } else if (k < 12) {
      len = 0;
    } else if (k < 40) {
      len = rng_.Between(1, 300);
    } else if (k < 60) {
      len = rng_.Between(1, 3 * kPageSize);
    } else if (k < 72) {
      len = kPageSize * rng_.Between(1, 8);
    } else if (k < 84) {
      len = DistanceToRegionEnd(base) + (rng_.OneIn(2) ? 0 : rng_.Between(1, 2 * kPageSize));
    } else if (k < 92) {
      len = rng_.Between(1, 1100 * kPageSize);  // may cross a 1024-page pin batch
    } else {
      return Huge();
    }
    if (len > budget_) len = budget_;
    budget_ -= len;
    return len;
  }

  // Lengths around the limits of the syscall. Exempt from the budget: a
  // stream stops at the first hole, and every window ends in one.
  uint64_t Huge() {
    static constexpr uint64_t kHuge[] = {
        kSsizeMax,                // accepted; remote: limited by the first hole
        kSsizeMax + 1,            // EINVAL (negative as ssize_t)
        ~uint64_t{0},             // EINVAL
        uint64_t{1} << 40,        // passes access_ok from a window
        uint64_t{1} << 47,        // fails access_ok from a window (liovcnt >= 2)
        kMaxRwCount,              // the local clamp
        kMaxRwCount + 1,
    };
    return kHuge[rng_.Below(sizeof kHuge / sizeof kHuge[0])];
  }

  // Bytes from base to the end of its own-side region (or 1 page if in none).
  uint64_t DistanceToRegionEnd(uint64_t base) {
    for (const Region& r : own_.regions) {
      if (base >= r.addr && base < r.end()) return r.end() - base;
    }
    return kPageSize;
  }

  Rng& rng_;
  const Layout& own_;
  const Layout& other_;
  const Side side_;
  const bool write_;
  uint64_t budget_ = 0;
};

uint64_t PickFlags(Rng& rng) {
  if (!rng.OneIn(64)) return 0;
  static constexpr uint64_t kFlags[] = {1, 2, 0x8000000000000000, 0xffffffffffffffff};
  return rng.OneIn(5) ? rng.Next() | 1 : kFlags[rng.Below(4)];
}

}  // namespace

Case GenerateCase(uint64_t seed) {
  // Mix the seed so that neighbouring seeds start far apart in the sequence.
  Rng rng(seed * 0xd1342543de82ef95 + 0x2545f4914f6cdd1d);
  Case c;
  c.call.write = rng.OneIn(2);
  // Three cases in five are built to move bytes (a full or partial transfer:
  // the page-batching loop at work); the rest are the original free mix,
  // where most cases end in EINVAL or EFAULT before or at the first page.
  // Without this split, about one case in nine returned a positive count.
  const bool transfer = rng.Below(5) < 3;
  // A third of those move long runs: both streams pass 16 pages.
  const bool long_run = transfer && rng.OneIn(3);
  // One case in 24 of the free mix exercises the 1024-page pin batch, one in
  // 48 of those built to move bytes: there it really moves 4+ MiB, ten times
  // the cost of an average case, so fewer keep the differential shards fast.
  const bool batch = transfer ? rng.OneIn(48) : rng.OneIn(24);
  c.remote_layout = GenLayout(rng, Side::kRemote, batch, long_run);
  c.local_layout = GenLayout(rng, Side::kLocal, batch, long_run);
  if (transfer) {
    EnsureAccessible(rng, c.remote_layout, Side::kRemote, c.call.write, batch || long_run);
    EnsureAccessible(rng, c.local_layout, Side::kLocal, c.call.write, batch || long_run);
  }
  IovGen remote(rng, c.remote_layout, c.local_layout, Side::kRemote, c.call.write);
  IovGen local(rng, c.local_layout, c.remote_layout, Side::kLocal, c.call.write);
  if (transfer) {
    const bool clean = rng.OneIn(3);
    c.call.remote = remote.TransferVector(PickTransferCount(rng), clean, long_run);
    c.call.local = local.TransferVector(PickTransferCount(rng), clean, long_run);
    if (batch) {
      // The batch element leads half the time, so its 1024+ pages move.
      for (auto [v, l] : {std::pair{&c.call.remote, &c.remote_layout},
                          std::pair{&c.call.local, &c.local_layout}}) {
        const uint64_t at = rng.OneIn(2) ? 0 : rng.Below(v->size() + 1);
        v->insert(v->begin() + static_cast<ptrdiff_t>(at), BatchElement(rng, *l));
      }
    }
    return c;  // flags 0
  }
  c.call.remote = remote.Vector(PickCount(rng));
  const uint64_t lcount = PickCount(rng);
  uint64_t rtotal = 0;
  bool ordinary = true;
  for (const Iov& e : c.call.remote) {
    if (e.len > kIovBudgetBytes) ordinary = false;
    rtotal += e.len;
  }
  if (ordinary && lcount > 0 && lcount <= 40 && c.call.remote.size() <= 40 && rng.OneIn(4)) {
    c.call.local = local.VectorWithTotal(lcount, rtotal);  // equal stream lengths
  } else {
    c.call.local = local.Vector(lcount);
  }
  if (batch) {
    for (auto [v, l] : {std::pair{&c.call.remote, &c.remote_layout},
                        std::pair{&c.call.local, &c.local_layout}}) {
      if (v->size() >= kUioMaxIov) continue;  // keep 1024 accepted and 1025 EINVAL
      const uint64_t at = rng.OneIn(2) ? 0 : rng.Below(v->size() + 1);
      v->insert(v->begin() + static_cast<ptrdiff_t>(at), BatchElement(rng, *l));
    }
  }
  c.call.flags = PickFlags(rng);
  return c;
}

// ---------------------------------------------------------------------------
// DescribeCase

std::string ErrnoName(int err) {
  if (err == 0) return "0";
  const char* name = sim::scenario::ErrnoName(err);
  return name != nullptr ? name : absl::StrFormat("%d", err);
}

namespace {

std::string CppProt(int prot) {
  if (prot == 0) return "PROT_NONE";
  std::vector<std::string> bits;
  if (prot & PROT_READ) bits.push_back("PROT_READ");
  if (prot & PROT_WRITE) bits.push_back("PROT_WRITE");
  if (prot & PROT_EXEC) bits.push_back("PROT_EXEC");
  std::string s;
  for (size_t i = 0; i < bits.size(); ++i) s += (i ? " | " : "") + bits[i];
  return s;
}

// Decimal below 2^32, hex above: both are valid C++ and scenario literals.
std::string Num(uint64_t v) {
  return v < (uint64_t{1} << 32) ? absl::StrFormat("%d", v) : absl::StrFormat("%#x", v);
}

std::string Size(uint64_t len) {
  if (len % (uint64_t{1} << 20) == 0) return absl::StrFormat("%dM", len >> 20);
  if (len % 1024 == 0) return absl::StrFormat("%dK", len >> 10);
  return absl::StrFormat("%d", len);
}

void AppendCppLayout(std::string& s, const char* field, const Layout& l) {
  absl::StrAppendFormat(&s, "    .%s = {.regions = {\n", field);
  for (const Region& r : l.regions) {
    absl::StrAppendFormat(&s, "        {.addr = %#x, .len = %#x, .prot = %s, .fill = ", r.addr, r.len,
                          CppProt(r.prot));
    switch (r.fill) {
      case Region::Fill::kZero:
        s += "difftest::Region::Fill::kZero},\n";
        break;
      case Region::Fill::kPattern:
        s += "difftest::Region::Fill::kPattern},\n";
        break;
      case Region::Fill::kByte:
        absl::StrAppendFormat(&s, "difftest::Region::Fill::kByte, .byte = %#x},\n", r.byte);
        break;
    }
  }
  s += "    }},\n";
}

std::string CppIovecs(const std::vector<Iov>& v) {
  std::string s = "{";
  for (size_t i = 0; i < v.size(); ++i) {
    absl::StrAppendFormat(&s, "%s{%#x, %s}", i ? ", " : "", v[i].base, Num(v[i].len));
  }
  return s + "}";
}

std::string ScenarioIovecs(const std::vector<Iov>& v) {
  std::string s = "[";
  for (size_t i = 0; i < v.size(); ++i) {
    absl::StrAppendFormat(&s, "%s%#x:%s", i ? ", " : "", v[i].base, Num(v[i].len));
  }
  return s + "]";
}

void AppendScenarioLayout(std::string& s, const char* proc, const Layout& l) {
  for (const Region& r : l.regions) {
    absl::StrAppendFormat(&s, "%s: mmap %#x %s rw- private,anon,fixed\n", proc, r.addr, Size(r.len));
    if (r.fill == Region::Fill::kPattern) {
      absl::StrAppendFormat(&s, "%s: fill %#x %s pattern\n", proc, r.addr, Size(r.len));
    } else if (r.fill == Region::Fill::kByte) {
      absl::StrAppendFormat(&s, "%s: fill %#x %s 0x%02x\n", proc, r.addr, Size(r.len), r.byte);
    }
    if (r.prot != (PROT_READ | PROT_WRITE)) {
      absl::StrAppendFormat(&s, "%s: mprotect %#x %s %s\n", proc, r.addr, Size(r.len),
                            ProtString(r.prot));
    }
  }
}

}  // namespace

std::string CaseToCpp(const Case& c) {
  std::string s = "difftest::Case c = {\n";
  AppendCppLayout(s, "local_layout", c.local_layout);
  AppendCppLayout(s, "remote_layout", c.remote_layout);
  absl::StrAppendFormat(&s, "    .call = {.write = %s,\n", c.call.write ? "true" : "false");
  absl::StrAppendFormat(&s, "             .local = %s,\n", CppIovecs(c.call.local));
  absl::StrAppendFormat(&s, "             .remote = %s,\n", CppIovecs(c.call.remote));
  absl::StrAppendFormat(&s, "             .flags = %#x},\n};\n", c.call.flags);
  return s;
}

std::string CaseToScenario(const Case& c, const Outcome* expected) {
  std::string s;
  bool local_pattern = false;
  for (const Region& r : c.local_layout.regions) local_pattern |= r.fill == Region::Fill::kPattern;
  if (local_pattern) {
    s += "# The scenario language has one pattern, difftest's remote one; the caller's\n"
         "# pattern fills here differ from the C++ case, the return value does not.\n";
  }
  s += "process caller\nprocess target\n";
  AppendScenarioLayout(s, "target", c.remote_layout);
  AppendScenarioLayout(s, "caller", c.local_layout);
  absl::StrAppendFormat(&s, "caller: %s target %s %s",
                        c.call.write ? "process_vm_writev" : "process_vm_readv",
                        ScenarioIovecs(c.call.local), ScenarioIovecs(c.call.remote));
  if (c.call.flags != 0) absl::StrAppendFormat(&s, " flags=%#x", c.call.flags);
  s += "\n";
  if (expected != nullptr) {
    if (expected->ret < 0) {
      absl::StrAppendFormat(&s, "expect %d %s\n", expected->ret, ErrnoName(expected->err));
    } else {
      absl::StrAppendFormat(&s, "expect %d\n", expected->ret);
    }
  }
  return s;
}

std::string DescribeCase(const Case& c) {
  return "// C++:\n" + CaseToCpp(c) + "// mmsim scenario:\n" + CaseToScenario(c, nullptr);
}

std::string DescribeCase(const Case& c, const Outcome& expected) {
  return "// C++:\n" + CaseToCpp(c) + "// mmsim scenario:\n" + CaseToScenario(c, &expected);
}

}  // namespace difftest
