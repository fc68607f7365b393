#include "core/thread_pool.h"

#include <algorithm>
#include <chrono>

namespace mariana {

namespace {

// Spins until ready() holds or about 100 µs have passed; says whether it holds.
template <typename Ready>
bool spin_until(Ready ready)
{
    const auto give_up = std::chrono::steady_clock::now() + std::chrono::microseconds(100);
    for (int i = 1;; ++i) {
        if (ready()) return true;
#if defined(__x86_64__) || defined(__i386__)
        __builtin_ia32_pause();
#endif
        if (i % 64 == 0 && std::chrono::steady_clock::now() > give_up) return ready();
    }
}

}  // namespace

ThreadPool::ThreadPool(int n_threads)
{
    if (n_threads <= 0) n_threads = int(std::max(1u, std::thread::hardware_concurrency()));
    for (int i = 1; i < n_threads; ++i) workers_.emplace_back([this] { worker_loop(); });
}

ThreadPool::~ThreadPool()
{
    {
        std::lock_guard lock(mutex_);
        stopping_ = true;
    }
    start_.notify_all();
    for (auto& worker : workers_) worker.join();
}

void ThreadPool::run_chunks()
{
    const int64_t n_chunks = (n_ - 1) / grain_ + 1;
    for (;;) {
        const int64_t chunk = next_chunk_.fetch_add(1, std::memory_order_relaxed);
        if (chunk >= n_chunks) return;
        const int64_t begin = chunk * grain_;
        (*job_)(begin, std::min(n_, begin + grain_));
    }
}

void ThreadPool::parallel_for(int64_t n, int64_t grain, const std::function<void(int64_t, int64_t)>& fn)
{
    if (n <= 0) return;
    grain = std::max<int64_t>(grain, 1);
    if (workers_.empty() || n <= grain) {
        for (int64_t begin = 0; begin < n; begin += grain) fn(begin, std::min(n, begin + grain));
        return;
    }
    job_ = &fn;
    n_ = n;
    grain_ = grain;
    next_chunk_.store(0, std::memory_order_relaxed);
    busy_workers_.store(int(workers_.size()), std::memory_order_relaxed);
    {
        std::lock_guard lock(mutex_);  // a worker between its check and its wait sees this
        generation_.fetch_add(1, std::memory_order_release);
    }
    start_.notify_all();
    run_chunks();
    auto finished = [this] { return busy_workers_.load(std::memory_order_acquire) == 0; };
    if (!spin_until(finished)) {
        std::unique_lock lock(mutex_);
        done_.wait(lock, finished);
    }
}

void ThreadPool::worker_loop()
{
    uint64_t seen = 0;
    for (;;) {
        auto started = [&] { return generation_.load(std::memory_order_acquire) != seen; };
        if (!spin_until(started)) {
            std::unique_lock lock(mutex_);
            start_.wait(lock, [&] { return stopping_ || started(); });
            if (stopping_) return;
        }
        seen = generation_.load(std::memory_order_acquire);
        run_chunks();
        if (busy_workers_.fetch_sub(1, std::memory_order_acq_rel) == 1) {
            { std::lock_guard lock(mutex_); }  // a caller between its check and its wait is now waiting
            done_.notify_one();
        }
    }
}

}  // namespace mariana
