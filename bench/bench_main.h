// bench/bench_main.h: runs the registered benchmarks and makes their errors the exit status.
//
// Google Benchmark's own main() exits 0 when a benchmark calls state.SkipWithError, so a smoke
// test (bench/benchmark.bzl) would pass over a short transfer or wrong bytes. RunBenchmarks()
// exits 1 instead when any benchmark reported an error, and names them.
//
// One kind of error is not a failure: what the host cannot provide (THP not enabled on the
// host, the real syscall not permitted in this container). Such a benchmark reports an error
// message that starts with kUnavailable; it is counted and named as skipped.

#ifndef MMSIM_BENCH_BENCH_MAIN_H_
#define MMSIM_BENCH_BENCH_MAIN_H_

namespace benchmain {

inline constexpr char kUnavailable[] = "unavailable: ";

// --benchmark_display_aggregates_only and --benchmark_report_aggregates_only would hide a
// failed repetition beside good ones (only the aggregates, which carry no error, are
// reported). Returns false, having said so on stderr, when argv turns either on; a main
// then exits 2. Call it before benchmark::Initialize.
bool FlagsKeepErrorsVisible(int argc, char** argv);

// Runs the benchmarks that benchmark::Initialize selected, printing as the --benchmark_format
// flag asks (console by default), then calls benchmark::Shutdown. Returns the exit status:
// 0 when no benchmark failed, 1 otherwise (a list on stderr either way when any did not run).
int RunBenchmarks();

}  // namespace benchmain

#endif  // MMSIM_BENCH_BENCH_MAIN_H_
