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

int NumCases() {
  const uint64_t n = EnvU64("DIFFTEST_CASES", kDefaultCases);
  return static_cast<int>(std::min<uint64_t>(n, std::numeric_limits<int32_t>::max()));
}

}  // namespace difftest
