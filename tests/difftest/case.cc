// tests/difftest/case.cc: patterns and validation of a Case.
#include "tests/difftest/case.h"

#include <sys/mman.h>

#if defined(__x86_64__)
#include <cpuid.h>
#endif

#include <algorithm>
#include <cstdio>
#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_format.h"
#include "hw/pattern.h"

namespace difftest {

Backend::~Backend() = default;

const char* SideName(Side side) { return side == Side::kLocal ? "local" : "remote"; }

uint8_t PatternByte(Side side, uint64_t addr) {
  const uint64_t page = addr >> 12;
  const uint64_t off = addr & 0xfff;
  if (side == Side::kRemote) return hw::PatternByte(addr);
  return static_cast<uint8_t>(page * 37 + off * 11 + 0x5b);
}

const uint8_t* PatternPage(Side side, uint64_t page_addr) {
  // Each pattern depends on the page number only through (page * k) mod 256,
  // so 256 distinct pages per side cover every page.
  struct Tables {
    std::vector<uint8_t> local, remote;
    Tables() : local(256 * kPageSize), remote(256 * kPageSize) {
      for (uint64_t p = 0; p < 256; ++p) {
        for (uint64_t i = 0; i < kPageSize; ++i) {
          local[p * kPageSize + i] = PatternByte(Side::kLocal, (p << 12) + i);
          remote[p * kPageSize + i] = PatternByte(Side::kRemote, (p << 12) + i);
        }
      }
    }
  };
  static const Tables* const tables = new Tables();
  const uint64_t page = (page_addr >> 12) & 0xff;
  return (side == Side::kLocal ? tables->local.data() : tables->remote.data()) + page * kPageSize;
}

uint64_t WindowBase(Side side) { return side == Side::kLocal ? kLocalBase : kRemoteBase; }

unsigned long HostMmapMinAddr() {
  unsigned long v = 65536;
  if (FILE* f = fopen("/proc/sys/vm/mmap_min_addr", "r")) {
    if (fscanf(f, "%lu", &v) != 1) v = 65536;
    fclose(f);
  }
  return v;
}

bool HostHasPku() {
#if defined(__x86_64__)
  unsigned int a = 0, b = 0, c = 0, d = 0;
  if (!__get_cpuid_count(7, 0, &a, &b, &c, &d)) return false;
  return (c & (1u << 4)) != 0;  // OSPKE
#else
  return false;
#endif
}

bool HostHasGbpages() {
#if defined(__x86_64__)
  unsigned int a = 0, b = 0, c = 0, d = 0;
  if (!__get_cpuid(0x80000001u, &a, &b, &c, &d)) return false;
  return (d & (1u << 26)) != 0;  // Page1GB
#else
  return false;
#endif
}

std::string ProtString(int prot) {
  std::string s = "---";
  if (prot & PROT_READ) s[0] = 'r';
  if (prot & PROT_WRITE) s[1] = 'w';
  if (prot & PROT_EXEC) s[2] = 'x';
  return s;
}

uint64_t Layout::TotalBytes() const {
  uint64_t total = 0;
  for (const Region& r : regions) total += r.len;
  return total;
}

namespace {

absl::Status ValidateLayout(const Layout& layout, Side side) {
  const uint64_t lo = WindowBase(side);
  const uint64_t hi = lo + kWindowSize - kPageSize;  // the last page stays a hole
  std::vector<const Region*> sorted;
  uint64_t total = 0;
  for (size_t i = 0; i < layout.regions.size(); ++i) {
    const Region& r = layout.regions[i];
    auto bad = [&](const std::string& why) {
      return absl::InvalidArgumentError(absl::StrFormat(
          "%s region %d [%#x, +0x%x): %s", SideName(side), i, r.addr, r.len, why));
    };
    if (r.addr % kPageSize != 0 || r.len % kPageSize != 0) return bad("not page-aligned");
    if (r.len == 0) return bad("empty");
    if (r.addr < lo || r.len > hi - lo || r.addr > hi - r.len) {
      return bad(absl::StrFormat("outside the %s window [%#x, %#x)", SideName(side), lo, hi));
    }
    if ((r.prot & ~(PROT_READ | PROT_WRITE | PROT_EXEC)) != 0) {
      return bad(absl::StrFormat("prot %#x has bits other than PROT_READ|WRITE|EXEC", r.prot));
    }
    if (r.fill != Region::Fill::kZero && r.fill != Region::Fill::kPattern &&
        r.fill != Region::Fill::kByte) {
      return bad("unknown fill");
    }
    total += r.len;
    sorted.push_back(&r);
  }
  if (total > kMaxLayoutBytes) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "%s layout has %d bytes, more than the limit %d", SideName(side), total, kMaxLayoutBytes));
  }
  std::sort(sorted.begin(), sorted.end(),
            [](const Region* a, const Region* b) { return a->addr < b->addr; });
  for (size_t i = 1; i < sorted.size(); ++i) {
    if (sorted[i]->addr < sorted[i - 1]->end()) {
      return absl::InvalidArgumentError(
          absl::StrFormat("%s regions at %#x and %#x overlap", SideName(side),
                          sorted[i - 1]->addr, sorted[i]->addr));
    }
  }
  return absl::OkStatus();
}

bool InWindow(uint64_t a, uint64_t base) { return a >= base && a - base < kWindowSize; }

absl::Status ValidateIovecs(const std::vector<Iov>& v, Side side) {
  if (v.size() > kMaxIovecs) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "%s iovec count %d exceeds the harness limit %d", SideName(side), v.size(), kMaxIovecs));
  }
  for (size_t i = 0; i < v.size(); ++i) {
    const Iov& e = v[i];
    if (e.len == 0) continue;
    if (InWindow(e.base, kLocalBase) || InWindow(e.base, kRemoteBase) || e.base < kPageSize ||
        e.base >= kUserTop) {
      continue;
    }
    return absl::InvalidArgumentError(absl::StrFormat(
        "%s iovec %d {%#x, %#x} starts outside both windows, page 0 and the non-user range; "
        "a backend could touch memory it does not own",
        SideName(side), i, e.base, e.len));
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status ValidateCase(const Case& c) {
  if (absl::Status s = ValidateLayout(c.local_layout, Side::kLocal); !s.ok()) return s;
  if (absl::Status s = ValidateLayout(c.remote_layout, Side::kRemote); !s.ok()) return s;
  if (absl::Status s = ValidateIovecs(c.call.local, Side::kLocal); !s.ok()) return s;
  return ValidateIovecs(c.call.remote, Side::kRemote);
}

}  // namespace difftest
