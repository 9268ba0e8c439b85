// mm/sched_hooks.h: where the kernel port lets the simulated machine run other CPUs' paths.
//
// DEVIATION(sched_hooks): no Linux counterpart. On a real machine every CPU executes at
// once and the kernel's locks, IPIs and per-page loops are where paths meet. Here one host
// thread executes one path at a time, and the kernel port calls these hooks at the points
// where Linux code can really interleave with another CPU (DESIGN.md: "the kernel port marks
// where Linux can interleave ... the scheduler that decides who runs next lives in sim/").
// mm/ never knows a schedule: it only says "here another path may run" (sched_point), "this
// path cannot go on until cond holds" (sched_wait) and "CPU n has an IPI pending"
// (sched_hooks::ipi_raised).
//
// Without a scheduler (kst().sched == nullptr, every single-path run) a point is one load
// and one branch, and sched_wait requires its condition to hold already: a wait that would
// sleep with nobody to wake it is a kernel BUG (a self-deadlock), reported with its name.
#ifndef MMSIM_MM_SCHED_HOOKS_H_
#define MMSIM_MM_SCHED_HOOKS_H_

#include "mm/kernel.h"

namespace kernel {

// What kind of place a preemption point is (for traces, schedule ids and the explorer's
// statistics; every kind is a place another CPU's path may run before this one goes on).
enum sched_point_kind : unsigned char {
  SCHED_POINT_LOCK,        // about to take a lock (obj: the lock; name: its name)
  SCHED_POINT_UNLOCK,      // just released a lock
  SCHED_POINT_COPY_PAGE,   // process_vm_rw_pages: before copying each page
  SCHED_POINT_FAULT,       // a page fault is about to be handled (handle_mm_fault)
  SCHED_POINT_GUP_BATCH,   // __get_user_pages / process_vm_rw_single_vec: before each batch
  SCHED_POINT_IPI,         // IPIs were sent; the sender is about to wait for them
  SCHED_POINT_RESCHED,     // cond_resched(), might_sleep()
  SCHED_POINT_USER,        // a user-mode access (Machine::Store/Load): before each page
  SCHED_POINT_PATH_START,  // a kernel path is about to run (obj: the task)
  SCHED_POINT_NR
};
const char* sched_point_name(sched_point_kind kind);  // "lock", "unlock", "copy_page", ...

// Implemented by sim/'s scheduler and installed in kst().sched while several paths run.
struct sched_hooks {
  virtual ~sched_hooks() = default;
  // The running path (current() on smp_processor_id()) passes a preemption point. The
  // scheduler may run other paths before it returns, and delivers this CPU's pending IPIs
  // (generic_smp_call_function_single_interrupt, mm/smp.h) here. Spinlock holders pass
  // points too (another CPU may run meanwhile); the scheduler only never gives this CPU
  // to another task while preempt_count() > 0.
  virtual void preempt_point(sched_point_kind kind, const void* obj, const char* name) = 0;
  // The running path cannot continue until cond(arg) is true (it sleeps on a lock's wait
  // list, spins on a spinlock, waits for an IPI's csd). obj/name name what it waits for;
  // the deadlock report lists them with the lock holders (task_struct::held_locks).
  // Returns once cond(arg) holds.
  virtual void wait(const void* obj, const char* name, bool (*cond)(const void* arg),
                    const void* arg) = 0;
  // A call-function IPI was queued for `cpu` (mm/smp.cc). The scheduler makes that CPU run
  // generic_smp_call_function_single_interrupt() at its next interruptible point: the next
  // preempt_point of the path running there, or at once if it runs none or is waiting.
  virtual void ipi_raised(int cpu) = 0;
};

// A preemption point. Inline: it sits in the per-page loops.
// Inside an RCU read-side section (rcu_read_lock below) a point lets no other path run.
inline void sched_point(sched_point_kind kind, const void* obj, const char* name) {
  if (sched_hooks* h = kst().sched; __builtin_expect(h != nullptr, 0)) {
    if (kst().rcu_read_lock_nesting == 0) h->preempt_point(kind, obj, name);
  }
}
// include/linux/sched.h: cond_resched() (a point; never reschedules by itself here).
inline void cond_resched() { sched_point(SCHED_POINT_RESCHED, nullptr, "cond_resched"); }

// Waits until cond(arg) holds (see sched_hooks::wait). Without a scheduler cond must hold
// already, else BUG naming `name` (nothing could ever make it true).
void sched_wait(const void* obj, const char* name, bool (*cond)(const void* arg), const void* arg);

// Whether the running path is the only one and nothing checks it: no scheduler installed
// (kst().sched null) in a -c opt build. Then no other path can run at a point, and nothing
// reads the preemption count's interleaving or lockdep's held-lock stack (mm/lockdep.h:
// kept in debug builds and under a scheduler), so the lock entry points test this once
// and take their plain fast path: one load and one predictable branch. Debug builds (the
// tests, the sanitizers) always take the full path.
inline bool sched_single_path() {
#ifdef NDEBUG
  return __builtin_expect(kst().sched == nullptr, 1);
#else
  return false;
#endif
}

// include/linux/preempt.h, per CPU as on x86 (pcpu_hot.preempt_count): spin_lock disables
// preemption, so the scheduler never switches this CPU to another task while it is > 0
// (another CPU's path may still run: that is what a spinlock spins against).
// On a single path in an opt build (sched_single_path) the count is not kept: nothing
// reads it there (no scheduler; __might_sleep's check is debug-only), and it is 0 again
// whenever a scheduler is installed (between paths).
inline void preempt_disable() {
  if (sched_single_path()) return;
  ++kst().preempt_count[kst().this_cpu];
}
inline void preempt_enable() {
  if (sched_single_path()) return;
  --kst().preempt_count[kst().this_cpu];
}
inline int preempt_count() { return kst().preempt_count[kst().this_cpu]; }

// include/linux/rcupdate.h: rcu_read_lock / rcu_read_unlock.
// DEVIATION(sched_hooks): there are no grace periods and nothing is freed through RCU.
// Instead a read-side section has no preemption point (sched_point returns at once inside
// one) and must not sleep (sched_wait BUGs), so it runs as one step: what it reads
// through a pointer Linux keeps valid by RCU or SLAB_TYPESAFE_BY_RCU (the anon_vma of a
// folio, mm/rmap.cc) cannot be freed under it by another path. This explores fewer
// interleavings than Linux allows (another CPU runs during the section there), never more.
inline void rcu_read_lock() { ++kst().rcu_read_lock_nesting; }
inline void rcu_read_unlock() {
  BUG_ON(kst().rcu_read_lock_nesting <= 0);
  --kst().rcu_read_lock_nesting;
}

}  // namespace kernel

#endif  // MMSIM_MM_SCHED_HOOKS_H_
