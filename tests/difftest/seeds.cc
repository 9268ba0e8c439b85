// tests/difftest/seeds.cc: the seed range from the environment.
#include "tests/difftest/seeds.h"

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <limits>

namespace difftest {
namespace {

uint64_t EnvU64(const char* name, uint64_t fallback) {
  const char* v = std::getenv(name);
  if (v == nullptr || *v == '\0') return fallback;
  errno = 0;
  char* end = nullptr;
  unsigned long long x = std::strtoull(v, &end, 0);
  if (errno != 0 || *end != '\0') {
    std::fprintf(stderr, "difftest: ignoring %s=%s (not a number)\n", name, v);
    return fallback;
  }
  return x;
}

}  // namespace

uint64_t FirstSeed() { return EnvU64("DIFFTEST_FIRST_SEED", 0); }

uint64_t NumCases() { return EnvU64("DIFFTEST_CASES", kDefaultCases); }

uint64_t SeedsPerTest() { return std::max<uint64_t>(EnvU64("DIFFTEST_CHUNK", 1), 1); }

int NumTests() {
  const uint64_t chunk = SeedsPerTest();
  const uint64_t n = NumCases() / chunk + (NumCases() % chunk != 0);
  return static_cast<int>(std::min<uint64_t>(n, std::numeric_limits<int32_t>::max()));
}

SeedRange SeedsOfTest(int index) {
  const uint64_t chunk = SeedsPerTest();
  const uint64_t begin = static_cast<uint64_t>(index) * chunk;
  return {FirstSeed() + begin, FirstSeed() + std::min(NumCases(), begin + chunk)};
}

}  // namespace difftest
