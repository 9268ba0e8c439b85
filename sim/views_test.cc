// sim/views_test.cc: the views that say what they mirror: the raw pagemap entry beside the
// decoded one, the kernel half of the page tables, the DOT graph of several tasks.
#include <sstream>
#include <string>

#include "gtest/gtest.h"
#include "sim/interpreter.h"
#include "sim/scenario/parser.h"

namespace sim {
namespace {

std::string RunScenario(const std::string& text) {
  absl::StatusOr<scenario::Scenario> s = scenario::ParseScenario(text, "v.mms");
  EXPECT_TRUE(s.ok()) << s.status();
  std::ostringstream out, err;
  Interpreter interp(InterpreterOptions{}, out, err);
  EXPECT_EQ(interp.Run(*s), kExitOk) << out.str() << err.str();
  return out.str();
}

// The line of `out` that starts with `prefix` (after the statement `after`).
std::string LineAfter(const std::string& out, const std::string& after, const std::string& prefix) {
  size_t at = out.find(after);
  if (at == std::string::npos) return "";
  at = out.find("\n" + prefix, at);
  if (at == std::string::npos) return "";
  return out.substr(at + 1, out.find('\n', at + 1) - at - 1);
}

constexpr char kForked[] =
    "machine memory=16M cpus=2\n"
    "process p\n"
    "p: mmap 0x10000000 8K rw- private,anon\n"
    "p: fill 0x10000000 4K 0x11\n"
    "show pagemap p 0x10000000 8K\n"
    "p: fork c\n"
    "show pagemap p 0x10000000 4K\n"
    "c: store 0x10000000 \"x\"\n"
    "show pagemap p 0x10000000 4K\n"
    "show pagemap c 0x10000000 4K\n";

TEST(Pagemap, RawEntryFollowsTheKernelBitLayout) {
  const std::string out = RunScenario(kForked);
  // Before the fork: present (63), exclusively mapped (56), soft-dirty (55, a new page's
  // PTE is soft-dirty), anon (61 clear), pfn in bits 0-54; PG_anon_exclusive is set.
  const std::string before = LineAfter(out, "[5] show pagemap", "0x000010000000");
  EXPECT_EQ(before.substr(0, 37), "0x000010000000  pm=0x818000000000000a") << out;
  EXPECT_NE(before.find("[present,exclusively-mapped,soft-dirty]"), std::string::npos) << before;
  EXPECT_NE(before.find("anon_exclusive"), std::string::npos) << before;
  // A hole in the VMA: all zero (the port sets no VM_SOFTDIRTY on new VMAs).
  EXPECT_EQ(LineAfter(out, "[5] show pagemap", "0x000010001000").substr(0, 41),
            "0x000010001000  pm=0x0000000000000000 [-]");
  // After the fork the page is mapped twice: bit 56 clear; PG_anon_exclusive cleared too.
  const std::string shared = LineAfter(out, "[7] show pagemap", "0x000010000000");
  EXPECT_EQ(shared.substr(0, 37), "0x000010000000  pm=0x808000000000000a") << shared;
  EXPECT_EQ(shared.find("exclusive"), std::string::npos) << shared;
  EXPECT_NE(shared.find("mapcount=2"), std::string::npos) << shared;
  // The child's write copied: the parent's page is mapped once again (bit 56 set) though
  // still not PG_anon_exclusive; the child's copy is both.
  const std::string parent = LineAfter(out, "[9] show pagemap", "0x000010000000");
  EXPECT_NE(parent.find("[present,exclusively-mapped,soft-dirty]"), std::string::npos) << parent;
  EXPECT_EQ(parent.find("anon_exclusive"), std::string::npos) << parent;
  const std::string child = LineAfter(out, "[10] show pagemap", "0x000010000000");
  EXPECT_NE(child.find("exclusively-mapped"), std::string::npos) << child;
  EXPECT_NE(child.find("anon_exclusive"), std::string::npos) << child;
}

TEST(Pagemap, FilePageSetsBit61) {
  const std::string out = RunScenario(
      "machine memory=16M cpus=1\n"
      "file f size=4K\n"
      "process p\n"
      "p: mmap 0x20000000 4K r-- shared file=f\n"
      "p: load 0x20000000 1\n"
      "show pagemap p 0x20000000 4K\n");
  const std::string line = LineAfter(out, "[6] show pagemap", "0x000020000000");
  // A page-cache page: bit 61 (file/shared-anon) and 63.
  EXPECT_NE(line.find("[present,file/shared-anon,exclusively-mapped"), std::string::npos) << out;
  EXPECT_EQ(line.substr(16, 6), "pm=0xa") << line;  // 0xa...: bits 63 and 61
}

TEST(Pagetable, KernelHalfShowsTheDirectMapCompactly) {
  const std::string out = RunScenario(
      "process p\n"
      "p: mmap 0x10000000 4K rw- private,anon\n"
      "p: fill 0x10000000 4K 0x11\n"
      "show pagetable p\n");
  // The user half ends before the kernel half, which is not merged into it.
  EXPECT_NE(out.find("0x0000000010000000-0x0000000010001000        4K RW USR NX pte\n"
                     "---[ Kernel Space, PML4 entries 256-511 (swapper_pg_dir's) ]---\n"),
            std::string::npos)
      << out;
  // PGD slot 273 points at swapper_pg_dir's PDPT in frame 3 (docs/semantics.md §14 K2);
  // its 256 MiB (the default machine) are 128 2 MiB leaves, one line: global, NX, no user.
  EXPECT_NE(out.find("[273] 0xffff888000000000  0x0000000000003067  pfn=0x3 P|RW|USR|A|D -> PDPT @pa 0x3000 "
                     "(direct map)\n"
                     "0xffff888000000000-0xffff888010000000      256M RW     NX pmd GLB\n"),
            std::string::npos)
      << out;
  // No other kernel slot, and nothing after the direct map.
  EXPECT_EQ(out.find("[274]"), std::string::npos) << out;
  EXPECT_EQ(out.find("[511]"), std::string::npos) << out;
}

TEST(Pagetable, KernelHalfUses1GLeavesOnBigMachines) {
  // 3 GiB + 2 MiB: three 1 GiB leaves in the PDPT, then one 2 MiB leaf in a PD.
  const std::string out = RunScenario(
      "machine memory=3074M\n"
      "process p\n"
      "show pagetable p\n");
  EXPECT_NE(out.find("0xffff888000000000-0xffff8880c0000000        3G RW     NX pud GLB\n"
                     "0xffff8880c0000000-0xffff8880c0200000        2M RW     NX pmd GLB\n"),
            std::string::npos)
      << out;
}

TEST(Dot, SeveralTasksWithRangesFlagsAndTheKernelHalf) {
  const std::string out = RunScenario(std::string(kForked) + "show dot p c\n");
  const size_t at = out.find("[11] show dot p c\n");
  ASSERT_NE(at, std::string::npos) << out;
  const std::string dot = out.substr(at + 18);
  EXPECT_EQ(dot.rfind("digraph pagetables {\n", 0), 0u) << dot;
  // One box per task, each pointing at its own PML4.
  EXPECT_NE(dot.find("[shape=box, label=\"p (pid 4)\\ncr3 -> pgd @pa "), std::string::npos) << dot;
  EXPECT_NE(dot.find("[shape=box, label=\"c (pid 5)\\ncr3 -> pgd @pa "), std::string::npos) << dot;
  // Each PT entry: its virtual range, its frame and its bits; the parent's PTE is read-only
  // (no RW) after the fork, the child's copy writable.
  EXPECT_NE(dot.find("[0] 0x10000000-0x10000fff -\\> pfn 0xa P USR A SOFT_DIRTY SAVED_DIRTY NX"),
            std::string::npos) << dot;
  EXPECT_NE(dot.find("[0] 0x10000000-0x10000fff -\\> pfn 0xf P RW USR A D SOFT_DIRTY NX"),
            std::string::npos) << dot;
  // The kernel half: slot 273 of each PML4 points at swapper_pg_dir's PDPT (frame 3), which
  // is drawn once, shared; its 16 MiB of direct map are one field: eight global 2 MiB leaves.
  EXPECT_NE(dot.find("<e273> [273] 0xffff888000000000-0xffff88ffffffffff -\\> PDPT 0x3000 P RW USR A D "
                     "(direct map)"),
            std::string::npos) << dot;
  size_t edges = 0;
  for (size_t p = dot.find(":e273 -> t3000;"); p != std::string::npos; p = dot.find(":e273 -> t3000;", p + 1))
    ++edges;
  EXPECT_EQ(edges, 2u) << dot;
  size_t nodes = 0;
  for (size_t p = dot.find("  t3000 [label="); p != std::string::npos; p = dot.find("  t3000 [label=", p + 1)) ++nodes;
  EXPECT_EQ(nodes, 1u) << dot;
  EXPECT_NE(dot.find("PD @pa 0x4000 (kernel half, shared)|<e0> [0-7] 0xffff888000000000-0xffff888000ffffff "
                     "-\\> pfn 0-0xfff P RW A D PSE G NX 2M x8"),
            std::string::npos) << dot;
  EXPECT_NE(dot.find("\n}\n"), std::string::npos);
}

// A page under a PMD leaf and a page of the same THP once its PMD is split: one description
// (mapcount, the folio's refcount, PG_anon_exclusive), with the pincount and thp(pmd) for the
// leaf and thp(pte) after the split.
TEST(Pagemap, HugePageBeforeAndAfterItsPmdIsSplit) {
  const std::string out = RunScenario(
      "machine memory=64M cpus=1 thp=always\n"
      "process p\n"
      "p: mmap 0 2M rw- private,anon\n"
      "p: fill 0x7ffff7c00000 2M 0x5a\n"
      "show pagemap p 0x7ffff7c01000 4K\n"
      "p: munmap 0x7ffff7c00000 4K\n"
      "show pagemap p 0x7ffff7c01000 4K\n");
  const std::string leaf = LineAfter(out, "[5] show pagemap", "0x7ffff7c01000");
  EXPECT_NE(leaf.find(" rw dirty thp(pmd) anon mapcount=1 refcount=1 pincount=0 anon_exclusive"),
            std::string::npos) << out;
  // After the split the other 511 pages are PTE-mapped, each with its own PG_anon_exclusive;
  // the folio's refcount is one per mapped page.
  const std::string pte = LineAfter(out, "[7] show pagemap", "0x7ffff7c01000");
  EXPECT_NE(pte.find(" rw dirty anon mapcount=1 refcount=511 anon_exclusive thp(pte)"), std::string::npos)
      << out;
}

}  // namespace
}  // namespace sim
