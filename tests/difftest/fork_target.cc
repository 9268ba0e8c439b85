// tests/difftest/fork_target.cc
#include "tests/difftest/fork_target.h"

#include <poll.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>

#include "absl/status/status.h"

namespace difftest {

ssize_t HostPvm(bool write, pid_t pid, const iovec* l, unsigned long ln, const iovec* rv,
                unsigned long rn) {
  return syscall(write ? SYS_process_vm_writev : SYS_process_vm_readv, pid, l, ln, rv, rn, 0UL);
}

bool WaitReady(int fd, ReadyMsg* msg, int timeout_ms) {
  pollfd p{fd, POLLIN, 0};
  if (poll(&p, 1, timeout_ms) != 1) return false;
  return read(fd, msg, sizeof(*msg)) == static_cast<ssize_t>(sizeof(*msg)) && msg->tag == 'R';
}

bool ReportReadyAndWait(int ready, int go, bool is_child) {
  const ReadyMsg msg{'R', is_child ? 1 : 0, static_cast<int32_t>(getpid())};
  if (write(ready, &msg, sizeof(msg)) != static_cast<ssize_t>(sizeof(msg))) return false;
  char b;
  while (read(go, &b, 1) > 0) {
  }
  return true;
}

absl::StatusOr<ssize_t> HostCallFromLocal(pid_t target, bool write, uint64_t local_len,
                                          uint8_t read_fill, const std::vector<Iov>& remote,
                                          std::vector<uint8_t>* local, int* err) {
  const uint64_t map_len = std::max<uint64_t>(local_len, 1);
  void* p = mmap(reinterpret_cast<void*>(kLocalBase), map_len, PROT_READ | PROT_WRITE,
                 MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
  if (p != reinterpret_cast<void*>(kLocalBase)) {
    if (p != MAP_FAILED) munmap(p, map_len);
    return absl::InternalError("local mmap");
  }
  auto* l = static_cast<uint8_t*>(p);
  for (uint64_t i = 0; i < local_len; ++i)
    l[i] = write ? PatternByte(Side::kLocal, kLocalBase + i) : read_fill;
  iovec liov{p, local_len};
  std::vector<iovec> riov;
  for (const Iov& v : remote) riov.push_back({reinterpret_cast<void*>(v.base), v.len});
  errno = 0;
  const ssize_t r = HostPvm(write, target, &liov, 1, riov.data(), riov.size());
  *err = r < 0 ? errno : 0;
  local->assign(l, l + local_len);
  munmap(p, map_len);
  return r;
}

absl::StatusOr<sim::SysResult> SimCallFromLocal(sim::Machine& m, int caller, int target,
                                                bool write, uint64_t local_len, uint8_t read_fill,
                                                const std::vector<sim::Machine::Iovec>& remote) {
  if (m.Mmap(caller, kLocalBase, std::max<uint64_t>(local_len, 1), PROT_READ | PROT_WRITE,
             MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED)
          .ret != static_cast<long>(kLocalBase))
    return absl::InternalError("sim local mmap");
  std::vector<uint8_t> local(local_len);
  for (uint64_t i = 0; i < local_len; ++i)
    local[i] = write ? PatternByte(Side::kLocal, kLocalBase + i) : read_fill;
  if (!local.empty() && !m.Store(caller, kLocalBase, local).ok)
    return absl::InternalError("sim local fill");
  const std::vector<sim::Machine::Iovec> liov = {{kLocalBase, local_len}};
  return write ? m.ProcessVmWritev(caller, target, liov, remote)
               : m.ProcessVmReadv(caller, target, liov, remote);
}

absl::StatusOr<SimCallerAndTarget> MakeSimCallerAndTarget(const sim::MachineConfig& config) {
  absl::StatusOr<std::unique_ptr<sim::Machine>> made = sim::Machine::Create(config);
  if (!made.ok()) return made.status();
  SimCallerAndTarget s;
  s.machine = *std::move(made);
  if (absl::Status st = s.machine->SetSysctl("vm.mmap_min_addr", static_cast<long>(HostMmapMinAddr()));
      !st.ok())
    return st;
  absl::StatusOr<int> caller = s.machine->CreateProcess("caller", sim::ProcessCreds{});
  absl::StatusOr<int> target = s.machine->CreateProcess("target", sim::ProcessCreds{});
  if (!caller.ok() || !target.ok()) return absl::InternalError("CreateProcess");
  s.caller = *caller;
  s.target = *target;
  return s;
}

}  // namespace difftest
