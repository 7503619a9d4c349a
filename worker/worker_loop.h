// WorkerLoop: a worker's life: acquire a trial, train it while keeping its
// lease alive and streaming its checkpoints, complete it, repeat.
//
// Per trial (see ARCHITECTURE.md, "Trial lifecycle"):
//  - AcquireTrial with this worker's identity; when nothing is pending, wait
//    what the coordinator says (capped) and ask again.
//  - Train through the TrialRunner. Each checkpoint goes to an outbox and the
//    outbox is sent at once (ReportCheckpoints, up to
//    max_checkpoints_per_report per call). A report that fails for a transient
//    reason stays in the outbox and goes with the next send; checkpoints leave
//    the outbox only once acknowledged, and only one send is in flight at a
//    time, so each checkpoint is acknowledged once (the coordinator also
//    ignores repeats, keyed by trial, attempt and step).
//  - A heartbeat thread renews the lease every third of its time to live, and
//    first resends checkpoints a failed report held back, rather than leave
//    them for the next checkpoint. The time to live is the duration the
//    coordinator sent with the lease and with its latest renewal (Lease::ttl,
//    RenewResult::ttl), never its absolute deadline read against this
//    machine's clock: the two clocks may disagree by hours.
//  - When a renewal or report says the sweep was cancelled, training stops
//    before its next update and the trial is released (the coordinator then
//    marks it cancelled). When the lease is no longer ours (ABORTED or
//    NOT_FOUND), training stops and the trial is dropped without another call.
//    When a report or renewal says the sweep's schedule stopped the trial
//    (PRUNED by ASHA or the median rule, DIVERGED by the stuck rule), the
//    coordinator has already ended it: training stops, nothing more is sent.
//  - At the end: the outbox is sent (retrying with backoff), then
//    CompleteTrial with SUCCEEDED or DIVERGED. A trial the runner cannot run
//    is failed with its reason: not retryable for INVALID_ARGUMENT (a bad
//    spec fails everywhere), retryable otherwise (e.g. a dataset missing on
//    this machine).
//  - Failed calls are handled by the class of their code (ClassifyError),
//    every gRPC code deliberately (docs/RELIABILITY.md has the same table):
//
//    class         codes                                what the worker does
//    transient     UNAVAILABLE, DEADLINE_EXCEEDED,      retry with backoff, no limit;
//                  CANCELLED                            results stay in the outbox
//    server fault  INTERNAL, UNKNOWN, DATA_LOSS,        retry with backoff for at most
//                  RESOURCE_EXHAUSTED,                  server_fault_budget of failures
//                  FAILED_PRECONDITION                  without a success in between,
//                                                       then give the trial up: release
//                                                       it once (no attempt burned) and
//                                                       take the next
//    lease lost    ABORTED, NOT_FOUND                   drop the trial, no further call
//    rejected      INVALID_ARGUMENT, OUT_OF_RANGE,      reports: fail the trial, not
//                  ALREADY_EXISTS                       retryable; renewals: as a server
//                                                       fault; AcquireTrial: Run returns
//    fatal         UNAUTHENTICATED, PERMISSION_DENIED,  stop training, release once, and
//                  UNIMPLEMENTED                        Run returns the error
//
//    A full disk on the coordinator is UNAVAILABLE (store/sqlite_db.h): the
//    worker holds its checkpoints and completion until the coordinator can
//    write. AcquireTrial holds no trial, so it retries server faults without
//    limit (logging each as an error). Waits go through the injected Sleeper
//    and the budget is measured on the injected Clock; training goes on
//    while calls are retried.
//  - Snapshots (core/snapshots.h): a trial that has one is resumed from its
//    newest (the coordinator carries the checkpoints up to its step into this
//    attempt, so every attempt holds its whole series) and training continues
//    after that step. A snapshot the trainer refuses is
//    not used (training starts at update 0, the reason logged). While
//    training, snapshots are taken as the spec says and uploaded on the
//    training thread, each after the checkpoints up to its step were
//    acknowledged (so a stored snapshot never runs ahead of its series); a
//    failed upload is logged and training goes on.
//  - Shutdown(): take no new trial, stop training before the next update,
//    snapshot and upload it (one try), release the lease (the trial is
//    pending again at once), return from Run.
//
// Run returns OK after Shutdown() or max_trials trials, or the error that
// makes retrying pointless (a fatal or rejected code from AcquireTrial, a
// fatal one during a trial).
//
// Thread-safety: Run is called once, from one thread; Shutdown() and stats()
// may be called from any thread at any time.
#ifndef DEEPSWEEP_WORKER_WORKER_LOOP_H_
#define DEEPSWEEP_WORKER_WORKER_LOOP_H_

#include <cstdint>
#include <functional>
#include <memory>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "common/clock.h"
#include "core/coordinator.h"
#include "rpc/coordinator_client.h"
#include "worker/backoff.h"
#include "worker/sleeper.h"
#include "worker/trial_runner.h"

namespace deepsweep::worker {

struct WorkerLoopOptions {
  // Sent with every AcquireTrial; the coordinator lists it (`deepsweep
  // workers`). worker_id must be unique among the coordinator's workers.
  WorkerInfo identity;
  // Trials to take (whatever their ending) before Run returns; 0 = no limit.
  int64_t max_trials = 0;
  // Waits between retries of an unreachable coordinator.
  BackoffOptions backoff;
  // The heartbeat period, a third of the lease's time to live, is kept within
  // these bounds (a coordinator that sends no TTL, or a nonsense one, gets
  // min_heartbeat or max_heartbeat).
  absl::Duration min_heartbeat = absl::Milliseconds(100);
  absl::Duration max_heartbeat = absl::Seconds(60);
  // Waits between AcquireTrial calls when nothing is pending are the
  // coordinator's retry_after, kept within these bounds.
  absl::Duration min_idle_wait = absl::Milliseconds(50);
  absl::Duration max_idle_wait = absl::Seconds(5);
  // Checkpoints per ReportCheckpoints call; the rest go in the next call.
  int max_checkpoints_per_report = 64;
  // How long calls about a trial may keep failing with server faults
  // (INTERNAL, UNKNOWN, ... see above) without a success before the trial is
  // given up. Long enough for an operator to fix a coordinator, short enough
  // that a broken one does not pin workers and trials forever.
  absl::Duration server_fault_budget = absl::Minutes(10);
};

// What the loop has done so far.
struct WorkerStats {
  int64_t trials_taken = 0;
  int64_t trials_completed = 0;  // succeeded or diverged, acknowledged
  int64_t trials_failed = 0;     // FailTrial sent
  int64_t trials_released = 0;   // given back on shutdown or cancellation
  int64_t trials_dropped = 0;    // the lease was no longer ours
  int64_t trials_stopped = 0;    // ended by the sweep's schedule (pruned, stuck)
  int64_t trials_abandoned = 0;  // given up after server_fault_budget of faults
  int64_t checkpoints_sent = 0;  // acknowledged by the coordinator
  int64_t report_calls = 0;      // ReportCheckpoints calls, failed ones included
  int64_t renewals = 0;          // RenewLease calls, failed ones included
  int64_t transient_errors = 0;  // calls that failed with a retryable code
  int64_t snapshots_sent = 0;    // uploads acknowledged (durable at the coordinator)
  int64_t snapshot_errors = 0;   // snapshots not stored (upload failed or skipped)
  int64_t trials_resumed = 0;    // trials continued from a snapshot
};

class WorkerLoop {
 public:
  // Every pointer must outlive the loop.
  WorkerLoop(rpc::CoordinatorClient* client, const TrialRunner* runner, const Clock* clock,
             Sleeper* sleeper, WorkerLoopOptions options);
  ~WorkerLoop();
  WorkerLoop(const WorkerLoop&) = delete;
  WorkerLoop& operator=(const WorkerLoop&) = delete;

  absl::Status Run();
  void Shutdown();
  WorkerStats stats() const;

 private:
  class TrialSession;

  // Trains one leased trial and reports how it ended. Returns the error that
  // ends the loop (a fatal code), OK otherwise.
  absl::Status RunLeasedTrial(const TrialRecord& trial, const Lease& lease, Backoff& backoff);
  // Fetches the trial's newest snapshot into `hooks`; leaves `hooks` empty to
  // start at update 0.
  void PrepareResume(const TrialRecord& trial, const Lease& lease, TrialSnapshotHooks& hooks);
  // Sends the checkpoints up to `step`, then the snapshot (see above).
  void UploadSnapshot(TrialSession& session, int64_t step, std::string_view bytes,
                      Backoff& backoff);
  // One heartbeat thread's life for `session`.
  void KeepLease(TrialSession& session);
  // Sends the outbox once (at most max_checkpoints_per_report). Returns false
  // when a transient error left checkpoints unsent.
  bool SendReports(TrialSession& session);
  // Sends the whole outbox, retrying transient failures; false when the
  // session ended (lease lost, cancelled, shutdown) first.
  bool SendAllReports(TrialSession& session, Backoff& backoff);
  // Retries `call` while OnFailure says so, until it succeeds or shutdown
  // (then returns the last status).
  absl::Status CallWithRetry(TrialSession& session, const std::function<absl::Status()>& call,
                             Backoff& backoff);
  // Applies the table above to a failed call about `session`'s trial: counts
  // it, ends the session when the code says so, and returns true when the
  // call may be retried. A rejected code counts as a server fault when
  // `rejected_is_fault` (a renewal has nothing the worker could fix).
  bool OnFailure(TrialSession& session, const absl::Status& status, bool rejected_is_fault);
  // A third of `ttl`, within [min_heartbeat, max_heartbeat].
  absl::Duration HeartbeatPeriod(absl::Duration ttl) const;
  void Count(int64_t WorkerStats::*counter, int64_t n = 1);

  rpc::CoordinatorClient* const client_;
  const TrialRunner* const runner_;
  const Clock* const clock_;
  Sleeper* const sleeper_;
  const WorkerLoopOptions options_;

  WakeSignal shutdown_;
  mutable absl::Mutex mu_;
  TrialSession* current_ ABSL_GUARDED_BY(mu_) = nullptr;
  WorkerStats stats_ ABSL_GUARDED_BY(mu_);
};

// The classes of the table in the file comment.
enum class ErrorClass { kTransient, kServerFault, kLeaseLost, kRejected, kFatal };
// The class of a failed call's code (kOk, which is no failure, is kTransient).
ErrorClass ClassifyError(absl::StatusCode code);
// Codes that mean the lease is no longer this worker's (ABORTED, NOT_FOUND).
bool IsLeaseLost(const absl::Status& status);

}  // namespace deepsweep::worker

#endif  // DEEPSWEEP_WORKER_WORKER_LOOP_H_
