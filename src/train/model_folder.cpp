#include "train/model_folder.h"

#include "core/error.h"
#include "core/staged_directory.h"
#include "core/text_file.h"
#include "formats/safetensors.h"

#include <cstring>
#include <filesystem>
#include <map>

namespace mariana::train {

namespace {

namespace fs = std::filesystem;

// A tensor to write: a parameter's slice of a buffer in the parameters' layout.
struct Slice {
    const Parameter* parameter;
    const float* buffer;
};

void write_f32(const std::string& path, const std::map<std::string, Slice>& tensors)
{
    std::vector<TensorSpec> specs;
    for (const auto& [name, slice] : tensors) specs.push_back({name, DType::f32, slice.parameter->shape});
    write_safetensors(path, specs, [&](const TensorSpec& spec, std::span<std::byte> out) {
        const Slice& slice = tensors.at(spec.name);
        std::memcpy(out.data(), slice.buffer + slice.parameter->offset, size_t(slice.parameter->size) * sizeof(float));
    });
}

}  // namespace

Json float32_config(const Json& config)
{
    Json out = config;
    out.erase("quantization_config");
    out["torch_dtype"] = "float32";
    return out;
}

void write_model_folder(const std::string& dir, const Json& config, const ParameterSet& params,
                        const std::vector<std::string>& extra_files, const TrainingState* training)
{
    StagedDirectory staged(dir);
    const std::string& out = staged.path();
    write_text_file(out + "/config.json", float32_config(config).dump(2) + "\n");

    std::map<std::string, Slice> weights;
    for (const Parameter& p : params.parameters()) weights[p.name] = {&p, params.values().data()};
    write_f32(out + "/model.safetensors", weights);

    for (const std::string& file : extra_files) {
        std::error_code error;
        fs::copy_file(file, fs::path(out) / fs::path(file).filename(), error);
        if (error) fail("cannot copy {} into {}: {}", file, dir, error.message());
    }
    if (training) {
        const AdamW& adamw = *training->optimizer;
        std::map<std::string, Slice> moments;
        for (const Parameter& p : params.parameters())
            if (p.learned()) {
                moments["exp_avg." + p.name] = {&p, adamw.first_moment().data()};
                moments["exp_avg_sq." + p.name] = {&p, adamw.second_moment().data()};
            }
        write_f32(out + "/optimizer.safetensors", moments);
        write_text_file(out + "/trainer_state.json", training->state.dump(2) + "\n");
    }
    staged.commit();
}

Json read_training_state(const std::string& dir, const ParameterSet& params, AdamW& optimizer)
{
    const SafetensorsFile file = SafetensorsFile::open(dir + "/optimizer.safetensors");
    std::map<std::string, const TensorInfo*> tensors;
    for (const TensorInfo& t : file.tensors()) tensors[t.name] = &t;
    auto restore = [&](const std::string& prefix, LargeVector<float>& moment) {
        for (const Parameter& p : params.parameters()) {
            if (!p.learned()) continue;
            const auto it = tensors.find(prefix + p.name);
            if (it == tensors.end()) fail("{}/optimizer.safetensors: missing tensor '{}'", dir, prefix + p.name);
            const TensorInfo& t = *it->second;
            if (t.dtype != DType::f32 || t.shape != p.shape)
                fail("{}/optimizer.safetensors: tensor '{}' does not match the model's parameter", dir, t.name);
            std::memcpy(moment.data() + p.offset, t.data, size_t(p.size) * sizeof(float));
        }
    };
    restore("exp_avg.", optimizer.first_moment());
    restore("exp_avg_sq.", optimizer.second_moment());
    const Json state = read_json_file(dir + "/trainer_state.json");
    if (!state.is_object() || !state.contains("adam_steps") || !state["adam_steps"].is_number_integer())
        fail("{}/trainer_state.json: expected an object with an integer \"adam_steps\"", dir);
    optimizer.set_steps(state["adam_steps"].get<int64_t>());
    return state;
}

}  // namespace mariana::train
