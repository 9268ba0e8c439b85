// bench/bench_main.cc: see bench_main.h.

#include "bench/bench_main.h"

#include <cstdio>
#include <cstring>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "benchmark/benchmark.h"

namespace benchmain {
namespace {

// Forwards everything to the reporter --benchmark_format chose and notes the errors.
class ErrorNotingReporter : public benchmark::BenchmarkReporter {
 public:
  explicit ErrorNotingReporter(benchmark::BenchmarkReporter* display) : display_(display) {}

  bool ReportContext(const Context& context) override { return display_->ReportContext(context); }
  void ReportRuns(const std::vector<Run>& runs) override {
    for (const Run& run : runs) {
      if (!run.error_occurred) continue;
      const bool unavailable =
          run.error_message.compare(0, std::strlen(kUnavailable), kUnavailable) == 0;
      (unavailable ? skipped_ : failed_).insert(run.benchmark_name() + ": " + run.error_message);
    }
    display_->ReportRuns(runs);
  }
  void Finalize() override { display_->Finalize(); }

  const std::set<std::string>& failed() const { return failed_; }
  const std::set<std::string>& skipped() const { return skipped_; }

 private:
  benchmark::BenchmarkReporter* display_;
  std::set<std::string> failed_, skipped_;
};

void List(const char* what, const std::set<std::string>& runs) {
  if (runs.empty()) return;
  std::fprintf(stderr, "%zu benchmark run(s) %s:\n", runs.size(), what);
  for (const std::string& r : runs) std::fprintf(stderr, "  %s\n", r.c_str());
}

}  // namespace

bool FlagsKeepErrorsVisible(int argc, char** argv) {
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    for (const char* flag :
         {"--benchmark_display_aggregates_only", "--benchmark_report_aggregates_only"}) {
      const size_t n = std::strlen(flag);
      if (arg.compare(0, n, flag) != 0) continue;
      if (arg.size() > n && arg[n] != '=') continue;  // another flag with this prefix
      const std::string value = arg.size() > n ? arg.substr(n + 1) : "true";
      if (value == "false" || value == "0" || value == "no" || value == "f" || value == "n")
        continue;
      std::fprintf(stderr,
                   "%s: %s would hide a failed repetition beside good ones (the aggregates "
                   "carry no error); these benchmarks do not take it\n",
                   argv[0], flag);
      return false;
    }
  }
  return true;
}

int RunBenchmarks() {
  std::unique_ptr<benchmark::BenchmarkReporter> display(benchmark::CreateDefaultDisplayReporter());
  ErrorNotingReporter reporter(display.get());
  benchmark::RunSpecifiedBenchmarks(&reporter);
  benchmark::Shutdown();
  List("skipped (the host cannot run them)", reporter.skipped());
  List("FAILED", reporter.failed());
  return reporter.failed().empty() ? 0 : 1;
}

}  // namespace benchmain
