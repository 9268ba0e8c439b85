// Tests of mm/arch/x86/uaccess.cc: access_ok's edges, and user copies that run on the
// simulated CPU and stop byte-exactly where the kernel cannot fix a fault.
#include "mm/fault_inject.h"
#include "mm/arch/x86/uaccess.h"

#include <cstring>
#include <vector>

#include "gtest/gtest.h"
#include "mm/arch/x86/extable.h"
#include "mm/arch/x86/fault.h"
#include "mm/kernel/task.h"
#include "mm/mm.h"
#include "mm/testing/one_process_test.h"

namespace kernel {
namespace {

using kernel_testing::BootedKernel;

void __user* U(unsigned long a) { return reinterpret_cast<void __user*>(a); }

std::vector<uint8_t> Pattern(size_t n, uint8_t seed = 1) {
  std::vector<uint8_t> v(n);
  for (size_t i = 0; i < n; ++i) v[i] = static_cast<uint8_t>(seed + i * 7);
  return v;
}

using UaccessTest = kernel_testing::OneProcessTest;

TEST(AccessOkTest, Edges) {
  EXPECT_TRUE(access_ok(U(0), 0));
  EXPECT_TRUE(access_ok(U(0), TASK_SIZE_MAX));
  EXPECT_FALSE(access_ok(U(0), TASK_SIZE_MAX + 1));
  EXPECT_TRUE(access_ok(U(TASK_SIZE_MAX), 0));
  EXPECT_FALSE(access_ok(U(TASK_SIZE_MAX), 1));
  EXPECT_TRUE(access_ok(U(TASK_SIZE_MAX - 1), 1));
  EXPECT_FALSE(access_ok(U(TASK_SIZE_MAX - 1), 2));
  EXPECT_TRUE(access_ok(U(0x7ffffffff000UL - 4096), 4096));
  // Size 0 at (void*)-1: the end is not a user address.
  EXPECT_FALSE(access_ok(U(~0UL), 0));
  // Wrapping ranges.
  EXPECT_FALSE(access_ok(U(1), ~0UL));
  EXPECT_FALSE(access_ok(U(0x1000), ~0UL - 0x800));
  // Kernel addresses.
  EXPECT_FALSE(access_ok(U(0xffff888000000000UL), 8));
  EXPECT_FALSE(access_ok(U(0x800000000000UL), 0));
}

TEST_F(UaccessTest, CopyToUserDemandFaultsAnonymousMemory) {
  unsigned long a = Map(2, PROT_READ | PROT_WRITE);
  auto data = Pattern(2 * PAGE_SIZE);
  EXPECT_EQ(copy_to_user(U(a), data.data(), data.size()), 0u);
  EXPECT_EQ(get_mm_counter(p_->mm, MM_ANONPAGES), 2u);
  std::vector<uint8_t> back(data.size());
  EXPECT_EQ(copy_from_user(back.data(), U(a), back.size()), 0u);
  EXPECT_EQ(back, data);
  EXPECT_FALSE(this_cpu_hw()->ac());  // clac() after the copy
  EXPECT_EQ(k_.DebugVm(), "");
}

TEST_F(UaccessTest, ReadOfUntouchedMemoryGivesZeros) {
  unsigned long a = Map(1, PROT_READ | PROT_WRITE);
  std::vector<uint8_t> back(100, 0xaa);
  EXPECT_EQ(copy_from_user(back.data(), U(a + 17), back.size()), 0u);
  EXPECT_EQ(back, std::vector<uint8_t>(100, 0));
  EXPECT_EQ(get_mm_counter(p_->mm, MM_ANONPAGES), 0u);  // the zero page
}

TEST_F(UaccessTest, ShortCopyAtProtNoneBoundaryIsByteExact) {
  unsigned long a = Map(3, PROT_READ | PROT_WRITE);
  ASSERT_EQ(do_mprotect_pkey(a + 2 * PAGE_SIZE, PAGE_SIZE, PROT_NONE, -1), 0);
  const unsigned long boundary = a + 2 * PAGE_SIZE;
  for (unsigned long before : {1UL, 100UL, 4095UL, 4096UL, 5000UL}) {
    SCOPED_TRACE(before);
    auto data = Pattern(before + 50, static_cast<uint8_t>(before));
    EXPECT_EQ(copy_to_user(U(boundary - before), data.data(), data.size()), 50u);

    std::vector<uint8_t> back(data.size(), 0xaa);
    EXPECT_EQ(copy_from_user(back.data(), U(boundary - before), back.size()), 50u);
    EXPECT_TRUE(std::equal(data.begin(), data.begin() + before, back.begin()));
    // copy_from_user zeroes what it could not copy...
    EXPECT_EQ(std::vector<uint8_t>(back.begin() + before, back.end()),
              std::vector<uint8_t>(50, 0));
    // ...raw_copy_from_user leaves it alone.
    std::vector<uint8_t> raw(data.size(), 0xaa);
    EXPECT_EQ(raw_copy_from_user(raw.data(), U(boundary - before), raw.size()), 50u);
    EXPECT_EQ(std::vector<uint8_t>(raw.begin() + before, raw.end()),
              std::vector<uint8_t>(50, 0xaa));
  }
  // Starting on the PROT_NONE page: nothing at all.
  uint8_t b[8] = {};
  EXPECT_EQ(copy_to_user(U(boundary), b, 8), 8u);
  EXPECT_EQ(copy_from_user(b, U(boundary + 5), 8), 8u);
  EXPECT_EQ(k_.DebugVm(), "");
}

TEST_F(UaccessTest, ShortCopyAtUnmappedBoundaryIsByteExact) {
  unsigned long a = Map(6, PROT_READ | PROT_WRITE);
  ASSERT_EQ(vm_munmap(a + 5 * PAGE_SIZE, PAGE_SIZE), 0);
  auto data = Pattern(6 * PAGE_SIZE);
  // From 123 bytes into the mapping, 6 pages: 5 pages - 123 bytes fit.
  EXPECT_EQ(copy_to_user(U(a + 123), data.data(), data.size()), PAGE_SIZE + 123);
  std::vector<uint8_t> back(data.size());
  EXPECT_EQ(copy_from_user(back.data(), U(a + 123), back.size()), PAGE_SIZE + 123);
  EXPECT_TRUE(std::equal(back.begin(), back.begin() + (5 * PAGE_SIZE - 123), data.begin()));
  EXPECT_EQ(copy_to_user(U(a + 5 * PAGE_SIZE), data.data(), 10), 10u);
  EXPECT_EQ(k_.DebugVm(), "");
}

TEST_F(UaccessTest, PermissionsFollowTheFaultHandlersAccessError) {
  unsigned long ro = Map(1, PROT_READ);
  unsigned long wo = Map(1, PROT_WRITE);
  unsigned long xo = Map(1, PROT_EXEC);
  unsigned long none = Map(1, PROT_NONE);
  uint8_t buf[16] = {1, 2, 3};
  // Reads need any of read, write, exec; writes need write.
  EXPECT_EQ(copy_from_user(buf, U(ro), 16), 0u);
  EXPECT_EQ(copy_to_user(U(ro), buf, 16), 16u);
  EXPECT_EQ(copy_from_user(buf, U(wo), 16), 0u);
  EXPECT_EQ(copy_to_user(U(wo), buf, 16), 0u);
  EXPECT_EQ(copy_from_user(buf, U(xo), 16), 0u);
  EXPECT_EQ(copy_to_user(U(xo), buf, 16), 16u);
  EXPECT_EQ(copy_from_user(buf, U(none), 16), 16u);
  EXPECT_EQ(copy_to_user(U(none), buf, 16), 16u);
  EXPECT_EQ(k_.DebugVm(), "");
}

TEST_F(UaccessTest, ZeroLengthCopiesNeverFault) {
  uint8_t b = 0;
  EXPECT_EQ(copy_to_user(U(0), &b, 0), 0u);
  EXPECT_EQ(copy_from_user(&b, U(0x1000), 0), 0u);
  EXPECT_EQ(clear_user(U(0), 0), 0u);
}

TEST_F(UaccessTest, KernelAddressesAreRefusedByAccessOk) {
  uint8_t b[8] = {};
  EXPECT_EQ(copy_to_user(U(0xffff888000000000UL), b, 8), 8u);
  EXPECT_EQ(copy_from_user(b, U(TASK_SIZE_MAX - 4), 8), 8u);
  EXPECT_EQ(clear_user(U(~0UL - 3), 4), 4u);
}

TEST_F(UaccessTest, RawCopyToAKernelAddressIsFixedUpNotFatal) {
  // Without access_ok a kernel-half address reaches the CPU, which at CPL 0 translates it
  // through the direct map every pgd shares (mm/arch/x86/init.cc): the copy reads kernel
  // memory, as in Linux; that is what access_ok is for. Past the end of memory nothing is
  // mapped and the fault is fixed up.
  uint8_t b[8] = {};
  std::memcpy(__va(0x2000), "swapper", 8);  // frame 2 is swapper_pg_dir: slot 0 is empty
  EXPECT_EQ(raw_copy_from_user(b, U(0xffff888000002000UL), 8), 0u);
  EXPECT_EQ(std::memcmp(b, "swapper", 8), 0);
  std::memset(__va(0x2000), 0, 8);
  EXPECT_EQ(raw_copy_from_user(b, U(0xffff888000000000UL + (1UL << 30)), 8), 8u);
  // A non-canonical one is #GP, fixed up with a warning.
  const unsigned long warns = kernel_warn_count();
  EXPECT_EQ(raw_copy_from_user(b, U(0x800000000000UL), 8), 8u);
  EXPECT_EQ(kernel_warn_count(), warns + 1);  // the latch is per machine: this one fires
}

TEST_F(UaccessTest, GetUserAndPutUser) {
  unsigned long a = Map(2, PROT_READ | PROT_WRITE);
  auto* p64 = reinterpret_cast<uint64_t __user*>(a + 8);
  EXPECT_EQ(put_user(0x1122334455667788ULL, p64), 0);
  uint64_t v = 0;
  EXPECT_EQ(get_user(v, p64), 0);
  EXPECT_EQ(v, 0x1122334455667788ULL);
  auto* p8 = reinterpret_cast<uint8_t __user*>(a + 9);
  int b = -1;
  EXPECT_EQ(get_user(b, p8), 0);
  EXPECT_EQ(b, 0x77);

  // Unmapped or out of range: -EFAULT and the value zeroed.
  v = 42;
  EXPECT_EQ(get_user(v, reinterpret_cast<uint64_t __user*>(0x10)), -EFAULT);
  EXPECT_EQ(v, 0u);
  v = 42;
  EXPECT_EQ(get_user(v, reinterpret_cast<uint64_t __user*>(0xffff888000000000UL)), -EFAULT);
  EXPECT_EQ(v, 0u);
  EXPECT_EQ(put_user(1, reinterpret_cast<uint32_t __user*>(TASK_SIZE_MAX - 2)), -EFAULT);
}

TEST_F(UaccessTest, PutUserStraddlingIntoAHoleWritesNothing) {
  unsigned long a = Map(2, PROT_READ | PROT_WRITE);
  ASSERT_EQ(vm_munmap(a + PAGE_SIZE, PAGE_SIZE), 0);
  auto* straddle = reinterpret_cast<uint32_t __user*>(a + PAGE_SIZE - 2);
  ASSERT_EQ(put_user(0xffffu, reinterpret_cast<uint16_t __user*>(a + PAGE_SIZE - 2)), 0);
  EXPECT_EQ(put_user(0xabcdef01u, straddle), -EFAULT);
  uint16_t head = 0;
  EXPECT_EQ(get_user(head, reinterpret_cast<uint16_t __user*>(a + PAGE_SIZE - 2)), 0);
  EXPECT_EQ(head, 0xffff);  // one mov: all or nothing
  uint32_t v = 7;
  EXPECT_EQ(get_user(v, straddle), -EFAULT);
  EXPECT_EQ(v, 0u);
}

TEST_F(UaccessTest, ClearUserStopsAtTheFirstBadByte) {
  unsigned long a = Map(2, PROT_READ | PROT_WRITE);
  ASSERT_EQ(do_mprotect_pkey(a + PAGE_SIZE, PAGE_SIZE, PROT_READ, -1), 0);
  auto data = Pattern(PAGE_SIZE);
  ASSERT_EQ(copy_to_user(U(a), data.data(), data.size()), 0u);
  EXPECT_EQ(clear_user(U(a + 100), PAGE_SIZE), 100u);
  std::vector<uint8_t> back(PAGE_SIZE);
  ASSERT_EQ(copy_from_user(back.data(), U(a), back.size()), 0u);
  EXPECT_TRUE(std::equal(back.begin(), back.begin() + 100, data.begin()));
  EXPECT_EQ(std::vector<uint8_t>(back.begin() + 100, back.end()),
            std::vector<uint8_t>(PAGE_SIZE - 100, 0));
}

TEST_F(UaccessTest, FailUaccessStopsTheCopyShort) {
  unsigned long a = Map(3, PROT_READ | PROT_WRITE);
  auto data = Pattern(3 * PAGE_SIZE);
  // The third page-sized piece.
  ASSERT_EQ(fault_inject_arm("fail_uaccess", {.nth = 3, .times = 1}), 0);
  EXPECT_EQ(copy_to_user(U(a), data.data(), data.size()), PAGE_SIZE);
  ASSERT_EQ(fault_inject_arm("fail_uaccess", {.nth = 1, .times = 1}), 0);
  uint64_t v = 5;
  EXPECT_EQ(get_user(v, reinterpret_cast<uint64_t __user*>(a)), -EFAULT);
  fault_inject_disarm(nullptr);
  EXPECT_FALSE(this_cpu_hw()->ac());
}

TEST_F(UaccessTest, KernelThreadHasNoUserMemory) {
  unsigned long a = Map(1, PROT_READ | PROT_WRITE);
  task_struct* kt = k_.SpawnKthread("kt");
  k_.RunAs(kt);
  uint8_t b[8] = {};
  EXPECT_EQ(copy_to_user(U(a), b, 8), 8u);  // not present, and no mm to fault it into
}

TEST_F(UaccessTest, OomDuringTheFaultEndsTheCopy) {
  unsigned long a = Map(2, PROT_READ | PROT_WRITE);
  auto data = Pattern(2 * PAGE_SIZE);
  // The second page's fault returns VM_FAULT_OOM.
  ASSERT_EQ(fault_inject_arm("fail_fault", {.nth = 2, .times = 1}), 0);
  EXPECT_EQ(copy_to_user(U(a), data.data(), data.size()), PAGE_SIZE);
  fault_inject_disarm(nullptr);
  EXPECT_EQ(k_.DebugVm(), "");
}

using UaccessDeathTest = UaccessTest;

TEST_F(UaccessDeathTest, SupervisorAccessWithoutStacIsAnOops) {
  unsigned long a = Map(1, PROT_READ | PROT_WRITE);
  ASSERT_EQ(clear_user(U(a), 8), 0u);  // present now
  auto unprotected_load = [a] {
    uint64_t v;
    hw::Fault f = this_cpu_hw()->Load(hw::VirtAddr(a), &v, 8);  // CPL 0, AC clear
    pt_regs regs{UA_INSN_COPY_USER, __KERNEL_CS, X86_EFLAGS_IF, 0};
    exc_page_fault(&regs, f.error_code);
  };
  EXPECT_DEATH(unprotected_load(), "SMAP");
}

TEST_F(UaccessDeathTest, KernelFaultWithoutAnExtableEntryIsAnOops) {
  auto stray_kernel_fault = [] {
    pt_regs regs{0xffffffff81000000UL, __KERNEL_CS, X86_EFLAGS_IF | X86_EFLAGS_AC, 0};
    do_user_addr_fault(&regs, 0, 0x10);
  };
  EXPECT_DEATH(stray_kernel_fault(), "unable to handle page fault");
}

}  // namespace
}  // namespace kernel
