// tests/share/sharing_test.cc: sharing memory between processes, checked on a whole
// simulated machine: fork and copy-on-write, pinned pages at fork, the unshare fault of a
// read pin, shared anonymous memory, file mappings (private, shared, past end-of-file,
// read-only files, truncation, dirty tracking and writeback), stack growth, and a
// VM_IO|VM_PFNMAP mapping ([vvar]). Each test also checks the page bookkeeping (refcounts,
// mapcounts, RSS counters, AnonExclusive) and ends every step with the whole-machine
// debug_vm check (TLBs included), as the real kernel's invariants demand.
//
// Expected behaviour is Linux 6.x's (see docs/semantics.md §3.3, rows on COW, MAP_SHARED,
// files, EOF SIGBUS, [vvar], GROWSDOWN, and section (d) on COW safety).
#include <cerrno>
#include <csignal>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "mm/arch/x86/fault.h"
#include "mm/debug_vm.h"
#include "mm/fs.h"
#include "mm/kernel/task.h"
#include "mm/mm.h"
#include "mm/pagewalk.h"
#include "sim/machine.h"

namespace {

using sim::Machine;
using sim::SysResult;
using sim::UserAccess;

constexpr uint64_t kPage = 4096;
constexpr int kR = PROT_READ;
constexpr int kRW = PROT_READ | PROT_WRITE;
constexpr int kPrivate = MAP_PRIVATE;
constexpr int kShared = MAP_SHARED;
constexpr int kAnon = MAP_ANONYMOUS;
constexpr int kFixed = MAP_FIXED;
constexpr uint64_t A = 0x200000000000;  // where the tests map memory
constexpr uint64_t B = 0x210000000000;

std::vector<uint8_t> Bytes(size_t n, uint8_t seed) {
  std::vector<uint8_t> v(n);
  for (size_t i = 0; i < n; ++i) v[i] = static_cast<uint8_t>(seed + 7 * i);
  return v;
}
std::vector<uint8_t> Str(const std::string& s) { return std::vector<uint8_t>(s.begin(), s.end()); }
// The first `n` bytes of v.
std::vector<uint8_t> Prefix(const std::vector<uint8_t>& v, size_t n) {
  return std::vector<uint8_t>(v.begin(), v.begin() + static_cast<long>(n));
}
// v with `s` written over it at `off`.
std::vector<uint8_t> Overwrite(std::vector<uint8_t> v, size_t off, const std::string& s) {
  std::copy(s.begin(), s.end(), v.begin() + static_cast<long>(off));
  return v;
}

class SharingTest : public ::testing::Test {
 protected:
  void SetUp() override {
    sim::MachineConfig config;
    config.memory_bytes = uint64_t{64} << 20;
    auto m = Machine::Create(config);
    ASSERT_TRUE(m.ok()) << m.status();
    m_ = std::move(*m);
    free_at_boot_ = FreePages();
    auto p = m_->CreateProcess("parent", sim::ProcessCreds{});
    ASSERT_TRUE(p.ok()) << p.status();
    parent_ = *p;
    Check("boot");
  }

  Machine& m() { return *m_; }
  long FreePages() { return m_->vmstat(kernel::NR_FREE_PAGES); }
  long Stat(kernel::vm_stat_item i) { return m_->vmstat(i); }
  size_t Inodes() {
    return m_->Inspect([](const kernel::kernel_state& ks) { return ks.inodes.size(); });
  }
  bool IsZeroPfn(unsigned long pfn) {
    return m_->Inspect([&](const kernel::kernel_state&) { return kernel::is_zero_pfn(pfn); });
  }

  // The whole-machine check; `pins` maps pfn -> pins expected on it.
  void Check(const std::string& step, const std::map<unsigned long, int>* pins = nullptr) {
    std::string report;
    kernel::debug_vm_options opts;
    opts.expected_pins = pins;
    opts.expect_no_pins = pins == nullptr;
    const int n = m_->DebugVmCheck(&report, opts);
    EXPECT_EQ(n, 0) << "debug_vm after " << step << ":\n" << report;
  }

  int Fork(int pid) {
    const SysResult r = m().Fork(pid);
    EXPECT_GT(r.ret, 0) << "fork: errno " << r.err;
    Check(absl::StrCat("fork of ", pid));
    return static_cast<int>(r.ret);
  }
  void ExitAndReap(int pid) {
    EXPECT_EQ(m().Exit(pid).ret, 0);
    EXPECT_EQ(m().Reap(0, pid).ret, pid);
    Check(absl::StrCat("exit and reap of ", pid));
  }
  uint64_t Map(int pid, uint64_t addr, uint64_t len, int prot, int flags, int fd = -1,
               uint64_t off = 0) {
    const SysResult r = m().Mmap(pid, addr, len, prot, flags | kFixed, fd, off);
    EXPECT_EQ(static_cast<uint64_t>(r.ret), addr) << "mmap errno " << r.err;
    Check("mmap");
    return addr;
  }
  void Store(int pid, uint64_t addr, const std::vector<uint8_t>& bytes) {
    const UserAccess a = m().Store(pid, addr, bytes);
    EXPECT_TRUE(a.ok) << "store at " << std::hex << addr << ": signal " << std::dec << a.signal;
    Check("store");
  }
  std::vector<uint8_t> Load(int pid, uint64_t addr, uint64_t len) {
    const UserAccess a = m().Load(pid, addr, len);
    EXPECT_TRUE(a.ok) << "load at " << std::hex << addr << ": signal " << std::dec << a.signal;
    Check("load");
    return a.bytes;
  }
  int SignalOfLoad(int pid, uint64_t addr) {
    const UserAccess a = m().Load(pid, addr, 1);
    Check("faulting load");
    return a.ok ? 0 : a.signal;
  }
  int SignalOfStore(int pid, uint64_t addr) {
    const UserAccess a = m().Store(pid, addr, {0x5a});
    Check("faulting store");
    return a.ok ? 0 : a.signal;
  }

  // Software walk of pid's page tables.
  std::optional<kernel::pte_t> Pte(int pid, uint64_t addr) {
    kernel::task_struct* t = m().FindTask(pid);
    if (t == nullptr || t->mm == nullptr) return std::nullopt;
    return m().Inspect([&](const kernel::kernel_state&) -> std::optional<kernel::pte_t> {
      kernel::pte_t* pte = kernel::mm_find_pte(t->mm, addr);
      if (pte == nullptr || kernel::pte_none(*pte)) return std::nullopt;
      return *pte;
    });
  }
  kernel::page* PageAt(int pid, uint64_t addr) {
    std::optional<kernel::pte_t> pte = Pte(pid, addr);
    if (!pte) return nullptr;
    return m().Inspect([&](const kernel::kernel_state&) { return kernel::pte_page(*pte); });
  }
  unsigned long PfnAt(int pid, uint64_t addr) {
    std::optional<kernel::pte_t> pte = Pte(pid, addr);
    return pte ? kernel::pte_pfn(*pte) : 0;
  }
  long Rss(int pid, int counter) {
    kernel::task_struct* t = m().FindTask(pid);
    return t == nullptr || t->mm == nullptr
               ? -1
               : static_cast<long>(kernel::get_mm_counter(t->mm, counter));
  }
  kernel::vm_area_struct* Vma(int pid, uint64_t addr) {
    kernel::task_struct* t = m().FindTask(pid);
    return m().Inspect(
        [&](const kernel::kernel_state&) { return kernel::vma_lookup(t->mm, addr); });
  }
  int File(const std::string& name, uint64_t size, const std::vector<uint8_t>& data,
           bool readonly = false) {
    auto fd = m().CreateFile(name, size, data, readonly);
    EXPECT_TRUE(fd.ok()) << fd.status();
    return fd.ok() ? *fd : -1;
  }
  std::vector<uint8_t> FileBytes(int fd) {
    auto b = m().ReadFile(fd);
    EXPECT_TRUE(b.ok()) << b.status();
    return b.ok() ? *b : std::vector<uint8_t>();
  }
  kernel::address_space* Mapping(int fd) { return m().FileOf(fd)->f_mapping; }

  std::unique_ptr<Machine> m_;
  long free_at_boot_ = 0;
  int parent_ = -1;
};

// ---- fork and copy-on-write ----

// After fork both processes map the parent's anonymous page read-only: one page, two
// mappings, no longer exclusive. A write in the child copies; the parent keeps its page,
// which is then its own again and is reused in place on its next write.
TEST_F(SharingTest, ForkSharesAnonPagesCopyOnWrite) {
  Map(parent_, A, 2 * kPage, kRW, kPrivate | kAnon);
  Store(parent_, A, Bytes(2 * kPage, 1));
  const unsigned long pfn0 = PfnAt(parent_, A), pfn1 = PfnAt(parent_, A + kPage);
  EXPECT_TRUE(kernel::pte_write(*Pte(parent_, A)));
  const int child = Fork(parent_);

  for (uint64_t a : {A, A + kPage}) {
    SCOPED_TRACE(a);
    kernel::page* p = PageAt(parent_, a);
    EXPECT_EQ(p, PageAt(child, a)) << "the child maps the parent's page";
    EXPECT_EQ(kernel::page_mapcount(p), 2);
    EXPECT_EQ(kernel::page_ref_count(p), 2);
    EXPECT_FALSE(kernel::PageAnonExclusive(p));
    EXPECT_FALSE(kernel::pte_write(*Pte(parent_, a))) << "the parent's PTE is write-protected";
    EXPECT_FALSE(kernel::pte_write(*Pte(child, a)));
    EXPECT_FALSE(kernel::pte_young(*Pte(child, a))) << "the child's copy of the PTE is old";
  }
  EXPECT_EQ(Rss(child, kernel::MM_ANONPAGES), 2);
  EXPECT_EQ(Rss(parent_, kernel::MM_ANONPAGES), 2);
  EXPECT_EQ(Stat(kernel::NR_ANON_MAPPED), 2);

  // The child writes page 0: it gets a copy, the parent is unchanged.
  Store(child, A + 10, Str("child"));
  EXPECT_NE(PfnAt(child, A), pfn0);
  EXPECT_EQ(PfnAt(parent_, A), pfn0);
  EXPECT_EQ(Load(parent_, A, kPage), Prefix(Bytes(2 * kPage, 1), kPage));
  EXPECT_EQ(Load(child, A, kPage), Overwrite(Bytes(kPage, 1), 10, "child"));
  kernel::page* p0 = PageAt(parent_, A);
  EXPECT_EQ(kernel::page_mapcount(p0), 1);
  EXPECT_EQ(kernel::page_ref_count(p0), 1);
  EXPECT_TRUE(kernel::PageAnonExclusive(PageAt(child, A)));
  EXPECT_TRUE(kernel::pte_write(*Pte(child, A)) && kernel::pte_dirty(*Pte(child, A)));

  // The parent writes page 0: its page is its own now, reused in place (no copy).
  const long allocs = Stat(kernel::PGALLOC_NORMAL);
  Store(parent_, A, Str("parent"));
  EXPECT_EQ(PfnAt(parent_, A), pfn0);
  EXPECT_EQ(Stat(kernel::PGALLOC_NORMAL), allocs);
  EXPECT_TRUE(kernel::PageAnonExclusive(p0));

  // Page 1, parent first: the parent copies, the child keeps the original.
  Store(parent_, A + kPage, Str("P"));
  EXPECT_NE(PfnAt(parent_, A + kPage), pfn1);
  EXPECT_EQ(PfnAt(child, A + kPage), pfn1);
  EXPECT_EQ(Load(child, A + kPage, 1)[0], Bytes(2 * kPage, 1)[kPage]);
  EXPECT_EQ(Load(parent_, A + kPage, 1)[0], 'P');
  EXPECT_EQ(Rss(child, kernel::MM_ANONPAGES), 2);
  EXPECT_EQ(Rss(parent_, kernel::MM_ANONPAGES), 2);
}

// A child's exit (and an munmap) drop their mappings: the parent's pages are exclusive
// again in effect (refcount 1), and its write reuses them without copying. Every page
// the child had comes back.
TEST_F(SharingTest, RefcountsThroughForkUnmapAndExit) {
  Map(parent_, A, 4 * kPage, kRW, kPrivate | kAnon);
  Store(parent_, A, Bytes(4 * kPage, 9));
  const long free_before_fork = FreePages();
  const int child = Fork(parent_);
  kernel::page* p = PageAt(parent_, A);
  EXPECT_EQ(kernel::page_ref_count(p), 2);
  // The child unmaps page 3: that page is the parent's alone again.
  EXPECT_EQ(m().Munmap(child, A + 3 * kPage, kPage).ret, 0);
  Check("munmap in the child");
  EXPECT_EQ(kernel::page_mapcount(PageAt(parent_, A + 3 * kPage)), 1);
  EXPECT_EQ(kernel::page_ref_count(PageAt(parent_, A + 3 * kPage)), 1);
  // The child writes page 1 (a copy), then exits.
  Store(child, A + kPage, Str("x"));
  ExitAndReap(child);
  EXPECT_EQ(FreePages(), free_before_fork) << "every page of the child came back";
  for (uint64_t i = 0; i < 4; ++i) {
    kernel::page* q = PageAt(parent_, A + i * kPage);
    EXPECT_EQ(kernel::page_mapcount(q), 1);
    EXPECT_EQ(kernel::page_ref_count(q), 1);
  }
  // Writes reuse the pages in place: no allocation.
  const long allocs = Stat(kernel::PGALLOC_NORMAL);
  Store(parent_, A, Bytes(4 * kPage, 3));
  EXPECT_EQ(Stat(kernel::PGALLOC_NORMAL), allocs);
  EXPECT_EQ(PageAt(parent_, A), p);
}

// A fork of a fork: three processes share one page; each write makes one copy.
TEST_F(SharingTest, GrandchildSharesTooAndEachWriteCopiesOnce) {
  Map(parent_, A, kPage, kRW, kPrivate | kAnon);
  Store(parent_, A, Str("gen0"));
  const int child = Fork(parent_);
  const int grandchild = Fork(child);
  kernel::page* p = PageAt(parent_, A);
  EXPECT_EQ(kernel::page_mapcount(p), 3);
  EXPECT_EQ(PageAt(grandchild, A), p);
  Store(grandchild, A, Str("gen2"));
  Store(child, A, Str("gen1"));
  EXPECT_EQ(kernel::page_mapcount(p), 1);
  EXPECT_EQ(Load(parent_, A, 4), Str("gen0"));
  EXPECT_EQ(Load(child, A, 4), Str("gen1"));
  EXPECT_EQ(Load(grandchild, A, 4), Str("gen2"));
  EXPECT_EQ(m().FindTask(grandchild)->real_parent->pid, child);
}

// Page tables are copied only where a fault could not rebuild them (vma_needs_copy): a
// VMA that was only read (zero-page PTEs, no anon_vma) is not copied; once it has
// anonymous pages, its zero-page PTEs are copied as they are.
TEST_F(SharingTest, ZeroPageMappingsAtFork) {
  Map(parent_, A, 2 * kPage, kRW, kPrivate | kAnon);
  EXPECT_EQ(Load(parent_, A, 8), std::vector<uint8_t>(8, 0));
  const int child = Fork(parent_);
  EXPECT_FALSE(Pte(child, A).has_value()) << "no anon_vma: nothing copied";
  EXPECT_EQ(Load(child, A, 8), std::vector<uint8_t>(8, 0));
  Store(parent_, A + kPage, Str("anon"));  // now the VMA has an anon_vma
  const int child2 = Fork(parent_);
  EXPECT_TRUE(IsZeroPfn(PfnAt(child2, A)));
  Store(child2, A, Str("z"));
  EXPECT_FALSE(IsZeroPfn(PfnAt(child2, A)));
  EXPECT_TRUE(IsZeroPfn(PfnAt(parent_, A)));
}

// A page that may be pinned for DMA (FOLL_PIN) is not shared at fork: the child gets a
// copy at once, and the parent's mapping stays writable and exclusive, so the pin keeps
// matching what the parent sees.
TEST_F(SharingTest, ForkCopiesAPinnedPage) {
  Map(parent_, A, 2 * kPage, kRW, kPrivate | kAnon);
  Store(parent_, A, Bytes(2 * kPage, 5));
  kernel::page* pinned = nullptr;
  ASSERT_TRUE(m().RunInKernel(parent_, [&] {
                   kernel::mm_struct* mm = kernel::current()->mm;
                   kernel::mmap_read_lock(mm);
                   int locked = 1;
                   EXPECT_EQ(kernel::pin_user_pages_remote(mm, A, 1, kernel::FOLL_WRITE, &pinned,
                                                           &locked),
                             1);
                   if (locked) kernel::mmap_read_unlock(mm);
                 })
                  .ok());
  ASSERT_NE(pinned, nullptr);
  const std::map<unsigned long, int> pins = {{PfnAt(parent_, A), 1}};
  Check("pin", &pins);
  const SysResult r = m().Fork(parent_);
  ASSERT_GT(r.ret, 0);
  const int child = static_cast<int>(r.ret);
  Check("fork with a pinned page", &pins);
  // Page 0 (pinned): copied for the child; page 1 (not pinned): shared.
  EXPECT_EQ(PageAt(parent_, A), pinned);
  EXPECT_NE(PageAt(child, A), pinned);
  EXPECT_EQ(kernel::page_mapcount(pinned), 1);
  EXPECT_TRUE(kernel::PageAnonExclusive(pinned));
  EXPECT_TRUE(kernel::pte_write(*Pte(parent_, A)));
  EXPECT_TRUE(kernel::pte_write(*Pte(child, A))) << "the child's copy is its own";
  EXPECT_EQ(PageAt(parent_, A + kPage), PageAt(child, A + kPage));
  EXPECT_EQ(m().Load(child, A, kPage).bytes, Prefix(Bytes(2 * kPage, 5), kPage));
  Check("the child reads its copy", &pins);
  // A "DMA" write through the pin lands in the parent's memory only.
  uint8_t* dma = m().Inspect([&](const kernel::kernel_state&) {
    return static_cast<uint8_t*>(kernel::page_address(pinned));
  });
  dma[0] = 0xdd;
  EXPECT_EQ(m().PeekUser(parent_, A, 1)->at(0), 0xdd);
  EXPECT_NE(m().PeekUser(child, A, 1)->at(0), 0xdd);
  ASSERT_TRUE(m().RunInKernel(parent_, [&] { kernel::unpin_user_page(pinned); }).ok());
  Check("unpin");
}

// A read pin (process_vm_readv) of a COW-shared anonymous page first "unshares" it: the
// target gets a private, clean, read-only copy (FAULT_FLAG_UNSHARE), the other process's
// page is untouched, and the pinned page can no longer be separated from the target by a
// later COW.
TEST_F(SharingTest, ReadPinOfACowSharedPageUnsharesIt) {
  Map(parent_, A, kPage, kRW, kPrivate | kAnon);
  Store(parent_, A, Str("shared before the pin"));
  const int child = Fork(parent_);
  auto reader = m().CreateProcess("reader", sim::ProcessCreds{});
  ASSERT_TRUE(reader.ok());
  Map(*reader, B, kPage, kRW, kPrivate | kAnon);
  kernel::page* orig = PageAt(parent_, A);
  ASSERT_EQ(PageAt(child, A), orig);

  const SysResult r = m().ProcessVmReadv(*reader, child, {{B, 21}}, {{A, 21}});
  EXPECT_EQ(r.ret, 21);
  Check("process_vm_readv of the child");
  EXPECT_EQ(Load(*reader, B, 21), Str("shared before the pin"));
  kernel::page* copy = PageAt(child, A);
  EXPECT_NE(copy, orig) << "the child got its own copy";
  EXPECT_EQ(PageAt(parent_, A), orig) << "the parent's page is untouched";
  const kernel::pte_t pte = *Pte(child, A);
  EXPECT_FALSE(kernel::pte_write(pte)) << "read-only";
  EXPECT_FALSE(kernel::pte_dirty(pte)) << "clean";
  EXPECT_TRUE(kernel::PageAnonExclusive(copy));
  EXPECT_EQ(kernel::page_mapcount(orig), 1);
  EXPECT_EQ(kernel::page_ref_count(orig), 1);
  // The child's next write reuses its copy (it is exclusive): no further copy.
  Store(child, A, Str("C"));
  EXPECT_EQ(PageAt(child, A), copy);
  // With only one user left, a read pin needs no copy: the page is reused.
  Store(parent_, A, Str("P"));  // the parent's page is exclusive in effect; reused
  EXPECT_EQ(PageAt(parent_, A), orig);
}

// A write through process_vm_writev into a COW-shared page changes only the target's
// copy (docs/semantics.md §3.3 X13 and §7.3: "write to a COW-shared anon page").
TEST_F(SharingTest, ProcessVmWritevToACowSharedPageChangesOnlyTheTarget) {
  Map(parent_, A, 2 * kPage, kRW, kPrivate | kAnon);
  Store(parent_, A, Bytes(2 * kPage, 2));
  const int child = Fork(parent_);
  auto writer = m().CreateProcess("writer", sim::ProcessCreds{});
  ASSERT_TRUE(writer.ok());
  Map(*writer, B, kPage, kRW, kPrivate | kAnon);
  Store(*writer, B, Str("written"));
  EXPECT_EQ(m().ProcessVmWritev(*writer, child, {{B, 7}}, {{A + kPage - 3, 7}}).ret, 7);
  Check("process_vm_writev");
  EXPECT_EQ(Load(parent_, A, 2 * kPage), Bytes(2 * kPage, 2));
  EXPECT_EQ(Load(child, A, 2 * kPage), Overwrite(Bytes(2 * kPage, 2), kPage - 3, "written"));
  EXPECT_NE(PageAt(child, A), PageAt(parent_, A));
  EXPECT_NE(PageAt(child, A + kPage), PageAt(parent_, A + kPage));
}

// ---- shared anonymous memory ----

// MAP_SHARED|MAP_ANONYMOUS is one shmem object: both sides of a fork see every write of
// the other, pages count as MM_SHMEMPAGES, and they go when the last mapping goes.
TEST_F(SharingTest, SharedAnonymousMemoryIsSharedAcrossFork) {
  const long free_before = FreePages();
  Map(parent_, A, 3 * kPage, kRW, kShared | kAnon);
  Store(parent_, A, Str("from the parent"));
  EXPECT_EQ(Rss(parent_, kernel::MM_SHMEMPAGES), 1);
  EXPECT_EQ(Rss(parent_, kernel::MM_ANONPAGES), 0);
  kernel::vm_area_struct* vma = Vma(parent_, A);
  ASSERT_NE(vma->vm_file, nullptr);
  EXPECT_TRUE(kernel::vma_is_anon_shmem(vma));
  const int child = Fork(parent_);
  // Shared mappings are not copied at fork: the child faults the page in from the object.
  EXPECT_FALSE(Pte(child, A).has_value());
  EXPECT_EQ(Load(child, A, 15), Str("from the parent"));
  EXPECT_EQ(PageAt(child, A), PageAt(parent_, A));
  Store(child, A + 2 * kPage, Str("from the child"));
  EXPECT_EQ(Load(parent_, A + 2 * kPage, 14), Str("from the child"));
  EXPECT_EQ(Rss(child, kernel::MM_SHMEMPAGES), 2);
  EXPECT_EQ(Rss(parent_, kernel::MM_SHMEMPAGES), 2);
  kernel::page* p = PageAt(parent_, A);
  EXPECT_TRUE(kernel::PageSwapBacked(p));
  EXPECT_FALSE(kernel::PageAnon(p));
  EXPECT_EQ(kernel::page_mapcount(p), 2);
  EXPECT_EQ(kernel::page_ref_count(p), 3) << "two mappings and the page cache";
  EXPECT_TRUE(kernel::pte_write(*Pte(parent_, A))) << "shmem is not write-notified";
  // Writes into a shared mapping are visible to a process_vm_readv of either side.
  auto reader = m().CreateProcess("reader", sim::ProcessCreds{});
  ASSERT_TRUE(reader.ok());
  Map(*reader, B, kPage, kRW, kPrivate | kAnon);
  EXPECT_EQ(m().ProcessVmWritev(*reader, parent_, {{B, 4}}, {{A + 2 * kPage, 4}}).ret, 4);
  EXPECT_EQ(Load(child, A + 2 * kPage, 4), std::vector<uint8_t>(4, 0));
  ExitAndReap(child);
  EXPECT_EQ(kernel::page_mapcount(p), 1);
  EXPECT_EQ(m().Munmap(parent_, A, 3 * kPage).ret, 0);
  Check("munmap of the last shared mapping");
  EXPECT_EQ(Inodes(), 0u) << "the shmem object went with its last mapping";
  ExitAndReap(*reader);
  EXPECT_EQ(FreePages(), free_before) << "every page of the object came back";
}

// ---- files ----

// MAP_SHARED writes change the file (and every other mapping of it); MAP_PRIVATE writes
// make an anonymous copy and leave the file alone. Until the copy, a private mapping sees
// changes to the file.
TEST_F(SharingTest, FileMappingsSharedAndPrivate) {
  const int fd = File("data", 3 * kPage, Bytes(3 * kPage, 4));
  Map(parent_, A, 3 * kPage, kRW, kShared, fd);
  Map(parent_, B, 3 * kPage, kRW, kPrivate, fd);
  EXPECT_EQ(Load(parent_, A, 3 * kPage), Bytes(3 * kPage, 4));
  EXPECT_EQ(Load(parent_, B, 3 * kPage), Bytes(3 * kPage, 4));
  // Read faults map the page cache pages in both (each read counted as a major fault
  // only the first time).
  EXPECT_EQ(PageAt(parent_, A), PageAt(parent_, B));
  EXPECT_EQ(Mapping(fd)->nrpages, 3u);
  EXPECT_EQ(Rss(parent_, kernel::MM_FILEPAGES), 6);
  EXPECT_EQ(Stat(kernel::PGMAJFAULT), 3);

  Store(parent_, A + 5, Str("SHARED"));
  const std::vector<uint8_t> want = Overwrite(Bytes(3 * kPage, 4), 5, "SHARED");
  EXPECT_EQ(FileBytes(fd), want) << "a shared write changes the file";
  EXPECT_EQ(Load(parent_, B + 5, 6), Str("SHARED")) << "the private mapping has no copy yet";

  Store(parent_, B + kPage, Str("private"));
  EXPECT_EQ(FileBytes(fd), want) << "a private write does not";
  kernel::page* copy = PageAt(parent_, B + kPage);
  EXPECT_TRUE(kernel::PageAnon(copy));
  EXPECT_EQ(Rss(parent_, kernel::MM_ANONPAGES), 1);
  EXPECT_EQ(Rss(parent_, kernel::MM_FILEPAGES), 5);
  // pwrite(2) reaches the shared mapping and the private one where it has no copy.
  EXPECT_EQ(m().WriteFile(fd, kPage, Str("pwrite")).ret, 6);
  Check("pwrite");
  EXPECT_EQ(Load(parent_, A + kPage, 6), Str("pwrite"));
  EXPECT_EQ(Load(parent_, B + kPage, 7), Str("private"));
  EXPECT_EQ(m().WriteFile(fd, 2 * kPage, Str("again")).ret, 5);
  EXPECT_EQ(Load(parent_, B + 2 * kPage, 5), Str("again"));
  // A write fault on a file page nobody has read yet: do_cow_fault copies at once.
  const int fd2 = File("cold", kPage, Str("cold file"));
  Map(parent_, A + 0x100000, kPage, kRW, kPrivate, fd2);
  Store(parent_, A + 0x100000, Str("C"));
  EXPECT_EQ(Load(parent_, A + 0x100000, 9), Str("Cold file"));
  std::vector<uint8_t> cold = Str("cold file");
  cold.resize(kPage, 0);
  EXPECT_EQ(FileBytes(fd2), cold);
  EXPECT_EQ(Mapping(fd2)->nrpages, 1u) << "the cache keeps the file's page";
}

// Fork with file mappings: shared ones are faulted in again by the child, private ones
// with COW copies are copied as anonymous pages are.
TEST_F(SharingTest, ForkWithFileMappings) {
  const int fd = File("f", 2 * kPage, Str("file contents"));
  Map(parent_, A, 2 * kPage, kRW, kShared, fd);
  Map(parent_, B, 2 * kPage, kRW, kPrivate, fd);
  Store(parent_, B, Str("COW"));  // an anonymous copy in the private mapping
  EXPECT_EQ(Load(parent_, B + kPage, 1), std::vector<uint8_t>(1, 0));  // a file page
  Store(parent_, A + kPage, Str("shared"));
  const int child = Fork(parent_);
  EXPECT_FALSE(Pte(child, A).has_value()) << "shared file mappings are not copied";
  EXPECT_EQ(PageAt(child, B), PageAt(parent_, B)) << "the COW page is shared, read-only";
  EXPECT_FALSE(kernel::pte_write(*Pte(parent_, B)));
  EXPECT_EQ(PageAt(child, B + kPage), PageAt(parent_, B + kPage));
  EXPECT_EQ(Load(child, A + kPage, 6), Str("shared"));
  Store(child, A, Str("CHILD"));
  EXPECT_EQ(Load(parent_, A, 5), Str("CHILD"));
  Store(child, B, Str("cow"));
  EXPECT_EQ(Load(parent_, B, 3), Str("COW"));
  EXPECT_EQ(Prefix(FileBytes(fd), 13), Str("CHILDcontents"));
}

// A page wholly past end-of-file raises SIGBUS; the tail of the last page reads as zeros
// and may be written (that never reaches the file); GUP turns SIGBUS into EFAULT or a
// short count.
TEST_F(SharingTest, PastEndOfFileIsSigbus) {
  const int fd = File("short", kPage + 100, Bytes(kPage + 100, 6));
  Map(parent_, A, 4 * kPage, kRW, kShared, fd);
  Map(parent_, B, 4 * kPage, kRW, kPrivate, fd);
  EXPECT_EQ(Load(parent_, A + kPage + 100, 50), std::vector<uint8_t>(50, 0));
  for (uint64_t base : {A, B}) {
    SCOPED_TRACE(base == A ? "shared" : "private");
    EXPECT_EQ(SignalOfLoad(parent_, base + 2 * kPage), SIGBUS);
    EXPECT_EQ(SignalOfStore(parent_, base + 3 * kPage + 5), SIGBUS);
    EXPECT_EQ(m().FindTask(parent_)->last_signal_addr, base + 3 * kPage + 5);
  }
  Store(parent_, A + kPage + 200, Str("beyond EOF"));
  EXPECT_EQ(FileBytes(fd).size(), kPage + 100);
  EXPECT_EQ(m().SyncFile(fd).ret, 0);
  Check("fsync");
  EXPECT_EQ(Load(parent_, A + kPage + 200, 10), std::vector<uint8_t>(10, 0))
      << "writeback zeroes what lies past end-of-file";
  auto reader = m().CreateProcess("reader", sim::ProcessCreds{});
  ASSERT_TRUE(reader.ok());
  Map(*reader, 0x300000000000, 4 * kPage, kRW, kPrivate | kAnon);
  EXPECT_EQ(m().ProcessVmReadv(*reader, parent_, {{0x300000000000, 3 * kPage}},
                               {{A + 10, 3 * kPage}})
                .ret,
            static_cast<long>(2 * kPage - 10))
      << "partial: up to the page past EOF";
  Check("readv past EOF");
  const SysResult r =
      m().ProcessVmReadv(*reader, parent_, {{0x300000000000, 10}}, {{A + 2 * kPage, 10}});
  EXPECT_EQ(r.ret, -1);
  EXPECT_EQ(r.err, EFAULT);
}

// A read-only open refuses MAP_SHARED with PROT_WRITE (EACCES) and mprotect to writable
// later; MAP_PRIVATE writable is fine (writes stay private). A write through GUP into a
// read-only file mapping is EFAULT (no FOLL_FORCE).
TEST_F(SharingTest, ReadOnlyFiles) {
  const int fd = File("ro", 2 * kPage, Str("read only"), /*readonly=*/true);
  const SysResult bad = m().Mmap(parent_, A, kPage, kRW, kShared | kFixed, fd);
  EXPECT_EQ(bad.ret, -1);
  EXPECT_EQ(bad.err, EACCES);
  Map(parent_, A, 2 * kPage, kR, kShared, fd);
  const SysResult mp = m().Mprotect(parent_, A, kPage, kRW);
  EXPECT_EQ(mp.err, EACCES);
  Map(parent_, B, 2 * kPage, kRW, kPrivate, fd);
  Store(parent_, B, Str("READ"));
  EXPECT_EQ(Load(parent_, A, 9), Str("read only"));
  EXPECT_EQ(m().Truncate(fd, 0).err, EINVAL) << "not open for writing";
  auto writer = m().CreateProcess("writer", sim::ProcessCreds{});
  ASSERT_TRUE(writer.ok());
  Map(*writer, 0x300000000000, kPage, kRW, kPrivate | kAnon);
  const SysResult w =
      m().ProcessVmWritev(*writer, parent_, {{0x300000000000, 4}}, {{A, 4}});
  EXPECT_EQ(w.err, EFAULT);
  Check("writev to a read-only shared file mapping");
  EXPECT_EQ(Load(parent_, A, 9), Str("read only"));
  // Writes through GUP into the writable mappings: the shared one of a writable file
  // updates the file, the private one does not.
  const int fd2 = File("rw", kPage, Str("0123456789"));
  Map(parent_, A + 0x100000, kPage, kRW, kShared, fd2);
  Map(parent_, B + 0x100000, kPage, kRW, kPrivate, fd2);
  Store(*writer, 0x300000000000, Str("abcd"));
  EXPECT_EQ(m().ProcessVmWritev(*writer, parent_, {{0x300000000000, 4}}, {{A + 0x100000, 4}}).ret,
            4);
  EXPECT_EQ(m().ProcessVmWritev(*writer, parent_, {{0x300000000000, 2}}, {{B + 0x100005, 2}}).ret,
            2);
  Check("writev to file mappings");
  std::vector<uint8_t> want = Str("abcd456789");
  want.resize(kPage, 0);
  EXPECT_EQ(FileBytes(fd2), want);
  EXPECT_EQ(Load(parent_, B + 0x100000, 10), Str("abcd4ab789"));
}

// ftruncate: pages past the new end leave every mapping, the COW copies of a private
// mapping included, and the page cache; access there is SIGBUS; the straddling page is
// zeroed past the new end. Growing the file again shows zeros.
TEST_F(SharingTest, TruncateUnmapsAndDropsPagesPastTheEnd) {
  const int fd = File("t", 4 * kPage, Bytes(4 * kPage, 8));
  Map(parent_, A, 4 * kPage, kRW, kShared, fd);
  Map(parent_, B, 4 * kPage, kRW, kPrivate, fd);
  EXPECT_EQ(Load(parent_, A, 4 * kPage).size(), 4 * kPage);
  Store(parent_, B + 3 * kPage, Str("cow copy"));
  EXPECT_EQ(Load(parent_, B + 2 * kPage, 1).size(), 1u);
  const int child = Fork(parent_);
  EXPECT_EQ(Load(child, A + 3 * kPage, 1).size(), 1u);
  EXPECT_EQ(Mapping(fd)->nrpages, 4u);

  EXPECT_EQ(m().Truncate(fd, kPage + 0x800).ret, 0);
  Check("truncate");
  EXPECT_EQ(Mapping(fd)->nrpages, 2u);
  EXPECT_EQ(FileBytes(fd).size(), kPage + 0x800);
  for (int pid : {parent_, child}) {
    for (uint64_t base : {A, B}) {
      SCOPED_TRACE(absl::StrCat(pid, base == A ? " shared" : " private"));
      EXPECT_FALSE(Pte(pid, base + 3 * kPage).has_value());
      EXPECT_FALSE(Pte(pid, base + 2 * kPage).has_value());
      EXPECT_EQ(SignalOfLoad(pid, base + 2 * kPage), SIGBUS);
      EXPECT_EQ(SignalOfLoad(pid, base + 3 * kPage), SIGBUS) << "the COW copy is gone too";
    }
  }
  EXPECT_EQ(Load(parent_, A + kPage + 0x7ff, 2), std::vector<uint8_t>({Bytes(4 * kPage, 8)[kPage + 0x7ff], 0}));
  EXPECT_EQ(Rss(parent_, kernel::MM_ANONPAGES), 0);
  // Grow again: the new bytes are zeros.
  EXPECT_EQ(m().Truncate(fd, 3 * kPage).ret, 0);
  Check("grow");
  EXPECT_EQ(Load(parent_, A + 2 * kPage, 16), std::vector<uint8_t>(16, 0));
  EXPECT_EQ(Load(child, B + kPage + 0x800, 16), std::vector<uint8_t>(16, 0));
  EXPECT_EQ(m().Truncate(99, 0).err, EBADF);
}

// Dirty and accessed tracking: a shared simfs mapping is write-notified (read-only PTEs
// until the first write), a write dirties the page; fsync writes it back and cleans and
// write-protects the PTEs, so the next write faults and dirties it again. A zapped young
// PTE leaves PG_referenced on the page.
TEST_F(SharingTest, DirtyAndAccessedTracking) {
  const int fd = File("d", kPage, Str("disk"));
  Map(parent_, A, kPage, kRW, kShared, fd);
  EXPECT_EQ(Load(parent_, A, 4), Str("disk"));
  kernel::page* p = PageAt(parent_, A);
  EXPECT_FALSE(kernel::pte_write(*Pte(parent_, A))) << "writenotify: read-only until written";
  EXPECT_FALSE(kernel::PageDirty(p));
  Store(parent_, A, Str("DISK"));
  EXPECT_TRUE(kernel::pte_write(*Pte(parent_, A)));
  EXPECT_TRUE(kernel::pte_dirty(*Pte(parent_, A)));
  EXPECT_TRUE(kernel::PageDirty(p));
  EXPECT_EQ(m().SyncFile(fd).ret, 0);
  Check("fsync");
  EXPECT_FALSE(kernel::PageDirty(p));
  EXPECT_FALSE(kernel::pte_write(*Pte(parent_, A)));
  EXPECT_FALSE(kernel::pte_dirty(*Pte(parent_, A)));
  EXPECT_EQ(std::vector<uint8_t>(m().FileOf(fd)->f_inode->i_disk.at(0).begin(),
                                 m().FileOf(fd)->f_inode->i_disk.at(0).begin() + 4),
            Str("DISK"))
      << "written back to the disk";
  Store(parent_, A + 1, Str("i"));
  EXPECT_TRUE(kernel::PageDirty(p));
  EXPECT_EQ(PageAt(parent_, A), p) << "the same page cache page, now writable again";
  EXPECT_EQ(m().Munmap(parent_, A, kPage).ret, 0);
  Check("munmap");
  EXPECT_TRUE(kernel::PageReferenced(p)) << "the young PTE's access was recorded";
  EXPECT_TRUE(kernel::PageDirty(p));
  EXPECT_EQ(kernel::page_mapcount(p), 0);
  EXPECT_EQ(kernel::page_ref_count(p), 1) << "only the page cache holds it";
}

// mprotect of a write-notified shared mapping back to writable: a dirty PTE may become
// writable at once (can_change_pte_writable), a clean one stays read-only so that its
// first write still dirties the page through ->page_mkwrite.
TEST_F(SharingTest, MprotectKeepsWritenotify) {
  const int fd = File("w", 2 * kPage, Str("two pages"));
  Map(parent_, A, 2 * kPage, kRW, kShared, fd);
  Store(parent_, A, Str("dirty"));
  EXPECT_EQ(Load(parent_, A + kPage, 1).size(), 1u);  // clean, read-only
  ASSERT_EQ(m().Mprotect(parent_, A, 2 * kPage, kR).ret, 0);
  Check("mprotect r--");
  EXPECT_FALSE(kernel::pte_write(*Pte(parent_, A)));
  ASSERT_EQ(m().Mprotect(parent_, A, 2 * kPage, kRW).ret, 0);
  Check("mprotect rw-");
  EXPECT_TRUE(kernel::pte_write(*Pte(parent_, A))) << "dirty: writable again at once";
  EXPECT_FALSE(kernel::pte_write(*Pte(parent_, A + kPage))) << "clean: still write-notified";
  kernel::page* p = PageAt(parent_, A + kPage);
  EXPECT_FALSE(kernel::PageDirty(p));
  Store(parent_, A + kPage, Str("now dirty"));
  EXPECT_TRUE(kernel::PageDirty(p));
  EXPECT_TRUE(kernel::pte_write(*Pte(parent_, A + kPage)));
}

// ---- stack growth and special mappings ----

// A user fault just below [stack] grows it; GUP (process_vm_*) does not.
TEST_F(SharingTest, StackGrowsForUserFaultsNotForGup) {
  const uint64_t start = Machine::kStackTop - Machine::kStackSize;
  auto reader = m().CreateProcess("reader", sim::ProcessCreds{});
  ASSERT_TRUE(reader.ok());
  Map(*reader, B, kPage, kRW, kPrivate | kAnon);
  const SysResult r = m().ProcessVmReadv(*reader, parent_, {{B, 8}}, {{start - 8, 8}});
  EXPECT_EQ(r.err, EFAULT);
  EXPECT_EQ(m().ProcessVmWritev(*reader, parent_, {{B, 8}}, {{start - kPage, 8}}).err, EFAULT);
  EXPECT_EQ(Vma(parent_, start)->vm_start, start);
  Store(parent_, start - 2 * kPage, Str("grown"));
  EXPECT_EQ(Vma(parent_, start)->vm_start, start - 2 * kPage);
  EXPECT_EQ(Load(parent_, start - 2 * kPage, 5), Str("grown"));
  EXPECT_EQ(m().ProcessVmReadv(*reader, parent_, {{B, 5}}, {{start - 2 * kPage, 5}}).ret, 5);
  // A forked child inherits the grown stack.
  const int child = Fork(parent_);
  EXPECT_EQ(Vma(child, start)->vm_start, start - 2 * kPage);
  EXPECT_EQ(Load(child, start - 2 * kPage, 5), Str("grown"));
}

// A VM_IO|VM_PFNMAP mapping ([vvar]): user reads work (page 0), GUP refuses it with
// EFAULT (check_vma_flags), pages without a pfn are SIGBUS, and fork copies its PTEs.
TEST_F(SharingTest, VvarIsPfnmapAndRefusedByGup) {
  const SysResult v = m().MapVvar(parent_);
  ASSERT_GT(v.ret, 0) << "errno " << v.err;
  const uint64_t vvar = static_cast<uint64_t>(v.ret);
  Check("map_vvar");
  kernel::vm_area_struct* vma = Vma(parent_, vvar);
  ASSERT_NE(vma, nullptr);
  EXPECT_EQ(vma->vm_flags & (kernel::VM_IO | kernel::VM_PFNMAP),
            kernel::VM_IO | kernel::VM_PFNMAP);
  EXPECT_STREQ(vma->anon_name, "[vvar]");
  EXPECT_EQ(Load(parent_, vvar, 8), std::vector<uint8_t>(8, 0));
  EXPECT_TRUE(kernel::pte_special(*Pte(parent_, vvar)));
  EXPECT_EQ(SignalOfLoad(parent_, vvar + kPage), SIGBUS);
  EXPECT_EQ(SignalOfStore(parent_, vvar), SIGSEGV);
  auto reader = m().CreateProcess("reader", sim::ProcessCreds{});
  ASSERT_TRUE(reader.ok());
  Map(*reader, B, kPage, kRW, kPrivate | kAnon);
  const SysResult r = m().ProcessVmReadv(*reader, parent_, {{B, 8}}, {{vvar, 8}});
  EXPECT_EQ(r.ret, -1);
  EXPECT_EQ(r.err, EFAULT);
  const int child = Fork(parent_);
  EXPECT_EQ(PfnAt(child, vvar), PfnAt(parent_, vvar)) << "fork copies VM_PFNMAP PTEs";
  EXPECT_EQ(Load(child, vvar, 8), std::vector<uint8_t>(8, 0));
}

// Everything at once, then every process exits: all memory comes back, every inode
// except the files still open is gone, and the page caches of open files remain.
TEST_F(SharingTest, ExitReleasesEverything) {
  const int fd = File("keep", 2 * kPage, Str("kept"));
  Map(parent_, A, 2 * kPage, kRW, kShared, fd);
  Map(parent_, A + 0x100000, 2 * kPage, kRW, kPrivate, fd);
  Map(parent_, A + 0x200000, 2 * kPage, kRW, kShared | kAnon);
  Map(parent_, A + 0x300000, 2 * kPage, kRW, kPrivate | kAnon);
  ASSERT_GT(m().MapVvar(parent_).ret, 0);
  for (uint64_t off : {0x0ull, 0x100000ull, 0x200000ull, 0x300000ull}) Store(parent_, A + off, Str("x"));
  const int child = Fork(parent_);
  for (uint64_t off : {0x0ull, 0x100000ull, 0x200000ull, 0x300000ull})
    Store(child, A + off + kPage, Str("y"));
  EXPECT_EQ(Inodes(), 2u);
  ExitAndReap(child);
  EXPECT_EQ(m().Exit(parent_).ret, 0);
  EXPECT_EQ(m().Reap(0, parent_).ret, parent_);
  Check("all exited");
  EXPECT_EQ(Inodes(), 1u) << "only the open file is left";
  EXPECT_EQ(Mapping(fd)->nrpages, 2u);
  EXPECT_EQ(Stat(kernel::NR_ANON_MAPPED), 0);
  EXPECT_EQ(Stat(kernel::NR_FILE_MAPPED), 0);
}

}  // namespace
