// mm/mmap.cc: VMA lookup, mmap, munmap and address-space teardown.
//
// Port of mm/mmap.c at Linux 6.12 (find_vma, find_vma_prev, vma_lookup,
// find_vma_intersection, do_mmap, __get_unmapped_area, unmapped_area_topdown,
// mmap_region / __mmap_region, do_munmap, vm_munmap, exit_mmap, vm_stat_account), of
// arch/x86/kernel/sys_x86_64.c (arch_get_unmapped_area_topdown) and of
// arch/x86/mm/pgprot.c (the protection map, vm_get_page_prot).
//
// Deviations (grep "DEVIATION(mmap)"):
//  - Anonymous mappings only: MAP_SHARED|MAP_ANONYMOUS (shmem) is -EINVAL for now, and a
//    file argument is -ENODEV (file mappings arrive with a later issue).
//  - The top-down gap search walks the VMA tree downwards from mmap_base (the maple tree
//    keeps per-node gap sizes and does it in O(log n)); see unmapped_area_topdown.
//  - No personality (READ_IMPLIES_EXEC), no pkeys, no RLIMIT_AS/RLIMIT_MEMLOCK, no VM
//    accounting, no mmap randomisation.
#include "mm/vma.h"

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
  if (val & _PAGE_PRESENT) val &= supported_pte_mask();
  return __pgprot(val);
}

// include/linux/mman.h
unsigned long calc_vm_prot_bits(unsigned long prot, unsigned long /*pkey*/) {
  return ((prot & PROT_READ) ? VM_READ : 0) | ((prot & PROT_WRITE) ? VM_WRITE : 0) |
         ((prot & PROT_EXEC) ? VM_EXEC : 0);
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

// arch/x86/kernel/sys_x86_64.c: mmap_address_hint_valid.
bool mmap_address_hint_valid(unsigned long addr, unsigned long len) {
  if (TASK_SIZE - len < addr) return false;
  return (addr > DEFAULT_MAP_WINDOW) == (addr + len > DEFAULT_MAP_WINDOW);
}

// arch/x86/kernel/sys_x86_64.c: arch_get_unmapped_area_topdown.
unsigned long arch_get_unmapped_area_topdown(mm_struct* mm, unsigned long addr, unsigned long len,
                                             unsigned long flags) {
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
  // Bottom-up fallback (arch_get_unmapped_area) over the rest of the address space.
  return unmapped_area_topdown(mm, len, mm_mmap_base(mm), mm_task_size(mm));
}
}  // namespace

// mm/mmap.c: __get_unmapped_area.
unsigned long get_unmapped_area(file* /*file*/, unsigned long addr, unsigned long len,
                                unsigned long /*pgoff*/, unsigned long flags) {
  mm_struct* mm = current()->mm;
  if (len > TASK_SIZE) return static_cast<unsigned long>(-ENOMEM);
  addr = arch_get_unmapped_area_topdown(mm, addr, len, flags);
  if (IS_ERR_VALUE(addr)) return addr;
  if (addr > mm_task_size(mm) - len) return static_cast<unsigned long>(-ENOMEM);
  if (addr & ~PAGE_MASK) return static_cast<unsigned long>(-EINVAL);
  // security_mmap_addr -> cap_mmap_addr: below mmap_min_addr needs CAP_SYS_RAWIO.
  if (addr < mmap_min_addr) return static_cast<unsigned long>(-EPERM);
  return addr;
}

// ---- mapping ----

// mm/mmap.c: mmap_region (6.12 __mmap_region), anonymous private mappings.
static unsigned long mmap_region(file* file, unsigned long addr, unsigned long len,
                                 vm_flags_t vm_flags, unsigned long pgoff) {
  trace_call tc("mmap_region", "addr=%#lx len=%#lx flags=%#lx", addr, len, vm_flags);
  mm_struct* mm = current()->mm;
  unsigned long end = addr + len;
  unsigned long pglen = len >> PAGE_SHIFT;
  vma_munmap_struct vms;
  vm_area_struct* prev;
  vm_area_struct* next;

  // Find the first overlapping VMA and prepare to unmap what the new mapping replaces.
  vm_area_struct* vma = vma_find(mm, addr, end);
  init_vma_munmap(&vms, mm, vma, addr, end);
  if (vma != nullptr) {
    int error = vms_gather_munmap_vmas(&vms);
    if (error) return tc.ret(static_cast<unsigned long>(error));
    prev = vms.prev;
    next = vms.next;
  } else {
    next = find_vma_prev(mm, addr, &prev);
  }
  // Private writable anonymous memory would be VM_ACCOUNTed here.
  if (!(vm_flags & (VM_SHARED | VM_NORESERVE)) && (vm_flags & VM_WRITE)) vm_flags |= VM_ACCOUNT;

  // Clear the old mappings before the new VMA goes in.
  vms_clean_up_area(&vms);

  vma = vma_merge_new_range(mm, prev, next, addr, end, vm_flags, file, pgoff);
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
    vma->vm_file = nullptr;  // vma_set_anonymous
    vma->vm_ops = nullptr;
    vma_iter_store(mm, vma);
    mm->map_count++;
  }
  vms_complete_munmap_vmas(&vms);
  vm_stat_account(mm, vm_flags, static_cast<long>(pglen));
  vma_set_page_prot(vma);
  return tc.ret(addr);
}

// mm/mmap.c: do_mmap. The caller holds mmap_lock for writing.
unsigned long do_mmap(file* file, unsigned long addr, unsigned long len, unsigned long prot,
                      unsigned long flags, vm_flags_t vm_flags, unsigned long pgoff,
                      unsigned long* populate) {
  trace_call tc("do_mmap", "addr=%#lx len=%#lx prot=%#lx flags=%#lx", addr, len, prot, flags);
  mm_struct* mm = current()->mm;
  *populate = 0;
  mmap_assert_write_locked(mm);
  if (len == 0) return tc.ret(static_cast<unsigned long>(-EINVAL));
  // DEVIATION(mmap): file mappings arrive later.
  if (file != nullptr) return tc.ret(static_cast<unsigned long>(-ENODEV));

  if (flags & MAP_FIXED_NOREPLACE) flags |= MAP_FIXED;
  if (!(flags & MAP_FIXED)) {
    // round_hint_to_min
    addr &= PAGE_MASK;
    if (addr && addr < mmap_min_addr) addr = mmap_min_addr;
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
  vm_flags |= calc_vm_prot_bits(prot, 0) | calc_vm_flag_bits(file, flags) | VM_MAYREAD |
              VM_MAYWRITE | VM_MAYEXEC;

  switch (flags & MAP_TYPE) {
    case MAP_SHARED:
    case MAP_SHARED_VALIDATE:
      // DEVIATION(mmap): shared anonymous memory (shmem_zero_setup) is a later issue.
      return tc.ret(static_cast<unsigned long>(-EINVAL));
    case MAP_PRIVATE:
      pgoff = addr >> PAGE_SHIFT;  // anon_vma needs a linear pgoff
      break;
    default:
      return tc.ret(static_cast<unsigned long>(-EINVAL));
  }
  if (flags & MAP_NORESERVE) vm_flags |= VM_NORESERVE;  // overcommit is allowed

  addr = mmap_region(file, addr, len, vm_flags, pgoff);
  if (!IS_ERR_VALUE(addr) &&
      ((vm_flags & VM_LOCKED) || (flags & (MAP_POPULATE | MAP_NONBLOCK)) == MAP_POPULATE))
    *populate = len;
  return tc.ret(addr);
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

// mm/mmap.c: exit_mmap. The last user is gone: unmap everything, free every page table
// below the pgd, free the VMAs. The pgd itself goes with the mm (pgd_free in __mmdrop).
void exit_mmap(mm_struct* mm) {
  trace_call tc("exit_mmap", "map_count=%d", mm->map_count);
  // DEVIATION(mmap): no CPU may keep walking these tables (Linux: they run init_mm).
  tlb_mm_teardown(mm);
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
  }
  BUG_ON(count != mm->map_count);
  mm->mm_mt.clear();
  mm->map_count = 0;
  mm->total_vm = mm->data_vm = mm->exec_vm = mm->stack_vm = 0;
  mmap_write_unlock(mm);
}

}  // namespace kernel
