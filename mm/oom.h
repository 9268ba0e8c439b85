// mm/oom.h: the OOM killer's interface (include/linux/oom.h), Linux 6.18 names.
#ifndef MMSIM_MM_OOM_H_
#define MMSIM_MM_OOM_H_

#include "mm/gfp.h"
#include "mm/sched.h"

namespace kernel {

inline constexpr short OOM_SCORE_ADJ_MIN = -1000;
inline constexpr short OOM_SCORE_ADJ_MAX = 1000;

// include/linux/oom.h: what the allocator tells out_of_memory.
struct oom_control {
  gfp_t gfp_mask;
  int order;
  unsigned long totalpages;  // RAM + swap, in pages
  task_struct* chosen;       // the victim, or kOomAbort
  long chosen_points;
};

// include/linux/oom.h
inline bool tsk_is_oom_victim(const task_struct* tsk) {
  return tsk != nullptr && tsk->signal != nullptr && tsk->signal->oom_mm != nullptr;
}

// mm/oom_kill.c. The badness of p's memory: resident pages + swap entries + page-table
// pages, shifted by oom_score_adj per mille of totalpages; LONG_MIN if p may not be killed.
long oom_badness(task_struct* p, unsigned long totalpages);
// mm/oom_kill.c: kill the task whose death frees the most memory. True if some memory
// will be freed (a victim was killed, or one is already on its way out).
bool out_of_memory(oom_control* oc);

}  // namespace kernel

#endif  // MMSIM_MM_OOM_H_
