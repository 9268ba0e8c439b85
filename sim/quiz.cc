// sim/quiz.cc
#include "sim/quiz.h"

#include <algorithm>
#include <iostream>
#include <map>
#include <sstream>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "hw/splitmix64.h"
#include "sim/interpreter.h"
#include "sim/scenario/parser.h"

namespace sim {
namespace {

constexpr uint64_t kPage = 4096;

// A quiz's scenario, statement by statement, each with what the student sees of it.
class QuizBuilder {
 public:
  enum class Role {
    kSetup,   // listed: the statement and its result line
    kShow,    // listed with everything it printed (a view)
    kAsk,     // listed as a question; what it printed is an answer
    kReveal,  // not listed; what it printed is an answer
    kQuiet,   // neither (trace on and off)
  };
  struct Options {
    std::vector<std::string> keep;  // answers: only lines containing one of these (and the echo)
    std::string redact;             // shown: each line cut where this starts
  };

  QuizBuilder(QuizKind kind, uint64_t seed) : kind_(kind), seed_(seed), rng_(seed ^ 0x6d6d73696d717a00ull) {}

  uint64_t R(uint64_t n) { return n == 0 ? 0 : rng_.Next() % n; }

  // A page-aligned user address whose PML4, PDPT, PD and PT indices are all seeded,
  // well below the iovec area (PML4 slot 252) and the stack.
  uint64_t RandomBase() {
    const uint64_t pml4 = 1 + R(200), pdpt = R(512), pd = R(512), pt = R(480);
    return (pml4 << 39) | (pdpt << 30) | (pd << 21) | (pt << 12);
  }

  // The first statement: a small one-CPU machine, its seed from the quiz's.
  void AddMachine(const std::string& extra = "") {
    Add(absl::StrFormat("machine memory=16M cpus=1%s seed=%u", extra, seed_ % 1000), Role::kSetup);
  }

  int Add(std::string stmt, Role role, Options opts = {}) {
    items_.push_back({std::move(stmt), role, std::move(opts)});
    return static_cast<int>(items_.size()) + 1;  // line 1 is the header comment
  }

  std::string Scenario() const {
    std::string text = absl::StrFormat("# mmsim quiz --kind=%s --seed=%u (generated; run it with mmsim)\n",
                                       QuizKindName(kind_), seed_);
    for (const Item& it : items_) absl::StrAppend(&text, it.stmt, "\n");
    return text;
  }

  // Runs the scenario and lays out problem and answers. `intro` comes first, `question`
  // after the listing.
  absl::StatusOr<QuizText> Make(const std::string& intro, const std::string& question) const {
    QuizText q;
    q.scenario = Scenario();
    const std::string name = absl::StrFormat("quiz-%s-%u.mms", QuizKindName(kind_), seed_);
    absl::StatusOr<scenario::Scenario> parsed = scenario::ParseScenario(q.scenario, name);
    if (!parsed.ok()) return absl::InternalError(absl::StrCat("the generated scenario does not parse: ", parsed.status().message()));
    std::ostringstream out;
    Interpreter interp(InterpreterOptions{}, out, out);
    const int status = interp.Run(*parsed);
    if (status != kExitOk) {
      return absl::InternalError(absl::StrCat("the generated scenario did not run (status ", status, "):\n",
                                              out.str(), q.scenario));
    }
    // What each statement printed, by line: "[N] ..." starts statement N's text, a trace
    // header "== [N] ..." too; anything else belongs to the statement before it.
    std::map<int, std::vector<std::string>> printed;
    int cur = 0;
    for (absl::string_view line : absl::StrSplit(out.str(), '\n', absl::SkipEmpty())) {
      absl::string_view rest = line;
      absl::ConsumePrefix(&rest, "== ");
      int n = 0;
      if (absl::ConsumePrefix(&rest, "[")) {
        const size_t close = rest.find(']');
        if (close != absl::string_view::npos && absl::SimpleAtoi(rest.substr(0, close), &n) && n > 0) cur = n;
      }
      if (absl::StartsWith(line, "# ")) continue;  // the run's summary
      printed[cur].push_back(std::string(line));
    }
    q.problem = absl::StrFormat("mmsim quiz --kind=%s --seed=%u\n\n%s\n\n", QuizKindName(kind_), seed_, intro);
    q.answers = absl::StrFormat(
        "Answers: what mmsim printed for the scenario (mmsim quiz --kind=%s --seed=%u --scenario > q.mms;\n"
        "mmsim q.mms prints the same lines):\n",
        QuizKindName(kind_), seed_);
    int asked = 0;
    for (size_t i = 0; i < items_.size(); ++i) {
      const Item& it = items_[i];
      const int line = static_cast<int>(i) + 2;
      const std::vector<std::string>& lines = printed[line];
      switch (it.role) {
        case Role::kQuiet: break;
        case Role::kSetup:
          absl::StrAppend(&q.problem, lines.empty() ? absl::StrFormat("[%d] %s", line, it.stmt) : lines[0], "\n");
          break;
        case Role::kShow:
          for (const std::string& l : lines) {
            const size_t cut = it.opts.redact.empty() ? std::string::npos : l.find(it.opts.redact);
            absl::StrAppend(&q.problem, cut == std::string::npos ? l : l.substr(0, cut), "\n");
          }
          break;
        case Role::kAsk:
          absl::StrAppendFormat(&q.problem, "[%d] %s    <- Q%d\n", line, it.stmt, ++asked);
          absl::StrAppendFormat(&q.answers, "Q%d\n", asked);
          [[fallthrough]];
        case Role::kReveal:
          for (size_t j = 0; j < lines.size(); ++j) {
            bool keep = j == 0 || it.opts.keep.empty();
            for (const std::string& k : it.opts.keep) keep = keep || absl::StrContains(lines[j], k);
            if (keep) absl::StrAppend(&q.answers, "  > ", lines[j], "\n");
          }
          break;
      }
    }
    absl::StrAppend(&q.problem, "\n", question);
    return q;
  }

 private:
  struct Item {
    std::string stmt;
    Role role;
    Options opts;
  };
  QuizKind kind_;
  uint64_t seed_;
  hw::SplitMix64 rng_;
  std::vector<Item> items_;
};

using Role = QuizBuilder::Role;

absl::StatusOr<QuizText> Walk(uint64_t seed) {
  QuizBuilder b(QuizKind::kWalk, seed);
  b.AddMachine();
  b.Add("process p", Role::kSetup);
  const uint64_t a = b.RandomBase();
  // The read-only region: right after the first (same page tables) or anywhere.
  const uint64_t c = b.R(2) == 0 ? a + (5 + b.R(8)) * kPage : b.RandomBase() + (1ull << 38);
  b.Add(absl::StrFormat("p: mmap %#x 4*4K rw- private,anon,fixed", a), Role::kSetup);
  b.Add(absl::StrFormat("p: mmap %#x 2*4K r-- private,anon,fixed", c), Role::kSetup);
  bool touched[4] = {};
  touched[b.R(4)] = true;
  for (int i = 0; i < 4; ++i) {
    if (touched[i] || b.R(2) == 0) {
      touched[i] = true;
      b.Add(absl::StrFormat("p: store %#x \"page %d\"", a + i * kPage, i), Role::kSetup);
    }
  }
  const bool zero = b.R(2) == 0;  // a read of the read-only region maps the zero page
  if (zero) b.Add(absl::StrFormat("p: load %#x 8", c), Role::kSetup);
  b.Add("show maps p", Role::kShow);
  b.Add("show pagetable p", Role::kShow);
  uint64_t addr = 0;
  bool store = b.R(2) == 0;
  switch (b.R(5)) {
    case 0: {  // a present page
      int i = static_cast<int>(b.R(4));
      while (!touched[i]) i = (i + 1) % 4;
      addr = a + i * kPage;
      break;
    }
    case 1: {  // a page of the VMA never touched (if any), else the next one
      int i = static_cast<int>(b.R(4));
      for (int k = 0; k < 4 && touched[i]; ++k) i = (i + 1) % 4;
      addr = a + i * kPage;
      break;
    }
    case 2:  // the read-only region
      addr = c + (zero ? 0 : b.R(2) * kPage);
      break;
    case 3:  // right after the first region: no VMA
      addr = a + 4 * kPage;
      break;
    default:  // the zero page (when mapped), read
      addr = c;
      store = !zero && store;
      break;
  }
  addr += b.R(kPage / 8) * 8;
  b.Add(absl::StrFormat("show pagetable p %#x", addr), Role::kShow, {{}, "  -> pa"});
  b.Add("trace calls", Role::kQuiet);
  b.Add(store ? absl::StrFormat("p: store %#x \"quiz\"", addr) : absl::StrFormat("p: load %#x 8", addr),
        Role::kAsk, {{"page_fault_user", "handle_mm_fault", "do_anonymous_page", "wp_page", "signal_generate"}, ""});
  b.Add("trace off", Role::kQuiet);
  b.Add(absl::StrFormat("show pagetable p %#x", addr), Role::kReveal, {{"-> pa", "not present"}, ""});
  return b.Make(
      "Walking the page tables by hand. Process p's memory is set up as below: its maps, and its\n"
      "page tables as the kernel's ptdump shows them (present ranges, rights, the level of the\n"
      "leaf); then it makes the access marked Q1. The walk of its address shows each level's\n"
      "entry (its raw value: bit 0 P present, 1 RW writable, 2 US user, 5 A accessed, 6 D dirty,\n"
      "63 NX; bits 12..51 the frame of the next table or of the page), with the final physical\n"
      "address left out.",
      "Q1: which physical address does the access reach? If it raises a page fault: its error\n"
      "code (bit 0 P: the page was present, a protection fault; bit 1 W: a write; bit 2 U: from\n"
      "user mode), and does the kernel fix it (then: which physical address after, and which\n"
      "kernel path did it) or send SIGSEGV?\n");
}

absl::StatusOr<QuizText> Tlb(uint64_t seed) {
  QuizBuilder b(QuizKind::kTlb, seed);
  b.AddMachine(" tlb=tiny");
  b.Add("process p", Role::kSetup);
  const uint64_t base = b.RandomBase();
  const int pages = 8 + static_cast<int>(b.R(5));  // more than the STLB holds, at times
  b.Add(absl::StrFormat("p: mmap %#x %d*4K rw- private,anon,fixed", base, pages), Role::kSetup);
  std::vector<int> order(static_cast<size_t>(pages));
  for (int i = 0; i < pages; ++i) order[static_cast<size_t>(i)] = i;
  for (int i = pages - 1; i > 0; --i) std::swap(order[static_cast<size_t>(i)], order[b.R(static_cast<uint64_t>(i) + 1)]);
  for (int i : order) b.Add(absl::StrFormat("p: store %#x \"t\"", base + i * kPage), Role::kSetup);
  b.Add("show tlb 0", Role::kShow);
  b.Add("trace full", Role::kQuiet);
  for (int k = 0; k < 6; ++k) {
    const uint64_t page = b.R(static_cast<uint64_t>(pages));
    b.Add(absl::StrFormat("p: load %#x 8", base + page * kPage + b.R(kPage / 8) * 8), Role::kAsk,
          {{"tlb_hit", "tlb_miss", "tlb_fill", "tlb_evict"}, ""});
  }
  b.Add("trace off", Role::kQuiet);
  return b.Make(
      "TLB hits and misses. The machine has the `tiny` TLB profile: an L1 DTLB of 2 sets x 2 ways\n"
      "and an STLB of 2 sets x 4 ways for 4K pages, LRU replacement; a page's set is chosen by the\n"
      "low bits of its virtual page number. Process p touched its pages in the order below; the TLB\n"
      "is then as shown. Then p makes the loads marked Q1..Q6.",
      "For each load: an L1 hit, an STLB hit (and refilled into L1), or a miss (a page walk, then\n"
      "filled into both)? Which entries are evicted on the way?\n");
}

absl::StatusOr<QuizText> Cow(uint64_t seed) {
  QuizBuilder b(QuizKind::kCow, seed);
  b.AddMachine();
  b.Add("process parent", Role::kSetup);
  const uint64_t base = b.RandomBase();
  b.Add(absl::StrFormat("parent: mmap %#x 4*4K rw- private,anon,fixed", base), Role::kSetup);
  bool any = false;
  for (int i = 0; i < 4; ++i) {
    if (b.R(3) != 0 || (i == 3 && !any)) {
      any = true;
      b.Add(absl::StrFormat("parent: store %#x \"parent %d\"", base + i * kPage, i), Role::kSetup);
    }
  }
  b.Add(absl::StrFormat("show pagemap parent %#x 16K", base), Role::kShow);
  b.Add("parent: fork child", Role::kSetup);
  const int ops = 3 + static_cast<int>(b.R(3));
  for (int k = 0; k < ops; ++k) {
    const char* who = b.R(2) == 0 ? "parent" : "child";
    const uint64_t page = b.R(4);
    if (b.R(3) == 0) {
      b.Add(absl::StrFormat("%s: load %#x 8", who, base + page * kPage), Role::kSetup);
    } else {
      b.Add(absl::StrFormat("%s: store %#x \"%s %d\"", who, base + page * kPage, who, k), Role::kSetup);
    }
  }
  b.Add(absl::StrFormat("show pagemap parent %#x 16K", base), Role::kAsk);
  b.Add(absl::StrFormat("show pagemap child %#x 16K", base), Role::kAsk);
  return b.Make(
      "Copy-on-write after fork. parent maps 4 private anonymous pages and writes some of them;\n"
      "its pagemap is shown. It forks, and then parent and child write and read as listed.",
      "Q1, Q2: at the end, what does `show pagemap` print for each: which pages are present, with\n"
      "which pfn (the same pfn in both: still shared), writable or not, and each page's mapcount\n"
      "and refcount? (A never-written page that is read maps the shared zero page.)\n");
}

absl::StatusOr<QuizText> Pvm(uint64_t seed) {
  QuizBuilder b(QuizKind::kPvm, seed);
  b.AddMachine();
  const bool stranger = b.R(4) == 0;
  b.Add(stranger ? "process caller uid=1000 gid=1000 caps=none" : "process caller", Role::kSetup);
  b.Add("process target", Role::kSetup);
  const uint64_t t = b.RandomBase();
  const uint64_t l = b.RandomBase() + (1ull << 38);
  b.Add(absl::StrFormat("target: mmap %#x 4*4K rw- private,anon,fixed", t), Role::kSetup);
  b.Add(absl::StrFormat("target: fill %#x 16K pattern", t), Role::kSetup);
  const uint64_t hole = 1 + b.R(3);
  if (b.R(2) == 0) b.Add(absl::StrFormat("target: munmap %#x 4K", t + hole * kPage), Role::kSetup);
  if (b.R(4) == 0) {
    const uint64_t none = (hole + 1 + b.R(2)) % 4;
    b.Add(absl::StrFormat("target: mprotect %#x 4K ---", t + none * kPage), Role::kSetup);
  }
  b.Add(absl::StrFormat("caller: mmap %#x 4*4K rw- private,anon,fixed", l), Role::kSetup);
  b.Add("show maps target", Role::kShow);
  b.Add("show maps caller", Role::kShow);
  std::string local = "[", remote = "[";
  const int nl = 1 + static_cast<int>(b.R(2)), nr = 1 + static_cast<int>(b.R(3));
  for (int i = 0; i < nl; ++i) {
    const uint64_t off = static_cast<uint64_t>(i) * 8 * 1024 + b.R(8) * 512;
    const uint64_t len = 512 * (1 + b.R(12));
    absl::StrAppendFormat(&local, "%s%#x:%u", i ? ", " : "", l + off, std::min(len, 16 * 1024 - off));
  }
  for (int i = 0; i < nr; ++i) {
    const uint64_t off = b.R(32) * 512;
    absl::StrAppendFormat(&remote, "%s%#x:%u", i ? ", " : "", t + off, 512 * (1 + b.R(12)));
  }
  b.Add(absl::StrFormat("caller: process_vm_readv target %s] %s]", local, remote), Role::kAsk);
  return b.Make(
      "process_vm_readv(2). Two processes, their maps below; caller then calls process_vm_readv\n"
      "on target with the local iovecs (its own buffers) and remote iovecs (target's memory) in\n"
      "brackets, as ADDRESS:LENGTH. Remember: the caller needs PTRACE_MODE_ATTACH_REALCREDS\n"
      "access to the target; the copy goes in order and stops at the first remote page that\n"
      "cannot be read, returning the bytes copied so far (an error only if none were).",
      "Q1: what does the call return: a byte count, or -1 and which errno?\n");
}

}  // namespace

bool ParseQuizKind(const std::string& name, QuizKind* kind) {
  for (QuizKind k : {QuizKind::kWalk, QuizKind::kTlb, QuizKind::kCow, QuizKind::kPvm}) {
    if (name == QuizKindName(k)) {
      *kind = k;
      return true;
    }
  }
  return false;
}

const char* QuizKindName(QuizKind kind) {
  switch (kind) {
    case QuizKind::kWalk: return "walk";
    case QuizKind::kTlb: return "tlb";
    case QuizKind::kCow: return "cow";
    case QuizKind::kPvm: return "pvm";
  }
  return "?";
}

absl::StatusOr<QuizText> MakeQuiz(QuizKind kind, uint64_t seed) {
  switch (kind) {
    case QuizKind::kWalk: return Walk(seed);
    case QuizKind::kTlb: return Tlb(seed);
    case QuizKind::kCow: return Cow(seed);
    case QuizKind::kPvm: return Pvm(seed);
  }
  return absl::InvalidArgumentError("unknown quiz kind");
}

int QuizMain(int argc, char** argv) {
  auto bad = [](const std::string& flag, const std::string& why) {
    std::cerr << "mmsim quiz: bad flag --" << flag << ": " << why << "\n"
              << "usage: mmsim quiz --kind=walk|tlb|cow|pvm [--seed=N] [--solve] [--scenario]\n";
    return kExitInvalid;
  };
  std::string kind_name;
  bool have_kind = false, solve = false, print_scenario = false;
  uint64_t seed = 1;
  for (int i = 2; i < argc; ++i) {
    const std::string a = argv[i];
    if (absl::StartsWith(a, "--kind=")) {
      kind_name = a.substr(7);
      have_kind = true;
    } else if (absl::StartsWith(a, "--seed=")) {
      const std::string v = a.substr(7);
      if (v.empty() || v.find_first_not_of("0123456789") != std::string::npos || !absl::SimpleAtoi(v, &seed))
        return bad("seed", "expected a decimal number 0..18446744073709551615, got '" + v + "'");
    } else if (a == "--solve") {
      solve = true;
    } else if (a == "--scenario") {
      print_scenario = true;
    } else if (a == "--help" || a == "-h") {
      std::cout << "usage: mmsim quiz --kind=walk|tlb|cow|pvm [--seed=N] [--solve] [--scenario]\n"
                   "Prints a generated exercise (docs/quiz.md); --solve adds the answers mmsim computes,\n"
                   "--scenario prints the scenario they come from instead.\n";
      return kExitOk;
    } else {
      const std::string name = a.substr(0, a.find('='));
      return bad(absl::StartsWith(name, "--") ? name.substr(2) : name,
                 "unknown; expected --kind, --seed, --solve or --scenario");
    }
  }
  QuizKind kind;
  if (!have_kind) return bad("kind", "missing; expected walk, tlb, cow or pvm");
  if (!ParseQuizKind(kind_name, &kind)) return bad("kind", "expected walk, tlb, cow or pvm, got '" + kind_name + "'");
  absl::StatusOr<QuizText> q = MakeQuiz(kind, seed);
  if (!q.ok()) {
    std::cerr << "mmsim quiz: " << q.status().message() << "\n";
    return kExitRuntimeError;
  }
  if (print_scenario) {
    std::cout << q->scenario;
  } else {
    std::cout << q->problem;
    if (solve) std::cout << "\n" << q->answers;
  }
  return std::cout.flush() ? kExitOk : 4;
}

}  // namespace sim
