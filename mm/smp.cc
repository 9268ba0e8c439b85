// mm/smp.cc: cross-CPU function calls.
//
// Port of kernel/smp.c (smp_call_function_many_cond, csd_lock/csd_unlock/csd_lock_wait,
// __flush_smp_call_function_queue) at Linux 6.18, reduced to the call-function-many path
// the TLB shootdown takes. Delivery is DEVIATION(smp), see smp.h.
#include "mm/smp.h"

#include "mm/bug.h"
#include "mm/sched_hooks.h"
#include "mm/trace.h"

namespace kernel {
namespace {

int nr_cpu_ids() { return static_cast<int>(kst().cpus.size()); }

call_single_data* cfd_csd(int cpu, int target) {
  return &kst().cfd_data[cpu * nr_cpu_ids() + target];
}

// kernel/smp.c
bool csd_is_unlocked(const void* arg) {
  return !(static_cast<const call_single_data*>(arg)->flags & CSD_FLAG_LOCK);
}
void csd_lock_wait(call_single_data* csd) {
  if (csd_is_unlocked(csd)) return;
  sched_wait(csd, "csd_lock", csd_is_unlocked, csd);
}
void csd_lock(call_single_data* csd) {
  csd_lock_wait(csd);
  csd->flags |= CSD_FLAG_LOCK;
}
void csd_unlock(call_single_data* csd) {
  BUG_ON(!(csd->flags & CSD_FLAG_LOCK));
  csd->flags &= ~CSD_FLAG_LOCK;
}

// arch/x86/kernel/smp.c: native_send_call_func_ipi, one target at a time.
void send_call_function_single_ipi(int cpu) {
  trace_event("ipi_send", "from=%d to=%d", smp_processor_id(), cpu);
  if (kst().sched != nullptr) {
    kst().sched->ipi_raised(cpu);
    return;
  }
  // DEVIATION(smp): no scheduler, so the target takes the interrupt now.
  const int self = kst().this_cpu;
  kst().this_cpu = cpu;
  generic_smp_call_function_single_interrupt();
  kst().this_cpu = self;
}

}  // namespace

// kernel/smp.c
void call_function_init() {
  const int n = nr_cpu_ids();
  kst().cfd_data = new call_single_data[static_cast<size_t>(n) * n]();
  for (int cpu = 0; cpu < NR_CPUS; ++cpu) kst().call_single_queue[cpu] = nullptr;
}

// DEVIATION(smp): boot's allocation goes back at kernel_shutdown.
void call_function_exit() {
  delete[] kst().cfd_data;
  kst().cfd_data = nullptr;
}

// kernel/smp.c
void smp_call_function_many_cond(const std::bitset<NR_CPUS>& cpumask, smp_call_func_t func,
                                 void* info, unsigned int scf_flags, smp_cond_func_t cond_func) {
  const int this_cpu = smp_processor_id();
  // cfd->cpumask: a snapshot, since the caller's mask (mm_cpumask) may change while we
  // wait for the IPIs (a handler can trim it).
  const std::bitset<NR_CPUS> mask = cpumask;
  const bool wait = scf_flags & SCF_WAIT;
  const int n = nr_cpu_ids();
  bool run_remote = false;
  bool run_local = (scf_flags & SCF_RUN_LOCAL) && mask.test(this_cpu) &&
                   (cond_func == nullptr || cond_func(this_cpu, info));

  std::bitset<NR_CPUS> cpumask_ipi;
  for (int cpu = 0; cpu < n; ++cpu) {
    if (cpu == this_cpu || !mask.test(cpu)) continue;
    if (cond_func != nullptr && !cond_func(cpu, info)) continue;
    call_single_data* csd = cfd_csd(this_cpu, cpu);
    csd_lock(csd);
    csd->func = func;
    csd->info = info;
    csd->src = this_cpu;
    // llist_add: the first entry on an empty queue is what needs an IPI.
    const bool was_empty = kst().call_single_queue[cpu] == nullptr;
    csd->next = kst().call_single_queue[cpu];
    kst().call_single_queue[cpu] = csd;
    if (was_empty) cpumask_ipi.set(cpu);
    run_remote = true;
  }
  for (int cpu = 0; cpu < n; ++cpu)
    if (cpumask_ipi.test(cpu)) send_call_function_single_ipi(cpu);

  if (run_local) func(info);  // with interrupts off, before waiting

  if (run_remote && wait) {
    sched_point(SCHED_POINT_IPI, info, "smp_call_function_many");
    for (int cpu = 0; cpu < n; ++cpu) {
      if (cpu == this_cpu || !mask.test(cpu)) continue;
      csd_lock_wait(cfd_csd(this_cpu, cpu));
    }
  }
}

// kernel/smp.c
void on_each_cpu_cond_mask(smp_cond_func_t cond_func, smp_call_func_t func, void* info,
                           bool wait, const std::bitset<NR_CPUS>& mask) {
  unsigned int scf_flags = SCF_RUN_LOCAL;
  if (wait) scf_flags |= SCF_WAIT;
  smp_call_function_many_cond(mask, func, info, scf_flags, cond_func);
}

// kernel/smp.c: generic_smp_call_function_single_interrupt -> __flush_smp_call_function_queue.
void generic_smp_call_function_single_interrupt() {
  const int cpu = smp_processor_id();
  // llist_del_all, then llist_reverse_order: run in the order they were queued.
  call_single_data* entry = kst().call_single_queue[cpu];
  kst().call_single_queue[cpu] = nullptr;
  call_single_data* ordered = nullptr;
  while (entry != nullptr) {
    call_single_data* next = entry->next;
    entry->next = ordered;
    ordered = entry;
    entry = next;
  }
  for (call_single_data* csd = ordered; csd != nullptr;) {
    call_single_data* next = csd->next;  // the csd may be reused once unlocked
    trace_event("ipi_receive", "cpu=%d from=%d", cpu, csd->src);
    csd->func(csd->info);
    csd_unlock(csd);
    csd = next;
  }
}

}  // namespace kernel
