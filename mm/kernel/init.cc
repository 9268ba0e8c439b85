// mm/kernel/init.cc: bringing the kernel up on the simulated hardware and down again.
// Port of init/main.c (start_kernel, rest_init, kernel_init's run_init_process) and the
// CPU feature setup of arch/x86/kernel/cpu/common.c, head_64.S and
// arch/x86/mm/init.c (CR0.WP, EFER.NXE, CR4.PGE/PCIDE/SMEP/SMAP), Linux 6.18.
//
// Deviations (grep "DEVIATION(init)"):
//  - Only what memory management needs: CPU paging features, mm_core_init, the pid
//    namespace, the idle tasks, pid 1 (init, with an address space holding only a
//    [stack]), pid 2 (kthreadd) and, of the initcalls, workingset_init and kswapd_init
//    (pid 3, kswapd0).
//  - kernel_shutdown has no Linux counterpart (machines are not powered off): it makes
//    every task exit and reaps it, so every page and every kernel object is returned
//    before the memory part (mm_core_shutdown) frees mem_map.
//  - power_on_and_boot (no Linux counterpart) builds the simulated hardware and the
//    kernel_state and boots them: the one place sim::Machine and the test fixture
//    make a machine.
#include <algorithm>
#include <memory>
#include <vector>

#include "mm/arch/x86/pkeys.h"
#include "mm/kernel/task.h"
#include "mm/mm.h"
#include "mm/smp.h"
#include "mm/swap.h"
#include "mm/trace.h"
#include "mm/vmscan.h"

namespace kernel {
namespace {

// The stack execve gives init (and sim/'s processes): 128 KiB below the top of the
// 47-bit user half. Linux's STACK_TOP is the same address.
inline constexpr unsigned long STACK_TOP = TASK_SIZE;
inline constexpr unsigned long INIT_STACK_SIZE = 128UL << 10;

// arch/x86/kernel/cpu/common.c (cpu_init, setup_smep/setup_smap/setup_pcid) and the CR0
// and EFER values head_64.S loads: enable the paging features Linux relies on (and
// protection keys where the CPU has them: setup_pku).
int cpu_init(hw::Cpu* c) {
  if (!c->WriteEfer(c->efer() | hw::Cpu::kEferNxe).ok()) return -EINVAL;
  if (!c->WriteCr0(c->cr0() | hw::Cpu::kCr0Wp).ok()) return -EINVAL;
  const uint64_t cr4 = c->cr4() | hw::Cpu::kCr4Pge | hw::Cpu::kCr4Pcide |
                       hw::Cpu::kCr4Smep | hw::Cpu::kCr4Smap;
  if (!c->WriteCr4(cr4).ok()) return -EINVAL;
  setup_pku(c);
  c->SetCpl(0);
  c->Clac();
  return 0;
}

// init/main.c: rest_init + kernel_init. pid 1 is a user-mode thread that execs init;
// pid 2 is kthreadd.
int rest_init() {
  kernel_state& ks = kst();
  pid_t pid = user_mode_thread(nullptr, nullptr, CLONE_FS);
  if (pid < 0) return pid;
  task_struct* init = find_task_by_vpid(pid);
  ks.child_reaper = init;  // init_pid_ns.child_reaper
  pid = kernel_thread(nullptr, nullptr, "kthreadd", CLONE_FS | CLONE_FILES);
  if (pid < 0) return pid;

  // kernel_init: pid 1 runs the initcalls (kernel_init_freeable -> do_basic_setup ->
  // do_initcalls; of them workingset_init and kswapd_init, which starts kswapd0), then
  // execs /sbin/init on this CPU (run_init_process).
  task_struct* idle = current();
  context_switch(init);
  workingset_init();
  kswapd_init();
  int ret = exec_mm_lite(STACK_TOP, INIT_STACK_SIZE);
  if (ret == 0) set_task_comm(init, "init");
  context_switch(idle);
  return ret;
}

}  // namespace

// init/main.c
int start_kernel(kernel_state* ks) {
  BUG_ON(kst_or_null() != ks);  // the caller holds a kernel_state_scope for ks
  trace_call tc("start_kernel", "cpus=%zu frames=%lu", ks->cpus.size(),
                static_cast<unsigned long>(ks->phys->num_frames()));
  if (ks->cpus.empty() || ks->cpus.size() > static_cast<size_t>(NR_CPUS))
    return tc.ret(-EINVAL);
  for (size_t cpu = 0; cpu < ks->cpus.size(); ++cpu) {
    int ret = cpu_init(ks->cpus[cpu]);
    if (ret) return tc.ret(ret);
  }
  ks->this_cpu = 0;
  call_function_init();
  int ret = mm_core_init();
  if (ret) return tc.ret(ret);
  // pid_idr_init: the one pid namespace starts empty.
  ks->pid_table.clear();
  ks->last_pid = 0;
  init_idle_tasks();
  // arch/x86/kernel/cpu/common.c: cpu_init's tail on every CPU, DEVIATION(init): after
  // mm_core_init and init_idle_tasks, which make init_mm's pgd and the idle tasks. The
  // idle task runs lazily on init_mm.
  for (size_t cpu = 0; cpu < ks->cpus.size(); ++cpu) {
    ks->this_cpu = static_cast<int>(cpu);
    task_struct* cur = current();
    mmgrab(&ks->init_mm);
    cur->active_mm = &ks->init_mm;
    BUG_ON(cur->mm != nullptr);
    initialize_tlbstate_and_flush();
    enter_lazy_tlb(&ks->init_mm, cur);
  }
  ks->this_cpu = 0;
  return tc.ret(rest_init());
}

// DEVIATION(init): see the file comment.
void kernel_shutdown(kernel_state* ks) {
  kernel_state_scope scope(ks);
  if (ks->mem_map != nullptr && ks->idle_tasks[0] != nullptr) {
    const int ncpus = static_cast<int>(ks->cpus.size());
    // Every CPU goes idle.
    for (int cpu = 0; cpu < ncpus; ++cpu) {
      ks->this_cpu = cpu;
      context_switch(idle_task(cpu));
    }
    ks->this_cpu = 0;
    // Every live task exits on CPU 0, highest pid first, so init (pid 1) goes last.
    std::vector<pid_t> live;
    for (const auto& [nr, t] : ks->pid_table)
      if (!(t->flags & PF_EXITING)) live.push_back(nr);
    std::sort(live.rbegin(), live.rend());
    for (pid_t nr : live) {
      task_struct* t = find_task_by_vpid(nr);
      if (t == nullptr || (t->flags & PF_EXITING)) continue;
      context_switch(t);
      do_exit(0);
    }
    // Reap every zombie left; a leader goes once its threads are gone.
    while (!ks->pid_table.empty()) {
      task_struct* victim = nullptr;
      for (const auto& [nr, t] : ks->pid_table) {
        if (t->exit_state == EXIT_ZOMBIE && !delay_group_leader(t)) {
          victim = t;
          break;
        }
      }
      BUG_ON(victim == nullptr);  // a live task or an unreapable zombie survived
      victim->exit_state = EXIT_DEAD;
      release_task(victim);
    }
    ks->child_reaper = nullptr;
    // The CPUs go down: none keeps an mm it borrowed (takedown_cpu's idle_task_exit, then
    // finish_cpu), so the last lazily held mm is freed now.
    for (int cpu = 0; cpu < ncpus; ++cpu) {
      ks->this_cpu = cpu;
      idle_task_exit();
    }
    ks->this_cpu = 0;
    for (int cpu = 0; cpu < ncpus; ++cpu) finish_cpu(cpu);
    free_idle_tasks();
  }
  swap_shutdown(ks);  // every mm is gone: no slot is referenced any more
  if (ks->mem_map != nullptr) mm_core_shutdown(ks);
  if (ks->cfd_data != nullptr) call_function_exit();
}

// DEVIATION(init): see mm/kernel.h; the one place machines are built.
int power_on_and_boot(uint64_t mem_bytes, int ncpus, const hw::TlbProfile& tlb,
                      machine_parts* out, const cpu_caps& caps) {
  out->phys = hw::PhysMem::TryCreate(mem_bytes, &out->phys_errno);
  if (out->phys == nullptr) return -ENOMEM;
  out->ks = std::make_unique<kernel_state>();
  out->ks->phys = out->phys.get();
  for (int i = 0; i < ncpus; ++i) {
    out->cpus.push_back(std::make_unique<hw::Cpu>(i, out->phys.get(), tlb));
    out->cpus.back()->set_has_pku(caps.pku);
    out->ks->cpus.push_back(out->cpus.back().get());
  }
  out->ks->x86_feature_gbpages = caps.gbpages;  // early_identify_cpu's CPUID
  kernel_state_scope scope(out->ks.get());
  return start_kernel(out->ks.get());
}

}  // namespace kernel
