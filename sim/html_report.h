// sim/html_report.h: `mmsim --html=FILE`: the run as one self-contained, step-through web
// page.
//
// HtmlReport is the interpreter's StepObserver. After every statement it snapshots
//   - what mmsim printed for the statement (its echo, result, expectations, errors),
//   - the kernel call tree with the hardware events inside it (its own TraceRecorder at
//     TraceLevel::kFull, whatever the scenario's `trace` says), as a tree,
//   - per named task: /proc/PID/maps (ShowMaps) and the page-table tree (every present
//     entry of every level, virtual-address range, flags, pfn; PML4 slots 256..511 are
//     marked as the kernel half),
//   - the TLB of each CPU (ShowTlb) and the CPUs (ShowCpus).
// Render() returns the page: inline CSS and JavaScript, the snapshots as embedded JSON,
// no network access. Identical snapshots are stored once.
//
// Bounds (the page states them): at most kMaxSteps statements get snapshots, and none
// once the snapshots hold kMaxSnapshotBytes; per step at most kMaxTraceLines trace lines
// and kMaxTableEntries page-table entries per task; each text view at most kMaxTextBytes.
//
// Deterministic: the same run gives the same bytes (no time, no host addresses).
#ifndef MMSIM_SIM_HTML_REPORT_H_
#define MMSIM_SIM_HTML_REPORT_H_

#include <cstddef>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "sim/interpreter.h"
#include "sim/machine.h"
#include "sim/trace/recorder.h"

namespace sim {

class HtmlReport final : public StepObserver {
 public:
  static constexpr size_t kMaxSteps = 2000;
  static constexpr size_t kMaxTraceLines = 2000;
  static constexpr size_t kMaxTableEntries = 1024;
  static constexpr size_t kMaxTextBytes = 32 * 1024;
  // Snapshots (distinct ones, stored once) past this many bytes: later statements are not
  // shown, so the page stays a size a browser opens.
  static constexpr size_t kMaxSnapshotBytes = 24u << 20;

  // `title`: the scenario's name. `output`: where the interpreter's output (standard
  // output and errors) is being collected; each step takes what was added since the last.
  // `max_steps`: kMaxSteps but in tests.
  HtmlReport(std::string title, std::string* output, size_t max_steps = kMaxSteps);

  TraceRecorder* recorder() override { return &recorder_; }
  void AfterStatement(const scenario::Statement& stmt, bool ok, Interpreter& interp) override;

  // The page; `status` is mmsim's exit status, and what was printed after the last step
  // (the summary line) is shown with it.
  std::string Render(int status);

  // The call tree of a rendered text trace (TraceRecorder::RenderText), as JSON: an array
  // of nodes {"t": text, "r": result, "k": [children]}; hardware events carry "h":1.
  // Nested by indentation, per "[cpuN task:pid]" path when paths are tagged. At most
  // max_lines lines are taken ("more": the rest, as a last node). Exposed for tests.
  static std::string TraceTreeJson(const std::string& text, size_t max_lines);
  // The page-table tree of pid as JSON (see the .cc), or null if it has no mm.
  static std::string PageTableJson(Machine& m, int pid, size_t max_entries);

 private:
  // Stores a JSON value once; returns its index in the pool.
  int Intern(std::string json);

  std::string title_;
  std::string* output_;
  TraceRecorder recorder_;
  std::vector<std::string> pool_;
  std::map<std::string, int> pool_index_;
  size_t pool_bytes_ = 0;
  std::vector<std::string> steps_;  // one JSON object each
  size_t max_steps_;
  size_t skipped_ = 0;              // steps past max_steps_ (or the snapshot budget)
};

}  // namespace sim

#endif  // MMSIM_SIM_HTML_REPORT_H_
