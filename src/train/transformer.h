// A whole model for training, any supported architecture: the decoder stack every model
// runs (model/decoder_stack.h), DeepSeek-V3's MTP modules when the parameter layout has
// them, and the losses. Explicit forward and backward per layer (llm.c style), templated
// on the scalar: float to train, double for gradient checks.
#pragma once

#include "core/huge_pages.h"
#include "model/decoder_stack.h"
#include "model/mtp_module.h"
#include "model/output_head.h"
#include "train/parameters.h"

#include <optional>
#include <vector>

namespace mariana::train {

// What training minimises: next-token cross-entropy + λ · MTP loss + balance loss.
struct Objective {
    double mtp_weight = 0.3;         // λ (DeepSeek-V3: 0.3, later 0.1); 0 skips the MTP modules
    double balance_alpha = 0.0001;   // α of the sequence-wise balance loss (DeepSeek-V3: 0.0001)
};

struct StepLosses {
    double loss = 0;          // mean next-token cross-entropy (nats)
    double mtp_loss = 0;      // mean over MTP depths of each one's mean cross-entropy
    double balance_loss = 0;  // summed over MoE layers
    double objective = 0;     // loss + λ · mtp_loss + balance_loss
};

template <typename T>
class Transformer {
public:
    Transformer(const ModelConfig& config, const ParameterSet& layout, Objective objective);

    // `windows`: `sequences` rows of length + 1 token ids; each of a row's first `length`
    // tokens is trained to predict the one after it. With w.grads set, adds
    // scale · ∂(objective)/∂θ into the gradients (scale 1 / micro-batches accumulates).
    StepLosses step(const WeightsView<T>& w, const int32_t* windows, int64_t sequences, int64_t length, T scale,
                    ThreadPool& pool);

    // The mean next-token cross-entropy alone (no MTP, no gradients), for validation.
    double next_token_loss(const WeightsView<T>& w, const int32_t* windows, int64_t sequences, int64_t length,
                           ThreadPool& pool);

    // The main head's logits [sequences·length, vocab] for rows of `length` input tokens.
    void logits(const WeightsView<T>& w, const int32_t* tokens, int64_t sequences, int64_t length, T* out,
                ThreadPool& pool);

    // Every MoE block with its last step's activations, main layers first, then the MTP
    // modules'.
    std::vector<MoeRun<T>> moe_runs() const;
    int64_t mtp_depth() const { return int64_t(mtp_.size()); }

private:
    // Splits windows into inputs_ and targets_, and makes batch_ of the inputs.
    void read_windows(const int32_t* windows, int64_t sequences, int64_t length);
    void read_tokens(const int32_t* tokens, int64_t sequences, int64_t length);

    ModelConfig config_;
    Objective objective_;
    DecoderStack<T> stack_;
    std::vector<MtpModule<T>> mtp_;  // empty when the layout has no MTP tensors or λ is 0

    std::vector<int32_t> inputs_, targets_, mtp_tokens_, mtp_targets_;  // [sequences·length]
    std::vector<SequenceChunk> chunks_;  // each row of inputs_, from position 0
    std::optional<TokenBatch> batch_;
    LargeVector<T> logits_, dh_;
};

}  // namespace mariana::train
