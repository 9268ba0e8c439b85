// hw/observer.h: the hardware's trace hooks.
//
// HwObserver is the one interface through which hw/ reports events: page-walk
// steps (SDM 4.5), TLB hits/misses/fills/evictions and invalidations
// (SDM 4.10), faults (SDM 4.7) and CR3 loads. sim/trace implements it; hw/
// never formats or stores events itself.
//
// Cost when nobody listens: each hook site is guarded by
//   if (ABSL_PREDICT_FALSE(observer_ != nullptr)) ...
// i.e. one predictable branch, no allocation, no virtual call.
//
// Conventions:
//   cpu    Cpu::id() of the CPU that caused the event.
//   level  for walk steps, the paging level (4 = PML4E ... 1 = PTE);
//          for TLB events, the TLB level (0 = first level / L1 DTLB,
//          1 = second level / STLB, ...).
// Hooks are called synchronously; an observer must not call back into the
// Cpu or Tlb that is reporting (it may read PhysMem).
#ifndef MMSIM_HW_OBSERVER_H_
#define MMSIM_HW_OBSERVER_H_

#include <cstdint>

#include "hw/access.h"
#include "hw/addr.h"
#include "hw/tlb_entry.h"

namespace hw {

// Why entries left the TLB other than by replacement.
enum class TlbFlushKind : uint8_t {
  kInvlpg,               // INVLPG (SDM 4.10.4.1)
  kCr3Write,             // MOV to CR3 (non-global entries of a PCID)
  kInvpcidAddr,          // INVPCID type 0: one address, one PCID
  kInvpcidSingle,        // INVPCID type 1: one PCID, non-global
  kInvpcidAllGlobal,     // INVPCID type 2: everything incl. global
  kInvpcidAllNonGlobal,  // INVPCID type 3: every PCID, non-global
  kFlushAll,             // MOV to CR4 toggling PGE / clearing PCIDE, etc.
  kPageFault,            // a #PF drops the entries for the faulting page
                         // (SDM 4.10.4.1)
};

const char* TlbFlushKindName(TlbFlushKind kind);

class HwObserver {
 public:
  virtual ~HwObserver();

  // The walker read `entry` from `entry_addr` at paging level `level`.
  virtual void OnWalkStep(int cpu, int level, PhysAddr entry_addr,
                          uint64_t entry) {}
  // A paging-structure cache answered a TLB miss for `va`: the cached entry
  // of paging level `level` (4 = PML4E, 3 = PDPTE, 2 = PDE) references
  // `table`, and the walk continues there (SDM 4.10.3.2).
  virtual void OnPscHit(int cpu, int level, VirtAddr va, PhysAddr table) {}
  virtual void OnTlbHit(int cpu, int level, VirtAddr va,
                        const TlbEntry& entry) {}
  // Every TLB level missed; a page walk follows.
  virtual void OnTlbMiss(int cpu, VirtAddr va) {}
  virtual void OnTlbFill(int cpu, int level, const TlbEntry& entry) {}
  // `entry` was replaced to make room for a fill.
  virtual void OnTlbEvict(int cpu, int level, const TlbEntry& entry) {}
  // `pcid` and `va` are meaningful for the kinds that take them.
  virtual void OnTlbFlush(int cpu, TlbFlushKind kind, uint16_t pcid,
                          VirtAddr va) {}
  virtual void OnFault(int cpu, const Fault& fault, AccessType type) {}
  virtual void OnCr3Write(int cpu, uint64_t old_cr3, uint64_t new_cr3) {}
};

}  // namespace hw

#endif  // MMSIM_HW_OBSERVER_H_
