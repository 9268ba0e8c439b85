// mm/arch/x86/tlb.h: TLB flushing, switch_mm and the arch hooks of the mmu_gather.
//
// Port of arch/x86/include/asm/tlbflush.h and arch/x86/include/asm/tlb.h at Linux 6.18
// (the generic mmu_gather is mm/mmu_gather.h).
//
// The rule every page-table change obeys (as in Linux): change the entry, flush the TLBs
// that may cache the old one (this CPU with INVLPG or a CR3 reload, every other CPU in
// mm_cpumask with a shootdown), and only then free what the old entry pointed at. The
// mmu_gather (mm/mmu_gather.h) batches pages and page-table pages for that last step.
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

#include <functional>
#include <string>
#include <vector>

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

// mm/arch/x86/tlb_debug.cc (DEVIATION(tlb_debug): no Linux counterpart; debug_vm's TLB
// check). Compares every translation CPU `cpu`'s TLB holds, for a PCID whose mm (one of
// `mms`) still counts the CPU in mm_cpumask, with that mm's page tables now; calls
// `report` with one line per entry that grants more than the tables do (another frame,
// W/U/X the PTE lacks, dirty over a clean PTE, any entry over a non-present PTE).
// Returns the number of such entries.
int tlb_check_cpu(int cpu, const std::vector<mm_struct*>& mms,
                  const std::function<void(const std::string&)>& report);

// ---- the arch half of the mmu_gather (arch/x86/include/asm/tlb.h, arch/x86/mm/pgtable.c);
// the generic half is mm/mmu_gather.h ----
struct mmu_gather;
// arch/x86/include/asm/tlb.h: flush the range the gather recorded on every CPU that may
// cache it (called by tlb_flush_mmu_tlbonly).
void tlb_flush(mmu_gather* tlb);
// include/asm-generic/tlb.h: unlink-time frees of page-table pages.
void pte_free_tlb(mmu_gather* tlb, page* pte_page, unsigned long address);
void pmd_free_tlb(mmu_gather* tlb, pmd_t* pmd, unsigned long address);
void pud_free_tlb(mmu_gather* tlb, pud_t* pud, unsigned long address);

}  // namespace kernel

#endif  // MMSIM_MM_ARCH_X86_TLB_H_
