// sim/host/compare.cc
#include "sim/host/compare.h"

#include <algorithm>
#include <fstream>
#include <iostream>
#include <memory>
#include <sstream>
#include <variant>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/strip.h"
#include "sim/default_scenario.h"
#include "sim/host/host_env.h"
#include "sim/host/host_runner.h"
#include "mm/mm.h"
#include "sim/interpreter.h"
#include "sim/scenario/format.h"
#include "sim/scenario/parser.h"

namespace sim::host {
namespace {

using namespace scenario;  // NOLINT

// The result text the simulator echoed for `stmt` in `delta` (its output for the step).
std::string SimResult(const Statement& stmt, const std::string& delta) {
  const std::string prefix = absl::StrFormat("[%d] %s", PosOf(stmt).line, FormatStatement(stmt));
  size_t at = delta.find(prefix);
  if (at == std::string::npos) return "";
  std::string rest = delta.substr(at + prefix.size());
  rest = rest.substr(0, rest.find('\n'));
  if (absl::StartsWith(rest, " = ")) return rest.substr(3);
  return rest;
}

// "pid 5" and "pid 12345" agree: the host's pids are its own. So do two successful forks
// and two reaps that returned a pid.
bool SameResult(const Statement& stmt, const std::string& sim, const std::string& host) {
  if (std::holds_alternative<ProcessStmt>(stmt) || std::holds_alternative<ThreadStmt>(stmt) ||
      std::holds_alternative<FileStmt>(stmt)) {
    return sim.substr(0, sim.find(' ')) == host.substr(0, host.find(' '));
  }
  if (std::holds_alternative<ForkStmt>(stmt) || std::holds_alternative<ReapStmt>(stmt)) {
    auto positive = [](const std::string& s) { return !s.empty() && s[0] != '-' && s != "0"; };
    return positive(sim) == positive(host) && (positive(sim) || sim == host);
  }
  return sim == host;
}

std::string MemExcerpt(const std::string& a, const std::string& b, size_t* first) {
  size_t i = 0;
  while (i < a.size() && i < b.size() && a[i] == b[i]) ++i;
  *first = i;
  const size_t from = i >= 8 ? i - 8 : 0;
  return BytesForHumans(a.substr(from, 32));
}

}  // namespace

Markers ReadMarkers(const std::string& text) {
  Markers m;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    absl::string_view l = absl::StripLeadingAsciiWhitespace(line);
    if (!absl::ConsumePrefix(&l, "# host:")) continue;
    l = absl::StripLeadingAsciiWhitespace(l);
    if (absl::ConsumePrefix(&l, "sim-only")) m.sim_only = std::string(absl::StripAsciiWhitespace(l));
    else if (absl::ConsumePrefix(&l, "deviation")) m.deviation = std::string(absl::StripAsciiWhitespace(l));
  }
  return m;
}

int RunHostMode(Mode mode, const std::string& text, const std::string& name, std::ostream& out,
                std::ostream& err) {
  absl::StatusOr<Scenario> scenario = ParseScenario(text, name);
  if (!scenario.ok()) {
    err << scenario.status().message() << "\n";
    return kExitInvalid;
  }
  const Markers markers = ReadMarkers(text);
  if (mode == Mode::kCompare && !markers.sim_only.empty()) {
    out << absl::StrFormat("# compare %s: skipped: simulator-only (%s)\n", name, markers.sim_only);
    return kExitHostCannotRun;
  }
  HostEnv env = ReadHostEnv();
  std::ostringstream host_out;
  absl::StatusOr<std::unique_ptr<HostRunner>> host =
      HostRunner::Create(env, mode == Mode::kHost ? out : host_out, err);
  if (!host.ok()) {
    err << host.status().message() << "\n";
    return kExitHostCannotRun;
  }
  out << FormatHostEnv(env);
  if (mode == Mode::kHost) return (*host)->Run(*scenario);

  std::ostringstream sim_out;
  Interpreter sim(InterpreterOptions{}, sim_out, sim_out);
  bool applied = false;
  int differ = 0, agree = 0, skipped = 0;
  std::string env_reason;  // the first statement this host forbids
  int first_differ_line = 0, env_line = 0;
  size_t seen = 0;
  // The operations of the open block, by task (for SameResult), and whether it explores.
  std::map<std::string, const Statement*> block_ops;
  bool in_block = false, block_explores = false;
  std::string last_skip;  // a reason given for the statement before is not repeated
  for (const Statement& stmt : scenario->statements) {
    if (!in_block && (std::holds_alternative<TogetherStmt>(stmt) || std::holds_alternative<ExploreStmt>(stmt))) {
      in_block = true;
      block_explores = std::holds_alternative<ExploreStmt>(stmt);
      block_ops.clear();
    } else if (in_block && ProducesResult(stmt) && !std::holds_alternative<ExpectStmt>(stmt)) {
      block_ops[TaskOf(stmt)] = &stmt;
    }
    const bool sim_ok = sim.Step(stmt);
    const std::string all = sim_out.str();
    const std::string delta = all.substr(seen);
    seen = all.size();
    if (!applied && sim.machine() != nullptr) {
      for (const std::string& note : ApplyHostEnv(env, *sim.machine())) out << note << "\n";
      applied = true;
    }
    HostStep step;
    const bool host_ok = (*host)->Step(stmt, &step);
    if (!sim_ok || !host_ok) {
      if (!sim_ok && sim.exit_status() == kExitInvalid) {
        err << delta;
        out << absl::StrFormat("# compare %s: the simulator stopped at line %d\n", name, PosOf(stmt).line);
        return kExitInvalid;
      }
      out << host_out.str();
      return (*host)->exit_status() == kExitOk ? kExitInvalid : (*host)->exit_status();
    }
    const int line = PosOf(stmt).line;
    if (!step.skipped.empty()) {
      in_block = false;  // inside a block only its end reports anything
      ++skipped;
      if (step.environment && env_reason.empty()) {
        env_line = line;
        env_reason = absl::StrFormat("line %d: %s", line, step.skipped);
      }
      out << absl::StrFormat("%s:%d: skipped on the host: %s\n  %s\n", name, line,
                             step.skipped == last_skip ? "as above" : step.skipped, FormatStatement(stmt));
      last_skip = step.skipped;
      continue;
    }
    last_skip.clear();
    if (in_block && step.ran) {  // the end of the block: the host ran it once
      in_block = false;
      const auto& outcomes = sim.last_block_outcomes();
      auto matches = [&](const std::map<std::string, std::string>& o) {
        if (o.size() != step.block.size()) return false;
        for (const auto& [task, text] : step.block) {
          auto it = o.find(task);
          if (it == o.end()) return false;
          if (task[0] == '#' ? it->second != text : !SameResult(*block_ops[task], it->second, text)) {
            return false;
          }
        }
        return true;
      };
      bool found = false;
      for (const auto& o : outcomes) found = found || matches(o);
      auto show = [](const std::vector<std::pair<std::string, std::string>>& ops) {
        std::string t;
        for (const auto& [task, text] : ops) absl::StrAppend(&t, t.empty() ? "" : ", ", task, " = ", text);
        return t;
      };
      const std::map<std::string, std::string> host_sorted(step.block.begin(), step.block.end());
      const std::string host_text =
          show(std::vector<std::pair<std::string, std::string>>(host_sorted.begin(), host_sorted.end()));
      if (found) {
        ++agree;
      } else if (block_explores) {
        ++differ;
        if (first_differ_line == 0) first_differ_line = line;
        out << absl::StrFormat("%s:%d: the host's run is none of the simulator's %d outcomes\n  host: %s\n",
                               name, line, outcomes.size(), host_text);
        for (size_t i = 0; i < outcomes.size(); ++i) {
          std::vector<std::pair<std::string, std::string>> o(outcomes[i].begin(), outcomes[i].end());
          out << absl::StrFormat("  sim outcome %d: %s\n", i + 1, show(o));
        }
      } else {
        // A together block runs one schedule in the simulator; the host interleaves as it
        // will, so a different result is no disagreement by itself.
        ++skipped;
        std::vector<std::pair<std::string, std::string>> o;
        if (!outcomes.empty()) o.assign(outcomes[0].begin(), outcomes[0].end());
        out << absl::StrFormat(
            "%s:%d: the host interleaved the block otherwise than the simulator's schedule (an explore "
            "block compares against every interleaving)\n  sim:  %s\n  host: %s\n",
            name, line, show(o), host_text);
      }
      continue;
    }
    if (!step.ran || std::holds_alternative<ExpectStmt>(stmt)) continue;
    if (const auto* m = std::get_if<ExpectMemStmt>(&stmt)) {
      const uint64_t len = DataLength(m->data);
      std::optional<int> pid = sim.PidOfName(m->task);
      absl::StatusOr<std::vector<uint8_t>> sb =
          pid ? sim.machine()->PeekUser(*pid, m->addr, len)
              : absl::StatusOr<std::vector<uint8_t>>(absl::NotFoundError("no such task"));
      const std::string sim_bytes = sb.ok() ? std::string(sb->begin(), sb->end()) : "";
      const std::string sim_text = sb.ok() ? BytesForHumans(sim_bytes) : std::string(sb.status().message());
      const std::string host_text = step.mem ? BytesForHumans(*step.mem) : step.mem_error;
      if (sb.ok() && step.mem && sim_bytes == *step.mem) {
        ++agree;
      } else if (!sb.ok() && !step.mem) {
        ++agree;  // unreadable on both
      } else {
        ++differ;
        if (first_differ_line == 0) first_differ_line = line;
        out << absl::StrFormat("%s:%d: memory differs: %s\n", name, line, FormatStatement(stmt));
        if (sb.ok() && step.mem && sim_bytes.size() == step.mem->size()) {
          size_t first = 0;
          const std::string se = MemExcerpt(sim_bytes, *step.mem, &first);
          const std::string he = MemExcerpt(*step.mem, sim_bytes, &first);
          out << absl::StrFormat("  first difference at %#x (+%d); from %#x:\n", m->addr + first, first,
                                 m->addr + (first >= 8 ? first - 8 : 0));
          out << absl::StrFormat("  sim:  %s\n  host: %s\n", se, he);
        } else {
          out << absl::StrFormat("  sim:  %s\n  host: %s\n", sim_text, host_text);
        }
      }
      continue;
    }
    if (!ProducesResult(stmt) && !std::holds_alternative<ExpectSameStmt>(stmt) &&
        !std::holds_alternative<ProcessStmt>(stmt) && !std::holds_alternative<ThreadStmt>(stmt) &&
        !std::holds_alternative<FileStmt>(stmt) && !std::holds_alternative<ExitStmt>(stmt)) {
      continue;
    }
    const std::string sr = SimResult(stmt, delta);
    if (SameResult(stmt, sr, step.result)) {
      ++agree;
    } else {
      ++differ;
      if (first_differ_line == 0) first_differ_line = line;
      out << absl::StrFormat("%s:%d: result differs: %s\n  sim:  %s\n  host: %s\n", name, line,
                             FormatStatement(stmt), sr, step.result);
    }
  }
  out << absl::StrFormat("# compare %s: %d agree, %d differ, %d skipped on the host\n", name, agree,
                         differ, skipped);
  // What follows a statement the host could not run as written is not a fair comparison;
  // a difference before it is.
  if (!env_reason.empty() && (differ == 0 || first_differ_line > env_line)) {
    out << absl::StrFormat("# compare %s: skipped: this host forbids what the scenario needs (%s)%s\n", name,
                           env_reason, differ > 0 ? "; the differences come after it" : "");
    return kExitHostCannotRun;
  }
  if (differ == 0) return kExitOk;
  if (!markers.deviation.empty()) {
    out << absl::StrFormat("# compare %s: the differences are a stated deviation: %s\n", name,
                           markers.deviation);
    return kExitOk;
  }
  return kExitExpectationFailed;
}

int HostMain(int argc, char** argv) {
  Mode mode = Mode::kHost;
  std::string file;
  int files = 0;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--host") {
      mode = Mode::kHost;
    } else if (a == "--compare") {
      mode = Mode::kCompare;
    } else if (!a.empty() && a[0] == '-') {
      std::cerr << "mmsim: --host/--compare take only a scenario file, got '" << a << "'\n";
      return kExitInvalid;
    } else {
      file = a;
      ++files;
    }
  }
  if (files > 1) {
    std::cerr << "mmsim: expected at most one scenario file\n";
    return kExitInvalid;
  }
  std::string text = kDefaultScenario, name = kDefaultScenarioName;
  if (!file.empty()) {
    std::ifstream in(file, std::ios::binary);
    if (!in) {
      std::cerr << "mmsim: cannot open " << file << "\n";
      return kExitInvalid;
    }
    std::stringstream ss;
    ss << in.rdbuf();
    text = ss.str();
    name = file;
  }
  return RunHostMode(mode, text, name, std::cout, std::cerr);
}

}  // namespace sim::host
