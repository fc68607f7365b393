// A projection y = x·Wᵀ + b whose W [out, in] and optional b [out] a ParameterBinding
// gives; forward and backward over n rows.
#pragma once

#include "core/thread_pool.h"
#include "kernels/gemm.h"
#include "model/parameter_binding.h"
#include "model/weights_view.h"

#include <initializer_list>
#include <memory>
#include <vector>

namespace mariana {

// Whether a backward adds the input's gradient into its buffer or replaces what is there.
enum class Into { add, overwrite };

struct Linear {
    int64_t in = 0, out = 0;
    int64_t weight = -1, bias = -1;  // offsets in a flat layout; bias -1 when there is none
    // The bound tensors, one per stacked projection, each with its bias (null without).
    struct Part {
        Weight weight;
        const float* bias = nullptr;
    };
    std::vector<Part> parts;
    // The parts packed together, once, for bf16 products (kernels/gemm.h's PackedB): made by
    // the first bf16 forward on bound tensors that are all F32 or BF16 (FP8 and F16 ones keep
    // float32 products). A model runs one forward at a time, so nothing races to make it.
    mutable std::shared_ptr<const PackedB> packed;

    // The projection of the field `weight`, with the bias field `bias` when given.
    static Linear of(const ParameterBinding& bind, const Weight& weight, const std::vector<float>* bias = nullptr);
    // The projections of `weights` (and of `biases`, one each, when given), all with the same
    // input size, as one projection whose outputs are theirs in order. In a flat layout each
    // must be stored right after the one before (Error otherwise), so a layer reading one x
    // through several projections packs it for the GEMM once; bound tensors run one product
    // each.
    static Linear stacked(const ParameterBinding& bind, std::initializer_list<const Weight*> weights,
                          std::initializer_list<const std::vector<float>*> biases = {});

    // y [n, out] (overwritten).
    template <typename T>
    void forward(const WeightsView<T>& w, const T* x, int64_t n, T* y, ThreadPool& pool) const;

    // The weight of a projection that is not stacked, as a matrix the inference kernels
    // read: the bound tensor, or a float32 view of the flat values.
    Weight matrix(const WeightsView<float>& w) const;

    // Flat layouts only. dx [n, in] += dy·W when dx is not null (or = with Into::overwrite,
    // which spares the caller zeroing a buffer this alone writes); dW += dyᵀ·x; db += Σ_rows dy.
    template <typename T>
    void backward(const WeightsView<T>& w, const T* x, const T* dy, int64_t n, T* dx, ThreadPool& pool,
                  Into into = Into::add) const;
};

}  // namespace mariana
