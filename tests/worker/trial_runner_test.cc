#include "worker/trial_runner.h"

#include <atomic>
#include <cmath>
#include <vector>

#include "common/clock.h"
#include "core/sweep_spec.h"
#include "gtest/gtest.h"
#include "tests/testing/checkpoint_compare.h"
#include "tests/worker/test_trials.h"

namespace deepsweep::worker {
namespace {

std::vector<Checkpoint> RunAll(const TrialSpec& spec, TrialRun* run = nullptr) {
  DatasetCache cache;
  FakeClock clock;
  TrialRunner runner(&cache, &clock);
  std::vector<Checkpoint> seen;
  auto result = runner.RunTrial(spec, [&](const Checkpoint& c) {
    seen.push_back(c);
    return false;
  });
  EXPECT_TRUE(result.ok()) << result.status();
  if (run != nullptr && result.ok()) *run = *result;
  return seen;
}

TEST(TrialRunner, MapsEveryTrainingField) {
  TrialSpec spec = TinyTrial();
  spec.activation = "softsign";
  spec.init = "standard";
  spec.depth = 3;
  spec.width = 17;
  spec.loss = "quadratic";
  spec.learning_rate = 0.25;
  spec.momentum = 0.5;
  spec.lr_decay = 0.001;
  spec.batch_size = 7;
  spec.updates = 123;
  spec.checkpoint_every = 40;
  spec.probe_examples = 1;
  spec.seed = 99;
  spec.histogram_bins = 13;
  auto c = ToTrainConfig(spec, TrialRunnerOptions{.threads = 2});
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->activation, ml::Activation::kSoftsign);
  EXPECT_EQ(c->init, ml::Init::kStandard);
  EXPECT_EQ(c->hidden, (std::vector<int>{17, 17, 17}));
  EXPECT_EQ(c->loss, ml::Loss::kQuadratic);
  EXPECT_EQ(c->learning_rate, 0.25);
  EXPECT_EQ(c->momentum, 0.5);
  EXPECT_EQ(c->lr_decay, 0.001);
  EXPECT_EQ(c->batch_size, 7);
  EXPECT_EQ(c->updates, 123);
  EXPECT_EQ(c->checkpoint_every, 40);
  EXPECT_EQ(c->probe_examples, 1);
  EXPECT_EQ(c->jacobian_examples, 1);  // capped at the probe size
  EXPECT_EQ(c->histogram_bins, 13);
  EXPECT_EQ(c->seed, 99u);
  EXPECT_EQ(c->threads, 2);

  auto d = ToDatasetOptions(spec);
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(d->name, "shapeset");
  EXPECT_EQ(d->validation_examples, 40);
  EXPECT_EQ(d->test_examples, 60);
  EXPECT_EQ(d->probe_examples, 1);
  EXPECT_EQ(d->preprocess, ml::Preprocess::kPm1);
}

TEST(TrialRunner, BadSpecsNameTheField) {
  struct Case {
    void (*mutate)(TrialSpec&);
    const char* field;
  };
  const Case cases[] = {
      {[](TrialSpec& s) { s.activation = "swish9"; }, "activation"},
      {[](TrialSpec& s) { s.init = "zeros"; }, "init"},
      {[](TrialSpec& s) { s.loss = "hinge"; }, "loss"},
      {[](TrialSpec& s) { s.width = 0; }, "width"},
      {[](TrialSpec& s) { s.batch_size = 0; }, "batch_size"},
      {[](TrialSpec& s) { s.dataset.preprocess = "whiten"; }, "preprocess"},
  };
  DatasetCache cache;
  TrialRunner runner(&cache, SystemClock::Default());
  for (const Case& c : cases) {
    TrialSpec spec = TinyTrial();
    c.mutate(spec);
    auto run = runner.RunTrial(spec, nullptr);
    ASSERT_FALSE(run.ok()) << c.field;
    EXPECT_EQ(run.status().code(), absl::StatusCode::kInvalidArgument) << c.field;
    EXPECT_NE(run.status().message().find(c.field), std::string_view::npos) << run.status();
  }
}

TEST(TrialRunner, ReportsEveryCheckpointWithThreeStatsPerLayer) {
  TrialSpec spec = TinyTrial(/*updates=*/45);
  spec.depth = 2;
  TrialRun run;
  const std::vector<Checkpoint> seen = RunAll(spec, &run);
  EXPECT_EQ(run.status, ml::TrainStatus::kSucceeded);
  EXPECT_EQ(run.steps, 45);
  std::vector<int64_t> steps;
  for (const Checkpoint& c : seen) steps.push_back(c.step);
  EXPECT_EQ(steps, (std::vector<int64_t>{0, 10, 20, 30, 40, 45}));
  const Checkpoint& last = seen.back();
  EXPECT_EQ(last.examples_seen, 450);
  EXPECT_TRUE(std::isnan(seen.front().train_nll));  // nothing trained yet
  EXPECT_GT(last.train_nll, 0);
  EXPECT_GE(last.test_error, 0);
  EXPECT_LE(last.test_error, 1);
  ASSERT_EQ(last.layer_stats.size(), 6u);
  const LayerQuantity order[] = {LayerQuantity::kActivation, LayerQuantity::kBackpropGrad,
                                 LayerQuantity::kWeightGrad};
  for (size_t i = 0; i < 6; ++i) {
    EXPECT_EQ(last.layer_stats[i].layer, static_cast<int>(i / 3) + 1);
    EXPECT_EQ(last.layer_stats[i].quantity, order[i % 3]);
    EXPECT_EQ(last.layer_stats[i].histogram.size(), 50u);
  }
  // tanh activations lie in [-1, 1]; the histogram range says so.
  EXPECT_EQ(last.layer_stats[0].hist_lo, -1);
  EXPECT_EQ(last.layer_stats[0].hist_hi, 1);
}

TEST(TrialRunner, SameSpecSameBitsOtherSeedOtherBits) {
  TrialSpec spec = TinyTrial();
  spec.depth = 2;
  const std::vector<Checkpoint> a = RunAll(spec);
  const std::vector<Checkpoint> b = RunAll(spec);
  EXPECT_EQ(testing::CheckpointsDifference(a, b), "");
  spec.seed += 1;
  const std::vector<Checkpoint> c = RunAll(spec);
  EXPECT_NE(a.back().test_nll, c.back().test_nll);
}

TEST(TrialRunner, HistogramBinsComeFromTheTrial) {
  TrialSpec spec = TinyTrial(/*updates=*/10);
  spec.histogram_bins = 7;
  const std::vector<Checkpoint> seen = RunAll(spec);
  ASSERT_FALSE(seen.empty());
  for (const LayerStat& s : seen.back().layer_stats) EXPECT_EQ(s.histogram.size(), 7u);
}

// The data comes from data_seed, not from the weight seed: trials that share
// a data seed share one generation of Shapeset's fixed sets.
TEST(TrialRunner, DataComesFromTheDataSeed) {
  DatasetCache cache;
  FakeClock clock;
  TrialRunner runner(&cache, &clock);
  TrialSpec a = TinyTrial(/*updates=*/10, /*seed=*/1);
  TrialSpec b = TinyTrial(/*updates=*/10, /*seed=*/2);
  a.data_seed = b.data_seed = 5;
  ASSERT_TRUE(runner.RunTrial(a, nullptr).ok());
  ASSERT_TRUE(runner.RunTrial(b, nullptr).ok());
  EXPECT_EQ(cache.shapeset_generations(), 1);
  b.data_seed = 6;
  ASSERT_TRUE(runner.RunTrial(b, nullptr).ok());
  EXPECT_EQ(cache.shapeset_generations(), 2);
}

// A sweep's configurations of one repeat share their data, so a worker
// generates Shapeset's fixed sets once per repeat, not once per trial.
TEST(TrialRunner, TheDatasetCacheHitsWithinASweep) {
  auto parsed = ParseSweepSpec(R"(name: crn
dataset: {name: shapeset, validation_examples: 40, test_examples: 60}
model: {width: 8, depth: 1}
training: {updates: 10, checkpoint_every: 10, batch_size: 10, probe_examples: 20}
grid: {activation: [tanh, softsign], init: [standard, normalized]}
seeds: 2
)");
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  auto trials = ExpandSweep(*parsed, SweepLimits{});
  ASSERT_TRUE(trials.ok()) << trials.status();
  ASSERT_EQ(trials->size(), 8u);
  DatasetCache cache(DatasetCacheOptions{.shapeset_sets = 2});
  FakeClock clock;
  TrialRunner runner(&cache, &clock);
  for (const TrialSpec& t : *trials) ASSERT_TRUE(runner.RunTrial(t, nullptr).ok());
  EXPECT_EQ(cache.shapeset_generations(), 2);  // one per repeat (was 8: one per trial)
}

TEST(TrialRunner, ObserverStops) {
  DatasetCache cache;
  FakeClock clock;
  TrialRunner runner(&cache, &clock);
  auto run = runner.RunTrial(TinyTrial(), [](const Checkpoint& c) { return c.step == 20; });
  ASSERT_TRUE(run.ok());
  EXPECT_EQ(run->status, ml::TrainStatus::kStopped);
  EXPECT_EQ(run->steps, 20);
}

TEST(TrialRunner, StopFlagStopsBeforeTheFirstUpdate) {
  DatasetCache cache;
  FakeClock clock;
  TrialRunner runner(&cache, &clock);
  std::atomic<bool> stop{true};
  int checkpoints = 0;
  auto run = runner.RunTrial(
      EndlessTrial(),
      [&](const Checkpoint&) {
        ++checkpoints;
        return false;
      },
      &stop);
  ASSERT_TRUE(run.ok());
  EXPECT_EQ(run->status, ml::TrainStatus::kStopped);
  EXPECT_EQ(run->steps, 0);
  EXPECT_EQ(checkpoints, 1);  // the untrained net's
}

TEST(TrialRunner, DivergenceIsAResult) {
  TrialSpec spec = TinyTrial();
  spec.activation = "identity";
  spec.learning_rate = 1e30;
  TrialRun run;
  RunAll(spec, &run);
  EXPECT_EQ(run.status, ml::TrainStatus::kDiverged);
  EXPECT_FALSE(run.reason.empty());
}

}  // namespace
}  // namespace deepsweep::worker
