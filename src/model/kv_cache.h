// The key/value cache: for every layer, sequence slot and position, one row of floats whose
// meaning the model defines (MLA: the normalised latent and the rotated rope key; dense
// models: the keys and values of every KV head). Slots let one cache hold many sequences.
#pragma once

#include "core/buffer.h"

#include <cstdint>

namespace mariana {

class KvCache {
public:
    KvCache(int64_t n_layers, int64_t n_slots, int64_t capacity, int64_t row_floats);

    // [row_floats] at (layer, slot, position); rows of one slot and layer are contiguous.
    float* row(int64_t layer, int64_t slot, int64_t position)
    {
        return data_.data() + ((layer * n_slots_ + slot) * capacity_ + position) * row_floats_;
    }

    int64_t n_slots() const { return n_slots_; }
    int64_t capacity() const { return capacity_; }  // positions per slot
    int64_t row_floats() const { return row_floats_; }
    int64_t bytes() const { return int64_t(data_.size() * sizeof(float)); }

private:
    int64_t n_slots_, capacity_, row_floats_;
    Buffer data_;
};

}  // namespace mariana
