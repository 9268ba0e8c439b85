// tests/difftest/model_backend.h: docs/semantics.md as an executable spec.
//
// ModelBackend computes the Outcome of a Case from the rules written in
// docs/semantics.md (§1 the model, §3 the error table and §4 the partial-transfer rule),
// with no kernel, no processes and no simulator: argument checks in the
// kernel's order (flags, local count, local lengths, access_ok and the
// MAX_RW_COUNT clamp with the single-element ITER_UBUF variant, local total 0,
// remote count and lengths, all remote lengths 0), then the stream walk:
// remote pages must allow the access by VMA flags (read needs PROT_READ,
// write needs PROT_WRITE), local bytes must be accessible to the CPU (a
// readv destination needs PROT_WRITE, a writev source any of R/W/X, but not X alone
// on a CPU with protection keys), the
// remote side stops at page granularity and the local side at byte
// granularity, and later elements are not processed after a failure.
//
// What it is for:
//  * checking the host harness and docs/semantics.md against each other on random
//    cases (model_vs_host_test), so a surprise in either shows up as a diff;
//  * a reference for whoever writes the SimBackend: where the simulator and
//    the host disagree, the model says which one departs from the written
//    rules;
//  * Variant::kBatchAtomic, a deliberately wrong variant (the v3.2..v3.15
//    rule: a pin batch that is not fully pinnable transfers nothing), which
//    gives the shrinker a realistic divergence to reduce.
#ifndef MMSIM_TESTS_DIFFTEST_MODEL_BACKEND_H_
#define MMSIM_TESTS_DIFFTEST_MODEL_BACKEND_H_

#include <string>

#include "absl/status/statusor.h"
#include "tests/difftest/case.h"

namespace difftest {

class ModelBackend final : public Backend {
 public:
  enum class Variant {
    kCurrent,      // docs/semantics.md, current kernels (>= 6.4)
    kBatchAtomic,  // wrong on purpose: all-or-nothing per 1024-page pin batch
  };
  // `pku`: the CPU has protection keys, as the host's may (HostHasPku): an exactly
  // PROT_EXEC local page is then unreadable.
  explicit ModelBackend(Variant variant = Variant::kCurrent, bool pku = HostHasPku())
      : variant_(variant), pku_(pku) {}

  absl::StatusOr<Outcome> Run(const Case& c) override;
  std::string name() const override {
    return variant_ == Variant::kCurrent ? "model" : "model-batch-atomic";
  }

 private:
  const Variant variant_;
  const bool pku_;
};

}  // namespace difftest

#endif  // MMSIM_TESTS_DIFFTEST_MODEL_BACKEND_H_
