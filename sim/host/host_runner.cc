// sim/host/host_runner.cc
#include "sim/host/host_runner.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <ftw.h>
#include <sstream>
#include <thread>
#include <variant>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "sim/host/channel.h"
#include "sim/machine.h"
#include "sim/scenario/format.h"

namespace sim::host {
namespace {

using namespace scenario;  // NOLINT: the AST's many statement types

// Receives a Response header, with an SCM_RIGHTS fd if one came along.
bool RecvResponse(int fd, Response* r, int* passed) {
  iovec iov = {r, sizeof *r};
  msghdr msg = {};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int))] = {};
  msg.msg_control = control;
  msg.msg_controllen = sizeof control;
  ssize_t k;
  do {
    k = recvmsg(fd, &msg, MSG_CMSG_CLOEXEC);
  } while (k < 0 && errno == EINTR);
  if (k <= 0) return false;
  for (cmsghdr* c = CMSG_FIRSTHDR(&msg); c != nullptr; c = CMSG_NXTHDR(&msg, c)) {
    if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS) {
      int got;
      std::memcpy(&got, CMSG_DATA(c), sizeof got);
      if (passed != nullptr) {
        *passed = got;
      } else {
        close(got);
      }
    }
  }
  if (static_cast<size_t>(k) < sizeof *r) return RecvAll(fd, reinterpret_cast<char*>(r) + k, sizeof *r - k);
  return true;
}

std::string ErrText(int e) { return absl::StrCat(strerror(e), " (errno ", e, ")"); }

// A server that stops answering (a bug, or a task the scenario left blocked) must not hang
// mmsim: its channel times out and the run stops with "lost the channel".
void SetReplyTimeout(int fd) {
  timeval tv = {30, 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
}

int RemoveEntry(const char* path, const struct stat*, int, struct FTW*) { return remove(path); }

}  // namespace

static_assert(kSimStackTop == Machine::kStackTop && kSimStackSize == Machine::kStackSize,
              "the host servers map the simulator's stack");

uint64_t IovecArrayAddress() { return Machine::kIovecBase; }

absl::StatusOr<std::unique_ptr<HostRunner>> HostRunner::Create(HostEnv env, std::ostream& out,
                                                              std::ostream& err) {
  // Orphans (a process whose parent exited) come back to us, so every host task is reaped.
  prctl(PR_SET_CHILD_SUBREAPER, 1);
  int fd = -1;
  pid_t z = StartZygote(&fd);
  if (z < 0) return absl::InternalError(absl::StrCat("cannot fork the host zygote: ", ErrText(errno)));
  SetReplyTimeout(fd);
  return std::unique_ptr<HostRunner>(new HostRunner(std::move(env), out, err, z, fd));
}

HostRunner::HostRunner(HostEnv env, std::ostream& out, std::ostream& err, pid_t zygote,
                       int zygote_fd)
    : env_(std::move(env)), out_(out), err_(err), zygote_(zygote), zygote_fd_(zygote_fd) {}

HostRunner::~HostRunner() {
  // Every server exits when its channel closes; orphans are reparented to us (subreaper).
  for (auto& [name, t] : tasks_) {
    if (t.fd >= 0) close(t.fd);
  }
  close(zygote_fd_);
  for (auto& [name, fd] : file_fds_) close(fd);
  for (int tries = 0; tries < 500; ++tries) {
    pid_t r = waitpid(-1, nullptr, WNOHANG | __WALL);
    if (r < 0 && errno == ECHILD) break;
    if (r == 0) usleep(2000);
  }
  // Stragglers (a stuck server) are killed by pid, never by name.
  for (auto& [name, t] : tasks_) {
    if (t.tgid > 0 && kill(t.tgid, 0) == 0 && waitpid(t.tgid, nullptr, WNOHANG | __WALL) == 0) {
      kill(t.tgid, SIGKILL);
      waitpid(t.tgid, nullptr, __WALL);
    }
  }
  if (!tmpdir_.empty()) nftw(tmpdir_.c_str(), RemoveEntry, 8, FTW_DEPTH | FTW_PHYS);
}

int HostRunner::exit_status() const {
  if (invalid_) return 2;
  if (cannot_run_) return kExitHostCannotRun;
  return failures_ > 0 ? 1 : 0;
}

std::optional<pid_t> HostRunner::TidOf(const std::string& name) const {
  auto it = tasks_.find(name);
  if (it == tasks_.end()) return std::nullopt;
  return it->second.tid;
}

bool HostRunner::Fail(const SourcePos& pos, const std::string& what) {
  err_ << FormatPos(pos) << ": " << what << "\n";
  invalid_ = true;
  return false;
}

bool HostRunner::CannotRun(const SourcePos& pos, const std::string& what) {
  const std::string msg = absl::StrCat(FormatPos(pos), ": the host cannot run this scenario: ", what);
  out_ << msg << "\n";
  if (&err_ != &out_) err_ << msg << "\n";
  cannot_run_ = true;
  return false;
}

HostRunner::Task* HostRunner::FindTask(const SourcePos& pos, const std::string& name) {
  auto it = tasks_.find(name);
  if (it == tasks_.end()) {
    Fail(pos, absl::StrCat("expected a task that exists, got '", name,
                           "' (it was never created, e.g. because fork failed)"));
    return nullptr;
  }
  return &it->second;
}

bool HostRunner::Call(int fd, uint32_t op, std::initializer_list<uint64_t> args,
                      const std::string& payload, Response* r, std::string* reply, int* passed_fd) {
  Request q = {};
  q.op = static_cast<Op>(op);
  size_t i = 0;
  for (uint64_t a : args) q.a[i++] = a;
  q.len = payload.size();
  if (fd < 0) return false;
  // In a block's concurrent run, the other operations' threads go on while this one's
  // host task works (see mu_).
  if (concurrent_) mu_.unlock();
  bool ok = SendAll(fd, &q, sizeof q) && SendAll(fd, payload.data(), payload.size()) &&
            RecvResponse(fd, r, passed_fd);
  std::string bytes(ok ? r->len : 0, '\0');
  if (ok && r->len > 0) ok = RecvAll(fd, bytes.data(), r->len);
  if (concurrent_) mu_.lock();
  if (!ok) return false;
  if (reply != nullptr) *reply = std::move(bytes);
  return true;
}

std::string HostRunner::HostClash(Task& t, uint64_t addr, uint64_t len) {
  Response r;
  std::string maps;
  if (!Call(t.fd, static_cast<uint32_t>(Op::kMaps), {}, "", &r, &maps)) return "";
  const uint64_t end = addr + len < addr ? ~uint64_t{0} : addr + len;
  std::istringstream in(maps);
  std::string line;
  while (std::getline(in, line)) {
    unsigned long long lo = 0, hi = 0;
    if (sscanf(line.c_str(), "%llx-%llx", &lo, &hi) != 2) continue;
    // The host's own: what the process had when it was set up (binary, libraries,
    // heap, its real stack, vdso), minus the simulator's stack; the server's buffers and
    // thread stacks; and the kernel-named areas, which can grow.
    const bool named = line.find("[heap]") != std::string::npos || line.find("[stack]") != std::string::npos ||
                       line.find("[vdso]") != std::string::npos || line.find("[vvar") != std::string::npos ||
                       line.find("mmsim host server buffer") != std::string::npos;
    bool initial = false;
    for (const auto& [l, h] : host_ranges_[t.process]) initial |= l < hi && h > lo;
    if (!named && !initial) continue;
    if (lo < end && hi > addr) return line;
  }
  return "";
}

absl::StatusOr<std::string> HostRunner::Peek(const Task& t, uint64_t addr, uint64_t len) {
  const std::string path = absl::StrCat("/proc/", t.tid, "/mem");
  int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return absl::UnavailableError(absl::StrCat("open ", path, ": ", ErrText(errno)));
  std::string bytes(len, '\0');
  size_t got = 0;
  while (got < len) {
    ssize_t k = pread(fd, bytes.data() + got, len - got, static_cast<off_t>(addr + got));
    if (k < 0 && errno == EINTR) continue;
    if (k <= 0) {
      const int e = k < 0 ? errno : EIO;
      close(fd);
      return absl::UnavailableError(absl::StrFormat("cannot read %d bytes at %#x: %s", len - got,
                                                    addr + got, ErrText(e)));
    }
    got += static_cast<size_t>(k);
  }
  close(fd);
  return bytes;
}

int HostRunner::Run(const Scenario& scenario) {
  for (const Statement& stmt : scenario.statements) {
    if (!Step(stmt, nullptr)) break;
  }
  if (invalid_) return exit_status();
  out_ << absl::StrFormat("# %s: %d expectation%s failed on the host\n", scenario.filename, failures_,
                          failures_ == 1 ? "" : "s");
  return exit_status();
}

bool HostRunner::Step(const Statement& stmt, HostStep* step) {
  HostStep local;
  if (step == nullptr) step = &local;
  *step = HostStep{};
  if (invalid_ || cannot_run_) return false;
  const SourcePos& pos = PosOf(stmt);
  if (std::holds_alternative<LetStmt>(stmt)) return true;
  if (!diverged_.empty()) {
    step->skipped = diverged_;
    Echo(stmt, *step);
    return true;
  }
  if (block_.open() || std::holds_alternative<TogetherStmt>(stmt) || std::holds_alternative<ExploreStmt>(stmt)) {
    return StepBlock(stmt, step);
  }
  if (const auto* e = std::get_if<ExpectStmt>(&stmt)) {
    if (!last_skipped_ && last_.kind == StatementResult::Kind::kNone) {
      return Fail(pos, "expected `expect` after a statement with a result");
    }
    step->ran = !last_skipped_;
    if (last_skipped_) step->skipped = "the statement it checks was skipped";
    CheckExpect(*e, last_, last_skipped_);
    return true;
  }
  const bool ok = Execute(stmt, step);
  if (!ok) return false;
  if (ProducesResult(stmt)) {
    last_skipped_ = !step->ran;
    if (step->ran) last_ = step->res;
  }
  Echo(stmt, *step);
  return true;
}

void HostRunner::Echo(const Statement& stmt, const HostStep& step) {
  const std::string text = FormatStatement(stmt);
  const int line = PosOf(stmt).line;
  if (!step.skipped.empty()) {
    out_ << absl::StrFormat("[%d] %s  # skipped on the host: %s\n", line, text, step.skipped);
  } else {
    out_ << absl::StrFormat("[%d] %s%s\n", line, text,
                            step.result.empty() ? "" : absl::StrCat(" = ", step.result));
  }
}

void HostRunner::CheckExpect(const ExpectStmt& e, const StatementResult& res, bool skipped) {
  const std::string text = FormatStatement(Statement(e));
  if (skipped) {
    out_ << absl::StrFormat("[%d] %s  # skipped on the host: the statement it checks was skipped\n",
                            e.pos.line, text);
    return;
  }
  std::string want;
  if (ExpectHolds(e.result, res, &want)) {
    out_ << absl::StrFormat("[%d] %s ok\n", e.pos.line, text);
  } else {
    ++failures_;
    const std::string msg = absl::StrFormat("%s:%d: expectation failed: expected %s, got %s", e.pos.file,
                                            e.pos.line, want, FormatStatementResult(res));
    out_ << msg << "\n";
    if (&err_ != &out_) err_ << msg << "\n";
  }
}

bool HostRunner::StepBlock(const Statement& stmt, HostStep* step) {
  std::optional<std::vector<Statement>> block = block_.Add(stmt);
  return !block || RunBlock(*block, step);
}

namespace {

// Whether an outcome predicate holds for the host's one run (which never deadlocks: a
// host task that does not answer ends the run).
bool HostOutcomeHolds(const OutcomePredicate& p, const std::map<std::string, StatementResult>& results,
                      bool check_failed) {
  for (const auto& all : p.any_of) {
    bool holds = true;
    for (const OutcomeAtom& a : all) {
      switch (a.kind) {
        case OutcomeAtom::Kind::kDeadlock: holds = false; break;
        case OutcomeAtom::Kind::kCheckFailed: holds &= check_failed; break;
        case OutcomeAtom::Kind::kResult: {
          auto it = results.find(a.task);
          std::string want;
          holds &= it != results.end() && ExpectHolds(a.result, it->second, &want);
          break;
        }
      }
    }
    if (holds) return true;
  }
  return false;
}

}  // namespace

bool HostRunner::RunBlock(const std::vector<Statement>& block, HostStep* step) {
  const BlockParts parts = SplitBlock(block);
  const bool explore = parts.explore != nullptr;
  if (explore) {
    out_ << absl::StrFormat("[%d] %s  # on the host: one run, interleaved by the host's scheduler\n",
                            parts.explore->pos.line, FormatStatement(block[0]));
  }
  out_ << absl::StrFormat("[%d] %s\n", parts.together->pos.line, FormatStatement(block[explore ? 1 : 0]));
  // What each operation did on the host.
  struct OpRun {
    const BlockOp* op;
    HostStep step;
    bool ok = true;
  };
  std::vector<OpRun> ops;
  ops.reserve(parts.ops.size());
  for (const BlockOp& op : parts.ops) ops.push_back(OpRun{&op, {}, true});

  // Every operation at once: one thread per operation; each holds mu_ except while it
  // waits for its host task (Call), so the requests all go out before any answer is in.
  {
    std::unique_lock<std::mutex> hold(mu_);
    concurrent_ = true;
    std::vector<std::thread> threads;
    threads.reserve(ops.size());
    for (OpRun& op : ops) {
      threads.emplace_back([this, &op] {
        std::lock_guard<std::mutex> turn(mu_);
        op.ok = Execute(*op.op->stmt, &op.step);
      });
    }
    hold.unlock();
    for (std::thread& t : threads) t.join();
    hold.lock();
    concurrent_ = false;
  }
  std::map<std::string, StatementResult> results;
  bool check_failed = false;
  for (OpRun& op : ops) {
    if (!op.ok) return false;  // the reason is printed (Fail / CannotRun)
    Echo(*op.op->stmt, op.step);
    if (op.step.ran) {
      results[TaskOf(*op.op->stmt)] = op.step.res;
      step->block.emplace_back(TaskOf(*op.op->stmt), op.step.result);
    } else if (step->block_skipped.empty()) {
      step->block_skipped = op.step.skipped;
      if (op.step.environment) step->environment = true;
    }
    for (const ExpectStmt* e : op.op->expects) {
      const int before = failures_;
      CheckExpect(*e, op.step.res, !op.step.ran);
      check_failed |= failures_ != before;
    }
  }
  last_ = StatementResult{};
  last_skipped_ = false;
  step->ran = true;
  if (!step->block_skipped.empty()) {
    step->skipped = absl::StrCat("an operation of the block was skipped: ", step->block_skipped);
  }
  if (!explore) {
    out_ << absl::StrFormat("[%d] end = one run on the host\n", parts.together_end->pos.line);
    return true;
  }
  out_ << absl::StrFormat("[%d] end\n", parts.together_end->pos.line);
  for (const Statement* tail : parts.tail) {
    const Statement& s = *tail;
    const int line = PosOf(s).line;
    const auto* a = std::get_if<ExpectOutcomeStmt>(&s);
    if (a == nullptr) {
      HostStep check;
      if (std::holds_alternative<ShowStmt>(s)) {
        check.skipped = "views are the simulator's";
      } else if (!Execute(s, &check)) {
        return false;
      }
      Echo(s, check);
      check_failed |= check.result == "FAILED";
      continue;
    }
    const std::string text = FormatStatement(s);
    if (!step->block_skipped.empty()) {
      out_ << absl::StrFormat("[%d] %s  # skipped on the host: an operation was skipped\n", line, text);
      continue;
    }
    const bool holds = HostOutcomeHolds(a->predicate, results, check_failed);
    using Q = ExpectOutcomeStmt::Quantifier;
    if (a->quantifier == Q::kSometimes) {
      out_ << absl::StrFormat("[%d] %s  # %s in the host's run (one run cannot decide `sometimes`)\n",
                              line, text, holds ? "held" : "did not hold");
      continue;
    }
    if (holds == (a->quantifier == Q::kAlways)) {
      out_ << absl::StrFormat("[%d] %s ok (in the host's run)\n", line, text);
    } else {
      ++failures_;
      const std::string msg = absl::StrFormat(
          "%s:%d: expectation failed: %s, but the host's run %s it", PosOf(s).file, line, text,
          holds ? "satisfies" : "does not satisfy");
      out_ << msg << "\n";
      if (&err_ != &out_) err_ << msg << "\n";
    }
  }
  if (step->block_skipped.empty()) step->block.emplace_back("#checks", check_failed ? "failed" : "ok");
  out_ << absl::StrFormat("[%d] end\n", PosOf(block.back()).line);
  diverged_ = absl::StrFormat(
      "after the explore block at line %d the simulator is back in the state before it, the host "
      "is where its one run left it", PosOf(block[0]).line);
  return true;
}

bool HostRunner::Done(const Response& r, HostStep* step) {
  step->ran = true;
  StatementResult& res = step->res;
  res = StatementResult{};
  res.kind = StatementResult::Kind::kSys;
  res.sys = SysResult{static_cast<long>(r.ret), r.ret == -1 ? r.err : 0};
  step->result = FormatSysResult(res.sys);
  return true;
}

bool HostRunner::AccessDone(const Response& r, const std::string& bytes, uint64_t addr, bool load,
                            uint64_t len, HostStep* step) {
  step->ran = true;
  StatementResult& res = step->res;
  res = StatementResult{};
  res.kind = StatementResult::Kind::kAccess;
  res.access.ok = r.signo == 0;
  res.access.signal = r.signo;
  res.access.fault_addr = r.fault_addr;
  res.access.error_code = r.error_code;
  res.access.bytes.assign(bytes.begin(), bytes.end());
  res.addr = addr;
  res.len = len;
  res.load = load;
  step->result = FormatAccessResult(res.access, load);
  return true;
}

bool HostRunner::NewTask(const SourcePos& pos, const std::string& name, const std::string& process,
                         int fd, std::string* result, bool is_process) {
  Response hello;
  if (fd >= 0) SetReplyTimeout(fd);
  if (fd < 0 || !RecvResponse(fd, &hello, nullptr)) {
    if (fd >= 0) close(fd);
    return CannotRun(pos, absl::StrCat("the host task for '", name, "' did not start"));
  }
  if (hello.ret < 0) {
    close(fd);
    std::string why = ErrText(hello.err);
    if (hello.err == EEXIST) {
      why = absl::StrFormat("the simulator's stack [%#x, %#x) clashes with a host mapping (%s)",
                            Machine::kStackTop - Machine::kStackSize, Machine::kStackTop, why);
    }
    return CannotRun(pos, absl::StrCat("setting up process '", name, "' failed: ", why));
  }
  Task t;
  t.fd = fd;
  t.tid = static_cast<pid_t>(hello.ret);
  t.tgid = is_process ? t.tid : tasks_[process].tgid;
  t.process = is_process ? name : process;
  tasks_[name] = t;
  if (is_process && host_ranges_.count(name) == 0) {
    // A new process from the zygote: what it has now is the host's (a forked child
    // inherited its parent's list, set by the fork statement).
    Response r;
    std::string maps;
    if (!Call(fd, static_cast<uint32_t>(Op::kMaps), {}, "", &r, &maps)) {
      return CannotRun(pos, absl::StrCat("the host task for '", name, "' did not answer"));
    }
    std::istringstream in(maps);
    std::string line;
    while (std::getline(in, line)) {
      unsigned long long lo = 0, hi = 0;
      if (sscanf(line.c_str(), "%llx-%llx", &lo, &hi) != 2) continue;
      if (lo >= Machine::kStackTop - Machine::kStackSize && hi <= Machine::kStackTop) continue;
      if (line.find("[vsyscall]") != std::string::npos) continue;  // not in the user range
      host_ranges_[name].push_back({lo, hi});
    }
  }
  *result = absl::StrCat(is_process ? "pid " : "tid ", t.tid);
  return true;
}

bool HostRunner::Execute(const Statement& stmt, HostStep* step) {
  const SourcePos& pos = PosOf(stmt);
  Response r = {};
  auto lost = [&](const std::string& name) {
    return CannotRun(pos, absl::StrCat("lost the channel to the host task '", name, "'"));
  };
  auto skip = [&](std::string why) {
    step->skipped = std::move(why);
    return true;
  };
  auto skip_env = [&](std::string why) {
    step->environment = true;
    return skip(std::move(why));
  };
  if (const auto* m = std::get_if<MachineStmt>(&stmt)) {
    (void)m;
    return skip("the host has its own memory, CPUs and TLB");
  }
  if (const auto* show = std::get_if<ShowStmt>(&stmt)) {
    // `show smaps TASK ADDR LEN` also says what the host's smaps has for the range: whether
    // a MADV_HUGEPAGE region really is THP-backed there (docs/host.md).
    const auto* sm = std::get_if<ShowSmaps>(&show->what);
    auto it = sm != nullptr && sm->len > 0 ? tasks_.find(sm->task) : tasks_.end();
    if (it != tasks_.end() && it->second.fd >= 0) {
      const long kb = HostAnonHugePagesKb(it->second.tgid, sm->addr, sm->addr + sm->len);
      if (kb >= 0)
        return skip(absl::StrFormat("views are the simulator's (the host's smaps: "
                                    "AnonHugePages %d kB)", kb));
    }
    return skip("views are the simulator's");
  }
  if (std::holds_alternative<FailStmt>(stmt)) return skip("fault injection is the simulator's");
  if (std::holds_alternative<TraceStmt>(stmt)) return skip("tracing is the simulator's");
  if (std::holds_alternative<ScheduleStmt>(stmt)) return skip("CPU placement is the simulator's");
  // Page tables, struct pages, the TLB and the counters of a host are not the simulator's
  // (other frames, other processes moving the counters): these checks are simulator-only.
  if (std::holds_alternative<MarkStmt>(stmt)) return skip("counters are the simulator's");
  if (std::holds_alternative<SleepStmt>(stmt)) return skip("jiffies are the simulator's");
  if (std::holds_alternative<ExpectStateStmt>(stmt)) {
    return skip("state checks (pte, page, tlb, vmstat, vma, fault) are the simulator's");
  }
  // Blocks are StepBlock's; their parts never get here on their own (the parser sees to it).
  if (std::holds_alternative<TogetherStmt>(stmt) || std::holds_alternative<ExploreStmt>(stmt) ||
      std::holds_alternative<EndStmt>(stmt) || std::holds_alternative<ExpectOutcomeStmt>(stmt)) {
    return Fail(pos, "internal: a block statement outside a block");
  }
  if (const auto* s = std::get_if<KthreadStmt>(&stmt)) {
    kthreads_[s->name] = "a kernel thread cannot be created from user space";
    return skip(kthreads_[s->name]);
  }
  if (const auto* s = std::get_if<ProcessStmt>(&stmt)) {
    if (tasks_.count(s->name)) return Fail(pos, absl::StrCat("'", s->name, "' already exists"));
    for (uint32_t id : {s->ruid, s->euid, s->suid}) {
      if (!UidMapped(env_, id)) {
        return CannotRun(pos, absl::StrCat("uid ", id, " does not exist in this user namespace (/proc/self/uid_map)"));
      }
    }
    for (uint32_t id : {s->rgid, s->egid, s->sgid}) {
      if (!GidMapped(env_, id)) {
        return CannotRun(pos, absl::StrCat("gid ", id, " does not exist in this user namespace (/proc/self/gid_map)"));
      }
    }
    const uint64_t grantable = GrantableCaps(env_);
    const bool need_root = s->ruid != env_.uid || s->euid != env_.euid || s->suid != env_.euid ||
                           (s->caps.bits & grantable) != (s->caps.bits & env_.cap_effective);
    if (need_root && (env_.cap_effective & (uint64_t{1} << 7)) == 0) {  // CAP_SETUID
      return CannotRun(pos, "its credentials need CAP_SETUID, which mmsim does not have here");
    }
    int fd = -1;
    if (!Call(zygote_fd_, static_cast<uint32_t>(Op::kSpawn),
              {s->ruid, s->euid, s->suid, s->rgid, s->egid, s->sgid, s->caps.bits, s->dumpable ? 1u : 0u},
              "", &r, nullptr, &fd)) {
      return CannotRun(pos, "the host zygote is gone");
    }
    if (r.ret < 0) return CannotRun(pos, absl::StrCat("fork: ", ErrText(r.err)));
    step->ran = true;
    if (!NewTask(pos, s->name, s->name, fd, &step->result, true)) return false;
    // The iovec area, which the interpreter maps in every new process (Machine::kIovecBase);
    // as there, a failure is left for the first process_vm_* call to meet.
    Response mr;
    if (!Call(tasks_[s->name].fd, static_cast<uint32_t>(Op::kMmap),
              {Machine::kIovecBase, Machine::kIovecAreaSize, uint64_t{Prot::kRead | Prot::kWrite},
               uint64_t{MmapFlags::kPrivate | MmapFlags::kAnonymous | MmapFlags::kFixedNoreplace}, 0, 0},
              "", &mr, nullptr)) {
      return lost(s->name);
    }
    return true;
  }
  if (const auto* s = std::get_if<ThreadStmt>(&stmt)) {
    Task* p = FindTask(pos, s->process);
    if (p == nullptr) return false;
    int fd = -1;
    if (!Call(p->fd, static_cast<uint32_t>(Op::kThread), {}, "", &r, nullptr, &fd)) return lost(s->process);
    if (r.ret < 0) return CannotRun(pos, absl::StrCat("pthread_create: ", ErrText(r.err)));
    step->ran = true;
    return NewTask(pos, s->name, p->process, fd, &step->result, false);
  }
  if (const auto* s = std::get_if<FileStmt>(&stmt)) {
    if (tmpdir_.empty()) {
      const char* base = getenv("TEST_TMPDIR");
      std::string templ = absl::StrCat(base != nullptr ? base : "/tmp", "/mmsim-host-XXXXXX");
      if (mkdtemp(templ.data()) == nullptr) return CannotRun(pos, absl::StrCat("mkdtemp: ", ErrText(errno)));
      tmpdir_ = templ;
      chmod(tmpdir_.c_str(), 0755);
    }
    const std::string path = absl::StrCat(tmpdir_, "/", s->name);
    const std::string bytes = s->data ? MaterializeData(*s->data, 0) : std::string();
    if (bytes.size() > s->size) return Fail(pos, "expected DATA no longer than the file");
    int fd = open(path.c_str(), O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
    if (fd < 0 || ftruncate(fd, static_cast<off_t>(s->size)) != 0 ||
        pwrite(fd, bytes.data(), bytes.size(), 0) != static_cast<ssize_t>(bytes.size())) {
      return CannotRun(pos, absl::StrCat("cannot create ", path, ": ", ErrText(errno)));
    }
    fchmod(fd, s->readonly ? 0444 : 0666);
    files_[s->name] = path;
    file_fds_[s->name] = fd;
    step->ran = true;
    step->result = absl::StrCat("fd ", fd, " (", path, s->readonly ? ", opened read-only by mmap" : "", ")");
    return true;
  }
  if (const auto* s = std::get_if<MmapStmt>(&stmt)) {
    std::string path;
    bool readonly = false;
    if (s->file) {
      auto it = files_.find(*s->file);
      if (it == files_.end()) return Fail(pos, absl::StrCat("expected a file that exists, got '", *s->file, "'"));
      path = it->second;
      struct stat st;
      readonly = stat(path.c_str(), &st) == 0 && (st.st_mode & 0200) == 0;
    }
    Task* t = FindTask(pos, s->task);
    if (t == nullptr) return false;
    if (s->addr != 0 && s->addr < skip_mmap_below_) return skip_env(skip_mmap_why_);
    if (s->addr != 0 || (s->flags.bits & (MmapFlags::kFixed | MmapFlags::kFixedNoreplace)) != 0) {
      const std::string clash = HostClash(*t, s->addr, s->len);
      if (!clash.empty()) return skip_env(absl::StrCat("the range clashes with the host's own mapping: ", clash));
    }
    if (!Call(t->fd, static_cast<uint32_t>(Op::kMmap),
              {s->addr, s->len, s->prot.bits, s->flags.bits, s->offset, readonly ? 1u : 0u}, path, &r, nullptr)) {
      return lost(s->task);
    }
    Done(r, step);
    if (r.ret != -1) step->result = absl::StrFormat("%#x", static_cast<uint64_t>(r.ret));
    return true;
  }
  if (const auto* s = std::get_if<MunmapStmt>(&stmt)) {
    Task* t = FindTask(pos, s->task);
    if (t == nullptr) return false;
    const std::string clash = HostClash(*t, s->addr, s->len);
    if (!clash.empty()) return skip_env(absl::StrCat("the range covers the host's own mapping: ", clash));
    if (!Call(t->fd, static_cast<uint32_t>(Op::kMunmap), {s->addr, s->len}, "", &r, nullptr)) return lost(s->task);
    return Done(r, step);
  }
  if (const auto* s = std::get_if<MprotectStmt>(&stmt)) {
    Task* t = FindTask(pos, s->task);
    if (t == nullptr) return false;
    const std::string clash = HostClash(*t, s->addr, s->len);
    if (!clash.empty()) return skip_env(absl::StrCat("the range covers the host's own mapping: ", clash));
    if (!Call(t->fd, static_cast<uint32_t>(Op::kMprotect), {s->addr, s->len, s->prot.bits}, "", &r, nullptr)) {
      return lost(s->task);
    }
    return Done(r, step);
  }
  if (std::holds_alternative<StoreStmt>(stmt) || std::holds_alternative<FillStmt>(stmt)) {
    std::string task, bytes;
    uint64_t addr = 0;
    if (const auto* s = std::get_if<StoreStmt>(&stmt)) {
      task = s->task;
      addr = s->addr;
      bytes = MaterializeData(s->data, s->addr);
    } else {
      const auto& f = std::get<FillStmt>(stmt);
      task = f.task;
      addr = f.addr;
      bytes = f.kind == FillStmt::Kind::kPattern ? MaterializeData(DataPattern{f.len}, f.addr)
                                                 : MaterializeData(DataRepeat{f.len, f.byte}, f.addr);
    }
    Task* t = FindTask(pos, task);
    if (t == nullptr) return false;
    const std::string clash = HostClash(*t, addr, bytes.size());
    if (!clash.empty()) return skip_env(absl::StrCat("the range is the host's own mapping: ", clash));
    if (!Call(t->fd, static_cast<uint32_t>(Op::kStore), {addr}, bytes, &r, nullptr)) return lost(task);
    return AccessDone(r, "", addr, false, bytes.size(), step);
  }
  if (const auto* s = std::get_if<LoadStmt>(&stmt)) {
    Task* t = FindTask(pos, s->task);
    if (t == nullptr) return false;
    std::string bytes;
    if (!Call(t->fd, static_cast<uint32_t>(Op::kLoad), {s->addr, s->len}, "", &r, &bytes)) return lost(s->task);
    return AccessDone(r, bytes, s->addr, true, s->len, step);
  }
  if (const auto* s = std::get_if<ProcessVmRwStmt>(&stmt)) {
    Task* t = FindTask(pos, s->task);
    if (t == nullptr) return false;
    int64_t target = 0;
    if (const auto* n = std::get_if<int32_t>(&s->pid)) {
      target = *n;
    } else {
      const std::string& name = std::get<std::string>(s->pid);
      if (kthreads_.count(name)) return skip(absl::StrCat("'", name, "' is a kernel thread: ", kthreads_[name]));
      Task* u = FindTask(pos, name);
      if (u == nullptr) return false;
      target = u->tid;
      if (env_.ptrace_scope >= 1 && u->tgid != t->tgid) {
        return skip_env(absl::StrCat("Yama ptrace_scope=", env_.ptrace_scope,
                                 " restricts process_vm_readv/writev to descendants; the simulator has no Yama"));
      }
    }
    if (!env_.pvm_allowed) {
      return skip_env(absl::StrCat("the host refuses process_vm_readv here (", env_.pvm_error, ")"));
    }
    // The arrays go where the simulator puts them (Machine::ProcessVmIovec and the
    // interpreter's raw form): the local one at IovecArrayAddress(), the remote right after.
    const bool lraw = std::holds_alternative<IovRaw>(s->local);
    const bool rraw = std::holds_alternative<IovRaw>(s->remote);
    uint64_t next = IovecArrayAddress();
    uint64_t vec[2] = {0, 0}, cnt[2] = {0, 0};
    bool store_failed = false;
    const IovList* lists[2] = {&s->local, &s->remote};
    for (int i = 0; i < 2; ++i) {
      if (const auto* raw = std::get_if<IovRaw>(lists[i])) {
        vec[i] = raw->addr;
        cnt[i] = raw->count;
        continue;
      }
      const auto& v = std::get<std::vector<Iovec>>(*lists[i]);
      // Machine writes at most kIovecArraySize / 16 (4096) elements per array.
      std::string bytes(std::min<size_t>(v.size(), Machine::kIovecArraySize / 16) * 16, '\0');
      for (size_t k = 0; k * 16 < bytes.size(); ++k) {
        std::memcpy(&bytes[16 * k], &v[k].iov_base, 8);
        std::memcpy(&bytes[16 * k + 8], &v[k].iov_len, 8);
      }
      vec[i] = next;
      cnt[i] = v.size();
      if (!bytes.empty()) {
        Response sr;
        if (!Call(t->fd, static_cast<uint32_t>(Op::kStore), {next}, bytes, &sr, nullptr)) return lost(s->task);
        store_failed |= sr.signo != 0;
      }
      next += bytes.size();
    }
    if (store_failed && !lraw && !rraw) {  // Machine's Iovec form: EFAULT before the call
      r.ret = -1;
      r.err = EFAULT;
      return Done(r, step);
    }
    if (!Call(t->fd, static_cast<uint32_t>(Op::kPvm),
              {s->vm_write ? 1u : 0u, static_cast<uint64_t>(target), vec[0], cnt[0], vec[1], cnt[1], s->flags},
              "", &r, nullptr)) {
      return lost(s->task);
    }
    return Done(r, step);
  }
  if (const auto* s = std::get_if<ForkStmt>(&stmt)) {
    Task* t = FindTask(pos, s->task);
    if (t == nullptr) return false;
    int fd = -1;
    if (!Call(t->fd, static_cast<uint32_t>(Op::kFork), {}, "", &r, nullptr, &fd)) return lost(s->task);
    Done(r, step);
    if (r.ret > 0) {
      host_ranges_[s->child] = host_ranges_[t->process];
      std::string ignored;
      if (!NewTask(pos, s->child, s->child, fd, &ignored, true)) return false;
    }
    return true;
  }
  if (const auto* s = std::get_if<ExitStmt>(&stmt)) {
    Task* t = FindTask(pos, s->task);
    if (t == nullptr) return false;
    if (!Call(t->fd, static_cast<uint32_t>(Op::kExit), {}, "", &r, nullptr)) return lost(s->task);
    close(t->fd);
    t->fd = -1;
    return Done(r, step);
  }
  if (const auto* s = std::get_if<ReapStmt>(&stmt)) {
    Task* t = FindTask(pos, s->task);
    Task* c = t != nullptr ? FindTask(pos, s->child) : nullptr;
    if (c == nullptr) return false;
    if (!Call(t->fd, static_cast<uint32_t>(Op::kReap), {static_cast<uint64_t>(c->tid)}, "", &r, nullptr)) {
      return lost(s->task);
    }
    return Done(r, step);
  }
  auto simple = [&](const std::string& task, Op op, std::initializer_list<uint64_t> args) {
    Task* t = FindTask(pos, task);
    if (t == nullptr) return false;
    if (!Call(t->fd, static_cast<uint32_t>(op), args, "", &r, nullptr)) return lost(task);
    return Done(r, step);
  };
  if (const auto* s = std::get_if<SetresuidStmt>(&stmt)) {
    for (uint32_t id : {s->ruid, s->euid, s->suid}) {
      if (!UidMapped(env_, id)) return skip_env(absl::StrCat("uid ", id, " does not exist in this user namespace"));
    }
    return simple(s->task, Op::kSetresuid, {s->ruid, s->euid, s->suid});
  }
  if (const auto* s = std::get_if<SetresgidStmt>(&stmt)) {
    for (uint32_t id : {s->rgid, s->egid, s->sgid}) {
      if (!GidMapped(env_, id)) return skip_env(absl::StrCat("gid ", id, " does not exist in this user namespace"));
    }
    return simple(s->task, Op::kSetresgid, {s->rgid, s->egid, s->sgid});
  }
  if (const auto* s = std::get_if<CapsetStmt>(&stmt)) {
    return simple(s->task, Op::kCapset, {s->caps.bits & GrantableCaps(env_)});
  }
  if (const auto* s = std::get_if<DumpableStmt>(&stmt)) {
    return simple(s->task, Op::kDumpable, {s->dumpable ? 1u : 0u});
  }
  if (const auto* s = std::get_if<MadviseStmt>(&stmt)) {
    Task* t = FindTask(pos, s->task);
    if (t == nullptr) return false;
    const std::string clash = HostClash(*t, s->addr, s->len);
    if (!clash.empty()) return skip_env(absl::StrCat("the range covers the host's own mapping: ", clash));
    return simple(s->task, Op::kMadvise, {s->addr, s->len, static_cast<uint64_t>(s->advice)});
  }
  if (const auto* s = std::get_if<MlockStmt>(&stmt)) {
    switch (s->op) {
      case MlockStmt::Op::kMlock:
        return simple(s->task, Op::kMlock, {s->addr, s->len, static_cast<uint64_t>(s->flags)});
      case MlockStmt::Op::kMunlock:
        return simple(s->task, Op::kMunlock, {s->addr, s->len});
      case MlockStmt::Op::kMlockall:
        return simple(s->task, Op::kMlockall, {static_cast<uint64_t>(s->flags)});
      case MlockStmt::Op::kMunlockall:
        return simple(s->task, Op::kMunlockall, {});
    }
  }
  if (const auto* s = std::get_if<ExpectMemStmt>(&stmt)) {
    Task* t = FindTask(pos, s->task);
    if (t == nullptr) return false;
    const std::string want = MaterializeData(s->data, s->addr);
    absl::StatusOr<std::string> got = Peek(*t, s->addr, want.size());
    step->ran = true;
    std::string got_text;
    if (got.ok()) {
      step->mem = *got;
      got_text = BytesForHumans(*got);
    } else {
      step->mem_error = std::string(got.status().message());
      got_text = step->mem_error;
    }
    if (got.ok() && *got == want) {
      step->result = "ok";
    } else {
      ++failures_;
      const std::string msg = absl::StrFormat("%s:%d: expectation failed: expected %s, got %s", pos.file,
                                              pos.line, BytesForHumans(want), got_text);
      out_ << msg << "\n";
      if (&err_ != &out_) err_ << msg << "\n";
      step->result = "FAILED";
    }
    return true;
  }
  if (const auto* s = std::get_if<ExpectSameStmt>(&stmt)) {
    Task* t = FindTask(pos, s->task);
    Task* u = t != nullptr ? FindTask(pos, s->other_task) : nullptr;
    if (u == nullptr) return false;
    absl::StatusOr<std::string> a = Peek(*t, s->addr, s->len);
    absl::StatusOr<std::string> b = Peek(*u, s->other_addr, s->len);
    step->ran = true;
    std::string why;
    if (!a.ok() || !b.ok()) {
      why = std::string(!a.ok() ? a.status().message() : b.status().message());
    } else if (*a != *b) {
      size_t i = 0;
      while ((*a)[i] == (*b)[i]) ++i;
      why = absl::StrFormat("a difference at offset %d (%#04x vs %#04x)", i,
                            static_cast<uint8_t>((*a)[i]), static_cast<uint8_t>((*b)[i]));
    }
    if (why.empty()) {
      step->result = "ok";
    } else {
      ++failures_;
      const std::string msg = absl::StrFormat("%s:%d: expectation failed: expected %s, got %s", pos.file,
                                              pos.line, (!a.ok() || !b.ok()) ? "both ranges readable" : "equal bytes", why);
      out_ << msg << "\n";
      if (&err_ != &out_) err_ << msg << "\n";
      step->result = "FAILED";
    }
    return true;
  }
  return Fail(pos, "internal: a statement kind the host runner does not know");
}

}  // namespace sim::host
