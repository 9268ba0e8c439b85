// sim/sched/scheduler.h: the deterministic scheduler of a Machine's concurrent paths.
//
// Machine::Together hands the scheduler a list of calls. Each call becomes a path: a Fiber
// (sim/sched/fiber.h) that runs the call, whose kernel entries (Machine::Enter) run as the
// call's task on that task's CPU. Exactly one path executes at a time. Control changes
// hands only at decisions: when the running path reaches a kernel preemption point
// (kernel::sched_hooks::preempt_point), starts a kernel path, must wait
// (sched_hooks::wait), or finishes. At each decision the SchedulePolicy picks among the
// runnable paths; the pick departs from the default rule only where the policy wants it.
//
// A path is runnable when it has not finished, the condition it waits for (if any) holds
// now, its task is not inside another path's kernel entry, and its CPU is not held by
// another path with preemption disabled there (kst().preempt_count[cpu] > 0: a spinlock
// holder is never switched out on its CPU). Resuming a path puts its task back on its
// CPU if another path's task ran there meanwhile (a context switch, as schedule() does).
//
// IPIs: at every decision, every CPU with call-function IPIs queued handles them
// (kernel::generic_smp_call_function_single_interrupt, run with that CPU as
// smp_processor_id()): every path is at an interruptible point then, so this is "the
// target's next interruptible point". A CPU's stale TLB entries are usable until then.
//
// Kernel threads with a body (task_struct::threadfn: kswapd and the like) are daemon
// paths: the scheduler keeps one fiber per such thread for the machine's life, running
// threadfn(data) as that thread on its CPU. A daemon runs when it is runnable (created,
// or woken from its sleep) and takes part in every decision like any path; Run ends when
// every call has returned and no daemon can run (each sleeps), so daemons never keep a
// run alive and a sleeping daemon is not a deadlock.
//
// Deadlock: no path runnable while some calls have not returned. The scheduler writes a
// lockdep-style report (each waiting task, what it waits for, which tasks hold that lock
// per their held_locks) and returns to Together's caller; the waiting fibers are
// abandoned (never resumed).
#ifndef MMSIM_SIM_SCHED_SCHEDULER_H_
#define MMSIM_SIM_SCHED_SCHEDULER_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "mm/kernel.h"
#include "mm/sched_hooks.h"
#include "sim/sched/fiber.h"
#include "sim/sched/schedule.h"

namespace sim {

class Scheduler final : public kernel::sched_hooks {
 public:
  // switch_to(t, cpu) makes t current on cpu (Machine::SwitchTo). on_switch, if set, runs
  // at every decision that changes the running path (the --check hook; set_on_switch).
  Scheduler(kernel::kernel_state* ks, std::function<void(kernel::task_struct*, int)> switch_to,
            std::function<void()> on_switch);
  ~Scheduler() override;
  void set_on_switch(std::function<void()> on_switch) { on_switch_ = std::move(on_switch); }

  // Runs every call as a path, with the daemons, under `policy`, until all calls have
  // returned and no daemon can run (true) or no path can go on while a call has not
  // returned (false: deadlock_report() says why). Paths are numbered calls first (0..n-1),
  // then daemons by pid. REQUIRES: ks's kernel scope is installed; not reentered.
  bool Run(const std::vector<std::function<void()>>& calls, SchedulePolicy* policy);
  // Adds a daemon path for every live kernel thread with a body that has none yet.
  void SyncDaemons();
  // Whether some daemon has not returned from its body (for kthread_stop at shutdown).
  bool DaemonsLive() const;
  const std::string& deadlock_report() const { return deadlock_report_; }
  // After a deadlock: the stuck paths' fibers are abandoned (Fiber::Abandon), and this
  // Scheduler must then be kept alive for the rest of the program, never destroyed.
  void AbandonStuckPaths();
  uint64_t steps() const { return step_; }

  // ---- called by Machine::Enter on the running path ----
  // The running path enters the kernel (or a user access) as t on cpu (-1: t's CPU). A
  // decision point; on return t is current on that CPU and the path holds it.
  void BeginKernelPath(kernel::task_struct* t, int cpu);
  void EndKernelPath();
  // Machine::SwitchTo inside a path: the path goes on as t on cpu.
  void NoteSwitch(kernel::task_struct* t, int cpu);
  // The running path's "inside Enter as a task" flag (Machine's nested-path check).
  bool* InPathFlag();

  // ---- kernel::sched_hooks ----
  void preempt_point(kernel::sched_point_kind kind, const void* obj, const char* name) override;
  void wait(const void* obj, const char* name, bool (*cond)(const void*), const void* arg) override;
  void ipi_raised(int cpu) override;

 private:
  struct Path {
    int id = 0;
    std::unique_ptr<Fiber> fiber;
    std::function<void()> call;
    kernel::task_struct* task = nullptr;  // while in the kernel (BeginKernelPath..End)
    int cpu = -1;
    bool in_kernel = false;  // between BeginKernelPath and EndKernelPath
    bool owns = false;       // ... and past its start decision: it holds its CPU
    int cpl = 0;             // its CPU's privilege level when it was switched out
    bool in_path_flag = false;
    bool done = false;
    bool daemon = false;  // a kernel thread's body (kernel::task_struct::threadfn)
    kernel::task_struct* kthread = nullptr;
    // waiting
    bool (*cond)(const void*) = nullptr;
    const void* cond_arg = nullptr;
    const void* wait_obj = nullptr;
    const char* wait_name = nullptr;
  };

  bool Runnable(const Path& p) const;
  // The decision: picks the next path (which may be `running`) and switches to it.
  // `running` is the path at the point, or null when it cannot go on (done / waiting).
  void Decide(Path* running, kernel::sched_point_kind kind, const char* name);
  void DeliverIpis();
  // On the path just resumed: its CPU and task back in place.
  void Resume(Path* p);
  void SwitchFrom(Path* from, Path* to, bool finishing);
  void FiberMain(Path* p);
  void DaemonMain(Path* p);
  std::string DeadlockReport() const;

  kernel::kernel_state* ks_;
  SchedulePolicy* policy_;
  std::function<void(kernel::task_struct*, int)> switch_to_;
  std::function<void()> on_switch_;
  std::vector<std::unique_ptr<Path>> paths_;     // this run's calls
  std::vector<std::unique_ptr<Path>> daemons_;   // for the machine's life
  std::vector<Path*> order_;                     // this run's paths by id
  Path* running_ = nullptr;
  Fiber main_;
  uint64_t step_ = 0;
  bool deadlock_ = false;
  bool in_irq_ = false;        // delivering IPIs: points inside handlers are no decisions
  bool main_in_path_ = false;  // InPathFlag outside any path
  std::string deadlock_report_;
  std::vector<int> runnable_;  // scratch
};

}  // namespace sim

#endif  // MMSIM_SIM_SCHED_SCHEDULER_H_
