// mm/smp.h: cross-CPU function calls (include/linux/smp.h, smp_types.h) at Linux 6.18.
//
// A CPU asks others to run a function (the TLB shootdown's flush_tlb_func) by queuing a
// call_single_data on each target's call_single_queue and sending it an IPI; the target
// runs the queue in its interrupt handler and unlocks each csd; a sender that waits spins
// until its csds are unlocked (csd_lock_wait).
//
// DEVIATION(smp): delivery. With sim/'s scheduler running several paths
// (kst().sched), an IPI is an event for the scheduler (sched_hooks::ipi_raised) and the
// target handles it at its next interruptible point, so the window in which it still uses
// stale state is real. Without one (a single path), the target's handler runs at once,
// inside the send, with smp_processor_id() switched to the target for its duration.
#ifndef MMSIM_MM_SMP_H_
#define MMSIM_MM_SMP_H_

#include <bitset>

#include "mm/kernel.h"
#include "mm/types.h"

namespace kernel {

typedef void (*smp_call_func_t)(void* info);
typedef bool (*smp_cond_func_t)(int cpu, void* info);

// include/linux/smp_types.h: CSD_FLAG_LOCK while the csd is queued or running.
inline constexpr unsigned int CSD_FLAG_LOCK = 0x01;

// include/linux/smp.h: struct __call_single_data (the llist node is `next`).
struct call_single_data {
  call_single_data* next;
  unsigned int flags;
  smp_call_func_t func;
  void* info;
  int src;  // the sending CPU (CONFIG_CSD_LOCK_WAIT_DEBUG's src), for the trace
};

// kernel/smp.c: SCF_* flags of smp_call_function_many_cond.
inline constexpr unsigned int SCF_WAIT = 1U << 0;
inline constexpr unsigned int SCF_RUN_LOCAL = 1U << 1;

// kernel/smp.c: call_function_init (boot) and its teardown (kernel_shutdown).
void call_function_init();
void call_function_exit();

// kernel/smp.c: run func(info) on every CPU in `mask` for which cond_func (if given)
// says so: the others through IPIs, this CPU directly when SCF_RUN_LOCAL; with SCF_WAIT
// return only once every remote call has finished.
void smp_call_function_many_cond(const std::bitset<NR_CPUS>& mask, smp_call_func_t func,
                                 void* info, unsigned int scf_flags, smp_cond_func_t cond_func);
// kernel/smp.c: on_each_cpu_cond_mask (this CPU included when it is in the mask).
void on_each_cpu_cond_mask(smp_cond_func_t cond_func, smp_call_func_t func, void* info,
                           bool wait, const std::bitset<NR_CPUS>& mask);
// kernel/smp.c: the IPI handler. Runs every csd queued for this CPU, oldest first.
void generic_smp_call_function_single_interrupt();
// Whether `cpu` has csds queued (the scheduler's "IPI pending" test).
inline bool cpu_ipi_pending(int cpu) { return kst().call_single_queue[cpu] != nullptr; }

}  // namespace kernel

#endif  // MMSIM_MM_SMP_H_
