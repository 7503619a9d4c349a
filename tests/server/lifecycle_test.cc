// A sweep's whole life over real gRPC on loopback: create, lease, report,
// fail and retry, complete, query.
#include <memory>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/server/test_server.h"

namespace deepsweep::server {
namespace {

using testing::Connect;
using ::testing::ElementsAre;
using ::testing::Field;
using testing::FreshDirectory;
using testing::kThreeTrialSpec;
using testing::LoopbackOptions;
using testing::TestCheckpoint;
using testing::TestWorker;

class LifecycleTest : public ::testing::Test {
 protected:
  void SetUp() override {
    absl::StatusOr<std::unique_ptr<Server>> server =
        Server::Start(LoopbackOptions(FreshDirectory() / "sweeps.db"));
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = std::move(*server);
    ASSERT_GT(server_->port(), 0);
    client_ = Connect(server_->port());
  }

  std::unique_ptr<Server> server_;
  std::unique_ptr<rpc::CoordinatorClient> client_;
};

TEST_F(LifecycleTest, SweepRunsToTheEndOverTheWire) {
  absl::StatusOr<SweepRecord> sweep = client_->CreateSweep(kThreeTrialSpec);
  ASSERT_TRUE(sweep.ok()) << sweep.status();
  EXPECT_EQ(sweep->name, "wire-test");
  EXPECT_EQ(sweep->state, SweepState::kActive);
  EXPECT_EQ(sweep->counts.pending, 3);
  EXPECT_EQ(sweep->spec_yaml, kThreeTrialSpec);

  // First trial: report two checkpoints with layer statistics, then succeed.
  absl::StatusOr<Acquisition> first = client_->AcquireTrial(TestWorker("worker-a"));
  ASSERT_TRUE(first.ok()) << first.status();
  ASSERT_TRUE(first->trial.has_value());
  ASSERT_TRUE(first->lease.has_value());
  EXPECT_EQ(first->trial->sweep_id, sweep->id);
  EXPECT_EQ(first->trial->spec.width, 8);
  EXPECT_EQ(first->lease->attempt, 1);
  const TrialId first_id = first->trial->id;
  const std::string lease = first->lease->lease_id;

  const std::vector<Checkpoint> reported = {TestCheckpoint(50, 2), TestCheckpoint(100, 2)};
  absl::StatusOr<RenewResult> renewal = client_->ReportCheckpoints(first_id, lease, reported);
  ASSERT_TRUE(renewal.ok()) << renewal.status();
  EXPECT_FALSE(renewal->cancelled);
  EXPECT_GE(renewal->deadline, first->lease->deadline);
  // A repeated report is stored once.
  ASSERT_TRUE(client_->ReportCheckpoints(first_id, lease, reported).ok());
  ASSERT_TRUE(client_->RenewLease(first_id, lease).ok());
  ASSERT_TRUE(client_->CompleteTrial(first_id, lease, {.state = TrialState::kSucceeded}).ok());

  absl::StatusOr<std::vector<Checkpoint>> stored =
      client_->GetCheckpoints(first_id, std::nullopt, /*with_layer_stats=*/true);
  ASSERT_TRUE(stored.ok()) << stored.status();
  ASSERT_EQ(stored->size(), 2u);
  EXPECT_EQ((*stored)[1].step, 100);
  EXPECT_DOUBLE_EQ((*stored)[1].test_error, 0.5);
  ASSERT_EQ((*stored)[1].layer_stats.size(), 4u);
  EXPECT_THAT((*stored)[1].layer_stats[0].histogram, ElementsAre(0.25f, 0.25f, 0.25f, 0.25f));
  absl::StatusOr<std::vector<Checkpoint>> bare = client_->GetCheckpoints(first_id, 1, false);
  ASSERT_TRUE(bare.ok()) << bare.status();
  ASSERT_EQ(bare->size(), 2u);
  EXPECT_TRUE((*bare)[0].layer_stats.empty());

  // A finished lease is stale: every later call with it is ABORTED.
  EXPECT_EQ(client_->RenewLease(first_id, lease).status().code(), absl::StatusCode::kAborted);
  EXPECT_EQ(client_->ReportCheckpoints(first_id, lease, reported).status().code(),
            absl::StatusCode::kAborted);

  // Second trial fails retryably, comes back as attempt 2, then diverges.
  absl::StatusOr<Acquisition> second = client_->AcquireTrial(TestWorker("worker-b"));
  ASSERT_TRUE(second.ok() && second->trial.has_value()) << second.status();
  const TrialId second_id = second->trial->id;
  ASSERT_TRUE(client_
                  ->FailTrial(second_id, second->lease->lease_id, "out of memory",
                              /*retryable=*/true)
                  .ok());
  // Third trial, then the retried second.
  absl::StatusOr<Acquisition> third = client_->AcquireTrial(TestWorker("worker-a"));
  ASSERT_TRUE(third.ok() && third->trial.has_value()) << third.status();
  absl::StatusOr<Acquisition> retry = client_->AcquireTrial(TestWorker("worker-b"));
  ASSERT_TRUE(retry.ok() && retry->trial.has_value()) << retry.status();
  const bool third_is_second = third->trial->id == second_id;
  const Acquisition& again = third_is_second ? *third : *retry;
  const Acquisition& other = third_is_second ? *retry : *third;
  EXPECT_EQ(again.trial->id, second_id);
  EXPECT_EQ(again.lease->attempt, 2);
  ASSERT_TRUE(client_
                  ->CompleteTrial(second_id, again.lease->lease_id,
                                  {.state = TrialState::kDiverged, .reason = "loss became NaN"})
                  .ok());
  ASSERT_TRUE(client_
                  ->FailTrial(other.trial->id, other.lease->lease_id, "bad spec",
                              /*retryable=*/false)
                  .ok());

  // Nothing left: the worker is told when to ask again.
  absl::StatusOr<Acquisition> none = client_->AcquireTrial(TestWorker("worker-a"));
  ASSERT_TRUE(none.ok()) << none.status();
  EXPECT_FALSE(none->trial.has_value());
  EXPECT_GT(none->retry_after, absl::ZeroDuration());

  absl::StatusOr<SweepRecord> done = client_->GetSweep(sweep->id);
  ASSERT_TRUE(done.ok()) << done.status();
  EXPECT_EQ(done->state, SweepState::kFinished);
  EXPECT_EQ(done->counts.succeeded, 1);
  EXPECT_EQ(done->counts.diverged, 1);
  EXPECT_EQ(done->counts.failed, 1);
  EXPECT_TRUE(done->finished_at.has_value());

  absl::StatusOr<TrialRecord> diverged = client_->GetTrial(second_id);
  ASSERT_TRUE(diverged.ok()) << diverged.status();
  EXPECT_EQ(diverged->state, TrialState::kDiverged);
  EXPECT_EQ(diverged->reason, "loss became NaN");
  EXPECT_EQ(diverged->attempt, 2);

  absl::StatusOr<TrialRecord> succeeded = client_->GetTrial(first_id);
  ASSERT_TRUE(succeeded.ok()) << succeeded.status();
  EXPECT_EQ(succeeded->steps_done, 100);
  EXPECT_EQ(succeeded->final_test_error, 0.5);

  // Queries: filters, order and limit travel over the wire.
  TrialQuery deep{.sweep_id = sweep->id,
                  .conditions = {{"depth", TrialCondition::Op::kGe, "2"}},
                  .order_by = "depth",
                  .descending = true};
  absl::StatusOr<std::vector<TrialRecord>> trials = client_->ListTrials(deep);
  ASSERT_TRUE(trials.ok()) << trials.status();
  ASSERT_EQ(trials->size(), 2u);
  EXPECT_EQ((*trials)[0].spec.depth, 3);
  EXPECT_EQ((*trials)[1].spec.depth, 2);
  TrialQuery failed{.conditions = {{"state", TrialCondition::Op::kEq, "failed"}}, .limit = 5};
  trials = client_->ListTrials(failed);
  ASSERT_TRUE(trials.ok()) << trials.status();
  ASSERT_EQ(trials->size(), 1u);
  EXPECT_EQ((*trials)[0].reason, "bad spec");
  EXPECT_EQ(client_->ListTrials({.conditions = {{"colour", TrialCondition::Op::kEq, "red"}}})
                .status()
                .code(),
            absl::StatusCode::kInvalidArgument);

  // Retry the failed one: pending again, sweep active again.
  absl::StatusOr<int64_t> retried = client_->RetryTrials(sweep->id, {TrialState::kFailed});
  ASSERT_TRUE(retried.ok()) << retried.status();
  EXPECT_EQ(*retried, 1);
  absl::StatusOr<SweepRecord> reopened = client_->GetSweep(sweep->id);
  ASSERT_TRUE(reopened.ok());
  EXPECT_EQ(reopened->counts.pending, 1);

  absl::StatusOr<std::vector<SweepRecord>> sweeps = client_->ListSweeps();
  ASSERT_TRUE(sweeps.ok()) << sweeps.status();
  EXPECT_THAT(*sweeps, ElementsAre(Field(&SweepRecord::id, sweep->id)));

  absl::StatusOr<std::vector<WorkerRecord>> workers = client_->ListWorkers();
  ASSERT_TRUE(workers.ok()) << workers.status();
  ASSERT_EQ(workers->size(), 2u);
  EXPECT_EQ((*workers)[0].info.worker_id, "worker-a");
  EXPECT_EQ((*workers)[1].info.host, "test-host");
}

TEST_F(LifecycleTest, CancelReachesTheWorkerAtItsNextHeartbeat) {
  absl::StatusOr<SweepRecord> sweep = client_->CreateSweep(kThreeTrialSpec);
  ASSERT_TRUE(sweep.ok()) << sweep.status();
  absl::StatusOr<Acquisition> leased = client_->AcquireTrial(TestWorker("w"));
  ASSERT_TRUE(leased.ok() && leased->trial.has_value()) << leased.status();

  ASSERT_TRUE(client_->CancelSweep(sweep->id).ok());
  absl::StatusOr<RenewResult> renewal =
      client_->RenewLease(leased->trial->id, leased->lease->lease_id);
  ASSERT_TRUE(renewal.ok()) << renewal.status();
  EXPECT_TRUE(renewal->cancelled);

  absl::StatusOr<SweepRecord> cancelled = client_->GetSweep(sweep->id);
  ASSERT_TRUE(cancelled.ok());
  EXPECT_EQ(cancelled->state, SweepState::kCancelled);
  EXPECT_EQ(cancelled->counts.cancelled, 2);  // the pending ones at once
  EXPECT_EQ(client_->CancelSweep(999).code(), absl::StatusCode::kNotFound);
}

TEST_F(LifecycleTest, ReleasedTrialIsPendingAgainAtOnce) {
  ASSERT_TRUE(client_->CreateSweep(kThreeTrialSpec).ok());
  absl::StatusOr<Acquisition> leased = client_->AcquireTrial(TestWorker("w"));
  ASSERT_TRUE(leased.ok() && leased->trial.has_value()) << leased.status();
  ASSERT_TRUE(client_->ReleaseTrial(leased->trial->id, leased->lease->lease_id).ok());
  absl::StatusOr<TrialRecord> trial = client_->GetTrial(leased->trial->id);
  ASSERT_TRUE(trial.ok());
  EXPECT_EQ(trial->state, TrialState::kPending);
  EXPECT_EQ(client_->ReleaseTrial(leased->trial->id, leased->lease->lease_id).code(),
            absl::StatusCode::kAborted);
}

TEST_F(LifecycleTest, UnknownIdsAreNotFound) {
  EXPECT_EQ(client_->GetSweep(12345).status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(client_->GetTrial(12345).status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(client_->GetCheckpoints(12345, std::nullopt, false).status().code(),
            absl::StatusCode::kNotFound);
}

TEST_F(LifecycleTest, PlanSweepExpandsWithoutStoring) {
  absl::StatusOr<SweepPlan> plan = client_->PlanSweep(kThreeTrialSpec);
  ASSERT_TRUE(plan.ok()) << plan.status();
  EXPECT_EQ(plan->sweep.id, 0);
  EXPECT_EQ(plan->sweep.name, "wire-test");
  EXPECT_EQ(plan->sweep.max_attempts, 2);
  EXPECT_EQ(plan->sweep.counts.pending, 3);
  ASSERT_EQ(plan->trials.size(), 3u);
  EXPECT_EQ(plan->trials[0].depth, 1);
  EXPECT_EQ(plan->trials[2].depth, 3);
  EXPECT_EQ(plan->trials[2].width, 8);

  absl::StatusOr<std::vector<SweepRecord>> sweeps = client_->ListSweeps();
  ASSERT_TRUE(sweeps.ok()) << sweeps.status();
  EXPECT_TRUE(sweeps->empty());
  EXPECT_EQ(client_->PlanSweep("name: x\ngrid: {depth: [0]}\n").status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST_F(LifecycleTest, BadSpecIsInvalidArgumentNamingTheField) {
  absl::StatusOr<SweepRecord> sweep = client_->CreateSweep("name: x\ngrid:\n  depth: [1, five]\n");
  EXPECT_EQ(sweep.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(sweep.status().message(), ::testing::HasSubstr("depth"));
  EXPECT_EQ(client_->CreateSweep("{{{ not yaml").status().code(),
            absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace deepsweep::server
