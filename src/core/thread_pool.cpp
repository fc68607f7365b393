#include "core/thread_pool.h"

#include <algorithm>

namespace mariana {

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
    {
        std::lock_guard lock(mutex_);
        job_ = &fn;
        n_ = n;
        grain_ = grain;
        next_chunk_.store(0, std::memory_order_relaxed);
        busy_workers_ = int(workers_.size());
        ++generation_;
    }
    start_.notify_all();
    run_chunks();
    std::unique_lock lock(mutex_);
    done_.wait(lock, [this] { return busy_workers_ == 0; });
    job_ = nullptr;
}

void ThreadPool::worker_loop()
{
    uint64_t seen = 0;
    for (;;) {
        {
            std::unique_lock lock(mutex_);
            start_.wait(lock, [&] { return stopping_ || generation_ != seen; });
            if (stopping_) return;
            seen = generation_;
        }
        run_chunks();
        {
            std::lock_guard lock(mutex_);
            --busy_workers_;
        }
        done_.notify_one();
    }
}

}  // namespace mariana
