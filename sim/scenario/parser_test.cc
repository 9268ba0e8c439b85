#include "sim/scenario/parser.h"

#include <cstdint>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "gtest/gtest.h"
#include "sim/scenario/ast.h"
#include "sim/scenario/format.h"

namespace sim::scenario {
namespace {

constexpr char kFile[] = "t.mms";

Scenario MustParse(const std::string& text) {
  absl::StatusOr<Scenario> s = ParseScenario(text, kFile);
  EXPECT_TRUE(s.ok()) << s.status() << "\n--- input ---\n" << text;
  return s.ok() ? *std::move(s) : Scenario{};
}

// The last statement of `text`, which must parse.
template <typename T>
T Last(const std::string& text) {
  Scenario s = MustParse(text);
  if (s.statements.empty()) {
    ADD_FAILURE() << "no statements in: " << text;
    return T{};
  }
  const T* t = std::get_if<T>(&s.statements.back());
  if (t == nullptr) {
    ADD_FAILURE() << "last statement is a " << KeywordOf(s.statements.back());
    return T{};
  }
  return *t;
}

uint64_t LetValue(const std::string& expr, const std::string& prelude = "") {
  return Last<LetStmt>(prelude + "let X = " + expr).value;
}

// ---------------------------------------------------------------------------
// NUM.

TEST(ParserNum, Literals) {
  EXPECT_EQ(LetValue("0"), 0u);
  EXPECT_EQ(LetValue("42"), 42u);
  EXPECT_EQ(LetValue("0x2a"), 42u);
  EXPECT_EQ(LetValue("0X2A"), 42u);
  EXPECT_EQ(LetValue("0xdeadBEEF"), 0xdeadbeefu);
  EXPECT_EQ(LetValue("18446744073709551615"), UINT64_MAX);
  EXPECT_EQ(LetValue("0xffffffffffffffff"), UINT64_MAX);
}

TEST(ParserNum, BinarySuffixes) {
  EXPECT_EQ(LetValue("4K"), 4096u);
  EXPECT_EQ(LetValue("2M"), 2u << 20);
  EXPECT_EQ(LetValue("3G"), uint64_t{3} << 30);
  EXPECT_EQ(LetValue("0x10K"), 16u * 1024);
  EXPECT_EQ(LetValue("0K"), 0u);
  EXPECT_EQ(LetValue("16777215G"), uint64_t{16777215} << 30);
}

TEST(ParserNum, Expressions) {
  EXPECT_EQ(LetValue("0x100000000000+38*4K+100"), 0x100000000000u + 38 * 4096 + 100);
  EXPECT_EQ(LetValue("2+3*4"), 14u);
  EXPECT_EQ(LetValue("2*3+4"), 10u);
  EXPECT_EQ(LetValue("10-2-3"), 5u);  // left-associative
  EXPECT_EQ(LetValue("(1+2)*(3+4)"), 21u);
  EXPECT_EQ(LetValue("((((7))))"), 7u);
  EXPECT_EQ(LetValue("-(-5)"), 5u);
  EXPECT_EQ(LetValue("1-2+1"), 0u);  // negative intermediate values are fine
  EXPECT_EQ(LetValue("-1*-1"), 1u);
  EXPECT_EQ(LetValue("0-0"), 0u);
  EXPECT_EQ(LetValue("1G+(2*4K)-1"), (uint64_t{1} << 30) + 8191);
  EXPECT_EQ(LetValue("0xffffffffffffffff-1+1"), UINT64_MAX);
  EXPECT_EQ(LetValue("-0xffffffffffffffff+0xffffffffffffffff"), 0u);
}

TEST(ParserNum, SpacesOnlyWhereTheNumIsDelimited) {
  // In let the NUM ends the line, so spaces are fine.
  EXPECT_EQ(LetValue("1 + 2 * 3"), 7u);
  // Elsewhere, top-level tokens of a NUM touch; parentheses lift that.
  MunmapStmt m = Last<MunmapStmt>("process p\np: munmap (0x1000 + 0x1000) ( 4K * 2 )");
  EXPECT_EQ(m.addr, 0x2000u);
  EXPECT_EQ(m.len, 0x2000u);
  // Three NUMs, not one subtraction.
  SetresuidStmt s = Last<SetresuidStmt>("process p\np: setresuid -1 -1 0");
  EXPECT_EQ(s.ruid, UINT32_MAX);
  EXPECT_EQ(s.euid, UINT32_MAX);
  EXPECT_EQ(s.suid, 0u);
  // Inside brackets spaces are fine too.
  ProcessVmRwStmt p =
      Last<ProcessVmRwStmt>("process p\np: process_vm_readv p [ 0x1000 + 1 : 2 * 4K ] raw( 8 , 1 + 1 )");
  EXPECT_EQ(std::get<std::vector<Iovec>>(p.local), (std::vector<Iovec>{{0x1001, 0x2000}}));
  EXPECT_EQ(std::get<IovRaw>(p.remote), (IovRaw{8, 2}));
}

TEST(ParserNum, LetNames) {
  EXPECT_EQ(LetValue("A*2+B", "let A = 5\nlet B = 0x10\n"), 26u);
  MmapStmt m = Last<MmapStmt>(
      "let BASE = 0x7f0000000000\nlet N = 3\nprocess p\n"
      "p: mmap BASE+N*4K N*4K rw- private,anon offset=N");
  EXPECT_EQ(m.addr, 0x7f0000000000u + 3 * 4096);
  EXPECT_EQ(m.len, 3u * 4096);
  EXPECT_EQ(m.offset, 3u);
}

TEST(ParserNum, SignedContexts) {
  const std::string p = "process p\n";
  EXPECT_EQ(Last<ProcessVmRwStmt>(p + "p: process_vm_readv p [] [] flags=-1").flags, UINT64_MAX);
  EXPECT_EQ(Last<ProcessVmRwStmt>(p + "p: process_vm_readv p [] [] flags=-0x7fffffff").flags,
            uint64_t{0} - 0x7fffffff);
  EXPECT_EQ(Last<ProcessVmRwStmt>(p + "p: process_vm_readv p [] [] flags=-0x8000000000000000").flags,
            uint64_t{1} << 63);
  EXPECT_EQ(Last<ProcessVmRwStmt>(p + "p: process_vm_readv p [] [] flags=0xffffffffffffffff").flags,
            UINT64_MAX);
  EXPECT_EQ(std::get<int32_t>(Last<ProcessVmRwStmt>(p + "p: process_vm_readv -1 [] []").pid), -1);
  EXPECT_EQ(std::get<int32_t>(Last<ProcessVmRwStmt>(p + "p: process_vm_readv -0x80000000 [] []").pid),
            INT32_MIN);
  EXPECT_EQ(std::get<int32_t>(Last<ProcessVmRwStmt>(p + "let Q = 7\np: process_vm_readv Q*2 [] []").pid),
            14);
  EXPECT_EQ(Last<SetresgidStmt>(p + "p: setresgid 0xffffffff 5 -1").rgid, UINT32_MAX);
}

// ---------------------------------------------------------------------------
// Every statement form.

TEST(ParserStatements, Machine) {
  MachineStmt m = Last<MachineStmt>("machine memory=1G cpus=4 tlb=small seed=0x2a");
  EXPECT_EQ(m.memory, uint64_t{1} << 30);
  EXPECT_EQ(m.cpus, 4u);
  EXPECT_EQ(m.tlb, "small");
  EXPECT_EQ(m.seed, 42u);
  EXPECT_EQ(m.pos, (SourcePos{kFile, 1, 1}));
  EXPECT_FALSE(m.swap.has_value());
  EXPECT_EQ(Last<MachineStmt>("machine swap=512M").swap, uint64_t{512} << 20);
  EXPECT_EQ(Last<MachineStmt>("machine swap=0").swap, uint64_t{0});
  EXPECT_EQ(Last<MachineStmt>("machine thp=always").thp, "always");
  EXPECT_EQ(Last<MachineStmt>("machine cpus=1 thp=never").thp, "never");
  EXPECT_EQ(Last<MachineStmt>("machine thp=madvise").thp, "madvise");
  EXPECT_FALSE(Last<MachineStmt>("machine cpus=1").thp.has_value());
  EXPECT_EQ(Last<MachineStmt>("machine thp_defrag=always").thp_defrag, "always");
  EXPECT_EQ(Last<MachineStmt>("machine thp_defrag=defer").thp_defrag, "defer");
  EXPECT_EQ(Last<MachineStmt>("machine thp_defrag=defer+madvise thp=always").thp_defrag, "defer+madvise");
  EXPECT_EQ(Last<MachineStmt>("machine thp_defrag=never").thp_defrag, "never");
  EXPECT_EQ(Last<MachineStmt>("machine thp_use_zero_page=0").thp_use_zero_page, false);
  EXPECT_EQ(Last<MachineStmt>("machine thp_use_zero_page=1").thp_use_zero_page, true);
  EXPECT_EQ(Last<MachineStmt>("machine pku=1").pku, true);
  EXPECT_EQ(Last<MachineStmt>("machine pku=0").pku, false);
  EXPECT_FALSE(Last<MachineStmt>("machine thp=always").pku.has_value());
  EXPECT_FALSE(Last<MachineStmt>("machine thp=always").thp_defrag.has_value());
  EXPECT_FALSE(Last<MachineStmt>("machine thp=always").thp_use_zero_page.has_value());
  MachineStmt bare = Last<MachineStmt>("# header comment\n\n  machine   # trailing\n");
  EXPECT_FALSE(bare.memory.has_value());
  EXPECT_FALSE(bare.cpus.has_value());
  EXPECT_FALSE(bare.tlb.has_value());
  EXPECT_FALSE(bare.seed.has_value());
  EXPECT_EQ(bare.pos, (SourcePos{kFile, 3, 3}));
}

TEST(ParserStatements, Let) {
  LetStmt l = Last<LetStmt>("let page_size = 4K");
  EXPECT_EQ(l.name, "page_size");
  EXPECT_EQ(l.value, 4096u);
}

TEST(ParserStatements, ProcessDefaults) {
  ProcessStmt p = Last<ProcessStmt>("process init");
  EXPECT_EQ(p.name, "init");
  EXPECT_EQ(p.ruid, 0u);
  EXPECT_EQ(p.euid, 0u);
  EXPECT_EQ(p.suid, 0u);
  EXPECT_EQ(p.rgid, 0u);
  EXPECT_EQ(p.caps.bits, CapSet::kAll);
  EXPECT_TRUE(p.dumpable);
}

TEST(ParserStatements, ProcessCredentials) {
  ProcessStmt p = Last<ProcessStmt>(
      "process app uid=1000 gid=100 euid=0 sgid=7 caps=cap_sys_ptrace,cap_kill dumpable=0");
  EXPECT_EQ(p.ruid, 1000u);
  EXPECT_EQ(p.euid, 0u);  // overrides uid= whatever the order
  EXPECT_EQ(p.suid, 1000u);
  EXPECT_EQ(p.rgid, 100u);
  EXPECT_EQ(p.egid, 100u);
  EXPECT_EQ(p.sgid, 7u);
  EXPECT_EQ(p.caps.bits, (uint64_t{1} << 19) | (uint64_t{1} << 5));
  EXPECT_FALSE(p.dumpable);
  EXPECT_EQ(Last<ProcessStmt>("process q euid=5 uid=1").euid, 5u);
  EXPECT_EQ(Last<ProcessStmt>("process q caps=none").caps.bits, 0u);
  EXPECT_EQ(Last<ProcessStmt>("process q caps=all").caps.bits, CapSet::kAll);
}

TEST(ParserStatements, ThreadKthreadFile) {
  ThreadStmt t = Last<ThreadStmt>("process p\nthread t1 of p");
  EXPECT_EQ(t.name, "t1");
  EXPECT_EQ(t.process, "p");
  EXPECT_EQ(Last<KthreadStmt>("kthread kswapd0").name, "kswapd0");
  FileStmt f = Last<FileStmt>("file f size=8K data=\"hi\" readonly");
  EXPECT_EQ(f.name, "f");
  EXPECT_EQ(f.size, 8192u);
  EXPECT_EQ(f.data, Data(DataBytes{"hi"}));
  EXPECT_TRUE(f.readonly);
  FileStmt g = Last<FileStmt>("file g readonly size=0");
  EXPECT_EQ(g.size, 0u);
  EXPECT_FALSE(g.data.has_value());
}

TEST(ParserStatements, Mmap) {
  MmapStmt m = Last<MmapStmt>(
      "file f size=64K\nprocess p\n"
      "p: mmap 0x7f0000000000 64K r-x shared,fixed,noreplace,populate,growsdown,noreserve "
      "file=f offset=0x1000");
  EXPECT_EQ(m.task, "p");
  EXPECT_EQ(m.addr, 0x7f0000000000u);
  EXPECT_EQ(m.len, 65536u);
  EXPECT_EQ(m.prot.bits, Prot::kRead | Prot::kExec);
  EXPECT_EQ(m.flags.bits, MmapFlags::kShared | MmapFlags::kFixed | MmapFlags::kFixedNoreplace |
                              MmapFlags::kPopulate | MmapFlags::kGrowsdown |
                              MmapFlags::kNoreserve);
  EXPECT_EQ(m.file, "f");
  EXPECT_EQ(m.offset, 0x1000u);
  EXPECT_EQ(m.pos, (SourcePos{kFile, 3, 1}));

  MmapStmt a = Last<MmapStmt>("process p\np: mmap 0 4K --- anon, private");
  EXPECT_EQ(a.prot.bits, 0u);
  EXPECT_EQ(a.flags.bits, MmapFlags::kPrivate | MmapFlags::kAnonymous);
  EXPECT_FALSE(a.file.has_value());
}

TEST(ParserStatements, EveryProt) {
  const std::pair<const char*, uint32_t> cases[] = {
      {"---", 0},       {"r--", 1},       {"-w-", 2}, {"rw-", 3},
      {"--x", 4},       {"r-x", 5},       {"-wx", 6}, {"rwx", 7},
  };
  for (const auto& [text, bits] : cases) {
    EXPECT_EQ(Last<MprotectStmt>(absl::StrCat("process p\np: mprotect 0x1000 4K ", text)).prot.bits,
              bits)
        << text;
  }
}

TEST(ParserStatements, MunmapMprotectLoadStoreFill) {
  const std::string p = "process p\n";
  MunmapStmt u = Last<MunmapStmt>(p + "p: munmap 0x1000 8K");
  EXPECT_EQ(u.addr, 0x1000u);
  EXPECT_EQ(u.len, 8192u);
  MprotectStmt m = Last<MprotectStmt>(p + "p: mprotect 0x1000 4K rw-");
  EXPECT_EQ(m.prot.bits, Prot::kRead | Prot::kWrite);
  LoadStmt l = Last<LoadStmt>(p + "p: load 0x1000 64M");
  EXPECT_EQ(l.len, 64u << 20);
  StoreStmt s = Last<StoreStmt>(p + "p: store 0x1000 \"a\\n\\t\\\\\\\"\\x41\\0\\r\"");
  EXPECT_EQ(s.data, Data(DataBytes{std::string("a\n\t\\\"A\0\r", 8)}));
  StoreStmt h = Last<StoreStmt>(p + "p: store 0x1000 hex:00ff3A");
  EXPECT_EQ(h.data, Data(DataBytes{std::string("\x00\xff\x3a", 3)}));
  StoreStmt r = Last<StoreStmt>(p + "p: store 0x1000 repeat(4K,0x5a)");
  EXPECT_EQ(r.data, Data(DataRepeat{4096, 0x5a}));
  StoreStmt pt = Last<StoreStmt>(p + "p: store 0x1000 pattern(16)");
  EXPECT_EQ(pt.data, Data(DataPattern{16}));
  FillStmt f = Last<FillStmt>(p + "p: fill 0x1000 4K 0xab");
  EXPECT_EQ(f.kind, FillStmt::Kind::kByte);
  EXPECT_EQ(f.byte, 0xab);
  FillStmt fp = Last<FillStmt>(p + "p: fill 0x1000 4K pattern");
  EXPECT_EQ(fp.kind, FillStmt::Kind::kPattern);
  EXPECT_EQ(Last<StoreStmt>(p + "p: store 0 \"\"").data, Data(DataBytes{""}));
  EXPECT_EQ(Last<StoreStmt>(p + "p: store 0 \"# not a comment\"").data,
            Data(DataBytes{"# not a comment"}));
  EXPECT_EQ(Last<StoreStmt>(p + "p: store 0 \"caf\xc3\xa9\"").data, Data(DataBytes{"caf\xc3\xa9"}));
}

TEST(ParserStatements, MadviseAndMlock) {
  const std::string p = "process p\n";
  MadviseStmt m = Last<MadviseStmt>(p + "p: madvise 0x1000 8K pageout");
  EXPECT_EQ(m.addr, 0x1000u);
  EXPECT_EQ(m.len, 8192u);
  EXPECT_EQ(m.advice, 21);
  EXPECT_EQ(Last<MadviseStmt>(p + "p: madvise 0x1000 4K dontneed_locked").advice, 24);
  EXPECT_EQ(Last<MadviseStmt>(p + "p: madvise 0x1000 2M hugepage").advice, 14);
  EXPECT_EQ(Last<MadviseStmt>(p + "p: madvise 0x1000 2M nohugepage").advice, 15);
  // The advice that sets VMA flags or populates, by name (include/uapi/asm-generic/mman-common.h).
  const std::pair<const char*, int> named[] = {
      {"normal", 0},     {"random", 1},       {"sequential", 2},    {"mergeable", 12},
      {"unmergeable", 13}, {"dontdump", 16},  {"dodump", 17},       {"populate_read", 22},
      {"populate_write", 23}};
  for (const auto& [name, value] : named) {
    EXPECT_EQ(Last<MadviseStmt>(p + "p: madvise 0x1000 4K " + name).advice, value) << name;
    EXPECT_EQ(AdviceName(value), std::string(name));
  }
  EXPECT_EQ(Last<MadviseStmt>(p + "p: madvise 0x1000 4K 12345").advice, 12345);
  EXPECT_EQ(Last<MadviseStmt>(p + "p: madvise 0x1000 4K -1").advice, -1);
  MlockStmt l = Last<MlockStmt>(p + "p: mlock 0x1000 4K");
  EXPECT_EQ(l.op, MlockStmt::Op::kMlock);
  EXPECT_EQ(l.flags, 0);
  EXPECT_EQ(Last<MlockStmt>(p + "p: mlock 0x1000 4K onfault").flags, 1);
  EXPECT_EQ(Last<MlockStmt>(p + "p: munlock 0x1000 4K").op, MlockStmt::Op::kMunlock);
  MlockStmt a = Last<MlockStmt>(p + "p: mlockall future,current");
  EXPECT_EQ(a.op, MlockStmt::Op::kMlockall);
  EXPECT_EQ(a.flags, MlockStmt::kCurrent | MlockStmt::kFuture);
  EXPECT_EQ(Last<MlockStmt>(p + "p: mlockall 0").flags, 0);
  EXPECT_EQ(Last<MlockStmt>(p + "p: munlockall").op, MlockStmt::Op::kMunlockall);
  for (const char* bad : {"p: madvise 0x1000 4K sleepy", "p: madvise 0x1000 4K populate",
                          "p: madvise 0x1000 4K populate_readwrite", "process dodump",
                          "p: mlockall current,current",
                          "p: mlockall later", "p: munlock 0x1000 4K onfault",
                          "p: munlockall now"}) {
    EXPECT_FALSE(ParseScenario(p + bad, kFile).ok()) << bad;
  }
}

TEST(ParserStatements, ProcessVm) {
  ProcessVmRwStmt r = Last<ProcessVmRwStmt>(
      "process a\nprocess b\na: process_vm_readv b [0x1000:4K, 0x3000:8] [0x2000:4104]");
  EXPECT_FALSE(r.vm_write);
  EXPECT_EQ(std::get<std::string>(r.pid), "b");
  EXPECT_EQ(std::get<std::vector<Iovec>>(r.local),
            (std::vector<Iovec>{{0x1000, 4096}, {0x3000, 8}}));
  EXPECT_EQ(std::get<std::vector<Iovec>>(r.remote), (std::vector<Iovec>{{0x2000, 4104}}));
  EXPECT_EQ(r.flags, 0u);
  ProcessVmRwStmt w = Last<ProcessVmRwStmt>(
      "process a\nthread t of a\na: process_vm_writev t [] raw(0xdead0000,1025) flags=0");
  EXPECT_TRUE(w.vm_write);
  EXPECT_EQ(std::get<std::string>(w.pid), "t");
  EXPECT_TRUE(std::get<std::vector<Iovec>>(w.local).empty());
  EXPECT_EQ(std::get<IovRaw>(w.remote), (IovRaw{0xdead0000, 1025}));
  ProcessVmRwStmt k =
      Last<ProcessVmRwStmt>("process a\nkthread k\na: process_vm_readv k [ ] []");
  EXPECT_EQ(std::get<std::string>(k.pid), "k");
  ProcessVmRwStmt n = Last<ProcessVmRwStmt>("process a\na: process_vm_readv 4194305 [] []");
  EXPECT_EQ(std::get<int32_t>(n.pid), 4194305);
}

TEST(ParserStatements, IovecListAtTheLimit) {
  std::string list = "[";
  for (size_t i = 0; i < kMaxIovecs; ++i) absl::StrAppend(&list, i ? ", " : "", i * 16, ":1");
  list += "]";
  ProcessVmRwStmt r = Last<ProcessVmRwStmt>("process p\np: process_vm_readv p " + list + " []");
  EXPECT_EQ(std::get<std::vector<Iovec>>(r.local).size(), kMaxIovecs);
}

TEST(ParserStatements, ForkExitReapCredentials) {
  const std::string p = "process p\n";
  ForkStmt f = Last<ForkStmt>(p + "p: fork c");
  EXPECT_EQ(f.task, "p");
  EXPECT_EQ(f.child, "c");
  // fork declares the child: it can act and be reaped.
  Scenario s = MustParse(p + "p: fork c\nc: exit\np: reap c");
  ASSERT_EQ(s.statements.size(), 4u);
  EXPECT_EQ(std::get<ExitStmt>(s.statements[2]).task, "c");
  EXPECT_EQ(std::get<ReapStmt>(s.statements[3]).child, "c");
  SetresuidStmt u = Last<SetresuidStmt>(p + "p: setresuid 1 2 3");
  EXPECT_EQ((std::vector<uint32_t>{u.ruid, u.euid, u.suid}), (std::vector<uint32_t>{1, 2, 3}));
  SetresgidStmt g = Last<SetresgidStmt>(p + "p: setresgid -1 4 -1");
  EXPECT_EQ((std::vector<uint32_t>{g.rgid, g.egid, g.sgid}),
            (std::vector<uint32_t>{UINT32_MAX, 4, UINT32_MAX}));
  EXPECT_EQ(Last<CapsetStmt>(p + "p: capset none").caps.bits, 0u);
  EXPECT_EQ(Last<CapsetStmt>(p + "p: capset all").caps.bits, CapSet::kAll);
  EXPECT_EQ(Last<CapsetStmt>(p + "p: capset cap_chown, cap_checkpoint_restore").caps.bits,
            1u | (uint64_t{1} << 40));
  EXPECT_FALSE(Last<DumpableStmt>(p + "p: dumpable 0").dumpable);
  EXPECT_TRUE(Last<DumpableStmt>(p + "p: dumpable 1").dumpable);
}

TEST(ParserStatements, ExpectForms) {
  const std::string p = "process p\np: load 0x1000 4\n";
  EXPECT_EQ(Last<ExpectStmt>(p + "expect 4").result, ExpectResult(ExpectValue{4}));
  EXPECT_EQ(Last<ExpectStmt>(p + "expect 0x7f0000000000").result,
            ExpectResult(ExpectValue{0x7f0000000000}));
  EXPECT_EQ(Last<ExpectStmt>(p + "expect -1 EFAULT").result, ExpectResult(ExpectErrno{14}));
  EXPECT_EQ(Last<ExpectStmt>(p + "expect -1 EWOULDBLOCK").result, ExpectResult(ExpectErrno{11}));
  EXPECT_EQ(Last<ExpectStmt>(p + "expect \"abcd\"").result,
            ExpectResult(ExpectData{DataBytes{"abcd"}}));
  EXPECT_EQ(Last<ExpectStmt>(p + "expect hex:01020304").result,
            ExpectResult(ExpectData{DataBytes{"\x01\x02\x03\x04"}}));
  EXPECT_EQ(Last<ExpectStmt>(p + "expect repeat(4,0)").result,
            ExpectResult(ExpectData{DataRepeat{4, 0}}));
  EXPECT_EQ(Last<ExpectStmt>(p + "expect pattern(4)").result,
            ExpectResult(ExpectData{DataPattern{4}}));
  EXPECT_EQ(Last<ExpectStmt>(p + "expect SIGSEGV").result, ExpectResult(ExpectSignal{11}));
  EXPECT_EQ(Last<ExpectStmt>(p + "expect SIGBUS").result, ExpectResult(ExpectSignal{7}));
  EXPECT_EQ(Last<ExpectStmt>("let N = 4\n" + p + "expect N").result, ExpectResult(ExpectValue{4}));
  EXPECT_EQ(Last<ExpectStmt>(p + "expect 4").pos, (SourcePos{kFile, 3, 1}));
}

TEST(ParserStatements, ExpectFollowsEveryResultStatement) {
  const char* ops[] = {
      "mmap 0 4K rw- private,anon", "munmap 0 4K", "mprotect 0 4K r--", "store 0 \"x\"",
      "fill 0 1 0", "load 0 1", "process_vm_readv p [] []", "process_vm_writev p [] []",
      "fork c", "reap p", "setresuid 0 0 0", "setresgid 0 0 0", "capset all", "dumpable 1",
  };
  for (const char* op : ops) {
    Scenario s = MustParse(absl::StrCat("process p\np: ", op, "\n# comment\n\nexpect 0"));
    EXPECT_EQ(s.statements.size(), 3u) << op;
    EXPECT_TRUE(ProducesResult(s.statements[1])) << op;
  }
}

TEST(ParserStatements, ExpectMemExpectSame) {
  ExpectMemStmt m = Last<ExpectMemStmt>("process p\nexpect-mem p 0x1000 \"x\"");
  EXPECT_EQ(m.task, "p");
  EXPECT_EQ(m.addr, 0x1000u);
  EXPECT_EQ(m.data, Data(DataBytes{"x"}));
  EXPECT_EQ(m.pos, (SourcePos{kFile, 2, 1}));
  ExpectSameStmt s = Last<ExpectSameStmt>("process p\nprocess q\nexpect-same p 0x1000 q 0x2000 4K");
  EXPECT_EQ(s.task, "p");
  EXPECT_EQ(s.addr, 0x1000u);
  EXPECT_EQ(s.other_task, "q");
  EXPECT_EQ(s.other_addr, 0x2000u);
  EXPECT_EQ(s.len, 4096u);
}

TEST(ParserStatements, Show) {
  const std::string p = "process p\n";
  EXPECT_EQ(Last<ShowStmt>(p + "show maps p").what, ShowWhat(ShowMaps{"p"}));
  EXPECT_EQ(Last<ShowStmt>(p + "show pagetable p").what, ShowWhat(ShowPagetable{"p", std::nullopt}));
  EXPECT_EQ(Last<ShowStmt>(p + "show pagetable p 0x1000").what,
            ShowWhat(ShowPagetable{"p", 0x1000}));
  EXPECT_EQ(Last<ShowStmt>(p + "show pagemap p 0x1000 8K").what,
            ShowWhat(ShowPagemap{"p", 0x1000, 8192}));
  EXPECT_EQ(Last<ShowStmt>("show tlb").what, ShowWhat(ShowTlb{std::nullopt}));
  EXPECT_EQ(Last<ShowStmt>("show tlb 3").what, ShowWhat(ShowTlb{3}));
  EXPECT_EQ(Last<ShowStmt>("show page 0x100").what, ShowWhat(ShowPage{0x100}));
  EXPECT_EQ(Last<ShowStmt>("show buddy").what, ShowWhat(ShowBuddy{}));
  EXPECT_EQ(Last<ShowStmt>("show vmstat").what, ShowWhat(ShowVmstat{}));
  EXPECT_EQ(Last<ShowStmt>(p + "show dot p").what, ShowWhat(ShowDot{{"p"}}));
  EXPECT_EQ(Last<ShowStmt>(p + "process q\nthread t of q\nshow dot q p t").what,
            ShowWhat(ShowDot{{"q", "p", "t"}}));
}

TEST(ParserErrors, ShowDot) {
  auto msg = [](const std::string& text) {
    return std::string(ParseScenario(text, "f.mms").status().message());
  };
  EXPECT_EQ(msg("process p\nshow dot"), "f.mms:2:9: expected a declared process, thread or kthread name, got end of line");
  EXPECT_EQ(msg("process p\nshow dot p nobody"),
            "f.mms:2:12: expected a declared process, thread or kthread name, got undefined name 'nobody'");
  EXPECT_EQ(msg("process p\nshow dot p p"),
            "f.mms:2:12: expected a task not already named in this `show dot`, got 'p'");
  std::string many = "process p0";
  std::string show = "\nshow dot p0";
  for (int i = 1; i <= 16; ++i) {
    absl::StrAppend(&many, "\nprocess p", i);
    absl::StrAppend(&show, " p", i);
  }
  EXPECT_NE(msg(many + show).find("expected the end of the line (at most 16 tasks in one `show dot`)"),
            std::string::npos)
      << msg(many + show);
  EXPECT_TRUE(ParseScenario("process dot", "f.mms").ok() == false);  // `dot` is a keyword now
}

TEST(ParserStatements, FailAndTrace) {
  FailStmt f = Last<FailStmt>("fail fail_page_alloc nth=3 times=2 probability=0.25");
  EXPECT_EQ(f.point, "fail_page_alloc");
  EXPECT_EQ(f.nth, 3u);
  EXPECT_EQ(f.times, 2u);
  EXPECT_EQ(f.probability_ppb, 250000000u);
  FailStmt g = Last<FailStmt>("fail failslab");
  EXPECT_FALSE(g.nth.has_value());
  EXPECT_FALSE(g.times.has_value());
  EXPECT_FALSE(g.probability_ppb.has_value());
  EXPECT_EQ(Last<FailStmt>("fail x probability=1").probability_ppb, kProbabilityOne);
  EXPECT_EQ(Last<FailStmt>("fail x probability=1.000").probability_ppb, kProbabilityOne);
  EXPECT_EQ(Last<FailStmt>("fail x probability=0").probability_ppb, 0u);
  EXPECT_EQ(Last<FailStmt>("fail x probability=0.000000001").probability_ppb, 1u);
  EXPECT_EQ(Last<TraceStmt>("trace off").level, TraceStmt::Level::kOff);
  EXPECT_EQ(Last<TraceStmt>("trace calls").level, TraceStmt::Level::kCalls);
  EXPECT_EQ(Last<TraceStmt>("trace full").level, TraceStmt::Level::kFull);
}

TEST(ParserStatements, Sleep) {
  EXPECT_EQ(Last<SleepStmt>("sleep 10ms").ms, 10u);
  EXPECT_EQ(Last<SleepStmt>("sleep 1ms").ms, 1u);
  EXPECT_EQ(Last<SleepStmt>("sleep 2s").ms, 2000u);
  EXPECT_EQ(Last<SleepStmt>("sleep 3600s").ms, kMaxSleepMs);
  EXPECT_EQ(Last<SleepStmt>("sleep 3600000ms").ms, kMaxSleepMs);
  EXPECT_EQ(Last<SleepStmt>("sleep 10ms  # a comment").ms, 10u);
  // Printed in seconds when whole, else in milliseconds.
  EXPECT_EQ(FormatStatement(Last<SleepStmt>("sleep 2000ms")), "sleep 2s");
  EXPECT_EQ(FormatStatement(Last<SleepStmt>("sleep 1500ms")), "sleep 1500ms");
}

TEST(ParserStatements, BlankLinesCommentsAndWhitespace) {
  Scenario s = MustParse(
      "\n   \n# only a comment\n\tprocess\tp\t# trailing\r\n\r\np :  load  0x10  1  \n");
  ASSERT_EQ(s.statements.size(), 2u);
  EXPECT_EQ(PosOf(s.statements[0]), (SourcePos{kFile, 4, 2}));
  EXPECT_EQ(PosOf(s.statements[1]), (SourcePos{kFile, 6, 1}));
  EXPECT_EQ(MustParse("").statements.size(), 0u);
  EXPECT_EQ(MustParse("process p").statements.size(), 1u);  // no final newline
}

// The race of README.md in short: a reader and an unmapper on two CPUs.
constexpr char kRace[] =
    "machine cpus=2\n"
    "process target cpu=0\n"
    "process reader cpu=1\n"
    "target: mmap 0x10000 8K rw- private,anon,populate\n"
    "reader: mmap 0x20000 8K rw- private,anon\n";

TEST(ParserStatements, PlacementAndSchedule) {
  Scenario s = MustParse(
      "process p cpu=1 uid=3\nthread t of p cpu=2\nkthread k cpu=0\nkthread k2\n"
      "schedule p cpu=3");
  ASSERT_EQ(s.statements.size(), 5u);
  EXPECT_EQ(std::get<ProcessStmt>(s.statements[0]).cpu, 1u);
  EXPECT_EQ(std::get<ProcessStmt>(s.statements[0]).euid, 3u);
  EXPECT_EQ(std::get<ThreadStmt>(s.statements[1]).cpu, 2u);
  EXPECT_EQ(std::get<KthreadStmt>(s.statements[2]).cpu, 0u);
  EXPECT_FALSE(std::get<KthreadStmt>(s.statements[3]).cpu.has_value());
  const auto& sch = std::get<ScheduleStmt>(s.statements[4]);
  EXPECT_EQ(sch.task, "p");
  EXPECT_EQ(sch.cpu, 3u);
  EXPECT_FALSE(Last<ProcessStmt>("process q").cpu.has_value());
  EXPECT_TRUE(std::holds_alternative<ShowCpus>(Last<ShowStmt>("show cpus").what));
}

TEST(ParserStatements, TogetherBlock) {
  Scenario s = MustParse(std::string(kRace) +
                         "together schedule=2.1-5.0\n"
                         "  reader: load 0x20000 4\n"
                         "  expect \"abcd\"\n"
                         "  # a comment inside\n"
                         "\n"
                         "  target: munmap 0x10000 8K\n"
                         "end\n");
  ASSERT_EQ(s.statements.size(), 5u + 5u);
  const auto& t = std::get<TogetherStmt>(s.statements[5]);
  EXPECT_EQ(t.policy, TogetherStmt::Policy::kSchedule);
  EXPECT_EQ(t.schedule, "2.1-5.0");
  EXPECT_EQ(t.pos.line, 6);
  EXPECT_TRUE(std::holds_alternative<LoadStmt>(s.statements[6]));
  EXPECT_TRUE(std::holds_alternative<ExpectStmt>(s.statements[7]));
  EXPECT_TRUE(std::holds_alternative<MunmapStmt>(s.statements[8]));
  EXPECT_EQ(std::get<EndStmt>(s.statements[9]).pos.line, 12);
  EXPECT_EQ(std::get<TogetherStmt>(
                MustParse(std::string(kRace) + "together\nreader: load 0 1\nend").statements[5])
                .policy,
            TogetherStmt::Policy::kDefault);
  const TogetherStmt r = std::get<TogetherStmt>(
      MustParse(std::string(kRace) + "together random seed=9\nreader: load 0 1\nend")
          .statements[5]);
  EXPECT_EQ(r.policy, TogetherStmt::Policy::kRandom);
  EXPECT_EQ(r.seed, 9u);
  // A statement after the block stands at top level again.
  EXPECT_EQ(MustParse(std::string(kRace) + "together\nreader: load 0 1\nend\nshow vmstat\n"
                      "together\nreader: load 0 1\nend")
                .statements.size(),
            5u + 7u);
}

TEST(ParserStatements, ExploreBlockAndPredicates) {
  Scenario s = MustParse(std::string(kRace) +
                         "explore pct 500 seed=3 depth=4\n"
                         "together\n"
                         "reader: process_vm_readv target [0x20000:8K] [0x10000:8K]\n"
                         "target: munmap 0x10000 8K\n"
                         "end\n"
                         "expect-mem reader 0x20000 \"x\"\n"
                         "expect-sometimes reader=8K target=0 or reader=-1 EFAULT or deadlock\n"
                         "expect-never check-failed\n"
                         "end\n");
  ASSERT_EQ(s.statements.size(), 5u + 9u);
  const auto& e = std::get<ExploreStmt>(s.statements[5]);
  EXPECT_EQ(e.mode, ExploreStmt::Mode::kPct);
  EXPECT_EQ(e.runs, 500u);
  EXPECT_EQ(e.depth, 4u);
  EXPECT_EQ(e.seed, 3u);
  EXPECT_FALSE(e.preemptions.has_value());
  const auto& some = std::get<ExpectOutcomeStmt>(s.statements[11]);
  EXPECT_EQ(some.quantifier, ExpectOutcomeStmt::Quantifier::kSometimes);
  ASSERT_EQ(some.predicate.any_of.size(), 3u);
  ASSERT_EQ(some.predicate.any_of[0].size(), 2u);
  EXPECT_EQ(some.predicate.any_of[0][0].task, "reader");
  EXPECT_EQ(some.predicate.any_of[0][0].result, ExpectResult(ExpectValue{8192}));
  EXPECT_EQ(some.predicate.any_of[0][1].task, "target");
  // `-1 EFAULT` and a bare `EFAULT` are the same condition.
  EXPECT_EQ(some.predicate.any_of[1][0].result, ExpectResult(ExpectErrno{14}));
  EXPECT_EQ(some.predicate.any_of[2][0].kind, OutcomeAtom::Kind::kDeadlock);
  const auto& never = std::get<ExpectOutcomeStmt>(s.statements[12]);
  EXPECT_EQ(never.quantifier, ExpectOutcomeStmt::Quantifier::kNever);
  EXPECT_EQ(never.predicate.any_of[0][0].kind, OutcomeAtom::Kind::kCheckFailed);
  EXPECT_EQ(FormatStatement(s.statements[11]),
            "expect-sometimes reader=8192 target=0 or reader=EFAULT or deadlock");
  const ExploreStmt all = std::get<ExploreStmt>(
      MustParse(std::string(kRace) + "explore all preemptions=0\ntogether\nreader: load 0 1\n"
                                     "end\nend")
          .statements[5]);
  EXPECT_EQ(all.mode, ExploreStmt::Mode::kAll);
  EXPECT_EQ(all.preemptions, 0u);
}

// ---------------------------------------------------------------------------
// Errors: exact positions.

struct BadCase {
  std::string text;
  std::string where;     // "LINE:COL"
  std::string expected;  // a substring of the part after "expected "
  std::string got;       // a substring of the part after ", got "
};

std::string Repeat(const std::string& s, int n) {
  std::string out;
  for (int i = 0; i < n; ++i) out += s;
  return out;
}

constexpr char kDataExpected[] = "DATA like \"text\", hex:00ff, repeat(4K,0) or pattern(4K)";

std::vector<BadCase> BadCases() {
  const std::string p = "process p\n";
  const std::string pl = "process p\np: load 0 1\n";
  std::string many_iovecs = "[";
  for (size_t i = 0; i <= kMaxIovecs; ++i) absl::StrAppend(&many_iovecs, i ? "," : "", "0:1");
  many_iovecs += "]";
  return {
      // Statement structure.
      {"frob", "1:1", "a statement (machine, let", "'frob'"},
      {"  [x]", "1:3", "a statement", "'['"},
      {"machine memory=1G\nmachine", "2:1", "machine only as the first statement",
       "machine after machine at line 1"},
      {p + "machine cpus=2", "2:1", "machine only as the first statement",
       "machine after process at line 1"},
      {"machine foo=1", "1:9", "machine option (memory=SIZE", "'foo'"},
      {"machine memory=1000", "1:16", "memory SIZE from 1M to 64G, a multiple of 4K", "'1000'"},
      {"machine swap=4K", "1:14", "swap SIZE 0 or from 8K to 64G, a multiple of 4K", "'4K'"},
      {"machine swap=65G", "1:14", "swap SIZE 0 or from 8K to 64G, a multiple of 4K", "'65G'"},
      {"machine swap=1000", "1:14", "swap SIZE 0 or from 8K to 64G, a multiple of 4K", "'1000'"},
      {"machine memory=4K", "1:16", "memory SIZE from 1M to 64G, a multiple of 4K", "'4K'"},
      {"machine cpus=0", "1:14", "cpus from 1 to 64", "'0'"},
      {"machine cpus=2 cpus=3", "1:16", "each option once", "a second 'cpus'"},
      {"machine tlb=\"x\"", "1:13", "TLB profile name", "string '\"x\"'"},
      {"machine thp=sometimes", "1:13", "thp MODE (always, madvise or never)", "'sometimes'"},
      {"machine thp=1", "1:13", "thp MODE (always, madvise or never)", "'1'"},
      {"machine thp=never thp=always", "1:19", "each option once", "a second 'thp'"},
      {"machine thp_defrag=sometimes", "1:20", "thp_defrag MODE (always, defer, defer+madvise, madvise or never)",
       "'sometimes'"},
      {"machine thp_defrag=defer+always", "1:26", "thp_defrag MODE", "'always'"},
      {"machine thp_defrag=defer+ madvise", "1:27", "thp_defrag MODE", "'madvise'"},
      {"machine thp_defrag=defer+", "1:26", "thp_defrag MODE", "end of line"},
      {"machine thp_defrag=madvise+defer", "1:27", "machine option", "'+'"},
      {"machine thp_use_zero_page=2", "1:27", "thp_use_zero_page 0 or 1", "'2'"},
      {"machine pku=2", "1:13", "pku 0 or 1", "'2'"},
      {"machine pku=on", "1:13", "pku 0 or 1", "'on'"},
      {"machine pku=", "1:13", "pku 0 or 1", "end of line"},
      {"machine thp_use_zero_page=yes", "1:27", "thp_use_zero_page 0 or 1", "'yes'"},
      {"machine thp_use_zero_page=0x1", "1:27", "thp_use_zero_page 0 or 1", "'0x1'"},
      {"machine thp_use_zero_page=", "1:27", "thp_use_zero_page 0 or 1", "end of line"},
      {"machine thp_use_zero_page=1 thp_use_zero_page=0", "1:29", "each option once",
       "a second 'thp_use_zero_page'"},
      // Names.
      {"let 1x = 5", "1:5", "NAME for let", "'1x'"},
      {"let mmap = 5", "1:5", "NAME for let that is not a keyword", "keyword 'mmap'"},
      {"let EFAULT = 5", "1:5", "not a keyword", "keyword 'EFAULT'"},
      {"let X = 1\nlet X = 2", "2:5", "a name not declared before",
       "'X' (a let name declared at t.mms:1:5)"},
      {"process X\nfile X size=1", "2:6", "a name not declared before", "(a process name declared"},
      {"let " + std::string(65, 'a') + " = 1", "1:5", "NAME for let of at most 64 bytes",
       "65 bytes"},
      {"let X 5", "1:7", "'=' after the let NAME", "'5'"},
      {"process p\nprocess p", "2:9", "a name not declared before", "'p'"},
      {"thread t of q", "1:13", "a declared process name", "undefined name 'q'"},
      {"kthread k\nthread t of k", "2:13", "a declared process name", "kthread name 'k'"},
      {p + "thread t for p", "2:10", "'of' PROCESS", "'for'"},
      {"q: mmap 0 4K rw- private", "1:1", "a declared process, thread or kthread name",
       "undefined name 'q'"},
      {"file f size=4K\nf: load 0 1", "2:1", "a declared process, thread or kthread name",
       "file name 'f'"},
      {p + "p: frob", "2:4", "an operation (mmap", "'frob'"},
      {p + "p: reap q", "2:9", "a declared process name", "undefined name 'q'"},
      {p + "p: fork p", "2:9", "a name not declared before", "'p'"},
      // NUM.
      {"let X = Y", "1:9", "NUM like 0x1000+4K", "undefined name 'Y'"},
      {p + "let X = p", "2:9", "NUM like", "process name 'p'"},
      {"let X = 1+Y", "1:11", "NUM or let name", "undefined name 'Y'"},
      {"let X = 0x10000000000000000", "1:9", "a NUM that fits in 64 bits",
       "'0x10000000000000000'"},
      {"let X = 18446744073709551616", "1:9", "a NUM that fits in 64 bits", ""},
      {"let X = 0xffffffffffffffff+1", "1:27", "a value that fits in 64 bits", "overflow at '+'"},
      {"let X = 0x100000000*0x100000000", "1:20", "a value that fits in 64 bits",
       "overflow at '*'"},
      {"let X = 17179869184G", "1:9", "a NUM that fits in 64 bits", "'17179869184G'"},
      {"let X = 0xffffffffffffffffK", "1:9", "a NUM that fits in 64 bits", ""},
      {"let X = -0xffffffffffffffff-1", "1:28", "a value that fits in 64 bits", "overflow at '-'"},
      {"let X = 1-2", "1:9", "a non-negative NUM", "'1-2' (-1)"},
      {"let X = -1", "1:9", "a non-negative NUM", "'-1'"},
      {"let X = (1", "1:11", "')' or an operator", "end of line"},
      {"let X = 007", "1:9", "NUM without leading zeros", "'007'"},
      {"let X = 12abc", "1:9", "NUM like 42, 0x1000 or 4K", "'12abc'"},
      {"let X = 0x", "1:9", "NUM like 42, 0x1000 or 4K", "'0x'"},
      {"let X = 1.5", "1:9", "NUM like 42, 0x1000 or 4K", "'1.5'"},
      {"let X = 4k", "1:9", "NUM like 42, 0x1000 or 4K", "'4k'"},
      {"let X = " + Repeat("(", 70) + "1" + Repeat(")", 70), "1:73",
       "at most 64 nested parentheses or minus signs", "'('"},
      {"let X = " + Repeat("-", 100) + "1", "1:73", "at most 64 nested", "'-'"},
      // Exactly 64 levels parse (NestingLimitIsExact); the 65th is the error.
      {"let X = " + Repeat("(", 65) + "1" + Repeat(")", 65), "1:73",
       "at most 64 nested parentheses or minus signs", "'('"},
      {"let X = 5 junk", "1:11", "end of line", "'junk'"},
      {"let X = 2\n" + p + "p: mmap X*0x8000000000000000 4K r-- private", "3:10",
       "a value that fits in 64 bits", "overflow at '*'"},
      {p + "p: munmap 0x1000 + 4K", "2:18", "LEN like 4K", "'+'"},
      {p + "p: munmap 0x1000 4K+ 1", "2:22", "NUM right after the operator", "space before '1'"},
      {p + "p: munmap 0x1000 4K +1", "2:21", "end of line (a NUM with spaces needs parentheses)",
       "'+'"},
      {p + "p: munmap 0x1000 -1", "2:18", "a non-negative LEN", "'-1'"},
      {p + "p: munmap 0x1000", "2:17", "LEN like 4K", "end of line"},
      // PROT and FLAGS.
      {p + "p: mmap 0x1000 4K rw+ private,anon", "2:19", "PROT like rw- or r-x", "'rw+'"},
      {p + "p: mmap 0x1000 4K wr- private,anon", "2:19", "PROT like rw- or r-x", "'wr-'"},
      {p + "p: mprotect 0x1000 4K", "2:22", "PROT like rw- or r-x", "end of line"},
      {p + "p: mmap 0x1000 4K rw-", "2:22", "mmap FLAGS like private", "end of line"},
      {p + "p: mmap 0x1000 4K rw- privat", "2:23", "mmap flag (private, shared", "'privat'"},
      {p + "p: mmap 0x1000 4K rw- anon", "2:23", "private or shared among the mmap FLAGS",
       "'anon'"},
      {p + "p: mmap 0x1000 4K rw- private,shared", "2:31", "one of private or shared", "both"},
      {p + "p: mmap 0x1000 4K rw- private,anon,anon", "2:36", "each mmap flag once",
       "a second 'anon'"},
      {p + "p: mmap 0x1000 4K rw- private,", "2:31", "mmap flag", "end of line"},
      {p + "p: mmap 0x1000 4K rw- private file=q", "2:36", "a declared file name",
       "undefined name 'q'"},
      {p + "p: mmap 0x1000 4K rw- private file=p", "2:36", "a declared file name",
       "process name 'p'"},
      {p + "p: mmap 0x1000 4K rw- private offset=1 offset=2", "2:40", "each option once",
       "a second 'offset'"},
      {p + "p: mmap 0x1000 4K rw- private size=1", "2:31", "mmap option (file=NAME, offset=NUM)",
       "'size'"},
      // DATA.
      {p + "p: store 0x1000 \"abc", "2:17", kDataExpected, "unterminated string"},
      {p + "p: store 0x1000 \"a\\qb\"", "2:19", "escape like \\n", "'\\q'"},
      {p + "p: store 0x1000 \"\\x4g\"", "2:18", "\\x followed by two hex digits", "'\\x4g'"},
      {p + "p: store 0x1000 \"a\x01\"", "2:19", "a printable character or an escape",
       "'\\x01'"},
      {p + "p: store 0x1000 hex:abc", "2:21", "an even number of hex digits", "3 digits"},
      {p + "p: store 0x1000 hex:0g", "2:22", "a hex digit", "'g'"},
      {p + "p: store 0x1000 hex: 00", "2:22", "hex digits right after hex:", "'00'"},
      {p + "p: store 0x1000 hex 00", "2:21", "':' right after hex", "'00'"},
      {p + "p: store 0x1000 repeat(65M,0)", "2:17", "store DATA of at most 64M bytes",
       "68157440 bytes"},
      {p + "p: store 0x1000 repeat(2G,0)", "2:24", "repeat LEN of at most 1G", "'2G'"},
      {p + "p: store 0x1000 repeat(4K,256)", "2:27", "BYTE of at most 255", "'256'"},
      {p + "p: store 0x1000 repeat(4K 0)", "2:27", "',' between repeat LEN and BYTE", "'0'"},
      {p + "p: store 0x1000 pattern(1G+1)", "2:25", "pattern LEN of at most 1G", "'1G+1'"},
      {p + "p: store 0x1000 12", "2:17", "DATA like \"text\"", "'12'"},
      {p + "p: load 0x1000 65M", "2:16", "load LEN of at most 64M", "'65M'"},
      {p + "p: fill 0x1000 4K 300", "2:19", "BYTE or pattern of at most 255", "'300'"},
      {p + "p: fill 0x1000 2G 0", "2:16", "fill LEN of at most 1G", "'2G'"},
      {"file f size=4K data=\"abc\" data=\"d\"", "1:27", "each option once", "a second 'data'"},
      {"file f data=\"abc\"", "1:18", "size=SIZE for the file", "end of line"},
      {"file f size=2 data=\"abc\"", "1:20", "file DATA of at most size=2 bytes", "3 bytes"},
      {"file f size=2G", "1:13", "file SIZE of at most 1G", "'2G'"},
      {"file f size=1 readonly=1", "1:23", "file option", "'='"},
      // process_vm_*.
      {p + "p: process_vm_readv p [0x1000:4K", "2:33", "',' or ']' in the iovec list",
       "end of line"},
      {p + "p: process_vm_readv p [0x1000] []", "2:30", "':' between iov_base and iov_len", "']'"},
      {p + "p: process_vm_readv p [0x1000:4K;] []", "2:33", "',' or ']'",
       "invalid character ';'"},
      {p + "p: process_vm_readv p (0x1000:4K) []", "2:23", "iovec list like [0x1000:4K",
       "'('"},
      {p + "p: process_vm_readv p raw(1) []", "2:28", "',' between raw ADDR and COUNT", "')'"},
      {p + "p: process_vm_readv p " + many_iovecs + " []", "2:" + std::to_string(24 + 4 * 4096),
       "at most 4096 iovecs in a list", "iovec number 4097"},
      {p + "p: process_vm_readv f [] []", "2:21", "PID (a process, thread or kthread name",
       "undefined name 'f'"},
      {"file f size=1\n" + p + "p: process_vm_readv f [] []", "3:21", "PID", "file name 'f'"},
      {p + "p: process_vm_readv 0x80000000 [] []", "2:21", "PID from -2^31 to 2^31-1",
       "'0x80000000' (2147483648)"},
      {p + "p: process_vm_readv p [] [] flags=-0x8000000000000001", "2:35",
       "flags from -2^63 to 2^64-1", "'-0x8000000000000001'"},
      {p + "p: process_vm_readv p [] [] foo=1", "2:29", "option flags=NUM", "'foo'"},
      {p + "p: process_vm_readv p [] [] flags 1", "2:35", "'=' after flags", "'1'"},
      // Credentials.
      {"process p uid=-1", "1:15", "a non-negative uid", "'-1'"},
      {"process p uid=0x100000000", "1:15", "uid of at most 4294967295", "'0x100000000'"},
      {"process p caps=cap_foo", "1:16", "capability name like cap_sys_ptrace", "'cap_foo'"},
      {"process p caps=cap_kill,cap_kill", "1:25", "each capability once", "a second 'cap_kill'"},
      {"process p caps=all,cap_kill", "1:19", "process option", "','"},
      {"process p dumpable=2", "1:20", "dumpable 0 or 1", "'2'"},
      {"process p @", "1:11", "process option", "invalid character '@'"},
      {p + "p: setresuid -2 0 0", "2:14", "ruid from -1 to 4294967295", "'-2'"},
      {p + "p: setresuid 0 0", "2:17", "suid like 1000 or -1", "end of line"},
      {p + "p: capset", "2:10", "capabilities: all, none or a list", "end of line"},
      // expect.
      {"expect 0", "1:1", "expect right after a statement with a result (mmap,",
       "expect at the start of the scenario"},
      {p + "expect 0", "2:1", "expect right after a statement with a result",
       "expect after process at line 1"},
      {pl + "expect 0\nexpect 0", "4:1", "expect right after", "expect after expect at line 3"},
      {pl + "show buddy\nexpect 0", "4:1", "expect right after", "expect after show at line 3"},
      {p + "p: exit\nexpect 0", "3:1", "expect right after", "expect after exit at line 2"},
      {pl + "expect -2 EFAULT", "3:8", "-1 ERRNO (the only negative RESULT)", "'-2'"},
      {pl + "expect - 1 EFAULT", "3:8", "-1 ERRNO", "'- 1'"},
      {pl + "expect -1 EFOO", "3:11", "ERRNO name like EFAULT or ENOMEM", "'EFOO'"},
      {pl + "expect -1", "3:10", "ERRNO name like EFAULT after -1", "end of line"},
      {pl + "expect SIGTERM", "3:8", "RESULT like 0x1000, -1 EFAULT", "undefined name 'SIGTERM'"},
      {pl + "expect", "3:7", "RESULT like", "end of line"},
      {pl + "expect \"\\x01\x02\"", "3:13", "a printable character or an escape", "'\\x02'"},
      {p + "expect-mem q 0 \"x\"", "2:12", "a declared process, thread or kthread name",
       "undefined name 'q'"},
      {p + "expect-same p 0 p 0 2G", "2:21", "expect-same LEN of at most 1G", "'2G'"},
      // show, fail, trace.
      {"show frob", "1:6", "show view (maps, pagetable", "'frob'"},
      {"show tlb 64", "1:10", "CPU of at most 63", "'64'"},
      {"show maps", "1:10", "a declared process, thread or kthread name", "end of line"},
      {p + "show pagemap p 0 2G", "2:18", "pagemap LEN of at most 1G", "'2G'"},
      {"fail 7", "1:6", "fault point like fail_page_alloc", "'7'"},
      {"fail fail_page_alloc nth=0", "1:26", "nth from 1 to", "'0'"},
      {"fail fail_page_alloc probability=1.5", "1:34", "probability like 0.25", "'1.5'"},
      {"fail fail_page_alloc probability=0.1234567891", "1:34", "at most 9 decimals",
       "'0.1234567891'"},
      {"fail fail_page_alloc probability=.5", "1:34", "probability like 0.25", "'.'"},
      {"fail x times=1 times=2", "1:16", "each option once", "a second 'times'"},
      {"trace verbose", "1:7", "trace level (off, calls, full)", "'verbose'"},
      // CPU placement.
      {"process p cpu=64", "1:15", "cpu of at most 63", "'64'"},
      {"process p cpu=1 cpu=2", "1:17", "each option once", "a second 'cpu'"},
      {p + "thread t of p cpu", "2:18", "'=' after cpu", "end of line"},
      {p + "thread t of p core=1", "2:15", "thread option cpu=N", "'core'"},
      {"kthread k cpu=x", "1:15", "cpu like 1", "undefined name 'x'"},
      {p + "schedule p", "2:11", "cpu=N after the task", "end of line"},
      {p + "schedule q cpu=1", "2:10", "a declared process, thread or kthread name",
       "undefined name 'q'"},
      {p + "schedule p cpu=1 cpu=2", "2:18", "end of line", "'cpu'"},
      {"let together = 1", "1:5", "not a keyword", "keyword 'together'"},
      {"process end", "1:9", "not a keyword", "keyword 'end'"},
      {"process deadlock", "1:9", "not a keyword", "keyword 'deadlock'"},
      // together blocks.
      {"end", "1:1", "a statement (machine", "'end' outside a block"},
      {p + "together\nend", "3:1", "at least one TASK: OPERATION in the together block of line 2",
       "end"},
      {p + "together\np: load 0 1", "3:12", "end to close the together block of line 2",
       "the end of the input"},
      {p + "together\np: load 0 1\n", "4:1", "end to close the together block of line 2",
       "the end of the input"},
      {p + "together\ntogether", "3:1", "TASK: OPERATION, expect or end in the together block "
       "of line 2 (blocks do not nest)", "'together'"},
      {p + "together\np: load 0 1\nexplore all", "4:1", "(blocks do not nest)", "'explore'"},
      {p + "together\nshow maps p", "3:1", "TASK: OPERATION, expect or end", "'show'"},
      {p + "together\nprocess q", "3:1", "TASK: OPERATION, expect or end", "'process'"},
      {p + "together\np: load 0 1\np: load 0 2", "4:1", "each task at most once in a together",
       "a second operation of 'p' (the first at line 3)"},
      {p + "together\nexpect 0", "3:1", "expect right after a statement with a result",
       "expect after together at line 2"},
      {p + "together\np: load 0 1\nend\nexpect 0", "5:1", "expect right after",
       "expect after end at line 4"},
      {p + "together random seed", "2:21", "'=' after seed", "end of line"},
      {p + "together random seed=1 seed=2", "2:24", "end of line", "'seed'"},
      {p + "together fast", "2:10", "end of line, schedule=ID or random seed=N", "'fast'"},
      {p + "together schedule=", "2:19", "schedule ID like 0 or 3.1-17.0", "end of line"},
      {p + "together schedule= 1.0", "2:20", "schedule ID like", "'1.0'"},
      {p + "together schedule=3", "2:20", "schedule ID with '.' between STEP and PATH", "'3'"},
      {p + "together schedule=3.1-2.0", "2:23", "schedule ID with STEPs in ascending order",
       "'3.1-2.0'"},
      {p + "together schedule=3.1_4.0", "2:22", "schedule ID with '-' between STEP.PATH pairs",
       "'3.1_4.0'"},
      {p + "together schedule=03.1", "2:19", "schedule ID with STEP without leading zeros",
       "'03.1'"},
      {p + "together schedule=3.x", "2:21", "schedule ID with a decimal PATH", "'3.x'"},
      {p + "together schedule=3.1-", "2:23", "schedule ID with a decimal STEP", "'3.1-'"},
      {p + "together schedule=99999999999999999999.0", "2:19", "STEP that fits in 64 bits", ""},
      {p + "together schedule=1.5000", "2:19", "a PATH number of at most 4096", "'1.5000'"},
      // explore blocks.
      {"explore", "1:8", "exploration mode (all [preemptions=N], random N, pct N)", "end of line"},
      {"explore some", "1:9", "exploration mode", "'some'"},
      {"explore random", "1:15", "number of runs N like 1000", "end of line"},
      {"explore random 0", "1:16", "number of runs N from 1 to", "'0'"},
      {"explore random 0x100000001", "1:16", "number of runs N from 1 to 4G", "'0x100000001'"},
      {"explore all preemptions=65", "1:25", "preemptions of at most 64", "'65'"},
      {"explore all seed=1", "1:13", "explore all option preemptions=N", "'seed'"},
      {"explore random 5 depth=2", "1:18", "explore random option seed=S", "'depth'"},
      {"explore pct 5 depth=0", "1:21", "depth from 1 to 64", "'0'"},
      {"explore pct 5 preemptions=1", "1:15", "explore pct option (depth=D, seed=S)",
       "'preemptions'"},
      {"explore pct 5 seed=1 seed=1", "1:22", "each option once", "a second 'seed'"},
      {"explore all\nend", "2:1", "together right after explore (line 1): the block to explore",
       "'end'"},
      {p + "explore all\np: load 0 1", "3:1", "together right after explore (line 2)",
       "operation of 'p'"},
      {p + "explore all\ntogether random seed=1", "3:10",
       "end of line (explore chooses the schedules", "'random'"},
      {p + "explore all\ntogether\np: load 0 1\nend", "5:4",
       "end to close the explore block of line 2", "the end of the input"},
      {p + "explore all\ntogether\np: load 0 1\nend\ntogether", "6:1",
       "one together block per explore; blocks do not nest", "'together'"},
      {p + "explore all\ntogether\np: load 0 1\nend\np: load 0 1", "6:1",
       "expect-mem, expect-same, show, expect-always", "operation of 'p'"},
      {p + "explore all\ntogether\np: load 0 1\nend\ntrace full", "6:1",
       "after the together block of the explore block of line 2", "'trace'"},
      {p + "together\np: load 0 1\nend\nexpect-always p=1", "5:1",
       "expect-always inside an explore block, after its together block",
       "'expect-always' outside one"},
      {p + "explore all\ntogether\np: load 0 1\nexpect-never p=0", "5:1",
       "TASK: OPERATION, expect or end in the together block", "'expect-never'"},
      // Outcome predicates.
      {p + "process q\nexplore all\ntogether\np: load 0 1\nend\nexpect-always q=0", "7:15",
       "TASK one of p", "'q', which has no operation in the together block"},
      {p + "explore all\ntogether\np: load 0 1\nend\nexpect-always", "6:14",
       "an outcome condition (TASK=RESULT, deadlock or check-failed)", "end of line"},
      {p + "explore all\ntogether\np: load 0 1\nend\nexpect-always p=0 or", "6:21",
       "an outcome condition", "end of line"},
      {p + "explore all\ntogether\np: load 0 1\nend\nexpect-always or p=0", "6:15",
       "an outcome condition", "'or'"},
      {p + "explore all\ntogether\np: load 0 1\nend\nexpect-always p = 0", "6:17",
       "'=' RESULT right after p", "'='"},
      {p + "explore all\ntogether\np: load 0 1\nend\nexpect-always p= 0", "6:18",
       "RESULT right after '='", "'0'"},
      {p + "explore all\ntogether\np: load 0 1\nend\nexpect-always p=EFOO", "6:17",
       "RESULT like 0x1000, EFAULT", "undefined name 'EFOO'"},
      {p + "explore all\ntogether\np: load 0 1\nend\nexpect-always p=-1", "6:19",
       "ERRNO name like EFAULT after -1", "end of line"},
      {p + "explore all\ntogether\np: load 0 1\nend\nexpect-always dead-lock", "6:15",
       "an outcome condition", "'dead-lock'"},
      {p + "explore all\ntogether\np: load 0 1\nend\nexpect-never p=1,", "6:17",
       "an outcome condition", "','"},
      // Lines.
      {p + Repeat("#", 70000), "2:65537", "a line of at most 65536 bytes", "70000 bytes"},
      {"process p\x01", "1:10", "process option", "invalid character '\\x01'"},
      {"process p\nprocess q\n\np: munmap 0 1 2", "4:15", "end of line", "'2'"},
      // State checks (expect pte/page/tlb/vmstat/vma, mark).
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
      {p + "expect fault p", "2:15", "fault check (none, addr=ADDR, error=ERROR)", "end of line"},
      {p + "expect fault p size=4K", "2:16", "fault check (none, addr=ADDR, error=ERROR)", "'size'"},
      {p + "expect fault q none", "2:14", "a task name, or cpu CPU", "undefined name 'q'"},
      {p + "expect fault cpu 64 none", "2:18", "CPU of at most 63", "'64'"},
      {p + "expect fault p error=P|X", "2:24", "error code: 0, or #PF bits joined by '|'", "'X'"},
      {p + "expect fault p error=P|P", "2:24", "each #PF bit at most once", "'P'"},
      {p + "expect fault p error=P|", "2:24", "error code: 0, or #PF bits joined by '|'", "'|'"},
      {p + "expect fault p error=", "2:22", "error code: 0, or #PF bits joined by '|'", "end of line"},
      {p + "expect fault p addr=1 addr=2", "2:23", "each option once", "a second 'addr'"},
      {"mark", "1:5", "NAME for the mark", "end of line"},
      {"mark pte", "1:6", "NAME for the mark that is not a keyword", "keyword 'pte'"},
      {"mark m\nmark m", "2:6", "a name not declared before", "'m' (a mark name declared at t.mms:1:6)"},
      {p + "together\np: load 0 1\nexpect pte p 0 present\nend", "4:8",
       "expect RESULT in a block (state checks stand outside blocks)", "'pte'"},
      {p + "explore all\ntogether\np: load 0 1\nend\nmark m", "6:1", "expect-mem, expect-same, show", "'mark'"},
      // sleep DURATION.
      {"sleep", "1:6", "DURATION like 10ms or 2s", "end of line"},
      {"sleep 10", "1:7", "DURATION like 10ms or 2s", "'10'"},
      {"sleep 10us", "1:7", "DURATION like 10ms or 2s", "'10us'"},
      {"sleep 0ms", "1:7", "from 1ms to 3600s", "'0ms'"},
      {"sleep 010ms", "1:7", "DURATION like 10ms or 2s", "'010ms'"},
      {"sleep 0x10ms", "1:7", "DURATION like 10ms or 2s", "'0x10ms'"},
      {"sleep 3601s", "1:7", "from 1ms to 3600s", "'3601s'"},
      {"sleep 99999999999ms", "1:7", "from 1ms to 3600s", "'99999999999ms'"},
      {"sleep ms", "1:7", "DURATION like 10ms or 2s", "'ms'"},
      {"sleep 10ms 5", "1:12", "end of line", "'5'"},
      {p + "together\np: load 0 1\nsleep 1ms\nend", "4:1", "", "'sleep'"},
  };
}

TEST(ParserErrors, TableOfBadInputsHasExactPositions) {
  const std::vector<BadCase> cases = BadCases();
  EXPECT_GE(cases.size(), 40u);
  for (const BadCase& c : cases) {
    SCOPED_TRACE(c.text.size() < 200 ? c.text : c.text.substr(0, 200) + "...");
    absl::StatusOr<Scenario> s = ParseScenario(c.text, kFile);
    ASSERT_FALSE(s.ok());
    EXPECT_EQ(s.status().code(), absl::StatusCode::kInvalidArgument);
    const std::string msg(s.status().message());
    const std::string prefix = absl::StrCat(kFile, ":", c.where, ": expected ");
    EXPECT_EQ(msg.substr(0, prefix.size()), prefix) << msg;
    const size_t got = msg.find(", got ");
    ASSERT_NE(got, std::string::npos) << msg;
    EXPECT_NE(msg.substr(0, got).find(c.expected), std::string::npos)
        << "expected part: " << c.expected << "\nmessage: " << msg;
    EXPECT_NE(msg.substr(got).find(c.got), std::string::npos)
        << "got part: " << c.got << "\nmessage: " << msg;
  }
}

TEST(ParserErrors, WholeMessages) {
  // A few messages in full, as users see them.
  auto msg = [](const std::string& text) {
    return std::string(ParseScenario(text, "f.mms").status().message());
  };
  EXPECT_EQ(msg("process p\np: mmap 0x1000 4K rw+ private"),
            "f.mms:2:19: expected PROT like rw- or r-x, got 'rw+'");
  EXPECT_EQ(msg("let X = 0xffffffffffffffff*2"),
            "f.mms:1:27: expected a value that fits in 64 bits, got overflow at '*'");
  EXPECT_EQ(msg("process p\np: load 0 1\nexpect -1 EFOO"),
            "f.mms:3:11: expected ERRNO name like EFAULT or ENOMEM, got 'EFOO'");
  EXPECT_EQ(msg("thread t of nobody"),
            "f.mms:1:13: expected a declared process name, got undefined name 'nobody'");
  EXPECT_EQ(msg("process p\np: load 0x1000 LEN"),
            "f.mms:2:16: expected load LEN like 4K, got undefined name 'LEN'");
}

TEST(ParserErrors, StopsAtTheFirstError) {
  absl::StatusOr<Scenario> s = ParseScenario("frob\nfrob frob\n", kFile);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.status().message().substr(0, 10), "t.mms:1:1:");
}

// ---------------------------------------------------------------------------
// IncrementalParser.

TEST(IncrementalParser, KeepsSymbolsAcrossLines) {
  IncrementalParser p("<stdin>");
  EXPECT_EQ(p.line_number(), 0);
  auto r1 = p.ParseLine("process init");
  ASSERT_TRUE(r1.ok()) << r1.status();
  ASSERT_TRUE(r1->has_value());
  auto r2 = p.ParseLine("# a comment\n");
  ASSERT_TRUE(r2.ok());
  EXPECT_FALSE(r2->has_value());
  auto r3 = p.ParseLine("init: mmap 0x1000 4K rw- private,anon\n");
  ASSERT_TRUE(r3.ok()) << r3.status();
  EXPECT_EQ(PosOf(**r3), (SourcePos{"<stdin>", 3, 1}));
  auto r4 = p.ParseLine("expect 0x1000");
  ASSERT_TRUE(r4.ok()) << r4.status();
  EXPECT_EQ(p.line_number(), 4);
}

TEST(IncrementalParser, AFailedLineChangesNothingButTheLineNumber) {
  IncrementalParser p("<stdin>");
  ASSERT_TRUE(p.ParseLine("process a").ok());
  ASSERT_TRUE(p.ParseLine("a: load 0 1").ok());
  // Declares b, then fails: b must stay undeclared.
  auto bad = p.ParseLine("process b uid=oops");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().message().substr(0, 14), "<stdin>:3:15: ");
  auto undeclared = p.ParseLine("b: exit");
  ASSERT_FALSE(undeclared.ok());
  EXPECT_NE(undeclared.status().message().find("undefined name 'b'"), std::string::npos);
  // The failed lines did not break the expect chain either.
  auto e = p.ParseLine("expect 1");
  EXPECT_TRUE(e.ok()) << e.status();
  // And b can still be declared.
  EXPECT_TRUE(p.ParseLine("process b").ok());
}

TEST(IncrementalParser, RejectsEmbeddedNewline) {
  IncrementalParser p("x");
  auto r = p.ParseLine("process a\nprocess b");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().message(), "x:1:10: expected one line, got a newline");
}

TEST(IncrementalParser, MachineOnlyFirst) {
  IncrementalParser p("x");
  ASSERT_TRUE(p.ParseLine("# comment first is fine").ok());
  ASSERT_TRUE(p.ParseLine("machine cpus=2").ok());
  EXPECT_FALSE(p.ParseLine("machine cpus=2").ok());
}

// ---------------------------------------------------------------------------
// Round trip: every good input of this file prints and re-parses unchanged.

std::vector<std::string> GoodInputs() {
  return {
      "machine thp=always thp_defrag=defer+madvise thp_use_zero_page=0\nprocess p",
      "machine thp_defrag=never thp_use_zero_page=1",
      "process p\np: madvise 0x1000 4K willneed\nexpect 0\np: madvise 0x1000 4K 99\n"
      "p: madvise 0x1000 4K -5\np: mlock 0x1000 4K onfault\nexpect -1 ENOMEM\n"
      "p: munlock 0x1000 4K\np: mlockall current,future,onfault\np: mlockall 12\n"
      "p: mlockall future\np: munlockall\nexpect 0",
      std::string(kRace) +
          "together\n"
          "  reader: process_vm_readv target [0x20000:8K] [0x10000:8K]\n"
          "  target: munmap 0x10000 8K\n"
          "  expect 0\n"
          "end\n"
          "together schedule=3.1-17.0\n  reader: load 0x20000 4\n  expect \"abcd\"\nend\n"
          "together random seed=7\n  reader: store 0x20000 \"x\"\nend\n"
          "together schedule=0\n  target: exit\nend\n"
          "schedule reader cpu=0\nshow cpus",
      std::string(kRace) +
          "explore all preemptions=3\n"
          "  together\n"
          "    reader: process_vm_readv target [0x20000:8K] [0x10000:8K]\n"
          "    expect 8K\n"
          "    target: munmap 0x10000 8K\n"
          "  end\n"
          "  expect-mem reader 0x20000 repeat(4,0)\n"
          "  show cpus\n"
          "  expect-same reader 0x20000 reader 0x20000 4\n"
          "  expect-always reader=8K target=0 or reader=4K or reader=EFAULT or deadlock\n"
          "  expect-sometimes reader=8K target=0\n"
          "  expect-never check-failed\n"
          "  expect-never reader=SIGSEGV or reader=\"ab\" or reader=hex:00ff or "
          "reader=repeat(4K,0) or reader=pattern(8)\n"
          "end\n"
          "explore all\n  together\n    reader: load 0x20000 1\n  end\nend\n"
          "explore random 100 seed=5\n  together\n    reader: load 0x20000 1\n  end\nend\n"
          "explore random 1\n  together\n    reader: load 0x20000 1\n  end\nend\n"
          "explore pct 1000 depth=3 seed=9\n  together\n    reader: load 0x20000 1\n  end\n"
          "  expect-always reader=\"\\0\"\nend\n"
          "explore pct 10\n  together\n    reader: fork kid\n  end\nend",
      "process p cpu=3 uid=5\nthread t of p cpu=1\nkthread k cpu=63\nschedule t cpu=0",
      "machine memory=1G cpus=4 tlb=small seed=42",
      "machine memory=0x40002000",
      "machine",
      "let X = 0x100000000000+38*4K+100\nlet Y = X-1\nlet Z = 4K",
      "let a = 0\nlet b = 1\nlet c = 0xffffffffffffffff",
      "process p\nprocess q uid=1000 gid=1000 caps=none dumpable=0\n"
      "process r ruid=1 euid=2 suid=3 rgid=4 egid=5 sgid=6 caps=cap_chown,cap_sys_ptrace,cap_bpf\n"
      "process s uid=4294967295",
      "process p\nthread t of p\nkthread k",
      "file f size=4K\nfile g size=6K data=\"hello\\n\" readonly\nfile h size=8K data=repeat(8K,65)\n"
      "file i size=16 data=hex:000102030405060708090a0b0c0d0e0f\nfile j size=1M data=pattern(64K)",
      "file f size=64K\nprocess p\np: mmap 0x7f0000000000 64K r-x shared,fixed,noreplace,populate,"
      "growsdown,noreserve file=f offset=0x1000\nexpect 0x7f0000000000\n"
      "p: mmap 0 1 --- private\nexpect -1 EINVAL\np: mmap 1 0xffffffffffffffff -wx shared,anon\n"
      "expect -1 ENOMEM",
      "process p\np: munmap 0x1000 4097\nexpect 0\np: mprotect 0x1000 4K rwx\nexpect -1 EACCES",
      "process p\np: store 0x1000 \"a\\n\\t\\\\\\\"\\x41\\0\\r\\x7f\"\nexpect 0\n"
      "p: store 0x1000 hex:00ff3a\nexpect SIGSEGV\np: store 0x1000 repeat(4K,0x5a)\nexpect SIGBUS\n"
      "p: store 0x1000 pattern(16)\np: store 0 \"\"\np: store 0 \"caf\xc3\xa9 \\x80\\x81\"",
      "process p\np: fill 0x1000 4K 0xab\nexpect 0\np: fill 0x1000 4K pattern\n"
      "p: load 0x1000 16\nexpect pattern(16)\np: load 0 3\nexpect \"abc\"\np: load 0 2\n"
      "expect hex:fffe",
      "process a\nprocess b\nthread t of b\nkthread k\n"
      "a: process_vm_readv b [0x1000:4K, 0x3000:8] [0x2000:4104]\nexpect 4104\n"
      "a: process_vm_writev t [] raw(0xdead0000,1025) flags=-1\nexpect -1 EINVAL\n"
      "a: process_vm_readv -1 raw(0,0) [] flags=0x7fffffff\nexpect -1 ESRCH\n"
      "a: process_vm_readv 12345 [] [] flags=-0x8000000000000000\n"
      "a: process_vm_writev k [0:0] [0xffffffffffffffff:0xffffffffffffffff]",
      "process p\np: fork c\nexpect 2\nc: exit\np: reap c\nexpect 2\np: setresuid -1 1000 -1\n"
      "expect 0\np: setresgid 1 2 3\nexpect -1 EPERM\np: capset none\nexpect 0\n"
      "p: capset cap_kill,cap_setuid\np: capset all\np: dumpable 0\nexpect 0\np: dumpable 1",
      "process p\nprocess q\nexpect-mem p 0x1000 \"x\"\nexpect-mem q 0 repeat(1G,0)\n"
      "expect-same p 0x1000 q 0x2000 4K",
      "process p\nshow maps p\nshow pagetable p\nshow pagetable p 0x1000\n"
      "show pagemap p 0x1000 8K\nshow tlb\nshow tlb 3\nshow page 0x100\nshow buddy\nshow vmstat",
      "fail fail_page_alloc nth=3 times=2 probability=0.25\nfail failslab\n"
      "fail x probability=1\nfail y probability=0\nfail z probability=0.000000001\n"
      "fail w probability=0.999999999\ntrace off\ntrace calls\ntrace full",
      "sleep 1ms\nsleep 999ms\nsleep 1s\nsleep 3600s",
      // State checks.
      "let B = 0x7000\nprocess p\nmark before\n"
      "expect pte p B present,writable,user,accessed,!dirty,!saved_dirty,!global,nx pfn=0x1234 as a\n"
      "expect pte p B+4K none,!swap,!protnone,!zero pfn!=a\n"
      "expect pte p 0 as b\n"
      "expect page a refcount=3 mapcount=2 flags=anon,lru,!dirty,!locked,swapbacked\n"
      "expect page at p B flags=buddy,!table,!slab\nexpect page 7 mapcount=0\n"
      "expect tlb 0 p B cached\nexpect tlb 63 p 0 absent\n"
      "expect tlb 1 hits +17 since before\nexpect tlb 0 misses 0\nexpect tlb 0 walks -1 since before\n"
      "expect vmstat pgfault +3 since before\nexpect vmstat nr_free_pages 100\n"
      "expect vma p B start=B end=B+8K prot=rw- flags=rd,wr,!ex,mr,mw,me,ac\nexpect vma p 0 none\n"
      "expect fault p addr=B error=P|W|U\nexpect fault cpu 1 error=0\nexpect fault p none\n"
      "expect fault cpu 0 addr=0xffff888000000000 error=RSVD|I|PK|SS|SGX\n",
  };
}

TEST(ParserRoundTrip, PrintThenParseGivesTheSameAst) {
  for (const std::string& in : GoodInputs()) {
    SCOPED_TRACE(in);
    Scenario a = MustParse(in);
    ASSERT_FALSE(a.statements.empty());
    const std::string printed = FormatScenario(a);
    absl::StatusOr<Scenario> b = ParseScenario(printed, "printed.mms");
    ASSERT_TRUE(b.ok()) << b.status() << "\n" << printed;
    ASSERT_EQ(a.statements.size(), b->statements.size()) << printed;
    for (size_t i = 0; i < a.statements.size(); ++i) {
      EXPECT_TRUE(SameIgnoringPos(a.statements[i], b->statements[i]))
          << FormatStatement(a.statements[i]) << "\nvs\n" << FormatStatement(b->statements[i]);
    }
    EXPECT_EQ(FormatScenario(*b), printed);
  }
}

TEST(Parser, NestingLimitIsExact) {
  const std::string open(kMaxNesting, '('), close(kMaxNesting, ')');
  EXPECT_TRUE(ParseScenario("let X = " + open + "1" + close + "\n", "t.mms").ok());
  EXPECT_TRUE(ParseScenario("let X = " + std::string(kMaxNesting, '-') + "1\n", "t.mms").ok());
  EXPECT_FALSE(ParseScenario("let X = -" + open + "1" + close + "\n", "t.mms").ok());
}

}  // namespace
}  // namespace sim::scenario
