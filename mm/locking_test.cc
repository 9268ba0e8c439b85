// mm/locking_test.cc: the kernel's locks on a booted kernel with no scheduler installed.
//
// Without sim/'s scheduler only one path runs, so a lock that would make it wait is a
// self-deadlock and must BUG naming the lock. The rwsem's state transitions that need no
// sleep are driven directly, the way kernel/locking/rwsem.c moves them: waiters are queued
// on sem->wait_list by hand (as a sleeping task's slow path leaves them), then a fast
// path, a release, rwsem_mark_wake or rwsem_try_write_lock runs, and the count word, the
// wait list, waiter->task and the woken tasks' states are checked. Interleaved paths are
// sim/sched's tests. Lockdep's held-lock stack is checked for depth and out-of-order
// release, and real system calls are checked to leave nothing held.
#include <sys/mman.h>

#include "gtest/gtest.h"
#include "mm/fs.h"
#include "mm/gfp.h"
#include "mm/lockdep.h"
#include "mm/mm.h"
#include "mm/rwsem.h"
#include "mm/sched_hooks.h"
#include "mm/spinlock.h"
#include "mm/testing/kernel_fixture.h"

namespace kernel {
namespace {

using kernel_testing::BootedKernel;

constexpr unsigned long kRW = PROT_READ | PROT_WRITE;

// A waiter as rwsem_down_{read,write}_slowpath queues it for task t, which then sleeps.
void QueueWaiter(rw_semaphore* sem, rwsem_waiter* w, task_struct* t, rwsem_waiter_type type) {
  w->task = t;
  w->type = type;
  w->timeout = 0;
  w->handoff_set = false;
  t->__state = TASK_UNINTERRUPTIBLE;  // set_current_state before it sleeps
  rwsem_add_waiter(sem, w);
  sem->count.counter |= RWSEM_FLAG_WAITERS;
}

bool OnWaitList(rw_semaphore* sem, const rwsem_waiter* w) {
  for (list_head* l = sem->wait_list.next; l != &sem->wait_list; l = l->next)
    if (list_entry(l, rwsem_waiter, list) == w) return true;
  return false;
}

// The tasks a wake_q holds, in order.
std::vector<task_struct*> WakeList(const wake_q_head* q) {
  std::vector<task_struct*> v;
  for (wake_q_node* n = q->first; n != WAKE_Q_TAIL; n = n->next)
    v.push_back(list_entry(n, task_struct, wake_q));
  return v;
}

class RwsemTest : public ::testing::Test {
 protected:
  void SetUp() override {
    me_ = m_.Spawn("me");
    t2_ = m_.Spawn("t2");
    t3_ = m_.Spawn("t3");
    t4_ = m_.Spawn("t4");
    m_.RunAs(me_);
    init_rwsem(&sem_, "test_rwsem");
  }
  long count() const { return sem_.count.counter; }
  // The woken writer w (task t) runs again and, first in the queue, takes the free lock:
  // the count becomes `want`.
  void WokenWriterTakesIt(rwsem_waiter* w, task_struct* t, long want) {
    EXPECT_EQ(t->__state, TASK_RUNNING);
    m_.RunAs(t);
    EXPECT_TRUE(rwsem_try_write_lock(&sem_, w));
    EXPECT_EQ(count(), want);
    EXPECT_EQ(rwsem_owner(&sem_), t);
    EXPECT_FALSE(OnWaitList(&sem_, w));
  }

  BootedKernel m_;
  task_struct *me_, *t2_, *t3_, *t4_;
  rw_semaphore sem_;
};

// ---- without a scheduler, a wait is a self-deadlock: BUG with the lock's name ----

TEST(LockingDeathTest, ContendedLocksBugWithTheirNames) {
  ::testing::FLAGS_gtest_death_test_style = "threadsafe";
  BootedKernel m;
  task_struct* t = m.Spawn("t");
  mm_struct* mm = t->mm;
  m.RunAs(t);
  EXPECT_DEATH(
      {
        mmap_read_lock(mm);
        mmap_write_lock(mm);  // a writer behind a reader sleeps
      },
      "kernel BUG at .*: mmap_lock");
  EXPECT_DEATH(
      {
        mmap_write_lock(mm);
        mmap_read_lock(mm);
      },
      "kernel BUG at .*: mmap_lock");
  EXPECT_DEATH(
      {
        spin_lock(&mm->page_table_lock);
        spin_lock(&mm->page_table_lock);
      },
      "kernel BUG at .*: &mm->page_table_lock");
  folio* f = folio_alloc(GFP_KERNEL, 0);
  ASSERT_NE(f, nullptr);
  EXPECT_DEATH(
      {
        folio_lock(f);
        folio_lock(f);
      },
      "kernel BUG at .*: folio_lock");
  // Uncontended, the same locks are taken and released.
  mmap_read_lock(mm);
  mmap_read_lock(mm);
  mmap_read_unlock(mm);
  mmap_read_unlock(mm);
  EXPECT_FALSE(rwsem_is_locked(&mm->mmap_lock));
  folio_lock(f);
  EXPECT_FALSE(folio_trylock(f));
  folio_unlock(f);
  folio_put(f);
}

TEST_F(RwsemTest, AReaderWouldSleepBehindAWaitingWriter) {
  ::testing::FLAGS_gtest_death_test_style = "threadsafe";
  down_read(&sem_);
  rwsem_waiter w;
  QueueWaiter(&sem_, &w, t2_, RWSEM_WAITING_FOR_WRITE);
  // Readers own it and a writer waits: a new reader does not steal, it queues and sleeps.
  EXPECT_DEATH(down_read(&sem_), "kernel BUG at .*: test_rwsem");
}

// ---- the fast paths ----

TEST_F(RwsemTest, ReadersShareWritersExclude) {
  EXPECT_EQ(count(), RWSEM_UNLOCKED_VALUE);
  EXPECT_EQ(down_read_trylock(&sem_), 1);
  EXPECT_EQ(down_read_trylock(&sem_), 1);
  EXPECT_EQ(count(), 2 * RWSEM_READER_BIAS);
  EXPECT_TRUE(is_rwsem_reader_owned(&sem_));
  EXPECT_EQ(rwsem_owner(&sem_), me_);
  EXPECT_EQ(down_write_trylock(&sem_), 0);
  up_read(&sem_);
  up_read(&sem_);
  EXPECT_EQ(count(), RWSEM_UNLOCKED_VALUE);
  EXPECT_EQ(down_write_trylock(&sem_), 1);
  EXPECT_EQ(count(), RWSEM_WRITER_LOCKED);
  EXPECT_EQ(rwsem_owner(&sem_), me_);
  EXPECT_FALSE(is_rwsem_reader_owned(&sem_));
  EXPECT_TRUE(rwsem_is_write_locked(&sem_));
  EXPECT_EQ(down_read_trylock(&sem_), 0);
  EXPECT_EQ(down_write_trylock(&sem_), 0);
  up_write(&sem_);
  EXPECT_EQ(count(), RWSEM_UNLOCKED_VALUE);
  EXPECT_EQ(rwsem_owner(&sem_), nullptr);
}

TEST_F(RwsemTest, ReaderFastPathFailsWhileAnyoneWaits) {
  down_read(&sem_);
  rwsem_waiter w;
  QueueWaiter(&sem_, &w, t2_, RWSEM_WAITING_FOR_WRITE);
  long cnt;
  // The fast path adds its bias, sees RWSEM_FLAG_WAITERS and reports failure (leaving
  // the bias for the slow path to take back or keep).
  EXPECT_FALSE(rwsem_read_trylock(&sem_, &cnt));
  EXPECT_EQ(cnt, 2 * RWSEM_READER_BIAS | RWSEM_FLAG_WAITERS);
  sem_.count.counter -= RWSEM_READER_BIAS;
  // down_read_trylock leaves the count alone when it fails.
  EXPECT_EQ(down_read_trylock(&sem_), 0);
  EXPECT_EQ(count(), RWSEM_READER_BIAS | RWSEM_FLAG_WAITERS);
  EXPECT_EQ(down_write_trylock(&sem_), 0);
  EXPECT_EQ(lockdep_depth(me_), 1);  // only the first down_read
  rwsem_del_waiter(&sem_, &w);
  EXPECT_EQ(count(), RWSEM_READER_BIAS);  // the last waiter took the flag with it
  up_read(&sem_);
}

TEST_F(RwsemTest, AReaderStealsAFreeLockAheadOfAWokenWriter) {
  // A writer released the lock and marked the waiting writer for wakeup; before that
  // writer runs, a reader comes: the fast path fails (waiters), the slow path steals.
  rwsem_waiter w, r;
  QueueWaiter(&sem_, &w, t2_, RWSEM_WAITING_FOR_WRITE);
  QueueWaiter(&sem_, &r, t3_, RWSEM_WAITING_FOR_READ);
  EXPECT_EQ(count(), RWSEM_FLAG_WAITERS);
  down_read(&sem_);
  EXPECT_EQ(count(), RWSEM_READER_BIAS | RWSEM_FLAG_WAITERS);
  EXPECT_TRUE(is_rwsem_reader_owned(&sem_));
  // The writer at the front keeps the readers behind it queued (RWSEM_WAKE_READ_OWNED
  // wakes readers only when a reader is first).
  EXPECT_EQ(r.task, t3_);
  EXPECT_TRUE(OnWaitList(&sem_, &w));
  EXPECT_TRUE(OnWaitList(&sem_, &r));
  // The writer cannot take it now.
  EXPECT_FALSE(rwsem_try_write_lock(&sem_, &w));
  EXPECT_EQ(count(), RWSEM_READER_BIAS | RWSEM_FLAG_WAITERS);
  rwsem_del_waiter(&sem_, &w);
  rwsem_del_waiter(&sem_, &r);
  up_read(&sem_);
  EXPECT_EQ(count(), RWSEM_UNLOCKED_VALUE);
}

TEST_F(RwsemTest, TheFirstReaderInWakesTheQueuedReaders) {
  rwsem_waiter r2, r3;
  QueueWaiter(&sem_, &r2, t2_, RWSEM_WAITING_FOR_READ);
  QueueWaiter(&sem_, &r3, t3_, RWSEM_WAITING_FOR_READ);
  down_read(&sem_);  // steals, then grants the queued readers with it
  EXPECT_EQ(count(), 3 * RWSEM_READER_BIAS);
  EXPECT_TRUE(list_empty(&sem_.wait_list));
  EXPECT_EQ(r2.task, nullptr);
  EXPECT_EQ(r3.task, nullptr);
  EXPECT_EQ(t2_->__state, TASK_RUNNING);
  EXPECT_EQ(t3_->__state, TASK_RUNNING);
}

// ---- rwsem_mark_wake ----

TEST_F(RwsemTest, MarkWakeGrantsEveryQueuedReaderWhenAReaderIsFirst) {
  rwsem_waiter r2, w3, r4;
  QueueWaiter(&sem_, &r2, t2_, RWSEM_WAITING_FOR_READ);
  QueueWaiter(&sem_, &w3, t3_, RWSEM_WAITING_FOR_WRITE);
  QueueWaiter(&sem_, &r4, t4_, RWSEM_WAITING_FOR_READ);
  const int usage2 = atomic_read(&t2_->usage);
  wake_q_head q;
  wake_q_init(&q);
  rwsem_mark_wake(&sem_, RWSEM_WAKE_ANY, &q);
  // Both readers are granted (phase-fair: the one behind the writer too); the writer
  // stays queued, so the waiters flag stays.
  EXPECT_EQ(count(), 2 * RWSEM_READER_BIAS | RWSEM_FLAG_WAITERS);
  EXPECT_EQ(r2.task, nullptr);
  EXPECT_EQ(r4.task, nullptr);
  EXPECT_EQ(w3.task, t3_);
  EXPECT_EQ(rwsem_first_waiter(&sem_), &w3);
  EXPECT_TRUE(list_is_singular(&sem_.wait_list));
  EXPECT_EQ(rwsem_owner(&sem_), t2_);
  EXPECT_TRUE(is_rwsem_reader_owned(&sem_));
  EXPECT_EQ(WakeList(&q), (std::vector<task_struct*>{t2_, t4_}));
  EXPECT_EQ(atomic_read(&t2_->usage), usage2 + 1);  // the wake_q's reference
  EXPECT_EQ(t2_->__state, TASK_UNINTERRUPTIBLE);    // woken only by wake_up_q
  wake_up_q(&q);
  EXPECT_EQ(t2_->__state, TASK_RUNNING);
  EXPECT_EQ(t4_->__state, TASK_RUNNING);
  EXPECT_EQ(t3_->__state, TASK_UNINTERRUPTIBLE);
  EXPECT_EQ(atomic_read(&t2_->usage), usage2);
  EXPECT_EQ(t2_->wake_q.next, nullptr);
}

TEST_F(RwsemTest, MarkWakeOnlyMarksAWriterAtTheFront) {
  rwsem_waiter w2, r3;
  QueueWaiter(&sem_, &w2, t2_, RWSEM_WAITING_FOR_WRITE);
  QueueWaiter(&sem_, &r3, t3_, RWSEM_WAITING_FOR_READ);
  wake_q_head q;
  wake_q_init(&q);
  rwsem_mark_wake(&sem_, RWSEM_WAKE_READERS, &q);  // readers only: nothing to do
  EXPECT_TRUE(wake_q_empty(&q));
  rwsem_mark_wake(&sem_, RWSEM_WAKE_ANY, &q);
  // The writer is woken but not granted: it takes the lock itself when it runs.
  EXPECT_EQ(WakeList(&q), (std::vector<task_struct*>{t2_}));
  EXPECT_EQ(w2.task, t2_);
  EXPECT_EQ(r3.task, t3_);
  EXPECT_EQ(count(), RWSEM_FLAG_WAITERS);
  wake_up_q(&q);
  EXPECT_EQ(t3_->__state, TASK_UNINTERRUPTIBLE);
  // Woken and first, it takes the free lock; the reader behind keeps the flag set.
  WokenWriterTakesIt(&w2, t2_, RWSEM_WRITER_LOCKED | RWSEM_FLAG_WAITERS);
  EXPECT_EQ(rwsem_first_waiter(&sem_), &r3);
}

TEST_F(RwsemTest, MarkWakeBacksOffWhenAWriterStoleTheLock) {
  rwsem_waiter r2;
  QueueWaiter(&sem_, &r2, t2_, RWSEM_WAITING_FOR_READ);
  sem_.count.counter |= RWSEM_WRITER_LOCKED;  // a writer got in since the release
  wake_q_head q;
  wake_q_init(&q);
  rwsem_mark_wake(&sem_, RWSEM_WAKE_ANY, &q);
  EXPECT_TRUE(wake_q_empty(&q));
  EXPECT_EQ(r2.task, t2_);
  EXPECT_EQ(count(), RWSEM_WRITER_LOCKED | RWSEM_FLAG_WAITERS);  // the trial bias undone
  EXPECT_FALSE(r2.handoff_set);  // no clock: it never waited "too long"
}

// ---- releases ----

TEST_F(RwsemTest, UpWriteGrantsQueuedReaders) {
  down_write(&sem_);
  rwsem_waiter r2, r3;
  QueueWaiter(&sem_, &r2, t2_, RWSEM_WAITING_FOR_READ);
  QueueWaiter(&sem_, &r3, t3_, RWSEM_WAITING_FOR_READ);
  up_write(&sem_);
  EXPECT_EQ(count(), 2 * RWSEM_READER_BIAS);  // both hold it; no waiters left
  EXPECT_TRUE(list_empty(&sem_.wait_list));
  EXPECT_EQ(r2.task, nullptr);
  EXPECT_EQ(r3.task, nullptr);
  EXPECT_EQ(t2_->__state, TASK_RUNNING);
  EXPECT_EQ(t3_->__state, TASK_RUNNING);
  EXPECT_EQ(lockdep_depth(me_), 0);
}

TEST_F(RwsemTest, TheLastReaderOutWakesTheWaitingWriter) {
  down_read(&sem_);
  down_read(&sem_);
  rwsem_waiter w2;
  QueueWaiter(&sem_, &w2, t2_, RWSEM_WAITING_FOR_WRITE);
  up_read(&sem_);
  EXPECT_EQ(t2_->__state, TASK_UNINTERRUPTIBLE);  // a reader is still in
  up_read(&sem_);
  EXPECT_EQ(count(), RWSEM_FLAG_WAITERS);
  EXPECT_TRUE(rwsem_is_locked(&sem_));  // as in Linux: the waiters bit counts
  EXPECT_FALSE(rwsem_is_write_locked(&sem_));
  WokenWriterTakesIt(&w2, t2_, RWSEM_WRITER_LOCKED);  // the last waiter clears the flag
  EXPECT_TRUE(list_empty(&sem_.wait_list));
}

TEST_F(RwsemTest, AQueuedWriterCannotJumpAheadOfTheFirstWhileHeld) {
  down_read(&sem_);
  rwsem_waiter w2, w3;
  QueueWaiter(&sem_, &w2, t2_, RWSEM_WAITING_FOR_WRITE);
  QueueWaiter(&sem_, &w3, t3_, RWSEM_WAITING_FOR_WRITE);
  EXPECT_FALSE(rwsem_try_write_lock(&sem_, &w2));
  EXPECT_FALSE(rwsem_try_write_lock(&sem_, &w3));
  EXPECT_EQ(count(), RWSEM_READER_BIAS | RWSEM_FLAG_WAITERS);  // no handoff requested
  up_read(&sem_);
  // Only the first is woken.
  EXPECT_EQ(t3_->__state, TASK_UNINTERRUPTIBLE);
  WokenWriterTakesIt(&w2, t2_, RWSEM_WRITER_LOCKED | RWSEM_FLAG_WAITERS);
  EXPECT_EQ(rwsem_first_waiter(&sem_), &w3);
}

TEST_F(RwsemTest, DowngradeLetsTheFrontReadersIn) {
  down_write(&sem_);
  rwsem_waiter r2, w3, r4;
  QueueWaiter(&sem_, &r2, t2_, RWSEM_WAITING_FOR_READ);
  QueueWaiter(&sem_, &w3, t3_, RWSEM_WAITING_FOR_WRITE);
  QueueWaiter(&sem_, &r4, t4_, RWSEM_WAITING_FOR_READ);
  downgrade_write(&sem_);
  EXPECT_EQ(count(), 3 * RWSEM_READER_BIAS | RWSEM_FLAG_WAITERS);
  EXPECT_EQ(r2.task, nullptr);
  EXPECT_EQ(r4.task, nullptr);
  EXPECT_EQ(rwsem_first_waiter(&sem_), &w3);
  EXPECT_EQ(t3_->__state, TASK_UNINTERRUPTIBLE);
  ASSERT_EQ(lockdep_depth(me_), 1);
  EXPECT_EQ(me_->held_locks[0].read, 1);  // lock_downgrade
  up_read(&sem_);
  EXPECT_EQ(lockdep_depth(me_), 0);
}

// ---- killable sleeps ----

TEST_F(RwsemTest, AKillableReaderThatWouldQueueGivesUpAndLeavesTheQueueAsItWas) {
  down_read(&sem_);
  rwsem_waiter w2;
  QueueWaiter(&sem_, &w2, t2_, RWSEM_WAITING_FOR_WRITE);
  me_->fatal_signal = true;
  EXPECT_EQ(down_read_killable(&sem_), -EINTR);
  EXPECT_EQ(count(), RWSEM_READER_BIAS | RWSEM_FLAG_WAITERS);
  EXPECT_EQ(rwsem_first_waiter(&sem_), &w2);
  EXPECT_TRUE(list_is_singular(&sem_.wait_list));
  EXPECT_EQ(me_->__state, TASK_RUNNING);
  EXPECT_EQ(lockdep_depth(me_), 1);  // the -EINTR left no entry
  // Uncontended, a killable lock is still taken.
  rwsem_del_waiter(&sem_, &w2);
  EXPECT_EQ(down_read_killable(&sem_), 0);
  EXPECT_EQ(count(), 2 * RWSEM_READER_BIAS);
}

TEST_F(RwsemTest, AWriterQueuingBehindAReaderGrantsItWhileReadersOwnTheLock) {
  // Readers own the lock and a reader waits at the front (it queued while a writer held
  // it). A writer that queues behind it lets it in (rwsem_cond_wake_waiter: readers own
  // it, so the front readers may join), then, killed, gives up.
  down_read(&sem_);
  rwsem_waiter r2;
  QueueWaiter(&sem_, &r2, t2_, RWSEM_WAITING_FOR_READ);
  me_->fatal_signal = true;
  EXPECT_EQ(down_write_killable(&sem_), -EINTR);
  EXPECT_EQ(r2.task, nullptr);
  EXPECT_EQ(t2_->__state, TASK_RUNNING);
  EXPECT_TRUE(list_empty(&sem_.wait_list));  // the writer left; nobody waits
  EXPECT_EQ(count(), 2 * RWSEM_READER_BIAS);
  EXPECT_EQ(me_->__state, TASK_RUNNING);
}

// ---- lockdep's held-lock stack ----

TEST(Lockdep, HeldLocksFollowAcquireAndOutOfOrderRelease) {
  BootedKernel m;
  task_struct* t = m.Spawn("t");
  mm_struct* mm = t->mm;
  m.RunAs(t);
  folio* f = folio_alloc(GFP_KERNEL, 0);
  ASSERT_NE(f, nullptr);
  ASSERT_EQ(lockdep_depth(t), 0);
  mmap_read_lock(mm);
  folio_lock(f);
  spin_lock(&mm->page_table_lock);
  ASSERT_EQ(lockdep_depth(t), 3);
  EXPECT_EQ(t->held_locks[0].instance, &mm->mmap_lock);
  EXPECT_STREQ(t->held_locks[0].name, "mmap_lock");
  EXPECT_EQ(t->held_locks[0].read, 1);
  EXPECT_EQ(t->held_locks[1].instance, f);
  EXPECT_STREQ(t->held_locks[1].name, "folio_lock");
  EXPECT_EQ(t->held_locks[1].read, 0);
  EXPECT_EQ(t->held_locks[2].instance, &mm->page_table_lock);
  EXPECT_STREQ(t->held_locks[2].name, "&mm->page_table_lock");
  EXPECT_EQ(preempt_count(), 1);  // the spinlock
  EXPECT_TRUE(lockdep_is_held(&mm->page_table_lock));
  // A failed trylock records nothing (a trylock may be taken under a spinlock).
  EXPECT_FALSE(folio_trylock(f));
  EXPECT_EQ(lockdep_depth(t), 3);
  // Out of order: the bottom entry goes, the others close up in order.
  mmap_read_unlock(mm);
  ASSERT_EQ(lockdep_depth(t), 2);
  EXPECT_EQ(t->held_locks[0].instance, f);
  EXPECT_EQ(t->held_locks[1].instance, &mm->page_table_lock);
  EXPECT_FALSE(lockdep_is_held(&mm->mmap_lock));
  folio_unlock(f);
  ASSERT_EQ(lockdep_depth(t), 1);
  EXPECT_EQ(t->held_locks[0].instance, &mm->page_table_lock);
  spin_unlock(&mm->page_table_lock);
  EXPECT_EQ(preempt_count(), 0);
  EXPECT_EQ(lockdep_depth(t), 0);
  // Write holds are recorded as such; the stack is per task.
  mmap_write_lock(mm);
  ASSERT_EQ(lockdep_depth(t), 1);
  EXPECT_EQ(t->held_locks[0].read, 0);
  task_struct* u = m.Spawn("u");
  m.RunAs(u);
  EXPECT_EQ(lockdep_depth(u), 0);
  EXPECT_FALSE(lockdep_is_held(&mm->mmap_lock));
  m.RunAs(t);
  mmap_write_unlock(mm);
  EXPECT_EQ(lockdep_depth(t), 0);
  folio_put(f);
}

#ifndef NDEBUG
// CONFIG_DEBUG_ATOMIC_SLEEP: a lock that may sleep, taken under a spinlock.
TEST(LockdepDeathTest, SleepingLocksUnderASpinlockBug) {
  ::testing::FLAGS_gtest_death_test_style = "threadsafe";
  BootedKernel m;
  task_struct* t = m.Spawn("t");
  mm_struct* mm = t->mm;
  m.RunAs(t);
  folio* f = folio_alloc(GFP_KERNEL, 0);
  ASSERT_NE(f, nullptr);
  spin_lock(&mm->page_table_lock);
  EXPECT_DEATH(mmap_read_lock(mm), "sleeping function called from invalid context");
  EXPECT_DEATH(folio_lock(f), "sleeping function called from invalid context");
  spin_unlock(&mm->page_table_lock);
  folio_put(f);
}
#endif

TEST(LockdepDeathTest, ReleasingALockNotHeldIsABug) {
  ::testing::FLAGS_gtest_death_test_style = "threadsafe";
  BootedKernel m;
  task_struct* t = m.Spawn("t");
  task_struct* u = m.Spawn("u");
  mm_struct* mm = t->mm;
  m.RunAs(t);
  mmap_read_lock(mm);
  m.RunAs(u);
  EXPECT_DEATH(mmap_read_unlock(mm), "bad unlock balance");
  m.RunAs(t);
  mmap_read_unlock(mm);
}

// Real system calls leave nothing held: mmap of a shared file mapping (i_mmap_rwsem),
// faults (mmap_lock, the page-table lock), fork (both mms, i_mmap), munmap.
TEST(Lockdep, SystemCallsLeaveNoLockHeld) {
  BootedKernel m;
  task_struct* t = m.Spawn("t");
  unsigned long a = m.Mmap(t, 0, 4 * PAGE_SIZE, kRW, MAP_SHARED | MAP_ANONYMOUS);
  ASSERT_FALSE(IS_ERR_VALUE(a));
  unsigned long b = m.Mmap(t, 0, 4 * PAGE_SIZE, kRW, MAP_PRIVATE | MAP_ANONYMOUS);
  ASSERT_FALSE(IS_ERR_VALUE(b));
  for (int i = 0; i < 4; ++i) {
    ASSERT_TRUE(m.UserStore(t, a + i * PAGE_SIZE, i).ok());
    ASSERT_TRUE(m.UserStore(t, b + i * PAGE_SIZE, i).ok());
  }
  m.RunAs(t);
  vm_area_struct* vma = find_vma(t->mm, a);
  ASSERT_NE(vma, nullptr);
  ASSERT_NE(vma->vm_file, nullptr);
  address_space* mapping = vma->vm_file->f_mapping;
  task_struct* c = m.Fork(t);
  ASSERT_TRUE(m.UserStore(c, b, 7).ok());  // a COW break in the child
  EXPECT_EQ(m.Mprotect(t, a + PAGE_SIZE, PAGE_SIZE, PROT_READ), 0);  // splits the VMA
  EXPECT_EQ(m.Munmap(t, a, 4 * PAGE_SIZE), 0);
  for (task_struct* p : {t, c}) {
    EXPECT_EQ(lockdep_depth(p), 0) << p->comm;
    EXPECT_FALSE(rwsem_is_locked(&p->mm->mmap_lock));
    EXPECT_FALSE(spin_is_locked(&p->mm->page_table_lock));
    EXPECT_EQ(p->__state, TASK_RUNNING);
  }
  EXPECT_FALSE(rwsem_is_locked(&mapping->i_mmap_rwsem));
  for (int cpu = 0; cpu < 2; ++cpu) EXPECT_EQ(m.ks()->preempt_count[cpu], 0);
  m.ExitAndReap(c);
  EXPECT_EQ(m.DebugVm(), "");
}

}  // namespace
}  // namespace kernel
