// mm/kernel/kthread.cc: kernel threads with a body.
//
// Port of kernel/kthread.c's kthread_run (kthread_create + wake_up_process) and
// kthread_should_stop at Linux 6.18. DEVIATION(kthread): kthreadd does not run a request
// queue; the creating path makes kthreadd current for the clone (see task.h). The body
// runs as the thread's path under sim/'s scheduler (task_struct::threadfn).
#include "mm/kernel/task.h"
#include "mm/mm.h"
#include "mm/trace.h"

namespace kernel {

// kernel/kthread.c
task_struct* kthread_run(int (*threadfn)(void* data), void* data, const char* name) {
  task_struct* kthreadd = find_task_by_vpid(2);
  if (kthreadd == nullptr || !(kthreadd->flags & PF_KTHREAD)) return ERR_PTR<task_struct>(-ESRCH);
  task_struct* self = current();
  const bool switch_tasks = self != kthreadd;
  if (switch_tasks) {
    self->on_cpu = -1;  // kthreadd borrows this CPU for the clone
    kst().current_task[smp_processor_id()] = kthreadd;
    kthreadd->on_cpu = smp_processor_id();
  }
  pid_t pid = kernel_thread(threadfn, data, name, CLONE_FS | CLONE_FILES | SIGCHLD);
  if (switch_tasks) {
    kthreadd->on_cpu = -1;
    kst().current_task[smp_processor_id()] = self;
    self->on_cpu = smp_processor_id();
  }
  if (pid < 0) return ERR_PTR<task_struct>(pid);
  task_struct* t = find_task_by_vpid(pid);
  trace_event("kthread_run", "pid=%d comm=%s", pid, t->comm);
  // wake_up_process(t): its first run is the scheduler's.
  kst().kthread_wakeups_pending = true;
  return t;
}

// kernel/kthread.c
bool kthread_should_stop() { return current()->kthread_should_stop; }

// kernel/kthread.c: kthread_stop, up to the wait.
void kthread_stop_request(task_struct* k) {
  k->kthread_should_stop = true;
  kst().kthread_wakeups_pending = true;  // wake_up_process(k)
}

}  // namespace kernel
