// mm/arch/x86/pgtable.h: page-table accessors for x86-64 with 4-level paging.
//
// Port of arch/x86/include/asm/pgtable.h, pgtable_64.h, pgalloc.h and the generic
// include/linux/pgtable.h / pgtable-nop4d.h helpers, and arch/x86/include/asm/pgtable-invert.h,
// at Linux 6.18 (pte_mkwrite takes the vma, as since 6.6; pte_offset_map may return null, as
// since 6.5).
//
// Two encodings make a raw entry differ from "flags | pfn << 12", as on a 6.6+ x86 kernel:
//  - SavedDirty (bit 58): a dirty PTE that is write-protected moves Dirty to SavedDirty
//    (Write=0,Dirty=1 is a shadow-stack page to the CPU), and making it writable moves it
//    back; pte_dirty tests both.
//  - L1TF: a non-present, non-zero entry (PROT_NONE here; there is no swap) stores its frame
//    number inverted, so a speculative walk cannot reach real memory through it; pte_pfn
//    and pfn_pte undo/apply the inversion, pte_modify flips it when presence changes.
//
// The tables are real: they live in frames of simulated physical memory, and a pte_t* (or
// pmd_t*, ...) is a host pointer into such a frame through the direct map (__va), so the
// hw walker and the kernel read and write the same bytes. A walk is pointer arithmetic.
//
// Deviations (grep "DEVIATION(pgtable)"):
//  - No shadow stacks (VM_SHADOW_STACK, X86_FEATURE_USER_SHSTK): pte_write is _PAGE_RW
//    alone and pte_mkwrite never makes a shadow-stack entry.
//  - The p4d level is folded into the pgd as with CONFIG_PGTABLE_LEVELS=4: pgd_none() is
//    always false and p4d_offset() returns the pgd slot itself.
//  - Page-table locks are not split: every pte/pmd lock is mm->page_table_lock.
//  - The pgd page is accounted like the lower levels (PGTY_table, NR_PAGETABLE). Its kernel
//    half (slots KERNEL_PGD_BOUNDARY..511) is copied from swapper_pg_dir by pgd_alloc, as
//    in Linux (mm/arch/x86/init.h has the layout); mm/ itself still reaches memory through
//    the host's view of the direct map, never through a simulated CPU.
#ifndef MMSIM_MM_ARCH_X86_PGTABLE_H_
#define MMSIM_MM_ARCH_X86_PGTABLE_H_

#include "mm/arch/x86/pgtable_types.h"
#include "mm/kernel.h"
#include "mm/mm_types.h"
#include "mm/page-flags.h"
#include "mm/spinlock.h"

namespace kernel {

struct mmu_gather;

// _PAGE_KNL_ERRATUM_MASK: A and D may be set by hardware on a not-present entry (Xeon Phi
// erratum); *_none() ignores them.
inline constexpr pteval_t _PAGE_KNL_ERRATUM_MASK = _PAGE_DIRTY | _PAGE_ACCESSED;

// ---- direct map helpers used below (mm.h has the general __va/__pa) ----
inline void* __pt_va(unsigned long pa) { return kst().phys->ptr(hw::PhysAddr(pa)); }
inline unsigned long __pt_pa(const void* va) {
  return static_cast<unsigned long>(static_cast<const uint8_t*>(va) -
                                    kst().phys->ptr(hw::PhysAddr(0)));
}
inline page* __pt_pfn_to_page(unsigned long pfn) { return kst().mem_map + pfn; }
inline unsigned long __pt_page_to_pfn(const page* p) {
  return static_cast<unsigned long>(p - kst().mem_map);
}

// ---- indices ----
inline unsigned long pgd_index(unsigned long address) {
  return (address >> PGDIR_SHIFT) & (PTRS_PER_PGD - 1);
}
inline unsigned long p4d_index(unsigned long /*address*/) { return 0; }
inline unsigned long pud_index(unsigned long address) {
  return (address >> PUD_SHIFT) & (PTRS_PER_PUD - 1);
}
inline unsigned long pmd_index(unsigned long address) {
  return (address >> PMD_SHIFT) & (PTRS_PER_PMD - 1);
}
inline unsigned long pte_index(unsigned long address) {
  return (address >> PAGE_SHIFT) & (PTRS_PER_PTE - 1);
}

// include/linux/pgtable.h: the end of the current entry's span, clipped to `end`.
inline unsigned long pgd_addr_end(unsigned long addr, unsigned long end) {
  unsigned long boundary = (addr + PGDIR_SIZE) & PGDIR_MASK;
  return boundary - 1 < end - 1 ? boundary : end;
}
inline unsigned long p4d_addr_end(unsigned long /*addr*/, unsigned long end) { return end; }
inline unsigned long pud_addr_end(unsigned long addr, unsigned long end) {
  unsigned long boundary = (addr + PUD_SIZE) & PUD_MASK;
  return boundary - 1 < end - 1 ? boundary : end;
}
inline unsigned long pmd_addr_end(unsigned long addr, unsigned long end) {
  unsigned long boundary = (addr + PMD_SIZE) & PMD_MASK;
  return boundary - 1 < end - 1 ? boundary : end;
}

// ---- L1TF inversion (arch/x86/include/asm/pgtable-invert.h) ----
// A non-present entry that is not zero has its frame bits inverted.
inline bool __pte_needs_invert(uint64_t val) { return val && !(val & _PAGE_PRESENT); }
// What to xor the entry with to get the real frame bits back.
inline uint64_t protnone_mask(uint64_t val) { return __pte_needs_invert(val) ? ~0ULL : 0; }
// On a change of presence, invert the `mask` bits of the new value.
inline uint64_t flip_protnone_guard(uint64_t oldval, uint64_t val, uint64_t mask) {
  if (__pte_needs_invert(oldval) != __pte_needs_invert(val)) val = (val & ~mask) | (~val & mask);
  return val;
}

// ---- flags and pfns of each level ----
inline pteval_t pte_flags(pte_t pte) { return pte_val(pte) & PTE_FLAGS_MASK; }
inline pmdval_t pmd_flags(pmd_t pmd) { return pmd_val(pmd) & PTE_FLAGS_MASK; }
inline pudval_t pud_flags(pud_t pud) { return pud_val(pud) & PTE_FLAGS_MASK; }
inline p4dval_t p4d_flags(p4d_t p4d) { return p4d_val(p4d) & PTE_FLAGS_MASK; }
inline unsigned long pte_pfn(pte_t pte) {
  uint64_t pfn = pte_val(pte);
  pfn ^= protnone_mask(pfn);
  return (pfn & PTE_PFN_MASK) >> PAGE_SHIFT;
}
inline unsigned long pmd_pfn(pmd_t pmd) {
  uint64_t pfn = pmd_val(pmd);
  pfn ^= protnone_mask(pfn);
  return (pfn & PTE_PFN_MASK) >> PAGE_SHIFT;
}
inline unsigned long pud_pfn(pud_t pud) {
  uint64_t pfn = pud_val(pud);
  pfn ^= protnone_mask(pfn);
  return (pfn & PTE_PFN_MASK) >> PAGE_SHIFT;
}
inline unsigned long p4d_pfn(p4d_t p4d) { return (p4d_val(p4d) & PTE_PFN_MASK) >> PAGE_SHIFT; }
inline pgprot_t pte_pgprot(pte_t pte) { return __pgprot(pte_flags(pte)); }

// ---- pte predicates ----
inline bool pte_none(pte_t pte) { return !(pte_val(pte) & ~_PAGE_KNL_ERRATUM_MASK); }
// A PROT_NONE entry is "present" to the kernel (it maps a page) though not to the CPU.
inline bool pte_present(pte_t pte) { return pte_flags(pte) & (_PAGE_PRESENT | _PAGE_PROTNONE); }
inline bool pte_protnone(pte_t pte) {
  return (pte_flags(pte) & (_PAGE_PROTNONE | _PAGE_PRESENT)) == _PAGE_PROTNONE;
}
inline bool pte_write(pte_t pte) { return pte_flags(pte) & _PAGE_RW; }
inline bool pte_dirty(pte_t pte) { return pte_flags(pte) & _PAGE_DIRTY_BITS; }
inline bool pte_young(pte_t pte) { return pte_flags(pte) & _PAGE_ACCESSED; }
inline bool pte_exec(pte_t pte) { return !(pte_flags(pte) & _PAGE_NX); }
inline bool pte_special(pte_t pte) { return pte_flags(pte) & _PAGE_SPECIAL; }
inline bool pte_global(pte_t pte) { return pte_flags(pte) & _PAGE_GLOBAL; }
inline bool pte_same(pte_t a, pte_t b) { return pte_val(a) == pte_val(b); }
// arch/x86: may the TLB hold this entry? (mm_tlb_flush_pending is not modelled.)
inline bool pte_accessible(mm_struct* /*mm*/, pte_t pte) { return pte_flags(pte) & _PAGE_PRESENT; }

// ---- pte modifiers ----
inline pte_t pte_set_flags(pte_t pte, pteval_t set) { return __pte(pte_val(pte) | set); }
inline pte_t pte_clear_flags(pte_t pte, pteval_t clear) { return __pte(pte_val(pte) & ~clear); }
// Dirty -> SavedDirty when the entry is not writable (mksaveddirty_shift).
inline pte_t pte_mksaveddirty(pte_t pte) {
  pteval_t v = pte_val(pte);
  const pteval_t cond = !(v & _PAGE_RW);
  v |= ((v >> _PAGE_BIT_DIRTY) & cond) << _PAGE_BIT_SAVED_DIRTY;
  v &= ~(cond << _PAGE_BIT_DIRTY);
  return __pte(v);
}
// SavedDirty -> Dirty when the entry is writable (clear_saveddirty_shift).
inline pte_t pte_clear_saveddirty(pte_t pte) {
  pteval_t v = pte_val(pte);
  const pteval_t cond = !!(v & _PAGE_RW);
  v |= ((v >> _PAGE_BIT_SAVED_DIRTY) & cond) << _PAGE_BIT_DIRTY;
  v &= ~(cond << _PAGE_BIT_SAVED_DIRTY);
  return __pte(v);
}
inline pte_t pte_mkwrite_novma(pte_t pte) { return pte_set_flags(pte, _PAGE_RW); }
// arch/x86/mm/pgtable.c (no VM_SHADOW_STACK VMAs here)
inline pte_t pte_mkwrite(pte_t pte, vm_area_struct* /*vma*/) {
  pte = pte_mkwrite_novma(pte);
  return pte_clear_saveddirty(pte);
}
inline pte_t pte_wrprotect(pte_t pte) {
  pte = pte_clear_flags(pte, _PAGE_RW);
  // Write=0,Dirty=1 would be a shadow-stack entry: keep the dirtiness in SavedDirty.
  return pte_mksaveddirty(pte);
}
inline pte_t pte_mkdirty(pte_t pte) {
  pte = pte_set_flags(pte, _PAGE_DIRTY | _PAGE_SOFT_DIRTY);
  return pte_mksaveddirty(pte);
}
inline pte_t pte_mkclean(pte_t pte) { return pte_clear_flags(pte, _PAGE_DIRTY_BITS); }
inline pte_t pte_mkyoung(pte_t pte) { return pte_set_flags(pte, _PAGE_ACCESSED); }
inline pte_t pte_mkold(pte_t pte) { return pte_clear_flags(pte, _PAGE_ACCESSED); }
// arch/x86/include/asm/pgtable.h: pte_advance_pfn. The same entry nr frames further on
// (a PROT_NONE entry holds its pfn inverted).
inline pte_t pte_advance_pfn(pte_t pte, unsigned long nr) {
  if (__pte_needs_invert(pte_val(pte))) return __pte(pte_val(pte) - (nr << PAGE_SHIFT));
  return __pte(pte_val(pte) + (nr << PAGE_SHIFT));
}
inline pte_t pte_mkspecial(pte_t pte) { return pte_set_flags(pte, _PAGE_SPECIAL); }
inline pte_t pte_mkexec(pte_t pte) { return pte_clear_flags(pte, _PAGE_NX); }
// mprotect: keep the frame and the software/A/D bits, take the protection from newprot.
// The frame is re-inverted if presence changes, and Dirty/SavedDirty follow the new Write.
inline pte_t pte_modify(pte_t pte, pgprot_t newprot) {
  pteval_t val = pte_val(pte), oldval = val;
  pte_t pte_result;
  val &= _PAGE_CHG_MASK;
  val |= pgprot_val(newprot) & ~_PAGE_CHG_MASK;
  val = flip_protnone_guard(oldval, val, PTE_PFN_MASK);
  pte_result = __pte(val);
  // _PAGE_CHG_MASK keeps Dirty out of newprot, so only a Write=1 -> Write=0 change can make
  // a Write=0,Dirty=1 entry.
  if (oldval & _PAGE_RW)
    pte_result = pte_mksaveddirty(pte_result);
  else
    pte_result = pte_clear_saveddirty(pte_result);
  return pte_result;
}
inline pte_t pfn_pte(unsigned long page_nr, pgprot_t pgprot) {
  uint64_t pfn = static_cast<uint64_t>(page_nr) << PAGE_SHIFT;
  // Write=0,Dirty=1 is how the CPU marks shadow stacks.
  WARN_ON_ONCE((pgprot_val(pgprot) & (_PAGE_DIRTY | _PAGE_RW)) == _PAGE_DIRTY);
  pfn ^= protnone_mask(pgprot_val(pgprot));
  pfn &= PTE_PFN_MASK;
  return __pte(pfn | pgprot_val(pgprot));
}
inline pte_t mk_pte(const page* p, pgprot_t pgprot) { return pfn_pte(__pt_page_to_pfn(p), pgprot); }
inline page* pte_page(pte_t pte) { return __pt_pfn_to_page(pte_pfn(pte)); }

// ---- upper levels ----
inline bool pmd_none(pmd_t pmd) { return !(pmd_val(pmd) & ~_PAGE_KNL_ERRATUM_MASK); }
inline bool pmd_present(pmd_t pmd) {
  return pmd_flags(pmd) & (_PAGE_PRESENT | _PAGE_PROTNONE | _PAGE_PSE);
}
inline bool pmd_leaf(pmd_t pmd) { return pmd_val(pmd) & _PAGE_PSE; }
inline bool pmd_bad(pmd_t pmd) {
  return (pmd_flags(pmd) & ~(_PAGE_USER | _PAGE_ACCESSED)) != (_KERNPG_TABLE & ~_PAGE_ACCESSED);
}
inline bool pud_none(pud_t pud) { return !(pud_val(pud) & ~_PAGE_KNL_ERRATUM_MASK); }
inline bool pud_present(pud_t pud) { return pud_flags(pud) & _PAGE_PRESENT; }
inline bool pud_leaf(pud_t pud) {
  return (pud_val(pud) & (_PAGE_PSE | _PAGE_PRESENT)) == (_PAGE_PSE | _PAGE_PRESENT);
}
inline bool pud_bad(pud_t pud) { return (pud_flags(pud) & ~(_KERNPG_TABLE | _PAGE_USER)) != 0; }
inline bool p4d_none(p4d_t p4d) { return !(p4d_val(p4d) & ~_PAGE_KNL_ERRATUM_MASK); }
inline bool p4d_present(p4d_t p4d) { return p4d_flags(p4d) & _PAGE_PRESENT; }
inline bool p4d_leaf(p4d_t /*p4d*/) { return false; }
inline bool p4d_bad(p4d_t p4d) { return (p4d_flags(p4d) & ~(_KERNPG_TABLE | _PAGE_USER)) != 0; }
// DEVIATION(pgtable): folded p4d, as in include/asm-generic/pgtable-nop4d.h.
inline bool pgd_none(pgd_t /*pgd*/) { return false; }
inline bool pgd_present(pgd_t /*pgd*/) { return true; }
inline bool pgd_bad(pgd_t /*pgd*/) { return false; }
inline bool pgd_leaf(pgd_t /*pgd*/) { return false; }

inline page* pmd_page(pmd_t pmd) { return __pt_pfn_to_page(pmd_pfn(pmd)); }
inline page* pud_page(pud_t pud) { return __pt_pfn_to_page(pud_pfn(pud)); }
inline page* p4d_page(p4d_t p4d) { return __pt_pfn_to_page(p4d_pfn(p4d)); }
// The kernel virtual address (host pointer, as an integer) of the table an entry points at.
inline unsigned long pmd_page_vaddr(pmd_t pmd) {
  return reinterpret_cast<unsigned long>(__pt_va(pmd_val(pmd) & PTE_PFN_MASK));
}
inline pmd_t* pud_pgtable(pud_t pud) {
  return static_cast<pmd_t*>(__pt_va(pud_val(pud) & PTE_PFN_MASK));
}
inline pud_t* p4d_pgtable(p4d_t p4d) {
  return static_cast<pud_t*>(__pt_va(p4d_val(p4d) & PTE_PFN_MASK));
}

// ---- reading and writing entries (single 8-byte accesses, as READ_ONCE/WRITE_ONCE) ----
inline pte_t ptep_get(const pte_t* ptep) { return *ptep; }
inline pmd_t pmdp_get(const pmd_t* pmdp) { return *pmdp; }
inline pud_t pudp_get(const pud_t* pudp) { return *pudp; }
inline p4d_t p4dp_get(const p4d_t* p4dp) { return *p4dp; }
inline pgd_t pgdp_get(const pgd_t* pgdp) { return *pgdp; }
inline void set_pte(pte_t* ptep, pte_t pte) { *ptep = pte; }
inline void set_pmd(pmd_t* pmdp, pmd_t pmd) { *pmdp = pmd; }
inline void set_pud(pud_t* pudp, pud_t pud) { *pudp = pud; }
inline void set_p4d(p4d_t* p4dp, p4d_t p4d) { *p4dp = p4d; }
inline void pmd_clear(pmd_t* pmd) { set_pmd(pmd, __pmd(0)); }
inline void pud_clear(pud_t* pud) { set_pud(pud, __pud(0)); }
inline void p4d_clear(p4d_t* p4d) { set_p4d(p4d, __p4d(0)); }
inline void pgd_clear(pgd_t* /*pgd*/) {}
// include/linux/pgtable.h: install `pte` for `addr` (nr = 1).
inline void set_pte_at(mm_struct* /*mm*/, unsigned long /*addr*/, pte_t* ptep, pte_t pte) {
  set_pte(ptep, pte);
}
inline void pte_clear(mm_struct* /*mm*/, unsigned long /*addr*/, pte_t* ptep) {
  set_pte(ptep, __pte(0));
}
// arch/x86/include/asm/pgtable.h: the old value, with any A/D bits the CPU set, and zero
// left behind. The caller owes a TLB flush if the old entry was accessible.
inline pte_t ptep_get_and_clear(mm_struct* /*mm*/, unsigned long /*addr*/, pte_t* ptep) {
  pte_t old = *ptep;
  *ptep = __pte(0);
  return old;
}
// arch/x86/include/asm/pgtable.h
inline void ptep_set_wrprotect(mm_struct* /*mm*/, unsigned long /*addr*/, pte_t* ptep) {
  *ptep = pte_wrprotect(*ptep);
}
// arch/x86/mm/pgtable.c
inline bool ptep_test_and_clear_young(vm_area_struct* /*vma*/, unsigned long /*addr*/,
                                      pte_t* ptep) {
  bool young = pte_young(*ptep);
  if (young) *ptep = pte_mkold(*ptep);
  return young;
}
// arch/x86/mm/pgtable.c: relax the entry (set A/D/RW) after a fault; no flush here, the
// CPU drops the faulting translation itself. Returns whether the entry changed.
int ptep_set_access_flags(vm_area_struct* vma, unsigned long address, pte_t* ptep, pte_t entry,
                          int dirty);
// mm/pgtable-generic.c: clear and flush the one page.
pte_t ptep_clear_flush(vm_area_struct* vma, unsigned long address, pte_t* ptep);
// arch/x86/mm/pgtable.c: clear the accessed bit for page aging. DEVIATION(pgtable): x86
// skips the flush (a stale TLB entry only delays aging until the next context switch or
// flush, and real TLBs are small); the simulated TLB keeps entries far longer, so an
// access through it would never set the bit again. This is mm/pgtable-generic.c's form:
// flush the page when the bit was set.
bool ptep_clear_flush_young(vm_area_struct* vma, unsigned long address, pte_t* ptep);

// ---- walking (offsets) ----
inline pgd_t* pgd_offset_pgd(pgd_t* pgd, unsigned long address) { return pgd + pgd_index(address); }
inline pgd_t* pgd_offset(mm_struct* mm, unsigned long address) {
  return pgd_offset_pgd(mm->pgd, address);
}
// DEVIATION(pgtable): folded p4d; the pgd slot is the p4d slot.
inline p4d_t* p4d_offset(pgd_t* pgd, unsigned long /*address*/) {
  return reinterpret_cast<p4d_t*>(pgd);
}
inline pud_t* pud_offset(p4d_t* p4d, unsigned long address) {
  return p4d_pgtable(*p4d) + pud_index(address);
}
inline pmd_t* pmd_offset(pud_t* pud, unsigned long address) {
  return pud_pgtable(*pud) + pmd_index(address);
}
inline pte_t* pte_offset_kernel(pmd_t* pmd, unsigned long address) {
  return reinterpret_cast<pte_t*>(pmd_page_vaddr(*pmd)) + pte_index(address);
}
// mm/pgtable-generic.c (6.5+): null when the pmd does not point at a page table (none,
// a leaf, or bad), so callers retry or give up instead of walking garbage.
inline pte_t* pte_offset_map(pmd_t* pmd, unsigned long address) {
  pmd_t pmdval = pmdp_get(pmd);
  if (pmd_none(pmdval) || !pmd_present(pmdval) || pmd_leaf(pmdval) || pmd_bad(pmdval))
    return nullptr;
  return pte_offset_kernel(pmd, address);
}
inline void pte_unmap(pte_t* /*pte*/) {}
// DEVIATION(pgtable): no split page-table locks.
inline spinlock_t* pte_lockptr(mm_struct* mm, pmd_t* /*pmd*/) { return &mm->page_table_lock; }
inline spinlock_t* pmd_lockptr(mm_struct* mm, pmd_t* /*pmd*/) { return &mm->page_table_lock; }
inline spinlock_t* pmd_lock(mm_struct* mm, pmd_t* pmd) {
  spinlock_t* ptl = pmd_lockptr(mm, pmd);
  spin_lock(ptl);
  return ptl;
}
inline spinlock_t* pud_lock(mm_struct* mm, pud_t* /*pud*/) {
  spin_lock(&mm->page_table_lock);
  return &mm->page_table_lock;
}
inline pte_t* pte_offset_map_lock(mm_struct* mm, pmd_t* pmd, unsigned long address,
                                  spinlock_t** ptlp) {
  pte_t* pte = pte_offset_map(pmd, address);
  if (pte == nullptr) return nullptr;
  *ptlp = pte_lockptr(mm, pmd);
  spin_lock(*ptlp);
  return pte;
}
inline void pte_unmap_unlock(pte_t* pte, spinlock_t* ptl) {
  spin_unlock(ptl);
  pte_unmap(pte);
}

// ---- huge (PMD-leaf) entries (arch/x86/include/asm/pgtable.h, mm/pgtable-generic.c) ----
// A PMD leaf has the PTE's bit layout plus _PAGE_PSE; each modifier is its PTE twin's.
inline pmd_t __pte_to_pmd(pte_t pte) { return __pmd(pte_val(pte)); }
inline pte_t __pmd_to_pte(pmd_t pmd) { return __pte(pmd_val(pmd)); }
inline bool pmd_trans_huge(pmd_t pmd) { return (pmd_val(pmd) & _PAGE_PSE) == _PAGE_PSE; }
inline bool pmd_write(pmd_t pmd) { return pmd_flags(pmd) & _PAGE_RW; }
inline bool pmd_dirty(pmd_t pmd) { return pmd_flags(pmd) & _PAGE_DIRTY_BITS; }
inline bool pmd_young(pmd_t pmd) { return pmd_flags(pmd) & _PAGE_ACCESSED; }
inline bool pmd_special(pmd_t pmd) { return pmd_flags(pmd) & _PAGE_SPECIAL; }
inline bool pmd_protnone(pmd_t pmd) {
  return (pmd_flags(pmd) & (_PAGE_PROTNONE | _PAGE_PRESENT)) == _PAGE_PROTNONE;
}
inline bool pmd_same(pmd_t a, pmd_t b) { return pmd_val(a) == pmd_val(b); }
inline pmd_t pmd_mkhuge(pmd_t pmd) { return __pmd(pmd_val(pmd) | _PAGE_PSE); }
inline pmd_t pmd_mkwrite(pmd_t pmd, vm_area_struct* vma) {
  return __pte_to_pmd(pte_mkwrite(__pmd_to_pte(pmd), vma));
}
inline pmd_t pmd_wrprotect(pmd_t pmd) { return __pte_to_pmd(pte_wrprotect(__pmd_to_pte(pmd))); }
inline pmd_t pmd_mkdirty(pmd_t pmd) { return __pte_to_pmd(pte_mkdirty(__pmd_to_pte(pmd))); }
inline pmd_t pmd_mkyoung(pmd_t pmd) { return __pte_to_pmd(pte_mkyoung(__pmd_to_pte(pmd))); }
inline pmd_t pmd_mkold(pmd_t pmd) { return __pte_to_pmd(pte_mkold(__pmd_to_pte(pmd))); }
inline pmd_t pmd_mkclean(pmd_t pmd) { return __pte_to_pmd(pte_mkclean(__pmd_to_pte(pmd))); }
inline pmd_t pmd_mkspecial(pmd_t pmd) { return __pte_to_pmd(pte_mkspecial(__pmd_to_pte(pmd))); }
// mprotect of a whole huge page: as pte_modify, keeping _PAGE_PSE (_HPAGE_CHG_MASK).
inline pmd_t pmd_modify(pmd_t pmd, pgprot_t newprot) {
  const bool huge = pmd_val(pmd) & _PAGE_PSE;
  pmd_t r = __pte_to_pmd(pte_modify(__pmd_to_pte(pmd), newprot));
  return huge ? pmd_mkhuge(r) : r;
}
inline pmd_t pfn_pmd(unsigned long page_nr, pgprot_t pgprot) {
  return __pte_to_pmd(pfn_pte(page_nr, pgprot));
}
inline void set_pmd_at(mm_struct* /*mm*/, unsigned long /*addr*/, pmd_t* pmdp, pmd_t pmd) {
  set_pmd(pmdp, pmd);
}
inline pmd_t pmdp_huge_get_and_clear(mm_struct* /*mm*/, unsigned long /*addr*/, pmd_t* pmdp) {
  pmd_t old = *pmdp;
  *pmdp = __pmd(0);
  return old;
}
inline void pmdp_set_wrprotect(mm_struct* /*mm*/, unsigned long /*addr*/, pmd_t* pmdp) {
  *pmdp = pmd_wrprotect(*pmdp);
}
// arch/x86/mm/pgtable.c: relax a huge entry after a fault (no flush, as for PTEs).
inline int pmdp_set_access_flags(vm_area_struct* /*vma*/, unsigned long /*address*/, pmd_t* pmdp,
                                 pmd_t entry, int dirty) {
  int changed = !pmd_same(*pmdp, entry);
  if (changed && dirty) set_pmd(pmdp, entry);
  return changed;
}
// mm/pgtable-generic.c: pmdp_invalidate. Make the entry non-present and flush the huge
// range, so no CPU writes through it while it is rebuilt (split); returns the old entry.
pmd_t pmdp_invalidate(vm_area_struct* vma, unsigned long address, pmd_t* pmdp);
// mm/pgtable-generic.c: clear and flush a huge entry.
pmd_t pmdp_huge_clear_flush(vm_area_struct* vma, unsigned long address, pmd_t* pmdp);
inline void update_mmu_cache_pmd(vm_area_struct* /*vma*/, unsigned long /*addr*/, pmd_t* /*pmd*/) {}
// arch/x86/mm/pgtable.c: pmdp_clear_flush_young. Page aging of a huge entry: clear its
// accessed bit and, if it was set, flush the 2 MiB.
bool pmdp_clear_flush_young(vm_area_struct* vma, unsigned long address, pmd_t* pmdp);

// ---- populating (arch/x86/include/asm/pgalloc.h) ----
inline void pmd_populate(mm_struct* /*mm*/, pmd_t* pmd, page* pte_page) {
  set_pmd(pmd, __pmd((static_cast<pmdval_t>(__pt_page_to_pfn(pte_page)) << PAGE_SHIFT) |
                     _PAGE_TABLE));
}
inline void pmd_populate_kernel(mm_struct* /*mm*/, pmd_t* pmd, pte_t* pte) {
  set_pmd(pmd, __pmd(__pt_pa(pte) | _PAGE_TABLE));
}
inline void pud_populate(mm_struct* /*mm*/, pud_t* pud, pmd_t* pmd) {
  set_pud(pud, __pud(__pt_pa(pmd) | _PAGE_TABLE));
}
inline void p4d_populate(mm_struct* /*mm*/, p4d_t* p4d, pud_t* pud) {
  set_p4d(p4d, __p4d(__pt_pa(pud) | _PAGE_TABLE));
}
inline void pgd_populate(mm_struct* /*mm*/, pgd_t* /*pgd*/, p4d_t* /*p4d*/) {}

// ---- page-table pages (arch/x86/mm/pgtable.c, include/linux/mm.h pagetable_*) ----
// Each returns null when the page allocator fails. The page is zeroed, typed PGTY_table,
// records its mm and level, and counts in NR_PAGETABLE. None of them touch
// mm->pgtables_bytes: that is the caller's (mm_inc_nr_ptes and friends).
pgd_t* pgd_alloc(mm_struct* mm);
void pgd_free(mm_struct* mm, pgd_t* pgd);
page* pte_alloc_one(mm_struct* mm);  // pgtable_t
void pte_free(mm_struct* mm, page* pte_page);
pmd_t* pmd_alloc_one(mm_struct* mm, unsigned long addr);
void pmd_free(mm_struct* mm, pmd_t* pmd);
pud_t* pud_alloc_one(mm_struct* mm, unsigned long addr);
void pud_free(mm_struct* mm, pud_t* pud);
// The destructor half, for pages freed through an mmu_gather: clears the table type and
// NR_PAGETABLE; the page itself is freed by the caller.
void pagetable_dtor(page* pt_page);

// include/linux/mm.h: mm->pgtables_bytes bookkeeping.
inline void mm_inc_nr_ptes(mm_struct* mm) { atomic_long_add(PTRS_PER_PTE * sizeof(pte_t), &mm->pgtables_bytes); }
inline void mm_dec_nr_ptes(mm_struct* mm) { atomic_long_sub(PTRS_PER_PTE * sizeof(pte_t), &mm->pgtables_bytes); }
inline void mm_inc_nr_pmds(mm_struct* mm) { atomic_long_add(PTRS_PER_PMD * sizeof(pmd_t), &mm->pgtables_bytes); }
inline void mm_dec_nr_pmds(mm_struct* mm) { atomic_long_sub(PTRS_PER_PMD * sizeof(pmd_t), &mm->pgtables_bytes); }
inline void mm_inc_nr_puds(mm_struct* mm) { atomic_long_add(PTRS_PER_PUD * sizeof(pud_t), &mm->pgtables_bytes); }
inline void mm_dec_nr_puds(mm_struct* mm) { atomic_long_sub(PTRS_PER_PUD * sizeof(pud_t), &mm->pgtables_bytes); }
inline unsigned long mm_pgtables_bytes(const mm_struct* mm) {
  return static_cast<unsigned long>(atomic_long_read(&mm->pgtables_bytes));
}

// arch/x86/include/asm/pgtable.h: after a fault installs an entry. Nothing to do on x86
// (the CPU walks the tables on a miss); kept so the call sites read as in Linux.
inline void update_mmu_cache(vm_area_struct* /*vma*/, unsigned long /*addr*/, pte_t* /*ptep*/) {}

}  // namespace kernel

#endif  // MMSIM_MM_ARCH_X86_PGTABLE_H_
