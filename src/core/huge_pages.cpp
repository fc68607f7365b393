#include "core/huge_pages.h"

#include <algorithm>
#include <cstdlib>
#include <sys/mman.h>

namespace mariana {

namespace {
constexpr size_t kHugePage = size_t(2) << 20, kSmallPage = 4096;
}

void* allocate_pages(size_t bytes)
{
    // Only the start is 2 MiB aligned: the size is rounded to 4 KiB pages, so a last partial
    // 2 MiB stays on small pages instead of costing a whole huge page.
    const bool huge = bytes >= kHugePage;
    const size_t alignment = huge ? kHugePage : 64, granule = huge ? kSmallPage : 64;
    if (bytes > size_t(-1) - alignment) throw std::bad_alloc();
    const size_t rounded = (std::max<size_t>(bytes, 1) + granule - 1) / granule * granule;
    // posix_memalign, not aligned_alloc: the size need not be a multiple of the alignment.
    void* p = nullptr;
    if (::posix_memalign(&p, alignment, rounded) != 0) throw std::bad_alloc();
    if (huge) ::madvise(p, rounded, MADV_HUGEPAGE);
    return p;
}

void free_pages(void* p) noexcept { std::free(p); }

}  // namespace mariana
