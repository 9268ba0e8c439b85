// mm/kernel/pid.cc: process ids and the pid namespace.
// Port of kernel/pid.c (alloc_pid, free_pid, find_task_by_vpid, find_get_task_by_vpid)
// at Linux 6.18.
//
// Deviations (grep "DEVIATION(pid)"):
//  - One pid namespace, init_pid_ns, and no struct pid: kst().pid_table maps a number to
//    the task it names (a thread id or a process id, one entry per task), from
//    alloc_pid() until release_task() unhashes it. Zombies keep their entry.
//  - The idr's cyclic allocation is done on that ordered map: the lowest free number at
//    or after the cursor (kst().last_pid + 1), wrapping to the minimum below pid_max.
#include "mm/kernel.h"
#include "mm/kernel/task.h"
#include "mm/sched.h"
#include "mm/trace.h"

namespace kernel {
namespace {

// The lowest unused number in [from, to), or 0.
pid_t first_free_in(pid_t from, pid_t to) {
  const auto& table = kst().pid_table;
  pid_t nr = from;
  for (auto it = table.lower_bound(from); it != table.end() && nr < to; ++it) {
    if (it->first != nr) break;
    ++nr;
  }
  return nr < to ? nr : 0;
}

}  // namespace

// kernel/pid.c: alloc_pid, the idr_alloc_cyclic part.
pid_t alloc_pid(task_struct* task) {
  kernel_state& ks = kst();
  const pid_t pid_max = ks.pid_max;
  // Once the cursor has passed RESERVED_PIDS, the low numbers stay reserved for daemons.
  pid_t pid_min = ks.last_pid + 1 > RESERVED_PIDS ? RESERVED_PIDS : 1;
  pid_t cursor = ks.last_pid + 1;
  if (cursor < pid_min || cursor >= pid_max) cursor = pid_min;
  pid_t nr = first_free_in(cursor, pid_max);
  if (nr == 0 && cursor > pid_min) nr = first_free_in(pid_min, cursor);
  if (nr == 0) return -EAGAIN;
  ks.last_pid = nr;
  ks.pid_table.emplace(nr, task);
  trace_event("alloc_pid", "pid=%d", nr);
  return nr;
}

// kernel/pid.c: detach_pid / free_pid.
void detach_pid(pid_t nr) {
  size_t erased = kst().pid_table.erase(nr);
  WARN_ON(erased != 1);
}

// kernel/pid.c: find_task_by_pid_ns in the only namespace. A pid or a thread id.
task_struct* find_task_by_vpid(pid_t nr) {
  if (nr <= 0) return nullptr;
  const auto& table = kst().pid_table;
  auto it = table.find(nr);
  return it == table.end() ? nullptr : it->second;
}

// kernel/pid.c
task_struct* find_get_task_by_vpid(pid_t nr) {
  task_struct* task = find_task_by_vpid(nr);
  if (task != nullptr) get_task_struct(task);
  return task;
}

// kernel/pid.c: init_pid_ns.child_reaper.
task_struct* child_reaper() { return kst().child_reaper; }

}  // namespace kernel
