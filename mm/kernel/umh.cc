// mm/kernel/umh.cc: the kernel starting a user process.
// Port of kernel/umh.c (call_usermodehelper_exec_async, call_usermodehelper_exec_sync's
// wait for the child) at Linux 6.18, the one way sim/ and the tests create processes.
//
// Deviations (grep "DEVIATION(umh)"):
//  - No workqueue and no subprocess_info: the caller runs as init and the child is
//    cloned from init (CLONE_VM | CLONE_VFORK, as posix_spawn does), where Linux clones a
//    user-mode thread from a kworker and reparents it to kthreadd (CLONE_PARENT).
//  - The child "execs" with exec_mm_lite (a [stack] only, no binary) and then takes the
//    caller's credentials, ids and all, where Linux's helper keeps root's and the binary's
//    set-id bits decide; the mm's dumpability is then set as exec would leave it.
#include "mm/kernel/task.h"
#include "mm/mm.h"
#include "mm/trace.h"

namespace kernel {
namespace {

// kernel/umh.c (call_usermodehelper_exec_async's prepare_creds/commit_creds), with the
// requested identity. DEVIATION(umh): see the file comment.
int umh_install_creds(const umh_creds* creds) {
  cred* c = prepare_creds();
  if (c == nullptr) return -ENOMEM;
  c->uid = creds->ruid;
  c->euid = c->fsuid = creds->euid;
  c->suid = creds->suid;
  c->gid = creds->rgid;
  c->egid = c->fsgid = creds->egid;
  c->sgid = creds->sgid;
  c->cap_permitted = c->cap_effective = kernel_cap_t{creds->caps & CAP_FULL_SET.val};
  c->cap_inheritable = CAP_EMPTY_SET;
  c->cap_ambient = CAP_EMPTY_SET;
  c->cap_bset = CAP_FULL_SET;  // usermodehelper_bset
  return commit_creds(c);
}

}  // namespace

// kernel/umh.c: call_usermodehelper_exec_async. DEVIATION(umh): see the file comment.
pid_t call_usermodehelper_lite(const char* comm, const umh_creds* creds,
                               unsigned long stack_top, unsigned long stack_size) {
  task_struct* init = current();
  BUG_ON(init == nullptr || init != child_reaper());
  trace_call tc("call_usermodehelper_lite", "comm=%s uid=%u", comm, creds->euid);
  kernel_clone_args args{};
  args.flags = CLONE_VM | CLONE_VFORK;
  args.exit_signal = SIGCHLD;
  const pid_t pid = kernel_clone(&args);
  if (pid < 0) return tc.ret(pid);
  task_struct* t = find_task_by_vpid(pid);
  context_switch(t);
  int ret = exec_mm_lite(stack_top, stack_size);
  if (ret == 0) ret = umh_install_creds(creds);
  if (ret != 0) {
    // The child could not become the program: it exits, and the waiting parent reaps it
    // (call_usermodehelper_exec_sync's kernel_wait).
    do_exit(0);
    context_switch(init);
    kernel_wait4(pid, nullptr, WNOHANG);
    return tc.ret(ret);
  }
  // Decided by exec, whatever commit_creds concluded from the id change.
  set_dumpable(t->mm, creds->dumpable ? SUID_DUMP_USER : SUID_DUMP_DISABLE);
  set_task_comm(t, comm);
  return tc.ret(pid);
}

}  // namespace kernel
