// hw/phys_mem.h: simulated physical memory (DRAM) as one host mapping.
//
// Physical address space in the sense of SDM vol. 3A 4.1.4: addresses below
// 2^MAXPHYADDR. Frames [0, num_frames()) are backed; frame `pfn` lives at
// base + (pfn << 12), so turning a frame into a host pointer is one add.
//
// The mapping is reserved with mmap(MAP_PRIVATE | MAP_ANONYMOUS |
// MAP_NORESERVE): the host commits memory only for frames that are touched,
// so 16 GiB of simulated memory fits on a much smaller host. All frames read
// as zero until written.
//
// Thread safety: none (the simulator is single-threaded). Several Cpu objects
// may share one PhysMem.
#ifndef MMSIM_HW_PHYS_MEM_H_
#define MMSIM_HW_PHYS_MEM_H_

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>

#include "hw/addr.h"
#include "hw/check.h"

namespace hw {

// Host mappings for simulated memory and the kernel's per-frame arrays (mem_map), kept in a
// small process-wide pool. Booting a machine costs mostly the host's page faults on a fresh
// mapping (and its munmap's TLB shootdowns); an explorer boots one machine per schedule.
// So a released mapping is not unmapped: the host pages it has resident (mincore) are
// zeroed in place and the mapping waits for the next request of the same size. Either way
// the caller gets `bytes` of zeroed, private, read-write memory, reserved MAP_NORESERVE:
// byte for byte what a fresh mapping holds, so a run cannot tell the difference.
// Bounds: only mappings of at most kHostPoolMaxMapping bytes are kept, at most
// kHostPoolMaxMappings of them, kHostPoolMaxBytes in all; a request the host refuses
// empties the pool and is tried once more (the pool must not cause a refusal under
// RLIMIT_AS). Thread-safe.
inline constexpr uint64_t kHostPoolMaxMapping = uint64_t{64} << 20;
inline constexpr uint64_t kHostPoolMaxBytes = uint64_t{128} << 20;
inline constexpr int kHostPoolMaxMappings = 16;
// Null (and *host_errno = mmap's errno) when the host refuses.
void* HostMapZeroed(uint64_t bytes, int* host_errno);
void HostUnmap(void* p, uint64_t bytes);
// Unmaps every pooled mapping (tests; a refusal does it too). Returns how many there were.
int HostPoolDrain();
// Pooled mappings now (tests).
int HostPoolSize();

// The simulated memory size callers use unless told otherwise.
inline constexpr uint64_t kDefaultPhysMemBytes = uint64_t{256} << 20;

class PhysMem {
 public:
  // Reserves `bytes` of simulated DRAM, rounded up to whole frames.
  // `maxphyaddr` is the CPUID.80000008H:EAX[7:0] value the walker uses for
  // reserved-bit checks; REQUIRES: 32 <= maxphyaddr <= 52 and the memory fits
  // below 2^maxphyaddr. CHECK-fails if the host refuses the reservation.
  explicit PhysMem(uint64_t bytes, int maxphyaddr = kDefaultMaxPhyAddr);
  ~PhysMem();

  // The same reservation, but a host refusal is an answer, not a crash: returns null and
  // sets *host_errno to mmap's errno (ENOMEM when RLIMIT_AS or the overcommit policy say
  // no). The REQUIRES of the constructor still hold.
  static std::unique_ptr<PhysMem> TryCreate(uint64_t bytes, int* host_errno,
                                            int maxphyaddr = kDefaultMaxPhyAddr);

  PhysMem(const PhysMem&) = delete;
  PhysMem& operator=(const PhysMem&) = delete;

  uint64_t num_frames() const { return num_frames_; }
  uint64_t size_bytes() const { return num_frames_ << kPageShift; }
  int maxphyaddr() const { return maxphyaddr_; }

  // Host pointer to the first byte of frame `pfn`. REQUIRES: pfn < num_frames()
  // (checked in debug builds only: this is the hot path).
  uint8_t* frame(Pfn pfn) {
    DCHECK(pfn.value() < num_frames_);
    return base_ + (pfn.value() << kPageShift);
  }
  const uint8_t* frame(Pfn pfn) const {
    DCHECK(pfn.value() < num_frames_);
    return base_ + (pfn.value() << kPageShift);
  }
  // Host pointer to `pa`. REQUIRES: pa < size_bytes() (debug-checked).
  uint8_t* ptr(PhysAddr pa) {
    DCHECK(pa.value() < size_bytes());
    return base_ + pa.value();
  }
  const uint8_t* ptr(PhysAddr pa) const {
    DCHECK(pa.value() < size_bytes());
    return base_ + pa.value();
  }

  // True iff [pa, pa + len) lies inside simulated memory (overflow-safe).
  bool Contains(PhysAddr pa, uint64_t len) const {
    const uint64_t size = size_bytes();
    return pa.value() <= size && len <= size - pa.value();
  }

  // Bounds-checked copies; return false (and copy nothing) when the range is
  // not inside simulated memory.
  bool Read(PhysAddr pa, void* dst, size_t len) const {
    if (!Contains(pa, len)) return false;
    std::memcpy(dst, base_ + pa.value(), len);
    return true;
  }
  bool Write(PhysAddr pa, const void* src, size_t len) {
    if (!Contains(pa, len)) return false;
    std::memcpy(base_ + pa.value(), src, len);
    return true;
  }

  // 8-byte paging-structure entries. REQUIRES: pa 8-byte aligned and inside
  // memory (debug-checked).
  uint64_t ReadU64(PhysAddr pa) const {
    DCHECK((pa.value() & 7) == 0);
    DCHECK(Contains(pa, 8));
    uint64_t v;
    std::memcpy(&v, base_ + pa.value(), sizeof(v));
    return v;
  }
  void WriteU64(PhysAddr pa, uint64_t value) {
    DCHECK((pa.value() & 7) == 0);
    DCHECK(Contains(pa, 8));
    std::memcpy(base_ + pa.value(), &value, sizeof(value));
  }

  // Sets frame `pfn` to zero.
  void ZeroFrame(Pfn pfn) { std::memset(frame(pfn), 0, kPageSize); }

  // Returns the host memory behind [first, first + count) to the host; the
  // frames read as zero afterwards. REQUIRES: the range is inside memory.
  void DiscardFrames(Pfn first, uint64_t count);

  // Host memory ordering. Cpu's long copy runs write frames with non-temporal stores (see
  // Cpu::stream_threshold), which x86 leaves unordered with later stores until a fence. The
  // thread that made them sees them in order; before another host thread may read the
  // frames, the writer calls FenceStreamingStores (sim::Machine does at the end of every
  // call: a Machine is driven by one host thread at a time).
  void NoteStreamingStores() { streaming_stores_ = true; }
  void FenceStreamingStores() {
    if (streaming_stores_) FenceStreamingStoresSlow();
  }

 private:
  void FenceStreamingStoresSlow();

  struct NoCheck {};
  PhysMem(uint64_t bytes, int maxphyaddr, NoCheck);

  uint8_t* base_ = nullptr;
  int map_errno_ = 0;  // mmap's errno when the reservation failed (base_ null)
  bool streaming_stores_ = false;  // made since the last FenceStreamingStores
  uint64_t num_frames_ = 0;
  int maxphyaddr_ = kDefaultMaxPhyAddr;
};

}  // namespace hw

#endif  // MMSIM_HW_PHYS_MEM_H_
