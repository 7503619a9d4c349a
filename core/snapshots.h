// Snapshots: the coordinator's use cases around training-state snapshots
// (ml/trainer.h) and the trained weights they carry.
//
//   - Upload: a worker stores a snapshot of the trial it leases. The lease
//     must be current (ABORTED otherwise, nothing stored), the step within
//     the trial's budget and the bytes must match their CRC-32 (DATA_LOSS);
//     OK means durable (core/snapshot_store.h) and counted on the lease
//     (TrialAttempt::snapshots). Retention while the trial
//     runs: its newest two (the newest may turn out damaged on resume; the
//     one before is the fallback).
//   - Fetch: the worker that leases a trial again downloads its newest
//     snapshot (lease checked), verified again by the store; a damaged one
//     is skipped for the one before (DATA_LOSS when every one is damaged).
//     The new attempt then continues the series of the attempt that took the
//     snapshot: that attempt's checkpoints up to the snapshot's step are
//     stored again under the new attempt (the worker stored them before it
//     uploaded the snapshot), so every attempt holds a whole series and the
//     latest-attempt views and `deepsweep replay` work on resumed trials.
//     The attempt's lease records the step it resumed from (trial_attempts).
//   - TrialEnded: after the trial ends, keep_weights "final" keeps only a
//     snapshot taken after the last update (the trained net), "none" keeps
//     nothing. Called by the adapter once CompleteTrial succeeded.
//   - PruneEndedTrials: TrialEnded for every ended trial that still holds
//     snapshots. A trial can end without a call that prunes it (a lease that
//     expires in a cancelled sweep, a coordinator killed in between): the
//     server runs this at start and after a cancel.
//   - FinalWeights: the final snapshot of a finished trial, for `deepsweep
//     weights` (NOT_FOUND naming why when there is none).
//
// Thread-safety: safe for concurrent use (the store and coordinator are).
#ifndef DEEPSWEEP_CORE_SNAPSHOTS_H_
#define DEEPSWEEP_CORE_SNAPSHOTS_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "core/coordinator.h"
#include "core/snapshot_store.h"

namespace deepsweep {

struct StoredSnapshot {
  SnapshotInfo info;
  std::string bytes;
};

struct SnapshotsOptions {
  // Larger uploads are refused with RESOURCE_EXHAUSTED (a 5 x 1000 net's
  // snapshot is about 19 MB; the server holds one upload in memory).
  int64_t max_snapshot_bytes = int64_t{1} << 30;
  // Snapshots of a running trial that are kept.
  int keep_running = 2;
  // Checkpoints per store write when a series is carried to a new attempt
  // (within CoordinatorOptions::max_checkpoints_per_report).
  size_t checkpoints_per_copy = 256;
};

class Snapshots {
 public:
  // `coordinator` and `store` must outlive this.
  Snapshots(Coordinator* coordinator, SnapshotStore* store, SnapshotsOptions options = {});

  absl::Status Upload(TrialId trial, std::string_view lease_id, int64_t step,
                      std::string_view bytes, uint32_t crc32);
  // Checks the upload's announced size before the bytes arrive.
  absl::Status CheckSize(int64_t bytes) const;
  // For the worker leasing the trial under `lease_id`: its snapshot at `step`
  // (or its newest when unset) with the bytes, verified; nullopt when none.
  absl::StatusOr<std::optional<StoredSnapshot>> Fetch(TrialId trial, std::string_view lease_id,
                                                      std::optional<int64_t> step);
  // Applies the retention rule of an ended trial (no-op while it runs).
  absl::Status TrialEnded(TrialId trial);
  // Returns how many ended trials it applied TrialEnded to.
  absl::StatusOr<int> PruneEndedTrials();
  absl::StatusOr<std::string> FinalWeights(TrialId trial);

 private:
  // Stores the checkpoints of `from`'s attempt up to its step under the
  // current lease's attempt.
  absl::Status ContinueSeries(TrialId trial, std::string_view lease_id, const SnapshotInfo& from);

  Coordinator* const coordinator_;
  SnapshotStore* const store_;
  const SnapshotsOptions options_;
};

}  // namespace deepsweep

#endif  // DEEPSWEEP_CORE_SNAPSHOTS_H_
