// mm/kernel/exit.cc: tasks exiting, becoming zombies, being reaped.
// Port of kernel/exit.c (do_exit, exit_mm, mm_update_next_owner, exit_notify,
// forget_original_parent, reparent_leader, release_task, __exit_signal, do_group_exit,
// wait_task_zombie / kernel_wait4), do_notify_parent's autoreap rule (kernel/signal.c)
// and do_task_dead (kernel/sched/core.c), Linux 6.18.
//
// Deviations (grep "DEVIATION(exit)"):
//  - Children are not kept on a list: a task's children are the tasks in the pid table
//    whose real_parent it is (a scan; fine at simulator scale).
//  - Signals are not delivered. A parent "ignores SIGCHLD" exactly when it is a kernel
//    thread (kthreadd ignores all signals); so kernel threads are reaped at once and
//    processes stay zombies until their parent waits for them.
//  - do_exit returns (with this CPU's idle task current) instead of never returning.
//  - No ptrace, no process groups/sessions (no orphaned-pgrp signals), no pdeath_signal.
//  - wait never blocks: without WNOHANG a child that is not reapable yet also gives 0.
#include <vector>

#include "mm/kernel/task.h"
#include "mm/mm.h"
#include "mm/trace.h"

namespace kernel {
namespace {

// include/linux/sched/signal.h
inline bool thread_group_leader(const task_struct* p) { return p->group_leader == p; }

// kernel/exit.c: a live (not PF_EXITING) thread of p's group other than p, or null.
task_struct* find_alive_thread(task_struct* p) {
  for (const auto& [nr, t] : kst().pid_table)
    if (t != p && same_thread_group(t, p) && !(t->flags & PF_EXITING)) return t;
  return nullptr;
}

// kernel/exit.c: hand the mm's ownership to another user of it, or to nobody.
void mm_update_next_owner(mm_struct* mm) {
  task_struct* p = current();
  if (mm->owner != p) return;
  // The current owner is the last user: nobody is left to own it.
  if (atomic_read(&mm->mm_users) <= 1) {
    mm->owner = nullptr;
    return;
  }
  for (const auto& [nr, t] : kst().pid_table) {
    if (t != p && t->mm == mm) {
      mm->owner = t;
      return;
    }
  }
  mm->owner = nullptr;
}

// kernel/exit.c: the task lets go of its address space. Once task->mm is NULL,
// get_task_mm (and so mm_access, process_vm_*) no longer finds it.
void exit_mm() {
  task_struct* tsk = current();
  mm_struct* mm = tsk->mm;
  if (mm == nullptr) return;
  trace_call tc("exit_mm", "pid=%d", tsk->pid);
  mmap_read_lock(mm);
  // The task keeps running on mm's tables, as a lazy-TLB user of it (active_mm) until it
  // switches away for the last time; that reference outlives mmput.
  mmgrab_lazy_tlb(mm);
  BUG_ON(mm != tsk->active_mm);
  tsk->mm = nullptr;
  enter_lazy_tlb(mm, tsk);
  mmap_read_unlock(mm);
  mm_update_next_owner(mm);
  mmput(mm);
}

// kernel/signal.c: do_notify_parent, only its answer: should the exiting task be reaped
// at once because its parent ignores SIGCHLD?
bool do_notify_parent(task_struct* tsk, int sig) {
  task_struct* parent = tsk->real_parent;
  // DEVIATION(exit): orphaned at shutdown (the reaper itself died): nobody will wait.
  if (parent == nullptr) return true;
  // DEVIATION(exit): kernel threads (kthreadd) ignore SIGCHLD; nobody else does.
  return sig == SIGCHLD && (parent->flags & PF_KTHREAD) != 0;
}

// kernel/exit.c: a child whose parent changed; if it is a zombie whose new parent ignores
// SIGCHLD, it is released.
void reparent_leader(task_struct* p, std::vector<task_struct*>* dead) {
  if (p->exit_signal == -1) return;  // a thread, not a process
  p->exit_signal = SIGCHLD;
  if (p->exit_state == EXIT_ZOMBIE && thread_group_empty(p)) {
    if (do_notify_parent(p, p->exit_signal)) {
      p->exit_state = EXIT_DEAD;
      dead->push_back(p);
    }
  }
}

// kernel/exit.c: the children of an exiting task go to another live thread of its
// group, or to the child reaper (init).
void forget_original_parent(task_struct* father, std::vector<task_struct*>* dead) {
  task_struct* reaper = find_alive_thread(father);
  if (reaper == nullptr) {
    reaper = child_reaper();
    // DEVIATION(exit): init itself is exiting (only kernel_shutdown does that; Linux
    // panics): its children are left without a parent.
    if (reaper == father || (reaper != nullptr && (reaper->flags & PF_EXITING)))
      reaper = nullptr;
  }
  std::vector<task_struct*> children;
  for (const auto& [nr, t] : kst().pid_table)
    if (t->real_parent == father) children.push_back(t);
  for (task_struct* t : children) {
    t->real_parent = reaper;
    if (thread_group_leader(t) && (reaper == nullptr || !same_thread_group(reaper, father)))
      reparent_leader(t, dead);
  }
}

// kernel/exit.c
void exit_notify(task_struct* tsk, bool /*group_dead*/) {
  std::vector<task_struct*> dead;
  forget_original_parent(tsk, &dead);

  tsk->exit_state = EXIT_ZOMBIE;
  bool autoreap;
  if (thread_group_leader(tsk)) {
    // A leader waits for its parent, unless the parent ignores SIGCHLD; while other
    // threads live it cannot be reaped anyway (delay_group_leader).
    autoreap = thread_group_empty(tsk) && do_notify_parent(tsk, tsk->exit_signal);
  } else {
    autoreap = true;  // threads are never waited for
  }
  if (autoreap) {
    tsk->exit_state = EXIT_DEAD;
    dead.push_back(tsk);
  }
  trace_event("sched_process_exit", "pid=%d state=%s", tsk->pid,
              autoreap ? "dead" : "zombie");
  for (task_struct* p : dead) release_task(p);
}

// kernel/sched/core.c: the dead task runs for the last time: switch to this CPU's idle
// task and drop the reference the task held for running (finish_task_switch).
void do_task_dead() {
  task_struct* tsk = current();
  context_switch(idle_task(smp_processor_id()));
  put_task_struct(tsk);
}

// kernel/exit.c: remove p from its thread group and the pid table.
void __exit_signal(task_struct* p) {
  signal_struct* sig = p->signal;
  sig->nr_threads--;
  detach_pid(p->pid);  // __unhash_process
}

// kernel/signal.c: zap_other_threads: a SIGKILL for every other live thread.
void zap_other_threads(task_struct* p) {
  for (const auto& [nr, t] : kst().pid_table) {
    if (t == p || !same_thread_group(t, p) || t->exit_state) continue;
    t->fatal_signal = true;
  }
}

// kernel/exit.c: wait_task_zombie, after the checks: reap p.
long wait_task_zombie(task_struct* p, int* stat_addr) {
  if (p->exit_state != EXIT_ZOMBIE) return 0;
  p->exit_state = EXIT_DEAD;
  pid_t pid = p->pid;
  int status = p->signal->group_exit ? p->signal->group_exit_code : p->exit_code;
  if (stat_addr != nullptr) *stat_addr = status;
  release_task(p);
  return pid;
}

}  // namespace

// include/linux/sched/signal.h
bool thread_group_empty(const task_struct* p) {
  return thread_group_leader(p) && p->signal->nr_threads == 1;
}

// kernel/exit.c
bool delay_group_leader(const task_struct* p) {
  return thread_group_leader(p) && !thread_group_empty(p);
}

// kernel/exit.c
void release_task(task_struct* p) {
  for (;;) {
    trace_call tc("release_task", "pid=%d", p->pid);
    __exit_signal(p);
    // The last non-leader thread of a group whose leader is a zombie: the leader's
    // parent may now be told, and if it ignores SIGCHLD the leader goes too.
    bool zap_leader = false;
    task_struct* leader = p->group_leader;
    if (leader != p && thread_group_empty(leader) && leader->exit_state == EXIT_ZOMBIE) {
      zap_leader = do_notify_parent(leader, leader->exit_signal);
      if (zap_leader) leader->exit_state = EXIT_DEAD;
    }
    put_task_struct(p);  // the pid table's reference (put_task_struct_rcu_user)
    if (!zap_leader) return;
    p = leader;
  }
}

// kernel/exit.c
void do_exit(long code) {
  task_struct* tsk = current();
  BUG_ON(tsk == nullptr || is_idle_task(tsk));
  BUG_ON(tsk->flags & PF_EXITING);  // a recursive exit
  trace_call tc("do_exit", "pid=%d code=%ld", tsk->pid, code);

  tsk->flags |= PF_EXITING;  // exit_signals
  bool group_dead = atomic_dec_and_test(&tsk->signal->live);
  if (group_dead && tsk == child_reaper()) {
    // DEVIATION(exit): Linux panics ("Attempted to kill init!"); only kernel_shutdown
    // lets init exit, and from then on there is no reaper.
    kst().child_reaper = nullptr;
  }
  tsk->exit_code = static_cast<int>(code);
  exit_mm();
  exit_notify(tsk, group_dead);
  do_task_dead();
}

// kernel/exit.c
void do_group_exit(int exit_code) {
  task_struct* cur = current();
  signal_struct* sig = cur->signal;
  if (sig->group_exit) {
    exit_code = sig->group_exit_code;
  } else {
    sig->group_exit_code = exit_code;
    sig->group_exit = true;
    zap_other_threads(cur);
  }
  do_exit(exit_code);
}

// kernel/exit.c: wait4(upid, stat_addr, options, NULL) for one child pid.
long kernel_wait4(pid_t upid, int* stat_addr, int options) {
  trace_call tc("kernel_wait4", "upid=%d options=%#x", upid, options);
  if (options & ~WNOHANG) return tc.ret(static_cast<long>(-EINVAL));
  if (upid <= 0) return tc.ret(static_cast<long>(-ECHILD));  // DEVIATION(exit): no pgrp waits
  task_struct* cur = current();
  task_struct* p = find_task_by_vpid(upid);
  // Only processes (group leaders) are children; any thread of the parent's group may
  // wait for them.
  if (p == nullptr || !thread_group_leader(p) || p->real_parent == nullptr ||
      !same_thread_group(p->real_parent, cur))
    return tc.ret(static_cast<long>(-ECHILD));
  if (p->exit_state == EXIT_ZOMBIE && !delay_group_leader(p))
    return tc.ret(wait_task_zombie(p, stat_addr));
  return tc.ret(0L);  // WNOHANG, or DEVIATION(exit): would block
}

}  // namespace kernel
