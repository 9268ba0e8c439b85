// tests/pvm/ltp_cma_test.cc: LTP's Cross Memory Attach tests, ported to sim::Machine.
//
// Source read (linux-test-project/ltp, testcases/kernel/syscalls/cma/):
//  * process_vm01.c at commit 9b02cd465f70a2443c1ac7083a166992b4401b50 (the errno tests,
//    run with -r and -w; docs/semantics.md §8: the 2022 rewrite keeps the same cases);
//  * process_vm_readv02.c and process_vm_writev02.c at commit
//    0b9589f3f9c0345b29cfcf7da5a1253c708303eb;
//  * process_vm_readv03.c, the 2021 rewrite (Copyright SUSE LLC, Andrea Cervesato) with the
//    16-entry `testcases[]` table of (bufsize, remote_iovecs, local_iovecs).
// The tests are written fresh from what those programs do; no LTP code is copied.
//
// Mapping of LTP's process model onto the simulator:
//  * "the test's own pid" is the `caller` process; malloc'd buffers are regions of the
//    caller's (or target's) memory handed out by a small bump allocator (Heap below) that
//    mimics glibc: 16-byte alignment, a 16-byte chunk header before each block, and a
//    unique non-NULL pointer for malloc(0);
//  * the forked children 0 and 1 of readv02/readv03/writev02 are two processes created by
//    the Machine (what they inherit from the LTP parent plays no part in the tests); all
//    LTP tests run as root, so all processes are root unless a case says otherwise;
//  * case 9 of process_vm01 forks the caller (Machine::Fork) and the child calls
//    setresuid(65534, 65534, 65534) before targeting its root parent.
// Random sizes (process_vm_readv03): LTP uses rand() with glibc's default seed; here a
// std::mt19937 seeded with kReadv03Seed + case index gives the 31-bit values, so every case
// is reproducible on its own (the seed is recorded as a test property).
#include <climits>
#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "tests/pvm/pvm_fixture.h"

namespace pvmtest {
namespace {

// A glibc-like malloc over one mapped region of a process.
class Heap {
 public:
  Heap(uint64_t base, uint64_t size) : next_(base), end_(base + size) {}
  // Like malloc(n): a 16-byte header, then the block, 16-byte aligned. malloc(0) returns a
  // unique pointer, as glibc does.
  uint64_t Alloc(uint64_t n) {
    const uint64_t p = next_ + 16;
    next_ = p + ((std::max<uint64_t>(n, 8) + 15) & ~uint64_t{15});
    EXPECT_LE(next_, end_) << "test heap exhausted";
    return p;
  }

 private:
  uint64_t next_;
  const uint64_t end_;
};

// ---------------------------------------------------------------------------------------
// process_vm01: the errno tests. Each case runs as readv (-r) and writev (-w).
class LtpProcessVm01 : public DirTest {
 protected:
  void SetUp() override {
    DirTest::SetUp();
    if (HasFatalFailure()) return;
    MapFilled(caller_, kHeap, 16 * kPage, 0);
    Heap heap(kHeap, 16 * kPage);
    len_ = kPage;  // getpagesize()
    ldummy_ = heap.Alloc(len_);
    rdummy_ = heap.Alloc(len_);
    // Contents are irrelevant to LTP; give the buffers distinct bytes so moves are visible.
    FillPattern(caller_, rdummy_, len_);
    FillByte(caller_, ldummy_, len_, kLocalFill);
  }
  // cma_alloc_sane_params(): pid = own pid, 1 local + 1 remote iovec of one page each.
  struct Params {
    int pid;
    uint64_t lvec, liovcnt, rvec, riovcnt, flags;
  };
  Params Sane(Iov l = {0, 0}, Iov r = {0, 0}) {
    if (l.len == 0 && l.base == 0) l = {ldummy_, len_};
    if (r.len == 0 && r.base == 0) r = {rdummy_, len_};
    return {caller_, PlaceIovecs(IovList{l}), 1, PlaceIovecs(IovList{r}), 1, 0};
  }
  // cma_test_params(): the raw syscall, made by `caller` (or `by`).
  sim::SysResult Test(const Params& p, int by = -1) {
    return CallRaw(dir(), by < 0 ? caller_ : by, p.pid, p.lvec, p.liovcnt, p.rvec, p.riovcnt,
                   p.flags);
  }

  static constexpr uint64_t kHeap = kLocal;
  uint64_t len_ = 0, ldummy_ = 0, rdummy_ = 0;
};
INSTANTIATE_TEST_SUITE_P(Ltp, LtpProcessVm01, ::testing::Values(Dir::kRead, Dir::kWrite),
                         DirParamName());

// Case 1, cma_test_sane_params: returns the page size.
TEST_P(LtpProcessVm01, Case1_SaneParams) {
  EXPECT_TRUE(Returns(Test(Sane()), kPage));
  // Beyond LTP: the bytes moved between the two buffers of the same process.
  const std::vector<uint8_t> want = PatBytes(reading() ? rdummy_ : ldummy_, len_);
  if (reading()) {
    EXPECT_TRUE(SameBytes(Peek(caller_, ldummy_, len_), want, ldummy_));
  } else {
    EXPECT_TRUE(SameBytes(Peek(caller_, rdummy_, len_), std::vector<uint8_t>(len_, kLocalFill),
                          rdummy_));
  }
}

// Case 2, cma_test_flags: flags in {-INT_MAX, -1, 1, INT_MAX} -> -1 EINVAL; 0 -> page size.
TEST_P(LtpProcessVm01, Case2_Flags) {
  for (long flags : {static_cast<long>(-INT_MAX), -1L, 1L, static_cast<long>(INT_MAX), 0L}) {
    SCOPED_TRACE(flags);
    Params p = Sane();
    p.flags = static_cast<uint64_t>(flags);
    const sim::SysResult r = Test(p);
    EXPECT_TRUE(flags != 0 ? Fails(r, EINVAL) : Returns(r, kPage));
  }
}

// Case 3, cma_test_iov_len_overflow: iov_len = (ssize_t)-1 on both vectors -> -1 EINVAL.
TEST_P(LtpProcessVm01, Case3_IovLenOverflow) {
  EXPECT_TRUE(Fails(Test(Sane({ldummy_, ~uint64_t{0}}, {rdummy_, ~uint64_t{0}})), EINVAL));
}

// Case 4, cma_test_iov_invalid (lvec->iov_base = (void*)-1) -> -1 EFAULT.
TEST_P(LtpProcessVm01, Case4_LocalIovBaseMinusOne) {
  EXPECT_TRUE(Fails(Test(Sane({kMinusOne, len_})), EFAULT));
}

// Case 5, cma_test_iov_invalid (rvec->iov_base = (void*)-1) -> -1 EFAULT.
TEST_P(LtpProcessVm01, Case5_RemoteIovBaseMinusOne) {
  EXPECT_TRUE(Fails(Test(Sane({0, 0}, {kMinusOne, len_})), EFAULT));
}

// Case 6, cma_test_iov_invalid (lvec = (void*)-1) -> -1 EFAULT.
TEST_P(LtpProcessVm01, Case6_LvecMinusOne) {
  Params p = Sane();
  p.lvec = kMinusOne;
  EXPECT_TRUE(Fails(Test(p), EFAULT));
}

// Case 7, cma_test_iov_invalid (rvec = (void*)-1) -> -1 EFAULT.
TEST_P(LtpProcessVm01, Case7_RvecMinusOne) {
  Params p = Sane();
  p.rvec = kMinusOne;
  EXPECT_TRUE(Fails(Test(p), EFAULT));
}

// Case 8, cma_test_invalid_pid: pid -1 -> ESRCH; an unused pid (tst_get_unused_pid) -> ESRCH.
TEST_P(LtpProcessVm01, Case8_InvalidPid) {
  Params p = Sane();
  p.pid = -1;
  EXPECT_TRUE(Fails(Test(p), ESRCH)) << "pid -1";
  // tst_get_unused_pid: a pid that no task has.
  int unused = 1;
  while (m().FindTask(unused) != nullptr) ++unused;
  p.pid = unused;
  EXPECT_TRUE(Fails(Test(p), ESRCH)) << "unused pid " << unused;
}

// Case 9, cma_test_invalid_perm: the root test process forks; the child does
// setuid("nobody") (uid 65534) and targets its root parent -> -1 EPERM.
TEST_P(LtpProcessVm01, Case9_NobodyToRootIsEperm) {
  const sim::SysResult f = m().Fork(caller_);
  ASSERT_GT(f.ret, 0) << "fork: " << Show(f);
  const int child = static_cast<int>(f.ret);
  EXPECT_TRUE(Returns(m().SetResUid(child, 65534, 65534, 65534), 0)) << "setuid(nobody)";
  // The child's own sane params: new buffers in its (inherited) heap, pid = the parent.
  const uint64_t l = kHeap + 8 * kPage, r = kHeap + 10 * kPage;
  Params p{caller_, PlaceIovecs(IovList{{l, len_}}, child), 1,
           PlaceIovecs(IovList{{r, len_}}, child), 1, 0};
  const Snapshot before = TakeSnapshot();
  EXPECT_TRUE(Fails(Test(p, child), EPERM));
  ExpectUntouched(before);
}

// Case 10, cma_test_invalid_protection: an mmap(PROT_NONE) page as lvec base -> EFAULT
// (a local fault on the first byte); the same page as rvec base -> EFAULT (check_vma_flags).
TEST_P(LtpProcessVm01, Case10_ProtNone) {
  const uint64_t p = kLocal + 0x100000;
  Map(caller_, p, kPage, kNone);
  const Snapshot before = TakeSnapshot();
  EXPECT_TRUE(Fails(Test(Sane({p, len_})), EFAULT)) << "lvec";
  EXPECT_TRUE(Fails(Test(Sane({0, 0}, {p, len_})), EFAULT)) << "rvec";
  ExpectUntouched(before);
  Unmap(caller_, p, kPage);
}

// ---------------------------------------------------------------------------------------
// process_vm_readv02: child 0 mallocs "THIS IS A TEST"; child 1 reads its 14 bytes with one
// local and one remote iovec and compares.
TEST_F(PvmTest, LtpProcessVmReadv02_ThisIsATest) {
  const std::string tst_string = "THIS IS A TEST";
  const uint64_t len = tst_string.size();
  ASSERT_EQ(len, 14u);
  // child 0 (target_): foo = malloc(len + 1); strncpy; foo[len] = '\0'.
  Map(target_, kRemote, 4 * kPage, kRW);
  Heap theap(kRemote, 4 * kPage);
  const uint64_t foo = theap.Alloc(len + 1);
  std::vector<uint8_t> bytes(tst_string.begin(), tst_string.end());
  bytes.push_back(0);
  Store(target_, foo, bytes);
  // child 1 (caller_): lp = malloc(len + 1); read len bytes.
  Map(caller_, kLocal, 4 * kPage, kRW);
  Heap cheap(kLocal, 4 * kPage);
  const uint64_t lp = cheap.Alloc(len + 1);
  EXPECT_TRUE(Returns(Readv(IovList{{lp, len}}, IovList{{foo, len}}), static_cast<long>(len)));
  const std::vector<uint8_t> got = Peek(caller_, lp, len);
  EXPECT_EQ(std::string(got.begin(), got.end()), tst_string);
  EXPECT_EQ(Peek(caller_, lp + len, 1)[0], 0) << "the byte after the 14 is not written";
}

// ---------------------------------------------------------------------------------------
// process_vm_readv03: the 16 cases.
struct Readv03Case {
  int bufsize, remote_iovecs, local_iovecs;
};
constexpr Readv03Case kReadv03Cases[] = {
    {1024, 1024, 8},     {1024, 512, 16},    {1024, 256, 32},    {1024, 128, 64},
    {1024, 64, 128},     {1024, 32, 256},    {1024, 16, 512},    {1024, 8, 1024},
    {131072, 1024, 8},   {131072, 512, 16},  {131072, 256, 32},  {131072, 128, 64},
    {131072, 64, 128},   {131072, 32, 256},  {131072, 16, 512},  {131072, 8, 1024},
};
constexpr uint32_t kReadv03Seed = 20120312;  // LTP cma's year; any fixed value works

// create_data_size(): every chunk but the last is rand() % (left / 2 + 1); the last takes
// the rest. Zero-length chunks happen.
std::vector<int> CreateDataSize(std::mt19937& rng, int n, int bufsize) {
  std::vector<int> sizes(n);
  long left = bufsize;
  for (int i = 0; i < n - 1; ++i) {
    const long r = static_cast<long>(rng() >> 1);  // like rand(): 0..2^31-1
    sizes[i] = static_cast<int>(r % (left / 2 + 1));
    left -= sizes[i];
  }
  sizes[n - 1] = static_cast<int>(left);
  return sizes;
}

class LtpProcessVmReadv03 : public PvmTestWithParam<int> {};
INSTANTIATE_TEST_SUITE_P(Ltp, LtpProcessVmReadv03, ::testing::Range(0, 16),
                         [](const ::testing::TestParamInfo<int>& info) {
                           const Readv03Case& c = kReadv03Cases[info.param];
                           return absl::StrCat("Case", info.param, "_Buf", c.bufsize, "_R",
                                               c.remote_iovecs, "_L", c.local_iovecs);
                         });

TEST_P(LtpProcessVmReadv03, RandomChunks) {
  const Readv03Case& c = kReadv03Cases[GetParam()];
  const uint32_t seed = kReadv03Seed + GetParam();
  RecordProperty("seed", static_cast<int>(seed));
  std::mt19937 rng(seed);
  // The parent draws the remote sizes, then child_read the local ones (same sequence).
  const std::vector<int> sizes = CreateDataSize(rng, c.remote_iovecs, c.bufsize);
  const std::vector<int> local_sizes = CreateDataSize(rng, c.local_iovecs, c.bufsize);
  int zero_remote = 0, zero_local = 0;
  for (int s : sizes) zero_remote += s == 0;
  for (int s : local_sizes) zero_local += s == 0;
  RecordProperty("zero_length_remote_chunks", zero_remote);
  RecordProperty("zero_length_local_chunks", zero_local);

  // child_alloc (target_): data_ptr[i] = sizes[i] ? malloc(sizes[i]) : NULL, filled with
  // count % 256 across the chunks.
  const uint64_t heap_bytes = (c.bufsize + 48ull * c.remote_iovecs + 2 * kPage) & ~(kPage - 1);
  Map(target_, kRemote, heap_bytes, kRW);
  Heap theap(kRemote, heap_bytes);
  IovList remote;
  std::vector<uint8_t> image;  // one Store per chunk would be slow; build the heap image
  uint64_t count = 0;
  for (int i = 0; i < c.remote_iovecs; ++i) {
    if (sizes[i] == 0) {
      remote.push_back({0, 0});
      continue;
    }
    const uint64_t p = theap.Alloc(sizes[i]);
    remote.push_back({p, static_cast<uint64_t>(sizes[i])});
    if (image.size() < p + sizes[i] - kRemote) image.resize(p + sizes[i] - kRemote, 0);
    for (int j = 0; j < sizes[i]; ++j) image[p - kRemote + j] = static_cast<uint8_t>(count++ % 256);
  }
  ASSERT_EQ(count, static_cast<uint64_t>(c.bufsize));
  Store(target_, kRemote, image);

  // child_read (caller_): local[i] = malloc(local_sizes[i]).
  const uint64_t lheap_bytes = (c.bufsize + 48ull * c.local_iovecs + 2 * kPage) & ~(kPage - 1);
  Map(caller_, kLocal, lheap_bytes, kRW);
  FillByte(caller_, kLocal, lheap_bytes, kLocalFill);
  Heap cheap(kLocal, lheap_bytes);
  IovList local;
  for (int i = 0; i < c.local_iovecs; ++i) {
    local.push_back({cheap.Alloc(local_sizes[i]), static_cast<uint64_t>(local_sizes[i])});
  }

  EXPECT_TRUE(Returns(Readv(local, remote), c.bufsize));
  // Verify every byte: count % 256 in local stream order.
  count = 0;
  long nr_error = 0;
  for (const Iov& v : local) {
    if (v.len == 0) continue;
    const std::vector<uint8_t> got = Peek(caller_, v.base, v.len);
    for (uint8_t b : got) nr_error += b != static_cast<uint8_t>(count++ % 256);
  }
  EXPECT_EQ(nr_error, 0) << "incorrect bytes received (seed " << seed << ")";
}

// ---------------------------------------------------------------------------------------
// process_vm_writev02: child 0 mallocs bufsz (100000) bytes of 53; child 1 writes i % 256
// from a local buffer with 10 bytes of padding on each side; child 0 checks every byte.
TEST_F(PvmTest, LtpProcessVmWritev02_Bufsz100000) {
  constexpr uint64_t bufsz = 100000;
  constexpr uint64_t padding = 10;
  constexpr uint8_t default_char = 53;
  const uint64_t heap_bytes = 32 * kPage;
  // child_init_and_verify (target_).
  Map(target_, kRemote, heap_bytes, kRW);
  Heap theap(kRemote, heap_bytes);
  const uint64_t foo = theap.Alloc(bufsz);
  FillByte(target_, foo, bufsz, default_char);
  // child_write (caller_).
  Map(caller_, kLocal, heap_bytes, kRW);
  Heap cheap(kLocal, heap_bytes);
  const uint64_t lp = cheap.Alloc(bufsz + 2 * padding);
  std::vector<uint8_t> lbuf(bufsz + 2 * padding, default_char);
  for (uint64_t i = 0; i < bufsz; ++i) lbuf[i + padding] = static_cast<uint8_t>(i % 256);
  Store(caller_, lp, lbuf);
  EXPECT_TRUE(Returns(Writev(IovList{{lp + padding, bufsz}}, IovList{{foo, bufsz}}), bufsz));
  // Verify every byte.
  const std::vector<uint8_t> got = Peek(target_, foo, bufsz);
  long nr_err = 0;
  for (uint64_t i = 0; i < bufsz; ++i) nr_err += got[i] != static_cast<uint8_t>(i % 256);
  EXPECT_EQ(nr_err, 0) << "incorrect bytes in the target";
  // Beyond LTP: nothing around the buffer changed on either side.
  EXPECT_TRUE(SameBytes(Peek(target_, foo - 16, 16), std::vector<uint8_t>(16, 0)));
  EXPECT_TRUE(SameBytes(Peek(target_, foo + bufsz, 16), std::vector<uint8_t>(16, 0)));
  EXPECT_TRUE(SameBytes(Peek(caller_, lp, bufsz + 2 * padding), lbuf, lp));
}

}  // namespace
}  // namespace pvmtest
