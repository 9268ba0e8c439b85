// hw/observer_test.cc: the default hooks are no-ops and overriding works.
#include "hw/observer.h"

#include <string>

#include "gtest/gtest.h"

namespace hw {
namespace {

class CountingObserver : public HwObserver {
 public:
  void OnTlbMiss(int cpu, VirtAddr va) override {
    ++misses;
    last_cpu = cpu;
    last_va = va;
  }
  int misses = 0;
  int last_cpu = -1;
  VirtAddr last_va;
};

TEST(ObserverTest, UnoverriddenHooksDoNothingAndOverriddenOnesAreCalled) {
  CountingObserver obs;
  HwObserver& base = obs;
  base.OnWalkStep(0, 4, PhysAddr(0x1000), 0x2003);
  base.OnTlbHit(0, 0, VirtAddr(0), TlbEntry{});
  base.OnFault(0, Fault::PageFault(0, 0), AccessType::kRead);
  base.OnTlbMiss(3, VirtAddr(0x5000));
  EXPECT_EQ(obs.misses, 1);
  EXPECT_EQ(obs.last_cpu, 3);
  EXPECT_EQ(obs.last_va, VirtAddr(0x5000));
}

TEST(ObserverTest, FlushKindNames) {
  EXPECT_EQ(std::string(TlbFlushKindName(TlbFlushKind::kInvlpg)), "invlpg");
  EXPECT_EQ(std::string(TlbFlushKindName(TlbFlushKind::kInvpcidAllGlobal)),
            "invpcid-all-global");
  EXPECT_EQ(std::string(TlbFlushKindName(TlbFlushKind::kPageFault)),
            "page-fault");
}

}  // namespace
}  // namespace hw
