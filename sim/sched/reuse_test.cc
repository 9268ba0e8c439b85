// sim/sched/reuse_test.cc: a machine booted on reused host memory behaves exactly as one
// booted on fresh memory (hw::HostMapZeroed's pool, hw/phys_mem.h).
//
// The explorer boots one machine per schedule, and since the host mappings of simulated
// memory and mem_map are pooled, every machine after the first gets the memory a previous
// one dirtied (zeroed again). Each schedule of the readv-vs-munmap race is run here twice:
// once after emptying the pool (fresh host mappings) and once on whatever the previous run
// left. The outcome of each run (both results, the bytes the reader got, bytes of memory
// that was mapped but never written, the allocator's and reclaim's counters) must be the
// same text, schedule by schedule.
#include <cstdint>
#include <functional>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "hw/phys_mem.h"
#include "mm/mm.h"
#include "sim/machine.h"
#include "sim/sched/explore.h"
#include "sim/sched/schedule.h"

namespace sim {
namespace {

constexpr uint64_t kTarget = 0x10000000;
constexpr uint64_t kLocal = 0x20000000;
constexpr uint64_t kUntouched = 0x30000000;  // populated, never written: reads zero
constexpr int kPages = 8;
constexpr uint64_t kBytes = kPages * 4096;

// One run: boot, fill the target with a pattern (so that the frames a later run reuses
// were dirty), race a readv of it against its munmap, and describe everything observable.
std::string RunOnce(SchedulePolicy& policy) {
  MachineConfig config;
  config.memory_bytes = 2ull << 20;
  config.cpus = 2;
  auto created = Machine::Create(config);
  EXPECT_TRUE(created.ok()) << created.status();
  std::unique_ptr<Machine> m = std::move(*created);
  const int reader = *m->CreateProcess("reader", ProcessCreds{});
  const int target = *m->CreateProcess("target", ProcessCreds{});
  m->Schedule(reader, 0);
  m->Schedule(target, 1);
  const int rw = PROT_READ | PROT_WRITE;
  const int flags = MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED | MAP_POPULATE;
  EXPECT_EQ(m->Mmap(reader, kLocal, kBytes, rw, flags).ret, static_cast<long>(kLocal));
  EXPECT_EQ(m->Mmap(target, kTarget, kBytes, rw, flags).ret, static_cast<long>(kTarget));
  EXPECT_EQ(m->Mmap(target, kUntouched, kBytes, rw, flags).ret, static_cast<long>(kUntouched));
  std::vector<uint8_t> pattern(kBytes);
  for (uint64_t i = 0; i < kBytes; ++i) pattern[i] = static_cast<uint8_t>(0x5a ^ (i >> 12) ^ i);
  EXPECT_TRUE(m->Store(target, kTarget, pattern).ok);
  SysResult readv{}, unmap{};
  const Machine::Iovec local{kLocal, kBytes}, remote{kTarget, kBytes};
  std::vector<std::function<void()>> calls = {
      [&] { readv = m->ProcessVmReadv(reader, target, {&local, 1}, {&remote, 1}); },
      [&] { unmap = m->Munmap(target, kTarget, kBytes); },
  };
  absl::StatusOr<Machine::TogetherResult> r = m->Together(calls, &policy);
  EXPECT_TRUE(r.ok()) << r.status();
  std::string out = absl::StrCat("readv=", readv.ret, "/", readv.err, " munmap=", unmap.ret,
                                 " schedule=", r->schedule_id, " got=");
  const UserAccess got = m->Load(reader, kLocal, kBytes);
  EXPECT_TRUE(got.ok);
  for (int p = 0; p < kPages && got.bytes.size() == kBytes; ++p) {
    // Per page: whether it holds the pattern, zeroes, or something else.
    bool pat = true, zero = true;
    for (uint64_t i = 0; i < 4096; ++i) {
      pat = pat && got.bytes[p * 4096 + i] == pattern[p * 4096 + i];
      zero = zero && got.bytes[p * 4096 + i] == 0;
    }
    absl::StrAppend(&out, pat ? "P" : zero ? "0" : "?");
  }
  const UserAccess untouched = m->Load(target, kUntouched, kBytes);
  EXPECT_TRUE(untouched.ok);
  uint64_t nonzero = 0;
  for (uint8_t b : untouched.bytes) nonzero += b != 0;
  absl::StrAppend(&out, " untouched_nonzero=", nonzero,
                  " free=", m->vmstat(kernel::NR_FREE_PAGES),
                  " pins=", m->vmstat(kernel::NR_FOLL_PIN_ACQUIRED), "/",
                  m->vmstat(kernel::NR_FOLL_PIN_RELEASED),
                  " slab=", m->slab_allocations());
  return out;
}

// Every schedule of `o`, each run's text in order, with the host pool emptied before each
// run (fresh) or not (reused).
std::vector<std::string> Texts(ExploreOptions o, bool fresh, uint64_t* reused_runs) {
  std::vector<std::string> texts;
  absl::StatusOr<ExploreResult> r =
      Explore(o, [&](SchedulePolicy& p) -> absl::StatusOr<std::string> {
        if (fresh) hw::HostPoolDrain();
        if (hw::HostPoolSize() > 0) ++*reused_runs;
        texts.push_back(RunOnce(p));
        return texts.back();
      });
  EXPECT_TRUE(r.ok()) << r.status();
  return texts;
}

void ExpectReusedEqualsFresh(const ExploreOptions& o, size_t min_outcomes) {
  uint64_t fresh_reused = 0, reused = 0;
  const std::vector<std::string> fresh = Texts(o, /*fresh=*/true, &fresh_reused);
  const std::vector<std::string> again = Texts(o, /*fresh=*/false, &reused);
  EXPECT_EQ(fresh_reused, 0u);
  // Every run but possibly the first booted on memory a previous machine had dirtied.
  EXPECT_GE(reused + 1, again.size());
  ASSERT_EQ(fresh.size(), again.size());
  for (size_t i = 0; i < fresh.size(); ++i) EXPECT_EQ(fresh[i], again[i]) << "schedule " << i;
  // Distinct schedules, and (bounded search) distinct outcomes: full and partial reads.
  std::set<std::string> outcomes, schedules;
  for (const std::string& t : fresh) {
    outcomes.insert(t.substr(0, t.find(" schedule=")));
    schedules.insert(t.substr(t.find(" schedule="), t.find(" got=") - t.find(" schedule=")));
  }
  EXPECT_GE(outcomes.size(), min_outcomes);
  EXPECT_GT(schedules.size(), fresh.size() / 2);
  for (const std::string& t : fresh) EXPECT_NE(t.find("untouched_nonzero=0 "), std::string::npos) << t;
}

TEST(ReuseTest, ExploreAllGivesTheSameRunsOnReusedMemory) {
  ExploreOptions o;
  o.mode = ExploreOptions::Mode::kAll;
  o.preemptions = 1;
  ExpectReusedEqualsFresh(o, 2);
}

TEST(ReuseTest, RandomSchedulesGiveTheSameRunsOnReusedMemory) {
  ExploreOptions o;
  o.mode = ExploreOptions::Mode::kRandom;
  o.runs = 40;
  o.seed = 7;
  ExpectReusedEqualsFresh(o, 1);
}

// The pool's bounds: a mapping larger than kHostPoolMaxMapping is unmapped, not kept.
TEST(ReuseTest, LargeMachinesAreNotPooled) {
  hw::HostPoolDrain();
  {
    MachineConfig config;
    config.memory_bytes = hw::kHostPoolMaxMapping * 2;
    auto m = Machine::Create(config);
    ASSERT_TRUE(m.ok()) << m.status();
  }
  // mem_map (a 64th of the memory) may be kept; the memory itself is not.
  EXPECT_LE(hw::HostPoolSize(), 1);
}

}  // namespace
}  // namespace sim
