// The ends of every model: token embedding lookup, and final norm + output projection.
#pragma once

#include "core/thread_pool.h"
#include "kernels/gemm.h"
#include "kernels/weight.h"

#include <vector>

namespace mariana {

// h[t] = embed[tokens[t]] converted to float32.  h: [T, H]
void embed_tokens(const Weight& embed, const std::vector<int32_t>& tokens, float* h);

// logits[i] = lm_head · RMSNorm(h[rows[i]], norm).  logits: [rows, vocab]
void final_logits(const std::vector<float>& norm, const Weight& lm_head, float eps, const float* h, int64_t hidden,
                  const std::vector<int64_t>& rows, float* logits, ThreadPool& pool, GemmPrecision precision);

}  // namespace mariana
