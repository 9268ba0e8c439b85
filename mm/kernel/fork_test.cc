// Tests of mm/kernel/fork.cc, exit.cc, exec.cc and sched_core.cc: address-space and
// task lifetimes, clone's rules, exit -> zombie -> reap, thread groups, reparenting.
#include <set>
#include <vector>

#include "gtest/gtest.h"
#include "mm/fault_inject.h"
#include "mm/arch/x86/tlb.h"
#include "mm/arch/x86/uaccess.h"
#include "mm/kernel/task.h"
#include "mm/mm.h"
#include "mm/testing/kernel_fixture.h"

namespace kernel {
namespace {

using kernel_testing::BootedKernel;
using kernel_testing::TestCreds;

TEST(ForkTest, SpawnedProcessHasAStackAndNothingElse) {
  BootedKernel k;
  task_struct* p = k.Spawn("p");
  mm_struct* mm = p->mm;
  ASSERT_NE(mm, nullptr);
  EXPECT_EQ(mm->map_count, 1);
  vm_area_struct* stack = vma_lookup(mm, BootedKernel::kStackTop - 1);
  ASSERT_NE(stack, nullptr);
  EXPECT_EQ(stack->vm_end, BootedKernel::kStackTop);
  EXPECT_EQ(stack->vm_start, BootedKernel::kStackTop - BootedKernel::kStackSize);
  EXPECT_TRUE(stack->vm_flags & VM_GROWSDOWN);
  EXPECT_TRUE(stack->vm_flags & VM_READ);
  EXPECT_TRUE(stack->vm_flags & VM_WRITE);
  EXPECT_STREQ(stack->anon_name, "[stack]");
  EXPECT_EQ(get_dumpable(mm), SUID_DUMP_USER);
  EXPECT_EQ(atomic_read(&mm->mm_users), 1);
  EXPECT_EQ(mm->owner, p);
  EXPECT_EQ(mm->task_size, TASK_SIZE);
  EXPECT_EQ(mm->mmap_base, 0x7ffff7fff000UL);
  EXPECT_EQ(k.DebugVm(), "");
}

TEST(ForkTest, EachMmGetsItsOwnPcidAndContextId) {
  BootedKernel k;
  std::set<unsigned> pcids;
  std::set<u64> ctx_ids;
  pcids.insert(child_reaper()->mm->context.pcid);
  ctx_ids.insert(child_reaper()->mm->context.ctx_id);
  for (int i = 0; i < 5; ++i) {
    task_struct* p = k.Spawn("p");
    EXPECT_GE(p->mm->context.pcid, 1u);
    EXPECT_LE(p->mm->context.pcid, 4095u);
    pcids.insert(p->mm->context.pcid);
    ctx_ids.insert(p->mm->context.ctx_id);
  }
  EXPECT_EQ(pcids.size(), 6u);
  EXPECT_EQ(ctx_ids.size(), 6u);
}

TEST(ForkTest, PcidsOfLiveMmsAreNotHandedOutAgainAfterTheCounterWraps) {
  BootedKernel k;
  const u16 init_pcid = child_reaper()->mm->context.pcid;
  k.ks()->next_pcid = init_pcid;  // as if 4095 more mms had come and gone
  task_struct* p = k.Spawn("p");
  EXPECT_NE(p->mm->context.pcid, init_pcid);
}

TEST(ForkTest, ThreadSharesMmSignalAndCreds) {
  BootedKernel k;
  task_struct* p = k.Spawn("p");
  task_struct* t = k.SpawnThread(p);
  EXPECT_EQ(t->mm, p->mm);
  EXPECT_EQ(t->signal, p->signal);
  EXPECT_EQ(t->cred, p->cred);
  EXPECT_EQ(atomic_read(&p->mm->mm_users), 2);
  EXPECT_EQ(p->signal->nr_threads, 2);
  EXPECT_EQ(atomic_read(&p->signal->live), 2);
  EXPECT_EQ(t->exit_signal, -1);
  EXPECT_EQ(t->real_parent, p->real_parent);
  EXPECT_FALSE(thread_group_empty(p));
}

TEST(ForkTest, CloneFlagRules) {
  BootedKernel k;
  task_struct* p = k.Spawn("p");
  k.RunAs(p);
  kernel_clone_args thread_without_sighand{CLONE_VM | CLONE_THREAD, 0, 0, nullptr};
  EXPECT_EQ(kernel_clone(&thread_without_sighand), -EINVAL);
  kernel_clone_args sighand_without_vm{CLONE_SIGHAND, 0, 0, nullptr};
  EXPECT_EQ(kernel_clone(&sighand_without_vm), -EINVAL);
  // fork proper: the child gets a copy of the address space.
  kernel_clone_args fork_args{0, SIGCHLD, 0, nullptr};
  const pid_t child = kernel_clone(&fork_args);
  ASSERT_GT(child, 0);
  task_struct* c = find_task_by_vpid(child);
  ASSERT_NE(c, nullptr);
  EXPECT_NE(c->mm, p->mm);
  EXPECT_EQ(c->real_parent, p);
  EXPECT_EQ(c->mm->map_count, p->mm->map_count);
  EXPECT_EQ(k.DebugVm(), "");
}

TEST(ForkTest, FailedAllocationsLeaveNothingBehind) {
  BootedKernel k;
  task_struct* p = k.Spawn("p");
  const long slabs = k.ks()->slab_allocations;
  const size_t tasks = k.ks()->pid_table.size();
  uint64_t fired = 0;
  for (uint64_t nth = 1; nth <= 4; ++nth) {
    ASSERT_EQ(fault_inject_arm("failslab", {.nth = nth, .times = 1}), 0);
    k.RunAs(p);
    kernel_clone_args args{CLONE_VM | CLONE_VFORK, SIGCHLD, 0, nullptr};
    pid_t pid = kernel_clone(&args);
    if (pid > 0) {
      k.Exit(find_task_by_vpid(pid));
      EXPECT_EQ(k.Reap(pid), pid);
    } else {
      EXPECT_EQ(pid, -ENOMEM);
    }
    EXPECT_EQ(k.ks()->slab_allocations, slabs);
    EXPECT_EQ(k.ks()->pid_table.size(), tasks);
    fired += fault_inject_failures("failslab");
  }
  fault_inject_disarm(nullptr);
  EXPECT_GE(fired, 2u);
}

TEST(ForkTest, MmAllocFailsCleanlyWhenThePgdCannotBeAllocated) {
  BootedKernel k;
  const long slabs = k.ks()->slab_allocations;
  ASSERT_EQ(fault_inject_arm("fail_page_alloc", {.nth = 0, .times = -1}), 0);
  EXPECT_EQ(mm_alloc(), nullptr);
  fault_inject_disarm(nullptr);
  EXPECT_EQ(k.ks()->slab_allocations, slabs);
}

TEST(ExitTest, ExitMakesAZombieWithoutMmAndReapFreesEverything) {
  BootedKernel k;
  const long free_before = k.FreePages();
  const long slabs_before = k.ks()->slab_allocations;
  task_struct* p = k.Spawn("p");
  const pid_t pid = p->pid;
  // Touch some memory so there are pages and page tables to free.
  unsigned long addr = k.Mmap(p, 0, 16 * PAGE_SIZE, PROT_READ | PROT_WRITE);
  ASSERT_FALSE(IS_ERR_VALUE(addr));
  k.RunAs(p);
  std::vector<char> data(16 * PAGE_SIZE, 'x');
  ASSERT_EQ(copy_to_user(reinterpret_cast<void __user*>(addr), data.data(), data.size()), 0u);
  EXPECT_LT(k.FreePages(), free_before);
  EXPECT_EQ(k.DebugVm(), "");

  k.Exit(p);
  EXPECT_EQ(p->exit_state, EXIT_ZOMBIE);
  EXPECT_EQ(p->mm, nullptr);
  EXPECT_TRUE(p->flags & PF_EXITING);
  EXPECT_EQ(k.ks()->current_task[0], idle_task(0));
  // The address space is gone already: only the task_struct waits for its parent.
  EXPECT_EQ(k.FreePages(), free_before);
  EXPECT_EQ(k.DebugVm(), "");

  EXPECT_EQ(k.Reap(pid), pid);
  EXPECT_EQ(find_task_by_vpid(pid), nullptr);
  EXPECT_EQ(k.FreePages(), free_before);
  EXPECT_EQ(k.ks()->slab_allocations, slabs_before);
  EXPECT_EQ(k.DebugVm(), "");
}

TEST(ExitTest, OnlyTheParentMayReap) {
  BootedKernel k;
  task_struct* p = k.Spawn("p");
  task_struct* other = k.Spawn("other");
  const pid_t pid = p->pid;
  EXPECT_EQ(k.Reap(pid), 0);  // alive: WNOHANG
  k.Exit(p);
  EXPECT_EQ(k.Reap(pid, other), -ECHILD);
  EXPECT_EQ(k.Reap(pid), pid);
  EXPECT_EQ(k.Reap(pid, child_reaper()), -ECHILD);
}

TEST(ExitTest, ZombieLeaderWaitsForItsThreads) {
  BootedKernel k;
  const long free_before = k.FreePages();
  task_struct* leader = k.Spawn("leader");
  task_struct* thread = k.SpawnThread(leader);
  const pid_t pid = leader->pid;
  const pid_t tid = thread->pid;
  mm_struct* mm = leader->mm;

  k.Exit(leader);
  EXPECT_EQ(leader->exit_state, EXIT_ZOMBIE);
  EXPECT_EQ(leader->mm, nullptr);
  EXPECT_EQ(thread->mm, mm);  // the address space lives on
  EXPECT_EQ(atomic_read(&mm->mm_users), 1);
  EXPECT_TRUE(delay_group_leader(leader));
  EXPECT_EQ(k.Reap(pid), 0);  // not reapable while a thread lives

  k.Exit(thread);
  EXPECT_EQ(find_task_by_vpid(tid), nullptr);  // threads are reaped at once
  EXPECT_FALSE(delay_group_leader(leader));
  EXPECT_EQ(k.FreePages(), free_before);
  EXPECT_EQ(k.Reap(tid, child_reaper()), -ECHILD);
  EXPECT_EQ(k.Reap(pid), pid);
  EXPECT_EQ(k.DebugVm(), "");
}

TEST(ExitTest, GroupExitTakesEveryThread) {
  BootedKernel k;
  task_struct* leader = k.Spawn("leader");
  task_struct* t1 = k.SpawnThread(leader);
  task_struct* t2 = k.SpawnThread(leader);
  const pid_t pid = leader->pid;
  k.RunAs(t1);
  do_group_exit(3 << 8);
  EXPECT_TRUE(leader->fatal_signal);
  EXPECT_TRUE(t2->fatal_signal);
  // The others exit when they next run.
  k.RunAs(t2);
  do_group_exit(0);
  k.RunAs(leader);
  do_group_exit(0);
  EXPECT_EQ(leader->exit_state, EXIT_ZOMBIE);
  k.RunAs(child_reaper());
  int status = -1;
  EXPECT_EQ(kernel_wait4(pid, &status, WNOHANG), pid);
  EXPECT_EQ(status, 3 << 8);
}

TEST(ExitTest, ChildrenOfAnExitingProcessGoToInit) {
  BootedKernel k;
  task_struct* parent = k.Spawn("parent");
  k.RunAs(parent);
  kernel_clone_args args{CLONE_VM | CLONE_VFORK, SIGCHLD, 0, nullptr};
  pid_t cpid = kernel_clone(&args);
  ASSERT_GT(cpid, 0);
  task_struct* child = find_task_by_vpid(cpid);
  EXPECT_EQ(child->real_parent, parent);
  k.RunAs(child);
  ASSERT_EQ(exec_mm_lite(BootedKernel::kStackTop, BootedKernel::kStackSize), 0);
  k.Exit(child);
  const pid_t ppid = parent->pid;
  k.Exit(parent);
  EXPECT_EQ(child->real_parent, child_reaper());  // reparented, still a zombie
  EXPECT_EQ(child->exit_state, EXIT_ZOMBIE);
  EXPECT_EQ(k.Reap(cpid), cpid);
  EXPECT_EQ(k.Reap(ppid), ppid);
}

TEST(ExitTest, ExitOfAThreadWhileLeaderLivesKeepsTheMm) {
  BootedKernel k;
  task_struct* leader = k.Spawn("leader");
  task_struct* t = k.SpawnThread(leader);
  k.Exit(t);
  EXPECT_EQ(leader->signal->nr_threads, 1);
  EXPECT_EQ(atomic_read(&leader->mm->mm_users), 1);
  EXPECT_TRUE(thread_group_empty(leader));
  EXPECT_EQ(k.DebugVm(), "");
}

TEST(SchedTest, ContextSwitchLoadsTheAddressSpace) {
  BootedKernel k;
  task_struct* a = k.Spawn("a");
  task_struct* b = k.Spawn("b");
  k.RunAs(a, 1);
  EXPECT_EQ(k.ks()->current_task[1], a);
  EXPECT_EQ(a->on_cpu, 1);
  EXPECT_EQ(k.cpu(1)->cr3() & PTE_PFN_MASK, __pa(a->mm->pgd));
  k.RunAs(b, 1);
  EXPECT_EQ(a->on_cpu, -1);
  EXPECT_EQ(k.cpu(1)->cr3() & PTE_PFN_MASK, __pa(b->mm->pgd));
  EXPECT_EQ(k.cpu(1)->pcid(), b->mm->context.pcid);
  // A kernel thread borrows whatever was loaded.
  task_struct* kt = k.SpawnKthread("kt");
  k.RunAs(kt, 1);
  EXPECT_EQ(k.cpu(1)->cr3() & PTE_PFN_MASK, __pa(b->mm->pgd));
}

TEST(SchedTest, ExitingTheLastUserMovesTheCpuOffTheDeadTables) {
  BootedKernel k;
  task_struct* a = k.Spawn("a");
  k.RunAs(a, 1);
  const unsigned long dead_pgd = __pa(a->mm->pgd);
  k.Exit(a);
  EXPECT_NE(k.cpu(1)->cr3() & PTE_PFN_MASK, dead_pgd);
  EXPECT_EQ(k.DebugVm(), "");
}

}  // namespace
}  // namespace kernel
