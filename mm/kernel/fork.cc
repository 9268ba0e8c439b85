// mm/kernel/fork.cc: creating tasks and address spaces, and their lifetimes.
// Port of kernel/fork.c (dup_task_struct, copy_creds' role, copy_signal, copy_mm, dup_mm,
// copy_process, kernel_clone, kernel_thread, user_mode_thread, mm_alloc/mm_init, mmput,
// mmdrop, get_task_mm, mm_access, __put_task_struct), the x86 init_new_context
// (arch/x86/include/asm/mmu_context.h), set_dumpable and set_task_comm (fs/exec.c) and
// fork_idle/init_task, at Linux 6.18 (mm_access returns ERR_PTR, never NULL).
//
// Deviations (grep "DEVIATION(fork)"):
//  - task_struct, cred, signal_struct and mm_struct come from kmalloc (Linux: their
//    kmem_caches). mm_struct holds a C++ container, so it is constructed in place.
//  - A task starts with two references (Linux: usage 1 plus rcu_users 2): one for the pid
//    table, dropped by release_task, one for running, dropped by do_exit's last switch.
//  - dup_mm copies the mm's plain fields one by one (the struct holds a C++ container, so
//    no memcpy) before mm_init; dup_mmap itself lives in mm/mmap.cc, as since 6.15.
//  - No files, fs, sighand, namespaces, cgroups, seccomp, io_uring, perf, audit.
#include <cstdio>
#include <cstring>
#include <new>
#include <set>

#include "mm/arch/x86/pkeys.h"
#include "mm/kernel/task.h"
#include "mm/mm.h"
#include "mm/slab.h"
#include "mm/trace.h"

namespace kernel {
namespace {

// kernel/fork.c: free_task.
void free_task(task_struct* tsk) { kfree(tsk); }

// kernel/fork.c: free_signal_struct / put_signal_struct.
void put_signal_struct(signal_struct* sig) {
  if (!atomic_dec_and_test(&sig->sigcnt)) return;
  if (sig->oom_mm != nullptr) mmdrop(sig->oom_mm);  // taken by mark_oom_victim
  kfree(sig);
}

// kernel/fork.c: allocate_mm / free_mm.
mm_struct* allocate_mm() {
  void* mem = kmalloc(sizeof(mm_struct), GFP_KERNEL);
  if (mem == nullptr) return nullptr;
  return new (mem) mm_struct();  // value-initialised: every plain field is zero
}
void free_mm(mm_struct* mm) {
  mm->~mm_struct();
  kfree(mm);
}

// arch/x86/mm/mmap.c: mmap_base for a 64-bit task with randomisation off: the top-down
// area starts below the largest stack the stack rlimit allows plus the guard gap, at
// least 128 MiB below the top.
unsigned long default_mmap_base() {
  const unsigned long rlim_stack = 8UL << 20;             // RLIMIT_STACK default
  const unsigned long stack_guard_gap = 256UL << PAGE_SHIFT;
  const unsigned long task_size = DEFAULT_MAP_WINDOW;
  unsigned long gap = rlim_stack + stack_guard_gap;
  const unsigned long gap_min = 128UL << 20;
  const unsigned long gap_max = (task_size / 6) * 5;
  if (gap < gap_min) gap = gap_min;
  if (gap > gap_max) gap = gap_max;
  return (task_size - gap + PAGE_SIZE - 1) & PAGE_MASK;
}

// lib/idr.c: ida_alloc_range. The lowest id in [min, max] not in use, now in use;
// -ENOSPC when there is none.
static int ida_alloc_range(std::set<unsigned int>* ida, unsigned int min, unsigned int max) {
  unsigned int id = min;
  for (auto it = ida->lower_bound(min); it != ida->end() && *it == id; ++it) ++id;
  if (id > max || id < min) return -ENOSPC;
  ida->insert(id);
  return static_cast<int>(id);
}

// kernel/fork.c: mm_alloc_id (CONFIG_MM_ID). The id large folios record in their slots.
static int mm_alloc_id(mm_struct* mm) {
  const int ret = ida_alloc_range(&kst().mm_ida, MM_ID_MIN, MM_ID_MAX);
  if (ret < 0) return ret;
  mm->mm_id = static_cast<mm_id_t>(ret);
  return 0;
}

// kernel/fork.c: mm_free_id. The id goes back for the next mm (__mmdrop, or a failed mm_init).
static void mm_free_id(mm_struct* mm) {
  const mm_id_t id = mm->mm_id;
  mm->mm_id = MM_ID_DUMMY;
  if (id == MM_ID_DUMMY) return;
  if (WARN_ON_ONCE(id < MM_ID_MIN || id > MM_ID_MAX)) return;
  kst().mm_ida.erase(id);  // ida_free
}

// kernel/fork.c: mm_init.
mm_struct* mm_init(mm_struct* mm, task_struct* p, const user_namespace* user_ns) {
  mm->mm_mt.clear();
  mm->map_count = 0;
  mm->locked_vm = 0;
  // Only VM_INIT_DEF_MASK (VM_NOHUGEPAGE, not modelled) is inherited: mlockall's
  // MCL_FUTURE does not cross fork.
  mm->def_flags = 0;
  atomic_long_set(&mm->pinned_vm, 0);
  atomic_set(&mm->mm_users, 1);
  atomic_set(&mm->mm_count, 1);
  mmap_init_lock(mm);
  spin_lock_init(&mm->page_table_lock);
  atomic_long_set(&mm->pgtables_bytes, 0);
  mm->pmd_huge_pte = nullptr;  // CONFIG_TRANSPARENT_HUGEPAGE without split PMD locks
  for (auto& c : mm->rss_stat.count) atomic_long_set(&c, 0);
  mm->cpu_bitmap.reset();
  mm->owner = p;  // mm_init_owner
  // The dumpable mode is inherited from the creating task's mm (MMF_INIT_MASK); with no
  // mm the default dump filter has it off until exec makes it SUID_DUMP_USER.
  task_struct* cur = current();
  mm->flags = (cur != nullptr && cur->mm != nullptr) ? (cur->mm->flags & MMF_DUMPABLE_MASK) : 0;
  // DEVIATION(fork): the layout setup_new_exec would pick, so an mm that never execs
  // still has a sane one.
  mm->task_size = TASK_SIZE;
  mm->mmap_base = default_mmap_base();

  mm->pgd = pgd_alloc(mm);  // mm_alloc_pgd
  if (mm->pgd == nullptr) {
    free_mm(mm);
    return nullptr;
  }
  if (mm_alloc_id(mm)) {
    pgd_free(mm, mm->pgd);  // fail_noid: mm_free_pgd
    free_mm(mm);
    return nullptr;
  }
  init_new_context(p, mm);
  mm->user_ns = user_ns;  // get_user_ns
  return mm;
}

// kernel/fork.c: check_mm, what __mmdrop verifies before freeing.
void check_mm(mm_struct* mm) {
  static const char* const kNames[NR_MM_COUNTERS] = {"MM_FILEPAGES", "MM_ANONPAGES",
                                                     "MM_SWAPENTS", "MM_SHMEMPAGES"};
  for (int i = 0; i < NR_MM_COUNTERS; ++i) {
    long x = atomic_long_read(&mm->rss_stat.count[i]);
    // DEVIATION(fork): Linux prints "BUG: Bad rss-counter state"; a WARN lets tests see it.
    if (WARN_ON(x != 0))
      std::fprintf(stderr, "BUG: Bad rss-counter state mm:%p type:%s val:%ld\n",
                   static_cast<void*>(mm), kNames[i], x);
  }
  VM_BUG_ON_MM(mm->pmd_huge_pte != nullptr, mm);  // a deposited table leaked
  if (WARN_ON(mm_pgtables_bytes(mm) != 0))
    std::fprintf(stderr, "BUG: non-zero pgtables_bytes on freeing mm: %lu\n",
                 mm_pgtables_bytes(mm));
}

// kernel/fork.c: the last mm_count reference is gone.
void __mmdrop(mm_struct* mm) {
  trace_call tc("__mmdrop", "ctx_id=%llu", static_cast<unsigned long long>(mm->context.ctx_id));
  BUG_ON(mm == &kst().init_mm);
  task_struct* cur = current();
  WARN_ON_ONCE(cur != nullptr && mm == cur->mm);
  WARN_ON_ONCE(cur != nullptr && mm == cur->active_mm);
  pgd_free(mm, mm->pgd);  // mm_free_pgd
  mm->pgd = nullptr;
  mm_free_id(mm);
  destroy_context(mm);
  check_mm(mm);
  free_mm(mm);
}

// kernel/fork.c: the last mm_users reference is gone: tear the address space down.
void __mmput(mm_struct* mm) {
  VM_BUG_ON(atomic_read(&mm->mm_users) != 0);
  exit_mmap(mm);
  mm->owner = nullptr;
  mmdrop(mm);
}

// kernel/fork.c: dup_task_struct. The child starts as a byte copy of the parent.
task_struct* dup_task_struct(task_struct* orig) {
  task_struct* tsk = static_cast<task_struct*>(kmalloc(sizeof(task_struct), GFP_KERNEL));
  if (tsk == nullptr) return nullptr;
  std::memcpy(static_cast<void*>(tsk), orig, sizeof(*tsk));  // arch_dup_task_struct
  atomic_set(&tsk->usage, 2);  // DEVIATION(fork): pid table + running
  tsk->exit_state = 0;
  tsk->exit_code = 0;
  tsk->pid = 0;
  tsk->tgid = 0;
  tsk->mm = nullptr;
  tsk->active_mm = nullptr;
  tsk->real_cred = nullptr;
  tsk->cred = nullptr;
  tsk->signal = nullptr;
  tsk->on_cpu = -1;
  tsk->__state = TASK_RUNNING;
  tsk->wake_q.next = nullptr;
  tsk->lockdep_depth = 0;  // lockdep_init_task (copy_process): no locks held yet
  tsk->fatal_signal = false;
  tsk->last_signal = 0;
  tsk->last_signal_addr = 0;
  tsk->last_si_code = 0;
  tsk->last_pf_addr = 0;
  tsk->last_pf_error_code = 0;
  tsk->nr_pf = 0;
  std::memset(&tsk->thread, 0, sizeof(tsk->thread));
  return tsk;
}

// kernel/cred.c: copy_creds. Threads share the parent's credentials; a new process gets
// its own copy.
int copy_creds(task_struct* p, u64 clone_flags) {
  if (clone_flags & CLONE_THREAD) {
    p->real_cred = get_cred(current()->cred);
    p->cred = get_cred(p->real_cred);
    return 0;
  }
  cred* new_cred = prepare_creds();
  if (new_cred == nullptr) return -ENOMEM;
  p->real_cred = new_cred;
  p->cred = get_cred(new_cred);
  return 0;
}

// kernel/fork.c: copy_signal. Threads share it; a new process gets a fresh one.
int copy_signal(u64 clone_flags, task_struct* tsk) {
  if (clone_flags & CLONE_THREAD) return 0;
  signal_struct* sig = static_cast<signal_struct*>(kzalloc(sizeof(signal_struct), GFP_KERNEL));
  if (sig == nullptr) return -ENOMEM;
  atomic_set(&sig->sigcnt, 1);
  atomic_set(&sig->live, 1);
  sig->nr_threads = 1;
  init_rwsem(&sig->exec_update_lock, "exec_update_lock");
  sig->oom_score_adj = current()->signal->oom_score_adj;
  std::memcpy(sig->rlim, current()->signal->rlim, sizeof(sig->rlim));  // under task_lock
  tsk->signal = sig;
  return 0;
}

// kernel/fork.c: dup_mm. A new address space for `tsk`, a copy of oldmm (fork without
// CLONE_VM). Null on failure (Linux reports -ENOMEM whatever went wrong).
mm_struct* dup_mm(task_struct* tsk, mm_struct* oldmm) {
  trace_call tc("dup_mm", "pid=%d", current()->pid);
  mm_struct* mm = allocate_mm();
  if (mm == nullptr) return tc.ret(static_cast<mm_struct*>(nullptr));
  if (mm_init(mm, tsk, oldmm->user_ns) == nullptr) return tc.ret(static_cast<mm_struct*>(nullptr));
  // memcpy(mm, oldmm, sizeof(*mm)) before mm_init, DEVIATION(fork): field by field
  // after it, for what mm_init leaves alone in Linux: the parent's layout.
  mm->task_size = oldmm->task_size;
  mm->mmap_base = oldmm->mmap_base;
  mm->start_stack = oldmm->start_stack;
  int err = dup_mmap(mm, oldmm);
  if (err) {
    // free_pt: tear down what was copied.
    mm->owner = nullptr;  // mm_init_owner(mm, NULL)
    mmput(mm);
    return tc.ret(static_cast<mm_struct*>(nullptr));
  }
  return tc.ret(mm);
}

// kernel/fork.c: copy_mm.
int copy_mm(u64 clone_flags, task_struct* tsk) {
  tsk->mm = nullptr;
  tsk->active_mm = nullptr;
  mm_struct* oldmm = current()->mm;
  if (oldmm == nullptr) return 0;  // kernel threads and tasks before their first exec
  mm_struct* mm;
  if (clone_flags & CLONE_VM) {
    mmget(oldmm);
    mm = oldmm;
  } else {
    mm = dup_mm(tsk, oldmm);
    if (mm == nullptr) return -ENOMEM;
  }
  tsk->mm = mm;
  tsk->active_mm = mm;
  return 0;
}

// kernel/cred.c: exit_creds, a dead task's two credential references.
void exit_creds(task_struct* tsk) {
  if (tsk->cred != nullptr) put_cred(tsk->cred);
  if (tsk->real_cred != nullptr) put_cred(tsk->real_cred);
  tsk->cred = tsk->real_cred = nullptr;
}

// kernel/fork.c: copy_process, the parts this port has. Returns the new task or an
// ERR_PTR.
task_struct* copy_process(kernel_clone_args* args) {
  const u64 clone_flags = args->flags;
  task_struct* cur = current();
  BUG_ON(cur == nullptr);

  // Threads share signal handlers, and shared handlers need a shared address space.
  if ((clone_flags & CLONE_THREAD) && !(clone_flags & CLONE_SIGHAND))
    return ERR_PTR<task_struct>(-EINVAL);
  if ((clone_flags & CLONE_SIGHAND) && !(clone_flags & CLONE_VM))
    return ERR_PTR<task_struct>(-EINVAL);
  // An idle task has no thread group to join.
  if ((clone_flags & (CLONE_THREAD | CLONE_PARENT)) && is_idle_task(cur))
    return ERR_PTR<task_struct>(-EINVAL);

  task_struct* p = dup_task_struct(cur);
  if (p == nullptr) return ERR_PTR<task_struct>(-ENOMEM);
  p->flags &= ~(PF_KTHREAD | PF_EXITING);
  if (args->kthread) p->flags |= PF_KTHREAD;
  // copy_thread: a kernel thread starts in its function, anything else returns to user.
  p->threadfn = args->kthread ? args->fn : nullptr;
  p->threadfn_data = args->kthread ? args->fn_arg : nullptr;
  // A kernel thread gets the default PKRU; anything else clones current's from the
  // hardware (tsk->thread.pkru is only valid while a task is switched out).
  p->thread.pkru = args->kthread ? pkru_get_init_value() : read_pkru();
  p->kthread_should_stop = false;
  if (args->name != nullptr) set_task_comm(p, args->name);

  int retval = copy_creds(p, clone_flags);
  if (retval < 0) goto bad_fork_free;
  retval = copy_signal(clone_flags, p);
  if (retval < 0) goto bad_fork_cleanup_cred;
  retval = copy_mm(clone_flags, p);
  if (retval < 0) goto bad_fork_cleanup_signal;

  {
    pid_t nr = alloc_pid(p);
    if (nr < 0) {
      retval = nr;
      goto bad_fork_cleanup_mm;
    }
    p->pid = nr;
  }
  if (clone_flags & CLONE_THREAD) {
    p->group_leader = cur->group_leader;
    p->tgid = cur->tgid;
  } else {
    p->group_leader = p;
    p->tgid = p->pid;
  }
  // CLONE_PARENT and threads keep the creator's parent.
  if (clone_flags & (CLONE_PARENT | CLONE_THREAD)) {
    p->real_parent = cur->real_parent;
    p->exit_signal = (clone_flags & CLONE_THREAD) ? -1 : cur->group_leader->exit_signal;
  } else {
    p->real_parent = cur;
    p->exit_signal = args->exit_signal;
  }
  if (clone_flags & CLONE_THREAD) {
    signal_struct* sig = cur->signal;
    p->signal = sig;
    sig->nr_threads++;
    atomic_inc(&sig->live);
    atomic_inc(&sig->sigcnt);
  }
  return p;

bad_fork_cleanup_mm:
  if (p->mm != nullptr) mmput(p->mm);
bad_fork_cleanup_signal:
  if (!(clone_flags & CLONE_THREAD)) put_signal_struct(p->signal);
bad_fork_cleanup_cred:
  exit_creds(p);
bad_fork_free:
  free_task(p);
  return ERR_PTR<task_struct>(retval);
}

}  // namespace

// kernel/fork.c
void set_task_comm(task_struct* tsk, const char* buf) {
  std::strncpy(tsk->comm, buf, TASK_COMM_LEN - 1);
  tsk->comm[TASK_COMM_LEN - 1] = '\0';
}

// kernel/fork.c
pid_t kernel_clone(kernel_clone_args* args) {
  trace_call tc("kernel_clone", "flags=%#llx exit_signal=%d kthread=%u",
                static_cast<unsigned long long>(args->flags), args->exit_signal, args->kthread);
  task_struct* p = copy_process(args);
  if (IS_ERR(p)) return tc.ret(static_cast<pid_t>(PTR_ERR(p)));
  trace_event("task_newtask", "pid=%d comm=%s clone_flags=%#llx", p->pid, p->comm,
              static_cast<unsigned long long>(args->flags));
  // wake_up_new_task: runnable, not running (sim/ decides when it runs). CLONE_VFORK's
  // wait for the child's exec is not modelled.
  return tc.ret(p->pid);
}

// kernel/fork.c
pid_t kernel_thread(int (*fn)(void*), void* arg, const char* name, unsigned long flags) {
  kernel_clone_args args{};
  args.fn = fn;
  args.fn_arg = arg;
  args.flags = ((flags & 0xffffffffUL) | CLONE_VM | CLONE_UNTRACED) & ~CSIGNAL;
  args.exit_signal = static_cast<int>(flags & CSIGNAL);
  args.kthread = 1;
  args.name = name;
  return kernel_clone(&args);
}

// kernel/fork.c
pid_t user_mode_thread(int (*/*fn*/)(void*), void* /*arg*/, unsigned long flags) {
  kernel_clone_args args{};
  args.flags = ((flags & 0xffffffffUL) | CLONE_VM | CLONE_UNTRACED) & ~CSIGNAL;
  args.exit_signal = static_cast<int>(flags & CSIGNAL);
  return kernel_clone(&args);
}

// kernel/fork.c: the last reference to a dead task is gone.
static void __put_task_struct(task_struct* tsk) {
  WARN_ON(!tsk->exit_state && !is_idle_task(tsk));
  WARN_ON(atomic_read(&tsk->usage) != 0);
  WARN_ON(tsk == current());
  exit_creds(tsk);
  put_signal_struct(tsk->signal);
  free_task(tsk);
}

// include/linux/sched/task.h
void put_task_struct(task_struct* t) {
  if (atomic_dec_and_test(&t->usage)) __put_task_struct(t);
}

// kernel/fork.c: mm_alloc.
mm_struct* mm_alloc() {
  mm_struct* mm = allocate_mm();
  if (mm == nullptr) return nullptr;
  task_struct* cur = current();
  const user_namespace* ns = cur != nullptr ? cur->cred->user_ns : &init_user_ns;
  return mm_init(mm, cur, ns);
}

// include/linux/sched/mm.h
void mmdrop(mm_struct* mm) {
  if (unlikely(atomic_dec_and_test(&mm->mm_count))) __mmdrop(mm);
}

// kernel/fork.c
void mmput(mm_struct* mm) {
  if (atomic_dec_and_test(&mm->mm_users)) __mmput(mm);
}

// kernel/fork.c: a reference to the task's address space, or null for kernel threads and
// tasks past exit_mm.
mm_struct* get_task_mm(task_struct* task) {
  if (task->flags & PF_KTHREAD) return nullptr;
  mm_struct* mm = task->mm;
  if (mm != nullptr) mmget(mm);
  return mm;
}

// kernel/fork.c (6.13+): the task's mm with a reference, if current may access it in
// `mode`; ERR_PTR(-EINTR), ERR_PTR(-ESRCH) (no mm) or ERR_PTR(-EACCES) otherwise.
mm_struct* mm_access(task_struct* task, unsigned int mode) {
  trace_call tc("mm_access", "pid=%d mode=%#x", task->pid, mode);
  // down_read_killable and up_read, their single-path branch inline (mm/rwsem.h).
  int err = down_read_killable_inline(&task->signal->exec_update_lock);
  if (err) return tc.ret(ERR_PTR<mm_struct>(err));

  mm_struct* mm = get_task_mm(task);
  if (mm == nullptr) {
    mm = ERR_PTR<mm_struct>(-ESRCH);
  } else if (mm != current()->mm && !ptrace_may_access(task, mode)) {
    mmput(mm);
    mm = ERR_PTR<mm_struct>(-EACCES);
  }
  up_read_inline(&task->signal->exec_update_lock);
  return tc.ret(mm);
}

// fs/exec.c: set the dumpable mode in the low bits of mm->flags.
void set_dumpable(mm_struct* mm, int value) {
  if (WARN_ON(static_cast<unsigned int>(value) > SUID_DUMP_ROOT)) return;
  mm->flags = (mm->flags & ~MMF_DUMPABLE_MASK) | static_cast<unsigned long>(value);
}

// include/asm-generic/resource.h: INIT_RLIMITS, the boot task's limits (inherited by
// every process). DEVIATION(fork): RLIMIT_NPROC and RLIMIT_SIGPENDING, which Linux sizes
// from memory at boot, are unlimited.
static void init_task_rlimits(signal_struct* sig) {
  for (auto& r : sig->rlim) r = {RLIM_INFINITY, RLIM_INFINITY};
  sig->rlim[RLIMIT_STACK] = {RLIMIT_STACK_DEFAULT, RLIM_INFINITY};  // _STK_LIM
  sig->rlim[RLIMIT_CORE] = {0, RLIM_INFINITY};
  sig->rlim[RLIMIT_NOFILE] = {1024, 4096};  // INR_OPEN_CUR, INR_OPEN_MAX
  sig->rlim[RLIMIT_MEMLOCK] = {MLOCK_LIMIT, MLOCK_LIMIT};
  sig->rlim[RLIMIT_MSGQUEUE] = {819200, 819200};  // MQ_BYTES_MAX
  sig->rlim[RLIMIT_NICE] = {0, 0};
  sig->rlim[RLIMIT_RTPRIO] = {0, 0};
}

// kernel/fork.c: fork_idle / init_task. Each CPU gets an idle task (pid 0, PF_KTHREAD,
// no mm) which is `current` when nothing else runs there; all share init_cred.
void init_idle_tasks() {
  kernel_state& ks = kst();
  cred* ic = static_cast<cred*>(kzalloc(sizeof(cred), GFP_KERNEL));
  BUG_ON(ic == nullptr);
  ic->uid = ic->euid = ic->suid = ic->fsuid = 0;
  ic->gid = ic->egid = ic->sgid = ic->fsgid = 0;
  ic->cap_inheritable = CAP_EMPTY_SET;
  ic->cap_permitted = CAP_FULL_SET;
  ic->cap_effective = CAP_FULL_SET;
  ic->cap_bset = CAP_FULL_SET;
  ic->cap_ambient = CAP_EMPTY_SET;
  ic->user_ns = &init_user_ns;
  atomic_set(&ic->usage, 0);
  for (size_t cpu = 0; cpu < ks.cpus.size(); ++cpu) {
    BUG_ON(ks.idle_tasks[cpu] != nullptr);
    task_struct* idle = static_cast<task_struct*>(kzalloc(sizeof(task_struct), GFP_KERNEL));
    signal_struct* sig = static_cast<signal_struct*>(kzalloc(sizeof(signal_struct), GFP_KERNEL));
    BUG_ON(idle == nullptr || sig == nullptr);
    atomic_set(&sig->sigcnt, 1);
    atomic_set(&sig->live, 1);
    sig->nr_threads = 1;
    init_rwsem(&sig->exec_update_lock, "exec_update_lock");
    init_task_rlimits(sig);
    atomic_set(&idle->usage, 1);
    idle->flags = PF_KTHREAD;
    idle->pid = 0;
    idle->tgid = 0;
    idle->group_leader = idle;
    idle->real_parent = idle;
    idle->real_cred = get_cred(ic);
    idle->cred = get_cred(ic);
    idle->signal = sig;
    idle->exit_signal = 0;
    idle->on_cpu = static_cast<int>(cpu);
    char name[32];
    std::snprintf(name, sizeof(name), "swapper/%d", static_cast<int>(cpu));
    set_task_comm(idle, name);
    ks.idle_tasks[cpu] = idle;
    ks.current_task[cpu] = idle;
  }
}

void free_idle_tasks() {
  kernel_state& ks = kst();
  for (size_t cpu = 0; cpu < ks.cpus.size(); ++cpu) {
    task_struct* idle = ks.idle_tasks[cpu];
    if (idle == nullptr) continue;
    if (ks.current_task[cpu] == idle) ks.current_task[cpu] = nullptr;
    ks.idle_tasks[cpu] = nullptr;
    WARN_ON(atomic_read(&idle->usage) != 1);
    exit_creds(idle);
    put_signal_struct(idle->signal);
    free_task(idle);
  }
}

task_struct* idle_task(int cpu) { return kst().idle_tasks[cpu]; }

}  // namespace kernel
