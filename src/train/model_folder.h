// Writing a ParameterSet out as a Hugging Face checkpoint folder, and the extra state that
// makes a training checkpoint resumable. A folder holds
//   config.json, model.safetensors   a normal float32 checkpoint every command loads
//                                    (stored copies such as MTP's embedding included);
//   tokenizer files                  copied from the original model, when it has them;
// and, in training checkpoints,
//   optimizer.safetensors            AdamW's moments: "exp_avg.NAME", "exp_avg_sq.NAME"
//                                    for every parameter the optimiser updates;
//   trainer_state.json               the step count and data position.
// Folders are written under a temporary name, synced and renamed (StagedDirectory), so a
// kill at any moment leaves either the whole folder or none.
#pragma once

#include "core/json.h"
#include "train/adamw.h"
#include "train/parameters.h"

#include <string>
#include <vector>

namespace mariana::train {

// The config.json of a float32 copy of the model `config` describes: quantization_config
// dropped, torch_dtype "float32".
Json float32_config(const Json& config);

struct TrainingState {
    const AdamW* optimizer = nullptr;
    Json state;  // written as trainer_state.json
};

// Writes `dir` (which must not exist, or be empty). extra_files are copied in by name.
void write_model_folder(const std::string& dir, const Json& config, const ParameterSet& params,
                        const std::vector<std::string>& extra_files, const TrainingState* training = nullptr);

// Restores AdamW's moments and step count from a training checkpoint written by
// write_model_folder, checking every tensor against `params`' layout; returns the
// trainer_state.json object.
Json read_training_state(const std::string& dir, const ParameterSet& params, AdamW& optimizer);

}  // namespace mariana::train
