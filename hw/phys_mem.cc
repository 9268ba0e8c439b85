// hw/phys_mem.cc: the host mapping behind simulated physical memory.
#include "hw/phys_mem.h"

#include <sys/mman.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

namespace hw {

PhysMem::PhysMem(uint64_t bytes, int maxphyaddr, NoCheck)
    : num_frames_((bytes + kPageSize - 1) >> kPageShift),
      maxphyaddr_(maxphyaddr) {
  // SDM 4.1.4: MAXPHYADDR is at most 52; 32 is the smallest any 64-bit
  // processor reports.
  CHECK(maxphyaddr >= 32 && maxphyaddr <= 52, "MAXPHYADDR out of range");
  CHECK(num_frames_ > 0, "PhysMem needs at least one frame");
  CHECK(num_frames_ <= (uint64_t{1} << (maxphyaddr - kPageShift)),
        "memory does not fit below 2^MAXPHYADDR");
  void* p = mmap(nullptr, size_bytes(), PROT_READ | PROT_WRITE,
                 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  if (p == MAP_FAILED) {
    map_errno_ = errno;
    return;
  }
  base_ = static_cast<uint8_t*>(p);
}

PhysMem::PhysMem(uint64_t bytes, int maxphyaddr) : PhysMem(bytes, maxphyaddr, NoCheck{}) {
  if (base_ == nullptr) {
    std::fprintf(stderr, "PhysMem: mmap of %llu bytes failed: %s\n",
                 static_cast<unsigned long long>(size_bytes()),
                 std::strerror(map_errno_));
  }
  CHECK(base_ != nullptr, "cannot reserve simulated physical memory");
}

std::unique_ptr<PhysMem> PhysMem::TryCreate(uint64_t bytes, int* host_errno, int maxphyaddr) {
  std::unique_ptr<PhysMem> m(new PhysMem(bytes, maxphyaddr, NoCheck{}));
  *host_errno = m->map_errno_;
  if (m->base_ == nullptr) return nullptr;
  return m;
}

PhysMem::~PhysMem() {
  if (base_ != nullptr) munmap(base_, size_bytes());
}

void PhysMem::DiscardFrames(Pfn first, uint64_t count) {
  CHECK(first.value() <= num_frames_ && count <= num_frames_ - first.value());
  if (count == 0) return;
  // MADV_DONTNEED on a private anonymous mapping drops the pages; the next
  // touch sees zero-filled memory.
  const int rc =
      madvise(frame(first), count << kPageShift, MADV_DONTNEED);
  CHECK(rc == 0, "madvise(MADV_DONTNEED) failed");
}

}  // namespace hw
