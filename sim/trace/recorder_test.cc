// sim/trace/recorder_test.cc
#include "sim/trace/recorder.h"

#include "gtest/gtest.h"

namespace sim {
namespace {

TEST(TraceRecorder, NestedCallsRenderAsIndentedTreeWithResults) {
  TraceRecorder r(TraceLevel::kCalls);
  r.BeginStep("reader: process_vm_readv");
  r.on_enter("process_vm_rw", "pid=2");
  r.on_enter("import_iovec", "nr_segs=1");
  r.on_exit("import_iovec", 0, true);
  r.on_event("gup_pin", "pfn=0x42");
  r.on_exit("process_vm_rw", 8092, true);
  r.EndStep();
  EXPECT_EQ(r.RenderText(),
            "== reader: process_vm_readv\n"
            "  process_vm_rw(pid=2)\n"
            "    import_iovec(nr_segs=1) = 0\n"
            "    gup_pin pfn=0x42\n"
            "  } process_vm_rw = 8092\n");
}

TEST(TraceRecorder, CallsLevelDropsHardwareEventsFullKeepsThem) {
  TraceRecorder calls(TraceLevel::kCalls);
  calls.OnTlbMiss(0, hw::VirtAddr(0x1000));
  EXPECT_EQ(calls.num_events(), 0u);
  TraceRecorder full(TraceLevel::kFull);
  full.OnTlbMiss(1, hw::VirtAddr(0x1000));
  EXPECT_EQ(full.RenderText(), "[cpu1] tlb_miss va 0x1000\n");
}

TEST(TraceRecorder, OffRecordsNothing) {
  TraceRecorder r(TraceLevel::kOff);
  r.on_enter("f", "");
  r.on_exit("f", 0, false);
  EXPECT_EQ(r.num_events(), 0u);
  EXPECT_EQ(r.RenderText(), "");
}

TEST(TraceRecorder, ChromeJsonIsDeterministicAndFoldsEachCallIntoOneCompleteSlice) {
  auto record = [] {
    TraceRecorder r(TraceLevel::kCalls);
    r.on_enter("f", "a=\"q\"");
    r.on_exit("f", -14, true);
    return r.RenderChromeJson();
  };
  std::string json = record();
  EXPECT_EQ(json, record());
  EXPECT_NE(json.find("\"ph\":\"X\",\"cat\":\"kernel\",\"ts\":0,"), std::string::npos) << json;
  EXPECT_NE(json.find("\"dur\":1,"), std::string::npos) << json;
  EXPECT_EQ(json.find("\"ph\":\"B\""), std::string::npos);
  EXPECT_EQ(json.find("\"ph\":\"E\""), std::string::npos);
  EXPECT_NE(json.find("\"detail\":\"a=\\\"q\\\"\""), std::string::npos) << json;
  EXPECT_NE(json.find("\"ret\":-14,\"result\":\"-EFAULT\""), std::string::npos) << json;
  // The machine's statements track is named.
  EXPECT_NE(json.find("\"name\":\"thread_name\",\"args\":{\"name\":\"statements\"}"), std::string::npos)
      << json;
}

TEST(TraceRecorder, ChromeJsonClosesSlicesLeftOpenAndMarksThem) {
  TraceRecorder r(TraceLevel::kCalls);
  r.BeginStep("[3] p: exit");
  r.on_enter("do_exit", "pid=4");  // never returns: the task is gone
  r.on_event("e", "x");
  std::string json = r.RenderChromeJson();
  // The step and the call both end at the end of the trace (tick 3).
  EXPECT_NE(json.find("\"ts\":0,\"pid\":0,\"tid\":0,\"name\":\"[3] p: exit\",\"dur\":3,"),
            std::string::npos) << json;
  EXPECT_NE(json.find("\"name\":\"do_exit\",\"dur\":2,\"args\":{\"detail\":\"pid=4\",\"unfinished\":true}"),
            std::string::npos) << json;
}

TEST(TraceRecorder, ChromeJsonDrawsIpisAsFlows) {
  TraceRecorder r(TraceLevel::kCalls);
  r.on_event("ipi_send", "from=0 to=1");
  r.on_event("ipi_receive", "cpu=1 from=0");
  std::string json = r.RenderChromeJson();
  EXPECT_NE(json.find("\"ph\":\"s\",\"cat\":\"ipi\",\"ts\":0"), std::string::npos) << json;
  EXPECT_NE(json.find("\"ph\":\"f\",\"cat\":\"ipi\",\"ts\":1"), std::string::npos) << json;
  EXPECT_NE(json.find("\"bp\":\"e\",\"id\":1}"), std::string::npos) << json;
}

TEST(TraceRecorder, TextDecodesResultsAndFlagsAndSkipsEmptySteps) {
  TraceRecorder r(TraceLevel::kCalls);
  r.BeginStep("[9] show buddy");
  r.EndStep();
  r.BeginStep("[10] p: load 0x1000 4");
  r.on_enter("handle_mm_fault", "addr=0x1000 flags=0x255");
  r.on_enter("filemap_fault", "ino=1 index=0");
  r.on_exit("filemap_fault", 516, true);
  r.on_event("mm_page_alloc", "pfn=0x7 order=0 gfp=0x100dca");
  r.on_exit("handle_mm_fault", 0x204, true);
  r.on_enter("mm_access", "pid=4 mode=0x11");
  r.on_exit("mm_access", -13, true);
  r.on_enter("process_vm_rw", "pid=4");
  r.on_exit("process_vm_rw", 4096, true);
  r.EndStep();
  EXPECT_EQ(r.RenderText(),
            "== [10] p: load 0x1000 4\n"
            "  handle_mm_fault(addr=0x1000 flags=FAULT_FLAG_WRITE|FAULT_FLAG_ALLOW_RETRY|"
            "FAULT_FLAG_KILLABLE|FAULT_FLAG_USER|FAULT_FLAG_INTERRUPTIBLE)\n"
            "    filemap_fault(ino=1 index=0) = VM_FAULT_MAJOR|VM_FAULT_LOCKED\n"
            "    mm_page_alloc pfn=0x7 order=0 gfp=GFP_HIGHUSER_MOVABLE|__GFP_ZERO\n"
            "  } handle_mm_fault = VM_FAULT_MAJOR|VM_FAULT_LOCKED\n"
            "  mm_access(pid=4 mode=PTRACE_MODE_READ|PTRACE_MODE_REALCREDS) = -EACCES\n"
            "  process_vm_rw(pid=4) = 4096\n");
}

TEST(TraceRecorder, WalkStepsDecodeTheEntry) {
  TraceRecorder full(TraceLevel::kFull);
  full.OnWalkStep(0, 1, hw::PhysAddr(0xd000), 0x800000000000e867ull);
  EXPECT_EQ(full.RenderText(),
            "[cpu0] walk PTE @pa 0xd000 = 0x800000000000e867 (pfn=0xe P|RW|USR|A|D|SOFT_DIRTY|NX)\n");
}

TEST(TraceRecorder, StopsAtTheEventBoundAndSaysSo) {
  TraceRecorder r(TraceLevel::kCalls, /*max_events=*/3);
  for (int i = 0; i < 10; ++i) r.on_event("e", "x");
  EXPECT_EQ(r.num_events(), 3u);
  EXPECT_TRUE(r.truncated());
  EXPECT_NE(r.RenderText().find("trace truncated after 3 events"), std::string::npos);
}

TEST(TraceRecorder, ParsesLevelNames) {
  EXPECT_EQ(ParseTraceLevel("full"), TraceLevel::kFull);
  EXPECT_EQ(ParseTraceLevel("calls"), TraceLevel::kCalls);
  EXPECT_EQ(ParseTraceLevel("off"), TraceLevel::kOff);
  EXPECT_FALSE(ParseTraceLevel("verbose").has_value());
}

}  // namespace
}  // namespace sim
