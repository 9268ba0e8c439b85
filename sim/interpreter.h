// sim/interpreter.h: runs a scenario (sim/scenario/ast.h) on a Machine.
//
// Each statement is echoed with its line number and its result, strace style:
//   [12] reader: process_vm_readv target [0x7f1000000000:16K] [0x7f0000002000:8K] = 4096
// `expect` lines check the previous statement; a failed expectation prints
//   FILE:LINE: expectation failed: expected X, got Y
// and the run goes on. A statement the machine cannot carry out (a runtime error: a name
// that never came into being because fork failed, `show maps` of an exited process, a
// CPU the machine does not have, a process the machine cannot create) stops the run with
//   FILE:LINE: runtime error: what failed
// An invalid scenario detected only at run time (an unknown fault point) stops it with
//   FILE:LINE:COL: expected X, got Y
// Step (interactive use) reports both the same way and leaves the machine usable: the
// failed statement had no effect, and the next one runs.
//
// Exit status (Run's return value, exit_status()): 2 the scenario was invalid; else 3 a
// runtime error happened; else 1 at least one expectation failed (or, with check_vm, the
// machine became inconsistent); else 0.
#ifndef MMSIM_SIM_INTERPRETER_H_
#define MMSIM_SIM_INTERPRETER_H_

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <ostream>
#include <string>

#include "absl/status/statusor.h"
#include "sim/machine.h"
#include "sim/result_format.h"
#include "sim/scenario/ast.h"
#include "sim/trace/recorder.h"

namespace sim {

struct InterpreterOptions {
  MachineConfig machine;           // overridden by a `machine` statement, then by flags
  bool memory_set = false, cpus_set = false, tlb_set = false, seed_set = false;  // by flags
  TraceLevel trace = TraceLevel::kOff;
  bool trace_json = false;         // collect Chrome JSON instead of printing text
  bool check_vm = false;           // debug_vm after every statement
  std::ostream* trace_out = nullptr;  // text traces go here (null: with the echo)
};

inline constexpr int kExitOk = 0;
inline constexpr int kExitExpectationFailed = 1;
inline constexpr int kExitInvalid = 2;
inline constexpr int kExitRuntimeError = 3;

class Interpreter {
 public:
  Interpreter(InterpreterOptions options, std::ostream& out, std::ostream& err);
  ~Interpreter();

  // Runs a whole scenario; returns the exit status.
  int Run(const scenario::Scenario& scenario);
  // Runs one statement (interactive use). Returns false if the run must stop.
  bool Step(const scenario::Statement& stmt);
  int exit_status() const;
  // The Chrome trace JSON of everything recorded (when options.trace_json).
  std::string TraceJson() const;
  Machine* machine() { return machine_.get(); }
  // The pid a scenario name stands for, if that task was created.
  std::optional<int> PidOfName(const std::string& name) const {
    auto it = pids_.find(name);
    return it == pids_.end() ? std::nullopt : std::optional<int>(it->second);
  }

 private:
  using LastResult = StatementResult;  // sim/result_format.h

  bool EnsureMachine(const scenario::SourcePos& pos);
  bool Fail(const scenario::SourcePos& pos, const std::string& what);  // exit 2
  bool RuntimeError(const scenario::SourcePos& pos, const std::string& what);  // exit 3
  void ExpectFailed(const scenario::SourcePos& pos, const std::string& want,
                    const std::string& got);
  std::optional<int> Pid(const scenario::SourcePos& pos, const std::string& name);
  std::string FormatSys(const SysResult& r) const;
  std::string FormatAccess(const UserAccess& a, bool load, uint64_t len) const;
  std::string Materialize(const scenario::Data& data, uint64_t anchor) const;
  // Hooks the trace recorder into the machine while tracing is on (attach false, or
  // tracing off: unhooks it). The only place the interpreter attaches anything.
  void Instrument(bool attach);

  // Execute dispatches a statement to the handler of its kind (On). A handler sets
  // *result (the text after " = ", or a view's output) and returns false to stop the run.
  bool Execute(const scenario::Statement& stmt, std::string* result);
  template <class S>
  bool On(const S& s, std::string* result);  // kinds Step handles itself
  bool On(const scenario::ProcessStmt& s, std::string* result);
  bool On(const scenario::ThreadStmt& s, std::string* result);
  bool On(const scenario::KthreadStmt& s, std::string* result);
  bool On(const scenario::FileStmt& s, std::string* result);
  bool On(const scenario::MmapStmt& s, std::string* result);
  bool On(const scenario::MunmapStmt& s, std::string* result);
  bool On(const scenario::MprotectStmt& s, std::string* result);
  bool On(const scenario::StoreStmt& s, std::string* result);
  bool On(const scenario::FillStmt& s, std::string* result);
  bool On(const scenario::LoadStmt& s, std::string* result);
  bool On(const scenario::ProcessVmRwStmt& s, std::string* result);
  bool On(const scenario::ForkStmt& s, std::string* result);
  bool On(const scenario::ExitStmt& s, std::string* result);
  bool On(const scenario::ReapStmt& s, std::string* result);
  bool On(const scenario::SetresuidStmt& s, std::string* result);
  bool On(const scenario::SetresgidStmt& s, std::string* result);
  bool On(const scenario::CapsetStmt& s, std::string* result);
  bool On(const scenario::DumpableStmt& s, std::string* result);
  bool On(const scenario::ExpectMemStmt& s, std::string* result);
  bool On(const scenario::ExpectSameStmt& s, std::string* result);
  bool On(const scenario::ShowStmt& s, std::string* result);
  bool On(const scenario::FailStmt& s, std::string* result);
  bool On(const scenario::TraceStmt& s, std::string* result);
  // What the handlers share: record a syscall's or a user access's result as the one
  // `expect` checks; resolve a PID argument; render a `show` view.
  bool SysDone(SysResult r, std::string* result);
  bool AccessDone(UserAccess a, uint64_t addr, bool load, uint64_t len, std::string* result);
  std::optional<int> PidOf(const scenario::SourcePos& pos, const scenario::PidRef& ref);
  absl::StatusOr<std::string> View(const scenario::SourcePos& pos, const scenario::ShowWhat& what);
  bool CheckExpect(const scenario::ExpectStmt& e);
  void FlushTrace();

  InterpreterOptions options_;
  std::ostream& out_;
  std::ostream& err_;
  std::unique_ptr<Machine> machine_;
  std::unique_ptr<TraceRecorder> recorder_;
  std::map<std::string, int> pids_;
  std::map<std::string, int> files_;  // `file` names -> Machine::CreateFile descriptors
  LastResult last_;
  int failures_ = 0;
  bool invalid_ = false;
  bool runtime_error_ = false;
  int runtime_error_line_ = 0;  // of the first one
  std::string json_;
};

}  // namespace sim

#endif  // MMSIM_SIM_INTERPRETER_H_
