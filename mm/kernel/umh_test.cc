// Tests of mm/kernel/umh.cc: call_usermodehelper_lite, the one way a user process is
// started (sim::Machine::CreateProcess and the test fixture both use it).
#include <set>

#include "gtest/gtest.h"
#include "mm/fault_inject.h"
#include "mm/kernel/task.h"
#include "mm/mm.h"
#include "mm/testing/kernel_fixture.h"

namespace kernel {
namespace {

using kernel_testing::BootedKernel;

// What a failed spawn must leave as it found it: the live pids, free frames, slab objects.
struct Footprint {
  std::set<pid_t> pids;
  long free_pages;
  long slab;
  static Footprint Now() {
    Footprint f{{}, kst().vm_stat[NR_FREE_PAGES], kst().slab_allocations};
    for (const auto& [nr, t] : kst().pid_table) f.pids.insert(nr);
    return f;
  }
  bool operator==(const Footprint& o) const {
    return pids == o.pids && free_pages == o.free_pages && slab == o.slab;
  }
};

TEST(UmhTest, StartsAChildOfInitWithTheGivenIdentity) {
  BootedKernel k;
  k.RunAs(child_reaper());
  umh_creds c;
  c.ruid = 1000;
  c.euid = 1001;
  c.suid = 1002;
  c.rgid = 100;
  c.egid = 101;
  c.sgid = 102;
  c.caps = (u64{1} << CAP_SYS_PTRACE) | (u64{1} << 63);  // bit 63 is no capability
  c.dumpable = false;
  const pid_t pid = call_usermodehelper_lite("a-long-command-name", &c,
                                             BootedKernel::kStackTop, BootedKernel::kStackSize);
  ASSERT_GT(pid, 2);
  task_struct* t = find_task_by_vpid(pid);
  ASSERT_NE(t, nullptr);
  EXPECT_EQ(current(), t);  // left running on this CPU
  EXPECT_EQ(t->real_parent, child_reaper());
  EXPECT_STREQ(t->comm, "a-long-command-");  // TASK_COMM_LEN - 1 bytes
  const cred* cr = t->cred;
  EXPECT_EQ(cr->uid, 1000u);
  EXPECT_EQ(cr->euid, 1001u);
  EXPECT_EQ(cr->fsuid, 1001u);
  EXPECT_EQ(cr->suid, 1002u);
  EXPECT_EQ(cr->gid, 100u);
  EXPECT_EQ(cr->egid, 101u);
  EXPECT_EQ(cr->fsgid, 101u);
  EXPECT_EQ(cr->sgid, 102u);
  EXPECT_EQ(cr->cap_effective.val, u64{1} << CAP_SYS_PTRACE);  // clipped to the full set
  EXPECT_EQ(cr->cap_permitted.val, u64{1} << CAP_SYS_PTRACE);
  EXPECT_EQ(cr->cap_inheritable.val, 0u);
  EXPECT_EQ(cr->cap_ambient.val, 0u);
  EXPECT_EQ(cr->cap_bset.val, CAP_FULL_SET.val);
  // Its own address space (not init's, which the vfork child shared), holding the stack.
  ASSERT_NE(t->mm, nullptr);
  EXPECT_NE(t->mm, child_reaper()->mm);
  EXPECT_EQ(get_dumpable(t->mm), SUID_DUMP_DISABLE);
  EXPECT_EQ(t->mm->map_count, 1);
  vm_area_struct* stack = find_vma(t->mm, BootedKernel::kStackTop - 1);
  ASSERT_NE(stack, nullptr);
  EXPECT_EQ(stack->vm_start, BootedKernel::kStackTop - BootedKernel::kStackSize);
  EXPECT_EQ(stack->vm_end, BootedKernel::kStackTop);
  EXPECT_TRUE(stack->vm_flags & VM_GROWSDOWN);
  EXPECT_EQ(k.DebugVm(), "");
}

TEST(UmhTest, ABadStackFailsAndTheChildIsReaped) {
  BootedKernel k;
  const Footprint before = Footprint::Now();
  k.RunAs(child_reaper());
  umh_creds c;
  EXPECT_EQ(call_usermodehelper_lite("bad", &c, BootedKernel::kStackTop + 1, PAGE_SIZE),
            -EINVAL);
  EXPECT_EQ(current(), child_reaper());
  EXPECT_TRUE(Footprint::Now() == before);
  EXPECT_EQ(k.DebugVm(), "");
}

// Every allocation on the way (the task and its cred/signal copies, the new mm, its
// pgd, the stack VMA, the new cred) fails in turn: the error comes back, nothing of the
// child is left and nothing leaks.
TEST(UmhTest, EachAllocationFailureIsReportedAndLeaksNothing) {
  BootedKernel k;
  const Footprint before = Footprint::Now();
  for (const char* point : {"failslab", "fail_page_alloc"}) {
    for (uint64_t nth = 1;; ++nth) {
      k.RunAs(child_reaper());
      ASSERT_EQ(fault_inject_arm(point, {.nth = nth, .times = 1}), 0);
      umh_creds c;
      const pid_t pid =
          call_usermodehelper_lite("t", &c, BootedKernel::kStackTop, BootedKernel::kStackSize);
      const uint64_t fired = fault_inject_failures(point);
      fault_inject_disarm(nullptr);
      if (fired == 0) {
        ASSERT_GT(pid, 0) << point << " nth=" << nth;
        EXPECT_GT(nth, 1u) << point << " never reached";
        k.ExitAndReap(find_task_by_vpid(pid));
        break;
      }
      if (pid > 0) {
        // A failure the spawn survived (none is expected on this path, but a retry
        // inside the kernel would be legitimate): the process must be whole.
        ADD_FAILURE() << point << " nth=" << nth << " failed but the spawn succeeded";
        k.ExitAndReap(find_task_by_vpid(pid));
      } else {
        EXPECT_EQ(pid, -ENOMEM) << point << " nth=" << nth;
        EXPECT_EQ(current(), child_reaper()) << point << " nth=" << nth;
      }
      EXPECT_TRUE(Footprint::Now() == before) << point << " nth=" << nth;
      EXPECT_EQ(k.DebugVm(), "") << point << " nth=" << nth;
      ASSERT_LT(nth, 30u);
    }
  }
}

}  // namespace
}  // namespace kernel
