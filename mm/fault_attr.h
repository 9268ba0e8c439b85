// mm/fault_attr.h: the types of the kernel's fault-injection points, per machine.
//
// Port of the data half of include/linux/fault-inject.h at Linux 6.18. Linux keeps one
// `struct fault_attr` per point (fail_page_alloc.attr, failslab.attr, ...) as a global,
// configured from outside the kernel through debugfs. Here the attributes are fields of
// kernel_state (mm/kernel.h), so each simulated machine has its own, and the "outside"
// that configures them is sim::Machine::ArmFault (scenarios, suites) or a unit test
// calling fault_inject_arm (mm/fault_inject.h) inside the kernel's scope.
//
// DEVIATION(fault_attr): Linux's knobs are probability (percent), interval, times and
// space, plus the per-task fail-nth. This port has one rule per point that covers what
// the tests need: fail the nth pass and none before it (nth 0: any pass is eligible),
// at most `times` failures (-1: no limit), each eligible pass failing with
// `probability`, drawn from the machine's seeded generator.
#ifndef MMSIM_MM_FAULT_ATTR_H_
#define MMSIM_MM_FAULT_ATTR_H_

#include <array>
#include <cstdint>

#include "hw/splitmix64.h"

namespace kernel {

// Every point mm/ can fail. Linux has the first two; the others are this port's.
//  FAIL_PAGE_ALLOC  "fail_page_alloc"  alloc_pages (mm/fail_page_alloc.c)
//  FAILSLAB         "failslab"         kmalloc (mm/failslab.c)
//  FAIL_PGTABLE     "fail_pgtable"     page-table page allocation (__pte_alloc ...)
//  FAIL_FAULT       "fail_fault"       handle_mm_fault returns VM_FAULT_OOM at once
//  FAIL_GUP         "fail_gup"         __get_user_pages fails the page it would pin
//  FAIL_UACCESS     "fail_uaccess"     a user copy stops short as if the next byte faulted
enum fault_point : int {
  FAIL_PAGE_ALLOC,
  FAILSLAB,
  FAIL_PGTABLE,
  FAIL_FAULT,
  FAIL_GUP,
  FAIL_UACCESS,
  NR_FAULT_POINTS
};
inline constexpr const char* fault_point_names[NR_FAULT_POINTS] = {
    "fail_page_alloc", "failslab", "fail_pgtable", "fail_fault", "fail_gup", "fail_uaccess",
};

// When an armed point fails (see the file comment).
struct fault_spec {
  uint64_t nth = 0;          // the first pass that may fail (1-based); 0: any
  int64_t times = 1;         // failures in all; -1: unlimited
  double probability = 1.0;  // chance that an eligible pass fails, in [0, 1]
};

// include/linux/fault-inject.h: struct fault_attr, reduced to this port's rule.
struct fault_attr {
  bool armed = false;
  fault_spec spec;
  uint64_t calls = 0;     // passes through the point since it was armed
  uint64_t failures = 0;  // of which failed
};

// The per-machine fault-injection state (kernel_state::fault_inject).
struct fault_inject_state {
  std::array<fault_attr, NR_FAULT_POINTS> attr{};
  int nr_armed = 0;        // 0: every point answers "no" after one test
  hw::SplitMix64 rnd;      // seeded by fault_inject_seed (the machine's seed)
};

}  // namespace kernel

#endif  // MMSIM_MM_FAULT_ATTR_H_
