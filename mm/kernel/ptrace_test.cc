// Tests of mm/kernel/ptrace.cc, commoncap.cc and cred.cc: the __ptrace_may_access /
// cap_ptrace_access_check matrix of docs/semantics.md §2.9 for PTRACE_MODE_ATTACH_REALCREDS, and
// the credential changes (setresuid/setresgid/capset/prctl) that feed it.
#include "gtest/gtest.h"
#include "mm/kernel/task.h"
#include "mm/mm.h"
#include "mm/testing/kernel_fixture.h"

namespace kernel {
namespace {

using kernel_testing::BootedKernel;
using kernel_testing::TestCreds;

constexpr uint64_t kAllButPtrace = CAP_FULL_SET.val & ~(1ULL << CAP_SYS_PTRACE);
constexpr uid_t kKeep = static_cast<uid_t>(-1);

// The check as `caller` against `target`.
int MayAccess(BootedKernel& k, task_struct* caller, task_struct* target,
              unsigned int mode = PTRACE_MODE_ATTACH_REALCREDS) {
  k.RunAs(caller);
  return __ptrace_may_access(target, mode);
}

TestCreds Ids(uid_t r, uid_t e, uid_t s, gid_t g = 1000) {
  TestCreds c = TestCreds::User(r, g);
  c.euid = e;
  c.suid = s;
  return c;
}

TEST(PtraceMayAccessTest, SameUidAndGidIsAllowed) {
  BootedKernel k;
  task_struct* a = k.Spawn("a", TestCreds::User(1000, 1000));
  task_struct* b = k.Spawn("b", TestCreds::User(1000, 1000));
  EXPECT_EQ(MayAccess(k, a, b), 0);
  EXPECT_TRUE(ptrace_may_access(b, PTRACE_MODE_ATTACH_REALCREDS));
}

TEST(PtraceMayAccessTest, UidMismatchWithoutCapSysPtraceIsEperm) {
  BootedKernel k;
  task_struct* a = k.Spawn("a", TestCreds::User(1000, 1000));
  task_struct* b = k.Spawn("b", TestCreds::User(1001, 1000));
  EXPECT_EQ(MayAccess(k, a, b), -EPERM);
  EXPECT_FALSE(ptrace_may_access(b, PTRACE_MODE_ATTACH_REALCREDS));
}

TEST(PtraceMayAccessTest, GidMismatchWithoutCapSysPtraceIsEperm) {
  BootedKernel k;
  task_struct* a = k.Spawn("a", TestCreds::User(1000, 1000));
  task_struct* b = k.Spawn("b", TestCreds::User(1000, 1001));
  EXPECT_EQ(MayAccess(k, a, b), -EPERM);
}

TEST(PtraceMayAccessTest, EveryTargetIdMustMatchTheCallersRealIds) {
  BootedKernel k;
  task_struct* a = k.Spawn("a", TestCreds::User(1000, 1000));
  // Target euid, suid, egid or sgid different: refused.
  task_struct* t1 = k.Spawn("t1", Ids(1000, 1001, 1000));
  task_struct* t2 = k.Spawn("t2", Ids(1000, 1000, 1001));
  TestCreds c3 = TestCreds::User(1000, 1000);
  c3.egid = 1001;
  task_struct* t3 = k.Spawn("t3", c3);
  TestCreds c4 = TestCreds::User(1000, 1000);
  c4.sgid = 1001;
  task_struct* t4 = k.Spawn("t4", c4);
  EXPECT_EQ(MayAccess(k, a, t1), -EPERM);
  EXPECT_EQ(MayAccess(k, a, t2), -EPERM);
  EXPECT_EQ(MayAccess(k, a, t3), -EPERM);
  EXPECT_EQ(MayAccess(k, a, t4), -EPERM);
}

TEST(PtraceMayAccessTest, RealCredsCallerRuidMatchesEuidDiffersIsAllowed) {
  BootedKernel k;
  task_struct* caller = k.Spawn("caller", Ids(1000, 2000, 2000));
  task_struct* target = k.Spawn("target", TestCreds::User(1000, 1000));
  EXPECT_EQ(MayAccess(k, caller, target), 0);
}

TEST(PtraceMayAccessTest, RealCredsCallerEuidMatchesRuidDiffersIsEperm) {
  BootedKernel k;
  task_struct* caller = k.Spawn("caller", Ids(2000, 1000, 1000));
  task_struct* target = k.Spawn("target", TestCreds::User(1000, 1000));
  EXPECT_EQ(MayAccess(k, caller, target), -EPERM);
  // With FSCREDS the filesystem uid (= euid) is compared instead.
  EXPECT_EQ(MayAccess(k, caller, target, PTRACE_MODE_ATTACH_FSCREDS), 0);
}

TEST(PtraceMayAccessTest, NonDumpableTargetNeedsCapSysPtrace) {
  BootedKernel k;
  TestCreds tc = TestCreds::User(1000, 1000);
  tc.dumpable = false;
  task_struct* target = k.Spawn("target", tc);
  task_struct* same_user = k.Spawn("same", TestCreds::User(1000, 1000));
  task_struct* root = k.Spawn("root");  // uid 0, every capability
  EXPECT_EQ(MayAccess(k, same_user, target), -EPERM);
  EXPECT_EQ(MayAccess(k, root, target), 0);
}

TEST(PtraceMayAccessTest, CapSysPtraceOverridesIdMismatch) {
  BootedKernel k;
  TestCreds caller_creds = TestCreds::User(1000, 1000);
  caller_creds.caps = 1ULL << CAP_SYS_PTRACE;
  task_struct* caller = k.Spawn("caller", caller_creds);
  task_struct* target = k.Spawn("target", TestCreds::User(2000, 2000));
  EXPECT_EQ(MayAccess(k, caller, target), 0);
}

TEST(PtraceMayAccessTest, RootWithoutCapSysPtraceCannotTouchRoot) {
  BootedKernel k;
  TestCreds caller_creds;  // root
  caller_creds.caps = kAllButPtrace;
  task_struct* caller = k.Spawn("caller", caller_creds);
  task_struct* root_target = k.Spawn("target");  // full permitted set
  EXPECT_EQ(MayAccess(k, caller, root_target), -EPERM);

  // A root target whose permitted set is within the caller's is fine.
  TestCreds weak_root;
  weak_root.caps = kAllButPtrace;
  task_struct* weak = k.Spawn("weak", weak_root);
  EXPECT_EQ(MayAccess(k, caller, weak), 0);
}

TEST(PtraceMayAccessTest, TargetWithMoreCapabilitiesNeedsCapSysPtrace) {
  BootedKernel k;
  task_struct* caller = k.Spawn("caller", TestCreds::User(1000, 1000));
  TestCreds tc = TestCreds::User(1000, 1000);
  tc.caps = 1ULL << 13;  // CAP_NET_RAW permitted
  task_struct* target = k.Spawn("target", tc);
  EXPECT_EQ(MayAccess(k, caller, target), -EPERM);
}

TEST(PtraceMayAccessTest, SameThreadGroupIsAlwaysAllowed) {
  BootedKernel k;
  TestCreds tc = TestCreds::User(1000, 1000);
  tc.dumpable = false;
  task_struct* leader = k.Spawn("leader", tc);
  task_struct* thread = k.SpawnThread(leader);
  EXPECT_EQ(MayAccess(k, thread, leader), 0);
  EXPECT_EQ(MayAccess(k, leader, thread), 0);
  EXPECT_EQ(MayAccess(k, leader, leader), 0);
}

TEST(PtraceMayAccessTest, ModeWithoutCredsFlagIsRefusedWithAWarning) {
  BootedKernel k;
  task_struct* a = k.Spawn("a");
  task_struct* b = k.Spawn("b");
  const unsigned long warns = kernel_warn_count();
  EXPECT_EQ(MayAccess(k, a, b, PTRACE_MODE_ATTACH), -EPERM);
  EXPECT_EQ(MayAccess(k, a, b, PTRACE_MODE_ATTACH | PTRACE_MODE_FSCREDS | PTRACE_MODE_REALCREDS),
            -EPERM);
  EXPECT_EQ(kernel_warn_count(), warns + 2);
}

TEST(PtraceMayAccessTest, KernelThreadTargetHasNoMmToCheck) {
  BootedKernel k;
  task_struct* root = k.Spawn("root");
  task_struct* kt = k.SpawnKthread("kt");
  // Root with every capability passes; the mm check is skipped (no mm).
  EXPECT_EQ(MayAccess(k, root, kt), 0);
}

// ---- mm_access: the mm, or ESRCH / EACCES / EINTR ----

TEST(MmAccessTest, ReturnsTheTargetsMmWithAUsersReference) {
  BootedKernel k;
  task_struct* a = k.Spawn("a", TestCreds::User(1000, 1000));
  task_struct* b = k.Spawn("b", TestCreds::User(1000, 1000));
  const int users = atomic_read(&b->mm->mm_users);
  k.RunAs(a);
  mm_struct* mm = mm_access(b, PTRACE_MODE_ATTACH_REALCREDS);
  ASSERT_EQ(mm, b->mm);
  EXPECT_EQ(atomic_read(&mm->mm_users), users + 1);
  mmput(mm);
  EXPECT_EQ(atomic_read(&b->mm->mm_users), users);
  EXPECT_FALSE(rwsem_is_locked(&b->signal->exec_update_lock));
}

TEST(MmAccessTest, DeniedIsEaccesAndTakesNoReference) {
  BootedKernel k;
  task_struct* a = k.Spawn("a", TestCreds::User(1000, 1000));
  task_struct* b = k.Spawn("b", TestCreds::User(1001, 1001));
  const int users = atomic_read(&b->mm->mm_users);
  k.RunAs(a);
  mm_struct* mm = mm_access(b, PTRACE_MODE_ATTACH_REALCREDS);
  ASSERT_TRUE(IS_ERR(mm));
  EXPECT_EQ(PTR_ERR(mm), -EACCES);
  EXPECT_EQ(atomic_read(&b->mm->mm_users), users);
  EXPECT_FALSE(rwsem_is_locked(&b->signal->exec_update_lock));
}

TEST(MmAccessTest, OwnMmNeedsNoPermission) {
  BootedKernel k;
  TestCreds tc = TestCreds::User(1000, 1000);
  tc.dumpable = false;
  task_struct* a = k.Spawn("a", tc);
  k.RunAs(a);
  mm_struct* mm = mm_access(a, PTRACE_MODE_ATTACH_REALCREDS);
  ASSERT_EQ(mm, a->mm);
  mmput(mm);
}

TEST(MmAccessTest, ThreadOfTheCallerSharesTheMm) {
  BootedKernel k;
  task_struct* a = k.Spawn("a", TestCreds::User(1000, 1000));
  task_struct* t = k.SpawnThread(a);
  k.RunAs(a);
  mm_struct* mm = mm_access(t, PTRACE_MODE_ATTACH_REALCREDS);
  ASSERT_EQ(mm, a->mm);
  mmput(mm);
}

TEST(MmAccessTest, KernelThreadIsEsrchEvenForUnprivilegedCallers) {
  BootedKernel k;
  task_struct* a = k.Spawn("a", TestCreds::User(1000, 1000));
  task_struct* kt = k.SpawnKthread("kt");
  k.RunAs(a);
  EXPECT_EQ(PTR_ERR(mm_access(kt, PTRACE_MODE_ATTACH_REALCREDS)), -ESRCH);
  EXPECT_EQ(PTR_ERR(mm_access(find_task_by_vpid(2), PTRACE_MODE_ATTACH_REALCREDS)), -ESRCH);
}

TEST(MmAccessTest, ZombieIsEsrch) {
  BootedKernel k;
  task_struct* a = k.Spawn("a");
  task_struct* z = k.Spawn("z");
  k.Exit(z);
  ASSERT_EQ(z->exit_state, EXIT_ZOMBIE);
  k.RunAs(a);
  EXPECT_EQ(PTR_ERR(mm_access(z, PTRACE_MODE_ATTACH_REALCREDS)), -ESRCH);
}

TEST(MmAccessTest, ZombieLeaderWithLiveThreadIsEsrchButTheThreadWorks) {
  BootedKernel k;
  task_struct* a = k.Spawn("a");
  task_struct* leader = k.Spawn("leader");
  task_struct* thread = k.SpawnThread(leader);
  mm_struct* shared = leader->mm;
  k.Exit(leader);
  ASSERT_EQ(leader->exit_state, EXIT_ZOMBIE);
  ASSERT_EQ(find_task_by_vpid(leader->pid), leader);  // keeps its pid
  k.RunAs(a);
  EXPECT_EQ(PTR_ERR(mm_access(leader, PTRACE_MODE_ATTACH_REALCREDS)), -ESRCH);
  mm_struct* mm = mm_access(thread, PTRACE_MODE_ATTACH_REALCREDS);
  ASSERT_EQ(mm, shared);
  mmput(mm);
}

// exec_update_lock is taken killably: a fatal signal only matters when the caller would
// sleep (an exec holds the lock for writing); a free lock is taken regardless.
TEST(MmAccessTest, FatalSignalIsEintrOnlyWhenExecUpdateLockIsContended) {
  BootedKernel k;
  task_struct* a = k.Spawn("a");
  task_struct* b = k.Spawn("b");
  k.RunAs(a);
  a->fatal_signal = true;
  mm_struct* mm = mm_access(b, PTRACE_MODE_ATTACH_REALCREDS);
  ASSERT_FALSE(IS_ERR(mm));
  EXPECT_EQ(mm, b->mm);
  mmput(mm);
  down_write(&b->signal->exec_update_lock);
  EXPECT_EQ(PTR_ERR(mm_access(b, PTRACE_MODE_ATTACH_REALCREDS)), -EINTR);
  up_write(&b->signal->exec_update_lock);
  a->fatal_signal = false;
}

TEST(MmAccessTest, TheMmOutlivesItsExitingTaskUntilMmput) {
  BootedKernel k;
  task_struct* a = k.Spawn("a");
  task_struct* b = k.Spawn("b");
  const pid_t b_pid = b->pid;
  const long baseline = k.FreePages() + 0;
  k.RunAs(a);
  mm_struct* mm = mm_access(b, PTRACE_MODE_ATTACH_REALCREDS);
  ASSERT_FALSE(IS_ERR(mm));
  k.Exit(b);
  // The address space is still whole: its [stack] VMA is there.
  EXPECT_NE(vma_lookup(mm, BootedKernel::kStackTop - 1), nullptr);
  EXPECT_EQ(atomic_read(&mm->mm_users), 1);
  EXPECT_EQ(k.Reap(b_pid), b_pid);
  k.RunAs(a);
  mmput(mm);  // the last user: exit_mmap, then the pgd goes
  EXPECT_GT(k.FreePages(), baseline);
  EXPECT_EQ(k.DebugVm(), "");
}

// ---- credentials ----

TEST(CredTest, SetresuidFromRootToUserDropsCapsAndDumpability) {
  BootedKernel k;
  TestCreds root_in_group_1000;
  root_in_group_1000.rgid = root_in_group_1000.egid = root_in_group_1000.sgid = 1000;
  task_struct* p = k.Spawn("p", root_in_group_1000);
  k.RunAs(p);
  EXPECT_EQ(get_dumpable(p->mm), SUID_DUMP_USER);
  EXPECT_EQ(__sys_setresuid(1000, 1000, 1000), 0);
  EXPECT_EQ(p->cred->uid, 1000u);
  EXPECT_EQ(p->cred->euid, 1000u);
  EXPECT_EQ(p->cred->suid, 1000u);
  EXPECT_EQ(p->cred->fsuid, 1000u);
  EXPECT_EQ(p->cred->cap_permitted.val, 0u);
  EXPECT_EQ(p->cred->cap_effective.val, 0u);
  EXPECT_EQ(p->real_cred, p->cred);
  EXPECT_EQ(get_dumpable(p->mm), SUID_DUMP_DISABLE);  // fs.suid_dumpable = 0

  // Now a process of uid 1000 cannot look at it: the ids match, dumpability does not.
  task_struct* peer = k.Spawn("peer", TestCreds::User(1000, 1000));
  EXPECT_EQ(MayAccess(k, peer, p), -EPERM);
  k.RunAs(p);
  EXPECT_EQ(prctl_set_dumpable(1), 0);
  EXPECT_EQ(MayAccess(k, peer, p), 0);
}

TEST(CredTest, SuidDumpableOneKeepsTheTaskDumpable) {
  BootedKernel k;
  k.ks()->suid_dumpable = SUID_DUMP_USER;
  task_struct* p = k.Spawn("p");
  k.RunAs(p);
  EXPECT_EQ(__sys_setresuid(1000, 1000, 1000), 0);
  EXPECT_EQ(get_dumpable(p->mm), SUID_DUMP_USER);
}

TEST(CredTest, RuidOnlyChangeKeepsDumpability) {
  BootedKernel k;
  TestCreds tc = TestCreds::User(1000, 1000);
  tc.suid = 2000;
  task_struct* p = k.Spawn("p", tc);
  k.RunAs(p);
  // The real uid may become the saved one without privilege, and commit_creds only
  // looks at euid/egid/fsuid/fsgid and capabilities.
  EXPECT_EQ(__sys_setresuid(2000, kKeep, kKeep), 0);
  EXPECT_EQ(p->cred->uid, 2000u);
  EXPECT_EQ(get_dumpable(p->mm), SUID_DUMP_USER);
  // An euid change does make it non-dumpable.
  EXPECT_EQ(__sys_setresuid(kKeep, 2000, kKeep), 0);
  EXPECT_EQ(get_dumpable(p->mm), SUID_DUMP_DISABLE);
}

TEST(CredTest, UnprivilegedSetresuidToAForeignIdIsEperm) {
  BootedKernel k;
  task_struct* p = k.Spawn("p", TestCreds::User(1000, 1000));
  k.RunAs(p);
  EXPECT_EQ(__sys_setresuid(1001, kKeep, kKeep), -EPERM);
  EXPECT_EQ(__sys_setresgid(1001, kKeep, kKeep), -EPERM);
  EXPECT_EQ(__sys_setresuid(kKeep, kKeep, kKeep), 0);  // a no-op
  EXPECT_EQ(__sys_setresuid(1000, 1000, 1000), 0);     // also a no-op
  EXPECT_EQ(p->cred->uid, 1000u);
}

TEST(CredTest, SetresgidChangesGroupsAndDumpability) {
  BootedKernel k;
  task_struct* p = k.Spawn("p");
  k.RunAs(p);
  EXPECT_EQ(__sys_setresgid(50, 50, 50), 0);
  EXPECT_EQ(p->cred->gid, 50u);
  EXPECT_EQ(p->cred->egid, 50u);
  EXPECT_EQ(p->cred->sgid, 50u);
  EXPECT_EQ(p->cred->fsgid, 50u);
  EXPECT_EQ(p->cred->cap_permitted.val, CAP_FULL_SET.val);  // uid unchanged: caps kept
  EXPECT_EQ(get_dumpable(p->mm), SUID_DUMP_DISABLE);
}

TEST(CredTest, SwitchingEuidAwayAndBackFromRootTogglesEffectiveCaps) {
  BootedKernel k;
  task_struct* p = k.Spawn("p");
  k.RunAs(p);
  EXPECT_EQ(__sys_setresuid(kKeep, 1000, kKeep), 0);  // ruid and suid stay 0
  EXPECT_EQ(p->cred->cap_effective.val, 0u);
  EXPECT_EQ(p->cred->cap_permitted.val, CAP_FULL_SET.val);
  EXPECT_EQ(__sys_setresuid(kKeep, 0, kKeep), 0);
  EXPECT_EQ(p->cred->cap_effective.val, CAP_FULL_SET.val);
}

TEST(CredTest, CapsetMayOnlyDrop) {
  BootedKernel k;
  task_struct* p = k.Spawn("p");
  k.RunAs(p);
  const kernel_cap_t fewer{kAllButPtrace};
  EXPECT_EQ(sys_capset_lite(fewer, CAP_EMPTY_SET, fewer), 0);
  EXPECT_EQ(p->cred->cap_permitted.val, kAllButPtrace);
  // Dropping capabilities keeps the task dumpable.
  EXPECT_EQ(get_dumpable(p->mm), SUID_DUMP_USER);
  EXPECT_EQ(sys_capset_lite(CAP_FULL_SET, CAP_EMPTY_SET, CAP_FULL_SET), -EPERM);
  // effective must be within permitted
  const kernel_cap_t one{1ULL << 3};
  EXPECT_EQ(sys_capset_lite(fewer, CAP_EMPTY_SET, one), -EPERM);
}

TEST(CredTest, PrctlSetDumpable) {
  BootedKernel k;
  task_struct* p = k.Spawn("p");
  k.RunAs(p);
  EXPECT_EQ(prctl_set_dumpable(0), 0);
  EXPECT_EQ(get_dumpable(p->mm), SUID_DUMP_DISABLE);
  EXPECT_EQ(prctl_set_dumpable(1), 0);
  EXPECT_EQ(get_dumpable(p->mm), SUID_DUMP_USER);
  EXPECT_EQ(prctl_set_dumpable(2), -EINVAL);
}

TEST(CredTest, CredentialReferencesBalance) {
  BootedKernel k;
  task_struct* p = k.Spawn("p");
  task_struct* t = k.SpawnThread(p);
  EXPECT_EQ(t->cred, p->cred);  // threads share
  const cred* c = p->cred;
  EXPECT_EQ(atomic_read(&c->usage), 4);  // two pointers in each of two tasks
  k.RunAs(p);
  EXPECT_EQ(__sys_setresuid(5, 5, 5), 0);
  EXPECT_NE(p->cred, t->cred);  // per-task credentials: the thread keeps the old ones
  EXPECT_EQ(atomic_read(&t->cred->usage), 2);
  EXPECT_EQ(atomic_read(&p->cred->usage), 2);
}

}  // namespace
}  // namespace kernel
