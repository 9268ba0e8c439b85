// sim/interpreter.cc
#include "sim/interpreter.h"

#include <csignal>
#include <cstring>
#include <utility>
#include <variant>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/types/span.h"
#include "sim/scenario/format.h"
#include "sim/views.h"

namespace sim {
namespace {

using namespace scenario;  // NOLINT: the AST's many statement types

template <class... Ts>
struct Overloaded : Ts... {
  using Ts::operator()...;
};
template <class... Ts>
Overloaded(Ts...) -> Overloaded<Ts...>;

absl::Span<const uint8_t> AsBytes(const std::string& s) {
  return absl::Span<const uint8_t>(reinterpret_cast<const uint8_t*>(s.data()), s.size());
}

// An iovec list: an explicit one is appended to *out; a raw pointer and count set *raw,
// *a and *n.
void SplitIovList(const IovList& l, std::vector<Machine::Iovec>* out, bool* raw, uint64_t* a,
                  uint64_t* n) {
  if (const auto* r = std::get_if<IovRaw>(&l)) {
    *raw = true;
    *a = r->addr;
    *n = r->count;
    return;
  }
  for (const Iovec& v : std::get<std::vector<Iovec>>(l)) out->push_back({v.iov_base, v.iov_len});
}

}  // namespace

// Forwards every kernel and hardware event to two recorders: the scenario's trace and the
// step observer's.
class Interpreter::TeeObserver final : public kernel::kernel_observer, public hw::HwObserver {
 public:
  TeeObserver(TraceRecorder* a, TraceRecorder* b) : a_(a), b_(b) {}
  void on_enter(const char* fn, const std::string& args) override {
    a_->on_enter(fn, args);
    b_->on_enter(fn, args);
  }
  void on_exit(const char* fn, long ret, bool has_ret) override {
    a_->on_exit(fn, ret, has_ret);
    b_->on_exit(fn, ret, has_ret);
  }
  void on_event(const char* name, const std::string& detail) override {
    a_->on_event(name, detail);
    b_->on_event(name, detail);
  }
  void OnWalkStep(int cpu, int level, hw::PhysAddr entry_addr, uint64_t entry) override {
    a_->OnWalkStep(cpu, level, entry_addr, entry);
    b_->OnWalkStep(cpu, level, entry_addr, entry);
  }
  void OnPscHit(int cpu, int level, hw::VirtAddr va, hw::PhysAddr table) override {
    a_->OnPscHit(cpu, level, va, table);
    b_->OnPscHit(cpu, level, va, table);
  }
  void OnTlbHit(int cpu, int level, hw::VirtAddr va, const hw::TlbEntry& entry) override {
    a_->OnTlbHit(cpu, level, va, entry);
    b_->OnTlbHit(cpu, level, va, entry);
  }
  void OnTlbMiss(int cpu, hw::VirtAddr va) override {
    a_->OnTlbMiss(cpu, va);
    b_->OnTlbMiss(cpu, va);
  }
  void OnTlbFill(int cpu, int level, const hw::TlbEntry& entry) override {
    a_->OnTlbFill(cpu, level, entry);
    b_->OnTlbFill(cpu, level, entry);
  }
  void OnTlbEvict(int cpu, int level, const hw::TlbEntry& entry) override {
    a_->OnTlbEvict(cpu, level, entry);
    b_->OnTlbEvict(cpu, level, entry);
  }
  void OnTlbFlush(int cpu, hw::TlbFlushKind kind, uint16_t pcid, hw::VirtAddr va) override {
    a_->OnTlbFlush(cpu, kind, pcid, va);
    b_->OnTlbFlush(cpu, kind, pcid, va);
  }
  void OnFault(int cpu, const hw::Fault& fault, hw::AccessType type) override {
    a_->OnFault(cpu, fault, type);
    b_->OnFault(cpu, fault, type);
  }
  void OnCr3Write(int cpu, uint64_t old_cr3, uint64_t new_cr3) override {
    a_->OnCr3Write(cpu, old_cr3, new_cr3);
    b_->OnCr3Write(cpu, old_cr3, new_cr3);
  }

 private:
  TraceRecorder* a_;
  TraceRecorder* b_;
};

Interpreter::Interpreter(InterpreterOptions options, std::ostream& out, std::ostream& err)
    : options_(std::move(options)), out_(out), err_(err) {}

Interpreter::~Interpreter() {
  // Detach before the machine shuts down: the recorder dies with us.
  if (machine_ != nullptr) Instrument(/*attach=*/false);
}

void Interpreter::Instrument(bool attach) {
  const bool tracing = attach && recorder_->level() != TraceLevel::kOff;
  TraceRecorder* step = attach ? StepRecorder() : nullptr;
  if (step == nullptr) {
    machine_->AttachObserver(tracing ? recorder_.get() : nullptr);
    machine_->AttachCpuObserver(tracing ? recorder_.get() : nullptr);
    return;
  }
  // With a step observer (--html): its recorder always, the trace's too while tracing.
  std::unique_ptr<TeeObserver> tee =
      tracing ? std::make_unique<TeeObserver>(recorder_.get(), step) : nullptr;
  machine_->AttachObserver(tracing ? static_cast<kernel::kernel_observer*>(tee.get()) : step);
  machine_->AttachCpuObserver(tracing ? static_cast<hw::HwObserver*>(tee.get()) : step);
  tee_ = std::move(tee);  // after the new one is attached: the old one is no longer used
}

int Interpreter::exit_status() const {
  if (invalid_) return kExitInvalid;
  if (runtime_error_) return kExitRuntimeError;
  return failures_ > 0 ? kExitExpectationFailed : kExitOk;
}

std::string Interpreter::TraceJson() const {
  return recorder_ != nullptr ? recorder_->RenderChromeJson() : std::string();
}

int Interpreter::Run(const Scenario& scenario) {
  for (const Statement& stmt : scenario.statements) {
    if (!Step(stmt) || runtime_error_) break;
  }
  if (!invalid_ && !runtime_error_) EnsureMachine(SourcePos{scenario.filename, 1, 1});
  if (invalid_) return exit_status();
  if (runtime_error_) {
    out_ << absl::StrFormat("# %s: stopped by a runtime error at line %d; %d expectation%s failed before it\n",
                            scenario.filename, runtime_error_line_, failures_,
                            failures_ == 1 ? "" : "s");
    return exit_status();
  }
  out_ << absl::StrFormat("# %s: %d expectation%s failed\n", scenario.filename, failures_,
                          failures_ == 1 ? "" : "s");
  return exit_status();
}

bool Interpreter::Fail(const SourcePos& pos, const std::string& what) {
  err_ << FormatPos(pos) << ": " << what << "\n";
  invalid_ = true;
  return false;
}

bool Interpreter::RuntimeError(const SourcePos& pos, const std::string& what) {
  err_ << absl::StrFormat("%s:%d: runtime error: %s\n", pos.file, pos.line, what);
  if (!runtime_error_) runtime_error_line_ = pos.line;
  runtime_error_ = true;
  return false;
}

void Interpreter::ExpectFailed(const SourcePos& pos, const std::string& want,
                               const std::string& got) {
  ++failures_;
  last_failure_ = absl::StrFormat("expected %s, got %s", want, got);
  if (options_.quiet) return;  // a run of an explore block: its outcome reports it
  const std::string msg =
      absl::StrFormat("%s:%d: expectation failed: expected %s, got %s", pos.file, pos.line, want, got);
  out_ << msg << "\n";
  if (&err_ != &out_) err_ << msg << "\n";
}

bool Interpreter::EnsureMachine(const SourcePos& pos) {
  if (machine_ != nullptr) return true;
  absl::StatusOr<std::unique_ptr<Machine>> m = Machine::Create(options_.machine);
  // A machine the host cannot hold is a scenario the host cannot run: invalid (status 2),
  // named at the statement that asked for it, like any other value out of range.
  if (!m.ok() && absl::IsResourceExhausted(m.status()))
    return Fail(pos, absl::StrCat("a machine with ", options_.machine.memory_bytes >> 20,
                                  "M of memory cannot be run here: ", m.status().message()));
  if (!m.ok()) return RuntimeError(pos, absl::StrCat("cannot boot the machine: ", m.status().message()));
  machine_ = std::move(*m);
  recorder_ = std::make_unique<TraceRecorder>(options_.trace);
  Instrument(/*attach=*/true);
  return true;
}

std::optional<int> Interpreter::Pid(const SourcePos& pos, const std::string& name) {
  auto it = pids_.find(name);
  if (it == pids_.end()) {
    RuntimeError(pos, absl::StrCat("no task '", name,
                                   "' (it was never created, e.g. because fork failed)"));
    return std::nullopt;
  }
  return it->second;
}

std::string Interpreter::FormatSys(const SysResult& r) const { return FormatSysResult(r); }

std::string Interpreter::FormatAccess(const UserAccess& a, bool load, uint64_t /*len*/) const {
  return FormatAccessResult(a, load);
}

std::string Interpreter::Materialize(const Data& data, uint64_t anchor) const {
  return MaterializeData(data, anchor);
}

void Interpreter::FlushTrace() {
  if (recorder_ == nullptr || recorder_->level() == TraceLevel::kOff) return;
  if (options_.trace_json) return;  // kept for the JSON written at the end
  std::string text = recorder_->RenderText();
  if (!text.empty()) (options_.trace_out != nullptr ? *options_.trace_out : out_) << text;
  recorder_->Clear();
}

bool Interpreter::Step(const Statement& stmt) {
  const bool ok = StepOne(stmt);
  if (options_.step_observer != nullptr) options_.step_observer->AfterStatement(stmt, ok, *this);
  return ok;
}

bool Interpreter::StepOne(const Statement& stmt) {
  const SourcePos& pos = PosOf(stmt);
  if (block_.open()) return StepBlock(stmt);
  if (std::holds_alternative<TogetherStmt>(stmt) || std::holds_alternative<ExploreStmt>(stmt)) {
    if (!EnsureMachine(pos)) return false;
    return StepBlock(stmt);
  }
  if (const auto* m = std::get_if<MachineStmt>(&stmt)) {
    if (machine_ != nullptr) return Fail(pos, "expected `machine` only as the first statement");
    if (m->memory && !options_.memory_set) options_.machine.memory_bytes = *m->memory;
    if (m->swap && !options_.swap_set) options_.machine.swap_bytes = *m->swap;
    if (m->cpus && !options_.cpus_set) options_.machine.cpus = static_cast<int>(*m->cpus);
    if (m->tlb && !options_.tlb_set) options_.machine.tlb = *m->tlb;
    if (m->seed && !options_.seed_set) options_.machine.seed = *m->seed;
    if (m->thp && !options_.thp_set) options_.machine.thp = *m->thp;
    if (m->thp_defrag && !options_.thp_defrag_set) options_.machine.thp_defrag = *m->thp_defrag;
    if (m->thp_use_zero_page && !options_.thp_use_zero_page_set)
      options_.machine.thp_use_zero_page = *m->thp_use_zero_page;
    if (m->pku && !options_.pku_set) options_.machine.pku = *m->pku;
    out_ << absl::StrFormat("[%d] %s\n", pos.line, FormatStatement(stmt));
    history_.push_back(stmt);
    return EnsureMachine(pos);
  }
  if (!EnsureMachine(pos)) return false;
  if (std::holds_alternative<LetStmt>(stmt)) return true;
  if (const auto* e = std::get_if<ExpectStmt>(&stmt)) return CheckExpect(*e);
  if (const auto* e = std::get_if<ExpectStateStmt>(&stmt)) return CheckState(*e);
  // Views change nothing: the runs of an explore block need not replay them.
  if (!std::holds_alternative<ShowStmt>(stmt)) history_.push_back(stmt);

  // A `trace` statement is not a step of the trace: it would open a step at one level and
  // close it at another (`trace off` left a header behind for the next traced statement).
  const bool step = recorder_ != nullptr && recorder_->level() != TraceLevel::kOff &&
                    !std::holds_alternative<TraceStmt>(stmt);
  if (step) recorder_->BeginStep(absl::StrFormat("[%d] %s", pos.line, FormatStatement(stmt)));
  std::string result;
  bool ok = Execute(stmt, &result);
  if (step) recorder_->EndStep();
  if (!ok) return false;
  if (!std::holds_alternative<ShowStmt>(stmt)) {
    out_ << absl::StrFormat("[%d] %s%s\n", pos.line, FormatStatement(stmt),
                            result.empty() ? "" : absl::StrCat(" = ", result));
  } else {
    out_ << absl::StrFormat("[%d] %s\n%s", pos.line, FormatStatement(stmt), result);
  }
  FlushTrace();
  return CheckVm(pos, "statement");
}

bool Interpreter::CheckVm(const SourcePos& pos, const char* after) {
  if (!options_.check_vm) return true;
  std::string report;
  if (machine_->DebugVmCheck(&report) == 0) return true;
  ++failures_;
  out_ << absl::StrFormat("%s:%d: debug_vm check failed after this %s:\n%s", pos.file, pos.line,
                          after, report);
  return false;
}

// ---- statement handlers ----

bool Interpreter::Execute(const Statement& stmt, std::string* result) {
  return std::visit([&](const auto& s) { return On(s, result); }, stmt);
}

// Step handles `machine`, `let` and `expect` itself.
template <class S>
bool Interpreter::On(const S& s, std::string* /*result*/) {
  return Fail(s.pos, "internal: statement not handled here");
}

bool Interpreter::SysDone(SysResult r, std::string* result) {
  last_ = LastResult{LastResult::Kind::kSys, r, {}, 0};
  *result = FormatSys(r);
  return true;
}

bool Interpreter::AccessDone(UserAccess a, uint64_t addr, bool load, uint64_t len,
                             std::string* result) {
  last_ = LastResult{LastResult::Kind::kAccess, {0, 0}, std::move(a), addr, len, load};
  *result = FormatAccess(last_.access, load, len);
  return true;
}

std::optional<int> Interpreter::PidOf(const SourcePos& pos, const PidRef& ref) {
  if (const auto* n = std::get_if<int32_t>(&ref)) return *n;
  return Pid(pos, std::get<std::string>(ref));
}

bool Interpreter::On(const ProcessStmt& s, std::string* result) {
  ProcessCreds c{s.ruid, s.euid, s.suid, s.rgid, s.egid, s.sgid, s.caps.bits, s.dumpable};
  absl::StatusOr<int> pid = machine_->CreateProcess(s.name, c);
  if (!pid.ok()) return RuntimeError(s.pos, absl::StrCat("cannot create '", s.name, "': ", pid.status().message()));
  pids_[s.name] = *pid;
  if (!Place(s.pos, *pid, s.cpu)) return false;
  // Reserve the process's iovec area now, as a program's startup code would have its
  // memory, so that `fail` points armed later are not spent on it. Should it fail (a
  // `fail` point armed before), the first process_vm_* call maps it instead.
  (void)machine_->IovecArea(*pid);
  *result = absl::StrCat("pid ", *pid);
  return true;
}

bool Interpreter::On(const ThreadStmt& s, std::string* result) {
  std::optional<int> p = Pid(s.pos, s.process);
  if (!p) return false;
  absl::StatusOr<int> tid = machine_->CreateThread(*p, s.name);
  if (!tid.ok()) return RuntimeError(s.pos, absl::StrCat("cannot create '", s.name, "': ", tid.status().message()));
  pids_[s.name] = *tid;
  if (!Place(s.pos, *tid, s.cpu)) return false;
  *result = absl::StrCat("tid ", *tid);
  return true;
}

bool Interpreter::Place(const SourcePos& pos, int pid, const std::optional<uint32_t>& cpu) {
  if (!cpu.has_value()) return true;
  if (static_cast<int>(*cpu) >= machine_->num_cpus()) {
    return RuntimeError(pos, absl::StrFormat("no CPU %u: the machine has %d (machine cpus=N)",
                                             *cpu, machine_->num_cpus()));
  }
  machine_->Schedule(pid, static_cast<int>(*cpu));
  return true;
}

bool Interpreter::On(const ScheduleStmt& s, std::string* /*result*/) {
  std::optional<int> p = Pid(s.pos, s.task);
  return p && Place(s.pos, *p, s.cpu);
}

bool Interpreter::On(const KthreadStmt& s, std::string* result) {
  absl::StatusOr<int> pid = machine_->CreateKthread(s.name);
  if (!pid.ok()) return RuntimeError(s.pos, absl::StrCat("cannot create '", s.name, "': ", pid.status().message()));
  pids_[s.name] = *pid;
  if (!Place(s.pos, *pid, s.cpu)) return false;
  *result = absl::StrCat("pid ", *pid);
  return true;
}

bool Interpreter::On(const FileStmt& s, std::string* result) {
  // DATA is anchored at offset 0 of the file (pattern(LEN) included).
  std::string bytes = s.data ? Materialize(*s.data, 0) : std::string();
  absl::StatusOr<int> fd = machine_->CreateFile(s.name, s.size, AsBytes(bytes), s.readonly);
  if (!fd.ok()) {
    return RuntimeError(s.pos, absl::StrCat("cannot create file '", s.name, "': ",
                                            fd.status().message()));
  }
  files_[s.name] = *fd;
  *result = absl::StrCat("fd ", *fd);
  return true;
}

bool Interpreter::On(const MmapStmt& s, std::string* result) {
  int fd = -1;
  if (s.file) {
    auto it = files_.find(*s.file);
    if (it == files_.end())
      return RuntimeError(s.pos, absl::StrCat("no file '", *s.file, "' (it was never created)"));
    fd = it->second;
  }
  std::optional<int> p = Pid(s.pos, s.task);
  if (!p) return false;
  SysResult r = machine_->Mmap(*p, s.addr, s.len, static_cast<int>(s.prot.bits),
                               static_cast<int>(s.flags.bits), fd, s.offset);
  if (r.ret != -1) {
    last_ = LastResult{LastResult::Kind::kSys, r, {}, 0};
    *result = absl::StrFormat("%#x", static_cast<uint64_t>(r.ret));
    return true;
  }
  return SysDone(r, result);
}

bool Interpreter::On(const MunmapStmt& s, std::string* result) {
  std::optional<int> p = Pid(s.pos, s.task);
  return p && SysDone(machine_->Munmap(*p, s.addr, s.len), result);
}

bool Interpreter::On(const MprotectStmt& s, std::string* result) {
  std::optional<int> p = Pid(s.pos, s.task);
  return p && SysDone(machine_->Mprotect(*p, s.addr, s.len, static_cast<int>(s.prot.bits)),
                      result);
}

bool Interpreter::On(const StoreStmt& s, std::string* result) {
  std::optional<int> p = Pid(s.pos, s.task);
  if (!p) return false;
  std::string bytes = Materialize(s.data, s.addr);
  return AccessDone(machine_->Store(*p, s.addr, AsBytes(bytes)), s.addr, false, bytes.size(),
                    result);
}

bool Interpreter::On(const FillStmt& s, std::string* result) {
  std::optional<int> p = Pid(s.pos, s.task);
  if (!p) return false;
  std::string bytes(static_cast<size_t>(s.len), static_cast<char>(s.byte));
  if (s.kind == FillStmt::Kind::kPattern) {
    for (uint64_t i = 0; i < s.len; ++i) bytes[i] = static_cast<char>(PatternByte(s.addr + i));
  }
  return AccessDone(machine_->Store(*p, s.addr, AsBytes(bytes)), s.addr, false, s.len, result);
}

bool Interpreter::On(const LoadStmt& s, std::string* result) {
  std::optional<int> p = Pid(s.pos, s.task);
  return p && AccessDone(machine_->Load(*p, s.addr, s.len), s.addr, true, s.len, result);
}

bool Interpreter::On(const ProcessVmRwStmt& s, std::string* result) {
  Machine& m = *machine_;
  std::optional<int> p = Pid(s.pos, s.task);
  if (!p) return false;
  std::optional<int> target = PidOf(s.pos, s.pid);
  if (!target) return false;
  std::vector<Machine::Iovec> lv, rv;
  bool lraw = false, rraw = false;
  uint64_t la = 0, ln = 0, ra = 0, rn = 0;
  SplitIovList(s.local, &lv, &lraw, &la, &ln);
  SplitIovList(s.remote, &rv, &rraw, &ra, &rn);
  if (!lraw && !rraw) {
    if (absl::StatusOr<uint64_t> area = m.IovecArea(*p); !area.ok() && !absl::IsNotFound(area.status()))
      return RuntimeError(s.pos, std::string(area.status().message()));
    SysResult r = s.vm_write ? m.ProcessVmWritev(*p, *target, lv, rv, s.flags)
                             : m.ProcessVmReadv(*p, *target, lv, rv, s.flags);
    return SysDone(r, result);
  }
  // A raw pointer on one side: lay the explicit list out in the caller's iovec area at the
  // address Machine's Iovec form uses for that side (Machine::kIovecBase), then pass both
  // as they are.
  // (A caller that is no live task gets the syscall's own answer, ESRCH or EINVAL.)
  absl::StatusOr<uint64_t> area = m.IovecArea(*p);
  if (!area.ok() && !absl::IsNotFound(area.status()))
    return RuntimeError(s.pos, std::string(area.status().message()));
  auto lay_out = [&](const std::vector<Machine::Iovec>& v, uint64_t at, uint64_t* a,
                     uint64_t* n) {
    std::vector<uint8_t> bytes(v.size() * 16);
    for (size_t i = 0; i < v.size(); ++i) {
      std::memcpy(&bytes[16 * i], &v[i].base, 8);
      std::memcpy(&bytes[16 * i + 8], &v[i].len, 8);
    }
    *a = at;
    *n = v.size();
    if (!bytes.empty()) (void)m.Store(*p, at, bytes);
  };
  if (!lraw) lay_out(lv, Machine::kIovecBase, &la, &ln);
  if (!rraw) lay_out(rv, Machine::kIovecBase + (lraw ? 0 : 16 * lv.size()), &ra, &rn);
  SysResult r = s.vm_write ? m.ProcessVmWritev(*p, *target, la, ln, ra, rn, s.flags)
                           : m.ProcessVmReadv(*p, *target, la, ln, ra, rn, s.flags);
  return SysDone(r, result);
}

bool Interpreter::On(const ForkStmt& s, std::string* result) {
  std::optional<int> p = Pid(s.pos, s.task);
  if (!p) return false;
  SysResult r = machine_->Fork(*p);
  if (r.ret > 0) pids_[s.child] = static_cast<int>(r.ret);
  return SysDone(r, result);
}

bool Interpreter::On(const ExitStmt& s, std::string* result) {
  std::optional<int> p = Pid(s.pos, s.task);
  return p && SysDone(machine_->Exit(*p), result);
}

bool Interpreter::On(const ReapStmt& s, std::string* result) {
  std::optional<int> p = Pid(s.pos, s.task);
  std::optional<int> c = p ? Pid(s.pos, s.child) : std::nullopt;
  return c && SysDone(machine_->Reap(*p, *c), result);
}

bool Interpreter::On(const SetresuidStmt& s, std::string* result) {
  std::optional<int> p = Pid(s.pos, s.task);
  return p && SysDone(machine_->SetResUid(*p, s.ruid, s.euid, s.suid), result);
}

bool Interpreter::On(const SetresgidStmt& s, std::string* result) {
  std::optional<int> p = Pid(s.pos, s.task);
  return p && SysDone(machine_->SetResGid(*p, s.rgid, s.egid, s.sgid), result);
}

bool Interpreter::On(const CapsetStmt& s, std::string* result) {
  std::optional<int> p = Pid(s.pos, s.task);
  return p && SysDone(machine_->CapSet(*p, s.caps.bits), result);
}

bool Interpreter::On(const DumpableStmt& s, std::string* result) {
  std::optional<int> p = Pid(s.pos, s.task);
  return p && SysDone(machine_->SetDumpable(*p, s.dumpable), result);
}

bool Interpreter::On(const MadviseStmt& s, std::string* result) {
  std::optional<int> p = Pid(s.pos, s.task);
  return p && SysDone(machine_->Madvise(*p, s.addr, s.len, static_cast<int>(s.advice)), result);
}

bool Interpreter::On(const MlockStmt& s, std::string* result) {
  std::optional<int> p = Pid(s.pos, s.task);
  if (!p) return false;
  switch (s.op) {
    case MlockStmt::Op::kMlock:
      return SysDone(machine_->Mlock(*p, s.addr, s.len, static_cast<int>(s.flags)), result);
    case MlockStmt::Op::kMunlock:
      return SysDone(machine_->Munlock(*p, s.addr, s.len), result);
    case MlockStmt::Op::kMlockall:
      return SysDone(machine_->Mlockall(*p, static_cast<int>(s.flags)), result);
    case MlockStmt::Op::kMunlockall:
      return SysDone(machine_->Munlockall(*p), result);
  }
  return false;
}

bool Interpreter::On(const ExpectMemStmt& s, std::string* result) {
  std::optional<int> p = Pid(s.pos, s.task);
  if (!p) return false;
  std::string want = Materialize(s.data, s.addr);
  absl::StatusOr<std::vector<uint8_t>> got = machine_->ReadProcMem(*p, s.addr, want.size());
  if (!got.ok()) {
    ExpectFailed(s.pos, BytesForHumans(want), std::string(got.status().message()));
    *result = "FAILED";
  } else if (std::string(got->begin(), got->end()) != want) {
    ExpectFailed(s.pos, BytesForHumans(want), BytesForHumans(std::string(got->begin(), got->end())));
    *result = "FAILED";
  } else {
    *result = "ok";
  }
  return true;
}

bool Interpreter::On(const ExpectSameStmt& s, std::string* result) {
  std::optional<int> p = Pid(s.pos, s.task);
  std::optional<int> q = p ? Pid(s.pos, s.other_task) : std::nullopt;
  if (!q) return false;
  absl::StatusOr<std::vector<uint8_t>> a = machine_->ReadProcMem(*p, s.addr, s.len);
  absl::StatusOr<std::vector<uint8_t>> b = machine_->ReadProcMem(*q, s.other_addr, s.len);
  if (!a.ok() || !b.ok()) {
    ExpectFailed(s.pos, "both ranges readable",
                 std::string(!a.ok() ? a.status().message() : b.status().message()));
    *result = "FAILED";
  } else if (*a != *b) {
    size_t i = 0;
    while ((*a)[i] == (*b)[i]) ++i;
    ExpectFailed(s.pos, "equal bytes",
                 absl::StrFormat("a difference at offset %d (%#04x vs %#04x)", i, (*a)[i], (*b)[i]));
    *result = "FAILED";
  } else {
    *result = "ok";
  }
  return true;
}

absl::StatusOr<std::string> Interpreter::View(const SourcePos& pos, const ShowWhat& what) {
  Machine& m = *machine_;
  return std::visit(
      Overloaded{
          [&](const scenario::ShowMaps& w) -> absl::StatusOr<std::string> {
            std::optional<int> p = Pid(pos, w.task);
            if (!p) return absl::NotFoundError("");
            return sim::ShowMaps(m, *p);
          },
          [&](const scenario::ShowPagetable& w) -> absl::StatusOr<std::string> {
            std::optional<int> p = Pid(pos, w.task);
            if (!p) return absl::NotFoundError("");
            return w.addr ? sim::ShowPagetableWalk(m, *p, *w.addr) : sim::ShowPagetable(m, *p);
          },
          [&](const scenario::ShowPagemap& w) -> absl::StatusOr<std::string> {
            std::optional<int> p = Pid(pos, w.task);
            if (!p) return absl::NotFoundError("");
            return sim::ShowPagemap(m, *p, w.addr, w.len);
          },
          [&](const scenario::ShowTlb& w) -> absl::StatusOr<std::string> {
            return sim::ShowTlb(m, w.cpu ? static_cast<int>(*w.cpu) : -1);
          },
          [&](const scenario::ShowPage& w) -> absl::StatusOr<std::string> { return sim::ShowPage(m, w.pfn); },
          [&](const scenario::ShowBuddy&) -> absl::StatusOr<std::string> { return sim::ShowBuddy(m); },
          [&](const scenario::ShowVmstat&) -> absl::StatusOr<std::string> { return sim::ShowVmstat(m); },
          [&](const scenario::ShowCpus&) -> absl::StatusOr<std::string> { return sim::ShowCpus(m); },
          [&](const scenario::ShowDmesg&) -> absl::StatusOr<std::string> { return sim::ShowDmesg(m); },
          [&](const scenario::ShowMeminfo&) -> absl::StatusOr<std::string> { return sim::ShowMeminfo(m); },
          [&](const scenario::ShowLru&) -> absl::StatusOr<std::string> { return sim::ShowLru(m); },
          [&](const scenario::ShowSmaps& w) -> absl::StatusOr<std::string> {
            std::optional<int> p = Pid(pos, w.task);
            if (!p) return absl::NotFoundError("");
            return sim::ShowSmaps(m, *p, w.addr, w.len);
          },
          [&](const scenario::ShowSwaps&) -> absl::StatusOr<std::string> { return sim::ShowSwaps(m); },
          [&](const scenario::ShowDot& w) -> absl::StatusOr<std::string> {
            std::vector<DotTask> tasks;
            for (const std::string& name : w.tasks) {
              std::optional<int> p = Pid(pos, name);
              if (!p) return absl::NotFoundError("");
              tasks.push_back({name, *p});
            }
            return sim::PagetableDot(m, tasks);
          },
      },
      what);
}

bool Interpreter::On(const ShowStmt& s, std::string* result) {
  absl::StatusOr<std::string> text = View(s.pos, s.what);
  // A name that does not resolve was reported by Pid() already (an empty message).
  if (!text.ok() && text.status().message().empty()) return false;
  if (!text.ok()) return RuntimeError(s.pos, std::string(text.status().message()));
  *result = *text;
  return true;
}

bool Interpreter::On(const FailStmt& s, std::string* /*result*/) {
  kernel::fault_spec spec;
  spec.nth = s.nth.value_or(0);
  spec.times = s.times ? static_cast<int64_t>(*s.times) : 1;
  spec.probability = s.probability_ppb ? *s.probability_ppb / 1e9 : 1.0;
  absl::Status st = machine_->ArmFault(s.point, spec);
  if (!st.ok()) return Fail(s.pos, absl::StrCat("expected a fault point: ", st.message()));
  return true;
}

bool Interpreter::On(const TraceStmt& s, std::string* /*result*/) {
  // --trace given: the command line's level holds for the whole run (docs/scenario-language.md).
  if (options_.quiet || options_.trace_set) return true;
  recorder_->set_level(s.level == TraceStmt::Level::kOff     ? TraceLevel::kOff
                       : s.level == TraceStmt::Level::kCalls ? TraceLevel::kCalls
                                                             : TraceLevel::kFull);
  Instrument(/*attach=*/true);
  return true;
}

bool Interpreter::On(const SleepStmt& s, std::string* /*result*/) {
  machine_->Sleep(s.ms);
  return true;
}

bool Interpreter::CheckExpect(const ExpectStmt& e) {
  const SourcePos& pos = e.pos;
  std::string got;
  if (last_.kind == LastResult::Kind::kSys) {
    got = FormatSys(last_.sys);
  } else if (last_.kind == LastResult::Kind::kAccess) {
    got = FormatAccess(last_.access, last_.load, last_.len);
  } else {
    return Fail(pos, "expected `expect` after a statement with a result");
  }
  std::string want;
  const bool ok = ExpectHolds(e.result, last_, &want);
  ReportExpect(pos, Statement(e), ok, want, got);
  return true;
}

void Interpreter::ReportExpect(const SourcePos& pos, const Statement& stmt, bool ok,
                               const std::string& want, const std::string& got) {
  if (ok) {
    out_ << absl::StrFormat("[%d] %s ok\n", pos.line, FormatStatement(stmt));
  } else {
    ExpectFailed(pos, want, got);
  }
}

}  // namespace sim
