// mm/kernel/test/boot_fixture.h: a booted kernel for the unit tests of mm/kernel and
// mm/arch/x86 (tasks, credentials, ptrace checks, faults, uaccess).
//
// BootedKernel builds the hardware (hw::PhysMem, hw::Cpus), runs start_kernel (CPU
// features, mm_core_init, idle tasks, init = pid 1, kthreadd = pid 2) inside a
// kernel_state_scope it holds, and kernel_shutdown()s in its destructor. Helpers create
// tasks the way sim::Machine does (which mm/ tests cannot depend on) and run code as a
// task. Everything stays at the kernel's level: functions return Linux values.
#ifndef MMSIM_MM_KERNEL_TEST_BOOT_FIXTURE_H_
#define MMSIM_MM_KERNEL_TEST_BOOT_FIXTURE_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "hw/cpu.h"
#include "hw/phys_mem.h"
#include "mm/fault_inject.h"
#include "mm/kernel.h"
#include "mm/kernel/task.h"
#include "mm/mm.h"

namespace kernel_testing {

// The credentials a spawned process starts with.
struct TestCreds {
  kernel::uid_t ruid = 0, euid = 0, suid = 0;
  kernel::gid_t rgid = 0, egid = 0, sgid = 0;
  uint64_t caps = kernel::CAP_FULL_SET.val;  // permitted and effective
  bool dumpable = true;
  static TestCreds User(kernel::uid_t uid, kernel::gid_t gid) {
    TestCreds c;
    c.ruid = c.euid = c.suid = uid;
    c.rgid = c.egid = c.sgid = gid;
    c.caps = 0;
    return c;
  }
};

class BootedKernel {
 public:
  static constexpr unsigned long kStackTop = 0x7ffffffff000UL;
  static constexpr unsigned long kStackSize = 128UL << 10;

  explicit BootedKernel(uint64_t mem_bytes = uint64_t{64} << 20, int ncpus = 2);
  ~BootedKernel();
  BootedKernel(const BootedKernel&) = delete;
  BootedKernel& operator=(const BootedKernel&) = delete;

  kernel::kernel_state* ks() { return ks_.get(); }
  hw::Cpu* cpu(int i) { return cpus_[i].get(); }

  // A process, child of init, with a fresh mm holding only its [stack], and `c`.
  kernel::task_struct* Spawn(const char* comm, const TestCreds& c = TestCreds());
  // A thread of t's process.
  kernel::task_struct* SpawnThread(kernel::task_struct* t);
  // A kernel thread, child of kthreadd.
  kernel::task_struct* SpawnKthread(const char* comm);
  // Make t current on `cpu` (or its own CPU if running, else CPU 0) and this_cpu.
  void RunAs(kernel::task_struct* t, int cpu = -1);
  // do_exit as t; returns with that CPU idle.
  void Exit(kernel::task_struct* t);
  // kernel_wait4(pid, WNOHANG) as t's parent (or `parent` if given).
  long Reap(kernel::pid_t pid, kernel::task_struct* parent = nullptr);
  // vm_mmap_pgoff as t (anonymous).
  unsigned long Mmap(kernel::task_struct* t, unsigned long addr, unsigned long len,
                     unsigned long prot, unsigned long flags = MAP_PRIVATE |
                                                               MAP_ANONYMOUS);
  long FreePages() const { return ks_->vm_stat[kernel::NR_FREE_PAGES]; }
  // debug_vm_check over the whole machine ("" when clean).
  std::string DebugVm();

 private:
  std::unique_ptr<hw::PhysMem> phys_;
  std::vector<std::unique_ptr<hw::Cpu>> cpus_;
  std::unique_ptr<kernel::kernel_state> ks_;
  std::unique_ptr<kernel::kernel_state_scope> scope_;
};

}  // namespace kernel_testing

#endif  // MMSIM_MM_KERNEL_TEST_BOOT_FIXTURE_H_
