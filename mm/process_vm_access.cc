// mm/process_vm_access.cc: process_vm_readv / process_vm_writev.
// Port of mm/process_vm_access.c at Linux 6.18 (mm_access() returns ERR_PTR only, 6.13+):
// pin_user_pages_remote(mm, pa, n, flags, pages, &locked) under mmap_read_lock and
// unpin_user_pages_dirty_lock(pages, n, vm_write) at the end of each batch;
// import_iovec(ITER_SOURCE/ITER_DEST) for the local vector (ITER_UBUF when it has one
// element) and iovec_from_user() for the remote one, with the "local count 0 returns 0"
// early exit; find_get_task_by_vpid(); mm_access(task, PTRACE_MODE_ATTACH_REALCREDS).
//
// The page-array sizing counts pages with `base + len - 1` and PVM_MAX_KMALLOC_PAGES is a
// page count with the batch size named PVM_MAX_USER_PAGES, as in 6.12+ (older kernels
// counted one page too many for a page-aligned end, and defined the constant in bytes).
//
// Locking and lifetime: mm_access() takes an mm_users reference, so the target's address
// space outlives the call even if the target exits. The target's mmap_lock is held for
// reading only around each pin_user_pages_remote() batch, never during the copy; the pins
// (GUP_PIN_COUNTING_BIAS each) keep the frames alive if the target unmaps them meanwhile.
// The copy reaches the remote pages through the direct map (page_address), never through
// the target's page tables or TLB.
//
// Deviations (grep "DEVIATION(process_vm_access)"):
//  - The batch size is a run-time knob, kst().sysctl_pvm_max_batch_pages (default 1024,
//    the kernel's PVM_MAX_USER_PAGES), clamped to
//    [1, PVM_MAX_BATCH_PAGES_LIMIT]; the kmalloc'd array is sized from it the same way.
//  - Test hooks (struct pvm_hooks, kst().pvm_hooks) after each pin and before each unpin.
//  - Preemption points (mm/sched_hooks.h) before each page copied and each pin batch,
//    where sim/'s scheduler may run another CPU's path.
//  - The static functions of Linux are external (declared in mm/process_vm_access.h).
//  - No compat syscalls (in_compat_syscall() is false).
#include "mm/process_vm_access.h"

#include <algorithm>

#include "mm/errno.h"
#include "mm/kernel.h"
#include "mm/lib/iov_iter.h"
#include "mm/mm.h"
#include "mm/sched_hooks.h"
#include "mm/slab.h"
#include "mm/trace.h"

namespace kernel {

// DEVIATION(process_vm_access): the batch size, in pages, from the knob (see banner).
static inline unsigned long pvm_max_pages_per_loop() {
  long knob = kst().sysctl_pvm_max_batch_pages;
  if (knob < 1) knob = 1;
  return std::min(static_cast<unsigned long>(knob), PVM_MAX_BATCH_PAGES_LIMIT);
}

// mm/process_vm_access.c: copy between consecutive pinned pages and the local iterator,
// page by page, starting `offset` bytes into the first page.
int process_vm_rw_pages(struct page** pages, unsigned offset, size_t len, struct iov_iter* iter,
                        int vm_write) {
  trace_call tc("process_vm_rw_pages", "offset=%u len=%zu count=%zu vm_write=%d", offset, len,
                iov_iter_count(iter), vm_write);
  // Do the copy for each page
  while (len && iov_iter_count(iter)) {
    struct page* page = *pages++;
    size_t copy = PAGE_SIZE - offset;
    size_t copied;

    if (copy > len) copy = len;

    // DEVIATION(process_vm_access): a preemption point before each page (the copy's
    // might_fault in Linux; one branch without a scheduler).
    sched_point(SCHED_POINT_COPY_PAGE, page, "process_vm_rw_pages");

    if (vm_write)
      copied = copy_page_from_iter(page, offset, copy, iter);
    else
      copied = copy_page_to_iter(page, offset, copy, iter);

    len -= copied;
    // A short copy with room left in the iterator means a local byte faulted.
    if (copied < copy && iov_iter_count(iter)) return tc.ret(-EFAULT);
    offset = 0;
  }
  return tc.ret(0);
}

// mm/process_vm_access.c: one remote iovec element, in batches of pinned pages.
int process_vm_rw_single_vec(unsigned long addr, unsigned long len, struct iov_iter* iter,
                             struct page** process_pages, struct mm_struct* mm,
                             struct task_struct* task, int vm_write) {
  trace_call tc("process_vm_rw_single_vec", "addr=%#lx len=%lu count=%zu vm_write=%d", addr, len,
                iov_iter_count(iter), vm_write);
  unsigned long pa = addr & PAGE_MASK;
  unsigned long start_offset = addr - pa;
  unsigned long nr_pages;
  ssize_t rc = 0;
  // PVM_MAX_USER_PAGES = 1024 in Linux.
  // DEVIATION(process_vm_access): taken from the batch-size knob.
  unsigned long max_pages_per_loop = pvm_max_pages_per_loop();
  unsigned int flags = 0;

  (void)task;  // unused since GUP stopped taking a task (5.9); Linux keeps the parameter

  // Work out address and page range required
  if (len == 0) return tc.ret(0);
  nr_pages = (addr + len - 1) / PAGE_SIZE - addr / PAGE_SIZE + 1;

  if (vm_write) flags |= FOLL_WRITE;

  while (!rc && nr_pages && iov_iter_count(iter)) {
    long pinned_pages = static_cast<long>(std::min(nr_pages, max_pages_per_loop));
    int locked = 1;
    size_t bytes;

    // DEVIATION(process_vm_access): a preemption point before each pin batch.
    sched_point(SCHED_POINT_GUP_BATCH, mm, "process_vm_rw_single_vec");
    // Get the pages we're interested in. This is a remote access: mm need not be
    // current->mm, and its page tables are walked in software.
    mmap_read_lock(mm);
    pinned_pages = pin_user_pages_remote(mm, pa, static_cast<unsigned long>(pinned_pages), flags,
                                         process_pages, &locked);
    // GUP may have dropped (and not re-taken) the lock while faulting.
    if (locked) mmap_read_unlock(mm);
    if (pinned_pages <= 0) return tc.ret(-EFAULT);

    // DEVIATION(process_vm_access): test hook, lock released as in Linux at this point.
    if (unlikely(kst().pvm_hooks != nullptr) && kst().pvm_hooks->after_pin)
      kst().pvm_hooks->after_pin(mm, pa, pinned_pages, process_pages);

    bytes = static_cast<size_t>(pinned_pages) * PAGE_SIZE - start_offset;
    if (bytes > len) bytes = len;

    rc = process_vm_rw_pages(process_pages, static_cast<unsigned>(start_offset), bytes, iter,
                             vm_write);
    len -= bytes;
    start_offset = 0;
    nr_pages -= static_cast<unsigned long>(pinned_pages);
    pa += static_cast<unsigned long>(pinned_pages) * PAGE_SIZE;

    // DEVIATION(process_vm_access): test hook.
    if (unlikely(kst().pvm_hooks != nullptr) && kst().pvm_hooks->before_unpin)
      kst().pvm_hooks->before_unpin(mm, pa - static_cast<unsigned long>(pinned_pages) * PAGE_SIZE,
                                    pinned_pages, process_pages);

    // If vm_write is set, the pages need to be made dirty:
    unpin_user_pages_dirty_lock(process_pages, static_cast<unsigned long>(pinned_pages),
                                vm_write);
  }

  return tc.ret(static_cast<int>(rc));
}

// mm/process_vm_access.c: find the target, get its mm with the ptrace check, and walk
// the remote vector one element at a time while the local iterator has room.
ssize_t process_vm_rw_core(pid_t pid, struct iov_iter* iter, const struct iovec* rvec,
                           unsigned long riovcnt, unsigned long flags, int vm_write) {
  trace_call tc("process_vm_rw_core", "pid=%d count=%zu riovcnt=%lu vm_write=%d", pid,
                iov_iter_count(iter), riovcnt, vm_write);
  struct task_struct* task;
  struct page* pp_stack[PVM_MAX_PP_ARRAY_COUNT];
  struct page** process_pages = pp_stack;
  struct mm_struct* mm;
  unsigned long i;
  ssize_t rc = 0;
  unsigned long nr_pages = 0;
  unsigned long nr_pages_iov;
  ssize_t iov_len;
  size_t total_len = iov_iter_count(iter);

  (void)flags;  // currently unused (process_vm_rw rejected any non-zero value)

  // How many page pointers will one batch need at most? The largest remote element
  // decides (zero-length elements need none).
  for (i = 0; i < riovcnt; i++) {
    iov_len = static_cast<ssize_t>(rvec[i].iov_len);
    if (iov_len > 0) {
      unsigned long base = reinterpret_cast<unsigned long>(rvec[i].iov_base);
      nr_pages_iov = (base + static_cast<unsigned long>(iov_len) - 1) / PAGE_SIZE -
                     base / PAGE_SIZE + 1;
      nr_pages = std::max(nr_pages, nr_pages_iov);
    }
  }

  if (nr_pages == 0) return tc.ret(0L);

  if (nr_pages > PVM_MAX_PP_ARRAY_COUNT) {
    // For reliability, never kmalloc more than two pages' worth of pointers.
    // DEVIATION(process_vm_access): the cap follows the batch-size knob; with its default
    // it is PVM_MAX_KMALLOC_PAGES * PAGE_SIZE bytes, as in Linux.
    process_pages = static_cast<struct page**>(
        kmalloc(std::min(pvm_max_pages_per_loop() * sizeof(struct page*),
                         sizeof(struct page*) * nr_pages),
                GFP_KERNEL));

    if (!process_pages) return tc.ret(static_cast<long>(-ENOMEM));
  }

  // Get process information
  task = find_get_task_by_vpid(pid);
  if (!task) {
    rc = -ESRCH;
    goto free_proc_pages;
  }

  mm = mm_access(task, PTRACE_MODE_ATTACH_REALCREDS);
  if (IS_ERR(mm)) {
    rc = PTR_ERR(mm);
    // mm_access() reports a failed ptrace check as EACCES, but for these syscalls the
    // man page (and every kernel since 3.2) says EPERM: "not allowed to touch that
    // process", like kill(2) - so translate it here.
    if (rc == -EACCES) rc = -EPERM;
    goto put_task_struct;
  }

  for (i = 0; i < riovcnt && iov_iter_count(iter) && !rc; i++)
    rc = process_vm_rw_single_vec(reinterpret_cast<unsigned long>(rvec[i].iov_base),
                                  rvec[i].iov_len, iter, process_pages, mm, task, vm_write);

  // copied = space before - space after
  total_len -= iov_iter_count(iter);

  // If any data moved, the count wins over the error: a partial transfer is a success.
  if (total_len) rc = static_cast<ssize_t>(total_len);

  mmput(mm);

put_task_struct:
  put_task_struct(task);

free_proc_pages:
  if (process_pages != pp_stack) kfree(process_pages);
  return tc.ret(rc);
}

// mm/process_vm_access.c: check the arguments and bring both iovec arrays into the kernel.
ssize_t process_vm_rw(pid_t pid, const struct iovec __user* lvec, unsigned long liovcnt,
                      const struct iovec __user* rvec, unsigned long riovcnt,
                      unsigned long flags, int vm_write) {
  trace_call tc("process_vm_rw", "pid=%d lvec=%#lx liovcnt=%lu rvec=%#lx riovcnt=%lu flags=%#lx vm_write=%d",
                pid, reinterpret_cast<unsigned long>(lvec), liovcnt,
                reinterpret_cast<unsigned long>(rvec), riovcnt, flags, vm_write);
  struct iovec iovstack_l[UIO_FASTIOV];
  struct iovec iovstack_r[UIO_FASTIOV];
  struct iovec* iov_l = iovstack_l;
  struct iovec* iov_r;
  struct iov_iter iter;
  ssize_t rc;
  int dir = vm_write ? ITER_SOURCE : ITER_DEST;

  if (flags != 0) return tc.ret(static_cast<long>(-EINVAL));

  // Check iovecs. (import_iovec takes an `unsigned` count, as in Linux: liovcnt is
  // truncated to 32 bits on the way in.)
  rc = import_iovec(dir, lvec, static_cast<unsigned>(liovcnt), UIO_FASTIOV, &iov_l, &iter);
  if (rc < 0) return tc.ret(rc);
  if (!iov_iter_count(&iter)) goto free_iov_l;
  iov_r = iovec_from_user(rvec, riovcnt, UIO_FASTIOV, iovstack_r, in_compat_syscall());
  if (IS_ERR(iov_r)) {
    rc = PTR_ERR(iov_r);
    goto free_iov_l;
  }
  rc = process_vm_rw_core(pid, &iter, iov_r, riovcnt, flags, vm_write);
  if (iov_r != iovstack_r) kfree(iov_r);
free_iov_l:
  kfree(iov_l);
  return tc.ret(rc);
}

// mm/process_vm_access.c: SYSCALL_DEFINE6(process_vm_readv, ...)
long sys_process_vm_readv(pid_t pid, const struct iovec __user* lvec, unsigned long liovcnt,
                          const struct iovec __user* rvec, unsigned long riovcnt,
                          unsigned long flags) {
  return process_vm_rw(pid, lvec, liovcnt, rvec, riovcnt, flags, 0);
}

// mm/process_vm_access.c: SYSCALL_DEFINE6(process_vm_writev, ...)
long sys_process_vm_writev(pid_t pid, const struct iovec __user* lvec, unsigned long liovcnt,
                           const struct iovec __user* rvec, unsigned long riovcnt,
                           unsigned long flags) {
  return process_vm_rw(pid, lvec, liovcnt, rvec, riovcnt, flags, 1);
}

}  // namespace kernel
