// tests/difftest/generator.h: random Cases from a seed, and their descriptions.
//
// GenerateCase(seed) is a pure function of the seed: it uses only the Rng
// below (splitmix64), never std:: distributions or the host, so a seed names
// the same Case on every machine, compiler and run. Three cases in five are
// built to move bytes (valid arguments, and each vector's first element
// starts inside memory its side may access, so the return is positive): their
// later elements run off region ends, over holes and PROT_NONE or read-only
// regions, so about half of them stop partway; a third of them move long runs
// (past the kernel's 16-entry on-stack page array). The other two in five are
// the free mix below, mostly EINVAL and EFAULT. By the spec model, 1000 seeds
// give about 65% positive returns (half of them partial), 22% EFAULT, 11%
// EINVAL, 2% zero (generator_test checks the mix). What it aims at:
//  * layouts of 1..8 regions per side, mostly separated by holes, sometimes
//    adjacent with different prots; 1..40 pages each (half of them 1..8);
//    prot among rw- r-- --- -w- --x r-x; fills zero/pattern/byte;
//  * in long runs, a third of the regions of 17..72 pages;
//  * in about one case in 24 of the free mix and one in 48 of those built to
//    move bytes, one region per side of 1030..1100 pages and an element per
//    side spanning it, so the transfer crosses the kernel's 1024-page pin
//    batch;
//  * iovec vectors of 0..40 elements usually, sometimes up to 1024, rarely
//    1025 (EINVAL); zero lengths, unaligned bases, elements crossing holes and
//    prot boundaries, elements in holes, in the other side's window, at NULL,
//    (void*)-1, kernel and non-canonical addresses; lengths up to SSIZE_MAX and
//    rarely above it (EINVAL); sometimes local and remote totals made equal;
//  * read and write, and rarely flags != 0.
// Every generated Case passes ValidateCase; each layout stays under 5.5 MiB,
// and each vector's ordinary (non-huge) lengths under 8 MiB plus the one
// batch element. On this project's VM the host runs an average case in
// tens of milliseconds, most of it page faults.
//
// Changing the generator changes what a seed means. That is allowed (seeds are
// not stored anywhere), but a reported failure should always be kept as the
// DescribeCase output, not as a seed.
#ifndef MMSIM_TESTS_DIFFTEST_GENERATOR_H_
#define MMSIM_TESTS_DIFFTEST_GENERATOR_H_

#include <cstdint>
#include <string>

#include "hw/splitmix64.h"
#include "tests/difftest/case.h"

namespace difftest {

// Draws on hw::SplitMix64 (the project's one seeded generator): deterministic on
// every host, and fully specified in hw/splitmix64.h.
class Rng {
 public:
  explicit Rng(uint64_t seed) : gen_(seed) {}
  uint64_t Next() { return gen_.Next(); }
  // Uniform in [0, n); n > 0. (Multiply-shift, slightly biased; deterministic.)
  uint64_t Below(uint64_t n);
  // Uniform in [lo, hi]; lo <= hi.
  uint64_t Between(uint64_t lo, uint64_t hi);
  // True with probability 1/n.
  bool OneIn(uint64_t n) { return Below(n) == 0; }

 private:
  hw::SplitMix64 gen_;
};

Case GenerateCase(uint64_t seed);

// A human reproduction of `c` in two forms:
//  1. C++ aggregate-initializer code (`difftest::Case c = {...};`) that can be
//     pasted into a test (needs <sys/mman.h> for PROT_*);
//  2. mmsim scenario text: `process caller` / `process target`, then per region
//     `mmap ADDR LEN rw- private,anon,fixed`, `fill ADDR LEN BYTE|pattern`
//     (not for Fill::kZero) and `mprotect ADDR LEN PROT` (if not rw-), then
//     `caller: process_vm_readv|process_vm_writev target [BASE:LEN, ...] [...]`
//     with ` flags=0x..` appended only when flags != 0.
// The two-argument form ends the scenario with an `expect` line from
// `expected` (`expect 4096` or `expect -1 EFAULT`); use the host's Outcome.
// The scenario language's `pattern` is difftest's remote formula for every
// process, so `fill ... pattern` is exact for `target`; for `caller` the bytes
// differ from the C++ case (which uses the local formula). The return value
// does not depend on fill contents, so the `expect` line holds for both; a `#`
// comment says so when the caller has a pattern fill.
std::string DescribeCase(const Case& c);
std::string DescribeCase(const Case& c, const Outcome& expected);

// The two halves of DescribeCase, separately. `expected` may be null.
std::string CaseToCpp(const Case& c);
std::string CaseToScenario(const Case& c, const Outcome* expected);

// "EFAULT", "EINVAL", ... (the scenario language's table, sim/scenario/errno_names.h),
// "0" for 0, or the number.
std::string ErrnoName(int err);

}  // namespace difftest

#endif  // MMSIM_TESTS_DIFFTEST_GENERATOR_H_
