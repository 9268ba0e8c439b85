// mm/types.h: the basic kernel types (include/linux/types.h, list.h, atomic.h, rwsem.h)
// at Linux 6.18.
//
// The simulated kernel runs on one host thread, and concurrency between simulated tasks is
// modelled at explicit preemption points (mm/sched_hooks.h). So atomics are plain integers
// behind Linux's atomic_* names: one path runs at a time and none is preempted between
// two points. Locks are Linux's own state machines (the rwsem count word and wait list,
// the spinlock word, PG_locked); a path that finds one taken waits through sched_wait,
// which lets sim/'s scheduler run the others, and without a scheduler (a single path)
// such a wait is a self-deadlock and BUGs with the lock's name. They never block a host
// thread.
#ifndef MMSIM_MM_TYPES_H_
#define MMSIM_MM_TYPES_H_

#include <cstddef>
#include <cstdint>

#include "mm/bug.h"

// Marks a pointer into *simulated* user memory (a user virtual address carried as a
// pointer value). It is never dereferenced on the host: only uaccess (copy_from_user and
// friends, mm/arch/x86/uaccess.h) and GUP turn it into bytes, through the simulated CPU or
// page tables. Compute with such addresses as unsigned long where they may wrap.
#define __user

namespace kernel {

using u8 = uint8_t;
using u16 = uint16_t;
using u32 = uint32_t;
using s16 = int16_t;
using u64 = uint64_t;
using pgoff_t = unsigned long;
using gfp_t = unsigned int;
using vm_flags_t = unsigned long;
using vm_fault_t = unsigned int;
using pid_t = int;
using uid_t = unsigned int;
using gid_t = unsigned int;
using loff_t = long long;
using ssize_t = long;

struct atomic_t {
  int counter;
};
inline int atomic_read(const atomic_t* v) { return v->counter; }
inline void atomic_set(atomic_t* v, int i) { v->counter = i; }
inline void atomic_add(int i, atomic_t* v) { v->counter += i; }
inline void atomic_sub(int i, atomic_t* v) { v->counter -= i; }
inline void atomic_inc(atomic_t* v) { ++v->counter; }
inline void atomic_dec(atomic_t* v) { --v->counter; }
inline int atomic_inc_return(atomic_t* v) { return ++v->counter; }
inline int atomic_dec_return(atomic_t* v) { return --v->counter; }
inline bool atomic_dec_and_test(atomic_t* v) { return --v->counter == 0; }
inline bool atomic_inc_and_test(atomic_t* v) { return ++v->counter == 0; }
inline bool atomic_inc_not_zero(atomic_t* v) { return v->counter != 0 && ++v->counter; }
inline int atomic_add_return(int i, atomic_t* v) { return v->counter += i; }
inline int atomic_sub_return(int i, atomic_t* v) { return v->counter -= i; }

struct atomic_long_t {
  long counter;
};
inline long atomic_long_read(const atomic_long_t* v) { return v->counter; }
inline void atomic_long_set(atomic_long_t* v, long i) { v->counter = i; }
inline void atomic_long_add(long i, atomic_long_t* v) { v->counter += i; }
inline void atomic_long_sub(long i, atomic_long_t* v) { v->counter -= i; }
inline void atomic_long_inc(atomic_long_t* v) { ++v->counter; }
inline void atomic_long_dec(atomic_long_t* v) { --v->counter; }

struct atomic64_t {
  long long counter;  // s64
};
inline long long atomic64_read(const atomic64_t* v) { return v->counter; }
inline void atomic64_set(atomic64_t* v, long long i) { v->counter = i; }
inline long long atomic64_inc_return(atomic64_t* v) { return ++v->counter; }

// include/linux/list.h: the intrusive doubly linked list.
struct list_head {
  list_head* next;
  list_head* prev;
};
inline void INIT_LIST_HEAD(list_head* list) { list->next = list->prev = list; }
inline bool list_empty(const list_head* head) { return head->next == head; }
inline bool list_is_singular(const list_head* head) {
  return !list_empty(head) && head->next == head->prev;
}
inline void __list_add(list_head* n, list_head* prev, list_head* next) {
  next->prev = n;
  n->next = next;
  n->prev = prev;
  prev->next = n;
}
inline void list_add(list_head* n, list_head* head) { __list_add(n, head, head->next); }
inline void list_add_tail(list_head* n, list_head* head) { __list_add(n, head->prev, head); }
inline void list_del(list_head* entry) {
  entry->next->prev = entry->prev;
  entry->prev->next = entry->next;
  entry->next = entry->prev = nullptr;
}
// include/linux/list.h: off the list and empty again (list_empty() is then true).
inline void list_del_init(list_head* entry) {
  entry->next->prev = entry->prev;
  entry->prev->next = entry->next;
  entry->next = entry->prev = entry;
}
inline void list_move_tail(list_head* entry, list_head* head) {
  entry->next->prev = entry->prev;
  entry->prev->next = entry->next;
  list_add_tail(entry, head);
}
#define list_entry(ptr, type, member) \
  reinterpret_cast<type*>(reinterpret_cast<char*>(ptr) - offsetof(type, member))
#define list_first_entry(head, type, member) list_entry((head)->next, type, member)
#define list_last_entry(head, type, member) list_entry((head)->prev, type, member)
// include/linux/list.h: list_splice. Joins `list` at the front of `head`.
inline void list_splice(const list_head* list, list_head* head) {
  if (list->next == list) return;
  list_head* first = list->next;
  list_head* last = list->prev;
  list_head* at = head->next;
  first->prev = head;
  head->next = first;
  last->next = at;
  at->prev = last;
}

// include/linux/rwsem.h: the reader/writer semaphore (kernel/locking/rwsem.c, mm/types.cc).
// count is Linux's count word (RWSEM_WRITER_LOCKED, RWSEM_FLAG_WAITERS, RWSEM_FLAG_HANDOFF,
// RWSEM_READER_BIAS per reader); owner the writer (or the last reader | RWSEM_READER_OWNED);
// wait_list the FIFO of struct rwsem_waiter (mm/types.cc) of the tasks that sleep on it.
struct rw_semaphore {
  atomic_long_t count;
  atomic_long_t owner;
  list_head wait_list;
  const char* name;  // lockdep's class name (what the deadlock report prints)
};
inline constexpr long RWSEM_UNLOCKED_VALUE = 0;
inline constexpr long RWSEM_WRITER_LOCKED = 1L << 0;
inline constexpr long RWSEM_FLAG_WAITERS = 1L << 1;
inline constexpr long RWSEM_FLAG_HANDOFF = 1L << 2;
inline constexpr long RWSEM_FLAG_READFAIL = static_cast<long>(1UL << 63);
inline constexpr int RWSEM_READER_SHIFT = 8;
inline constexpr long RWSEM_READER_BIAS = 1L << RWSEM_READER_SHIFT;
inline constexpr long RWSEM_READER_MASK = ~(RWSEM_READER_BIAS - 1);
inline constexpr long RWSEM_WRITER_MASK = RWSEM_WRITER_LOCKED;
inline constexpr long RWSEM_LOCK_MASK = RWSEM_WRITER_MASK | RWSEM_READER_MASK;
inline constexpr long RWSEM_READ_FAILED_MASK =
    RWSEM_WRITER_MASK | RWSEM_FLAG_WAITERS | RWSEM_FLAG_HANDOFF | RWSEM_FLAG_READFAIL;

void init_rwsem(rw_semaphore* sem, const char* name);
void down_read(rw_semaphore* sem);
// 0; or -EINTR when the lock is contended (the caller would sleep) and a fatal signal is
// pending. An uncontended lock is taken even with a fatal signal pending, as in Linux.
int down_read_killable(rw_semaphore* sem);
int down_read_trylock(rw_semaphore* sem);  // 1 if taken; 0 if a writer holds it or waits
void up_read(rw_semaphore* sem);
void down_write(rw_semaphore* sem);
int down_write_killable(rw_semaphore* sem);
int down_write_trylock(rw_semaphore* sem);
void up_write(rw_semaphore* sem);
void downgrade_write(rw_semaphore* sem);
// include/linux/rwsem.h: any bit set, holders or waiters (as Linux, which compares the
// count with RWSEM_UNLOCKED_VALUE).
inline bool rwsem_is_locked(const rw_semaphore* sem) {
  return sem->count.counter != RWSEM_UNLOCKED_VALUE;
}
inline bool rwsem_is_write_locked(const rw_semaphore* sem) {
  return sem->count.counter & RWSEM_WRITER_LOCKED;
}

// include/linux/spinlock_types.h. The operations (spin_lock, spin_unlock) are in
// mm/spinlock.h; they need current() and the scheduler hooks, which need this header.
struct spinlock_t {
  int locked;
  const char* name;  // lockdep's class name: spin_lock_init's argument as written
};
// include/linux/spinlock.h: as Linux's macro, the lock's name is its expression
// ("&mm->page_table_lock"), which is what lockdep prints.
#define spin_lock_init(l) ::kernel::__spin_lock_init((l), #l)
inline void __spin_lock_init(spinlock_t* l, const char* name) {
  l->locked = 0;
  l->name = name;
}

}  // namespace kernel

#endif  // MMSIM_MM_TYPES_H_
