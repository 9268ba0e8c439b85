// sim/sched/schedule.cc: see schedule.h.
#include "sim/sched/schedule.h"

#include <algorithm>

#include "absl/status/status.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"

namespace sim {

int DefaultChoice(const Decision& d) {
  if (d.running >= 0 && std::binary_search(d.runnable.begin(), d.runnable.end(), d.running))
    return d.running;
  return d.runnable.front();
}

std::string ScheduleId::ToString() const {
  if (departures.empty()) return "0";
  return absl::StrJoin(departures, "-", [](std::string* out, const std::pair<uint64_t, int>& p) {
    absl::StrAppend(out, p.first, ".", p.second);
  });
}

absl::StatusOr<ScheduleId> ParseScheduleId(absl::string_view text) {
  ScheduleId id;
  if (text == "0") return id;
  if (text.empty()) return absl::InvalidArgumentError("empty schedule id (the default schedule is \"0\")");
  if (text.size() > 1 << 20) return absl::InvalidArgumentError("schedule id longer than 1 MiB");
  int index = 0;
  for (absl::string_view part : absl::StrSplit(text, '-')) {
    ++index;
    std::vector<absl::string_view> fields = absl::StrSplit(part, '.');
    uint64_t step = 0;
    int path = 0;
    if (fields.size() != 2 || !absl::SimpleAtoi(fields[0], &step) ||
        !absl::SimpleAtoi(fields[1], &path) || path < 0 || fields[0].empty() ||
        fields[0][0] == '+' || fields[1][0] == '+' || fields[0][0] == '-') {
      return absl::InvalidArgumentError(absl::StrCat(
          "schedule id departure ", index, " is \"", part, "\"; expected STEP.PATH (e.g. 3.1)"));
    }
    if (!id.departures.empty() && step <= id.departures.back().first) {
      return absl::InvalidArgumentError(absl::StrCat("schedule id departure ", index, " (step ",
                                                     step, ") does not come after the one before"));
    }
    id.departures.emplace_back(step, path);
  }
  return id;
}

int ReplayPolicy::Choose(const Decision& d) {
  while (next_ < id_.departures.size() && id_.departures[next_].first < d.step) ++next_;
  if (next_ < id_.departures.size() && id_.departures[next_].first == d.step) {
    int want = id_.departures[next_].second;
    if (std::binary_search(d.runnable.begin(), d.runnable.end(), want)) return want;
  }
  return DefaultChoice(d);
}

int RecordingPolicy::Choose(const Decision& d) {
  int choice = inner_->Choose(d);
  if (!std::binary_search(d.runnable.begin(), d.runnable.end(), choice)) choice = DefaultChoice(d);
  if (choice != DefaultChoice(d)) id_.departures.emplace_back(d.step, choice);
  if (d.running >= 0 && choice != d.running &&
      std::binary_search(d.runnable.begin(), d.runnable.end(), d.running))
    ++preemptions_;
  ++steps_;
  return choice;
}

}  // namespace sim
