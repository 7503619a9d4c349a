// LocalCoordinatorClient: the CoordinatorClient interface served in-process
// by a Coordinator over a SweepStore, with no server and no network.
//
// Uses: `deepsweep --db FILE` reads a results file directly (the store opened
// read-only, so only read calls succeed), and a worker's embedded mode runs
// a coordinator inside its own process. Calls return the Coordinator's status
// codes unchanged.
//
// WatchSweep re-reads the sweep whenever this process's coordinator changes
// something and at least every `watch_poll_interval`, so it also follows a
// results file that another process (the server) is writing. It paces and
// ends like the server's stream (rpc/sweep_progress.h): changes, heartbeats,
// OK once the sweep is finished, or cancelled with nothing leased.
//
// Thread-safety: safe to call from several threads (the Coordinator is).
#ifndef DEEPSWEEP_RPC_LOCAL_COORDINATOR_CLIENT_H_
#define DEEPSWEEP_RPC_LOCAL_COORDINATOR_CLIENT_H_

#include <memory>

#include "absl/time/time.h"
#include "common/clock.h"
#include "core/coordinator.h"
#include "core/snapshot_store.h"
#include "core/snapshots.h"
#include "core/sweep_store.h"
#include "rpc/coordinator_client.h"

namespace deepsweep::rpc {

struct LocalClientOptions {
  // Lease, retry and spec limits of the in-process coordinator.
  CoordinatorOptions coordinator;
  // Longest time WatchSweep goes without re-reading the sweep.
  absl::Duration watch_poll_interval = absl::Seconds(1);
  // WatchSweep sends an unchanged snapshot this long after the last one (by
  // the client's clock).
  absl::Duration watch_heartbeat = absl::Seconds(1);
};

class LocalCoordinatorClient final : public CoordinatorClient {
 public:
  // Owns `store`; `clock` must outlive the client.
  // `snapshots`, when given, serves the snapshot calls (else they are
  // FAILED_PRECONDITION).
  LocalCoordinatorClient(std::unique_ptr<SweepStore> store, const Clock* clock,
                         LocalClientOptions options = {},
                         std::unique_ptr<SnapshotStore> snapshots = nullptr);
  ~LocalCoordinatorClient() override;

  absl::StatusOr<SubmittedSweep> SubmitSweep(std::string_view spec_yaml,
                                             const SubmitSweepOptions& options) override;
  absl::StatusOr<SweepPlan> PlanSweep(std::string_view spec_yaml) override;
  absl::StatusOr<SweepRecord> GetSweep(SweepId id) override;
  absl::StatusOr<std::vector<SweepRecord>> ListSweeps() override;
  absl::Status CancelSweep(SweepId id) override;
  absl::StatusOr<int64_t> RetryTrials(SweepId sweep, absl::Span<const TrialState> states) override;
  absl::StatusOr<std::vector<TrialRecord>> ListTrials(const TrialQuery& query) override;
  absl::StatusOr<TrialRecord> GetTrial(TrialId id) override;
  absl::StatusOr<std::vector<Checkpoint>> GetCheckpoints(TrialId id, std::optional<int> attempt,
                                                         bool with_layer_stats) override;
  absl::StatusOr<std::vector<WorkerRecord>> ListWorkers() override;
  absl::StatusOr<std::vector<TrialAttempt>> ListAttempts(TrialId id) override;
  absl::Status WatchSweep(SweepId id,
                          const std::function<bool(const SweepProgress&)>& on_progress) override;

  absl::StatusOr<Acquisition> AcquireTrial(const WorkerInfo& worker) override;
  absl::StatusOr<RenewResult> RenewLease(TrialId trial, std::string_view lease_id) override;
  absl::StatusOr<RenewResult> ReportCheckpoints(TrialId trial, std::string_view lease_id,
                                                absl::Span<const Checkpoint> checkpoints) override;
  absl::Status CompleteTrial(TrialId trial, std::string_view lease_id,
                             const TrialOutcome& outcome) override;
  absl::Status FailTrial(TrialId trial, std::string_view lease_id, std::string_view reason,
                         bool retryable) override;
  absl::Status ReleaseTrial(TrialId trial, std::string_view lease_id) override;
  absl::Status UploadSnapshot(TrialId trial, std::string_view lease_id, int64_t step,
                              std::string_view bytes) override;
  absl::StatusOr<std::optional<DownloadedSnapshot>> DownloadSnapshot(
      TrialId trial, std::string_view lease_id, std::optional<int64_t> step) override;
  absl::StatusOr<DownloadedSnapshot> DownloadWeights(TrialId trial) override;

 private:
  std::unique_ptr<SweepStore> store_;
  const Clock* clock_;
  LocalClientOptions options_;
  Coordinator coordinator_;
  std::unique_ptr<SnapshotStore> snapshot_store_;
  std::unique_ptr<Snapshots> snapshots_;  // null without snapshot_store_
};

}  // namespace deepsweep::rpc

#endif  // DEEPSWEEP_RPC_LOCAL_COORDINATOR_CLIENT_H_
