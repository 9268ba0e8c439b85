// tests/smp/tlb_shootdown_test.cc: mprotect on one CPU against stores through the same
// mm on another, under every schedule with at most one preemption. The shootdown is a
// real IPI: queued by the initiator, handled on the other CPU at the scheduler's next
// decision. Whatever the interleaving, the store path sees writable pages only until the
// flush reaches its CPU, exactly one IPI is sent and received, and afterwards no CPU
// holds a writable translation of the now read-only pages (debug_vm's TLB check).
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "mm/mm.h"
#include "sim/machine.h"
#include "sim/sched/explore.h"
#include "sim/sched/schedule.h"

namespace sim {
namespace {

constexpr int kRw = PROT_READ | PROT_WRITE;
constexpr int kAnon = MAP_PRIVATE | MAP_ANONYMOUS;
constexpr uint64_t kBase = 0x10000000;
constexpr int kPages = 4;

// One run: `prot` (thread on CPU 0) makes the pages read-only while `store` (another
// thread of the process, on CPU 1, whose TLB holds writable entries for all of them)
// writes one byte per page. The outcome: how many pages the store wrote.
absl::StatusOr<std::string> RunMprotectRace(SchedulePolicy& policy) {
  MachineConfig config;
  config.memory_bytes = 8ull << 20;
  config.cpus = 2;
  auto created = Machine::Create(config);
  if (!created.ok()) return created.status();
  std::unique_ptr<Machine> m = std::move(*created);
  const int prot = *m->CreateProcess("prot", ProcessCreds{});
  const int store = *m->CreateThread(prot, "store");
  EXPECT_EQ(m->Mmap(prot, kBase, kPages * 4096, kRw, kAnon | MAP_FIXED).ret,
            static_cast<long>(kBase));
  m->Schedule(prot, 0);
  m->Schedule(store, 1);
  for (int i = 0; i < kPages; ++i) EXPECT_TRUE(m->Store(store, kBase + i * 4096, {1}).ok);
  const long sent = m->vmstat(kernel::NR_TLB_REMOTE_FLUSH);
  const long got = m->vmstat(kernel::NR_TLB_REMOTE_FLUSH_RECEIVED);

  m->SetCheckEverySwitch(true);
  int written = 0;
  std::vector<std::function<void()>> calls = {
      [&] { EXPECT_EQ(m->Mprotect(prot, kBase, kPages * 4096, PROT_READ).ret, 0); },
      [&] {
        for (int i = 0; i < kPages; ++i) {
          UserAccess a = m->Store(store, kBase + i * 4096, {2});
          if (!a.ok) {
            EXPECT_EQ(a.signal, SIGSEGV);
            break;
          }
          ++written;
        }
      },
  };
  absl::StatusOr<Machine::TogetherResult> r = m->Together(calls, &policy);
  if (!r.ok()) return r.status();
  EXPECT_FALSE(r->deadlock) << r->deadlock_report;
  EXPECT_EQ(r->check_report, "");
  // One flush of a 4-page range; CPU 1 runs the mm (not lazily): one IPI, handled once.
  EXPECT_EQ(m->vmstat(kernel::NR_TLB_REMOTE_FLUSH), sent + 1);
  EXPECT_EQ(m->vmstat(kernel::NR_TLB_REMOTE_FLUSH_RECEIVED), got + 1);
  // No stale writable translation is left anywhere; a new store faults.
  std::string report;
  EXPECT_EQ(m->DebugVmCheck(&report), 0) << report;
  EXPECT_EQ(m->Store(store, kBase, {3}).signal, SIGSEGV);
  const std::vector<uint8_t> bytes = m->Load(prot, kBase, kPages * 4096).bytes;
  for (int i = 0; i < kPages; ++i)
    EXPECT_EQ(bytes[i * 4096], i < written ? 2 : 1) << "page " << i;
  return absl::StrCat(written);
}

TEST(TlbShootdown, EverySchedulePaysExactlyOneIpiAndLeavesNoStaleEntry) {
  ExploreOptions o;
  o.mode = ExploreOptions::Mode::kAll;
  o.preemptions = 1;
  absl::StatusOr<ExploreResult> r = Explore(o, RunMprotectRace);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_TRUE(r->exhausted);
  std::set<std::string> got;
  for (const ExploreOutcome& oc : r->outcomes) got.insert(oc.text);
  // The store path runs wholly before the mprotect (4 pages) or after it (0), or is cut
  // between pages in either order.
  EXPECT_TRUE(got.count("4")) << r->schedules;
  EXPECT_TRUE(got.count("0")) << r->schedules;
  for (const std::string& s : got) EXPECT_LE(std::stoi(s), kPages);
  EXPECT_GT(r->schedules, 2u);
}

}  // namespace
}  // namespace sim
