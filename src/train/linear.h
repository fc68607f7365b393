// A projection y = x·Wᵀ + b whose W [out, in] and optional b [out] live in a parameter
// layout; forward and backward over n rows.
#pragma once

#include "core/thread_pool.h"
#include "train/parameters.h"
#include "train/weights_view.h"

#include <initializer_list>
#include <vector>

namespace mariana::train {

// Whether a backward adds the input's gradient into its buffer or replaces what is there.
enum class Into { add, overwrite };

struct Linear {
    int64_t weight = -1, bias = -1;  // offsets; bias -1 when there is none
    int64_t in = 0, out = 0;

    // The projection whose weight is the field `weight` of layout.declared(), with the bias
    // field `bias` when given.
    static Linear of(const ParameterSet& layout, const Weight& weight, const std::vector<float>* bias = nullptr);
    // The projections of `weights` (and of `biases`, one each, when given), each stored right
    // after the one before with the same input size, as one projection whose outputs are
    // theirs in order: a layer reading one x through several projections then packs it for
    // the GEMM once (Error if they are not so stored).
    static Linear stacked(const ParameterSet& layout, std::initializer_list<const Weight*> weights,
                          std::initializer_list<const std::vector<float>*> biases = {});

    // y [n, out] (overwritten).
    template <typename T>
    void forward(const WeightsView<T>& w, const T* x, int64_t n, T* y, ThreadPool& pool) const;

    // dx [n, in] += dy·W when dx is not null (or = with Into::overwrite, which spares the
    // caller zeroing a buffer this alone writes); dW += dyᵀ·x; db += Σ_rows dy.
    template <typename T>
    void backward(const WeightsView<T>& w, const T* x, const T* dy, int64_t n, T* dx, ThreadPool& pool,
                  Into into = Into::add) const;
};

}  // namespace mariana::train
