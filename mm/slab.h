// mm/slab.h: kmalloc and friends (include/linux/slab.h), Linux 6.18 names.
//
// DEVIATION(slab): objects come from the host heap, not from slab pages in simulated
// memory: the kernel's own data structures are not what the simulator shows. Each live
// object is counted in kst().slab_allocations / slab_bytes so a leak is visible, and
// every allocation passes the failslab fault point first.
#ifndef MMSIM_MM_SLAB_H_
#define MMSIM_MM_SLAB_H_

#include <cstddef>

#include "mm/gfp.h"

namespace kernel {

// What kmalloc(0) returns: a unique non-null pointer that must not be dereferenced.
inline void* const ZERO_SIZE_PTR = reinterpret_cast<void*>(16);
inline bool ZERO_OR_NULL_PTR(const void* x) {
  return reinterpret_cast<unsigned long>(x) <= reinterpret_cast<unsigned long>(ZERO_SIZE_PTR);
}

void* kmalloc(size_t size, gfp_t flags);
void* kzalloc(size_t size, gfp_t flags);
void* kmalloc_array(size_t n, size_t size, gfp_t flags);  // null on overflow
void* kcalloc(size_t n, size_t size, gfp_t flags);
void kfree(const void* objp);
size_t ksize(const void* objp);  // the usable size of a live object

// Typed helpers for C++ structs with trivial construction (kzalloc(sizeof(T))).
template <typename T>
inline T* kzalloc_obj(gfp_t flags) { return static_cast<T*>(kzalloc(sizeof(T), flags)); }

}  // namespace kernel

#endif  // MMSIM_MM_SLAB_H_
