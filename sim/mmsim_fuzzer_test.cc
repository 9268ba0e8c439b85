// sim/mmsim_fuzzer_test.cc: the parser+interpreter fuzzer's entry point (mmsim_fuzzer.cc,
// built with gcc, no libFuzzer) replayed over the scenario corpus and over every input a
// fuzzer ever crashed on (tests/fuzz/regressions). The entry point aborts on a bad exit
// status or a debug_vm violation, and the sanitizer configs turn memory errors into
// crashes, so a regression fails this test in every `bazel test`, not only when a random
// fuzzing run happens to find it again.
#include <cstdint>
#include <string>

#include "gtest/gtest.h"
#include "sim/fuzz_replay.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);

namespace sim {
namespace {

int RunOne(const std::string& text) {
  return LLVMFuzzerTestOneInput(reinterpret_cast<const uint8_t*>(text.data()), text.size());
}

TEST(MmsimFuzzer, ReplaysEveryRegressionInput) {
  const auto files = fuzz_replay::RegressionFiles();
  ASSERT_GE(files.size(), 1u) << "no regression inputs found in the runfiles";
  for (const auto& path : files) {
    SCOPED_TRACE(path.string());
    EXPECT_EQ(RunOne(fuzz_replay::ReadAll(path)), 0);
  }
}

TEST(MmsimFuzzer, ReplaysTheScenarioCorpus) {
  const auto files = fuzz_replay::CorpusFiles();
  ASSERT_GE(files.size(), 10u);
  for (const auto& path : files) {
    SCOPED_TRACE(path.string());
    EXPECT_EQ(RunOne(fuzz_replay::ReadAll(path)), 0);
  }
}

}  // namespace
}  // namespace sim
