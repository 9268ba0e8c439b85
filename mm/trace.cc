// mm/trace.cc: the out-of-line halves of the trace points (see mm/trace.h).
#include "mm/trace.h"

namespace kernel {
namespace trace_internal {

void enter_noargs(const char* fn) { kst().observer->on_enter(fn, std::string()); }

void leave(const char* fn, long ret, bool has_ret) {
  // The observer may have been removed while the function ran (the interpreter's
  // `trace off`, a test's scope ending).
  if (kst_or_null() != nullptr && kst().observer != nullptr)
    kst().observer->on_exit(fn, ret, has_ret);
}

}  // namespace trace_internal
}  // namespace kernel
