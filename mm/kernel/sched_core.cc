// mm/kernel/sched_core.cc: putting a task on a CPU, and the scheduler hooks' wait.
// Port of the context_switch part of kernel/sched/core.c (context_switch, with its
// lazy-TLB active_mm handling, and finish_task_switch's mmdrop of a borrowed mm) and
// idle_task_exit at Linux 6.18.
//
// Deviations (grep "DEVIATION(sched_core)"):
//  - There is no run queue and no scheduling policy: sim/ says which task runs where.
//    rq->prev_mm is a local of context_switch (the switch never leaves this function).
#include "mm/arch/x86/pkeys.h"
#include "mm/arch/x86/tlb.h"
#include "mm/kernel/task.h"
#include "mm/mm.h"
#include "mm/sched_hooks.h"
#include "mm/trace.h"

namespace kernel {

// kernel/sched/core.c
void context_switch(task_struct* next) {
  const int cpu = smp_processor_id();
  task_struct* prev = kst().current_task[cpu];
  if (prev == next) return;
  BUG_ON(next == nullptr);
  BUG_ON(next->on_cpu >= 0);  // running on another CPU
  BUG_ON(next->exit_state != 0);
  trace_event("sched_switch", "cpu=%d prev_pid=%d next_pid=%d next_comm=%s", cpu,
              prev != nullptr ? prev->pid : -1, next->pid, next->comm);
  BUG_ON(prev == nullptr);
  mm_struct* prev_mm = nullptr;  // rq->prev_mm
  // kernel -> kernel: lazy, active_mm handed over
  //   user -> kernel: lazy, active_mm grabbed (mmgrab_lazy_tlb)
  // kernel ->   user: switch, the borrowed active_mm dropped after the switch
  //   user ->   user: switch
  if (next->mm == nullptr) {
    enter_lazy_tlb(prev->active_mm, next);
    next->active_mm = prev->active_mm;
    if (prev->mm != nullptr)
      mmgrab_lazy_tlb(prev->active_mm);
    else
      prev->active_mm = nullptr;
  } else {
    switch_mm_irqs_off(prev->active_mm, next->mm, next);
    if (prev->mm == nullptr) {
      prev_mm = prev->active_mm;  // mmdrop_lazy_tlb'd in finish_task_switch
      prev->active_mm = nullptr;
    }
  }
  // switch_to -> __switch_to: the next task's protection-key rights.
  x86_pkru_load(prev, next);
  prev->on_cpu = -1;
  next->on_cpu = cpu;
  next->cpu = static_cast<unsigned int>(cpu);  // __set_task_cpu
  kst().current_task[cpu] = next;
  // finish_task_switch
  if (prev_mm != nullptr) mmdrop_lazy_tlb(prev_mm);  // mmdrop_lazy_tlb_sched
}

// kernel/sched/core.c: the idle task of a CPU going offline gives up a borrowed mm, so
// that no CPU still runs on its tables (kernel_shutdown's CPUs; finish_cpu, below, drops
// the reference).
void idle_task_exit() {
  task_struct* cur = current();
  mm_struct* mm = cur->active_mm;
  BUG_ON(cur != idle_task(smp_processor_id()));
  if (mm != &kst().init_mm) switch_mm(mm, &kst().init_mm, cur);
}

// kernel/cpu.c: finish_cpu, on another CPU once `cpu` is down: the reference its idle
// task's active_mm held (init_mm's from boot, or a borrowed mm's) goes.
void finish_cpu(int cpu) {
  task_struct* idle = idle_task(cpu);
  mm_struct* mm = idle->active_mm;
  idle->active_mm = nullptr;
  mmdrop_lazy_tlb(mm);
}

// DEVIATION(sched_hooks): see mm/sched_hooks.h.
void sched_wait(const void* obj, const char* name, bool (*cond)(const void* arg),
                const void* arg) {
  if (cond(arg)) return;
  // Sleeping inside rcu_read_lock (mm/sched_hooks.h) is a bug, as in Linux.
  if (kst().rcu_read_lock_nesting != 0)
    kernel_bug(__FILE__, __LINE__, "sleeping in an RCU read-side section");
  if (kst().sched != nullptr) {
    kst().sched->wait(obj, name, cond, arg);
    return;
  }
  // Nobody else runs: the wait would never end.
  kernel_bug(__FILE__, __LINE__, name);
}

const char* sched_point_name(sched_point_kind kind) {
  static const char* const kNames[SCHED_POINT_NR] = {
      "lock", "unlock", "copy_page", "fault", "gup_batch", "ipi", "cond_resched", "user",
      "path_start"};
  return kind < SCHED_POINT_NR ? kNames[kind] : "?";
}

}  // namespace kernel
