// The key/value cache: one pool of pages, each holding `page_rows` consecutive positions
// of one sequence in every layer. A row is the floats the model keeps per token and layer
// (MLA: the normalised latent and the rotated rope key; dense models: the keys and values
// of every KV head), stored as float32 or, for half the memory, bfloat16 (rounded to
// nearest even when written, widened exactly when read). A sequence's page table lists its
// pages in position order, so sequences of any length share one pool, and sequences with a
// common prefix can share its pages (runtime/page_pool.h decides who owns which).
#pragma once

#include "core/buffer.h"
#include "core/dtype.h"
#include "core/huge_pages.h"
#include "kernels/attention.h"

#include <cstdint>
#include <span>
#include <vector>

namespace mariana {

class KvCache {
public:
    // dtype: f32 or bf16.
    KvCache(int64_t n_layers, int64_t n_pages, int64_t page_rows, int64_t row_floats, DType dtype = DType::f32);

    // A cache of `n_slots` sequences of up to `capacity` positions each: page s is slot s,
    // and slot(s) its one-page table.
    static KvCache slots(int64_t n_layers, int64_t n_slots, int64_t capacity, int64_t row_floats);
    std::span<const int32_t> slot(int64_t s) const { return {identity_.data() + s, 1}; }

    // Stores floats [offset, offset + n) of the row of `position` in the sequence whose page
    // table is `pages`.
    void write(int64_t layer, std::span<const int32_t> pages, int64_t position, int64_t offset, const float* values,
               int64_t n);

    // Rows [0, count) of a sequence in layer `layer`, as float32 rows to read: in place, page
    // by page, in a float32 cache; widened into `scratch` (one page of `count` rows) in a
    // bf16 one. `page_pointers` holds what the result points into.
    PagedRows rows(int64_t layer, std::span<const int32_t> pages, int64_t count,
                   std::vector<const float*>& page_pointers, LargeVector<float>& scratch) const;

    // Copies page `from`'s rows [0, rows) to page `to`, in every layer (a sequence taking its
    // own copy of a shared, partly filled page).
    void copy_page(int32_t from, int32_t to, int64_t rows);

    int64_t n_layers() const { return n_layers_; }
    int64_t n_pages() const { return n_pages_; }
    int64_t page_rows() const { return page_rows_; }
    int64_t row_floats() const { return row_floats_; }
    DType dtype() const { return dtype_; }
    int64_t bytes() const { return int64_t(data_.size() * sizeof(float)); }
    // Bytes of one page in every layer, for a cache of rows of `row_floats` in `dtype`.
    static int64_t page_bytes(int64_t n_layers, int64_t page_rows, int64_t row_floats, DType dtype)
    {
        return n_layers * page_rows * row_floats * dtype_size(dtype);
    }

private:
    // Element offset of the row of `position` of page `page` in layer `layer`.
    int64_t element(int64_t layer, int32_t page, int64_t row) const
    {
        return ((layer * n_pages_ + page) * page_rows_ + row) * row_floats_;
    }

    int64_t n_layers_, n_pages_, page_rows_, row_floats_;
    DType dtype_;
    Buffer data_;                    // float32 elements, or pairs of bf16 ones
    std::vector<int32_t> identity_;  // 0, 1, ...: every slot's page table
};

}  // namespace mariana
