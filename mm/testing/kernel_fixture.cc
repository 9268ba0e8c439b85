// mm/testing/kernel_fixture.cc
#include "mm/testing/kernel_fixture.h"

#include <memory>

#include "hw/check.h"
#include "hw/tlb_profile.h"
#include "mm/arch/x86/fault.h"
#include "mm/debug_vm.h"

namespace kernel_testing {

using namespace kernel;  // NOLINT: test helper over the kernel namespace

namespace {

// The user-mode "instruction pointer" in the pt_regs of a user access.
constexpr unsigned long kUserIp = 0x401000;

}  // namespace

BootedKernel::BootedKernel(uint64_t mem_bytes, int ncpus, bool pku) {
  const int ret = power_on_and_boot(mem_bytes, ncpus, hw::DefaultTlbProfile(), &parts_,
                                    cpu_caps{.pku = pku});
  scope_ = std::make_unique<kernel_state_scope>(parts_.ks.get());
  CHECK(ret == 0, "start_kernel");
}

BootedKernel::~BootedKernel() {
  fault_inject_disarm(nullptr);
  kernel_shutdown(parts_.ks.get());
  scope_.reset();
}

void BootedKernel::RunAs(task_struct* t, int cpu) {
  if (cpu < 0) cpu = t->on_cpu >= 0 ? t->on_cpu : 0;
  if (t->on_cpu >= 0 && t->on_cpu != cpu) {
    ks()->this_cpu = t->on_cpu;
    context_switch(idle_task(t->on_cpu));
  }
  ks()->this_cpu = cpu;
  parts_.cpus[cpu]->SetCpl(0);
  context_switch(t);
}

task_struct* BootedKernel::Spawn(const char* comm, const TestCreds& tc) {
  RunAs(child_reaper());
  const pid_t pid = call_usermodehelper_lite(comm, &tc, kStackTop, kStackSize);
  CHECK(pid > 0, "call_usermodehelper_lite");
  return find_task_by_vpid(pid);
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

task_struct* BootedKernel::Fork(task_struct* t) {
  RunAs(t);
  // kernel/fork.c: SYSCALL_DEFINE0(fork).
  kernel_clone_args args{};
  args.flags = 0;
  args.exit_signal = SIGCHLD;
  pid_t pid = kernel_clone(&args);
  CHECK(pid > 0, "kernel_clone(fork)");
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

void BootedKernel::ExitAndReap(task_struct* t) {
  const pid_t pid = t->pid;
  task_struct* parent = t->real_parent;
  Exit(t);
  CHECK(Reap(pid, parent) == pid, "kernel_wait4");
}

unsigned long BootedKernel::Mmap(task_struct* t, unsigned long addr, unsigned long len,
                                 unsigned long prot, unsigned long flags) {
  RunAs(t);
  return ksys_mmap_pgoff(nullptr, addr, len, prot, flags, 0);
}

int BootedKernel::Munmap(task_struct* t, unsigned long addr, unsigned long len) {
  RunAs(t);
  return vm_munmap(addr, len);
}

int BootedKernel::Mprotect(task_struct* t, unsigned long addr, unsigned long len,
                           unsigned long prot) {
  RunAs(t);
  return do_mprotect_pkey(addr, len, prot, -1);
}

UserAccess BootedKernel::Access(task_struct* t, unsigned long va, void* buf, bool write,
                                int max_faults) {
  UserAccess r;
  RunAs(t);
  hw::Cpu* c = this_cpu_hw();
  t->last_signal = 0;
  c->SetCpl(3);
  for (int handled = 0; handled < max_faults; ++handled) {
    r.fault = write ? c->Store(hw::VirtAddr(va), buf, 8) : c->Load(hw::VirtAddr(va), buf, 8);
    if (r.fault.ok()) break;
    if (r.fault.page_fault()) r.pf_error_codes.push_back(r.fault.error_code);
    user_exception_entry(r.fault, kUserIp, kStackTop - 8);
    if (t->last_signal != 0) break;
  }
  c->SetCpl(0);
  r.signal = t->last_signal;
  r.sigsegv = r.signal == SIGSEGV;
  return r;
}

UserAccess BootedKernel::UserLoad(task_struct* t, unsigned long va, uint64_t* value,
                                  int max_faults) {
  return Access(t, va, value, false, max_faults);
}

UserAccess BootedKernel::UserStore(task_struct* t, unsigned long va, uint64_t value,
                                   int max_faults) {
  return Access(t, va, &value, true, max_faults);
}

std::string BootedKernel::DebugVm(bool expect_no_pins) {
  std::string report;
  debug_vm_check(ks(), &report, expect_no_pins);
  return report;
}

}  // namespace kernel_testing
