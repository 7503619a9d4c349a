// ForwardingCoordinatorClient: an rpc::CoordinatorClient that passes every
// call to another one. Tests derive from it and override only the calls they
// intercept (to fail them, observe them, or change the world between them).
//
// Thread-safety: as the inner client's.
#ifndef DEEPSWEEP_TESTS_TESTING_FORWARDING_COORDINATOR_CLIENT_H_
#define DEEPSWEEP_TESTS_TESTING_FORWARDING_COORDINATOR_CLIENT_H_

#include <cstdint>
#include <functional>
#include <optional>
#include <string_view>
#include <vector>

#include "rpc/coordinator_client.h"

namespace deepsweep::testing {

class ForwardingCoordinatorClient : public rpc::CoordinatorClient {
 public:
  // `inner` must outlive this client.
  explicit ForwardingCoordinatorClient(rpc::CoordinatorClient* inner) : inner_(inner) {}

  absl::StatusOr<SubmittedSweep> SubmitSweep(std::string_view spec_yaml,
                                             const SubmitSweepOptions& options) override {
    return inner_->SubmitSweep(spec_yaml, options);
  }
  absl::StatusOr<SweepPlan> PlanSweep(std::string_view spec_yaml) override {
    return inner_->PlanSweep(spec_yaml);
  }
  absl::StatusOr<SweepRecord> GetSweep(SweepId id) override { return inner_->GetSweep(id); }
  absl::StatusOr<std::vector<SweepRecord>> ListSweeps() override { return inner_->ListSweeps(); }
  absl::Status CancelSweep(SweepId id) override { return inner_->CancelSweep(id); }
  absl::StatusOr<int64_t> RetryTrials(SweepId sweep, absl::Span<const TrialState> states) override {
    return inner_->RetryTrials(sweep, states);
  }
  absl::StatusOr<std::vector<TrialRecord>> ListTrials(const TrialQuery& query) override {
    return inner_->ListTrials(query);
  }
  absl::StatusOr<TrialRecord> GetTrial(TrialId id) override { return inner_->GetTrial(id); }
  absl::StatusOr<std::vector<Checkpoint>> GetCheckpoints(TrialId id, std::optional<int> attempt,
                                                         bool with_layer_stats) override {
    return inner_->GetCheckpoints(id, attempt, with_layer_stats);
  }
  absl::StatusOr<std::vector<WorkerRecord>> ListWorkers() override { return inner_->ListWorkers(); }
  absl::StatusOr<std::vector<TrialAttempt>> ListAttempts(TrialId id) override {
    return inner_->ListAttempts(id);
  }
  absl::Status WatchSweep(
      SweepId id, const std::function<bool(const rpc::SweepProgress&)>& on_progress) override {
    return inner_->WatchSweep(id, on_progress);
  }

  absl::StatusOr<Acquisition> AcquireTrial(const WorkerInfo& worker) override {
    return inner_->AcquireTrial(worker);
  }
  absl::StatusOr<RenewResult> RenewLease(TrialId trial, std::string_view lease_id) override {
    return inner_->RenewLease(trial, lease_id);
  }
  absl::StatusOr<RenewResult> ReportCheckpoints(TrialId trial, std::string_view lease_id,
                                                absl::Span<const Checkpoint> checkpoints) override {
    return inner_->ReportCheckpoints(trial, lease_id, checkpoints);
  }
  absl::Status CompleteTrial(TrialId trial, std::string_view lease_id,
                             const TrialOutcome& outcome) override {
    return inner_->CompleteTrial(trial, lease_id, outcome);
  }
  absl::Status FailTrial(TrialId trial, std::string_view lease_id, std::string_view reason,
                         bool retryable) override {
    return inner_->FailTrial(trial, lease_id, reason, retryable);
  }
  absl::Status ReleaseTrial(TrialId trial, std::string_view lease_id) override {
    return inner_->ReleaseTrial(trial, lease_id);
  }

  absl::Status UploadSnapshot(TrialId trial, std::string_view lease_id, int64_t step,
                              std::string_view bytes) override {
    return inner_->UploadSnapshot(trial, lease_id, step, bytes);
  }
  absl::StatusOr<std::optional<rpc::DownloadedSnapshot>> DownloadSnapshot(
      TrialId trial, std::string_view lease_id, std::optional<int64_t> step) override {
    return inner_->DownloadSnapshot(trial, lease_id, step);
  }
  absl::StatusOr<rpc::DownloadedSnapshot> DownloadWeights(TrialId trial) override {
    return inner_->DownloadWeights(trial);
  }

 protected:
  rpc::CoordinatorClient* inner() const { return inner_; }

 private:
  rpc::CoordinatorClient* const inner_;
};

}  // namespace deepsweep::testing

#endif  // DEEPSWEEP_TESTS_TESTING_FORWARDING_COORDINATOR_CLIENT_H_
