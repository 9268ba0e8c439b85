// mm/testing/kernel_fixture.h: the booted kernel every mm/ unit test runs on.
//
// BootedKernel powers on hardware (hw::PhysMem, hw::Cpus) and boots the kernel
// (kernel::power_on_and_boot: start_kernel, with init = pid 1 and kthreadd = pid 2), holds
// a kernel_state_scope for its lifetime, and kernel_shutdown()s in its destructor. Every
// helper drives a production path, as sim::Machine does (mm/ tests cannot depend on
// sim/): processes come from call_usermodehelper_lite, fork is kernel_clone, exit is
// do_exit, reaping is kernel_wait4, mmap/munmap/mprotect are vm_mmap_pgoff / vm_munmap /
// do_mprotect_pkey, and user loads and stores run on a CPU at CPL 3, trapping into the
// kernel's #PF/#GP entry (user_exception_entry) like a user program. Everything stays at
// the kernel's level: functions return Linux values.
#ifndef MMSIM_MM_TESTING_KERNEL_FIXTURE_H_
#define MMSIM_MM_TESTING_KERNEL_FIXTURE_H_

#include <cstdint>
#include <string>
#include <vector>

#include "hw/cpu.h"
#include "mm/fault_inject.h"
#include "mm/kernel.h"
#include "mm/kernel/task.h"
#include "mm/mm.h"

namespace kernel_testing {

// The credentials a spawned process starts with (kernel::umh_creds: root, all caps).
struct TestCreds : kernel::umh_creds {
  static TestCreds User(kernel::uid_t uid, kernel::gid_t gid) {
    TestCreds c;
    c.ruid = c.euid = c.suid = uid;
    c.rgid = c.egid = c.sgid = gid;
    c.caps = 0;
    return c;
  }
};

// What a user-mode load or store saw.
struct UserAccess {
  hw::Fault fault;                       // ok, or the last fault the access took
  std::vector<uint32_t> pf_error_codes;  // every #PF taken on the way, in order
  int signal = 0;                        // the signal the handler recorded (0: none)
  bool sigsegv = false;                  // signal == SIGSEGV
  bool ok() const { return fault.ok(); }
};

class BootedKernel {
 public:
  static constexpr unsigned long kStackTop = 0x7ffffffff000UL;
  static constexpr unsigned long kStackSize = 128UL << 10;

  explicit BootedKernel(uint64_t mem_bytes = uint64_t{64} << 20, int ncpus = 2,
                        bool pku = false);
  ~BootedKernel();
  BootedKernel(const BootedKernel&) = delete;
  BootedKernel& operator=(const BootedKernel&) = delete;

  kernel::kernel_state* ks() { return parts_.ks.get(); }
  hw::Cpu* cpu(int i) { return parts_.cpus[i].get(); }

  // A process, child of init, with a fresh mm holding only its [stack], and `c`.
  kernel::task_struct* Spawn(const char* comm, const TestCreds& c = TestCreds());
  // A thread of t's process.
  kernel::task_struct* SpawnThread(kernel::task_struct* t);
  // A kernel thread, child of kthreadd.
  kernel::task_struct* SpawnKthread(const char* comm);
  // fork(2) as t: a child sharing t's private pages copy-on-write (dup_mmap).
  kernel::task_struct* Fork(kernel::task_struct* t);
  // Make t current on `cpu` (or its own CPU if running, else CPU 0) and this_cpu.
  void RunAs(kernel::task_struct* t, int cpu = -1);
  // do_exit as t; returns with that CPU idle.
  void Exit(kernel::task_struct* t);
  // kernel_wait4(pid, WNOHANG) as t's parent (or `parent` if given).
  long Reap(kernel::pid_t pid, kernel::task_struct* parent = nullptr);
  // Exit, then Reap: the process is gone, its mm released.
  void ExitAndReap(kernel::task_struct* t);

  // mmap(2), munmap(2), mprotect(2) as t.
  unsigned long Mmap(kernel::task_struct* t, unsigned long addr, unsigned long len,
                     unsigned long prot, unsigned long flags = MAP_PRIVATE |
                                                               MAP_ANONYMOUS);
  int Munmap(kernel::task_struct* t, unsigned long addr, unsigned long len);
  int Mprotect(kernel::task_struct* t, unsigned long addr, unsigned long len,
               unsigned long prot);

  // An 8-byte user-mode load/store as t, on t's CPU (RunAs first to pick one). Each #PF
  // or #GP enters the kernel and the access is retried, until it succeeds, the handler
  // records a signal, or `max_faults` faults were handled (then it is not retried again,
  // and the result holds the last fault).
  UserAccess UserLoad(kernel::task_struct* t, unsigned long va, uint64_t* value,
                      int max_faults = 8);
  UserAccess UserStore(kernel::task_struct* t, unsigned long va, uint64_t value,
                       int max_faults = 8);

  long FreePages() const { return parts_.ks->vm_stat[kernel::NR_FREE_PAGES]; }
  long stat(kernel::vm_stat_item item) const { return parts_.ks->vm_stat[item]; }
  // debug_vm_check over the whole machine ("" when clean).
  std::string DebugVm(bool expect_no_pins = true);

 private:
  UserAccess Access(kernel::task_struct* t, unsigned long va, void* buf, bool write,
                    int max_faults);

  kernel::machine_parts parts_;
  std::unique_ptr<kernel::kernel_state_scope> scope_;
};

}  // namespace kernel_testing

#endif  // MMSIM_MM_TESTING_KERNEL_FIXTURE_H_
