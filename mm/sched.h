// mm/sched.h: tasks and credentials (include/linux/sched.h, cred.h, capability.h,
// sched/signal.h, user_namespace.h) at Linux 6.18, reduced to what mm and process_vm_* consult.
//
// Deviations (grep "DEVIATION(sched)"): one user namespace (init_user_ns) and one pid
// namespace; no scheduler state beyond `on_cpu`; signals reduced to "fatal signal pending".
#ifndef MMSIM_MM_SCHED_H_
#define MMSIM_MM_SCHED_H_

#include <sys/resource.h>

#include <csignal>
#include <string>

#include "mm/types.h"

namespace kernel {

struct mm_struct;

// include/uapi/linux/capability.h
inline constexpr int CAP_FOWNER = 3;
inline constexpr int CAP_SETGID = 6;
inline constexpr int CAP_SETUID = 7;
inline constexpr int CAP_SETPCAP = 8;
inline constexpr int CAP_IPC_LOCK = 14;
inline constexpr int CAP_SYS_RAWIO = 17;
inline constexpr int CAP_SYS_PTRACE = 19;
inline constexpr int CAP_SYS_ADMIN = 21;
inline constexpr int CAP_SYS_RESOURCE = 24;
inline constexpr int CAP_LAST_CAP = 40;
struct kernel_cap_t {
  u64 val;
};
inline constexpr kernel_cap_t CAP_EMPTY_SET = {0};
inline constexpr kernel_cap_t CAP_FULL_SET = {(1ULL << (CAP_LAST_CAP + 1)) - 1};
inline bool cap_raised(kernel_cap_t c, int flag) { return (c.val >> flag) & 1; }
inline bool cap_issubset(kernel_cap_t a, kernel_cap_t set) { return !(a.val & ~set.val); }

struct user_namespace {
  int level;  // 0: the initial namespace
};

// include/linux/cred.h: the security context of a task.
struct cred {
  atomic_t usage;
  uid_t uid, suid, euid, fsuid;  // real, saved, effective, filesystem user ids
  gid_t gid, sgid, egid, fsgid;
  kernel_cap_t cap_inheritable, cap_permitted, cap_effective, cap_bset, cap_ambient;
  const user_namespace* user_ns;
};

// include/uapi/asm-generic/resource.h. The host's <sys/resource.h> defines these names
// (and struct rlimit: rlim_cur, rlim_max) with Linux's values, as <cerrno> does for errno.
static_assert(RLIMIT_MEMLOCK == 8 && RLIM_NLIMITS == 16, "RLIMIT_MEMLOCK");
static_assert(RLIM_INFINITY == ~0UL, "RLIM_INFINITY");
// include/uapi/linux/resource.h: the default RLIMIT_MEMLOCK (8 MiB since Linux 5.16).
inline constexpr unsigned long MLOCK_LIMIT = 8UL << 20;

// include/linux/sched/signal.h: state shared by the threads of a process.
struct signal_struct {
  atomic_t sigcnt;
  int nr_threads;
  rw_semaphore exec_update_lock;  // taken for reading by mm_access
  int group_exit_code;
  bool group_exit;        // DEVIATION(sched): stands in for SIGNAL_GROUP_EXIT
  atomic_t live;          // threads of the group that have not yet run do_exit
  mm_struct* oom_mm;      // set (with a reference: mmgrab) when the group is an OOM victim
  short oom_score_adj;    // /proc/<pid>/oom_score_adj: -1000 (never) .. 1000
  // The resource limits (getrlimit/setrlimit/prlimit), inherited at fork. DEVIATION(sched):
  // only RLIMIT_MEMLOCK (mlock) and RLIMIT_STACK have readers; the rest are stored.
  struct rlimit rlim[RLIM_NLIMITS];
};

// task->flags
inline constexpr unsigned int PF_EXITING = 0x00000004;
inline constexpr unsigned int PF_KTHREAD = 0x00200000;
inline constexpr unsigned int PF_MEMALLOC = 0x00000800;  // reclaiming: no recursion into reclaim
inline constexpr unsigned int PF_KSWAPD = 0x00020000;
// task->exit_state
inline constexpr int EXIT_DEAD = 0x0010;
inline constexpr int EXIT_ZOMBIE = 0x0020;

inline constexpr int TASK_COMM_LEN = 16;

// include/linux/lockdep_types.h, reduced: a lock this task holds, for the deadlock report
// of sim/'s scheduler (mm/lockdep.h; the lock a task waits for is recorded by the
// scheduler, not here).
struct held_lock {
  const void* instance;  // the lock
  const char* name;      // its name (rw_semaphore::name, "ptl", "folio_lock" ...)
  unsigned char read;    // 1: held shared (down_read)
};
inline constexpr int MAX_LOCK_DEPTH = 48;

// include/linux/sched/wake_q.h: a task's link in a wake_q (null: not queued).
struct wake_q_node {
  wake_q_node* next;
};

struct task_struct {
  atomic_t usage;            // get_task_struct / put_task_struct
  unsigned int flags;        // PF_*
  int exit_state;            // 0 while alive, EXIT_ZOMBIE, EXIT_DEAD
  int exit_code;
  pid_t pid;                 // thread id
  pid_t tgid;                // thread-group (process) id
  task_struct* group_leader;
  task_struct* real_parent;
  mm_struct* mm;             // null for kernel threads and after exit_mm()
  mm_struct* active_mm;
  const struct cred* real_cred;     // objective credentials (what others see)
  const struct cred* cred;          // subjective credentials (what it acts with)
  signal_struct* signal;
  char comm[TASK_COMM_LEN];
  unsigned int __state;      // TASK_RUNNING, or how it sleeps (set_current_state)
  wake_q_node wake_q;        // queued for a wakeup (mm/rwsem.h: wake_q_add)
  int on_cpu;                // the CPU it runs on, or -1
  unsigned int cpu;          // thread_info.cpu (task_cpu()): where it last ran or is placed
  int lockdep_depth;         // entries used in held_locks
  held_lock held_locks[MAX_LOCK_DEPTH];
  bool fatal_signal;         // DEVIATION(sched): a SIGKILL is pending
  // DEVIATION(sched): why the last user access of this task was killed (SIGSEGV/SIGBUS),
  // recorded instead of delivered so that the simulation carries on.
  int last_signal;
  unsigned long last_signal_addr;
  int last_si_code;          // its si_code (SEGV_MAPERR, SEGV_ACCERR, BUS_ADRERR ...)
  // DEVIATION(sched): the last #PF this task took, in user or kernel mode, as
  // exc_page_fault received it (CR2 and the error code), and how many it took: read by
  // sim's `expect fault TASK` (Linux keeps a fault only when a signal reports it).
  // thread.{cr2,error_code} below cannot serve: set_signal_archinfo writes them only for
  // a signal, and with X86_PF_PROT forced on kernel addresses (a user load of an unmapped
  // kernel-half address reads U here but P|U there), and #GP writes error_code too.
  unsigned long last_pf_addr;
  unsigned long last_pf_error_code;
  unsigned long nr_pf;
  int exit_signal;           // sent to the parent at exit (SIGCHLD); -1 for threads
  // DEVIATION(sched): a kernel thread's function, which Linux's copy_thread leaves in the
  // new task's first stack frame for ret_from_fork (kernel/kthread.c wraps it). sim/'s
  // scheduler runs it as the thread's path. Null for every other task.
  int (*threadfn)(void* data);
  void* threadfn_data;
  bool kthread_should_stop;  // kernel/kthread.c's KTHREAD_SHOULD_STOP, set by kthread_stop
  // arch/x86/include/asm/processor.h struct thread_struct: the fault a signal reports, and
  // the task's PKRU.
  struct {
    unsigned long cr2;
    unsigned long trap_nr;
    unsigned long error_code;
    u32 pkru;  // the task's PKRU while it is switched out (x86_pkru_load)
  } thread;
};

// include/linux/sched/signal.h: a limit's soft value for `task` / for current.
inline unsigned long task_rlimit(const task_struct* task, unsigned int limit) {
  return task->signal->rlim[limit].rlim_cur;
}
unsigned long rlimit(unsigned int limit);  // mm/kernel/cred.cc

inline bool fatal_signal_pending(const task_struct* p) { return p != nullptr && p->fatal_signal; }

// include/linux/sched.h: task states. A sleeper sets its state, then waits (sched_wait)
// until a waker sets it back to TASK_RUNNING (wake_up_process) or, if TASK_WAKEKILL is
// in it, a fatal signal arrives. DEVIATION(sched): only the states the locks use.
inline constexpr unsigned int TASK_RUNNING = 0x00000000;
inline constexpr unsigned int TASK_INTERRUPTIBLE = 0x00000001;
inline constexpr unsigned int TASK_UNINTERRUPTIBLE = 0x00000002;
inline constexpr unsigned int TASK_WAKEKILL = 0x00000100;
inline constexpr unsigned int TASK_KILLABLE = TASK_WAKEKILL | TASK_UNINTERRUPTIBLE;
// include/linux/sched/signal.h: would a signal end a sleep in `state`? Only fatal signals
// exist here, and they end killable and interruptible sleeps.
inline bool signal_pending_state(unsigned int state, const task_struct* p) {
  if (!(state & (TASK_INTERRUPTIBLE | TASK_WAKEKILL))) return false;
  return fatal_signal_pending(p);
}

// include/uapi/asm-generic/signal.h (x86-64 numbers) for the signals this port records.
// As with errno (mm/errno.h), the host's <csignal> already defines these names as macros
// with Linux's values; the asserts pin them.
static_assert(SIGBUS == 7, "SIGBUS");
static_assert(SIGKILL == 9, "SIGKILL");
static_assert(SIGSEGV == 11, "SIGSEGV");
static_assert(SIGCHLD == 17, "SIGCHLD");

// ---- task references and lookup (include/linux/sched/task.h, kernel/pid.c) ----
// mm/kernel/pid.cc, mm/kernel/fork.cc. A task_struct lives until its last reference goes:
// the pid table holds one until release_task(), lookups with "get" take one more.
inline task_struct* get_task_struct(task_struct* t) {
  atomic_inc(&t->usage);
  return t;
}
void put_task_struct(task_struct* t);           // the last put frees the task and its creds
task_struct* find_task_by_vpid(pid_t nr);       // pid or thread id; no reference taken
task_struct* find_get_task_by_vpid(pid_t nr);   // the same, with a reference (or null)

// ---- credentials and capabilities (include/linux/cred.h, capability.h) ----
// mm/kernel/cred.cc, mm/kernel/commoncap.cc.
// DEVIATION(sched): the only one, and const: the same for every machine, never written.
extern const user_namespace init_user_ns;
const cred* current_cred();                      // current()->cred
inline const cred* __task_cred(const task_struct* t) { return t->real_cred; }
bool ns_capable(const user_namespace* ns, int cap);          // current's effective set
bool ns_capable_noaudit(const user_namespace* ns, int cap);
bool capable(int cap);                                 // ns_capable(&init_user_ns, cap)
bool has_ns_capability(task_struct* t, const user_namespace* ns, int cap);

// ---- ptrace access modes (include/linux/ptrace.h) ----
inline constexpr unsigned int PTRACE_MODE_READ = 0x01;
inline constexpr unsigned int PTRACE_MODE_ATTACH = 0x02;
inline constexpr unsigned int PTRACE_MODE_NOAUDIT = 0x04;
inline constexpr unsigned int PTRACE_MODE_FSCREDS = 0x08;
inline constexpr unsigned int PTRACE_MODE_REALCREDS = 0x10;
inline constexpr unsigned int PTRACE_MODE_READ_FSCREDS = PTRACE_MODE_READ | PTRACE_MODE_FSCREDS;
inline constexpr unsigned int PTRACE_MODE_READ_REALCREDS = PTRACE_MODE_READ | PTRACE_MODE_REALCREDS;
inline constexpr unsigned int PTRACE_MODE_ATTACH_FSCREDS = PTRACE_MODE_ATTACH | PTRACE_MODE_FSCREDS;
inline constexpr unsigned int PTRACE_MODE_ATTACH_REALCREDS =
    PTRACE_MODE_ATTACH | PTRACE_MODE_REALCREDS;
// kernel/ptrace.c: may `current` inspect/modify `task` in `mode`? (mm/kernel/ptrace.cc)
bool ptrace_may_access(task_struct* task, unsigned int mode);
inline bool same_thread_group(const task_struct* p1, const task_struct* p2) {
  return p1->tgid == p2->tgid;
}

}  // namespace kernel

#endif  // MMSIM_MM_SCHED_H_
