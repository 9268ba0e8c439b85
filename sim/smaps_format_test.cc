// sim/smaps_format_test.cc: `show smaps` (sim/views.cc ShowSmaps) against the host kernel's
// /proc/self/smaps layout: the same fields in the same order, each "Name:" padded to 16
// columns and the value right-aligned in 8 (fs/proc/task_mmu.c SEQ_PUT_DEC), and the
// values of a simulated anonymous mapping with one page written.
#include <sys/mman.h>

#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/str_split.h"
#include "gtest/gtest.h"
#include "sim/machine.h"
#include "sim/views.h"

namespace sim {
namespace {

// The field lines of the first VMA block of an smaps text: "Size:" up to "VmFlags:".
std::vector<std::string> FirstBlockFields(const std::string& text) {
  std::vector<std::string> lines = absl::StrSplit(text, '\n');
  std::vector<std::string> fields;
  for (size_t i = 1; i < lines.size(); ++i) {
    const std::string& l = lines[i];
    fields.push_back(l);
    if (l.rfind("VmFlags:", 0) == 0) break;
  }
  return fields;
}

std::string NameOf(const std::string& line) { return line.substr(0, line.find(':') + 1); }

void ExpectKernelLayout(const std::vector<std::string>& fields) {
  for (const std::string& l : fields) {
    if (l.rfind("VmFlags:", 0) == 0) continue;
    const std::string name = NameOf(l);
    ASSERT_FALSE(name.empty()) << l;
    ASSERT_GE(l.size(), 24u) << l;
    // The name, then spaces to column 16, then the value in 8 columns.
    EXPECT_EQ(l.substr(0, 16), name + std::string(16 - name.size(), ' ')) << l;
    const bool kb = l.size() >= 3 && l.substr(l.size() - 3) == " kB";
    const std::string value = l.substr(16, 8);
    EXPECT_NE(value.back(), ' ') << l;
    EXPECT_EQ(l.size(), kb ? 27u : 24u) << l;
  }
}

std::string ValueOf(const std::vector<std::string>& fields, const std::string& name) {
  for (const std::string& l : fields)
    if (NameOf(l) == name) return l;
  return "";
}

TEST(SmapsFormat, SameFieldsAndLayoutAsTheHost) {
  std::ifstream in("/proc/self/smaps");
  std::stringstream host;
  host << in.rdbuf();
  const std::vector<std::string> host_fields = FirstBlockFields(host.str());
  ASSERT_GT(host_fields.size(), 10u) << host.str().substr(0, 2000);
  ExpectKernelLayout(host_fields);

  MachineConfig config;
  config.memory_bytes = 16ull << 20;
  config.cpus = 1;
  // A host with protection keys prints ProtectionKey (arch_pkeys_enabled); so does a
  // simulated machine with them.
  config.pku = ValueOf(host_fields, "ProtectionKey:") != "";
  std::unique_ptr<Machine> m = std::move(*Machine::Create(config));
  const int p = *m->CreateProcess("p", ProcessCreds{});
  ASSERT_EQ(m->Mmap(p, 0x10000000, 8192, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS).ret,
            0x10000000);
  ASSERT_TRUE(m->Store(p, 0x10000000, std::vector<uint8_t>(16, 1)).ok);
  absl::StatusOr<std::string> smaps = ShowSmaps(*m, p, 0x10000000, 8192);
  ASSERT_TRUE(smaps.ok()) << smaps.status();
  ASSERT_EQ(smaps->rfind("10000000-10002000 rw-p 00000000 00:00 0 \n", 0), 0u) << *smaps;
  const std::vector<std::string> sim_fields = FirstBlockFields(*smaps);
  ExpectKernelLayout(sim_fields);
  ASSERT_EQ(sim_fields.size(), host_fields.size()) << *smaps;
  for (size_t i = 0; i < sim_fields.size(); ++i)
    EXPECT_EQ(NameOf(sim_fields[i]), NameOf(host_fields[i])) << "field " << i;

  EXPECT_EQ(ValueOf(sim_fields, "Size:"), "Size:                  8 kB");
  EXPECT_EQ(ValueOf(sim_fields, "Rss:"), "Rss:                   4 kB");
  EXPECT_EQ(ValueOf(sim_fields, "Pss:"), "Pss:                   4 kB");
  EXPECT_EQ(ValueOf(sim_fields, "Private_Dirty:"), "Private_Dirty:         4 kB");
  EXPECT_EQ(ValueOf(sim_fields, "Shared_Clean:"), "Shared_Clean:          0 kB");
  EXPECT_EQ(ValueOf(sim_fields, "Referenced:"), "Referenced:            4 kB");
  EXPECT_EQ(ValueOf(sim_fields, "Anonymous:"), "Anonymous:             4 kB");
  EXPECT_EQ(ValueOf(sim_fields, "Swap:"), "Swap:                  0 kB");
  EXPECT_EQ(sim_fields.back(), "VmFlags: rd wr mr mw me ac ");

  // After fork the page is mapped twice: shared, and each mapping's Pss is half of it.
  const int child = static_cast<int>(m->Fork(p).ret);
  ASSERT_GT(child, 0);
  const std::vector<std::string> after = FirstBlockFields(*ShowSmaps(*m, p, 0x10000000, 8192));
  EXPECT_EQ(ValueOf(after, "Pss:"), "Pss:                   2 kB");
  EXPECT_EQ(ValueOf(after, "Shared_Dirty:"), "Shared_Dirty:          4 kB");
  EXPECT_EQ(ValueOf(after, "Private_Dirty:"), "Private_Dirty:         0 kB");
}

}  // namespace
}  // namespace sim
