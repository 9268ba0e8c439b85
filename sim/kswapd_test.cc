// kswapd0 as a kernel thread of sim::Machine: started at boot and asleep, woken by the
// allocator below the low watermark, it reclaims page cache until the zone is over its
// high watermark and sleeps again, so that the allocating task never reclaims itself.
#include <csignal>
#include <cstdint>
#include <memory>
#include <vector>

#include "gtest/gtest.h"
#include "mm/kernel/task.h"
#include "mm/mm.h"
#include "mm/mmzone.h"
#include "sim/machine.h"
#include "sim/views.h"

namespace sim {
namespace {

constexpr uint64_t kCache = 0x20000000;
constexpr uint64_t kHog = 0x10000000;

std::unique_ptr<Machine> Boot() {
  MachineConfig config;
  config.memory_bytes = 4ull << 20;
  config.cpus = 1;
  return std::move(*Machine::Create(config));
}

long Stat(Machine& m, kernel::vm_stat_item item) {
  return m.Inspect([&](const kernel::kernel_state& ks) { return ks.vm_stat[item]; });
}

// kswapd0 sleeps on kswapd_wait.
bool KswapdAsleep(Machine& m) {
  return m.Inspect([](const kernel::kernel_state& ks) {
    const kernel::task_struct* t = ks.zone_normal->kswapd;
    return t != nullptr && t->__state == kernel::TASK_INTERRUPTIBLE && ks.zone_normal->kswapd_wait_active;
  });
}

// 2 MiB of clean page cache nobody maps: read through a shared mapping, then unmapped.
void FillPageCache(Machine& m, int pid) {
  std::vector<uint8_t> data(2u << 20, 0x33);
  const int fd = *m.CreateFile("cache", data.size(), data);
  ASSERT_EQ(m.Mmap(pid, kCache, data.size(), PROT_READ, MAP_SHARED, fd).ret, static_cast<long>(kCache));
  ASSERT_TRUE(m.Load(pid, kCache, data.size()).ok);
  ASSERT_EQ(m.Munmap(pid, kCache, data.size()).ret, 0);
}

TEST(KswapdTest, StartedAtBootAndAsleep) {
  std::unique_ptr<Machine> m = Boot();
  kernel::task_struct* t = m->Inspect([](const kernel::kernel_state& ks) { return ks.zone_normal->kswapd; });
  ASSERT_NE(t, nullptr);
  EXPECT_STREQ(t->comm, "kswapd0");
  EXPECT_EQ(t->pid, 3);  // the first kernel thread after kthreadd
  EXPECT_TRUE(t->flags & kernel::PF_KTHREAD);
  EXPECT_TRUE(t->flags & kernel::PF_KSWAPD);
  EXPECT_TRUE(t->flags & kernel::PF_MEMALLOC);
  EXPECT_EQ(t->real_parent->pid, 2);
  EXPECT_TRUE(KswapdAsleep(*m));
  EXPECT_EQ(m->Current(0), 0);  // it gave the CPU back when it went to sleep
}

TEST(KswapdTest, WokenAtTheLowWatermarkItBalancesToTheHighOne) {
  std::unique_ptr<Machine> m = Boot();
  const int reader = *m->CreateProcess("reader", ProcessCreds{});
  const int hog = *m->CreateProcess("hog", ProcessCreds{});
  FillPageCache(*m, reader);
  EXPECT_EQ(Stat(*m, kernel::PGSCAN_KSWAPD), 0);  // never below low so far
  // 2000 KiB of anon memory does not fit beside the cache: the allocator dips below the
  // low watermark and wakes kswapd, which runs when the fault returns to user mode.
  ASSERT_EQ(m->Mmap(hog, kHog, 3u << 20, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS).ret,
            static_cast<long>(kHog));
  std::vector<uint8_t> bytes(2000u << 10, 0x5a);
  ASSERT_TRUE(m->Store(hog, kHog, bytes).ok);
  EXPECT_GT(Stat(*m, kernel::PGSCAN_KSWAPD), 0);
  EXPECT_GT(Stat(*m, kernel::PGSTEAL_KSWAPD), 0);
  // kswapd reclaims up to the high watermark each time, ahead of the faults: nobody
  // falls below min into direct reclaim.
  EXPECT_EQ(Stat(*m, kernel::PGSCAN_DIRECT), 0);
  EXPECT_EQ(Stat(*m, kernel::ALLOCSTALL_NORMAL), 0);
  EXPECT_TRUE(KswapdAsleep(*m));
  const bool above_min = m->Inspect([](const kernel::kernel_state& ks) {
    return static_cast<unsigned long>(ks.zone_normal->free_pages) > kernel::min_wmark_pages(ks.zone_normal);
  });
  EXPECT_TRUE(above_min);
  EXPECT_EQ(m->Current(0), hog);  // the hog has its CPU back
  ASSERT_TRUE(m->Load(hog, kHog + (1999u << 10), 4).ok);
  std::string report;
  EXPECT_EQ(m->DebugVmCheck(&report), 0) << report;
}

TEST(KswapdTest, HopelessWithoutReclaimableMemoryItGivesUpAndSleeps) {
  std::unique_ptr<Machine> m = Boot();
  const int hog = *m->CreateProcess("hog", ProcessCreds{});
  // Anon memory only and no swap: nothing kswapd can reclaim. It fails MAX_RECLAIM_RETRIES
  // times and sleeps for good; the allocations go on into direct reclaim and the OOM killer.
  ASSERT_EQ(m->Mmap(hog, kHog, 4u << 20, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS).ret,
            static_cast<long>(kHog));
  std::vector<uint8_t> bytes(4u << 20, 0x5a);
  EXPECT_EQ(m->Store(hog, kHog, bytes).signal, SIGKILL);  // the OOM killer's victim
  EXPECT_EQ(Stat(*m, kernel::OOM_KILL), 1);
  EXPECT_EQ(Stat(*m, kernel::PGSCAN_KSWAPD), 0);  // no swap, no page cache: nothing to scan
  EXPECT_TRUE(KswapdAsleep(*m));
  const int failures = m->Inspect([](const kernel::kernel_state& ks) { return ks.zone_normal->kswapd_failures; });
  EXPECT_GE(failures, kernel::MAX_RECLAIM_RETRIES);
}

TEST(KswapdTest, MeminfoAndLruShowTheLists) {
  std::unique_ptr<Machine> m = Boot();
  const int reader = *m->CreateProcess("reader", ProcessCreds{});
  FillPageCache(*m, reader);
  const std::string meminfo = ShowMeminfo(*m);
  // managed: 4 MiB less the zero page, frame 0 and the three kernel page-table frames
  // (docs/semantics.md §14 K2).
  EXPECT_NE(meminfo.find("MemTotal:           4076 kB\n"), std::string::npos) << meminfo;
  EXPECT_NE(meminfo.find("Inactive(file):     2048 kB\n"), std::string::npos) << meminfo;
  EXPECT_NE(meminfo.find("Cached:             2048 kB\n"), std::string::npos) << meminfo;
  const std::string lru = ShowLru(*m);
  EXPECT_NE(lru.find("inactive_file: 512 pages"), std::string::npos) << lru;
  EXPECT_NE(lru.find("file /cache index 0x1ff mapcount 0"), std::string::npos) << lru;
}

}  // namespace
}  // namespace sim
