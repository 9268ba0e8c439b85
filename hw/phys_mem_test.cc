// hw/phys_mem_test.cc: lazy reservation, zero fill, bounds checks.
#include "hw/phys_mem.h"

#include <cstdio>
#include <cstring>
#include <unistd.h>

#include "gtest/gtest.h"

namespace hw {
namespace {

// Resident set size of this process in bytes (from /proc/self/statm).
uint64_t ResidentBytes() {
  FILE* f = std::fopen("/proc/self/statm", "r");
  if (f == nullptr) return 0;
  unsigned long long size = 0, resident = 0;
  const int n = std::fscanf(f, "%llu %llu", &size, &resident);
  std::fclose(f);
  return n == 2 ? resident * static_cast<uint64_t>(sysconf(_SC_PAGESIZE)) : 0;
}

TEST(PhysMemTest, RoundsUpToFrames) {
  PhysMem mem(4097);
  EXPECT_EQ(mem.num_frames(), 2u);
  EXPECT_EQ(mem.size_bytes(), 8192u);
  EXPECT_EQ(mem.maxphyaddr(), 46);
  EXPECT_EQ(PhysMem(kDefaultPhysMemBytes).num_frames(), 65536u);
}

TEST(PhysMemTest, FramesReadAsZeroAndHoldWrites) {
  PhysMem mem(1 << 20);
  uint8_t buf[16];
  std::memset(buf, 0xAA, sizeof(buf));
  ASSERT_TRUE(mem.Read(PhysAddr(0x3000), buf, sizeof(buf)));
  for (uint8_t b : buf) EXPECT_EQ(b, 0);

  const char msg[] = "hello, frame";
  ASSERT_TRUE(mem.Write(PhysAddr(0x5ff8), msg, sizeof(msg)));  // crosses 0x6000
  char back[sizeof(msg)];
  ASSERT_TRUE(mem.Read(PhysAddr(0x5ff8), back, sizeof(back)));
  EXPECT_STREQ(back, msg);
  EXPECT_EQ(mem.ptr(PhysAddr(0x5ff8))[0], 'h');
  EXPECT_EQ(mem.frame(Pfn(6))[0], msg[8]);
  EXPECT_EQ(mem.frame(Pfn(5)) + 0xff8, mem.ptr(PhysAddr(0x5ff8)));
}

TEST(PhysMemTest, U64EntriesRoundTrip) {
  PhysMem mem(1 << 16);
  mem.WriteU64(PhysAddr(0x1008), 0x8000'0000'0000'0067ull);
  EXPECT_EQ(mem.ReadU64(PhysAddr(0x1008)), 0x8000'0000'0000'0067ull);
  EXPECT_EQ(mem.ReadU64(PhysAddr(0x1000)), 0u);
}

TEST(PhysMemTest, OutOfRangeAccessesFailAndCopyNothing) {
  PhysMem mem(2 * kPageSize);
  uint8_t buf[8] = {1, 2, 3, 4, 5, 6, 7, 8};
  EXPECT_TRUE(mem.Contains(PhysAddr(0), 8192));
  EXPECT_TRUE(mem.Contains(PhysAddr(8192), 0));
  EXPECT_FALSE(mem.Contains(PhysAddr(8192), 1));
  EXPECT_FALSE(mem.Contains(PhysAddr(8190), 4));
  EXPECT_FALSE(mem.Contains(PhysAddr(~0ull - 3), 8));  // no wrap-around
  EXPECT_FALSE(mem.Contains(PhysAddr(8), ~0ull));
  EXPECT_FALSE(mem.Write(PhysAddr(8188), buf, 8));
  EXPECT_EQ(mem.ReadU64(PhysAddr(8184)), 0u);  // the partial write did not land
  EXPECT_FALSE(mem.Read(PhysAddr(1ull << 40), buf, 1));
  EXPECT_EQ(buf[0], 1);
}

TEST(PhysMemTest, SixteenGibIsReservedLazily) {
  const uint64_t before = ResidentBytes();
  PhysMem mem(16ull << 30);
  EXPECT_EQ(mem.num_frames(), 4ull << 20);
  const Pfn last(mem.num_frames() - 1);
  mem.frame(last)[kPageSize - 1] = 0x5a;
  mem.WriteU64(PhysAddr(0), 42);
  EXPECT_EQ(mem.frame(last)[kPageSize - 1], 0x5a);
  EXPECT_EQ(mem.ReadU64(PhysAddr::FromPfn(Pfn(1ull << 21))), 0u);
  // Only touched frames became resident: far less than the 16 GiB reserved.
  EXPECT_LT(ResidentBytes(), before + (64ull << 20));
}

TEST(PhysMemTest, DiscardFramesZeroesThem) {
  PhysMem mem(8 * kPageSize);
  mem.frame(Pfn(3))[100] = 7;
  mem.frame(Pfn(4))[0] = 9;
  mem.DiscardFrames(Pfn(3), 1);
  EXPECT_EQ(mem.frame(Pfn(3))[100], 0);
  EXPECT_EQ(mem.frame(Pfn(4))[0], 9);
  mem.ZeroFrame(Pfn(4));
  EXPECT_EQ(mem.frame(Pfn(4))[0], 0);
}

// A released mapping is pooled and handed out again zeroed: every byte a previous owner
// wrote (in whole frames, in part, or across a discarded range) reads zero again.
TEST(PhysMemTest, ReusedMemoryReadsAsZero) {
  HostPoolDrain();
  const uint64_t bytes = 64 * kPageSize;
  uint8_t* first_base = nullptr;
  {
    PhysMem mem(bytes);
    first_base = mem.frame(Pfn(0));
    for (uint64_t pfn : {0, 1, 17, 63}) std::memset(mem.frame(Pfn(pfn)), 0xC3, kPageSize);
    mem.frame(Pfn(30))[4095] = 1;
    mem.frame(Pfn(40))[0] = 2;
    mem.DiscardFrames(Pfn(40), 1);  // not resident any more: reads zero without a clear
    mem.frame(Pfn(41))[7] = 3;
  }
  EXPECT_EQ(HostPoolSize(), 1);
  {
    PhysMem mem(bytes);
    EXPECT_EQ(mem.frame(Pfn(0)), first_base);  // the same host mapping
    EXPECT_EQ(HostPoolSize(), 0);
    uint64_t nonzero = 0;
    for (uint64_t i = 0; i < bytes; ++i) nonzero += mem.ptr(PhysAddr(i))[0] != 0;
    EXPECT_EQ(nonzero, 0u);
  }
  // Another size does not take it; a mapping over the bound is not kept.
  {
    PhysMem other(32 * kPageSize);
    EXPECT_EQ(HostPoolSize(), 1);
  }
  EXPECT_EQ(HostPoolSize(), 2);
  {
    PhysMem big(kHostPoolMaxMapping + kPageSize);
    big.frame(Pfn(5))[0] = 1;
  }
  EXPECT_EQ(HostPoolSize(), 2);
  EXPECT_EQ(HostPoolDrain(), 2);
  EXPECT_EQ(HostPoolSize(), 0);
}

TEST(PhysMemDeathTest, MemoryMustFitBelowMaxPhyAddr) {
  EXPECT_DEATH(PhysMem(8ull << 30, 32), "MAXPHYADDR");
  EXPECT_DEATH(PhysMem(4096, 53), "MAXPHYADDR out of range");
  PhysMem ok(4ull << 30, 32);
  EXPECT_EQ(ok.maxphyaddr(), 32);
}

}  // namespace
}  // namespace hw
