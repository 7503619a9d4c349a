// A sweep's estimated progress: fraction done, throughput and time to
// completion, as `deepsweep status` / `watch` and the web dashboard show it.
//
// Throughput is measured over the most recent completions (by default the
// last 20): rate = k / (now - time of the k-th most recent completion), or
// k / (now - sweep creation) when the sweep has had only k. Only trials that
// ran count as completions (succeeded, diverged, failed, pruned), not
// cancellations.
// Before the first completion, the running trials' partial progress stands
// in: rate = partial / (now - sweep creation). ETA = (pending + leased -
// partial progress of leased trials) / rate, for an active sweep with a known
// rate.
//
// Thread-safety: pure function.
#ifndef DEEPSWEEP_CORE_PROGRESS_ESTIMATE_H_
#define DEEPSWEEP_CORE_PROGRESS_ESTIMATE_H_

#include <optional>
#include <vector>

#include "absl/time/time.h"
#include "core/coordinator.h"

namespace deepsweep {

struct ProgressEstimate {
  double fraction = 0;  // (done + partial) / total, in [0, 1]
  std::optional<double> trials_per_hour;
  std::optional<absl::Duration> eta;
};

struct ProgressInputs {
  SweepState state = SweepState::kActive;
  TrialCounts counts;
  // Sum over leased trials of steps_done / updates, in [0, counts.leased].
  double partial = 0;
  // When trials that ran reached a terminal state, in any order.
  std::vector<absl::Time> finish_times;
  absl::Time created_at;
  // How many of the most recent completions the rate is measured over.
  int rate_window = 20;
};

ProgressEstimate EstimateProgress(const ProgressInputs& inputs, absl::Time now);

}  // namespace deepsweep

#endif  // DEEPSWEEP_CORE_PROGRESS_ESTIMATE_H_
