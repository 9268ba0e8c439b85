// mm/mm_types.h: struct page, struct vm_area_struct, struct mm_struct.
// Mirrors include/linux/mm_types.h (Linux 6.18), reduced to what this simulator needs.
//
// Deviations (grep "DEVIATION(mm_types)"):
//  - `folio` is an alias of `page`: a folio is its head page. Linux's struct folio overlays
//    the fields a large folio keeps in its first tail page (_folio_nr_pages, the order in
//    _flags_1, _large_mapcount, _entire_mapcount, _nr_pages_mapped, _pincount); here the
//    code reaches them through folio_tail1() (page[1]) explicitly; the CONFIG_MM_ID
//    slots (_mm_id_mapcount, _mm_ids), which Linux also keeps there, are in page[2]
//    (folio_tail2()) because page[1] has no words left. Only anonymous THPs
//    (order HPAGE_PMD_ORDER) are large; file and swap-cache folios are order 0.
//  - struct page's `private` field is spelled `private_` (C++ keyword).
//  - The maple tree mm->mm_mt is a B-tree map from vm_start to the VMA: the same ordered
//    lookups (find_vma, vma_next, vma_prev) at O(log n).
//  - No memcg, no NUMA (one node, one zone ZONE_NORMAL), no RCU.
//  - vm_area_struct::shared links the VMA into its file's i_mmap list (Linux: a node of
//    the i_mmap interval tree); see mm/fs.h.
#ifndef MMSIM_MM_MM_TYPES_H_
#define MMSIM_MM_MM_TYPES_H_

#include <bitset>

#include "absl/container/btree_map.h"
#include "mm/arch/x86/pgtable_types.h"
#include "mm/types.h"

namespace kernel {

struct address_space;
struct anon_vma;
struct file;
struct mm_struct;
struct vm_operations_struct;
struct user_namespace;

inline constexpr int NR_CPUS = 64;

// The page frame descriptor: one per simulated 4 KiB frame, all in one array (mem_map)
// indexed by PFN, so page_to_pfn and pfn_to_page are one subtraction and one addition.
// include/linux/mm_types.h: a swap entry, the type (device) and offset (slot) of a page
// on swap (see mm/swap.h for the layout and the PTE encoding).
struct swp_entry_t {
  unsigned long val;
};

// include/linux/mm_types.h (CONFIG_MM_ID, 64-bit): every mm gets an id (mm_alloc_id in
// kernel/fork.c) that a large folio records in one of its two slots while that mm maps
// some of its pages, so a write fault can tell "mapped by this mm alone" from "maybe
// mapped by several" without a walk (__wp_can_reuse_large_anon_folio).
using mm_id_mapcount_t = int;
inline constexpr int MM_ID_MAPCOUNT_MAX = 0x7fffffff;  // INT_MAX
using mm_id_t = unsigned int;
// init_mm (and any mm that never maps user pages) has the dummy id.
inline constexpr mm_id_t MM_ID_DUMMY = 0;
inline constexpr mm_id_t MM_ID_MIN = MM_ID_DUMMY + 1;
// The top bit of each _mm_id[] is not part of the id: folio->_mm_ids keeps the slot lock
// in _mm_id[0]'s and the "maybe mapped shared" flag in _mm_id[1]'s.
inline constexpr int MM_ID_BITS = static_cast<int>(sizeof(mm_id_t) * 8) - 1;
inline constexpr mm_id_t MM_ID_MASK = (1U << MM_ID_BITS) - 1;
inline constexpr mm_id_t MM_ID_MAX = MM_ID_MASK;
inline constexpr int FOLIO_MM_IDS_LOCK_BITNUM = MM_ID_BITS;
inline constexpr unsigned long FOLIO_MM_IDS_LOCK_BIT = 1UL << FOLIO_MM_IDS_LOCK_BITNUM;
inline constexpr int FOLIO_MM_IDS_SHARED_BITNUM = 2 * MM_ID_BITS + 1;
inline constexpr unsigned long FOLIO_MM_IDS_SHARED_BIT = 1UL << FOLIO_MM_IDS_SHARED_BITNUM;

struct page {
  unsigned long flags;  // PG_* bits, see mm/page-flags.h
  union {
    struct {                  // page cache, anonymous and buddy pages
      list_head lru;          // buddy: link in free_area[order].free_list
      address_space* mapping; // file: its address_space; anon: anon_vma | PAGE_MAPPING_ANON
      pgoff_t index;          // offset in mapping, in pages (anon: linear page index)
      union {
        unsigned long private_; // buddy: the order of the free block this page heads
        swp_entry_t swap;       // in the swap cache (PG_swapcache): the folio's slot
      };
    };
    struct {                  // tail pages of a large folio (PG_head on page[0])
      unsigned long compound_head;    // the head page's address | 1 (overlays lru.next)
      unsigned long _folio_nr_pages;  // page[1]: 2^order
      address_space* _tail_mapping;   // null on tail pages
      // page[1] only: the folio's mapping counts (each minus one, as _mapcount) and pins.
      atomic_t _large_mapcount;   // every PTE and PMD mapping of any of its pages
      atomic_t _entire_mapcount;  // PMD mappings of the whole folio
      atomic_t _nr_pages_mapped;  // pages mapped by PTEs (+ ENTIRELY_MAPPED while PMD-mapped)
      atomic_t _pincount;         // FOLL_PIN pins (a small folio counts them in _refcount)
    };
    struct {                  // page[2] of a large folio (Linux 6.18's second tail page)
      unsigned long _head_2;        // compound_head, as on every tail page
      // CONFIG_MM_ID: the two mm slots of the folio (see folio_add_large_mapcount in
      // mm/mm.h). DEVIATION(mm_types): Linux keeps them in page[1], whose words here
      // all hold other counts (_folio_nr_pages, the tail mapping); page[2] has room.
      mm_id_mapcount_t _mm_id_mapcount[2];  // each slot's mappings, minus one
      list_head _deferred_list;     // on the deferred split queue (overlays ->mapping)
      union {
        mm_id_t _mm_id[2];          // each slot's mm id (bit 31 of each: a flag)
        unsigned long _mm_ids;      // both, as one word for the lock and shared bits
      };
    };
    struct {                  // page-table pages (PGTY_table)
      unsigned long _pt_pad_1;
      unsigned long _pt_pad_2;
      mm_struct* pt_mm;       // the mm whose tables live here
      unsigned long _pt_pad_3;
      unsigned long pt_level; // DEVIATION(mm_types): 4=PGD .. 1=PTE, for debug_vm and views
    };
  };
  // Number of page-table entries mapping this page, minus one (-1: unmapped).
  atomic_t _mapcount;
  // References: mappings, page-cache, get_page users, and GUP_PIN_COUNTING_BIAS per pin.
  // Never touched directly outside mm/page_ref.h.
  atomic_t _refcount;
  // PGTY_* page type (buddy, table, zero ...), 0 for ordinary pages. Linux overlays this
  // with _mapcount; kept apart here for clarity, which still fits in 64 bytes.
  unsigned int page_type;
  // How many VM_LOCKED VMAs hold this folio mlocked while it is on the unevictable list.
  // DEVIATION(mm_types): Linux overlays it on lru.prev (its unevictable list is no list);
  // here it takes the spare word.
  unsigned int mlock_count;
};
static_assert(sizeof(page) == 64, "struct page must stay 64 bytes, as in Linux");
// The split (mm/huge_memory.cc) resets page[2]'s mm-id words as lru.prev and private_.
static_assert(offsetof(page, _mm_id_mapcount) == offsetof(page, lru.prev), "mm-id mapcounts");
static_assert(offsetof(page, _mm_ids) == offsetof(page, private_), "mm ids");

using folio = page;  // DEVIATION(mm_types): a folio is its head page (see above).
// include/linux/page-flags.h: _compound_head. A tail page stores its head's address with
// bit 0 set where every other page has an aligned list pointer or zero: one load and one
// test, so page_folio of a small page stays as cheap as the identity it used to be.
inline unsigned long _compound_head(const page* p) {
  const unsigned long head = p->compound_head;
  if (__builtin_expect(head & 1, 0)) return head - 1;
  return reinterpret_cast<unsigned long>(p);
}
inline page* compound_head(page* p) { return reinterpret_cast<page*>(_compound_head(p)); }
inline const page* compound_head(const page* p) {
  return reinterpret_cast<const page*>(_compound_head(p));
}
inline bool PageTail(const page* p) { return p->compound_head & 1; }
inline folio* page_folio(page* p) { return compound_head(p); }
inline const folio* page_folio(const page* p) { return compound_head(p); }
inline page* folio_page(folio* f, unsigned long n) { return f + n; }
// DEVIATION(mm_types): Linux's folio->_large_mapcount and friends live in page[1].
inline page* folio_tail1(folio* f) { return f + 1; }
inline const page* folio_tail1(const folio* f) { return f + 1; }
// The deferred split queue's link lives in page[2] as in Linux (folio->_deferred_list).
inline list_head* folio_deferred_list(folio* f) { return &(f + 2)->_deferred_list; }
// Where the mm-id slots live (page[2], see the DEVIATION at struct page).
inline page* folio_tail2(folio* f) { return f + 2; }
inline const page* folio_tail2(const folio* f) { return f + 2; }

// include/linux/rmap.h: an anon_vma, where anonymous pages point (page->mapping). One is
// made for a VMA's first anonymous fault; fork gives each child VMA a new one, whose
// parent is the parent VMA's, so the pages a process COWs belong to it alone while
// the pages it still shares stay findable from the parent's anon_vma.
struct anon_vma {
  anon_vma* root;      // the first of this fork tree (its rwsem locks the whole tree)
  rw_semaphore rwsem;  // W: changing the chains, R: walking them (only the root's is used)
  atomic_t refcount;   // 1 while its tree holds chains; +1 per descendant for the root
  unsigned long num_children;     // anon_vmas whose parent this is (a root counts itself)
  unsigned long num_active_vmas;  // VMAs whose ->anon_vma this is
  anon_vma* parent;               // the anon_vma this one was forked from (root: itself)
  // DEVIATION(mm_types): the anon_vma_chains linked to this anon_vma are a list (Linux:
  // an interval tree keyed by the VMAs' page offsets, rb_root).
  list_head rb_root;
};

// include/linux/rmap.h: one link between a VMA and an anon_vma its pages may belong to.
// A VMA is on the chains of its own anon_vma and of every ancestor's it inherited.
struct anon_vma_chain {
  struct vm_area_struct* vma;
  struct anon_vma* anon_vma;
  list_head same_vma;  // on vma->anon_vma_chain, newest first
  list_head rb;        // on anon_vma->rb_root (DEVIATION(mm_types): a list, see above)
};

// A contiguous range of one address space with one set of permissions and one backing.
struct vm_area_struct {
  unsigned long vm_start;  // first byte
  unsigned long vm_end;    // first byte after
  mm_struct* vm_mm;        // the address space it belongs to
  pgprot_t vm_page_prot;   // PTE bits for pages mapped here (from the protection map)
  vm_flags_t vm_flags;     // VM_* flags, see mm/mm.h
  // Serialised by mmap_lock and the anon_vma lock: every anon_vma_chain of this VMA.
  list_head anon_vma_chain;
  struct anon_vma* anon_vma;      // set on the first anonymous fault (anon_vma_prepare)
  const vm_operations_struct* vm_ops;  // null for anonymous memory
  unsigned long vm_pgoff;  // offset in the file (or vm_start >> PAGE_SHIFT for anon)
  file* vm_file;           // backing file, or null
  void* vm_private_data;
  const char* anon_name;   // "[stack]", "[vvar]" ... for /proc/PID/maps; null otherwise
  struct {
    list_head list;        // DEVIATION(mm_types): in vm_file->f_mapping->i_mmap (a list)
  } shared;
};

enum {
  MM_FILEPAGES,   // resident file-mapped pages
  MM_ANONPAGES,   // resident anonymous pages
  MM_SWAPENTS,    // swap PTEs (pages of this mm out on swap)
  MM_SHMEMPAGES,  // resident shmem pages
  NR_MM_COUNTERS
};

struct mm_rss_stat {
  atomic_long_t count[NR_MM_COUNTERS];
};

// arch/x86/include/asm/mmu.h
// (no LDT, LAM, or global ASIDs: INVLPGB is not modelled)
struct mm_context_t {
  // Unique, never reused (init_mm has 1): how a CPU recognises, in its ASID slots
  // (tlb_state::ctxs), an mm it ran before.
  u64 ctx_id;
  // Bumped by every flush of this mm (inc_mm_tlb_gen); a CPU whose ASID slot for the mm
  // holds an older value must flush before it trusts that ASID's TLB entries.
  atomic64_t tlb_gen;
  // jiffies after which a flush may also IPI CPUs that left the mm, to trim mm_cpumask.
  unsigned long next_trim_cpumask;
  // CONFIG_X86_INTEL_MEMORY_PROTECTION_KEYS: the protection keys this mm has allocated
  // (bit n: key n; key 0 always) and its execute-only key (-1: none yet).
  u16 pkey_allocation_map;
  s16 execute_only_pkey;
};

// mm->flags bits (include/linux/sched/coredump.h): the low two bits hold the dumpable mode.
inline constexpr int MMF_DUMPABLE_BITS = 2;
inline constexpr unsigned long MMF_DUMPABLE_MASK = (1UL << MMF_DUMPABLE_BITS) - 1;
enum { SUID_DUMP_DISABLE = 0, SUID_DUMP_USER = 1, SUID_DUMP_ROOT = 2 };
// Set the first time FOLL_PIN runs on an mm, never cleared (mm/gup.cc); fork consults it
// to copy possibly pinned anonymous pages eagerly instead of sharing them.
inline constexpr int MMF_HAS_PINNED = 27;
inline constexpr int MMF_OOM_SKIP = 21;    // the OOM killer should pass this mm by (reaped)
inline constexpr int MMF_OOM_VICTIM = 25;  // an OOM victim's mm
inline constexpr int MMF_VM_MERGEABLE = 16;  // KSM may merge identical pages (mm/ksm.cc)

// An address space.
struct mm_struct {
  // --- guarded by mmap_lock (held for writing to change, for reading to look) ---
  absl::btree_map<unsigned long, vm_area_struct*> mm_mt;  // vm_start -> VMA (maple tree)
  int map_count;               // number of VMAs
  unsigned long mmap_base;     // top of the top-down mmap area
  unsigned long task_size;     // TASK_SIZE for this mm
  unsigned long total_vm;      // pages mapped
  unsigned long locked_vm;     // pages in VM_LOCKED VMAs (VmLck), RLIMIT_MEMLOCK's measure
  vm_flags_t def_flags;        // added to every new VMA: VM_LOCKED after mlockall(MCL_FUTURE)
  atomic_long_t pinned_vm;
  unsigned long data_vm, exec_vm, stack_vm;
  unsigned long start_stack;
  rw_semaphore mmap_lock;

  // --- page tables, guarded by page_table_lock ---
  pgd_t* pgd;                  // top-level table, in simulated physical memory (direct map)
  page* pmd_huge_pte;          // PTE tables deposited by huge pmds (mm/huge_memory.cc)
  spinlock_t page_table_lock;
  atomic_long_t pgtables_bytes;

  // --- lifetime ---
  atomic_t mm_users;  // users of the address space (tasks, mm_access callers): mmput
  atomic_t mm_count;  // references to the struct itself: mmdrop

  mm_rss_stat rss_stat;
  unsigned long flags;  // MMF_* (dumpable in the low bits)
  const user_namespace* user_ns;
  std::bitset<NR_CPUS> cpu_bitmap;  // mm_cpumask(): CPUs that may cache this mm's translations
  mm_context_t context;
  struct task_struct* owner;  // DEVIATION(mm_types): for views only
  mm_id_t mm_id;  // CONFIG_MM_ID: MM_ID_MIN..MM_ID_MAX from mm_init to __mmdrop; init_mm: dummy
};

inline std::bitset<NR_CPUS>* mm_cpumask(mm_struct* mm) { return &mm->cpu_bitmap; }

}  // namespace kernel

#endif  // MMSIM_MM_MM_TYPES_H_
