// sim/host/host_runner.h: runs a scenario on the machine's own kernel (`mmsim --host`).
//
// Every `process` is a real process, every `thread` a real thread, each running the
// server of sim/host/server.h; every operation is the real system call or a byte-wise
// user access at the scenario's literal addresses. The echo is the simulator's
// (sim/interpreter.h), line for line, so the two can be compared; a statement the host
// cannot perform is echoed with `  # skipped on the host: REASON`.
//
// A `together` block runs once, its operations at the same time: each is sent to its own
// host task before any answer is awaited, and the host kernel's scheduler interleaves
// them as it will. An `explore` block does the same (one run: a sample of what the host
// does, not an exploration); its `expect-always` and `expect-never` assertions are
// checked against that one outcome, and `expect-sometimes` is reported as undecided.
// After an explore block the simulator's machine is as it was before the block, the
// host's as its one run left it: every later statement is skipped on the host.
//
// Exit status: 0 every expectation held; 1 one failed; 2 the scenario is invalid;
// 3 the host cannot run it (a process could not be set up, e.g. its fixed stack clashes
// with a host mapping, or the host forbids what the scenario needs).
#ifndef MMSIM_SIM_HOST_HOST_RUNNER_H_
#define MMSIM_SIM_HOST_HOST_RUNNER_H_

#include <sys/types.h>

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <ostream>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "sim/host/host_env.h"
#include "sim/host/server.h"
#include "sim/result_format.h"
#include "sim/scenario/ast.h"

namespace sim::host {

inline constexpr int kExitHostCannotRun = 3;

// Where the simulator puts the iovec arrays of an explicit `[ADDR:LEN, ...]` list
// (Machine's rule, sim/machine.h kIovecBase): the local array at the returned address, the
// remote one right after; each process maps that area when it is created.
uint64_t IovecArrayAddress();

// What one statement did on the host, for --compare.
struct HostStep {
  bool ran = false;             // false: skipped (see `skipped`) or not a runnable kind
  std::string skipped;          // the reason, when skipped
  bool environment = false;     // skipped because of what this host allows (Yama, pvm, limits)
  std::string result;           // the echoed result (text after " = ")
  StatementResult res;          // for result-producing statements
  std::optional<std::string> mem;  // expect-mem: the bytes the host holds there
  std::string mem_error;        // expect-mem: why they could not be read
  // At the `end` that closes a together or explore block: each operation's task and
  // result (the echoed text), in the block's order, then for an explore block "#checks"
  // ("ok" or "failed": its expect, expect-mem and expect-same checks, as the simulator's
  // Interpreter::last_block_outcomes). `block_skipped`: why an operation was skipped.
  std::vector<std::pair<std::string, std::string>> block;
  std::string block_skipped;
};

class HostRunner {
 public:
  // Starts the zygote; call before the process grows (before the simulator boots).
  static absl::StatusOr<std::unique_ptr<HostRunner>> Create(HostEnv env, std::ostream& out,
                                                           std::ostream& err);
  ~HostRunner();  // ends every host task it started and reaps them

  int Run(const scenario::Scenario& scenario);
  // One statement; *step (may be null) says what happened. False: the run must stop.
  bool Step(const scenario::Statement& stmt, HostStep* step);
  int exit_status() const;
  // For --compare when the simulator's vm.mmap_min_addr could not be set to the host's:
  // an mmap whose address lies below `below` is skipped (the two kernels' limits differ).
  void SkipMmapBelow(uint64_t below, std::string why) {
    skip_mmap_below_ = below;
    skip_mmap_why_ = std::move(why);
  }
  // The host pid (tid) a scenario name stands for.
  std::optional<pid_t> TidOf(const std::string& name) const;

 private:
  struct Task {
    int fd = -1;      // channel to its server; -1 once it exited
    pid_t tid = 0;
    pid_t tgid = 0;
    std::string process;  // the name of its process (itself for a process)
  };
  HostRunner(HostEnv env, std::ostream& out, std::ostream& err, pid_t zygote, int zygote_fd);

  bool Fail(const scenario::SourcePos& pos, const std::string& what);
  bool CannotRun(const scenario::SourcePos& pos, const std::string& what);
  Task* FindTask(const scenario::SourcePos& pos, const std::string& name);
  // Sends a request and reads the response (and a passed fd into *fd when non-null).
  bool Call(int fd, uint32_t op, std::initializer_list<uint64_t> args, const std::string& payload,
            Response* r, std::string* reply, int* passed_fd = nullptr);
  // "" if [addr, addr+len) is clear of the host's own mappings in `t`'s process, else
  // the clashing line of /proc/PID/maps.
  std::string HostClash(Task& t, uint64_t addr, uint64_t len);
  // Reads `len` bytes of `t`'s memory the way a debugger would (/proc/PID/mem).
  absl::StatusOr<std::string> Peek(const Task& t, uint64_t addr, uint64_t len);
  bool NewTask(const scenario::SourcePos& pos, const std::string& name, const std::string& process,
               int fd, std::string* result, bool is_process);
  bool Execute(const scenario::Statement& stmt, HostStep* step);
  bool Done(const Response& r, HostStep* step);
  bool AccessDone(const Response& r, const std::string& bytes, uint64_t addr, bool load,
                  uint64_t len, HostStep* step);
  // Echoes a statement that ran (or was skipped) with its result.
  void Echo(const scenario::Statement& stmt, const HostStep& step);
  // Checks an `expect` against `res` (skipped when its statement was); echoes it.
  void CheckExpect(const scenario::ExpectStmt& e, const StatementResult& res, bool skipped);
  // A statement while a block is open; runs the block at its final `end`.
  bool StepBlock(const scenario::Statement& stmt, HostStep* step);
  bool RunBlock(const std::vector<scenario::Statement>& block, HostStep* step);

  HostEnv env_;
  std::ostream& out_;
  std::ostream& err_;
  pid_t zygote_;
  int zygote_fd_;
  std::map<std::string, Task> tasks_;
  // Per process name: the host's own mappings it started with ([lo, hi) pairs).
  std::map<std::string, std::vector<std::pair<uint64_t, uint64_t>>> host_ranges_;
  std::map<std::string, std::string> kthreads_;  // names the host cannot give a task
  std::map<std::string, std::string> files_;     // `file` names -> temporary paths
  std::map<std::string, int> file_fds_;
  std::string tmpdir_;
  uint64_t skip_mmap_below_ = 0;
  std::string skip_mmap_why_;
  StatementResult last_;
  bool last_skipped_ = false;
  // An open together/explore block.
  scenario::BlockCollector block_;
  std::string diverged_;  // set after an explore block: why later statements are skipped
  // While a block's operations run, one host thread each: they take turns at everything
  // but the wait for their host task's answer (Call drops the lock around it), so this
  // object is used by one thread at a time and the host tasks run at once.
  std::mutex mu_;
  bool concurrent_ = false;
  int failures_ = 0;
  bool invalid_ = false;
  bool cannot_run_ = false;
};

}  // namespace sim::host

#endif  // MMSIM_SIM_HOST_HOST_RUNNER_H_
