// bench/default_main.cc: main() of the benchmarks with no flags of their own. Unlike
// Google Benchmark's own main, it fails (exit 1) when a benchmark reports an error, and a
// flag it does not know is a usage error (exit 2). See bench_main.h.

#include "bench/bench_main.h"
#include "benchmark/benchmark.h"

int main(int argc, char** argv) {
  if (!benchmain::FlagsKeepErrorsVisible(argc, argv)) return 2;
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 2;
  return benchmain::RunBenchmarks();
}
