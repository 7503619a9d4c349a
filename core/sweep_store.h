// SweepStore: where the Coordinator keeps sweeps, trials, leases, checkpoints
// and workers. The store is the source of truth; the Coordinator decides and
// the store records, so a store has no lifecycle logic of its own.
//
// Every coordinator decision is one StoreMutation. Submit() queues it; the
// store applies mutations in the order submitted, each atomically (all of it
// or none of it), inside a transaction that it may share with other mutations
// submitted meanwhile (group commit; a mutation that fails fails alone, the
// others commit). PendingWrite::Wait() returns once that transaction
// committed: from then on the change survives a crash of the process (each
// implementation says how far beyond that it goes). Apply() is Submit() then
// Wait(). CreateSweep is one transaction.
//
// Group commit is why Submit exists: the coordinator decides under its mutex,
// submits, and waits outside it, so concurrent workers' changes share one
// commit instead of paying one each.
//
// Implementations: store/memory_sweep_store.h (tests, --db :memory:) and
// store/sqlite_sweep_store.h. tests/store/sweep_store_conformance_test.cc runs
// one suite against both.
//
// Conventions every implementation follows:
//   - Times are kept with microsecond precision (finer parts are dropped).
//   - Metric values that are NaN read back as NaN (SQLite stores them as NULL,
//     so the NaN's sign and payload are not kept), and final_* metrics that
//     are NaN read back as no value.
//   - A checkpoint already stored under (trial, attempt, step) is never
//     overwritten: a repeated report is a no-op.
//   - After storing checkpoints, the trial's steps_done and final_* metrics are
//     those of its stored checkpoint with the highest step for that attempt.
//   - Sweep counts are computed from the trials' states.
//   - A checkpoint holds at most one LayerStat per (layer, quantity); a
//     mutation with a checkpoint that repeats one fails with INVALID_ARGUMENT.
//
// Errors: NOT_FOUND for unknown ids and ABORTED when a trial is not in the
// state a TrialUpdate expects (the mutation changes nothing then),
// INVALID_ARGUMENT for values the store cannot represent, UNAVAILABLE when the
// storage is busy, unreachable or full, INTERNAL for anything else.
// Thread-safety: every method is safe to call concurrently.
#ifndef DEEPSWEEP_CORE_SWEEP_STORE_H_
#define DEEPSWEEP_CORE_SWEEP_STORE_H_

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "absl/types/span.h"
#include "core/coordinator.h"
#include "core/trial.h"

namespace deepsweep {

struct NewSweep {
  std::string name;
  std::string spec_yaml;
  int max_attempts = 3;  // also every trial's initial attempt_limit
  absl::Time created_at;
};

struct CreatedSweep {
  SweepId id = 0;
  std::vector<TrialId> trial_ids;  // in expansion order: trial_ids[i] has index i
};

// A trial's new lifecycle fields (the spec never changes), applied only if
// the trial is still as the coordinator saw it (expect_state, expect_attempt);
// otherwise the mutation fails with ABORTED.
struct TrialUpdate {
  TrialId id = 0;
  TrialState expect_state = TrialState::kPending;
  int expect_attempt = 0;
  TrialState state = TrialState::kPending;
  int attempt = 0;
  int attempt_limit = 0;
  std::string worker_id;
  // Stored only with a new attempt (attempt != expect_attempt): the leasing
  // worker's compute path.
  std::string compute_path;
  std::string reason;
  // Clears steps_done and the final metrics (a new attempt starts from scratch).
  bool reset_results = false;
  // The trial's rung (TrialRecord::rung); every update sets it.
  std::optional<int64_t> rung;
};

// A new lease: one row per (trial, attempt), kept after it ends as history.
struct LeaseGrant {
  TrialId trial_id = 0;
  std::string lease_id;
  int attempt = 0;
  absl::Time deadline;
  std::string worker_id;
};

struct LeaseRenewal {
  TrialId trial_id = 0;
  int attempt = 0;
  absl::Time deadline;
};

// The attempt of (trial, attempt) starts from the training-state snapshot
// taken after update `step` (core/snapshots.h) rather than from update 0.
struct LeaseResume {
  TrialId trial_id = 0;
  int attempt = 0;
  int64_t step = 0;
};

// A snapshot of (trial, attempt) after update `step` was stored: the lease
// counts one more and keeps the highest step (TrialAttempt::snapshots).
struct LeaseSnapshot {
  TrialId trial_id = 0;
  int attempt = 0;
  int64_t step = 0;
};

// Marks the lease of (trial, attempt) ended at the mutation's time.
struct LeaseEnd {
  TrialId trial_id = 0;
  int attempt = 0;
  std::string outcome;  // e.g. "succeeded", "expired", "released", "failed", "cancelled"
};

// Checkpoints reported under the lease of (trial, attempt). The span must stay
// valid for the duration of Apply().
struct CheckpointBatch {
  TrialId trial_id = 0;
  int attempt = 0;
  absl::Span<const Checkpoint> checkpoints;
};

// What a mutation changes about a worker.
struct WorkerUpdate {
  enum class Current { kKeep, kSet, kClear };
  WorkerInfo info;             // worker_id always; the rest only with register_info
  bool register_info = false;  // insert the worker or replace host, pid, version, cores
  bool heard = true;           // the worker spoke: last_seen = the mutation's time
  Current current = Current::kKeep;
  // kSet: the worker's current trial becomes this one. kClear: the current
  // trial is cleared if it is this one (the worker may have moved on).
  TrialId current_trial = 0;
};

struct SweepUpdate {
  SweepId id = 0;
  SweepState state = SweepState::kActive;
  std::optional<absl::Time> finished_at;  // nullopt clears it
};

// One coordinator decision. Applied in the order of the fields below.
struct StoreMutation {
  absl::Time now;  // updated_at of trials, ended_at of leases, last_seen of workers
  std::vector<SweepUpdate> sweeps;
  std::vector<TrialUpdate> trials;
  std::vector<LeaseEnd> lease_ends;
  std::vector<LeaseGrant> lease_grants;
  std::vector<LeaseRenewal> lease_renewals;
  std::vector<LeaseResume> lease_resumes;
  std::vector<LeaseSnapshot> lease_snapshots;
  std::vector<CheckpointBatch> checkpoints;
  std::vector<WorkerUpdate> workers;
};

// A trial that is PENDING or LEASED, with its current lease when LEASED.
struct UnfinishedTrial {
  TrialId id = 0;
  SweepId sweep_id = 0;
  int index = 0;
  TrialState state = TrialState::kPending;
  int attempt = 0;
  int attempt_limit = 0;
  std::string worker_id;
  std::optional<Lease> lease;  // the lease row of (id, attempt), when LEASED
  // What the trial trains. Kept with the unfinished trial so that a lease can
  // be handed out without reading the trial back from the store.
  TrialSpec spec;
};

// What a coordinator needs to resume: every PENDING or LEASED trial, ordered
// by id, and every sweep that has one or has no finished_at, ordered by id.
struct UnfinishedWork {
  std::vector<SweepRecord> sweeps;
  std::vector<UnfinishedTrial> trials;
};

// The trials of a sweep that differ only in seed (seed, data_seed,
// seed_index) form one configuration.
// `spec` with seed, data_seed and seed_index zeroed: its configuration.
TrialSpec ConfigOf(const TrialSpec& spec);

// One configuration of a sweep, with what its trials add up to.
struct ConfigAggregate {
  TrialSpec config;         // ConfigOf any of its trials
  TrialId first_trial = 0;  // its trial with the lowest id (the first in expansion order)
  TrialCounts counts;       // its trials by state
  // Final test error of its SUCCEEDED trials that have one: count, sum, sum of squares.
  int64_t n = 0;
  double sum_test_error = 0;
  double sum_squares_test_error = 0;
  // Final validation error of those of them that have one: count and sum.
  int64_t n_validation = 0;
  double sum_validation_error = 0;
};

// One step of a configuration's learning curves: over the checkpoints at this
// step of its trials' latest attempts, the count, sum and sum of squares of
// test and validation error (values that are NaN are left out).
struct StepAggregate {
  int64_t step = 0;
  int64_t n_test = 0;
  double sum_test_error = 0;
  double sum_squares_test_error = 0;
  int64_t n_validation = 0;
  double sum_validation_error = 0;
  double sum_squares_validation_error = 0;
};

// Adds `n` (possibly negative) trials in `state` to `counts`.
void AddToCounts(TrialState state, int64_t n, TrialCounts& counts);

// INVALID_ARGUMENT when a trial holds a value no store keeps (a seed of 2^63
// or more: SQLite integers are signed 64-bit).
absl::Status CheckStorable(absl::Span<const TrialSpec> trials);

// INVALID_ARGUMENT when `checkpoint` holds two LayerStats of the same layer
// and quantity.
absl::Status CheckLayerStatsDistinct(const Checkpoint& checkpoint);
// The INVALID_ARGUMENT status for a (layer, quantity) a checkpoint repeats.
absl::Status RepeatedLayerStatError(const Checkpoint& checkpoint, int layer,
                                    LayerQuantity quantity);

// The ABORTED status for a TrialUpdate whose expectation does not hold.
absl::Status TrialChangedError(const TrialUpdate& update);

// The fate of a submitted mutation. Wait() blocks until it is committed or
// has failed and returns the outcome (again on later calls). The destructor
// waits too, so the data a mutation points to outlives its use.
// Thread-safety: one owner; the store completes it from its own thread.
class PendingWrite {
 public:
  class Completion;
  // An already completed write.
  explicit PendingWrite(absl::Status status = absl::OkStatus());
  // A write that `completion` completes later.
  explicit PendingWrite(std::shared_ptr<Completion> completion);
  PendingWrite(PendingWrite&&) = default;
  PendingWrite& operator=(PendingWrite&& other);
  ~PendingWrite();

  absl::Status Wait();

  // Creates the shared completion a store finishes with Complete().
  static std::shared_ptr<Completion> NewCompletion();
  static void Complete(Completion& completion, absl::Status status);

 private:
  std::shared_ptr<Completion> completion_;
  std::optional<absl::Status> status_;
};

class SweepStore {
 public:
  virtual ~SweepStore() = default;

  // Stores the sweep (state ACTIVE) and its trials (PENDING, attempt 0,
  // attempt_limit = max_attempts) in one transaction.
  virtual absl::StatusOr<CreatedSweep> CreateSweep(const NewSweep& sweep,
                                                   absl::Span<const TrialSpec> trials) = 0;
  // Queues one decision (see the file comment). The spans in its checkpoint
  // batches must stay valid until the PendingWrite is done.
  virtual PendingWrite Submit(StoreMutation mutation) = 0;
  // Submit() and Wait().
  absl::Status Apply(StoreMutation mutation) { return Submit(std::move(mutation)).Wait(); }
  // Returns once every mutation submitted before the call is done.
  virtual void Flush() = 0;

  virtual absl::StatusOr<UnfinishedWork> LoadUnfinished() = 0;
  virtual absl::StatusOr<SweepRecord> GetSweep(SweepId id) = 0;
  // Ordered by id.
  virtual absl::StatusOr<std::vector<SweepRecord>> ListSweeps() = 0;
  virtual absl::StatusOr<TrialRecord> GetTrial(TrialId id) = 0;
  virtual absl::StatusOr<std::vector<TrialRecord>> ListTrials(const TrialQuery& query) = 0;
  // Checkpoints of (trial, attempt) ordered by step; layer_stats filled, ordered
  // by (layer, quantity), only when `with_layer_stats`. NOT_FOUND for an
  // unknown trial; empty for an attempt without checkpoints.
  virtual absl::StatusOr<std::vector<Checkpoint>> GetCheckpoints(TrialId trial, int attempt,
                                                                 bool with_layer_stats) = 0;
  // Ordered by worker_id.
  virtual absl::StatusOr<std::vector<WorkerRecord>> ListWorkers() = 0;
  // The trial's attempts (one per lease row) ordered by attempt, as the
  // trial_attempts view defines them (TrialAttempt). NOT_FOUND for an unknown
  // trial; empty before its first lease.
  virtual absl::StatusOr<std::vector<TrialAttempt>> ListAttempts(TrialId trial) = 0;

  // --- Aggregates for dashboards (computed by the store, in SQL for SQLite) ---
  // The sweep's configurations ordered by first_trial. NOT_FOUND for an
  // unknown sweep.
  virtual absl::StatusOr<std::vector<ConfigAggregate>> AggregateConfigs(SweepId sweep) = 0;
  // The learning curves of the trials of `sweep` whose ConfigOf equals
  // ConfigOf(config), ordered by step; empty when none matches. NOT_FOUND for
  // an unknown sweep.
  virtual absl::StatusOr<std::vector<StepAggregate>> AggregateCheckpoints(
      SweepId sweep, const TrialSpec& config) = 0;
  // When the sweep's trials that ran to an end (SUCCEEDED, DIVERGED, FAILED, PRUNED)
  // last changed, latest first, at most `limit` of them (the finish times a
  // throughput estimate needs). NOT_FOUND for an unknown sweep.
  virtual absl::StatusOr<std::vector<absl::Time>> RecentFinishTimes(SweepId sweep, int limit) = 0;
};

}  // namespace deepsweep

#endif  // DEEPSWEEP_CORE_SWEEP_STORE_H_
