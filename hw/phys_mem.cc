// hw/phys_mem.cc: the host mapping behind simulated physical memory.
#include "hw/phys_mem.h"

#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <mutex>
#include <utility>
#include <vector>

#if defined(__x86_64__)
#include <emmintrin.h>
#endif

namespace hw {

namespace {

struct HostPool {
  std::mutex mu;
  std::vector<std::pair<void*, uint64_t>> free;  // mapping, size in bytes
  uint64_t bytes = 0;
};
HostPool& Pool() {
  static HostPool* pool = new HostPool;  // never destroyed: machines may outlive statics
  return *pool;
}

// Zeroes the host pages of [p, p + bytes) that are resident; the others read as zero
// already (never touched, or dropped by MADV_DONTNEED).
bool ZeroResident(uint8_t* p, uint64_t bytes) {
  const long host_page = sysconf(_SC_PAGESIZE);
  const uint64_t pages = (bytes + host_page - 1) / host_page;
  std::vector<unsigned char> vec(pages);
  if (mincore(p, bytes, vec.data()) != 0) return false;
  uint64_t i = 0;
  while (i < pages) {
    if (!(vec[i] & 1)) {
      ++i;
      continue;
    }
    uint64_t j = i;
    while (j < pages && (vec[j] & 1)) ++j;
    const uint64_t end = std::min<uint64_t>(j * host_page, bytes);
    std::memset(p + i * host_page, 0, end - i * host_page);
    i = j;
  }
  return true;
}

}  // namespace

void* HostMapZeroed(uint64_t bytes, int* host_errno) {
  HostPool& pool = Pool();
  {
    std::lock_guard<std::mutex> lock(pool.mu);
    for (size_t i = 0; i < pool.free.size(); ++i) {
      if (pool.free[i].second != bytes) continue;
      void* p = pool.free[i].first;
      pool.free.erase(pool.free.begin() + static_cast<long>(i));
      pool.bytes -= bytes;
      *host_errno = 0;
      return p;
    }
  }
  for (int attempt = 0; attempt < 2; ++attempt) {
    void* p = mmap(nullptr, bytes, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (p != MAP_FAILED) {
      *host_errno = 0;
      return p;
    }
    *host_errno = errno;
    if (HostPoolDrain() == 0) break;  // nothing held back: the refusal stands
  }
  return nullptr;
}

void HostUnmap(void* p, uint64_t bytes) {
  if (p == nullptr) return;
  if (bytes <= kHostPoolMaxMapping && ZeroResident(static_cast<uint8_t*>(p), bytes)) {
    HostPool& pool = Pool();
    std::lock_guard<std::mutex> lock(pool.mu);
    if (pool.free.size() < static_cast<size_t>(kHostPoolMaxMappings) &&
        pool.bytes + bytes <= kHostPoolMaxBytes) {
      pool.free.emplace_back(p, bytes);
      pool.bytes += bytes;
      return;
    }
  }
  munmap(p, bytes);
}

int HostPoolDrain() {
  HostPool& pool = Pool();
  std::vector<std::pair<void*, uint64_t>> free;
  {
    std::lock_guard<std::mutex> lock(pool.mu);
    free.swap(pool.free);
    pool.bytes = 0;
  }
  for (const auto& [p, bytes] : free) munmap(p, bytes);
  return static_cast<int>(free.size());
}

int HostPoolSize() {
  HostPool& pool = Pool();
  std::lock_guard<std::mutex> lock(pool.mu);
  return static_cast<int>(pool.free.size());
}

PhysMem::PhysMem(uint64_t bytes, int maxphyaddr, NoCheck)
    : num_frames_((bytes + kPageSize - 1) >> kPageShift),
      maxphyaddr_(maxphyaddr) {
  // SDM 4.1.4: MAXPHYADDR is at most 52; 32 is the smallest any 64-bit
  // processor reports.
  CHECK(maxphyaddr >= 32 && maxphyaddr <= 52, "MAXPHYADDR out of range");
  CHECK(num_frames_ > 0, "PhysMem needs at least one frame");
  CHECK(num_frames_ <= (uint64_t{1} << (maxphyaddr - kPageShift)),
        "memory does not fit below 2^MAXPHYADDR");
  void* p = HostMapZeroed(size_bytes(), &map_errno_);
  if (p == nullptr) return;
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
  if (base_ != nullptr) HostUnmap(base_, size_bytes());
}

void PhysMem::FenceStreamingStoresSlow() {
#if defined(__x86_64__)
  _mm_sfence();
#endif
  streaming_stores_ = false;
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
