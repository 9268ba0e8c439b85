// mm/mlock.cc: mlock(2), mlock2(2), munlock(2), mlockall(2), munlockall(2) and the
// folios' side of it: the unevictable LRU.
//
// Port of mm/mlock.c at Linux 6.18 (mlock_folio, mlock_new_folio, munlock_folio and their
// __mlock_folio / __mlock_new_folio / __munlock_folio, mlock_pte_range,
// mlock_vma_pages_range, mlock_fixup, apply_vma_lock_flags, count_mm_mlocked_page_nr,
// do_mlock, the syscalls, apply_mlockall_flags, can_do_mlock,
// __mlock_posix_error_return) and of mm/internal.h's mlock_vma_folio / munlock_vma_folio.
//
// Deviations (grep "DEVIATION(mlock)"):
//  - No per-CPU mlock folio batches (mlock_fbatch): each folio is moved at once, so the
//    batch's reference and lru_add_drain() are not needed.
//  - mlock_pte_range locks a PTE-mapped large folio page by page (folio_mlock_step is
//    1 and allow_mlock_munlock always agrees); a PMD-mapped THP is locked whole.
//  - No hugetlb, DAX, secretmem, gate or VM_DROPPABLE VMAs: mlock_fixup's exclusions are
//    VM_SPECIAL only. No userfaultfd, no vma_start_write (no per-VMA locks).
#include "mm/huge_mm.h"
#include "mm/mmzone.h"
#include "mm/pagewalk.h"
#include "mm/trace.h"
#include "mm/vma.h"

namespace kernel {

namespace {
// include/linux/vmstat.h: zone_stat_mod_folio (one zone: the node's counter).
void zone_stat_mod_folio(folio* /*f*/, vm_stat_item item, long nr) { mod_node_page_state(item, nr); }

// mm/mlock.c: __mlock_folio. The folio joins the unevictable list, or, already there,
// counts one more locking VMA.
void __mlock_folio(folio* f, lruvec* lv) {
  // There is nothing more we can do while it's off the LRU (isolated: reclaim or
  // migration puts it back on the list its flags name).
  if (!folio_test_lru(f)) return;
  folio_clear_lru(f);
  if (unlikely(folio_evictable(f))) {
    // PG_mlocked was cleared meanwhile: only a stray unevictable folio moves back.
    if (folio_test_unevictable(f)) {
      lruvec_del_folio(lv, f);
      folio_clear_unevictable(f);
      lruvec_add_folio(lv, f);
      count_vm_events(UNEVICTABLE_PGRESCUED, folio_nr_pages(f));
    }
    goto out;
  }
  if (folio_test_unevictable(f)) {
    if (folio_test_mlocked(f)) f->mlock_count++;
    goto out;
  }
  lruvec_del_folio(lv, f);
  folio_clear_active(f);
  folio_set_unevictable(f);
  f->mlock_count = !!folio_test_mlocked(f);
  lruvec_add_folio(lv, f);
  count_vm_events(UNEVICTABLE_PGCULLED, folio_nr_pages(f));
out:
  folio_set_lru(f);
}

// mm/mlock.c: __mlock_new_folio. A new folio (not yet on the LRU) goes straight onto the
// unevictable list.
void __mlock_new_folio(folio* f, lruvec* lv) {
  VM_BUG_ON_FOLIO(folio_test_lru(f), f);
  if (unlikely(folio_evictable(f))) goto out;
  folio_set_unevictable(f);
  f->mlock_count = !!folio_test_mlocked(f);
  count_vm_events(UNEVICTABLE_PGCULLED, folio_nr_pages(f));
out:
  lruvec_add_folio(lv, f);
  folio_set_lru(f);
}

// mm/mlock.c: __munlock_folio. One locking VMA fewer; the last one makes the folio
// evictable again and moves it back to an evictable list.
void __munlock_folio(folio* f, lruvec* lv) {
  const long nr_pages = folio_nr_pages(f);
  bool isolated = false;
  if (!folio_test_lru(f)) goto munlock;
  folio_clear_lru(f);
  isolated = true;
  if (folio_test_unevictable(f)) {
    // The count is kept only here, and may undercount: reclaim corrects that.
    if (f->mlock_count) f->mlock_count--;
    if (f->mlock_count) goto out;
  }
  // Otherwise assume this was the last mlock: reclaim will fix it if not.
munlock:
  if (folio_test_mlocked(f)) {
    folio_clear_mlocked(f);
    zone_stat_mod_folio(f, NR_MLOCK, -nr_pages);
    if (isolated || !folio_test_unevictable(f))
      count_vm_events(UNEVICTABLE_PGMUNLOCKED, nr_pages);
    else
      count_vm_events(UNEVICTABLE_PGSTRANDED, nr_pages);
  }
  // folio_evictable() must be asked after PG_mlocked is cleared.
  if (isolated && folio_test_unevictable(f) && folio_evictable(f)) {
    lruvec_del_folio(lv, f);
    folio_clear_unevictable(f);
    lruvec_add_folio(lv, f);
    count_vm_events(UNEVICTABLE_PGRESCUED, nr_pages);
  }
out:
  if (isolated) folio_set_lru(f);
}
}  // namespace

// mm/mlock.c: mlock_folio. DEVIATION(mlock): no batch, the folio moves now.
void mlock_folio(folio* f) {
  if (!folio_test_mlocked(f)) {
    folio_set_mlocked(f);  // folio_test_set_mlocked
    const long nr_pages = folio_nr_pages(f);
    zone_stat_mod_folio(f, NR_MLOCK, nr_pages);
    count_vm_events(UNEVICTABLE_PGMLOCKED, nr_pages);
  }
  __mlock_folio(f, folio_lruvec(f));
  trace_event("mlock_folio", "pfn=%#lx mlock_count=%u", folio_pfn(f), f->mlock_count);
}

// mm/mlock.c: mlock_new_folio. A folio first mapped into a VM_LOCKED VMA
// (folio_add_lru_vma): locked and put on the unevictable list in one go.
void mlock_new_folio(folio* f) {
  const long nr_pages = folio_nr_pages(f);
  folio_set_mlocked(f);
  zone_stat_mod_folio(f, NR_MLOCK, nr_pages);
  count_vm_events(UNEVICTABLE_PGMLOCKED, nr_pages);
  __mlock_new_folio(f, folio_lruvec(f));
}

// mm/mlock.c: munlock_folio.
void munlock_folio(folio* f) {
  __munlock_folio(f, folio_lruvec(f));
  trace_event("munlock_folio", "pfn=%#lx mlock_count=%u", folio_pfn(f), f->mlock_count);
}

// mm/internal.h: mlock_vma_folio. VM_SPECIAL VMAs never lock (VM_IO also marks the
// VMA mlock_fixup is walking, so that the walk's own folios are not counted twice).
void mlock_vma_folio(folio* f, vm_area_struct* vma) {
  if (unlikely((vma->vm_flags & (VM_LOCKED | VM_SPECIAL)) == VM_LOCKED)) mlock_folio(f);
}

// mm/internal.h: munlock_vma_folio. Always munlock when a VM_LOCKED VMA drops a mapping;
// reclaim relocks a folio another locked VMA still maps.
void munlock_vma_folio(folio* f, vm_area_struct* vma) {
  if (unlikely(vma->vm_flags & VM_LOCKED)) munlock_folio(f);
}

namespace {
// mm/mlock.c: mlock_pte_range. The present pages of a VMA whose VM_LOCKED just changed
// are locked or unlocked to match.
int mlock_pte_range(pmd_t* pmd, unsigned long addr, unsigned long end, mm_walk* walk) {
  vm_area_struct* vma = walk->vma;
  spinlock_t* ptl = __pmd_trans_huge_lock(pmd, vma);
  if (ptl != nullptr) {
    // A PMD-mapped THP (mlock_fixup splits the VMA, so the huge page is all inside it).
    if (!is_huge_zero_pmd(*pmd)) {
      folio* f = page_folio(pmd_page(*pmd));
      if (vma->vm_flags & VM_LOCKED)
        mlock_folio(f);
      else
        munlock_folio(f);
    }
    spin_unlock(ptl);
    return 0;
  }
  pte_t* start_pte = pte_offset_map_lock(vma->vm_mm, pmd, addr, &ptl);
  if (start_pte == nullptr) return 0;  // walk->action = ACTION_AGAIN: nothing mapped here
  for (pte_t* pte = start_pte; addr != end; pte++, addr += PAGE_SIZE) {
    pte_t ptent = ptep_get(pte);
    if (!pte_present(ptent)) continue;
    folio* f = vm_normal_folio(vma, addr, ptent);
    if (f == nullptr) continue;  // the zero page or a raw PFN
    if (vma->vm_flags & VM_LOCKED)
      mlock_folio(f);
    else
      munlock_folio(f);
  }
  pte_unmap_unlock(start_pte, ptl);
  return 0;
}

// mm/mlock.c: mlock_vma_pages_range. Set the VMA's new flags and walk its present pages.
void mlock_vma_pages_range(vm_area_struct* vma, unsigned long start, unsigned long end,
                           vm_flags_t newflags) {
  static const mm_walk_ops mlock_walk_ops = {mlock_pte_range};
  // VM_IO (VM_SPECIAL, never on a locked VMA) keeps a racing rmap walker's
  // mlock_vma_folio from counting a folio this walk counts too.
  if (newflags & VM_LOCKED) newflags |= VM_IO;
  vma->vm_flags = newflags;  // vm_flags_reset_once
  walk_page_range_vma(vma, start, end, &mlock_walk_ops, nullptr);
  if (newflags & VM_IO) {
    newflags &= ~VM_IO;
    vma->vm_flags = newflags;
  }
}

// mm/mlock.c: mlock_fixup. [start, end) of vma gets newflags (split off or merged as
// needed), mm->locked_vm follows, and the present pages are (un)locked.
int mlock_fixup(mm_struct* mm, vm_area_struct* vma, vm_area_struct** prev, unsigned long start,
                unsigned long end, vm_flags_t newflags) {
  int ret = 0;
  vm_flags_t oldflags = vma->vm_flags;
  long nr_pages;
  // Special mappings are never locked and never counted.
  if (newflags == oldflags || (oldflags & VM_SPECIAL)) goto out;
  vma = vma_modify_flags(mm, *prev, vma, start, end, newflags);
  if (IS_ERR(vma)) {
    ret = static_cast<int>(PTR_ERR(vma));
    goto out;
  }
  // Keep track of the amount of locked memory.
  nr_pages = static_cast<long>((end - start) >> PAGE_SHIFT);
  if (!(newflags & VM_LOCKED))
    nr_pages = -nr_pages;
  else if (oldflags & VM_LOCKED)
    nr_pages = 0;
  mm->locked_vm += nr_pages;
  // Already locked (only VM_LOCKONFAULT changes): locking the pages twice would be wrong.
  if ((newflags & VM_LOCKED) && (oldflags & VM_LOCKED))
    vma->vm_flags = newflags;  // vm_flags_reset
  else
    mlock_vma_pages_range(vma, start, end, newflags);
out:
  *prev = vma;
  return ret;
}

// mm/mlock.c: apply_vma_lock_flags. Every VMA of [start, end) gets `flags` for its
// VM_LOCKED_MASK bits; a hole anywhere makes it -ENOMEM (the VMAs before the hole
// are changed already, as in Linux).
int apply_vma_lock_flags(unsigned long start, size_t len, vm_flags_t flags) {
  mm_struct* mm = current()->mm;
  VM_BUG_ON(start & ~PAGE_MASK);
  VM_BUG_ON(len != ((len + PAGE_SIZE - 1) & PAGE_MASK));
  unsigned long end = start + len;
  if (end < start) return -EINVAL;
  if (end == start) return 0;
  // vma_iter_load: the VMA containing start.
  vm_area_struct* vma = find_vma(mm, start);
  if (vma == nullptr || vma->vm_start > start) return -ENOMEM;
  vm_area_struct* prev;
  find_vma_prev(mm, start, &prev);  // vma_prev
  if (start > vma->vm_start) prev = vma;
  unsigned long nstart = start;
  unsigned long tmp = vma->vm_start;
  // for_each_vma_range(vmi, vma, end)
  for (; vma != nullptr && vma->vm_start < end; vma = find_vma(mm, tmp)) {
    if (vma->vm_start != tmp) return -ENOMEM;
    vm_flags_t newflags = vma->vm_flags & ~VM_LOCKED_MASK;
    newflags |= flags;
    // Here vma->vm_start <= nstart < vma->vm_end.
    tmp = vma->vm_end;
    if (tmp > end) tmp = end;
    int error = mlock_fixup(mm, vma, &prev, nstart, tmp, newflags);
    if (error) return error;
    tmp = prev->vm_end;  // vma_iter_end: the end of the VMA just fixed up (or merged)
    nstart = tmp;
  }
  if (tmp < end) return -ENOMEM;
  return 0;
}

// mm/mlock.c: count_mm_mlocked_page_nr. The pages of [start, start + len) already in
// VM_LOCKED VMAs (VM_LOCKONFAULT ones too), which a new mlock does not count again.
unsigned long count_mm_mlocked_page_nr(mm_struct* mm, unsigned long start, size_t len) {
  unsigned long count = 0;
  unsigned long end;
  // Don't overflow past ULONG_MAX.
  if (unlikely(~0UL - len < start))
    end = ~0UL;
  else
    end = start + len;
  for (vm_area_struct* vma = find_vma(mm, start); vma != nullptr && vma->vm_start < end;
       vma = find_vma(mm, vma->vm_end)) {
    if (vma->vm_flags & VM_LOCKED) {
      if (start > vma->vm_start) count -= (start - vma->vm_start);
      if (end < vma->vm_end) {
        count += end - vma->vm_start;
        break;
      }
      count += vma->vm_end - vma->vm_start;
    }
  }
  return count >> PAGE_SHIFT;
}

// mm/mlock.c: __mlock_posix_error_return. POSIX wants ENOMEM for a range that could not
// be faulted in, and EAGAIN when memory ran out.
int __mlock_posix_error_return(long retval) {
  if (retval == -EFAULT)
    retval = -ENOMEM;
  else if (retval == -ENOMEM)
    retval = -EAGAIN;
  return static_cast<int>(retval);
}

// mm/mlock.c: do_mlock.
int do_mlock(unsigned long start, size_t len, vm_flags_t flags) {
  mm_struct* mm = current()->mm;
  int error = -ENOMEM;
  if (!can_do_mlock()) return -EPERM;
  len = (len + (start & ~PAGE_MASK) + PAGE_SIZE - 1) & PAGE_MASK;  // PAGE_ALIGN(len + offset)
  start &= PAGE_MASK;
  unsigned long lock_limit = rlimit(RLIMIT_MEMLOCK);
  lock_limit >>= PAGE_SHIFT;
  unsigned long locked = len >> PAGE_SHIFT;
  if (mmap_write_lock_killable(mm)) return -EINTR;
  locked += mm->locked_vm;
  if ((locked > lock_limit) && (!capable(CAP_IPC_LOCK))) {
    // Part of the range may be locked already, and is in locked_vm: do not count it twice.
    locked -= count_mm_mlocked_page_nr(mm, start, len);
  }
  // Check against the resource limit.
  if ((locked <= lock_limit) || capable(CAP_IPC_LOCK)) error = apply_vma_lock_flags(start, len, flags);
  mmap_write_unlock(mm);
  if (error) return error;
  error = __mm_populate(start, len, 0);
  if (error) return __mlock_posix_error_return(error);
  return 0;
}

// mm/mlock.c: apply_mlockall_flags. Set the future default and, with MCL_CURRENT, lock
// (or, with no flags, unlock) every VMA. Errors of single VMAs are ignored.
int apply_mlockall_flags(int flags) {
  mm_struct* mm = current()->mm;
  vm_area_struct* prev = nullptr;
  vm_flags_t to_add = 0;
  mm->def_flags &= ~VM_LOCKED_MASK;
  if (flags & MCL_FUTURE) {
    mm->def_flags |= VM_LOCKED;
    if (flags & MCL_ONFAULT) mm->def_flags |= VM_LOCKONFAULT;
    if (!(flags & MCL_CURRENT)) return 0;
  }
  if (flags & MCL_CURRENT) {
    to_add |= VM_LOCKED;
    if (flags & MCL_ONFAULT) to_add |= VM_LOCKONFAULT;
  }
  // for_each_vma: the next VMA starts at or after the end of the one just fixed up.
  unsigned long addr = 0;
  for (vm_area_struct* vma = find_vma(mm, addr); vma != nullptr; vma = find_vma(mm, addr)) {
    vm_flags_t newflags = vma->vm_flags & ~VM_LOCKED_MASK;
    newflags |= to_add;
    int error = mlock_fixup(mm, vma, &prev, vma->vm_start, vma->vm_end, newflags);
    // Ignore errors, but prev needs fixing up.
    if (error) prev = vma;
    addr = prev->vm_end;
  }
  return 0;
}
}  // namespace

// mm/mlock.c: mlock(2).
int sys_mlock(unsigned long start, size_t len) {
  trace_call tc("mlock", "start=%#lx len=%#zx", start, len);
  return tc.ret(do_mlock(start, len, VM_LOCKED));
}

// mm/mlock.c: mlock2(2).
int sys_mlock2(unsigned long start, size_t len, int flags) {
  trace_call tc("mlock2", "start=%#lx len=%#zx flags=%#x", start, len, flags);
  vm_flags_t vm_flags = VM_LOCKED;
  if (flags & ~MLOCK_ONFAULT) return tc.ret(-EINVAL);
  if (flags & MLOCK_ONFAULT) vm_flags |= VM_LOCKONFAULT;
  return tc.ret(do_mlock(start, len, vm_flags));
}

// mm/mlock.c: munlock(2).
int sys_munlock(unsigned long start, size_t len) {
  trace_call tc("munlock", "start=%#lx len=%#zx", start, len);
  mm_struct* mm = current()->mm;
  len = (len + (start & ~PAGE_MASK) + PAGE_SIZE - 1) & PAGE_MASK;
  start &= PAGE_MASK;
  if (mmap_write_lock_killable(mm)) return tc.ret(-EINTR);
  int ret = apply_vma_lock_flags(start, len, 0);
  mmap_write_unlock(mm);
  return tc.ret(ret);
}

// mm/mlock.c: mlockall(2).
int sys_mlockall(int flags) {
  trace_call tc("mlockall", "flags=%#x", flags);
  mm_struct* mm = current()->mm;
  if (!flags || (flags & ~(MCL_CURRENT | MCL_FUTURE | MCL_ONFAULT)) || flags == MCL_ONFAULT)
    return tc.ret(-EINVAL);
  if (!can_do_mlock()) return tc.ret(-EPERM);
  unsigned long lock_limit = rlimit(RLIMIT_MEMLOCK);
  lock_limit >>= PAGE_SHIFT;
  if (mmap_write_lock_killable(mm)) return tc.ret(-EINTR);
  int ret = -ENOMEM;
  if (!(flags & MCL_CURRENT) || (mm->total_vm <= lock_limit) || capable(CAP_IPC_LOCK))
    ret = apply_mlockall_flags(flags);
  mmap_write_unlock(mm);
  if (!ret && (flags & MCL_CURRENT)) mm_populate(0, TASK_SIZE);
  return tc.ret(ret);
}

// mm/mlock.c: munlockall(2).
int sys_munlockall() {
  trace_call tc("munlockall", "");
  mm_struct* mm = current()->mm;
  if (mmap_write_lock_killable(mm)) return tc.ret(-EINTR);
  int ret = apply_mlockall_flags(0);
  mmap_write_unlock(mm);
  return tc.ret(ret);
}

// mm/mlock.c: may current lock memory at all?
bool can_do_mlock() {
  if (rlimit(RLIMIT_MEMLOCK) != 0) return true;
  if (capable(CAP_IPC_LOCK)) return true;
  return false;
}

}  // namespace kernel
