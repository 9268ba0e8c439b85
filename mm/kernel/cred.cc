// mm/kernel/cred.cc: task credentials and the id-changing syscalls.
// Port of kernel/cred.c (prepare_creds, commit_creds, abort_creds, put_cred),
// kernel/capability.c (ns_capable, capable, has_ns_capability, capset) and the
// setresuid/setresgid/prctl(PR_SET_DUMPABLE)/do_prlimit parts of kernel/sys.c, Linux 6.18.
//
// Deviations (grep "DEVIATION(cred)"):
//  - One user namespace (init_user_ns) and no uid mapping: kuid_t is uid_t.
//  - No RCU: commit_creds swaps the pointers and drops the old credentials at once.
//  - No user_struct/ucounts (RLIMIT_NPROC), no keyrings, no LSM blobs, no audit.
//  - Credentials come from kmalloc (kmem_cache "cred_jar" in Linux).
#include <cstring>

#include "mm/kernel/task.h"
#include "mm/mm.h"
#include "mm/slab.h"
#include "mm/trace.h"

namespace kernel {

// kernel/user.c: the initial user namespace, the only one. It has no mutable state.
const user_namespace init_user_ns = {0};

namespace {

// kernel/cred.c
void __put_cred(cred* c) {
  WARN_ON(atomic_read(&c->usage) != 0);
  kfree(c);
}

// include/linux/cred.h: is the new set of capabilities within the old one?
bool cred_cap_issubset(const cred* set, const cred* subset) {
  if (set->user_ns == subset->user_ns)
    return cap_issubset(subset->cap_permitted, set->cap_permitted);
  return false;
}

// include/linux/capability.h: the capability set union and intersection.
kernel_cap_t cap_combine(kernel_cap_t a, kernel_cap_t b) { return {a.val | b.val}; }
kernel_cap_t cap_intersect(kernel_cap_t a, kernel_cap_t b) { return {a.val & b.val}; }

// kernel/capability.c: ns_capable_common (audit is not modelled).
bool ns_capable_common(const user_namespace* ns, int cap, unsigned int /*opts*/) {
  BUG_ON(cap < 0 || cap > CAP_LAST_CAP);
  return cap_capable(current_cred(), ns, cap, 0) == 0;
}

// kernel/sys.c: does the caller have CAP_SETUID/CAP_SETGID over its own namespace?
bool ns_capable_setid(const user_namespace* ns, int cap) { return ns_capable_common(ns, cap, 0); }

}  // namespace

// kernel/cred.c
void put_cred(const cred* c) {
  cred* mut = const_cast<cred*>(c);
  if (atomic_dec_and_test(&mut->usage)) __put_cred(mut);
}

// include/linux/cred.h
const cred* current_cred() { return current()->cred; }

// kernel/cred.c: the credentials of the boot tasks. DEVIATION(cred): allocated per
// machine by init_idle_tasks (the first call), so a machine's creds die with it.
const cred* init_cred() {
  task_struct* idle = kst().idle_tasks[0];
  BUG_ON(idle == nullptr);
  return idle->real_cred;
}

// kernel/cred.c
cred* prepare_creds() {
  cred* new_cred = static_cast<cred*>(kmalloc(sizeof(cred), GFP_KERNEL));
  if (new_cred == nullptr) return nullptr;
  const cred* old = current_cred();
  std::memcpy(static_cast<void*>(new_cred), old, sizeof(*new_cred));
  atomic_set(&new_cred->usage, 1);
  return new_cred;
}

// kernel/cred.c
void abort_creds(cred* new_cred) {
  BUG_ON(atomic_read(&new_cred->usage) < 1);
  put_cred(new_cred);
}

// kernel/cred.c
int commit_creds(cred* new_cred) {
  task_struct* task = current();
  const cred* old = task->real_cred;
  trace_call tc("commit_creds", "pid=%d uid=%u euid=%u suid=%u", task->pid, new_cred->uid,
                new_cred->euid, new_cred->suid);
  BUG_ON(task->cred != old);
  BUG_ON(atomic_read(&new_cred->usage) < 1);

  get_cred(new_cred);  // one reference each for real_cred and cred

  // Dumpability follows the effective ids and the capability set: a task whose
  // credentials changed is no longer dumpable unless fs.suid_dumpable says so.
  if (old->euid != new_cred->euid || old->egid != new_cred->egid ||
      old->fsuid != new_cred->fsuid || old->fsgid != new_cred->fsgid ||
      !cred_cap_issubset(old, new_cred)) {
    if (task->mm != nullptr) set_dumpable(task->mm, kst().suid_dumpable);
  }

  task->real_cred = new_cred;
  task->cred = new_cred;
  // Both pointers referred to `old`: drop both references.
  put_cred(old);
  put_cred(old);
  return tc.ret(0);
}

// kernel/capability.c
bool has_ns_capability(task_struct* t, const user_namespace* ns, int cap) {
  return cap_capable(t->cred, ns, cap, 0) == 0;
}

// kernel/capability.c
bool ns_capable(const user_namespace* ns, int cap) { return ns_capable_common(ns, cap, 0); }

// kernel/capability.c
bool ns_capable_noaudit(const user_namespace* ns, int cap) { return ns_capable_common(ns, cap, 0); }

// kernel/capability.c
bool capable(int cap) { return ns_capable(&init_user_ns, cap); }

// include/linux/sched/signal.h: rlimit.
unsigned long rlimit(unsigned int limit) { return task_rlimit(current(), limit); }

// kernel/sys.c: do_prlimit. DEVIATION(cred): no security_task_setrlimit (only commoncap,
// which has no hook) and no RLIMIT_CPU timer update; the group leader's task_lock is not
// modelled (the limits are changed by one path at a time).
int do_prlimit(task_struct* tsk, unsigned int resource, const struct rlimit* new_rlim,
               struct rlimit* old_rlim) {
  if (resource >= RLIM_NLIMITS) return -EINVAL;
  if (new_rlim != nullptr) {
    if (new_rlim->rlim_cur > new_rlim->rlim_max) return -EINVAL;
    if (resource == RLIMIT_NOFILE && new_rlim->rlim_max > 1024 * 1024) return -EPERM;  // sysctl_nr_open
  }
  struct rlimit* rlim = tsk->signal->rlim + resource;
  int retval = 0;
  if (new_rlim != nullptr) {
    // Raising the hard limit takes CAP_SYS_RESOURCE (in init_user_ns).
    if (new_rlim->rlim_max > rlim->rlim_max && !capable(CAP_SYS_RESOURCE)) retval = -EPERM;
  }
  if (!retval) {
    if (old_rlim != nullptr) *old_rlim = *rlim;
    if (new_rlim != nullptr) *rlim = *new_rlim;
  }
  return retval;
}

// kernel/sys.c: __sys_setresuid.
long __sys_setresuid(uid_t ruid, uid_t euid, uid_t suid) {
  trace_call tc("__sys_setresuid", "ruid=%d euid=%d suid=%d", static_cast<int>(ruid),
                static_cast<int>(euid), static_cast<int>(suid));
  const uid_t unchanged = static_cast<uid_t>(-1);
  const cred* old = current_cred();

  // Nothing to do if every requested id is already in place.
  if ((ruid == unchanged || ruid == old->uid) &&
      (euid == unchanged || (euid == old->euid && euid == old->fsuid)) &&
      (suid == unchanged || suid == old->suid))
    return tc.ret(0L);

  // An id that is none of the current three needs CAP_SETUID.
  auto is_new = [old, unchanged](uid_t id) {
    return id != unchanged && id != old->uid && id != old->euid && id != old->suid;
  };
  if ((is_new(ruid) || is_new(euid) || is_new(suid)) &&
      !ns_capable_setid(old->user_ns, CAP_SETUID))
    return tc.ret(static_cast<long>(-EPERM));

  cred* new_cred = prepare_creds();
  if (new_cred == nullptr) return tc.ret(static_cast<long>(-ENOMEM));
  if (ruid != unchanged) new_cred->uid = ruid;  // DEVIATION(cred): no set_user/ucounts
  if (euid != unchanged) new_cred->euid = euid;
  if (suid != unchanged) new_cred->suid = suid;
  new_cred->fsuid = new_cred->euid;

  int retval = cap_task_fix_setuid(new_cred, old, LSM_SETID_RES);
  if (retval < 0) {
    abort_creds(new_cred);
    return tc.ret(static_cast<long>(retval));
  }
  return tc.ret(static_cast<long>(commit_creds(new_cred)));
}

// kernel/sys.c: __sys_setresgid.
long __sys_setresgid(gid_t rgid, gid_t egid, gid_t sgid) {
  trace_call tc("__sys_setresgid", "rgid=%d egid=%d sgid=%d", static_cast<int>(rgid),
                static_cast<int>(egid), static_cast<int>(sgid));
  const gid_t unchanged = static_cast<gid_t>(-1);
  const cred* old = current_cred();

  if ((rgid == unchanged || rgid == old->gid) &&
      (egid == unchanged || (egid == old->egid && egid == old->fsgid)) &&
      (sgid == unchanged || sgid == old->sgid))
    return tc.ret(0L);

  auto is_new = [old, unchanged](gid_t id) {
    return id != unchanged && id != old->gid && id != old->egid && id != old->sgid;
  };
  if ((is_new(rgid) || is_new(egid) || is_new(sgid)) &&
      !ns_capable_setid(old->user_ns, CAP_SETGID))
    return tc.ret(static_cast<long>(-EPERM));

  cred* new_cred = prepare_creds();
  if (new_cred == nullptr) return tc.ret(static_cast<long>(-ENOMEM));
  if (rgid != unchanged) new_cred->gid = rgid;
  if (egid != unchanged) new_cred->egid = egid;
  if (sgid != unchanged) new_cred->sgid = sgid;
  new_cred->fsgid = new_cred->egid;
  // security_task_fix_setgid: commoncap has no hook for it.
  return tc.ret(static_cast<long>(commit_creds(new_cred)));
}

// kernel/capability.c: SYSCALL_DEFINE2(capset), after the user header is decoded.
long sys_capset_lite(kernel_cap_t effective, kernel_cap_t inheritable, kernel_cap_t permitted) {
  trace_call tc("capset", "eff=%#llx inh=%#llx perm=%#llx",
                static_cast<unsigned long long>(effective.val),
                static_cast<unsigned long long>(inheritable.val),
                static_cast<unsigned long long>(permitted.val));
  cred* new_cred = prepare_creds();
  if (new_cred == nullptr) return tc.ret(static_cast<long>(-ENOMEM));
  int ret = cap_capset(new_cred, current_cred(), &effective, &inheritable, &permitted);
  if (ret < 0) {
    abort_creds(new_cred);
    return tc.ret(static_cast<long>(ret));
  }
  return tc.ret(static_cast<long>(commit_creds(new_cred)));
}

// kernel/sys.c: prctl(PR_SET_DUMPABLE).
long prctl_set_dumpable(unsigned long value) {
  if (value != SUID_DUMP_DISABLE && value != SUID_DUMP_USER) return -EINVAL;
  mm_struct* mm = current()->mm;
  if (mm == nullptr) return -EINVAL;  // DEVIATION(cred): Linux kthreads never get here
  set_dumpable(mm, static_cast<int>(value));
  return 0;
}

// security/commoncap.c: cap_capset.
int cap_capset(cred* new_cred, const cred* old, const kernel_cap_t* effective,
               const kernel_cap_t* inheritable, const kernel_cap_t* permitted) {
  // Without CAP_SETPCAP the inheritable set may only come from what is held.
  const bool inh_capped = cap_capable(current_cred(), current_cred()->user_ns, CAP_SETPCAP, 0) != 0;
  if (inh_capped &&
      !cap_issubset(*inheritable, cap_combine(old->cap_inheritable, old->cap_permitted)))
    return -EPERM;
  if (!cap_issubset(*inheritable, cap_combine(old->cap_inheritable, old->cap_bset)))
    return -EPERM;
  // Permitted may only shrink; effective must lie within the new permitted.
  if (!cap_issubset(*permitted, old->cap_permitted)) return -EPERM;
  if (!cap_issubset(*effective, *permitted)) return -EPERM;

  new_cred->cap_effective = *effective;
  new_cred->cap_inheritable = *inheritable;
  new_cred->cap_permitted = *permitted;
  new_cred->cap_ambient =
      cap_intersect(new_cred->cap_ambient, cap_intersect(*permitted, *inheritable));
  return 0;
}

}  // namespace kernel
