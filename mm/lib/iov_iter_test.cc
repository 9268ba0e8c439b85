// Tests of mm/lib/iov_iter.cc: importing iovec arrays from simulated user memory (the
// ITER_UBUF and ITER_IOVEC paths differ observably), iovec_from_user's errors, and the
// page copies that stop byte-exactly at the first user byte that faults.
#include "mm/lib/iov_iter.h"

#include <cstring>
#include <vector>

#include "gtest/gtest.h"
#include "mm/arch/x86/uaccess.h"
#include "mm/mm.h"
#include "mm/slab.h"
#include "mm/testing/kernel_fixture.h"

namespace kernel {
namespace {

using kernel_testing::BootedKernel;

constexpr unsigned long kA = 0x300000000000UL;  // the process's test mappings

void __user* U(unsigned long a) { return reinterpret_cast<void __user*>(a); }
const iovec __user* UV(unsigned long a) { return reinterpret_cast<const iovec __user*>(a); }
unsigned long A(const void __user* p) { return reinterpret_cast<unsigned long>(p); }

class IovIterTest : public ::testing::Test {
 protected:
  void SetUp() override {
    p_ = k_.Spawn("p");
    k_.RunAs(p_);
  }
  void TearDown() override {
    k_.RunAs(p_);
    EXPECT_EQ(k_.DebugVm(), "");
  }
  void Map(unsigned long addr, unsigned long pages, unsigned long prot) {
    ASSERT_EQ(k_.Mmap(p_, addr, pages * PAGE_SIZE, prot, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED),
              addr);
    k_.RunAs(p_);
  }
  // Writes `v` as a struct iovec[] at user address `at`.
  void PutIovecs(unsigned long at, const std::vector<iovec>& v) {
    ASSERT_EQ(copy_to_user(U(at), v.data(), v.size() * sizeof(iovec)), 0u);
  }
  std::vector<uint8_t> Get(unsigned long addr, size_t n) {
    std::vector<uint8_t> v(n);
    EXPECT_EQ(copy_from_user(v.data(), U(addr), n), 0u);
    return v;
  }

  BootedKernel k_;
  task_struct* p_ = nullptr;
};

TEST_F(IovIterTest, OneSegmentIsAUbufClampedBeforeAccessOk) {
  Map(kA, 1, PROT_READ | PROT_WRITE);
  // base + len runs past TASK_SIZE: fine for one segment (clamped first, then checked).
  PutIovecs(kA, {{U(0x10000), TASK_SIZE_MAX}});
  iovec stack[UIO_FASTIOV];
  iovec* iov = stack;
  iov_iter iter;
  EXPECT_EQ(import_iovec(ITER_DEST, UV(kA), 1, UIO_FASTIOV, &iov, &iter), MAX_RW_COUNT);
  EXPECT_EQ(iov, nullptr);
  EXPECT_EQ(iter.iter_type, ITER_UBUF);
  EXPECT_EQ(A(iter.ubuf), 0x10000UL);
  EXPECT_EQ(iov_iter_count(&iter), static_cast<size_t>(MAX_RW_COUNT));
  EXPECT_EQ(iov_iter_rw(&iter), ITER_DEST);

  // The same element twice: the ITER_IOVEC path checks each element's own length.
  PutIovecs(kA, {{U(0x10000), TASK_SIZE_MAX}, {U(0x10000), TASK_SIZE_MAX}});
  iov = stack;
  EXPECT_EQ(import_iovec(ITER_DEST, UV(kA), 2, UIO_FASTIOV, &iov, &iter), -EFAULT);
  EXPECT_EQ(iov, nullptr);
}

TEST_F(IovIterTest, ManySegmentsClampTheRunningTotal) {
  Map(kA, 1, PROT_READ | PROT_WRITE);
  const size_t G = 0x40000000;  // 1 GiB, well inside the user range
  PutIovecs(kA, {{U(0x100000000UL), G}, {U(0x200000000UL), G}, {U(0x300000000UL), G}});
  iovec stack[UIO_FASTIOV];
  iovec* iov = stack;
  iov_iter iter;
  EXPECT_EQ(import_iovec(ITER_SOURCE, UV(kA), 3, UIO_FASTIOV, &iov, &iter), MAX_RW_COUNT);
  EXPECT_EQ(iov, nullptr);  // the stack array was big enough
  EXPECT_EQ(iter.iter_type, ITER_IOVEC);
  EXPECT_EQ(iter.__iov, stack);
  EXPECT_EQ(iter.nr_segs, 3u);
  EXPECT_EQ(stack[0].iov_len, G);
  EXPECT_EQ(stack[1].iov_len, static_cast<size_t>(MAX_RW_COUNT) - G);
  EXPECT_EQ(stack[2].iov_len, 0u);
  EXPECT_EQ(iov_iter_rw(&iter), ITER_SOURCE);
}

TEST_F(IovIterTest, MoreThanUioFastiovSegmentsAreKmalloced) {
  Map(kA, 1, PROT_READ | PROT_WRITE);
  std::vector<iovec> v(UIO_FASTIOV + 1, iovec{U(kA), 16});
  PutIovecs(kA, v);
  iovec stack[UIO_FASTIOV];
  iovec* iov = stack;
  iov_iter iter;
  const long slab0 = k_.ks()->slab_allocations;
  EXPECT_EQ(import_iovec(ITER_DEST, UV(kA), UIO_FASTIOV + 1, UIO_FASTIOV, &iov, &iter),
            static_cast<long>(16 * (UIO_FASTIOV + 1)));
  ASSERT_NE(iov, nullptr);
  EXPECT_NE(iov, stack);
  EXPECT_EQ(iter.__iov, iov);
  EXPECT_EQ(k_.ks()->slab_allocations, slab0 + 1);
  kfree(iov);
  EXPECT_EQ(k_.ks()->slab_allocations, slab0);
  // A failed import frees the array it allocated.
  v[UIO_FASTIOV].iov_base = U(~0UL);
  PutIovecs(kA, v);
  iov = stack;
  EXPECT_EQ(import_iovec(ITER_DEST, UV(kA), UIO_FASTIOV + 1, UIO_FASTIOV, &iov, &iter), -EFAULT);
  EXPECT_EQ(iov, nullptr);
  EXPECT_EQ(k_.ks()->slab_allocations, slab0);
}

TEST_F(IovIterTest, ZeroLengthElements) {
  Map(kA, 1, PROT_READ | PROT_WRITE);
  iovec stack[UIO_FASTIOV];
  iovec* iov = stack;
  iov_iter iter;
  // (void*)-1 with length 0 fails access_ok (the end is not a user address), on both paths.
  PutIovecs(kA, {{U(~0UL), 0}, {U(kA), 10}});
  EXPECT_EQ(import_iovec(ITER_DEST, UV(kA), 2, UIO_FASTIOV, &iov, &iter), -EFAULT);
  iov = stack;
  EXPECT_EQ(import_iovec(ITER_DEST, UV(kA), 1, UIO_FASTIOV, &iov, &iter), -EFAULT);
  // NULL with length 0 is fine, and adds nothing.
  PutIovecs(kA, {{U(0), 0}, {U(kA), 10}, {U(0), 0}});
  iov = stack;
  EXPECT_EQ(import_iovec(ITER_DEST, UV(kA), 3, UIO_FASTIOV, &iov, &iter), 10);
  // Zero segments: 0, and the array is never read.
  iov = stack;
  EXPECT_EQ(import_iovec(ITER_DEST, UV(~0UL), 0, UIO_FASTIOV, &iov, &iter), 0);
}

TEST_F(IovIterTest, IovecFromUserCountLimits) {
  Map(kA, 4, PROT_READ | PROT_WRITE);
  iovec fast[UIO_FASTIOV];
  // The count is checked before the array is touched.
  EXPECT_EQ(iovec_from_user(UV(~0UL), UIO_MAXIOV + 1, UIO_FASTIOV, fast, false),
            ERR_PTR<iovec>(-EINVAL));
  EXPECT_EQ(iovec_from_user(UV(~0UL), 0, UIO_FASTIOV, fast, false), fast);
  std::vector<iovec> v(UIO_MAXIOV, iovec{U(kA), 1});
  PutIovecs(kA, v);
  const long slab0 = k_.ks()->slab_allocations;
  iovec* got = iovec_from_user(UV(kA), UIO_MAXIOV, UIO_FASTIOV, fast, false);
  ASSERT_FALSE(IS_ERR(got));
  EXPECT_NE(got, fast);
  EXPECT_EQ(got[UIO_MAXIOV - 1].iov_len, 1u);
  kfree(got);
  // A fault in the last element: EFAULT, and the kmalloc'd copy is freed.
  EXPECT_EQ(iovec_from_user(UV(kA + 4 * PAGE_SIZE - 16 * (UIO_MAXIOV - 1)), UIO_MAXIOV,
                            UIO_FASTIOV, fast, false),
            ERR_PTR<iovec>(-EFAULT));
  EXPECT_EQ(k_.ks()->slab_allocations, slab0);
}

TEST_F(IovIterTest, IovecFromUserIsAllOrNothingInElementOrder) {
  // Page kA is readable; kA + PAGE_SIZE is not mapped.
  Map(kA, 1, PROT_READ | PROT_WRITE);
  iovec fast[UIO_FASTIOV];
  const unsigned long end = kA + PAGE_SIZE;
  auto from = [&](unsigned long at, unsigned long n) {
    return iovec_from_user(UV(at), n, UIO_FASTIOV, fast, false);
  };
  // Array pointer NULL or (void*)-1.
  EXPECT_EQ(from(0, 1), ERR_PTR<iovec>(-EFAULT));
  EXPECT_EQ(from(~0UL, 1), ERR_PTR<iovec>(-EFAULT));
  // Two readable elements and a third on the unmapped page: EFAULT.
  PutIovecs(end - 32, {{U(kA), 1}, {U(kA), 2}});
  EXPECT_EQ(from(end - 32, 3), ERR_PTR<iovec>(-EFAULT));
  // ... unless an element before the fault has a negative length: that one is met first.
  PutIovecs(end - 32, {{U(kA), 1}, {U(kA), ~0UL}});
  EXPECT_EQ(from(end - 32, 3), ERR_PTR<iovec>(-EINVAL));
  // An element straddling into the unmapped page faults, whatever its readable half says.
  PutIovecs(end - 24, {{U(kA), 5}});
  ASSERT_EQ(copy_to_user(U(end - 8), fast, 8), 0u);  // base of the straddling element
  EXPECT_EQ(from(end - 24, 2), ERR_PTR<iovec>(-EFAULT));
  // A negative length anywhere: EINVAL, nothing kept.
  PutIovecs(kA, {{U(kA), 1}, {U(kA), 2}, {U(kA), 0x8000000000000000UL}, {U(kA), 3}});
  EXPECT_EQ(from(kA, 4), ERR_PTR<iovec>(-EINVAL));
  // SSIZE_MAX itself is a valid length (the remote vector has no access_ok or sum check).
  PutIovecs(kA, {{U(kA), 0x7fffffffffffffffUL}, {U(kA), 0x7fffffffffffffffUL}});
  iovec* ok = from(kA, 2);
  ASSERT_EQ(ok, fast);
  EXPECT_EQ(fast[1].iov_len, 0x7fffffffffffffffUL);
}

// A kernel page with a known pattern.
struct KPage {
  page* pg;
  uint8_t* va;
  explicit KPage(uint8_t seed) {
    pg = alloc_page(GFP_KERNEL);
    va = static_cast<uint8_t*>(page_address(pg));
    for (unsigned long i = 0; i < PAGE_SIZE; ++i) va[i] = static_cast<uint8_t>(seed + i * 3);
  }
  ~KPage() { __free_page(pg); }
};

TEST_F(IovIterTest, CopyPageToIterStopsAtTheFirstFaultingByte) {
  // [kA, kA+4K) mapped read-write and zeroed; [kA+4K, kA+8K) not mapped.
  Map(kA, 1, PROT_READ | PROT_WRITE);
  ASSERT_EQ(clear_user(U(kA), PAGE_SIZE), 0u);
  KPage kp(7);
  iovec segs[3] = {{U(kA + 100), 100}, {U(kA + PAGE_SIZE - 50), 100}, {U(kA + 1000), 100}};
  iov_iter iter;
  iov_iter_init(&iter, ITER_DEST, segs, 3, 300);
  EXPECT_EQ(copy_page_to_iter(kp.pg, 10, 300, &iter), 150u);
  EXPECT_EQ(iov_iter_count(&iter), 150u);
  EXPECT_EQ(iter.__iov, &segs[1]);
  EXPECT_EQ(iter.nr_segs, 2u);
  EXPECT_EQ(iter.iov_offset, 50u);
  auto got = Get(kA, PAGE_SIZE);
  for (int i = 0; i < 100; ++i) ASSERT_EQ(got[100 + i], kp.va[10 + i]) << i;
  for (int i = 0; i < 50; ++i) ASSERT_EQ(got[PAGE_SIZE - 50 + i], kp.va[110 + i]) << i;
  for (int i = 0; i < 100; ++i) ASSERT_EQ(got[1000 + i], 0) << "segment 2 untouched " << i;

  // A read-only page in the way is the same stop for a copy *to* user memory.
  Map(kA + PAGE_SIZE, 1, PROT_READ);
  iov_iter_init(&iter, ITER_DEST, segs, 3, 300);
  EXPECT_EQ(copy_page_to_iter(kp.pg, 10, 300, &iter), 150u);
  // ...but not for a copy *from* it: all 300 bytes arrive.
  KPage dst(0);
  std::memset(dst.va, 0xaa, PAGE_SIZE);
  iov_iter_init(&iter, ITER_SOURCE, segs, 3, 300);
  EXPECT_EQ(copy_page_from_iter(dst.pg, 10, 300, &iter), 300u);
  EXPECT_EQ(iov_iter_count(&iter), 0u);
}

TEST_F(IovIterTest, CopyPageFromIterLeavesTheRestOfThePageAlone) {
  Map(kA, 1, PROT_READ | PROT_WRITE);
  std::vector<uint8_t> src(PAGE_SIZE);
  for (unsigned long i = 0; i < PAGE_SIZE; ++i) src[i] = static_cast<uint8_t>(i * 5 + 1);
  ASSERT_EQ(copy_to_user(U(kA), src.data(), PAGE_SIZE), 0u);
  KPage dst(0);
  std::memset(dst.va, 0xaa, PAGE_SIZE);
  iovec segs[2] = {{U(kA + PAGE_SIZE - 30), 60}, {U(kA), 10}};
  iov_iter iter;
  iov_iter_init(&iter, ITER_SOURCE, segs, 2, 70);
  EXPECT_EQ(copy_page_from_iter(dst.pg, 100, 70, &iter), 30u);
  for (int i = 0; i < 30; ++i) ASSERT_EQ(dst.va[100 + i], src[PAGE_SIZE - 30 + i]) << i;
  // No zero fill past the fault (raw_copy_from_user, 4.11+).
  for (int i = 130; i < 300; ++i) ASSERT_EQ(dst.va[i], 0xaa) << i;
  EXPECT_EQ(iov_iter_count(&iter), 40u);
  EXPECT_EQ(iter.iov_offset, 30u);

  // The same through an ITER_UBUF.
  std::memset(dst.va, 0xaa, PAGE_SIZE);
  ASSERT_EQ(import_ubuf(ITER_SOURCE, U(kA + PAGE_SIZE - 10), 100, &iter), 0);
  EXPECT_EQ(copy_page_from_iter(dst.pg, 0, 100, &iter), 10u);
  EXPECT_EQ(dst.va[10], 0xaa);
  EXPECT_EQ(iter.iov_offset, 10u);
  EXPECT_EQ(iov_iter_count(&iter), 90u);
}

TEST_F(IovIterTest, AdvanceSkipsEmptySegments) {
  iovec segs[4] = {{U(kA), 0}, {U(kA + 100), 5}, {U(kA + 200), 0}, {U(kA + 300), 7}};
  iov_iter iter;
  iov_iter_init(&iter, ITER_DEST, segs, 4, 12);
  iov_iter_advance(&iter, 5);
  EXPECT_EQ(iter.__iov, &segs[3]);
  EXPECT_EQ(iter.iov_offset, 0u);
  EXPECT_EQ(iter.nr_segs, 1u);
  EXPECT_EQ(iov_iter_count(&iter), 7u);
  iov_iter_advance(&iter, 3);
  EXPECT_EQ(iter.iov_offset, 3u);
  iov_iter_advance(&iter, 100);  // clamped to what is left
  EXPECT_EQ(iov_iter_count(&iter), 0u);
  EXPECT_EQ(iter.nr_segs, 0u);

  iov_iter_ubuf(&iter, ITER_DEST, U(kA), 10);
  iov_iter_advance(&iter, 4);
  EXPECT_EQ(iter.iov_offset, 4u);
  EXPECT_EQ(iov_iter_count(&iter), 6u);
}

TEST_F(IovIterTest, InsaneRangesAndWrongDirectionsCopyNothing) {
  Map(kA, 1, PROT_READ | PROT_WRITE);
  KPage kp(1);
  iov_iter iter;
  iov_iter_ubuf(&iter, ITER_DEST, U(kA), 1000);
  const unsigned long warns = kernel_warn_count();
  EXPECT_EQ(copy_page_to_iter(kp.pg, 4000, 200, &iter), 0u);  // past the page
  EXPECT_EQ(iov_iter_count(&iter), 1000u);
  EXPECT_EQ(copy_page_from_iter(kp.pg, 0, 10, &iter), 0u);    // ITER_DEST is not a source
  EXPECT_EQ(iov_iter_count(&iter), 1000u);
  EXPECT_GT(kernel_warn_count(), warns);
}

}  // namespace
}  // namespace kernel
