// mm/errno.h: the errno values the kernel port returns, as negative numbers, exactly as
// Linux does. Mirrors include/uapi/asm-generic/errno-base.h and errno.h at Linux 6.18
// (x86-64 values).
#ifndef MMSIM_MM_ERRNO_H_
#define MMSIM_MM_ERRNO_H_

#include <cerrno>

namespace kernel {

// The host is x86-64 Linux, so <cerrno> already defines these names as macros with
// Linux's values; the asserts pin each value so the port can never drift from them.
static_assert(EPERM == 1, "EPERM");
static_assert(ENOENT == 2, "ENOENT");
static_assert(ESRCH == 3, "ESRCH");
static_assert(EINTR == 4, "EINTR");
static_assert(EIO == 5, "EIO");
static_assert(ENXIO == 6, "ENXIO");
static_assert(E2BIG == 7, "E2BIG");
static_assert(EBADF == 9, "EBADF");
static_assert(ECHILD == 10, "ECHILD");
static_assert(EAGAIN == 11, "EAGAIN");
static_assert(ENOMEM == 12, "ENOMEM");
static_assert(EACCES == 13, "EACCES");
static_assert(EFAULT == 14, "EFAULT");
static_assert(EBUSY == 16, "EBUSY");
static_assert(EEXIST == 17, "EEXIST");
static_assert(ENODEV == 19, "ENODEV");
static_assert(EINVAL == 22, "EINVAL");
static_assert(ENOSPC == 28, "ENOSPC");
static_assert(ENOSYS == 38, "ENOSYS");
static_assert(EOVERFLOW == 75, "EOVERFLOW");
static_assert(EHWPOISON == 133, "EHWPOISON");
static_assert(EMLINK == 31, "EMLINK");

// Kernel-internal codes that never reach user space (include/linux/errno.h).
inline constexpr int ERESTARTSYS = 512;

// include/linux/err.h: pointers that carry an errno in their top 4095 values.
inline constexpr unsigned long MAX_ERRNO = 4095;
template <typename T>
inline T* ERR_PTR(long error) { return reinterpret_cast<T*>(error); }
template <typename T>
inline long PTR_ERR(const T* ptr) { return reinterpret_cast<long>(ptr); }
template <typename T>
inline bool IS_ERR(const T* ptr) {
  return reinterpret_cast<unsigned long>(ptr) >= static_cast<unsigned long>(-MAX_ERRNO);
}
template <typename T>
inline bool IS_ERR_OR_NULL(const T* ptr) { return ptr == nullptr || IS_ERR(ptr); }

}  // namespace kernel

#endif  // MMSIM_MM_ERRNO_H_
