// ParameterSet loading real checkpoints into float32, and AdamW against a restatement of
// torch.optim.AdamW's documented update in double precision.
#include "core/error.h"
#include "test_data.h"
#include "train/adamw.h"
#include "train/parameters.h"

#include <gtest/gtest.h>

#include <cmath>

namespace mariana::train {
namespace {

ParameterSet load_golden(const std::string& name, Checkpoint& checkpoint)
{
    checkpoint = Checkpoint::open(testing::golden_dir(name));
    return ParameterSet::load(parse_model_config(checkpoint.config(), checkpoint.config_path()), checkpoint);
}

TEST(ParameterSet, HoldsEveryCheckpointTensorAsFloat)
{
    for (const char* name : {"v3-tiny", "v3-fp8-tiny", "v2-lite-tiny"}) {
        SCOPED_TRACE(name);
        Checkpoint checkpoint;
        const ParameterSet set = load_golden(name, checkpoint);
        int64_t expected = 0;  // every stored tensor but FP8 block scales
        for (const auto& [tensor, info] : checkpoint.tensors())
            if (!tensor.ends_with("weight_scale_inv")) expected += info.numel();
        EXPECT_EQ(int64_t(set.values().size()), expected);
        EXPECT_EQ(set.grads().size(), set.values().size());
        const Parameter& norm = set.find("model.norm.weight");
        EXPECT_FALSE(norm.decays());
        const TensorInfo& stored = checkpoint.tensor("model.norm.weight");
        ASSERT_EQ(stored.dtype, DType::bf16);
        const auto* bits = reinterpret_cast<const uint16_t*>(stored.data);
        for (int64_t i = 0; i < norm.size; ++i) EXPECT_EQ(set.value(norm)[i], bf16_to_f32(bits[i]));
        EXPECT_THROW(set.find("model.no_such.weight"), Error);
    }
}

TEST(AdamW, MatchesTorchUpdateRuleAndSkipsWhatItShould)
{
    Checkpoint checkpoint;
    ParameterSet set = load_golden("v3-tiny", checkpoint);
    const std::vector<float> initial(set.values().begin(), set.values().end());
    const AdamWOptions options{.beta1 = 0.9, .beta2 = 0.95, .eps = 1e-8, .weight_decay = 0.1};
    AdamW adamw(set, options);
    ThreadPool pool(2);

    // torch.optim.AdamW, per element (step t, gradient g):
    //   w ← w(1 - lr·λ);  m ← β1 m + (1-β1) g;  v ← β2 v + (1-β2) g²
    //   w ← w - lr/(1-β1^t) · m / (sqrt(v)/sqrt(1-β2^t) + eps)
    std::vector<double> w(initial.begin(), initial.end()), m(w.size()), v(w.size());
    const double lrs[] = {1e-2, 5e-3, 2e-3};
    for (int t = 1; t <= 3; ++t) {
        for (size_t i = 0; i < w.size(); ++i) set.grads()[i] = float(std::sin(double(i) * 0.37 + t));
        adamw.step(set, lrs[t - 1], pool);
        for (const Parameter& p : set.parameters()) {
            if (!p.learned()) continue;
            const double decay = p.decays() ? options.weight_decay : 0.0;
            for (int64_t i = p.offset; i < p.offset + p.size; ++i) {
                const double g = set.grads()[i];
                w[i] *= 1 - lrs[t - 1] * decay;
                m[i] = options.beta1 * m[i] + (1 - options.beta1) * g;
                v[i] = options.beta2 * v[i] + (1 - options.beta2) * g * g;
                w[i] -= lrs[t - 1] / (1 - std::pow(options.beta1, t)) * m[i] /
                        (std::sqrt(v[i]) / std::sqrt(1 - std::pow(options.beta2, t)) + options.eps);
            }
        }
    }
    for (const Parameter& p : set.parameters())
        for (int64_t i = p.offset; i < p.offset + p.size; ++i) {
            if (p.learned()) ASSERT_NEAR(set.values()[i], w[i], 1e-6 + 1e-5 * std::abs(w[i])) << p.name;
            else ASSERT_EQ(set.values()[i], initial[i]) << p.name << " moved, but only balancing may move it";
        }
    EXPECT_EQ(adamw.steps(), 3);
}

TEST(AdamW, ClipsByGlobalNorm)
{
    Checkpoint checkpoint;
    ParameterSet set = load_golden("v3-tiny", checkpoint);
    ASSERT_GT(set.grads().size(), size_t(1) << 17);  // several of the norm's blocks
    ThreadPool pool(2);
    for (size_t i = 0; i < set.grads().size(); ++i) set.grads()[i] = i % 2 ? 3.0f : -4.0f;
    double sum = 0;
    for (size_t i = 0; i < set.grads().size(); ++i) sum += i % 2 ? 9.0 : 16.0;
    const double norm = std::sqrt(sum);
    EXPECT_NEAR(clip_grad_norm(set, 0, pool), norm, 1e-9 * norm);  // 0: measure only
    EXPECT_EQ(set.grads()[0], -4.0f);
    EXPECT_NEAR(clip_grad_norm(set, 1.0, pool), norm, 1e-9 * norm);
    EXPECT_NEAR(clip_grad_norm(set, 0, pool), 1.0, 1e-5);
    EXPECT_NEAR(clip_grad_norm(set, 2.0, pool), 1.0, 1e-5);  // under the limit: unchanged
    EXPECT_NEAR(clip_grad_norm(set, 0, pool), 1.0, 1e-5);
}

}  // namespace
}  // namespace mariana::train
