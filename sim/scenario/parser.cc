#include "sim/scenario/parser.h"

#include <algorithm>
#include <cstdint>
#include <initializer_list>
#include <limits>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"
#include "hw/access.h"
#include "sim/scenario/ast.h"
#include "sim/scenario/cap_names.h"
#include "sim/scenario/errno_names.h"
#include "sim/scenario/lexer.h"

// Local versions of the Abseil status macros, which the system Abseil lacks.
#define SCN_RETURN_IF_ERROR(expr)        \
  do {                                   \
    absl::Status scn_status_ = (expr);   \
    if (!scn_status_.ok()) return scn_status_; \
  } while (0)
#define SCN_CONCAT_INNER(a, b) a##b
#define SCN_CONCAT(a, b) SCN_CONCAT_INNER(a, b)
#define SCN_ASSIGN_OR_RETURN(lhs, expr) \
  SCN_ASSIGN_OR_RETURN_IMPL(SCN_CONCAT(scn_statusor_, __LINE__), lhs, expr)
#define SCN_ASSIGN_OR_RETURN_IMPL(tmp, lhs, expr) \
  auto tmp = (expr);                              \
  if (!tmp.ok()) return tmp.status();             \
  lhs = std::move(tmp).value()

namespace sim::scenario {
namespace {

// kMark: a `mark` (counters to compare with); kPfn: a pfn bound by `expect pte ... as NAME`.
enum class SymbolKind { kLet, kProcess, kThread, kKthread, kFile, kMark, kPfn };

const char* SymbolKindName(SymbolKind kind) {
  switch (kind) {
    case SymbolKind::kLet: return "let name";
    case SymbolKind::kProcess: return "process name";
    case SymbolKind::kThread: return "thread name";
    case SymbolKind::kKthread: return "kthread name";
    case SymbolKind::kFile: return "file name";
    case SymbolKind::kMark: return "mark name";
    case SymbolKind::kPfn: return "pfn name";
  }
  return "name";
}

bool IsTaskKind(SymbolKind kind) {
  return kind == SymbolKind::kProcess || kind == SymbolKind::kThread ||
         kind == SymbolKind::kKthread;
}

struct Symbol {
  SymbolKind kind;
  SourcePos pos;
  uint64_t value = 0;  // kLet only
};

// Where the parser is with respect to blocks (ast.h, "Concurrency: blocks").
enum class Block {
  kNone,             // top level
  kTogether,         // inside a together block at top level
  kExploreHead,      // right after `explore`: its together must come next
  kExploreTogether,  // inside the together block of an explore block
  kExploreTail,      // after that together's `end`: checks, views, outcome assertions
};

// Everything that survives from one line to the next.
struct ParseState {
  std::string filename;
  int line = 0;
  absl::flat_hash_map<std::string, Symbol> symbols;
  int statements = 0;               // successfully parsed statements so far
  bool prev_produces_result = false;
  const char* prev_keyword = "";    // keyword of the last statement
  int prev_line = 0;
  int last_line_bytes = 0;          // of the line parsed last (for the end-of-input error)
  Block block = Block::kNone;
  SourcePos explore_pos;            // the open explore block's `explore`
  SourcePos together_pos;           // the open (or explored) together block's `together`
  // The tasks with an operation in the open (or explored) together block, and the line of
  // each operation.
  std::vector<std::pair<std::string, int>> together_tasks;
};

// Words the language spells; no name may be one of them (nor an errno,
// capability or signal name), so a name can never be mistaken for syntax.
constexpr const char* kKeywords[] = {
    // statements and operations
    "machine", "let", "process", "thread", "kthread", "file", "expect", "show", "fail", "trace",
    "schedule", "together", "explore", "end", "sleep",
    "mmap", "munmap", "mprotect", "store", "fill", "load", "process_vm_readv",
    "process_vm_writev", "fork", "exit", "reap", "setresuid", "setresgid", "capset", "dumpable",
    "madvise", "mlock", "munlock", "mlockall", "munlockall",
    // madvise advice, mlock and mlockall flags
    "dontneed", "dontneed_locked", "free", "cold", "pageout", "willneed", "dontfork", "dofork",
    "wipeonfork", "keeponfork", "normal", "sequential", "mergeable", "unmergeable", "dontdump",
    "dodump", "populate_read", "populate_write", "onfault", "current", "future",
    // options
    "memory", "swap", "cpus", "tlb", "seed", "uid", "gid", "ruid", "euid", "suid", "rgid", "egid", "sgid",
    "caps", "size", "data", "readonly", "offset", "flags", "nth", "times", "probability", "of",
    "cpu", "preemptions", "depth", "random", "pct", "or", "deadlock",
    // mmap flags
    "private", "shared", "anon", "fixed", "noreplace", "populate", "growsdown", "noreserve",
    // values
    "hex", "repeat", "pattern", "raw", "all", "none", "off", "calls", "full", "rwx",
    "SIGSEGV", "SIGBUS", "SIGKILL",
    // show views
    "maps", "pagetable", "pagemap", "page", "buddy", "vmstat", "dmesg", "meminfo", "lru", "smaps", "swaps",
    "dot",
    // state checks (expect pte/page/tlb/vmstat/vma, mark)
    "mark", "pte", "vma", "since", "as", "at", "cached", "absent", "hits", "misses", "walks",
    "refcount", "mapcount", "pfn", "start", "prot", "fault",
};

bool IsReserved(absl::string_view name) {
  for (const char* k : kKeywords) {
    if (name == k) return true;
  }
  return ErrnoFromName(name).has_value() || CapFromName(name).has_value();
}

bool IsIdentifier(absl::string_view s) {
  if (s.empty()) return false;
  auto alpha = [](char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'; };
  if (!alpha(s[0])) return false;
  for (char c : s) {
    if (!alpha(c) && !(c >= '0' && c <= '9')) return false;
  }
  return true;
}

// "64M", "1G", "4096".
std::string LimitText(uint64_t v) {
  if (v != 0 && v % kGiB == 0) return absl::StrFormat("%uG", v / kGiB);
  if (v != 0 && v % kMiB == 0) return absl::StrFormat("%uM", v / kMiB);
  if (v != 0 && v % kKiB == 0) return absl::StrFormat("%uK", v / kKiB);
  return absl::StrFormat("%u", v);
}

// A NUM during evaluation: sign and magnitude, so every intermediate value in
// [-(2^64-1), 2^64-1] is exact and overflow is detected, never wrapped.
struct Num {
  bool neg = false;
  uint64_t mag = 0;
};

Num Normalize(Num n) {
  if (n.mag == 0) n.neg = false;
  return n;
}

bool AddNum(Num a, Num b, Num* out) {
  if (a.neg == b.neg) {
    uint64_t m;
    if (__builtin_add_overflow(a.mag, b.mag, &m)) return false;
    *out = Normalize({a.neg, m});
  } else if (a.mag >= b.mag) {
    *out = Normalize({a.neg, a.mag - b.mag});
  } else {
    *out = Normalize({b.neg, b.mag - a.mag});
  }
  return true;
}

bool MulNum(Num a, Num b, Num* out) {
  uint64_t m;
  if (__builtin_mul_overflow(a.mag, b.mag, &m)) return false;
  *out = Normalize({a.neg != b.neg, m});
  return true;
}

// How an argument is named in messages: "expected LEN like 4K, got ...".
struct Arg {
  const char* name;
  const char* example;
};
constexpr Arg kAddrArg{"ADDR", "0x7f0000000000"};
constexpr Arg kLenArg{"LEN", "4K"};

constexpr char kStatementExpected[] =
    "a statement (machine, let, process, thread, kthread, file, expect, expect-mem, "
    "expect-same, show, fail, trace, schedule, together, explore, mark) or TASK: OPERATION";
constexpr char kOperationExpected[] =
    "an operation (mmap, munmap, mprotect, store, fill, load, process_vm_readv, "
    "process_vm_writev, fork, exit, reap, setresuid, setresgid, capset, dumpable, madvise, "
    "mlock, munlock, mlockall, munlockall)";
constexpr char kResultStatements[] =
    "expect right after a statement with a result (mmap, munmap, mprotect, store, fill, load, "
    "process_vm_readv, process_vm_writev, fork, reap, setresuid, setresgid, capset, dumpable, "
    "madvise, mlock, munlock, mlockall, munlockall)";
constexpr char kDataExpected[] = "DATA like \"text\", hex:00ff, repeat(4K,0) or pattern(4K)";
constexpr char kTaskExpected[] = "a declared process, thread or kthread name";
constexpr char kProcessExpected[] = "a declared process name";
constexpr char kPidExpected[] = "PID (a process, thread or kthread name, or a NUM)";
constexpr char kFlagExpected[] =
    "mmap flag (private, shared, anon, fixed, noreplace, populate, growsdown, noreserve)";
constexpr char kAdviceExpected[] =
    "ADVICE (dontneed, free, cold, pageout, willneed, dontneed_locked, dontfork, dofork, "
    "wipeonfork, keeponfork, hugepage, nohugepage, normal, random, sequential, mergeable, "
    "unmergeable, dontdump, dodump, populate_read, populate_write, or a NUM)";
constexpr char kMlockallExpected[] = "mlockall FLAGS: current, future, onfault joined by commas, or a NUM";
constexpr char kCapsExpected[] = "capabilities: all, none or a list like cap_sys_ptrace,cap_kill";
constexpr char kIovExpected[] = "iovec list like [0x1000:4K, 0x3000:8], [] or raw(ADDR,COUNT)";
constexpr char kEscapeExpected[] = "escape like \\n, \\t, \\r, \\\\, \\\", \\0 or \\xHH";
constexpr char kOutcomeAtomExpected[] =
    "an outcome condition (TASK=RESULT, deadlock or check-failed)";
// Bounds of the exploration statements (far above anything that finishes; they keep a
// number from wrapping on its way to the explorer).
constexpr uint64_t kMaxExploreRuns = uint64_t{1} << 32;
constexpr uint64_t kMaxPreemptions = 64;
constexpr uint64_t kMaxPctDepth = 64;

// Parses one line. On success, pending() holds the name the statement
// declares, which the caller commits to the symbol table.
class LineParser {
 public:
  LineParser(const ParseState& st, absl::string_view line) : st_(st), lex_(line) {}

  absl::StatusOr<std::optional<Statement>> Parse();

  std::optional<std::pair<std::string, Symbol>>& pending() { return pending_; }

 private:
  // --- errors -------------------------------------------------------------
  absl::Status Err(int col, absl::string_view expected, absl::string_view got) const {
    return absl::InvalidArgumentError(absl::StrFormat("%s:%d:%d: expected %s, got %s",
                                                      st_.filename, st_.line, col, expected, got));
  }
  absl::Status ErrTok(const Token& t, absl::string_view expected) const {
    return Err(t.col, expected, DescribeToken(t));
  }

  SourcePos PosAt(int col) const { return SourcePos{st_.filename, st_.line, col}; }

  absl::Status ExpectPunct(char c, absl::string_view expected) {
    Token t = lex_.Next();
    if (!t.IsPunct(c)) return ErrTok(t, expected);
    return absl::OkStatus();
  }
  absl::Status ExpectEnd() {
    const Token& t = lex_.Peek();
    if (t.kind == TokenKind::kEnd) return absl::OkStatus();
    if (t.space_before && (t.IsPunct('+') || t.IsPunct('-') || t.IsPunct('*'))) {
      return ErrTok(t, "end of line (a NUM with spaces needs parentheses)");
    }
    return ErrTok(t, "end of line");
  }

  // --- names --------------------------------------------------------------
  absl::StatusOr<std::string> ParseNewName(absl::string_view what, SymbolKind kind);
  absl::StatusOr<std::string> ResolveName(const Token& t, std::initializer_list<SymbolKind> kinds,
                                          absl::string_view what) const;
  absl::StatusOr<std::string> ParseTaskName() {
    Token t = lex_.Next();
    return ResolveName(t, {SymbolKind::kProcess, SymbolKind::kThread, SymbolKind::kKthread},
                       kTaskExpected);
  }
  absl::StatusOr<std::string> ParseProcessName() {
    Token t = lex_.Next();
    return ResolveName(t, {SymbolKind::kProcess}, kProcessExpected);
  }

  // --- NUM ----------------------------------------------------------------
  struct NumCtx {
    Arg arg;
    bool spaced;      // whitespace allowed between tokens at top level
    int parens = 0;   // open parentheses
    bool first = true;
  };
  struct NumSpan {
    Num v;
    int col;
    int end_col;
  };
  bool SpaceOk(const NumCtx& c) const { return c.spaced || c.parens > 0; }
  absl::StatusOr<Num> ParseSum(NumCtx& c, int depth);
  absl::StatusOr<Num> ParseProduct(NumCtx& c, int depth);
  absl::StatusOr<Num> ParseUnary(NumCtx& c, int depth);
  absl::StatusOr<Num> ParseLiteral(const Token& t) const;
  absl::StatusOr<NumSpan> ParseNumSpan(Arg arg, bool spaced);
  std::string SpanText(const NumSpan& s) const;

  absl::StatusOr<uint64_t> ParseU64(Arg arg, uint64_t max = UINT64_MAX, uint64_t min = 0,
                                    bool spaced = false);
  absl::StatusOr<uint64_t> ParseBits64(Arg arg);     // -2^63 .. 2^64-1, two's complement
  absl::StatusOr<uint32_t> ParseId32(Arg arg);       // -1 .. 2^32-1, -1 as 0xffffffff
  absl::StatusOr<bool> ParseZeroOne(Arg arg);

  // --- values -------------------------------------------------------------
  absl::StatusOr<Prot> ParseProt();
  absl::StatusOr<MmapFlags> ParseMmapFlags();
  absl::StatusOr<CapSet> ParseCaps();
  absl::StatusOr<int64_t> ParseMlockallFlags();
  absl::StatusOr<Data> ParseData(uint64_t max_len, absl::string_view what);
  absl::StatusOr<std::string> DecodeString(const Token& t) const;
  absl::StatusOr<IovList> ParseIovList();
  absl::StatusOr<PidRef> ParsePid();
  absl::StatusOr<uint32_t> ParseProbability();
  // Reads `KEY=` where KEY is one of `allowed` (each at most once). Returns the
  // key; `*seen` tracks repeats.
  absl::StatusOr<std::string> ParseOptionKey(std::initializer_list<const char*> allowed,
                                             absl::string_view expected,
                                             std::vector<std::string>* seen, bool* has_value);

  // --- statements ---------------------------------------------------------
  absl::StatusOr<Statement> ParseMachine(const Token& kw);
  absl::StatusOr<Statement> ParseLet(const Token& kw);
  absl::StatusOr<Statement> ParseProcess(const Token& kw);
  absl::StatusOr<Statement> ParseThread(const Token& kw);
  absl::StatusOr<Statement> ParseKthread(const Token& kw);
  absl::StatusOr<Statement> ParseFile(const Token& kw);
  absl::StatusOr<Statement> ParseTaskOp(const Token& task);
  absl::StatusOr<Statement> ParseExpect(const Token& kw);
  absl::StatusOr<Statement> ParseExpectMem(const Token& kw);
  absl::StatusOr<Statement> ParseExpectSame(const Token& kw);
  // The state checks: `expect pte|page|tlb|vmstat|vma ...` and `mark NAME`.
  absl::StatusOr<Statement> ParseExpectState(const Token& kw, const Token& form);
  absl::StatusOr<ExpectPte> ParseExpectPte();
  absl::StatusOr<ExpectPage> ParseExpectPage();
  absl::StatusOr<StateCheck> ParseExpectTlb();
  absl::StatusOr<ExpectVma> ParseExpectVma();
  absl::StatusOr<ExpectFault> ParseExpectFault();
  absl::StatusOr<FlagCheck> ParseFlagList(FlagTable table, const char* expected);
  absl::StatusOr<PfnRef> ParsePfnRef();
  absl::StatusOr<CounterValue> ParseCounterValue();
  absl::StatusOr<Statement> ParseMark(const Token& kw);
  absl::StatusOr<Statement> ParseShow(const Token& kw);
  absl::StatusOr<Statement> ParseFail(const Token& kw);
  absl::StatusOr<Statement> ParseTrace(const Token& kw);
  absl::StatusOr<Statement> ParseSleep(const Token& kw);
  absl::StatusOr<Statement> ParseSchedule(const Token& kw);
  absl::StatusOr<Statement> ParseTogether(const Token& kw);
  absl::StatusOr<Statement> ParseExplore(const Token& kw);
  absl::StatusOr<Statement> ParseEnd(const Token& kw);
  absl::StatusOr<Statement> ParseExpectOutcome(const Token& kw,
                                               ExpectOutcomeStmt::Quantifier quantifier);
  absl::StatusOr<OutcomeAtom> ParseOutcomeAtom();
  absl::StatusOr<ExpectResult> ParseResultValue(bool bare_errno);
  // Whether a statement starting with `first` may stand where the parser is (blocks).
  absl::Status CheckPlacement(const Token& first, bool task_op);
  absl::StatusOr<std::optional<uint32_t>> ParseCpuOption(const char* what);

  const ParseState& st_;
  Lexer lex_;
  std::optional<std::pair<std::string, Symbol>> pending_;
};

// ---------------------------------------------------------------------------
// Names.

absl::StatusOr<std::string> LineParser::ParseNewName(absl::string_view what, SymbolKind kind) {
  Token t = lex_.Next();
  if (t.kind != TokenKind::kIdent) return ErrTok(t, what);
  if (IsReserved(t.text)) {
    return Err(t.col, absl::StrCat(what, " that is not a keyword"),
               "keyword " + QuoteForMessage(t.text));
  }
  if (t.text.size() > static_cast<size_t>(kMaxNameBytes)) {
    return Err(t.col, absl::StrFormat("%s of at most %d bytes", what, kMaxNameBytes),
               absl::StrFormat("%d bytes", t.text.size()));
  }
  auto it = st_.symbols.find(t.text);
  if (it != st_.symbols.end()) {
    return Err(t.col, "a name not declared before",
               absl::StrFormat("%s (a %s declared at %s)", QuoteForMessage(t.text),
                               SymbolKindName(it->second.kind), FormatPos(it->second.pos)));
  }
  std::string name(t.text);
  pending_.emplace(name, Symbol{kind, PosAt(t.col), 0});
  return name;
}

absl::StatusOr<std::string> LineParser::ResolveName(const Token& t,
                                                    std::initializer_list<SymbolKind> kinds,
                                                    absl::string_view what) const {
  if (t.kind != TokenKind::kIdent && !(t.kind == TokenKind::kWord && IsIdentifier(t.text))) {
    return ErrTok(t, what);
  }
  auto it = st_.symbols.find(t.text);
  if (it == st_.symbols.end()) return Err(t.col, what, "undefined name " + QuoteForMessage(t.text));
  for (SymbolKind k : kinds) {
    if (it->second.kind == k) return std::string(t.text);
  }
  return Err(t.col, what,
             absl::StrFormat("%s %s", SymbolKindName(it->second.kind), QuoteForMessage(t.text)));
}

// ---------------------------------------------------------------------------
// NUM: expr := product (('+'|'-') product)*; product := unary ('*' unary)*;
// unary := '-' unary | NUMBER | LETNAME | '(' expr ')'.
// Outside parentheses the tokens of a NUM must touch (no whitespace), so that
// `setresuid -1 -1 0` is three NUMs; `spaced` lifts this where the NUM is
// delimited anyway (inside brackets, at the end of `let`).

absl::StatusOr<Num> LineParser::ParseSum(NumCtx& c, int depth) {
  SCN_ASSIGN_OR_RETURN(Num acc, ParseProduct(c, depth));
  for (;;) {
    const Token& t = lex_.Peek();
    if (!t.IsPunct('+') && !t.IsPunct('-')) break;
    if (t.space_before && !SpaceOk(c)) break;
    Token op = lex_.Next();
    SCN_ASSIGN_OR_RETURN(Num rhs, ParseProduct(c, depth));
    if (op.text[0] == '-') rhs = Normalize({!rhs.neg, rhs.mag});
    if (!AddNum(acc, rhs, &acc)) {
      return Err(op.col, "a value that fits in 64 bits", "overflow at " + QuoteForMessage(op.text));
    }
  }
  return acc;
}

absl::StatusOr<Num> LineParser::ParseProduct(NumCtx& c, int depth) {
  SCN_ASSIGN_OR_RETURN(Num acc, ParseUnary(c, depth));
  for (;;) {
    const Token& t = lex_.Peek();
    if (!t.IsPunct('*')) break;
    if (t.space_before && !SpaceOk(c)) break;
    Token op = lex_.Next();
    SCN_ASSIGN_OR_RETURN(Num rhs, ParseUnary(c, depth));
    if (!MulNum(acc, rhs, &acc)) {
      return Err(op.col, "a value that fits in 64 bits", "overflow at " + QuoteForMessage(op.text));
    }
  }
  return acc;
}

absl::StatusOr<Num> LineParser::ParseUnary(NumCtx& c, int depth) {
  Token t = lex_.Peek();
  // Built only when an error needs it: this is the hot path of every NUM.
  auto expected = [&c]() {
    return c.first ? absl::StrFormat("%s like %s", c.arg.name, c.arg.example) : std::string("NUM");
  };
  if (!c.first && t.space_before && !SpaceOk(c) && t.kind != TokenKind::kEnd) {
    return Err(t.col, "NUM right after the operator (a NUM with spaces needs parentheses)",
               "space before " + DescribeToken(t));
  }
  // kMaxNesting levels are allowed: the one that would open level kMaxNesting + 1 is the
  // error, reported at its '(' or '-'.
  if (depth >= kMaxNesting && (t.IsPunct('-') || t.IsPunct('('))) {
    return Err(t.col, absl::StrFormat("at most %d nested parentheses or minus signs", kMaxNesting),
               DescribeToken(t));
  }
  if (t.IsPunct('-')) {
    lex_.Next();
    c.first = false;
    SCN_ASSIGN_OR_RETURN(Num v, ParseUnary(c, depth + 1));
    return Normalize({!v.neg, v.mag});
  }
  if (t.IsPunct('(')) {
    lex_.Next();
    c.first = false;
    ++c.parens;
    SCN_ASSIGN_OR_RETURN(Num v, ParseSum(c, depth + 1));
    Token close = lex_.Next();
    if (!close.IsPunct(')')) return ErrTok(close, "')' or an operator (+ - *)");
    --c.parens;
    return v;
  }
  if (t.kind == TokenKind::kNumber) {
    lex_.Next();
    c.first = false;
    return ParseLiteral(t);
  }
  if (t.kind == TokenKind::kIdent) {
    auto it = st_.symbols.find(t.text);
    if (it == st_.symbols.end()) {
      return Err(t.col, c.first ? expected() : std::string("NUM or let name"),
                 "undefined name " + QuoteForMessage(t.text));
    }
    if (it->second.kind != SymbolKind::kLet) {
      return Err(t.col, c.first ? expected() : std::string("NUM or let name"),
                 absl::StrFormat("%s %s", SymbolKindName(it->second.kind),
                                 QuoteForMessage(t.text)));
    }
    lex_.Next();
    c.first = false;
    return Num{false, it->second.value};
  }
  return ErrTok(t, expected());
}

absl::StatusOr<Num> LineParser::ParseLiteral(const Token& t) const {
  absl::string_view s = t.text;
  constexpr char kExpected[] = "NUM like 42, 0x1000 or 4K";
  uint64_t mult = 1;
  switch (s.back()) {
    case 'K': mult = kKiB; break;
    case 'M': mult = kMiB; break;
    case 'G': mult = kGiB; break;
    default: break;
  }
  if (mult != 1) s.remove_suffix(1);
  int base = 10;
  if (s.size() >= 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
    base = 16;
    s.remove_prefix(2);
  } else if (s.size() > 1 && s[0] == '0') {
    return Err(t.col, "NUM without leading zeros (octal is not supported)",
               QuoteForMessage(t.text));
  }
  if (s.empty()) return Err(t.col, kExpected, QuoteForMessage(t.text));
  uint64_t v = 0;
  for (char ch : s) {
    int d;
    if (ch >= '0' && ch <= '9') {
      d = ch - '0';
    } else if (base == 16 && ch >= 'a' && ch <= 'f') {
      d = ch - 'a' + 10;
    } else if (base == 16 && ch >= 'A' && ch <= 'F') {
      d = ch - 'A' + 10;
    } else {
      return Err(t.col, kExpected, QuoteForMessage(t.text));
    }
    if (__builtin_mul_overflow(v, static_cast<uint64_t>(base), &v) ||
        __builtin_add_overflow(v, static_cast<uint64_t>(d), &v)) {
      return Err(t.col, "a NUM that fits in 64 bits", QuoteForMessage(t.text));
    }
  }
  if (__builtin_mul_overflow(v, mult, &v)) {
    return Err(t.col, "a NUM that fits in 64 bits", QuoteForMessage(t.text));
  }
  return Num{false, v};
}

absl::StatusOr<LineParser::NumSpan> LineParser::ParseNumSpan(Arg arg, bool spaced) {
  const int col = lex_.Peek().col;
  NumCtx c{arg, spaced};
  SCN_ASSIGN_OR_RETURN(Num v, ParseSum(c, 0));
  return NumSpan{v, col, lex_.prev_end_col()};
}

std::string LineParser::SpanText(const NumSpan& s) const {
  absl::string_view src = lex_.Slice(s.col, s.end_col);
  std::string value = absl::StrCat(s.v.neg ? "-" : "", s.v.mag);
  std::string out = QuoteForMessage(src, 40);
  if (src != value) absl::StrAppend(&out, " (", value, ")");
  return out;
}

absl::StatusOr<uint64_t> LineParser::ParseU64(Arg arg, uint64_t max, uint64_t min, bool spaced) {
  SCN_ASSIGN_OR_RETURN(NumSpan s, ParseNumSpan(arg, spaced));
  if (s.v.neg) return Err(s.col, absl::StrCat("a non-negative ", arg.name), SpanText(s));
  if (s.v.mag < min || s.v.mag > max) {
    std::string range =
        min == 0 ? absl::StrFormat("%s of at most %s", arg.name, LimitText(max))
                 : absl::StrFormat("%s from %s to %s", arg.name, LimitText(min), LimitText(max));
    return Err(s.col, range, SpanText(s));
  }
  return s.v.mag;
}

absl::StatusOr<uint64_t> LineParser::ParseBits64(Arg arg) {
  SCN_ASSIGN_OR_RETURN(NumSpan s, ParseNumSpan(arg, false));
  if (!s.v.neg) return s.v.mag;
  if (s.v.mag > (uint64_t{1} << 63)) {
    return Err(s.col, absl::StrFormat("%s from -2^63 to 2^64-1", arg.name), SpanText(s));
  }
  return uint64_t{0} - s.v.mag;
}

absl::StatusOr<uint32_t> LineParser::ParseId32(Arg arg) {
  SCN_ASSIGN_OR_RETURN(NumSpan s, ParseNumSpan(arg, false));
  if (s.v.neg ? s.v.mag != 1 : s.v.mag > UINT32_MAX) {
    return Err(s.col, absl::StrFormat("%s from -1 to 4294967295", arg.name), SpanText(s));
  }
  return s.v.neg ? UINT32_MAX : static_cast<uint32_t>(s.v.mag);
}

absl::StatusOr<bool> LineParser::ParseZeroOne(Arg arg) {
  SCN_ASSIGN_OR_RETURN(NumSpan s, ParseNumSpan(arg, false));
  if (s.v.neg || s.v.mag > 1) return Err(s.col, absl::StrCat(arg.name, " 0 or 1"), SpanText(s));
  return s.v.mag == 1;
}

// ---------------------------------------------------------------------------
// Values.

absl::StatusOr<Prot> LineParser::ParseProt() {
  Token t = lex_.NextNonSpace();
  const char* expected = "PROT like rw- or r-x";
  if (t.kind != TokenKind::kWord || t.text.size() != 3) return ErrTok(t, expected);
  static constexpr char kLetters[3] = {'r', 'w', 'x'};
  static constexpr uint32_t kBits[3] = {Prot::kRead, Prot::kWrite, Prot::kExec};
  Prot p;
  for (int i = 0; i < 3; ++i) {
    if (t.text[i] == kLetters[i]) {
      p.bits |= kBits[i];
    } else if (t.text[i] != '-') {
      return ErrTok(t, expected);
    }
  }
  return p;
}

absl::StatusOr<MmapFlags> LineParser::ParseMmapFlags() {
  struct FlagName {
    const char* name;
    uint32_t bit;
  };
  static constexpr FlagName kFlags[] = {
      {"private", MmapFlags::kPrivate},     {"shared", MmapFlags::kShared},
      {"anon", MmapFlags::kAnonymous},      {"fixed", MmapFlags::kFixed},
      {"noreplace", MmapFlags::kFixedNoreplace}, {"populate", MmapFlags::kPopulate},
      {"growsdown", MmapFlags::kGrowsdown}, {"noreserve", MmapFlags::kNoreserve},
  };
  MmapFlags f;
  const Token first = lex_.Peek();
  for (bool more = true; more;) {
    Token t = lex_.Next();
    if (t.kind != TokenKind::kIdent) {
      return ErrTok(t, t.col == first.col ? "mmap FLAGS like private or shared,anon,fixed"
                                          : kFlagExpected);
    }
    uint32_t bit = 0;
    for (const FlagName& fn : kFlags) {
      if (t.text == fn.name) bit = fn.bit;
    }
    if (bit == 0) return ErrTok(t, kFlagExpected);
    if (f.bits & bit) return Err(t.col, "each mmap flag once", "a second " + QuoteForMessage(t.text));
    const uint32_t type = MmapFlags::kPrivate | MmapFlags::kShared;
    if ((bit & type) && (f.bits & type)) {
      return Err(t.col, "one of private or shared", "both");
    }
    f.bits |= bit;
    more = lex_.Peek().IsPunct(',');
    if (more) lex_.Next();
  }
  if ((f.bits & (MmapFlags::kPrivate | MmapFlags::kShared)) == 0) {
    return Err(first.col, "private or shared among the mmap FLAGS",
               QuoteForMessage(lex_.Slice(first.col, lex_.prev_end_col())));
  }
  return f;
}

absl::StatusOr<int64_t> LineParser::ParseMlockallFlags() {
  if (lex_.Peek().kind != TokenKind::kIdent) {
    SCN_ASSIGN_OR_RETURN(uint64_t v, ParseBits64({"mlockall FLAGS", "current,future"}));
    return static_cast<int64_t>(v);
  }
  int64_t flags = 0;
  Token t = lex_.Next();
  for (;;) {
    int64_t bit = t.Is(TokenKind::kIdent, "current")  ? MlockStmt::kCurrent
                  : t.Is(TokenKind::kIdent, "future") ? MlockStmt::kFuture
                  : t.Is(TokenKind::kIdent, "onfault") ? MlockStmt::kOnfault
                                                       : 0;
    if (bit == 0) return ErrTok(t, kMlockallExpected);
    if (flags & bit) return Err(t.col, "each flag once", "a second " + QuoteForMessage(t.text));
    flags |= bit;
    if (!lex_.Peek().IsPunct(',')) break;
    lex_.Next();
    t = lex_.Next();
  }
  return flags;
}

absl::StatusOr<CapSet> LineParser::ParseCaps() {
  Token t = lex_.Next();
  if (t.Is(TokenKind::kIdent, "all")) return CapSet{CapSet::kAll};
  if (t.Is(TokenKind::kIdent, "none")) return CapSet{0};
  CapSet caps;
  for (;;) {
    if (t.kind != TokenKind::kIdent) return ErrTok(t, kCapsExpected);
    std::optional<int> cap = CapFromName(t.text);
    if (!cap.has_value()) return ErrTok(t, "capability name like cap_sys_ptrace");
    const uint64_t bit = uint64_t{1} << *cap;
    if (caps.bits & bit) {
      return Err(t.col, "each capability once", "a second " + QuoteForMessage(t.text));
    }
    caps.bits |= bit;
    if (!lex_.Peek().IsPunct(',')) break;
    lex_.Next();
    t = lex_.Next();
  }
  return caps;
}

absl::StatusOr<std::string> LineParser::DecodeString(const Token& t) const {
  // t.text is the whole literal with both quotes; the lexer guarantees the
  // closing quote is not escaped.
  absl::string_view s = t.text.substr(1, t.text.size() - 2);
  const int base_col = t.col + 1;
  std::string out;
  out.reserve(s.size());
  auto hexval = [](char ch) -> int {
    if (ch >= '0' && ch <= '9') return ch - '0';
    if (ch >= 'a' && ch <= 'f') return ch - 'a' + 10;
    if (ch >= 'A' && ch <= 'F') return ch - 'A' + 10;
    return -1;
  };
  for (size_t i = 0; i < s.size();) {
    const unsigned char ch = static_cast<unsigned char>(s[i]);
    const int col = base_col + static_cast<int>(i);
    if (ch == '\\') {
      if (i + 1 >= s.size()) return Err(col, kEscapeExpected, QuoteForMessage(s.substr(i)));
      switch (s[i + 1]) {
        case 'n': out.push_back('\n'); i += 2; continue;
        case 't': out.push_back('\t'); i += 2; continue;
        case 'r': out.push_back('\r'); i += 2; continue;
        case '\\': out.push_back('\\'); i += 2; continue;
        case '"': out.push_back('"'); i += 2; continue;
        case '0': out.push_back('\0'); i += 2; continue;
        case 'x': {
          const int hi = i + 2 < s.size() ? hexval(s[i + 2]) : -1;
          const int lo = i + 3 < s.size() ? hexval(s[i + 3]) : -1;
          if (hi < 0 || lo < 0) {
            return Err(col, "\\x followed by two hex digits", QuoteForMessage(s.substr(i, 4)));
          }
          out.push_back(static_cast<char>(hi * 16 + lo));
          i += 4;
          continue;
        }
        default:
          return Err(col, kEscapeExpected, QuoteForMessage(s.substr(i, 2)));
      }
    }
    if ((ch < 0x20 && ch != '\t') || ch == 0x7f) {
      return Err(col, "a printable character or an escape in a string",
                 QuoteForMessage(s.substr(i, 1)));
    }
    out.push_back(static_cast<char>(ch));
    ++i;
  }
  return out;
}

absl::StatusOr<Data> LineParser::ParseData(uint64_t max_len, absl::string_view what) {
  const Token t = lex_.Peek();
  Data data;
  if (t.kind == TokenKind::kString) {
    lex_.Next();
    SCN_ASSIGN_OR_RETURN(std::string bytes, DecodeString(t));
    data = DataBytes{std::move(bytes)};
  } else if (t.Is(TokenKind::kIdent, "hex")) {
    lex_.Next();
    Token colon = lex_.Next();
    if (!colon.IsPunct(':') || colon.space_before) return ErrTok(colon, "':' right after hex");
    Token w = lex_.NextWord();
    if (w.kind != TokenKind::kWord || w.space_before) return ErrTok(w, "hex digits right after hex:");
    std::string bytes;
    bytes.reserve(w.text.size() / 2);
    int hi = -1;
    for (size_t i = 0; i < w.text.size(); ++i) {
      const char ch = w.text[i];
      int d;
      if (ch >= '0' && ch <= '9') {
        d = ch - '0';
      } else if (ch >= 'a' && ch <= 'f') {
        d = ch - 'a' + 10;
      } else if (ch >= 'A' && ch <= 'F') {
        d = ch - 'A' + 10;
      } else {
        return Err(w.col + static_cast<int>(i), "a hex digit", QuoteForMessage(w.text.substr(i, 1)));
      }
      if (hi < 0) {
        hi = d;
      } else {
        bytes.push_back(static_cast<char>(hi * 16 + d));
        hi = -1;
      }
    }
    if (hi >= 0) {
      return Err(w.col, "an even number of hex digits", absl::StrFormat("%d digits", w.text.size()));
    }
    data = DataBytes{std::move(bytes)};
  } else if (t.Is(TokenKind::kIdent, "repeat")) {
    lex_.Next();
    SCN_RETURN_IF_ERROR(ExpectPunct('(', "'(' after repeat"));
    SCN_ASSIGN_OR_RETURN(uint64_t len, ParseU64({"repeat LEN", "4K"}, kMaxDataBytes, 0, true));
    SCN_RETURN_IF_ERROR(ExpectPunct(',', "',' between repeat LEN and BYTE"));
    SCN_ASSIGN_OR_RETURN(uint64_t byte, ParseU64({"BYTE", "0x5a"}, 255, 0, true));
    SCN_RETURN_IF_ERROR(ExpectPunct(')', "')' after repeat BYTE"));
    data = DataRepeat{len, static_cast<uint8_t>(byte)};
  } else if (t.Is(TokenKind::kIdent, "pattern")) {
    lex_.Next();
    SCN_RETURN_IF_ERROR(ExpectPunct('(', "'(' after pattern"));
    SCN_ASSIGN_OR_RETURN(uint64_t len, ParseU64({"pattern LEN", "4K"}, kMaxDataBytes, 0, true));
    SCN_RETURN_IF_ERROR(ExpectPunct(')', "')' after pattern LEN"));
    data = DataPattern{len};
  } else {
    return ErrTok(t, kDataExpected);
  }
  const uint64_t n = DataLength(data);
  if (n > max_len) {
    return Err(t.col, absl::StrFormat("%s of at most %s bytes", what, LimitText(max_len)),
               absl::StrFormat("%u bytes", n));
  }
  return data;
}

absl::StatusOr<IovList> LineParser::ParseIovList() {
  const Token t = lex_.Peek();
  if (t.IsPunct('[')) {
    lex_.Next();
    std::vector<Iovec> iov;
    if (lex_.Peek().IsPunct(']')) {
      lex_.Next();
      return IovList(std::move(iov));
    }
    for (;;) {
      const Token e = lex_.Peek();
      if (iov.size() >= kMaxIovecs) {
        return Err(e.col, absl::StrFormat("at most %d iovecs in a list", kMaxIovecs),
                   absl::StrFormat("iovec number %d", iov.size() + 1));
      }
      Iovec v;
      SCN_ASSIGN_OR_RETURN(v.iov_base, ParseU64({"iov_base ADDR", "0x1000"}, UINT64_MAX, 0, true));
      SCN_RETURN_IF_ERROR(ExpectPunct(':', "':' between iov_base and iov_len"));
      SCN_ASSIGN_OR_RETURN(v.iov_len, ParseU64({"iov_len LEN", "4K"}, UINT64_MAX, 0, true));
      iov.push_back(v);
      Token sep = lex_.Next();
      if (sep.IsPunct(']')) break;
      if (!sep.IsPunct(',')) return ErrTok(sep, "',' or ']' in the iovec list");
    }
    return IovList(std::move(iov));
  }
  if (t.Is(TokenKind::kIdent, "raw")) {
    lex_.Next();
    IovRaw raw;
    SCN_RETURN_IF_ERROR(ExpectPunct('(', "'(' after raw"));
    SCN_ASSIGN_OR_RETURN(raw.addr, ParseU64({"raw ADDR", "0x1000"}, UINT64_MAX, 0, true));
    SCN_RETURN_IF_ERROR(ExpectPunct(',', "',' between raw ADDR and COUNT"));
    SCN_ASSIGN_OR_RETURN(raw.count, ParseU64({"raw COUNT", "2"}, UINT64_MAX, 0, true));
    SCN_RETURN_IF_ERROR(ExpectPunct(')', "')' after raw COUNT"));
    return IovList(raw);
  }
  return ErrTok(t, kIovExpected);
}

absl::StatusOr<PidRef> LineParser::ParsePid() {
  const Token t = lex_.Peek();
  if (t.kind == TokenKind::kIdent) {
    auto it = st_.symbols.find(t.text);
    if (it == st_.symbols.end()) {
      return Err(t.col, kPidExpected, "undefined name " + QuoteForMessage(t.text));
    }
    if (IsTaskKind(it->second.kind)) {
      lex_.Next();
      return PidRef(std::string(t.text));
    }
    if (it->second.kind != SymbolKind::kLet) {
      return Err(t.col, kPidExpected,
                 absl::StrFormat("%s %s", SymbolKindName(it->second.kind),
                                 QuoteForMessage(t.text)));
    }
  }
  SCN_ASSIGN_OR_RETURN(NumSpan s, ParseNumSpan({"PID", "1234 or a task name"}, false));
  const uint64_t limit = s.v.neg ? uint64_t{1} << 31 : (uint64_t{1} << 31) - 1;
  if (s.v.mag > limit) return Err(s.col, "PID from -2^31 to 2^31-1", SpanText(s));
  const int64_t v = s.v.neg ? -static_cast<int64_t>(s.v.mag) : static_cast<int64_t>(s.v.mag);
  return PidRef(static_cast<int32_t>(v));
}

absl::StatusOr<uint32_t> LineParser::ParseProbability() {
  Token t = lex_.Next();
  const char* expected = "probability like 0.25 (0 to 1, at most 9 decimals)";
  if (t.kind != TokenKind::kNumber) return ErrTok(t, expected);
  absl::string_view s = t.text;
  const size_t dot = s.find('.');
  absl::string_view whole = s.substr(0, dot);
  absl::string_view frac = dot == absl::string_view::npos ? absl::string_view() : s.substr(dot + 1);
  if (whole != "0" && whole != "1") return ErrTok(t, expected);
  if (dot != absl::string_view::npos && (frac.empty() || frac.size() > 9)) {
    return ErrTok(t, expected);
  }
  uint64_t ppb = whole == "1" ? kProbabilityOne : 0;
  uint64_t scale = kProbabilityOne / 10;
  for (char ch : frac) {
    if (ch < '0' || ch > '9') return ErrTok(t, expected);
    ppb += static_cast<uint64_t>(ch - '0') * scale;
    scale /= 10;
  }
  if (ppb > kProbabilityOne) return ErrTok(t, expected);
  return static_cast<uint32_t>(ppb);
}

absl::StatusOr<std::string> LineParser::ParseOptionKey(std::initializer_list<const char*> allowed,
                                                       absl::string_view expected,
                                                       std::vector<std::string>* seen,
                                                       bool* has_value) {
  Token key = lex_.Next();
  bool ok = false;
  if (key.kind == TokenKind::kIdent) {
    for (const char* a : allowed) {
      absl::string_view name(a);
      const bool bare = !name.empty() && name.back() != '=';
      if (!bare) name.remove_suffix(1);
      if (key.text == name) {
        ok = true;
        *has_value = !bare;
      }
    }
  }
  if (!ok) return ErrTok(key, expected);
  for (const std::string& s : *seen) {
    if (s == key.text) return Err(key.col, "each option once", "a second " + QuoteForMessage(key.text));
  }
  seen->emplace_back(key.text);
  if (*has_value) {
    SCN_RETURN_IF_ERROR(ExpectPunct('=', absl::StrFormat("'=' after %s", key.text)));
  }
  return std::string(key.text);
}

// ---------------------------------------------------------------------------
// Statements.

absl::StatusOr<std::optional<Statement>> LineParser::Parse() {
  const Token first = lex_.NextWord();
  if (first.kind == TokenKind::kEnd) return std::optional<Statement>();
  absl::StatusOr<Statement> stmt;
  const bool task_op =
      first.kind == TokenKind::kWord && IsIdentifier(first.text) && lex_.Peek().IsPunct(':');
  if (first.kind == TokenKind::kWord) SCN_RETURN_IF_ERROR(CheckPlacement(first, task_op));
  if (task_op) {
    stmt = ParseTaskOp(first);
  } else if (first.kind != TokenKind::kWord) {
    return ErrTok(first, kStatementExpected);
  } else if (first.text == "schedule") {
    stmt = ParseSchedule(first);
  } else if (first.text == "together") {
    stmt = ParseTogether(first);
  } else if (first.text == "explore") {
    stmt = ParseExplore(first);
  } else if (first.text == "end") {
    stmt = ParseEnd(first);
  } else if (first.text == "expect-always") {
    stmt = ParseExpectOutcome(first, ExpectOutcomeStmt::Quantifier::kAlways);
  } else if (first.text == "expect-sometimes") {
    stmt = ParseExpectOutcome(first, ExpectOutcomeStmt::Quantifier::kSometimes);
  } else if (first.text == "expect-never") {
    stmt = ParseExpectOutcome(first, ExpectOutcomeStmt::Quantifier::kNever);
  } else if (first.text == "machine") {
    stmt = ParseMachine(first);
  } else if (first.text == "let") {
    stmt = ParseLet(first);
  } else if (first.text == "process") {
    stmt = ParseProcess(first);
  } else if (first.text == "thread") {
    stmt = ParseThread(first);
  } else if (first.text == "kthread") {
    stmt = ParseKthread(first);
  } else if (first.text == "file") {
    stmt = ParseFile(first);
  } else if (first.text == "expect") {
    stmt = ParseExpect(first);
  } else if (first.text == "mark") {
    stmt = ParseMark(first);
  } else if (first.text == "expect-mem") {
    stmt = ParseExpectMem(first);
  } else if (first.text == "expect-same") {
    stmt = ParseExpectSame(first);
  } else if (first.text == "show") {
    stmt = ParseShow(first);
  } else if (first.text == "fail") {
    stmt = ParseFail(first);
  } else if (first.text == "trace") {
    stmt = ParseTrace(first);
  } else if (first.text == "sleep") {
    stmt = ParseSleep(first);
  } else {
    return ErrTok(first, kStatementExpected);
  }
  if (!stmt.ok()) return stmt.status();
  SCN_RETURN_IF_ERROR(ExpectEnd());
  return std::optional<Statement>(std::move(stmt).value());
}

absl::StatusOr<Statement> LineParser::ParseMachine(const Token& kw) {
  if (st_.statements > 0) {
    return Err(kw.col, "machine only as the first statement",
               absl::StrFormat("machine after %s at line %d", st_.prev_keyword, st_.prev_line));
  }
  MachineStmt m;
  m.pos = PosAt(kw.col);
  std::vector<std::string> seen;
  while (lex_.Peek().kind != TokenKind::kEnd) {
    bool has_value;
    SCN_ASSIGN_OR_RETURN(std::string key,
                         ParseOptionKey({"memory=", "swap=", "cpus=", "tlb=", "seed=", "thp=",
                                         "thp_defrag=", "thp_use_zero_page=", "pku="},
                                        "machine option (memory=SIZE, swap=SIZE, cpus=N, tlb=PROFILE, seed=N, "
                                        "thp=MODE, thp_defrag=MODE, thp_use_zero_page=0|1, pku=0|1)",
                                        &seen, &has_value));
    if (key == "memory") {
      const int col = lex_.Peek().col;
      SCN_ASSIGN_OR_RETURN(NumSpan s, ParseNumSpan({"memory SIZE", "1G"}, false));
      if (s.v.neg || s.v.mag < kMinMachineMemory || s.v.mag > kMaxMachineMemory ||
          s.v.mag % (4 * kKiB)) {
        return Err(col,
                   absl::StrFormat("memory SIZE from %s to %s, a multiple of 4K",
                                   LimitText(kMinMachineMemory), LimitText(kMaxMachineMemory)),
                   SpanText(s));
      }
      m.memory = s.v.mag;
    } else if (key == "swap") {
      const int col = lex_.Peek().col;
      SCN_ASSIGN_OR_RETURN(NumSpan s, ParseNumSpan({"swap SIZE", "1G"}, false));
      if (s.v.neg || s.v.mag > kMaxMachineMemory || s.v.mag % (4 * kKiB) ||
          s.v.mag == 4 * kKiB) {
        return Err(col,
                   absl::StrFormat("swap SIZE 0 or from 8K to %s, a multiple of 4K",
                                   LimitText(kMaxMachineMemory)),
                   SpanText(s));
      }
      m.swap = s.v.mag;
    } else if (key == "cpus") {
      SCN_ASSIGN_OR_RETURN(uint64_t n, ParseU64({"cpus", "2"}, kMaxCpus, 1));
      m.cpus = static_cast<uint32_t>(n);
    } else if (key == "tlb") {
      Token p = lex_.Next();
      if (p.kind != TokenKind::kIdent) return ErrTok(p, "TLB profile name");
      m.tlb = std::string(p.text);
    } else if (key == "thp") {
      Token p = lex_.Next();
      if (p.kind != TokenKind::kIdent || (p.text != "always" && p.text != "madvise" && p.text != "never"))
        return ErrTok(p, "thp MODE (always, madvise or never)");
      m.thp = std::string(p.text);
    } else if (key == "thp_defrag") {
      // defer+madvise is three tokens with nothing between them.
      constexpr const char* kExpected = "thp_defrag MODE (always, defer, defer+madvise, madvise or never)";
      Token p = lex_.Next();
      if (p.kind != TokenKind::kIdent ||
          (p.text != "always" && p.text != "defer" && p.text != "madvise" && p.text != "never"))
        return ErrTok(p, kExpected);
      m.thp_defrag = std::string(p.text);
      if (p.text == "defer" && lex_.Peek().IsPunct('+') && !lex_.Peek().space_before) {
        lex_.Next();
        Token q = lex_.Next();
        if (q.kind != TokenKind::kIdent || q.text != "madvise" || q.space_before) return ErrTok(q, kExpected);
        m.thp_defrag = "defer+madvise";
      }
    } else if (key == "thp_use_zero_page") {
      // The sysfs file's two values, spelt exactly so (as the --thp_use_zero_page flag).
      Token v = lex_.Next();
      if (!v.Is(TokenKind::kNumber, "0") && !v.Is(TokenKind::kNumber, "1"))
        return ErrTok(v, "thp_use_zero_page 0 or 1");
      m.thp_use_zero_page = v.text == "1";
    } else if (key == "pku") {
      // Does the CPU have protection keys (CPUID PKU)? Exactly 0 or 1, as the --pku flag.
      Token v = lex_.Next();
      if (!v.Is(TokenKind::kNumber, "0") && !v.Is(TokenKind::kNumber, "1"))
        return ErrTok(v, "pku 0 or 1");
      m.pku = v.text == "1";
    } else {
      SCN_ASSIGN_OR_RETURN(m.seed, ParseU64({"seed", "42"}));
    }
  }
  return Statement(std::move(m));
}

absl::StatusOr<Statement> LineParser::ParseLet(const Token& kw) {
  LetStmt l;
  l.pos = PosAt(kw.col);
  SCN_ASSIGN_OR_RETURN(l.name, ParseNewName("NAME for let", SymbolKind::kLet));
  SCN_RETURN_IF_ERROR(ExpectPunct('=', "'=' after the let NAME"));
  SCN_ASSIGN_OR_RETURN(l.value, ParseU64({"NUM", "0x1000+4K"}, UINT64_MAX, 0, /*spaced=*/true));
  pending_->second.value = l.value;
  return Statement(std::move(l));
}

absl::StatusOr<Statement> LineParser::ParseProcess(const Token& kw) {
  ProcessStmt p;
  p.pos = PosAt(kw.col);
  SCN_ASSIGN_OR_RETURN(p.name, ParseNewName("NAME for the process", SymbolKind::kProcess));
  std::optional<uint32_t> uid, gid, ruid, euid, suid, rgid, egid, sgid;
  std::vector<std::string> seen;
  while (lex_.Peek().kind != TokenKind::kEnd) {
    bool has_value;
    SCN_ASSIGN_OR_RETURN(
        std::string key,
        ParseOptionKey({"uid=", "gid=", "ruid=", "euid=", "suid=", "rgid=", "egid=", "sgid=",
                        "caps=", "dumpable=", "cpu="},
                       "process option (uid=, gid=, ruid=, euid=, suid=, rgid=, egid=, sgid=, "
                       "caps=, dumpable=, cpu=)",
                       &seen, &has_value));
    if (key == "cpu") {
      SCN_ASSIGN_OR_RETURN(uint64_t cpu, ParseU64({"cpu", "1"}, kMaxCpus - 1));
      p.cpu = static_cast<uint32_t>(cpu);
      continue;
    }
    if (key == "caps") {
      SCN_ASSIGN_OR_RETURN(p.caps, ParseCaps());
      continue;
    }
    if (key == "dumpable") {
      SCN_ASSIGN_OR_RETURN(p.dumpable, ParseZeroOne({"dumpable", "1"}));
      continue;
    }
    const Arg arg{key.c_str(), "1000"};
    SCN_ASSIGN_OR_RETURN(uint64_t v, ParseU64(arg, UINT32_MAX));
    const uint32_t id = static_cast<uint32_t>(v);
    if (key == "uid") uid = id;
    if (key == "gid") gid = id;
    if (key == "ruid") ruid = id;
    if (key == "euid") euid = id;
    if (key == "suid") suid = id;
    if (key == "rgid") rgid = id;
    if (key == "egid") egid = id;
    if (key == "sgid") sgid = id;
  }
  const uint32_t u = uid.value_or(0), g = gid.value_or(0);
  p.ruid = ruid.value_or(u);
  p.euid = euid.value_or(u);
  p.suid = suid.value_or(u);
  p.rgid = rgid.value_or(g);
  p.egid = egid.value_or(g);
  p.sgid = sgid.value_or(g);
  return Statement(std::move(p));
}

absl::StatusOr<Statement> LineParser::ParseThread(const Token& kw) {
  ThreadStmt t;
  t.pos = PosAt(kw.col);
  SCN_ASSIGN_OR_RETURN(t.name, ParseNewName("NAME for the thread", SymbolKind::kThread));
  Token of = lex_.Next();
  if (!of.Is(TokenKind::kIdent, "of")) return ErrTok(of, "'of' PROCESS");
  SCN_ASSIGN_OR_RETURN(t.process, ParseProcessName());
  SCN_ASSIGN_OR_RETURN(t.cpu, ParseCpuOption("thread option cpu=N"));
  return Statement(std::move(t));
}

absl::StatusOr<std::optional<uint32_t>> LineParser::ParseCpuOption(const char* what) {
  if (lex_.Peek().kind == TokenKind::kEnd) return std::optional<uint32_t>();
  std::vector<std::string> seen;
  bool has_value;
  SCN_RETURN_IF_ERROR(ParseOptionKey({"cpu="}, what, &seen, &has_value).status());
  SCN_ASSIGN_OR_RETURN(uint64_t cpu, ParseU64({"cpu", "1"}, kMaxCpus - 1));
  return std::optional<uint32_t>(static_cast<uint32_t>(cpu));
}

absl::StatusOr<Statement> LineParser::ParseKthread(const Token& kw) {
  KthreadStmt k;
  k.pos = PosAt(kw.col);
  SCN_ASSIGN_OR_RETURN(k.name, ParseNewName("NAME for the kthread", SymbolKind::kKthread));
  SCN_ASSIGN_OR_RETURN(k.cpu, ParseCpuOption("kthread option cpu=N"));
  return Statement(std::move(k));
}

absl::StatusOr<Statement> LineParser::ParseFile(const Token& kw) {
  FileStmt f;
  f.pos = PosAt(kw.col);
  SCN_ASSIGN_OR_RETURN(f.name, ParseNewName("NAME for the file", SymbolKind::kFile));
  bool have_size = false;
  int data_col = 0;
  std::vector<std::string> seen;
  while (lex_.Peek().kind != TokenKind::kEnd) {
    bool has_value;
    SCN_ASSIGN_OR_RETURN(std::string key,
                         ParseOptionKey({"size=", "data=", "readonly"},
                                        "file option (size=SIZE, data=DATA, readonly)", &seen,
                                        &has_value));
    if (key == "size") {
      SCN_ASSIGN_OR_RETURN(f.size, ParseU64({"file SIZE", "64K"}, kMaxFileBytes));
      have_size = true;
    } else if (key == "data") {
      data_col = lex_.Peek().col;
      SCN_ASSIGN_OR_RETURN(f.data, ParseData(kMaxFileBytes, "file DATA"));
    } else {
      f.readonly = true;
    }
  }
  if (!have_size) return ErrTok(lex_.Peek(), "size=SIZE for the file");
  if (f.data.has_value() && DataLength(*f.data) > f.size) {
    return Err(data_col, absl::StrFormat("file DATA of at most size=%u bytes", f.size),
               absl::StrFormat("%u bytes", DataLength(*f.data)));
  }
  return Statement(std::move(f));
}

absl::StatusOr<Statement> LineParser::ParseTaskOp(const Token& task_tok) {
  SCN_ASSIGN_OR_RETURN(
      std::string task,
      ResolveName(task_tok, {SymbolKind::kProcess, SymbolKind::kThread, SymbolKind::kKthread},
                  kTaskExpected));
  lex_.Next();  // ':'
  const SourcePos pos = PosAt(task_tok.col);
  Token op = lex_.Next();
  if (op.kind != TokenKind::kIdent) return ErrTok(op, kOperationExpected);

  if (op.text == "mmap") {
    MmapStmt m;
    m.pos = pos;
    m.task = task;
    SCN_ASSIGN_OR_RETURN(m.addr, ParseU64(kAddrArg));
    SCN_ASSIGN_OR_RETURN(m.len, ParseU64(kLenArg));
    SCN_ASSIGN_OR_RETURN(m.prot, ParseProt());
    SCN_ASSIGN_OR_RETURN(m.flags, ParseMmapFlags());
    std::vector<std::string> seen;
    while (lex_.Peek().kind != TokenKind::kEnd) {
      bool has_value;
      SCN_ASSIGN_OR_RETURN(std::string key,
                           ParseOptionKey({"file=", "offset="},
                                          "mmap option (file=NAME, offset=NUM)", &seen,
                                          &has_value));
      if (key == "file") {
        Token f = lex_.Next();
        SCN_ASSIGN_OR_RETURN(m.file, ResolveName(f, {SymbolKind::kFile}, "a declared file name"));
      } else {
        SCN_ASSIGN_OR_RETURN(m.offset, ParseU64({"offset", "0x1000"}));
      }
    }
    return Statement(std::move(m));
  }
  if (op.text == "munmap") {
    MunmapStmt m;
    m.pos = pos;
    m.task = task;
    SCN_ASSIGN_OR_RETURN(m.addr, ParseU64(kAddrArg));
    SCN_ASSIGN_OR_RETURN(m.len, ParseU64(kLenArg));
    return Statement(std::move(m));
  }
  if (op.text == "mprotect") {
    MprotectStmt m;
    m.pos = pos;
    m.task = task;
    SCN_ASSIGN_OR_RETURN(m.addr, ParseU64(kAddrArg));
    SCN_ASSIGN_OR_RETURN(m.len, ParseU64(kLenArg));
    SCN_ASSIGN_OR_RETURN(m.prot, ParseProt());
    return Statement(std::move(m));
  }
  if (op.text == "store") {
    StoreStmt s;
    s.pos = pos;
    s.task = task;
    SCN_ASSIGN_OR_RETURN(s.addr, ParseU64(kAddrArg));
    SCN_ASSIGN_OR_RETURN(s.data, ParseData(kMaxStoreBytes, "store DATA"));
    return Statement(std::move(s));
  }
  if (op.text == "fill") {
    FillStmt f;
    f.pos = pos;
    f.task = task;
    SCN_ASSIGN_OR_RETURN(f.addr, ParseU64(kAddrArg));
    SCN_ASSIGN_OR_RETURN(f.len, ParseU64({"fill LEN", "4K"}, kMaxAccessBytes));
    if (lex_.Peek().Is(TokenKind::kIdent, "pattern")) {
      lex_.Next();
      f.kind = FillStmt::Kind::kPattern;
    } else {
      SCN_ASSIGN_OR_RETURN(uint64_t b, ParseU64({"BYTE or pattern", "0x5a"}, 255));
      f.byte = static_cast<uint8_t>(b);
    }
    return Statement(std::move(f));
  }
  if (op.text == "load") {
    LoadStmt l;
    l.pos = pos;
    l.task = task;
    SCN_ASSIGN_OR_RETURN(l.addr, ParseU64(kAddrArg));
    SCN_ASSIGN_OR_RETURN(l.len, ParseU64({"load LEN", "4K"}, kMaxLoadBytes));
    return Statement(std::move(l));
  }
  if (op.text == "process_vm_readv" || op.text == "process_vm_writev") {
    ProcessVmRwStmt p;
    p.pos = pos;
    p.task = task;
    p.vm_write = op.text == "process_vm_writev";
    SCN_ASSIGN_OR_RETURN(p.pid, ParsePid());
    SCN_ASSIGN_OR_RETURN(p.local, ParseIovList());
    SCN_ASSIGN_OR_RETURN(p.remote, ParseIovList());
    std::vector<std::string> seen;
    while (lex_.Peek().kind != TokenKind::kEnd) {
      bool has_value;
      SCN_RETURN_IF_ERROR(
          ParseOptionKey({"flags="}, "option flags=NUM", &seen, &has_value).status());
      SCN_ASSIGN_OR_RETURN(p.flags, ParseBits64({"flags", "0"}));
    }
    return Statement(std::move(p));
  }
  if (op.text == "fork") {
    ForkStmt f;
    f.pos = pos;
    f.task = task;
    SCN_ASSIGN_OR_RETURN(f.child, ParseNewName("NAME for the child process", SymbolKind::kProcess));
    return Statement(std::move(f));
  }
  if (op.text == "exit") {
    ExitStmt e;
    e.pos = pos;
    e.task = task;
    return Statement(std::move(e));
  }
  if (op.text == "reap") {
    ReapStmt r;
    r.pos = pos;
    r.task = task;
    SCN_ASSIGN_OR_RETURN(r.child, ParseProcessName());
    return Statement(std::move(r));
  }
  if (op.text == "setresuid") {
    SetresuidStmt s;
    s.pos = pos;
    s.task = task;
    SCN_ASSIGN_OR_RETURN(s.ruid, ParseId32({"ruid", "1000 or -1"}));
    SCN_ASSIGN_OR_RETURN(s.euid, ParseId32({"euid", "1000 or -1"}));
    SCN_ASSIGN_OR_RETURN(s.suid, ParseId32({"suid", "1000 or -1"}));
    return Statement(std::move(s));
  }
  if (op.text == "setresgid") {
    SetresgidStmt s;
    s.pos = pos;
    s.task = task;
    SCN_ASSIGN_OR_RETURN(s.rgid, ParseId32({"rgid", "1000 or -1"}));
    SCN_ASSIGN_OR_RETURN(s.egid, ParseId32({"egid", "1000 or -1"}));
    SCN_ASSIGN_OR_RETURN(s.sgid, ParseId32({"sgid", "1000 or -1"}));
    return Statement(std::move(s));
  }
  if (op.text == "capset") {
    CapsetStmt c;
    c.pos = pos;
    c.task = task;
    SCN_ASSIGN_OR_RETURN(c.caps, ParseCaps());
    return Statement(std::move(c));
  }
  if (op.text == "madvise") {
    MadviseStmt m;
    m.pos = pos;
    m.task = task;
    SCN_ASSIGN_OR_RETURN(m.addr, ParseU64(kAddrArg));
    SCN_ASSIGN_OR_RETURN(m.len, ParseU64(kLenArg));
    const Token& t = lex_.Peek();
    std::optional<int> advice =
        t.kind == TokenKind::kIdent ? AdviceFromName(t.text) : std::nullopt;
    if (advice.has_value()) {
      lex_.Next();
      m.advice = *advice;
    } else if (t.kind == TokenKind::kIdent) {
      return ErrTok(lex_.Next(), kAdviceExpected);
    } else {
      SCN_ASSIGN_OR_RETURN(uint64_t v, ParseBits64({"ADVICE", "dontneed"}));
      m.advice = static_cast<int64_t>(v);
    }
    return Statement(std::move(m));
  }
  if (op.text == "mlock" || op.text == "munlock" || op.text == "mlockall" ||
      op.text == "munlockall") {
    MlockStmt m;
    m.pos = pos;
    m.task = task;
    if (op.text == "mlockall") {
      m.op = MlockStmt::Op::kMlockall;
      SCN_ASSIGN_OR_RETURN(m.flags, ParseMlockallFlags());
    } else if (op.text == "munlockall") {
      m.op = MlockStmt::Op::kMunlockall;
    } else {
      m.op = op.text == "mlock" ? MlockStmt::Op::kMlock : MlockStmt::Op::kMunlock;
      SCN_ASSIGN_OR_RETURN(m.addr, ParseU64(kAddrArg));
      SCN_ASSIGN_OR_RETURN(m.len, ParseU64(kLenArg));
      if (m.op == MlockStmt::Op::kMlock && lex_.Peek().Is(TokenKind::kIdent, "onfault")) {
        lex_.Next();
        m.flags = 1;  // MLOCK_ONFAULT
      }
    }
    return Statement(std::move(m));
  }
  if (op.text == "dumpable") {
    DumpableStmt d;
    d.pos = pos;
    d.task = task;
    SCN_ASSIGN_OR_RETURN(d.dumpable, ParseZeroOne({"dumpable", "1"}));
    return Statement(std::move(d));
  }
  return ErrTok(op, kOperationExpected);
}

absl::StatusOr<Statement> LineParser::ParseExpect(const Token& kw) {
  const Token form = lex_.Peek();
  if (form.Is(TokenKind::kIdent, "pte") || form.Is(TokenKind::kIdent, "page") ||
      form.Is(TokenKind::kIdent, "tlb") || form.Is(TokenKind::kIdent, "vmstat") ||
      form.Is(TokenKind::kIdent, "vma") || form.Is(TokenKind::kIdent, "fault")) {
    return ParseExpectState(kw, form);
  }
  // A byte no token starts with is reported where it is, before asking whether a RESULT
  // may follow here at all.
  if (form.kind == TokenKind::kInvalid) {
    return ErrTok(form, "RESULT, or pte, page, tlb, vmstat, vma or fault");
  }
  if (!st_.prev_produces_result) {
    return Err(kw.col, kResultStatements,
               st_.statements == 0
                   ? std::string("expect at the start of the scenario")
                   : absl::StrFormat("expect after %s at line %d", st_.prev_keyword,
                                     st_.prev_line));
  }
  ExpectStmt e;
  e.pos = PosAt(kw.col);
  SCN_ASSIGN_OR_RETURN(e.result, ParseResultValue(/*bare_errno=*/false));
  return Statement(std::move(e));
}

// RESULT as `expect` takes it; with bare_errno, also a lone ERRNO name for -1 ERRNO.
absl::StatusOr<ExpectResult> LineParser::ParseResultValue(bool bare_errno) {
  ExpectResult result;
  const Token t = lex_.Peek();
  if (std::optional<int> signo = t.kind == TokenKind::kIdent ? SignalFromName(std::string(t.text)) : std::nullopt) {
    lex_.Next();
    result = ExpectSignal{*signo};
  } else if (bare_errno && t.kind == TokenKind::kIdent && ErrnoFromName(t.text).has_value()) {
    lex_.Next();
    result = ExpectErrno{*ErrnoFromName(t.text)};
  } else if (t.IsPunct('-')) {
    lex_.Next();
    Token one = lex_.Next();
    if (one.kind != TokenKind::kNumber || one.text != "1" || one.space_before) {
      return Err(t.col, "-1 ERRNO (the only negative RESULT)",
                 QuoteForMessage(lex_.Slice(t.col, one.end_col())));
    }
    Token name = lex_.Next();
    if (name.kind != TokenKind::kIdent) return ErrTok(name, "ERRNO name like EFAULT after -1");
    std::optional<int> err = ErrnoFromName(name.text);
    if (!err.has_value()) return ErrTok(name, "ERRNO name like EFAULT or ENOMEM");
    result = ExpectErrno{*err};
  } else if (t.kind == TokenKind::kString || t.Is(TokenKind::kIdent, "hex") ||
             t.Is(TokenKind::kIdent, "repeat") || t.Is(TokenKind::kIdent, "pattern")) {
    SCN_ASSIGN_OR_RETURN(Data d, ParseData(kMaxDataBytes, "expect DATA"));
    result = ExpectData{std::move(d)};
  } else {
    SCN_ASSIGN_OR_RETURN(
        uint64_t v,
        ParseU64({"RESULT", bare_errno ? "0x1000, EFAULT, \"text\", hex:00ff, SIGSEGV, SIGBUS or SIGKILL"
                                       : "0x1000, -1 EFAULT, \"text\", hex:00ff, SIGSEGV, SIGBUS or SIGKILL"}));
    result = ExpectValue{v};
  }
  return result;
}

absl::StatusOr<Statement> LineParser::ParseExpectMem(const Token& kw) {
  ExpectMemStmt e;
  e.pos = PosAt(kw.col);
  SCN_ASSIGN_OR_RETURN(e.task, ParseTaskName());
  SCN_ASSIGN_OR_RETURN(e.addr, ParseU64(kAddrArg));
  SCN_ASSIGN_OR_RETURN(e.data, ParseData(kMaxDataBytes, "expect-mem DATA"));
  return Statement(std::move(e));
}

absl::StatusOr<Statement> LineParser::ParseExpectSame(const Token& kw) {
  ExpectSameStmt e;
  e.pos = PosAt(kw.col);
  SCN_ASSIGN_OR_RETURN(e.task, ParseTaskName());
  SCN_ASSIGN_OR_RETURN(e.addr, ParseU64(kAddrArg));
  SCN_ASSIGN_OR_RETURN(e.other_task, ParseTaskName());
  SCN_ASSIGN_OR_RETURN(e.other_addr, ParseU64(kAddrArg));
  SCN_ASSIGN_OR_RETURN(e.len, ParseU64({"expect-same LEN", "4K"}, kMaxAccessBytes));
  return Statement(std::move(e));
}

// ---------------------------------------------------------------------------
// State checks.

constexpr char kPteFlagsExpected[] =
    "pte flag (none, present, swap, protnone, writable, user, accessed, dirty, saved_dirty, "
    "global, nx, zero, huge), ! before one for clear";
constexpr char kPageFlagsExpected[] =
    "page flag (a PG_ flag as show page prints it, like dirty, lru or anon_exclusive; or anon, "
    "buddy, table, slab), ! before one for clear";
constexpr char kVmaFlagsExpected[] =
    "VMA flag as smaps VmFlags prints it (rd, wr, ex, sh, mr, mw, me, ms, gd, um, pf, lo, io, "
    "sr, rr, dc, de, ac, nr, wf, dd, sd, mm, hg, nh, mg), ! before one for clear";

absl::StatusOr<Statement> LineParser::ParseExpectState(const Token& kw, const Token& form) {
  if (st_.block != Block::kNone) {
    return Err(form.col, "expect RESULT in a block (state checks stand outside blocks)",
               QuoteForMessage(form.text));
  }
  lex_.Next();
  ExpectStateStmt e;
  e.pos = PosAt(kw.col);
  if (form.text == "pte") {
    SCN_ASSIGN_OR_RETURN(e.check, ParseExpectPte());
  } else if (form.text == "page") {
    SCN_ASSIGN_OR_RETURN(e.check, ParseExpectPage());
  } else if (form.text == "tlb") {
    SCN_ASSIGN_OR_RETURN(e.check, ParseExpectTlb());
  } else if (form.text == "vma") {
    SCN_ASSIGN_OR_RETURN(e.check, ParseExpectVma());
  } else if (form.text == "fault") {
    SCN_ASSIGN_OR_RETURN(e.check, ParseExpectFault());
  } else {
    ExpectVmstat v;
    Token item = lex_.Next();
    const char* expected = "vmstat item like pgfault or nr_free_pages (show vmstat lists them)";
    if (item.kind != TokenKind::kIdent) return ErrTok(item, expected);
    const std::vector<std::string>& items = VmstatItemNames();
    if (std::find(items.begin(), items.end(), item.text) == items.end()) {
      return ErrTok(item, expected);
    }
    v.item = std::string(item.text);
    SCN_ASSIGN_OR_RETURN(v.value, ParseCounterValue());
    e.check = std::move(v);
  }
  return Statement(std::move(e));
}

absl::StatusOr<FlagCheck> LineParser::ParseFlagList(FlagTable table, const char* expected) {
  FlagCheck f;
  for (;;) {
    Token t = lex_.Next();
    const bool clear = t.IsPunct('!');
    if (clear) t = lex_.Next();
    if (t.kind != TokenKind::kIdent) return ErrTok(t, expected);
    std::optional<int> bit = FlagIndex(table, t.text);
    if (!bit.has_value()) return ErrTok(t, expected);
    const uint64_t mask = uint64_t{1} << *bit;
    if ((f.set | f.clear) & mask) {
      return Err(t.col, "each flag once", "a second " + QuoteForMessage(t.text));
    }
    (clear ? f.clear : f.set) |= mask;
    if (!lex_.Peek().IsPunct(',')) break;
    lex_.Next();
  }
  return f;
}

absl::StatusOr<PfnRef> LineParser::ParsePfnRef() {
  const Token t = lex_.Peek();
  constexpr char kExpected[] = "PFN (a NUM, or a name bound by expect pte ... as NAME)";
  if (t.kind == TokenKind::kIdent) {
    auto it = st_.symbols.find(t.text);
    if (it == st_.symbols.end()) return Err(t.col, kExpected, "undefined name " + QuoteForMessage(t.text));
    if (it->second.kind == SymbolKind::kPfn) {
      lex_.Next();
      return PfnRef(std::string(t.text));
    }
    if (it->second.kind != SymbolKind::kLet) {
      return Err(t.col, kExpected,
                 absl::StrFormat("%s %s", SymbolKindName(it->second.kind), QuoteForMessage(t.text)));
    }
  }
  SCN_ASSIGN_OR_RETURN(uint64_t pfn, ParseU64({"PFN", "0x1234"}));
  return PfnRef(pfn);
}

absl::StatusOr<CounterValue> LineParser::ParseCounterValue() {
  CounterValue v;
  const Token sign = lex_.Peek();
  const bool change = sign.IsPunct('+') || sign.IsPunct('-');
  if (change) {
    lex_.Next();
    if (lex_.Peek().space_before) return ErrTok(lex_.Peek(), "NUM right after the sign of a change like +3");
  }
  SCN_ASSIGN_OR_RETURN(uint64_t n, ParseU64({change ? "change" : "counter value", "+3 since MARK or 12"},
                                            static_cast<uint64_t>(INT64_MAX)));
  v.value = sign.IsPunct('-') ? -static_cast<int64_t>(n) : static_cast<int64_t>(n);
  const Token since = lex_.Peek();
  if (since.Is(TokenKind::kIdent, "since")) {
    if (!change) {
      return Err(sign.col, "a change like +3 or -1 before since (a plain NUM is the value itself)",
                 QuoteForMessage(lex_.Slice(sign.col, lex_.prev_end_col())));
    }
    lex_.Next();
    Token mark = lex_.Next();
    SCN_ASSIGN_OR_RETURN(v.since, ResolveName(mark, {SymbolKind::kMark}, "a mark name (declared by mark NAME)"));
  } else if (change) {
    return ErrTok(since, "since MARK after a change like +3");
  }
  return v;
}

absl::StatusOr<ExpectPte> LineParser::ParseExpectPte() {
  ExpectPte e;
  SCN_ASSIGN_OR_RETURN(e.task, ParseTaskName());
  SCN_ASSIGN_OR_RETURN(e.addr, ParseU64(kAddrArg));
  bool any = false;
  const Token first = lex_.Peek();
  if (first.IsPunct('!') ||
      (first.kind == TokenKind::kIdent && first.text != "pfn" && first.text != "as")) {
    SCN_ASSIGN_OR_RETURN(e.flags, ParseFlagList(FlagTable::kPte, kPteFlagsExpected));
    any = true;
  }
  if (lex_.Peek().Is(TokenKind::kIdent, "pfn")) {
    lex_.Next();
    Token op = lex_.Next();
    if (op.IsPunct('!')) {
      e.pfn_differs = true;
      op = lex_.Next();
    }
    if (!op.IsPunct('=')) return ErrTok(op, "'=' or '!=' after pfn");
    SCN_ASSIGN_OR_RETURN(e.pfn, ParsePfnRef());
    any = true;
  }
  if (lex_.Peek().Is(TokenKind::kIdent, "as")) {
    lex_.Next();
    SCN_ASSIGN_OR_RETURN(e.bind, ParseNewName("NAME for the pfn", SymbolKind::kPfn));
    any = true;
  }
  if (!any) return ErrTok(lex_.Peek(), "pte FLAGS like present,writable,!dirty, pfn=PFN or as NAME");
  return e;
}

absl::StatusOr<ExpectPage> LineParser::ParseExpectPage() {
  ExpectPage e;
  if (lex_.Peek().Is(TokenKind::kIdent, "at")) {
    lex_.Next();
    SCN_ASSIGN_OR_RETURN(e.task, ParseTaskName());
    SCN_ASSIGN_OR_RETURN(e.addr, ParseU64(kAddrArg));
  } else {
    SCN_ASSIGN_OR_RETURN(e.pfn, ParsePfnRef());
  }
  std::vector<std::string> seen;
  constexpr char kOptions[] = "page check (refcount=N, mapcount=N, flags=FLAGS)";
  if (lex_.Peek().kind == TokenKind::kEnd) return ErrTok(lex_.Peek(), kOptions);
  while (lex_.Peek().kind != TokenKind::kEnd) {
    bool has_value;
    SCN_ASSIGN_OR_RETURN(std::string key, ParseOptionKey({"refcount=", "mapcount=", "flags="},
                                                         kOptions, &seen, &has_value));
    if (key == "refcount") {
      SCN_ASSIGN_OR_RETURN(e.refcount, ParseU64({"refcount", "1"}, INT32_MAX));
    } else if (key == "mapcount") {
      SCN_ASSIGN_OR_RETURN(e.mapcount, ParseU64({"mapcount", "1"}, INT32_MAX));
    } else {
      SCN_ASSIGN_OR_RETURN(e.flags, ParseFlagList(FlagTable::kPage, kPageFlagsExpected));
    }
  }
  return e;
}

absl::StatusOr<StateCheck> LineParser::ParseExpectTlb() {
  SCN_ASSIGN_OR_RETURN(uint64_t cpu, ParseU64({"CPU", "0"}, kMaxCpus - 1));
  const Token t = lex_.Peek();
  if (t.Is(TokenKind::kIdent, "hits") || t.Is(TokenKind::kIdent, "misses") ||
      t.Is(TokenKind::kIdent, "walks")) {
    lex_.Next();
    ExpectTlbCounter c;
    c.cpu = static_cast<uint32_t>(cpu);
    c.counter = t.text == "hits"     ? ExpectTlbCounter::Counter::kHits
                : t.text == "misses" ? ExpectTlbCounter::Counter::kMisses
                                     : ExpectTlbCounter::Counter::kWalks;
    SCN_ASSIGN_OR_RETURN(c.value, ParseCounterValue());
    return StateCheck(std::move(c));
  }
  ExpectTlbEntry e;
  e.cpu = static_cast<uint32_t>(cpu);
  Token task = lex_.Next();
  SCN_ASSIGN_OR_RETURN(
      e.task, ResolveName(task, {SymbolKind::kProcess, SymbolKind::kThread, SymbolKind::kKthread},
                          "a task name (whose address), or a TLB counter (hits, misses, walks)"));
  SCN_ASSIGN_OR_RETURN(e.addr, ParseU64(kAddrArg));
  Token state = lex_.Next();
  if (state.Is(TokenKind::kIdent, "cached")) {
    e.cached = true;
  } else if (state.Is(TokenKind::kIdent, "absent")) {
    e.cached = false;
  } else {
    return ErrTok(state, "cached or absent");
  }
  return StateCheck(std::move(e));
}

absl::StatusOr<ExpectVma> LineParser::ParseExpectVma() {
  ExpectVma e;
  SCN_ASSIGN_OR_RETURN(e.task, ParseTaskName());
  SCN_ASSIGN_OR_RETURN(e.addr, ParseU64(kAddrArg));
  if (lex_.Peek().Is(TokenKind::kIdent, "none")) {
    lex_.Next();
    e.none = true;
    return e;
  }
  std::vector<std::string> seen;
  constexpr char kOptions[] = "VMA check (none, start=ADDR, end=ADDR, prot=PROT, flags=FLAGS)";
  if (lex_.Peek().kind == TokenKind::kEnd) return ErrTok(lex_.Peek(), kOptions);
  while (lex_.Peek().kind != TokenKind::kEnd) {
    bool has_value;
    SCN_ASSIGN_OR_RETURN(std::string key, ParseOptionKey({"start=", "end=", "prot=", "flags="},
                                                         kOptions, &seen, &has_value));
    if (key == "start") {
      SCN_ASSIGN_OR_RETURN(e.start, ParseU64(kAddrArg));
    } else if (key == "end") {
      SCN_ASSIGN_OR_RETURN(e.end, ParseU64(kAddrArg));
    } else if (key == "prot") {
      SCN_ASSIGN_OR_RETURN(e.prot, ParseProt());
    } else {
      SCN_ASSIGN_OR_RETURN(e.flags, ParseFlagList(FlagTable::kVma, kVmaFlagsExpected));
    }
  }
  return e;
}

absl::StatusOr<ExpectFault> LineParser::ParseExpectFault() {
  ExpectFault e;
  if (lex_.Peek().Is(TokenKind::kIdent, "cpu")) {
    lex_.Next();
    SCN_ASSIGN_OR_RETURN(uint64_t cpu, ParseU64({"CPU", "0"}, kMaxCpus - 1));
    e.cpu = static_cast<uint32_t>(cpu);
  } else {
    Token task = lex_.Next();
    SCN_ASSIGN_OR_RETURN(e.task, ResolveName(task, {SymbolKind::kProcess, SymbolKind::kThread},
                                             "a task name, or cpu CPU"));
  }
  if (lex_.Peek().Is(TokenKind::kIdent, "none")) {
    lex_.Next();
    e.none = true;
    return e;
  }
  std::vector<std::string> seen;
  constexpr char kOptions[] = "fault check (none, addr=ADDR, error=ERROR)";
  if (lex_.Peek().kind == TokenKind::kEnd) return ErrTok(lex_.Peek(), kOptions);
  while (lex_.Peek().kind != TokenKind::kEnd) {
    bool has_value;
    SCN_ASSIGN_OR_RETURN(std::string key, ParseOptionKey({"addr=", "error="}, kOptions, &seen, &has_value));
    if (key == "addr") {
      SCN_ASSIGN_OR_RETURN(e.addr, ParseU64(kAddrArg));
      continue;
    }
    // ERROR: 0, or bit names joined by '|' (one word: '|' is no token of its own).
    const Token word = lex_.NextNonSpace();
    constexpr char kErrorExpected[] =
        "error code: 0, or #PF bits joined by '|' (P, W, U, RSVD, I, PK, SS, SGX), like P|W|U";
    if (word.kind != TokenKind::kWord) return ErrTok(word, kErrorExpected);
    uint32_t code = 0;
    if (word.text != "0") {
      int col = word.col;
      for (absl::string_view part : absl::StrSplit(word.text, '|')) {
        uint32_t bit = 0;
        for (const hw::PfErrorBitName& b : hw::kPfErrorBitNames)
          if (part == b.name) bit = b.bit;
        if (bit == 0 || (code & bit)) {
          return Err(col, bit == 0 ? kErrorExpected : "each #PF bit at most once",
                     QuoteForMessage(part.empty() ? absl::string_view("|") : part));
        }
        code |= bit;
        col += static_cast<int>(part.size()) + 1;
      }
    }
    e.error = code;
  }
  return e;
}

absl::StatusOr<Statement> LineParser::ParseMark(const Token& kw) {
  MarkStmt m;
  m.pos = PosAt(kw.col);
  SCN_ASSIGN_OR_RETURN(m.name, ParseNewName("NAME for the mark", SymbolKind::kMark));
  return Statement(std::move(m));
}

absl::StatusOr<Statement> LineParser::ParseShow(const Token& kw) {
  ShowStmt s;
  s.pos = PosAt(kw.col);
  Token what = lex_.Next();
  const char* expected =
      "show view (maps, pagetable, pagemap, tlb, page, buddy, vmstat, cpus, dmesg, meminfo, lru, "
      "smaps, swaps, dot)";
  if (what.kind != TokenKind::kIdent) return ErrTok(what, expected);
  if (what.text == "maps") {
    ShowMaps v;
    SCN_ASSIGN_OR_RETURN(v.task, ParseTaskName());
    s.what = std::move(v);
  } else if (what.text == "pagetable") {
    ShowPagetable v;
    SCN_ASSIGN_OR_RETURN(v.task, ParseTaskName());
    if (lex_.Peek().kind != TokenKind::kEnd) {
      SCN_ASSIGN_OR_RETURN(v.addr, ParseU64(kAddrArg));
    }
    s.what = std::move(v);
  } else if (what.text == "pagemap") {
    ShowPagemap v;
    SCN_ASSIGN_OR_RETURN(v.task, ParseTaskName());
    SCN_ASSIGN_OR_RETURN(v.addr, ParseU64(kAddrArg));
    SCN_ASSIGN_OR_RETURN(v.len, ParseU64({"pagemap LEN", "64K"}, kMaxAccessBytes));
    s.what = std::move(v);
  } else if (what.text == "tlb") {
    ShowTlb v;
    if (lex_.Peek().kind != TokenKind::kEnd) {
      SCN_ASSIGN_OR_RETURN(uint64_t cpu, ParseU64({"CPU", "0"}, kMaxCpus - 1));
      v.cpu = static_cast<uint32_t>(cpu);
    }
    s.what = v;
  } else if (what.text == "page") {
    ShowPage v;
    SCN_ASSIGN_OR_RETURN(v.pfn, ParseU64({"PFN", "0x100"}));
    s.what = v;
  } else if (what.text == "buddy") {
    s.what = ShowBuddy{};
  } else if (what.text == "vmstat") {
    s.what = ShowVmstat{};
  } else if (what.text == "cpus") {
    s.what = ShowCpus{};
  } else if (what.text == "dmesg") {
    s.what = ShowDmesg{};
  } else if (what.text == "meminfo") {
    s.what = ShowMeminfo{};
  } else if (what.text == "lru") {
    s.what = ShowLru{};
  } else if (what.text == "smaps") {
    ShowSmaps v;
    SCN_ASSIGN_OR_RETURN(v.task, ParseTaskName());
    if (lex_.Peek().kind != TokenKind::kEnd) {
      SCN_ASSIGN_OR_RETURN(v.addr, ParseU64(kAddrArg));
      SCN_ASSIGN_OR_RETURN(v.len, ParseU64({"smaps LEN", "64K"}));
    }
    s.what = std::move(v);
  } else if (what.text == "swaps") {
    s.what = ShowSwaps{};
  } else if (what.text == "dot") {
    // One or more tasks, each at most once, drawn in one graph.
    ShowDot v;
    do {
      const Token at = lex_.Peek();
      SCN_ASSIGN_OR_RETURN(std::string task, ParseTaskName());
      for (const std::string& t : v.tasks) {
        if (t == task) return ErrTok(at, "a task not already named in this `show dot`");
      }
      if (v.tasks.size() == kMaxDotTasks)
        return ErrTok(at, absl::StrCat("the end of the line (at most ", kMaxDotTasks, " tasks in one `show dot`)"));
      v.tasks.push_back(std::move(task));
    } while (lex_.Peek().kind != TokenKind::kEnd);
    s.what = std::move(v);
  } else {
    return ErrTok(what, expected);
  }
  return Statement(std::move(s));
}

absl::StatusOr<Statement> LineParser::ParseFail(const Token& kw) {
  FailStmt f;
  f.pos = PosAt(kw.col);
  Token point = lex_.Next();
  if (point.kind != TokenKind::kIdent) return ErrTok(point, "fault point like fail_page_alloc");
  f.point = std::string(point.text);
  std::vector<std::string> seen;
  while (lex_.Peek().kind != TokenKind::kEnd) {
    bool has_value;
    SCN_ASSIGN_OR_RETURN(std::string key,
                         ParseOptionKey({"nth=", "times=", "probability="},
                                        "fail option (nth=N, times=N, probability=P)", &seen,
                                        &has_value));
    if (key == "nth") {
      SCN_ASSIGN_OR_RETURN(f.nth, ParseU64({"nth", "1"}, UINT64_MAX, 1));
    } else if (key == "times") {
      SCN_ASSIGN_OR_RETURN(f.times, ParseU64({"times", "1"}, UINT64_MAX, 1));
    } else {
      SCN_ASSIGN_OR_RETURN(f.probability_ppb, ParseProbability());
    }
  }
  return Statement(std::move(f));
}

absl::StatusOr<Statement> LineParser::ParseTrace(const Token& kw) {
  TraceStmt t;
  t.pos = PosAt(kw.col);
  Token level = lex_.Next();
  if (level.Is(TokenKind::kIdent, "off")) {
    t.level = TraceStmt::Level::kOff;
  } else if (level.Is(TokenKind::kIdent, "calls")) {
    t.level = TraceStmt::Level::kCalls;
  } else if (level.Is(TokenKind::kIdent, "full")) {
    t.level = TraceStmt::Level::kFull;
  } else {
    return ErrTok(level, "trace level (off, calls, full)");
  }
  return Statement(std::move(t));
}

// `sleep DURATION`: decimal milliseconds or seconds, `10ms` or `2s`, 1 ms to an hour.
absl::StatusOr<Statement> LineParser::ParseSleep(const Token& kw) {
  SleepStmt s;
  s.pos = PosAt(kw.col);
  constexpr char kExpected[] = "DURATION like 10ms or 2s (decimal, from 1ms to 3600s)";
  Token t = lex_.Next();
  if (t.kind != TokenKind::kNumber) return ErrTok(t, kExpected);
  absl::string_view digits = t.text;
  uint64_t unit = 0;
  if (absl::EndsWith(digits, "ms")) {
    unit = 1;
    digits.remove_suffix(2);
  } else if (absl::EndsWith(digits, "s")) {
    unit = 1000;
    digits.remove_suffix(1);
  }
  // At most 10 digits (no overflow below), no leading zeros, nothing but digits.
  const bool decimal = !digits.empty() && digits.size() <= 10 &&
                       (digits == "0" || digits[0] != '0') &&
                       digits.find_first_not_of("0123456789") == absl::string_view::npos;
  if (unit == 0 || !decimal) return Err(t.col, kExpected, QuoteForMessage(t.text));
  uint64_t v = 0;
  for (char ch : digits) v = v * 10 + static_cast<uint64_t>(ch - '0');
  if (v == 0 || v * unit > kMaxSleepMs) return Err(t.col, kExpected, QuoteForMessage(t.text));
  s.ms = v * unit;
  return Statement(std::move(s));
}

// ---------------------------------------------------------------------------
// Blocks.

absl::Status LineParser::CheckPlacement(const Token& first, bool task_op) {
  const absl::string_view kw = first.text;
  auto got = [&]() {
    return task_op ? absl::StrCat("operation of ", QuoteForMessage(kw)) : QuoteForMessage(kw);
  };
  switch (st_.block) {
    case Block::kNone:
      if (kw == "end") return Err(first.col, kStatementExpected, "'end' outside a block");
      if (kw == "expect-always" || kw == "expect-sometimes" || kw == "expect-never") {
        return Err(first.col,
                   absl::StrCat(kw, " inside an explore block, after its together block"),
                   absl::StrCat(QuoteForMessage(kw), " outside one"));
      }
      return absl::OkStatus();
    case Block::kTogether:
    case Block::kExploreTogether: {
      if (!task_op && kw != "expect" && kw != "end") {
        const bool block = kw == "together" || kw == "explore";
        return Err(first.col,
                   absl::StrFormat("TASK: OPERATION, expect or end in the together block of "
                                   "line %d%s",
                                   st_.together_pos.line, block ? " (blocks do not nest)" : ""),
                   got());
      }
      if (task_op) {
        for (const auto& [task, line] : st_.together_tasks) {
          if (task == kw) {
            return Err(first.col,
                       "each task at most once in a together block (a task makes one system "
                       "call at a time)",
                       absl::StrFormat("a second operation of %s (the first at line %d)",
                                       QuoteForMessage(kw), line));
          }
        }
      }
      return absl::OkStatus();
    }
    case Block::kExploreHead:
      if (kw != "together") {
        return Err(first.col,
                   absl::StrFormat("together right after explore (line %d): the block to explore",
                                   st_.explore_pos.line),
                   got());
      }
      return absl::OkStatus();
    case Block::kExploreTail:
      if (task_op || !(kw == "expect-mem" || kw == "expect-same" || kw == "show" ||
                       kw == "expect-always" || kw == "expect-sometimes" ||
                       kw == "expect-never" || kw == "end")) {
        const bool block = kw == "together" || kw == "explore";
        return Err(first.col,
                   absl::StrFormat("expect-mem, expect-same, show, expect-always, "
                                   "expect-sometimes, expect-never or end after the together "
                                   "block of the explore block of line %d%s",
                                   st_.explore_pos.line,
                                   block ? " (one together block per explore; blocks do not nest)"
                                         : ""),
                   got());
      }
      return absl::OkStatus();
  }
  return absl::OkStatus();
}

absl::StatusOr<Statement> LineParser::ParseSchedule(const Token& kw) {
  ScheduleStmt s;
  s.pos = PosAt(kw.col);
  SCN_ASSIGN_OR_RETURN(s.task, ParseTaskName());
  SCN_ASSIGN_OR_RETURN(std::optional<uint32_t> cpu, ParseCpuOption("cpu=N after the task"));
  if (!cpu.has_value()) return ErrTok(lex_.Peek(), "cpu=N after the task");
  s.cpu = *cpu;
  return Statement(std::move(s));
}

// A schedule id (sim/sched/schedule.h): "0", or STEP.PATH pairs joined by '-' with the
// steps ascending, all in canonical decimal. Returns the error's column offset and text,
// or -1 when it is well formed.
int ScheduleIdError(absl::string_view id, std::string* why) {
  if (id == "0") return -1;
  size_t i = 0;
  bool have_prev = false;
  uint64_t prev = 0;
  auto number = [&](uint64_t* v, const char* what) -> bool {
    const size_t start = i;
    *v = 0;
    while (i < id.size() && id[i] >= '0' && id[i] <= '9') {
      if (__builtin_mul_overflow(*v, uint64_t{10}, v) ||
          __builtin_add_overflow(*v, static_cast<uint64_t>(id[i] - '0'), v)) {
        *why = absl::StrCat(what, " that fits in 64 bits");
        i = start;
        return false;
      }
      ++i;
    }
    if (i == start) {
      *why = absl::StrCat("a decimal ", what);
      return false;
    }
    if (i - start > 1 && id[start] == '0') {
      *why = absl::StrCat(what, " without leading zeros");
      i = start;
      return false;
    }
    return true;
  };
  for (;;) {
    const size_t pair = i;
    uint64_t step = 0, path = 0;
    if (!number(&step, "STEP")) return static_cast<int>(i);
    if (i >= id.size() || id[i] != '.') {
      *why = "'.' between STEP and PATH";
      return static_cast<int>(i);
    }
    ++i;
    if (!number(&path, "PATH")) return static_cast<int>(i);
    if (path > kMaxCpus * 64) {
      *why = "a PATH number of at most 4096";
      return static_cast<int>(pair);
    }
    if (have_prev && step <= prev) {
      *why = "STEPs in ascending order";
      return static_cast<int>(pair);
    }
    have_prev = true;
    prev = step;
    if (i == id.size()) return -1;
    if (id[i] != '-') {
      *why = "'-' between STEP.PATH pairs";
      return static_cast<int>(i);
    }
    ++i;
  }
}

absl::StatusOr<Statement> LineParser::ParseTogether(const Token& kw) {
  TogetherStmt t;
  t.pos = PosAt(kw.col);
  const Token opt = lex_.Peek();
  if (opt.kind == TokenKind::kEnd) return Statement(std::move(t));
  if (st_.block == Block::kExploreHead) {
    return ErrTok(opt, "end of line (explore chooses the schedules of its together block)");
  }
  if (opt.Is(TokenKind::kIdent, "random")) {
    lex_.Next();
    t.policy = TogetherStmt::Policy::kRandom;
    if (lex_.Peek().kind != TokenKind::kEnd) {
      std::vector<std::string> seen;
      bool has_value;
      SCN_RETURN_IF_ERROR(
          ParseOptionKey({"seed="}, "seed=N after random", &seen, &has_value).status());
      SCN_ASSIGN_OR_RETURN(t.seed, ParseU64({"seed", "42"}));
    }
    return Statement(std::move(t));
  }
  if (opt.Is(TokenKind::kIdent, "schedule")) {
    lex_.Next();
    SCN_RETURN_IF_ERROR(ExpectPunct('=', "'=' after schedule"));
    const Token id = lex_.NextNonSpace();
    const char* expected = "schedule ID like 0 or 3.1-17.0 (STEP.PATH pairs)";
    if (id.kind != TokenKind::kWord || id.space_before) return ErrTok(id, expected);
    std::string why;
    if (int at = ScheduleIdError(id.text, &why); at >= 0) {
      return Err(id.col + at, absl::StrCat("schedule ID with ", why),
                 QuoteForMessage(id.text, 40));
    }
    t.policy = TogetherStmt::Policy::kSchedule;
    t.schedule = std::string(id.text);
    return Statement(std::move(t));
  }
  return ErrTok(opt, "end of line, schedule=ID or random seed=N after together");
}

absl::StatusOr<Statement> LineParser::ParseExplore(const Token& kw) {
  ExploreStmt e;
  e.pos = PosAt(kw.col);
  Token mode = lex_.Next();
  if (mode.Is(TokenKind::kIdent, "all")) {
    e.mode = ExploreStmt::Mode::kAll;
  } else if (mode.Is(TokenKind::kIdent, "random")) {
    e.mode = ExploreStmt::Mode::kRandom;
  } else if (mode.Is(TokenKind::kIdent, "pct")) {
    e.mode = ExploreStmt::Mode::kPct;
  } else {
    return ErrTok(mode, "exploration mode (all [preemptions=N], random N, pct N)");
  }
  if (e.mode != ExploreStmt::Mode::kAll) {
    SCN_ASSIGN_OR_RETURN(e.runs, ParseU64({"number of runs N", "1000"}, kMaxExploreRuns, 1));
  }
  std::vector<std::string> seen;
  while (lex_.Peek().kind != TokenKind::kEnd) {
    bool has_value;
    absl::StatusOr<std::string> parsed =
        e.mode == ExploreStmt::Mode::kAll
            ? ParseOptionKey({"preemptions="}, "explore all option preemptions=N", &seen,
                             &has_value)
        : e.mode == ExploreStmt::Mode::kRandom
            ? ParseOptionKey({"seed="}, "explore random option seed=S", &seen, &has_value)
            : ParseOptionKey({"depth=", "seed="}, "explore pct option (depth=D, seed=S)", &seen,
                             &has_value);
    SCN_ASSIGN_OR_RETURN(std::string key, std::move(parsed));
    if (key == "preemptions") {
      SCN_ASSIGN_OR_RETURN(uint64_t n, ParseU64({"preemptions", "2"}, kMaxPreemptions));
      e.preemptions = static_cast<uint32_t>(n);
    } else if (key == "depth") {
      SCN_ASSIGN_OR_RETURN(uint64_t n, ParseU64({"depth", "3"}, kMaxPctDepth, 1));
      e.depth = static_cast<uint32_t>(n);
    } else {
      SCN_ASSIGN_OR_RETURN(e.seed, ParseU64({"seed", "42"}));
    }
  }
  return Statement(std::move(e));
}

absl::StatusOr<Statement> LineParser::ParseEnd(const Token& kw) {
  if ((st_.block == Block::kTogether || st_.block == Block::kExploreTogether) &&
      st_.together_tasks.empty()) {
    return Err(kw.col,
               absl::StrFormat("at least one TASK: OPERATION in the together block of line %d",
                               st_.together_pos.line),
               "end");
  }
  return Statement(EndStmt{PosAt(kw.col)});
}

absl::StatusOr<OutcomeAtom> LineParser::ParseOutcomeAtom() {
  Token t = lex_.NextWord();
  OutcomeAtom a;
  if (t.Is(TokenKind::kWord, "deadlock")) {
    a.kind = OutcomeAtom::Kind::kDeadlock;
    return a;
  }
  if (t.Is(TokenKind::kWord, "check-failed")) {
    a.kind = OutcomeAtom::Kind::kCheckFailed;
    return a;
  }
  std::string tasks;
  for (const auto& [task, line] : st_.together_tasks) {
    absl::StrAppend(&tasks, tasks.empty() ? "" : ", ", task);
  }
  const std::string expected = absl::StrFormat(
      "%s, TASK one of %s", kOutcomeAtomExpected, tasks);
  if (t.kind != TokenKind::kWord || !IsIdentifier(t.text)) return ErrTok(t, expected);
  bool known = false;
  for (const auto& [task, line] : st_.together_tasks) known = known || task == t.text;
  if (!known) {
    return Err(t.col, expected,
               absl::StrCat(QuoteForMessage(t.text), ", which has no operation in the together "
                                                      "block"));
  }
  a.kind = OutcomeAtom::Kind::kResult;
  a.task = std::string(t.text);
  Token eq = lex_.Next();
  if (!eq.IsPunct('=') || eq.space_before) {
    return ErrTok(eq, absl::StrCat("'=' RESULT right after ", a.task));
  }
  if (lex_.Peek().space_before) return ErrTok(lex_.Peek(), "RESULT right after '='");
  SCN_ASSIGN_OR_RETURN(a.result, ParseResultValue(/*bare_errno=*/true));
  return a;
}

absl::StatusOr<Statement> LineParser::ParseExpectOutcome(const Token& kw,
                                                         ExpectOutcomeStmt::Quantifier q) {
  if (st_.block != Block::kExploreTail) {
    return Err(kw.col, absl::StrCat(kw.text, " inside an explore block, after its together block"),
               absl::StrCat(QuoteForMessage(kw.text), " outside one"));
  }
  ExpectOutcomeStmt e;
  e.pos = PosAt(kw.col);
  e.quantifier = q;
  std::vector<OutcomeAtom> all_of;
  for (;;) {
    const Token& next = lex_.Peek();
    if (next.kind == TokenKind::kEnd || next.Is(TokenKind::kIdent, "or")) {
      if (all_of.empty()) return ErrTok(next, kOutcomeAtomExpected);
      e.predicate.any_of.push_back(std::move(all_of));
      all_of.clear();
      if (next.kind == TokenKind::kEnd) break;
      lex_.Next();
      continue;
    }
    SCN_ASSIGN_OR_RETURN(OutcomeAtom a, ParseOutcomeAtom());
    all_of.push_back(std::move(a));
  }
  return Statement(std::move(e));
}

}  // namespace

// ---------------------------------------------------------------------------

struct IncrementalParser::State {
  ParseState ps;
};

namespace {

// The block state after `stmt` (which CheckPlacement allowed where it stands).
void UpdateBlock(ParseState& st, const Statement& stmt) {
  if (const auto* t = std::get_if<TogetherStmt>(&stmt)) {
    st.block = st.block == Block::kExploreHead ? Block::kExploreTogether : Block::kTogether;
    st.together_pos = t->pos;
    st.together_tasks.clear();
  } else if (const auto* e = std::get_if<ExploreStmt>(&stmt)) {
    st.block = Block::kExploreHead;
    st.explore_pos = e->pos;
  } else if (std::holds_alternative<EndStmt>(stmt)) {
    st.block = st.block == Block::kExploreTogether ? Block::kExploreTail : Block::kNone;
  } else if (IsTaskOperation(stmt) &&
             (st.block == Block::kTogether || st.block == Block::kExploreTogether)) {
    st.together_tasks.emplace_back(TaskOf(stmt), PosOf(stmt).line);
  }
}

}  // namespace

IncrementalParser::IncrementalParser(absl::string_view filename)
    : state_(std::make_unique<State>()) {
  state_->ps.filename = std::string(filename);
}
IncrementalParser::~IncrementalParser() = default;
IncrementalParser::IncrementalParser(IncrementalParser&&) noexcept = default;
IncrementalParser& IncrementalParser::operator=(IncrementalParser&&) noexcept = default;

int IncrementalParser::line_number() const { return state_->ps.line; }

absl::Status IncrementalParser::Finish() const {
  const ParseState& st = state_->ps;
  const char* what = nullptr;
  SourcePos at;
  switch (st.block) {
    case Block::kNone: return absl::OkStatus();
    case Block::kTogether:
    case Block::kExploreTogether: what = "together"; at = st.together_pos; break;
    case Block::kExploreHead:
    case Block::kExploreTail: what = "explore"; at = st.explore_pos; break;
  }
  // Reported where the input ends (just past the last line), naming where the block opens.
  return absl::InvalidArgumentError(
      absl::StrFormat("%s:%d:%d: expected end to close the %s block of line %d, got the end of "
                      "the input",
                      st.filename, st.line, st.last_line_bytes + 1, what, at.line));
}

absl::StatusOr<std::optional<Statement>> IncrementalParser::ParseLine(absl::string_view line) {
  ParseState& st = state_->ps;
  ++st.line;
  if (!line.empty() && line.back() == '\n') line.remove_suffix(1);
  st.last_line_bytes = static_cast<int>(std::min(line.size(), kMaxLineBytes));
  if (line.size() > kMaxLineBytes) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "%s:%d:%d: expected a line of at most %d bytes, got %d bytes", st.filename, st.line,
        kMaxLineBytes + 1, kMaxLineBytes, line.size()));
  }
  if (const size_t nl = line.find('\n'); nl != absl::string_view::npos) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "%s:%d:%d: expected one line, got a newline", st.filename, st.line, nl + 1));
  }
  // Fast path for blank and comment lines (same whitespace as the lexer's).
  if (const size_t i = line.find_first_not_of(" \t\r\v\f");
      i == absl::string_view::npos || line[i] == '#') {
    return std::optional<Statement>();
  }
  LineParser parser(st, line);
  SCN_ASSIGN_OR_RETURN(std::optional<Statement> stmt, parser.Parse());
  if (stmt.has_value()) {
    if (auto& p = parser.pending(); p.has_value()) st.symbols.insert(std::move(*p));
    ++st.statements;
    UpdateBlock(st, *stmt);
    st.prev_produces_result = ProducesResult(*stmt);
    st.prev_keyword = KeywordOf(*stmt);
    st.prev_line = st.line;
  }
  return stmt;
}

absl::StatusOr<Scenario> ParseScenario(absl::string_view text, absl::string_view filename) {
  IncrementalParser parser(filename);
  Scenario scenario;
  scenario.filename = std::string(filename);
  size_t start = 0;
  for (;;) {
    const size_t nl = text.find('\n', start);
    const absl::string_view line =
        text.substr(start, nl == absl::string_view::npos ? absl::string_view::npos : nl - start);
    SCN_ASSIGN_OR_RETURN(std::optional<Statement> stmt, parser.ParseLine(line));
    if (stmt.has_value()) scenario.statements.push_back(std::move(*stmt));
    if (nl == absl::string_view::npos) break;
    start = nl + 1;
  }
  SCN_RETURN_IF_ERROR(parser.Finish());
  return scenario;
}

}  // namespace sim::scenario
