// sim/mmsim_main.cc: the mmsim command.
//
//   mmsim [flags] [FILE.mms | -]
//
// With no file it runs the built-in guided scenario; `-` reads statements from standard
// input (with a prompt when it is a terminal); `--print-tour` prints the built-in
// scenario's text and exits; `--host FILE` / `--compare FILE` run it on the host kernel
// (docs/host.md). Exit status: 0 every expectation held;
// 1 one failed; 2 the scenario is invalid or a flag is bad.
#include <unistd.h>

#include <fstream>
#include <iostream>
#include <sstream>
#include <string>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/strings/str_cat.h"
#include "hw/tlb_profile.h"
#include "sim/default_scenario.h"
#include "sim/host/compare.h"
#include "sim/interpreter.h"
#include "sim/scenario/parser.h"
#include "sim/views.h"

ABSL_FLAG(std::string, trace, "", "trace level: off, calls or full (default: as the scenario says)");
ABSL_FLAG(std::string, trace_format, "text", "trace rendering: text or json (Chrome trace events)");
ABSL_FLAG(std::string, trace_out, "", "write the trace to this file instead of standard output");
ABSL_FLAG(int64_t, seed, -1, "seed for fault injection and anything random (default: the scenario's)");
ABSL_FLAG(bool, check, false, "run the debug_vm checker after every statement; stop at the first violation");
ABSL_FLAG(std::string, memory, "", "simulated memory, e.g. 256M or 16G (default: the scenario's, else 256M)");
ABSL_FLAG(int32_t, cpus, 0, "number of CPUs, 1..64 (default: the scenario's, else 2)");
ABSL_FLAG(std::string, tlb, "", "TLB profile: skylake, goldencove or tiny (default: skylake)");
ABSL_FLAG(std::string, dot, "", "after the run, write the page-table tree of this task (NAME:FILE) as Graphviz DOT");

namespace {

int BadFlag(const std::string& flag, const std::string& why) {
  std::cerr << "mmsim: bad flag --" << flag << ": " << why << "\n";
  return sim::kExitInvalid;
}

bool ParseSize(const std::string& s, uint64_t* out) {
  if (s.empty()) return false;
  uint64_t mult = 1;
  std::string digits = s;
  switch (s.back()) {
    case 'K': case 'k': mult = 1ull << 10; digits.pop_back(); break;
    case 'M': case 'm': mult = 1ull << 20; digits.pop_back(); break;
    case 'G': case 'g': mult = 1ull << 30; digits.pop_back(); break;
    default: break;
  }
  if (digits.empty() || digits.find_first_not_of("0123456789") != std::string::npos) return false;
  if (digits.size() > 12) return false;
  *out = std::stoull(digits) * mult;
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  absl::SetProgramUsageMessage(
      "mmsim [flags] [FILE.mms | -]\n"
      "Runs a scenario against a simulated x86-64 machine running a port of Linux mm.\n"
      "With no file: the built-in guided tour (--print-tour prints its text).\n"
      "'-': statements from standard input.");
  // `--print-tour` (absl flags cannot spell a dash): the built-in scenario, as docs/tour.md
  // quotes it, and nothing else.
  for (int i = 1; i < argc; ++i) {
    // `--host` / `--compare`: the scenario on the host kernel (sim/host/compare.h).
    if (std::string(argv[i]) == "--host" || std::string(argv[i]) == "--compare") {
      return sim::host::HostMain(argc, argv);
    }
    if (std::string(argv[i]) == "--print-tour") {
      std::cout << sim::kDefaultScenario;
      return std::cout.flush() ? 0 : sim::kExitInvalid;
    }
  }
  std::vector<char*> args = absl::ParseCommandLine(argc, argv);
  if (args.size() > 2) return BadFlag("(arguments)", "expected at most one scenario file");

  sim::InterpreterOptions options;
  const std::string trace = absl::GetFlag(FLAGS_trace);
  if (!trace.empty()) {
    absl::optional<sim::TraceLevel> level = sim::ParseTraceLevel(trace);
    if (!level) return BadFlag("trace", "expected off, calls or full, got '" + trace + "'");
    options.trace = *level;
  }
  const std::string format = absl::GetFlag(FLAGS_trace_format);
  if (format != "text" && format != "json") {
    return BadFlag("trace_format", "expected text or json, got '" + format + "'");
  }
  options.trace_json = format == "json";
  if (options.trace_json && options.trace == sim::TraceLevel::kOff) options.trace = sim::TraceLevel::kCalls;
  if (absl::GetFlag(FLAGS_seed) >= 0) {
    options.machine.seed = static_cast<uint64_t>(absl::GetFlag(FLAGS_seed));
    options.seed_set = true;
  } else if (absl::GetFlag(FLAGS_seed) != -1) {
    return BadFlag("seed", "expected a non-negative number");
  }
  options.check_vm = absl::GetFlag(FLAGS_check);
  const std::string memory = absl::GetFlag(FLAGS_memory);
  if (!memory.empty()) {
    uint64_t bytes = 0;
    if (!ParseSize(memory, &bytes) || bytes < (1ull << 20) || bytes > (64ull << 30) || bytes % 4096 != 0) {
      return BadFlag("memory", "expected a size between 1M and 64G in whole pages, like 256M, got '" + memory + "'");
    }
    options.machine.memory_bytes = bytes;
    options.memory_set = true;
  }
  if (int cpus = absl::GetFlag(FLAGS_cpus); cpus != 0) {
    if (cpus < 1 || cpus > 64) return BadFlag("cpus", "expected 1..64, got " + std::to_string(cpus));
    options.machine.cpus = cpus;
    options.cpus_set = true;
  }
  const std::string tlb = absl::GetFlag(FLAGS_tlb);
  if (!tlb.empty()) {
    if (hw::FindTlbProfile(tlb) == nullptr) {
      std::string names;
      for (const std::string& n : hw::TlbProfileNames()) absl::StrAppend(&names, names.empty() ? "" : ", ", n);
      return BadFlag("tlb", "unknown profile '" + tlb + "'; expected one of: " + names);
    }
    options.machine.tlb = tlb;
    options.tlb_set = true;
  }
  std::string dot_task, dot_file;
  if (const std::string dot = absl::GetFlag(FLAGS_dot); !dot.empty()) {
    size_t colon = dot.find(':');
    if (colon == std::string::npos || colon == 0 || colon + 1 == dot.size()) {
      return BadFlag("dot", "expected TASK:FILE, got '" + dot + "'");
    }
    dot_task = dot.substr(0, colon);
    dot_file = dot.substr(colon + 1);
  }

  std::ofstream trace_file;
  const std::string trace_out = absl::GetFlag(FLAGS_trace_out);
  if (!trace_out.empty() && !options.trace_json) {
    trace_file.open(trace_out, std::ios::binary);
    if (!trace_file) return BadFlag("trace_out", "cannot open '" + trace_out + "' for writing");
    options.trace_out = &trace_file;
  }
  sim::Interpreter interp(options, std::cout, std::cerr);
  int status = 0;
  const std::string file = args.size() == 2 ? args[1] : "";
  if (file == "-") {
    sim::scenario::IncrementalParser parser("<stdin>");
    const bool tty = isatty(0);
    std::string line;
    while (true) {
      if (tty) std::cout << "mmsim> " << std::flush;
      if (!std::getline(std::cin, line)) break;
      absl::StatusOr<std::optional<sim::scenario::Statement>> stmt = parser.ParseLine(line);
      if (!stmt.ok()) {
        std::cerr << stmt.status().message() << "\n";
        if (!tty) return sim::kExitInvalid;
        continue;
      }
      if (*stmt && !interp.Step(**stmt) && !tty) break;
    }
    status = interp.exit_status();
  } else {
    std::string text, name;
    if (file.empty()) {
      text = sim::kDefaultScenario;
      name = sim::kDefaultScenarioName;
    } else {
      std::ifstream in(file, std::ios::binary);
      if (!in) {
        std::cerr << "mmsim: cannot open " << file << "\n";
        return sim::kExitInvalid;
      }
      std::stringstream ss;
      ss << in.rdbuf();
      text = ss.str();
      name = file;
    }
    absl::StatusOr<sim::scenario::Scenario> scenario = sim::scenario::ParseScenario(text, name);
    if (!scenario.ok()) {
      std::cerr << scenario.status().message() << "\n";
      return sim::kExitInvalid;
    }
    status = interp.Run(*scenario);
  }

  if (options.trace_json) {
    const std::string json = interp.TraceJson();
    const std::string out = absl::GetFlag(FLAGS_trace_out);
    if (out.empty()) {
      std::cout << json;
    } else {
      std::ofstream f(out, std::ios::binary);
      if (!(f << json)) {
        std::cerr << "mmsim: cannot write " << out << "\n";
        return sim::kExitInvalid;
      }
    }
  }
  if (!dot_task.empty() && interp.machine() != nullptr) {
    std::optional<int> pid = interp.PidOfName(dot_task);
    if (!pid) return BadFlag("dot", "no task named '" + dot_task + "' in the scenario");
    absl::StatusOr<std::string> dot = sim::PagetableDot(*interp.machine(), *pid);
    std::ofstream f(dot_file, std::ios::binary);
    if (!dot.ok() || !(f << *dot)) {
      std::cerr << "mmsim: cannot write the DOT graph to " << dot_file << "\n";
      return sim::kExitInvalid;
    }
  }
  return status;
}
