// mm/madvise.cc: madvise(2), the advice that changes which VMAs fork copies.
//
// Port of mm/madvise.c at Linux 6.18 (do_madvise, madvise_walk_vmas, the fork cases of
// madvise_vma_behavior, madvise_update_vma, madvise_behavior_valid).
//
// Deviations (grep "DEVIATION(madvise)"):
//  - Only MADV_DONTFORK, MADV_DOFORK, MADV_WIPEONFORK and MADV_KEEPONFORK are modelled;
//    every other advice, valid in Linux or not, is -EINVAL (nothing here zaps, pages out
//    or collapses memory).
//  - No anon_vma_name (MADV_ and prctl naming), no userfaultfd, no MADV_DROPPABLE VMAs;
//    the mmap_lock is taken for writing for every modelled advice, as Linux does for
//    these four.
#include "mm/trace.h"
#include "mm/vma.h"

namespace kernel {
namespace {

static_assert(MADV_DONTFORK == 10 && MADV_DOFORK == 11, "MADV_DONTFORK");
static_assert(MADV_WIPEONFORK == 18 && MADV_KEEPONFORK == 19, "MADV_WIPEONFORK");

// mm/madvise.c: madvise_behavior_valid. DEVIATION(madvise): the modelled ones only.
bool madvise_behavior_valid(int behavior) {
  switch (behavior) {
    case MADV_DONTFORK:
    case MADV_DOFORK:
    case MADV_WIPEONFORK:
    case MADV_KEEPONFORK:
      return true;
    default:
      return false;
  }
}

// mm/madvise.c: madvise_update_vma. [start, end) of vma gets new_flags: split off (or
// merged into a neighbour) first, as mprotect does.
int madvise_update_vma(mm_struct* mm, vm_area_struct* vma, vm_area_struct** prev,
                       unsigned long start, unsigned long end, vm_flags_t new_flags) {
  if (new_flags == vma->vm_flags) {
    *prev = vma;
    return 0;
  }
  vma = vma_modify_flags(mm, *prev, vma, start, end, new_flags);
  if (IS_ERR(vma)) return static_cast<int>(PTR_ERR(vma));
  *prev = vma;
  vma->vm_flags = new_flags;  // vm_flags_reset
  return 0;
}

// mm/madvise.c: madvise_vma_behavior, the cases that set or clear fork's flags.
int madvise_vma_behavior(mm_struct* mm, vm_area_struct* vma, vm_area_struct** prev,
                         unsigned long start, unsigned long end, int behavior) {
  vm_flags_t new_flags = vma->vm_flags;
  switch (behavior) {
    case MADV_DONTFORK:
      new_flags |= VM_DONTCOPY;
      break;
    case MADV_DOFORK:
      if (vma->vm_flags & VM_IO) return -EINVAL;
      new_flags &= ~VM_DONTCOPY;
      break;
    case MADV_WIPEONFORK:
      // Only private anonymous memory can be wiped.
      if (vma->vm_file || (vma->vm_flags & VM_SHARED)) return -EINVAL;
      new_flags |= VM_WIPEONFORK;
      break;
    case MADV_KEEPONFORK:
      new_flags &= ~VM_WIPEONFORK;
      break;
    default:
      return -EINVAL;
  }
  return madvise_update_vma(mm, vma, prev, start, end, new_flags);
}

// mm/madvise.c: madvise_walk_vmas. Every VMA piece in [start, end) gets the advice; a
// hole is remembered (-ENOMEM at the end) but does not stop the walk.
int madvise_walk_vmas(mm_struct* mm, unsigned long start, unsigned long end, int behavior) {
  int unmapped_error = 0;
  vm_area_struct* prev;
  vm_area_struct* vma = find_vma_prev(mm, start, &prev);
  if (vma && start > vma->vm_start) prev = vma;
  for (;;) {
    if (!vma) return -ENOMEM;  // still start < end
    if (start < vma->vm_start) {
      unmapped_error = -ENOMEM;
      start = vma->vm_start;
      if (start >= end) break;
    }
    unsigned long tmp = std::min(vma->vm_end, end);
    int error = madvise_vma_behavior(mm, vma, &prev, start, tmp, behavior);
    if (error) return error;
    start = tmp;
    if (prev && start < prev->vm_end) start = prev->vm_end;
    if (start >= end) break;
    vma = prev ? find_vma(mm, prev->vm_end) : find_vma(mm, start);
  }
  return unmapped_error;
}

}  // namespace

// mm/madvise.c: do_madvise on current's mm. 0 or a negative errno.
int do_madvise(unsigned long start, size_t len_in, int behavior) {
  trace_call tc("do_madvise", "start=%#lx len=%#zx behavior=%d", start, len_in, behavior);
  mm_struct* mm = current()->mm;
  if (!madvise_behavior_valid(behavior)) return tc.ret(-EINVAL);
  if (start & ~PAGE_MASK) return tc.ret(-EINVAL);
  size_t len = (len_in + PAGE_SIZE - 1) & PAGE_MASK;
  // Check to see whether len was rounded up from small -ve to zero.
  if (len_in && !len) return tc.ret(-EINVAL);
  unsigned long end = start + len;
  if (end < start) return tc.ret(-EINVAL);
  if (end == start) return tc.ret(0);
  if (mmap_write_lock_killable(mm)) return tc.ret(-EINTR);
  int error = madvise_walk_vmas(mm, start, end, behavior);
  mmap_write_unlock(mm);
  return tc.ret(error);
}

}  // namespace kernel
