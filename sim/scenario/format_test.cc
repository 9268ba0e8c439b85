#include "sim/scenario/format.h"

#include <sys/mman.h>

#include <string>

#include "gtest/gtest.h"
#include "sim/scenario/ast.h"
#include "sim/scenario/parser.h"

namespace sim::scenario {
namespace {

// The AST's bit values are the kernel's.
static_assert(Prot::kRead == PROT_READ && Prot::kWrite == PROT_WRITE && Prot::kExec == PROT_EXEC);
static_assert(MmapFlags::kShared == MAP_SHARED && MmapFlags::kPrivate == MAP_PRIVATE);
static_assert(MmapFlags::kFixed == MAP_FIXED && MmapFlags::kAnonymous == MAP_ANONYMOUS);
static_assert(MmapFlags::kGrowsdown == MAP_GROWSDOWN && MmapFlags::kNoreserve == MAP_NORESERVE);
static_assert(MmapFlags::kPopulate == MAP_POPULATE);
static_assert(MmapFlags::kFixedNoreplace == 0x100000);  // MAP_FIXED_NOREPLACE (Linux 4.17)

// Parses `text` and prints it back canonically.
std::string Canon(const std::string& text) {
  absl::StatusOr<Scenario> s = ParseScenario(text, "f.mms");
  EXPECT_TRUE(s.ok()) << s.status();
  return s.ok() ? FormatScenario(*s) : "";
}

TEST(Format, Pieces) {
  EXPECT_EQ(FormatSize(0), "0");
  EXPECT_EQ(FormatSize(4096), "4K");
  EXPECT_EQ(FormatSize(4097), "4097");
  EXPECT_EQ(FormatSize(3u << 20), "3M");
  EXPECT_EQ(FormatSize(uint64_t{5} << 30), "5G");
  EXPECT_EQ(FormatSize(uint64_t{2048} << 30), "0x20000000000");
  EXPECT_EQ(FormatSize((uint64_t{1} << 30) + 8192), "0x40002000");
  EXPECT_EQ(FormatSize(100000), "0x186a0");
  EXPECT_EQ(FormatAddr(0x7f0000000000), "0x7f0000000000");
  EXPECT_EQ(FormatAddr(0), "0x0");
  EXPECT_EQ(FormatProt(Prot{0}), "---");
  EXPECT_EQ(FormatProt(Prot{Prot::kRead | Prot::kExec}), "r-x");
  EXPECT_EQ(FormatMmapFlags(MmapFlags{MmapFlags::kAnonymous | MmapFlags::kPrivate |
                                      MmapFlags::kNoreserve}),
            "private,anon,noreserve");
  EXPECT_EQ(FormatCaps(CapSet{CapSet::kAll}), "all");
  EXPECT_EQ(FormatCaps(CapSet{0}), "none");
  EXPECT_EQ(FormatCaps(CapSet{(uint64_t{1} << 19) | 1}), "cap_chown,cap_sys_ptrace");
}

TEST(Format, Data) {
  EXPECT_EQ(FormatData(DataBytes{"hello\n"}), "\"hello\\n\"");
  EXPECT_EQ(FormatData(DataBytes{""}), "\"\"");
  EXPECT_EQ(FormatData(DataBytes{"q\"b\\"}), "\"q\\\"b\\\\\"");
  EXPECT_EQ(FormatData(DataBytes{std::string("ab\0cd", 5)}), "\"ab\\x00cd\"");
  EXPECT_EQ(FormatData(DataBytes{std::string("\x00\xff\x3a", 3)}), "hex:00ff3a");
  EXPECT_EQ(FormatData(DataRepeat{4096, 0x5a}), "repeat(4K,90)");
  EXPECT_EQ(FormatData(DataPattern{100}), "pattern(100)");
}

TEST(Format, CanonicalStatements) {
  EXPECT_EQ(Canon("machine   seed=7 cpus=2 memory=0x40000000"), "machine memory=1G cpus=2 seed=7\n");
  EXPECT_EQ(Canon("machine swap=0x20000000 memory=1G"), "machine memory=1G swap=512M\n");
  EXPECT_EQ(Canon("show   swaps"), "show swaps\n");
  EXPECT_EQ(Canon("process p\nprocess q\nshow  dot   q p"), "process p\nprocess q\nshow dot q p\n");
  EXPECT_EQ(Canon("let  X=4*1K"), "let X = 4096\n");
  EXPECT_EQ(Canon("process p uid=0 gid=0 caps=all dumpable=1"), "process p\n");
  EXPECT_EQ(Canon("process p euid=1"), "process p ruid=0 euid=1 suid=0\n");
  EXPECT_EQ(Canon("process p uid=5 gid=6 caps=cap_kill dumpable=0"),
            "process p uid=5 gid=6 caps=cap_kill dumpable=0\n");
  EXPECT_EQ(Canon("file f readonly size=8192 data=hex:41"), "file f size=8K data=\"A\" readonly\n");
  EXPECT_EQ(Canon("process p\np : mmap 4096 0x1000 rw- anon , private offset=0"),
            "process p\np: mmap 0x1000 4K rw- private,anon\n");
  EXPECT_EQ(Canon("process p\np: process_vm_readv p [ 1:2 ,3:4 ] raw(5,6) flags=-1"),
            "process p\np: process_vm_readv p [0x1:2, 0x3:4] raw(0x5,6) flags=-1\n");
  EXPECT_EQ(Canon("process p\np: setresuid -1 0xffffffff 7"), "process p\np: setresuid -1 -1 7\n");
  EXPECT_EQ(Canon("process p\np: fill 0 4K 0xff\nexpect -1 EWOULDBLOCK"),
            "process p\np: fill 0x0 4K 255\nexpect -1 EAGAIN\n");
  EXPECT_EQ(Canon("process p\np: madvise 4096 0x1000 4\np: madvise 0x1000 4K 7\n"
                  "p: mlockall onfault ,future\np: mlockall 0x10"),
            "process p\np: madvise 0x1000 4K dontneed\np: madvise 0x1000 4K 7\n"
            "p: mlockall future,onfault\np: mlockall 16\n");
  EXPECT_EQ(Canon("fail x probability=0.2500 nth=1"), "fail x nth=1 probability=0.25\n");
  EXPECT_EQ(Canon("fail x probability=1.0"), "fail x probability=1\n");
  EXPECT_EQ(Canon("show tlb"), "show tlb\n");
  EXPECT_EQ(Canon("process p cpu=1 uid=3\nthread t of p  cpu=0\nschedule t cpu=1\nshow cpus"),
            "process p uid=3 cpu=1\nthread t of p cpu=0\nschedule t cpu=1\nshow cpus\n");
  // Block bodies are indented; options in canonical order; `-1 ERRNO` as a bare name.
  EXPECT_EQ(Canon("process p\nprocess q\n"
                  "together random\np: load 0x1000 4\nexpect \"abcd\"\nq: munmap 4096 4096\nend\n"
                  "explore pct 10 seed=2 depth=3\ntogether\np: load 0x1000 4\nend\n"
                  "expect-mem p 0x1000 \"x\"\n"
                  "expect-sometimes p=-1 EFAULT or deadlock   p=\"ab\"\nend"),
            "process p\nprocess q\n"
            "together random seed=0\n  p: load 0x1000 4\n  expect \"abcd\"\n"
            "  q: munmap 0x1000 4K\nend\n"
            "explore pct 10 depth=3 seed=2\n  together\n    p: load 0x1000 4\n  end\n"
            "  expect-mem p 0x1000 \"x\"\n"
            "  expect-sometimes p=EFAULT or deadlock p=\"ab\"\nend\n");
}

TEST(Format, FormatStatementHasNoNewline) {
  LoadStmt l{{}, "p", 0x1000, 8};
  EXPECT_EQ(FormatStatement(l), "p: load 0x1000 8");
}

}  // namespace
}  // namespace sim::scenario
