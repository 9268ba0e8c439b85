// Tests of mm/arch/x86/pkeys.cc: protection keys on a machine whose CPUs have PKU, beside
// one without. Linux 6.18 gives an exactly-PROT_EXEC mapping the mm's execute-only key,
// whose PKRU access-disable bit is set: data accesses fault (the kernel's uaccess too,
// with X86_PF_PK), instruction fetches and remote GUP do not.
#include "mm/arch/x86/pkeys.h"

#include <cstdint>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "hw/cpu.h"
#include "mm/arch/x86/fault.h"
#include "mm/arch/x86/pgtable.h"
#include "mm/arch/x86/ptrace.h"
#include "mm/arch/x86/uaccess.h"
#include "mm/kernel/task.h"
#include "mm/mm.h"
#include "mm/pagewalk.h"
#include "mm/testing/kernel_fixture.h"

namespace kernel {
namespace {

using kernel_testing::BootedKernel;

void __user* U(unsigned long a) { return reinterpret_cast<void __user*>(a); }

class PkeysTest : public ::testing::TestWithParam<bool> {
 protected:
  PkeysTest() : k_(uint64_t{64} << 20, 2, /*pku=*/GetParam()) {}
  void SetUp() override {
    p_ = k_.Spawn("p");
    k_.RunAs(p_);
  }
  unsigned long Map(int pages, unsigned long prot) {
    unsigned long a = k_.Mmap(p_, 0, pages * PAGE_SIZE, prot);
    EXPECT_FALSE(IS_ERR_VALUE(a));
    k_.RunAs(p_);
    return a;
  }
  vm_area_struct* Vma(unsigned long a) { return find_vma(p_->mm, a); }
  bool pku() const { return GetParam(); }

  BootedKernel k_;
  task_struct* p_ = nullptr;
};

TEST_P(PkeysTest, BootTurnsPkeOnAndLoadsTheDefaultPkru) {
  for (int i = 0; i < 2; ++i) {
    EXPECT_EQ((k_.cpu(i)->cr4() & hw::Cpu::kCr4Pke) != 0, pku()) << "cpu " << i;
  }
  EXPECT_EQ(kst().x86_feature_ospke, pku());
  EXPECT_EQ(read_pkru(), pku() ? init_pkru_value : 0u);
  EXPECT_EQ(p_->mm->context.execute_only_pkey, pku() ? -1 : 0);
  EXPECT_EQ(p_->mm->context.pkey_allocation_map, pku() ? 1u : 0u);
}

TEST_P(PkeysTest, ExecOnlyMappingGetsTheExecuteOnlyKey) {
  const unsigned long x = Map(1, PROT_EXEC);
  const unsigned long rx = Map(1, PROT_READ | PROT_EXEC);
  EXPECT_EQ(vma_pkey(Vma(x)), pku() ? 1 : 0);
  EXPECT_EQ(vma_pkey(Vma(rx)), 0);
  if (pku()) {
    EXPECT_EQ(p_->mm->context.execute_only_pkey, 1);
    EXPECT_EQ(p_->mm->context.pkey_allocation_map, 0x3u);
    // The key is in vm_page_prot, so in every PTE the mapping gets.
    EXPECT_EQ(pgprot_val(Vma(x)->vm_page_prot) & _PAGE_PKEY_MASK, _PAGE_PKEY_BIT0);
  }
  // A second exec-only mapping shares the key.
  const unsigned long x2 = Map(1, PROT_EXEC);
  EXPECT_EQ(vma_pkey(Vma(x2)), vma_pkey(Vma(x)));
}

TEST_P(PkeysTest, KernelCopiesFromAnExecOnlyPageFaultWithPk) {
  const unsigned long x = Map(1, PROT_EXEC);
  uint8_t buf[16] = {};
  // Without PKU x86 cannot express exec-only: the page reads. With it, the kernel's
  // copy_from_user takes a PK fault, the handler finds an access error and the exception
  // table makes the copy short.
  EXPECT_EQ(copy_from_user(buf, U(x), 16), pku() ? 16u : 0u);
  EXPECT_EQ(copy_to_user(U(x), buf, 16), 16u);  // never writable
  if (pku()) {
    // The fault was either the PK violation on a present page or the VMA check before
    // populating: nothing was mapped.
    EXPECT_EQ(get_mm_counter(p_->mm, MM_ANONPAGES), 0);
  }
  EXPECT_EQ(k_.DebugVm(), "");
}

TEST_P(PkeysTest, UserLoadFromExecOnlyIsSegvPkuerr) {
  const unsigned long x = Map(1, PROT_EXEC);
  uint64_t v = 0;
  kernel_testing::UserAccess r = k_.UserLoad(p_, x, &v);
  if (!pku()) {
    EXPECT_TRUE(r.ok());
    return;
  }
  EXPECT_TRUE(r.sigsegv);
  EXPECT_EQ(p_->last_si_code, SEGV_PKUERR);
}

TEST_P(PkeysTest, APresentPageTurnedExecOnlyFaultsWithThePkBit) {
  // Populate with a write, then mprotect to PROT_EXEC: the PTE stays present and gets the
  // key, so the hardware itself refuses the read (X86_PF_PK), not the VMA check.
  const unsigned long a = Map(1, PROT_READ | PROT_WRITE);
  k_.RunAs(p_);
  const uint64_t pattern = 0x1122334455667788ULL;
  ASSERT_TRUE(k_.UserStore(p_, a, pattern).ok());
  k_.RunAs(p_);
  ASSERT_EQ(k_.Mprotect(p_, a, PAGE_SIZE, PROT_EXEC), 0);
  k_.RunAs(p_);
  EXPECT_EQ(vma_pkey(Vma(a)), pku() ? 1 : 0);
  pte_t* pte = mm_find_pte(p_->mm, a);
  ASSERT_NE(pte, nullptr);
  ASSERT_TRUE(pte_present(*pte));
  EXPECT_EQ(pte_val(*pte) & _PAGE_PKEY_MASK, pku() ? _PAGE_PKEY_BIT0 : 0);
  uint64_t v = 0;
  kernel_testing::UserAccess r = k_.UserLoad(p_, a, &v);
  if (!pku()) {
    EXPECT_TRUE(r.ok());
    EXPECT_EQ(v, pattern);
    return;
  }
  EXPECT_TRUE(r.sigsegv);
  ASSERT_FALSE(r.pf_error_codes.empty());
  EXPECT_NE(r.pf_error_codes.front() & X86_PF_PK, 0u);
  EXPECT_EQ(p_->last_si_code, SEGV_PKUERR);
  // Back to readable: mprotect moves the VMA (and its PTE) to the default key.
  k_.RunAs(p_);
  ASSERT_EQ(k_.Mprotect(p_, a, PAGE_SIZE, PROT_READ | PROT_EXEC), 0);
  k_.RunAs(p_);
  EXPECT_EQ(vma_pkey(Vma(a)), 0);
  EXPECT_EQ(pte_val(*mm_find_pte(p_->mm, a)) & _PAGE_PKEY_MASK, 0u);
  r = k_.UserLoad(p_, a, &v);
  EXPECT_TRUE(r.ok());
  EXPECT_EQ(v, pattern);
}

TEST_P(PkeysTest, RemoteGupIgnoresKeysButNotVmRead) {
  // process_vm_readv's GUP is FOLL_REMOTE: pkeys are not checked, and an exec-only VMA
  // still fails for lack of VM_READ; FOLL_FORCE (ptrace, /proc/PID/mem) reads it.
  const unsigned long x = Map(1, PROT_EXEC);
  task_struct* other = k_.Spawn("other");
  k_.RunAs(other);
  uint8_t buf[8] = {1};
  EXPECT_EQ(access_remote_vm(p_->mm, x, buf, 8, FOLL_FORCE), 8);
  EXPECT_EQ(access_remote_vm(p_->mm, x, buf, 8, 0), 0);
}

TEST_P(PkeysTest, ForkKeepsTheKeysAndPkru) {
  const unsigned long x = Map(1, PROT_EXEC);
  task_struct* child = k_.Fork(p_);
  ASSERT_NE(child, nullptr);
  EXPECT_EQ(child->mm->context.execute_only_pkey, p_->mm->context.execute_only_pkey);
  EXPECT_EQ(child->mm->context.pkey_allocation_map, p_->mm->context.pkey_allocation_map);
  EXPECT_EQ(vma_pkey(find_vma(child->mm, x)), pku() ? 1 : 0);
  EXPECT_EQ(child->thread.pkru, pku() ? init_pkru_value : 0u);
  k_.RunAs(child);
  uint8_t buf[8] = {};
  EXPECT_EQ(copy_from_user(buf, U(x), 8), pku() ? 8u : 0u);
}

TEST_P(PkeysTest, ContextSwitchLoadsEachTasksPkru) {
  if (!pku()) GTEST_SKIP() << "no PKRU without PKU";
  // A task whose PKRU differs (key 2 write-disabled): switching to it and back loads each
  // task's own value on the CPU.
  ASSERT_EQ(arch_set_user_pkey_access(p_, 2, PKEY_DISABLE_WRITE), 0);
  const u32 mine = read_pkru();
  EXPECT_EQ(mine, (init_pkru_value & ~(0x3u << 4)) | (0x2u << 4));
  task_struct* q = k_.Spawn("q");
  k_.RunAs(q, p_->on_cpu);
  EXPECT_EQ(read_pkru(), init_pkru_value);
  k_.RunAs(p_, q->on_cpu);
  EXPECT_EQ(read_pkru(), mine);
}

INSTANTIATE_TEST_SUITE_P(Pku, PkeysTest, ::testing::Bool(),
                         [](const ::testing::TestParamInfo<bool>& i) {
                           return i.param ? std::string("pku") : std::string("no_pku");
                         });

}  // namespace
}  // namespace kernel
