// mm/mlock_test.cc: mlock, mlock2, munlock, mlockall, munlockall, RLIMIT_MEMLOCK and the
// unevictable LRU.
#include "gtest/gtest.h"
#include "mm/fs.h"
#include "mm/kernel/task.h"
#include "mm/mm.h"
#include "mm/mmzone.h"
#include "mm/pagewalk.h"
#include "mm/testing/file_helpers.h"
#include "mm/testing/one_process_test.h"
#include "mm/vmscan.h"

namespace kernel {
namespace {

using kernel_testing::MakeTestFile;
using kernel_testing::OneProcessTest;
using kernel_testing::TestCreds;

constexpr unsigned long kRW = PROT_READ | PROT_WRITE;

class MlockTest : public OneProcessTest {
 protected:
  folio* FolioAt(unsigned long va) {
    pte_t* pte = mm_find_pte(p_->mm, va);
    if (pte == nullptr || !pte_present(*pte)) return nullptr;
    return page_folio(pte_page(*pte));
  }
  vm_area_struct* VmaAt(unsigned long va) { return find_vma(p_->mm, va); }
  long Unevictable() const { return kst().zone_normal->__lruvec.nr_pages[LRU_UNEVICTABLE]; }
};

TEST_F(MlockTest, MlockPopulatesLocksAndMunlockUndoes) {
  unsigned long a = Map(4, kRW);
  const long mlocked = k_.stat(NR_MLOCK), unevictable = Unevictable();
  ASSERT_EQ(sys_mlock(a, 4 * PAGE_SIZE), 0);
  // Populated (write-faulted: private writable) and every page locked.
  EXPECT_EQ(get_mm_counter(p_->mm, MM_ANONPAGES), 4u);
  EXPECT_EQ(p_->mm->locked_vm, 4u);
  EXPECT_TRUE(VmaAt(a)->vm_flags & VM_LOCKED);
  for (int i = 0; i < 4; ++i) {
    folio* f = FolioAt(a + i * PAGE_SIZE);
    ASSERT_NE(f, nullptr);
    EXPECT_TRUE(folio_test_mlocked(f));
    EXPECT_TRUE(folio_test_unevictable(f));
    EXPECT_FALSE(folio_evictable(f));
    EXPECT_EQ(f->mlock_count, 1u);
  }
  EXPECT_EQ(k_.stat(NR_MLOCK) - mlocked, 4);
  EXPECT_EQ(Unevictable() - unevictable, 4);
  // mlock again: no double count anywhere.
  ASSERT_EQ(sys_mlock(a, 4 * PAGE_SIZE), 0);
  EXPECT_EQ(p_->mm->locked_vm, 4u);
  EXPECT_EQ(FolioAt(a)->mlock_count, 1u);
  EXPECT_EQ(k_.stat(NR_MLOCK) - mlocked, 4);

  const long munlocked = k_.stat(UNEVICTABLE_PGMUNLOCKED), rescued = k_.stat(UNEVICTABLE_PGRESCUED);
  ASSERT_EQ(sys_munlock(a, 4 * PAGE_SIZE), 0);
  EXPECT_EQ(p_->mm->locked_vm, 0u);
  EXPECT_FALSE(VmaAt(a)->vm_flags & VM_LOCKED);
  for (int i = 0; i < 4; ++i) {
    folio* f = FolioAt(a + i * PAGE_SIZE);
    EXPECT_FALSE(folio_test_mlocked(f));
    EXPECT_FALSE(folio_test_unevictable(f));
    EXPECT_EQ(folio_lru_list(f), LRU_INACTIVE_ANON);
  }
  EXPECT_EQ(k_.stat(NR_MLOCK), mlocked);
  EXPECT_EQ(Unevictable(), unevictable);
  EXPECT_EQ(k_.stat(UNEVICTABLE_PGMUNLOCKED) - munlocked, 4);
  EXPECT_EQ(k_.stat(UNEVICTABLE_PGRESCUED) - rescued, 4);
  EXPECT_EQ(k_.DebugVm(), "");
}

TEST_F(MlockTest, UnalignedStartAndLengthRoundOutward) {
  unsigned long a = Map(4, kRW);
  // [a + 100, a + PAGE_SIZE + 1) covers pages 0 and 1.
  ASSERT_EQ(sys_mlock(a + 100, PAGE_SIZE - 99), 0);
  EXPECT_EQ(p_->mm->locked_vm, 2u);
  EXPECT_EQ(VmaAt(a)->vm_end, a + 2 * PAGE_SIZE);
}

TEST_F(MlockTest, PartialMlockSplitsAndMunlockMergesBack) {
  unsigned long a = Map(5, kRW);
  const int vmas = p_->mm->map_count;
  ASSERT_EQ(sys_mlock(a + PAGE_SIZE, 2 * PAGE_SIZE), 0);
  EXPECT_EQ(p_->mm->map_count, vmas + 2);
  vm_area_struct* mid = VmaAt(a + PAGE_SIZE);
  EXPECT_EQ(mid->vm_start, a + PAGE_SIZE);
  EXPECT_EQ(mid->vm_end, a + 3 * PAGE_SIZE);
  EXPECT_TRUE(mid->vm_flags & VM_LOCKED);
  EXPECT_FALSE(VmaAt(a)->vm_flags & VM_LOCKED);
  // Only the locked part was populated.
  EXPECT_EQ(FolioAt(a), nullptr);
  EXPECT_NE(FolioAt(a + PAGE_SIZE), nullptr);
  EXPECT_EQ(FolioAt(a + 3 * PAGE_SIZE), nullptr);
  EXPECT_EQ(p_->mm->locked_vm, 2u);
  ASSERT_EQ(sys_munlock(a, 5 * PAGE_SIZE), 0);
  EXPECT_EQ(p_->mm->map_count, vmas);
  EXPECT_EQ(p_->mm->locked_vm, 0u);
  EXPECT_EQ(k_.DebugVm(), "");
}

TEST_F(MlockTest, HoleGivesEnomemAfterLockingWhatPrecedesIt) {
  unsigned long a = Map(3, kRW);
  ASSERT_EQ(k_.Munmap(p_, a + PAGE_SIZE, PAGE_SIZE), 0);
  k_.RunAs(p_);
  // apply_vma_lock_flags changes the VMA before the hole, then finds the hole.
  EXPECT_EQ(sys_mlock(a, 3 * PAGE_SIZE), -ENOMEM);
  EXPECT_TRUE(VmaAt(a)->vm_flags & VM_LOCKED);
  EXPECT_FALSE(VmaAt(a + 2 * PAGE_SIZE)->vm_flags & VM_LOCKED);
  EXPECT_EQ(p_->mm->locked_vm, 1u);
  // Not populated: do_mlock returns before __mm_populate.
  EXPECT_EQ(FolioAt(a), nullptr);
  // Starting in the hole: nothing changes.
  EXPECT_EQ(sys_munlock(a + PAGE_SIZE, 2 * PAGE_SIZE), -ENOMEM);
  EXPECT_FALSE(VmaAt(a + 2 * PAGE_SIZE)->vm_flags & VM_LOCKED);
  EXPECT_EQ(sys_munlock(a, PAGE_SIZE), 0);
  EXPECT_EQ(p_->mm->locked_vm, 0u);
  // Length overflow.
  EXPECT_EQ(sys_mlock(a, ~0UL - a + 2), -EINVAL);
  EXPECT_EQ(sys_mlock(a, 0), 0);
}

TEST_F(MlockTest, ProtNoneIsLockedButCannotBePopulated) {
  unsigned long a = Map(2, PROT_NONE);
  // populate_vma_page_range's -EFAULT becomes ENOMEM (__mlock_posix_error_return).
  EXPECT_EQ(sys_mlock(a, 2 * PAGE_SIZE), -ENOMEM);
  EXPECT_TRUE(VmaAt(a)->vm_flags & VM_LOCKED);
  EXPECT_EQ(p_->mm->locked_vm, 2u);
}

TEST_F(MlockTest, OnFaultLocksOnlyWhatFaultsIn) {
  unsigned long a = Map(3, kRW);
  EXPECT_EQ(sys_mlock2(a, 3 * PAGE_SIZE, 2), -EINVAL);
  ASSERT_EQ(sys_mlock2(a, 3 * PAGE_SIZE, MLOCK_ONFAULT), 0);
  EXPECT_EQ((VmaAt(a)->vm_flags & VM_LOCKED_MASK), VM_LOCKED_MASK);
  EXPECT_EQ(get_mm_counter(p_->mm, MM_ANONPAGES), 0u);
  EXPECT_EQ(p_->mm->locked_vm, 3u);  // counted all the same
  const long mlocked = k_.stat(UNEVICTABLE_PGMLOCKED);
  ASSERT_TRUE(k_.UserStore(p_, a + PAGE_SIZE, 7).ok());
  folio* f = FolioAt(a + PAGE_SIZE);
  ASSERT_NE(f, nullptr);
  // mlock_new_folio: straight onto the unevictable list.
  EXPECT_TRUE(folio_test_mlocked(f));
  EXPECT_EQ(folio_lru_list(f), LRU_UNEVICTABLE);
  EXPECT_EQ(k_.stat(UNEVICTABLE_PGMLOCKED) - mlocked, 1);
  // Turning it into a plain mlock keeps locked_vm and populates the rest.
  k_.RunAs(p_);
  ASSERT_EQ(sys_mlock(a, 3 * PAGE_SIZE), 0);
  EXPECT_EQ(p_->mm->locked_vm, 3u);
  EXPECT_EQ(VmaAt(a)->vm_flags & VM_LOCKED_MASK, VM_LOCKED);
  EXPECT_EQ(get_mm_counter(p_->mm, MM_ANONPAGES), 3u);
  EXPECT_EQ(k_.DebugVm(), "");
}

TEST_F(MlockTest, MunmapOfLockedMemoryUnlocksAndUncounts) {
  unsigned long a = Map(4, kRW);
  const long mlocked = k_.stat(NR_MLOCK);
  ASSERT_EQ(sys_mlock(a, 4 * PAGE_SIZE), 0);
  ASSERT_EQ(k_.Munmap(p_, a + PAGE_SIZE, 2 * PAGE_SIZE), 0);
  EXPECT_EQ(p_->mm->locked_vm, 2u);
  EXPECT_EQ(k_.stat(NR_MLOCK) - mlocked, 2);
  k_.ExitAndReap(p_);
  p_ = nullptr;
  EXPECT_EQ(k_.stat(NR_MLOCK), mlocked);
  EXPECT_EQ(k_.DebugVm(), "");
}

TEST_F(MlockTest, MapLockedCountsAndPopulates) {
  k_.RunAs(p_);
  unsigned long a = vm_mmap_pgoff(nullptr, 0, 2 * PAGE_SIZE, kRW,
                                  MAP_PRIVATE | MAP_ANONYMOUS | MAP_LOCKED, 0);
  ASSERT_FALSE(IS_ERR_VALUE(a));
  EXPECT_EQ(p_->mm->locked_vm, 2u);
  ASSERT_NE(FolioAt(a), nullptr);
  EXPECT_TRUE(folio_test_mlocked(FolioAt(a)));
}

TEST_F(MlockTest, SharedFileFolioStaysLockedWhileAnyLockedVmaMapsIt) {
  file* f = MakeTestFile("locked", 1);
  ASSERT_FALSE(IS_ERR(f));
  k_.RunAs(p_);
  unsigned long a = vm_mmap_pgoff(f, 0, PAGE_SIZE, PROT_READ, MAP_SHARED, 0);
  unsigned long b = vm_mmap_pgoff(f, 0, PAGE_SIZE, PROT_READ, MAP_SHARED, 0);
  ASSERT_FALSE(IS_ERR_VALUE(a));
  ASSERT_FALSE(IS_ERR_VALUE(b));
  ASSERT_EQ(sys_mlock(a, PAGE_SIZE), 0);
  ASSERT_EQ(sys_mlock(b, PAGE_SIZE), 0);
  folio* fo = FolioAt(a);
  ASSERT_NE(fo, nullptr);
  EXPECT_EQ(fo, FolioAt(b));
  EXPECT_EQ(fo->mlock_count, 2u);
  EXPECT_EQ(k_.stat(NR_FILE_MAPPED) > 0, true);
  ASSERT_EQ(sys_munlock(a, PAGE_SIZE), 0);
  EXPECT_EQ(fo->mlock_count, 1u);
  EXPECT_TRUE(folio_test_mlocked(fo));
  EXPECT_EQ(folio_lru_list(fo), LRU_UNEVICTABLE);
  // Unmapping the last locked mapping (zap -> munlock_vma_folio) makes it evictable.
  ASSERT_EQ(k_.Munmap(p_, b, PAGE_SIZE), 0);
  EXPECT_FALSE(folio_test_mlocked(fo));
  EXPECT_TRUE(is_file_lru(folio_lru_list(fo)));
  k_.RunAs(p_);
  fput(f);
  EXPECT_EQ(k_.DebugVm(), "");
}

// Reclaim never takes an mlocked folio: shrink_folio_list's folio_evictable check sends it
// back, while the same clean unmapped page-cache folio is freed when not locked.
TEST_F(MlockTest, ReclaimSkipsMlockedFolio) {
  file* f = MakeTestFile("cache", 2);
  ASSERT_FALSE(IS_ERR(f));
  k_.RunAs(p_);
  force_page_cache_readahead(f->f_mapping, f, 0, 2);
  ASSERT_EQ(f->f_mapping->nrpages, 2u);
  folio* locked = f->f_mapping->i_pages.at(0);
  folio* plain = f->f_mapping->i_pages.at(1);
  mlock_folio(locked);
  EXPECT_EQ(folio_lru_list(locked), LRU_UNEVICTABLE);
  list_head l;
  INIT_LIST_HEAD(&l);
  ASSERT_TRUE(folio_isolate_lru(locked));
  list_add(&locked->lru, &l);
  ASSERT_TRUE(folio_isolate_lru(plain));
  list_add(&plain->lru, &l);
  EXPECT_EQ(reclaim_pages(&l), 1u);
  EXPECT_EQ(f->f_mapping->nrpages, 1u);
  ASSERT_EQ(f->f_mapping->i_pages.count(0), 1u);
  EXPECT_TRUE(folio_test_lru(locked));
  EXPECT_EQ(folio_lru_list(locked), LRU_UNEVICTABLE);
  // Direct reclaim never even scans the unevictable list.
  try_to_free_pages(0, GFP_KERNEL);
  EXPECT_EQ(f->f_mapping->i_pages.count(0), 1u);
  munlock_folio(locked);
  EXPECT_EQ(folio_lru_list(locked), LRU_INACTIVE_FILE);
  fput(f);
  EXPECT_EQ(k_.DebugVm(), "");
}

TEST_F(MlockTest, MlockallCurrentFutureAndMunlockall) {
  unsigned long a = Map(2, kRW);
  EXPECT_EQ(sys_mlockall(0), -EINVAL);
  EXPECT_EQ(sys_mlockall(MCL_ONFAULT), -EINVAL);
  EXPECT_EQ(sys_mlockall(8), -EINVAL);
  ASSERT_EQ(sys_mlockall(MCL_CURRENT | MCL_FUTURE), 0);
  // Every VMA (the stack too) is locked and populated.
  EXPECT_EQ(p_->mm->locked_vm, p_->mm->total_vm);
  EXPECT_TRUE(folio_test_mlocked(FolioAt(a)));
  EXPECT_TRUE(p_->mm->def_flags & VM_LOCKED);
  // MCL_FUTURE: a new mapping is locked and populated.
  unsigned long b = vm_mmap_pgoff(nullptr, 0, PAGE_SIZE, kRW, MAP_PRIVATE | MAP_ANONYMOUS, 0);
  ASSERT_FALSE(IS_ERR_VALUE(b));
  EXPECT_TRUE(VmaAt(b)->vm_flags & VM_LOCKED);
  ASSERT_NE(FolioAt(b), nullptr);
  EXPECT_TRUE(folio_test_mlocked(FolioAt(b)));
  EXPECT_EQ(p_->mm->locked_vm, p_->mm->total_vm);
  ASSERT_EQ(sys_munlockall(), 0);
  EXPECT_EQ(p_->mm->locked_vm, 0u);
  EXPECT_EQ(p_->mm->def_flags & VM_LOCKED_MASK, 0u);
  EXPECT_FALSE(folio_test_mlocked(FolioAt(a)));
  // MCL_FUTURE alone locks nothing now.
  ASSERT_EQ(sys_mlockall(MCL_FUTURE | MCL_ONFAULT), 0);
  EXPECT_EQ(p_->mm->locked_vm, 0u);
  EXPECT_EQ(p_->mm->def_flags & VM_LOCKED_MASK, VM_LOCKED_MASK);
  unsigned long c = vm_mmap_pgoff(nullptr, 0, PAGE_SIZE, kRW, MAP_PRIVATE | MAP_ANONYMOUS, 0);
  EXPECT_EQ(FolioAt(c), nullptr);  // on fault only
  EXPECT_EQ(p_->mm->locked_vm, 1u);
  EXPECT_EQ(k_.DebugVm(), "");
}

TEST_F(MlockTest, ForkDoesNotInheritLocks) {
  unsigned long a = Map(1, kRW);
  ASSERT_EQ(sys_mlockall(MCL_CURRENT | MCL_FUTURE), 0);
  task_struct* c = k_.Fork(p_);
  ASSERT_NE(c, nullptr);
  EXPECT_EQ(c->mm->locked_vm, 0u);
  EXPECT_EQ(c->mm->def_flags, 0u);
  EXPECT_FALSE(find_vma(c->mm, a)->vm_flags & VM_LOCKED);
  // The child's COW copy is an ordinary page.
  k_.RunAs(c);
  ASSERT_TRUE(k_.UserStore(c, a, 1).ok());
  pte_t* pte = mm_find_pte(c->mm, a);
  EXPECT_FALSE(folio_test_mlocked(page_folio(pte_page(*pte))));
  k_.ExitAndReap(c);
  EXPECT_EQ(k_.DebugVm(), "");
}

// RLIMIT_MEMLOCK and CAP_IPC_LOCK (an unprivileged process).
TEST(MlockLimit, RlimitMemlockAndCapIpcLock) {
  kernel_testing::BootedKernel k;
  task_struct* u = k.Spawn("u", TestCreds::User(1000, 1000));
  unsigned long a = k.Mmap(u, 0, 8 * PAGE_SIZE, kRW);
  k.RunAs(u);
  EXPECT_EQ(rlimit(RLIMIT_MEMLOCK), MLOCK_LIMIT);
  struct rlimit lim = {4 * PAGE_SIZE, 4 * PAGE_SIZE};
  ASSERT_EQ(do_prlimit(u, RLIMIT_MEMLOCK, &lim, nullptr), 0);
  // Raising the hard limit needs CAP_SYS_RESOURCE; cur > max is EINVAL.
  struct rlimit up = {4 * PAGE_SIZE, 8 * PAGE_SIZE};
  EXPECT_EQ(do_prlimit(u, RLIMIT_MEMLOCK, &up, nullptr), -EPERM);
  struct rlimit bad = {8 * PAGE_SIZE, 4 * PAGE_SIZE};
  EXPECT_EQ(do_prlimit(u, RLIMIT_MEMLOCK, &bad, nullptr), -EINVAL);
  EXPECT_EQ(do_prlimit(u, RLIM_NLIMITS, &lim, nullptr), -EINVAL);

  EXPECT_EQ(sys_mlock(a, 5 * PAGE_SIZE), -ENOMEM);
  EXPECT_EQ(u->mm->locked_vm, 0u);
  ASSERT_EQ(sys_mlock(a, 3 * PAGE_SIZE), 0);
  // Overlapping the locked part is counted once: 3 locked + 1 new = 4 <= 4.
  EXPECT_EQ(sys_mlock(a + PAGE_SIZE, 3 * PAGE_SIZE), 0);
  EXPECT_EQ(u->mm->locked_vm, 4u);
  EXPECT_EQ(sys_mlock(a + 4 * PAGE_SIZE, PAGE_SIZE), -ENOMEM);
  // MAP_LOCKED beyond the limit: EAGAIN (mlock_future_ok).
  unsigned long r = vm_mmap_pgoff(nullptr, 0, PAGE_SIZE, kRW,
                                  MAP_PRIVATE | MAP_ANONYMOUS | MAP_LOCKED, 0);
  EXPECT_EQ(r, static_cast<unsigned long>(-EAGAIN));
  // mlockall(MCL_CURRENT) needs total_vm within the limit.
  EXPECT_EQ(sys_mlockall(MCL_CURRENT), -ENOMEM);
  EXPECT_EQ(sys_mlockall(MCL_FUTURE), 0);
  ASSERT_EQ(sys_munlockall(), 0);
  // A zero limit: EPERM for mlock, mlockall and MAP_LOCKED.
  struct rlimit zero = {0, 0};
  ASSERT_EQ(do_prlimit(u, RLIMIT_MEMLOCK, &zero, nullptr), 0);
  EXPECT_EQ(sys_mlock(a, PAGE_SIZE), -EPERM);
  EXPECT_EQ(sys_mlockall(MCL_CURRENT), -EPERM);
  r = vm_mmap_pgoff(nullptr, 0, PAGE_SIZE, kRW, MAP_PRIVATE | MAP_ANONYMOUS | MAP_LOCKED, 0);
  EXPECT_EQ(r, static_cast<unsigned long>(-EPERM));
  // munlock needs no permission.
  EXPECT_EQ(sys_munlock(a, 8 * PAGE_SIZE), 0);

  // Root (CAP_IPC_LOCK) is not limited.
  task_struct* root = k.Spawn("root");
  unsigned long b = k.Mmap(root, 0, 8 * PAGE_SIZE, kRW);
  k.RunAs(root);
  ASSERT_EQ(do_prlimit(root, RLIMIT_MEMLOCK, &zero, nullptr), 0);
  EXPECT_EQ(sys_mlock(b, 8 * PAGE_SIZE), 0);
  EXPECT_EQ(root->mm->locked_vm, 8u);
  // Limits are inherited at fork.
  task_struct* child = k.Fork(u);
  EXPECT_EQ(task_rlimit(child, RLIMIT_MEMLOCK), 0u);
  k.ExitAndReap(child);
  EXPECT_EQ(k.DebugVm(), "");
}

}  // namespace
}  // namespace kernel
