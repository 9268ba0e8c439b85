// The state checks of the scenario language (docs/scenario-language.md, "Checking the
// state"): what each form parses to, the errors with their exact positions, and the
// print -> parse round trip.
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "sim/scenario/ast.h"
#include "sim/scenario/format.h"
#include "sim/scenario/parser.h"

namespace sim::scenario {
namespace {

constexpr char kFile[] = "t.mms";
const std::string kP = "process p\n";

StateCheck LastCheck(const std::string& text) {
  absl::StatusOr<Scenario> s = ParseScenario(text, kFile);
  EXPECT_TRUE(s.ok()) << s.status() << "\n" << text;
  if (!s.ok() || s->statements.empty()) return StateCheck{};
  const auto* e = std::get_if<ExpectStateStmt>(&s->statements.back());
  EXPECT_NE(e, nullptr) << text;
  return e != nullptr ? e->check : StateCheck{};
}

uint64_t Bits(FlagTable t, std::initializer_list<const char*> names) {
  uint64_t out = 0;
  for (const char* n : names) out |= uint64_t{1} << *FlagIndex(t, n);
  return out;
}

TEST(StateChecks, Pte) {
  ExpectPte e = std::get<ExpectPte>(LastCheck(kP + "expect pte p 0x7000 present,writable,user,!dirty"));
  EXPECT_EQ(e.task, "p");
  EXPECT_EQ(e.addr, 0x7000u);
  EXPECT_EQ(e.flags.set, Bits(FlagTable::kPte, {"present", "writable", "user"}));
  EXPECT_EQ(e.flags.clear, Bits(FlagTable::kPte, {"dirty"}));
  EXPECT_FALSE(e.pfn.has_value());

  e = std::get<ExpectPte>(LastCheck(kP + "expect pte p 0x7000 pfn=0x123"));
  EXPECT_EQ(e.flags, FlagCheck{});
  EXPECT_EQ(e.pfn, PfnRef(uint64_t{0x123}));
  EXPECT_FALSE(e.pfn_differs);

  e = std::get<ExpectPte>(LastCheck(kP + "expect pte p 0x7000 present as old\nexpect pte p 0x8000 pfn!=old"));
  EXPECT_EQ(e.pfn, PfnRef(std::string("old")));
  EXPECT_TRUE(e.pfn_differs);

  e = std::get<ExpectPte>(LastCheck(kP + "let F = 7\nexpect pte p 0x7000 none,!swap pfn=F+1 as f"));
  EXPECT_EQ(e.pfn, PfnRef(uint64_t{8}));
  EXPECT_EQ(e.bind, std::optional<std::string>("f"));
}

TEST(StateChecks, Page) {
  ExpectPage e = std::get<ExpectPage>(LastCheck(kP + "expect page at p 0x7000 refcount=2 mapcount=1 flags=anon,!dirty"));
  EXPECT_FALSE(e.pfn.has_value());
  EXPECT_EQ(e.task, "p");
  EXPECT_EQ(e.refcount, std::optional<uint64_t>(2));
  EXPECT_EQ(e.mapcount, std::optional<uint64_t>(1));
  EXPECT_EQ(e.flags.set, Bits(FlagTable::kPage, {"anon"}));
  EXPECT_EQ(e.flags.clear, Bits(FlagTable::kPage, {"dirty"}));
  e = std::get<ExpectPage>(LastCheck("expect page 0x100 flags=buddy"));
  EXPECT_EQ(e.pfn, PfnRef(uint64_t{0x100}));
  e = std::get<ExpectPage>(LastCheck(kP + "expect pte p 0 as x\nexpect page x mapcount=0"));
  EXPECT_EQ(e.pfn, PfnRef(std::string("x")));
}

TEST(StateChecks, TlbVmstatVmaMark) {
  ExpectTlbEntry t = std::get<ExpectTlbEntry>(LastCheck(kP + "expect tlb 1 p 0x7000 absent"));
  EXPECT_EQ(t.cpu, 1u);
  EXPECT_FALSE(t.cached);
  EXPECT_TRUE(std::get<ExpectTlbEntry>(LastCheck(kP + "expect tlb 0 p 0x7000 cached")).cached);
  ExpectTlbCounter c = std::get<ExpectTlbCounter>(LastCheck("mark m\nexpect tlb 0 walks +0 since m"));
  EXPECT_EQ(c.counter, ExpectTlbCounter::Counter::kWalks);
  EXPECT_EQ(c.value, (CounterValue{0, "m"}));
  c = std::get<ExpectTlbCounter>(LastCheck("expect tlb 3 hits 12"));
  EXPECT_EQ(c.value, (CounterValue{12, std::nullopt}));
  ExpectVmstat v = std::get<ExpectVmstat>(LastCheck("mark m\nexpect vmstat nr_free_pages -3 since m"));
  EXPECT_EQ(v.item, "nr_free_pages");
  EXPECT_EQ(v.value, (CounterValue{-3, "m"}));
  ExpectVma a = std::get<ExpectVma>(LastCheck(kP + "expect vma p 0x7000 start=0x7000 end=0x9000 prot=r-x flags=rd,!wr"));
  EXPECT_EQ(a.start, std::optional<uint64_t>(0x7000));
  EXPECT_EQ(a.end, std::optional<uint64_t>(0x9000));
  EXPECT_EQ(a.prot, std::optional<Prot>(Prot{Prot::kRead | Prot::kExec}));
  EXPECT_EQ(a.flags.set, Bits(FlagTable::kVma, {"rd"}));
  EXPECT_TRUE(std::get<ExpectVma>(LastCheck(kP + "expect vma p 0 none")).none);
  absl::StatusOr<Scenario> s = ParseScenario("mark before", kFile);
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(std::get<MarkStmt>(s->statements[0]).name, "before");
  EXPECT_EQ(KeywordOf(s->statements[0]), std::string("mark"));
}

TEST(StateChecks, StandAnywhereOutsideBlocksAndBreakTheExpectChain) {
  // After an operation's own expect, and without one; `expect RESULT` must still come
  // right after its operation.
  EXPECT_TRUE(ParseScenario(kP + "p: load 0 1\nexpect SIGSEGV\nexpect vma p 0 none", kFile).ok());
  EXPECT_TRUE(ParseScenario(kP + "expect vma p 0 none", kFile).ok());
  EXPECT_FALSE(ParseScenario(kP + "p: load 0 1\nexpect vma p 0 none\nexpect SIGSEGV", kFile).ok());
}

// Every vmstat item the parser knows prints back.
TEST(StateChecks, VmstatItemsAreKnown) {
  for (const std::string& item : VmstatItemNames()) {
    EXPECT_TRUE(ParseScenario("expect vmstat " + item + " 0", kFile).ok()) << item;
  }
}

struct Bad {
  std::string text, where, expected, got;
};

TEST(StateChecks, ErrorsNamePositionAndWhatWasExpected) {
  const std::string p = kP;
  const std::vector<Bad> cases = {
      {p + "expect pte p 0x7000 presnt", "2:21", "pte flag (none, present", "'presnt'"},
      {p + "expect pte p 0x7000 present,present", "2:29", "each flag once", "a second 'present'"},
      {p + "expect pte p 0x7000 present,", "2:29", "pte flag", "end of line"},
      {p + "expect pte p 0x7000", "2:20", "pte FLAGS like present,writable,!dirty, pfn=PFN or as NAME", "end of line"},
      {p + "expect pte p 0x7000 pfn=q", "2:25", "PFN (a NUM, or a name bound by expect pte ... as NAME)", "undefined name 'q'"},
      {p + "expect pte p 0x7000 pfn=p", "2:25", "PFN", "process name 'p'"},
      {p + "expect pte p 0x7000 pfn<3", "2:24", "'=' or '!=' after pfn", "invalid character '<'"},
      {p + "expect pte p 0x7000 as p", "2:24", "a name not declared before", "'p' (a process name"},
      {p + "expect pte q 0x7000 present", "2:12", "a declared process, thread or kthread name", "undefined name 'q'"},
      {p + "expect pte p present", "2:14", "ADDR like", "undefined name 'present'"},
      {p + "expect page 0x10 refcount=1 refcount=2", "2:29", "each option once", "a second 'refcount'"},
      {p + "expect page 0x10", "2:17", "page check (refcount=N, mapcount=N, flags=FLAGS)", "end of line"},
      {p + "expect page 0x10 flags=anon,lur", "2:29", "page flag", "'lur'"},
      {p + "expect page at q 0", "2:16", "a declared process", "undefined name 'q'"},
      {p + "expect tlb 64 p 0 cached", "2:12", "CPU of at most 63", "'64'"},
      {p + "expect tlb 0 p 0 present", "2:18", "cached or absent", "'present'"},
      {p + "expect tlb 0 wakls 3", "2:14", "a task name (whose address), or a TLB counter (hits, misses, walks)", "undefined name 'wakls'"},
      {"expect vmstat pgfualt 3", "1:15", "vmstat item like pgfault", "'pgfualt'"},
      {"expect vmstat pgfault +3", "1:25", "since MARK after a change like +3", "end of line"},
      {"mark m\nexpect vmstat pgfault 3 since m", "2:23", "a change like +3 or -1 before since", "'3'"},
      {"expect vmstat pgfault +3 since m", "1:32", "a mark name (declared by mark NAME)", "undefined name 'm'"},
      {"mark m\nexpect vmstat pgfault + 3 since m", "2:25", "NUM right after the sign", "'3'"},
      {p + "expect vma p 0 flags=rd,rw", "2:25", "VMA flag as smaps VmFlags prints it", "'rw'"},
      {p + "expect vma p 0 size=4K", "2:16", "VMA check (none, start=ADDR", "'size'"},
      {p + "expect vma p 0 prot=rw+", "2:21", "PROT like rw- or r-x", "'rw+'"},
      {"mark", "1:5", "NAME for the mark", "end of line"},
      {"mark pte", "1:6", "NAME for the mark that is not a keyword", "keyword 'pte'"},
      {"mark m\nmark m", "2:6", "a name not declared before", "'m' (a mark name declared at t.mms:1:6)"},
      {p + "together\np: load 0 1\nexpect pte p 0 present\nend", "4:8",
       "expect RESULT in a block (state checks stand outside blocks)", "'pte'"},
      {p + "explore all\ntogether\np: load 0 1\nend\nmark m", "6:1", "expect-mem, expect-same, show", "'mark'"},
  };
  for (const Bad& c : cases) {
    SCOPED_TRACE(c.text);
    absl::StatusOr<Scenario> s = ParseScenario(c.text, kFile);
    ASSERT_FALSE(s.ok());
    const std::string msg(s.status().message());
    const std::string prefix = absl::StrCat(kFile, ":", c.where, ": expected ");
    EXPECT_EQ(msg.substr(0, prefix.size()), prefix) << msg;
    const size_t got = msg.find(", got ");
    ASSERT_NE(got, std::string::npos) << msg;
    EXPECT_NE(msg.substr(0, got).find(c.expected), std::string::npos) << msg;
    EXPECT_NE(msg.substr(got).find(c.got), std::string::npos) << msg;
  }
}

TEST(StateChecks, PrintThenParseGivesTheSameAst) {
  const std::string in =
      "let B = 0x7000\nprocess p\nmark before\n"
      "expect pte p B present,writable,user,accessed,!dirty,!saved_dirty,!global,nx pfn=0x1234 as a\n"
      "expect pte p B+4K none,!swap,!protnone,!zero pfn!=a\n"
      "expect pte p 0 as b\n"
      "expect page a refcount=3 mapcount=2 flags=anon,lru,!dirty,!locked,swapbacked\n"
      "expect page at p B flags=buddy,!table,!slab\nexpect page 7 mapcount=0\n"
      "expect tlb 0 p B cached\nexpect tlb 63 p 0 absent\n"
      "expect tlb 1 hits +17 since before\nexpect tlb 0 misses 0\nexpect tlb 0 walks -1 since before\n"
      "expect vmstat pgfault +3 since before\nexpect vmstat nr_free_pages 100\n"
      "expect vma p B start=B end=B+8K prot=rw- flags=rd,wr,!ex,mr,mw,me,ac\nexpect vma p 0 none\n";
  absl::StatusOr<Scenario> a = ParseScenario(in, kFile);
  ASSERT_TRUE(a.ok()) << a.status();
  const std::string printed = FormatScenario(*a);
  absl::StatusOr<Scenario> b = ParseScenario(printed, "printed.mms");
  ASSERT_TRUE(b.ok()) << b.status() << "\n" << printed;
  ASSERT_EQ(a->statements.size(), b->statements.size());
  for (size_t i = 0; i < a->statements.size(); ++i) {
    EXPECT_TRUE(SameIgnoringPos(a->statements[i], b->statements[i])) << FormatStatement(a->statements[i]);
  }
  EXPECT_EQ(FormatScenario(*b), printed);
  EXPECT_NE(printed.find("expect pte p 0x7000 present,writable,user,accessed,!dirty,!saved_dirty,!global,nx pfn=0x1234 as a\n"),
            std::string::npos) << printed;
  EXPECT_NE(printed.find("expect vmstat pgfault +3 since before\n"), std::string::npos) << printed;
  EXPECT_NE(printed.find("expect tlb 0 walks -1 since before\n"), std::string::npos) << printed;
}

}  // namespace
}  // namespace sim::scenario
