// sim/interpreter_checks.cc: the state checks of a scenario (docs/scenario-language.md,
// "Checking the state"): `mark NAME` and `expect pte|page|tlb|vmstat|vma ...`.
//
// Each reads the machine the way the views do (Machine::Inspect, TLB Peek): no fault, no
// TLB fill, no counter moves, so a check never changes what it checks. A check that does
// not hold prints `FILE:LINE: expectation failed: expected WANT, got SEEN`, where SEEN
// describes the whole state (every flag that is set, the pfn, the raw entry), not only the
// part that differed.
#include <array>
#include <functional>
#include <optional>
#include <string>
#include <variant>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "hw/access.h"
#include "hw/cpu.h"
#include "hw/paging_entry.h"
#include "mm/arch/x86/tlb.h"
#include "mm/huge_mm.h"
#include "mm/kernel.h"
#include "mm/mm.h"
#include "mm/mmzone.h"
#include "mm/page-flags.h"
#include "mm/pagewalk.h"
#include "mm/sched.h"
#include "mm/swap.h"
#include "sim/interpreter.h"
#include "sim/scenario/format.h"
#include "sim/views.h"

namespace sim {
namespace {

using namespace scenario;  // NOLINT: the AST's many statement types

uint64_t Bit(FlagTable table, const char* name) { return uint64_t{1} << *FlagIndex(table, name); }

// Whether `have` (the bits of the flags that are set) satisfies `want`.
bool FlagsHold(const FlagCheck& want, uint64_t have) {
  return (have & want.set) == want.set && (have & want.clear) == 0;
}

// What a page-table entry is, in the terms of the pte flag table.
struct PteSeen {
  uint64_t raw = 0;
  uint64_t flags = 0;
  std::optional<uint64_t> pfn;  // present, or PROT_NONE (whose frame the kernel keeps)
};

PteSeen ReadPte(kernel::mm_struct* mm, uint64_t addr) {
  PteSeen s;
  constexpr FlagTable t = FlagTable::kPte;
  // A PMD leaf (a THP or the huge zero folio) stands where the PTE would: its bits, `huge`,
  // and the frame of the 4 KiB page at addr inside it, as pagemap reports it.
  kernel::pmd_t* pmdp = kernel::mm_find_pmd(mm, addr);
  const bool huge = pmdp != nullptr && kernel::pmd_present(*pmdp) && kernel::pmd_trans_huge(*pmdp);
  const kernel::pte_t* ptep = huge || pmdp == nullptr ? nullptr : kernel::pte_offset_map(pmdp, addr);
  s.raw = huge ? kernel::pmd_val(*pmdp) : ptep != nullptr ? kernel::pte_val(kernel::ptep_get(ptep)) : 0;
  const uint64_t e = s.raw;
  const hw::PagingEntry pe(e);
  // The frame the entry keeps (present or PROT_NONE): under a PMD leaf, that of addr's page.
  const uint64_t frame = huge ? kernel::pmd_pfn(*pmdp) + ((addr >> kernel::PAGE_SHIFT) & (kernel::HPAGE_PMD_NR - 1))
                              : kernel::pte_pfn(kernel::__pte(e));
  if (huge) {
    s.flags |= Bit(t, "huge");
    if (kernel::is_huge_zero_pmd(*pmdp)) s.flags |= Bit(t, "zero");
  }
  if (e == 0) {
    s.flags |= Bit(t, "none");
    return s;
  }
  if (pe.present()) {
    s.flags |= Bit(t, "present");
    if (pe.writable()) s.flags |= Bit(t, "writable");
    if (pe.user()) s.flags |= Bit(t, "user");
    if (pe.accessed()) s.flags |= Bit(t, "accessed");
    if (pe.dirty()) s.flags |= Bit(t, "dirty");
    if (pe.global()) s.flags |= Bit(t, "global");
    if (pe.xd()) s.flags |= Bit(t, "nx");
    if (e & kernel::_PAGE_SAVED_DIRTY) s.flags |= Bit(t, "saved_dirty");
    s.pfn = frame;
    if (!huge && kernel::is_zero_pfn(frame)) s.flags |= Bit(t, "zero");
  } else if (e & kernel::_PAGE_PROTNONE) {
    // PROT_NONE: not present to the CPU; the kernel keeps the frame (stored inverted).
    s.flags |= Bit(t, "protnone");
    if (e & kernel::_PAGE_SAVED_DIRTY) s.flags |= Bit(t, "saved_dirty");
    s.pfn = frame;
  } else {
    s.flags |= Bit(t, "swap");
  }
  return s;
}

std::string DescribePte(const PteSeen& s) {
  std::string out = absl::StrCat("pte ", FormatFlagCheck(FlagTable::kPte, FlagCheck{s.flags, 0}));
  if (s.pfn) absl::StrAppend(&out, " pfn=", FormatAddr(*s.pfn));
  absl::StrAppendFormat(&out, " (entry %#x)", s.raw);
  return out;
}

// What a struct page says, in the terms of the page flag table.
struct PageSeen {
  uint64_t flags = 0;
  int refcount = 0;
  int mapcount = 0;
};

PageSeen ReadPage(const kernel::kernel_state& ks, uint64_t pfn) {
  PageSeen s;
  // A frame whose struct page boot deferred (mm/mm_init.cc) is free and never handed out.
  if (kernel::early_page_deferred(ks.zone_normal, pfn)) return s;
  const kernel::page* p = kernel::pfn_to_page(pfn);
  constexpr FlagTable t = FlagTable::kPage;
  for (int b = 0; b < kernel::__NR_PAGEFLAGS; ++b) {
    if (p->flags & (1ul << b)) s.flags |= uint64_t{1} << b;
  }
  if (kernel::PageAnon(p)) s.flags |= Bit(t, "anon");
  if (kernel::PageBuddy(p)) s.flags |= Bit(t, "buddy");
  if (kernel::PageTable(p)) s.flags |= Bit(t, "table");
  if (kernel::PageSlab(p)) s.flags |= Bit(t, "slab");
  s.refcount = kernel::page_ref_count(p);
  s.mapcount = kernel::page_mapcount(p);
  return s;
}

// The PCID under which CPU `cpu` keeps mm's translations (its ASID slot's kern_pcid), or
// none when the CPU holds no slot for mm (then it caches nothing of it).
std::optional<uint16_t> PcidOf(const kernel::kernel_state& ks, int cpu, const kernel::mm_struct* mm) {
  const kernel::tlb_state& ts = ks.cpu_tlbstate[cpu];
  for (int asid = 0; asid < kernel::TLB_NR_DYN_ASIDS; ++asid) {
    if (ts.ctxs[asid].ctx_id == mm->context.ctx_id) return kernel::kern_pcid(static_cast<uint16_t>(asid));
  }
  return std::nullopt;
}

const char* CounterName(ExpectTlbCounter::Counter c) {
  return c == ExpectTlbCounter::Counter::kHits     ? "hits"
         : c == ExpectTlbCounter::Counter::kMisses ? "misses"
                                                   : "walks";
}

}  // namespace

Interpreter::Counters Interpreter::ReadCounters() {
  Counters c;
  for (int i = 0; i < kernel::NR_VM_STAT_ITEMS; ++i) {
    // In /proc/vmstat's units, as `show vmstat` prints them.
    c.vmstat.push_back(kernel::vmstat_shown_value(i, machine_->vmstat(static_cast<kernel::vm_stat_item>(i))));
  }
  for (int cpu = 0; cpu < machine_->num_cpus(); ++cpu) {
    const hw::Tlb& tlb = machine_->cpu(cpu).tlb();
    std::array<uint64_t, 3> v = {0, tlb.counters(0).misses, tlb.counters(tlb.num_levels() - 1).walks};
    for (int level = 0; level < tlb.num_levels(); ++level) v[0] += tlb.counters(level).hits;
    c.tlb.push_back(v);
  }
  return c;
}

bool Interpreter::On(const MarkStmt& s, std::string* /*result*/) {
  marks_[s.name] = ReadCounters();
  return true;
}

// A counter against `want`: its value, or its change since the mark.
bool Interpreter::CounterHolds(const CounterValue& want, int64_t now,
                               const std::function<int64_t(const Counters&)>& pick,
                               std::string* got) {
  if (!want.since) {
    *got = absl::StrCat(now);
    return now == want.value;
  }
  auto it = marks_.find(*want.since);
  if (it == marks_.end()) {  // the parser orders marks first; a replay could still lack one
    *got = absl::StrCat("no mark '", *want.since, "' was taken");
    return false;
  }
  const int64_t before = pick(it->second);
  const int64_t delta = now - before;
  *got = absl::StrFormat("%s%d (%d at mark %s, %d now)", delta < 0 ? "" : "+", delta, before,
                         *want.since, now);
  return delta == want.value;
}

bool Interpreter::CheckState(const ExpectStateStmt& e) {
  const SourcePos& pos = e.pos;
  Machine& m = *machine_;
  std::string want = FormatStateCheck(e.check);
  std::string got;
  bool ok = false;
  bool stop = false;  // a runtime error was reported
  auto mm_of = [&](const std::string& task) -> kernel::mm_struct* {
    std::optional<int> pid = Pid(pos, task);
    if (!pid) {
      stop = true;
      return nullptr;
    }
    kernel::task_struct* t = m.FindTask(*pid);
    if (t == nullptr || t->mm == nullptr) {
      RuntimeError(pos, absl::StrCat("task '", task, "' has no address space (it exited, or is a kthread)"));
      stop = true;
      return nullptr;
    }
    return t->mm;
  };
  auto cpu_ok = [&](uint32_t cpu) {
    if (static_cast<int>(cpu) < m.num_cpus()) return true;
    RuntimeError(pos, absl::StrFormat("no CPU %u: the machine has %d (machine cpus=N)", cpu, m.num_cpus()));
    stop = true;
    return false;
  };
  // A pfn: a number, or a name bound by `as`; nullopt (with *got set) for an unbound name.
  auto pfn_of = [&](const PfnRef& ref) -> std::optional<uint64_t> {
    if (const auto* n = std::get_if<uint64_t>(&ref)) return *n;
    const std::string& name = std::get<std::string>(ref);
    auto it = pfns_.find(name);
    if (it == pfns_.end()) {
      got = absl::StrCat("no pfn bound to '", name, "' (the pte its expect named had no frame)");
      return std::nullopt;
    }
    return it->second;
  };
  std::visit(
      [&](const auto& c) {
        using T = std::decay_t<decltype(c)>;
        if constexpr (std::is_same_v<T, ExpectPte>) {
          kernel::mm_struct* mm = mm_of(c.task);
          if (mm == nullptr) return;
          const PteSeen seen = m.Inspect([&](const kernel::kernel_state&) { return ReadPte(mm, c.addr); });
          got = DescribePte(seen);
          // `as NAME` and pfn= need a frame: a pte without one is "present" implicitly.
          ok = FlagsHold(c.flags, seen.flags) && ((!c.pfn && !c.bind) || seen.pfn.has_value());
          if (c.pfn && seen.pfn) {
            std::optional<uint64_t> pfn = pfn_of(*c.pfn);
            if (!pfn) {
              ok = false;
              return;
            }
            ok = ok && ((*seen.pfn == *pfn) != c.pfn_differs);
            if (const auto* n = std::get_if<std::string>(&*c.pfn)) {
              absl::StrAppendFormat(&want, " (%s is %s)", *n, FormatAddr(*pfn));
            }
          }
          if (c.bind && seen.pfn) pfns_[*c.bind] = *seen.pfn;
        } else if constexpr (std::is_same_v<T, ExpectPage>) {
          std::optional<uint64_t> pfn;
          if (c.pfn) {
            pfn = pfn_of(*c.pfn);
            if (!pfn) return;
          } else {
            kernel::mm_struct* mm = mm_of(c.task);
            if (mm == nullptr) return;
            const PteSeen seen = m.Inspect([&](const kernel::kernel_state&) { return ReadPte(mm, c.addr); });
            if (!(seen.flags & Bit(FlagTable::kPte, "present"))) {
              got = absl::StrCat("no page mapped there: ", DescribePte(seen));
              return;
            }
            pfn = seen.pfn;
          }
          const bool valid = m.Inspect([&](const kernel::kernel_state&) { return kernel::pfn_valid(*pfn); });
          if (!valid) {
            got = absl::StrFormat("pfn %#x is not a frame of this machine", *pfn);
            return;
          }
          const PageSeen seen = m.Inspect([&](const kernel::kernel_state& ks) { return ReadPage(ks, *pfn); });
          got = absl::StrFormat("page %s refcount=%d mapcount=%d flags=%s", FormatAddr(*pfn),
                                seen.refcount, seen.mapcount,
                                FormatFlagCheck(FlagTable::kPage, FlagCheck{seen.flags, 0}));
          ok = FlagsHold(c.flags, seen.flags) &&
               (!c.refcount || static_cast<int64_t>(*c.refcount) == seen.refcount) &&
               (!c.mapcount || static_cast<int64_t>(*c.mapcount) == seen.mapcount);
        } else if constexpr (std::is_same_v<T, ExpectTlbEntry>) {
          if (!cpu_ok(c.cpu)) return;
          kernel::mm_struct* mm = mm_of(c.task);
          if (mm == nullptr) return;
          const std::optional<uint16_t> pcid =
              m.Inspect([&](const kernel::kernel_state& ks) { return PcidOf(ks, static_cast<int>(c.cpu), mm); });
          const hw::TlbEntry* entry =
              pcid ? m.cpu(static_cast<int>(c.cpu)).tlb().Peek(hw::VirtAddr(c.addr), *pcid) : nullptr;
          if (entry != nullptr) {
            got = absl::StrCat("cached: ", entry->ToString());
          } else {
            got = pcid ? absl::StrFormat("absent (pcid %u)", *pcid)
                       : std::string("absent (the CPU holds no PCID for that mm)");
          }
          ok = (entry != nullptr) == c.cached;
        } else if constexpr (std::is_same_v<T, ExpectVmstat>) {
          int item = 0;
          while (item < kernel::NR_VM_STAT_ITEMS && c.item != kernel::vm_stat_name(item)) ++item;
          if (item == kernel::NR_VM_STAT_ITEMS) {
            Fail(pos, absl::StrCat("expected a vmstat item this kernel keeps, got '", c.item, "'"));
            stop = true;
            return;
          }
          ok = CounterHolds(c.value, kernel::vmstat_shown_value(item, m.vmstat(static_cast<kernel::vm_stat_item>(item))),
                            [item](const Counters& k) { return k.vmstat[static_cast<size_t>(item)]; },
                            &got);
        } else if constexpr (std::is_same_v<T, ExpectTlbCounter>) {
          if (!cpu_ok(c.cpu)) return;
          const size_t i = static_cast<size_t>(c.counter);
          const size_t cpu = c.cpu;
          const Counters now = ReadCounters();
          ok = CounterHolds(c.value, static_cast<int64_t>(now.tlb[cpu][i]),
                            [cpu, i](const Counters& k) { return static_cast<int64_t>(k.tlb[cpu][i]); },
                            &got);
          got = absl::StrCat(CounterName(c.counter), " ", got);
        } else if constexpr (std::is_same_v<T, ExpectVma>) {
          kernel::mm_struct* mm = mm_of(c.task);
          if (mm == nullptr) return;
          struct VmaSeen {
            bool found = false;
            uint64_t start = 0, end = 0, flags = 0;
            uint32_t prot = 0;
          };
          const VmaSeen seen = m.Inspect([&](const kernel::kernel_state&) {
            VmaSeen v;
            const kernel::vm_area_struct* vma = kernel::vma_lookup(mm, c.addr);
            if (vma == nullptr) return v;
            v.found = true;
            v.start = vma->vm_start;
            v.end = vma->vm_end;
            const std::vector<std::string>& names = FlagNames(FlagTable::kVma);
            for (const VmFlagMnemonic& mn : VmFlagMnemonics()) {
              if (!(vma->vm_flags & mn.flag)) continue;
              for (size_t b = 0; b < names.size(); ++b) {
                if (names[b] == mn.name) v.flags |= uint64_t{1} << b;
              }
            }
            v.prot = ((vma->vm_flags & kernel::VM_READ) ? Prot::kRead : 0) |
                     ((vma->vm_flags & kernel::VM_WRITE) ? Prot::kWrite : 0) |
                     ((vma->vm_flags & kernel::VM_EXEC) ? Prot::kExec : 0);
            return v;
          });
          if (!seen.found) {
            got = "no VMA there";
            ok = c.none;
            return;
          }
          got = absl::StrFormat("vma start=%s end=%s prot=%s flags=%s", FormatAddr(seen.start),
                                FormatAddr(seen.end), FormatProt(Prot{seen.prot}),
                                FormatFlagCheck(FlagTable::kVma, FlagCheck{seen.flags, 0}));
          ok = !c.none && (!c.start || *c.start == seen.start) && (!c.end || *c.end == seen.end) &&
               (!c.prot || c.prot->bits == seen.prot) && FlagsHold(c.flags, seen.flags);
        } else if constexpr (std::is_same_v<T, ExpectFault>) {
          struct FaultSeen {
            uint64_t count = 0, addr = 0;
            uint32_t error = 0;
          } seen;
          if (c.task.empty()) {
            if (!cpu_ok(c.cpu)) return;
            const hw::Cpu& cpu = m.cpu(static_cast<int>(c.cpu));
            seen = {cpu.pf_count(), cpu.cr2(), cpu.pf_error_code()};
          } else {
            std::optional<int> pid = Pid(pos, c.task);
            if (!pid) {
              stop = true;
              return;
            }
            seen = m.Inspect([&](const kernel::kernel_state&) {
              const kernel::task_struct* t = m.FindTask(*pid);
              return t == nullptr ? FaultSeen{}
                                  : FaultSeen{t->nr_pf, t->last_pf_addr,
                                              static_cast<uint32_t>(t->last_pf_error_code)};
            });
          }
          if (seen.count == 0) {
            got = "no page fault yet";
            ok = c.none;
            return;
          }
          got = absl::StrFormat("fault addr=%s error=%s (%d page faults so far)", FormatAddr(seen.addr),
                                hw::PfErrorCodeToString(seen.error), seen.count);
          ok = !c.none && (!c.addr || *c.addr == seen.addr) && (!c.error || *c.error == seen.error);
        }
      },
      e.check);
  if (stop) return false;
  ReportExpect(pos, Statement(e), ok, want, got);
  return true;
}

}  // namespace sim
