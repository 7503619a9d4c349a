// Snapshots over the wire: a 19 MB snapshot (a 5 x 1000 net's size) streams
// to the server in chunks under the default 4 MiB message limit and comes
// back whole; stale leases and bad checksums store nothing; an ended trial
// keeps only what its retention rule says, however it ended.
#include <filesystem>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "common/crc32.h"
#include "gtest/gtest.h"
#include "store/file_snapshot_store.h"
#include "tests/server/test_server.h"

namespace deepsweep::server {
namespace {

using testing::Connect;
using testing::FreshDirectory;
using testing::LoopbackOptions;
using testing::TestCheckpoint;
using testing::TestWorker;

class SnapshotTransferTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = FreshDirectory();
    auto server = Server::Start(LoopbackOptions(dir_ / "sweeps.db"));
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = std::move(*server);
    client_ = Connect(server_->port());
    ASSERT_TRUE(client_->CreateSweep("name: s\ntraining: {updates: 1000}\n").ok());
    auto acquired = client_->AcquireTrial(TestWorker("w"));
    ASSERT_TRUE(acquired.ok() && acquired->trial.has_value()) << acquired.status();
    trial_ = acquired->trial->id;
    lease_ = acquired->lease->lease_id;
  }

  // Random bytes (incompressible, like weights).
  static std::string Bytes(size_t n, uint64_t seed) {
    std::mt19937_64 rng(seed);
    std::string out(n, '\0');
    for (char& c : out) c = static_cast<char>(rng());
    return out;
  }

  // Snapshot files under the server's snapshot directory.
  int SnapshotFiles() const {
    int files = 0;
    for (const auto& f :
         std::filesystem::recursive_directory_iterator(dir_ / "sweeps.db.snapshots")) {
      files += f.is_regular_file() ? 1 : 0;
    }
    return files;
  }

  std::filesystem::path dir_;
  std::unique_ptr<Server> server_;
  std::unique_ptr<rpc::CoordinatorClient> client_;
  TrialId trial_ = 0;
  std::string lease_;
};

TEST_F(SnapshotTransferTest, NineteenMegabytesGoInChunksAndComeBackWhole) {
  const std::string bytes = Bytes(19 << 20, 1);
  ASSERT_TRUE(client_->UploadSnapshot(trial_, lease_, 500, bytes).ok());
  auto back = client_->DownloadSnapshot(trial_, lease_, std::nullopt);
  ASSERT_TRUE(back.ok()) << back.status();
  ASSERT_TRUE(back->has_value());
  EXPECT_EQ((*back)->step, 500);
  EXPECT_EQ((*back)->attempt, 1);
  EXPECT_TRUE((*back)->bytes == bytes);
  // It is a file beside the database.
  EXPECT_TRUE(std::filesystem::exists(dir_ / "sweeps.db.snapshots"));
}

TEST_F(SnapshotTransferTest, AStaleLeaseOrAStepPastTheBudgetStoresNothing) {
  EXPECT_EQ(client_->UploadSnapshot(trial_, "not-the-lease", 10, "abc").code(),
            absl::StatusCode::kAborted);
  EXPECT_EQ(client_->UploadSnapshot(trial_, lease_, 1001, "abc").code(),
            absl::StatusCode::kInvalidArgument);
  auto back = client_->DownloadSnapshot(trial_, lease_, std::nullopt);
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_FALSE(back->has_value());
  EXPECT_EQ(client_->DownloadSnapshot(trial_, "not-the-lease", std::nullopt).status().code(),
            absl::StatusCode::kAborted);
  // Refused uploads are not counted.
  auto attempts = client_->ListAttempts(trial_);
  ASSERT_TRUE(attempts.ok()) << attempts.status();
  ASSERT_EQ(attempts->size(), 1u);
  EXPECT_EQ((*attempts)[0].snapshots, 0);
  EXPECT_FALSE((*attempts)[0].snapshot_step.has_value());
}

TEST_F(SnapshotTransferTest, WeightsExistOnlyForSucceededTrialsThatKeptThem) {
  EXPECT_EQ(client_->DownloadWeights(trial_).status().code(), absl::StatusCode::kNotFound);
  const std::string final_bytes = Bytes(1000, 2);
  ASSERT_TRUE(client_->UploadSnapshot(trial_, lease_, 400, Bytes(900, 3)).ok());
  ASSERT_TRUE(client_->UploadSnapshot(trial_, lease_, 1000, final_bytes).ok());
  ASSERT_TRUE(client_->CompleteTrial(trial_, lease_, {.state = TrialState::kSucceeded}).ok());
  auto weights = client_->DownloadWeights(trial_);
  ASSERT_TRUE(weights.ok()) << weights.status();
  EXPECT_EQ(weights->step, 1000);
  EXPECT_EQ(weights->bytes, final_bytes);
  // Retention: only the final snapshot is left.
  EXPECT_EQ(SnapshotFiles(), 1);
  // The attempt counts both snapshots it had acknowledged, though retention
  // kept one file.
  auto attempts = client_->ListAttempts(trial_);
  ASSERT_TRUE(attempts.ok()) << attempts.status();
  ASSERT_EQ(attempts->size(), 1u);
  const TrialAttempt& attempt = (*attempts)[0];
  EXPECT_EQ(attempt.trial_id, trial_);
  EXPECT_EQ(attempt.attempt, 1);
  EXPECT_EQ(attempt.worker_id, "w");
  EXPECT_EQ(attempt.outcome, "succeeded");
  EXPECT_TRUE(attempt.ended_at.has_value());
  EXPECT_EQ(attempt.started_at_step, 0);
  EXPECT_FALSE(attempt.reached_step.has_value());  // no checkpoint was reported
  EXPECT_FALSE(attempt.updates_redone.has_value());
  EXPECT_EQ(attempt.snapshots, 2);
  EXPECT_EQ(attempt.snapshot_step, 1000);
  EXPECT_EQ(client_->ListAttempts(trial_ + 100).status().code(), absl::StatusCode::kNotFound);
}

// A trial a rule stops at a report (here the stuck rule: diverged; ASHA's
// pruned ends the same way) never completes, and keeps nothing.
TEST_F(SnapshotTransferTest, ATrialStoppedByARuleKeepsNoSnapshot) {
  ASSERT_TRUE(client_
                  ->CreateSweep("name: stuck\nmodel: {depth: 1}\ntraining: {updates: 1000, "
                                "stuck_after_updates: 100, stuck_error: 0.4}\n")
                  .ok());
  auto acquired = client_->AcquireTrial(TestWorker("w2"));
  ASSERT_TRUE(acquired.ok() && acquired->trial.has_value()) << acquired.status();
  const TrialId trial = acquired->trial->id;
  const std::string lease = acquired->lease->lease_id;
  ASSERT_TRUE(client_->UploadSnapshot(trial, lease, 50, Bytes(500, 4)).ok());
  ASSERT_EQ(SnapshotFiles(), 1);
  // Validation error 0.45 >= 0.4 at update 100: the trial ends diverged.
  auto stopped = client_->ReportCheckpoints(trial, lease, {TestCheckpoint(100, 1)});
  ASSERT_TRUE(stopped.ok()) << stopped.status();
  ASSERT_EQ(stopped->stopped, TrialState::kDiverged);
  EXPECT_EQ(SnapshotFiles(), 0);
}

// Released with a snapshot (a worker told to stop), then its sweep cancelled:
// the trial ends without a worker ever calling again.
TEST_F(SnapshotTransferTest, CancellingASweepDropsTheSnapshotsOfItsEndedTrials) {
  ASSERT_TRUE(client_->UploadSnapshot(trial_, lease_, 300, Bytes(500, 5)).ok());
  ASSERT_TRUE(client_->ReleaseTrial(trial_, lease_).ok());
  EXPECT_EQ(SnapshotFiles(), 1);  // pending again: the next attempt resumes from it
  ASSERT_TRUE(client_->CancelSweep(1).ok());
  EXPECT_EQ(SnapshotFiles(), 0);
}

// Snapshots of a trial that ended while nothing pruned them (the server was
// killed in between) are dropped at the next start; a running trial's stay.
TEST_F(SnapshotTransferTest, AtStartTheSnapshotsOfEndedTrialsAreDropped) {
  ASSERT_TRUE(client_->CreateSweep("name: other\ntraining: {updates: 1000}\n").ok());
  auto running = client_->AcquireTrial(TestWorker("w2"));
  ASSERT_TRUE(running.ok() && running->trial.has_value()) << running.status();
  ASSERT_TRUE(
      client_->UploadSnapshot(running->trial->id, running->lease->lease_id, 200, Bytes(300, 6))
          .ok());
  ASSERT_TRUE(client_->FailTrial(trial_, lease_, "broken", /*retryable=*/false).ok());
  client_.reset();
  server_.reset();
  // What a kill between the trial's end and its pruning leaves behind.
  {
    auto store = FileSnapshotStore::Open((dir_ / "sweeps.db.snapshots").string());
    ASSERT_TRUE(store.ok()) << store.status();
    const std::string bytes = Bytes(400, 7);
    ASSERT_TRUE(
        (*store)
            ->Put({.trial_id = trial_, .step = 100, .attempt = 1, .crc32 = Crc32(bytes)}, bytes)
            .ok());
  }
  ASSERT_EQ(SnapshotFiles(), 2);
  auto server = Server::Start(LoopbackOptions(dir_ / "sweeps.db"));
  ASSERT_TRUE(server.ok()) << server.status();
  EXPECT_EQ(SnapshotFiles(), 1);
  auto store = FileSnapshotStore::Open((dir_ / "sweeps.db.snapshots").string());
  ASSERT_TRUE(store.ok());
  auto left = (*store)->Trials();
  ASSERT_TRUE(left.ok()) << left.status();
  EXPECT_EQ(*left, std::vector<TrialId>{running->trial->id});
}

}  // namespace
}  // namespace deepsweep::server
