// sim/fault/fault_policy.cc
#include "sim/fault/fault_policy.h"

#include <iterator>

#include "absl/strings/str_cat.h"

namespace sim {

bool FaultPolicy::IsKnownPoint(absl::string_view point) {
  for (const char* p : kernel::kFaultPoints) {
    if (point == p) return true;
  }
  return false;
}

absl::Status FaultPolicy::Arm(absl::string_view point, const FaultSpec& spec) {
  if (!IsKnownPoint(point)) {
    std::string known;
    for (const char* p : kernel::kFaultPoints) absl::StrAppend(&known, known.empty() ? "" : ", ", p);
    return absl::InvalidArgumentError(
        absl::StrCat("unknown fault point '", point, "'; expected one of: ", known));
  }
  if (!(spec.probability >= 0.0 && spec.probability <= 1.0)) {
    return absl::InvalidArgumentError("probability must be between 0 and 1");
  }
  if (spec.times < -1 || spec.times == 0) {
    return absl::InvalidArgumentError("times must be a positive count or -1 (unlimited)");
  }
  points_[std::string(point)] = State{spec, 0, 0};
  return absl::OkStatus();
}

void FaultPolicy::Disarm(absl::string_view point) {
  auto it = points_.find(point);
  if (it != points_.end()) points_.erase(it);
}

uint64_t FaultPolicy::calls(absl::string_view point) const {
  auto it = points_.find(point);
  return it == points_.end() ? 0 : it->second.calls;
}

uint64_t FaultPolicy::failures(absl::string_view point) const {
  auto it = points_.find(point);
  return it == points_.end() ? 0 : it->second.failures;
}

bool FaultPolicy::should_fail(const char* point, size_t /*size*/) {
  auto it = points_.find(absl::string_view(point));
  if (it == points_.end()) return false;
  State& s = it->second;
  ++s.calls;
  if (s.spec.nth != 0 && s.calls < s.spec.nth) return false;
  if (s.spec.times != -1 && s.failures >= static_cast<uint64_t>(s.spec.times)) return false;
  if (s.spec.probability < 1.0 && NextUnit() >= s.spec.probability) return false;
  ++s.failures;
  return true;
}

}  // namespace sim
