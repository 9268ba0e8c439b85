// The LRU lists, the watermarks and the OOM killer (mm/swap.cc, mm/page_alloc.cc,
// mm/oom_kill.cc) on a booted kernel: user faults fill memory until the allocator's
// slow path calls out_of_memory.
#include <string>

#include "gtest/gtest.h"
#include "mm/fs.h"
#include "mm/mm.h"
#include "mm/mmzone.h"
#include "mm/oom.h"
#include "mm/pagewalk.h"
#include "mm/testing/kernel_fixture.h"

namespace kernel {
namespace {

using kernel_testing::BootedKernel;

constexpr unsigned long kBase = 0x10000000;
constexpr unsigned long kRW = PROT_READ | PROT_WRITE;

// Touches n pages from kBase as t, each with its own pattern. False at the first store
// that does not complete.
bool Fill(BootedKernel& m, task_struct* t, unsigned long n) {
  m.RunAs(t);
  for (unsigned long i = 0; i < n; ++i) {
    if (!m.UserStore(t, kBase + i * PAGE_SIZE, 0x1111111100000000ull + i + t->pid).ok()) return false;
  }
  return true;
}

bool Intact(BootedKernel& m, task_struct* t, unsigned long n) {
  m.RunAs(t);
  for (unsigned long i = 0; i < n; ++i) {
    uint64_t v = 0;
    if (!m.UserLoad(t, kBase + i * PAGE_SIZE, &v).ok()) return false;
    if (v != 0x1111111100000000ull + i + t->pid) return false;
  }
  return true;
}

bool LogHas(BootedKernel& m, const std::string& text) {
  for (const std::string& line : m.ks()->printk_log)
    if (line.find(text) != std::string::npos) return true;
  return false;
}

TEST(Lru, AnonFaultsJoinTheInactiveAnonListAndLeaveItWhenUnmapped) {
  BootedKernel m(16 << 20, 1);
  task_struct* t = m.Spawn("lru");
  ASSERT_EQ(m.Mmap(t, kBase, 8 * PAGE_SIZE, kRW), kBase);
  const long before = m.stat(NR_INACTIVE_ANON);
  ASSERT_TRUE(Fill(m, t, 8));
  EXPECT_EQ(m.stat(NR_INACTIVE_ANON), before + 8);
  EXPECT_EQ(m.ks()->zone_normal->__lruvec.nr_pages[LRU_INACTIVE_ANON],
            static_cast<unsigned long>(m.stat(NR_INACTIVE_ANON)));
  pte_t* pte = mm_find_pte(t->mm, kBase);
  ASSERT_NE(pte, nullptr);
  folio* f = page_folio(pte_page(*pte));
  EXPECT_TRUE(folio_test_lru(f));
  EXPECT_EQ(folio_lru_list(f), LRU_INACTIVE_ANON);
  // Two marks activate it.
  folio_mark_accessed(f);
  folio_mark_accessed(f);
  EXPECT_EQ(folio_lru_list(f), LRU_ACTIVE_ANON);
  EXPECT_EQ(m.stat(NR_ACTIVE_ANON), 1);
  EXPECT_EQ(m.stat(PGACTIVATE), 1);
  EXPECT_EQ(m.DebugVm(), "");
  ASSERT_EQ(m.Munmap(t, kBase, 8 * PAGE_SIZE), 0);
  EXPECT_EQ(m.stat(NR_INACTIVE_ANON), before);
  EXPECT_EQ(m.stat(NR_ACTIVE_ANON), 0);
  EXPECT_EQ(m.DebugVm(), "");
}

TEST(Watermarks, AreDerivedFromTheMemorySizeAsLinuxDoes) {
  BootedKernel m(64 << 20, 1);
  const zone* z = m.ks()->zone_normal;
  // 16381 managed pages: min_free_kbytes = int_sqrt(65524 * 16) = 1023 kB -> 255 pages;
  // the step is max(255 / 4, 16381 * 10 / 10000) = 63.
  EXPECT_EQ(m.ks()->min_free_kbytes, 1023);
  EXPECT_EQ(min_wmark_pages(z), 255u);
  EXPECT_EQ(low_wmark_pages(z), 255u + 63u);
  EXPECT_EQ(high_wmark_pages(z), 255u + 2 * 63u);
}

TEST(Oom, TheLargestProcessIsKilledAndReapedTheOthersUntouched) {
  BootedKernel m(4 << 20, 1);
  task_struct* big = m.Spawn("big");
  task_struct* small = m.Spawn("small");
  ASSERT_EQ(m.Mmap(big, kBase, 4 << 20, kRW), kBase);
  ASSERT_EQ(m.Mmap(small, kBase, 4 << 20, kRW), kBase);
  ASSERT_TRUE(Fill(m, big, 600));
  ASSERT_TRUE(Fill(m, small, 16));
  EXPECT_EQ(m.stat(OOM_KILL), 0);
  // small grows until the allocator finds nothing at min and nothing to reclaim.
  ASSERT_TRUE(Fill(m, small, 400));
  EXPECT_EQ(m.stat(OOM_KILL), 1);
  EXPECT_TRUE(big->fatal_signal);
  EXPECT_TRUE(tsk_is_oom_victim(big));
  EXPECT_FALSE(small->fatal_signal);
  // Reaped: its private pages are gone, and the OOM killer passes it by from now on.
  EXPECT_EQ(get_mm_counter(big->mm, MM_ANONPAGES), 0u);
  EXPECT_TRUE(test_bit(MMF_OOM_SKIP, &big->mm->flags));
  EXPECT_TRUE(Intact(m, small, 400));
  EXPECT_TRUE(LogHas(m, "<3>Out of memory: Killed process " + std::to_string(big->pid) +
                            " (big) total-vm:"));
  EXPECT_TRUE(LogHas(m, ", anon-rss:2400kB, file-rss:0kB, shmem-rss:0kB, UID:0 pgtables:"));
  EXPECT_TRUE(LogHas(m, "small invoked oom-killer"));
  EXPECT_TRUE(LogHas(m, "oom_reaper: reaped process " + std::to_string(big->pid) +
                            " (big), now anon-rss:0kB"));
  EXPECT_EQ(m.DebugVm(), "");
  m.ExitAndReap(big);
  EXPECT_EQ(m.DebugVm(), "");
}

TEST(Oom, ScoreAdjMinProtectsATask) {
  BootedKernel m(4 << 20, 1);
  task_struct* big = m.Spawn("big");
  task_struct* small = m.Spawn("small");
  task_struct* other = m.Spawn("other");
  big->signal->oom_score_adj = OOM_SCORE_ADJ_MIN;
  ASSERT_EQ(m.Mmap(big, kBase, 4 << 20, kRW), kBase);
  ASSERT_EQ(m.Mmap(small, kBase, 4 << 20, kRW), kBase);
  ASSERT_EQ(m.Mmap(other, kBase, 4 << 20, kRW), kBase);
  ASSERT_TRUE(Fill(m, big, 500));
  ASSERT_TRUE(Fill(m, other, 300));
  EXPECT_EQ(oom_badness(big, totalram_pages()), LONG_MIN);
  // small (under 200 pages) pushes the machine past its min watermark: other (300) dies.
  ASSERT_TRUE(Fill(m, small, 200));
  EXPECT_EQ(m.stat(OOM_KILL), 1);
  EXPECT_FALSE(big->fatal_signal);
  EXPECT_TRUE(other->fatal_signal);
  EXPECT_TRUE(Intact(m, big, 500));
  EXPECT_EQ(m.DebugVm(), "");
}

}  // namespace
}  // namespace kernel
