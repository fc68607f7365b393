// Multi-head latent attention (DeepSeek-V2/V3). The latent c = RMSNorm(x·W_DKVᵀ) and one
// rope key k_pe shared by all heads come from kv_a_proj_with_mqa; kv_b_proj turns c into
// per-head keys [k_nope_h, k_pe] and values. Queries come from q_proj, or from q_a_proj →
// RMSNorm → q_b_proj when q_lora_rank > 0. RoPE is interleaved on the last
// qk_rope_head_dim dims of queries and on k_pe. A cache row holds only c (kv_lora_rank
// floats) and the rotated k_pe. Its modes are the decoder layer's (model/decoder_layer.h).
//
// Two forms give the same answer (associativity; the goldens agree to ~1e-5):
// - expanded: kv_b_proj turns each latent into per-head keys and values, then ordinary
//   attention. Training always runs it, and inference for a prompt from position 0
//   (nothing cached to expand).
// - absorbed: kv_b_proj is folded into the query (q̃ = W_UKᵀ q_nope) and the output
//   (o = W_UV Σ P c), so attention runs over the cached latents directly. Used whenever
//   tokens attend to a cached prefix (decoding), where expanding it would dominate.
#pragma once

#include "core/huge_pages.h"
#include "kernels/attention.h"
#include "model/batch.h"
#include "model/deepseek_weights.h"
#include "model/kv_cache.h"
#include "model/linear.h"
#include "model/rope_table.h"

#include <span>
#include <vector>

namespace mariana {

enum class MlaForm { automatic, expanded, absorbed };

template <typename T>
class MlaBlock {
public:
    // N rows of the batch; L the keys a chunk attends over.
    struct Activations {
        std::vector<T> cos_sin;                  // the rotary table
        LargeVector<T> q_a, q_a_n, q_a_rstd;     // [N, Rq], [N]: the low-rank query path
        LargeVector<T> q;                        // [N, nh·(dn+dr)], rope part rotated
        LargeVector<T> x_proj;                   // [N, x_proj_.out] before the split
        LargeVector<T> latent, c, c_rstd;        // [N, R] before and after kv_a_layernorm
        LargeVector<T> k_pe;                     // [N, dr] rotated
        LargeVector<T> kv;                       // [L, nh·(dn+dv)] kv_b_proj(c)
        LargeVector<T> k, v;                     // [L, nh·(dn+dr)], [L, nh·dv]
        LargeVector<T> lse, attn;                // [B, nh, S] softmax log-sums, [N, nh·dv]
        // With a cache: a chunk's cached latents to expand [L, R]; absorbed, per head, its
        // scores and absorbed vectors [nh, L + 2R].
        LargeVector<T> latents, per_head;
        // Each chunk's cached rows as KvCache::rows gives them: its pages, or (bf16 cache)
        // the rows widened to float32.
        std::vector<std::vector<const float*>> chunk_pages;
        std::vector<LargeVector<float>> chunk_rows;
        LargeVector<T> dattn, dq, dk, dvalue, dkv, dc, dlatent, dk_pe, dq_a_n, dq_a, dx_proj;
    };

    // The parameters of `w`, layer `layer`'s attention bound by `bind`.
    MlaBlock(const ModelConfig& config, const ParameterBinding& bind, const MlaWeights& w, int64_t layer);

    int64_t cache_row_floats() const { return R_ + dr_; }
    // x [batch.size(), hidden] normalised hidden states → out [.., hidden] (overwritten).
    void forward(const WeightsView<T>& w, const T* x, const TokenBatch& batch, KvCache* cache, T* out,
                 Activations& a, ThreadPool& pool) const;
    // For the forward that filled `a`, which ran without a cache: dx = ∂/∂x of Σ dout ⊙ out
    // (overwritten); parameter gradients added.
    void backward(const WeightsView<T>& w, const T* x, const T* dout, const TokenBatch& batch, T* dx,
                  Activations& a, ThreadPool& pool) const;

    MlaForm form = MlaForm::automatic;  // with a cache; tests force one form to compare them

private:
    // With a cache: the chunk's cached latents expanded to per-head keys and values, then
    // the blocked causal attention, the chunk's queries after its cached prefix.
    void attend_expanded(const WeightsView<float>& w, const TokenBatch& batch, size_t chunk, KvCache& cache,
                         Activations& a, ThreadPool& pool) const;
    // The chunks `chunks` (decoded tokens, continuations of cached prefixes) in the absorbed
    // form, head by head: each head's kv_b_proj rows are read once per call for the tokens
    // of every sequence, and stay in cache while they serve them.
    void attend_absorbed(const WeightsView<float>& w, const TokenBatch& batch, std::span<const size_t> chunks,
                         KvCache& cache, Activations& a, ThreadPool& pool) const;
    AttentionShape shape(int64_t length, int64_t sequences, GemmPrecision precision) const;
    // Per head, from a.kv (kv_b_proj's [nh, dn + dv] rows of each latent), the key
    // [k_nope_h, k_pe] with the one rotated rope key all heads share (rope_key(s): row s's),
    // and the value, into a.k and a.v token-major as the attention kernel reads them.
    template <typename RopeKey>
    void keys_and_values(int64_t rows, RopeKey rope_key, Activations& a, ThreadPool& pool) const;

    int64_t nh_, dn_, dr_, dv_, R_, Rq_, layer_;
    T eps_;
    double scale_;  // softmax scale with YaRN's mscale correction
    // The projections of x, stored one after the other (as the architecture declares them):
    // q_proj or q_a_proj, then kv_a_proj_with_mqa's R latent rows and dr rope-key rows.
    Linear x_proj_;
    Linear q_b_proj_;  // with q_lora
    Linear kv_b_proj_, o_proj_;
    VectorParam q_a_norm_, kv_a_norm_;
    RopeTable<T> rope_;
};

}  // namespace mariana
