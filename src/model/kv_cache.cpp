#include "model/kv_cache.h"

namespace mariana {

KvCache::KvCache(int64_t n_layers, int64_t n_slots, int64_t capacity, int64_t row_floats)
    : n_slots_(n_slots), capacity_(capacity), row_floats_(row_floats),
      data_(size_t(n_layers * n_slots * capacity * row_floats))
{
}

}  // namespace mariana
