// tests/host/host_runner_test.cc: `mmsim --host` / `--compare` (sim/host) on the machine's
// own kernel: the faults it reports, its clash check, its markers and exit statuses.
#include <cstdint>
#include <sstream>
#include <string>

#include "absl/strings/str_format.h"
#include "gtest/gtest.h"
#include "sim/host/compare.h"
#include "sim/host/host_runner.h"

namespace sim::host {
namespace {

struct Result {
  int status;
  std::string out, err;
};

Result RunIt(Mode mode, const std::string& text) {
  std::ostringstream out, err;
  int status = RunHostMode(mode, text, "t.mms", out, err);
  return {status, out.str(), err.str()};
}

TEST(HostRunnerTest, FaultsAreReportedLikeTheSimulatorReportsThem) {
  const std::string text =
      "process p\n"
      "p: mmap 0x500000 4K r-- private,anon,fixed\n"
      "expect 0x500000\n"
      "p: store 0x500000+5 \"x\"\n"           // a write to a read-only page, not populated
      "expect SIGSEGV\n"
      "p: load 0x600000 1\n"                   // nothing mapped there
      "expect SIGSEGV\n"
      "p: load 0x500000 4\n"
      "expect hex:00000000\n";
  Result r = RunIt(Mode::kHost, text);
  EXPECT_EQ(r.status, 0) << r.out << r.err;
  EXPECT_NE(r.out.find("[4] p: store 0x500005 \"x\" = SIGSEGV at 0x500005 (error code 0x6)"), std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("[6] p: load 0x600000 1 = SIGSEGV at 0x600000 (error code 0x4)"), std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("# host: process_vm_readv on a child:"), std::string::npos) << r.out;
  // And the simulator says the same.
  Result c = RunIt(Mode::kCompare, text);
  EXPECT_EQ(c.status, 0) << c.out << c.err;
  EXPECT_NE(c.out.find("# compare t.mms: 5 agree, 0 differ"), std::string::npos) << c.out;
}

TEST(HostRunnerTest, ThreadsForkExitReapAndTransfersAreReal) {
  const std::string text =
      "process app uid=1000 gid=1000 caps=none\n"
      "thread worker of app\n"
      "process dbg\n"
      "app: mmap 0x7f0000000000 64K rw- private,anon\n"
      "expect 0x7f0000000000\n"
      "worker: store 0x7f0000000000+100 \"from the worker\"\n"
      "expect 0\n"
      "dbg: mmap 0x500000 4K rw- private,anon\n"
      "expect 0x500000\n"
      "dbg: process_vm_readv worker [0x500000:15] [0x7f0000000064:15]\n"
      "expect 15\n"
      "expect-mem dbg 0x500000 \"from the worker\"\n"
      "app: process_vm_readv dbg [0x7f0000000000:4] [0x500000:4]\n"
      "expect -1 EPERM\n"
      "app: fork kid\n"
      "kid: exit\n"
      "app: reap kid\n";
  Result r = RunIt(Mode::kCompare, text);
  if (r.status == kExitHostCannotRun) GTEST_SKIP() << r.out;
  EXPECT_EQ(r.status, 0) << r.out << r.err;
  EXPECT_NE(r.out.find("0 differ, 0 skipped"), std::string::npos) << r.out;
}

TEST(HostRunnerTest, AnExpectationTheKernelBreaksFailsTheHostRun) {
  Result r = RunIt(Mode::kHost,
                   "process p\n"
                   "p: mmap 0x500000 4K rw- private,anon,fixed\n"
                   "expect -1 ENOMEM\n");
  EXPECT_EQ(r.status, 1) << r.out;
  EXPECT_NE(r.out.find("t.mms:3: expectation failed: expected -1 ENOMEM, got 5242880"), std::string::npos)
      << r.out;
}

TEST(HostRunnerTest, AMappingOverTheHostsOwnIsSkippedWithTheClash) {
  // This test's own code is mapped in every host server (they are forked from it).
  const uint64_t page = reinterpret_cast<uint64_t>(&RunIt) & ~uint64_t{0xfff};
  const std::string text = absl::StrFormat(
      "process p\n"
      "p: mmap %#x 4K rw- private,anon,fixed\n"
      "expect %#x\n",
      page, page);
  Result r = RunIt(Mode::kHost, text);
  EXPECT_EQ(r.status, 0) << r.out;
  EXPECT_NE(r.out.find("# skipped on the host: the range clashes with the host's own mapping:"),
            std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("[3] expect"), std::string::npos) << r.out;
}

TEST(HostRunnerTest, MarkersSkipOrExcuse) {
  Markers m = ReadMarkers("# intro\n# host: sim-only views only\nprocess p\n  # host: deviation  a reason \n");
  EXPECT_EQ(m.sim_only, "views only");
  EXPECT_EQ(m.deviation, "a reason");
  Result r = RunIt(Mode::kCompare, "# host: sim-only needs fault injection\nprocess p\n");
  EXPECT_EQ(r.status, kExitHostCannotRun);
  EXPECT_NE(r.out.find("skipped: simulator-only (needs fault injection)"), std::string::npos) << r.out;
}

TEST(HostRunnerTest, SimulatorOnlyStatementsAreSkippedByLine) {
  Result r = RunIt(Mode::kCompare,
                   "machine cpus=1\n"
                   "process p\n"
                   "show maps p\n"
                   "kthread k\n"
                   "p: process_vm_readv k [0x500000:8] [0x1000:8]\n"
                   "expect -1 ESRCH\n");
  EXPECT_EQ(r.status, 0) << r.out;
  EXPECT_NE(r.out.find("t.mms:1: skipped on the host: the host has its own memory"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("t.mms:3: skipped on the host: views are the simulator's"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("t.mms:5: skipped on the host: 'k' is a kernel thread"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("t.mms:6: skipped on the host: the statement it checks was skipped"), std::string::npos)
      << r.out;
}

// `show smaps TASK ADDR LEN` is the simulator's view, but the skip line carries the host's
// AnonHugePages for the range: a written MADV_HUGEPAGE region is THP-backed on a host with
// THP enabled=madvise or always (skipped elsewhere).
TEST(HostRunnerTest, ShowSmapsReportsTheHostsAnonHugePages) {
  const HostEnv env = ReadHostEnv();
  if (env.thp != "madvise" && env.thp != "always")
    GTEST_SKIP() << "the host cannot do THP: transparent_hugepage=" << env.thp;
  Result r = RunIt(Mode::kHost,
                   "process p\n"
                   "p: mmap 0x40000000 2M rw- private,anon\n"
                   "p: madvise 0x40000000 2M hugepage\n"
                   "p: fill 0x40000000 2M pattern\n"
                   "show smaps p 0x40000000 4K\n"
                   "p: munmap 0x40001000 4K\n"
                   "show smaps p 0x40000000 4K\n");
  EXPECT_EQ(r.status, 0) << r.out << r.err;
  // The fault may fall back to 4 KiB pages when the host has no free 2 MiB block.
  if (r.out.find("[5] show smaps p 0x40000000 4K  # skipped on the host: views are the simulator's (the host's smaps: "
                 "AnonHugePages 0 kB)") != std::string::npos)
    GTEST_SKIP() << "the host gave the region no huge page\n" << r.out;
  EXPECT_NE(r.out.find("[5] show smaps p 0x40000000 4K  # skipped on the host: views are the simulator's (the host's smaps: "
                       "AnonHugePages 2048 kB)"),
            std::string::npos)
      << r.out;
  // The partial munmap split the PMD: PTE-mapped, no longer counted.
  EXPECT_NE(r.out.find("[7] show smaps p 0x40000000 4K  # skipped on the host: views are the simulator's (the host's smaps: "
                       "AnonHugePages 0 kB)"),
            std::string::npos)
      << r.out;
}

// The state checks read the simulator's page tables, struct pages, TLBs and counters; the
// host's are others: each is skipped by line with that reason, never silently.
TEST(HostRunnerTest, StateChecksAreSimulatorOnly) {
  Result r = RunIt(Mode::kCompare,
                   "process p\n"
                   "mark m\n"
                   "p: mmap 0x500000 4K rw- private,anon\n"
                   "expect 0x500000\n"
                   "p: store 0x500000 \"x\"\n"
                   "expect pte p 0x500000 present,writable\n"
                   "expect vmstat pgfault +1 since m\n"
                   "expect vma p 0x500000 prot=rw-\n");
  EXPECT_EQ(r.status, 0) << r.out << r.err;
  EXPECT_NE(r.out.find("t.mms:2: skipped on the host: counters are the simulator's"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("t.mms:6: skipped on the host: state checks (pte, page, tlb, vmstat, vma, fault) are "
                       "the simulator's"),
            std::string::npos)
      << r.out;
  // --compare says a repeated reason once.
  EXPECT_NE(r.out.find("t.mms:7: skipped on the host: as above"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("t.mms:8: skipped on the host: as above"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("3 agree, 0 differ, 4 skipped on the host"), std::string::npos) << r.out;
}

TEST(HostRunnerTest, TheIovecArraysGoWhereTheSimulatorPutsThem) {
  EXPECT_EQ(IovecArrayAddress(), Machine::kIovecBase);
}

// A together block runs once on the host, its operations sent to their tasks together;
// the expects inside it judge each operation's result.
TEST(HostRunnerTest, ATogetherBlockRunsOnceWithItsExpects) {
  const std::string text =
      "process p\n"
      "process q\n"
      "p: mmap 0x10000000 4K rw- private,anon,fixed\n"
      "q: mmap 0x20000000 4K rw- private,anon,fixed\n"
      "together\n"
      "  p: store 0x10000000 \"ab\"\n"
      "  expect 0\n"
      "  q: load 0x20000000 2\n"
      "  expect hex:0000\n"
      "end\n"
      "p: load 0x10000000 2\n"
      "expect \"ab\"\n";
  Result r = RunIt(Mode::kHost, text);
  EXPECT_EQ(r.status, 0) << r.out << r.err;
  EXPECT_NE(r.out.find("[6] p: store 0x10000000 \"ab\" = 0\n[7] expect 0 ok\n"
                       "[8] q: load 0x20000000 2 = hex:0000\n[9] expect hex:0000 ok\n"
                       "[10] end = one run on the host\n"),
            std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("[12] expect \"ab\" ok"), std::string::npos) << r.out;  // the block's effect stays
  // A wrong expect inside the block fails the host run.
  std::string bad = text;
  bad.replace(bad.find("expect hex:0000"), 15, "expect hex:0001");
  Result b = RunIt(Mode::kHost, bad);
  EXPECT_EQ(b.status, 1) << b.out;
  EXPECT_NE(b.out.find("t.mms:9: expectation failed: expected hex:0001, got hex:0000"), std::string::npos)
      << b.out;
  // --compare: the simulator's schedule gives the same results here.
  Result c = RunIt(Mode::kCompare, text);
  EXPECT_EQ(c.status, 0) << c.out << c.err;
  EXPECT_NE(c.out.find("0 differ, 0 skipped"), std::string::npos) << c.out;
}

// An explore block runs once on the host: expect-always / expect-never are judged on that
// one outcome, expect-sometimes is undecided, and what follows is skipped (the simulator
// is back before the block; the host is not).
TEST(HostRunnerTest, AnExploreBlockIsOneSampleOnTheHost) {
  const std::string text =
      "process p\n"
      "p: mmap 0x10000000 4K rw- private,anon,fixed\n"
      "explore all\n"
      "  together\n"
      "    p: load 0x10000000 1\n"
      "  end\n"
      "  expect-always p=hex:00\n"
      "  expect-sometimes p=hex:00\n"
      "  expect-never p=SIGSEGV\n"
      "end\n"
      "p: load 0x10000000 1\n";
  Result r = RunIt(Mode::kHost, text);
  EXPECT_EQ(r.status, 0) << r.out << r.err;
  EXPECT_NE(r.out.find("[7] expect-always p=hex:00 ok (in the host's run)"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("[8] expect-sometimes p=hex:00  # held in the host's run (one run cannot decide"),
            std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("[9] expect-never p=SIGSEGV ok (in the host's run)"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("[11] p: load 0x10000000 1  # skipped on the host: after the explore block at line 3"),
            std::string::npos)
      << r.out;
  std::string bad = text;
  bad.replace(bad.find("expect-never p=SIGSEGV"), 22, "expect-never p=hex:00 ");
  Result b = RunIt(Mode::kHost, bad);
  EXPECT_EQ(b.status, 1) << b.out;
  EXPECT_NE(b.out.find("t.mms:9: expectation failed: expect-never p=hex:00, but the host's run satisfies it"),
            std::string::npos)
      << b.out;
  Result c = RunIt(Mode::kCompare, text);
  EXPECT_EQ(c.status, 0) << c.out << c.err;
}

// --compare puts the host's run beside every outcome the simulator found: a run that is
// none of them is a difference. Here the stated overlapping-copy deviation makes the
// host's expect-mem fail where every simulated outcome's holds.
TEST(HostRunnerTest, CompareFindsAHostRunTheSimulatorNeverProduces) {
  const std::string text =
      "let X = 0x10000000\n"
      "process p\n"
      "p: mmap X 4K rw- private,anon,fixed\n"
      "p: store X \"ABCDEFGHIJKLMNOPQ\"\n"
      "explore all\n"
      "  together\n"
      "    p: process_vm_readv p [X+1:16] [X:16]\n"
      "  end\n"
      "  expect-mem p X \"AABCDEFGHIJKLMNOP\"\n"
      "end\n";
  Result c = RunIt(Mode::kCompare, text);
  EXPECT_EQ(c.status, 1) << c.out << c.err;
  EXPECT_NE(c.out.find("t.mms:10: the host's run is none of the simulator's 1 outcomes\n"
                       "  host: #checks = failed, p = 16\n"
                       "  sim outcome 1: #checks = ok, p = 16\n"),
            std::string::npos)
      << c.out;
}

}  // namespace
}  // namespace sim::host
