// mm/rmap.cc: reverse mapping, reduced: anon_vma lifetime, mapcounts, and the file-side
// walk that write-protects a page cache folio's shared mappings.
//
// Port of mm/rmap.c at Linux 6.18 (the anon_vma tree: anon_vma_alloc, anon_vma_chain_link,
// __anon_vma_prepare, anon_vma_clone, anon_vma_fork, unlink_anon_vmas, __put_anon_vma,
// find_mergeable_anon_vma / reusable_anon_vma of mm/vma.c, rmap_walk_anon;
// folio_add_new_anon_rmap, folio_add_anon_rmap_pte, folio_add_file_rmap_pte,
// folio_remove_rmap_pte, folio_mkclean / page_mkclean_one over
// rmap_walk_file, and folio_try_dup_anon_rmap_pte / folio_dup_file_rmap_pte /
// folio_needs_cow_for_dma from include/linux/rmap.h and mm.h).
//
// Deviations (grep "DEVIATION(rmap)"):
//  - Each anon_vma keeps its chains in a list, not an interval tree; the anon_vma lock
//    (the root's rwsem) is not modelled. rmap_walk_anon only finds the VMAs and
//    addresses (no reclaim, no migration use it; debug_vm checks every mapped anon page
//    is found through it).
//  - Pages still point at their anon_vma after it is freed (as in Linux, where only a
//    mapped folio's anon_vma may be dereferenced).
//  - The file walk (rmap_walk_file) scans mapping->i_mmap, a list (mm/fs.h), and finds
//    the PTE with a plain table walk (page_vma_mapped_walk for small folios).
#include "mm/fs.h"
#include "mm/mm.h"
#include "mm/pagewalk.h"
#include "mm/slab.h"
#include "mm/trace.h"

namespace kernel {
namespace {

// mm/rmap.c: anon_vma_alloc. A new anon_vma is its own root and parent.
anon_vma* anon_vma_alloc() {
  anon_vma* av = static_cast<anon_vma*>(kmalloc(sizeof(anon_vma), GFP_KERNEL));
  if (av == nullptr) return nullptr;
  atomic_set(&av->refcount, 1);
  av->num_children = 0;
  av->num_active_vmas = 0;
  av->parent = av;
  av->root = av;
  INIT_LIST_HEAD(&av->rb_root);
  return av;
}

// mm/rmap.c
void anon_vma_free(anon_vma* av) {
  VM_BUG_ON(atomic_read(&av->refcount));
  kfree(av);
}

// mm/rmap.c
anon_vma_chain* anon_vma_chain_alloc(gfp_t gfp) {
  return static_cast<anon_vma_chain*>(kmalloc(sizeof(anon_vma_chain), gfp));
}

// mm/rmap.c
void anon_vma_chain_free(anon_vma_chain* avc) { kfree(avc); }

// include/linux/rmap.h
void get_anon_vma(anon_vma* av) { atomic_inc(&av->refcount); }

// mm/rmap.c: __put_anon_vma. A child anon_vma pins its root; the root goes last.
void __put_anon_vma(anon_vma* av) {
  anon_vma* root = av->root;
  anon_vma_free(av);
  if (root != av && atomic_dec_and_test(&root->refcount)) anon_vma_free(root);
}

// include/linux/rmap.h
void put_anon_vma(anon_vma* av) {
  if (atomic_dec_and_test(&av->refcount)) __put_anon_vma(av);
}

// mm/rmap.c: anon_vma_chain_link. The chain goes to the front of the VMA's list (so the
// list runs newest to oldest, root last) and into the anon_vma's tree.
void anon_vma_chain_link(vm_area_struct* vma, anon_vma_chain* avc, anon_vma* av) {
  avc->vma = vma;
  avc->anon_vma = av;
  list_add(&avc->same_vma, &vma->anon_vma_chain);
  // DEVIATION(rmap): anon_vma_interval_tree_insert; the tree is a list.
  list_add_tail(&avc->rb, &av->rb_root);
}

// mm/vma.c: anon_vma_compatible. Could `b`'s anon_vma serve `a`, its neighbour?
bool anon_vma_compatible(const vm_area_struct* a, const vm_area_struct* b) {
  return a->vm_end == b->vm_start && a->vm_file == b->vm_file &&
         !((a->vm_flags ^ b->vm_flags) & ~(VM_ACCESS_FLAGS | VM_SOFTDIRTY)) &&
         b->vm_pgoff == a->vm_pgoff + ((b->vm_start - a->vm_start) >> PAGE_SHIFT);
}

// mm/vma.c: reusable_anon_vma. old's anon_vma, if a and b fit together and old has no
// inherited anon_vmas (sharing one from a fork tree would widen every rmap walk).
anon_vma* reusable_anon_vma(vm_area_struct* old, vm_area_struct* a, vm_area_struct* b) {
  if (anon_vma_compatible(a, b)) {
    anon_vma* av = old->anon_vma;
    if (av && list_is_singular(&old->anon_vma_chain)) return av;
  }
  return nullptr;
}

// mm/vma.c: find_mergeable_anon_vma. Borrow a neighbour's anon_vma (next first) so
// that the two VMAs can merge later.
anon_vma* find_mergeable_anon_vma(vm_area_struct* vma) {
  mm_struct* mm = vma->vm_mm;
  anon_vma* av = nullptr;
  vm_area_struct* next = vma_next(mm, vma);
  if (next) {
    av = reusable_anon_vma(next, vma, next);
    if (av) return av;
  }
  vm_area_struct* prev = vma_prev(mm, vma);
  if (prev) av = reusable_anon_vma(prev, prev, vma);
  return av;
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

// mm/rmap.c: __anon_vma_prepare (anon_vma_prepare's slow path). The VMA gets an
// anon_vma, a neighbour's if one fits, else a new root. 0 or -ENOMEM.
int anon_vma_prepare(vm_area_struct* vma) {
  if (likely(vma->anon_vma)) return 0;
  mm_struct* mm = vma->vm_mm;
  mmap_assert_locked(mm);
  anon_vma_chain* avc = anon_vma_chain_alloc(GFP_KERNEL);
  if (avc == nullptr) return -ENOMEM;
  anon_vma* av = find_mergeable_anon_vma(vma);
  anon_vma* allocated = nullptr;
  if (av == nullptr) {
    av = anon_vma_alloc();
    if (unlikely(av == nullptr)) {
      anon_vma_chain_free(avc);
      return -ENOMEM;
    }
    av->num_children++;  // a new root is its own parent
    allocated = av;
  }
  // DEVIATION(rmap): no anon_vma_lock_write. page_table_lock keeps out racing threads.
  spin_lock(&mm->page_table_lock);
  if (likely(!vma->anon_vma)) {
    vma->anon_vma = av;
    anon_vma_chain_link(vma, avc, av);
    av->num_active_vmas++;
    allocated = nullptr;
    avc = nullptr;
  }
  spin_unlock(&mm->page_table_lock);
  if (unlikely(allocated)) put_anon_vma(allocated);
  if (unlikely(avc)) anon_vma_chain_free(avc);
  return 0;
}

// mm/rmap.c: anon_vma_clone. `dst` (split off, merged into, or forked from `src`) joins
// every anon_vma src is chained to. For fork, an anon_vma with no VMA of its own and at
// most one child may be reused as dst's own (the root never is). 0 or -ENOMEM (then dst
// is left with no chains and no anon_vma).
int anon_vma_clone(vm_area_struct* dst, vm_area_struct* src) {
  // Oldest first (the list runs newest to oldest), as list_for_each_entry_reverse.
  for (list_head* l = src->anon_vma_chain.prev; l != &src->anon_vma_chain; l = l->prev) {
    anon_vma_chain* pavc = list_entry(l, anon_vma_chain, same_vma);
    // GFP_NOWAIT under the root's lock, then GFP_KERNEL without it: one attempt here.
    anon_vma_chain* avc = anon_vma_chain_alloc(GFP_KERNEL);
    if (unlikely(avc == nullptr)) {
      // dst->anon_vma is dropped first, or unlink_anon_vmas would count it down.
      dst->anon_vma = nullptr;
      unlink_anon_vmas(dst);
      return -ENOMEM;
    }
    anon_vma* av = pavc->anon_vma;
    anon_vma_chain_link(dst, avc, av);
    if (!dst->anon_vma && src->anon_vma && av->num_children < 2 && av->num_active_vmas == 0)
      dst->anon_vma = av;
  }
  if (dst->anon_vma) dst->anon_vma->num_active_vmas++;
  return 0;
}

// mm/rmap.c: anon_vma_fork. The child's VMA is chained to all of the parent VMA's
// anon_vmas (it still maps their pages until it COWs them) and gets one of its own,
// a child of the parent VMA's, where its COWed pages will go. 0 or -ENOMEM.
int anon_vma_fork(vm_area_struct* vma, vm_area_struct* pvma) {
  // Don't bother if the parent process has no anon_vma here.
  if (!pvma->anon_vma) return 0;
  // Drop the inherited pointer: reuse an existing anon_vma or allocate a new one.
  vma->anon_vma = nullptr;
  int error = anon_vma_clone(vma, pvma);
  if (error) return error;
  if (vma->anon_vma) return 0;  // an existing one was reused
  anon_vma* av = anon_vma_alloc();
  if (av == nullptr) {
    unlink_anon_vmas(vma);
    return -ENOMEM;
  }
  av->num_active_vmas++;
  anon_vma_chain* avc = anon_vma_chain_alloc(GFP_KERNEL);
  if (avc == nullptr) {
    put_anon_vma(av);
    unlink_anon_vmas(vma);
    return -ENOMEM;
  }
  av->root = pvma->anon_vma->root;
  av->parent = pvma->anon_vma;
  // The root outlives every anon_vma of its tree.
  get_anon_vma(av->root);
  vma->anon_vma = av;
  anon_vma_chain_link(vma, avc, av);
  av->parent->num_children++;
  return 0;
}

// mm/rmap.c: unlink_anon_vmas. The VMA leaves every anon_vma's tree; anon_vmas left with
// no chains are freed (newest first, so the root goes last).
void unlink_anon_vmas(vm_area_struct* vma) {
  list_head* head = &vma->anon_vma_chain;
  for (list_head *l = head->next, *n = l->next; l != head; l = n, n = l->next) {
    anon_vma_chain* avc = list_entry(l, anon_vma_chain, same_vma);
    anon_vma* av = avc->anon_vma;
    list_del(&avc->rb);  // anon_vma_interval_tree_remove
    // Empty anon_vmas stay on the list, to be freed below.
    if (list_empty(&av->rb_root)) {
      av->parent->num_children--;
      continue;
    }
    list_del(&avc->same_vma);
    anon_vma_chain_free(avc);
  }
  if (vma->anon_vma) {
    vma->anon_vma->num_active_vmas--;
    // The VMA may live on (a merge keeps it); its next fault prepares a new one.
    vma->anon_vma = nullptr;
  }
  // What is left: chains to anon_vmas that are now empty. Free them.
  for (list_head *l = head->next, *n = l->next; l != head; l = n, n = l->next) {
    anon_vma_chain* avc = list_entry(l, anon_vma_chain, same_vma);
    anon_vma* av = avc->anon_vma;
    VM_WARN_ON_ONCE(av->num_children);
    VM_WARN_ON_ONCE(av->num_active_vmas);
    put_anon_vma(av);
    list_del(&avc->same_vma);
    anon_vma_chain_free(avc);
  }
}

// mm/rmap.c: rmap_walk_anon. DEVIATION(rmap): reduced to finding the VMAs and addresses. Every VMA that may map a page
// of this anonymous folio is chained to the folio's anon_vma; for each one the page's
// address follows from its index, and `fn` is called with the VMA and that address
// (which the caller checks against the page tables, as page_vma_mapped_walk). Stops
// when fn returns false. Only for a mapped folio (its anon_vma is alive).
void rmap_walk_anon(folio* f, bool (*fn)(folio* f, vm_area_struct* vma, unsigned long address,
                                         void* arg),
                    void* arg) {
  VM_BUG_ON(!folio_test_anon(f));
  anon_vma* av = reinterpret_cast<anon_vma*>(reinterpret_cast<unsigned long>(f->mapping) &
                                             ~PAGE_MAPPING_ANON);  // folio_anon_vma
  if (av == nullptr) return;
  const pgoff_t pgoff = f->index;
  // anon_vma_interval_tree_foreach over [pgoff, pgoff]
  for (list_head* l = av->rb_root.next; l != &av->rb_root; l = l->next) {
    anon_vma_chain* avc = list_entry(l, anon_vma_chain, rb);
    vm_area_struct* vma = avc->vma;
    if (pgoff < vma->vm_pgoff || pgoff >= vma->vm_pgoff + vma_pages(vma)) continue;
    const unsigned long address = vma->vm_start + ((pgoff - vma->vm_pgoff) << PAGE_SHIFT);
    if (!fn(f, vma, address, arg)) break;
  }
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
  mlock_vma_folio(f, vma);  // a folio mapped into a VM_LOCKED VMA is locked
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
void folio_add_file_rmap_pte(folio* f, page* p, vm_area_struct* vma) {
  VM_BUG_ON(folio_test_anon(f));
  const bool first = atomic_inc_return(&p->_mapcount) == 0;  // from -1: the first mapping
  if (first) mod_node_page_state(NR_FILE_MAPPED, 1);
  mlock_vma_folio(f, vma);  // __folio_add_file_rmap: a VM_LOCKED VMA locks it
}

// mm/rmap.c: folio_remove_rmap_ptes, nr=1.
void folio_remove_rmap_pte(folio* f, page* p, vm_area_struct* vma) {
  VM_BUG_ON(atomic_read(&p->_mapcount) < 0);
  bool last = atomic_dec_return(&p->_mapcount) < 0;
  if (last) mod_node_page_state(folio_test_anon(f) ? NR_ANON_MAPPED : NR_FILE_MAPPED, -1);
  munlock_vma_folio(f, vma);  // __folio_remove_rmap: a VM_LOCKED VMA lets go of it
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
  i_mmap_lock_read(mapping);  // rmap_walk_file
  for (list_head* l = mapping->i_mmap.next; l != &mapping->i_mmap; l = l->next) {
    vm_area_struct* vma = list_entry(l, vm_area_struct, shared.list);
    if (!(vma->vm_flags & VM_SHARED)) continue;  // invalid_mkclean_vma
    if (pgoff < vma->vm_pgoff || pgoff >= vma->vm_pgoff + vma_pages(vma)) continue;
    const unsigned long address = vma->vm_start + ((pgoff - vma->vm_pgoff) << PAGE_SHIFT);
    cleaned += page_mkclean_one(f, vma, address);
  }
  i_mmap_unlock_read(mapping);
  if (cleaned) trace_event("folio_mkclean", "pfn=%#lx cleaned=%d", folio_pfn(f), cleaned);
  return cleaned;
}

}  // namespace kernel
