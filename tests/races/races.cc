// tests/races/races.cc: the race scenarios (see races.h and docs/races.md).
#include "tests/races/races.h"

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <memory>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "hw/observer.h"
#include "mm/mm.h"
#include "mm/rwsem.h"
#include "sim/machine.h"

namespace races {
namespace {

using sim::Machine;
using sim::SchedulePolicy;

constexpr int kRw = PROT_READ | PROT_WRITE;
constexpr int kAnonFixed = MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED;
constexpr uint64_t kPage = 4096;
constexpr uint64_t kTarget = 0x10000000;
constexpr uint64_t kLocal = 0x20000000;

// debug_vm's mid-path form runs at every switch between paths (Machine::
// SetCheckEverySwitch) unless RACES_CHECK_EVERY_SWITCH=0 (races_deep_test turns it off:
// at three preemptions it would dominate the run time).
bool CheckEverySwitch() {
  const char* v = std::getenv("RACES_CHECK_EVERY_SWITCH");
  return v == nullptr || v[0] != '0';
}

std::unique_ptr<Machine> Boot(int cpus) {
  sim::MachineConfig config;
  config.memory_bytes = 4ull << 20;
  config.cpus = cpus;
  auto m = Machine::Create(config);
  if (!m.ok()) {
    ADD_FAILURE() << m.status();
    std::abort();
  }
  (*m)->SetCheckEverySwitch(CheckEverySwitch());
  return std::move(*m);
}

// Maps `pages` populated pages at addr in pid, page i filled with fill[i].
absl::Status MapFilled(Machine& m, int pid, uint64_t addr, const std::string& fill) {
  sim::SysResult r = m.Mmap(pid, addr, fill.size() * kPage, kRw, kAnonFixed | MAP_POPULATE);
  if (r.ret != static_cast<long>(addr)) return absl::InternalError("setup mmap failed");
  for (size_t i = 0; i < fill.size(); ++i) {
    std::vector<uint8_t> bytes(kPage, static_cast<uint8_t>(fill[i]));
    if (!m.Store(pid, addr + i * kPage, bytes).ok) return absl::InternalError("setup store failed");
  }
  return absl::OkStatus();
}

// One character per page: the page's bytes if they are all equal, else '?'; '-' when the
// page cannot be read (unmapped).
std::string Pages(Machine& m, int pid, uint64_t addr, int pages) {
  std::string out;
  for (int i = 0; i < pages; ++i) {
    absl::StatusOr<std::vector<uint8_t>> b = m.PeekUser(pid, addr + i * kPage, kPage);
    if (!b.ok()) {
      out += '-';
      continue;
    }
    char c = static_cast<char>((*b)[0]);
    for (uint8_t x : *b)
      if (x != (*b)[0]) c = '?';
    out += c;
  }
  return out;
}

std::string Ret(const sim::SysResult& r) {
  if (r.ret >= 0) return absl::StrCat(r.ret);
  switch (r.err) {
    case EFAULT: return "EFAULT";
    case ESRCH: return "ESRCH";
    case ENOMEM: return "ENOMEM";
    case EPERM: return "EPERM";
    default: return absl::StrCat("errno", r.err);
  }
}

// The checks every schedule must pass: all calls returned, no debug_vm violation at any
// switch, and none at the end with every pin released.
absl::Status Finish(Machine& m, const absl::StatusOr<Machine::TogetherResult>& r) {
  if (!r.ok()) return r.status();
  const std::string where = absl::StrCat("schedule ", r->schedule_id, ": ");
  if (r->deadlock) return absl::InternalError(absl::StrCat(where, "deadlock: ", r->deadlock_report));
  if (!r->check_report.empty())
    return absl::InternalError(absl::StrCat(where, "debug_vm at a switch: ", r->check_report));
  std::string report;
  if (m.DebugVmCheck(&report) != 0)
    return absl::InternalError(absl::StrCat(where, "debug_vm: ", report));
  return absl::OkStatus();
}

#define RETURN_IF_ERROR(expr)              \
  do {                                     \
    absl::Status status_ = (expr);         \
    if (!status_.ok()) return status_;     \
  } while (0)

}  // namespace

namespace {

// The process_vm races' scene: a caller (CPU 0) and a target (CPU 1), each with populated
// pages, page i filled with the fill's character i, one page per pin batch, and the
// caller's iovec area mapped.
struct PvmScene {
  std::unique_ptr<Machine> m;
  int caller = 0, target = 0;
  uint64_t len = 0;  // both buffers
  sim::SysResult pvm{}, other{};
};

absl::StatusOr<PvmScene> SetUpPvm(const char* caller, const std::string& target_fill,
                                  const std::string& local_fill) {
  PvmScene s;
  s.m = Boot(2);
  s.caller = *s.m->CreateProcess(caller, sim::ProcessCreds{});
  s.target = *s.m->CreateProcess("target", sim::ProcessCreds{});
  s.m->Schedule(s.caller, 0);
  s.m->Schedule(s.target, 1);
  s.len = target_fill.size() * kPage;
  RETURN_IF_ERROR(s.m->SetSysctl("mmsim.pvm_max_batch_pages", 1));
  RETURN_IF_ERROR(MapFilled(*s.m, s.target, kTarget, target_fill));
  RETURN_IF_ERROR(MapFilled(*s.m, s.caller, kLocal, local_fill));
  RETURN_IF_ERROR(s.m->IovecArea(s.caller).status());
  return s;
}

// Runs the caller's process_vm_readv (or writev) of the whole buffers beside `other`,
// leaving both results in the scene, and checks the end state.
absl::Status RacePvm(PvmScene& s, bool write, const std::function<sim::SysResult()>& other,
                     SchedulePolicy& policy) {
  const Machine::Iovec local{kLocal, s.len}, remote{kTarget, s.len};
  std::vector<std::function<void()>> calls = {
      [&] {
        s.pvm = write ? s.m->ProcessVmWritev(s.caller, s.target, {&local, 1}, {&remote, 1})
                      : s.m->ProcessVmReadv(s.caller, s.target, {&local, 1}, {&remote, 1});
      },
      [&] { s.other = other(); },
  };
  return Finish(*s.m, s.m->Together(calls, &policy));
}

}  // namespace

absl::StatusOr<std::string> ReadvVsMunmap(SchedulePolicy& policy) {
  absl::StatusOr<PvmScene> s = SetUpPvm("reader", "AB", "..");
  if (!s.ok()) return s.status();
  RETURN_IF_ERROR(RacePvm(*s, false, [&] { return s->m->Munmap(s->target, kTarget, s->len); }, policy));
  return absl::StrCat("readv=", Ret(s->pvm), " munmap=", Ret(s->other),
                      " local=", Pages(*s->m, s->caller, kLocal, 2));
}

absl::StatusOr<std::string> WritevVsMprotect(SchedulePolicy& policy) {
  absl::StatusOr<PvmScene> s = SetUpPvm("writer", "..", "XY");
  if (!s.ok()) return s.status();
  RETURN_IF_ERROR(RacePvm(
      *s, true, [&] { return s->m->Mprotect(s->target, kTarget, s->len, PROT_READ); }, policy));
  return absl::StrCat("writev=", Ret(s->pvm), " mprotect=", Ret(s->other),
                      " target=", Pages(*s->m, s->target, kTarget, 2));
}

absl::StatusOr<std::string> ReadvVsExit(SchedulePolicy& policy) {
  absl::StatusOr<PvmScene> s = SetUpPvm("reader", "AB", "..");
  if (!s.ok()) return s.status();
  RETURN_IF_ERROR(RacePvm(*s, false, [&] { return s->m->ExitGroup(s->target); }, policy));
  return absl::StrCat("readv=", Ret(s->pvm), " exit=", Ret(s->other),
                      " local=", Pages(*s->m, s->caller, kLocal, 2));
}

absl::StatusOr<std::string> WritevVsFork(SchedulePolicy& policy) {
  absl::StatusOr<PvmScene> s = SetUpPvm("writer", ".", "X");
  if (!s.ok()) return s.status();
  RETURN_IF_ERROR(RacePvm(*s, true, [&] { return s->m->Fork(s->target); }, policy));
  if (s->other.ret <= 0) return absl::InternalError(absl::StrCat("fork failed: ", Ret(s->other)));
  return absl::StrCat("writev=", Ret(s->pvm), " fork=ok parent=",
                      Pages(*s->m, s->target, kTarget, 1),
                      " child=", Pages(*s->m, static_cast<int>(s->other.ret), kTarget, 1));
}

absl::StatusOr<std::string> ReadvVsLocalMunmap(SchedulePolicy& policy) {
  absl::StatusOr<PvmScene> s = SetUpPvm("reader", "AB", "..");
  if (!s.ok()) return s.status();
  // The caller's second thread takes CPU 1 (the target, idle in this race, leaves it).
  int unmapper = *s->m->CreateThread(s->caller, "unmapper");
  s->m->Schedule(unmapper, 1);
  RETURN_IF_ERROR(RacePvm(*s, false, [&] { return s->m->Munmap(unmapper, kLocal, s->len); }, policy));
  std::string target_pages = Pages(*s->m, s->target, kTarget, 2);
  if (target_pages != "AB") return absl::InternalError("the target changed: " + target_pages);
  return absl::StrCat("readv=", Ret(s->pvm), " munmap=", Ret(s->other),
                      " local=", Pages(*s->m, s->caller, kLocal, 2));
}

namespace {
// Sees CPU 1's TLB hits on the page and reads its PTE (by physical address) at that
// moment: a hit while the PTE is clear is a load through a stale translation.
struct StaleWatch : hw::HwObserver {
  Machine* m = nullptr;
  uint64_t va = 0;
  uint64_t pte_addr = 0;  // physical; 0: not seen yet
  bool recording_walk = false;
  int hits = 0, stale_hits = 0;
  void OnWalkStep(int cpu, int level, hw::PhysAddr entry_addr, uint64_t entry) override {
    (void)entry;
    if (recording_walk && cpu == 1 && level == 1) pte_addr = entry_addr.value();
  }
  void OnTlbHit(int cpu, int level, hw::VirtAddr v, const hw::TlbEntry& entry) override {
    (void)level;
    (void)entry;
    if (cpu != 1 || (v.value() & ~(kPage - 1)) != va || pte_addr == 0) return;
    ++hits;
    if ((m->phys().ReadU64(hw::PhysAddr(pte_addr)) & 1) == 0) ++stale_hits;
  }
};
}  // namespace

absl::StatusOr<std::string> MunmapVsStaleTlbLoad(SchedulePolicy& policy) {
  std::unique_ptr<Machine> m = Boot(2);
  int unmapper = *m->CreateProcess("unmapper", sim::ProcessCreds{});
  int loader = *m->CreateThread(unmapper, "loader");
  m->Schedule(unmapper, 0);
  m->Schedule(loader, 1);
  // Two pages, so the page table stays when the first goes.
  RETURN_IF_ERROR(MapFilled(*m, unmapper, kTarget, "AC"));
  StaleWatch watch;
  watch.m = m.get();
  watch.va = kTarget;
  m->AttachCpuObserver(&watch);
  watch.recording_walk = true;
  sim::UserAccess warm = m->Load(loader, kTarget, 1);  // CPU 1 caches the translation
  watch.recording_walk = false;
  if (!warm.ok || watch.pte_addr == 0) {
    m->AttachCpuObserver(nullptr);
    return absl::InternalError("warming CPU 1's TLB failed");
  }
  watch.hits = 0;
  const long flush0 = m->vmstat(kernel::NR_TLB_REMOTE_FLUSH);
  const long recv0 = m->vmstat(kernel::NR_TLB_REMOTE_FLUSH_RECEIVED);
  sim::UserAccess load{};
  sim::SysResult unmap{}, remap{};
  bool refill = false;
  std::vector<std::function<void()>> calls = {
      [&] {
        unmap = m->Munmap(unmapper, kTarget, kPage);
        remap = m->Mmap(unmapper, kLocal, kPage, kRw, kAnonFixed);
        std::vector<uint8_t> z(kPage, 'Z');
        refill = m->Store(unmapper, kLocal, z).ok;
      },
      [&] { load = m->Load(loader, kTarget, 1); },
  };
  absl::StatusOr<Machine::TogetherResult> r = m->Together(calls, &policy);
  m->AttachCpuObserver(nullptr);
  RETURN_IF_ERROR(Finish(*m, r));
  if (unmap.ret != 0 || remap.ret != static_cast<long>(kLocal) || !refill)
    return absl::InternalError("the unmapper's calls failed");
  std::string loaded = load.ok ? std::string(1, static_cast<char>(load.bytes.at(0)))
                               : (load.signal == 11 ? "SEGV" : absl::StrCat("sig", load.signal));
  return absl::StrCat("load=", loaded, " stale=", watch.stale_hits > 0 ? 1 : 0,
                      " remote_flush=", m->vmstat(kernel::NR_TLB_REMOTE_FLUSH) - flush0,
                      " received=", m->vmstat(kernel::NR_TLB_REMOTE_FLUSH_RECEIVED) - recv0);
}

absl::StatusOr<std::string> CowWriteWrite(SchedulePolicy& policy) {
  std::unique_ptr<Machine> m = Boot(2);
  int parent = *m->CreateProcess("parent", sim::ProcessCreds{});
  RETURN_IF_ERROR(MapFilled(*m, parent, kTarget, "."));
  sim::SysResult child = m->Fork(parent);
  if (child.ret <= 0) return absl::InternalError("fork failed");
  int second = *m->CreateThread(parent, "second");
  m->Schedule(parent, 0);
  m->Schedule(second, 1);
  const long anon0 = m->vmstat(kernel::NR_ANON_MAPPED);
  sim::UserAccess a{}, b{};
  const uint8_t x = 'x', y = 'y';
  std::vector<std::function<void()>> calls = {
      [&] { a = m->Store(parent, kTarget, {&x, 1}); },
      [&] { b = m->Store(second, kTarget + 1, {&y, 1}); },
  };
  RETURN_IF_ERROR(Finish(*m, m->Together(calls, &policy)));
  if (!a.ok || !b.ok) return absl::InternalError("a store failed");
  absl::StatusOr<std::vector<uint8_t>> p = m->PeekUser(parent, kTarget, 2);
  absl::StatusOr<std::vector<uint8_t>> c = m->PeekUser(static_cast<int>(child.ret), kTarget, 2);
  if (!p.ok() || !c.ok()) return absl::InternalError("peek failed");
  return absl::StrCat("parent=", std::string(p->begin(), p->end()),
                      " child=", std::string(c->begin(), c->end()),
                      " copies=", m->vmstat(kernel::NR_ANON_MAPPED) - anon0);
}

absl::StatusOr<std::string> RwsemWriterQueue(SchedulePolicy& policy) {
  std::unique_ptr<Machine> m = Boot(3);
  int reader = *m->CreateProcess("readv", sim::ProcessCreds{});
  int target = *m->CreateProcess("target", sim::ProcessCreds{});
  int third = *m->CreateProcess("third", sim::ProcessCreds{});
  m->Schedule(reader, 0);
  m->Schedule(target, 1);
  m->Schedule(third, 2);
  constexpr uint64_t kOther = kTarget + 0x100000;  // what the munmap removes
  constexpr int kLong = 2;                         // pages the readv faults in
  // The readv's range is never touched: GUP faults each page in under mmap_read_lock.
  if (m->Mmap(target, kTarget, kLong * kPage, kRw, kAnonFixed).ret != static_cast<long>(kTarget))
    return absl::InternalError("setup mmap failed");
  RETURN_IF_ERROR(MapFilled(*m, target, kOther, "O"));
  RETURN_IF_ERROR(MapFilled(*m, reader, kLocal, std::string(kLong, '.')));
  RETURN_IF_ERROR(m->IovecArea(reader).status());
  kernel::mm_struct* mm = m->FindTask(target)->mm;
  kernel::task_struct* reader_task = m->FindTask(reader);
  const Machine::Iovec local{kLocal, kLong * kPage}, remote{kTarget, kLong * kPage};
  sim::SysResult readv{}, unmap{};
  bool queued = false, with_readv = false, after_munmap = false;
  auto readv_holds = [&] {
    for (int i = 0; i < reader_task->lockdep_depth; ++i)
      if (reader_task->held_locks[i].instance == &mm->mmap_lock) return true;
    return false;
  };
  std::vector<std::function<void()>> calls = {
      [&] { readv = m->ProcessVmReadv(reader, target, {&local, 1}, {&remote, 1}); },
      [&] { unmap = m->Munmap(target, kOther, kPage); },
      [&] {
        (void)m->RunInKernel(third, [&] {
          kernel::rw_semaphore* sem = &mm->mmap_lock;
          queued = readv_holds() && !kernel::list_empty(&sem->wait_list) &&
                   kernel::rwsem_first_waiter(sem)->type == kernel::RWSEM_WAITING_FOR_WRITE;
          kernel::mmap_read_lock(mm);
          with_readv = readv_holds();
          after_munmap = kernel::vma_lookup(mm, kOther) == nullptr;
          kernel::mmap_read_unlock(mm);
        });
      },
  };
  RETURN_IF_ERROR(Finish(*m, m->Together(calls, &policy)));
  if (readv.ret != static_cast<long>(kLong * kPage) || unmap.ret != 0)
    return absl::InternalError(absl::StrCat("readv ", Ret(readv), " munmap ", Ret(unmap)));
  return absl::StrCat("queued_behind_writer=", queued ? 1 : 0, " with_readv=", with_readv ? 1 : 0,
                      " after_munmap=", after_munmap ? 1 : 0);
}

namespace {

// The anon_vma races' scene: the parent maps one page ('A'), forks a child (both VMAs
// chained to the parent's root anon_vma, the child's also to its own) and then writes
// 'P' into it, so that it gets its own copy (in the root anon_vma, mapped once) while the
// child keeps 'A'. The parent pages its copy out while the child unmaps or forks.
absl::StatusOr<std::string> PageoutVsChild(SchedulePolicy& policy, bool fork) {
  sim::MachineConfig config;
  config.memory_bytes = 4ull << 20;
  config.swap_bytes = 1ull << 20;
  config.cpus = 2;
  auto created = Machine::Create(config);
  if (!created.ok()) return created.status();
  std::unique_ptr<Machine> m = std::move(*created);
  m->SetCheckEverySwitch(CheckEverySwitch());
  int parent = *m->CreateProcess("parent", sim::ProcessCreds{});
  RETURN_IF_ERROR(MapFilled(*m, parent, kTarget, "A"));
  sim::SysResult forked = m->Fork(parent);
  if (forked.ret <= 0) return absl::InternalError("fork failed");
  const int child = static_cast<int>(forked.ret);
  const uint8_t p = 'P';
  if (!m->Store(parent, kTarget, {&p, 1}).ok) return absl::InternalError("COW store failed");
  m->Schedule(parent, 0);
  m->Schedule(child, 1);
  sim::SysResult pageout{}, other{};
  std::vector<std::function<void()>> calls = {
      [&] { pageout = m->Madvise(parent, kTarget, kPage, MADV_PAGEOUT); },
      [&] { other = fork ? m->Fork(child) : m->Munmap(child, kTarget, kPage); },
  };
  RETURN_IF_ERROR(Finish(*m, m->Together(calls, &policy)));
  // The parent's page: on swap (not present) or still resident ('P' either way).
  kernel::mm_struct* mm = m->FindTask(parent)->mm;
  const bool swapped = m->Inspect([&](const kernel::kernel_state&) {
    return kernel::get_mm_counter(mm, kernel::MM_SWAPENTS) == 1;
  });
  absl::StatusOr<std::vector<uint8_t>> pp = m->PeekUser(parent, kTarget, 1);
  std::string parent_text = swapped ? "swapped" : "resident";
  if (pp.ok() && (*pp)[0] != 'P') parent_text += "-corrupt";
  const std::string other_text = fork && other.ret > 0 ? "ok" : Ret(other);
  return absl::StrCat("pageout=", Ret(pageout), " other=", other_text, " parent=", parent_text,
                      " child=", Pages(*m, child, kTarget, 1));
}

}  // namespace

absl::StatusOr<std::string> PageoutVsChildMunmap(SchedulePolicy& policy) {
  return PageoutVsChild(policy, /*fork=*/false);
}
absl::StatusOr<std::string> PageoutVsChildFork(SchedulePolicy& policy) {
  return PageoutVsChild(policy, /*fork=*/true);
}

const std::vector<RaceCase>& Cases() {
  static const std::vector<RaceCase>* cases = new std::vector<RaceCase>{
      {"ReadvVsMunmap", ReadvVsMunmap,
       {"readv=EFAULT munmap=0 local=..", "readv=4096 munmap=0 local=A.", "readv=8192 munmap=0 local=AB"},
       1},
      {"WritevVsMprotect", WritevVsMprotect,
       {"writev=EFAULT mprotect=0 target=..", "writev=4096 mprotect=0 target=X.", "writev=8192 mprotect=0 target=XY"},
       1},
      {"ReadvVsExit", ReadvVsExit,
       {"readv=ESRCH exit=0 local=..", "readv=8192 exit=0 local=AB"},
       1},
      {"WritevVsFork", WritevVsFork,
       {"writev=4096 fork=ok parent=X child=.", "writev=4096 fork=ok parent=X child=X"},
       1},
      {"ReadvVsLocalMunmap", ReadvVsLocalMunmap,
       {"readv=EFAULT munmap=0 local=--", "readv=4096 munmap=0 local=--", "readv=8192 munmap=0 local=--"},
       1},
      {"MunmapVsStaleTlbLoad", MunmapVsStaleTlbLoad,
       {"load=A stale=0 remote_flush=1 received=1", "load=A stale=1 remote_flush=1 received=1", "load=SEGV stale=0 remote_flush=1 received=1"},
       1},
      {"CowWriteWrite", CowWriteWrite,
       {"parent=xy child=.. copies=1"},
       1},
      {"PageoutVsChildMunmap", PageoutVsChildMunmap,
       {"pageout=0 other=0 parent=swapped child=-"},
       2},
      {"PageoutVsChildFork", PageoutVsChildFork,
       {"pageout=0 other=ok parent=swapped child=A"},
       2},
      {"RwsemWriterQueue", RwsemWriterQueue,
       {"queued_behind_writer=0 with_readv=0 after_munmap=0", "queued_behind_writer=0 with_readv=0 after_munmap=1", "queued_behind_writer=0 with_readv=1 after_munmap=0", "queued_behind_writer=0 with_readv=1 after_munmap=1", "queued_behind_writer=1 with_readv=0 after_munmap=0", "queued_behind_writer=1 with_readv=0 after_munmap=1"},
       2},
  };
  return *cases;
}

const RaceCase& Case(const std::string& name) {
  for (const RaceCase& c : Cases())
    if (name == c.name) return c;
  std::fprintf(stderr, "no race %s\n", name.c_str());
  std::abort();
}

// ---- exploration ----

int TestShardCount() {
  const char* n = std::getenv("TEST_TOTAL_SHARDS");
  return n != nullptr && std::atoi(n) > 0 ? std::atoi(n) : 1;
}

sim::ExploreOptions WithTestShard(sim::ExploreOptions o) {
  const char* i = std::getenv("TEST_SHARD_INDEX");
  o.shard_count = TestShardCount();
  o.shard_index = i != nullptr ? std::atoi(i) : 0;
  return o;
}

void PrepareShards() {
  if (const char* f = std::getenv("TEST_SHARD_STATUS_FILE")) {
    if (FILE* fp = std::fopen(f, "w")) std::fclose(fp);
  }
  unsetenv("GTEST_TOTAL_SHARDS");
  unsetenv("GTEST_SHARD_INDEX");
}

Explored ExploreRace(const sim::ExploreOptions& o, const sim::RunOnce& run) {
  Explored e;
  auto start = std::chrono::steady_clock::now();
  absl::StatusOr<sim::ExploreResult> r = sim::Explore(o, run);
  e.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  if (!r.ok()) {
    ADD_FAILURE() << r.status();
    return e;
  }
  e.schedules = r->schedules;
  e.exhausted = r->exhausted;
  for (const sim::ExploreOutcome& oc : r->outcomes) {
    e.outcomes[oc.text] = oc.count;
    absl::StatusOr<sim::ScheduleId> id = sim::ParseScheduleId(oc.schedule_id);
    if (!id.ok()) {
      ADD_FAILURE() << id.status();
      continue;
    }
    sim::ReplayPolicy replay(*id);
    absl::StatusOr<std::string> again = run(replay);
    EXPECT_TRUE(again.ok() && *again == oc.text)
        << "schedule " << oc.schedule_id << " gave " << oc.text << ", replayed: "
        << (again.ok() ? *again : std::string(again.status().message()));
  }
  std::printf("explored %llu schedules (shard %d/%d, preemptions %d) in %.2f s:\n",
              static_cast<unsigned long long>(e.schedules), o.shard_index, o.shard_count,
              o.preemptions, e.seconds);
  for (const auto& [text, n] : e.outcomes)
    std::printf("  %6llu  %s\n", static_cast<unsigned long long>(n), text.c_str());
  return e;
}

std::set<std::string> Texts(const Explored& e) {
  std::set<std::string> s;
  for (const auto& [text, n] : e.outcomes) s.insert(text);
  return s;
}

}  // namespace races
