// Robustness of the scenario parser against mangled input.
//
// Starting from valid scenarios (the seed corpus plus a few built-in ones), a
// seeded generator makes mutants: truncations, byte flips, inserted tokens
// from the language and from its edge cases, deleted ranges, duplicated and
// swapped lines, splices. For every mutant the test asserts only what the
// parser promises for any input: it returns with either a scenario that prints
// back to itself, or an InvalidArgument error `FILE:LINE:COL: expected X, got Y`
// positioned inside the input, and its work is linear in the input: the lexer's
// token and byte counts (LexerWorkSoFar) stay within a constant factor of the
// bytes parsed. Counts, not the clock, so the bound holds under load and
// sanitizers, and a quadratic blow-up still exceeds it by orders of magnitude.
//
// Two systematic checks then pin positions exactly: an invalid byte inserted
// at a token boundary is reported at its own column, and a line cut short is
// reported on that line no further right than the cut.
#include <algorithm>
#include <cctype>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"
#include "gtest/gtest.h"
#include "sim/scenario/ast.h"
#include "sim/scenario/error_check.h"
#include "sim/scenario/format.h"
#include "sim/scenario/lexer.h"
#include "sim/scenario/parser.h"

namespace sim::scenario {
namespace {

constexpr uint64_t kSeed = 20240601;
constexpr int kMutants = 4000;
constexpr char kFile[] = "m.mms";

std::vector<std::string> Seeds() {
  std::vector<std::string> seeds = {
      "machine memory=64M cpus=2 seed=3\nprocess p uid=1000 caps=none\nthread t of p\n"
      "p: mmap 0x1000 4K rw- private,anon\nexpect 0x1000\nt: store 0x1000 \"x\\ny\"\n"
      "expect 0\np: load 0x1000 2\nexpect hex:780a\n",
      "let A = 0x100000000000+38*4K+100\nlet B = (A - 1) * 2\nfile f size=8K data=repeat(4K,1)\n"
      "process q\nq: mmap A 8K r-x shared file=f offset=4K\nexpect -1 EINVAL\n"
      "q: process_vm_readv q [A:4K, B:1] raw(0x10,2) flags=-1\nexpect -1 EINVAL\n",
      "process a\na: fork b\nb: setresuid -1 1 -1\nexpect 0\nb: capset cap_kill,cap_chown\n"
      "b: dumpable 0\nb: exit\na: reap b\nexpect-same a 0 a 0 1\nshow pagemap a 0 8K\n"
      "fail fail_gup nth=2 probability=0.5\ntrace full\n",
      "machine cpus=2\nprocess r cpu=1\nprocess t\nschedule t cpu=0\n"
      "together schedule=2.1-9.0\n  r: load 0x1000 1\n  expect \"x\"\n  t: munmap 0x1000 4K\nend\n"
      "explore pct 10 depth=2 seed=1\n  together\n    r: process_vm_readv t [0x1000:1] [0x2000:1]\n"
      "    t: munmap 0x2000 4K\n  end\n  show cpus\n  expect-mem r 0x1000 \"x\"\n"
      "  expect-always r=1 t=0 or r=EFAULT or deadlock\n  expect-never check-failed\nend\n",
  };
  const char* srcdir = std::getenv("TEST_SRCDIR");
  const char* ws = std::getenv("TEST_WORKSPACE");
  std::filesystem::path dir = std::filesystem::path(srcdir ? srcdir : ".") /
                              (ws ? ws : "mmsim") / "tests/scenarios";
  std::vector<std::filesystem::path> files;
  std::error_code ec;
  for (const auto& e : std::filesystem::directory_iterator(dir, ec)) files.push_back(e.path());
  std::sort(files.begin(), files.end());
  for (const auto& f : files) {
    std::ifstream in(f, std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    seeds.push_back(ss.str());
  }
  return seeds;
}

// Words and edge cases a mutation may insert.
const std::vector<std::string>& Vocabulary() {
  static const auto* v = new std::vector<std::string>{
      "machine", "let", "process", "thread", "kthread", "file", "expect", "expect-mem",
      "expect-same", "show", "fail", "trace", "mmap", "munmap", "mprotect", "store", "fill",
      "load", "process_vm_readv", "process_vm_writev", "fork", "exit", "reap", "setresuid",
      "setresgid", "capset", "dumpable", "p:", "q:", "x:", "of", "size=", "data=", "file=",
      "offset=", "flags=", "uid=", "caps=", "nth=", "probability=", "readonly", "private",
      "shared", "anon", "fixed", ",", ":", "=", "(", ")", "[", "]", "+", "-", "*", "#", "\"",
      "\\", "\\x", "hex:", "repeat(", "pattern(", "raw(", "rw-", "---", "rwx", "r-x", "-1",
      "EFAULT", "SIGSEGV", "0", "1", "4K", "1G", "0x", "0xffffffffffffffff",
      "18446744073709551616", "99999999999999999999999", "0.5", "1.5", "007", "\t", "\r",
      "\n", std::string(1, '\0'), "\xff", "\xc3\xa9", std::string(300, '('),
      std::string(300, '-'), std::string(5000, 'a'), "[0:1,0:1,0:1]", "\"unterminated",
      "repeat(1G,0)", "repeat(2G,0)", "pattern(1G)",
  };
  return *v;
}

class Mutator {
 public:
  explicit Mutator(uint64_t seed) : rng_(seed) {}

  uint64_t Below(uint64_t n) { return n == 0 ? 0 : rng_() % n; }

  std::string Mutate(std::string s, const std::vector<std::string>& seeds) {
    const int rounds = 1 + static_cast<int>(Below(3));
    for (int r = 0; r < rounds; ++r) {
      switch (Below(8)) {
        case 0:  // truncate
          s.resize(Below(s.size() + 1));
          break;
        case 1:  // flip bytes
          for (int i = 0, n = 1 + static_cast<int>(Below(4)); i < n && !s.empty(); ++i) {
            s[Below(s.size())] = static_cast<char>(Below(256));
          }
          break;
        case 2:  // insert a vocabulary word, maybe with spaces
        case 3: {
          const std::vector<std::string>& v = Vocabulary();
          std::string w = v[Below(v.size())];
          if (Below(2)) w = " " + w + " ";
          s.insert(Below(s.size() + 1), w);
          break;
        }
        case 4: {  // delete a range
          const size_t at = Below(s.size() + 1);
          s.erase(at, Below(16));
          break;
        }
        case 5: {  // duplicate or swap lines
          std::vector<std::string> lines = absl::StrSplit(s, '\n');
          if (lines.size() < 2) break;
          const size_t a = Below(lines.size()), b = Below(lines.size());
          if (Below(2)) {
            lines.insert(lines.begin() + b, lines[a]);
          } else {
            std::swap(lines[a], lines[b]);
          }
          s = absl::StrJoin(lines, "\n");
          break;
        }
        case 6: {  // replace a digit run with an edge number
          static const char* kNums[] = {"0", "1", "0xffffffffffffffff", "18446744073709551615",
                                        "18446744073709551616", "4097", "65M", "4096"};
          const size_t at = s.find_first_of("0123456789", Below(s.size() + 1));
          if (at == std::string::npos) break;
          size_t end = at;
          while (end < s.size() && isalnum(static_cast<unsigned char>(s[end]))) ++end;
          s.replace(at, end - at, kNums[Below(8)]);
          break;
        }
        default: {  // splice with another seed
          const std::string& o = seeds[Below(seeds.size())];
          s = s.substr(0, Below(s.size() + 1)) + o.substr(Below(o.size() + 1));
          break;
        }
      }
    }
    return s;
  }

 private:
  std::mt19937_64 rng_;
};

// The lexer work allowed per byte parsed, and per line (an empty line still lexes its
// end). Measured: every mutant and hostile input stays within one token and one byte per
// byte plus one per line; the bounds leave room for parser changes, not for a rescan per
// token or per line (a 64 KiB line of 16K tokens rescanned per token costs ~10^9 bytes).
constexpr uint64_t kWorkPerByte = 4;
constexpr uint64_t kWorkPerLine = 8;

// The lexer work of one parse of `text` must be linear in its size.
::testing::AssertionResult LinearWork(const LexerWork& before, const LexerWork& after,
                                      absl::string_view text) {
  const uint64_t lines = static_cast<uint64_t>(std::count(text.begin(), text.end(), '\n')) + 1;
  const uint64_t bound = kWorkPerByte * text.size() + kWorkPerLine * lines;
  const uint64_t tokens = after.tokens - before.tokens, bytes = after.bytes - before.bytes;
  if (tokens <= bound && bytes <= bound) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure()
         << "lexer work " << tokens << " tokens, " << bytes << " bytes for " << text.size()
         << " bytes in " << lines << " lines (bound " << bound << ")";
}

// Parses `text`, checking the lexer's work against its size.
absl::StatusOr<Scenario> ParseCounted(absl::string_view text, bool* linear) {
  const LexerWork before = LexerWorkSoFar();
  absl::StatusOr<Scenario> s = ParseScenario(text, kFile);
  const ::testing::AssertionResult r = LinearWork(before, LexerWorkSoFar(), text);
  EXPECT_TRUE(r) << "input: " << absl::CEscape(text.substr(0, 200));
  *linear = *linear && static_cast<bool>(r);
  return s;
}

// The promise for any input. Returns false (after reporting) if broken.
bool CheckAnyInput(const std::string& text, int* ok_count) {
  bool linear = true;
  absl::StatusOr<Scenario> s = ParseCounted(text, &linear);
  if (!linear) return false;
  if (!s.ok()) {
    absl::Status check = CheckParseError(s.status(), text, kFile);
    EXPECT_TRUE(check.ok()) << check << "\ninput: " << absl::CEscape(text.substr(0, 500));
    return check.ok();
  }
  ++*ok_count;
  const std::string printed = FormatScenario(*s);
  absl::StatusOr<Scenario> again = ParseCounted(printed, &linear);
  EXPECT_TRUE(again.ok()) << again.status() << "\nprinted:\n" << printed;
  if (!again.ok() || !linear) return false;
  EXPECT_EQ(again->statements.size(), s->statements.size());
  for (size_t i = 0; i < std::min(again->statements.size(), s->statements.size()); ++i) {
    if (!SameIgnoringPos(s->statements[i], again->statements[i])) {
      ADD_FAILURE() << "round trip changed: " << FormatStatement(s->statements[i]);
      return false;
    }
  }
  return true;
}

TEST(ParserRobustness, SeededMutantsParseOrFailWithAPosition) {
  const std::vector<std::string> seeds = Seeds();
  ASSERT_GE(seeds.size(), 3u);
  Mutator m(kSeed);
  int ok = 0, failures = 0;
  uint64_t input_bytes = 0;
  const LexerWork start = LexerWorkSoFar();
  for (int i = 0; i < kMutants && failures < 5; ++i) {
    const std::string text = m.Mutate(seeds[m.Below(seeds.size())], seeds);
    input_bytes += text.size();
    if (!CheckAnyInput(text, &ok)) ++failures;
  }
  const LexerWork end = LexerWorkSoFar();
  std::printf("seed %llu: %d mutants (%llu bytes), %d parsed OK, lexer work %llu tokens, "
              "%llu bytes\n",
              static_cast<unsigned long long>(kSeed), kMutants,
              static_cast<unsigned long long>(input_bytes), ok,
              static_cast<unsigned long long>(end.tokens - start.tokens),
              static_cast<unsigned long long>(end.bytes - start.bytes));
  EXPECT_EQ(failures, 0);
  // Both outcomes must actually be exercised.
  EXPECT_GT(ok, kMutants / 50);
  EXPECT_LT(ok, kMutants);
  // The counter counts: every mutant lexed at least one token (parsing stops at the
  // first error, so not every byte is scanned).
  EXPECT_GE(end.tokens - start.tokens, static_cast<uint64_t>(kMutants));
  EXPECT_GT(end.bytes - start.bytes, input_bytes / 10);
}

TEST(ParserRobustness, HostileInputsCostLinearWork) {
  std::string iovs = "process p\np: process_vm_readv p [";
  while (iovs.size() < kMaxLineBytes - 20) iovs += "0:1,";
  const std::vector<std::string> inputs = {
      "let X = " + std::string(kMaxLineBytes - 8, '('),
      "let X = " + std::string(kMaxLineBytes - 8, '-'),
      "let X = 1" + std::string(kMaxLineBytes / 2 - 8, '+') + "1",
      "let X = " + std::string(kMaxLineBytes - 8, '9'),
      iovs,
      "process p\np: store 0 \"" + std::string(kMaxLineBytes - 20, 'a') + "\"",
      "process p\np: store 0 hex:" + std::string(kMaxLineBytes - 30, 'f'),
      "process p\np: store 0 \"" + std::string(kMaxLineBytes - 20, '\\'),
      std::string(kMaxLineBytes, ' '),
      std::string(kMaxLineBytes + 1, ' '),
      std::string(4 * kMaxLineBytes, '\n'),
      std::string(10 * kMaxLineBytes, 'x'),
      "process p\np: fill 0 1G 0\np: store 0 repeat(64M,0)\nexpect-mem p 0 repeat(1G,0)\n",
  };
  for (const std::string& in : inputs) {
    int ok = 0;
    const LexerWork before = LexerWorkSoFar();
    EXPECT_TRUE(CheckAnyInput(in, &ok)) << in.substr(0, 60);
    const LexerWork after = LexerWorkSoFar();
    std::printf("hostile input %zu bytes (%s...): lexer work %llu tokens, %llu bytes\n",
                in.size(), absl::CEscape(in.substr(0, 12)).c_str(),
                static_cast<unsigned long long>(after.tokens - before.tokens),
                static_cast<unsigned long long>(after.bytes - before.bytes));
  }
}

// Lines of the seeds that contain no string or comment, with the text before
// them (which parses), so a mutation of the line is the only problem.
struct LineInContext {
  std::string before;  // all previous lines, each ending in '\n'
  std::string line;
  int line_no;
};

std::vector<LineInContext> PlainLines() {
  std::vector<LineInContext> out;
  for (const std::string& seed : Seeds()) {
    std::string before;
    int n = 0;
    for (absl::string_view line : absl::StrSplit(seed, '\n')) {
      ++n;
      if (!line.empty() && line.find_first_of("\"#") == absl::string_view::npos) {
        out.push_back({before, std::string(line), n});
      }
      absl::StrAppend(&before, line, "\n");
    }
  }
  return out;
}

TEST(ParserRobustness, InvalidByteAtATokenBoundaryIsReportedAtItsColumn) {
  int checked = 0;
  for (const LineInContext& l : PlainLines()) {
    for (size_t i = 0; i < l.line.size(); ++i) {
      if (l.line[i] != ' ') continue;
      const std::string mutated = l.line.substr(0, i + 1) + "@" + l.line.substr(i + 1);
      const std::string text = l.before + mutated;
      absl::StatusOr<Scenario> s = ParseScenario(text, kFile);
      ASSERT_FALSE(s.ok()) << text;
      ErrorPosition pos;
      ASSERT_TRUE(CheckParseError(s.status(), text, kFile, &pos).ok()) << s.status();
      EXPECT_EQ(pos.line, l.line_no) << s.status() << "\nline: " << mutated;
      EXPECT_EQ(pos.col, static_cast<int>(i) + 2) << s.status() << "\nline: " << mutated;
      // Usually "got invalid character '@'"; where a word is read whole
      // (PROT) it is "got '@rw-'".
      const std::string msg(s.status().message());
      EXPECT_TRUE(msg.find(", got invalid character '@'") != std::string::npos ||
                  msg.find(", got '@") != std::string::npos)
          << msg;
      ++checked;
    }
  }
  std::printf("checked %d insertions\n", checked);
  EXPECT_GT(checked, 500);
}

TEST(ParserRobustness, ACutLineIsReportedOnThatLineAtOrBeforeTheCut) {
  int errors = 0;
  const std::vector<LineInContext> lines = PlainLines();
  for (size_t li = 0; li < lines.size(); li += 4) {  // a quarter of them keeps the test small
    const LineInContext& l = lines[li];
    for (size_t keep = 1; keep < l.line.size(); ++keep) {
      const std::string text = l.before + l.line.substr(0, keep);
      absl::StatusOr<Scenario> s = ParseScenario(text, kFile);
      if (s.ok()) continue;  // e.g. `show pagetable p 0x1000` cut to `show pagetable p`
      ErrorPosition pos;
      ASSERT_TRUE(CheckParseError(s.status(), text, kFile, &pos).ok()) << s.status();
      EXPECT_EQ(pos.line, l.line_no) << s.status();
      EXPECT_LE(pos.col, static_cast<int>(keep) + 1) << s.status();
      ++errors;
    }
  }
  std::printf("checked %d truncations that fail\n", errors);
  EXPECT_GT(errors, 1000);
}

TEST(ParserRobustness, SampleOfExactPositions) {
  struct Case {
    std::string text;
    int line, col;
  };
  const Case cases[] = {
      // A flipped PROT letter.
      {"process p\np: mmap 0x1000 4K rq- private", 2, 19},
      // Truncated inside a string: reported at the opening quote.
      {"process p\np: store 0x1000 \"hel", 2, 17},
      // Truncated after an operator: reported at the end of the line.
      {"let X = 1+", 1, 11},
      // A deleted colon in an iovec: 0x10004K is a NUM, so the ']' is wrong.
      {"process p\np: process_vm_readv p [0x10004K] []", 2, 32},
      // Duplicated declaration line.
      {"process p\nthread t of p\nthread t of p", 3, 8},
      // Swapped lines: use before declaration.
      {"p: exit\nprocess p", 1, 1},
      // expect moved away from its statement.
      {"process p\nexpect 0\np: load 0 1", 2, 1},
      // A byte flipped to NUL in the middle of a number.
      {std::string("process p\np: munmap 0x1") + '\0' + "0 4K", 2, 14},
  };
  for (const Case& c : cases) {
    absl::StatusOr<Scenario> s = ParseScenario(c.text, kFile);
    ASSERT_FALSE(s.ok()) << c.text;
    ErrorPosition pos;
    ASSERT_TRUE(CheckParseError(s.status(), c.text, kFile, &pos).ok()) << s.status();
    EXPECT_EQ(pos.line, c.line) << s.status();
    EXPECT_EQ(pos.col, c.col) << s.status();
  }
}

TEST(ErrorCheck, RejectsMalformedMessages) {
  const std::string text = "ab\ncde";
  auto err = [](const std::string& m) { return absl::InvalidArgumentError(m); };
  EXPECT_TRUE(CheckParseError(err("m.mms:2:4: expected x, got y"), text, kFile).ok());
  EXPECT_FALSE(CheckParseError(err("m.mms:2:5: expected x, got y"), text, kFile).ok());
  EXPECT_FALSE(CheckParseError(err("m.mms:3:1: expected x, got y"), text, kFile).ok());
  EXPECT_FALSE(CheckParseError(err("m.mms:0:1: expected x, got y"), text, kFile).ok());
  EXPECT_FALSE(CheckParseError(err("m.mms:1:0: expected x, got y"), text, kFile).ok());
  EXPECT_FALSE(CheckParseError(err("m.mms:1:1: expected x"), text, kFile).ok());
  EXPECT_FALSE(CheckParseError(err("n.mms:1:1: expected x, got y"), text, kFile).ok());
  EXPECT_FALSE(CheckParseError(err("m.mms:1:1: bad"), text, kFile).ok());
  EXPECT_FALSE(CheckParseError(absl::InternalError("m.mms:1:1: expected x, got y"), text, kFile).ok());
  EXPECT_FALSE(CheckParseError(absl::OkStatus(), text, kFile).ok());
}

}  // namespace
}  // namespace sim::scenario
