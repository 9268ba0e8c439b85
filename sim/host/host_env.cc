// sim/host/host_env.cc
#include "sim/host/host_env.h"

#include <errno.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/uio.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"
#include "absl/strings/strip.h"
#include "sim/machine.h"
#include "sim/scenario/errno_names.h"

namespace sim::host {
namespace {

long ReadLong(const char* path) {
  std::ifstream f(path);
  long v = -1;
  if (!(f >> v)) return -1;
  return v;
}

std::string ReadLine(const char* path) {
  std::ifstream f(path);
  std::string s;
  std::getline(f, s);
  return s;
}

uint64_t StatusHex(const std::string& status, const char* key) {
  size_t p = status.find(key);
  if (p == std::string::npos) return 0;
  return std::strtoull(status.c_str() + p + std::strlen(key), nullptr, 16);
}

// process_vm_readv from here on a child that holds a known value: the host's own
// verdict on whether this user may use the call at all.
void TryPvm(HostEnv* env) {
  static volatile uint64_t value = 0;
  value = 0x6d6d73696d;  // the child keeps this value; the parent reads it remotely
  int pipefd[2];
  if (pipe(pipefd) != 0) {
    env->pvm_error = "pipe failed";
    return;
  }
  pid_t pid = fork();
  if (pid == 0) {
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    close(pipefd[1]);
    char c;
    (void)!read(pipefd[0], &c, 1);  // until the parent is done
    _exit(0);
  }
  close(pipefd[0]);
  value = 0;  // only the child still holds the value
  uint64_t got = 0;
  iovec l = {&got, sizeof got};
  iovec r = {const_cast<uint64_t*>(&value), sizeof value};
  ssize_t n = pid > 0 ? process_vm_readv(pid, &l, 1, &r, 1, 0) : -1;
  const int e = errno;
  close(pipefd[1]);
  if (pid > 0) waitpid(pid, nullptr, 0);
  env->pvm_allowed = n == static_cast<ssize_t>(sizeof got) && got == 0x6d6d73696d;
  if (!env->pvm_allowed) {
    const char* name = n < 0 ? scenario::ErrnoName(e) : nullptr;
    env->pvm_error = n < 0 ? (name != nullptr ? name : absl::StrCat("errno ", e))
                           : absl::StrCat("read ", n, " bytes, not the child's value");
  }
}

std::vector<std::pair<uint64_t, uint64_t>> ReadIdMap(const char* path) {
  std::vector<std::pair<uint64_t, uint64_t>> out;
  std::ifstream f(path);
  uint64_t inside = 0, outside = 0, count = 0;
  while (f >> inside >> outside >> count) out.push_back({inside, inside + count});
  return out;
}

bool Mapped(const std::vector<std::pair<uint64_t, uint64_t>>& map, uint32_t id) {
  if (id == 0xffffffffu) return true;
  for (const auto& [lo, hi] : map) {
    if (id >= lo && id < hi) return true;
  }
  return false;
}

std::string FormatIdMap(const std::vector<std::pair<uint64_t, uint64_t>>& map) {
  std::string s;
  for (const auto& [lo, hi] : map) absl::StrAppend(&s, s.empty() ? "" : ",", lo, "-", hi - 1);
  return s.empty() ? "none" : s;
}

}  // namespace

bool UidMapped(const HostEnv& env, uint32_t id) { return Mapped(env.uid_map, id); }
bool GidMapped(const HostEnv& env, uint32_t id) { return Mapped(env.gid_map, id); }

HostEnv ReadHostEnv() {
  HostEnv env;
  utsname u;
  if (uname(&u) == 0) env.kernel = u.release;
  env.mmap_min_addr = ReadLong("/proc/sys/vm/mmap_min_addr");
  env.max_map_count = ReadLong("/proc/sys/vm/max_map_count");
  env.suid_dumpable = ReadLong("/proc/sys/fs/suid_dumpable");
  const std::string thp = ReadLine("/sys/kernel/mm/transparent_hugepage/enabled");
  size_t a = thp.find('['), b = thp.find(']');
  env.thp = a != std::string::npos && b > a ? thp.substr(a + 1, b - a - 1) : "unknown";
  env.ptrace_scope = static_cast<int>(ReadLong("/proc/sys/kernel/yama/ptrace_scope"));
  env.uid = getuid();
  env.euid = geteuid();
  std::ifstream st("/proc/self/status");
  std::stringstream ss;
  ss << st.rdbuf();
  env.cap_effective = StatusHex(ss.str(), "CapEff:");
  env.cap_bounding = StatusHex(ss.str(), "CapBnd:");
  env.uid_map = ReadIdMap("/proc/self/uid_map");
  env.gid_map = ReadIdMap("/proc/self/gid_map");
  TryPvm(&env);
  return env;
}

uint64_t GrantableCaps(const HostEnv& env) { return env.cap_bounding & env.cap_effective; }

std::string FormatHostEnv(const HostEnv& env) {
  std::string s;
  absl::StrAppendFormat(&s, "# host: Linux %s\n", env.kernel);
  absl::StrAppendFormat(&s, "# host: vm.mmap_min_addr=%d vm.max_map_count=%d fs.suid_dumpable=%d\n",
                        env.mmap_min_addr, env.max_map_count, env.suid_dumpable);
  absl::StrAppendFormat(&s, "# host: transparent_hugepage=%s\n", env.thp);
  absl::StrAppendFormat(&s, "# host: kernel.yama.ptrace_scope=%s\n",
                        env.ptrace_scope < 0 ? std::string("absent (no Yama)")
                                             : absl::StrCat(env.ptrace_scope));
  absl::StrAppendFormat(&s, "# host: uid=%d euid=%d CapEff=%#x CapBnd=%#x\n", env.uid, env.euid,
                        env.cap_effective, env.cap_bounding);
  absl::StrAppendFormat(&s, "# host: user namespace maps uids %s, gids %s\n", FormatIdMap(env.uid_map),
                        FormatIdMap(env.gid_map));
  const uint64_t missing = ~GrantableCaps(env) & ((uint64_t{1} << 41) - 1);
  if (missing != 0) {
    absl::StrAppendFormat(&s,
                          "# host: capabilities the host cannot grant (mask %#x): `caps=`/`capset` "
                          "ask for them without them\n",
                          missing);
  }
  absl::StrAppendFormat(&s, "# host: process_vm_readv on a child: %s\n",
                        env.pvm_allowed ? std::string("allowed")
                                        : absl::StrCat("refused (", env.pvm_error, ")"));
  return s;
}

std::vector<std::string> ApplyHostEnv(const HostEnv& env, Machine& m) {
  std::vector<std::string> notes;
  auto apply = [&](const char* name, long value) {
    if (value < 0) {
      notes.push_back(absl::StrCat("# sim: ", name, ": unreadable on the host, left as it is"));
      return;
    }
    absl::Status st = m.SetSysctl(name, value);
    if (st.ok()) {
      notes.push_back(absl::StrCat("# sim: ", name, "=", value, " (the host's)"));
    } else {
      absl::StatusOr<long> cur = m.Sysctl(name);
      notes.push_back(absl::StrCat("# sim: ", name, ": not applied (", st.message(), ")",
                                   cur.ok() ? absl::StrCat("; the simulator has ", *cur) : ""));
    }
  };
  apply("vm.mmap_min_addr", env.mmap_min_addr);
  apply("vm.max_map_count", env.max_map_count);
  apply("fs.suid_dumpable", env.suid_dumpable);
  notes.push_back(absl::StrCat("# sim: transparent_hugepage: the scenario's `machine thp=` (default madvise); the host's is ",
                               env.thp));
  return notes;
}

long SmapsFieldKb(absl::string_view smaps, uint64_t lo, uint64_t hi, absl::string_view field) {
  long total = 0;
  bool inside = false;
  for (absl::string_view line : absl::StrSplit(smaps, '\n')) {
    // A VMA's header line: "start-end perms ..."; its fields are "Name:  value kB".
    const size_t dash = line.find('-'), sp = line.find(' '), colon = line.find(':');
    uint64_t start = 0, end = 0;
    if (dash != absl::string_view::npos && sp != absl::string_view::npos && dash < sp &&
        colon > sp && absl::SimpleHexAtoi(line.substr(0, dash), &start) &&
        absl::SimpleHexAtoi(line.substr(dash + 1, sp - dash - 1), &end)) {
      inside = start < hi && end > lo;
    } else if (inside && absl::ConsumePrefix(&line, field)) {
      total += std::strtol(std::string(line).c_str(), nullptr, 10);
    }
  }
  return total;
}

long HostAnonHugePagesKb(int pid, uint64_t lo, uint64_t hi) {
  std::ifstream f(absl::StrFormat("/proc/%d/smaps", pid));
  if (!f) return -1;
  std::stringstream text;
  text << f.rdbuf();
  return SmapsFieldKb(text.str(), lo, hi, "AnonHugePages:");
}

}  // namespace sim::host
