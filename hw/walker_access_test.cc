// hw/walker_access_test.cc: the exhaustive access-rights matrix.
//
// In the spirit of kvm-unit-tests x86/access.c: for every leaf size (4K, 2M,
// 1G), every combination of U/S, R/W and XD in every paging-structure entry
// on the path, under every combination of CPL 0/3, CR0.WP, EFER.NXE,
// CR4.SMEP, CR4.SMAP and RFLAGS.AC, for reads, writes and fetches, the walker
// must produce exactly the outcome of the reference below: success or #PF
// with the exact error code, A set on every level and D on the leaf only on
// success (D only for writes), nothing changed on a fault.
//
// The reference is written independently of access_rights.h: it branches on
// the kind of page first (user-mode vs supervisor-mode address, SDM 4.6)
// instead of on the access type, and it derives the error code from SDM 4.7
// directly.
#include <cstdint>
#include <string>

#include "absl/strings/str_format.h"
#include "gtest/gtest.h"
#include "hw/access.h"
#include "hw/access_rights.h"
#include "hw/addr.h"
#include "hw/page_table_builder.h"
#include "hw/paging_entry.h"
#include "hw/phys_mem.h"
#include "hw/walker.h"

namespace hw {
namespace {

using E = PagingEntry;

struct Config {
  bool cpl3 = false;
  bool wp = false;
  bool nxe = false;
  bool smep = false;
  bool smap = false;
  bool ac = false;
  AccessType type = AccessType::kRead;
};

struct Expected {
  bool fault;
  uint32_t error_code;
};

// us/rw/xd: bit i = the flag in the entry at depth i (0 = PML4E).
Expected Reference(int levels, unsigned us, unsigned rw, unsigned xd,
                   const Config& c) {
  const unsigned all = (1u << levels) - 1;
  const bool write = c.type == AccessType::kWrite;
  const bool fetch = c.type == AccessType::kFetch;
  uint32_t ec = 0;
  if (write) ec |= 2;                      // W/R
  if (c.cpl3) ec |= 4;                     // U/S
  if (fetch && (c.nxe || c.smep)) ec |= 16;  // I/D
  // XD set anywhere with NXE = 0 is a reserved-bit violation.
  if (!c.nxe && xd != 0) return {true, ec | 1 | 8};

  const bool user_page = us == all;
  const bool writable = rw == all;
  const bool no_exec = c.nxe && xd != 0;
  bool ok;
  if (user_page) {
    if (c.cpl3) {
      ok = fetch ? !no_exec : (!write || writable);
    } else if (fetch) {
      ok = !c.smep && !no_exec;
    } else {
      const bool smap_denies = c.smap && !c.ac;
      ok = !smap_denies && (!write || writable || !c.wp);
    }
  } else {
    if (c.cpl3) {
      ok = false;
    } else if (fetch) {
      ok = !no_exec;
    } else {
      ok = !write || writable || !c.wp;
    }
  }
  return ok ? Expected{false, 0} : Expected{true, ec | 1};
}

std::string Describe(PageSize size, unsigned us, unsigned rw, unsigned xd,
                     const Config& c) {
  return absl::StrFormat(
      "leaf=%s us=%x rw=%x xd=%x cpl=%d wp=%d nxe=%d smep=%d smap=%d ac=%d %s",
      PageSizeName(size), us, rw, xd, c.cpl3 ? 3 : 0, c.wp, c.nxe, c.smep,
      c.smap, c.ac, AccessTypeName(c.type));
}

class AccessMatrixTest : public ::testing::TestWithParam<PageSize> {};

TEST_P(AccessMatrixTest, WalkerMatchesReference) {
  const PageSize size = GetParam();
  const int levels = size == PageSize::k4K ? 4 : size == PageSize::k2M ? 3 : 2;
  PhysMem mem(4 << 20);
  PageTableBuilder b(&mem, Pfn(1));
  const VirtAddr va(0x0000'7f12'3456'7abcull & ~(PageBytesOf(size) - 1));
  const PhysAddr frame(size == PageSize::k1G ? 0x4000'0000 : 0x20'0000);
  b.Map(va, frame, size, 0, 0);
  PhysAddr entry_addr[4];
  uint64_t base[4];
  for (int i = 0; i < levels; ++i) {
    entry_addr[i] = b.EntryAddr(va, 4 - i);
    // Keep P (and PS for the large leaf) and the address; rights come below.
    base[i] = mem.ReadU64(entry_addr[i]) & ~(E::kRW | E::kUS | E::kXD);
  }
  const VirtAddr probe = va + 0x123;

  int failures = 0;
  uint64_t checked = 0;
  const unsigned combos = 1u << levels;
  for (unsigned us = 0; us < combos; ++us) {
    for (unsigned rw = 0; rw < combos; ++rw) {
      for (unsigned xd = 0; xd < combos; ++xd) {
        for (unsigned m = 0; m < 64 * 3; ++m) {
          const Config c{.cpl3 = (m & 1) != 0,
                         .wp = (m & 2) != 0,
                         .nxe = (m & 4) != 0,
                         .smep = (m & 8) != 0,
                         .smap = (m & 16) != 0,
                         .ac = (m & 32) != 0,
                         .type = static_cast<AccessType>(m / 64)};
          uint64_t written[4];
          for (int i = 0; i < levels; ++i) {
            written[i] = base[i] | ((us >> i) & 1 ? E::kUS : 0) |
                         ((rw >> i) & 1 ? E::kRW : 0) |
                         ((xd >> i) & 1 ? E::kXD : 0);
            mem.WriteU64(entry_addr[i], written[i]);
          }
          const PagingMode mode{.user = c.cpl3, .wp = c.wp, .nxe = c.nxe,
                                .smep = c.smep, .smap = c.smap, .ac = c.ac,
                                .maxphyaddr = mem.maxphyaddr()};
          const WalkResult r = Walk(mem, b.cr3(), probe, c.type, mode, nullptr);
          const Expected want = Reference(levels, us, rw, xd, c);
          ++checked;

          bool bad = false;
          std::string why;
          if (want.fault) {
            if (!r.fault.page_fault() || r.fault.error_code != want.error_code ||
                r.fault.cr2 != probe.value()) {
              bad = true;
              why = absl::StrFormat("want #PF(%s), got %s",
                                    PfErrorCodeToString(want.error_code),
                                    FaultToString(r.fault));
            }
            for (int i = 0; i < levels && !bad; ++i) {
              if (mem.ReadU64(entry_addr[i]) != written[i]) {
                bad = true;
                why = absl::StrFormat("entry %d changed on a fault", i);
              }
            }
          } else {
            if (!r.ok()) {
              bad = true;
              why = "want success, got " + FaultToString(r.fault);
            } else if (r.PhysFor(probe) != frame + 0x123 || r.size != size) {
              bad = true;
              why = "wrong translation";
            }
            for (int i = 0; i < levels && !bad; ++i) {
              const bool leaf = i == levels - 1;
              uint64_t expect = written[i] | E::kA;
              if (leaf && c.type == AccessType::kWrite) expect |= E::kD;
              if (mem.ReadU64(entry_addr[i]) != expect) {
                bad = true;
                why = absl::StrFormat("entry %d is %#x, want %#x", i,
                                      mem.ReadU64(entry_addr[i]), expect);
              }
            }
          }
          if (bad) {
            ADD_FAILURE() << Describe(size, us, rw, xd, c) << ": " << why;
            if (++failures >= 20) return;
          }
        }
      }
    }
  }
  // 4K: 16*16*16 table settings x 64 modes x 3 types.
  EXPECT_EQ(checked, uint64_t{combos} * combos * combos * 64 * 3);
}

INSTANTIATE_TEST_SUITE_P(AllLeafSizes, AccessMatrixTest,
                         ::testing::Values(PageSize::k4K, PageSize::k2M,
                                           PageSize::k1G),
                         [](const ::testing::TestParamInfo<PageSize>& p) {
                           return std::string("Leaf") + PageSizeName(p.param);
                         });

// A few rows of the matrix spelled out, so a reader can check the reference
// against the SDM by eye.
TEST(AccessMatrixReferenceTest, SpotChecks) {
  const Config user_write{.cpl3 = true, .type = AccessType::kWrite};
  EXPECT_EQ(Reference(4, 0xf, 0xf, 0, user_write).fault, false);
  EXPECT_EQ(Reference(4, 0xf, 0x7, 0, user_write).error_code, 0x7u);  // P|W|U
  EXPECT_EQ(Reference(4, 0xe, 0xf, 0, user_write).error_code, 0x7u);
  Config smep_fetch{.smep = true, .type = AccessType::kFetch};
  EXPECT_EQ(Reference(4, 0xf, 0, 0, smep_fetch).error_code, 0x11u);  // P|I
  EXPECT_EQ(Reference(4, 0x7, 0, 0, smep_fetch).fault, false);
  Config nx_read{.type = AccessType::kRead};
  EXPECT_EQ(Reference(4, 0, 0, 0x1, nx_read).error_code, 0x9u);  // P|RSVD
}

}  // namespace
}  // namespace hw
