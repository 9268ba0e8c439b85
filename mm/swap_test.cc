// Swap (mm/swap.h, swapfile.cc, swap_state.cc, page_io.cc and their kernel sites:
// do_swap_page, zap, fork, try_to_unmap, shrink_folio_list) on a booted kernel: memory
// filled beyond RAM comes back byte for byte, fork shares slots, munmap and exit give
// them back, GUP (process_vm_readv) swaps in, a pinned page stays, and injected
// allocation failures on the swap paths leave a consistent machine.
#include <cstring>
#include <vector>

#include "gtest/gtest.h"
#include "hw/pattern.h"
#include "mm/arch/x86/tlb.h"
#include "mm/arch/x86/uaccess.h"
#include "mm/fault_inject.h"
#include "mm/mm.h"
#include "mm/mmzone.h"
#include "mm/oom.h"
#include "mm/pagewalk.h"
#include "mm/process_vm_access.h"
#include "mm/swap.h"
#include "mm/testing/kernel_fixture.h"
#include "mm/vmscan.h"

namespace kernel {
namespace {

using kernel_testing::BootedKernel;

constexpr unsigned long kBase = 0x10000000;
constexpr unsigned long kL = 0x300000000000UL;
constexpr unsigned long kScratch = 0x100000000000UL;
constexpr unsigned long kRW = PROT_READ | PROT_WRITE;

void __user* U(unsigned long a) { return reinterpret_cast<void __user*>(a); }
uint8_t Pat(unsigned long a, uint8_t salt) { return hw::PatternByte(a) ^ salt; }

// Writes the pattern over [addr, addr + pages) as t, one page at a time (so that a
// failure names its page). False at the first page that could not be written.
bool FillPattern(BootedKernel& m, task_struct* t, unsigned long addr, unsigned long pages,
                 uint8_t salt = 0) {
  std::vector<uint8_t> v(PAGE_SIZE);
  m.RunAs(t);
  for (unsigned long i = 0; i < pages; ++i) {
    const unsigned long a = addr + i * PAGE_SIZE;
    for (unsigned long b = 0; b < PAGE_SIZE; ++b) v[b] = Pat(a + b, salt);
    if (copy_to_user(U(a), v.data(), PAGE_SIZE) != 0) return false;
  }
  return true;
}

// Every byte of [addr, addr + pages) as t reads it must be the pattern.
::testing::AssertionResult Intact(BootedKernel& m, task_struct* t, unsigned long addr,
                                  unsigned long pages, uint8_t salt = 0) {
  std::vector<uint8_t> v(PAGE_SIZE);
  m.RunAs(t);
  for (unsigned long i = 0; i < pages; ++i) {
    const unsigned long a = addr + i * PAGE_SIZE;
    if (copy_from_user(v.data(), U(a), PAGE_SIZE) != 0)
      return ::testing::AssertionFailure() << "page " << i << " unreadable";
    for (unsigned long b = 0; b < PAGE_SIZE; ++b)
      if (v[b] != Pat(a + b, salt))
        return ::testing::AssertionFailure() << "page " << i << " byte " << b << " is "
                                             << int(v[b]) << ", want " << int(Pat(a + b, salt));
  }
  return ::testing::AssertionSuccess();
}

// Direct reclaim as t until its anon pages are out (or reclaim gives up).
void SwapOut(BootedKernel& m, task_struct* t) {
  m.RunAs(t);
  for (int i = 0; i < 64 && get_mm_counter(t->mm, MM_ANONPAGES) > 0; ++i)
    try_to_free_pages(0, GFP_KERNEL);
}

swp_entry_t SwapEntryAt(mm_struct* mm, unsigned long va) {
  pte_t* pte = mm_find_pte(mm, va);
  if (pte == nullptr || !is_swap_pte(*pte)) return swp_entry_t{0};
  return pte_to_swp_entry(*pte);
}

// A 32 MiB machine with 16 MiB of swap.
class SwapTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_EQ(swapon_simulated(16 << 20), 0); }
  // A new process with `pages` pages at kBase, written with the pattern.
  task_struct* SpawnFilled(const char* comm, unsigned long pages, uint8_t salt = 0) {
    task_struct* t = m.Spawn(comm);
    if (m.Mmap(t, kBase, pages * PAGE_SIZE, kRW) != kBase) return nullptr;
    return FillPattern(m, t, kBase, pages, salt) ? t : nullptr;
  }
  BootedKernel m{32 << 20, 1};
};

TEST(SwapEntry, X86EncodingInvertsTheOffsetAndRoundTrips) {
  BootedKernel m(16 << 20, 1);
  for (unsigned long offset : {1UL, 5UL, 4095UL, (1UL << 40) + 3}) {
    swp_entry_t e = swp_entry(0, offset);
    pte_t pte = swp_entry_to_pte(e);
    EXPECT_TRUE(is_swap_pte(pte));
    EXPECT_FALSE(pte_present(pte));
    EXPECT_FALSE(pte_none(pte));
    // Bits 58..9 hold ~offset: a speculated "frame" is never the slot number.
    EXPECT_EQ(pte_val(pte), (~offset << SWP_OFFSET_SHIFT) >> SWP_TYPE_BITS);
    EXPECT_EQ(pte_val(pte) & (_PAGE_PRESENT | _PAGE_PROTNONE | _PAGE_SWP_EXCLUSIVE), 0u);
    EXPECT_EQ(swp_offset(pte_to_swp_entry(pte)), offset);
    EXPECT_EQ(swp_type(pte_to_swp_entry(pte)), 0u);
    pte_t ex = pte_swp_mkexclusive(pte);
    EXPECT_TRUE(pte_swp_exclusive(ex));
    EXPECT_EQ(pte_to_swp_entry(ex).val, e.val);  // the marker is not part of the entry
  }
  swp_entry_t e = swp_entry(3, 77);
  EXPECT_EQ(swp_type(pte_to_swp_entry(swp_entry_to_pte(e))), 3u);
  EXPECT_EQ(swp_offset(pte_to_swp_entry(swp_entry_to_pte(e))), 77u);
}

TEST(Swap, SwaponSizesTheDeviceAndShowsInDmesg) {
  BootedKernel m(16 << 20, 1);
  EXPECT_EQ(m.ks()->total_swap_pages, 0u);
  ASSERT_EQ(swapon_simulated(8 << 20), 0);
  EXPECT_EQ(m.ks()->total_swap_pages, 2047u);  // slot 0 is the header
  EXPECT_EQ(m.ks()->nr_swap_pages, 2047u);
  EXPECT_EQ(swapon_simulated(8 << 20), -EBUSY);
  bool logged = false;
  for (const std::string& l : m.ks()->printk_log)
    logged |= l.find("Adding 8188k swap on /dev/mmsim-swap.  Priority:-2") != std::string::npos;
  EXPECT_TRUE(logged);
  EXPECT_EQ(m.DebugVm(), "");
}

TEST(Swap, FillBeyondRamComesBackByteForByte) {
  BootedKernel m(16 << 20, 1);
  ASSERT_EQ(swapon_simulated(32 << 20), 0);
  task_struct* t = m.Spawn("big");
  const unsigned long pages = 6144;  // 24 MiB on a 16 MiB machine
  ASSERT_EQ(m.Mmap(t, kBase, pages * PAGE_SIZE, kRW), kBase);
  ASSERT_TRUE(FillPattern(m, t, kBase, pages));
  EXPECT_GT(m.stat(PSWPOUT), 0);
  EXPECT_GT(get_mm_counter(t->mm, MM_SWAPENTS), 0u);
  EXPECT_EQ(m.DebugVm(), "");
  const long pswpin = m.stat(PSWPIN), majflt = m.stat(PGMAJFAULT);
  EXPECT_TRUE(Intact(m, t, kBase, pages));
  EXPECT_GT(m.stat(PSWPIN), pswpin);
  EXPECT_GT(m.stat(PGMAJFAULT), majflt);
  EXPECT_EQ(m.stat(OOM_KILL), 0);
  EXPECT_EQ(m.DebugVm(), "");
  // And a second pass, after everything went round once more.
  EXPECT_TRUE(Intact(m, t, kBase, pages));
  EXPECT_EQ(m.DebugVm(), "");
}

TEST(Swap, WithoutSwapTheSameFillIsAnOomKill) {
  BootedKernel m(16 << 20, 1);
  task_struct* t = m.Spawn("big");
  const unsigned long pages = 6144;
  ASSERT_EQ(m.Mmap(t, kBase, pages * PAGE_SIZE, kRW), kBase);
  m.RunAs(t);
  for (unsigned long i = 0; i < pages && !t->fatal_signal; ++i)
    ASSERT_TRUE(m.UserStore(t, kBase + i * PAGE_SIZE, i).ok());
  EXPECT_TRUE(t->fatal_signal);
  EXPECT_TRUE(tsk_is_oom_victim(t));
  EXPECT_EQ(m.stat(OOM_KILL), 1);
  EXPECT_EQ(m.stat(PSWPOUT), 0);
}

TEST_F(SwapTest, ReclaimSwapsAnonOutAndTheFaultIsMajor) {
  task_struct* t = SpawnFilled("t", 8);
  ASSERT_NE(t, nullptr);
  SwapOut(m, t);
  ASSERT_EQ(get_mm_counter(t->mm, MM_ANONPAGES), 0u);
  EXPECT_GE(get_mm_counter(t->mm, MM_SWAPENTS), 8u);
  swp_entry_t e = SwapEntryAt(t->mm, kBase);
  ASSERT_NE(e.val, 0u);
  EXPECT_TRUE(pte_swp_exclusive(*mm_find_pte(t->mm, kBase)));  // it was ours alone
  EXPECT_EQ(__swap_count(e), 1);
  EXPECT_EQ(swap_cache_get_folio(e), nullptr);  // written and dropped from the cache
  EXPECT_EQ(m.DebugVm(), "");
  const long majflt = m.stat(PGMAJFAULT);
  uint64_t v = 0;
  ASSERT_TRUE(m.UserLoad(t, kBase + 8, &v).ok());
  uint64_t want;
  uint8_t b[8];
  for (int i = 0; i < 8; ++i) b[i] = Pat(kBase + 8 + i, 0);
  std::memcpy(&want, b, 8);
  EXPECT_EQ(v, want);
  EXPECT_EQ(m.stat(PGMAJFAULT), majflt + 1);
  // The read fault maps the exclusive page writable; the slot stays with the cache copy
  // until a write (should_try_to_free_swap) or swap pressure frees it.
  pte_t* pte = mm_find_pte(t->mm, kBase);
  ASSERT_TRUE(pte_present(*pte));
  EXPECT_TRUE(pte_write(*pte));
  EXPECT_EQ(m.DebugVm(), "");
  EXPECT_TRUE(Intact(m, t, kBase, 8));
  EXPECT_EQ(m.DebugVm(), "");
}

TEST_F(SwapTest, ForkSharesSlotsAndBothSeeTheirBytes) {
  task_struct* parent = SpawnFilled("parent", 8);
  ASSERT_NE(parent, nullptr);
  SwapOut(m, parent);
  swp_entry_t e = SwapEntryAt(parent->mm, kBase);
  ASSERT_NE(e.val, 0u);
  task_struct* child = m.Fork(parent);
  ASSERT_NE(child, nullptr);
  EXPECT_EQ(__swap_count(e), 2);
  EXPECT_EQ(SwapEntryAt(child->mm, kBase).val, e.val);
  EXPECT_FALSE(pte_swp_exclusive(*mm_find_pte(parent->mm, kBase)));  // now shared
  EXPECT_FALSE(pte_swp_exclusive(*mm_find_pte(child->mm, kBase)));
  EXPECT_EQ(get_mm_counter(child->mm, MM_SWAPENTS), get_mm_counter(parent->mm, MM_SWAPENTS));
  EXPECT_EQ(m.DebugVm(), "");
  // The child reads first: one swap-in, the parent then finds the page in the cache.
  const long pswpin = m.stat(PSWPIN);
  EXPECT_TRUE(Intact(m, child, kBase, 1));
  EXPECT_EQ(m.stat(PSWPIN), pswpin + 1);
  EXPECT_TRUE(Intact(m, parent, kBase, 1));
  EXPECT_EQ(m.stat(PSWPIN), pswpin + 1);
  EXPECT_EQ(m.DebugVm(), "");
  // The parent writes everything anew; the child still reads the old bytes.
  ASSERT_TRUE(FillPattern(m, parent, kBase, 8, 0x5a));
  EXPECT_TRUE(Intact(m, child, kBase, 8));
  EXPECT_TRUE(Intact(m, parent, kBase, 8, 0x5a));
  EXPECT_EQ(m.DebugVm(), "");
  m.ExitAndReap(child);
  EXPECT_EQ(m.DebugVm(), "");
}

TEST_F(SwapTest, MunmapAndExitGiveTheSlotsBack) {
  task_struct* t = m.Spawn("t");
  ASSERT_EQ(m.Mmap(t, kBase, 16 * PAGE_SIZE, kRW), kBase);
  ASSERT_EQ(m.Mmap(t, kBase + 0x1000000, 16 * PAGE_SIZE, kRW), kBase + 0x1000000);
  ASSERT_TRUE(FillPattern(m, t, kBase, 16));
  ASSERT_TRUE(FillPattern(m, t, kBase + 0x1000000, 16));
  SwapOut(m, t);
  const unsigned long ents = get_mm_counter(t->mm, MM_SWAPENTS);
  ASSERT_GE(ents, 32u);
  const unsigned long free0 = m.ks()->nr_swap_pages;
  // Four pages come back by read faults: their slots stay with the swap-cache copy.
  EXPECT_TRUE(Intact(m, t, kBase, 4));
  EXPECT_EQ(get_mm_counter(t->mm, MM_SWAPENTS), ents - 4);
  EXPECT_EQ(m.ks()->nr_swap_pages, free0);
  // munmap frees the 12 slots PTEs name and the 4 the swap cache holds (free_swap_cache).
  ASSERT_EQ(m.Munmap(t, kBase, 16 * PAGE_SIZE), 0);
  EXPECT_EQ(get_mm_counter(t->mm, MM_SWAPENTS), ents - 16);
  EXPECT_EQ(m.ks()->nr_swap_pages, free0 + 16);
  EXPECT_EQ(m.DebugVm(), "");
  m.ExitAndReap(t);
  EXPECT_EQ(m.ks()->nr_swap_pages, free0 + ents);
  EXPECT_EQ(m.DebugVm(), "");
}

TEST_F(SwapTest, ProcessVmReadvOfASwappedOutPageSwapsItIn) {
  task_struct* caller = m.Spawn("caller");
  task_struct* target = m.Spawn("target");
  ASSERT_EQ(m.Mmap(caller, kScratch, PAGE_SIZE, kRW, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED),
            kScratch);
  ASSERT_EQ(m.Mmap(caller, kL, 4 * PAGE_SIZE, kRW, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED), kL);
  ASSERT_EQ(m.Mmap(target, kBase, 4 * PAGE_SIZE, kRW), kBase);
  ASSERT_TRUE(FillPattern(m, target, kBase, 4, 0x11));
  ASSERT_TRUE(FillPattern(m, caller, kL, 4, 0x77));  // the buffer is resident, not zero
  SwapOut(m, target);
  ASSERT_NE(SwapEntryAt(target->mm, kBase + 2 * PAGE_SIZE).val, 0u);
  const long pswpin = m.stat(PSWPIN);
  m.RunAs(caller);
  iovec iov[2] = {{U(kL), 4 * PAGE_SIZE}, {U(kBase), 4 * PAGE_SIZE}};
  ASSERT_EQ(copy_to_user(U(kScratch), iov, sizeof(iov)), 0u);
  const long n = sys_process_vm_readv(target->pid, reinterpret_cast<const iovec __user*>(kScratch), 1,
                                      reinterpret_cast<const iovec __user*>(kScratch + sizeof(iovec)), 1, 0);
  EXPECT_EQ(n, static_cast<long>(4 * PAGE_SIZE));
  EXPECT_GE(m.stat(PSWPIN), pswpin + 4);
  EXPECT_EQ(m.ks()->vm_stat[NR_FOLL_PIN_ACQUIRED], m.ks()->vm_stat[NR_FOLL_PIN_RELEASED]);
  // The caller's buffer now holds the target's bytes (as at the target's addresses).
  std::vector<uint8_t> v(4 * PAGE_SIZE);
  m.RunAs(caller);
  ASSERT_EQ(copy_from_user(v.data(), U(kL), v.size()), 0u);
  for (unsigned long i = 0; i < v.size(); ++i)
    ASSERT_EQ(v[i], Pat(kBase + i, 0x11)) << "byte " << i;
  EXPECT_EQ(SwapEntryAt(target->mm, kBase + 2 * PAGE_SIZE).val, 0u);  // present again
  EXPECT_EQ(m.DebugVm(), "");
}

TEST_F(SwapTest, APinnedPageSurvivesReclaim) {
  task_struct* t = SpawnFilled("t", 4);
  ASSERT_NE(t, nullptr);
  page* pages[1] = {};
  int locked = 1;
  mmap_read_lock(t->mm);
  ASSERT_EQ(pin_user_pages_remote(t->mm, kBase + PAGE_SIZE, 1, FOLL_WRITE, pages, &locked), 1);
  if (locked) mmap_read_unlock(t->mm);
  const unsigned long pfn = page_to_pfn(pages[0]);
  SwapOut(m, t);
  // The others went; the pinned one is still mapped, at the same frame, not in swap.
  EXPECT_NE(SwapEntryAt(t->mm, kBase).val, 0u);
  pte_t* pte = mm_find_pte(t->mm, kBase + PAGE_SIZE);
  ASSERT_TRUE(pte && pte_present(*pte));
  EXPECT_EQ(pte_pfn(*pte), pfn);
  EXPECT_EQ(get_mm_counter(t->mm, MM_ANONPAGES), 1u);
  EXPECT_FALSE(folio_test_swapcache(pages[0]));
  // A write through the pin is seen by the process.
  std::memset(page_address(pages[0]), 0xee, 16);
  unpin_user_page(pages[0]);
  uint64_t v = 0;
  ASSERT_TRUE(m.UserLoad(t, kBase + PAGE_SIZE, &v).ok());
  EXPECT_EQ(v, 0xeeeeeeeeeeeeeeeeull);
  EXPECT_TRUE(Intact(m, t, kBase, 1));
  EXPECT_EQ(m.DebugVm(), "");
}

// What MADV_FREE leaves behind (mm/madvise.c's madvise_free_pte_range + lru_lazyfree):
// clean PTE, clean folio, not swap-backed, on the inactive file list.
void MakeLazyfree(mm_struct* mm, unsigned long va) {
  pte_t* pte = mm_find_pte(mm, va);
  ASSERT_TRUE(pte && pte_present(*pte));
  folio* f = page_folio(pte_page(*pte));
  set_pte_at(mm, va, pte, pte_mkold(pte_mkclean(*pte)));
  flush_tlb_mm(mm);
  folio_clear_dirty(f);
  lruvec_del_folio(folio_lruvec(f), f);
  folio_clear_active(f);
  folio_clear_referenced(f);
  folio_clear_swapbacked(f);
  lruvec_add_folio(folio_lruvec(f), f);
}

TEST_F(SwapTest, ACleanLazyfreePageIsDroppedARedirtiedOneStays) {
  task_struct* t = SpawnFilled("t", 2);
  ASSERT_NE(t, nullptr);
  m.RunAs(t);
  MakeLazyfree(t->mm, kBase);
  MakeLazyfree(t->mm, kBase + PAGE_SIZE);
  // The second is written again after MADV_FREE: its PTE is dirty.
  ASSERT_TRUE(m.UserStore(t, kBase + PAGE_SIZE, 0x1234).ok());
  EXPECT_EQ(m.DebugVm(), "");
  const long pswpout = m.stat(PSWPOUT);
  SwapOut(m, t);
  EXPECT_EQ(m.stat(PGLAZYFREED), 1);
  // The clean one is gone without a write: its PTE is empty and it reads as zeros.
  pte_t* pte = mm_find_pte(t->mm, kBase);
  ASSERT_NE(pte, nullptr);
  EXPECT_TRUE(pte_none(*pte));
  uint64_t v = 1;
  ASSERT_TRUE(m.UserLoad(t, kBase, &v).ok());
  EXPECT_EQ(v, 0u);
  // The redirtied one became swap-backed again and went to swap the ordinary way.
  EXPECT_GE(m.stat(PSWPOUT), pswpout + 1);
  ASSERT_TRUE(m.UserLoad(t, kBase + PAGE_SIZE, &v).ok());
  EXPECT_EQ(v, 0x1234u);
  EXPECT_EQ(m.DebugVm(), "");
}

TEST_F(SwapTest, InjectedFailuresOnTheSwapPathsLeaveTheMachineConsistent) {
  task_struct* t = SpawnFilled("t", 4);
  ASSERT_NE(t, nullptr);
  // The swap cache cannot take the folio during reclaim: it stays, activated.
  fault_spec once;
  once.times = 1;
  m.RunAs(t);
  ASSERT_EQ(fault_inject_arm("failslab", once), 0);
  const unsigned long free0 = m.ks()->nr_swap_pages;
  try_to_free_pages(0, GFP_KERNEL);
  EXPECT_EQ(m.ks()->fault_inject.attr[FAILSLAB].failures, 1u);
  EXPECT_EQ(m.DebugVm(), "");
  SwapOut(m, t);
  ASSERT_LT(m.ks()->nr_swap_pages, free0);
  ASSERT_NE(SwapEntryAt(t->mm, kBase).val, 0u);
  EXPECT_EQ(m.DebugVm(), "");
  // Swap-in: the page allocation fails, then the swap cache insertion. GUP reports the
  // failure (-ENOMEM, nothing read); the slot and PTE are as before.
  char buf[16];
  mmget(t->mm);
  for (const char* point : {"fail_page_alloc", "failslab"}) {
    m.RunAs(t);
    ASSERT_EQ(fault_inject_arm(point, once), 0);
    const swp_entry_t e = SwapEntryAt(t->mm, kBase);
    EXPECT_EQ(access_remote_vm(t->mm, kBase, buf, sizeof(buf), 0), 0) << point;
    EXPECT_EQ(SwapEntryAt(t->mm, kBase).val, e.val) << point;
    EXPECT_EQ(__swap_count(e), 1) << point;
    EXPECT_EQ(swap_cache_get_folio(e), nullptr) << point;
    EXPECT_EQ(m.DebugVm(), "") << point;
  }
  mmput(t->mm);
  EXPECT_TRUE(Intact(m, t, kBase, 4));
  EXPECT_EQ(m.DebugVm(), "");
}

}  // namespace
}  // namespace kernel
