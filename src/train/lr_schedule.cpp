#include "train/lr_schedule.h"

#include "core/error.h"

#include <algorithm>
#include <cmath>
#include <numbers>

namespace mariana::train {

ScheduleKind parse_schedule_kind(const std::string& name)
{
    if (name == "cosine") return ScheduleKind::cosine;
    if (name == "wsd") return ScheduleKind::wsd;
    if (name == "constant") return ScheduleKind::constant;
    fail("unknown learning-rate schedule '{}' (expected cosine, wsd or constant)", name);
}

double LrSchedule::at(int64_t step) const
{
    if (step < warmup) return peak * double(step + 1) / double(warmup);
    const double span = double(std::max<int64_t>(total - 1 - warmup, 1));
    const double progress = std::clamp(double(step - warmup) / span, 0.0, 1.0);
    switch (kind) {
    case ScheduleKind::cosine: return min + (peak - min) * 0.5 * (1 + std::cos(std::numbers::pi * progress));
    case ScheduleKind::wsd: {
        const double decay_start = 1 - decay_fraction;
        if (progress <= decay_start || decay_fraction <= 0) return peak;
        return peak + (min - peak) * (progress - decay_start) / decay_fraction;
    }
    case ScheduleKind::constant: return peak;
    }
    return peak;
}

}  // namespace mariana::train
