// mm/kernel/commoncap.cc: the capability LSM, the parts process_vm_* and the id
// syscalls reach.
// Port of security/commoncap.c (cap_capable, cap_ptrace_access_check,
// cap_task_fix_setuid with cap_emulate_setxuid) and the ptrace hook of
// security/security.c, Linux 6.18.
//
// Deviations (grep "DEVIATION(commoncap)"):
//  - One user namespace: cap_capable's walk up the namespace tree is a single step, and
//    "same namespace" is always true.
//  - No other LSM is stacked (no Yama): security_ptrace_access_check is commoncap alone.
//  - No securebits (SECURE_NO_SETUID_FIXUP, SECURE_KEEP_CAPS are never set).
#include "mm/kernel/task.h"

namespace kernel {

// security/commoncap.c: does credential `c` hold `cap` in `targ_ns`? 0 or -EPERM.
int cap_capable(const cred* c, const user_namespace* targ_ns, int cap, unsigned int /*opts*/) {
  // DEVIATION(commoncap): the namespace walk ends at once: c->user_ns == targ_ns.
  if (c->user_ns == targ_ns) return cap_raised(c->cap_effective, cap) ? 0 : -EPERM;
  return -EPERM;
}

// security/commoncap.c
int cap_ptrace_access_check(task_struct* child, unsigned int mode) {
  const cred* c = current_cred();
  const cred* child_cred = __task_cred(child);
  // FSCREDS checks use the caller's effective set; REALCREDS its permitted set.
  const kernel_cap_t* caller_caps =
      (mode & PTRACE_MODE_FSCREDS) ? &c->cap_effective : &c->cap_permitted;
  // Holding every capability the target may use is enough...
  if (c->user_ns == child_cred->user_ns &&
      cap_issubset(child_cred->cap_permitted, *caller_caps))
    return 0;
  // ...otherwise CAP_SYS_PTRACE over the target's namespace is needed.
  if (ns_capable(child_cred->user_ns, CAP_SYS_PTRACE)) return 0;
  return -EPERM;
}

// security/security.c
int security_ptrace_access_check(task_struct* child, unsigned int mode) {
  return cap_ptrace_access_check(child, mode);
}

namespace {

// security/commoncap.c: capabilities follow a change away from or back to uid 0.
void cap_emulate_setxuid(cred* new_cred, const cred* old) {
  const uid_t root_uid = 0;
  // Dropping every root id clears the permitted and effective sets.
  if ((old->uid == root_uid || old->euid == root_uid || old->suid == root_uid) &&
      (new_cred->uid != root_uid && new_cred->euid != root_uid &&
       new_cred->suid != root_uid)) {
    new_cred->cap_permitted = CAP_EMPTY_SET;
    new_cred->cap_effective = CAP_EMPTY_SET;
    new_cred->cap_ambient = CAP_EMPTY_SET;
  }
  // Leaving euid 0 clears the effective set; returning to it restores it from permitted.
  if (old->euid == root_uid && new_cred->euid != root_uid)
    new_cred->cap_effective = CAP_EMPTY_SET;
  if (old->euid != root_uid && new_cred->euid == root_uid)
    new_cred->cap_effective = new_cred->cap_permitted;
}

}  // namespace

// security/commoncap.c
int cap_task_fix_setuid(cred* new_cred, const cred* old, int flags) {
  switch (flags) {
    case LSM_SETID_RE:
    case LSM_SETID_ID:
    case LSM_SETID_RES:
      cap_emulate_setxuid(new_cred, old);
      break;
    case LSM_SETID_FS:
      // A filesystem uid leaving 0 drops the filesystem capabilities; returning restores
      // them. DEVIATION(commoncap): the CAP_FS_MASK bits are not modelled separately.
      break;
    default:
      return -EINVAL;
  }
  return 0;
}

}  // namespace kernel
