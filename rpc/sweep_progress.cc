#include "rpc/sweep_progress.h"

#include <utility>
#include <vector>

#include "common/status_macros.h"
#include "core/trial_query.h"

namespace deepsweep::rpc {
namespace {

bool SameCounts(const TrialCounts& a, const TrialCounts& b) {
  return a.pending == b.pending && a.leased == b.leased && a.succeeded == b.succeeded &&
         a.diverged == b.diverged && a.failed == b.failed && a.cancelled == b.cancelled &&
         a.pruned == b.pruned;
}

bool SameRunning(const RunningTrial& a, const RunningTrial& b) {
  return a.trial_id == b.trial_id && a.attempt == b.attempt && a.worker_id == b.worker_id &&
         a.steps_done == b.steps_done && a.updates == b.updates;
}

}  // namespace

absl::StatusOr<SweepProgress> ReadSweepProgress(Coordinator& coordinator, SweepId id) {
  ASSIGN_OR_RETURN(const SweepRecord sweep, coordinator.GetSweep(id));
  SweepProgress progress{.sweep_id = sweep.id, .state = sweep.state, .counts = sweep.counts};
  if (sweep.counts.leased == 0) return progress;
  TrialQuery leased;
  leased.sweep_id = id;
  leased.conditions.push_back({"state", TrialCondition::Op::kEq, "leased"});
  ASSIGN_OR_RETURN(const std::vector<TrialRecord> trials, coordinator.ListTrials(leased));
  for (const TrialRecord& t : trials) {
    progress.running.push_back({.trial_id = t.id,
                                .attempt = t.attempt,
                                .worker_id = t.worker_id,
                                .steps_done = t.steps_done,
                                .updates = t.spec.updates});
  }
  return progress;
}

bool IsSettled(const SweepProgress& progress) {
  return progress.state != SweepState::kActive && progress.counts.leased == 0;
}

bool ProgressChanged(const SweepProgress& before, const SweepProgress& after) {
  if (before.sweep_id != after.sweep_id || before.state != after.state ||
      !SameCounts(before.counts, after.counts) || before.running.size() != after.running.size()) {
    return true;
  }
  for (size_t i = 0; i < before.running.size(); ++i) {
    if (!SameRunning(before.running[i], after.running[i])) return true;
  }
  return false;
}

bool ProgressPacer::ShouldSend(const SweepProgress& progress, absl::Time now) {
  const bool send =
      !last_sent_.has_value() || ProgressChanged(*last_sent_, progress) || now >= next_heartbeat();
  if (send) {
    last_sent_ = progress;
    last_sent_at_ = now;
  }
  return send;
}

}  // namespace deepsweep::rpc
