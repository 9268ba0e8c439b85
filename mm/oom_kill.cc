// mm/oom_kill.cc: the OOM killer and its reaper.
//
// Port of mm/oom_kill.c at Linux 6.18 (oom_badness, oom_unkillable_task, oom_evaluate_task,
// select_bad_process, find_lock_task_mm, task_will_free_mem (reduced), mark_oom_victim,
// __oom_kill_process, oom_kill_process, dump_header (its first line), out_of_memory,
// __oom_reap_task_mm, oom_reap_task_mm, oom_reap_task).
//
// Deviations (grep "DEVIATION(oom_kill)"):
//  - No oom_reaper thread and no OOM_REAPER_DELAY: the victim's memory is reaped at once,
//    by the path that killed it (as if the reaper ran right after the kill). If the
//    victim's mmap_lock is held for writing the reap is skipped; MMF_OOM_SKIP is set
//    either way, as Linux does once its MAX_OOM_REAP_RETRIES are used up.
//  - No "Out of memory and no killable processes" panic: the line is logged and the
//    allocation fails (the task that faulted sees VM_FAULT_OOM and retries, then gives up).
//  - No memcg, cpuset or mempolicy constraints (CONSTRAINT_NONE), no oom_kill_allocating_task
//    or panic_on_oom sysctls, no per-task dump (dump_tasks) and no rate limit.
//  - SIGKILL is recorded (task_struct::fatal_signal), not delivered: sim/ ends the
//    victim's next user access with it.
#include <climits>

#include "mm/kernel/task.h"
#include "mm/mm.h"
#include "mm/mmzone.h"
#include "mm/oom.h"
#include "mm/printk.h"
#include "mm/trace.h"

namespace kernel {
namespace {

task_struct* const kOomAbort = reinterpret_cast<task_struct*>(-1L);

// include/linux/sched/signal.h: is_global_init.
bool is_global_init(const task_struct* p) { return p->tgid == 1; }

// mm/oom_kill.c
bool oom_unkillable_task(const task_struct* p) {
  if (is_global_init(p)) return true;
  if (p->flags & PF_KTHREAD) return true;
  return false;
}

// mm/oom_kill.c: find_lock_task_mm. A thread of p's group that still has its mm.
task_struct* find_lock_task_mm(task_struct* p) {
  if (p->mm != nullptr) return p;
  for (const auto& [nr, t] : kst().pid_table)
    if (same_thread_group(t, p) && t->mm != nullptr) return t;
  return nullptr;
}

// kernel/signal.c: do_send_sig_info(SIGKILL, SEND_SIG_PRIV, p, PIDTYPE_TGID): every live
// thread of the group has a fatal signal pending. DEVIATION(oom_kill): recorded only.
void send_sigkill_tgid(task_struct* p) {
  for (const auto& [nr, t] : kst().pid_table) {
    if (!same_thread_group(t, p) || t->exit_state) continue;
    t->fatal_signal = true;
  }
  trace_event("signal_generate", "sig=%d code=%d addr=%#lx pid=%d comm=%s", SIGKILL, 0, 0UL,
              p->pid, p->comm);
}

// mm/oom_kill.c: task_will_free_mem, reduced: is the task's group already exiting
// with its mm (a victim from before, or a process on its way out)?
bool task_will_free_mem(task_struct* task) {
  mm_struct* mm = task->mm;
  if (mm == nullptr) return false;
  if (test_bit(MMF_OOM_SKIP, &mm->flags)) return false;
  return task->signal->group_exit || (task->flags & PF_EXITING);
}

// mm/oom_kill.c: mark_oom_victim. The group remembers its mm (for tsk_is_oom_victim and
// the reserves of __gfp_pfmemalloc_flags).
void mark_oom_victim(task_struct* tsk) {
  mm_struct* mm = tsk->mm;
  if (tsk->signal->oom_mm == nullptr) {
    tsk->signal->oom_mm = mm;
    mmgrab(mm);
    set_bit(MMF_OOM_VICTIM, &mm->flags);
  }
  trace_event("mark_victim", "pid=%d uid=%u", tsk->pid, __task_cred(tsk)->uid);
}

// mm/oom_kill.c: __oom_reap_task_mm. Unmap every private mapping: its pages belong to the
// victim alone (shared ones may still be in use elsewhere).
void __oom_reap_task_mm(mm_struct* mm) {
  for (vm_area_struct* vma = find_vma(mm, 0); vma != nullptr; vma = vma_next(mm, vma)) {
    if (vma->vm_flags & VM_PFNMAP) continue;  // (no VM_HUGETLB mappings exist here)
    if (vma_is_anonymous(vma) || !(vma->vm_flags & VM_SHARED)) {
      mmu_gather tlb;
      tlb_gather_mmu(&tlb, mm);
      unmap_page_range(&tlb, vma, vma->vm_start, vma->vm_end, nullptr);
      tlb_finish_mmu(&tlb);
    }
  }
}

// mm/oom_kill.c: oom_reap_task_mm.
bool oom_reap_task_mm(task_struct* tsk, mm_struct* mm) {
  if (!mmap_read_trylock(mm)) {
    trace_event("skip_task_reaping", "pid=%d", tsk->pid);
    return false;
  }
  if (!test_bit(MMF_OOM_SKIP, &mm->flags)) {
    trace_event("start_task_reaping", "pid=%d", tsk->pid);
    __oom_reap_task_mm(mm);
    pr_info("oom_reaper: reaped process %d (%s), now anon-rss:%lukB, file-rss:%lukB, shmem-rss:%lukB",
            tsk->pid, tsk->comm, get_mm_counter(mm, MM_ANONPAGES) << (PAGE_SHIFT - 10),
            get_mm_counter(mm, MM_FILEPAGES) << (PAGE_SHIFT - 10),
            get_mm_counter(mm, MM_SHMEMPAGES) << (PAGE_SHIFT - 10));
    trace_event("finish_task_reaping", "pid=%d", tsk->pid);
  }
  mmap_read_unlock(mm);
  return true;
}

// mm/oom_kill.c: oom_reap_task, run at once (DEVIATION(oom_kill): no reaper thread).
void oom_reap_task(task_struct* tsk) {
  mm_struct* mm = tsk->signal->oom_mm;
  oom_reap_task_mm(tsk, mm);
  // Reaped or not, the OOM killer may now look past this mm.
  set_bit(MMF_OOM_SKIP, &mm->flags);
}

// mm/oom_kill.c
int oom_evaluate_task(task_struct* task, oom_control* oc) {
  if (oom_unkillable_task(task)) return 0;
  // A victim still on its way out: wait for it rather than kill another.
  if (tsk_is_oom_victim(task)) {
    if (test_bit(MMF_OOM_SKIP, &task->signal->oom_mm->flags)) return 0;
    oc->chosen = kOomAbort;
    return 1;
  }
  long points = oom_badness(task, oc->totalpages);
  if (points == LONG_MIN || points < oc->chosen_points) return 0;
  if (oc->chosen != nullptr) put_task_struct(oc->chosen);
  get_task_struct(task);
  oc->chosen = task;
  oc->chosen_points = points;
  return 0;
}

// mm/oom_kill.c: select_bad_process. for_each_process: the group leaders.
void select_bad_process(oom_control* oc) {
  oc->chosen_points = LONG_MIN;
  for (const auto& [nr, p] : kst().pid_table) {
    if (p->pid != p->tgid || p->exit_state) continue;
    if (oom_evaluate_task(p, oc)) break;
  }
}

// mm/oom_kill.c: dump_header, its first line (no show_mem, no task dump).
void dump_header(oom_control* oc) {
  task_struct* tsk = current();
  pr_warn("%s invoked oom-killer: gfp_mask=%#x, order=%d, oom_score_adj=%d", tsk->comm,
          oc->gfp_mask, oc->order, tsk->signal->oom_score_adj);
}

// mm/oom_kill.c
void __oom_kill_process(task_struct* victim, const char* message) {
  task_struct* p = find_lock_task_mm(victim);
  if (p == nullptr) {
    pr_info("%s: OOM victim %d (%s) is already exiting. Skip killing the task", message,
            victim->pid, victim->comm);
    put_task_struct(victim);
    return;
  } else if (victim != p) {
    get_task_struct(p);
    put_task_struct(victim);
    victim = p;
  }
  mm_struct* mm = victim->mm;
  mmgrab(mm);
  count_vm_event(OOM_KILL);
  send_sigkill_tgid(victim);
  mark_oom_victim(victim);
  pr_err("%s: Killed process %d (%s) total-vm:%lukB, anon-rss:%lukB, file-rss:%lukB, "
         "shmem-rss:%lukB, UID:%u pgtables:%lukB oom_score_adj:%d",
         message, victim->pid, victim->comm, mm->total_vm << (PAGE_SHIFT - 10),
         get_mm_counter(mm, MM_ANONPAGES) << (PAGE_SHIFT - 10),
         get_mm_counter(mm, MM_FILEPAGES) << (PAGE_SHIFT - 10),
         get_mm_counter(mm, MM_SHMEMPAGES) << (PAGE_SHIFT - 10), __task_cred(victim)->uid,
         static_cast<unsigned long>(atomic_long_read(&mm->pgtables_bytes)) >> 10,
         victim->signal->oom_score_adj);
  // Every other process sharing the mm dies too (CLONE_VM without CLONE_THREAD).
  bool can_oom_reap = true;
  for (const auto& [nr, q] : kst().pid_table) {
    if (q->pid != q->tgid || q->mm != mm || same_thread_group(q, victim) || q->exit_state) continue;
    if (is_global_init(q)) {
      can_oom_reap = false;
      set_bit(MMF_OOM_SKIP, &mm->flags);
      pr_info("oom killer %d (%s) has init %d sharing victim's memory", victim->pid, victim->comm,
              q->pid);
      continue;
    }
    if (q->flags & PF_KTHREAD) continue;
    send_sigkill_tgid(q);
  }
  if (can_oom_reap) oom_reap_task(victim);  // queue_oom_reaper
  mmdrop(mm);
  put_task_struct(victim);
}

// mm/oom_kill.c
void oom_kill_process(oom_control* oc, const char* message) {
  task_struct* victim = oc->chosen;
  // Already dying: let it finish (and reap it), no new kill.
  if (task_will_free_mem(victim)) {
    mark_oom_victim(victim);
    oom_reap_task(victim);
    put_task_struct(victim);
    return;
  }
  dump_header(oc);
  pr_err("oom-kill:constraint=CONSTRAINT_NONE,task=%s,pid=%d,uid=%u", victim->comm, victim->pid,
         __task_cred(victim)->uid);
  __oom_kill_process(victim, message);
}

}  // namespace

// mm/oom_kill.c
long oom_badness(task_struct* p, unsigned long totalpages) {
  if (oom_unkillable_task(p)) return LONG_MIN;
  p = find_lock_task_mm(p);
  if (p == nullptr) return LONG_MIN;
  long adj = p->signal->oom_score_adj;
  if (adj == OOM_SCORE_ADJ_MIN || test_bit(MMF_OOM_SKIP, &p->mm->flags)) return LONG_MIN;
  long points = static_cast<long>(get_mm_rss(p->mm) + get_mm_counter(p->mm, MM_SWAPENTS)) +
                atomic_long_read(&p->mm->pgtables_bytes) / static_cast<long>(PAGE_SIZE);
  adj *= static_cast<long>(totalpages / 1000);
  points += adj;
  return points;
}

// mm/oom_kill.c
bool out_of_memory(oom_control* oc) {
  trace_call tc("out_of_memory", "gfp=%#x order=%d", oc->gfp_mask, oc->order);
  task_struct* tsk = current();
  // A task already on its way out gets the reserves instead of another victim.
  if (task_will_free_mem(tsk)) {
    mark_oom_victim(tsk);
    oom_reap_task(tsk);
    return tc.ret(true);
  }
  // Without __GFP_FS reclaim had few options; an OOM kill would be premature.
  if (!(oc->gfp_mask & __GFP_FS)) return tc.ret(true);
  oc->totalpages = totalram_pages() + kst().total_swap_pages;  // constrained_alloc
  oc->chosen = nullptr;
  select_bad_process(oc);
  if (oc->chosen == nullptr) {
    dump_header(oc);
    // DEVIATION(oom_kill): Linux panics here ("System is deadlocked on memory").
    pr_warn("Out of memory and no killable processes...");
    return tc.ret(false);
  }
  if (oc->chosen != kOomAbort) oom_kill_process(oc, "Out of memory");
  return tc.ret(true);
}

}  // namespace kernel
