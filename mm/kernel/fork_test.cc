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
#include "mm/pagewalk.h"
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

// dup_mmap and VM_WIPEONFORK (set by madvise(MADV_WIPEONFORK)): the child's copy of the
// VMA is empty (no anon_vma, no PTEs, reads as zeros), the parent keeps its data, and a
// VMA without the flag is still shared COW.
// The anon_vma the page mapped at va of t belongs to.
anon_vma* folio_anon_vma_of(task_struct* t, unsigned long va) {
  pte_t* pte = mm_find_pte(t->mm, va);
  if (pte == nullptr || !pte_present(*pte)) return nullptr;
  page* pg = pfn_to_page(pte_pfn(*pte));
  if (!PageAnon(pg)) return nullptr;
  return reinterpret_cast<anon_vma*>(reinterpret_cast<unsigned long>(pg->mapping) &
                                     ~PAGE_MAPPING_ANON);
}

TEST(ForkTest, WipeOnForkGivesTheChildEmptyMemory) {
  BootedKernel k;
  task_struct* p = k.Spawn("p");
  const unsigned long a = 0x100000, b = 0x200000;
  const unsigned long rw = PROT_READ | PROT_WRITE, fixed = MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED;
  ASSERT_EQ(k.Mmap(p, a, PAGE_SIZE, rw, fixed), a);
  ASSERT_EQ(k.Mmap(p, b, PAGE_SIZE, rw, fixed), b);
  ASSERT_TRUE(k.UserStore(p, a, 0x1111).ok());
  ASSERT_TRUE(k.UserStore(p, b, 0x2222).ok());
  k.RunAs(p);
  ASSERT_EQ(do_madvise(a, PAGE_SIZE, MADV_WIPEONFORK), 0);
  ASSERT_TRUE(vma_lookup(p->mm, a)->vm_flags & VM_WIPEONFORK);
  task_struct* c = k.Fork(p);
  ASSERT_NE(c, nullptr);
  vm_area_struct* cv = vma_lookup(c->mm, a);
  ASSERT_NE(cv, nullptr);
  EXPECT_TRUE(cv->vm_flags & VM_WIPEONFORK);  // inherited by the child's own children
  EXPECT_EQ(cv->anon_vma, nullptr);
  EXPECT_EQ(mm_find_pte(c->mm, a), nullptr);
  ASSERT_NE(vma_lookup(c->mm, b)->anon_vma, nullptr);
  uint64_t v = 1;
  ASSERT_TRUE(k.UserLoad(c, a, &v).ok());
  EXPECT_EQ(v, 0u);
  ASSERT_TRUE(k.UserLoad(c, b, &v).ok());
  EXPECT_EQ(v, 0x2222u);
  ASSERT_TRUE(k.UserLoad(p, a, &v).ok());
  EXPECT_EQ(v, 0x1111u);
  EXPECT_EQ(k.DebugVm(), "");
}

int ChainLength(vm_area_struct* vma) {
  int n = 0;
  for (list_head* l = vma->anon_vma_chain.next; l != &vma->anon_vma_chain; l = l->next) ++n;
  return n;
}

// mm/rmap.c's anon_vma tree across fork: the child's VMA gets its own anon_vma (parent
// and root: the parent VMA's) and is chained to both; its COW copy goes to its own
// anon_vma; a grandchild chains to all three. Exits free every anon_vma and chain
// (the slab count returns to where it was), the root last.
TEST(ForkTest, AnonVmaTreeAcrossForks) {
  BootedKernel k;
  task_struct* p = k.Spawn("p");
  const unsigned long a = 0x100000;
  ASSERT_EQ(k.Mmap(p, a, 2 * PAGE_SIZE, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED),
            a);
  ASSERT_TRUE(k.UserStore(p, a, 1).ok());
  vm_area_struct* pv = vma_lookup(p->mm, a);
  anon_vma* root = pv->anon_vma;
  ASSERT_NE(root, nullptr);
  EXPECT_EQ(root->root, root);
  EXPECT_EQ(root->parent, root);
  EXPECT_EQ(root->num_children, 1u);  // itself
  EXPECT_EQ(ChainLength(pv), 1);
  const long slabs = k.ks()->slab_allocations;

  task_struct* c = k.Fork(p);
  ASSERT_NE(c, nullptr);
  vm_area_struct* cv = vma_lookup(c->mm, a);
  anon_vma* cav = cv->anon_vma;
  ASSERT_NE(cav, nullptr);
  EXPECT_NE(cav, root);
  EXPECT_EQ(cav->parent, root);
  EXPECT_EQ(cav->root, root);
  EXPECT_EQ(root->num_children, 2u);
  EXPECT_EQ(atomic_read(&root->refcount), 2);  // its own + the child's pin
  EXPECT_EQ(ChainLength(cv), 2);
  // The shared page still belongs to the root; the child's COW copy to its own.
  EXPECT_EQ(folio_anon_vma_of(c, a), root);
  ASSERT_TRUE(k.UserStore(c, a, 2).ok());
  EXPECT_EQ(folio_anon_vma_of(c, a), cav);
  EXPECT_EQ(folio_anon_vma_of(p, a), root);

  task_struct* g = k.Fork(c);
  ASSERT_NE(g, nullptr);
  vm_area_struct* gv = vma_lookup(g->mm, a);
  EXPECT_EQ(ChainLength(gv), 3);
  EXPECT_EQ(gv->anon_vma->parent, cav);
  EXPECT_EQ(gv->anon_vma->root, root);
  EXPECT_EQ(k.DebugVm(), "");

  k.ExitAndReap(g);
  k.ExitAndReap(c);
  EXPECT_EQ(root->num_children, 1u);
  EXPECT_EQ(atomic_read(&root->refcount), 1);
  EXPECT_EQ(k.ks()->slab_allocations, slabs);
  EXPECT_EQ(k.DebugVm(), "");
}

// begin_new_exec: an exec by a task whose effective ids differ from its real ones gets
// fs.suid_dumpable (0 here: not dumpable); with equal ids it is dumpable again.
TEST(ExecTest, DumpabilityFollowsTheIdsAtExec) {
  BootedKernel k;
  task_struct* p = k.Spawn("p");
  k.RunAs(p);
  ASSERT_EQ(kst().suid_dumpable, SUID_DUMP_DISABLE);
  ASSERT_EQ(__sys_setresuid(static_cast<uid_t>(-1), 1000, static_cast<uid_t>(-1)), 0);
  set_dumpable(p->mm, SUID_DUMP_USER);  // prctl(PR_SET_DUMPABLE, 1) before the exec
  ASSERT_EQ(exec_mm_lite(BootedKernel::kStackTop, BootedKernel::kStackSize), 0);
  EXPECT_EQ(get_dumpable(p->mm), SUID_DUMP_DISABLE);
  kst().suid_dumpable = SUID_DUMP_ROOT;
  ASSERT_EQ(exec_mm_lite(BootedKernel::kStackTop, BootedKernel::kStackSize), 0);
  EXPECT_EQ(get_dumpable(p->mm), SUID_DUMP_ROOT);
  // Back to euid == uid: an ordinary exec is dumpable.
  ASSERT_EQ(__sys_setresuid(static_cast<uid_t>(-1), 0, static_cast<uid_t>(-1)), 0);
  ASSERT_EQ(exec_mm_lite(BootedKernel::kStackTop, BootedKernel::kStackSize), 0);
  EXPECT_EQ(get_dumpable(p->mm), SUID_DUMP_USER);
  // A gid transition counts too.
  ASSERT_EQ(__sys_setresgid(static_cast<gid_t>(-1), 50, static_cast<gid_t>(-1)), 0);
  ASSERT_EQ(exec_mm_lite(BootedKernel::kStackTop, BootedKernel::kStackSize), 0);
  EXPECT_EQ(get_dumpable(p->mm), SUID_DUMP_ROOT);
  EXPECT_EQ(k.DebugVm(), "");
}

TEST(ForkTest, EachMmGetsItsOwnContextIdAndStartsAtGenerationZero) {
  BootedKernel k;
  std::set<u64> ctx_ids;
  ctx_ids.insert(k.ks()->init_mm.context.ctx_id);
  EXPECT_EQ(k.ks()->init_mm.context.ctx_id, 1u);
  ctx_ids.insert(child_reaper()->mm->context.ctx_id);
  for (int i = 0; i < 5; ++i) {
    task_struct* p = k.Spawn("p");
    EXPECT_EQ(atomic64_read(&p->mm->context.tlb_gen), 0);
    ctx_ids.insert(p->mm->context.ctx_id);
  }
  EXPECT_EQ(ctx_ids.size(), 7u);
}

// A ctx_id names an mm to every CPU's ASID slots forever: one of a dead mm never returns.
TEST(ForkTest, ContextIdsAreNeverReused) {
  BootedKernel k;
  task_struct* p = k.Spawn("p");
  const u64 first = p->mm->context.ctx_id;
  k.ExitAndReap(p);
  task_struct* q = k.Spawn("q");
  EXPECT_GT(q->mm->context.ctx_id, first);
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

  mm_struct* mm = p->mm;
  k.Exit(p);
  EXPECT_EQ(p->exit_state, EXIT_ZOMBIE);
  EXPECT_EQ(p->mm, nullptr);
  EXPECT_TRUE(p->flags & PF_EXITING);
  EXPECT_EQ(k.ks()->current_task[0], idle_task(0));
  // The address space is gone already, all but its pgd: the idle task that now runs on
  // CPU 0 borrowed the mm (lazy TLB) and holds it until a user task runs there.
  EXPECT_EQ(idle_task(0)->active_mm, mm);
  EXPECT_EQ(p->active_mm, nullptr);
  EXPECT_EQ(k.FreePages(), free_before - 1);
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
  EXPECT_EQ(k.FreePages(), free_before - 1);  // the pgd: CPU 0's idle task borrows mm
  EXPECT_EQ(idle_task(0)->active_mm, mm);
  EXPECT_EQ(k.Reap(tid, child_reaper()), -ECHILD);  // runs init on CPU 0: mm is freed
  EXPECT_EQ(k.FreePages(), free_before);
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
  EXPECT_EQ(k.cpu(1)->pcid(), kern_pcid(k.ks()->cpu_tlbstate[1].loaded_mm_asid));
  // A kernel thread borrows whatever was loaded, with a reference (lazy TLB).
  task_struct* kt = k.SpawnKthread("kt");
  const int count = atomic_read(&b->mm->mm_count);
  k.RunAs(kt, 1);
  EXPECT_EQ(k.cpu(1)->cr3() & PTE_PFN_MASK, __pa(b->mm->pgd));
  EXPECT_EQ(kt->active_mm, b->mm);
  EXPECT_EQ(atomic_read(&b->mm->mm_count), count + 1);
  EXPECT_TRUE(k.ks()->cpu_tlbstate_shared[1].is_lazy);
  // Back to a user task: the borrowed reference is dropped, the CPU is not lazy.
  k.RunAs(b, 1);
  EXPECT_EQ(kt->active_mm, nullptr);
  EXPECT_EQ(atomic_read(&b->mm->mm_count), count);
  EXPECT_FALSE(k.ks()->cpu_tlbstate_shared[1].is_lazy);
  EXPECT_EQ(k.DebugVm(), "");
}

// The exiting task's CPU runs its idle task on the dead mm's tables (lazily, holding the
// mm), so the pgd outlives exit_mmap; the next user task on that CPU lets it go. A freed
// page table is never left loaded: exit_mmap's flush (page tables freed) moves the lazy
// CPU to init_mm first.
TEST(SchedTest, ExitingTheLastUserLeavesItsPgdToTheIdleTaskUntilTheNextUserTask) {
  BootedKernel k;
  task_struct* a = k.Spawn("a");
  k.RunAs(a, 1);
  mm_struct* mm = a->mm;
  const unsigned long dead_pgd = __pa(mm->pgd);
  k.Exit(a);
  // [stack] never touched: no page table below the pgd, so nothing to flush. Both idle
  // tasks borrow the mm: CPU 0's since `a` left it for CPU 1, CPU 1's since `a` died.
  EXPECT_EQ(idle_task(1)->active_mm, mm);
  EXPECT_EQ(idle_task(0)->active_mm, mm);
  EXPECT_EQ(k.cpu(1)->cr3() & PTE_PFN_MASK, dead_pgd);
  EXPECT_EQ(atomic_read(&mm->mm_count), 2);
  EXPECT_EQ(k.DebugVm(), "");
  task_struct* b = k.Spawn("b");  // init runs on CPU 0: its idle lets go
  EXPECT_EQ(idle_task(0)->active_mm, nullptr);
  EXPECT_EQ(atomic_read(&mm->mm_count), 1);
  k.RunAs(b, 1);  // finish_task_switch drops the last borrowed reference: __mmdrop
  EXPECT_EQ(k.ks()->idle_tasks[1]->active_mm, nullptr);
  EXPECT_NE(k.cpu(1)->cr3() & PTE_PFN_MASK, dead_pgd);
  EXPECT_EQ(k.DebugVm(), "");
}

TEST(SchedTest, ExitWithPageTablesMovesTheLazyCpuToInitMm) {
  BootedKernel k;
  task_struct* a = k.Spawn("a");
  unsigned long addr = k.Mmap(a, 0, PAGE_SIZE, PROT_READ | PROT_WRITE);
  ASSERT_TRUE(k.UserStore(a, addr, 7).ok());  // page tables below the pgd now
  k.RunAs(a, 1);
  ASSERT_TRUE(k.UserStore(a, addr, 8).ok());
  mm_struct* mm = a->mm;
  k.Exit(a);  // exit_mm makes CPU 1 lazy; exit_mmap frees tables: its flush switches it
  EXPECT_EQ(k.ks()->cpu_tlbstate[1].loaded_mm, &k.ks()->init_mm);
  EXPECT_EQ(k.cpu(1)->cr3() & PTE_PFN_MASK, __pa(k.ks()->init_mm.pgd));
  EXPECT_EQ(k.ks()->idle_tasks[1]->active_mm, mm);  // still held: only the pgd is left
  EXPECT_EQ(mm_pgtables_bytes(mm), 0u);
  EXPECT_EQ(k.DebugVm(), "");
}

}  // namespace
}  // namespace kernel
