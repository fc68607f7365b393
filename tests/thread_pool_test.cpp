// The thread pool: every index of every loop runs exactly once, whether the loops follow
// each other at once (workers still spinning) or after a pause (workers asleep), and a
// pool is destroyed cleanly in either state.
#include "core/thread_pool.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <thread>
#include <vector>

namespace mariana {
namespace {

void expect_each_index_once(ThreadPool& pool, int64_t n, int64_t grain)
{
    std::vector<std::atomic<int>> hits(static_cast<size_t>(n));
    pool.parallel_for(n, grain, [&](int64_t begin, int64_t end) {
        ASSERT_LE(end - begin, grain);
        for (int64_t i = begin; i < end; ++i) hits[size_t(i)].fetch_add(1, std::memory_order_relaxed);
    });
    for (int64_t i = 0; i < n; ++i) ASSERT_EQ(hits[size_t(i)].load(), 1) << "index " << i << " of " << n;
}

TEST(ThreadPool, RunsEveryIndexOnceInLoopsBackToBack)
{
    for (const int threads : {1, 2, 4}) {
        ThreadPool pool(threads);
        for (int loop = 0; loop < 3000; ++loop) expect_each_index_once(pool, 1 + loop % 97, 1 + loop % 5);
    }
}

TEST(ThreadPool, RunsEveryIndexOnceAfterWorkersFellAsleep)
{
    ThreadPool pool(3);
    for (int loop = 0; loop < 20; ++loop) {
        expect_each_index_once(pool, 64, 3);
        std::this_thread::sleep_for(std::chrono::milliseconds(loop % 3 == 0 ? 2 : 0));
    }
}

TEST(ThreadPool, WaitsForTheSlowestChunk)
{
    ThreadPool pool(2);
    std::atomic<int> done{0};
    pool.parallel_for(2, 1, [&](int64_t begin, int64_t) {
        if (begin == 1) std::this_thread::sleep_for(std::chrono::milliseconds(20));
        done.fetch_add(1);
    });
    EXPECT_EQ(done.load(), 2);
}

TEST(ThreadPool, IsDestroyedWhileSpinningOrAsleep)
{
    for (const int pause_ms : {0, 5}) {
        ThreadPool pool(4);
        expect_each_index_once(pool, 100, 7);
        std::this_thread::sleep_for(std::chrono::milliseconds(pause_ms));
    }
}

}  // namespace
}  // namespace mariana
