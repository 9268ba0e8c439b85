// mm/ksm.cc: Kernel Samepage Merging, as far as madvise(2) reaches it.
//
// Port of mm/ksm.c at Linux 6.18 (ksm_compatible, vma_ksm_compatible, ksm_madvise,
// __ksm_enter) and of include/linux/ksm.h (ksm_fork), under CONFIG_KSM=y with ksmd not
// running (/sys/kernel/mm/ksm/run = 0, the default): MADV_MERGEABLE registers the mm
// and marks the VMA VM_MERGEABLE (smaps "mg"), MADV_UNMERGEABLE clears the mark.
//
// Deviations (grep "DEVIATION(ksm)"):
//  - No ksmd, no stable or unstable tree, no rmap_items: no page is ever merged, so there
//    is never a KSM page to break (unmerge_ksm_pages has nothing to do) and nothing of
//    /sys/kernel/mm/ksm or /proc/PID/ksm_stat.
//  - __ksm_enter keeps no mm_slot (there is no scan list to put it on): registering an mm
//    is its MMF_VM_MERGEABLE bit alone, which dies with the mm, so there is no ksm_exit.
//  - No hugetlb, DAX, VM_DROPPABLE or prctl(PR_SET_MEMORY_MERGE) (MMF_VM_MERGE_ANY): the
//    checks for them are absent.
#include "mm/mm.h"
#include "mm/trace.h"

namespace kernel {
namespace {

static_assert(MADV_MERGEABLE == 12 && MADV_UNMERGEABLE == 13, "MADV_MERGEABLE");

// mm/ksm.c: ksm_compatible. Shared and special mappings are never merged: the advice is
// ignored there (not an error).
bool ksm_compatible(const file* /*file*/, vm_flags_t vm_flags) {
  if (vm_flags & (VM_SHARED | VM_MAYSHARE | VM_SPECIAL)) return false;  // just ignore the advice
  // file_is_dax(file), VM_HUGETLB, VM_DROPPABLE: DEVIATION(ksm), none exist here.
  return true;
}

// mm/ksm.c: vma_ksm_compatible.
bool vma_ksm_compatible(const vm_area_struct* vma) {
  return ksm_compatible(vma->vm_file, vma->vm_flags);
}

// mm/ksm.c: unmerge_ksm_pages. Break every KSM page of [start, end) back into a private
// copy. DEVIATION(ksm): nothing is ever merged (no ksmd), so there is none to break.
int unmerge_ksm_pages(vm_area_struct* /*vma*/, unsigned long /*start*/, unsigned long /*end*/,
                      bool /*lock_vma*/) {
  return 0;
}

}  // namespace

// mm/ksm.c: __ksm_enter. DEVIATION(ksm): no mm_slot and no ksmd to wake; the mm is marked.
int __ksm_enter(mm_struct* mm) {
  trace_event("ksm_enter", "mm_id=%u", mm->mm_id);
  set_bit(MMF_VM_MERGEABLE, &mm->flags);
  return 0;
}

// include/linux/ksm.h: ksm_fork. Adding the child to KSM is best effort.
void ksm_fork(mm_struct* mm, mm_struct* oldmm) {
  if (test_bit(MMF_VM_MERGEABLE, &oldmm->flags)) (void)__ksm_enter(mm);
}

// mm/ksm.c: ksm_madvise. MADV_MERGEABLE marks a compatible VMA (registering its mm with
// KSM first); MADV_UNMERGEABLE unmerges the range's KSM pages and clears the mark.
// Advice that does not apply is ignored: 0.
int ksm_madvise(vm_area_struct* vma, unsigned long start, unsigned long end, int advice,
                vm_flags_t* vm_flags) {
  mm_struct* mm = vma->vm_mm;
  int err;
  switch (advice) {
    case MADV_MERGEABLE:
      if (vma->vm_flags & VM_MERGEABLE) return 0;
      if (!vma_ksm_compatible(vma)) return 0;
      if (!test_bit(MMF_VM_MERGEABLE, &mm->flags)) {
        err = __ksm_enter(mm);
        if (err) return err;
      }
      *vm_flags |= VM_MERGEABLE;
      break;
    case MADV_UNMERGEABLE:
      if (!(*vm_flags & VM_MERGEABLE)) return 0;  // just ignore the advice
      if (vma->anon_vma) {
        err = unmerge_ksm_pages(vma, start, end, true);
        if (err) return err;
      }
      *vm_flags &= ~VM_MERGEABLE;
      break;
  }
  return 0;
}

}  // namespace kernel
