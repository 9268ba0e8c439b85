// mm/kernel/test/boot_fixture.cc
#include "mm/kernel/test/boot_fixture.h"

#include "hw/check.h"
#include "hw/tlb_profile.h"
#include "mm/debug_vm.h"

namespace kernel_testing {

using namespace kernel;  // NOLINT: test helper over the kernel namespace

BootedKernel::BootedKernel(uint64_t mem_bytes, int ncpus) {
  phys_ = std::make_unique<hw::PhysMem>(mem_bytes);
  ks_ = std::make_unique<kernel_state>();
  ks_->phys = phys_.get();
  for (int i = 0; i < ncpus; ++i) {
    cpus_.push_back(std::make_unique<hw::Cpu>(i, phys_.get(), hw::DefaultTlbProfile()));
    ks_->cpus.push_back(cpus_.back().get());
  }
  scope_ = std::make_unique<kernel_state_scope>(ks_.get());
  CHECK(start_kernel(ks_.get()) == 0, "start_kernel");
}

BootedKernel::~BootedKernel() {
  kernel::fault_inject_disarm(nullptr);
  kernel_shutdown(ks_.get());
  scope_.reset();
}

void BootedKernel::RunAs(task_struct* t, int cpu) {
  if (cpu < 0) cpu = t->on_cpu >= 0 ? t->on_cpu : 0;
  if (t->on_cpu >= 0 && t->on_cpu != cpu) {
    ks_->this_cpu = t->on_cpu;
    context_switch(idle_task(t->on_cpu));
  }
  ks_->this_cpu = cpu;
  cpus_[cpu]->SetCpl(0);
  context_switch(t);
}

task_struct* BootedKernel::Spawn(const char* comm, const TestCreds& tc) {
  RunAs(child_reaper());
  kernel_clone_args args{};
  args.flags = CLONE_VM | CLONE_VFORK;
  args.exit_signal = SIGCHLD;
  pid_t pid = kernel_clone(&args);
  CHECK(pid > 0, "kernel_clone");
  task_struct* t = find_task_by_vpid(pid);
  RunAs(t);
  CHECK(exec_mm_lite(kStackTop, kStackSize) == 0, "exec_mm_lite");
  cred* c = prepare_creds();
  CHECK(c != nullptr);
  c->uid = tc.ruid;
  c->euid = c->fsuid = tc.euid;
  c->suid = tc.suid;
  c->gid = tc.rgid;
  c->egid = c->fsgid = tc.egid;
  c->sgid = tc.sgid;
  c->cap_permitted = c->cap_effective = kernel_cap_t{tc.caps};
  c->cap_inheritable = c->cap_ambient = CAP_EMPTY_SET;
  commit_creds(c);
  set_dumpable(t->mm, tc.dumpable ? SUID_DUMP_USER : SUID_DUMP_DISABLE);
  set_task_comm(t, comm);
  return t;
}

task_struct* BootedKernel::SpawnThread(task_struct* leader) {
  RunAs(leader);
  kernel_clone_args args{};
  args.flags = CLONE_VM | CLONE_FS | CLONE_FILES | CLONE_SIGHAND | CLONE_THREAD | CLONE_SYSVSEM;
  pid_t tid = kernel_clone(&args);
  CHECK(tid > 0, "kernel_clone(CLONE_THREAD)");
  return find_task_by_vpid(tid);
}

task_struct* BootedKernel::SpawnKthread(const char* comm) {
  RunAs(find_task_by_vpid(2));
  pid_t pid = kernel_thread(nullptr, nullptr, comm, CLONE_FS | CLONE_FILES | SIGCHLD);
  CHECK(pid > 0, "kernel_thread");
  return find_task_by_vpid(pid);
}

void BootedKernel::Exit(task_struct* t) {
  RunAs(t);
  do_exit(0);
}

long BootedKernel::Reap(pid_t pid, task_struct* parent) {
  if (parent == nullptr) {
    task_struct* t = find_task_by_vpid(pid);
    CHECK(t != nullptr && t->real_parent != nullptr);
    parent = t->real_parent;
  }
  RunAs(parent);
  return kernel_wait4(pid, nullptr, WNOHANG);
}

unsigned long BootedKernel::Mmap(task_struct* t, unsigned long addr, unsigned long len,
                                 unsigned long prot, unsigned long flags) {
  RunAs(t);
  return vm_mmap_pgoff(nullptr, addr, len, prot, flags, 0);
}

std::string BootedKernel::DebugVm() {
  std::string report;
  debug_vm_check(ks_.get(), &report, /*expect_no_pins=*/true);
  return report;
}

}  // namespace kernel_testing
