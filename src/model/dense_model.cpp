#include "model/dense_model.h"

#include "kernels/activation.h"
#include "kernels/attention.h"
#include "kernels/matmul.h"
#include "kernels/norm.h"
#include "kernels/rope.h"
#include "model/batch.h"
#include "model/lm_head.h"
#include "model/mlp.h"
#include "model/rope_frequencies.h"
#include "model/weight_loader.h"

#include <cmath>
#include <cstring>

namespace mariana {

DenseModel::DenseModel(ModelConfig config, std::shared_ptr<const TensorSource> source)
    : Model(std::move(config), std::move(source)), inv_freq_(rope_inv_frequencies(config_.rope, config_.head_dim))
{
    for_each_tensor(config_, weights_, tensor_loader(*source_));
    projection_dtype_ = weights_.layers.front().q_proj.dtype;
    if (config_.tie_word_embeddings) weights_.lm_head = weights_.embed;
}

namespace {

void add_bias(float* x, const std::vector<float>& bias, int64_t n_rows)
{
    if (bias.empty()) return;
    const int64_t n = int64_t(bias.size());
    for (int64_t r = 0; r < n_rows; ++r)
        for (int64_t i = 0; i < n; ++i) x[r * n + i] += bias[size_t(i)];
}

}  // namespace

void DenseModel::attention(const DenseLayer& w, int64_t l, const TokenBatch& batch, KvCache& cache, ThreadPool& pool)
{
    const int64_t T = batch.size(), nh = config_.num_attention_heads, nkv = config_.num_key_value_heads,
                  hd = config_.head_dim, group = nh / nkv;
    q_.resize(size_t(T * nh * hd));
    k_.resize(size_t(T * nkv * hd));
    v_.resize(size_t(T * nkv * hd));
    attn_.resize(size_t(T * nh * hd));
    matmul(w.q_proj, normed_.data(), T, q_.data(), pool, compute_);
    matmul(w.k_proj, normed_.data(), T, k_.data(), pool, compute_);
    matmul(w.v_proj, normed_.data(), T, v_.data(), pool, compute_);
    add_bias(q_.data(), w.q_bias, T);
    add_bias(k_.data(), w.k_bias, T);
    add_bias(v_.data(), w.v_bias, T);

    std::vector<float> cos_sin(static_cast<size_t>(hd));
    for (int64_t t = 0; t < T; ++t) {
        rope_angles(batch.positions[size_t(t)], inv_freq_.data(), hd, cos_sin.data());
        apply_rope(q_.data() + t * nh * hd, nh, hd, hd, cos_sin.data(), RopeLayout::half_split);
        apply_rope(k_.data() + t * nkv * hd, nkv, hd, hd, cos_sin.data(), RopeLayout::half_split);
        float* row = cache.row(l, batch.slots[size_t(t)], batch.positions[size_t(t)]);
        std::memcpy(row, k_.data() + t * nkv * hd, size_t(nkv * hd) * sizeof(float));
        std::memcpy(row + nkv * hd, v_.data() + t * nkv * hd, size_t(nkv * hd) * sizeof(float));
    }

    const float scale = float(1.0 / std::sqrt(double(hd)));
    for (size_t c = 0; c < batch.chunks.size(); ++c) {
        const SequenceChunk& chunk = batch.chunks[c];
        const int64_t first = batch.chunk_begin[c], n = int64_t(chunk.tokens.size()), L = chunk.start_pos + n;
        if (n > 1) {  // a prompt or its continuation: the blocked causal attention training runs
            // Keys and values of the whole sequence, read in place from the slot's cache rows.
            const float* keys = cache.row(l, chunk.slot, 0);
            const int64_t row = cache.row_floats();
            lse_.resize(size_t(nh * n));
            AttentionShape shape{n, nh, nkv, hd, hd, scale, compute_, 1};
            shape.past = chunk.start_pos;
            shape.k_stride = shape.v_stride = row;
            attention_forward(q_.data() + first * nh * hd, keys, keys + nkv * hd, shape, lse_.data(),
                              attn_.data() + first * nh * hd, pool);
            continue;
        }
        // One decoded token: a dot product per cached key, reading each row once.
        scores_.resize(size_t(nh * L));
        pool.parallel_for(nh, 1, [&](int64_t h_begin, int64_t h_end) {
            for (int64_t h = h_begin; h < h_end; ++h) {
                const int64_t kv_head = h / group;
                float* scores = scores_.data() + h * L;
                for (int64_t i = 0; i < n; ++i) {
                    const int64_t t = first + i, visible = chunk.start_pos + i + 1;
                    const float* q = q_.data() + (t * nh + h) * hd;
                    for (int64_t s = 0; s < visible; ++s)
                        scores[s] = dot(q, cache.row(l, chunk.slot, s) + kv_head * hd, hd) * scale;
                    softmax(scores, visible);
                    float* o = attn_.data() + (t * nh + h) * hd;
                    std::fill_n(o, hd, 0.0f);
                    for (int64_t s = 0; s < visible; ++s)
                        axpy(o, scores[s], cache.row(l, chunk.slot, s) + (nkv + kv_head) * hd, hd);
                }
            }
        });
    }
    matmul(w.o_proj, attn_.data(), T, branch_.data(), pool, compute_);
}

void DenseModel::forward(std::span<const SequenceChunk> chunks, KvCache& cache, LogitsFor which, float* logits,
                         ThreadPool& pool)
{
    validate_batch(chunks, cache);
    const TokenBatch batch(chunks);
    const int64_t T = batch.size(), H = config_.hidden_size;
    const float eps = float(config_.rms_norm_eps);
    h_.resize(size_t(T * H));
    normed_.resize(size_t(T * H));
    branch_.resize(size_t(T * H));

    embed_tokens(weights_.embed, batch.tokens, h_.data());
    for (int64_t l = 0; l < config_.num_hidden_layers; ++l) {
        const DenseLayer& layer = weights_.layers[size_t(l)];
        rmsnorm(h_.data(), layer.attn_norm.data(), T, H, eps, normed_.data());
        attention(layer, l, batch, cache, pool);
        for (int64_t i = 0; i < T * H; ++i) h_[size_t(i)] += branch_[size_t(i)];
        rmsnorm(h_.data(), layer.ffn_norm.data(), T, H, eps, normed_.data());
        mlp_forward(layer.mlp, normed_.data(), T, branch_.data(), mlp_scratch_, pool, compute_);
        for (int64_t i = 0; i < T * H; ++i) h_[size_t(i)] += branch_[size_t(i)];
    }
    final_logits(weights_.final_norm, weights_.lm_head, eps, h_.data(), H, batch.logit_rows(which), logits, pool,
                 compute_);
}

}  // namespace mariana
