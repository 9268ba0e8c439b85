// mm/gup.cc: get_user_pages and pin_user_pages, the slow (page-table walking) path.
// Port of mm/gup.c at Linux 6.18, the parts process_vm_readv/writev, MAP_POPULATE and
// MADV_POPULATE_(READ|WRITE) (faultin_page_range) use.
//
// The 6.5+ shape throughout: is_valid_gup_args() with FOLL_UNLOCKABLE, no `vmas`,
// gup_vma_lookup() that never grows stacks, the must_unlock form of
// __get_user_pages_locked(), try_grab_folio() returning an errno and skipping the zero
// page, populate_vma_page_range() refusing PROT_NONE and forcing only read faults, and
// FOLL_HONOR_NUMA_FAULT not set (effective flags 0x2d0000/0x2d0001, docs/semantics.md §5.5).
//
// The walk here is the kernel's own software walk of the target's page tables
// (pgd_offset ... pte_offset_map_lock over the direct map). It never consults a TLB or
// the CPU's walker: the target need not be running, and its TLB is irrelevant.
//
// "Grab" in this file means: take a reference of the kind the gup_flags ask for. FOLL_GET
// adds 1 to the refcount (get_page); FOLL_PIN adds GUP_PIN_COUNTING_BIAS (1024) for a
// small folio, so folio_maybe_dma_pinned() can tell pinned pages apart, and for a large
// folio (a THP) 1 on the refcount and 1 on folio->_pincount, which counts pins exactly.
// A caller asks for
// one or the other, never both; pins are released with unpin_user_page*(), gets with
// put_page(). The zero page is never pinned (it cannot go away), so unpinning skips it too.
//
// Locking: __get_user_pages() runs with mmap_lock held for reading. A fault that sleeps
// (VM_FAULT_RETRY/COMPLETED) releases it; __get_user_pages_locked() then re-takes it
// (killable), retries that one page with FOLL_TRIED and goes on, and if the lock was ever
// dropped it returns with the lock released and *locked = 0, so the caller knows the VMAs
// it looked at before may be gone.
//
// Deviations (grep "DEVIATION(gup)"):
//  - No hugetlb: a PUD leaf never maps user memory (WARNed, treated as "no page"). A PMD
//    leaf is an anonymous THP or the huge zero folio (mm/huge_memory.cc).
//  - No gate area (vsyscall): in_gate_area() is false. With vsyscall=xonly, as on current
//    distributions, a GUP of the vsyscall page fails with EFAULT either way.
//  - No ZONE_DEVICE pgmaps, secretmem, shadow stacks, userfaultfd or soft-dirty
//    tracking: the checks for them are absent (they would never fire here).
//  - FOLL_LONGTERM: every page is longterm-pinnable (one ZONE_NORMAL, no CMA), so
//    check_and_migrate_movable_pages() never migrates.
//  - cond_resched() is a preemption point (mm/sched_hooks.h): sim/'s scheduler may run
//    another CPU's path there; with no scheduler it is one branch.
//  - untagged_addr_remote() is the identity (no LAM).
//  - "GUP no longer grows the stack" is a trace event, not a rate-limited printk.
#include <algorithm>

#include "mm/arch/x86/pkeys.h"
#include "mm/errno.h"
#include "mm/fault_inject.h"
#include "mm/fs.h"  // folio_mark_dirty, folio_mark_accessed
#include "mm/huge_mm.h"
#include "mm/mm.h"
#include "mm/sched_hooks.h"
#include "mm/trace.h"

namespace kernel {

// mm/internal.h
long populate_vma_page_range(vm_area_struct* vma, unsigned long start, unsigned long end,
                             int* locked);

// mm/internal.h: the flags only gup.c itself may set.
static constexpr unsigned int INTERNAL_GUP_FLAGS = FOLL_TOUCH | FOLL_TRIED | FOLL_REMOTE |
                                                   FOLL_PIN | FOLL_FAST_ONLY | FOLL_UNLOCKABLE |
                                                   FOLL_MADV_POPULATE;

struct follow_page_context {
  unsigned int page_mask;  // HPAGE_PMD_NR - 1 after a huge pmd, else 0
};

// mm/gup.c
static inline void sanity_check_pinned_pages(page** pages, unsigned long npages) {
#ifdef CONFIG_DEBUG_VM
  // Only exclusive anonymous pages are ever pinned, and a pinned page cannot become
  // shared (fork copies it), so PageAnonExclusive must still hold at unpin time.
  for (; npages; npages--, pages++) {
    page* page = *pages;
    folio* folio = page_folio(page);

    if (!folio_test_anon(folio)) continue;
    if (!folio_test_large(folio))
      VM_BUG_ON_PAGE(!PageAnonExclusive(folio), page);
    else  // either a PTE-mapped or a PMD-mapped THP
      VM_BUG_ON_PAGE(!PageAnonExclusive(folio) && !PageAnonExclusive(page), page);
  }
#else
  (void)pages;
  (void)npages;
#endif
}

// mm/gup.c: take `refs` references of the kind `flags` asks for. 0 or -ENOMEM.
// Inlined (as a small folio's path was before large folios lengthened it): it runs once per
// pinned page.
[[gnu::always_inline]] static inline int try_grab_folio(folio* folio, int refs, unsigned int flags) {
  if (WARN_ON_ONCE(folio_ref_count(folio) <= 0)) return -ENOMEM;

  if (flags & FOLL_GET) {
    folio_ref_add(folio, refs);
  } else if (flags & FOLL_PIN) {
    // The zero page is never freed and is mapped everywhere: pinning it would only make
    // its refcount a hot spot. So it is neither pinned nor, later, unpinned.
    if (is_zero_folio(folio)) return 0;

    // A large folio counts pins exactly (folio_has_pincount); a small one in the
    // refcount, GUP_PIN_COUNTING_BIAS each.
    if (folio_test_large(folio)) {
      folio_ref_add(folio, refs);
      atomic_add(refs, &folio_tail1(folio)->_pincount);
    } else {
      folio_ref_add(folio, refs * static_cast<int>(GUP_PIN_COUNTING_BIAS));
    }
    mod_node_page_state(NR_FOLL_PIN_ACQUIRED, refs);  // node_stat_mod_folio()
    trace_event("gup_pin", "pfn=%#lx refcount=%d", folio_pfn(folio), folio_ref_count(folio));
  }
  return 0;
}

// mm/gup.c: drop what try_grab_folio() took. Inlined, like try_grab_folio.
[[gnu::always_inline]] static inline void gup_put_folio(folio* folio, int refs, unsigned int flags) {
  if (flags & FOLL_PIN) {
    if (is_zero_folio(folio)) return;
    mod_node_page_state(NR_FOLL_PIN_RELEASED, refs);  // node_stat_mod_folio()
    if (folio_test_large(folio)) {
      atomic_sub(refs, &folio_tail1(folio)->_pincount);
    } else {
      refs *= static_cast<int>(GUP_PIN_COUNTING_BIAS);
    }
    trace_event("gup_unpin", "pfn=%#lx refcount=%d", folio_pfn(folio),
                folio_ref_count(folio) - refs);
  }

  folio_put_refs(folio, refs);
}

// mm/gup.c
void unpin_user_page(page* page) {
  sanity_check_pinned_pages(&page, 1);
  gup_put_folio(page_folio(page), 1, FOLL_PIN);
}

// mm/gup.c: the folio of list[i] and how many of the following entries share it.
static inline folio* gup_folio_next(page** list, unsigned long npages, unsigned long i,
                                    unsigned int* ntails) {
  folio* folio = page_folio(list[i]);
  unsigned long nr;

  // A small folio's only page is the folio itself, so an entry belongs to it exactly when
  // it is that page: the same run as the loop below, without reading the next entry's
  // struct page (the common case; the generic loop is the large-folio one).
  if (likely(!folio_test_large(folio))) {
    for (nr = i + 1; nr < npages; nr++) {
      if (list[nr] != folio) break;
    }
    *ntails = static_cast<unsigned int>(nr - i);
    return folio;
  }
  for (nr = i + 1; nr < npages; nr++) {
    if (page_folio(list[nr]) != folio) break;
  }

  *ntails = static_cast<unsigned int>(nr - i);
  return folio;
}

// mm/gup.c: unpin `npages` pages; with make_dirty, first mark each clean folio dirty
// under its lock, so writeback sees what was written through the pin.
void unpin_user_pages_dirty_lock(page** pages, unsigned long npages, bool make_dirty) {
  trace_call tc("unpin_user_pages_dirty_lock", "npages=%lu make_dirty=%d", npages,
                static_cast<int>(make_dirty));
  unsigned long i;
  folio* folio;
  unsigned int nr;

  if (!make_dirty) {
    unpin_user_pages(pages, npages);
    return;
  }

  sanity_check_pinned_pages(pages, npages);
  for (i = 0; i < npages; i += nr) {
    folio = gup_folio_next(pages, npages, i, &nr);
    // Racing with writeback's clear_page_dirty_for_io() is harmless either way: seeing
    // the folio dirty means writeback is about to write what we stored; seeing it clean
    // and dirtying it again costs at most one extra writeback.
    if (!folio_test_dirty(folio)) {
      folio_lock(folio);
      folio_mark_dirty(folio);
      folio_unlock(folio);
    }
    gup_put_folio(folio, static_cast<int>(nr), FOLL_PIN);
  }
}

// mm/gup.c
void unpin_user_pages(page** pages, unsigned long npages) {
  unsigned long i;
  folio* folio;
  unsigned int nr;

  // A negative count here almost always means a caller passed GUP's -errno straight on.
  if (WARN_ON(IS_ERR_VALUE(npages))) return;

  sanity_check_pinned_pages(pages, npages);
  for (i = 0; i < npages; i += nr) {
    folio = gup_folio_next(pages, npages, i, &nr);
    gup_put_folio(folio, static_cast<int>(nr), FOLL_PIN);
  }
}

// mm/gup.c
static inline void mm_set_has_pinned_flag(unsigned long* mm_flags) {
  if (!test_bit(MMF_HAS_PINNED, mm_flags)) set_bit(MMF_HAS_PINNED, mm_flags);
}

// mm/gup.c: what a missing table means. Only core dumps (FOLL_DUMP) turn a hole in an
// anonymous mapping into an error; everyone else faults the page in.
static page* no_page_table(vm_area_struct* vma, unsigned int flags, unsigned long /*address*/) {
  if (!(flags & FOLL_DUMP)) return nullptr;
  if (vma_is_anonymous(vma)) return ERR_PTR<page>(-EFAULT);
  return nullptr;
}

// mm/gup.c: a PTE with a pfn but no struct page (VM_PFNMAP/VM_MIXEDMAP).
static int follow_pfn_pte(vm_area_struct* vma, unsigned long address, pte_t* pte,
                          unsigned int flags) {
  if (flags & FOLL_TOUCH) {
    pte_t orig_entry = ptep_get(pte);
    pte_t entry = orig_entry;

    if (flags & FOLL_WRITE) entry = pte_mkdirty(entry);
    entry = pte_mkyoung(entry);

    if (!pte_same(orig_entry, entry)) {
      set_pte_at(vma->vm_mm, address, pte, entry);
      update_mmu_cache(vma, address, pte);
    }
  }

  // A proper PTE exists, but no struct page does.
  return -EEXIST;
}

// mm/gup.c: may this PTE be written through without a write fault first? Only if it is
// writable; FOLL_FORCE (ptrace, /proc/pid/mem) can also write an exclusive anon page of a
// private mapping that is mapped read-only. process_vm_writev never uses FOLL_FORCE.
static inline bool can_follow_write_pte(pte_t pte, page* page, vm_area_struct* vma,
                                        unsigned int flags) {
  if (pte_write(pte)) return true;
  if (!(flags & FOLL_FORCE)) return false;
  // FOLL_FORCE never writes shared mappings, ...
  if (vma->vm_flags & (VM_MAYSHARE | VM_SHARED)) return false;
  // ... read-only private ones, ...
  if (!(vma->vm_flags & VM_MAYWRITE)) return false;
  // ... or writable ones, which just need the write fault.
  if (vma->vm_flags & VM_WRITE) return false;
  // COW already broken and the page is ours alone: it could be mapped writable.
  // DEVIATION(gup): no soft-dirty or uffd-wp checks (neither is modelled).
  return page && PageAnon(page) && PageAnonExclusive(page);
}

// mm/internal.h: must a read-only pin of this page first "unshare" it (a fault with
// FAULT_FLAG_UNSHARE)? Yes for an anon page that may be shared (after fork, COW): a
// pin on a shared page could silently stop matching the target's mapping when COW later
// gives the target a copy. Write pins are already covered (the PTE had to be writable).
static inline bool gup_must_unshare(vm_area_struct* vma, unsigned int flags, page* page) {
  if ((flags & (FOLL_WRITE | FOLL_PIN)) != FOLL_PIN) return false;
  if (!PageAnon(page)) {
    // Short-term read pins of file/shared pages need nothing; long-term ones break COW
    // in private writable mappings early.
    if (!(flags & FOLL_LONGTERM)) return false;
    if (!vma) return true;
    return is_cow_mapping(vma->vm_flags);
  }
  return !PageAnonExclusive(page);
}

// include/linux/mm.h
static inline int vm_fault_to_errno(vm_fault_t vm_fault, int foll_flags) {
  if (vm_fault & VM_FAULT_OOM) return -ENOMEM;
  if (vm_fault & (VM_FAULT_HWPOISON | VM_FAULT_HWPOISON_LARGE))
    return (foll_flags & FOLL_HWPOISON) ? -EHWPOISON : -EFAULT;
  if (vm_fault & (VM_FAULT_SIGBUS | VM_FAULT_SIGSEGV)) return -EFAULT;
  return 0;
}

// include/linux/mm.h
static inline bool vma_is_accessible(const vm_area_struct* vma) {
  return vma->vm_flags & VM_ACCESS_FLAGS;
}

// mm/internal.h: NUMA-hinting PROT_NONE entries. Nothing sets FOLL_HONOR_NUMA_FAULT here.
static inline bool gup_can_follow_protnone(vm_area_struct* vma, unsigned int flags) {
  if (!(flags & FOLL_HONOR_NUMA_FAULT)) return true;
  return !vma_is_accessible(vma);
}

// mm/gup.c: the last level. Returns the page (grabbed per flags), null when a fault is
// needed (not present, or not writable for a write), ERR_PTR(-EMLINK) when a read pin
// must unshare first, or another ERR_PTR. Inlined into follow_pmd_mask: it is the common
// case of every GUP lookup.
[[gnu::always_inline]] static inline page* follow_page_pte(vm_area_struct* vma, unsigned long address, pmd_t* pmd,
                             unsigned int flags) {
  mm_struct* mm = vma->vm_mm;
  folio* folio;
  page* page;
  spinlock_t* ptl;
  pte_t *ptep, pte;
  int ret;

  // FOLL_GET and FOLL_PIN are mutually exclusive.
  if (WARN_ON_ONCE((flags & (FOLL_PIN | FOLL_GET)) == (FOLL_PIN | FOLL_GET)))
    return ERR_PTR<struct page>(-EINVAL);

  ptep = pte_offset_map_lock(mm, pmd, address, &ptl);
  if (!ptep) return no_page_table(vma, flags, address);
  pte = ptep_get(ptep);
  if (!pte_present(pte)) goto no_page;
  if (pte_protnone(pte) && !gup_can_follow_protnone(vma, flags)) goto no_page;

  page = vm_normal_page(vma, address, pte);

  // A write needs a writable PTE; otherwise go and take the write fault (COW, or the
  // zero page replaced by a fresh page).
  if ((flags & FOLL_WRITE) && !can_follow_write_pte(pte, page, vma, flags)) {
    page = nullptr;
    goto out;
  }

  if (unlikely(!page)) {
    if (flags & FOLL_DUMP) {
      // Leave special pages such as the zero page out of core dumps.
      page = ERR_PTR<struct page>(-EFAULT);
      goto out;
    }

    if (is_zero_pfn(pte_pfn(pte))) {
      page = pte_page(pte);
    } else {
      ret = follow_pfn_pte(vma, address, ptep, flags);
      page = ERR_PTR<struct page>(ret);
      goto out;
    }
  }
  folio = page_folio(page);

  if (!pte_write(pte) && gup_must_unshare(vma, flags, page)) {
    page = ERR_PTR<struct page>(-EMLINK);
    goto out;
  }

  VM_BUG_ON_PAGE((flags & FOLL_PIN) && PageAnon(page) && !PageAnonExclusive(page), page);

  // try_grab_folio() does nothing unless FOLL_GET or FOLL_PIN is set.
  ret = try_grab_folio(folio, 1, flags);
  if (unlikely(ret)) {
    page = ERR_PTR<struct page>(ret);
    goto out;
  }

  if (flags & FOLL_TOUCH) {
    // A write through the pin will dirty the page behind the PTE's back: say so now.
    if ((flags & FOLL_WRITE) && !pte_dirty(pte) && !folio_test_dirty(folio))
      folio_mark_dirty(folio);
    // Setting the PTE's A bit would be more precise, but folio_mark_accessed() needs no
    // care about racing with the hardware setting D.
    folio_mark_accessed(folio);
  }
out:
  pte_unmap_unlock(ptep, ptl);
  return page;
no_page:
  pte_unmap_unlock(ptep, ptl);
  if (!pte_none(pte)) return nullptr;
  return no_page_table(vma, flags, address);
}

// mm/gup.c: can_follow_write_pmd, can_follow_write_pte's twin for a huge pmd.
static inline bool can_follow_write_pmd(pmd_t pmd, page* page, vm_area_struct* vma,
                                        unsigned int flags) {
  if (pmd_write(pmd)) return true;
  if (!(flags & FOLL_FORCE)) return false;
  if (vma->vm_flags & (VM_MAYSHARE | VM_SHARED)) return false;
  if (!(vma->vm_flags & VM_MAYWRITE)) return false;
  if (vma->vm_flags & VM_WRITE) return false;
  return page && PageAnon(page) && PageAnonExclusive(page);
}

// mm/gup.c: follow_huge_pmd. The page of the THP at addr, with the whole folio grabbed
// once (the caller grabs the rest of the run through ctx->page_mask). PMD lock held.
static page* follow_huge_pmd(vm_area_struct* vma, unsigned long addr, pmd_t* pmd,
                             unsigned int flags, follow_page_context* ctx) {
  pmd_t pmdval = *pmd;
  page* page = pmd_page(pmdval);
  int ret;

  if ((flags & FOLL_WRITE) && !can_follow_write_pmd(pmdval, page, vma, flags)) return nullptr;
  // Avoid dumping the huge zero page.
  if ((flags & FOLL_DUMP) && is_huge_zero_pmd(pmdval)) return ERR_PTR<struct page>(-EFAULT);
  if (pmd_protnone(*pmd) && !gup_can_follow_protnone(vma, flags)) return nullptr;
  if (!pmd_write(pmdval) && gup_must_unshare(vma, flags, page))
    return ERR_PTR<struct page>(-EMLINK);
  VM_BUG_ON_PAGE((flags & FOLL_PIN) && PageAnon(page) && !PageAnonExclusive(page), page);

  ret = try_grab_folio(page_folio(page), 1, flags);
  if (ret) return ERR_PTR<struct page>(ret);
  if (flags & FOLL_TOUCH) {
    // touch_pmd: the accessed bit, and for a write the dirty bit, as a fault would set.
    pmd_t entry = pmd_mkyoung(pmdval);
    if (flags & FOLL_WRITE) entry = pmd_mkdirty(entry);
    if (pmdp_set_access_flags(vma, addr & HPAGE_PMD_MASK, pmd, entry, flags & FOLL_WRITE))
      update_mmu_cache_pmd(vma, addr, pmd);
  }
  page += (addr & ~HPAGE_PMD_MASK) >> PAGE_SHIFT;
  ctx->page_mask = HPAGE_PMD_NR - 1;
  return page;
}

// mm/gup.c
static page* follow_pmd_mask(vm_area_struct* vma, unsigned long address, pud_t* pudp,
                             unsigned int flags, follow_page_context* ctx) {
  pmd_t *pmd, pmdval;
  mm_struct* mm = vma->vm_mm;
  spinlock_t* ptl;
  page* page;

  pmd = pmd_offset(pudp, address);
  pmdval = pmdp_get(pmd);
  if (pmd_none(pmdval)) return no_page_table(vma, flags, address);
  if (!pmd_present(pmdval)) return no_page_table(vma, flags, address);
  if (likely(!pmd_leaf(pmdval))) return follow_page_pte(vma, address, pmd, flags);

  if (pmd_protnone(pmdval) && !gup_can_follow_protnone(vma, flags))
    return no_page_table(vma, flags, address);
  ptl = pmd_lock(mm, pmd);
  pmdval = *pmd;
  if (unlikely(!pmd_present(pmdval))) {
    spin_unlock(ptl);
    return no_page_table(vma, flags, address);
  }
  if (unlikely(!pmd_leaf(pmdval))) {
    spin_unlock(ptl);
    return follow_page_pte(vma, address, pmd, flags);
  }
  if (pmd_trans_huge(pmdval) && (flags & FOLL_SPLIT_PMD)) {
    spin_unlock(ptl);
    __split_huge_pmd(vma, pmd, address, false);  // split_huge_pmd
    return pte_alloc(mm, pmd) ? ERR_PTR<struct page>(-ENOMEM)
                              : follow_page_pte(vma, address, pmd, flags);
  }
  page = follow_huge_pmd(vma, address, pmd, flags, ctx);
  spin_unlock(ptl);
  return page;
}

// mm/gup.c
static page* follow_pud_mask(vm_area_struct* vma, unsigned long address, p4d_t* p4dp,
                             unsigned int flags, follow_page_context* ctx) {
  pud_t *pudp, pud;

  pudp = pud_offset(p4dp, address);
  pud = pudp_get(pudp);
  if (!pud_present(pud)) return no_page_table(vma, flags, address);
  if (pud_leaf(pud)) {
    // DEVIATION(gup): no hugetlb, so no user mapping has a PUD leaf.
    WARN_ON_ONCE(1);
    return no_page_table(vma, flags, address);
  }
  if (unlikely(pud_bad(pud))) return no_page_table(vma, flags, address);

  return follow_pmd_mask(vma, address, pudp, flags, ctx);
}

// mm/gup.c
static page* follow_p4d_mask(vm_area_struct* vma, unsigned long address, pgd_t* pgdp,
                             unsigned int flags, follow_page_context* ctx) {
  p4d_t *p4dp, p4d;

  p4dp = p4d_offset(pgdp, address);
  p4d = p4dp_get(p4dp);
  static_assert(true, "p4d_leaf() is always false on x86-64 4-level paging");
  if (!p4d_present(p4d) || p4d_bad(p4d)) return no_page_table(vma, flags, address);

  return follow_pud_mask(vma, address, p4dp, flags, ctx);
}

// mm/gup.c: find the page mapped at `address` in vma's mm by walking its page tables in
// software. Returns the page (grabbed per flags), null if a fault is needed, or an
// ERR_PTR: -EMLINK (unshare first), -EEXIST (a pfn without struct page), -EFAULT ...
static page* follow_page_mask(vm_area_struct* vma, unsigned long address, unsigned int flags,
                              follow_page_context* ctx) {
  trace_call tc("follow_page_mask", "address=%#lx flags=%#x", address, flags);
  pgd_t* pgd;
  mm_struct* mm = vma->vm_mm;
  page* page;

  ctx->page_mask = 0;
  pgd = pgd_offset(mm, address);

  if (pgd_none(*pgd) || unlikely(pgd_bad(*pgd)))
    page = no_page_table(vma, flags, address);
  else
    page = follow_p4d_mask(vma, address, pgd, flags, ctx);

  // Traced result: the pfn, 0 for "no page, fault it in", or a negative errno.
  if (trace_enabled())
    tc.ret(page == nullptr ? 0L : IS_ERR(page) ? PTR_ERR(page) : static_cast<long>(page_to_pfn(page)));
  return page;
}

// mm/gup.c: fault the page in on behalf of GUP. Returns 0 (retry the lookup), -EBUSY or
// -EAGAIN (the fault dropped mmap_lock: *locked is now 0), or -EFAULT/-ENOMEM/-EHWPOISON.
// Out of line and cold: inlined into __get_user_pages, GCC computed its fault_flags on
// every page of the loop (about 18 instructions per page) whether or not a fault followed.
[[gnu::noinline, gnu::cold]] static int faultin_page(vm_area_struct* vma, unsigned long address, unsigned int flags,
                        bool unshare, int* locked) {
  unsigned int fault_flags = 0;
  vm_fault_t ret;

  if (flags & FOLL_NOFAULT) return -EFAULT;
  if (flags & FOLL_WRITE) fault_flags |= FAULT_FLAG_WRITE;
  if (flags & FOLL_REMOTE) fault_flags |= FAULT_FLAG_REMOTE;
  if (flags & FOLL_UNLOCKABLE) {
    fault_flags |= FAULT_FLAG_ALLOW_RETRY | FAULT_FLAG_KILLABLE;
    if (flags & FOLL_INTERRUPTIBLE) fault_flags |= FAULT_FLAG_INTERRUPTIBLE;
  }
  if (flags & FOLL_NOWAIT) fault_flags |= FAULT_FLAG_ALLOW_RETRY | FAULT_FLAG_RETRY_NOWAIT;
  if (flags & FOLL_TRIED) {
    // ALLOW_RETRY and TRIED may be set together.
    fault_flags |= FAULT_FLAG_TRIED;
  }
  if (unshare) {
    fault_flags |= FAULT_FLAG_UNSHARE;
    // A write fault and an unshare fault never go together.
    VM_BUG_ON(fault_flags & FAULT_FLAG_WRITE);
  }

  trace_call tc("faultin_page", "address=%#lx fault_flags=%#x", address, fault_flags);
  ret = handle_mm_fault(vma, address, fault_flags, nullptr);

  if (ret & VM_FAULT_COMPLETED) {
    // The fault finished but released mmap_lock on the way: not an error, but the caller
    // must take the lock again before it goes on.
    WARN_ON_ONCE(fault_flags & FAULT_FLAG_RETRY_NOWAIT);
    *locked = 0;
    return tc.ret(-EAGAIN);
  }

  if (ret & VM_FAULT_ERROR) {
    int err = vm_fault_to_errno(ret, static_cast<int>(flags));

    if (err) return tc.ret(err);
    BUG();
  }

  if (ret & VM_FAULT_RETRY) {
    if (!(fault_flags & FAULT_FLAG_RETRY_NOWAIT)) *locked = 0;
    return tc.ret(-EBUSY);
  }

  return tc.ret(0);
}

// mm/gup.c: may this VMA be accessed at all the way gup_flags want? (Per page, the PTE
// is checked again in follow_page_pte.)
static int check_vma_flags(vm_area_struct* vma, unsigned long gup_flags) {
  vm_flags_t vm_flags = vma->vm_flags;
  int write = (gup_flags & FOLL_WRITE);
  bool vma_anon = vma_is_anonymous(vma);

  if (vm_flags & (VM_IO | VM_PFNMAP)) return -EFAULT;

  if ((gup_flags & FOLL_ANON) && !vma_anon) return -EFAULT;

  // DEVIATION(gup): no fsdax, hugetlb or secretmem VMAs, so those checks are absent.

  if (write) {
    if (!(vm_flags & VM_WRITE)) {
      if (!(gup_flags & FOLL_FORCE)) return -EFAULT;
      // FOLL_FORCE may write a read-only private (COW) mapping, never a shared one.
      if (!is_cow_mapping(vm_flags)) return -EFAULT;
    }
  } else if (!(vm_flags & VM_READ)) {
    if (!(gup_flags & FOLL_FORCE)) return -EFAULT;
    if (!(vm_flags & VM_MAYREAD)) return -EFAULT;
  }
  // gups are always data accesses, not instruction fetches, so execute=false here.
  const bool foreign = (gup_flags & FOLL_REMOTE);
  if (!arch_vma_access_permitted(vma, write, false, foreign)) return -EFAULT;
  return 0;
}

// mm/gup.c (6.5+): the VMA containing addr, or null. Unlike find_extend_vma() before it,
// this never grows a VM_GROWSDOWN stack down to addr.
static vm_area_struct* gup_vma_lookup(mm_struct* mm, unsigned long addr) {
  vm_area_struct* vma;

  vma = find_vma(mm, addr);
  if (!vma || (addr >= vma->vm_start)) return vma;

  // Only worth a note when the access was just below a stack.
  if (!(vma->vm_flags & VM_GROWSDOWN)) return nullptr;
  if (vma->vm_start - addr > 65536) return nullptr;

  // DEVIATION(gup): Linux prints "GUP no longer grows the stack" at most once an hour.
  trace_event("gup_no_stack_growth", "addr=%#lx vma=%#lx-%#lx", addr, vma->vm_start, vma->vm_end);
  return nullptr;
}

// mm/gup.c: look up (and fault in as needed) nr_pages pages from start, storing them in
// pages[] grabbed per gup_flags (or only faulting them in, when pages is null). Must be
// called with mmap_lock held for reading; a fault may release it, which shows as
// *locked == 0 and a short count. Returns the number of leading pages done, or, when that
// is 0, the error (0 if the lock was dropped before the first page).
static long __get_user_pages(mm_struct* mm, unsigned long start, unsigned long nr_pages,
                             unsigned int gup_flags, page** pages, int* locked) {
  trace_call tc("__get_user_pages", "start=%#lx nr_pages=%lu gup_flags=%#x", start, nr_pages,
                gup_flags);
  long ret = 0, i = 0;
  vm_area_struct* vma = nullptr;
  follow_page_context ctx = {0};

  if (!nr_pages) return tc.ret(0L);

  // untagged_addr_remote(mm, start): DEVIATION(gup): no LAM, the identity.

  VM_BUG_ON(!!pages != !!(gup_flags & (FOLL_GET | FOLL_PIN)));

  do {
    page* page;
    unsigned int page_increm;

    // first iteration or cross vma bound
    if (!vma || start >= vma->vm_end) {
      // MADV_POPULATE_(READ|WRITE) wants its own lookup and error codes.
      if (gup_flags & FOLL_MADV_POPULATE) {
        vma = vma_lookup(mm, start);
        if (!vma) {
          ret = -ENOMEM;
          goto out;
        }
        if (check_vma_flags(vma, gup_flags)) {
          ret = -EINVAL;
          goto out;
        }
        goto retry;
      }
      vma = gup_vma_lookup(mm, start);
      // in_gate_area(mm, start) / get_gate_page(): DEVIATION(gup): no gate area.
      if (!vma) {
        ret = -EFAULT;
        goto out;
      }
      ret = check_vma_flags(vma, gup_flags);
      if (ret) goto out;
    }
    // DEVIATION(gup): the fail_gup injection point, passed once per page (not per
    // retry after a fault): this page cannot be had, as if memory ran out.
    if (should_fail_point(FAIL_GUP, PAGE_SIZE)) {
      ret = -ENOMEM;
      goto out;
    }
retry:
    // A task with SIGKILL pending should not go on faulting and allocating.
    if (fatal_signal_pending(current())) {
      ret = -EINTR;
      goto out;
    }
    cond_resched();

    page = follow_page_mask(vma, start, gup_flags, &ctx);
    if (!page || PTR_ERR(page) == -EMLINK) {
      ret = faultin_page(vma, start, gup_flags, PTR_ERR(page) == -EMLINK, locked);
      switch (ret) {
        case 0:
          goto retry;
        case -EBUSY:
        case -EAGAIN:
          ret = 0;
          [[fallthrough]];
        case -EFAULT:
        case -ENOMEM:
        case -EHWPOISON:
          goto out;
      }
      BUG();
    } else if (PTR_ERR(page) == -EEXIST) {
      // A PTE with no struct page behind it: fine for a fault-in, but there is nothing
      // to put in pages[].
      if (pages) {
        ret = PTR_ERR(page);
        goto out;
      }
    } else if (IS_ERR(page)) {
      ret = PTR_ERR(page);
      goto out;
    }
    // The common case first: a page of a small folio (page_mask 0) is a run of one page,
    // which the kernel's formula below also gives; testing for it saves the arithmetic and
    // lets the compiler see a one-page run.
    if (likely(!ctx.page_mask)) {
      page_increm = 1;
    } else {
      page_increm = 1 + (~(start >> PAGE_SHIFT) & ctx.page_mask);
      if (page_increm > nr_pages) page_increm = static_cast<unsigned int>(nr_pages);
    }

    if (pages) {
      // Part of a large folio: the rest of the run is grabbed too (we hold a reference
      // already, so this cannot fail).
      if (unlikely(page_increm > 1)) {
        folio* folio = page_folio(page);
        if (try_grab_folio(folio, static_cast<int>(page_increm) - 1, gup_flags)) {
          gup_put_folio(folio, 1, gup_flags);
          ret = -EFAULT;
          goto out;
        }
      }
      // flush_anon_page()/flush_dcache_page(): nothing to do on x86. The first page is
      // stored outside the loop, so a one-page run costs no loop set-up (GCC vectorises
      // the loop, whose prologue cost ~15 instructions per page).
      pages[i] = page;
      for (unsigned int j = 1; j < page_increm; j++) pages[i + j] = page + j;
    }
    i += page_increm;
    start += page_increm * PAGE_SIZE;
    nr_pages -= page_increm;
  } while (nr_pages);
out:
  return tc.ret(i ? i : ret);
}

// mm/gup.c: __get_user_pages() plus the mmap_lock dance. *locked == 1 on entry means the
// caller holds mmap_lock for reading; *locked == 0 means "take it yourself and drop it
// before returning". If the lock had to be dropped for a fault, the faulting page is
// retried alone with FOLL_TRIED after re-taking the lock (killable), and on return the
// lock is released and *locked == 0.
static long __get_user_pages_locked(mm_struct* mm, unsigned long start, unsigned long nr_pages,
                                    page** pages, int* locked, unsigned int flags) {
  long ret, pages_done;
  bool must_unlock = false;

  if (!nr_pages) return 0;

  // Internal callers may ask GUP to manage the lock itself.
  if (!*locked) {
    if (mmap_read_lock_killable(mm)) return -EAGAIN;
    must_unlock = true;
    *locked = 1;
  } else {
    mmap_assert_locked(mm);
  }

  if (flags & FOLL_PIN) mm_set_has_pinned_flag(&mm->flags);

  // FOLL_PIN and FOLL_GET exclude each other; a caller that wants pages[] but asked for
  // neither gets the traditional FOLL_GET.
  if (pages && !(flags & FOLL_PIN)) flags |= FOLL_GET;

  pages_done = 0;
  for (;;) {
    ret = __get_user_pages(mm, start, nr_pages, flags, pages, locked);
    if (!(flags & FOLL_UNLOCKABLE)) {
      // VM_FAULT_RETRY could not have happened.
      pages_done = ret;
      break;
    }

    // A dropped lock is never reported together with an error.
    if (!*locked) {
      BUG_ON(ret < 0);
      BUG_ON(ret >= static_cast<long>(nr_pages));
    }

    if (ret > 0) {
      nr_pages -= static_cast<unsigned long>(ret);
      pages_done += ret;
      if (!nr_pages) break;
    }
    if (*locked) {
      // No retry was needed (or FOLL_NOWAIT): report what we have, or the error.
      if (!pages_done) pages_done = ret;
      break;
    }
    // The fault at `start + ret pages` dropped the lock: move there.
    if (likely(pages)) pages += ret;
    start += static_cast<unsigned long>(ret) << PAGE_SHIFT;

    // The lock was dropped once, so it must be released on return.
    must_unlock = true;

  retry:
    // Retry the faulting page with FAULT_FLAG_ALLOW_RETRY|FAULT_FLAG_TRIED. A fatal
    // signal must end this, or it could loop for ever.
    if (fatal_signal_pending(current())) {
      if (!pages_done) pages_done = -EINTR;
      break;
    }

    ret = mmap_read_lock_killable(mm);
    if (ret) {
      BUG_ON(ret > 0);
      if (!pages_done) pages_done = ret;
      break;
    }

    *locked = 1;
    ret = __get_user_pages(mm, start, 1, flags | FOLL_TRIED, pages, locked);
    if (!*locked) {
      // Dropped again: keep retrying until it sticks.
      BUG_ON(ret != 0);
      goto retry;
    }
    if (ret != 1) {
      BUG_ON(ret > 1);
      if (!pages_done) pages_done = ret;
      break;
    }
    nr_pages--;
    pages_done++;
    if (!nr_pages) break;
    if (likely(pages)) pages++;
    start += PAGE_SIZE;
  }
  if (must_unlock && *locked) {
    // Tell the caller that the critical section it thought it had was interrupted.
    mmap_read_unlock(mm);
    *locked = 0;
  }
  return pages_done;
}

// mm/gup.c: with no CMA or ZONE_MOVABLE every folio is longterm-pinnable, so there is
// never anything to migrate. DEVIATION(gup): see banner.
static long check_and_migrate_movable_pages(unsigned long /*nr_pages*/, page** /*pages*/) {
  return 0;
}

// mm/gup.c: the FOLL_LONGTERM wrapper around __get_user_pages_locked().
static long __gup_longterm_locked(mm_struct* mm, unsigned long start, unsigned long nr_pages,
                                  page** pages, int* locked, unsigned int gup_flags) {
  long rc, nr_pinned_pages;

  if (!(gup_flags & FOLL_LONGTERM))
    return __get_user_pages_locked(mm, start, nr_pages, pages, locked, gup_flags);

  // memalloc_pin_save()/restore(): no movable zones to steer allocations away from.
  do {
    nr_pinned_pages = __get_user_pages_locked(mm, start, nr_pages, pages, locked, gup_flags);
    if (nr_pinned_pages <= 0) {
      rc = nr_pinned_pages;
      break;
    }

    // FOLL_LONGTERM implies FOLL_PIN.
    rc = check_and_migrate_movable_pages(static_cast<unsigned long>(nr_pinned_pages), pages);
  } while (rc == -EAGAIN);

  return rc ? rc : nr_pinned_pages;
}

// mm/gup.c: validate the flags an exported entry point was given and add the ones it
// implies (`to_set`, and FOLL_UNLOCKABLE when the caller can cope with a dropped lock).
static bool is_valid_gup_args(page** pages, int* locked, unsigned int* gup_flags_p,
                              unsigned int to_set) {
  unsigned int gup_flags = *gup_flags_p;

  // Internal flags may not come from outside gup.c.
  if (WARN_ON_ONCE(gup_flags & INTERNAL_GUP_FLAGS)) return false;

  gup_flags |= to_set;
  if (locked) {
    // At the external interface the caller must hold the lock.
    if (WARN_ON_ONCE(*locked != 1)) return false;

    gup_flags |= FOLL_UNLOCKABLE;
  }

  // FOLL_GET and FOLL_PIN are mutually exclusive.
  if (WARN_ON_ONCE((gup_flags & (FOLL_PIN | FOLL_GET)) == (FOLL_PIN | FOLL_GET))) return false;

  // LONGTERM can only be specified when pinning.
  if (WARN_ON_ONCE(!(gup_flags & FOLL_PIN) && (gup_flags & FOLL_LONGTERM))) return false;

  // Pages input must be given if using GET/PIN.
  if (WARN_ON_ONCE((gup_flags & (FOLL_GET | FOLL_PIN)) && !pages)) return false;

  *gup_flags_p = gup_flags;
  return true;
}

// mm/gup.c: take references (FOLL_GET) on pages of another mm. Returns the number of
// leading pages, or an error if the first page failed.
long get_user_pages_remote(mm_struct* mm, unsigned long start, unsigned long nr_pages,
                           unsigned int gup_flags, page** pages, int* locked) {
  trace_call tc("get_user_pages_remote", "start=%#lx nr_pages=%lu gup_flags=%#x", start,
                nr_pages, gup_flags);
  int local_locked = 1;

  if (!is_valid_gup_args(pages, locked, &gup_flags,
                         FOLL_TOUCH | FOLL_REMOTE | (pages ? FOLL_GET : 0)))
    return tc.ret(-EINVAL);
  return tc.ret(__get_user_pages_locked(mm, start, nr_pages, pages,
                                        locked ? locked : &local_locked, gup_flags));
}

// mm/gup.c: pin (FOLL_PIN) nr_pages pages of another mm from start, faulting them in as
// needed; mmap_lock of mm held for reading on entry. With `locked` the lock may be dropped
// (then *locked == 0 on return and the caller must not unlock). Returns the number of
// leading pages pinned (possibly fewer than asked), or an error if the very first page
// could not be pinned; 0 for invalid arguments. Release with unpin_user_page*().
long pin_user_pages_remote(mm_struct* mm, unsigned long start, unsigned long nr_pages,
                           unsigned int gup_flags, page** pages, int* locked) {
  trace_call tc("pin_user_pages_remote", "start=%#lx nr_pages=%lu gup_flags=%#x", start,
                nr_pages, gup_flags);
  int local_locked = 1;

  if (!is_valid_gup_args(pages, locked, &gup_flags, FOLL_PIN | FOLL_TOUCH | FOLL_REMOTE))
    return tc.ret(0L);
  return tc.ret(__gup_longterm_locked(mm, start, nr_pages, pages,
                                      locked ? locked : &local_locked, gup_flags));
}

// mm/gup.c: fault in [start, end) of one VMA (MAP_POPULATE, mlock) without keeping any
// reference: writable private mappings are write-faulted (to break COW now), shared ones
// read-faulted (not to dirty them for nothing). mmap_lock held; with `locked` it may be
// dropped. Returns the pages done or an error.
long populate_vma_page_range(vm_area_struct* vma, unsigned long start, unsigned long end,
                             int* locked) {
  mm_struct* mm = vma->vm_mm;
  unsigned long nr_pages = (end - start) / PAGE_SIZE;
  int local_locked = 1;
  unsigned int gup_flags;
  long ret;

  VM_BUG_ON(start & ~PAGE_MASK);
  VM_BUG_ON(end & ~PAGE_MASK);
  VM_BUG_ON_VMA(start < vma->vm_start, vma);
  VM_BUG_ON_VMA(end > vma->vm_end, vma);
  mmap_assert_locked(mm);

  // A VM_LOCKONFAULT VMA (mlock2 MLOCK_ONFAULT) locks pages as they fault in: populate
  // has nothing to do (and has never broken COW there).
  if (vma->vm_flags & VM_LOCKONFAULT) return static_cast<long>(nr_pages);

  // PROT_NONE pages have never been faulted in by populate.
  if (!vma_is_accessible(vma)) return -EFAULT;

  gup_flags = FOLL_TOUCH;
  // Write-fault writable private mappings to break COW now; shared mappings do not COW
  // and would only be dirtied for nothing. Anything else is read-faulted, forced in case
  // it is not readable (write-only or exec-only).
  if ((vma->vm_flags & (VM_WRITE | VM_SHARED)) == VM_WRITE)
    gup_flags |= FOLL_WRITE;
  else
    gup_flags |= FOLL_FORCE;

  if (locked) gup_flags |= FOLL_UNLOCKABLE;

  // addr is inside the VMA, so no stack expansion can recurse back here.
  ret = __get_user_pages(mm, start, nr_pages, gup_flags, nullptr, locked ? locked : &local_locked);
  // lru_add_drain(): no per-CPU LRU batches here.
  return ret;
}

// mm/gup.c: faultin_page_range, MADV_POPULATE_(READ|WRITE)'s fault-in of [start, end) of
// mm, across VMAs. FOLL_MADV_POPULATE makes __get_user_pages look each VMA up itself and
// report what madvise wants: -ENOMEM where no VMA is, -EINVAL for one the access is not
// allowed in (check_vma_flags: PROT_NONE, a read-only range for a write, VM_IO|VM_PFNMAP).
// No FOLL_FORCE: the VMA's own permissions rule. FOLL_TOUCH marks what it finds accessed
// (and, with FOLL_WRITE, dirty); FOLL_HWPOISON turns a poisoned page into -EHWPOISON. A
// VM_LOCKED VMA's pages are mlocked by the faults themselves. mmap_lock held for reading;
// if a fault drops it, *locked is 0 on return. Returns the pages done or an error.
long faultin_page_range(mm_struct* mm, unsigned long start, unsigned long end, bool write,
                        int* locked) {
  unsigned long nr_pages = (end - start) / PAGE_SIZE;
  unsigned int gup_flags;
  long ret;

  VM_WARN_ON_ONCE(start & ~PAGE_MASK);
  VM_WARN_ON_ONCE(end & ~PAGE_MASK);
  mmap_assert_locked(mm);

  gup_flags = FOLL_TOUCH | FOLL_HWPOISON | FOLL_UNLOCKABLE | FOLL_MADV_POPULATE;
  if (write) gup_flags |= FOLL_WRITE;

  ret = __get_user_pages_locked(mm, start, nr_pages, nullptr, locked, gup_flags);
  // lru_add_drain(): no per-CPU LRU batches here.
  return ret;
}

// mm/gup.c: populate (fault in) the pages of [start, start + len) of current's mm, VMA by
// VMA, for MAP_POPULATE. Takes and releases mmap_lock itself. 0 or a negative errno.
int __mm_populate(unsigned long start, unsigned long len, int ignore_errors) {
  mm_struct* mm = current()->mm;
  unsigned long end, nstart, nend = 0;
  vm_area_struct* vma = nullptr;
  int locked = 0;
  long ret = 0;

  end = start + len;

  for (nstart = start; nstart < end; nstart = nend) {
    // Find the first VMA that meets [nstart, end).
    if (!locked) {
      locked = 1;
      mmap_read_lock(mm);
      vma = find_vma_intersection(mm, nstart, end);
    } else if (nstart >= vma->vm_end) {
      vma = find_vma_intersection(mm, vma->vm_end, end);
    }

    if (!vma) break;
    // [nstart, nend) = the part of the range in this VMA; skip VMAs without pages.
    nend = std::min(end, vma->vm_end);
    if (vma->vm_flags & (VM_IO | VM_PFNMAP)) continue;
    if (nstart < vma->vm_start) nstart = vma->vm_start;
    ret = populate_vma_page_range(vma, nstart, nend, &locked);
    if (ret < 0) {
      if (ignore_errors) {
        ret = 0;
        continue;  // go on with the next VMA
      }
      break;
    }
    nend = nstart + static_cast<unsigned long>(ret) * PAGE_SIZE;
    ret = 0;
  }
  if (locked) mmap_read_unlock(mm);
  return static_cast<int>(ret);  // 0 or negative error code
}

}  // namespace kernel
