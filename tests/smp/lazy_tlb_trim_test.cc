// tests/smp/lazy_tlb_trim_test.cc: the time-based trimming of mm_cpumask, on a Machine.
// A CPU that switched from a thread of mm A to another process stays in A's mm_cpumask
// (Linux 6.18 clears it lazily); a flush of A skips it (should_flush_tlb) unless the flush
// is also a trim, which should_trim_cpumask allows once per HZ jiffies per mm. jiffies
// advance by one at every kernel entry of a task (sim::Machine::Enter; docs/races.md), so
// after HZ system calls the next flush of A sends that CPU an IPI, whose handler leaves
// the mm (flush_tlb_func: switch_mm_irqs_off to init_mm, the CPU drops out of the mask).
#include <cstdint>
#include <memory>

#include "gtest/gtest.h"
#include "mm/mm.h"
#include "sim/machine.h"

namespace sim {
namespace {

constexpr int kRw = PROT_READ | PROT_WRITE;
constexpr int kAnon = MAP_PRIVATE | MAP_ANONYMOUS;
constexpr uint64_t kBase = 0x10000000;
constexpr uint64_t kPage = 4096;

TEST(LazyTlbTrimTest, JiffiesAdvancePerKernelEntryAndAFlushASecondLaterTrims) {
  MachineConfig config;
  config.memory_bytes = 8ull << 20;
  config.cpus = 2;
  auto created = Machine::Create(config);
  ASSERT_TRUE(created.ok()) << created.status();
  std::unique_ptr<Machine> m = std::move(*created);
  const int t = *m->CreateProcess("t", ProcessCreds{});
  const int t2 = *m->CreateThread(t, "t2");
  const int o = *m->CreateProcess("o", ProcessCreds{});
  ASSERT_EQ(m->Mmap(t, kBase, 2 * kPage, kRw, kAnon | MAP_FIXED).ret, static_cast<long>(kBase));
  m->Schedule(t, 0);
  m->Schedule(t2, 1);
  m->Schedule(o, 1);
  kernel::mm_struct* mm = m->FindTask(t)->mm;
  auto jiffies = [&] { return m->Inspect([](const kernel::kernel_state& ks) { return ks.jiffies; }); };
  auto on_cpu1 = [&] { return m->Inspect([&](const kernel::kernel_state&) { return mm->cpu_bitmap.test(1); }); };

  // One kernel entry, one jiffy.
  const unsigned long before = jiffies();
  ASSERT_TRUE(m->Store(t2, kBase, {1}).ok);
  EXPECT_EQ(jiffies(), before + 1);
  ASSERT_TRUE(m->Store(t2, kBase + kPage, {1}).ok);
  // o runs on CPU 1: t2 is switched out, CPU 1 stays in t's mm_cpumask.
  EXPECT_EQ(m->Madvise(o, kBase, kPage, MADV_NORMAL).ret, -1);  // nothing mapped there
  EXPECT_TRUE(on_cpu1());

  // Within the mm's first second: the flush skips CPU 1 (no IPI) and keeps it in the mask.
  const unsigned long next_trim = m->Inspect([&](const kernel::kernel_state&) {
    return mm->context.next_trim_cpumask;
  });
  ASSERT_LE(jiffies(), next_trim);
  long sent = m->vmstat(kernel::NR_TLB_REMOTE_FLUSH);
  long got = m->vmstat(kernel::NR_TLB_REMOTE_FLUSH_RECEIVED);
  ASSERT_EQ(m->Mprotect(t, kBase, kPage, PROT_READ).ret, 0);
  EXPECT_EQ(m->vmstat(kernel::NR_TLB_REMOTE_FLUSH), sent + 1);
  EXPECT_EQ(m->vmstat(kernel::NR_TLB_REMOTE_FLUSH_RECEIVED), got);
  EXPECT_TRUE(on_cpu1());

  // A second of system calls by o later (HZ entries), the next flush trims: CPU 1 gets
  // the IPI and leaves the mask.
  int calls = 0;
  while (jiffies() <= next_trim) {
    EXPECT_EQ(m->Madvise(o, kBase, kPage, MADV_NORMAL).ret, -1);
    ++calls;
  }
  EXPECT_GE(calls, static_cast<int>(kernel::HZ) - 10);
  EXPECT_TRUE(on_cpu1());
  sent = m->vmstat(kernel::NR_TLB_REMOTE_FLUSH);
  got = m->vmstat(kernel::NR_TLB_REMOTE_FLUSH_RECEIVED);
  const unsigned long now = jiffies();
  ASSERT_EQ(m->Mprotect(t, kBase + kPage, kPage, PROT_READ).ret, 0);
  EXPECT_EQ(m->vmstat(kernel::NR_TLB_REMOTE_FLUSH), sent + 1);
  EXPECT_EQ(m->vmstat(kernel::NR_TLB_REMOTE_FLUSH_RECEIVED), got + 1);
  EXPECT_FALSE(on_cpu1());
  // The next trim is a second after this flush's entry.
  EXPECT_EQ(m->Inspect([&](const kernel::kernel_state&) { return mm->context.next_trim_cpumask; }),
            now + 1 + kernel::HZ);
  std::string report;
  EXPECT_EQ(m->DebugVmCheck(&report), 0) << report;
}

}  // namespace
}  // namespace sim
