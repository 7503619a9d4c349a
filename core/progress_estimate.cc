#include "core/progress_estimate.h"

#include <algorithm>
#include <functional>

namespace deepsweep {

ProgressEstimate EstimateProgress(const ProgressInputs& inputs, absl::Time now) {
  ProgressEstimate estimate;
  const TrialCounts& counts = inputs.counts;
  const double partial = std::clamp(inputs.partial, 0.0, static_cast<double>(counts.leased));
  if (counts.total() > 0) {
    estimate.fraction = std::clamp(
        (static_cast<double>(counts.done()) + partial) / static_cast<double>(counts.total()), 0.0,
        1.0);
  }
  if (inputs.state != SweepState::kActive) return estimate;
  const double remaining = static_cast<double>(counts.pending + counts.leased) - partial;
  if (inputs.finish_times.empty()) {
    // No trial has finished yet: the work the running trials did so far,
    // over the sweep's age, is the only rate there is.
    const double hours = absl::ToDoubleHours(now - inputs.created_at);
    if (partial <= 0 || hours <= 0) return estimate;
    estimate.trials_per_hour = partial / hours;
    estimate.eta = absl::Hours(std::max(0.0, remaining) / *estimate.trials_per_hour);
    return estimate;
  }
  std::vector<absl::Time> recent = inputs.finish_times;
  const size_t k = std::min(recent.size(), static_cast<size_t>(std::max(1, inputs.rate_window)));
  std::nth_element(recent.begin(), recent.begin() + static_cast<std::ptrdiff_t>(k - 1),
                   recent.end(), std::greater<>());
  const absl::Time since = k == recent.size() ? inputs.created_at : recent[k - 1];
  const double hours = absl::ToDoubleHours(now - since);
  if (hours <= 0) return estimate;
  estimate.trials_per_hour = static_cast<double>(k) / hours;
  estimate.eta = absl::Hours(std::max(0.0, remaining) / *estimate.trials_per_hour);
  return estimate;
}

}  // namespace deepsweep
