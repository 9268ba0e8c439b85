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

TEST(TraceRecorder, ChromeJsonIsDeterministicAndPairsBeginEnd) {
  auto record = [] {
    TraceRecorder r(TraceLevel::kCalls);
    r.on_enter("f", "a=\"q\"");
    r.on_exit("f", -14, true);
    return r.RenderChromeJson();
  };
  std::string json = record();
  EXPECT_EQ(json, record());
  EXPECT_NE(json.find("\"ph\":\"B\",\"cat\":\"kernel\",\"ts\":0"), std::string::npos);
  EXPECT_NE(json.find("\"ph\":\"E\",\"cat\":\"kernel\",\"ts\":1"), std::string::npos);
  EXPECT_NE(json.find("\"detail\":\"a=\\\"q\\\"\""), std::string::npos);
  EXPECT_NE(json.find("\"ret\":-14"), std::string::npos);
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
