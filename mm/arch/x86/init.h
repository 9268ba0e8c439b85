// mm/arch/x86/init.h: the kernel half of the page tables (swapper_pg_dir and the direct
// map) and what user pgds share of it.
//
// Port of the parts of arch/x86/mm/init.c (init_mem_mapping, alloc_low_page) and
// arch/x86/mm/init_64.c (kernel_physical_mapping_init, phys_pud_init, phys_pmd_init,
// phys_pte_init) that build the direct map, and of the x86-64 layout constants of
// arch/x86/include/asm/page_64_types.h / pgtable_64_types.h, at Linux 6.18 with 4-level
// paging and no KASLR.
//
// Deviations (grep "DEVIATION(init)"):
//  - No kernel image: swapper_pg_dir (init_top_pgt, in the image's .bss in Linux) and the
//    direct-map tables (pgt_buf, in the image's brk area; memblock only once its 6 pages
//    run out, which no machine mmsim boots needs) take the frames right after the zero
//    page (frame 1, which stands for the image's empty_zero_page): frames 2, 3, ... stay
//    reserved, and the buddy allocator gets the frames after them.
//  - Only the direct map is built. The kernel text mapping at __START_KERNEL_map (PGD 511:
//    level3_kernel_pgt, level2_kernel_pgt, the fixmap) maps the kernel image, which does
//    not exist here, and vmalloc/vmemmap/cpu_entry_area are not modelled: their PGD slots
//    stay empty. The kernel half therefore never changes after boot, so there is no
//    pgd_list and no sync_global_pgds.
//  - All simulated memory is RAM (one e820 range from 0): the direct map covers
//    [0, max_pfn) with the largest pages that fit, 1 GiB ones included (the hw model's
//    walker always accepts PS in a PDPTE, as a CPU with X86_FEATURE_GBPAGES).
#ifndef MMSIM_MM_ARCH_X86_INIT_H_
#define MMSIM_MM_ARCH_X86_INIT_H_

#include "mm/arch/x86/pgtable_types.h"

namespace kernel {

// arch/x86/include/asm/page_64_types.h: __PAGE_OFFSET_BASE_L4, what page_offset_base is
// with 4-level paging and CONFIG_RANDOMIZE_MEMORY off.
inline constexpr unsigned long __PAGE_OFFSET_BASE_L4 = 0xffff888000000000UL;
inline constexpr unsigned long PAGE_OFFSET = __PAGE_OFFSET_BASE_L4;
// arch/x86/include/asm/page_64_types.h
inline constexpr unsigned long __START_KERNEL_map = 0xffffffff80000000UL;
// arch/x86/include/asm/pgtable.h: the first pgd slot of the kernel half every pgd shares
// (pgd_index(PAGE_OFFSET) = 273; slots 256..272 hold the guard hole and the LDT remap,
// empty here as in a pgd without PTI) and how many there are.
inline constexpr int KERNEL_PGD_BOUNDARY =
    static_cast<int>((PAGE_OFFSET >> PGDIR_SHIFT) & (PTRS_PER_PGD - 1));
inline constexpr int KERNEL_PGD_PTRS = PTRS_PER_PGD - KERNEL_PGD_BOUNDARY;
static_assert(KERNEL_PGD_BOUNDARY == 273);

// arch/x86/include/asm/pgtable_types.h: the direct map's leaf protections (the
// __supported_pte_mask / __default_kernel_pte_mask filtering keeps G and NX: the CPUs
// are set up with PGE and NXE).
inline constexpr pgprot_t PAGE_KERNEL_LARGE = {pgprot_val(PAGE_KERNEL) | _PAGE_PSE};

// arch/x86/mm/init.c: init_mem_mapping. Builds swapper_pg_dir and the direct map of
// [0, max_pfn) in frames from `image_end_pfn` up (zeroed here), and makes it init_mm.pgd.
// Returns the end of the frames used: [image_end_pfn, that) must stay reserved.
unsigned long init_mem_mapping(unsigned long max_pfn, unsigned long image_end_pfn);

// arch/x86/mm/pgtable.c: clone_pgd_range (pgd_ctor's part for 4-level paging): copy the
// kernel half of swapper_pg_dir into a new pgd.
void clone_pgd_range(pgd_t* dst, const pgd_t* src, int count);

}  // namespace kernel

#endif  // MMSIM_MM_ARCH_X86_INIT_H_
