// LocalCoordinatorClient against the in-memory store: every call reaches the
// Coordinator, and WatchSweep follows the sweep to its end.
#include "rpc/local_coordinator_client.h"

#include <memory>
#include <thread>
#include <vector>

#include "common/clock.h"
#include "gtest/gtest.h"
#include "rpc/sweep_progress.h"
#include "store/memory_sweep_store.h"

namespace deepsweep::rpc {
namespace {

constexpr char kSpec[] = R"(
name: local
training: {updates: 20, checkpoint_every: 10}
grid:
  activation: [sigmoid, tanh]
seeds: 2
)";

class LocalCoordinatorClientTest : public ::testing::Test {
 protected:
  LocalCoordinatorClientTest() {
    LocalClientOptions options;
    options.watch_poll_interval = absl::Milliseconds(20);
    client_ = std::make_unique<LocalCoordinatorClient>(std::make_unique<MemorySweepStore>(),
                                                       &clock_, options);
  }

  // Leases, reports and completes every pending trial.
  void RunAll() {
    const WorkerInfo worker{.worker_id = "w1", .host = "h", .pid = 1, .version = "t", .cores = 1};
    while (true) {
      auto acquisition = client_->AcquireTrial(worker);
      ASSERT_TRUE(acquisition.ok()) << acquisition.status();
      if (!acquisition->trial.has_value()) return;
      const TrialId id = acquisition->trial->id;
      const std::string lease = acquisition->lease->lease_id;
      Checkpoint checkpoint;
      checkpoint.step = 20;
      checkpoint.examples_seen = 200;
      checkpoint.test_error = 0.25;
      ASSERT_TRUE(client_->ReportCheckpoints(id, lease, {checkpoint}).ok());
      ASSERT_TRUE(client_->CompleteTrial(id, lease, TrialOutcome{}).ok());
    }
  }

  FakeClock clock_;
  std::unique_ptr<LocalCoordinatorClient> client_;
};

TEST_F(LocalCoordinatorClientTest, PlansWithoutStoring) {
  auto plan = client_->PlanSweep(kSpec);
  ASSERT_TRUE(plan.ok()) << plan.status();
  EXPECT_EQ(plan->sweep.name, "local");
  EXPECT_EQ(plan->sweep.counts.pending, 4);
  ASSERT_EQ(plan->trials.size(), 4u);
  EXPECT_EQ(plan->trials[0].activation, "sigmoid");
  EXPECT_EQ(plan->trials[3].seed_index, 1);
  EXPECT_TRUE(client_->ListSweeps()->empty());
  EXPECT_EQ(client_->PlanSweep("name: [").status().code(), absl::StatusCode::kInvalidArgument);
}

TEST_F(LocalCoordinatorClientTest, ServesReadsAndWrites) {
  auto sweep = client_->CreateSweep(kSpec);
  ASSERT_TRUE(sweep.ok()) << sweep.status();
  RunAll();
  auto trials = client_->ListTrials(TrialQuery{.sweep_id = sweep->id});
  ASSERT_TRUE(trials.ok());
  ASSERT_EQ(trials->size(), 4u);
  EXPECT_EQ((*trials)[0].state, TrialState::kSucceeded);
  EXPECT_EQ((*trials)[0].final_test_error, 0.25);
  auto checkpoints = client_->GetCheckpoints((*trials)[0].id, std::nullopt, false);
  ASSERT_TRUE(checkpoints.ok());
  ASSERT_EQ(checkpoints->size(), 1u);
  EXPECT_EQ((*checkpoints)[0].examples_seen, 200);
  EXPECT_EQ(client_->ListWorkers()->size(), 1u);
  EXPECT_EQ(client_->GetSweep(99).status().code(), absl::StatusCode::kNotFound);
}

TEST_F(LocalCoordinatorClientTest, WatchEndsWhenTheSweepFinishes) {
  auto sweep = client_->CreateSweep(kSpec);
  ASSERT_TRUE(sweep.ok());
  std::vector<SweepProgress> seen;
  std::thread workers([&] { RunAll(); });
  const absl::Status status = client_->WatchSweep(sweep->id, [&](const SweepProgress& p) {
    seen.push_back(p);
    return true;
  });
  workers.join();
  ASSERT_TRUE(status.ok()) << status;
  ASSERT_FALSE(seen.empty());
  EXPECT_EQ(seen.back().state, SweepState::kFinished);
  EXPECT_EQ(seen.back().counts.succeeded, 4);
}

TEST_F(LocalCoordinatorClientTest, WatchStopsWhenAsked) {
  auto sweep = client_->CreateSweep(kSpec);
  ASSERT_TRUE(sweep.ok());
  int calls = 0;
  EXPECT_TRUE(
      client_->WatchSweep(sweep->id, [&](const SweepProgress&) { return ++calls < 1; }).ok());
  EXPECT_EQ(calls, 1);
  EXPECT_EQ(client_->WatchSweep(42, [](const SweepProgress&) { return true; }).code(),
            absl::StatusCode::kNotFound);
}

// The stream reports a running trial's steps as its checkpoints arrive, and
// an unchanged snapshot once a heartbeat (by the client's clock) has passed.
TEST_F(LocalCoordinatorClientTest, WatchReportsRunningStepsAndHeartbeats) {
  auto sweep = client_->CreateSweep(kSpec);
  ASSERT_TRUE(sweep.ok());
  const WorkerInfo worker{.worker_id = "w1", .host = "h", .pid = 1, .version = "t", .cores = 1};
  auto acquisition = client_->AcquireTrial(worker);
  ASSERT_TRUE(acquisition.ok() && acquisition->trial.has_value());
  const TrialId id = acquisition->trial->id;
  const std::string lease = acquisition->lease->lease_id;

  std::vector<SweepProgress> seen;
  const absl::Status status = client_->WatchSweep(sweep->id, [&](const SweepProgress& p) {
    seen.push_back(p);
    switch (seen.size()) {
      case 1: {  // a checkpoint arrives: the next message has its step
        Checkpoint checkpoint;
        checkpoint.step = 10;
        checkpoint.examples_seen = 100;
        EXPECT_TRUE(client_->ReportCheckpoints(id, lease, {checkpoint}).ok());
        return true;
      }
      case 2:  // nothing changes, but a heartbeat is due
        clock_.Advance(absl::Seconds(1));
        return true;
      default:
        return false;
    }
  });
  ASSERT_TRUE(status.ok()) << status;
  ASSERT_EQ(seen.size(), 3u);
  ASSERT_EQ(seen[0].running.size(), 1u);
  EXPECT_EQ(seen[0].running[0].trial_id, id);
  EXPECT_EQ(seen[0].running[0].steps_done, 0);
  EXPECT_EQ(seen[0].running[0].updates, 20);
  EXPECT_EQ(seen[0].running[0].worker_id, "w1");
  EXPECT_EQ(seen[0].running[0].attempt, 1);
  ASSERT_EQ(seen[1].running.size(), 1u);
  EXPECT_EQ(seen[1].running[0].steps_done, 10);
  EXPECT_FALSE(ProgressChanged(seen[1], seen[2]));  // the heartbeat
}

TEST(ProgressPacerTest, SendsChangesAndOneHeartbeatPerInterval) {
  const absl::Time t0 = absl::FromUnixSeconds(1'700'000'000);
  ProgressPacer pacer(absl::Seconds(1));
  SweepProgress p{.sweep_id = 3, .counts = {.pending = 2, .leased = 1}};
  p.running.push_back({.trial_id = 7, .attempt = 1, .worker_id = "w", .updates = 100});
  EXPECT_TRUE(pacer.ShouldSend(p, t0));  // the first
  EXPECT_FALSE(pacer.ShouldSend(p, t0 + absl::Milliseconds(400)));
  p.running[0].steps_done = 20;  // a checkpoint arrived
  EXPECT_TRUE(pacer.ShouldSend(p, t0 + absl::Milliseconds(500)));
  EXPECT_EQ(pacer.last_sent(), t0 + absl::Milliseconds(500));
  EXPECT_FALSE(pacer.ShouldSend(p, t0 + absl::Milliseconds(1499)));
  EXPECT_TRUE(pacer.ShouldSend(p, t0 + absl::Milliseconds(1500)));  // heartbeat
  p.counts.leased = 0;
  p.counts.succeeded = 1;
  EXPECT_TRUE(pacer.ShouldSend(p, t0 + absl::Milliseconds(1501)));
  p.state = SweepState::kCancelled;
  EXPECT_TRUE(pacer.ShouldSend(p, t0 + absl::Milliseconds(1502)));
  EXPECT_EQ(pacer.next_heartbeat(), t0 + absl::Milliseconds(2502));
}

}  // namespace
}  // namespace deepsweep::rpc
