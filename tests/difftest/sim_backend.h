// tests/difftest/sim_backend.h: runs a Case on a fresh simulated machine.
//
// How one Run(c) works:
//  1. Boots a sim::Machine (memory: enough for both layouts several times over, at least
//     kMinMemoryBytes) and creates two root processes, `caller` and `target`.
//  2. Maps each Region of c.remote_layout in the target and of c.local_layout in the
//     caller at its fixed address (private anonymous, read-write), fills it with user-mode
//     stores (Fill::kZero: never touched; kPattern: PatternByte of the region's side;
//     kByte: the byte), then mprotects it to its prot.
//  3. Makes the call from the caller with the Machine's libc-like form: the iovec arrays
//     are written into the caller's memory (its stack) and passed as user pointers; the
//     counts are the vector sizes, passed as they are (even above 1024).
//  4. Checks the machine: Machine::DebugVmCheck() must report nothing and every FOLL_PIN
//     taken must have been released. Problems are kept in violations() (a simulator bug
//     that the Outcome cannot show), not in the returned status.
//  5. Reads every region's bytes back with PeekUser (no side effects; never-touched
//     memory reads as zeros) and returns the Outcome. The machine is destroyed.
//
// Not thread-safe; cheap to construct (nothing is kept between runs but the last
// violations() text).
#ifndef MMSIM_TESTS_DIFFTEST_SIM_BACKEND_H_
#define MMSIM_TESTS_DIFFTEST_SIM_BACKEND_H_

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "tests/difftest/case.h"

namespace difftest {

class SimBackend final : public Backend {
 public:
  // The smallest simulated memory a Run boots with.
  static constexpr uint64_t kMinMemoryBytes = uint64_t{512} << 20;

  SimBackend() = default;

  // See Backend and the file comment. Returns InvalidArgument for a Case that fails
  // ValidateCase, Internal if the machine cannot be set up as the Case says (a mapping or
  // a fill failed), otherwise the Outcome of the call.
  absl::StatusOr<Outcome> Run(const Case& c) override;
  std::string name() const override { return "sim"; }

  // What the machine checks found after the call of the last Run: empty if debug_vm was
  // clean and the pins balanced, otherwise a report. A non-empty report is a divergence
  // from the kernel even when the Outcome matches.
  const std::string& violations() const { return violations_; }

 private:
  std::string violations_;
};

}  // namespace difftest

#endif  // MMSIM_TESTS_DIFFTEST_SIM_BACKEND_H_
