#include "core/huge_pages.h"

#include <algorithm>
#include <cstdlib>
#include <sys/mman.h>

namespace mariana {

namespace {
constexpr size_t kHugePage = size_t(2) << 20;
}

void* allocate_pages(size_t bytes)
{
    const size_t alignment = bytes >= kHugePage ? kHugePage : 64;
    if (bytes > size_t(-1) - alignment) throw std::bad_alloc();
    const size_t rounded = (std::max<size_t>(bytes, 1) + alignment - 1) / alignment * alignment;
    void* p = std::aligned_alloc(alignment, rounded);
    if (!p) throw std::bad_alloc();
    if (alignment == kHugePage) ::madvise(p, rounded, MADV_HUGEPAGE);
    return p;
}

void free_pages(void* p) noexcept { std::free(p); }

}  // namespace mariana
