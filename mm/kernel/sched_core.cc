// mm/kernel/sched_core.cc: putting a task on a CPU, and the scheduler hooks' wait.
// Port of the context_switch part of kernel/sched/core.c (context_switch,
// finish_task_switch's bookkeeping) at Linux 6.18.
//
// Deviations (grep "DEVIATION(sched_core)"):
//  - There is no run queue and no scheduling policy: sim/ says which task runs where.
//  - No lazy-TLB mm reference for kernel threads: switching to a task without an mm
//    leaves CR3 as it was (the "borrowed" mm), and no mm_count is taken; exit_mmap's
//    tlb_mm_teardown (mm/arch/x86/tlb.h) moves CPUs off an address space that dies.
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
  if (next->mm != nullptr)
    switch_mm_irqs_off(prev != nullptr ? prev->active_mm : nullptr, next->mm, next);
  if (prev != nullptr) prev->on_cpu = -1;
  next->on_cpu = cpu;
  next->cpu = static_cast<unsigned int>(cpu);  // __set_task_cpu
  kst().current_task[cpu] = next;
}

// DEVIATION(sched_hooks): see mm/sched_hooks.h.
void sched_wait(const void* obj, const char* name, bool (*cond)(const void* arg),
                const void* arg) {
  if (cond(arg)) return;
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
