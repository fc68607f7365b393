// The interface every architecture implements, and loading a model from a checkpoint.
#pragma once

#include "core/thread_pool.h"
#include "formats/tensor_source.h"
#include "kernels/gemm.h"
#include "model/batch.h"
#include "model/config.h"
#include "model/kv_cache.h"
#include "model/tensor_decl.h"

#include <memory>
#include <span>
#include <string>
#include <vector>

namespace mariana {

class Model {
public:
    virtual ~Model() = default;

    const ModelConfig& config() const { return config_; }

    // Floats per token and layer in the KV cache.
    virtual int64_t cache_row_floats() const = 0;
    // A cache of n_pages pages of page_rows positions each, rows stored in `dtype` (f32, bf16).
    KvCache make_cache_pages(int64_t n_pages, int64_t page_rows, DType dtype = DType::f32) const
    {
        return KvCache(config_.num_hidden_layers, n_pages, page_rows, cache_row_floats(), dtype);
    }
    // A cache of n_slots sequences of up to `capacity` positions each (KvCache::slot).
    KvCache make_cache(int64_t n_slots, int64_t capacity) const
    {
        return KvCache::slots(config_.num_hidden_layers, n_slots, capacity, cache_row_floats());
    }

    // Runs the chunks (each of a different sequence) through the model as one batch,
    // writing their cache rows. logits: [tokens, vocab] for all_tokens, [chunks that want
    // logits, vocab] for last_token. Positions must stay below max_position_embeddings and
    // within each chunk's pages, and token ids below vocab_size (validate_batch checks;
    // Error otherwise). Not thread-safe: the model keeps its scratch buffers.
    virtual void forward(std::span<const SequenceChunk> batch, KvCache& cache, LogitsFor which, float* logits,
                         ThreadPool& pool) = 0;

    // The arithmetic of the products: float32 (the default, the reference's numerics) or
    // bf16 (projections with F32 or BF16 weights on a copy packed once, kernels/gemm.h's
    // gemm_packed, and the blocked attention of chunks; logits within the bound
    // tests/golden_model_test.cpp states). The router, one-token attention and MLA's
    // absorbed form stay float32. Either way a sequence's logits do not depend on the
    // other sequences of its batch.
    void set_compute(GemmPrecision precision) { compute_ = precision; }
    GemmPrecision compute() const { return compute_; }
    // How the projections are stored (F32, BF16, F16 or F8_E4M3), which decides the
    // default compute of a run.
    DType projection_dtype() const { return projection_dtype_; }

protected:
    Model(ModelConfig config, std::shared_ptr<const TensorSource> source)
        : config_(std::move(config)), source_(std::move(source))
    {
    }
    void validate_batch(std::span<const SequenceChunk> batch, const KvCache& cache) const;

    ModelConfig config_;
    std::shared_ptr<const TensorSource> source_;  // keeps the weights' data alive
    GemmPrecision compute_ = GemmPrecision::f32;
    DType projection_dtype_ = DType::f32;  // set by each architecture once its weights are bound
};

// Builds the model of `config`'s architecture on the tensors of `source`: matrices are
// used where they are, in their dtype; norms and biases are copied to float32. Cheap when
// the source is in memory, so code that changes the tensors (an optimiser step) builds the
// model again afterwards rather than use one whose copies are stale. Throws Error naming a
// missing or mis-shaped tensor. Two models built this way are independent (each with its
// own scratch; each caller makes its own KvCache).
std::unique_ptr<Model> build_model(ModelConfig config, std::shared_ptr<const TensorSource> source);

// Opens a checkpoint folder (memory-mapped) and builds the model its config.json names.
std::unique_ptr<Model> load_model(const std::string& dir);

// Visits every tensor the architecture of `config` has, with targets in a weight struct
// that lives only during the call (for loaders that copy the values out).
void visit_declared_tensors(const ModelConfig& config, const TensorVisitor& visit);

// Every tensor the architecture of `config` has, with names and shapes (targets null).
std::vector<TensorDecl> declared_tensors(const ModelConfig& config);

}  // namespace mariana
