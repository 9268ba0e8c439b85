// mm/util.cc: vm_mmap_pgoff, the mmap entry below the syscall.
// Port of mm/util.c at Linux 6.18.
#include "mm/mm.h"
#include "mm/trace.h"

namespace kernel {

// mm/util.c: take mmap_lock, map, drop it, then populate if MAP_POPULATE asked for it.
unsigned long vm_mmap_pgoff(file* file, unsigned long addr, unsigned long len,
                            unsigned long prot, unsigned long flag, unsigned long pgoff) {
  trace_call tc("vm_mmap_pgoff", "addr=%#lx len=%#lx prot=%#lx flags=%#lx", addr, len, prot, flag);
  mm_struct* mm = current()->mm;
  unsigned long populate;
  if (mmap_write_lock_killable(mm)) return tc.ret(static_cast<unsigned long>(-EINTR));
  unsigned long ret = do_mmap(file, addr, len, prot, flag, 0, pgoff, &populate);
  mmap_write_unlock(mm);
  if (populate && !IS_ERR_VALUE(ret)) mm_populate(ret, populate);
  return tc.ret(ret);
}

}  // namespace kernel
