#include "worker/worker_loop.h"

#include <algorithm>
#include <atomic>
#include <deque>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "spdlog/spdlog.h"

namespace deepsweep::worker {

ErrorClass ClassifyError(absl::StatusCode code) {
  // Every code is listed, so a new one fails to compile (-Wswitch) rather
  // than fall into a default.
  switch (code) {
    case absl::StatusCode::kOk:
    case absl::StatusCode::kUnavailable:
    case absl::StatusCode::kDeadlineExceeded:
    case absl::StatusCode::kCancelled:
      return ErrorClass::kTransient;
    case absl::StatusCode::kInternal:
    case absl::StatusCode::kUnknown:
    case absl::StatusCode::kDataLoss:
    case absl::StatusCode::kResourceExhausted:
    case absl::StatusCode::kFailedPrecondition:
      return ErrorClass::kServerFault;
    case absl::StatusCode::kAborted:
    case absl::StatusCode::kNotFound:
      return ErrorClass::kLeaseLost;
    case absl::StatusCode::kInvalidArgument:
    case absl::StatusCode::kOutOfRange:
    case absl::StatusCode::kAlreadyExists:
      return ErrorClass::kRejected;
    case absl::StatusCode::kUnauthenticated:
    case absl::StatusCode::kPermissionDenied:
    case absl::StatusCode::kUnimplemented:
      return ErrorClass::kFatal;
    case absl::StatusCode::kDoNotUseReservedForFutureExpansionUseDefaultInSwitchInstead_:
      break;
  }
  return ErrorClass::kServerFault;
}

bool IsLeaseLost(const absl::Status& status) {
  return ClassifyError(status.code()) == ErrorClass::kLeaseLost;
}

// The state of one leased trial, shared by the training thread (through the
// trainer's observer), the heartbeat thread and Shutdown().
class WorkerLoop::TrialSession {
 public:
  // Why the trial stops early; the first reason given wins.
  enum class Ending {
    kNone,
    kCancelled,
    kLeaseLost,
    kShutdown,
    kRejected,
    kStopped,
    kGaveUp,
    kFatal
  };

  TrialSession(TrialId trial_id, std::string lease_id)
      : trial_id(trial_id), lease_id(std::move(lease_id)) {}

  const TrialId trial_id;
  const std::string lease_id;
  // Read by the trainer before every update.
  std::atomic<bool> stop{false};
  // Fired when the trial is over; ends the heartbeat thread.
  WakeSignal done;
  // Held across a whole report send: one send in flight at a time, so a
  // checkpoint is never sent again once acknowledged.
  absl::Mutex send_mu;

  void End(Ending why, std::string reason = "") {
    absl::MutexLock lock(&mu_);
    EndLocked(why, std::move(reason));
  }
  // Ends the session because this worker cannot go on (ErrorClass::kFatal).
  void EndFatal(const absl::Status& status) {
    absl::MutexLock lock(&mu_);
    if (ending_ == Ending::kNone) fatal_code_ = status.code();
    EndLocked(Ending::kFatal, status.ToString());
  }
  absl::StatusCode fatal_code() const {
    absl::MutexLock lock(&mu_);
    return fatal_code_;
  }
  // A call succeeded: a run of server faults is over.
  void NoteSuccess() {
    absl::MutexLock lock(&mu_);
    fault_since_.reset();
  }
  // A call failed with a server fault at `now`. Once faults have gone on
  // without a success for `budget`, ends the session (kGaveUp) and returns
  // true: the caller stops retrying.
  bool NoteServerFault(absl::Time now, absl::Duration budget, const absl::Status& status) {
    absl::MutexLock lock(&mu_);
    if (!fault_since_.has_value()) fault_since_ = now;
    if (now - *fault_since_ < budget) return false;
    EndLocked(Ending::kGaveUp, absl::StrCat("the coordinator kept failing for ",
                                            absl::FormatDuration(now - *fault_since_),
                                            "; last: ", status.ToString()));
    return true;
  }
  Ending ending() const {
    absl::MutexLock lock(&mu_);
    return ending_;
  }
  std::string reason() const {
    absl::MutexLock lock(&mu_);
    return reason_;
  }

  void Enqueue(Checkpoint checkpoint) {
    absl::MutexLock lock(&mu_);
    outbox_.push_back(std::move(checkpoint));
  }
  // Copies of the oldest `max` unacknowledged checkpoints.
  std::vector<Checkpoint> Oldest(int max) const {
    absl::MutexLock lock(&mu_);
    const size_t n = std::min(outbox_.size(), static_cast<size_t>(std::max(1, max)));
    return std::vector<Checkpoint>(outbox_.begin(), outbox_.begin() + static_cast<ptrdiff_t>(n));
  }
  void Acknowledge(size_t n) {
    absl::MutexLock lock(&mu_);
    outbox_.erase(outbox_.begin(), outbox_.begin() + static_cast<ptrdiff_t>(n));
  }
  bool HasUnsent() const {
    absl::MutexLock lock(&mu_);
    return !outbox_.empty();
  }
  // True while the last send failed and left checkpoints in the outbox.
  std::atomic<bool> held_back{false};

  // The heartbeat period, from the lease's latest time to live.
  void SetHeartbeatPeriod(absl::Duration period) {
    absl::MutexLock lock(&mu_);
    heartbeat_period_ = period;
  }
  absl::Duration heartbeat_period() const {
    absl::MutexLock lock(&mu_);
    return heartbeat_period_;
  }

 private:
  mutable absl::Mutex mu_;
  std::deque<Checkpoint> outbox_ ABSL_GUARDED_BY(mu_);
  Ending ending_ ABSL_GUARDED_BY(mu_) = Ending::kNone;
  std::string reason_ ABSL_GUARDED_BY(mu_);
  absl::Duration heartbeat_period_ ABSL_GUARDED_BY(mu_);
  absl::StatusCode fatal_code_ ABSL_GUARDED_BY(mu_) = absl::StatusCode::kOk;
  // When the current run of server faults began; empty when none is going on.
  std::optional<absl::Time> fault_since_ ABSL_GUARDED_BY(mu_);

  void EndLocked(Ending why, std::string reason) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    if (ending_ == Ending::kNone) {
      ending_ = why;
      reason_ = std::move(reason);
    }
    stop.store(true);
  }
};

WorkerLoop::WorkerLoop(rpc::CoordinatorClient* client, const TrialRunner* runner,
                       const Clock* clock, Sleeper* sleeper, WorkerLoopOptions options)
    : client_(client),
      runner_(runner),
      clock_(clock),
      sleeper_(sleeper),
      options_(std::move(options)) {}

WorkerLoop::~WorkerLoop() = default;

WorkerStats WorkerLoop::stats() const {
  absl::MutexLock lock(&mu_);
  return stats_;
}

void WorkerLoop::Count(int64_t WorkerStats::*counter, int64_t n) {
  absl::MutexLock lock(&mu_);
  stats_.*counter += n;
}

void WorkerLoop::Shutdown() {
  shutdown_.Notify();
  absl::MutexLock lock(&mu_);
  if (current_ != nullptr) current_->End(TrialSession::Ending::kShutdown);
}

absl::Status WorkerLoop::Run() {
  Backoff backoff(options_.backoff);
  int64_t taken = 0;
  while (!shutdown_.HasBeenNotified() &&
         (options_.max_trials == 0 || taken < options_.max_trials)) {
    absl::StatusOr<Acquisition> acquired = client_->AcquireTrial(options_.identity);
    if (!acquired.ok()) {
      // No trial is held: waiting costs nothing, so every fault but a wrong
      // request or credential is retried without limit.
      const ErrorClass error = ClassifyError(acquired.status().code());
      if (error == ErrorClass::kFatal || error == ErrorClass::kRejected) return acquired.status();
      Count(&WorkerStats::transient_errors);
      const absl::Duration wait = backoff.NextDelay();
      if (error == ErrorClass::kServerFault) {
        spdlog::error("coordinator fault: {}; retrying in {}", acquired.status().ToString(),
                      absl::FormatDuration(wait));
      } else {
        spdlog::warn("coordinator: {}; retrying in {}", acquired.status().ToString(),
                     absl::FormatDuration(wait));
      }
      sleeper_->SleepFor(wait, shutdown_);
      continue;
    }
    if (backoff.failures() > 0) spdlog::info("coordinator reachable again");
    backoff.Reset();
    if (!acquired->trial.has_value() || !acquired->lease.has_value()) {
      sleeper_->SleepFor(
          std::clamp(acquired->retry_after, options_.min_idle_wait, options_.max_idle_wait),
          shutdown_);
      continue;
    }
    ++taken;
    Count(&WorkerStats::trials_taken);
    absl::Status fatal = RunLeasedTrial(*acquired->trial, *acquired->lease, backoff);
    if (!fatal.ok()) return fatal;
  }
  return absl::OkStatus();
}

absl::Duration WorkerLoop::HeartbeatPeriod(absl::Duration ttl) const {
  return std::clamp(ttl / 3, options_.min_heartbeat, options_.max_heartbeat);
}

absl::Status WorkerLoop::RunLeasedTrial(const TrialRecord& trial, const Lease& lease,
                                        Backoff& backoff) {
  using Ending = TrialSession::Ending;
  TrialSession session(trial.id, lease.lease_id);
  session.SetHeartbeatPeriod(HeartbeatPeriod(lease.ttl));
  {
    absl::MutexLock lock(&mu_);
    current_ = &session;
  }
  // Shutdown() may have come between the acquisition and now.
  if (shutdown_.HasBeenNotified()) session.End(Ending::kShutdown);
  spdlog::info("trial {} (attempt {}): {} {} depth {} width {} seed {}", trial.id, lease.attempt,
               trial.spec.activation, trial.spec.init, trial.spec.depth, trial.spec.width,
               trial.spec.seed);

  std::thread heartbeat([this, &session] { KeepLease(session); });
  TrialSnapshotHooks snapshots;
  if (!session.stop.load()) PrepareResume(trial, lease, snapshots);
  snapshots.on_snapshot = [&](int64_t step, std::string bytes) {
    UploadSnapshot(session, step, bytes, backoff);
  };
  absl::StatusOr<TrialRun> run;
  if (!session.stop.load()) {
    run = runner_->RunTrial(
        trial.spec,
        [this, &session](const Checkpoint& checkpoint) {
          session.Enqueue(checkpoint);
          SendReports(session);
          return session.stop.load();
        },
        &session.stop, &snapshots);
    if (run.ok() && !run->resume_error.empty()) {
      spdlog::warn("trial {}: its snapshot was not used ({}); trained from update 0", trial.id,
                   run->resume_error);
    } else if (run.ok() && run->resumed_from > 0) {
      Count(&WorkerStats::trials_resumed);
      spdlog::info("trial {} resumed from update {}", trial.id, run->resumed_from);
    }
  } else {
    run = TrialRun{.status = ml::TrainStatus::kStopped, .reason = "shutdown before start"};
  }

  auto call = [&](const std::function<absl::Status()>& f) {
    return CallWithRetry(session, f, backoff);
  };
  // Set once the coordinator has the trial's ending; a Shutdown() after that
  // has nothing left to release.
  bool settled = false;
  if (session.ending() == Ending::kNone && !run.ok()) {
    const bool retryable = run.status().code() != absl::StatusCode::kInvalidArgument;
    const absl::Status failed = call([&] {
      return client_->FailTrial(trial.id, lease.lease_id, run.status().ToString(), retryable);
    });
    if (failed.ok()) {
      settled = true;
      Count(&WorkerStats::trials_failed);
      spdlog::warn("trial {} failed ({}): {}", trial.id, retryable ? "retryable" : "final",
                   run.status().ToString());
    } else if (IsLeaseLost(failed)) {
      session.End(Ending::kLeaseLost);
    } else {
      spdlog::error("trial {}: could not report its failure: {}", trial.id, failed.ToString());
    }
  } else if (session.ending() == Ending::kNone && run->status != ml::TrainStatus::kStopped) {
    if (SendAllReports(session, backoff)) {
      const TrialOutcome outcome{.state = run->status == ml::TrainStatus::kDiverged
                                              ? TrialState::kDiverged
                                              : TrialState::kSucceeded,
                                 .reason = run->reason};
      const absl::Status completed =
          call([&] { return client_->CompleteTrial(trial.id, lease.lease_id, outcome); });
      if (completed.ok()) {
        settled = true;
        Count(&WorkerStats::trials_completed);
        spdlog::info("trial {} {} after {} updates", trial.id, TrialStateName(outcome.state),
                     run->steps);
      } else if (IsLeaseLost(completed)) {
        session.End(Ending::kLeaseLost);
      } else {
        spdlog::error("trial {}: could not complete: {}", trial.id, completed.ToString());
      }
    }
  }

  absl::Status fatal;
  switch (settled ? Ending::kNone : session.ending()) {
    case Ending::kNone:
      break;
    case Ending::kGaveUp:
    case Ending::kFatal:
    case Ending::kCancelled:
    case Ending::kShutdown: {
      // One try when giving up or shutting down (the coordinator is failing,
      // or the process must exit promptly; an unreleased lease still
      // expires), retries otherwise. A release costs the trial no attempt.
      const Ending ending = session.ending();
      if (ending == Ending::kGaveUp) {
        Count(&WorkerStats::trials_abandoned);
        spdlog::error("trial {}: giving it up: {}", trial.id, session.reason());
      } else if (ending == Ending::kFatal) {
        fatal = absl::Status(session.fatal_code(), session.reason());
        spdlog::error("trial {}: stopping: {}", trial.id, session.reason());
      }
      const auto release = [&] { return client_->ReleaseTrial(trial.id, lease.lease_id); };
      const absl::Status released = ending == Ending::kCancelled ? call(release) : release();
      if (released.ok()) {
        Count(&WorkerStats::trials_released);
        spdlog::info("trial {} released ({})", trial.id,
                     ending == Ending::kShutdown    ? "shutting down"
                     : ending == Ending::kCancelled ? "sweep cancelled"
                                                    : "giving up");
      } else if (IsLeaseLost(released)) {
        Count(&WorkerStats::trials_dropped);
      } else {
        spdlog::warn("trial {}: release failed ({}); its lease will expire", trial.id,
                     released.ToString());
      }
      break;
    }
    case Ending::kLeaseLost:
      Count(&WorkerStats::trials_dropped);
      spdlog::warn("trial {}: lease lost; dropped", trial.id);
      break;
    case Ending::kStopped:
      // The coordinator already ended the trial and its lease.
      Count(&WorkerStats::trials_stopped);
      spdlog::info("trial {} stopped by its sweep's schedule ({})", trial.id, session.reason());
      break;
    case Ending::kRejected: {
      const absl::Status failed = call([&] {
        return client_->FailTrial(trial.id, lease.lease_id, session.reason(), /*retryable=*/false);
      });
      if (failed.ok()) Count(&WorkerStats::trials_failed);
      spdlog::error("trial {} failed: {}", trial.id, session.reason());
      break;
    }
  }

  session.done.Notify();
  heartbeat.join();
  absl::MutexLock lock(&mu_);
  current_ = nullptr;
  return fatal;
}

void WorkerLoop::PrepareResume(const TrialRecord& trial, const Lease& lease,
                               TrialSnapshotHooks& hooks) {
  absl::StatusOr<std::optional<rpc::DownloadedSnapshot>> got =
      client_->DownloadSnapshot(trial.id, lease.lease_id, std::nullopt);
  if (!got.ok()) {
    spdlog::warn("trial {}: cannot fetch its snapshot ({}); training from update 0", trial.id,
                 got.status().ToString());
    return;
  }
  if (!got->has_value()) return;
  // The coordinator has carried the snapshot attempt's checkpoints up to its
  // step into this attempt (core/snapshots.h): training goes on from there.
  hooks.resume_from = std::move((**got).bytes);
}

void WorkerLoop::UploadSnapshot(TrialSession& session, int64_t step, std::string_view bytes,
                                Backoff& backoff) {
  using Ending = TrialSession::Ending;
  // Wanted while the trial goes on, and on shutdown (the next worker resumes
  // from it); not once it was lost, stopped, given up or refused.
  const auto unwanted = [&] {
    const Ending e = session.ending();
    return e != Ending::kNone && e != Ending::kShutdown;
  };
  // The checkpoints up to `step` first: a stored snapshot never runs ahead of
  // its attempt's stored series.
  while (!unwanted() && session.HasUnsent()) {
    if (!SendReports(session) && sleeper_->SleepFor(backoff.NextDelay(), shutdown_)) break;
  }
  if (unwanted() || session.HasUnsent()) {
    Count(&WorkerStats::snapshot_errors);
    spdlog::warn("trial {}: snapshot at update {} not sent (checkpoints unsent or trial ended)",
                 session.trial_id, step);
    return;
  }
  const absl::Status uploaded =
      client_->UploadSnapshot(session.trial_id, session.lease_id, step, bytes);
  if (uploaded.ok()) {
    Count(&WorkerStats::snapshots_sent);
    spdlog::debug("trial {}: snapshot at update {} stored ({} bytes)", session.trial_id, step,
                  bytes.size());
  } else {
    Count(&WorkerStats::snapshot_errors);
    if (IsLeaseLost(uploaded)) session.End(Ending::kLeaseLost);
    spdlog::warn("trial {}: snapshot at update {} not stored: {}", session.trial_id, step,
                 uploaded.ToString());
  }
}

void WorkerLoop::KeepLease(TrialSession& session) {
  using Ending = TrialSession::Ending;
  while (!sleeper_->SleepFor(session.heartbeat_period(), session.done)) {
    if (session.ending() != Ending::kNone) return;
    // Checkpoints an outage held back go now rather than at the next
    // checkpoint, which may be minutes away.
    if (session.held_back.load()) SendReports(session);
    Count(&WorkerStats::renewals);
    absl::StatusOr<RenewResult> renewed = client_->RenewLease(session.trial_id, session.lease_id);
    if (renewed.ok()) {
      session.NoteSuccess();
      session.SetHeartbeatPeriod(HeartbeatPeriod(renewed->ttl));
      if (renewed->stopped.has_value()) {
        session.End(Ending::kStopped, renewed->stop_reason);
      } else if (renewed->cancelled) {
        session.End(Ending::kCancelled);
      }
    } else if (OnFailure(session, renewed.status(), /*rejected_is_fault=*/true)) {
      spdlog::warn("trial {}: lease renewal failed: {}", session.trial_id,
                   renewed.status().ToString());
    }
  }
}

bool WorkerLoop::SendReports(TrialSession& session) {
  using Ending = TrialSession::Ending;
  absl::MutexLock sending(&session.send_mu);
  const Ending ended = session.ending();
  if (ended != Ending::kNone && ended != Ending::kCancelled && ended != Ending::kShutdown) {
    return true;  // nothing more is sent for this trial
  }
  const std::vector<Checkpoint> batch = session.Oldest(options_.max_checkpoints_per_report);
  if (batch.empty()) return true;
  Count(&WorkerStats::report_calls);
  absl::StatusOr<RenewResult> reported =
      client_->ReportCheckpoints(session.trial_id, session.lease_id, batch);
  if (reported.ok()) {
    session.held_back.store(false);
    session.NoteSuccess();
    session.SetHeartbeatPeriod(HeartbeatPeriod(reported->ttl));
    session.Acknowledge(batch.size());
    Count(&WorkerStats::checkpoints_sent, static_cast<int64_t>(batch.size()));
    if (reported->stopped.has_value()) {
      session.End(Ending::kStopped, absl::StrCat(std::string(TrialStateName(*reported->stopped)),
                                                 ": ", reported->stop_reason));
    } else if (reported->cancelled) {
      session.End(Ending::kCancelled);
    }
    return true;
  }
  const absl::Status& status = reported.status();
  const bool retry = OnFailure(session, status, /*rejected_is_fault=*/false);
  session.held_back.store(retry);
  if (retry) {
    spdlog::warn("trial {}: report of {} checkpoints failed ({}); kept for the next send",
                 session.trial_id, batch.size(), status.ToString());
    return false;
  }
  if (ClassifyError(status.code()) == ErrorClass::kRejected) {
    session.End(Ending::kRejected,
                absl::StrCat("coordinator rejected the checkpoints: ", status.ToString()));
  }
  return true;
}

bool WorkerLoop::OnFailure(TrialSession& session, const absl::Status& status,
                           bool rejected_is_fault) {
  using Ending = TrialSession::Ending;
  ErrorClass error = ClassifyError(status.code());
  if (error == ErrorClass::kRejected && rejected_is_fault) error = ErrorClass::kServerFault;
  switch (error) {
    case ErrorClass::kTransient:
      Count(&WorkerStats::transient_errors);
      return true;
    case ErrorClass::kServerFault:
      Count(&WorkerStats::transient_errors);
      return !session.NoteServerFault(clock_->Now(), options_.server_fault_budget, status);
    case ErrorClass::kLeaseLost:
      session.End(Ending::kLeaseLost);
      return false;
    case ErrorClass::kRejected:
      return false;
    case ErrorClass::kFatal:
      session.EndFatal(status);
      return false;
  }
  return false;
}

bool WorkerLoop::SendAllReports(TrialSession& session, Backoff& backoff) {
  while (session.ending() == TrialSession::Ending::kNone && session.HasUnsent()) {
    if (SendReports(session)) {
      backoff.Reset();
    } else if (sleeper_->SleepFor(backoff.NextDelay(), shutdown_)) {
      session.End(TrialSession::Ending::kShutdown);
    }
  }
  return session.ending() == TrialSession::Ending::kNone;
}

absl::Status WorkerLoop::CallWithRetry(TrialSession& session,
                                       const std::function<absl::Status()>& call,
                                       Backoff& backoff) {
  while (true) {
    absl::Status status = call();
    if (status.ok()) {
      session.NoteSuccess();
      backoff.Reset();
      return status;
    }
    if (!OnFailure(session, status, /*rejected_is_fault=*/false) || shutdown_.HasBeenNotified()) {
      return status;
    }
    const absl::Duration wait = backoff.NextDelay();
    spdlog::warn("coordinator: {}; retrying in {}", status.ToString(), absl::FormatDuration(wait));
    if (sleeper_->SleepFor(wait, shutdown_)) return status;
  }
}

}  // namespace deepsweep::worker
