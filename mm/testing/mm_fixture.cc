// mm/testing/mm_fixture.cc
#include "mm/testing/mm_fixture.h"

#include <algorithm>

#include "hw/tlb_profile.h"

namespace mm_testing {

using namespace kernel;  // NOLINT: test helper over the kernel namespace

MmMachine::MmMachine(uint64_t mem_bytes, int ncpus) {
  phys_ = std::make_unique<hw::PhysMem>(mem_bytes);
  for (int i = 0; i < ncpus; ++i) {
    auto c = std::make_unique<hw::Cpu>(i, phys_.get(), hw::DefaultTlbProfile());
    CHECK(c->WriteCr0(c->cr0() | hw::Cpu::kCr0Wp).ok());
    CHECK(c->WriteEfer(c->efer() | hw::Cpu::kEferNxe).ok());
    CHECK(c->WriteCr4(c->cr4() | hw::Cpu::kCr4Pge | hw::Cpu::kCr4Pcide).ok());
    ks_.cpus.push_back(c.get());
    cpus_.push_back(std::move(c));
  }
  ks_.phys = phys_.get();
  scope_ = std::make_unique<kernel_state_scope>(&ks_);
  CHECK(mm_core_init() == 0);
}

MmMachine::~MmMachine() {
  kernel::fault_inject_disarm(nullptr);
  for (mm_struct* mm : std::vector<mm_struct*>(mms_)) DestroyMm(mm);
  for (auto& t : tasks_) ks_.current_task[std::max(t->on_cpu, 0)] = nullptr;
  mm_core_shutdown(&ks_);
  scope_.reset();
}

mm_struct* MmMachine::NewMm() {
  mm_struct* mm = new mm_struct();
  mmap_init_lock(mm);
  spin_lock_init(&mm->page_table_lock);
  atomic_set(&mm->mm_users, 1);
  atomic_set(&mm->mm_count, 1);
  mm->task_size = TASK_SIZE;
  mm->mmap_base = (TASK_SIZE - (128UL << 20)) & PAGE_MASK;
  mm->context.ctx_id = ks_.next_ctx_id++;
  mm->context.pcid = next_pcid_++;
  mm->pgd = pgd_alloc(mm);
  CHECK(mm->pgd != nullptr);
  mms_.push_back(mm);
  return mm;
}

void MmMachine::DestroyMm(mm_struct* mm) {
  exit_mmap(mm);
  pgd_free(mm, mm->pgd);
  mm->pgd = nullptr;
  for (auto& t : tasks_) {
    if (t->mm == mm) {
      if (t->on_cpu >= 0 && ks_.current_task[t->on_cpu] == t.get())
        ks_.current_task[t->on_cpu] = nullptr;
      t->mm = t->active_mm = nullptr;
    }
  }
  mms_.erase(std::find(mms_.begin(), mms_.end(), mm));
  delete mm;
}

task_struct* MmMachine::task_of(mm_struct* mm) {
  for (auto& t : tasks_)
    if (t->mm == mm) return t.get();
  auto t = std::make_unique<task_struct>();
  t->mm = t->active_mm = mm;
  t->pid = t->tgid = static_cast<pid_t>(100 + tasks_.size());
  t->on_cpu = -1;
  t->group_leader = t.get();
  tasks_.push_back(std::move(t));
  return tasks_.back().get();
}

void MmMachine::RunOn(int cpu, mm_struct* mm) {
  ks_.this_cpu = cpu;
  task_struct* t = task_of(mm);
  task_struct* prev = ks_.current_task[cpu];
  t->on_cpu = cpu;
  ks_.current_task[cpu] = t;
  switch_mm(prev ? prev->mm : nullptr, mm, t);
}

UserAccess MmMachine::Access(int cpu, unsigned long va, void* buf, bool write) {
  UserAccess r;
  ks_.this_cpu = cpu;
  hw::Cpu* c = cpus_[cpu].get();
  for (int attempt = 0; attempt < 8; ++attempt) {
    c->SetCpl(3);
    hw::Fault f = write ? c->Store(hw::VirtAddr(va), buf, 8) : c->Load(hw::VirtAddr(va), buf, 8);
    c->SetCpl(0);
    r.fault = f;
    if (f.ok()) return r;
    if (!f.page_fault()) return r;
    r.pf_error_codes.push_back(f.error_code);
    // arch/x86/mm/fault.c do_user_addr_fault, reduced.
    mm_struct* mm = current()->mm;
    unsigned int flags = FAULT_FLAG_DEFAULT | FAULT_FLAG_USER;
    if (f.error_code & hw::kPfErrWrite) flags |= FAULT_FLAG_WRITE;
    mmap_read_lock(mm);
    vm_area_struct* vma = vma_lookup(mm, f.cr2);
    bool access_error = vma == nullptr ||
                        ((f.error_code & hw::kPfErrWrite) ? !(vma->vm_flags & VM_WRITE)
                         : (f.error_code & hw::kPfErrPresent)
                             ? true
                             : !(vma->vm_flags & (VM_READ | VM_WRITE | VM_EXEC)));
    if (access_error) {
      mmap_read_unlock(mm);
      r.sigsegv = true;
      return r;
    }
    r.vm_fault = handle_mm_fault(vma, f.cr2, flags, nullptr);
    mmap_read_unlock(mm);
    if (r.vm_fault & VM_FAULT_ERROR) return r;
  }
  return r;
}

UserAccess MmMachine::UserLoad(int cpu, unsigned long va, uint64_t* value) {
  return Access(cpu, va, value, false);
}

UserAccess MmMachine::UserStore(int cpu, unsigned long va, uint64_t value) {
  return Access(cpu, va, &value, true);
}

unsigned long MmMachine::Mmap(int cpu, unsigned long addr, unsigned long len, unsigned long prot,
                              unsigned long flags) {
  ks_.this_cpu = cpu;
  return vm_mmap_pgoff(nullptr, addr, len, prot, flags, 0);
}

int MmMachine::Munmap(int cpu, unsigned long addr, unsigned long len) {
  ks_.this_cpu = cpu;
  return vm_munmap(addr, len);
}

int MmMachine::Mprotect(int cpu, unsigned long addr, unsigned long len, unsigned long prot) {
  ks_.this_cpu = cpu;
  return do_mprotect_pkey(addr, len, prot, -1);
}

pte_t* MmMachine::PteOf(mm_struct* mm, unsigned long va) {
  p4d_t* p4d = p4d_offset(pgd_offset(mm, va), va);
  if (p4d_none(*p4d)) return nullptr;
  pud_t* pud = pud_offset(p4d, va);
  if (pud_none(*pud)) return nullptr;
  pmd_t* pmd = pmd_offset(pud, va);
  if (pmd_none(*pmd)) return nullptr;
  return pte_offset_kernel(pmd, va);
}

std::string MmMachine::DebugVm(bool expect_no_pins) {
  std::string report;
  debug_vm_check(&ks_, &report, expect_no_pins, mms_);
  return report;
}

}  // namespace mm_testing
