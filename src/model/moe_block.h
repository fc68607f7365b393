// The DeepSeekMoE feed-forward: the router (in training, its gradient reaches the gate
// weights through the chosen experts' weights), routed experts, shared experts, and the
// complementary sequence-wise balance loss of DeepSeek-V3 (§2.1.2), training only:
//   L_bal = α Σ_i f_i P_i per sequence of S tokens, averaged over sequences, with
//   f_i = E / (K·S) · (tokens that chose expert i),  P_i = (1/S) Σ_t s_i,t / Σ_j s_j,t.
// The choice itself (top-k with the selection bias and group limit, model/router.h) is not
// differentiated; the selection bias moves by the balancing rule. Tokens are grouped by
// expert, so each chosen expert's weights are read once per batch and experts no token
// chose are never touched.
#pragma once

#include "core/huge_pages.h"
#include "model/batch.h"
#include "model/deepseek_weights.h"
#include "model/linear.h"
#include "model/mlp_block.h"

#include <optional>
#include <vector>

namespace mariana {

template <typename T>
class MoeBlock {
public:
    struct Activations {
        // Routing of the forward, N tokens.
        LargeVector<T> logits, scores;  // [N, E]
        std::vector<int32_t> chosen;    // [N, K]
        LargeVector<T> weights;         // [N, K]
        struct Routed {
            std::vector<int64_t> slots;  // chosen index t·K + k of each token sent here
            LargeVector<T> x, y;         // [n, hidden] gathered inputs and the expert's outputs
            typename MlpBlock<T>::Activations expert;
        };
        std::vector<Routed> routed;  // per expert
        LargeVector<T> shared_y;     // [N, hidden] the shared experts' output
        typename MlpBlock<T>::Activations shared;
        std::vector<int64_t> load;   // tokens routed to each expert
        LargeVector<T> fraction;     // [B, E] f_i per sequence
        double balance_loss = 0;
        LargeVector<T> dweights, dscores, dy, dxg;
    };

    // The parameters of `w`, a layer's MoE bound by `bind`.
    MoeBlock(const ModelConfig& config, const ParameterBinding& bind, const MoeWeights& w, double balance_alpha);

    // x [batch.size(), hidden] → out (overwritten). The balance loss (balance_alpha > 0)
    // needs a batch of sequences from position 0 of one length, as training runs.
    void forward(const WeightsView<T>& w, const T* x, const TokenBatch& batch, T* out, Activations& a,
                 ThreadPool& pool) const;
    // For the forward that filled `a`: dx += ∂/∂x of Σ dout ⊙ out + loss_scale · L_bal;
    // parameter gradients added likewise.
    void backward(const WeightsView<T>& w, const T* x, const T* dout, const TokenBatch& batch, T loss_scale, T* dx,
                  Activations& a, ThreadPool& pool) const;

    // Offset of e_score_correction_bias in the flat layout, -1 when the router has none.
    int64_t correction_bias() const { return bias_.offset; }

private:
    ModelConfig config_;
    int64_t E_, K_;
    double alpha_;
    Linear router_;
    VectorParam bias_;  // e_score_correction_bias (offset -1, stored null without one)
    std::vector<MlpBlock<T>> experts_;
    std::optional<MlpBlock<T>> shared_;
};

// A MoE block with the activations of its last forward: what the trainer reads to balance
// the experts (the load) and to report the balance loss.
template <typename T>
struct MoeRun {
    const MoeBlock<T>* block;
    const typename MoeBlock<T>::Activations* activations;
};

}  // namespace mariana
