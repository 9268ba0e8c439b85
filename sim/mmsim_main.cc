// sim/mmsim_main.cc: the mmsim command.
//
//   mmsim [flags] [FILE.mms | -]
//   mmsim quiz --kind=walk|tlb|cow|pvm [--seed=N] [--solve] [--scenario]   (sim/quiz.h)
//
// With no file it runs the built-in guided scenario; `-` reads statements from standard
// input (with a prompt when it is a terminal); `--print-tour` prints the built-in
// scenario's text and exits; `--host FILE` / `--compare FILE` run it on the host kernel
// (docs/host.md); `--html=FILE` also writes the run as a step-through web page
// (sim/html_report.h). Exit status: 0 every expectation held; 1 one failed; 2 the scenario is
// invalid or a flag is bad (absl's own flag errors included); 3 a runtime error stopped
// the run; 4 an output (a trace, the --dot file) could not be written.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <memory>
#include <streambuf>
#include <iostream>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "hw/tlb_profile.h"
#include "sim/default_scenario.h"
#include "sim/host/compare.h"
#include "sim/host_memory.h"
#include "sim/html_report.h"
#include "sim/interpreter.h"
#include "sim/quiz.h"
#include "sim/scenario/parser.h"
#include "sim/sched/schedule.h"
#include "sim/views.h"

ABSL_FLAG(std::string, trace, "",
          "trace level for the whole run: off, calls or full; given, it overrides every `trace` "
          "statement of the scenario (default: as the scenario's `trace` statements say)");
ABSL_FLAG(std::string, trace_format, "text",
          "trace rendering: text or json (Chrome trace events for Perfetto; needs --trace_out)");
ABSL_FLAG(std::string, trace_out, "", "write the trace to this file instead of standard output");
ABSL_FLAG(std::string, html, "",
          "write the run as one self-contained step-through web page to this file (docs/html.md)");
ABSL_FLAG(std::string, seed, "", "seed for fault injection and anything random, 0..2^64-1 (default: the scenario's)");
ABSL_FLAG(bool, check, false, "run the debug_vm checker after every statement; stop at the first violation");
ABSL_FLAG(std::string, memory, "", "simulated memory, 1M..64G in whole pages, e.g. 256M or 16G (default: the scenario's, else 256M)");
ABSL_FLAG(std::string, swap, "", "swap space, 0 or 8K..64G in whole pages, e.g. 512M (default: the scenario's, else 0: none)");
ABSL_FLAG(std::string, cpus, "", "number of CPUs, 1..64 (default: the scenario's, else 2)");
ABSL_FLAG(std::string, tlb, "", "TLB profile: skylake, goldencove or tiny, or NAME_nopsc for the same without "
          "paging-structure caches (default: skylake)");
ABSL_FLAG(std::string, thp, "", "transparent huge pages: always, madvise or never (default: the scenario's, else madvise)");
ABSL_FLAG(std::string, thp_defrag, "",
          "THP defrag knob: always, defer, defer+madvise, madvise or never (default: the scenario's, else madvise)");
ABSL_FLAG(std::string, thp_use_zero_page, "",
          "THP use_zero_page knob: 0 or 1 (default: the scenario's, else 1)");
ABSL_FLAG(std::string, pku, "",
          "the CPUs have protection keys: 0 or 1 (default: the scenario's, else 0); with 1, "
          "PROT_EXEC-only memory is unreadable, as on a PKU host");
ABSL_FLAG(std::string, schedule, "",
          "run every together and explore block under this one schedule (an id such as 3.1-17.0 "
          "that explore printed), with a full trace (unless --trace says otherwise)");
ABSL_FLAG(std::string, shard, "",
          "I/N: explore blocks run only shard I (0-based) of N of their schedules (default: "
          "Bazel's TEST_SHARD_INDEX/TEST_TOTAL_SHARDS when set)");
ABSL_FLAG(std::string, dot, "",
          "after the run, write the page-table trees of these tasks (TASK[,TASK...]:FILE) as one "
          "Graphviz DOT graph; may be given several times, one file each");

namespace {

constexpr int kExitOutputError = 4;
// A scenario file (or standard input) larger than this is refused: the parser would take
// it, but nothing meaningful is that long, and /dev/zero must not fill memory.
constexpr uint64_t kMaxScenarioBytes = 64ull << 20;

int BadFlag(const std::string& flag, const std::string& why) {
  std::cerr << "mmsim: bad flag --" << flag << ": " << why << "\n";
  return sim::kExitInvalid;
}

// A decimal number with an optional K, M or G suffix (x1024^n); false if it is malformed
// or does not fit in 64 bits.
bool ParseSize(const std::string& s, uint64_t* out) {
  if (s.empty()) return false;
  int shift = 0;
  std::string digits = s;
  switch (s.back()) {
    case 'K': case 'k': shift = 10; digits.pop_back(); break;
    case 'M': case 'm': shift = 20; digits.pop_back(); break;
    case 'G': case 'g': shift = 30; digits.pop_back(); break;
    default: break;
  }
  if (digits.empty() || digits.size() > 20 || digits.find_first_not_of("0123456789") != std::string::npos)
    return false;
  uint64_t v = 0;
  for (char c : digits) {
    const uint64_t d = static_cast<uint64_t>(c - '0');
    if (v > (UINT64_MAX - d) / 10) return false;
    v = v * 10 + d;
  }
  if (shift != 0 && v > (UINT64_MAX >> shift)) return false;
  *out = v << shift;
  return true;
}

// absl::ParseCommandLine reports a bad flag (unknown name, bad value, missing --flagfile)
// and calls exit(1); mmsim's status for a bad flag is 2. While it parses, an exit handler
// turns that exit into status 2 (after absl's message, which names the flag and why).
bool g_parsing_flags = false;
void BadFlagExit() {
  if (!g_parsing_flags) return;
  std::cout.flush();
  std::_Exit(sim::kExitInvalid);
}

// Two paths name the same file (also through symlinks and hard links).
bool SameFile(const struct stat& a, const struct stat& b) {
  return a.st_dev == b.st_dev && a.st_ino == b.st_ino;
}

// Writes to one stream buffer and keeps a copy of what passed (the --html page's per-step
// output).
class CopyingBuf final : public std::streambuf {
 public:
  CopyingBuf(std::streambuf* to, std::string* copy) : to_(to), copy_(copy) {}

 protected:
  int overflow(int c) override {
    if (c == traits_type::eof()) return traits_type::not_eof(c);
    copy_->push_back(static_cast<char>(c));
    return to_->sputc(static_cast<char>(c));
  }
  std::streamsize xsputn(const char* s, std::streamsize n) override {
    copy_->append(s, static_cast<size_t>(n));
    return to_->sputn(s, n);
  }
  int sync() override { return to_->pubsync(); }

 private:
  std::streambuf* to_;
  std::string* copy_;
};

// The command line, checked. Every flag of mmsim is read here and nowhere else.
struct Flags {
  sim::InterpreterOptions options;
  std::string file;  // "" (the tour), "-" or a path
  std::string html_file;
  std::string trace_out;
  struct Dot {
    std::vector<std::string> tasks;
    std::string file;
  };
  std::vector<Dot> dots;  // every --dot, in command-line order
};

// Every value of --dot on the command line: absl keeps only the last of a repeated flag, and
// a second --dot must not be dropped silently. Forms: --dot=V, -dot=V, --dot V, -dot V.
std::vector<std::string> DotValues(int argc, char** argv) {
  std::vector<std::string> values;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--") break;
    if (a.rfind("--dot=", 0) == 0) values.push_back(a.substr(6));
    else if (a.rfind("-dot=", 0) == 0) values.push_back(a.substr(5));
    else if ((a == "--dot" || a == "-dot") && i + 1 < argc) values.push_back(argv[++i]);
  }
  return values;
}

// Returns -1 when the flags are good, else the exit status (a message was printed).
int ParseFlags(int argc, char** argv, Flags* f) {
  bool help = false;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a.rfind("--help", 0) == 0 || a.rfind("-help", 0) == 0 || a == "--version") help = true;
  }
  // --help and friends keep absl's own status.
  g_parsing_flags = !help;
  std::atexit(BadFlagExit);
  std::vector<char*> args = absl::ParseCommandLine(argc, argv);
  g_parsing_flags = false;
  if (args.size() > 2) return BadFlag("(arguments)", "expected at most one scenario file");
  f->file = args.size() == 2 ? args[1] : "";

  sim::InterpreterOptions& options = f->options;
  const std::string trace = absl::GetFlag(FLAGS_trace);
  if (!trace.empty()) {
    absl::optional<sim::TraceLevel> level = sim::ParseTraceLevel(trace);
    if (!level) return BadFlag("trace", "expected off, calls or full, got '" + trace + "'");
    options.trace = *level;
    options.trace_set = true;
  }
  const std::string format = absl::GetFlag(FLAGS_trace_format);
  if (format != "text" && format != "json") {
    return BadFlag("trace_format", "expected text or json, got '" + format + "'");
  }
  options.trace_json = format == "json";
  // JSON never shares standard output with the statements' echo; it records exactly what
  // the text would (the scenario's `trace` statements, or --trace), nothing more.
  if (options.trace_json && absl::GetFlag(FLAGS_trace_out).empty()) {
    return BadFlag("trace_format", "json needs --trace_out=FILE (the JSON is never written to standard output)");
  }
  if (const std::string seed = absl::GetFlag(FLAGS_seed); !seed.empty()) {
    uint64_t v = 0;
    if (!ParseSize(seed, &v) || seed.find_first_not_of("0123456789") != std::string::npos)
      return BadFlag("seed", "expected a decimal number 0..18446744073709551615, got '" + seed + "'");
    options.machine.seed = v;
    options.seed_set = true;
  }
  options.check_vm = absl::GetFlag(FLAGS_check);
  const std::string memory = absl::GetFlag(FLAGS_memory);
  if (!memory.empty()) {
    uint64_t bytes = 0;
    if (!ParseSize(memory, &bytes) || bytes < sim::scenario::kMinMachineMemory ||
        bytes > sim::scenario::kMaxMachineMemory || bytes % 4096 != 0) {
      return BadFlag("memory", "expected a size between 1M and 64G in whole pages, like 256M, got '" + memory + "'");
    }
    if (absl::Status host = sim::HostCanReserve(bytes); !host.ok())
      return BadFlag("memory", "--memory=" + memory + " cannot be run here: " + std::string(host.message()));
    options.machine.memory_bytes = bytes;
    options.memory_set = true;
  }
  if (const std::string swap = absl::GetFlag(FLAGS_swap); !swap.empty()) {
    uint64_t bytes = 0;
    if (!ParseSize(swap, &bytes) || bytes > sim::scenario::kMaxMachineMemory || bytes % 4096 != 0 ||
        bytes == 4096)
      return BadFlag("swap", "expected 0 or a size between 8K and 64G in whole pages, like 512M, got '" + swap + "'");
    options.machine.swap_bytes = bytes;
    options.swap_set = true;
  }
  if (const std::string cpus = absl::GetFlag(FLAGS_cpus); !cpus.empty()) {
    uint64_t n = 0;
    if (!ParseSize(cpus, &n) || cpus.find_first_not_of("0123456789") != std::string::npos ||
        n < 1 || n > sim::scenario::kMaxCpus)
      return BadFlag("cpus", "expected 1..64, got '" + cpus + "'");
    options.machine.cpus = static_cast<int>(n);
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
  if (const std::string thp = absl::GetFlag(FLAGS_thp); !thp.empty()) {
    if (thp != "always" && thp != "madvise" && thp != "never")
      return BadFlag("thp", "expected always, madvise or never, got '" + thp + "'");
    options.machine.thp = thp;
    options.thp_set = true;
  }
  if (const std::string d = absl::GetFlag(FLAGS_thp_defrag); !d.empty()) {
    if (d != "always" && d != "defer" && d != "defer+madvise" && d != "madvise" && d != "never")
      return BadFlag("thp_defrag", "expected always, defer, defer+madvise, madvise or never, got '" + d + "'");
    options.machine.thp_defrag = d;
    options.thp_defrag_set = true;
  }
  if (const std::string z = absl::GetFlag(FLAGS_thp_use_zero_page); !z.empty()) {
    if (z != "0" && z != "1") return BadFlag("thp_use_zero_page", "expected 0 or 1, got '" + z + "'");
    options.machine.thp_use_zero_page = z == "1";
    options.thp_use_zero_page_set = true;
  }
  if (const std::string k = absl::GetFlag(FLAGS_pku); !k.empty()) {
    if (k != "0" && k != "1") return BadFlag("pku", "expected 0 or 1, got '" + k + "'");
    options.machine.pku = k == "1";
    options.pku_set = true;
  }
  for (const std::string& dot : DotValues(argc, argv)) {
    const size_t colon = dot.find(':');
    if (colon == std::string::npos || colon == 0 || colon + 1 == dot.size()) {
      return BadFlag("dot", "expected TASK[,TASK...]:FILE, got '" + dot + "'");
    }
    Flags::Dot d;
    d.file = dot.substr(colon + 1);
    const std::vector<std::string> names = absl::StrSplit(dot.substr(0, colon), ',');
    for (const std::string& task : names) {
      if (task.empty()) return BadFlag("dot", "expected TASK[,TASK...]:FILE, got an empty task name in '" + dot + "'");
      d.tasks.push_back(task);
    }
    f->dots.push_back(std::move(d));
  }
  f->trace_out = absl::GetFlag(FLAGS_trace_out);
  f->html_file = absl::GetFlag(FLAGS_html);
  if (const std::string id = absl::GetFlag(FLAGS_schedule); !id.empty()) {
    absl::StatusOr<sim::ScheduleId> parsed = sim::ParseScheduleId(id);
    if (!parsed.ok()) {
      return BadFlag("schedule", "expected a schedule id like 0 or 3.1-17.0 (STEP.PATH pairs, "
                                 "steps ascending), got '" + id + "': " +
                                     std::string(parsed.status().message()));
    }
    options.schedule = parsed->ToString();
  }
  // Sharding: the flag, else Bazel's test sharding environment (which also asks for the
  // status file to be touched, to say the test knows about sharding).
  std::string shard = absl::GetFlag(FLAGS_shard);
  std::string shard_from = "--shard";
  if (shard.empty()) {
    const char* index = std::getenv("TEST_SHARD_INDEX");
    const char* total = std::getenv("TEST_TOTAL_SHARDS");
    if (index != nullptr && total != nullptr) {
      shard = std::string(index) + "/" + total;
      shard_from = "TEST_SHARD_INDEX/TEST_TOTAL_SHARDS";
    }
    if (const char* status = std::getenv("TEST_SHARD_STATUS_FILE"); status != nullptr && *status) {
      const int fd = open(status, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
      if (fd >= 0) close(fd);
    }
  }
  if (!shard.empty()) {
    const size_t slash = shard.find('/');
    uint64_t i = 0, n = 0;
    if (slash == std::string::npos || !ParseSize(shard.substr(0, slash), &i) ||
        !ParseSize(shard.substr(slash + 1), &n) ||
        shard.find_first_not_of("0123456789/") != std::string::npos || n < 1 || n > 1000000 ||
        i >= n) {
      return BadFlag(shard_from == "--shard" ? "shard" : "shard (from " + shard_from + ")",
                     "expected I/N with 0 <= I < N <= 1000000, like 0/4, got '" + shard + "'");
    }
    options.shard_index = static_cast<int>(i);
    options.shard_count = static_cast<int>(n);
  }

  // No output may be an input: opening it for writing would empty the scenario before it
  // is read. Compared by device and inode, so symlinks and hard links count.
  struct stat in_st;
  const bool have_in = f->file == "-" ? fstat(0, &in_st) == 0
                                      : !f->file.empty() && stat(f->file.c_str(), &in_st) == 0;
  std::vector<std::pair<std::string, std::string>> outputs;  // flag, path
  if (!f->html_file.empty()) outputs.push_back({"html", f->html_file});
  if (!f->trace_out.empty()) outputs.push_back({"trace_out", f->trace_out});
  for (const Flags::Dot& d : f->dots) outputs.push_back({"dot", d.file});
  for (const auto& [flag, path] : outputs) {
    struct stat out_st;
    if (have_in && S_ISREG(in_st.st_mode) && stat(path.c_str(), &out_st) == 0 && SameFile(in_st, out_st))
      return BadFlag(flag, "'" + path + "' is the scenario file; refusing to overwrite an input");
  }
  // No two outputs may be one file (by name, or by device and inode when it exists).
  for (size_t i = 0; i < outputs.size(); ++i) {
    for (size_t j = 0; j < i; ++j) {
      struct stat a, b;
      const bool same = outputs[i].second == outputs[j].second ||
                        (stat(outputs[j].second.c_str(), &a) == 0 && stat(outputs[i].second.c_str(), &b) == 0 &&
                         SameFile(a, b));
      if (same)
        return BadFlag(outputs[i].first, "'" + outputs[i].second + "' is also the --" + outputs[j].first + " file");
    }
  }
  return -1;
}

// The scenario text of `path`: a regular file or a pipe, at most kMaxScenarioBytes.
// Directories, devices and the like are refused before anything is read.
bool ReadScenarioFile(const std::string& path, std::string* text) {
  const int fd = open(path.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0) {
    std::cerr << "mmsim: cannot open " << path << ": " << std::strerror(errno) << "\n";
    return false;
  }
  struct stat st;
  if (fstat(fd, &st) != 0 || !(S_ISREG(st.st_mode) || S_ISFIFO(st.st_mode))) {
    std::cerr << "mmsim: " << path << " is not a regular file or a pipe\n";
    close(fd);
    return false;
  }
  // Back to blocking reads (O_NONBLOCK only kept open() from waiting on a FIFO writer).
  fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK);
  char buf[65536];
  while (true) {
    const ssize_t n = read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      std::cerr << "mmsim: cannot read " << path << ": " << std::strerror(errno) << "\n";
      close(fd);
      return false;
    }
    if (n == 0) break;
    if (text->size() + static_cast<uint64_t>(n) > kMaxScenarioBytes) {
      std::cerr << "mmsim: " << path << " is larger than 64M; refusing to read it\n";
      close(fd);
      return false;
    }
    text->append(buf, static_cast<size_t>(n));
  }
  close(fd);
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  absl::SetProgramUsageMessage(
      "mmsim [flags] [FILE.mms | -]\n"
      "mmsim quiz --kind=walk|tlb|cow|pvm [--seed=N] [--solve] [--scenario]\n"
      "Runs a scenario against a simulated x86-64 machine running a port of Linux mm.\n"
      "With no file: the built-in guided tour (--print-tour prints its text).\n"
      "'-': statements from standard input.\n"
      "Exit status: 0 every expectation held, 1 one failed, 2 invalid scenario or flag,\n"
      "3 runtime error, 4 an output could not be written.");
  // `mmsim quiz ...`: seeded exercises (sim/quiz.h), with flags of its own.
  if (argc >= 2 && std::string(argv[1]) == "quiz") return sim::QuizMain(argc, argv);
  // `--print-tour` (absl flags cannot spell a dash): the built-in scenario, as docs/tour.md
  // quotes it, and nothing else.
  for (int i = 1; i < argc; ++i) {
    // `--host` / `--compare`: the scenario on the host kernel (sim/host/compare.h).
    if (std::string(argv[i]) == "--host" || std::string(argv[i]) == "--compare") {
      return sim::host::HostMain(argc, argv);
    }
    if (std::string(argv[i]) == "--print-tour") {
      std::cout << sim::kDefaultScenario;
      return std::cout.flush() ? 0 : kExitOutputError;
    }
  }
  // When the host refuses the simulator memory: a message and status 2, the output so far
  // intact, never std::bad_alloc.
  sim::InstallHostMemoryExhaustedHandler(sim::kExitInvalid);
  Flags flags;
  if (int bad = ParseFlags(argc, argv, &flags); bad >= 0) return bad;
  sim::InterpreterOptions& options = flags.options;

  std::ofstream trace_file;
  if (!flags.trace_out.empty() && !options.trace_json) {
    trace_file.open(flags.trace_out, std::ios::binary);
    if (!trace_file) return BadFlag("trace_out", "cannot open '" + flags.trace_out + "' for writing");
    options.trace_out = &trace_file;
  }
  // --html: the page is opened now (a path that cannot be written is a bad flag), the
  // interpreter's output is copied for it, and it is written after the run.
  std::ofstream html_file;
  std::string html_output;
  CopyingBuf html_out_buf(std::cout.rdbuf(), &html_output);
  CopyingBuf html_err_buf(std::cerr.rdbuf(), &html_output);
  std::ostream html_out(&html_out_buf);
  std::ostream html_err(&html_err_buf);
  std::unique_ptr<sim::HtmlReport> html;
  if (!flags.html_file.empty()) {
    html_file.open(flags.html_file, std::ios::binary | std::ios::trunc);
    if (!html_file) {
      return BadFlag("html", "cannot open '" + flags.html_file + "' for writing: " + std::strerror(errno));
    }
    html = std::make_unique<sim::HtmlReport>(
        flags.file.empty() ? std::string(sim::kDefaultScenarioName) : flags.file == "-" ? std::string("<stdin>") : flags.file,
        &html_output);
    options.step_observer = html.get();
  }
  sim::Interpreter interp(options, html ? html_out : std::cout, html ? html_err : std::cerr);
  int status = 0;
  const std::string& file = flags.file;
  if (file == "-") {
    // One line at a time. A line that does not parse, or a statement the machine cannot
    // carry out, is reported and has no effect; the session goes on to the end of the
    // input, on a terminal or not. The exit status is the worst seen (2 before 3 before 1).
    sim::scenario::IncrementalParser parser("<stdin>");
    const bool tty = isatty(0);
    bool invalid = false;
    uint64_t read_bytes = 0;
    std::string line;
    while (true) {
      if (tty) std::cout << "mmsim> " << std::flush;
      if (!std::getline(std::cin, line)) break;
      read_bytes += line.size() + 1;
      if (read_bytes > kMaxScenarioBytes) {
        std::cerr << "mmsim: standard input is larger than 64M; stopping\n";
        invalid = true;
        break;
      }
      absl::StatusOr<std::optional<sim::scenario::Statement>> stmt = parser.ParseLine(line);
      if (!stmt.ok()) {
        std::cerr << stmt.status().message() << "\n";
        invalid = true;
        continue;
      }
      if (*stmt) (void)interp.Step(**stmt);
    }
    if (absl::Status open_block = parser.Finish(); !open_block.ok()) {
      std::cerr << open_block.message() << "\n";
      invalid = true;
    }
    status = invalid ? sim::kExitInvalid : interp.exit_status();
  } else {
    std::string text, name;
    if (file.empty()) {
      text = sim::kDefaultScenario;
      name = sim::kDefaultScenarioName;
    } else {
      if (!ReadScenarioFile(file, &text)) return sim::kExitInvalid;
      name = file;
    }
    absl::StatusOr<sim::scenario::Scenario> scenario = sim::scenario::ParseScenario(text, name);
    if (!scenario.ok()) {
      std::cerr << scenario.status().message() << "\n";
      // The page still says what happened (no statements, the error), not an empty file.
      if (html != nullptr) {
        html_output = std::string(scenario.status().message()) + "\n";
        if (!(html_file << html->Render(sim::kExitInvalid)) || !html_file.flush())
          std::cerr << "mmsim: cannot write the page to " << flags.html_file << "\n";
      }
      return sim::kExitInvalid;
    }
    status = interp.Run(*scenario);
  }

  // Outputs: a write that fails is an error of its own (status 4), after the run's.
  bool output_failed = false;
  if (trace_file.is_open()) {
    trace_file.flush();
    if (!trace_file) {
      std::cerr << "mmsim: cannot write the trace to " << flags.trace_out << "\n";
      output_failed = true;
    }
  }
  if (options.trace_json) {
    const std::string json = interp.TraceJson();
    if (flags.trace_out.empty()) {
      std::cout << json;
    } else {
      std::ofstream f(flags.trace_out, std::ios::binary);
      if (!(f << json) || !f.flush()) {
        std::cerr << "mmsim: cannot write the trace to " << flags.trace_out << "\n";
        output_failed = true;
      }
    }
  }
  for (const Flags::Dot& d : flags.dots) {
    if (interp.machine() == nullptr) break;
    std::vector<sim::DotTask> tasks;
    for (const std::string& name : d.tasks) {
      std::optional<int> pid = interp.PidOfName(name);
      if (!pid) return BadFlag("dot", "no task named '" + name + "' in the scenario");
      tasks.push_back({name, *pid});
    }
    absl::StatusOr<std::string> dot = sim::PagetableDot(*interp.machine(), tasks);
    if (!dot.ok()) {
      std::cerr << "mmsim: cannot draw the page tables for " << d.file << ": " << dot.status().message() << "\n";
      if (status == 0) status = sim::kExitRuntimeError;
      continue;
    }
    std::ofstream f(d.file, std::ios::binary);
    if (!(f << *dot) || !f.flush()) {
      std::cerr << "mmsim: cannot write the DOT graph to " << d.file << "\n";
      output_failed = true;
    }
  }
  if (html != nullptr) {
    html_out.flush();
    html_err.flush();
    const int shown = status != 0 ? status : output_failed ? kExitOutputError : 0;
    if (!(html_file << html->Render(shown)) || !html_file.flush()) {
      std::cerr << "mmsim: cannot write the page to " << flags.html_file << "\n";
      output_failed = true;
    }
  }
  if (!std::cout.flush()) {
    std::cerr << "mmsim: cannot write to standard output\n";
    output_failed = true;
  }
  if (status != 0) return status;
  return output_failed ? kExitOutputError : 0;
}
