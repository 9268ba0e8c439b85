#include "sim/scenario/errno_names.h"

#include <cstddef>
#include <optional>

#include "absl/strings/string_view.h"
#include "mm/errno_names.h"

namespace sim::scenario {

// The table is kernel::kErrnoNames (mm/errno_names.h), shared with the trace decoder.
std::optional<int> ErrnoFromName(absl::string_view name) {
  // Linear search: 133 short strings, called once per `expect -1 ERRNO`.
  for (const kernel::errno_name& e : kernel::kErrnoNames) {
    if (name == e.name) return e.number;
  }
  for (const kernel::errno_name& e : kernel::kErrnoAliases) {
    if (name == e.name) return e.number;
  }
  return std::nullopt;
}

const char* ErrnoName(int err) {
  if (err < 0 && err >= -kernel::kMaxUapiErrno) err = -err;
  if (err <= 0 || err > kernel::kMaxUapiErrno) return nullptr;
  for (const kernel::errno_name& e : kernel::kErrnoNames) {
    if (e.number == err) return e.name;
  }
  return nullptr;
}

}  // namespace sim::scenario
