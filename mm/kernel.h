// mm/kernel.h: the kernel's global state, per simulated machine.
//
// Linux keeps mem_map, the buddy zone, the zero page, the pid table and each CPU's
// `current` in globals. A test binary here boots many machines, one after another, so
// those globals are fields of one `kernel_state`, and `kst()` finds the state of the
// machine this host thread is simulating now (installed by `kernel_state_scope`; see the
// rule there for who does). Everything in mm/ reaches its globals through kst(), so a reader
// can map `kst().mem_map` to Linux's `mem_map` one for one.
//
// Threading: one host thread drives one machine; nothing here is shared between host
// threads. Simulated tasks interleave only at explicit points chosen by sim/.
#ifndef MMSIM_MM_KERNEL_H_
#define MMSIM_MM_KERNEL_H_

#include <array>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "hw/cpu.h"
#include "hw/phys_mem.h"
#include "mm/errno.h"
#include "mm/fault_attr.h"
#include "mm/mm_types.h"
#include "mm/sched.h"
#include "mm/types.h"

namespace kernel {

struct page;
struct inode;             // mm/fs.h
struct kernel_observer;   // mm/trace.h
struct zone;              // mm/mmzone.h
struct pvm_hooks;         // mm/process_vm_access.h
struct sched_hooks;       // mm/sched_hooks.h
struct call_single_data;  // mm/smp.h

// /proc/vmstat counters kept by this port (include/linux/vm_event_item.h, mmzone.h names).
enum vm_stat_item {
  NR_FREE_PAGES,
  NR_ANON_MAPPED,
  NR_FILE_MAPPED,
  NR_PAGETABLE,
  NR_FOLL_PIN_ACQUIRED,
  NR_FOLL_PIN_RELEASED,
  PGALLOC_NORMAL,
  PGFREE,
  PGFAULT,
  PGMAJFAULT,
  NR_TLB_REMOTE_FLUSH,
  NR_TLB_REMOTE_FLUSH_RECEIVED,
  NR_TLB_LOCAL_FLUSH_ALL,
  NR_TLB_LOCAL_FLUSH_ONE,
  // The LRU lists' sizes (node_stat_item NR_LRU_BASE + lru) and reclaim's events
  // (vm_event_item), in /proc/vmstat's order among themselves.
  NR_INACTIVE_ANON,
  NR_ACTIVE_ANON,
  NR_INACTIVE_FILE,
  NR_ACTIVE_FILE,
  NR_UNEVICTABLE,
  WORKINGSET_REFAULT_ANON,
  WORKINGSET_REFAULT_FILE,    // mm/workingset.cc: node_stat_item, in /proc/vmstat's order
  WORKINGSET_ACTIVATE_ANON,
  WORKINGSET_ACTIVATE_FILE,
  WORKINGSET_RESTORE_ANON,
  WORKINGSET_RESTORE_FILE,
  PSWPIN,
  PSWPOUT,
  PGACTIVATE,
  PGDEACTIVATE,
  PGSTEAL_KSWAPD,
  PGSTEAL_DIRECT,
  PGSCAN_KSWAPD,
  PGSCAN_DIRECT,
  OOM_KILL,
  ALLOCSTALL_NORMAL,
  // mlock and madvise (mm/mlock.cc, mm/madvise.cc): the zone's mlocked pages and the
  // unevictable list's events, in /proc/vmstat's order among themselves.
  NR_MLOCK,
  PGLAZYFREE,
  PGLAZYFREED,  // clean MADV_FREE folios reclaim dropped without writing them
  UNEVICTABLE_PGCULLED,
  UNEVICTABLE_PGRESCUED,
  UNEVICTABLE_PGMLOCKED,
  UNEVICTABLE_PGMUNLOCKED,
  UNEVICTABLE_PGCLEARED,
  UNEVICTABLE_PGSTRANDED,
  // transparent huge pages (mm/huge_memory.cc): NR_ANON_THPS counts pages mapped by PMD
  // leaves (/proc/vmstat shows nr_anon_transparent_hugepages in 2 MiB units), then the
  // THP events, in /proc/vmstat's order among themselves.
  NR_ANON_THPS,
  THP_FAULT_ALLOC,
  THP_FAULT_FALLBACK,
  THP_SPLIT_PMD,
  THP_ZERO_PAGE_ALLOC,
  THP_ZERO_PAGE_ALLOC_FAILED,
  THP_SPLIT_PAGE,           // split_folio of a THP succeeded
  THP_SPLIT_PAGE_FAILED,    // ... or failed (extra pins: -EAGAIN)
  THP_DEFERRED_SPLIT_PAGE,  // a THP became partially mapped and was queued for a split
  THP_SWPOUT_FALLBACK,      // reclaim split a THP to swap it out page by page
  NR_VM_STAT_ITEMS
};
const char* vm_stat_name(int item);  // "nr_free_pages", "pgfault", ...
// The value /proc/vmstat prints for `item` whose counter holds `v` (vmstat_show): items
// counted in pages but shown in huge pages (vmstat_item_print_in_thp) are divided by
// HPAGE_PMD_NR. `show vmstat` and `expect vmstat` both use it.
long vmstat_shown_value(int item, long v);

// arch/x86/include/asm/tlbflush.h: the per-CPU TLB state (cpu_tlbstate), without the PTI,
// LAM and speculation-mitigation fields. mm/arch/x86/tlb.cc is its user.
// How many mms a CPU keeps ASIDs for (kPCIDs 1..6); a seventh evicts one.
inline constexpr int TLB_NR_DYN_ASIDS = 6;
struct tlb_context {
  u64 ctx_id;   // the mm (mm_context_t::ctx_id) this ASID slot holds, 0: none
  u64 tlb_gen;  // the generation of that mm this CPU's TLB is up to date with
};
struct tlb_state {
  // The mm whose tables CR3 points at: init_mm when none (boot, lazy CPUs a flush moved
  // off a dying mm); LOADED_MM_SWITCHING while switch_mm_irqs_off changes it.
  mm_struct* loaded_mm = nullptr;
  u16 loaded_mm_asid = 0;  // its ASID slot (CR3's PCID is kern_pcid of it)
  u16 next_asid = 0;       // the slot choose_new_asid evicts next (round robin)
  tlb_context ctxs[TLB_NR_DYN_ASIDS] = {};
};
// arch/x86/include/asm/tlbflush.h: the part of the state other CPUs read.
struct tlb_state_shared {
  // A kernel thread runs on the CPU with the previous task's mm still loaded (lazy TLB):
  // flushes that free no page tables skip the CPU, which catches up at its next switch.
  bool is_lazy = false;
};
// arch/x86/include/asm/tlbflush.h
inline mm_struct* const LOADED_MM_SWITCHING = reinterpret_cast<mm_struct*>(1UL);
// include/asm-generic/param.h (CONFIG_HZ=1000, as x86_64_defconfig).
inline constexpr unsigned long HZ = 1000;
// include/linux/jiffies.h
inline bool time_after(unsigned long a, unsigned long b) { return static_cast<long>(b - a) < 0; }

struct kernel_state {
  // --- hardware (owned by sim::Machine) ---
  hw::PhysMem* phys = nullptr;      // the direct map: __va(pa) == phys->ptr(pa)
  std::vector<hw::Cpu*> cpus;       // cpu_possible_mask
  int this_cpu = 0;                 // smp_processor_id()
  std::array<task_struct*, NR_CPUS> current_task{};  // per-CPU `current`
  std::array<int, NR_CPUS> preempt_count{};           // per-CPU (mm/sched_hooks.h)

  // --- IPIs (mm/smp.cc: kernel/smp.c) ---
  std::array<call_single_data*, NR_CPUS> call_single_queue{};  // per-CPU pending csds (LIFO)
  // cfd_data[cpu * NR_CPUS + target]: the csd `cpu` uses to call `target` (allocated at
  // boot for the CPUs present: nr_cpus * nr_cpus entries).
  call_single_data* cfd_data = nullptr;

  // --- memory (mm/page_alloc.cc) ---
  page* mem_map = nullptr;          // one struct page per frame
  unsigned long max_pfn = 0;
  zone* zone_normal = nullptr;      // the only zone
  page* zero_page = nullptr;        // ZERO_PAGE(0), PG_reserved, never freed
  // DEVIATION(kernel): when boot fails because the host refused memory: what for
  // ("mem_map") and mmap's errno. The simulator reports it; no Linux counterpart.
  const char* host_failure = nullptr;
  int host_errno = 0;
  long vm_stat[NR_VM_STAT_ITEMS] = {};
  unsigned long total_swap_pages = 0;  // mm/swapfile.c: the swap devices' pages
  unsigned long nr_swap_pages = 0;     // mm/swapfile.c: of which free (atomic_long_t in Linux)
  struct swap_info_struct* swap_info = nullptr;  // mm/swapfile.c: the one swap device, or null
  unsigned int workingset_bucket_order = 0;  // mm/workingset.c: bucket_order (workingset_init)

  // --- TLB and address-space context (mm/arch/x86/tlb.cc) ---
  std::array<tlb_state, NR_CPUS> cpu_tlbstate{};
  std::array<tlb_state_shared, NR_CPUS> cpu_tlbstate_shared{};
  // mm/init-mm.c: the kernel's own address space, what CPUs run before their first user
  // task and when a flush moves a lazy CPU off a dying mm. Its pgd is swapper_pg_dir,
  // with the direct map every pgd shares (mm/arch/x86/init.cc, docs/semantics.md §14).
  mm_struct init_mm;
  atomic64_t last_mm_ctx_id{1};     // arch/x86/mm/tlb.c: the ctx_id source (init_mm has 1)
  // kernel/time/timer.c. DEVIATION(kernel): there is no timer tick. jiffies advance by one
  // at every kernel entry of a task (sim::Machine::Enter: a system call, a user access, a
  // RunInKernel body), a deterministic clock of one entry per millisecond at HZ=1000
  // (docs/races.md). mm_cpumask trimming (should_trim_cpumask) is the one reader.
  unsigned long jiffies = 0;

  // --- slab accounting (mm/slab.cc) ---
  long slab_allocations = 0;        // live kmalloc objects
  long slab_bytes = 0;

  // --- tasks (kernel/pid.cc) ---
  std::map<pid_t, task_struct*> pid_table;  // init_pid_ns: pid -> task (until reaped)
  pid_t last_pid = 0;
  pid_t pid_max = 4194304;
  std::array<task_struct*, NR_CPUS> idle_tasks{};  // init_task and the other CPUs' idle tasks (pid 0)
  task_struct* child_reaper = nullptr;             // init_pid_ns.child_reaper: pid 1
  // kernel/fork.c: mm_ida, the mm ids in use (CONFIG_MM_ID; lib/idr.c's IDA as a set:
  // ida_alloc_range gives the lowest free id).
  std::set<unsigned int> mm_ida;

  // --- files (mm/fs.cc) ---
  std::map<unsigned long, inode*> inodes;  // every live inode by i_ino (the sb s_inodes lists)
  unsigned long last_ino = 0;              // get_next_ino
  page* vvar_page = nullptr;               // the [vvar] data page (arch/x86/entry/vdso)

  // --- sysctls ---
  int sysctl_max_map_count = 65530;  // DEFAULT_MAX_MAP_COUNT
  int min_free_kbytes = 1024;         // vm.min_free_kbytes (calculate_min_free_kbytes at boot)
  int user_min_free_kbytes = -1;      // set by a write to the sysctl
  int watermark_scale_factor = 10;    // vm.watermark_scale_factor (0.1% of the zone)
  // include/linux/printk.h: the kernel log (dmesg) of this machine, one line per message,
  // each "<level>text" without the newline. sim/ shows it (`show dmesg`).
  std::vector<std::string> printk_log;
  int suid_dumpable = 0;             // fs.suid_dumpable
  // security/min_addr.c. dac_mmap_min_addr is the sysctl vm.mmap_min_addr: below it a
  // mapping needs CAP_SYS_RAWIO (cap_mmap_addr). mmap_min_addr, the larger of it and
  // CONFIG_LSM_MMAP_MIN_ADDR (65536; this host's kernel has CONFIG_SECURITY_SELINUX=y),
  // is where hints are raised to and where address searches stop
  // (update_mmap_min_addr keeps it current). 65536 is CONFIG_DEFAULT_MMAP_MIN_ADDR on
  // most distributions (the host's kernel: 4096).
  unsigned long dac_mmap_min_addr = 65536;
  unsigned long mmap_min_addr = 65536;
  bool x86_feature_ospke = false;  // boot_cpu_has(X86_FEATURE_OSPKE): setup_pku set CR4.PKE
  bool x86_feature_gbpages = false;  // boot_cpu_has(X86_FEATURE_GBPAGES)
  // DEVIATION(kernel): not a Linux sysctl. How many remote pages process_vm_readv/writev
  // pins per batch; Linux fixes it at PVM_MAX_KMALLOC_PAGES / sizeof(struct page *) = 1024.
  int sysctl_pvm_max_batch_pages = 1024;
  // mm/huge_memory.c: /sys/kernel/mm/transparent_hugepage's enabled, defrag and
  // use_zero_page (enum transparent_hugepage_flag in mm/huge_mm.h). The default is
  // TRANSPARENT_HUGEPAGE_DEFAULT_FLAGS: enabled=madvise, defrag=madvise, use_zero_page=1.
  unsigned long transparent_hugepage_flags = (1UL << 2) | (1UL << 6) | (1UL << 7) | (1UL << 8);
  page* huge_zero_folio = nullptr;  // mm/huge_memory.c: the huge zero folio, once allocated
  // mm/huge_memory.c: the deferred split queue (struct deferred_split, one per node; no
  // memcg): partially mapped THPs that deferred_split_scan splits under memory pressure.
  struct {
    spinlock_t split_queue_lock;
    list_head split_queue;  // of folio_deferred_list(); made empty by mm_init
    unsigned long split_queue_len = 0;
    long nr_deferred = 0;  // its shrinker's scan work carried over (shrinker->nr_deferred)
  } deferred_split_queue;
  // arch/x86/mm/init.c: pgt_buf, the boot-time frames the direct map's tables come from
  // (mm/arch/x86/init.cc), and the next free one.
  unsigned long pgt_buf_start = 0, pgt_buf_end = 0;

  // --- warnings (mm/bug.cc) ---
  unsigned long warn_count = 0;           // WARN_ON* reports on this machine
  std::set<const void*> warned_once;      // WARN_ON_ONCE call sites that have fired

  // --- instrumentation (sim/ installs these; null = off, one branch) ---
  kernel_observer* observer = nullptr;
  fault_inject_state fault_inject;  // mm/fault_attr.h: the armed fault points
  struct pvm_hooks* pvm_hooks = nullptr;  // test hooks of mm/process_vm_access.cc
  sched_hooks* sched = nullptr;  // sim/'s scheduler while several paths run (mm/sched_hooks.h)
  // A kernel thread with a function (task_struct::threadfn) was created or woken while no
  // scheduler ran: sim/ runs such threads when the current kernel entry ends.
  bool kthread_wakeups_pending = false;
  // rcu_read_lock depth of the running path (mm/sched_hooks.h): no preemption point
  // inside a read-side section, so at most one path is ever inside one.
  int rcu_read_lock_nesting = 0;
};

// The state of the machine this host thread is simulating. BUG if there is none (checked
// in debug and sanitizer builds; under NDEBUG a missing machine is a null dereference).
// Inline: every trace point, fault point, __va() and current() goes through it, ~25
// times per page copied by process_vm_readv. constinit: no TLS init wrapper.
extern constinit thread_local kernel_state* kst_active_state;
[[noreturn]] void kst_none();
inline kernel_state& kst() {
#ifndef NDEBUG
  if (__builtin_expect(kst_active_state == nullptr, 0)) kst_none();
#endif
  return *kst_active_state;
}
inline kernel_state* kst_or_null() { return kst_active_state; }
// Installs `ks` as this thread's active machine for the scope's lifetime (nests).
// Who installs it, the one rule: above mm/, only sim::Machine's public methods, each for
// the duration of its call (through Machine::Enter, sim/machine.h); nothing above mm/
// holds a kernel_state* or a scope of its own. In mm/, the unit-test fixture holds one for
// a test's lifetime, and the entry points that take a kernel_state* or build one
// (power_on_and_boot, kernel_shutdown, debug_vm_check) install their own; start_kernel
// expects its caller's.
class kernel_state_scope {
 public:
  explicit kernel_state_scope(kernel_state* ks);
  ~kernel_state_scope();
  kernel_state_scope(const kernel_state_scope&) = delete;
  kernel_state_scope& operator=(const kernel_state_scope&) = delete;

 private:
  kernel_state* prev_;
};

inline int smp_processor_id() { return kst().this_cpu; }
inline hw::Cpu* this_cpu_hw() { return kst().cpus[kst().this_cpu]; }
// Linux's `current`. DEVIATION(kernel): a function call, since a macro named `current`
// would break any C++ header that uses the word.
inline task_struct* current() { return kst().current_task[kst().this_cpu]; }

inline void count_vm_event(vm_stat_item item) { ++kst().vm_stat[item]; }
inline void count_vm_events(vm_stat_item item, long delta) { kst().vm_stat[item] += delta; }
inline void mod_node_page_state(vm_stat_item item, long delta) { kst().vm_stat[item] += delta; }

// ---- boot (init/main.c, mm/mm_init.c) ----
// start_kernel() brings a kernel up on the hardware already in ks->phys and ks->cpus
// and makes ks the active state of this thread's scope (the caller holds a
// kernel_state_scope). It returns 0 or a negative errno.
int start_kernel(kernel_state* ks);
// mm/mm_init.cc: mem_map, the buddy allocator over all frames, the zero page.
int mm_core_init();
// Tears everything down (host memory of mem_map etc.); the machine is unusable after.
void kernel_shutdown(kernel_state* ks);
// mm/mm_init.cc: the memory half of kernel_shutdown (frees mem_map and the zone).
void mm_core_shutdown(kernel_state* ks);

// The simulated hardware a kernel runs on (PhysMem, CPUs) and its kernel_state, owned
// together. Destroy in reverse: kernel_shutdown(ks) first, then the members.
struct machine_parts {
  std::unique_ptr<hw::PhysMem> phys;  // null when the host refused the reservation
  int phys_errno = 0;                 // then: mmap's errno
  std::vector<std::unique_ptr<hw::Cpu>> cpus;
  std::unique_ptr<kernel_state> ks;
};
// DEVIATION(kernel): the power-on of a machine (no Linux counterpart). Builds `mem_bytes`
// of memory and `ncpus` CPUs with `tlb`, a kernel_state over them, and runs start_kernel
// inside a scope of its own. Returns start_kernel's result; *out is filled even when it
// fails (the caller still kernel_shutdown()s it), except when the host refuses the
// simulated memory itself: then -ENOMEM, out->phys and out->ks stay null and
// out->phys_errno says why. `caps`: what the CPUs report in CPUID beyond the baseline.
struct cpu_caps {
  bool pku = false;      // X86_FEATURE_PKU: protection keys, turned on by setup_pku
  bool gbpages = false;  // X86_FEATURE_GBPAGES: 1 GiB pages, hence the 1 GiB hstate
};
int power_on_and_boot(uint64_t mem_bytes, int ncpus, const hw::TlbProfile& tlb,
                      machine_parts* out, const cpu_caps& caps = {});

}  // namespace kernel

#endif  // MMSIM_MM_KERNEL_H_
