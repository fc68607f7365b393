// Compile-time unrolling for the GEMM micro-kernels' register tiles.
#pragma once

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

}  // namespace mariana
