// WatchSweep streams progress until the sweep is finished, the client stops
// reading, or the server shuts down.
#include <memory>
#include <thread>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "absl/time/time.h"
#include "common/clock.h"
#include "gtest/gtest.h"
#include "rpc/sweep_progress.h"
#include "tests/server/test_server.h"

namespace deepsweep::server {
namespace {

using testing::Connect;
using testing::FreshDirectory;
using testing::LoopbackOptions;

class WatchSweepTest : public ::testing::Test {
 protected:
  void SetUp() override {
    Server::Options options = LoopbackOptions(FreshDirectory() / "db.sqlite");
    options.clock = &clock_;
    options.service.watch_min_interval = absl::ZeroDuration();
    options.service.watch_heartbeat = kHeartbeat;
    // How soon a stream notices that the FakeClock moved (real time).
    options.service.watch_poll_interval = absl::Milliseconds(10);
    absl::StatusOr<std::unique_ptr<Server>> server = Server::Start(options);
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = std::move(*server);
    client_ = Connect(server_->port());
    absl::StatusOr<SweepRecord> sweep = client_->CreateSweep(testing::kThreeTrialSpec);
    ASSERT_TRUE(sweep.ok()) << sweep.status();
    sweep_id_ = sweep->id;
  }

  void RunEveryTrial() { testing::SucceedNextTrials(*client_, 3); }

  static constexpr absl::Duration kHeartbeat = absl::Seconds(1);
  FakeClock clock_;
  std::unique_ptr<Server> server_;
  std::unique_ptr<rpc::CoordinatorClient> client_;
  SweepId sweep_id_ = 0;
};

TEST_F(WatchSweepTest, StreamEndsWhenTheSweepFinishes) {
  std::vector<rpc::SweepProgress> seen;
  absl::Notification first_seen;
  absl::Status watch_status;
  std::thread watcher([&] {
    std::unique_ptr<rpc::CoordinatorClient> watch_client = Connect(server_->port());
    watch_status = watch_client->WatchSweep(sweep_id_, [&](const rpc::SweepProgress& progress) {
      seen.push_back(progress);
      if (!first_seen.HasBeenNotified()) first_seen.Notify();
      return true;
    });
  });
  first_seen.WaitForNotification();
  RunEveryTrial();
  watcher.join();

  ASSERT_TRUE(watch_status.ok()) << watch_status;
  ASSERT_GE(seen.size(), 2u);
  EXPECT_EQ(seen.front().sweep_id, sweep_id_);
  EXPECT_EQ(seen.front().counts.pending, 3);
  EXPECT_EQ(seen.back().state, SweepState::kFinished);
  EXPECT_EQ(seen.back().counts.succeeded, 3);
  // Progress never goes backwards.
  for (size_t i = 1; i < seen.size(); ++i) {
    EXPECT_GE(seen[i].counts.succeeded, seen[i - 1].counts.succeeded);
  }
}

TEST_F(WatchSweepTest, FinishedSweepSendsOneMessageAndEnds) {
  RunEveryTrial();
  int messages = 0;
  absl::Status status = client_->WatchSweep(sweep_id_, [&](const rpc::SweepProgress& progress) {
    ++messages;
    EXPECT_EQ(progress.state, SweepState::kFinished);
    return true;
  });
  EXPECT_TRUE(status.ok()) << status;
  EXPECT_EQ(messages, 1);
}

TEST_F(WatchSweepTest, CallerCanStopWatching) {
  int messages = 0;
  absl::Status status = client_->WatchSweep(sweep_id_, [&](const rpc::SweepProgress&) {
    ++messages;
    return false;
  });
  EXPECT_TRUE(status.ok()) << status;
  EXPECT_EQ(messages, 1);
  // The server is still fine afterwards.
  EXPECT_TRUE(client_->GetSweep(sweep_id_).ok());
}

// A running trial's steps reach the stream as its checkpoints arrive, and
// while nothing changes the stream keeps sending (heartbeats, one each time
// the FakeClock passes the heartbeat interval), so a client's display stays
// live during long trials.
TEST_F(WatchSweepTest, StreamsRunningStepsAndHeartbeats) {
  absl::StatusOr<Acquisition> leased = client_->AcquireTrial(testing::TestWorker("trainer"));
  ASSERT_TRUE(leased.ok() && leased->trial.has_value()) << leased.status();
  const TrialId id = leased->trial->id;
  absl::Mutex mu;
  absl::CondVar arrived;                 // signalled on every message and at the end
  std::vector<rpc::SweepProgress> seen;  // guarded by mu
  bool done = false;                     // guarded by mu
  absl::Status watch_status;
  std::thread watcher([&] {
    std::unique_ptr<rpc::CoordinatorClient> watch_client = Connect(server_->port());
    watch_status = watch_client->WatchSweep(sweep_id_, [&](const rpc::SweepProgress& progress) {
      absl::MutexLock lock(&mu);
      seen.push_back(progress);
      arrived.SignalAll();
      // Stop after three messages that all show the checkpoint's step.
      int with_step = 0;
      for (const rpc::SweepProgress& p : seen) {
        with_step += !p.running.empty() && p.running[0].steps_done == 50;
      }
      return with_step < 3;
    });
    absl::MutexLock lock(&mu);
    done = true;
    arrived.SignalAll();
  });
  // Waits for a message beyond the first `count`, or the end of the stream.
  auto await_more = [&](size_t count) {
    absl::MutexLock lock(&mu);
    while (seen.size() <= count && !done) arrived.Wait(&mu);
    return seen.size();
  };
  size_t count = await_more(0);
  Checkpoint checkpoint;
  checkpoint.step = 50;
  checkpoint.examples_seen = 500;
  ASSERT_TRUE(client_->ReportCheckpoints(id, leased->lease->lease_id, {checkpoint}).ok());
  count = await_more(count);  // the change
  for (int heartbeat = 0; heartbeat < 2; ++heartbeat) {
    clock_.Advance(kHeartbeat);
    count = await_more(count);
  }
  watcher.join();

  ASSERT_TRUE(watch_status.ok()) << watch_status;
  ASSERT_EQ(seen.size(), 4u);
  ASSERT_EQ(seen.front().running.size(), 1u);
  EXPECT_EQ(seen.front().running[0].trial_id, id);
  EXPECT_EQ(seen.front().running[0].steps_done, 0);
  EXPECT_EQ(seen.front().running[0].updates, 100);
  EXPECT_EQ(seen.front().running[0].worker_id, "trainer");
  EXPECT_EQ(seen[1].running[0].steps_done, 50);
  // The last two carry the same snapshot as the change: heartbeats.
  EXPECT_FALSE(rpc::ProgressChanged(seen[1], seen[2]));
  EXPECT_FALSE(rpc::ProgressChanged(seen[2], seen[3]));
  EXPECT_EQ(seen.back().counts.leased, 1);
}

TEST_F(WatchSweepTest, UnknownSweepIsNotFound) {
  absl::Status status =
      client_->WatchSweep(sweep_id_ + 100, [](const rpc::SweepProgress&) { return true; });
  EXPECT_EQ(status.code(), absl::StatusCode::kNotFound);
}

TEST_F(WatchSweepTest, ShutdownEndsOpenStreams) {
  absl::Notification first_seen;
  absl::Status watch_status;
  std::thread watcher([&] {
    watch_status = client_->WatchSweep(sweep_id_, [&](const rpc::SweepProgress&) {
      if (!first_seen.HasBeenNotified()) first_seen.Notify();
      return true;
    });
  });
  first_seen.WaitForNotification();
  server_->Shutdown();
  watcher.join();
  EXPECT_EQ(watch_status.code(), absl::StatusCode::kUnavailable) << watch_status;
}

}  // namespace
}  // namespace deepsweep::server
