#include "sim/scenario/ast.h"

#include <iterator>
#include <string>
#include <type_traits>
#include <variant>
#include <vector>

#include "absl/strings/str_format.h"
#include "mm/vmstat_names.h"

namespace sim::scenario {

std::string FormatPos(const SourcePos& pos) {
  return absl::StrFormat("%s:%d:%d", pos.file, pos.line, pos.col);
}

uint64_t DataLength(const Data& data) {
  return std::visit(
      [](const auto& d) -> uint64_t {
        using T = std::decay_t<decltype(d)>;
        if constexpr (std::is_same_v<T, DataBytes>) {
          return d.bytes.size();
        } else {
          return d.len;
        }
      },
      data);
}

const SourcePos& PosOf(const Statement& stmt) {
  return std::visit([](const auto& s) -> const SourcePos& { return s.pos; }, stmt);
}

namespace {
struct AdviceEntry {
  const char* name;
  int value;
};
constexpr AdviceEntry kAdvice[] = {
    {"normal", 0},      {"random", 1},      {"sequential", 2},  {"willneed", 3},
    {"dontneed", 4},    {"free", 8},        {"dontfork", 10},   {"dofork", 11},
    {"mergeable", 12},  {"unmergeable", 13}, {"hugepage", 14},  {"nohugepage", 15},
    {"dontdump", 16},   {"dodump", 17},     {"wipeonfork", 18}, {"keeponfork", 19},
    {"cold", 20},       {"pageout", 21},    {"populate_read", 22}, {"populate_write", 23},
    {"dontneed_locked", 24},
};
}  // namespace

std::optional<int> AdviceFromName(absl::string_view name) {
  for (const AdviceEntry& e : kAdvice) {
    if (name == e.name) return e.value;
  }
  return std::nullopt;
}

const char* AdviceName(int64_t advice) {
  for (const AdviceEntry& e : kAdvice) {
    if (advice == e.value) return e.name;
  }
  return nullptr;
}

const std::vector<std::string>& FlagNames(FlagTable table) {
  static const std::vector<std::string> kPte = {
      "none", "present", "swap", "protnone", "writable", "user",
      "accessed", "dirty", "saved_dirty", "global", "nx", "zero", "huge"};
  // The PG_ bits in mm/page-flags.h order (as `show page` prints them), then page kinds.
  static const std::vector<std::string> kPage = {
      "locked", "writeback", "referenced", "uptodate", "dirty", "lru", "head", "waiters",
      "active", "workingset", "owner_priv_1", "anon_exclusive", "arch_1", "reserved",
      "private", "private_2", "reclaim", "swapbacked", "unevictable", "mlocked",
      "anon", "buddy", "table", "slab"};
  // fs/proc/task_mmu.c show_smap_vma_flags: the mnemonics of the flags mmsim has.
  static const std::vector<std::string> kVma = {
      "rd", "wr", "ex", "sh", "mr", "mw", "me", "ms", "gd", "um", "pf",
      "lo", "io", "sr", "rr", "dc", "de", "ac", "nr", "wf", "dd", "sd", "mm", "hg", "nh", "mg"};
  switch (table) {
    case FlagTable::kPte: return kPte;
    case FlagTable::kPage: return kPage;
    case FlagTable::kVma: return kVma;
  }
  return kPte;
}

std::optional<int> FlagIndex(FlagTable table, absl::string_view name) {
  const std::vector<std::string>& names = FlagNames(table);
  for (size_t i = 0; i < names.size(); ++i) {
    if (names[i] == name) return static_cast<int>(i);
  }
  return std::nullopt;
}

const std::vector<std::string>& VmstatItemNames() {
  // The kernel's own list (mm/vmstat_names.h, header only: the parser does not link mm/).
  static const std::vector<std::string> kItems(std::begin(kernel::kVmStatNames),
                                               std::end(kernel::kVmStatNames));
  return kItems;
}

namespace {

struct KeywordVisitor {
  const char* operator()(const MachineStmt&) const { return "machine"; }
  const char* operator()(const LetStmt&) const { return "let"; }
  const char* operator()(const ProcessStmt&) const { return "process"; }
  const char* operator()(const ThreadStmt&) const { return "thread"; }
  const char* operator()(const KthreadStmt&) const { return "kthread"; }
  const char* operator()(const FileStmt&) const { return "file"; }
  const char* operator()(const MmapStmt&) const { return "mmap"; }
  const char* operator()(const MunmapStmt&) const { return "munmap"; }
  const char* operator()(const MprotectStmt&) const { return "mprotect"; }
  const char* operator()(const StoreStmt&) const { return "store"; }
  const char* operator()(const FillStmt&) const { return "fill"; }
  const char* operator()(const LoadStmt&) const { return "load"; }
  const char* operator()(const ProcessVmRwStmt& s) const {
    return s.vm_write ? "process_vm_writev" : "process_vm_readv";
  }
  const char* operator()(const ForkStmt&) const { return "fork"; }
  const char* operator()(const ExitStmt&) const { return "exit"; }
  const char* operator()(const ReapStmt&) const { return "reap"; }
  const char* operator()(const SetresuidStmt&) const { return "setresuid"; }
  const char* operator()(const SetresgidStmt&) const { return "setresgid"; }
  const char* operator()(const CapsetStmt&) const { return "capset"; }
  const char* operator()(const DumpableStmt&) const { return "dumpable"; }
  const char* operator()(const MadviseStmt&) const { return "madvise"; }
  const char* operator()(const MlockStmt& s) const {
    switch (s.op) {
      case MlockStmt::Op::kMlock: return "mlock";
      case MlockStmt::Op::kMunlock: return "munlock";
      case MlockStmt::Op::kMlockall: return "mlockall";
      case MlockStmt::Op::kMunlockall: return "munlockall";
    }
    return "mlock";
  }
  const char* operator()(const ExpectStmt&) const { return "expect"; }
  const char* operator()(const ExpectMemStmt&) const { return "expect-mem"; }
  const char* operator()(const ExpectSameStmt&) const { return "expect-same"; }
  const char* operator()(const ShowStmt&) const { return "show"; }
  const char* operator()(const FailStmt&) const { return "fail"; }
  const char* operator()(const TraceStmt&) const { return "trace"; }
  const char* operator()(const ScheduleStmt&) const { return "schedule"; }
  const char* operator()(const TogetherStmt&) const { return "together"; }
  const char* operator()(const ExploreStmt&) const { return "explore"; }
  const char* operator()(const EndStmt&) const { return "end"; }
  const char* operator()(const ExpectStateStmt&) const { return "expect"; }
  const char* operator()(const MarkStmt&) const { return "mark"; }
  const char* operator()(const SleepStmt&) const { return "sleep"; }
  const char* operator()(const ExpectOutcomeStmt& s) const {
    switch (s.quantifier) {
      case ExpectOutcomeStmt::Quantifier::kAlways: return "expect-always";
      case ExpectOutcomeStmt::Quantifier::kSometimes: return "expect-sometimes";
      case ExpectOutcomeStmt::Quantifier::kNever: return "expect-never";
    }
    return "expect-always";
  }
};

}  // namespace

const char* KeywordOf(const Statement& stmt) { return std::visit(KeywordVisitor{}, stmt); }

bool ProducesResult(const Statement& stmt) {
  return std::visit(
      [](const auto& s) {
        using T = std::decay_t<decltype(s)>;
        return std::is_same_v<T, MmapStmt> || std::is_same_v<T, MunmapStmt> ||
               std::is_same_v<T, MprotectStmt> || std::is_same_v<T, StoreStmt> ||
               std::is_same_v<T, FillStmt> || std::is_same_v<T, LoadStmt> ||
               std::is_same_v<T, ProcessVmRwStmt> || std::is_same_v<T, ForkStmt> ||
               std::is_same_v<T, ReapStmt> || std::is_same_v<T, SetresuidStmt> ||
               std::is_same_v<T, SetresgidStmt> || std::is_same_v<T, CapsetStmt> ||
               std::is_same_v<T, DumpableStmt> || std::is_same_v<T, MadviseStmt> ||
               std::is_same_v<T, MlockStmt>;
      },
      stmt);
}

bool IsTaskOperation(const Statement& stmt) {
  return ProducesResult(stmt) || std::holds_alternative<ExitStmt>(stmt);
}

const std::string& TaskOf(const Statement& stmt) {
  static const std::string kNone;
  return std::visit(
      [](const auto& s) -> const std::string& {
        using T = std::decay_t<decltype(s)>;
        if constexpr (std::is_same_v<T, MmapStmt> || std::is_same_v<T, MunmapStmt> ||
                      std::is_same_v<T, MprotectStmt> || std::is_same_v<T, StoreStmt> ||
                      std::is_same_v<T, FillStmt> || std::is_same_v<T, LoadStmt> ||
                      std::is_same_v<T, ProcessVmRwStmt> || std::is_same_v<T, ForkStmt> ||
                      std::is_same_v<T, ExitStmt> || std::is_same_v<T, ReapStmt> ||
                      std::is_same_v<T, SetresuidStmt> || std::is_same_v<T, SetresgidStmt> ||
                      std::is_same_v<T, CapsetStmt> || std::is_same_v<T, DumpableStmt> ||
                      std::is_same_v<T, MadviseStmt> || std::is_same_v<T, MlockStmt>) {
          return s.task;
        } else {
          return kNone;
        }
      },
      stmt);
}

bool SameIgnoringPos(const Statement& a, const Statement& b) {
  Statement ca = a;
  Statement cb = b;
  std::visit([](auto& s) { s.pos = SourcePos{}; }, ca);
  std::visit([](auto& s) { s.pos = SourcePos{}; }, cb);
  return ca == cb;
}

std::optional<std::vector<Statement>> BlockCollector::Add(const Statement& stmt) {
  if (!block_) {
    block_.emplace(1, stmt);
    inner_open_ = std::holds_alternative<ExploreStmt>(stmt);  // its together comes next
    return std::nullopt;
  }
  block_->push_back(stmt);
  if (!std::holds_alternative<EndStmt>(stmt)) return std::nullopt;
  if (inner_open_) {  // the end of an explore block's together block
    inner_open_ = false;
    return std::nullopt;
  }
  std::vector<Statement> block = std::move(*block_);
  block_.reset();
  return block;
}

BlockParts SplitBlock(const std::vector<Statement>& block) {
  BlockParts p;
  size_t i = 0;
  p.explore = std::get_if<ExploreStmt>(&block[0]);
  if (p.explore != nullptr) i = 1;
  p.together = &std::get<TogetherStmt>(block[i++]);
  for (; i < block.size(); ++i) {
    const Statement& s = block[i];
    if (const auto* e = std::get_if<EndStmt>(&s)) {
      p.together_end = e;
      ++i;
      break;
    }
    if (const auto* e = std::get_if<ExpectStmt>(&s)) {
      p.ops.back().expects.push_back(e);
    } else {
      p.ops.push_back(BlockOp{&s, {}});
    }
  }
  for (; i + 1 < block.size(); ++i) p.tail.push_back(&block[i]);
  p.end = std::get_if<EndStmt>(&block.back());
  return p;
}

}  // namespace sim::scenario
