// Runs the fuzzer entry point (built with gcc, no libFuzzer) over the seed
// corpus tests/scenarios/*.mms, and requires every corpus file to parse,
// so the corpus stays a set of valid scenarios.
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "gtest/gtest.h"
#include "sim/fuzz_replay.h"
#include "sim/scenario/parser.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);

namespace sim::scenario {
namespace {

using fuzz_replay::CorpusFiles;
using fuzz_replay::RunfilesDir;

std::string ReadFile(const std::filesystem::path& p) { return fuzz_replay::ReadAll(p); }

int RunOne(absl::string_view text) {
  return LLVMFuzzerTestOneInput(reinterpret_cast<const uint8_t*>(text.data()), text.size());
}

TEST(ScenarioParserFuzzer, CorpusHasTenScenarios) {
  EXPECT_GE(CorpusFiles().size(), 10u) << "corpus dir: " << RunfilesDir("tests/scenarios");
}

TEST(ScenarioParserFuzzer, EveryCorpusFileParsesAndSurvivesTheFuzzerChecks) {
  for (const auto& path : CorpusFiles()) {
    SCOPED_TRACE(path.string());
    const std::string text = ReadFile(path);
    ASSERT_FALSE(text.empty());
    const absl::StatusOr<Scenario> s = ParseScenario(text, path.filename().string());
    EXPECT_TRUE(s.ok()) << s.status();
    EXPECT_EQ(RunOne(text), 0);
  }
}

// Every input a fuzzer ever crashed on (tests/fuzz/regressions) goes through this fuzzer's
// checks too.
TEST(ScenarioParserFuzzer, ReplaysEveryRegressionInput) {
  const auto files = fuzz_replay::RegressionFiles();
  ASSERT_GE(files.size(), 1u);
  for (const auto& path : files) {
    SCOPED_TRACE(path.string());
    EXPECT_EQ(RunOne(fuzz_replay::ReadAll(path)), 0);
  }
}

TEST(ScenarioParserFuzzer, EntryPointHandlesOddInputs) {
  const std::string inputs[] = {
      "",
      "\n\n\n",
      std::string("process p\0q", 11),
      "process p\np: store 0 \"abc",
      "let X = ((((((((((1))))))))))",
      std::string(70000, 'x'),
      "process p\np: process_vm_readv p [" + std::string(20000, ',') + "] []",
      "\xff\xfe\x00\x01",
  };
  for (const std::string& in : inputs) EXPECT_EQ(RunOne(in), 0);
}

}  // namespace
}  // namespace sim::scenario
