// hw/check.cc: the failure path of CHECK/DCHECK (see check.h).
#include "hw/check.h"

#include <cstdio>
#include <cstdlib>

namespace hw {
namespace check_internal {

void CheckFailed(const char* file, int line, const char* expr,
                 const char* message) {
  if (message != nullptr) {
    std::fprintf(stderr, "%s:%d: CHECK failed: %s (%s)\n", file, line, expr,
                 message);
  } else {
    std::fprintf(stderr, "%s:%d: CHECK failed: %s\n", file, line, expr);
  }
  std::fflush(stderr);
  std::abort();
}

}  // namespace check_internal
}  // namespace hw
