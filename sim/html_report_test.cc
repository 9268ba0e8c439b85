// sim/html_report_test.cc: the --html page's data: the call tree built from a rendered
// trace, the page-table tree, and the page for a small run.
#include "sim/html_report.h"

#include <sstream>
#include <streambuf>
#include <string>

#include "gtest/gtest.h"
#include "sim/interpreter.h"
#include "sim/scenario/parser.h"
#include "sim/views.h"

namespace sim {
namespace {

TEST(HtmlReportTest, TraceTreeNestsCallsByIndentation) {
  const std::string text =
      "  [cpu0] tlb_miss va 0x400000\n"
      "  do_user_addr_fault(address=0x400000)\n"
      "    handle_mm_fault(addr=0x400000)\n"
      "      mm_page_alloc pfn=0xc\n"
      "    } handle_mm_fault = 0\n"
      "    [cpu0] tlb_flush invlpg\n"
      "  } do_user_addr_fault\n"
      "  folio_put(pfn=0x7) = 1\n";
  EXPECT_EQ(HtmlReport::TraceTreeJson(text, 100),
            "[{\"t\":\"[cpu0] tlb_miss va 0x400000\",\"h\":1},"
            "{\"t\":\"do_user_addr_fault(address=0x400000)\",\"k\":["
            "{\"t\":\"handle_mm_fault(addr=0x400000)\",\"r\":\"0\",\"k\":[{\"t\":\"mm_page_alloc pfn=0xc\"}]},"
            "{\"t\":\"[cpu0] tlb_flush invlpg\",\"h\":1}]},"
            "{\"t\":\"folio_put(pfn=0x7) = 1\"}]");
}

TEST(HtmlReportTest, TaggedPathsNestEachOnTheirOwn) {
  // Two paths interleaved (a together block): each call closes on its own path.
  const std::string text =
      "  [cpu0 a:4] munmap(addr=0x1000)\n"
      "  [cpu1 b:5] handle_mm_fault(addr=0x1000)\n"
      "    [cpu0 a:4] zap(x)\n"
      "  [cpu0 a:4] } munmap = 0\n"
      "    [cpu1 b:5] tlb_miss va 0x1000\n"
      "  [cpu1 b:5] } handle_mm_fault = 1024\n";
  EXPECT_EQ(HtmlReport::TraceTreeJson(text, 100),
            "[{\"t\":\"[cpu0 a:4] munmap(addr=0x1000)\",\"r\":\"0\",\"k\":[{\"t\":\"[cpu0 a:4] zap(x)\"}]},"
            "{\"t\":\"[cpu1 b:5] handle_mm_fault(addr=0x1000)\",\"r\":\"1024\",\"k\":["
            "{\"t\":\"[cpu1 b:5] tlb_miss va 0x1000\",\"h\":1}]}]");
}

TEST(HtmlReportTest, TraceTreeIsBoundedAndEscaped) {
  EXPECT_EQ(HtmlReport::TraceTreeJson("a\nb\nc </script>\nd\n", 2),
            "[{\"t\":\"a\"},{\"t\":\"b\"},{\"t\":\"... 2 more trace lines not kept (the page keeps 2 "
            "per statement)\"}]");
  EXPECT_EQ(HtmlReport::TraceTreeJson("x </script> & \"y\"\n", 5),
            "[{\"t\":\"x \\u003c/script\\u003e \\u0026 \\\"y\\\"\"}]");
}

std::string Page(const std::string& scenario_text, std::string* printed,
                 size_t max_steps = HtmlReport::kMaxSteps) {
  absl::StatusOr<scenario::Scenario> s = scenario::ParseScenario(scenario_text, "t.mms");
  EXPECT_TRUE(s.ok()) << s.status();
  std::string captured;
  HtmlReport report("t.mms", &captured, max_steps);
  InterpreterOptions o;
  o.step_observer = &report;
  // The page's per-step text comes from `captured`, what the interpreter printed,
  // collected here as mmsim_main's copying stream does.
  struct Copy : std::streambuf {
    std::string* to;
    explicit Copy(std::string* t) : to(t) {}
    std::streamsize xsputn(const char* p, std::streamsize n) override {
      to->append(p, static_cast<size_t>(n));
      return n;
    }
    int overflow(int c) override {
      if (c != EOF) to->push_back(static_cast<char>(c));
      return c;
    }
  } copy(&captured);
  std::ostream tee(&copy);
  Interpreter interp(o, tee, tee);
  const int status = interp.Run(*s);
  *printed = captured;
  return report.Render(status);
}

TEST(HtmlReportTest, PageHoldsEachStepsStateAndTheTablesPfn) {
  std::string printed;
  const std::string page = Page(
      "machine memory=16M cpus=1\n"
      "process p\n"
      "p: mmap 0x400000 4K rw- private,anon\n"
      "p: store 0x400000 \"x\"\n"
      "show pagemap p 0x400000 4K\n",
      &printed);
  // The step of line 4 (the store) has the fault in its call tree.
  const size_t step4 = page.find("{\"line\":4,\"stmt\":\"p: store 0x400000 \\\"x\\\"\"");
  ASSERT_NE(step4, std::string::npos);
  EXPECT_NE(page.find("handle_mm_fault(addr=0x400000"), std::string::npos);
  // The PTE of 0x400000 in the page-table data carries the pfn the pagemap view printed.
  // (`printed` is what was left after the last step: the page took each step's text,
  // the pagemap line included, into its data.)
  EXPECT_EQ(printed, "# t.mms: 0 expectations failed\n");
  const size_t at = page.find("present pfn=");
  ASSERT_NE(at, std::string::npos);
  const std::string pfn = page.substr(at + 12, page.find(' ', at + 12) - at - 12);
  EXPECT_NE(page.find("\"0x400000\",\"0x400fff\",\"P RW USR A D SOFT_DIRTY NX\",\"" + pfn + "\",null,0]"),
            std::string::npos)
      << pfn;
  // No step before the mmap has that PTE: the tables are per step.
  EXPECT_EQ(page.find("\"0x400000\",\"0x400fff\""), page.rfind("\"0x400000\",\"0x400fff\""));
}

TEST(HtmlReportTest, StepsPastTheLimitAreCountedNotShown) {
  std::string printed;
  const std::string page = Page(
      "machine memory=16M cpus=1\n"
      "process p\n"
      "p: mmap 0x400000 4K rw- private,anon\n"
      "p: load 0x400000 1\n"
      "p: load 0x400000 1\n",
      &printed, 3);
  EXPECT_NE(page.find("\"steps\":3,"), std::string::npos);  // the limit, for the page to say
  EXPECT_NE(page.find("\"skipped\":2,"), std::string::npos);
  EXPECT_NE(page.find("{\"line\":3,"), std::string::npos);
  EXPECT_EQ(page.find("{\"line\":4,"), std::string::npos);
}

// The hook itself: told once per statement the scenario has (a together block's included),
// never for the runs an explore block makes, with the machine's state after the statement;
// its recorder gets the kernel calls even with the scenario's trace off, and the output is
// the same as without an observer.
class CountingObserver final : public StepObserver {
 public:
  TraceRecorder* recorder() override { return &rec_; }
  void AfterStatement(const scenario::Statement& stmt, bool ok, Interpreter& interp) override {
    lines.push_back(scenario::PosOf(stmt).line);
    if (!ok) ++failed;
    traces.push_back(rec_.RenderText());
    rec_.Clear();
    if (interp.machine() != nullptr && interp.PidOfName("p")) {
      absl::StatusOr<std::string> maps = ShowMaps(*interp.machine(), *interp.PidOfName("p"));
      p_maps.push_back(maps.ok() ? *maps : "");
    }
  }
  std::vector<int> lines;
  std::vector<std::string> traces, p_maps;
  int failed = 0;

 private:
  TraceRecorder rec_{TraceLevel::kFull};
};

TEST(StepObserverTest, ToldAfterEveryStatementAndNothingElseChanges) {
  const std::string text =
      "machine memory=16M cpus=2\n"
      "process p cpu=0\n"
      "process q cpu=1\n"
      "p: mmap 0x10000 8K rw- private,anon,populate\n"
      "trace calls\n"
      "together\n"
      "  p: munmap 0x10000 4K\n"
      "  q: mmap 0x20000 4K rw- private,anon\n"
      "end\n"
      "trace off\n"
      "explore all\n"
      "  together\n"
      "    p: load 0x11000 1\n"
      "    q: store 0x20000 \"x\"\n"
      "  end\n"
      "end\n";
  absl::StatusOr<scenario::Scenario> s = scenario::ParseScenario(text, "t.mms");
  ASSERT_TRUE(s.ok()) << s.status();
  std::ostringstream plain_out, seen_out;
  {
    Interpreter plain(InterpreterOptions{}, plain_out, plain_out);
    EXPECT_EQ(plain.Run(*s), kExitOk);
  }
  CountingObserver seen;
  InterpreterOptions o;
  o.step_observer = &seen;
  {
    Interpreter interp(o, seen_out, seen_out);
    EXPECT_EQ(interp.Run(*s), kExitOk);
  }
  EXPECT_EQ(seen_out.str(), plain_out.str());
  EXPECT_EQ(seen.lines, (std::vector<int>{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16}));
  EXPECT_EQ(seen.failed, 0);
  // The populate of line 4 went through the kernel although the scenario traced nothing.
  EXPECT_NE(seen.traces[3].find("do_mmap"), std::string::npos) << seen.traces[3];
  // The together block ran at its `end` (line 9): both paths, tagged with their CPU.
  EXPECT_NE(seen.traces[8].find("[cpu0 p:"), std::string::npos) << seen.traces[8];
  EXPECT_NE(seen.traces[8].find("[cpu1 q:"), std::string::npos) << seen.traces[8];
  // After line 4 p has its mapping; after line 9 half of it is gone.
  EXPECT_NE(seen.p_maps[3].find("00010000-00012000 rw-p"), std::string::npos) << seen.p_maps[3];
  EXPECT_NE(seen.p_maps[8].find("00011000-00012000 rw-p"), std::string::npos) << seen.p_maps[8];
}

}  // namespace
}  // namespace sim
