// sim/scenario/cap_names.h: Linux capability names <-> numbers.
//
// Scenario files spell capabilities in lower case, `cap_sys_ptrace`, as
// capsh(1) prints them. Numbers are those of include/uapi/linux/capability.h:
// CAP_CHOWN = 0 ... CAP_CHECKPOINT_RESTORE = 40 (CAP_LAST_CAP).
#ifndef MMSIM_SIM_SCENARIO_CAP_NAMES_H_
#define MMSIM_SIM_SCENARIO_CAP_NAMES_H_

#include <optional>

#include "absl/strings/string_view.h"

namespace sim::scenario {

inline constexpr int kCapLastCap = 40;  // CAP_LAST_CAP

// "cap_sys_ptrace" -> 19. Lower case only. nullopt if not a capability.
std::optional<int> CapFromName(absl::string_view name);

// 19 -> "cap_sys_ptrace"; nullptr outside 0..kCapLastCap.
const char* CapName(int cap);

}  // namespace sim::scenario

#endif  // MMSIM_SIM_SCENARIO_CAP_NAMES_H_
