// hw/addr.h: page geometry and strong address types.
//
// Models the address vocabulary of Intel SDM vol. 3A ch. 4 (paging):
//   Pfn       a physical page-frame number (physical address >> 12).
//   PhysAddr  a physical address (SDM 4.1.4: at most MAXPHYADDR bits, <= 52).
//   VirtAddr  a linear address; with 4-level paging it is canonical when
//             bits 63..47 are all equal (SDM 3.3.7.1, 4.5).
// The three are distinct types so a physical address cannot be passed where a
// linear one is expected; arithmetic with a plain uint64_t offset is allowed.
#ifndef MMSIM_HW_ADDR_H_
#define MMSIM_HW_ADDR_H_

#include <compare>
#include <cstdint>
#include <ostream>
#include <string>

#include "absl/strings/str_format.h"

namespace hw {

// 4 KiB pages (SDM 4.5, "4-KByte page").
inline constexpr int kPageShift = 12;
inline constexpr uint64_t kPageSize = uint64_t{1} << kPageShift;
inline constexpr uint64_t kPageMask = ~(kPageSize - 1);

// 2 MiB pages, mapped by a PDE with PS=1 (SDM 4.5, Table 4-17).
inline constexpr int kLargePageShift = 21;
inline constexpr uint64_t kLargePageSize = uint64_t{1} << kLargePageShift;
inline constexpr uint64_t kLargePageMask = ~(kLargePageSize - 1);

// 1 GiB pages, mapped by a PDPTE with PS=1 (SDM 4.5, Table 4-15).
inline constexpr int kHugePageShift = 30;
inline constexpr uint64_t kHugePageSize = uint64_t{1} << kHugePageShift;
inline constexpr uint64_t kHugePageMask = ~(kHugePageSize - 1);

// Linear-address width of 4-level paging (SDM 4.5).
inline constexpr int kLinearAddressBits = 48;

// MAXPHYADDR (CPUID.80000008H:EAX[7:0], SDM 4.1.4) used when none is given;
// 46 is common on Intel client and server parts.
inline constexpr int kDefaultMaxPhyAddr = 46;

// A physical page-frame number.
class Pfn {
 public:
  constexpr Pfn() = default;
  explicit constexpr Pfn(uint64_t value) : value_(value) {}

  constexpr uint64_t value() const { return value_; }

  constexpr Pfn operator+(uint64_t n) const { return Pfn(value_ + n); }
  constexpr Pfn operator-(uint64_t n) const { return Pfn(value_ - n); }
  // Number of frames from `other` up to this one.
  constexpr uint64_t operator-(Pfn other) const { return value_ - other.value_; }
  constexpr Pfn& operator++() {
    ++value_;
    return *this;
  }

  friend constexpr bool operator==(Pfn, Pfn) = default;
  friend constexpr auto operator<=>(Pfn, Pfn) = default;

  template <typename Sink>
  friend void AbslStringify(Sink& sink, Pfn p) {
    absl::Format(&sink, "pfn:%#x", p.value_);
  }
  friend absl::FormatConvertResult<absl::FormatConversionCharSet::kString>
  AbslFormatConvert(Pfn p, const absl::FormatConversionSpec&,
                    absl::FormatSink* sink) {
    sink->Append(absl::StrFormat("pfn:%#x", p.value_));
    return {true};
  }
  friend std::ostream& operator<<(std::ostream& os, Pfn p) {
    return os << absl::StrFormat("pfn:%#x", p.value_);
  }

 private:
  uint64_t value_ = 0;
};

// A physical address.
class PhysAddr {
 public:
  constexpr PhysAddr() = default;
  explicit constexpr PhysAddr(uint64_t value) : value_(value) {}
  static constexpr PhysAddr FromPfn(Pfn pfn) {
    return PhysAddr(pfn.value() << kPageShift);
  }

  constexpr uint64_t value() const { return value_; }
  // The frame that holds this address.
  constexpr Pfn pfn() const { return Pfn(value_ >> kPageShift); }
  // Offset inside the 4 KiB frame.
  constexpr uint64_t page_offset() const { return value_ & ~kPageMask; }
  // This address rounded down to its 4 KiB frame.
  constexpr PhysAddr page_base() const { return PhysAddr(value_ & kPageMask); }

  constexpr PhysAddr operator+(uint64_t offset) const {
    return PhysAddr(value_ + offset);
  }
  constexpr PhysAddr operator-(uint64_t offset) const {
    return PhysAddr(value_ - offset);
  }
  constexpr uint64_t operator-(PhysAddr other) const {
    return value_ - other.value_;
  }
  constexpr PhysAddr& operator+=(uint64_t offset) {
    value_ += offset;
    return *this;
  }

  friend constexpr bool operator==(PhysAddr, PhysAddr) = default;
  friend constexpr auto operator<=>(PhysAddr, PhysAddr) = default;

  template <typename Sink>
  friend void AbslStringify(Sink& sink, PhysAddr a) {
    absl::Format(&sink, "pa:%#x", a.value_);
  }
  friend absl::FormatConvertResult<absl::FormatConversionCharSet::kString>
  AbslFormatConvert(PhysAddr a, const absl::FormatConversionSpec&,
                    absl::FormatSink* sink) {
    sink->Append(absl::StrFormat("pa:%#x", a.value_));
    return {true};
  }
  friend std::ostream& operator<<(std::ostream& os, PhysAddr a) {
    return os << absl::StrFormat("pa:%#x", a.value_);
  }

 private:
  uint64_t value_ = 0;
};

// A linear ("virtual") address.
class VirtAddr {
 public:
  constexpr VirtAddr() = default;
  explicit constexpr VirtAddr(uint64_t value) : value_(value) {}

  constexpr uint64_t value() const { return value_; }
  // Linear page number: the address >> 12.
  constexpr uint64_t vpn() const { return value_ >> kPageShift; }
  constexpr uint64_t page_offset() const { return value_ & ~kPageMask; }
  constexpr VirtAddr page_base() const { return VirtAddr(value_ & kPageMask); }

  // SDM 3.3.7.1: with 48-bit linear addresses, bits 63..48 must equal bit 47.
  constexpr bool IsCanonical() const {
    const int64_t sign_extended =
        static_cast<int64_t>(value_ << (64 - kLinearAddressBits)) >>
        (64 - kLinearAddressBits);
    return static_cast<uint64_t>(sign_extended) == value_;
  }

  constexpr VirtAddr operator+(uint64_t offset) const {
    return VirtAddr(value_ + offset);
  }
  constexpr VirtAddr operator-(uint64_t offset) const {
    return VirtAddr(value_ - offset);
  }
  constexpr uint64_t operator-(VirtAddr other) const {
    return value_ - other.value_;
  }
  constexpr VirtAddr& operator+=(uint64_t offset) {
    value_ += offset;
    return *this;
  }

  friend constexpr bool operator==(VirtAddr, VirtAddr) = default;
  friend constexpr auto operator<=>(VirtAddr, VirtAddr) = default;

  template <typename Sink>
  friend void AbslStringify(Sink& sink, VirtAddr a) {
    absl::Format(&sink, "va:%#x", a.value_);
  }
  friend absl::FormatConvertResult<absl::FormatConversionCharSet::kString>
  AbslFormatConvert(VirtAddr a, const absl::FormatConversionSpec&,
                    absl::FormatSink* sink) {
    sink->Append(absl::StrFormat("va:%#x", a.value_));
    return {true};
  }
  friend std::ostream& operator<<(std::ostream& os, VirtAddr a) {
    return os << absl::StrFormat("va:%#x", a.value_);
  }

 private:
  uint64_t value_ = 0;
};

}  // namespace hw

#endif  // MMSIM_HW_ADDR_H_
