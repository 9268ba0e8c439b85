// tests/difftest/thp_layout_helper.cc: the host side of thp_diff_test's mmap layout check.
//
// thp_diff_test forks, sets personality(ADDR_NO_RANDOMIZE) in the child and execs this
// program: the flag only takes effect at execve (the new image's mmap_base, stack and
// vdso are chosen then), so a forked child that does not exec keeps its parent's random
// layout. This program then
//   1. reads /proc/self/maps (the layout the kernel gave it: binary, libraries, vdso,
//      stack; under ASan also the sanitizer's shadow),
//   2. runs the mmap/munmap program given in argv, with raw system calls,
//   3. writes to stdout: "persona HEX", the maps text of step 1, a line "--", and one line
//      per step with its return value (or "-errno").
// Between steps 1 and 2 nothing allocates memory (static buffers, raw syscalls), so the
// maps text is exactly the address space the program ran in.
//
// argv steps: "mLEN" (mmap(NULL, LEN, PROT_READ|PROT_WRITE, MAP_PRIVATE|MAP_ANONYMOUS)),
// "uI:OFF:LEN" (munmap(result of step I + OFF, LEN)). Numbers in decimal.
#include <sys/mman.h>
#include <sys/personality.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace {

char maps[1 << 20];
long results[64];

bool WriteAll(const char* p, size_t n) {
  while (n > 0) {
    const ssize_t w = write(1, p, n);
    if (w <= 0) return false;
    p += w;
    n -= static_cast<size_t>(w);
  }
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  const int steps = argc - 1;
  if (steps > 64) return 2;
  const long persona = syscall(SYS_personality, 0xffffffffUL);
  // Step 1: the layout.
  const long fd = syscall(SYS_open, "/proc/self/maps", 0 /* O_RDONLY */);
  if (fd < 0) return 3;
  size_t used = 0;
  for (;;) {
    const long n = syscall(SYS_read, fd, maps + used, sizeof(maps) - 1 - used);
    if (n < 0) return 3;
    if (n == 0) break;
    used += static_cast<size_t>(n);
    if (used == sizeof(maps) - 1) return 3;
  }
  syscall(SYS_close, fd);
  // Step 2: the program.
  for (int i = 0; i < steps; ++i) {
    const char* s = argv[i + 1];
    long r;
    if (s[0] == 'm') {
      const unsigned long len = std::strtoul(s + 1, nullptr, 10);
      r = syscall(SYS_mmap, 0UL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1L,
                  0L);
    } else if (s[0] == 'u') {
      char* end = nullptr;
      const unsigned long idx = std::strtoul(s + 1, &end, 10);
      const unsigned long off = std::strtoul(end + 1, &end, 10);
      const unsigned long len = std::strtoul(end + 1, nullptr, 10);
      if (idx >= static_cast<unsigned long>(i)) return 2;
      r = syscall(SYS_munmap, static_cast<unsigned long>(results[idx]) + off, len);
    } else {
      return 2;
    }
    results[i] = r < 0 ? -errno : r;
  }
  // Step 3: the report.
  char line[64];
  int n = std::snprintf(line, sizeof(line), "persona %lx\n", persona);
  if (!WriteAll(line, static_cast<size_t>(n)) || !WriteAll(maps, used) || !WriteAll("--\n", 3))
    return 4;
  for (int i = 0; i < steps; ++i) {
    n = std::snprintf(line, sizeof(line), "%ld\n", results[i]);
    if (!WriteAll(line, static_cast<size_t>(n))) return 4;
  }
  return 0;
}
