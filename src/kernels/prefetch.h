// A block of a matrix a computation will read soon, brought into L2 a few cache lines at a
// time while the work before it runs. Activations come to a product from DRAM (a training
// step's arrays far outgrow the caches), and a product that waits for each block of A, or
// of B, as it packs it runs a quarter slower than one whose operands are cached; short
// runs far apart (a head's slice of token-major rows) defeat the hardware's prefetcher
// altogether and are packed at a fifth of the speed.
#pragma once

#include <cstdint>

namespace mariana {

// The block is `runs` runs of `run_length` elements, run r at base + r·stride; `write`:
// lines about to be written (a product's output), fetched for ownership.
class Prefetch {
public:
    Prefetch() = default;
    template <typename T>
    Prefetch(const T* base, int64_t runs, int64_t stride, int64_t run_length, bool write = false)
        : base_(reinterpret_cast<const char*>(base)), runs_(runs), stride_(stride * int64_t(sizeof(T))),
          write_(write)
    {
        // From the line holding a run's first element; a run that starts inside a line may
        // end in one more, and where runs are not a whole number of lines apart any run may.
        const int64_t bytes = run_length * int64_t(sizeof(T));
        const bool offset = reinterpret_cast<uintptr_t>(base) % kLine != 0 || stride_ % kLine != 0;
        lines_per_run_ = (bytes + kLine - 1) / kLine + (offset ? 1 : 0);
        if (bytes <= 0 || runs_ <= 0) runs_ = lines_per_run_ = 0;  // nothing to bring in
        base_ -= reinterpret_cast<uintptr_t>(base) % kLine;
    }
    // Lines the block spans: every line of every run, and at most one more per run.
    int64_t lines() const { return runs_ * lines_per_run_; }

    // The next `count` lines.
    void issue(int64_t count)
    {
        for (; count > 0 && run_ < runs_; --count) {
            const char* line = base_ + run_ * stride_ + line_ * kLine;
            if (write_) __builtin_prefetch(line, 1, 2);
            else __builtin_prefetch(line, 0, 2);
            if (++line_ == lines_per_run_) line_ = 0, ++run_;
        }
    }
    void issue_all() { issue(lines()); }

private:
    static constexpr int64_t kLine = 64;
    const char* base_ = nullptr;
    int64_t runs_ = 0, stride_ = 0, lines_per_run_ = 0;
    bool write_ = false;
    int64_t run_ = 0, line_ = 0;  // the next line to issue
};

}  // namespace mariana
