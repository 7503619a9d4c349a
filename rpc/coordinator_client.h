// CoordinatorClient: how the worker and the CLI talk to the coordinator.
//
// An abstract interface in domain types (core/), so callers never see protos
// or stubs and tests can substitute a fake. The methods mirror Coordinator's
// (core/coordinator.h) and return its status codes unchanged; a transport
// failure adds UNAVAILABLE (server unreachable), DEADLINE_EXCEEDED (the call
// took longer than the client's per-call timeout) and UNAUTHENTICATED (missing
// or wrong token).
//
// Thread-safety: implementations are safe to call from several threads.
#ifndef DEEPSWEEP_RPC_COORDINATOR_CLIENT_H_
#define DEEPSWEEP_RPC_COORDINATOR_CLIENT_H_

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "core/coordinator.h"
#include "core/trial.h"

namespace deepsweep::rpc {

// How far one leased trial has come, as of its last reported checkpoint.
struct RunningTrial {
  TrialId trial_id = 0;
  int attempt = 0;
  std::string worker_id;
  int64_t steps_done = 0;
  int64_t updates = 0;  // the trial's total
};

// A sweep's progress as WatchSweep streams it (rpc/sweep_progress.h).
struct SweepProgress {
  SweepId sweep_id = 0;
  SweepState state = SweepState::kActive;
  TrialCounts counts;
  std::vector<RunningTrial> running;  // the leased trials, ordered by id
};

// A snapshot as downloaded: its step and bytes (CRC-32 already verified).
struct DownloadedSnapshot {
  int64_t step = 0;
  int attempt = 0;  // the attempt whose worker took it
  std::string bytes;
};

class CoordinatorClient {
 public:
  virtual ~CoordinatorClient() = default;

  // --- Users ---------------------------------------------------------------
  // Coordinator::SubmitSweep: an equal spec under a used name returns the
  // existing sweep, a different one is ALREADY_EXISTS unless new_sweep.
  virtual absl::StatusOr<SubmittedSweep> SubmitSweep(std::string_view spec_yaml,
                                                     const SubmitSweepOptions& options) = 0;
  // A new sweep whatever exists (SubmitSweep with new_sweep).
  absl::StatusOr<SweepRecord> CreateSweep(std::string_view spec_yaml) {
    absl::StatusOr<SubmittedSweep> submitted = SubmitSweep(spec_yaml, {.new_sweep = true});
    if (!submitted.ok()) return submitted.status();
    return std::move(submitted->sweep);
  }
  // Parses, validates and expands `spec_yaml` without storing anything.
  virtual absl::StatusOr<SweepPlan> PlanSweep(std::string_view spec_yaml) = 0;
  virtual absl::StatusOr<SweepRecord> GetSweep(SweepId id) = 0;
  virtual absl::StatusOr<std::vector<SweepRecord>> ListSweeps() = 0;
  virtual absl::Status CancelSweep(SweepId id) = 0;
  virtual absl::StatusOr<int64_t> RetryTrials(SweepId sweep,
                                              absl::Span<const TrialState> states) = 0;
  virtual absl::StatusOr<std::vector<TrialRecord>> ListTrials(const TrialQuery& query) = 0;
  virtual absl::StatusOr<TrialRecord> GetTrial(TrialId id) = 0;
  virtual absl::StatusOr<std::vector<Checkpoint>> GetCheckpoints(TrialId id,
                                                                 std::optional<int> attempt,
                                                                 bool with_layer_stats) = 0;
  virtual absl::StatusOr<std::vector<WorkerRecord>> ListWorkers() = 0;
  // Coordinator::ListAttempts.
  virtual absl::StatusOr<std::vector<TrialAttempt>> ListAttempts(TrialId id) = 0;
  // Calls `on_progress` with the sweep's progress at once, after every change
  // (counts, state, a running trial's steps) and, while nothing changes, at
  // least once a second (a heartbeat), until the sweep is finished (or
  // cancelled with nothing leased): then returns OK. Returns early with OK when `on_progress`
  // returns false, or with the error that ended the stream. Not bound by the per-call timeout.
  virtual absl::Status WatchSweep(SweepId id,
                                  const std::function<bool(const SweepProgress&)>& on_progress) = 0;

  // --- Workers ---------------------------------------------------------------
  virtual absl::StatusOr<Acquisition> AcquireTrial(const WorkerInfo& worker) = 0;
  virtual absl::StatusOr<RenewResult> RenewLease(TrialId trial, std::string_view lease_id) = 0;
  virtual absl::StatusOr<RenewResult> ReportCheckpoints(
      TrialId trial, std::string_view lease_id, absl::Span<const Checkpoint> checkpoints) = 0;
  virtual absl::Status CompleteTrial(TrialId trial, std::string_view lease_id,
                                     const TrialOutcome& outcome) = 0;
  virtual absl::Status FailTrial(TrialId trial, std::string_view lease_id, std::string_view reason,
                                 bool retryable) = 0;
  virtual absl::Status ReleaseTrial(TrialId trial, std::string_view lease_id) = 0;

  // --- Snapshots (core/snapshots.h) -----------------------------------------
  // Stores a training-state snapshot of the leased trial (its CRC-32 is
  // computed here and checked by the coordinator); OK = durable.
  virtual absl::Status UploadSnapshot(TrialId trial, std::string_view lease_id, int64_t step,
                                      std::string_view bytes) = 0;
  // The leased trial's snapshot at `step`, or its newest when unset; nullopt
  // when it has none. DATA_LOSS when the bytes fail their CRC-32.
  virtual absl::StatusOr<std::optional<DownloadedSnapshot>> DownloadSnapshot(
      TrialId trial, std::string_view lease_id, std::optional<int64_t> step) = 0;
  // The final snapshot (trained weights) of a succeeded trial.
  virtual absl::StatusOr<DownloadedSnapshot> DownloadWeights(TrialId trial) = 0;
};

}  // namespace deepsweep::rpc

#endif  // DEEPSWEEP_RPC_COORDINATOR_CLIENT_H_
