// mm/shmem.cc: shmem, the in-memory filesystem behind MAP_SHARED|MAP_ANONYMOUS.
//
// Port of mm/shmem.c at Linux 6.18, the parts a shared anonymous mapping needs:
// shmem_zero_setup and __shmem_file_setup (an unlinked "dev/zero" file the size of the
// mapping), shmem_fault over shmem_get_folio_gfp (a zeroed, swap-backed page added to the
// page cache on first touch), shmem_setattr's truncation, and the vm_ops. Both sides of
// a fork map the same file, so they see each other's writes; the pages count as
// MM_SHMEMPAGES and are freed when the last mapping of the file goes.
//
// Deviations (grep "DEVIATION(shmem)"):
//  - No swap: shmem pages stay in the page cache until truncated or evicted, and there is
//    no ->writepage (so, as in Linux, no writenotify for shmem mappings).
//  - No tmpfs mount, no huge pages, no size limits or accounting (shmem_acct_size), no
//    fallocate, no userfaultfd, no seals, no xattrs.
#include <cstring>

#include "mm/fs.h"
#include "mm/trace.h"

namespace kernel {
namespace {

// mm/shmem.c: enum sgp_type, the lookups this port uses.
enum sgp_type { SGP_READ, SGP_NOALLOC, SGP_CACHE, SGP_WRITE };

const address_space_operations shmem_aops = {
    /*read_folio=*/nullptr,
    /*writepage=*/nullptr,  // DEVIATION(shmem): no swap to write to
    /*dirty_folio=*/noop_dirty_folio,
};

// mm/shmem.c: shmem_get_folio_gfp. The folio at `index`, locked and referenced, created
// (zeroed) if the file has a hole there. -EINVAL past end-of-file, -ENOMEM.
int shmem_get_folio_gfp(inode* inode, pgoff_t index, folio** foliop, sgp_type sgp) {
  address_space* mapping = inode->i_mapping;
  *foliop = nullptr;
  if (sgp <= SGP_CACHE &&
      (static_cast<unsigned long long>(index) << PAGE_SHIFT) >=
          static_cast<unsigned long long>(i_size_read(inode)))
    return -EINVAL;
  folio* f = __filemap_get_folio(mapping, index, FGP_LOCK | (sgp == SGP_NOALLOC ? 0 : FGP_CREAT),
                                 mapping->gfp_mask);
  if (IS_ERR(f)) return static_cast<int>(PTR_ERR(f));
  if (sgp == SGP_WRITE) folio_mark_accessed(f);
  if (sgp != SGP_WRITE && !folio_test_uptodate(f)) {
    // A new page of the object: zeros (clear_highpage), then up to date.
    std::memset(folio_address(f), 0, PAGE_SIZE);
    folio_set_uptodate(f);
    trace_event("shmem_alloc", "ino=%lu index=%#lx pfn=%#lx", inode->i_ino, index, folio_pfn(f));
  }
  // Perhaps the file has been truncated since we checked.
  if (sgp <= SGP_CACHE &&
      (static_cast<unsigned long long>(index) << PAGE_SHIFT) >=
          static_cast<unsigned long long>(i_size_read(inode))) {
    folio_unlock(f);
    folio_put(f);
    return -EINVAL;
  }
  *foliop = f;
  return 0;
}

// include/linux/mm.h: vmf_error.
vm_fault_t vmf_error(int err) {
  if (err == -ENOMEM) return VM_FAULT_OOM;
  return VM_FAULT_SIGBUS;
}

// mm/shmem.c: shmem_fault.
vm_fault_t shmem_fault(vm_fault* vmf) {
  inode* inode = file_inode(vmf->vma->vm_file);
  trace_call tc("shmem_fault", "ino=%lu index=%#lx", inode->i_ino, vmf->pgoff);
  folio* f = nullptr;
  int err = shmem_get_folio_gfp(inode, vmf->pgoff, &f, SGP_CACHE);
  if (err) return tc.ret(vmf_error(err));
  vmf->page = f;  // folio_file_page
  return tc.ret(VM_FAULT_LOCKED);
}

// mm/shmem.c: shmem_anon_vm_ops and shmem_vm_ops (their ->map_pages is fault-around).
const vm_operations_struct shmem_anon_vm_ops = {
    /*open=*/nullptr,
    /*close=*/nullptr,
    /*fault=*/shmem_fault,
    /*page_mkwrite=*/nullptr,
    /*pfn_mkwrite=*/nullptr,
    /*name=*/nullptr,
    /*map_pages=*/filemap_map_pages,
};
const vm_operations_struct shmem_vm_ops = shmem_anon_vm_ops;

// mm/shmem.c: shmem_setattr, the size change: the pages past the new end go (mappings
// first, private COW copies included), as truncate_setsize does.
int shmem_setattr(inode* inode, iattr* attr) {
  if (attr->ia_valid & ATTR_SIZE) truncate_setsize(inode, attr->ia_size);
  return 0;
}

const inode_operations shmem_inode_operations = {
    /*setattr=*/shmem_setattr,
};

// mm/shmem.c: shmem_mmap.
int shmem_mmap(file* /*file*/, vm_area_struct* vma) {
  vma->vm_ops = &shmem_vm_ops;
  return 0;
}

// fs/libfs.c: noop_fsync.
int noop_fsync(file* /*file*/, loff_t /*start*/, loff_t /*end*/, int /*datasync*/) { return 0; }

const file_operations shmem_file_operations = {
    /*mmap=*/shmem_mmap,
    /*fsync=*/noop_fsync,
};

}  // namespace

bool shmem_mapping(const address_space* mapping) {
  return mapping != nullptr && mapping->a_ops == &shmem_aops;
}

bool vma_is_anon_shmem(const vm_area_struct* vma) { return vma->vm_ops == &shmem_anon_vm_ops; }

// mm/shmem.c: shmem_kernel_file_setup -> __shmem_file_setup. An unlinked shmem file of
// `size` bytes, open read-write.
file* shmem_kernel_file_setup(const char* name, loff_t size, unsigned long /*flags*/) {
  if (size < 0) return ERR_PTR<file>(-EINVAL);
  inode* ino = new_inode();  // shmem_get_inode
  if (ino == nullptr) return ERR_PTR<file>(-ENOMEM);
  ino->i_mode = S_IFREG | 0777;
  ino->i_flags |= S_NOCMTIME;  // S_PRIVATE kernel file
  ino->i_size = size;
  ino->i_nlink = 0;  // it is unlinked
  ino->i_op = &shmem_inode_operations;
  ino->i_fop = &shmem_file_operations;
  ino->i_data.a_ops = &shmem_aops;
  ino->i_name = name;
  file* f = alloc_file(ino, FMODE_READ | FMODE_WRITE, &shmem_file_operations);  // O_RDWR
  if (IS_ERR(f)) iput(ino);
  return f;
}

// mm/shmem.c: shmem_zero_setup. A MAP_SHARED|MAP_ANONYMOUS VMA maps its own "dev/zero"
// shmem file, as big as the VMA.
int shmem_zero_setup(vm_area_struct* vma) {
  const loff_t size = static_cast<loff_t>(vma->vm_end - vma->vm_start);
  file* f = shmem_kernel_file_setup("dev/zero", size, vma->vm_flags);
  if (IS_ERR(f)) return static_cast<int>(PTR_ERR(f));
  if (vma->vm_file) fput(vma->vm_file);
  vma->vm_file = f;
  vma->vm_ops = &shmem_anon_vm_ops;
  trace_event("shmem_zero_setup", "ino=%lu size=%#llx", file_inode(f)->i_ino,
              static_cast<long long>(size));
  return 0;
}

}  // namespace kernel
