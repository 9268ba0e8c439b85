// mm/bug.cc: reporting for BUG_ON / WARN_ON (lib/bug.c, much reduced).
#include "mm/bug.h"

#include <cstdio>
#include <cstdlib>

namespace kernel {
namespace {
thread_local unsigned long warn_count;
}  // namespace

void kernel_bug(const char* file, int line, const char* cond) {
  std::fprintf(stderr, "kernel BUG at %s:%d: %s\n", file, line, cond);
  std::fflush(stderr);
  std::abort();
}

bool kernel_warn(const char* file, int line, const char* cond) {
  ++warn_count;
  std::fprintf(stderr, "WARNING: at %s:%d: %s\n", file, line, cond);
  return true;
}

unsigned long kernel_warn_count() { return warn_count; }

}  // namespace kernel
