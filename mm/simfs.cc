// mm/simfs.cc: simfs, the simulator's own small disk-backed filesystem.
//
// Not a port: Linux has no simfs. It is shaped like a simple block filesystem with
// one-page blocks (a minimal ext2 without directories), built from Linux's generic
// pieces: generic_file_mmap and its vm_ops (filemap_fault, filemap_page_mkwrite), the
// page cache (mm/filemap.cc), filemap_dirty_folio, generic_file_fsync, simple_setattr's
// truncate_setsize. What it adds is a backing store: inode->i_disk, one host block per
// page index (a missing block is a hole). ->read_folio copies a block into a page-cache
// page (a major fault), ->writepage copies a dirty page back (fsync).
//
// Because it has ->page_mkwrite and writeback, its shared writable mappings are
// write-notified (vma_wants_writenotify): pages are mapped read-only until the first
// write through each, which faults, dirties the page and makes the PTE writable. Its
// pages count as MM_FILEPAGES.
//
// Deviations (grep "DEVIATION(simfs)"): the whole file (see above); I/O never fails.
#include <algorithm>
#include <cstring>
#include <vector>

#include "mm/fs.h"
#include "mm/trace.h"

namespace kernel {
namespace {

// A ->read_folio: fill the locked folio from its block (or zeros for a hole), zero what
// lies past end-of-file, mark it up to date and unlock it (the I/O is complete).
int simfs_read_folio(file* /*file*/, folio* folio) {
  inode* inode = folio->mapping->host;
  u8* dst = static_cast<u8*>(folio_address(folio));
  auto it = inode->i_disk.find(folio->index);
  if (it != inode->i_disk.end())
    std::memcpy(dst, it->second.data(), PAGE_SIZE);
  else
    std::memset(dst, 0, PAGE_SIZE);
  const loff_t pos = static_cast<loff_t>(folio->index) << PAGE_SHIFT;
  const loff_t isize = i_size_read(inode);
  if (pos + static_cast<loff_t>(PAGE_SIZE) > isize) {
    const size_t keep = isize > pos ? static_cast<size_t>(isize - pos) : 0;
    std::memset(dst + keep, 0, PAGE_SIZE - keep);
  }
  trace_event("simfs_read_folio", "ino=%lu index=%#lx pfn=%#lx", inode->i_ino, folio->index,
              folio_pfn(folio));
  folio_set_uptodate(folio);
  folio_unlock(folio);
  return 0;
}

// A ->writepage (block_write_full_folio's shape): the folio is locked and no longer
// dirty. The part past end-of-file is zeroed in the page itself, since it may be mapped
// and hold bytes written there through mmap, which must never reach the file.
int simfs_writepage(folio* folio, writeback_control* /*wbc*/) {
  inode* inode = folio->mapping->host;
  const loff_t pos = static_cast<loff_t>(folio->index) << PAGE_SHIFT;
  const loff_t isize = i_size_read(inode);
  if (pos >= isize) {  // wholly past the end: nothing to write
    folio_unlock(folio);
    return 0;
  }
  folio_start_writeback(folio);
  u8* src = static_cast<u8*>(folio_address(folio));
  if (pos + static_cast<loff_t>(PAGE_SIZE) > isize) {
    const size_t keep = static_cast<size_t>(isize - pos);
    std::memset(src + keep, 0, PAGE_SIZE - keep);  // folio_zero_segment
  }
  std::vector<u8>& block = inode->i_disk[folio->index];
  block.assign(src, src + PAGE_SIZE);
  trace_event("simfs_writepage", "ino=%lu index=%#lx pfn=%#lx", inode->i_ino, folio->index,
              folio_pfn(folio));
  folio_unlock(folio);
  folio_end_writeback(folio);  // the I/O completes at once (end_page_writeback)
  return 0;
}

// fs/libfs.c simple_setattr's size change, plus the blocks: those past the new end are
// freed and the last one's tail zeroed, so growing the file again reads zeros there.
int simfs_setattr(inode* inode, iattr* attr) {
  if (!(attr->ia_valid & ATTR_SIZE)) return 0;
  const loff_t newsize = attr->ia_size;
  truncate_setsize(inode, newsize);
  const pgoff_t keep = (static_cast<pgoff_t>(newsize) + PAGE_SIZE - 1) >> PAGE_SHIFT;
  inode->i_disk.erase(inode->i_disk.lower_bound(keep), inode->i_disk.end());
  const size_t tail = static_cast<size_t>(newsize) & (PAGE_SIZE - 1);
  if (tail != 0) {
    auto it = inode->i_disk.find(keep - 1);
    if (it != inode->i_disk.end()) std::fill(it->second.begin() + tail, it->second.end(), 0);
  }
  return 0;
}

// fs/libfs.c: generic_file_fsync (file_write_and_wait_range + the inode, which has no
// metadata to write here).
int simfs_fsync(file* file, loff_t start, loff_t end, int /*datasync*/) {
  return filemap_write_and_wait_range(file->f_mapping, start, end);
}

const address_space_operations simfs_aops = {
    /*read_folio=*/simfs_read_folio,
    /*writepage=*/simfs_writepage,
    /*dirty_folio=*/filemap_dirty_folio,
};

const inode_operations simfs_inode_operations = {
    /*setattr=*/simfs_setattr,
};

}  // namespace

const file_operations simfs_file_operations = {
    /*mmap=*/generic_file_mmap,
    /*fsync=*/simfs_fsync,
};

inode* simfs_create(const char* name, loff_t size, const u8* data, size_t data_len) {
  if (size < 0 || static_cast<unsigned long long>(data_len) > static_cast<unsigned long long>(size))
    return ERR_PTR<inode>(-EINVAL);
  inode* ino = new_inode();
  if (ino == nullptr) return ERR_PTR<inode>(-ENOMEM);
  ino->i_mode = S_IFREG | 0644;
  ino->i_size = size;
  ino->i_op = &simfs_inode_operations;
  ino->i_fop = &simfs_file_operations;
  ino->i_data.a_ops = &simfs_aops;
  ino->i_name = name;
  ino->i_nlink = 1;
  for (size_t off = 0; off < data_len; off += PAGE_SIZE) {
    // A block of zeros stays a hole (it reads the same), so a file costs host memory only
    // for the blocks that hold data: a large sparse file is cheap.
    const size_t n = std::min(PAGE_SIZE, data_len - off);
    if (std::all_of(data + off, data + off + n, [](u8 b) { return b == 0; })) continue;
    std::vector<u8>& block = ino->i_disk[off >> PAGE_SHIFT];
    block.assign(PAGE_SIZE, 0);
    std::memcpy(block.data(), data + off, n);
  }
  trace_event("simfs_create", "ino=%lu name=%s size=%#llx", ino->i_ino, name,
              static_cast<long long>(size));
  return ino;
}

}  // namespace kernel
