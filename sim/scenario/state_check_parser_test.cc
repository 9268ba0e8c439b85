// The state checks of the scenario language (docs/scenario-language.md, "Checking the
// state"): what each form parses to, and its canonical text. Their errors (with exact
// positions) and the print -> parse round trip are in parser_test.cc's tables.
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

TEST(StateChecks, Fault) {
  ExpectFault f = std::get<ExpectFault>(LastCheck(kP + "expect fault p addr=0x7000 error=P|W|U"));
  EXPECT_EQ(f.task, "p");
  EXPECT_FALSE(f.none);
  EXPECT_EQ(f.addr, std::optional<uint64_t>(0x7000));
  EXPECT_EQ(f.error, std::optional<uint32_t>(0x7));
  f = std::get<ExpectFault>(LastCheck("expect fault cpu 3 error=0"));
  EXPECT_TRUE(f.task.empty());
  EXPECT_EQ(f.cpu, 3u);
  EXPECT_FALSE(f.addr.has_value());
  EXPECT_EQ(f.error, std::optional<uint32_t>(0));
  // Bits in any order; SS is bit 6, SGX bit 15 (trap_pf.h).
  f = std::get<ExpectFault>(LastCheck(kP + "expect fault p error=SGX|U|SS"));
  EXPECT_EQ(f.error, std::optional<uint32_t>(0x8044));
  f = std::get<ExpectFault>(LastCheck(kP + "expect fault p none"));
  EXPECT_TRUE(f.none);
  EXPECT_EQ(FormatStateCheck(StateCheck(f)), "fault p none");
  f = std::get<ExpectFault>(LastCheck(kP + "expect fault p error=U|P"));
  EXPECT_EQ(FormatStateCheck(StateCheck(f)), "fault p error=P|U");
}

// Every vmstat item the parser knows prints back.
TEST(StateChecks, VmstatItemsAreKnown) {
  for (const std::string& item : VmstatItemNames()) {
    EXPECT_TRUE(ParseScenario("expect vmstat " + item + " 0", kFile).ok()) << item;
  }
}

// The error table and the round trip of parser_test.cc hold the state checks' bad and good
// inputs too; here, the canonical text they print.
TEST(StateChecks, CanonicalText) {
  absl::StatusOr<Scenario> a = ParseScenario(
      "let B = 0x7000\nprocess p\nmark before\n"
      "expect pte p B nx,present,!dirty,writable,user,!global,accessed,!saved_dirty pfn=0x1234 as a\n"
      "expect tlb 0 walks -1 since before\nexpect vmstat pgfault +3 since before\n",
      kFile);
  ASSERT_TRUE(a.ok()) << a.status();
  EXPECT_EQ(FormatScenario(*a),
            "let B = 28672\nprocess p\nmark before\n"
            "expect pte p 0x7000 present,writable,user,accessed,!dirty,!saved_dirty,!global,nx pfn=0x1234 as a\n"
            "expect tlb 0 walks -1 since before\nexpect vmstat pgfault +3 since before\n");
}

}  // namespace
}  // namespace sim::scenario
