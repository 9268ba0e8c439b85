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
//
// Blocks (docs/scenario-language.md, "Concurrency"). A `together` block runs when its
// `end` arrives: its operations go to Machine::Together as one call each, under the
// block's policy (or options.schedule); then each result is printed in statement order
// with its line, the `expect` lines check them, and `end` reports the schedule taken.
// An `explore` block runs its together block under many schedules (sim/sched/explore.h),
// each on a fresh machine that replays every statement before the block with its output
// discarded, and prints the distinct outcomes with their counts and schedule ids, then
// checks expect-always / expect-sometimes / expect-never. Explore blocks leave the
// scenario's own machine as it was.
#ifndef MMSIM_SIM_INTERPRETER_H_
#define MMSIM_SIM_INTERPRETER_H_

#include <array>
#include <cstdint>
#include <functional>
#include <map>
#include <vector>
#include <memory>
#include <optional>
#include <ostream>
#include <string>

#include "absl/status/statusor.h"
#include "sim/machine.h"
#include "sim/result_format.h"
#include "sim/sched/schedule.h"
#include "sim/scenario/ast.h"
#include "sim/trace/recorder.h"

namespace sim {

class Interpreter;

// Told after every statement Interpreter::Step takes, for views of the whole run (the
// --html step-through page, sim/html_report.h). Not set: the interpreter does nothing
// extra, and its output is the same byte for byte.
class StepObserver {
 public:
  virtual ~StepObserver() = default;
  // A recorder the interpreter attaches to the machine beside its own trace recorder,
  // whatever the scenario's `trace` level (null: none). The observer owns it, sets its
  // level, and reads and clears it in AfterStatement.
  virtual TraceRecorder* recorder() = 0;
  // After `stmt` (ok: false when it stopped the run). interp.machine() is null until the
  // machine boots.
  virtual void AfterStatement(const scenario::Statement& stmt, bool ok, Interpreter& interp) = 0;
};

struct InterpreterOptions {
  MachineConfig machine;           // overridden by a `machine` statement, then by flags
  bool memory_set = false, cpus_set = false, tlb_set = false, seed_set = false;  // by flags
  bool swap_set = false;  // --swap given
  bool thp_set = false;   // --thp given
  bool thp_defrag_set = false, thp_use_zero_page_set = false;  // --thp_defrag, --thp_use_zero_page
  bool pku_set = false;                                        // --pku
  TraceLevel trace = TraceLevel::kOff;
  bool trace_json = false;         // collect Chrome JSON instead of printing text
  bool check_vm = false;           // debug_vm after every statement
  std::ostream* trace_out = nullptr;  // text traces go here (null: with the echo)
  bool trace_set = false;          // --trace given: it overrides every `trace` statement
                                   // (and --schedule then keeps it)
  // --schedule=ID: every together and explore block runs this one schedule (a canonical
  // ScheduleId), traced in full unless trace_set.
  std::optional<std::string> schedule;
  // --shard=I/N (or Bazel's test sharding): explore blocks run only shard I of N of their
  // schedules; expect-sometimes cannot be judged on one shard and is reported, not failed.
  int shard_index = 0;
  int shard_count = 1;
  bool quiet = false;  // replaying for an explore block: `trace` lines do nothing
  StepObserver* step_observer = nullptr;  // --html (never passed on to explore's runs)
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
  // The outcomes of the last together or explore block that ran: for each (one for a
  // together block, every distinct one an explore block found), the result text of each
  // operation that returned, by task, and for an explore block "#checks": whether its
  // expect, expect-mem and expect-same checks held ("ok" or "failed"). For --compare
  // (sim/host/compare.h).
  const std::vector<std::map<std::string, std::string>>& last_block_outcomes() const {
    return last_block_outcomes_;
  }
  // The pid a scenario name stands for, if that task was created.
  std::optional<int> PidOfName(const std::string& name) const {
    auto it = pids_.find(name);
    return it == pids_.end() ? std::nullopt : std::optional<int>(it->second);
  }
  // Every task the scenario named, by name.
  const std::map<std::string, int>& task_pids() const { return pids_; }

 private:
  using LastResult = StatementResult;  // sim/result_format.h
  class TeeObserver;  // the trace recorder and the step observer's, both attached

  bool StepOne(const scenario::Statement& stmt);  // Step without the step observer
  TraceRecorder* StepRecorder() const {
    return options_.step_observer != nullptr ? options_.step_observer->recorder() : nullptr;
  }

  bool EnsureMachine(const scenario::SourcePos& pos);
  bool Fail(const scenario::SourcePos& pos, const std::string& what);  // exit 2
  bool RuntimeError(const scenario::SourcePos& pos, const std::string& what);  // exit 3
  void ExpectFailed(const scenario::SourcePos& pos, const std::string& want,
                    const std::string& got);
  // An expectation's outcome: `[LINE] STATEMENT ok`, or the failure (ExpectFailed).
  void ReportExpect(const scenario::SourcePos& pos, const scenario::Statement& stmt, bool ok,
                    const std::string& want, const std::string& got);
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
  bool On(const scenario::MadviseStmt& s, std::string* result);
  bool On(const scenario::MlockStmt& s, std::string* result);
  bool On(const scenario::ExpectMemStmt& s, std::string* result);
  bool On(const scenario::ExpectSameStmt& s, std::string* result);
  bool On(const scenario::ShowStmt& s, std::string* result);
  bool On(const scenario::FailStmt& s, std::string* result);
  bool On(const scenario::TraceStmt& s, std::string* result);
  bool On(const scenario::SleepStmt& s, std::string* result);
  // What the handlers share: record a syscall's or a user access's result as the one
  // `expect` checks; resolve a PID argument; render a `show` view.
  bool SysDone(SysResult r, std::string* result);
  bool AccessDone(UserAccess a, uint64_t addr, bool load, uint64_t len, std::string* result);
  std::optional<int> PidOf(const scenario::SourcePos& pos, const scenario::PidRef& ref);
  absl::StatusOr<std::string> View(const scenario::SourcePos& pos, const scenario::ShowWhat& what);
  bool On(const scenario::ScheduleStmt& s, std::string* result);
  bool CheckExpect(const scenario::ExpectStmt& e);

  // ---- state checks (sim/interpreter_checks.cc) ----
  // What `mark` remembers: every vmstat item, and per CPU the TLB's hits, misses, walks.
  struct Counters {
    std::vector<int64_t> vmstat;
    std::vector<std::array<uint64_t, 3>> tlb;
  };
  Counters ReadCounters();
  bool On(const scenario::MarkStmt& s, std::string* result);
  // `expect pte|page|tlb|vmstat|vma ...`; false after a runtime error.
  bool CheckState(const scenario::ExpectStateStmt& e);
  bool CounterHolds(const scenario::CounterValue& want, int64_t now,
                    const std::function<int64_t(const Counters&)>& pick, std::string* got);
  void FlushTrace();
  // With check_vm: debug_vm now; a violation is printed (after this `after`) and counts as
  // a failure. Returns false then.
  bool CheckVm(const scenario::SourcePos& pos, const char* after);
  // Places a new task on its cpu= (Machine::Schedule); false after a runtime error.
  bool Place(const scenario::SourcePos& pos, int pid, const std::optional<uint32_t>& cpu);

  // ---- blocks (sim/interpreter_blocks.cc) ----
  using BlockParts = scenario::BlockParts;  // a block taken apart (scenario::SplitBlock)
  // What one operation of a together block did.
  struct CallSlot {
    std::string text;          // the echo's result text
    StatementResult result;    // what `expect` checks
    bool returned = false;     // false: a deadlock stopped it
  };
  // What an outcome's assertions look at.
  struct OutcomeFacts {
    std::map<std::string, StatementResult> results;  // by task, operations that returned
    std::map<std::string, std::string> texts;        // the same, as echoed; and "#checks":
                                                     // "ok" or "failed" (check_failed)
    bool deadlock = false;
    bool check_failed = false;     // an expect, expect-mem or expect-same failed
    bool debug_vm_failed = false;  // after the paths, or at a switch (--check)
  };
  // A statement while a block is open; runs the block at its end.
  bool StepBlock(const scenario::Statement& stmt);
  bool RunTogetherBlock(const std::vector<scenario::Statement>& block);
  bool RunExploreBlock(const std::vector<scenario::Statement>& block);
  // The policy of a together block (options.schedule first); null with *error set.
  std::unique_ptr<SchedulePolicy> PolicyFor(const scenario::TogetherStmt& t, std::string* error);
  // Machine::Together over the operations; false after a runtime error.
  bool RunCalls(const BlockParts& parts, SchedulePolicy* policy, std::vector<CallSlot>* slots,
                Machine::TogetherResult* tr);
  // Tracing around a block: tags paths, and with options.schedule records in full.
  void BeginBlockTrace(const scenario::Statement& head);
  void EndBlockTrace();
  // One run of an explore block on a fresh machine: replays history_ quietly, runs the
  // block under `policy`, returns the outcome text. `verbose`: the block's own output
  // and trace go there (--schedule).
  absl::StatusOr<std::string> ExploreOnce(const std::vector<scenario::Statement>& block,
                                          SchedulePolicy& policy, OutcomeFacts* facts,
                                          std::ostream* verbose);
  // In the fresh interpreter: the block itself.
  absl::StatusOr<std::string> ExploreBody(const std::vector<scenario::Statement>& block,
                                          SchedulePolicy& policy, OutcomeFacts* facts);

  InterpreterOptions options_;
  std::vector<std::map<std::string, std::string>> last_block_outcomes_;
  std::ostream& out_;
  std::ostream& err_;
  std::unique_ptr<Machine> machine_;
  std::unique_ptr<TraceRecorder> recorder_;
  std::unique_ptr<TeeObserver> tee_;  // while both recorders are attached
  std::map<std::string, int> pids_;
  std::map<std::string, int> files_;  // `file` names -> Machine::CreateFile descriptors
  LastResult last_;
  std::string last_failure_;  // "expected X, got Y" of the last failed expectation
  std::vector<scenario::Statement> history_;  // what an explore block's runs replay
  scenario::BlockCollector block_;  // an open together or explore block
  std::map<std::string, Counters> marks_;   // by `mark` name
  std::map<std::string, uint64_t> pfns_;    // names bound by `expect pte ... as NAME`
  int failures_ = 0;
  bool invalid_ = false;
  bool runtime_error_ = false;
  int runtime_error_line_ = 0;  // of the first one
  std::string json_;
};

}  // namespace sim

#endif  // MMSIM_SIM_INTERPRETER_H_
