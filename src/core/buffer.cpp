#include "core/buffer.h"

#include <cstdlib>
#include <cstring>
#include <new>
#include <sys/mman.h>
#include <utility>

namespace mariana {

namespace {
constexpr size_t kHugePage = size_t(2) << 20;
}

Buffer::Buffer(size_t n_floats) : size_(n_floats)
{
    if (n_floats == 0) return;
    const size_t bytes = n_floats * sizeof(float);
    const size_t alignment = bytes >= kHugePage ? kHugePage : 64;
    const size_t rounded = (bytes + alignment - 1) / alignment * alignment;
    data_ = static_cast<float*>(std::aligned_alloc(alignment, rounded));
    if (!data_) throw std::bad_alloc();
    if (alignment == kHugePage) ::madvise(data_, rounded, MADV_HUGEPAGE);
    std::memset(data_, 0, rounded);
}

Buffer::Buffer(Buffer&& other) noexcept
    : data_(std::exchange(other.data_, nullptr)), size_(std::exchange(other.size_, 0))
{
}

Buffer& Buffer::operator=(Buffer&& other) noexcept
{
    if (this != &other) {
        std::free(data_);
        data_ = std::exchange(other.data_, nullptr);
        size_ = std::exchange(other.size_, 0);
    }
    return *this;
}

Buffer::~Buffer() { std::free(data_); }

}  // namespace mariana
