// mm/rmap.cc: reverse mapping, reduced: anon_vma lifetime, mapcounts, and the file-side
// walk that write-protects a page cache folio's shared mappings.
//
// Port of mm/rmap.c at Linux 6.18 (anon_vma_prepare / __anon_vma_prepare,
// folio_add_new_anon_rmap, folio_add_anon_rmap_pte, folio_add_file_rmap_pte,
// folio_remove_rmap_pte, unlink_anon_vmas, folio_mkclean / page_mkclean_one over
// rmap_walk_file, and folio_try_dup_anon_rmap_pte / folio_dup_file_rmap_pte /
// folio_needs_cow_for_dma from include/linux/rmap.h and mm.h).
//
// Deviations (grep "DEVIATION(rmap)"):
//  - No anon_vma_chain and no anon_vma tree: nothing here walks from a page back to its
//    mappings (no reclaim, no migration). An anon_vma is shared by the VMAs that were
//    split or merged from one another (and by a forked child's VMAs), and its refcount
//    counts those VMAs; the last unlink frees it.
//  - Pages still point at their anon_vma after it is freed (as in Linux, where only a
//    mapped folio's anon_vma may be dereferenced); nothing dereferences it.
//  - The file walk (rmap_walk_file) scans mapping->i_mmap, a list (mm/fs.h), and finds
//    the PTE with a plain table walk (page_vma_mapped_walk for small folios).
#include "mm/fs.h"
#include "mm/mm.h"
#include "mm/pagewalk.h"
#include "mm/slab.h"
#include "mm/trace.h"

namespace kernel {
namespace {

// mm/rmap.c: anon_vma_alloc.
anon_vma* anon_vma_alloc() {
  anon_vma* av = static_cast<anon_vma*>(kzalloc(sizeof(anon_vma), GFP_KERNEL));
  if (av == nullptr) return nullptr;
  av->root = av;
  atomic_set(&av->refcount, 1);
  av->num_active_vmas = 0;
  return av;
}

void get_anon_vma(anon_vma* av) { atomic_inc(&av->refcount); }

void put_anon_vma(anon_vma* av) {
  if (atomic_dec_and_test(&av->refcount)) kfree(av);
}

// mm/vma.c: anon_vma_compatible. Could `b`'s anon_vma serve `a`, its neighbour?
bool anon_vma_compatible(const vm_area_struct* a, const vm_area_struct* b) {
  return a->vm_end == b->vm_start && a->vm_file == b->vm_file &&
         !((a->vm_flags ^ b->vm_flags) & ~(VM_ACCESS_FLAGS | VM_SOFTDIRTY)) &&
         b->vm_pgoff == a->vm_pgoff + ((b->vm_start - a->vm_start) >> PAGE_SHIFT);
}

// mm/vma.c: find_mergeable_anon_vma. Borrow a neighbour's anon_vma so that the two VMAs
// can merge later.
anon_vma* find_mergeable_anon_vma(vm_area_struct* vma) {
  mm_struct* mm = vma->vm_mm;
  vm_area_struct* next = vma_next(mm, vma);
  if (next && next->anon_vma && anon_vma_compatible(vma, next)) return next->anon_vma;
  vm_area_struct* prev = vma_prev(mm, vma);
  if (prev && prev->anon_vma && anon_vma_compatible(prev, vma)) return prev->anon_vma;
  return nullptr;
}

// include/linux/rmap.h: __folio_set_anon.
void __folio_set_anon(folio* f, vm_area_struct* vma, unsigned long address) {
  anon_vma* av = vma->anon_vma;
  BUG_ON(av == nullptr);
  f->mapping = reinterpret_cast<address_space*>(reinterpret_cast<unsigned long>(av) |
                                                PAGE_MAPPING_ANON);
  f->index = linear_page_index(vma, address);
}

}  // namespace

// mm/rmap.c: anon_vma_prepare / __anon_vma_prepare. 0 or -ENOMEM.
int anon_vma_prepare(vm_area_struct* vma) {
  if (likely(vma->anon_vma)) return 0;
  mm_struct* mm = vma->vm_mm;
  anon_vma* av = find_mergeable_anon_vma(vma);
  if (av == nullptr) {
    av = anon_vma_alloc();
    if (unlikely(av == nullptr)) return -ENOMEM;
  } else {
    get_anon_vma(av);
  }
  spin_lock(&mm->page_table_lock);
  vma->anon_vma = av;
  av->num_active_vmas++;
  spin_unlock(&mm->page_table_lock);
  return 0;
}

// mm/rmap.c: anon_vma_clone. `dst` (a split-off or copied VMA) shares `src`'s anon_vma.
int anon_vma_clone(vm_area_struct* dst, vm_area_struct* src) {
  dst->anon_vma = src->anon_vma;
  if (dst->anon_vma) {
    get_anon_vma(dst->anon_vma);
    dst->anon_vma->num_active_vmas++;
  }
  return 0;
}

// mm/rmap.c: anon_vma_fork. DEVIATION(rmap): the child shares the parent's anon_vma.
int anon_vma_fork(vm_area_struct* vma, vm_area_struct* pvma) {
  vma->anon_vma = nullptr;
  return anon_vma_clone(vma, pvma);
}

// mm/rmap.c
void unlink_anon_vmas(vm_area_struct* vma) {
  anon_vma* av = vma->anon_vma;
  if (av == nullptr) return;
  vma->anon_vma = nullptr;
  VM_BUG_ON(av->num_active_vmas == 0);
  av->num_active_vmas--;
  put_anon_vma(av);
}

// mm/rmap.c: a freshly allocated anon folio becomes mapped once, exclusively.
void folio_add_new_anon_rmap(folio* f, vm_area_struct* vma, unsigned long address) {
  VM_BUG_ON_VMA(address < vma->vm_start || address + PAGE_SIZE > vma->vm_end, vma);
  if (!folio_test_swapbacked(f)) folio_set_swapbacked(f);
  __folio_set_anon(f, vma, address);
  atomic_set(&f->_mapcount, 0);  // from -1: one mapping
  SetPageAnonExclusive(f);
  mod_node_page_state(NR_ANON_MAPPED, 1);
}

// mm/rmap.c: one more PTE mapping of an existing anon page (folio_add_anon_rmap_ptes, nr=1).
void folio_add_anon_rmap_pte(folio* f, page* p, vm_area_struct* vma, unsigned long address) {
  VM_BUG_ON(!folio_test_anon(f));
  bool first = atomic_inc_return(&p->_mapcount) == 0;
  if (first) {
    __folio_set_anon(f, vma, address);
    mod_node_page_state(NR_ANON_MAPPED, 1);
  }
}

// include/linux/mm.h: folio_needs_cow_for_dma. Could this folio be pinned for DMA by the
// parent? Only mms that ever pinned (MMF_HAS_PINNED) are asked, which keeps a folio with
// 1024+ ordinary references from being copied for nothing.
static bool folio_needs_cow_for_dma(vm_area_struct* vma, folio* f) {
  if (!test_bit(MMF_HAS_PINNED, &vma->vm_mm->flags)) return false;
  return folio_maybe_dma_pinned(f);
}

// include/linux/rmap.h: folio_try_dup_anon_rmap_pte (small folios). Fork's second
// mapping of an anon page: it stops being exclusive to the parent. -EBUSY instead when
// the page may be pinned: then it must stay the parent's own, and fork copies it.
int folio_try_dup_anon_rmap_pte(folio* f, page* p, vm_area_struct* src_vma) {
  VM_BUG_ON(!folio_test_anon(f));
  if (PageAnonExclusive(p)) {
    if (unlikely(folio_needs_cow_for_dma(src_vma, f))) return -EBUSY;
    ClearPageAnonExclusive(p);
  }
  atomic_inc(&p->_mapcount);
  return 0;
}

// include/linux/rmap.h: folio_dup_file_rmap_pte. Fork's second mapping of a file page.
void folio_dup_file_rmap_pte(folio* f, page* p) {
  VM_BUG_ON(folio_test_anon(f));
  VM_BUG_ON(atomic_read(&p->_mapcount) < 0);
  atomic_inc(&p->_mapcount);
}

// mm/rmap.c: folio_add_file_rmap_ptes, nr = 1. One more PTE maps a page cache page.
void folio_add_file_rmap_pte(folio* f, page* p, vm_area_struct* /*vma*/) {
  VM_BUG_ON(folio_test_anon(f));
  const bool first = atomic_inc_return(&p->_mapcount) == 0;  // from -1: the first mapping
  if (first) mod_node_page_state(NR_FILE_MAPPED, 1);
}

// mm/rmap.c: folio_remove_rmap_ptes, nr=1.
void folio_remove_rmap_pte(folio* f, page* p, vm_area_struct* /*vma*/) {
  VM_BUG_ON(atomic_read(&p->_mapcount) < 0);
  bool last = atomic_dec_return(&p->_mapcount) < 0;
  if (last) mod_node_page_state(folio_test_anon(f) ? NR_ANON_MAPPED : NR_FILE_MAPPED, -1);
}

// mm/rmap.c: page_mkclean_one for a small folio mapped at `address` of a shared `vma`:
// if the PTE is dirty or writable, clear it, flush, and put it back clean and read-only,
// so the next write faults (and dirties the folio again). Returns 1 if it did.
static int page_mkclean_one(folio* f, vm_area_struct* vma, unsigned long address) {
  mm_struct* mm = vma->vm_mm;
  // page_vma_mapped_walk: find the PTE without allocating anything.
  pmd_t* pmd = mm_find_pmd(mm, address);
  if (pmd == nullptr) return 0;
  spinlock_t* ptl;
  pte_t* pte = pte_offset_map_lock(mm, pmd, address, &ptl);
  if (pte == nullptr) return 0;
  int cleaned = 0;
  pte_t entry = ptep_get(pte);
  if (pte_present(entry) && pte_pfn(entry) == folio_pfn(f) &&
      (pte_dirty(entry) || pte_write(entry))) {
    entry = ptep_clear_flush(vma, address, pte);
    entry = pte_wrprotect(entry);
    entry = pte_mkclean(entry);
    set_pte_at(mm, address, pte, entry);
    cleaned = 1;
  }
  pte_unmap_unlock(pte, ptl);
  return cleaned;
}

// mm/rmap.c: folio_mkclean. Before writeback: every shared mapping of the folio becomes
// clean and read-only (rmap_walk_file over i_mmap; private mappings are skipped,
// invalid_mkclean_vma). Returns the number of PTEs cleaned.
int folio_mkclean(folio* f) {
  address_space* mapping = f->mapping;
  if (!folio_mapped(f) || mapping == nullptr || folio_test_anon(f)) return 0;
  BUG_ON(!folio_test_locked(f));
  int cleaned = 0;
  const pgoff_t pgoff = f->index;
  for (list_head* l = mapping->i_mmap.next; l != &mapping->i_mmap; l = l->next) {
    vm_area_struct* vma = list_entry(l, vm_area_struct, shared.list);
    if (!(vma->vm_flags & VM_SHARED)) continue;  // invalid_mkclean_vma
    if (pgoff < vma->vm_pgoff || pgoff >= vma->vm_pgoff + vma_pages(vma)) continue;
    const unsigned long address = vma->vm_start + ((pgoff - vma->vm_pgoff) << PAGE_SHIFT);
    cleaned += page_mkclean_one(f, vma, address);
  }
  if (cleaned) trace_event("folio_mkclean", "pfn=%#lx cleaned=%d", folio_pfn(f), cleaned);
  return cleaned;
}

}  // namespace kernel
