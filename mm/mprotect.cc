// mm/mprotect.cc: mprotect.
//
// Port of mm/mprotect.c at Linux 6.18 (do_mprotect_pkey, mprotect_fixup,
// change_protection -> change_pte_range, can_change_pte_writable) and of the x86
// pte_needs_flush rule (arch/x86/include/asm/tlbflush.h).
//
// Also change_huge_pmd / can_change_pmd_writable of mm/huge_memory.c (a whole THP).
//
// Deviations (grep "DEVIATION(mprotect)"): no pkey_mprotect (pkey must be -1), no PROT_GROWSDOWN/UP
// range extension (rejected with -EINVAL), no NUMA hinting, no soft-dirty or uffd-wp, no
// VM accounting.
#include "mm/arch/x86/pkeys.h"
#include "mm/huge_mm.h"
#include "mm/sched_hooks.h"
#include "mm/trace.h"
#include "mm/vma.h"

namespace kernel {
namespace {

inline constexpr unsigned long MM_CP_TRY_CHANGE_WRITABLE = 1UL << 0;

// arch/x86/include/asm/tlbflush.h: pte_flags_need_flush (access bit ignored).
bool pte_flags_need_flush(pteval_t oldflags, pteval_t newflags) {
  const pteval_t flush_on_clear = _PAGE_DIRTY | _PAGE_PRESENT | _PAGE_ACCESSED;
  const pteval_t flush_on_change = _PAGE_RW | _PAGE_USER | _PAGE_PWT | _PAGE_PCD | _PAGE_PSE |
                                   _PAGE_GLOBAL | _PAGE_NX;
  pteval_t diff = (oldflags ^ newflags) & ~_PAGE_ACCESSED;
  if (diff & oldflags & flush_on_clear) return true;
  if (diff & flush_on_change) return true;
  return false;
}

// arch/x86/include/asm/tlbflush.h
bool pte_needs_flush(pte_t oldpte, pte_t newpte) {
  if (!(pte_flags(oldpte) & _PAGE_PRESENT)) return false;
  if (pte_pfn(oldpte) != pte_pfn(newpte)) return true;
  return pte_flags_need_flush(pte_flags(oldpte), pte_flags(newpte));
}

// mm/mprotect.c: may a write-enabled VMA's PTE be made writable right away?
bool can_change_pte_writable(vm_area_struct* vma, unsigned long addr, pte_t pte) {
  if (WARN_ON_ONCE(!(vma->vm_flags & VM_WRITE))) return false;
  if (pte_protnone(pte)) return false;
  if (!(vma->vm_flags & VM_SHARED)) {
    // Only exclusive anon pages: the write fault would map those writable anyway.
    page* p = vm_normal_page(vma, addr, pte);
    return p && PageAnon(p) && PageAnonExclusive(p);
  }
  return pte_dirty(pte);
}

// mm/mprotect.c
long change_pte_range(mmu_gather* tlb, vm_area_struct* vma, pmd_t* pmd, unsigned long addr,
                      unsigned long end, pgprot_t newprot, unsigned long cp_flags) {
  long pages = 0;
  spinlock_t* ptl;
  pte_t* pte = pte_offset_map_lock(vma->vm_mm, pmd, addr, &ptl);
  if (pte == nullptr) return 0;
  pte_t* start_pte = pte;
  do {
    pte_t oldpte = ptep_get(pte);
    if (!pte_present(oldpte)) continue;  // none or a swap entry: no protection bits to change
    // ptep_modify_prot_start / _commit: clear, compute, set.
    oldpte = ptep_get_and_clear(vma->vm_mm, addr, pte);
    pte_t ptent = pte_modify(oldpte, newprot);
    if ((cp_flags & MM_CP_TRY_CHANGE_WRITABLE) && !pte_write(ptent) &&
        can_change_pte_writable(vma, addr, ptent))
      ptent = pte_mkwrite(ptent, vma);
    set_pte_at(vma->vm_mm, addr, pte, ptent);
    if (pte_needs_flush(oldpte, ptent)) tlb_flush_pte_range(tlb, addr, PAGE_SIZE);
    pages++;
  } while (pte++, addr += PAGE_SIZE, addr != end);
  pte_unmap_unlock(start_pte, ptl);
  return pages;
}

// mm/huge_memory.c: can_change_pmd_writable (no soft-dirty, no uffd-wp).
bool can_change_pmd_writable(vm_area_struct* vma, unsigned long /*addr*/, pmd_t pmd) {
  if (WARN_ON_ONCE(!(vma->vm_flags & VM_WRITE))) return false;
  if (pmd_protnone(pmd)) return false;
  if (!(vma->vm_flags & VM_SHARED)) {
    // vm_normal_page_pmd: the huge zero folio is special, never writable.
    if (is_huge_zero_pmd(pmd)) return false;
    page* p = pmd_page(pmd);
    return PageAnon(p) && PageAnonExclusive(p);
  }
  return pmd_dirty(pmd);
}

// mm/huge_memory.c: change_huge_pmd. mprotect of a whole huge page: HPAGE_PMD_NR, or 0
// if the pmd is no longer huge. The TLB flush goes through the gather.
long change_huge_pmd(mmu_gather* tlb, vm_area_struct* vma, pmd_t* pmd, unsigned long addr,
                     pgprot_t newprot, unsigned long cp_flags) {
  spinlock_t* ptl = __pmd_trans_huge_lock(pmd, vma);
  if (ptl == nullptr) return 0;
  // pmdp_invalidate_ad: x86 needs no flush of its own here (the gather flushes).
  pmd_t oldpmd = *pmd;
  set_pmd(pmd, __pmd(pmd_val(oldpmd) & ~_PAGE_PRESENT));
  pmd_t entry = pmd_modify(oldpmd, newprot);
  if ((cp_flags & MM_CP_TRY_CHANGE_WRITABLE) && !pmd_write(entry) &&
      can_change_pmd_writable(vma, addr, entry))
    entry = pmd_mkwrite(entry, vma);
  set_pmd_at(vma->vm_mm, addr, pmd, entry);
  // huge_pmd_needs_flush
  if (pte_needs_flush(__pmd_to_pte(oldpmd), __pmd_to_pte(entry)))
    tlb_flush_pmd_range(tlb, addr, HPAGE_PMD_SIZE);
  spin_unlock(ptl);
  return HPAGE_PMD_NR;
}

// mm/mprotect.c: change_protection and its pmd/pud/p4d walkers.
long change_protection(mmu_gather* tlb, vm_area_struct* vma, unsigned long start,
                       unsigned long end, unsigned long cp_flags) {
  pgprot_t newprot = vma->vm_page_prot;
  long pages = 0;
  unsigned long addr = start, next;
  pgd_t* pgd = pgd_offset(vma->vm_mm, addr);
  do {
    next = pgd_addr_end(addr, end);
    p4d_t* p4d = p4d_offset(pgd, addr);
    if (p4d_none(*p4d)) continue;
    unsigned long p4d_end = next;
    unsigned long a = addr, n1;
    pud_t* pud = pud_offset(p4d, a);
    do {
      n1 = pud_addr_end(a, p4d_end);
      if (pud_none(*pud)) continue;
      unsigned long b = a, n2;
      pmd_t* pmd = pmd_offset(pud, b);
      do {
        n2 = pmd_addr_end(b, n1);
        if (pmd_trans_huge(*pmd)) {
          if (n2 - b != HPAGE_PMD_SIZE) {
            __split_huge_pmd(vma, pmd, b, false);
          } else {
            long ret = change_huge_pmd(tlb, vma, pmd, b, newprot, cp_flags);
            if (ret) {
              pages += ret;
              continue;  // the huge pmd was handled
            }
          }
          // fall through: the huge pmd was just split
        }
        if (pmd_none(*pmd)) continue;
        pages += change_pte_range(tlb, vma, pmd, b, n2, newprot, cp_flags);
      } while (pmd++, cond_resched(), b = n2, b != n1);  // change_pmd_range's "next:"
    } while (pud++, a = n1, a != p4d_end);
  } while (pgd++, addr = next, addr != end);
  return pages;
}

// include/linux/mm.h: vma_wants_manual_pte_write_upgrade. Private writable mappings
// must decide PTE by PTE (COW); shared ones only when they are write-notified (their
// vm_page_prot is read-only, but a dirty PTE may be made writable at once).
bool vma_wants_manual_pte_write_upgrade(vm_area_struct* vma) {
  if (vma->vm_flags & VM_SHARED) return vma_wants_writenotify(vma, vma->vm_page_prot);
  return vma->vm_flags & VM_WRITE;
}

// mm/mprotect.c
int mprotect_fixup(mm_struct* mm, mmu_gather* tlb, vm_area_struct* vma, vm_area_struct** pprev,
                   unsigned long start, unsigned long end, vm_flags_t newflags) {
  vm_flags_t oldflags = vma->vm_flags;
  long nrpages = static_cast<long>((end - start) >> PAGE_SHIFT);
  unsigned long mm_cp_flags = 0;
  if (newflags == oldflags) {
    *pprev = vma;
    return 0;
  }
  // A private mapping becoming writable is charged (VM_ACCOUNT). Becoming read-only
  // keeps the charge, except for anonymous memory that never had a page (no anon_vma):
  // it gives the charge back, so it can merge with read-only neighbours (6.5+).
  if (newflags & VM_WRITE) {
    if (!(oldflags & (VM_ACCOUNT | VM_WRITE | VM_SHARED | VM_NORESERVE))) newflags |= VM_ACCOUNT;
  } else if ((oldflags & VM_ACCOUNT) && vma_is_anonymous(vma) && !vma->anon_vma) {
    newflags &= ~VM_ACCOUNT;
  }

  vma = vma_modify_flags(mm, *pprev, vma, start, end, newflags);
  if (IS_ERR(vma)) return static_cast<int>(PTR_ERR(vma));
  *pprev = vma;
  vma->vm_flags = newflags;  // vm_flags_reset
  if (vma_wants_manual_pte_write_upgrade(vma)) mm_cp_flags |= MM_CP_TRY_CHANGE_WRITABLE;
  vma_set_page_prot(vma);
  change_protection(tlb, vma, start, end, mm_cp_flags);
  vm_stat_account(mm, oldflags, -nrpages);
  vm_stat_account(mm, newflags, nrpages);
  return 0;
}

}  // namespace

// mm/mprotect.c: mprotect(2) on current's mm. pkey must be -1 (no protection keys).
int do_mprotect_pkey(unsigned long start, size_t len, unsigned long prot, int pkey) {
  trace_call tc("do_mprotect_pkey", "start=%#lx len=%#zx prot=%#lx", start, len, prot);
  mm_struct* mm = current()->mm;
  const unsigned long grows = prot & (PROT_GROWSDOWN | PROT_GROWSUP);
  prot &= ~(PROT_GROWSDOWN | PROT_GROWSUP);
  if (grows == (PROT_GROWSDOWN | PROT_GROWSUP)) return tc.ret(-EINVAL);
  if (start & ~PAGE_MASK) return tc.ret(-EINVAL);
  if (!len) return tc.ret(0);
  len = (len + PAGE_SIZE - 1) & PAGE_MASK;
  unsigned long end = start + len;
  if (end <= start) return tc.ret(-ENOMEM);
  // arch_validate_prot (the generic one: x86 has none of its own). PROT_SEM is accepted
  // and means nothing.
  if (prot & ~(PROT_READ | PROT_WRITE | PROT_EXEC | PROT_SEM)) return tc.ret(-EINVAL);
  // DEVIATION(mprotect): no pkey_mprotect() (only plain mprotect, pkey -1, reaches here),
  // no stack-extension semantics.
  if (pkey != -1 || grows) return tc.ret(-EINVAL);

  if (mmap_write_lock_killable(mm)) return tc.ret(-EINTR);
  int error = -ENOMEM;
  vm_area_struct* vma = vma_find(mm, start, end);
  if (vma == nullptr || vma->vm_start > start) {
    mmap_write_unlock(mm);
    return tc.ret(error);
  }
  vm_area_struct* prev = vma_prev(mm, vma);
  if (start > vma->vm_start) prev = vma;

  mmu_gather tlb;
  tlb_gather_mmu(&tlb, mm);
  unsigned long nstart = start;
  unsigned long tmp = vma->vm_start;
  error = 0;
  while (vma != nullptr && vma->vm_start < end) {
    if (vma->vm_start != tmp) {
      error = -ENOMEM;  // a hole
      break;
    }
    // Each mprotect() call explicitly passes r/w/x permissions. If a permission is not
    // passed to mprotect(), it must be cleared from the VMA (and so must the old key).
    const vm_flags_t mask_off_old_flags = VM_ACCESS_FLAGS | VM_FLAGS_CLEAR;
    const int new_vma_pkey = arch_override_mprotect_pkey(vma, static_cast<int>(prot), pkey);
    vm_flags_t newflags = calc_vm_prot_bits(prot, static_cast<unsigned long>(new_vma_pkey));
    newflags |= vma->vm_flags & ~mask_off_old_flags;
    // VM_MAY* are VM_* shifted left by 4: no access beyond what the mapping may allow.
    if ((newflags & ~(newflags >> 4)) & VM_ACCESS_FLAGS) {
      error = -EACCES;
      break;
    }
    tmp = std::min(vma->vm_end, end);
    error = mprotect_fixup(mm, &tlb, vma, &prev, nstart, tmp, newflags);
    if (error) break;
    // vma_iter_end: prev now covers [nstart, tmp) and possibly more (after a merge).
    tmp = prev->vm_end;
    nstart = tmp;
    vma = find_vma(mm, tmp);
  }
  tlb_finish_mmu(&tlb);
  if (!error && tmp < end) error = -ENOMEM;
  mmap_write_unlock(mm);
  return tc.ret(error);
}

}  // namespace kernel
