// sim/host_memory_test.cc: the simulator's host memory follows the simulated memory in use,
// not the sizes a scenario names; the OOM end of an access is a named signal.
#include "sim/host_memory.h"

#include <signal.h>
#include <sys/mman.h>

#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "sim/machine.h"
#include "sim/views.h"

namespace sim {
namespace {

constexpr int kRw = PROT_READ | PROT_WRITE;
constexpr int kAnon = MAP_PRIVATE | MAP_ANONYMOUS;
constexpr uint64_t kMiB = 1ull << 20;

std::unique_ptr<Machine> Boot(uint64_t bytes) {
  MachineConfig c;
  c.memory_bytes = bytes;
  c.cpus = 1;
  absl::StatusOr<std::unique_ptr<Machine>> m = Machine::Create(c);
  if (!m.ok()) return nullptr;
  return std::move(*m);
}

std::string Vm(Machine& m) {
  std::string report;
  m.DebugVmCheck(&report);
  return report;
}

// The last number of /proc/buddyinfo's line: free order-10 blocks.
int Order10Blocks(Machine& m) {
  const std::string b = ShowBuddy(m);
  return std::stoi(b.substr(b.find_last_of(' ') + 1));
}

// The documented maximum: 64 GiB of simulated memory, of which a process touches 10 MiB.
// Before, mem_map alone (64 bytes a frame, all written at boot) cost 1 GiB of host memory;
// now boot writes the struct pages of the first 4 MiB and the rest as they are handed out.
TEST(HostMemoryTest, A64GMachineCostsWhatItTouches) {
  if (!HostCanReserve(64ull << 30).ok()) GTEST_SKIP() << "this host cannot reserve 64G";
  const uint64_t before = HostRssBytes();
  ASSERT_GT(before, 0u) << "no /proc/self/status";
  std::unique_ptr<Machine> m = Boot(64ull << 30);
  ASSERT_NE(m, nullptr);
  absl::StatusOr<int> pid = m->CreateProcess("p", ProcessCreds{});
  ASSERT_TRUE(pid.ok()) << pid.status();
  SysResult r = m->Mmap(*pid, 0, 10 * kMiB, kRw, kAnon);
  ASSERT_EQ(r.err, 0);
  std::vector<uint8_t> bytes(10 * kMiB, 0x5a);
  const uint64_t with_buffer = HostRssBytes();
  ASSERT_TRUE(m->Store(*pid, r.ret, bytes).ok);
  const uint64_t after = HostRssBytes();
  // 10 MiB of frames, their page tables, 3 blocks of struct pages (64 KiB each) and the
  // kernel's own objects: measured at about 11 MiB over the buffer; 32 MiB is the bound.
  EXPECT_LT(after - with_buffer, 32 * kMiB) << "before " << before << " after " << after;
  EXPECT_LT(after - before, 48 * kMiB);
  absl::StatusOr<std::vector<uint8_t>> back = m->ReadProcMem(*pid, r.ret + 10 * kMiB - 8, 8);
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(*back, std::vector<uint8_t>(8, 0x5a));
  // debug_vm walks every frame without touching the deferred struct pages.
  EXPECT_EQ(Vm(*m), "");
}

// A file of 1 GiB whose data is 64 MiB, all zero but its first page, on a 1 MiB machine:
// zero blocks are holes, so it costs the host one block.
TEST(HostMemoryTest, ASparseFileCostsItsDataOnly) {
  std::unique_ptr<Machine> m = Boot(1 * kMiB);
  ASSERT_NE(m, nullptr);
  std::vector<uint8_t> data(64 * kMiB, 0);
  for (int i = 0; i < 4096; ++i) data[i] = static_cast<uint8_t>(i);
  const uint64_t before = HostRssBytes();
  absl::StatusOr<int> fd = m->CreateFile("f", 1ull << 30, data, /*readonly=*/false);
  ASSERT_TRUE(fd.ok()) << fd.status();
  const uint64_t after = HostRssBytes();
  EXPECT_LT(after - before, 4 * kMiB);
  // It reads back as written: the data page, then zeros (a hole) through a mapping.
  absl::StatusOr<int> pid = m->CreateProcess("p", ProcessCreds{});
  ASSERT_TRUE(pid.ok());
  SysResult r = m->Mmap(*pid, 0, 2 * 4096, PROT_READ, MAP_SHARED, *fd, 0);
  ASSERT_EQ(r.err, 0);
  absl::StatusOr<std::vector<uint8_t>> back = m->ReadProcMem(*pid, r.ret + 4094, 4);
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(*back, (std::vector<uint8_t>{4094 & 0xff, 4095 & 0xff, 0, 0}));
  EXPECT_EQ(Vm(*m), "");
}

// Deferred struct pages are handed out top down, one MAX_PAGE_ORDER block at a time, and
// come back to the buddy lists like any others: buddyinfo counts the same before and after.
TEST(HostMemoryTest, DeferredBlocksGrowAndMergeBack) {
  std::unique_ptr<Machine> m = Boot(512 * kMiB);
  ASSERT_NE(m, nullptr);
  // Frames 0..1023 are the reserved frame, the zero page and small blocks; 127 blocks of
  // order 10 follow, minus what boot took (the first process's tables and stack).
  const int at_boot = Order10Blocks(*m);
  EXPECT_GE(at_boot, 120);
  EXPECT_LE(at_boot, 127);
  absl::StatusOr<int> pid = m->CreateProcess("p", ProcessCreds{});
  ASSERT_TRUE(pid.ok());
  const int with_process = Order10Blocks(*m);
  SysResult r = m->Mmap(*pid, 0, 200 * kMiB, kRw, kAnon);
  ASSERT_EQ(r.err, 0);
  std::vector<uint8_t> bytes(200 * kMiB, 0x11);
  ASSERT_TRUE(m->Store(*pid, r.ret, bytes).ok);
  EXPECT_LE(Order10Blocks(*m), with_process - 50);
  EXPECT_EQ(Vm(*m), "");
  ASSERT_EQ(m->Munmap(*pid, r.ret, 200 * kMiB).err, 0);
  EXPECT_EQ(Order10Blocks(*m), with_process);
  EXPECT_EQ(Vm(*m), "");
  // A deferred block's head reads as boot would have written it.
  absl::StatusOr<std::string> page = ShowPage(*m, 1024);
  ASSERT_TRUE(page.ok());
  EXPECT_NE(page->find("_refcount=0 _mapcount=-1 page_type=buddy"), std::string::npos) << *page;
}

// Out of simulated memory without an OOM killer: the faulting task gets SIGKILL (as with
// vm.oom_kill_allocating_task), recorded at the address of the fault, and it dies.
TEST(HostMemoryTest, OomInAFaultIsSigkillAtTheFaultAddress) {
  std::unique_ptr<Machine> m = Boot(1 * kMiB);
  ASSERT_NE(m, nullptr);
  absl::StatusOr<int> pid = m->CreateProcess("p", ProcessCreds{});
  ASSERT_TRUE(pid.ok());
  const uint64_t addr = 0x10000000;
  SysResult r = m->Mmap(*pid, addr, kMiB, kRw, kAnon | MAP_FIXED);
  ASSERT_EQ(r.err, 0);
  UserAccess a = m->Store(*pid, addr, std::vector<uint8_t>(kMiB, 0x5a));
  EXPECT_FALSE(a.ok);
  EXPECT_EQ(a.signal, SIGKILL);
  EXPECT_GT(a.fault_addr, addr);  // some pages were stored before memory ran out
  EXPECT_LT(a.fault_addr, addr + kMiB);
  EXPECT_EQ(a.fault_addr % 4096, 0u);
  EXPECT_EQ(m->Munmap(*pid, addr, kMiB).err, ESRCH);  // the victim is gone
  EXPECT_EQ(Vm(*m), "");
}

}  // namespace
}  // namespace sim
