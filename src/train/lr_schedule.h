// Learning-rate schedules: linear warmup to the peak, then
//   cosine: half a cosine from the peak down to the minimum at the last step;
//   wsd:    warmup-stable-decay, the peak held until the last decay_fraction of the
//           steps, then a linear decay to the minimum;
//   constant: the peak.
#pragma once

#include <cstdint>
#include <string>

namespace mariana::train {

enum class ScheduleKind { cosine, wsd, constant };

// "cosine", "wsd" or "constant"; Error otherwise.
ScheduleKind parse_schedule_kind(const std::string& name);

struct LrSchedule {
    ScheduleKind kind = ScheduleKind::cosine;
    double peak = 3e-4, min = 3e-5;
    int64_t warmup = 0, total = 1;
    double decay_fraction = 0.2;  // wsd

    // The rate of step (0-based) `step`.
    double at(int64_t step) const;
};

}  // namespace mariana::train
