// mm/readahead.cc: reading file pages into the page cache ahead of their use.
//
// Port of mm/readahead.c at Linux 6.18, reduced to force_page_cache_readahead (with
// do_page_cache_ra and page_cache_ra_unbounded), the path of MADV_WILLNEED and
// POSIX_FADV_WILLNEED.
//
// Deviations (grep "DEVIATION(readahead)"):
//  - No readahead state (file_ra_state), no ->readahead method and no batching in
//    bdi->io_pages chunks: each missing page is read with ->read_folio, synchronously
//    (simfs' I/O completes at once, mm/fs.h).
//  - No PG_readahead marker folio (nothing does asynchronous readahead on a hit).
#include "mm/fs.h"
#include "mm/mm.h"
#include "mm/trace.h"

namespace kernel {
namespace {

// mm/readahead.c: page_cache_ra_unbounded. Each index of [index, index + nr_to_read) not
// in the cache gets a new folio, added locked and read in (->read_folio unlocks it).
// A folio already cached is skipped; an allocation failure ends the readahead.
void page_cache_ra_unbounded(address_space* mapping, file* file, pgoff_t index,
                             unsigned long nr_to_read) {
  for (unsigned long i = 0; i < nr_to_read; i++) {
    auto it = mapping->i_pages.find(index + i);
    if (it != mapping->i_pages.end()) continue;  // already cached: skip it
    folio* f = folio_alloc(mapping->gfp_mask, 0);  // filemap_alloc_folio
    if (f == nullptr) break;
    if (filemap_add_folio(mapping, f, index + i, mapping->gfp_mask) < 0) {
      folio_put(f);
      break;
    }
    // read_pages: the cache holds the folio now; our allocation reference goes once the
    // read is issued.
    mapping->a_ops->read_folio(file, f);
    folio_put(f);
  }
}

// mm/readahead.c: do_page_cache_ra. Never read past end-of-file.
void do_page_cache_ra(address_space* mapping, file* file, pgoff_t index, unsigned long nr_to_read) {
  inode* inode = mapping->host;
  loff_t isize = i_size_read(inode);
  if (isize == 0) return;
  pgoff_t end_index = static_cast<pgoff_t>(isize - 1) >> PAGE_SHIFT;
  if (index > end_index) return;
  // Don't read past the page containing the last byte of the file.
  if (nr_to_read > end_index - index) nr_to_read = end_index - index + 1;
  page_cache_ra_unbounded(mapping, file, index, nr_to_read);
}

}  // namespace

// mm/readahead.c: force_page_cache_readahead. DEVIATION(readahead): one chunk (Linux reads
// max(io_pages, ra_pages)-sized chunks in a loop, with the same result here).
void force_page_cache_readahead(address_space* mapping, file* file, pgoff_t index,
                                unsigned long nr_to_read) {
  trace_call tc("force_page_cache_readahead", "index=%#lx nr=%lu", index, nr_to_read);
  if (unlikely(mapping->a_ops->read_folio == nullptr)) return;
  do_page_cache_ra(mapping, file, index, nr_to_read);
}

}  // namespace kernel
