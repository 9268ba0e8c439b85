// bench/bench_main_test.cc: a benchmark's error fails the run; a host that cannot run one
// only skips it.

#include "bench/bench_main.h"

#include <cstdlib>
#include <string>
#include <vector>

#include "benchmark/benchmark.h"
#include "gtest/gtest.h"

namespace {

void BM_Fine(benchmark::State& state) {
  for (auto _ : state) benchmark::DoNotOptimize(state.iterations());
}
void BM_Fails(benchmark::State& state) {
  state.SkipWithError("the copied bytes are wrong");
  for (auto _ : state) {
  }
}
void BM_Unavailable(benchmark::State& state) {
  state.SkipWithError((std::string(benchmain::kUnavailable) + "no THP on this host").c_str());
  for (auto _ : state) {
  }
}

// Runs the benchmarks that `filter` selects, in a child (death test), and exits with
// RunBenchmarks' status.
[[noreturn]] void RunOnly(const char* filter) {
  benchmark::RegisterBenchmark("fine", BM_Fine);
  benchmark::RegisterBenchmark("fails", BM_Fails);
  benchmark::RegisterBenchmark("unavailable", BM_Unavailable);
  std::string f = std::string("--benchmark_filter=") + filter;
  char arg0[] = "bench_main_test", arg2[] = "--benchmark_min_time=0.001";
  char* argv[] = {arg0, f.data(), arg2, nullptr};
  int argc = 3;
  benchmark::Initialize(&argc, argv);
  std::exit(benchmain::RunBenchmarks());
}

TEST(RunBenchmarksTest, AllFineExitsZero) {
  EXPECT_EXIT(RunOnly("^fine$"), testing::ExitedWithCode(0), "");
}

TEST(RunBenchmarksTest, AnErrorFailsTheRunAndIsNamed) {
  EXPECT_EXIT(RunOnly("^(fine|fails)$"), testing::ExitedWithCode(1),
              "1 benchmark run\\(s\\) FAILED:\n  fails: the copied bytes are wrong");
}

TEST(RunBenchmarksTest, WhatTheHostCannotRunIsSkippedNotFailed) {
  EXPECT_EXIT(RunOnly("^(fine|unavailable)$"), testing::ExitedWithCode(0),
              "1 benchmark run\\(s\\) skipped \\(the host cannot run them\\):\n"
              "  unavailable: unavailable: no THP on this host");
}

TEST(RunBenchmarksTest, AnErrorBesideASkipStillFails) {
  EXPECT_EXIT(RunOnly("^(fails|unavailable)$"), testing::ExitedWithCode(1), "FAILED");
}

TEST(FlagsKeepErrorsVisibleTest, AggregatesOnlyFlagsAreRefused) {
  auto allowed = [](std::vector<std::string> args) {
    std::vector<char*> argv;
    for (std::string& a : args) argv.push_back(a.data());
    return benchmain::FlagsKeepErrorsVisible(static_cast<int>(argv.size()), argv.data());
  };
  EXPECT_TRUE(allowed({"bench", "--benchmark_filter=x", "--benchmark_repetitions=3"}));
  EXPECT_TRUE(allowed({"bench", "--benchmark_display_aggregates_only=false"}));
  EXPECT_FALSE(allowed({"bench", "--benchmark_display_aggregates_only"}));
  EXPECT_FALSE(allowed({"bench", "--benchmark_display_aggregates_only=true"}));
  EXPECT_FALSE(allowed({"bench", "--benchmark_report_aggregates_only=1"}));
  EXPECT_TRUE(allowed({"bench", "--benchmark_report_aggregates_only_x=1"}));
}

}  // namespace
