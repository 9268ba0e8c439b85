// sim/trace/recorder.cc
#include "sim/trace/recorder.h"

#include <cstdio>
#include <map>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "mm/kernel.h"
#include "mm/sched.h"
#include "mm/trace_decode.h"

namespace sim {
namespace {

// JSON string escaping for the Chrome trace format.
void AppendJsonString(std::string* out, absl::string_view s) {
  out->push_back('"');
  for (char c : s) {
    switch (c) {
      case '"': out->append("\\\""); break;
      case '\\': out->append("\\\\"); break;
      case '\n': out->append("\\n"); break;
      case '\t': out->append("\\t"); break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          absl::StrAppendFormat(out, "\\u%04x", static_cast<unsigned char>(c));
        } else {
          out->push_back(c);
        }
    }
  }
  out->push_back('"');
}

// Results, by the traced function's return type (mm/trace_decode.h).
std::string FormatRet(const std::string& fn, long ret) { return kernel::decode_trace_ret(fn, ret); }

}  // namespace

absl::optional<TraceLevel> ParseTraceLevel(absl::string_view name) {
  if (name == "off") return TraceLevel::kOff;
  if (name == "calls") return TraceLevel::kCalls;
  if (name == "full") return TraceLevel::kFull;
  return absl::nullopt;
}

const char* TraceLevelName(TraceLevel level) {
  switch (level) {
    case TraceLevel::kOff: return "off";
    case TraceLevel::kCalls: return "calls";
    case TraceLevel::kFull: return "full";
  }
  return "?";
}

TraceRecorder::TraceRecorder(TraceLevel level, size_t max_events)
    : level_(level), max_events_(max_events) {}

bool TraceRecorder::Recording(Layer layer) const {
  switch (layer) {
    case Layer::kStep: return level_ != TraceLevel::kOff;
    case Layer::kKernel: return level_ != TraceLevel::kOff;
    case Layer::kHw: return level_ == TraceLevel::kFull;
  }
  return false;
}

void TraceRecorder::Tag(Event* e) const {
  const kernel::kernel_state* ks = kernel::kst_or_null();
  if (ks == nullptr) return;
  if (e->layer == Layer::kKernel) e->cpu = ks->this_cpu;
  if (e->cpu < 0 || e->cpu >= kernel::NR_CPUS) return;
  const kernel::task_struct* t = ks->current_task[e->cpu];
  if (t != nullptr) {
    e->pid = t->pid;
    e->tgid = t->tgid;
    e->comm = t->comm;
  }
  if (!tag_paths_) return;
  e->who = t == nullptr ? absl::StrFormat("cpu%d idle", e->cpu)
                        : absl::StrFormat("cpu%d %s:%d", e->cpu, t->comm, t->pid);
}

void TraceRecorder::Add(Event e) {
  if (!Recording(e.layer)) return;
  if (events_.size() >= max_events_) {
    truncated_ = true;
    return;
  }
  if (e.layer != Layer::kStep) Tag(&e);
  events_.push_back(std::move(e));
}

void TraceRecorder::BeginStep(absl::string_view label) {
  Add({Kind::kBegin, Layer::kStep, -1, std::string(label), "", "", 0, false});
}

void TraceRecorder::EndStep() { Add({Kind::kEnd, Layer::kStep, -1, "", "", "", 0, false}); }

void TraceRecorder::Clear() {
  events_.clear();
  truncated_ = false;
}

void TraceRecorder::on_enter(const char* fn, const std::string& args) {
  Add({Kind::kBegin, Layer::kKernel, -1, fn, "", args, 0, false});
}

void TraceRecorder::on_exit(const char* fn, long ret, bool has_ret) {
  Add({Kind::kEnd, Layer::kKernel, -1, fn, "", "", ret, has_ret});
}

void TraceRecorder::on_event(const char* name, const std::string& detail) {
  Add({Kind::kInstant, Layer::kKernel, -1, name, "", detail, 0, false});
}

void TraceRecorder::OnWalkStep(int cpu, int level, hw::PhysAddr entry_addr, uint64_t entry) {
  static constexpr const char* kLevelNames[] = {"?", "PTE", "PDE", "PDPTE", "PML4E"};
  Add({Kind::kInstant, Layer::kHw, cpu, "walk", "",
       absl::StrFormat("%s @pa %#x = 0x%016x (%s)", kLevelNames[level >= 1 && level <= 4 ? level : 0],
                       entry_addr.value(), entry,
                       (entry & 1) != 0 ? kernel::decode_flags(kernel::trace_flags_kind::pte, entry)
                                        : std::string("not present")),
       0, false});
}

void TraceRecorder::OnTlbHit(int cpu, int level, hw::VirtAddr va, const hw::TlbEntry& entry) {
  Add({Kind::kInstant, Layer::kHw, cpu, "tlb_hit", "",
       absl::StrFormat("L%d va %#x -> %s", level + 1, va.value(), entry.ToString()), 0, false});
}

void TraceRecorder::OnTlbMiss(int cpu, hw::VirtAddr va) {
  Add({Kind::kInstant, Layer::kHw, cpu, "tlb_miss", "", absl::StrFormat("va %#x", va.value()), 0,
       false});
}

void TraceRecorder::OnPscHit(int cpu, int level, hw::VirtAddr va, hw::PhysAddr table) {
  // `level` is the paging level whose cached entry answered (4 PML4E, 3 PDPTE, 2 PDE).
  static constexpr const char* kCache[] = {"", "", "PDE", "PDPTE", "PML4E"};
  Add({Kind::kInstant, Layer::kHw, cpu, "psc_hit", "",
       absl::StrFormat("%s cache: va %#x, walk resumes at table pa %#x", level >= 2 && level <= 4 ? kCache[level] : "?",
                       va.value(), table.value()),
       0, false});
}

void TraceRecorder::OnTlbFill(int cpu, int level, const hw::TlbEntry& entry) {
  Add({Kind::kInstant, Layer::kHw, cpu, "tlb_fill", "",
       absl::StrFormat("L%d %s", level + 1, entry.ToString()), 0, false});
}

void TraceRecorder::OnTlbEvict(int cpu, int level, const hw::TlbEntry& entry) {
  Add({Kind::kInstant, Layer::kHw, cpu, "tlb_evict", "",
       absl::StrFormat("L%d %s", level + 1, entry.ToString()), 0, false});
}

void TraceRecorder::OnTlbFlush(int cpu, hw::TlbFlushKind kind, uint16_t pcid, hw::VirtAddr va) {
  Add({Kind::kInstant, Layer::kHw, cpu, "tlb_flush", "",
       absl::StrFormat("%s pcid=%u va=%#x", hw::TlbFlushKindName(kind), pcid, va.value()), 0,
       false});
}

void TraceRecorder::OnFault(int cpu, const hw::Fault& fault, hw::AccessType type) {
  Add({Kind::kInstant, Layer::kHw, cpu, "fault", "",
       absl::StrFormat("%s on %s", hw::FaultToString(fault), hw::AccessTypeName(type)), 0,
       false});
}

void TraceRecorder::OnCr3Write(int cpu, uint64_t old_cr3, uint64_t new_cr3) {
  Add({Kind::kInstant, Layer::kHw, cpu, "cr3_write", "",
       absl::StrFormat("%#x -> %#x", old_cr3, new_cr3), 0, false});
}

std::string TraceRecorder::RenderText() const {
  std::string out;
  int steps = 0;                          // open steps
  int depth = 0;                          // untagged kernel calls open inside them
  std::map<std::string, int> path_depth;  // tagged: each path's open calls
  auto indent = [&](int d) { out.append(static_cast<size_t>(2 * (d > 0 ? d : 0)), ' '); };
  for (size_t i = 0; i < events_.size(); ++i) {
    const Event& e = events_[i];
    int* d = e.who.empty() ? &depth : &path_depth[e.who];
    auto line_start = [&](int level) {
      indent(steps + level);
      if (!e.who.empty()) absl::StrAppend(&out, "[", e.who, "] ");
    };
    switch (e.kind) {
      case Kind::kBegin: {
        if (e.layer == Layer::kStep) {
          // A statement during which nothing was recorded (a view, `trace calls`) prints no
          // header of its own.
          if (i + 1 < events_.size() && events_[i + 1].kind == Kind::kEnd &&
              events_[i + 1].layer == Layer::kStep) {
            ++i;
            break;
          }
          indent(steps + depth);
          absl::StrAppend(&out, "== ", e.name, "\n");
          ++steps;
          break;
        }
        line_start(*d);
        absl::StrAppend(&out, e.name, "(", kernel::decode_trace_args(e.name, e.detail), ")");
        // A call with nothing inside it prints on one line: "fn(args) = ret".
        if (i + 1 < events_.size() && events_[i + 1].kind == Kind::kEnd &&
            events_[i + 1].layer == Layer::kKernel && events_[i + 1].who == e.who) {
          const Event& x = events_[++i];
          if (x.has_ret) absl::StrAppend(&out, " = ", FormatRet(e.name, x.ret));
          out.push_back('\n');
          break;
        }
        out.append("\n");
        ++*d;
        break;
      }
      case Kind::kEnd:
        if (e.layer == Layer::kStep) {
          --steps;
          break;
        }
        --*d;
        line_start(*d);
        absl::StrAppend(&out, "} ", e.name);
        if (e.has_ret) absl::StrAppend(&out, " = ", FormatRet(e.name, e.ret));
        out.push_back('\n');
        break;
      case Kind::kInstant:
        line_start(*d);
        if (e.who.empty() && e.layer == Layer::kHw && e.cpu >= 0) absl::StrAppendFormat(&out, "[cpu%d] ", e.cpu);
        absl::StrAppend(&out, e.name, " ",
                        e.layer == Layer::kKernel ? kernel::decode_trace_args(e.name, e.detail) : e.detail,
                        "\n");
        break;
    }
  }
  if (truncated_) absl::StrAppend(&out, "... trace truncated after ", max_events_, " events\n");
  return out;
}

std::string TraceRecorder::RenderChromeJson() const {
  // Tracks: (pid, tid). The machine is pid 0: tid 0 the scenario's statements, tid 1+N
  // CPU N. A task is (its tgid, its pid).
  static constexpr int kMachinePid = 0;
  static constexpr int kStatementsTid = 0;
  using Track = std::pair<int, int>;
  auto cpu_track = [](int cpu) { return Track{kMachinePid, 1 + cpu}; };
  auto track_of = [&](const Event& e) -> Track {
    if (e.layer == Layer::kStep) return {kMachinePid, kStatementsTid};
    if (e.layer == Layer::kKernel && e.tgid > 0) return {e.tgid, e.pid};
    if (e.cpu >= 0) return cpu_track(e.cpu);
    return {kMachinePid, kStatementsTid};
  };

  // Pair every begin with its end the way the text does: one stack for statements, one
  // for untagged kernel calls, one per path while paths are tagged.
  constexpr size_t kOpen = static_cast<size_t>(-1);
  std::vector<size_t> end_of(events_.size(), kOpen);
  std::vector<size_t> step_stack;
  std::map<std::string, std::vector<size_t>> call_stacks;
  for (size_t i = 0; i < events_.size(); ++i) {
    const Event& e = events_[i];
    if (e.kind == Kind::kInstant) continue;
    std::vector<size_t>& stack = e.layer == Layer::kStep ? step_stack : call_stacks[e.who];
    if (e.kind == Kind::kBegin) {
      stack.push_back(i);
    } else if (!stack.empty()) {
      end_of[stack.back()] = i;
      stack.pop_back();
    }
  }
  const uint64_t end_ts = events_.size();

  std::string body;
  std::map<Track, std::string> thread_names;
  std::map<int, std::string> process_names;
  thread_names[{kMachinePid, kStatementsTid}] = "statements";
  process_names[kMachinePid] = "machine";
  std::map<int, std::vector<uint64_t>> ipi_pending;  // target CPU -> flow ids in flight
  uint64_t next_flow = 1;
  auto head = [&](const char* ph, const char* cat, uint64_t ts, const Track& t, const std::string& name) {
    absl::StrAppendFormat(&body, ",\n{\"ph\":\"%s\",\"cat\":\"%s\",\"ts\":%d,\"pid\":%d,\"tid\":%d,\"name\":",
                          ph, cat, ts, t.first, t.second);
    AppendJsonString(&body, name);
  };
  for (size_t i = 0; i < events_.size(); ++i) {
    const Event& e = events_[i];
    if (e.kind == Kind::kEnd) continue;  // folded into its begin's "X"
    const Track t = track_of(e);
    if (t.first != kMachinePid) {
      // The last name wins: a new task carries its parent's comm until it takes its own.
      thread_names[t] = absl::StrFormat("%s:%d", e.comm, e.pid);
      if (e.pid == e.tgid || !process_names.count(t.first)) process_names[t.first] = e.comm;
    } else if (t.second != kStatementsTid) {
      thread_names.emplace(t, absl::StrFormat("cpu%d", t.second - 1));
    }
    const char* cat = e.layer == Layer::kStep ? "step" : e.layer == Layer::kKernel ? "kernel" : "hw";
    const std::string detail =
        e.layer == Layer::kKernel ? kernel::decode_trace_args(e.name, e.detail) : e.detail;
    if (e.kind == Kind::kInstant) {
      head("i", cat, i, t, e.name);
      body.append(",\"s\":\"t\",\"args\":{\"detail\":");
      AppendJsonString(&body, detail);
      if (e.cpu >= 0) absl::StrAppendFormat(&body, ",\"cpu\":%d", e.cpu);
      body.append("}}");
      // An IPI: an arrow from the sending task to the receiving CPU's handler.
      int from = -1, to = -1;
      if (e.name == "ipi_send" && std::sscanf(e.detail.c_str(), "from=%d to=%d", &from, &to) == 2) {
        ipi_pending[to].push_back(next_flow);
        head("s", "ipi", i, t, "ipi");
        absl::StrAppendFormat(&body, ",\"id\":%d}", next_flow++);
      } else if (e.name == "ipi_receive" &&
                 std::sscanf(e.detail.c_str(), "cpu=%d from=%d", &to, &from) == 2 &&
                 !ipi_pending[to].empty()) {
        const uint64_t id = ipi_pending[to].front();
        ipi_pending[to].erase(ipi_pending[to].begin());
        head("f", "ipi", i, t, "ipi");
        absl::StrAppendFormat(&body, ",\"bp\":\"e\",\"id\":%d}", id);
      }
      continue;
    }
    // A slice: one complete event from its begin to its end (or to the end of the trace).
    const bool closed = end_of[i] != kOpen;
    const uint64_t dur = (closed ? end_of[i] : end_ts) - i;
    head("X", cat, i, t, e.name);
    absl::StrAppendFormat(&body, ",\"dur\":%d,\"args\":{", dur);
    bool first_arg = true;
    if (!detail.empty()) {
      body.append("\"detail\":");
      AppendJsonString(&body, detail);
      first_arg = false;
    }
    if (closed && events_[end_of[i]].has_ret) {
      const Event& x = events_[end_of[i]];
      absl::StrAppendFormat(&body, "%s\"ret\":%d,\"result\":", first_arg ? "" : ",", x.ret);
      AppendJsonString(&body, FormatRet(e.name, x.ret));
      first_arg = false;
    }
    if (!closed) absl::StrAppend(&body, first_arg ? "" : ",", "\"unfinished\":true");
    body.append("}}");
  }

  // Metadata first: names and an order for every track.
  std::string out = "{\"traceEvents\":[";
  bool first = true;
  auto meta = [&](const char* name, int pid, int tid, const std::string& key, const std::string& value,
                  bool is_string) {
    absl::StrAppendFormat(&out, "%s\n{\"ph\":\"M\",\"pid\":%d,\"tid\":%d,\"name\":\"%s\",\"args\":{\"%s\":",
                          first ? "" : ",", pid, tid, name, key);
    first = false;
    if (is_string) {
      AppendJsonString(&out, value);
    } else {
      out.append(value);
    }
    out.append("}}");
  };
  for (const auto& [pid, name] : process_names) {
    meta("process_name", pid, 0, "name", name, true);
    meta("process_sort_index", pid, 0, "sort_index", absl::StrCat(pid), false);
  }
  for (const auto& [track, name] : thread_names) {
    meta("thread_name", track.first, track.second, "name", name, true);
    meta("thread_sort_index", track.first, track.second, "sort_index", absl::StrCat(track.second), false);
  }
  out.append(body);
  out.append("\n],\"displayTimeUnit\":\"ns\",\"otherData\":{\"clock\":\"logical: one tick per event\"");
  if (truncated_) out.append(",\"truncated\":true");
  out.append("}}\n");
  return out;
}

}  // namespace sim
