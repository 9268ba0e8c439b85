// hw/access.cc: names and text for accesses and faults (SDM 4.7).
#include "hw/access.h"

#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"

namespace hw {

const char* AccessTypeName(AccessType type) {
  switch (type) {
    case AccessType::kRead:
      return "read";
    case AccessType::kWrite:
      return "write";
    case AccessType::kFetch:
      return "fetch";
  }
  return "?";
}

const char* PageSizeName(PageSize size) {
  switch (size) {
    case PageSize::k4K:
      return "4K";
    case PageSize::k2M:
      return "2M";
    case PageSize::k1G:
      return "1G";
  }
  return "?";
}

std::string PfErrorCodeToString(uint32_t error_code) {
  std::vector<const char*> parts;
  for (const PfErrorBitName& b : kPfErrorBitNames)
    if (error_code & b.bit) parts.push_back(b.name);
  if (parts.empty()) return "0";
  return absl::StrJoin(parts, "|");
}

std::string FaultToString(const Fault& fault) {
  switch (fault.kind) {
    case Fault::Kind::kNone:
      return "no fault";
    case Fault::Kind::kPageFault:
      return absl::StrFormat("#PF(%#x %s) cr2=%#x", fault.error_code,
                             PfErrorCodeToString(fault.error_code), fault.cr2);
    case Fault::Kind::kGeneralProtection:
      return absl::StrFormat("#GP(0) addr=%#x", fault.cr2);
    case Fault::Kind::kMachineCheck:
      return absl::StrFormat("#MC (no memory) addr=%#x", fault.cr2);
  }
  return "?";
}

}  // namespace hw
