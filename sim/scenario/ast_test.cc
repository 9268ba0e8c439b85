#include "sim/scenario/ast.h"

#include <string>
#include <vector>

#include "gtest/gtest.h"

namespace sim::scenario {
namespace {

TEST(Ast, FormatPos) { EXPECT_EQ(FormatPos({"a/b.mms", 12, 3}), "a/b.mms:12:3"); }

TEST(Ast, PatternByteIsTheLanguagesAddressPattern) {
  // ((a >> 12) * 131 + (a & 0xfff) * 7 + 0x21) mod 256, from the language's contract.
  EXPECT_EQ(PatternByte(0x0), 0x21);
  EXPECT_EQ(PatternByte(0x1), 0x28);
  EXPECT_EQ(PatternByte(0x1000), (131 + 0x21) % 256);
  EXPECT_EQ(PatternByte(0x7f0000001238), ((0x7f0000001ull * 131) + 0x238 * 7 + 0x21) % 256);
  static_assert(PatternByte(0x2008) == (2 * 131 + 8 * 7 + 0x21) % 256);
  // Same offset in neighbouring pages differs; neighbouring bytes differ.
  EXPECT_NE(PatternByte(0x1001), PatternByte(0x2001));
  EXPECT_NE(PatternByte(0x1001), PatternByte(0x1002));
}

TEST(Ast, DataLength) {
  EXPECT_EQ(DataLength(DataBytes{"abc"}), 3u);
  EXPECT_EQ(DataLength(DataBytes{""}), 0u);
  EXPECT_EQ(DataLength(DataRepeat{1u << 30, 7}), 1u << 30);
  EXPECT_EQ(DataLength(DataPattern{4096}), 4096u);
}

TEST(Ast, KeywordAndResult) {
  EXPECT_STREQ(KeywordOf(MachineStmt{}), "machine");
  EXPECT_STREQ(KeywordOf(ExpectMemStmt{}), "expect-mem");
  EXPECT_STREQ(KeywordOf(ExpectSameStmt{}), "expect-same");
  ProcessVmRwStmt r;
  EXPECT_STREQ(KeywordOf(r), "process_vm_readv");
  r.vm_write = true;
  EXPECT_STREQ(KeywordOf(r), "process_vm_writev");

  const std::vector<Statement> with_result = {
      MmapStmt{}, MunmapStmt{}, MprotectStmt{}, StoreStmt{}, FillStmt{}, LoadStmt{},
      ProcessVmRwStmt{}, ForkStmt{}, ReapStmt{}, SetresuidStmt{}, SetresgidStmt{},
      CapsetStmt{}, DumpableStmt{}, MadviseStmt{}, MlockStmt{},
  };
  for (const Statement& s : with_result) EXPECT_TRUE(ProducesResult(s)) << KeywordOf(s);
  const std::vector<Statement> without = {
      MachineStmt{}, LetStmt{}, ProcessStmt{}, ThreadStmt{}, KthreadStmt{}, FileStmt{},
      ExitStmt{}, ExpectStmt{}, ExpectMemStmt{}, ExpectSameStmt{}, ShowStmt{}, FailStmt{},
      TraceStmt{}, ScheduleStmt{}, TogetherStmt{}, ExploreStmt{}, EndStmt{},
      ExpectOutcomeStmt{}, ExpectStateStmt{}, MarkStmt{}, SleepStmt{},
  };
  for (const Statement& s : without) EXPECT_FALSE(ProducesResult(s)) << KeywordOf(s);
  // A together block holds the operations: those with a result, and exit.
  for (const Statement& s : with_result) EXPECT_TRUE(IsTaskOperation(s)) << KeywordOf(s);
  for (const Statement& s : without) {
    EXPECT_EQ(IsTaskOperation(s), std::holds_alternative<ExitStmt>(s)) << KeywordOf(s);
  }
  EXPECT_EQ(TaskOf(LoadStmt{{}, "reader", 0, 1}), "reader");
  EXPECT_EQ(TaskOf(ExitStmt{{}, "leaver"}), "leaver");
  EXPECT_EQ(TaskOf(ShowStmt{}), "");
  EXPECT_STREQ(KeywordOf(ExpectOutcomeStmt{{}, ExpectOutcomeStmt::Quantifier::kSometimes, {}}),
               "expect-sometimes");
  EXPECT_STREQ(KeywordOf(ExpectOutcomeStmt{{}, ExpectOutcomeStmt::Quantifier::kNever, {}}),
               "expect-never");
  EXPECT_STREQ(KeywordOf(TogetherStmt{}), "together");
  EXPECT_STREQ(KeywordOf(EndStmt{}), "end");
  EXPECT_STREQ(KeywordOf(ExpectStateStmt{}), "expect");
  EXPECT_STREQ(KeywordOf(MarkStmt{}), "mark");
  EXPECT_STREQ(KeywordOf(SleepStmt{}), "sleep");
  MlockStmt m;
  for (auto [op, kw] : {std::pair{MlockStmt::Op::kMlock, "mlock"}, {MlockStmt::Op::kMunlock, "munlock"},
                        {MlockStmt::Op::kMlockall, "mlockall"},
                        {MlockStmt::Op::kMunlockall, "munlockall"}}) {
    m.op = op;
    EXPECT_STREQ(KeywordOf(m), kw);
  }
  EXPECT_EQ(AdviceFromName("pageout"), 21);
  EXPECT_STREQ(AdviceName(4), "dontneed");
  EXPECT_EQ(AdviceName(12345), nullptr);
  EXPECT_EQ(with_result.size() + without.size(), std::variant_size_v<Statement>);
}

TEST(Ast, PosOfAndSameIgnoringPos) {
  LoadStmt a{{"x.mms", 3, 5}, "p", 0x1000, 8};
  LoadStmt b{{"y.mms", 9, 1}, "p", 0x1000, 8};
  EXPECT_EQ(PosOf(a), (SourcePos{"x.mms", 3, 5}));
  EXPECT_FALSE(Statement(a) == Statement(b));
  EXPECT_TRUE(SameIgnoringPos(a, b));
  b.len = 9;
  EXPECT_FALSE(SameIgnoringPos(a, b));
  EXPECT_FALSE(SameIgnoringPos(a, MunmapStmt{{}, "p", 0x1000, 8}));
}

TEST(Ast, ProcessDefaultsMatchTheLanguage) {
  ProcessStmt p;
  EXPECT_EQ(p.caps.bits, CapSet::kAll);
  EXPECT_TRUE(p.dumpable);
  EXPECT_EQ(p.euid, 0u);
}

}  // namespace
}  // namespace sim::scenario
