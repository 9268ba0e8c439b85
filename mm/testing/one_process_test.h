// mm/testing/one_process_test.h: a gtest fixture over the booted kernel (kernel_fixture.h)
// with one user process.
#ifndef MMSIM_MM_TESTING_ONE_PROCESS_TEST_H_
#define MMSIM_MM_TESTING_ONE_PROCESS_TEST_H_

#include "gtest/gtest.h"
#include "mm/kernel/task.h"
#include "mm/mm.h"
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

}  // namespace kernel_testing

#endif  // MMSIM_MM_TESTING_ONE_PROCESS_TEST_H_
