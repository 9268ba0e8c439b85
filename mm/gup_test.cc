// Tests of mm/gup.cc: pin_user_pages_remote / get_user_pages_remote on another process's
// address space, the reference accounting of pins, the VMA checks, faulting in, and
// MAP_POPULATE. Every test ends with the pins balanced and debug_vm clean.
#include <cstring>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "mm/arch/x86/uaccess.h"
#include "mm/fault_inject.h"
#include "mm/kernel/task.h"
#include "mm/mm.h"
#include "mm/pagewalk.h"
#include "mm/testing/kernel_fixture.h"
#include "mm/trace.h"

namespace kernel {
namespace {

using kernel_testing::BootedKernel;

constexpr unsigned long kR = 0x200000000000UL;  // where the target's test mappings go

void __user* U(unsigned long a) { return reinterpret_cast<void __user*>(a); }

// Records the trace events (name + detail) the kernel emits.
struct EventLog : kernel_observer {
  std::vector<std::string> events;
  void on_event(const char* name, const std::string& detail) override {
    events.push_back(std::string(name) + " " + detail);
  }
  int count(const std::string& prefix) const {
    int n = 0;
    for (const auto& e : events) n += e.rfind(prefix, 0) == 0;
    return n;
  }
};

class GupTest : public ::testing::Test {
 protected:
  void SetUp() override {
    caller_ = k_.Spawn("caller");
    target_ = k_.Spawn("target");
    mm_ = target_->mm;
  }
  void TearDown() override {
    EXPECT_EQ(ks()->vm_stat[NR_FOLL_PIN_ACQUIRED], ks()->vm_stat[NR_FOLL_PIN_RELEASED]);
    EXPECT_EQ(k_.DebugVm(), "");
  }
  kernel_state* ks() { return k_.ks(); }

  // A fixed private anonymous mapping in the target.
  void Map(unsigned long addr, unsigned long pages, unsigned long prot,
           unsigned long extra = 0) {
    unsigned long a = k_.Mmap(target_, addr, pages * PAGE_SIZE, prot,
                              MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED | extra);
    ASSERT_EQ(a, addr);
  }
  // User data written into the target (faults the pages in, as the target would).
  void Fill(unsigned long addr, unsigned long len, uint8_t seed) {
    std::vector<uint8_t> v(len);
    for (unsigned long i = 0; i < len; ++i) v[i] = static_cast<uint8_t>(seed + i * 13);
    k_.RunAs(target_);
    ASSERT_EQ(copy_to_user(U(addr), v.data(), len), 0u);
  }
  // pin_user_pages_remote as process_vm_rw_single_vec calls it, made by `caller`.
  long Pin(unsigned long start, unsigned long nr, unsigned int flags, page** pages) {
    k_.RunAs(caller_);
    int locked = 1;
    mmap_read_lock(mm_);
    long n = pin_user_pages_remote(mm_, start, nr, flags, pages, &locked);
    if (locked) mmap_read_unlock(mm_);
    EXPECT_FALSE(rwsem_is_locked(&mm_->mmap_lock));
    return n;
  }
  pte_t* Pte(unsigned long va) { return pte_ptr(mm_, va); }
  static pte_t* pte_ptr(mm_struct* mm, unsigned long va) { return mm_find_pte(mm, va); }
  long Rss() { return static_cast<long>(get_mm_counter(mm_, MM_ANONPAGES)); }
  // fork(2) of the target: a child sharing every anon page copy-on-write.
  task_struct* ForkTarget() { return k_.Fork(target_); }
  long Pins() { return ks()->vm_stat[NR_FOLL_PIN_ACQUIRED]; }

  BootedKernel k_{uint64_t{64} << 20};
  task_struct* caller_ = nullptr;
  task_struct* target_ = nullptr;
  mm_struct* mm_ = nullptr;
};

TEST_F(GupTest, PinAddsGupPinCountingBiasAndUnpinRemovesIt) {
  Map(kR, 4, PROT_READ | PROT_WRITE);
  Fill(kR, 4 * PAGE_SIZE, 1);
  page* before[4];
  int ref_before[4];
  for (int i = 0; i < 4; ++i) {
    before[i] = pte_page(*Pte(kR + i * PAGE_SIZE));
    ref_before[i] = page_ref_count(before[i]);
  }
  const long pins0 = Pins();
  page* pages[4] = {};
  ASSERT_EQ(Pin(kR, 4, 0, pages), 4);
  for (int i = 0; i < 4; ++i) {
    EXPECT_EQ(pages[i], before[i]) << i;
    EXPECT_EQ(page_ref_count(pages[i]), ref_before[i] + 1024) << i;
    EXPECT_TRUE(folio_maybe_dma_pinned(pages[i]));
  }
  EXPECT_EQ(Pins() - pins0, 4);
  EXPECT_TRUE(test_bit(MMF_HAS_PINNED, &mm_->flags));
  unpin_user_pages_dirty_lock(pages, 4, false);
  for (int i = 0; i < 4; ++i) EXPECT_EQ(page_ref_count(before[i]), ref_before[i]) << i;
  EXPECT_EQ(ks()->vm_stat[NR_FOLL_PIN_RELEASED] - pins0, 4);
}

TEST_F(GupTest, WritePinOfTouchedPageAndDirtyingUnpin) {
  Map(kR, 1, PROT_READ | PROT_WRITE);
  Fill(kR, PAGE_SIZE, 2);
  page* p = pte_page(*Pte(kR));
  ClearPageDirty(p);
  page* pages[1];
  ASSERT_EQ(Pin(kR, 1, FOLL_WRITE, pages), 1);
  EXPECT_EQ(pages[0], p);
  EXPECT_TRUE(PageReferenced(p));  // FOLL_TOUCH
  ClearPageDirty(p);               // as if written back meanwhile
  unpin_user_pages_dirty_lock(pages, 1, true);
  EXPECT_TRUE(PageDirty(p));       // make_dirty
  EXPECT_FALSE(PageLocked(p));
}

TEST_F(GupTest, ReadPinOfUntouchedMemoryMapsTheZeroPageAndPinsNothing) {
  Map(kR, 8, PROT_READ | PROT_WRITE);
  page* zero = ZERO_PAGE(0);
  const int zref = page_ref_count(zero);
  const long free0 = k_.FreePages();
  const long pins0 = Pins();
  page* pages[8];
  ASSERT_EQ(Pin(kR, 8, 0, pages), 8);
  for (int i = 0; i < 8; ++i) {
    EXPECT_EQ(pages[i], zero) << i;
    pte_t* pte = Pte(kR + i * PAGE_SIZE);
    ASSERT_NE(pte, nullptr);
    EXPECT_TRUE(is_zero_pfn(pte_pfn(*pte)));
    EXPECT_FALSE(pte_write(*pte));
  }
  EXPECT_EQ(page_ref_count(zero), zref);  // not refcounted on pin (6.5+)
  EXPECT_EQ(Pins(), pins0);                // nor counted as a pin
  EXPECT_EQ(Rss(), 0);
  unpin_user_pages_dirty_lock(pages, 8, false);
  EXPECT_EQ(page_ref_count(zero), zref);
  // Only page tables were allocated for the 8 zero-page PTEs.
  EXPECT_LE(free0 - k_.FreePages(), 3);
}

TEST_F(GupTest, FollWriteFaultsInANeverTouchedPage) {
  Map(kR, 2, PROT_READ | PROT_WRITE);
  EXPECT_EQ(Pte(kR), nullptr);
  page* pages[2];
  ASSERT_EQ(Pin(kR, 2, FOLL_WRITE, pages), 2);
  for (int i = 0; i < 2; ++i) {
    EXPECT_FALSE(is_zero_page(pages[i]));
    pte_t pte = *Pte(kR + i * PAGE_SIZE);
    EXPECT_EQ(pte_page(pte), pages[i]);
    EXPECT_TRUE(pte_write(pte));
    EXPECT_TRUE(pte_dirty(pte));
    EXPECT_TRUE(PageAnon(pages[i]));
    EXPECT_TRUE(PageAnonExclusive(pages[i]));
    EXPECT_EQ(page_ref_count(pages[i]), 1 + 1024);  // the mapping + the pin
  }
  EXPECT_EQ(Rss(), 2);
  unpin_user_pages_dirty_lock(pages, 2, true);
  for (int i = 0; i < 2; ++i) EXPECT_EQ(page_ref_count(pages[i]), 1);
}

TEST_F(GupTest, WritePinOfAZeroPageMappingBreaksCow) {
  Map(kR, 1, PROT_READ | PROT_WRITE);
  page* pages[1];
  ASSERT_EQ(Pin(kR, 1, 0, pages), 1);
  ASSERT_TRUE(is_zero_page(pages[0]));
  unpin_user_pages(pages, 1);
  ASSERT_EQ(Pin(kR, 1, FOLL_WRITE, pages), 1);
  EXPECT_FALSE(is_zero_page(pages[0]));
  EXPECT_EQ(pte_page(*Pte(kR)), pages[0]);
  EXPECT_EQ(Rss(), 1);
  unpin_user_pages_dirty_lock(pages, 1, true);
}

// check_vma_flags: reads need VM_READ, writes VM_WRITE (no FOLL_FORCE), never VM_IO or
// VM_PFNMAP. x86 maps --x and -w- pages readable in hardware, but GUP goes by the VMA.
struct ProtCase {
  const char* name;
  unsigned long prot;
  bool read_ok;
  bool write_ok;
};

class GupProtTest : public GupTest, public ::testing::WithParamInterface<ProtCase> {};

TEST_P(GupProtTest, CheckVmaFlagsMatrix) {
  const ProtCase& c = GetParam();
  Map(kR, 1, c.prot);
  page* pages[1];
  long r = Pin(kR, 1, 0, pages);
  if (c.read_ok) {
    EXPECT_EQ(r, 1) << c.name << " read";
    if (r == 1) unpin_user_pages(pages, 1);
  } else {
    EXPECT_EQ(r, -EFAULT) << c.name << " read";
  }
  long w = Pin(kR, 1, FOLL_WRITE, pages);
  if (c.write_ok) {
    EXPECT_EQ(w, 1) << c.name << " write";
    if (w == 1) unpin_user_pages_dirty_lock(pages, 1, true);
  } else {
    EXPECT_EQ(w, -EFAULT) << c.name << " write";
  }
}

INSTANTIATE_TEST_SUITE_P(
    Prots, GupProtTest,
    ::testing::Values(ProtCase{"none", PROT_NONE, false, false},
                      ProtCase{"x", PROT_EXEC, false, false},
                      ProtCase{"w", PROT_WRITE, false, true},
                      ProtCase{"r", PROT_READ, true, false},
                      ProtCase{"rw", PROT_READ | PROT_WRITE, true, true},
                      ProtCase{"rx", PROT_READ | PROT_EXEC, true, false}),
    [](const ::testing::TestParamInfo<ProtCase>& i) { return std::string(i.param.name); });

TEST_F(GupTest, VmPfnmapAndVmIoAreRefused) {
  Map(kR, 1, PROT_READ | PROT_WRITE);
  vm_area_struct* vma = find_vma(mm_, kR);
  ASSERT_NE(vma, nullptr);
  const vm_flags_t saved = vma->vm_flags;
  page* pages[1];
  for (vm_flags_t f : {VM_PFNMAP, VM_IO}) {
    vma->vm_flags = saved | f;  // as a driver's remap_pfn_range would leave it
    EXPECT_EQ(Pin(kR, 1, 0, pages), -EFAULT);
    EXPECT_EQ(Pin(kR, 1, FOLL_WRITE, pages), -EFAULT);
  }
  vma->vm_flags = saved;
  EXPECT_EQ(Pte(kR), nullptr);  // nothing was faulted in
}

TEST_F(GupTest, NoStackExpansionBelowAGrowsdownVma) {
  Map(kR + 16 * PAGE_SIZE, 4, PROT_READ | PROT_WRITE, MAP_GROWSDOWN);
  vm_area_struct* vma = find_vma(mm_, kR + 16 * PAGE_SIZE);
  ASSERT_NE(vma, nullptr);
  ASSERT_TRUE(vma->vm_flags & VM_GROWSDOWN);
  const unsigned long start = vma->vm_start;
  EventLog log;
  ks()->observer = &log;
  page* pages[1];
  EXPECT_EQ(Pin(start - PAGE_SIZE, 1, 0, pages), -EFAULT);
  EXPECT_EQ(Pin(start - PAGE_SIZE, 1, FOLL_WRITE, pages), -EFAULT);
  // Far below the stack: refused without the "no longer grows" note.
  EXPECT_EQ(Pin(start - 64 * PAGE_SIZE, 1, 0, pages), -EFAULT);
  ks()->observer = nullptr;
  EXPECT_EQ(vma->vm_start, start);
  EXPECT_EQ(log.count("gup_no_stack_growth"), 2);
  // The process stack too: one page below [stack].
  EXPECT_EQ(Pin(BootedKernel::kStackTop - BootedKernel::kStackSize - PAGE_SIZE, 1, 0, pages),
            -EFAULT);
}

TEST_F(GupTest, ReturnsTheNumberOfLeadingPagesPinned) {
  Map(kR, 3, PROT_READ | PROT_WRITE);
  Map(kR + 4 * PAGE_SIZE, 2, PROT_READ | PROT_WRITE);  // hole at page 3
  Fill(kR, 3 * PAGE_SIZE, 3);
  page* pages[6] = {};
  EXPECT_EQ(Pin(kR, 6, 0, pages), 3);
  unpin_user_pages(pages, 3);
  // The first page fails: the error itself.
  EXPECT_EQ(Pin(kR + 3 * PAGE_SIZE, 3, 0, pages), -EFAULT);
  // A read-only page after writable ones stops a write pin there.
  Map(kR + 6 * PAGE_SIZE, 1, PROT_READ);
  EXPECT_EQ(Pin(kR + 4 * PAGE_SIZE, 3, FOLL_WRITE, pages), 2);
  unpin_user_pages_dirty_lock(pages, 2, true);
  // Across two VMAs with the same rights: one call.
  Map(kR + 7 * PAGE_SIZE, 1, PROT_READ);
  EXPECT_EQ(Pin(kR + 6 * PAGE_SIZE, 2, 0, pages), 2);
  unpin_user_pages(pages, 2);
}

TEST_F(GupTest, FaultInjectionStopsAtThePageItHits) {
  Map(kR, 4, PROT_READ | PROT_WRITE);
  ASSERT_EQ(fault_inject_arm("fail_gup", {.nth = 3, .times = 1}), 0);
  page* pages[4];
  long n = Pin(kR, 4, FOLL_WRITE, pages);
  EXPECT_EQ(n, 2);
  if (n > 0) unpin_user_pages_dirty_lock(pages, static_cast<unsigned long>(n), true);
  ASSERT_EQ(fault_inject_arm("fail_gup", {.nth = 1, .times = 1}), 0);
  EXPECT_EQ(Pin(kR, 4, FOLL_WRITE, pages), -ENOMEM);
  // An OOM inside the fault handler becomes -ENOMEM as well (vm_fault_to_errno).
  fault_inject_disarm(nullptr);
  ASSERT_EQ(fault_inject_arm("fail_fault", {.nth = 1, .times = 1}), 0);
  EXPECT_EQ(Pin(kR + 2 * PAGE_SIZE, 2, FOLL_WRITE, pages), -ENOMEM);
  fault_inject_disarm(nullptr);
}

TEST_F(GupTest, GetUserPagesRemoteTakesPlainReferences) {
  Map(kR, 1, PROT_READ | PROT_WRITE);
  Fill(kR, PAGE_SIZE, 4);
  page* p = pte_page(*Pte(kR));
  const int ref = page_ref_count(p);
  const long pins0 = Pins();
  k_.RunAs(caller_);
  page* pages[1];
  int locked = 1;
  mmap_read_lock(mm_);
  EXPECT_EQ(get_user_pages_remote(mm_, kR, 1, 0, pages, &locked), 1);
  if (locked) mmap_read_unlock(mm_);
  EXPECT_EQ(pages[0], p);
  EXPECT_EQ(page_ref_count(p), ref + 1);
  EXPECT_EQ(Pins(), pins0);
  put_page(p);
  // Internal flags are refused at the interface.
  locked = 1;
  mmap_read_lock(mm_);
  EXPECT_EQ(pin_user_pages_remote(mm_, kR, 1, FOLL_PIN, pages, &locked), 0);
  EXPECT_EQ(get_user_pages_remote(mm_, kR, 1, FOLL_TOUCH, pages, &locked), -EINVAL);
  mmap_read_unlock(mm_);
}

TEST_F(GupTest, GupFlagsAndFaultFlagsAreTheKernels) {
  // Traced: pin_user_pages_remote adds PIN|TOUCH|REMOTE|UNLOCKABLE; the write fault of a
  // never-touched page is REMOTE|ALLOW_RETRY|KILLABLE|WRITE (docs/semantics.md §5.5: 0x2d0001, 0x95).
  struct CallLog : kernel_observer {
    std::vector<std::string> calls;
    void on_enter(const char* fn, const std::string& args) override {
      calls.push_back(std::string(fn) + " " + args);
    }
  } log;
  Map(kR, 1, PROT_READ | PROT_WRITE);
  ks()->observer = &log;
  page* pages[1];
  ASSERT_EQ(Pin(kR, 1, FOLL_WRITE, pages), 1);
  ks()->observer = nullptr;
  unpin_user_pages_dirty_lock(pages, 1, true);
  bool saw_gup = false, saw_fault = false;
  for (const auto& c : log.calls) {
    if (c.rfind("__get_user_pages ", 0) == 0) {
      EXPECT_NE(c.find("gup_flags=0x2d0001"), std::string::npos) << c;
      saw_gup = true;
    }
    if (c.rfind("faultin_page ", 0) == 0) {
      EXPECT_NE(c.find("fault_flags=0x95"), std::string::npos) << c;
      saw_fault = true;
    }
  }
  EXPECT_TRUE(saw_gup);
  EXPECT_TRUE(saw_fault);
}

TEST_F(GupTest, MapPopulatePrefaultsWithoutPinning) {
  const long pins0 = Pins();
  Map(kR, 5, PROT_READ | PROT_WRITE, MAP_POPULATE);
  EXPECT_EQ(Rss(), 5);  // writable private: write-faulted, so real pages
  for (int i = 0; i < 5; ++i) {
    pte_t* pte = Pte(kR + i * PAGE_SIZE);
    ASSERT_NE(pte, nullptr);
    EXPECT_TRUE(pte_present(*pte));
    EXPECT_EQ(page_ref_count(pte_page(*pte)), 1);
  }
  // Read-only: read-faulted, the zero page.
  Map(kR + 8 * PAGE_SIZE, 2, PROT_READ, MAP_POPULATE);
  EXPECT_TRUE(is_zero_pfn(pte_pfn(*Pte(kR + 8 * PAGE_SIZE))));
  EXPECT_EQ(Rss(), 5);
  EXPECT_EQ(Pins(), pins0);
}

// populate_vma_page_range (6.5+): writable private mappings are write-faulted without
// FOLL_FORCE, everything else read-faulted with it, and PROT_NONE is not walked at all.
TEST_F(GupTest, PopulateFlagsAreTheKernels) {
  struct CallLog : kernel_observer {
    std::vector<std::string> gup;
    void on_enter(const char* fn, const std::string& args) override {
      if (std::string(fn) == "__get_user_pages") gup.push_back(args);
    }
  } log;
  ks()->observer = &log;
  Map(kR, 2, PROT_READ | PROT_WRITE, MAP_POPULATE);
  ASSERT_EQ(log.gup.size(), 1u);
  EXPECT_NE(log.gup[0].find("gup_flags=0x210001"), std::string::npos) << log.gup[0];  // TOUCH|WRITE|UNLOCKABLE
  log.gup.clear();
  ASSERT_EQ(k_.Mmap(target_, kR + 4 * PAGE_SIZE, 2 * PAGE_SIZE, PROT_READ | PROT_WRITE,
                    MAP_SHARED | MAP_ANONYMOUS | MAP_FIXED | MAP_POPULATE),
            kR + 4 * PAGE_SIZE);
  ASSERT_EQ(log.gup.size(), 1u);
  EXPECT_NE(log.gup[0].find("gup_flags=0x210008"), std::string::npos) << log.gup[0];  // TOUCH|FORCE|UNLOCKABLE
  log.gup.clear();
  Map(kR + 8 * PAGE_SIZE, 2, PROT_READ, MAP_POPULATE);
  ASSERT_EQ(log.gup.size(), 1u);
  EXPECT_NE(log.gup[0].find("gup_flags=0x210008"), std::string::npos) << log.gup[0];
  log.gup.clear();
  Map(kR + 12 * PAGE_SIZE, 2, PROT_NONE, MAP_POPULATE);
  EXPECT_TRUE(log.gup.empty());
  ks()->observer = nullptr;
  EXPECT_TRUE(Pte(kR + 12 * PAGE_SIZE) == nullptr || pte_none(*Pte(kR + 12 * PAGE_SIZE)));
  EXPECT_EQ(Rss(), 2);
}

TEST_F(GupTest, UnpinOfTheLastReferenceFreesTheFrame) {
  Map(kR, 1, PROT_READ | PROT_WRITE);
  Fill(kR, PAGE_SIZE, 5);
  page* pages[1];
  ASSERT_EQ(Pin(kR, 1, 0, pages), 1);
  page* p = pages[0];
  k_.RunAs(target_);
  ASSERT_EQ(vm_munmap(kR, PAGE_SIZE), 0);
  // Unmapped, but the pin holds it: not free.
  EXPECT_EQ(page_ref_count(p), 1024);
  EXPECT_FALSE(PageBuddy(p));
  const long free0 = k_.FreePages();
  unpin_user_page(p);
  EXPECT_EQ(k_.FreePages(), free0 + 1);
  EXPECT_EQ(page_ref_count(p), 0);
}

// A read pin of an anon page shared copy-on-write with a child must not pin the shared
// page (a later COW would leave the pin behind): follow_page_pte says -EMLINK, and the
// FAULT_FLAG_UNSHARE fault gives the target a private copy, mapped read-only and clean.
TEST_F(GupTest, ReadPinOfACowSharedAnonPageUnsharesItFirst) {
  Map(kR, 1, PROT_READ | PROT_WRITE);
  Fill(kR, PAGE_SIZE, 6);
  task_struct* child = ForkTarget();
  ASSERT_NE(child, nullptr);
  page* shared = pte_page(*Pte(kR));
  ASSERT_EQ(pte_page(*pte_ptr(child->mm, kR)), shared);
  ASSERT_FALSE(PageAnonExclusive(shared));
  struct CallLog : kernel_observer {
    std::vector<std::string> calls;
    void on_enter(const char* fn, const std::string& args) override {
      calls.push_back(std::string(fn) + " " + args);
    }
  } log;
  ks()->observer = &log;
  page* pages[1];
  ASSERT_EQ(Pin(kR, 1, 0, pages), 1);
  ks()->observer = nullptr;
  EXPECT_NE(pages[0], shared);
  EXPECT_TRUE(PageAnonExclusive(pages[0]));
  pte_t pte = *Pte(kR);
  EXPECT_EQ(pte_page(pte), pages[0]);
  EXPECT_FALSE(pte_write(pte));  // unshare maps the copy read-only ...
  EXPECT_FALSE(pte_dirty(pte));  // ... and clean (Shared_Dirty -> Private_Clean)
  EXPECT_EQ(pte_page(*pte_ptr(child->mm, kR)), shared);
  EXPECT_EQ(std::memcmp(page_address(pages[0]), page_address(shared), PAGE_SIZE), 0);
  bool unshare_fault = false;
  for (const auto& c : log.calls)
    if (c.rfind("faultin_page ", 0) == 0 && c.find("fault_flags=0x494") != std::string::npos)
      unshare_fault = true;  // REMOTE|ALLOW_RETRY|KILLABLE|UNSHARE
  EXPECT_TRUE(unshare_fault);
  unpin_user_pages(pages, 1);
}

// A write pin breaks COW for the target alone; the child keeps the old contents.
TEST_F(GupTest, WritePinOfACowSharedPageCopiesForTheTargetOnly) {
  Map(kR, 1, PROT_READ | PROT_WRITE);
  Fill(kR, PAGE_SIZE, 7);
  task_struct* child = ForkTarget();
  ASSERT_NE(child, nullptr);
  page* shared = pte_page(*Pte(kR));
  page* pages[1];
  ASSERT_EQ(Pin(kR, 1, FOLL_WRITE, pages), 1);
  EXPECT_NE(pages[0], shared);
  EXPECT_TRUE(pte_write(*Pte(kR)));
  static_cast<uint8_t*>(page_address(pages[0]))[0] ^= 0xff;  // a write through the pin
  unpin_user_pages_dirty_lock(pages, 1, true);
  EXPECT_EQ(pte_page(*pte_ptr(child->mm, kR)), shared);
  EXPECT_NE(static_cast<uint8_t*>(page_address(shared))[0],
            static_cast<uint8_t*>(page_address(pte_page(*Pte(kR))))[0]);
}

// MMF_HAS_PINNED at work: fork copies a pinned anon page at once instead of sharing it,
// so the pin keeps matching the parent's mapping.
TEST_F(GupTest, ForkCopiesAPinnedPageEagerly) {
  Map(kR, 2, PROT_READ | PROT_WRITE);
  Fill(kR, 2 * PAGE_SIZE, 8);
  page* pages[1];
  ASSERT_EQ(Pin(kR, 1, 0, pages), 1);
  task_struct* child = ForkTarget();
  ASSERT_NE(child, nullptr);
  EXPECT_EQ(pte_page(*Pte(kR)), pages[0]);
  EXPECT_NE(pte_page(*pte_ptr(child->mm, kR)), pages[0]);                 // copied
  EXPECT_EQ(pte_page(*pte_ptr(child->mm, kR + PAGE_SIZE)), pte_page(*Pte(kR + PAGE_SIZE)));  // shared
  unpin_user_pages(pages, 1);
}

// ---- the mmap_lock drop protocol (VM_FAULT_RETRY) ----
// No fault handler of the port sleeps, so none returns VM_FAULT_RETRY by itself. These
// tests wrap a shmem VMA's ->fault: the first attempt at each page (ALLOW_RETRY without
// TRIED) drops mmap_lock and asks for a retry, as filemap_fault does when it must wait.
struct RetryingFault {
  static inline const vm_operations_struct* orig = nullptr;
  static inline int retries = 0;
  static inline bool kill = false;  // raise a fatal signal in the caller when retrying
  static vm_fault_t fault(vm_fault* vmf) {
    if ((vmf->flags & FAULT_FLAG_ALLOW_RETRY) && !(vmf->flags & FAULT_FLAG_TRIED)) {
      ++retries;
      if (kill) current()->fatal_signal = true;
      mmap_read_unlock(vmf->vma->vm_mm);
      return VM_FAULT_RETRY;
    }
    return orig->fault(vmf);
  }
};

class GupRetryTest : public GupTest {
 protected:
  void SetUp() override {
    GupTest::SetUp();
    ASSERT_EQ(k_.Mmap(target_, kR, 4 * PAGE_SIZE, PROT_READ | PROT_WRITE,
                      MAP_SHARED | MAP_ANONYMOUS | MAP_FIXED),
              kR);
    vma_ = find_vma(mm_, kR);
    ASSERT_NE(vma_, nullptr);
    ASSERT_NE(vma_->vm_ops, nullptr);
    RetryingFault::orig = vma_->vm_ops;
    RetryingFault::retries = 0;
    RetryingFault::kill = false;
    ops_ = *vma_->vm_ops;
    ops_.fault = RetryingFault::fault;
    vma_->vm_ops = &ops_;
  }
  void TearDown() override {
    vma_->vm_ops = RetryingFault::orig;
    caller_->fatal_signal = false;
    GupTest::TearDown();
  }
  vm_area_struct* vma_ = nullptr;
  vm_operations_struct ops_{};
};

TEST_F(GupRetryTest, EachDroppedLockIsRetakenAndThePageRetriedWithFollTried) {
  struct CallLog : kernel_observer {
    std::vector<std::string> calls;
    void on_enter(const char* fn, const std::string& args) override {
      calls.push_back(std::string(fn) + " " + args);
    }
  } log;
  k_.RunAs(caller_);
  page* pages[4];
  int locked = 1;
  mmap_read_lock(mm_);
  ks()->observer = &log;
  EXPECT_EQ(pin_user_pages_remote(mm_, kR, 4, 0, pages, &locked), 4);
  ks()->observer = nullptr;
  // The lock was dropped, so GUP hands back the call with it released: the caller
  // (process_vm_rw_single_vec) must not unlock.
  EXPECT_EQ(locked, 0);
  EXPECT_FALSE(rwsem_is_locked(&mm_->mmap_lock));
  EXPECT_EQ(RetryingFault::retries, 4);
  int tried = 0;
  for (const auto& c : log.calls)
    tried += c.rfind("faultin_page ", 0) == 0 && c.find("fault_flags=0xb4") != std::string::npos;
  EXPECT_EQ(tried, 4);  // REMOTE|ALLOW_RETRY|KILLABLE|TRIED
  for (int i = 0; i < 4; ++i) EXPECT_EQ(pages[i], pte_page(*Pte(kR + i * PAGE_SIZE))) << i;
  unpin_user_pages(pages, 4);

  // All present now: no fault, no drop, the caller still holds the lock.
  locked = 1;
  mmap_read_lock(mm_);
  EXPECT_EQ(pin_user_pages_remote(mm_, kR, 4, 0, pages, &locked), 4);
  EXPECT_EQ(locked, 1);
  mmap_read_unlock(mm_);
  unpin_user_pages(pages, 4);
}

TEST_F(GupRetryTest, AFatalSignalWhileRetryingGivesEintrOrThePagesDone) {
  page* pages[4];
  // Page 0 present, page 1 needs the (retrying) fault.
  {
    RetryingFault::kill = false;
    ASSERT_EQ(Pin(kR, 1, 0, pages), 1);
    unpin_user_pages(pages, 1);
  }
  RetryingFault::kill = true;
  k_.RunAs(caller_);
  int locked = 1;
  mmap_read_lock(mm_);
  EXPECT_EQ(pin_user_pages_remote(mm_, kR, 4, 0, pages, &locked), 1);
  EXPECT_EQ(locked, 0);
  EXPECT_FALSE(rwsem_is_locked(&mm_->mmap_lock));
  unpin_user_pages(pages, 1);
  // Nothing done before the signal: -EINTR.
  caller_->fatal_signal = false;
  locked = 1;
  mmap_read_lock(mm_);
  EXPECT_EQ(pin_user_pages_remote(mm_, kR + 2 * PAGE_SIZE, 2, 0, pages, &locked), -EINTR);
  EXPECT_EQ(locked, 0);
  EXPECT_FALSE(rwsem_is_locked(&mm_->mmap_lock));
  caller_->fatal_signal = false;
}

}  // namespace
}  // namespace kernel
