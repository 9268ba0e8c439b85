// tests/difftest/compare_test.cc: Diff reports what differs and where; Shrink
// reduces a diverging case to a minimal one.
#include "tests/difftest/compare.h"

#include <sys/mman.h>

#include <cstdint>
#include <optional>
#include <string>

#include "gtest/gtest.h"
#include "tests/difftest/case.h"
#include "tests/difftest/generator.h"
#include "tests/difftest/model_backend.h"

namespace difftest {
namespace {

Case TwoRegionCase() {
  Case c;
  c.local_layout.regions = {
      {.addr = kLocalBase, .len = kPageSize, .prot = PROT_READ | PROT_WRITE},
      {.addr = kLocalBase + 4 * kPageSize, .len = 2 * kPageSize, .prot = PROT_READ}};
  c.remote_layout.regions = {{.addr = kRemoteBase, .len = kPageSize, .prot = PROT_NONE}};
  return c;
}

TEST(Diff, EqualOutcomesHaveNoDiff) {
  Outcome a{.ret = 5, .err = 0, .local_bytes = {1, 2, 3}, .remote_bytes = {4}};
  EXPECT_EQ(Diff(a, a), std::nullopt);
}

TEST(Diff, ReturnValueAndErrno) {
  Outcome want{.ret = 4096}, got{.ret = -1, .err = 14};
  std::optional<std::string> d = Diff(want, got);
  ASSERT_TRUE(d.has_value());
  EXPECT_EQ(*d, "return: want 4096, got -1 EFAULT\n");
}

TEST(Diff, LocatesBytesByAddressWithTheCase) {
  const Case c = TwoRegionCase();
  Outcome want, got;
  want.local_bytes.assign(3 * kPageSize, 0);
  want.remote_bytes.assign(kPageSize, 0);
  got = want;
  got.local_bytes[kPageSize + 0x10] = 0xab;  // region 1, +0x10
  got.local_bytes[kPageSize + 0x1010] = 0xcd;
  std::optional<std::string> d = Diff(c, want, got);
  ASSERT_TRUE(d.has_value());
  EXPECT_EQ(*d,
            "local bytes: 2 differ; first at local 0x300000004010 (region 1 r-- +0x10): want 0x00 "
            "got 0xab; last at local 0x300000005010 (region 1 r-- +0x1010): want 0x00 got 0xcd\n");
  // Without the case: offsets only.
  EXPECT_EQ(*Diff(want, got),
            "local bytes: 2 differ; first at local byte 4112: want 0x00 got 0xab; last at local "
            "byte 8208: want 0x00 got 0xcd\n");
}

TEST(Diff, RemoteSideAndSizeMismatch) {
  const Case c = TwoRegionCase();
  Outcome want, got;
  want.remote_bytes.assign(kPageSize, 7);
  got.remote_bytes.assign(kPageSize, 7);
  got.remote_bytes[0] = 8;
  got.local_bytes.assign(3, 0);
  std::optional<std::string> d = Diff(c, want, got);
  ASSERT_TRUE(d.has_value());
  EXPECT_EQ(*d,
            "local bytes: want 0 bytes, got 3 (a backend bug)\n"
            "remote bytes: 1 differ; first at remote 0x200000000000 (region 0 --- +0x0): want 0x07 "
            "got 0x08\n");
}

// A synthetic predicate with a known minimal case: "some remote element has
// len >= 100, and the local layout has a region filled with a byte".
TEST(Shrink, ReducesSyntheticPredicateToMinimum) {
  auto pred = [](const Case& c) {
    bool len = false, byte = false;
    for (const Iov& e : c.call.remote) len |= e.len >= 100 && e.len <= kSsizeMax;
    for (const Region& r : c.local_layout.regions) byte |= r.fill == Region::Fill::kByte;
    return len && byte;
  };
  int tried = 0;
  for (uint64_t seed = 0; seed < 300; ++seed) {
    const Case c = GenerateCase(seed);
    if (!pred(c) || c.call.remote.size() < 3 || c.local_layout.regions.size() < 2) continue;
    ++tried;
    const Case s = Shrink(c, pred);
    SCOPED_TRACE(DescribeCase(s));
    ASSERT_TRUE(pred(s));
    EXPECT_TRUE(ValidateCase(s).ok());
    EXPECT_EQ(s.call.local.size(), 0u);
    ASSERT_EQ(s.call.remote.size(), 1u);
    EXPECT_EQ(s.call.remote[0].len, 100u);
    EXPECT_EQ(s.remote_layout.regions.size(), 0u);
    ASSERT_EQ(s.local_layout.regions.size(), 1u);
    EXPECT_EQ(s.local_layout.regions[0].len, kPageSize);
    EXPECT_EQ(s.local_layout.regions[0].fill, Region::Fill::kByte);
    EXPECT_EQ(s.local_layout.regions[0].prot, PROT_READ | PROT_WRITE);
    EXPECT_EQ(s.call.flags, 0u);
    if (tried == 5) break;
  }
  EXPECT_EQ(tried, 5);
}

TEST(Shrink, ReturnsTheInputWhenNothingCanGo) {
  Case c;
  c.call.remote = {{kRemoteBase, 1}};
  auto pred = [&](const Case& k) { return k == c; };
  EXPECT_EQ(Shrink(c, pred), c);
}

TEST(Shrink, RespectsTheEvaluationBudget) {
  int calls = 0;
  auto pred = [&](const Case&) {
    ++calls;
    return false;
  };
  Shrink(GenerateCase(3), pred, 25);
  EXPECT_LE(calls, 25);
}

// End to end on a realistic divergence: the spec model against its
// batch-atomic mutant (the pre-3.16 rule). The minimum is one remote element
// that runs exactly one byte into an unpinnable page, one local byte, and one
// page per side.
TEST(Shrink, ReducesAModelDivergence) {
  ModelBackend good;
  ModelBackend bad(ModelBackend::Variant::kBatchAtomic);
  auto diverges = [&](const Case& k) {
    auto w = good.Run(k);
    auto g = bad.Run(k);
    return w.ok() && g.ok() && Diff(k, *w, *g).has_value();
  };
  int found = 0;
  for (uint64_t seed = 0; seed < 5000 && found < 3; ++seed) {
    const Case c = GenerateCase(seed);
    // Small layouts keep the ~hundreds of shrink steps cheap (also under ASan).
    if (c.local_layout.TotalBytes() + c.remote_layout.TotalBytes() > 64 * kPageSize) continue;
    if (!diverges(c)) continue;
    ++found;
    const Case s = Shrink(c, diverges);
    const Outcome w = *good.Run(s);
    SCOPED_TRACE("seed " + std::to_string(seed) + "\n" + DescribeCase(s, w) +
                 Diff(s, w, *bad.Run(s)).value_or(""));
    ASSERT_TRUE(diverges(s));
    ASSERT_EQ(s.call.remote.size(), 1u);
    ASSERT_EQ(s.call.local.size(), 1u);
    EXPECT_EQ(s.call.local[0].len, 1u);
    ASSERT_EQ(s.remote_layout.regions.size(), 1u);
    ASSERT_EQ(s.local_layout.regions.size(), 1u);
    EXPECT_EQ(s.remote_layout.regions[0].len, kPageSize);
    EXPECT_EQ(s.local_layout.regions[0].len, kPageSize);
    const Iov& e = s.call.remote[0];
    EXPECT_EQ((e.base + e.len - 1) % kPageSize, 0u) << "one byte into the bad page";
    EXPECT_EQ(w.ret, 1);
  }
  EXPECT_EQ(found, 3);
}

}  // namespace
}  // namespace difftest
