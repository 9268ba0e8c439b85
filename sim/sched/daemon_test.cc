// Kernel threads with a body (kthread_run) as daemon paths of the scheduler: a woken
// thread runs when the kernel entry that woke it ends, takes part in Together's
// decisions, and is stopped (kthread_stop) when the machine is destroyed.
#include <functional>
#include <memory>
#include <vector>

#include "gtest/gtest.h"
#include "mm/kernel/task.h"
#include "mm/mm.h"
#include "mm/sched_hooks.h"
#include "sim/machine.h"

namespace sim {
namespace {

// The thread's world: work posted by others, what it did, and whether it returned.
struct Worker {
  int posted = 0;
  int done = 0;
  int wakeups = 0;
  bool returned = false;
};

bool HasWork(const void* arg) {
  const Worker* w = static_cast<const Worker*>(arg);
  return w->posted > w->done || kernel::kthread_should_stop();
}

int WorkerMain(void* data) {
  Worker* w = static_cast<Worker*>(data);
  while (!kernel::kthread_should_stop()) {
    kernel::sched_wait(w, "worker_wait", HasWork, w);
    ++w->wakeups;
    while (w->done < w->posted) {
      ++w->done;
      kernel::cond_resched();
    }
  }
  w->returned = true;
  return 0;
}

// Posts n items and wakes the worker, as a task's kernel code would.
void Post(Worker* w, int n) {
  w->posted += n;
  kernel::kst().kthread_wakeups_pending = true;  // wake_up_process(worker)
}

std::unique_ptr<Machine> Boot() {
  MachineConfig config;
  config.memory_bytes = 4ull << 20;
  config.cpus = 2;
  return std::move(*Machine::Create(config));
}

TEST(DaemonTest, AWokenThreadRunsWhenTheEntryThatWokeItEnds) {
  Worker w;
  {
    std::unique_ptr<Machine> m = Boot();
    const int p = *m->CreateProcess("poster", ProcessCreds{});
    int worker_pid = 0;
    ASSERT_TRUE(m->RunInKernel(p, [&] {
                   kernel::task_struct* t = kernel::kthread_run(WorkerMain, &w, "worker");
                   worker_pid = t->pid;
                   EXPECT_EQ(w.wakeups, 0);  // not yet: the creating path still runs
                 }).ok());
    EXPECT_EQ(w.wakeups, 0);  // it ran until its first sleep: nothing to do yet
    kernel::task_struct* t = m->FindTask(worker_pid);
    ASSERT_NE(t, nullptr);
    EXPECT_TRUE(t->flags & kernel::PF_KTHREAD);
    EXPECT_STREQ(t->comm, "worker");
    EXPECT_EQ(t->real_parent->pid, 2);  // kthreadd's child

    ASSERT_TRUE(m->RunInKernel(p, [&] {
                   Post(&w, 3);
                   EXPECT_EQ(w.done, 0);  // the poster is still in the kernel
                 }).ok());
    EXPECT_EQ(w.done, 3);
    EXPECT_EQ(w.wakeups, 1);
    EXPECT_FALSE(w.returned);
  }
  EXPECT_TRUE(w.returned);  // the machine's shutdown stopped it
}

TEST(DaemonTest, InTogetherTheThreadIsAPathOfTheSchedule) {
  Worker w;
  std::unique_ptr<Machine> m = Boot();
  const int p = *m->CreateProcess("poster", ProcessCreds{});
  const int q = *m->CreateProcess("other", ProcessCreds{});
  m->Schedule(q, 1);
  ASSERT_TRUE(m->RunInKernel(p, [&] { kernel::kthread_run(WorkerMain, &w, "worker"); }).ok());
  // The poster posts two items and goes on for a while; with every path runnable at
  // every point, the worker can run before or after the rest of the poster's path.
  int seen_done_before_end = -1;
  std::vector<std::function<void()>> calls = {
      [&] {
        (void)m->RunInKernel(p, [&] {
          Post(&w, 2);
          kernel::cond_resched();
          kernel::cond_resched();
          seen_done_before_end = w.done;
        });
      },
      [&] { (void)m->RunInKernel(q, [] { kernel::cond_resched(); }); },
  };
  DefaultPolicy def;
  absl::StatusOr<Machine::TogetherResult> r = m->Together(calls, &def);
  ASSERT_TRUE(r.ok());
  EXPECT_FALSE(r->deadlock);
  EXPECT_EQ(seen_done_before_end, 0);  // default: the poster runs on, the worker after
  EXPECT_EQ(w.done, 2);                // ... but the run does not end before the worker sleeps

  // A schedule that switches to the worker (path 2: after the two calls) at the poster's
  // first point lets it finish the work inside the poster's path.
  bool found = false;
  for (uint64_t seed = 0; seed < 64 && !found; ++seed) {
    RandomPolicy pol(seed);
    seen_done_before_end = -1;
    r = m->Together(calls, &pol);
    ASSERT_TRUE(r.ok());
    found = seen_done_before_end == w.posted;
  }
  EXPECT_TRUE(found) << "no schedule ran the worker inside the poster's path";
}

}  // namespace
}  // namespace sim
