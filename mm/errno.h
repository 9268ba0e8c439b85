// mm/errno.h: the errno values the kernel port returns, as negative numbers, exactly as
// Linux does. Mirrors include/uapi/asm-generic/errno-base.h and errno.h (x86-64 values).
#ifndef MMSIM_MM_ERRNO_H_
#define MMSIM_MM_ERRNO_H_

namespace kernel {

inline constexpr int EPERM = 1;
inline constexpr int ENOENT = 2;
inline constexpr int ESRCH = 3;
inline constexpr int EINTR = 4;
inline constexpr int EIO = 5;
inline constexpr int ENXIO = 6;
inline constexpr int E2BIG = 7;
inline constexpr int EBADF = 9;
inline constexpr int ECHILD = 10;
inline constexpr int EAGAIN = 11;
inline constexpr int ENOMEM = 12;
inline constexpr int EACCES = 13;
inline constexpr int EFAULT = 14;
inline constexpr int EBUSY = 16;
inline constexpr int EEXIST = 17;
inline constexpr int ENODEV = 19;
inline constexpr int EINVAL = 22;
inline constexpr int ENOSPC = 28;
inline constexpr int ENOSYS = 38;
inline constexpr int EOVERFLOW = 75;
inline constexpr int EHWPOISON = 133;
inline constexpr int EMLINK = 31;
inline constexpr int ERESTARTSYS = 512;  // kernel-internal, never reaches user space

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
