// mm/spinlock.h: spin_lock / spin_unlock (include/linux/spinlock.h, spinlock_api_smp.h,
// kernel/locking/spinlock.c at Linux 6.18). The lock word is spinlock_t in mm/types.h.
//
// __raw_spin_lock is preempt_disable(), then lockdep, then the lock itself. Here a lock
// found taken means another CPU's path holds it: with a scheduler installed this path
// spins (sched_wait: other paths run until the word is clear; preemption stays disabled,
// so this CPU is not given to another task); without one nothing could ever release it,
// and sched_wait BUGs with the lock's name. Each acquire is preceded by a preemption point
// and each release followed by one (mm/sched_hooks.h). Everything is inline: the page-table
// lock is taken per page. On a single path in an opt build (sched_single_path) lock and
// unlock test that once and skip the points and lockdep's record.
//
// DEVIATION(spinlock): lockdep's entry is pushed once the lock is taken (Linux records it
// before spinning); the lock a waiter spins on is recorded by the scheduler instead.
#ifndef MMSIM_MM_SPINLOCK_H_
#define MMSIM_MM_SPINLOCK_H_

#include "mm/lockdep.h"
#include "mm/sched_hooks.h"
#include "mm/types.h"

namespace kernel {

inline const char* spin_lock_name(const spinlock_t* lock) {
  return lock->name != nullptr ? lock->name : "spinlock";
}

// kernel/locking/spinlock_debug.c: do_raw_spin_trylock / the contended spin.
inline bool spin_is_unlocked(const void* lock) {
  return !static_cast<const spinlock_t*>(lock)->locked;
}
void spin_lock_contended(spinlock_t* lock);  // mm/types.cc: waits until it is free

// include/linux/spinlock_api_smp.h: __raw_spin_lock.
inline void spin_lock(spinlock_t* lock) {
  if (sched_single_path()) {  // no point to pass, no lockdep record (mm/sched_hooks.h)
    preempt_disable();
    if (unlikely(lock->locked)) spin_lock_contended(lock);
    lock->locked = 1;
    return;
  }
  sched_point(SCHED_POINT_LOCK, lock, spin_lock_name(lock));
  preempt_disable();
  if (unlikely(lock->locked)) spin_lock_contended(lock);
  lock->locked = 1;
  lock_acquire(lock, spin_lock_name(lock), 0);
}

// include/linux/spinlock_api_smp.h: __raw_spin_trylock.
inline int spin_trylock(spinlock_t* lock) {
  sched_point(SCHED_POINT_LOCK, lock, spin_lock_name(lock));
  preempt_disable();
  if (lock->locked) {
    preempt_enable();
    return 0;
  }
  lock->locked = 1;
  lock_acquire(lock, spin_lock_name(lock), 0);
  return 1;
}

// include/linux/spinlock_api_smp.h: __raw_spin_unlock.
inline void spin_unlock(spinlock_t* lock) {
  BUG_ON(!lock->locked);
  if (sched_single_path()) {
    lock->locked = 0;
    preempt_enable();
    return;
  }
  lock_release(lock);
  lock->locked = 0;
  preempt_enable();
  sched_point(SCHED_POINT_UNLOCK, lock, spin_lock_name(lock));
}

inline bool spin_is_locked(const spinlock_t* lock) { return lock->locked != 0; }

}  // namespace kernel

#endif  // MMSIM_MM_SPINLOCK_H_
