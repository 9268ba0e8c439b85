#include "sim/machine.h"

#include "gtest/gtest.h"

namespace sim {
namespace {

TEST(MachineTest, Boots) {
  auto m = Machine::Create(MachineConfig{});
  ASSERT_TRUE(m.ok()) << m.status();
}

}  // namespace
}  // namespace sim
