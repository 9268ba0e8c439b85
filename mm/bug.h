// mm/bug.h: the kernel's invariant checks (include/asm-generic/bug.h, include/linux/mmdebug.h
// at Linux 6.18).
//
// BUG_ON and VM_BUG_ON stop the simulator with file:line: they mark a broken invariant in
// our own code, never bad user input (user input gets an errno). WARN_ON_ONCE reports a
// survivable impossibility once per call site and machine (the latch lives in the
// machine's kernel_state, as a Linux boot starts with every latch clear) and carries on;
// each machine counts its warnings so tests and debug_vm can assert that none fired.
#ifndef MMSIM_MM_BUG_H_
#define MMSIM_MM_BUG_H_

namespace kernel {

[[noreturn]] void kernel_bug(const char* file, int line, const char* cond);
bool kernel_warn(const char* file, int line, const char* cond);
// WARN_ON_ONCE's report: the first time `site` (a per-call-site static) fires on the
// active machine, kernel_warn; later times, nothing.
void kernel_warn_once(const void* site, const char* file, int line, const char* cond);
// Number of WARN_ON / WARN_ON_ONCE reports the active machine made since it booted.
unsigned long kernel_warn_count();

}  // namespace kernel

#define likely(x) __builtin_expect(!!(x), 1)
#define unlikely(x) __builtin_expect(!!(x), 0)

#define BUG() ::kernel::kernel_bug(__FILE__, __LINE__, "BUG()")
#define BUG_ON(cond)                                                  \
  do {                                                                \
    if (unlikely(cond)) ::kernel::kernel_bug(__FILE__, __LINE__, #cond); \
  } while (0)
#define WARN_ON(cond) \
  (unlikely(cond) ? ::kernel::kernel_warn(__FILE__, __LINE__, #cond) : false)
#define WARN_ON_ONCE(cond)                                                      \
  ({                                                                            \
    static const char __warn_site = 0;                                          \
    bool __c = !!(cond);                                                        \
    if (unlikely(__c))                                                          \
      ::kernel::kernel_warn_once(&__warn_site, __FILE__, __LINE__, #cond);      \
    unlikely(__c);                                                              \
  })

// CONFIG_DEBUG_VM: on in every build but -c opt (NDEBUG), like a debug kernel.
#ifndef NDEBUG
#define CONFIG_DEBUG_VM 1
#define VM_BUG_ON(cond) BUG_ON(cond)
#define VM_WARN_ON_ONCE(cond) WARN_ON_ONCE(cond)
#else
#define VM_BUG_ON(cond) ((void)sizeof(!!(cond)))
#define VM_WARN_ON_ONCE(cond) ((void)sizeof(!!(cond)))
#endif
#define VM_BUG_ON_PAGE(cond, page) VM_BUG_ON(cond)
#define VM_BUG_ON_FOLIO(cond, folio) VM_BUG_ON(cond)
#define VM_BUG_ON_VMA(cond, vma) VM_BUG_ON(cond)
#define VM_BUG_ON_MM(cond, mm) VM_BUG_ON(cond)

#endif  // MMSIM_MM_BUG_H_
