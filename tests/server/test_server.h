// Helpers for the server tests: a real deepsweep-server on 127.0.0.1 port 0
// with a fresh SQLite file, and clients connected to it.
#ifndef DEEPSWEEP_TESTS_SERVER_TEST_SERVER_H_
#define DEEPSWEEP_TESTS_SERVER_TEST_SERVER_H_

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "core/trial.h"
#include "gtest/gtest.h"
#include "rpc/grpc_coordinator_client.h"
#include "server/server.h"

namespace deepsweep::server::testing {

// A sweep of three small trials (depth 1, 2, 3) with two attempts each.
inline constexpr char kThreeTrialSpec[] = R"(name: wire-test
model: {width: 8}
training: {updates: 100, checkpoint_every: 50, batch_size: 10}
grid:
  depth: [1, 2, 3]
limits: {max_attempts: 2}
)";

// A fresh directory under the test's temp dir, unique per test.
inline std::filesystem::path FreshDirectory() {
  const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
  std::filesystem::path dir =
      std::filesystem::path(::testing::TempDir()) /
      absl::StrCat("deepsweep_", info->test_suite_name(), "_", info->name(), "_", getpid());
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  return dir;
}

// Options for a plaintext server on 127.0.0.1, any free port, SQLite at `db`.
inline Server::Options LoopbackOptions(const std::filesystem::path& db) {
  Server::Options options;
  options.address = "127.0.0.1:0";
  options.database_path = db.string();
  return options;
}

inline std::unique_ptr<rpc::CoordinatorClient> Connect(int port, const std::string& token = "") {
  rpc::ClientOptions options;
  options.target = absl::StrCat("127.0.0.1:", port);
  options.token = token;
  options.call_timeout = absl::Seconds(20);
  absl::StatusOr<std::unique_ptr<rpc::CoordinatorClient>> client = rpc::ConnectCoordinator(options);
  EXPECT_TRUE(client.ok()) << client.status();
  return client.ok() ? std::move(*client) : nullptr;
}

inline WorkerInfo TestWorker(const std::string& id) {
  return WorkerInfo{.worker_id = id, .host = "test-host", .pid = 1, .version = "test", .cores = 1};
}

// A checkpoint at `step` with one activation and one weight-gradient stat per
// layer, histograms of four bins.
inline Checkpoint TestCheckpoint(int64_t step, int layers) {
  Checkpoint checkpoint{.step = step,
                        .examples_seen = step * 10,
                        .train_nll = 1.0 / static_cast<double>(step),
                        .test_error = 0.5,
                        .test_nll = 0.7,
                        .validation_error = 0.45,
                        .validation_nll = 0.69,
                        .wall_seconds = 0.01 * static_cast<double>(step)};
  for (int layer = 1; layer <= layers; ++layer) {
    for (LayerQuantity quantity : {LayerQuantity::kActivation, LayerQuantity::kWeightGrad}) {
      checkpoint.layer_stats.push_back(LayerStat{.layer = layer,
                                                 .quantity = quantity,
                                                 .mean = 0.1 * layer,
                                                 .std = 0.2,
                                                 .p02 = -0.5,
                                                 .p50 = 0.0,
                                                 .p98 = 0.5,
                                                 .saturated_fraction = 0.05,
                                                 .jacobian_sv_mean = 0.9,
                                                 .hist_lo = -1,
                                                 .hist_hi = 1,
                                                 .histogram = {0.25f, 0.25f, 0.25f, 0.25f}});
    }
  }
  return checkpoint;
}

// Acquires the next `count` trials as `worker_id` and completes each as
// SUCCEEDED; returns their ids. Fails the test when a trial is missing.
inline std::vector<TrialId> SucceedNextTrials(rpc::CoordinatorClient& client, int count,
                                              const std::string& worker_id = "finisher") {
  std::vector<TrialId> ids;
  for (int i = 0; i < count; ++i) {
    absl::StatusOr<Acquisition> next = client.AcquireTrial(TestWorker(worker_id));
    EXPECT_TRUE(next.ok() && next->trial.has_value()) << next.status();
    if (!next.ok() || !next->trial.has_value()) break;
    const absl::Status completed = client.CompleteTrial(next->trial->id, next->lease->lease_id,
                                                        {.state = TrialState::kSucceeded});
    EXPECT_TRUE(completed.ok()) << completed;
    ids.push_back(next->trial->id);
  }
  return ids;
}

}  // namespace deepsweep::server::testing

#endif  // DEEPSWEEP_TESTS_SERVER_TEST_SERVER_H_
