// A fixed set of worker threads that run one parallel loop at a time. The calling thread
// takes part, so a pool of n threads has n-1 workers. Passed in explicitly, never global.
//
// A training step runs thousands of short loops back to back, and waking a sleeping
// thread through the kernel takes tens of microseconds. So after a loop, workers (and the
// caller, waiting for them) spin for a short while before they sleep on a condition
// variable: a loop that follows soon starts without a system call.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace mariana {

class ThreadPool {
public:
    // n_threads 0 means one per hardware thread.
    explicit ThreadPool(int n_threads = 0);
    ~ThreadPool();
    ThreadPool(const ThreadPool&) = delete;
    ThreadPool& operator=(const ThreadPool&) = delete;

    int size() const { return int(workers_.size()) + 1; }

    // Calls fn(begin, end) over [0, n) split into chunks of `grain` items (the last may be
    // shorter); returns when all are done. Not reentrant: fn must not call parallel_for.
    void parallel_for(int64_t n, int64_t grain, const std::function<void(int64_t, int64_t)>& fn);

private:
    void worker_loop();
    void run_chunks();

    std::vector<std::thread> workers_;
    // The job: written by parallel_for while no worker is busy, published by generation_.
    const std::function<void(int64_t, int64_t)>* job_ = nullptr;
    int64_t n_ = 0;
    int64_t grain_ = 1;
    std::atomic<int64_t> next_chunk_{0};
    std::atomic<uint64_t> generation_{0};
    std::atomic<int> busy_workers_{0};
    // Sleeping: workers wait on start_ for a new generation (or stopping_), the caller on
    // done_ for busy_workers_ to reach 0; both predicates are changed under mutex_.
    std::mutex mutex_;
    std::condition_variable start_;
    std::condition_variable done_;
    bool stopping_ = false;
};

}  // namespace mariana
