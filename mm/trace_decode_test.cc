// mm/trace_decode_test.cc
#include "mm/trace_decode.h"

#include "gtest/gtest.h"
#include "mm/gfp.h"
#include "mm/mm.h"

namespace kernel {
namespace {

TEST(TraceDecode, VmFaultResultsNameTheirBits) {
  // 516 = 0x204: what filemap_fault returns after reading a page in and locking it.
  EXPECT_EQ(decode_trace_ret("filemap_fault", 516), "VM_FAULT_MAJOR|VM_FAULT_LOCKED");
  EXPECT_EQ(decode_trace_ret("handle_mm_fault", 0), "0");
  EXPECT_EQ(decode_trace_ret("handle_mm_fault", VM_FAULT_SIGSEGV), "VM_FAULT_SIGSEGV");
  EXPECT_EQ(decode_trace_ret("shmem_fault", VM_FAULT_LOCKED | VM_FAULT_RETRY),
            "VM_FAULT_LOCKED|VM_FAULT_RETRY");
  // A bit no name covers stays visible.
  EXPECT_EQ(decode_trace_ret("handle_mm_fault", VM_FAULT_OOM | 0x8), "VM_FAULT_OOM|0x8");
}

TEST(TraceDecode, ErrnosPointersAddressesAndCounts) {
  EXPECT_EQ(decode_trace_ret("mm_access", -13), "-EACCES");         // ERR_PTR(-EACCES)
  EXPECT_EQ(decode_trace_ret("process_vm_rw", -14), "-EFAULT");
  EXPECT_EQ(decode_trace_ret("process_vm_rw", 8192), "8192");        // bytes stay decimal
  EXPECT_EQ(decode_trace_ret("kernel_clone", 4), "4");               // a pid
  EXPECT_EQ(decode_trace_ret("mmap_region", 0x1000000), "0x1000000");
  EXPECT_EQ(decode_trace_ret("do_mmap", -12), "-ENOMEM");
  EXPECT_EQ(decode_trace_ret("out_of_memory", 1), "true");
  EXPECT_EQ(decode_trace_ret("out_of_memory", 0), "false");
  EXPECT_EQ(decode_trace_ret("faultin_page", -512), "-ERESTARTSYS");
  EXPECT_EQ(decode_trace_ret("an_unlisted_function", -5000), "-5000");
  EXPECT_EQ(decode_errno(-4000), "-4000");
}

TEST(TraceDecode, GfpUsesCompositeNamesFirstLikeShowGfpFlags) {
  EXPECT_EQ(decode_flags(trace_flags_kind::gfp, GFP_HIGHUSER_MOVABLE | __GFP_ZERO),
            "GFP_HIGHUSER_MOVABLE|__GFP_ZERO");
  EXPECT_EQ(decode_flags(trace_flags_kind::gfp, GFP_PGTABLE_USER), "GFP_KERNEL_ACCOUNT|__GFP_ZERO");
  EXPECT_EQ(decode_flags(trace_flags_kind::gfp, 0), "none");
}

TEST(TraceDecode, ArgumentsAreRewrittenPerFunction) {
  EXPECT_EQ(decode_trace_args("handle_mm_fault", "addr=0x1000000 flags=0x255"),
            "addr=0x1000000 flags=FAULT_FLAG_WRITE|FAULT_FLAG_ALLOW_RETRY|FAULT_FLAG_KILLABLE|"
            "FAULT_FLAG_USER|FAULT_FLAG_INTERRUPTIBLE");
  // The same argument name means FOLL_* in gup.
  EXPECT_EQ(decode_trace_args("follow_page_mask", "address=0x1000 flags=0x40001"),
            "address=0x1000 flags=FOLL_WRITE|FOLL_REMOTE");
  EXPECT_EQ(decode_trace_args("do_mmap", "addr=0 len=0x4000 prot=0x3 flags=0x22"),
            "addr=0 len=0x4000 prot=PROT_READ|PROT_WRITE flags=MAP_PRIVATE|MAP_ANONYMOUS");
  EXPECT_EQ(decode_trace_args("do_mmap", "addr=0 len=0x1000 prot=0 flags=0x3"),
            "addr=0 len=0x1000 prot=PROT_NONE flags=MAP_SHARED_VALIDATE");
  EXPECT_EQ(decode_trace_args("mm_access", "pid=4 mode=0x11"),
            "pid=4 mode=PTRACE_MODE_READ|PTRACE_MODE_REALCREDS");
  EXPECT_EQ(decode_trace_args("mmap_region", "addr=0x1000 len=0x1000 flags=0x73"),
            "addr=0x1000 len=0x1000 flags=VM_READ|VM_WRITE|VM_MAYREAD|VM_MAYWRITE|VM_MAYEXEC");
  // Counts and unknown functions keep their text; a value that is not a number stays.
  EXPECT_EQ(decode_trace_args("process_vm_rw", "pid=4 flags=0"), "pid=4 flags=0");
  EXPECT_EQ(decode_trace_args("handle_mm_fault", "flags=zz"), "flags=zz");
  EXPECT_EQ(decode_trace_args("handle_mm_fault", ""), "");
}

TEST(TraceDecode, PageTableEntriesShowPfnAndBits) {
  EXPECT_EQ(decode_flags(trace_flags_kind::pte, 0x800000000000e867ull), "pfn=0xe P|RW|USR|A|D|SOFT_DIRTY|NX");
  EXPECT_EQ(decode_flags(trace_flags_kind::pte, 0), "0");
  EXPECT_EQ(decode_trace_args("bad_pte", "addr=0x1000 pte=0x8000000000007025"),
            "addr=0x1000 pte=pfn=0x7 P|USR|A|NX");
}

}  // namespace
}  // namespace kernel
