// The layout of a training run's output folder OUT:
//   OUT/data/tokens.bin, OUT/data/sources.json  the token stream and what it was made from
//   OUT/checkpoint-NNNNNNN/                     resumable checkpoints (model_folder.h), the
//                                               number being the steps completed
//   OUT/metrics.jsonl                           one JSON object per step
//   OUT/final/                                  the trained model
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace mariana::train {

std::string checkpoint_dir(const std::string& out, int64_t step);

// The completed checkpoints in `out`, oldest first (staging folders of interrupted
// saves are not checkpoints).
std::vector<std::string> list_checkpoints(const std::string& out);
std::optional<std::string> latest_checkpoint(const std::string& out);

// Removes all but the newest `keep` checkpoints.
void prune_checkpoints(const std::string& out, int64_t keep);

// Keeps the lines of metrics.jsonl whose "step" is at most `step` (a resumed run then
// appends the rest again), dropping any line a kill cut short. Atomic (rename).
void truncate_metrics(const std::string& path, int64_t step);

// Peak resident memory of this process so far, in bytes.
int64_t peak_rss_bytes();

}  // namespace mariana::train
