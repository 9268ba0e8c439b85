// tests/difftest/difftest_main.cc: gtest main for the difftest suites.
//
// Prints, before any test runs, the seed range of the seeded suites, the
// shard this process runs, and whether the host backend can run here (and if
// not, why: those tests then report SKIPPED with the same reason).
#include <malloc.h>

#include <cinttypes>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "absl/status/status.h"
#include "gtest/gtest.h"
#include "tests/difftest/host_backend.h"
#include "tests/difftest/seeds.h"

int main(int argc, char** argv) {
  // Keep large buffers (Outcome bytes, up to a few MiB) in the heap instead of
  // a fresh mmap per allocation, so a run does not page-fault its output
  // buffers in again each time. Page faults dominate the host backend's cost.
  // (32 MiB is the largest threshold glibc accepts on 64-bit.)
  if (mallopt(M_MMAP_THRESHOLD, 32 << 20) != 1 || mallopt(M_TRIM_THRESHOLD, 1 << 30) != 1) {
    std::printf("difftest: mallopt refused (a sanitizer allocator?); big buffers are not reused\n");
  }
  testing::InitGoogleTest(&argc, argv);
  const uint64_t first = difftest::FirstSeed();
  const uint64_t n = difftest::NumCases();
  std::printf("difftest: seeds [%" PRIu64 ", %" PRIu64 "), %" PRIu64
              " per test (DIFFTEST_FIRST_SEED=%" PRIu64 ", DIFFTEST_CASES=%" PRIu64
              ", DIFFTEST_CHUNK=%" PRIu64 ")\n",
              first, first + n, difftest::SeedsPerTest(), first, n, difftest::SeedsPerTest());
  const char* shard = std::getenv("GTEST_SHARD_INDEX");
  const char* shards = std::getenv("GTEST_TOTAL_SHARDS");
  if (shard != nullptr && shards != nullptr) {
    std::printf("difftest: shard %s of %s (gtest runs every %s-th test of the list)\n", shard,
                shards, shards);
  }
  absl::Status s;
  {
    difftest::HostBackend host;  // its target process ends with this scope
    s = host.Availability();
  }
  std::printf("difftest: host backend: %s\n",
              s.ok() ? "available" : std::string(s.ToString()).c_str());
  std::fflush(stdout);
  return RUN_ALL_TESTS();
}
