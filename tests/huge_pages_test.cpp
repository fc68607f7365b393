// allocate_pages: the alignment each size gets, memory that is really usable, and a clean
// std::bad_alloc for sizes no machine has.
#include "core/huge_pages.h"

#include <cstdint>
#include <gtest/gtest.h>

namespace mariana {
namespace {

bool aligned_to(const void* p, uintptr_t alignment) { return reinterpret_cast<uintptr_t>(p) % alignment == 0; }

TEST(HugePages, SmallBlocksAre64ByteAligned)
{
    for (size_t bytes : {size_t(0), size_t(1), size_t(100), size_t(4096), (size_t(2) << 20) - 1}) {
        void* p = allocate_pages(bytes);
        EXPECT_TRUE(aligned_to(p, 64)) << bytes;
        free_pages(p);
    }
}

TEST(HugePages, LargeBlocksAre2MiBAlignedAndWritable)
{
    const size_t bytes = (size_t(5) << 20) + 12;  // not a whole number of huge pages
    auto* p = static_cast<unsigned char*>(allocate_pages(bytes));
    EXPECT_TRUE(aligned_to(p, size_t(2) << 20));
    for (size_t i = 0; i < bytes; i += 4096) p[i] = static_cast<unsigned char>(i);
    p[bytes - 1] = 7;
    EXPECT_EQ(p[bytes - 1], 7);
    free_pages(p);
}

TEST(HugePages, ImpossibleSizesThrowBadAlloc)
{
    EXPECT_THROW(allocate_pages(size_t(-1)), std::bad_alloc);
    EXPECT_THROW(HugePageAllocator<double>().allocate(size_t(-1) / 4), std::bad_alloc);
}

TEST(HugePages, LargeVectorKeepsItsValuesAcrossGrowth)
{
    LargeVector<float> v;
    for (int i = 0; i < 1 << 20; ++i) v.push_back(float(i));  // grows past 2 MiB on the way
    EXPECT_TRUE(aligned_to(v.data(), size_t(2) << 20));
    for (int i = 0; i < 1 << 20; i += 4099) ASSERT_EQ(v[size_t(i)], float(i));
}

}  // namespace
}  // namespace mariana
