// mm/rmap.cc: reverse mapping, reduced: anon_vma lifetime, mapcounts, and the file-side
// walk that write-protects a page cache folio's shared mappings.
//
// Port of mm/rmap.c at Linux 6.18 (the anon_vma tree: anon_vma_alloc, anon_vma_chain_link,
// __anon_vma_prepare, anon_vma_clone, anon_vma_fork, unlink_anon_vmas, __put_anon_vma,
// find_mergeable_anon_vma / reusable_anon_vma of mm/vma.c, rmap_walk_anon;
// folio_referenced / folio_referenced_one (page aging over rmap_walk_anon and the file
// walk with try_lock; over page_vma_mapped_walk, mm/page_vma_mapped.cc),
// folio_add_new_anon_rmap, folio_add_anon_rmap_pte, folio_add_file_rmap_pte,
// folio_remove_rmap_ptes / _pte (nr-aware: the deferred split is decided after the
// batch), folio_mkclean / page_mkclean_one / page_vma_mkclean_one (over rmap_walk_file
// and page_vma_mapped_walk), and
// folio_try_dup_anon_rmap_ptes / _pte / folio_dup_file_rmap_pte / folio_needs_cow_for_dma
// from include/linux/rmap.h and mm.h).
//
// Deviations (grep "DEVIATION(rmap)"):
//  - Each anon_vma keeps its chains in a list, not an interval tree. rmap_walk_anon only
//    finds the VMAs and addresses (folio_referenced checks the PTE itself; debug_vm
//    checks every mapped anon page is found through it).
//  - The anon_vma lock is the root's rwsem, a real rw_semaphore taken where 6.18 takes it
//    (__anon_vma_prepare, anon_vma_clone, anon_vma_fork, unlink_anon_vmas, anon_vma_free,
//    and folio_lock_anon_vma_read for the reclaim walks). The anon_vma cache is not
//    SLAB_TYPESAFE_BY_RCU (objects go back to the host heap): folio_lock_anon_vma_read's
//    RCU read-side section has no preemption point instead (mm/sched_hooks.h:
//    rcu_read_lock), so no other path frees the anon_vma between its folio_mapped check
//    and the trylock of the root's rwsem.
//  - Pages still point at their anon_vma after it is freed (as in Linux, where only a
//    mapped folio's anon_vma may be dereferenced).
//  - The file walk (rmap_walk_file) scans mapping->i_mmap, a list (mm/fs.h).
//  - page_vma_mkclean_one has no mmu_notifier_range (there are no mmu notifiers).
//  - try_to_unmap flushes each PTE at once (ptep_clear_flush), never in a batch
//    (TTU_BATCH_FLUSH / should_defer_flush), and has no TTU_* flags: it is reclaim's
//    unmap only (no migration or hwpoison), with TTU_SPLIT_HUGE_PMD always set for a
//    large folio (reclaim sets it for every PMD-sized one; they are the only large ones).
//  - Large folios: the mapcounts are CONFIG_PAGE_MAPCOUNT's (per-page _mapcount kept
//    beside _large_mapcount, _entire_mapcount and _nr_pages_mapped), with CONFIG_MM_ID's
//    two mm slots updated by folio_{set,add,sub}_large_mapcount (mm/mm.h). Partially
//    mapped anon folios are queued for the deferred split (mm/huge_memory.cc).
#include <algorithm>

#include "mm/fs.h"
#include "mm/huge_mm.h"
#include "mm/mm.h"
#include "mm/page_vma_mapped.h"
#include "mm/pagewalk.h"
#include "mm/slab.h"
#include "mm/swap.h"
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
  init_rwsem(&av->rwsem, "anon_vma->rwsem");  // anon_vma_ctor
  INIT_LIST_HEAD(&av->rb_root);
  return av;
}

// mm/rmap.c
void anon_vma_free(anon_vma* av) {
  VM_BUG_ON(atomic_read(&av->refcount));
  // A reader that found this anon_vma through a mapped folio (folio_lock_anon_vma_read)
  // may hold the root's lock: wait for it to finish its walk before the memory goes.
  might_sleep();
  if (rwsem_is_locked(&av->root->rwsem)) {
    anon_vma_lock_write(av);
    anon_vma_unlock_write(av);
  }
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
void __folio_set_anon(folio* f, vm_area_struct* vma, unsigned long address, bool exclusive) {
  anon_vma* av = vma->anon_vma;
  BUG_ON(av == nullptr);
  // A folio other processes may map too (swapped in through an entry fork shared) must
  // belong to the oldest anon_vma, the one every VMA of the fork tree is chained to.
  if (!exclusive) av = av->root;
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
  anon_vma_lock_write(av);
  // page_table_lock to protect against threads
  spin_lock(&mm->page_table_lock);
  if (likely(!vma->anon_vma)) {
    vma->anon_vma = av;
    anon_vma_chain_link(vma, avc, av);
    av->num_active_vmas++;
    allocated = nullptr;
    avc = nullptr;
  }
  spin_unlock(&mm->page_table_lock);
  anon_vma_unlock_write(av);
  if (unlikely(allocated)) put_anon_vma(allocated);
  if (unlikely(avc)) anon_vma_chain_free(avc);
  return 0;
}

// mm/rmap.c: lock_anon_vma_root. The chains of one VMA all lead to anon_vmas of one fork
// tree, so one root lock is taken once and kept across them.
static anon_vma* lock_anon_vma_root(anon_vma* root, anon_vma* av) {
  anon_vma* new_root = av->root;
  if (new_root != root) {
    if (WARN_ON_ONCE(root)) up_write(&root->rwsem);
    root = new_root;
    down_write(&root->rwsem);
  }
  return root;
}

// mm/rmap.c
static void unlock_anon_vma_root(anon_vma* root) {
  if (root) up_write(&root->rwsem);
}

// mm/rmap.c: anon_vma_clone. `dst` (split off, merged into, or forked from `src`) joins
// every anon_vma src is chained to. For fork, an anon_vma with no VMA of its own and at
// most one child may be reused as dst's own (the root never is). 0 or -ENOMEM (then dst
// is left with no chains and no anon_vma).
int anon_vma_clone(vm_area_struct* dst, vm_area_struct* src) {
  anon_vma* root = nullptr;
  // Oldest first (the list runs newest to oldest), as list_for_each_entry_reverse.
  for (list_head* l = src->anon_vma_chain.prev; l != &src->anon_vma_chain; l = l->prev) {
    anon_vma_chain* pavc = list_entry(l, anon_vma_chain, same_vma);
    // GFP_NOWAIT under the root's lock; failing that, GFP_KERNEL without it (reclaim
    // walks take anon_vma locks).
    anon_vma_chain* avc = anon_vma_chain_alloc(GFP_NOWAIT);
    if (unlikely(avc == nullptr)) {
      unlock_anon_vma_root(root);
      root = nullptr;
      avc = anon_vma_chain_alloc(GFP_KERNEL);
      if (avc == nullptr) {
        // dst->anon_vma is dropped first, or unlink_anon_vmas would count it down.
        dst->anon_vma = nullptr;
        unlink_anon_vmas(dst);
        return -ENOMEM;
      }
    }
    anon_vma* av = pavc->anon_vma;
    root = lock_anon_vma_root(root, av);
    anon_vma_chain_link(dst, avc, av);
    if (!dst->anon_vma && src->anon_vma && av->num_children < 2 && av->num_active_vmas == 0)
      dst->anon_vma = av;
  }
  if (dst->anon_vma) dst->anon_vma->num_active_vmas++;
  unlock_anon_vma_root(root);
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
  anon_vma_lock_write(av);
  anon_vma_chain_link(vma, avc, av);
  av->parent->num_children++;
  anon_vma_unlock_write(av);
  return 0;
}

// mm/rmap.c: unlink_anon_vmas. The VMA leaves every anon_vma's tree; anon_vmas left with
// no chains are freed (newest first, so the root goes last).
void unlink_anon_vmas(vm_area_struct* vma) {
  anon_vma* root = nullptr;
  list_head* head = &vma->anon_vma_chain;
  for (list_head *l = head->next, *n = l->next; l != head; l = n, n = l->next) {
    anon_vma_chain* avc = list_entry(l, anon_vma_chain, same_vma);
    anon_vma* av = avc->anon_vma;
    root = lock_anon_vma_root(root, av);
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
  unlock_anon_vma_root(root);
  // What is left: chains to anon_vmas that are now empty. Free them (outside the lock:
  // anon_vma_free may take it).
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

// mm/rmap.c: folio_lock_anon_vma_read. The anon_vma of a mapped anon folio, with the
// anon_vma lock (its root's rwsem) held for reading; null if the folio is no longer
// mapped, or (try_lock, reclaim's aging) if the lock was busy: then *contended is set.
// Without the folio lock the anon_vma may be freed under us until the lock is held: the
// RCU section and the folio_mapped checks are what keep it (see the file banner).
anon_vma* folio_lock_anon_vma_read(folio* f, bool try_lock, bool* contended) {
  anon_vma* av = nullptr;
  anon_vma* root_anon_vma;
  unsigned long anon_mapping;
retry:
  rcu_read_lock();
  anon_mapping = reinterpret_cast<unsigned long>(f->mapping);  // READ_ONCE
  // (FOLIO_MAPPING_FLAGS != FOLIO_MAPPING_ANON: mmsim has no KSM or movable_ops tags.)
  if (!(anon_mapping & PAGE_MAPPING_ANON)) goto out;
  if (!folio_mapped(f)) goto out;

  av = reinterpret_cast<anon_vma*>(anon_mapping - PAGE_MAPPING_ANON);
  root_anon_vma = av->root;
  if (down_read_trylock(&root_anon_vma->rwsem)) {
    // folio_move_anon_rmap might have changed the anon_vma (no folio lock here).
    if (unlikely(reinterpret_cast<unsigned long>(f->mapping) != anon_mapping)) {
      up_read(&root_anon_vma->rwsem);
      rcu_read_unlock();
      goto retry;
    }
    // Still mapped: this anon_vma is still its anon_vma, and the lock held keeps it
    // (anon_vma_free waits for it).
    if (!folio_mapped(f)) {
      up_read(&root_anon_vma->rwsem);
      av = nullptr;
    }
    goto out;
  }

  if (try_lock) {
    av = nullptr;
    *contended = true;
    goto out;
  }

  // The trylock failed and we have to sleep: pin the anon_vma first.
  if (!atomic_inc_not_zero(&av->refcount)) {
    av = nullptr;
    goto out;
  }
  if (!folio_mapped(f)) {
    rcu_read_unlock();
    put_anon_vma(av);
    return nullptr;
  }
  // Pinned: safe to sleep.
  rcu_read_unlock();
  anon_vma_lock_read(av);
  if (unlikely(reinterpret_cast<unsigned long>(f->mapping) != anon_mapping)) {
    anon_vma_unlock_read(av);
    put_anon_vma(av);
    av = nullptr;
    goto retry;
  }
  if (atomic_dec_and_test(&av->refcount)) {
    // We held the last reference: drop the lock before freeing (put_anon_vma would take
    // it for writing under our read hold).
    anon_vma_unlock_read(av);
    __put_anon_vma(av);
    av = nullptr;
  }
  return av;

out:
  rcu_read_unlock();
  return av;
}

// mm/rmap.c: rmap_walk_anon. DEVIATION(rmap): reduced to finding the VMAs and addresses.
// Every VMA that may map a page of this anonymous folio is chained to the folio's
// anon_vma; for each one the page's address follows from its index, and `fn` is called
// with the VMA and that address (which the caller checks against the page tables, as
// page_vma_mapped_walk). Stops when fn returns false, or (until_unmapped: rwc->done =
// folio_not_mapped) once the folio is mapped nowhere. `locked`: the caller holds the
// anon_vma lock, or nothing else runs (debug_vm between steps); else the walk takes it
// through folio_lock_anon_vma_read (rwc->anon_lock of reclaim's walks), with try_lock.
void rmap_walk_anon(folio* f, bool (*fn)(folio* f, vm_area_struct* vma, unsigned long address,
                                         void* arg),
                    void* arg, bool locked, bool try_lock, bool* contended,
                    bool until_unmapped,
                    bool (*invalid_vma)(vm_area_struct* vma, void* arg)) {
  VM_BUG_ON(!folio_test_anon(f));
  anon_vma* av;
  if (locked) {
    av = folio_anon_vma(f);
    if (av == nullptr) return;
  } else {
    av = folio_lock_anon_vma_read(f, try_lock, contended);  // rmap_walk_anon_lock
    if (av == nullptr) return;
  }
  const pgoff_t pgoff_start = f->index;
  const pgoff_t pgoff_end = pgoff_start + folio_nr_pages(f) - 1;
  // anon_vma_interval_tree_foreach over [pgoff_start, pgoff_end]
  for (list_head* l = av->rb_root.next; l != &av->rb_root; l = l->next) {
    anon_vma_chain* avc = list_entry(l, anon_vma_chain, rb);
    vm_area_struct* vma = avc->vma;
    if (pgoff_end < vma->vm_pgoff || pgoff_start >= vma->vm_pgoff + vma_pages(vma)) continue;
    // vma_address: the folio's first page in the VMA, or vm_start when the VMA begins
    // inside the folio (a large folio whose PMD was split with the VMA).
    const unsigned long address =
        pgoff_start >= vma->vm_pgoff
            ? vma->vm_start + ((pgoff_start - vma->vm_pgoff) << PAGE_SHIFT)
            : vma->vm_start;
    if (invalid_vma != nullptr && invalid_vma(vma, arg)) continue;
    if (!fn(f, vma, address, arg)) break;
    if (until_unmapped && !folio_mapped(f)) break;  // rwc->done: folio_not_mapped
  }
  if (!locked) anon_vma_unlock_read(av);
}

// mm/rmap.c: how _nr_pages_mapped marks a PMD mapping of the whole folio.
static constexpr int ENTIRELY_MAPPED = 0x800000;
static constexpr int FOLIO_PAGES_MAPPED = ENTIRELY_MAPPED - 1;

// mm/rmap.c: __folio_mod_stat. nr pages became (un)mapped, nr_pmdmapped of them by PMDs.
static void __folio_mod_stat(folio* f, int nr, int nr_pmdmapped) {
  const bool anon = folio_test_anon(f);
  if (nr_pmdmapped && anon) mod_node_page_state(NR_ANON_THPS, nr_pmdmapped);
  if (nr) mod_node_page_state(anon ? NR_ANON_MAPPED : NR_FILE_MAPPED, nr);
}

// mm/rmap.c: a freshly allocated anon folio (or one read from swap) becomes mapped once,
// exclusively unless a swap entry shared by fork says otherwise. A large one is mapped
// by one PMD (all its pages at once).
void folio_add_new_anon_rmap(folio* f, vm_area_struct* vma, unsigned long address,
                             rmap_t flags) {
  const bool exclusive = flags & RMAP_EXCLUSIVE;
  int nr = 1, nr_pmdmapped = 0;
  VM_BUG_ON_VMA(address < vma->vm_start || address + (folio_nr_pages(f) << PAGE_SHIFT) > vma->vm_end, vma);
  if (!folio_test_swapbacked(f)) folio_set_swapbacked(f);
  __folio_set_anon(f, vma, address, exclusive);
  if (likely(!folio_test_large(f))) {
    atomic_set(&f->_mapcount, 0);  // from -1: one mapping
    if (exclusive) SetPageAnonExclusive(f);
  } else {
    // folio_test_pmd_mappable: the only large folios here are PMD-sized.
    nr = static_cast<int>(folio_nr_pages(f));
    page* p1 = folio_tail1(f);
    atomic_set(&p1->_entire_mapcount, 0);
    folio_set_large_mapcount(f, 1, vma);
    atomic_set(&p1->_nr_pages_mapped, ENTIRELY_MAPPED);
    if (exclusive) SetPageAnonExclusive(f);
    nr_pmdmapped = nr;
  }
  __folio_mod_stat(f, nr, nr_pmdmapped);
}

// mm/rmap.c: __folio_add_rmap, RMAP_LEVEL_PTE. nr_pages consecutive pages of f from p
// gain a PTE mapping each; returns how many became mapped at all.
static int __folio_add_rmap_ptes(folio* f, page* p, int nr_pages, vm_area_struct* vma) {
  if (!folio_test_large(f)) return atomic_inc_and_test(&p->_mapcount) ? 1 : 0;
  page* p1 = folio_tail1(f);
  int first = 0;
  const int orig_nr_pages = nr_pages;
  do {
    first += atomic_inc_and_test(&p->_mapcount) ? 1 : 0;
  } while (p++, --nr_pages > 0);
  int nr = 0;
  if (first && atomic_add_return(first, &p1->_nr_pages_mapped) < ENTIRELY_MAPPED) nr = first;
  folio_add_large_mapcount(f, orig_nr_pages, vma);
  return nr;
}

// mm/rmap.c: folio_add_anon_rmap_ptes. More PTE mappings of pages of an existing anon
// folio (fork's duplicates come through folio_try_dup_anon_rmap_pte instead).
void folio_add_anon_rmap_ptes(folio* f, page* p, int nr_pages, vm_area_struct* vma,
                              unsigned long address, rmap_t flags) {
  VM_BUG_ON(!folio_test_anon(f));
  const int nr = __folio_add_rmap_ptes(f, p, nr_pages, vma);
  if (flags & RMAP_EXCLUSIVE)
    for (int i = 0; i < nr_pages; i++) SetPageAnonExclusive(p + i);
  if (nr && !folio_test_large(f)) __folio_set_anon(f, vma, address, flags & RMAP_EXCLUSIVE);
  __folio_mod_stat(f, nr, 0);
  // Only small folios are mlocked here; reclaim deals with large ones (as Linux).
  if (!folio_test_large(f)) mlock_vma_folio(f, vma);
}

// mm/rmap.c: one more PTE mapping of an existing anon page (folio_add_anon_rmap_ptes, nr=1).
void folio_add_anon_rmap_pte(folio* f, page* p, vm_area_struct* vma, unsigned long address,
                             rmap_t flags) {
  folio_add_anon_rmap_ptes(f, p, 1, vma, address, flags);
}

// mm/rmap.c: folio_add_anon_rmap_pmd (__folio_add_rmap, RMAP_LEVEL_PMD).
void folio_add_anon_rmap_pmd(folio* f, page* p, vm_area_struct* vma, unsigned long /*address*/,
                             rmap_t flags) {
  page* p1 = folio_tail1(f);
  int nr = 0, nr_pmdmapped = 0;
  if (atomic_inc_and_test(&p1->_entire_mapcount)) {
    nr = atomic_add_return(ENTIRELY_MAPPED, &p1->_nr_pages_mapped);
    if (likely(nr < ENTIRELY_MAPPED + ENTIRELY_MAPPED)) {
      nr_pmdmapped = static_cast<int>(folio_nr_pages(f));
      nr = nr_pmdmapped - (nr & FOLIO_PAGES_MAPPED);
      if (unlikely(nr < 0)) nr = 0;
    } else {
      nr = 0;
    }
  }
  folio_inc_large_mapcount(f, vma);
  if (flags & RMAP_EXCLUSIVE) SetPageAnonExclusive(p);
  __folio_mod_stat(f, nr, nr_pmdmapped);
}

// include/linux/mm.h: folio_needs_cow_for_dma. Could this folio be pinned for DMA by the
// parent? Only mms that ever pinned (MMF_HAS_PINNED) are asked, which keeps a folio with
// 1024+ ordinary references from being copied for nothing.
static bool folio_needs_cow_for_dma(vm_area_struct* vma, folio* f) {
  if (!test_bit(MMF_HAS_PINNED, &vma->vm_mm->flags)) return false;
  return folio_maybe_dma_pinned(f);
}

// include/linux/rmap.h: folio_try_dup_anon_rmap_ptes (__folio_try_dup_anon_rmap,
// RMAP_LEVEL_PTE). Fork's second mapping of nr_pages consecutive pages of an anon folio:
// they stop being exclusive to the parent. -EBUSY (and nothing changed) when one of them
// is exclusive and the folio may be pinned: then the parent keeps it, and fork copies.
int folio_try_dup_anon_rmap_ptes(folio* f, page* p, int nr_pages, vm_area_struct* dst_vma,
                                 vm_area_struct* src_vma) {
  VM_BUG_ON(!folio_test_anon(f));
  const bool maybe_pinned = unlikely(folio_needs_cow_for_dma(src_vma, f));
  if (unlikely(maybe_pinned)) {
    for (int i = 0; i < nr_pages; i++)
      if (PageAnonExclusive(p + i)) return -EBUSY;
  }
  if (!folio_test_large(f)) {
    if (PageAnonExclusive(p)) ClearPageAnonExclusive(p);
    atomic_inc(&p->_mapcount);
    return 0;
  }
  const int orig_nr_pages = nr_pages;
  do {
    if (PageAnonExclusive(p)) ClearPageAnonExclusive(p);
    atomic_inc(&p->_mapcount);
  } while (p++, --nr_pages > 0);
  folio_add_large_mapcount(f, orig_nr_pages, dst_vma);  // the child's mappings
  return 0;
}

// include/linux/rmap.h: folio_try_dup_anon_rmap_pte (nr = 1).
int folio_try_dup_anon_rmap_pte(folio* f, page* p, vm_area_struct* dst_vma,
                                vm_area_struct* src_vma) {
  return folio_try_dup_anon_rmap_ptes(f, p, 1, dst_vma, src_vma);
}

// include/linux/rmap.h: folio_try_dup_anon_rmap_pmd. Fork shares a PMD-mapped THP.
int folio_try_dup_anon_rmap_pmd(folio* f, page* p, vm_area_struct* dst_vma,
                                vm_area_struct* src_vma) {
  VM_BUG_ON(!folio_test_anon(f));
  if (PageAnonExclusive(p)) {
    if (unlikely(folio_needs_cow_for_dma(src_vma, f))) return -EBUSY;
    ClearPageAnonExclusive(p);
  }
  atomic_inc(&folio_tail1(f)->_entire_mapcount);
  folio_inc_large_mapcount(f, dst_vma);
  return 0;
}

// mm/rmap.c: folio_move_anon_rmap. The (exclusive) folio now belongs to this VMA's
// anon_vma.
void folio_move_anon_rmap(folio* f, vm_area_struct* vma) {
  VM_BUG_ON(!vma->anon_vma);
  f->mapping = reinterpret_cast<address_space*>(reinterpret_cast<unsigned long>(vma->anon_vma) |
                                                PAGE_MAPPING_ANON);
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

// mm/rmap.c: folio_remove_rmap_ptes (__folio_remove_rmap, RMAP_LEVEL_PTE). nr_pages
// consecutive pages of f from p each lose one PTE mapping, in one step: a large folio is
// queued for the deferred split only if some of its pages are still mapped after the
// whole batch went (zapping every PTE of a PTE-mapped THP does not queue it).
void folio_remove_rmap_ptes(folio* f, page* p, int nr_pages, vm_area_struct* vma) {
  VM_BUG_ON(atomic_read(&p->_mapcount) < 0);
  int nr = 0;
  bool partially_mapped = false;
  if (likely(!folio_test_large(f))) {
    nr = atomic_dec_return(&p->_mapcount) < 0 ? 1 : 0;  // atomic_add_negative(-1)
  } else {
    page* p1 = folio_tail1(f);
    folio_sub_large_mapcount(f, nr_pages, vma);
    int last = 0;
    do {
      last += atomic_dec_return(&p->_mapcount) < 0 ? 1 : 0;
    } while (p++, --nr_pages > 0);
    if (last && atomic_sub_return(last, &p1->_nr_pages_mapped) < ENTIRELY_MAPPED) nr = last;
    partially_mapped = nr && atomic_read(&p1->_nr_pages_mapped);
  }
  // Some pages of an anon THP went while others stay mapped: queue it for the deferred split.
  if (partially_mapped && folio_test_anon(f) && !folio_test_partially_mapped(f))
    deferred_split_folio(f, true);
  __folio_mod_stat(f, -nr, 0);
  munlock_vma_folio(f, vma);  // __folio_remove_rmap: a VM_LOCKED VMA lets go of it
}

// include/linux/rmap.h: folio_remove_rmap_pte (folio_remove_rmap_ptes, nr = 1).
void folio_remove_rmap_pte(folio* f, page* p, vm_area_struct* vma) {
  folio_remove_rmap_ptes(f, p, 1, vma);
}

// mm/rmap.c: folio_remove_rmap_pmd (__folio_remove_rmap, RMAP_LEVEL_PMD).
void folio_remove_rmap_pmd(folio* f, page* /*p*/, vm_area_struct* vma) {
  page* p1 = folio_tail1(f);
  int nr = 0, nr_pmdmapped = 0;
  folio_dec_large_mapcount(f, vma);
  if (atomic_dec_return(&p1->_entire_mapcount) < 0) {
    nr = atomic_sub_return(ENTIRELY_MAPPED, &p1->_nr_pages_mapped);
    if (likely(nr < ENTIRELY_MAPPED)) {
      nr_pmdmapped = static_cast<int>(folio_nr_pages(f));
      nr = nr_pmdmapped - (nr & FOLIO_PAGES_MAPPED);
      if (unlikely(nr < 0)) nr = 0;
    } else {
      nr = 0;
    }
  }
  const bool partially_mapped = nr && nr < nr_pmdmapped;
  if (partially_mapped && folio_test_anon(f) && !folio_test_partially_mapped(f))
    deferred_split_folio(f, true);
  __folio_mod_stat(f, -nr, -nr_pmdmapped);
  munlock_vma_folio(f, vma);
}

// ---- aging: folio_referenced (mm/rmap.c) ----

namespace {

// mm/rmap.c
struct folio_referenced_arg {
  int mapcount;  // PTEs still to find
  int referenced;
  vm_flags_t vm_flags;
};

// mm/rmap.c: folio_referenced_one. page_vma_mapped_walk visits each entry mapping the
// folio in `vma` (its PMD leaf, or one PTE per mapped page) and tests and clears the
// accessed bit the MMU set there; each young entry counts, and the VMA counts once. A
// VM_LOCKED mapping ends the walk once it covers the whole folio under one page-table
// lock: the folio belongs on the unevictable list.
// DEVIATION(rmap): mlock_vma_folio (restoring a missed mlock) is left to mm/mlock;
// no exiting-mm skip and no page_idle young flag.
bool folio_referenced_one(folio* f, vm_area_struct* vma, unsigned long address, void* arg) {
  folio_referenced_arg* pra = static_cast<folio_referenced_arg*>(arg);
  struct page_vma_mapped_walk pvmw = folio_vma_walk(f, vma, address, 0);
  int ptes = 0, referenced = 0;
  while (page_vma_mapped_walk(&pvmw)) {
    address = pvmw.address;
    if (vma->vm_flags & VM_LOCKED) {
      ptes++;
      pra->mapcount--;
      // Only fully mapped folios count as mlocked here.
      if (pvmw.pte && static_cast<unsigned long>(ptes) != pvmw.nr_pages) continue;
      // The lock held covers only part of the PTEs once the walk left a page table.
      if (pvmw.flags & PVMW_PGTABLE_CROSSED) continue;
      page_vma_mapped_walk_done(&pvmw);
      pra->vm_flags |= VM_LOCKED;
      return false;  // to break the loop
    }
    if (pvmw.pte) {
      if (ptep_clear_flush_young(vma, address, pvmw.pte)) referenced++;
    } else {
      if (pmdp_clear_flush_young(vma, address, pvmw.pmd)) referenced++;
    }
    pra->mapcount--;
  }
  if (referenced) {
    pra->referenced++;
    pra->vm_flags |= vma->vm_flags & ~VM_LOCKED;
  }
  return pra->mapcount != 0;  // all mappings found: stop
}

// include/linux/rmap.h: folio_try_share_anon_rmap_pte. Before an exclusive anon page's
// PTE becomes a swap PTE, it must stop being exclusive; a page that may be pinned for DMA
// cannot (the pin would lose its page at the next fault). -EBUSY then.
static int folio_try_share_anon_rmap_pte(folio* f, page* p) {
  VM_BUG_ON(!folio_test_anon(f) || !PageAnonExclusive(p));
  if (unlikely(folio_maybe_dma_pinned(f))) return -EBUSY;
  ClearPageAnonExclusive(p);
  return 0;
}

// mm/rmap.c: try_to_unmap_one's work on nr_pages PTEs from `pte` (locked), mapping
// consecutive pages of f from `subpage` at `address`. An anon page's PTE becomes a swap
// PTE naming folio->swap (one more reference to the slot), a lazyfree page's goes (if
// still clean and only the mappings and the isolation hold the folio), a file page's
// goes. False stops the walk: the PTEs are put back and the folio stays mapped. Only a
// lazyfree large folio is unmapped more than one PTE at a time (folio_unmap_pte_batch).
static bool try_to_unmap_ptes(folio* f, page* subpage, vm_area_struct* vma,
                              unsigned long address, pte_t* pte, int nr_pages) {
  mm_struct* mm = vma->vm_mm;
  const bool anon_exclusive = folio_test_anon(f) && PageAnonExclusive(subpage);
  // Nuke the page table entries (and every CPU's TLB entries for them); the batch's
  // dirty and accessed bits are gathered into one value, as get_and_clear_full_ptes.
  pte_t pteval = ptep_clear_flush(vma, address, pte);
  for (int i = 1; i < nr_pages; i++) {
    const pte_t e = ptep_clear_flush(vma, address + i * PAGE_SIZE, pte + i);
    if (pte_dirty(e)) pteval = pte_mkdirty(pteval);
    if (pte_young(e)) pteval = pte_mkyoung(pteval);
  }
  // set_ptes: the batch back, each PTE its own page with the gathered bits.
  auto restore = [&] {
    for (int i = 0; i < nr_pages; i++)
      set_pte_at(mm, address + i * PAGE_SIZE, pte + i,
                 __pte(pte_val(pteval) + (static_cast<pteval_t>(i) << PAGE_SHIFT)));
  };
  // Set the dirty flag on the folio now the PTEs are gone.
  if (pte_dirty(pteval)) folio_mark_dirty(f);

  if (folio_test_anon(f)) {
    swp_entry_t entry = f->swap;  // page_swap_entry
    if (unlikely(folio_test_swapbacked(f) != folio_test_swapcache(f))) {
      WARN_ON_ONCE(1);
      restore();
      return false;
    }
    // MADV_FREE page check.
    if (!folio_test_swapbacked(f)) {
      const int ref_count = folio_ref_count(f);
      const int map_count = folio_mapcount(f);
      if (folio_test_dirty(f)) {
        // Redirtied through the page table or an earlier GUP reference: keep it.
        restore();
        folio_set_swapbacked(f);
        return false;
      } else if (ref_count != 1 + map_count) {
        // Another reference (GUP, say): the folio cannot go now; act as if nothing
        // happened and look again at the next reclaim.
        restore();
        return false;
      }
      add_mm_counter(mm, MM_ANONPAGES, -nr_pages);
      goto discard;
    }
    if (swap_duplicate(entry) < 0) {
      restore();
      return false;
    }
    // See folio_try_share_anon_rmap_pte: the PTE is cleared first.
    if (anon_exclusive && folio_try_share_anon_rmap_pte(f, subpage)) {
      swap_free(entry);
      restore();
      return false;
    }
    dec_mm_counter(mm, MM_ANONPAGES);
    inc_mm_counter(mm, MM_SWAPENTS);
    pte_t swp_pte = swp_entry_to_pte(entry);
    if (anon_exclusive) swp_pte = pte_swp_mkexclusive(swp_pte);
    set_pte_at(mm, address, pte, swp_pte);
    trace_event("try_to_unmap_one", "addr=%#lx pfn=%#lx swap=%lu%s", address, folio_pfn(f),
                swp_offset(entry), anon_exclusive ? " exclusive" : "");
  } else {
    // A locked file folio: it stays in the page cache, so the next fault finds it.
    dec_mm_counter(mm, mm_counter_file(f));
    trace_event("try_to_unmap_one", "addr=%#lx pfn=%#lx file", address, folio_pfn(f));
  }
discard:
  for (int i = 0; i < nr_pages; i++) folio_remove_rmap_pte(f, subpage + i, vma);  // _ptes
  folio_put_refs(f, nr_pages);  // the mappings' references
  return true;
}

// mm/rmap.c: folio_unmap_pte_batch. How many PTEs from pvmw's may go in one batch: within
// one page table and the VMA, and only for a lazyfree anon large folio (6.18 batches
// nothing else).
static int folio_unmap_pte_batch(folio* f, struct page_vma_mapped_walk* pvmw, pte_t pte) {
  if (!folio_test_large(f)) return 1;
  vm_area_struct* vma = pvmw->vma;
  const unsigned long end_addr = pmd_addr_end(pvmw->address, vma->vm_end);
  const unsigned int max_nr = static_cast<unsigned int>((end_addr - pvmw->address) >> PAGE_SHIFT);
  if (!folio_test_anon(f) || folio_test_swapbacked(f)) return 1;
  return static_cast<int>(folio_pte_batch(f, pvmw->pte, pte, max_nr));
}

// mm/rmap.c: try_to_unmap_one, with reclaim's flags: TTU_SPLIT_HUGE_PMD for a large
// folio (reclaim sets it for every PMD-sized one; they are the only large ones here).
// page_vma_mapped_walk visits each entry mapping the folio in `vma`. A huge pmd of a
// lazyfree folio goes whole or not at all (unmap_huge_pmd_locked); any other huge pmd is
// split and the walk restarts over its PTEs. Each PTE, or a lazyfree folio's run of PTEs,
// is unmapped by try_to_unmap_ptes. False stops the rmap walk: the folio stays mapped.
static bool try_to_unmap_one(folio* f, vm_area_struct* vma, unsigned long address, void* /*arg*/) {
  struct page_vma_mapped_walk pvmw = folio_vma_walk(f, vma, address, 0);
  bool split_huge_pmd = folio_test_large(f);  // flags & TTU_SPLIT_HUGE_PMD
  bool ret = true;
  while (page_vma_mapped_walk(&pvmw)) {
    // An mlock()ed VMA's folio must not be unmapped.
    if (vma->vm_flags & VM_LOCKED) goto walk_abort;
    if (!pvmw.pte) {
      if (folio_test_anon(f) && !folio_test_swapbacked(f)) {  // folio_test_lazyfree
        if (unmap_huge_pmd_locked(vma, pvmw.address, pvmw.pmd, f)) goto walk_done;
        // Redirtied (swap-backed again) or held by another reference: it stays.
        goto walk_abort;
      }
      if (split_huge_pmd) {
        // Split under the pmd lock, then walk again over the PTEs that replaced it.
        split_huge_pmd_locked(vma, pvmw.address, pvmw.pmd, false);
        split_huge_pmd = false;
        page_vma_mapped_walk_restart(&pvmw);
        continue;
      }
    }
    // Unexpected PMD-mapped THP?
    VM_BUG_ON(!pvmw.pte);
    {
      const pte_t pteval = ptep_get(pvmw.pte);
      page* subpage = f + (pte_pfn(pteval) - folio_pfn(f));
      const int nr_pages = folio_unmap_pte_batch(f, &pvmw, pteval);
      if (!try_to_unmap_ptes(f, subpage, vma, pvmw.address, pvmw.pte, nr_pages)) goto walk_abort;
      if (nr_pages == folio_nr_pages(f)) goto walk_done;
      continue;
    }
  walk_abort:
    ret = false;
  walk_done:
    page_vma_mapped_walk_done(&pvmw);
    break;
  }
  return ret;
}

// mm/rmap.c: rmap_walk_file, over the VMAs of the folio's mapping that cover its index:
// `fn` for each until it returns false. As rmap_walk_control's flags: `try_lock` (aging)
// takes i_mmap_rwsem only if it is free, else sets *contended and walks nothing;
// `until_unmapped` (unmapping) stops once the folio is mapped nowhere (rwc->done);
// VMAs for which `invalid_vma` (if given) returns true are skipped (rwc->invalid_vma).
void rmap_walk_file(folio* f,
                    bool (*fn)(folio* f, vm_area_struct* vma, unsigned long address, void* arg),
                    void* arg, bool try_lock, bool* contended, bool until_unmapped,
                    bool (*invalid_vma)(vm_area_struct* vma, void* arg) = nullptr) {
  address_space* mapping = f->mapping;
  if (mapping == nullptr) return;
  if (try_lock) {
    if (!down_read_trylock(&mapping->i_mmap_rwsem)) {
      *contended = true;
      return;
    }
  } else {
    i_mmap_lock_read(mapping);
  }
  const pgoff_t pgoff = f->index;
  for (list_head *l = mapping->i_mmap.next, *n = l->next; l != &mapping->i_mmap; l = n, n = l->next) {
    vm_area_struct* vma = list_entry(l, vm_area_struct, shared.list);
    if (pgoff < vma->vm_pgoff || pgoff >= vma->vm_pgoff + vma_pages(vma)) continue;
    const unsigned long address = vma->vm_start + ((pgoff - vma->vm_pgoff) << PAGE_SHIFT);
    if (invalid_vma != nullptr && invalid_vma(vma, arg)) continue;
    if (!fn(f, vma, address, arg)) break;
    if (until_unmapped && !folio_mapped(f)) break;  // rwc->done: folio_not_mapped
  }
  i_mmap_unlock_read(mapping);
}

}  // namespace

// mm/rmap.c: invalid_folio_referenced_vma. A mapping without recency (MADV_RANDOM,
// MADV_SEQUENTIAL) is not asked: its accesses do not keep the folio. (No memcg here.)
static bool invalid_folio_referenced_vma(vm_area_struct* vma, void* /*arg*/) {
  // If the folio has been used in another mapping, that one counts; if that mapping is
  // already gone, the unmap marked the folio accessed (zap_present_folio_ptes).
  if (!vma_has_recency(vma)) return true;
  return false;
}

// mm/rmap.c: folio_referenced. How many of the folio's mappings referenced it since the
// last look (their accessed bits, now cleared); -1 when a lock was contended. *vm_flags
// collects the referencing VMAs' flags (VM_LOCKED if one is mlocked).
int folio_referenced(folio* f, int is_locked, vm_flags_t* vm_flags) {
  bool we_locked = false;
  folio_referenced_arg pra{folio_mapcount(f), 0, 0};
  *vm_flags = 0;
  if (!pra.mapcount) return 0;
  if (f->mapping == nullptr) return 0;  // folio_raw_mapping
  if (!is_locked) {
    we_locked = folio_trylock(f);
    if (!we_locked) return 1;
  }
  bool contended = false;
  if (folio_test_anon(f))
    rmap_walk_anon(f, folio_referenced_one, &pra, /*locked=*/false, /*try_lock=*/true,
                   &contended, /*until_unmapped=*/false, invalid_folio_referenced_vma);
  else
    rmap_walk_file(f, folio_referenced_one, &pra, /*try_lock=*/true, &contended,
                   /*until_unmapped=*/false, invalid_folio_referenced_vma);
  *vm_flags = pra.vm_flags;
  if (we_locked) folio_unlock(f);
  trace_event("folio_referenced", "pfn=%#lx referenced=%d", folio_pfn(f),
              contended ? -1 : pra.referenced);
  return contended ? -1 : pra.referenced;
}

// mm/rmap.c: page_vma_mkclean_one. Every entry of the walk that is dirty or writable is
// cleared and flushed from the TLBs, then put back clean and read-only, so the next write
// through it faults (and dirties the folio again). Returns how many entries it cleaned:
// one per PTE, or one for a PMD leaf.
// DEVIATION(rmap): no mmu notifiers, so no mmu_notifier_range around the walk (Linux
// 6.18 announces [address, vma_address_end) as MMU_NOTIFY_PROTECTION_PAGE); the cache
// flushes (flush_cache_page / flush_cache_range) are no-ops on x86 and are left out.
static int page_vma_mkclean_one(struct page_vma_mapped_walk* pvmw) {
  int cleaned = 0;
  vm_area_struct* vma = pvmw->vma;
  unsigned long address = pvmw->address;
  while (page_vma_mapped_walk(pvmw)) {
    int ret = 0;
    address = pvmw->address;
    if (pvmw->pte) {
      pte_t* pte = pvmw->pte;
      pte_t entry = ptep_get(pte);
      if (!pte_dirty(entry) && !pte_write(entry)) continue;
      entry = ptep_clear_flush(vma, address, pte);
      entry = pte_wrprotect(entry);
      entry = pte_mkclean(entry);
      set_pte_at(vma->vm_mm, address, pte, entry);
      ret = 1;
    } else {
      // CONFIG_TRANSPARENT_HUGEPAGE. Only anon folios are PMD-mapped here, and
      // folio_mkclean never walks those, but the case is kept as 6.18 has it.
      pmd_t* pmd = pvmw->pmd;
      pmd_t entry;
      if (!pmd_dirty(*pmd) && !pmd_write(*pmd)) continue;
      entry = pmdp_invalidate(vma, address, pmd);
      entry = pmd_wrprotect(entry);
      entry = pmd_mkclean(entry);
      set_pmd_at(vma->vm_mm, address, pmd, entry);
      ret = 1;
    }
    // Only the protection went down (the entry still maps the same page), so the flush
    // above is all a secondary MMU would need.
    if (ret) cleaned++;
  }
  return cleaned;
}

// mm/rmap.c: page_mkclean_one, the rmap walk's step: the folio's entries in `vma`, each
// looked at under its page-table lock (PVMW_SYNC).
static bool page_mkclean_one(folio* f, vm_area_struct* vma, unsigned long address, void* arg) {
  struct page_vma_mapped_walk pvmw = folio_vma_walk(f, vma, address, PVMW_SYNC);
  int* cleaned = static_cast<int*>(arg);
  *cleaned += page_vma_mkclean_one(&pvmw);
  return true;
}

// mm/rmap.c: invalid_mkclean_vma. Only shared mappings can write to the file; a private
// one's PTEs map the page cache folio read-only (or a COWed copy), so it is skipped.
static bool invalid_mkclean_vma(vm_area_struct* vma, void* /*arg*/) {
  if (vma->vm_flags & VM_SHARED) return false;
  return true;
}

// mm/rmap.c: folio_mkclean. Before writeback: every shared mapping of the locked folio
// becomes clean and read-only (rmap_walk over page_mkclean_one, skipping private VMAs).
// Returns the number of entries cleaned (PTEs, or PMD leaves).
int folio_mkclean(folio* f) {
  int cleaned = 0;
  BUG_ON(!folio_test_locked(f));
  if (!folio_mapped(f)) return 0;
  address_space* mapping = folio_test_anon(f) ? nullptr : f->mapping;  // folio_mapping
  if (mapping == nullptr) return 0;
  rmap_walk_file(f, page_mkclean_one, &cleaned, /*try_lock=*/false, nullptr,
                 /*until_unmapped=*/false, invalid_mkclean_vma);  // rmap_walk
  if (cleaned) trace_event("folio_mkclean", "pfn=%#lx cleaned=%d", folio_pfn(f), cleaned);
  return cleaned;
}

// mm/rmap.c: try_to_unmap. Unmap the locked folio from every page table that maps it;
// the caller checks folio_mapped() afterwards (a pinned or mlocked page stays mapped).
void try_to_unmap(folio* f) {
  VM_BUG_ON(!folio_test_locked(f));
  trace_call tc("try_to_unmap", "pfn=%#lx mapcount=%d", folio_pfn(f), folio_mapcount(f));
  if (folio_test_anon(f))
    rmap_walk_anon(f, try_to_unmap_one, nullptr, /*locked=*/false, /*try_lock=*/false,
                   nullptr, /*until_unmapped=*/true);
  else
    rmap_walk_file(f, try_to_unmap_one, nullptr, /*try_lock=*/false, nullptr,
                   /*until_unmapped=*/true);
  tc.ret(folio_mapcount(f));
}

}  // namespace kernel
