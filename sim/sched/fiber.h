// sim/sched/fiber.h: host execution contexts for the simulated machine's kernel paths.
//
// A Fiber is a function running on a stack of its own, entered and left with SwitchTo on
// the one host thread that drives a Machine: the scheduler (sim/sched/scheduler.h) gives
// each concurrent call a fiber and switches between them at the kernel's preemption
// points, so which path runs next is the scheduler's choice, never the host's. Switching
// is ucontext's swapcontext, told to ASan and TSan (their fiber APIs) so both stay exact.
//
// Stacks come from a per-thread pool (mmap'ed, with a PROT_NONE guard page below each, so
// an overflow is a clean SIGSEGV rather than silent corruption) and go back to it when the
// fiber is destroyed: an explorer running thousands of schedules maps them once.
#ifndef MMSIM_SIM_SCHED_FIBER_H_
#define MMSIM_SIM_SCHED_FIBER_H_

#include <ucontext.h>

#include <cstddef>
#include <functional>

namespace sim {

class Fiber {
 public:
  // The calling thread's own context (its stack), to switch back to.
  Fiber();
  // A context that runs fn() when first switched to. fn must not return normally; it
  // ends by switching away for the last time (see Finish).
  explicit Fiber(std::function<void()> fn);
  ~Fiber();
  Fiber(const Fiber&) = delete;
  Fiber& operator=(const Fiber&) = delete;

  // Suspends the running context (`this`, which must be the one running) and resumes
  // `to`. Returns when something switches back to this one.
  void SwitchTo(Fiber* to);
  // Like SwitchTo, for a fiber whose function is done: it will never be resumed, and its
  // stack may be reused once `to` runs.
  [[noreturn]] void Finish(Fiber* to);
  // This fiber will never run again and its stack is kept forever (a deadlocked path): the
  // objects its frames point to stay reachable for LeakSanitizer, which is told to scan
  // the stack as a root. The caller must then never destroy the Fiber.
  void Abandon();

  static constexpr size_t kStackBytes =
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
      4u << 20;
#else
      1u << 20;
#endif

 private:
  static void Trampoline();
  void BeforeSwitch(Fiber* to, bool finishing);
  void AfterSwitch();

  std::function<void()> fn_;
  ucontext_t ctx_;
  void* stack_ = nullptr;  // usable stack (null for the thread's own context)
  void* tsan_fiber_ = nullptr;
  bool own_tsan_fiber_ = false;
  bool started_ = false;
  void* asan_fake_stack_ = nullptr;
  const void* asan_from_bottom_ = nullptr;  // set on the context being left
  size_t asan_from_size_ = 0;
};

}  // namespace sim

#endif  // MMSIM_SIM_SCHED_FIBER_H_
