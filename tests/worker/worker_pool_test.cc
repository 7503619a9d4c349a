// The embedded mode end to end in one process: a real Coordinator (through
// LocalCoordinatorClient, on the in-memory store) and a pool of worker
// threads run a small sweep; every stored checkpoint equals, bit for bit, an
// in-process TrialRunner run of the same trial.
#include "worker/worker_pool.h"

#include <memory>
#include <set>
#include <string>

#include "common/clock.h"
#include "gtest/gtest.h"
#include "rpc/local_coordinator_client.h"
#include "store/memory_sweep_store.h"
#include "tests/testing/checkpoint_compare.h"
#include "worker/dataset_cache.h"
#include "worker/trial_runner.h"

namespace deepsweep::worker {
namespace {

constexpr char kSweep[] = R"(
name: pool-test
dataset: {name: shapeset, validation_examples: 50, test_examples: 80}
model: {width: 8}
training: {batch_size: 10, updates: 60, checkpoint_every: 20, probe_examples: 16}
grid:
  activation: [tanh, softsign]
  depth: [1, 2]
seeds: 2
)";

TEST(WorkerPool, RunsASweepToTheEndWithTheSameMetricsAsOneProcess) {
  rpc::LocalCoordinatorClient coordinator(std::make_unique<MemorySweepStore>(),
                                          SystemClock::Default());
  auto sweep = coordinator.CreateSweep(kSweep);
  ASSERT_TRUE(sweep.ok()) << sweep.status();

  DatasetCache datasets;
  TrialRunner runner(&datasets, SystemClock::Default());
  RealSleeper sleeper;
  WorkerPool pool(&coordinator, &runner, SystemClock::Default(), &sleeper,
                  WorkerPoolOptions{.workers = 2});
  pool.Start();
  ASSERT_TRUE(
      coordinator.WatchSweep(sweep->id, [](const rpc::SweepProgress&) { return true; }).ok());
  pool.Shutdown();
  ASSERT_TRUE(pool.Wait().ok());

  TrialQuery all;
  all.sweep_id = sweep->id;
  auto trials = coordinator.ListTrials(all);
  ASSERT_TRUE(trials.ok());
  ASSERT_EQ(trials->size(), 8u);
  std::set<std::string> workers;
  for (const TrialRecord& t : *trials) {
    EXPECT_EQ(t.state, TrialState::kSucceeded) << t.id << " " << t.reason;
    workers.insert(t.worker_id);
    auto stored = coordinator.GetCheckpoints(t.id, std::nullopt, /*with_layer_stats=*/true);
    ASSERT_TRUE(stored.ok()) << stored.status();
    std::vector<Checkpoint> expected;
    ASSERT_TRUE(runner
                    .RunTrial(t.spec,
                              [&](const Checkpoint& c) {
                                expected.push_back(c);
                                return false;
                              })
                    .ok());
    EXPECT_EQ(testing::CheckpointsDifference(*stored, expected), "") << "trial " << t.id;
  }
  EXPECT_EQ(pool.stats().trials_completed, 8);
  auto registered = coordinator.ListWorkers();
  ASSERT_TRUE(registered.ok());
  EXPECT_EQ(registered->size(), 2u);
  for (const WorkerRecord& w : *registered) EXPECT_GT(w.info.pid, 0);
}

}  // namespace
}  // namespace deepsweep::worker
