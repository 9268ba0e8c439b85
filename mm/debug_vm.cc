// mm/debug_vm.cc: the whole-machine checker declared in debug_vm.h. Its rules come from
// the invariants Linux's CONFIG_DEBUG_VM and page-table checks (mm/debug.c,
// mm/page_table_check.c, bad_page in mm/page_alloc.c) enforce piecemeal; the global walk
// is this port's own.
#include "mm/debug_vm.h"

#include <map>
#include <set>
#include <unordered_map>
#include <utility>
#include <vector>

#include "absl/strings/str_format.h"
#include "mm/arch/x86/init.h"
#include "mm/fs.h"
#include "mm/huge_mm.h"
#include "mm/mm.h"
#include "mm/mmzone.h"
#include "mm/swap.h"

namespace kernel {
namespace {

// An mm as reports name it: its ctx_id (never reused; stable from run to run, unlike its
// host address, so reports are deterministic).
unsigned long long mmid(const mm_struct* mm) {
  return static_cast<unsigned long long>(mm->context.ctx_id);
}

enum frame_state : unsigned char { FS_UNKNOWN, FS_FREE, FS_TABLE, FS_RESERVED };

class checker {
 public:
  checker(kernel_state* ks, std::string* report, const debug_vm_options& opts)
      : ks_(ks), report_(report), opts_(opts) {}

  int run() {
    const unsigned long n = ks_->max_pfn;
    state_.assign(n, FS_UNKNOWN);
    mappings_.assign(n, 0);
    pmd_mappings_.assign(n, 0);
    mm_id_maps_.clear();
    table_refs_.assign(n, 0);
    cached_.assign(n, nullptr);
    check_buddy();
    check_lru();
    collect_mms();
    check_page_caches();
    for (mm_struct* mm : mms_) walk_mm(mm);
    check_frames();
    check_swap();
    check_stats();
    if (opts_.check_tlb) check_tlbs();
    return violations_;
  }

 private:
  template <typename... Args>
  void fail(const absl::FormatSpec<Args...>& fmt, const Args&... args) {
    ++violations_;
    if (report_ != nullptr && violations_ <= 100) {
      report_->append("debug_vm: ");
      report_->append(absl::StrFormat(fmt, args...));
      report_->push_back('\n');
    }
  }

  // The LRU lists: each folio on the list its flags name (folio_lru_list), with PG_lru
  // and a reference, each list's count and NR_*_ANON/FILE matching, and no PG_lru folio
  // on none of them.
  void check_lru() {
    zone* z = ks_->zone_normal;
    if (z == nullptr) return;
    std::vector<bool> on_list(ks_->max_pfn, false);
    for (int lru = 0; lru < NR_LRU_LISTS; ++lru) {
      unsigned long count = 0;
      const list_head* head = &z->__lruvec.lists[lru];
      for (const list_head* l = head->next; l != head; l = l->next) {
        if (count > ks_->max_pfn) {
          fail("lru list %s is cyclic", lru_list_name(lru));
          break;
        }
        const folio* f = list_entry(const_cast<list_head*>(l), folio, lru);
        unsigned long pfn = static_cast<unsigned long>(f - ks_->mem_map);
        if (pfn >= ks_->max_pfn) {
          fail("lru list %s holds a non-page %p", lru_list_name(lru), static_cast<const void*>(f));
          break;
        }
        count += static_cast<unsigned long>(folio_nr_pages(f));  // the lists count pages
        if (PageTail(f)) fail("tail page pfn %#lx is on lru list %s", pfn, lru_list_name(lru));
        if (on_list[pfn]) fail("pfn %#lx is on two LRU lists", pfn);
        on_list[pfn] = true;
        if (!folio_test_lru(f)) fail("pfn %#lx on lru list %s lacks PG_lru", pfn, lru_list_name(lru));
        if (folio_lru_list(f) != lru)
          fail("pfn %#lx on lru list %s belongs on %s", pfn, lru_list_name(lru),
               lru_list_name(folio_lru_list(f)));
        if (page_ref_count(f) <= 0) fail("pfn %#lx on lru list %s has refcount %d", pfn,
                                         lru_list_name(lru), page_ref_count(f));
      }
      if (count != z->__lruvec.nr_pages[lru])
        fail("lru list %s counts %lu but holds %lu", lru_list_name(lru), z->__lruvec.nr_pages[lru], count);
      if (static_cast<long>(count) != ks_->vm_stat[NR_INACTIVE_ANON + lru])
        fail("%s=%ld but lru list %s holds %lu", vm_stat_name(NR_INACTIVE_ANON + lru),
             ks_->vm_stat[NR_INACTIVE_ANON + lru], lru_list_name(lru), count);
    }
    for (unsigned long pfn = 0; pfn < ks_->max_pfn; ++pfn)
      if (!PageTail(&ks_->mem_map[pfn]) && folio_test_lru(&ks_->mem_map[pfn]) && !on_list[pfn]) fail("pfn %#lx has PG_lru but is on no list", pfn);
  }

  void check_buddy() {
    zone* z = ks_->zone_normal;
    if (z == nullptr) {
      fail("no zone (mm_core_init not run)");
      return;
    }
    long free_frames = 0;
    for (int order = 0; order < NR_PAGE_ORDERS; ++order) {
      unsigned long count = 0;
      const list_head* head = &z->free_area[order].free_list;
      for (const list_head* l = head->next; l != head; l = l->next) {
        if (++count > ks_->max_pfn) {
          fail("free_area[%d] list is cyclic", order);
          break;
        }
        const page* p = list_entry(const_cast<list_head*>(l), page, lru);
        unsigned long pfn = static_cast<unsigned long>(p - ks_->mem_map);
        if (pfn >= ks_->max_pfn) {
          fail("free_area[%d] holds a non-page %p", order, static_cast<const void*>(p));
          break;
        }
        if (!PageBuddy(p)) fail("pfn %#lx on free_area[%d] is not PageBuddy", pfn, order);
        if (buddy_order(p) != static_cast<unsigned>(order))
          fail("pfn %#lx on free_area[%d] has order %u", pfn, order, buddy_order(p));
        if (pfn & ((1UL << order) - 1)) fail("pfn %#lx misaligned for order %d", pfn, order);
        for (unsigned long i = 0; i < (1UL << order) && pfn + i < ks_->max_pfn; ++i) {
          const page* q = p + i;
          if (state_[pfn + i] == FS_FREE) fail("pfn %#lx is in two free blocks", pfn + i);
          state_[pfn + i] = FS_FREE;
          if (page_ref_count(q) != 0) fail("free pfn %#lx has refcount %d", pfn + i, page_ref_count(q));
          if (atomic_read(&q->_mapcount) != -1)
            fail("free pfn %#lx has mapcount %d", pfn + i, atomic_read(&q->_mapcount) + 1);
          if (i > 0 && PageBuddy(q)) fail("pfn %#lx is PageBuddy inside a free block", pfn + i);
        }
        free_frames += 1L << order;
      }
      if (count != z->free_area[order].nr_free)
        fail("free_area[%d].nr_free=%lu but the list has %lu", order, z->free_area[order].nr_free,
             count);
    }
    // Deferred blocks (mm/mm_init.cc) are free without being on a list; their struct pages
    // were never written, so they are marked here and skipped by every loop below.
    if (z->first_deferred_pfn > z->deferred_end_pfn || z->deferred_end_pfn > ks_->max_pfn ||
        ((z->deferred_end_pfn - z->first_deferred_pfn) & (MAX_ORDER_NR_PAGES - 1)))
      fail("deferred range [%#lx, %#lx) is broken", z->first_deferred_pfn, z->deferred_end_pfn);
    for (unsigned long pfn = z->first_deferred_pfn; pfn < z->deferred_end_pfn && pfn < ks_->max_pfn; ++pfn) {
      if (state_[pfn] == FS_FREE) fail("deferred pfn %#lx is also on a free list", pfn);
      state_[pfn] = FS_FREE;
      ++free_frames;
    }
    if (free_frames != ks_->vm_stat[NR_FREE_PAGES])
      fail("NR_FREE_PAGES=%ld but the free lists hold %ld", ks_->vm_stat[NR_FREE_PAGES], free_frames);
    if (free_frames != z->free_pages)
      fail("zone free_pages=%ld but the free lists hold %ld", z->free_pages, free_frames);
    for (unsigned long pfn = 0; pfn < ks_->max_pfn; ++pfn) {
      if (early_page_deferred(z, pfn)) continue;
      const page* p = &ks_->mem_map[pfn];
      if (PageBuddy(p) && state_[pfn] != FS_FREE) fail("pfn %#lx is PageBuddy but on no free list", pfn);
      if (PageReserved(p)) state_[pfn] = FS_RESERVED;
    }
  }

  void collect_mms() {
    std::set<mm_struct*> seen;
    // Mid-path, an mm whose mmap_lock is held for writing is being changed (munmap,
    // exit_mmap freeing VMAs the tree still points at): its VMAs and tables are not
    // checked until the writer is done.
    if (!opts_.quiescent) {
      for (const auto& [pid, task] : ks_->pid_table)
        if (task != nullptr && task->mm != nullptr && rwsem_is_write_locked(&task->mm->mmap_lock))
          seen.insert(task->mm);
      for (size_t cpu = 0; cpu < ks_->cpus.size(); ++cpu) {
        const task_struct* cur = ks_->current_task[cpu];
        if (cur != nullptr && cur->active_mm != nullptr &&
            rwsem_is_write_locked(&cur->active_mm->mmap_lock))
          seen.insert(cur->active_mm);
      }
    }
    for (const auto& [pid, task] : ks_->pid_table) {
      if (task != nullptr && task->mm != nullptr && seen.insert(task->mm).second)
        mms_.push_back(task->mm);
    }
    for (mm_struct* mm : opts_.extra_mms)
      if (mm != nullptr && seen.insert(mm).second) mms_.push_back(mm);
    // The mms CPUs still run on lazily (a kernel thread's borrowed active_mm, perhaps of
    // a process that exited: its pgd lives until the reference goes) or have loaded.
    for (size_t cpu = 0; cpu < ks_->cpus.size(); ++cpu) {
      const task_struct* cur = ks_->current_task[cpu];
      mm_struct* lazy[2] = {cur != nullptr ? cur->active_mm : nullptr,
                            ks_->cpu_tlbstate[cpu].loaded_mm};
      for (mm_struct* mm : lazy)
        if (mm != nullptr && mm != &ks_->init_mm && mm != LOADED_MM_SWITCHING &&
            seen.insert(mm).second)
          mms_.push_back(mm);
    }
  }

  // Every live inode's page cache and i_mmap list.
  void check_page_caches() {
    std::set<const mm_struct*> known(mms_.begin(), mms_.end());
    for (const auto& [ino, inode] : ks_->inodes) {
      if (inode == nullptr || inode->i_ino != ino) {
        fail("inode table entry %lu is broken", ino);
        continue;
      }
      if (atomic_read(&inode->i_count) <= 0)
        fail("ino %lu: live with i_count %d", ino, atomic_read(&inode->i_count));
      address_space* mapping = inode->i_mapping;
      if (mapping != &inode->i_data || mapping->host != inode) {
        fail("ino %lu: i_mapping/host broken", ino);
        continue;
      }
      if (mapping->nrpages != mapping->i_pages.size())
        fail("ino %lu: nrpages=%lu but %zu folios cached", ino, mapping->nrpages,
             mapping->i_pages.size());
      const pgoff_t max_idx = (static_cast<pgoff_t>(inode->i_size) + PAGE_SIZE - 1) >> PAGE_SHIFT;
      const bool shmem = shmem_mapping(mapping);
      for (const auto& [index, f] : mapping->i_pages) {
        const unsigned long pfn = static_cast<unsigned long>(f - ks_->mem_map);
        if (pfn >= ks_->max_pfn) {
          fail("ino %lu index %#lx: folio outside mem_map", ino, index);
          continue;
        }
        if (state_[pfn] == FS_FREE || page_ref_count(f) <= 0) {
          fail("ino %lu index %#lx: cached pfn %#lx is free (refcount %d)", ino, index, pfn,
               page_ref_count(f));
          continue;
        }
        if (cached_[pfn] != nullptr) fail("pfn %#lx is in two page caches", pfn);
        cached_[pfn] = mapping;
        if (f->mapping != mapping || f->index != index)
          fail("ino %lu index %#lx: pfn %#lx says mapping of ino %lu index %#lx", ino, index, pfn,
               PageAnon(f) || f->mapping == nullptr ? 0UL : f->mapping->host->i_ino, f->index);
        if (PageAnon(f)) fail("ino %lu index %#lx: cached pfn %#lx is anonymous", ino, index, pfn);
        if (PageSwapBacked(f) != shmem)
          fail("ino %lu index %#lx: pfn %#lx swapbacked=%d but the file %s shmem", ino, index, pfn,
               PageSwapBacked(f) ? 1 : 0, shmem ? "is" : "is not");
        if (!PageUptodate(f)) fail("ino %lu index %#lx: pfn %#lx not up to date", ino, index, pfn);
        if (opts_.quiescent && PageLocked(f))
          fail("ino %lu index %#lx: pfn %#lx left locked", ino, index, pfn);
        if (index >= max_idx)
          fail("ino %lu: pfn %#lx cached at index %#lx, past end-of-file (size %#llx)", ino, pfn,
               index, static_cast<long long>(inode->i_size));
      }
      // Workingset shadows: value entries, in slots no folio holds, within the file (a
      // truncation clears them), never in shmem (shmem is not evicted to a shadow).
      for (const auto& [index, shadow] : mapping->i_shadows) {
        check_shadow(shadow, "ino", ino, index);
        if (mapping->i_pages.count(index))
          fail("ino %lu index %#lx: both a folio and a shadow", ino, index);
        if (index >= max_idx)
          fail("ino %lu: shadow at index %#lx, past end-of-file (size %#llx)", ino, index,
               static_cast<long long>(inode->i_size));
        if (shmem) fail("ino %lu index %#lx: a shadow in a shmem file", ino, index);
      }
      // i_mmap: a well-formed list of VMAs that map this file.
      unsigned long n = 0;
      for (list_head* l = mapping->i_mmap.next; l != &mapping->i_mmap; l = l->next) {
        if (++n > 1000000 || l == nullptr) {
          fail("ino %lu: i_mmap list is broken", ino);
          break;
        }
        vm_area_struct* vma = list_entry(l, vm_area_struct, shared.list);
        if (vma->vm_file == nullptr || vma->vm_file->f_mapping != mapping) {
          fail("ino %lu: i_mmap holds a VMA [%#lx,%#lx) of another file", ino, vma->vm_start,
               vma->vm_end);
          continue;
        }
        on_i_mmap_.insert(vma);
        if (known.count(vma->vm_mm)) {
          auto it = vma->vm_mm->mm_mt.find(vma->vm_start);
          if (it == vma->vm_mm->mm_mt.end() || it->second != vma)
            fail("ino %lu: i_mmap holds VMA [%#lx,%#lx), which is not in its mm", ino,
                 vma->vm_start, vma->vm_end);
        }
      }
    }
  }

  // A table page pointed at by an entry of `mm` at `level` (4 = pgd .. 1 = pte table).
  bool check_table_page(mm_struct* mm, unsigned long pfn, unsigned long level, unsigned long va) {
    if (pfn >= ks_->max_pfn) {
      fail("mm %llu: level-%lu table for va %#lx at pfn %#lx beyond memory", mmid(mm),
           level, va, pfn);
      return false;
    }
    const page* p = &ks_->mem_map[pfn];
    if (state_[pfn] == FS_FREE) {
      fail("mm %llu: level-%lu table for va %#lx is a free frame %#lx", mmid(mm), level,
           va, pfn);
      return false;
    }
    if (!PageTable(p)) {
      fail("mm %llu: level-%lu table pfn %#lx (va %#lx) is not PGTY_table", mmid(mm),
           level, pfn, va);
      return false;
    }
    if (p->pt_level != level || p->pt_mm != mm)
      fail("pfn %#lx: table of level %lu/%s found as level %lu of mm %llu", pfn, p->pt_level,
           p->pt_mm == mm ? "this mm" : "another mm", level, mmid(mm));
    if (++table_refs_[pfn] > 1) fail("table pfn %#lx referenced %d times", pfn, table_refs_[pfn]);
    if (page_ref_count(p) != 1) fail("table pfn %#lx has refcount %d", pfn, page_ref_count(p));
    state_[pfn] = FS_TABLE;
    ++tables_found_;
    return true;
  }

  void walk_mm(mm_struct* mm) {
    if (mm->pgd == nullptr) return;
    for (const auto& [start, vma] : mm->mm_mt) {
      if (vma->vm_file == nullptr) continue;
      if (atomic_long_read(&vma->vm_file->f_count) <= 0)
        fail("mm %llu: VMA [%#lx,%#lx) maps a freed file", mmid(mm), vma->vm_start,
             vma->vm_end);
      else if (!on_i_mmap_.count(vma))
        fail("mm %llu: VMA [%#lx,%#lx) of ino %lu is not on the file's i_mmap",
             mmid(mm), vma->vm_start, vma->vm_end, vma->vm_file->f_inode->i_ino);
    }
    unsigned long pgd_pfn = __pa(mm->pgd) >> PAGE_SHIFT;
    if (!check_table_page(mm, pgd_pfn, 4, 0)) return;
    long rss[NR_MM_COUNTERS] = {};
    unsigned long lower_tables = 0;
    // The kernel half is swapper_pg_dir's, shared: it must be an exact copy (pgd_ctor), and
    // its tables are not this mm's. Below KERNEL_PGD_BOUNDARY (slots 256..272: the guard
    // hole, LDT remap and the rest Linux does not clone) nothing is mapped.
    for (int i = PTRS_PER_PGD / 2; i < KERNEL_PGD_BOUNDARY; ++i)
      if (pgd_val(mm->pgd[i]) != 0)
        fail("mm %llu: pgd slot %d below the kernel boundary is %#llx, not empty", mmid(mm), i,
             static_cast<unsigned long long>(pgd_val(mm->pgd[i])));
    for (int i = KERNEL_PGD_BOUNDARY; i < PTRS_PER_PGD; ++i)
      if (pgd_val(mm->pgd[i]) != pgd_val(ks_->init_mm.pgd[i]))
        fail("mm %llu: kernel pgd slot %d is %#llx, swapper_pg_dir's %#llx", mmid(mm), i,
             static_cast<unsigned long long>(pgd_val(mm->pgd[i])),
             static_cast<unsigned long long>(pgd_val(ks_->init_mm.pgd[i])));
    unsigned long huge_pmds = 0;
    for (unsigned long i = 0; i < PTRS_PER_PGD / 2; ++i) {  // the user half
      pgd_t* pgd = mm->pgd + i;
      p4d_t* p4d = p4d_offset(pgd, 0);
      if (p4d_none(*p4d)) continue;
      unsigned long va1 = i << PGDIR_SHIFT;
      if (!p4d_present(*p4d) || p4d_bad(*p4d)) {
        fail("mm %llu: bad p4d %#llx at va %#lx", mmid(mm),
             static_cast<unsigned long long>(p4d_val(*p4d)), va1);
        continue;
      }
      if (!check_table_page(mm, p4d_pfn(*p4d), 3, va1)) continue;
      ++lower_tables;
      pud_t* pud_base = p4d_pgtable(*p4d);
      for (unsigned long j = 0; j < PTRS_PER_PUD; ++j) {
        pud_t* pud = pud_base + j;
        if (pud_none(*pud)) continue;
        unsigned long va2 = va1 | (j << PUD_SHIFT);
        if (!pud_present(*pud) || pud_leaf(*pud) || pud_bad(*pud)) {
          fail("mm %llu: bad pud %#llx at va %#lx", mmid(mm),
               static_cast<unsigned long long>(pud_val(*pud)), va2);
          continue;
        }
        if (!check_table_page(mm, pud_pfn(*pud), 2, va2)) continue;
        ++lower_tables;
        pmd_t* pmd_base = pud_pgtable(*pud);
        for (unsigned long k = 0; k < PTRS_PER_PMD; ++k) {
          pmd_t* pmd = pmd_base + k;
          if (pmd_none(*pmd)) continue;
          unsigned long va3 = va2 | (k << PMD_SHIFT);
          if (pmd_present(*pmd) && pmd_trans_huge(*pmd)) {
            check_huge_pmd(mm, va3, *pmd, rss);
            ++huge_pmds;
            continue;
          }
          if (!pmd_present(*pmd) || pmd_leaf(*pmd) || pmd_bad(*pmd)) {
            fail("mm %llu: bad pmd %#llx at va %#lx", mmid(mm),
                 static_cast<unsigned long long>(pmd_val(*pmd)), va3);
            continue;
          }
          if (!check_table_page(mm, pmd_pfn(*pmd), 1, va3)) continue;
          ++lower_tables;
          pte_t* pte_base = pte_offset_kernel(pmd, va3);
          for (unsigned long l = 0; l < PTRS_PER_PTE; ++l) {
            pte_t pte = pte_base[l];
            if (pte_none(pte)) continue;
            unsigned long va = va3 | (l << PAGE_SHIFT);
            check_leaf(mm, va, pte, rss);
          }
        }
      }
    }
    // Each huge pmd keeps a PTE table deposited (mm->pmd_huge_pte), counted as a table.
    unsigned long deposited = 0;
    if (page* pt = mm->pmd_huge_pte; pt != nullptr) {
      const list_head* l = &pt->lru;
      do {
        const page* t = list_entry(const_cast<list_head*>(l), page, lru);
        if (++deposited > ks_->max_pfn) {
          fail("mm %llu: the deposited table list is cyclic", mmid(mm));
          break;
        }
        check_table_page(mm, static_cast<unsigned long>(t - ks_->mem_map), 1, 0);
        l = l->next;
      } while (l != &pt->lru);
    }
    if (deposited != huge_pmds)
      fail("mm %llu: %lu huge pmds but %lu deposited tables", mmid(mm), huge_pmds, deposited);
    lower_tables += deposited;
    unsigned long bytes = lower_tables * PAGE_SIZE;
    if (bytes != mm_pgtables_bytes(mm))
      fail("mm %llu: pgtables_bytes=%lu but %lu lower-level tables found", mmid(mm),
           mm_pgtables_bytes(mm), lower_tables);
    // Mid-path the counters follow the PTEs a step later (see check_frames).
    for (int c = 0; c < NR_MM_COUNTERS && opts_.quiescent; ++c) {
      long have = atomic_long_read(&mm->rss_stat.count[c]);
      if (have != rss[c])
        fail("mm %llu: rss counter %d is %ld but the page tables map %ld", mmid(mm), c,
             have, rss[c]);
    }
  }

  // A huge pmd: the huge zero folio (read-only, special) or the head of an order-9 anon
  // folio, inside an anonymous VMA that covers the whole 2 MiB.
  void check_huge_pmd(mm_struct* mm, unsigned long va, pmd_t pmd, long* rss) {
    const unsigned long pfn = pmd_pfn(pmd);
    if (pfn >= ks_->max_pfn || (pfn & (HPAGE_PMD_NR - 1))) {
      fail("mm %llu: huge pmd at va %#lx maps pfn %#lx (beyond memory or misaligned)", mmid(mm),
           va, pfn);
      return;
    }
    vm_area_struct* vma = vma_lookup(mm, va);
    if (opts_.quiescent && (vma == nullptr || va + HPAGE_PMD_SIZE > vma->vm_end))
      fail("mm %llu: huge pmd at va %#lx not inside one VMA", mmid(mm), va);
    if (vma != nullptr && !vma_is_anonymous(vma))
      fail("mm %llu: huge pmd at va %#lx in a non-anonymous VMA", mmid(mm), va);
    if (is_huge_zero_pmd(pmd)) {
      if (pmd_write(pmd)) fail("mm %llu: writable huge zero pmd at va %#lx", mmid(mm), va);
      return;
    }
    page* head = &ks_->mem_map[pfn];
    if (!PageHead(head) || folio_order(head) != HPAGE_PMD_ORDER) {
      fail("mm %llu: huge pmd at va %#lx maps pfn %#lx, not the head of an order-9 folio",
           mmid(mm), va, pfn);
      return;
    }
    if (state_[pfn] == FS_FREE) fail("mm %llu: huge pmd at va %#lx maps free frame %#lx", mmid(mm), va, pfn);
    if (!PageAnon(head)) fail("mm %llu: huge pmd at va %#lx maps a non-anon folio", mmid(mm), va);
    if (pmd_write(pmd) && !PageAnonExclusive(head))
      fail("mm %llu: writable huge pmd at va %#lx maps a shared (non-exclusive) THP %#lx",
           mmid(mm), va, pfn);
    pmd_mappings_[pfn]++;
    mm_id_maps_[{pfn, mm->mm_id}]++;
    rss[MM_ANONPAGES] += HPAGE_PMD_NR;
    if (vma != nullptr && PageAnon(head)) check_anon_rmap(mm, vma, va, pfn, head);
  }

  void check_leaf(mm_struct* mm, unsigned long va, pte_t pte, long* rss) {
    if (!pte_present(pte)) {
      check_swap_pte(mm, va, pte, rss);
      return;
    }
    unsigned long pfn = pte_pfn(pte);
    vm_area_struct* vma = vma_lookup(mm, va);
    // Mid-path (a scheduler switch), munmap may have taken the VMAs out of the tree
    // before zapping their PTEs (do_vmi_align_munmap, then vms_complete_munmap_vmas).
    if (vma == nullptr && opts_.quiescent)
      fail("mm %llu: pte for va %#lx outside every VMA", mmid(mm), va);
    if (pfn >= ks_->max_pfn) {
      fail("mm %llu: pte at va %#lx maps pfn %#lx beyond memory", mmid(mm), va, pfn);
      return;
    }
    if (state_[pfn] == FS_FREE) {
      fail("mm %llu: pte at va %#lx maps free frame %#lx", mmid(mm), va, pfn);
      return;
    }
    if (state_[pfn] == FS_TABLE) {
      fail("mm %llu: pte at va %#lx maps page-table frame %#lx", mmid(mm), va, pfn);
      return;
    }
    if (pte_special(pte)) {
      if (!is_zero_pfn(pfn) && !(vma && (vma->vm_flags & (VM_PFNMAP | VM_MIXEDMAP))))
        fail("mm %llu: special pte at va %#lx maps pfn %#lx (not the zero page)",
             mmid(mm), va, pfn);
      if (is_zero_pfn(pfn) && pte_write(pte))
        fail("mm %llu: writable zero-page pte at va %#lx", mmid(mm), va);
      return;
    }
    if (is_zero_pfn(pfn)) {
      fail("mm %llu: zero page mapped without the special bit at va %#lx", mmid(mm), va);
      return;
    }
    const page* p = &ks_->mem_map[pfn];
    mappings_[pfn]++;
    if (PageCompound(p)) mm_id_maps_[{static_cast<unsigned long>(page_folio(p) - ks_->mem_map), mm->mm_id}]++;
    rss[PageAnon(p) ? MM_ANONPAGES : (PageSwapBacked(p) ? MM_SHMEMPAGES : MM_FILEPAGES)]++;
    if (pte_write(pte) && PageAnon(p) && !PageAnonExclusive(p))
      fail("mm %llu: writable pte at va %#lx maps a shared (non-exclusive) anon page %#lx",
           mmid(mm), va, pfn);
    if (vma != nullptr) check_leaf_backing(mm, vma, va, pfn, p);
    if (vma != nullptr && PageAnon(p)) check_anon_rmap(mm, vma, va, pfn, p);
  }

  // An anonymous page mapped at va of vma must be found again from its anon_vma
  // (rmap_walk_anon over the anon_vma chains): vma is chained to the page's anon_vma and
  // the page's index puts it at va.
  void check_anon_rmap(mm_struct* mm, vm_area_struct* vma, unsigned long va, unsigned long pfn,
                       const page* p) {
    if (vma->anon_vma == nullptr) {
      fail("mm %llu: va %#lx maps anon pfn %#lx but its VMA has no anon_vma",
           mmid(mm), va, pfn);
      return;
    }
    // The page's own offset: a page of a large folio is found through its folio, whose
    // walk reports each VMA that maps any part of it.
    const folio* f = compound_head(p);
    struct Want {
      vm_area_struct* vma;
      unsigned long va;
      pgoff_t pgoff;
      bool found;
    } want{vma, va, f->index + static_cast<pgoff_t>(p - f), false};
    rmap_walk_anon(
        const_cast<page*>(f),
        [](folio*, vm_area_struct* v, unsigned long, void* arg) {
          Want* w = static_cast<Want*>(arg);
          if (v == w->vma && w->pgoff >= v->vm_pgoff &&
              v->vm_start + ((w->pgoff - v->vm_pgoff) << PAGE_SHIFT) == w->va)
            w->found = true;
          return !w->found;
        },
        &want);
    if (!want.found)
      fail("mm %llu: anon pfn %#lx mapped at va %#lx is not found by rmap_walk_anon",
           mmid(mm), pfn, va);
  }

  // What the PTE maps must be what its VMA can map.
  void check_leaf_backing(mm_struct* mm, vm_area_struct* vma, unsigned long va, unsigned long pfn,
                          const page* p) {
    if (vma->vm_flags & (VM_PFNMAP | VM_MIXEDMAP)) {
      fail("mm %llu: pte at va %#lx of a VM_PFNMAP VMA is not special (pfn %#lx)",
           mmid(mm), va, pfn);
      return;
    }
    if (vma->vm_file == nullptr) {
      if (vma->vm_ops == nullptr && !PageAnon(p))
        fail("mm %llu: anonymous VMA maps non-anonymous pfn %#lx at va %#lx",
             mmid(mm), pfn, va);
      return;
    }
    const bool shared = vma->vm_flags & VM_SHARED;
    if (PageAnon(p)) {
      if (shared)
        fail("mm %llu: shared file VMA maps anonymous pfn %#lx at va %#lx", mmid(mm),
             pfn, va);
      return;  // a private COW copy
    }
    const address_space* want = vma->vm_file->f_mapping;
    const pgoff_t index = linear_page_index(vma, va);
    if (p->mapping != want || p->index != index)
      fail("mm %llu: va %#lx (ino %lu index %#lx) maps pfn %#lx of %s index %#lx",
           mmid(mm), va, want->host->i_ino, index, pfn,
           p->mapping == nullptr ? "no file" : "another file or", p->index);
    else if (cached_[pfn] != want)
      fail("mm %llu: va %#lx maps pfn %#lx, which is not in ino %lu's page cache",
           mmid(mm), va, pfn, want->host->i_ino);
  }

  void check_frames() {
    long anon_mapped = 0, file_mapped = 0, tables = 0;
    for (unsigned long pfn = 0; pfn < ks_->max_pfn; ++pfn) {
      if (early_page_deferred(ks_->zone_normal, pfn)) continue;
      const page* p = &ks_->mem_map[pfn];
      if (PageTable(p)) ++tables;
      if (state_[pfn] == FS_FREE || state_[pfn] == FS_RESERVED) continue;
      if (state_[pfn] == FS_TABLE) continue;  // checked while walking
      if (PageTable(p)) {
        // Mid-path, a table may be allocated and not yet linked (__pte_alloc before
        // pmd_populate), or unlinked and not yet freed (the mmu_gather's batch).
        if (opts_.quiescent)
          fail("table pfn %#lx (level %lu) reachable from no known mm", pfn, p->pt_level);
        continue;
      }
      if (PageHead(p) || PageTail(p)) {
        check_large_folio_page(pfn, &anon_mapped);
        continue;
      }
      int mapcount = atomic_read(&p->_mapcount) + 1;
      int refs = page_ref_count(p);
      int maps = mappings_[pfn];
      const int cache = (cached_[pfn] != nullptr || folio_test_swapcache(p)) ? 1 : 0;
      if (PageAnon(p) && mapcount > 0) ++anon_mapped;
      if (!PageAnon(p) && mapcount > 0) ++file_mapped;
      // Mid-path a PTE may be cleared before its rmap goes (wp_page_copy's
      // ptep_clear_flush waits for IPIs before folio_remove_rmap_pte), never the reverse.
      if (opts_.quiescent ? mapcount != maps : mapcount < maps)
        fail("pfn %#lx: mapcount %d but %d ptes map it", pfn, mapcount, maps);
      if (PageAnon(p) && PageAnonExclusive(p) && maps > 1)
        fail("pfn %#lx: exclusive anon page mapped %d times", pfn, maps);
      if (!PageAnon(p) && p->mapping != nullptr && cache == 0 && refs > 0)
        fail("pfn %#lx: claims a page-cache mapping but is in no cache", pfn);
      if (refs < maps + cache)
        fail("pfn %#lx: refcount %d below its %d mappings + %d cache", pfn, refs, maps, cache);
      int pins = 0;
      if (opts_.expected_pins != nullptr) {
        auto it = opts_.expected_pins->find(pfn);
        if (it != opts_.expected_pins->end()) pins = it->second;
      }
      if (opts_.expect_no_pins || opts_.expected_pins != nullptr) {
        int want = maps + cache + pins * static_cast<int>(GUP_PIN_COUNTING_BIAS);
        if (refs > 0 && maps == 0 && pins == 0 && cache == 0)
          fail("pfn %#lx: allocated (refcount %d) but used by nothing (leak)", pfn, refs);
        else if (refs != want)
          fail("pfn %#lx: refcount %d, expected %d (%d mappings, %d cache, %d pins)", pfn, refs,
               want, maps, cache, pins);
      }
    }
    // Mid-path the counters may lag the mapcounts: __folio_remove_rmap lowers a page's
    // mapcount, then takes split_queue_lock (deferred_split_folio) before __folio_mod_stat,
    // and a switch can come at that lock. Only a quiescent machine must agree.
    if (opts_.quiescent && anon_mapped != ks_->vm_stat[NR_ANON_MAPPED])
      fail("NR_ANON_MAPPED=%ld but %ld anon pages are mapped", ks_->vm_stat[NR_ANON_MAPPED],
           anon_mapped);
    if (opts_.quiescent && file_mapped != ks_->vm_stat[NR_FILE_MAPPED])
      fail("NR_FILE_MAPPED=%ld but %ld file pages are mapped", ks_->vm_stat[NR_FILE_MAPPED],
           file_mapped);
    if (tables != ks_->vm_stat[NR_PAGETABLE])
      fail("NR_PAGETABLE=%ld but %ld table pages exist", ks_->vm_stat[NR_PAGETABLE], tables);
  }

  // A page of a large folio (CONFIG_PAGE_MAPCOUNT's counts): each page's _mapcount is its
  // PTE mappings; at the head, the folio's _entire_mapcount is its PMD mappings,
  // _large_mapcount all of them, _nr_pages_mapped the PTE-mapped pages (+ENTIRELY_MAPPED
  // while PMD-mapped); the refcount holds one per mapping plus one per pin (_pincount).
  void check_large_folio_page(unsigned long pfn, long* anon_mapped) {
    page* p = &ks_->mem_map[pfn];
    folio* f = page_folio(p);
    const unsigned long head_pfn = static_cast<unsigned long>(f - ks_->mem_map);
    if (is_huge_zero_folio(f)) return;  // mapped by special pmds only, never freed
    const int pmd_maps = pmd_mappings_[head_pfn];
    const int mapcount = atomic_read(&p->_mapcount) + 1;
    const int maps = mappings_[pfn];
    if (PageTail(p) && page_ref_count(p) != 0)
      fail("tail pfn %#lx has refcount %d", pfn, page_ref_count(p));
    if (opts_.quiescent ? mapcount != maps : mapcount < maps)
      fail("pfn %#lx: mapcount %d but %d ptes map it", pfn, mapcount, maps);
    if (folio_test_anon(f) && (mapcount > 0 || pmd_maps > 0)) ++*anon_mapped;
    if (PageAnonExclusive(p) && maps + (p == f ? pmd_maps : 0) > 1)
      fail("pfn %#lx: exclusive anon page mapped %d times", pfn, maps + pmd_maps);
    if (p != f || !opts_.quiescent) return;
    // The head: the folio's own counts.
    const long nr = folio_nr_pages(f);
    int pte_maps = 0, pte_mapped_pages = 0;
    for (long i = 0; i < nr; ++i) {
      pte_maps += mappings_[head_pfn + i];
      if (mappings_[head_pfn + i] > 0) ++pte_mapped_pages;
    }
    const page* p1 = folio_tail1(f);
    if (folio_entire_mapcount(f) != pmd_maps)
      fail("folio %#lx: entire_mapcount %d but %d huge pmds map it", head_pfn,
           folio_entire_mapcount(f), pmd_maps);
    if (folio_large_mapcount(f) != pte_maps + pmd_maps)
      fail("folio %#lx: large_mapcount %d but %d ptes and %d pmds map it", head_pfn,
           folio_large_mapcount(f), pte_maps, pmd_maps);
    const int want_nr_mapped = pte_mapped_pages + (pmd_maps > 0 ? 0x800000 : 0);
    if (atomic_read(&p1->_nr_pages_mapped) != want_nr_mapped)
      fail("folio %#lx: nr_pages_mapped %#x, expected %#x", head_pfn,
           atomic_read(&p1->_nr_pages_mapped), want_nr_mapped);
    const int pins = atomic_read(&p1->_pincount);
    const int refs = page_ref_count(f);
    if (refs < pte_maps + pmd_maps + pins)
      fail("folio %#lx: refcount %d below its %d mappings + %d pins", head_pfn, refs,
           pte_maps + pmd_maps, pins);
    if (opts_.expect_no_pins && pins != 0)
      fail("folio %#lx: %d pins left", head_pfn, pins);
    check_mm_id_slots(f, head_pfn, pte_maps + pmd_maps);
    if ((opts_.expect_no_pins || opts_.expected_pins != nullptr) && refs != pte_maps + pmd_maps + pins) {
      if (refs > 0 && pte_maps + pmd_maps == 0 && pins == 0)
        fail("folio %#lx: allocated (refcount %d) but used by nothing (leak)", head_pfn, refs);
      else
        fail("folio %#lx: refcount %d, expected %d (%d mappings, %d pins)", head_pfn, refs,
             pte_maps + pmd_maps + pins, pte_maps + pmd_maps, pins);
    }
  }

  // CONFIG_MM_ID: a slot names an mm that maps the folio at least as often as the slot
  // counts (fewer if some of its mappings were made while no slot was free); a free
  // slot counts nothing. Not maybe-shared means one slot holds every mapping.
  void check_mm_id_slots(folio* f, unsigned long head_pfn, int total) {
    const page* p2 = folio_tail2(f);
    bool one_holds_all = false;
    for (int idx = 0; idx < 2; ++idx) {
      const mm_id_t id = folio_mm_id(f, idx);
      const int count = p2->_mm_id_mapcount[idx] + 1;
      if (id == MM_ID_DUMMY) {
        if (count != 0) fail("folio %#lx: free mm slot %d counts %d mappings", head_pfn, idx, count);
        continue;
      }
      auto it = mm_id_maps_.find({head_pfn, id});
      const int real = it == mm_id_maps_.end() ? 0 : it->second;
      if (count <= 0 || count > real)
        fail("folio %#lx: mm slot %d (mm id %u) counts %d mappings but that mm has %d",
             head_pfn, idx, id, count, real);
      if (count == total) one_holds_all = true;
    }
    if (test_bit(FOLIO_MM_IDS_LOCK_BITNUM, &p2->_mm_ids))
      fail("folio %#lx: mm slots left locked", head_pfn);
    const bool shared = folio_test_large_maybe_mapped_shared(f);
    if (total == 0 && shared) fail("folio %#lx: unmapped but maybe mapped shared", head_pfn);
    if (total > 0 && !shared && !one_holds_all)
      fail("folio %#lx: not maybe-shared, but no mm slot holds all %d mappings", head_pfn, total);
  }

  // A non-present, non-none PTE is a swap entry (mm/swap.h): its slot must be in use and
  // counted; the references are tallied for check_swap.
  void check_swap_pte(mm_struct* mm, unsigned long va, pte_t pte, long* rss) {
    swp_entry_t entry = pte_to_swp_entry(pte);
    swap_info_struct* si = ks_->swap_info;
    if (si == nullptr || non_swap_entry(entry) || swp_type(entry) != 0 ||
        swp_offset(entry) == 0 || swp_offset(entry) >= si->max) {
      fail("mm %llu: non-present pte %#llx at va %#lx names no swap slot", mmid(mm),
           static_cast<unsigned long long>(pte_val(pte)), va);
      return;
    }
    const unsigned long offset = swp_offset(entry);
    if ((si->swap_map[offset] & ~SWAP_HAS_CACHE) == 0)
      fail("mm %llu: swap pte at va %#lx names slot %lu, whose count is 0", mmid(mm), va, offset);
    vm_area_struct* vma = vma_lookup(mm, va);
    if (vma == nullptr && opts_.quiescent)
      fail("mm %llu: swap pte for va %#lx outside every VMA", mmid(mm), va);
    if (vma != nullptr && (vma->vm_flags & VM_SHARED))
      fail("mm %llu: swap pte at va %#lx in a shared mapping", mmid(mm), va);
    swap_refs_[offset]++;
    rss[MM_SWAPENTS]++;
  }

  // A workingset shadow (mm/workingset.cc) is an xarray value entry for node 0, memcg 0,
  // stamped no later than the nonresident clock now reads.
  void check_shadow(const void* shadow, const char* what, unsigned long id, unsigned long index) {
    if (shadow == nullptr || !xa_is_value(shadow)) {
      fail("%s %lu index %#lx: shadow %p is not a value entry", what, id, index, shadow);
      return;
    }
    int memcgid, nid;
    unsigned long eviction;
    bool workingset;
    unpack_shadow(const_cast<void*>(shadow), &memcgid, &nid, &eviction, &workingset);
    if (memcgid != 0 || nid != 0)
      fail("%s %lu index %#lx: shadow names memcg %d node %d", what, id, index, memcgid, nid);
    const unsigned long now =
        ks_->zone_normal->__lruvec.nonresident_age >> ks_->workingset_bucket_order;
    if (eviction > now)
      fail("%s %lu index %#lx: shadow evicted at %lu, after the clock's %lu", what, id, index,
           eviction, now);
  }

  // The swap device: each slot's count equals the swap PTEs naming it, SWAP_HAS_CACHE is
  // set exactly for the slots the swap cache holds a folio for (and that folio says so),
  // and nr_swap_pages counts the free slots.
  void check_swap() {
    swap_info_struct* si = ks_->swap_info;
    if (si == nullptr) {
      if (!swap_refs_.empty()) fail("%zu swap ptes but no swap device", swap_refs_.size());
      if (ks_->nr_swap_pages != 0 || ks_->total_swap_pages != 0)
        fail("no swap device but nr_swap_pages=%lu total_swap_pages=%lu", ks_->nr_swap_pages,
             ks_->total_swap_pages);
      return;
    }
    unsigned long free_slots = 0;
    for (unsigned long offset = 1; offset < si->max; ++offset) {
      const unsigned char ent = si->swap_map[offset];
      if (ent == 0) {
        ++free_slots;
        if (si->blocks.count(offset)) fail("free swap slot %lu still holds a block", offset);
      }
      const int count = ent & ~SWAP_HAS_CACHE;
      auto it = swap_refs_.find(offset);
      const int refs = it == swap_refs_.end() ? 0 : it->second;
      if (opts_.quiescent ? count != refs : count < refs)
        fail("swap slot %lu: count %d but %d swap ptes name it", offset, count, refs);
      const bool has_cache = ent & SWAP_HAS_CACHE;
      auto c = si->swap_cache.find(offset);
      // Mid-path a swap-in holds SWAP_HAS_CACHE (swapcache_prepare) before its folio
      // joins the cache.
      if (c == si->swap_cache.end() ? (has_cache && opts_.quiescent) : !has_cache)
        fail("swap slot %lu: SWAP_HAS_CACHE %s but the swap cache %s a folio for it", offset,
             has_cache ? "set" : "clear", c == si->swap_cache.end() ? "has no" : "holds");
    }
    // Shadows: only in slots in use (freeing a slot clears its shadow) that hold no folio.
    for (const auto& [offset, shadow] : si->shadows) {
      check_shadow(shadow, "swap type", static_cast<unsigned long>(si->type), offset);
      if (offset == 0 || offset >= si->max || si->swap_map[offset] == 0)
        fail("swap slot %lu: a shadow but the slot is free", offset);
      else if (si->swap_cache.count(offset))
        fail("swap slot %lu: both a folio and a shadow", offset);
    }
    for (const auto& [offset, f] : si->swap_cache) {
      const unsigned long pfn = page_to_pfn(f);
      if (pfn >= ks_->max_pfn || state_[pfn] == FS_FREE) {
        fail("swap cache slot %lu holds a free or invalid frame", offset);
        continue;
      }
      if (!folio_test_swapcache(f) || f->swap.val != swp_entry(si->type, offset).val)
        fail("swap cache slot %lu: pfn %#lx is not marked as caching it", offset, pfn);
    }
    if (free_slots != ks_->nr_swap_pages)
      fail("nr_swap_pages=%lu but %lu swap slots are free", ks_->nr_swap_pages, free_slots);
    if (si->pages != ks_->total_swap_pages)
      fail("total_swap_pages=%lu but the device has %u slots", ks_->total_swap_pages, si->pages);
  }

  void check_stats() {
    if (ks_->slab_allocations < 0 || ks_->slab_bytes < 0)
      fail("slab accounting negative: %ld objects, %ld bytes", ks_->slab_allocations,
           ks_->slab_bytes);
  }

  void check_tlbs() {
    const int ncpus = static_cast<int>(ks_->cpus.size());
    for (int cpu = 0; cpu < ncpus; ++cpu)
      tlb_check_cpu(cpu, mms_, [&](const std::string& why) { fail("%s", why); });
  }

  kernel_state* ks_;
  std::string* report_;
  const debug_vm_options& opts_;
  int violations_ = 0;
  std::vector<unsigned char> state_;
  std::vector<int> mappings_;      // pfn -> PTEs mapping it
  std::vector<int> pmd_mappings_;  // head pfn of a large folio -> huge pmds mapping it
  // (head pfn of a large folio, mm id) -> PTEs and pmds of that mm mapping it
  std::map<std::pair<unsigned long, mm_id_t>, int> mm_id_maps_;
  std::vector<int> table_refs_;
  std::vector<const address_space*> cached_;  // pfn -> the page cache holding it
  std::set<const vm_area_struct*> on_i_mmap_;
  std::vector<mm_struct*> mms_;
  std::unordered_map<unsigned long, int> swap_refs_;  // swap slot -> swap PTEs naming it
  long tables_found_ = 0;
};

}  // namespace

int debug_vm_check(kernel_state* ks, std::string* report, const debug_vm_options& opts) {
  kernel_state_scope scope(ks);
  checker c(ks, report, opts);
  return c.run();
}

int debug_vm_check(kernel_state* ks, std::string* report, bool expect_no_pins,
                   const std::vector<mm_struct*>& extra_mms) {
  debug_vm_options opts;
  opts.expect_no_pins = expect_no_pins;
  opts.extra_mms = extra_mms;
  return debug_vm_check(ks, report, opts);
}

}  // namespace kernel
