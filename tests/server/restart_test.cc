// A real server restart on the same SQLite file: acknowledged writes are
// there, the lease resumes with its deadline, and the sweep finishes.
#include <memory>
#include <string>

#include "gtest/gtest.h"
#include "tests/server/test_server.h"

namespace deepsweep::server {
namespace {

using testing::Connect;
using testing::FreshDirectory;
using testing::LoopbackOptions;
using testing::TestCheckpoint;
using testing::TestWorker;

TEST(RestartTest, SweepContinuesAfterARestartOnTheSameFile) {
  const auto db = FreshDirectory() / "sweeps.db";
  SweepId sweep_id = 0;
  TrialId trial_id = 0;
  std::string lease_id;
  absl::Time deadline;
  {
    absl::StatusOr<std::unique_ptr<Server>> server = Server::Start(LoopbackOptions(db));
    ASSERT_TRUE(server.ok()) << server.status();
    std::unique_ptr<rpc::CoordinatorClient> client = Connect((*server)->port());
    absl::StatusOr<SweepRecord> sweep = client->CreateSweep(testing::kThreeTrialSpec);
    ASSERT_TRUE(sweep.ok()) << sweep.status();
    sweep_id = sweep->id;
    absl::StatusOr<Acquisition> leased = client->AcquireTrial(TestWorker("w"));
    ASSERT_TRUE(leased.ok() && leased->trial.has_value()) << leased.status();
    trial_id = leased->trial->id;
    lease_id = leased->lease->lease_id;
    absl::StatusOr<RenewResult> renewal =
        client->ReportCheckpoints(trial_id, lease_id, {TestCheckpoint(50, 3)});
    ASSERT_TRUE(renewal.ok()) << renewal.status();
    deadline = renewal->deadline;
    (*server)->Shutdown();
  }

  absl::StatusOr<std::unique_ptr<Server>> server = Server::Start(LoopbackOptions(db));
  ASSERT_TRUE(server.ok()) << server.status();
  std::unique_ptr<rpc::CoordinatorClient> client = Connect((*server)->port());

  absl::StatusOr<TrialRecord> trial = client->GetTrial(trial_id);
  ASSERT_TRUE(trial.ok()) << trial.status();
  EXPECT_EQ(trial->state, TrialState::kLeased);
  EXPECT_EQ(trial->attempt, 1);
  EXPECT_EQ(trial->steps_done, 50);
  absl::StatusOr<std::vector<Checkpoint>> stored = client->GetCheckpoints(trial_id, 1, true);
  ASSERT_TRUE(stored.ok()) << stored.status();
  ASSERT_EQ(stored->size(), 1u);
  EXPECT_EQ((*stored)[0].layer_stats.size(), 6u);

  // The worker carries on under the same lease, which kept its deadline.
  absl::StatusOr<RenewResult> renewal = client->RenewLease(trial_id, lease_id);
  ASSERT_TRUE(renewal.ok()) << renewal.status();
  EXPECT_GE(renewal->deadline, deadline);
  ASSERT_TRUE(client->ReportCheckpoints(trial_id, lease_id, {TestCheckpoint(100, 3)}).ok());
  ASSERT_TRUE(client->CompleteTrial(trial_id, lease_id, {.state = TrialState::kSucceeded}).ok());

  // The other two trials are still there to be done.
  for (TrialId other : testing::SucceedNextTrials(*client, 2)) EXPECT_NE(other, trial_id);
  absl::StatusOr<SweepRecord> sweep = client->GetSweep(sweep_id);
  ASSERT_TRUE(sweep.ok()) << sweep.status();
  EXPECT_EQ(sweep->state, SweepState::kFinished);
  EXPECT_EQ(sweep->counts.succeeded, 3);
}

}  // namespace
}  // namespace deepsweep::server
