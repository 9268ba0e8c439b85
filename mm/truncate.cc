// mm/truncate.cc: taking pages out of the page cache when a file shrinks or goes away.
//
// Port of mm/truncate.c at Linux 6.18 (truncate_cleanup_folio, truncate_inode_folio,
// truncate_inode_partial_folio, truncate_inode_pages_range, truncate_inode_pages,
// truncate_inode_pages_final, truncate_pagecache, truncate_setsize,
// pagecache_isize_extended).
//
// The order matters and is Linux's: first every mapping of the pages past the new end is
// zapped (unmap_mapping_range, private COW copies included), then the pages leave the
// cache (a page still pinned by GUP stays allocated until its pin goes, but no longer
// belongs to the file), then the mappings are zapped once more in case a fault raced in.
// Afterwards an access past the end of the file finds no page and filemap_fault raises
// SIGBUS.
//
// Deviations (grep "DEVIATION(truncate)"):
//  - No batching (folio_batch, find_lock_entries): the cache is walked folio by folio.
//  - No swap entries in the cache (shmem is never swapped out), no writeback to wait
//    for, no ->invalidate_folio. Workingset shadows are in mapping->i_shadows
//    (DEVIATION(fs)) and are cleared range by range (truncate_folio_batch_exceptionals).
#include <cstring>
#include <vector>

#include "mm/fs.h"
#include "mm/trace.h"

namespace kernel {
namespace {

// mm/truncate.c: truncate_cleanup_folio. The folio is locked: unmap it wherever it is
// still mapped, and forget that it was dirty (its data no longer belongs to the file).
void truncate_cleanup_folio(folio* folio) {
  if (folio_mapped(folio)) unmap_mapping_folio(folio);
  folio_clear_dirty(folio);  // folio_cancel_dirty
}

// mm/truncate.c: truncate_inode_folio.
int truncate_inode_folio(address_space* mapping, folio* folio) {
  if (folio->mapping != mapping) return -EIO;
  truncate_cleanup_folio(folio);
  filemap_remove_folio(folio);
  return 0;
}

// include/linux/highmem.h: folio_zero_range.
void folio_zero_range(folio* folio, size_t start, size_t length) {
  std::memset(static_cast<u8*>(folio_address(folio)) + start, 0, length);
}

// mm/truncate.c: truncate_inode_partial_folio (small folios). The folio holds the byte
// range [start, end] of the file (inclusive) only in part: zero that part, or drop the
// whole folio if the range covers it.
bool truncate_inode_partial_folio(folio* folio, loff_t start, loff_t end) {
  const loff_t pos = static_cast<loff_t>(folio->index) << PAGE_SHIFT;  // folio_pos
  unsigned int offset = pos < start ? static_cast<unsigned int>(start - pos) : 0;
  unsigned int length = PAGE_SIZE;
  if (static_cast<unsigned long long>(pos) + length <= static_cast<unsigned long long>(end))
    length = length - offset;
  else
    length = static_cast<unsigned int>(end + 1 - pos - offset);
  if (length == PAGE_SIZE) {
    truncate_inode_folio(folio->mapping, folio);
    return true;
  }
  // The part of the page past the new end must read as zeros through every mapping, and
  // must not come back if the file grows again.
  folio_zero_range(folio, offset, length);
  return true;
}

// mm/truncate.c: truncate_folio_batch_exceptionals / clear_shadow_entries. The shadows
// of [start, end) go: a page that comes back after a truncation is a new page, not a
// refault.
void clear_shadow_entries(address_space* mapping, pgoff_t start, pgoff_t end) {
  auto first = mapping->i_shadows.lower_bound(start);
  auto last = end == ~pgoff_t{0} ? mapping->i_shadows.end() : mapping->i_shadows.lower_bound(end);
  mapping->i_shadows.erase(first, last);
}

}  // namespace

// mm/truncate.c: truncate_inode_pages_range. Remove the folios wholly inside the byte
// range [lstart, lend] (lend -1: to the end of the file) from the cache and zero the
// partial ones at the edges.
void truncate_inode_pages_range(address_space* mapping, loff_t lstart, loff_t lend) {
  if (mapping_empty(mapping)) return;
  trace_call tc("truncate_inode_pages_range", "ino=%lu lstart=%#llx lend=%#llx",
                mapping->host->i_ino, static_cast<long long>(lstart),
                static_cast<long long>(lend));
  // [start, end) are the folios to truncate whole; the partial ones are handled after.
  const pgoff_t start = (static_cast<pgoff_t>(lstart) + PAGE_SIZE - 1) >> PAGE_SHIFT;
  const pgoff_t end = lend == -1 ? ~pgoff_t{0} : (static_cast<pgoff_t>(lend) + 1) >> PAGE_SHIFT;

  std::vector<folio*> batch;  // find_lock_entries
  for (auto it = mapping->i_pages.lower_bound(start);
       it != mapping->i_pages.end() && it->first < end; ++it) {
    folio_get(it->second);
    batch.push_back(it->second);
  }
  for (folio* folio : batch) {
    folio_lock(folio);
    if (folio->mapping == mapping) {
      truncate_cleanup_folio(folio);
      filemap_remove_folio(folio);  // delete_from_page_cache_batch
    }
    folio_unlock(folio);
    folio_put(folio);  // folio_batch_release
  }
  // After the folios (Linux's second pass over the entries): reclaim may have evicted one
  // of them, leaving a shadow, while this path waited for its lock.
  clear_shadow_entries(mapping, start, end);

  bool same_folio = (lstart >> PAGE_SHIFT) == (lend >> PAGE_SHIFT);
  folio* f = __filemap_get_folio(mapping, static_cast<pgoff_t>(lstart) >> PAGE_SHIFT, FGP_LOCK, 0);
  if (!IS_ERR(f)) {
    same_folio = lend < ((static_cast<loff_t>(f->index) + 1) << PAGE_SHIFT);
    truncate_inode_partial_folio(f, lstart, lend);
    folio_unlock(f);
    folio_put(f);
  }
  if (!same_folio) {
    f = __filemap_get_folio(mapping, static_cast<pgoff_t>(lend) >> PAGE_SHIFT, FGP_LOCK, 0);
    if (!IS_ERR(f)) {
      truncate_inode_partial_folio(f, lstart, lend);
      folio_unlock(f);
      folio_put(f);
    }
  }
}

// mm/truncate.c
void truncate_inode_pages(address_space* mapping, loff_t lstart) {
  truncate_inode_pages_range(mapping, lstart, -1);
}

// mm/truncate.c: the inode is being evicted: every page goes.
void truncate_inode_pages_final(address_space* mapping) {
  // Reclaim racing with the eviction must not leave shadows behind (__remove_mapping).
  mapping_set_exiting(mapping);
  truncate_inode_pages(mapping, 0);
}

// mm/truncate.c: unmap, then drop, everything past newsize. The second unmap catches a
// private COW copy made by a fault that raced in between (another CPU's path, under
// sim/'s scheduler).
void truncate_pagecache(inode* inode, loff_t newsize) {
  address_space* mapping = inode->i_mapping;
  const loff_t holebegin = (newsize + static_cast<loff_t>(PAGE_SIZE) - 1) & ~static_cast<loff_t>(PAGE_SIZE - 1);
  unmap_mapping_range(mapping, holebegin, 0, 1);
  truncate_inode_pages(mapping, newsize);
  unmap_mapping_range(mapping, holebegin, 0, 1);
}

// mm/truncate.c: the file grew from `from` to `to`. A page straddling the old end
// could be mapped writable and hold bytes written past the old end through mmap; with
// blocks smaller than a page Linux write-protects it here. simfs' blocks are pages, so
// (as in Linux for bsize >= PAGE_SIZE) there is nothing to do: writeback zeroes such
// tails.
void pagecache_isize_extended(inode* inode, loff_t from, loff_t to) {
  WARN_ON(to > inode->i_size);
  if (from >= to) return;
  // i_blocksize(inode) == PAGE_SIZE: return.
}

// mm/truncate.c: set the new size, then (when shrinking) take every page past it away.
void truncate_setsize(inode* inode, loff_t newsize) {
  const loff_t oldsize = inode->i_size;
  i_size_write(inode, newsize);
  if (newsize > oldsize) pagecache_isize_extended(inode, oldsize, newsize);
  truncate_pagecache(inode, newsize);
}

}  // namespace kernel
