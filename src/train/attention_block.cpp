#include "train/attention_block.h"

#include "train/gqa_block.h"
#include "train/mla_block.h"

namespace mariana::train {

template <typename T>
std::unique_ptr<AttentionBlock<T>> AttentionBlock<T>::make(const ModelConfig& config, const ParameterSet& layout,
                                                           const std::string& prefix)
{
    if (config.is_mla()) return std::make_unique<MlaBlock<T>>(config, layout, prefix);
    return std::make_unique<GqaBlock<T>>(config, layout, prefix);
}

template class AttentionBlock<float>;
template class AttentionBlock<double>;

}  // namespace mariana::train
