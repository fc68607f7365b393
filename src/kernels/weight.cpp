#include "kernels/weight.h"

namespace mariana {

float Weight::at(int64_t row, int64_t col) const
{
    const int64_t i = row * cols + col;
    switch (dtype) {
    case DType::f32: return static_cast<const float*>(data)[i];
    case DType::bf16: return bf16_to_f32(static_cast<const uint16_t*>(data)[i]);
    case DType::f16: return f16_to_f32(static_cast<const uint16_t*>(data)[i]);
    case DType::f8_e4m3:
        return fp8_e4m3_to_f32(static_cast<const uint8_t*>(data)[i]) * scale_row(row)[col / kFp8BlockSize];
    }
    return 0.0f;
}

}  // namespace mariana
