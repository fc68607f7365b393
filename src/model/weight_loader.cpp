#include "model/weight_loader.h"

#include "core/error.h"

#include <cstring>
#include <fmt/ranges.h>

namespace mariana {

namespace {

std::string shape_string(const std::vector<int64_t>& shape) { return fmt::format("[{}]", fmt::join(shape, ", ")); }

std::string scale_name(const std::string& weight_name)
{
    const std::string suffix = ".weight";
    const std::string stem = weight_name.ends_with(suffix) ? weight_name.substr(0, weight_name.size() - suffix.size()) : weight_name;
    return stem + ".weight_scale_inv";
}

void load_matrix(const TensorSource& source, const TensorDecl& decl, const TensorInfo& info)
{
    Weight& w = *decl.matrix;
    w = Weight{info.dtype, decl.shape[0], decl.shape[1], info.data};
    if (info.dtype != DType::f8_e4m3) return;
    const std::string name = scale_name(decl.name);
    const TensorInfo* scale = source.find(name);
    if (!scale) fail("{}: tensor '{}' is F8_E4M3 but its block scales '{}' are missing", source.origin(), decl.name, name);
    const std::vector<int64_t> expected = {(w.rows + kFp8BlockSize - 1) / kFp8BlockSize,
                                           (w.cols + kFp8BlockSize - 1) / kFp8BlockSize};
    if (scale->dtype != DType::f32 || scale->shape != expected)
        fail("{}: tensor '{}' must be F32 {} (one scale per 128x128 block), got {} {}", source.origin(), name,
             shape_string(expected), dtype_name(scale->dtype), shape_string(scale->shape));
    if (reinterpret_cast<uintptr_t>(scale->data) % alignof(float))
        fail("{}: tensor '{}' is not 4-byte aligned in its file", source.origin(), name);
    w.block_scale = reinterpret_cast<const float*>(scale->data);
    w.scale_cols = expected[1];
}

void load_vector(const TensorDecl& decl, const TensorInfo& info)
{
    std::vector<float>& v = *decl.vector;
    v.resize(size_t(info.numel()));
    for (size_t i = 0; i < v.size(); ++i) {
        const std::byte* p = info.data + i * size_t(dtype_size(info.dtype));
        uint32_t bits = 0;
        std::memcpy(&bits, p, size_t(dtype_size(info.dtype)));
        switch (info.dtype) {
        case DType::f32: v[i] = bits_to_f32(bits); break;
        case DType::bf16: v[i] = bf16_to_f32(uint16_t(bits)); break;
        case DType::f16: v[i] = f16_to_f32(uint16_t(bits)); break;
        case DType::f8_e4m3: v[i] = fp8_e4m3_to_f32(uint8_t(bits)); break;
        }
    }
}

}  // namespace

TensorVisitor tensor_loader(const TensorSource& source)
{
    return [&source](const TensorDecl& decl) {
        const TensorInfo* info = source.find(decl.name);
        if (!info) {
            if (decl.optional) return;
            fail("{}: missing tensor '{}' (expected shape {})", source.origin(), decl.name, shape_string(decl.shape));
        }
        if (info->shape != decl.shape)
            fail("{}: tensor '{}' has shape {} but config.json implies {}", source.origin(), decl.name,
                 shape_string(info->shape), shape_string(decl.shape));
        if (decl.matrix) {
            // Kernels read elements in place; safetensors does not promise alignment.
            if (reinterpret_cast<uintptr_t>(info->data) % dtype_size(info->dtype))
                fail("{}: tensor '{}' is not aligned to its element size in its file", source.origin(), decl.name);
            load_matrix(source, decl, *info);
        } else {
            load_vector(decl, *info);
        }
    };
}

}  // namespace mariana
