// mm/kernel.cc: the per-thread pointer to the machine being simulated.
#include "mm/kernel.h"

namespace kernel {
namespace {
thread_local kernel_state* active_state = nullptr;

const char* const kVmStatNames[NR_VM_STAT_ITEMS] = {
    "nr_free_pages",        "nr_anon_pages",        "nr_mapped",
    "nr_page_table_pages",  "nr_foll_pin_acquired", "nr_foll_pin_released",
    "pgalloc_normal",       "pgfree",               "pgfault",
    "pgmajfault",           "nr_tlb_remote_flush",  "nr_tlb_remote_flush_received",
    "nr_tlb_local_flush_all", "nr_tlb_local_flush_one",
};
}  // namespace

const char* vm_stat_name(int item) {
  return item >= 0 && item < NR_VM_STAT_ITEMS ? kVmStatNames[item] : "?";
}

kernel_state& kst() {
  BUG_ON(active_state == nullptr);
  return *active_state;
}

kernel_state* kst_or_null() { return active_state; }

kernel_state_scope::kernel_state_scope(kernel_state* ks) : prev_(active_state) {
  active_state = ks;
}

kernel_state_scope::~kernel_state_scope() { active_state = prev_; }

}  // namespace kernel
