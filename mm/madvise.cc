// mm/madvise.cc: madvise(2): the fork advice, and the advice that drops, frees, ages,
// reclaims or reads ahead memory.
//
// Port of mm/madvise.c at Linux 6.18 (do_madvise, madvise_walk_vmas, madvise_vma_behavior,
// madvise_update_vma, madvise_behavior_valid, madvise_dontneed_free and its
// madvise_dontneed_single_vma / madvise_free_single_vma / madvise_free_pte_range,
// madvise_cold / madvise_pageout / madvise_cold_or_pageout_pte_range (with the huge-pmd
// half and madvise_folio_pte_batch), can_madv_lru_vma,
// can_do_file_pageout, madvise_willneed, swapin_walk_pmd_entry), of mm/swap.c's
// folio_deactivate / lru_deactivate and folio_mark_lazyfree / lru_lazyfree, and of
// mm/fadvise.c's POSIX_FADV_WILLNEED case.
//
// Deviations (grep "DEVIATION(madvise)"):
//  - Modelled advice: MADV_DONTFORK, MADV_DOFORK, MADV_WIPEONFORK, MADV_KEEPONFORK,
//    MADV_DONTNEED, MADV_DONTNEED_LOCKED, MADV_FREE, MADV_COLD, MADV_PAGEOUT,
//    MADV_WILLNEED, MADV_HUGEPAGE and MADV_NOHUGEPAGE. Every other advice (MADV_COLLAPSE
//    too), valid in Linux or not, is -EINVAL.
//  - THPs (6.18): MADV_FREE, MADV_COLD and MADV_PAGEOUT act on a THP the range covers
//    whole without splitting it (madvise_free_huge_pmd, the huge-pmd half of
//    madvise_cold_or_pageout_pte_range, and madvise_folio_pte_batch for a PTE-mapped
//    one) and split one it covers in part. The young and dirty bits of a batch of PTEs
//    are cleared one PTE at a time (no clear_young_dirty_ptes).
//  - No anon_vma_name, no userfaultfd, no MADV_DROPPABLE VMAs, no guard regions,
//    no per-VMA locks: the advice that Linux runs under
//    the mmap_lock for reading (or a VMA read lock) takes it for reading.
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
#ifndef MADV_DONTNEED_LOCKED
#define MADV_DONTNEED_LOCKED 24
#endif
static_assert(MADV_DONTNEED_LOCKED == 24, "MADV_DONTNEED_LOCKED");

// mm/madvise.c: madvise_behavior_valid. DEVIATION(madvise): the modelled ones only.
bool madvise_behavior_valid(int behavior) {
  switch (behavior) {
    case MADV_DONTFORK:
    case MADV_DOFORK:
    case MADV_WILLNEED:
    case MADV_DONTNEED:
    case MADV_DONTNEED_LOCKED:
    case MADV_FREE:
    case MADV_COLD:
    case MADV_PAGEOUT:
    case MADV_WIPEONFORK:
    case MADV_KEEPONFORK:
    case MADV_HUGEPAGE:    // CONFIG_TRANSPARENT_HUGEPAGE
    case MADV_NOHUGEPAGE:
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
// as it is; the fork advice sets or clears a flag of [start, end).
int madvise_vma_behavior(mm_struct* mm, vm_area_struct* vma, vm_area_struct** prev,
                         unsigned long start, unsigned long end, int behavior) {
  vm_flags_t new_flags = vma->vm_flags;
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
    case MADV_HUGEPAGE:
    case MADV_NOHUGEPAGE: {
      int error = hugepage_madvise(vma, &new_flags, behavior);
      if (error) return error;
      break;
    }
    default:
      return -EINVAL;
  }
  return madvise_update_vma(mm, vma, prev, start, end, new_flags);
}

// mm/madvise.c: madvise_need_mmap_write. The advice that only looks at pages runs under
// the mmap_lock held for reading.
bool madvise_need_mmap_write(int behavior) {
  switch (behavior) {
    case MADV_WILLNEED:
    case MADV_DONTNEED:
    case MADV_DONTNEED_LOCKED:
    case MADV_COLD:
    case MADV_PAGEOUT:
    case MADV_FREE:
      return false;
    default:
      return true;
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
  // madvise_lock: only the fork advice changes VMAs and needs the lock for writing.
  const bool write = madvise_need_mmap_write(behavior);
  if (write) {
    if (mmap_write_lock_killable(mm)) return tc.ret(-EINTR);
  } else {
    mmap_read_lock(mm);
  }
  int error = madvise_walk_vmas(mm, start, end, behavior);
  if (write)
    mmap_write_unlock(mm);
  else
    mmap_read_unlock(mm);
  return tc.ret(error);
}

}  // namespace kernel
