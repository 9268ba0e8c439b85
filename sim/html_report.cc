// sim/html_report.cc
#include "sim/html_report.h"

#include <algorithm>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/string_view.h"
#include "hw/paging_entry.h"
#include "mm/kernel.h"
#include "mm/mm.h"
#include "mm/sched.h"
#include "sim/scenario/format.h"
#include "sim/views.h"

namespace sim {
namespace {

// The page: styles, script and the two placeholders (title, data). sim/html_page.inc
// holds it as a raw string, kHtmlPage.
#include "sim/html_page.inc"

// A JSON string. '<', '>' and '&' are escaped too, so the data can sit inside a <script>
// element whatever the scenario printed.
void AppendJson(std::string* out, absl::string_view s) {
  out->push_back('"');
  for (char c : s) {
    const unsigned char u = static_cast<unsigned char>(c);
    switch (c) {
      case '"': out->append("\\\""); break;
      case '\\': out->append("\\\\"); break;
      case '\n': out->append("\\n"); break;
      case '\t': out->append("\\t"); break;
      case '<': out->append("\\u003c"); break;
      case '>': out->append("\\u003e"); break;
      case '&': out->append("\\u0026"); break;
      default:
        if (u < 0x20 || u == 0x7f) {
          absl::StrAppendFormat(out, "\\u%04x", u);
        } else {
          out->push_back(c);
        }
    }
  }
  out->push_back('"');
}

std::string Json(absl::string_view s) {
  std::string out;
  AppendJson(&out, s);
  return out;
}

// At most max bytes of a view, cut at a line end, with a note when cut.
std::string Capped(std::string text, size_t max) {
  if (text.size() <= max) return text;
  size_t cut = text.rfind('\n', max);
  cut = cut == std::string::npos ? max : cut + 1;
  const size_t dropped = text.size() - cut;
  text.resize(cut);
  absl::StrAppend(&text, "... ", dropped, " more bytes not kept (the page keeps ", max, " per view)\n");
  return text;
}

// Hardware events as the recorder names them (sim/trace/recorder.cc).
bool IsHwEvent(absl::string_view rest) {
  static constexpr absl::string_view kNames[] = {"walk ",     "tlb_hit ",   "tlb_miss ",
                                                 "psc_hit ",  "tlb_fill ",  "tlb_evict ",
                                                 "tlb_flush ", "fault ",    "cr3_write "};
  for (absl::string_view n : kNames) {
    if (absl::StartsWith(rest, n)) return true;
  }
  return false;
}

struct TraceNode {
  std::string text, ret;
  bool hw = false;
  size_t indent = 0;
  std::vector<std::unique_ptr<TraceNode>> kids;
};

void AppendNode(std::string* out, const TraceNode& n) {
  out->append("{\"t\":");
  AppendJson(out, n.text);
  if (!n.ret.empty()) {
    out->append(",\"r\":");
    AppendJson(out, n.ret);
  }
  if (n.hw) out->append(",\"h\":1");
  if (!n.kids.empty()) {
    out->append(",\"k\":[");
    for (size_t i = 0; i < n.kids.size(); ++i) {
      if (i > 0) out->push_back(',');
      AppendNode(out, *n.kids[i]);
    }
    out->push_back(']');
  }
  out->push_back('}');
}

// One table as JSON: {"l":LEVEL,"pa":"0x..","e":[[INDEX,"VA-START","VA-END","FLAGS",
// "PFN",CHILD-OR-null,KERNEL-HALF],...]}; entries past the budget are counted in "more".
// In the kernel half a run of equal leaves (TableRows) is one row: INDEX "FIRST-LAST",
// PFN "FIRST-LAST".
void AppendTable(Machine& m, uint64_t pa, int level, uint64_t va_base, bool kernel_half, size_t* budget,
                 std::string* out) {
  absl::StrAppendFormat(out, "{\"l\":%d,\"pa\":\"%#x\",\"e\":[", level, pa);
  size_t more = 0;
  bool first = true;
  for (const TableRow& r : TableRows(m, pa, level, va_base, kernel_half)) {
    if (*budget == 0) {
      ++more;
      continue;
    }
    --*budget;
    const uint64_t frame = r.entry & kernel::PTE_PFN_MASK;
    if (!first) out->push_back(',');
    first = false;
    if (r.first == r.last) {
      absl::StrAppendFormat(out, "[%u,\"%#x\",\"%#x\",\"%s\",\"%#x\",", r.first, r.va_start, r.va_end,
                            EntryBits(r.entry), frame >> 12);
    } else {
      absl::StrAppendFormat(out, "[\"%u-%u\",\"%#x\",\"%#x\",\"%s\",\"%#x-%#x\",", r.first, r.last, r.va_start,
                            r.va_end, EntryBits(r.entry), frame >> 12,
                            r.last_pfn + (uint64_t{1} << (9 * (level - 1))) - 1);
    }
    if (r.leaf) {
      out->append("null");
    } else {
      AppendTable(m, frame, level - 1, r.va_base_child, r.kernel_half, budget, out);
    }
    out->append(r.kernel_half ? ",1]" : ",0]");
  }
  out->push_back(']');
  if (more > 0) absl::StrAppendFormat(out, ",\"more\":%u", more);
  out->push_back('}');
}

}  // namespace

HtmlReport::HtmlReport(std::string title, std::string* output, size_t max_steps)
    : title_(std::move(title)),
      output_(output),
      recorder_(TraceLevel::kFull, 4 * kMaxTraceLines),
      max_steps_(max_steps) {}

int HtmlReport::Intern(std::string json) {
  auto [it, added] = pool_index_.emplace(std::move(json), static_cast<int>(pool_.size()));
  if (added) {
    pool_.push_back(it->first);
    pool_bytes_ += it->first.size();
  }
  return it->second;
}

std::string HtmlReport::TraceTreeJson(const std::string& text, size_t max_lines) {
  TraceNode root;
  std::map<std::string, std::vector<TraceNode*>> stacks;  // per path tag: open calls
  size_t lines = 0, dropped = 0;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t nl = text.find('\n', pos);
    if (nl == std::string::npos) nl = text.size();
    absl::string_view line(text.data() + pos, nl - pos);
    pos = nl + 1;
    if (line.empty()) continue;
    if (lines >= max_lines) {
      ++dropped;
      continue;
    }
    ++lines;
    size_t indent = line.find_first_not_of(' ');
    if (indent == absl::string_view::npos) continue;
    absl::string_view rest = line.substr(indent);
    std::string tag;
    if (absl::StartsWith(rest, "[cpu")) {
      const size_t close = rest.find("] ");
      const absl::string_view inside = close == absl::string_view::npos ? "" : rest.substr(1, close - 1);
      if (inside.find(' ') != absl::string_view::npos) {  // "[cpu1 reader:12]": a path
        tag = std::string(inside);
        rest = rest.substr(close + 2);
      }
    }
    std::vector<TraceNode*>& stack = stacks[tag];
    if (absl::StartsWith(rest, "} ")) {  // "} fn = ret" closes the call opened at this indent
      while (!stack.empty() && stack.back()->indent > indent) stack.pop_back();
      if (!stack.empty() && stack.back()->indent == indent) {
        const absl::string_view tail = rest.substr(2);
        const size_t eq = tail.find(" = ");
        if (eq != absl::string_view::npos) stack.back()->ret = std::string(tail.substr(eq + 3));
        stack.pop_back();
      }
      continue;
    }
    while (!stack.empty() && stack.back()->indent >= indent) stack.pop_back();
    auto node = std::make_unique<TraceNode>();
    node->indent = indent;
    node->text = tag.empty() ? std::string(rest) : absl::StrCat("[", tag, "] ", rest);
    absl::string_view bare = rest;
    if (absl::StartsWith(bare, "[cpu")) {  // an untagged hardware event: "[cpu0] tlb_miss ..."
      const size_t close = bare.find("] ");
      if (close != absl::string_view::npos) bare = bare.substr(close + 2);
    }
    node->hw = IsHwEvent(bare);
    TraceNode* raw = node.get();
    (stack.empty() ? root : *stack.back()).kids.push_back(std::move(node));
    stack.push_back(raw);
  }
  if (dropped > 0) {
    auto more = std::make_unique<TraceNode>();
    more->text = absl::StrCat("... ", dropped, " more trace lines not kept (the page keeps ", max_lines,
                              " per statement)");
    root.kids.push_back(std::move(more));
  }
  std::string out = "[";
  for (size_t i = 0; i < root.kids.size(); ++i) {
    if (i > 0) out.push_back(',');
    AppendNode(&out, *root.kids[i]);
  }
  out.push_back(']');
  return out;
}

std::string HtmlReport::PageTableJson(Machine& m, int pid, size_t max_entries) {
  return m.Inspect([&](const kernel::kernel_state&) -> std::string {
    kernel::task_struct* t = m.FindTask(pid);
    if (t == nullptr || t->mm == nullptr || t->exit_state != 0) return "null";
    std::string out;
    size_t budget = max_entries;
    AppendTable(m, kernel::__pa(t->mm->pgd), 4, 0, false, &budget, &out);
    return out;
  });
}

void HtmlReport::AfterStatement(const scenario::Statement& stmt, bool ok, Interpreter& interp) {
  std::string printed = std::move(*output_);
  output_->clear();
  std::string trace = recorder_.RenderText();
  recorder_.Clear();
  if (steps_.size() >= max_steps_ || pool_bytes_ >= kMaxSnapshotBytes) {
    ++skipped_;
    return;
  }
  std::string step = absl::StrFormat("{\"line\":%d,\"stmt\":", scenario::PosOf(stmt).line);
  AppendJson(&step, scenario::FormatStatement(stmt));
  absl::StrAppendFormat(&step, ",\"ok\":%s,\"out\":%d,\"trace\":%d", ok ? "true" : "false",
                        Intern(Json(Capped(std::move(printed), kMaxTextBytes))),
                        Intern(TraceTreeJson(trace, kMaxTraceLines)));
  Machine* m = interp.machine();
  if (m != nullptr) {
    std::vector<std::pair<int, std::string>> tasks;  // by pid
    for (const auto& [name, pid] : interp.task_pids()) tasks.push_back({pid, name});
    std::sort(tasks.begin(), tasks.end());
    step.append(",\"tasks\":[");
    bool first = true;
    for (const auto& [pid, name] : tasks) {
      absl::StatusOr<std::string> maps = ShowMaps(*m, pid);
      if (!maps.ok()) continue;  // exited, or a kernel thread: no address space
      const std::string pt = PageTableJson(*m, pid, kMaxTableEntries);
      if (!first) step.push_back(',');
      first = false;
      step.push_back('[');
      AppendJson(&step, name);
      absl::StrAppendFormat(&step, ",%d,%d,%d]", pid, Intern(Json(Capped(*maps, kMaxTextBytes))),
                            Intern(pt));
    }
    step.append("],\"tlb\":[");
    for (int c = 0; c < m->num_cpus(); ++c) {
      absl::StatusOr<std::string> tlb = ShowTlb(*m, c);
      absl::StrAppendFormat(&step, "%s%d", c > 0 ? "," : "",
                            Intern(Json(Capped(tlb.ok() ? *tlb : std::string(tlb.status().message()),
                                               kMaxTextBytes))));
    }
    absl::StrAppendFormat(&step, "],\"cpus\":%d", Intern(Json(Capped(ShowCpus(*m), kMaxTextBytes))));
  }
  step.push_back('}');
  steps_.push_back(std::move(step));
}

std::string HtmlReport::Render(int status) {
  std::string data = "{\"title\":";
  AppendJson(&data, title_);
  absl::StrAppendFormat(&data, ",\"status\":%d,\"summary\":", status);
  AppendJson(&data, Capped(*output_, kMaxTextBytes));
  absl::StrAppendFormat(&data,
                        ",\"limits\":{\"steps\":%u,\"traceLines\":%u,\"tableEntries\":%u,\"textBytes\":%u,"
                        "\"snapshotBytes\":%u},\"skipped\":%u,\"pool\":[",
                        max_steps_, kMaxTraceLines, kMaxTableEntries, kMaxTextBytes, kMaxSnapshotBytes,
                        skipped_);
  for (size_t i = 0; i < pool_.size(); ++i) absl::StrAppend(&data, i > 0 ? ",\n" : "\n", pool_[i]);
  data.append("],\"steps\":[");
  for (size_t i = 0; i < steps_.size(); ++i) absl::StrAppend(&data, i > 0 ? ",\n" : "\n", steps_[i]);
  data.append("]}");

  std::string title;  // HTML text
  for (char c : title_) {
    switch (c) {
      case '<': title += "&lt;"; break;
      case '>': title += "&gt;"; break;
      case '&': title += "&amp;"; break;
      case '"': title += "&quot;"; break;
      default: title.push_back(c);
    }
  }
  // The title mark comes before the data mark in the page; each is replaced once, the
  // data searched for only after the title's text (which may contain anything).
  std::string page(kHtmlPage);
  size_t from = 0;
  for (const auto& [mark, with] : {std::pair<absl::string_view, const std::string*>{"@TITLE@", &title},
                                   {"@DATA@", &data}}) {
    const size_t at = page.find(mark.data(), from, mark.size());
    if (at == std::string::npos) continue;
    page.replace(at, mark.size(), *with);
    from = at + with->size();
  }
  return page;
}

}  // namespace sim
