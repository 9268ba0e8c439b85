// mm/vma.cc: VMA objects, splitting, merging and the munmap machinery.
//
// Port of mm/vma.c at Linux 6.18 (__split_vma, split_vma, the merge rules:
// is_mergeable_vma, is_mergeable_anon_vma with vma_had_uncowed_parents,
// can_merge_remove_vma, dup_anon_vma, vma_merge_new_range, vma_merge_existing_range,
// commit_merge; vma_prepare / vma_complete with init_vma_prep / init_multi_vma_prep;
// vma_modify_flags, vms_gather_munmap_vmas,
// vms_complete_munmap_vmas, do_vmi_align_munmap, do_vmi_munmap, remove_vma,
// vma_link_file / __vma_link_file, unlink_file_vma / __remove_shared_vm_struct) and of
// vm_area_alloc / vm_area_dup / vm_area_free (kernel/fork.c before 6.15, mm/vma_init.c
// after).
//
// Deviations (grep "DEVIATION(vma)"):
//  - The maple tree is mm->mm_mt, a B-tree keyed by vm_start: a VMA whose vm_start moves
//    is erased and re-inserted. No VMA locks (per-VMA locking), no RCU.
//  - Detached VMAs of an munmap are kept in a vector, not a second maple tree.
//  - No VM accounting (vm_unacct_memory / security_vm_enough_memory) and no RLIMIT_AS
//    (may_expand_vm always agrees); no mlock, no userfaultfd.
//  - The merge functions take their arguments directly (Linux: a vma_merge_struct), and
//    a merge whose dup_anon_vma fails leaves the VMAs as they were (nothing to undo).
//  - anon_name also names [stack] and special mappings: a named VMA never merges.
//  - i_mmap is a list (mm/fs.h): linking a VMA appends it, dup_mmap inserts the child's
//    copy right after the parent's.
#include "mm/vma.h"

#include "mm/fs.h"
#include "mm/huge_mm.h"
#include "mm/slab.h"
#include "mm/trace.h"

namespace kernel {

// ---- VMA objects ----

// kernel/fork.c: vm_area_alloc.
vm_area_struct* vm_area_alloc(mm_struct* mm) {
  vm_area_struct* vma = static_cast<vm_area_struct*>(kzalloc(sizeof(vm_area_struct), GFP_KERNEL));
  if (vma == nullptr) return nullptr;
  vma->vm_mm = mm;  // vma_init
  INIT_LIST_HEAD(&vma->anon_vma_chain);
  return vma;
}

// kernel/fork.c: vm_area_dup. Copies every field, anon_vma and vm_file pointers included,
// but not the anon_vma chains; the caller links it (anon_vma_clone / anon_vma_fork, a
// file reference and i_mmap) or clears them.
vm_area_struct* vm_area_dup(vm_area_struct* orig) {
  vm_area_struct* vma = static_cast<vm_area_struct*>(kmalloc(sizeof(vm_area_struct), GFP_KERNEL));
  if (vma == nullptr) return nullptr;
  *vma = *orig;
  INIT_LIST_HEAD(&vma->anon_vma_chain);
  return vma;
}

// kernel/fork.c
void vm_area_free(vm_area_struct* vma) { kfree(vma); }

void vma_iter_store(mm_struct* mm, vm_area_struct* vma) {
  auto [it, inserted] = mm->mm_mt.emplace(vma->vm_start, vma);
  BUG_ON(!inserted);
}

void vma_iter_erase(mm_struct* mm, vm_area_struct* vma) {
  auto it = mm->mm_mt.find(vma->vm_start);
  BUG_ON(it == mm->mm_mt.end() || it->second != vma);
  mm->mm_mt.erase(it);
}

// Moves vma's start (re-keying it in the tree).
static void vma_set_start(mm_struct* mm, vm_area_struct* vma, unsigned long start,
                          pgoff_t pgoff) {
  vma_iter_erase(mm, vma);
  vma->vm_start = start;
  vma->vm_pgoff = pgoff;
  vma_iter_store(mm, vma);
}

// mm/vma.h: vma_set_range (re-keying the VMA when its start moves).
static void vma_set_range(mm_struct* mm, vm_area_struct* vma, unsigned long start,
                          unsigned long end, pgoff_t pgoff) {
  if (vma->vm_start != start) vma_set_start(mm, vma, start, pgoff);
  vma->vm_end = end;
  vma->vm_pgoff = pgoff;
}

// mm/vma.c: the first VMA intersecting [start, end), or null.
vm_area_struct* vma_find(mm_struct* mm, unsigned long start, unsigned long end) {
  vm_area_struct* vma = find_vma(mm, start);
  if (vma == nullptr || vma->vm_start >= end) return nullptr;
  return vma;
}

// mm/vma.c: remove_vma. The VMA is out of the tree (and off i_mmap) and its pages and
// tables are gone: tell the mapping (->close) and drop the file reference.
void remove_vma(vm_area_struct* vma) {
  if (vma->vm_ops && vma->vm_ops->close) vma->vm_ops->close(vma);  // vma_close
  if (vma->vm_file) fput(vma->vm_file);
  vm_area_free(vma);
}

// mm/vma.c: __vma_link_file (the caller holds i_mmap_rwsem for writing).
static void __vma_link_file(vm_area_struct* vma, address_space* mapping) {
  if ((vma->vm_flags & (VM_SHARED | VM_MAYWRITE)) == (VM_SHARED | VM_MAYWRITE))
    atomic_inc(&mapping->i_mmap_writable);  // mapping_allow_writable
  list_add_tail(&vma->shared.list, &mapping->i_mmap);  // vma_interval_tree_insert
}

// mm/vma.c: vma_link_file. A new VMA with a file goes onto its mapping's i_mmap.
void vma_link_file(vm_area_struct* vma) {
  file* f = vma->vm_file;
  if (f == nullptr) return;
  address_space* mapping = f->f_mapping;
  i_mmap_lock_write(mapping);
  __vma_link_file(vma, mapping);
  i_mmap_unlock_write(mapping);
}

// kernel/fork.c (dup_mmap): the child's copy goes right after the parent's VMA (the caller
// holds i_mmap_rwsem for writing).
void vma_interval_tree_insert_after(vm_area_struct* tmp, vm_area_struct* orig) {
  address_space* mapping = orig->vm_file->f_mapping;
  if ((tmp->vm_flags & (VM_SHARED | VM_MAYWRITE)) == (VM_SHARED | VM_MAYWRITE))
    atomic_inc(&mapping->i_mmap_writable);
  __list_add(&tmp->shared.list, &orig->shared.list, orig->shared.list.next);
}

// mm/vma.c: __remove_shared_vm_struct (the caller holds i_mmap_rwsem for writing).
static void __remove_shared_vm_struct(vm_area_struct* vma, address_space* mapping) {
  if ((vma->vm_flags & (VM_SHARED | VM_MAYWRITE)) == (VM_SHARED | VM_MAYWRITE))
    atomic_dec(&mapping->i_mmap_writable);  // mapping_unmap_writable
  list_del(&vma->shared.list);  // vma_interval_tree_remove
}

// mm/vma.c: unlink_file_vma. Take the VMA off i_mmap (before its page tables go:
// truncation walks i_mmap and must not meet it).
void unlink_file_vma(vm_area_struct* vma) {
  file* f = vma->vm_file;
  if (f == nullptr) return;
  address_space* mapping = f->f_mapping;
  i_mmap_lock_write(mapping);
  __remove_shared_vm_struct(vma, mapping);
  i_mmap_unlock_write(mapping);
}

// ---- vma_prepare / vma_complete ----

// mm/vma.h: struct vma_prepare. What one split or merge changes: `vma` gets a new range,
// adj_next (if any) a new start, insert (a split's new VMA) goes in, remove and remove2
// (VMAs a merge swallows) go. Readers that find VMAs without mmap_lock, the rmap walks
// (i_mmap for file pages, the anon_vma's chain list for anonymous ones), must never see
// the bounds half-changed: vma_prepare takes their locks for writing, vma_complete drops
// them once the VMAs are consistent again.
struct vma_prepare {
  vm_area_struct* vma = nullptr;
  vm_area_struct* adj_next = nullptr;
  struct file* file = nullptr;
  address_space* mapping = nullptr;
  struct anon_vma* anon_vma = nullptr;
  vm_area_struct* insert = nullptr;
  vm_area_struct* remove = nullptr;
  vm_area_struct* remove2 = nullptr;
};

// mm/vma.c: init_multi_vma_prep. DEVIATION(vma): the VMAs to adjust and remove are
// arguments rather than read from a vma_merge_struct.
static void init_multi_vma_prep(struct vma_prepare* vp, vm_area_struct* vma,
                                vm_area_struct* adjust, vm_area_struct* remove,
                                vm_area_struct* remove2) {
  *vp = {};
  vp->vma = vma;
  vp->anon_vma = vma->anon_vma;
  vp->remove = remove;
  vp->remove2 = remove2;
  vp->adj_next = adjust;
  if (!vp->anon_vma && adjust) vp->anon_vma = adjust->anon_vma;
  VM_WARN_ON_ONCE(vp->anon_vma && adjust && adjust->anon_vma &&
                  vp->anon_vma != adjust->anon_vma);
  vp->file = vma->vm_file;
  if (vp->file) vp->mapping = vma->vm_file->f_mapping;
}

// mm/vma.c: init_vma_prep.
static void init_vma_prep(struct vma_prepare* vp, vm_area_struct* vma) {
  init_multi_vma_prep(vp, vma, nullptr, nullptr, nullptr);
}

// mm/vma.c: vma_prepare. i_mmap_rwsem, then the anon_vma's rwsem (mm/rmap.c's lock
// order). DEVIATION(vma): no uprobes and no flush_dcache_mmap_lock; i_mmap and the
// anon_vma's VMA list are lists, not interval trees keyed by range, so the VMAs whose
// range changes are not taken out and put back (vma_interval_tree_remove,
// anon_vma_interval_tree_pre_update_vma).
static void vma_prepare(struct vma_prepare* vp) {
  if (vp->file) {
    i_mmap_lock_write(vp->mapping);
    // The new half of a split goes onto i_mmap now, before either range changes.
    if (vp->insert && vp->insert->vm_file)
      __vma_link_file(vp->insert, vp->insert->vm_file->f_mapping);
  }
  if (vp->anon_vma) anon_vma_lock_write(vp->anon_vma);
}

// mm/vma.c: vma_complete. Unlinks the removed VMAs from i_mmap (or stores the inserted
// one) under the locks, drops them in reverse order, then frees the removed VMAs (their
// anon_vma chains go in anon_vma_merge, which takes the anon_vma lock itself).
static void vma_complete(struct vma_prepare* vp, mm_struct* mm) {
  if (vp->remove && vp->file) {
    __remove_shared_vm_struct(vp->remove, vp->mapping);
    if (vp->remove2) __remove_shared_vm_struct(vp->remove2, vp->mapping);
  } else if (vp->insert) {
    // split_vma's new VMA goes into the tree before the locks are dropped.
    vma_iter_store(mm, vp->insert);
    mm->map_count++;
  }
  if (vp->anon_vma) anon_vma_unlock_write(vp->anon_vma);
  if (vp->file) i_mmap_unlock_write(vp->mapping);
  while (vp->remove) {
    if (vp->file) fput(vp->file);
    if (vp->remove->anon_vma) {
      // include/linux/rmap.h: anon_vma_merge. The survivor has the same anon_vma.
      VM_BUG_ON(vp->vma->anon_vma != vp->remove->anon_vma);
      unlink_anon_vmas(vp->remove);
    }
    mm->map_count--;
    if (!vp->remove2) WARN_ON_ONCE(vp->vma->vm_end < vp->remove->vm_end);
    vm_area_free(vp->remove);
    // mprotect's case where both middle and next go.
    vp->remove = vp->remove2;
    vp->remove2 = nullptr;
  }
}

// ---- splitting ----

// mm/vma.c: __split_vma. With new_below the new VMA takes [vm_start, addr) and vma keeps
// [addr, vm_end); otherwise the new one takes [addr, vm_end).
static int __split_vma(mm_struct* mm, vm_area_struct* vma, unsigned long addr, int new_below) {
  VM_BUG_ON(addr <= vma->vm_start || addr >= vma->vm_end || (addr & ~PAGE_MASK));
  if (vma->vm_ops && vma->vm_ops->may_split) {
    int err = vma->vm_ops->may_split(vma, addr);
    if (err) return err;
  }
  vm_area_struct* n = vm_area_dup(vma);
  if (n == nullptr) return -ENOMEM;
  if (new_below) {
    n->vm_end = addr;
  } else {
    n->vm_start = addr;
    n->vm_pgoff += (addr - vma->vm_start) >> PAGE_SHIFT;
  }
  // n shares vma's anon_vma (copied above) and joins all of its chains.
  int err = anon_vma_clone(n, vma);
  if (err) {
    vm_area_free(n);
    return err;
  }
  if (n->vm_file) get_file(n->vm_file);
  if (n->vm_ops && n->vm_ops->open) n->vm_ops->open(n);
  struct vma_prepare vp;
  init_vma_prep(&vp, vma);
  vp.insert = n;
  vma_prepare(&vp);
  // A huge pmd the cut runs through becomes a PTE table first.
  vma_adjust_trans_huge(vma, vma->vm_start, addr, nullptr);
  if (new_below)
    vma_set_start(mm, vma, addr, vma->vm_pgoff + ((addr - n->vm_start) >> PAGE_SHIFT));
  else
    vma->vm_end = addr;
  // vma_complete stores the new VMA.
  vma_complete(&vp, mm);
  trace_event("split_vma", "at=%#lx new=[%#lx,%#lx)", addr, n->vm_start, n->vm_end);
  return 0;
}

// mm/vma.c: split_vma, which refuses once map_count is at the limit.
int split_vma(mm_struct* mm, vm_area_struct* vma, unsigned long addr, int new_below) {
  if (mm->map_count >= kst().sysctl_max_map_count) return -ENOMEM;
  return __split_vma(mm, vma, addr, new_below);
}

// ---- merging ----

// mm/vma.c: is_mergeable_vma. Same flags (but soft-dirty), same file (or none).
static bool is_mergeable_vma(const vm_area_struct* vma, vm_flags_t vm_flags, const file* f) {
  if ((vma->vm_flags ^ vm_flags) & ~VM_SOFTDIRTY) return false;
  if (vma->vm_file != f) return false;
  // anon_vma_name_eq. DEVIATION(vma): anon_name also names [stack] and special
  // mappings here; a named VMA never merges.
  return vma->anon_name == nullptr;
}

// mm/vma.c: vma_had_uncowed_parents. Chained to more than its own anon_vma: it was
// forked and still shares its parent's anon_vmas. Merging it would spread the fork
// tree's anon_vmas (and their lock) over more memory, so such VMAs do not merge with
// ones that would have to adopt or give up an anon_vma.
static bool vma_had_uncowed_parents(const vm_area_struct* vma) {
  return vma && vma->anon_vma && !list_is_singular(&vma->anon_vma_chain);
}

// mm/vma.c: is_mergeable_anon_vma. `tgt` (prev or next) would take over a range whose
// anon_vma is src_anon, which belongs to `src` (the existing VMA; null for a new range).
static bool is_mergeable_anon_vma(const vm_area_struct* tgt, const vm_area_struct* src,
                                  const anon_vma* src_anon) {
  const anon_vma* tgt_anon = tgt->anon_vma;
  // Case 1: tgt would adopt src's anon_vma (dup_anon_vma).
  if (!tgt_anon && src_anon) return !vma_had_uncowed_parents(src);
  // Case 2: the range would use tgt's.
  if (tgt_anon && !src_anon) return !vma_had_uncowed_parents(tgt);
  // Case 3: they already share one (or neither has one).
  return src_anon == tgt_anon;
}

// mm/vma.c: are_anon_vmas_compatible. prev, the range and next all become one VMA.
static bool are_anon_vmas_compatible(const vm_area_struct* vma1, const vm_area_struct* vma2) {
  return !vma1->anon_vma || !vma2->anon_vma || vma1->anon_vma == vma2->anon_vma;
}

// mm/vma.c: can_merge_remove_vma. A VMA with a ->close cannot silently disappear.
static bool can_merge_remove_vma(const vm_area_struct* vma) {
  return !vma->vm_ops || !vma->vm_ops->close;
}

// mm/vma.c: can_vma_merge_after (can_vma_merge_left). May `prev` absorb the range that
// starts at its end, with these flags, file, anon_vma (of src) and first pgoff?
static bool can_vma_merge_after(const vm_area_struct* prev, vm_flags_t flags, const file* f,
                                const vm_area_struct* src, const anon_vma* av, pgoff_t pgoff) {
  return is_mergeable_vma(prev, flags, f) && is_mergeable_anon_vma(prev, src, av) &&
         prev->vm_pgoff + vma_pages(prev) == pgoff;
}

// mm/vma.c: can_vma_merge_before. May `next` absorb the range that ends at its start,
// whose pgoff ends at pgoff_end?
static bool can_vma_merge_before(const vm_area_struct* next, vm_flags_t flags, const file* f,
                                 const vm_area_struct* src, const anon_vma* av,
                                 pgoff_t pgoff_end) {
  return is_mergeable_vma(next, flags, f) && is_mergeable_anon_vma(next, src, av) &&
         next->vm_pgoff == pgoff_end;
}

// mm/vma.c: dup_anon_vma. `dst` grows over memory whose pages may belong to src's
// anon_vma: it takes that anon_vma and joins its chains. 0 or -ENOMEM.
static int dup_anon_vma(vm_area_struct* dst, vm_area_struct* src) {
  if (src->anon_vma && !dst->anon_vma) {
    dst->anon_vma = src->anon_vma;
    return anon_vma_clone(dst, src);
  }
  return 0;
}

// mm/vma.c: commit_merge. `vma` takes [start, end) at pgoff; `adjust` (if any) then
// starts at `end` (vmg_adjust_set_range: the merge shrinks it from the left, or grows it
// back to the left); remove and remove2 go. All under vma_prepare's locks.
// DEVIATION(vma): arguments instead of a vma_merge_struct; the removed VMAs leave the
// tree before the others are re-keyed (vma_iter_store_overwrite writes over them).
static void commit_merge(mm_struct* mm, vm_area_struct* vma, unsigned long start,
                         unsigned long end, pgoff_t pgoff, vm_area_struct* adjust,
                         vm_area_struct* remove, vm_area_struct* remove2) {
  struct vma_prepare vp;
  init_multi_vma_prep(&vp, vma, adjust, remove, remove2);
  vma_prepare(&vp);
  // A huge pmd across a boundary that moves becomes a PTE table first.
  vma_adjust_trans_huge(vma, start, end, adjust);
  if (remove) vma_iter_erase(mm, remove);
  if (remove2) vma_iter_erase(mm, remove2);
  vma_set_range(mm, vma, start, end, pgoff);
  if (adjust) {
    pgoff_t adj_pgoff = end >= adjust->vm_start
                            ? adjust->vm_pgoff + ((end - adjust->vm_start) >> PAGE_SHIFT)
                            : adjust->vm_pgoff - ((adjust->vm_start - end) >> PAGE_SHIFT);
    vma_set_range(mm, adjust, end, adjust->vm_end, adj_pgoff);
  }
  vma_complete(&vp, mm);
}

// mm/vma.c: vma_merge_new_range (DEVIATION(vma): arguments instead of a
// vma_merge_struct). A new range [start, end) (no VMA yet, no anon_vma)
// extends prev and/or next when they match.
vm_area_struct* vma_merge_new_range(mm_struct* mm, vm_area_struct* prev, vm_area_struct* next,
                                    unsigned long start, unsigned long end, vm_flags_t flags,
                                    file* file, pgoff_t pgoff) {
  if (flags & VM_SPECIAL) return nullptr;
  pgoff_t pglen = (end - start) >> PAGE_SHIFT;
  bool can_merge_left = prev && prev->vm_end == start &&
                        can_vma_merge_after(prev, flags, file, nullptr, nullptr, pgoff);
  // can_vma_merge_right: when prev merges too, next is deleted, so it must allow that
  // and its anon_vma must agree with prev's.
  bool can_merge_right = next && next->vm_start == end &&
                         can_vma_merge_before(next, flags, file, nullptr, nullptr, pgoff + pglen);
  if (can_merge_right && can_merge_left)
    can_merge_right = can_merge_remove_vma(next) && are_anon_vmas_compatible(prev, next);
  if (can_merge_left && can_merge_right) {
    // vma_expand: prev grows over the range and next.
    if (dup_anon_vma(prev, next)) return nullptr;
    commit_merge(mm, prev, prev->vm_start, next->vm_end, prev->vm_pgoff, nullptr, next, nullptr);
    trace_event("vma_merge", "both -> [%#lx,%#lx)", prev->vm_start, prev->vm_end);
    return prev;
  }
  if (can_merge_left) {
    commit_merge(mm, prev, prev->vm_start, end, prev->vm_pgoff, nullptr, nullptr, nullptr);
    trace_event("vma_merge", "prev -> [%#lx,%#lx)", prev->vm_start, prev->vm_end);
    return prev;
  }
  if (can_merge_right) {
    commit_merge(mm, next, start, next->vm_end, pgoff, nullptr, nullptr, nullptr);
    trace_event("vma_merge", "next -> [%#lx,%#lx)", next->vm_start, next->vm_end);
    return next;
  }
  return nullptr;
}

// mm/vma.c: vma_merge_existing_range. [start, end) of vma is to get newflags; merge it into
// prev and/or next when they match. Null if no merge happened (or ERR_PTR(-ENOMEM)).
static vm_area_struct* vma_merge_existing_range(mm_struct* mm, vm_area_struct* prev,
                                                vm_area_struct* vma, unsigned long start,
                                                unsigned long end, vm_flags_t newflags) {
  bool left_side = start == vma->vm_start;
  bool right_side = end == vma->vm_end;
  if ((vma->vm_flags | newflags) & VM_SPECIAL) return nullptr;
  if (!left_side && !right_side) return nullptr;
  vm_area_struct* next = right_side ? vma_next(mm, vma) : nullptr;
  pgoff_t pgoff = vma->vm_pgoff + ((start - vma->vm_start) >> PAGE_SHIFT);
  pgoff_t pglen = (end - start) >> PAGE_SHIFT;

  bool merge_left = left_side && prev && prev->vm_end == start &&
                    can_vma_merge_after(prev, newflags, vma->vm_file, vma, vma->anon_vma, pgoff);
  bool merge_right = right_side && next && next->vm_start == end &&
                     can_vma_merge_before(next, newflags, vma->vm_file, vma, vma->anon_vma,
                                          pgoff + pglen);
  if (merge_left && merge_right && !are_anon_vmas_compatible(prev, next)) merge_right = false;
  if (!merge_left && !merge_right) return nullptr;
  // Removing vma entirely must be allowed; removing next too, or only prev merges.
  if (left_side && right_side && !can_merge_remove_vma(vma)) return nullptr;
  if (merge_left && merge_right && !can_merge_remove_vma(next)) merge_right = false;

  if (merge_left && merge_right) {
    // prev extends over vma and next; both are deleted.
    if (dup_anon_vma(prev, next->anon_vma ? next : vma)) return ERR_PTR<vm_area_struct>(-ENOMEM);
    commit_merge(mm, prev, prev->vm_start, next->vm_end, prev->vm_pgoff, nullptr, vma, next);
    trace_event("vma_merge", "prev+vma+next -> [%#lx,%#lx)", prev->vm_start, prev->vm_end);
    return prev;
  }
  if (merge_left) {
    if (dup_anon_vma(prev, vma)) return ERR_PTR<vm_area_struct>(-ENOMEM);
    // vma goes entirely, or what is left of it starts at end.
    commit_merge(mm, prev, prev->vm_start, end, prev->vm_pgoff, right_side ? nullptr : vma,
                 right_side ? vma : nullptr, nullptr);
    trace_event("vma_merge", "prev -> [%#lx,%#lx)", prev->vm_start, prev->vm_end);
    return prev;
  }
  // merge_right
  if (dup_anon_vma(next, vma)) return ERR_PTR<vm_area_struct>(-ENOMEM);
  if (left_side)
    commit_merge(mm, next, start, next->vm_end, pgoff, nullptr, vma, nullptr);
  else  // vma keeps [vm_start, start); next grows back to start
    commit_merge(mm, vma, vma->vm_start, start, vma->vm_pgoff, next, nullptr, nullptr);
  trace_event("vma_merge", "next -> [%#lx,%#lx)", next->vm_start, next->vm_end);
  return next;
}

// mm/vma.c: vma_modify / vma_modify_flags.
vm_area_struct* vma_modify_flags(mm_struct* mm, vm_area_struct* prev, vm_area_struct* vma,
                                 unsigned long start, unsigned long end, vm_flags_t newflags) {
  vm_area_struct* merged = vma_merge_existing_range(mm, prev, vma, start, end, newflags);
  if (merged) return merged;  // the merged VMA, or ERR_PTR(-ENOMEM)
  if (vma->vm_start < start) {
    int err = split_vma(mm, vma, start, 1);
    if (err) return ERR_PTR<vm_area_struct>(err);
  }
  if (vma->vm_end > end) {
    int err = split_vma(mm, vma, end, 0);
    if (err) return ERR_PTR<vm_area_struct>(err);
  }
  return vma;
}

// ---- munmap ----

// mm/vma.h: init_vma_munmap.
void init_vma_munmap(vma_munmap_struct* vms, mm_struct* mm, vm_area_struct* vma,
                     unsigned long start, unsigned long end) {
  vms->mm = mm;
  vms->vma = vma;
  vms->start = start;
  vms->end = end;
  vms->prev = vms->next = nullptr;
  vms->detached.clear();
  vms->nr_pages = vms->locked_vm = vms->nr_accounted = 0;
  vms->exec_vm = vms->stack_vm = vms->data_vm = 0;
  vms->unmap_start = 0;  // FIRST_USER_ADDRESS
  vms->unmap_end = 0;    // USER_PGTABLES_CEILING
  vms->clear_ptes = false;
}

// mm/vma.c: vms_gather_munmap_vmas. Split at the edges, then take every VMA inside
// [start, end) out of the tree (their pages are still mapped until vms_clear_ptes).
int vms_gather_munmap_vmas(vma_munmap_struct* vms) {
  mm_struct* mm = vms->mm;
  vm_area_struct* vma = vms->vma;
  int error;
  if (vms->start > vma->vm_start) {
    // Let map_count go one above the limit only while freeing.
    if (vms->end < vma->vm_end && mm->map_count >= kst().sysctl_max_map_count)
      return -ENOMEM;
    error = __split_vma(mm, vma, vms->start, 1);
    if (error) return error;
    vms->prev = vma_prev(mm, vma);
  } else {
    vms->prev = vma_prev(mm, vma);
  }
  vm_area_struct* next = vma;
  while (next != nullptr && next->vm_start < vms->end) {
    if (next->vm_end > vms->end) {
      error = __split_vma(mm, next, vms->end, 0);
      if (error) {
        // Put back what was taken out (the front split stays: it is harmless).
        for (vm_area_struct* v : vms->detached) vma_iter_store(mm, v);
        vms->detached.clear();
        return error;
      }
    }
    vm_area_struct* after = vma_next(mm, next);
    vma_iter_erase(mm, next);
    vms->detached.push_back(next);
    unsigned long nrpages = vma_pages(next);
    vms->nr_pages += nrpages;
    if (next->vm_flags & VM_LOCKED) vms->locked_vm += nrpages;
    if (next->vm_flags & VM_ACCOUNT) vms->nr_accounted += nrpages;
    if ((next->vm_flags & (VM_EXEC | VM_WRITE | VM_STACK)) == VM_EXEC)
      vms->exec_vm += nrpages;
    else if ((next->vm_flags & VM_STACK) == VM_STACK)
      vms->stack_vm += nrpages;
    else if ((next->vm_flags & (VM_WRITE | VM_SHARED | VM_STACK)) == VM_WRITE)
      vms->data_vm += nrpages;
    next = after;
  }
  vms->next = next;
  vms->unmap_start = vms->prev ? vms->prev->vm_end : 0;
  vms->unmap_end = vms->next ? vms->next->vm_start : 0;
  vms->clear_ptes = true;
  return 0;
}

// mm/vma.c: vms_clear_ptes. Zap the pages, free the tables, flush, then free the pages.
static void vms_clear_ptes(vma_munmap_struct* vms) {
  if (!vms->clear_ptes) return;
  mmu_gather tlb;
  tlb_gather_mmu(&tlb, vms->mm);
  const int nr = static_cast<int>(vms->detached.size());
  unmap_vmas(&tlb, vms->detached.data(), nr, vms->start, vms->end);
  free_pgtables(&tlb, vms->detached.data(), nr, vms->unmap_start, vms->unmap_end);
  tlb_finish_mmu(&tlb);
  vms->clear_ptes = false;
}

// mm/vma.c
void vms_clean_up_area(vma_munmap_struct* vms) { vms_clear_ptes(vms); }

// mm/vma.c: vms_complete_munmap_vmas.
void vms_complete_munmap_vmas(vma_munmap_struct* vms) {
  mm_struct* mm = vms->mm;
  mm->map_count -= static_cast<int>(vms->detached.size());
  mm->locked_vm -= vms->locked_vm;
  if (vms->nr_pages == 0) return;
  vms_clear_ptes(vms);
  mm->total_vm -= vms->nr_pages;
  mm->exec_vm -= vms->exec_vm;
  mm->stack_vm -= vms->stack_vm;
  mm->data_vm -= vms->data_vm;
  for (vm_area_struct* v : vms->detached) remove_vma(v);
  vms->detached.clear();
}

// mm/vma.c: vms_abort_munmap_vmas. If nothing was cleared yet, the VMAs go back;
// otherwise the area stays unmapped (it cannot be restored).
void vms_abort_munmap_vmas(vma_munmap_struct* vms) {
  if (vms->clear_ptes) {
    for (vm_area_struct* v : vms->detached) vma_iter_store(vms->mm, v);
    vms->detached.clear();
    return;
  }
  vms_complete_munmap_vmas(vms);
}

// mm/vma.c: do_vmi_munmap. The caller holds mmap_lock for writing. DEVIATION(vma): with
// unlock=true Linux downgrades to a read lock while freeing; here the lock is simply
// released at the end.
int do_vmi_munmap(mm_struct* mm, unsigned long start, size_t len, bool unlock) {
  trace_call tc("do_vmi_munmap", "start=%#lx len=%#zx", start, len);
  unsigned long task_size = mm->task_size ? mm->task_size : TASK_SIZE;
  if ((start & ~PAGE_MASK) || start > task_size || len > task_size - start) {
    if (unlock) mmap_write_unlock(mm);
    return tc.ret(-EINVAL);
  }
  unsigned long end = start + ((len + PAGE_SIZE - 1) & PAGE_MASK);
  if (end == start) {
    if (unlock) mmap_write_unlock(mm);
    return tc.ret(-EINVAL);
  }
  vm_area_struct* vma = vma_find(mm, start, end);
  if (vma == nullptr) {
    if (unlock) mmap_write_unlock(mm);
    return tc.ret(0);
  }
  // do_vmi_align_munmap
  vma_munmap_struct vms;
  init_vma_munmap(&vms, mm, vma, start, end);
  int error = vms_gather_munmap_vmas(&vms);
  if (error == 0) vms_complete_munmap_vmas(&vms);
  if (unlock) mmap_write_unlock(mm);
  return tc.ret(error);
}

}  // namespace kernel
