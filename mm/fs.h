// mm/fs.h: files, inodes and the page cache (struct file, struct inode, address_space).
//
// Mirrors the parts of include/linux/fs.h, include/linux/pagemap.h and
// include/linux/shmem_fs.h (Linux 6.18) that mapping a file needs: an inode with a size
// and a page cache (its address_space: index -> folio, plus i_mmap, the VMAs that map
// it), an open file (struct file) with its f_mode, and the two kinds of file this port
// has:
//  - simfs (mm/simfs.cc): a small disk-backed filesystem made for the simulator. Each
//    inode has its own "disk" (host bytes that stand for its blocks); ->read_folio copies
//    a page in (a major fault), writeback copies dirty pages back. Its pages count as
//    MM_FILEPAGES. sim::Machine creates these files (CreateFile).
//  - shmem (mm/shmem.cc): tmpfs without a mount, enough for MAP_SHARED|MAP_ANONYMOUS
//    (shmem_zero_setup's "dev/zero" file). Its pages are swap-backed (MM_SHMEMPAGES) and
//    live only in the page cache.
//
// Lifetimes follow Linux: a struct file is counted by f_count (fd holders and the VMAs
// that map it: get_file/fput); the last fput drops the file's inode reference (iput);
// the last iput evicts the inode, which empties its page cache
// (truncate_inode_pages_final) and frees it.
//
// Deviations (grep "DEVIATION(fs)"):
//  - No VFS namespace: no dentries, paths, superblocks, mounts or fd tables. An inode
//    carries its own name (for /proc/PID/maps), sim/ keeps the fds, and every live inode
//    is listed in kst().inodes (the superblocks' s_inodes lists) so that debug_vm can
//    check every page cache.
//  - mapping->i_pages (an xarray) is an ordered map index -> folio; there are no
//    dirty/writeback marks in it (PG_dirty on the folio is the only record).
//    Its value entries (the workingset shadows reclaim leaves, mm/workingset.cc) are a
//    second ordered map, i_shadows; an index is in at most one of the two.
//  - mapping->i_mmap (an interval tree of VMAs) is a list threaded through
//    vm_area_struct::shared; lookups scan it.
//  - I/O is synchronous and never fails: read_folio and writeback complete at once, so
//    no fault ever drops mmap_lock for I/O (no VM_FAULT_RETRY); ->writepage sets
//    PG_writeback and clears it again before it returns (folio_end_writeback).
#ifndef MMSIM_MM_FS_H_
#define MMSIM_MM_FS_H_

#include <sys/stat.h>

#include <string>
#include <vector>

#include "absl/container/btree_map.h"
#include "mm/mm.h"

namespace kernel {

using fmode_t = unsigned int;
using umode_t = unsigned short;

// include/linux/fs.h
inline constexpr fmode_t FMODE_READ = 0x1;
inline constexpr fmode_t FMODE_WRITE = 0x2;
// include/uapi/linux/stat.h. The host's <sys/stat.h> defines these names as macros with
// Linux's values (as for errno, mm/errno.h); the asserts pin them.
static_assert(S_IFMT == 00170000, "S_IFMT");
static_assert(S_IFREG == 0100000, "S_IFREG");
// include/linux/fs.h: inode->i_flags
inline constexpr unsigned int S_NOCMTIME = 1U << 7;  // shmem kernel files
// include/linux/fs.h: struct iattr ia_valid
inline constexpr unsigned int ATTR_SIZE = 1U << 3;

struct address_space;
struct file;
struct inode;
struct writeback_control;

// include/linux/fs.h
struct address_space_operations {
  int (*read_folio)(file* f, folio* folio);
  // DEVIATION(fs): ->writepages reduced to writing one locked, dirty-cleared folio.
  int (*writepage)(folio* folio, writeback_control* wbc);
  bool (*dirty_folio)(address_space* mapping, folio* folio);
};

// include/linux/fs.h: the page cache of one inode.
struct address_space {
  inode* host;
  absl::btree_map<pgoff_t, folio*> i_pages;  // DEVIATION(fs): the xarray
  absl::btree_map<pgoff_t, void*> i_shadows;  // DEVIATION(fs): its value entries
  unsigned long nrpages;
  list_head i_mmap;                // VMAs mapping this (vm_area_struct::shared.list)
  atomic_t i_mmap_writable;        // VM_SHARED|VM_MAYWRITE mappings
  rw_semaphore i_mmap_rwsem;       // protects i_mmap (i_mmap_lock_read/write)
  const address_space_operations* a_ops;
  unsigned long flags;             // AS_* bits
  gfp_t gfp_mask;
};

// include/linux/pagemap.h: mapping->flags. AS_EXITING: the inode is being evicted, and
// reclaim leaves no shadows in it.
inline constexpr unsigned long AS_EXITING = 4;
inline void mapping_set_exiting(address_space* mapping) { mapping->flags |= 1UL << AS_EXITING; }
inline bool mapping_exiting(const address_space* mapping) {
  return mapping != nullptr && (mapping->flags & (1UL << AS_EXITING));
}
// include/linux/pagemap.h: no folio and no shadow in the cache.
inline bool mapping_empty(const address_space* mapping) {
  return mapping->i_pages.empty() && mapping->i_shadows.empty();
}

// include/linux/fs.h: the i_mmap lock. Writers change i_mmap (a VMA linked or unlinked);
// readers walk it (rmap_walk_file, unmap_mapping_range).
inline void i_mmap_lock_write(address_space* mapping) { down_write(&mapping->i_mmap_rwsem); }
inline void i_mmap_unlock_write(address_space* mapping) { up_write(&mapping->i_mmap_rwsem); }
inline void i_mmap_lock_read(address_space* mapping) { down_read(&mapping->i_mmap_rwsem); }
inline void i_mmap_unlock_read(address_space* mapping) { up_read(&mapping->i_mmap_rwsem); }

// include/linux/fs.h
struct iattr {
  unsigned int ia_valid;
  loff_t ia_size;
};

struct inode_operations {
  int (*setattr)(inode* inode, iattr* attr);
};

struct file_operations {
  int (*mmap)(file* file, vm_area_struct* vma);
  int (*fsync)(file* file, loff_t start, loff_t end, int datasync);
};

// include/linux/fs.h: one file. Built in place (it holds C++ containers) and freed by
// the last iput.
struct inode {
  unsigned long i_ino;
  umode_t i_mode;
  unsigned int i_flags;
  loff_t i_size;
  atomic_t i_count;
  const inode_operations* i_op;
  const file_operations* i_fop;
  address_space* i_mapping;        // &i_data
  address_space i_data;
  unsigned int i_nlink;            // 0: unlinked ("(deleted)" in /proc/PID/maps)
  std::string i_name;              // DEVIATION(fs): what /proc/PID/maps prints (no dentry)
  // DEVIATION(fs): simfs' backing store, one block per page index; a missing block is a
  // hole and reads as zeros.
  absl::btree_map<pgoff_t, std::vector<u8>> i_disk;
  void (*i_evict)(inode* inode);   // DEVIATION(fs): the super_operations ->evict_inode
};

// include/linux/fs.h: an open file.
struct file {
  inode* f_inode;
  address_space* f_mapping;
  fmode_t f_mode;
  atomic_long_t f_count;
  const file_operations* f_op;
};

inline inode* file_inode(const file* f) { return f->f_inode; }
inline loff_t i_size_read(const inode* inode) { return inode->i_size; }
inline void i_size_write(inode* inode, loff_t i_size) { inode->i_size = i_size; }
inline bool mapping_mapped(const address_space* mapping) { return !list_empty(&mapping->i_mmap); }

// ---- inodes and files (mm/fs.cc: fs/inode.c, fs/file_table.c, fs/open.c) ----
// A new inode (i_count 1, i_ino from get_next_ino, listed in kst().inodes), or null.
inode* new_inode();
void ihold(inode* inode);
void iput(inode* inode);
// An open file of `inode` (taking over the caller's inode reference), f_count 1, or
// ERR_PTR(-ENOMEM).
file* alloc_file(inode* inode, fmode_t mode, const file_operations* fop);
inline file* get_file(file* f) {
  atomic_long_inc(&f->f_count);
  return f;
}
void fput(file* file);
// fs/open.c: do_truncate / vfs_truncate, with the checks of do_ftruncate (an open file
// not opened for writing: -EINVAL). 0 or a negative errno.
int do_ftruncate(file* file, loff_t length);
// fs/read_write.c: write(2) at *pos through the page cache. Returns the bytes written
// or a negative errno; *pos advances.
ssize_t kernel_write(file* file, const void* buf, size_t count, loff_t* pos);
// fs/sync.c: write back every dirty page of the file (write-protecting its shared
// mappings again: folio_mkclean). 0 or a negative errno.
int vfs_fsync(file* file, int datasync);

// ---- simfs (mm/simfs.cc) ----
// A regular file of `size` bytes whose first data_len bytes are `data`, the rest zero
// (DEVIATION(fs): the simulator's own filesystem). Returns the inode (i_count 1) or
// ERR_PTR(-ENOMEM / -EINVAL).
inode* simfs_create(const char* name, loff_t size, const u8* data, size_t data_len);
extern const file_operations simfs_file_operations;

// ---- shmem (mm/shmem.cc) ----
// mm/shmem.c: an unlinked tmpfs file of `size` bytes for kernel use.
file* shmem_kernel_file_setup(const char* name, loff_t size, unsigned long flags);
// mm/shmem.c: make `vma` (MAP_SHARED|MAP_ANONYMOUS) map a fresh "dev/zero" shmem file.
int shmem_zero_setup(vm_area_struct* vma);
bool shmem_mapping(const address_space* mapping);
bool vma_is_anon_shmem(const vm_area_struct* vma);
inline bool vma_is_shmem(const vm_area_struct* vma) {
  return vma->vm_file != nullptr && shmem_mapping(vma->vm_file->f_mapping);
}

// ---- the page cache (mm/filemap.cc: mm/filemap.c, include/linux/pagemap.h) ----
// __filemap_get_folio's FGP_* flags.
inline constexpr unsigned int FGP_ACCESSED = 0x1;
inline constexpr unsigned int FGP_LOCK = 0x2;
inline constexpr unsigned int FGP_CREAT = 0x4;
inline constexpr unsigned int FGP_WRITE = 0x8;
inline constexpr unsigned int FGP_NOFS = 0x10;
inline constexpr unsigned int FGP_NOWAIT = 0x20;
inline constexpr unsigned int FGP_FOR_MMAP = 0x40;
inline constexpr unsigned int FGP_WRITEBEGIN = FGP_LOCK | FGP_WRITE | FGP_CREAT;

// The folio at `index` with a reference, (locked with FGP_LOCK, created and added with
// FGP_CREAT), or ERR_PTR(-ENOENT / -ENOMEM).
folio* __filemap_get_folio(address_space* mapping, pgoff_t index, unsigned int fgp_flags,
                           gfp_t gfp);
inline folio* filemap_get_folio(address_space* mapping, pgoff_t index) {
  return __filemap_get_folio(mapping, index, 0, 0);
}
// Insert a locked folio at `index` (the cache takes a reference). 0, -EEXIST or -ENOMEM.
int filemap_add_folio(address_space* mapping, folio* folio, pgoff_t index, gfp_t gfp);
// Take a (locked, unmapped) folio out of the cache and drop the cache's reference.
void filemap_remove_folio(folio* folio);
// Take a (locked, unmapped) folio out of the cache, leaving `shadow` (if not null) in its
// slot; the cache's reference stays with the caller to drop.
void __filemap_remove_folio(folio* folio, void* shadow);
// mm/readahead.c (mm/readahead.cc): read up to nr_to_read pages of the file from `index`
// (not past end-of-file) into the page cache, unmapped, on the inactive file list.
void force_page_cache_readahead(address_space* mapping, file* file, pgoff_t index,
                                unsigned long nr_to_read);
// The generic ->fault and ->page_mkwrite of page-cache files.
vm_fault_t filemap_fault(vm_fault* vmf);
vm_fault_t filemap_map_pages(vm_fault* vmf, pgoff_t start_pgoff, pgoff_t end_pgoff);
vm_fault_t filemap_page_mkwrite(vm_fault* vmf);
int generic_file_mmap(file* file, vm_area_struct* vma);
// mm/page-writeback.c: set PG_dirty through the mapping's ->dirty_folio. True if this
// call dirtied the folio.
bool folio_mark_dirty(folio* folio);
bool filemap_dirty_folio(address_space* mapping, folio* folio);
bool noop_dirty_folio(address_space* mapping, folio* folio);
// mm/page-writeback.c: before writeback: clean the folio's PTEs (folio_mkclean) and clear
// PG_dirty. True if it was dirty.
bool folio_clear_dirty_for_io(folio* folio);
// mm/filemap.c: write back the dirty folios of [lstart, lend] (inclusive byte range).
int filemap_write_and_wait_range(address_space* mapping, loff_t lstart, loff_t lend);
// mm/page-writeback.c / mm/filemap.c: PG_writeback on (the folio is locked and clean)
// and off again when the write completed; the end rotates a folio reclaim marked
// PG_reclaim to the inactive tail (folio_rotate_reclaimable).
void folio_start_writeback(folio* folio);
void folio_end_writeback(folio* folio);
// mm/swap.c: an inactive-list folio whose writeback reclaim waited for goes to the tail.
void folio_rotate_reclaimable(folio* folio);
// include/linux/writeback.h
enum wb_reason { WB_REASON_BACKGROUND, WB_REASON_VMSCAN, WB_REASON_SYNC };
// fs/fs-writeback.c: wake the flusher threads to write back dirty file pages (here: the
// writeback runs at once, see mm/filemap.cc).
void wakeup_flusher_threads(wb_reason reason);
// mm/swap.c: the referenced/active aging step for a page-cache access.
void folio_mark_accessed(folio* folio);

// ---- truncation (mm/truncate.cc: mm/truncate.c) ----
void truncate_inode_pages_range(address_space* mapping, loff_t lstart, loff_t lend);
void truncate_inode_pages(address_space* mapping, loff_t lstart);
void truncate_inode_pages_final(address_space* mapping);
void truncate_pagecache(inode* inode, loff_t newsize);
void truncate_setsize(inode* inode, loff_t newsize);
void pagecache_isize_extended(inode* inode, loff_t from, loff_t to);

// ---- rmap for file folios and i_mmap (mm/rmap.cc, mm/vma.cc, mm/memory.cc) ----
// mm/memory.c: zap every PTE that maps [holebegin, holebegin + holelen) of the file in
// any VMA (holelen 0: to the end of the file); with even_cows, private COW copies too.
void unmap_mapping_range(address_space* mapping, loff_t const holebegin, loff_t const holelen,
                         int even_cows);
// mm/memory.c: zap the PTEs that map this locked page cache folio (not COW copies).
void unmap_mapping_folio(folio* folio);
// mm/rmap.c: write-protect and clean every shared PTE of `folio`; returns how many.
int folio_mkclean(folio* folio);
// mm/vma.c: add a new VMA with a file to its mapping's i_mmap / take it off again.
void vma_link_file(vm_area_struct* vma);
void unlink_file_vma(vm_area_struct* vma);
// kernel/fork.c (dup_mmap): link `tmp`, a copy of `orig`, into i_mmap right after it.
void vma_interval_tree_insert_after(vm_area_struct* tmp, vm_area_struct* orig);

}  // namespace kernel

#endif  // MMSIM_MM_FS_H_
