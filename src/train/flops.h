// The arithmetic of one training token, for reporting achieved FLOP/s: 6 FLOP per
// multiply-accumulate weight a token passes through (2 forward, 4 backward: the input's
// and the weight's gradients), plus causal attention's scores and weighted sums.
#pragma once

#include "model/config.h"

namespace mariana::train {

// Per token of a sequence of seq_len tokens, counting the MoE experts a token actually
// uses (top-k and shared) and, with mtp_depth > 0, that many MTP modules.
double training_flops_per_token(const ModelConfig& config, int64_t seq_len, int64_t mtp_depth);

}  // namespace mariana::train
