// A projection y = x·Wᵀ + b whose W [out, in] and optional b [out] live in a parameter
// layout; forward and backward over n rows.
#pragma once

#include "core/thread_pool.h"
#include "train/parameters.h"
#include "train/weights_view.h"

#include <string>

namespace mariana::train {

struct Linear {
    int64_t weight = -1, bias = -1;  // offsets; bias -1 when there is none
    int64_t in = 0, out = 0;

    // The tensors `stem`.weight and, with has_bias, `stem`.bias (Error if missing).
    static Linear find(const ParameterSet& layout, const std::string& stem, bool has_bias = false);

    // y [n, out] (overwritten).
    template <typename T>
    void forward(const WeightsView<T>& w, const T* x, int64_t n, T* y, ThreadPool& pool) const;

    // dx [n, in] += dy·W when dx is not null; dW += dyᵀ·x; db += Σ_rows dy.
    template <typename T>
    void backward(const WeightsView<T>& w, const T* x, const T* dy, int64_t n, T* dx, ThreadPool& pool) const;
};

}  // namespace mariana::train
