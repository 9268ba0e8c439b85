// mm/kernel/exec.cc: what execve does to the address space.
// Port of the memory parts of fs/exec.c (exec_mmap, setup_new_exec's layout and
// dumpability, bprm_mm_init + setup_arg_pages' stack VMA) and arch/x86/mm/mmap.c
// (arch_pick_mmap_layout), Linux 6.18.
//
// Deviations (grep "DEVIATION(exec)"):
//  - There is no binary, no argv/envp and no ELF loader: the new address space holds
//    only the [stack] VMA. The stack is created with vm_mmap_pgoff(MAP_FIXED |
//    MAP_GROWSDOWN) after the switch, where Linux builds it by hand in the new mm before
//    the switch (__bprm_mm_init) and then moves it (setup_arg_pages).
//  - No de_thread: only a single-threaded task may exec (else -EINVAL).
//  - Dumpability follows begin_new_exec's id rule only: no binary, so no would_dump and
//    no setuid bit (the ids are the task's own).
//  - No address-space randomisation (as with `setarch -R`): deterministic layout.
#include "mm/arch/x86/pkeys.h"
#include "mm/arch/x86/tlb.h"
#include "mm/kernel/task.h"
#include "mm/mm.h"
#include "mm/trace.h"

namespace kernel {
namespace {

// fs/exec.c: install `mm` as current's address space and release the old one.
int exec_mmap(mm_struct* mm) {
  task_struct* tsk = current();
  mm_struct* old_mm = tsk->mm;
  int ret = down_write_killable(&tsk->signal->exec_update_lock);
  if (ret) return ret;
  if (old_mm != nullptr) {
    ret = mmap_read_lock_killable(old_mm);
    if (ret) {
      up_write(&tsk->signal->exec_update_lock);
      return ret;
    }
  }
  mm_struct* active_mm = tsk->active_mm;
  tsk->active_mm = mm;
  tsk->mm = mm;
  switch_mm(active_mm, mm, tsk);  // activate_mm
  if (old_mm != nullptr) {
    mmap_read_unlock(old_mm);
    BUG_ON(active_mm != old_mm);
    if (old_mm->owner == tsk) {  // mm_update_next_owner, reduced: others keep using it
      old_mm->owner = nullptr;
      for (const auto& [nr, t] : kst().pid_table)
        if (t != tsk && t->mm == old_mm) {
          old_mm->owner = t;
          break;
        }
    }
    mmput(old_mm);
    up_write(&tsk->signal->exec_update_lock);
    return 0;
  }
  // A kernel thread's borrowed mm (its lazy-TLB reference) is given back.
  mmdrop_lazy_tlb(active_mm);
  up_write(&tsk->signal->exec_update_lock);
  return 0;
}

}  // namespace

// fs/exec.c (begin_new_exec, setup_new_exec, setup_arg_pages), reduced.
int exec_mm_lite(unsigned long stack_top, unsigned long stack_size) {
  task_struct* tsk = current();
  trace_call tc("exec_mm_lite", "pid=%d stack_top=%#lx stack_size=%#lx", tsk->pid, stack_top,
                stack_size);
  if (tsk->flags & PF_KTHREAD) return tc.ret(-EINVAL);
  if (tsk->signal->nr_threads != 1) return tc.ret(-EINVAL);  // DEVIATION(exec): no de_thread
  if (stack_size == 0 || (stack_size & ~PAGE_MASK) || (stack_top & ~PAGE_MASK) ||
      stack_top > TASK_SIZE || stack_size > stack_top)
    return tc.ret(-EINVAL);

  mm_struct* mm = mm_alloc();  // bprm_mm_init
  if (mm == nullptr) return tc.ret(-ENOMEM);
  int ret = exec_mmap(mm);
  if (ret) {
    mmput(mm);
    return tc.ret(ret);
  }
  // begin_new_exec -> flush_thread -> pkru_flush_thread: the default protection-key rights.
  pkru_write_default();
  // setup_new_exec: arch_pick_mmap_layout.
  mm->task_size = TASK_SIZE;
  // begin_new_exec's dumpability: a task whose effective ids differ from its real ones
  // (a setuid/setgid transition) gets fs.suid_dumpable, any other SUID_DUMP_USER.
  // DEVIATION(exec): there is no binary, so no would_dump (unreadable file) and no
  // setuid bit: the ids are the ones the task already has (commit_creds of a setuid
  // binary's credentials would apply suid_dumpable on its own).
  const cred* c = current_cred();
  if (!(c->euid == c->uid && c->egid == c->gid))
    set_dumpable(mm, kst().suid_dumpable);
  else
    set_dumpable(mm, SUID_DUMP_USER);

  // setup_arg_pages: the stack VMA, growing down from stack_top.
  unsigned long addr = vm_mmap_pgoff(nullptr, stack_top - stack_size, stack_size,
                                     PROT_READ | PROT_WRITE,
                                     MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED | MAP_GROWSDOWN |
                                         MAP_STACK,
                                     0);
  // Past the point of no return Linux kills the task; the caller here sees the error and
  // the task keeps the new (empty) address space.
  if (IS_ERR_VALUE(addr)) return tc.ret(static_cast<int>(static_cast<long>(addr)));
  mmap_read_lock(mm);
  vm_area_struct* vma = vma_lookup(mm, addr);
  if (vma != nullptr) vma->anon_name = "[stack]";
  mmap_read_unlock(mm);
  mm->start_stack = stack_top - PAGE_SIZE;
  return tc.ret(0);
}

}  // namespace kernel
