// mm/madvise.cc: madvise(2): the advice that sets VMA flags (access pattern, fork, core
// dump, KSM, THP), and the advice that drops, frees, ages, reclaims, reads ahead or
// populates memory.
//
// Port of mm/madvise.c at Linux 6.18 (do_madvise, madvise_should_skip, is_valid_madvise,
// get_lock_mode / madvise_lock / madvise_unlock, madvise_do_behavior, madvise_walk_vmas,
// madvise_vma_behavior, madvise_update_vma, madvise_behavior_valid, madvise_populate,
// madvise_dontneed_free and its
// madvise_dontneed_single_vma / madvise_free_single_vma / madvise_free_pte_range,
// madvise_cold / madvise_pageout / madvise_cold_or_pageout_pte_range (with the huge-pmd
// half and madvise_folio_pte_batch), can_madv_lru_vma,
// can_do_file_pageout, madvise_willneed, swapin_walk_pmd_entry), of mm/swap.c's
// folio_deactivate / lru_deactivate and folio_mark_lazyfree / lru_lazyfree, and of
// mm/fadvise.c's POSIX_FADV_WILLNEED case.
//
// Deviations (grep "DEVIATION(madvise)"):
//  - Modelled advice: MADV_NORMAL, MADV_RANDOM, MADV_SEQUENTIAL, MADV_DONTFORK,
//    MADV_DOFORK, MADV_WIPEONFORK, MADV_KEEPONFORK, MADV_DONTDUMP, MADV_DODUMP,
//    MADV_MERGEABLE, MADV_UNMERGEABLE (CONFIG_KSM, mm/ksm.cc: no ksmd, nothing is ever
//    merged), MADV_HUGEPAGE, MADV_NOHUGEPAGE, MADV_DONTNEED, MADV_DONTNEED_LOCKED,
//    MADV_FREE, MADV_COLD, MADV_PAGEOUT, MADV_WILLNEED, MADV_POPULATE_READ and
//    MADV_POPULATE_WRITE. Every other advice, valid in Linux or not, is -EINVAL:
//    MADV_REMOVE, MADV_COLLAPSE, MADV_GUARD_INSTALL/REMOVE, MADV_HWPOISON and
//    MADV_SOFT_OFFLINE are valid there (only MADV_REMOVE gives -EINVAL on a private
//    anonymous mapping there too; MADV_COLLAPSE collapses, the guard advice installs
//    guards, the memory-failure advice needs CAP_SYS_ADMIN).
//  - MADV_RANDOM / MADV_SEQUENTIAL: VM_RAND_READ / VM_SEQ_READ take the VMA's references
//    out of page aging (vma_has_recency: folio_referenced, the zap); there is no fault
//    readahead to switch off (DEVIATION(filemap)).
//  - MADV_DONTDUMP / MADV_DODUMP set and clear VM_DONTDUMP (smaps "dd"); there are no core
//    dumps to leave the range out of.
//  - THPs (6.18): MADV_FREE, MADV_COLD and MADV_PAGEOUT act on a THP the range covers
//    whole without splitting it (madvise_free_huge_pmd, the huge-pmd half of
//    madvise_cold_or_pageout_pte_range, and madvise_folio_pte_batch for a PTE-mapped
//    one) and split one it covers in part. The young and dirty bits of a batch of PTEs
//    are cleared one PTE at a time (no clear_young_dirty_ptes).
//  - No anon_vma_name, no userfaultfd, no MADV_DROPPABLE VMAs, no guard regions, no mseal
//    (can_modify_vma_madv), no per-VMA locks: the advice that Linux runs under a VMA read
//    lock (MADVISE_VMA_READ_LOCK) takes the mmap_lock for reading, as Linux does when it
//    cannot get the VMA lock (try_vma_read_lock).
//  - MADV_WILLNEED keeps the mmap_lock while it reads a file range in (Linux drops it
//    around vfs_fadvise and looks the VMA up again).
//  - MADV_WILLNEED on shmem reads nothing back (shmem_swapin_range): shmem pages are
//    never swapped out here (mm/vmscan.cc). On anonymous memory it reads the swapped-out
//    pages into the swap cache as Linux does (swapin_walk_pmd_entry).
#include <algorithm>

#include "mm/fs.h"
#include "mm/huge_mm.h"
#include "mm/mmzone.h"
#include "mm/pagewalk.h"
#include "mm/swap.h"
#include "mm/trace.h"
#include "mm/vma.h"
#include "mm/vmscan.h"

namespace kernel {
namespace {

static_assert(MADV_DONTFORK == 10 && MADV_DOFORK == 11, "MADV_DONTFORK");
static_assert(MADV_WIPEONFORK == 18 && MADV_KEEPONFORK == 19, "MADV_WIPEONFORK");
static_assert(MADV_WILLNEED == 3 && MADV_DONTNEED == 4 && MADV_FREE == 8, "MADV_DONTNEED");
static_assert(MADV_COLD == 20 && MADV_PAGEOUT == 21, "MADV_COLD");
static_assert(MADV_HUGEPAGE == 14 && MADV_NOHUGEPAGE == 15, "MADV_HUGEPAGE");
static_assert(MADV_NORMAL == 0 && MADV_RANDOM == 1 && MADV_SEQUENTIAL == 2, "MADV_NORMAL");
static_assert(MADV_DONTDUMP == 16 && MADV_DODUMP == 17, "MADV_DONTDUMP");
static_assert(MADV_MERGEABLE == 12 && MADV_UNMERGEABLE == 13, "MADV_MERGEABLE");
static_assert(MADV_POPULATE_READ == 22 && MADV_POPULATE_WRITE == 23, "MADV_POPULATE_READ");
#ifndef MADV_DONTNEED_LOCKED
#define MADV_DONTNEED_LOCKED 24
#endif
static_assert(MADV_DONTNEED_LOCKED == 24, "MADV_DONTNEED_LOCKED");

// mm/madvise.c: madvise_behavior_valid, under the host's configuration (CONFIG_KSM,
// CONFIG_TRANSPARENT_HUGEPAGE). DEVIATION(madvise): the modelled ones only (MADV_REMOVE,
// MADV_COLLAPSE, the guard and memory-failure advice are missing; see the banner).
bool madvise_behavior_valid(int behavior) {
  switch (behavior) {
    case MADV_DOFORK:
    case MADV_DONTFORK:
    case MADV_NORMAL:
    case MADV_SEQUENTIAL:
    case MADV_RANDOM:
    case MADV_WILLNEED:
    case MADV_DONTNEED:
    case MADV_DONTNEED_LOCKED:
    case MADV_FREE:
    case MADV_COLD:
    case MADV_PAGEOUT:
    case MADV_POPULATE_READ:
    case MADV_POPULATE_WRITE:
    case MADV_MERGEABLE:   // CONFIG_KSM
    case MADV_UNMERGEABLE:
    case MADV_HUGEPAGE:    // CONFIG_TRANSPARENT_HUGEPAGE
    case MADV_NOHUGEPAGE:
    case MADV_DONTDUMP:
    case MADV_DODUMP:
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

// ---- MADV_DONTNEED, MADV_FREE ----

// mm/madvise.c: madvise_dontneed_free_valid_vma. Locked memory and raw PFN mappings
// cannot be dropped (MADV_DONTNEED_LOCKED may drop locked memory).
bool madvise_dontneed_free_valid_vma(vm_area_struct* vma, int behavior) {
  vm_flags_t forbidden = VM_PFNMAP;
  if (behavior != MADV_DONTNEED_LOCKED) forbidden |= VM_LOCKED;
  return !(vma->vm_flags & forbidden);
}

// mm/madvise.c: madvise_dontneed_single_vma. The range's pages are unmapped: private
// anonymous memory reads back as zeros, file memory as the file's contents.
int madvise_dontneed_single_vma(vm_area_struct* vma, unsigned long start, unsigned long end) {
  zap_details details{};
  details.even_cows = true;  // private COW copies go too
  zap_page_range_single(vma, start, end - start, &details);
  return 0;
}

}  // namespace

// mm/swap.c: lru_lazyfree. A clean exclusive anon folio becomes "lazy free": it loses
// PG_swapbacked and sits on the inactive file list, where reclaim may discard it
// without writing it anywhere (unless it is dirtied again first).
static void lru_lazyfree(lruvec* lv, folio* f) {
  const long nr_pages = folio_nr_pages(f);
  if (!folio_test_anon(f) || !folio_test_swapbacked(f) || folio_test_unevictable(f)) return;
  lruvec_del_folio(lv, f);
  folio_clear_active(f);
  folio_clear_referenced(f);
  // Lazyfree folios are clean anonymous folios without PG_swapbacked.
  folio_clear_swapbacked(f);
  lruvec_add_folio(lv, f);
  count_vm_events(PGLAZYFREE, nr_pages);
}

// mm/swap.c: folio_mark_lazyfree. DEVIATION(madvise): no per-CPU batch; the folio moves
// now if it is on the LRU. A folio in the swap cache has a copy on swap: it stays.
void folio_mark_lazyfree(folio* f) {
  if (folio_test_anon(f) && folio_test_swapbacked(f) && !folio_test_swapcache(f) &&
      !folio_test_unevictable(f) && folio_test_lru(f))
    lru_lazyfree(folio_lruvec(f), f);
}

namespace {

// mm/madvise.c: madvise_folio_pte_batch. How many PTEs from `pte` (up to `end`) map
// consecutive pages of f.
int madvise_folio_pte_batch(unsigned long addr, unsigned long end, folio* f, pte_t* pte,
                            pte_t ptent) {
  const unsigned int max_nr = static_cast<unsigned int>((end - addr) >> PAGE_SHIFT);
  return static_cast<int>(folio_pte_batch(f, pte, ptent, max_nr));
}

// mm/madvise.c: the step madvise_free_pte_range and madvise_cold_or_pageout_pte_range
// share for a large folio the range maps in part: with the folio locked (trylock), drop
// the PTE lock, split the folio (*err: split_folio's result) and map the table again.
// Returns the PTE of addr, locked, or null if the table went away.
pte_t* madvise_split_folio_unlocked(folio* f, mm_struct* mm, pmd_t* pmd, unsigned long addr,
                                    pte_t* start_pte, spinlock_t** ptl, int* err) {
  folio_get(f);
  pte_unmap_unlock(start_pte, *ptl);
  *err = split_folio(f);
  folio_unlock(f);
  folio_put(f);
  return pte_offset_map_lock(mm, pmd, addr, ptl);
}

// mm/madvise.c: madvise_free_pte_range. A huge pmd goes to madvise_free_huge_pmd. Each
// exclusive anon folio in range is made clean (PTE and folio) and old, and marked lazy
// free; a large folio mapped here only in part is split first (a whole one is not).
int madvise_free_pte_range(pmd_t* pmd, unsigned long addr, unsigned long end, mm_walk* walk) {
  mmu_gather* tlb = static_cast<mmu_gather*>(walk->priv);
  mm_struct* mm = tlb->mm;
  vm_area_struct* vma = walk->vma;
  spinlock_t* ptl;
  const unsigned long next = pmd_addr_end(addr, end);
  if (pmd_trans_huge(*pmd) && madvise_free_huge_pmd(tlb, vma, pmd, addr, next)) return 0;
  pte_t* start_pte = pte_offset_map_lock(mm, pmd, addr, &ptl);
  if (start_pte == nullptr) return 0;
  pte_t* pte = start_pte;
  int nr_swap = 0;
  int nr;
  for (; addr != end; pte += nr, addr += PAGE_SIZE * nr) {
    nr = 1;
    pte_t ptent = ptep_get(pte);
    if (pte_none(ptent)) continue;
    if (!pte_present(ptent)) {
      // A swapped-out page is dropped now: reading it back would cost more than the
      // zeroed page the next fault maps (free_swap_and_cache_nr, nr = 1).
      swp_entry_t entry = pte_to_swp_entry(ptent);
      if (!non_swap_entry(entry)) {
        nr_swap--;
        free_swap_and_cache(entry);
        pte_clear(mm, addr, pte);  // clear_not_present_full_ptes
      }
      continue;
    }
    folio* f = vm_normal_folio(vma, addr, ptent);
    if (f == nullptr) continue;
    // A large folio is split only when the range does not map all of it; a whole one
    // stays large and is marked lazy free below. If the split fails, go on past it.
    if (folio_test_large(f)) {
      nr = madvise_folio_pte_batch(addr, end, f, pte, ptent);
      if (nr < folio_nr_pages(f)) {
        if (folio_maybe_mapped_shared(f)) continue;
        if (!folio_trylock(f)) continue;
        int err;
        pte = start_pte = madvise_split_folio_unlocked(f, mm, pmd, addr, start_pte, &ptl, &err);
        if (start_pte == nullptr) break;
        if (!err) nr = 0;  // look at the same PTE again, now a small folio's
        continue;
      }
    }
    if (folio_test_dirty(f)) {
      if (!folio_trylock(f)) continue;
      // Shared with another mapping (fork): not ours to free. A large folio here is
      // mapped whole, so mapcount == nr_pages means this mapping alone.
      if (folio_mapcount(f) != folio_nr_pages(f)) {
        folio_unlock(f);
        continue;
      }
      folio_clear_dirty(f);
      folio_unlock(f);
    }
    // clear_young_dirty_ptes(CYDP_CLEAR_YOUNG | CYDP_CLEAR_DIRTY) over the nr PTEs: a
    // later write sets a dirty bit again, which is how reclaim tells a reused page.
    for (int i = 0; i < nr; i++) {
      const unsigned long a = addr + i * PAGE_SIZE;
      pte_t e = ptep_get(pte + i);
      if (!pte_young(e) && !pte_dirty(e)) continue;
      e = ptep_get_and_clear(mm, a, pte + i);
      e = pte_mkold(pte_mkclean(e));
      set_pte_at(mm, a, pte + i, e);
      tlb_remove_tlb_entry(tlb, pte + i, a);
    }
    folio_mark_lazyfree(f);
  }
  if (nr_swap) add_mm_counter(mm, MM_SWAPENTS, nr_swap);
  if (start_pte) pte_unmap_unlock(start_pte, ptl);
  return 0;
}

// mm/madvise.c: madvise_free_single_vma. Anonymous memory only.
int madvise_free_single_vma(vm_area_struct* vma, unsigned long start_addr, unsigned long end_addr) {
  static const mm_walk_ops walk_ops = {madvise_free_pte_range};
  // MADV_FREE works for only anon vma at the moment.
  if (!vma_is_anonymous(vma)) return -EINVAL;
  unsigned long start = std::max(vma->vm_start, start_addr);
  if (start >= vma->vm_end) return -EINVAL;
  unsigned long end = std::min(vma->vm_end, end_addr);
  if (end <= vma->vm_start) return -EINVAL;
  mmu_gather tlb;
  tlb_gather_mmu(&tlb, vma->vm_mm);
  tlb_start_vma(&tlb, vma);
  walk_page_range_vma(vma, start, end, &walk_ops, &tlb);
  tlb_end_vma(&tlb, vma);
  tlb_finish_mmu(&tlb);
  return 0;
}

// mm/madvise.c: madvise_dontneed_free.
int madvise_dontneed_free(vm_area_struct* vma, unsigned long start, unsigned long end,
                          int behavior) {
  if (!madvise_dontneed_free_valid_vma(vma, behavior)) return -EINVAL;
  if (behavior == MADV_DONTNEED || behavior == MADV_DONTNEED_LOCKED)
    return madvise_dontneed_single_vma(vma, start, end);
  if (behavior == MADV_FREE) return madvise_free_single_vma(vma, start, end);
  return -EINVAL;
}

// ---- MADV_COLD, MADV_PAGEOUT ----

// mm/swap.c: lru_deactivate. An active folio moves to its inactive list.
void lru_deactivate(lruvec* lv, folio* f) {
  const long nr_pages = folio_nr_pages(f);
  if (folio_test_unevictable(f) || !folio_test_active(f)) return;
  lruvec_del_folio(lv, f);
  folio_clear_active(f);
  folio_clear_referenced(f);
  lruvec_add_folio(lv, f);
  count_vm_events(PGDEACTIVATE, nr_pages);
}

// mm/swap.c: folio_deactivate. DEVIATION(madvise): no per-CPU batch (see folio_mark_lazyfree).
void folio_deactivate(folio* f) {
  if (folio_test_unevictable(f) || !folio_test_active(f)) return;
  if (folio_test_lru(f)) lru_deactivate(folio_lruvec(f), f);
}

// mm/madvise.c: can_madv_lru_vma. Locked and raw PFN memory is never aged or paged out.
bool can_madv_lru_vma(const vm_area_struct* vma) { return !(vma->vm_flags & (VM_LOCKED | VM_PFNMAP)); }

// mm/madvise.c: can_do_file_pageout. Page cache is paged out only for a file the caller
// owns or could open for writing (otherwise it would be a side channel on shared files).
bool can_do_file_pageout(const vm_area_struct* vma) {
  if (vma->vm_file == nullptr) return false;
  // inode_owner_or_capable || file_permission(MAY_WRITE) == 0. DEVIATION(madvise): simfs
  // inodes have no owner or mode bits, so the owner test is CAP_FOWNER alone and the
  // permission test is whether the file was opened for writing.
  return capable(CAP_FOWNER) || (vma->vm_file->f_mode & FMODE_WRITE);
}

struct madvise_walk_private {
  mmu_gather* tlb;
  bool pageout;
};

// mm/madvise.c: the end of both halves of madvise_cold_or_pageout_pte_range for one
// folio. Reclaim would not take a folio that still looks recently used, so its references
// go (folio_test_clear_young: no page_idle here); then MADV_COLD deactivates it and
// MADV_PAGEOUT isolates it onto folio_list (an unevictable one goes straight back).
void madvise_cold_or_pageout_folio(folio* f, bool pageout, list_head* folio_list) {
  folio_clear_referenced(f);
  if (folio_test_active(f)) folio_set_workingset(f);
  if (pageout) {
    if (folio_isolate_lru(f)) {
      if (folio_test_unevictable(f))
        folio_putback_lru(f);
      else
        list_add(&f->lru, folio_list);
    }
  } else {
    folio_deactivate(f);
  }
}

// mm/madvise.c: madvise_cold_or_pageout_pte_range. Each folio mapped only here and on
// the LRU is made old; MADV_COLD moves it to the inactive list, MADV_PAGEOUT isolates it
// and reclaims it at once. A THP the range covers whole is aged (and reclaimed) as one
// folio, through its pmd or its PTEs; one covered in part is split first.
int madvise_cold_or_pageout_pte_range(pmd_t* pmd, unsigned long addr, unsigned long end,
                                      mm_walk* walk) {
  auto* priv = static_cast<madvise_walk_private*>(walk->priv);
  mmu_gather* tlb = priv->tlb;
  const bool pageout = priv->pageout;
  vm_area_struct* vma = walk->vma;
  mm_struct* mm = vma->vm_mm;
  list_head folio_list;
  INIT_LIST_HEAD(&folio_list);
  spinlock_t* ptl;
  folio* f;
  if (fatal_signal_pending(current())) return -EINTR;
  const bool pageout_anon_only_filter =
      pageout && !vma_is_anonymous(vma) && !can_do_file_pageout(vma);
  if (pmd_trans_huge(*pmd)) {
    const unsigned long next = pmd_addr_end(addr, end);
    ptl = __pmd_trans_huge_lock(pmd, vma);  // pmd_trans_huge_lock
    if (ptl == nullptr) return 0;
    pmd_t orig_pmd = *pmd;
    if (is_huge_zero_pmd(orig_pmd)) goto huge_unlock;
    if (unlikely(!pmd_present(orig_pmd))) goto huge_unlock;
    f = page_folio(pmd_page(orig_pmd));  // pmd_folio
    // Do not interfere with other mappings of this folio.
    if (folio_maybe_mapped_shared(f)) goto huge_unlock;
    if (pageout_anon_only_filter && !folio_test_anon(f)) goto huge_unlock;
    if (next - addr != HPAGE_PMD_SIZE) {
      folio_get(f);
      spin_unlock(ptl);
      folio_lock(f);
      const int err = split_folio(f);
      folio_unlock(f);
      folio_put(f);
      if (!err) goto regular_folio;
      return 0;
    }
    if (!pageout && pmd_young(orig_pmd)) {
      pmdp_invalidate(vma, addr, pmd);
      orig_pmd = pmd_mkold(orig_pmd);
      set_pmd_at(mm, addr, pmd, orig_pmd);
      tlb_flush_pmd_range(tlb, addr, HPAGE_PMD_SIZE);  // tlb_remove_pmd_tlb_entry
    }
    madvise_cold_or_pageout_folio(f, pageout, &folio_list);
  huge_unlock:
    spin_unlock(ptl);
    if (pageout) reclaim_pages(&folio_list);
    return 0;
  }
regular_folio:
  pte_t* start_pte = pte_offset_map_lock(mm, pmd, addr, &ptl);
  if (start_pte == nullptr) return 0;
  pte_t* pte = start_pte;
  int nr;
  for (; addr < end; pte += nr, addr += nr * PAGE_SIZE) {
    nr = 1;
    pte_t ptent = ptep_get(pte);
    if (pte_none(ptent)) continue;
    if (!pte_present(ptent)) continue;
    f = vm_normal_folio(vma, addr, ptent);
    if (f == nullptr) continue;
    // A large folio mapped here only in part is split; a whole one stays large (and
    // goes to reclaim whole). If the split fails, go on past it.
    if (folio_test_large(f)) {
      nr = madvise_folio_pte_batch(addr, end, f, pte, ptent);
      if (nr < folio_nr_pages(f)) {
        if (folio_maybe_mapped_shared(f)) continue;
        if (pageout_anon_only_filter && !folio_test_anon(f)) continue;
        if (!folio_trylock(f)) continue;
        int err;
        pte = start_pte = madvise_split_folio_unlocked(f, mm, pmd, addr, start_pte, &ptl, &err);
        if (start_pte == nullptr) break;
        if (!err) nr = 0;
        continue;
      }
    }
    // Leave folios other mappings share, and folios off the LRU, alone. A large folio
    // here is mapped whole: mapcount == nr_pages means by this mapping alone.
    if (!folio_test_lru(f) || folio_mapcount(f) != folio_nr_pages(f)) continue;
    if (pageout_anon_only_filter && !folio_test_anon(f)) continue;
    if (!pageout) {
      // clear_young_dirty_ptes(CYDP_CLEAR_YOUNG) over the nr PTEs
      for (int i = 0; i < nr; i++) {
        if (!pte_young(ptep_get(pte + i))) continue;
        ptep_test_and_clear_young(vma, addr + i * PAGE_SIZE, pte + i);
        tlb_remove_tlb_entry(tlb, pte + i, addr + i * PAGE_SIZE);
      }
    }
    madvise_cold_or_pageout_folio(f, pageout, &folio_list);
  }
  if (start_pte) pte_unmap_unlock(start_pte, ptl);
  if (pageout) reclaim_pages(&folio_list);
  return 0;
}

// mm/madvise.c: madvise_cold_page_range / madvise_pageout_page_range.
void madvise_cold_or_pageout_page_range(vm_area_struct* vma, unsigned long start,
                                        unsigned long end, bool pageout) {
  static const mm_walk_ops cold_walk_ops = {madvise_cold_or_pageout_pte_range};
  mmu_gather tlb;
  tlb_gather_mmu(&tlb, vma->vm_mm);
  madvise_walk_private walk_private{&tlb, pageout};
  tlb_start_vma(&tlb, vma);
  walk_page_range_vma(vma, start, end, &cold_walk_ops, &walk_private);
  tlb_end_vma(&tlb, vma);
  tlb_finish_mmu(&tlb);
}

// mm/madvise.c: madvise_cold.
int madvise_cold(vm_area_struct* vma, unsigned long start, unsigned long end) {
  if (!can_madv_lru_vma(vma)) return -EINVAL;
  madvise_cold_or_pageout_page_range(vma, start, end, false);
  return 0;
}

// mm/madvise.c: madvise_pageout.
int madvise_pageout(vm_area_struct* vma, unsigned long start, unsigned long end) {
  if (!can_madv_lru_vma(vma)) return -EINVAL;
  // A private file mapping may still page out its own (anonymous COW) pages; a shared
  // one of a file the caller may not write is left alone.
  if (!vma_is_anonymous(vma) && (!can_do_file_pageout(vma) && (vma->vm_flags & VM_MAYSHARE)))
    return 0;
  madvise_cold_or_pageout_page_range(vma, start, end, true);
  return 0;
}

// ---- MADV_WILLNEED ----

// mm/madvise.c: swapin_walk_pmd_entry. Each swap PTE of the range has its page read into
// the swap cache (read_swap_cache_async), not mapped: the access that follows is a minor
// fault (do_swap_page finds the page in the swap cache).
int swapin_walk_pmd_entry(pmd_t* pmd, unsigned long start, unsigned long end, mm_walk* walk) {
  vm_area_struct* vma = walk->vma;
  pte_t* ptep = nullptr;
  spinlock_t* ptl = nullptr;
  for (unsigned long addr = start; addr < end; addr += PAGE_SIZE) {
    if (ptep == nullptr) {
      // (Re)map the table at addr: the lock was dropped for the read below.
      ptep = pte_offset_map_lock(vma->vm_mm, pmd, addr, &ptl);
      if (ptep == nullptr) break;
    } else {
      ptep++;
    }
    pte_t pte = ptep_get(ptep);
    if (!is_swap_pte(pte)) continue;
    swp_entry_t entry = pte_to_swp_entry(pte);
    if (unlikely(non_swap_entry(entry))) continue;
    pte_unmap_unlock(ptep, ptl);
    ptep = nullptr;
    folio* f = read_swap_cache_async(entry, GFP_HIGHUSER_MOVABLE, vma, addr);
    if (f) folio_put(f);
  }
  if (ptep) pte_unmap_unlock(ptep, ptl);
  cond_resched();
  return 0;
}

// mm/madvise.c: madvise_willneed.
int madvise_willneed(vm_area_struct* vma, unsigned long start, unsigned long end) {
  file* file = vma->vm_file;
  if (file == nullptr) {
    static const mm_walk_ops swapin_walk_ops = {swapin_walk_pmd_entry};
    walk_page_range_vma(vma, start, end, &swapin_walk_ops, vma);
    // lru_add_drain: DEVIATION(swap): no per-CPU batches, the new pages are on the LRU.
    return 0;
  }
  if (shmem_mapping(file->f_mapping)) {
    // shmem_swapin_range: DEVIATION(madvise): shmem is never swapped out here (no
    // shmem_writeout), so its page cache holds no swap entries to read back.
    return 0;
  }
  // vfs_fadvise(file, offset, end - start, POSIX_FADV_WILLNEED) -> generic_fadvise.
  loff_t offset = static_cast<loff_t>(start - vma->vm_start) +
                  (static_cast<loff_t>(vma->vm_pgoff) << PAGE_SHIFT);
  loff_t endbyte = offset + static_cast<loff_t>(end - start) - 1;
  // First and last partial page.
  pgoff_t start_index = static_cast<pgoff_t>(offset) >> PAGE_SHIFT;
  pgoff_t end_index = static_cast<pgoff_t>(endbyte) >> PAGE_SHIFT;
  unsigned long nrpages = end_index - start_index + 1;  // careful about overflow
  if (!nrpages) nrpages = ~0UL;
  force_page_cache_readahead(file->f_mapping, file, start_index, nrpages);
  return 0;
}

// mm/madvise.c: madvise_vma_behavior. The advice that acts on pages leaves the VMA
// as it is; the rest sets or clears a flag of [start, end) (madvise_update_vma), and a
// kernel resource running out there is -EAGAIN, not -ENOMEM.
int madvise_vma_behavior(mm_struct* mm, vm_area_struct* vma, vm_area_struct** prev,
                         unsigned long start, unsigned long end, int behavior) {
  vm_flags_t new_flags = vma->vm_flags;
  int error;
  switch (behavior) {
    case MADV_WILLNEED:
      *prev = vma;
      return madvise_willneed(vma, start, end);
    case MADV_COLD:
      *prev = vma;
      return madvise_cold(vma, start, end);
    case MADV_PAGEOUT:
      *prev = vma;
      return madvise_pageout(vma, start, end);
    case MADV_FREE:
    case MADV_DONTNEED:
    case MADV_DONTNEED_LOCKED:
      *prev = vma;
      return madvise_dontneed_free(vma, start, end, behavior);
  }
  // The advice below updates the VMA through madvise_update_vma.
  switch (behavior) {
    case MADV_NORMAL:
      new_flags = new_flags & ~VM_RAND_READ & ~VM_SEQ_READ;
      break;
    case MADV_SEQUENTIAL:
      new_flags = (new_flags & ~VM_RAND_READ) | VM_SEQ_READ;
      break;
    case MADV_RANDOM:
      new_flags = (new_flags & ~VM_SEQ_READ) | VM_RAND_READ;
      break;
    case MADV_DONTFORK:
      new_flags |= VM_DONTCOPY;
      break;
    case MADV_DOFORK:
      if (new_flags & VM_IO) return -EINVAL;
      new_flags &= ~VM_DONTCOPY;
      break;
    case MADV_WIPEONFORK:
      // Only private anonymous memory can be wiped.
      if (vma->vm_file || (new_flags & VM_SHARED)) return -EINVAL;
      new_flags |= VM_WIPEONFORK;
      break;
    case MADV_KEEPONFORK:
      // (A VM_DROPPABLE VMA refuses: DEVIATION(madvise), there are none.)
      new_flags &= ~VM_WIPEONFORK;
      break;
    case MADV_DONTDUMP:
      new_flags |= VM_DONTDUMP;
      break;
    case MADV_DODUMP:
      // A special mapping ([vvar], raw PFN or I/O memory) stays out of core dumps
      // (is_vm_hugetlb_page and VM_DROPPABLE: DEVIATION(madvise), neither exists here).
      if (new_flags & VM_SPECIAL) return -EINVAL;
      new_flags &= ~VM_DONTDUMP;
      break;
    case MADV_MERGEABLE:
    case MADV_UNMERGEABLE:
      error = ksm_madvise(vma, start, end, behavior, &new_flags);
      if (error) goto out;
      break;
    case MADV_HUGEPAGE:
    case MADV_NOHUGEPAGE:
      error = hugepage_madvise(vma, &new_flags, behavior);
      if (error) goto out;
      break;
    default:
      return -EINVAL;
  }
  error = madvise_update_vma(mm, vma, prev, start, end, new_flags);
out:
  // madvise() returns EAGAIN if kernel resources, such as slab, are temporarily
  // unavailable.
  if (error == -ENOMEM) error = -EAGAIN;
  return error;
}

// mm/madvise.c
enum madvise_lock_mode {
  MADVISE_NO_LOCK,
  MADVISE_MMAP_READ_LOCK,
  MADVISE_MMAP_WRITE_LOCK,
  MADVISE_VMA_READ_LOCK,
};

// mm/madvise.c: get_lock_mode. Advice that changes VMA flags needs the mmap_lock for
// writing; advice that only looks at (or faults in) pages runs under it for reading, and
// MADV_DONTNEED(_LOCKED) and MADV_FREE under a VMA read lock where they can.
madvise_lock_mode get_lock_mode(int behavior) {
  switch (behavior) {
    case MADV_WILLNEED:
    case MADV_COLD:
    case MADV_PAGEOUT:
    case MADV_POPULATE_READ:
    case MADV_POPULATE_WRITE:
      return MADVISE_MMAP_READ_LOCK;
    case MADV_DONTNEED:
    case MADV_DONTNEED_LOCKED:
    case MADV_FREE:
      return MADVISE_VMA_READ_LOCK;
    default:
      return MADVISE_MMAP_WRITE_LOCK;
  }
}

// mm/madvise.c: madvise_lock. 0, or -EINTR if a fatal signal came while waiting for the
// write lock; *lock_mode gets the mode actually held.
int madvise_lock(mm_struct* mm, int behavior, madvise_lock_mode* lock_mode) {
  madvise_lock_mode mode = get_lock_mode(behavior);
  switch (mode) {
    case MADVISE_NO_LOCK:
      break;
    case MADVISE_MMAP_WRITE_LOCK:
      if (mmap_write_lock_killable(mm)) return -EINTR;
      break;
    case MADVISE_MMAP_READ_LOCK:
      mmap_read_lock(mm);
      break;
    case MADVISE_VMA_READ_LOCK:
      // DEVIATION(madvise): no per-VMA locks; madvise_walk_vmas's try_vma_read_lock
      // would fall back to the mmap_lock for reading, which is taken here instead.
      mmap_read_lock(mm);
      mode = MADVISE_MMAP_READ_LOCK;
      break;
  }
  *lock_mode = mode;
  return 0;
}

// mm/madvise.c: madvise_unlock.
void madvise_unlock(mm_struct* mm, madvise_lock_mode lock_mode) {
  switch (lock_mode) {
    case MADVISE_NO_LOCK:
    case MADVISE_VMA_READ_LOCK:
      return;
    case MADVISE_MMAP_WRITE_LOCK:
      mmap_write_unlock(mm);
      break;
    case MADVISE_MMAP_READ_LOCK:
      mmap_read_unlock(mm);
      break;
  }
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

// ---- MADV_POPULATE_READ, MADV_POPULATE_WRITE ----

// mm/madvise.c: madvise_populate. Fault [start, end) in, readable (MADV_POPULATE_READ) or
// writable (MADV_POPULATE_WRITE), as the task's own accesses would, across VMAs
// (faultin_page_range looks each one up): not through madvise_walk_vmas, so a hole ends
// it with -ENOMEM at once. Runs under the mmap_lock for reading, which a fault may drop
// (it is taken again before going on). The errors are the documented ones: -EINVAL for
// a VMA that does not allow the access, -EFAULT where the fault gives SIGBUS or SIGSEGV
// (a file page past end-of-file), -ENOMEM for no VMA or no memory.
int madvise_populate(mm_struct* mm, unsigned long start, unsigned long end, int behavior) {
  const bool write = behavior == MADV_POPULATE_WRITE;
  int locked = 1;
  long pages;
  while (start < end) {
    // Populate (prefault) page tables readable/writable.
    pages = faultin_page_range(mm, start, end, write, &locked);
    if (!locked) {
      mmap_read_lock(mm);
      locked = 1;
    }
    if (pages < 0) {
      switch (pages) {
        case -EINTR:
          return -EINTR;
        case -EINVAL:  // incompatible mappings / permissions
          return -EINVAL;
        case -EHWPOISON:
          return -EHWPOISON;
        case -EFAULT:  // VM_FAULT_SIGBUS or VM_FAULT_SIGSEGV
          return -EFAULT;
        default:
          // pr_warn_once("madvise_populate: unhandled return value") in Linux.
          WARN_ON_ONCE(pages != -ENOMEM);
          [[fallthrough]];
        case -ENOMEM:  // no VMA or out of memory
          return -ENOMEM;
      }
    }
    start += static_cast<unsigned long>(pages) * PAGE_SIZE;
  }
  return 0;
}

// mm/madvise.c: is_madvise_populate.
bool is_madvise_populate(int behavior) {
  return behavior == MADV_POPULATE_READ || behavior == MADV_POPULATE_WRITE;
}

// mm/madvise.c: is_valid_madvise. The advice is known, start page-aligned, and the
// page-rounded range neither wraps nor rounds a huge length to zero.
bool is_valid_madvise(unsigned long start, size_t len_in, int behavior) {
  if (!madvise_behavior_valid(behavior)) return false;
  if (start & ~PAGE_MASK) return false;
  size_t len = (len_in + PAGE_SIZE - 1) & PAGE_MASK;
  // Check to see whether len was rounded up from small -ve to zero.
  if (len_in && !len) return false;
  if (start + len < start) return false;
  return true;
}

// mm/madvise.c: madvise_should_skip. True when there is nothing to do: an invalid
// request (*err = -EINVAL) or an empty range (*err = 0).
bool madvise_should_skip(unsigned long start, size_t len_in, int behavior, int* err) {
  if (!is_valid_madvise(start, len_in, behavior)) {
    *err = -EINVAL;
    return true;
  }
  if (start + ((len_in + PAGE_SIZE - 1) & PAGE_MASK) == start) {
    *err = 0;
    return true;
  }
  return false;
}

// mm/madvise.c: madvise_do_behavior. untagged_addr: no LAM, the identity; no
// blk_plug (I/O is synchronous here); no memory-failure advice.
int madvise_do_behavior(mm_struct* mm, unsigned long start, size_t len_in, int behavior) {
  const unsigned long end = start + ((len_in + PAGE_SIZE - 1) & PAGE_MASK);
  if (is_madvise_populate(behavior)) return madvise_populate(mm, start, end, behavior);
  return madvise_walk_vmas(mm, start, end, behavior);
}

}  // namespace

// mm/madvise.c: do_madvise on current's mm. 0 or a negative errno.
int do_madvise(unsigned long start, size_t len_in, int behavior) {
  trace_call tc("do_madvise", "start=%#lx len=%#zx behavior=%d", start, len_in, behavior);
  mm_struct* mm = current()->mm;
  int error;
  if (madvise_should_skip(start, len_in, behavior, &error)) return tc.ret(error);
  madvise_lock_mode lock_mode;
  error = madvise_lock(mm, behavior, &lock_mode);
  if (error) return tc.ret(error);
  // madvise_init_tlb / madvise_finish_tlb: DEVIATION(madvise): MADV_DONTNEED and
  // MADV_FREE gather and flush per VMA (zap_page_range_single, madvise_free_single_vma).
  error = madvise_do_behavior(mm, start, len_in, behavior);
  madvise_unlock(mm, lock_mode);
  return tc.ret(error);
}

}  // namespace kernel
