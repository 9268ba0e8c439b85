// sim/sched/scheduler.cc: see scheduler.h.
#include "sim/sched/scheduler.h"

#include <cstdio>
#include <cstdlib>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "mm/sched.h"
#include "mm/smp.h"

namespace sim {

Scheduler::Scheduler(kernel::kernel_state* ks,
                     std::function<void(kernel::task_struct*, int)> switch_to,
                     std::function<void()> on_switch)
    : ks_(ks), switch_to_(std::move(switch_to)), on_switch_(std::move(on_switch)) {}

Scheduler::~Scheduler() {
  if (ks_->sched == this) ks_->sched = nullptr;
}

void Scheduler::SyncDaemons() {
  for (const auto& [nr, t] : ks_->pid_table) {
    if (!(t->flags & kernel::PF_KTHREAD) || t->threadfn == nullptr || t->exit_state != 0) continue;
    bool known = false;
    for (const auto& d : daemons_) known |= d->kthread == t;
    if (known) continue;
    auto p = std::make_unique<Path>();
    p->daemon = true;
    p->kthread = t;
    Path* raw = p.get();
    p->fiber = std::make_unique<Fiber>([this, raw] { DaemonMain(raw); });
    daemons_.push_back(std::move(p));
  }
}

bool Scheduler::DaemonsLive() const {
  for (const auto& d : daemons_)
    if (!d->done) return true;
  return false;
}

bool Scheduler::Run(const std::vector<std::function<void()>>& calls, SchedulePolicy* policy) {
  const int saved_cpu = ks_->this_cpu;
  policy_ = policy;
  step_ = 0;
  deadlock_ = false;
  deadlock_report_.clear();
  paths_.clear();
  order_.clear();
  for (size_t i = 0; i < calls.size(); ++i) {
    auto p = std::make_unique<Path>();
    p->call = calls[i];
    Path* raw = p.get();
    p->fiber = std::make_unique<Fiber>([this, raw] { FiberMain(raw); });
    paths_.push_back(std::move(p));
    order_.push_back(raw);
  }
  for (auto& d : daemons_) order_.push_back(d.get());
  for (size_t i = 0; i < order_.size(); ++i) order_[i]->id = static_cast<int>(i);
  ks_->sched = this;
  Decide(nullptr, kernel::SCHED_POINT_PATH_START, "start");
  ks_->sched = nullptr;
  ks_->this_cpu = saved_cpu;
  if (deadlock_) {
    // The stuck calls never return: the caller keeps this scheduler (and them) forever.
    return false;
  }
  paths_.clear();  // every call's fiber finished
  return true;
}

void Scheduler::AbandonStuckPaths() {
  for (auto& p : paths_)
    if (!p->done) p->fiber->Abandon();
  for (auto& p : daemons_)
    if (!p->done) p->fiber->Abandon();
}

void Scheduler::FiberMain(Path* p) {
  p->call();
  p->done = true;
  Decide(nullptr, kernel::SCHED_POINT_PATH_START, "exit");
  std::abort();  // a finished path is never chosen
}

void Scheduler::DaemonMain(Path* p) {
  kernel::task_struct* t = p->kthread;
  BeginKernelPath(t, static_cast<int>(t->cpu));
  t->threadfn(t->threadfn_data);
  // The body returned (kthread_stop): the thread stays a live kernel thread with nothing
  // to run until the machine's shutdown exits it.
  EndKernelPath();
  p->done = true;
  Decide(nullptr, kernel::SCHED_POINT_PATH_START, "exit");
  std::abort();
}

bool Scheduler::Runnable(const Path& p) const {
  if (p.done) return false;
  if (p.cond != nullptr && !p.cond(p.cond_arg)) return false;
  if (!p.in_kernel) return true;
  for (const Path* q : order_) {
    // One task executes one path at a time.
    if (q != &p && q->in_kernel && q->owns && q->task == p.task) return false;
  }
  // A CPU with preemption disabled keeps its task.
  const int cpu = p.cpu;
  if (ks_->preempt_count[cpu] > 0 && ks_->current_task[cpu] != p.task) return false;
  return true;
}

void Scheduler::DeliverIpis() {
  const int ncpus = static_cast<int>(ks_->cpus.size());
  for (int cpu = 0; cpu < ncpus; ++cpu) {
    if (!kernel::cpu_ipi_pending(cpu)) continue;
    const int saved = ks_->this_cpu;
    in_irq_ = true;
    ks_->this_cpu = cpu;
    kernel::generic_smp_call_function_single_interrupt();
    ks_->this_cpu = saved;
    in_irq_ = false;
  }
}

void Scheduler::Decide(Path* running, kernel::sched_point_kind kind, const char* name) {
  DeliverIpis();
  runnable_.clear();
  bool all_done = true;  // every call returned (daemons do not count)
  for (Path* p : order_) {
    if (!p->done && !p->daemon) all_done = false;
    if (Runnable(*p)) runnable_.push_back(p->id);
  }
  Path* next = nullptr;
  if (runnable_.empty() && running_ == nullptr) return;  // from Run: nothing to do
  if (runnable_.empty()) {
    if (!all_done) {
      deadlock_ = true;
      deadlock_report_ = DeadlockReport();
    }
  } else {
    Decision d;
    d.step = step_++;
    d.running = running != nullptr ? running->id : -1;
    d.runnable = runnable_;
    d.kind = kind;
    d.name = name != nullptr ? name : "";
    int choice = policy_->Choose(d);
    if (choice < 0 || choice >= static_cast<int>(order_.size()) || !Runnable(*order_[choice]))
      choice = DefaultChoice(d);
    next = order_[choice];
    if (next == running_) return;  // it goes on
    if (on_switch_) on_switch_();
  }
  Path* from = running_;
  SwitchFrom(from, next, from != nullptr && from->done);
}

void Scheduler::SwitchFrom(Path* from, Path* to, bool finishing) {
  if (from != nullptr && from->in_kernel && from->owns)
    from->cpl = ks_->cpus[from->cpu]->cpl();
  running_ = to;
  Fiber* f = from != nullptr ? from->fiber.get() : &main_;
  Fiber* t = to != nullptr ? to->fiber.get() : &main_;
  if (finishing) f->Finish(t);
  f->SwitchTo(t);
  if (from != nullptr) Resume(from);
}

void Scheduler::Resume(Path* p) {
  p->cond = nullptr;
  if (!p->in_kernel || !p->owns) return;
  ks_->this_cpu = p->cpu;
  if (ks_->current_task[p->cpu] != p->task) switch_to_(p->task, p->cpu);
  ks_->cpus[p->cpu]->SetCpl(p->cpl);
}

void Scheduler::BeginKernelPath(kernel::task_struct* t, int cpu) {
  Path* p = running_;
  if (cpu < 0) cpu = t->on_cpu >= 0 ? t->on_cpu : static_cast<int>(t->cpu);
  p->task = t;
  p->cpu = cpu;
  p->in_kernel = true;
  p->owns = false;
  Decide(p, kernel::SCHED_POINT_PATH_START, t->comm);
  p->owns = true;
  switch_to_(t, cpu);
  p->cpl = 0;
}

void Scheduler::EndKernelPath() {
  Path* p = running_;
  if (p == nullptr) return;
  p->in_kernel = false;
  p->owns = false;
}

void Scheduler::NoteSwitch(kernel::task_struct* t, int cpu) {
  Path* p = running_;
  if (p == nullptr || !p->owns) return;
  p->task = t;
  p->cpu = cpu;
}

bool* Scheduler::InPathFlag() { return running_ != nullptr ? &running_->in_path_flag : &main_in_path_; }

void Scheduler::preempt_point(kernel::sched_point_kind kind, const void* /*obj*/,
                              const char* name) {
  if (in_irq_ || running_ == nullptr) return;
  Decide(running_, kind, name);
}

void Scheduler::wait(const void* obj, const char* name, bool (*cond)(const void*),
                     const void* arg) {
  Path* p = running_;
  if (in_irq_ || p == nullptr) {
    std::fprintf(stderr, "mmsim: kernel wait for %s outside a path (in an interrupt?)\n", name);
    std::abort();
  }
  p->cond = cond;
  p->cond_arg = arg;
  p->wait_obj = obj;
  p->wait_name = name;
  Decide(nullptr, kernel::SCHED_POINT_LOCK, name);
  // Chosen only once cond(arg) held.
  p->wait_obj = nullptr;
  p->wait_name = nullptr;
}

void Scheduler::ipi_raised(int /*cpu*/) {
  // Nothing to do now: the csd is on the CPU's queue, and the next decision delivers it.
}

std::string Scheduler::DeadlockReport() const {
  std::string out = "deadlock: no path can go on\n";
  for (const Path* p : order_) {
    if (p->done) continue;
    const kernel::task_struct* t = p->task;
    if (t == nullptr) {
      absl::StrAppendFormat(&out, "  path %d: not in the kernel\n", p->id);
      continue;
    }
    absl::StrAppendFormat(&out, "  path %d: task %d (%s) on CPU %d", p->id, t->pid, t->comm,
                          p->cpu);
    if (p->wait_obj != nullptr) {
      absl::StrAppendFormat(&out, " waits for %s", p->wait_name);
      std::string holders;
      for (const Path* q : order_) {
        const kernel::task_struct* h = q->task;
        if (h == nullptr || q->done) continue;
        for (int i = 0; i < h->lockdep_depth; ++i) {
          if (h->held_locks[i].instance != p->wait_obj) continue;
          absl::StrAppendFormat(&holders, "%s task %d (%s, %s)", holders.empty() ? "" : ",",
                                h->pid, h->comm, h->held_locks[i].read ? "read" : "write");
        }
      }
      absl::StrAppendFormat(&out, ", held by%s", holders.empty() ? " no path" : holders);
    } else {
      absl::StrAppend(&out, " cannot run (its CPU or task is held by a waiting path)");
    }
    absl::StrAppend(&out, "\n");
    for (int i = 0; i < t->lockdep_depth; ++i)
      absl::StrAppendFormat(&out, "    holds %s (%s)\n", t->held_locks[i].name,
                            t->held_locks[i].read ? "read" : "write");
  }
  return out;
}

}  // namespace sim
