#include "model/moe_block.h"

#include "kernels/prefetch.h"
#include "model/router.h"
#include "kernels/elementwise.h"

#include <algorithm>

namespace mariana {

namespace {

// Tokens per chunk of the per-token loops (routing, gathers, scatters, score gradients).
constexpr int64_t kTokenGrain = 128;

// The router's products stay float32 whatever the experts use: DeepSeek-V3's training keeps
// its gating out of its low-precision products, and bf16 scores would move which experts
// win near ties. The product is a few columns wide, so this costs little, and float32 reads
// x in place where bf16 would pack it.
template <typename T>
WeightsView<T> in_float32(WeightsView<T> w)
{
    w.precision = GemmPrecision::f32;
    return w;
}

// The loops over an expert's slots read, or add into, rows of tokens scattered over the
// batch, so each row would start with a miss: the row of the slot kAhead on is brought in
// while this one is worked on.
template <typename T>
void prefetch_slot_row(const T* rows, const std::vector<int64_t>& slots, int64_t i, int64_t K, int64_t H)
{
    constexpr int64_t kAhead = 4;
    if (i + kAhead < int64_t(slots.size())) Prefetch(rows + slots[size_t(i + kAhead)] / K * H, 1, H, H).issue_all();
}

}  // namespace

template <typename T>
MoeBlock<T>::MoeBlock(const ModelConfig& c, const ParameterBinding& bind, const MoeWeights& w, double balance_alpha)
    : config_(c), E_(c.n_routed_experts), K_(c.num_experts_per_tok), alpha_(balance_alpha),
      router_(Linear::of(bind, w.router))
{
    if (c.correction_bias) bias_ = bind.vector(w.correction_bias);
    experts_.reserve(size_t(E_));
    for (const MlpWeights& expert : w.experts) experts_.emplace_back(bind, expert);
    if (c.n_shared_experts > 0) shared_.emplace(bind, w.shared);
}

template <typename T>
void MoeBlock<T>::forward(const WeightsView<T>& w, const T* x, const TokenBatch& batch, T* out, Activations& a,
                          ThreadPool& pool) const
{
    const int64_t N = batch.size(), H = router_.in;
    a.logits.resize(size_t(N * E_));
    a.scores.resize(size_t(N * E_));
    a.chosen.resize(size_t(N * K_));
    a.weights.resize(size_t(N * K_));
    router_.forward(in_float32(w), x, N, a.logits.data(), pool);

    const T* bias = config_.correction_bias ? w.at(bias_) : nullptr;
    pool.parallel_for(N, kTokenGrain, [&](int64_t t0, int64_t t1) {
        for (int64_t t = t0; t < t1; ++t) {
            const T* s = a.scores.data() + t * E_;
            router_scores(config_, a.logits.data() + t * E_, a.scores.data() + t * E_);
            const std::vector<int32_t> chosen = select_experts(config_, s, bias);
            T sum = 0;
            for (int64_t k = 0; k < K_; ++k) sum += s[chosen[size_t(k)]];
            for (int64_t k = 0; k < K_; ++k) {
                const int32_t e = chosen[size_t(k)];
                a.chosen[size_t(t * K_ + k)] = e;
                a.weights[size_t(t * K_ + k)] =
                    (config_.norm_topk_prob ? s[e] / sum : s[e]) * T(config_.routed_scaling_factor);
            }
        }
    });
    a.routed.resize(size_t(E_));
    a.load.resize(size_t(E_));
    for (auto& r : a.routed) r.slots.clear();
    for (int64_t slot = 0; slot < N * K_; ++slot) a.routed[size_t(a.chosen[size_t(slot)])].slots.push_back(slot);

    // Routed experts in index order, shared experts last, as the inference MoE adds them.
    fill_zero(out, N * H, pool);
    for (int64_t e = 0; e < E_; ++e) {
        auto& r = a.routed[size_t(e)];
        const int64_t n = int64_t(r.slots.size());
        a.load[size_t(e)] = n;
        if (n == 0) continue;
        r.x.resize(size_t(n * H));
        r.y.resize(size_t(n * H));
        pool.parallel_for(n, kTokenGrain, [&](int64_t i0, int64_t i1) {
            for (int64_t i = i0; i < i1; ++i) {
                prefetch_slot_row(x, r.slots, i, K_, H);
                std::copy_n(x + r.slots[size_t(i)] / K_ * H, H, r.x.data() + i * H);
            }
        });
        experts_[size_t(e)].forward(w, r.x.data(), n, r.y.data(), r.expert, pool);
        // An expert's slots are distinct tokens, so its rows add into out without races.
        pool.parallel_for(n, kTokenGrain, [&](int64_t i0, int64_t i1) {
            for (int64_t i = i0; i < i1; ++i) {
                const int64_t slot = r.slots[size_t(i)];
                prefetch_slot_row(out, r.slots, i, K_, H);
                T* o = out + slot / K_ * H;
                for (int64_t j = 0; j < H; ++j) o[j] += a.weights[size_t(slot)] * r.y[size_t(i * H + j)];
            }
        });
    }
    if (shared_) {
        a.shared_y.resize(size_t(N * H));
        shared_->forward(w, x, N, a.shared_y.data(), a.shared, pool);
        add(out, a.shared_y.data(), N * H, out, pool);
    }

    // The sequence-wise balance loss: f_i from the choices, P_i from normalised scores.
    a.balance_loss = 0;
    if (alpha_ == 0) return;
    const int64_t S = batch.uniform_length(), B = N / S;
    a.fraction.assign(size_t(B * E_), T(0));
    for (int64_t b = 0; b < B; ++b) {
        T* f = a.fraction.data() + b * E_;
        for (int64_t t = b * S; t < (b + 1) * S; ++t)
            for (int64_t k = 0; k < K_; ++k) f[a.chosen[size_t(t * K_ + k)]] += T(E_) / T(K_ * S);
        double loss = 0;
        for (int64_t t = b * S; t < (b + 1) * S; ++t) {
            const T* s = a.scores.data() + t * E_;
            T total = 0;
            for (int64_t e = 0; e < E_; ++e) total += s[e];
            for (int64_t e = 0; e < E_; ++e) loss += double(f[e] * s[e] / total) / double(S);
        }
        a.balance_loss += alpha_ * loss / double(B);
    }
}

template <typename T>
void MoeBlock<T>::backward(const WeightsView<T>& w, const T* x, const T* dout, const TokenBatch& batch, T loss_scale,
                           T* dx, Activations& a, ThreadPool& pool) const
{
    const int64_t N = batch.size(), H = router_.in;
    const int64_t S = alpha_ != 0 ? batch.uniform_length() : N, B = N / S;
    a.dweights.assign(size_t(N * K_), T(0));
    for (int64_t e = 0; e < E_; ++e) {
        auto& r = a.routed[size_t(e)];
        const int64_t n = int64_t(r.slots.size());
        if (n == 0) continue;
        // out_t += weight · y: the weight's gradient is dout_t · y, the expert's is weight · dout_t.
        a.dy.resize(size_t(n * H));
        pool.parallel_for(n, kTokenGrain, [&](int64_t i0, int64_t i1) {
            for (int64_t i = i0; i < i1; ++i) {
                const int64_t slot = r.slots[size_t(i)];
                prefetch_slot_row(dout, r.slots, i, K_, H);
                const T* d = dout + slot / K_ * H;
                const T* y = r.y.data() + i * H;
                for (int64_t j = 0; j < H; ++j) a.dy[size_t(i * H + j)] = a.weights[size_t(slot)] * d[j];
                a.dweights[size_t(slot)] = sum_of_products(d, y, H);
            }
        });
        a.dxg.resize(size_t(n * H));
        experts_[size_t(e)].backward(w, r.x.data(), a.dy.data(), n, a.dxg.data(), r.expert, pool, Into::overwrite);
        pool.parallel_for(n, kTokenGrain, [&](int64_t i0, int64_t i1) {
            for (int64_t i = i0; i < i1; ++i) {
                prefetch_slot_row(dx, r.slots, i, K_, H);
                T* d = dx + r.slots[size_t(i)] / K_ * H;
                for (int64_t j = 0; j < H; ++j) d[j] += a.dxg[size_t(i * H + j)];
            }
        });
    }
    if (shared_) shared_->backward(w, x, dout, N, dx, a.shared, pool);

    // Per token: weights → scores of the chosen experts (through the top-k normalisation).
    a.dscores.assign(size_t(N * E_), T(0));
    const T scaling = T(config_.routed_scaling_factor);
    pool.parallel_for(N, kTokenGrain, [&](int64_t t0, int64_t t1) {
        for (int64_t t = t0; t < t1; ++t) {
            const T* s = a.scores.data() + t * E_;
            T* ds = a.dscores.data() + t * E_;
            const int32_t* chosen = a.chosen.data() + t * K_;
            const T* dw = a.dweights.data() + t * K_;
            if (!config_.norm_topk_prob) {
                for (int64_t k = 0; k < K_; ++k) ds[chosen[k]] += scaling * dw[k];
            } else {
                T sum = 0, weighted = 0;
                for (int64_t k = 0; k < K_; ++k) {
                    sum += s[chosen[k]];
                    weighted += dw[k] * s[chosen[k]];
                }
                for (int64_t k = 0; k < K_; ++k) ds[chosen[k]] += scaling * (dw[k] / sum - weighted / (sum * sum));
            }
            // The balance loss → every score, through s_i / Σ_j s_j.
            if (alpha_ != 0) {
                const T* f = a.fraction.data() + t / S * E_;
                const T g = loss_scale * T(alpha_) / T(S * B);
                T total = 0, weighted = 0;
                for (int64_t e = 0; e < E_; ++e) {
                    total += s[e];
                    weighted += g * f[e] * s[e];
                }
                for (int64_t e = 0; e < E_; ++e) ds[e] += (g * f[e] - weighted / total) / total;
            }
            // Scores → router logits, in place.
            if (config_.scoring_func == ScoringFunc::sigmoid) {
                for (int64_t e = 0; e < E_; ++e) ds[e] *= s[e] * (T(1) - s[e]);
            } else {
                T weighted = 0;
                for (int64_t e = 0; e < E_; ++e) weighted += s[e] * ds[e];
                for (int64_t e = 0; e < E_; ++e) ds[e] = s[e] * (ds[e] - weighted);
            }
        }
    });
    router_.backward(in_float32(w), x, a.dscores.data(), N, dx, pool);
}

template class MoeBlock<float>;
template class MoeBlock<double>;

}  // namespace mariana
