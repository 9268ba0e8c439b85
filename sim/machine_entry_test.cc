// The way into the kernel from sim/: every public Machine method installs the kernel scope
// for its call only; RunInKernel runs as the chosen task on the chosen CPU; Inspect does
// not switch tasks; sysctls, observers, hooks and fault points through the Machine's own API.
#include <string>
#include <tuple>
#include <vector>

#include "gtest/gtest.h"
#include "mm/debug_vm.h"
#include "mm/kernel/task.h"
#include "mm/mm.h"
#include "mm/process_vm_access.h"
#include "mm/trace.h"
#include "sim/machine.h"

namespace sim {
namespace {

constexpr int kRw = PROT_READ | PROT_WRITE;
constexpr int kAnon = MAP_PRIVATE | MAP_ANONYMOUS;

std::unique_ptr<Machine> Boot(int cpus = 2) {
  MachineConfig config;
  config.memory_bytes = 32ull << 20;
  config.cpus = cpus;
  auto m = Machine::Create(config);
  EXPECT_TRUE(m.ok()) << m.status();
  return m.ok() ? std::move(*m) : nullptr;
}

// Counts the kernel's context switches (the sched_switch trace event).
struct SwitchCounter : kernel::kernel_observer {
  void on_event(const char* name, const std::string&) override {
    if (std::string(name) == "sched_switch") ++switches;
  }
  int switches = 0;
};

// After `call`, no kernel scope is left installed on this thread.
#define EXPECT_NO_SCOPE_AFTER(call)                                                  \
  do {                                                                               \
    (void)(call);                                                                    \
    EXPECT_EQ(kernel::kst_or_null(), nullptr) << "a scope outlived " #call;         \
  } while (0)

TEST(MachineEntryTest, EveryPublicMethodLeavesNoScopeInstalled) {
  ASSERT_EQ(kernel::kst_or_null(), nullptr);
  std::unique_ptr<Machine> m = Boot();
  ASSERT_NE(m, nullptr);
  EXPECT_EQ(kernel::kst_or_null(), nullptr) << "Machine::Create";
  Machine& mc = *m;

  absl::StatusOr<int> a = mc.CreateProcess("a", ProcessCreds{});
  EXPECT_EQ(kernel::kst_or_null(), nullptr) << "CreateProcess";
  ASSERT_TRUE(a.ok());
  const int b = *mc.CreateProcess("b", ProcessCreds{});
  absl::StatusOr<int> tid = mc.CreateThread(*a, "a-thread");
  EXPECT_EQ(kernel::kst_or_null(), nullptr) << "CreateThread";
  ASSERT_TRUE(tid.ok());
  absl::StatusOr<int> kt = mc.CreateKthread("kworker");
  EXPECT_EQ(kernel::kst_or_null(), nullptr) << "CreateKthread";
  ASSERT_TRUE(kt.ok());

  EXPECT_NO_SCOPE_AFTER(mc.FindTask(*a));
  EXPECT_NO_SCOPE_AFTER(mc.Schedule(b, 1));
  EXPECT_NO_SCOPE_AFTER(mc.Current(1));
  const SysResult map = mc.Mmap(*a, 0, 4 * 4096, kRw, kAnon);
  EXPECT_EQ(kernel::kst_or_null(), nullptr) << "Mmap";
  ASSERT_EQ(map.err, 0);
  const uint64_t addr = static_cast<uint64_t>(map.ret);
  const uint64_t rmap = static_cast<uint64_t>(mc.Mmap(b, 0, 4096, kRw, kAnon).ret);
  EXPECT_NO_SCOPE_AFTER(mc.Mprotect(*a, addr + 3 * 4096, 4096, PROT_READ));
  EXPECT_NO_SCOPE_AFTER(mc.Munmap(*a, addr + 3 * 4096, 4096));
  EXPECT_NO_SCOPE_AFTER(mc.Store(*a, addr, std::vector<uint8_t>(64, 7)));
  EXPECT_NO_SCOPE_AFTER(mc.Load(*a, addr, 64));
  EXPECT_NO_SCOPE_AFTER(mc.Load(*a, 0x1000, 8));  // SIGSEGV
  EXPECT_NO_SCOPE_AFTER(mc.PeekUser(*a, addr, 64));
  const std::vector<Machine::Iovec> local = {{addr, 16}};
  const std::vector<Machine::Iovec> remote = {{rmap, 16}};
  EXPECT_NO_SCOPE_AFTER(mc.ProcessVmReadv(*a, b, local, remote));
  EXPECT_NO_SCOPE_AFTER(mc.ProcessVmWritev(*a, b, local, remote));
  EXPECT_NO_SCOPE_AFTER(mc.ProcessVmReadv(*a, b, 0, 0, 0, 0, 0));
  EXPECT_NO_SCOPE_AFTER(mc.ProcessVmWritev(*a, b, 0, 0, 0, 0, 0));
  EXPECT_NO_SCOPE_AFTER(mc.MapVvar(*a));
  EXPECT_NO_SCOPE_AFTER(mc.SetResGid(b, 0, 0, 0));
  EXPECT_NO_SCOPE_AFTER(mc.SetResUid(b, 0, 0, 0));
  EXPECT_NO_SCOPE_AFTER(mc.CapSet(b, kernel::CAP_FULL_SET.val));
  EXPECT_NO_SCOPE_AFTER(mc.SetDumpable(b, true));
  const SysResult child = mc.Fork(*a);
  EXPECT_EQ(kernel::kst_or_null(), nullptr) << "Fork";
  ASSERT_GT(child.ret, 0);
  EXPECT_NO_SCOPE_AFTER(mc.Exit(static_cast<int>(child.ret)));
  EXPECT_NO_SCOPE_AFTER(mc.Reap(0, static_cast<int>(child.ret)));
  absl::StatusOr<int> fd = mc.CreateFile("f", 8192, std::vector<uint8_t>{1, 2, 3});
  EXPECT_EQ(kernel::kst_or_null(), nullptr) << "CreateFile";
  ASSERT_TRUE(fd.ok());
  EXPECT_NO_SCOPE_AFTER(mc.FileOf(*fd));
  EXPECT_NO_SCOPE_AFTER(mc.WriteFile(*fd, 4096, std::vector<uint8_t>{9}));
  EXPECT_NO_SCOPE_AFTER(mc.SyncFile(*fd));
  EXPECT_NO_SCOPE_AFTER(mc.Truncate(*fd, 4096));
  EXPECT_NO_SCOPE_AFTER(mc.WriteFile(*fd, 0, std::vector<uint8_t>{4, 5}));
  absl::StatusOr<std::vector<uint8_t>> contents = mc.ReadFile(*fd);  // page 0 is cached
  EXPECT_EQ(kernel::kst_or_null(), nullptr) << "ReadFile";
  ASSERT_TRUE(contents.ok());
  EXPECT_EQ(contents->size(), 4096u);
  EXPECT_EQ(std::vector<uint8_t>(contents->begin(), contents->begin() + 4),
            std::vector<uint8_t>({4, 5, 3, 0}));
  std::string report;
  EXPECT_NO_SCOPE_AFTER(mc.DebugVmCheck(&report));
  EXPECT_NO_SCOPE_AFTER(mc.DebugVmCheck(&report, kernel::debug_vm_options{}));
  EXPECT_NO_SCOPE_AFTER(mc.RunInKernel(*a, [] { return kernel::current()->pid; }));
  EXPECT_NO_SCOPE_AFTER(mc.RunInKernel(*a, [] {}));
  EXPECT_NO_SCOPE_AFTER(mc.Inspect([](const kernel::kernel_state& ks) { return ks.last_pid; }));
  EXPECT_NO_SCOPE_AFTER(mc.vmstat(kernel::NR_FREE_PAGES));
  EXPECT_NO_SCOPE_AFTER(mc.slab_allocations());
  EXPECT_NO_SCOPE_AFTER(mc.slab_bytes());
  EXPECT_NO_SCOPE_AFTER(mc.Sysctl("vm.max_map_count"));
  EXPECT_NO_SCOPE_AFTER(mc.SetSysctl("vm.max_map_count", 65530));
  SwitchCounter counter;
  EXPECT_NO_SCOPE_AFTER((mc.AttachObserver(&counter), 0));
  EXPECT_NO_SCOPE_AFTER((mc.AttachObserver(nullptr), 0));
  EXPECT_NO_SCOPE_AFTER((mc.AttachCpuObserver(nullptr), 0));
  EXPECT_NO_SCOPE_AFTER((mc.SetPvmHooks(nullptr), 0));
  EXPECT_NO_SCOPE_AFTER(mc.ArmFault("failslab", {.nth = 1000000, .times = 1}));
  EXPECT_NO_SCOPE_AFTER(mc.FaultCalls("failslab"));
  EXPECT_NO_SCOPE_AFTER(mc.FaultFailures("failslab"));
  EXPECT_NO_SCOPE_AFTER((mc.DisarmFault("failslab"), 0));
  EXPECT_NO_SCOPE_AFTER((mc.DisarmFaults(), 0));
  EXPECT_NO_SCOPE_AFTER(mc.ExitGroup(*a));
  EXPECT_EQ(report, "");
  m.reset();
  EXPECT_EQ(kernel::kst_or_null(), nullptr) << "~Machine";
}

TEST(MachineEntryTest, TheScopeIsInstalledInsideAndNests) {
  std::unique_ptr<Machine> m1 = Boot();
  std::unique_ptr<Machine> m2 = Boot();
  const int p1 = *m1->CreateProcess("p1", ProcessCreds{});
  const int p2 = *m2->CreateProcess("p2", ProcessCreds{});
  // Inside m1's kernel, a call on m2 runs in m2's kernel and leaves m1's scope in place.
  absl::StatusOr<bool> ok = m1->RunInKernel(p1, [&] {
    const kernel::kernel_state* outer = kernel::kst_or_null();
    if (outer == nullptr || kernel::current()->pid != p1) return false;
    absl::StatusOr<int> inner = m2->RunInKernel(p2, [&] {
      return kernel::kst_or_null() != outer ? kernel::current()->pid : -1;
    });
    return inner.ok() && *inner == p2 && kernel::kst_or_null() == outer &&
           kernel::current()->pid == p1;
  });
  ASSERT_TRUE(ok.ok()) << ok.status();
  EXPECT_TRUE(*ok);
  EXPECT_EQ(kernel::kst_or_null(), nullptr);
}

TEST(MachineEntryDeathTest, ABodyCannotEnterItsOwnMachineAsATask) {
  std::unique_ptr<Machine> m = Boot();
  const int a = *m->CreateProcess("a", ProcessCreds{});
  // Read-only inspection from inside a body is fine.
  absl::StatusOr<long> pages = m->RunInKernel(a, [&] {
    return m->Inspect(
        [](const kernel::kernel_state& ks) { return ks.vm_stat[kernel::NR_FREE_PAGES]; });
  });
  ASSERT_TRUE(pages.ok());
  EXPECT_EQ(*pages, m->vmstat(kernel::NR_FREE_PAGES));
  EXPECT_DEATH((void)m->RunInKernel(a, [&] { return m->Munmap(a, 0x10000, 4096).err; }),
               "called back into its own Machine");
  EXPECT_DEATH((void)m->RunInKernel(a, [&] { (void)m->RunInKernel(1, [] {}); }),
               "called back into its own Machine");
}

TEST(MachineEntryTest, RunInKernelRunsAsTheTaskOnTheCpu) {
  std::unique_ptr<Machine> m = Boot(/*cpus=*/4);
  const int a = *m->CreateProcess("a", ProcessCreds{});
  const int b = *m->CreateProcess("b", ProcessCreds{});
  // (pid, cpu, CR3's table == the task's pgd, CPL) as the body sees them.
  auto whoami = [] {
    hw::Cpu* c = kernel::this_cpu_hw();
    kernel::task_struct* t = kernel::current();
    return std::make_tuple(t->pid, kernel::smp_processor_id(),
                           (c->cr3() & kernel::PTE_PFN_MASK) == kernel::__pa(t->mm->pgd), c->cpl());
  };
  auto on2 = m->RunInKernel(a, whoami, 2);
  ASSERT_TRUE(on2.ok()) << on2.status();
  EXPECT_EQ(*on2, std::make_tuple(a, 2, true, 0));
  EXPECT_EQ(m->Current(2), a);
  // cpu -1: where it runs now.
  auto again = m->RunInKernel(a, whoami);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(*again, std::make_tuple(a, 2, true, 0));
  // Another CPU: a moves, CPU 2 goes idle.
  auto on3 = m->RunInKernel(a, whoami, 3);
  ASSERT_TRUE(on3.ok());
  EXPECT_EQ(*on3, std::make_tuple(a, 3, true, 0));
  EXPECT_EQ(m->Current(3), a);
  EXPECT_EQ(m->Current(2), 0);
  // A task that runs nowhere runs on CPU 0 by default.
  auto b0 = m->RunInKernel(b, whoami);
  ASSERT_TRUE(b0.ok());
  EXPECT_EQ(*b0, std::make_tuple(b, 0, true, 0));
  EXPECT_EQ(m->cpu(0).cr3() & kernel::PTE_PFN_MASK, m->Inspect([&](const kernel::kernel_state&) {
    return kernel::__pa(m->FindTask(b)->mm->pgd);
  }));
  // A kernel thread: no mm of its own.
  const int k = *m->CreateKthread("kw");
  auto kpid = m->RunInKernel(
      k, [] { return std::make_pair(kernel::current()->pid, kernel::current()->mm); }, 1);
  ASSERT_TRUE(kpid.ok());
  EXPECT_EQ(kpid->first, k);
  EXPECT_EQ(kpid->second, nullptr);
  // The body's effects are the task's: an mmap made in it shows up in its address space.
  auto mapped = m->RunInKernel(a, [] {
    return static_cast<long>(kernel::vm_mmap_pgoff(nullptr, 0, 4096, PROT_READ | PROT_WRITE,
                                                   MAP_PRIVATE | MAP_ANONYMOUS, 0));
  });
  ASSERT_TRUE(mapped.ok());
  ASSERT_GT(*mapped, 0);
  EXPECT_TRUE(m->Store(a, static_cast<uint64_t>(*mapped), {1, 2, 3}).ok);
  EXPECT_FALSE(m->Store(b, static_cast<uint64_t>(*mapped), {1, 2, 3}).ok);
  std::string report;
  EXPECT_EQ(m->DebugVmCheck(&report), 0) << report;
}

TEST(MachineEntryTest, RunInKernelRefusesDeadTasksAndBadCpus) {
  std::unique_ptr<Machine> m = Boot();
  const int a = *m->CreateProcess("a", ProcessCreds{});
  bool ran = false;
  auto body = [&] { ran = true; };
  EXPECT_EQ(m->RunInKernel(12345, body).code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(m->RunInKernel(0, body).code(), absl::StatusCode::kNotFound);  // idle tasks
  EXPECT_EQ(m->RunInKernel(a, body, 2).code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(m->RunInKernel(a, body, -2).code(), absl::StatusCode::kInvalidArgument);
  EXPECT_FALSE(ran);
  ASSERT_EQ(m->Exit(a).err, 0);  // a zombie until reaped
  EXPECT_EQ(m->RunInKernel(a, body).code(), absl::StatusCode::kNotFound);
  absl::StatusOr<int> pid = m->RunInKernel(a, [] { return 1; });
  EXPECT_EQ(pid.status().code(), absl::StatusCode::kNotFound);
  ASSERT_EQ(m->Reap(0, a).ret, a);
  EXPECT_EQ(m->RunInKernel(a, body).code(), absl::StatusCode::kNotFound);
  EXPECT_FALSE(ran);
  EXPECT_TRUE(m->RunInKernel(1, body).ok());
  EXPECT_TRUE(ran);
}

TEST(MachineEntryTest, InspectDoesNotSwitchTasks) {
  std::unique_ptr<Machine> m = Boot();
  const int a = *m->CreateProcess("a", ProcessCreds{});
  const int b = *m->CreateProcess("b", ProcessCreds{});
  m->Schedule(a, 0);
  m->Schedule(b, 1);
  SwitchCounter counter;
  m->AttachObserver(&counter);
  const uint64_t cr3_0 = m->cpu(0).cr3(), cr3_1 = m->cpu(1).cr3();
  const long free_pages = m->vmstat(kernel::NR_FREE_PAGES);
  auto seen = m->Inspect([&](const kernel::kernel_state& ks) {
    return std::make_tuple(kernel::kst_or_null() == &ks, ks.vm_stat[kernel::NR_FREE_PAGES],
                           ks.current_task[0]->pid, ks.current_task[1]->pid);
  });
  EXPECT_EQ(seen, std::make_tuple(true, free_pages, a, b));
  EXPECT_EQ(counter.switches, 0);
  EXPECT_EQ(m->Current(0), a);
  EXPECT_EQ(m->Current(1), b);
  EXPECT_EQ(m->cpu(0).cr3(), cr3_0);
  EXPECT_EQ(m->cpu(1).cr3(), cr3_1);
  // Whereas running as b on CPU 0 is a context switch there (b leaves CPU 1 first).
  ASSERT_TRUE(m->RunInKernel(b, [] {}, 0).ok());
  EXPECT_EQ(counter.switches, 2);
  EXPECT_EQ(m->Current(0), b);
  EXPECT_EQ(m->Current(1), 0);
  m->AttachObserver(nullptr);  // detached: no more events
  ASSERT_TRUE(m->RunInKernel(a, [] {}, 1).ok());
  EXPECT_EQ(counter.switches, 2);
}

TEST(MachineEntryTest, SysctlsRoundTripAndReject) {
  std::unique_ptr<Machine> m = Boot();
  EXPECT_EQ(*m->Sysctl("vm.max_map_count"), 65530);
  EXPECT_EQ(*m->Sysctl("fs.suid_dumpable"), 0);
  EXPECT_EQ(*m->Sysctl("mmsim.pvm_max_batch_pages"), 1024);
  for (const auto& [name, value] : std::vector<std::pair<std::string, long>>{
           {"vm.max_map_count", 7}, {"fs.suid_dumpable", 2}, {"mmsim.pvm_max_batch_pages", 1},
           {"mmsim.pvm_max_batch_pages", 65536}, {"vm.max_map_count", 0}}) {
    EXPECT_TRUE(m->SetSysctl(name, value).ok()) << name << "=" << value;
    EXPECT_EQ(*m->Sysctl(name), value) << name;
  }
  ASSERT_TRUE(m->SetSysctl("vm.max_map_count", 5).ok());
  ASSERT_TRUE(m->SetSysctl("fs.suid_dumpable", 1).ok());
  ASSERT_TRUE(m->SetSysctl("mmsim.pvm_max_batch_pages", 16).ok());
  for (const auto& [name, value] : std::vector<std::pair<std::string, long>>{
           {"vm.max_map_count", -1}, {"vm.max_map_count", 1L << 31}, {"fs.suid_dumpable", 3},
           {"fs.suid_dumpable", -1}, {"mmsim.pvm_max_batch_pages", 0},
           {"mmsim.pvm_max_batch_pages", 65537}}) {
    EXPECT_EQ(m->SetSysctl(name, value).code(), absl::StatusCode::kInvalidArgument)
        << name << "=" << value;
  }
  EXPECT_EQ(*m->Sysctl("vm.max_map_count"), 5);
  EXPECT_EQ(*m->Sysctl("fs.suid_dumpable"), 1);
  EXPECT_EQ(*m->Sysctl("mmsim.pvm_max_batch_pages"), 16);
  for (const char* name : {"vm.nope", "", "max_map_count", "vm/max_map_count",
                           "kernel.pvm_max_batch_pages", "vm.max_map_count "}) {
    EXPECT_EQ(m->Sysctl(name).status().code(), absl::StatusCode::kNotFound) << name;
    EXPECT_EQ(m->SetSysctl(name, 1).code(), absl::StatusCode::kNotFound) << name;
  }
  // The kernel reads them. vm.max_map_count = 5: do_mmap refuses once map_count > 5, so
  // next to the stack five mappings are made and the sixth is ENOMEM. fs.suid_dumpable =
  // 1: a uid change keeps the process dumpable.
  const int a = *m->CreateProcess("a", ProcessCreds{});
  for (int i = 0; i < 5; ++i) {  // 64 KiB apart: never merged
    EXPECT_EQ(m->Mmap(a, 0x10000000 + 0x10000 * i, 4096, kRw, kAnon | MAP_FIXED).err, 0) << i;
  }
  EXPECT_EQ(m->FindTask(a)->mm->map_count, 6);
  EXPECT_EQ(m->Mmap(a, 0x20000000, 4096, kRw, kAnon | MAP_FIXED).err, ENOMEM);
  ASSERT_EQ(m->SetResUid(a, 1000, 1000, 1000).err, 0);
  EXPECT_EQ(kernel::get_dumpable(m->FindTask(a)->mm), kernel::SUID_DUMP_USER);
}

TEST(MachineEntryTest, PvmHooksSeeEachBatch) {
  std::unique_ptr<Machine> m = Boot();
  const int a = *m->CreateProcess("a", ProcessCreds{});
  const int b = *m->CreateProcess("b", ProcessCreds{});
  const uint64_t la = static_cast<uint64_t>(m->Mmap(a, 0, 4 * 4096, kRw, kAnon).ret);
  const uint64_t rb = static_cast<uint64_t>(m->Mmap(b, 0, 4 * 4096, kRw, kAnon).ret);
  ASSERT_TRUE(m->Store(b, rb, std::vector<uint8_t>(4 * 4096, 3)).ok);
  ASSERT_TRUE(m->SetSysctl("mmsim.pvm_max_batch_pages", 1).ok());
  std::vector<long> pinned;
  kernel::pvm_hooks hooks;
  hooks.after_pin = [&](kernel::mm_struct*, unsigned long, long n, kernel::page**) {
    pinned.push_back(n);
  };
  m->SetPvmHooks(&hooks);
  EXPECT_EQ(m->ProcessVmReadv(a, b, {{la, 4 * 4096}}, {{rb, 4 * 4096}}).ret, 4 * 4096);
  EXPECT_EQ(pinned, std::vector<long>({1, 1, 1, 1}));  // one page per batch
  m->SetPvmHooks(nullptr);
  EXPECT_EQ(m->ProcessVmReadv(a, b, {{la, 4096}}, {{rb, 4096}}).ret, 4096);
  EXPECT_EQ(pinned.size(), 4u);
}

}  // namespace
}  // namespace sim
