// sim/fuzz_replay.h: the files a fuzzer's gtest replay runs over (test-only helper).
//
// The corpus (tests/scenarios/*.mms) and the regression inputs (tests/fuzz/regressions/*),
// found in the test's runfiles and sorted by name.
#ifndef MMSIM_SIM_FUZZ_REPLAY_H_
#define MMSIM_SIM_FUZZ_REPLAY_H_

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

namespace sim::fuzz_replay {

inline std::filesystem::path RunfilesDir(const char* relative) {
  const char* srcdir = std::getenv("TEST_SRCDIR");
  const char* workspace = std::getenv("TEST_WORKSPACE");
  std::filesystem::path base = srcdir != nullptr ? srcdir : ".";
  return base / (workspace != nullptr ? workspace : "mmsim") / relative;
}

// Every regular file in `dir` whose name ends in `suffix` ("" for all), sorted.
inline std::vector<std::filesystem::path> FilesIn(const std::filesystem::path& dir,
                                                  const std::string& suffix) {
  std::vector<std::filesystem::path> files;
  std::error_code ec;
  for (const auto& e : std::filesystem::directory_iterator(dir, ec)) {
    const std::string name = e.path().filename().string();
    if (!e.is_regular_file(ec) || name.size() < suffix.size() ||
        name.compare(name.size() - suffix.size(), suffix.size(), suffix) != 0)
      continue;
    files.push_back(e.path());
  }
  std::sort(files.begin(), files.end());
  return files;
}

inline std::vector<std::filesystem::path> CorpusFiles() {
  return FilesIn(RunfilesDir("tests/scenarios"), ".mms");
}
inline std::vector<std::filesystem::path> RegressionFiles() {
  return FilesIn(RunfilesDir("tests/fuzz/regressions"), "");
}

inline std::string ReadAll(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

}  // namespace sim::fuzz_replay

#endif  // MMSIM_SIM_FUZZ_REPLAY_H_
