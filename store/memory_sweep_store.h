// MemorySweepStore: a SweepStore held in process memory, for tests and for
// running a coordinator without a database file. It follows the SweepStore
// contract exactly (the conformance suite runs against it), but nothing
// survives the process. Mutations apply synchronously, one at a time.
//
// Thread-safety: every method is safe to call concurrently (one mutex).
#ifndef DEEPSWEEP_STORE_MEMORY_SWEEP_STORE_H_
#define DEEPSWEEP_STORE_MEMORY_SWEEP_STORE_H_

#include <map>
#include <optional>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "core/sweep_store.h"

namespace deepsweep {

class MemorySweepStore final : public SweepStore {
 public:
  MemorySweepStore() = default;

  absl::StatusOr<CreatedSweep> CreateSweep(const NewSweep& sweep,
                                           absl::Span<const TrialSpec> trials) override;
  // Applies the mutation before returning; the PendingWrite is already done.
  PendingWrite Submit(StoreMutation mutation) override;
  void Flush() override {}
  absl::StatusOr<UnfinishedWork> LoadUnfinished() override;
  absl::StatusOr<SweepRecord> GetSweep(SweepId id) override;
  absl::StatusOr<std::vector<SweepRecord>> ListSweeps() override;
  absl::StatusOr<TrialRecord> GetTrial(TrialId id) override;
  absl::StatusOr<std::vector<TrialRecord>> ListTrials(const TrialQuery& query) override;
  absl::StatusOr<std::vector<Checkpoint>> GetCheckpoints(TrialId trial, int attempt,
                                                         bool with_layer_stats) override;
  absl::StatusOr<std::vector<WorkerRecord>> ListWorkers() override;
  absl::StatusOr<std::vector<TrialAttempt>> ListAttempts(TrialId trial) override;
  absl::StatusOr<std::vector<ConfigAggregate>> AggregateConfigs(SweepId sweep) override;
  absl::StatusOr<std::vector<StepAggregate>> AggregateCheckpoints(SweepId sweep,
                                                                  const TrialSpec& config) override;
  absl::StatusOr<std::vector<absl::Time>> RecentFinishTimes(SweepId sweep, int limit) override;

 private:
  struct LeaseRow {
    Lease lease;
    std::string worker_id;
    absl::Time acquired_at;
    std::optional<absl::Time> ended_at;
    std::string outcome;
    std::optional<int64_t> resumed_from;  // LeaseResume
    int64_t snapshots = 0;                // LeaseSnapshot
    std::optional<int64_t> snapshot_step;
  };
  using CheckpointKey = std::tuple<TrialId, int, int64_t>;  // (trial, attempt, step)

  absl::Status CheckReferences(const StoreMutation& m) const ABSL_SHARED_LOCKS_REQUIRED(mu_);
  void SetState(TrialRecord& trial, TrialState state) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void StoreCheckpoints(const CheckpointBatch& batch) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  SweepRecord WithCounts(const SweepRecord& sweep) const ABSL_SHARED_LOCKS_REQUIRED(mu_);
  // The highest step stored for (trial, attempt), if any.
  std::optional<int64_t> ReachedStep(TrialId trial, int attempt) const
      ABSL_SHARED_LOCKS_REQUIRED(mu_);

  mutable absl::Mutex mu_;
  SweepId next_sweep_id_ ABSL_GUARDED_BY(mu_) = 1;
  TrialId next_trial_id_ ABSL_GUARDED_BY(mu_) = 1;
  std::map<SweepId, SweepRecord> sweeps_ ABSL_GUARDED_BY(mu_);
  std::map<TrialId, TrialRecord> trials_ ABSL_GUARDED_BY(mu_);
  std::map<std::pair<TrialId, int>, LeaseRow> leases_ ABSL_GUARDED_BY(mu_);
  std::map<CheckpointKey, Checkpoint> checkpoints_ ABSL_GUARDED_BY(mu_);
  std::map<std::string, WorkerRecord> workers_ ABSL_GUARDED_BY(mu_);
  // Trials per sweep and state, kept as states change.
  std::map<SweepId, TrialCounts> counts_ ABSL_GUARDED_BY(mu_);
};

}  // namespace deepsweep

#endif  // DEEPSWEEP_STORE_MEMORY_SWEEP_STORE_H_
