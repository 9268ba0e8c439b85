// mm/trace.h: trace points of the kernel port (the role of include/trace/events/*.h).
//
// When no observer is installed (kst().observer == nullptr) a trace point costs one
// predictable branch and formats nothing. sim/trace implements kernel_observer and renders
// the call tree as indented text or Chrome trace-event JSON.
//
// Use:
//   long process_vm_rw_core(...) {
//     trace_call tc("process_vm_rw_core", "pid=%d riovcnt=%lu vm_write=%d", pid, riovcnt, vm_write);
//     ...
//     return tc.ret(rc);          // records the return value shown on exit
//   }
//   trace_event("mm_page_alloc", "pfn=%#lx order=%u", pfn, order);
#ifndef MMSIM_MM_TRACE_H_
#define MMSIM_MM_TRACE_H_

#include <string>
#include <type_traits>

#include "absl/base/attributes.h"
#include "absl/strings/str_format.h"
#include "mm/kernel.h"

namespace kernel {

struct kernel_observer {
  virtual ~kernel_observer() = default;
  // A kernel function was entered with these (already formatted) arguments.
  virtual void on_enter(const char* fn, const std::string& args) {}
  // ...and returned. has_ret is false for void functions.
  virtual void on_exit(const char* fn, long ret, bool has_ret) {}
  // A point event inside the current function: page allocation, pin, fault, flush ...
  virtual void on_event(const char* name, const std::string& detail) {}
};

inline bool trace_enabled() { return unlikely(kst().observer != nullptr); }

// The formatting and the observer calls, out of line and cold, so that a disabled trace
// point adds only a test (and a cold call) to the function it sits in. Measured on the
// copy loop (bench/pvm_bench, -c opt): with trace points compiled out entirely an 8-byte
// process_vm_readv takes ~98 ns and a 64 KiB one ~1.20 us; with run-time trace points
// inline 112 ns and ~1.27 us; out of line, as here, 106-108 ns and ~1.25-1.28 us.
namespace trace_internal {
template <typename... Args>
ABSL_ATTRIBUTE_NOINLINE ABSL_ATTRIBUTE_COLD void enter(const char* fn,
                                                       const absl::FormatSpec<Args...>& fmt,
                                                       const Args&... args) {
  kst().observer->on_enter(fn, absl::StrFormat(fmt, args...));
}
template <typename... Args>
ABSL_ATTRIBUTE_NOINLINE ABSL_ATTRIBUTE_COLD void event(const char* name,
                                                       const absl::FormatSpec<Args...>& fmt,
                                                       const Args&... args) {
  kst().observer->on_event(name, absl::StrFormat(fmt, args...));
}
void enter_noargs(const char* fn);                  // mm/trace.cc
void leave(const char* fn, long ret, bool has_ret);  // mm/trace.cc
}  // namespace trace_internal

class trace_call {
 public:
  template <typename... Args>
  trace_call(const char* fn, const absl::FormatSpec<Args...>& fmt, const Args&... args) : fn_(fn) {
    if (trace_enabled()) {
      on_ = true;
      trace_internal::enter(fn, fmt, args...);
    }
  }
  explicit trace_call(const char* fn) : fn_(fn) {
    if (trace_enabled()) {
      on_ = true;
      trace_internal::enter_noargs(fn);
    }
  }
  ~trace_call() {
    if (unlikely(on_)) trace_internal::leave(fn_, ret_, has_ret_);
  }
  trace_call(const trace_call&) = delete;
  trace_call& operator=(const trace_call&) = delete;

  // Records the value the function returns; returns it unchanged.
  // An ERR_PTR result shows as its negative errno; any other pointer shows nothing, since
  // host addresses differ from run to run and traces must be byte-identical.
  template <typename T>
  T ret(T value) {
    if constexpr (std::is_pointer_v<T>) {
      const long v = reinterpret_cast<long>(value);
      has_ret_ = v < 0 && v >= -static_cast<long>(MAX_ERRNO);
      ret_ = has_ret_ ? v : 0;
    } else {
      ret_ = static_cast<long>(value);
      has_ret_ = true;
    }
    return value;
  }

 private:
  const char* fn_;
  long ret_ = 0;
  bool on_ = false;
  bool has_ret_ = false;
};

template <typename... Args>
inline void trace_event(const char* name, const absl::FormatSpec<Args...>& fmt, const Args&... args) {
  if (trace_enabled()) trace_internal::event(name, fmt, args...);
}

}  // namespace kernel

#endif  // MMSIM_MM_TRACE_H_
