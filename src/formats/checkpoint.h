// A Hugging Face checkpoint folder: config.json plus model.safetensors, or several shards
// listed in model.safetensors.index.json. All shards stay mapped while the Checkpoint lives.
#pragma once

#include "core/json.h"
#include "formats/safetensors.h"
#include "formats/tensor_source.h"

#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace mariana {

class Checkpoint final : public TensorSource {
public:
    // Throws Error naming the folder or file when something is missing or corrupt.
    static Checkpoint open(const std::string& dir);

    const std::string& dir() const { return dir_; }
    const Json& config() const { return config_; }
    std::string config_path() const { return dir_ + "/config.json"; }

    const TensorInfo* find(std::string_view name) const override;
    const std::string& origin() const override { return dir_; }
    void release_pages() const override
    {
        for (const SafetensorsFile& shard : shards_) shard.release_pages();
    }
    // Throws Error "DIR: missing tensor 'NAME'".
    const TensorInfo& tensor(std::string_view name) const;
    const std::map<std::string, TensorInfo, std::less<>>& tensors() const { return tensors_; }

private:
    std::string dir_;
    Json config_;
    std::vector<SafetensorsFile> shards_;
    std::map<std::string, TensorInfo, std::less<>> tensors_;
};

}  // namespace mariana
