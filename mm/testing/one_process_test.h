// mm/testing/one_process_test.h: a gtest fixture over the booted kernel (kernel_fixture.h)
// with one user process.
#ifndef MMSIM_MM_TESTING_ONE_PROCESS_TEST_H_
#define MMSIM_MM_TESTING_ONE_PROCESS_TEST_H_

#include "gtest/gtest.h"
#include "mm/kernel/task.h"
#include "mm/mm.h"
#include "mm/pagewalk.h"
#include "mm/swap.h"
#include "mm/testing/kernel_fixture.h"

namespace kernel_testing {

// A booted kernel with one process, `p_`, current on CPU 0: the fixture of the tests that
// exercise the kernel on behalf of a single user process (faults, uaccess).
class OneProcessTest : public ::testing::Test {
 protected:
  void SetUp() override {
    p_ = k_.Spawn("p");
    k_.RunAs(p_);
  }
  // An anonymous private mapping of `pages` pages with `prot`, made as p_ (current after).
  unsigned long Map(int pages, unsigned long prot) {
    unsigned long a = k_.Mmap(p_, 0, pages * kernel::PAGE_SIZE, prot);
    EXPECT_FALSE(kernel::IS_ERR_VALUE(a));
    k_.RunAs(p_);
    return a;
  }

  BootedKernel k_;
  kernel::task_struct* p_ = nullptr;
};

// The same with p_'s memory at hand: its PTEs, its loads and stores, madvise as p_, and
// anonymous pages sent to swap (the fixture of the madvise and workingset tests).
class UserMemoryTest : public OneProcessTest {
 protected:
  kernel::pte_t Pte(unsigned long va) {
    kernel::pte_t* pte = kernel::mm_find_pte(p_->mm, va);
    return pte == nullptr ? kernel::__pte(0) : *pte;
  }
  uint64_t Load(unsigned long va) {
    uint64_t v = ~0ULL;
    EXPECT_TRUE(k_.UserLoad(p_, va, &v).ok()) << std::hex << va;
    return v;
  }
  void Store(unsigned long va, uint64_t v) { ASSERT_TRUE(k_.UserStore(p_, va, v).ok()); }
  int Madvise(unsigned long a, size_t len, int advice) {
    k_.RunAs(p_);
    return kernel::do_madvise(a, len, advice);
  }
  // With a 4 MiB swap device: `pages` anonymous pages, page i holding `first + i` in its
  // first word, all swapped out by MADV_PAGEOUT.
  unsigned long MapSwappedOut(int pages, uint64_t first) {
    EXPECT_EQ(kernel::swapon_simulated(4 << 20), 0);
    unsigned long a = Map(pages, PROT_READ | PROT_WRITE);
    for (int i = 0; i < pages; ++i) Store(a + i * kernel::PAGE_SIZE, first + i);
    EXPECT_EQ(Madvise(a, pages * kernel::PAGE_SIZE, MADV_PAGEOUT), 0);
    for (int i = 0; i < pages; ++i)
      EXPECT_TRUE(kernel::is_swap_pte(Pte(a + i * kernel::PAGE_SIZE))) << i;
    return a;
  }
};

}  // namespace kernel_testing

#endif  // MMSIM_MM_TESTING_ONE_PROCESS_TEST_H_
