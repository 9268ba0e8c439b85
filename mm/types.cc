// mm/types.cc: the reader/writer semaphore, the spinlock's contended path and lockdep's
// held-lock stack.
//
// Port of kernel/locking/rwsem.c (the !CONFIG_PREEMPT_RT half), the wake_q and
// try_to_wake_up parts of kernel/sched/core.c, and lock_acquire/lock_release of
// kernel/locking/lockdep.c at Linux 6.18. Deviations: mm/rwsem.h (DEVIATION(rwsem)),
// mm/lockdep.h (DEVIATION(lockdep)), mm/spinlock.h (DEVIATION(spinlock)).
//
// Simulated paths interleave only at preemption points (mm/sched_hooks.h), so the
// atomics are plain arithmetic: no other path can run inside one of these functions
// except where it sleeps (schedule) or spins (spin_lock_contended).
#include "mm/types.h"

#include <cstdio>
#include <cstring>

#include "mm/kernel.h"
#include "mm/lockdep.h"
#include "mm/rwsem.h"
#include "mm/sched_hooks.h"
#include "mm/spinlock.h"

namespace kernel {

// ---- lockdep (kernel/locking/lockdep.c) ----

// kernel/locking/lockdep.c: __lock_release. The entry may sit below others: take it
// out and close the gap (lockdep rebuilds the stack above it the same way).
void __lock_release(task_struct* curr, const void* lock) {
  for (int i = curr->lockdep_depth - 1; i >= 0; --i) {
    if (curr->held_locks[i].instance != lock) continue;
    for (int j = i; j + 1 < curr->lockdep_depth; ++j)
      curr->held_locks[j] = curr->held_locks[j + 1];
    --curr->lockdep_depth;
    return;
  }
  kernel_bug(__FILE__, __LINE__, "bad unlock balance: releasing a lock current does not hold");
}

namespace {
// The rank of a lock class in mm/rmap.c's order (0: not ranked).
int lock_order_rank(const char* name) {
  static constexpr const char* kOrder[] = {"mmap_lock", "i_mmap_rwsem", "anon_vma->rwsem"};
  for (int i = 0; i < 3; ++i)
    if (std::strcmp(name, kOrder[i]) == 0) return i + 1;
  return 0;
}
}  // namespace

// mm/lockdep.h
void lock_order_check(const char* name) {
  const int rank = lock_order_rank(name);
  const task_struct* curr = current();
  if (rank == 0 || curr == nullptr) return;
  for (int i = 0; i < curr->lockdep_depth; ++i) {
    const char* held = curr->held_locks[i].name;
    if (lock_order_rank(held) <= rank) continue;
    static char msg[200];
    std::snprintf(msg, sizeof(msg),
                  "lock order: taking %s while holding %s (mm/rmap.c: mmap_lock -> "
                  "i_mmap_rwsem -> anon_vma->rwsem)",
                  name, held);
    kernel_bug(__FILE__, __LINE__, msg);
  }
}

// kernel/locking/lockdep.c
bool lockdep_is_held(const void* lock) {
  const task_struct* curr = current();
  if (curr == nullptr) return false;
  for (int i = 0; i < curr->lockdep_depth; ++i)
    if (curr->held_locks[i].instance == lock) return true;
  return false;
}

// kernel/locking/lockdep.c: lock_downgrade. The write hold becomes a read hold.
static void lock_downgrade(const void* lock) {
  if (!lockdep_recording()) return;
  task_struct* curr = current();
  if (curr == nullptr) return;
  for (int i = curr->lockdep_depth - 1; i >= 0; --i) {
    if (curr->held_locks[i].instance != lock) continue;
    curr->held_locks[i].read = 1;
    return;
  }
  kernel_bug(__FILE__, __LINE__, "lock_downgrade: current does not hold the lock");
}

// ---- spinlocks (include/linux/spinlock.h) ----

// kernel/locking/spinlock_debug.c: do_raw_spin_lock's spin, once the lock was found taken.
void spin_lock_contended(spinlock_t* lock) {
  sched_wait(lock, spin_lock_name(lock), spin_is_unlocked, lock);
}

// ---- wakeups (include/linux/sched/wake_q.h, kernel/sched/core.c) ----

// kernel/sched/core.c: __wake_q_add. False if the task is already queued.
static bool __wake_q_add(wake_q_head* head, task_struct* task) {
  wake_q_node* node = &task->wake_q;
  if (node->next != nullptr) return false;  // cmpxchg(&node->next, NULL, WAKE_Q_TAIL)
  node->next = WAKE_Q_TAIL;
  *head->lastp = node;
  head->lastp = &node->next;
  return true;
}

// kernel/sched/core.c
void wake_q_add(wake_q_head* head, task_struct* task) {
  if (__wake_q_add(head, task)) get_task_struct(task);
}

// kernel/sched/core.c
void wake_q_add_safe(wake_q_head* head, task_struct* task) {
  if (!__wake_q_add(head, task)) put_task_struct(task);
}

// kernel/sched/core.c: try_to_wake_up, reduced to the state change (there is no run
// queue: sim/'s scheduler sees the state in the sleeper's sched_wait condition).
int wake_up_process(task_struct* p) {
  if (p->__state == TASK_RUNNING) return 0;
  p->__state = TASK_RUNNING;
  // Outside a scheduler run, a woken kernel thread runs when this kernel entry ends.
  if (kst().sched == nullptr) kst().kthread_wakeups_pending = true;
  return 1;
}

// kernel/sched/core.c
void wake_up_q(wake_q_head* head) {
  wake_q_node* node = head->first;
  while (node != WAKE_Q_TAIL) {
    task_struct* task = list_entry(node, task_struct, wake_q);
    node = node->next;
    task->wake_q.next = nullptr;
    wake_up_process(task);
    put_task_struct(task);
  }
}

namespace {

// include/linux/sched.h: set_current_state / __set_current_state.
void set_current_state(unsigned int state) { current()->__state = state; }

// The sleeper's wait condition: woken, or a signal ends the sleep (__schedule's
// signal_pending_state check puts such a task back to TASK_RUNNING without sleeping).
bool task_woken_or_signalled(const void* arg) {
  const task_struct* p = static_cast<const task_struct*>(arg);
  return p->__state == TASK_RUNNING || signal_pending_state(p->__state, p);
}

// kernel/sched/core.c: schedule(), for a task that set its state and sleeps on `sem`.
void schedule(rw_semaphore* sem) {
  task_struct* p = current();
  sched_wait(sem, sem->name, task_woken_or_signalled, p);
  if (p->__state != TASK_RUNNING) p->__state = TASK_RUNNING;  // woken by the signal
}

// kernel/sched/core.c: schedule_preempt_disabled.
void schedule_preempt_disabled(rw_semaphore* sem) {
  preempt_enable();
  schedule(sem);
  preempt_disable();
}

// DEVIATION(rwsem): Linux sets waiter.timeout = jiffies + DIV_ROUND_UP(HZ, 250) and hands
// the lock off to a waiter once time_after(jiffies, timeout). jiffies exist here
// (kernel_state::jiffies: one per kernel entry, and the scenario's `sleep`), but the
// handoff timeout is not ported: a waiter never waits "too long", so RWSEM_FLAG_HANDOFF is
// never set and explored outcomes do not hang on how many entries other paths make.
constexpr unsigned long RWSEM_WAIT_TIMEOUT = 0;
bool rwsem_waited_too_long(const rwsem_waiter* /*waiter*/) { return false; }
bool rt_task(const task_struct* /*p*/) { return false; }

// kernel/locking/rwsem.c: wake the front waiter(s) if no writer owns the lock.
void rwsem_cond_wake_waiter(rw_semaphore* sem, long count, wake_q_head* wake_q) {
  rwsem_wake_type wake_type;
  if (count & RWSEM_WRITER_MASK) return;
  if (count & RWSEM_READER_MASK) {
    wake_type = RWSEM_WAKE_READERS;
  } else {
    wake_type = RWSEM_WAKE_ANY;
    clear_nonspinnable(sem);
  }
  rwsem_mark_wake(sem, wake_type, wake_q);
}

// kernel/locking/rwsem.c: take the waiter off (slow path's give-up exit) and, if it was
// at the front, let those behind it try.
void rwsem_del_wake_waiter(rw_semaphore* sem, rwsem_waiter* waiter, wake_q_head* wake_q) {
  bool first = rwsem_first_waiter(sem) == waiter;
  wake_q_init(wake_q);
  if (rwsem_del_waiter(sem, waiter) && first) rwsem_mark_wake(sem, RWSEM_WAKE_ANY, wake_q);
  if (!wake_q_empty(wake_q)) wake_up_q(wake_q);
}

// kernel/locking/rwsem.c
void rwsem_downgrade_wake(rw_semaphore* sem) {
  wake_q_head wake_q;
  wake_q_init(&wake_q);
  if (!list_empty(&sem->wait_list)) rwsem_mark_wake(sem, RWSEM_WAKE_READ_OWNED, &wake_q);
  wake_up_q(&wake_q);
}

}  // namespace

// ---- kernel/locking/rwsem.c ----

// kernel/locking/rwsem.c: __init_rwsem.
void init_rwsem(rw_semaphore* sem, const char* name) {
  sem->name = name;
  atomic_long_set(&sem->count, RWSEM_UNLOCKED_VALUE);
  INIT_LIST_HEAD(&sem->wait_list);
  atomic_long_set(&sem->owner, 0);
}

// kernel/locking/rwsem.c: the caller sets RWSEM_FLAG_WAITERS.
void rwsem_add_waiter(rw_semaphore* sem, rwsem_waiter* waiter) {
  list_add_tail(&waiter->list, &sem->wait_list);
}

// kernel/locking/rwsem.c
bool rwsem_del_waiter(rw_semaphore* sem, rwsem_waiter* waiter) {
  list_del(&waiter->list);
  if (likely(!list_empty(&sem->wait_list))) return true;
  sem->count.counter &= ~(RWSEM_FLAG_HANDOFF | RWSEM_FLAG_WAITERS);  // atomic_long_andnot
  return false;
}

// kernel/locking/rwsem.c: choose whom a release wakes. A writer at the front is only
// marked for wakeup (it takes the lock itself when it runs, and another writer may steal
// it first; readers cannot, they see it queued). Readers at the front are granted the lock
// here, all of them up to MAX_READERS_WAKEUP wherever they sit in the queue (the reader
// phase of a phase-fair lock), in two passes: count them in first, then clear each
// waiter->task, which is what ends that reader's sleep.
void rwsem_mark_wake(rw_semaphore* sem, rwsem_wake_type wake_type, wake_q_head* wake_q) {
  long oldcount, woken = 0, adjustment = 0;
  list_head wlist;
  rwsem_waiter* waiter = rwsem_first_waiter(sem);

  if (waiter->type == RWSEM_WAITING_FOR_WRITE) {
    if (wake_type == RWSEM_WAKE_ANY) wake_q_add(wake_q, waiter->task);
    return;
  }

  // No reader wakeup if there are too many of them already.
  if (unlikely(atomic_long_read(&sem->count) < 0)) return;

  // A writer may have stolen the lock since the release: grant the first reader before
  // counting the rest, and back out if so.
  if (wake_type != RWSEM_WAKE_READ_OWNED) {
    adjustment = RWSEM_READER_BIAS;
    oldcount = sem->count.counter;  // atomic_long_fetch_add
    sem->count.counter += adjustment;
    if (unlikely(oldcount & RWSEM_WRITER_MASK)) {
      // Waited "too" long for writers: ask for a handoff.
      if (rwsem_waited_too_long(waiter)) {
        if (!(oldcount & RWSEM_FLAG_HANDOFF)) adjustment -= RWSEM_FLAG_HANDOFF;
        waiter->handoff_set = true;
      }
      atomic_long_add(-adjustment, &sem->count);
      return;
    }
    // Reader-owned from here: the owner word names the first reader woken.
    __rwsem_set_reader_owned(sem, waiter->task);
  }

  // First pass: every reading waiter moves to wlist and is counted.
  INIT_LIST_HEAD(&wlist);
  for (list_head *pos = sem->wait_list.next, *n = pos->next; pos != &sem->wait_list;
       pos = n, n = pos->next) {
    waiter = list_entry(pos, rwsem_waiter, list);
    if (waiter->type == RWSEM_WAITING_FOR_WRITE) continue;
    woken++;
    list_move_tail(&waiter->list, &wlist);
    if (unlikely(woken >= MAX_READERS_WAKEUP)) break;
  }

  adjustment = woken * RWSEM_READER_BIAS - adjustment;
  oldcount = atomic_long_read(&sem->count);
  if (list_empty(&sem->wait_list)) {
    // With the moves above, this is rwsem_del_waiter for the last one.
    adjustment -= RWSEM_FLAG_WAITERS;
    if (oldcount & RWSEM_FLAG_HANDOFF) adjustment -= RWSEM_FLAG_HANDOFF;
  } else if (woken) {
    // A reader got in: no need to force writers out any more.
    if (oldcount & RWSEM_FLAG_HANDOFF) adjustment -= RWSEM_FLAG_HANDOFF;
  }
  if (adjustment) atomic_long_add(adjustment, &sem->count);

  // Second pass: hand each reader the lock (waiter->task = NULL) and queue its wakeup.
  for (list_head *pos = wlist.next, *n = pos->next; pos != &wlist; pos = n, n = pos->next) {
    waiter = list_entry(pos, rwsem_waiter, list);
    task_struct* tsk = waiter->task;
    get_task_struct(tsk);
    waiter->task = nullptr;  // smp_store_release
    wake_q_add_safe(wake_q, tsk);
  }
}

// kernel/locking/rwsem.c: a queued writer tries to take the lock. On success it is off
// the wait list (rwsem_del_waiter implied).
bool rwsem_try_write_lock(rw_semaphore* sem, rwsem_waiter* waiter) {
  rwsem_waiter* first = rwsem_first_waiter(sem);
  long count = atomic_long_read(&sem->count);
  long new_count;
  // (Linux's cmpxchg loop: one pass here, nothing runs in between.)
  bool has_handoff = !!(count & RWSEM_FLAG_HANDOFF);
  if (has_handoff) {
    // Only the first waiter that set the handoff bit may take the lock.
    if (first->handoff_set && (waiter != first)) return false;
  }
  new_count = count;
  if (count & RWSEM_LOCK_MASK) {
    // Held: a waiter that waited too long (or is real-time) asks for a handoff.
    if (has_handoff || (!rt_task(waiter->task) && !rwsem_waited_too_long(waiter)))
      return false;
    new_count |= RWSEM_FLAG_HANDOFF;
  } else {
    new_count |= RWSEM_WRITER_LOCKED;
    new_count &= ~RWSEM_FLAG_HANDOFF;
    if (list_is_singular(&sem->wait_list)) new_count &= ~RWSEM_FLAG_WAITERS;
  }
  sem->count.counter = new_count;

  if (new_count & RWSEM_FLAG_HANDOFF) {
    first->handoff_set = true;
    return false;
  }
  list_del(&waiter->list);
  rwsem_set_owner(sem);
  return true;
}

// kernel/locking/rwsem.c: the reader could not take the lock at once. count is the
// count after its fast path added RWSEM_READER_BIAS.
int rwsem_down_read_slowpath(rw_semaphore* sem, long count, unsigned int state) {
  long adjustment = -RWSEM_READER_BIAS;
  long rcnt = (count >> RWSEM_READER_SHIFT);
  rwsem_waiter waiter;
  wake_q_head wake_q;
  wake_q_init(&wake_q);

  // Readers own it (more than this one): do not steal, so that a stream of readers
  // cannot starve a sleeping writer. Queue behind it.
  if ((static_cast<unsigned long>(atomic_long_read(&sem->owner)) & RWSEM_READER_OWNED) &&
      (rcnt > 1) && !(count & RWSEM_WRITER_LOCKED))
    goto queue;

  // Reader optimistic lock stealing: no writer holds it and no handoff is pending, so
  // the bias already added is a read hold.
  if (!(count & (RWSEM_WRITER_LOCKED | RWSEM_FLAG_HANDOFF))) {
    rwsem_set_reader_owned(sem);
    // The first reader in wakes the readers waiting.
    if ((rcnt == 1) && (count & RWSEM_FLAG_WAITERS)) {
      if (!list_empty(&sem->wait_list)) rwsem_mark_wake(sem, RWSEM_WAKE_READ_OWNED, &wake_q);
      wake_up_q(&wake_q);
    }
    return 0;
  }

queue:
  waiter.task = current();
  waiter.type = RWSEM_WAITING_FOR_READ;
  waiter.timeout = RWSEM_WAIT_TIMEOUT;
  waiter.handoff_set = false;

  if (list_empty(&sem->wait_list)) {
    // Nobody waits and no writer owns it: the bias added is a read hold after all.
    if (!(atomic_long_read(&sem->count) & RWSEM_WRITER_MASK)) {
      rwsem_set_reader_owned(sem);
      return 0;
    }
    adjustment += RWSEM_FLAG_WAITERS;
  }
  rwsem_add_waiter(sem, &waiter);

  // Waiting now, no longer counted as a locker.
  sem->count.counter += adjustment;  // atomic_long_add_return
  count = sem->count.counter;

  rwsem_cond_wake_waiter(sem, count, &wake_q);
  if (!wake_q_empty(&wake_q)) wake_up_q(&wake_q);

  // Wait to be given the lock: rwsem_mark_wake clears waiter.task.
  for (;;) {
    set_current_state(state);
    if (!waiter.task) break;
    if (signal_pending_state(state, current())) {
      if (waiter.task) goto out_nolock;
      break;  // granted meanwhile: keep it
    }
    schedule_preempt_disabled(sem);
  }
  set_current_state(TASK_RUNNING);
  return 0;

out_nolock:
  rwsem_del_wake_waiter(sem, &waiter, &wake_q);
  set_current_state(TASK_RUNNING);
  return -EINTR;
}

// kernel/locking/rwsem.c: queue, and take the lock when first in the queue and it is free.
int rwsem_down_write_slowpath(rw_semaphore* sem, unsigned int state) {
  rwsem_waiter waiter;
  wake_q_head wake_q;
  wake_q_init(&wake_q);

  // DEVIATION(rwsem): no optimistic spinning (rwsem_can_spin_on_owner is false).
  waiter.task = current();
  waiter.type = RWSEM_WAITING_FOR_WRITE;
  waiter.timeout = RWSEM_WAIT_TIMEOUT;
  waiter.handoff_set = false;

  rwsem_add_waiter(sem, &waiter);

  if (rwsem_first_waiter(sem) != &waiter) {
    rwsem_cond_wake_waiter(sem, atomic_long_read(&sem->count), &wake_q);
    if (!wake_q_empty(&wake_q)) wake_up_q(&wake_q);
  } else {
    sem->count.counter |= RWSEM_FLAG_WAITERS;  // atomic_long_or
  }

  // Wait until the lock is ours.
  set_current_state(state);
  for (;;) {
    if (rwsem_try_write_lock(sem, &waiter)) break;
    if (signal_pending_state(state, current())) goto out_nolock;
    // (Linux spins on the owner here once it set the handoff bit: no spinning here.)
    schedule(sem);
    set_current_state(state);
  }
  set_current_state(TASK_RUNNING);
  return 0;

out_nolock:
  set_current_state(TASK_RUNNING);
  rwsem_del_wake_waiter(sem, &waiter, &wake_q);
  return -EINTR;
}

// kernel/locking/rwsem.c: a release found waiters; wake whom rwsem_mark_wake picks.
void rwsem_wake(rw_semaphore* sem) {
  wake_q_head wake_q;
  wake_q_init(&wake_q);
  if (!list_empty(&sem->wait_list)) rwsem_mark_wake(sem, RWSEM_WAKE_ANY, &wake_q);
  wake_up_q(&wake_q);
}

namespace {

// kernel/locking/rwsem.c
int __down_read_trylock(rw_semaphore* sem) {
  int ret = 0;
  preempt_disable();
  long tmp = atomic_long_read(&sem->count);
  if (!(tmp & RWSEM_READ_FAILED_MASK)) {
    sem->count.counter = tmp + RWSEM_READER_BIAS;
    rwsem_set_reader_owned(sem);
    ret = 1;
  }
  preempt_enable();
  return ret;
}

// kernel/locking/rwsem.c
void __downgrade_write(rw_semaphore* sem) {
  BUG_ON(!(atomic_long_read(&sem->count) & RWSEM_WRITER_LOCKED));
  long tmp = sem->count.counter;  // atomic_long_fetch_add_release
  sem->count.counter += -RWSEM_WRITER_LOCKED + RWSEM_READER_BIAS;
  rwsem_set_reader_owned(sem);
  if (tmp & RWSEM_FLAG_WAITERS) rwsem_downgrade_wake(sem);
}

}  // namespace

// kernel/locking/rwsem.c: down_read, down_read_killable, down_write, down_write_killable,
// up_read and up_write in full. Each entry point passes a preemption point before it tries
// the lock (Linux's might_sleep) and each release one after it (mm/sched_hooks.h), and
// lockdep records the hold. Out of line and reached by a tail call from the entry points
// below, whose single-path fast path (an opt build, no scheduler: sched_single_path) is then
// a leaf function: the count word and the owner word.
namespace {

// kernel/locking/rwsem.c: down_read, in full
[[gnu::noinline]] void down_read_full(rw_semaphore* sem) {
#ifndef NDEBUG
  lock_order_check(sem->name);
#endif
  sched_point(SCHED_POINT_LOCK, sem, sem->name);
  __down_read_common(sem, TASK_UNINTERRUPTIBLE);
  lock_acquire(sem, sem->name, 1);
}

// kernel/locking/rwsem.c: down_read_killable, in full
[[gnu::noinline]] int down_read_killable_full(rw_semaphore* sem) {
#ifndef NDEBUG
  lock_order_check(sem->name);
#endif
  sched_point(SCHED_POINT_LOCK, sem, sem->name);
  if (__down_read_common(sem, TASK_KILLABLE)) return -EINTR;
  lock_acquire(sem, sem->name, 1);
  return 0;
}

// kernel/locking/rwsem.c: down_write, in full
[[gnu::noinline]] void down_write_full(rw_semaphore* sem) {
#ifndef NDEBUG
  lock_order_check(sem->name);
#endif
  sched_point(SCHED_POINT_LOCK, sem, sem->name);
  __down_write_common(sem, TASK_UNINTERRUPTIBLE);
  lock_acquire(sem, sem->name, 0);
}

// kernel/locking/rwsem.c: down_write_killable, in full
[[gnu::noinline]] int down_write_killable_full(rw_semaphore* sem) {
#ifndef NDEBUG
  lock_order_check(sem->name);
#endif
  sched_point(SCHED_POINT_LOCK, sem, sem->name);
  if (__down_write_common(sem, TASK_KILLABLE)) return -EINTR;
  lock_acquire(sem, sem->name, 0);
  return 0;
}

// kernel/locking/rwsem.c: up_read, in full
[[gnu::noinline]] void up_read_full(rw_semaphore* sem) {
  lock_release(sem);
  __up_read(sem);
  sched_point(SCHED_POINT_UNLOCK, sem, sem->name);
}

// kernel/locking/rwsem.c: up_write, in full
[[gnu::noinline]] void up_write_full(rw_semaphore* sem) {
  lock_release(sem);
  __up_write(sem);
  sched_point(SCHED_POINT_UNLOCK, sem, sem->name);
}

}  // namespace

// kernel/locking/rwsem.c
void down_read(rw_semaphore* sem) {
  might_sleep();
  if (!sched_single_path()) return down_read_full(sem);
  __down_read_common(sem, TASK_UNINTERRUPTIBLE);
}

// kernel/locking/rwsem.c: the fast path takes a free (or reader-held) lock whatever
// signals are pending; only a task that would sleep gives up, with -EINTR.
int down_read_killable(rw_semaphore* sem) {
  might_sleep();
  if (!sched_single_path()) return down_read_killable_full(sem);
  return __down_read_common(sem, TASK_KILLABLE) ? -EINTR : 0;
}

// kernel/locking/rwsem.c
int down_read_trylock(rw_semaphore* sem) {
  sched_point(SCHED_POINT_LOCK, sem, sem->name);
  int ret = __down_read_trylock(sem);
  if (ret == 1) lock_acquire(sem, sem->name, 1);
  return ret;
}

// kernel/locking/rwsem.c
void down_write(rw_semaphore* sem) {
  might_sleep();
  if (!sched_single_path()) return down_write_full(sem);
  __down_write_common(sem, TASK_UNINTERRUPTIBLE);
}

// kernel/locking/rwsem.c
int down_write_killable(rw_semaphore* sem) {
  might_sleep();
  if (!sched_single_path()) return down_write_killable_full(sem);
  return __down_write_common(sem, TASK_KILLABLE) ? -EINTR : 0;
}

// kernel/locking/rwsem.c
int down_write_trylock(rw_semaphore* sem) {
  sched_point(SCHED_POINT_LOCK, sem, sem->name);
  int ret = rwsem_write_trylock(sem) ? 1 : 0;
  if (ret == 1) lock_acquire(sem, sem->name, 0);
  return ret;
}

// kernel/locking/rwsem.c
void up_read(rw_semaphore* sem) {
  if (!sched_single_path()) return up_read_full(sem);
  __up_read(sem);
}

// kernel/locking/rwsem.c
void up_write(rw_semaphore* sem) {
  if (!sched_single_path()) return up_write_full(sem);
  __up_write(sem);
}

// kernel/locking/rwsem.c: the writer keeps a read hold; waiting readers at the front
// come in with it.
void downgrade_write(rw_semaphore* sem) {
  lock_downgrade(sem);
  __downgrade_write(sem);
  sched_point(SCHED_POINT_UNLOCK, sem, sem->name);
}

}  // namespace kernel
