// mm/rwsem.h: the inside of the reader/writer semaphore (kernel/locking/rwsem.c and
// include/linux/sched/wake_q.h at Linux 6.18), for mm/types.cc and for tests that drive
// its state transitions directly: a waiter queued by hand on sem->wait_list, then a
// trylock, rwsem_mark_wake or rwsem_try_write_lock, and the count word, wait list and
// wake_q checked after. The locking API itself (down_read, up_write ...) is in mm/types.h.
//
// Deviations (grep "DEVIATION(rwsem)"):
//  - No optimistic spinning (CONFIG_RWSEM_SPIN_ON_OWNER off, as on a uniprocessor build):
//    a writer that cannot take the lock queues at once; RWSEM_NONSPINNABLE is never set.
//  - No handoff timeout (jiffies exist, but the wait timeout does not read them; see
//    mm/types.cc) and no real-time task, so no waiter ever sets RWSEM_FLAG_HANDOFF; the
//    code that honours a set bit is kept as Linux has it.
//  - The wait_lock raw spinlock is not modelled: nothing between taking and releasing it
//    is a preemption point, so one path runs those sections whole.
//  - down_read_inline, down_read_killable_inline, up_read_inline: the entry points with
//    their single-path branch inlined, for the callers on every system call's path.
//  - schedule() is sched_wait until the task is TASK_RUNNING again (woken) or, in a
//    killable sleep, a fatal signal is pending. Without a scheduler that BUGs with the
//    lock's name: the sleep could never end.
#ifndef MMSIM_MM_RWSEM_H_
#define MMSIM_MM_RWSEM_H_

#include "mm/kernel.h"
#include "mm/sched_hooks.h"
#include "mm/types.h"

namespace kernel {

// ---- include/linux/sched/wake_q.h, kernel/sched/core.c ----
struct wake_q_head {
  wake_q_node* first;
  wake_q_node** lastp;
};
inline wake_q_node* const WAKE_Q_TAIL = reinterpret_cast<wake_q_node*>(0x01);
inline void wake_q_init(wake_q_head* head) {
  head->first = WAKE_Q_TAIL;
  head->lastp = &head->first;
}
inline bool wake_q_empty(const wake_q_head* head) { return head->first == WAKE_Q_TAIL; }
void wake_q_add(wake_q_head* head, task_struct* task);       // takes a task reference
void wake_q_add_safe(wake_q_head* head, task_struct* task);  // consumes the caller's
void wake_up_q(wake_q_head* head);                           // wakes and drops them
// kernel/sched/core.c: try_to_wake_up, reduced: a sleeping task becomes TASK_RUNNING.
// Returns whether it was asleep.
int wake_up_process(task_struct* p);

// ---- kernel/locking/rwsem.c ----
inline constexpr unsigned long RWSEM_READER_OWNED = 1UL << 0;
inline constexpr unsigned long RWSEM_NONSPINNABLE = 1UL << 1;
inline constexpr unsigned long RWSEM_OWNER_FLAGS_MASK = RWSEM_READER_OWNED | RWSEM_NONSPINNABLE;
inline constexpr long MAX_READERS_WAKEUP = 0x100;

enum rwsem_waiter_type { RWSEM_WAITING_FOR_WRITE, RWSEM_WAITING_FOR_READ };

struct rwsem_waiter {
  list_head list;
  task_struct* task;  // cleared by the waker when a reader is granted the lock
  rwsem_waiter_type type;
  unsigned long timeout;
  bool handoff_set;
};
inline rwsem_waiter* rwsem_first_waiter(rw_semaphore* sem) {
  return list_first_entry(&sem->wait_list, rwsem_waiter, list);
}

enum rwsem_wake_type {
  RWSEM_WAKE_ANY,        // wake whatever is at the head of the wait list
  RWSEM_WAKE_READERS,    // wake readers only
  RWSEM_WAKE_READ_OWNED  // the waker holds the read lock
};

// The task whose pointer the owner word carries (a writer, or the last reader).
inline task_struct* rwsem_owner(const rw_semaphore* sem) {
  return reinterpret_cast<task_struct*>(static_cast<unsigned long>(sem->owner.counter) &
                                        ~RWSEM_OWNER_FLAGS_MASK);
}
inline bool is_rwsem_reader_owned(const rw_semaphore* sem) {
  return static_cast<unsigned long>(sem->owner.counter) & RWSEM_READER_OWNED;
}

// kernel/locking/rwsem.c: the owner word. Inline, as everything an uncontended lock or
// unlock runs (they sit on every system call's path).
inline void rwsem_set_owner(rw_semaphore* sem) {
  atomic_long_set(&sem->owner, reinterpret_cast<long>(current()));
}
inline void rwsem_clear_owner(rw_semaphore* sem) { atomic_long_set(&sem->owner, 0); }
inline void __rwsem_set_reader_owned(rw_semaphore* sem, task_struct* owner) {
  unsigned long val = reinterpret_cast<unsigned long>(owner) | RWSEM_READER_OWNED |
                      (static_cast<unsigned long>(atomic_long_read(&sem->owner)) &
                       RWSEM_NONSPINNABLE);
  atomic_long_set(&sem->owner, static_cast<long>(val));
}
inline void rwsem_set_reader_owned(rw_semaphore* sem) { __rwsem_set_reader_owned(sem, current()); }

// The fast paths: the reader's adds RWSEM_READER_BIAS and keeps it only if no writer
// holds the lock and nobody waits (*cntp: the count after the add; on failure the bias
// stays, for rwsem_down_read_slowpath to take back or keep). The writer's takes a free
// lock only.
// kernel/locking/rwsem.c
inline bool rwsem_read_trylock(rw_semaphore* sem, long* cntp) {
  sem->count.counter += RWSEM_READER_BIAS;  // atomic_long_add_return_acquire
  *cntp = sem->count.counter;
  BUG_ON(*cntp < 0);  // WARN_ON_ONCE in Linux: the reader count overflowed
  if (likely(!(*cntp & RWSEM_READ_FAILED_MASK))) {
    rwsem_set_reader_owned(sem);
    return true;
  }
  return false;
}
// kernel/locking/rwsem.c
inline bool rwsem_write_trylock(rw_semaphore* sem) {
  bool ret = false;
  preempt_disable();
  if (likely(sem->count.counter == RWSEM_UNLOCKED_VALUE)) {  // atomic_long_try_cmpxchg_acquire
    sem->count.counter = RWSEM_WRITER_LOCKED;
    rwsem_set_owner(sem);
    ret = true;
  }
  preempt_enable();
  return ret;
}
void rwsem_add_waiter(rw_semaphore* sem, rwsem_waiter* waiter);
bool rwsem_del_waiter(rw_semaphore* sem, rwsem_waiter* waiter);  // true: others still wait
void rwsem_mark_wake(rw_semaphore* sem, rwsem_wake_type wake_type, wake_q_head* wake_q);
bool rwsem_try_write_lock(rw_semaphore* sem, rwsem_waiter* waiter);
// The slow paths (may sleep). 0, or -EINTR when `state` is killable and a fatal signal
// ended the wait (Linux returns ERR_PTR(-EINTR)).
// Out of line and cold (the callers' fast paths stay short).
[[gnu::noinline, gnu::cold]] int rwsem_down_read_slowpath(rw_semaphore* sem, long count,
                                                         unsigned int state);
[[gnu::noinline, gnu::cold]] int rwsem_down_write_slowpath(rw_semaphore* sem, unsigned int state);
[[gnu::noinline, gnu::cold]] void rwsem_wake(rw_semaphore* sem);

// kernel/locking/rwsem.c: a no-op without CONFIG_RWSEM_SPIN_ON_OWNER.
inline void clear_nonspinnable(rw_semaphore* /*sem*/) {}

// The lock and unlock bodies that every entry point runs (mm/types.cc), fast path inline
// and slow path out of line. Here rather than in mm/types.cc so that the mmap_lock
// wrappers (mm/mm.h) can run them without a call on a single path (sched_single_path),
// as the entry points' own single-path branches do.
// kernel/locking/rwsem.c
[[gnu::always_inline]] inline int __down_read_common(rw_semaphore* sem, unsigned int state) {
  int ret = 0;
  long count;
  preempt_disable();
  if (unlikely(!rwsem_read_trylock(sem, &count))) {
    if (rwsem_down_read_slowpath(sem, count, state) != 0) ret = -EINTR;
  }
  preempt_enable();
  return ret;
}

// kernel/locking/rwsem.c
[[gnu::always_inline]] inline int __down_write_common(rw_semaphore* sem, unsigned int state) {
  if (unlikely(!rwsem_write_trylock(sem))) {
    if (rwsem_down_write_slowpath(sem, state) != 0) return -EINTR;
  }
  return 0;
}

// kernel/locking/rwsem.c
[[gnu::always_inline]] inline void __up_read(rw_semaphore* sem) {
  BUG_ON(!(atomic_long_read(&sem->count) & RWSEM_READER_MASK));  // not read-held
  preempt_disable();
  sem->count.counter -= RWSEM_READER_BIAS;  // atomic_long_add_return_release
  long tmp = sem->count.counter;
  if (unlikely((tmp & (RWSEM_LOCK_MASK | RWSEM_FLAG_WAITERS)) == RWSEM_FLAG_WAITERS)) {
    clear_nonspinnable(sem);
    rwsem_wake(sem);
  }
  preempt_enable();
}

// kernel/locking/rwsem.c
[[gnu::always_inline]] inline void __up_write(rw_semaphore* sem) {
  BUG_ON(!(atomic_long_read(&sem->count) & RWSEM_WRITER_LOCKED));  // not write-held
  preempt_disable();
  rwsem_clear_owner(sem);
  long tmp = sem->count.counter;  // atomic_long_fetch_add_release
  sem->count.counter -= RWSEM_WRITER_LOCKED;
  preempt_enable();
  if (unlikely(tmp & RWSEM_FLAG_WAITERS)) rwsem_wake(sem);
}

// down_read, down_read_killable and up_read for the callers on every system call's path
// (the mmap_lock wrappers in mm/mm.h, mm_access): on a single path (sched_single_path) the
// entry point's own single-path branch in place, else the entry point (mm/types.cc).
// DEVIATION(rwsem): Linux calls the entry points; here the calls were 2 % of a small
// process_vm_readv. The same code runs either way.
inline void down_read_inline(rw_semaphore* sem) {
  if (sched_single_path()) {
    __down_read_common(sem, TASK_UNINTERRUPTIBLE);
    return;
  }
  down_read(sem);
}
inline int down_read_killable_inline(rw_semaphore* sem) {
  if (sched_single_path()) return __down_read_common(sem, TASK_KILLABLE);
  return down_read_killable(sem);
}
inline void up_read_inline(rw_semaphore* sem) {
  if (sched_single_path()) return __up_read(sem);
  up_read(sem);
}

}  // namespace kernel

#endif  // MMSIM_MM_RWSEM_H_
