// mm/lockdep.h: which locks each task holds (include/linux/lockdep.h, kernel/locking/
// lockdep.c at Linux 6.18, reduced to the held-lock stack).
//
// DEVIATION(lockdep): no lock classes, no dependency graph, no validation of lock order.
// What is kept is lockdep's per-task record, task_struct::held_locks[lockdep_depth]
// (mm/sched.h): every acquire pushes {instance, name, read} once the lock is taken and
// every release removes that entry wherever it sits (locks need not be released in the
// reverse order of taking them), so that sim/'s deadlock report can name who holds what.
// The folio lock is recorded too (Linux has no lockdep map for PG_locked). A task that
// waits for a lock does not list it here; the scheduler records what it waits for.
// Releasing a lock this task does not hold is a BUG (lockdep's "bad unlock balance").
//
// DEVIATION(lockdep): like CONFIG_DEBUG_LOCK_ALLOC, the stack is debug machinery. It is
// kept in every build without NDEBUG (the tests, the sanitizer builds) and, under -c opt,
// only while a scheduler runs paths (kst().sched set: its deadlock report reads it). A
// single-path opt run (benchmarks, the CLI without `together`) skips it for one branch per
// lock. A scheduler is installed only between paths (sim/sched: Scheduler::Run), when no
// task holds a lock, so every hold it sees was recorded.
#ifndef MMSIM_MM_LOCKDEP_H_
#define MMSIM_MM_LOCKDEP_H_

#include "mm/kernel.h"
#include "mm/sched_hooks.h"

namespace kernel {

// Whether acquires and releases are recorded now (see the banner).
inline bool lockdep_recording() { return !sched_single_path(); }

// kernel/locking/lockdep.c: lock_acquire, the bookkeeping half. Inline: the page-table
// lock is taken per page on GUP's and the fault's paths. `read`: 1 for a shared hold.
inline void lock_acquire(const void* lock, const char* name, int read) {
  if (!lockdep_recording()) return;
  task_struct* curr = current();
  if (curr == nullptr) return;  // early boot: no task yet
  const int depth = curr->lockdep_depth;
  BUG_ON(depth >= MAX_LOCK_DEPTH);  // "BUG: MAX_LOCK_DEPTH too low!"
  held_lock* hlock = &curr->held_locks[depth];
  hlock->instance = lock;
  hlock->name = name;
  hlock->read = static_cast<unsigned char>(read);
  curr->lockdep_depth = depth + 1;
}

// kernel/locking/lockdep.c: __lock_release for an entry below the top (the slow path).
void __lock_release(task_struct* curr, const void* lock);

// kernel/locking/lockdep.c: lock_release. The top entry is the usual case.
inline void lock_release(const void* lock) {
  if (!lockdep_recording()) return;
  task_struct* curr = current();
  if (curr == nullptr) return;
  const int depth = curr->lockdep_depth;
  if (likely(depth > 0 && curr->held_locks[depth - 1].instance == lock)) {
    curr->lockdep_depth = depth - 1;
    return;
  }
  __lock_release(curr, lock);
}

// kernel/sched/core.c: __might_sleep's check (CONFIG_DEBUG_ATOMIC_SLEEP, on in debug
// builds): a lock that may sleep must not be taken with preemption disabled (a spinlock
// held), where a real kernel could deadlock its CPU.
inline void __might_sleep(const char* file, int line) {
#ifndef NDEBUG
  if (unlikely(preempt_count() != 0))
    kernel_bug(file, line, "sleeping function called from invalid context");
#else
  (void)file;
  (void)line;
#endif
}
#define might_sleep() ::kernel::__might_sleep(__FILE__, __LINE__)

// DEVIATION(lockdep): of lockdep's validation, debug builds check one piece: the order of
// the sleeping locks in mm/rmap.c's header comment (Linux 6.18), mmap_lock, then
// i_mmap_rwsem, then anon_vma->rwsem (the spinlocks below them are __might_sleep's). A
// blocking acquire of one of them (by class name) while current holds one that must nest
// inside it is a BUG naming both; trylocks cannot deadlock and are not checked. Called by
// the rwsem entry points' full paths.
void lock_order_check(const char* name);

// include/linux/lockdep.h: lockdep_depth(tsk).
inline int lockdep_depth(const task_struct* tsk) { return tsk->lockdep_depth; }
// lockdep_is_held(lock): current holds it (in any mode).
bool lockdep_is_held(const void* lock);

}  // namespace kernel

#endif  // MMSIM_MM_LOCKDEP_H_
