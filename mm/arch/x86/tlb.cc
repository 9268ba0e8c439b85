// mm/arch/x86/tlb.cc: TLB shootdowns, switch_mm and the arch hooks of the mmu_gather.
//
// Port of arch/x86/mm/tlb.c (flush_tlb_mm_range, flush_tlb_func, native_flush_tlb_multi,
// switch_mm_irqs_off), arch/x86/include/asm/tlb.h's tlb_flush and arch/x86/mm/pgtable.c's
// ___p*_free_tlb at Linux 6.18, including the 6.12 lazy mm_cpumask trimming. Deviations
// are listed in tlb.h. The generic mmu_gather is mm/mmu_gather.cc.
#include "mm/arch/x86/tlb.h"

#include "mm/mm.h"
#include "mm/mmu_gather.h"
#include "mm/trace.h"

namespace kernel {
namespace {

inline bool cpu_has_pcid(const hw::Cpu* c) { return (c->cr4() & hw::Cpu::kCr4Pcide) != 0; }

// arch/x86/mm/tlb.c: struct flush_tlb_info.
struct flush_tlb_info {
  mm_struct* mm;
  unsigned long start;
  unsigned long end;
  unsigned int initiating_cpu;
  unsigned int stride_shift;
  bool freed_tables;
};

// Invalidate one user address of `mm` on CPU `cpu` (the INVLPG the IPI handler runs, or
// INVPCID type 0 from outside).
void flush_one_on(int cpu, const mm_struct* mm, unsigned long addr) {
  hw::Cpu* c = kst().cpus[cpu];
  if (cpu_has_pcid(c)) {
    hw::Fault f = c->Invpcid(0, mm->context.pcid, hw::VirtAddr(addr));
    BUG_ON(!f.ok() && hw::VirtAddr(addr).IsCanonical());
  } else {
    c->Invlpg(hw::VirtAddr(addr));
  }
}

// Invalidate every non-global translation of `mm` on CPU `cpu`.
void flush_all_on(int cpu, const mm_struct* mm) {
  hw::Cpu* c = kst().cpus[cpu];
  if (cpu_has_pcid(c)) {
    hw::Fault f = c->Invpcid(1, mm->context.pcid, hw::VirtAddr(0));
    BUG_ON(!f.ok());
  } else {
    // CR3 reload: drops every non-global entry.
    hw::Fault f = c->WriteCr3(c->cr3());
    BUG_ON(!f.ok());
  }
}

// arch/x86/mm/tlb.c: flush_tlb_func, run "on" CPU `cpu`.
void flush_tlb_func(int cpu, const flush_tlb_info* f) {
  bool local = static_cast<unsigned int>(cpu) == f->initiating_cpu;
  tlb_state& ts = kst().cpu_tlbstate[cpu];
  if (!local) count_vm_event(NR_TLB_REMOTE_FLUSH_RECEIVED);

  // The CPU was left in the mask when it switched away (lazy trimming): drop it from the
  // mask instead of flushing; switching back in will flush.
  if (f->mm != nullptr && f->mm != ts.loaded_mm) {
    mm_cpumask(f->mm)->reset(cpu);
    trace_event("tlb_flush", "cpu=%d reason=remote_wrong_cpu", cpu);
    return;
  }

  if (f->end != TLB_FLUSH_ALL) {
    unsigned long nr_invalidate = (f->end - f->start) >> f->stride_shift;
    for (unsigned long addr = f->start; addr < f->end; addr += 1UL << f->stride_shift)
      flush_one_on(cpu, f->mm, addr);
    if (local) count_vm_events(NR_TLB_LOCAL_FLUSH_ONE, static_cast<long>(nr_invalidate));
    trace_event("tlb_flush", "cpu=%d %s start=%#lx pages=%lu", cpu, local ? "local" : "remote",
                f->start, nr_invalidate);
  } else {
    flush_all_on(cpu, f->mm);
    if (local) count_vm_event(NR_TLB_LOCAL_FLUSH_ALL);
    trace_event("tlb_flush", "cpu=%d %s all", cpu, local ? "local" : "remote");
  }
}

// arch/x86/mm/tlb.c: native_flush_tlb_multi. Every CPU in the mask, this one included.
void flush_tlb_multi(mm_struct* mm, const flush_tlb_info* info) {
  count_vm_event(NR_TLB_REMOTE_FLUSH);
  // Copy: flush_tlb_func may clear bits as it goes.
  std::bitset<NR_CPUS> mask = *mm_cpumask(mm);
  int ncpus = static_cast<int>(kst().cpus.size());
  for (int cpu = 0; cpu < ncpus; ++cpu)
    if (mask.test(cpu)) flush_tlb_func(cpu, info);
}

// Load CR3 on this CPU. `noflush`: keep the PCID's entries.
void load_new_mm_cr3(hw::Cpu* c, const pgd_t* pgdir, u16 pcid, bool noflush) {
  u64 cr3 = __pa(pgdir);
  if (cpu_has_pcid(c)) {
    cr3 |= pcid;
    if (noflush) cr3 |= hw::Cpu::kCr3NoFlush;
  }
  hw::Fault f = c->WriteCr3(cr3);
  BUG_ON(!f.ok());
}

}  // namespace

// arch/x86/mm/tlb.c
void flush_tlb_mm_range(mm_struct* mm, unsigned long start, unsigned long end,
                        unsigned int stride_shift, bool freed_tables) {
  int cpu = smp_processor_id();
  flush_tlb_info info{mm, start, end, static_cast<unsigned int>(cpu), stride_shift, freed_tables};
  // get_flush_tlb_info: past the ceiling a full flush is cheaper.
  if (end != TLB_FLUSH_ALL &&
      ((end - start) >> stride_shift) > tlb_single_page_flush_ceiling) {
    info.start = 0;
    info.end = TLB_FLUSH_ALL;
  }
  std::bitset<NR_CPUS> others = *mm_cpumask(mm);
  others.reset(cpu);
  if (others.any()) {
    flush_tlb_multi(mm, &info);
  } else if (mm == kst().cpu_tlbstate[cpu].loaded_mm) {
    flush_tlb_func(cpu, &info);
  } else {
    // Linux leaves this CPU's bit and relies on tlb_gen at the next switch-in; without
    // generations, dropping the bit gives the same "flush on switch-in".
    mm_cpumask(mm)->reset(cpu);
  }
}

// arch/x86/mm/tlb.c: flush_tlb_local (native_flush_tlb_local: a CR3 reload).
void flush_tlb_local() {
  hw::Cpu* c = this_cpu_hw();
  hw::Fault f = c->WriteCr3(c->cr3());
  BUG_ON(!f.ok());
  count_vm_event(NR_TLB_LOCAL_FLUSH_ALL);
}

// arch/x86/mm/tlb.c: flush_tlb_one_user (INVLPG in the current PCID).
void flush_tlb_one_user(unsigned long addr) {
  this_cpu_hw()->Invlpg(hw::VirtAddr(addr));
  count_vm_event(NR_TLB_LOCAL_FLUSH_ONE);
}

// arch/x86/mm/tlb.c
void switch_mm_irqs_off(mm_struct* /*prev*/, mm_struct* next, task_struct* /*tsk*/) {
  int cpu = smp_processor_id();
  hw::Cpu* c = this_cpu_hw();
  tlb_state& ts = kst().cpu_tlbstate[cpu];
  BUG_ON(next == nullptr || next->pgd == nullptr);
  u16 pcid = cpu_has_pcid(c) ? next->context.pcid : 0;

  if (ts.loaded_mm == next && mm_cpumask(next)->test(cpu)) {
    // Same mm and still in its mask: every flush reached this CPU. Nothing to do, but
    // check CR3 agrees (a cheap invariant of the model).
    VM_BUG_ON((c->cr3() & PTE_PFN_MASK) != __pa(next->pgd));
    return;
  }
  // Not in the mask: shootdowns skipped this CPU since it last ran next (or never ran
  // it, or another mm used the PCID), so its entries for the PCID may be stale.
  bool need_flush = !mm_cpumask(next)->test(cpu);
  mm_cpumask(next)->set(cpu);
  load_new_mm_cr3(c, next->pgd, pcid, !need_flush);
  ts.loaded_mm = next;
  ts.loaded_pcid = pcid;
  trace_event("switch_mm", "cpu=%d pcid=%u flush=%d", cpu, static_cast<unsigned>(pcid),
              need_flush ? 1 : 0);
}

// include/linux/mmu_context.h
void switch_mm(mm_struct* prev, mm_struct* next, task_struct* tsk) {
  switch_mm_irqs_off(prev, next, tsk);
}

// DEVIATION(tlb): Linux never frees page tables a CPU might still walk, because the
// exiting CPU has switched to init_mm (swapper_pg_dir) before __mmdrop. Here the same is
// done explicitly: every CPU that has `mm` loaded switches to an empty top-level table.
// The zero page serves as that table: it is all zeros (512 non-present PML4 entries) and
// is never written.
void tlb_mm_teardown(mm_struct* mm) {
  int ncpus = static_cast<int>(kst().cpus.size());
  for (int cpu = 0; cpu < ncpus; ++cpu) {
    tlb_state& ts = kst().cpu_tlbstate[cpu];
    if (ts.loaded_mm != mm) continue;
    hw::Cpu* c = kst().cpus[cpu];
    hw::Fault f = c->WriteCr3(page_to_pfn(kst().zero_page) << PAGE_SHIFT);
    BUG_ON(!f.ok());
    ts.loaded_mm = nullptr;
    ts.loaded_pcid = 0;
  }
  mm_cpumask(mm)->reset();
}

// ---- the arch half of the mmu_gather ----

// arch/x86/include/asm/tlb.h: tlb_flush.
void tlb_flush(mmu_gather* tlb) {
  unsigned long start = 0, end = TLB_FLUSH_ALL;
  unsigned int stride_shift = tlb_get_unmap_shift(tlb);
  if (!tlb->fullmm && !tlb->need_flush_all) {
    start = tlb->start;
    end = tlb->end;
  }
  flush_tlb_mm_range(tlb->mm, start, end, stride_shift, tlb->freed_tables);
}

// include/asm-generic/tlb.h + arch/x86/mm/pgtable.c ___pte_free_tlb
void pte_free_tlb(mmu_gather* tlb, page* pte_page, unsigned long address) {
  tlb_flush_pmd_range(tlb, address, PAGE_SIZE);
  tlb->freed_tables = 1;
  pagetable_dtor(pte_page);
  tlb_remove_table(tlb, pte_page);
}

// include/asm-generic/tlb.h + arch/x86/mm/pgtable.c ___pmd_free_tlb
void pmd_free_tlb(mmu_gather* tlb, pmd_t* pmd, unsigned long address) {
  tlb_flush_pud_range(tlb, address, PAGE_SIZE);
  tlb->freed_tables = 1;
  page* p = virt_to_page(pmd);
  pagetable_dtor(p);
  tlb_remove_table(tlb, p);
}

// include/asm-generic/tlb.h + arch/x86/mm/pgtable.c ___pud_free_tlb
void pud_free_tlb(mmu_gather* tlb, pud_t* pud, unsigned long address) {
  tlb_flush_p4d_range(tlb, address, PAGE_SIZE);
  tlb->freed_tables = 1;
  page* p = virt_to_page(pud);
  pagetable_dtor(p);
  tlb_remove_table(tlb, p);
}

}  // namespace kernel
