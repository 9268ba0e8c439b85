// hw/cpu.h: one logical processor's MMU-facing state and its memory accesses.
//
// Cpu holds the registers that control paging (SDM vol. 3A 2.5 and 4.1):
//   CR0  PE (bit 0), WP (16), PG (31)
//   CR2  page-fault linear address (written on every #PF)
//   CR3  PML4 table address; PCID in bits 11:0 when CR4.PCIDE = 1
//        (SDM 4.5, Tables 4-12/4-13); bit 63 of a written value = "don't
//        flush" (SDM 4.10.4.1), never stored
//   CR4  PAE (5), PGE (7), PCIDE (17), SMEP (20), SMAP (21), PKE (22)
//   IA32_EFER  LME (8), LMA (10), NXE (11)
//   CPL and RFLAGS.AC
//   PKRU (SDM 2.7, 4.6.2): 32 bits, AD = bit 2k and WD = bit 2k+1 for
//        protection key k; read and written with RDPKRU/WRPKRU, which need
//        CR4.PKE = 1; CR4.PKE needs the PKU feature (has_pku()).
// plus a TLB (tlb.h), the paging-structure caches (psc.h) and a pointer to
// the shared physical memory.
//
// The Cpu comes up in IA-32e mode with 4-level paging, as firmware and a
// boot loader leave it: CR0 = PE|PG, CR4 = PAE, EFER = LME|LMA, CR3 = 0, CPL
// 0, PKRU 0. WP, PGE, PCIDE, SMEP, SMAP, PKE and NXE start clear; the OS turns
// them on. The PKU feature is off until set_has_pku(true).
// Leaving IA-32e mode is not modelled (clearing PG, PAE or LME is #GP).
//
// Register writes are single functions that update the state, apply the
// architectural TLB side effects (SDM 4.10.4.1) and emit observer events, so
// no caller can forget one of the three.
//
// Accesses (Load/Store/Fetch, CopyFromLinear/CopyToLinear) run at the
// current CPL and translate through the TLB (Translate). A translation that
// faults leaves no TLB entry (SDM 4.10.2.3) and drops any entry for the page
// (SDM 4.10.4.1); a #PF writes CR2. An access to a physical address outside
// simulated memory returns Fault::Kind::kMachineCheck and copies nothing.
//
// Thread safety: none. Several Cpu objects may share one PhysMem; nothing
// keeps their TLBs coherent (that is the OS's job: shootdowns).
#ifndef MMSIM_HW_CPU_H_
#define MMSIM_HW_CPU_H_

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string_view>

#include "absl/base/attributes.h"
#include "absl/base/optimization.h"
#include "hw/access.h"
#include "hw/access_rights.h"
#include "hw/addr.h"
#include "hw/observer.h"
#include "hw/phys_mem.h"
#include "hw/psc.h"
#include "hw/tlb.h"
#include "hw/tlb_profile.h"
#include "hw/walker.h"

namespace hw {

// The size of the host's last-level data cache in bytes, as the kernel reports it in sysfs
// (cpu0's highest cache level), else as the C library's sysconf does, else 8 MiB. Used only
// to choose how the host copies (Cpu::stream_threshold), never by the simulated machine.
uint64_t HostLastLevelCacheBytes();
// A sysfs cache size ("32768K", "1M", "512"): its bytes, or 0 if the text is not one.
uint64_t ParseCacheSize(std::string_view text);

class Cpu {
 public:
  // Control-register bits (SDM 2.5).
  static constexpr uint64_t kCr0Pe = uint64_t{1} << 0;
  static constexpr uint64_t kCr0Wp = uint64_t{1} << 16;
  static constexpr uint64_t kCr0Pg = uint64_t{1} << 31;
  static constexpr uint64_t kCr4Pae = uint64_t{1} << 5;
  static constexpr uint64_t kCr4Pge = uint64_t{1} << 7;
  static constexpr uint64_t kCr4Pcide = uint64_t{1} << 17;
  static constexpr uint64_t kCr4Smep = uint64_t{1} << 20;
  static constexpr uint64_t kCr4Smap = uint64_t{1} << 21;
  static constexpr uint64_t kCr4Pke = uint64_t{1} << 22;
  static constexpr uint64_t kEferLme = uint64_t{1} << 8;
  static constexpr uint64_t kEferLma = uint64_t{1} << 10;
  static constexpr uint64_t kEferNxe = uint64_t{1} << 11;
  static constexpr uint64_t kCr3NoFlush = uint64_t{1} << 63;
  static constexpr uint64_t kCr3PcidMask = 0xfff;
  // CR3 bits 3 and 4 when CR4.PCIDE = 0 (carried, no effect).
  static constexpr uint64_t kCr3Pwt = uint64_t{1} << 3;
  static constexpr uint64_t kCr3Pcd = uint64_t{1} << 4;

  // `mem` must outlive the Cpu. The TLB is built from `tlb_profile`.
  Cpu(int id, PhysMem* mem, const TlbProfile& tlb_profile);

  Cpu(const Cpu&) = delete;
  Cpu& operator=(const Cpu&) = delete;

  // --- Registers -----------------------------------------------------------
  uint64_t cr0() const { return cr0_; }
  uint64_t cr2() const { return cr2_; }
  // The error code the last #PF pushed (SDM 4.7), and how many #PFs this CPU raised: what
  // the handler got, kept for checks (`expect fault cpu N`).
  uint32_t pf_error_code() const { return pf_error_code_; }
  uint64_t pf_count() const { return pf_count_; }
  uint64_t cr3() const { return cr3_; }
  uint64_t cr4() const { return cr4_; }
  uint64_t efer() const { return efer_; }
  int cpl() const { return cpl_; }
  bool ac() const { return ac_; }
  // The current PCID: CR3[11:0] when CR4.PCIDE = 1, else 0.
  uint16_t pcid() const { return pcid_; }
  // The paging controls as the walker sees them.
  const PagingMode& paging_mode() const { return mode_; }

  // MOV to CR0. #GP (state unchanged) if bits 63:32 are set or PE/PG would
  // be cleared. WP takes effect at once (rights are checked on every access,
  // also on TLB hits). No TLB effect.
  Fault WriteCr0(uint64_t value);
  // MOV to CR2 (the OS may write it).
  void WriteCr2(uint64_t value) { cr2_ = value; }
  // MOV to CR3 (SDM 4.10.4.1). #GP (state unchanged) if a reserved bit is
  // set: bits 62:MAXPHYADDR, and bit 63 when CR4.PCIDE = 0. Then:
  //   PCIDE = 0: drops all non-global entries (they all have PCID 0);
  //   PCIDE = 1: drops the non-global entries of the new PCID unless bit 63
  //              of `value` is set; entries of other PCIDs survive.
  // The paging-structure caches lose the same PCID's entries (none global).
  // Bit 63 is not stored. Emits OnCr3Write and, when entries were dropped,
  // OnTlbFlush(kCr3Write).
  Fault WriteCr3(uint64_t value);
  // MOV to CR4. #GP (state unchanged) if PAE would be cleared, PCIDE set
  // while CR3[11:0] != 0, or PKE set on a CPU without PKU. Changing PGE,
  // clearing PCIDE, or setting SMEP flushes the whole TLB, global entries
  // too, and every paging-structure cache entry (the SDM asks for less on
  // SMEP 0->1; flushing more is always allowed). Changing PKE flushes
  // nothing: TLB entries hold the leaf's key whatever PKE was.
  Fault WriteCr4(uint64_t value);
  // WRMSR IA32_EFER. LMA is read-only (kept); clearing LME is #GP.
  Fault WriteEfer(uint64_t value);

  // INVLPG: drops the entries for `va` in the current PCID and global ones,
  // and every paging-structure-cache entry of the current PCID whatever its
  // address (SDM 4.10.4.1). A non-canonical address makes it a no-op.
  void Invlpg(VirtAddr va);
  // INVPCID (SDM vol. 2, INVPCID): type 0 one address in `pcid` (not
  // global), 1 all non-global of `pcid`, 2 everything, 3 all non-global.
  // Paging-structure caches: type 0 drops the entries of `pcid` that would
  // translate `va`, type 1 all of `pcid`, types 2 and 3 everything.
  // #GP for a type > 3, a PCID > 4095, a non-canonical address (type 0), or
  // a nonzero PCID for types 0/1 when CR4.PCIDE = 0.
  Fault Invpcid(int type, uint16_t pcid, VirtAddr va);

  // The PKU feature (CPUID.(EAX=7,ECX=0):ECX[3]); default false. Set it
  // before CR4 is written: clearing it later leaves CR4.PKE as it is.
  void set_has_pku(bool has_pku) { has_pku_ = has_pku; }
  bool has_pku() const { return has_pku_; }
  // RDPKRU (the value; the #UD of RDPKRU with CR4.PKE = 0 is not modelled).
  uint32_t pkru() const { return pkru_; }
  // WRPKRU. With CR4.PKE = 0 the instruction is #UD; mmsim has no #UD and
  // returns Fault::GeneralProtection() instead (state unchanged). Takes
  // effect at once, TLB hits included; flushes nothing (SDM 4.10.2.2).
  Fault WritePkru(uint32_t value);

  // Current privilege level 0..3 (3 = user mode). REQUIRES: 0 <= cpl <= 3.
  void SetCpl(int cpl);
  // STAC / CLAC: set / clear RFLAGS.AC (SMAP override, SDM 4.6).
  void Stac() { SetAc(true); }
  void Clac() { SetAc(false); }

  // --- Translation and accesses --------------------------------------------
  struct Translation {
    Fault fault;  // kind == kNone on success
    PhysAddr pa;
    PageSize size = PageSize::k4K;  // size of the page that maps `va`
  };
  // Translates `va` for `type` at the current CPL: TLB first (rights checked
  // against the cached, combined flags); a write to an entry whose D is 0
  // re-walks to set D (SDM 4.8); a miss walks, starting below the longest
  // paging-structure-cache match, and fills the TLB and the caches on
  // success. On a fault: no fill, the page's TLB entries and the PSC entries
  // for `va` are dropped, CR2 is set for #PF, and OnFault is emitted.
  Translation Translate(VirtAddr va, AccessType type);

  // One access of `len` bytes (REQUIRES: len <= 4096). An access that crosses
  // a page boundary translates both pages before any byte moves, so a fault
  // leaves memory (and *dst) untouched. CR2 is the first faulting byte's
  // page start or `va`.
  Fault Load(VirtAddr va, void* dst, size_t len);
  Fault Store(VirtAddr va, const void* src, size_t len);
  Fault Fetch(VirtAddr va, void* dst, size_t len);

  // String copies with REP MOVSB semantics (as uaccess uses them): progress
  // page by page, translating each page once; stop at the first byte whose
  // translation faults. `done` is the exact number of bytes copied.
  // The host buffer may overlap the simulated range (a process that reads or writes itself
  // through process_vm_readv copies between the direct map and its own frame): the copy
  // then has memmove's result, the bytes as they were before the copy. Real hardware does
  // not define the overlapping case (REP MOVSB with fast strings copies in chunks; this
  // host's AMD CPU repeats every 8th byte when the destination is 1 byte above the
  // source); with the destination below the source every forward copy, the hardware's
  // included, gives the memmove result, so only destination-above-source differs.
  struct CopyResult {
    size_t done = 0;
    Fault fault;
  };
  CopyResult CopyFromLinear(void* dst, VirtAddr src, size_t len);
  CopyResult CopyToLinear(VirtAddr dst, const void* src, size_t len);

  // Host speed only, invisible to the simulated machine: a run of string copies over
  // consecutive linear addresses (each one starting where the last ended) that has moved more
  // than stream_threshold() bytes writes data the host's caches cannot keep until it is read
  // again, so its page-sized pieces go out with non-temporal stores (as the C library's memcpy
  // does above a size of the same order). The default is 3/4 of the host's last-level cache
  // (HostLastLevelCacheBytes(), at least 4 MiB); tests lower it. streamed_bytes() counts the bytes of copies made in
  // such a run (a misaligned piece among them takes the ordinary copy).
  uint64_t stream_threshold() const { return stream_threshold_; }
  static uint64_t DefaultStreamThreshold();
  void set_stream_threshold(uint64_t bytes) { stream_threshold_ = bytes; }
  uint64_t streamed_bytes() const { return streamed_bytes_; }

  // --- Plumbing --------------------------------------------------------------
  Tlb& tlb() { return tlb_; }
  const Tlb& tlb() const { return tlb_; }
  PagingStructureCache& psc() { return psc_; }
  const PagingStructureCache& psc() const { return psc_; }
  int id() const { return id_; }
  PhysMem& mem() { return *mem_; }
  // Events of this CPU, its walker and its TLB go to `observer` (may be
  // null; must outlive the Cpu or be reset).
  void set_observer(HwObserver* observer);
  HwObserver* observer() const { return observer_; }

 private:
  // The SDM 4.6 rights on the cached flags, the protection key against the
  // current PKRU (one shift-and-test: pk_deny_*_ are 0 when CR4.PKE = 0), and
  // D for a write.
  bool HitAllows(const TlbEntry& e, AccessType type) const {
    const uint32_t pk_deny = type == AccessType::kRead    ? pk_deny_read_
                             : type == AccessType::kWrite ? pk_deny_write_
                                                          : 0;
    return AccessAllowed(e.writable, e.user, e.nx, type, mode_) &&
           ((pk_deny >> e.pkey) & static_cast<uint32_t>(e.user)) == 0 &&
           (type != AccessType::kWrite || e.dirty);
  }
  Translation TranslateSlow(VirtAddr va, AccessType type, const TlbEntry* hit);
  // The TLB-miss walk: through the paging-structure caches when the profile
  // has them (lookup before, fill after a successful walk).
  WalkResult WalkForMiss(VirtAddr va, AccessType type);
  // Records a failed access: CR2, TLB drop, observer. Returns `fault`.
  Fault RaiseFault(const Fault& fault, AccessType type, VirtAddr va,
                   bool had_entry);
  Fault AccessInline(VirtAddr va, void* buf, size_t len, AccessType type);
  Fault Access(VirtAddr va, void* buf, size_t len, AccessType type);
  void Flush(TlbFlushKind kind, uint16_t pcid, VirtAddr va);
  // Inline and touching only what AC feeds: uaccess runs STAC/CLAC around
  // every page it copies (a full UpdateMode() there cost ~5% of a 64 KiB
  // process_vm_readv).
  void SetAc(bool ac) {
    ac_ = ac;
    mode_.ac = ac;
  }
  void UpdateMode();
  // Extends or restarts the run of string copies with [va, va + len); true if the copy
  // streams (see stream_threshold()), which PhysMem is told of.
  bool NoteStringCopy(VirtAddr va, size_t len) {
    if (va.value() != stream_next_) stream_run_ = 0;
    stream_next_ = va.value() + len;
    stream_run_ += len;
    if (ABSL_PREDICT_TRUE(stream_run_ <= stream_threshold_)) return false;
    streamed_bytes_ += len;
    mem_->NoteStreamingStores();
    return true;
  }
  const int id_;
  PhysMem* const mem_;
  Tlb tlb_;
  PagingStructureCache psc_;
  HwObserver* observer_ = nullptr;

  uint64_t cr0_ = kCr0Pe | kCr0Pg;
  uint64_t cr2_ = 0;
  uint32_t pf_error_code_ = 0;
  uint64_t pf_count_ = 0;
  uint64_t cr3_ = 0;
  uint64_t cr4_ = kCr4Pae;
  uint64_t efer_ = kEferLme | kEferLma;
  int cpl_ = 0;
  bool ac_ = false;
  uint32_t pkru_ = 0;
  bool has_pku_ = false;
  // Derived from the registers above by UpdateMode().
  uint16_t pcid_ = 0;
  PagingMode mode_;
  // The protection keys that deny a read / a write to a user-mode address
  // (PkeyDenyMask of mode_): bit k = key k.
  uint32_t pk_deny_read_ = 0;
  uint32_t pk_deny_write_ = 0;
  // The run of string copies (NoteStringCopy).
  uint64_t stream_next_ = 0;
  uint64_t stream_run_ = 0;
  uint64_t stream_threshold_ = DefaultStreamThreshold();
  uint64_t streamed_bytes_ = 0;
};

// Single-page accesses (the common case) stay inline; page-crossing ones and
// len == 0 go to Access(). `len - 1 >= kPageSize - offset` is true exactly
// when len == 0 (wraps) or the access ends beyond the page.
inline Fault Cpu::AccessInline(VirtAddr va, void* buf, size_t len,
                               AccessType type) {
  if (ABSL_PREDICT_FALSE(len - 1 >= kPageSize - va.page_offset())) {
    return Access(va, buf, len, type);
  }
  const Translation t = Translate(va, type);
  if (ABSL_PREDICT_FALSE(!t.fault.ok())) return t.fault;
  if (ABSL_PREDICT_FALSE(!mem_->Contains(t.pa, len))) {
    return RaiseFault(Fault::MachineCheck(va.value()), type, va, false);
  }
  if (type == AccessType::kWrite) {
    std::memcpy(mem_->ptr(t.pa), buf, len);
  } else {
    std::memcpy(buf, mem_->ptr(t.pa), len);
  }
  return Fault{};
}

inline Fault Cpu::Load(VirtAddr va, void* dst, size_t len) {
  return AccessInline(va, dst, len, AccessType::kRead);
}

inline Fault Cpu::Store(VirtAddr va, const void* src, size_t len) {
  // A write only reads from the buffer.
  return AccessInline(va, const_cast<void*>(src), len, AccessType::kWrite);
}

inline Fault Cpu::Fetch(VirtAddr va, void* dst, size_t len) {
  return AccessInline(va, dst, len, AccessType::kFetch);
}

// Always inline: GCC otherwise keeps one out-of-line copy that the copy loops
// call for every page.
ABSL_ATTRIBUTE_ALWAYS_INLINE inline Cpu::Translation Cpu::Translate(
    VirtAddr va, AccessType type) {
  const TlbEntry* e = tlb_.Lookup(va, pcid_);
  if (ABSL_PREDICT_TRUE(e != nullptr) && ABSL_PREDICT_TRUE(HitAllows(*e, type))) {
    return Translation{Fault{}, e->Translate(va), e->size};
  }
  return TranslateSlow(va, type, e);
}

}  // namespace hw

#endif  // MMSIM_HW_CPU_H_
