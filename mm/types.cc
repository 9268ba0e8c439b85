// mm/types.cc: the reader/writer semaphore as model state (kernel/locking/rwsem.c, reduced).
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

int down_read_killable(rw_semaphore* sem) {
  if (fatal_signal_pending(current())) return -EINTR;
  down_read(sem);
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

int down_write_killable(rw_semaphore* sem) {
  if (fatal_signal_pending(current())) return -EINTR;
  down_write(sem);
  return 0;
}

void up_write(rw_semaphore* sem) {
  BUG_ON(sem->count != -1);
  sem->count = 0;
}

}  // namespace kernel
