// sim/scenario/parser.h: scenario text -> typed AST (sim/scenario/ast.h).
//
// Example:
//   absl::StatusOr<Scenario> s = ParseScenario(text, "tests/cow.mms");
//   if (!s.ok()) {
//     // s.status().message() is "tests/cow.mms:12:9: expected PROT like rw- or r-x, got 'rw+'"
//   }
//
// The language is described in docs/scenario-language.md. Input is untrusted:
// nothing in it can crash the parser, make it loop, or make it allocate much
// more than the input's size (repeat/pattern DATA stays a descriptor; literal
// DATA is bounded by the line length). Every error is an InvalidArgument
// status whose message is
//     FILE:LINE:COL: expected X, got Y
// where LINE and COL (1-based, COL in bytes) locate the offending token.
// Parsing stops at the first error.
//
// Besides the grammar the parser enforces, with positions:
//   * `machine` only as the first statement;
//   * names (let, process, thread, kthread, file, fork CHILD) are identifiers
//     of at most kMaxNameBytes bytes, not keywords, declared once, and declared
//     before use; all kinds share one namespace;
//   * `expect` only right after a statement that produces a result
//     (ProducesResult() in ast.h);
//   * the shape of together and explore blocks (ast.h, "Concurrency: blocks"): what may
//     stand inside each, each task at most once in a together block, no nesting, every
//     block closed by `end`, outcome assertions naming tasks of the explored block;
//   * the size limits below.
#ifndef MMSIM_SIM_SCENARIO_PARSER_H_
#define MMSIM_SIM_SCENARIO_PARSER_H_

#include <cstdint>
#include <memory>
#include <optional>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "sim/scenario/ast.h"

namespace sim::scenario {

// Limits. They keep a hostile scenario from making the parser, or later the
// interpreter, use unbounded memory or time. Deliberately above what the
// kernel accepts where a scenario must be able to exceed the kernel's limit
// (1025 iovecs against UIO_MAXIOV = 1024).
inline constexpr uint64_t kKiB = uint64_t{1} << 10;
inline constexpr uint64_t kMiB = uint64_t{1} << 20;
inline constexpr uint64_t kGiB = uint64_t{1} << 30;
inline constexpr size_t kMaxLineBytes = 64 * kKiB;   // longer lines are an error
inline constexpr int kMaxNameBytes = 64;             // let/process/thread/file names
inline constexpr int kMaxNesting = 64;               // parentheses and unary minus in a NUM
inline constexpr size_t kMaxIovecs = 4096;           // elements of one [ADDR:LEN, ...] list
inline constexpr uint64_t kMaxStoreBytes = 64 * kMiB;   // DATA of `store`
inline constexpr uint64_t kMaxLoadBytes = 64 * kMiB;    // LEN of `load` (its result is kept)
inline constexpr uint64_t kMaxDataBytes = 1 * kGiB;     // any DATA, repeat(LEN,..), pattern(LEN)
inline constexpr uint64_t kMaxAccessBytes = 1 * kGiB;   // LEN of fill, expect-same, show pagemap
inline constexpr uint64_t kMaxFileBytes = 1 * kGiB;     // file size=
inline constexpr uint64_t kMinMachineMemory = 1 * kMiB;   // machine memory= (what boots)
inline constexpr uint64_t kMaxMachineMemory = 64 * kGiB;  // machine memory=
inline constexpr uint32_t kMaxCpus = 64;                  // machine cpus=
inline constexpr size_t kMaxDotTasks = 16;                // show dot TASK ...

// Parses a whole scenario. `filename` is used in positions and messages only.
// Lines are separated by '\n'; a '\r' before it is whitespace.
absl::StatusOr<Scenario> ParseScenario(absl::string_view text, absl::string_view filename);

// A parser fed one line at a time, for interactive use. It keeps the symbol
// table and the "previous statement" state across calls; line numbers count
// the calls (the first call is line 1). A line that fails to parse changes no
// state except the line number, so the caller may report the error and go on.
class IncrementalParser {
 public:
  explicit IncrementalParser(absl::string_view filename);
  ~IncrementalParser();
  IncrementalParser(IncrementalParser&&) noexcept;
  IncrementalParser& operator=(IncrementalParser&&) noexcept;

  // Parses one line (one trailing '\n' is allowed and ignored; any other '\n'
  // is an error). Returns nullopt for a blank or comment-only line.
  absl::StatusOr<std::optional<Statement>> ParseLine(absl::string_view line);

  // Number of the line the last ParseLine call parsed (0 before any).
  int line_number() const;

  // At the end of the input: an error if a together or explore block is still open
  // (positioned on the line after the last one), else OK.
  absl::Status Finish() const;

 private:
  struct State;
  std::unique_ptr<State> state_;
};

}  // namespace sim::scenario

#endif  // MMSIM_SIM_SCENARIO_PARSER_H_
