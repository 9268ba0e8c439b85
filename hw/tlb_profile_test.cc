// hw/tlb_profile_test.cc: built-in profiles and validation.
#include "hw/tlb_profile.h"

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "gtest/gtest.h"

namespace hw {
namespace {

int Entries(const TlbLevelConfig& level, PageSize size) {
  for (const TlbArrayConfig& a : level.arrays) {
    if (a.size == size) return a.entries();
  }
  return 0;
}
int Ways(const TlbLevelConfig& level, PageSize size) {
  for (const TlbArrayConfig& a : level.arrays) {
    if (a.size == size) return a.ways;
  }
  return 0;
}

TEST(TlbProfileTest, BuiltInNamesAndDefault) {
  EXPECT_EQ(TlbProfileNames(),
            (std::vector<std::string>{"skylake", "goldencove", "tiny"}));
  EXPECT_EQ(DefaultTlbProfile().name, "skylake");
  EXPECT_EQ(FindTlbProfile("tiny")->name, "tiny");
  EXPECT_EQ(FindTlbProfile("pentium"), nullptr);
  for (const std::string& name : TlbProfileNames()) {
    const TlbProfile* p = FindTlbProfile(name);
    ASSERT_NE(p, nullptr);
    EXPECT_TRUE(ValidateTlbProfile(*p).ok()) << name;
    EXPECT_FALSE(p->source.empty()) << name;
  }
}

TEST(TlbProfileTest, SkylakeNumbers) {
  const TlbProfile& p = *FindTlbProfile("skylake");
  ASSERT_EQ(p.levels.size(), 2u);
  EXPECT_EQ(Entries(p.levels[0], PageSize::k4K), 64);
  EXPECT_EQ(Ways(p.levels[0], PageSize::k4K), 4);
  EXPECT_EQ(Entries(p.levels[0], PageSize::k2M), 32);
  EXPECT_EQ(Ways(p.levels[0], PageSize::k2M), 4);
  EXPECT_EQ(Entries(p.levels[0], PageSize::k1G), 4);
  EXPECT_EQ(Ways(p.levels[0], PageSize::k1G), 4);  // fully associative
  EXPECT_EQ(Entries(p.levels[1], PageSize::k4K), 1536);
  EXPECT_EQ(Ways(p.levels[1], PageSize::k4K), 12);
  EXPECT_TRUE(p.levels[1].arrays[0].shares_2m);
  EXPECT_EQ(Entries(p.levels[1], PageSize::k1G), 16);
  EXPECT_EQ(Ways(p.levels[1], PageSize::k1G), 4);
}

TEST(TlbProfileTest, GoldenCoveNumbers) {
  const TlbProfile& p = *FindTlbProfile("goldencove");
  EXPECT_EQ(Entries(p.levels[0], PageSize::k4K), 96);
  EXPECT_EQ(Ways(p.levels[0], PageSize::k4K), 6);
  EXPECT_EQ(Entries(p.levels[0], PageSize::k2M), 32);
  EXPECT_EQ(Entries(p.levels[0], PageSize::k1G), 8);
  EXPECT_EQ(Entries(p.levels[1], PageSize::k4K), 2048);
  EXPECT_EQ(Ways(p.levels[1], PageSize::k4K), 16);
  EXPECT_EQ(Entries(p.levels[1], PageSize::k1G), 1024);
}

TEST(TlbProfileTest, ValidationRejectsBadShapes) {
  const TlbProfile good{.name = "t",
                        .levels = {{"L1", {{PageSize::k4K, 4, 2}}}}};
  EXPECT_TRUE(ValidateTlbProfile(good).ok());

  TlbProfile p = good;
  p.levels.clear();
  EXPECT_EQ(ValidateTlbProfile(p).code(), absl::StatusCode::kInvalidArgument);

  p = good;
  p.levels[0].arrays[0].sets = 3;
  EXPECT_FALSE(ValidateTlbProfile(p).ok());
  p.levels[0].arrays[0].sets = 0;
  EXPECT_FALSE(ValidateTlbProfile(p).ok());

  p = good;
  p.levels[0].arrays[0].ways = 0;
  EXPECT_FALSE(ValidateTlbProfile(p).ok());
  p.levels[0].arrays[0].ways = 65;
  EXPECT_FALSE(ValidateTlbProfile(p).ok());

  p = good;
  p.levels[0].arrays.push_back({PageSize::k4K, 1, 1});
  EXPECT_FALSE(ValidateTlbProfile(p).ok());  // two 4K arrays

  p = good;
  p.levels[0].arrays[0].shares_2m = true;
  p.levels[0].arrays.push_back({PageSize::k2M, 1, 1});
  EXPECT_FALSE(ValidateTlbProfile(p).ok());  // 2M cached twice

  p = good;
  p.levels[0].arrays = {{PageSize::k2M, 1, 1, true}};
  EXPECT_FALSE(ValidateTlbProfile(p).ok());  // only 4K arrays may share

  p = good;
  p.levels[0].arrays = {{PageSize::k2M, 1, 1}};
  const absl::Status s = ValidateTlbProfile(p);
  EXPECT_FALSE(s.ok());
  EXPECT_NE(s.message().find("first level needs a 4K array"),
            absl::string_view::npos);
}

}  // namespace
}  // namespace hw
