// mm/kernel/task.h: creating, running, exiting and reaping tasks; credentials.
// The declarations Linux keeps in include/linux/sched/task.h, sched/signal.h, cred.h,
// pid.h, ptrace.h, security.h and syscalls.h, for the parts of kernel/ this port has
// (mm/kernel/*.cc), Linux 6.18. mm/sched.h holds the structs and the lookups every mm
// file needs; this header is what sim/ and the tests drive tasks with.
//
// Model (what differs from a running Linux, in one place; each .cc repeats its own):
//  - Tasks execute no code. A syscall "runs as" a task when sim/ makes that task
//    `current` on a CPU (context_switch below) and calls the kernel entry point.
//  - Each CPU has an idle task (pid 0, PF_KTHREAD, never in the pid table). Boot creates
//    pid 1 (init, a user process with an address space, the child reaper) and pid 2
//    (kthreadd, the parent of kernel threads), as rest_init() does.
//  - A task holds two references while it lives: one for the pid table (dropped by
//    release_task) and one for "being a task that can run" (dropped when do_exit switches
//    away for the last time). Lookups with get_task_struct add more.
#ifndef MMSIM_MM_KERNEL_TASK_H_
#define MMSIM_MM_KERNEL_TASK_H_

#include <sched.h>
#include <sys/wait.h>

#include "mm/kernel.h"
#include "mm/sched.h"
#include "mm/types.h"

namespace kernel {

// ---- clone (include/uapi/linux/sched.h) ----
// The host is x86-64 Linux, so <sched.h> (with _GNU_SOURCE, as g++ compiles) already
// defines the CLONE_* names as macros with Linux's values; as for errno, they are pinned.
static_assert(CSIGNAL == 0x000000ff, "CSIGNAL");
static_assert(CLONE_VM == 0x00000100, "CLONE_VM");
static_assert(CLONE_FS == 0x00000200, "CLONE_FS");
static_assert(CLONE_FILES == 0x00000400, "CLONE_FILES");
static_assert(CLONE_SIGHAND == 0x00000800, "CLONE_SIGHAND");
static_assert(CLONE_VFORK == 0x00004000, "CLONE_VFORK");
static_assert(CLONE_PARENT == 0x00008000, "CLONE_PARENT");
static_assert(CLONE_THREAD == 0x00010000, "CLONE_THREAD");
static_assert(CLONE_SYSVSEM == 0x00040000, "CLONE_SYSVSEM");
static_assert(CLONE_UNTRACED == 0x00800000, "CLONE_UNTRACED");

// include/linux/sched/task.h
struct kernel_clone_args {
  u64 flags;             // CLONE_*
  int exit_signal;       // signal to the parent at exit (SIGCHLD, or 0)
  unsigned int kthread;  // 1: a kernel thread (PF_KTHREAD, no mm)
  const char* name;      // comm of the new task; null: inherit the parent's
  int (*fn)(void*);      // a kernel thread's function (task_struct::threadfn), or null
  void* fn_arg;
};

// kernel/fork.c: a copy of `current` as described by `args`; returns the new pid or a
// negative errno. CLONE_VM shares current's mm, CLONE_THREAD (with CLONE_SIGHAND and
// CLONE_VM) makes a thread of current's group; without CLONE_VM the child gets a copy
// of current's mm (fork: dup_mm, copy-on-write for private memory).
pid_t kernel_clone(kernel_clone_args* args);
// kernel/fork.c: a kernel thread (PF_KTHREAD, no mm) / a user-mode thread that will exec.
// A kernel thread's `fn` (if not null) is its body: sim/'s scheduler runs fn(arg) as the
// thread's path once it is woken (kthread_run), see task_struct::threadfn.
pid_t kernel_thread(int (*fn)(void*), void* arg, const char* name, unsigned long flags);
// kernel/kthread.c: a kernel thread, child of kthreadd, running threadfn(data), woken at
// once. Returns it (no reference taken) or an ERR_PTR. DEVIATION(kthread): kthreadd's
// fork is done inline (kthreadd made current on this CPU for the clone, then switched
// back) instead of queued to kthreadd.
task_struct* kthread_run(int (*threadfn)(void* data), void* data, const char* name);
// kernel/kthread.c: whether kthread_stop was called on current (a kernel thread).
bool kthread_should_stop();
// kernel/kthread.c: kthread_stop's first half: mark `k` to stop and wake it. The second
// half, waiting for its body to return, is the scheduler's (sim/: Machine's shutdown).
void kthread_stop_request(task_struct* k);
pid_t user_mode_thread(int (*fn)(void*), void* arg, unsigned long flags);
// fs/exec.c
void set_task_comm(task_struct* tsk, const char* buf);

// fs/exec.c, reduced to what execve does to memory: `current` gets a fresh mm (the old
// one is released, as exec_mmap does), the mmap layout of setup_new_exec, and a
// [stack] VMA of `stack_size` bytes ending at `stack_top` (VM_GROWSDOWN), as
// bprm_mm_init/setup_arg_pages leave it. The mm is dumpable (SUID_DUMP_USER).
// Returns 0 or a negative errno (current keeps its old mm on failure).
int exec_mm_lite(unsigned long stack_top, unsigned long stack_size);

// ---- starting a user process (kernel/umh.c) ----
// The identity a process started by the kernel runs with: real, effective and saved ids,
// permitted = effective capabilities (clipped to CAP_FULL_SET), and whether its mm is
// dumpable. The defaults are root with every capability.
struct umh_creds {
  uid_t ruid = 0, euid = 0, suid = 0;
  gid_t rgid = 0, egid = 0, sgid = 0;
  u64 caps = CAP_FULL_SET.val;
  bool dumpable = true;
};
// kernel/umh.c (call_usermodehelper_exec_async), reduced: current (init, pid 1) clones
// a child with CLONE_VM | CLONE_VFORK; the child execs (exec_mm_lite: a [stack] of
// stack_size bytes ending at stack_top), takes `creds` (cap_bset full, no inheritable or
// ambient caps), the dumpability and `comm`. Returns the child's pid, the child left
// current on this CPU; or a negative errno, with the child exited and reaped and init
// current again. REQUIRES: current() == child_reaper().
pid_t call_usermodehelper_lite(const char* comm, const umh_creds* creds,
                               unsigned long stack_top, unsigned long stack_size);

// ---- scheduling (kernel/sched/core.c) ----
// Make `next` current on this CPU (smp_processor_id()): the previous task stops running
// there, and next's address space is loaded (switch_mm: CR3) if it has one. A kernel
// thread (or a task past exit_mm) borrows the previous task's active_mm with CR3 left as
// it was (lazy TLB), holding an mm_count reference on it (mmgrab_lazy_tlb) until a user
// task runs on the CPU again. REQUIRES: next is alive and not running on another CPU.
void context_switch(task_struct* next);
// kernel/sched/core.c / kernel/cpu.c: taking a CPU down (kernel_shutdown): its idle task
// (current) switches to init_mm; then, from anywhere, finish_cpu drops the mm it borrowed.
void idle_task_exit();
void finish_cpu(int cpu);
// The idle task of `cpu` (init_task for CPU 0).
task_struct* idle_task(int cpu);
inline bool is_idle_task(const task_struct* p) { return p->pid == 0; }

// ---- exit and wait (kernel/exit.c) ----
// The current task exits: PF_EXITING, exit_mm, EXIT_ZOMBIE (or immediate release for a
// non-leader thread), and a final switch to this CPU's idle task, which drops the task's
// running reference. DEVIATION(task): returns to the caller (sim/), with the idle task
// current, instead of never returning.
void do_exit(long code);
// kernel/exit.c: exit the whole thread group: the others get a fatal signal (SIGKILL)
// and exit when they next run (sim/ runs them); current exits now.
void do_group_exit(int exit_code);
// kernel/exit.c: the last step of a dead task: unhash its pid, drop the pid-table
// reference; releases a zombie leader whose last thread this was, if its parent ignores
// SIGCHLD.
void release_task(task_struct* p);
// kernel/exit.c: wait4() for one child `upid` (> 0) of current's thread group. Returns
// upid after reaping it (its status in *stat_addr if non-null), 0 with WNOHANG if it
// is not reapable yet (alive, or a leader whose threads live), or -ECHILD.
static_assert(WNOHANG == 0x00000001, "WNOHANG");  // from <sys/wait.h>
long kernel_wait4(pid_t upid, int* stat_addr, int options);
// True while p is a group leader with other threads left (not reapable).
bool delay_group_leader(const task_struct* p);
bool thread_group_empty(const task_struct* p);

// ---- pids (kernel/pid.c) ----
inline constexpr pid_t RESERVED_PIDS = 300;
// Allocates the next free pid number for `task` in [1, pid_max), cyclically: after the
// first wrap numbers below RESERVED_PIDS are skipped. Returns it or -EAGAIN.
pid_t alloc_pid(task_struct* task);
// Unhash `nr` (detach_pid for PIDTYPE_PID).
void detach_pid(pid_t nr);
// init_pid_ns.child_reaper: pid 1, or null before boot made it / after it died.
task_struct* child_reaper();

// ---- credentials (kernel/cred.c, include/linux/cred.h) ----
inline const cred* get_cred(const cred* c) {
  atomic_inc(&const_cast<cred*>(c)->usage);
  return c;
}
void put_cred(const cred* c);
// A copy of current's credentials to modify, then commit (or abort). Null on ENOMEM.
cred* prepare_creds();
// Install `new_cred` as current's real and effective credentials. Changing euid, egid,
// fsuid, fsgid, or gaining capabilities makes current's mm dumpable only per
// fs.suid_dumpable (set_dumpable(mm, suid_dumpable)), as commit_creds does.
int commit_creds(cred* new_cred);
void abort_creds(cred* new_cred);
// kernel/cred.c: the credentials of the boot tasks (root, every capability).
const cred* init_cred();
inline const user_namespace* current_user_ns() { return current_cred()->user_ns; }

// kernel/sys.c: setresuid(2) / setresgid(2) for current; (uid_t)-1 leaves a field.
long __sys_setresuid(uid_t ruid, uid_t euid, uid_t suid);
long __sys_setresgid(gid_t rgid, gid_t egid, gid_t sgid);
// kernel/capability.c: capset(2) for current (new sets, validated by cap_capset).
long sys_capset_lite(kernel_cap_t effective, kernel_cap_t inheritable, kernel_cap_t permitted);
// kernel/sys.c: do_prlimit, getrlimit/setrlimit/prlimit64 of tsk's process: with
// new_rlim the limit is set (-EINVAL if cur > max, -EPERM to raise max without
// CAP_SYS_RESOURCE); with old_rlim the previous value is returned. -EINVAL for resource >=
// RLIM_NLIMITS.
int do_prlimit(task_struct* tsk, unsigned int resource, const struct rlimit* new_rlim,
               struct rlimit* old_rlim);
// kernel/sys.c: prctl(PR_SET_DUMPABLE, value) for current: 0 or 1, else -EINVAL.
long prctl_set_dumpable(unsigned long value);

// ---- ptrace and the capability LSM (kernel/ptrace.c, security/commoncap.c) ----
// The check itself, with its errno (-EPERM): exposed for tests; ptrace_may_access
// (mm/sched.h) is the boolean wrapper Linux callers use.
int __ptrace_may_access(task_struct* task, unsigned int mode);
// security/security.c: the LSM hook (only commoncap is stacked here).
int security_ptrace_access_check(task_struct* child, unsigned int mode);
// security/commoncap.c
int cap_ptrace_access_check(task_struct* child, unsigned int mode);
int cap_capable(const cred* c, const user_namespace* targ_ns, int cap, unsigned int opts);
int cap_capset(cred* new_cred, const cred* old, const kernel_cap_t* effective,
               const kernel_cap_t* inheritable, const kernel_cap_t* permitted);
// security/commoncap.c: the [RES]UID capability fix-up of setresuid.
inline constexpr int LSM_SETID_ID = 1;
inline constexpr int LSM_SETID_RE = 2;
inline constexpr int LSM_SETID_RES = 4;
inline constexpr int LSM_SETID_FS = 8;
int cap_task_fix_setuid(cred* new_cred, const cred* old, int flags);

// ---- boot helpers (mm/kernel/fork.cc, init.cc) ----
// kernel/fork.c: the per-CPU idle tasks (fork_idle / init_task), made by start_kernel.
void init_idle_tasks();
// Frees what init_idle_tasks made (kernel_shutdown).
void free_idle_tasks();

}  // namespace kernel

#endif  // MMSIM_MM_KERNEL_TASK_H_
