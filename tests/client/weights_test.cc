// `deepsweep weights`: the trained net of a trial a worker ran (its final
// snapshot, kept by the coordinator) comes out as an .npz that numpy reads
// without deepsweep, and numpy's own forward pass over the exported test set
// reproduces the trial's stored test error exactly.
#include <unistd.h>

#include <array>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <sstream>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "client/results_file.h"
#include "common/clock.h"
#include "gtest/gtest.h"
#include "rpc/local_coordinator_client.h"
#include "store/file_snapshot_store.h"
#include "store/sqlite_sweep_store.h"
#include "tests/client/cli_runner.h"
#include "tests/testing/fake_sleeper.h"
#include "worker/dataset_cache.h"
#include "worker/trial_runner.h"
#include "worker/worker_loop.h"

namespace deepsweep::client {
namespace {

// Runs `command` and returns its standard output.
std::string Capture(const std::string& command) {
  std::string out;
  FILE* pipe = ::popen(command.c_str(), "r");
  if (pipe == nullptr) return out;
  std::array<char, 256> buffer;
  while (std::fgets(buffer.data(), buffer.size(), pipe) != nullptr) out += buffer.data();
  ::pclose(pipe);
  return out;
}

class WeightsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::path(::testing::TempDir()) /
           absl::StrCat("weights_test_", ::getpid(), "_",
                        ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
    db_ = (dir_ / "results.db").string();
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  // A sweep of one trial trained by a real worker loop; returns its id.
  TrialId Train(const std::string& spec) {
    auto store = SqliteSweepStore::Open(db_);
    EXPECT_TRUE(store.ok()) << store.status();
    auto snapshots = FileSnapshotStore::Open(SnapshotDirFor(db_));
    EXPECT_TRUE(snapshots.ok()) << snapshots.status();
    rpc::LocalCoordinatorClient coordinator(*std::move(store), &clock_, {}, *std::move(snapshots));
    EXPECT_TRUE(coordinator.CreateSweep(spec).ok());
    worker::DatasetCache datasets;
    const worker::TrialRunner runner(&datasets, &clock_);
    ::deepsweep::testing::FakeSleeper sleeper(&clock_);
    worker::WorkerLoopOptions options;
    options.identity = WorkerInfo{.worker_id = "w", .host = "h", .pid = 1, .cores = 1};
    options.max_trials = 1;
    worker::WorkerLoop loop(&coordinator, &runner, &clock_, &sleeper, options);
    EXPECT_TRUE(loop.Run().ok());
    auto trials = coordinator.ListTrials({});
    EXPECT_TRUE(trials.ok() && trials->size() == 1u);
    EXPECT_EQ((*trials)[0].state, TrialState::kSucceeded);
    return (*trials)[0].id;
  }

  client::testing::CliResult Cli(std::vector<std::string> args) {
    args.insert(args.begin(), {"--db", db_});
    return client::testing::RunCommand(args, clock_, ResultsFileReader(&clock_));
  }

  FakeClock clock_;
  std::filesystem::path dir_;
  std::string db_;
};

TEST_F(WeightsTest, NumpyReproducesTheStoredTestErrorFromTheExportedNet) {
  const TrialId id = Train(R"(name: w
dataset: {name: shapeset, validation_examples: 50, test_examples: 200}
model: {activation: tanh, depth: 2, width: 16}
training: {learning_rate: 0.1, batch_size: 10, updates: 300, checkpoint_every: 100,
           probe_examples: 10}
)");
  const std::string npz = (dir_ / "net.npz").string();
  const auto r = Cli({"weights", absl::StrCat(id), "-o", npz, "--test-set"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  // The stored error, and this binary's error from the exported weights.
  const size_t stored_at = r.out.find("stored test error ");
  const size_t computed_at = r.out.find("test error from these weights ");
  ASSERT_NE(stored_at, std::string::npos) << r.out;
  ASSERT_NE(computed_at, std::string::npos) << r.out;
  double stored = 0, computed = 0;
  std::istringstream(r.out.substr(stored_at + 18)) >> stored;
  std::istringstream(r.out.substr(computed_at + 30)) >> computed;
  EXPECT_EQ(stored, computed) << r.out;
  EXPECT_GT(stored, 0.0);  // a real, imperfect net: the comparison means something
  EXPECT_LT(stored, 0.89);

  const std::string numpy =
      Capture(absl::StrCat("/usr/bin/python3 ", DEEPSWEEP_NPZ_FORWARD, " ", npz, " 2>&1"));
  int errors = -1, examples = -1;
  std::istringstream(numpy) >> errors >> examples;
  ASSERT_EQ(examples, 200) << numpy;
  EXPECT_EQ(static_cast<double>(errors) / examples, stored) << numpy << r.out;
}

TEST_F(WeightsTest, ATrialThatKeptNoWeightsSaysSo) {
  const TrialId id = Train(R"(name: none
dataset: {name: shapeset, validation_examples: 20, test_examples: 20}
model: {depth: 1, width: 4}
training: {updates: 20, checkpoint_every: 10, probe_examples: 4, keep_weights: none}
)");
  const auto r = Cli({"weights", absl::StrCat(id), "-o", (dir_ / "x.npz").string()});
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.err.find("kept no final weights (keep_weights: none)"), std::string::npos) << r.err;
  EXPECT_FALSE(std::filesystem::exists(dir_ / "x.npz"));
}

}  // namespace
}  // namespace deepsweep::client
