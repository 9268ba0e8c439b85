// mm/fault_inject.h: fault-injection points (include/linux/fault-inject.h at Linux 6.18), by Linux's names.
//
// mm/ asks "should this call fail?" at the places Linux has a point (fail_page_alloc,
// failslab) and at the extra points this port adds (mm/fault_attr.h lists them). The
// answer comes from the machine's own fault_attr table (kst().fault_inject): one mechanism
// for unit tests (fault_inject_arm, in the kernel's scope), the suites and scenarios
// (sim::Machine::ArmFault, which calls the same function). With nothing armed a point
// costs one load and one predictable branch.
#ifndef MMSIM_MM_FAULT_INJECT_H_
#define MMSIM_MM_FAULT_INJECT_H_

#include <cstddef>
#include <cstdint>

#include "mm/fault_attr.h"
#include "mm/kernel.h"

namespace kernel {

// lib/fault-inject.c: one pass through an armed point; true means "fail this one".
bool should_fail(fault_attr* attr, ssize_t size);

inline bool should_fail_point(fault_point point, size_t size = 0) {
  fault_inject_state& fi = kst().fault_inject;
  return unlikely(fi.nr_armed != 0) && should_fail(&fi.attr[point], static_cast<ssize_t>(size));
}
// mm/fail_page_alloc.c
inline bool should_fail_alloc_page(gfp_t /*gfp_mask*/, unsigned int order) {
  return should_fail_point(FAIL_PAGE_ALLOC, size_t{1} << order);
}
// mm/failslab.c
inline bool should_failslab(size_t size, gfp_t /*gfpflags*/) {
  return should_fail_point(FAILSLAB, size);
}

// ---- configuration (Linux: debugfs files under /sys/kernel/debug/<point>/) ----
// The point called `name`, or -EINVAL.
int fault_point_by_name(const char* name);
// Arms `point` with `spec` and restarts its counts: 0, or -EINVAL for an unknown point or
// a bad spec (probability outside [0,1], times 0 or below -1).
int fault_inject_arm(const char* point, const fault_spec& spec);
// Disarms `point` (null: every point). Its counts stay readable until it is armed again.
void fault_inject_disarm(const char* point);
// Passes through / failures of `point` since it was last armed (0 for an unknown point).
uint64_t fault_inject_calls(const char* point);
uint64_t fault_inject_failures(const char* point);
// Seeds the probability draws (the machine's seed; sim::Machine calls it at boot).
void fault_inject_seed(uint64_t seed);

}  // namespace kernel

#endif  // MMSIM_MM_FAULT_INJECT_H_
