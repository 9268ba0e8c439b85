// sim/interpreter_test.cc: the interpreter's contract: echo, expectations, exit status.
#include "sim/interpreter.h"

#include <sstream>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "sim/default_scenario.h"
#include "sim/scenario/parser.h"

namespace sim {
namespace {

struct RunResult {
  int status;
  std::string out, err;
};

RunResult RunText(const std::string& text, InterpreterOptions options = {}) {
  absl::StatusOr<scenario::Scenario> s = scenario::ParseScenario(text, "t.mms");
  EXPECT_TRUE(s.ok()) << s.status();
  std::ostringstream out, err;
  Interpreter interp(options, out, err);
  int status = interp.Run(*s);
  return {status, out.str(), err.str()};
}

TEST(Interpreter, DefaultScenarioHoldsEveryExpectationUnderDebugVm) {
  InterpreterOptions options;
  options.check_vm = true;
  RunResult r = RunText(kDefaultScenario, options);
  EXPECT_EQ(r.status, kExitOk) << r.out << r.err;
  EXPECT_NE(r.out.find("= 4096"), std::string::npos);   // the partial transfer
  EXPECT_NE(r.out.find("= -1 EPERM"), std::string::npos);  // the refusal
  EXPECT_NE(r.out.find("process_vm_rw_core("), std::string::npos);  // the trace
  EXPECT_NE(r.out.find("[stack]"), std::string::npos);  // show maps
}

TEST(Interpreter, SameScenarioSameBytes) {
  RunResult a = RunText(kDefaultScenario), b = RunText(kDefaultScenario);
  EXPECT_EQ(a.out, b.out);
}

TEST(Interpreter, FailedExpectationExitsOneAndNamesTheLine) {
  RunResult r = RunText(
      "process p\n"
      "p: mmap 0x10000 4K rw- private,anon,fixed\n"
      "expect -1 EINVAL\n");
  EXPECT_EQ(r.status, kExitExpectationFailed);
  EXPECT_NE(r.out.find("t.mms:3: expectation failed: expected -1 EINVAL, got 65536"),
            std::string::npos)
      << r.out;
}

TEST(Interpreter, UserFaultIsASignalNotACrash) {
  RunResult r = RunText(
      "process p\n"
      "p: mmap 0x10000 4K r-- private,anon,fixed\n"
      "p: store 0x10000 \"x\"\n"
      "expect SIGSEGV\n"
      "p: load 0x10000 2\n"
      "expect hex:0000\n");
  EXPECT_EQ(r.status, kExitOk) << r.out << r.err;
}

// `show pagetable P ADDR` shows the x86 6.6+ encoding: SavedDirty on the write-protected
// dirty PTEs fork leaves, and a PROT_NONE entry's frame number stored inverted (L1TF).
TEST(Interpreter, PagetableWalkShowsSavedDirtyAndTheInvertedProtNoneFrame) {
  RunResult r = RunText(
      "process p\n"
      "p: mmap 0x10000 4K rw- private,anon,fixed\n"
      "p: store 0x10000 \"x\"\n"
      "show pagetable p 0x10000\n"
      "p: fork c\n"
      "show pagetable p 0x10000\n"
      "p: mprotect 0x10000 4K ---\n"
      "show pagetable p 0x10000\n");
  ASSERT_EQ(r.status, kExitOk) << r.out << r.err;
  const size_t first = r.out.find("(pfn ");
  ASSERT_NE(first, std::string::npos) << r.out;
  const std::string pfn = r.out.substr(first + 5, r.out.find(')', first) - first - 5);
  const size_t fork = r.out.find("fork c");
  ASSERT_NE(fork, std::string::npos);
  EXPECT_EQ(r.out.find("SavedDirty"), r.out.find("SavedDirty", fork)) << r.out;  // not before
  const size_t saved = r.out.find("ro USR NX A - ", fork);
  ASSERT_NE(saved, std::string::npos) << r.out;
  EXPECT_NE(r.out.find("SavedDirty", saved), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("not present (PROT_NONE, pfn " + pfn + " stored inverted) SavedDirty"),
            std::string::npos)
      << r.out;
}

TEST(Interpreter, UnusableStatementIsARuntimeErrorWithExitThree) {
  // Valid syntax the machine cannot carry out: the inode allocation fails.
  RunResult r = RunText("fail failslab times=1000\nfile f size=4K\nprocess p\n");
  EXPECT_EQ(r.status, kExitRuntimeError);
  EXPECT_NE(r.err.find("t.mms:2: runtime error: cannot create file 'f'"), std::string::npos) << r.err;
  EXPECT_EQ(r.out.find("process p"), std::string::npos) << "the run stops: " << r.out;
  EXPECT_NE(r.out.find("# t.mms: stopped by a runtime error at line 2; 0 expectations failed before it"),
            std::string::npos)
      << r.out;
}

TEST(Interpreter, RuntimeErrorsHaveTheirOwnFormatAndStatus) {
  // show maps of an exited (and reaped) process; a CPU the machine lacks; a name whose
  // fork failed under fault injection; and more below.
  const char* cases[][2] = {
      {"process p\nprocess q\nq: exit\np: reap q\nshow maps q\n", "t.mms:5: runtime error: "},
      {"machine cpus=2\nshow tlb 63\n", "t.mms:2: runtime error: no CPU 63 (the machine has 2: 0..1)"},
      {"process p\nfail fail_page_alloc times=100000\np: fork c\nexpect -1 ENOMEM\np: exit\nc: exit\n",
       "t.mms:6: runtime error: no task 'c'"},
      // A pagemap range past the top of the address space: an error, not an endless loop.
      {"process p\nshow pagemap p 0xfffffffffffff000 0xfff\n",
       "t.mms:2: runtime error: pagemap: the range 0xfffffffffffff000 + 0xfff runs past the top"},
      // The iovec area taken over by a scenario mapping is not used.
      {"process p\np: mmap 0x7e0000000000 4K r-- private,anon,fixed\n"
       "p: process_vm_readv p [0x7f1000000000:6] [0x7f0000000000:6]\n",
       "t.mms:3: runtime error: the iovec area 0x7e0000000000-0x7e0000020000"},
  };
  for (const auto& c : cases) {
    RunResult r = RunText(c[0]);
    EXPECT_EQ(r.status, kExitRuntimeError) << c[0] << r.out << r.err;
    EXPECT_NE(r.err.find(c[1]), std::string::npos) << c[0] << r.err;
    EXPECT_EQ(r.out.find("0 expectations failed\n"), std::string::npos) << r.out;
  }
}

TEST(Interpreter, StepGoesOnAfterARuntimeError) {
  absl::StatusOr<scenario::Scenario> s = scenario::ParseScenario(
      "process p\nshow tlb 63\np: mmap 0x7f0000000000 4K rw- private,anon,fixed\n", "t.mms");
  ASSERT_TRUE(s.ok()) << s.status();
  std::ostringstream out, err;
  Interpreter interp({}, out, err);
  EXPECT_TRUE(interp.Step(s->statements[0]));
  EXPECT_FALSE(interp.Step(s->statements[1]));
  EXPECT_TRUE(interp.Step(s->statements[2]));
  EXPECT_NE(out.str().find("= 0x7f0000000000"), std::string::npos) << out.str();
  EXPECT_EQ(interp.exit_status(), kExitRuntimeError);
}

TEST(Interpreter, ExpectMemReadsWhatProcPidMemReads) {
  // Never-touched anonymous memory reads as zeros (the zero page), PROT_NONE memory is
  // readable (FOLL_FORCE), and only an address with no VMA is "not mapped".
  RunResult r = RunText(
      "process p\n"
      "p: mmap 0x7f0000000000 16K rw- private,anon,fixed\n"
      "expect-mem p 0x7f0000000000 repeat(16K,0)\n"
      "p: store 0x7f0000001000 \"hi\"\n"
      "p: mprotect 0x7f0000001000 8K ---\n"
      "expect-mem p 0x7f0000000ffe hex:0000 \n"
      "expect-mem p 0x7f0000001000 \"hi\"\n"
      "process q\n"
      "expect-same p 0x7f0000002000 q 0x7ffffffef000 4K\n"
      "expect-mem p 0x7f0000004000 hex:00\n");
  EXPECT_EQ(r.status, kExitExpectationFailed) << r.out << r.err;
  EXPECT_NE(r.out.find("[3] expect-mem p 0x7f0000000000 repeat(16K,0) = ok"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("[7] expect-mem p 0x7f0000001000 \"hi\" = ok"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("4K = ok"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("t.mms:10: expectation failed: expected hex:00, got address 0x7f0000004000 is not mapped"),
            std::string::npos)
      << r.out;
  EXPECT_EQ(r.out.find("1 expectation failed"), r.out.rfind("1 expectation failed")) << r.out;
}

TEST(Interpreter, IovecArraysGoToTheirOwnAreaNotTheStack) {
  // User data at the top of the stack survives a process_vm_readv with explicit lists
  // (raw on one side, too), and a caller without a stack can still call.
  RunResult r = RunText(
      "process p\n"
      "process q\n"
      "q: mmap 0x7f0000000000 4K rw- private,anon,fixed\n"
      "q: store 0x7f0000000000 \"secret\"\n"
      "p: fill 0x7ffffffef000 64K 0x5a\n"
      "p: mmap 0x7f1000000000 4K rw- private,anon,fixed\n"
      "p: process_vm_readv q [0x7f1000000000:6] [0x7f0000000000:6]\n"
      "expect 6\n"
      "expect-mem p 0x7ffffffef000 repeat(64K,0x5a)\n"
      "expect-mem p 0x7f1000000000 \"secret\"\n"
      "p: munmap 0x7ffffffdf000 128K\n"
      "expect 0\n"
      // The remote array the first call wrote is still there: {0x7f0000000000, 6}.
      "p: process_vm_readv q [0x7f1000000003:3] raw(0x7e0000000010,1)\n"
      "expect 3\n"
      "expect-mem p 0x7f1000000000 \"secsec\"\n"
      "p: process_vm_readv q [0x7f1000000000:3] [0x7f0000000003:3]\n"
      "expect 3\n"
      "expect-mem p 0x7f1000000000 \"retsec\"\n"
      "expect-mem p 0x7e0000000000 hex:00000000107f0000030000000000000003000000007f00000300000000000000\n"
      "show maps p\n");
  EXPECT_EQ(r.status, kExitOk) << r.out << r.err;
  EXPECT_NE(r.out.find("7e0000000000-7e0000020000 rw-p"), std::string::npos) << r.out;
}

TEST(Interpreter, ADeadCallerGetsTheSyscallsAnswerNotARuntimeError) {
  RunResult r = RunText(
      "process p\nprocess q\np: exit\n"
      "p: process_vm_readv q [0x7f1000000000:6] [0x7f0000000000:6]\nexpect -1 ESRCH\n");
  EXPECT_EQ(r.status, kExitOk) << r.out << r.err;
}

TEST(Interpreter, FaultInjectionIsArmedByFailStatements) {
  RunResult r = RunText(
      "process p\n"
      "p: mmap 0x10000 4K rw- private,anon,fixed\n"
      "fail fail_page_alloc times=1000\n"
      "p: store 0x10000 \"x\"\n"
      "expect SIGBUS\n");
  // An allocation failure in a user fault is VM_FAULT_OOM; Linux then runs the OOM
  // killer, which this simulator records as a failed access. Accept either signal but
  // require that the store did fail.
  EXPECT_NE(r.out.find("store 0x10000 \"x\" = SIG"), std::string::npos) << r.out;
}

// ---------------------------------------------------------------------------
// Concurrency: placement, together, explore.

// Two processes on two CPUs: a target with two pages of 'A', a reader with a buffer.
constexpr char kTwoCpus[] =
    "machine cpus=2 memory=16M\n"
    "process target cpu=0\n"
    "process reader cpu=1\n"
    "target: mmap 0x10000 8K rw- private,anon,populate\n"
    "target: fill 0x10000 8K 0x41\n"
    "reader: mmap 0x20000 8K rw- private,anon,populate\n";

TEST(InterpreterBlocks, PlacementShowsInShowCpus) {
  RunResult r = RunText(std::string(kTwoCpus) + "show cpus\nschedule target cpu=1\nshow cpus\n");
  EXPECT_EQ(r.status, kExitOk) << r.out << r.err;
  // Before: target on 0, reader on 1; after `schedule target cpu=1`, CPU 0 is idle.
  const size_t second = r.out.find("[9] show cpus");
  ASSERT_NE(second, std::string::npos) << r.out;
  EXPECT_NE(r.out.substr(0, second).find("\n0   4 target "), std::string::npos) << r.out;
  EXPECT_NE(r.out.substr(0, second).find("\n1   5 reader "), std::string::npos) << r.out;
  EXPECT_NE(r.out.substr(second).find("\n0   idle "), std::string::npos) << r.out;
  EXPECT_NE(r.out.substr(second).find("\n1   4 target "), std::string::npos) << r.out;
}

// `sleep` advances jiffies with no kernel entry, so a lazy CPU is trimmed from mm_cpumask
// by the next flush (should_trim_cpumask) without a thousand calls in between. t2 ran t's
// mm on CPU 1, then o took CPU 1: CPU 1 stays in the mask until a trimming flush.
TEST(InterpreterBlocks, SleepLetsTheNextFlushTrimALazyCpu) {
  const std::string setup =
      "machine cpus=2\nprocess t cpu=0\nthread t2 of t cpu=1\nprocess o cpu=1\n"
      "t: mmap 0x10000000 8K rw- private,anon,fixed\n"
      "t2: store 0x10000000 \"a\"\nt2: store 0x10001000 \"b\"\n"
      "o: mmap 0x20000000 4K rw- private,anon,fixed\n";
  // Without the sleep: the flush skips CPU 1.
  RunResult quick = RunText(setup +
                            "mark m\nt: mprotect 0x10000000 4K r--\n"
                            "expect vmstat nr_tlb_remote_flush +1 since m\n"
                            "expect vmstat nr_tlb_remote_flush_received +0 since m\n");
  EXPECT_EQ(quick.status, kExitOk) << quick.out << quick.err;
  // A second later: the flush is also a trim, and CPU 1 gets the IPI.
  RunResult slept = RunText(setup +
                            "sleep 1s\nsleep 1ms\nmark m\nt: mprotect 0x10000000 4K r--\n"
                            "expect vmstat nr_tlb_remote_flush +1 since m\n"
                            "expect vmstat nr_tlb_remote_flush_received +1 since m\n");
  EXPECT_EQ(slept.status, kExitOk) << slept.out << slept.err;
  EXPECT_NE(slept.out.find("[9] sleep 1s\n[10] sleep 1ms\n"), std::string::npos) << slept.out;
}

TEST(InterpreterBlocks, ACpuTheMachineLacksIsARuntimeError) {
  RunResult r = RunText("machine cpus=2\nprocess p cpu=2\n");
  EXPECT_EQ(r.status, kExitRuntimeError);
  EXPECT_NE(r.err.find("t.mms:2: runtime error: no CPU 2: the machine has 2"), std::string::npos)
      << r.err;
}

TEST(InterpreterBlocks, TogetherPrintsResultsInStatementOrderAndTheSchedule) {
  RunResult r = RunText(std::string(kTwoCpus) +
                        "together\n"
                        "  target: munmap 0x10000 8K\n"
                        "  expect 0\n"
                        "  reader: process_vm_readv target [0x20000:8K] [0x10000:8K]\n"
                        "  expect -1 EFAULT\n"
                        "end\n");
  EXPECT_EQ(r.status, kExitOk) << r.out << r.err;
  // The default schedule runs path 0 (the munmap) to the end first.
  EXPECT_NE(r.out.find("[7] together\n"
                       "[8] target: munmap 0x10000 8K = 0\n"
                       "[9] expect 0 ok\n"
                       "[10] reader: process_vm_readv target [0x20000:8K] [0x10000:8K] = -1 EFAULT\n"
                       "[11] expect -1 EFAULT ok\n"
                       "[12] end = schedule 0 ("),
            std::string::npos)
      << r.out;
}

TEST(InterpreterBlocks, TogetherExpectFailuresAreReportedAfterTheBlock) {
  RunResult r = RunText(std::string(kTwoCpus) +
                        "together\n"
                        "  reader: process_vm_readv target [0x20000:8K] [0x10000:8K]\n"
                        "  expect 4K\n"
                        "  target: munmap 0x10000 8K\n"
                        "end\n");
  EXPECT_EQ(r.status, kExitExpectationFailed);
  EXPECT_NE(r.out.find("t.mms:9: expectation failed: expected 4096, got 8192"), std::string::npos)
      << r.out;
}

// Finds the schedule in `out`'s "end = schedule ID (" line.
std::string ScheduleOf(const std::string& out) {
  const size_t at = out.find("end = schedule ");
  if (at == std::string::npos) return "";
  const size_t start = at + 15;
  return out.substr(start, out.find(' ', start) - start);
}

TEST(InterpreterBlocks, AScheduleReplaysAndRandomSeedsAreDeterministic) {
  const std::string body =
      "  reader: process_vm_readv target [0x20000:8K] [0x10000:8K]\n"
      "  target: munmap 0x10000 8K\n"
      "end\n";
  // Explore finds the schedule where the munmap runs first; replaying it gives EFAULT.
  RunResult e = RunText(std::string(kTwoCpus) + "explore all\n  together\n" + body +
                        "  expect-sometimes reader=EFAULT\nend\n");
  const size_t at = e.out.find("[9] reader = -1 EFAULT");
  ASSERT_NE(at, std::string::npos) << e.out;
  const size_t id_at = e.out.rfind("--schedule=", at);
  ASSERT_NE(id_at, std::string::npos);
  const std::string id = e.out.substr(id_at + 11, e.out.find('\n', id_at) - id_at - 11);
  RunResult r = RunText(std::string(kTwoCpus) + "together schedule=" + id + "\n" + body);
  EXPECT_EQ(r.status, kExitOk) << r.out << r.err;
  EXPECT_NE(r.out.find("[8] reader: process_vm_readv target [0x20000:8K] [0x10000:8K] = -1 EFAULT"),
            std::string::npos)
      << r.out;
  EXPECT_EQ(ScheduleOf(r.out), id);
  // The same through options.schedule (--schedule), overriding the block's own policy.
  InterpreterOptions options;
  options.schedule = id;
  RunResult f = RunText(std::string(kTwoCpus) + "together\n" + body, options);
  EXPECT_EQ(ScheduleOf(f.out), id) << f.out;
  EXPECT_NE(f.out.find("[cpu1 reader:5] process_vm_rw("), std::string::npos)
      << "a full trace, each line tagged with its CPU and task:\n" << f.out;
  EXPECT_NE(f.out.find("[cpu0 target:4] do_vmi_munmap("), std::string::npos) << f.out;
  // A random schedule is a function of its seed.
  const std::string random = std::string(kTwoCpus) + "together random seed=11\n" + body;
  EXPECT_EQ(RunText(random).out, RunText(random).out);
}

constexpr char kExploreRace[] =
    "explore all preemptions=2\n"
    "  together\n"
    "    reader: process_vm_readv target [0x20000:8K] [0x10000:8K]\n"
    "    target: munmap 0x10000 8K\n"
    "  end\n";

TEST(InterpreterBlocks, ExploreListsTheOutcomesWithCountsAndIds) {
  const std::string text = std::string(kTwoCpus) + kExploreRace +
                           "  expect-always reader=8K or reader=EFAULT\n"
                           "  expect-always target=0\n"
                           "  expect-sometimes reader=8K\n"
                           "  expect-sometimes reader=EFAULT\n"
                           "  expect-never reader=4K or deadlock\n"
                           "end\n"
                           "show maps target\n";
  RunResult r = RunText(text);
  EXPECT_EQ(r.status, kExitOk) << r.out << r.err;
  EXPECT_NE(r.out.find("every schedule with at most 2 preemptions: 2 outcomes"), std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("[9] reader = -1 EFAULT\n[10] target = 0\n"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("# outcome 2 of 2: "), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("e.g. --schedule=0\n[9] reader = 8192\n[10] target = 0\n"),
            std::string::npos)
      << r.out;
  for (int line : {12, 13, 14, 15, 16}) {
    EXPECT_NE(r.out.find(absl::StrCat("[", line, "] expect-")), std::string::npos) << line;
  }
  EXPECT_EQ(r.out.find("FAILED"), std::string::npos) << r.out;
  // The explored runs happened on fresh machines: the target still maps its pages.
  EXPECT_NE(r.out.find("00010000-00012000 rw-p"), std::string::npos) << r.out;
  // The counts add up to the schedules run, and the same scenario gives the same bytes.
  const size_t total = r.out.find("[7] explore all preemptions=2\n# ");
  const size_t first = r.out.find("# outcome 1 of 2: ");
  const size_t second = r.out.find("# outcome 2 of 2: ");
  ASSERT_NE(total, std::string::npos) << r.out;
  ASSERT_NE(first, std::string::npos);
  ASSERT_NE(second, std::string::npos);
  EXPECT_EQ(std::stoul(r.out.substr(first + 18)) + std::stoul(r.out.substr(second + 18)),
            std::stoul(r.out.substr(total + 32)));
  EXPECT_EQ(r.out, RunText(text).out);
}

TEST(InterpreterBlocks, FailedOutcomeAssertionsExitOne) {
  RunResult r = RunText(std::string(kTwoCpus) + kExploreRace +
                        "  expect-always reader=8K\n"
                        "  expect-never reader=EFAULT target=0\n"
                        "  expect-sometimes reader=4K\n"
                        "end\n");
  EXPECT_EQ(r.status, kExitExpectationFailed);
  EXPECT_NE(r.out.find("t.mms:12: expectation failed: expected every outcome with reader=8192, "
                       "got outcome 1 (--schedule="),
            std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("t.mms:13: expectation failed: expected no outcome with reader=EFAULT "
                       "target=0, got outcome 1 (--schedule="),
            std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("t.mms:14: expectation failed: expected an outcome with reader=4096, got "
                       "none of the 2"),
            std::string::npos)
      << r.out;
}

TEST(InterpreterBlocks, FailedChecksFailUnlessAnAssertionNamesThem) {
  const std::string checks = std::string(kTwoCpus) + kExploreRace +
                             "  expect-mem reader 0x20000 \"AA\"\n";
  RunResult bare = RunText(checks + "end\n");
  EXPECT_EQ(bare.status, kExitExpectationFailed);
  EXPECT_NE(bare.out.find("[12] expect-mem FAILED: expected \"AA\", got hex:0000"),
            std::string::npos)
      << bare.out;
  EXPECT_NE(bare.out.find("t.mms:7: expectation failed: expected every check to hold (or an "
                          "expect-* line that names check-failed)"),
            std::string::npos)
      << bare.out;
  RunResult named =
      RunText(checks + "  expect-sometimes check-failed\n  expect-always check-failed or "
                       "reader=8K\nend\n");
  EXPECT_EQ(named.status, kExitOk) << named.out;
}

TEST(InterpreterBlocks, AnExpectInTheExploredBlockIsACheckOfEveryRun) {
  RunResult r = RunText(std::string(kTwoCpus) +
                        "explore all\n"
                        "  together\n"
                        "    reader: process_vm_readv target [0x20000:8K] [0x10000:8K]\n"
                        "    expect 8K\n"
                        "    target: munmap 0x10000 8K\n"
                        "  end\n"
                        "  expect-always check-failed reader=EFAULT or reader=8K\n"
                        "end\n");
  EXPECT_EQ(r.status, kExitOk) << r.out;
  EXPECT_NE(r.out.find("[9] reader = -1 EFAULT\n[10] expect FAILED: expected 8192, got -1 EFAULT\n"),
            std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("[9] reader = 8192\n[10] expect ok\n"), std::string::npos) << r.out;
}

TEST(InterpreterBlocks, ShardsSplitTheSchedulesAndDoNotJudgeSometimes) {
  const std::string text = std::string(kTwoCpus) + kExploreRace +
                           "  expect-sometimes reader=4K\n"
                           "  expect-never deadlock\n"
                           "end\n";
  uint64_t total = 0;
  for (int shard = 0; shard < 3; ++shard) {
    InterpreterOptions options;
    options.shard_index = shard;
    options.shard_count = 3;
    RunResult r = RunText(text, options);
    EXPECT_EQ(r.status, kExitOk) << r.out;
    EXPECT_NE(r.out.find(absl::StrCat("(shard ", shard, " of 3)")), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("[12] expect-sometimes reader=4096 not checkable on one shard"),
              std::string::npos)
        << r.out;
    EXPECT_NE(r.out.find("[13] expect-never deadlock ok"), std::string::npos) << r.out;
    total += std::stoull(r.out.substr(r.out.find("# ", r.out.find("[7] explore")) + 2));
  }
  RunResult whole = RunText(text);
  EXPECT_EQ(whole.status, kExitExpectationFailed);  // unsharded, sometimes is judged
  EXPECT_EQ(total, std::stoull(whole.out.substr(whole.out.find("# ", whole.out.find("[7] explore")) + 2)));
}

TEST(InterpreterBlocks, OneScheduleRunsOnceWithATrace) {
  InterpreterOptions options;
  options.schedule = "0";
  RunResult r = RunText(std::string(kTwoCpus) + kExploreRace +
                        "  expect-always reader=8K\n  expect-sometimes reader=EFAULT\nend\n",
                        options);
  EXPECT_EQ(r.status, kExitOk) << r.out;
  EXPECT_NE(r.out.find("# one schedule (--schedule): 0,"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("[cpu1 reader:5] process_vm_rw("), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("[13] expect-sometimes reader=EFAULT not checked: one schedule"),
            std::string::npos)
      << r.out;
}

}  // namespace
}  // namespace sim
