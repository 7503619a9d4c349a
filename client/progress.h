// A sweep's progress as `status` and `watch` show it: a progress bar, counts
// by state, throughput and an estimated time to completion (the estimate
// itself is core/progress_estimate.h, shared with the web dashboard).
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
#include "core/progress_estimate.h"

namespace deepsweep::client {

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
