// mm/vmstat_names.h: the names of the vmstat items, in enum order (mm/vmstat.c's
// vmstat_text). Header only and free of dependencies, so the scenario parser can know the
// names without linking the kernel; mm/kernel.cc checks the count against the enum.
#ifndef MMSIM_MM_VMSTAT_NAMES_H_
#define MMSIM_MM_VMSTAT_NAMES_H_

namespace kernel {

inline constexpr const char* kVmStatNames[] = {
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
    "nr_anon_transparent_hugepages", "thp_fault_alloc", "thp_fault_fallback",
    "thp_split_pmd",        "thp_zero_page_alloc",  "thp_zero_page_alloc_failed",
    "thp_split_page",       "thp_split_page_failed", "thp_deferred_split_page",
    "thp_swpout_fallback",
};

}  // namespace kernel

#endif  // MMSIM_MM_VMSTAT_NAMES_H_
