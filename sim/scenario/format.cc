#include "sim/scenario/format.h"

#include <cstdint>
#include <optional>
#include <string>
#include <type_traits>
#include <variant>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_format.h"
#include "hw/access.h"
#include "sim/scenario/ast.h"
#include "sim/scenario/cap_names.h"
#include "sim/scenario/errno_names.h"

namespace sim::scenario {
namespace {

constexpr uint64_t kK = uint64_t{1} << 10;
constexpr uint64_t kM = uint64_t{1} << 20;
constexpr uint64_t kG = uint64_t{1} << 30;

// Small values in decimal, large ones in hex.
std::string FormatNum(uint64_t v) {
  return v < 0x10000 ? absl::StrCat(v) : FormatAddr(v);
}

// A signed 64-bit number as ParseBits64 reads it back: negative ones with a minus sign.
std::string FormatSigned(int64_t v) {
  if (v < 0) return absl::StrCat("-", uint64_t{0} - static_cast<uint64_t>(v));
  return FormatNum(static_cast<uint64_t>(v));
}

// mlockall's MCL_* flags by name when only known bits are set, else the number.
std::string FormatMlockallFlags(int64_t flags) {
  constexpr int64_t kKnown = MlockStmt::kCurrent | MlockStmt::kFuture | MlockStmt::kOnfault;
  if (flags == 0 || (flags & ~kKnown) != 0) return FormatSigned(flags);
  std::string out;
  if (flags & MlockStmt::kCurrent) out += "current";
  if (flags & MlockStmt::kFuture) absl::StrAppend(&out, out.empty() ? "" : ",", "future");
  if (flags & MlockStmt::kOnfault) absl::StrAppend(&out, out.empty() ? "" : ",", "onfault");
  return out;
}

// A 32-bit id where -1 means "unchanged".
std::string FormatId(uint32_t id) {
  return id == UINT32_MAX ? std::string("-1") : absl::StrCat(id);
}

bool NeedsEscape(unsigned char c) { return c < 0x20 || c >= 0x7f || c == '"' || c == '\\'; }

std::string FormatBytes(const std::string& bytes) {
  size_t escaped = 0;
  for (char c : bytes) {
    const unsigned char u = static_cast<unsigned char>(c);
    if ((u < 0x20 || u >= 0x7f) && u != '\n' && u != '\t') ++escaped;
  }
  // Mostly binary: hex is shorter and easier to read than a wall of \xHH.
  if (!bytes.empty() && escaped * 4 > bytes.size()) {
    std::string out = "hex:";
    for (char c : bytes) absl::StrAppendFormat(&out, "%02x", static_cast<unsigned char>(c));
    return out;
  }
  std::string out = "\"";
  for (char c : bytes) {
    const unsigned char u = static_cast<unsigned char>(c);
    switch (c) {
      case '\n': out += "\\n"; break;
      case '\t': out += "\\t"; break;
      case '\r': out += "\\r"; break;
      case '\\': out += "\\\\"; break;
      case '"': out += "\\\""; break;
      default:
        if (NeedsEscape(u)) {
          absl::StrAppendFormat(&out, "\\x%02x", u);
        } else {
          out.push_back(c);
        }
    }
  }
  out += "\"";
  return out;
}

std::string FormatIov(const IovList& iov) {
  if (const auto* raw = std::get_if<IovRaw>(&iov)) {
    return absl::StrFormat("raw(%s,%u)", FormatAddr(raw->addr), raw->count);
  }
  std::string out = "[";
  bool first = true;
  for (const Iovec& v : std::get<std::vector<Iovec>>(iov)) {
    if (!first) out += ", ";
    first = false;
    absl::StrAppend(&out, FormatAddr(v.iov_base), ":", FormatSize(v.iov_len));
  }
  out += "]";
  return out;
}

std::string FormatPid(const PidRef& pid) {
  if (const auto* name = std::get_if<std::string>(&pid)) return *name;
  return absl::StrCat(std::get<int32_t>(pid));
}

std::string FormatResult(const ExpectResult& r) {
  if (const auto* v = std::get_if<ExpectValue>(&r)) return FormatNum(v->value);
  if (const auto* e = std::get_if<ExpectErrno>(&r)) {
    const char* name = ErrnoName(e->err);
    return absl::StrCat("-1 ", name != nullptr ? name : "E?");
  }
  if (const auto* d = std::get_if<ExpectData>(&r)) return FormatData(d->data);
  const char* name = SignalNameOf(std::get<ExpectSignal>(r).signo);
  return name != nullptr ? name : "SIG?";
}

std::string FormatShow(const ShowWhat& w) {
  struct V {
    std::string operator()(const ShowMaps& s) const { return "maps " + s.task; }
    std::string operator()(const ShowPagetable& s) const {
      return s.addr.has_value() ? absl::StrCat("pagetable ", s.task, " ", FormatAddr(*s.addr))
                                : "pagetable " + s.task;
    }
    std::string operator()(const ShowPagemap& s) const {
      return absl::StrCat("pagemap ", s.task, " ", FormatAddr(s.addr), " ", FormatSize(s.len));
    }
    std::string operator()(const ShowTlb& s) const {
      return s.cpu.has_value() ? absl::StrCat("tlb ", *s.cpu) : "tlb";
    }
    std::string operator()(const ShowPage& s) const { return "page " + FormatAddr(s.pfn); }
    std::string operator()(const ShowBuddy&) const { return "buddy"; }
    std::string operator()(const ShowVmstat&) const { return "vmstat"; }
    std::string operator()(const ShowCpus&) const { return "cpus"; }
    std::string operator()(const ShowDmesg&) const { return "dmesg"; }
    std::string operator()(const ShowMeminfo&) const { return "meminfo"; }
    std::string operator()(const ShowLru&) const { return "lru"; }
    std::string operator()(const ShowSmaps& s) const {
      return s.len != 0 ? absl::StrCat("smaps ", s.task, " ", FormatAddr(s.addr), " ", FormatSize(s.len))
                        : "smaps " + s.task;
    }
    std::string operator()(const ShowSwaps&) const { return "swaps"; }
    std::string operator()(const ShowDot& s) const { return "dot " + absl::StrJoin(s.tasks, " "); }
  };
  return std::visit(V{}, w);
}

std::string FormatCpu(const std::optional<uint32_t>& cpu) {
  return cpu.has_value() ? absl::StrCat(" cpu=", *cpu) : std::string();
}

std::string FormatProbability(uint32_t ppb) {
  if (ppb >= kProbabilityOne) return "1";
  if (ppb == 0) return "0";
  std::string frac = absl::StrFormat("%09u", ppb);
  while (frac.back() == '0') frac.pop_back();
  return "0." + frac;
}

struct StatementPrinter {
  std::string operator()(const MachineStmt& s) const {
    std::string out = "machine";
    if (s.memory) absl::StrAppend(&out, " memory=", FormatSize(*s.memory));
    if (s.swap) absl::StrAppend(&out, " swap=", FormatSize(*s.swap));
    if (s.cpus) absl::StrAppend(&out, " cpus=", *s.cpus);
    if (s.tlb) absl::StrAppend(&out, " tlb=", *s.tlb);
    if (s.seed) absl::StrAppend(&out, " seed=", *s.seed);
    if (s.thp) absl::StrAppend(&out, " thp=", *s.thp);
    if (s.thp_defrag) absl::StrAppend(&out, " thp_defrag=", *s.thp_defrag);
    if (s.thp_use_zero_page) absl::StrAppend(&out, " thp_use_zero_page=", *s.thp_use_zero_page ? 1 : 0);
    if (s.pku) absl::StrAppend(&out, " pku=", *s.pku ? 1 : 0);
    return out;
  }
  std::string operator()(const LetStmt& s) const {
    return absl::StrCat("let ", s.name, " = ", FormatNum(s.value));
  }
  std::string operator()(const ProcessStmt& s) const {
    std::string out = "process " + s.name;
    if (s.ruid == s.euid && s.euid == s.suid) {
      if (s.ruid != 0) absl::StrAppend(&out, " uid=", s.ruid);
    } else {
      absl::StrAppend(&out, " ruid=", s.ruid, " euid=", s.euid, " suid=", s.suid);
    }
    if (s.rgid == s.egid && s.egid == s.sgid) {
      if (s.rgid != 0) absl::StrAppend(&out, " gid=", s.rgid);
    } else {
      absl::StrAppend(&out, " rgid=", s.rgid, " egid=", s.egid, " sgid=", s.sgid);
    }
    if (s.caps.bits != CapSet::kAll) absl::StrAppend(&out, " caps=", FormatCaps(s.caps));
    if (!s.dumpable) out += " dumpable=0";
    return out + FormatCpu(s.cpu);
  }
  std::string operator()(const ThreadStmt& s) const {
    return absl::StrCat("thread ", s.name, " of ", s.process, FormatCpu(s.cpu));
  }
  std::string operator()(const KthreadStmt& s) const { return "kthread " + s.name + FormatCpu(s.cpu); }
  std::string operator()(const ScheduleStmt& s) const {
    return absl::StrCat("schedule ", s.task, " cpu=", s.cpu);
  }
  std::string operator()(const TogetherStmt& s) const {
    switch (s.policy) {
      case TogetherStmt::Policy::kDefault: return "together";
      case TogetherStmt::Policy::kSchedule: return "together schedule=" + s.schedule;
      case TogetherStmt::Policy::kRandom: return absl::StrCat("together random seed=", s.seed);
    }
    return "together";
  }
  std::string operator()(const ExploreStmt& s) const {
    std::string out;
    switch (s.mode) {
      case ExploreStmt::Mode::kAll: out = "explore all"; break;
      case ExploreStmt::Mode::kRandom: out = absl::StrCat("explore random ", s.runs); break;
      case ExploreStmt::Mode::kPct: out = absl::StrCat("explore pct ", s.runs); break;
    }
    if (s.preemptions) absl::StrAppend(&out, " preemptions=", *s.preemptions);
    if (s.depth) absl::StrAppend(&out, " depth=", *s.depth);
    if (s.seed) absl::StrAppend(&out, " seed=", *s.seed);
    return out;
  }
  std::string operator()(const EndStmt&) const { return "end"; }
  std::string operator()(const ExpectOutcomeStmt& s) const {
    return absl::StrCat(KeywordOf(Statement(s)), " ", FormatOutcomePredicate(s.predicate));
  }
  std::string operator()(const FileStmt& s) const {
    std::string out = absl::StrCat("file ", s.name, " size=", FormatSize(s.size));
    if (s.data) absl::StrAppend(&out, " data=", FormatData(*s.data));
    if (s.readonly) out += " readonly";
    return out;
  }
  std::string operator()(const MmapStmt& s) const {
    std::string out =
        absl::StrCat(s.task, ": mmap ", FormatAddr(s.addr), " ", FormatSize(s.len), " ",
                     FormatProt(s.prot), " ", FormatMmapFlags(s.flags));
    if (s.file) absl::StrAppend(&out, " file=", *s.file);
    if (s.offset != 0) absl::StrAppend(&out, " offset=", FormatNum(s.offset));
    return out;
  }
  std::string operator()(const MunmapStmt& s) const {
    return absl::StrCat(s.task, ": munmap ", FormatAddr(s.addr), " ", FormatSize(s.len));
  }
  std::string operator()(const MprotectStmt& s) const {
    return absl::StrCat(s.task, ": mprotect ", FormatAddr(s.addr), " ", FormatSize(s.len), " ",
                        FormatProt(s.prot));
  }
  std::string operator()(const StoreStmt& s) const {
    return absl::StrCat(s.task, ": store ", FormatAddr(s.addr), " ", FormatData(s.data));
  }
  std::string operator()(const FillStmt& s) const {
    return absl::StrCat(s.task, ": fill ", FormatAddr(s.addr), " ", FormatSize(s.len), " ",
                        s.kind == FillStmt::Kind::kPattern ? std::string("pattern")
                                                           : absl::StrCat(static_cast<int>(s.byte)));
  }
  std::string operator()(const LoadStmt& s) const {
    return absl::StrCat(s.task, ": load ", FormatAddr(s.addr), " ", FormatSize(s.len));
  }
  std::string operator()(const ProcessVmRwStmt& s) const {
    std::string out = absl::StrCat(s.task, ": ", s.vm_write ? "process_vm_writev" : "process_vm_readv", " ", FormatPid(s.pid),
                                   " ", FormatIov(s.local), " ", FormatIov(s.remote));
    if (s.flags != 0) {
      if (s.flags >= (uint64_t{1} << 63)) {
        // Negative as a signed long: print it that way (-1, not 0xffff...).
        absl::StrAppend(&out, " flags=-", uint64_t{0} - s.flags);
      } else {
        absl::StrAppend(&out, " flags=", FormatNum(s.flags));
      }
    }
    return out;
  }
  std::string operator()(const ForkStmt& s) const {
    return absl::StrCat(s.task, ": fork ", s.child);
  }
  std::string operator()(const ExitStmt& s) const { return s.task + ": exit"; }
  std::string operator()(const ReapStmt& s) const {
    return absl::StrCat(s.task, ": reap ", s.child);
  }
  std::string operator()(const SetresuidStmt& s) const {
    return absl::StrCat(s.task, ": setresuid ", FormatId(s.ruid), " ", FormatId(s.euid), " ",
                        FormatId(s.suid));
  }
  std::string operator()(const SetresgidStmt& s) const {
    return absl::StrCat(s.task, ": setresgid ", FormatId(s.rgid), " ", FormatId(s.egid), " ",
                        FormatId(s.sgid));
  }
  std::string operator()(const CapsetStmt& s) const {
    return absl::StrCat(s.task, ": capset ", FormatCaps(s.caps));
  }
  std::string operator()(const DumpableStmt& s) const {
    return absl::StrCat(s.task, ": dumpable ", s.dumpable ? 1 : 0);
  }
  std::string operator()(const MadviseStmt& s) const {
    const char* name = AdviceName(s.advice);
    return absl::StrCat(s.task, ": madvise ", FormatAddr(s.addr), " ", FormatSize(s.len), " ",
                        name != nullptr ? std::string(name) : FormatSigned(s.advice));
  }
  std::string operator()(const MlockStmt& s) const {
    switch (s.op) {
      case MlockStmt::Op::kMlock:
        return absl::StrCat(s.task, ": mlock ", FormatAddr(s.addr), " ", FormatSize(s.len),
                            s.flags != 0 ? " onfault" : "");
      case MlockStmt::Op::kMunlock:
        return absl::StrCat(s.task, ": munlock ", FormatAddr(s.addr), " ", FormatSize(s.len));
      case MlockStmt::Op::kMlockall:
        return absl::StrCat(s.task, ": mlockall ", FormatMlockallFlags(s.flags));
      case MlockStmt::Op::kMunlockall:
        return s.task + ": munlockall";
    }
    return "";
  }
  std::string operator()(const ExpectStmt& s) const { return "expect " + FormatResult(s.result); }
  std::string operator()(const ExpectMemStmt& s) const {
    return absl::StrCat("expect-mem ", s.task, " ", FormatAddr(s.addr), " ", FormatData(s.data));
  }
  std::string operator()(const ExpectSameStmt& s) const {
    return absl::StrCat("expect-same ", s.task, " ", FormatAddr(s.addr), " ", s.other_task, " ",
                        FormatAddr(s.other_addr), " ", FormatSize(s.len));
  }
  std::string operator()(const ShowStmt& s) const { return "show " + FormatShow(s.what); }
  std::string operator()(const ExpectStateStmt& s) const { return "expect " + FormatStateCheck(s.check); }
  std::string operator()(const MarkStmt& s) const { return "mark " + s.name; }
  // Whole seconds as seconds, anything else in milliseconds.
  std::string operator()(const SleepStmt& s) const {
    return s.ms % 1000 == 0 ? absl::StrCat("sleep ", s.ms / 1000, "s")
                            : absl::StrCat("sleep ", s.ms, "ms");
  }
  std::string operator()(const FailStmt& s) const {
    std::string out = "fail " + s.point;
    if (s.nth) absl::StrAppend(&out, " nth=", *s.nth);
    if (s.times) absl::StrAppend(&out, " times=", *s.times);
    if (s.probability_ppb) absl::StrAppend(&out, " probability=", FormatProbability(*s.probability_ppb));
    return out;
  }
  std::string operator()(const TraceStmt& s) const {
    switch (s.level) {
      case TraceStmt::Level::kOff: return "trace off";
      case TraceStmt::Level::kCalls: return "trace calls";
      case TraceStmt::Level::kFull: return "trace full";
    }
    return "trace off";
  }
};

}  // namespace

std::string FormatFlagCheck(FlagTable table, const FlagCheck& f) {
  const std::vector<std::string>& names = FlagNames(table);
  std::string out;
  for (size_t i = 0; i < names.size(); ++i) {
    const uint64_t bit = uint64_t{1} << i;
    if (!((f.set | f.clear) & bit)) continue;
    absl::StrAppend(&out, out.empty() ? "" : ",", (f.clear & bit) ? "!" : "", names[i]);
  }
  return out;
}

std::string FormatPfnRef(const PfnRef& pfn) {
  if (const auto* n = std::get_if<std::string>(&pfn)) return *n;
  return FormatAddr(std::get<uint64_t>(pfn));
}

std::string FormatCounterValue(const CounterValue& v) {
  if (!v.since) return absl::StrCat(v.value);
  return absl::StrCat(v.value < 0 ? "-" : "+",
                      v.value < 0 ? uint64_t{0} - static_cast<uint64_t>(v.value)
                                  : static_cast<uint64_t>(v.value),
                      " since ", *v.since);
}

std::string FormatStateCheck(const StateCheck& check) {
  struct Visitor {
    std::string operator()(const ExpectPte& e) const {
      std::string out = absl::StrCat("pte ", e.task, " ", FormatAddr(e.addr));
      if (e.flags.set | e.flags.clear) absl::StrAppend(&out, " ", FormatFlagCheck(FlagTable::kPte, e.flags));
      if (e.pfn) absl::StrAppend(&out, e.pfn_differs ? " pfn!=" : " pfn=", FormatPfnRef(*e.pfn));
      if (e.bind) absl::StrAppend(&out, " as ", *e.bind);
      return out;
    }
    std::string operator()(const ExpectPage& e) const {
      std::string out = e.pfn ? absl::StrCat("page ", FormatPfnRef(*e.pfn))
                              : absl::StrCat("page at ", e.task, " ", FormatAddr(e.addr));
      if (e.refcount) absl::StrAppend(&out, " refcount=", *e.refcount);
      if (e.mapcount) absl::StrAppend(&out, " mapcount=", *e.mapcount);
      if (e.flags.set | e.flags.clear) {
        absl::StrAppend(&out, " flags=", FormatFlagCheck(FlagTable::kPage, e.flags));
      }
      return out;
    }
    std::string operator()(const ExpectTlbEntry& e) const {
      return absl::StrCat("tlb ", e.cpu, " ", e.task, " ", FormatAddr(e.addr),
                          e.cached ? " cached" : " absent");
    }
    std::string operator()(const ExpectVmstat& e) const {
      return absl::StrCat("vmstat ", e.item, " ", FormatCounterValue(e.value));
    }
    std::string operator()(const ExpectTlbCounter& e) const {
      const char* name = e.counter == ExpectTlbCounter::Counter::kHits     ? "hits"
                         : e.counter == ExpectTlbCounter::Counter::kMisses ? "misses"
                                                                           : "walks";
      return absl::StrCat("tlb ", e.cpu, " ", name, " ", FormatCounterValue(e.value));
    }
    std::string operator()(const ExpectVma& e) const {
      std::string out = absl::StrCat("vma ", e.task, " ", FormatAddr(e.addr));
      if (e.none) return out + " none";
      if (e.start) absl::StrAppend(&out, " start=", FormatAddr(*e.start));
      if (e.end) absl::StrAppend(&out, " end=", FormatAddr(*e.end));
      if (e.prot) absl::StrAppend(&out, " prot=", FormatProt(*e.prot));
      if (e.flags.set | e.flags.clear) {
        absl::StrAppend(&out, " flags=", FormatFlagCheck(FlagTable::kVma, e.flags));
      }
      return out;
    }
    std::string operator()(const ExpectFault& e) const {
      std::string out = e.task.empty() ? absl::StrCat("fault cpu ", e.cpu) : absl::StrCat("fault ", e.task);
      if (e.none) return out + " none";
      if (e.addr) absl::StrAppend(&out, " addr=", FormatAddr(*e.addr));
      if (e.error) absl::StrAppend(&out, " error=", hw::PfErrorCodeToString(*e.error));
      return out;
    }
  };
  return std::visit(Visitor{}, check);
}

std::string FormatSize(uint64_t v) {
  if (v != 0 && v % kG == 0 && v / kG < 1024) return absl::StrCat(v / kG, "G");
  if (v != 0 && v % kM == 0 && v / kM < 1024) return absl::StrCat(v / kM, "M");
  if (v != 0 && v % kK == 0 && v / kK < 1024) return absl::StrCat(v / kK, "K");
  return FormatNum(v);
}

std::string FormatAddr(uint64_t v) { return absl::StrFormat("0x%x", v); }

std::string FormatProt(Prot prot) {
  std::string out = "---";
  if (prot.bits & Prot::kRead) out[0] = 'r';
  if (prot.bits & Prot::kWrite) out[1] = 'w';
  if (prot.bits & Prot::kExec) out[2] = 'x';
  return out;
}

std::string FormatMmapFlags(MmapFlags flags) {
  static constexpr struct {
    uint32_t bit;
    const char* name;
  } kOrder[] = {
      {MmapFlags::kPrivate, "private"},  {MmapFlags::kShared, "shared"},
      {MmapFlags::kAnonymous, "anon"},   {MmapFlags::kFixed, "fixed"},
      {MmapFlags::kFixedNoreplace, "noreplace"}, {MmapFlags::kPopulate, "populate"},
      {MmapFlags::kGrowsdown, "growsdown"}, {MmapFlags::kNoreserve, "noreserve"},
  };
  std::string out;
  for (const auto& f : kOrder) {
    if (flags.bits & f.bit) {
      if (!out.empty()) out += ",";
      out += f.name;
    }
  }
  return out;
}

std::string FormatCaps(CapSet caps) {
  if (caps.bits == CapSet::kAll) return "all";
  if (caps.bits == 0) return "none";
  std::string out;
  for (int i = 0; i <= kCapLastCap; ++i) {
    if (caps.bits & (uint64_t{1} << i)) {
      if (!out.empty()) out += ",";
      out += CapName(i);
    }
  }
  return out;
}

std::string FormatData(const Data& data) {
  if (const auto* b = std::get_if<DataBytes>(&data)) return FormatBytes(b->bytes);
  if (const auto* r = std::get_if<DataRepeat>(&data)) {
    return absl::StrCat("repeat(", FormatSize(r->len), ",", static_cast<int>(r->byte), ")");
  }
  return absl::StrCat("pattern(", FormatSize(std::get<DataPattern>(data).len), ")");
}

std::string FormatOutcomeAtom(const OutcomeAtom& a) {
  switch (a.kind) {
    case OutcomeAtom::Kind::kDeadlock: return "deadlock";
    case OutcomeAtom::Kind::kCheckFailed: return "check-failed";
    case OutcomeAtom::Kind::kResult: break;
  }
  if (const auto* e = std::get_if<ExpectErrno>(&a.result)) {
    const char* name = ErrnoName(e->err);
    return absl::StrCat(a.task, "=", name != nullptr ? name : "E?");
  }
  return absl::StrCat(a.task, "=", FormatResult(a.result));
}

std::string FormatOutcomePredicate(const OutcomePredicate& p) {
  std::string out;
  for (size_t i = 0; i < p.any_of.size(); ++i) {
    if (i > 0) out += " or ";
    for (size_t j = 0; j < p.any_of[i].size(); ++j) {
      if (j > 0) out += ' ';
      out += FormatOutcomeAtom(p.any_of[i][j]);
    }
  }
  return out;
}

std::string FormatStatement(const Statement& stmt) { return std::visit(StatementPrinter{}, stmt); }

std::string FormatScenario(const Scenario& scenario) {
  std::string out;
  int depth = 0;
  for (const Statement& s : scenario.statements) {
    if (std::holds_alternative<EndStmt>(s) && depth > 0) --depth;
    out.append(static_cast<size_t>(2 * depth), ' ');
    out += FormatStatement(s);
    out += '\n';
    if (std::holds_alternative<TogetherStmt>(s) || std::holds_alternative<ExploreStmt>(s)) ++depth;
  }
  return out;
}

}  // namespace sim::scenario
