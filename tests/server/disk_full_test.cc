// A full disk under the coordinator, end to end on loopback: a real server
// over a SQLite store whose disk fills in mid-trial
// (SqliteSweepStore::SimulateFullDisk, no mount needed) and a real WorkerLoop
// training a real trial through a gRPC client. While the disk is full the
// server's health answers NOT_SERVING and the worker keeps its checkpoints and
// retries; once space is back, the trial succeeds on its first attempt with
// every checkpoint stored and health is SERVING again.
//
// The worker's clock and sleeper are fakes (its retries do not wait); the
// test waits only on events (calls made, the loop's return).
#include <memory>
#include <string>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "common/clock.h"
#include "gtest/gtest.h"
#include "rpc/health_check.h"
#include "store/sqlite_sweep_store.h"
#include "tests/server/test_server.h"
#include "tests/testing/fake_sleeper.h"
#include "tests/testing/forwarding_coordinator_client.h"
#include "worker/dataset_cache.h"
#include "worker/trial_runner.h"
#include "worker/worker_loop.h"

namespace deepsweep::server {
namespace {

// One trial; its layer statistics carry 2048-bin histograms (8 KiB blobs),
// so every report needs new pages and fails on the full disk.
constexpr char kSpec[] = R"(name: disk-full
dataset: {name: shapeset, validation_examples: 40, test_examples: 60}
model: {width: 8, depth: 2}
training: {updates: 50, checkpoint_every: 10, batch_size: 10, probe_examples: 20,
           histogram_bins: 2048}
limits: {max_attempts: 2}
)";

// Forwards to the gRPC client; the first accepted report fills the disk, and
// the disk is freed after `failures_until_space` failed worker calls. Each
// failure records the server's health at that moment.
class DiskFillingClient final : public deepsweep::testing::ForwardingCoordinatorClient {
 public:
  DiskFillingClient(rpc::CoordinatorClient* inner, SqliteSweepStore* store, int port,
                    int failures_until_space)
      : ForwardingCoordinatorClient(inner),
        store_(store),
        failures_until_space_(failures_until_space) {
    health_.target = absl::StrCat("127.0.0.1:", port);
    health_.call_timeout = absl::Seconds(20);
  }

  int failures() const {
    absl::MutexLock lock(&mu_);
    return failures_;
  }
  std::vector<rpc::ServingStatus> health_while_full() const {
    absl::MutexLock lock(&mu_);
    return health_while_full_;
  }
  std::vector<absl::StatusCode> failure_codes() const {
    absl::MutexLock lock(&mu_);
    return failure_codes_;
  }

  absl::StatusOr<RenewResult> ReportCheckpoints(TrialId trial, std::string_view lease_id,
                                                absl::Span<const Checkpoint> cs) override {
    absl::StatusOr<RenewResult> r = inner()->ReportCheckpoints(trial, lease_id, cs);
    absl::MutexLock lock(&mu_);
    if (r.ok() && !filled_) {
      filled_ = true;
      EXPECT_TRUE(store_->SimulateFullDisk(true).ok());
    }
    Observe(r.status());
    return r;
  }
  absl::StatusOr<RenewResult> RenewLease(TrialId trial, std::string_view lease_id) override {
    absl::StatusOr<RenewResult> r = inner()->RenewLease(trial, lease_id);
    absl::MutexLock lock(&mu_);
    Observe(r.status());
    return r;
  }
  absl::Status CompleteTrial(TrialId trial, std::string_view lease_id,
                             const TrialOutcome& outcome) override {
    absl::Status s = inner()->CompleteTrial(trial, lease_id, outcome);
    absl::MutexLock lock(&mu_);
    Observe(s);
    return s;
  }

 private:
  void Observe(const absl::Status& status) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    if (status.ok() || !filled_ || freed_) return;
    ++failures_;
    failure_codes_.push_back(status.code());
    absl::StatusOr<rpc::ServingStatus> health = rpc::CheckHealth(health_);
    health_while_full_.push_back(health.ok() ? *health : rpc::ServingStatus::kUnknown);
    if (failures_ >= failures_until_space_) {
      freed_ = true;
      EXPECT_TRUE(store_->SimulateFullDisk(false).ok());
    }
  }

  SqliteSweepStore* const store_;
  const int failures_until_space_;
  rpc::ClientOptions health_;
  mutable absl::Mutex mu_;
  bool filled_ ABSL_GUARDED_BY(mu_) = false;
  bool freed_ ABSL_GUARDED_BY(mu_) = false;
  int failures_ ABSL_GUARDED_BY(mu_) = 0;
  std::vector<absl::StatusCode> failure_codes_ ABSL_GUARDED_BY(mu_);
  std::vector<rpc::ServingStatus> health_while_full_ ABSL_GUARDED_BY(mu_);
};

TEST(DiskFullTest, WorkerKeepsItsResultsUntilTheDiskHasSpaceAgain) {
  const std::filesystem::path dir = testing::FreshDirectory();
  absl::StatusOr<std::unique_ptr<SqliteSweepStore>> store =
      SqliteSweepStore::Open((dir / "sweeps.db").string());
  ASSERT_TRUE(store.ok()) << store.status();
  Server::Options options = testing::LoopbackOptions(dir / "sweeps.db");
  options.store = store->get();
  absl::StatusOr<std::unique_ptr<Server>> server = Server::Start(options);
  ASSERT_TRUE(server.ok()) << server.status();
  std::unique_ptr<rpc::CoordinatorClient> client = testing::Connect((*server)->port());
  absl::StatusOr<SweepRecord> sweep = client->CreateSweep(kSpec);
  ASSERT_TRUE(sweep.ok()) << sweep.status();

  DiskFillingClient filling(client.get(), store->get(), (*server)->port(),
                            /*failures_until_space=*/4);
  FakeClock clock;
  deepsweep::testing::FakeSleeper sleeper(&clock);
  sleeper.AutoAdvanceBelow(absl::Seconds(9));  // retries run freely; heartbeats wait
  worker::DatasetCache datasets;
  worker::TrialRunner runner(&datasets, &clock);
  worker::WorkerLoopOptions loop_options;
  loop_options.identity = testing::TestWorker("w1");
  loop_options.max_trials = 1;
  loop_options.backoff = {.initial_delay = absl::Seconds(1), .max_delay = absl::Seconds(8)};
  worker::WorkerLoop loop(&filling, &runner, &clock, &sleeper, loop_options);
  ASSERT_TRUE(loop.Run().ok());

  EXPECT_GE(filling.failures(), 4);
  for (absl::StatusCode code : filling.failure_codes()) {
    EXPECT_EQ(code, absl::StatusCode::kUnavailable);
  }
  for (rpc::ServingStatus health : filling.health_while_full()) {
    EXPECT_EQ(health, rpc::ServingStatus::kNotServing);
  }
  const worker::WorkerStats stats = loop.stats();
  EXPECT_EQ(stats.trials_completed, 1);
  EXPECT_EQ(stats.trials_failed, 0);
  EXPECT_EQ(stats.checkpoints_sent, 6);

  absl::StatusOr<std::vector<TrialRecord>> trials = client->ListTrials({.sweep_id = sweep->id});
  ASSERT_TRUE(trials.ok()) << trials.status();
  ASSERT_EQ(trials->size(), 1u);
  EXPECT_EQ((*trials)[0].state, TrialState::kSucceeded);
  EXPECT_EQ((*trials)[0].attempt, 1);
  absl::StatusOr<std::vector<Checkpoint>> stored =
      client->GetCheckpoints((*trials)[0].id, 1, /*with_layer_stats=*/true);
  ASSERT_TRUE(stored.ok()) << stored.status();
  std::vector<int64_t> steps;
  for (const Checkpoint& c : *stored) steps.push_back(c.step);
  EXPECT_EQ(steps, (std::vector<int64_t>{0, 10, 20, 30, 40, 50}));
  EXPECT_EQ(stored->back().layer_stats.front().histogram.size(), 2048u);

  rpc::ClientOptions health{.target = absl::StrCat("127.0.0.1:", (*server)->port())};
  EXPECT_EQ(*rpc::CheckHealth(health), rpc::ServingStatus::kServing);
}

}  // namespace
}  // namespace deepsweep::server
