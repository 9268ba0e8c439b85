// mm/testing/mm_fixture.h: a small machine for mm/ unit tests and benchmarks.
//
// MmMachine builds hw::PhysMem and hw::Cpu(s) with the paging features Linux turns on at
// boot (CR0.WP, EFER.NXE, CR4.PGE and CR4.PCIDE), a kernel_state with a
// kernel_state_scope, and runs mm_core_init(). It makes address spaces with NewMm() (a
// local stand-in for mm_alloc: pgd, PCID, mmap_base) and runs a task on a CPU so that
// current()->mm is that address space and CR3 points at its tables (switch_mm).
//
// UserLoad / UserStore drive the CPU at CPL 3 and, on #PF, call handle_mm_fault the way
// arch/x86/mm/fault.c's do_user_addr_fault does (much reduced: VMA lookup, access_error,
// handle_mm_fault, retry), so a test sees what a user program would.
#ifndef MMSIM_MM_TESTING_MM_FIXTURE_H_
#define MMSIM_MM_TESTING_MM_FIXTURE_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "hw/cpu.h"
#include "hw/phys_mem.h"
#include "mm/debug_vm.h"
#include "mm/fault_inject.h"
#include "mm/kernel.h"
#include "mm/mm.h"

namespace mm_testing {

struct UserAccess {
  hw::Fault fault;              // ok, or the fault the handler could not resolve
  std::vector<uint32_t> pf_error_codes;  // every #PF taken on the way, in order
  kernel::vm_fault_t vm_fault = 0;       // the last handle_mm_fault result
  bool sigsegv = false;
  bool ok() const { return fault.ok(); }
};

class MmMachine {
 public:
  explicit MmMachine(uint64_t mem_bytes = uint64_t{64} << 20, int ncpus = 2);
  ~MmMachine();
  MmMachine(const MmMachine&) = delete;
  MmMachine& operator=(const MmMachine&) = delete;

  kernel::kernel_state* ks() { return &ks_; }
  hw::Cpu* cpu(int i) { return cpus_[i].get(); }
  int ncpus() const { return static_cast<int>(cpus_.size()); }

  // A fresh address space (mm_alloc stand-in); destroyed by the machine unless DestroyMm'd.
  kernel::mm_struct* NewMm();
  // exit_mmap + pgd_free + free (mmput + mmdrop stand-in).
  void DestroyMm(kernel::mm_struct* mm);
  // Make `mm` current on `cpu`: a task per (cpu, mm), CR3 loaded through switch_mm.
  void RunOn(int cpu, kernel::mm_struct* mm);
  kernel::task_struct* task_of(kernel::mm_struct* mm);

  UserAccess UserLoad(int cpu, unsigned long va, uint64_t* value);
  UserAccess UserStore(int cpu, unsigned long va, uint64_t value);

  // mmap/munmap/mprotect on the mm current on `cpu` (makes it this_cpu first).
  unsigned long Mmap(int cpu, unsigned long addr, unsigned long len, unsigned long prot,
                     unsigned long flags);
  int Munmap(int cpu, unsigned long addr, unsigned long len);
  int Mprotect(int cpu, unsigned long addr, unsigned long len, unsigned long prot);

  // debug_vm_check over every mm this machine made; returns the report ("" when clean).
  std::string DebugVm(bool expect_no_pins = true);
  std::vector<kernel::mm_struct*> mms() const { return mms_; }

  // The PTE slot for va in mm, or null when a table on the way is missing.
  static kernel::pte_t* PteOf(kernel::mm_struct* mm, unsigned long va);
  long stat(kernel::vm_stat_item item) const { return ks_.vm_stat[item]; }

 private:
  UserAccess Access(int cpu, unsigned long va, void* buf, bool write);

  std::unique_ptr<hw::PhysMem> phys_;
  std::vector<std::unique_ptr<hw::Cpu>> cpus_;
  kernel::kernel_state ks_;
  std::unique_ptr<kernel::kernel_state_scope> scope_;
  std::vector<kernel::mm_struct*> mms_;
  std::vector<std::unique_ptr<kernel::task_struct>> tasks_;
  uint16_t next_pcid_ = 1;
};

}  // namespace mm_testing

#endif  // MMSIM_MM_TESTING_MM_FIXTURE_H_
