// A weight matrix as stored in the checkpoint: [rows, cols] = [out, in], row-major, in its
// stored dtype. Kernels convert to float32 on the fly; nothing is copied at load time.
#pragma once

#include "core/dtype.h"

#include <cstdint>

namespace mariana {

// FP8 checkpoints (DeepSeek-V3/R1) carry one float32 scale per 128×128 block.
inline constexpr int64_t kFp8BlockSize = 128;

struct Weight {
    DType dtype = DType::f32;
    int64_t rows = 0;
    int64_t cols = 0;
    const void* data = nullptr;  // row 0 of this view
    // FP8 only: the whole matrix's scales [ceil(R/128), scale_cols]; value = code · scale.
    const float* block_scale = nullptr;
    int64_t scale_cols = 0;
    int64_t scale_row0 = 0;  // index in the whole matrix of this view's row 0

    // Rows [begin, begin + count) as a view of the same storage.
    Weight row_slice(int64_t begin, int64_t count) const
    {
        Weight slice = *this;
        slice.rows = count;
        slice.data = static_cast<const char*>(data) + begin * cols * dtype_size(dtype);
        slice.scale_row0 = scale_row0 + begin;
        return slice;
    }

    const float* scale_row(int64_t row) const
    {
        return block_scale + (scale_row0 + row) / kFp8BlockSize * scale_cols;
    }

    // One element, converted exactly as the reference does (slow; for reference kernels).
    float at(int64_t row, int64_t col) const;

    int64_t bytes() const { return rows * cols * dtype_size(dtype); }
};

}  // namespace mariana
