// mm/lib/uio.h: user I/O vectors and the iov_iter cursor over them.
// Port of include/uapi/linux/uio.h and include/linux/uio.h at Linux 6.18 (the 6.4+ shape:
// ITER_UBUF for a single segment, ITER_SOURCE/ITER_DEST directions, the __iov member).
//
// An iov_iter is a cursor over a byte stream: the bytes its segments name, joined in order.
// `count` bytes remain; the current position is `iov_offset` bytes into the current
// segment (`__iov[0]`, or the single buffer `ubuf`). Copies advance it by exactly the bytes
// that moved, so "bytes before - bytes after" is the amount transferred.
//
// Deviations (grep "DEVIATION(uio)"):
//  - Only the user-backed iterator kinds exist (ITER_UBUF, ITER_IOVEC); the kernel-side
//    kinds (kvec, bvec, folioq, xarray, discard) have no user in this port. The enum keeps
//    Linux's values for the two that exist.
//  - No `__ubuf_iovec` overlay of {ubuf, count} (type punning through a union is not
//    portable C++); iter_iov() is defined for ITER_IOVEC only.
//  - No compat (32-bit) syscalls: in_compat_syscall() is always false.
#ifndef MMSIM_MM_LIB_UIO_H_
#define MMSIM_MM_LIB_UIO_H_

#include <climits>
#include <cstddef>

#include "mm/arch/x86/pgtable_types.h"
#include "mm/types.h"

namespace kernel {

struct page;

// include/uapi/linux/uio.h: one user buffer. Lives in simulated user memory when it is
// an element of a syscall's iovec array; copied into the kernel by iovec_from_user().
struct iovec {
  void __user* iov_base;
  size_t iov_len;
};
static_assert(sizeof(iovec) == 16, "struct iovec is 16 bytes on x86-64, as user space lays it out");

inline constexpr unsigned int UIO_FASTIOV = 8;    // iovecs the callers keep on the stack
inline constexpr unsigned int UIO_MAXIOV = 1024;  // IOV_MAX: most segments per call

// include/linux/fs.h: the cap on one read/write call, the largest page-aligned int.
inline constexpr long MAX_RW_COUNT = static_cast<long>(INT_MAX & PAGE_MASK);  // 0x7ffff000
static_assert(MAX_RW_COUNT == 0x7ffff000L);

// The direction of an iterator, from the iterator's point of view: ITER_SOURCE means the
// kernel reads from it (data flows out of the user buffers: writev, process_vm_writev),
// ITER_DEST means the kernel writes into it (readv, process_vm_readv).
inline constexpr unsigned int ITER_DEST = 0;    // == READ
inline constexpr unsigned int ITER_SOURCE = 1;  // == WRITE

enum iter_type : u8 {
  ITER_UBUF = 0,   // one user buffer: ubuf, count
  ITER_IOVEC = 1,  // an array of user buffers: __iov[0 .. nr_segs)
  // DEVIATION(uio): ITER_BVEC, ITER_KVEC, ITER_FOLIOQ, ITER_XARRAY, ITER_DISCARD omitted.
};

struct iov_iter {
  u8 iter_type;      // enum iter_type
  bool nofault;      // copies must not fault pages in (unused: always false here)
  bool data_source;  // ITER_SOURCE or ITER_DEST
  size_t iov_offset; // bytes already consumed from the current segment
  union {
    const iovec* __iov;  // ITER_IOVEC: the current segment
    void __user* ubuf;   // ITER_UBUF: the buffer (iov_offset counts into it)
  };
  size_t count;            // bytes left in the stream
  unsigned long nr_segs;   // ITER_IOVEC: segments left, the current one included
};

// include/linux/uio.h helpers.
inline size_t iov_iter_count(const iov_iter* i) { return i->count; }
inline enum iter_type iov_iter_type(const iov_iter* i) { return static_cast<enum iter_type>(i->iter_type); }
inline bool iter_is_ubuf(const iov_iter* i) { return iov_iter_type(i) == ITER_UBUF; }
inline bool iter_is_iovec(const iov_iter* i) { return iov_iter_type(i) == ITER_IOVEC; }
inline bool user_backed_iter(const iov_iter* i) { return iter_is_ubuf(i) || iter_is_iovec(i); }
inline unsigned char iov_iter_rw(const iov_iter* i) { return i->data_source ? ITER_SOURCE : ITER_DEST; }
inline const iovec* iter_iov(const iov_iter* i) { return i->__iov; }  // ITER_IOVEC only

// include/linux/uio.h: make `i` a single-buffer iterator over [buf, buf + count).
inline void iov_iter_ubuf(iov_iter* i, unsigned int direction, void __user* buf, size_t count) {
  WARN_ON(direction & ~(ITER_DEST | ITER_SOURCE));
  *i = iov_iter{};
  i->iter_type = ITER_UBUF;
  i->data_source = direction != 0;
  i->ubuf = buf;
  i->count = count;
  i->nr_segs = 1;
}

// include/linux/compat.h. DEVIATION(uio): there are no 32-bit tasks.
inline bool in_compat_syscall() { return false; }

// ---- lib/iov_iter.c (mm/lib/iov_iter.cc) ----
void iov_iter_init(iov_iter* i, unsigned int direction, const iovec* iov,
                   unsigned long nr_segs, size_t count);
void iov_iter_advance(iov_iter* i, size_t bytes);

// Copy `bytes` between a kernel buffer and the iterator's user segments, in stream order,
// stopping at the first byte the user side cannot take; return the bytes moved (the
// iterator advanced by exactly that much).
size_t _copy_to_iter(const void* addr, size_t bytes, iov_iter* i);
size_t _copy_from_iter(void* addr, size_t bytes, iov_iter* i);
inline size_t copy_to_iter(const void* addr, size_t bytes, iov_iter* i) {
  return _copy_to_iter(addr, bytes, i);
}
inline size_t copy_from_iter(void* addr, size_t bytes, iov_iter* i) {
  return _copy_from_iter(addr, bytes, i);
}
// The same for the bytes [offset, offset + bytes) of a page, reached through the kernel's
// direct map (kmap_local_page). Returns the bytes moved; 0 if the range is not in the page.
size_t copy_page_to_iter(page* page, size_t offset, size_t bytes, iov_iter* i);
size_t copy_page_from_iter(page* page, size_t offset, size_t bytes, iov_iter* i);

// Copy a user iovec array into the kernel. Returns `fast_iov` when nr_segs <= fast_segs
// (or nr_segs == 0), a kmalloc'd array otherwise (the caller kfrees it if != fast_iov), or
// ERR_PTR(-EINVAL) (nr_segs > UIO_MAXIOV, a length < 0 as ssize_t), ERR_PTR(-EFAULT) (the
// array is not all readable; nothing is used), ERR_PTR(-ENOMEM).
iovec* iovec_from_user(const iovec __user* uvector, unsigned long nr_segs,
                       unsigned long fast_segs, iovec* fast_iov, bool compat);
// Import a user iovec array as an iterator. One segment becomes an ITER_UBUF (length
// clamped to MAX_RW_COUNT, then access_ok); more become an ITER_IOVEC (access_ok on each
// element's own length, then the running total clamped to MAX_RW_COUNT). On return *iovp
// is null or an array the caller must kfree. Returns the total bytes or a negative errno.
// Note `nr_segs` is `unsigned`, as in Linux: a larger count passed in is truncated.
ssize_t import_iovec(int type, const iovec __user* uvec, unsigned nr_segs, unsigned fast_segs,
                     iovec** iovp, iov_iter* i);
ssize_t __import_iovec(int type, const iovec __user* uvec, unsigned nr_segs,
                       unsigned fast_segs, iovec** iovp, iov_iter* i, bool compat);
int import_ubuf(int type, void __user* buf, size_t len, iov_iter* i);

}  // namespace kernel

#endif  // MMSIM_MM_LIB_UIO_H_
