// mm/arch/x86/uaccess.h: reaching user memory from the kernel.
// Port of include/linux/uaccess.h, arch/x86/include/asm/uaccess.h and uaccess_64.h,
// arch/x86/lib/usercopy_64.c, copy_user_64.S and getuser.S/putuser.S, Linux 6.18.
//
// A `void __user*` carries a simulated user virtual address as its pointer value (see
// `__user` in mm/types.h). Nothing here dereferences it on the host: every byte moves
// through the current simulated CPU (this_cpu_hw()) in supervisor mode, with SMAP lifted
// by stac()/clac() around the access, exactly as the x86 kernel does. A #PF raised by the
// CPU goes to the page-fault handler (mm/arch/x86/fault.cc) in kernel mode; if it fixes
// the fault the copy continues, otherwise the exception-table fixup ends the copy and the
// caller sees the number of bytes NOT copied (byte-exact, rep-movsb semantics).
//
// Return conventions (as in Linux):
//   copy_{from,to}_user, raw_copy_{from,to}_user, clear_user: bytes NOT copied (0 = all).
//   copy_from_user zero-fills the uncopied tail of the kernel buffer; raw_copy_from_user
//   does not (the iov_iter path relies on that since 4.11).
//   get_user/put_user: 0 or -EFAULT; a failed get_user sets the value to 0.
//
// Deviations (grep "DEVIATION(uaccess)"):
//  - Fault injection: the fail_uaccess point is consulted before each page-sized piece of
//    a copy; when it fires the copy stops there, as if the next byte had faulted.
//  - A fault the handler claims to have fixed but that recurs at the same address with no
//    progress (a kernel bug) is not retried forever: after a bounded number of attempts
//    it WARNs once and the copy stops short.
#ifndef MMSIM_MM_ARCH_X86_UACCESS_H_
#define MMSIM_MM_ARCH_X86_UACCESS_H_

#include <cstring>
#include <type_traits>

#include "mm/arch/x86/pgtable_types.h"
#include "mm/errno.h"
#include "mm/types.h"

namespace kernel {

// arch/x86/include/asm/uaccess_64.h: the highest address a user pointer may reach.
inline constexpr unsigned long USER_PTR_MAX = TASK_SIZE_MAX;

inline unsigned long __user_addr(const void __user* ptr) {
  return reinterpret_cast<unsigned long>(ptr);
}
inline bool valid_user_address(unsigned long addr) { return addr <= USER_PTR_MAX; }

// arch/x86/include/asm/uaccess_64.h: [addr, addr+size) is a user range. Integer math only:
// the end must not wrap and must not pass USER_PTR_MAX (so size 0 at (void*)-1 fails).
inline bool __access_ok(const void __user* ptr, unsigned long size) {
  const unsigned long addr = __user_addr(ptr);
  const unsigned long sum = addr + size;
  return valid_user_address(sum) && sum >= addr;
}
inline bool access_ok(const void __user* addr, unsigned long size) {
  return likely(__access_ok(addr, size));
}

// arch/x86/include/asm/smap.h: RFLAGS.AC on the current CPU (SMAP override).
void stac();
void clac();

// arch/x86/include/asm/uaccess_64.h: no access_ok check; the caller did it.
unsigned long raw_copy_from_user(void* to, const void __user* from, unsigned long n);
unsigned long raw_copy_to_user(void __user* to, const void* from, unsigned long n);

// include/linux/uaccess.h: access_ok + the raw copy. copy_from_user zero-fills the tail.
unsigned long copy_from_user(void* to, const void __user* from, unsigned long n);
unsigned long copy_to_user(void __user* to, const void* from, unsigned long n);
inline unsigned long __copy_from_user(void* to, const void __user* from, unsigned long n) {
  return raw_copy_from_user(to, from, n);
}
inline unsigned long __copy_to_user(void __user* to, const void* from, unsigned long n) {
  return raw_copy_to_user(to, from, n);
}

// arch/x86/lib/usercopy_64.c: zero user memory; returns the bytes NOT cleared.
unsigned long clear_user(void __user* to, unsigned long n);
unsigned long __clear_user(void __user* to, unsigned long n);

// arch/x86/lib/getuser.S / putuser.S: one access of 1, 2, 4 or 8 bytes (a single mov:
// a value that straddles two pages is read or written only if both translate).
// No access_ok check. 0 or -EFAULT.
int __get_user_n(void* x, const void __user* ptr, unsigned long size);
int __put_user_n(const void* x, void __user* ptr, unsigned long size);

// arch/x86/include/asm/uaccess.h: get_user(x, ptr) / put_user(x, ptr).
template <typename X, typename T>
inline int __get_user(X& x, const T __user* ptr) {
  static_assert(sizeof(T) == 1 || sizeof(T) == 2 || sizeof(T) == 4 || sizeof(T) == 8,
                "get_user moves 1, 2, 4 or 8 bytes");
  static_assert(std::is_trivially_copyable_v<T>);
  T v;
  std::memset(&v, 0, sizeof(v));
  const int err = __get_user_n(&v, ptr, sizeof(T));
  x = err ? X() : static_cast<X>(v);
  return err;
}
template <typename X, typename T>
inline int get_user(X& x, const T __user* ptr) {
  if (!access_ok(ptr, sizeof(T))) {
    x = X();
    return -EFAULT;
  }
  return __get_user(x, ptr);
}
template <typename X, typename T>
inline int __put_user(const X& x, T __user* ptr) {
  static_assert(sizeof(T) == 1 || sizeof(T) == 2 || sizeof(T) == 4 || sizeof(T) == 8,
                "put_user moves 1, 2, 4 or 8 bytes");
  const T v = static_cast<T>(x);
  return __put_user_n(&v, ptr, sizeof(T));
}
template <typename X, typename T>
inline int put_user(const X& x, T __user* ptr) {
  if (!access_ok(ptr, sizeof(T))) return -EFAULT;
  return __put_user(x, ptr);
}

}  // namespace kernel

#endif  // MMSIM_MM_ARCH_X86_UACCESS_H_
