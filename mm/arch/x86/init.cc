// mm/arch/x86/init.cc: swapper_pg_dir and the direct map.
// Port of arch/x86/mm/init.c (init_mem_mapping, alloc_low_page) and arch/x86/mm/init_64.c
// (kernel_physical_mapping_init and the phys_*_init levels), and clone_pgd_range from
// arch/x86/include/asm/pgtable.h, Linux 6.18. Deviations: see init.h.
#include "mm/arch/x86/init.h"

#include <cstring>

#include "mm/arch/x86/pgtable.h"
#include "mm/mm.h"

namespace kernel {
namespace {

// arch/x86/mm/init.c: pgt_buf, the kernel image's brk pages the early direct-map tables
// come from (INIT_PGT_BUF_SIZE, 6 pages, is enough for every machine mmsim boots); its
// bounds are the machine's (kst().pgt_buf_start, pgt_buf_end). DEVIATION(init): the
// "image" is the frames after the zero page.
constexpr unsigned long INIT_PGT_BUF_SIZE = 6;

// arch/x86/mm/init.c: alloc_low_page. A zeroed frame for a kernel page table.
void* alloc_low_page() {
  kernel_state& ks = kst();
  BUG_ON(ks.pgt_buf_end >= ks.pgt_buf_start + INIT_PGT_BUF_SIZE);
  const unsigned long pfn = ks.pgt_buf_end++;
  void* va = __va(pfn << PAGE_SHIFT);
  std::memset(va, 0, PAGE_SIZE);
  return va;
}

// arch/x86/mm/init_64.c: phys_pte_init. 4 KiB pages for the tail below a 2 MiB boundary.
void phys_pte_init(pte_t* pte_page, unsigned long paddr, unsigned long paddr_end) {
  for (int i = static_cast<int>(pte_index(paddr)); i < PTRS_PER_PTE;
       i++, paddr = (paddr & PAGE_MASK) + PAGE_SIZE) {
    if (paddr >= paddr_end) continue;  // beyond RAM: left empty (no e820 range)
    set_pte(pte_page + i, pfn_pte(paddr >> PAGE_SHIFT, PAGE_KERNEL));
  }
}

// arch/x86/mm/init_64.c: phys_pmd_init. 2 MiB pages where a whole one fits.
void phys_pmd_init(pmd_t* pmd_page, unsigned long paddr, unsigned long paddr_end) {
  for (int i = static_cast<int>(pmd_index(paddr)); i < PTRS_PER_PMD; i++) {
    const unsigned long paddr_next = (paddr & PMD_MASK) + PMD_SIZE;
    if (paddr < paddr_end) {
      if (paddr_next <= paddr_end) {
        set_pmd(pmd_page + i, __pmd((paddr & PMD_MASK) | pgprot_val(PAGE_KERNEL_LARGE)));
      } else {
        pte_t* pte = static_cast<pte_t*>(alloc_low_page());
        phys_pte_init(pte, paddr, paddr_end);
        pmd_populate_kernel(&kst().init_mm, pmd_page + i, pte);
      }
    }
    paddr = paddr_next;
  }
}

// arch/x86/mm/init_64.c: phys_pud_init. 1 GiB pages where a whole one fits.
void phys_pud_init(pud_t* pud_page, unsigned long paddr, unsigned long paddr_end) {
  for (int i = static_cast<int>(pud_index(PAGE_OFFSET + paddr)); i < PTRS_PER_PUD; i++) {
    const unsigned long paddr_next = (paddr & PUD_MASK) + PUD_SIZE;
    if (paddr < paddr_end) {
      if (paddr_next <= paddr_end) {
        set_pud(pud_page + i, __pud((paddr & PUD_MASK) | pgprot_val(PAGE_KERNEL_LARGE)));
      } else {
        pmd_t* pmd = static_cast<pmd_t*>(alloc_low_page());
        phys_pmd_init(pmd, paddr, paddr_end);
        pud_populate(&kst().init_mm, pud_page + i, pmd);
      }
    }
    paddr = paddr_next;
  }
}

// arch/x86/mm/init_64.c: __kernel_physical_mapping_init. With 4-level paging the p4d is
// the pgd slot: each slot gets a pud table (p4d_populate, _PAGE_TABLE).
void kernel_physical_mapping_init(pgd_t* pgd_base, unsigned long paddr_start,
                                  unsigned long paddr_end) {
  unsigned long vaddr = PAGE_OFFSET + paddr_start;
  const unsigned long vaddr_end = PAGE_OFFSET + paddr_end;
  for (; vaddr < vaddr_end; vaddr = pgd_addr_end(vaddr, vaddr_end)) {
    pgd_t* pgd = pgd_offset_pgd(pgd_base, vaddr);
    p4d_t* p4d = p4d_offset(pgd, vaddr);
    pud_t* pud = static_cast<pud_t*>(alloc_low_page());
    phys_pud_init(pud, vaddr - PAGE_OFFSET, paddr_end);
    p4d_populate(&kst().init_mm, p4d, pud);
  }
}

}  // namespace

// arch/x86/mm/init.c: init_mem_mapping (with the whole of memory one RAM range).
unsigned long init_mem_mapping(unsigned long max_pfn, unsigned long image_end_pfn) {
  kst().pgt_buf_start = kst().pgt_buf_end = image_end_pfn;
  // swapper_pg_dir (init_top_pgt, in the image's .bss): DEVIATION(init), the first frame.
  pgd_t* swapper_pg_dir = static_cast<pgd_t*>(alloc_low_page());
  kst().init_mm.pgd = swapper_pg_dir;
  kernel_physical_mapping_init(swapper_pg_dir, 0, max_pfn << PAGE_SHIFT);
  return kst().pgt_buf_end;
}

// arch/x86/include/asm/pgtable.h
void clone_pgd_range(pgd_t* dst, const pgd_t* src, int count) {
  std::memcpy(dst, src, count * sizeof(pgd_t));
}

}  // namespace kernel
