// mm/memory_test.cc: demand paging, the zero page, COW, and allocation failure in faults.
#include <cstring>

#include "gtest/gtest.h"
#include "mm/fault_inject.h"
#include "mm/mm.h"
#include "mm/mmzone.h"
#include "mm/pagewalk.h"
#include "mm/testing/kernel_fixture.h"
#include "mm/trace.h"

namespace kernel {
namespace {

using kernel_testing::BootedKernel;

constexpr unsigned long kRW = PROT_READ | PROT_WRITE;
constexpr unsigned long kAnon = MAP_PRIVATE | MAP_ANONYMOUS;

TEST(Memory, DemandPagingAllocatesOnFirstWrite) {
  BootedKernel m;
  task_struct* t = m.Spawn("t");
  mm_struct* mm = t->mm;
  unsigned long a = m.Mmap(t, 0, 8 * PAGE_SIZE, kRW, kAnon);
  ASSERT_FALSE(IS_ERR_VALUE(a));
  const long faults = m.stat(PGFAULT), anon = m.stat(NR_ANON_MAPPED);
  EXPECT_EQ(get_mm_rss(mm), 0u);
  for (int i = 0; i < 8; ++i) {
    auto r = m.UserStore(t, a + i * PAGE_SIZE + 8, 0x1000 + i);
    ASSERT_TRUE(r.ok()) << i;
    ASSERT_EQ(r.pf_error_codes.size(), 1u);
    EXPECT_EQ(r.pf_error_codes[0], hw::kPfErrWrite | hw::kPfErrUser);  // not present
  }
  EXPECT_EQ(m.stat(PGFAULT) - faults, 8);
  EXPECT_EQ(m.stat(NR_ANON_MAPPED) - anon, 8);
  EXPECT_EQ(get_mm_counter(mm, MM_ANONPAGES), 8u);
  for (int i = 0; i < 8; ++i) {
    uint64_t v = 0;
    ASSERT_TRUE(m.UserLoad(t, a + i * PAGE_SIZE + 8, &v).ok());
    EXPECT_EQ(v, 0x1000u + i);
    pte_t pte = *mm_find_pte(mm, a + i * PAGE_SIZE);
    EXPECT_TRUE(pte_write(pte) && pte_dirty(pte) && pte_young(pte));
    EXPECT_TRUE(PageAnonExclusive(pte_page(pte)));
  }
  // One pud, pmd and pte table below the pgd.
  EXPECT_EQ(mm_pgtables_bytes(mm), 3 * PAGE_SIZE);
  EXPECT_EQ(m.DebugVm(), "");
}

TEST(Memory, ZeroPageOnReadThenPrivatePageOnWrite) {
  BootedKernel m;
  task_struct* t = m.Spawn("t");
  mm_struct* mm = t->mm;
  unsigned long a = m.Mmap(t, 0, PAGE_SIZE, kRW, kAnon);
  const unsigned long free_before = nr_free_pages();
  uint64_t v = 1;
  auto r = m.UserLoad(t, a, &v);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(v, 0u);
  pte_t pte = *mm_find_pte(mm, a);
  EXPECT_TRUE(is_zero_pfn(pte_pfn(pte)));
  EXPECT_TRUE(pte_special(pte));
  EXPECT_FALSE(pte_write(pte));
  EXPECT_EQ(get_mm_rss(mm), 0u);
  EXPECT_EQ(page_ref_count(kst().zero_page), 1);  // not taken for the mapping (6.5+)
  // The pte table was the only allocation (pud and pmd tables too: three frames).
  EXPECT_EQ(nr_free_pages(), free_before - 3);
  EXPECT_EQ(m.DebugVm(), "");

  r = m.UserStore(t, a, 42);
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(r.pf_error_codes.size(), 1u);
  EXPECT_EQ(r.pf_error_codes[0], hw::kPfErrPresent | hw::kPfErrWrite | hw::kPfErrUser);
  pte = *mm_find_pte(mm, a);
  EXPECT_FALSE(is_zero_pfn(pte_pfn(pte)));
  EXPECT_TRUE(pte_write(pte));
  EXPECT_FALSE(pte_special(pte));
  EXPECT_EQ(get_mm_counter(mm, MM_ANONPAGES), 1u);
  ASSERT_TRUE(m.UserLoad(t, a, &v).ok());
  EXPECT_EQ(v, 42u);
  const unsigned char* zp = static_cast<const unsigned char*>(page_address(kst().zero_page));
  for (unsigned long i = 0; i < PAGE_SIZE; ++i) ASSERT_EQ(zp[i], 0);
  EXPECT_EQ(m.DebugVm(), "");
}

TEST(Memory, WriteToReadOnlyMappingIsRefused) {
  BootedKernel m;
  task_struct* t = m.Spawn("t");
  unsigned long a = m.Mmap(t, 0, PAGE_SIZE, PROT_READ, kAnon);
  auto r = m.UserStore(t, a, 1);
  EXPECT_TRUE(r.sigsegv);
  EXPECT_FALSE(r.ok());
  uint64_t v;
  EXPECT_TRUE(m.UserLoad(t, a, &v).ok());
  r = m.UserStore(t, a, 1);  // now a protection fault on the zero page
  EXPECT_TRUE(r.sigsegv);
  EXPECT_EQ(r.pf_error_codes.back(), hw::kPfErrPresent | hw::kPfErrWrite | hw::kPfErrUser);
  EXPECT_EQ(m.DebugVm(), "");
}

TEST(Memory, MunmapReturnsEveryFrameAndPageTable) {
  BootedKernel m;
  task_struct* t = m.Spawn("t");
  mm_struct* mm = t->mm;
  const unsigned long free_before = nr_free_pages();
  const long tables_before = m.stat(NR_PAGETABLE);
  // 3 MiB crossing a 2 MiB boundary: two pte tables.
  unsigned long a = m.Mmap(t, 0x40000000UL - PAGE_SIZE * 256, 768 * PAGE_SIZE, kRW,
                           kAnon | MAP_FIXED);
  ASSERT_EQ(a, 0x40000000UL - PAGE_SIZE * 256);
  for (unsigned long off = 0; off < 768 * PAGE_SIZE; off += PAGE_SIZE)
    ASSERT_TRUE(m.UserStore(t, a + off, off).ok());
  EXPECT_EQ(get_mm_counter(mm, MM_ANONPAGES), 768u);
  EXPECT_GT(m.stat(NR_PAGETABLE), tables_before);
  EXPECT_EQ(m.DebugVm(), "");
  ASSERT_EQ(m.Munmap(t, a, 768 * PAGE_SIZE), 0);
  EXPECT_EQ(nr_free_pages(), free_before);
  EXPECT_EQ(m.stat(NR_PAGETABLE), tables_before);
  EXPECT_EQ(mm_pgtables_bytes(mm), 0u);
  EXPECT_EQ(get_mm_rss(mm), 0u);
  EXPECT_EQ(mm->map_count, 1);  // only the [stack] exec made
  EXPECT_EQ(m.DebugVm(), "");
}

TEST(Memory, PartialMunmapKeepsTablesNeighboursUse) {
  BootedKernel m;
  task_struct* t = m.Spawn("t");
  mm_struct* mm = t->mm;
  unsigned long a = m.Mmap(t, 0, 4 * PAGE_SIZE, kRW, kAnon);
  for (int i = 0; i < 4; ++i) ASSERT_TRUE(m.UserStore(t, a + i * PAGE_SIZE, i).ok());
  ASSERT_EQ(m.Munmap(t, a + PAGE_SIZE, 2 * PAGE_SIZE), 0);
  EXPECT_EQ(mm->map_count, 1 + 2);  // the [stack], and the two ends
  EXPECT_EQ(get_mm_counter(mm, MM_ANONPAGES), 2u);
  uint64_t v;
  ASSERT_TRUE(m.UserLoad(t, a + 3 * PAGE_SIZE, &v).ok());
  EXPECT_EQ(v, 3u);
  EXPECT_TRUE(m.UserLoad(t, a + PAGE_SIZE, &v).sigsegv);
  EXPECT_EQ(m.DebugVm(), "");
}

// Copy-on-write between a parent and its fork(2) child (dup_mmap -> copy_page_range ->
// copy_present_ptes), the child on another CPU.
TEST(Memory, CopyOnWriteCopiesSharedPageAndReusesExclusiveOne) {
  BootedKernel m;
  task_struct* parent = m.Spawn("parent");
  mm_struct* mm1 = parent->mm;
  unsigned long a = m.Mmap(parent, 0x10000000, PAGE_SIZE, kRW, kAnon | MAP_FIXED);
  ASSERT_EQ(a, 0x10000000UL);
  ASSERT_TRUE(m.UserStore(parent, a, 111).ok());
  page* shared = pte_page(*mm_find_pte(mm1, a));
  EXPECT_TRUE(PageAnonExclusive(shared));
  // fork: both PTEs read-only over the same page, which is no longer exclusive.
  task_struct* child = m.Fork(parent);
  mm_struct* mm2 = child->mm;
  ASSERT_NE(mm2, mm1);
  EXPECT_FALSE(pte_write(*mm_find_pte(mm1, a)));
  EXPECT_FALSE(pte_write(*mm_find_pte(mm2, a)));
  EXPECT_EQ(pte_page(*mm_find_pte(mm2, a)), shared);
  EXPECT_FALSE(PageAnonExclusive(shared));
  EXPECT_EQ(page_mapcount(shared), 2);
  EXPECT_EQ(get_mm_counter(mm2, MM_ANONPAGES), 1u);
  EXPECT_EQ(m.DebugVm(), "");

  // An unshare request (GUP read pin of a COW-shared page) gives mm2 a read-only copy.
  m.RunAs(child, 1);
  mmap_read_lock(mm2);
  EXPECT_EQ(handle_mm_fault(vma_lookup(mm2, a), a, FAULT_FLAG_UNSHARE, nullptr), 0u);
  mmap_read_unlock(mm2);
  pte_t p2 = *mm_find_pte(mm2, a);
  EXPECT_NE(pte_page(p2), shared);
  EXPECT_FALSE(pte_write(p2));
  EXPECT_FALSE(pte_dirty(p2));
  EXPECT_EQ(page_mapcount(shared), 1);
  uint64_t v = 0;
  ASSERT_TRUE(m.UserLoad(child, a, &v).ok());
  EXPECT_EQ(v, 111u);
  EXPECT_EQ(m.DebugVm(), "");

  // mm1's write: the page is no longer shared (refcount 1) but not marked exclusive
  // either, so do_wp_page reuses it after wp_can_reuse_anon_folio.
  auto r = m.UserStore(parent, a, 222);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(pte_page(*mm_find_pte(mm1, a)), shared);
  EXPECT_TRUE(PageAnonExclusive(shared));
  ASSERT_TRUE(m.UserLoad(child, a, &v).ok());
  EXPECT_EQ(v, 111u);
  // mm2's copy is exclusive: its write reuses it in place.
  page* copy = pte_page(*mm_find_pte(mm2, a));
  ASSERT_TRUE(m.UserStore(child, a, 333).ok());
  EXPECT_EQ(pte_page(*mm_find_pte(mm2, a)), copy);
  ASSERT_TRUE(m.UserLoad(parent, a, &v).ok());
  EXPECT_EQ(v, 222u);
  EXPECT_EQ(m.DebugVm(), "");
}

TEST(Memory, SharedPageWriteCopies) {
  BootedKernel m;
  task_struct* t = m.Spawn("t");
  mm_struct* mm = t->mm;
  unsigned long a = m.Mmap(t, 0, PAGE_SIZE, kRW, kAnon);
  ASSERT_TRUE(m.UserStore(t, a, 5).ok());
  pte_t* ptep = mm_find_pte(mm, a);
  page* old = pte_page(*ptep);
  // Someone else holds a reference (a pin or a second mapping): the write must copy.
  ClearPageAnonExclusive(old);
  ptep_set_wrprotect(mm, a, ptep);
  flush_tlb_page(vma_lookup(mm, a), a);
  get_page(old);
  auto r = m.UserStore(t, a, 6);
  ASSERT_TRUE(r.ok());
  page* now = pte_page(*mm_find_pte(mm, a));
  EXPECT_NE(now, old);
  EXPECT_EQ(page_ref_count(old), 1);  // only our extra reference remains
  EXPECT_EQ(page_mapcount(old), 0);
  EXPECT_EQ(*static_cast<uint64_t*>(page_address(old)), 5u);
  uint64_t v;
  ASSERT_TRUE(m.UserLoad(t, a, &v).ok());
  EXPECT_EQ(v, 6u);
  put_page(old);
  EXPECT_EQ(m.DebugVm(), "");
}

// Counts the user faults that ended in pagefault_out_of_memory (its trace event is the
// handler's only record of it).
struct OomEvents : kernel_observer {
  int n = 0;
  void on_event(const char* name, const std::string&) override {
    if (std::string(name) == "pagefault_out_of_memory") ++n;
  }
};

// Every allocation a first fault makes (pud, pmd and pte tables, the anon_vma, the page)
// fails in turn: the fault ends in VM_FAULT_OOM (pagefault_out_of_memory, the store not
// done) and, once the process is gone, every frame and slab object is back.
TEST(Memory, AllocationFailureAtEachSiteIsOomAndLeaksNothing) {
  BootedKernel m;
  const unsigned long free0 = nr_free_pages();
  const long slab0 = kst().slab_allocations;
  for (const char* point : {"fail_page_alloc", "fail_pgtable", "failslab", "fail_fault"}) {
    for (long nth = 1;; ++nth) {
      task_struct* t = m.Spawn("t");
      mm_struct* mm = t->mm;
      unsigned long a = m.Mmap(t, 0, 2 * PAGE_SIZE, kRW, kAnon);
      ASSERT_FALSE(IS_ERR_VALUE(a));
      ASSERT_EQ(fault_inject_arm(point, {.nth = static_cast<uint64_t>(nth), .times = 1}), 0);
      OomEvents oom;
      m.ks()->observer = &oom;
      auto r = m.UserStore(t, a, 7, /*max_faults=*/1);  // no retry after the first #PF
      m.ks()->observer = nullptr;
      const uint64_t fired = fault_inject_failures(point);
      fault_inject_disarm(nullptr);
      if (fired == 0) {
        // The first fault resolved: the retried store needs no other.
        EXPECT_EQ(oom.n, 0) << point << " nth=" << nth;
        EXPECT_EQ(r.signal, 0) << point << " nth=" << nth;
        auto again = m.UserStore(t, a, 7);
        EXPECT_TRUE(again.ok()) << point << " nth=" << nth;
        EXPECT_TRUE(again.pf_error_codes.empty()) << point << " nth=" << nth;
        EXPECT_GT(nth, 1) << point << " never reached";
        m.ExitAndReap(t);
        break;
      }
      EXPECT_FALSE(r.ok()) << point << " nth=" << nth;
      EXPECT_EQ(oom.n, 1) << point << " nth=" << nth;
      // The allocation failed without an OOM kill (injected): the faulting task is the
      // victim (docs/semantics.md §15).
      EXPECT_EQ(r.signal, SIGKILL) << point << " nth=" << nth;
      t->fatal_signal = false;  // the fixture decides the task's end, not the signal
      EXPECT_EQ(get_mm_rss(mm), 0u);
      EXPECT_EQ(m.DebugVm(), "") << point << " nth=" << nth;
      // The same fault succeeds once memory is there again.
      EXPECT_TRUE(m.UserStore(t, a, 7).ok());
      m.ExitAndReap(t);
      EXPECT_EQ(nr_free_pages(), free0) << point << " nth=" << nth;
      EXPECT_EQ(kst().slab_allocations, slab0) << point << " nth=" << nth;
      ASSERT_LT(nth, 20);
    }
  }
  EXPECT_EQ(nr_free_pages(), free0);
  EXPECT_EQ(kst().slab_allocations, slab0);
}

TEST(Memory, ExitMmapFreesEverything) {
  BootedKernel m;
  const unsigned long free0 = nr_free_pages();
  const long tables0 = m.stat(NR_PAGETABLE);
  const long slab0 = kst().slab_allocations;
  task_struct* t = m.Spawn("t");
  mm_struct* mm = t->mm;
  for (int i = 0; i < 5; ++i) {
    unsigned long a = m.Mmap(t, 0, 3 * PAGE_SIZE, i % 2 ? PROT_READ : kRW, kAnon);
    uint64_t v;
    ASSERT_TRUE(m.UserLoad(t, a, &v).ok());
    if (!(i % 2)) {
      ASSERT_TRUE(m.UserStore(t, a + PAGE_SIZE, i).ok());
    }
  }
  EXPECT_EQ(mm->map_count, 1 + 5);  // the [stack] exec made, and ours
  m.ExitAndReap(t);
  EXPECT_EQ(nr_free_pages(), free0);
  EXPECT_EQ(kst().slab_allocations, slab0);
  EXPECT_EQ(m.stat(NR_ANON_MAPPED), 0);
  EXPECT_EQ(m.stat(NR_PAGETABLE), tables0);  // init's own tables only
  EXPECT_EQ(m.DebugVm(), "");
}

// include/linux/mmap_lock.h over kernel/locking/rwsem.c: a killable lock gives up with
// -EINTR only where it would sleep (contended) and a fatal signal is pending.
TEST(Memory, KillableMmapLockFailsOnlyWhenContendedWithAFatalSignal) {
  BootedKernel m;
  task_struct* t = m.Spawn("t");
  mm_struct* mm = t->mm;
  m.RunAs(t);
  t->fatal_signal = true;
  // Uncontended: taken, signal or not.
  ASSERT_EQ(mmap_read_lock_killable(mm), 0);
  // Another reader gets in without sleeping; a writer would sleep.
  EXPECT_EQ(mmap_read_lock_killable(mm), 0);
  mmap_read_unlock(mm);
  EXPECT_EQ(mmap_write_lock_killable(mm), -EINTR);
  EXPECT_EQ(mm->mmap_lock.count.counter, RWSEM_READER_BIAS);  // the failed attempt left no trace
  EXPECT_TRUE(list_empty(&mm->mmap_lock.wait_list));
  mmap_read_unlock(mm);
  ASSERT_EQ(mmap_write_lock_killable(mm), 0);
  EXPECT_TRUE(rwsem_is_write_locked(&mm->mmap_lock));
  EXPECT_EQ(mmap_read_lock_killable(mm), -EINTR);
  EXPECT_EQ(mmap_write_lock_killable(mm), -EINTR);
  mmap_write_unlock(mm);
  EXPECT_FALSE(rwsem_is_locked(&mm->mmap_lock));
  // Without the signal, uncontended locks are taken as before.
  t->fatal_signal = false;
  ASSERT_EQ(mmap_write_lock_killable(mm), 0);
  mmap_write_unlock(mm);
  ASSERT_EQ(mmap_read_lock_killable(mm), 0);
  mmap_read_unlock(mm);
}

// sanitize_fault_flags (6.2+): UNSHARE on a mapping that cannot COW is a plain read fault;
// a write fault on a read-only shared mapping (FOLL_FORCE can only COW) is refused.
TEST(Memory, SanitizeFaultFlagsDropsUnshareOnSharedMappings) {
  BootedKernel m;
  task_struct* t = m.Spawn("t");
  mm_struct* mm = t->mm;
  const unsigned long a = m.Mmap(t, 0, 2 * PAGE_SIZE, kRW, MAP_SHARED | MAP_ANONYMOUS);
  ASSERT_FALSE(IS_ERR_VALUE(a));
  m.RunAs(t);
  const unsigned long warns0 = kernel_warn_count();
  mmap_read_lock(mm);
  vm_area_struct* vma = find_vma(mm, a);
  ASSERT_NE(vma, nullptr);
  EXPECT_EQ(handle_mm_fault(vma, a, FAULT_FLAG_UNSHARE | FAULT_FLAG_REMOTE, nullptr) &
                (VM_FAULT_ERROR | VM_FAULT_RETRY),
            0u);
  mmap_read_unlock(mm);
  EXPECT_EQ(kernel_warn_count(), warns0);
  pte_t* pte = mm_find_pte(mm, a);
  ASSERT_NE(pte, nullptr);
  EXPECT_TRUE(pte_present(*pte));
  EXPECT_FALSE(PageAnon(pte_page(*pte)));  // the shared page itself, no private copy

  // Read-only, but VM_MAYWRITE (a shared anonymous mapping could be mprotected writable).
  ASSERT_EQ(m.Mprotect(t, a, 2 * PAGE_SIZE, PROT_READ), 0);
  mmap_read_lock(mm);
  vma = find_vma(mm, a);
  ASSERT_TRUE(vma->vm_flags & VM_MAYWRITE);
  EXPECT_EQ(handle_mm_fault(vma, a + PAGE_SIZE, FAULT_FLAG_WRITE | FAULT_FLAG_REMOTE, nullptr),
            VM_FAULT_SIGSEGV);
  mmap_read_unlock(mm);
  EXPECT_EQ(kernel_warn_count(), warns0 + 1);
  EXPECT_EQ(mm_find_pte(mm, a + PAGE_SIZE) == nullptr || pte_none(*mm_find_pte(mm, a + PAGE_SIZE)),
            true);
}

}  // namespace
}  // namespace kernel
