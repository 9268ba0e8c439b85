// mm/kernel.cc: the per-thread pointer to the machine being simulated.
#include "mm/kernel.h"
#include "mm/huge_mm.h"
#include "mm/vmstat_names.h"

namespace kernel {
static_assert(sizeof(kVmStatNames) / sizeof(kVmStatNames[0]) == NR_VM_STAT_ITEMS,
              "mm/vmstat_names.h lists every vmstat item");


const char* vm_stat_name(int item) {
  return item >= 0 && item < NR_VM_STAT_ITEMS ? kVmStatNames[item] : "?";
}

// mm/vmstat.c: vmstat_item_print_in_thp
static bool vmstat_item_print_in_thp(int item) { return item == NR_ANON_THPS; }

// mm/vmstat.c: vmstat_show (the value it prints)
long vmstat_shown_value(int item, long v) {
  return vmstat_item_print_in_thp(item) ? v / HPAGE_PMD_NR : v;
}

constinit thread_local kernel_state* kst_active_state = nullptr;

void kst_none() {
  BUG_ON(true);
  __builtin_unreachable();
}

kernel_state_scope::kernel_state_scope(kernel_state* ks) : prev_(kst_active_state) {
  kst_active_state = ks;
}

kernel_state_scope::~kernel_state_scope() { kst_active_state = prev_; }

}  // namespace kernel
