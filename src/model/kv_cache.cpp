#include "model/kv_cache.h"

#include "core/error.h"

#include <algorithm>
#include <numeric>

namespace mariana {

KvCache::KvCache(int64_t n_layers, int64_t n_pages, int64_t page_rows, int64_t row_floats)
    : n_layers_(n_layers), n_pages_(n_pages), page_rows_(page_rows), row_floats_(row_floats)
{
    if (n_layers <= 0 || n_pages <= 0 || page_rows <= 0 || row_floats <= 0)
        fail("a KV cache of {} layers, {} pages of {} rows of {} floats is empty", n_layers, n_pages, page_rows,
             row_floats);
    data_ = Buffer(size_t(n_layers * n_pages * page_rows * row_floats));
    identity_.resize(size_t(n_pages));
    std::iota(identity_.begin(), identity_.end(), 0);
}

KvCache KvCache::slots(int64_t n_layers, int64_t n_slots, int64_t capacity, int64_t row_floats)
{
    return KvCache(n_layers, n_slots, capacity, row_floats);
}

void KvCache::copy_page(int32_t from, int32_t to, int64_t rows)
{
    MARIANA_CHECK(rows >= 0 && rows <= page_rows_, "{} rows do not fit a page of {}", rows, page_rows_);
    for (int64_t layer = 0; layer < n_layers_; ++layer)
        std::copy_n(page(layer, from), rows * row_floats_, page(layer, to));
}

}  // namespace mariana
