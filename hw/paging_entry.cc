// hw/paging_entry.cc: text form of a paging-structure entry.
#include "hw/paging_entry.h"

#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace hw {

std::string PagingEntry::ToString() const {
  std::string s = absl::StrFormat("0x%016x:", raw_);
  if (!present()) return absl::StrCat(s, " not-present");
  if (present()) absl::StrAppend(&s, " P");
  if (writable()) absl::StrAppend(&s, " RW");
  if (user()) absl::StrAppend(&s, " US");
  if (pwt()) absl::StrAppend(&s, " PWT");
  if (pcd()) absl::StrAppend(&s, " PCD");
  if (accessed()) absl::StrAppend(&s, " A");
  if (dirty()) absl::StrAppend(&s, " D");
  if (ps()) absl::StrAppend(&s, " PS/PAT");
  if (global()) absl::StrAppend(&s, " G");
  if (xd()) absl::StrAppend(&s, " XD");
  if (pkey() != 0) absl::StrAppend(&s, " pkey=", pkey());
  absl::StrAppendFormat(&s, " addr=%#x", raw_ & kAddrMask);
  return s;
}

}  // namespace hw
