// mm/process_vm_access.h: process_vm_readv(2) / process_vm_writev(2), Cross Memory Attach.
// The interface of mm/process_vm_access.cc (a port of mm/process_vm_access.c, Linux 6.18;
// its banner lists the sources and deviations).
//
// The syscalls copy between the caller's memory (the "local" iovecs) and another
// process's memory (the "remote" iovecs) without going through a pipe or ptrace: the
// remote pages are pinned with pin_user_pages_remote() a batch at a time and copied
// through the kernel's direct map, the local side with copy_to_user/copy_from_user.
// Both vectors are byte streams; docs/semantics.md §1 and §4 give the exact rule of which
// bytes move and what is returned.
//
// In Linux all but the two syscalls are `static`; they are declared here so that the
// simulator's tests can drive each level of the call graph.
#ifndef MMSIM_MM_PROCESS_VM_ACCESS_H_
#define MMSIM_MM_PROCESS_VM_ACCESS_H_

#include <cstddef>
#include <functional>

#include "mm/lib/uio.h"
#include "mm/mm_types.h"
#include "mm/sched.h"
#include "mm/types.h"

namespace kernel {

// Entries of the page-pointer array process_vm_rw_core keeps on its stack; more than this
// and the array is kmalloc'd. It does not limit the batch size.
inline constexpr unsigned long PVM_MAX_PP_ARRAY_COUNT = 16;
// The most pages of memory a kmalloc'd page-pointer array may take (a page count since 6.12).
inline constexpr unsigned long PVM_MAX_KMALLOC_PAGES = 2;
// So the most pages pinned in one batch: 2 * 4096 / 8 = 1024 on x86-64.
inline constexpr unsigned long PVM_MAX_USER_PAGES =
    PVM_MAX_KMALLOC_PAGES * PAGE_SIZE / sizeof(struct page*);
static_assert(PVM_MAX_USER_PAGES == 1024);
// DEVIATION(process_vm_access): the largest value kst().sysctl_pvm_max_batch_pages takes
// effect with (larger values are clamped); its default is PVM_MAX_USER_PAGES.
inline constexpr unsigned long PVM_MAX_BATCH_PAGES_LIMIT = 1UL << 16;

// DEVIATION(process_vm_access): test hooks, installed by pointing kst().pvm_hooks at one.
// Both run inside process_vm_rw_single_vec with the target's mmap_lock NOT held (exactly
// where Linux has released it), so a hook may change the target's address space, e.g.
// munmap the pinned range, and the test can then watch the pins keep the frames alive.
//   after_pin:    a batch of `pinned` pages from `start` has just been pinned, before any
//                 byte of it is copied.
//   before_unpin: the batch has been copied (or the copy failed) and is about to be
//                 unpinned (and dirtied, for writes).
struct pvm_hooks {
  std::function<void(mm_struct* mm, unsigned long start, long pinned, page** pages)> after_pin;
  std::function<void(mm_struct* mm, unsigned long start, long pinned, page** pages)> before_unpin;
};

// Copy `len` bytes at `offset` into the first page of pages[] (and on across the
// following pages) to (vm_write == 0) or from (vm_write == 1) the local iterator. Returns
// 0, or -EFAULT when a local byte could not be accessed while the iterator still had room.
int process_vm_rw_pages(struct page** pages, unsigned offset, size_t len, struct iov_iter* iter,
                        int vm_write);

// One remote iovec element [addr, addr + len) of `mm`: pin a batch, copy, unpin, until the
// element or the iterator is exhausted. `process_pages` holds at least one batch. `task` is
// unused since Linux 5.9 and kept as Linux keeps it. Returns 0 or -EFAULT.
int process_vm_rw_single_vec(unsigned long addr, unsigned long len, struct iov_iter* iter,
                             struct page** process_pages, struct mm_struct* mm,
                             struct task_struct* task, int vm_write);

// The transfer against process `pid` once both vectors are in the kernel. Returns the
// bytes transferred if any, else 0 or a negative errno (-ESRCH, -EPERM, -EFAULT, -ENOMEM,
// -EINTR).
ssize_t process_vm_rw_core(pid_t pid, struct iov_iter* iter, const struct iovec* rvec,
                           unsigned long riovcnt, unsigned long flags, int vm_write);

// Validate flags, import the local vector (lvec, in the caller's memory) and copy in the
// remote one (rvec, in the caller's memory too), then run the core.
ssize_t process_vm_rw(pid_t pid, const struct iovec __user* lvec, unsigned long liovcnt,
                      const struct iovec __user* rvec, unsigned long riovcnt,
                      unsigned long flags, int vm_write);

// SYSCALL_DEFINE6(process_vm_readv, ...) and SYSCALL_DEFINE6(process_vm_writev, ...):
// called in the context of current(); returns bytes or a negative errno.
long sys_process_vm_readv(pid_t pid, const struct iovec __user* lvec, unsigned long liovcnt,
                          const struct iovec __user* rvec, unsigned long riovcnt,
                          unsigned long flags);
long sys_process_vm_writev(pid_t pid, const struct iovec __user* lvec, unsigned long liovcnt,
                           const struct iovec __user* rvec, unsigned long riovcnt,
                           unsigned long flags);

}  // namespace kernel

#endif  // MMSIM_MM_PROCESS_VM_ACCESS_H_
