// sim/host_memory.cc
#include "sim/host_memory.h"

#include <sys/mman.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <new>

#include "absl/strings/str_format.h"

namespace sim {

absl::Status HostCanReserve(uint64_t memory_bytes) {
  constexpr uint64_t kStructPageBytes = 64;  // sizeof(kernel::page)
  const uint64_t frames = (memory_bytes + 4095) / 4096;
  const uint64_t sizes[2] = {frames * 4096, frames * kStructPageBytes};
  const char* what[2] = {"simulated memory", "its mem_map (64 bytes a frame)"};
  void* maps[2] = {MAP_FAILED, MAP_FAILED};
  absl::Status status;
  for (int i = 0; i < 2 && status.ok(); ++i) {
    maps[i] = mmap(nullptr, sizes[i], PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (maps[i] == MAP_FAILED)
      status = absl::ResourceExhaustedError(absl::StrFormat(
          "the host cannot reserve %d bytes for %s: mmap: %s", sizes[i], what[i],
          std::strerror(errno)));
  }
  for (int i = 0; i < 2; ++i)
    if (maps[i] != MAP_FAILED) munmap(maps[i], sizes[i]);
  return status;
}

namespace {

int g_exhausted_status = 2;

void HostMemoryExhausted() {
  // Nothing here allocates: flush what is buffered, say why, leave.
  std::cout.flush();
  std::fflush(stdout);
  static const char kMsg[] =
      "mmsim: out of host memory: an allocation of the simulator itself failed; stopping "
      "(the output above is complete up to here)\n";
  (void)!write(2, kMsg, sizeof(kMsg) - 1);
  std::_Exit(g_exhausted_status);
}

uint64_t ProcStatusKb(const char* field) {
  FILE* f = std::fopen("/proc/self/status", "r");
  if (f == nullptr) return 0;
  char line[256];
  uint64_t kb = 0;
  const size_t n = std::strlen(field);
  while (std::fgets(line, sizeof(line), f) != nullptr) {
    if (std::strncmp(line, field, n) == 0 && line[n] == ':') {
      kb = std::strtoull(line + n + 1, nullptr, 10);
      break;
    }
  }
  std::fclose(f);
  return kb;
}

}  // namespace

void InstallHostMemoryExhaustedHandler(int status) {
  g_exhausted_status = status;
  std::set_new_handler(HostMemoryExhausted);
}

uint64_t HostRssBytes() { return ProcStatusKb("VmRSS") * 1024; }
uint64_t HostPeakRssBytes() { return ProcStatusKb("VmHWM") * 1024; }

}  // namespace sim
