// The single-path branches of the lock entry points, in the build that has them. With no
// scheduler in an opt build (NDEBUG: mm/sched_hooks.h, sched_single_path) the rwsem,
// spinlock and folio-lock entry points and the mmap_lock wrappers (mm/rwsem.h:
// down_read_inline ...) skip the preemption point, lockdep's held-lock record and the
// preemption count. Every other test is built in fastbuild, where those branches are
// compiled out; this one is built under -c opt whatever the command line says
// (tools/opt_test.bzl), so CI's default pass runs them.
//
// The same sequence of process_vm_readv / process_vm_writev / munmap calls runs twice on
// fresh machines: once plainly (the single-path branches) and once with each call as the
// only path of a Together block (a scheduler installed: the full entry points, with
// preemption points, lockdep and the preemption count). Both must give the same results
// and leave the locks in the same state, and every lock balanced after every call.
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "mm/mm.h"
#include "mm/sched_hooks.h"
#include "sim/machine.h"

namespace sim {
namespace {

constexpr int kRw = PROT_READ | PROT_WRITE;
constexpr int kAnon = MAP_PRIVATE | MAP_ANONYMOUS;
constexpr uint64_t kRemote = 0x10000000;  // the target's 4 pages
constexpr uint64_t kLocal = 0x20000000;   // the caller's 4-page buffer
constexpr uint64_t kPage = 4096;

// The state of one rwsem as a string: its count word and its owner (the owner's pid, or
// 0, and the flag bits), so that two machines compare equal.
std::string RwsemState(const kernel::rw_semaphore& sem) {
  const kernel::task_struct* owner = kernel::rwsem_owner(&sem);
  const unsigned long flags =
      static_cast<unsigned long>(sem.owner.counter) & kernel::RWSEM_OWNER_FLAGS_MASK;
  return absl::StrCat("count=", sem.count.counter, " owner=", owner ? owner->pid : 0,
                      "|", flags, kernel::list_empty(&sem.wait_list) ? "" : " waiters");
}

class SinglePathOptTest : public ::testing::Test {
 protected:
  void Boot() {
    MachineConfig config;
    config.memory_bytes = 8ull << 20;
    config.cpus = 2;
    auto m = Machine::Create(config);
    ASSERT_TRUE(m.ok()) << m.status();
    m_ = std::move(*m);
    caller_ = *m_->CreateProcess("caller", ProcessCreds{});
    target_ = *m_->CreateProcess("target", ProcessCreds{});
    ASSERT_EQ(m_->Mmap(target_, kRemote, 4 * kPage, kRw, kAnon | MAP_FIXED).ret,
              static_cast<long>(kRemote));
    ASSERT_EQ(m_->Mmap(caller_, kLocal, 4 * kPage, kRw, kAnon | MAP_FIXED).ret,
              static_cast<long>(kLocal));
    std::vector<uint8_t> data(4 * kPage);
    for (size_t i = 0; i < data.size(); ++i) data[i] = static_cast<uint8_t>(i * 7 + i / kPage);
    ASSERT_TRUE(m_->Store(target_, kRemote, data).ok);
    std::vector<uint8_t> junk(4 * kPage, 0xee);
    ASSERT_TRUE(m_->Store(caller_, kLocal, junk).ok);
  }

  // After a call: every lock the calls take is free again, nothing is recorded as held,
  // no CPU has preemption disabled. Returns the lock states for the comparison.
  std::string LockStates() {
    return m_->Inspect([&](const kernel::kernel_state& ks) {
      std::string out;
      for (int pid : {caller_, target_}) {
        const kernel::task_struct* t = ks.pid_table.at(pid);
        EXPECT_FALSE(kernel::rwsem_is_locked(&t->mm->mmap_lock)) << pid;
        EXPECT_FALSE(kernel::rwsem_is_locked(&t->signal->exec_update_lock)) << pid;
        EXPECT_EQ(t->lockdep_depth, 0) << pid;
        absl::StrAppend(&out, "pid ", pid, " mmap_lock ", RwsemState(t->mm->mmap_lock),
                        " exec_update_lock ", RwsemState(t->signal->exec_update_lock),
                        " page_table_lock ", t->mm->page_table_lock.locked, "\n");
      }
      for (int cpu = 0; cpu < kernel::NR_CPUS; ++cpu)
        EXPECT_EQ(ks.preempt_count[cpu], 0) << "cpu " << cpu;
      return out;
    });
  }

  // Runs `call` plainly or as the only path of a Together block.
  void Run(bool together, const std::function<void()>& call) {
    if (!together) {
      // The premise: no scheduler, and this build takes the single-path branches.
      EXPECT_TRUE(m_->Inspect([](const kernel::kernel_state&) {
        return kernel::sched_single_path();
      })) << "built without NDEBUG: tools/opt_test.bzl should build this test under -c opt";
      call();
      return;
    }
    std::vector<std::function<void()>> calls = {call};
    auto r = m_->Together(calls, nullptr);
    ASSERT_TRUE(r.ok()) << r.status();
    EXPECT_FALSE(r->deadlock) << r->deadlock_report;
    EXPECT_GT(r->steps, 1u);  // it ran as a path: decisions at its preemption points
  }

  // The sequence; its transcript is every call's result, the bytes it moved and the lock
  // states after it.
  std::string Sequence(bool together) {
    Boot();
    std::string log;
    auto note = [&](const std::string& what, SysResult r) {
      absl::StrAppend(&log, what, " -> ", r.ret, " errno ", r.err, "\n", LockStates());
    };
    auto readv = [&](const std::string& what, uint64_t remote, uint64_t len) {
      SysResult r{};
      std::vector<Machine::Iovec> local = {{kLocal, len}};
      std::vector<Machine::Iovec> rem = {{remote, len}};
      Run(together, [&] { r = m_->ProcessVmReadv(caller_, target_, local, rem, 0); });
      note(what, r);
      UserAccess got = m_->Load(caller_, kLocal, len);
      EXPECT_TRUE(got.ok);
      uint64_t sum = 0;
      for (uint8_t b : got.bytes) sum = sum * 31 + b;
      absl::StrAppend(&log, "  local bytes hash ", sum, "\n");
    };
    auto writev = [&](const std::string& what, uint64_t remote, uint64_t len) {
      SysResult r{};
      std::vector<uint8_t> src(len, 0x5a);
      EXPECT_TRUE(m_->Store(caller_, kLocal, src).ok);
      std::vector<Machine::Iovec> local = {{kLocal, len}};
      std::vector<Machine::Iovec> rem = {{remote, len}};
      Run(together, [&] { r = m_->ProcessVmWritev(caller_, target_, local, rem, 0); });
      note(what, r);
      if (r.ret != static_cast<long>(len)) return;  // the hole: nothing to read back
      UserAccess got = m_->Load(target_, remote, len);
      EXPECT_TRUE(got.ok);
      EXPECT_EQ(got.bytes, src) << what;
    };
    readv("readv 8 B", kRemote + 16, 8);
    readv("readv 2 pages", kRemote + kPage, 2 * kPage);
    writev("writev 8 B", kRemote + 100, 8);
    writev("writev 1 page", kRemote + 2 * kPage, kPage);
    SysResult unmapped{};
    Run(together, [&] { unmapped = m_->Munmap(target_, kRemote + kPage, kPage); });
    note("munmap page 1", unmapped);
    // Across the hole: the first page is copied, then EFAULT ends it (a partial read).
    readv("readv across the hole", kRemote, 3 * kPage);
    writev("writev into the hole", kRemote + kPage, 8);
    std::string report;
    EXPECT_EQ(m_->DebugVmCheck(&report), 0) << report;
    m_.reset();
    return log;
  }

  std::unique_ptr<Machine> m_;
  int caller_ = 0, target_ = 0;
};

TEST_F(SinglePathOptTest, SinglePathMatchesTheFullPath) {
  const std::string single = Sequence(/*together=*/false);
  const std::string full = Sequence(/*together=*/true);
  EXPECT_EQ(single, full);
  // The results themselves (the transcripts agreeing is not enough).
  EXPECT_NE(single.find("readv 8 B -> 8 errno 0"), std::string::npos) << single;
  EXPECT_NE(single.find("readv 2 pages -> 8192 errno 0"), std::string::npos) << single;
  EXPECT_NE(single.find("writev 1 page -> 4096 errno 0"), std::string::npos) << single;
  EXPECT_NE(single.find("munmap page 1 -> 0 errno 0"), std::string::npos) << single;
  EXPECT_NE(single.find("readv across the hole -> 4096 errno 0"), std::string::npos) << single;
  EXPECT_NE(single.find("writev into the hole -> -1 errno 14"), std::string::npos) << single;
}

}  // namespace
}  // namespace sim
