#include "rpc/local_coordinator_client.h"

#include <optional>
#include <utility>

#include "common/crc32.h"
#include "common/status_macros.h"
#include "rpc/sweep_progress.h"

namespace deepsweep::rpc {
LocalCoordinatorClient::LocalCoordinatorClient(std::unique_ptr<SweepStore> store,
                                               const Clock* clock, LocalClientOptions options,
                                               std::unique_ptr<SnapshotStore> snapshots)
    : store_(std::move(store)),
      clock_(clock),
      options_(std::move(options)),
      coordinator_(store_.get(), clock, options_.coordinator),
      snapshot_store_(std::move(snapshots)) {
  if (snapshot_store_ != nullptr) {
    snapshots_ = std::make_unique<Snapshots>(&coordinator_, snapshot_store_.get());
  }
}

LocalCoordinatorClient::~LocalCoordinatorClient() = default;

absl::StatusOr<SubmittedSweep> LocalCoordinatorClient::SubmitSweep(
    std::string_view spec_yaml, const SubmitSweepOptions& options) {
  return coordinator_.SubmitSweep(spec_yaml, options);
}

absl::StatusOr<SweepPlan> LocalCoordinatorClient::PlanSweep(std::string_view spec_yaml) {
  return coordinator_.PlanSweep(spec_yaml);
}

absl::StatusOr<SweepRecord> LocalCoordinatorClient::GetSweep(SweepId id) {
  return coordinator_.GetSweep(id);
}

absl::StatusOr<std::vector<SweepRecord>> LocalCoordinatorClient::ListSweeps() {
  return coordinator_.ListSweeps();
}

absl::Status LocalCoordinatorClient::CancelSweep(SweepId id) {
  return coordinator_.CancelSweep(id);
}

absl::StatusOr<int64_t> LocalCoordinatorClient::RetryTrials(SweepId sweep,
                                                            absl::Span<const TrialState> states) {
  return coordinator_.RetryTrials(sweep, states);
}

absl::StatusOr<std::vector<TrialRecord>> LocalCoordinatorClient::ListTrials(
    const TrialQuery& query) {
  return coordinator_.ListTrials(query);
}

absl::StatusOr<TrialRecord> LocalCoordinatorClient::GetTrial(TrialId id) {
  return coordinator_.GetTrial(id);
}

absl::StatusOr<std::vector<Checkpoint>> LocalCoordinatorClient::GetCheckpoints(
    TrialId id, std::optional<int> attempt, bool with_layer_stats) {
  return coordinator_.GetCheckpoints(id, attempt, with_layer_stats);
}

absl::StatusOr<std::vector<WorkerRecord>> LocalCoordinatorClient::ListWorkers() {
  return coordinator_.ListWorkers();
}
absl::StatusOr<std::vector<TrialAttempt>> LocalCoordinatorClient::ListAttempts(TrialId id) {
  return coordinator_.ListAttempts(id);
}

absl::Status LocalCoordinatorClient::WatchSweep(
    SweepId id, const std::function<bool(const SweepProgress&)>& on_progress) {
  // The version is read before the sweep so a change in between is not lost.
  uint64_t version = coordinator_.WaitForChange(0, absl::ZeroDuration());
  ProgressPacer pacer(options_.watch_heartbeat);
  while (true) {
    ASSIGN_OR_RETURN(const SweepProgress progress, ReadSweepProgress(coordinator_, id));
    if (pacer.ShouldSend(progress, clock_->Now()) && !on_progress(progress)) {
      return absl::OkStatus();
    }
    if (IsSettled(progress)) return absl::OkStatus();
    // Returns on a change made through this coordinator, or after the poll
    // interval to see changes another process made to the same store.
    version = coordinator_.WaitForChange(version, options_.watch_poll_interval);
  }
}

absl::StatusOr<Acquisition> LocalCoordinatorClient::AcquireTrial(const WorkerInfo& worker) {
  return coordinator_.AcquireTrial(worker);
}

absl::StatusOr<RenewResult> LocalCoordinatorClient::RenewLease(TrialId trial,
                                                               std::string_view lease_id) {
  return coordinator_.RenewLease(trial, lease_id);
}

absl::StatusOr<RenewResult> LocalCoordinatorClient::ReportCheckpoints(
    TrialId trial, std::string_view lease_id, absl::Span<const Checkpoint> checkpoints) {
  return coordinator_.ReportCheckpoints(trial, lease_id, checkpoints);
}

absl::Status LocalCoordinatorClient::CompleteTrial(TrialId trial, std::string_view lease_id,
                                                   const TrialOutcome& outcome) {
  RETURN_IF_ERROR(coordinator_.CompleteTrial(trial, lease_id, outcome));
  // Retention (keep_weights), as the server does; the completion stands
  // even if it fails (extra snapshot files are only space).
  if (snapshots_ != nullptr) snapshots_->TrialEnded(trial).IgnoreError();
  return absl::OkStatus();
}

absl::Status LocalCoordinatorClient::FailTrial(TrialId trial, std::string_view lease_id,
                                               std::string_view reason, bool retryable) {
  return coordinator_.FailTrial(trial, lease_id, reason, retryable);
}

absl::Status LocalCoordinatorClient::ReleaseTrial(TrialId trial, std::string_view lease_id) {
  return coordinator_.ReleaseTrial(trial, lease_id);
}

namespace {

absl::Status NoSnapshots() {
  return absl::FailedPreconditionError("no snapshot storage here (its database is :memory:)");
}

}  // namespace

absl::Status LocalCoordinatorClient::UploadSnapshot(TrialId trial, std::string_view lease_id,
                                                    int64_t step, std::string_view bytes) {
  if (snapshots_ == nullptr) return NoSnapshots();
  return snapshots_->Upload(trial, lease_id, step, bytes, Crc32(bytes));
}

absl::StatusOr<std::optional<DownloadedSnapshot>> LocalCoordinatorClient::DownloadSnapshot(
    TrialId trial, std::string_view lease_id, std::optional<int64_t> step) {
  if (snapshots_ == nullptr) return NoSnapshots();
  ASSIGN_OR_RETURN(std::optional<StoredSnapshot> stored, snapshots_->Fetch(trial, lease_id, step));
  if (!stored.has_value()) return std::nullopt;
  return DownloadedSnapshot{.step = stored->info.step,
                            .attempt = stored->info.attempt,
                            .bytes = std::move(stored->bytes)};
}

absl::StatusOr<DownloadedSnapshot> LocalCoordinatorClient::DownloadWeights(TrialId trial) {
  if (snapshots_ == nullptr) return NoSnapshots();
  ASSIGN_OR_RETURN(TrialRecord record, coordinator_.GetTrial(trial));
  ASSIGN_OR_RETURN(std::string bytes, snapshots_->FinalWeights(trial));
  return DownloadedSnapshot{.step = record.spec.updates, .bytes = std::move(bytes)};
}

}  // namespace deepsweep::rpc
