// mm/arch/x86/tlb_debug.cc: checking a CPU's TLB against the page tables (debug_vm).
// No Linux counterpart: a CONFIG_DEBUG_VM-style check the simulator can make because it
// can read a TLB (DEVIATION(tlb_debug)). mm/debug_vm.cc calls it; it is the only code
// outside hw/ that reads TLB contents.
#include <string>
#include <vector>

#include "absl/strings/str_format.h"
#include "mm/arch/x86/tlb.h"
#include "mm/mm.h"

namespace kernel {
namespace {

// The mm whose translations CPU `cpu` can still use under `pcid`, or null (dead entries).
// PCID p is ASID slot p - 1 (slot 0 without PCIDs). The slot names its mm by ctx_id; its
// entries are usable if the slot is up to date with the mm's flush generation (a switch
// to the mm keeps them), or if the mm is loaded there under that slot and not lazily
// (a flush of it is in flight). Otherwise a switch to the mm flushes them first.
mm_struct* tlb_owner(int cpu, const hw::Cpu* c, uint16_t pcid,
                     const std::vector<mm_struct*>& mms) {
  const tlb_state& ts = kst().cpu_tlbstate[cpu];
  int asid = 0;
  if (c->cr4() & hw::Cpu::kCr4Pcide) asid = static_cast<int>(pcid) - 1;
  else if (pcid != 0) return nullptr;
  if (asid < 0 || asid >= TLB_NR_DYN_ASIDS) return nullptr;
  for (mm_struct* mm : mms) {
    if (ts.ctxs[asid].ctx_id != mm->context.ctx_id) continue;
    if (ts.ctxs[asid].tlb_gen == static_cast<u64>(atomic64_read(&mm->context.tlb_gen)))
      return mm;
    if (ts.loaded_mm == mm && ts.loaded_mm_asid == asid &&
        !kst().cpu_tlbstate_shared[cpu].is_lazy)
      return mm;
    return nullptr;
  }
  return nullptr;
}

// Why the TLB entry `e` for va grants more than mm's tables do now, or null.
const char* tlb_disagrees(mm_struct* mm, const hw::TlbEntry& e, unsigned long va) {
  if (e.size == hw::PageSize::k1G) return "1 GiB entry, but the kernel maps none";
  pgd_t* pgd = pgd_offset(mm, va);
  p4d_t* p4d = p4d_offset(pgd, va);
  if (!(p4d_flags(*p4d) & _PAGE_PRESENT)) return "no p4d";
  bool rw = p4d_flags(*p4d) & _PAGE_RW, us = p4d_flags(*p4d) & _PAGE_USER;
  bool nx = p4d_flags(*p4d) & _PAGE_NX;
  pud_t* pud = pud_offset(p4d, va);
  if (!(pud_flags(*pud) & _PAGE_PRESENT) || pud_leaf(*pud)) return "no pud table";
  rw &= (pud_flags(*pud) & _PAGE_RW) != 0;
  us &= (pud_flags(*pud) & _PAGE_USER) != 0;
  nx |= (pud_flags(*pud) & _PAGE_NX) != 0;
  pmd_t* pmd = pmd_offset(pud, va);
  if (!(pmd_flags(*pmd) & _PAGE_PRESENT)) return "the pmd is not present (missed flush)";
  pte_t pte;
  unsigned long pfn;
  if (pmd_leaf(*pmd)) {
    // A THP: the leaf's bits, and the frame of va inside it (a 2 MiB entry names the first).
    pte = __pte(pmd_val(*pmd));
    pfn = pmd_pfn(*pmd) + (e.size == hw::PageSize::k2M ? 0 : (va >> PAGE_SHIFT) & (PTRS_PER_PTE - 1));
  } else {
    if (e.size != hw::PageSize::k4K) return "2 MiB entry over a PTE table (missed flush)";
    rw &= (pmd_flags(*pmd) & _PAGE_RW) != 0;
    us &= (pmd_flags(*pmd) & _PAGE_USER) != 0;
    nx |= (pmd_flags(*pmd) & _PAGE_NX) != 0;
    pte = *pte_offset_kernel(pmd, va);
    if (!(pte_flags(pte) & _PAGE_PRESENT)) return "the pte is not present (missed flush)";
    pfn = pte_pfn(pte);
  }
  rw &= pte_write(pte);
  us &= (pte_flags(pte) & _PAGE_USER) != 0;
  nx |= !pte_exec(pte);
  if (pfn != e.pfn) return "the pte maps another frame (missed flush)";
  if (e.writable && !rw) return "the TLB allows writes the pte forbids (missed flush)";
  if (e.user && !us) return "the TLB allows user access the pte forbids";
  if (!e.nx && nx) return "the TLB allows execution the pte forbids";
  if (e.writable && e.dirty && !pte_dirty(pte)) return "dirty in the TLB, clean in the pte";
  return nullptr;
}

}  // namespace

// DEVIATION(tlb_debug): see the file comment.
int tlb_check_cpu(int cpu, const std::vector<mm_struct*>& mms,
                  const std::function<void(const std::string&)>& report) {
  const hw::Cpu* c = kst().cpus[cpu];
  int bad = 0;
  c->tlb().ForEachEntry([&](int level, const hw::TlbEntry& e) {
    mm_struct* mm = tlb_owner(cpu, c, e.pcid, mms);
    if (mm == nullptr || mm->pgd == nullptr) return;
    unsigned long va = e.va_base().value();
    const char* why = tlb_disagrees(mm, e, va);
    if (why == nullptr) return;
    ++bad;
    report(absl::StrFormat(
        "cpu %d TLB level %d: va %#lx -> pfn %#llx pcid %u%s%s disagrees with mm %p: %s", cpu,
        level, va, static_cast<unsigned long long>(e.pfn), static_cast<unsigned>(e.pcid),
        e.writable ? " W" : "", e.dirty ? " D" : "", static_cast<void*>(mm), why));
  });
  return bad;
}

}  // namespace kernel
