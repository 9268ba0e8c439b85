// sim/scenario/error_check.h: test helper that checks a parse error has the
// contract format `FILE:LINE:COL: expected X, got Y` with a position inside the
// input. Shared by the fuzzer, its corpus test and the robustness test.
#ifndef MMSIM_SIM_SCENARIO_ERROR_CHECK_H_
#define MMSIM_SIM_SCENARIO_ERROR_CHECK_H_

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace sim::scenario {

struct ErrorPosition {
  int line = 0;
  int col = 0;
};

// OK if `error` is an InvalidArgument whose message is
// "<filename>:LINE:COL: expected X, got Y", where LINE is a line of `text`
// (1-based; lines split at '\n') and 1 <= COL <= that line's length + 1.
// Otherwise an error saying what is wrong. On success *pos (if not null)
// receives the position.
absl::Status CheckParseError(const absl::Status& error, absl::string_view text,
                             absl::string_view filename, ErrorPosition* pos = nullptr);

}  // namespace sim::scenario

#endif  // MMSIM_SIM_SCENARIO_ERROR_CHECK_H_
