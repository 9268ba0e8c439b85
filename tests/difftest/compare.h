// tests/difftest/compare.h: compare two Outcomes, and shrink a diverging Case.
//
// Typical use, once a second backend exists:
//
//   difftest::HostBackend host;
//   MySimBackend sim;
//   Case c = GenerateCase(seed);
//   auto diverges = [&](const Case& k) {
//     auto w = host.Run(k), g = sim.Run(k);
//     return w.ok() && g.ok() && Diff(k, *w, *g).has_value();
//   };
//   if (diverges(c)) {
//     Case small = Shrink(c, diverges);
//     auto w = host.Run(small);
//     ADD_FAILURE() << *Diff(small, *w, *sim.Run(small)) << DescribeCase(small, *w);
//   }
#ifndef MMSIM_TESTS_DIFFTEST_COMPARE_H_
#define MMSIM_TESTS_DIFFTEST_COMPARE_H_

#include <functional>
#include <optional>
#include <string>

#include "tests/difftest/case.h"

namespace difftest {

// nullopt if the Outcomes are equal. Otherwise a few lines: the return value
// and errno if they differ, and for each side whose bytes differ the first
// differing byte (its offset in the concatenated bytes, want and got values),
// the number of differing bytes, and the last one. Without the Case, bytes
// are located by offset only.
std::optional<std::string> Diff(const Outcome& want, const Outcome& got);

// The same, but each differing byte is located by side, virtual address,
// region index and region-relative offset, using c's layouts.
std::optional<std::string> Diff(const Case& c, const Outcome& want, const Outcome& got);

// True while the case still shows the problem (e.g. two backends diverge).
using CasePredicate = std::function<bool(const Case&)>;

// Delta-debugging reduction of `c`. REQUIRES: still_fails(c).
// Repeats, until nothing changes or `max_evaluations` predicate calls are
// spent: clear flags; drop chunks of remote and local iovecs (halving chunk
// sizes down to single elements); drop regions; shorten iovec lengths and
// region lengths (from the end, then from the front); simplify fills to kZero
// and prots to rw-. Only candidates that pass ValidateCase are tried, and a
// change is kept only if still_fails holds. Returns a case for which
// still_fails held (c itself if nothing could be removed).
Case Shrink(const Case& c, const CasePredicate& still_fails, int max_evaluations = 4000);

}  // namespace difftest

#endif  // MMSIM_TESTS_DIFFTEST_COMPARE_H_
