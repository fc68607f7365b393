// The safetensors format: an 8-byte little-endian header length, a JSON header naming each
// tensor's dtype, shape and byte range, then the raw little-endian data.
// https://github.com/huggingface/safetensors (format description in its README).
#pragma once

#include "core/dtype.h"
#include "core/mapped_file.h"

#include <cstdint>
#include <functional>
#include <map>
#include <span>
#include <string>
#include <vector>

namespace mariana {

struct TensorInfo {
    std::string name;
    DType dtype = DType::f32;
    std::vector<int64_t> shape;
    uint64_t begin = 0;  // byte offsets relative to the data section
    uint64_t end = 0;
    const std::byte* data = nullptr;  // into the mapped file; null until mapped

    int64_t numel() const;
};

// Parses and validates a whole file image (header and data bounds): every tensor's byte
// range lies inside the data section, matches dtype × shape, and no two ranges overlap.
// Pure function of its input (the fuzz target drives it). `what` names the file in errors.
std::vector<TensorInfo> parse_safetensors(std::span<const std::byte> file, const std::string& what);

// A mapped .safetensors file whose tensors point into the map.
class SafetensorsFile {
public:
    static SafetensorsFile open(const std::string& path);

    const std::vector<TensorInfo>& tensors() const { return tensors_; }
    const std::string& path() const { return file_.path(); }
    void release_pages() const { file_.release_pages(); }

private:
    MappedFile file_;
    std::vector<TensorInfo> tensors_;
};

// Writes a safetensors file tensor by tensor, so a checkpoint larger than memory can be
// written: the header is computed from the specs first, then `fill` is called once per
// tensor (in name order) with a buffer of exactly that tensor's bytes.
struct TensorSpec {
    std::string name;
    DType dtype;
    std::vector<int64_t> shape;
};
void write_safetensors(const std::string& path, std::vector<TensorSpec> specs,
                       const std::function<void(const TensorSpec&, std::span<std::byte>)>& fill);

}  // namespace mariana
