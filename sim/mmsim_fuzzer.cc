// sim/mmsim_fuzzer.cc: libFuzzer entry point for the parser and the interpreter together.
//
// Every input is parsed; a scenario that parses is run on a small machine. The promise
// checked is the program's: no input crashes or hangs mmsim, and the exit status is one
// of 0, 1, 2, 3. Sanitizers (the fuzz config builds with ASan+UBSan) turn any memory error
// in the parser, the interpreter, the simulated kernel or the hardware model into a crash.
//
// Bounds, so that one input cannot take seconds: the machine is capped at 16 MiB and 2
// CPUs, and scenarios whose statements move more than 1 MiB at once are skipped (they are
// valid, just slow; the parser's own limits are exercised by the parser fuzzer), and so are
// explore blocks of more than 16 runs or more than one preemption.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <sstream>
#include <variant>

#include "absl/strings/string_view.h"
#include "sim/interpreter.h"
#include "sim/scenario/parser.h"

namespace {

using namespace sim::scenario;  // NOLINT

constexpr uint64_t kMaxBytes = 1 << 20;

bool TooBig(const Statement& s) {
  if (const auto* m = std::get_if<MmapStmt>(&s)) return m->len > (64ull << 20);
  if (const auto* f = std::get_if<FillStmt>(&s)) return f->len > kMaxBytes;
  if (const auto* l = std::get_if<LoadStmt>(&s)) return l->len > kMaxBytes;
  if (const auto* st = std::get_if<StoreStmt>(&s)) return DataLength(st->data) > kMaxBytes;
  if (const auto* e = std::get_if<ExpectMemStmt>(&s)) return DataLength(e->data) > kMaxBytes;
  if (const auto* e = std::get_if<ExpectStmt>(&s)) {
    if (const auto* d = std::get_if<ExpectData>(&e->result)) return DataLength(d->data) > kMaxBytes;
  }
  if (const auto* e = std::get_if<ExpectSameStmt>(&s)) return e->len > kMaxBytes;
  if (const auto* v = std::get_if<ShowStmt>(&s)) {
    if (const auto* p = std::get_if<ShowPagemap>(&v->what)) return p->len > kMaxBytes;
  }
  // Explorations: a few runs of small blocks.
  if (const auto* e = std::get_if<ExploreStmt>(&s)) {
    if (e->mode == ExploreStmt::Mode::kAll) return e->preemptions.value_or(2) > 1;
    return e->runs > 16;
  }
  if (const auto* p = std::get_if<ProcessVmRwStmt>(&s)) {
    uint64_t total = 0;
    if (const auto* l = std::get_if<std::vector<Iovec>>(&p->remote)) {
      for (const Iovec& v : *l) total += v.iov_len > kMaxBytes ? kMaxBytes + 1 : v.iov_len;
    }
    return total > kMaxBytes;
  }
  return false;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  absl::string_view text(reinterpret_cast<const char*>(data), size);
  absl::StatusOr<Scenario> scenario = ParseScenario(text, "fuzz.mms");
  if (!scenario.ok()) return 0;
  for (const Statement& s : scenario->statements) {
    if (TooBig(s)) return 0;
  }
  sim::InterpreterOptions options;
  options.machine.memory_bytes = 16ull << 20;
  options.machine.cpus = 2;
  options.memory_set = options.cpus_set = true;  // the scenario's `machine` may not raise them
  options.check_vm = true;
  std::ostringstream out, err;
  int status;
  {
    sim::Interpreter interp(options, out, err);
    status = interp.Run(*scenario);
  }
  if (status != sim::kExitOk && status != sim::kExitExpectationFailed &&
      status != sim::kExitInvalid && status != sim::kExitRuntimeError) {
    std::fprintf(stderr, "mmsim_fuzzer: exit status %d\n", status);
    std::abort();
  }
  // debug_vm must never find the machine inconsistent, whatever the scenario did.
  if (out.str().find("debug_vm check failed") != std::string::npos) {
    std::fprintf(stderr, "mmsim_fuzzer: debug_vm violation\n%s\n", out.str().c_str());
    std::abort();
  }
  return 0;
}
