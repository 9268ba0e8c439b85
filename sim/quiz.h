// sim/quiz.h: `mmsim quiz`: seeded exercises, as OSTEP's paging simulators have.
//
//   mmsim quiz --kind=walk|tlb|cow|pvm [--seed=N] [--solve] [--scenario]
//
// Each kind generates, from the seed alone, a scenario: statements that set a machine up
// (shown to the student with what mmsim printed for them), the statements the questions
// are about, and statements that reveal the answers. The scenario is run on the simulator
// once; the problem is made of the output of the shown statements, and --solve adds the
// output of the answering ones, quoted line by line ("  > ..."): every answer is
// something mmsim printed, nothing is computed beside it. --scenario prints the generated
// scenario instead, so that anyone can run it with mmsim and check the answers.
//
//   walk  a process's maps and the page-table walk for one address (the final physical
//         address hidden), then a load or store there: which physical address, or which
//         #PF error code, fixed by the kernel or ending in SIGSEGV?
//   tlb   a tiny TLB's contents after a process touched its pages, then a sequence of
//         loads: L1 hit, STLB hit, or a miss and a page walk; what is evicted?
//   cow   a process's pages before fork and the writes (and reads) parent and child
//         make after it: which pages do they share at the end, with which pfns,
//         mapcounts and refcounts?
//   pvm   two processes' maps and credentials and one process_vm_readv with its iovecs:
//         its return value (bytes) or errno.
//
// The same kind and seed give the same text, byte for byte.
#ifndef MMSIM_SIM_QUIZ_H_
#define MMSIM_SIM_QUIZ_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace sim {

enum class QuizKind { kWalk, kTlb, kCow, kPvm };

// "walk", "tlb", "cow", "pvm".
bool ParseQuizKind(const std::string& name, QuizKind* kind);
const char* QuizKindName(QuizKind kind);

struct QuizText {
  std::string scenario;  // the generated scenario (.mms)
  std::string problem;   // what the student gets
  std::string answers;   // what --solve adds
};

// Generates and runs the quiz. An error only if the simulator could not run the
// generated scenario (a bug: the generator makes only scenarios that run).
absl::StatusOr<QuizText> MakeQuiz(QuizKind kind, uint64_t seed);

// The `mmsim quiz ...` command: argv[1] is "quiz". Returns the exit status (2 for a bad
// flag, naming it).
int QuizMain(int argc, char** argv);

}  // namespace sim

#endif  // MMSIM_SIM_QUIZ_H_
