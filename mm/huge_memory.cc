// mm/huge_memory.cc: anonymous transparent huge pages.
//
// Port of mm/huge_memory.c at Linux 6.18, the PMD-sized anonymous part: the sysfs knobs
// (transparent_hugepage_flags), __thp_vma_allowable_orders / thp_vma_suitable_order, the
// fault (do_huge_pmd_anonymous_page -> __do_huge_pmd_anonymous_page,
// vma_alloc_anon_folio_pmd, map_anon_folio_pmd; the huge zero folio: set_huge_zero_folio,
// mm_get_huge_zero_folio), huge_pmd_set_accessed, do_huge_pmd_wp_page (with
// do_huge_zero_wp_pmd), zap_huge_pmd, the PMD split (__split_huge_pmd_locked,
// split_huge_pmd_locked, __split_huge_zero_page_pmd, __split_huge_pmd, split_huge_pmd_address,
// vma_adjust_trans_huge), copy_huge_pmd, __thp_get_unmapped_area, madvise_free_huge_pmd,
// unmap_huge_pmd_locked / __discard_anon_folio_pmd_locked; hugepage_madvise of
// mm/khugepaged.c; pgtable_trans_huge_deposit / _withdraw of mm/pgtable-generic.c.
//
// A huge pmd maps one order-9 folio (a PMD leaf, _PAGE_PSE); it keeps a PTE table
// deposited beside it (mm->pmd_huge_pte) so that splitting it never needs memory. Each
// mapping holds one reference on the folio: the PMD one, or one per PTE after a split.
//
// The folio split (split_huge_page_to_list_to_order / __folio_split to order 0: unmap_folio,
// can_split_folio, folio_ref_freeze, __split_folio_to_order, lru_add_split_folio) and the
// deferred split queue (deferred_split_folio, deferred_split_scan as the shrinker that
// reclaim's shrink_slab runs) follow Linux 6.18.
//
// Deviations (grep "DEVIATION(huge_memory)"):
//  - Only anonymous PMD-sized THPs: no mTHP orders, no file/shmem THP, no PUD THP, no
//    khugepaged (collapse), no THP migration or swap entries, no userfaultfd, no memcg.
//  - A split keeps the folio's PTEs in place instead of swapping them for migration
//    entries and back (unmap_folio), and splits to order 0 only. To keep other paths
//    off the frozen folio all the same, __folio_split holds split_queue_lock until the
//    refcounts are unfrozen (no scheduling point inside the frozen window).
//  - The huge zero folio is allocated on first use and kept (as with
//    CONFIG_PERSISTENT_HUGE_ZERO_FOLIO); mm_get_huge_zero_folio takes no per-mm reference.
//  - The defrag knob picks the gfp mask as Linux does, but there is no compaction: an
//    order-9 allocation succeeds only when the buddy allocator has (or reclaim frees)
//    a whole free 2 MiB block.
#include "mm/huge_mm.h"

#include "mm/errno.h"
#include "mm/fs.h"
#include "mm/page_vma_mapped.h"
#include "mm/pagewalk.h"
#include "mm/swap.h"
#include "mm/trace.h"

namespace kernel {

static_assert(HPAGE_PMD_NR == PTRS_PER_PTE, "a huge pmd covers one PTE table");

// ---- the knobs (/sys/kernel/mm/transparent_hugepage) ----

static bool thp_flag(int bit) { return test_bit(bit, &kst().transparent_hugepage_flags); }

// include/linux/huge_mm.h
bool hugepage_global_enabled() {
  return thp_flag(TRANSPARENT_HUGEPAGE_FLAG) || thp_flag(TRANSPARENT_HUGEPAGE_REQ_MADV_FLAG);
}
// include/linux/huge_mm.h
bool hugepage_global_always() { return thp_flag(TRANSPARENT_HUGEPAGE_FLAG); }
// include/linux/huge_mm.h
bool transparent_hugepage_use_zero_page() {
  return thp_flag(TRANSPARENT_HUGEPAGE_USE_ZERO_PAGE_FLAG);
}

// mm/huge_memory.c: enabled_store (the "always" / "madvise" / "never" write).
void set_transparent_hugepage_enabled(kernel_state* ks, thp_enabled_mode mode) {
  unsigned long* flags = &ks->transparent_hugepage_flags;
  clear_bit(TRANSPARENT_HUGEPAGE_FLAG, flags);
  clear_bit(TRANSPARENT_HUGEPAGE_REQ_MADV_FLAG, flags);
  if (mode == THP_ALWAYS) set_bit(TRANSPARENT_HUGEPAGE_FLAG, flags);
  if (mode == THP_MADVISE) set_bit(TRANSPARENT_HUGEPAGE_REQ_MADV_FLAG, flags);
}

// mm/huge_memory.c: enabled_show, the selected word only.
const char* transparent_hugepage_enabled_name(const kernel_state* ks) {
  if (test_bit(TRANSPARENT_HUGEPAGE_FLAG, &ks->transparent_hugepage_flags)) return "always";
  if (test_bit(TRANSPARENT_HUGEPAGE_REQ_MADV_FLAG, &ks->transparent_hugepage_flags))
    return "madvise";
  return "never";
}

// mm/huge_memory.c: defrag_store. Exactly one of the four defrag flags is set ("never":
// none), so vma_thp_gfp_mask's first test that matches is the mode written.
void set_transparent_hugepage_defrag(kernel_state* ks, thp_defrag_mode mode) {
  unsigned long* flags = &ks->transparent_hugepage_flags;
  static constexpr int kFlagOf[] = {
      TRANSPARENT_HUGEPAGE_DEFRAG_DIRECT_FLAG, TRANSPARENT_HUGEPAGE_DEFRAG_KSWAPD_FLAG,
      TRANSPARENT_HUGEPAGE_DEFRAG_KSWAPD_OR_MADV_FLAG, TRANSPARENT_HUGEPAGE_DEFRAG_REQ_MADV_FLAG};
  for (int bit : kFlagOf) clear_bit(bit, flags);
  if (mode != THP_DEFRAG_NEVER) set_bit(kFlagOf[mode], flags);
}

// mm/huge_memory.c: defrag_show, the selected word only.
const char* transparent_hugepage_defrag_name(const kernel_state* ks) {
  const unsigned long* flags = &ks->transparent_hugepage_flags;
  if (test_bit(TRANSPARENT_HUGEPAGE_DEFRAG_DIRECT_FLAG, flags)) return "always";
  if (test_bit(TRANSPARENT_HUGEPAGE_DEFRAG_KSWAPD_FLAG, flags)) return "defer";
  if (test_bit(TRANSPARENT_HUGEPAGE_DEFRAG_KSWAPD_OR_MADV_FLAG, flags)) return "defer+madvise";
  if (test_bit(TRANSPARENT_HUGEPAGE_DEFRAG_REQ_MADV_FLAG, flags)) return "madvise";
  return "never";
}

// mm/huge_memory.c: use_zero_page_store (single_hugepage_flag_store: "0" or "1").
void set_transparent_hugepage_use_zero_page(kernel_state* ks, bool on) {
  if (on)
    set_bit(TRANSPARENT_HUGEPAGE_USE_ZERO_PAGE_FLAG, &ks->transparent_hugepage_flags);
  else
    clear_bit(TRANSPARENT_HUGEPAGE_USE_ZERO_PAGE_FLAG, &ks->transparent_hugepage_flags);
}

// include/linux/huge_mm.h: vma_thp_disabled (no prctl(PR_SET_THP_DISABLE) here).
static bool vma_thp_disabled(vm_area_struct* /*vma*/, vm_flags_t vm_flags) {
  return vm_flags & VM_NOHUGEPAGE;
}

// include/linux/huge_mm.h: thp_vma_allowable_order (-> thp_vma_allowable_orders and
// __thp_vma_allowable_orders for one order, the page-fault case). The `inherit` orders
// are PMD_ORDER alone: always for every anonymous VMA, madvise for VM_HUGEPAGE ones.
bool thp_vma_allowable_order(vm_area_struct* vma, vm_flags_t vm_flags, unsigned int order) {
  if (order != PMD_ORDER) return false;
  if (!vma_is_anonymous(vma)) return false;  // DEVIATION(huge_memory): anonymous only
  if (!(hugepage_global_always() || ((vm_flags & VM_HUGEPAGE) && hugepage_global_enabled())))
    return false;
  if (vma_thp_disabled(vma, vm_flags)) return false;
  if (vma->vm_mm == nullptr) return false;
  // A shared anonymous VMA is shmem (it has vm_ops), so it never gets here.
  return true;
}

// include/linux/huge_mm.h
bool thp_vma_suitable_order(vm_area_struct* vma, unsigned long addr, unsigned int order) {
  const unsigned long hpage_size = PAGE_SIZE << order;
  // Anonymous VMAs need no pgoff check.
  const unsigned long haddr = addr & ~(hpage_size - 1);
  if (haddr < vma->vm_start || haddr + hpage_size > vma->vm_end) return false;
  return true;
}

// mm/huge_memory.c: vma_thp_gfp_mask. How hard an order-9 allocation may try, by the
// defrag knob and whether the VMA asked for huge pages.
static gfp_t vma_thp_gfp_mask(vm_area_struct* vma) {
  const bool vma_madvised = vma->vm_flags & VM_HUGEPAGE;
  const gfp_t light = (GFP_HIGHUSER_MOVABLE | __GFP_COMP | __GFP_NOWARN) & ~__GFP_RECLAIM;
  const gfp_t full = light | __GFP_DIRECT_RECLAIM;  // GFP_TRANSHUGE
  if (thp_flag(TRANSPARENT_HUGEPAGE_DEFRAG_DIRECT_FLAG))
    return full | (vma_madvised ? 0 : __GFP_NORETRY);
  if (thp_flag(TRANSPARENT_HUGEPAGE_DEFRAG_KSWAPD_FLAG)) return light | __GFP_KSWAPD_RECLAIM;
  if (thp_flag(TRANSPARENT_HUGEPAGE_DEFRAG_KSWAPD_OR_MADV_FLAG))
    return light | (vma_madvised ? __GFP_DIRECT_RECLAIM : __GFP_KSWAPD_RECLAIM);
  if (thp_flag(TRANSPARENT_HUGEPAGE_DEFRAG_REQ_MADV_FLAG))
    return light | (vma_madvised ? __GFP_DIRECT_RECLAIM : 0);
  return light;
}

// ---- the deposited PTE table (mm/pgtable-generic.c) ----

// mm/pgtable-generic.c: pgtable_trans_huge_deposit. DEVIATION(huge_memory): one list per
// mm (mm->pmd_huge_pte, as without split PMD locks), linked through the tables' lru.
void pgtable_trans_huge_deposit(mm_struct* mm, pmd_t* /*pmdp*/, page* pgtable) {
  if (mm->pmd_huge_pte == nullptr)
    INIT_LIST_HEAD(&pgtable->lru);
  else
    list_add(&pgtable->lru, &mm->pmd_huge_pte->lru);
  mm->pmd_huge_pte = pgtable;
}

// mm/pgtable-generic.c: pgtable_trans_huge_withdraw (FIFO order does not matter: every
// deposited table is an empty PTE table).
page* pgtable_trans_huge_withdraw(mm_struct* mm, pmd_t* /*pmdp*/) {
  page* pgtable = mm->pmd_huge_pte;
  BUG_ON(pgtable == nullptr);
  if (list_empty(&pgtable->lru)) {
    mm->pmd_huge_pte = nullptr;
  } else {
    mm->pmd_huge_pte = list_entry(pgtable->lru.next, page, lru);
    list_del(&pgtable->lru);
  }
  pgtable->lru.next = pgtable->lru.prev = nullptr;
  return pgtable;
}

// mm/huge_memory.c
static void zap_deposited_table(mm_struct* mm, pmd_t* pmd) {
  page* pgtable = pgtable_trans_huge_withdraw(mm, pmd);
  pte_free(mm, pgtable);
  mm_dec_nr_ptes(mm);
}

// ---- the huge zero folio ----

// mm/huge_memory.c
bool is_huge_zero_folio(const folio* f) {
  return f != nullptr && f == kst().huge_zero_folio;
}
// mm/huge_memory.c
bool is_huge_zero_pmd(pmd_t pmd) {
  return pmd_present(pmd) && kst().huge_zero_folio != nullptr &&
         pmd_pfn(pmd) == folio_pfn(kst().huge_zero_folio);
}

// mm/huge_memory.c: mm_get_huge_zero_folio (get_huge_zero_folio). See the DEVIATION above.
static folio* mm_get_huge_zero_folio(mm_struct* /*mm*/) {
  kernel_state& ks = kst();
  if (ks.huge_zero_folio != nullptr) return ks.huge_zero_folio;
  folio* zero_folio = folio_alloc((GFP_HIGHUSER_MOVABLE | __GFP_COMP | __GFP_ZERO | __GFP_NOWARN) &
                                      ~(__GFP_MOVABLE | __GFP_DIRECT_RECLAIM),
                                  HPAGE_PMD_ORDER);
  if (zero_folio == nullptr) {
    count_vm_event(THP_ZERO_PAGE_ALLOC_FAILED);
    return nullptr;
  }
  ks.huge_zero_folio = zero_folio;
  count_vm_event(THP_ZERO_PAGE_ALLOC);
  return zero_folio;
}

// mm/huge_memory.c: set_huge_zero_folio. The read-only special pmd over the zero folio.
static void set_huge_zero_folio(page* pgtable, mm_struct* mm, vm_area_struct* vma,
                                unsigned long haddr, pmd_t* pmd, folio* zero_folio) {
  pmd_t entry = pmd_mkhuge(pfn_pmd(folio_pfn(zero_folio), vma->vm_page_prot));
  entry = pmd_mkspecial(entry);
  pgtable_trans_huge_deposit(mm, pmd, pgtable);
  set_pmd_at(mm, haddr, pmd, entry);
  mm_inc_nr_ptes(mm);
}

// ---- faults ----

// mm/huge_memory.c: vma_alloc_anon_folio_pmd. Null (counted thp_fault_fallback) when
// the buddy allocator has no 2 MiB block to give.
static folio* vma_alloc_anon_folio_pmd(vm_area_struct* vma, unsigned long addr) {
  const gfp_t gfp = vma_thp_gfp_mask(vma);
  folio* f = vma_alloc_folio(gfp | __GFP_ZERO, HPAGE_PMD_ORDER, vma, addr & HPAGE_PMD_MASK);
  if (unlikely(f == nullptr)) {
    count_vm_event(THP_FAULT_FALLBACK);
    return nullptr;
  }
  VM_BUG_ON(!folio_test_large(f));
  folio_set_uptodate(f);  // __folio_mark_uptodate (zeroed by __GFP_ZERO: folio_zero_user)
  return f;
}

// mm/huge_memory.c: map_anon_folio_pmd.
static void map_anon_folio_pmd(folio* f, pmd_t* pmd, vm_area_struct* vma, unsigned long haddr) {
  pmd_t entry = pmd_mkhuge(pfn_pmd(folio_pfn(f), vma->vm_page_prot));  // folio_mk_pmd
  entry = pmd_mkdirty(entry);
  if (vma->vm_flags & VM_WRITE) entry = pmd_mkwrite(entry, vma);  // maybe_pmd_mkwrite
  folio_add_new_anon_rmap(f, vma, haddr, RMAP_EXCLUSIVE);
  folio_add_lru_vma(f, vma);
  set_pmd_at(vma->vm_mm, haddr, pmd, entry);
  update_mmu_cache_pmd(vma, haddr, pmd);
  add_mm_counter(vma->vm_mm, MM_ANONPAGES, HPAGE_PMD_NR);
  count_vm_event(THP_FAULT_ALLOC);
}

// mm/huge_memory.c
static vm_fault_t __do_huge_pmd_anonymous_page(vm_fault* vmf) {
  const unsigned long haddr = vmf->address & HPAGE_PMD_MASK;
  vm_area_struct* vma = vmf->vma;
  folio* f = vma_alloc_anon_folio_pmd(vma, vmf->address);
  if (unlikely(f == nullptr)) return VM_FAULT_FALLBACK;
  page* pgtable = pte_alloc_one(vma->vm_mm);
  if (unlikely(pgtable == nullptr)) {
    folio_put(f);
    return VM_FAULT_OOM;
  }
  vmf->ptl = pmd_lock(vma->vm_mm, vmf->pmd);
  if (unlikely(!pmd_none(*vmf->pmd))) {
    spin_unlock(vmf->ptl);
    pte_free(vma->vm_mm, pgtable);
    folio_put(f);
    return 0;
  }
  pgtable_trans_huge_deposit(vma->vm_mm, vmf->pmd, pgtable);
  map_anon_folio_pmd(f, vmf->pmd, vma, haddr);
  mm_inc_nr_ptes(vma->vm_mm);
  spin_unlock(vmf->ptl);
  trace_event("thp_fault_alloc", "addr=%#lx pfn=%#lx", haddr, folio_pfn(f));
  return 0;
}

// mm/huge_memory.c: do_huge_pmd_anonymous_page. A fault on an empty pmd of a VMA that
// may have THPs: the huge zero folio for a read, a new order-9 folio for a write, or
// VM_FAULT_FALLBACK (the aligned 2 MiB is not all inside the VMA, or no 2 MiB block).
vm_fault_t do_huge_pmd_anonymous_page(vm_fault* vmf) {
  vm_area_struct* vma = vmf->vma;
  const unsigned long haddr = vmf->address & HPAGE_PMD_MASK;
  if (!thp_vma_suitable_order(vma, haddr, PMD_ORDER)) return VM_FAULT_FALLBACK;
  if (unlikely(vma->anon_vma == nullptr) && anon_vma_prepare(vma)) return VM_FAULT_OOM;
  if (!(vmf->flags & FAULT_FLAG_WRITE) && transparent_hugepage_use_zero_page()) {
    page* pgtable = pte_alloc_one(vma->vm_mm);
    if (unlikely(pgtable == nullptr)) return VM_FAULT_OOM;
    folio* zero_folio = mm_get_huge_zero_folio(vma->vm_mm);
    if (unlikely(zero_folio == nullptr)) {
      pte_free(vma->vm_mm, pgtable);
      count_vm_event(THP_FAULT_FALLBACK);
      return VM_FAULT_FALLBACK;
    }
    vmf->ptl = pmd_lock(vma->vm_mm, vmf->pmd);
    if (pmd_none(*vmf->pmd)) {
      set_huge_zero_folio(pgtable, vma->vm_mm, vma, haddr, vmf->pmd, zero_folio);
      update_mmu_cache_pmd(vma, vmf->address, vmf->pmd);
      spin_unlock(vmf->ptl);
    } else {
      spin_unlock(vmf->ptl);
      pte_free(vma->vm_mm, pgtable);
    }
    return 0;
  }
  return __do_huge_pmd_anonymous_page(vmf);
}

// mm/huge_memory.c: huge_pmd_set_accessed (touch_pmd). A spurious fault on a present
// huge pmd: set the accessed (and for a write, dirty) bit.
void huge_pmd_set_accessed(vm_fault* vmf) {
  const bool write = vmf->flags & FAULT_FLAG_WRITE;
  vmf->ptl = pmd_lock(vmf->vma->vm_mm, vmf->pmd);
  if (likely(pmd_same(*vmf->pmd, vmf->orig_pmd))) {
    pmd_t entry = pmd_mkyoung(vmf->orig_pmd);
    if (write) entry = pmd_mkdirty(entry);
    if (pmdp_set_access_flags(vmf->vma, vmf->address & HPAGE_PMD_MASK, vmf->pmd, entry, write))
      update_mmu_cache_pmd(vmf->vma, vmf->address, vmf->pmd);
  }
  spin_unlock(vmf->ptl);
}

// mm/huge_memory.c: do_huge_zero_wp_pmd (6.13+). A write to the huge zero folio gets a
// new THP in its place; VM_FAULT_FALLBACK (split, then 4 KiB COW) if none is free.
static vm_fault_t do_huge_zero_wp_pmd(vm_fault* vmf) {
  const unsigned long haddr = vmf->address & HPAGE_PMD_MASK;
  vm_area_struct* vma = vmf->vma;
  folio* f = vma_alloc_anon_folio_pmd(vma, vmf->address);
  if (unlikely(f == nullptr)) return VM_FAULT_FALLBACK;
  vmf->ptl = pmd_lock(vma->vm_mm, vmf->pmd);
  if (unlikely(!pmd_same(*vmf->pmd, vmf->orig_pmd))) {
    spin_unlock(vmf->ptl);
    folio_put(f);
    return 0;
  }
  (void)pmdp_huge_clear_flush(vma, haddr, vmf->pmd);
  map_anon_folio_pmd(f, vmf->pmd, vma, haddr);
  spin_unlock(vmf->ptl);
  return 0;
}

// mm/huge_memory.c: do_huge_pmd_wp_page. A write (or unshare) hit a read-only huge pmd:
// make it writable if the folio is ours alone, else split the pmd and let the PTE path
// copy the one 4 KiB page (VM_FAULT_FALLBACK).
vm_fault_t do_huge_pmd_wp_page(vm_fault* vmf) {
  const bool unshare = vmf->flags & FAULT_FLAG_UNSHARE;
  vm_area_struct* vma = vmf->vma;
  const unsigned long haddr = vmf->address & HPAGE_PMD_MASK;
  const pmd_t orig_pmd = vmf->orig_pmd;
  vmf->ptl = pmd_lockptr(vma->vm_mm, vmf->pmd);
  VM_BUG_ON(vma->anon_vma == nullptr);

  if (is_huge_zero_pmd(orig_pmd)) {
    vm_fault_t ret = do_huge_zero_wp_pmd(vmf);
    if (!(ret & VM_FAULT_FALLBACK)) return ret;
    __split_huge_pmd(vma, vmf->pmd, vmf->address, false);
    return VM_FAULT_FALLBACK;
  }

  spin_lock(vmf->ptl);
  if (unlikely(!pmd_same(*vmf->pmd, orig_pmd))) {
    spin_unlock(vmf->ptl);
    return 0;
  }
  page* p = pmd_page(orig_pmd);
  folio* f = page_folio(p);
  VM_BUG_ON(!PageHead(p));
  pmd_t entry;

  // Early check when only holding the PT lock.
  if (PageAnonExclusive(p)) goto reuse;
  if (!folio_trylock(f)) {
    folio_get(f);
    spin_unlock(vmf->ptl);
    folio_lock(f);
    spin_lock(vmf->ptl);
    if (unlikely(!pmd_same(*vmf->pmd, orig_pmd))) {
      spin_unlock(vmf->ptl);
      folio_unlock(f);
      folio_put(f);
      return 0;
    }
    folio_put(f);
  }
  // Recheck after temporarily dropping the PT lock.
  if (PageAnonExclusive(p)) {
    folio_unlock(f);
    goto reuse;
  }
  // As do_wp_page: reuse only with no other reference (a THP never sits in the swap
  // cache here).
  if (folio_ref_count(f) == 1) {
    folio_move_anon_rmap(f, vma);
    SetPageAnonExclusive(p);
    folio_unlock(f);
    goto reuse;
  }
  folio_unlock(f);
  spin_unlock(vmf->ptl);
  __split_huge_pmd(vma, vmf->pmd, vmf->address, false);
  return VM_FAULT_FALLBACK;

reuse:
  if (unlikely(unshare)) {
    spin_unlock(vmf->ptl);
    return 0;
  }
  entry = pmd_mkyoung(orig_pmd);
  entry = pmd_mkdirty(entry);
  if (vma->vm_flags & VM_WRITE) entry = pmd_mkwrite(entry, vma);  // maybe_pmd_mkwrite
  if (pmdp_set_access_flags(vma, haddr, vmf->pmd, entry, 1))
    update_mmu_cache_pmd(vma, vmf->address, vmf->pmd);
  spin_unlock(vmf->ptl);
  return 0;
}

// ---- teardown ----

// include/linux/huge_mm.h: __pmd_trans_huge_lock.
spinlock_t* __pmd_trans_huge_lock(pmd_t* pmd, vm_area_struct* vma) {
  spinlock_t* ptl = pmd_lock(vma->vm_mm, pmd);
  if (likely(pmd_trans_huge(*pmd))) return ptl;
  spin_unlock(ptl);
  return nullptr;
}

// mm/huge_memory.c: zap_huge_pmd.
int zap_huge_pmd(mmu_gather* tlb, vm_area_struct* vma, pmd_t* pmd, unsigned long addr) {
  spinlock_t* ptl = __pmd_trans_huge_lock(pmd, vma);
  if (ptl == nullptr) return 0;
  const pmd_t orig_pmd = pmdp_huge_get_and_clear(tlb->mm, addr, pmd);
  tlb_flush_pmd_range(tlb, addr, HPAGE_PMD_SIZE);  // tlb_remove_pmd_tlb_entry
  if (is_huge_zero_pmd(orig_pmd)) {
    zap_deposited_table(tlb->mm, pmd);
    spin_unlock(ptl);
    return 1;
  }
  page* p = pmd_page(orig_pmd);
  folio* f = page_folio(p);
  folio_remove_rmap_pmd(f, p, vma);
  WARN_ON_ONCE(folio_mapcount(f) < 0);
  VM_BUG_ON(!PageHead(p));
  zap_deposited_table(tlb->mm, pmd);
  add_mm_counter(tlb->mm, MM_ANONPAGES, -HPAGE_PMD_NR);
  spin_unlock(ptl);
  tlb_remove_page(tlb, p);  // tlb_remove_page_size(tlb, page, HPAGE_PMD_SIZE)
  trace_event("zap_huge_pmd", "addr=%#lx pfn=%#lx", addr, page_to_pfn(p));
  return 1;
}

// ---- splitting a huge pmd ----

// mm/huge_memory.c: __split_huge_zero_page_pmd. 512 PTEs of the 4 KiB zero page.
static void __split_huge_zero_page_pmd(vm_area_struct* vma, unsigned long haddr, pmd_t* pmd) {
  mm_struct* mm = vma->vm_mm;
  // Leave the pmd empty until the PTEs are filled (pmdp_huge_clear_flush).
  (void)pmdp_huge_clear_flush(vma, haddr, pmd);
  page* pgtable = pgtable_trans_huge_withdraw(mm, pmd);
  pmd_t _pmd;
  pmd_populate(mm, &_pmd, pgtable);
  pte_t* pte = pte_offset_kernel(&_pmd, haddr);
  for (unsigned long addr = haddr; addr != haddr + HPAGE_PMD_SIZE; addr += PAGE_SIZE, ++pte) {
    pte_t entry = pte_mkspecial(pfn_pte(page_to_pfn(ZERO_PAGE(addr)), vma->vm_page_prot));
    VM_BUG_ON(!pte_none(ptep_get(pte)));
    set_pte_at(mm, addr, pte, entry);
  }
  pmd_populate(mm, pmd, pgtable);
}

// mm/huge_memory.c: __split_huge_pmd_locked (anonymous, no freeze). The folio stays
// whole; its one PMD mapping becomes 512 PTE mappings (one reference each), each page
// inheriting the PMD's write, dirty and young bits and the exclusive mark.
static void __split_huge_pmd_locked(vm_area_struct* vma, pmd_t* pmd, unsigned long haddr) {
  mm_struct* mm = vma->vm_mm;
  VM_BUG_ON(haddr & ~HPAGE_PMD_MASK);
  VM_BUG_ON(vma->vm_start > haddr || vma->vm_end < haddr + HPAGE_PMD_SIZE);
  count_vm_event(THP_SPLIT_PMD);
  trace_event("thp_split_pmd", "addr=%#lx", haddr);

  if (is_huge_zero_pmd(*pmd)) return __split_huge_zero_page_pmd(vma, haddr, pmd);

  // Invalidate first: no CPU may set A/D in the huge entry while the PTEs are built.
  const pmd_t old_pmd = pmdp_invalidate(vma, haddr, pmd);
  page* p = __pt_pfn_to_page(pmd_pfn(old_pmd));
  folio* f = page_folio(p);
  const bool dirty = pmd_dirty(old_pmd);
  if (dirty) folio_set_dirty(f);
  const bool write = pmd_write(old_pmd);
  const bool young = pmd_young(old_pmd);
  VM_WARN_ON_ONCE(!folio_ref_count(f));
  VM_WARN_ON_ONCE(!folio_test_anon(f));
  const bool anon_exclusive = PageAnonExclusive(p);
  folio_ref_add(f, HPAGE_PMD_NR - 1);
  folio_add_anon_rmap_ptes(f, p, HPAGE_PMD_NR, vma, haddr,
                           anon_exclusive ? RMAP_EXCLUSIVE : RMAP_NONE);

  page* pgtable = pgtable_trans_huge_withdraw(mm, pmd);
  pmd_t _pmd;
  pmd_populate(mm, &_pmd, pgtable);
  pte_t* pte = pte_offset_kernel(&_pmd, haddr);
  for (long i = 0; i < HPAGE_PMD_NR; i++) {
    pte_t entry = mk_pte(p + i, vma->vm_page_prot);
    if (write) entry = pte_mkwrite(entry, vma);
    if (!young) entry = pte_mkold(entry);
    if (dirty) entry = pte_mkdirty(entry);
    VM_BUG_ON(!pte_none(ptep_get(pte + i)));
    set_pte_at(mm, haddr + i * PAGE_SIZE, pte + i, entry);
  }
  folio_remove_rmap_pmd(f, p, vma);
  pmd_populate(mm, pmd, pgtable);
}

// mm/huge_memory.c: split_huge_pmd_locked (Linux 6.18: no folio argument; a caller
// that splits for one folio found the pmd with page_vma_mapped_walk, which checked the
// folio under this same lock). The pmd lock is held; `address` is the huge page's start.
void split_huge_pmd_locked(vm_area_struct* vma, unsigned long address, pmd_t* pmd, bool freeze) {
  (void)freeze;  // DEVIATION(huge_memory): no freeze (no migration entries)
  VM_WARN_ON_ONCE(address & ~HPAGE_PMD_MASK);  // IS_ALIGNED
  if (pmd_trans_huge(*pmd)) __split_huge_pmd_locked(vma, pmd, address);
}

// mm/huge_memory.c: __split_huge_pmd (split_huge_pmd_locked under the pmd lock).
void __split_huge_pmd(vm_area_struct* vma, pmd_t* pmd, unsigned long address, bool freeze) {
  spinlock_t* ptl = pmd_lock(vma->vm_mm, pmd);
  split_huge_pmd_locked(vma, address & HPAGE_PMD_MASK, pmd, freeze);
  spin_unlock(ptl);
}

// mm/huge_memory.c
void split_huge_pmd_address(vm_area_struct* vma, unsigned long address, bool freeze) {
  pmd_t* pmd = mm_find_pmd(vma->vm_mm, address);
  if (pmd == nullptr) return;
  __split_huge_pmd(vma, pmd, address, freeze);
}

// mm/huge_memory.c: split_huge_pmd_if_needed. A cut at an unaligned address inside a
// VMA range that could hold a THP there.
static void split_huge_pmd_if_needed(vm_area_struct* vma, unsigned long address) {
  if ((address & ~HPAGE_PMD_MASK) &&
      (address & HPAGE_PMD_MASK) >= vma->vm_start &&
      (address & HPAGE_PMD_MASK) + HPAGE_PMD_SIZE <= vma->vm_end)
    split_huge_pmd_address(vma, address, false);
}

// mm/huge_memory.c
void vma_adjust_trans_huge(vm_area_struct* vma, unsigned long start, unsigned long end,
                           vm_area_struct* next) {
  // Check if we need to split start first.
  split_huge_pmd_if_needed(vma, start);
  // Check if we need to split end next.
  split_huge_pmd_if_needed(vma, end);
  // If we're also updating the next vma vm_start, check if we need to split it.
  if (next != nullptr) split_huge_pmd_if_needed(next, end);
}

// ---- folio split and the deferred split queue ----

// mm/huge_memory.c: get_deferred_split_queue. One node and no memcg: one queue.
static auto* get_deferred_split_queue(folio* /*f*/) { return &kst().deferred_split_queue; }

// mm/huge_memory.c: __folio_unqueue_deferred_split. The folio leaves the queue (it is
// being freed, or split).
bool __folio_unqueue_deferred_split(folio* f) {
  WARN_ON_ONCE(folio_ref_count(f));
  auto* ds_queue = get_deferred_split_queue(f);
  bool unqueued = false;
  spin_lock(&ds_queue->split_queue_lock);
  if (!list_empty(folio_deferred_list(f))) {
    ds_queue->split_queue_len--;
    if (folio_test_partially_mapped(f)) folio_clear_partially_mapped(f);
    list_del_init(folio_deferred_list(f));
    unqueued = true;
  }
  spin_unlock(&ds_queue->split_queue_lock);
  return unqueued;
}

// mm/internal.h: folio_unqueue_deferred_split. Every large folio here is an anon THP
// (large_rmappable), so only the order and the list are checked.
bool folio_unqueue_deferred_split(folio* f) {
  if (folio_order(f) <= 1) return false;
  if (list_empty(folio_deferred_list(f))) return false;
  return __folio_unqueue_deferred_split(f);
}

// mm/huge_memory.c: deferred_split_folio. Queue a THP some of whose pages were unmapped
// while others stay mapped; deferred_split_scan splits it under memory pressure and the
// unmapped pages go back to the allocator.
// DEVIATION(huge_memory): a new THP is not queued at fault time with
// partially_mapped=false (6.12+'s split of underused THPs): with the default
// khugepaged/max_ptes_none (511) thp_underused() never finds one, so the queue would only
// carry folios the scan drops again.
void deferred_split_folio(folio* f, bool partially_mapped) {
  auto* ds_queue = get_deferred_split_queue(f);
  // Order 1 folios have no room for the list (none exist here).
  if (folio_order(f) <= 1) return;
  if (!partially_mapped) return;  // !split_underused_thp: see the DEVIATION above
  // Reclaim already deals with a folio in the swap cache.
  if (folio_test_swapcache(f)) return;
  spin_lock(&ds_queue->split_queue_lock);
  if (!folio_test_partially_mapped(f)) {
    folio_set_partially_mapped(f);
    count_vm_event(THP_DEFERRED_SPLIT_PAGE);  // folio_test_pmd_mappable: all of them
  }
  if (list_empty(folio_deferred_list(f))) {
    list_add_tail(folio_deferred_list(f), &ds_queue->split_queue);
    ds_queue->split_queue_len++;
  }
  spin_unlock(&ds_queue->split_queue_lock);
}

// mm/huge_memory.c: deferred_split_count, the shrinker's count_objects.
unsigned long deferred_split_count() { return kst().deferred_split_queue.split_queue_len; }

// mm/huge_memory.c: deferred_split_scan, the shrinker's scan_objects. Take up to
// nr_to_scan folios off the queue (each with a reference), split the partially mapped
// ones, and put back those that could not be split (locked, or pinned: -EAGAIN).
// Scans in batches of 31 until nr_to_scan runs out or the queue is empty. Returns the
// folios split, or SHRINK_STOP when none was and the queue is empty.
unsigned long deferred_split_scan(unsigned long nr_to_scan) {
  auto* ds_queue = &kst().deferred_split_queue;
  constexpr int kBatch = 31;  // PAGEVEC_SIZE: folio_batch
  folio* fbatch[kBatch];
  int nr;
  unsigned long split = 0;
retry:
  nr = 0;
  spin_lock(&ds_queue->split_queue_lock);
  // Take a reference on every folio so that none is freed under the scan.
  list_head* pos = ds_queue->split_queue.next;
  while (pos != &ds_queue->split_queue) {
    list_head* next = pos->next;
    folio* f = list_entry(pos, page, _deferred_list) - 2;  // page[2]'s link
    if (folio_try_get(f)) {
      fbatch[nr++] = f;
    } else if (folio_test_partially_mapped(f)) {
      // Lost the race with folio_put().
      folio_clear_partially_mapped(f);
    }
    list_del_init(folio_deferred_list(f));
    ds_queue->split_queue_len--;
    pos = next;
    if (!--nr_to_scan) break;
    if (nr == kBatch) break;
  }
  spin_unlock(&ds_queue->split_queue_lock);

  for (int i = 0; i < nr; i++) {
    folio* f = fbatch[i];
    bool did_split = false;
    if (!folio_test_partially_mapped(f)) {
      // Only partially mapped folios are queued here (no underused-THP split), so this
      // one became fully mapped or unmapped meanwhile: leave it.
      goto next;
    }
    if (!folio_trylock(f)) goto requeue;
    if (!split_folio(f)) {
      did_split = true;
      split++;
    }
    folio_unlock(f);
  next:
    if (did_split || !folio_test_partially_mapped(f)) continue;
  requeue:
    // Only a partially mapped folio goes back on the queue.
    spin_lock(&ds_queue->split_queue_lock);
    if (list_empty(folio_deferred_list(f))) {
      list_add_tail(folio_deferred_list(f), &ds_queue->split_queue);
      ds_queue->split_queue_len++;
    }
    spin_unlock(&ds_queue->split_queue_lock);
  }
  for (int i = 0; i < nr; i++) folio_put(fbatch[i]);  // folios_put
  // A full batch and more to scan: go round again.
  if (nr_to_scan && !list_empty(&ds_queue->split_queue)) {
    cond_resched();
    goto retry;
  }
  // Stop the shrinker if nothing was split and the queue is empty (its folios were freed
  // under us).
  if (!split && list_empty(&ds_queue->split_queue)) return SHRINK_STOP;
  return split;
}

// mm/rmap.c: try_to_migrate_one, its TTU_SPLIT_HUGE_PMD step (the only one done here,
// see unmap_folio): page_vma_mapped_walk finds this folio's PMD leaf in the VMA, checked
// under the pmd lock, and split_huge_pmd_locked splits it with that lock still held.
// DEVIATION(huge_memory): no migration entries follow, so the walk ends after the split
// and the rmap walk goes on to the next VMA (6.18 returns false there and relies on the
// caller's folio_mapped check; with no PTE half to do, that would leave other VMAs'
// PMDs unsplit).
static bool split_folio_pmd_one(folio* f, vm_area_struct* vma, unsigned long address,
                                void* /*arg*/) {
  struct page_vma_mapped_walk pvmw = folio_vma_walk(f, vma, address, PVMW_SYNC);
  if (page_vma_mapped_walk(&pvmw)) {
    // A PMD leaf is found alone, first; a PTE-mapped folio has nothing to split.
    // unmap_folio is the only user of TTU_SPLIT_HUGE_PMD, and it wants to freeze.
    if (!pvmw.pte) split_huge_pmd_locked(vma, pvmw.address, pvmw.pmd, true);
    page_vma_mapped_walk_done(&pvmw);
  }
  return true;
}

// mm/huge_memory.c: unmap_folio. DEVIATION(huge_memory): there are no migration entries,
// so try_to_migrate's PTE half is not done: the folio's huge pmds are split (as
// TTU_SPLIT_HUGE_PMD does) and its PTEs stay in place while it is frozen and split, each
// naming the same page before and after (what remap_page would restore). The folio lock,
// the anon_vma lock and the frozen refcount keep every rmap walk, GUP and fault off it.
static void unmap_folio(folio* f) {
  rmap_walk_anon(f, split_folio_pmd_one, nullptr, /*locked=*/true, false, nullptr, false);
}

// mm/huge_memory.c: can_split_folio. Every reference but the caller's (and the swap
// cache's) must be a mapping: a GUP pin or any other holder makes the split fail.
bool can_split_folio(folio* f, int caller_pins, int* pextra_pins) {
  const int extra_pins = folio_test_swapcache(f) ? static_cast<int>(folio_nr_pages(f)) : 0;
  if (pextra_pins != nullptr) *pextra_pins = extra_pins;
  return folio_mapcount(f) == folio_ref_count(f) - extra_pins - caller_pins;
}

// include/linux/mm.h: folio_expected_ref_count. The references a folio's users account
// for: the swap cache's (one per page) and one per page-table mapping.
static int folio_expected_ref_count(const folio* f) {
  int ref_count = 0;
  if (folio_test_swapcache(f)) ref_count += static_cast<int>(folio_nr_pages(f));
  return ref_count + folio_mapcount(f);
}

// mm/huge_memory.c: __split_folio_to_order (uniform split, new_order 0). Each page of
// the frozen folio becomes a folio of its own: the head's flags, mapping and index follow
// it; the words that held the folio's counts (page[1]) and deferred link (page[2]) become
// ordinary page fields again. Per-page state (_mapcount, PG_anon_exclusive) stays.
static void __split_folio_to_order(folio* f, long nr) {
  constexpr unsigned long kCopied =
      (1UL << PG_referenced) | (1UL << PG_swapbacked) | (1UL << PG_swapcache) |
      (1UL << PG_mlocked) | (1UL << PG_uptodate) | (1UL << PG_active) |
      (1UL << PG_workingset) | (1UL << PG_unevictable) | (1UL << PG_arch_1) |
      (1UL << PG_dirty);
  // DEVIATION(huge_memory): PG_locked is not copied (Linux locks every new folio, then
  // unlocks all but the caller's): lockdep records folio locks here, and nothing can
  // reach a new folio before __folio_split would have unlocked it.
  for (long i = 1; i < nr; i++) {
    page* new_head = f + i;
    // The tail's own flag word: PG_anon_exclusive survives; page[1]'s order and
    // PG_partially_mapped do not (PAGE_FLAGS_CHECK_AT_PREP).
    new_head->flags = (new_head->flags & (1UL << PG_anon_exclusive)) | (f->flags & kCopied);
    new_head->compound_head = 0;  // clear_compound_head
    new_head->lru.prev = nullptr;
    new_head->mapping = f->mapping;
    new_head->index = f->index + i;
    new_head->private_ = 0;
  }
  clear_bit(PG_head, &f->flags);  // folio_reset_order: the head is an order-0 folio
}

// mm/huge_memory.c: lru_add_split_folio. A new folio goes where its head is: after it
// on the LRU, or on reclaim's list (with the isolation's reference) when the head was
// isolated.
static void lru_add_split_folio(folio* f, folio* new_folio, list_head* list) {
  if (list != nullptr) {
    // Page reclaim is reclaiming a huge page.
    VM_WARN_ON_ONCE(folio_test_lru(f));
    folio_get(new_folio);
    list_add_tail(&new_folio->lru, list);
  } else {
    // The head is still on the LRU (and frozen).
    VM_WARN_ON_ONCE(!folio_test_lru(f));
    if (folio_test_unevictable(f)) new_folio->mlock_count = 0;
    list_add_tail(&new_folio->lru, &f->lru);  // the unevictable list is a list here
    folio_set_lru(new_folio);
  }
}

// mm/huge_memory.c: __folio_split (uniform, to order 0) for an anonymous folio, as
// split_huge_page_to_list_to_order runs it. The caller holds the folio locked and one
// reference; on success the head stays locked and every other page is a folio of its
// own, freed at once if nothing maps it. -EAGAIN if the folio has references other than
// its mappings (a pin), -EBUSY if it has no anon_vma.
static int __folio_split(folio* f, list_head* list) {
  auto* ds_queue = get_deferred_split_queue(f);
  const long nr = folio_nr_pages(f);
  int extra_pins, ret = 0;
  VM_BUG_ON(!folio_test_locked(f));
  VM_BUG_ON(!folio_test_large(f));
  anon_vma* av = nullptr;
  if (!folio_test_anon(f) || is_huge_zero_folio(f)) return -EINVAL;  // file THPs: none
  if (folio_test_writeback(f)) return -EBUSY;
  // folio_get_anon_vma: the folio is locked and referenced, so its anon_vma stays.
  av = folio_anon_vma(f);
  if (av == nullptr) {
    ret = -EBUSY;
    goto out;
  }
  anon_vma_lock_write(av);
  // Racy check whether the folio can be split at all (before unmapping it).
  if (!can_split_folio(f, 1, &extra_pins)) {
    ret = -EAGAIN;
    goto out_unlock;
  }
  unmap_folio(f);
  // Prevent deferred_split_scan() touching ->_refcount.
  spin_lock(&ds_queue->split_queue_lock);
  if (folio_ref_freeze(f, folio_expected_ref_count(f) + 1)) {
    if (!list_empty(folio_deferred_list(f))) {
      ds_queue->split_queue_len--;
      list_del_init(folio_deferred_list(f));
    }
    if (folio_test_partially_mapped(f)) folio_clear_partially_mapped(f);
    // DEVIATION(huge_memory): Linux unlocks split_queue_lock here. Its PTEs are migration
    // entries by now, so no GUP, fault, zap or fork can reach the frozen folio; here they
    // still map it, and an unlock is a point where another path may run (and take a
    // reference on a refcount of 0). The lock is held until the refcounts are unfrozen,
    // which leaves no such point inside the frozen window.
    __split_folio_to_order(f, nr);
    // Unfreeze the new folios and put them where the head is; the head last.
    for (long i = 1; i < nr; i++) {
      folio* new_folio = f + i;
      folio_ref_unfreeze(new_folio, folio_expected_ref_count(new_folio) + 1);
      lru_add_split_folio(f, new_folio, list);
    }
    folio_ref_unfreeze(f, folio_expected_ref_count(f) + 1);
    spin_unlock(&ds_queue->split_queue_lock);
  } else {
    spin_unlock(&ds_queue->split_queue_lock);
    ret = -EAGAIN;
  }
  // remap_page: nothing to restore (see unmap_folio).
out_unlock:
  anon_vma_unlock_write(av);
  if (ret == 0) {
    // Drop the split's reference on every new folio but the caller's (the head, which
    // stays locked): a page nothing maps goes back to the allocator
    // (free_folio_and_swap_cache).
    for (long i = 1; i < nr; i++) folio_put(f + i);
  }
out:
  count_vm_event(!ret ? THP_SPLIT_PAGE : THP_SPLIT_PAGE_FAILED);  // order == HPAGE_PMD_ORDER
  trace_event("mm_split_huge_page", "pfn=%#lx ret=%d", page_to_pfn(f), ret);
  return ret;
}

// mm/huge_memory.c: split_huge_page_to_list_to_order. Only new_order 0 (no mTHP orders).
int split_huge_page_to_list_to_order(page* p, list_head* list, unsigned int new_order) {
  folio* f = page_folio(p);
  if (new_order != 0) return -EINVAL;
  return __folio_split(f, list);
}

// include/linux/huge_mm.h
int split_folio_to_list(folio* f, list_head* list) {
  return split_huge_page_to_list_to_order(f, list, 0);
}
int split_folio(folio* f) { return split_folio_to_list(f, nullptr); }

// ---- fork ----

// mm/huge_memory.c: copy_huge_pmd. The child shares the THP write-protected (as the
// PTE path shares small pages), or the pmd is split when the folio may be pinned.
int copy_huge_pmd(mm_struct* dst_mm, mm_struct* src_mm, pmd_t* dst_pmd, pmd_t* src_pmd,
                  unsigned long addr, vm_area_struct* dst_vma, vm_area_struct* src_vma) {
  // Skip if it can be refilled on fault.
  if (!vma_is_anonymous(dst_vma)) return 0;
  page* pgtable = pte_alloc_one(dst_mm);
  if (unlikely(pgtable == nullptr)) return -ENOMEM;
  // DEVIATION(pgtable): one page_table_lock per mm; both are taken, as Linux nests them.
  spinlock_t* dst_ptl = pmd_lock(dst_mm, dst_pmd);
  spinlock_t* src_ptl = pmd_lockptr(src_mm, src_pmd);
  spin_lock(src_ptl);
  pmd_t pmd = *src_pmd;
  if (unlikely(!pmd_trans_huge(pmd))) {
    pte_free(dst_mm, pgtable);
    spin_unlock(src_ptl);
    spin_unlock(dst_ptl);
    return -EAGAIN;
  }
  if (!is_huge_zero_pmd(pmd)) {
    page* src_page = pmd_page(pmd);
    VM_BUG_ON(!PageHead(src_page));
    folio* src_folio = page_folio(src_page);
    folio_get(src_folio);
    if (unlikely(folio_try_dup_anon_rmap_pmd(src_folio, src_page, dst_vma, src_vma))) {
      // Page maybe pinned: split and retry the fault on PTEs.
      folio_put(src_folio);
      pte_free(dst_mm, pgtable);
      spin_unlock(src_ptl);
      spin_unlock(dst_ptl);
      __split_huge_pmd(src_vma, src_pmd, addr, false);
      return -EAGAIN;
    }
    add_mm_counter(dst_mm, MM_ANONPAGES, HPAGE_PMD_NR);
  }
  mm_inc_nr_ptes(dst_mm);
  pgtable_trans_huge_deposit(dst_mm, dst_pmd, pgtable);
  pmdp_set_wrprotect(src_mm, addr, src_pmd);
  pmd = pmd_wrprotect(pmd);
  pmd = pmd_mkold(pmd);
  set_pmd_at(dst_mm, addr, dst_pmd, pmd);
  spin_unlock(src_ptl);
  spin_unlock(dst_ptl);
  return 0;
}

// ---- madvise and mmap ----

// mm/huge_memory.c: madvise_free_huge_pmd. MADV_FREE over a huge pmd: a THP the range
// covers whole becomes clean, old and lazy free without a split; one it covers only in
// part is split (split_folio: the pmd first), and the PTE walk then frees its part.
// True when the pmd was dealt with here.
bool madvise_free_huge_pmd(mmu_gather* tlb, vm_area_struct* vma, pmd_t* pmd, unsigned long addr,
                           unsigned long next) {
  mm_struct* mm = tlb->mm;
  bool ret = false;
  spinlock_t* ptl = __pmd_trans_huge_lock(pmd, vma);  // pmd_trans_huge_lock
  if (ptl == nullptr) return false;
  pmd_t orig_pmd = *pmd;
  folio* f;
  if (is_huge_zero_pmd(orig_pmd)) goto out;
  if (unlikely(!pmd_present(orig_pmd))) goto out;  // (no migration entries here)
  f = page_folio(pmd_page(orig_pmd));  // pmd_folio
  // Another process maps it too: it could be discarded only if all of them freed it.
  if (folio_maybe_mapped_shared(f)) goto out;
  if (!folio_trylock(f)) goto out;
  // Part of the THP: split it, so that MADV_FREE deactivates only that part.
  if (next - addr != HPAGE_PMD_SIZE) {
    folio_get(f);
    spin_unlock(ptl);
    split_folio(f);
    folio_unlock(f);
    folio_put(f);
    return false;
  }
  if (folio_test_dirty(f)) folio_clear_dirty(f);
  folio_unlock(f);
  if (pmd_young(orig_pmd) || pmd_dirty(orig_pmd)) {
    pmdp_invalidate(vma, addr, pmd);
    orig_pmd = pmd_mkold(orig_pmd);
    orig_pmd = pmd_mkclean(orig_pmd);
    set_pmd_at(mm, addr, pmd, orig_pmd);
    tlb_flush_pmd_range(tlb, addr, HPAGE_PMD_SIZE);  // tlb_remove_pmd_tlb_entry
  }
  folio_mark_lazyfree(f);
  trace_event("madvise_free_huge_pmd", "addr=%#lx pfn=%#lx", addr, folio_pfn(f));
  ret = true;
out:
  spin_unlock(ptl);
  return ret;
}

// mm/huge_memory.c: __discard_anon_folio_pmd_locked (6.15+: a redirtied folio is made
// swap-backed again here, without splitting the pmd). A clean lazy-free THP that only its
// mappings and the isolation hold goes whole: the pmd is cleared, the deposited table
// freed. False keeps it mapped (dirty, or another reference such as a GUP pin).
static bool __discard_anon_folio_pmd_locked(vm_area_struct* vma, unsigned long addr,
                                            pmd_t* pmdp, folio* f) {
  mm_struct* mm = vma->vm_mm;
  pmd_t orig_pmd = *pmdp;
  if (pmd_dirty(orig_pmd)) folio_set_dirty(f);
  // (No VM_DROPPABLE VMAs here.)
  if (folio_test_dirty(f)) {
    folio_set_swapbacked(f);
    return false;
  }
  orig_pmd = pmdp_huge_clear_flush(vma, addr, pmdp);
  // With the pmd clear, a GUP-fast racing in would have raised the refcount first.
  const int ref_count = folio_ref_count(f);
  const int map_count = folio_mapcount(f);
  if (pmd_dirty(orig_pmd)) folio_set_dirty(f);
  if (folio_test_dirty(f)) {
    folio_set_swapbacked(f);
    set_pmd_at(mm, addr, pmdp, orig_pmd);
    return false;
  }
  // The only references may be the isolation's and the mappings'.
  if (ref_count != map_count + 1) {
    set_pmd_at(mm, addr, pmdp, orig_pmd);
    return false;
  }
  folio_remove_rmap_pmd(f, pmd_page(orig_pmd), vma);
  zap_deposited_table(mm, pmdp);
  add_mm_counter(mm, MM_ANONPAGES, -HPAGE_PMD_NR);
  // (mlock_drain_local: no per-CPU mlock batches here.)
  folio_put(f);
  trace_event("discard_anon_folio_pmd", "addr=%#lx pfn=%#lx", addr, folio_pfn(f));
  return true;
}

// mm/huge_memory.c: unmap_huge_pmd_locked, for a lazy-free anon folio (try_to_unmap_one).
bool unmap_huge_pmd_locked(vm_area_struct* vma, unsigned long addr, pmd_t* pmdp, folio* f) {
  VM_WARN_ON_ONCE(!folio_test_locked(f));
  VM_WARN_ON_ONCE(!folio_test_anon(f));
  VM_WARN_ON_ONCE(folio_test_swapbacked(f));
  VM_WARN_ON_ONCE(addr & ~HPAGE_PMD_MASK);
  return __discard_anon_folio_pmd_locked(vma, addr, pmdp, f);
}


// mm/khugepaged.c: hugepage_madvise (no khugepaged to register with).
int hugepage_madvise(vm_area_struct* /*vma*/, vm_flags_t* vm_flags, int advice) {
  switch (advice) {
    case MADV_HUGEPAGE:
      *vm_flags &= ~VM_NOHUGEPAGE;
      *vm_flags |= VM_HUGEPAGE;
      break;
    case MADV_NOHUGEPAGE:
      *vm_flags &= ~VM_HUGEPAGE;
      *vm_flags |= VM_NOHUGEPAGE;
      break;
  }
  return 0;
}

// mm/huge_memory.c: __thp_get_unmapped_area. Ask for len + size, then place the mapping
// at the first `size` boundary inside (top-down: the highest one). 0 if that fails.
static unsigned long __thp_get_unmapped_area(file* filp, unsigned long addr, unsigned long len,
                                             loff_t off, unsigned long flags,
                                             unsigned long size) {
  const loff_t off_end = static_cast<loff_t>(
      (static_cast<unsigned long>(off) + len) & ~(size - 1));  // round_down(off + len, size)
  const loff_t off_align = static_cast<loff_t>(
      (static_cast<unsigned long>(off) + size - 1) & ~(size - 1));  // round_up(off, size)
  if (off_end <= off_align || static_cast<unsigned long>(off_end - off_align) < size) return 0;
  const unsigned long len_pad = len + size;
  if (len_pad < len || static_cast<unsigned long>(off) + len_pad < static_cast<unsigned long>(off))
    return 0;
  unsigned long ret = mm_get_unmapped_area(filp, addr, len_pad, static_cast<unsigned long>(off) >> PAGE_SHIFT, flags);
  // The padded search failed: mm_get_unmapped_area's own (unpadded) try decides.
  if (IS_ERR_VALUE(ret)) return 0;
  // Do not try to align to THP boundary if allocation at the address hint succeeds.
  if (ret == addr) return addr;
  const unsigned long off_sub = (static_cast<unsigned long>(off) - ret) & (size - 1);
  // Top-down (MMF_TOPDOWN, this port's only layout): the aligned start nearest the top.
  if (!off_sub) return ret + size;
  ret += off_sub;
  return ret;
}

// mm/huge_memory.c
unsigned long thp_get_unmapped_area_vmflags(file* filp, unsigned long addr, unsigned long len,
                                            unsigned long pgoff, unsigned long flags) {
  const loff_t off = static_cast<loff_t>(pgoff) << PAGE_SHIFT;
  unsigned long ret = __thp_get_unmapped_area(filp, addr, len, off, flags, PMD_SIZE);
  if (ret) return ret;
  return mm_get_unmapped_area(filp, addr, len, pgoff, flags);
}

}  // namespace kernel
