// mm/arch/x86/vdso.cc: the [vvar] mapping.
//
// Port of the [vvar] half of arch/x86/entry/vdso/vma.c at Linux 6.18 (vvar_mapping,
// vvar_fault, map_vdso's _install_special_mapping call). [vvar] is the kernel's time
// data, mapped read-only into a process as raw page frames: VM_IO | VM_PFNMAP, so there
// is no struct page to pin, GUP refuses it (check_vma_flags: -EFAULT, which is what
// process_vm_readv reports), and fork copies its PTEs as they are.
//
// Deviations (grep "DEVIATION(vdso)"):
//  - Only [vvar], no [vdso] code image, and only when sim/ asks for it (map_vvar): new
//    processes do not get one by themselves.
//  - Of the four [vvar] pages only the first (the vvar data page) is backed; the pvclock,
//    hvclock and time-namespace pages fault with SIGBUS, as on bare metal without a
//    paravirtual clock or time namespace. The data page is a reserved page allocated on
//    first use and never freed; nothing writes the time into it.
#include "mm/mm.h"
#include "mm/trace.h"

namespace kernel {
namespace {

// arch/x86/include/asm/vvar.h: VVAR_NR_PAGES (vvar, pvclock, hvclock, timens).
inline constexpr unsigned long VVAR_NR_PAGES = 4;

// The vvar data page (__vvar_page in the kernel image).
page* vvar_page() {
  kernel_state& ks = kst();
  if (ks.vvar_page == nullptr) {
    page* p = alloc_page(GFP_KERNEL | __GFP_ZERO);
    if (p == nullptr) return nullptr;
    SetPageReserved(p);  // kernel image data: never freed, never a user page
    ks.vvar_page = p;
  }
  return ks.vvar_page;
}

// arch/x86/entry/vdso/vma.c: vvar_fault. Only the first page has something behind it.
vm_fault_t vvar_fault(const vm_special_mapping* /*sm*/, vm_area_struct* vma, vm_fault* vmf) {
  if (vmf->pgoff == 0) {
    page* p = vvar_page();
    if (p == nullptr) return VM_FAULT_OOM;
    return vmf_insert_pfn(vma, vmf->address, page_to_pfn(p));
  }
  return VM_FAULT_SIGBUS;
}

const vm_special_mapping vvar_mapping = {
    /*name=*/"[vvar]",
    /*pages=*/nullptr,
    /*fault=*/vvar_fault,
};

}  // namespace

// arch/x86/entry/vdso/vma.c: map_vdso, the [vvar] part.
unsigned long map_vvar(unsigned long addr) {
  mm_struct* mm = current()->mm;
  const unsigned long len = VVAR_NR_PAGES << PAGE_SHIFT;
  trace_call tc("map_vvar", "addr=%#lx", addr);
  if (mmap_write_lock_killable(mm)) return tc.ret(static_cast<unsigned long>(-EINTR));
  addr = get_unmapped_area(nullptr, addr, len, 0, 0);
  if (IS_ERR_VALUE(addr)) {
    mmap_write_unlock(mm);
    return tc.ret(addr);
  }
  vm_area_struct* vma = _install_special_mapping(
      mm, addr, len, VM_READ | VM_MAYREAD | VM_IO | VM_DONTDUMP | VM_PFNMAP, &vvar_mapping);
  mmap_write_unlock(mm);
  if (IS_ERR(vma)) return tc.ret(static_cast<unsigned long>(PTR_ERR(vma)));
  return tc.ret(addr);
}

}  // namespace kernel
