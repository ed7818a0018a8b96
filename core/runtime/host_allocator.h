#pragma once
// The host allocator's settings for tensor work (glibc). By default glibc serves blocks above a
// moving threshold with mmap and returns freed heap tops to the kernel, so every calibration
// batch's activations, attention scores and Hessian temporaries (MBs each, freed and allocated
// again per batch) come back as fresh zeroed pages: on the CPU a tenth of GPTQ's time went to page
// faults and page clearing (perf, austen-small w3g128). Here blocks up to 32 MB (glibc's largest
// allowed threshold) come from the heap and the heap is trimmed only above 1 GB free at its top.
// Either setting given by the user (MALLOC_MMAP_THRESHOLD_, MALLOC_TRIM_THRESHOLD_ or
// GLIBC_TUNABLES) is left as given. Returns false where the allocator is not glibc's.
// With LibTorch >= 2.2 it also sets LibTorch's pinned-memory allocator to register malloc'ed pages
// on up to 16 threads (PYTORCH_CUDA_ALLOC_CONF, unless PYTORCH_ALLOC_CONF or it is set).
namespace ptq {

bool configure_host_allocator();

}  // namespace ptq
