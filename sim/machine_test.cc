#include "sim/machine.h"

#include <cstring>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "mm/arch/x86/ptrace.h"
#include "mm/kernel/task.h"
#include "mm/mm.h"

namespace sim {
namespace {

constexpr int kRw = PROT_READ | PROT_WRITE;
constexpr int kAnon = MAP_PRIVATE | MAP_ANONYMOUS;
constexpr int kRead = PROT_READ;
constexpr int kNone = PROT_NONE;

std::unique_ptr<Machine> Boot(MachineConfig config = MachineConfig{}) {
  auto m = Machine::Create(config);
  EXPECT_TRUE(m.ok()) << m.status();
  return m.ok() ? std::move(*m) : nullptr;
}

long FreePages(Machine& m) { return m.vmstat(kernel::NR_FREE_PAGES); }

std::string Vm(Machine& m) {
  std::string report;
  m.DebugVmCheck(&report);
  return report;
}

std::vector<uint8_t> Bytes(size_t n, uint8_t seed) {
  std::vector<uint8_t> v(n);
  for (size_t i = 0; i < n; ++i) v[i] = static_cast<uint8_t>(seed + 3 * i);
  return v;
}

TEST(MachineTest, BootsWithInitAndKthreadd) {
  auto m = Boot();
  ASSERT_NE(m, nullptr);
  EXPECT_EQ(m->num_cpus(), 2);
  kernel::task_struct* init = m->FindTask(1);
  ASSERT_NE(init, nullptr);
  EXPECT_STREQ(init->comm, "init");
  kernel::task_struct* kthreadd = m->FindTask(2);
  ASSERT_NE(kthreadd, nullptr);
  EXPECT_TRUE(kthreadd->flags & kernel::PF_KTHREAD);
  // The CPUs run with the paging features Linux enables.
  for (int i = 0; i < m->num_cpus(); ++i) {
    EXPECT_TRUE(m->cpu(i).cr0() & hw::Cpu::kCr0Wp);
    EXPECT_TRUE(m->cpu(i).cr4() & hw::Cpu::kCr4Smap);
    EXPECT_TRUE(m->cpu(i).cr4() & hw::Cpu::kCr4Smep);
    EXPECT_TRUE(m->cpu(i).cr4() & hw::Cpu::kCr4Pcide);
    EXPECT_TRUE(m->cpu(i).cr4() & hw::Cpu::kCr4Pge);
    EXPECT_TRUE(m->cpu(i).efer() & hw::Cpu::kEferNxe);
  }
  EXPECT_EQ(Vm(*m), "");
}

TEST(MachineTest, RejectsBadConfigs) {
  MachineConfig c;
  c.cpus = 0;
  EXPECT_EQ(Machine::Create(c).status().code(), absl::StatusCode::kInvalidArgument);
  c = MachineConfig{};
  c.cpus = 65;
  EXPECT_EQ(Machine::Create(c).status().code(), absl::StatusCode::kInvalidArgument);
  c = MachineConfig{};
  c.memory_bytes = 4096;
  EXPECT_EQ(Machine::Create(c).status().code(), absl::StatusCode::kInvalidArgument);
  c = MachineConfig{};
  c.tlb = "no-such-cpu";
  auto bad = Machine::Create(c);
  EXPECT_EQ(bad.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(std::string(bad.status().message()).find("skylake"), std::string::npos);
}

TEST(MachineTest, CreateAndDestroyRepeatedly) {
  for (int i = 0; i < 4; ++i) {
    MachineConfig c;
    c.memory_bytes = 16ull << 20;
    c.cpus = 1 + i % 3;
    c.tlb = i % 2 ? "tiny" : "skylake";
    auto m = Boot(c);
    ASSERT_NE(m, nullptr);
    auto pid = m->CreateProcess("p", ProcessCreds{});
    ASSERT_TRUE(pid.ok()) << pid.status();
    SysResult r = m->Mmap(*pid, 0, 8 * 4096, kRw, kAnon);
    ASSERT_EQ(r.err, 0);
    EXPECT_TRUE(m->Store(*pid, r.ret, Bytes(8 * 4096, 1)).ok);
    ASSERT_TRUE(m->CreateThread(*pid, "t").ok());
    ASSERT_TRUE(m->CreateKthread("k").ok());
    EXPECT_EQ(Vm(*m), "");
    // Leave everything alive: the destructor must tear it all down.
  }
}

TEST(MachineTest, TwoMachinesAtOnceStayApart) {
  auto a = Boot();
  auto b = Boot();
  auto pa = a->CreateProcess("a", ProcessCreds{});
  auto pb = b->CreateProcess("b", ProcessCreds{});
  ASSERT_TRUE(pa.ok() && pb.ok());
  EXPECT_EQ(*pa, *pb);  // deterministic: same pid in each
  SysResult ra = a->Mmap(*pa, 0, 4096, kRw, kAnon);
  SysResult rb = b->Mmap(*pb, 0, 4096, kRw, kAnon);
  ASSERT_EQ(ra.ret, rb.ret);
  EXPECT_TRUE(a->Store(*pa, ra.ret, {1, 2, 3}).ok);
  EXPECT_TRUE(b->Store(*pb, rb.ret, {7, 8, 9}).ok);
  EXPECT_EQ(a->Load(*pa, ra.ret, 3).bytes, (std::vector<uint8_t>{1, 2, 3}));
  EXPECT_EQ(b->Load(*pb, rb.ret, 3).bytes, (std::vector<uint8_t>{7, 8, 9}));
}

TEST(MachineTest, ProcessGetsAStackLikeARealOne) {
  auto m = Boot();
  ProcessCreds creds;
  creds.ruid = creds.euid = creds.suid = 1000;
  creds.rgid = creds.egid = creds.sgid = 100;
  creds.caps = 0;
  auto pid = m->CreateProcess("worker-process-long-name", creds);
  ASSERT_TRUE(pid.ok());
  kernel::task_struct* t = m->FindTask(*pid);
  ASSERT_NE(t, nullptr);
  EXPECT_STREQ(t->comm, "worker-process-");  // TASK_COMM_LEN - 1
  EXPECT_EQ(t->real_parent, m->FindTask(1));
  EXPECT_EQ(t->cred->uid, 1000u);
  EXPECT_EQ(t->cred->egid, 100u);
  EXPECT_EQ(t->cred->cap_effective.val, 0u);
  EXPECT_EQ(kernel::get_dumpable(t->mm), kernel::SUID_DUMP_USER);
  kernel::vm_area_struct* vma = m->Inspect(
      [&](const kernel::kernel_state&) { return kernel::vma_lookup(t->mm, Machine::kStackTop - 1); });
  ASSERT_NE(vma, nullptr);
  EXPECT_EQ(vma->vm_start, Machine::kStackTop - Machine::kStackSize);
  EXPECT_EQ(vma->vm_end, Machine::kStackTop);
  EXPECT_TRUE(vma->vm_flags & kernel::VM_GROWSDOWN);
  EXPECT_EQ(t->mm->map_count, 1);
}

TEST(MachineTest, NonDumpableCreds) {
  auto m = Boot();
  ProcessCreds creds;
  creds.dumpable = false;
  auto pid = m->CreateProcess("p", creds);
  ASSERT_TRUE(pid.ok());
  EXPECT_EQ(kernel::get_dumpable(m->FindTask(*pid)->mm), kernel::SUID_DUMP_DISABLE);
  EXPECT_EQ(m->SetDumpable(*pid, true).err, 0);
  EXPECT_EQ(kernel::get_dumpable(m->FindTask(*pid)->mm), kernel::SUID_DUMP_USER);
}

TEST(MachineTest, StoreToUntouchedAnonMemoryDemandFaults) {
  auto m = Boot();
  auto pid = *m->CreateProcess("p", ProcessCreds{});
  SysResult r = m->Mmap(pid, 0, 3 * 4096, kRw, kAnon);
  ASSERT_EQ(r.err, 0);
  const long before = FreePages(*m);
  auto data = Bytes(3 * 4096 - 100, 9);
  UserAccess s = m->Store(pid, r.ret + 50, data);
  EXPECT_TRUE(s.ok);
  EXPECT_EQ(s.signal, 0);
  EXPECT_LT(FreePages(*m), before);  // three pages (and page tables) allocated
  EXPECT_EQ(kernel::get_mm_counter(m->FindTask(pid)->mm, kernel::MM_ANONPAGES), 3u);
  UserAccess l = m->Load(pid, r.ret + 50, data.size());
  EXPECT_TRUE(l.ok);
  EXPECT_EQ(l.bytes, data);
  auto peek = m->PeekUser(pid, r.ret + 50, data.size());
  ASSERT_TRUE(peek.ok());
  EXPECT_EQ(*peek, data);
  EXPECT_EQ(Vm(*m), "");
}

TEST(MachineTest, StoreToReadOnlyPageIsSigsegvWithTheErrorCode) {
  auto m = Boot();
  auto pid = *m->CreateProcess("p", ProcessCreds{});
  SysResult r = m->Mmap(pid, 0, 2 * 4096, kRead, kAnon);
  ASSERT_EQ(r.err, 0);
  // Not present yet: a write fault without the P bit.
  UserAccess s = m->Store(pid, r.ret + 8, {1});
  EXPECT_FALSE(s.ok);
  EXPECT_EQ(s.signal, SIGSEGV);
  EXPECT_EQ(s.fault_addr, static_cast<uint64_t>(r.ret + 8));
  EXPECT_EQ(s.error_code, kernel::X86_PF_USER | kernel::X86_PF_WRITE);
  kernel::task_struct* t = m->FindTask(pid);
  EXPECT_EQ(t->last_signal, SIGSEGV);
  EXPECT_EQ(t->last_si_code, SEGV_ACCERR);
  // After a read maps the zero page, the write is a protection fault.
  EXPECT_TRUE(m->Load(pid, r.ret + 4096, 8).ok);
  s = m->Store(pid, r.ret + 4096 + 3, {1, 2});
  EXPECT_EQ(s.signal, SIGSEGV);
  EXPECT_EQ(s.error_code, kernel::X86_PF_PROT | kernel::X86_PF_WRITE | kernel::X86_PF_USER);
  EXPECT_EQ(s.fault_addr, static_cast<uint64_t>(r.ret + 4096 + 3));
  // The task lives on.
  EXPECT_EQ(t->exit_state, 0);
  EXPECT_TRUE(m->Load(pid, r.ret, 8).ok);
  EXPECT_EQ(Vm(*m), "");
}

TEST(MachineTest, StorePartlyIntoAHoleStopsAtThePage) {
  auto m = Boot();
  auto pid = *m->CreateProcess("p", ProcessCreds{});
  SysResult r = m->Mmap(pid, 0, 2 * 4096, kRw, kAnon);
  ASSERT_EQ(m->Munmap(pid, r.ret + 4096, 4096).err, 0);
  UserAccess s = m->Store(pid, r.ret + 4000, Bytes(200, 1));
  EXPECT_FALSE(s.ok);
  EXPECT_EQ(s.signal, SIGSEGV);
  EXPECT_EQ(s.fault_addr, static_cast<uint64_t>(r.ret + 4096));
  EXPECT_EQ(m->FindTask(pid)->last_si_code, SEGV_MAPERR);
  // The bytes before the hole were stored (rep movs semantics).
  UserAccess l = m->Load(pid, r.ret + 4000, 200);
  EXPECT_FALSE(l.ok);
  EXPECT_EQ(l.bytes.size(), 96u);
  auto expect = Bytes(200, 1);
  expect.resize(96);
  EXPECT_EQ(l.bytes, expect);
}

TEST(MachineTest, StackGrowthAndKernelAndNonCanonicalAddresses) {
  auto m = Boot();
  auto pid = *m->CreateProcess("p", ProcessCreds{});
  EXPECT_TRUE(m->Store(pid, Machine::kStackTop - 16, {1, 2, 3}).ok);
  // Just below the stack: the [stack] VMA grows down to it (expand_stack).
  UserAccess below = m->Store(pid, Machine::kStackTop - Machine::kStackSize - 8, {1});
  EXPECT_TRUE(below.ok);
  // Past RLIMIT_STACK (8 MiB): no growth, SIGSEGV.
  UserAccess far = m->Store(pid, Machine::kStackTop - (9ull << 20), {1});
  EXPECT_EQ(far.signal, SIGSEGV);
  UserAccess kern = m->Load(pid, 0xffff888000000000ull, 8);
  EXPECT_EQ(kern.signal, SIGSEGV);
  EXPECT_TRUE(kern.error_code & kernel::X86_PF_PROT);
  UserAccess noncanon = m->Load(pid, 0x0000800000000000ull, 8);
  EXPECT_EQ(noncanon.signal, SIGSEGV);
  EXPECT_EQ(m->FindTask(pid)->last_si_code, SI_KERNEL);
}

TEST(MachineTest, ExitZombieReapReturnsEveryPage) {
  auto m = Boot();
  const long baseline = FreePages(*m);
  const long slabs = m->slab_allocations();
  auto pid = *m->CreateProcess("p", ProcessCreds{});
  SysResult r = m->Mmap(pid, 0, 64 * 4096, kRw, kAnon);
  ASSERT_TRUE(m->Store(pid, r.ret, Bytes(64 * 4096, 5)).ok);
  ASSERT_TRUE(m->Store(pid, Machine::kStackTop - 100, Bytes(100, 1)).ok);
  EXPECT_LT(FreePages(*m), baseline - 64);
  EXPECT_EQ(Vm(*m), "");

  EXPECT_EQ(m->Exit(pid).err, 0);
  kernel::task_struct* z = m->FindTask(pid);
  ASSERT_NE(z, nullptr);
  EXPECT_EQ(z->exit_state, kernel::EXIT_ZOMBIE);
  // All but the pgd: the idle task now on the CPU borrows the dead mm (lazy TLB, as in
  // Linux) until a user task runs there; the reap below runs init on it.
  EXPECT_EQ(FreePages(*m), baseline - 1);
  EXPECT_EQ(Vm(*m), "");
  EXPECT_EQ(m->Exit(pid).err, ESRCH);        // a zombie makes no syscalls
  EXPECT_FALSE(m->Store(pid, r.ret, {1}).ok);

  SysResult reaped = m->Reap(0, pid);
  EXPECT_EQ(reaped.ret, pid);
  EXPECT_EQ(m->FindTask(pid), nullptr);
  EXPECT_EQ(m->Reap(0, pid).err, ECHILD);
  EXPECT_EQ(FreePages(*m), baseline);
  EXPECT_EQ(m->slab_allocations(), slabs);
  EXPECT_EQ(Vm(*m), "");
}

TEST(MachineTest, ThreadsAndTheZombieLeader) {
  auto m = Boot();
  const long baseline = FreePages(*m);
  auto pid = *m->CreateProcess("p", ProcessCreds{});
  auto tid = m->CreateThread(pid, "worker");
  ASSERT_TRUE(tid.ok());
  EXPECT_STREQ(m->FindTask(*tid)->comm, "worker");
  EXPECT_EQ(m->FindTask(*tid)->mm, m->FindTask(pid)->mm);
  SysResult r = m->Mmap(*tid, 0, 4096, kRw, kAnon);
  ASSERT_TRUE(m->Store(*tid, r.ret, {4, 5, 6}).ok);
  EXPECT_EQ(m->Load(pid, r.ret, 3).bytes, (std::vector<uint8_t>{4, 5, 6}));

  EXPECT_EQ(m->Exit(pid).err, 0);  // only the leader
  EXPECT_EQ(m->FindTask(pid)->exit_state, kernel::EXIT_ZOMBIE);
  EXPECT_EQ(m->FindTask(pid)->mm, nullptr);
  EXPECT_EQ(m->Load(*tid, r.ret, 3).bytes, (std::vector<uint8_t>{4, 5, 6}));
  EXPECT_EQ(m->Reap(0, pid).ret, 0);  // not yet
  EXPECT_EQ(m->Exit(*tid).err, 0);
  EXPECT_EQ(m->FindTask(*tid), nullptr);
  EXPECT_EQ(m->Reap(0, pid).ret, pid);
  EXPECT_EQ(FreePages(*m), baseline);
  EXPECT_EQ(Vm(*m), "");
}

TEST(MachineTest, ExitGroupTakesEveryThread) {
  auto m = Boot();
  const long baseline = FreePages(*m);
  auto pid = *m->CreateProcess("p", ProcessCreds{});
  auto t1 = *m->CreateThread(pid, "t1");
  auto t2 = *m->CreateThread(pid, "t2");
  m->Schedule(t2, 1);
  EXPECT_EQ(m->ExitGroup(t1).err, 0);
  EXPECT_EQ(m->FindTask(t1), nullptr);
  EXPECT_EQ(m->FindTask(t2), nullptr);
  EXPECT_EQ(m->FindTask(pid)->exit_state, kernel::EXIT_ZOMBIE);
  EXPECT_EQ(m->Reap(0, pid).ret, pid);
  // CPU 1's idle task still borrows the mm t2 died in (lazy TLB): its pgd is held until
  // a user task runs on CPU 1.
  EXPECT_EQ(FreePages(*m), baseline - 1);
  EXPECT_EQ(Vm(*m), "");
  m->Schedule(1, 1);
  EXPECT_EQ(FreePages(*m), baseline);
  EXPECT_EQ(Vm(*m), "");
}

TEST(MachineTest, KernelThreads) {
  auto m = Boot();
  auto k = m->CreateKthread("kworker/u4:0");
  ASSERT_TRUE(k.ok());
  kernel::task_struct* t = m->FindTask(*k);
  ASSERT_NE(t, nullptr);
  EXPECT_TRUE(t->flags & kernel::PF_KTHREAD);
  EXPECT_EQ(t->mm, nullptr);
  EXPECT_EQ(m->Mmap(*k, 0, 4096, kRw, kAnon).err, EINVAL);
  EXPECT_FALSE(m->Store(*k, 0x10000, {1}).ok);
  EXPECT_EQ(m->Exit(*k).err, 0);
  EXPECT_EQ(m->FindTask(*k), nullptr);  // reaped by kthreadd at once
}

TEST(MachineTest, InitCannotExit) {
  auto m = Boot();
  EXPECT_EQ(m->Exit(1).err, EPERM);
  EXPECT_EQ(m->ExitGroup(1).err, EPERM);
  EXPECT_EQ(m->Exit(12345).err, ESRCH);
}

TEST(MachineTest, ScheduleMovesTasksBetweenCpus) {
  auto m = Boot();
  auto a = *m->CreateProcess("a", ProcessCreds{});
  auto b = *m->CreateProcess("b", ProcessCreds{});
  m->Schedule(a, 1);
  EXPECT_EQ(m->Current(1), a);
  EXPECT_EQ(m->cpu(1).cr3() & kernel::PTE_PFN_MASK, m->Inspect([&](const kernel::kernel_state&) {
    return kernel::__pa(m->FindTask(a)->mm->pgd);
  }));
  m->Schedule(a, 0);
  EXPECT_EQ(m->Current(0), a);
  EXPECT_EQ(m->Current(1), 0);  // idle
  m->Schedule(b, 0);
  EXPECT_EQ(m->Current(0), b);
  // A syscall runs where the task runs.
  m->Schedule(a, 1);
  SysResult r = m->Mmap(a, 0, 4096, kRw, kAnon);
  EXPECT_EQ(r.err, 0);
  EXPECT_EQ(m->Current(1), a);
  EXPECT_EQ(m->Current(0), b);
  m->Schedule(999, 0);  // unknown: nothing happens
  m->Schedule(a, 7);    // bad CPU: nothing happens
  EXPECT_EQ(m->Current(1), a);
}

TEST(MachineTest, SyscallErrorsFollowLibc) {
  auto m = Boot();
  auto pid = *m->CreateProcess("p", ProcessCreds{});
  EXPECT_EQ(m->Mmap(pid, 0, 4096, kRw, MAP_PRIVATE, 3).err, EBADF);  // no files
  EXPECT_EQ(m->Mmap(pid, 0, 4096, kRw, kAnon, -1, 100).err, EINVAL);
  SysResult bad = m->Mmap(pid, 0, 0, kRw, kAnon);
  EXPECT_EQ(bad.ret, -1);
  EXPECT_EQ(bad.err, EINVAL);
  EXPECT_EQ(m->Mprotect(pid, 1, 4096, kRead).err, EINVAL);
  EXPECT_EQ(m->Fork(4242).err, ESRCH);
  EXPECT_EQ(m->Fork(4242).ret, -1);
  EXPECT_EQ(m->Mmap(4242, 0, 4096, kRw, kAnon).err, ESRCH);
}

TEST(MachineTest, SetResUidMakesTheProcessNonDumpable) {
  auto m = Boot();
  auto root = *m->CreateProcess("root", ProcessCreds{});
  EXPECT_EQ(m->SetResUid(root, 1000, 1000, 1000).err, 0);
  kernel::task_struct* t = m->FindTask(root);
  EXPECT_EQ(t->cred->uid, 1000u);
  EXPECT_EQ(t->cred->cap_permitted.val, 0u);
  EXPECT_EQ(kernel::get_dumpable(t->mm), kernel::SUID_DUMP_DISABLE);
  EXPECT_EQ(m->SetResUid(root, 0, 0, 0).err, EPERM);
  EXPECT_EQ(m->SetResGid(root, 5, 5, 5).err, EPERM);
}

TEST(MachineTest, CapSetOnlyDrops) {
  auto m = Boot();
  auto p = *m->CreateProcess("p", ProcessCreds{});
  const uint64_t fewer = kernel::CAP_FULL_SET.val & ~(1ull << kernel::CAP_SYS_PTRACE);
  EXPECT_EQ(m->CapSet(p, fewer).err, 0);
  EXPECT_EQ(m->FindTask(p)->cred->cap_effective.val, fewer);
  EXPECT_EQ(m->CapSet(p, kernel::CAP_FULL_SET.val).err, EPERM);
}

TEST(MachineTest, PeekUserHasNoSideEffects) {
  auto m = Boot();
  auto pid = *m->CreateProcess("p", ProcessCreds{});
  SysResult r = m->Mmap(pid, 0, 2 * 4096, kRw, kAnon);
  EXPECT_FALSE(m->PeekUser(pid, r.ret, 8).ok());  // never touched: not present
  EXPECT_EQ(kernel::get_mm_counter(m->FindTask(pid)->mm, kernel::MM_ANONPAGES), 0u);
  ASSERT_TRUE(m->Store(pid, r.ret + 4090, Bytes(12, 3)).ok);
  auto peek = m->PeekUser(pid, r.ret + 4090, 12);
  ASSERT_TRUE(peek.ok());
  EXPECT_EQ(*peek, Bytes(12, 3));
  ASSERT_EQ(m->Mprotect(pid, r.ret, 4096, kNone).err, 0);
  EXPECT_EQ(m->PeekUser(pid, r.ret + 4090, 12).status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(m->PeekUser(999, 0, 1).status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(m->PeekUser(2, 0, 1).status().code(), absl::StatusCode::kFailedPrecondition);
}

TEST(MachineTest, ProcessVmReadvAndWritevThroughTheStack) {
  auto m = Boot();
  auto a = *m->CreateProcess("a", ProcessCreds{});
  auto b = *m->CreateProcess("b", ProcessCreds{});
  SysResult la = m->Mmap(a, 0, 4096, kRw, kAnon);
  SysResult rb = m->Mmap(b, 0, 4096, kRw, kAnon);
  ASSERT_TRUE(m->Store(b, rb.ret, Bytes(14, 40)).ok);
  std::vector<Machine::Iovec> local = {{static_cast<uint64_t>(la.ret), 14}};
  std::vector<Machine::Iovec> remote = {{static_cast<uint64_t>(rb.ret), 14}};
  SysResult got = m->ProcessVmReadv(a, b, local, remote);
  EXPECT_EQ(got.err, 0);
  EXPECT_EQ(got.ret, 14);
  EXPECT_EQ(m->Load(a, la.ret, 14).bytes, Bytes(14, 40));

  ASSERT_TRUE(m->Store(a, la.ret, Bytes(14, 90)).ok);
  got = m->ProcessVmWritev(a, b, local, remote);
  EXPECT_EQ(got.ret, 14);
  EXPECT_EQ(m->Load(b, rb.ret, 14).bytes, Bytes(14, 90));
  EXPECT_EQ(m->ProcessVmReadv(a, b, local, remote, 1).err, EINVAL);
  EXPECT_EQ(m->ProcessVmReadv(a, 4321, local, remote).err, ESRCH);
  EXPECT_EQ(m->ProcessVmReadv(a, 2, local, remote).err, ESRCH);  // kthreadd has no mm
  EXPECT_EQ(Vm(*m), "");
}

TEST(MachineTest, ProcessVmPermissionIsEperm) {
  auto m = Boot();
  ProcessCreds user;
  user.ruid = user.euid = user.suid = 1000;
  user.rgid = user.egid = user.sgid = 1000;
  user.caps = 0;
  auto caller = *m->CreateProcess("caller", user);
  auto root = *m->CreateProcess("root", ProcessCreds{});
  SysResult l = m->Mmap(caller, 0, 4096, kRw, kAnon);
  std::vector<Machine::Iovec> local = {{static_cast<uint64_t>(l.ret), 8}};
  std::vector<Machine::Iovec> remote = {{0x10000, 8}};  // invalid too: permission first
  EXPECT_EQ(m->ProcessVmReadv(caller, root, local, remote).err, EPERM);
}

// ReadProcMem is /proc/PID/mem: measured on Linux 6.18 (a forked child's /proc/PID/mem
// read with pread): untouched anonymous memory reads zeros, PROT_NONE memory reads its
// bytes, an address with no VMA gives EIO; a read that runs from a VMA into a hole stops
// at the hole.
TEST(MachineTest, ReadProcMemReadsWhatProcPidMemReads) {
  auto m = Boot();
  auto pid = m->CreateProcess("p", ProcessCreds{});
  ASSERT_TRUE(pid.ok());
  const uint64_t a = 0x7f0000000000;
  ASSERT_EQ(m->Mmap(*pid, a, 3 * 4096, kRw, kAnon | MAP_FIXED).ret, static_cast<long>(a));
  ASSERT_TRUE(m->Store(*pid, a + 4096, {7, 8, 9}).ok);
  ASSERT_EQ(m->Mprotect(*pid, a + 4096, 4096, kNone).ret, 0);
  // Never touched: PeekUser (no side effects) says not present; ReadProcMem reads zeros.
  EXPECT_FALSE(m->PeekUser(*pid, a, 8).ok());
  auto zeros = m->ReadProcMem(*pid, a, 4096);
  ASSERT_TRUE(zeros.ok()) << zeros.status();
  EXPECT_EQ(*zeros, std::vector<uint8_t>(4096, 0));
  auto none = m->ReadProcMem(*pid, a + 4096, 3);
  ASSERT_TRUE(none.ok()) << none.status();
  EXPECT_EQ(*none, (std::vector<uint8_t>{7, 8, 9}));
  auto hole = m->ReadProcMem(*pid, a + 3 * 4096 - 2, 4);
  ASSERT_FALSE(hole.ok());
  EXPECT_TRUE(absl::IsNotFound(hole.status())) << hole.status();
  EXPECT_NE(hole.status().message().find("0x7f0000003000 is not mapped"), std::string::npos)
      << hole.status();
  // A [vvar] page is in a VMA GUP refuses (VM_IO | VM_PFNMAP): EIO, not "not mapped".
  auto vvar = m->MapVvar(*pid);
  ASSERT_GT(vvar.ret, 0);
  auto io = m->ReadProcMem(*pid, static_cast<uint64_t>(vvar.ret), 8);
  ASSERT_FALSE(io.ok());
  EXPECT_TRUE(absl::IsFailedPrecondition(io.status())) << io.status();
  // Just below the stack: the read grows the stack down to it, as access_remote_vm does.
  const uint64_t below = Machine::kStackTop - Machine::kStackSize - 4096;
  auto grown = m->ReadProcMem(*pid, below, 8);
  ASSERT_TRUE(grown.ok()) << grown.status();
  EXPECT_EQ(Vm(*m), "");
}


}  // namespace
}  // namespace sim

namespace sim {
namespace {

// Memory runs out: the OOM killer kills the largest process (not the one faulting), the
// faulting store completes, the victim's next access ends with SIGKILL, and the kernel
// log has Linux's "Out of memory: Killed process" line.
TEST(MachineOomTest, TheLargestProcessIsKilledAndItsNextAccessReportsSigkill) {
  MachineConfig config;
  config.memory_bytes = 4ull << 20;
  config.cpus = 1;
  std::unique_ptr<Machine> m = Boot(config);
  const int big = *m->CreateProcess("big", ProcessCreds{});
  const int small = *m->CreateProcess("small", ProcessCreds{});
  constexpr uint64_t kBase = 0x10000000;
  ASSERT_EQ(m->Mmap(big, kBase, 4 << 20, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS).ret, static_cast<long>(kBase));
  ASSERT_EQ(m->Mmap(small, kBase, 4 << 20, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS).ret, static_cast<long>(kBase));
  const std::vector<uint8_t> big_bytes = Bytes(600 * 4096, 7);
  ASSERT_TRUE(m->Store(big, kBase, big_bytes).ok);
  const std::vector<uint8_t> small_bytes = Bytes(400 * 4096, 11);
  UserAccess s = m->Store(small, kBase, small_bytes);
  ASSERT_TRUE(s.ok) << s.signal;
  EXPECT_EQ(m->vmstat(kernel::OOM_KILL), 1);
  UserAccess b = m->Load(big, kBase, 8);
  EXPECT_FALSE(b.ok);
  EXPECT_EQ(b.signal, SIGKILL);
  UserAccess again = m->Load(small, kBase, small_bytes.size());
  ASSERT_TRUE(again.ok);
  EXPECT_EQ(again.bytes, small_bytes);
  const std::string dmesg = m->Inspect([](const kernel::kernel_state& ks) {
    std::string out;
    for (const std::string& line : ks.printk_log) out += line + "\n";
    return out;
  });
  EXPECT_NE(dmesg.find("Out of memory: Killed process " + std::to_string(big) + " (big) total-vm:"),
            std::string::npos)
      << dmesg;
  EXPECT_NE(dmesg.find("small invoked oom-killer"), std::string::npos) << dmesg;
  EXPECT_EQ(Vm(*m), "");
}

// With swap= the same kind of pressure swaps pages out instead of killing: every byte
// comes back, the swap counters move, and SwapFree/SwapTotal are there for meminfo.
TEST(MachineSwapTest, SwapTakesWhatDoesNotFitAndGivesItBackIntact) {
  MachineConfig config;
  config.memory_bytes = 4ull << 20;
  config.swap_bytes = 8ull << 20;
  config.cpus = 1;
  std::unique_ptr<Machine> m = Boot(config);
  EXPECT_EQ(m->TotalSwapPages(), 2047u);
  EXPECT_EQ(m->NrSwapPages(), 2047u);
  const int p = *m->CreateProcess("p", ProcessCreds{});
  constexpr uint64_t kBase = 0x10000000;
  ASSERT_EQ(m->Mmap(p, kBase, 6 << 20, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS).ret,
            static_cast<long>(kBase));
  const std::vector<uint8_t> bytes = Bytes(1500 * 4096, 13);
  ASSERT_TRUE(m->Store(p, kBase, bytes).ok);
  EXPECT_EQ(m->vmstat(kernel::OOM_KILL), 0);
  EXPECT_GT(m->vmstat(kernel::PSWPOUT), 0);
  EXPECT_LT(m->NrSwapPages(), 2047u);
  UserAccess back = m->Load(p, kBase, bytes.size());
  ASSERT_TRUE(back.ok);
  EXPECT_EQ(back.bytes, bytes);
  EXPECT_GT(m->vmstat(kernel::PSWPIN), 0);
  EXPECT_GT(m->vmstat(kernel::PGMAJFAULT), 0);
  EXPECT_EQ(Vm(*m), "");
  ASSERT_EQ(m->Munmap(p, kBase, 6 << 20).ret, 0);
  EXPECT_EQ(m->NrSwapPages(), 2047u);
  EXPECT_EQ(Vm(*m), "");
}

TEST(MachineSwapTest, BadSwapSizesAreRefused) {
  MachineConfig config;
  config.memory_bytes = 4ull << 20;
  config.swap_bytes = 4096 + 1;
  EXPECT_EQ(Machine::Create(config).status().code(), absl::StatusCode::kInvalidArgument);
  config.swap_bytes = 4096;  // the header alone: swapon refuses it
  EXPECT_EQ(Machine::Create(config).status().code(), absl::StatusCode::kInvalidArgument);
  config.swap_bytes = 0;
  ASSERT_TRUE(Machine::Create(config).ok());
  EXPECT_EQ((*Machine::Create(config))->TotalSwapPages(), 0u);
}

}  // namespace
}  // namespace sim
