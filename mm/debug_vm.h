// mm/debug_vm.h: a whole-machine consistency check, in the spirit of CONFIG_DEBUG_VM
// (include/linux/mmdebug.h, mm/debug.c) but global: run between operations by tests and
// the simulator, it walks every frame, every page table and every TLB.
//
// What it checks (each violation is one line of the report):
//  - the buddy allocator: every free block head is PageBuddy with a consistent, aligned
//    order, on the list of that order, refcount 0, mapcount -1; list lengths equal nr_free;
//    the free count equals NR_FREE_PAGES; no PageBuddy page is off the lists;
//  - page tables of every mm (the mms of kst().pid_table's tasks, deduplicated, plus any
//    extra ones): each table page is PGTY_table of the right level and mm and is referenced
//    exactly once; no entry points at a free frame; every leaf lies inside a VMA; special
//    entries map only the zero page (or raw pfns in VM_PFNMAP VMAs); pgtables_bytes
//    matches the tables found;
//  - every mapped page: _mapcount + 1 equals the PTEs mapping it; _refcount is at least
//    that (plus one if it is in a page cache), and exactly that (+ GUP_PIN_COUNTING_BIAS
//    per expected pin) when no pins are outstanding; an allocated frame with no user is a
//    leak (when no pins are outstanding);
//  - page caches (every inode in kst().inodes): nrpages equals the cached folios; each
//    cached folio points back at its mapping and index, is not anonymous, is swap-backed
//    exactly when the file is shmem, and lies below end-of-file; no frame is in two
//    caches or is both cached and free; the cache's reference counts in the expected
//    refcount; a frame claiming a mapping it is not cached in is reported;
//  - i_mmap: every VMA with a file is on its mapping's i_mmap list and every entry there
//    belongs to its mapping (and, for known mms, is in its mm's tree);
//  - what each PTE maps matches its VMA: anonymous VMAs map anonymous pages; shared file
//    (and shmem) VMAs map the file's page at the VMA's offset; private file VMAs map that
//    or an anonymous (COW) copy; an exclusive anonymous page (PageAnonExclusive) is
//    mapped at most once and a writable PTE never maps a non-exclusive one;
//  - RSS counters (anon, file, shmem) and NR_ANON_MAPPED / NR_FILE_MAPPED /
//    NR_PAGETABLE match what the walk found;
//  - TLBs (at a syscall boundary; the arch hook tlb_check_cpu, mm/arch/x86/tlb_debug.cc,
//    reads them): no CPU holds a translation, for a PCID whose ASID slot the CPU can
//    still use for its mm (the slot is current with the mm's tlb_gen, or the mm runs there
//    under it), that grants more than that mm's page tables do now (another frame,
//    writable or user or executable where the PTE is not, a dirty writable entry over a
//    clean PTE, or any entry over a non-present PTE). Other entries are dead: switch_mm
//    flushes a stale or reassigned slot before it can be used.
//  - the mms checked include those CPUs still run on lazily (a kernel thread's borrowed
//    active_mm, which may belong to a process that has exited).
#ifndef MMSIM_MM_DEBUG_VM_H_
#define MMSIM_MM_DEBUG_VM_H_

#include <map>
#include <string>
#include <vector>

#include "mm/kernel.h"
#include "mm/mm_types.h"

namespace kernel {

struct debug_vm_options {
  // No FOLL_PIN / get_page user is outstanding: refcounts must equal mappings exactly and
  // every allocated frame must have a user.
  bool expect_no_pins = true;
  // pfn -> number of FOLL_PIN pins expected on it (implies exact refcounts elsewhere).
  const std::map<unsigned long, int>* expected_pins = nullptr;
  // Address spaces not reachable from pid_table (a test's own mm, an mm_access user's).
  std::vector<mm_struct*> extra_mms;
  bool check_tlb = true;
  // No kernel path is in flight (every check but sim/'s --check at a scheduler switch):
  // no folio may be left locked, every PTE lies inside a VMA (mid-munmap it need not),
  // every table is linked (not mid-__pte_alloc or mid-mmu_gather), mapcounts and rss
  // counters equal the PTEs (mid-wp_page_copy a PTE is cleared before its rmap goes),
  // NR_ANON_MAPPED / NR_FILE_MAPPED equal the mapped pages (mid-__folio_remove_rmap a
  // THP's mapcount drops before deferred_split_folio's lock and the counter after it).
  bool quiescent = true;
};

// Returns the number of violations and appends one line per violation to *report (if
// non-null). `ks` need not be the active state; it is made active for the duration.
int debug_vm_check(kernel_state* ks, std::string* report, const debug_vm_options& opts);
int debug_vm_check(kernel_state* ks, std::string* report, bool expect_no_pins = true,
                   const std::vector<mm_struct*>& extra_mms = {});

}  // namespace kernel

#endif  // MMSIM_MM_DEBUG_VM_H_
