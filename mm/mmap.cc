// mm/mmap.cc: VMA lookup, mmap, munmap, stack expansion, fork's VMA copy, special
// mappings and address-space teardown.
//
// Port of mm/mmap.c at Linux 6.18 (find_vma, find_vma_prev, vma_lookup,
// find_vma_intersection, do_mmap, __get_unmapped_area, unmapped_area_topdown,
// mmap_region / __mmap_region, vma_wants_writenotify, vma_set_page_prot, do_munmap,
// vm_munmap, expand_downwards / acct_stack_growth / expand_stack_locked / expand_stack,
// _install_special_mapping, exit_mmap, vm_stat_account), of dup_mmap (kernel/fork.c
// until 6.14, mm/mmap.c since), of arch/x86/kernel/sys_x86_64.c
// (arch_get_unmapped_area_topdown) and of arch/x86/mm/pgprot.c (the protection map,
// vm_get_page_prot); also ksys_mmap_pgoff, round_hint_to_min, unmapped_area and
// arch_get_unmapped_area (the bottom-up fallback), special_mapping_split.
//
// Deviations (grep "DEVIATION(mmap)"):
//  - The top-down gap search walks the VMA tree downwards from mmap_base (the maple tree
//    keeps per-node gap sizes and does it in O(log n)); see unmapped_area_topdown.
//  - No personality (READ_IMPLIES_EXEC), no pkey_mprotect, no RLIMIT_AS, no VM accounting, no
//    RLIMIT_MEMLOCK check when a locked stack grows, no mmap randomisation, no
//    MAP_DROPPABLE/MAP_SYNC/MAP_32BIT placement.
//  - No hugetlbfs and an empty huge page pool: MAP_HUGETLB fails after the checks that
//    precede the reservation (hugetlb_mmap_empty_pool), -ENOMEM even with MAP_NORESERVE.
//  - RLIMIT_STACK is fixed at its default, 8 MiB (RLIMIT_STACK_DEFAULT).
//  - dup_mmap copies VMA by VMA into an empty tree (Linux first duplicates the whole maple
//    tree with __mt_dup, and on failure marks where it stopped); on failure the new mm
//    holds exactly the VMAs copied so far.
#include "mm/vma.h"

#include <climits>

#include "mm/arch/x86/pkeys.h"
#include "mm/fs.h"
#include "mm/huge_mm.h"
#include "mm/sched_hooks.h"
#include "mm/trace.h"

namespace kernel {

// ---- lookup ----

// mm/mmap.c: the first VMA with vm_end > addr, or null.
vm_area_struct* find_vma(mm_struct* mm, unsigned long addr) {
  auto& mt = mm->mm_mt;
  auto it = mt.upper_bound(addr);  // first vm_start > addr
  if (it != mt.begin()) {
    auto prev = std::prev(it);
    if (prev->second->vm_end > addr) return prev->second;
  }
  return it == mt.end() ? nullptr : it->second;
}

// mm/mmap.c
vm_area_struct* find_vma_prev(mm_struct* mm, unsigned long addr, vm_area_struct** pprev) {
  vm_area_struct* vma = find_vma(mm, addr);
  auto& mt = mm->mm_mt;
  if (vma != nullptr) {
    auto it = mt.find(vma->vm_start);
    *pprev = it == mt.begin() ? nullptr : std::prev(it)->second;
  } else {
    *pprev = mt.empty() ? nullptr : std::prev(mt.end())->second;
  }
  return vma;
}

// include/linux/mm.h: the VMA containing addr, or null.
vm_area_struct* vma_lookup(mm_struct* mm, unsigned long addr) {
  vm_area_struct* vma = find_vma(mm, addr);
  if (vma && addr < vma->vm_start) return nullptr;
  return vma;
}

// mm/mmap.c: the first VMA intersecting [start, end), or null.
vm_area_struct* find_vma_intersection(mm_struct* mm, unsigned long start, unsigned long end) {
  vm_area_struct* vma = find_vma(mm, start);
  if (vma && end <= vma->vm_start) return nullptr;
  return vma;
}

// include/linux/mm.h (vma_next over a vma_iterator).
vm_area_struct* vma_next(mm_struct* mm, vm_area_struct* vma) {
  auto it = mm->mm_mt.upper_bound(vma->vm_start);
  return it == mm->mm_mt.end() ? nullptr : it->second;
}

// include/linux/mm.h (vma_prev over a vma_iterator).
vm_area_struct* vma_prev(mm_struct* mm, vm_area_struct* vma) {
  auto it = mm->mm_mt.lower_bound(vma->vm_start);
  if (it == mm->mm_mt.begin()) return nullptr;
  return std::prev(it)->second;
}

// ---- protections and flags ----

namespace {
// arch/x86/mm/pgprot.c: protection_map, indexed by VM_READ|VM_WRITE|VM_EXEC|VM_SHARED.
// Private writable pages map read-only: the first write breaks COW.
const pgprot_t protection_map[16] = {
    PAGE_NONE,          PAGE_READONLY,      PAGE_COPY,          PAGE_COPY,
    PAGE_READONLY_EXEC, PAGE_READONLY_EXEC, PAGE_COPY_EXEC,     PAGE_COPY_EXEC,
    PAGE_NONE,          PAGE_READONLY,      PAGE_SHARED,        PAGE_SHARED,
    PAGE_READONLY_EXEC, PAGE_READONLY_EXEC, PAGE_SHARED_EXEC,   PAGE_SHARED_EXEC,
};

// __supported_pte_mask: without EFER.NXE the XD bit is reserved, so it must not be used.
pteval_t supported_pte_mask() {
  const kernel_state& ks = kst();
  if (!ks.cpus.empty() && !(ks.cpus[0]->efer() & hw::Cpu::kEferNxe)) return ~_PAGE_NX;
  return ~0ULL;
}
}  // namespace

// arch/x86/mm/pgprot.c
pgprot_t vm_get_page_prot(vm_flags_t vm_flags) {
  pteval_t val = pgprot_val(protection_map[vm_flags & (VM_READ | VM_WRITE | VM_EXEC | VM_SHARED)]);
  // CONFIG_X86_INTEL_MEMORY_PROTECTION_KEYS: the VMA's 4 key bits become the PTE's.
  if (vm_flags & VM_PKEY_BIT0) val |= _PAGE_PKEY_BIT0;
  if (vm_flags & VM_PKEY_BIT1) val |= _PAGE_PKEY_BIT1;
  if (vm_flags & VM_PKEY_BIT2) val |= _PAGE_PKEY_BIT2;
  if (vm_flags & VM_PKEY_BIT3) val |= _PAGE_PKEY_BIT3;
  if (val & _PAGE_PRESENT) val &= supported_pte_mask();
  return __pgprot(val);
}

// mm/mmap.c: does this mapping want write faults on pages that are already present (to
// track dirtying, e.g. for writeback)? Then vm_page_prot is kept read-only.
bool vma_wants_writenotify(vm_area_struct* vma, pgprot_t vm_page_prot) {
  const vm_flags_t vm_flags = vma->vm_flags;
  const vm_operations_struct* vm_ops = vma->vm_ops;
  // If it was private or non-writable, the write bit is already clear.
  if ((vm_flags & (VM_WRITE | VM_SHARED)) != (VM_WRITE | VM_SHARED)) return false;
  // The backer wishes to know when pages are first written to?
  if (vm_ops && (vm_ops->page_mkwrite || vm_ops->pfn_mkwrite)) return true;
  // The open routine did something to the protections that pgprot_modify won't preserve?
  if (pgprot_val(vm_page_prot) != pgprot_val(vm_get_page_prot(vm_flags))) return false;
  // Specialty mapping?
  if (vm_flags & VM_PFNMAP) return false;
  // Can the mapping track the dirty pages? (mapping_can_writeback)
  return vma->vm_file && vma->vm_file->f_mapping && vma->vm_file->f_mapping->a_ops &&
         vma->vm_file->f_mapping->a_ops->writepage;
}

// mm/mmap.c
void vma_set_page_prot(vm_area_struct* vma) {
  vm_flags_t vm_flags = vma->vm_flags;
  pgprot_t vm_page_prot = vm_get_page_prot(vm_flags);  // vm_pgprot_modify
  if (vma_wants_writenotify(vma, vm_page_prot)) {
    vm_flags &= ~VM_SHARED;
    vm_page_prot = vm_get_page_prot(vm_flags);
  }
  vma->vm_page_prot = vm_page_prot;
}

// include/linux/mman.h
unsigned long calc_vm_prot_bits(unsigned long prot, unsigned long pkey) {
  return ((prot & PROT_READ) ? VM_READ : 0) | ((prot & PROT_WRITE) ? VM_WRITE : 0) |
         ((prot & PROT_EXEC) ? VM_EXEC : 0) | arch_calc_vm_prot_bits(prot, pkey);
}

// include/linux/mman.h
unsigned long calc_vm_flag_bits(file* /*file*/, unsigned long flags) {
  return ((flags & MAP_GROWSDOWN) ? VM_GROWSDOWN : 0) | ((flags & MAP_LOCKED) ? VM_LOCKED : 0);
}

// mm/mmap.c
void vm_stat_account(mm_struct* mm, vm_flags_t flags, long npages) {
  mm->total_vm += npages;
  if ((flags & (VM_EXEC | VM_WRITE | VM_STACK)) == VM_EXEC)
    mm->exec_vm += npages;
  else if ((flags & VM_STACK) == VM_STACK)
    mm->stack_vm += npages;
  else if ((flags & (VM_WRITE | VM_SHARED | VM_STACK)) == VM_WRITE)
    mm->data_vm += npages;
}

// ---- choosing an address ----

namespace {
constexpr unsigned long SIZE_128M = 128UL << 20;

unsigned long mm_task_size(const mm_struct* mm) { return mm->task_size ? mm->task_size : TASK_SIZE; }
// arch/x86/mm/mmap.c: mmap_base without randomisation (the minimum 128 MiB stack gap).
// DEVIATION(mmap): used when the mm's creator left mmap_base at 0.
unsigned long mm_mmap_base(const mm_struct* mm) {
  return mm->mmap_base ? mm->mmap_base : (mm_task_size(mm) - SIZE_128M) & PAGE_MASK;
}

// include/linux/mm.h: vm_start_gap / vm_end_gap (the stack guard gap below GROWSDOWN).
unsigned long vm_start_gap(const vm_area_struct* vma) {
  unsigned long vm_start = vma->vm_start;
  if (vma->vm_flags & VM_GROWSDOWN) {
    vm_start -= stack_guard_gap;
    if (vm_start > vma->vm_start) vm_start = 0;
  }
  return vm_start;
}
unsigned long vm_end_gap(const vm_area_struct* vma) { return vma->vm_end; }

// mm/mmap.c: unmapped_area_topdown. The highest gap of `length` bytes between low_limit
// and high_limit, honouring guard gaps; -ENOMEM if none.
unsigned long unmapped_area_topdown(mm_struct* mm, unsigned long length, unsigned long low_limit,
                                    unsigned long high_limit) {
  // Never below vm.mmap_min_addr, whatever the caller's capabilities.
  if (low_limit < kst().mmap_min_addr) low_limit = kst().mmap_min_addr;
  if (high_limit < length || low_limit > high_limit - length)
    return static_cast<unsigned long>(-ENOMEM);
  auto& mt = mm->mm_mt;
  // Start with the gap that ends at (or below) high_limit.
  auto it = mt.lower_bound(high_limit);  // first VMA starting at or above high_limit
  unsigned long gap_end = high_limit;
  if (it != mt.end()) gap_end = std::min(gap_end, vm_start_gap(it->second));
  for (;;) {
    unsigned long gap_start = low_limit;
    if (it != mt.begin()) gap_start = std::max(gap_start, vm_end_gap(std::prev(it)->second));
    if (gap_end >= gap_start && gap_end - gap_start >= length) return gap_end - length;
    if (it == mt.begin()) break;
    --it;
    gap_end = std::min(high_limit, vm_start_gap(it->second));
    if (gap_end < low_limit + length) break;
  }
  return static_cast<unsigned long>(-ENOMEM);
}

// mm/mmap.c: unmapped_area. The lowest gap of `length` bytes between low_limit and
// high_limit, honouring guard gaps; -ENOMEM if none.
unsigned long unmapped_area(mm_struct* mm, unsigned long length, unsigned long low_limit,
                            unsigned long high_limit) {
  if (low_limit < kst().mmap_min_addr) low_limit = kst().mmap_min_addr;
  if (high_limit < length || low_limit > high_limit - length)
    return static_cast<unsigned long>(-ENOMEM);
  auto& mt = mm->mm_mt;
  // The VMA that ends above low_limit, if any, bounds the first gap.
  auto it = mt.upper_bound(low_limit);
  unsigned long gap_start = low_limit;
  if (it != mt.begin()) gap_start = std::max(gap_start, vm_end_gap(std::prev(it)->second));
  for (;;) {
    unsigned long gap_end = high_limit;
    if (it != mt.end()) gap_end = std::min(gap_end, vm_start_gap(it->second));
    if (gap_start <= high_limit - length && gap_end >= gap_start &&
        gap_end - gap_start >= length)
      return gap_start;
    if (it == mt.end()) break;
    gap_start = std::max(gap_start, vm_end_gap(it->second));
    if (gap_start > high_limit - length) break;
    ++it;
  }
  return static_cast<unsigned long>(-ENOMEM);
}

// arch/x86/include/asm/processor.h: TASK_UNMAPPED_BASE, where the legacy (bottom-up)
// layout starts: a third of the 47-bit user window. DEVIATION(mmap): no randomisation,
// so mmap_legacy_base is this value.
constexpr unsigned long TASK_UNMAPPED_BASE = (DEFAULT_MAP_WINDOW / 3 + PAGE_SIZE - 1) & PAGE_MASK;

// arch/x86/kernel/sys_x86_64.c: arch_get_unmapped_area, the bottom-up search
// (find_start_end for a 64-bit task without MAP_32BIT: [mmap_legacy_base, the window)).
unsigned long arch_get_unmapped_area(mm_struct* mm, unsigned long addr, unsigned long len,
                                     unsigned long flags) {
  if (flags & MAP_FIXED) return addr;
  const unsigned long begin = TASK_UNMAPPED_BASE;
  const unsigned long end = addr > DEFAULT_MAP_WINDOW ? TASK_SIZE : DEFAULT_MAP_WINDOW;
  if (len > end) return static_cast<unsigned long>(-ENOMEM);
  if (addr) {
    addr = (addr + PAGE_SIZE - 1) & PAGE_MASK;
    vm_area_struct* vma = find_vma(mm, addr);
    if (end - len >= addr && (vma == nullptr || addr + len <= vm_start_gap(vma))) return addr;
  }
  return unmapped_area(mm, len, begin, end);
}

// arch/x86/kernel/sys_x86_64.c: mmap_address_hint_valid.
bool mmap_address_hint_valid(unsigned long addr, unsigned long len) {
  if (TASK_SIZE - len < addr) return false;
  return (addr > DEFAULT_MAP_WINDOW) == (addr + len > DEFAULT_MAP_WINDOW);
}

// arch/x86/kernel/sys_x86_64.c: arch_get_unmapped_area_topdown.
unsigned long arch_get_unmapped_area_topdown(mm_struct* mm, unsigned long addr0,
                                             unsigned long len, unsigned long flags) {
  unsigned long addr = addr0;
  if (len > TASK_SIZE) return static_cast<unsigned long>(-ENOMEM);
  if (flags & MAP_FIXED) return addr;
  if (addr) {
    addr &= PAGE_MASK;
    if (mmap_address_hint_valid(addr, len)) {
      vm_area_struct* vma = find_vma(mm, addr);
      if (vma == nullptr || addr + len <= vm_start_gap(vma)) return addr;
    }
  }
  unsigned long a = unmapped_area_topdown(mm, len, PAGE_SIZE, mm_mmap_base(mm));
  if (!(a & ~PAGE_MASK)) return a;
  VM_BUG_ON(a != static_cast<unsigned long>(-ENOMEM));
  // bottomup: a failed mmap very likely kills the program, so look again, lowest gap
  // first, from TASK_UNMAPPED_BASE up (the legacy layout's search).
  return arch_get_unmapped_area(mm, addr0, len, flags);
}
}  // namespace

// mm/mmap.c: mm_get_unmapped_area (-> mm_get_unmapped_area_vmflags; every mm here is
// top-down).
unsigned long mm_get_unmapped_area(file* /*file*/, unsigned long addr, unsigned long len,
                                   unsigned long /*pgoff*/, unsigned long flags) {
  return arch_get_unmapped_area_topdown(current()->mm, addr, len, flags);
}

// mm/mmap.c: __get_unmapped_area. An unhinted private anonymous mapping whose length is
// a multiple of 2 MiB is placed on a 2 MiB boundary when there is room (6.7+), so that
// it can be mapped by THPs. DEVIATION(mmap): files have no ->get_unmapped_area here, so
// file mappings are never THP-aligned (ext4's thp_get_unmapped_area would align some).
unsigned long get_unmapped_area(file* file, unsigned long addr, unsigned long len,
                                unsigned long pgoff, unsigned long flags) {
  mm_struct* mm = current()->mm;
  if (len > TASK_SIZE) return static_cast<unsigned long>(-ENOMEM);
  if (file == nullptr) pgoff = 0;  // always treat pgoff as zero for anonymous memory
  if (file == nullptr && !(flags & MAP_SHARED) && addr == 0 && (len & (PMD_SIZE - 1)) == 0)
    addr = thp_get_unmapped_area_vmflags(file, addr, len, pgoff, flags);
  else
    addr = mm_get_unmapped_area(file, addr, len, pgoff, flags);
  if (IS_ERR_VALUE(addr)) return addr;
  if (addr > mm_task_size(mm) - len) return static_cast<unsigned long>(-ENOMEM);
  if (addr & ~PAGE_MASK) return static_cast<unsigned long>(-EINVAL);
  // Below vm.mmap_min_addr only with CAP_SYS_RAWIO (cap_mmap_addr).
  int error = security_mmap_addr(addr);
  return error ? static_cast<unsigned long>(error) : addr;
}

// ---- mapping ----

// mm/mmap.c: mmap_region (6.12 __mmap_region).
static unsigned long mmap_region(file* file, unsigned long addr, unsigned long len,
                                 vm_flags_t vm_flags, unsigned long pgoff) {
  trace_call tc("mmap_region", "addr=%#lx len=%#lx flags=%#lx", addr, len, vm_flags);
  mm_struct* mm = current()->mm;
  unsigned long end = addr + len;
  unsigned long pglen = len >> PAGE_SHIFT;
  vma_munmap_struct vms;
  vm_area_struct* prev;
  vm_area_struct* next;
  int error;

  // Find the first overlapping VMA and prepare to unmap what the new mapping replaces.
  vm_area_struct* vma = vma_find(mm, addr, end);
  init_vma_munmap(&vms, mm, vma, addr, end);
  if (vma != nullptr) {
    error = vms_gather_munmap_vmas(&vms);
    if (error) return tc.ret(static_cast<unsigned long>(error));
    prev = vms.prev;
    next = vms.next;
  } else {
    next = find_vma_prev(mm, addr, &prev);
  }
  // Private writable anonymous memory would be VM_ACCOUNTed here.
  if (!(vm_flags & (VM_SHARED | VM_NORESERVE)) && (vm_flags & VM_WRITE)) vm_flags |= VM_ACCOUNT;

  // Clear the old mappings before the new VMA goes in (while the old VMAs are still on
  // i_mmap, so a racing truncation cannot miss their pages).
  vms_clean_up_area(&vms);

  // Attempt to extend a neighbour (same flags, same file at the next offset, or
  // anonymous memory with a compatible anon_vma); a file mapping merged this way is
  // not ->mmap'ed again: the neighbour already was. (New shmem never merges: its file
  // does not exist yet.)
  vma = nullptr;
  if (prev || next) vma = vma_merge_new_range(mm, prev, next, addr, end, vm_flags, file, pgoff);
  if (vma == nullptr) {
    vma = vm_area_alloc(mm);
    if (vma == nullptr) {
      vms_abort_munmap_vmas(&vms);
      return tc.ret(static_cast<unsigned long>(-ENOMEM));
    }
    vma->vm_start = addr;
    vma->vm_end = end;
    vma->vm_pgoff = pgoff;
    vma->vm_flags = vm_flags;
    vma->vm_page_prot = vm_get_page_prot(vm_flags);
    if (file != nullptr) {
      vma->vm_file = get_file(file);
      error = file->f_op->mmap(file, vma);  // mmap_file
      if (error) {
        // unmap_and_free_file_vma: nothing was mapped by our ->mmap methods.
        fput(vma->vm_file);
        vma->vm_file = nullptr;
        vm_area_free(vma);
        vms_abort_munmap_vmas(&vms);
        return tc.ret(static_cast<unsigned long>(error));
      }
      vm_flags = vma->vm_flags;
    } else if (vm_flags & VM_SHARED) {
      error = shmem_zero_setup(vma);
      if (error) {
        vm_area_free(vma);
        vms_abort_munmap_vmas(&vms);
        return tc.ret(static_cast<unsigned long>(error));
      }
    } else {
      vma->vm_file = nullptr;  // vma_set_anonymous
      vma->vm_ops = nullptr;
    }
    vma_iter_store(mm, vma);
    mm->map_count++;
    vma_link_file(vma);
  }
  vms_complete_munmap_vmas(&vms);
  vm_stat_account(mm, vm_flags, static_cast<long>(pglen));
  // __mmap_complete: a locked mapping counts in locked_vm (special ones are never locked).
  if (vm_flags & VM_LOCKED) {
    if (vm_flags & VM_SPECIAL)
      vma->vm_flags &= ~VM_LOCKED_MASK;  // vm_flags_clear
    else
      mm->locked_vm += pglen;
  }
  vma_set_page_prot(vma);
  return tc.ret(addr);
}

// include/linux/fs.h / mm/mmap.c: file_mmap_ok. Would [pgoff, pgoff + len) run past the
// largest offset the file can have?
static bool file_mmap_ok(file* /*file*/, inode* inode, unsigned long pgoff, unsigned long len) {
  // file_mmap_size_max: MAX_LFS_FILESIZE for regular files.
  unsigned long long maxsize = S_ISREG(inode->i_mode) ? static_cast<unsigned long long>(LLONG_MAX)
                                                      : 0;
  if (maxsize && len > maxsize) return false;
  maxsize -= len;
  if (pgoff > maxsize >> PAGE_SHIFT) return false;
  return true;
}

// mm/mmap.c: do_mmap. The caller holds mmap_lock for writing.
unsigned long do_mmap(file* file, unsigned long addr, unsigned long len, unsigned long prot,
                      unsigned long flags, vm_flags_t vm_flags, unsigned long pgoff,
                      unsigned long* populate) {
  trace_call tc("do_mmap", "addr=%#lx len=%#lx prot=%#lx flags=%#lx%s", addr, len, prot, flags,
                file != nullptr ? " file" : "");
  mm_struct* mm = current()->mm;
  *populate = 0;
  mmap_assert_write_locked(mm);
  if (len == 0) return tc.ret(static_cast<unsigned long>(-EINVAL));

  if (flags & MAP_FIXED_NOREPLACE) flags |= MAP_FIXED;
  if (!(flags & MAP_FIXED)) {
    // round_hint_to_min
    addr &= PAGE_MASK;
    if (addr && addr < kst().mmap_min_addr)
      addr = (kst().mmap_min_addr + PAGE_SIZE - 1) & PAGE_MASK;  // PAGE_ALIGN
  }
  unsigned long aligned = (len + PAGE_SIZE - 1) & PAGE_MASK;
  if (aligned == 0 || aligned < len) return tc.ret(static_cast<unsigned long>(-ENOMEM));
  len = aligned;
  if (pgoff + (len >> PAGE_SHIFT) < pgoff) return tc.ret(static_cast<unsigned long>(-EOVERFLOW));
  // Too many mappings? (Strictly greater, as in Linux: the count may reach limit + 1.)
  if (mm->map_count > kst().sysctl_max_map_count) return tc.ret(static_cast<unsigned long>(-ENOMEM));

  addr = get_unmapped_area(file, addr, len, pgoff, flags);
  if (IS_ERR_VALUE(addr)) return tc.ret(addr);
  if (flags & MAP_FIXED_NOREPLACE) {
    if (find_vma_intersection(mm, addr, addr + len))
      return tc.ret(static_cast<unsigned long>(-EEXIST));
  }
  int pkey = 0;
  if (prot == PROT_EXEC) {
    pkey = execute_only_pkey(mm);
    if (pkey < 0) pkey = 0;
  }
  vm_flags |= calc_vm_prot_bits(prot, static_cast<unsigned long>(pkey)) |
              calc_vm_flag_bits(file, flags) | mm->def_flags |
              VM_MAYREAD | VM_MAYWRITE | VM_MAYEXEC;
  if (flags & MAP_LOCKED)
    if (!can_do_mlock()) return tc.ret(static_cast<unsigned long>(-EPERM));
  if (!mlock_future_ok(mm, vm_flags, len)) return tc.ret(static_cast<unsigned long>(-EAGAIN));

  if (file != nullptr) {
    inode* inode = file_inode(file);
    if (!file_mmap_ok(file, inode, pgoff, len))
      return tc.ret(static_cast<unsigned long>(-EOVERFLOW));
    // No simfs file supports MAP_SYNC (FOP_MMAP_SYNC): only the legacy flags.
    const unsigned long flags_mask = LEGACY_MAP_MASK;
    switch (flags & MAP_TYPE) {
      case MAP_SHARED:
        // Plain MAP_SHARED ignores flags it does not know (old programs pass junk);
        // MAP_SHARED_VALIDATE refuses them.
        flags &= LEGACY_MAP_MASK;
        [[fallthrough]];
      case MAP_SHARED_VALIDATE:
        if (flags & ~flags_mask) return tc.ret(static_cast<unsigned long>(-EOPNOTSUPP));
        if (prot & PROT_WRITE) {
          // A shared writable mapping writes the file: the file must be open for writing.
          if (!(file->f_mode & FMODE_WRITE)) return tc.ret(static_cast<unsigned long>(-EACCES));
        }
        vm_flags |= VM_SHARED | VM_MAYSHARE;
        // Never writable later either (mprotect checks VM_MAYWRITE).
        if (!(file->f_mode & FMODE_WRITE)) vm_flags &= ~(VM_MAYWRITE | VM_SHARED);
        [[fallthrough]];
      case MAP_PRIVATE:
        if (!(file->f_mode & FMODE_READ)) return tc.ret(static_cast<unsigned long>(-EACCES));
        if (file->f_op->mmap == nullptr) return tc.ret(static_cast<unsigned long>(-ENODEV));
        if (vm_flags & VM_GROWSDOWN) return tc.ret(static_cast<unsigned long>(-EINVAL));
        break;
      default:
        return tc.ret(static_cast<unsigned long>(-EINVAL));
    }
  } else {
    // MAP_SHARED_VALIDATE is not an anonymous mapping type: it falls to -EINVAL.
    switch (flags & MAP_TYPE) {
      case MAP_SHARED:
        if (vm_flags & VM_GROWSDOWN) return tc.ret(static_cast<unsigned long>(-EINVAL));
        pgoff = 0;  // ignored: the shmem object starts at the mapping
        vm_flags |= VM_SHARED | VM_MAYSHARE;
        break;
      case MAP_PRIVATE:
        pgoff = addr >> PAGE_SHIFT;  // anon_vma needs a linear pgoff
        break;
      default:
        return tc.ret(static_cast<unsigned long>(-EINVAL));
    }
  }
  if (flags & MAP_NORESERVE) vm_flags |= VM_NORESERVE;  // overcommit is allowed

  addr = mmap_region(file, addr, len, vm_flags, pgoff);
  if (!IS_ERR_VALUE(addr) &&
      ((vm_flags & VM_LOCKED) || (flags & (MAP_POPULATE | MAP_NONBLOCK)) == MAP_POPULATE))
    *populate = len;
  return tc.ret(addr);
}

namespace {
// include/linux/hugetlb.h: hstate_sizelog, as the page shift of the hstate (0: none). The
// 2 MiB hstate is the default one (sizelog 0); a CPU with 1 GiB pages adds the 1 GiB one
// (arch/x86/mm/hugetlbpage.c gigantic_pages_init).
unsigned int hstate_sizelog_shift(unsigned long page_size_log) {
  if (page_size_log == 0 || page_size_log == PMD_SHIFT) return PMD_SHIFT;
  if (page_size_log == PUD_SHIFT && kst().x86_feature_gbpages) return PUD_SHIFT;
  return 0;
}

// DEVIATION(mmap): there is no hugetlbfs and the huge page pool is empty (vm.nr_hugepages
// = 0, as on the host). Linux makes an anonymous hugetlbfs file (hugetlb_file_setup) and
// do_mmap maps it; the empty pool shows when hugetlbfs_file_mmap reserves the pages:
// -ENOMEM. This keeps the checks do_mmap and hugetlb_get_unmapped_area make before that
// point (length, alignment of a fixed address, the mapping type, MAP_SHARED_VALIDATE's
// flags) and then fails with -ENOMEM. With MAP_NORESERVE Linux reserves nothing and the
// mapping succeeds (its first touch gets SIGBUS); mmsim refuses it with -ENOMEM too.
unsigned long hugetlb_mmap_empty_pool(unsigned long addr, unsigned long len,
                                      unsigned long flags, unsigned int huge_page_shift) {
  if (!len) return static_cast<unsigned long>(-EINVAL);
  const unsigned long hpage_mask = ~((1UL << huge_page_shift) - 1);
  if ((flags & (MAP_FIXED | MAP_FIXED_NOREPLACE)) && (addr & ~hpage_mask))
    return static_cast<unsigned long>(-EINVAL);  // prepare_hugepage_range
  switch (flags & MAP_TYPE) {
    case MAP_SHARED:
    case MAP_PRIVATE:
      break;
    case MAP_SHARED_VALIDATE:
      if ((flags | MAP_FIXED) & ~LEGACY_MAP_MASK) return static_cast<unsigned long>(-EOPNOTSUPP);
      break;
    default:
      return static_cast<unsigned long>(-EINVAL);
  }
  return static_cast<unsigned long>(-ENOMEM);  // hugetlb_reserve_pages: the pool is empty
}
}  // namespace

// mm/mmap.c: ksys_mmap_pgoff.
unsigned long ksys_mmap_pgoff(file* file, unsigned long addr, unsigned long len,
                              unsigned long prot, unsigned long flags, unsigned long pgoff) {
  if (!(flags & MAP_ANONYMOUS)) {
    // No simfs file is a hugetlbfs file (is_file_hugepages).
    if (unlikely(flags & MAP_HUGETLB)) return static_cast<unsigned long>(-EINVAL);
  } else if (flags & MAP_HUGETLB) {
    const unsigned int shift = hstate_sizelog_shift((flags >> MAP_HUGE_SHIFT) & MAP_HUGE_MASK);
    if (!shift) return static_cast<unsigned long>(-EINVAL);
    const unsigned long hpage_size = 1UL << shift;
    len = (len + hpage_size - 1) & ~(hpage_size - 1);  // ALIGN(len, huge_page_size(hs))
    return hugetlb_mmap_empty_pool(addr, len, flags, shift);
  }
  return vm_mmap_pgoff(file, addr, len, prot, flags, pgoff);
}

// mm/mmap.c: do_munmap. The caller holds mmap_lock for writing.
int do_munmap(mm_struct* mm, unsigned long start, size_t len) {
  mmap_assert_write_locked(mm);
  return do_vmi_munmap(mm, start, len, false);
}

// mm/mmap.c: vm_munmap -> __vm_munmap.
int vm_munmap(unsigned long start, size_t len) {
  mm_struct* mm = current()->mm;
  if (mmap_write_lock_killable(mm)) return -EINTR;
  return do_vmi_munmap(mm, start, len, true);
}

// ---- stack expansion ----

// mm/mmap.c: mlock_future_ok. Would `bytes` more locked memory stay within
// RLIMIT_MEMLOCK (always, with CAP_IPC_LOCK or without VM_LOCKED)?
bool mlock_future_ok(const mm_struct* mm, vm_flags_t vm_flags, unsigned long bytes) {
  if (!(vm_flags & VM_LOCKED) || capable(CAP_IPC_LOCK)) return true;
  unsigned long locked_pages = bytes >> PAGE_SHIFT;
  locked_pages += mm->locked_vm;
  unsigned long limit_pages = rlimit(RLIMIT_MEMLOCK);
  limit_pages >>= PAGE_SHIFT;
  return locked_pages <= limit_pages;
}

// mm/mmap.c: acct_stack_growth. May the stack grow by `grow` pages to `size` bytes?
static int acct_stack_growth(vm_area_struct* /*vma*/, unsigned long size, unsigned long /*grow*/) {
  // may_expand_vm: DEVIATION(mmap): no RLIMIT_AS.
  // Stack limit test.
  if (size > RLIMIT_STACK_DEFAULT) return -ENOMEM;
  // mlock_future_ok, is_hugepage_only_range, security_vm_enough_memory_mm: nothing to
  // refuse here (no RLIMIT_MEMLOCK, no hugetlb, overcommit always agrees).
  return 0;
}

// mm/mmap.c: expand_downwards. The stack VMA grows down to `address`.
int expand_downwards(vm_area_struct* vma, unsigned long address) {
  mm_struct* mm = vma->vm_mm;
  int error = 0;
  if (!(vma->vm_flags & VM_GROWSDOWN)) return -EFAULT;
  mmap_assert_write_locked(mm);
  address &= PAGE_MASK;
  if (address < kst().mmap_min_addr) return -EPERM;  // FIRST_USER_ADDRESS is 0 on x86
  // Enforce stack_guard_gap: a growing stack keeps its distance from the VMA below
  // (unless that is a stack too, or inaccessible: a guard mapping).
  vm_area_struct* prev = vma_prev(mm, vma);
  if (prev) {
    if (!(prev->vm_flags & VM_GROWSDOWN) && (prev->vm_flags & VM_ACCESS_FLAGS) &&
        address - prev->vm_end < stack_guard_gap)
      return -ENOMEM;
    if (address < prev->vm_end) return -ENOMEM;  // the VMA below is in the way
  }
  // We must make sure the anon_vma is allocated.
  if (unlikely(anon_vma_prepare(vma))) return -ENOMEM;
  // We update the anon VMA tree (here: the VMA's range, which the rmap walks read).
  anon_vma_lock_write(vma->anon_vma);
  // Somebody else might have raced and expanded it already.
  if (address < vma->vm_start) {
    unsigned long size = vma->vm_end - address;
    unsigned long grow = (vma->vm_start - address) >> PAGE_SHIFT;
    error = -ENOMEM;
    if (grow <= vma->vm_pgoff) {
      error = acct_stack_growth(vma, size, grow);
      if (!error) {
        if (vma->vm_flags & VM_LOCKED) mm->locked_vm += grow;
        vm_stat_account(mm, vma->vm_flags, static_cast<long>(grow));
        // Overwrite the old entry in the tree: vm_start is its key.
        vma_iter_erase(mm, vma);
        vma->vm_start = address;
        vma->vm_pgoff -= grow;
        vma_iter_store(mm, vma);
        trace_event("expand_stack", "vma=[%#lx,%#lx) grow=%lu", vma->vm_start, vma->vm_end, grow);
      }
    }
  }
  anon_vma_unlock_write(vma->anon_vma);
  return error;
}

// mm/mmap.c (6.5+): expand_stack_locked, for a stack that grows down (x86 has no
// VM_GROWSUP).
int expand_stack_locked(vm_area_struct* vma, unsigned long address) {
  return expand_downwards(vma, address);
}

// mm/mmap.c (6.5+): expand_stack. Called with mmap_lock held for reading by a path that
// found no VMA at addr (access_remote_vm): drops it, takes it for writing, and grows the
// stack above addr down to it. Returns that VMA with the lock downgraded to reading, or
// null with the lock released.
vm_area_struct* expand_stack(mm_struct* mm, unsigned long addr) {
  vm_area_struct *vma, *prev;

  mmap_read_unlock(mm);
  if (mmap_write_lock_killable(mm)) return nullptr;

  vma = find_vma_prev(mm, addr, &prev);
  if (vma && vma->vm_start <= addr) goto success;

  // vma_expand_up(prev, addr): x86 has no VM_GROWSUP, so prev never grows.
  (void)prev;

  // vma_expand_down(vma, addr).
  if (vma && (vma->vm_flags & VM_GROWSDOWN) && !expand_downwards(vma, addr)) goto success;

  mmap_write_unlock(mm);
  return nullptr;

success:
  mmap_write_downgrade(mm);
  return vma;
}

// ---- fork ----

// kernel/fork.c (mm/mmap.c since 6.15): dup_mmap. Copy oldmm's VMAs into mm, sharing what
// can be shared (copy_page_range), then flush oldmm's TLBs: its writable private PTEs
// were just write-protected.
int dup_mmap(mm_struct* mm, mm_struct* oldmm) {
  trace_call tc("dup_mmap", "map_count=%d", oldmm->map_count);
  int retval = 0;
  if (mmap_write_lock_killable(oldmm)) return tc.ret(-EINTR);
  // Not linked in yet: no deadlock potential (mmap_write_lock_nested).
  mmap_write_lock(mm);
  mm->total_vm = oldmm->total_vm;
  mm->data_vm = oldmm->data_vm;
  mm->exec_vm = oldmm->exec_vm;
  mm->stack_vm = oldmm->stack_vm;
  for (const auto& [start, mpnt] : oldmm->mm_mt) {
    if (mpnt->vm_flags & VM_DONTCOPY) {
      vm_stat_account(mm, mpnt->vm_flags, -static_cast<long>(vma_pages(mpnt)));
      continue;
    }
    vm_area_struct* tmp = vm_area_dup(mpnt);
    if (tmp == nullptr) {
      retval = -ENOMEM;
      break;
    }
    tmp->vm_mm = mm;
    if (tmp->vm_flags & VM_WIPEONFORK) {
      // A clean slate in the child: no anon_vma until its first fault, no pages copied.
      tmp->anon_vma = nullptr;
    } else if (anon_vma_fork(tmp, mpnt)) {
      vm_area_free(tmp);
      retval = -ENOMEM;
      break;
    }
    tmp->vm_flags &= ~VM_LOCKED;  // vm_flags_clear(tmp, VM_LOCKED_MASK): mlock is not inherited
    if (tmp->vm_file != nullptr) {
      address_space* mapping = tmp->vm_file->f_mapping;
      get_file(tmp->vm_file);
      i_mmap_lock_write(mapping);
      // Insert tmp into the share list, just after mpnt.
      vma_interval_tree_insert_after(tmp, mpnt);
      i_mmap_unlock_write(mapping);
    }
    // The copy goes into the tree before its pages are copied: if the copy fails half
    // way, exit_mmap of the new mm tears down what was copied.
    vma_iter_store(mm, tmp);
    mm->map_count++;
    if (!(tmp->vm_flags & VM_WIPEONFORK)) retval = copy_page_range(tmp, mpnt);
    if (tmp->vm_ops && tmp->vm_ops->open) tmp->vm_ops->open(tmp);
    if (retval) break;
  }
  // arch_dup_mmap: the child has the parent's protection keys.
  if (!retval) {
    arch_dup_pkeys(oldmm, mm);
    ksm_fork(mm, oldmm);
  }
  mmap_write_unlock(mm);
  // The parent's TLBs may still allow writes through the PTEs fork write-protected.
  flush_tlb_mm(oldmm);
  mmap_write_unlock(oldmm);
  return tc.ret(retval);
}

// ---- special mappings ----

namespace {
// mm/mmap.c: special_mapping_fault. The pages come from the mapping's page array, or its
// own ->fault (the [vvar] kind, which inserts raw pfns).
vm_fault_t special_mapping_fault(vm_fault* vmf) {
  vm_area_struct* vma = vmf->vma;
  const vm_special_mapping* sm = static_cast<const vm_special_mapping*>(vma->vm_private_data);
  if (sm->fault) return sm->fault(sm, vmf->vma, vmf);
  page** pages = sm->pages;
  pgoff_t pgoff;
  for (pgoff = vmf->pgoff; pgoff && *pages; ++pages) pgoff--;
  if (*pages) {
    page* p = *pages;
    get_page(p);
    vmf->page = p;
    return 0;
  }
  return VM_FAULT_SIGBUS;
}

// mm/mmap.c: special_mapping_name.
const char* special_mapping_name(vm_area_struct* vma) {
  return static_cast<const vm_special_mapping*>(vma->vm_private_data)->name;
}

// mm/mmap.c: special_mapping_split. A special mapping is one piece: it cannot be split
// (munmap, mprotect or a MAP_FIXED mapping over part of it gets -EINVAL).
int special_mapping_split(vm_area_struct* /*vma*/, unsigned long /*addr*/) { return -EINVAL; }

// mm/mmap.c: special_mapping_vmops.
const vm_operations_struct special_mapping_vmops = {
    /*open=*/nullptr,
    /*close=*/nullptr,
    /*fault=*/special_mapping_fault,
    /*page_mkwrite=*/nullptr,
    /*pfn_mkwrite=*/nullptr,
    /*name=*/special_mapping_name,
    /*map_pages=*/nullptr,
    /*may_split=*/special_mapping_split,
};
}  // namespace

// mm/mmap.c: _install_special_mapping / __install_special_mapping / insert_vm_struct.
vm_area_struct* _install_special_mapping(mm_struct* mm, unsigned long addr, unsigned long len,
                                         unsigned long vm_flags, const vm_special_mapping* spec) {
  mmap_assert_write_locked(mm);
  vm_area_struct* vma = vm_area_alloc(mm);
  if (unlikely(vma == nullptr)) return ERR_PTR<vm_area_struct>(-ENOMEM);
  vma->vm_start = addr;
  vma->vm_end = addr + len;
  vma->vm_pgoff = 0;
  vma->vm_flags = (vm_flags | VM_DONTEXPAND | VM_SOFTDIRTY) & ~VM_LOCKED;
  vma->vm_page_prot = vm_get_page_prot(vma->vm_flags);
  vma->vm_ops = &special_mapping_vmops;
  vma->vm_private_data = const_cast<vm_special_mapping*>(spec);
  vma->anon_name = spec->name;  // DEVIATION(mmap): what /proc/PID/maps shows
  // insert_vm_struct
  if (find_vma_intersection(mm, vma->vm_start, vma->vm_end) ||
      mm->map_count >= kst().sysctl_max_map_count) {
    vm_area_free(vma);
    return ERR_PTR<vm_area_struct>(-ENOMEM);
  }
  vma_iter_store(mm, vma);
  mm->map_count++;
  vm_stat_account(mm, vma->vm_flags, static_cast<long>(len >> PAGE_SHIFT));
  return vma;
}

// mm/mmap.c: exit_mmap. The last user is gone: unmap everything, free every page table
// below the pgd, free the VMAs. The pgd itself goes with the mm (pgd_free in __mmdrop).
void exit_mmap(mm_struct* mm) {
  trace_call tc("exit_mmap", "map_count=%d", mm->map_count);
  mmap_write_lock(mm);
  std::vector<vm_area_struct*> vmas;
  vmas.reserve(mm->mm_mt.size());
  for (auto& [start, vma] : mm->mm_mt) vmas.push_back(vma);
  if (!vmas.empty()) {
    mmu_gather tlb;
    tlb_gather_mmu_fullmm(&tlb, mm);
    const int nr = static_cast<int>(vmas.size());
    unmap_vmas(&tlb, vmas.data(), nr, 0, ~0UL);
    free_pgtables(&tlb, vmas.data(), nr, 0, 0);  // FIRST_USER_ADDRESS, USER_PGTABLES_CEILING
    tlb_finish_mmu(&tlb);
  }
  int count = 0;
  for (vm_area_struct* vma : vmas) {
    remove_vma(vma);
    count++;
    cond_resched();
  }
  BUG_ON(count != mm->map_count);
  mm->mm_mt.clear();
  mm->map_count = 0;
  mm->total_vm = mm->data_vm = mm->exec_vm = mm->stack_vm = 0;
  mmap_write_unlock(mm);
}

}  // namespace kernel
