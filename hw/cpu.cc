// hw/cpu.cc: control-register writes, the translation slow path, accesses.
#include "hw/cpu.h"

#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <string_view>

#include "hw/check.h"

#if defined(__x86_64__)
#include <immintrin.h>
#endif

namespace hw {

Cpu::Cpu(int id, PhysMem* mem, const TlbProfile& tlb_profile)
    : id_(id), mem_(mem), tlb_(tlb_profile), psc_(tlb_profile.psc) {
  CHECK(mem != nullptr);
  tlb_.set_observer(nullptr, id_);
  UpdateMode();
}

void Cpu::set_observer(HwObserver* observer) {
  observer_ = observer;
  tlb_.set_observer(observer, id_);
}

void Cpu::UpdateMode() {
  mode_.user = cpl_ == 3;
  mode_.wp = (cr0_ & kCr0Wp) != 0;
  mode_.nxe = (efer_ & kEferNxe) != 0;
  mode_.smep = (cr4_ & kCr4Smep) != 0;
  mode_.smap = (cr4_ & kCr4Smap) != 0;
  mode_.ac = ac_;
  mode_.maxphyaddr = mem_->maxphyaddr();
  mode_.pke = (cr4_ & kCr4Pke) != 0;
  mode_.pkru = pkru_;
  pk_deny_read_ = PkeyDenyMask(AccessType::kRead, mode_);
  pk_deny_write_ = PkeyDenyMask(AccessType::kWrite, mode_);
  pcid_ = (cr4_ & kCr4Pcide) != 0 ? static_cast<uint16_t>(cr3_ & kCr3PcidMask)
                                  : 0;
}

void Cpu::Flush(TlbFlushKind kind, uint16_t pcid, VirtAddr va) {
  if (ABSL_PREDICT_FALSE(observer_ != nullptr)) {
    observer_->OnTlbFlush(id_, kind, pcid, va);
  }
}

Fault Cpu::WriteCr0(uint64_t value) {
  if ((value >> 32) != 0 || (value & kCr0Pg) == 0 || (value & kCr0Pe) == 0) {
    return Fault::GeneralProtection();
  }
  cr0_ = value;
  UpdateMode();
  return Fault{};
}

Fault Cpu::WriteCr3(uint64_t value) {
  const bool pcide = (cr4_ & kCr4Pcide) != 0;
  // SDM 4.5 Tables 4-12/4-13: bits 63:M (PCIDE = 0) or 62:M (PCIDE = 1)
  // are reserved.
  uint64_t reserved = ~((uint64_t{1} << mem_->maxphyaddr()) - 1);
  if (pcide) reserved &= ~kCr3NoFlush;
  if ((value & reserved) != 0) return Fault::GeneralProtection();

  const uint64_t old = cr3_;
  const bool no_flush = pcide && (value & kCr3NoFlush) != 0;
  cr3_ = value & ~kCr3NoFlush;
  UpdateMode();
  if (ABSL_PREDICT_FALSE(observer_ != nullptr)) {
    observer_->OnCr3Write(id_, old, value);
  }
  if (!no_flush) {
    // With PCIDE = 0 every entry has PCID 0, so this is "all non-global".
    tlb_.FlushPcid(pcid_);
    psc_.InvalidatePcid(pcid_);
    Flush(TlbFlushKind::kCr3Write, pcid_, VirtAddr(0));
  }
  return Fault{};
}

Fault Cpu::WriteCr4(uint64_t value) {
  if ((value & kCr4Pae) == 0) return Fault::GeneralProtection();
  if ((value & kCr4Pke) != 0 && !has_pku_) return Fault::GeneralProtection();
  if ((cr4_ & kCr4Pcide) == 0 && (value & kCr4Pcide) != 0 &&
      (cr3_ & kCr3PcidMask) != 0) {
    return Fault::GeneralProtection();
  }
  const uint64_t changed = cr4_ ^ value;
  cr4_ = value;
  UpdateMode();
  // SDM 4.10.4.1, "MOV to CR4".
  if ((changed & kCr4Pge) != 0 ||
      ((changed & kCr4Pcide) != 0 && (value & kCr4Pcide) == 0) ||
      ((changed & kCr4Smep) != 0 && (value & kCr4Smep) != 0)) {
    tlb_.FlushAll();
    psc_.InvalidateAll();
    Flush(TlbFlushKind::kFlushAll, pcid_, VirtAddr(0));
  }
  return Fault{};
}

Fault Cpu::WritePkru(uint32_t value) {
  if ((cr4_ & kCr4Pke) == 0) return Fault::GeneralProtection();  // #UD
  pkru_ = value;
  UpdateMode();
  return Fault{};
}

Fault Cpu::WriteEfer(uint64_t value) {
  if ((value & kEferLme) == 0) return Fault::GeneralProtection();
  efer_ = (value & ~kEferLma) | (efer_ & kEferLma);
  UpdateMode();
  return Fault{};
}

void Cpu::Invlpg(VirtAddr va) {
  if (!va.IsCanonical()) return;  // SDM vol. 2, INVLPG: a NOP
  tlb_.InvalidatePage(va, pcid_);
  // SDM 4.10.4.1: also every PSC entry of the current PCID, any address.
  psc_.InvalidatePcid(pcid_);
  Flush(TlbFlushKind::kInvlpg, pcid_, va);
}

Fault Cpu::Invpcid(int type, uint16_t pcid, VirtAddr va) {
  if (type < 0 || type > 3 || pcid > kCr3PcidMask) {
    return Fault::GeneralProtection();
  }
  const bool pcide = (cr4_ & kCr4Pcide) != 0;
  if ((type == 0 || type == 1) && !pcide && pcid != 0) {
    return Fault::GeneralProtection();
  }
  switch (type) {
    case 0:
      if (!va.IsCanonical()) return Fault::GeneralProtection(va.value());
      tlb_.InvalidatePageNonGlobal(va, pcid);
      psc_.InvalidateAddress(va, pcid);  // the entries that would map va
      Flush(TlbFlushKind::kInvpcidAddr, pcid, va);
      break;
    case 1:
      tlb_.FlushPcid(pcid);
      psc_.InvalidatePcid(pcid);
      Flush(TlbFlushKind::kInvpcidSingle, pcid, VirtAddr(0));
      break;
    case 2:
      tlb_.FlushAll();
      psc_.InvalidateAll();
      Flush(TlbFlushKind::kInvpcidAllGlobal, 0, VirtAddr(0));
      break;
    case 3:
      tlb_.FlushNonGlobal();
      psc_.InvalidateAll();  // PSC entries are never global
      Flush(TlbFlushKind::kInvpcidAllNonGlobal, 0, VirtAddr(0));
      break;
  }
  return Fault{};
}

void Cpu::SetCpl(int cpl) {
  CHECK(cpl >= 0 && cpl <= 3, "CPL must be 0..3");
  cpl_ = cpl;
  UpdateMode();
}

Fault Cpu::RaiseFault(const Fault& fault, AccessType type, VirtAddr va,
                      bool had_entry) {
  if (ABSL_PREDICT_FALSE(observer_ != nullptr)) {
    observer_->OnFault(id_, fault, type);
  }
  if (fault.kind == Fault::Kind::kPageFault) {
    cr2_ = fault.cr2;
    pf_error_code_ = fault.error_code;
    ++pf_count_;
    // SDM 4.10.4.1: a #PF invalidates the TLB entries for the faulting page
    // in the current PCID. Without a lookup hit there is nothing to drop.
    if (had_entry && tlb_.InvalidatePage(va, pcid_) > 0) {
      Flush(TlbFlushKind::kPageFault, pcid_, va);
    }
    // ... and the PSC entries that would be used for the address (so a
    // fault caused by a stale cached entry does not recur).
    psc_.InvalidateAddress(va, pcid_);
  }
  return fault;
}

Cpu::Translation Cpu::TranslateSlow(VirtAddr va, AccessType type,
                                    const TlbEntry* hit) {
  if (hit != nullptr) {
    // The cached rights and key decide (SDM 4.10.2.3), the key against the
    // current PKRU; a stale, too-strict entry yields a "spurious" #PF that
    // also drops the entry, so a retry walks.
    const bool pk_denies = PkeyDenies(hit->user, hit->pkey, type, mode_);
    if (!AccessAllowed(hit->writable, hit->user, hit->nx, type, mode_) ||
        pk_denies) {
      const Fault f = Fault::PageFault(
          va.value(), kPfErrPresent | AccessErrorBits(type, mode_) |
                          (pk_denies ? kPfErrPk : 0));
      return Translation{RaiseFault(f, type, va, /*had_entry=*/true), {}, {}};
    }
  }
  // A miss, or a write through an entry with D = 0 (SDM 4.8: the processor
  // walks to set D in the paging-structure entry).
  tlb_.CountWalk();
  const WalkResult r = WalkForMiss(va, type);
  if (!r.ok()) {
    return Translation{RaiseFault(r.fault, type, va, hit != nullptr), {}, {}};
  }
  TlbEntry e;
  e.vpn = (va.value() & ~(PageBytesOf(r.size) - 1)) >> kPageShift;
  e.pfn = r.frame.value() >> kPageShift;
  e.pcid = pcid_;
  e.size = r.size;
  e.valid = true;
  e.global = r.global && (cr4_ & kCr4Pge) != 0;  // SDM 4.10.2.4
  e.writable = r.writable;
  e.user = r.user;
  e.nx = r.nx;
  e.dirty = r.dirty;
  e.pkey = r.pkey;
  tlb_.Fill(e);
  return Translation{Fault{}, r.PhysFor(va), r.size};
}

WalkResult Cpu::WalkForMiss(VirtAddr va, AccessType type) {
  if (!psc_.enabled()) return Walk(*mem_, cr3_, va, type, mode_, observer_, id_);
  if (ABSL_PREDICT_FALSE(!va.IsCanonical())) {
    return Walk(*mem_, cr3_, va, type, mode_, observer_, id_);  // #GP
  }
  const PscMatch m = psc_.Lookup(va, pcid_);
  if (m.level < 4 && ABSL_PREDICT_FALSE(observer_ != nullptr)) {
    observer_->OnPscHit(id_, m.level + 1, va, m.table);
  }
  const WalkResult r =
      WalkFrom(*mem_, cr3_, WalkStart{m.level, m.table, m.writable, m.user, m.nx},
               va, type, mode_, observer_, id_);
  if (r.ok()) {
    // SDM 4.10.3.1: entries are created only for paging-structure entries
    // with A = 1, which this successful walk has just made so. Leaves
    // (r.leaf_level) get none.
    for (int level = m.level; level > r.leaf_level; --level) {
      const WalkResult::Upper& u = r.upper[4 - level];
      psc_.Fill(level, va, pcid_, u.table, u.writable, u.user, u.nx);
    }
  }
  return r;
}

Fault Cpu::Access(VirtAddr va, void* buf, size_t len, AccessType type) {
  CHECK(len <= kPageSize, "a single access is at most one page");
  if (len == 0) return Fault{};
  const size_t first =
      static_cast<size_t>(std::min<uint64_t>(len, kPageSize - va.page_offset()));
  // Translate every page the access touches before moving any byte.
  const Translation t1 = Translate(va, type);
  if (!t1.fault.ok()) return t1.fault;
  Translation t2;
  const VirtAddr va2 = va + first;
  if (first < len) {
    t2 = Translate(va2, type);
    if (!t2.fault.ok()) return t2.fault;
  }
  if (!mem_->Contains(t1.pa, first)) {
    return RaiseFault(Fault::MachineCheck(va.value()), type, va, false);
  }
  if (first < len && !mem_->Contains(t2.pa, len - first)) {
    return RaiseFault(Fault::MachineCheck(va2.value()), type, va2, false);
  }
  uint8_t* bytes = static_cast<uint8_t*>(buf);
  if (type == AccessType::kWrite) {
    std::memcpy(mem_->ptr(t1.pa), bytes, first);
    if (first < len) std::memcpy(mem_->ptr(t2.pa), bytes + first, len - first);
  } else {
    std::memcpy(bytes, mem_->ptr(t1.pa), first);
    if (first < len) std::memcpy(bytes + first, mem_->ptr(t2.pa), len - first);
  }
  return Fault{};
}

namespace {

constexpr size_t kRepMovsbMin = 2048;

#if defined(__x86_64__)
// Copies n bytes forward with non-temporal stores (REQUIRES: dst 32-byte aligned, n a
// multiple of 128, dst not inside (src, src + n)): 32-byte stores where the host has AVX2
// (measured faster than 16-byte ones on this AMD host), else SSE2's 16-byte ones. No fence:
// this thread sees the bytes in order, and PhysMem::FenceStreamingStores orders them for the
// others (a fence per 4 KiB piece would halve the copy's speed).
__attribute__((target("avx2"))) void StreamBytesAvx2(uint8_t* dst, const uint8_t* src,
                                                       size_t n) {
  for (size_t i = 0; i < n; i += 128) {
    const __m256i a = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(src + i));
    const __m256i b = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(src + i + 32));
    const __m256i c = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(src + i + 64));
    const __m256i d = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(src + i + 96));
    _mm256_stream_si256(reinterpret_cast<__m256i*>(dst + i), a);
    _mm256_stream_si256(reinterpret_cast<__m256i*>(dst + i + 32), b);
    _mm256_stream_si256(reinterpret_cast<__m256i*>(dst + i + 64), c);
    _mm256_stream_si256(reinterpret_cast<__m256i*>(dst + i + 96), d);
  }
}

void StreamBytesSse2(uint8_t* dst, const uint8_t* src, size_t n) {
  for (size_t i = 0; i < n; i += 64) {
    const __m128i a = _mm_loadu_si128(reinterpret_cast<const __m128i*>(src + i));
    const __m128i b = _mm_loadu_si128(reinterpret_cast<const __m128i*>(src + i + 16));
    const __m128i c = _mm_loadu_si128(reinterpret_cast<const __m128i*>(src + i + 32));
    const __m128i d = _mm_loadu_si128(reinterpret_cast<const __m128i*>(src + i + 48));
    _mm_stream_si128(reinterpret_cast<__m128i*>(dst + i), a);
    _mm_stream_si128(reinterpret_cast<__m128i*>(dst + i + 16), b);
    _mm_stream_si128(reinterpret_cast<__m128i*>(dst + i + 32), c);
    _mm_stream_si128(reinterpret_cast<__m128i*>(dst + i + 48), d);
  }
}

void StreamBytes(uint8_t* dst, const uint8_t* src, size_t n) {
  static const bool avx2 = (__builtin_cpu_init(), __builtin_cpu_supports("avx2"));
  if (avx2) {
    StreamBytesAvx2(dst, src, n);
  } else {
    StreamBytesSse2(dst, src, n);
  }
}
#endif

// memmove for the string copies. Most uaccess copies on the process_vm path are short (an
// iovec array of one or two elements, an 8-byte payload): up to 16 bytes are moved with two
// overlapping loads, both read before either store, which keeps memmove's result for
// overlapping ranges without a library call. `stream`: the copy is part of a run longer than
// the host's last-level cache (see Cpu::NoteStringCopy).
inline void MoveBytes(uint8_t* dst, const uint8_t* src, size_t n, bool stream) {
  if (n > 16) {
#if defined(__x86_64__)
    // A page-sized copy that a forward copy may do (dst is not inside (src, src + n)):
    // `rep movsb`, as the kernel's copy_user_generic does on FSRM/ERMS CPUs; non-temporal
    // stores when it streams and is aligned.
    if (n >= kRepMovsbMin && static_cast<size_t>(dst - src) >= n) {
      if (stream && (reinterpret_cast<uintptr_t>(dst) & 31) == 0 && (n & 127) == 0) {
        StreamBytes(dst, src, n);
        return;
      }
      asm volatile("rep movsb" : "+D"(dst), "+S"(src), "+c"(n) : : "memory");
      return;
    }
#endif
    std::memmove(dst, src, n);
  } else if (n >= 8) {
    uint64_t head, tail;
    std::memcpy(&head, src, 8);
    std::memcpy(&tail, src + n - 8, 8);
    std::memcpy(dst, &head, 8);
    std::memcpy(dst + n - 8, &tail, 8);
  } else if (n >= 4) {
    uint32_t head, tail;
    std::memcpy(&head, src, 4);
    std::memcpy(&tail, src + n - 4, 4);
    std::memcpy(dst, &head, 4);
    std::memcpy(dst + n - 4, &tail, 4);
  } else if (n > 0) {
    const uint8_t first = src[0], middle = src[n / 2], last = src[n - 1];
    dst[0] = first;
    dst[n / 2] = middle;
    dst[n - 1] = last;
  }
}

// The first line of a small file, without its newline ("" if it cannot be read).
std::string ReadLine(const std::string& path) {
  std::FILE* f = std::fopen(path.c_str(), "r");
  if (f == nullptr) return "";
  char buf[64];
  const char* got = std::fgets(buf, sizeof buf, f);
  std::fclose(f);
  if (got == nullptr) return "";
  std::string line(buf);
  while (!line.empty() && (line.back() == '\n' || line.back() == '\r')) line.pop_back();
  return line;
}

}  // namespace

uint64_t ParseCacheSize(std::string_view text) {
  uint64_t n = 0;
  size_t i = 0;
  for (; i < text.size() && text[i] >= '0' && text[i] <= '9'; ++i) {
    if (n > (uint64_t{1} << 40)) return 0;  // no cache is this large
    n = n * 10 + static_cast<uint64_t>(text[i] - '0');
  }
  if (i == 0) return 0;
  const std::string_view unit = text.substr(i);
  if (unit.empty()) return n;
  if (unit == "K") return n << 10;
  if (unit == "M") return n << 20;
  if (unit == "G") return n << 30;
  return 0;
}

uint64_t HostLastLevelCacheBytes() {
  // The kernel's view first (what lscpu prints): the data or unified cache of the highest
  // level cpu0 has. The C library's sysconf comes second because it can disagree: on an AMD
  // EPYC VM it reads the L3 as 256 MiB where the kernel reads 32 MiB.
  uint64_t best = 0;
  int best_level = 0;
  for (int index = 0; index < 16; ++index) {
    const std::string dir =
        "/sys/devices/system/cpu/cpu0/cache/index" + std::to_string(index) + "/";
    const std::string level = ReadLine(dir + "level");
    if (level.empty()) break;
    if (ReadLine(dir + "type") == "Instruction") continue;
    const int l = std::atoi(level.c_str());
    const uint64_t bytes = ParseCacheSize(ReadLine(dir + "size"));
    if (bytes > 0 && l >= best_level) {
      best = bytes;
      best_level = l;
    }
  }
  if (best > 0) return best;
  for (int name : {_SC_LEVEL3_CACHE_SIZE, _SC_LEVEL2_CACHE_SIZE}) {
    const long v = sysconf(name);
    if (v > 0) return static_cast<uint64_t>(v);
  }
  return uint64_t{8} << 20;
}

uint64_t Cpu::DefaultStreamThreshold() {
  static const uint64_t bytes =
      std::max<uint64_t>(HostLastLevelCacheBytes() / 4 * 3, uint64_t{4} << 20);
  return bytes;
}

Cpu::CopyResult Cpu::CopyFromLinear(void* dst, VirtAddr src, size_t len) {
  uint8_t* out = static_cast<uint8_t*>(dst);
  const bool stream = NoteStringCopy(src, len);
  size_t done = 0;
  while (done < len) {
    const VirtAddr va = src + done;
    const Translation t = Translate(va, AccessType::kRead);
    if (ABSL_PREDICT_FALSE(!t.fault.ok())) return CopyResult{done, t.fault};
    const uint64_t page_bytes = PageBytesOf(t.size);
    const size_t chunk = static_cast<size_t>(std::min<uint64_t>(
        len - done, page_bytes - (va.value() & (page_bytes - 1))));
    if (ABSL_PREDICT_FALSE(!mem_->Contains(t.pa, chunk))) {
      return CopyResult{done, RaiseFault(Fault::MachineCheck(va.value()),
                                         AccessType::kRead, va, false)};
    }
    MoveBytes(out + done, static_cast<const uint8_t*>(mem_->ptr(t.pa)), chunk, stream);  // may overlap: see cpu.h
    done += chunk;
  }
  return CopyResult{done, Fault{}};
}

Cpu::CopyResult Cpu::CopyToLinear(VirtAddr dst, const void* src, size_t len) {
  const uint8_t* in = static_cast<const uint8_t*>(src);
  const bool stream = NoteStringCopy(dst, len);
  size_t done = 0;
  while (done < len) {
    const VirtAddr va = dst + done;
    const Translation t = Translate(va, AccessType::kWrite);
    if (ABSL_PREDICT_FALSE(!t.fault.ok())) return CopyResult{done, t.fault};
    const uint64_t page_bytes = PageBytesOf(t.size);
    const size_t chunk = static_cast<size_t>(std::min<uint64_t>(
        len - done, page_bytes - (va.value() & (page_bytes - 1))));
    if (ABSL_PREDICT_FALSE(!mem_->Contains(t.pa, chunk))) {
      return CopyResult{done, RaiseFault(Fault::MachineCheck(va.value()),
                                         AccessType::kWrite, va, false)};
    }
    MoveBytes(static_cast<uint8_t*>(mem_->ptr(t.pa)), in + done, chunk, stream);  // may overlap: see cpu.h
    done += chunk;
  }
  return CopyResult{done, Fault{}};
}

}  // namespace hw
