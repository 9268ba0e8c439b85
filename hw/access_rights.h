// hw/access_rights.h: the access-rights rules of SDM vol. 3A 4.6.
//
// One function decides whether an access is allowed, given the rights of the
// translation combined over every paging-structure entry used:
//   writable = R/W is 1 in every entry        (SDM 4.6.1, "logical-AND")
//   user     = U/S is 1 in every entry        (a "user-mode address")
//   nx       = XD is 1 in at least one entry  (when IA32_EFER.NXE = 1)
// The walker calls it after a walk and the CPU calls it on a TLB hit, using
// the rights the TLB cached (SDM 4.10.2.2), so both paths agree by
// construction.
//
// Rules (supervisor = CPL < 3; only explicit accesses are modelled, so
// SMAP is suspended by RFLAGS.AC = 1):
//   read   user:  user-mode address.
//          super: any address; a user-mode one faults if SMAP=1 and AC=0.
//   write  user:  user-mode address with writable.
//          super: as for a read (SMAP), then writable unless CR0.WP = 0.
//   fetch  any:   faults if NXE=1 and nx.
//          user:  user-mode address.
//          super: a user-mode address faults if CR4.SMEP = 1.
//
// Protection keys (SDM 4.6.2), a separate check (PkeyDenies) because a
// denial sets PK in the #PF error code: with CR4.PKE = 1, a DATA access
// (read or write, never a fetch) to a user-mode address, at any CPL, uses
// the key k of the translation (bits 62:59 of the leaf) and PKRU:
//   PKRU bit 2k   (AD) = 1: every data access faults;
//   PKRU bit 2k+1 (WD) = 1: a user-mode write faults; a supervisor-mode
//                           write faults only when CR0.WP = 1.
// Supervisor-mode addresses are never checked. With CR4.PKE = 0 the key
// bits are ignored. The #PF has P = 1 and PK, plus the usual W/U/I bits,
// and PK is set whenever the key denies, even if the rules above also do.
#ifndef MMSIM_HW_ACCESS_RIGHTS_H_
#define MMSIM_HW_ACCESS_RIGHTS_H_

#include <cstdint>

#include "hw/access.h"
#include "hw/addr.h"

namespace hw {

// The control-register state that affects translation, as the walker and
// TLB-hit check need it. Cpu keeps one up to date; tests build their own.
struct PagingMode {
  bool user = false;  // CPL == 3
  bool wp = false;    // CR0.WP
  bool nxe = false;   // IA32_EFER.NXE
  bool smep = false;  // CR4.SMEP
  bool smap = false;  // CR4.SMAP
  bool ac = false;    // RFLAGS.AC
  int maxphyaddr = kDefaultMaxPhyAddr;
  bool pke = false;   // CR4.PKE
  uint32_t pkru = 0;  // PKRU (only read when pke)

  friend bool operator==(const PagingMode&, const PagingMode&) = default;
};

// True iff SDM 4.6 lets `type` use a translation with these combined rights.
constexpr bool AccessAllowed(bool writable, bool user_page, bool nx,
                             AccessType type, const PagingMode& mode) {
  // SMAP blocks explicit supervisor data accesses to user-mode addresses
  // unless RFLAGS.AC = 1 (SDM 4.6.1).
  const bool smap_blocks = !mode.user && user_page && mode.smap && !mode.ac;
  switch (type) {
    case AccessType::kRead:
      return mode.user ? user_page : !smap_blocks;
    case AccessType::kWrite:
      if (mode.user) return user_page && writable;
      return !smap_blocks && (writable || !mode.wp);
    case AccessType::kFetch:
      if (mode.nxe && nx) return false;
      return mode.user ? user_page : !(user_page && mode.smep);
  }
  return false;
}

// Protection keys 0..15; a key is bits 62:59 of a leaf entry (SDM 4.5).
inline constexpr int kNumPkeys = 16;
inline constexpr uint32_t kPkruAd = 1u;  // PKRU bit 2k: access disable
inline constexpr uint32_t kPkruWd = 2u;  // PKRU bit 2k+1: write disable

// True iff the protection-key check of SDM 4.6.2 denies a `type` access to a
// translation whose leaf has key `pkey` (0..15) and whose combined U/S is
// `user_page`. Independent of AccessAllowed: an access faults if either
// denies, and the #PF error code has PK iff this one does.
constexpr bool PkeyDenies(bool user_page, int pkey, AccessType type,
                          const PagingMode& mode) {
  if (!mode.pke || !user_page || type == AccessType::kFetch) return false;
  const uint32_t bits = mode.pkru >> (2 * (pkey & (kNumPkeys - 1)));
  if ((bits & kPkruAd) != 0) return true;
  // WD counts for user-mode writes, and for supervisor writes when WP = 1.
  return type == AccessType::kWrite && (bits & kPkruWd) != 0 &&
         (mode.user || mode.wp);
}

// The keys (bit k = key k) whose PKRU bits deny a `type` access to a
// user-mode address under `mode`: 0 when CR4.PKE = 0 and for fetches. Cpu
// precomputes the read and write masks so a TLB hit tests one bit
// (Cpu::HitAllows).
constexpr uint32_t PkeyDenyMask(AccessType type, const PagingMode& mode) {
  if (!mode.pke || type == AccessType::kFetch) return 0;
  // AD of key k is bit 2k, WD bit 2k+1: where WD counts, fold it onto AD's place, then
  // gather the even bits into bits 0..15 (UpdateMode runs this at every CPL change).
  const bool wd_counts = type == AccessType::kWrite && (mode.user || mode.wp);
  uint32_t x = (wd_counts ? mode.pkru | (mode.pkru >> 1) : mode.pkru) & 0x55555555u;
  x = (x | (x >> 1)) & 0x33333333u;
  x = (x | (x >> 2)) & 0x0f0f0f0fu;
  x = (x | (x >> 4)) & 0x00ff00ffu;
  x = (x | (x >> 8)) & 0x0000ffffu;
  return x;
}

// The error-code bits every #PF for this access carries, whatever its cause
// (SDM 4.7): W/R for writes, U/S when CPL = 3, and I/D for instruction
// fetches when CR4.SMEP = 1 or IA32_EFER.NXE = 1 (CR4.PAE is always 1 here).
constexpr uint32_t AccessErrorBits(AccessType type, const PagingMode& mode) {
  uint32_t bits = 0;
  if (type == AccessType::kWrite) bits |= kPfErrWrite;
  if (mode.user) bits |= kPfErrUser;
  if (type == AccessType::kFetch && (mode.nxe || mode.smep)) {
    bits |= kPfErrFetch;
  }
  return bits;
}

}  // namespace hw

#endif  // MMSIM_HW_ACCESS_RIGHTS_H_
