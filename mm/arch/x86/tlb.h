// mm/arch/x86/tlb.h: TLB flushing, switch_mm and the mmu_gather.
//
// Port of arch/x86/include/asm/tlbflush.h, arch/x86/include/asm/tlb.h,
// include/asm-generic/tlb.h and mm/mmu_gather.c at Linux 6.12.
//
// The rule every page-table change obeys (as in Linux): change the entry, flush the TLBs
// that may cache the old one (this CPU with INVLPG or a CR3 reload, every other CPU in
// mm_cpumask with a shootdown), and only then free what the old entry pointed at. The
// mmu_gather batches pages and page-table pages for that last step.
//
// mm_cpumask follows the 6.12 "lazy" rule: a CPU that switches away from an mm stays in
// the mask until a shootdown reaches it, which then clears it instead of flushing; when a
// CPU switches into an mm whose mask it is not in, it may have missed flushes and loads
// CR3 with a flush of the mm's PCID.
//
// Deviations (grep "DEVIATION(tlb)"):
//  - One fixed PCID per mm (mm->context.pcid) instead of per-CPU dynamic ASIDs, and no
//    tlb_gen generations: membership of mm_cpumask decides whether a CPU must flush on
//    switch-in (see above), and a range flush is partial unless it exceeds the ceiling.
//  - "IPIs" are synchronous: the initiating CPU executes INVPCID on each remote hw::Cpu
//    (type 0 per page, type 1 for the whole PCID; INVLPG / CR3 reload when CR4.PCIDE is
//    off), exactly what the remote handler would run.
//  - No lazy-TLB mode for kernel threads, no PTI user PCIDs, no LAM.
#ifndef MMSIM_MM_ARCH_X86_TLB_H_
#define MMSIM_MM_ARCH_X86_TLB_H_

#include "mm/arch/x86/pgtable.h"
#include "mm/kernel.h"
#include "mm/mm_types.h"

namespace kernel {

inline constexpr unsigned long TLB_FLUSH_ALL = ~0UL;
// arch/x86/mm/tlb.c: above this many pages a range flush becomes a full flush.
inline constexpr unsigned long tlb_single_page_flush_ceiling = 33;

// arch/x86/mm/tlb.c
void flush_tlb_mm_range(mm_struct* mm, unsigned long start, unsigned long end,
                        unsigned int stride_shift, bool freed_tables);
// arch/x86/include/asm/tlbflush.h
inline void flush_tlb_mm(mm_struct* mm) { flush_tlb_mm_range(mm, 0, TLB_FLUSH_ALL, 0, true); }
inline void flush_tlb_range(vm_area_struct* vma, unsigned long start, unsigned long end) {
  flush_tlb_mm_range(vma->vm_mm, start, end, PAGE_SHIFT, false);
}
inline void flush_tlb_page(vm_area_struct* vma, unsigned long a) {
  flush_tlb_mm_range(vma->vm_mm, a, a + PAGE_SIZE, PAGE_SHIFT, false);
}
// The local CPU only (flush_tlb_local / flush_tlb_one_user).
void flush_tlb_local();
void flush_tlb_one_user(unsigned long addr);

// arch/x86/mm/tlb.c: load `next`'s page tables on this CPU (CR3 = __pa(pgd) | pcid, with
// the no-flush bit when this CPU has seen every flush of next) and add the CPU to
// mm_cpumask(next). `prev` is what the caller thinks was loaded (may be null).
void switch_mm_irqs_off(mm_struct* prev, mm_struct* next, task_struct* tsk);
void switch_mm(mm_struct* prev, mm_struct* next, task_struct* tsk);
// The mm this CPU's CR3 points at (cpu_tlbstate.loaded_mm), or null.
inline mm_struct* this_cpu_loaded_mm() { return kst().cpu_tlbstate[kst().this_cpu].loaded_mm; }
// An mm is going away: no CPU may keep it loaded or keep entries of its PCID that a later
// mm with the same PCID could hit. Switches every CPU that has it loaded to no mm (CR3 =
// the empty zero page... see tlb.cc) and clears the mask. Called by exit_mmap.
void tlb_mm_teardown(mm_struct* mm);

// ---- mmu_gather (include/asm-generic/tlb.h, mm/mmu_gather.c) ----
// (PAGE_SIZE - 2 * sizeof(void*)) / sizeof(void*), as for one mmu_gather_batch page.
inline constexpr unsigned int MAX_GATHER_BATCH = 510;

struct mmu_gather {
  mm_struct* mm;
  unsigned long start;
  unsigned long end;
  unsigned int fullmm : 1;          // tearing the whole address space down
  unsigned int need_flush_all : 1;
  unsigned int freed_tables : 1;    // page-table pages were unlinked
  unsigned int cleared_ptes : 1;
  unsigned int cleared_pmds : 1;
  unsigned int cleared_puds : 1;
  unsigned int cleared_p4ds : 1;
  unsigned int nr_pages;            // pages waiting for the flush
  unsigned int nr_tables;           // page-table pages waiting for the flush
  page* pages[MAX_GATHER_BATCH];
  page* tables[MAX_GATHER_BATCH];
};

void tlb_gather_mmu(mmu_gather* tlb, mm_struct* mm);
void tlb_gather_mmu_fullmm(mmu_gather* tlb, mm_struct* mm);
void tlb_finish_mmu(mmu_gather* tlb);
// Flush the TLB for the gathered range, then free what was gathered.
void tlb_flush_mmu(mmu_gather* tlb);
void tlb_flush_mmu_tlbonly(mmu_gather* tlb);
// Queue one reference of `p` to be dropped after the flush. True: the batch is full and
// the caller must tlb_flush_mmu() before queueing more.
bool __tlb_remove_page(mmu_gather* tlb, page* p, bool delay_rmap);
inline void tlb_remove_page(mmu_gather* tlb, page* p) {
  if (__tlb_remove_page(tlb, p, false)) tlb_flush_mmu(tlb);
}
// Queue a page-table page (already pagetable_dtor'ed) to be freed after the flush.
void tlb_remove_table(mmu_gather* tlb, page* table);

inline void __tlb_adjust_range(mmu_gather* tlb, unsigned long address, unsigned long range_size) {
  if (address < tlb->start) tlb->start = address;
  if (address + range_size > tlb->end) tlb->end = address + range_size;
}
inline void tlb_flush_pte_range(mmu_gather* tlb, unsigned long address, unsigned long size) {
  __tlb_adjust_range(tlb, address, size);
  tlb->cleared_ptes = 1;
}
inline void tlb_flush_pmd_range(mmu_gather* tlb, unsigned long address, unsigned long size) {
  __tlb_adjust_range(tlb, address, size);
  tlb->cleared_pmds = 1;
}
inline void tlb_flush_pud_range(mmu_gather* tlb, unsigned long address, unsigned long size) {
  __tlb_adjust_range(tlb, address, size);
  tlb->cleared_puds = 1;
}
inline void tlb_flush_p4d_range(mmu_gather* tlb, unsigned long address, unsigned long size) {
  __tlb_adjust_range(tlb, address, size);
  tlb->cleared_p4ds = 1;
}
inline void tlb_remove_tlb_entry(mmu_gather* tlb, pte_t* /*ptep*/, unsigned long address) {
  tlb_flush_pte_range(tlb, address, PAGE_SIZE);
}
// Per-VMA flushing keeps the flushed range tight (not for a full-mm teardown).
inline void tlb_start_vma(mmu_gather* /*tlb*/, vm_area_struct* /*vma*/) {}
inline void tlb_end_vma(mmu_gather* tlb, vm_area_struct* /*vma*/) {
  if (tlb->fullmm) return;
  tlb_flush_mmu_tlbonly(tlb);
}
// include/asm-generic/tlb.h: unlink-time frees of page-table pages.
void pte_free_tlb(mmu_gather* tlb, page* pte_page, unsigned long address);
void pmd_free_tlb(mmu_gather* tlb, pmd_t* pmd, unsigned long address);
void pud_free_tlb(mmu_gather* tlb, pud_t* pud, unsigned long address);

}  // namespace kernel

#endif  // MMSIM_MM_ARCH_X86_TLB_H_
