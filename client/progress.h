// A sweep's progress as `status` and `watch` show it: a progress bar, counts
// by state, throughput and an estimated time to completion.
//
// Throughput is measured over the most recent completions (by default the
// last 20): rate = k / (now - time of the k-th most recent completion), or
// k / (now - sweep creation) when the sweep has had only k. Only trials that
// ran count as completions (succeeded, diverged, failed), not cancellations.
// Before the first completion, the running trials' partial progress stands
// in: rate = partial / (now - sweep creation). ETA = (pending + leased -
// partial progress of leased trials) / rate, for an active sweep with a known
// rate.
//
// Thread-safety: pure functions.
#ifndef DEEPSWEEP_CLIENT_PROGRESS_H_
#define DEEPSWEEP_CLIENT_PROGRESS_H_

#include <optional>
#include <string>
#include <vector>

#include "absl/time/time.h"
#include "absl/types/span.h"
#include "core/coordinator.h"

namespace deepsweep::client {

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

// "[#########...........]" with `width` cells inside the brackets.
std::string ProgressBar(double fraction, int width);

// "45s", "12m05s", "3h05m", "2d04h".
std::string HumanDuration(absl::Duration duration);

// A multi-line block for a terminal:
//   sweep 3 'glorot-quick': active, created 2h05m ago
//   [##########..........]  52.4%  63/120 done
//   succeeded 60  diverged 2  failed 1  cancelled 0  leased 4  pending 53
//   21.3 trials/h, ETA 2h40m
std::vector<std::string> SweepStatusLines(const SweepRecord& sweep,
                                          const ProgressEstimate& estimate, absl::Time now,
                                          int bar_width = 40);

// One line for logs and pipes:
//   2026-11-27T12:00:05Z sweep 3 active 63/120 done (52.4%): succeeded 60, diverged 2,
//   failed 1, cancelled 0, leased 4, pending 53; 21.3 trials/h, ETA 2h40m
std::string SweepStatusLine(const SweepRecord& sweep, const ProgressEstimate& estimate,
                            absl::Time now);

}  // namespace deepsweep::client

#endif  // DEEPSWEEP_CLIENT_PROGRESS_H_
