// mm/arch/x86/tlb.h: TLB flushing, switch_mm and the arch hooks of the mmu_gather.
//
// Port of arch/x86/include/asm/tlbflush.h, arch/x86/include/asm/tlb.h and the context
// part of arch/x86/include/asm/mmu_context.h at Linux 6.18
// (the generic mmu_gather is mm/mmu_gather.h).
//
// The rule every page-table change obeys (as in Linux): change the entry, flush the TLBs
// that may cache the old one (this CPU with INVLPG or a CR3 reload, every other CPU in
// mm_cpumask with a shootdown IPI), and only then free what the old entry pointed at. The
// mmu_gather (mm/mmu_gather.h) batches pages and page-table pages for that last step.
//
// Address-space identifiers, as arch/x86/mm/tlb.c has them. Each CPU keeps TLB entries of
// up to TLB_NR_DYN_ASIDS (6) mms at once, each under its own ASID slot (PCID = slot + 1,
// kern_pcid; PCID 0 is never used while CR4.PCIDE is on). A slot remembers which mm it
// holds (the mm's ctx_id, unique forever) and up to which flush generation (the mm's
// tlb_gen, bumped by every flush) its entries are current. Switching to an mm that still
// owns a slot with the latest generation loads CR3 with the no-flush bit and keeps the
// entries; otherwise (a stale slot, or a new slot taken round robin from another mm) CR3
// is loaded with a flush of that PCID. So any number of live processes share 6 PCIDs
// per CPU without ever seeing each other's translations.
//
// mm_cpumask follows the 6.12 lazy rule: a CPU that switches away from an mm stays in the
// mask; a shootdown that finds it running another mm clears its bit instead of flushing,
// and (6.14) such CPUs get the IPI only about once a second (next_trim_cpumask, in
// jiffies) or when page tables are freed; the tlb_gen check flushes them at switch-in.
// A kernel thread borrows the previous task's mm (lazy TLB, cpu_tlbstate_shared.is_lazy):
// flushes that free no page tables skip it; those that do move it to init_mm.
//
// Deviations (grep "DEVIATION(tlb)"):
//  - No PTI user PCIDs, no LAM, no INVLPGB broadcast flushes or global ASIDs, no
//    Spectre/L1D mitigations on switch (cond_mitigation), no LDT, no paravirt.
//  - flush_tlb_info lives on the initiator's stack (Linux: a per-CPU variable); the
//    initiator waits for every handler, so it outlives them all the same.
//  - IPIs are mm/smp.h's: queued and delivered by sim/'s scheduler when one runs, else the
//    target's handler runs at once inside the send (DEVIATION(smp)).
#ifndef MMSIM_MM_ARCH_X86_TLB_H_
#define MMSIM_MM_ARCH_X86_TLB_H_

#include <functional>
#include <string>
#include <vector>

#include "mm/arch/x86/pgtable.h"
#include "mm/bug.h"
#include "mm/kernel.h"
#include "mm/mm_types.h"

namespace kernel {

inline constexpr unsigned long TLB_FLUSH_ALL = ~0UL;
// arch/x86/include/asm/tlbflush.h: a flush that asks no generation of the handler.
inline constexpr u64 TLB_GENERATION_INVALID = 0;
// arch/x86/mm/tlb.c: above this many pages a range flush becomes a full flush.
inline constexpr unsigned long tlb_single_page_flush_ceiling = 33;

// arch/x86/include/asm/tlbflush.h: what a flush asks of each CPU's flush_tlb_func.
struct flush_tlb_info {
  mm_struct* mm;            // null: a kernel-address flush (none in this port)
  unsigned long start;
  unsigned long end;        // TLB_FLUSH_ALL: the whole mm
  u64 new_tlb_gen;          // the generation this flush brings a CPU up to
  unsigned int initiating_cpu;
  u8 stride_shift;
  u8 freed_tables;          // page tables are freed: lazy CPUs must be reached too
  u8 trim_cpumask;          // also IPI CPUs in the mask that run another mm
};

// arch/x86/mm/tlb.c: the PCID written into CR3 for ASID slot `asid` (0..5 -> 1..6).
inline u16 kern_pcid(u16 asid) {
  VM_WARN_ON_ONCE(asid >= TLB_NR_DYN_ASIDS);
  return static_cast<u16>(asid + 1);
}
// arch/x86/include/asm/tlbflush.h: a new flush generation of mm (returned).
inline u64 inc_mm_tlb_gen(mm_struct* mm) {
  return static_cast<u64>(atomic64_inc_return(&mm->context.tlb_gen));
}

// arch/x86/include/asm/mmu_context.h: a new mm's context: a never-reused ctx_id,
// generation 0, no trimming for the first second.
int init_new_context(task_struct* tsk, mm_struct* mm);
// arch/x86/include/asm/mmu_context.h: nothing to release (no LDT, no global ASID).
inline void destroy_context(mm_struct* /*mm*/) {}

// arch/x86/mm/tlb.c
void flush_tlb_mm_range(mm_struct* mm, unsigned long start, unsigned long end,
                        unsigned int stride_shift, bool freed_tables);
// arch/x86/include/asm/tlbflush.h
inline void flush_tlb_mm(mm_struct* mm) { flush_tlb_mm_range(mm, 0, TLB_FLUSH_ALL, 0, true); }
inline void flush_tlb_range(vm_area_struct* vma, unsigned long start, unsigned long end) {
  flush_tlb_mm_range(vma->vm_mm, start, end, PAGE_SHIFT, false);
}
// arch/x86/include/asm/tlbflush.h: a huge entry, one INVLPG per 2 MiB.
inline void flush_pmd_tlb_range(vm_area_struct* vma, unsigned long start, unsigned long end) {
  flush_tlb_mm_range(vma->vm_mm, start, end, PMD_SHIFT, false);
}
inline void flush_tlb_page(vm_area_struct* vma, unsigned long a) {
  flush_tlb_mm_range(vma->vm_mm, a, a + PAGE_SIZE, PAGE_SHIFT, false);
}
// arch/x86/mm/tlb.c: this CPU only: every non-global entry of the loaded PCID (a CR3
// reload) / one address in it (INVLPG). Uncounted, as in Linux.
void flush_tlb_local();
void flush_tlb_one_user(unsigned long addr);

// arch/x86/mm/tlb.c: load `next`'s page tables on this CPU under its ASID slot (CR3 =
// __pa(pgd) | kern_pcid, with the no-flush bit when the slot is current), add the CPU
// to mm_cpumask(next), leave lazy mode. `prev` is ignored (cpu_tlbstate.loaded_mm is
// what is loaded), as in Linux.
void switch_mm_irqs_off(mm_struct* prev, mm_struct* next, task_struct* tsk);
void switch_mm(mm_struct* prev, mm_struct* next, task_struct* tsk);
// arch/x86/mm/tlb.c: a kernel thread starts running on this CPU with `mm` still loaded.
void enter_lazy_tlb(mm_struct* mm, task_struct* tsk);
// arch/x86/mm/tlb.c: a lazy CPU gives up its borrowed mm (switches to init_mm).
void leave_mm();
// arch/x86/mm/tlb.c: boot (cpu_init): CR3 = init_mm under ASID 0, fresh ASID slots.
void initialize_tlbstate_and_flush();
// The mm this CPU's CR3 points at (cpu_tlbstate.loaded_mm).
inline mm_struct* this_cpu_loaded_mm() { return kst().cpu_tlbstate[kst().this_cpu].loaded_mm; }

// mm/arch/x86/tlb_debug.cc (DEVIATION(tlb_debug): no Linux counterpart; debug_vm's TLB
// check). Compares every translation CPU `cpu`'s TLB holds, for a PCID whose mm (one of
// `mms`) the CPU can still use (tlb_entry_mm), with that mm's page tables now; calls
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
