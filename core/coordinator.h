// Coordinator: the use cases of the sweep service, free of gRPC and SQLite.
//
// It turns sweep specs into trials, hands trials to workers under leases, and
// records what workers report. Every decision is one atomic SweepStore
// mutation and a call returns only once it is committed, so a coordinator
// killed at any moment and restarted on the same store continues every sweep
// with nothing acknowledged lost. Decisions are made under one mutex against
// an in-memory index of live trials (pending per sweep, leases by deadline,
// and each one's spec, so a lease is handed out without a read: a few hundred
// bytes per unfinished trial), rebuilt from the store on first use; calls
// wait for their commit outside the mutex, so concurrent workers share commits
// (see core/sweep_store.h).
//
// Leases (see ARCHITECTURE.md, "Trial lifecycle"):
//   A sweep's schedule (its early-stopping rule) is rebuilt from the stored
//   checkpoints when the index is, so a restart neither repeats nor loses a
//   decision.
//   AcquireTrial gives a PENDING trial a fresh lease id, attempt + 1 and a
//   deadline now + lease_ttl. RenewLease and ReportCheckpoints extend the
//   deadline. A lease past its deadline is expired: its trial goes back to
//   PENDING, or to FAILED once it has used max_attempts. When the coordinator
//   starts, and after a write the store failed, every lease's deadline is
//   first extended to at least now + lease_ttl (a grace period: its worker
//   could not renew meanwhile). Every call that
//   carries a lease id that is not the trial's current lease returns ABORTED
//   and changes nothing, so late, zombie or duplicated workers cannot
//   overwrite results. Checkpoints are keyed (trial, attempt, step); a repeated
//   report is a no-op.
//
// Status codes: INVALID_ARGUMENT (bad spec or request; the message names the
// field), NOT_FOUND (unknown sweep or trial), ABORTED (lease not current),
// FAILED_PRECONDITION (e.g. cancel a finished sweep), RESOURCE_EXHAUSTED (a
// limit, e.g. too many trials in a sweep or unfinished in all), UNAVAILABLE / INTERNAL (store
// failure; a full disk is UNAVAILABLE, since it passes once space is freed). After a store failure
// nothing of the failed call is kept; retrying it is safe, and store_health() says writes are
// failing until one succeeds.
//
// Lease ids look like "<trial>-<attempt>-<16 hex digits>": unique across
// restarts through trial and attempt, unguessable through the random part.
//
// Time: every decision uses clock->Now(); tests drive a FakeClock.
// Thread-safety: all methods are safe to call concurrently.
#ifndef DEEPSWEEP_CORE_COORDINATOR_H_
#define DEEPSWEEP_CORE_COORDINATOR_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "absl/types/span.h"
#include "common/clock.h"
#include "core/sweep_spec.h"
#include "core/trial.h"

namespace deepsweep {

class SweepStore;

enum class SweepState { kActive, kCancelled, kFinished };
std::string_view SweepStateName(SweepState state);  // active, cancelled, finished

// Number of trials of a sweep in each state.
struct TrialCounts {
  int64_t pending = 0, leased = 0, succeeded = 0, diverged = 0, failed = 0, cancelled = 0,
          pruned = 0;
  int64_t total() const { return pending + leased + done(); }
  int64_t done() const { return succeeded + diverged + failed + cancelled + pruned; }
};

struct SweepRecord {
  SweepId id = 0;
  std::string name;
  std::string spec_yaml;  // as submitted
  SweepState state = SweepState::kActive;
  int max_attempts = 3;
  absl::Time created_at;
  std::optional<absl::Time> finished_at;
  TrialCounts counts;
};

struct TrialRecord {
  TrialId id = 0;
  SweepId sweep_id = 0;
  int index = 0;  // position in the sweep's deterministic expansion
  TrialSpec spec;
  TrialState state = TrialState::kPending;
  int attempt = 0;  // attempts started so far (0 before the first lease)
  // The trial becomes FAILED rather than start attempt attempt_limit + 1.
  // max_attempts at creation; RetryTrials sets it to attempt + max_attempts, and
  // ReleaseTrial adds 1 (a graceful give-back costs no attempt).
  int attempt_limit = 0;
  std::string worker_id;  // current or last worker
  // WorkerInfo::compute_path of the worker that started the current or last
  // attempt (empty before the first lease).
  std::string compute_path;
  std::string reason;  // why it failed / diverged / was cancelled / was pruned
  // Where the sweep's schedule stopped it (PRUNED, or DIVERGED by the stuck
  // rule): the ASHA rung's updates, or the step of the decision.
  std::optional<int64_t> rung;
  // From the last checkpoint of the final attempt.
  std::optional<double> final_test_error;
  std::optional<double> final_test_nll;
  std::optional<double> final_validation_error;
  int64_t steps_done = 0;
  absl::Time updated_at;
};

// What a worker says about itself; kept by the coordinator for `deepsweep workers`.
struct WorkerInfo {
  std::string worker_id;  // unique per worker process, chosen by the worker
  std::string host;
  int64_t pid = 0;
  std::string version;
  int cores = 0;
  // What its float results depend on besides the inputs (ml::ComputePath(),
  // e.g. "avx512 openblas=Haswell"); recorded with each trial it leases.
  std::string compute_path;
};

struct WorkerRecord {
  WorkerInfo info;
  absl::Time first_seen;
  absl::Time last_seen;
  std::optional<TrialId> current_trial;
};

// One attempt of a trial (its lease, kept as history) and what interrupting it
// cost: the trial_attempts view (docs/SCHEMA.md).
struct TrialAttempt {
  TrialId trial_id = 0;
  int attempt = 0;
  std::string worker_id;
  std::string outcome;  // empty while the lease is current
  absl::Time acquired_at;
  std::optional<absl::Time> ended_at;
  // The update it started from: the step of the snapshot it resumed from, 0
  // when it started from scratch.
  int64_t started_at_step = 0;
  // Its last stored checkpoint (none yet: nullopt).
  std::optional<int64_t> reached_step;
  // The stored updates it trained again: the previous attempt's reached_step
  // minus started_at_step. Nullopt for the first attempt, or when the previous
  // one stored no checkpoint. Negative when it resumed from a snapshot taken
  // past the previous attempt's last checkpoint (SIGTERM): nothing redone.
  std::optional<int64_t> updates_redone;
  // Training-state snapshots acknowledged under this attempt (counted when
  // the coordinator stored one, before it answered the upload; retention
  // deletes older files, so this is not what is on disk), and the step of
  // the newest of them.
  int64_t snapshots = 0;
  std::optional<int64_t> snapshot_step;
};

// A trial's attempts added up (the trial_snapshots view, docs/SCHEMA.md).
struct AttemptTotals {
  int attempts = 0;
  int64_t snapshots = 0;                 // over all attempts
  std::optional<int64_t> snapshot_step;  // the newest acknowledged snapshot's step
  int interruptions = 0;                 // attempts after the first
  int64_t updates_redone = 0;            // sum of updates_redone, negative ones as 0
};
AttemptTotals SumAttempts(absl::Span<const TrialAttempt> attempts);

struct Lease {
  TrialId trial_id = 0;
  std::string lease_id;
  int attempt = 0;
  // When the lease expires, by the coordinator's clock.
  absl::Time deadline;
  // How long the lease had to live when it was granted. A worker times its
  // heartbeats by this, never by `deadline` against its own clock (the two
  // clocks may disagree by any amount). Zero when not known (leases read back
  // from the store).
  absl::Duration ttl = absl::ZeroDuration();
};

// AcquireTrial's answer: a trial with its lease, or nothing now.
struct Acquisition {
  std::optional<TrialRecord> trial;
  std::optional<Lease> lease;
  absl::Duration retry_after = absl::ZeroDuration();  // when trial is empty
};

struct RenewResult {
  absl::Time deadline;     // the lease's new deadline, by the coordinator's clock
  absl::Duration ttl;      // how long from the renewal the lease lives (see Lease::ttl)
  bool cancelled = false;  // the sweep was cancelled: stop and drop the trial
  // The sweep's schedule ended the trial (PRUNED, or DIVERGED by the stuck
  // rule) with this report: stop training; the lease is over.
  std::optional<TrialState> stopped;
  std::string stop_reason;
};

// How a trial ended, as the worker saw it.
struct TrialOutcome {
  TrialState state = TrialState::kSucceeded;  // kSucceeded or kDiverged
  std::string reason;                         // e.g. "loss became NaN at step 1200"
};

// A filter condition on a trial column, e.g. {"depth", kGe, "3"}. Fields:
// id, sweep_id, state, dataset, activation, init, depth, width, learning_rate,
// batch_size, loss, momentum, seed, seed_index, attempt, final_test_error,
// steps_done, worker_id. Unknown fields or unparsable values: INVALID_ARGUMENT.
struct TrialCondition {
  enum class Op { kEq, kNe, kLt, kLe, kGt, kGe };
  std::string field;
  Op op = Op::kEq;
  std::string value;
};

struct TrialQuery {
  std::optional<SweepId> sweep_id;
  std::vector<TrialCondition> conditions;  // all must hold
  std::string order_by = "id";             // any condition field
  bool descending = false;
  int64_t limit = 0;  // 0 = no limit
  int64_t offset = 0;
};

// What CreateSweep would store, without storing it (`deepsweep submit --dry-run`).
struct SweepPlan {
  SweepRecord sweep;              // id 0, state active, every trial pending
  std::vector<TrialSpec> trials;  // in trial index order
  ScheduleSpec schedule;          // the spec's early-stopping rule
  uint64_t seed = 0;              // the spec's seed (with the schedule, orders the leases)
};

// How the coordinator's writes to its store are going, for health checks and
// metrics.
struct StoreHealth {
  // False from a write that failed by the store's fault (a full disk, an I/O
  // error, a read-only or corrupt file) until a write succeeds again.
  bool writable = true;
  // Writes failed by the store's fault since the coordinator was made.
  int64_t failed_writes = 0;
  // The last such failure; OK before the first.
  absl::Status last_error;
};

// How SubmitSweep treats a spec whose name a stored sweep already has.
struct SubmitSweepOptions {
  // Always store a new sweep, even when one of this name exists.
  bool new_sweep = false;
};

// SubmitSweep's answer.
struct SubmittedSweep {
  SweepRecord sweep;
  // True when `sweep` is an existing sweep of the same spec (nothing stored).
  bool existing = false;
};

// What the coordinator decided since it started, for monitoring (/metrics).
// Counted when decided: a decision whose commit then fails stays counted.
struct CoordinatorCounters {
  int64_t leases_granted = 0;
  int64_t leases_expired = 0;
  int64_t leases_released = 0;
  int64_t leases_ended = 0;  // every way a lease ends, the two above included
};

struct CoordinatorOptions {
  // How long a lease lives without a heartbeat or report. Also the grace a
  // lease gets when the coordinator starts on a store, and after a write
  // failed by the store's fault: its deadline becomes at least now +
  // lease_ttl, so an outage of the coordinator or its disk never expires a
  // lease whose worker could not renew meanwhile.
  absl::Duration lease_ttl = absl::Seconds(30);
  // What AcquireTrial tells a worker to wait when nothing is pending.
  absl::Duration idle_retry_after = absl::Seconds(1);
  // Default when the spec has no limits.max_attempts.
  int default_max_attempts = 3;
  // Spec limits; a spec beyond them is rejected with RESOURCE_EXHAUSTED.
  int64_t max_trials_per_sweep = SweepLimits{}.max_trials;
  int max_depth = SweepLimits{}.max_depth;
  int max_width = SweepLimits{}.max_width;
  // A spec longer than this is rejected with RESOURCE_EXHAUSTED.
  int64_t max_spec_bytes = 1 << 20;
  // PENDING and LEASED trials of all sweeps together. Each costs the server
  // about 1.1 KB (a 496-byte slot of the in-memory index, spec included, in
  // a table up to half empty after it grows; docs/RELIABILITY.md has the
  // measurement), so the default (five sweeps of the 100,000-trial maximum)
  // bounds that near 0.55 GB. A CreateSweep or RetryTrials that would go
  // beyond it fails with RESOURCE_EXHAUSTED naming the limit, and changes
  // nothing.
  int64_t max_unfinished_trials = 500'000;
  // Reports beyond these are rejected with RESOURCE_EXHAUSTED.
  int64_t max_checkpoints_per_report = 1000;
  int64_t max_layer_stats_per_checkpoint = 1024;
  int64_t max_histogram_bins = 4096;
  // Called whenever StoreHealth::writable flips, with the new health, from the
  // thread whose write noticed it; calls are serialized and made in order. It
  // must be quick and must not call the coordinator. Empty = nobody listens.
  std::function<void(const StoreHealth&)> on_store_health_change;
};

class Coordinator {
 public:
  // `store` and `clock` must outlive the coordinator. Loads nothing eagerly
  // beyond what the store needs to resume.
  Coordinator(SweepStore* store, const Clock* clock, CoordinatorOptions options = {});
  ~Coordinator();
  Coordinator(const Coordinator&) = delete;
  Coordinator& operator=(const Coordinator&) = delete;

  // --- Users ---------------------------------------------------------------
  // What users submit. Sweep names identify sweeps, so a name is taken once:
  // - no sweep has the spec's name: stores the sweep, as CreateSweep;
  // - a sweep of that name has the same spec (equal expansion: every trial's
  //   spec, dataset paths included, the schedule and max_attempts; comments, description
  //   and layout do not count): returns it with `existing` set and stores
  //   nothing, whatever its state (finished, cancelled or running);
  // - sweeps of that name exist, none with the same spec: ALREADY_EXISTS
  //   naming their ids, nothing stored.
  // With options.new_sweep, stores a new sweep in every case. The check and
  // the insert are one atomic step, so two identical concurrent submissions
  // make one sweep.
  absl::StatusOr<SubmittedSweep> SubmitSweep(std::string_view spec_yaml,
                                             const SubmitSweepOptions& options = {});
  // Parses, validates and expands `spec_yaml`, then stores the sweep and all
  // its trials in one transaction, whatever sweeps exist (SubmitSweep with
  // new_sweep).
  absl::StatusOr<SweepRecord> CreateSweep(std::string_view spec_yaml);
  // Parses, validates and expands `spec_yaml` exactly as CreateSweep does, with
  // the same errors, and stores nothing.
  absl::StatusOr<SweepPlan> PlanSweep(std::string_view spec_yaml) const;
  absl::StatusOr<SweepRecord> GetSweep(SweepId id);
  absl::StatusOr<std::vector<SweepRecord>> ListSweeps();
  // PENDING trials become CANCELLED at once; LEASED ones learn it at their next
  // RenewLease (or ReportCheckpoints) and become CANCELLED when they stop
  // (ReleaseTrial, a retryable FailTrial) or their lease expires. A worker that
  // completes anyway keeps its result (SUCCEEDED or DIVERGED); a non-retryable
  // FailTrial still ends FAILED. Cancelling a cancelled sweep is a no-op;
  // cancelling a finished one is FAILED_PRECONDITION.
  absl::Status CancelSweep(SweepId id);
  // Puts trials of `sweep` in any of `states` (FAILED, DIVERGED, CANCELLED;
  // others are INVALID_ARGUMENT) back to PENDING with a fresh attempt budget,
  // results cleared. Attempt numbers keep counting up, so the old attempts'
  // checkpoints stay apart. A finished or cancelled sweep becomes active again
  // when any trial is requeued. Returns how many.
  absl::StatusOr<int64_t> RetryTrials(SweepId sweep, absl::Span<const TrialState> states);
  absl::StatusOr<std::vector<TrialRecord>> ListTrials(const TrialQuery& query);
  absl::StatusOr<TrialRecord> GetTrial(TrialId id);
  // Checkpoints of the trial's latest attempt (or `attempt` if given), ordered
  // by step, with their layer statistics when `with_layer_stats`.
  absl::StatusOr<std::vector<Checkpoint>> GetCheckpoints(TrialId id, std::optional<int> attempt,
                                                         bool with_layer_stats);
  absl::StatusOr<std::vector<WorkerRecord>> ListWorkers();
  // The trial's attempts ordered by attempt (empty before its first lease);
  // NOT_FOUND for an unknown trial.
  absl::StatusOr<std::vector<TrialAttempt>> ListAttempts(TrialId id);

  // --- Workers ---------------------------------------------------------------
  // Registers or refreshes `worker` and leases it the next PENDING trial,
  // fairly across active sweeps (round-robin by sweep), then in the sweep's
  // lease order (core/scheduler.h, LeaseOrderKey): trial index, or a seeded
  // permutation of it for an asha or median schedule. A trial back to PENDING
  // (expired, released, retried) takes its place in that order again.
  absl::StatusOr<Acquisition> AcquireTrial(const WorkerInfo& worker);
  absl::StatusOr<RenewResult> RenewLease(TrialId trial, std::string_view lease_id);
  // Stores checkpoints (idempotent by (trial, attempt, step)) and renews. With
  // a schedule (core/scheduler.h) the report is also judged, under the lock
  // and in report order: a trial the schedule stops ends in the same store
  // mutation (PRUNED, or DIVERGED by the stuck rule; its checkpoints after
  // the one decided on are dropped), and the result says so in `stopped`.
  absl::StatusOr<RenewResult> ReportCheckpoints(TrialId trial, std::string_view lease_id,
                                                absl::Span<const Checkpoint> checkpoints);
  absl::Status CompleteTrial(TrialId trial, std::string_view lease_id, const TrialOutcome& outcome);
  // retryable: back to PENDING if attempts remain, else FAILED. Not retryable:
  // FAILED at once. The reason is kept either way.
  absl::Status FailTrial(TrialId trial, std::string_view lease_id, std::string_view reason,
                         bool retryable);
  // The worker gives the trial back (e.g. on SIGTERM): PENDING at once, and
  // the attempt does not count against max_attempts.
  absl::Status ReleaseTrial(TrialId trial, std::string_view lease_id);
  // The lease's attempt when `lease_id` is the trial's current lease
  // (expiring due leases first); ABORTED when it is not, NOT_FOUND for an
  // unknown trial. For use cases beside these (core/snapshots.h) that act
  // under a lease.
  absl::StatusOr<int> CheckLease(TrialId trial, std::string_view lease_id);
  // Records that the current attempt of `trial` (leased under `lease_id`)
  // starts from the snapshot taken after update `step`: the lease row keeps it
  // (docs/SCHEMA.md, trial_attempts). ABORTED / NOT_FOUND as CheckLease.
  absl::Status RecordResume(TrialId trial, std::string_view lease_id, int64_t step);
  // Records that a snapshot of `trial` at update `step`, taken under
  // `lease_id`, was stored: the lease row counts it (TrialAttempt::snapshots).
  // ABORTED / NOT_FOUND as CheckLease.
  absl::Status RecordSnapshot(TrialId trial, std::string_view lease_id, int64_t step);

  // --- Housekeeping ----------------------------------------------------------
  // Expires every lease whose deadline is before now. Returns how many. Also
  // done lazily by AcquireTrial; the server calls it periodically.
  absl::StatusOr<int64_t> ExpireLeases();
  // A counter bumped by every mutation; lets WatchSweep wait for change.
  // Blocks until the version differs from `seen` or `max_wait` passes (real
  // time; used only by streaming adapters). Returns the current version.
  // Under load the version moves thousands of times a second: a watcher should
  // pace itself (e.g. one GetSweep per 200 ms at most), since GetSweep counts
  // the sweep's trials in the store.
  uint64_t WaitForChange(uint64_t seen, absl::Duration max_wait);
  // That counter now, for readers that cache what they show (web/): once a
  // change is committed the version differs from any read before it.
  uint64_t version() const;
  // The version after the last committed change to sweep `id` or any of its
  // trials (a lease granted, renewed or ended, checkpoints, a cancel, a
  // retry; a new sweep too); 0 when none was made since this coordinator
  // started. Unchanged means what the store holds of the sweep is unchanged.
  // Never waits for the decisions' mutex.
  uint64_t sweep_version(SweepId id) const;
  // Whether writes are failing by the store's fault, and how many have.
  StoreHealth store_health() const;
  // PENDING and LEASED trials in the in-memory index (0 before its first
  // load), the count max_unfinished_trials bounds.
  int64_t unfinished_trials() const;
  // Cheap (atomic loads, no lock), so monitoring never waits for the mutex.
  CoordinatorCounters counters() const;

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace deepsweep

#endif  // DEEPSWEEP_CORE_COORDINATOR_H_
