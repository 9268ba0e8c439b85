// sim/machine.cc: booting the kernel on simulated hardware and driving it.
#include "sim/machine.h"

#include <algorithm>
#include <climits>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "hw/access.h"
#include "hw/tlb_profile.h"
#include "hw/walker.h"
#include "mm/arch/x86/fault.h"
#include "mm/arch/x86/ptrace.h"
#include "mm/debug_vm.h"
#include "mm/huge_mm.h"
#include "mm/fault_inject.h"
#include "mm/fs.h"
#include "mm/kernel/task.h"
#include "mm/lib/uio.h"
#include "mm/mm.h"
#include "mm/process_vm_access.h"
#include "mm/sched_hooks.h"
#include "mm/smp.h"
#include "mm/swap.h"
#include "sim/sched/scheduler.h"

namespace sim {
namespace {

using kernel::task_struct;

constexpr uint64_t kMinMemoryBytes = 1ull << 20;
constexpr uint64_t kMaxMemoryBytes = 64ull << 30;
// A user access whose fault the kernel keeps resolving without progress (an OOM that
// frees nothing, a fault point armed "always") gives up after this many tries.
constexpr int kMaxUserFaultRetries = 64;
// The user-mode "instruction pointer" reported in the pt_regs of a user access.
constexpr unsigned long kUserIp = 0x401000;
constexpr size_t kMaxIovecsWritten = Machine::kIovecArraySize / 16;

SysResult Errno(int err) { return SysResult{-1, err}; }

// libc passes an int argument in a 64-bit register sign-extended.
unsigned long IntArg(int v) { return static_cast<unsigned long>(static_cast<long>(v)); }

std::string CommOf(absl::string_view comm) {
  return std::string(comm.substr(0, kernel::TASK_COMM_LEN - 1));
}

}  // namespace

Machine::Machine(const MachineConfig& config) : config_(config) {}

// Also for addresses (mmap): -errno sits in the top 4095 values of an unsigned long.
SysResult Machine::FromKernel(long ret) {
  if (ret < 0 && ret >= -static_cast<long>(kernel::MAX_ERRNO))
    return SysResult{-1, static_cast<int>(-ret)};
  return SysResult{ret, 0};
}

absl::StatusOr<std::unique_ptr<Machine>> Machine::Create(const MachineConfig& config) {
  if (config.memory_bytes < kMinMemoryBytes || config.memory_bytes > kMaxMemoryBytes)
    return absl::InvalidArgumentError(
        absl::StrFormat("memory_bytes must be in [%d, %d], got %d", kMinMemoryBytes,
                        kMaxMemoryBytes, config.memory_bytes));
  if (config.cpus < 1 || config.cpus > kernel::NR_CPUS)
    return absl::InvalidArgumentError(
        absl::StrFormat("cpus must be in [1, %d], got %d", kernel::NR_CPUS, config.cpus));
  if (config.swap_bytes > kMaxMemoryBytes || config.swap_bytes % kernel::PAGE_SIZE)
    return absl::InvalidArgumentError(absl::StrFormat(
        "swap_bytes must be in [0, %d] in whole pages, got %d", kMaxMemoryBytes, config.swap_bytes));
  const hw::TlbProfile* profile = hw::FindTlbProfile(config.tlb);
  if (profile == nullptr)
    return absl::InvalidArgumentError(absl::StrCat(
        "unknown TLB profile \"", config.tlb, "\" (expected one of: ",
        absl::StrJoin(hw::TlbProfileNames(), ", "), ")"));

  kernel::thp_enabled_mode thp_mode;
  if (config.thp == "always") {
    thp_mode = kernel::THP_ALWAYS;
  } else if (config.thp == "madvise") {
    thp_mode = kernel::THP_MADVISE;
  } else if (config.thp == "never") {
    thp_mode = kernel::THP_NEVER;
  } else {
    return absl::InvalidArgumentError(
        absl::StrCat("unknown thp mode \"", config.thp, "\" (expected always, madvise or never)"));
  }

  static constexpr struct {
    const char* name;
    kernel::thp_defrag_mode mode;
  } kDefragModes[] = {{"always", kernel::THP_DEFRAG_ALWAYS},
                      {"defer", kernel::THP_DEFRAG_DEFER},
                      {"defer+madvise", kernel::THP_DEFRAG_DEFER_MADVISE},
                      {"madvise", kernel::THP_DEFRAG_MADVISE},
                      {"never", kernel::THP_DEFRAG_NEVER}};
  const auto* defrag = std::find_if(std::begin(kDefragModes), std::end(kDefragModes),
                                    [&](const auto& d) { return config.thp_defrag == d.name; });
  if (defrag == std::end(kDefragModes))
    return absl::InvalidArgumentError(absl::StrCat(
        "unknown thp_defrag mode \"", config.thp_defrag,
        "\" (expected always, defer, defer+madvise, madvise or never)"));

  std::unique_ptr<Machine> m(new Machine(config));
  kernel::machine_parts parts;
  const int ret = kernel::power_on_and_boot(config.memory_bytes, config.cpus, *profile, &parts,
                                            kernel::cpu_caps{.pku = config.pku, .gbpages = config.gbpages});
  if (parts.phys == nullptr)
    return absl::ResourceExhaustedError(absl::StrFormat(
        "the host cannot reserve %d bytes of simulated memory: mmap: %s", config.memory_bytes,
        std::strerror(parts.phys_errno)));
  m->phys_ = std::move(parts.phys);
  m->cpus_ = std::move(parts.cpus);
  m->ks_ = std::move(parts.ks);
  if (ret == 0) m->Enter(nullptr, -1, [&] { kernel::fault_inject_seed(config.seed); });
  if (ret == 0) {
    kernel::set_transparent_hugepage_enabled(m->ks_.get(), thp_mode);
    kernel::set_transparent_hugepage_defrag(m->ks_.get(), defrag->mode);
    kernel::set_transparent_hugepage_use_zero_page(m->ks_.get(), config.thp_use_zero_page);
  }
  int swap_ret = 0;
  if (ret == 0 && config.swap_bytes > 0)
    m->Enter(nullptr, -1, [&] { swap_ret = kernel::swapon_simulated(config.swap_bytes); });
  // The kernel threads boot started (kswapd0) run until they first sleep, so that every
  // machine starts with its daemons asleep and its CPUs idle.
  if (ret == 0) {
    m->Enter(nullptr, -1, [&] {
      if (m->ks_->kthread_wakeups_pending) m->RunDaemons();
    });
  }
  m->booted_ = true;  // even a failed boot is shut down by the destructor
  if (ret != 0 && m->ks_->host_failure != nullptr)
    return absl::ResourceExhaustedError(absl::StrFormat(
        "the host cannot reserve %d bytes for %s (%d MiB of simulated memory): mmap: %s",
        static_cast<uint64_t>(m->phys_->num_frames()) * sizeof(kernel::page), m->ks_->host_failure,
        config.memory_bytes >> 20, std::strerror(m->ks_->host_errno)));
  if (ret != 0)
    return absl::InternalError(absl::StrFormat("start_kernel failed: errno %d", -ret));
  if (swap_ret == -ENOMEM)
    return absl::ResourceExhaustedError(absl::StrFormat(
        "the host cannot reserve the swap map of %d bytes of swap", config.swap_bytes));
  if (swap_ret != 0)
    return absl::InvalidArgumentError(absl::StrFormat(
        "swapon of %d bytes failed: errno %d (swap must be 0 or at least 2 pages)",
        config.swap_bytes, -swap_ret));
  return m;
}

unsigned long Machine::NrSwapPages() {
  return Inspect([](const kernel::kernel_state& ks) { return ks.nr_swap_pages; });
}

unsigned long Machine::TotalSwapPages() {
  return Inspect([](const kernel::kernel_state& ks) { return ks.total_swap_pages; });
}

Machine::~Machine() {
  if (booted_ && wedged_) {
    // A deadlock left locks held and paths half done: an orderly shutdown would wait on
    // them forever. The simulated memory goes; the kernel's objects (tasks, address
    // spaces, the stuck paths' frames) are kept, reachable, until the program ends.
    Enter(nullptr, -1, [&] { kernel::mm_core_shutdown(ks_.get()); });
    Graveyard().kernels.push_back(std::move(ks_));
    return;
  }
  if (booted_) {
    Enter(nullptr, -1, [&] {
      // kthread_stop every kernel thread that still runs its body, and let each return.
      if (sched_ != nullptr && sched_->DaemonsLive()) {
        for (const auto& [nr, t] : ks_->pid_table)
          if (t->threadfn != nullptr && t->exit_state == 0) kernel::kthread_stop_request(t);
        RunDaemons();
      }
      // close(2) every descriptor; a file still mapped lives on until its last mapping
      // goes with its process at shutdown.
      for (auto& [fd, f] : files_) kernel::fput(f);
      files_.clear();
      kernel::kernel_shutdown(ks_.get());
    });
  }
}

Machine::Wedged& Machine::Graveyard() {
  static Wedged* graveyard = new Wedged;  // never destroyed: what it holds stays reachable
  return *graveyard;
}

task_struct* Machine::TaskOf(int pid) const {
  if (pid <= 0) return nullptr;  // find_task_by_vpid
  auto it = ks_->pid_table.find(pid);
  return it == ks_->pid_table.end() ? nullptr : it->second;
}

task_struct* Machine::FindTask(int pid) { return TaskOf(pid); }

task_struct* Machine::LiveTask(int pid) const {
  task_struct* t = TaskOf(pid);
  if (t == nullptr || t->exit_state != 0 || (t->flags & kernel::PF_EXITING)) return nullptr;
  return t;
}

void Machine::LeaveCpu(task_struct* t) {
  // Migration: the CPU it leaves runs its idle task.
  ks_->this_cpu = t->on_cpu;
  kernel::context_switch(kernel::idle_task(t->on_cpu));
}

void Machine::SchedNoteSwitch(task_struct* t, int cpu) { active_sched_->NoteSwitch(t, cpu); }

Scheduler& Machine::Sched() {
  if (sched_ == nullptr) {
    sched_ = std::make_unique<Scheduler>(
        ks_.get(), [this](task_struct* t, int cpu) { SwitchTo(t, cpu); }, nullptr);
  }
  return *sched_;
}

void Machine::RunDaemons() {
  ks_->kthread_wakeups_pending = false;
  Scheduler& s = Sched();
  s.SyncDaemons();
  DefaultPolicy policy;
  active_sched_ = &s;
  const bool ok = s.Run({}, &policy);
  active_sched_ = nullptr;
  if (!ok) {
    std::fprintf(stderr, "sim::Machine: kernel threads deadlocked:\n%s", s.deadlock_report().c_str());
    std::abort();
  }
  // Each daemon now sleeps (or has returned): schedule() finds nothing else to run on its
  // CPU, which goes idle.
  const int saved_cpu = ks_->this_cpu;
  for (int cpu = 0; cpu < num_cpus(); ++cpu) {
    task_struct* cur = ks_->current_task[cpu];
    if (cur != nullptr && cur->threadfn != nullptr) SwitchTo(kernel::idle_task(cpu), cpu);
  }
  ks_->this_cpu = saved_cpu;
}

bool* Machine::SchedInPath() { return active_sched_->InPathFlag(); }
void Machine::SchedBegin(task_struct* t, int cpu) { active_sched_->BeginKernelPath(t, cpu); }
void Machine::SchedEnd(Scheduler* sched) { sched->EndKernelPath(); }

absl::StatusOr<Machine::TogetherResult> Machine::Together(
    absl::Span<const std::function<void()>> calls, SchedulePolicy* policy) {
  if (active_sched_ != nullptr || in_path_)
    return absl::FailedPreconditionError("Together: already inside a path of this machine");
  if (wedged_) return absl::FailedPreconditionError("Together: the machine is wedged by a deadlock");
  DefaultPolicy default_policy;
  RecordingPolicy recorder(policy != nullptr ? policy : &default_policy);
  TogetherResult result;
  std::function<void()> check;
  if (check_every_switch_) {
    check = [this, &result] {
      if (!result.check_report.empty()) return;
      kernel::debug_vm_options opts;
      opts.expect_no_pins = false;
      opts.check_tlb = false;
      opts.quiescent = false;
      std::string report;
      if (kernel::debug_vm_check(ks_.get(), &report, opts) > 0) result.check_report = report;
    };
  }
  kernel::kernel_state_scope scope(ks_.get());
  Scheduler& s = Sched();
  s.set_on_switch(std::move(check));
  s.SyncDaemons();
  ks_->kthread_wakeups_pending = false;  // the daemons are paths of this run
  active_sched_ = &s;
  const bool finished =
      s.Run(std::vector<std::function<void()>>(calls.begin(), calls.end()), &recorder);
  active_sched_ = nullptr;
  s.set_on_switch(nullptr);
  if (!finished) {
    result.deadlock = true;
    result.deadlock_report = s.deadlock_report();
    wedged_ = true;
    // The stuck paths never resume: their stacks and what they point to are kept.
    s.AbandonStuckPaths();
    Graveyard().schedulers.push_back(std::move(sched_));
  }
  result.schedule_id = recorder.id().ToString();
  result.steps = recorder.steps();
  result.preemptions = recorder.preemptions();
  return result;
}

void Machine::NestedPath() {
  std::fprintf(stderr,
               "sim::Machine: a function running in the kernel as a task called back into its "
               "own Machine as a task (only Inspect and file calls may nest)\n");
  std::abort();
}

void Machine::Schedule(int pid, int cpu) {
  task_struct* t = LiveTask(pid);
  if (t == nullptr || cpu < 0 || cpu >= num_cpus() || t->on_cpu == cpu) return;
  Enter(t, cpu, [] {});
}

int Machine::Current(int cpu) {
  if (cpu < 0 || cpu >= num_cpus()) return -1;
  task_struct* t = ks_->current_task[cpu];
  return t == nullptr ? -1 : t->pid;
}

absl::StatusOr<int> Machine::CreateProcess(absl::string_view comm, const ProcessCreds& creds) {
  task_struct* init = ks_->child_reaper;
  if (init == nullptr) return absl::FailedPreconditionError("no init process");
  // init spawns it (call_usermodehelper_lite: clone, then exec with the credentials).
  const kernel::pid_t pid = Enter(init, -1, [&] {
    return kernel::call_usermodehelper_lite(CommOf(comm).c_str(), &creds, kStackTop, kStackSize);
  });
  if (pid < 0)
    return absl::ResourceExhaustedError(absl::StrFormat("spawn failed: errno %d", -pid));
  return pid;
}

absl::StatusOr<int> Machine::CreateThread(int pid, absl::string_view comm) {
  task_struct* t = LiveTask(pid);
  if (t == nullptr) return absl::NotFoundError(absl::StrFormat("no live task %d", pid));
  if (t->mm == nullptr)
    return absl::FailedPreconditionError(absl::StrFormat("task %d has no address space", pid));
  kernel::kernel_clone_args args{};
  args.flags = CLONE_VM | CLONE_FS | CLONE_FILES | CLONE_SIGHAND | CLONE_THREAD | CLONE_SYSVSEM;
  args.exit_signal = 0;
  const std::string name = CommOf(comm);
  args.name = name.c_str();
  const kernel::pid_t tid = Enter(t, -1, [&] { return kernel::kernel_clone(&args); });
  if (tid < 0)
    return absl::ResourceExhaustedError(absl::StrFormat("clone failed: errno %d", -tid));
  return tid;
}

absl::StatusOr<int> Machine::CreateKthread(absl::string_view comm) {
  task_struct* kthreadd = LiveTask(2);
  if (kthreadd == nullptr || !(kthreadd->flags & kernel::PF_KTHREAD))
    return absl::FailedPreconditionError("no kthreadd");
  const std::string name = CommOf(comm);
  const kernel::pid_t pid = Enter(kthreadd, -1, [&] {
    return kernel::kernel_thread(nullptr, nullptr, name.c_str(), CLONE_FS | CLONE_FILES | SIGCHLD);
  });
  if (pid < 0)
    return absl::ResourceExhaustedError(absl::StrFormat("kernel_thread failed: errno %d", -pid));
  return pid;
}

SysResult Machine::Mmap(int pid, uint64_t addr, uint64_t len, int prot, int flags, int fd,
                        uint64_t off) {
  return Syscall(pid, [&]() -> long {
    // arch/x86/kernel/sys_x86_64.c: sys_mmap, then ksys_mmap_pgoff.
    if (off & ~kernel::PAGE_MASK) return -EINVAL;
    const unsigned long uflags = IntArg(flags);
    kernel::file* file = nullptr;
    if (!(uflags & MAP_ANONYMOUS)) {
      auto it = files_.find(fd);  // fget(fd)
      if (it == files_.end()) return -EBADF;
      file = kernel::get_file(it->second);
    }
    const unsigned long ret = kernel::ksys_mmap_pgoff(file, addr, len, IntArg(prot), uflags,
                                                      off >> kernel::PAGE_SHIFT);
    if (file != nullptr) kernel::fput(file);
    return static_cast<long>(ret);  // an address, or -errno in the top 4095 values
  });
}

SysResult Machine::MapVvar(int pid, uint64_t addr) {
  return Syscall(pid, [&] { return static_cast<long>(kernel::map_vvar(addr)); });
}

absl::StatusOr<int> Machine::CreateFile(absl::string_view name, uint64_t size,
                                        absl::Span<const uint8_t> data, bool readonly) {
  if (data.size() > size)
    return absl::InvalidArgumentError(absl::StrFormat(
        "file data (%d bytes) is longer than the file (size=%d)", data.size(), size));
  if (size > (uint64_t{1} << 46))
    return absl::InvalidArgumentError(absl::StrFormat("file size %#x is too large", size));
  const std::string n(name);
  // Files belong to no task: the body runs as whatever is current.
  return Enter(nullptr, -1, [&]() -> absl::StatusOr<int> {
    kernel::inode* inode = kernel::simfs_create(n.c_str(), static_cast<kernel::loff_t>(size),
                                                data.data(), data.size());
    if (kernel::IS_ERR(inode))
      return absl::ResourceExhaustedError(
          absl::StrFormat("creating file %s failed: errno %d", n, -kernel::PTR_ERR(inode)));
    // open(2): O_RDONLY or O_RDWR.
    const kernel::fmode_t mode = kernel::FMODE_READ | (readonly ? 0 : kernel::FMODE_WRITE);
    kernel::file* f = kernel::alloc_file(inode, mode, &kernel::simfs_file_operations);
    if (kernel::IS_ERR(f)) {
      kernel::iput(inode);
      return absl::ResourceExhaustedError(absl::StrFormat("opening file %s failed", n));
    }
    const int fd = next_fd_++;
    files_.emplace(fd, f);
    return fd;
  });
}

kernel::file* Machine::FileOf(int fd) {
  auto it = files_.find(fd);
  return it == files_.end() ? nullptr : it->second;
}

SysResult Machine::Truncate(int fd, uint64_t size) {
  kernel::file* f = FileOf(fd);
  if (f == nullptr) return Errno(EBADF);
  return FromKernel(Enter(nullptr, -1, [&] {
    return kernel::do_ftruncate(f, static_cast<kernel::loff_t>(size));
  }));
}

SysResult Machine::WriteFile(int fd, uint64_t offset, absl::Span<const uint8_t> data) {
  kernel::file* f = FileOf(fd);
  if (f == nullptr) return Errno(EBADF);
  kernel::loff_t pos = static_cast<kernel::loff_t>(offset);
  return FromKernel(Enter(nullptr, -1, [&] {
    return static_cast<long>(kernel::kernel_write(f, data.data(), data.size(), &pos));
  }));
}

SysResult Machine::SyncFile(int fd) {
  kernel::file* f = FileOf(fd);
  if (f == nullptr) return Errno(EBADF);
  return FromKernel(Enter(nullptr, -1, [&] { return kernel::vfs_fsync(f, 0); }));
}

absl::StatusOr<std::vector<uint8_t>> Machine::ReadFile(int fd) {
  kernel::file* f = FileOf(fd);
  if (f == nullptr) return absl::NotFoundError(absl::StrFormat("no file descriptor %d", fd));
  // Read without the accessed-marking of read(2): a check must not change what it checks.
  return Inspect([&](const kernel::kernel_state&) {
    const kernel::loff_t size = kernel::i_size_read(kernel::file_inode(f));
    std::vector<uint8_t> out(static_cast<size_t>(size));
    kernel::inode* inode = kernel::file_inode(f);
    for (size_t done = 0; done < out.size();) {
      const kernel::pgoff_t index = done >> kernel::PAGE_SHIFT;
      const size_t n = std::min<size_t>(out.size() - done, kernel::PAGE_SIZE);
      auto cached = f->f_mapping->i_pages.find(index);
      if (cached != f->f_mapping->i_pages.end()) {
        std::memcpy(&out[done], kernel::folio_address(cached->second), n);
      } else {
        auto block = inode->i_disk.find(index);
        if (block != inode->i_disk.end()) std::memcpy(&out[done], block->second.data(), n);
      }
      done += n;
    }
    return out;
  });
}

SysResult Machine::Munmap(int pid, uint64_t addr, uint64_t len) {
  return Syscall(pid, [&] { return static_cast<long>(kernel::vm_munmap(addr, len)); });
}

SysResult Machine::Mprotect(int pid, uint64_t addr, uint64_t len, int prot) {
  return Syscall(pid, [&] {
    return static_cast<long>(kernel::do_mprotect_pkey(addr, len, IntArg(prot), -1));
  });
}

SysResult Machine::Madvise(int pid, uint64_t addr, uint64_t len, int advice) {
  return Syscall(pid, [&] { return static_cast<long>(kernel::do_madvise(addr, len, advice)); });
}

SysResult Machine::Mlock(int pid, uint64_t addr, uint64_t len, int flags) {
  return Syscall(pid, [&] {
    return static_cast<long>(flags == 0 ? kernel::sys_mlock(addr, len)
                                        : kernel::sys_mlock2(addr, len, flags));
  });
}

SysResult Machine::Munlock(int pid, uint64_t addr, uint64_t len) {
  return Syscall(pid, [&] { return static_cast<long>(kernel::sys_munlock(addr, len)); });
}

SysResult Machine::Mlockall(int pid, int flags) {
  return Syscall(pid, [&] { return static_cast<long>(kernel::sys_mlockall(flags)); });
}

SysResult Machine::Munlockall(int pid) {
  return Syscall(pid, [&] { return static_cast<long>(kernel::sys_munlockall()); });
}

SysResult Machine::Setrlimit(int pid, int resource, uint64_t cur, uint64_t max) {
  return Syscall(pid, [&] {
    struct rlimit lim = {cur, max};
    return static_cast<long>(
        kernel::do_prlimit(kernel::current(), static_cast<unsigned int>(resource), &lim, nullptr));
  });
}

SysResult Machine::ProcessVmRaw(int pid, int target, uint64_t lvec, uint64_t liovcnt,
                                uint64_t rvec, uint64_t riovcnt, uint64_t flags, bool write) {
  const auto* l = reinterpret_cast<const kernel::iovec __user*>(static_cast<uintptr_t>(lvec));
  const auto* r = reinterpret_cast<const kernel::iovec __user*>(static_cast<uintptr_t>(rvec));
  return Syscall(pid, [&]() -> long {
    return write ? kernel::sys_process_vm_writev(target, l, liovcnt, r, riovcnt, flags)
                 : kernel::sys_process_vm_readv(target, l, liovcnt, r, riovcnt, flags);
  });
}

SysResult Machine::ProcessVmReadv(int pid, int target, uint64_t lvec, uint64_t liovcnt,
                                  uint64_t rvec, uint64_t riovcnt, uint64_t flags) {
  return ProcessVmRaw(pid, target, lvec, liovcnt, rvec, riovcnt, flags, /*write=*/false);
}

SysResult Machine::ProcessVmWritev(int pid, int target, uint64_t lvec, uint64_t liovcnt,
                                   uint64_t rvec, uint64_t riovcnt, uint64_t flags) {
  return ProcessVmRaw(pid, target, lvec, liovcnt, rvec, riovcnt, flags, /*write=*/true);
}

SysResult Machine::ProcessVmIovec(int pid, int target, absl::Span<const Iovec> local,
                                  absl::Span<const Iovec> remote, uint64_t flags, bool write) {
  // Lay the arrays out as user space would: struct iovec {void* base; size_t len;}.
  auto serialize = [](absl::Span<const Iovec> v) {
    std::vector<uint8_t> out(std::min(v.size(), kMaxIovecsWritten) * 16);
    for (size_t i = 0; i * 16 < out.size(); ++i) {
      std::memcpy(&out[i * 16], &v[i].base, 8);
      std::memcpy(&out[i * 16 + 8], &v[i].len, 8);
    }
    return out;
  };
  const std::vector<uint8_t> lbytes = serialize(local);
  const std::vector<uint8_t> rbytes = serialize(remote);
  if (!IovecArea(pid).ok()) return Errno(LiveTask(pid) == nullptr ? ESRCH : EFAULT);
  const uint64_t lvec = kIovecBase;
  const uint64_t rvec = kIovecBase + lbytes.size();
  if (!lbytes.empty() && !Store(pid, lvec, lbytes).ok) return Errno(EFAULT);
  if (!rbytes.empty() && !Store(pid, rvec, rbytes).ok) return Errno(EFAULT);
  return ProcessVmRaw(pid, target, lvec, local.size(), rvec, remote.size(), flags, write);
}

absl::StatusOr<uint64_t> Machine::IovecArea(int pid) {
  task_struct* t = LiveTask(pid);
  if (t == nullptr || t->mm == nullptr)
    return absl::NotFoundError(absl::StrFormat("no live task %d with an address space", pid));
  const uint64_t end = kIovecBase + kIovecAreaSize;
  // Already there (mapped before, or inherited through fork): one private anonymous rw-
  // VMA covering exactly the area.
  const int state = Inspect([&](const kernel::kernel_state&) {
    kernel::vm_area_struct* v = kernel::find_vma_intersection(t->mm, kIovecBase, end);
    if (v == nullptr) return 0;
    const bool ours = v->vm_start <= kIovecBase && v->vm_end >= end &&
                      kernel::vma_is_anonymous(v) && !(v->vm_flags & kernel::VM_SHARED) &&
                      (v->vm_flags & (kernel::VM_READ | kernel::VM_WRITE)) ==
                          (kernel::VM_READ | kernel::VM_WRITE);
    return ours ? 1 : 2;
  });
  if (state == 1) return kIovecBase;
  if (state == 2)
    return absl::FailedPreconditionError(absl::StrFormat(
        "the iovec area %#x-%#x of task %d overlaps a mapping of its own", kIovecBase, end, pid));
  SysResult r = Mmap(pid, kIovecBase, kIovecAreaSize, PROT_READ | PROT_WRITE,
                     MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE);
  if (r.ret != static_cast<long>(kIovecBase))
    return absl::FailedPreconditionError(absl::StrFormat(
        "cannot map the iovec area %#x-%#x in task %d: errno %d", kIovecBase, end, pid, r.err));
  return kIovecBase;
}

SysResult Machine::ProcessVmReadv(int pid, int target, absl::Span<const Iovec> local,
                                  absl::Span<const Iovec> remote, uint64_t flags) {
  return ProcessVmIovec(pid, target, local, remote, flags, /*write=*/false);
}

SysResult Machine::ProcessVmWritev(int pid, int target, absl::Span<const Iovec> local,
                                   absl::Span<const Iovec> remote, uint64_t flags) {
  return ProcessVmIovec(pid, target, local, remote, flags, /*write=*/true);
}

SysResult Machine::Exit(int pid) {
  task_struct* t = LiveTask(pid);
  if (t == nullptr) return Errno(ESRCH);
  if (t == ks_->child_reaper) return Errno(EPERM);  // Linux would panic
  Enter(t, -1, [] { kernel::do_exit(0); });
  return SysResult{0, 0};
}

SysResult Machine::ExitGroup(int pid) {
  task_struct* t = LiveTask(pid);
  if (t == nullptr) return Errno(ESRCH);
  if (ks_->child_reaper != nullptr && t->tgid == ks_->child_reaper->tgid) return Errno(EPERM);
  const kernel::pid_t tgid = t->tgid;
  Enter(t, -1, [&] { GroupExit(tgid, 0); });
  return SysResult{0, 0};
}

SysResult Machine::Reap(int parent_pid_or_0, int pid) {
  task_struct* parent;
  if (parent_pid_or_0 == 0) {
    task_struct* t = TaskOf(pid);
    if (t == nullptr) return Errno(ECHILD);
    parent = t->real_parent;
    if (parent == nullptr || kernel::is_idle_task(parent)) return Errno(ECHILD);
  } else {
    parent = LiveTask(parent_pid_or_0);
    if (parent == nullptr) return Errno(ESRCH);
  }
  return FromKernel(Enter(parent, -1, [&] {
    return static_cast<long>(kernel::kernel_wait4(pid, nullptr, WNOHANG));
  }));
}

// The credential calls: any live task, kernel threads included.
SysResult Machine::SetResUid(int pid, uint32_t r, uint32_t e, uint32_t s) {
  task_struct* t = LiveTask(pid);
  if (t == nullptr) return Errno(ESRCH);
  return FromKernel(
      Enter(t, -1, [&] { return static_cast<long>(kernel::__sys_setresuid(r, e, s)); }));
}

SysResult Machine::SetResGid(int pid, uint32_t r, uint32_t e, uint32_t s) {
  task_struct* t = LiveTask(pid);
  if (t == nullptr) return Errno(ESRCH);
  return FromKernel(
      Enter(t, -1, [&] { return static_cast<long>(kernel::__sys_setresgid(r, e, s)); }));
}

SysResult Machine::CapSet(int pid, uint64_t caps) {
  task_struct* t = LiveTask(pid);
  if (t == nullptr) return Errno(ESRCH);
  return FromKernel(Enter(t, -1, [&] {
    const kernel::kernel_cap_t set{caps};
    const kernel::kernel_cap_t inheritable{kernel::current_cred()->cap_inheritable.val & caps};
    return static_cast<long>(kernel::sys_capset_lite(set, inheritable, set));
  }));
}

SysResult Machine::SetDumpable(int pid, bool dumpable) {
  task_struct* t = LiveTask(pid);
  if (t == nullptr) return Errno(ESRCH);
  return FromKernel(Enter(t, -1, [&] {
    return static_cast<long>(kernel::prctl_set_dumpable(dumpable ? 1 : 0));
  }));
}

SysResult Machine::Fork(int pid) {
  return Syscall(pid, [] {
    // kernel/fork.c: SYSCALL_DEFINE0(fork): clone with SIGCHLD and nothing shared.
    kernel::kernel_clone_args args{};
    args.flags = 0;
    args.exit_signal = SIGCHLD;
    return static_cast<long>(kernel::kernel_clone(&args));
  });
}

UserAccess Machine::UserCopy(int pid, uint64_t addr, uint8_t* buf, uint64_t len, bool store,
                             uint64_t* done_out) {
  UserAccess result{false, 0, addr, {}};
  *done_out = 0;
  if (wedged_) return result;
  task_struct* t = LiveTask(pid);
  if (t == nullptr || t->mm == nullptr) {
    result.err = ESRCH;  // exited or killed: like its syscalls (docs/semantics.md §15)
    return result;
  }
  // Runs as pid on its CPU: user mode (CPL 3) between traps, CPL 0 in the handlers.
  return Enter(t, -1, [&] { return UserLoop(t, addr, buf, len, store, done_out); });
}

UserAccess Machine::UserLoop(task_struct* t, uint64_t addr, uint8_t* buf, uint64_t len,
                             bool store, uint64_t* done_out) {
  UserAccess result{false, 0, addr, {}};
  hw::Cpu* c = kernel::this_cpu_hw();
  t->last_signal = 0;  // the record is about this access
  uint64_t done = 0;
  int stuck = 0;
  c->SetCpl(3);
  // A task with SIGKILL pending (an OOM victim) dies on its way back to user mode: the
  // access does not run.
  if (kernel::fatal_signal_pending(t)) {
    c->SetCpl(0);
    *done_out = 0;
    result.signal = SIGKILL;
    return result;
  }
  while (done < len) {
    const uint64_t va = addr + done;
    kernel::sched_point(kernel::SCHED_POINT_USER, t, "user_access");
    const uint64_t chunk = std::min(len - done, hw::kPageSize - (va & ~hw::kPageMask));
    hw::Cpu::CopyResult r = store ? c->CopyToLinear(hw::VirtAddr(va), buf + done, chunk)
                                  : c->CopyFromLinear(buf + done, hw::VirtAddr(va), chunk);
    done += r.done;
    if (r.done > 0) stuck = 0;
    if (r.fault.ok()) continue;
    // The trap: into the kernel at CPL 0 (idtentry), back to user mode after.
    kernel::user_exception_entry(r.fault, kUserIp, kStackTop - 8);
    // The return to user mode (exit_to_user_mode_loop) reschedules when the fault woke a
    // kernel thread (kswapd below the low watermark): it runs until it sleeps again, then
    // this task gets its CPU back. Under Together the daemons are paths of the run instead.
    if (ks_->kthread_wakeups_pending && active_sched_ == nullptr) {
      RunDaemons();
      SwitchTo(t);
      c = kernel::this_cpu_hw();
      c->SetCpl(3);
    }
    // Killed meanwhile (the OOM killer chose this task): the return to user mode is its end.
    if (kernel::fatal_signal_pending(t) && t->last_signal == 0) {
      t->last_signal = SIGKILL;
      t->last_signal_addr = va;
    }
    if (t->last_signal != 0) {
      result.signal = t->last_signal;
      result.fault_addr = t->last_signal_addr;
      result.error_code = t->thread.error_code;
      break;
    }
    if (++stuck > kMaxUserFaultRetries) {
      result.fault_addr = va;  // where the access stopped making progress
      break;
    }
  }
  c->SetCpl(0);
  *done_out = done;
  result.ok = done == len;
  if (result.ok) result.fault_addr = 0;
  if (result.signal == SIGKILL) {
    // A fatal signal (the OOM kill, mm/arch/x86/fault.cc): on the way back to user mode the
    // task dies (get_signal -> do_group_exit(SIGKILL)); its threads follow, in tid order, as
    // for ExitGroup.
    GroupExit(t->tgid, SIGKILL);
  }
  return result;
}

void Machine::GroupExit(kernel::pid_t tgid, int code) {
  kernel::do_group_exit(code);
  // The other threads got SIGKILL; each exits when it next runs, in tid order here.
  for (;;) {
    task_struct* next = nullptr;
    for (const auto& [nr, task] : ks_->pid_table) {
      if (task->tgid == tgid && !(task->flags & kernel::PF_EXITING)) {
        next = task;
        break;
      }
    }
    if (next == nullptr) break;
    SwitchTo(next);
    kernel::do_group_exit(code);
  }
}

UserAccess Machine::Store(int pid, uint64_t addr, absl::Span<const uint8_t> bytes) {
  // A store only reads the buffer (no host copy of it: a 1 GiB store must not cost 2).
  uint64_t done;
  return UserCopy(pid, addr, const_cast<uint8_t*>(bytes.data()), bytes.size(), /*store=*/true,
                  &done);
}

UserAccess Machine::Load(int pid, uint64_t addr, uint64_t len) {
  std::vector<uint8_t> buf(len);
  uint64_t done;
  UserAccess result = UserCopy(pid, addr, buf.data(), len, /*store=*/false, &done);
  buf.resize(done);  // on a fault: the bytes read before it
  result.bytes = std::move(buf);
  return result;
}

absl::StatusOr<std::vector<uint8_t>> Machine::PeekUser(int pid, uint64_t addr, uint64_t len) {
  task_struct* t = TaskOf(pid);
  if (t == nullptr) return absl::NotFoundError(absl::StrFormat("no task %d", pid));
  if (t->mm == nullptr)
    return absl::FailedPreconditionError(absl::StrFormat("task %d has no address space", pid));
  hw::PagingMode mode;
  mode.user = true;
  mode.nxe = true;
  mode.maxphyaddr = phys_->maxphyaddr();
  const uint64_t cr3 =
      Inspect([&](const kernel::kernel_state&) { return kernel::__pa(t->mm->pgd); });
  std::vector<uint8_t> out(len);
  uint64_t done = 0;
  while (done < len) {
    const uint64_t va = addr + done;
    const uint64_t chunk = std::min(len - done, hw::kPageSize - (va & ~hw::kPageMask));
    hw::WalkResult w = hw::PeekWalk(*phys_, cr3, hw::VirtAddr(va), hw::AccessType::kRead, mode);
    if (!w.ok())
      return absl::NotFoundError(
          absl::StrFormat("address %#x is not mapped in task %d", va, pid));
    if (!phys_->Read(w.PhysFor(hw::VirtAddr(va)), out.data() + done, chunk))
      return absl::InternalError(absl::StrFormat("address %#x maps outside memory", va));
    done += chunk;
  }
  return out;
}

absl::StatusOr<std::vector<uint8_t>> Machine::ReadProcMem(int pid, uint64_t addr, uint64_t len) {
  task_struct* t = LiveTask(pid);
  if (t == nullptr) return absl::NotFoundError(absl::StrFormat("no live task %d", pid));
  if (t->mm == nullptr)
    return absl::FailedPreconditionError(absl::StrFormat("task %d has no address space", pid));
  // Grown chunk by chunk, so a read that stops early never holds len bytes.
  std::vector<uint8_t> out;
  // fs/proc/base.c mem_rw: one page-sized chunk at a time through access_remote_vm with
  // FOLL_FORCE; a chunk that transfers nothing ends the read (EIO if it was the first).
  uint64_t done = 0;
  bool has_vma = true;
  Enter(t, -1, [&] {
    kernel::mm_struct* mm = t->mm;
    while (done < len) {
      const int chunk = static_cast<int>(std::min<uint64_t>(len - done, hw::kPageSize));
      out.resize(done + static_cast<uint64_t>(chunk));
      const int n = kernel::access_remote_vm(mm, addr + done, out.data() + done, chunk,
                                             kernel::FOLL_FORCE);
      done += static_cast<uint64_t>(n);
      if (n == 0) break;
    }
    if (done < len) {
      kernel::mmap_read_lock(mm);
      has_vma = kernel::vma_lookup(mm, addr + done) != nullptr;
      kernel::mmap_read_unlock(mm);
    }
  });
  if (done == len) return out;
  const uint64_t at = addr + done;
  if (!has_vma)
    return absl::NotFoundError(absl::StrFormat("address %#x is not mapped in task %d", at, pid));
  return absl::FailedPreconditionError(absl::StrFormat(
      "address %#x of task %d cannot be read (EIO from /proc/PID/mem)", at, pid));
}

int Machine::DebugVmCheck(std::string* report) {
  return Enter(nullptr, -1, [&] {
    return kernel::debug_vm_check(ks_.get(), report, /*expect_no_pins=*/true);
  });
}

int Machine::DebugVmCheck(std::string* report, const kernel::debug_vm_options& opts) {
  return Enter(nullptr, -1, [&] { return kernel::debug_vm_check(ks_.get(), report, opts); });
}

long Machine::vmstat(kernel::vm_stat_item item) const { return ks_->vm_stat[item]; }
long Machine::slab_allocations() const { return ks_->slab_allocations; }
long Machine::slab_bytes() const { return ks_->slab_bytes; }

namespace {

// The sysctls Machine knows, by /proc/sys name, with Linux's bounds (proc_dointvec_minmax
// extra1/extra2).
struct SysctlEntry {
  absl::string_view name;
  int kernel::kernel_state::*field;
  long min, max;
  unsigned long kernel::kernel_state::*ulong_field = nullptr;  // instead of field
  void (*update)(kernel::kernel_state*) = nullptr;  // the handler's work after a write
};
constexpr SysctlEntry kSysctls[] = {
    {"vm.max_map_count", &kernel::kernel_state::sysctl_max_map_count, 0, INT32_MAX},
    {"fs.suid_dumpable", &kernel::kernel_state::suid_dumpable, kernel::SUID_DUMP_DISABLE,
     kernel::SUID_DUMP_ROOT},
    // An unsigned long in Linux (proc_doulongvec_minmax, no bounds).
    {"vm.mmap_min_addr", nullptr, 0, LONG_MAX, &kernel::kernel_state::dac_mmap_min_addr,
     kernel::update_mmap_min_addr},
    // Not Linux: see kernel_state::sysctl_pvm_max_batch_pages.
    {"mmsim.pvm_max_batch_pages", &kernel::kernel_state::sysctl_pvm_max_batch_pages, 1,
     static_cast<long>(kernel::PVM_MAX_BATCH_PAGES_LIMIT)},
};

const SysctlEntry* FindSysctl(absl::string_view name) {
  for (const SysctlEntry& e : kSysctls)
    if (e.name == name) return &e;
  return nullptr;
}

absl::Status UnknownSysctl(absl::string_view name) {
  std::vector<absl::string_view> names;
  for (const SysctlEntry& e : kSysctls) names.push_back(e.name);
  return absl::NotFoundError(absl::StrCat("unknown sysctl \"", name, "\" (expected one of: ",
                                          absl::StrJoin(names, ", "), ")"));
}

}  // namespace

absl::Status Machine::SetSysctl(absl::string_view name, long value) {
  const SysctlEntry* e = FindSysctl(name);
  if (e == nullptr) return UnknownSysctl(name);
  if (value < e->min || value > e->max)
    return absl::InvalidArgumentError(absl::StrFormat("%s must be in [%d, %d], got %d", name,
                                                      e->min, e->max, value));
  if (e->ulong_field != nullptr)
    ks_.get()->*(e->ulong_field) = static_cast<unsigned long>(value);
  else
    ks_.get()->*(e->field) = static_cast<int>(value);
  if (e->update != nullptr) e->update(ks_.get());
  return absl::OkStatus();
}

absl::StatusOr<long> Machine::Sysctl(absl::string_view name) const {
  const SysctlEntry* e = FindSysctl(name);
  if (e == nullptr) return UnknownSysctl(name);
  if (e->ulong_field != nullptr) return static_cast<long>(ks_.get()->*(e->ulong_field));
  return static_cast<long>(ks_.get()->*(e->field));
}

void Machine::AttachObserver(kernel::kernel_observer* observer) { ks_->observer = observer; }

void Machine::AttachCpuObserver(hw::HwObserver* observer) {
  for (auto& c : cpus_) c->set_observer(observer);
}

void Machine::SetPvmHooks(kernel::pvm_hooks* hooks) { ks_->pvm_hooks = hooks; }

absl::Status Machine::ArmFault(absl::string_view point, const kernel::fault_spec& spec) {
  const std::string name(point);
  if (kernel::fault_point_by_name(name.c_str()) < 0)
    return absl::InvalidArgumentError(absl::StrCat(
        "unknown fault point '", point, "'; expected one of: ",
        absl::StrJoin(kernel::fault_point_names, ", ")));
  if (!(spec.probability >= 0.0 && spec.probability <= 1.0))
    return absl::InvalidArgumentError("probability must be between 0 and 1");
  if (spec.times == 0 || spec.times < -1)
    return absl::InvalidArgumentError("times must be a positive count or -1 (unlimited)");
  if (Enter(nullptr, -1, [&] { return kernel::fault_inject_arm(name.c_str(), spec); }) != 0)
    return absl::InternalError(absl::StrCat("fault_inject_arm refused ", point));
  return absl::OkStatus();
}

void Machine::DisarmFault(absl::string_view point) {
  const std::string name(point);
  Enter(nullptr, -1, [&] {
    if (kernel::fault_point_by_name(name.c_str()) >= 0) kernel::fault_inject_disarm(name.c_str());
  });
}

void Machine::Sleep(uint64_t ms) { ks_->jiffies += ms * kernel::HZ / 1000; }

void Machine::DisarmFaults() {
  Enter(nullptr, -1, [] { kernel::fault_inject_disarm(nullptr); });
}

uint64_t Machine::FaultCalls(absl::string_view point) {
  const std::string name(point);
  return Enter(nullptr, -1, [&] { return kernel::fault_inject_calls(name.c_str()); });
}

uint64_t Machine::FaultFailures(absl::string_view point) {
  const std::string name(point);
  return Enter(nullptr, -1, [&] { return kernel::fault_inject_failures(name.c_str()); });
}

}  // namespace sim
