#include "core/snapshots.h"

#include <algorithm>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/status_macros.h"

namespace deepsweep {

Snapshots::Snapshots(Coordinator* coordinator, SnapshotStore* store, SnapshotsOptions options)
    : coordinator_(coordinator), store_(store), options_(options) {}

absl::Status Snapshots::CheckSize(int64_t bytes) const {
  if (bytes < 0 || bytes > options_.max_snapshot_bytes) {
    return absl::ResourceExhaustedError(
        absl::StrCat("snapshot of ", bytes, " bytes; the limit is ", options_.max_snapshot_bytes));
  }
  return absl::OkStatus();
}

absl::Status Snapshots::Upload(TrialId trial, std::string_view lease_id, int64_t step,
                               std::string_view bytes, uint32_t crc32) {
  RETURN_IF_ERROR(CheckSize(static_cast<int64_t>(bytes.size())));
  ASSIGN_OR_RETURN(const int attempt, coordinator_->CheckLease(trial, lease_id));
  ASSIGN_OR_RETURN(TrialRecord record, coordinator_->GetTrial(trial));
  if (step < 0 || step > record.spec.updates) {
    return absl::InvalidArgumentError(absl::StrCat("snapshot step ", step, " is outside [0, ",
                                                   record.spec.updates, "] of trial ", trial));
  }
  RETURN_IF_ERROR(store_->Put(
      SnapshotInfo{.trial_id = trial, .step = step, .attempt = attempt, .crc32 = crc32}, bytes));
  // Counted once durable and before the answer: a coordinator killed between
  // the two leaves a stored snapshot uncounted, never a count without one.
  RETURN_IF_ERROR(coordinator_->RecordSnapshot(trial, lease_id, step));
  return store_->Prune(trial, options_.keep_running);
}

absl::StatusOr<std::optional<StoredSnapshot>> Snapshots::Fetch(TrialId trial,
                                                               std::string_view lease_id,
                                                               std::optional<int64_t> step) {
  RETURN_IF_ERROR(coordinator_->CheckLease(trial, lease_id).status());
  ASSIGN_OR_RETURN(std::vector<SnapshotInfo> all, store_->List(trial));
  absl::Status damaged;
  for (const SnapshotInfo& info : all) {  // newest first
    if (step.has_value() && info.step != *step) continue;
    absl::StatusOr<std::string> bytes = store_->Read(trial, info.step);
    if (bytes.status().code() == absl::StatusCode::kDataLoss && !step.has_value()) {
      damaged = bytes.status();  // fall back to the one before
      continue;
    }
    if (!bytes.ok()) return bytes.status();
    if (!step.has_value()) {
      RETURN_IF_ERROR(ContinueSeries(trial, lease_id, info));
      RETURN_IF_ERROR(coordinator_->RecordResume(trial, lease_id, info.step));
    }
    return StoredSnapshot{.info = info, .bytes = *std::move(bytes)};
  }
  RETURN_IF_ERROR(damaged);
  return std::nullopt;
}

absl::Status Snapshots::ContinueSeries(TrialId trial, std::string_view lease_id,
                                       const SnapshotInfo& from) {
  ASSIGN_OR_RETURN(const int attempt, coordinator_->CheckLease(trial, lease_id));
  if (attempt == from.attempt) return absl::OkStatus();
  ASSIGN_OR_RETURN(std::vector<Checkpoint> earlier,
                   coordinator_->GetCheckpoints(trial, from.attempt, /*with_layer_stats=*/true));
  std::vector<Checkpoint> carried;
  for (Checkpoint& c : earlier) {
    if (c.step <= from.step) carried.push_back(std::move(c));
  }
  for (size_t at = 0; at < carried.size(); at += options_.checkpoints_per_copy) {
    const size_t n = std::min(options_.checkpoints_per_copy, carried.size() - at);
    RETURN_IF_ERROR(coordinator_
                        ->ReportCheckpoints(trial, lease_id,
                                            absl::Span<const Checkpoint>(carried).subspan(at, n))
                        .status());
  }
  return absl::OkStatus();
}

absl::Status Snapshots::TrialEnded(TrialId trial) {
  ASSIGN_OR_RETURN(TrialRecord record, coordinator_->GetTrial(trial));
  if (record.spec.keep_weights == "none" || record.state != TrialState::kSucceeded) {
    // Nothing of a diverged net is worth keeping; "none" keeps nothing.
    if (IsTerminal(record.state)) return store_->Prune(trial, 0);
    return absl::OkStatus();
  }
  ASSIGN_OR_RETURN(std::vector<SnapshotInfo> all, store_->List(trial));
  const bool has_final = !all.empty() && all.front().step == record.spec.updates;
  return store_->Prune(trial, has_final ? 1 : 0);
}

absl::StatusOr<int> Snapshots::PruneEndedTrials() {
  ASSIGN_OR_RETURN(std::vector<TrialId> trials, store_->Trials());
  int pruned = 0;
  for (const TrialId trial : trials) {
    absl::StatusOr<TrialRecord> record = coordinator_->GetTrial(trial);
    // Snapshots of a trial the database does not know (e.g. a restored older
    // backup) are left for the operator: they may be all that is left of it.
    if (absl::IsNotFound(record.status())) continue;
    RETURN_IF_ERROR(record.status());
    if (!IsTerminal(record->state)) continue;
    RETURN_IF_ERROR(TrialEnded(trial));
    ++pruned;
  }
  return pruned;
}

absl::StatusOr<std::string> Snapshots::FinalWeights(TrialId trial) {
  ASSIGN_OR_RETURN(TrialRecord record, coordinator_->GetTrial(trial));
  if (record.state != TrialState::kSucceeded) {
    return absl::NotFoundError(absl::StrCat("trial ", trial, " is ",
                                            std::string(TrialStateName(record.state)),
                                            "; only succeeded trials have trained weights"));
  }
  ASSIGN_OR_RETURN(std::vector<SnapshotInfo> all, store_->List(trial));
  if (all.empty() || all.front().step != record.spec.updates) {
    return absl::NotFoundError(absl::StrCat(
        "trial ", trial, " kept no final weights (keep_weights: ", record.spec.keep_weights, ")"));
  }
  return store_->Read(trial, all.front().step);
}

}  // namespace deepsweep
