// mm/arch/x86/tlb.cc: address-space identifiers, TLB shootdowns, switch_mm, lazy TLB and
// the arch hooks of the mmu_gather.
//
// Port of arch/x86/mm/tlb.c (kern_pcid, build_cr3, choose_new_asid, load_new_mm_cr3,
// leave_mm, switch_mm, switch_mm_irqs_off, enter_lazy_tlb, initialize_tlbstate_and_flush,
// flush_tlb_func, should_flush_tlb, should_trim_cpumask, native_flush_tlb_multi,
// get_flush_tlb_info, flush_tlb_mm_range, native_flush_tlb_local / _one_user), the x86
// init_new_context (arch/x86/include/asm/mmu_context.h), arch/x86/include/asm/tlb.h's
// tlb_flush and arch/x86/mm/pgtable.c's ___p*_free_tlb at Linux 6.18. Deviations are
// listed in tlb.h. The generic mmu_gather is mm/mmu_gather.cc.
#include "mm/arch/x86/tlb.h"

#include "mm/arch/x86/pkeys.h"
#include "mm/mm.h"
#include "mm/mmu_gather.h"
#include "mm/sched_hooks.h"
#include "mm/smp.h"
#include "mm/trace.h"

namespace kernel {
namespace {

// include/trace/events/tlb.h: TLB_FLUSH_REASON, as trace_tlb_flush names them.
enum tlb_flush_reason {
  TLB_FLUSH_ON_TASK_SWITCH,
  TLB_REMOTE_SHOOTDOWN,
  TLB_LOCAL_SHOOTDOWN,
  TLB_LOCAL_MM_SHOOTDOWN,
  TLB_REMOTE_SEND_IPI,
  TLB_REMOTE_WRONG_CPU,
};

// include/trace/events/tlb.h: trace_tlb_flush (pages: TLB_FLUSH_ALL prints as -1).
void trace_tlb_flush(tlb_flush_reason reason, unsigned long pages) {
  static const char* const kReason[] = {"flush_on_task_switch", "remote_shootdown",
                                        "local_shootdown",      "local_mm_shootdown",
                                        "remote_ipi_send",      "remote_wrong_cpu"};
  trace_event("tlb_flush", "cpu=%d reason=%s pages=%ld", smp_processor_id(), kReason[reason],
              static_cast<long>(pages));
}

tlb_state& this_tlbstate() { return kst().cpu_tlbstate[kst().this_cpu]; }
tlb_state_shared& this_tlbstate_shared() { return kst().cpu_tlbstate_shared[kst().this_cpu]; }
mm_struct* init_mm() { return &kst().init_mm; }

// static_cpu_has(X86_FEATURE_PCID): cpu_init turns CR4.PCIDE on for every CPU.
bool cpu_has_pcid() { return (this_cpu_hw()->cr4() & hw::Cpu::kCr4Pcide) != 0; }

// arch/x86/include/asm/special_insns.h: __read_cr3 / write_cr3.
u64 __read_cr3() { return this_cpu_hw()->cr3(); }
void write_cr3(u64 cr3) {
  hw::Fault f = this_cpu_hw()->WriteCr3(cr3);
  BUG_ON(!f.ok());
}

// arch/x86/mm/tlb.c
u64 build_cr3(const pgd_t* pgd, u16 asid) {
  u64 cr3 = __pa(pgd);
  if (cpu_has_pcid()) {
    cr3 |= kern_pcid(asid);
  } else {
    VM_WARN_ON_ONCE(asid != 0);
  }
  return cr3;
}

// arch/x86/mm/tlb.c
u64 build_cr3_noflush(const pgd_t* pgd, u16 asid) {
  VM_WARN_ON_ONCE(!cpu_has_pcid());
  return build_cr3(pgd, asid) | hw::Cpu::kCr3NoFlush;
}

// arch/x86/mm/tlb.c
struct new_asid {
  u16 asid;
  bool need_flush;
};

// arch/x86/mm/tlb.c: the ASID slot `next` gets on this CPU. The slot it already owns, to
// be flushed if a flush of next happened since this CPU last caught up; otherwise the
// next slot round robin (whoever held it loses its entries: the CR3 load flushes).
new_asid choose_new_asid(mm_struct* next, u64 next_tlb_gen) {
  tlb_state& ts = this_tlbstate();
  new_asid ns;
  if (!cpu_has_pcid()) {
    ns.asid = 0;
    ns.need_flush = true;
    return ns;
  }
  for (u16 asid = 0; asid < TLB_NR_DYN_ASIDS; asid++) {
    if (ts.ctxs[asid].ctx_id != next->context.ctx_id) continue;
    ns.asid = asid;
    ns.need_flush = ts.ctxs[asid].tlb_gen < next_tlb_gen;
    return ns;
  }
  // No slot on this CPU yet: take one.
  ns.asid = static_cast<u16>(++ts.next_asid - 1);
  if (ns.asid >= TLB_NR_DYN_ASIDS) {
    ns.asid = 0;
    ts.next_asid = 1;
  }
  ns.need_flush = true;
  return ns;
}

// arch/x86/mm/tlb.c (no PTI: no user ASID to invalidate).
void load_new_mm_cr3(const pgd_t* pgdir, u16 new_asid, bool need_flush) {
  u64 new_mm_cr3;
  if (need_flush) {
    new_mm_cr3 = build_cr3(pgdir, new_asid);
  } else {
    new_mm_cr3 = build_cr3_noflush(pgdir, new_asid);
  }
  write_cr3(new_mm_cr3);
}

// arch/x86/mm/tlb.c: native_flush_tlb_global with INVPCID (everything, global too).
[[maybe_unused]] void __flush_tlb_all() {  // only CONFIG_DEBUG_VM builds call it
  hw::Fault f = this_cpu_hw()->Invpcid(2, 0, hw::VirtAddr(0));
  BUG_ON(!f.ok());
}

// arch/x86/mm/tlb.c: run on each CPU the flush reaches (the initiator included), with
// smp_processor_id() that CPU. Brings this CPU's TLB for its loaded mm up to the mm's
// latest generation: nothing if it is there already, the requested pages if this flush
// is the only one it missed, else everything.
void flush_tlb_func(void* info) {
  // Three generations: mm_tlb_gen, the mm's latest; local_tlb_gen, what this CPU has
  // caught up to; f->new_tlb_gen, what the initiator wants it to catch up to.
  const flush_tlb_info* f = static_cast<const flush_tlb_info*>(info);
  tlb_state& ts = this_tlbstate();
  mm_struct* loaded_mm = ts.loaded_mm;
  u16 loaded_mm_asid = ts.loaded_mm_asid;
  bool local = static_cast<unsigned int>(smp_processor_id()) == f->initiating_cpu;
  unsigned long nr_invalidate = 0;

  if (!local) count_vm_event(NR_TLB_REMOTE_FLUSH_RECEIVED);

  // The CPU left the mm and stayed in its mask (the lazy rule): leave the mask now.
  if (f->mm != nullptr && f->mm != loaded_mm) {
    mm_cpumask(f->mm)->reset(smp_processor_id());
    trace_tlb_flush(TLB_REMOTE_WRONG_CPU, 0);
    return;
  }

  if (unlikely(loaded_mm == init_mm())) return;

  VM_WARN_ON_ONCE(loaded_mm->context.ctx_id != ts.ctxs[loaded_mm_asid].ctx_id);

  if (this_tlbstate_shared().is_lazy) {
    // A kernel thread borrows the mm and page tables are going away under it (only a
    // freed_tables flush reaches a lazy CPU): move to init_mm, which costs no more than
    // flushing the paging-structure caches would.
    switch_mm_irqs_off(nullptr, init_mm(), nullptr);
    return;
  }

  u64 local_tlb_gen = ts.ctxs[loaded_mm_asid].tlb_gen;
  if (unlikely(f->new_tlb_gen != TLB_GENERATION_INVALID && f->new_tlb_gen <= local_tlb_gen)) {
    // Already up to date with what was asked (an earlier full flush covered it).
    return;
  }

  u64 mm_tlb_gen = static_cast<u64>(atomic64_read(&loaded_mm->context.tlb_gen));
  if (unlikely(local_tlb_gen == mm_tlb_gen)) {
    // Another flush's handler caught this CPU all the way up.
    goto done;
  }
  WARN_ON_ONCE(local_tlb_gen > mm_tlb_gen);
  WARN_ON_ONCE(f->new_tlb_gen > mm_tlb_gen);

  // Partial only if this flush is exactly the one generation missing (so the invariant
  // "every flush up to local_tlb_gen was done" holds) and it brings the CPU fully up to
  // date; otherwise a full flush.
  if (f->end != TLB_FLUSH_ALL && f->new_tlb_gen == local_tlb_gen + 1 &&
      f->new_tlb_gen == mm_tlb_gen) {
    unsigned long addr = f->start;
    VM_WARN_ON_ONCE(f->new_tlb_gen == TLB_GENERATION_INVALID);
    VM_WARN_ON_ONCE(f->mm == nullptr);
    nr_invalidate = (f->end - f->start) >> f->stride_shift;
    while (addr < f->end) {
      flush_tlb_one_user(addr);
      addr += 1UL << f->stride_shift;
    }
    if (local) count_vm_events(NR_TLB_LOCAL_FLUSH_ONE, static_cast<long>(nr_invalidate));
  } else {
    nr_invalidate = TLB_FLUSH_ALL;
    flush_tlb_local();
    if (local) count_vm_event(NR_TLB_LOCAL_FLUSH_ALL);
  }

  // Both paths brought this CPU to mm_tlb_gen.
  ts.ctxs[loaded_mm_asid].tlb_gen = mm_tlb_gen;

done:
  trace_tlb_flush(!local ? TLB_REMOTE_SHOOTDOWN
                         : (f->mm == nullptr) ? TLB_LOCAL_SHOOTDOWN : TLB_LOCAL_MM_SHOOTDOWN,
                  nr_invalidate);
}

// arch/x86/mm/tlb.c: does CPU `cpu` of the mask get the IPI of a flush that frees no
// page tables?
bool should_flush_tlb(int cpu, void* data) {
  mm_struct* loaded_mm = kst().cpu_tlbstate[cpu].loaded_mm;
  flush_tlb_info* info = static_cast<flush_tlb_info*>(data);

  // A lazy CPU flushes at its next switch to a user mm.
  if (kst().cpu_tlbstate_shared[cpu].is_lazy) return false;
  // No mm: a kernel-address flush.
  if (info->mm == nullptr) return true;
  // Mid-switch, the CPU may hold either mm's state: flush.
  if (loaded_mm == LOADED_MM_SWITCHING) return true;
  // Running the mm, not lazily.
  if (loaded_mm == info->mm) return true;
  // In the mask but running another mm: only now and then, to trim the mask.
  if (info->trim_cpumask) return true;
  return false;
}

// arch/x86/mm/tlb.c: at most once a second (HZ jiffies) per mm.
bool should_trim_cpumask(mm_struct* mm) {
  if (time_after(kst().jiffies, mm->context.next_trim_cpumask)) {
    mm->context.next_trim_cpumask = kst().jiffies + HZ;
    return true;
  }
  return false;
}

// arch/x86/mm/tlb.c: the IPIs of a flush, and this CPU's own handler if it is in the mask.
void native_flush_tlb_multi(const std::bitset<NR_CPUS>& cpumask, const flush_tlb_info* info) {
  // Counted and traced even when no IPI ends up being sent (as Linux does).
  count_vm_event(NR_TLB_REMOTE_FLUSH);
  if (info->end == TLB_FLUSH_ALL)
    trace_tlb_flush(TLB_REMOTE_SEND_IPI, TLB_FLUSH_ALL);
  else
    trace_tlb_flush(TLB_REMOTE_SEND_IPI, (info->end - info->start) >> PAGE_SHIFT);

  // Lazy CPUs may be skipped unless page tables are freed: a CPU that still has them
  // loaded could walk into a freed table page by speculation, so every CPU is told.
  void* arg = const_cast<flush_tlb_info*>(info);
  if (info->freed_tables)
    on_each_cpu_cond_mask(nullptr, flush_tlb_func, arg, true, cpumask);  // on_each_cpu_mask
  else
    on_each_cpu_cond_mask(should_flush_tlb, flush_tlb_func, arg, true, cpumask);
}

// arch/x86/mm/tlb.c: the flush request of flush_tlb_mm_range; past the ceiling a full
// flush is cheaper than that many INVLPGs.
void get_flush_tlb_info(flush_tlb_info* info, mm_struct* mm, unsigned long start,
                        unsigned long end, unsigned int stride_shift, bool freed_tables,
                        u64 new_tlb_gen) {
  if (((end - start) >> stride_shift) > tlb_single_page_flush_ceiling) {
    start = 0;
    end = TLB_FLUSH_ALL;
  }
  info->start = start;
  info->end = end;
  info->mm = mm;
  info->stride_shift = static_cast<u8>(stride_shift);
  info->freed_tables = freed_tables;
  info->new_tlb_gen = new_tlb_gen;
  info->initiating_cpu = static_cast<unsigned int>(smp_processor_id());
  info->trim_cpumask = 0;
}

}  // namespace

// arch/x86/include/asm/mmu_context.h
int init_new_context(task_struct* /*tsk*/, mm_struct* mm) {
  mm->context.ctx_id = static_cast<u64>(atomic64_inc_return(&kst().last_mm_ctx_id));
  atomic64_set(&mm->context.tlb_gen, 0);
  mm->context.next_trim_cpumask = kst().jiffies + HZ;
  mm_init_pkeys(mm);  // CONFIG_X86_INTEL_MEMORY_PROTECTION_KEYS
  return 0;
}

// arch/x86/mm/tlb.c
void flush_tlb_mm_range(mm_struct* mm, unsigned long start, unsigned long end,
                        unsigned int stride_shift, bool freed_tables) {
  preempt_disable();  // get_cpu
  const int cpu = smp_processor_id();

  // Also what orders this flush against a concurrent switch_mm's read of tlb_gen.
  u64 new_tlb_gen = inc_mm_tlb_gen(mm);

  flush_tlb_info info;
  get_flush_tlb_info(&info, mm, start, end, stride_shift, freed_tables, new_tlb_gen);

  // flush_tlb_multi is for other CPUs; a flush only this CPU needs runs directly.
  std::bitset<NR_CPUS> others = *mm_cpumask(mm);
  others.reset(cpu);
  if (others.any()) {  // cpumask_any_but(mm_cpumask(mm), cpu) < nr_cpu_ids
    info.trim_cpumask = should_trim_cpumask(mm);
    // kernel/smp.c works on its own copy of the mask (cfd->cpumask): handlers clear bits
    // of mm_cpumask as they run.
    const std::bitset<NR_CPUS> mask = *mm_cpumask(mm);
    native_flush_tlb_multi(mask, &info);  // flush_tlb_multi
  } else if (mm == this_tlbstate().loaded_mm) {
    flush_tlb_func(&info);  // with interrupts off
  }

  preempt_enable();  // put_flush_tlb_info, put_cpu
}

// arch/x86/mm/tlb.c: native_flush_tlb_local. Rewriting CR3 as read (no no-flush bit)
// drops the loaded PCID's non-global entries.
void flush_tlb_local() { write_cr3(__read_cr3()); }

// arch/x86/mm/tlb.c: native_flush_tlb_one_user. INVLPG in the loaded PCID (no PTI, so no
// user PCID to invalidate as well).
void flush_tlb_one_user(unsigned long addr) { this_cpu_hw()->Invlpg(hw::VirtAddr(addr)); }

// arch/x86/mm/tlb.c
void leave_mm() {
  mm_struct* loaded_mm = this_tlbstate().loaded_mm;
  // Lazy on init_mm already: no user entries to worry about.
  if (loaded_mm == init_mm()) return;
  WARN_ON(!this_tlbstate_shared().is_lazy);
  switch_mm(nullptr, init_mm(), nullptr);
}

// arch/x86/mm/tlb.c
void switch_mm(mm_struct* /*prev*/, mm_struct* next, task_struct* tsk) {
  switch_mm_irqs_off(nullptr, next, tsk);  // with interrupts saved and off
}

// arch/x86/mm/tlb.c. x86 ignores the caller's idea of prev: cpu_tlbstate.loaded_mm is
// what CR3 holds (a kernel thread's active_mm may have been moved to init_mm since).
void switch_mm_irqs_off(mm_struct* /*unused*/, mm_struct* next, task_struct* /*tsk*/) {
  tlb_state& ts = this_tlbstate();
  mm_struct* prev = ts.loaded_mm;
  u16 prev_asid = ts.loaded_mm_asid;
  bool was_lazy = this_tlbstate_shared().is_lazy;
  const int cpu = smp_processor_id();
  new_asid ns;
  u64 next_tlb_gen;
  BUG_ON(next == nullptr || next->pgd == nullptr);

#ifdef CONFIG_DEBUG_VM
  // CR3 must be what cpu_tlbstate says; if not, recover as Linux does (a full flush).
  if (prev != nullptr && WARN_ON_ONCE(__read_cr3() != build_cr3(prev->pgd, prev_asid)))
    __flush_tlb_all();
#endif
  if (was_lazy) this_tlbstate_shared().is_lazy = false;

  if (prev == next) {
    // Not switching mms.
    VM_WARN_ON_ONCE(ts.ctxs[prev_asid].ctx_id != next->context.ctx_id);
    // Even lazy, the CPU stays in the mask (should_flush_tlb reads is_lazy instead).
#ifdef CONFIG_DEBUG_VM
    if (WARN_ON_ONCE(prev != init_mm() && !mm_cpumask(next)->test(cpu)))
      mm_cpumask(next)->set(cpu);
#endif
    // Another thread of the same process: nothing to flush.
    if (!was_lazy) return;
    // Back from lazy mode: flushes skipped this CPU meanwhile if the generation moved.
    next_tlb_gen = static_cast<u64>(atomic64_read(&next->context.tlb_gen));
    if (ts.ctxs[prev_asid].tlb_gen == next_tlb_gen) return;
    ns.asid = prev_asid;
    ns.need_flush = true;
  } else {
    // The CPU stays in prev's mask (lazy cpumask): a later flush of prev clears it.
    VM_WARN_ON_ONCE(prev != init_mm() && prev != nullptr && !mm_cpumask(prev)->test(cpu));
    // CR3 is about to change (should_flush_tlb then flushes to be safe).
    ts.loaded_mm = LOADED_MM_SWITCHING;
    // Start receiving IPIs, then read tlb_gen.
    if (next != init_mm() && !mm_cpumask(next)->test(cpu)) mm_cpumask(next)->set(cpu);
    next_tlb_gen = static_cast<u64>(atomic64_read(&next->context.tlb_gen));
    ns = choose_new_asid(next, next_tlb_gen);
  }

  if (ns.need_flush) {
    ts.ctxs[ns.asid].ctx_id = next->context.ctx_id;
    ts.ctxs[ns.asid].tlb_gen = next_tlb_gen;
    load_new_mm_cr3(next->pgd, ns.asid, true);
  } else {
    // The slot is up to date: keep its entries.
    load_new_mm_cr3(next->pgd, ns.asid, false);
  }
  // trace_tlb_flush(TLB_FLUSH_ON_TASK_SWITCH, need_flush ? TLB_FLUSH_ALL : 0).
  trace_event("switch_mm", "cpu=%d pcid=%u flush=%d", cpu,
              static_cast<unsigned>(cpu_has_pcid() ? kern_pcid(ns.asid) : 0),
              ns.need_flush ? 1 : 0);

  ts.loaded_mm = next;
  ts.loaded_mm_asid = ns.asid;
}

// arch/x86/mm/tlb.c: the scheduler is about to run a kernel thread (or a task that gave
// its mm up) on this CPU; the previous mm stays loaded until a real switch.
void enter_lazy_tlb(mm_struct* /*mm*/, task_struct* /*tsk*/) {
  if (this_tlbstate().loaded_mm == init_mm()) return;
  this_tlbstate_shared().is_lazy = true;
}

// arch/x86/mm/tlb.c, at boot. DEVIATION(tlb): also does what head_64.S and the static
// initialiser of cpu_tlbstate do in Linux: CR3 is loaded here, not asserted.
void initialize_tlbstate_and_flush() {
  tlb_state& ts = this_tlbstate();
  ts.loaded_mm = init_mm();
  mm_struct* mm = ts.loaded_mm;
  u64 tlb_gen = static_cast<u64>(atomic64_read(&init_mm()->context.tlb_gen));
  // ASID 0, and a flush.
  write_cr3(build_cr3(mm->pgd, 0));
  ts.loaded_mm_asid = 0;
  ts.next_asid = 1;
  ts.ctxs[0].ctx_id = mm->context.ctx_id;
  ts.ctxs[0].tlb_gen = tlb_gen;
  for (int i = 1; i < TLB_NR_DYN_ASIDS; i++) ts.ctxs[i].ctx_id = 0;
  this_tlbstate_shared().is_lazy = false;
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
