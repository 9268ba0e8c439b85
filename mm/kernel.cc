// mm/kernel.cc: the per-thread pointer to the machine being simulated.
#include "mm/kernel.h"

namespace kernel {
namespace {

const char* const kVmStatNames[NR_VM_STAT_ITEMS] = {
    "nr_free_pages",        "nr_anon_pages",        "nr_mapped",
    "nr_page_table_pages",  "nr_foll_pin_acquired", "nr_foll_pin_released",
    "pgalloc_normal",       "pgfree",               "pgfault",
    "pgmajfault",           "nr_tlb_remote_flush",  "nr_tlb_remote_flush_received",
    "nr_tlb_local_flush_all", "nr_tlb_local_flush_one",
    "nr_inactive_anon",     "nr_active_anon",       "nr_inactive_file",
    "nr_active_file",       "nr_unevictable",       "workingset_refault_anon",
    "workingset_refault_file", "workingset_activate_anon", "workingset_activate_file",
    "workingset_restore_anon", "workingset_restore_file",
    "pswpin",               "pswpout",              "pgactivate",
    "pgdeactivate",         "pgsteal_kswapd",       "pgsteal_direct",
    "pgscan_kswapd",        "pgscan_direct",        "oom_kill",
    "allocstall_normal",
    "nr_mlock",             "pglazyfree",           "pglazyfreed",
    "unevictable_pgs_culled",
    "unevictable_pgs_rescued", "unevictable_pgs_mlocked", "unevictable_pgs_munlocked",
    "unevictable_pgs_cleared", "unevictable_pgs_stranded",
};
}  // namespace

const char* vm_stat_name(int item) {
  return item >= 0 && item < NR_VM_STAT_ITEMS ? kVmStatNames[item] : "?";
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
