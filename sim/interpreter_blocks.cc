// sim/interpreter_blocks.cc: the interpreter's together and explore blocks (see the
// "Blocks" paragraph of sim/interpreter.h and docs/scenario-language.md, "Concurrency").
#include <functional>
#include <map>
#include <memory>
#include <ostream>
#include <sstream>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "sim/interpreter.h"
#include "sim/sched/explore.h"
#include "sim/sched/schedule.h"
#include "sim/scenario/format.h"
#include "sim/views.h"

namespace sim {
namespace {

using namespace scenario;  // NOLINT: the AST's many statement types

// FNV-1a over a long load's bytes: an outcome shows a load's first 64 bytes, so that two
// different loads never make the same outcome text, their digest is shown too.
uint64_t Fnv1a(const std::vector<uint8_t>& bytes) {
  uint64_t h = 0xcbf29ce484222325ull;
  for (uint8_t b : bytes) h = (h ^ b) * 0x100000001b3ull;
  return h;
}

bool AtomHolds(const OutcomeAtom& a, const std::map<std::string, StatementResult>& results,
               bool deadlock, bool check_failed) {
  switch (a.kind) {
    case OutcomeAtom::Kind::kDeadlock: return deadlock;
    case OutcomeAtom::Kind::kCheckFailed: return check_failed;
    case OutcomeAtom::Kind::kResult: break;
  }
  auto it = results.find(a.task);
  if (it == results.end()) return false;  // it did not return
  std::string want;
  return ExpectHolds(a.result, it->second, &want);
}

// Whether an assertion of the block names deadlock / check-failed: then such outcomes are
// the scenario's business; otherwise each is a failure of its own.
bool Names(const std::vector<const Statement*>& tail, OutcomeAtom::Kind kind) {
  for (const Statement* s : tail) {
    const auto* e = std::get_if<ExpectOutcomeStmt>(s);
    if (e == nullptr) continue;
    for (const auto& all : e->predicate.any_of) {
      for (const OutcomeAtom& a : all) {
        if (a.kind == kind) return true;
      }
    }
  }
  return false;
}

}  // namespace

bool Interpreter::StepBlock(const Statement& stmt) {
  std::optional<std::vector<Statement>> whole = block_.Add(stmt);
  if (!whole) return true;
  std::vector<Statement>& block = *whole;
  if (std::holds_alternative<ExploreStmt>(block[0])) return RunExploreBlock(block);
  if (!RunTogetherBlock(block)) return false;
  for (Statement& s : block) history_.push_back(std::move(s));
  return true;
}

std::unique_ptr<SchedulePolicy> Interpreter::PolicyFor(const TogetherStmt& t, std::string* error) {
  const std::string* id = options_.schedule ? &*options_.schedule
                          : t.policy == TogetherStmt::Policy::kSchedule ? &t.schedule
                                                                         : nullptr;
  if (id != nullptr) {
    absl::StatusOr<ScheduleId> parsed = ParseScheduleId(*id);
    if (!parsed.ok()) {
      *error = absl::StrCat("expected a schedule ID: ", parsed.status().message());
      return nullptr;
    }
    return std::make_unique<ReplayPolicy>(*std::move(parsed));
  }
  if (t.policy == TogetherStmt::Policy::kRandom) return std::make_unique<RandomPolicy>(t.seed);
  return std::make_unique<DefaultPolicy>();
}

bool Interpreter::RunCalls(const BlockParts& parts, SchedulePolicy* policy,
                           std::vector<CallSlot>* slots, Machine::TogetherResult* tr) {
  slots->assign(parts.ops.size(), CallSlot{});
  std::vector<std::function<void()>> calls;
  calls.reserve(parts.ops.size());
  for (size_t i = 0; i < parts.ops.size(); ++i) {
    // The handler records its result in last_ as its last step, after its Machine calls
    // have returned; paths switch only inside Machine calls (at the kernel's preemption
    // points), so last_ is still this operation's when it is copied here.
    calls.push_back([this, &parts, slots, i] {
      CallSlot& slot = (*slots)[i];
      if (!Execute(*parts.ops[i].stmt, &slot.text)) return;
      slot.result = last_;
      slot.returned = true;
    });
  }
  machine_->SetCheckEverySwitch(options_.check_vm);
  absl::StatusOr<Machine::TogetherResult> r = machine_->Together(calls, policy);
  machine_->SetCheckEverySwitch(false);
  if (!r.ok()) return RuntimeError(parts.together->pos, std::string(r.status().message()));
  *tr = *std::move(r);
  return !runtime_error_;
}

void Interpreter::BeginBlockTrace(const Statement& head) {
  if (recorder_ == nullptr) return;
  if (TraceRecorder* step = StepRecorder()) step->set_tag_paths(true);
  if (options_.schedule && !options_.trace_set) {
    recorder_->set_level(TraceLevel::kFull);
    Instrument(/*attach=*/true);
  }
  if (recorder_->level() == TraceLevel::kOff) return;
  recorder_->set_tag_paths(true);
  const SourcePos& pos = PosOf(head);
  recorder_->BeginStep(absl::StrFormat("[%d] %s", pos.line, FormatStatement(head)));
}

void Interpreter::EndBlockTrace() {
  if (TraceRecorder* step = StepRecorder()) step->set_tag_paths(false);
  if (recorder_ == nullptr || recorder_->level() == TraceLevel::kOff) return;
  recorder_->EndStep();
  recorder_->set_tag_paths(false);
}

bool Interpreter::RunTogetherBlock(const std::vector<Statement>& block) {
  const BlockParts parts = SplitBlock(block);
  const SourcePos& pos = parts.together->pos;
  std::string error;
  std::unique_ptr<SchedulePolicy> policy = PolicyFor(*parts.together, &error);
  if (policy == nullptr) return Fail(pos, error);
  const TraceLevel level = recorder_->level();
  BeginBlockTrace(block[0]);
  std::vector<CallSlot> slots;
  Machine::TogetherResult tr;
  const bool ran = RunCalls(parts, policy.get(), &slots, &tr);
  EndBlockTrace();
  out_ << absl::StrFormat("[%d] %s\n", pos.line, FormatStatement(block[0]));
  if (!ran) {
    recorder_->set_level(level);
    return false;
  }
  last_block_outcomes_.assign(1, {});
  for (size_t i = 0; i < parts.ops.size(); ++i) {
    const Statement& op = *parts.ops[i].stmt;
    const CallSlot& slot = slots[i];
    if (slot.returned) last_block_outcomes_[0][TaskOf(op)] = slot.text;
    if (slot.returned) {
      out_ << absl::StrFormat("[%d] %s%s\n", PosOf(op).line, FormatStatement(op),
                              slot.text.empty() ? "" : absl::StrCat(" = ", slot.text));
    } else {
      out_ << absl::StrFormat("[%d] %s: did not return (deadlock)\n", PosOf(op).line,
                              FormatStatement(op));
    }
    for (const ExpectStmt* e : parts.ops[i].expects) {
      if (slot.returned) {
        last_ = slot.result;
        CheckExpect(*e);
      } else {
        std::string want;
        ExpectHolds(e->result, StatementResult{}, &want);
        ExpectFailed(e->pos, want, "no result: the operation did not return (deadlock)");
      }
    }
  }
  last_ = StatementResult{};  // `expect` after `end` is a parse error; nothing to check
  const SourcePos& end = parts.end->pos;
  out_ << absl::StrFormat("[%d] end = schedule %s (%u steps, %u preemption%s)\n", end.line,
                          tr.schedule_id, tr.steps, tr.preemptions,
                          tr.preemptions == 1 ? "" : "s");
  FlushTrace();
  recorder_->set_level(level);
  Instrument(/*attach=*/true);
  if (!tr.check_report.empty()) {
    ++failures_;
    out_ << absl::StrFormat("%s:%d: debug_vm check failed at a switch between paths:\n%s",
                            pos.file, pos.line, tr.check_report);
    return false;
  }
  if (tr.deadlock) {
    out_ << "deadlock:\n" << tr.deadlock_report;
    if (!tr.deadlock_report.empty() && tr.deadlock_report.back() != '\n') out_ << "\n";
    ExpectFailed(end, "the together block to finish",
                 "a deadlock (the machine is wedged: the run stops here)");
    return false;
  }
  return CheckVm(end, "block");
}

absl::StatusOr<std::string> Interpreter::ExploreBody(const std::vector<Statement>& block,
                                                     SchedulePolicy& policy,
                                                     OutcomeFacts* facts) {
  const BlockParts parts = SplitBlock(block);
  std::vector<CallSlot> slots;
  Machine::TogetherResult tr;
  BeginBlockTrace(block[1]);
  const bool ran = RunCalls(parts, &policy, &slots, &tr);
  if (!ran) {
    EndBlockTrace();
    return absl::InternalError("a runtime error in the block");
  }
  std::string text;
  for (size_t i = 0; i < parts.ops.size(); ++i) {
    const Statement& op = *parts.ops[i].stmt;
    const CallSlot& slot = slots[i];
    const std::string& task = TaskOf(op);
    if (!slot.returned) {
      absl::StrAppendFormat(&text, "[%d] %s did not return\n", PosOf(op).line, task);
      continue;
    }
    facts->results[task] = slot.result;
    facts->texts[task] = slot.text;
    absl::StrAppendFormat(&text, "[%d] %s = %s", PosOf(op).line, task, slot.text);
    if (slot.result.kind == StatementResult::Kind::kAccess && slot.result.load &&
        slot.result.access.bytes.size() > 64) {
      absl::StrAppendFormat(&text, " (fnv1a %016x)", Fnv1a(slot.result.access.bytes));
    }
    text += "\n";
    for (const ExpectStmt* e : parts.ops[i].expects) {
      std::string want;
      if (ExpectHolds(e->result, slot.result, &want)) {
        absl::StrAppendFormat(&text, "[%d] expect ok\n", e->pos.line);
      } else {
        facts->check_failed = true;
        absl::StrAppendFormat(&text, "[%d] expect FAILED: expected %s, got %s\n", e->pos.line,
                              want, FormatStatementResult(slot.result));
      }
    }
  }
  if (tr.deadlock) {
    facts->deadlock = true;
    absl::StrAppend(&text, "deadlock:\n", tr.deadlock_report);
    if (!text.empty() && text.back() != '\n') text += "\n";
  } else {
    for (const Statement* s : parts.tail) {
      const SourcePos& pos = PosOf(*s);
      std::string result;
      if (const auto* v = std::get_if<ShowStmt>(s)) {
        absl::StatusOr<std::string> view = View(pos, v->what);
        if (!view.ok()) return absl::InternalError(std::string(view.status().message()));
        absl::StrAppendFormat(&text, "[%d] %s\n%s", pos.line, FormatStatement(*s), *view);
      } else if (std::holds_alternative<ExpectMemStmt>(*s) ||
                 std::holds_alternative<ExpectSameStmt>(*s)) {
        if (!Execute(*s, &result)) return absl::InternalError("a runtime error in a check");
        if (result == "ok") {
          absl::StrAppendFormat(&text, "[%d] %s ok\n", pos.line, KeywordOf(*s));
        } else {
          facts->check_failed = true;
          absl::StrAppendFormat(&text, "[%d] %s FAILED: %s\n", pos.line, KeywordOf(*s),
                                last_failure_);
        }
      }
    }
    std::string report;
    if (int n = machine_->DebugVmCheck(&report); n != 0) {
      facts->debug_vm_failed = true;
      absl::StrAppendFormat(&text, "debug_vm: %d violation%s after the paths ended:\n%s", n,
                            n == 1 ? "" : "s", report);
    }
  }
  if (!tr.check_report.empty()) {
    facts->debug_vm_failed = true;
    absl::StrAppend(&text, "debug_vm at a switch between paths:\n", tr.check_report);
  }
  facts->texts["#checks"] = facts->check_failed ? "failed" : "ok";  // never a task's name
  EndBlockTrace();
  FlushTrace();
  return text;
}

absl::StatusOr<std::string> Interpreter::ExploreOnce(const std::vector<Statement>& block,
                                                     SchedulePolicy& policy, OutcomeFacts* facts,
                                                     std::ostream* verbose) {
  std::ostream sink(nullptr);  // discards: a stream without a buffer writes nothing
  std::ostringstream errors;
  InterpreterOptions o = options_;
  o.quiet = true;
  o.check_vm = false;  // the prefix was checked in the scenario's own run
  o.trace = TraceLevel::kOff;
  o.trace_json = false;
  o.schedule.reset();  // `policy` is the schedule of the explored block
  o.step_observer = nullptr;  // the runs of a block are not steps of the scenario
  Interpreter sub(o, sink, errors);
  for (const Statement& s : history_) {
    if (!sub.Step(s) || sub.exit_status() == kExitRuntimeError || sub.invalid_) {
      return absl::InternalError(absl::StrFormat(
          "replaying line %d for a run of the block failed: %s", PosOf(s).line, errors.str()));
    }
  }
  sub.options_.check_vm = options_.check_vm;
  if (verbose != nullptr) {
    sink.rdbuf(verbose->rdbuf());
    sink.clear();
    sub.options_.schedule = options_.schedule;
    sub.options_.trace_set = options_.trace_set;
    sub.options_.trace_out = options_.trace_out;
    if (options_.trace_set) {
      sub.recorder_->set_level(options_.trace);
      sub.Instrument(/*attach=*/true);
    }
  }
  absl::StatusOr<std::string> text = sub.ExploreBody(block, policy, facts);
  if (!text.ok()) {
    return absl::InternalError(
        absl::StrCat(text.status().message(), ": ", errors.str()));
  }
  return text;
}

bool Interpreter::RunExploreBlock(const std::vector<Statement>& block) {
  const auto& head = std::get<ExploreStmt>(block[0]);
  const BlockParts parts = SplitBlock(block);
  out_ << absl::StrFormat("[%d] %s\n", head.pos.line, FormatStatement(block[0]));
  const bool allow_deadlock = Names(parts.tail, OutcomeAtom::Kind::kDeadlock);
  const bool allow_check_failed = Names(parts.tail, OutcomeAtom::Kind::kCheckFailed);

  // The outcomes, and the facts the assertions look at.
  struct Outcome {
    std::string text;
    uint64_t count;
    std::string schedule;
    OutcomeFacts facts;
  };
  std::vector<Outcome> outcomes;
  bool one_schedule = options_.schedule.has_value();
  bool sharded = options_.shard_count > 1;
  if (one_schedule) {
    absl::StatusOr<ScheduleId> id = ParseScheduleId(*options_.schedule);
    if (!id.ok()) return Fail(head.pos, std::string(id.status().message()));
    ReplayPolicy replay(*id);
    RecordingPolicy recording(&replay);
    OutcomeFacts facts;
    absl::StatusOr<std::string> text = ExploreOnce(block, recording, &facts, &out_);
    if (!text.ok()) return RuntimeError(head.pos, std::string(text.status().message()));
    out_ << absl::StrFormat("# one schedule (--schedule): %s, %u steps, %u preemption%s\n",
                            recording.id().ToString(), recording.steps(), recording.preemptions(),
                            recording.preemptions() == 1 ? "" : "s");
    outcomes.push_back({*text, 1, recording.id().ToString(), std::move(facts)});
  } else {
    ExploreOptions o;
    switch (head.mode) {
      case ExploreStmt::Mode::kAll: o.mode = ExploreOptions::Mode::kAll; break;
      case ExploreStmt::Mode::kRandom: o.mode = ExploreOptions::Mode::kRandom; break;
      case ExploreStmt::Mode::kPct: o.mode = ExploreOptions::Mode::kPct; break;
    }
    if (head.preemptions) o.preemptions = static_cast<int>(*head.preemptions);
    o.runs = head.runs;
    if (head.depth) o.depth = static_cast<int>(*head.depth);
    o.seed = head.seed.value_or(0);
    o.shard_index = options_.shard_index;
    o.shard_count = options_.shard_count;
    std::map<std::string, OutcomeFacts> facts;
    absl::StatusOr<ExploreResult> r =
        Explore(o, [&](SchedulePolicy& policy) -> absl::StatusOr<std::string> {
          OutcomeFacts f;
          absl::StatusOr<std::string> text = ExploreOnce(block, policy, &f, nullptr);
          if (text.ok()) facts.emplace(*text, std::move(f));
          return text;
        });
    if (!r.ok()) return RuntimeError(head.pos, std::string(r.status().message()));
    std::string bound;
    if (head.mode == ExploreStmt::Mode::kAll) {
      bound = r->exhausted ? absl::StrFormat(", every schedule with at most %d preemption%s",
                                             o.preemptions, o.preemptions == 1 ? "" : "s")
                           : absl::StrFormat(", NOT exhausted: stopped at %u schedules",
                                             o.max_schedules);
    }
    out_ << absl::StrFormat("# %u schedule%s%s%s: %d outcome%s\n", r->schedules,
                            r->schedules == 1 ? "" : "s", bound,
                            sharded ? absl::StrFormat(" (shard %d of %d)", options_.shard_index,
                                                      options_.shard_count)
                                    : "",
                            r->outcomes.size(), r->outcomes.size() == 1 ? "" : "s");
    for (ExploreOutcome& e : r->outcomes) {
      outcomes.push_back({e.text, e.count, e.schedule_id, facts[e.text]});
    }
  }
  last_block_outcomes_.clear();
  for (const Outcome& oc : outcomes) last_block_outcomes_.push_back(oc.facts.texts);
  for (size_t i = 0; i < outcomes.size(); ++i) {
    const Outcome& oc = outcomes[i];
    out_ << absl::StrFormat("# outcome %d of %d: %u schedule%s, e.g. --schedule=%s\n", i + 1,
                            outcomes.size(), oc.count, oc.count == 1 ? "" : "s", oc.schedule);
    out_ << oc.text;
  }

  // Failures no assertion asked about.
  auto name = [&](size_t i) {
    return absl::StrFormat("outcome %d (--schedule=%s)", i + 1, outcomes[i].schedule);
  };
  for (size_t i = 0; i < outcomes.size(); ++i) {
    const OutcomeFacts& f = outcomes[i].facts;
    if (f.debug_vm_failed) {
      ++failures_;
      out_ << absl::StrFormat("%s:%d: debug_vm check failed in %s (its report is above)\n",
                              head.pos.file, head.pos.line, name(i));
    }
    if (f.deadlock && !allow_deadlock) {
      ExpectFailed(head.pos, "no deadlock (or an expect-* line that names deadlock)", name(i));
    }
    if (f.check_failed && !allow_check_failed) {
      ExpectFailed(head.pos, "every check to hold (or an expect-* line that names check-failed)",
                   name(i));
    }
  }
  // The assertions.
  for (const Statement* s : parts.tail) {
    const auto* e = std::get_if<ExpectOutcomeStmt>(s);
    if (e == nullptr) continue;
    const std::string pred = FormatOutcomePredicate(e->predicate);
    int first_match = -1, first_miss = -1;
    for (size_t i = 0; i < outcomes.size(); ++i) {
      const OutcomeFacts& f = outcomes[i].facts;
      bool holds = false;
      for (const auto& all : e->predicate.any_of) {
        bool all_hold = true;
        for (const OutcomeAtom& a : all) {
          all_hold = all_hold && AtomHolds(a, f.results, f.deadlock, f.check_failed);
        }
        holds = holds || all_hold;
      }
      if (holds && first_match < 0) first_match = static_cast<int>(i);
      if (!holds && first_miss < 0) first_miss = static_cast<int>(i);
    }
    const std::string echo =
        absl::StrFormat("[%d] %s", e->pos.line, FormatStatement(*s));
    switch (e->quantifier) {
      case ExpectOutcomeStmt::Quantifier::kAlways:
        if (first_miss < 0) {
          out_ << echo << " ok\n";
        } else {
          ExpectFailed(e->pos, absl::StrCat("every outcome with ", pred), name(first_miss));
        }
        break;
      case ExpectOutcomeStmt::Quantifier::kNever:
        if (first_match < 0) {
          out_ << echo << " ok\n";
        } else {
          ExpectFailed(e->pos, absl::StrCat("no outcome with ", pred), name(first_match));
        }
        break;
      case ExpectOutcomeStmt::Quantifier::kSometimes:
        if (first_match >= 0) {
          out_ << echo << " ok\n";
        } else if (one_schedule) {
          out_ << echo << " not checked: one schedule (--schedule) did not show it; others may\n";
        } else if (sharded) {
          out_ << echo
               << absl::StrFormat(" not checkable on one shard (%d of %d): it needs the outcomes "
                                  "of every shard\n",
                                  options_.shard_index, options_.shard_count);
        } else {
          ExpectFailed(e->pos, absl::StrCat("an outcome with ", pred),
                       absl::StrFormat("none of the %d", outcomes.size()));
        }
        break;
    }
  }
  if (parts.end != nullptr) out_ << absl::StrFormat("[%d] end\n", parts.end->pos.line);
  return true;
}

}  // namespace sim
