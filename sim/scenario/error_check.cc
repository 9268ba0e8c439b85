#include "sim/scenario/error_check.h"

#include <cstddef>
#include <cstdint>

#include "absl/status/status.h"
#include "absl/strings/strip.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"

namespace sim::scenario {
namespace {

// Reads decimal digits up to `sep`; advances *s past the separator.
bool ReadInt(absl::string_view* s, char sep, int* out) {
  const size_t end = s->find(sep);
  if (end == absl::string_view::npos || end == 0) return false;
  if (!absl::SimpleAtoi(s->substr(0, end), out)) return false;
  s->remove_prefix(end + 1);
  return true;
}

}  // namespace

absl::Status CheckParseError(const absl::Status& error, absl::string_view text,
                             absl::string_view filename, ErrorPosition* pos) {
  if (error.ok()) return absl::InternalError("not an error");
  if (error.code() != absl::StatusCode::kInvalidArgument) {
    return absl::InternalError(absl::StrCat("code is not InvalidArgument: ", error.ToString()));
  }
  absl::string_view msg = error.message();
  const std::string bad = absl::StrCat("malformed message: ", msg);
  if (!absl::ConsumePrefix(&msg, filename) || !absl::ConsumePrefix(&msg, ":")) {
    return absl::InternalError(bad);
  }
  int line = 0, col = 0;
  if (!ReadInt(&msg, ':', &line) || !ReadInt(&msg, ':', &col)) return absl::InternalError(bad);
  if (!absl::ConsumePrefix(&msg, " expected ")) return absl::InternalError(bad);
  if (msg.find(", got ") == absl::string_view::npos) return absl::InternalError(bad);

  // Find line `line` of the text.
  size_t start = 0;
  for (int i = 1; i < line; ++i) {
    const size_t nl = text.find('\n', start);
    if (nl == absl::string_view::npos) {
      return absl::InternalError(absl::StrCat("line ", line, " is past the end: ", msg));
    }
    start = nl + 1;
  }
  if (line < 1) return absl::InternalError(bad);
  size_t end = text.find('\n', start);
  if (end == absl::string_view::npos) end = text.size();
  const int64_t len = static_cast<int64_t>(end - start);
  if (col < 1 || col > len + 1) {
    return absl::InternalError(
        absl::StrCat("column ", col, " outside line ", line, " of length ", len, ": ", msg));
  }
  if (pos != nullptr) *pos = ErrorPosition{line, col};
  return absl::OkStatus();
}

}  // namespace sim::scenario
