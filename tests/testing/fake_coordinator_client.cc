#include "tests/testing/fake_coordinator_client.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"

namespace deepsweep::testing {
namespace {

absl::Status Unimplemented() {
  return absl::UnimplementedError("FakeCoordinatorClient implements only the worker calls");
}

}  // namespace

FakeCoordinatorClient::FakeCoordinatorClient(const Clock* clock, absl::Duration lease_ttl)
    : clock_(clock), lease_ttl_(lease_ttl) {}

TrialId FakeCoordinatorClient::AddTrial(const TrialSpec& spec) {
  absl::MutexLock lock(&mu_);
  const TrialId id = static_cast<TrialId>(trials_.size()) + 1;
  trials_[id].spec = spec;
  pending_.push_back(id);
  return id;
}

void FakeCoordinatorClient::FailCalls(Method method, int skip, int count, absl::Status status) {
  absl::MutexLock lock(&mu_);
  scripts_[method].push_back({calls_[method] + skip, count, std::move(status)});
}

void FakeCoordinatorClient::CancelAll() {
  absl::MutexLock lock(&mu_);
  cancelled_ = true;
}

void FakeCoordinatorClient::PruneAll() {
  absl::MutexLock lock(&mu_);
  pruned_ = true;
}

void FakeCoordinatorClient::RevokeLease(TrialId id) {
  absl::MutexLock lock(&mu_);
  trials_[id].lease_id.clear();
}

void FakeCoordinatorClient::SetRetryAfter(absl::Duration d) {
  absl::MutexLock lock(&mu_);
  retry_after_ = d;
}

void FakeCoordinatorClient::SetClockSkew(absl::Duration skew) {
  absl::MutexLock lock(&mu_);
  skew_ = skew;
}

void FakeCoordinatorClient::SetLeaseTtl(absl::Duration ttl) {
  absl::MutexLock lock(&mu_);
  lease_ttl_ = ttl;
}

FakeCoordinatorClient::TrialLog FakeCoordinatorClient::trial(TrialId id) const {
  absl::MutexLock lock(&mu_);
  auto it = trials_.find(id);
  return it == trials_.end() ? TrialLog{} : it->second;
}

std::vector<WorkerInfo> FakeCoordinatorClient::acquisitions() const {
  absl::MutexLock lock(&mu_);
  return acquisitions_;
}

int FakeCoordinatorClient::calls(Method method) const {
  absl::MutexLock lock(&mu_);
  auto it = calls_.find(method);
  return it == calls_.end() ? 0 : it->second;
}

void FakeCoordinatorClient::AwaitCalls(Method method, int n) const {
  absl::MutexLock lock(&mu_);
  auto enough = [this, method, n]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    auto it = calls_.find(method);
    return it != calls_.end() && it->second >= n;
  };
  mu_.Await(absl::Condition(&enough));
}

void FakeCoordinatorClient::AwaitDelivered(TrialId id, int n) const {
  absl::MutexLock lock(&mu_);
  auto enough = [this, id, n]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    auto it = trials_.find(id);
    return it != trials_.end() && static_cast<int>(it->second.delivered_steps.size()) >= n;
  };
  mu_.Await(absl::Condition(&enough));
}

absl::Status FakeCoordinatorClient::ScriptedLocked(Method method) {
  const int call = ++calls_[method];  // 1-based number of this call
  for (const Script& s : scripts_[method]) {
    if (call > s.skip && (s.count < 0 || call <= s.skip + s.count)) return s.status;
  }
  return absl::OkStatus();
}

absl::StatusOr<FakeCoordinatorClient::TrialLog*> FakeCoordinatorClient::LeasedLocked(
    TrialId id, std::string_view lease_id) {
  auto it = trials_.find(id);
  if (it == trials_.end()) return absl::NotFoundError(absl::StrCat("no trial ", id));
  if (it->second.lease_id.empty() || it->second.lease_id != lease_id) {
    return absl::AbortedError(
        absl::StrCat("lease ", std::string(lease_id), " of trial ", id, " is not current"));
  }
  return &it->second;
}

absl::StatusOr<Acquisition> FakeCoordinatorClient::AcquireTrial(const WorkerInfo& worker) {
  absl::MutexLock lock(&mu_);
  if (absl::Status s = ScriptedLocked(Method::kAcquire); !s.ok()) return s;
  acquisitions_.push_back(worker);
  Acquisition a;
  if (pending_.empty() || cancelled_) {
    a.retry_after = retry_after_;
    return a;
  }
  const TrialId id = pending_.front();
  pending_.erase(pending_.begin());
  TrialLog& t = trials_[id];
  t.lease_id = absl::StrCat("lease-", next_lease_++);
  t.attempt += 1;
  t.worker_id = worker.worker_id;
  TrialRecord record;
  record.id = id;
  record.spec = t.spec;
  record.state = TrialState::kLeased;
  record.attempt = t.attempt;
  record.worker_id = worker.worker_id;
  a.trial = record;
  a.lease = Lease{.trial_id = id,
                  .lease_id = t.lease_id,
                  .attempt = t.attempt,
                  .deadline = clock_->Now() + skew_ + lease_ttl_,
                  .ttl = lease_ttl_};
  return a;
}

absl::StatusOr<RenewResult> FakeCoordinatorClient::RenewLease(TrialId trial,
                                                              std::string_view lease_id) {
  absl::MutexLock lock(&mu_);
  if (absl::Status s = ScriptedLocked(Method::kRenew); !s.ok()) return s;
  absl::StatusOr<TrialLog*> t = LeasedLocked(trial, lease_id);
  if (!t.ok()) return t.status();
  ++(*t)->renewals;
  RenewResult result{
      .deadline = clock_->Now() + skew_ + lease_ttl_, .ttl = lease_ttl_, .cancelled = cancelled_};
  if (pruned_) {
    result.stopped = TrialState::kPruned;
    result.stop_reason = "asha rung 0";
  }
  return result;
}

absl::StatusOr<RenewResult> FakeCoordinatorClient::ReportCheckpoints(
    TrialId trial, std::string_view lease_id, absl::Span<const Checkpoint> checkpoints) {
  absl::MutexLock lock(&mu_);
  if (absl::Status s = ScriptedLocked(Method::kReport); !s.ok()) return s;
  absl::StatusOr<TrialLog*> t = LeasedLocked(trial, lease_id);
  if (!t.ok()) return t.status();
  for (const Checkpoint& c : checkpoints) {
    (*t)->delivered_steps.push_back(c.step);
    (*t)->delivered.push_back(c);
  }
  RenewResult result{
      .deadline = clock_->Now() + skew_ + lease_ttl_, .ttl = lease_ttl_, .cancelled = cancelled_};
  if (pruned_) {
    result.stopped = TrialState::kPruned;
    result.stop_reason = "asha rung 0";
  }
  return result;
}

absl::Status FakeCoordinatorClient::CompleteTrial(TrialId trial, std::string_view lease_id,
                                                  const TrialOutcome& outcome) {
  absl::MutexLock lock(&mu_);
  if (absl::Status s = ScriptedLocked(Method::kComplete); !s.ok()) return s;
  absl::StatusOr<TrialLog*> t = LeasedLocked(trial, lease_id);
  if (!t.ok()) return t.status();
  (*t)->completed = outcome;
  (*t)->lease_id.clear();
  return absl::OkStatus();
}

absl::Status FakeCoordinatorClient::FailTrial(TrialId trial, std::string_view lease_id,
                                              std::string_view reason, bool retryable) {
  absl::MutexLock lock(&mu_);
  if (absl::Status s = ScriptedLocked(Method::kFail); !s.ok()) return s;
  absl::StatusOr<TrialLog*> t = LeasedLocked(trial, lease_id);
  if (!t.ok()) return t.status();
  (*t)->failed_reason = std::string(reason);
  (*t)->failed_retryable = retryable;
  (*t)->lease_id.clear();
  return absl::OkStatus();
}

absl::Status FakeCoordinatorClient::ReleaseTrial(TrialId trial, std::string_view lease_id) {
  absl::MutexLock lock(&mu_);
  if (absl::Status s = ScriptedLocked(Method::kRelease); !s.ok()) return s;
  absl::StatusOr<TrialLog*> t = LeasedLocked(trial, lease_id);
  if (!t.ok()) return t.status();
  ++(*t)->releases;
  (*t)->lease_id.clear();
  if (!cancelled_) pending_.insert(pending_.begin(), trial);
  return absl::OkStatus();
}

absl::StatusOr<SubmittedSweep> FakeCoordinatorClient::SubmitSweep(std::string_view,
                                                                  const SubmitSweepOptions&) {
  return Unimplemented();
}
absl::StatusOr<SweepPlan> FakeCoordinatorClient::PlanSweep(std::string_view) {
  return Unimplemented();
}
absl::StatusOr<SweepRecord> FakeCoordinatorClient::GetSweep(SweepId) { return Unimplemented(); }
absl::StatusOr<std::vector<SweepRecord>> FakeCoordinatorClient::ListSweeps() {
  return Unimplemented();
}
absl::Status FakeCoordinatorClient::CancelSweep(SweepId) { return Unimplemented(); }
absl::StatusOr<int64_t> FakeCoordinatorClient::RetryTrials(SweepId, absl::Span<const TrialState>) {
  return Unimplemented();
}
absl::StatusOr<std::vector<TrialRecord>> FakeCoordinatorClient::ListTrials(const TrialQuery&) {
  return Unimplemented();
}
absl::StatusOr<TrialRecord> FakeCoordinatorClient::GetTrial(TrialId) { return Unimplemented(); }
absl::StatusOr<std::vector<Checkpoint>> FakeCoordinatorClient::GetCheckpoints(TrialId,
                                                                              std::optional<int>,
                                                                              bool) {
  return Unimplemented();
}
absl::StatusOr<std::vector<WorkerRecord>> FakeCoordinatorClient::ListWorkers() {
  return Unimplemented();
}
absl::StatusOr<std::vector<TrialAttempt>> FakeCoordinatorClient::ListAttempts(TrialId) {
  return Unimplemented();
}
absl::Status FakeCoordinatorClient::UploadSnapshot(TrialId trial, std::string_view lease_id,
                                                   int64_t step, std::string_view bytes) {
  absl::MutexLock lock(&mu_);
  absl::StatusOr<TrialLog*> t = LeasedLocked(trial, lease_id);
  if (!t.ok()) return t.status();
  (*t)->snapshots[step] =
      rpc::DownloadedSnapshot{.step = step, .attempt = (*t)->attempt, .bytes = std::string(bytes)};
  return absl::OkStatus();
}

absl::StatusOr<std::optional<rpc::DownloadedSnapshot>> FakeCoordinatorClient::DownloadSnapshot(
    TrialId trial, std::string_view lease_id, std::optional<int64_t> step) {
  absl::MutexLock lock(&mu_);
  absl::StatusOr<TrialLog*> t = LeasedLocked(trial, lease_id);
  if (!t.ok()) return t.status();
  const auto& snapshots = (*t)->snapshots;
  if (snapshots.empty()) return std::nullopt;
  auto it = step.has_value() ? snapshots.find(*step) : std::prev(snapshots.end());
  if (it == snapshots.end()) return std::nullopt;
  return it->second;
}

absl::StatusOr<rpc::DownloadedSnapshot> FakeCoordinatorClient::DownloadWeights(TrialId) {
  return Unimplemented();
}

absl::Status FakeCoordinatorClient::WatchSweep(
    SweepId, const std::function<bool(const rpc::SweepProgress&)>&) {
  return Unimplemented();
}

}  // namespace deepsweep::testing
