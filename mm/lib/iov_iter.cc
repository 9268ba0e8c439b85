// mm/lib/iov_iter.cc: importing user iovec arrays and copying through iov_iter cursors.
// Port of lib/iov_iter.c at Linux 6.18, the user-backed parts process_vm_readv/writev
// needs: import_iovec, iovec_from_user, copy_iovec_from_user, import_ubuf,
// __import_iovec_ubuf (a single segment is an ITER_UBUF, 6.4+), and the 6.7+
// copy_to_user_iter/copy_from_user_iter steps with the walkers of include/linux/iov_iter.h
// (mm/lib/iov_iter.h).
//
// User memory is reached only through uaccess (mm/arch/x86/uaccess.h): the iovec arrays
// are copied in from the caller's simulated memory, and data moves with raw_copy_*_user,
// which stops at the first byte that faults and reports how many bytes did not move.
//
// Deviations (grep "DEVIATION(iov_iter)"):
//  - copy_iovec_from_user reads the whole array with one raw_copy_from_user and then
//    checks the elements in order, instead of two unsafe_get_user per element. The
//    outcome is the same: the kernel stops at the first element that either faults
//    (EFAULT) or has a negative length (EINVAL); an element is judged only if all of its
//    16 bytes were readable, and a fault inside an element is EFAULT whatever it holds.
//  - kmap_local_page() is page_address(): x86-64 has no highmem, every frame is in the
//    direct map (which here is the host mapping of simulated DRAM).
//  - page_copy_sane: no compound pages exist, so a range must fit in one PAGE_SIZE page.
#include "mm/lib/iov_iter.h"

#include <cstring>

#include "mm/arch/x86/uaccess.h"
#include "mm/errno.h"
#include "mm/mm.h"
#include "mm/slab.h"
#include "mm/trace.h"

namespace kernel {

// lib/iov_iter.c
void iov_iter_init(iov_iter* i, unsigned int direction, const iovec* iov,
                   unsigned long nr_segs, size_t count) {
  WARN_ON(direction & ~(ITER_DEST | ITER_SOURCE));
  *i = iov_iter{};
  i->iter_type = ITER_IOVEC;
  i->nofault = false;
  i->data_source = direction != 0;
  i->__iov = iov;
  i->nr_segs = nr_segs;
  i->iov_offset = 0;
  i->count = count;
}

// lib/iov_iter.c: move the cursor of an ITER_IOVEC forward by `size` bytes.
static void iov_iter_iovec_advance(iov_iter* i, size_t size) {
  const iovec *iov, *end;

  if (!i->count) return;
  i->count -= size;

  size += i->iov_offset;  // now counted from the start of the current segment
  for (iov = iter_iov(i), end = iov + i->nr_segs; iov < end; iov++) {
    if (likely(size < iov->iov_len)) break;
    size -= iov->iov_len;
  }
  i->iov_offset = size;
  i->nr_segs -= static_cast<unsigned long>(iov - iter_iov(i));
  i->__iov = iov;
}

// lib/iov_iter.c
void iov_iter_advance(iov_iter* i, size_t size) {
  if (unlikely(i->count < size)) size = i->count;
  if (likely(iter_is_ubuf(i))) {
    i->iov_offset += size;
    i->count -= size;
  } else if (likely(iter_is_iovec(i))) {
    iov_iter_iovec_advance(i, size);
  }
}

// lib/iov_iter.c: one step of a copy out to user memory. Returns the bytes NOT copied.
static inline size_t copy_to_user_iter(void __user* iter_to, size_t progress, size_t len,
                                       const void* from) {
  if (access_ok(iter_to, len)) {
    len = raw_copy_to_user(iter_to, static_cast<const char*>(from) + progress, len);
  }
  return len;
}

// lib/iov_iter.c: one step of a copy in from user memory. Returns the bytes NOT copied;
// the kernel buffer past the fault is left as it was (raw copy: no zero fill).
static inline size_t copy_from_user_iter(const void __user* iter_from, size_t progress,
                                         size_t len, void* to) {
  size_t res = len;

  if (access_ok(iter_from, len)) {
    res = raw_copy_from_user(static_cast<char*>(to) + progress, iter_from, len);
  }
  return res;
}

// lib/iov_iter.c
size_t _copy_to_iter(const void* addr, size_t bytes, iov_iter* i) {
  if (WARN_ON_ONCE(i->data_source)) return 0;
  return iterate_and_advance(i, bytes, [addr](void __user* base, size_t progress, size_t len) {
    return copy_to_user_iter(base, progress, len, addr);
  });
}

// lib/iov_iter.c
size_t _copy_from_iter(void* addr, size_t bytes, iov_iter* i) {
  if (WARN_ON_ONCE(!i->data_source)) return 0;
  return iterate_and_advance(i, bytes, [addr](void __user* base, size_t progress, size_t len) {
    return copy_from_user_iter(base, progress, len, addr);
  });
}

// lib/iov_iter.c: is [offset, offset + n) inside the page? DEVIATION(iov_iter): with no
// compound pages the page is always PAGE_SIZE long, so the fast check is the only one.
static inline bool page_copy_sane(page* page, size_t offset, size_t n) {
  size_t v = n + offset;

  if (likely(n <= v && v <= PAGE_SIZE)) return true;
  (void)page;
  WARN_ON(n > v || v > PAGE_SIZE);
  return false;
}

// lib/iov_iter.c
size_t copy_page_to_iter(page* page, size_t offset, size_t bytes, iov_iter* i) {
  trace_call tc("copy_page_to_iter", "pfn=%#lx offset=%zu bytes=%zu count=%zu",
                page_to_pfn(page), offset, bytes, i->count);
  size_t res = 0;

  if (!page_copy_sane(page, offset, bytes)) return tc.ret(0);
  if (WARN_ON_ONCE(i->data_source)) return tc.ret(0);
  page += offset / PAGE_SIZE;
  offset %= PAGE_SIZE;
  while (true) {
    // DEVIATION(iov_iter): kmap_local_page() is page_address() (x86-64 direct map).
    char* kaddr = static_cast<char*>(page_address(page));
    size_t n = std::min(bytes, static_cast<size_t>(PAGE_SIZE) - offset);
    n = _copy_to_iter(kaddr + offset, n, i);
    res += n;
    bytes -= n;
    if (!bytes || !n) break;
    offset += n;
    if (offset == PAGE_SIZE) {
      page++;
      offset = 0;
    }
  }
  return tc.ret(res);
}

// lib/iov_iter.c
size_t copy_page_from_iter(page* page, size_t offset, size_t bytes, iov_iter* i) {
  trace_call tc("copy_page_from_iter", "pfn=%#lx offset=%zu bytes=%zu count=%zu",
                page_to_pfn(page), offset, bytes, i->count);
  size_t res = 0;

  if (!page_copy_sane(page, offset, bytes)) return tc.ret(0);
  page += offset / PAGE_SIZE;
  offset %= PAGE_SIZE;
  while (true) {
    char* kaddr = static_cast<char*>(page_address(page));  // kmap_local_page()
    size_t n = std::min(bytes, static_cast<size_t>(PAGE_SIZE) - offset);
    n = _copy_from_iter(kaddr + offset, n, i);
    res += n;
    bytes -= n;
    if (!bytes || !n) break;
    offset += n;
    if (offset == PAGE_SIZE) {
      page++;
      offset = 0;
    }
  }
  return tc.ret(res);
}

// lib/iov_iter.c: copy nr_segs iovecs in from user memory, all or nothing.
static int copy_iovec_from_user(iovec* iov, const iovec __user* uiov, unsigned long nr_segs) {
  const unsigned long bytes = nr_segs * sizeof(*uiov);
  unsigned long copied;
  unsigned long seg;

  // user_access_begin(): the whole array must be a user range.
  if (!access_ok(uiov, bytes)) return -EFAULT;

  // DEVIATION(iov_iter): one raw copy, then the per-element checks in order (see banner).
  copied = bytes - raw_copy_from_user(iov, uiov, bytes);
  for (seg = 0; seg < nr_segs; seg++) {
    if ((seg + 1) * sizeof(*uiov) > copied) return -EFAULT;  // this element faulted
    // check for size_t not fitting in ssize_t ..
    if (unlikely(static_cast<ssize_t>(iov[seg].iov_len) < 0)) return -EINVAL;
  }
  return 0;
}

// lib/iov_iter.c
iovec* iovec_from_user(const iovec __user* uvec, unsigned long nr_segs,
                       unsigned long fast_segs, iovec* fast_iov, bool compat) {
  trace_call tc("iovec_from_user", "uvec=%#lx nr_segs=%lu", reinterpret_cast<unsigned long>(uvec),
                nr_segs);
  iovec* iov = fast_iov;
  int ret;

  // Linux has always accepted zero segments (SuS allows failing them).
  if (nr_segs == 0) {
    tc.ret(0);
    return iov;
  }
  if (nr_segs > UIO_MAXIOV) {
    tc.ret(-EINVAL);
    return ERR_PTR<iovec>(-EINVAL);
  }
  if (nr_segs > fast_segs) {
    iov = static_cast<iovec*>(kmalloc_array(nr_segs, sizeof(iovec), GFP_KERNEL));
    if (!iov) {
      tc.ret(-ENOMEM);
      return ERR_PTR<iovec>(-ENOMEM);
    }
  }

  (void)compat;  // in_compat_syscall() is always false (mm/lib/uio.h)
  ret = copy_iovec_from_user(iov, uvec, nr_segs);
  if (ret) {
    if (iov != fast_iov) kfree(iov);
    tc.ret(ret);
    return ERR_PTR<iovec>(ret);
  }

  tc.ret(0);
  return iov;
}

// lib/iov_iter.c: a single segment becomes an ITER_UBUF.
static ssize_t __import_iovec_ubuf(int type, const iovec __user* uvec, iovec** iovp,
                                   iov_iter* i, bool compat) {
  iovec* iov = *iovp;
  ssize_t ret;

  *iovp = nullptr;

  (void)compat;
  ret = copy_iovec_from_user(iov, uvec, 1);
  if (unlikely(ret)) return ret;

  ret = import_ubuf(type, iov->iov_base, iov->iov_len, i);
  if (unlikely(ret)) return ret;
  return static_cast<ssize_t>(i->count);
}

// lib/iov_iter.c
ssize_t __import_iovec(int type, const iovec __user* uvec, unsigned nr_segs, unsigned fast_segs,
                       iovec** iovp, iov_iter* i, bool compat) {
  ssize_t total_len = 0;
  unsigned long seg;
  iovec* iov;

  if (nr_segs == 1) return __import_iovec_ubuf(type, uvec, iovp, i, compat);

  iov = iovec_from_user(uvec, nr_segs, fast_segs, *iovp, compat);
  if (IS_ERR(iov)) {
    *iovp = nullptr;
    return PTR_ERR(iov);
  }

  // SuS wants EINVAL for a negative length (checked on copy-in) or a total that overflows
  // ssize_t; Linux instead caps every read/write at MAX_RW_COUNT, so the total cannot
  // overflow. access_ok sees each element's own, unclamped length.
  for (seg = 0; seg < nr_segs; seg++) {
    ssize_t len = static_cast<ssize_t>(iov[seg].iov_len);

    if (!access_ok(iov[seg].iov_base, static_cast<unsigned long>(len))) {
      if (iov != *iovp) kfree(iov);
      *iovp = nullptr;
      return -EFAULT;
    }

    if (len > MAX_RW_COUNT - total_len) {
      len = MAX_RW_COUNT - total_len;
      iov[seg].iov_len = static_cast<size_t>(len);
    }
    total_len += len;
  }

  iov_iter_init(i, static_cast<unsigned int>(type), iov, nr_segs, static_cast<size_t>(total_len));
  if (iov == *iovp)
    *iovp = nullptr;
  else
    *iovp = iov;
  return total_len;
}

// lib/iov_iter.c
ssize_t import_iovec(int type, const iovec __user* uvec, unsigned nr_segs, unsigned fast_segs,
                     iovec** iovp, iov_iter* i) {
  trace_call tc("import_iovec", "type=%d uvec=%#lx nr_segs=%u", type,
                reinterpret_cast<unsigned long>(uvec), nr_segs);
  return tc.ret(__import_iovec(type, uvec, nr_segs, fast_segs, iovp, i, in_compat_syscall()));
}

// lib/iov_iter.c: clamp first, then check the clamped range.
int import_ubuf(int rw, void __user* buf, size_t len, iov_iter* i) {
  if (len > static_cast<size_t>(MAX_RW_COUNT)) len = static_cast<size_t>(MAX_RW_COUNT);
  if (unlikely(!access_ok(buf, len))) return -EFAULT;

  iov_iter_ubuf(i, static_cast<unsigned int>(rw), buf, len);
  return 0;
}

}  // namespace kernel
