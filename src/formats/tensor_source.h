// Named tensors that a model binds its weights to: the mapped files of a checkpoint folder
// (Checkpoint), or tensors that live in memory (TensorMap: a trainer's float32 parameters,
// or a bfloat16 copy of them). The source owns, or keeps alive, the data it points to.
#pragma once

#include "formats/safetensors.h"

#include <map>
#include <memory>
#include <string>
#include <string_view>

namespace mariana {

class TensorSource {
public:
    virtual ~TensorSource() = default;
    // The tensor called `name`, or null.
    virtual const TensorInfo* find(std::string_view name) const = 0;
    // What holds the tensors, for error messages: a checkpoint folder, "parameters in memory".
    virtual const std::string& origin() const = 0;
    // Tells the source that its tensors' memory is not needed for now (a model has copied
    // what it reads): mapped files let the kernel drop their pages, to be read again from
    // the file if touched. Tensors in memory stay as they are.
    virtual void release_pages() const {}
};

// Tensors in memory, by name. Cheap to build: it records pointers, and keeps alive only what
// it is given to own.
class TensorMap final : public TensorSource {
public:
    explicit TensorMap(std::string origin) : origin_(std::move(origin)) {}

    // `data` holds numel(shape) values of `dtype`, aligned to the element size, and must
    // outlive this map (or be owned by it, see keep). Throws Error for a repeated name.
    void add(const std::string& name, DType dtype, std::vector<int64_t> shape, const void* data);
    // Keeps `storage` alive as long as the map (a copy the map's tensors point into).
    void keep(std::shared_ptr<const void> storage) { kept_.push_back(std::move(storage)); }

    const TensorInfo* find(std::string_view name) const override;
    const std::string& origin() const override { return origin_; }

private:
    std::string origin_;
    std::map<std::string, TensorInfo, std::less<>> tensors_;
    std::vector<std::shared_ptr<const void>> kept_;
};

}  // namespace mariana
