// mm/filemap.cc: the page cache: finding, adding and removing folios, the generic file
// fault, page_mkwrite and mmap, dirtying and writeback.
//
// Port of mm/filemap.c at Linux 6.18 (__filemap_get_folio, __filemap_add_folio and
// filemap_add_folio (with workingset refaults), __filemap_remove_folio (leaving a shadow),
// filemap_remove_folio, filemap_fault, filemap_map_pages (fault-around) with
// next_uptodate_folio, filemap_map_pmd and filemap_map_order0_folio, filemap_page_mkwrite,
// generic_file_mmap,
// filemap_read_folio, filemap_write_and_wait_range), of the folio dirtying functions of
// mm/page-writeback.c (folio_mark_dirty, filemap_dirty_folio, noop_dirty_folio,
// folio_clear_dirty_for_io, do_writepages / write_cache_pages reduced, folio_start_writeback,
// folio_end_writeback) and of fs/fs-writeback.c's wakeup_flusher_threads. The LRU side
// (folio_add_lru, folio_mark_accessed) is in mm/swap.cc.
//
// Deviations (grep "DEVIATION(filemap)"):
//  - No readahead (sync or async): a fault reads exactly its page, and fault-around maps
//    only what is already cached. No file_ra_state, so filemap_map_pages keeps no
//    mmap_miss count (it only steers readahead), and no workingset/readahead/hwpoison
//    flags exist to skip on.
//  - No large folios (mm/mm_types.h), so fault-around maps order-0 folios only. Measured on
//    this host's 6.18 with a 32-page ext4 file written in one call (large folios): a read
//    fault at page 20 mapped all 32 pages, and one at page 7 of a mapping that crosses a
//    2 MiB boundary after page 7 mapped 1; written a page at a time (order-0 folios) the
//    host maps exactly what this port maps (tests/difftest/sharing_diff_test.cc).
//  - ->read_folio and ->writepage complete synchronously (mm/fs.h), so a fault never
//    drops mmap_lock for I/O and the folio is up to date when read_folio returns.
//  - No memcg, no NR_FILE_PAGES/NR_SHMEM/NR_FILE_DIRTY counters (only NR_FILE_MAPPED is kept).
//  - The i_pages lock is not modelled: no preemption point falls inside a cache update,
//    so concurrent paths (sim/'s scheduler) never meet inside one. The invalidate_lock is
//    not modelled either: a fault may read a page into the cache while a truncation runs
//    (the folio lock and the i_size checks under it still apply).
#include <new>
#include <vector>

#include "mm/fs.h"
#include "mm/swap.h"
#include "mm/trace.h"

namespace kernel {

// mm/page-writeback.c: for mappings without dirty accounting (shmem, anon).
bool noop_dirty_folio(address_space* /*mapping*/, folio* folio) {
  if (!folio_test_dirty(folio)) {
    folio_set_dirty(folio);
    return true;
  }
  return false;
}

// mm/page-writeback.c: for mappings with writeback (simfs). The xarray's dirty mark and
// the inode's dirty state have no counterpart here (DEVIATION(filemap)), so this is the
// flag alone too.
bool filemap_dirty_folio(address_space* /*mapping*/, folio* folio) {
  if (test_and_set_bit(PG_dirty, &folio->flags)) return false;
  return true;
}

// mm/page-writeback.c: folio_mark_dirty. Through the mapping's ->dirty_folio; a folio
// without one (anonymous, or truncated from its file) just gets PG_dirty.
bool folio_mark_dirty(folio* folio) {
  address_space* mapping = folio_test_anon(folio) ? nullptr : folio->mapping;
  if (likely(mapping != nullptr)) return mapping->a_ops->dirty_folio(mapping, folio);
  return noop_dirty_folio(mapping, folio);
}

// mm/page-writeback.c: folio_clear_dirty_for_io. The folio is locked and about to be
// written back: its shared PTEs become clean and read-only again (so the next write
// through them faults and re-dirties it), then PG_dirty is cleared.
bool folio_clear_dirty_for_io(folio* folio) {
  address_space* mapping = folio->mapping;
  VM_BUG_ON_FOLIO(!folio_test_locked(folio), folio);
  if (mapping != nullptr && mapping->a_ops->writepage != nullptr) {  // mapping_can_writeback
    // A PTE that was dirty hands its dirtiness to the folio first, so that clearing it
    // below cannot lose a write that happened through the mapping.
    if (folio_mkclean(folio)) folio_mark_dirty(folio);
  }
  return test_and_clear_bit(PG_dirty, &folio->flags);  // folio_test_clear_dirty
}

// mm/filemap.c: folio_wait_bit_common(folio, PG_locked, TASK_UNINTERRUPTIBLE, EXCLUSIVE),
// reduced: sleep until PG_locked is clear, then take it; another task may take it
// first, and then this one sleeps again.
static bool folio_is_unlocked(const void* arg) {
  return !folio_test_locked(static_cast<const folio*>(arg));
}
void __folio_lock(folio* f) {
  for (;;) {
    sched_wait(f, FOLIO_LOCK_NAME, folio_is_unlocked, f);
    if (!test_and_set_bit(PG_locked, &f->flags)) break;
  }
}

// mm/filemap.c: __filemap_add_folio. The locked folio becomes page `index` of the file,
// with the cache's reference; a shadow in the slot is replaced and handed back in
// *shadowp. 0 or -EEXIST (someone else's folio is there).
static int __filemap_add_folio(address_space* mapping, folio* folio, pgoff_t index, gfp_t /*gfp*/,
                               void** shadowp) {
  VM_BUG_ON_FOLIO(!folio_test_locked(folio), folio);
  if (mapping->i_pages.count(index)) return -EEXIST;
  folio->mapping = mapping;
  folio->index = index;
  folio_ref_add(folio, 1);  // the page cache's reference
  mapping->i_pages.emplace(index, folio);
  auto old = mapping->i_shadows.find(index);
  if (old != mapping->i_shadows.end()) {
    if (shadowp) *shadowp = old->second;
    mapping->i_shadows.erase(old);
  }
  mapping->nrpages++;
  trace_event("mm_filemap_add_to_page_cache", "ino=%lu index=%#lx pfn=%#lx", mapping->host->i_ino,
              index, folio_pfn(folio));
  return 0;
}

// mm/filemap.c: filemap_add_folio. The folio becomes page `index` of the file: locked,
// with the cache's reference, on the LRU. 0, -EEXIST (someone else's folio is there) or
// -ENOMEM.
int filemap_add_folio(address_space* mapping, folio* folio, pgoff_t index, gfp_t gfp) {
  void* shadow = nullptr;
  VM_BUG_ON_FOLIO(folio_test_anon(folio), folio);
  __folio_set_locked(folio);
  int ret = __filemap_add_folio(mapping, folio, index, gfp, &shadow);
  if (unlikely(ret)) {
    __folio_clear_locked(folio);
    return ret;
  }
  // Evicted only recently, the folio is activated like any other folio used again
  // (mm/workingset.cc); not one about to be overwritten, which would push real workingset
  // out for data that is going to be replaced anyway.
  WARN_ON_ONCE(folio_test_active(folio));
  if (!(gfp & __GFP_WRITE) && shadow) workingset_refault(folio, shadow);
  folio_add_lru(folio);
  return 0;
}

// mm/filemap.c: __filemap_remove_folio (filemap_unaccount_folio + page_cache_delete).
// The folio is locked and no longer mapped; it leaves the cache, `shadow` (if any) taking
// its slot. The cache's reference is the caller's to drop.
void __filemap_remove_folio(folio* folio, void* shadow) {
  address_space* mapping = folio->mapping;
  BUG_ON(!folio_test_locked(folio));
  // filemap_unaccount_folio: a mapped folio leaving the cache is a bug in the caller.
  if (WARN_ON_ONCE(folio_mapped(folio)))
    trace_event("mm_bad_page_cache", "pfn=%#lx still mapped %d times", folio_pfn(folio),
                folio_mapcount(folio));
  auto it = mapping->i_pages.find(folio->index);
  BUG_ON(it == mapping->i_pages.end() || it->second != folio);
  mapping->i_pages.erase(it);
  if (shadow) {
    // DEVIATION(filemap): Linux stores the shadow in the slot the folio leaves, which
    // cannot fail; a host map that cannot grow drops it instead.
    try {
      mapping->i_shadows[folio->index] = shadow;
    } catch (const std::bad_alloc&) {
    }
  }
  mapping->nrpages--;
  trace_event("mm_filemap_delete_from_page_cache", "ino=%lu index=%#lx pfn=%#lx",
              mapping->host->i_ino, folio->index, folio_pfn(folio));
  folio->mapping = nullptr;
}

// mm/filemap.c: filemap_remove_folio (__filemap_remove_folio + filemap_free_folio). The
// folio is locked and no longer mapped; it leaves the cache, which drops its reference.
void filemap_remove_folio(folio* folio) {
  __filemap_remove_folio(folio, nullptr);
  folio_put_refs(folio, 1);  // filemap_free_folio: the cache's reference (the caller holds one)
}

// mm/filemap.c: __filemap_get_folio.
folio* __filemap_get_folio(address_space* mapping, pgoff_t index, unsigned int fgp_flags,
                           gfp_t gfp) {
  for (;;) {
    folio* folio = nullptr;
    auto it = mapping->i_pages.find(index);  // filemap_get_entry
    if (it != mapping->i_pages.end()) {
      folio = it->second;
      folio_get(folio);
      if (fgp_flags & FGP_LOCK) {
        folio_lock(folio);
        // Truncated meanwhile?
        if (unlikely(folio->mapping != mapping)) {
          folio_unlock(folio);
          folio_put(folio);
          continue;
        }
      }
      if (fgp_flags & FGP_ACCESSED) folio_mark_accessed(folio);
      return folio;
    }
    if (!(fgp_flags & FGP_CREAT)) return ERR_PTR<page>(-ENOENT);
    if (gfp == 0) gfp = mapping->gfp_mask;
    // The caller is about to write the folio: no refault activation (filemap_add_folio).
    if ((fgp_flags & FGP_WRITE) && mapping->a_ops->writepage != nullptr)  // mapping_can_writeback
      gfp |= __GFP_WRITE;
    // filemap_alloc_folio
    folio = folio_alloc(gfp, 0);
    if (folio == nullptr) return ERR_PTR<page>(-ENOMEM);
    if (fgp_flags & FGP_ACCESSED) folio_set_referenced(folio);
    if (shmem_mapping(mapping)) folio_set_swapbacked(folio);
    int err = filemap_add_folio(mapping, folio, index, gfp);
    if (err) {
      folio_put(folio);
      if (err == -EEXIST) continue;
      return ERR_PTR<page>(err);
    }
    // filemap_add_folio locks the folio; for mmap (and plain lookups) it is expected
    // unlocked.
    if (!(fgp_flags & FGP_LOCK)) folio_unlock(folio);
    return folio;
  }
}

// mm/filemap.c: filemap_read_folio. Read a locked, not up-to-date folio in; ->read_folio
// unlocks it when the (here synchronous) I/O completes. 0 or -EIO.
static int filemap_read_folio(file* file, int (*filler)(struct file*, folio*), folio* folio) {
  int error = filler(file, folio);
  if (error) return error;
  // folio_wait_locked: the I/O is already complete (DEVIATION(filemap)).
  BUG_ON(folio_test_locked(folio));
  if (folio_test_uptodate(folio)) return 0;
  return -EIO;
}

// mm/filemap.c: filemap_fault. The page of the file at vmf->pgoff, from the page cache
// or read in (a major fault); VM_FAULT_SIGBUS for a page wholly past end-of-file.
// Returns with vmf->page referenced and locked (VM_FAULT_LOCKED).
vm_fault_t filemap_fault(vm_fault* vmf) {
  file* file = vmf->vma->vm_file;
  address_space* mapping = file->f_mapping;
  inode* inode = mapping->host;
  const pgoff_t index = vmf->pgoff;
  vm_fault_t ret = 0;
  trace_call tc("filemap_fault", "ino=%lu index=%#lx", inode->i_ino, index);

  pgoff_t max_idx = (static_cast<pgoff_t>(i_size_read(inode)) + PAGE_SIZE - 1) >> PAGE_SHIFT;
  if (unlikely(index >= max_idx)) return tc.ret(VM_FAULT_SIGBUS);

  // Do we have something in the page cache already?
  folio* folio = filemap_get_folio(mapping, index);
  if (IS_ERR(folio)) {
    // No page in the page cache at all: a major fault. DEVIATION(filemap): no readahead.
    count_vm_event(PGMAJFAULT);
    ret = VM_FAULT_MAJOR;
    folio = nullptr;
  }
  for (;;) {
    if (folio == nullptr) {  // retry_find
      folio = __filemap_get_folio(mapping, index, FGP_CREAT | FGP_FOR_MMAP, vmf->gfp_mask);
      if (IS_ERR(folio)) return tc.ret(VM_FAULT_OOM);
    }
    folio_lock(folio);
    // Did it get truncated?
    if (unlikely(folio->mapping != mapping)) {
      folio_unlock(folio);
      folio_put(folio);
      folio = nullptr;
      continue;
    }
    if (likely(folio_test_uptodate(folio))) break;
    // page_not_uptodate: read it (once) and look again.
    int error = filemap_read_folio(file, mapping->a_ops->read_folio, folio);
    folio_put(folio);
    folio = nullptr;
    if (error) return tc.ret(VM_FAULT_SIGBUS);
  }
  // Found the page and have a reference on it; i_size may have changed meanwhile.
  max_idx = (static_cast<pgoff_t>(i_size_read(inode)) + PAGE_SIZE - 1) >> PAGE_SHIFT;
  if (unlikely(index >= max_idx)) {
    folio_unlock(folio);
    folio_put(folio);
    return tc.ret(VM_FAULT_SIGBUS);
  }
  vmf->page = folio;  // folio_file_page
  return tc.ret(ret | VM_FAULT_LOCKED);
}

// mm/filemap.c: next_uptodate_folio. The next cached folio in [xas, end_pgoff] that is up
// to date, unlocked (it comes back locked, with a reference), still in `mapping` and not
// past end-of-file. *index is where the walk stands (the xa_state).
// DEVIATION(filemap): each step looks its index up again instead of keeping a btree
// iterator: folio_trylock is a preemption point, and another path may change the cache
// meanwhile (the xarray walk of Linux is safe against that under RCU).
static folio* next_uptodate_folio(address_space* mapping, pgoff_t* index, pgoff_t end_pgoff) {
  for (;; ++*index) {
    auto it = mapping->i_pages.lower_bound(*index);
    if (it == mapping->i_pages.end() || it->first > end_pgoff) break;
    folio* folio = it->second;
    *index = it->first;
    // folio_try_get: a folio on its way out has no references left.
    if (folio_ref_count(folio) == 0) continue;
    folio_ref_inc(folio);
    if (folio_test_locked(folio)) goto skip;
    if (!folio_test_uptodate(folio)) goto skip;
    if (!folio_trylock(folio)) goto skip;
    if (folio->mapping != mapping) goto unlock;
    if (!folio_test_uptodate(folio)) goto unlock;
    {
      const pgoff_t max_idx =
          (static_cast<pgoff_t>(i_size_read(mapping->host)) + PAGE_SIZE - 1) >> PAGE_SHIFT;
      if (*index >= max_idx) goto unlock;
    }
    return folio;
  unlock:
    folio_unlock(folio);
  skip:
    folio_put(folio);
  }
  return nullptr;
}

// mm/filemap.c: filemap_map_pmd. DEVIATION(filemap): no PMD-mappable folios, so only the
// preallocated PTE table is installed.
static bool filemap_map_pmd(vm_fault* vmf, folio* /*folio*/, pgoff_t /*start*/) {
  mm_struct* mm = vmf->vma->vm_mm;
  if (pmd_none(*vmf->pmd) && vmf->prealloc_pte) pmd_install(mm, vmf->pmd, &vmf->prealloc_pte);
  return false;
}

// mm/filemap.c: filemap_map_order0_folio. Map one cached page where its PTE is empty.
static vm_fault_t filemap_map_order0_folio(vm_fault* vmf, folio* folio, unsigned long addr,
                                           unsigned long* rss) {
  vm_fault_t ret = 0;
  page* page = folio;

  // A PTE that is already there is left to the fault path proper.
  if (!pte_none(ptep_get(vmf->pte))) return ret;

  if (vmf->address == addr) ret = VM_FAULT_NOPAGE;

  set_pte_range(vmf, folio, page, addr);
  (*rss)++;
  folio_ref_inc(folio);
  return ret;
}

// mm/filemap.c: filemap_map_pages, the ->map_pages of page-cache mappings: map every
// ready cached page of [start_pgoff, end_pgoff] (the caller clipped it to the VMA and the
// PTE table) that has no PTE yet, and no page past end-of-file. VM_FAULT_NOPAGE when the
// faulting address was among them.
vm_fault_t filemap_map_pages(vm_fault* vmf, pgoff_t start_pgoff, pgoff_t end_pgoff) {
  vm_area_struct* vma = vmf->vma;
  file* file = vma->vm_file;
  address_space* mapping = file->f_mapping;
  pgoff_t file_end, last_pgoff = start_pgoff, index = start_pgoff;
  unsigned long addr;
  folio* folio;
  vm_fault_t ret = 0;
  unsigned long rss = 0;
  int folio_type;
  trace_call tc("filemap_map_pages", "ino=%lu start=%#lx end=%#lx", mapping->host->i_ino,
                start_pgoff, end_pgoff);

  folio = next_uptodate_folio(mapping, &index, end_pgoff);
  if (!folio) return tc.ret(ret);

  if (filemap_map_pmd(vmf, folio, start_pgoff)) return tc.ret(VM_FAULT_NOPAGE);

  addr = vma->vm_start + ((start_pgoff - vma->vm_pgoff) << PAGE_SHIFT);
  vmf->pte = pte_offset_map_lock(vma->vm_mm, vmf->pmd, addr, &vmf->ptl);
  if (!vmf->pte) {
    folio_unlock(folio);
    folio_put(folio);
    return tc.ret(ret);
  }

  file_end = (static_cast<pgoff_t>(i_size_read(mapping->host)) + PAGE_SIZE - 1) / PAGE_SIZE - 1;
  if (end_pgoff > file_end) end_pgoff = file_end;

  folio_type = mm_counter_file(folio);
  do {
    addr += (index - last_pgoff) << PAGE_SHIFT;
    vmf->pte += index - last_pgoff;
    last_pgoff = index;
    ret |= filemap_map_order0_folio(vmf, folio, addr, &rss);
    folio_unlock(folio);
    folio_put(folio);
    ++index;  // xas_next_entry moves past the folio just mapped
  } while (index <= end_pgoff &&
           (folio = next_uptodate_folio(mapping, &index, end_pgoff)) != nullptr);
  add_mm_counter(vma->vm_mm, folio_type, static_cast<long>(rss));
  pte_unmap_unlock(vmf->pte, vmf->ptl);
  trace_event("mm_filemap_map_pages", "ino=%lu start=%#lx end=%#lx mapped=%lu",
              mapping->host->i_ino, start_pgoff, end_pgoff, rss);
  return tc.ret(ret);
}

// mm/filemap.c: filemap_page_mkwrite. A shared page is about to be written: dirty it now
// (under its lock) so writeback will see it.
vm_fault_t filemap_page_mkwrite(vm_fault* vmf) {
  address_space* mapping = vmf->vma->vm_file->f_mapping;
  folio* folio = page_folio(vmf->page);
  folio_lock(folio);
  if (folio->mapping != mapping) {  // truncated meanwhile
    folio_unlock(folio);
    return VM_FAULT_NOPAGE;
  }
  folio_mark_dirty(folio);
  // folio_wait_stable: no writeback in flight (DEVIATION(filemap)).
  return VM_FAULT_LOCKED;
}

namespace {
// mm/filemap.c: generic_file_vm_ops.
const vm_operations_struct generic_file_vm_ops = {
    /*open=*/nullptr,
    /*close=*/nullptr,
    /*fault=*/filemap_fault,
    /*page_mkwrite=*/filemap_page_mkwrite,
    /*pfn_mkwrite=*/nullptr,
    /*name=*/nullptr,
    /*map_pages=*/filemap_map_pages,
};
}  // namespace

// mm/filemap.c: generic_file_mmap.
int generic_file_mmap(file* file, vm_area_struct* vma) {
  address_space* mapping = file->f_mapping;
  if (mapping->a_ops->read_folio == nullptr) return -ENOEXEC;
  vma->vm_ops = &generic_file_vm_ops;
  return 0;
}

// mm/page-writeback.c: write_cache_pages over ->writepage, for the folios of
// [first, last]: each dirty one is locked, cleaned (folio_clear_dirty_for_io) and
// written. With `sync` (WB_SYNC_ALL) every folio is waited for; otherwise one somebody
// holds locked is skipped (DEVIATION(filemap): see wakeup_flusher_threads).
static int write_cache_pages(address_space* mapping, pgoff_t first, pgoff_t last, bool sync) {
  // Collect first: writing a folio does not change the tree, but keep the walk simple.
  std::vector<folio*> batch;
  for (auto it = mapping->i_pages.lower_bound(first); it != mapping->i_pages.end() &&
                                                      it->first <= last;
       ++it) {
    if (folio_test_dirty(it->second)) {
      folio_get(it->second);
      batch.push_back(it->second);
    }
  }
  int err = 0;
  for (folio* folio : batch) {
    if (sync) {
      folio_lock(folio);
    } else if (!folio_trylock(folio)) {
      folio_put(folio);
      continue;
    }
    if (folio->mapping != mapping || !folio_clear_dirty_for_io(folio)) {
      folio_unlock(folio);
    } else {
      int ret = mapping->a_ops->writepage(folio, nullptr);  // unlocks the folio
      if (ret && !err) err = ret;
    }
    folio_put(folio);
  }
  return err;
}

// mm/filemap.c: filemap_write_and_wait_range, through do_writepages and
// write_cache_pages: every dirty folio of the byte range [lstart, lend] is cleaned
// (folio_clear_dirty_for_io) and written (->writepage).
int filemap_write_and_wait_range(address_space* mapping, loff_t lstart, loff_t lend) {
  if (lend < lstart) return 0;
  if (mapping->a_ops->writepage == nullptr) return 0;  // nothing to write back to
  trace_call tc("filemap_write_and_wait_range", "ino=%lu start=%#llx end=%#llx",
                mapping->host->i_ino, static_cast<long long>(lstart),
                static_cast<long long>(lend));
  const pgoff_t first = static_cast<pgoff_t>(lstart) >> PAGE_SHIFT;
  const pgoff_t last = static_cast<pgoff_t>(lend) >> PAGE_SHIFT;
  return tc.ret(write_cache_pages(mapping, first, last, /*sync=*/true));
}

// mm/page-writeback.c: __folio_start_writeback. The folio is locked and its dirty bit
// was just cleared for this write.
void folio_start_writeback(folio* folio) {
  VM_BUG_ON_FOLIO(!folio_test_locked(folio), folio);
  const bool was_writeback = test_and_set_bit(PG_writeback, &folio->flags);
  VM_BUG_ON_FOLIO(was_writeback, folio);
}

// mm/filemap.c: folio_end_writeback. The write completed. A folio reclaim marked for
// immediate reclaim (PG_reclaim) goes to the tail of the inactive list, where the next
// reclaim round finds it clean. DEVIATION(filemap): nobody waits on PG_writeback (I/O is
// synchronous), so there is no folio_wake_bit.
void folio_end_writeback(folio* folio) {
  VM_BUG_ON_FOLIO(!folio_test_writeback(folio), folio);
  if (folio_test_reclaim(folio)) {
    folio_clear_reclaim(folio);
    folio_rotate_reclaimable(folio);
  }
  folio_get(folio);  // not freed before the bit is clear
  folio_clear_writeback(folio);
  folio_put(folio);
}

// fs/fs-writeback.c: wakeup_flusher_threads. DEVIATION(filemap): there are no per-bdi
// flusher threads (kworker/u:N-flush); the work they would be queued for
// (wb_start_writeback -> wb_writeback: every dirty inode, WB_SYNC_NONE, do_writepages)
// runs here at once, in the waker's context. Being WB_SYNC_NONE it skips folios somebody
// holds locked (the waker itself may, e.g. a fault allocating under its folio lock),
// where a flusher thread would wait for them.
void wakeup_flusher_threads(wb_reason reason) {
  trace_call tc("wakeup_flusher_threads", "reason=%s",
                reason == WB_REASON_VMSCAN ? "vmscan" : reason == WB_REASON_SYNC ? "sync" : "background");
  for (const auto& [ino, inode] : kst().inodes) {
    address_space* mapping = &inode->i_data;
    if (mapping->a_ops == nullptr || mapping->a_ops->writepage == nullptr) continue;
    write_cache_pages(mapping, 0, ~pgoff_t{0}, /*sync=*/false);
  }
}

}  // namespace kernel
