// sim/scenario/ast.h: the typed syntax tree of a scenario (.mms) file.
//
// A scenario is a list of statements, one per source line. The parser
// (sim/scenario/parser.h) produces these values; the interpreter consumes them
// and never sees source text again. Every value here is already evaluated:
// NUM expressions are folded to integers, `let` names are resolved, `uid=N` is
// expanded into ruid/euid/suid, DATA strings are unescaped. What stays symbolic
// is what only the machine can resolve: task and file names, and DATA that
// would be expensive to materialise (repeat(LEN,BYTE), pattern(LEN)).
//
// Every statement struct starts with `SourcePos pos`, the 1-based line and byte
// column of its first token, so the interpreter can report `FILE:LINE:COL`.
// All structs compare with ==; SameIgnoringPos() compares two statements
// without their positions (used by the print -> parse round-trip tests).
//
// Numeric encodings follow x86-64 Linux so the interpreter passes them on
// unchanged: Prot bits are PROT_*, MmapFlags bits are MAP_*, CapSet bit n is
// capability n, errno and signal numbers are Linux's.
#ifndef MMSIM_SIM_SCENARIO_AST_H_
#define MMSIM_SIM_SCENARIO_AST_H_

#include <cstdint>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "absl/strings/string_view.h"

#include "hw/pattern.h"

namespace sim::scenario {

// Where a statement starts: file name as given to the parser, 1-based line,
// 1-based byte column (a tab counts as one column).
struct SourcePos {
  std::string file;
  int line = 0;
  int col = 0;

  bool operator==(const SourcePos&) const = default;
};

// "FILE:LINE:COL".
std::string FormatPos(const SourcePos& pos);

// ---------------------------------------------------------------------------
// Value types.

// PROT as in /proc/PID/maps: `rw-`, `r-x`, `---`, ... Bits are PROT_* values.
struct Prot {
  static constexpr uint32_t kRead = 0x1;   // PROT_READ
  static constexpr uint32_t kWrite = 0x2;  // PROT_WRITE
  static constexpr uint32_t kExec = 0x4;   // PROT_EXEC
  uint32_t bits = 0;

  bool operator==(const Prot&) const = default;
};

// mmap FLAGS. Bits are x86-64 MAP_* values. Exactly one of kShared/kPrivate
// is set by the parser.
struct MmapFlags {
  static constexpr uint32_t kShared = 0x01;             // MAP_SHARED
  static constexpr uint32_t kPrivate = 0x02;            // MAP_PRIVATE
  static constexpr uint32_t kFixed = 0x10;              // MAP_FIXED
  static constexpr uint32_t kAnonymous = 0x20;          // MAP_ANONYMOUS
  static constexpr uint32_t kGrowsdown = 0x100;         // MAP_GROWSDOWN
  static constexpr uint32_t kNoreserve = 0x4000;        // MAP_NORESERVE
  static constexpr uint32_t kPopulate = 0x8000;         // MAP_POPULATE
  static constexpr uint32_t kFixedNoreplace = 0x100000; // MAP_FIXED_NOREPLACE
  uint32_t bits = 0;

  bool operator==(const MmapFlags&) const = default;
};

// A capability set: bit n is capability n (CAP_CHOWN = 0 ... see cap_names.h).
struct CapSet {
  // Every capability Linux defines, CAP_CHOWN (0) .. CAP_CHECKPOINT_RESTORE (40).
  static constexpr uint64_t kAll = (uint64_t{1} << 41) - 1;
  uint64_t bits = 0;

  bool operator==(const CapSet&) const = default;
};

// The address pattern used by `fill ADDR LEN pattern` and `pattern(LEN)`: hw/pattern.h
// defines it, ((a >> 12) * 131 + (a & 0xfff) * 7 + 0x21) mod 256 at virtual address a.
// The differential suite's remote side uses the same one (tests/difftest/case.h).
using ::hw::PatternByte;

// DATA, one of three forms.
// `"text"` or `hex:00ff3a`: literal bytes.
struct DataBytes {
  std::string bytes;
  bool operator==(const DataBytes&) const = default;
};
// `repeat(LEN,BYTE)`: LEN copies of BYTE, kept as a descriptor.
struct DataRepeat {
  uint64_t len = 0;
  uint8_t byte = 0;
  bool operator==(const DataRepeat&) const = default;
};
// `pattern(LEN)`: LEN bytes of the address pattern (PatternByte), anchored at
// the address the data is stored at or compared with (the statement's ADDR;
// for `expect` after `load`, the load's ADDR; for a file's data, offset 0).
struct DataPattern {
  uint64_t len = 0;
  bool operator==(const DataPattern&) const = default;
};
using Data = std::variant<DataBytes, DataRepeat, DataPattern>;

// Number of bytes DATA stands for.
uint64_t DataLength(const Data& data);

// One iovec of an explicit list `[ADDR:LEN, ...]`.
struct Iovec {
  uint64_t iov_base = 0;
  uint64_t iov_len = 0;
  bool operator==(const Iovec&) const = default;
};
// `raw(ADDR,COUNT)`: the iovec array pointer and count passed as they are, so a
// scenario can hand the kernel a bad pointer or a huge count.
struct IovRaw {
  uint64_t addr = 0;
  uint64_t count = 0;
  bool operator==(const IovRaw&) const = default;
};
// An explicit list (possibly empty; the interpreter lays it out in the calling
// task's memory) or a raw pointer and count.
using IovList = std::variant<std::vector<Iovec>, IovRaw>;

// A PID argument: the name of a declared process/thread/kthread (resolved to
// its pid or tid at run time), or a literal number (possibly negative).
using PidRef = std::variant<std::string, int32_t>;

// ---------------------------------------------------------------------------
// Statements that set up the world.

// `machine [memory=SIZE] [swap=SIZE] [cpus=N] [tlb=PROFILE] [seed=N]`. Only as the first
// statement. Unset fields take the simulator's defaults.
struct MachineStmt {
  SourcePos pos;
  std::optional<uint64_t> memory;  // bytes; a multiple of 4 KiB
  std::optional<uint64_t> swap;    // bytes of swap (0: none); a multiple of 4 KiB
  std::optional<uint32_t> cpus;
  std::optional<std::string> tlb;  // profile name (an identifier)
  std::optional<uint64_t> seed;
  std::optional<std::string> thp;  // always, madvise or never (transparent huge pages)
  std::optional<std::string> thp_defrag;    // always, defer, defer+madvise, madvise, never
  std::optional<bool> thp_use_zero_page;    // 0 or 1
  std::optional<bool> pku;                  // 0 or 1: the CPUs have protection keys
  bool operator==(const MachineStmt&) const = default;
};

// `let NAME = NUM`. The value is already substituted at every use; the
// statement is kept so the scenario can be printed back.
struct LetStmt {
  SourcePos pos;
  std::string name;
  uint64_t value = 0;
  bool operator==(const LetStmt&) const = default;
};

// `process NAME [uid=N] [gid=N] [ruid=N] ... [caps=...] [dumpable=0|1] [cpu=N]`.
// uid=N/gid=N set all three ids; ruid= etc. then override one of them. cpu=N places the
// new task on CPU N (Machine::Schedule); without it the task stays where it was created.
struct ProcessStmt {
  SourcePos pos;
  std::string name;
  uint32_t ruid = 0, euid = 0, suid = 0;
  uint32_t rgid = 0, egid = 0, sgid = 0;
  CapSet caps{CapSet::kAll};
  bool dumpable = true;
  std::optional<uint32_t> cpu;
  bool operator==(const ProcessStmt&) const = default;
};

// `thread NAME of PROC [cpu=N]`: a new thread sharing PROC's mm; NAME names its tid.
struct ThreadStmt {
  SourcePos pos;
  std::string name;
  std::string process;
  std::optional<uint32_t> cpu;
  bool operator==(const ThreadStmt&) const = default;
};

// `kthread NAME [cpu=N]`: a kernel thread, no mm.
struct KthreadStmt {
  SourcePos pos;
  std::string name;
  std::optional<uint32_t> cpu;
  bool operator==(const KthreadStmt&) const = default;
};

// `schedule TASK cpu=N`: TASK becomes the current task of CPU N (Machine::Schedule: a
// context switch there; a task current on another CPU leaves it idle).
struct ScheduleStmt {
  SourcePos pos;
  std::string task;
  uint32_t cpu = 0;
  bool operator==(const ScheduleStmt&) const = default;
};

// `file NAME size=SIZE [data=DATA] [readonly]`: an in-memory file. DATA, if
// given, fills the file from offset 0; the rest is zero.
struct FileStmt {
  SourcePos pos;
  std::string name;
  uint64_t size = 0;
  std::optional<Data> data;
  bool readonly = false;
  bool operator==(const FileStmt&) const = default;
};

// ---------------------------------------------------------------------------
// Operations `TASK: OP ...`, performed by a declared process/thread/kthread.
// `task` names it. All of these produce a result that `expect` may check.

// `TASK: mmap ADDR LEN PROT FLAGS [file=NAME] [offset=NUM]`.
struct MmapStmt {
  SourcePos pos;
  std::string task;
  uint64_t addr = 0;
  uint64_t len = 0;
  Prot prot;
  MmapFlags flags;
  std::optional<std::string> file;  // none: fd -1
  uint64_t offset = 0;
  bool operator==(const MmapStmt&) const = default;
};

// `TASK: munmap ADDR LEN`.
struct MunmapStmt {
  SourcePos pos;
  std::string task;
  uint64_t addr = 0;
  uint64_t len = 0;
  bool operator==(const MunmapStmt&) const = default;
};

// `TASK: mprotect ADDR LEN PROT`.
struct MprotectStmt {
  SourcePos pos;
  std::string task;
  uint64_t addr = 0;
  uint64_t len = 0;
  Prot prot;
  bool operator==(const MprotectStmt&) const = default;
};

// `TASK: store ADDR DATA`: user-mode stores of DATA starting at ADDR.
struct StoreStmt {
  SourcePos pos;
  std::string task;
  uint64_t addr = 0;
  Data data;
  bool operator==(const StoreStmt&) const = default;
};

// `TASK: fill ADDR LEN BYTE|pattern`: LEN user-mode stores.
struct FillStmt {
  enum class Kind { kByte, kPattern };
  SourcePos pos;
  std::string task;
  uint64_t addr = 0;
  uint64_t len = 0;
  Kind kind = Kind::kByte;
  uint8_t byte = 0;  // meaningful for kByte only
  bool operator==(const FillStmt&) const = default;
};

// `TASK: load ADDR LEN`: user-mode loads; the result is the bytes.
struct LoadStmt {
  SourcePos pos;
  std::string task;
  uint64_t addr = 0;
  uint64_t len = 0;
  bool operator==(const LoadStmt&) const = default;
};

// `TASK: process_vm_readv PID LIOV RIOV [flags=NUM]` (vm_write false) and
// `TASK: process_vm_writev ...` (vm_write true); one struct because the kernel
// has one path, process_vm_rw(..., vm_write).
struct ProcessVmRwStmt {
  SourcePos pos;
  std::string task;
  bool vm_write = false;
  PidRef pid;
  IovList local;
  IovList remote;
  uint64_t flags = 0;  // `flags=-1` is stored as ~0
  bool operator==(const ProcessVmRwStmt&) const = default;
};

// `TASK: fork CHILD`: CHILD is a new process name.
struct ForkStmt {
  SourcePos pos;
  std::string task;
  std::string child;
  bool operator==(const ForkStmt&) const = default;
};

// `TASK: exit`: the task becomes a zombie until reaped. No result.
struct ExitStmt {
  SourcePos pos;
  std::string task;
  bool operator==(const ExitStmt&) const = default;
};

// `TASK: reap CHILD`.
struct ReapStmt {
  SourcePos pos;
  std::string task;
  std::string child;
  bool operator==(const ReapStmt&) const = default;
};

// `TASK: setresuid R E S`; -1 ("leave unchanged") is stored as 0xffffffff.
struct SetresuidStmt {
  SourcePos pos;
  std::string task;
  uint32_t ruid = 0, euid = 0, suid = 0;
  bool operator==(const SetresuidStmt&) const = default;
};

// `TASK: setresgid R E S`; -1 is stored as 0xffffffff.
struct SetresgidStmt {
  SourcePos pos;
  std::string task;
  uint32_t rgid = 0, egid = 0, sgid = 0;
  bool operator==(const SetresgidStmt&) const = default;
};

// `TASK: capset none|all|cap_a,cap_b,...`.
struct CapsetStmt {
  SourcePos pos;
  std::string task;
  CapSet caps;
  bool operator==(const CapsetStmt&) const = default;
};

// `TASK: dumpable 0|1` (prctl PR_SET_DUMPABLE).
struct DumpableStmt {
  SourcePos pos;
  std::string task;
  bool dumpable = true;
  bool operator==(const DumpableStmt&) const = default;
};

// `TASK: madvise ADDR LEN ADVICE`. ADVICE is a name (dontneed, free, cold, pageout,
// willneed, dontneed_locked, dontfork, dofork, wipeonfork, keeponfork, hugepage,
// nohugepage, normal, random, sequential, mergeable, unmergeable, dontdump, dodump,
// populate_read, populate_write) or a number.
struct MadviseStmt {
  SourcePos pos;
  std::string task;
  uint64_t addr = 0;
  uint64_t len = 0;
  int64_t advice = 0;  // MADV_* value (any number: unknown ones are EINVAL)
  bool operator==(const MadviseStmt&) const = default;
};

// madvise advice names <-> MADV_* values (include/uapi/asm-generic/mman-common.h).
std::optional<int> AdviceFromName(absl::string_view name);  // "dontneed" -> 4
const char* AdviceName(int64_t advice);                      // 4 -> "dontneed"; nullptr if none

// `TASK: mlock ADDR LEN [onfault]` (mlock, or mlock2 MLOCK_ONFAULT), `TASK: munlock ADDR
// LEN`, `TASK: mlockall FLAGS` (current,future,onfault or a number), `TASK: munlockall`.
struct MlockStmt {
  enum class Op { kMlock, kMunlock, kMlockall, kMunlockall };
  static constexpr int64_t kCurrent = 1, kFuture = 2, kOnfault = 4;  // MCL_*
  SourcePos pos;
  std::string task;
  Op op = Op::kMlock;
  uint64_t addr = 0;
  uint64_t len = 0;
  int64_t flags = 0;  // mlock: MLOCK_ONFAULT (1) or 0; mlockall: MCL_* bits
  bool operator==(const MlockStmt&) const = default;
};

// ---------------------------------------------------------------------------
// Checks.

// `expect NUM`: the previous statement returned NUM.
struct ExpectValue {
  uint64_t value = 0;
  bool operator==(const ExpectValue&) const = default;
};
// `expect -1 ERRNO`: it returned -1 with errno set (Linux number).
struct ExpectErrno {
  int err = 0;
  bool operator==(const ExpectErrno&) const = default;
};
// `expect DATA`: its result bytes (of `load`) equal DATA.
struct ExpectData {
  Data data;
  bool operator==(const ExpectData&) const = default;
};
// `expect SIGSEGV` / `SIGBUS` / `SIGKILL`: the access ended with this signal (Linux number).
struct ExpectSignal {
  int signo = 0;
  bool operator==(const ExpectSignal&) const = default;
};
using ExpectResult = std::variant<ExpectValue, ExpectErrno, ExpectData, ExpectSignal>;

inline constexpr int kSigkill = 9;   // SIGKILL on x86-64 (the OOM kill)
inline constexpr int kSigbus = 7;    // SIGBUS
inline constexpr int kSigsegv = 11;  // SIGSEGV

// The signals a user access can end with, by name ("SIGSEGV", "SIGBUS", "SIGKILL"), and
// back; nullopt / nullptr for any other.
inline std::optional<int> SignalFromName(const std::string& name) {
  if (name == "SIGSEGV") return kSigsegv;
  if (name == "SIGBUS") return kSigbus;
  if (name == "SIGKILL") return kSigkill;
  return std::nullopt;
}
inline const char* SignalNameOf(int signo) {
  return signo == kSigsegv ? "SIGSEGV" : signo == kSigbus ? "SIGBUS" : signo == kSigkill ? "SIGKILL" : nullptr;
}

// `expect RESULT`: checks the statement right before it, which the parser
// guarantees is one whose ProducesResult() is true.
struct ExpectStmt {
  SourcePos pos;
  ExpectResult result;
  bool operator==(const ExpectStmt&) const = default;
};

// `expect-mem TASK ADDR DATA`: TASK's memory at ADDR holds DATA.
struct ExpectMemStmt {
  SourcePos pos;
  std::string task;
  uint64_t addr = 0;
  Data data;
  bool operator==(const ExpectMemStmt&) const = default;
};

// `expect-same TASK ADDR OTHER ADDR2 LEN`: LEN bytes at TASK:ADDR equal
// those at OTHER:ADDR2.
struct ExpectSameStmt {
  SourcePos pos;
  std::string task;
  uint64_t addr = 0;
  std::string other_task;
  uint64_t other_addr = 0;
  uint64_t len = 0;
  bool operator==(const ExpectSameStmt&) const = default;
};

// ---------------------------------------------------------------------------
// Checks of the machine's state (docs/scenario-language.md, "Checking the state"). They
// read the state without side effects, like the views, and may stand anywhere outside a
// block.

// A flag list as written, `present,writable,!dirty`: the bits named (indices into the
// form's table below) that must be set, and those written with `!` that must be clear.
struct FlagCheck {
  uint64_t set = 0;
  uint64_t clear = 0;
  bool operator==(const FlagCheck&) const = default;
};
// The flag names of each form, in the order they print: index i is bit i of a FlagCheck.
// pte: the page-table entry (none, present, swap, protnone, writable, user, accessed,
// dirty, saved_dirty, global, nx, zero); page: struct page's PG_ flags as `show page`
// prints them, then anon, buddy, table, slab; vma: the VmFlags mnemonics of
// /proc/PID/smaps (rd, wr, ex, sh, mr, mw, me, ms, gd, um, pf, lo, io, dc, de, ac, nr, wf,
// dd, sd, mm).
enum class FlagTable { kPte, kPage, kVma };
const std::vector<std::string>& FlagNames(FlagTable table);
std::optional<int> FlagIndex(FlagTable table, absl::string_view name);

// The counters `expect vmstat` knows: /proc/vmstat's items as mmsim keeps them, in the
// kernel's order (mm/kernel.h vm_stat_item; a test keeps the two lists equal).
const std::vector<std::string>& VmstatItemNames();

// A pfn to compare with: a NUM, or a name an earlier `expect pte ... as NAME` bound.
using PfnRef = std::variant<uint64_t, std::string>;

// `expect pte TASK ADDR [FLAGS] [pfn=PFN | pfn!=PFN] [as NAME]`.
struct ExpectPte {
  std::string task;
  uint64_t addr = 0;
  FlagCheck flags;
  std::optional<PfnRef> pfn;
  bool pfn_differs = false;  // pfn!=
  std::optional<std::string> bind;  // `as NAME`: NAME stands for the pfn from now on
  bool operator==(const ExpectPte&) const = default;
};
// `expect page PFN|NAME|at TASK ADDR [refcount=N] [mapcount=N] [flags=FLAGS]`.
struct ExpectPage {
  std::optional<PfnRef> pfn;  // none: `at TASK ADDR`
  std::string task;
  uint64_t addr = 0;
  std::optional<uint64_t> refcount;
  std::optional<uint64_t> mapcount;  // page_mapcount(): the mappings of this page
  FlagCheck flags;
  bool operator==(const ExpectPage&) const = default;
};
// `expect tlb CPU TASK ADDR cached|absent`: whether CPU's TLB holds a translation of
// TASK's ADDR (in any level, under the PCID CPU keeps TASK's mm with).
struct ExpectTlbEntry {
  uint32_t cpu = 0;
  std::string task;
  uint64_t addr = 0;
  bool cached = true;
  bool operator==(const ExpectTlbEntry&) const = default;
};
// A counter's value, or with `since MARK` its change since `mark MARK`.
struct CounterValue {
  int64_t value = 0;                // absolute (>= 0), or the change (+N / -N)
  std::optional<std::string> since;  // the mark
  bool operator==(const CounterValue&) const = default;
};
// `expect vmstat ITEM N` / `expect vmstat ITEM +N since MARK`.
struct ExpectVmstat {
  std::string item;
  CounterValue value;
  bool operator==(const ExpectVmstat&) const = default;
};
// `expect tlb CPU hits|misses|walks N [since MARK]`: CPU's TLB counters (hits: lookups
// some level answered; misses: lookups L1 missed; walks: page walks, i.e. every level missed).
struct ExpectTlbCounter {
  enum class Counter { kHits, kMisses, kWalks };
  uint32_t cpu = 0;
  Counter counter = Counter::kWalks;
  CounterValue value;
  bool operator==(const ExpectTlbCounter&) const = default;
};
// `expect vma TASK ADDR none` (no VMA holds ADDR), or
// `expect vma TASK ADDR [start=ADDR] [end=ADDR] [prot=PROT] [flags=FLAGS]`.
struct ExpectVma {
  std::string task;
  uint64_t addr = 0;
  bool none = false;
  std::optional<uint64_t> start, end;
  std::optional<Prot> prot;
  FlagCheck flags;
  bool operator==(const ExpectVma&) const = default;
};
// `expect fault TASK|cpu CPU none`, or
// `expect fault TASK|cpu CPU [addr=ADDR] [error=ERROR]`: the last #PF TASK took (in user
// or kernel mode) or CPU raised: its address (CR2) and error code. ERROR is the bits by
// name joined by '|' (P, W, U, RSVD, I, PK, SS, SGX: hw::kPfErrorBitNames) or 0; `none`:
// no #PF yet.
struct ExpectFault {
  std::string task;   // empty: the CPU's
  uint32_t cpu = 0;
  bool none = false;
  std::optional<uint64_t> addr;
  std::optional<uint32_t> error;
  bool operator==(const ExpectFault&) const = default;
};
using StateCheck = std::variant<ExpectPte, ExpectPage, ExpectTlbEntry, ExpectVmstat, ExpectTlbCounter,
                                ExpectVma, ExpectFault>;

struct ExpectStateStmt {
  SourcePos pos;
  StateCheck check;
  bool operator==(const ExpectStateStmt&) const = default;
};

// `mark NAME`: remembers every counter `expect vmstat` and `expect tlb CPU COUNTER` read,
// for later `since NAME`.
struct MarkStmt {
  SourcePos pos;
  std::string name;
  bool operator==(const MarkStmt&) const = default;
};

// ---------------------------------------------------------------------------
// Views and controls.

struct ShowMaps {  // show maps TASK
  std::string task;
  bool operator==(const ShowMaps&) const = default;
};
struct ShowPagetable {  // show pagetable TASK [ADDR]
  std::string task;
  std::optional<uint64_t> addr;
  bool operator==(const ShowPagetable&) const = default;
};
struct ShowPagemap {  // show pagemap TASK ADDR LEN
  std::string task;
  uint64_t addr = 0;
  uint64_t len = 0;
  bool operator==(const ShowPagemap&) const = default;
};
struct ShowTlb {  // show tlb [CPU]
  std::optional<uint32_t> cpu;
  bool operator==(const ShowTlb&) const = default;
};
struct ShowPage {  // show page PFN
  uint64_t pfn = 0;
  bool operator==(const ShowPage&) const = default;
};
struct ShowBuddy {  // show buddy
  bool operator==(const ShowBuddy&) const = default;
};
struct ShowVmstat {  // show vmstat
  bool operator==(const ShowVmstat&) const = default;
};
struct ShowDmesg {  // show dmesg: the kernel log (OOM kills, ...)
  bool operator==(const ShowDmesg&) const = default;
};
struct ShowSwaps {  // show swaps: /proc/swaps
  bool operator==(const ShowSwaps&) const = default;
};
struct ShowCpus {  // show cpus
  bool operator==(const ShowCpus&) const = default;
};
struct ShowMeminfo {  // show meminfo
  bool operator==(const ShowMeminfo&) const = default;
};
struct ShowLru {  // show lru
  bool operator==(const ShowLru&) const = default;
};
struct ShowSmaps {  // show smaps TASK [ADDR LEN]
  std::string task;
  uint64_t addr = 0;
  uint64_t len = 0;  // 0: every VMA
  bool operator==(const ShowSmaps&) const = default;
};
struct ShowDot {  // show dot TASK [TASK ...]: the page-table trees as one Graphviz graph
  std::vector<std::string> tasks;
  bool operator==(const ShowDot&) const = default;
};
using ShowWhat = std::variant<ShowMaps, ShowPagetable, ShowPagemap, ShowTlb, ShowPage, ShowBuddy,
                              ShowVmstat, ShowCpus, ShowDmesg, ShowMeminfo, ShowLru, ShowSmaps,
                              ShowSwaps, ShowDot>;

struct ShowStmt {
  SourcePos pos;
  ShowWhat what;
  bool operator==(const ShowStmt&) const = default;
};

// `fail POINT [nth=N] [times=N] [probability=P]`: arms a fault-injection
// point (names as in mm/fault_inject.h; the parser only checks the syntax).
struct FailStmt {
  SourcePos pos;
  std::string point;
  std::optional<uint64_t> nth;    // >= 1
  std::optional<uint64_t> times;  // >= 1
  // Probability in parts per billion: 0.25 is 250000000, 1 is 1000000000.
  // Exact, so the scenario prints back to the same value.
  std::optional<uint32_t> probability_ppb;
  bool operator==(const FailStmt&) const = default;
};
inline constexpr uint32_t kProbabilityOne = 1000000000;

// `trace off|calls|full`.
struct TraceStmt {
  enum class Level { kOff, kCalls, kFull };
  SourcePos pos;
  Level level = Level::kOff;
  bool operator==(const TraceStmt&) const = default;
};

// `sleep DURATION` (`10ms`, `2s`): time passes with every task asleep. jiffies advance
// by the duration at HZ=1000 (one per millisecond); no task enters the kernel.
struct SleepStmt {
  SourcePos pos;
  uint64_t ms = 0;  // 1 ms .. kMaxSleepMs
  bool operator==(const SleepStmt&) const = default;
};
inline constexpr uint64_t kMaxSleepMs = 3600 * 1000;  // an hour

// ---------------------------------------------------------------------------
// Concurrency: blocks. A block is written over several lines and kept flat in the
// statement list: its opening statement, its body, and an EndStmt. The parser guarantees
// the shape:
//   together [schedule=ID | random seed=N]
//     TASK: OPERATION            (one or more; each task at most once)
//     expect RESULT              (after an operation: checks that operation's result)
//   end
//   explore all [preemptions=N] | random N [seed=S] | pct N [depth=D] [seed=S]
//     together                   (exactly one, first, no option)
//       ...
//     end
//     expect-mem / expect-same / show ...        (checked in every run: part of the outcome)
//     expect-always / expect-sometimes / expect-never PREDICATE
//   end
// Blocks do not nest otherwise.

// `together [schedule=ID | random seed=N]`: the operations up to `end` run at once,
// each as its own kernel path on its task's CPU (Machine::Together).
struct TogetherStmt {
  enum class Policy { kDefault, kSchedule, kRandom };
  SourcePos pos;
  Policy policy = Policy::kDefault;
  std::string schedule;  // kSchedule: the id, canonical ("3.1-17.0", "0")
  uint64_t seed = 0;     // kRandom
  bool operator==(const TogetherStmt&) const = default;
};

// `explore all [preemptions=N]`, `explore random N [seed=S]`,
// `explore pct N [depth=D] [seed=S]`.
struct ExploreStmt {
  enum class Mode { kAll, kRandom, kPct };
  SourcePos pos;
  Mode mode = Mode::kAll;
  std::optional<uint32_t> preemptions;  // kAll
  uint64_t runs = 0;                    // kRandom, kPct: N
  std::optional<uint32_t> depth;        // kPct
  std::optional<uint64_t> seed;         // kRandom, kPct
  bool operator==(const ExploreStmt&) const = default;
};

// `end`: closes the innermost open block.
struct EndStmt {
  SourcePos pos;
  bool operator==(const EndStmt&) const = default;
};

// One condition on an outcome of an exploration.
//   TASK=RESULT   the operation of TASK in the explored together block returned RESULT
//                 (RESULT as in `expect`, and a bare ERRNO name for -1 ERRNO)
//   deadlock      the run deadlocked
//   check-failed  a check of the run failed (an `expect` in the together block,
//                 `expect-mem`, `expect-same`)
struct OutcomeAtom {
  enum class Kind { kResult, kDeadlock, kCheckFailed };
  Kind kind = Kind::kResult;
  std::string task;     // kResult
  ExpectResult result;  // kResult
  bool operator==(const OutcomeAtom&) const = default;
};
// Alternatives joined by `or`, each a list of atoms that must all hold.
struct OutcomePredicate {
  std::vector<std::vector<OutcomeAtom>> any_of;
  bool operator==(const OutcomePredicate&) const = default;
};

// `expect-always PRED`, `expect-sometimes PRED`, `expect-never PRED` over the outcomes of
// the enclosing explore block.
struct ExpectOutcomeStmt {
  enum class Quantifier { kAlways, kSometimes, kNever };
  SourcePos pos;
  Quantifier quantifier = Quantifier::kAlways;
  OutcomePredicate predicate;
  bool operator==(const ExpectOutcomeStmt&) const = default;
};

// ---------------------------------------------------------------------------

using Statement =
    std::variant<MachineStmt, LetStmt, ProcessStmt, ThreadStmt, KthreadStmt, FileStmt, MmapStmt,
                 MunmapStmt, MprotectStmt, StoreStmt, FillStmt, LoadStmt, ProcessVmRwStmt,
                 ForkStmt, ExitStmt, ReapStmt, SetresuidStmt, SetresgidStmt, CapsetStmt,
                 DumpableStmt, MadviseStmt, MlockStmt, ExpectStmt, ExpectMemStmt, ExpectSameStmt, ShowStmt, FailStmt,
                 TraceStmt, ScheduleStmt, TogetherStmt, ExploreStmt, EndStmt, ExpectOutcomeStmt,
                 ExpectStateStmt, MarkStmt, SleepStmt>;

struct Scenario {
  std::string filename;
  std::vector<Statement> statements;
  bool operator==(const Scenario&) const = default;
};

// The position of any statement.
const SourcePos& PosOf(const Statement& stmt);

// The statement's keyword as written: "machine", "mmap", "process_vm_writev",
// "expect-mem", ...
const char* KeywordOf(const Statement& stmt);

// True for the statements `expect` may follow: mmap, munmap, mprotect, store,
// fill, load, process_vm_readv/writev, fork, reap, setresuid, setresgid,
// capset, dumpable, madvise, mlock, munlock, mlockall, munlockall.
bool ProducesResult(const Statement& stmt);

// "TASK: OPERATION" statements (mmap ... dumpable, exit): what a together block holds.
bool IsTaskOperation(const Statement& stmt);
// The task that performs a TASK: OPERATION statement ("" for any other statement).
const std::string& TaskOf(const Statement& stmt);

// a == b once both positions are cleared.
bool SameIgnoringPos(const Statement& a, const Statement& b);

// Gathers a together or explore block's statements as they come, one at a time (the
// interpreter and the host runner step through a scenario statement by statement): Add
// takes the block's head (together or explore) and everything after it, and returns the
// whole block at the `end` that closes it (for explore, the second one).
class BlockCollector {
 public:
  bool open() const { return block_.has_value(); }
  std::optional<std::vector<Statement>> Add(const Statement& stmt);

 private:
  std::optional<std::vector<Statement>> block_;
  bool inner_open_ = false;  // an explore block's together block is still open
};

// A whole block (as BlockCollector::Add returns it) taken apart, the one reading of a
// block's shape for the interpreter and the host runner: [explore] together, the
// operations each with the `expect` lines after it, end, and for explore the checks,
// views and assertions up to its own end.
struct BlockOp {
  const Statement* stmt;
  std::vector<const ExpectStmt*> expects;
};
struct BlockParts {
  const ExploreStmt* explore = nullptr;  // null for a plain together block
  const TogetherStmt* together = nullptr;
  std::vector<BlockOp> ops;
  const EndStmt* together_end = nullptr;
  std::vector<const Statement*> tail;  // explore: checks, views, assertions
  const EndStmt* end = nullptr;        // the block's own end (together_end for together)
};
BlockParts SplitBlock(const std::vector<Statement>& block);

}  // namespace sim::scenario

#endif  // MMSIM_SIM_SCENARIO_AST_H_
