#include "formats/checkpoint.h"

#include "core/error.h"

#include <filesystem>
#include <set>

namespace mariana {

namespace fs = std::filesystem;

namespace {

// The shard file names of model.safetensors.index.json's weight_map, checked to stay
// inside the checkpoint folder.
std::set<std::string> shard_names(const std::string& index_path)
{
    const Json index = read_json_file(index_path);
    const auto map = index.find("weight_map");
    if (!index.is_object() || map == index.end() || !map->is_object())
        fail("{}: missing object 'weight_map'", index_path);
    std::set<std::string> names;
    for (const auto& [tensor, file] : map->items()) {
        if (!file.is_string()) fail("{}: weight_map['{}'] must be a file name", index_path, tensor);
        const std::string name = file.get<std::string>();
        if (name.empty() || name.find('/') != std::string::npos || name == "..")
            fail("{}: weight_map['{}'] = '{}' is not a file name in the checkpoint folder", index_path, tensor, name);
        names.insert(name);
    }
    return names;
}

}  // namespace

Checkpoint Checkpoint::open(const std::string& dir)
{
    if (!fs::is_directory(dir)) fail("{}: not a checkpoint folder (no such directory)", dir);
    Checkpoint checkpoint;
    checkpoint.dir_ = dir;
    checkpoint.config_ = read_json_file(checkpoint.config_path());

    const std::string single = dir + "/model.safetensors";
    const std::string index = dir + "/model.safetensors.index.json";
    std::vector<std::string> files;
    if (fs::exists(index)) {
        for (const auto& name : shard_names(index)) files.push_back(dir + "/" + name);
    } else if (fs::exists(single)) {
        files.push_back(single);
    } else {
        fail("{}: no model.safetensors or model.safetensors.index.json", dir);
    }
    for (const auto& file : files) {
        checkpoint.shards_.push_back(SafetensorsFile::open(file));
        for (const auto& tensor : checkpoint.shards_.back().tensors()) {
            if (checkpoint.tensors_.count(tensor.name))
                fail("{}: tensor '{}' appears in more than one shard", file, tensor.name);
            checkpoint.tensors_.emplace(tensor.name, tensor);
        }
    }
    return checkpoint;
}

const TensorInfo* Checkpoint::find(std::string_view name) const
{
    const auto it = tensors_.find(name);
    return it == tensors_.end() ? nullptr : &it->second;
}

const TensorInfo& Checkpoint::tensor(std::string_view name) const
{
    const TensorInfo* info = find(name);
    if (!info) fail("{}: missing tensor '{}'", dir_, name);
    return *info;
}

}  // namespace mariana
