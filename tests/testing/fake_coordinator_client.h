// FakeCoordinatorClient: an rpc::CoordinatorClient for worker tests. It hands
// out the trials a test adds, keeps leases like the coordinator (a call with
// a lease that is not the trial's current one gets ABORTED), records every
// worker call, and fails calls on a script (an outage, a lost lease).
//
// Only the worker's calls are implemented; the users' calls return
// UNIMPLEMENTED. Deliveries are recorded raw (every checkpoint of every
// accepted report), so a test can see a checkpoint sent twice.
//
// Thread-safety: all methods are safe to call concurrently; the Await*
// methods block until the condition holds (events, never timeouts).
#ifndef DEEPSWEEP_TESTS_TESTING_FAKE_COORDINATOR_CLIENT_H_
#define DEEPSWEEP_TESTS_TESTING_FAKE_COORDINATOR_CLIENT_H_

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "common/clock.h"
#include "rpc/coordinator_client.h"

namespace deepsweep::testing {

class FakeCoordinatorClient final : public rpc::CoordinatorClient {
 public:
  enum class Method { kAcquire, kRenew, kReport, kComplete, kFail, kRelease };

  // What happened to one trial, as the worker told it.
  struct TrialLog {
    TrialSpec spec;
    std::string lease_id;  // the current lease; empty when none
    int attempt = 0;
    std::string worker_id;
    std::vector<int64_t> delivered_steps;  // every accepted checkpoint, in order
    std::vector<Checkpoint> delivered;
    std::optional<TrialOutcome> completed;
    std::optional<std::string> failed_reason;
    bool failed_retryable = false;
    int releases = 0;
    int renewals = 0;                                      // accepted RenewLease calls
    std::map<int64_t, rpc::DownloadedSnapshot> snapshots;  // uploaded, by step
  };

  // `clock` (for lease deadlines) must outlive the fake.
  FakeCoordinatorClient(const Clock* clock, absl::Duration lease_ttl);

  // Queues a trial; AcquireTrial hands trials out in the order added.
  TrialId AddTrial(const TrialSpec& spec);
  // Calls skip+1 .. skip+count of `method` (counted from now) return `status`
  // and change nothing. count < 0 = every call after the skipped ones.
  void FailCalls(Method method, int skip, int count, absl::Status status);
  // The sweep is cancelled: renewals and reports answer cancelled = true,
  // nothing more is handed out, and a released trial is not requeued.
  void CancelAll();
  // The sweep's schedule stops every trial: renewals and reports answer
  // stopped = PRUNED (the coordinator has ended the trial).
  void PruneAll();
  // The trial's lease is no longer current (as if it expired and was re-leased).
  void RevokeLease(TrialId id);
  // What AcquireTrial says to wait when nothing is pending.
  void SetRetryAfter(absl::Duration d);
  // The coordinator's clock reads `skew` ahead of `clock` (negative: behind):
  // lease deadlines are skewed by it; the TTLs sent with them are not.
  void SetClockSkew(absl::Duration skew);
  // The TTL of leases granted and renewed from now on.
  void SetLeaseTtl(absl::Duration ttl);

  TrialLog trial(TrialId id) const;
  std::vector<WorkerInfo> acquisitions() const;
  int calls(Method method) const;  // attempted calls, failed ones included

  // Block until the condition holds.
  void AwaitCalls(Method method, int n) const;
  void AwaitDelivered(TrialId id, int n) const;

  // --- rpc::CoordinatorClient: worker calls ---------------------------------
  absl::StatusOr<Acquisition> AcquireTrial(const WorkerInfo& worker) override;
  absl::StatusOr<RenewResult> RenewLease(TrialId trial, std::string_view lease_id) override;
  absl::StatusOr<RenewResult> ReportCheckpoints(TrialId trial, std::string_view lease_id,
                                                absl::Span<const Checkpoint> checkpoints) override;
  absl::Status CompleteTrial(TrialId trial, std::string_view lease_id,
                             const TrialOutcome& outcome) override;
  absl::Status FailTrial(TrialId trial, std::string_view lease_id, std::string_view reason,
                         bool retryable) override;
  absl::Status ReleaseTrial(TrialId trial, std::string_view lease_id) override;
  // Snapshots kept per trial in TrialLog::snapshots (all of them), lease checked.
  absl::Status UploadSnapshot(TrialId trial, std::string_view lease_id, int64_t step,
                              std::string_view bytes) override;
  absl::StatusOr<std::optional<rpc::DownloadedSnapshot>> DownloadSnapshot(
      TrialId trial, std::string_view lease_id, std::optional<int64_t> step) override;
  absl::StatusOr<rpc::DownloadedSnapshot> DownloadWeights(TrialId trial) override;

  // --- rpc::CoordinatorClient: user calls (UNIMPLEMENTED) --------------------
  absl::StatusOr<SubmittedSweep> SubmitSweep(std::string_view, const SubmitSweepOptions&) override;
  absl::StatusOr<SweepPlan> PlanSweep(std::string_view) override;
  absl::StatusOr<SweepRecord> GetSweep(SweepId) override;
  absl::StatusOr<std::vector<SweepRecord>> ListSweeps() override;
  absl::Status CancelSweep(SweepId) override;
  absl::StatusOr<int64_t> RetryTrials(SweepId, absl::Span<const TrialState>) override;
  absl::StatusOr<std::vector<TrialRecord>> ListTrials(const TrialQuery&) override;
  absl::StatusOr<TrialRecord> GetTrial(TrialId) override;
  absl::StatusOr<std::vector<Checkpoint>> GetCheckpoints(TrialId, std::optional<int>,
                                                         bool) override;
  absl::StatusOr<std::vector<WorkerRecord>> ListWorkers() override;
  absl::StatusOr<std::vector<TrialAttempt>> ListAttempts(TrialId) override;
  absl::Status WatchSweep(SweepId, const std::function<bool(const rpc::SweepProgress&)>&) override;

 private:
  struct Script {
    int skip = 0;
    int count = 0;
    absl::Status status;
  };
  // Counts the call; returns the scripted failure for it, if any.
  absl::Status ScriptedLocked(Method method) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // The trial, when `lease_id` is its current lease; else ABORTED/NOT_FOUND.
  absl::StatusOr<TrialLog*> LeasedLocked(TrialId id, std::string_view lease_id)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const Clock* const clock_;
  absl::Duration lease_ttl_ ABSL_GUARDED_BY(mu_);
  absl::Duration skew_ ABSL_GUARDED_BY(mu_) = absl::ZeroDuration();
  mutable absl::Mutex mu_;
  std::map<TrialId, TrialLog> trials_ ABSL_GUARDED_BY(mu_);
  std::vector<TrialId> pending_ ABSL_GUARDED_BY(mu_);
  std::vector<WorkerInfo> acquisitions_ ABSL_GUARDED_BY(mu_);
  std::map<Method, int> calls_ ABSL_GUARDED_BY(mu_);
  std::map<Method, std::vector<Script>> scripts_ ABSL_GUARDED_BY(mu_);
  bool cancelled_ ABSL_GUARDED_BY(mu_) = false;
  bool pruned_ ABSL_GUARDED_BY(mu_) = false;
  absl::Duration retry_after_ ABSL_GUARDED_BY(mu_) = absl::Seconds(1);
  int64_t next_lease_ ABSL_GUARDED_BY(mu_) = 1;
};

}  // namespace deepsweep::testing

#endif  // DEEPSWEEP_TESTS_TESTING_FAKE_COORDINATOR_CLIENT_H_
