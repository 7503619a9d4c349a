#include "client/replay.h"

#include <vector>

#include "absl/strings/str_cat.h"
#include "common/status_macros.h"
#include "core/checkpoint_compare.h"
#include "ml/kernels.h"
#include "worker/dataset_cache.h"

namespace deepsweep::client {

absl::StatusOr<ReplayReport> ReplayTrial(rpc::CoordinatorClient& coordinator, TrialId id,
                                         const ReplayOptions& options, const Clock& clock) {
  ReplayReport report;
  absl::StatusOr<TrialRecord> trial = coordinator.GetTrial(id);
  if (trial.status().code() == absl::StatusCode::kNotFound) {
    return absl::NotFoundError(absl::StrCat("no trial ", id));
  }
  RETURN_IF_ERROR(trial.status());
  report.trial = *std::move(trial);
  ASSIGN_OR_RETURN(const std::vector<Checkpoint> stored,
                   coordinator.GetCheckpoints(id, options.attempt, /*with_layer_stats=*/true));
  if (stored.empty()) {
    return absl::FailedPreconditionError(
        absl::StrCat("trial ", id, " has no stored checkpoints to compare"));
  }
  const int64_t last_step = stored.back().step;

  // Run on the trial's ISA and auto plan as far as this CPU can; the
  // process's own come back after.
  report.stored_path = report.trial.compute_path;
  const ml::ScopedComputePath on_stored_path(report.stored_path);
  report.replayed_path = ml::ComputePath();
  report.different_path = !report.stored_path.empty() &&
                          ml::CanonicalComputePath(report.stored_path) != report.replayed_path;

  worker::DatasetCache datasets(worker::DatasetCacheOptions{.shapeset_sets = 1});
  const worker::TrialRunner runner(&datasets, &clock, options.runner);
  std::vector<Checkpoint> replayed;
  RETURN_IF_ERROR(runner
                      .RunTrial(report.trial.spec,
                                [&](const Checkpoint& checkpoint) {
                                  replayed.push_back(checkpoint);
                                  return checkpoint.step >= last_step;  // nothing stored beyond
                                })
                      .status());
  report.first_difference = CheckpointsDifference(stored, replayed);
  for (const Checkpoint& checkpoint : stored) {
    ++report.checkpoints_compared;
    report.layer_stats_compared += static_cast<int64_t>(checkpoint.layer_stats.size());
  }
  if (!report.first_difference.empty()) {
    absl::StrAppend(&report.first_difference, " (stored vs replayed)");
  }
  return report;
}

}  // namespace deepsweep::client
