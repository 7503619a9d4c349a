#include "core/sweep_store.h"

namespace deepsweep {

void AddToCounts(TrialState state, int64_t n, TrialCounts& counts) {
  switch (state) {
    case TrialState::kPending:
      counts.pending += n;
      return;
    case TrialState::kLeased:
      counts.leased += n;
      return;
    case TrialState::kSucceeded:
      counts.succeeded += n;
      return;
    case TrialState::kDiverged:
      counts.diverged += n;
      return;
    case TrialState::kFailed:
      counts.failed += n;
      return;
    case TrialState::kCancelled:
      counts.cancelled += n;
      return;
  }
}

}  // namespace deepsweep
