// mm/fault_inject.h: fault-injection points (include/linux/fault-inject.h), by Linux's names.
//
// mm/ only asks "should this call fail?" at the places Linux has a point (fail_page_alloc,
// failslab) and at the extra points this port adds (listed in kFaultPoints). The policy —
// nth call, N times, seeded probability — lives in sim/fault and is reached through the
// fault_injector installed in kst().fault; with none installed nothing ever fails.
#ifndef MMSIM_MM_FAULT_INJECT_H_
#define MMSIM_MM_FAULT_INJECT_H_

#include <cstddef>

#include "mm/kernel.h"

namespace kernel {

struct fault_injector {
  virtual ~fault_injector() = default;
  // Called once per pass through the point named `point`; true means "fail this one".
  virtual bool should_fail(const char* point, size_t size) = 0;
};

// Every point mm/ can fail, for flag validation and documentation.
//  fail_page_alloc   alloc_pages (mm/fail_page_alloc.c)
//  failslab          kmalloc (mm/failslab.c)
//  fail_pgtable      page-table page allocation in __pte_alloc/__pmd_alloc/__pud_alloc
//  fail_fault        handle_mm_fault returns VM_FAULT_OOM before doing anything
//  fail_gup          __get_user_pages fails the page it is about to pin (-ENOMEM)
//  fail_uaccess      a user copy stops short as if the next byte faulted
inline constexpr const char* kFaultPoints[] = {
    "fail_page_alloc", "failslab", "fail_pgtable", "fail_fault", "fail_gup", "fail_uaccess",
};

inline bool should_fail_point(const char* point, size_t size = 0) {
  fault_injector* f = kst().fault;
  return unlikely(f != nullptr) && f->should_fail(point, size);
}
inline bool should_fail_alloc_page(gfp_t /*gfp_mask*/, unsigned int order) {
  return should_fail_point("fail_page_alloc", size_t{1} << order);
}
inline bool should_failslab(size_t size, gfp_t /*gfpflags*/) {
  return should_fail_point("failslab", size);
}

}  // namespace kernel

#endif  // MMSIM_MM_FAULT_INJECT_H_
