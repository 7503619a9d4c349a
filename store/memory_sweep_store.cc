#include "store/memory_sweep_store.h"

#include <algorithm>
#include <climits>
#include <cmath>
#include <functional>

#include "absl/strings/str_cat.h"
#include "common/status_macros.h"
#include "core/trial_query.h"

namespace deepsweep {
namespace {

// The contract keeps microseconds.
absl::Time Micros(absl::Time t) { return absl::FromUnixMicros(absl::ToUnixMicros(t)); }

// SQLite keeps NaN as NULL, so a NaN final metric reads back as no value.
std::optional<double> FinalMetric(double v) {
  if (std::isnan(v)) return std::nullopt;
  return v;
}

absl::Status SweepNotFound(SweepId id) {
  return absl::NotFoundError(absl::StrCat("sweep ", id, " not found"));
}

absl::Status TrialNotFound(TrialId id) {
  return absl::NotFoundError(absl::StrCat("trial ", id, " not found"));
}

}  // namespace

absl::StatusOr<CreatedSweep> MemorySweepStore::CreateSweep(const NewSweep& sweep,
                                                           absl::Span<const TrialSpec> trials) {
  RETURN_IF_ERROR(CheckStorable(trials));
  absl::MutexLock lock(&mu_);
  CreatedSweep created{.id = next_sweep_id_++};
  sweeps_[created.id] = SweepRecord{.id = created.id,
                                    .name = sweep.name,
                                    .spec_yaml = sweep.spec_yaml,
                                    .max_attempts = sweep.max_attempts,
                                    .created_at = Micros(sweep.created_at)};
  TrialCounts& counts = counts_[created.id];
  for (size_t i = 0; i < trials.size(); ++i) {
    const TrialId id = next_trial_id_++;
    trials_[id] = TrialRecord{.id = id,
                              .sweep_id = created.id,
                              .index = static_cast<int>(i),
                              .spec = trials[i],
                              .attempt_limit = sweep.max_attempts,
                              .updated_at = Micros(sweep.created_at)};
    created.trial_ids.push_back(id);
  }
  counts.pending = static_cast<int64_t>(trials.size());
  return created;
}

absl::Status MemorySweepStore::CheckReferences(const StoreMutation& m) const {
  for (const SweepUpdate& s : m.sweeps) {
    if (!sweeps_.contains(s.id))
      return absl::NotFoundError(absl::StrCat("sweep ", s.id, " not found"));
  }
  for (const TrialUpdate& t : m.trials) {
    auto it = trials_.find(t.id);
    if (it == trials_.end()) return TrialNotFound(t.id);
    if (it->second.state != t.expect_state || it->second.attempt != t.expect_attempt) {
      return TrialChangedError(t);
    }
  }
  for (const LeaseGrant& g : m.lease_grants) {
    if (!trials_.contains(g.trial_id)) return TrialNotFound(g.trial_id);
    if (leases_.contains({g.trial_id, g.attempt})) {
      return absl::InternalError(
          absl::StrCat("lease of trial ", g.trial_id, " attempt ", g.attempt, " exists already"));
    }
  }
  auto lease_exists = [&](TrialId id, int attempt) -> absl::Status {
    if (leases_.contains({id, attempt})) return absl::OkStatus();
    return absl::NotFoundError(absl::StrCat("no lease for trial ", id, " attempt ", attempt));
  };
  for (const LeaseEnd& e : m.lease_ends) RETURN_IF_ERROR(lease_exists(e.trial_id, e.attempt));
  for (const LeaseRenewal& r : m.lease_renewals) {
    RETURN_IF_ERROR(lease_exists(r.trial_id, r.attempt));
  }
  for (const LeaseResume& r : m.lease_resumes) RETURN_IF_ERROR(lease_exists(r.trial_id, r.attempt));
  for (const LeaseSnapshot& r : m.lease_snapshots) {
    RETURN_IF_ERROR(lease_exists(r.trial_id, r.attempt));
  }
  for (const CheckpointBatch& b : m.checkpoints) {
    if (!trials_.contains(b.trial_id)) return TrialNotFound(b.trial_id);
    for (const Checkpoint& c : b.checkpoints) RETURN_IF_ERROR(CheckLayerStatsDistinct(c));
  }
  return absl::OkStatus();
}

void MemorySweepStore::SetState(TrialRecord& trial, TrialState state) {
  TrialCounts& counts = counts_[trial.sweep_id];
  AddToCounts(trial.state, -1, counts);
  AddToCounts(state, 1, counts);
  trial.state = state;
}

void MemorySweepStore::StoreCheckpoints(const CheckpointBatch& batch) {
  for (const Checkpoint& c : batch.checkpoints) {
    checkpoints_.try_emplace({batch.trial_id, batch.attempt, c.step}, c);
  }
  // The attempt's checkpoint with the highest step is the last in key order.
  auto last = checkpoints_.lower_bound({batch.trial_id, batch.attempt + 1, INT64_MIN});
  if (last == checkpoints_.begin()) return;
  --last;
  const auto& [trial_id, attempt, step] = last->first;
  if (trial_id != batch.trial_id || attempt != batch.attempt) return;
  TrialRecord& t = trials_.at(batch.trial_id);
  t.steps_done = step;
  t.final_test_error = FinalMetric(last->second.test_error);
  t.final_test_nll = FinalMetric(last->second.test_nll);
  t.final_validation_error = FinalMetric(last->second.validation_error);
}

PendingWrite MemorySweepStore::Submit(StoreMutation m) {
  absl::MutexLock lock(&mu_);
  if (absl::Status s = CheckReferences(m); !s.ok()) return PendingWrite(std::move(s));
  const absl::Time now = Micros(m.now);
  for (const SweepUpdate& s : m.sweeps) {
    SweepRecord& sweep = sweeps_.at(s.id);
    sweep.state = s.state;
    sweep.finished_at =
        s.finished_at.has_value() ? std::optional(Micros(*s.finished_at)) : std::nullopt;
  }
  for (const TrialUpdate& u : m.trials) {
    TrialRecord& t = trials_.at(u.id);
    SetState(t, u.state);
    if (u.attempt != u.expect_attempt) t.compute_path = u.compute_path;
    t.attempt = u.attempt;
    t.attempt_limit = u.attempt_limit;
    t.worker_id = u.worker_id;
    t.reason = u.reason;
    t.rung = u.rung;
    t.updated_at = now;
    if (u.reset_results) {
      t.steps_done = 0;
      t.final_test_error.reset();
      t.final_test_nll.reset();
      t.final_validation_error.reset();
    }
  }
  for (const LeaseEnd& e : m.lease_ends) {
    // Ended leases stay as history.
    LeaseRow& row = leases_.at({e.trial_id, e.attempt});
    row.ended_at = now;
    row.outcome = e.outcome;
  }
  for (const LeaseGrant& g : m.lease_grants) {
    leases_[{g.trial_id, g.attempt}] = {
        .lease = Lease{g.trial_id, g.lease_id, g.attempt, Micros(g.deadline)},
        .worker_id = g.worker_id,
        .acquired_at = now};
  }
  for (const LeaseRenewal& r : m.lease_renewals) {
    leases_.at({r.trial_id, r.attempt}).lease.deadline = Micros(r.deadline);
  }
  for (const LeaseResume& r : m.lease_resumes) {
    leases_.at({r.trial_id, r.attempt}).resumed_from = r.step;
  }
  for (const LeaseSnapshot& r : m.lease_snapshots) {
    LeaseRow& row = leases_.at({r.trial_id, r.attempt});
    ++row.snapshots;
    row.snapshot_step = std::max(row.snapshot_step.value_or(r.step), r.step);
  }
  for (const CheckpointBatch& b : m.checkpoints) {
    StoreCheckpoints(b);
    trials_.at(b.trial_id).updated_at = now;
  }
  for (const WorkerUpdate& w : m.workers) {
    auto it = workers_.find(w.info.worker_id);
    if (it == workers_.end()) {
      if (!w.register_info) continue;
      it =
          workers_.emplace(w.info.worker_id, WorkerRecord{.info = w.info, .first_seen = now}).first;
    }
    WorkerRecord& worker = it->second;
    if (w.register_info) worker.info = w.info;
    if (w.heard) worker.last_seen = now;
    if (w.current == WorkerUpdate::Current::kSet) worker.current_trial = w.current_trial;
    if (w.current == WorkerUpdate::Current::kClear && worker.current_trial == w.current_trial) {
      worker.current_trial.reset();
    }
  }
  return PendingWrite(absl::OkStatus());
}

absl::StatusOr<UnfinishedWork> MemorySweepStore::LoadUnfinished() {
  absl::MutexLock lock(&mu_);
  UnfinishedWork work;
  std::map<SweepId, bool> wanted;
  for (const auto& [id, sweep] : sweeps_) {
    if (!sweep.finished_at.has_value()) wanted[id] = true;
  }
  for (const auto& [id, t] : trials_) {
    if (IsTerminal(t.state)) continue;
    UnfinishedTrial u{.id = id,
                      .sweep_id = t.sweep_id,
                      .index = t.index,
                      .state = t.state,
                      .attempt = t.attempt,
                      .attempt_limit = t.attempt_limit,
                      .worker_id = t.worker_id,
                      .spec = t.spec};
    if (t.state == TrialState::kLeased) {
      auto lease = leases_.find({id, t.attempt});
      if (lease != leases_.end()) u.lease = lease->second.lease;
    }
    work.trials.push_back(std::move(u));
    wanted[t.sweep_id] = true;
  }
  for (const auto& [id, unused] : wanted) work.sweeps.push_back(WithCounts(sweeps_.at(id)));
  return work;
}

SweepRecord MemorySweepStore::WithCounts(const SweepRecord& sweep) const {
  SweepRecord record = sweep;
  auto it = counts_.find(sweep.id);
  if (it != counts_.end()) record.counts = it->second;
  return record;
}

absl::StatusOr<SweepRecord> MemorySweepStore::GetSweep(SweepId id) {
  absl::MutexLock lock(&mu_);
  auto it = sweeps_.find(id);
  if (it == sweeps_.end()) return absl::NotFoundError(absl::StrCat("sweep ", id, " not found"));
  return WithCounts(it->second);
}

absl::StatusOr<std::vector<SweepRecord>> MemorySweepStore::ListSweeps() {
  absl::MutexLock lock(&mu_);
  std::vector<SweepRecord> out;
  for (const auto& [id, sweep] : sweeps_) out.push_back(WithCounts(sweep));
  return out;
}

absl::StatusOr<TrialRecord> MemorySweepStore::GetTrial(TrialId id) {
  absl::MutexLock lock(&mu_);
  auto it = trials_.find(id);
  if (it == trials_.end()) return TrialNotFound(id);
  return it->second;
}

absl::StatusOr<std::vector<TrialRecord>> MemorySweepStore::ListTrials(const TrialQuery& query) {
  ASSIGN_OR_RETURN(ResolvedTrialQuery q, ResolveTrialQuery(query));
  absl::MutexLock lock(&mu_);
  std::vector<TrialRecord> out;
  for (const auto& [id, t] : trials_) {
    const bool match = std::all_of(q.predicates.begin(), q.predicates.end(),
                                   [&](const TrialPredicate& p) { return Satisfies(t, p); });
    if (match) out.push_back(t);
  }
  std::stable_sort(out.begin(), out.end(), [&](const TrialRecord& a, const TrialRecord& b) {
    return TrialOrderLess(a, b, *q.order_by, q.descending);
  });
  const auto offset = static_cast<size_t>(std::min<int64_t>(q.offset, out.size()));
  out.erase(out.begin(), out.begin() + static_cast<std::ptrdiff_t>(offset));
  if (q.limit > 0 && out.size() > static_cast<size_t>(q.limit)) out.resize(q.limit);
  return out;
}

absl::StatusOr<std::vector<Checkpoint>> MemorySweepStore::GetCheckpoints(TrialId trial, int attempt,
                                                                         bool with_layer_stats) {
  absl::MutexLock lock(&mu_);
  if (!trials_.contains(trial)) return TrialNotFound(trial);
  std::vector<Checkpoint> out;
  for (auto it = checkpoints_.lower_bound({trial, attempt, INT64_MIN});
       it != checkpoints_.end() && std::get<0>(it->first) == trial &&
       std::get<1>(it->first) == attempt;
       ++it) {
    Checkpoint c = it->second;
    if (with_layer_stats) {
      std::sort(c.layer_stats.begin(), c.layer_stats.end(),
                [](const LayerStat& a, const LayerStat& b) {
                  return std::pair(a.layer, a.quantity) < std::pair(b.layer, b.quantity);
                });
    } else {
      c.layer_stats.clear();
    }
    out.push_back(std::move(c));
  }
  return out;
}

absl::StatusOr<std::vector<WorkerRecord>> MemorySweepStore::ListWorkers() {
  absl::MutexLock lock(&mu_);
  std::vector<WorkerRecord> out;
  for (const auto& [id, w] : workers_) out.push_back(w);
  return out;
}

std::optional<int64_t> MemorySweepStore::ReachedStep(TrialId trial, int attempt) const {
  auto last = checkpoints_.lower_bound({trial, attempt + 1, INT64_MIN});
  if (last == checkpoints_.begin()) return std::nullopt;
  --last;
  const auto& [trial_id, at, step] = last->first;
  if (trial_id != trial || at != attempt) return std::nullopt;
  return step;
}

absl::StatusOr<std::vector<TrialAttempt>> MemorySweepStore::ListAttempts(TrialId trial) {
  absl::MutexLock lock(&mu_);
  if (!trials_.contains(trial)) return TrialNotFound(trial);
  std::vector<TrialAttempt> out;
  for (auto it = leases_.lower_bound({trial, INT_MIN});
       it != leases_.end() && it->first.first == trial; ++it) {
    const LeaseRow& row = it->second;
    const int attempt = it->first.second;
    TrialAttempt a{.trial_id = trial,
                   .attempt = attempt,
                   .worker_id = row.worker_id,
                   .outcome = row.outcome,
                   .acquired_at = row.acquired_at,
                   .ended_at = row.ended_at,
                   .started_at_step = row.resumed_from.value_or(0),
                   .reached_step = ReachedStep(trial, attempt),
                   .snapshots = row.snapshots,
                   .snapshot_step = row.snapshot_step};
    // As the view: the attempt numbered one less, whether or not it has a lease row.
    if (std::optional<int64_t> before = ReachedStep(trial, attempt - 1)) {
      a.updates_redone = *before - a.started_at_step;
    }
    out.push_back(std::move(a));
  }
  return out;
}

absl::StatusOr<std::vector<ConfigAggregate>> MemorySweepStore::AggregateConfigs(SweepId sweep) {
  absl::MutexLock lock(&mu_);
  if (!sweeps_.contains(sweep)) return SweepNotFound(sweep);
  std::vector<ConfigAggregate> configs;
  for (const auto& [id, t] : trials_) {  // by id: a configuration's first trial comes first
    if (t.sweep_id != sweep) continue;
    const TrialSpec config = ConfigOf(t.spec);
    auto it = std::find_if(configs.begin(), configs.end(),
                           [&](const ConfigAggregate& c) { return c.config == config; });
    if (it == configs.end()) {
      configs.push_back(ConfigAggregate{.config = config, .first_trial = id});
      it = configs.end() - 1;
    }
    AddToCounts(t.state, 1, it->counts);
    if (t.state != TrialState::kSucceeded) continue;
    if (t.final_test_error.has_value()) {
      ++it->n;
      it->sum_test_error += *t.final_test_error;
      it->sum_squares_test_error += *t.final_test_error * *t.final_test_error;
    }
    if (t.final_validation_error.has_value()) {
      ++it->n_validation;
      it->sum_validation_error += *t.final_validation_error;
    }
  }
  return configs;
}

absl::StatusOr<std::vector<StepAggregate>> MemorySweepStore::AggregateCheckpoints(
    SweepId sweep, const TrialSpec& config) {
  absl::MutexLock lock(&mu_);
  if (!sweeps_.contains(sweep)) return SweepNotFound(sweep);
  const TrialSpec wanted = ConfigOf(config);
  std::map<int64_t, StepAggregate> steps;
  for (const auto& [id, t] : trials_) {
    if (t.sweep_id != sweep || ConfigOf(t.spec) != wanted) continue;
    for (auto it = checkpoints_.lower_bound({id, t.attempt, INT64_MIN});
         it != checkpoints_.end() && std::get<0>(it->first) == id &&
         std::get<1>(it->first) == t.attempt;
         ++it) {
      const Checkpoint& c = it->second;
      StepAggregate& a = steps[c.step];
      a.step = c.step;
      if (!std::isnan(c.test_error)) {
        ++a.n_test;
        a.sum_test_error += c.test_error;
        a.sum_squares_test_error += c.test_error * c.test_error;
      }
      if (!std::isnan(c.validation_error)) {
        ++a.n_validation;
        a.sum_validation_error += c.validation_error;
        a.sum_squares_validation_error += c.validation_error * c.validation_error;
      }
    }
  }
  std::vector<StepAggregate> out;
  for (auto& [step, a] : steps) out.push_back(a);
  return out;
}

absl::StatusOr<std::vector<absl::Time>> MemorySweepStore::RecentFinishTimes(SweepId sweep,
                                                                            int limit) {
  absl::MutexLock lock(&mu_);
  if (!sweeps_.contains(sweep)) return SweepNotFound(sweep);
  std::vector<absl::Time> times;
  for (const auto& [id, t] : trials_) {
    if (t.sweep_id == sweep &&
        (t.state == TrialState::kSucceeded || t.state == TrialState::kDiverged ||
         t.state == TrialState::kFailed || t.state == TrialState::kPruned)) {
      times.push_back(t.updated_at);
    }
  }
  std::sort(times.begin(), times.end(), std::greater<>());
  if (limit >= 0 && times.size() > static_cast<size_t>(limit)) times.resize(limit);
  return times;
}

}  // namespace deepsweep
