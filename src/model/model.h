// The interface every architecture implements, and loading a model from a checkpoint.
#pragma once

#include "core/thread_pool.h"
#include "formats/checkpoint.h"
#include "model/config.h"
#include "model/kv_cache.h"
#include "model/tensor_decl.h"

#include <memory>
#include <span>
#include <string>
#include <vector>

namespace mariana {

// New tokens of one sequence: they take positions start_pos.. in the sequence's cache slot
// and attend to everything before them in that slot.
struct SequenceChunk {
    int64_t slot = 0;
    int64_t start_pos = 0;
    std::span<const int32_t> tokens;
};

enum class LogitsFor { all_tokens, last_token };

class Model {
public:
    virtual ~Model() = default;

    const ModelConfig& config() const { return config_; }

    // Floats per token and layer in the KV cache.
    virtual int64_t cache_row_floats() const = 0;
    KvCache make_cache(int64_t n_slots, int64_t capacity) const
    {
        return KvCache(config_.num_hidden_layers, n_slots, capacity, cache_row_floats());
    }

    // Runs the chunks (each a different slot) through the model as one batch, writing their
    // cache rows. logits: [tokens, vocab] for all_tokens, [chunks, vocab] for last_token.
    // Positions must stay below the cache capacity and max_position_embeddings, and token
    // ids below vocab_size (validate_batch checks; Error otherwise). Not thread-safe: the
    // model keeps its scratch buffers.
    virtual void forward(std::span<const SequenceChunk> batch, KvCache& cache, LogitsFor which, float* logits,
                         ThreadPool& pool) = 0;

protected:
    explicit Model(ModelConfig config) : config_(std::move(config)) {}
    void validate_batch(std::span<const SequenceChunk> batch, const KvCache& cache) const;

    ModelConfig config_;
    Checkpoint checkpoint_;  // keeps the mapped weights alive
};

// Opens a checkpoint folder and builds the model its config.json names.
std::unique_ptr<Model> load_model(const std::string& dir);

// Visits every tensor the architecture of `config` has, with targets in a weight struct
// that lives only during the call (for loaders that copy the values out).
void visit_declared_tensors(const ModelConfig& config, const TensorVisitor& visit);

// Every tensor the architecture of `config` has, with names and shapes (targets null).
std::vector<TensorDecl> declared_tensors(const ModelConfig& config);

}  // namespace mariana
