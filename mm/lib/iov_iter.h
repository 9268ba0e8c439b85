// mm/lib/iov_iter.h: the generic walkers behind every iov_iter copy.
// Port of include/linux/iov_iter.h at Linux 6.18 (6.7+, where iterate_and_advance2 and the
// per-kind iterate_* helpers moved out of lib/iov_iter.c).
//
// A "step" moves `len` bytes between one contiguous piece of user memory and the kernel
// buffer at `progress` bytes into the operation, and returns the bytes it did NOT move
// (the uaccess convention). The walker calls it once per segment piece, stops at the first
// short step, and advances the iterator by exactly the bytes that moved.
//
// User addresses are computed as unsigned long and only then turned back into `__user`
// pointers: they are simulated addresses, and pointer arithmetic on them could wrap.
//
// Deviations (grep "DEVIATION(iov_iter.h)"):
//  - The step is a template parameter (a C++ callable) instead of a function pointer plus
//    the `priv`/`priv2` cookies; the compiler inlines it, as __always_inline does in Linux.
//  - Only ITER_UBUF and ITER_IOVEC are walked (mm/lib/uio.h).
#ifndef MMSIM_MM_LIB_IOV_ITER_H_
#define MMSIM_MM_LIB_IOV_ITER_H_

#include <algorithm>
#include <cstddef>

#include "mm/lib/uio.h"

namespace kernel {

inline void __user* uaddr_add(void __user* base, size_t off) {
  return reinterpret_cast<void __user*>(reinterpret_cast<unsigned long>(base) + off);
}

// include/linux/iov_iter.h: a single user buffer.
template <typename Step>
inline size_t iterate_ubuf(iov_iter* iter, size_t len, Step&& step) {
  void __user* base = iter->ubuf;
  size_t progress = 0, remain;

  remain = step(uaddr_add(base, iter->iov_offset), progress, len);
  progress = len - remain;
  iter->iov_offset += progress;
  iter->count -= progress;
  return progress;
}

// include/linux/iov_iter.h: an array of user buffers. Empty segments are stepped over;
// a short step ends the walk inside its segment.
template <typename Step>
inline size_t iterate_iovec(iov_iter* iter, size_t len, Step&& step) {
  const iovec* p = iter->__iov;
  size_t progress = 0, skip = iter->iov_offset;

  do {
    size_t remain, consumed;
    size_t part = std::min(len, p->iov_len - skip);

    if (likely(part)) {
      remain = step(uaddr_add(p->iov_base, skip), progress, part);
      consumed = part - remain;
      progress += consumed;
      skip += consumed;
      len -= consumed;
      if (skip < p->iov_len) break;
    }
    p++;
    skip = 0;
  } while (len);

  iter->nr_segs -= static_cast<unsigned long>(p - iter->__iov);
  iter->__iov = p;
  iter->iov_offset = skip;
  iter->count -= progress;
  return progress;
}

// include/linux/iov_iter.h: walk up to `len` bytes of the stream (never past its end).
template <typename Step>
inline size_t iterate_and_advance(iov_iter* iter, size_t len, Step&& step) {
  if (unlikely(iter->count < len)) len = iter->count;
  if (unlikely(!len)) return 0;

  if (likely(iter_is_ubuf(iter))) return iterate_ubuf(iter, len, step);
  if (likely(iter_is_iovec(iter))) return iterate_iovec(iter, len, step);
  WARN_ON_ONCE(1);  // DEVIATION(iov_iter.h): no kernel-side iterator kinds
  return 0;
}

}  // namespace kernel

#endif  // MMSIM_MM_LIB_IOV_ITER_H_
