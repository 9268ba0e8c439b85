// hw/tlb_entry.cc: text form of a TLB entry.
#include "hw/tlb_entry.h"

#include <string>

#include "absl/strings/str_format.h"

namespace hw {

std::string TlbEntry::ToString() const {
  if (!valid) return "invalid";
  std::string s = absl::StrFormat(
      "va:%#x -> pa:%#x %s pcid=%d%s%s%s%s%s", vpn << kPageShift,
      pfn << kPageShift, PageSizeName(size), pcid, writable ? " W" : " R",
      user ? " U" : " S", nx ? " NX" : "", dirty ? " D" : "",
      global ? " G" : "");
  if (pkey != 0) absl::StrAppendFormat(&s, " pkey=%d", pkey);
  return s;
}

}  // namespace hw
