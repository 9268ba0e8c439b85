// sim/machine.h: a simulated computer running the ported kernel.
//
// A Machine owns the hardware (hw::PhysMem, one hw::Cpu per CPU) and the kernel's state
// (kernel::kernel_state), boots the kernel on them (kernel::start_kernel: CPU paging
// features, memory, the pid namespace, init = pid 1 and kthreadd = pid 2) and shuts it
// down in its destructor (every task exits and is reaped, then memory goes), leaving no
// host allocation behind.
//
// Everything a test or scenario does goes through it: create processes, threads and
// kernel threads, choose what runs on which CPU, make system calls "as" a task, and let
// a task touch its memory with user-mode (CPL 3) loads and stores that go through the
// simulated MMU and the kernel's page-fault handler.
//
// Conventions:
//  - Setup and queries return absl::Status / StatusOr (bad arguments, unknown pids).
//  - Syscall methods imitate libc: SysResult{ret, 0} on success, {-1, errno} on failure.
//    They run as `pid`: on the CPU where it is current, else it is made current on
//    CPU 0 first (a context switch: CR3 is written, as on a real machine).
//  - User accesses that fault with no fix (SIGSEGV, SIGBUS) are recorded in the task and
//    reported in UserAccess; the simulation carries on.
//  - Deterministic: the same calls in the same order give the same results; nothing
//    depends on host time or host randomness. `seed` seeds the kernel's fault-injection
//    draws (a `fail ... probability=P` point fails the same passes on every run).
//
// Threading: a Machine is driven by one host thread at a time (Together's paths are
// fibers on that thread, never host threads). Several Machines may exist; each public
// method makes its own kernel state current for the call.
//
// The kernel scope rule. The ported kernel finds its machine through kst(), which a
// kernel::kernel_state_scope installs. Above mm/, exactly one thing installs it: a public
// method of Machine, for the duration of that call, through the private Enter() below.
// Nothing else above mm/ holds a scope or a kernel_state* (there is no accessor for one):
// code that must run in the kernel passes a function to RunInKernel (as a task, on a
// CPU) or Inspect (read-only, no task switch). Inside mm/, the unit-test fixture holds a
// scope for a test's lifetime, and the mm entry points that take or build a kernel_state
// (power_on_and_boot, kernel_shutdown, debug_vm_check) install their own. After any public method returns,
// kernel::kst_or_null() is what it was before the call.
//
// The seam, and how the multi-CPU scheduler plugs in. Every public method that reaches the
// kernel does so through one private template, Enter(task, cpu, body):
//   1. install this machine's kernel scope;
//   2. when `task` is given: make it current on `cpu` (-1: the CPU it runs on, else
//      task_cpu: where it last ran or was placed; a task current elsewhere moves, leaving
//      that CPU idle), i.e. this_cpu = cpu, CPL 0, kernel::context_switch
//      (switch_mm_irqs_off writes CR3);
//   3. run body() there as a kernel path, and return its value.
// Syscall(pid, fn) is Enter plus the libc result conventions. A body may continue as
// another task with SwitchTo (CreateProcess: init, then the child; ExitGroup: each
// thread in turn), but never Enter its own Machine as a task again (checked: a path
// cannot start inside another).
// Outside Together, a path runs to completion: step 3 is a plain call and the kernel's
// preemption points (mm/sched_hooks.h) are one branch each. Inside Together, the
// deterministic scheduler (sim/sched/scheduler.h) replaces steps 2-3, and nothing else:
// each concurrent call runs on a fiber of its own; step 2 becomes a scheduling decision
// (other paths may run first) followed by the switch, and while body() runs, the kernel's
// preemption points, lock waits and IPIs reach the scheduler through kst().sched, which
// may run other CPUs' paths there. SwitchTo inside a body moves the running path to the
// new task. Enter(nullptr, ...) (Inspect, files, debug_vm) runs at once, between points.
// Callers (tests, the interpreter, views) do not change.
#ifndef MMSIM_SIM_MACHINE_H_
#define MMSIM_SIM_MACHINE_H_

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"
#include "hw/cpu.h"
#include "hw/phys_mem.h"
#include "mm/fault_attr.h"
#include "mm/kernel.h"
#include "mm/kernel/task.h"
#include "mm/sched.h"
#include "sim/sched/schedule.h"

namespace kernel {
struct file;
struct kernel_observer;
struct pvm_hooks;
struct debug_vm_options;
}  // namespace kernel

namespace sim {

class Scheduler;  // sim/sched/scheduler.h

struct MachineConfig {
  uint64_t memory_bytes = 256ull << 20;  // simulated DRAM (>= 1 MiB, <= 64 GiB)
  // The swap partition swapon'ed at boot (0: none; <= 64 GiB, whole pages). Its blocks
  // are host memory only for the slots written (mm/page_io.cc).
  uint64_t swap_bytes = 0;
  int cpus = 2;                          // 1..64
  std::string tlb = "skylake";           // a hw::FindTlbProfile name
  uint64_t seed = 0;
  // /sys/kernel/mm/transparent_hugepage/enabled at boot: "always", "madvise" (the default,
  // as on the differential host) or "never" (mm/huge_mm.h).
  std::string thp = "madvise";
  // .../transparent_hugepage/defrag: "always", "defer", "defer+madvise", "madvise" (the
  // default) or "never": how hard a huge fault may try when no 2 MiB block is free.
  std::string thp_defrag = "madvise";
  // .../transparent_hugepage/use_zero_page: a read fault maps the huge zero folio.
  bool thp_use_zero_page = true;
  // The CPUs have protection keys (PKU), as most x86-64 CPUs since Skylake-SP and Zen 3
  // do: Linux then makes PROT_EXEC-only mappings unreadable, even by the kernel's own
  // copies (docs/semantics.md). Off by default: output does not depend on the host.
  bool pku = false;
  // The CPUs have 1 GiB pages (CPUID GBPAGES): Linux then has a 1 GiB hugetlb page size,
  // so mmap(MAP_HUGETLB | MAP_HUGE_1GB) gets as far as the (empty) pool: ENOMEM, not
  // EINVAL. Off by default, as pku.
  bool gbpages = false;
};

// The credentials a new process starts with (as if it had exec'd a program with them).
// The kernel's own type (mm/kernel/task.h): ruid, euid, suid, rgid, egid, sgid; caps
// (permitted and effective, default the full set); dumpable (false: SUID_DUMP_DISABLE).
using ProcessCreds = kernel::umh_creds;

// libc convention: ret -1 and err = errno on failure; else err 0.
struct SysResult {
  long ret;
  int err;
};

// What RunInKernel returns for a function returning R: absl::Status for void, else
// absl::StatusOr<R>.
template <class R>
using KernelResult = std::conditional_t<std::is_void_v<R>, absl::Status, absl::StatusOr<R>>;

struct UserAccess {
  bool ok;
  int signal;           // 0, SIGSEGV = 11, SIGBUS = 7
  uint64_t fault_addr;  // where the unfixable fault was (the signal's si_addr)
  std::vector<uint8_t> bytes;  // loads: the bytes read (up to the fault on failure)
  unsigned long error_code = 0;  // the #PF error code the signal reports (X86_PF_*)
  int err = 0;  // ESRCH: the pid names no live task with an address space (nothing ran)
};

class Machine {
 public:
  // The stack every process gets: [kStackTop - kStackSize, kStackTop), VM_GROWSDOWN.
  static constexpr uint64_t kStackTop = 0x7ffffffff000ull;
  static constexpr uint64_t kStackSize = 128ull << 10;
  // The iovec area: where the Iovec forms of ProcessVmReadv/Writev (and the scenario
  // interpreter) put the two struct iovec arrays, as a program puts them in memory of its
  // own. It is a private anonymous rw- mapping of kIovecAreaSize bytes at kIovecBase in the
  // caller's address space, mapped (mmap MAP_FIXED_NOREPLACE, as the caller) the first time
  // the caller needs it and kept (fork copies it; `show maps` shows it). The rule, for any
  // runner that must reproduce the addresses (the host runner of `mmsim --host`):
  //   local array  (liov) at kIovecBase = 0x7e0000000000
  //   remote array (riov) right after it, at kIovecBase + 16 * L, where L is the number
  //     of local elements written (0 when the local side is a raw pointer)
  //   element i of an array at ARRAY + 16*i (iov_base, then iov_len, little-endian u64);
  //   at most kIovecArraySize/16 = 4096 elements per array are written.
  // So the arrays never overwrite user data, and a caller without a stack can call. The
  // address is far below every scenario-visible default (the stack, mmap_base), 2 TiB
  // below the top of user space, so also below where ASLR (28 bits of mmap randomisation,
  // 1 TiB) puts a host process's libraries, and far above its heap. A scenario mapping that overlaps the area makes IovecArea
  // fail (the area is not taken over).
  static constexpr uint64_t kIovecBase = 0x7e0000000000ull;
  static constexpr uint64_t kIovecArraySize = 64ull << 10;
  static constexpr uint64_t kIovecAreaSize = 2 * kIovecArraySize;

  static absl::StatusOr<std::unique_ptr<Machine>> Create(const MachineConfig& config);
  ~Machine();  // shuts the kernel down

  Machine(const Machine&) = delete;
  Machine& operator=(const Machine&) = delete;

  hw::PhysMem& phys() { return *phys_; }
  int num_cpus() const { return static_cast<int>(cpus_.size()); }
  hw::Cpu& cpu(int i) { return *cpus_.at(static_cast<size_t>(i)); }
  const MachineConfig& config() const { return config_; }
  // Swap space in pages (mm/swapfile.c's nr_swap_pages and total_swap_pages): what
  // /proc/meminfo shows as SwapFree and SwapTotal (times 4 kB).
  unsigned long NrSwapPages();
  unsigned long TotalSwapPages();

  // A new process, child of init, with an empty address space plus a [stack] VMA
  // (kStackSize, VM_GROWSDOWN, top at kStackTop). Returns its pid.
  absl::StatusOr<int> CreateProcess(absl::string_view comm, const ProcessCreds& creds);
  // A new thread of process `pid` (CLONE_VM | CLONE_THREAD ...). Returns its tid.
  absl::StatusOr<int> CreateThread(int pid, absl::string_view comm);
  // A new kernel thread (PF_KTHREAD, no mm), child of kthreadd. Returns its pid.
  absl::StatusOr<int> CreateKthread(absl::string_view comm);
  // The task with this pid or tid (zombies included), or null. No reference is taken.
  kernel::task_struct* FindTask(int pid);
  // Make `pid` current on `cpu` (switch_mm: CR3 write). A task current on another CPU
  // moves (that CPU goes idle). No effect for unknown or exited tasks or a bad cpu.
  void Schedule(int pid, int cpu = 0);
  // The pid current on `cpu` (0: idle).
  int Current(int cpu = 0);

  // ---- system calls, run as `pid` ----
  // mmap(2). Without MAP_ANONYMOUS, `fd` is a descriptor from CreateFile and `off` the
  // (page-aligned) file offset.
  SysResult Mmap(int pid, uint64_t addr, uint64_t len, int prot, int flags, int fd = -1,
                 uint64_t off = 0);
  SysResult Munmap(int pid, uint64_t addr, uint64_t len);
  SysResult Mprotect(int pid, uint64_t addr, uint64_t len, int prot);
  // madvise(2): the advice mm/madvise.cc models (kernel::do_madvise lists them);
  // MADV_REMOVE, MADV_COLLAPSE, the guard and the memory-failure advice (not modelled),
  // and unknown values, are EINVAL.
  SysResult Madvise(int pid, uint64_t addr, uint64_t len, int advice);
  // mlock2(2) (flags 0 is mlock(2); MLOCK_ONFAULT), munlock(2), mlockall(2) (MCL_*
  // flags), munlockall(2).
  SysResult Mlock(int pid, uint64_t addr, uint64_t len, int flags = 0);
  SysResult Munlock(int pid, uint64_t addr, uint64_t len);
  SysResult Mlockall(int pid, int flags);
  SysResult Munlockall(int pid);
  // setrlimit(2) (prlimit64 on pid itself): RLIMIT_* resource, soft and hard limit
  // (RLIM_INFINITY is ~0).
  SysResult Setrlimit(int pid, int resource, uint64_t cur, uint64_t max);
  // Raw forms: the array pointers are user virtual addresses in pid's memory.
  SysResult ProcessVmReadv(int pid, int target, uint64_t lvec, uint64_t liovcnt, uint64_t rvec,
                           uint64_t riovcnt, uint64_t flags);
  SysResult ProcessVmWritev(int pid, int target, uint64_t lvec, uint64_t liovcnt, uint64_t rvec,
                            uint64_t riovcnt, uint64_t flags);
  struct Iovec {
    uint64_t base;
    uint64_t len;
  };
  // Like a program: both arrays are written into pid's iovec area (see kIovecBase) with
  // user-mode stores, then the raw form is called with their addresses. Elements beyond
  // 4096 per array are not written (the kernel rejects more than 1024 before reading).
  // EFAULT when the area cannot be had (IovecArea fails).
  SysResult ProcessVmReadv(int pid, int target, absl::Span<const Iovec> local,
                           absl::Span<const Iovec> remote, uint64_t flags = 0);
  SysResult ProcessVmWritev(int pid, int target, absl::Span<const Iovec> local,
                            absl::Span<const Iovec> remote, uint64_t flags = 0);
  // Makes sure pid's iovec area is mapped (see kIovecBase) and returns kIovecBase.
  // FailedPrecondition when another mapping overlaps it or the mmap fails; NotFound for no
  // live task with an address space.
  absl::StatusOr<uint64_t> IovecArea(int pid);
  // exit(2): only this thread (a leader with live threads becomes a zombie that keeps
  // its pid). init (pid 1) cannot exit: EPERM.
  SysResult Exit(int pid);
  // exit_group(2): every thread of pid's process exits.
  SysResult ExitGroup(int pid);
  // waitpid(pid, WNOHANG) run by `parent_pid_or_0` (0: pid's parent). Returns pid once
  // reaped, 0 if not reapable yet, or -1 ECHILD.
  SysResult Reap(int parent_pid_or_0, int pid);
  SysResult SetResUid(int pid, uint32_t r, uint32_t e, uint32_t s);
  SysResult SetResGid(int pid, uint32_t r, uint32_t e, uint32_t s);
  // capset(2) with permitted = effective = caps (inheritable keeps what caps allows).
  SysResult CapSet(int pid, uint64_t caps);
  // prctl(PR_SET_DUMPABLE, dumpable).
  SysResult SetDumpable(int pid, bool dumpable);
  // fork(2) by `pid`: a new process, child of pid, with pid's credentials and a copy of
  // its address space (private memory shared copy-on-write, shared mappings shared).
  // Returns the child's pid. The child is runnable, not running.
  SysResult Fork(int pid);
  // A [vvar] mapping (VM_IO | VM_PFNMAP, 4 pages, read-only; only its first page is
  // backed) in pid's address space at `addr` (a hint; 0: anywhere), as the kernel gives
  // every process one at exec. Returns the address. New processes have none by default.
  SysResult MapVvar(int pid, uint64_t addr = 0);

  // ---- files: in-memory files of the simulator's own disk-backed filesystem (simfs) ----
  // Descriptors are machine-wide (any process may pass one to Mmap; no per-process fd
  // tables) and stay open until the Machine is destroyed.
  //
  // A file `name` of `size` bytes whose first data.size() bytes are `data` (the rest
  // zeros), opened read-write, or read-only with `readonly` (then a MAP_SHARED mapping
  // with PROT_WRITE is refused with EACCES). Returns the descriptor (>= 3).
  // InvalidArgument if data is longer than size.
  absl::StatusOr<int> CreateFile(absl::string_view name, uint64_t size,
                                 absl::Span<const uint8_t> data, bool readonly = false);
  // ftruncate(2): pages past the new end leave every mapping and the page cache, so an
  // access there raises SIGBUS. EBADF (no such fd), EINVAL (read-only fd).
  SysResult Truncate(int fd, uint64_t size);
  // pwrite(2) through the page cache (mapped pages see it); returns the bytes written.
  SysResult WriteFile(int fd, uint64_t offset, absl::Span<const uint8_t> data);
  // fsync(2): dirty pages are written back, and shared mappings of them become clean
  // and read-only again (the next write through them faults and re-dirties the page).
  SysResult SyncFile(int fd);
  // The file's contents, [0, size), as read(2) would return them: the page cache where
  // it has the page (writes through shared mappings included), else the backing store.
  // No side effects.
  absl::StatusOr<std::vector<uint8_t>> ReadFile(int fd);
  // The file behind a descriptor, or null.
  kernel::file* FileOf(int fd);

  // ---- user-mode memory accesses of `pid` (CPL 3 through its CPU) ----
  // A store or load of `bytes`, page by page (rep movs semantics): a #PF goes to the
  // kernel's handler; if it fixes the fault the access continues, otherwise the signal
  // is recorded and reported here.
  UserAccess Store(int pid, uint64_t addr, absl::Span<const uint8_t> bytes);
  UserAccess Load(int pid, uint64_t addr, uint64_t len);
  // What /proc/PID/mem would read, without faults or side effects: a software walk of
  // pid's page tables. Unmapped or not-present bytes are an error.
  absl::StatusOr<std::vector<uint8_t>> PeekUser(int pid, uint64_t addr, uint64_t len);
  // What reading /proc/PID/mem at addr returns (Linux's mem_rw -> access_remote_vm with
  // FOLL_FORCE), run in the kernel as `pid` itself (as a read of /proc/self/mem): pages are
  // faulted in as GUP does (a never-touched anonymous page maps the zero page, a file page
  // comes from the page cache, PROT_NONE memory is readable), and a stack may grow down to
  // addr. So it has the side effects the real read has. NotFound ("not mapped") at the
  // first byte with no VMA; FailedPrecondition ("EIO") at the first byte in a VMA that
  // cannot be read (VM_IO|VM_PFNMAP, a fault that fails such as SIGBUS past a file's end).
  absl::StatusOr<std::vector<uint8_t>> ReadProcMem(int pid, uint64_t addr, uint64_t len);

  // ---- fault injection: the kernel's own per-machine fault_attr table (mm/fault_inject.h) ----
  // Arms `point` (a kernel::fault_point_names entry) with `spec` and restarts its counts.
  // InvalidArgument names the known points, or what is wrong with the spec.
  absl::Status ArmFault(absl::string_view point, const kernel::fault_spec& spec);
  void DisarmFault(absl::string_view point);
  void DisarmFaults();
  // Passes through / failures of `point` since it was last armed (kept after disarming).
  uint64_t FaultCalls(absl::string_view point);
  uint64_t FaultFailures(absl::string_view point);

  // The whole-machine consistency check (mm/debug_vm.h). Returns the number of
  // violations, one line each in *report (may be null). The first form expects no pins.
  int DebugVmCheck(std::string* report);
  int DebugVmCheck(std::string* report, const kernel::debug_vm_options& opts);

  // ---- time (mm/kernel.h: kernel_state::jiffies) ----
  // ms milliseconds pass with no task in the kernel: jiffies advance by ms at HZ=1000
  // (the scenario's `sleep`). What is timed off jiffies (mm_cpumask trimming,
  // should_trim_cpumask) sees the time at its next check.
  void Sleep(uint64_t ms);

  // ---- several kernel paths at once (sim/sched/) ----
  struct TogetherResult {
    bool deadlock = false;        // no path could go on: the calls did not all return
    std::string deadlock_report;  // lockdep style: each waiting task, what it waits for, who holds it
    std::string schedule_id;      // the schedule taken (ScheduleId::ToString), for --schedule
    uint64_t steps = 0;           // decisions made
    uint64_t preemptions = 0;     // of which switches away from a path that could go on
    std::string check_report;     // SetCheckEverySwitch: the first switch's violations, if any
  };
  // Runs each of `calls` as its own thread of control and returns when all have returned.
  // A call makes ordinary Machine calls (Mmap, Munmap, Load, Store, ProcessVmReadv ...);
  // each kernel path they start runs as its task on that task's CPU (task_cpu: where
  // Schedule last put it, CPU 0 for a task never placed), and the paths interleave at the
  // kernel's preemption points (mm/sched_hooks.h) in the order `policy` chooses (null:
  // DefaultPolicy, one path after another). Two paths whose tasks share a CPU take turns
  // on it (context switches) when one blocks or is preempted. Remote TLB flushes are
  // IPIs handled at the target CPU's next preemption point.
  // Deterministic: the same machine state, calls and policy choices give the same run.
  // A call must not call Together, CreateProcess/CreateThread/CreateKthread or
  // Inspect-with-side-effects; FailedPrecondition if Together is already running.
  // After a deadlock the machine is wedged (locks stay held): every later call fails or
  // returns an error, and only destroying it is meaningful.
  absl::StatusOr<TogetherResult> Together(absl::Span<const std::function<void()>> calls,
                                          SchedulePolicy* policy = nullptr);
  bool wedged() const { return wedged_; }
  // With `on`, Together runs the debug_vm checker (mm/debug_vm.h) at every switch between
  // paths, in its mid-path form: pins may be outstanding, TLBs may hold entries a flush in
  // flight will remove, folios may be locked. The first violations go to check_report.
  void SetCheckEverySwitch(bool on) { check_every_switch_ = on; }

  // ---- running code in this machine's kernel ----
  // Runs fn() in the kernel as task `pid` on `cpu` (-1: the CPU where pid is current,
  // else CPU 0; otherwise pid moves there as with Schedule, the CPU it left goes idle),
  // at CPL 0, the way a system call of pid would run: kernel::current() is pid's task,
  // kernel::smp_processor_id() is the CPU, and its CR3 holds pid's page tables (for a
  // task with an mm). Returns fn's result; NotFound for a pid that is not a live task
  // (unknown, exiting or a zombie), InvalidArgument for a bad cpu. fn may Inspect, but
  // must not call this Machine's task methods (the program stops with a message).
  template <class Fn>
  KernelResult<std::invoke_result_t<Fn&>> RunInKernel(int pid, Fn&& fn, int cpu = -1);
  // Runs fn(const kernel::kernel_state&) with this machine's kernel scope installed but
  // no task switched in (no CPU, CR3 or `current` changes): for reading state (counters,
  // page tables, struct pages) with the kernel's own helpers. fn must not change state.
  template <class Fn>
  decltype(auto) Inspect(Fn&& fn);

  // /proc/vmstat and the slab accounting.
  long vmstat(kernel::vm_stat_item item) const;
  long slab_allocations() const;  // live kmalloc objects
  long slab_bytes() const;

  // Sysctls by their /proc/sys names: "vm.max_map_count" (>= 0), "fs.suid_dumpable"
  // (0..2), "vm.mmap_min_addr" (>= 0; 65536 by default; hints stay raised to at
  // least CONFIG_LSM_MMAP_MIN_ADDR = 65536) and this port's own "mmsim.pvm_max_batch_pages" (1..65536; not a Linux sysctl:
  // the pages process_vm_readv/writev pin per batch, 1024 in Linux). Unknown names are
  // NotFound, out-of-range values InvalidArgument (the value is then unchanged).
  absl::Status SetSysctl(absl::string_view name, long value);
  absl::StatusOr<long> Sysctl(absl::string_view name) const;

  // Instrumentation; each replaces what was attached before, null detaches. The caller
  // keeps the object alive while it is attached (detach before destroying either).
  void AttachObserver(kernel::kernel_observer* observer);  // the kernel's trace points
  void AttachCpuObserver(hw::HwObserver* observer);        // every CPU's MMU events
  void SetPvmHooks(kernel::pvm_hooks* hooks);              // mm/process_vm_access.h hooks

 private:
  explicit Machine(const MachineConfig& config);

  // The seam (see the file comment): this machine's scope, `t` (if not null) made
  // current on `cpu` at CPL 0, then body(). REQUIRES: t is live; cpu is -1 or valid.
  template <class Body>
  decltype(auto) Enter(kernel::task_struct* t, int cpu, Body&& body);
  // Step 2 of Enter: makes `t` current on `cpu` (-1: where it runs, else task_cpu(t): the
  // CPU it last ran on or was placed on) and that CPU this_cpu, at CPL 0. REQUIRES: inside
  // Enter.
  // Inline (below): every system call runs it.
  void SwitchTo(kernel::task_struct* t, int cpu = -1);
  void LeaveCpu(kernel::task_struct* t);  // SwitchTo's migration: t's old CPU goes idle
  void SchedNoteSwitch(kernel::task_struct* t, int cpu);  // tells active_sched_
  // do_group_exit(code) for current (of thread group tgid), then each other live thread of
  // the group in tid order (ExitGroup, and a task killed by SIGKILL in UserLoop).
  void GroupExit(kernel::pid_t tgid, int code);
  // A body that runs as a task must not enter this Machine again as a task (a RunInKernel
  // function calling Mmap, say): under a scheduler that would be a path starting inside
  // another. Enter checks it and stops the program here with a message; Inspect, files and
  // other Machines stay allowed.
  [[noreturn]] static void NestedPath();
  struct PathMark {  // the in-path flag for the body's duration; then the path ends
    PathMark(bool* flag, Scheduler* sched) : flag(flag), sched(sched) {
      if (flag != nullptr) *flag = true;
    }
    ~PathMark() {
      if (flag != nullptr) *flag = false;
      if (sched != nullptr) SchedEnd(sched);
    }
    bool* flag;
    Scheduler* sched;
  };
  struct StoreFence {  // the call's streaming stores ordered before it returns (hw/phys_mem.h)
    ~StoreFence() { phys->FenceStreamingStores(); }
    hw::PhysMem* phys;
  };
  struct DaemonKick {
    explicit DaemonKick(Machine* m) : m(m) {}
    ~DaemonKick() {
      if (m != nullptr && m->ks_->kthread_wakeups_pending) m->RunDaemons();
    }
    Machine* m;
  };
  // Runs the kernel threads with a body (kswapd ...) that were created or woken, as
  // daemon paths under the default policy, until each sleeps again. REQUIRES: the scope
  // is installed and no scheduler runs.
  void RunDaemons();
  Scheduler& Sched();  // sched_, created on first use
  // Under Together (sim/sched/scheduler.h): the running path's in-path flag, its start
  // (a scheduling decision, then t current on its CPU) and its end.
  bool* SchedInPath();
  void SchedBegin(kernel::task_struct* t, int cpu);
  static void SchedEnd(Scheduler* sched);
  // What deadlocked machines leave behind (see ~Machine), kept for the program's life.
  struct Wedged {
    std::vector<std::unique_ptr<Scheduler>> schedulers;
    std::vector<std::unique_ptr<kernel::kernel_state>> kernels;
  };
  static Wedged& Graveyard();
  // A system call of pid that needs an address space: ESRCH for no live task, EINVAL for
  // a kernel thread (checked before any switch), else Enter(pid's task, -1, fn) with fn's
  // long result turned into a SysResult.
  template <class Fn>
  SysResult Syscall(int pid, Fn&& fn);

  // Task lookups on this machine's pid table (what find_task_by_vpid reads); they need
  // no scope, so a method can decide before entering the kernel.
  kernel::task_struct* TaskOf(int pid) const;
  // The task a syscall runs as: alive (not exiting), or null.
  kernel::task_struct* LiveTask(int pid) const;
  SysResult ProcessVmRaw(int pid, int target, uint64_t lvec, uint64_t liovcnt, uint64_t rvec,
                         uint64_t riovcnt, uint64_t flags, bool write);
  SysResult ProcessVmIovec(int pid, int target, absl::Span<const Iovec> local,
                           absl::Span<const Iovec> remote, uint64_t flags, bool write);
  // Store and Load: UserLoop as pid, if pid is a live task with an address space.
  UserAccess UserCopy(int pid, uint64_t addr, uint8_t* buf, uint64_t len, bool store,
                      uint64_t* done_out);
  // The user-mode access loop. REQUIRES: inside Enter as t.
  UserAccess UserLoop(kernel::task_struct* t, uint64_t addr, uint8_t* buf, uint64_t len,
                      bool store, uint64_t* done_out);
  // A kernel return value (0 / a count / an address, or -errno) as libc reports it.
  static SysResult FromKernel(long ret);

  MachineConfig config_;
  std::unique_ptr<hw::PhysMem> phys_;
  std::vector<std::unique_ptr<hw::Cpu>> cpus_;
  std::unique_ptr<kernel::kernel_state> ks_;
  bool booted_ = false;
  bool in_path_ = false;  // a body running as a task is on the host stack (Enter)
  std::map<int, kernel::file*> files_;  // CreateFile's descriptors (one reference each)
  std::unique_ptr<Scheduler> sched_;    // created on first use; holds the daemon paths
  Scheduler* active_sched_ = nullptr;   // sched_ while it runs paths (Together, daemons)
  bool wedged_ = false;                 // a Together deadlocked
  bool check_every_switch_ = false;
  int next_fd_ = 3;
};

// ---- inline and templates ----

inline void Machine::SwitchTo(kernel::task_struct* t, int cpu) {
  if (cpu < 0)
    cpu = t->on_cpu >= 0 ? t->on_cpu : static_cast<int>(t->cpu);
  else if (t->on_cpu >= 0 && t->on_cpu != cpu)
    LeaveCpu(t);
  ks_->this_cpu = cpu;
  cpus_[cpu]->SetCpl(0);
  kernel::context_switch(t);
  if (active_sched_ != nullptr) SchedNoteSwitch(t, cpu);
}

template <class Body>
decltype(auto) Machine::Enter(kernel::task_struct* t, int cpu, Body&& body) {
  StoreFence fence{phys_.get()};  // last out
  kernel::kernel_state_scope scope(ks_.get());
  bool* in_path = &in_path_;
  if (t != nullptr) {
    if (active_sched_ != nullptr) in_path = SchedInPath();
    if (*in_path) NestedPath();
    ++ks_->jiffies;  // the clock: one jiffy per kernel entry of a task (mm/kernel.h)
    if (active_sched_ != nullptr)
      SchedBegin(t, cpu);  // the scheduler's decision, then the switch
    else
      SwitchTo(t, cpu);
  }
  // Destroyed after `mark`: kernel threads woken meanwhile run once this path has ended.
  DaemonKick kick(t != nullptr && active_sched_ == nullptr ? this : nullptr);
  PathMark mark(t != nullptr ? in_path : nullptr, t != nullptr ? active_sched_ : nullptr);
  return body();
}

template <class Fn>
SysResult Machine::Syscall(int pid, Fn&& fn) {
  if (wedged_) return SysResult{-1, EDEADLK};
  kernel::task_struct* t = LiveTask(pid);
  if (t == nullptr) return SysResult{-1, ESRCH};
  if (t->mm == nullptr) return SysResult{-1, EINVAL};  // kernel threads make no syscalls
  return FromKernel(Enter(t, -1, fn));
}

template <class Fn>
KernelResult<std::invoke_result_t<Fn&>> Machine::RunInKernel(int pid, Fn&& fn, int cpu) {
  if (wedged_) return absl::FailedPreconditionError("RunInKernel: the machine is wedged by a deadlock");
  kernel::task_struct* t = LiveTask(pid);
  if (t == nullptr) return absl::NotFoundError("RunInKernel: no live task with that pid");
  if (cpu < -1 || cpu >= num_cpus()) return absl::InvalidArgumentError("RunInKernel: no such cpu");
  if constexpr (std::is_void_v<std::invoke_result_t<Fn&>>) {
    Enter(t, cpu, fn);
    return absl::OkStatus();
  } else {
    return Enter(t, cpu, fn);
  }
}

template <class Fn>
decltype(auto) Machine::Inspect(Fn&& fn) {
  return Enter(nullptr, -1, [&]() -> decltype(auto) {
    return std::forward<Fn>(fn)(static_cast<const kernel::kernel_state&>(*ks_));
  });
}

}  // namespace sim

#endif  // MMSIM_SIM_MACHINE_H_
