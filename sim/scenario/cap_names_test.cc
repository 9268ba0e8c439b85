#include "sim/scenario/cap_names.h"

#include <linux/capability.h>

#include <string>

#include "gtest/gtest.h"

namespace sim::scenario {
namespace {

TEST(CapNames, MatchTheKernelHeader) {
  EXPECT_EQ(kCapLastCap, CAP_LAST_CAP);
  EXPECT_EQ(CapFromName("cap_chown"), CAP_CHOWN);
  EXPECT_EQ(CapFromName("cap_kill"), CAP_KILL);
  EXPECT_EQ(CapFromName("cap_setuid"), CAP_SETUID);
  EXPECT_EQ(CapFromName("cap_ipc_lock"), CAP_IPC_LOCK);
  EXPECT_EQ(CapFromName("cap_sys_ptrace"), CAP_SYS_PTRACE);
  EXPECT_EQ(CapFromName("cap_sys_admin"), CAP_SYS_ADMIN);
  EXPECT_EQ(CapFromName("cap_sys_resource"), CAP_SYS_RESOURCE);
  EXPECT_EQ(CapFromName("cap_setfcap"), CAP_SETFCAP);
  EXPECT_EQ(CapFromName("cap_syslog"), CAP_SYSLOG);
  EXPECT_EQ(CapFromName("cap_audit_read"), CAP_AUDIT_READ);
  EXPECT_EQ(CapFromName("cap_perfmon"), CAP_PERFMON);
  EXPECT_EQ(CapFromName("cap_bpf"), CAP_BPF);
  EXPECT_EQ(CapFromName("cap_checkpoint_restore"), CAP_CHECKPOINT_RESTORE);
}

TEST(CapNames, RoundTripAndUnknown) {
  for (int i = 0; i <= kCapLastCap; ++i) {
    ASSERT_NE(CapName(i), nullptr);
    EXPECT_EQ(CapFromName(CapName(i)), i);
  }
  EXPECT_EQ(CapName(-1), nullptr);
  EXPECT_EQ(CapName(kCapLastCap + 1), nullptr);
  EXPECT_EQ(CapFromName("CAP_KILL"), std::nullopt);  // lower case only
  EXPECT_EQ(CapFromName("cap_foo"), std::nullopt);
}

}  // namespace
}  // namespace sim::scenario
