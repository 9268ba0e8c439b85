// tests/difftest/model_backend.cc: the spec model (see model_backend.h).
#include "tests/difftest/model_backend.h"

#include <errno.h>
#include <sys/mman.h>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "tests/difftest/case.h"

namespace difftest {
namespace {

// One side's memory: its regions sorted by address, each pointing at its
// bytes inside the Outcome's concatenated vector.
class Memory {
 public:
  Memory(const Layout& layout, Side side, std::vector<uint8_t>* bytes) {
    bytes->assign(layout.TotalBytes(), 0);
    uint64_t off = 0;
    for (const Region& r : layout.regions) {
      uint8_t* p = bytes->data() + off;
      if (r.fill == Region::Fill::kByte) memset(p, r.byte, r.len);
      if (r.fill == Region::Fill::kPattern) {
        for (uint64_t page = 0; page < r.len; page += kPageSize) {
          memcpy(p + page, PatternPage(side, r.addr + page), kPageSize);
        }
      }
      spans_.push_back({r.addr, r.len, r.prot, p});
      off += r.len;
    }
    std::sort(spans_.begin(), spans_.end(),
              [](const Span& a, const Span& b) { return a.addr < b.addr; });
  }

  // The prot of the region holding `a`, or -1 for a hole.
  int ProtAt(uint64_t a) const {
    const Span* s = Find(a);
    return s ? s->prot : -1;
  }
  // REQUIRES: `a` is inside a region.
  uint8_t* At(uint64_t a) const {
    const Span* s = Find(a);
    return s->bytes + (a - s->addr);
  }

 private:
  struct Span {
    uint64_t addr, len;
    int prot;
    uint8_t* bytes;
  };
  const Span* Find(uint64_t a) const {
    auto it = std::upper_bound(spans_.begin(), spans_.end(), a,
                               [](uint64_t x, const Span& s) { return x < s.addr; });
    if (it == spans_.begin()) return nullptr;
    --it;
    return a - it->addr < it->len ? &*it : nullptr;
  }
  std::vector<Span> spans_;
};

// x86-64 access_ok(p, n) on a non-constant size: p + n must not wrap and must
// not pass the top of user space.
bool AccessOk(uint64_t p, uint64_t n) {
  const uint64_t sum = p + n;
  return sum >= p && sum <= kUserTop;
}

bool NegativeAsSsize(uint64_t len) { return static_cast<int64_t>(len) < 0; }

// The syscall on two memories. Returns ret, sets *err.
class Transfer {
 public:
  Transfer(const Case& c, Memory& local, Memory& remote, ModelBackend::Variant v, bool pku)
      : c_(c), local_(local), remote_(remote), variant_(v), pku_(pku) {}

  int64_t Run(int* err) {
    *err = 0;
    auto fail = [&](int e) {
      *err = e;
      return int64_t{-1};
    };
    const Call& call = c_.call;
    // process_vm_rw: flags, then import_iovec of the local vector.
    if (call.flags != 0) return fail(EINVAL);
    if (call.local.size() > kUioMaxIov) return fail(EINVAL);
    for (const Iov& e : call.local) {
      if (NegativeAsSsize(e.len)) return fail(EINVAL);
    }
    uint64_t total = 0;
    if (call.local.size() == 1) {
      // ITER_UBUF (>= 6.4): clamp first, then access_ok on the clamped length.
      const uint64_t len = std::min(call.local[0].len, kMaxRwCount);
      if (!AccessOk(call.local[0].base, len)) return fail(EFAULT);
      segs_.push_back({call.local[0].base, len});
      total = len;
    } else {
      for (const Iov& e : call.local) {
        if (!AccessOk(e.base, e.len)) return fail(EFAULT);  // on the unclamped length
        const uint64_t len = std::min(e.len, kMaxRwCount - total);
        segs_.push_back({e.base, len});
        total += len;
      }
    }
    if (total == 0) return 0;
    // iovec_from_user of the remote vector: count and length signs only.
    if (call.remote.size() > kUioMaxIov) return fail(EINVAL);
    bool any = false;
    for (const Iov& e : call.remote) {
      if (NegativeAsSsize(e.len)) return fail(EINVAL);
      any |= e.len > 0;
    }
    if (!any) return 0;  // process_vm_rw_core: nothing to pin
    remaining_ = total;
    bool failed = false;
    for (const Iov& e : call.remote) {
      if (remaining_ == 0 || failed) break;
      failed = !SingleVec(e.base, e.len);
    }
    const uint64_t copied = total - remaining_;
    if (copied > 0) return static_cast<int64_t>(copied);
    return failed ? fail(EFAULT) : 0;
  }

 private:
  bool RemotePinnable(uint64_t page) const {
    const int prot = remote_.ProtAt(page);
    if (prot < 0) return false;
    return (prot & (c_.call.write ? PROT_WRITE : PROT_READ)) != 0;
  }
  bool LocalAccessible(uint64_t a) const {
    const int prot = local_.ProtAt(a);
    if (prot < 0) return false;
    // The local side goes through the CPU: any of R/W/X reads, only W writes. With
    // protection keys, an exactly-PROT_EXEC page has the execute-only key: no reads.
    if (c_.call.write && prot == PROT_EXEC && pku_) return false;
    return c_.call.write ? prot != 0 : (prot & PROT_WRITE) != 0;
  }

  // One remote element. False on a failure (EFAULT).
  bool SingleVec(uint64_t addr, uint64_t len) {
    if (len == 0) return true;
    const uint64_t first_page = addr & ~(kPageSize - 1);
    while (len > 0 && remaining_ > 0) {
      const uint64_t page = addr & ~(kPageSize - 1);
      if (variant_ == ModelBackend::Variant::kBatchAtomic &&
          ((page - first_page) / kPageSize) % kPinBatchPages == 0) {
        // Wrong on purpose: a batch that is not wholly pinnable moves nothing.
        const uint64_t pages_left = (addr + len - 1) / kPageSize - addr / kPageSize + 1;
        const uint64_t batch = std::min(pages_left, kPinBatchPages);
        for (uint64_t i = 0; i < batch; ++i) {
          if (!RemotePinnable(page + i * kPageSize)) return false;
        }
      }
      const uint64_t chunk = std::min(kPageSize - (addr - page), len);
      if (!RemotePinnable(page)) return false;
      if (!CopyChunk(addr, chunk)) return false;
      addr += chunk;
      len -= chunk;
    }
    return true;
  }

  // Copies up to n bytes between remote [ra, ra+n) (inside one page) and the
  // local stream. False on a local fault.
  bool CopyChunk(uint64_t ra, uint64_t n) {
    while (n > 0 && remaining_ > 0) {
      if (seg_off_ == segs_[seg_].len) {
        ++seg_;
        seg_off_ = 0;
        continue;
      }
      const uint64_t la = segs_[seg_].base + seg_off_;
      const uint64_t k = std::min({n, segs_[seg_].len - seg_off_, kPageSize - (la % kPageSize)});
      if (!LocalAccessible(la)) return false;
      if (c_.call.write) {
        memcpy(remote_.At(ra), local_.At(la), k);
      } else {
        memcpy(local_.At(la), remote_.At(ra), k);
      }
      seg_off_ += k;
      ra += k;
      n -= k;
      remaining_ -= k;
    }
    return true;
  }

  struct Seg {
    uint64_t base, len;
  };
  const Case& c_;
  Memory& local_;
  Memory& remote_;
  const ModelBackend::Variant variant_;
  const bool pku_;  // the CPU has protection keys (docs/semantics.md §3)
  std::vector<Seg> segs_;  // the local stream after import (clamped lengths)
  size_t seg_ = 0;
  uint64_t seg_off_ = 0;
  uint64_t remaining_ = 0;
};

}  // namespace

absl::StatusOr<Outcome> ModelBackend::Run(const Case& c) {
  if (absl::Status s = ValidateCase(c); !s.ok()) return s;
  Outcome out;
  Memory local(c.local_layout, Side::kLocal, &out.local_bytes);
  Memory remote(c.remote_layout, Side::kRemote, &out.remote_bytes);
  out.ret = Transfer(c, local, remote, variant_, pku_).Run(&out.err);
  return out;
}

}  // namespace difftest
