#include "core/coordinator.h"

#include <map>
#include <random>
#include <set>
#include <utility>

#include "absl/base/thread_annotations.h"
#include "absl/container/btree_set.h"
#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/synchronization/mutex.h"
#include "common/status_macros.h"
#include "core/splitmix64.h"
#include "core/sweep_spec.h"
#include "core/sweep_store.h"

namespace deepsweep {

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
  RETURN_IF_ERROR(CheckName("host", w.host, false));
  RETURN_IF_ERROR(CheckName("version", w.version, false));
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
    std::set<std::pair<int, LayerQuantity>> seen;
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
      if (!seen.emplace(s.layer, s.quantity).second) {
        return absl::InvalidArgumentError(
            absl::StrCat("checkpoint at step ", c.step, ": layer ", s.layer, " ",
                         std::string(LayerQuantityName(s.quantity)), " appears twice"));
      }
    }
  }
  return absl::OkStatus();
}

// A PENDING or LEASED trial, as far as deciding about it needs.
struct LiveTrial {
  TrialId id = 0;
  SweepId sweep_id = 0;
  int index = 0;
  TrialState state = TrialState::kPending;
  int attempt = 0;
  int attempt_limit = 0;
  std::string worker_id;
  std::string lease_id;  // when LEASED
  absl::Time deadline;   // when LEASED
};

// A sweep with live trials, or an active one.
struct LiveSweep {
  SweepState state = SweepState::kActive;
  int max_attempts = 3;
  absl::btree_set<std::pair<int, TrialId>> pending;  // by trial index
  int64_t leased = 0;
};

// How one lease ends: the trial's next state and why.
struct LeaseEnding {
  LiveTrial* trial = nullptr;
  TrialState next = TrialState::kPending;
  std::string reason;
  std::string outcome;  // recorded on the lease row
  int attempt_limit = 0;
  bool worker_heard = true;  // false when the lease ran out in silence
};

}  // namespace

class Coordinator::Impl {
 public:
  Impl(SweepStore* store, const Clock* clock, CoordinatorOptions options)
      : store_(store),
        clock_(clock),
        options_(std::move(options)),
        lease_ids_(std::random_device{}()) {}

  absl::StatusOr<SweepRecord> CreateSweep(std::string_view spec_yaml) {
    if (static_cast<int64_t>(spec_yaml.size()) > options_.max_spec_bytes) {
      return absl::ResourceExhaustedError(absl::StrCat("the spec has ", spec_yaml.size(),
                                                       " bytes, above the limit of ",
                                                       options_.max_spec_bytes));
    }
    const SweepLimits limits{options_.max_trials_per_sweep, options_.max_depth, options_.max_width};
    ASSIGN_OR_RETURN(SweepSpec spec, ParseSweepSpec(spec_yaml, limits));
    ASSIGN_OR_RETURN(std::vector<TrialSpec> trials, ExpandSweep(spec, limits));
    const int max_attempts = spec.max_attempts.value_or(options_.default_max_attempts);

    absl::MutexLock lock(&mu_);
    RETURN_IF_ERROR(LoadLocked());
    const absl::Time now = ToMicros(clock_->Now());
    const NewSweep sweep{spec.name, std::string(spec_yaml), max_attempts, now};
    ASSIGN_OR_RETURN(CreatedSweep created, store_->CreateSweep(sweep, trials));

    LiveSweep& live = sweeps_[created.id];
    live.max_attempts = max_attempts;
    for (size_t i = 0; i < created.trial_ids.size(); ++i) {
      const TrialId id = created.trial_ids[i];
      live_[id] = LiveTrial{.id = id,
                            .sweep_id = created.id,
                            .index = static_cast<int>(i),
                            .attempt_limit = max_attempts};
      live.pending.emplace(static_cast<int>(i), id);
    }
    BumpLocked();
    SweepRecord record{.id = created.id,
                       .name = sweep.name,
                       .spec_yaml = sweep.spec_yaml,
                       .max_attempts = max_attempts,
                       .created_at = now};
    record.counts.pending = static_cast<int64_t>(trials.size());
    return record;
  }

  absl::Status CancelSweep(SweepId id) {
    absl::MutexLock lock(&mu_);
    RETURN_IF_ERROR(LoadLocked());
    const absl::Time now = ToMicros(clock_->Now());
    auto it = sweeps_.find(id);
    if (it == sweeps_.end()) {
      ASSIGN_OR_RETURN(SweepRecord record, store_->GetSweep(id));
      if (record.state == SweepState::kCancelled) return absl::OkStatus();
      return absl::FailedPreconditionError(absl::StrCat("sweep ", id, " is already finished"));
    }
    LiveSweep& sweep = it->second;
    if (sweep.state == SweepState::kCancelled) return absl::OkStatus();

    StoreMutation m{.now = now};
    for (const auto& [index, trial_id] : sweep.pending) {
      const LiveTrial& t = live_.at(trial_id);
      m.trials.push_back({.id = t.id,
                          .state = TrialState::kCancelled,
                          .attempt = t.attempt,
                          .attempt_limit = t.attempt_limit,
                          .worker_id = t.worker_id,
                          .reason = "sweep cancelled"});
    }
    std::optional<absl::Time> finished_at;
    if (sweep.leased == 0) finished_at = now;
    m.sweeps.push_back({id, SweepState::kCancelled, finished_at});
    RETURN_IF_ERROR(store_->Apply(m));

    for (const auto& [index, trial_id] : sweep.pending) live_.erase(trial_id);
    sweep.pending.clear();
    sweep.state = SweepState::kCancelled;
    if (sweep.leased == 0) sweeps_.erase(it);
    BumpLocked();
    return absl::OkStatus();
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
    absl::MutexLock lock(&mu_);
    RETURN_IF_ERROR(LoadLocked());
    const absl::Time now = ToMicros(clock_->Now());
    ASSIGN_OR_RETURN(SweepRecord sweep, store_->GetSweep(id));
    std::vector<TrialRecord> retried;
    for (TrialState s : std::set<TrialState>(states.begin(), states.end())) {
      TrialQuery query{.sweep_id = id};
      query.conditions.push_back(
          {"state", TrialCondition::Op::kEq, std::string(TrialStateName(s))});
      ASSIGN_OR_RETURN(std::vector<TrialRecord> trials, store_->ListTrials(query));
      for (TrialRecord& t : trials) retried.push_back(std::move(t));
    }
    if (retried.empty()) return 0;

    StoreMutation m{.now = now};
    for (const TrialRecord& t : retried) {
      m.trials.push_back({.id = t.id,
                          .state = TrialState::kPending,
                          .attempt = t.attempt,
                          .attempt_limit = t.attempt + sweep.max_attempts,
                          .worker_id = t.worker_id,
                          .reset_results = true});
    }
    m.sweeps.push_back({id, SweepState::kActive, std::nullopt});
    RETURN_IF_ERROR(store_->Apply(m));

    LiveSweep& live = sweeps_[id];
    live.state = SweepState::kActive;
    live.max_attempts = sweep.max_attempts;
    for (const TrialRecord& t : retried) {
      live_[t.id] = LiveTrial{.id = t.id,
                              .sweep_id = id,
                              .index = t.index,
                              .attempt = t.attempt,
                              .attempt_limit = t.attempt + sweep.max_attempts,
                              .worker_id = t.worker_id};
      live.pending.emplace(t.index, t.id);
    }
    BumpLocked();
    return static_cast<int64_t>(retried.size());
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
    absl::MutexLock lock(&mu_);
    RETURN_IF_ERROR(LoadLocked());
    const absl::Time now = ToMicros(clock_->Now());
    RETURN_IF_ERROR(ExpireDueLocked(now).status());

    StoreMutation m{.now = now};
    LiveSweep* sweep = NextSweepLocked();
    if (sweep == nullptr) {
      m.workers.push_back({.info = worker, .register_info = true});
      RETURN_IF_ERROR(store_->Apply(m));
      BumpLocked();
      return Acquisition{.retry_after = options_.idle_retry_after};
    }
    LiveTrial& t = live_.at(sweep->pending.begin()->second);
    const Lease lease{.trial_id = t.id,
                      .lease_id = NewLeaseId(t.id, t.attempt + 1),
                      .attempt = t.attempt + 1,
                      .deadline = ToMicros(now + options_.lease_ttl)};
    m.trials.push_back({.id = t.id,
                        .state = TrialState::kLeased,
                        .attempt = lease.attempt,
                        .attempt_limit = t.attempt_limit,
                        .worker_id = worker.worker_id,
                        .reset_results = true});
    m.lease_grants.push_back(
        {t.id, lease.lease_id, lease.attempt, lease.deadline, worker.worker_id});
    m.workers.push_back({.info = worker,
                         .register_info = true,
                         .current = WorkerUpdate::Current::kSet,
                         .current_trial = t.id});
    RETURN_IF_ERROR(store_->Apply(m));

    sweep->pending.erase(sweep->pending.begin());
    ++sweep->leased;
    last_served_ = t.sweep_id;
    t.state = TrialState::kLeased;
    t.attempt = lease.attempt;
    t.worker_id = worker.worker_id;
    t.lease_id = lease.lease_id;
    t.deadline = lease.deadline;
    deadlines_.emplace(t.deadline, t.id);
    BumpLocked();
    // Committed: if this read fails the worker gets the error and the lease
    // simply expires.
    ASSIGN_OR_RETURN(TrialRecord record, store_->GetTrial(t.id));
    return Acquisition{.trial = std::move(record), .lease = lease};
  }

  absl::StatusOr<RenewResult> RenewLease(TrialId id, std::string_view lease_id) {
    return Renew(id, lease_id, {});
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
    absl::MutexLock lock(&mu_);
    ASSIGN_OR_RETURN(LiveTrial * t, CurrentLeaseLocked(id, lease_id));
    const std::string reason = Truncate(outcome.reason);
    return EndLeasesLocked(
        {{t, outcome.state, reason, std::string(TrialStateName(outcome.state)), t->attempt_limit}},
        now_);
  }

  absl::Status FailTrial(TrialId id, std::string_view lease_id, std::string_view reason,
                         bool retryable) {
    absl::MutexLock lock(&mu_);
    ASSIGN_OR_RETURN(LiveTrial * t, CurrentLeaseLocked(id, lease_id));
    const bool cancelled = sweeps_.at(t->sweep_id).state == SweepState::kCancelled;
    LeaseEnding ending{
        t, TrialState::kFailed, Truncate(reason),
        absl::StrCat(retryable ? "failed (retryable): " : "failed: ", Truncate(reason)),
        t->attempt_limit};
    if (retryable && cancelled) {
      ending.next = TrialState::kCancelled;
      ending.reason = "sweep cancelled";
    } else if (retryable && t->attempt < t->attempt_limit) {
      ending.next = TrialState::kPending;
    } else if (retryable) {
      ending.reason =
          absl::StrCat("gave up after ", t->attempt, " attempts; last: ", ending.reason);
    }
    return EndLeasesLocked({std::move(ending)}, now_);
  }

  absl::Status ReleaseTrial(TrialId id, std::string_view lease_id) {
    absl::MutexLock lock(&mu_);
    ASSIGN_OR_RETURN(LiveTrial * t, CurrentLeaseLocked(id, lease_id));
    LeaseEnding ending{t, TrialState::kPending, "", "released", t->attempt_limit + 1};
    if (sweeps_.at(t->sweep_id).state == SweepState::kCancelled) {
      ending.next = TrialState::kCancelled;
      ending.reason = "sweep cancelled";
      ending.attempt_limit = t->attempt_limit;
    }
    return EndLeasesLocked({std::move(ending)}, now_);
  }

  absl::StatusOr<int64_t> ExpireLeases() {
    absl::MutexLock lock(&mu_);
    RETURN_IF_ERROR(LoadLocked());
    return ExpireDueLocked(ToMicros(clock_->Now()));
  }

  uint64_t WaitForChange(uint64_t seen, absl::Duration max_wait) {
    absl::MutexLock lock(&mu_);
    const absl::Time deadline = absl::Now() + max_wait;
    while (version_ == seen) {
      if (changed_.WaitWithDeadline(&mu_, deadline)) break;
    }
    return version_;
  }

  SweepStore* store() const { return store_; }

 private:
  static std::string Truncate(std::string_view text) {
    return std::string(text.substr(0, kMaxReasonBytes));
  }

  // Ids are opaque to workers; the trial and attempt make them unique across
  // restarts, the random part makes them unguessable.
  std::string NewLeaseId(TrialId id, int attempt) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    return absl::StrFormat("%d-%d-%016x", id, attempt, lease_ids_.Next());
  }

  void BumpLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    ++version_;
    changed_.SignalAll();
  }

  // Rebuilds the in-memory index from the store, once.
  absl::Status LoadLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    if (loaded_) return absl::OkStatus();
    ASSIGN_OR_RETURN(UnfinishedWork work, store_->LoadUnfinished());
    sweeps_.clear();
    live_.clear();
    deadlines_.clear();
    for (const SweepRecord& s : work.sweeps) {
      sweeps_[s.id] = LiveSweep{.state = s.state, .max_attempts = s.max_attempts};
    }
    for (const UnfinishedTrial& u : work.trials) {
      LiveSweep& sweep = sweeps_[u.sweep_id];
      LiveTrial t{.id = u.id,
                  .sweep_id = u.sweep_id,
                  .index = u.index,
                  .state = u.state,
                  .attempt = u.attempt,
                  .attempt_limit = u.attempt_limit,
                  .worker_id = u.worker_id};
      if (u.state == TrialState::kLeased) {
        // A leased trial without its lease row cannot be renewed by anyone:
        // let it expire at once.
        t.lease_id = u.lease.has_value() ? u.lease->lease_id : "";
        t.deadline = u.lease.has_value() ? u.lease->deadline : absl::InfinitePast();
        deadlines_.emplace(t.deadline, t.id);
        ++sweep.leased;
      } else {
        sweep.pending.emplace(t.index, t.id);
      }
      live_[t.id] = std::move(t);
    }
    // A sweep whose trials are all done but was never marked (e.g. created
    // empty by an older binary) is finished now.
    StoreMutation m{.now = ToMicros(clock_->Now())};
    for (auto it = sweeps_.begin(); it != sweeps_.end();) {
      const LiveSweep& s = it->second;
      if (s.pending.empty() && s.leased == 0) {
        m.sweeps.push_back(
            {it->first,
             s.state == SweepState::kCancelled ? SweepState::kCancelled : SweepState::kFinished,
             m.now});
        it = sweeps_.erase(it);
      } else {
        ++it;
      }
    }
    if (!m.sweeps.empty()) RETURN_IF_ERROR(store_->Apply(m));
    loaded_ = true;
    return absl::OkStatus();
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
  // current lease. Sets now_ for the caller.
  absl::StatusOr<LiveTrial*> CurrentLeaseLocked(TrialId id, std::string_view lease_id)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    if (lease_id.empty()) return absl::InvalidArgumentError("lease_id is required");
    RETURN_IF_ERROR(LoadLocked());
    now_ = ToMicros(clock_->Now());
    RETURN_IF_ERROR(ExpireDueLocked(now_).status());
    auto it = live_.find(id);
    if (it != live_.end() && it->second.state == TrialState::kLeased &&
        it->second.lease_id == lease_id) {
      return &it->second;
    }
    ASSIGN_OR_RETURN(TrialRecord trial, store_->GetTrial(id));
    return absl::AbortedError(absl::StrCat(
        "lease ", std::string(lease_id), " is not current for trial ", id, " (the trial is ",
        std::string(TrialStateName(trial.state)), ", attempt ", trial.attempt, ")"));
  }

  absl::StatusOr<RenewResult> Renew(TrialId id, std::string_view lease_id,
                                    absl::Span<const Checkpoint> checkpoints) {
    absl::MutexLock lock(&mu_);
    ASSIGN_OR_RETURN(LiveTrial * t, CurrentLeaseLocked(id, lease_id));
    const absl::Time deadline = ToMicros(now_ + options_.lease_ttl);
    StoreMutation m{.now = now_};
    m.lease_renewals.push_back({t->id, t->attempt, deadline});
    if (!checkpoints.empty()) m.checkpoints.push_back({t->id, t->attempt, checkpoints});
    m.workers.push_back({.info = {.worker_id = t->worker_id}});
    RETURN_IF_ERROR(store_->Apply(m));
    deadlines_.erase({t->deadline, t->id});
    t->deadline = deadline;
    deadlines_.emplace(deadline, t->id);
    BumpLocked();
    return RenewResult{deadline, sweeps_.at(t->sweep_id).state == SweepState::kCancelled};
  }

  // Expires every lease whose deadline is before `now`, in one mutation.
  absl::StatusOr<int64_t> ExpireDueLocked(absl::Time now) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    std::vector<LeaseEnding> endings;
    for (auto it = deadlines_.begin(); it != deadlines_.end() && it->first < now; ++it) {
      LiveTrial& t = live_.at(it->second);
      LeaseEnding e{&t,
                    TrialState::kPending,
                    absl::StrCat("lease of worker ", t.worker_id, " expired (attempt ", t.attempt,
                                 " of ", t.attempt_limit, ")"),
                    "expired",
                    t.attempt_limit,
                    /*worker_heard=*/false};
      if (sweeps_.at(t.sweep_id).state == SweepState::kCancelled) {
        e.next = TrialState::kCancelled;
        e.reason = "sweep cancelled";
      } else if (t.attempt >= t.attempt_limit) {
        e.next = TrialState::kFailed;
        e.reason = absl::StrCat("gave up after ", t.attempt, " attempts; last: ", e.reason);
      }
      endings.push_back(std::move(e));
    }
    if (endings.empty()) return 0;
    const auto n = static_cast<int64_t>(endings.size());
    RETURN_IF_ERROR(EndLeasesLocked(std::move(endings), now));
    return n;
  }

  // Ends leases in one mutation: trials move on, leases are closed, workers
  // freed, and sweeps left without live trials are finished.
  absl::Status EndLeasesLocked(std::vector<LeaseEnding> endings, absl::Time now)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    StoreMutation m{.now = now};
    absl::flat_hash_map<SweepId, int64_t> leaving;  // trials that stop being live
    for (const LeaseEnding& e : endings) {
      const LiveTrial& t = *e.trial;
      m.trials.push_back({.id = t.id,
                          .state = e.next,
                          .attempt = t.attempt,
                          .attempt_limit = e.attempt_limit,
                          .worker_id = t.worker_id,
                          .reason = e.reason});
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
      m.sweeps.push_back(
          {sweep_id,
           s.state == SweepState::kCancelled ? SweepState::kCancelled : SweepState::kFinished,
           now});
    }
    RETURN_IF_ERROR(store_->Apply(m));

    for (LeaseEnding& e : endings) {
      LiveTrial& t = *e.trial;
      LiveSweep& s = sweeps_.at(t.sweep_id);
      deadlines_.erase({t.deadline, t.id});
      --s.leased;
      if (e.next == TrialState::kPending) {
        t.state = TrialState::kPending;
        t.attempt_limit = e.attempt_limit;
        t.lease_id.clear();
        s.pending.emplace(t.index, t.id);
      } else {
        live_.erase(t.id);
      }
    }
    for (SweepId id : finished) sweeps_.erase(id);
    BumpLocked();
    return absl::OkStatus();
  }

  SweepStore* const store_;
  const Clock* const clock_;
  const CoordinatorOptions options_;

  absl::Mutex mu_;
  absl::CondVar changed_;
  uint64_t version_ ABSL_GUARDED_BY(mu_) = 0;
  bool loaded_ ABSL_GUARDED_BY(mu_) = false;
  // The time of the lease call in progress (set by CurrentLeaseLocked).
  absl::Time now_ ABSL_GUARDED_BY(mu_);
  SplitMix64 lease_ids_ ABSL_GUARDED_BY(mu_);
  // Every PENDING or LEASED trial.
  absl::flat_hash_map<TrialId, LiveTrial> live_ ABSL_GUARDED_BY(mu_);
  // Sweeps with live trials, and active ones; ordered for the round-robin.
  std::map<SweepId, LiveSweep> sweeps_ ABSL_GUARDED_BY(mu_);
  absl::btree_set<std::pair<absl::Time, TrialId>> deadlines_ ABSL_GUARDED_BY(mu_);
  SweepId last_served_ ABSL_GUARDED_BY(mu_) = 0;
};

Coordinator::Coordinator(SweepStore* store, const Clock* clock, CoordinatorOptions options)
    : impl_(std::make_unique<Impl>(store, clock, std::move(options))) {}
Coordinator::~Coordinator() = default;

absl::StatusOr<SweepRecord> Coordinator::CreateSweep(std::string_view spec_yaml) {
  return impl_->CreateSweep(spec_yaml);
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
absl::StatusOr<Acquisition> Coordinator::AcquireTrial(const WorkerInfo& worker) {
  return impl_->AcquireTrial(worker);
}
absl::StatusOr<RenewResult> Coordinator::RenewLease(TrialId trial, std::string_view lease_id) {
  return impl_->RenewLease(trial, lease_id);
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
uint64_t Coordinator::WaitForChange(uint64_t seen, absl::Duration max_wait) {
  return impl_->WaitForChange(seen, max_wait);
}

}  // namespace deepsweep
