// tests/host/compare_scenarios_test.cc: every shipped scenario (tests/scenarios/*.mms and
// the built-in tour) under `mmsim --compare`, one test each. A scenario that disagrees with
// the host kernel fails unless it says why (`# host: deviation ...`); one the host cannot
// run (`# host: sim-only ...`, or a host that forbids a call it needs) is skipped with the
// reason, never passed.
#include <dirent.h>
#include <sys/wait.h>

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>
#include <vector>

#include "gtest/gtest.h"

namespace {

std::string Runfile(const std::string& rel) {
  const char* srcdir = std::getenv("TEST_SRCDIR");
  return std::string(srcdir != nullptr ? srcdir : ".") + "/mmsim/" + rel;
}

std::vector<std::string> Scenarios() {
  std::vector<std::string> out = {"<tour>"};
  const std::string dir = Runfile("tests/scenarios");
  if (DIR* d = opendir(dir.c_str())) {
    while (dirent* e = readdir(d)) {
      std::string n = e->d_name;
      if (n.size() > 4 && n.substr(n.size() - 4) == ".mms") out.push_back(n);
    }
    closedir(d);
  }
  std::sort(out.begin() + 1, out.end());
  return out;
}

// Runs a shell command; returns its exit status and output.
int Shell(const std::string& cmd, std::string* output) {
  FILE* p = popen((cmd + " 2>&1").c_str(), "r");
  if (p == nullptr) return -1;
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, p)) > 0) output->append(buf, n);
  int st = pclose(p);
  return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

std::string LastLineWith(const std::string& text, const std::string& what) {
  size_t at = text.rfind(what);
  if (at == std::string::npos) return "";
  size_t bol = text.rfind('\n', at);
  bol = bol == std::string::npos ? 0 : bol + 1;
  return text.substr(bol, text.find('\n', at) - bol);
}

class CompareTest : public testing::TestWithParam<std::string> {};

TEST_P(CompareTest, AgreesWithTheHostOrSaysWhy) {
  const std::string mmsim = Runfile("sim/mmsim");
  std::string file;
  if (GetParam() == "<tour>") {
    file = std::string(std::getenv("TEST_TMPDIR")) + "/tour.mms";
    std::string ignored;
    ASSERT_EQ(Shell(mmsim + " --print-tour > " + file, &ignored), 0) << ignored;
  } else {
    file = Runfile("tests/scenarios/" + GetParam());
  }
  std::string out;
  const int status = Shell(mmsim + " --compare " + file, &out);
  if (status == 3) {
    const std::string why = LastLineWith(out, "the host cannot run");
    GTEST_SKIP() << (why.empty() ? LastLineWith(out, ": skipped") : why);
  }
  EXPECT_EQ(status, 0) << "mmsim --compare " << file << " (exit 1: the simulator and the host kernel "
                       << "differ; mark a known difference `# host: deviation REASON`):\n"
                       << out;
  // The summary line is always there: the comparison really ran.
  EXPECT_NE(LastLineWith(out, "# compare "), "") << out;
}

INSTANTIATE_TEST_SUITE_P(Shipped, CompareTest, testing::ValuesIn(Scenarios()),
                         [](const testing::TestParamInfo<std::string>& info) {
                           std::string n = info.param == "<tour>" ? "tour" : info.param.substr(0, info.param.size() - 4);
                           for (char& c : n) {
                             if (!isalnum(static_cast<unsigned char>(c))) c = '_';
                           }
                           return n;
                         });

}  // namespace
