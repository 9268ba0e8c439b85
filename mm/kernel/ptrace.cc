// mm/kernel/ptrace.cc: may one task inspect another?
// Port of kernel/ptrace.c (ptrace_has_cap, __ptrace_may_access, ptrace_may_access) at
// Linux 6.18. process_vm_readv/writev reach it through mm_access(task,
// PTRACE_MODE_ATTACH_REALCREDS).
//
// Deviations (grep "DEVIATION(ptrace)"): no task_lock/RCU (single host thread), no
// audit; the only LSM is commoncap.
#include "mm/kernel/task.h"
#include "mm/mm.h"
#include "mm/trace.h"

namespace kernel {
namespace {

// kernel/ptrace.c
bool ptrace_has_cap(const user_namespace* ns, unsigned int mode) {
  if (mode & PTRACE_MODE_NOAUDIT) return ns_capable_noaudit(ns, CAP_SYS_PTRACE);
  return ns_capable(ns, CAP_SYS_PTRACE);
}

}  // namespace

// kernel/ptrace.c: 0 if `current` may access `task` in `mode`, else -EPERM.
int __ptrace_may_access(task_struct* task, unsigned int mode) {
  trace_call tc("__ptrace_may_access", "pid=%d mode=%#x", task->pid, mode);
  const cred* c = current_cred();

  // Exactly one of FSCREDS and REALCREDS must say which caller ids to compare.
  if (!(mode & PTRACE_MODE_FSCREDS) == !(mode & PTRACE_MODE_REALCREDS)) {
    WARN_ON(true);
    return tc.ret(-EPERM);
  }

  // A thread group may always look at itself; no security module may refuse that.
  if (same_thread_group(task, current())) return tc.ret(0);

  uid_t caller_uid;
  gid_t caller_gid;
  if (mode & PTRACE_MODE_FSCREDS) {
    caller_uid = c->fsuid;
    caller_gid = c->fsgid;
  } else {
    // REALCREDS: the caller's real ids, so a setuid program cannot be turned against
    // the user who started it.
    caller_uid = c->uid;
    caller_gid = c->gid;
  }
  const cred* tcred = __task_cred(task);
  bool ok = (caller_uid == tcred->euid && caller_uid == tcred->suid &&
             caller_uid == tcred->uid && caller_gid == tcred->egid &&
             caller_gid == tcred->sgid && caller_gid == tcred->gid) ||
            ptrace_has_cap(tcred->user_ns, mode);
  if (!ok) return tc.ret(-EPERM);

  // A task that dropped privileges (or said so with prctl) is not dumpable; only
  // CAP_SYS_PTRACE over its mm's namespace may look inside it then.
  mm_struct* mm = task->mm;
  if (mm != nullptr && get_dumpable(mm) != SUID_DUMP_USER && !ptrace_has_cap(mm->user_ns, mode))
    return tc.ret(-EPERM);

  return tc.ret(security_ptrace_access_check(task, mode));
}

// kernel/ptrace.c
bool ptrace_may_access(task_struct* task, unsigned int mode) {
  return __ptrace_may_access(task, mode) == 0;
}

}  // namespace kernel
