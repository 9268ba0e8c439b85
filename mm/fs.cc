// mm/fs.cc: inode and file lifetimes, truncate, read/write and fsync: the VFS slices that
// mapped files need.
//
// Port of fs/inode.c (new_inode, get_next_ino, ihold, iput, evict), fs/file_table.c
// (alloc_file, fput / __fput), fs/open.c (do_ftruncate, do_truncate), fs/attr.c
// (notify_change, reduced to ATTR_SIZE), fs/read_write.c (kernel_write over
// generic_perform_write) and fs/sync.c (vfs_fsync), Linux 6.18.
//
// Deviations (grep "DEVIATION(fs)", and mm/fs.h):
//  - No dentries, mounts, fd tables, permissions, timestamps, locks or leases.
//  - kernel_write goes through the cache as generic_perform_write does (->write_begin
//    reduced to "read the page in first unless it is overwritten whole").
#include <algorithm>
#include <climits>
#include <cstring>
#include <new>

#include "mm/fs.h"
#include "mm/slab.h"
#include "mm/trace.h"

namespace kernel {

// fs/inode.c: new_inode (alloc_inode + inode_init_always + inode_sb_list_add).
inode* new_inode() {
  void* mem = kmalloc(sizeof(inode), GFP_KERNEL);
  if (mem == nullptr) return nullptr;
  inode* ino = new (mem) inode();  // value-initialised: plain fields zero
  kernel_state& ks = kst();
  ino->i_ino = ++ks.last_ino;  // get_next_ino
  atomic_set(&ino->i_count, 1);
  ino->i_mapping = &ino->i_data;
  ino->i_data.host = ino;
  ino->i_data.nrpages = 0;
  INIT_LIST_HEAD(&ino->i_data.i_mmap);
  atomic_set(&ino->i_data.i_mmap_writable, 0);
  init_rwsem(&ino->i_data.i_mmap_rwsem, "i_mmap_rwsem");  // __address_space_init_once
  ino->i_data.gfp_mask = GFP_HIGHUSER_MOVABLE;
  ks.inodes.emplace(ino->i_ino, ino);
  return ino;
}

// fs/inode.c
void ihold(inode* inode) {
  WARN_ON(atomic_inc_return(&inode->i_count) < 2);
}

// fs/inode.c: evict. Nothing refers to the inode any more: its pages go, then the inode.
static void evict(inode* inode) {
  trace_call tc("evict", "ino=%lu nrpages=%lu", inode->i_ino, inode->i_data.nrpages);
  if (inode->i_evict != nullptr) inode->i_evict(inode);  // ->evict_inode
  truncate_inode_pages_final(&inode->i_data);
  BUG_ON(inode->i_data.nrpages != 0);
  BUG_ON(mapping_mapped(&inode->i_data));  // every VMA held a file reference
  kst().inodes.erase(inode->i_ino);  // inode_sb_list_del
  inode->~inode();
  kfree(inode);
}

// fs/inode.c
void iput(inode* inode) {
  if (inode == nullptr) return;
  BUG_ON(atomic_read(&inode->i_count) <= 0);
  if (atomic_dec_and_test(&inode->i_count)) evict(inode);
}

// fs/file_table.c: alloc_file (alloc_empty_file + file_init_path). Takes over the
// caller's inode reference.
file* alloc_file(inode* inode, fmode_t mode, const file_operations* fop) {
  file* f = static_cast<file*>(kzalloc(sizeof(file), GFP_KERNEL));
  if (f == nullptr) return ERR_PTR<file>(-ENOMEM);
  f->f_inode = inode;
  f->f_mapping = inode->i_mapping;
  f->f_mode = mode;
  atomic_long_set(&f->f_count, 1);
  f->f_op = fop;
  return f;
}

// fs/file_table.c: fput and __fput. The last reference drops the inode.
void fput(file* file) {
  BUG_ON(atomic_long_read(&file->f_count) <= 0);
  atomic_long_dec(&file->f_count);
  if (atomic_long_read(&file->f_count) != 0) return;
  inode* inode = file->f_inode;
  kfree(file);
  iput(inode);
}

// fs/attr.c: notify_change, only ATTR_SIZE. fs/open.c: do_truncate.
static int do_truncate(inode* inode, loff_t length) {
  iattr newattrs{};
  newattrs.ia_size = length;
  newattrs.ia_valid = ATTR_SIZE;
  if (inode->i_op == nullptr || inode->i_op->setattr == nullptr) return -EPERM;
  return inode->i_op->setattr(inode, &newattrs);
}

// fs/open.c: do_ftruncate (what ftruncate(2) does after fdget).
int do_ftruncate(file* file, loff_t length) {
  trace_call tc("do_ftruncate", "ino=%lu length=%#llx", file_inode(file)->i_ino,
                static_cast<long long>(length));
  if (length < 0) return tc.ret(-EINVAL);
  inode* inode = file_inode(file);
  // Only a regular file open for writing can be truncated.
  if (!S_ISREG(inode->i_mode) || !(file->f_mode & FMODE_WRITE)) return tc.ret(-EINVAL);
  return tc.ret(do_truncate(inode, length));
}

// fs/read_write.c: kernel_write over generic_perform_write. Every page written goes
// through the page cache (read in first unless overwritten whole), ends up dirty, and
// the file grows if the write ends past its end.
ssize_t kernel_write(file* file, const void* buf, size_t count, loff_t* pos) {
  if (!(file->f_mode & FMODE_WRITE)) return -EBADF;
  if (*pos < 0) return -EINVAL;
  inode* inode = file_inode(file);
  address_space* mapping = file->f_mapping;
  trace_call tc("kernel_write", "ino=%lu pos=%#llx count=%#zx", inode->i_ino,
                static_cast<long long>(*pos), count);
  const u8* in = static_cast<const u8*>(buf);
  size_t done = 0;
  while (done < count) {
    const loff_t p = *pos + static_cast<loff_t>(done);
    const pgoff_t index = static_cast<pgoff_t>(p) >> PAGE_SHIFT;
    const size_t offset = static_cast<size_t>(p) & (PAGE_SIZE - 1);
    const size_t n = std::min(count - done, PAGE_SIZE - offset);
    // ->write_begin
    folio* folio = __filemap_get_folio(mapping, index, FGP_WRITEBEGIN, mapping->gfp_mask);
    if (IS_ERR(folio)) break;
    if (!folio_test_uptodate(folio)) {
      if (n == PAGE_SIZE) {
        folio_set_uptodate(folio);  // overwritten whole
      } else if (mapping->a_ops->read_folio != nullptr) {
        mapping->a_ops->read_folio(file, folio);  // unlocks it
        folio_lock(folio);
      } else {
        std::memset(folio_address(folio), 0, PAGE_SIZE);
        folio_set_uptodate(folio);
      }
    }
    std::memcpy(static_cast<u8*>(folio_address(folio)) + offset, in + done, n);
    // ->write_end
    folio_mark_dirty(folio);
    folio_unlock(folio);
    folio_put(folio);
    done += n;
    if (p + static_cast<loff_t>(n) > i_size_read(inode)) i_size_write(inode, p + static_cast<loff_t>(n));
  }
  if (done == 0 && count != 0) return tc.ret(static_cast<ssize_t>(-ENOMEM));
  *pos += static_cast<loff_t>(done);
  return tc.ret(static_cast<ssize_t>(done));
}

// fs/sync.c: vfs_fsync -> vfs_fsync_range(file, 0, LLONG_MAX, datasync).
int vfs_fsync(file* file, int datasync) {
  if (file->f_op == nullptr || file->f_op->fsync == nullptr) return -EINVAL;
  return file->f_op->fsync(file, 0, LLONG_MAX, datasync);
}

}  // namespace kernel
