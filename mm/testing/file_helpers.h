// mm/testing/file_helpers.h: a simfs file for unit tests that map files.
#ifndef MMSIM_MM_TESTING_FILE_HELPERS_H_
#define MMSIM_MM_TESTING_FILE_HELPERS_H_

#include <vector>

#include "mm/fs.h"
#include "mm/mm.h"

namespace kernel_testing {

// An open simfs file (O_RDWR unless read_only) of `pages` pages whose byte i is
// (i / PAGE_SIZE + 1) * 16 + i % 7 (so each page is recognisable). The caller fput()s it.
inline kernel::file* MakeTestFile(const char* name, unsigned long pages, bool read_only = false) {
  std::vector<kernel::u8> data(pages * kernel::PAGE_SIZE);
  for (size_t i = 0; i < data.size(); ++i)
    data[i] = static_cast<kernel::u8>((i / kernel::PAGE_SIZE + 1) * 16 + i % 7);
  kernel::inode* ino = kernel::simfs_create(name, static_cast<kernel::loff_t>(data.size()),
                                            data.data(), data.size());
  const kernel::fmode_t mode = kernel::FMODE_READ | (read_only ? 0 : kernel::FMODE_WRITE);
  return kernel::alloc_file(ino, mode, &kernel::simfs_file_operations);
}

// The 8 bytes at offset `off` of a file MakeTestFile made, as a little-endian load sees them.
inline uint64_t TestFileWord(unsigned long off) {
  uint64_t v = 0;
  for (int b = 7; b >= 0; --b) {
    unsigned long i = off + static_cast<unsigned long>(b);
    v = (v << 8) | static_cast<kernel::u8>((i / kernel::PAGE_SIZE + 1) * 16 + i % 7);
  }
  return v;
}

}  // namespace kernel_testing

#endif  // MMSIM_MM_TESTING_FILE_HELPERS_H_
