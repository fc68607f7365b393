// A 64-byte aligned, zero-initialised float32 buffer for activations and caches, from
// allocate_pages (core/huge_pages.h): large ones live on huge pages.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

namespace mariana {

class Buffer {
public:
    Buffer() = default;
    explicit Buffer(size_t n_floats);
    Buffer(Buffer&& other) noexcept;
    Buffer& operator=(Buffer&& other) noexcept;
    Buffer(const Buffer&) = delete;
    Buffer& operator=(const Buffer&) = delete;
    ~Buffer();

    float* data() { return data_; }
    const float* data() const { return data_; }
    size_t size() const { return size_; }
    float& operator[](size_t i) { return data_[i]; }
    float operator[](size_t i) const { return data_[i]; }
    std::span<float> span() { return {data_, size_}; }

private:
    float* data_ = nullptr;
    size_t size_ = 0;
};

}  // namespace mariana
