#include "formats/tensor_source.h"

#include "core/error.h"

namespace mariana {

void TensorMap::add(const std::string& name, DType dtype, std::vector<int64_t> shape, const void* data)
{
    TensorInfo info{.name = name, .dtype = dtype, .shape = std::move(shape), .begin = 0, .end = 0,
                    .data = static_cast<const std::byte*>(data)};
    info.end = uint64_t(info.numel() * dtype_size(dtype));
    if (!tensors_.emplace(name, std::move(info)).second) fail("{}: tensor '{}' added twice", origin_, name);
}

const TensorInfo* TensorMap::find(std::string_view name) const
{
    const auto it = tensors_.find(name);
    return it == tensors_.end() ? nullptr : &it->second;
}

}  // namespace mariana
