#include "core/coordinator.h"

#include <algorithm>
#include <atomic>
#include <limits>
#include <map>
#include <set>
#include <utility>

#include "absl/base/thread_annotations.h"
#include "absl/container/btree_set.h"
#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/synchronization/mutex.h"
#include "common/secure_random.h"
#include "common/status_macros.h"
#include "core/scheduler.h"
#include "core/sweep_spec.h"
#include "core/sweep_store.h"

namespace deepsweep {

AttemptTotals SumAttempts(absl::Span<const TrialAttempt> attempts) {
  AttemptTotals totals;
  for (const TrialAttempt& a : attempts) {
    ++totals.attempts;
    totals.snapshots += a.snapshots;
    if (a.snapshot_step.has_value()) {
      totals.snapshot_step =
          std::max(totals.snapshot_step.value_or(*a.snapshot_step), *a.snapshot_step);
    }
    if (a.attempt > attempts.front().attempt) ++totals.interruptions;
    // Negative: it resumed past the previous attempt's last checkpoint.
    totals.updates_redone += std::max<int64_t>(0, a.updates_redone.value_or(0));
  }
  return totals;
}

std::string_view SweepStateName(SweepState state) {
  switch (state) {
    case SweepState::kActive:
      return "active";
    case SweepState::kCancelled:
      return "cancelled";
    case SweepState::kFinished:
      return "finished";
  }
  return "unknown";
}

namespace {

// Bounds on what a worker may send, so one bad request cannot bloat the store.
constexpr size_t kMaxNameBytes = 256;
constexpr size_t kMaxReasonBytes = 4096;

// The store keeps microseconds; deciding on the same precision keeps memory
// and store identical across a restart.
absl::Time ToMicros(absl::Time t) { return absl::FromUnixMicros(absl::ToUnixMicros(t)); }

absl::Status CheckName(const char* what, std::string_view value, bool required) {
  if (required && value.empty())
    return absl::InvalidArgumentError(absl::StrCat(what, " is required"));
  if (value.size() > kMaxNameBytes) {
    return absl::InvalidArgumentError(
        absl::StrCat(what, " is longer than ", kMaxNameBytes, " bytes"));
  }
  return absl::OkStatus();
}

absl::Status ValidateWorker(const WorkerInfo& w) {
  RETURN_IF_ERROR(CheckName("worker_id", w.worker_id, /*required=*/true));
  RETURN_IF_ERROR(CheckName("host", w.host, /*required=*/false));
  RETURN_IF_ERROR(CheckName("version", w.version, /*required=*/false));
  RETURN_IF_ERROR(CheckName("compute_path", w.compute_path, /*required=*/false));
  if (w.pid < 0 || w.cores < 0) {
    return absl::InvalidArgumentError("pid and cores must not be negative");
  }
  return absl::OkStatus();
}

absl::Status ValidateCheckpoints(absl::Span<const Checkpoint> checkpoints,
                                 const CoordinatorOptions& o) {
  if (static_cast<int64_t>(checkpoints.size()) > o.max_checkpoints_per_report) {
    return absl::ResourceExhaustedError(absl::StrCat("a report holds ", checkpoints.size(),
                                                     " checkpoints, above the limit of ",
                                                     o.max_checkpoints_per_report));
  }
  for (const Checkpoint& c : checkpoints) {
    if (c.step < 0 || c.examples_seen < 0) {
      return absl::InvalidArgumentError(absl::StrCat(
          "checkpoint at step ", c.step, ": step and examples_seen must not be negative"));
    }
    if (static_cast<int64_t>(c.layer_stats.size()) > o.max_layer_stats_per_checkpoint) {
      return absl::ResourceExhaustedError(
          absl::StrCat("checkpoint at step ", c.step, " holds ", c.layer_stats.size(),
                       " layer statistics, above the limit of ", o.max_layer_stats_per_checkpoint));
    }
    for (const LayerStat& s : c.layer_stats) {
      if (s.layer < 1) {
        return absl::InvalidArgumentError(absl::StrCat(
            "checkpoint at step ", c.step, ": layer must be at least 1, got ", s.layer));
      }
      if (static_cast<int64_t>(s.histogram.size()) > o.max_histogram_bins) {
        return absl::ResourceExhaustedError(
            absl::StrCat("checkpoint at step ", c.step, ", layer ", s.layer, ": histogram has ",
                         s.histogram.size(), " bins, above the limit of ", o.max_histogram_bins));
      }
    }
    RETURN_IF_ERROR(CheckLayerStatsDistinct(c));
  }
  return absl::OkStatus();
}

// A PENDING or LEASED trial, as far as deciding about it needs; `lease` is
// set while it is LEASED.
using LiveTrial = UnfinishedTrial;

// A sweep with live trials, or an active one.
struct LiveSweep {
  SweepState state = SweepState::kActive;
  int max_attempts = 3;
  // By lease order: (LeaseOrderKey, trial id); AcquireTrial takes the first.
  absl::btree_set<std::pair<uint64_t, TrialId>> pending;
  int64_t leased = 0;
  // The spec's early-stopping rule and its trials' stuck rules.
  std::shared_ptr<Scheduler> scheduler;
  uint64_t seed = 0;  // the spec's seed, which orders the leases of a scheduled sweep

  // Makes trial `id` (at `index` in the expansion) pending, at its place in the lease order:
  // a trial that comes back (expired, released, retried) takes the place it had.
  void AddPending(int index, TrialId id) {
    pending.emplace(LeaseOrderKey(scheduler ? scheduler->spec() : ScheduleSpec{}, seed, index), id);
  }
};

// Spec limits for re-reading a stored spec: it was accepted once, and the
// server's limits may have changed since.
constexpr SweepLimits kStoredSpecLimits{.max_trials = std::numeric_limits<int64_t>::max(),
                                        .max_depth = std::numeric_limits<int>::max(),
                                        .max_width = std::numeric_limits<int>::max(),
                                        .max_histogram_bins = std::numeric_limits<int>::max()};

// How one lease ends: the trial's next state and why.
struct LeaseEnding {
  LiveTrial* trial = nullptr;
  TrialState next = TrialState::kPending;
  std::string reason;
  std::string outcome;  // recorded on the lease row
  int attempt_limit = 0;
  std::optional<int64_t> rung;  // set when a schedule stopped the trial
  bool worker_heard = true;     // false when the lease ran out in silence
};

// The store writes one call submitted (the caller's own write comes last) and
// the sweeps they change, whose versions move once they are committed.
struct Writes {
  std::vector<PendingWrite> pending;
  absl::flat_hash_set<SweepId> sweeps;
};

// A failed write that is the store's fault (full disk, I/O error, corrupt or
// read-only file), not the caller's: workers could not renew meanwhile.
bool IsStoreFault(const absl::Status& status) {
  switch (status.code()) {
    case absl::StatusCode::kUnavailable:
    case absl::StatusCode::kInternal:
    case absl::StatusCode::kUnknown:
    case absl::StatusCode::kResourceExhausted:
    case absl::StatusCode::kDataLoss:
    case absl::StatusCode::kDeadlineExceeded:
      return true;
    default:
      return false;
  }
}

}  // namespace

// Decisions happen under mu_ against the in-memory index, which is updated at
// once; the mutation goes to the store, and the call waits for it outside the
// lock, so concurrent calls share commits. Should a write fail, the index may
// hold a change the store lacks: it is dropped and rebuilt from the store
// (after every queued write is done) by the next call. Each TrialUpdate
// carries the state it expects, so a decision made on such a change in the
// meantime is refused by the store rather than recorded.
class Coordinator::Impl {
 public:
  Impl(SweepStore* store, const Clock* clock, CoordinatorOptions options)
      : store_(store), clock_(clock), options_(std::move(options)) {}

  absl::StatusOr<SweepPlan> PlanSweep(std::string_view spec_yaml) const {
    if (static_cast<int64_t>(spec_yaml.size()) > options_.max_spec_bytes) {
      return absl::ResourceExhaustedError(absl::StrCat("the spec has ", spec_yaml.size(),
                                                       " bytes, above the limit of ",
                                                       options_.max_spec_bytes));
    }
    // A spec asking for more histogram bins than a report may carry would
    // have every report of its trials refused.
    const SweepLimits limits{.max_trials = options_.max_trials_per_sweep,
                             .max_depth = options_.max_depth,
                             .max_width = options_.max_width,
                             .max_histogram_bins = static_cast<int>(std::min<int64_t>(
                                 options_.max_histogram_bins, std::numeric_limits<int>::max()))};
    ASSIGN_OR_RETURN(SweepSpec spec, ParseSweepSpec(spec_yaml, limits));
    SweepPlan plan;
    ASSIGN_OR_RETURN(plan.trials, ExpandSweep(spec, limits));
    plan.schedule = spec.schedule;
    plan.seed = spec.seed;
    plan.sweep =
        SweepRecord{.name = spec.name,
                    .spec_yaml = std::string(spec_yaml),
                    .max_attempts = spec.max_attempts.value_or(options_.default_max_attempts),
                    .created_at = ToMicros(clock_->Now())};
    plan.sweep.counts.pending = static_cast<int64_t>(plan.trials.size());
    return plan;
  }

  absl::StatusOr<SubmittedSweep> SubmitSweep(std::string_view spec_yaml,
                                             const SubmitSweepOptions& options) {
    ASSIGN_OR_RETURN(SweepPlan plan, PlanSweep(spec_yaml));
    const std::vector<TrialSpec>& trials = plan.trials;
    const int max_attempts = plan.sweep.max_attempts;

    SweepRecord record;
    {
      absl::MutexLock lock(&mu_);
      RETURN_IF_ERROR(LoadLocked());
      if (!options.new_sweep) {
        ASSIGN_OR_RETURN(std::optional<SweepRecord> same, SameNamedSweepLocked(plan));
        if (same.has_value()) return SubmittedSweep{.sweep = *std::move(same), .existing = true};
      }
      RETURN_IF_ERROR(CheckUnfinishedLocked(static_cast<int64_t>(trials.size())));
      const absl::Time now = ToMicros(clock_->Now());
      const NewSweep sweep{plan.sweep.name, std::string(spec_yaml), max_attempts, now};
      absl::StatusOr<CreatedSweep> stored = store_->CreateSweep(sweep, trials);
      NoteWrite(stored.status());
      ASSIGN_OR_RETURN(CreatedSweep created, std::move(stored));
      LiveSweep& live = sweeps_[created.id];
      live.max_attempts = max_attempts;
      live.scheduler = std::make_shared<Scheduler>(plan.schedule);
      live.seed = plan.seed;
      for (size_t i = 0; i < created.trial_ids.size(); ++i) {
        const TrialId id = created.trial_ids[i];
        live_[id] = LiveTrial{.id = id,
                              .sweep_id = created.id,
                              .index = static_cast<int>(i),
                              .attempt_limit = max_attempts,
                              .spec = trials[i]};
        live.AddPending(static_cast<int>(i), id);
      }
      record = SweepRecord{.id = created.id,
                           .name = sweep.name,
                           .spec_yaml = sweep.spec_yaml,
                           .max_attempts = max_attempts,
                           .created_at = now};
      record.counts.pending = static_cast<int64_t>(trials.size());
    }
    Bump({record.id});
    return SubmittedSweep{.sweep = std::move(record)};
  }

  // The latest stored sweep named as `plan` whose expansion equals it; none
  // when no sweep has the name; ALREADY_EXISTS when only different specs do.
  absl::StatusOr<std::optional<SweepRecord>> SameNamedSweepLocked(const SweepPlan& plan)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    ASSIGN_OR_RETURN(const std::vector<SweepRecord> sweeps, store_->ListSweeps());
    std::vector<std::string> named;
    for (auto it = sweeps.rbegin(); it != sweeps.rend(); ++it) {
      if (it->name != plan.sweep.name) continue;
      named.push_back(absl::StrCat(it->id));
      // A stored spec the current limits refuse counts as different.
      const absl::StatusOr<SweepPlan> stored = PlanSweep(it->spec_yaml);
      if (stored.ok() && stored->sweep.max_attempts == plan.sweep.max_attempts &&
          stored->schedule == plan.schedule && stored->trials == plan.trials) {
        return *it;
      }
    }
    if (named.empty()) return std::nullopt;
    std::reverse(named.begin(), named.end());
    return absl::AlreadyExistsError(absl::StrCat(
        named.size() == 1 ? "sweep " : "sweeps ", absl::StrJoin(named, ", "), " named '",
        plan.sweep.name, "' ", named.size() == 1 ? "has" : "have",
        " a different spec: give the changed spec a new name, or store it as another sweep of "
        "this name (deepsweep submit --new)"));
  }

  absl::Status CancelSweep(SweepId id) {
    Writes writes;
    {
      absl::MutexLock lock(&mu_);
      RETURN_IF_ERROR(LoadLocked());
      const absl::Time now = ToMicros(clock_->Now());
      auto it = sweeps_.find(id);
      if (it == sweeps_.end()) {
        store_->Flush();
        ASSIGN_OR_RETURN(SweepRecord record, store_->GetSweep(id));
        if (record.state == SweepState::kCancelled) return absl::OkStatus();
        return absl::FailedPreconditionError(absl::StrCat("sweep ", id, " is already finished"));
      }
      LiveSweep& sweep = it->second;
      if (sweep.state == SweepState::kCancelled) return absl::OkStatus();

      StoreMutation m{.now = now};
      for (const auto& [key, trial_id] : sweep.pending) {
        const LiveTrial& t = live_.at(trial_id);
        m.trials.push_back(Update(t, TrialState::kCancelled, t.attempt_limit, "sweep cancelled"));
      }
      std::optional<absl::Time> finished_at;
      if (sweep.leased == 0) finished_at = now;
      m.sweeps.push_back({id, SweepState::kCancelled, finished_at});
      SubmitLocked(std::move(m), writes);

      for (const auto& [key, trial_id] : sweep.pending) live_.erase(trial_id);
      sweep.pending.clear();
      ShrinkLocked();
      sweep.state = SweepState::kCancelled;
      if (sweep.leased == 0) sweeps_.erase(it);
    }
    return Await(writes);
  }

  absl::StatusOr<int64_t> RetryTrials(SweepId id, absl::Span<const TrialState> states) {
    if (states.empty()) return absl::InvalidArgumentError("no trial states to retry");
    for (TrialState s : states) {
      if (s != TrialState::kFailed && s != TrialState::kDiverged && s != TrialState::kCancelled) {
        return absl::InvalidArgumentError(
            absl::StrCat("cannot retry ", std::string(TrialStateName(s)),
                         " trials (only failed, diverged, cancelled)"));
      }
    }
    Writes writes;
    int64_t retried = 0;
    {
      absl::MutexLock lock(&mu_);
      RETURN_IF_ERROR(LoadLocked());
      const absl::Time now = ToMicros(clock_->Now());
      store_->Flush();  // the store must hold every decision so far
      ASSIGN_OR_RETURN(SweepRecord sweep, store_->GetSweep(id));
      std::vector<TrialRecord> trials;
      for (TrialState s : std::set<TrialState>(states.begin(), states.end())) {
        TrialQuery query{.sweep_id = id};
        query.conditions.push_back(
            {"state", TrialCondition::Op::kEq, std::string(TrialStateName(s))});
        ASSIGN_OR_RETURN(std::vector<TrialRecord> found, store_->ListTrials(query));
        for (TrialRecord& t : found) trials.push_back(std::move(t));
      }
      if (trials.empty()) return 0;
      RETURN_IF_ERROR(CheckUnfinishedLocked(static_cast<int64_t>(trials.size())));

      StoreMutation m{.now = now};
      const bool was_live = sweeps_.contains(id);
      LiveSweep& live = sweeps_[id];
      live.state = SweepState::kActive;
      live.max_attempts = sweep.max_attempts;
      if (!was_live) RETURN_IF_ERROR(AttachSchedulerLocked(sweep, live));
      for (const TrialRecord& record : trials) {
        LiveTrial t{.id = record.id,
                    .sweep_id = id,
                    .index = record.index,
                    .state = record.state,
                    .attempt = record.attempt,
                    .attempt_limit = record.attempt_limit,
                    .worker_id = record.worker_id,
                    .spec = record.spec};
        TrialUpdate u = Update(t, TrialState::kPending, t.attempt + sweep.max_attempts, "");
        u.reset_results = true;
        m.trials.push_back(std::move(u));
        t.state = TrialState::kPending;
        t.attempt_limit = t.attempt + sweep.max_attempts;
        live.AddPending(t.index, t.id);
        live_[t.id] = std::move(t);
      }
      m.sweeps.push_back({id, SweepState::kActive, std::nullopt});
      SubmitLocked(std::move(m), writes);
      retried = static_cast<int64_t>(trials.size());
    }
    RETURN_IF_ERROR(Await(writes));
    return retried;
  }

  absl::StatusOr<std::vector<Checkpoint>> GetCheckpoints(TrialId id, std::optional<int> attempt,
                                                         bool with_layer_stats) {
    if (attempt.has_value() && *attempt < 0) {
      return absl::InvalidArgumentError("attempt must not be negative");
    }
    if (!attempt.has_value()) {
      ASSIGN_OR_RETURN(TrialRecord trial, store_->GetTrial(id));
      attempt = trial.attempt;
    }
    return store_->GetCheckpoints(id, *attempt, with_layer_stats);
  }

  absl::StatusOr<Acquisition> AcquireTrial(const WorkerInfo& worker) {
    RETURN_IF_ERROR(ValidateWorker(worker));
    Writes writes;
    std::optional<Lease> lease;
    TrialRecord record;
    {
      absl::MutexLock lock(&mu_);
      RETURN_IF_ERROR(LoadLocked());
      const absl::Time now = ToMicros(clock_->Now());
      ExpireDueLocked(now, writes);
      StoreMutation m{.now = now};
      WorkerUpdate seen{.info = worker, .register_info = true};
      LiveSweep* sweep = NextSweepLocked();
      if (sweep != nullptr) {
        LiveTrial& t = live_.at(sweep->pending.begin()->second);
        lease = Lease{.trial_id = t.id,
                      .lease_id = NewLeaseId(t.id, t.attempt + 1),
                      .attempt = t.attempt + 1,
                      .deadline = ToMicros(now + options_.lease_ttl),
                      .ttl = options_.lease_ttl};
        TrialUpdate u = Update(t, TrialState::kLeased, t.attempt_limit, "");
        u.attempt = lease->attempt;
        u.worker_id = worker.worker_id;
        u.compute_path = worker.compute_path;
        // A first attempt has no results to clear (trials are created
        // without), and not clearing them spares the store an index update.
        u.reset_results = lease->attempt > 1;
        m.trials.push_back(std::move(u));
        m.lease_grants.push_back(
            {t.id, lease->lease_id, lease->attempt, lease->deadline, worker.worker_id});
        leases_granted_.fetch_add(1, std::memory_order_relaxed);
        seen.current = WorkerUpdate::Current::kSet;
        seen.current_trial = t.id;

        sweep->pending.erase(sweep->pending.begin());
        ++sweep->leased;
        last_served_ = t.sweep_id;
        t.state = TrialState::kLeased;
        t.attempt = lease->attempt;
        t.worker_id = worker.worker_id;
        t.lease = lease;
        deadlines_.emplace(lease->deadline, t.id);
        // The trial as the store holds it once the mutation is committed:
        // results cleared, no reason, updated now. Answered from memory, as
        // reading it back would cost a read transaction per lease.
        record = TrialRecord{.id = t.id,
                             .sweep_id = t.sweep_id,
                             .index = t.index,
                             .spec = t.spec,
                             .state = TrialState::kLeased,
                             .attempt = t.attempt,
                             .attempt_limit = t.attempt_limit,
                             .worker_id = t.worker_id,
                             .compute_path = worker.compute_path,
                             .updated_at = now};
      }
      m.workers.push_back(std::move(seen));
      SubmitLocked(std::move(m), writes);
    }
    RETURN_IF_ERROR(Await(writes));
    if (!lease.has_value()) return Acquisition{.retry_after = options_.idle_retry_after};
    return Acquisition{.trial = std::move(record), .lease = std::move(lease)};
  }

  absl::StatusOr<RenewResult> Renew(TrialId id, std::string_view lease_id,
                                    absl::Span<const Checkpoint> checkpoints) {
    // Declared before the writes that point into it.
    std::vector<Checkpoint> sorted;
    Writes writes;
    RenewResult result;
    {
      absl::MutexLock lock(&mu_);
      ASSIGN_OR_RETURN(LiveTrial * t, CurrentLeaseLocked(id, lease_id, writes));
      const absl::Time now = ToMicros(clock_->Now());
      const absl::Time deadline = ToMicros(now + options_.lease_ttl);
      LiveSweep& sweep = sweeps_.at(t->sweep_id);
      std::optional<StopDecision> stop;
      if (sweep.scheduler != nullptr && !checkpoints.empty() && sweep.scheduler->Judges(t->spec)) {
        // Judged in step order; the store gets what was judged.
        const auto by_step = [](const Checkpoint& a, const Checkpoint& b) {
          return a.step < b.step;
        };
        if (!std::is_sorted(checkpoints.begin(), checkpoints.end(), by_step)) {
          sorted.assign(checkpoints.begin(), checkpoints.end());
          std::stable_sort(sorted.begin(), sorted.end(), by_step);
          checkpoints = sorted;
        }
        stop = sweep.scheduler->Report(t->id, t->spec, checkpoints);
      }
      if (stop.has_value()) {
        StoreMutation m;
        m.checkpoints.push_back(
            {t->id, t->attempt, checkpoints.subspan(0, stop->checkpoints_used)});
        std::vector<LeaseEnding> endings;
        endings.push_back({.trial = t,
                           .next = stop->state,
                           .reason = Truncate(stop->reason),
                           .outcome = std::string(TrialStateName(stop->state)),
                           .attempt_limit = t->attempt_limit,
                           .rung = stop->rung});
        result = {.deadline = now, .stopped = stop->state, .stop_reason = stop->reason};
        EndLeasesLocked(std::move(endings), now, writes, std::move(m));
      } else {
        StoreMutation m{.now = now};
        m.lease_renewals.push_back({t->id, t->attempt, deadline});
        if (!checkpoints.empty()) m.checkpoints.push_back({t->id, t->attempt, checkpoints});
        m.workers.push_back({.info = {.worker_id = t->worker_id}});
        SubmitLocked(std::move(m), writes);
        deadlines_.erase({t->lease->deadline, t->id});
        t->lease->deadline = deadline;
        deadlines_.emplace(deadline, t->id);
        result = {.deadline = deadline,
                  .ttl = options_.lease_ttl,
                  .cancelled = sweep.state == SweepState::kCancelled};
      }
    }
    RETURN_IF_ERROR(Await(writes));
    return result;
  }

  absl::StatusOr<RenewResult> ReportCheckpoints(TrialId id, std::string_view lease_id,
                                                absl::Span<const Checkpoint> checkpoints) {
    RETURN_IF_ERROR(ValidateCheckpoints(checkpoints, options_));
    return Renew(id, lease_id, checkpoints);
  }

  absl::Status CompleteTrial(TrialId id, std::string_view lease_id, const TrialOutcome& outcome) {
    if (outcome.state != TrialState::kSucceeded && outcome.state != TrialState::kDiverged) {
      return absl::InvalidArgumentError(
          absl::StrCat("a trial completes as succeeded or diverged, not ",
                       std::string(TrialStateName(outcome.state))));
    }
    return EndLease(id, lease_id, [&](const LiveTrial& t, const LiveSweep&) {
      const std::string state(TrialStateName(outcome.state));
      return LeaseEnding{.next = outcome.state,
                         .reason = Truncate(outcome.reason),
                         .outcome = state,
                         .attempt_limit = t.attempt_limit};
    });
  }

  absl::Status FailTrial(TrialId id, std::string_view lease_id, std::string_view reason,
                         bool retryable) {
    return EndLease(id, lease_id, [&](const LiveTrial& t, const LiveSweep& sweep) {
      LeaseEnding e{.next = TrialState::kFailed,
                    .reason = Truncate(reason),
                    .outcome = absl::StrCat(retryable ? "failed (retryable): " : "failed: ",
                                            Truncate(reason)),
                    .attempt_limit = t.attempt_limit};
      if (retryable && sweep.state == SweepState::kCancelled) {
        e.next = TrialState::kCancelled;
        e.reason = "sweep cancelled";
      } else if (retryable && t.attempt < t.attempt_limit) {
        e.next = TrialState::kPending;
      } else if (retryable) {
        e.reason = absl::StrCat("gave up after ", t.attempt, " attempts; last: ", e.reason);
      }
      return e;
    });
  }

  absl::Status ReleaseTrial(TrialId id, std::string_view lease_id) {
    return EndLease(id, lease_id, [&](const LiveTrial& t, const LiveSweep& sweep) {
      if (sweep.state == SweepState::kCancelled) {
        return LeaseEnding{.next = TrialState::kCancelled,
                           .reason = "sweep cancelled",
                           .outcome = "released",
                           .attempt_limit = t.attempt_limit};
      }
      return LeaseEnding{.next = TrialState::kPending,
                         .outcome = "released",
                         .attempt_limit = t.attempt_limit + 1};
    });
  }

  absl::StatusOr<int64_t> ExpireLeases() {
    Writes writes;
    int64_t expired = 0;
    {
      absl::MutexLock lock(&mu_);
      RETURN_IF_ERROR(LoadLocked());
      expired = ExpireDueLocked(ToMicros(clock_->Now()), writes);
    }
    RETURN_IF_ERROR(Await(writes));
    return expired;
  }

  uint64_t WaitForChange(uint64_t seen, absl::Duration max_wait) {
    absl::MutexLock lock(&version_mu_);
    const absl::Time deadline = absl::Now() + max_wait;
    while (version_ == seen) {
      if (changed_.WaitWithDeadline(&version_mu_, deadline)) break;
    }
    return version_;
  }

  uint64_t version() {
    absl::MutexLock lock(&version_mu_);
    return version_;
  }

  uint64_t sweep_version(SweepId id) {
    absl::MutexLock lock(&version_mu_);
    auto it = sweep_versions_.find(id);
    return it == sweep_versions_.end() ? 0 : it->second;
  }

  SweepStore* store() const { return store_; }

  StoreHealth store_health() const {
    absl::MutexLock lock(&health_mu_);
    return health_;
  }

  int64_t unfinished_trials() {
    absl::MutexLock lock(&mu_);
    return static_cast<int64_t>(live_.size());
  }

  CoordinatorCounters counters() const {
    return {.leases_granted = leases_granted_.load(std::memory_order_relaxed),
            .leases_expired = leases_expired_.load(std::memory_order_relaxed),
            .leases_released = leases_released_.load(std::memory_order_relaxed),
            .leases_ended = leases_ended_.load(std::memory_order_relaxed)};
  }

  absl::StatusOr<int> CheckLease(TrialId id, std::string_view lease_id) {
    Writes writes;
    absl::StatusOr<int> attempt;
    {
      absl::MutexLock lock(&mu_);
      absl::StatusOr<LiveTrial*> t = CurrentLeaseLocked(id, lease_id, writes);
      attempt = t.ok() ? absl::StatusOr<int>((*t)->attempt) : t.status();
    }
    RETURN_IF_ERROR(Await(writes));
    return attempt;
  }

  absl::Status RecordResume(TrialId id, std::string_view lease_id, int64_t step) {
    return RecordOnLease(id, lease_id, [step](StoreMutation& m, TrialId trial, int attempt) {
      m.lease_resumes.push_back({.trial_id = trial, .attempt = attempt, .step = step});
    });
  }

  absl::Status RecordSnapshot(TrialId id, std::string_view lease_id, int64_t step) {
    return RecordOnLease(id, lease_id, [step](StoreMutation& m, TrialId trial, int attempt) {
      m.lease_snapshots.push_back({.trial_id = trial, .attempt = attempt, .step = step});
    });
  }

  // One mutation about the current lease of `id` under `lease_id`, which
  // `fill` writes given the trial and its attempt.
  absl::Status RecordOnLease(TrialId id, std::string_view lease_id,
                             const std::function<void(StoreMutation&, TrialId, int)>& fill) {
    Writes writes;
    {
      absl::MutexLock lock(&mu_);
      ASSIGN_OR_RETURN(LiveTrial * t, CurrentLeaseLocked(id, lease_id, writes));
      StoreMutation m{.now = ToMicros(clock_->Now())};
      fill(m, id, t->attempt);
      SubmitLocked(std::move(m), writes);
    }
    return Await(writes);
  }

 private:
  static std::string Truncate(std::string_view text) {
    return std::string(text.substr(0, kMaxReasonBytes));
  }

  // A TrialUpdate from `t` as the coordinator sees it now.
  static TrialUpdate Update(const LiveTrial& t, TrialState next, int attempt_limit,
                            std::string reason) {
    return {.id = t.id,
            .expect_state = t.state,
            .expect_attempt = t.attempt,
            .state = next,
            .attempt = t.attempt,
            .attempt_limit = attempt_limit,
            .worker_id = t.worker_id,
            .reason = std::move(reason)};
  }

  // Gives `live` the scheduler of `sweep`'s spec (every sweep has one: the
  // trials' own stuck rule is judged there), rebuilt from every checkpoint its
  // trials stored when its rule keeps a history: recorded, not judged again.
  // The store must hold every decision so far (flushed).
  absl::Status AttachSchedulerLocked(const SweepRecord& sweep, LiveSweep& live)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    const absl::StatusOr<SweepSpec> spec = ParseSweepSpec(sweep.spec_yaml, kStoredSpecLimits);
    // A spec an older deepsweep stored may no longer parse (e.g. random beside
    // a grid, now random_crossed_with_grid); schedules did not exist then.
    auto scheduler = std::make_shared<Scheduler>(spec.ok() ? spec->schedule : ScheduleSpec{});
    live.scheduler = scheduler;
    live.seed = spec.ok() ? spec->seed : 0;
    if (!scheduler->KeepsHistory()) return absl::OkStatus();
    TrialQuery query{.sweep_id = sweep.id};
    ASSIGN_OR_RETURN(const std::vector<TrialRecord> trials, store_->ListTrials(query));
    for (const TrialRecord& t : trials) {
      std::vector<Checkpoint> all;
      for (int attempt = 1; attempt <= t.attempt; ++attempt) {
        ASSIGN_OR_RETURN(std::vector<Checkpoint> some,
                         store_->GetCheckpoints(t.id, attempt, /*with_layer_stats=*/false));
        for (Checkpoint& c : some) all.push_back(std::move(c));
      }
      scheduler->Restore(t.id, t.spec, all);
    }
    return absl::OkStatus();
  }

  // Ids are opaque to workers; the trial and attempt make them unique across
  // restarts, the random part (64 bits from the OS CSPRNG, independent per
  // id) makes them unguessable, even from the ids a worker has seen.
  static std::string NewLeaseId(TrialId id, int attempt) {
    return absl::StrFormat("%d-%d-%016x", id, attempt, SecureRandom64());
  }

  void Bump(const absl::flat_hash_set<SweepId>& sweeps = {}) {
    absl::MutexLock lock(&version_mu_);
    ++version_;
    for (SweepId id : sweeps) sweep_versions_[id] = version_;
    changed_.SignalAll();
  }

  // Waits for the writes of one call. On success tells watchers; on failure
  // drops the in-memory index (rebuilt by the next call) and returns the
  // first error.
  absl::Status Await(Writes& writes) ABSL_LOCKS_EXCLUDED(mu_) {
    absl::Status status;
    for (PendingWrite& w : writes.pending) status.Update(w.Wait());
    if (!status.ok()) {
      {
        absl::MutexLock lock(&mu_);
        loaded_ = false;
        if (IsStoreFault(status)) grace_on_load_ = true;
      }
      NoteWrite(status);
      return status;
    }
    if (!writes.pending.empty()) {
      NoteWrite(status);
      Bump(writes.sweeps);
    }
    return status;
  }

  // Submits `m` and notes the sweeps it changes: those it names and those of
  // the live trials it names (every trial a decision changes is live until
  // its mutation is submitted).
  void SubmitLocked(StoreMutation m, Writes& writes) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    for (const SweepUpdate& s : m.sweeps) writes.sweeps.insert(s.id);
    const auto note = [&](TrialId id) {
      if (auto it = live_.find(id); it != live_.end()) writes.sweeps.insert(it->second.sweep_id);
    };
    for (const TrialUpdate& u : m.trials) note(u.id);
    for (const LeaseEnd& e : m.lease_ends) note(e.trial_id);
    for (const LeaseGrant& g : m.lease_grants) note(g.trial_id);
    for (const LeaseRenewal& r : m.lease_renewals) note(r.trial_id);
    for (const LeaseResume& r : m.lease_resumes) note(r.trial_id);
    for (const CheckpointBatch& c : m.checkpoints) note(c.trial_id);
    writes.pending.push_back(store_->Submit(std::move(m)));
  }

  // Keeps StoreHealth from the outcome of a write, and tells the listener
  // when writability flips.
  void NoteWrite(const absl::Status& status) {
    if (!status.ok() && !IsStoreFault(status)) return;
    absl::MutexLock lock(&health_mu_);
    const bool was_writable = health_.writable;
    health_.writable = status.ok();
    if (!status.ok()) {
      ++health_.failed_writes;
      health_.last_error = status;
    }
    if (health_.writable != was_writable && options_.on_store_health_change) {
      options_.on_store_health_change(health_);
    }
  }

  // Rebuilds the in-memory index from the store when it is not loaded. After
  // a start or a store fault, every lease gets a grace period first (see
  // CoordinatorOptions::lease_ttl): its workers could not reach or renew
  // through this coordinator meanwhile, so they get a full TTL to do it.
  absl::Status LoadLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    if (loaded_) return absl::OkStatus();
    store_->Flush();
    ASSIGN_OR_RETURN(UnfinishedWork work, store_->LoadUnfinished());
    sweeps_.clear();
    live_.clear();
    deadlines_.clear();
    StoreMutation m{.now = ToMicros(clock_->Now())};
    const absl::Time grace_deadline = ToMicros(m.now + options_.lease_ttl);
    for (const SweepRecord& s : work.sweeps) {
      LiveSweep& live = sweeps_[s.id] = LiveSweep{.state = s.state, .max_attempts = s.max_attempts};
      RETURN_IF_ERROR(AttachSchedulerLocked(s, live));
    }
    for (UnfinishedTrial& t : work.trials) {
      LiveSweep& sweep = sweeps_[t.sweep_id];
      if (t.state == TrialState::kLeased) {
        // A leased trial without its lease row cannot be renewed by anyone:
        // let it expire at once.
        if (!t.lease.has_value()) {
          t.lease = Lease{.trial_id = t.id, .attempt = t.attempt, .deadline = absl::InfinitePast()};
        } else if (grace_on_load_ && t.lease->deadline < grace_deadline) {
          t.lease->deadline = grace_deadline;
          m.lease_renewals.push_back({t.id, t.attempt, grace_deadline});
        }
        deadlines_.emplace(t.lease->deadline, t.id);
        ++sweep.leased;
      } else {
        sweep.AddPending(t.index, t.id);
      }
      live_[t.id] = std::move(t);
    }
    // A sweep whose trials are all done but that was never marked finished is
    // finished now.
    for (auto it = sweeps_.begin(); it != sweeps_.end();) {
      const LiveSweep& s = it->second;
      if (s.pending.empty() && s.leased == 0) {
        m.sweeps.push_back({it->first, FinalState(s), m.now});
        it = sweeps_.erase(it);
      } else {
        ++it;
      }
    }
    if (!m.sweeps.empty() || !m.lease_renewals.empty()) {
      const absl::Status applied = store_->Apply(std::move(m));
      NoteWrite(applied);
      RETURN_IF_ERROR(applied);
    }
    loaded_ = true;
    grace_on_load_ = false;
    return absl::OkStatus();
  }

  static SweepState FinalState(const LiveSweep& s) {
    return s.state == SweepState::kCancelled ? SweepState::kCancelled : SweepState::kFinished;
  }

  // The active sweep after the last one served that has a pending trial,
  // wrapping around: round-robin by sweep.
  LiveSweep* NextSweepLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    auto ready = [](const LiveSweep& s) {
      return s.state == SweepState::kActive && !s.pending.empty();
    };
    for (auto it = sweeps_.upper_bound(last_served_); it != sweeps_.end(); ++it) {
      if (ready(it->second)) return &it->second;
    }
    for (auto it = sweeps_.begin(); it != sweeps_.end() && it->first <= last_served_; ++it) {
      if (ready(it->second)) return &it->second;
    }
    return nullptr;
  }

  // Loads, expires due leases and checks that `lease_id` is the trial's
  // current lease: ABORTED when it is not, NOT_FOUND for an unknown trial.
  absl::StatusOr<LiveTrial*> CurrentLeaseLocked(TrialId id, std::string_view lease_id,
                                                Writes& writes) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    if (lease_id.empty()) return absl::InvalidArgumentError("lease_id is required");
    RETURN_IF_ERROR(LoadLocked());
    ExpireDueLocked(ToMicros(clock_->Now()), writes);
    auto it = live_.find(id);
    if (it != live_.end() && it->second.lease.has_value() &&
        it->second.lease->lease_id == lease_id) {
      return &it->second;
    }
    ASSIGN_OR_RETURN(TrialRecord trial, store_->GetTrial(id));
    return absl::AbortedError(absl::StrCat("lease ", std::string(lease_id),
                                           " is not current for trial ", id, " (attempt ",
                                           trial.attempt, ")"));
  }

  // Ends the lease `lease_id` of trial `id` as `decide(trial, sweep)` says.
  template <typename Decide>
  absl::Status EndLease(TrialId id, std::string_view lease_id, Decide decide) {
    Writes writes;
    {
      absl::MutexLock lock(&mu_);
      ASSIGN_OR_RETURN(LiveTrial * t, CurrentLeaseLocked(id, lease_id, writes));
      LeaseEnding ending = decide(*t, sweeps_.at(t->sweep_id));
      ending.trial = t;
      std::vector<LeaseEnding> endings;
      endings.push_back(std::move(ending));
      EndLeasesLocked(std::move(endings), ToMicros(clock_->Now()), writes);
    }
    return Await(writes);
  }

  // Expires every lease whose deadline is before `now`, in one mutation.
  int64_t ExpireDueLocked(absl::Time now, Writes& writes) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    std::vector<LeaseEnding> endings;
    for (auto it = deadlines_.begin(); it != deadlines_.end() && it->first < now; ++it) {
      LiveTrial& t = live_.at(it->second);
      LeaseEnding e{.trial = &t,
                    .next = TrialState::kPending,
                    .reason = absl::StrCat("lease of worker ", t.worker_id, " expired (attempt ",
                                           t.attempt, " of ", t.attempt_limit, ")"),
                    .outcome = "expired",
                    .attempt_limit = t.attempt_limit,
                    .worker_heard = false};
      if (sweeps_.at(t.sweep_id).state == SweepState::kCancelled) {
        e.next = TrialState::kCancelled;
        e.reason = "sweep cancelled";
      } else if (t.attempt >= t.attempt_limit) {
        e.next = TrialState::kFailed;
        e.reason = absl::StrCat("gave up after ", t.attempt, " attempts; last: ", e.reason);
      }
      endings.push_back(std::move(e));
    }
    const auto n = static_cast<int64_t>(endings.size());
    if (n > 0) EndLeasesLocked(std::move(endings), now, writes);
    return n;
  }

  // Ends leases in one mutation: trials move on, leases are closed, workers
  // freed, and sweeps left without live trials are finished.
  // `m` may already hold other changes of the same decision.
  void EndLeasesLocked(std::vector<LeaseEnding> endings, absl::Time now, Writes& writes,
                       StoreMutation m = {}) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    m.now = now;
    absl::flat_hash_map<SweepId, int64_t> leaving;  // trials that stop being live
    for (const LeaseEnding& e : endings) {
      const LiveTrial& t = *e.trial;
      if (e.outcome == "expired") leases_expired_.fetch_add(1, std::memory_order_relaxed);
      if (e.outcome == "released") leases_released_.fetch_add(1, std::memory_order_relaxed);
      leases_ended_.fetch_add(1, std::memory_order_relaxed);
      m.trials.push_back(Update(t, e.next, e.attempt_limit, e.reason));
      m.trials.back().rung = e.rung;
      m.lease_ends.push_back({t.id, t.attempt, e.outcome});
      m.workers.push_back({.info = {.worker_id = t.worker_id},
                           .heard = e.worker_heard,
                           .current = WorkerUpdate::Current::kClear,
                           .current_trial = t.id});
      if (e.next != TrialState::kPending) ++leaving[t.sweep_id];
    }
    std::vector<SweepId> finished;
    for (const auto& [sweep_id, n] : leaving) {
      const LiveSweep& s = sweeps_.at(sweep_id);
      if (static_cast<int64_t>(s.pending.size()) + s.leased - n > 0) continue;
      finished.push_back(sweep_id);
      m.sweeps.push_back({sweep_id, FinalState(s), now});
    }
    SubmitLocked(std::move(m), writes);

    for (LeaseEnding& e : endings) {
      LiveTrial& t = *e.trial;
      LiveSweep& s = sweeps_.at(t.sweep_id);
      deadlines_.erase({t.lease->deadline, t.id});
      --s.leased;
      if (e.next == TrialState::kPending) {
        t.state = TrialState::kPending;
        t.attempt_limit = e.attempt_limit;
        t.lease.reset();
        s.AddPending(t.index, t.id);
      } else {
        live_.erase(t.id);
      }
    }
    for (SweepId id : finished) sweeps_.erase(id);
    ShrinkLocked();
  }

  // RESOURCE_EXHAUSTED when `adding` more unfinished trials would go beyond
  // max_unfinished_trials.
  absl::Status CheckUnfinishedLocked(int64_t adding) const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    const auto unfinished = static_cast<int64_t>(live_.size());
    if (adding <= options_.max_unfinished_trials - unfinished) return absl::OkStatus();
    return absl::ResourceExhaustedError(absl::StrCat(
        adding, " more trials would make ", unfinished + adding,
        " unfinished (pending or leased) trials, above the limit of ",
        options_.max_unfinished_trials,
        " (max_unfinished_trials, deepsweep-server --max-unfinished-trials); wait for sweeps "
        "to finish, or cancel some"));
  }

  // A hash table keeps its capacity when emptied: after a big sweep is
  // cancelled or done, give the slots (about 0.4 KB each) back.
  void ShrinkLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    if (live_.capacity() > 4096 && live_.size() < live_.capacity() / 8) live_.rehash(0);
  }

  SweepStore* const store_;
  std::atomic<int64_t> leases_granted_{0}, leases_expired_{0}, leases_released_{0},
      leases_ended_{0};
  const Clock* const clock_;
  const CoordinatorOptions options_;

  absl::Mutex mu_;
  // False until the index is built, and again after a failed write.
  bool loaded_ ABSL_GUARDED_BY(mu_) = false;
  // The next load extends leases (see LoadLocked): true at start and after a
  // store fault.
  bool grace_on_load_ ABSL_GUARDED_BY(mu_) = true;
  // Every PENDING or LEASED trial.
  absl::flat_hash_map<TrialId, LiveTrial> live_ ABSL_GUARDED_BY(mu_);
  // Sweeps with live trials, and active ones; ordered for the round-robin.
  std::map<SweepId, LiveSweep> sweeps_ ABSL_GUARDED_BY(mu_);
  absl::btree_set<std::pair<absl::Time, TrialId>> deadlines_ ABSL_GUARDED_BY(mu_);
  SweepId last_served_ ABSL_GUARDED_BY(mu_) = 0;

  // WaitForChange's counter, bumped once a call's writes are committed; apart
  // from mu_ so watchers never wait on decisions.
  absl::Mutex version_mu_;
  absl::CondVar changed_;
  uint64_t version_ ABSL_GUARDED_BY(version_mu_) = 0;
  // Per sweep: version_ after its last committed change (absent: none yet).
  absl::flat_hash_map<SweepId, uint64_t> sweep_versions_ ABSL_GUARDED_BY(version_mu_);

  // Apart from mu_: read by health checks, written after commits.
  mutable absl::Mutex health_mu_;
  StoreHealth health_ ABSL_GUARDED_BY(health_mu_);
};

Coordinator::Coordinator(SweepStore* store, const Clock* clock, CoordinatorOptions options)
    : impl_(std::make_unique<Impl>(store, clock, std::move(options))) {}
Coordinator::~Coordinator() = default;

absl::StatusOr<SubmittedSweep> Coordinator::SubmitSweep(std::string_view spec_yaml,
                                                        const SubmitSweepOptions& options) {
  return impl_->SubmitSweep(spec_yaml, options);
}
absl::StatusOr<SweepRecord> Coordinator::CreateSweep(std::string_view spec_yaml) {
  ASSIGN_OR_RETURN(SubmittedSweep submitted, impl_->SubmitSweep(spec_yaml, {.new_sweep = true}));
  return std::move(submitted.sweep);
}

absl::StatusOr<SweepPlan> Coordinator::PlanSweep(std::string_view spec_yaml) const {
  return impl_->PlanSweep(spec_yaml);
}
absl::StatusOr<SweepRecord> Coordinator::GetSweep(SweepId id) {
  return impl_->store()->GetSweep(id);
}
absl::StatusOr<std::vector<SweepRecord>> Coordinator::ListSweeps() {
  return impl_->store()->ListSweeps();
}
absl::Status Coordinator::CancelSweep(SweepId id) { return impl_->CancelSweep(id); }
absl::StatusOr<int64_t> Coordinator::RetryTrials(SweepId sweep,
                                                 absl::Span<const TrialState> states) {
  return impl_->RetryTrials(sweep, states);
}
absl::StatusOr<std::vector<TrialRecord>> Coordinator::ListTrials(const TrialQuery& query) {
  return impl_->store()->ListTrials(query);
}
absl::StatusOr<TrialRecord> Coordinator::GetTrial(TrialId id) {
  return impl_->store()->GetTrial(id);
}
absl::StatusOr<std::vector<Checkpoint>> Coordinator::GetCheckpoints(TrialId id,
                                                                    std::optional<int> attempt,
                                                                    bool with_layer_stats) {
  return impl_->GetCheckpoints(id, attempt, with_layer_stats);
}
absl::StatusOr<std::vector<WorkerRecord>> Coordinator::ListWorkers() {
  return impl_->store()->ListWorkers();
}
absl::StatusOr<std::vector<TrialAttempt>> Coordinator::ListAttempts(TrialId id) {
  return impl_->store()->ListAttempts(id);
}
absl::StatusOr<Acquisition> Coordinator::AcquireTrial(const WorkerInfo& worker) {
  return impl_->AcquireTrial(worker);
}
absl::StatusOr<RenewResult> Coordinator::RenewLease(TrialId trial, std::string_view lease_id) {
  return impl_->Renew(trial, lease_id, {});
}
absl::StatusOr<RenewResult> Coordinator::ReportCheckpoints(
    TrialId trial, std::string_view lease_id, absl::Span<const Checkpoint> checkpoints) {
  return impl_->ReportCheckpoints(trial, lease_id, checkpoints);
}
absl::Status Coordinator::CompleteTrial(TrialId trial, std::string_view lease_id,
                                        const TrialOutcome& outcome) {
  return impl_->CompleteTrial(trial, lease_id, outcome);
}
absl::Status Coordinator::FailTrial(TrialId trial, std::string_view lease_id,
                                    std::string_view reason, bool retryable) {
  return impl_->FailTrial(trial, lease_id, reason, retryable);
}
absl::Status Coordinator::ReleaseTrial(TrialId trial, std::string_view lease_id) {
  return impl_->ReleaseTrial(trial, lease_id);
}
absl::StatusOr<int64_t> Coordinator::ExpireLeases() { return impl_->ExpireLeases(); }

CoordinatorCounters Coordinator::counters() const { return impl_->counters(); }
absl::StatusOr<int> Coordinator::CheckLease(TrialId trial, std::string_view lease_id) {
  return impl_->CheckLease(trial, lease_id);
}
absl::Status Coordinator::RecordResume(TrialId trial, std::string_view lease_id, int64_t step) {
  return impl_->RecordResume(trial, lease_id, step);
}
absl::Status Coordinator::RecordSnapshot(TrialId trial, std::string_view lease_id, int64_t step) {
  return impl_->RecordSnapshot(trial, lease_id, step);
}
uint64_t Coordinator::WaitForChange(uint64_t seen, absl::Duration max_wait) {
  return impl_->WaitForChange(seen, max_wait);
}
uint64_t Coordinator::version() const { return impl_->version(); }
uint64_t Coordinator::sweep_version(SweepId id) const { return impl_->sweep_version(id); }
StoreHealth Coordinator::store_health() const { return impl_->store_health(); }
int64_t Coordinator::unfinished_trials() const { return impl_->unfinished_trials(); }

}  // namespace deepsweep
