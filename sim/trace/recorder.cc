// sim/trace/recorder.cc
#include "sim/trace/recorder.h"

#include <map>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "mm/kernel.h"
#include "mm/sched.h"

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

// Results: byte counts, page counts, pfns or negative errnos.
std::string FormatRet(long ret) { return absl::StrCat(ret); }

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
  e->who = t == nullptr ? absl::StrFormat("cpu%d idle", e->cpu)
                        : absl::StrFormat("cpu%d %s:%d", e->cpu, t->comm, t->pid);
}

void TraceRecorder::Add(Event e) {
  if (!Recording(e.layer)) return;
  if (events_.size() >= max_events_) {
    truncated_ = true;
    return;
  }
  if (tag_paths_ && e.layer != Layer::kStep) Tag(&e);
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
       absl::StrFormat("%s @pa %#x = %#018x", kLevelNames[level >= 1 && level <= 4 ? level : 0],
                       entry_addr.value(), entry),
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
          indent(steps + depth);
          absl::StrAppend(&out, "== ", e.name, "\n");
          ++steps;
          break;
        }
        line_start(*d);
        absl::StrAppend(&out, e.name, "(", e.detail, ")");
        // A call with nothing inside it prints on one line: "fn(args) = ret".
        if (i + 1 < events_.size() && events_[i + 1].kind == Kind::kEnd &&
            events_[i + 1].layer == Layer::kKernel && events_[i + 1].who == e.who) {
          const Event& x = events_[++i];
          if (x.has_ret) absl::StrAppend(&out, " = ", FormatRet(x.ret));
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
        if (e.has_ret) absl::StrAppend(&out, " = ", FormatRet(e.ret));
        out.push_back('\n');
        break;
      case Kind::kInstant:
        line_start(*d);
        if (e.who.empty() && e.cpu >= 0) absl::StrAppendFormat(&out, "[cpu%d] ", e.cpu);
        absl::StrAppend(&out, e.name, " ", e.detail, "\n");
        break;
    }
  }
  if (truncated_) absl::StrAppend(&out, "... trace truncated after ", max_events_, " events\n");
  return out;
}

std::string TraceRecorder::RenderChromeJson() const {
  std::string out = "{\"traceEvents\":[";
  bool first = true;
  uint64_t ts = 0;
  std::map<int, std::vector<const Event*>> stacks;  // per track: each "E" gets its "B"'s name
  for (const Event& e : events_) {
    if (!first) out.push_back(',');
    first = false;
    const char* ph = e.kind == Kind::kBegin ? "B" : e.kind == Kind::kEnd ? "E" : "i";
    const char* cat = e.layer == Layer::kStep ? "step" : e.layer == Layer::kKernel ? "kernel" : "hw";
    std::string name = e.name;
    std::vector<const Event*>& stack = stacks[e.cpu < 0 ? 0 : e.cpu];
    if (e.kind == Kind::kBegin) stack.push_back(&e);
    if (e.kind == Kind::kEnd && !stack.empty()) {
      name = stack.back()->name;
      stack.pop_back();
    }
    absl::StrAppendFormat(&out, "\n{\"ph\":\"%s\",\"cat\":\"%s\",\"ts\":%d,\"pid\":1,\"tid\":%d,",
                          ph, cat, ts++, e.cpu < 0 ? 0 : e.cpu);
    out.append("\"name\":");
    AppendJsonString(&out, name);
    if (e.kind == Kind::kInstant) out.append(",\"s\":\"t\"");
    out.append(",\"args\":{");
    if (e.kind == Kind::kEnd) {
      if (e.has_ret) absl::StrAppendFormat(&out, "\"ret\":%d", e.ret);
    } else {
      out.append("\"detail\":");
      AppendJsonString(&out, e.detail);
    }
    out.append("}}");
  }
  out.append("\n],\"displayTimeUnit\":\"ns\",\"otherData\":{\"clock\":\"logical: one tick per event\"");
  if (truncated_) out.append(",\"truncated\":true");
  out.append("}}\n");
  return out;
}

}  // namespace sim
