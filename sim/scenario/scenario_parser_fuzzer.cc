// sim/scenario/scenario_parser_fuzzer.cc: libFuzzer entry point for the parser.
//
// For every input it checks what the parser promises:
//   * an error is `FILE:LINE:COL: expected X, got Y` with a position inside the input;
//   * a scenario that parses prints back (FormatScenario) to text that parses
//     to the same statements, and printing that again gives the same text;
//   * the line-at-a-time parser, closed with Finish(), agrees with the whole-file parser.
// A broken promise aborts, which libFuzzer reports as a crash. Built as a
// fuzzer with --config=fuzz (clang), and with gcc into scenario_parser_fuzzer_test.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <string>

#include "absl/strings/string_view.h"
#include "sim/scenario/ast.h"
#include "sim/scenario/error_check.h"
#include "sim/scenario/format.h"
#include "sim/scenario/parser.h"

namespace {

using ::sim::scenario::Statement;

[[noreturn]] void Fail(const char* what, absl::string_view detail) {
  std::fprintf(stderr, "scenario_parser_fuzzer: %s: %.*s\n", what, static_cast<int>(detail.size()),
               detail.data());
  std::abort();
}

void CheckIncremental(absl::string_view text, const absl::StatusOr<sim::scenario::Scenario>& whole) {
  sim::scenario::IncrementalParser inc("fuzz.mms");
  size_t n = 0;
  size_t start = 0;
  for (;;) {
    const size_t nl = text.find('\n', start);
    absl::string_view line =
        text.substr(start, nl == absl::string_view::npos ? absl::string_view::npos : nl - start);
    absl::StatusOr<std::optional<Statement>> r = inc.ParseLine(line);
    if (!r.ok()) {
      if (whole.ok() || whole.status() != r.status()) {
        Fail("incremental parser disagrees", r.status().message());
      }
      return;
    }
    if (r->has_value()) {
      if (whole.ok() && (n >= whole->statements.size() || !(whole->statements[n] == **r))) {
        Fail("incremental parser statement differs", line);
      }
      ++n;
    }
    if (nl == absl::string_view::npos) break;
    start = nl + 1;
  }
  // The end of the input closes it, as the CLI's stdin session does: a block still open
  // is the same error the whole-file parser reports.
  const absl::Status fin = inc.Finish();
  if (!fin.ok()) {
    if (whole.ok() || whole.status() != fin) Fail("incremental parser disagrees at the end", fin.message());
    return;
  }
  if (!whole.ok()) Fail("incremental parser accepted what the whole parser rejected", whole.status().message());
  if (n != whole->statements.size()) Fail("incremental parser statement count differs", "");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const absl::string_view text(reinterpret_cast<const char*>(data), size);
  const absl::StatusOr<sim::scenario::Scenario> parsed =
      sim::scenario::ParseScenario(text, "fuzz.mms");
  CheckIncremental(text, parsed);
  if (!parsed.ok()) {
    absl::Status s = sim::scenario::CheckParseError(parsed.status(), text, "fuzz.mms");
    if (!s.ok()) Fail("bad error", s.message());
    return 0;
  }
  const std::string printed = sim::scenario::FormatScenario(*parsed);
  const absl::StatusOr<sim::scenario::Scenario> again =
      sim::scenario::ParseScenario(printed, "printed.mms");
  if (!again.ok()) Fail("printed scenario does not parse", again.status().message());
  if (again->statements.size() != parsed->statements.size()) Fail("statement count", printed);
  for (size_t i = 0; i < parsed->statements.size(); ++i) {
    if (!sim::scenario::SameIgnoringPos(parsed->statements[i], again->statements[i])) {
      Fail("round trip changed a statement",
           sim::scenario::FormatStatement(parsed->statements[i]));
    }
  }
  if (sim::scenario::FormatScenario(*again) != printed) Fail("printing is not idempotent", printed);
  return 0;
}
