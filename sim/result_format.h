// sim/result_format.h: how a statement's result is printed and checked, shared by the
// simulator's interpreter (sim/interpreter.h) and the host-kernel runner (sim/host/), so
// both echo a result in the same words and judge an `expect` by the same rule.
#ifndef MMSIM_SIM_RESULT_FORMAT_H_
#define MMSIM_SIM_RESULT_FORMAT_H_

#include <cstdint>
#include <string>

#include "sim/machine.h"
#include "sim/scenario/ast.h"

namespace sim {

// "\"text\"" when the first 64 bytes are printable, else "hex:..."; longer data gets
// "... (N bytes)".
std::string BytesForHumans(const std::string& bytes);
// "SIGSEGV", "SIGBUS", "SIGKILL" (the signals mm/ records for a user access), "no signal"
// (0: an access that stopped without one) or "SIG?" (anything else: a bug).
const char* SignalName(int signo);
// "-1 EFAULT" for a failure, else the return value.
std::string FormatSysResult(const SysResult& r);
// A user access: "SIGSEGV at 0x... (error code 0x...)", a load's bytes, or "0".
std::string FormatAccessResult(const UserAccess& a, bool load);
// The bytes DATA stands for, pattern() anchored at `anchor`.
std::string MaterializeData(const scenario::Data& data, uint64_t anchor);

// The result of a statement as `expect` sees it.
struct StatementResult {
  enum class Kind { kNone, kSys, kAccess } kind = Kind::kNone;
  SysResult sys{0, 0};
  UserAccess access{};
  uint64_t addr = 0;  // where a load read from (anchors pattern DATA)
  uint64_t len = 0;   // bytes a store/fill/load covered
  bool load = false;
};
// What the result prints as (the text after " = ").
std::string FormatStatementResult(const StatementResult& r);
// Whether `want` holds for `got`; *want_text is how the expectation prints.
bool ExpectHolds(const scenario::ExpectResult& want, const StatementResult& got,
                 std::string* want_text);

}  // namespace sim

#endif  // MMSIM_SIM_RESULT_FORMAT_H_
