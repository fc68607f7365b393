// Memory for large arrays on 2 MiB pages. With transparent huge pages in "madvise" mode
// (Debian's default) memory sits on 4 KiB pages unless the program asks; large arrays read
// with strides (GEMM packing, per-row loops over activations) then miss the TLB on nearly
// every row. One core reads ~25% faster from huge pages (shared/BENCHMARKS.md).
#pragma once

#include <cstddef>
#include <new>
#include <vector>

namespace mariana {

// `bytes` of memory, 64-byte aligned; from 2 MiB up, 2 MiB aligned and advised onto huge
// pages (advice only: 4 KiB pages where the kernel refuses). Throws std::bad_alloc.
void* allocate_pages(size_t bytes);
void free_pages(void* p) noexcept;

// A std allocator on allocate_pages, for std::vector.
template <typename T>
struct HugePageAllocator {
    using value_type = T;
    HugePageAllocator() = default;
    template <typename U>
    HugePageAllocator(const HugePageAllocator<U>&) noexcept
    {
    }
    T* allocate(size_t n)
    {
        if (n > size_t(-1) / sizeof(T)) throw std::bad_array_new_length();
        return static_cast<T*>(allocate_pages(n * sizeof(T)));
    }
    void deallocate(T* p, size_t) noexcept { free_pages(p); }
    template <typename U>
    bool operator==(const HugePageAllocator<U>&) const noexcept
    {
        return true;
    }
};

// The vector for activations, gradients, weights and optimiser moments.
template <typename T>
using LargeVector = std::vector<T, HugePageAllocator<T>>;

}  // namespace mariana
