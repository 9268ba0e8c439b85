// hw/check.h: CHECK and DCHECK for the simulator's own invariants.
//
// The Abseil on this machine (20220623) has no absl/log, so hw/ carries this
// small pair. They are for our own invariants only, never for user input:
//
//   CHECK(cond)   evaluated in every build; on failure prints
//                 "file:line: CHECK failed: cond" to stderr and aborts.
//   DCHECK(cond)  the same in debug builds; under NDEBUG the condition is
//                 type-checked but not evaluated (no cost, no side effects).
//
// Both accept an optional trailing message: CHECK(x < n, "pfn out of range").
#ifndef MMSIM_HW_CHECK_H_
#define MMSIM_HW_CHECK_H_

#include "absl/base/optimization.h"

namespace hw {
namespace check_internal {

// Prints "file:line: CHECK failed: expr [message]" and aborts. Out of line so
// the failure path adds one call to the caller, not the printing code.
[[noreturn]] void CheckFailed(const char* file, int line, const char* expr,
                              const char* message);

}  // namespace check_internal
}  // namespace hw

#define HW_CHECK_IMPL_(cond, msg)                                        \
  (ABSL_PREDICT_TRUE(cond)                                               \
       ? static_cast<void>(0)                                            \
       : ::hw::check_internal::CheckFailed(__FILE__, __LINE__, #cond, msg))

#define HW_CHECK_PICK_(_1, _2, NAME, ...) NAME
#define HW_CHECK1_(cond) HW_CHECK_IMPL_(cond, nullptr)
#define HW_CHECK2_(cond, msg) HW_CHECK_IMPL_(cond, msg)

#ifndef CHECK
#define CHECK(...) \
  HW_CHECK_PICK_(__VA_ARGS__, HW_CHECK2_, HW_CHECK1_, unused)(__VA_ARGS__)
#endif

#ifndef DCHECK
#ifdef NDEBUG
// `true || (cond)` keeps the expression compiled (names stay checked) but the
// short-circuit means it is never evaluated.
#define DCHECK(...) \
  HW_CHECK_PICK_(__VA_ARGS__, HW_DCHECK2_OFF_, HW_DCHECK1_OFF_, unused)(__VA_ARGS__)
#define HW_DCHECK1_OFF_(cond) static_cast<void>(true || (cond))
#define HW_DCHECK2_OFF_(cond, msg) static_cast<void>(true || (cond))
#else
#define DCHECK(...) CHECK(__VA_ARGS__)
#endif
#endif

#endif  // MMSIM_HW_CHECK_H_
