// Snapshots over the wire: a 19 MB snapshot (a 5 x 1000 net's size) streams
// to the server in chunks under the default 4 MiB message limit and comes
// back whole; stale leases and bad checksums store nothing.
#include <filesystem>
#include <memory>
#include <random>
#include <string>

#include "gtest/gtest.h"
#include "tests/server/test_server.h"

namespace deepsweep::server {
namespace {

using testing::Connect;
using testing::FreshDirectory;
using testing::LoopbackOptions;
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
  int files = 0;
  for (const auto& f :
       std::filesystem::recursive_directory_iterator(dir_ / "sweeps.db.snapshots")) {
    files += f.is_regular_file() ? 1 : 0;
  }
  EXPECT_EQ(files, 1);
}

}  // namespace
}  // namespace deepsweep::server
