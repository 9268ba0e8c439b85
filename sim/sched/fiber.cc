// sim/sched/fiber.cc: see fiber.h.
#include "sim/sched/fiber.h"

#include <sys/mman.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <utility>
#include <vector>

#if defined(__SANITIZE_ADDRESS__)
#include <sanitizer/common_interface_defs.h>
#include <sanitizer/lsan_interface.h>
#endif
#if defined(__SANITIZE_THREAD__)
#include <sanitizer/tsan_interface.h>
#endif

namespace sim {
namespace {

[[noreturn]] void Die(const char* what) {
  std::fprintf(stderr, "mmsim: fiber: %s\n", what);
  std::abort();
}

size_t GuardBytes() { return static_cast<size_t>(sysconf(_SC_PAGESIZE)); }

// Set when this thread's pool is gone (trivially destructible, so still readable after):
// a fiber destroyed later (a Machine held in a static, destroyed at exit after the
// thread_local pool) unmaps its stack itself.
thread_local bool stack_pool_gone = false;

// The per-thread pool of stacks (each mapping: guard page, then kStackBytes).
struct StackPool {
  std::vector<void*> free;
  ~StackPool() {
    stack_pool_gone = true;
    for (void* base : free) munmap(base, GuardBytes() + Fiber::kStackBytes);
  }
};
thread_local StackPool stack_pool;

void* AllocStack() {
  void* base;
  if (!stack_pool.free.empty()) {
    base = stack_pool.free.back();
    stack_pool.free.pop_back();
  } else {
    base = mmap(nullptr, GuardBytes() + Fiber::kStackBytes, PROT_READ | PROT_WRITE,
                MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (base == MAP_FAILED) Die("cannot map a stack (host memory exhausted)");
    if (mprotect(base, GuardBytes(), PROT_NONE) != 0) Die("cannot protect a stack guard page");
  }
  return static_cast<char*>(base) + GuardBytes();
}

void FreeStack(void* stack) {
  void* base = static_cast<char*>(stack) - GuardBytes();
  if (stack_pool_gone) {
    munmap(base, GuardBytes() + Fiber::kStackBytes);
    return;
  }
  stack_pool.free.push_back(base);
}

thread_local Fiber* starting = nullptr;     // the fiber Trampoline runs
thread_local Fiber* switching_from = nullptr;  // for ASan: whose stack was left

}  // namespace

Fiber::Fiber() {
#if defined(__SANITIZE_THREAD__)
  tsan_fiber_ = __tsan_get_current_fiber();
#endif
}

Fiber::Fiber(std::function<void()> fn) : fn_(std::move(fn)) {
  stack_ = AllocStack();
  if (getcontext(&ctx_) != 0) Die("getcontext failed");
  ctx_.uc_stack.ss_sp = stack_;
  ctx_.uc_stack.ss_size = kStackBytes;
  ctx_.uc_link = nullptr;
  makecontext(&ctx_, &Fiber::Trampoline, 0);
#if defined(__SANITIZE_THREAD__)
  tsan_fiber_ = __tsan_create_fiber(0);
  own_tsan_fiber_ = true;
#endif
}

Fiber::~Fiber() {
#if defined(__SANITIZE_THREAD__)
  if (own_tsan_fiber_) __tsan_destroy_fiber(tsan_fiber_);
#endif
  if (stack_ != nullptr) FreeStack(stack_);
}

void Fiber::BeforeSwitch(Fiber* to, bool finishing) {
  switching_from = this;
  if (to->stack_ != nullptr && !to->started_) {
    to->started_ = true;
    starting = to;
  }
#if defined(__SANITIZE_ADDRESS__)
  // A finishing fiber passes no save slot: ASan drops its fake stack.
  __sanitizer_start_switch_fiber(finishing ? nullptr : &asan_fake_stack_,
                                 to->stack_ != nullptr ? to->stack_ : to->asan_from_bottom_,
                                 to->stack_ != nullptr ? kStackBytes : to->asan_from_size_);
#else
  (void)finishing;
#endif
}

// Tells TSan that `to` runs from now on. It must come right before swapcontext/setcontext,
// in the function that switches: TSan keeps a shadow call stack per fiber, and any
// instrumented function return after this call pops a frame off `to`'s stack instead of
// ours. (It used to sit at the end of BeforeSwitch: that return popped the wrong fiber
// whenever BeforeSwitch was not inlined; -O3 inlines it into SwitchTo but not into the
// cold Finish, so every finished fiber took one frame off the thread's shadow stack until
// it underflowed and TSan crashed hashing it. At -O0 it was inlined nowhere: a new fiber's
// shadow stack started one frame below its buffer.)
#if defined(__SANITIZE_THREAD__)
#define TSAN_SWITCH_TO_FIBER(to) __tsan_switch_to_fiber((to)->tsan_fiber_, 0)
#else
#define TSAN_SWITCH_TO_FIBER(to) ((void)(to))
#endif

void Fiber::AfterSwitch() {
#if defined(__SANITIZE_ADDRESS__)
  const void* bottom = nullptr;
  size_t size = 0;
  __sanitizer_finish_switch_fiber(asan_fake_stack_, &bottom, &size);
  // The context we came from: a thread's own stack learns its bounds here.
  if (switching_from != nullptr && switching_from->stack_ == nullptr) {
    switching_from->asan_from_bottom_ = bottom;
    switching_from->asan_from_size_ = size;
  }
#endif
}

void Fiber::SwitchTo(Fiber* to) {
  BeforeSwitch(to, false);
  TSAN_SWITCH_TO_FIBER(to);
  if (swapcontext(&ctx_, &to->ctx_) != 0) Die("swapcontext failed");
  AfterSwitch();
}

void Fiber::Finish(Fiber* to) {
  BeforeSwitch(to, true);
  TSAN_SWITCH_TO_FIBER(to);
  setcontext(&to->ctx_);
  Die("setcontext failed");
}

void Fiber::Abandon() {
#if defined(__SANITIZE_ADDRESS__)
  if (stack_ != nullptr) __lsan_register_root_region(stack_, kStackBytes);
#endif
}

void Fiber::Trampoline() {
  Fiber* self = starting;
  starting = nullptr;
  self->AfterSwitch();
  self->fn_();
  Die("a fiber's function returned instead of finishing");
}

}  // namespace sim
