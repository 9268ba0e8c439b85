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
