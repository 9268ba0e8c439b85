// mm/lib/fault_inject.cc: port of lib/fault-inject.c at Linux 6.18 (should_fail and the
// configuration that debugfs does in Linux), over the per-machine table of mm/fault_attr.h.
//
// DEVIATION(fault_inject): the rule is this port's (mm/fault_attr.h); Linux's verbose
// reporting, task filter, stack-trace filter and space budget are not modelled.
#include <cstring>

#include "mm/fault_inject.h"

namespace kernel {
namespace {

fault_attr* attr_by_name(const char* name) {
  const int point = fault_point_by_name(name);
  return point < 0 ? nullptr : &kst().fault_inject.attr[point];
}

}  // namespace

// lib/fault-inject.c
bool should_fail(fault_attr* attr, ssize_t /*size*/) {
  if (!attr->armed) return false;
  ++attr->calls;
  const fault_spec& spec = attr->spec;
  if (spec.nth != 0 && attr->calls < spec.nth) return false;
  if (spec.times != -1 && attr->failures >= static_cast<uint64_t>(spec.times)) return false;
  if (spec.probability < 1.0 && kst().fault_inject.rnd.NextUnit() >= spec.probability)
    return false;
  ++attr->failures;
  return true;
}

int fault_point_by_name(const char* name) {
  if (name == nullptr) return -EINVAL;
  for (int i = 0; i < NR_FAULT_POINTS; ++i) {
    if (std::strcmp(name, fault_point_names[i]) == 0) return i;
  }
  return -EINVAL;
}

int fault_inject_arm(const char* point, const fault_spec& spec) {
  fault_attr* attr = attr_by_name(point);
  if (attr == nullptr) return -EINVAL;
  if (!(spec.probability >= 0.0 && spec.probability <= 1.0)) return -EINVAL;
  if (spec.times == 0 || spec.times < -1) return -EINVAL;
  fault_inject_state& fi = kst().fault_inject;
  if (!attr->armed) ++fi.nr_armed;
  attr->armed = true;
  attr->spec = spec;
  attr->calls = 0;
  attr->failures = 0;
  return 0;
}

void fault_inject_disarm(const char* point) {
  fault_inject_state& fi = kst().fault_inject;
  for (int i = 0; i < NR_FAULT_POINTS; ++i) {
    if (point != nullptr && std::strcmp(point, fault_point_names[i]) != 0) continue;
    if (fi.attr[i].armed) --fi.nr_armed;
    fi.attr[i].armed = false;
  }
}

uint64_t fault_inject_calls(const char* point) {
  const fault_attr* attr = attr_by_name(point);
  return attr == nullptr ? 0 : attr->calls;
}

uint64_t fault_inject_failures(const char* point) {
  const fault_attr* attr = attr_by_name(point);
  return attr == nullptr ? 0 : attr->failures;
}

void fault_inject_seed(uint64_t seed) { kst().fault_inject.rnd = hw::SplitMix64(seed); }

}  // namespace kernel
