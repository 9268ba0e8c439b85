// sim/state_checks_test.cc: the state checks (sim/interpreter_checks.cc) against the
// machine: each form holds where Linux says it must, fails with what it saw, reads without
// side effects, and reports a bad CPU or a vanished task as a runtime error.
#include <sstream>
#include <string>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "mm/kernel.h"
#include "sim/interpreter.h"
#include "sim/scenario/ast.h"
#include "sim/scenario/parser.h"

namespace sim {
namespace {

struct RunResult {
  int status;
  std::string out, err;
};

RunResult RunText(const std::string& text) {
  absl::StatusOr<scenario::Scenario> s = scenario::ParseScenario(text, "t.mms");
  EXPECT_TRUE(s.ok()) << s.status();
  std::ostringstream out, err;
  InterpreterOptions options;
  options.check_vm = true;
  Interpreter interp(options, out, err);
  const int status = interp.Run(*s);
  return {status, out.str(), err.str()};
}

// The parser's vmstat items are the kernel's, in order (the parser cannot link mm/).
TEST(StateChecks, ParserKnowsExactlyTheKernelsVmstatItems) {
  const std::vector<std::string>& names = scenario::VmstatItemNames();
  ASSERT_EQ(names.size(), static_cast<size_t>(kernel::NR_VM_STAT_ITEMS));
  for (int i = 0; i < kernel::NR_VM_STAT_ITEMS; ++i) EXPECT_EQ(names[i], kernel::vm_stat_name(i)) << i;
}

constexpr char kCow[] =
    "process p\n"
    "mark begin\n"
    "p: mmap 0x10000 8K rw- private,anon\n"
    "expect 0x10000\n"
    "expect vma p 0x11000 start=0x10000 end=0x12000 prot=rw- flags=rd,wr,mr,mw,me,ac,!ex,!sh\n"
    "expect vma p 0x12000 none\n"
    "expect pte p 0x10000 none\n"
    "p: store 0x10000 \"hi\"\n"
    "expect 0\n"
    "expect pte p 0x10000 present,writable,user,accessed,dirty,nx,!global,!zero as first\n"
    "expect page first refcount=1 mapcount=1 flags=anon,anon_exclusive,lru,swapbacked,!dirty\n"
    "expect page at p 0x10000 mapcount=1\n"
    "expect vmstat pgfault +1 since begin\n"
    "expect tlb 0 p 0x10000 cached\n"
    "expect tlb 0 p 0x11000 absent\n"
    "p: load 0x11000 1\n"
    "expect pte p 0x11000 present,zero,!writable\n"
    "p: fork c\n"
    "expect pte c 0x10000 present,!writable,saved_dirty pfn=first\n"
    "expect pte p 0x10000 present,!writable pfn=first\n"
    "expect page first refcount=2 mapcount=2 flags=!anon_exclusive\n"
    "mark before_write\n"
    "c: store 0x10000 \"x\"\n"
    "expect 0\n"
    "expect pte c 0x10000 present,writable,dirty pfn!=first as copy\n"
    "expect page first refcount=1 mapcount=1\n"
    "expect page copy refcount=1 mapcount=1 flags=anon,anon_exclusive\n"
    "expect vmstat pgfault +1 since before_write\n"
    "expect vmstat pgalloc_normal +1 since before_write\n";

TEST(StateChecks, CowStepByStepHolds) {
  RunResult r = RunText(kCow);
  EXPECT_EQ(r.status, kExitOk) << r.out << r.err;
  EXPECT_NE(r.out.find("] expect page first refcount=2 mapcount=2 flags=!anon_exclusive ok\n"),
            std::string::npos)
      << r.out;
}

TEST(StateChecks, AFailureSaysWhatWasSeen) {
  RunResult r = RunText(
      "process p\nmark m\np: mmap 0x10000 4K rw- private,anon\np: store 0x10000 \"x\"\n"
      "expect pte p 0x10000 present,!writable pfn=0x5\n"
      "expect vmstat pgfault +3 since m\n"
      "expect page at p 0x10000 refcount=7\n"
      "expect vma p 0x10000 prot=r--\n"
      "expect tlb 0 p 0x10000 absent\n"
      "expect page at p 0x20000 refcount=1\n");
  EXPECT_EQ(r.status, kExitExpectationFailed);
  EXPECT_NE(r.out.find("t.mms:5: expectation failed: expected pte p 0x10000 present,!writable "
                       "pfn=0x5, got pte present,writable,user,accessed,dirty,nx pfn="),
            std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("t.mms:6: expectation failed: expected vmstat pgfault +3 since m, got +1 "
                       "(0 at mark m, 1 now)"),
            std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("t.mms:7: expectation failed: expected page at p 0x10000 refcount=7, got "
                       "page "),
            std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("refcount=1 mapcount=1 flags="), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("t.mms:8: expectation failed: expected vma p 0x10000 prot=r--, got vma "
                       "start=0x10000 end=0x11000 prot=rw- flags=rd,wr,mr,mw,me,ac"),
            std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("t.mms:9: expectation failed: expected tlb 0 p 0x10000 absent, got cached: "),
            std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("t.mms:10: expectation failed: expected page at p 0x20000 refcount=1, got no "
                       "page mapped there: pte none"),
            std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("# t.mms: 6 expectations failed"), std::string::npos) << r.out;
}

// Checking changes nothing: no fault, no TLB fill, no counter.
TEST(StateChecks, ReadingHasNoSideEffects) {
  RunResult r = RunText(
      "process p\np: mmap 0x10000 4K rw- private,anon\nmark m\n"
      "expect pte p 0x10000 none\nexpect page at p 0x10000 mapcount=0\n"
      "expect tlb 0 p 0x10000 absent\nexpect vma p 0x10000 prot=rw-\n"
      "expect pte p 0x10000 none\nexpect vmstat pgfault +0 since m\n"
      "expect tlb 0 walks +0 since m\nexpect tlb 0 hits +0 since m\nexpect tlb 0 misses +0 since m\n");
  EXPECT_EQ(r.status, kExitExpectationFailed);  // the `page at` of an unmapped address
  EXPECT_NE(r.out.find("t.mms:5: expectation failed"), std::string::npos) << r.out;
  EXPECT_EQ(r.out.find("t.mms:6:"), std::string::npos) << r.out;
  EXPECT_EQ(r.out.find("t.mms:8:"), std::string::npos) << r.out;
  EXPECT_EQ(r.out.find("t.mms:9:"), std::string::npos) << r.out;
  EXPECT_EQ(r.out.find("t.mms:10:"), std::string::npos) << r.out;
  EXPECT_EQ(r.out.find("t.mms:11:"), std::string::npos) << r.out;
  EXPECT_EQ(r.out.find("t.mms:12:"), std::string::npos) << r.out;
}

// The TLB check is per CPU and per address space: a CPU that never ran the task holds
// nothing of it, and munmap's flush drops the entry on the CPU that had it.
TEST(StateChecks, TlbEntriesArePerCpuAndGoAtMunmap) {
  RunResult r = RunText(
      "machine cpus=2\nprocess p cpu=1\np: mmap 0x10000 4K rw- private,anon\n"
      "p: store 0x10000 \"x\"\n"
      "expect tlb 1 p 0x10000 cached\nexpect tlb 0 p 0x10000 absent\n"
      "mark m\np: munmap 0x10000 4K\nexpect 0\nexpect tlb 1 p 0x10000 absent\n"
      "expect vmstat nr_tlb_local_flush_one +1 since m\n");
  EXPECT_EQ(r.status, kExitOk) << r.out << r.err;
}

// expect vmstat reads the value /proc/vmstat prints: nr_anon_transparent_hugepages counts
// huge pages (the counter behind it counts 4 KiB pages), and so does a delta since a mark.
TEST(StateChecks, VmstatIsCheckedInProcVmstatUnits) {
  RunResult r = RunText(
      "machine memory=64M thp=always\nprocess p\nmark m\np: mmap 0 4M rw- private,anon\n"
      "p: fill 0x7ffff7a00000 4M 0x11\nexpect 0\n"
      "expect vmstat thp_fault_alloc 2\nexpect vmstat nr_anon_transparent_hugepages 2\n"
      "expect vmstat nr_anon_transparent_hugepages +2 since m\n");
  EXPECT_EQ(r.status, kExitOk) << r.out << r.err;
}

// The THP advice is a VMA flag like the others (smaps VmFlags hg / nh).
TEST(StateChecks, VmaFlagsShowTheHugePageAdvice) {
  RunResult r = RunText(
      "machine memory=64M thp=madvise\nprocess p\np: mmap 0 4M rw- private,anon\n"
      "p: madvise 0x7ffff7a00000 2M hugepage\nexpect 0\n"
      "p: madvise 0x7ffff7c00000 2M nohugepage\nexpect 0\n"
      "expect vma p 0x7ffff7a00000 end=0x7ffff7c00000 flags=hg,!nh\n"
      "expect vma p 0x7ffff7c00000 start=0x7ffff7c00000 flags=nh,!hg\n");
  EXPECT_EQ(r.status, kExitOk) << r.out << r.err;
  r = RunText(
      "machine memory=64M\nprocess p\np: mmap 0 2M rw- private,anon\n"
      "expect vma p 0x7ffff7c00000 flags=hg\n");
  EXPECT_EQ(r.status, kExitExpectationFailed) << r.out << r.err;
  EXPECT_NE(r.out.find("flags=rd,wr,mr,mw,me,ac"), std::string::npos) << r.out;
}

// A PMD leaf answers expect pte: huge, its bits, and the frame of the 4 KiB page at the
// address; after the split the PTE maps the same frame, without huge.
TEST(StateChecks, PteOfAHugePageIsItsPmdLeaf) {
  RunResult r = RunText(
      "machine memory=64M thp=always\nprocess p\np: mmap 0 2M rw- private,anon\n"
      "p: load 0x7ffff7c00000 1\n"
      "expect pte p 0x7ffff7c00000 present,huge,zero,!writable\n"
      "p: store 0x7ffff7c03000 \"x\"\nexpect 0\n"
      "expect pte p 0x7ffff7c03000 present,huge,writable,dirty,user,!zero as third\n"
      "expect pte p 0x7ffff7c00000 present,huge pfn!=third\n"
      "p: munmap 0x7ffff7c00000 4K\nexpect 0\n"
      "expect pte p 0x7ffff7c03000 present,!huge,writable pfn=third\n"
      "expect pte p 0x7ffff7c00000 none\n");
  EXPECT_EQ(r.status, kExitOk) << r.out << r.err;
}

// A PROT_NONE PMD leaf keeps its frame; expect pte reports the page at the address, as
// for a present leaf.
TEST(StateChecks, ProtNoneHugePageKeepsTheFrameOfThePageAtTheAddress) {
  RunResult r = RunText(
      "machine memory=64M thp=always\nprocess p\np: mmap 0 2M rw- private,anon\n"
      "p: store 0x7ffff7c05000 \"x\"\nexpect 0\n"
      "expect pte p 0x7ffff7c05000 present,huge as sixth\n"
      "p: mprotect 0x7ffff7c00000 2M ---\nexpect 0\n"
      "expect pte p 0x7ffff7c05000 protnone,huge,!present pfn=sixth\n");
  EXPECT_EQ(r.status, kExitOk) << r.out << r.err;
}

// The access-pattern, core-dump and KSM advice are VMA flags too (smaps VmFlags sr, rr,
// dd, mg), and `show smaps` prints them in the kernel's order.
TEST(StateChecks, VmaFlagsShowTheFlagAdvice) {
  RunResult r = RunText(
      "process p\np: mmap 0x500000 16K rw- private,anon\n"
      "p: madvise 0x500000 4K sequential\nexpect 0\n"
      "p: madvise 0x501000 4K random\nexpect 0\n"
      "p: madvise 0x502000 8K dontdump\nexpect 0\n"
      "p: madvise 0x503000 4K mergeable\nexpect 0\n"
      "expect vma p 0x500000 end=0x501000 flags=sr,!rr,!dd\n"
      "expect vma p 0x501000 end=0x502000 flags=rr,!sr\n"
      "expect vma p 0x502000 end=0x503000 flags=dd,!mg\n"
      "expect vma p 0x503000 flags=dd,mg\n"
      "p: madvise 0x500000 16K normal\nexpect 0\n"
      "p: madvise 0x500000 16K dodump\nexpect 0\n"
      "p: madvise 0x500000 16K unmergeable\nexpect 0\n"
      "expect vma p 0x500000 start=0x500000 end=0x504000 flags=!sr,!rr,!dd,!mg\n"
      "p: madvise 0x503000 4K mergeable\nexpect 0\n"
      "show smaps p 0x503000 4K\n");
  EXPECT_EQ(r.status, kExitOk) << r.out << r.err;
  EXPECT_NE(r.out.find("VmFlags: rd wr mr mw me ac mg"), std::string::npos) << r.out;
}

TEST(StateChecks, AnUnboundPfnNameFails) {
  RunResult r = RunText(
      "process p\nexpect pte p 0x10000 as x\nexpect page x refcount=1\n");
  EXPECT_EQ(r.status, kExitExpectationFailed);
  EXPECT_NE(r.out.find("t.mms:2: expectation failed: expected pte p 0x10000 as x, got pte none"),
            std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("t.mms:3: expectation failed: expected page x refcount=1, got no pfn bound "
                       "to 'x'"),
            std::string::npos)
      << r.out;
}

TEST(StateChecks, NoSuchCpuOrAddressSpaceIsARuntimeError) {
  RunResult r = RunText("process p\nexpect tlb 5 p 0 absent\n");
  EXPECT_EQ(r.status, kExitRuntimeError);
  EXPECT_NE(r.err.find("t.mms:2: runtime error: no CPU 5"), std::string::npos) << r.err;
  r = RunText("process p\np: fork c\nc: exit\nexpect vma c 0 none\n");
  EXPECT_EQ(r.status, kExitRuntimeError);
  EXPECT_NE(r.err.find("t.mms:4: runtime error: task 'c' has no address space"), std::string::npos)
      << r.err;
}

}  // namespace
}  // namespace sim
