// sim/host/compare.h: `mmsim --host FILE.mms` and `mmsim --compare FILE.mms`.
//
// --host runs the scenario on the machine's own kernel (sim/host/host_runner.h) after
// printing the host facts a result can depend on (sim/host/host_env.h).
// --compare runs it on both, statement by statement, and reports every statement whose
// result differs (return value, errno, signal and fault address, loaded bytes) and every
// `expect-mem` range whose bytes differ, with both sides' values.
//
// Markers, comment lines anywhere in the scenario (docs/host.md):
//   # host: sim-only REASON     --compare does not run it on the host (exit 3, skipped)
//   # host: deviation REASON    differences are expected; --compare reports them, exit 0
//
// Exit status of --compare: 0 the two agree (or differ only as a stated deviation);
// 1 they differ; 2 the scenario is invalid (for either); 3 skipped: marked sim-only,
// or the host cannot run it (the reason is printed).
#ifndef MMSIM_SIM_HOST_COMPARE_H_
#define MMSIM_SIM_HOST_COMPARE_H_

#include <ostream>
#include <string>

namespace sim::host {

enum class Mode { kHost, kCompare };

struct Markers {
  std::string sim_only;   // the reason, empty if not marked
  std::string deviation;  // the reason, empty if not marked
};
Markers ReadMarkers(const std::string& text);

// Runs `text` (named `name`) in `mode`; returns the exit status.
int RunHostMode(Mode mode, const std::string& text, const std::string& name, std::ostream& out,
                std::ostream& err);

// The `mmsim --host|--compare [FILE]` command line (FILE absent: the built-in tour).
int HostMain(int argc, char** argv);

}  // namespace sim::host

#endif  // MMSIM_SIM_HOST_COMPARE_H_
