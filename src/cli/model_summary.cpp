#include "cli/model_summary.h"

#include "model/model.h"

#include <fmt/format.h>

namespace mariana {

ModelSummary summarize(const ModelConfig& c, const Checkpoint& checkpoint)
{
    ModelSummary s;
    const double expert_share = c.n_routed_experts ? double(c.num_experts_per_tok) / double(c.n_routed_experts) : 1.0;
    for (const TensorDecl& decl : declared_tensors(c)) {
        const TensorInfo* info = checkpoint.find(decl.name);
        if (!info) continue;  // optional (MTP) tensors not shipped
        int64_t bytes = int64_t(info->end - info->begin);
        if (const TensorInfo* scale = checkpoint.find(decl.name.substr(0, decl.name.rfind('.')) + ".weight_scale_inv"))
            bytes += int64_t(scale->end - scale->begin);
        const int64_t n = info->numel();
        const bool routed = decl.name.find(".mlp.experts.") != std::string::npos;
        const bool mtp = decl.name.starts_with(fmt::format("model.layers.{}.", c.num_hidden_layers)) ||
                         (c.num_nextn_predict_layers > 1 && decl.optional);
        s.total_params += n;
        s.weight_bytes += bytes;
        s.params_by_dtype[std::string(dtype_name(info->dtype))] += n;
        if (mtp) continue;  // the MTP module is not run when decoding
        s.active_params += routed ? int64_t(double(n) * expert_share) : n;
        if (decl.role != TensorRole::embedding || c.tie_word_embeddings)
            s.active_weight_bytes += routed ? int64_t(double(bytes) * expert_share) : bytes;
    }
    if (c.is_mla()) {
        s.kv_floats_per_token = c.num_hidden_layers * (c.kv_lora_rank + c.qk_rope_head_dim);
        s.per_head_kv_floats_per_token = c.num_hidden_layers * c.num_attention_heads * (c.qk_head_dim() + c.v_head_dim);
    } else {
        s.kv_floats_per_token = s.per_head_kv_floats_per_token = c.num_hidden_layers * 2 * c.num_key_value_heads * c.head_dim;
    }
    return s;
}

}  // namespace mariana
