// Reclaim's aging and writeback on a booted kernel: folio_referenced reads and clears the
// accessed bits the simulated MMU sets, folio_check_references keeps a folio that was
// used through a mapping, and dirty file folios are written to their file by the
// flushers reclaim wakes, then freed. (kswapd as a thread: sim/kswapd_test.cc.)
#include <cstring>
#include <vector>

#include "gtest/gtest.h"
#include "mm/fs.h"
#include "mm/mm.h"
#include "mm/pagewalk.h"
#include "mm/testing/kernel_fixture.h"
#include "mm/vmscan.h"

namespace kernel {
namespace {

using kernel_testing::BootedKernel;

constexpr unsigned long kAnon = 0x10000000;
constexpr unsigned long kFileMap = 0x20000000;

folio* FolioAt(task_struct* t, unsigned long va) {
  pte_t* ptep = mm_find_pte(t->mm, va);
  if (ptep == nullptr || !pte_present(ptep_get(ptep))) return nullptr;
  return page_folio(pfn_to_page(pte_pfn(ptep_get(ptep))));
}

bool Young(task_struct* t, unsigned long va) { return pte_young(ptep_get(mm_find_pte(t->mm, va))); }

// A simfs file of `pages` pages, opened read-write.
file* NewFile(const char* name, int pages, u8 fill) {
  std::vector<u8> data(static_cast<size_t>(pages) * PAGE_SIZE, fill);
  inode* ino = simfs_create(name, static_cast<loff_t>(data.size()), data.data(), data.size());
  EXPECT_FALSE(IS_ERR(ino));
  return alloc_file(ino, FMODE_READ | FMODE_WRITE, &simfs_file_operations);
}

TEST(VmscanTest, FolioReferencedReadsAndClearsTheAccessedBit) {
  BootedKernel k;
  task_struct* t = k.Spawn("p");
  ASSERT_EQ(k.Mmap(t, kAnon, PAGE_SIZE, PROT_READ | PROT_WRITE), kAnon);
  ASSERT_TRUE(k.UserStore(t, kAnon, 42).ok());
  folio* f = FolioAt(t, kAnon);
  ASSERT_NE(f, nullptr);
  ASSERT_TRUE(Young(t, kAnon));  // the fault mapped it young
  vm_flags_t vm_flags = 0;
  EXPECT_EQ(folio_referenced(f, 0, &vm_flags), 1);
  EXPECT_TRUE(vm_flags & VM_WRITE);
  EXPECT_FALSE(Young(t, kAnon));
  EXPECT_EQ(folio_referenced(f, 0, &vm_flags), 0);  // nobody touched it since
  EXPECT_EQ(vm_flags, 0u);
  // The TLB entry was flushed with the bit: the next access walks the tables and the
  // MMU sets the accessed bit again.
  uint64_t v = 0;
  ASSERT_TRUE(k.UserLoad(t, kAnon, &v).ok());
  EXPECT_EQ(v, 42u);
  EXPECT_TRUE(Young(t, kAnon));
  EXPECT_EQ(folio_referenced(f, 0, &vm_flags), 1);
  EXPECT_EQ(k.DebugVm(), "");
}

TEST(VmscanTest, ReclaimTakesTheUnusedPagesAndAgesTheMappedOne) {
  BootedKernel k(16 << 20, 1);
  task_struct* t = k.Spawn("p");
  k.RunAs(t);
  file* fl = NewFile("data", 4, 0x11);
  // Read every page into the cache through a shared mapping; keep page 0 mapped.
  ASSERT_EQ(vm_mmap_pgoff(fl, kFileMap, 4 * PAGE_SIZE, PROT_READ, MAP_SHARED, 0), kFileMap);
  for (int i = 0; i < 4; ++i) {
    uint64_t v = 0;
    ASSERT_TRUE(k.UserLoad(t, kFileMap + i * PAGE_SIZE, &v).ok());
  }
  ASSERT_EQ(k.Munmap(t, kFileMap + PAGE_SIZE, 3 * PAGE_SIZE), 0);
  address_space* mapping = fl->f_mapping;
  ASSERT_EQ(mapping->i_pages.size(), 4u);
  folio* mapped = mapping->i_pages.at(0);
  ASSERT_TRUE(folio_mapped(mapped));
  k.RunAs(t);
  // The oldest page is looked at first (priority 2, one page): referenced once through
  // its PTE, it is marked PG_referenced and kept for another round (FOLIOREF_KEEP), its
  // accessed bit cleared, while the three unmapped pages go. The next look finds no new
  // reference, only the mark (FOLIOREF_RECLAIM_CLEAN): the page is unmapped
  // (try_to_unmap) and freed. All four go in one call.
  const unsigned long reclaimed = try_to_free_pages(0, GFP_KERNEL);
  EXPECT_EQ(reclaimed, 4u);
  EXPECT_EQ(mapping->i_pages.size(), 0u);
  EXPECT_EQ(k.stat(PGSCAN_KSWAPD), 0);
  EXPECT_EQ(k.stat(PGSTEAL_DIRECT), 4);
  pte_t* pte = mm_find_pte(t->mm, kFileMap);
  EXPECT_TRUE(pte == nullptr || pte_none(ptep_get(pte)));  // unmapped by reclaim
  // Used again, the page comes back from the file, its bytes intact, mapped and young.
  uint64_t v = 0;
  ASSERT_TRUE(k.UserLoad(t, kFileMap, &v).ok());
  EXPECT_EQ(v, 0x1111111111111111ULL);
  EXPECT_TRUE(Young(t, kFileMap));
  EXPECT_EQ(mapping->i_pages.size(), 1u);
  ASSERT_EQ(k.Munmap(t, kFileMap, PAGE_SIZE), 0);
  fput(fl);
  EXPECT_EQ(k.DebugVm(), "");
}

TEST(VmscanTest, DirtyFileFoliosAreWrittenBackThenFreed) {
  BootedKernel k(16 << 20, 1);
  task_struct* t = k.Spawn("p");
  k.RunAs(t);
  file* fl = NewFile("log", 2, 0x2e);
  // Dirty both pages through a shared writable mapping, then unmap them: the page cache
  // holds them dirty (the file on disk still has its dots).
  ASSERT_EQ(vm_mmap_pgoff(fl, kFileMap, 2 * PAGE_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, 0),
            kFileMap);
  ASSERT_TRUE(k.UserStore(t, kFileMap, 0x0102030405060708ULL).ok());
  ASSERT_TRUE(k.UserStore(t, kFileMap + PAGE_SIZE, 0x1112131415161718ULL).ok());
  ASSERT_EQ(k.Munmap(t, kFileMap, 2 * PAGE_SIZE), 0);
  address_space* mapping = fl->f_mapping;
  inode* ino = mapping->host;
  ASSERT_EQ(mapping->i_pages.size(), 2u);
  for (const auto& [index, f] : mapping->i_pages) ASSERT_TRUE(folio_test_dirty(f));
  ASSERT_EQ(ino->i_disk.at(0)[0], 0x2e);
  // Two pages: priority 1 takes one (2 >> 1), the older, and finds it dirty: it is marked
  // PG_reclaim and activated, and as the batch held nothing but dirty pages not queued for
  // I/O, the flushers are woken and write both pages. The marked one's writeback end
  // rotates it, clean, to the inactive tail, and priority 0 frees both.
  k.RunAs(t);
  EXPECT_EQ(try_to_free_pages(0, GFP_KERNEL), 2u);
  EXPECT_EQ(k.stat(PGACTIVATE), 1);
  EXPECT_TRUE(mapping->i_pages.empty());
  uint64_t first = 0, second = 0;
  std::memcpy(&first, ino->i_disk.at(0).data(), 8);
  std::memcpy(&second, ino->i_disk.at(1).data(), 8);
  EXPECT_EQ(first, 0x0102030405060708ULL);
  EXPECT_EQ(second, 0x1112131415161718ULL);
  EXPECT_EQ(ino->i_disk.at(1)[8], 0x2e);  // the rest of the page as it was
  fput(fl);
  EXPECT_EQ(k.DebugVm(), "");
}

}  // namespace
}  // namespace kernel
