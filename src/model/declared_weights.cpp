#include "model/declared_weights.h"

namespace mariana {

void declare_weights(const ModelConfig& config, DeclaredWeights& out, const TensorVisitor& visit)
{
    if (config.is_mla()) for_each_tensor(config, out.emplace<DeepSeekWeights>(), visit);
    else for_each_tensor(config, out.emplace<DenseWeights>(), visit);
}

}  // namespace mariana
