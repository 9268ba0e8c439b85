// mm/bug.cc: reporting for BUG_ON / WARN_ON (lib/bug.c at Linux 6.18, much reduced).
#include "mm/bug.h"

#include <cstdio>
#include <cstdlib>

#include "mm/kernel.h"

namespace kernel {

void kernel_bug(const char* file, int line, const char* cond) {
  std::fprintf(stderr, "kernel BUG at %s:%d: %s\n", file, line, cond);
  std::fflush(stderr);
  std::abort();
}

bool kernel_warn(const char* file, int line, const char* cond) {
  // A warning outside any machine (none is simulated on this thread) is printed only.
  if (kernel_state* ks = kst_or_null()) ++ks->warn_count;
  std::fprintf(stderr, "WARNING: at %s:%d: %s\n", file, line, cond);
  return true;
}

void kernel_warn_once(const void* site, const char* file, int line, const char* cond) {
  kernel_state* ks = kst_or_null();
  if (ks != nullptr && !ks->warned_once.insert(site).second) return;
  kernel_warn(file, line, cond);
}

unsigned long kernel_warn_count() {
  kernel_state* ks = kst_or_null();
  return ks != nullptr ? ks->warn_count : 0;
}

}  // namespace kernel
