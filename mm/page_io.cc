// mm/page_io.cc: reading and writing swap slots.
//
// Port of mm/page_io.c at Linux 6.18 (swap_writeout, __swap_writepage,
// swap_writepage_bdev_sync, __end_swap_bio_write, swap_read_folio,
// swap_read_folio_bdev_sync, __end_swap_bio_read, count_swpout_vm_event).
//
// Deviations (grep "DEVIATION(page_io)"):
//  - The device is host memory: a slot's block is allocated on its first write (and
//    dropped when the slot is freed, mm/swapfile.cc), so the host holds at most the
//    swap size. A host allocation failure is the device's write error; a read of a
//    slot never written is its read error. I/O is synchronous: PG_writeback is set
//    and cleared within swap_writeout, and a read completes before it returns.
//  - No zswap, no zeromap (a zero-filled page is written like any other), no
//    arch_prepare_to_swap, no plugging.
#include <cstring>
#include <new>

#include "mm/fs.h"
#include "mm/kernel.h"
#include "mm/mm.h"
#include "mm/printk.h"
#include "mm/swap.h"
#include "mm/trace.h"

namespace kernel {
namespace {

constexpr int LOGLEVEL_ALERT = 1;  // include/linux/kern_levels.h (pr_alert)

// mm/page_io.c: count_swpout_vm_event.
void count_swpout_vm_event(folio* f) { count_vm_events(PSWPOUT, folio_nr_pages(f)); }

// mm/page_io.c: __end_swap_bio_write. A failed write leaves the folio dirty (it is
// written again at the next reclaim) and says so in the log.
void __end_swap_bio_write(folio* f, bool error) {
  if (error) {
    folio_mark_dirty(f);
    printk_emit(LOGLEVEL_ALERT, absl::StrFormat("Write-error on swap-device (%u:%u:%lu)", 0u,
                                                0u, swp_offset(f->swap)));
    folio_clear_reclaim(f);
  }
  folio_clear_writeback(f);  // folio_end_writeback
}

// The device's write: copy the page into the slot's block (made on first use).
bool swap_device_write(swap_info_struct* si, unsigned long offset, const void* src) {
  auto it = si->blocks.find(offset);
  if (it == si->blocks.end()) {
    std::unique_ptr<unsigned char[]> block(new (std::nothrow) unsigned char[PAGE_SIZE]);
    if (block == nullptr) return false;
    try {
      it = si->blocks.emplace(offset, std::move(block)).first;
    } catch (const std::bad_alloc&) {
      return false;
    }
  }
  std::memcpy(it->second.get(), src, PAGE_SIZE);
  return true;
}

// mm/page_io.c: swap_writepage_bdev_sync.
void swap_writepage_bdev_sync(folio* f, swap_info_struct* si) {
  count_swpout_vm_event(f);
  folio_set_writeback(f);  // folio_start_writeback
  folio_unlock(f);
  const bool ok = swap_device_write(si, swp_offset(f->swap), folio_address(f));
  if (!ok) si->nr_blocks_failed++;
  trace_event("swap_writepage", "pfn=%#lx offset=%lu%s", folio_pfn(f), swp_offset(f->swap),
              ok ? "" : " error");
  __end_swap_bio_write(f, !ok);
}

// mm/page_io.c: __swap_writepage.
void __swap_writepage(folio* f) {
  swap_info_struct* si = swp_swap_info(f->swap);
  VM_BUG_ON_FOLIO(!folio_test_swapcache(f), f);
  swap_writepage_bdev_sync(f, si);
}

// mm/page_io.c: __end_swap_bio_read.
void __end_swap_bio_read(folio* f, bool error) {
  if (error) {
    printk_emit(LOGLEVEL_ALERT, absl::StrFormat("Read-error on swap-device (%u:%u:%lu)", 0u, 0u,
                                                swp_offset(f->swap)));
  } else {
    folio_set_uptodate(f);  // folio_mark_uptodate
  }
  folio_unlock(f);
}

// mm/page_io.c: swap_read_folio_bdev_sync.
void swap_read_folio_bdev_sync(folio* f, swap_info_struct* si) {
  count_vm_events(PSWPIN, folio_nr_pages(f));
  auto it = si->blocks.find(swp_offset(f->swap));
  const bool ok = it != si->blocks.end();
  if (ok) std::memcpy(folio_address(f), it->second.get(), PAGE_SIZE);
  trace_event("swap_read_folio", "pfn=%#lx offset=%lu%s", folio_pfn(f), swp_offset(f->swap),
              ok ? "" : " error");
  __end_swap_bio_read(f, !ok);
}

}  // namespace

// mm/page_io.c: swap_writeout (swap_writepage before 6.16). The locked, dirty-cleared
// swap-cache folio goes to its slot; returns unlocked. 0.
int swap_writeout(folio* f) {
  // A slot no PTE refers to need not be written: drop it instead.
  if (folio_free_swap(f)) {
    folio_unlock(f);
    return 0;
  }
  __swap_writepage(f);
  return 0;
}

// mm/page_io.c: swap_read_folio. The locked, not uptodate swap-cache folio is read from
// its slot; it is unlocked when done (uptodate unless the read failed).
void swap_read_folio(folio* f) {
  swap_info_struct* si = swp_swap_info(f->swap);
  VM_BUG_ON_FOLIO(!folio_test_swapcache(f), f);
  VM_BUG_ON_FOLIO(!folio_test_locked(f), f);
  VM_BUG_ON_FOLIO(folio_test_uptodate(f), f);
  swap_read_folio_bdev_sync(f, si);
}

}  // namespace kernel
