// mm/vma.h: VMA-internal interfaces shared by mm/mmap.cc, mm/vma.cc and mm/mprotect.cc
// (Linux's mm/vma.h, an mm-private header), Linux 6.18.
#ifndef MMSIM_MM_VMA_H_
#define MMSIM_MM_VMA_H_

#include <vector>

#include "mm/mm.h"

namespace kernel {

// mm/vma.h: struct vma_munmap_struct, the state of one munmap (also used by mmap_region
// to clear what a MAP_FIXED mapping replaces).
struct vma_munmap_struct {
  mm_struct* mm = nullptr;
  vm_area_struct* vma = nullptr;   // the first VMA overlapping [start, end)
  vm_area_struct* prev = nullptr;  // the VMA before the range, if any
  vm_area_struct* next = nullptr;  // the VMA after the range, if any
  unsigned long start = 0, end = 0;
  unsigned long unmap_start = 0, unmap_end = 0;  // floor/ceiling for free_pgtables
  std::vector<vm_area_struct*> detached;  // DEVIATION(vma): mas_detach is a vector
  unsigned long nr_pages = 0, locked_vm = 0, nr_accounted = 0;
  unsigned long exec_vm = 0, stack_vm = 0, data_vm = 0;
  bool clear_ptes = false;  // page tables of the detached VMAs still hold entries
};

void init_vma_munmap(vma_munmap_struct* vms, mm_struct* mm, vm_area_struct* vma,
                     unsigned long start, unsigned long end);
int vms_gather_munmap_vmas(vma_munmap_struct* vms);
void vms_clean_up_area(vma_munmap_struct* vms);
void vms_complete_munmap_vmas(vma_munmap_struct* vms);
void vms_abort_munmap_vmas(vma_munmap_struct* vms);

// mm/vma.c: merging a new range [start, end) with flags/pgoff into prev and/or next.
// Returns the VMA that now covers the range, or null if nothing could merge.
vm_area_struct* vma_merge_new_range(mm_struct* mm, vm_area_struct* prev, vm_area_struct* next,
                                    unsigned long start, unsigned long end, vm_flags_t flags,
                                    file* file, pgoff_t pgoff);
// mm/vma.c: vma_modify_flags. Make [start, end) of vma a VMA of its own with newflags
// (merging with prev/next where possible, splitting otherwise); the caller sets the flags.
// Returns it, or ERR_PTR(-ENOMEM).
vm_area_struct* vma_modify_flags(mm_struct* mm, vm_area_struct* prev, vm_area_struct* vma,
                                 unsigned long start, unsigned long end, vm_flags_t newflags);
int do_vmi_munmap(mm_struct* mm, unsigned long start, size_t len, bool unlock);
void remove_vma(vm_area_struct* vma);
vm_area_struct* vma_find(mm_struct* mm, unsigned long start, unsigned long end);

}  // namespace kernel

#endif  // MMSIM_MM_VMA_H_
