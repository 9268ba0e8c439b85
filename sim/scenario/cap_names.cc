#include "sim/scenario/cap_names.h"

#include <optional>

#include "absl/strings/string_view.h"
#include "sim/scenario/ast.h"

namespace sim::scenario {
namespace {

// Indexed by capability number (include/uapi/linux/capability.h).
constexpr const char* kCapNames[] = {
    "cap_chown",              // 0
    "cap_dac_override",       // 1
    "cap_dac_read_search",    // 2
    "cap_fowner",             // 3
    "cap_fsetid",             // 4
    "cap_kill",               // 5
    "cap_setgid",             // 6
    "cap_setuid",             // 7
    "cap_setpcap",            // 8
    "cap_linux_immutable",    // 9
    "cap_net_bind_service",   // 10
    "cap_net_broadcast",      // 11
    "cap_net_admin",          // 12
    "cap_net_raw",            // 13
    "cap_ipc_lock",           // 14
    "cap_ipc_owner",          // 15
    "cap_sys_module",         // 16
    "cap_sys_rawio",          // 17
    "cap_sys_chroot",         // 18
    "cap_sys_ptrace",         // 19
    "cap_sys_pacct",          // 20
    "cap_sys_admin",          // 21
    "cap_sys_boot",           // 22
    "cap_sys_nice",           // 23
    "cap_sys_resource",       // 24
    "cap_sys_time",           // 25
    "cap_sys_tty_config",     // 26
    "cap_mknod",              // 27
    "cap_lease",              // 28
    "cap_audit_write",        // 29
    "cap_audit_control",      // 30
    "cap_setfcap",            // 31
    "cap_mac_override",       // 32
    "cap_mac_admin",          // 33
    "cap_syslog",             // 34
    "cap_wake_alarm",         // 35
    "cap_block_suspend",      // 36
    "cap_audit_read",         // 37
    "cap_perfmon",            // 38
    "cap_bpf",                // 39
    "cap_checkpoint_restore", // 40
};
static_assert(sizeof(kCapNames) / sizeof(kCapNames[0]) == kCapLastCap + 1);
static_assert(CapSet::kAll == (uint64_t{1} << (kCapLastCap + 1)) - 1);

}  // namespace

std::optional<int> CapFromName(absl::string_view name) {
  for (int i = 0; i <= kCapLastCap; ++i) {
    if (name == kCapNames[i]) return i;
  }
  return std::nullopt;
}

const char* CapName(int cap) {
  if (cap < 0 || cap > kCapLastCap) return nullptr;
  return kCapNames[cap];
}

}  // namespace sim::scenario
