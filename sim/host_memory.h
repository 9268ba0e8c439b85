// sim/host_memory.h: the simulator's own (host) memory: whether the host can reserve a
// machine of a given size, and what mmsim does when an allocation fails.
#ifndef MMSIM_SIM_HOST_MEMORY_H_
#define MMSIM_SIM_HOST_MEMORY_H_

#include <cstdint>

#include "absl/status/status.h"

namespace sim {

// Whether the host would give a machine of `memory_bytes` its two reservations, the
// simulated memory (hw::PhysMem) and mem_map (64 bytes per frame), both MAP_NORESERVE:
// they are made and released at once. ResourceExhausted with the reason (RLIMIT_AS,
// overcommit) when not.
absl::Status HostCanReserve(uint64_t memory_bytes);

// Installs a std::new_handler for mmsim: when the host refuses an allocation, standard
// output is flushed (everything printed so far stays), "mmsim: out of host memory ..." goes
// to standard error, and the process exits with `status` (no std::bad_alloc, no abort).
void InstallHostMemoryExhaustedHandler(int status);

// Host memory this process uses now (VmRSS of /proc/self/status) and at its peak (VmHWM),
// in bytes; 0 if /proc cannot be read.
uint64_t HostRssBytes();
uint64_t HostPeakRssBytes();

}  // namespace sim

#endif  // MMSIM_SIM_HOST_MEMORY_H_
