// Tests of mm/arch/x86/fault.cc: do_user_addr_fault's outcomes for user and kernel mode.
#include "mm/fault_inject.h"
#include "mm/arch/x86/fault.h"

#include "gtest/gtest.h"
#include "mm/arch/x86/extable.h"
#include "mm/arch/x86/uaccess.h"
#include "mm/kernel/task.h"
#include "mm/mm.h"
#include "mm/testing/one_process_test.h"

namespace kernel {
namespace {

using kernel_testing::BootedKernel;

pt_regs UserRegs() { return pt_regs{0x401000, __USER_CS, X86_EFLAGS_IF, 0x7ffffffde000}; }
pt_regs UaccessRegs() {
  return pt_regs{UA_INSN_COPY_USER, __KERNEL_CS, X86_EFLAGS_IF | X86_EFLAGS_AC, 0};
}

class FaultTest : public kernel_testing::OneProcessTest {
 protected:
  // A user-mode access on the current CPU at CPL 3 (no fault handling).
  hw::Fault UserStore(unsigned long va) {
    hw::Cpu* c = this_cpu_hw();
    c->SetCpl(3);
    uint8_t b = 1;
    hw::Fault f = c->Store(hw::VirtAddr(va), &b, 1);
    c->SetCpl(0);
    return f;
  }
  void ExpectSignal(int sig, int code, unsigned long addr, unsigned long error_code) {
    EXPECT_EQ(p_->last_signal, sig);
    EXPECT_EQ(p_->last_si_code, code);
    EXPECT_EQ(p_->last_signal_addr, addr);
    EXPECT_EQ(p_->thread.cr2, addr);
    EXPECT_EQ(p_->thread.trap_nr, static_cast<unsigned long>(X86_TRAP_PF));
    EXPECT_EQ(p_->thread.error_code, error_code);
  }
};

TEST_F(FaultTest, UnmappedUserReadIsSegvMaperr) {
  pt_regs regs = UserRegs();
  do_user_addr_fault(&regs, X86_PF_USER, 0x10000);
  ExpectSignal(SIGSEGV, SEGV_MAPERR, 0x10000, X86_PF_USER);
}

TEST_F(FaultTest, WriteToReadOnlyVmaIsSegvAccerr) {
  unsigned long a = Map(1, PROT_READ);
  pt_regs regs = UserRegs();
  do_user_addr_fault(&regs, X86_PF_USER | X86_PF_WRITE, a + 8);
  ExpectSignal(SIGSEGV, SEGV_ACCERR, a + 8, X86_PF_USER | X86_PF_WRITE);
  EXPECT_FALSE(rwsem_is_locked(&p_->mm->mmap_lock));
}

TEST_F(FaultTest, ProtNoneAndExecChecks) {
  unsigned long none = Map(1, PROT_NONE);
  unsigned long rw = Map(1, PROT_READ | PROT_WRITE);
  unsigned long rx = Map(1, PROT_READ | PROT_EXEC);
  pt_regs regs = UserRegs();
  do_user_addr_fault(&regs, X86_PF_USER, none);
  ExpectSignal(SIGSEGV, SEGV_ACCERR, none, X86_PF_USER);
  p_->last_signal = 0;
  do_user_addr_fault(&regs, X86_PF_USER | X86_PF_INSTR, rw);
  ExpectSignal(SIGSEGV, SEGV_ACCERR, rw, X86_PF_USER | X86_PF_INSTR);
  p_->last_signal = 0;
  do_user_addr_fault(&regs, X86_PF_USER | X86_PF_INSTR, rx);
  EXPECT_EQ(p_->last_signal, 0);
  // A read that faulted on a present page is a protection violation.
  do_user_addr_fault(&regs, X86_PF_USER | X86_PF_PROT, rx);
  EXPECT_EQ(p_->last_signal, SIGSEGV);
  EXPECT_EQ(p_->last_si_code, SEGV_ACCERR);
}

TEST_F(FaultTest, DemandFaultMapsTheAnonymousPage) {
  unsigned long a = Map(1, PROT_READ | PROT_WRITE);
  hw::Fault f = UserStore(a);
  ASSERT_TRUE(f.page_fault());
  EXPECT_EQ(f.error_code, X86_PF_USER | X86_PF_WRITE);
  pt_regs regs = UserRegs();
  do_user_addr_fault(&regs, f.error_code, f.cr2);
  EXPECT_EQ(p_->last_signal, 0);
  EXPECT_TRUE(UserStore(a).ok());
  EXPECT_EQ(get_mm_counter(p_->mm, MM_ANONPAGES), 1u);
  EXPECT_FALSE(rwsem_is_locked(&p_->mm->mmap_lock));
  EXPECT_EQ(k_.DebugVm(), "");
}

// A user fault just below the [stack] VMA grows it (lock_mm_and_find_vma ->
// expand_stack_locked), down to the faulting page; the page is then faulted in.
TEST_F(FaultTest, UserFaultBelowTheStackGrowsIt) {
  const unsigned long start = BootedKernel::kStackTop - BootedKernel::kStackSize;
  const unsigned long below = start - 3 * PAGE_SIZE - 8;
  pt_regs regs = UserRegs();
  do_user_addr_fault(&regs, X86_PF_USER | X86_PF_WRITE, below);
  EXPECT_EQ(p_->last_signal, 0);
  EXPECT_EQ(p_->mm->map_count, 1);
  vm_area_struct* vma = vma_lookup(p_->mm, below);
  ASSERT_NE(vma, nullptr);
  EXPECT_EQ(vma->vm_start, below & PAGE_MASK);
  EXPECT_EQ(vma->vm_end, BootedKernel::kStackTop);
  EXPECT_TRUE(vma->vm_flags & VM_GROWSDOWN);
  EXPECT_EQ(p_->mm->stack_vm, (BootedKernel::kStackSize >> PAGE_SHIFT) + 4);
  EXPECT_EQ(get_mm_counter(p_->mm, MM_ANONPAGES), 1u);
  EXPECT_FALSE(rwsem_is_locked(&p_->mm->mmap_lock));
  EXPECT_EQ(k_.DebugVm(), "");
}

// The stack may not grow within stack_guard_gap of the mapping below it, nor past
// RLIMIT_STACK (8 MiB): SIGSEGV, and the VMA keeps its size.
TEST_F(FaultTest, StackGrowthStopsAtTheGuardGapAndTheRlimit) {
  const unsigned long start = BootedKernel::kStackTop - BootedKernel::kStackSize;
  // A mapping 16 pages below the stack: growing to within the 256-page gap is refused.
  const unsigned long below_map = start - 16 * PAGE_SIZE - PAGE_SIZE;
  ASSERT_EQ(k_.Mmap(p_, below_map, PAGE_SIZE, PROT_READ,
                    MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED),
            below_map);
  k_.RunAs(p_);
  pt_regs regs = UserRegs();
  do_user_addr_fault(&regs, X86_PF_USER | X86_PF_WRITE, start - 8);
  ExpectSignal(SIGSEGV, SEGV_MAPERR, start - 8, X86_PF_USER | X86_PF_WRITE);
  EXPECT_EQ(vma_lookup(p_->mm, start)->vm_start, start);
  // Without it, growth works up to 8 MiB of stack, and not one page more.
  ASSERT_EQ(k_.Mmap(p_, below_map, PAGE_SIZE, PROT_NONE,
                    MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED),
            below_map);  // an inaccessible guard mapping does not count
  k_.RunAs(p_);
  p_->last_signal = 0;
  do_user_addr_fault(&regs, X86_PF_USER | X86_PF_WRITE, start - 8);
  EXPECT_EQ(p_->last_signal, 0);
  ASSERT_EQ(vm_munmap(below_map, PAGE_SIZE), 0);
  const unsigned long limit = BootedKernel::kStackTop - (8UL << 20);
  do_user_addr_fault(&regs, X86_PF_USER, limit);
  EXPECT_EQ(p_->last_signal, 0);
  EXPECT_EQ(vma_lookup(p_->mm, limit)->vm_start, limit);
  do_user_addr_fault(&regs, X86_PF_USER, limit - 8);
  ExpectSignal(SIGSEGV, SEGV_MAPERR, limit - 8, X86_PF_USER);
  EXPECT_EQ(k_.DebugVm(), "");
}

TEST_F(FaultTest, UserFaultOnAKernelAddressReportsAProtectionFault) {
  pt_regs regs = UserRegs();
  this_cpu_hw()->WriteCr2(0xffff888000001000UL);
  exc_page_fault(&regs, X86_PF_USER);
  ExpectSignal(SIGSEGV, SEGV_MAPERR, 0xffff888000001000UL, X86_PF_USER | X86_PF_PROT);
}

TEST_F(FaultTest, GeneralProtectionFromUserIsSigsegvSiKernel) {
  pt_regs regs = UserRegs();
  exc_general_protection(&regs, 0);
  EXPECT_EQ(p_->last_signal, SIGSEGV);
  EXPECT_EQ(p_->last_si_code, SI_KERNEL);
  EXPECT_EQ(p_->last_signal_addr, 0u);
  EXPECT_EQ(p_->thread.trap_nr, static_cast<unsigned long>(X86_TRAP_GP));
}

TEST_F(FaultTest, KernelModeBadAreaTakesTheFixup) {
  pt_regs regs = UaccessRegs();
  do_user_addr_fault(&regs, 0, 0x10000);
  EXPECT_EQ(regs.ip, ex_fixup_addr(search_exception_tables(UA_INSN_COPY_USER)));
  EXPECT_EQ(p_->last_signal, 0);  // kernel faults send no signal
}

TEST_F(FaultTest, KernelModeFaultFromAKernelThreadTakesTheFixup) {
  task_struct* kt = k_.SpawnKthread("kt");
  k_.RunAs(kt);
  pt_regs regs = UaccessRegs();
  do_user_addr_fault(&regs, X86_PF_WRITE, 0x10000);
  EXPECT_NE(regs.ip, UA_INSN_COPY_USER);
}

// Until out_of_memory exists, pagefault_out_of_memory applies oom_kill_allocating_task:
// the faulting task gets SIGKILL, recorded with the fault address and error code.
TEST_F(FaultTest, OomInAUserFaultKillsTheFaultingTask) {
  unsigned long a = Map(1, PROT_READ | PROT_WRITE);
  ASSERT_EQ(fault_inject_arm("fail_fault", {.nth = 1, .times = 1}), 0);
  pt_regs regs = UserRegs();
  do_user_addr_fault(&regs, X86_PF_USER | X86_PF_WRITE, a + 8);
  EXPECT_EQ(fault_inject_failures("fail_fault"), 1u);
  EXPECT_EQ(p_->last_signal, SIGKILL);
  EXPECT_TRUE(fatal_signal_pending(p_));
  EXPECT_EQ(p_->last_signal_addr, a + 8);
  EXPECT_EQ(p_->thread.error_code, X86_PF_USER | X86_PF_WRITE);
  // A second OOM while the kill is pending sends nothing more.
  p_->last_signal = 0;
  ASSERT_EQ(fault_inject_arm("fail_fault", {.nth = 1, .times = 1}), 0);
  do_user_addr_fault(&regs, X86_PF_USER | X86_PF_WRITE, a);
  EXPECT_EQ(p_->last_signal, 0);
  fault_inject_disarm(nullptr);
  p_->fatal_signal = false;  // the fixture tears the task down normally
  EXPECT_EQ(k_.DebugVm(), "");
}

TEST_F(FaultTest, OomInAKernelFaultTakesTheFixup) {
  unsigned long a = Map(1, PROT_READ | PROT_WRITE);
  ASSERT_EQ(fault_inject_arm("fail_fault", {.nth = 1, .times = 1}), 0);
  pt_regs regs = UaccessRegs();
  do_user_addr_fault(&regs, X86_PF_WRITE, a);
  EXPECT_NE(regs.ip, UA_INSN_COPY_USER);
  fault_inject_disarm(nullptr);
}

TEST_F(FaultTest, FaultInKernelSpace) {
  EXPECT_FALSE(fault_in_kernel_space(0));
  EXPECT_FALSE(fault_in_kernel_space(TASK_SIZE_MAX - 1));
  EXPECT_TRUE(fault_in_kernel_space(TASK_SIZE_MAX));
  EXPECT_TRUE(fault_in_kernel_space(0xffffffff81000000UL));
}

using FaultDeathTest = FaultTest;

TEST_F(FaultDeathTest, ReservedBitIsAnOops) {
  pt_regs regs = UserRegs();
  EXPECT_DEATH(do_user_addr_fault(&regs, X86_PF_USER | X86_PF_PROT | X86_PF_RSVD, 0x10000),
               "reserved bit violation");
}

TEST_F(FaultDeathTest, KernelExecutingUserMemoryIsAnOops) {
  pt_regs regs = UaccessRegs();
  EXPECT_DEATH(do_user_addr_fault(&regs, X86_PF_INSTR | X86_PF_PROT, 0x10000), "SMEP");
}

}  // namespace
}  // namespace kernel
