// The key/value cache: one pool of pages, each holding `page_rows` consecutive positions
// of one sequence in every layer. A row is the floats the model keeps per token and layer
// (MLA: the normalised latent and the rotated rope key; dense models: the keys and values
// of every KV head). A sequence's page table lists its pages in position order, so
// sequences of any length share one pool, and sequences with a common prefix can share
// its pages (runtime/page_pool.h decides who owns which).
#pragma once

#include "core/buffer.h"

#include <cstdint>
#include <span>
#include <vector>

namespace mariana {

class KvCache {
public:
    KvCache(int64_t n_layers, int64_t n_pages, int64_t page_rows, int64_t row_floats);

    // A cache of `n_slots` sequences of up to `capacity` positions each: page s is slot s,
    // and slot(s) its one-page table.
    static KvCache slots(int64_t n_layers, int64_t n_slots, int64_t capacity, int64_t row_floats);
    std::span<const int32_t> slot(int64_t s) const { return {identity_.data() + s, 1}; }

    // The rows of page `page` in layer `layer`: [page_rows, row_floats].
    float* page(int64_t layer, int32_t page)
    {
        return data_.data() + ((layer * n_pages_ + page) * page_rows_) * row_floats_;
    }
    const float* page(int64_t layer, int32_t page) const { return const_cast<KvCache*>(this)->page(layer, page); }
    // The row of `position` in the sequence whose page table is `pages`.
    float* row(int64_t layer, std::span<const int32_t> pages, int64_t position)
    {
        return page(layer, pages[size_t(position / page_rows_)]) + (position % page_rows_) * row_floats_;
    }
    // Copies page `from`'s rows [0, rows) to page `to`, in every layer (a sequence taking its
    // own copy of a shared, partly filled page).
    void copy_page(int32_t from, int32_t to, int64_t rows);

    int64_t n_layers() const { return n_layers_; }
    int64_t n_pages() const { return n_pages_; }
    int64_t page_rows() const { return page_rows_; }
    int64_t row_floats() const { return row_floats_; }
    int64_t bytes() const { return int64_t(data_.size() * sizeof(float)); }

private:
    int64_t n_layers_, n_pages_, page_rows_, row_floats_;
    Buffer data_;
    std::vector<int32_t> identity_;  // 0, 1, ...: every slot's page table
};

}  // namespace mariana
