#include "model/kv_cache.h"

#include "core/error.h"

#include <algorithm>
#include <numeric>

namespace mariana {

KvCache::KvCache(int64_t n_layers, int64_t n_pages, int64_t page_rows, int64_t row_floats, DType dtype)
    : n_layers_(n_layers), n_pages_(n_pages), page_rows_(page_rows), row_floats_(row_floats), dtype_(dtype)
{
    if (n_layers <= 0 || n_pages <= 0 || page_rows <= 0 || row_floats <= 0)
        fail("a KV cache of {} layers, {} pages of {} rows of {} floats is empty", n_layers, n_pages, page_rows,
             row_floats);
    if (dtype != DType::f32 && dtype != DType::bf16) fail("a KV cache holds f32 or bf16 rows, not {}", dtype_name(dtype));
    const int64_t elements = n_layers * n_pages * page_rows * row_floats;
    data_ = Buffer(size_t(dtype == DType::f32 ? elements : (elements + 1) / 2));
    identity_.resize(size_t(n_pages));
    std::iota(identity_.begin(), identity_.end(), 0);
}

KvCache KvCache::slots(int64_t n_layers, int64_t n_slots, int64_t capacity, int64_t row_floats)
{
    return KvCache(n_layers, n_slots, capacity, row_floats);
}

void KvCache::write(int64_t layer, std::span<const int32_t> pages, int64_t position, int64_t offset,
                    const float* values, int64_t n)
{
    const int64_t at = element(layer, pages[size_t(position / page_rows_)], position % page_rows_) + offset;
    if (dtype_ == DType::f32) {
        std::copy_n(values, n, data_.data() + at);
    } else {
        uint16_t* out = reinterpret_cast<uint16_t*>(data_.data()) + at;
        for (int64_t i = 0; i < n; ++i) out[i] = f32_to_bf16(values[i]);
    }
}

PagedRows KvCache::rows(int64_t layer, std::span<const int32_t> pages, int64_t count,
                        std::vector<const float*>& page_pointers, LargeVector<float>& scratch) const
{
    page_pointers.clear();
    if (dtype_ == DType::f32) {
        for (int64_t p = 0; p * page_rows_ < count; ++p)
            page_pointers.push_back(data_.data() + element(layer, pages[size_t(p)], 0));
        return {page_pointers, page_rows_, row_floats_, 0};
    }
    scratch.resize(size_t(count * row_floats_));
    const uint16_t* bits = reinterpret_cast<const uint16_t*>(data_.data());
    for (int64_t p = 0; p * page_rows_ < count; ++p) {
        const int64_t n = std::min(page_rows_, count - p * page_rows_) * row_floats_;
        const uint16_t* in = bits + element(layer, pages[size_t(p)], 0);
        float* out = scratch.data() + p * page_rows_ * row_floats_;
        for (int64_t i = 0; i < n; ++i) out[i] = bf16_to_f32(in[i]);
    }
    page_pointers.push_back(scratch.data());
    return {page_pointers, std::max<int64_t>(count, 1), row_floats_, 0};
}

void KvCache::copy_page(int32_t from, int32_t to, int64_t rows)
{
    MARIANA_CHECK(rows >= 0 && rows <= page_rows_, "{} rows do not fit a page of {}", rows, page_rows_);
    const int64_t n = rows * row_floats_;
    for (int64_t layer = 0; layer < n_layers_; ++layer) {
        if (dtype_ == DType::f32) {
            std::copy_n(data_.data() + element(layer, from, 0), n, data_.data() + element(layer, to, 0));
        } else {
            uint16_t* bits = reinterpret_cast<uint16_t*>(data_.data());
            std::copy_n(bits + element(layer, from, 0), n, bits + element(layer, to, 0));
        }
    }
}

}  // namespace mariana
