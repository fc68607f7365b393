#include "kernels/matmul.h"

#include "kernels/cpu/isa.h"

#include <algorithm>

namespace mariana {

void matmul(const Weight& w, const float* x, int64_t n_tokens, float* y, ThreadPool& pool)
{
    const KernelTable& k = active_kernels();
    // Chunks of whole 4-row tiles, small enough that every thread gets several (load
    // balance), large enough that a chunk's weights amortise the dispatch.
    const int64_t per_thread = (w.rows + pool.size() - 1) / pool.size();
    const int64_t grain = std::clamp<int64_t>((per_thread / 4 + 3) / 4 * 4, 16, 256);
    pool.parallel_for(w.rows, grain, [&](int64_t begin, int64_t end) { k.matmul_rows(w, x, n_tokens, y, begin, end); });
}

void matmul_serial(const Weight& w, const float* x, int64_t n_tokens, float* y)
{
    active_kernels().matmul_rows(w, x, n_tokens, y, 0, w.rows);
}

void matmul_transposed(const Weight& w, const float* x, float* y) { active_kernels().matmul_transposed(w, x, y); }

float dot(const float* a, const float* b, int64_t n) { return active_kernels().dot(a, b, n); }

void axpy(float* y, float a, const float* x, int64_t n) { active_kernels().axpy(y, a, x, n); }

void matmul_reference(const Weight& w, const float* x, int64_t n_tokens, float* y)
{
    for (int64_t t = 0; t < n_tokens; ++t)
        for (int64_t r = 0; r < w.rows; ++r) {
            double sum = 0;
            for (int64_t c = 0; c < w.cols; ++c) sum += double(x[t * w.cols + c]) * w.at(r, c);
            y[t * w.rows + r] = float(sum);
        }
}

void matmul_transposed_reference(const Weight& w, const float* x, float* y)
{
    for (int64_t c = 0; c < w.cols; ++c) {
        double sum = 0;
        for (int64_t r = 0; r < w.rows; ++r) sum += double(x[r]) * w.at(r, c);
        y[c] = float(sum);
    }
}

}  // namespace mariana
