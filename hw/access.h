// hw/access.h: what an access is and how a failed one is reported.
//
// AccessType  the three kinds of linear-address access SDM vol. 3A 4.6
//             distinguishes: data read, data write, instruction fetch.
// PageSize    the page sizes 4-level paging can map (SDM 4.5).
// Fault       the architectural outcome of a failed access: #PF (vector 14)
//             with CR2 and the error code of SDM 4.7 (Figure 4-12), or #GP
//             for a non-canonical linear address (SDM 3.3.7.1).
#ifndef MMSIM_HW_ACCESS_H_
#define MMSIM_HW_ACCESS_H_

#include <cstdint>
#include <ostream>
#include <string>

#include "hw/addr.h"

namespace hw {

enum class AccessType : uint8_t { kRead, kWrite, kFetch };

enum class PageSize : uint8_t { k4K, k2M, k1G };

// log2 of the page size and the size in bytes.
constexpr int PageShiftOf(PageSize size) {
  return size == PageSize::k4K   ? kPageShift
         : size == PageSize::k2M ? kLargePageShift
                                 : kHugePageShift;
}
constexpr uint64_t PageBytesOf(PageSize size) {
  return uint64_t{1} << PageShiftOf(size);
}

// Page-fault error code bits (SDM 4.7, Figure 4-12).
inline constexpr uint32_t kPfErrPresent = 1u << 0;  // P: 0 = not present,
                                                    //    1 = protection/rsvd
inline constexpr uint32_t kPfErrWrite = 1u << 1;    // W/R: access was a write
inline constexpr uint32_t kPfErrUser = 1u << 2;     // U/S: CPL was 3
inline constexpr uint32_t kPfErrRsvd = 1u << 3;     // RSVD: reserved bit set
inline constexpr uint32_t kPfErrFetch = 1u << 4;    // I/D: instruction fetch
inline constexpr uint32_t kPfErrPk = 1u << 5;       // PK: protection-key
                                                    //     violation (4.6.2)
inline constexpr uint32_t kPfErrShstk = 1u << 6;    // SS: shadow-stack access
                                                    //     (not modelled)
inline constexpr uint32_t kPfErrSgx = 1u << 15;     // SGX: EPCM violation
                                                    //      (not modelled)

// The error code's bits by the short names Linux's arch/x86/include/asm/trap_pf.h gives
// them in comments and fault reports (X86_PF_PROT is P, X86_PF_WRITE W, X86_PF_USER U,
// X86_PF_RSVD RSVD, X86_PF_INSTR I, X86_PF_PK PK, X86_PF_SHSTK SS, X86_PF_SGX SGX), in
// bit order.
struct PfErrorBitName {
  uint32_t bit;
  const char* name;
};
inline constexpr PfErrorBitName kPfErrorBitNames[] = {
    {kPfErrPresent, "P"}, {kPfErrWrite, "W"}, {kPfErrUser, "U"},   {kPfErrRsvd, "RSVD"},
    {kPfErrFetch, "I"},   {kPfErrPk, "PK"},   {kPfErrShstk, "SS"}, {kPfErrSgx, "SGX"}};

struct Fault {
  enum class Kind : uint8_t {
    kNone,               // the access succeeded
    kPageFault,          // #PF: cr2 and error_code are meaningful
    kGeneralProtection,  // #GP(0): non-canonical address or an illegal
                         //   control-register value; cr2 not meaningful
    kMachineCheck,       // the translation succeeded but the physical
                         //   address is outside simulated memory (a bus
                         //   error; cr2 holds the linear address)
  };

  Kind kind = Kind::kNone;
  uint64_t cr2 = 0;         // faulting linear address (#PF)
  uint32_t error_code = 0;  // SDM 4.7 bits above (#PF)

  bool ok() const { return kind == Kind::kNone; }
  bool page_fault() const { return kind == Kind::kPageFault; }

  static constexpr Fault None() { return Fault{}; }
  static constexpr Fault PageFault(uint64_t cr2, uint32_t error_code) {
    return Fault{Kind::kPageFault, cr2, error_code};
  }
  static constexpr Fault GeneralProtection(uint64_t addr = 0) {
    return Fault{Kind::kGeneralProtection, addr, 0};
  }
  static constexpr Fault MachineCheck(uint64_t addr) {
    return Fault{Kind::kMachineCheck, addr, 0};
  }

  friend bool operator==(const Fault&, const Fault&) = default;
};

const char* AccessTypeName(AccessType type);  // "read", "write", "fetch"
const char* PageSizeName(PageSize size);      // "4K", "2M", "1G"
// "#PF(0x7 P|W|U) cr2=0x..." style text, for traces and test failures.
std::string FaultToString(const Fault& fault);
// "P|W|U|RSVD|I" (or "0") for an error code.
std::string PfErrorCodeToString(uint32_t error_code);

inline std::ostream& operator<<(std::ostream& os, AccessType t) {
  return os << AccessTypeName(t);
}
inline std::ostream& operator<<(std::ostream& os, PageSize s) {
  return os << PageSizeName(s);
}
inline std::ostream& operator<<(std::ostream& os, const Fault& f) {
  return os << FaultToString(f);
}

}  // namespace hw

#endif  // MMSIM_HW_ACCESS_H_
