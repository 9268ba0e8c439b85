// sim/scenario/format.h: prints the AST back as canonical scenario text.
//
// The output re-parses to the same AST, positions aside:
//   ParseScenario(FormatScenario(s)) == s   (compared with SameIgnoringPos)
// and printing is idempotent. Canonical means: one space between arguments,
// addresses in hex, sizes with the largest exact K/M/G suffix, `uid=N` when
// the three ids agree, options that hold their default left out, DATA as a
// "string" when it is mostly printable and as hex: otherwise.
#ifndef MMSIM_SIM_SCENARIO_FORMAT_H_
#define MMSIM_SIM_SCENARIO_FORMAT_H_

#include <cstdint>
#include <string>

#include "sim/scenario/ast.h"

namespace sim::scenario {

// One statement, without a trailing newline.
std::string FormatStatement(const Statement& stmt);

// Every statement followed by '\n'; the bodies of together and explore blocks are
// indented by two spaces per level.
std::string FormatScenario(const Scenario& scenario);

// Pieces, also used by the interpreter to echo values.
std::string FormatData(const Data& data);
std::string FormatProt(Prot prot);              // "rw-"
std::string FormatMmapFlags(MmapFlags flags);   // "private,anon,fixed"
std::string FormatCaps(CapSet caps);            // "all", "none", "cap_kill,cap_sys_ptrace"
std::string FormatSize(uint64_t v);             // "4K", "1G", "4097", "0x40002000"
std::string FormatAddr(uint64_t v);             // "0x7f0000000000"
// "reader=4096 unmapper=0 or deadlock"; an atom alone: "reader=EFAULT".
std::string FormatOutcomePredicate(const OutcomePredicate& p);
std::string FormatOutcomeAtom(const OutcomeAtom& a);
// The state checks: "pte p1 0x7000 present,!dirty pfn=0x123", "present,writable,!dirty",
// "+3 since before".
std::string FormatStateCheck(const StateCheck& check);
std::string FormatFlagCheck(FlagTable table, const FlagCheck& flags);
std::string FormatPfnRef(const PfnRef& pfn);
std::string FormatCounterValue(const CounterValue& v);

}  // namespace sim::scenario

#endif  // MMSIM_SIM_SCENARIO_FORMAT_H_
