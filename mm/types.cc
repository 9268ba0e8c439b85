// mm/types.cc: the reader/writer semaphore as model state (kernel/locking/rwsem.c at Linux
// 6.18, reduced: the fast paths and the killable slow paths' signal check).
//
// Simulated tasks interleave only at explicit preemption points, so a lock that is
// unavailable here means the simulation itself took it twice: that is a kernel BUG (a
// self-deadlock in real Linux), reported with the lock's name.
#include "mm/types.h"

#include "mm/kernel.h"

namespace kernel {

void init_rwsem(rw_semaphore* sem, const char* name) {
  sem->count = 0;
  sem->name = name;
}

void down_read(rw_semaphore* sem) {
  BUG_ON(sem->count < 0);  // a writer holds it: a real kernel would deadlock here
  ++sem->count;
}

// kernel/locking/rwsem.c: the fast path takes a free (or reader-held) lock whatever signals
// are pending; only a task that would sleep checks for a fatal signal and gives up with
// -EINTR (rwsem_down_read_slowpath's signal_pending_state check).
int down_read_killable(rw_semaphore* sem) {
  if (sem->count >= 0) {
    ++sem->count;
    return 0;
  }
  if (fatal_signal_pending(current())) return -EINTR;
  down_read(sem);  // would sleep with nobody to wake it: BUG
  return 0;
}

void up_read(rw_semaphore* sem) {
  BUG_ON(sem->count <= 0);
  --sem->count;
}

void down_write(rw_semaphore* sem) {
  BUG_ON(sem->count != 0);
  sem->count = -1;
}

// kernel/locking/rwsem.c: as down_read_killable, for a writer (rwsem_down_write_slowpath).
int down_write_killable(rw_semaphore* sem) {
  if (sem->count == 0) {
    sem->count = -1;
    return 0;
  }
  if (fatal_signal_pending(current())) return -EINTR;
  down_write(sem);  // would sleep with nobody to wake it: BUG
  return 0;
}

void up_write(rw_semaphore* sem) {
  BUG_ON(sem->count != -1);
  sem->count = 0;
}

}  // namespace kernel
