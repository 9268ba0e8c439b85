// mm/printk.h: the kernel log (include/linux/printk.h's pr_* over kernel/printk/printk.c),
// Linux 6.18 names.
//
// DEVIATION(printk): no ring buffer, console or timestamps: each message is one line of
// kernel_state::printk_log ("<level>" prefix, as /dev/kmsg shows it, without the newline)
// and a "printk" trace event.
#ifndef MMSIM_MM_PRINTK_H_
#define MMSIM_MM_PRINTK_H_

#include <string>

#include "absl/strings/str_format.h"
#include "mm/kernel.h"
#include "mm/trace.h"

namespace kernel {

inline constexpr int LOGLEVEL_ERR = 3;
inline constexpr int LOGLEVEL_WARNING = 4;
inline constexpr int LOGLEVEL_INFO = 6;

// kernel/printk/printk.c: vprintk_emit, reduced to storing the line.
inline void printk_emit(int level, std::string text) {
  trace_event("printk", "<%d>%s", level, text);
  kst().printk_log.push_back(absl::StrFormat("<%d>%s", level, text));
}

template <typename... Args>
void pr_err(const absl::FormatSpec<Args...>& fmt, const Args&... args) {
  printk_emit(LOGLEVEL_ERR, absl::StrFormat(fmt, args...));
}
template <typename... Args>
void pr_warn(const absl::FormatSpec<Args...>& fmt, const Args&... args) {
  printk_emit(LOGLEVEL_WARNING, absl::StrFormat(fmt, args...));
}
template <typename... Args>
void pr_info(const absl::FormatSpec<Args...>& fmt, const Args&... args) {
  printk_emit(LOGLEVEL_INFO, absl::StrFormat(fmt, args...));
}

}  // namespace kernel

#endif  // MMSIM_MM_PRINTK_H_
