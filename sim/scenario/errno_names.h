// sim/scenario/errno_names.h: Linux errno names <-> x86-64 numbers, over the one table in
// mm/errno_names.h.
//
// The scenario language writes `expect -1 EFAULT`; the interpreter prints the
// same form. The table covers every errno of include/uapi/asm-generic/errno-base.h
// and errno.h (1..133), which x86-64 uses unchanged. The aliases EWOULDBLOCK
// (= EAGAIN), EDEADLOCK (= EDEADLK) and ENOTSUP (= EOPNOTSUPP) are accepted by
// ErrnoFromName; ErrnoName always returns the primary name.
#ifndef MMSIM_SIM_SCENARIO_ERRNO_NAMES_H_
#define MMSIM_SIM_SCENARIO_ERRNO_NAMES_H_

#include <optional>

#include "absl/strings/string_view.h"

namespace sim::scenario {

// The number of a Linux errno name ("EFAULT" -> 14). Case-sensitive. nullopt if
// the name is not an errno.
std::optional<int> ErrnoFromName(absl::string_view name);

// The name of a Linux errno number (14 -> "EFAULT"). Also accepts the negated
// kernel form (-14 -> "EFAULT"). nullptr if the number has no name.
const char* ErrnoName(int err);

}  // namespace sim::scenario

#endif  // MMSIM_SIM_SCENARIO_ERRNO_NAMES_H_
