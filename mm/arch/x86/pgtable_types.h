// mm/arch/x86/pgtable_types.h: x86-64 page-table entry types and bits.
// Mirrors arch/x86/include/asm/pgtable_types.h and pgtable_64_types.h at Linux 6.18.
//
// Linux's names over hw/'s entry format: the bit positions are the SDM's, and a
// static_assert per bit ties each _PAGE_* constant to hw::PagingEntry so the two
// vocabularies can never drift. With 4-level paging the p4d level is folded into the pgd.
#ifndef MMSIM_MM_ARCH_X86_PGTABLE_TYPES_H_
#define MMSIM_MM_ARCH_X86_PGTABLE_TYPES_H_

#include <cstdint>

#include "hw/paging_entry.h"

namespace kernel {

using pteval_t = uint64_t;
using pmdval_t = uint64_t;
using pudval_t = uint64_t;
using p4dval_t = uint64_t;
using pgdval_t = uint64_t;
using pgprotval_t = uint64_t;

struct pte_t { pteval_t pte; };
struct pmd_t { pmdval_t pmd; };
struct pud_t { pudval_t pud; };
struct p4d_t { p4dval_t p4d; };
struct pgd_t { pgdval_t pgd; };
struct pgprot_t { pgprotval_t pgprot; };

inline constexpr int PAGE_SHIFT = 12;
inline constexpr unsigned long PAGE_SIZE = 1UL << PAGE_SHIFT;
inline constexpr unsigned long PAGE_MASK = ~(PAGE_SIZE - 1);

inline constexpr int PGDIR_SHIFT = 39;
inline constexpr int P4D_SHIFT = 39;
inline constexpr int PUD_SHIFT = 30;
inline constexpr int PMD_SHIFT = 21;
inline constexpr int PTRS_PER_PGD = 512;
inline constexpr int PTRS_PER_P4D = 1;  // folded
inline constexpr int PTRS_PER_PUD = 512;
inline constexpr int PTRS_PER_PMD = 512;
inline constexpr int PTRS_PER_PTE = 512;
inline constexpr unsigned long PGDIR_SIZE = 1UL << PGDIR_SHIFT;
inline constexpr unsigned long PGDIR_MASK = ~(PGDIR_SIZE - 1);
inline constexpr unsigned long P4D_SIZE = 1UL << P4D_SHIFT;
inline constexpr unsigned long P4D_MASK = ~(P4D_SIZE - 1);
inline constexpr unsigned long PUD_SIZE = 1UL << PUD_SHIFT;
inline constexpr unsigned long PUD_MASK = ~(PUD_SIZE - 1);
inline constexpr unsigned long PMD_SIZE = 1UL << PMD_SHIFT;
inline constexpr unsigned long PMD_MASK = ~(PMD_SIZE - 1);

inline constexpr int _PAGE_BIT_PRESENT = 0;
inline constexpr int _PAGE_BIT_RW = 1;
inline constexpr int _PAGE_BIT_USER = 2;
inline constexpr int _PAGE_BIT_PWT = 3;
inline constexpr int _PAGE_BIT_PCD = 4;
inline constexpr int _PAGE_BIT_ACCESSED = 5;
inline constexpr int _PAGE_BIT_DIRTY = 6;
inline constexpr int _PAGE_BIT_PSE = 7;
inline constexpr int _PAGE_BIT_PAT = 7;
inline constexpr int _PAGE_BIT_GLOBAL = 8;
inline constexpr int _PAGE_BIT_SOFTW1 = 9;
inline constexpr int _PAGE_BIT_SOFTW2 = 10;
inline constexpr int _PAGE_BIT_SOFTW3 = 11;
inline constexpr int _PAGE_BIT_PAT_LARGE = 12;
inline constexpr int _PAGE_BIT_SPECIAL = _PAGE_BIT_SOFTW1;
inline constexpr int _PAGE_BIT_SOFT_DIRTY = _PAGE_BIT_SOFTW3;
inline constexpr int _PAGE_BIT_SOFTW5 = 58;
// 6.6+ with CONFIG_X86_USER_SHADOW_STACK (as distribution kernels build): Write=0,Dirty=1
// means "shadow stack" to the CPU, so a write-protected dirty PTE keeps its dirtiness here.
inline constexpr int _PAGE_BIT_SAVED_DIRTY = _PAGE_BIT_SOFTW5;
inline constexpr int _PAGE_BIT_PROTNONE = _PAGE_BIT_GLOBAL;  // only when PRESENT is clear
inline constexpr int _PAGE_BIT_PKEY_BIT0 = 59;  // protection keys, 4 bits
inline constexpr int _PAGE_BIT_PKEY_BIT1 = 60;
inline constexpr int _PAGE_BIT_PKEY_BIT2 = 61;
inline constexpr int _PAGE_BIT_PKEY_BIT3 = 62;
inline constexpr int _PAGE_BIT_NX = 63;

inline constexpr pteval_t _PAGE_PRESENT = 1ULL << _PAGE_BIT_PRESENT;
inline constexpr pteval_t _PAGE_RW = 1ULL << _PAGE_BIT_RW;
inline constexpr pteval_t _PAGE_USER = 1ULL << _PAGE_BIT_USER;
inline constexpr pteval_t _PAGE_PWT = 1ULL << _PAGE_BIT_PWT;
inline constexpr pteval_t _PAGE_PCD = 1ULL << _PAGE_BIT_PCD;
inline constexpr pteval_t _PAGE_ACCESSED = 1ULL << _PAGE_BIT_ACCESSED;
inline constexpr pteval_t _PAGE_DIRTY = 1ULL << _PAGE_BIT_DIRTY;
inline constexpr pteval_t _PAGE_PSE = 1ULL << _PAGE_BIT_PSE;
inline constexpr pteval_t _PAGE_GLOBAL = 1ULL << _PAGE_BIT_GLOBAL;
inline constexpr pteval_t _PAGE_SPECIAL = 1ULL << _PAGE_BIT_SPECIAL;
inline constexpr pteval_t _PAGE_SOFT_DIRTY = 1ULL << _PAGE_BIT_SOFT_DIRTY;
inline constexpr pteval_t _PAGE_SAVED_DIRTY = 1ULL << _PAGE_BIT_SAVED_DIRTY;
inline constexpr pteval_t _PAGE_DIRTY_BITS = _PAGE_DIRTY | _PAGE_SAVED_DIRTY;
inline constexpr pteval_t _PAGE_PROTNONE = 1ULL << _PAGE_BIT_PROTNONE;
inline constexpr pteval_t _PAGE_PKEY_BIT0 = 1ULL << _PAGE_BIT_PKEY_BIT0;
inline constexpr pteval_t _PAGE_PKEY_BIT1 = 1ULL << _PAGE_BIT_PKEY_BIT1;
inline constexpr pteval_t _PAGE_PKEY_BIT2 = 1ULL << _PAGE_BIT_PKEY_BIT2;
inline constexpr pteval_t _PAGE_PKEY_BIT3 = 1ULL << _PAGE_BIT_PKEY_BIT3;
inline constexpr pteval_t _PAGE_PKEY_MASK =
    _PAGE_PKEY_BIT0 | _PAGE_PKEY_BIT1 | _PAGE_PKEY_BIT2 | _PAGE_PKEY_BIT3;
inline constexpr pteval_t _PAGE_NX = 1ULL << _PAGE_BIT_NX;

static_assert(_PAGE_PRESENT == hw::PagingEntry::kP);
static_assert(_PAGE_RW == hw::PagingEntry::kRW);
static_assert(_PAGE_USER == hw::PagingEntry::kUS);
static_assert(_PAGE_PWT == hw::PagingEntry::kPWT);
static_assert(_PAGE_PCD == hw::PagingEntry::kPCD);
static_assert(_PAGE_ACCESSED == hw::PagingEntry::kA);
static_assert(_PAGE_DIRTY == hw::PagingEntry::kD);
static_assert(_PAGE_PSE == hw::PagingEntry::kPS);
static_assert(_PAGE_GLOBAL == hw::PagingEntry::kG);
static_assert(_PAGE_NX == hw::PagingEntry::kXD);

// The physical-address field of an entry (bits 12..51).
inline constexpr int __PHYSICAL_MASK_SHIFT = 52;
inline constexpr pteval_t PTE_PFN_MASK = ((1ULL << __PHYSICAL_MASK_SHIFT) - 1) & PAGE_MASK;
inline constexpr pteval_t PTE_FLAGS_MASK = ~PTE_PFN_MASK;

// Bits a page-table (not leaf) entry gets: _PAGE_TABLE, and the kernel's _KERNPG_TABLE.
inline constexpr pteval_t _PAGE_TABLE =
    _PAGE_PRESENT | _PAGE_RW | _PAGE_USER | _PAGE_ACCESSED | _PAGE_DIRTY;
inline constexpr pteval_t _KERNPG_TABLE =
    _PAGE_PRESENT | _PAGE_RW | _PAGE_ACCESSED | _PAGE_DIRTY;

// Bits that survive pte_modify() (mprotect): everything but the protection bits.
inline constexpr pteval_t _PAGE_CHG_MASK = PTE_PFN_MASK | _PAGE_PCD | _PAGE_PWT | _PAGE_SPECIAL |
                                           _PAGE_ACCESSED | _PAGE_DIRTY_BITS | _PAGE_SOFT_DIRTY;

// The user protections of the x86 protection map (arch/x86/mm/pgprot.c).
inline constexpr pgprot_t PAGE_NONE = {_PAGE_PROTNONE | _PAGE_ACCESSED};
inline constexpr pgprot_t PAGE_SHARED = {_PAGE_PRESENT | _PAGE_RW | _PAGE_USER | _PAGE_ACCESSED |
                                         _PAGE_NX};
inline constexpr pgprot_t PAGE_SHARED_EXEC = {_PAGE_PRESENT | _PAGE_RW | _PAGE_USER |
                                              _PAGE_ACCESSED};
inline constexpr pgprot_t PAGE_COPY_NOEXEC = {_PAGE_PRESENT | _PAGE_USER | _PAGE_ACCESSED |
                                              _PAGE_NX};
inline constexpr pgprot_t PAGE_COPY_EXEC = {_PAGE_PRESENT | _PAGE_USER | _PAGE_ACCESSED};
inline constexpr pgprot_t PAGE_COPY = PAGE_COPY_NOEXEC;
inline constexpr pgprot_t PAGE_READONLY = {_PAGE_PRESENT | _PAGE_USER | _PAGE_ACCESSED | _PAGE_NX};
inline constexpr pgprot_t PAGE_READONLY_EXEC = {_PAGE_PRESENT | _PAGE_USER | _PAGE_ACCESSED};
inline constexpr pgprot_t PAGE_KERNEL = {_PAGE_PRESENT | _PAGE_RW | _PAGE_DIRTY | _PAGE_ACCESSED |
                                         _PAGE_GLOBAL | _PAGE_NX};

inline constexpr pgprotval_t pgprot_val(pgprot_t p) { return p.pgprot; }
inline constexpr pgprot_t __pgprot(pgprotval_t v) { return {v}; }
inline constexpr pteval_t pte_val(pte_t p) { return p.pte; }
inline constexpr pmdval_t pmd_val(pmd_t p) { return p.pmd; }
inline constexpr pudval_t pud_val(pud_t p) { return p.pud; }
inline constexpr p4dval_t p4d_val(p4d_t p) { return p.p4d; }
inline constexpr pgdval_t pgd_val(pgd_t p) { return p.pgd; }
inline constexpr pte_t __pte(pteval_t v) { return {v}; }
inline constexpr pmd_t __pmd(pmdval_t v) { return {v}; }
inline constexpr pud_t __pud(pudval_t v) { return {v}; }
inline constexpr p4d_t __p4d(p4dval_t v) { return {v}; }
inline constexpr pgd_t __pgd(pgdval_t v) { return {v}; }

// x86-64 user address-space limits (arch/x86/include/asm/page_64_types.h).
inline constexpr unsigned long TASK_SIZE_MAX = (1UL << 47) - PAGE_SIZE;  // 0x00007ffffffff000
inline constexpr unsigned long TASK_SIZE = TASK_SIZE_MAX;
inline constexpr unsigned long DEFAULT_MAP_WINDOW = (1UL << 47) - PAGE_SIZE;

}  // namespace kernel

#endif  // MMSIM_MM_ARCH_X86_PGTABLE_TYPES_H_
