// Multi-head latent attention (DeepSeek-V2/V3). The cache holds, per token and layer, only
// the normalised latent c (kv_lora_rank floats) and the rotated rope key (qk_rope_head_dim).
//
// Two forms give the same answer (associativity; the goldens agree to ~1e-5):
// - expanded: kv_b_proj turns each cached latent into per-head keys and values, then
//   ordinary attention. Cheapest for a prefill from position 0 (nothing cached to expand).
// - absorbed: kv_b_proj is folded into the query (q̃ = W_UKᵀ q_nope) and the output
//   (o = W_UV Σ P c), so attention runs over the latents directly. Used whenever tokens
//   attend to a cached prefix (decoding), where expanding the prefix would dominate.
#pragma once

#include "core/thread_pool.h"
#include "kernels/gemm.h"
#include "model/batch.h"
#include "model/deepseek_weights.h"
#include "model/kv_cache.h"

#include <vector>

namespace mariana {

enum class MlaForm { automatic, expanded, absorbed };

class Mla {
public:
    explicit Mla(const ModelConfig& config);

    int64_t cache_row_floats() const { return R_ + dr_; }

    // x: [T, H] normalised hidden states; out: [T, H]. Writes the batch's cache rows.
    // `precision`: the run's compute setting (Model::set_compute).
    void forward(const MlaWeights& w, int64_t layer, const float* x, const TokenBatch& batch, KvCache& cache, float* out,
                 ThreadPool& pool, GemmPrecision precision);

    MlaForm form = MlaForm::automatic;  // tests force one form to compare them

private:
    // Expands the chunk's cached latents to per-head keys and values, then runs the blocked
    // causal attention that training runs (kernels/attention.h), the chunk's queries after
    // its cached prefix.
    void attend_expanded(const MlaWeights& w, int64_t layer, const TokenBatch& batch, size_t chunk, KvCache& cache,
                         ThreadPool& pool, GemmPrecision precision);
    void attend_absorbed(const MlaWeights& w, int64_t layer, const TokenBatch& batch, size_t chunk, KvCache& cache,
                         ThreadPool& pool);

    int64_t H_, nh_, dn_, dr_, dv_, R_, Rq_;
    float eps_;
    float softmax_scale_;
    std::vector<float> inv_freq_;  // [dr/2]
    float rotation_scale_;

    // Scratch, grown as needed.
    std::vector<float> q_a_;       // [T, Rq]
    std::vector<float> q_;         // [T, nh·(dn+dr)]
    std::vector<float> kv_a_;      // [T, R+dr]
    std::vector<float> attn_;      // [T, nh·dv]
    std::vector<float> latents_;   // [L, R] gathered for expansion
    std::vector<float> kv_;        // [L, nh·(dn+dv)] expanded keys and values
    std::vector<float> per_head_;  // [nh, L + 2R] absorbed: scores and absorbed vectors
    std::vector<float> keys_, values_, lse_;  // expanded: [L, nh·(dn+dr)], [L, nh·dv], [nh, n]
};

}  // namespace mariana
