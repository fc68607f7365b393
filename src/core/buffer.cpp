#include "core/buffer.h"

#include "core/huge_pages.h"

#include <cstring>
#include <utility>

namespace mariana {

Buffer::Buffer(size_t n_floats) : size_(n_floats)
{
    if (n_floats == 0) return;
    data_ = HugePageAllocator<float>().allocate(n_floats);
    std::memset(data_, 0, n_floats * sizeof(float));
}

Buffer::Buffer(Buffer&& other) noexcept
    : data_(std::exchange(other.data_, nullptr)), size_(std::exchange(other.size_, 0))
{
}

Buffer& Buffer::operator=(Buffer&& other) noexcept
{
    if (this != &other) {
        free_pages(data_);
        data_ = std::exchange(other.data_, nullptr);
        size_ = std::exchange(other.size_, 0);
    }
    return *this;
}

Buffer::~Buffer() { free_pages(data_); }

}  // namespace mariana
