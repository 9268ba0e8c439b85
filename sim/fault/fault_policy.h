// sim/fault/fault_policy.h: when the kernel's fault-injection points fire.
//
// The kernel port asks "should this call fail?" at named points (mm/fault_inject.h:
// fail_page_alloc, failslab, fail_pgtable, fail_fault, fail_gup, fail_uaccess). FaultPolicy
// answers, the way Linux's fault_attr does (lib/fault-inject.c): each armed point has
//   nth          fail the nth pass through the point and none before it (1-based; 0 = any)
//   times        how many failures in all (-1 = unlimited)
//   probability  chance in [0,1] that an eligible pass fails (1 = always)
// drawn from one seeded generator, so a scenario with a seed fails the same calls every run.
//
// Thread safety: none; one policy serves one machine on one host thread.
#ifndef MMSIM_SIM_FAULT_FAULT_POLICY_H_
#define MMSIM_SIM_FAULT_FAULT_POLICY_H_

#include <cstddef>
#include <cstdint>
#include <map>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "hw/splitmix64.h"
#include "mm/fault_inject.h"

namespace sim {

struct FaultSpec {
  uint64_t nth = 0;          // 0: every pass is eligible
  int64_t times = 1;         // -1: unlimited
  double probability = 1.0;  // of an eligible pass failing
};

class FaultPolicy final : public kernel::fault_injector {
 public:
  explicit FaultPolicy(uint64_t seed) : rng_(seed) {}

  // Arms `point`. Fails with InvalidArgument for an unknown point or a bad spec.
  absl::Status Arm(absl::string_view point, const FaultSpec& spec);
  void Disarm(absl::string_view point);
  void DisarmAll() { points_.clear(); }
  static bool IsKnownPoint(absl::string_view point);

  // How often `point` was passed through / made to fail since it was armed.
  uint64_t calls(absl::string_view point) const;
  uint64_t failures(absl::string_view point) const;

  // kernel::fault_injector
  bool should_fail(const char* point, size_t size) override;

 private:
  struct State {
    FaultSpec spec;
    uint64_t calls = 0;
    uint64_t failures = 0;
  };
  double NextUnit() { return rng_.NextUnit(); }  // uniform in [0, 1)

  std::map<std::string, State, std::less<>> points_;
  hw::SplitMix64 rng_;
};

}  // namespace sim

#endif  // MMSIM_SIM_FAULT_FAULT_POLICY_H_
