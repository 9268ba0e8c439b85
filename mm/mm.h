// mm/mm.h: the core mm interface (include/linux/mm.h, plus the prototypes Linux keeps in
// mm/internal.h and include/linux/mmap_lock.h), Linux 6.18 names and values.
//
// This header is the contract between the parts of the port: page allocation
// (mm/page_alloc.cc), page tables and faults (mm/memory.cc), mappings (mm/mmap.cc,
// mm/vma.cc, mm/mprotect.cc), GUP (mm/gup.cc) and the x86 arch layer (mm/arch/x86/).
#ifndef MMSIM_MM_MM_H_
#define MMSIM_MM_MM_H_

#include <sys/mman.h>

#include "mm/arch/x86/pgtable.h"
#include "mm/arch/x86/tlb.h"
#include "mm/mmu_gather.h"
#include "mm/gfp.h"
#include "mm/kernel.h"
#include "mm/mm_types.h"
#include "mm/page-flags.h"
#include "mm/page_ref.h"
#include "mm/rwsem.h"

namespace kernel {

// ---- vm_flags (include/linux/mm.h) ----
inline constexpr vm_flags_t VM_NONE = 0x00000000;
inline constexpr vm_flags_t VM_READ = 0x00000001;
inline constexpr vm_flags_t VM_WRITE = 0x00000002;
inline constexpr vm_flags_t VM_EXEC = 0x00000004;
inline constexpr vm_flags_t VM_SHARED = 0x00000008;
inline constexpr vm_flags_t VM_MAYREAD = 0x00000010;
inline constexpr vm_flags_t VM_MAYWRITE = 0x00000020;
inline constexpr vm_flags_t VM_MAYEXEC = 0x00000040;
inline constexpr vm_flags_t VM_MAYSHARE = 0x00000080;
inline constexpr vm_flags_t VM_GROWSDOWN = 0x00000100;
inline constexpr vm_flags_t VM_UFFD_MISSING = 0x00000200;
inline constexpr vm_flags_t VM_PFNMAP = 0x00000400;
inline constexpr vm_flags_t VM_LOCKED = 0x00002000;
inline constexpr vm_flags_t VM_IO = 0x00004000;
inline constexpr vm_flags_t VM_SEQ_READ = 0x00008000;   // MADV_SEQUENTIAL
inline constexpr vm_flags_t VM_RAND_READ = 0x00010000;  // MADV_RANDOM
inline constexpr vm_flags_t VM_DONTCOPY = 0x00020000;
inline constexpr vm_flags_t VM_DONTEXPAND = 0x00040000;
inline constexpr vm_flags_t VM_LOCKONFAULT = 0x00080000;  // lock pages as they fault in
inline constexpr vm_flags_t VM_ACCOUNT = 0x00100000;
inline constexpr vm_flags_t VM_NORESERVE = 0x00200000;
inline constexpr vm_flags_t VM_WIPEONFORK = 0x02000000;  // the child gets empty memory here
inline constexpr vm_flags_t VM_DONTDUMP = 0x04000000;
inline constexpr vm_flags_t VM_SOFTDIRTY = 0x08000000;
inline constexpr vm_flags_t VM_MIXEDMAP = 0x10000000;
inline constexpr vm_flags_t VM_HUGEPAGE = 0x20000000;    // MADV_HUGEPAGE
inline constexpr vm_flags_t VM_NOHUGEPAGE = 0x40000000;  // MADV_NOHUGEPAGE
inline constexpr vm_flags_t VM_MERGEABLE = 0x80000000;   // MADV_MERGEABLE: KSM may merge its pages
inline constexpr vm_flags_t VM_STACK = VM_GROWSDOWN;
// include/linux/mm.h: VM_HIGH_ARCH_0..3 hold x86's protection key (CONFIG_ARCH_HAS_PKEYS).
inline constexpr int VM_PKEY_SHIFT = 32;  // VM_HIGH_ARCH_BIT_0
inline constexpr vm_flags_t VM_PKEY_BIT0 = 1UL << 32;
inline constexpr vm_flags_t VM_PKEY_BIT1 = 1UL << 33;
inline constexpr vm_flags_t VM_PKEY_BIT2 = 1UL << 34;
inline constexpr vm_flags_t VM_PKEY_BIT3 = 1UL << 35;
inline constexpr vm_flags_t ARCH_VM_PKEY_FLAGS = VM_PKEY_BIT0 | VM_PKEY_BIT1 | VM_PKEY_BIT2 | VM_PKEY_BIT3;
// include/linux/mm.h: what an mprotect() clears besides the access flags.
inline constexpr vm_flags_t VM_FLAGS_CLEAR = ARCH_VM_PKEY_FLAGS;  // | VM_ARCH_CLEAR (none on x86)
inline constexpr vm_flags_t VM_SPECIAL = VM_IO | VM_DONTEXPAND | VM_PFNMAP | VM_MIXEDMAP;
inline constexpr vm_flags_t VM_ACCESS_FLAGS = VM_READ | VM_WRITE | VM_EXEC;
inline constexpr vm_flags_t VM_LOCKED_MASK = VM_LOCKED | VM_LOCKONFAULT;

// ---- mmap(2) arguments (include/uapi/asm-generic/mman-common.h, x86 values) ----
// The host is x86-64 Linux, so <sys/mman.h> already defines these names as macros with
// Linux's values (as <cerrno> does for errno.h); the asserts pin each value, so the port
// cannot drift from the ABI and a file may include both headers.
static_assert(PROT_NONE == 0x0, "PROT_NONE");
static_assert(PROT_READ == 0x1, "PROT_READ");
static_assert(PROT_WRITE == 0x2, "PROT_WRITE");
static_assert(PROT_EXEC == 0x4, "PROT_EXEC");
static_assert(PROT_GROWSDOWN == 0x01000000, "PROT_GROWSDOWN");
static_assert(PROT_GROWSUP == 0x02000000, "PROT_GROWSUP");
static_assert(MAP_SHARED == 0x01, "MAP_SHARED");
static_assert(MAP_PRIVATE == 0x02, "MAP_PRIVATE");
static_assert(MAP_SHARED_VALIDATE == 0x03, "MAP_SHARED_VALIDATE");
static_assert(MAP_TYPE == 0x0f, "MAP_TYPE");
static_assert(MAP_FIXED == 0x10, "MAP_FIXED");
static_assert(MAP_ANONYMOUS == 0x20, "MAP_ANONYMOUS");
static_assert(MAP_GROWSDOWN == 0x0100, "MAP_GROWSDOWN");
static_assert(MAP_DENYWRITE == 0x0800, "MAP_DENYWRITE");
static_assert(MAP_EXECUTABLE == 0x1000, "MAP_EXECUTABLE");
static_assert(MAP_LOCKED == 0x2000, "MAP_LOCKED");
static_assert(MAP_NORESERVE == 0x4000, "MAP_NORESERVE");
static_assert(MAP_POPULATE == 0x8000, "MAP_POPULATE");
static_assert(MAP_NONBLOCK == 0x10000, "MAP_NONBLOCK");
static_assert(MAP_STACK == 0x20000, "MAP_STACK");
static_assert(MAP_FIXED_NOREPLACE == 0x100000, "MAP_FIXED_NOREPLACE");
static_assert(MAP_32BIT == 0x40, "MAP_32BIT");
static_assert(MAP_HUGETLB == 0x40000, "MAP_HUGETLB");
static_assert(MAP_SYNC == 0x80000, "MAP_SYNC");
static_assert(MAP_HUGE_SHIFT == 26 && MAP_HUGE_MASK == 0x3f, "MAP_HUGE_SHIFT");
// Not in glibc's <sys/mman.h>: include/uapi/asm-generic/mman-common.h's values.
#ifndef PROT_SEM
#define PROT_SEM 0x8
#endif
#ifndef MAP_UNINITIALIZED
#define MAP_UNINITIALIZED 0x4000000
#endif
static_assert(PROT_SEM == 0x8, "PROT_SEM");
static_assert(MAP_UNINITIALIZED == 0x4000000, "MAP_UNINITIALIZED");
inline constexpr unsigned long MAP_HUGE_2MB = 21UL << MAP_HUGE_SHIFT;
inline constexpr unsigned long MAP_HUGE_1GB = 30UL << MAP_HUGE_SHIFT;
// include/linux/mman.h: the flags every mmap implementation has always accepted;
// MAP_SHARED_VALIDATE refuses any other bit (-EOPNOTSUPP) unless the file supports it.
inline constexpr unsigned long LEGACY_MAP_MASK =
    MAP_SHARED | MAP_PRIVATE | MAP_FIXED | MAP_ANONYMOUS | MAP_DENYWRITE | MAP_EXECUTABLE |
    MAP_UNINITIALIZED | MAP_GROWSDOWN | MAP_LOCKED | MAP_NORESERVE | MAP_POPULATE |
    MAP_NONBLOCK | MAP_STACK | MAP_HUGETLB | MAP_32BIT | MAP_HUGE_2MB | MAP_HUGE_1GB;

// ---- GUP flags (include/linux/mm_types.h enum, internal ones from mm/internal.h) ----
inline constexpr unsigned int FOLL_WRITE = 0x1;
inline constexpr unsigned int FOLL_GET = 0x2;
inline constexpr unsigned int FOLL_DUMP = 0x4;
inline constexpr unsigned int FOLL_FORCE = 0x8;
inline constexpr unsigned int FOLL_NOWAIT = 0x10;
inline constexpr unsigned int FOLL_NOFAULT = 0x20;
inline constexpr unsigned int FOLL_HWPOISON = 0x40;
inline constexpr unsigned int FOLL_ANON = 0x80;
inline constexpr unsigned int FOLL_LONGTERM = 0x100;
inline constexpr unsigned int FOLL_SPLIT_PMD = 0x200;
inline constexpr unsigned int FOLL_INTERRUPTIBLE = 0x800;
inline constexpr unsigned int FOLL_HONOR_NUMA_FAULT = 0x1000;
inline constexpr unsigned int FOLL_TOUCH = 0x10000;
inline constexpr unsigned int FOLL_TRIED = 0x20000;
inline constexpr unsigned int FOLL_REMOTE = 0x40000;
inline constexpr unsigned int FOLL_PIN = 0x80000;
inline constexpr unsigned int FOLL_FAST_ONLY = 0x100000;
inline constexpr unsigned int FOLL_UNLOCKABLE = 0x200000;
inline constexpr unsigned int FOLL_MADV_POPULATE = 0x400000;

// ---- fault flags (include/linux/mm_types.h enum fault_flag) ----
inline constexpr unsigned int FAULT_FLAG_WRITE = 0x1;
inline constexpr unsigned int FAULT_FLAG_MKWRITE = 0x2;
inline constexpr unsigned int FAULT_FLAG_ALLOW_RETRY = 0x4;
inline constexpr unsigned int FAULT_FLAG_RETRY_NOWAIT = 0x8;
inline constexpr unsigned int FAULT_FLAG_KILLABLE = 0x10;
inline constexpr unsigned int FAULT_FLAG_TRIED = 0x20;
inline constexpr unsigned int FAULT_FLAG_USER = 0x40;
inline constexpr unsigned int FAULT_FLAG_REMOTE = 0x80;
inline constexpr unsigned int FAULT_FLAG_INSTRUCTION = 0x100;
inline constexpr unsigned int FAULT_FLAG_INTERRUPTIBLE = 0x200;
inline constexpr unsigned int FAULT_FLAG_UNSHARE = 0x400;
inline constexpr unsigned int FAULT_FLAG_ORIG_PTE_VALID = 0x800;
inline constexpr unsigned int FAULT_FLAG_VMA_LOCK = 0x1000;
inline constexpr unsigned int FAULT_FLAG_DEFAULT =
    FAULT_FLAG_ALLOW_RETRY | FAULT_FLAG_KILLABLE | FAULT_FLAG_INTERRUPTIBLE;

// ---- fault results (include/linux/mm_types.h enum vm_fault_reason) ----
inline constexpr vm_fault_t VM_FAULT_OOM = 0x000001;
inline constexpr vm_fault_t VM_FAULT_SIGBUS = 0x000002;
inline constexpr vm_fault_t VM_FAULT_MAJOR = 0x000004;
inline constexpr vm_fault_t VM_FAULT_HWPOISON = 0x000010;
inline constexpr vm_fault_t VM_FAULT_HWPOISON_LARGE = 0x000020;
inline constexpr vm_fault_t VM_FAULT_SIGSEGV = 0x000040;
inline constexpr vm_fault_t VM_FAULT_NOPAGE = 0x000100;
inline constexpr vm_fault_t VM_FAULT_LOCKED = 0x000200;
inline constexpr vm_fault_t VM_FAULT_RETRY = 0x000400;
inline constexpr vm_fault_t VM_FAULT_FALLBACK = 0x000800;
inline constexpr vm_fault_t VM_FAULT_DONE_COW = 0x001000;
inline constexpr vm_fault_t VM_FAULT_NEEDDSYNC = 0x002000;
inline constexpr vm_fault_t VM_FAULT_COMPLETED = 0x004000;
inline constexpr vm_fault_t VM_FAULT_ERROR = VM_FAULT_OOM | VM_FAULT_SIGBUS | VM_FAULT_SIGSEGV |
                                             VM_FAULT_HWPOISON | VM_FAULT_HWPOISON_LARGE;

inline constexpr int DEFAULT_MAX_MAP_COUNT = 65530;
inline constexpr unsigned int GUP_PIN_COUNTING_BIAS = 1U << 10;

// ---- the fault descriptor (include/linux/mm.h struct vm_fault) ----
struct vm_fault {
  vm_area_struct* vma;
  gfp_t gfp_mask;
  pgoff_t pgoff;
  unsigned long address;       // faulting address, page aligned
  unsigned long real_address;  // faulting address as given
  unsigned int flags;          // FAULT_FLAG_*
  pmd_t* pmd;
  pud_t* pud;
  pmd_t orig_pmd;              // the huge pmd a fault found (mm/huge_memory.cc)
  pte_t orig_pte;
  struct page* cow_page;       // do_cow_fault: the private copy being filled
  struct page* page;           // ->fault's result (locked, with a reference)
  pte_t* pte;                  // the PTE slot, mapped
  spinlock_t* ptl;
  struct page* prealloc_pte;   // pgtable_t: a PTE table allocated before ->fault
};

// ---- what a mapping does on faults (include/linux/mm.h struct vm_operations_struct) ----
// Anonymous VMAs have none (vm_ops == null); file, shmem and special mappings do.
struct vm_operations_struct {
  void (*open)(vm_area_struct* area);   // a copy of the VMA was made (split, fork)
  void (*close)(vm_area_struct* area);  // the VMA is going away
  // Find (or create) the page for vmf->pgoff: sets vmf->page with a reference, locked if
  // VM_FAULT_LOCKED is returned; or installs PTEs itself and returns VM_FAULT_NOPAGE.
  vm_fault_t (*fault)(vm_fault* vmf);
  // A read-only shared page is about to become writable (writenotify).
  vm_fault_t (*page_mkwrite)(vm_fault* vmf);
  vm_fault_t (*pfn_mkwrite)(vm_fault* vmf);
  const char* (*name)(vm_area_struct* vma);  // "[vvar]" ...
  // Fault-around: map the page-cache pages of [start_pgoff, end_pgoff] that are ready,
  // without I/O; VM_FAULT_NOPAGE if that mapped the faulting page. (Last here, so that
  // positional initializers need not name it; Linux has it after ->huge_fault.)
  vm_fault_t (*map_pages)(vm_fault* vmf, pgoff_t start_pgoff, pgoff_t end_pgoff);
  // May the VMA be split at addr? 0 or an errno (special mappings: -EINVAL). (Last
  // here too; Linux has it after ->close.)
  int (*may_split)(vm_area_struct* area, unsigned long addr);
};

// include/linux/mm_types.h: a kernel-provided mapping ([vvar], [vdso]).
struct vm_special_mapping {
  const char* name;
  struct page** pages;  // null: ->fault provides the pages
  vm_fault_t (*fault)(const vm_special_mapping* sm, vm_area_struct* vma, vm_fault* vmf);
};

// ---- mmap_lock (include/linux/mmap_lock.h) ----
inline void mmap_init_lock(mm_struct* mm) { init_rwsem(&mm->mmap_lock, "mmap_lock"); }
// The read side runs the rwsem entry points' single-path branches in place (mm/rwsem.h).
inline void mmap_read_lock(mm_struct* mm) { down_read_inline(&mm->mmap_lock); }
inline int mmap_read_lock_killable(mm_struct* mm) {
  return down_read_killable_inline(&mm->mmap_lock);
}
inline void mmap_read_unlock(mm_struct* mm) { up_read_inline(&mm->mmap_lock); }
// Take mmap_lock for reading unless a writer holds it or waits for it.
inline bool mmap_read_trylock(mm_struct* mm) { return down_read_trylock(&mm->mmap_lock) != 0; }
inline void mmap_write_lock(mm_struct* mm) { down_write(&mm->mmap_lock); }
inline int mmap_write_lock_killable(mm_struct* mm) { return down_write_killable(&mm->mmap_lock); }
inline void mmap_write_unlock(mm_struct* mm) { up_write(&mm->mmap_lock); }
inline void mmap_write_downgrade(mm_struct* mm) { downgrade_write(&mm->mmap_lock); }
inline void mmap_assert_locked(const mm_struct* mm) { BUG_ON(!rwsem_is_locked(&mm->mmap_lock)); }
inline void mmap_assert_write_locked(const mm_struct* mm) {
  BUG_ON(!rwsem_is_write_locked(&mm->mmap_lock));
}

// ---- struct page <-> pfn <-> address (include/asm-generic/memory_model.h, x86 page.h) ----
inline unsigned long page_to_pfn(const page* p) {
  return static_cast<unsigned long>(p - kst().mem_map);
}
inline page* pfn_to_page(unsigned long pfn) { return kst().mem_map + pfn; }
inline bool pfn_valid(unsigned long pfn) { return pfn < kst().max_pfn; }
inline unsigned long folio_pfn(const folio* f) { return page_to_pfn(f); }
// The direct map: the kernel's view of a physical address is the host mapping of the frame.
inline void* __va(unsigned long pa) { return kst().phys->ptr(hw::PhysAddr(pa)); }
inline unsigned long __pa(const void* va) {
  return static_cast<unsigned long>(static_cast<const uint8_t*>(va) -
                                    kst().phys->ptr(hw::PhysAddr(0)));
}
inline void* page_address(const page* p) {
  return kst().phys->frame(hw::Pfn(page_to_pfn(p)));
}
inline page* virt_to_page(const void* va) { return pfn_to_page(__pa(va) >> PAGE_SHIFT); }
inline void* folio_address(const folio* f) { return page_address(f); }
inline page* ZERO_PAGE(unsigned long /*vaddr*/) { return kst().zero_page; }
inline bool is_zero_pfn(unsigned long pfn) { return pfn == page_to_pfn(kst().zero_page); }
inline bool is_zero_page(const page* p) { return p == kst().zero_page; }
inline bool is_zero_folio(const folio* f) { return f == kst().zero_page; }

// ---- VMA lookup and helpers (mm/mmap.cc, mm/vma.cc) ----
vm_area_struct* find_vma(mm_struct* mm, unsigned long addr);   // first VMA with vm_end > addr
vm_area_struct* find_vma_prev(mm_struct* mm, unsigned long addr, vm_area_struct** pprev);
vm_area_struct* vma_lookup(mm_struct* mm, unsigned long addr);  // VMA containing addr, or null
vm_area_struct* find_vma_intersection(mm_struct* mm, unsigned long start, unsigned long end);
vm_area_struct* vma_next(mm_struct* mm, vm_area_struct* vma);  // DEVIATION: no vma_iterator
inline bool vma_is_anonymous(const vm_area_struct* vma) { return vma->vm_ops == nullptr; }
inline bool is_cow_mapping(vm_flags_t flags) { return (flags & (VM_SHARED | VM_MAYWRITE)) == VM_MAYWRITE; }
inline unsigned long vma_pages(const vm_area_struct* vma) {
  return (vma->vm_end - vma->vm_start) >> PAGE_SHIFT;
}
pgprot_t vm_get_page_prot(vm_flags_t vm_flags);  // the x86 protection map

// ---- mappings (mm/mmap.cc, mm/vma.cc, mm/mprotect.cc, mm/util.cc) ----
// Return the mapped address or a negative errno cast to unsigned long (IS_ERR_VALUE).
unsigned long vm_mmap_pgoff(file* file, unsigned long addr, unsigned long len,
                            unsigned long prot, unsigned long flag, unsigned long pgoff);
// mm/mmap.c: ksys_mmap_pgoff, mmap(2) below the arch entry. DEVIATION(mmap): the caller
// resolves the descriptor (fget) and passes its file, or null for MAP_ANONYMOUS.
unsigned long ksys_mmap_pgoff(file* file, unsigned long addr, unsigned long len,
                              unsigned long prot, unsigned long flags, unsigned long pgoff);
unsigned long do_mmap(file* file, unsigned long addr, unsigned long len, unsigned long prot,
                      unsigned long flags, vm_flags_t vm_flags, unsigned long pgoff,
                      unsigned long* populate);
// mm/mmap.c: mm_get_unmapped_area, the arch search (top-down) for current's mm.
unsigned long mm_get_unmapped_area(file* file, unsigned long addr, unsigned long len,
                                   unsigned long pgoff, unsigned long flags);
unsigned long get_unmapped_area(file* file, unsigned long addr, unsigned long len,
                                unsigned long pgoff, unsigned long flags);
int do_munmap(mm_struct* mm, unsigned long start, size_t len);
int vm_munmap(unsigned long start, size_t len);
int do_mprotect_pkey(unsigned long start, size_t len, unsigned long prot, int pkey);
// mm/madvise.c: madvise(2) on current's mm: the access-pattern advice (MADV_NORMAL,
// MADV_RANDOM, MADV_SEQUENTIAL), the fork advice (MADV_DONTFORK, MADV_DOFORK,
// MADV_WIPEONFORK, MADV_KEEPONFORK), MADV_DONTDUMP/DODUMP, MADV_MERGEABLE/UNMERGEABLE,
// MADV_HUGEPAGE/NOHUGEPAGE, MADV_DONTNEED(_LOCKED), MADV_FREE, MADV_COLD, MADV_PAGEOUT,
// MADV_WILLNEED and MADV_POPULATE_READ/WRITE; 0 or a negative errno.
int do_madvise(unsigned long start, size_t len_in, int behavior);
// mm/gup.c (mm/internal.h): fault in [start, end) of mm for MADV_POPULATE_(READ|WRITE),
// readable or (write) writable; mmap_lock held for reading, may be dropped (*locked = 0).
// The number of pages done, or -ENOMEM (no VMA), -EINVAL (a VMA that does not allow the
// access), -EFAULT (SIGBUS/SIGSEGV), -EHWPOISON, -EINTR.
long faultin_page_range(mm_struct* mm, unsigned long start, unsigned long end, bool write,
                        int* locked);
// ---- KSM (mm/ksm.cc: mm/ksm.c, include/linux/ksm.h) ----
// MADV_MERGEABLE / MADV_UNMERGEABLE on one VMA's flags (*vm_flags); 0 or a negative errno.
int ksm_madvise(vm_area_struct* vma, unsigned long start, unsigned long end, int advice,
                vm_flags_t* vm_flags);
// Register mm with KSM (MMF_VM_MERGEABLE). 0 or -ENOMEM.
int __ksm_enter(mm_struct* mm);
// dup_mmap: a child of a KSM-registered mm is registered too (best effort).
void ksm_fork(mm_struct* mm, mm_struct* oldmm);
// ---- mlock (mm/mlock.cc: mm/mlock.c) ----
// include/uapi/asm-generic/mman-common.h / mman.h. <sys/mman.h> defines these too.
static_assert(MCL_CURRENT == 1 && MCL_FUTURE == 2 && MCL_ONFAULT == 4, "MCL_*");
#ifndef MLOCK_ONFAULT
#define MLOCK_ONFAULT 0x01
#endif
static_assert(MLOCK_ONFAULT == 0x01, "MLOCK_ONFAULT");
// The syscalls on current's mm; each returns 0 or a negative errno.
int sys_mlock(unsigned long start, size_t len);
int sys_mlock2(unsigned long start, size_t len, int flags);
int sys_munlock(unsigned long start, size_t len);
int sys_mlockall(int flags);
int sys_munlockall();
// mm/mlock.c: may current lock memory at all (RLIMIT_MEMLOCK > 0 or CAP_IPC_LOCK)?
bool can_do_mlock();
// mm/mmap.c: may `bytes` more be locked in mm (when vm_flags has VM_LOCKED)?
bool mlock_future_ok(const mm_struct* mm, vm_flags_t vm_flags, unsigned long bytes);
// mm/mlock.c: a folio's mlock state. mlock_folio / munlock_folio for a folio mapped in
// (or unmapped from) a VM_LOCKED VMA; mlock_new_folio for a new folio going on the LRU.
void mlock_folio(folio* f);
void mlock_new_folio(folio* f);
void munlock_folio(folio* f);
// mm/internal.h: mlock_vma_folio / munlock_vma_folio, the rmap side: only VM_LOCKED VMAs
// (and never VM_SPECIAL ones) lock.
void mlock_vma_folio(folio* f, vm_area_struct* vma);
void munlock_vma_folio(folio* f, vm_area_struct* vma);
inline bool IS_ERR_VALUE(unsigned long x) { return x >= static_cast<unsigned long>(-MAX_ERRNO); }

// mm/memory.c (6.5+): mmap_lock held for reading and the VMA containing addr, or null
// with the lock dropped; an address just below a VM_GROWSDOWN VMA grows that stack.
vm_area_struct* lock_mm_and_find_vma(mm_struct* mm, unsigned long addr, struct pt_regs* regs);
// ---- faults (mm/memory.cc) ----
vm_fault_t handle_mm_fault(vm_area_struct* vma, unsigned long address, unsigned int flags,
                           struct pt_regs* regs);
page* vm_normal_page(vm_area_struct* vma, unsigned long addr, pte_t pte);
folio* vm_normal_folio(vm_area_struct* vma, unsigned long addr, pte_t pte);
int __pte_alloc(mm_struct* mm, pmd_t* pmd);
// mm/internal.h: install the preallocated PTE table *pte under an empty pmd (and clear
// *pte), unless someone else installed one meanwhile.
void pmd_install(mm_struct* mm, pmd_t* pmd, page** pte);
// include/linux/mm.h: map one page of folio f at addr through vmf->pte (locked), with the
// rmap and the dirty/writable bits a fault of vmf's kind gives it. RSS is the caller's.
void set_pte_range(vm_fault* vmf, folio* f, page* p, unsigned long addr);
int __pmd_alloc(mm_struct* mm, pud_t* pud, unsigned long address);
int __pud_alloc(mm_struct* mm, p4d_t* p4d, unsigned long address);
// include/linux/mm.h: what a zap is for. Null details (munmap, exit) zap everything;
// unmap_mapping_range (truncate) zaps the file's pages and, with even_cows, the private
// anonymous copies made of them.
struct zap_details {
  bool even_cows;  // zap COW-ed anonymous pages too
};
void zap_page_range_single(vm_area_struct* vma, unsigned long address, unsigned long size,
                           zap_details* details = nullptr);
void free_pgd_range(mm_struct* mm, unsigned long addr, unsigned long end,
                    unsigned long floor, unsigned long ceiling);
int anon_vma_prepare(vm_area_struct* vma);
// include/linux/rmap.h: rmap_t flags.
using rmap_t = int;
inline constexpr rmap_t RMAP_NONE = 0;
inline constexpr rmap_t RMAP_EXCLUSIVE = 1 << 0;  // the page is exclusive to this mapping
void folio_add_new_anon_rmap(folio* f, vm_area_struct* vma, unsigned long address,
                             rmap_t flags = RMAP_EXCLUSIVE);

// ---- the LRU lists (mm/swap.cc: mm/swap.c, include/linux/mm_inline.h) ----
struct lruvec;
enum lru_list : int;
bool folio_is_file_lru(const folio* f);
bool folio_evictable(const folio* f);
lru_list folio_lru_list(const folio* f);
void lruvec_add_folio(lruvec* lv, folio* f);
void lruvec_add_folio_tail(lruvec* lv, folio* f);
void lruvec_del_folio(lruvec* lv, folio* f);
void folio_add_lru(folio* f);
void folio_add_lru_vma(folio* f, vm_area_struct* vma);
void folio_activate(folio* f);
void __page_cache_release(folio* f);  // off the LRU at the last reference
void folio_add_anon_rmap_pte(folio* f, page* p, vm_area_struct* vma, unsigned long address,
                             rmap_t flags = RMAP_NONE);
void folio_remove_rmap_pte(folio* f, page* p, vm_area_struct* vma);
// mm/rmap.c: nr_pages consecutive pages of f from p lose a PTE mapping each, as one batch
// (a fully unmapped large folio is never queued for the deferred split on the way).
void folio_remove_rmap_ptes(folio* f, page* p, int nr_pages, vm_area_struct* vma);
// include/linux/mm.h: how many page-table entries map any page of the folio.
inline int folio_mapcount(const folio* f) {
  if (likely(!folio_test_large(f))) return atomic_read(&f->_mapcount) + 1;
  return folio_large_mapcount(f);
}
inline bool folio_mapped(const folio* f) { return folio_mapcount(f) > 0; }
// include/linux/mm.h (CONFIG_PAGE_MAPCOUNT): a page's PTE mappings, plus its folio's PMD
// mappings when it is part of a large folio.
inline int page_mapcount(const page* p) {
  int mapcount = atomic_read(&p->_mapcount) + 1;
  if (unlikely(PageCompound(p))) mapcount += folio_entire_mapcount(page_folio(p));
  return mapcount;
}

// ---- CONFIG_MM_ID: which mms map a large folio (include/linux/rmap.h, Linux 6.15+) ----
// TRANSPARENT_HUGEPAGE selects MM_ID. A large folio has two slots, each an mm id and that
// mm's mappings of the folio's pages (minus one); an mm with no slot free maps it
// untracked, and the folio's "maybe mapped shared" bit says some mapping is outside the
// slot that holds them all. Both slots may name mms that map it; the bit is exact only
// while at most two mms map the folio at once (fork, then the child exits or execs).
// Every change to _large_mapcount goes through folio_{set,add,sub}_large_mapcount.
//
// DEVIATION(mm): bit_spin_lock on the lock bit is a plain set and clear: no preemption
// point lies between folio_lock_large_mapcount and the unlock, so no other path can
// find it held (checked).
inline void folio_lock_large_mapcount(folio* f) {
  unsigned long* ids = &folio_tail2(f)->_mm_ids;
  VM_BUG_ON(test_bit(FOLIO_MM_IDS_LOCK_BITNUM, ids));
  set_bit(FOLIO_MM_IDS_LOCK_BITNUM, ids);
}
inline void folio_unlock_large_mapcount(folio* f) {
  clear_bit(FOLIO_MM_IDS_LOCK_BITNUM, &folio_tail2(f)->_mm_ids);  // __bit_spin_unlock
}
inline mm_id_t folio_mm_id(const folio* f, int idx) {
  VM_WARN_ON_ONCE(idx != 0 && idx != 1);
  return folio_tail2(f)->_mm_id[idx] & MM_ID_MASK;
}
inline void folio_set_mm_id(folio* f, int idx, mm_id_t id) {
  VM_WARN_ON_ONCE(idx != 0 && idx != 1);
  folio_tail2(f)->_mm_id[idx] &= ~MM_ID_MASK;
  folio_tail2(f)->_mm_id[idx] |= id;
}
// include/linux/rmap.h: what must hold before every update of the slots.
inline void __folio_large_mapcount_sanity_checks(const folio* f, int diff, mm_id_t mm_id) {
  const page* p2 = folio_tail2(f);
  VM_WARN_ON_ONCE(!folio_test_large(f));
  VM_WARN_ON_ONCE(diff <= 0);
  VM_WARN_ON_ONCE(mm_id < MM_ID_MIN || mm_id > MM_ID_MAX);
  // One whole PTE mapping of the folio by one mm must fit a slot's count.
  VM_WARN_ON_ONCE(diff > folio_nr_pages(f));
  VM_WARN_ON_ONCE(folio_nr_pages(f) - 1 > MM_ID_MAPCOUNT_MAX);
  VM_WARN_ON_ONCE(folio_mm_id(f, 0) == MM_ID_DUMMY && p2->_mm_id_mapcount[0] != -1);
  VM_WARN_ON_ONCE(folio_mm_id(f, 0) != MM_ID_DUMMY && p2->_mm_id_mapcount[0] < 0);
  VM_WARN_ON_ONCE(folio_mm_id(f, 1) == MM_ID_DUMMY && p2->_mm_id_mapcount[1] != -1);
  VM_WARN_ON_ONCE(folio_mm_id(f, 1) != MM_ID_DUMMY && p2->_mm_id_mapcount[1] < 0);
  VM_WARN_ON_ONCE(folio_large_mapcount(f) == 0 && folio_test_large_maybe_mapped_shared(f));
}
// include/linux/rmap.h: the first mappings of a new folio, all by vma's mm (slot 0).
inline void folio_set_large_mapcount(folio* f, int mapcount, vm_area_struct* vma) {
  __folio_large_mapcount_sanity_checks(f, mapcount, vma->vm_mm->mm_id);
  VM_WARN_ON_ONCE(folio_mm_id(f, 0) != MM_ID_DUMMY);
  VM_WARN_ON_ONCE(folio_mm_id(f, 1) != MM_ID_DUMMY);
  atomic_set(&folio_tail1(f)->_large_mapcount, mapcount - 1);  // mapcounts start at -1
  folio_tail2(f)->_mm_id_mapcount[0] = mapcount - 1;
  folio_set_mm_id(f, 0, vma->vm_mm->mm_id);
}
// include/linux/rmap.h: diff more mappings by vma's mm. Its slot grows; else it takes a
// free slot, and the folio is maybe shared if anything else maps it already. With no
// slot free the mappings go untracked (the other two mms hold the slots, so the bit is
// already set). Returns the new mapcount.
inline int folio_add_return_large_mapcount(folio* f, int diff, vm_area_struct* vma) {
  const mm_id_t mm_id = vma->vm_mm->mm_id;
  page* p2 = folio_tail2(f);
  folio_lock_large_mapcount(f);
  __folio_large_mapcount_sanity_checks(f, diff, mm_id);
  const int new_mapcount_val = atomic_read(&folio_tail1(f)->_large_mapcount) + diff;
  atomic_set(&folio_tail1(f)->_large_mapcount, new_mapcount_val);
  // (64-bit: a slot's count cannot overflow, so 32-bit Linux's recovery is not needed.)
  if (folio_mm_id(f, 0) == mm_id) {
    p2->_mm_id_mapcount[0] += diff;
  } else if (folio_mm_id(f, 1) == mm_id) {
    p2->_mm_id_mapcount[1] += diff;
  } else if (folio_mm_id(f, 0) == MM_ID_DUMMY) {
    folio_set_mm_id(f, 0, mm_id);
    p2->_mm_id_mapcount[0] = diff - 1;
    // Other mms may map it already.
    if (new_mapcount_val != diff - 1) p2->_mm_ids |= FOLIO_MM_IDS_SHARED_BIT;
  } else if (folio_mm_id(f, 1) == MM_ID_DUMMY) {
    folio_set_mm_id(f, 1, mm_id);
    p2->_mm_id_mapcount[1] = diff - 1;
    // Slot 0's mm certainly maps it too.
    p2->_mm_ids |= FOLIO_MM_IDS_SHARED_BIT;
  }
  folio_unlock_large_mapcount(f);
  return new_mapcount_val + 1;
}
inline void folio_add_large_mapcount(folio* f, int diff, vm_area_struct* vma) {
  (void)folio_add_return_large_mapcount(f, diff, vma);
}
// include/linux/rmap.h: diff fewer mappings by vma's mm. A slot that drops below zero
// (it was taken after some of the mm's mappings went untracked) is freed. When one slot
// then holds every mapping, the folio is exclusive again. Returns the new mapcount.
inline int folio_sub_return_large_mapcount(folio* f, int diff, vm_area_struct* vma) {
  const mm_id_t mm_id = vma->vm_mm->mm_id;
  page* p2 = folio_tail2(f);
  folio_lock_large_mapcount(f);
  __folio_large_mapcount_sanity_checks(f, diff, mm_id);
  const int new_mapcount_val = atomic_read(&folio_tail1(f)->_large_mapcount) - diff;
  atomic_set(&folio_tail1(f)->_large_mapcount, new_mapcount_val);
  for (int idx = 0; idx < 2; ++idx) {
    if (folio_mm_id(f, idx) != mm_id) continue;
    p2->_mm_id_mapcount[idx] -= diff;
    if (p2->_mm_id_mapcount[idx] >= 0) goto out;
    p2->_mm_id_mapcount[idx] = -1;
    folio_set_mm_id(f, idx, MM_ID_DUMMY);
    break;
  }
  // Unmapped altogether (-1): both slots are free, and it counts as exclusive.
  if (p2->_mm_id_mapcount[0] == new_mapcount_val || p2->_mm_id_mapcount[1] == new_mapcount_val)
    p2->_mm_ids &= ~FOLIO_MM_IDS_SHARED_BIT;
out:
  folio_unlock_large_mapcount(f);
  return new_mapcount_val + 1;
}
inline void folio_sub_large_mapcount(folio* f, int diff, vm_area_struct* vma) {
  (void)folio_sub_return_large_mapcount(f, diff, vma);
}
inline void folio_inc_large_mapcount(folio* f, vm_area_struct* vma) {
  folio_add_large_mapcount(f, 1, vma);
}
inline void folio_dec_large_mapcount(folio* f, vm_area_struct* vma) {
  folio_sub_large_mapcount(f, 1, vma);
}
// include/linux/mm.h: might another mm map this folio? Exact for a small folio (its
// mapcount); for a large one, false when at most one mapping exists, else the MM_ID bit,
// which may stay set after the sharing ended (three mms at once).
inline bool folio_maybe_mapped_shared(const folio* f) {
  const int mapcount = folio_mapcount(f);
  if (!folio_test_large(f)) return mapcount > 1;
  // One mapping means exclusive whatever the bit says (cheaper than fixing it on unmap).
  if (mapcount <= 1) return false;
  return folio_test_large_maybe_mapped_shared(f);
}

// ---- page-table allocation (include/linux/mm.h); mm/memory.cc does the work ----
// Each returns the entry for `address` at its level, allocating the table below it when
// the slot is empty; null (or, for pte_alloc, true) when the allocation failed.
inline p4d_t* p4d_alloc(mm_struct* /*mm*/, pgd_t* pgd, unsigned long address) {
  return p4d_offset(pgd, address);  // folded
}
inline pud_t* pud_alloc(mm_struct* mm, p4d_t* p4d, unsigned long address) {
  return (unlikely(p4d_none(*p4d)) && __pud_alloc(mm, p4d, address)) ? nullptr
                                                                     : pud_offset(p4d, address);
}
inline pmd_t* pmd_alloc(mm_struct* mm, pud_t* pud, unsigned long address) {
  return (unlikely(pud_none(*pud)) && __pmd_alloc(mm, pud, address)) ? nullptr
                                                                     : pmd_offset(pud, address);
}
inline bool pte_alloc(mm_struct* mm, pmd_t* pmd) {
  return unlikely(pmd_none(*pmd)) && __pte_alloc(mm, pmd);
}
// mm/memory.c: tear-down helpers. DEVIATION(mm): the maple-tree state Linux passes is an
// array of the VMAs being torn down, in address order.
void unmap_page_range(mmu_gather* tlb, vm_area_struct* vma, unsigned long addr, unsigned long end,
                      struct zap_details* details);  // mm/memory.c (the OOM reaper's)
void unmap_vmas(mmu_gather* tlb, vm_area_struct* const* vmas, int nr_vmas,
                unsigned long start_addr, unsigned long end_addr);
void free_pgtables(mmu_gather* tlb, vm_area_struct* const* vmas, int nr_vmas,
                   unsigned long floor, unsigned long ceiling);
// The Linux signature (the mm-only one above gathers and flushes by itself).
void free_pgd_range(mmu_gather* tlb, unsigned long addr, unsigned long end,
                    unsigned long floor, unsigned long ceiling);
inline pgoff_t linear_page_index(const vm_area_struct* vma, unsigned long address) {
  return ((address - vma->vm_start) >> PAGE_SHIFT) + vma->vm_pgoff;
}

// ---- VMA objects and rmap helpers (mm/vma_init.c, mm/vma.c, mm/rmap.c) ----
vm_area_struct* vm_area_alloc(mm_struct* mm);        // zeroed, vm_mm set; null on failure
vm_area_struct* vm_area_dup(vm_area_struct* orig);   // a copy (no anon_vma chains yet)
void vm_area_free(vm_area_struct* vma);
vm_area_struct* vma_prev(mm_struct* mm, vm_area_struct* vma);  // DEVIATION: no vma_iterator
// Insert / remove a VMA in mm->mm_mt (the maple tree); the caller keeps map_count.
void vma_iter_store(mm_struct* mm, vm_area_struct* vma);
void vma_iter_erase(mm_struct* mm, vm_area_struct* vma);
int split_vma(mm_struct* mm, vm_area_struct* vma, unsigned long addr, int new_below);
// mm/mmap.c: vm_page_prot from vm_flags, write-protected when the mapping wants to be
// told about the first write to each page (vma_wants_writenotify).
void vma_set_page_prot(vm_area_struct* vma);
bool vma_wants_writenotify(vm_area_struct* vma, pgprot_t vm_page_prot);
unsigned long calc_vm_prot_bits(unsigned long prot, unsigned long pkey);
unsigned long calc_vm_flag_bits(file* file, unsigned long flags);
void vm_stat_account(mm_struct* mm, vm_flags_t flags, long npages);
// mm/rmap.c: the anon_vma tree. clone: dst joins every anon_vma src is chained to;
// fork: that, plus a new anon_vma of its own (child of pvma's); unlink: leave them all,
// freeing the ones left empty. 0 or -ENOMEM.
int anon_vma_clone(vm_area_struct* dst, vm_area_struct* src);
int anon_vma_fork(vm_area_struct* vma, vm_area_struct* pvma);
void unlink_anon_vmas(vm_area_struct* vma);
// include/linux/rmap.h: the anon_vma lock, which is the root's rwsem (one lock per fork
// tree). Order (mm/rmap.c's header comment): mmap_lock -> folio lock -> i_mmap_rwsem ->
// anon_vma->rwsem -> page_table_lock / PTE lock; debug builds check the rwsem part
// (mm/lockdep.h: lock_order_check).
// mm/util.c: folio_anon_vma. The anon_vma an anon folio's mapping points to, or null for
// a folio that is not anon (no KSM or movable_ops tags in mmsim: the ANON bit decides).
inline anon_vma* folio_anon_vma(const folio* f) {
  const unsigned long mapping = reinterpret_cast<unsigned long>(f->mapping);
  if (!(mapping & PAGE_MAPPING_ANON)) return nullptr;
  return reinterpret_cast<anon_vma*>(mapping - PAGE_MAPPING_ANON);
}
inline void anon_vma_lock_write(anon_vma* av) { down_write(&av->root->rwsem); }
inline int anon_vma_trylock_write(anon_vma* av) { return down_write_trylock(&av->root->rwsem); }
inline void anon_vma_unlock_write(anon_vma* av) { up_write(&av->root->rwsem); }
inline void anon_vma_lock_read(anon_vma* av) { down_read(&av->root->rwsem); }
inline int anon_vma_trylock_read(anon_vma* av) { return down_read_trylock(&av->root->rwsem); }
inline void anon_vma_unlock_read(anon_vma* av) { up_read(&av->root->rwsem); }
// mm/rmap.c: the anon_vma of a mapped anon folio, read-locked; null if the folio is not
// mapped any more or (try_lock) the lock was busy (*contended set).
anon_vma* folio_lock_anon_vma_read(folio* f, bool try_lock, bool* contended);
// mm/rmap.c: rmap_walk_anon (reduced): fn(f, vma, address, arg) for every VMA chained to
// a mapped anon folio's anon_vma whose range covers the folio's index; stops when fn
// returns false or (until_unmapped) the folio is mapped nowhere. `locked` (the default,
// rmap_walk_locked): the caller holds the anon_vma lock or nothing else runs (debug_vm);
// else the walk takes it (folio_lock_anon_vma_read, with try_lock and *contended). VMAs
// for which `invalid_vma` (if given) returns true are skipped (rwc->invalid_vma).
void rmap_walk_anon(folio* f,
                    bool (*fn)(folio* f, vm_area_struct* vma, unsigned long address, void* arg),
                    void* arg, bool locked = true, bool try_lock = false,
                    bool* contended = nullptr, bool until_unmapped = false,
                    bool (*invalid_vma)(vm_area_struct* vma, void* arg) = nullptr);
// include/linux/mm_inline.h: vma_has_recency. Do accesses through this VMA say anything
// about what will be used again? Not after MADV_RANDOM or MADV_SEQUENTIAL: reclaim
// ignores its accessed bits (folio_referenced) and an unmap does not mark its pages
// accessed. (A file opened with POSIX_FADV_NOREUSE has none either: DEVIATION(mm), no
// fadvise(2) here, so FMODE_NOREUSE is never set.)
inline bool vma_has_recency(const vm_area_struct* vma) {
  if (vma->vm_flags & (VM_SEQ_READ | VM_RAND_READ)) return false;
  return true;
}
// mm/rmap.c: folio_referenced. Tests and clears the accessed bit of every PTE mapping the
// folio (through rmap; the TLB entry is flushed so the next access sets it again).
// Returns the number of mappings that were referenced, or -1 if i_mmap_rwsem was
// contended; *vm_flags gets the referencing VMAs' flags (VM_LOCKED: an mlocked mapping).
int folio_referenced(folio* f, int is_locked, vm_flags_t* vm_flags);
// mm/rmap.c (include/linux/rmap.h): fork's duplicate of one PTE mapping of an anon page;
// -EBUSY when the page may be pinned and must be copied instead.
int folio_try_dup_anon_rmap_pte(folio* f, page* p, vm_area_struct* dst_vma,
                                vm_area_struct* src_vma);
// The same for nr_pages consecutive pages of one folio (fork's batch of a large folio).
int folio_try_dup_anon_rmap_ptes(folio* f, page* p, int nr_pages, vm_area_struct* dst_vma,
                                 vm_area_struct* src_vma);
// mm/rmap.c: try_to_unmap. Reclaim's unmap of a locked folio from every page table (anon:
// swap PTEs naming folio->swap); the folio stays mapped where it could not be unmapped.
void try_to_unmap(folio* f);
// include/linux/rmap.h: file folios gain / duplicate / (folio_remove_rmap_pte) lose a
// PTE mapping.
void folio_add_file_rmap_pte(folio* f, page* p, vm_area_struct* vma);
void folio_dup_file_rmap_pte(folio* f, page* p);
// security/security.c -> security/commoncap.c: may current map at `addr`? Below
// kst().mmap_min_addr only with CAP_SYS_RAWIO. 0 or -EPERM.
int security_mmap_addr(unsigned long addr);
// security/min_addr.c: mmap_min_addr = max(dac_mmap_min_addr, CONFIG_LSM_MMAP_MIN_ADDR);
// the vm.mmap_min_addr sysctl handler calls it after a write.
inline constexpr unsigned long CONFIG_LSM_MMAP_MIN_ADDR = 65536;
struct kernel_state;
void update_mmap_min_addr(kernel_state* ks);
int cap_mmap_addr(unsigned long addr);
inline constexpr unsigned long stack_guard_gap = 256UL << PAGE_SHIFT;
inline constexpr unsigned long RLIMIT_STACK_DEFAULT = 8UL << 20;  // rlimit(RLIMIT_STACK)

// ---- fork (kernel/fork.c dup_mmap, now mm/mmap.c; mm/memory.c copy_page_range) ----
// Copy every VMA of oldmm into the new, empty mm (its page tables as copy_page_range
// says), then flush oldmm's TLBs (its writable private PTEs became read-only). Both mms'
// mmap_locks are taken for writing. 0 or a negative errno (mm then holds what was
// copied so far, and the caller tears it down).
int dup_mmap(mm_struct* mm, mm_struct* oldmm);
// Copy the page tables of src_vma into dst_vma (a copy in the child) where the child
// could not fault them in: private anonymous pages are shared read-only (COW) in both,
// possibly DMA-pinned ones copied at once. 0 or -ENOMEM.
int copy_page_range(vm_area_struct* dst_vma, vm_area_struct* src_vma);

// ---- stacks (mm/mmap.c) ----
// Grow a VM_GROWSDOWN vma down to cover `address` (page-aligned down), within
// stack_guard_gap of the VMA below and RLIMIT_STACK. mmap_lock held for writing.
// 0, -EFAULT (not a stack), -EPERM (below mmap_min_addr) or -ENOMEM.
int expand_downwards(vm_area_struct* vma, unsigned long address);
int expand_stack_locked(vm_area_struct* vma, unsigned long address);
// mmap_lock held for reading on entry: the VMA covering addr after growing a stack down
// to it (lock still held for reading), or null with the lock released.
vm_area_struct* expand_stack(mm_struct* mm, unsigned long addr);

// ---- special mappings (mm/mmap.c, mm/memory.c) ----
// A VMA [addr, addr+len) with vm_flags | VM_DONTEXPAND whose pages come from `spec`;
// ERR_PTR on failure. mmap_lock held for writing.
vm_area_struct* _install_special_mapping(mm_struct* mm, unsigned long addr, unsigned long len,
                                         unsigned long vm_flags, const vm_special_mapping* spec);
// Insert a raw-pfn PTE (special) into a VM_PFNMAP VMA: VM_FAULT_NOPAGE or VM_FAULT_OOM.
vm_fault_t vmf_insert_pfn(vm_area_struct* vma, unsigned long addr, unsigned long pfn);
// arch/x86/entry/vdso/vma.c: a [vvar] mapping (VM_IO|VM_PFNMAP, one read-only page) in
// current's mm at addr (a hint; 0: anywhere). The address or -errno (IS_ERR_VALUE).
unsigned long map_vvar(unsigned long addr);

// ---- RSS counters (include/linux/mm.h) ----
inline unsigned long get_mm_counter(mm_struct* mm, int member) {
  return static_cast<unsigned long>(atomic_long_read(&mm->rss_stat.count[member]));
}
inline void add_mm_counter(mm_struct* mm, int member, long value) {
  atomic_long_add(value, &mm->rss_stat.count[member]);
}
inline void inc_mm_counter(mm_struct* mm, int member) { add_mm_counter(mm, member, 1); }
inline void dec_mm_counter(mm_struct* mm, int member) { add_mm_counter(mm, member, -1); }
inline int mm_counter_file(folio* f) { return PageSwapBacked(f) ? MM_SHMEMPAGES : MM_FILEPAGES; }
inline int mm_counter(folio* f) { return PageAnon(f) ? MM_ANONPAGES : mm_counter_file(f); }
inline unsigned long get_mm_rss(mm_struct* mm) {
  return get_mm_counter(mm, MM_FILEPAGES) + get_mm_counter(mm, MM_ANONPAGES) +
         get_mm_counter(mm, MM_SHMEMPAGES);
}

// ---- mm lifetime (kernel/fork.cc) ----
mm_struct* mm_alloc();
void mmput(mm_struct* mm);   // drop mm_users; the last one tears the address space down
void mmdrop(mm_struct* mm);  // drop mm_count; the last one frees the struct
inline void mmget(mm_struct* mm) { atomic_inc(&mm->mm_users); }
inline void mmgrab(mm_struct* mm) { atomic_inc(&mm->mm_count); }
// include/linux/sched/mm.h: the reference a lazy-TLB CPU's kernel thread holds on the mm
// it borrowed (x86: CONFIG_MMU_LAZY_TLB_REFCOUNT, a plain mm_count reference).
inline void mmgrab_lazy_tlb(mm_struct* mm) { mmgrab(mm); }
inline void mmdrop_lazy_tlb(mm_struct* mm) { mmdrop(mm); }
mm_struct* get_task_mm(task_struct* task);
mm_struct* mm_access(task_struct* task, unsigned int mode);
void exit_mmap(mm_struct* mm);
inline int get_dumpable(const mm_struct* mm) { return static_cast<int>(mm->flags & MMF_DUMPABLE_MASK); }
void set_dumpable(mm_struct* mm, int value);

// ---- GUP (mm/gup.cc) ----
long pin_user_pages_remote(mm_struct* mm, unsigned long start, unsigned long nr_pages,
                           unsigned int gup_flags, page** pages, int* locked);
long get_user_pages_remote(mm_struct* mm, unsigned long start, unsigned long nr_pages,
                           unsigned int gup_flags, page** pages, int* locked);
// mm/memory.c: copy len bytes between buf and mm at addr the way /proc/PID/mem and
// ptrace(PEEKDATA) do: page by page through get_user_pages_remote (faulting pages in;
// FOLL_FORCE reaches PROT_NONE and, for writes, read-only private mappings), growing a
// stack below addr if needed. Returns the bytes transferred (0: nothing, e.g. no VMA).
// The caller holds a reference on mm (mmget) and no mmap_lock.
int access_remote_vm(mm_struct* mm, unsigned long addr, void* buf, int len,
                     unsigned int gup_flags);
void unpin_user_pages_dirty_lock(page** pages, unsigned long npages, bool make_dirty);
void unpin_user_pages(page** pages, unsigned long npages);
void unpin_user_page(page* p);
int __mm_populate(unsigned long start, unsigned long len, int ignore_errors);
inline void mm_populate(unsigned long addr, unsigned long len) { (void)__mm_populate(addr, len, 1); }
// include/linux/mm.h: a large folio counts pins exactly in _pincount; a small one can only
// guess from a refcount of GUP_PIN_COUNTING_BIAS or more.
inline bool folio_maybe_dma_pinned(const folio* f) {
  if (folio_test_large(f)) return atomic_read(&folio_tail1(f)->_pincount) > 0;
  return static_cast<unsigned int>(atomic_read(&f->_refcount)) >= GUP_PIN_COUNTING_BIAS;
}

}  // namespace kernel

#endif  // MMSIM_MM_MM_H_
