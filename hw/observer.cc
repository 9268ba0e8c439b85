// hw/observer.cc: out-of-line anchor for HwObserver's vtable.
#include "hw/observer.h"

namespace hw {

HwObserver::~HwObserver() = default;

const char* TlbFlushKindName(TlbFlushKind kind) {
  switch (kind) {
    case TlbFlushKind::kInvlpg:
      return "invlpg";
    case TlbFlushKind::kCr3Write:
      return "cr3-write";
    case TlbFlushKind::kInvpcidAddr:
      return "invpcid-addr";
    case TlbFlushKind::kInvpcidSingle:
      return "invpcid-single";
    case TlbFlushKind::kInvpcidAllGlobal:
      return "invpcid-all-global";
    case TlbFlushKind::kInvpcidAllNonGlobal:
      return "invpcid-all-nonglobal";
    case TlbFlushKind::kFlushAll:
      return "flush-all";
    case TlbFlushKind::kPageFault:
      return "page-fault";
  }
  return "?";
}

}  // namespace hw
