// Tests of mm/kernel/pid.cc: pid allocation and lookup, including the ESRCH cases of
// docs/semantics.md §2.8 and §3.2 (T1-T6): pid <= 0, unused, > pid_max, kernel threads are found but have no mm,
// zombies are found, reaped pids are not.
#include "gtest/gtest.h"
#include "mm/kernel/task.h"
#include "mm/mm.h"
#include "mm/testing/kernel_fixture.h"

namespace kernel {
namespace {

using kernel_testing::BootedKernel;
using kernel_testing::TestCreds;

TEST(PidTest, BootMakesInitAndKthreadd) {
  BootedKernel k;
  task_struct* init = find_task_by_vpid(1);
  ASSERT_NE(init, nullptr);
  EXPECT_STREQ(init->comm, "init");
  EXPECT_EQ(init, child_reaper());
  EXPECT_NE(init->mm, nullptr);
  EXPECT_FALSE(init->flags & PF_KTHREAD);
  task_struct* kthreadd = find_task_by_vpid(2);
  ASSERT_NE(kthreadd, nullptr);
  EXPECT_STREQ(kthreadd->comm, "kthreadd");
  EXPECT_TRUE(kthreadd->flags & PF_KTHREAD);
  EXPECT_EQ(kthreadd->mm, nullptr);
  EXPECT_EQ(k.DebugVm(), "");
}

TEST(PidTest, LookupRejectsNonPositiveUnusedAndOutOfRange) {
  BootedKernel k;
  EXPECT_EQ(find_task_by_vpid(0), nullptr);  // the idle tasks are not in the namespace
  EXPECT_EQ(find_task_by_vpid(-1), nullptr);
  EXPECT_EQ(find_task_by_vpid(-2147483647 - 1), nullptr);
  EXPECT_EQ(find_task_by_vpid(12345), nullptr);
  EXPECT_EQ(find_task_by_vpid(k.ks()->pid_max), nullptr);
  EXPECT_EQ(find_task_by_vpid(k.ks()->pid_max + 1), nullptr);
  EXPECT_EQ(find_get_task_by_vpid(0), nullptr);
  EXPECT_EQ(find_get_task_by_vpid(-1), nullptr);
  EXPECT_EQ(find_get_task_by_vpid(999), nullptr);
}

TEST(PidTest, FindGetTakesAReference) {
  BootedKernel k;
  task_struct* p = k.Spawn("p");
  const int before = atomic_read(&p->usage);
  task_struct* got = find_get_task_by_vpid(p->pid);
  ASSERT_EQ(got, p);
  EXPECT_EQ(atomic_read(&p->usage), before + 1);
  put_task_struct(got);
  EXPECT_EQ(atomic_read(&p->usage), before);
}

TEST(PidTest, ThreadIdsAreFoundLikePids) {
  BootedKernel k;
  task_struct* leader = k.Spawn("leader");
  task_struct* thread = k.SpawnThread(leader);
  EXPECT_NE(thread->pid, leader->pid);
  EXPECT_EQ(thread->tgid, leader->pid);
  EXPECT_EQ(thread->group_leader, leader);
  EXPECT_EQ(find_task_by_vpid(thread->pid), thread);
  EXPECT_EQ(find_task_by_vpid(leader->pid), leader);
  EXPECT_EQ(thread->mm, leader->mm);
}

TEST(PidTest, KernelThreadIsFoundButHasNoMm) {
  BootedKernel k;
  task_struct* kt = k.SpawnKthread("kworker/0:1");
  ASSERT_EQ(find_task_by_vpid(kt->pid), kt);
  EXPECT_TRUE(kt->flags & PF_KTHREAD);
  EXPECT_EQ(get_task_mm(kt), nullptr);
  EXPECT_EQ(kt->real_parent, find_task_by_vpid(2));
}

TEST(PidTest, ZombieIsFoundReapedIsNot) {
  BootedKernel k;
  task_struct* p = k.Spawn("p");
  const pid_t pid = p->pid;
  k.Exit(p);
  task_struct* z = find_task_by_vpid(pid);
  ASSERT_EQ(z, p);
  EXPECT_EQ(z->exit_state, EXIT_ZOMBIE);
  EXPECT_EQ(z->mm, nullptr);
  EXPECT_EQ(k.Reap(pid), pid);
  EXPECT_EQ(find_task_by_vpid(pid), nullptr);
  EXPECT_EQ(find_get_task_by_vpid(pid), nullptr);
}

TEST(PidTest, ExitedKernelThreadIsReapedAtOnce) {
  BootedKernel k;
  task_struct* kt = k.SpawnKthread("kt");
  const pid_t pid = kt->pid;
  k.Exit(kt);  // kthreadd ignores SIGCHLD: no zombie
  EXPECT_EQ(find_task_by_vpid(pid), nullptr);
}

TEST(PidTest, PidsAreAllocatedInOrderAndNotReusedUntilWrap) {
  BootedKernel k;
  task_struct* a = k.SpawnKthread("a");
  task_struct* b = k.SpawnKthread("b");
  EXPECT_EQ(a->pid, 4);  // after init, kthreadd and kswapd0
  EXPECT_EQ(b->pid, 5);
  const pid_t a_pid = a->pid;
  k.Exit(a);
  task_struct* c = k.SpawnKthread("c");
  EXPECT_EQ(c->pid, 6);  // the cursor moves on; 4 is free but not reused yet
  EXPECT_EQ(find_task_by_vpid(a_pid), nullptr);
}

TEST(PidTest, AllocationWrapsAtPidMaxAboveReservedPids) {
  BootedKernel k;
  k.ks()->pid_max = RESERVED_PIDS + 20;  // pids 1 .. 319
  std::vector<task_struct*> ts;
  for (;;) {
    k.RunAs(find_task_by_vpid(2));
    pid_t pid = kernel_thread(nullptr, nullptr, "t", CLONE_FS | CLONE_FILES | SIGCHLD);
    if (pid < 0) {
      EXPECT_EQ(pid, -EAGAIN);  // the namespace is full
      break;
    }
    ts.push_back(find_task_by_vpid(pid));
  }
  ASSERT_EQ(ts.back()->pid, RESERVED_PIDS + 19);
  EXPECT_EQ(static_cast<int>(k.ks()->pid_table.size()), RESERVED_PIDS + 19);

  // Free one low pid and one above RESERVED_PIDS: only the high one comes back.
  k.Exit(find_task_by_vpid(10));
  k.Exit(find_task_by_vpid(RESERVED_PIDS + 5));
  k.RunAs(find_task_by_vpid(2));
  pid_t again = kernel_thread(nullptr, nullptr, "t", CLONE_FS | CLONE_FILES | SIGCHLD);
  EXPECT_EQ(again, RESERVED_PIDS + 5);
  k.RunAs(find_task_by_vpid(2));
  EXPECT_EQ(kernel_thread(nullptr, nullptr, "t", CLONE_FS | CLONE_FILES | SIGCHLD), -EAGAIN);
  EXPECT_EQ(find_task_by_vpid(10), nullptr);
}

TEST(PidTest, ProcessesAreChildrenOfInit) {
  BootedKernel k;
  task_struct* p = k.Spawn("p", TestCreds::User(1000, 1000));
  EXPECT_EQ(p->real_parent, child_reaper());
  EXPECT_EQ(p->tgid, p->pid);
  EXPECT_EQ(p->exit_signal, SIGCHLD);
  EXPECT_STREQ(p->comm, "p");
}

}  // namespace
}  // namespace kernel
