// sim/maps_format_test.cc: `show maps` (sim/views.cc ShowMaps) against the host kernel's
// /proc/PID/maps byte layout.
//
// KernelMapsLine below writes one line the way fs/proc/task_mmu.c does
// (show_vma_header_prefix + seq_pad): "%08lx-%08lx %c%c%c%c %08llx %02x:%02x %lu ", then,
// for a named mapping, spaces up to column 72, one more space and the name. The test
//  1. makes real mappings in this process (anonymous rw-, read-only, PROT_NONE, a private
//     file mapping at an offset, a shared file mapping; [stack] is there already) and
//     checks that every line of the host's /proc/self/maps is exactly KernelMapsLine of
//     its own fields, so the reference is the kernel's layout and not our reading of it;
//  2. makes the same layout in the simulator, and checks that every line ShowMaps prints
//     is KernelMapsLine of its fields, with the same addresses, permissions and offsets
//     as the host's lines for the same mappings;
//  3. pins ShowMaps's text for that layout (a golden).
#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <map>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "gtest/gtest.h"
#include "sim/interpreter.h"
#include "sim/scenario/parser.h"

namespace sim {
namespace {

// One /proc/PID/maps line, split into its fields.
struct MapsFields {
  uint64_t start = 0, end = 0;
  std::string perms;  // "rw-p"
  uint64_t offset = 0;
  unsigned major = 0, minor = 0;
  uint64_t inode = 0;
  std::string name;  // empty for an unnamed mapping
};

// The kernel's rendering of `f` (fs/proc/task_mmu.c: show_vma_header_prefix, show_map_vma).
std::string KernelMapsLine(const MapsFields& f) {
  std::string line = absl::StrFormat("%08x-%08x %s %08x %02x:%02x %u ", f.start, f.end, f.perms,
                                     f.offset, f.major, f.minor, f.inode);
  if (!f.name.empty()) {
    // seq_setwidth(m, 25 + sizeof(void *) * 6 - 1), then seq_pad(m, ' '): spaces up to
    // the width, then one more.
    constexpr size_t kWidth = 25 + sizeof(void*) * 6 - 1;
    if (line.size() < kWidth) line.append(kWidth - line.size(), ' ');
    absl::StrAppend(&line, " ", f.name);
  }
  return line;
}

// Splits a line into fields; nullopt if it is not a maps line at all.
std::optional<MapsFields> ParseMapsLine(const std::string& line) {
  std::vector<std::string> w = absl::StrSplit(line, absl::MaxSplits(' ', 5));
  if (w.size() != 6) return std::nullopt;
  MapsFields f;
  std::vector<std::string> range = absl::StrSplit(w[0], '-');
  std::vector<std::string> dev = absl::StrSplit(w[3], ':');
  if (range.size() != 2 || dev.size() != 2) return std::nullopt;
  uint32_t major = 0, minor = 0;
  if (!absl::SimpleHexAtoi(range[0], &f.start) || !absl::SimpleHexAtoi(range[1], &f.end) ||
      !absl::SimpleHexAtoi(w[2], &f.offset) || !absl::SimpleHexAtoi(dev[0], &major) ||
      !absl::SimpleHexAtoi(dev[1], &minor)) {
    return std::nullopt;
  }
  f.major = major;
  f.minor = minor;
  f.perms = w[1];
  // After the inode's trailing space: nothing (unnamed), or padding and the name.
  if (!absl::SimpleAtoi(w[4], &f.inode)) return std::nullopt;
  const size_t name = w[5].find_first_not_of(' ');
  if (name != std::string::npos) f.name = w[5].substr(name);
  return f;
}

std::vector<std::string> Lines(const std::string& text) {
  std::vector<std::string> out = absl::StrSplit(text, '\n');
  if (!out.empty() && out.back().empty()) out.pop_back();
  return out;
}

// The layout both sides build, above ASan's shadow and far from the heap and libraries.
constexpr uint64_t kBase = 0x200000000000;
constexpr uint64_t kPage = 4096;
struct Piece {
  uint64_t addr, pages;
  int prot;
  bool file, shared;
  uint64_t file_offset;
};
constexpr Piece kLayout[] = {
    {kBase, 2, PROT_READ | PROT_WRITE, false, false, 0},           // anonymous rw-p
    {kBase + 0x10000, 1, PROT_READ, false, false, 0},              // read-only
    {kBase + 0x20000, 3, PROT_NONE, false, false, 0},              // PROT_NONE
    {kBase + 0x30000, 2, PROT_READ, true, false, 2 * kPage},       // private file, offset
    {kBase + 0x40000, 1, PROT_READ | PROT_WRITE, true, true, 0},  // shared file
    // The interpreter's iovec area (Machine::kIovecBase), which every scenario process has
    // and a host runner maps the same way; the scenario's own mmap of it replaces it.
    {Machine::kIovecBase, Machine::kIovecAreaSize / kPage, PROT_READ | PROT_WRITE, false, false, 0},
};

std::string ProtLetters(int prot) {
  return absl::StrCat((prot & PROT_READ) ? "r" : "-", (prot & PROT_WRITE) ? "w" : "-",
                      (prot & PROT_EXEC) ? "x" : "-");
}

// The simulator's ShowMaps for kLayout, through the scenario language.
std::string SimMaps() {
  std::string text =
      "machine memory=64M cpus=1 seed=1\n"
      "file backing size=16K data=repeat(16K,1)\n"
      "process p\n";
  for (const Piece& p : kLayout) {
    absl::StrAppendFormat(&text, "p: mmap %#x %d %s %s%s\n", p.addr, p.pages * kPage,
                          ProtLetters(p.prot), p.shared ? "shared" : "private",
                          p.file ? absl::StrFormat(",fixed file=backing offset=%d", p.file_offset)
                                 : std::string(",anon,fixed"));
  }
  text += "show maps p\n";
  absl::StatusOr<scenario::Scenario> s = scenario::ParseScenario(text, "maps.mms");
  EXPECT_TRUE(s.ok()) << s.status() << "\n" << text;
  if (!s.ok()) return "";
  std::ostringstream out, err;
  Interpreter interp(InterpreterOptions{}, out, err);
  EXPECT_EQ(interp.Run(*s), kExitOk) << out.str() << err.str();
  // Keep only the view's lines: drop the statement echoes ("[N] ...") and the summary.
  std::string maps;
  for (const std::string& line : Lines(out.str())) {
    if (!line.empty() && line[0] != '[' && line[0] != '#') absl::StrAppend(&maps, line, "\n");
  }
  return maps;
}

// The host kernel's /proc/self/maps with kLayout mapped (and unmapped again after).
class HostLayout {
 public:
  HostLayout() {
    const char* tmp = std::getenv("TEST_TMPDIR");
    path_ = absl::StrCat(tmp != nullptr ? tmp : "/tmp", "/maps_format_test.data");
    fd_ = open(path_.c_str(), O_RDWR | O_CREAT | O_TRUNC, 0600);
    if (fd_ < 0 || ftruncate(fd_, 4 * kPage) != 0) {
      error_ = absl::StrCat("cannot create ", path_, ": errno ", errno);
      return;
    }
    for (const Piece& p : kLayout) {
      const int flags = (p.shared ? MAP_SHARED : MAP_PRIVATE) | MAP_FIXED_NOREPLACE |
                        (p.file ? 0 : MAP_ANONYMOUS);
      void* a = mmap(reinterpret_cast<void*>(p.addr), p.pages * kPage, p.prot, flags,
                     p.file ? fd_ : -1, static_cast<off_t>(p.file_offset));
      if (a != reinterpret_cast<void*>(p.addr)) {
        error_ = absl::StrFormat("host mmap at %#x failed: errno %d", p.addr, errno);
        return;
      }
      mapped_.push_back(p);
    }
  }
  ~HostLayout() {
    for (const Piece& p : mapped_) munmap(reinterpret_cast<void*>(p.addr), p.pages * kPage);
    if (fd_ >= 0) close(fd_);
    unlink(path_.c_str());
  }
  const std::string& error() const { return error_; }
  const std::string& path() const { return path_; }
  std::string Maps() const {
    std::ifstream in("/proc/self/maps", std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
  }

 private:
  std::string path_, error_;
  int fd_ = -1;
  std::vector<Piece> mapped_;
};

TEST(MapsFormat, HostKernelLinesAreKernelMapsLine) {
  HostLayout host;
  ASSERT_TRUE(host.error().empty()) << host.error();
  const std::vector<std::string> lines = Lines(host.Maps());
  ASSERT_GT(lines.size(), 5u);
  int named = 0, unnamed = 0, stack = 0;
  for (const std::string& line : lines) {
    std::optional<MapsFields> f = ParseMapsLine(line);
    ASSERT_TRUE(f.has_value()) << "not a maps line: '" << line << "'";
    EXPECT_EQ(KernelMapsLine(*f), line);
    (f->name.empty() ? unnamed : named)++;
    if (f->name == "[stack]") ++stack;
  }
  // Both kinds were compared, [stack] among them.
  EXPECT_GT(named, 0);
  EXPECT_GT(unnamed, 0);
  EXPECT_EQ(stack, 1);
}

TEST(MapsFormat, SimLinesMatchTheHostLayoutForTheSameMappings) {
  HostLayout host;
  ASSERT_TRUE(host.error().empty()) << host.error();
  std::map<uint64_t, MapsFields> host_by_start;
  std::optional<MapsFields> host_stack;
  for (const std::string& line : Lines(host.Maps())) {
    std::optional<MapsFields> f = ParseMapsLine(line);
    ASSERT_TRUE(f.has_value()) << line;
    host_by_start[f->start] = *f;
    if (f->name == "[stack]") host_stack = f;
  }
  ASSERT_TRUE(host_stack.has_value());

  const std::vector<std::string> sim_lines = Lines(SimMaps());
  ASSERT_EQ(sim_lines.size(), std::size(kLayout) + 1) << SimMaps();  // + [stack]
  bool saw_stack = false;
  for (const std::string& line : sim_lines) {
    std::optional<MapsFields> f = ParseMapsLine(line);
    ASSERT_TRUE(f.has_value()) << "not a maps line: '" << line << "'";
    // The byte layout: the kernel's rendering of the simulator's own fields.
    EXPECT_EQ(KernelMapsLine(*f), line);
    if (f->name == "[stack]") {
      saw_stack = true;
      EXPECT_EQ(f->perms, host_stack->perms);
      EXPECT_EQ(f->offset, host_stack->offset);
      continue;
    }
    // The values the layout fixes agree with the host's line for the same mapping; the
    // device, inode and file name are the host's own.
    auto h = host_by_start.find(f->start);
    ASSERT_NE(h, host_by_start.end()) << "no host mapping at " << line;
    EXPECT_EQ(f->end, h->second.end) << line;
    EXPECT_EQ(f->perms, h->second.perms) << line;
    EXPECT_EQ(f->offset, h->second.offset) << line;
    EXPECT_EQ(f->name.empty(), h->second.name.empty()) << line << "\nhost: " << h->second.name;
    if (!f->name.empty()) {
      EXPECT_EQ(h->second.name, host.path());
    }
    EXPECT_EQ(f->inode == 0, h->second.inode == 0) << line;
  }
  EXPECT_TRUE(saw_stack);
}

TEST(MapsFormat, Golden) {
  EXPECT_EQ(SimMaps(),
            "200000000000-200000002000 rw-p 00000000 00:00 0 \n"
            "200000010000-200000011000 r--p 00000000 00:00 0 \n"
            "200000020000-200000023000 ---p 00000000 00:00 0 \n"
            "200000030000-200000032000 r--p 00002000 00:00 1                          /backing\n"
            "200000040000-200000041000 rw-s 00000000 00:00 1                          /backing\n"
            "7e0000000000-7e0000020000 rw-p 00000000 00:00 0 \n"
            "7ffffffdf000-7ffffffff000 rw-p 00000000 00:00 0                          [stack]\n");
}

TEST(MapsFormat, ReferenceLayoutDetails) {
  // Unnamed: the prefix and its trailing space, nothing else.
  EXPECT_EQ(KernelMapsLine({0x1000, 0x2000, "r--p", 0, 0, 0, 0, ""}),
            "00001000-00002000 r--p 00000000 00:00 0 ");
  // Named: the name starts at column 73 (0-based) whatever the prefix's length.
  const std::string a = KernelMapsLine({0x1000, 0x2000, "r-xp", 0x3000, 8, 1, 42, "/bin/x"});
  EXPECT_EQ(a, "00001000-00002000 r-xp 00003000 08:01 42" + std::string(33, ' ') + "/bin/x");
  EXPECT_EQ(a.find('/'), 73u);
}

}  // namespace
}  // namespace sim
