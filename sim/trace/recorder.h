// sim/trace/recorder.h: records what the kernel and the hardware did, step by step.
//
// TraceRecorder listens on both layers' hooks (kernel::kernel_observer from mm/trace.h and
// hw::HwObserver from hw/observer.h) and renders
//   - indented text for people: the kernel call tree with arguments and return values,
//     and (at TraceLevel::kFull) the hardware events inside each call: TLB hits and misses,
//     page-walk steps, fills, evictions, flushes, #PF;
//   - Chrome trace-event JSON that opens in Perfetto (ui.perfetto.dev) or chrome://tracing:
//     one process per simulated process with one track per task (its kernel calls as
//     slices, its kernel events as instants), a "machine" process with a track for the
//     scenario's statements and one per CPU (hardware events, #PF, kernel work with no task),
//     metadata events naming every track, IPIs as flow arrows from sender to receiver, and
//     every slice a complete "X" event (a call still open when the trace ends, e.g. on a
//     task that was killed, is closed at the end and marked "unfinished").
//
// Both renderings decode numbers with mm/trace_decode.h: results by the traced function's
// return type (VM_FAULT_* names, -EFAULT, hex addresses, decimal counts), flag arguments
// by name (FOLL_*, FAULT_FLAG_*, gfp, PROT/MAP/VM, PTE bits).
//
// Determinism: timestamps are a logical clock (one tick per event), never host time, so
// the same scenario and seed give byte-identical traces.
// Bounded: after `max_events` events recording stops and the renderings say so.
//
// Thread safety: none; one recorder serves one machine on one host thread.
#ifndef MMSIM_SIM_TRACE_RECORDER_H_
#define MMSIM_SIM_TRACE_RECORDER_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "absl/types/optional.h"
#include "hw/observer.h"
#include "mm/trace.h"

namespace sim {

enum class TraceLevel : uint8_t {
  kOff,    // record nothing
  kCalls,  // kernel functions, their arguments and results, kernel events
  kFull,   // kCalls plus every hardware event
};

// Parses "off", "calls", "full".
absl::optional<TraceLevel> ParseTraceLevel(absl::string_view name);
const char* TraceLevelName(TraceLevel level);

class TraceRecorder final : public kernel::kernel_observer, public hw::HwObserver {
 public:
  static constexpr size_t kDefaultMaxEvents = 2'000'000;

  explicit TraceRecorder(TraceLevel level, size_t max_events = kDefaultMaxEvents);
  TraceRecorder(const TraceRecorder&) = delete;
  TraceRecorder& operator=(const TraceRecorder&) = delete;

  TraceLevel level() const { return level_; }
  void set_level(TraceLevel level) { level_ = level; }

  // While several kernel paths interleave (Machine::Together), every event is tagged with
  // the CPU and the task it came from, read from the kernel's state at the event
  // (this_cpu and its `current` for kernel events, the event's CPU for hardware ones).
  // The text then prefixes each line with "[cpuN COMM:PID]" and indents each path's call
  // tree on its own; the JSON puts each CPU on its own track.
  void set_tag_paths(bool on) { tag_paths_ = on; }

  // Groups what follows under a top-level label (one scenario statement, one syscall).
  void BeginStep(absl::string_view label);
  void EndStep();

  // Indented text of everything recorded so far.
  std::string RenderText() const;
  // {"traceEvents":[...]} for Perfetto / chrome://tracing.
  std::string RenderChromeJson() const;
  // Drops everything recorded (the level stays).
  void Clear();
  size_t num_events() const { return events_.size(); }
  bool truncated() const { return truncated_; }

  // kernel::kernel_observer
  void on_enter(const char* fn, const std::string& args) override;
  void on_exit(const char* fn, long ret, bool has_ret) override;
  void on_event(const char* name, const std::string& detail) override;

  // hw::HwObserver (recorded at kFull only)
  void OnWalkStep(int cpu, int level, hw::PhysAddr entry_addr, uint64_t entry) override;
  void OnTlbHit(int cpu, int level, hw::VirtAddr va, const hw::TlbEntry& entry) override;
  void OnTlbMiss(int cpu, hw::VirtAddr va) override;
  void OnPscHit(int cpu, int level, hw::VirtAddr va, hw::PhysAddr table) override;
  void OnTlbFill(int cpu, int level, const hw::TlbEntry& entry) override;
  void OnTlbEvict(int cpu, int level, const hw::TlbEntry& entry) override;
  void OnTlbFlush(int cpu, hw::TlbFlushKind kind, uint16_t pcid, hw::VirtAddr va) override;
  void OnFault(int cpu, const hw::Fault& fault, hw::AccessType type) override;
  void OnCr3Write(int cpu, uint64_t old_cr3, uint64_t new_cr3) override;

 private:
  enum class Kind : uint8_t { kBegin, kEnd, kInstant };
  enum class Layer : uint8_t { kStep, kKernel, kHw };
  struct Event {
    Kind kind;
    Layer layer;
    int cpu;         // -1 when not tied to a CPU
    std::string name;
    std::string who;     // "cpu1 reader:12" while tagging paths, else empty
    std::string detail;  // arguments (kBegin) or event detail (kInstant)
    long ret;
    bool has_ret;
    // The task the event ran for (always read, for the JSON tracks): -1 when none.
    int pid = -1, tgid = -1;
    std::string comm;
  };

  void Add(Event e);
  // Fills e->cpu (kernel events), e->pid/tgid/comm and, while tagging paths, e->who from
  // the kernel's state.
  void Tag(Event* e) const;
  bool Recording(Layer layer) const;

  TraceLevel level_;
  size_t max_events_;
  bool truncated_ = false;
  bool tag_paths_ = false;
  std::vector<Event> events_;
};

}  // namespace sim

#endif  // MMSIM_SIM_TRACE_RECORDER_H_
