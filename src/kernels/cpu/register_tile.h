// What the GEMM micro-kernels share about their register tiles: R rows of accumulators,
// two vectors of W floats each.
#pragma once

#include <algorithm>
#include <cstdint>
#include <utility>

namespace mariana {

// f(0), f(1), …, f(N - 1), each index a constant: a tile's accumulators are then named,
// not indexed, and the compiler keeps them all in registers (an array indexed by a loop
// variable stays in memory around the loop, and is stored and reloaded on every call).
template <int N, typename F>
inline __attribute__((always_inline)) void for_each_index(F&& f)
{
    [&]<int... I>(std::integer_sequence<int, I...>) { (f(I), ...); }(std::make_integer_sequence<int, N>{});
}

// Stores the first m rows and n columns of the tile acc [R][2] into C (rows ldc apart), or
// with accumulate adds them to what C holds. A whole tile goes straight to C, a partial one
// through a buffer: the stores then need no row or column tests, which would cost the
// accumulators their registers. Vec: F (W floats), load, store, add.
template <typename Vec, int R>
inline __attribute__((always_inline)) void store_tile(typename Vec::F (&acc)[R][2], float* c, int64_t ldc, int m,
                                                      int n, bool accumulate)
{
    constexpr int W = Vec::W;
    const bool whole = m == R && n == 2 * W;
    alignas(64) float partial[R][2 * W];
    if (!whole && accumulate)
        for (int i = 0; i < m; ++i) std::copy_n(c + i * ldc, n, partial[i]);
    float* const out = whole ? c : partial[0];
    const int64_t ld = whole ? ldc : 2 * W;
    for_each_index<R>([&](int i) {
        float* row = out + i * ld;
        if (accumulate) {
            acc[i][0] = Vec::add(acc[i][0], Vec::load(row));
            acc[i][1] = Vec::add(acc[i][1], Vec::load(row + W));
        }
        Vec::store(row, acc[i][0]);
        Vec::store(row + W, acc[i][1]);
    });
    if (!whole)
        for (int i = 0; i < m; ++i) std::copy_n(partial[i], n, c + i * ldc);
}

}  // namespace mariana
