// mm/mm_init.cc: bring memory management up (mm/mm_init.c, mm/memblock.c), Linux 6.18.
//
// mm_core_init() builds what Linux builds between setup_arch() and the first allocation:
// mem_map (one struct page per frame of simulated memory, in ONE host array, so that
// pfn_to_page is an add), the only zone, the zero page, init_mm (mm/init-mm.c's static
// initialiser), and the buddy free lists with every frame nobody reserved.
//
// Deviations (grep "DEVIATION(mm_init)"):
//  - There is no memblock and no kernel image: frame 0 is reserved (as the real-mode IVT/
//    BIOS page is on x86) and frame 1 is the zero page (empty_zero_page lives in the
//    kernel's .bss in Linux); the kernel page tables follow it (next item); every other
//    frame goes to the buddy allocator.
//  - mem_map is host memory, not a vmemmap carved out of simulated memory: one mmap
//    (MAP_NORESERVE), so the host commits only the struct pages that are written.
//  - CONFIG_DEFERRED_STRUCT_PAGE_INIT, always on for machines larger than one memory
//    section (128 MiB), and never completed: no pgdatinit thread runs. Boot initialises
//    the struct pages below the first MAX_PAGE_ORDER-aligned block and those of the partial
//    block at the top; every whole MAX_PAGE_ORDER block in between is deferred, counted
//    free, and initialised by deferred_grow_zone one block at a time, highest first, when
//    the allocator needs a block of that order and its list is empty. That is exactly the
//    block an eager boot would have handed out at that moment (boot frees each block to
//    the head of its list), so which frame an allocation gets does not change; the host
//    memory of mem_map grows with the memory in use (Linux grows by whole sections and
//    from the bottom, because it frees boot memory to the tail).
//  - The kernel page tables (swapper_pg_dir and the direct map, mm/arch/x86/init.cc) take
//    the frames after the zero page, as part of the "kernel image": they stay reserved.
#include <sys/mman.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "mm/arch/x86/init.h"
#include "mm/mm.h"
#include "mm/mmzone.h"
#include "mm/trace.h"

namespace kernel {
namespace {

// mm/mm_init.c: __init_single_page.
void __init_single_page(page* p) {
  std::memset(static_cast<void*>(p), 0, sizeof(*p));
  init_page_count(p);
  atomic_set(&p->_mapcount, -1);
  INIT_LIST_HEAD(&p->lru);
}

// mm/memblock.c: reserve_bootmem_region / the zero page's setup.
void reserve_frame(unsigned long pfn) {
  page* p = pfn_to_page(pfn);
  SetPageReserved(p);
}

// mm/mm_init.c: zone_init_free_lists.
void zone_init_free_lists(zone* z) {
  for (int order = 0; order < NR_PAGE_ORDERS; ++order) {
    INIT_LIST_HEAD(&z->free_area[order].free_list);
    z->free_area[order].nr_free = 0;
  }
}

// mm/memblock.c: __free_pages_memory. Frees [start, end) in the largest aligned blocks.
void __free_pages_memory(unsigned long start, unsigned long end) {
  while (start < end) {
    unsigned int order = MAX_PAGE_ORDER;
    if (start) order = std::min<unsigned int>(MAX_PAGE_ORDER, __builtin_ctzl(start));
    while (start + (1UL << order) > end) order--;
    __free_pages_core(pfn_to_page(start), order);
    start += 1UL << order;
  }
}

}  // namespace

// mm/mm_init.c: mm_core_init (with the parts of free_area_init and memblock_free_all that
// matter here).
int mm_core_init() {
  trace_call tc("mm_core_init");
  kernel_state& ks = kst();
  BUG_ON(ks.phys == nullptr);
  BUG_ON(ks.mem_map != nullptr);
  unsigned long nr_frames = ks.phys->num_frames();
  if (nr_frames < 16) return tc.ret(-ENOMEM);

  // DEVIATION(mm_init): see the file comment. Untouched anonymous memory reads as zero and
  // costs the host nothing.
  // hw::HostMapZeroed: such a mapping, possibly one a previous machine released (zeroed).
  void* map = hw::HostMapZeroed(nr_frames * sizeof(page), &ks.host_errno);
  if (map == nullptr) {
    ks.host_failure = "mem_map";
    return tc.ret(-ENOMEM);
  }
  ks.max_pfn = nr_frames;
  ks.mem_map = static_cast<page*>(map);

  // setup_arch -> init_mem_mapping: swapper_pg_dir and the direct map, in the frames after
  // the zero page; [2, image_end) stays reserved.
  const unsigned long image_end = init_mem_mapping(nr_frames, 2);

  // DEVIATION(mm_init): defer_init, for every whole MAX_PAGE_ORDER block from the first one
  // up, once the machine is larger than a section.
  unsigned long first_deferred_pfn = nr_frames, deferred_end_pfn = nr_frames;
  if (nr_frames > PAGES_PER_SECTION) {
    first_deferred_pfn = MAX_ORDER_NR_PAGES;
    deferred_end_pfn = nr_frames & ~(MAX_ORDER_NR_PAGES - 1);
  }
  for (unsigned long pfn = 0; pfn < nr_frames; ++pfn) {
    if (pfn == first_deferred_pfn) pfn = deferred_end_pfn;
    if (pfn < nr_frames) __init_single_page(&ks.mem_map[pfn]);
  }

  zone* z = new zone{};
  z->name = "Normal";
  z->zone_start_pfn = 0;
  z->spanned_pages = nr_frames;
  z->present_pages = nr_frames;
  z->first_deferred_pfn = first_deferred_pfn;
  z->deferred_end_pfn = deferred_end_pfn;
  zone_init_free_lists(z);
  for (int lru = 0; lru < NR_LRU_LISTS; ++lru) INIT_LIST_HEAD(&z->__lruvec.lists[lru]);  // lruvec_init
  ks.zone_normal = z;

  // DEVIATION(mm_init): frame 0 reserved, frame 1 the zero page.
  reserve_frame(0);
  reserve_frame(1);
  ks.zero_page = pfn_to_page(1);
  std::memset(page_address(ks.zero_page), 0, PAGE_SIZE);

  // The kernel page tables init_mem_mapping built (part of the reserved image).
  for (unsigned long pfn = 2; pfn < image_end; ++pfn) reserve_frame(pfn);

  // mm/init-mm.c: init_mm's static initialiser (INIT_MM_CONTEXT: ctx_id 1). Its pgd,
  // swapper_pg_dir, is set already (init_mem_mapping).
  mm_struct* init_mm = &ks.init_mm;
  atomic_set(&init_mm->mm_users, 2);
  atomic_set(&init_mm->mm_count, 1);
  mmap_init_lock(init_mm);
  spin_lock_init(&init_mm->page_table_lock);
  init_mm->cpu_bitmap.reset();
  init_mm->context.ctx_id = 1;
  atomic64_set(&init_mm->context.tlb_gen, 0);
  atomic64_set(&ks.last_mm_ctx_id, 1);

  __free_pages_memory(image_end, first_deferred_pfn);
  // The deferred frames are free memory the buddy allocator was given, as after
  // page_alloc_init_late; only their struct pages wait.
  const long deferred = static_cast<long>(deferred_end_pfn - first_deferred_pfn);
  atomic_long_add(deferred, &z->managed_pages);
  z->free_pages += deferred;
  ks.vm_stat[NR_FREE_PAGES] += deferred;
  if (deferred_end_pfn < nr_frames) __free_pages_memory(deferred_end_pfn, nr_frames);
  init_per_zone_wmark_min();  // a core_initcall in Linux, run once memory is in the buddy
  return tc.ret(0);
}

// mm/mm_init.c: deferred_grow_zone. DEVIATION(mm_init): one MAX_PAGE_ORDER block, the
// highest still deferred (see the file comment).
bool deferred_grow_zone(zone* z, unsigned int /*order*/) {
  if (z->first_deferred_pfn >= z->deferred_end_pfn) return false;
  const unsigned long spfn = z->deferred_end_pfn - MAX_ORDER_NR_PAGES;
  trace_event("deferred_grow_zone", "pfn=%#lx", spfn);
  page* first = pfn_to_page(spfn);
  // deferred_init_pages, then the page half of __free_pages_core.
  for (unsigned long i = 0; i < MAX_ORDER_NR_PAGES; ++i) {
    __init_single_page(first + i);
    first[i].flags = 0;
    set_page_count(first + i, 0);
  }
  z->deferred_end_pfn = spfn;
  __free_pages_deferred(first, MAX_PAGE_ORDER);
  return true;
}

// The memory half of kernel_shutdown(): frees mem_map and the zone. Every simulated frame
// dies with PhysMem; nothing else is returned.
void mm_core_shutdown(kernel_state* ks) {
  hw::HostUnmap(ks->mem_map, ks->max_pfn * sizeof(page));
  ks->mem_map = nullptr;
  delete ks->zone_normal;
  ks->zone_normal = nullptr;
  ks->zero_page = nullptr;
  ks->max_pfn = 0;
}

}  // namespace kernel
