// mm/slab.cc: kmalloc on the host heap with accounting and the failslab point.
// Port of the interface of mm/slub.c / mm/slab_common.c at Linux 6.18 (not the allocator).
//
// Each object carries a 16-byte header with its size so kfree can keep slab_bytes exact.
#include "mm/slab.h"

#include <cstdlib>
#include <cstring>

#include "mm/fault_inject.h"
#include "mm/kernel.h"
#include "mm/trace.h"

namespace kernel {
namespace {

struct alignas(16) slab_header {
  size_t size;
  size_t magic;
};
constexpr size_t SLAB_MAGIC = 0x51ab51ab51ab51abULL;

slab_header* header_of(const void* objp) {
  return reinterpret_cast<slab_header*>(const_cast<char*>(static_cast<const char*>(objp))) - 1;
}

void* slab_alloc(size_t size, gfp_t flags, bool zero) {
  if (size == 0) return ZERO_SIZE_PTR;
  if (should_failslab(size, flags)) {
    trace_event("kmalloc_fail", "size=%zu injected", size);
    return nullptr;
  }
  void* mem = zero || (flags & __GFP_ZERO) ? std::calloc(1, sizeof(slab_header) + size)
                                           : std::malloc(sizeof(slab_header) + size);
  if (mem == nullptr) return nullptr;
  slab_header* h = static_cast<slab_header*>(mem);
  h->size = size;
  h->magic = SLAB_MAGIC;
  kernel_state& ks = kst();
  ks.slab_allocations++;
  ks.slab_bytes += static_cast<long>(size);
  return h + 1;
}

}  // namespace

// mm/slub.c: __kmalloc
void* kmalloc(size_t size, gfp_t flags) { return slab_alloc(size, flags, false); }

// include/linux/slab.h
void* kzalloc(size_t size, gfp_t flags) { return slab_alloc(size, flags, true); }

// include/linux/slab.h
void* kmalloc_array(size_t n, size_t size, gfp_t flags) {
  size_t bytes;
  if (__builtin_mul_overflow(n, size, &bytes)) return nullptr;
  return kmalloc(bytes, flags);
}

// include/linux/slab.h
void* kcalloc(size_t n, size_t size, gfp_t flags) {
  return kmalloc_array(n, size, flags | __GFP_ZERO);
}

// mm/slub.c
void kfree(const void* objp) {
  if (ZERO_OR_NULL_PTR(objp)) return;
  slab_header* h = header_of(objp);
  BUG_ON(h->magic != SLAB_MAGIC);  // not from kmalloc, or freed twice
  h->magic = 0;
  kernel_state& ks = kst();
  ks.slab_allocations--;
  ks.slab_bytes -= static_cast<long>(h->size);
  std::free(h);
}

// mm/slab_common.c
size_t ksize(const void* objp) {
  if (ZERO_OR_NULL_PTR(objp)) return 0;
  return header_of(objp)->size;
}

}  // namespace kernel
