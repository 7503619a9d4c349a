// Trainer snapshots: a run interrupted after update k and resumed from its
// snapshot in a fresh Trainer and Dataset reports the same checkpoints as an
// uninterrupted run, bit for bit (clock readings aside), for several k (at and
// between checkpoints), activations, optimizers and training streams; damaged
// snapshots are rejected before any update.
#include <atomic>
#include <bit>
#include <cstring>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "common/clock.h"
#include "gtest/gtest.h"
#include "ml/data/dataset_factory.h"
#include "ml/snapshot_format.h"
#include "ml/trainer.h"

namespace deepsweep::ml {
namespace {

// Bitwise: NaN == NaN, and +0 != -0.
bool Same(double a, double b) { return std::bit_cast<uint64_t>(a) == std::bit_cast<uint64_t>(b); }

void ExpectSameQuantity(const QuantityStats& a, const QuantityStats& b, const std::string& where) {
  EXPECT_TRUE(Same(a.mean, b.mean)) << where;
  EXPECT_TRUE(Same(a.std, b.std)) << where;
  EXPECT_TRUE(Same(a.p02, b.p02)) << where;
  EXPECT_TRUE(Same(a.p50, b.p50)) << where;
  EXPECT_TRUE(Same(a.p98, b.p98)) << where;
  EXPECT_TRUE(Same(a.saturated_fraction, b.saturated_fraction)) << where;
  EXPECT_TRUE(Same(a.jacobian_sv_mean, b.jacobian_sv_mean)) << where;
  EXPECT_TRUE(Same(a.hist_lo, b.hist_lo)) << where;
  EXPECT_TRUE(Same(a.hist_hi, b.hist_hi)) << where;
  ASSERT_EQ(a.histogram.size(), b.histogram.size()) << where;
  EXPECT_EQ(std::memcmp(a.histogram.data(), b.histogram.data(), a.histogram.size() * sizeof(float)),
            0)
      << where;
}

// Every field but wall_seconds and monitor_seconds.
void ExpectSameCheckpoint(const CheckpointMetrics& a, const CheckpointMetrics& b) {
  const std::string where = "step " + std::to_string(a.step);
  EXPECT_EQ(a.step, b.step);
  EXPECT_EQ(a.examples_seen, b.examples_seen) << where;
  EXPECT_TRUE(Same(a.train_nll, b.train_nll))
      << where << ": " << a.train_nll << " vs " << b.train_nll;
  EXPECT_TRUE(Same(a.train_loss, b.train_loss)) << where;
  EXPECT_TRUE(Same(a.test_error, b.test_error)) << where;
  EXPECT_TRUE(Same(a.test_nll, b.test_nll)) << where << ": " << a.test_nll << " vs " << b.test_nll;
  EXPECT_TRUE(Same(a.validation_error, b.validation_error)) << where;
  EXPECT_TRUE(Same(a.validation_nll, b.validation_nll)) << where;
  ASSERT_EQ(a.layers.size(), b.layers.size()) << where;
  for (size_t l = 0; l < a.layers.size(); ++l) {
    EXPECT_EQ(a.layers[l].layer, b.layers[l].layer);
    ExpectSameQuantity(a.layers[l].activation, b.layers[l].activation, where + " activation");
    ExpectSameQuantity(a.layers[l].backprop_grad, b.layers[l].backprop_grad, where + " backprop");
    ExpectSameQuantity(a.layers[l].weight_grad, b.layers[l].weight_grad, where + " weight grad");
  }
}

struct Case {
  std::string name;
  DatasetOptions data;
  TrainConfig config;
};

TrainConfig SmallConfig(Activation activation) {
  TrainConfig c;
  c.activation = activation;
  c.hidden = {24, 16};
  c.learning_rate = 0.05;
  c.batch_size = 8;
  c.updates = 60;
  c.checkpoint_every = 20;
  c.probe_examples = 40;
  c.histogram_bins = 8;
  c.jacobian_examples = 1;
  c.seed = 17;
  return c;
}

DatasetOptions SmallShapeset() {
  DatasetOptions d;
  d.validation_examples = 100;
  d.test_examples = 150;
  d.probe_examples = 40;
  return d;
}

std::vector<Case> Cases() {
  std::vector<Case> cases;
  // The paper's online stream (ShapesetStream).
  cases.push_back({"online tanh", SmallShapeset(), SmallConfig(Activation::kTanh)});
  // A finite training set reshuffled every epoch (EpochStream), crossing
  // several epochs (60 updates x 8 = 480 examples of 70), with momentum and
  // lr decay (velocities and the decay position are optimizer state).
  Case epochs{"epochs softsign momentum", SmallShapeset(), SmallConfig(Activation::kSoftsign)};
  epochs.data.train_examples = 70;
  epochs.config.momentum = 0.9;
  epochs.config.lr_decay = 0.01;
  cases.push_back(std::move(epochs));
  // Standardized online stream (TransformingStream around ShapesetStream).
  Case standardized{"standardized sigmoid", SmallShapeset(), SmallConfig(Activation::kSigmoid)};
  standardized.data.preprocess = Preprocess::kStandardize;
  standardized.data.standardize_sample = 200;
  cases.push_back(std::move(standardized));
  return cases;
}

struct RunLog {
  TrainResult result;
  std::vector<CheckpointMetrics> checkpoints;
  std::vector<std::pair<int64_t, std::string>> snapshots;
};

// Trains `c` on a freshly built dataset with the given hooks (observer and
// snapshot sink filled in here).
RunLog Train(const Case& c, TrainHooks hooks, FakeClock& clock) {
  auto data = LoadDataset(c.data, /*seed=*/5);
  EXPECT_TRUE(data.ok()) << data.status();
  RunLog run;
  hooks.observer = [&](const CheckpointMetrics& m) {
    run.checkpoints.push_back(m);
    clock.Advance(absl::Seconds(1));
    return false;
  };
  hooks.on_snapshot = [&](int64_t step, std::string bytes) {
    run.snapshots.emplace_back(step, std::move(bytes));
  };
  auto result = Trainer(c.config, &clock).Train(*data, hooks);
  EXPECT_TRUE(result.ok()) << result.status();
  if (result.ok()) run.result = *result;
  return run;
}

TEST(TrainerSnapshot, ResumedRunsMatchTheUninterruptedRunBitForBit) {
  for (const Case& c : Cases()) {
    SCOPED_TRACE(c.name);
    FakeClock clock;
    const RunLog whole = Train(c, {}, clock);
    ASSERT_EQ(whole.checkpoints.size(), 4u);  // 0, 20, 40, 60
    // Snapshots at and between checkpoints, after the first and the last update.
    for (int64_t k : {1, 7, 20, 33, 40, 59, 60}) {
      SCOPED_TRACE("k = " + std::to_string(k));
      // Stop after update k and snapshot on the way out, as a worker on SIGTERM.
      std::atomic<bool> stop{false};
      const RunLog first = Train(c,
                                 TrainHooks{.stop = &stop,
                                            .snapshot_due =
                                                [&](int64_t step) {
                                                  if (step == k) stop = true;
                                                  return false;
                                                },
                                            .snapshot_on_stop = true},
                                 clock);
      ASSERT_EQ(first.snapshots.size(), k == 60 ? 0u : 1u);
      if (k == 60) continue;  // finished: nothing to stop
      EXPECT_EQ(first.result.status, TrainStatus::kStopped);
      EXPECT_EQ(first.result.steps, k);
      EXPECT_EQ(first.snapshots[0].first, k);

      const RunLog rest = Train(c, TrainHooks{.resume_from = first.snapshots[0].second}, clock);
      // The two halves together are the whole run's checkpoints, each once.
      std::vector<CheckpointMetrics> joined = first.checkpoints;
      joined.insert(joined.end(), rest.checkpoints.begin(), rest.checkpoints.end());
      ASSERT_EQ(joined.size(), whole.checkpoints.size());
      for (size_t i = 0; i < joined.size(); ++i)
        ExpectSameCheckpoint(joined[i], whole.checkpoints[i]);
      EXPECT_EQ(rest.result.status, TrainStatus::kSucceeded);
      EXPECT_EQ(rest.result.steps, 60);
      ExpectSameCheckpoint(rest.result.last_checkpoint, whole.result.last_checkpoint);
    }
  }
}

TEST(TrainerSnapshot, PeriodicSnapshotsDoNotPerturbTrainingAndEachResumesExactly) {
  const Case c = Cases()[1];
  FakeClock clock;
  const RunLog whole = Train(c, {}, clock);
  const RunLog periodic = Train(
      c, TrainHooks{.snapshot_due = [](int64_t step) { return step % 13 == 0 || step == 60; }},
      clock);
  ASSERT_EQ(periodic.checkpoints.size(), whole.checkpoints.size());
  for (size_t i = 0; i < whole.checkpoints.size(); ++i) {
    ExpectSameCheckpoint(periodic.checkpoints[i], whole.checkpoints[i]);
  }
  ASSERT_EQ(periodic.snapshots.size(), 5u);  // 13, 26, 39, 52, 60
  // A chain: resume from 26, snapshot again at 39 on the resumed run, resume from that.
  const RunLog from26 = Train(c,
                              TrainHooks{.snapshot_due = [](int64_t step) { return step == 39; },
                                         .resume_from = periodic.snapshots[1].second},
                              clock);
  ASSERT_EQ(from26.snapshots.size(), 1u);
  EXPECT_EQ(from26.snapshots[0].second, periodic.snapshots[2].second)
      << "the snapshot of a resumed run differs from the uninterrupted run's (clock fields aside, "
         "the fake clock makes them equal too)";
  const RunLog from39 = Train(c, TrainHooks{.resume_from = from26.snapshots[0].second}, clock);
  ASSERT_EQ(from39.checkpoints.size(), 2u);  // 40, 60
  ExpectSameCheckpoint(from39.checkpoints[0], whole.checkpoints[2]);
  ExpectSameCheckpoint(from39.checkpoints[1], whole.checkpoints[3]);
  // The final snapshot resumes to an immediate success with the last checkpoint.
  const RunLog after_end = Train(c, TrainHooks{.resume_from = periodic.snapshots[4].second}, clock);
  EXPECT_TRUE(after_end.checkpoints.empty());
  EXPECT_EQ(after_end.result.status, TrainStatus::kSucceeded);
  EXPECT_EQ(after_end.result.steps, 60);
  ExpectSameCheckpoint(after_end.result.last_checkpoint, whole.result.last_checkpoint);
}

TEST(TrainerSnapshot, ClockReadingsContinueFromTheSnapshot) {
  const Case c = Cases()[0];
  FakeClock clock;
  const RunLog first = Train(c, TrainHooks{.snapshot_due = [](int64_t step) { return step == 30; }},
                             clock);  // 1 s per checkpoint: 0, 20 before the snapshot
  ASSERT_EQ(first.snapshots.size(), 1u);
  const RunLog rest = Train(c, TrainHooks{.resume_from = first.snapshots[0].second}, clock);
  ASSERT_EQ(rest.checkpoints.size(), 2u);
  // The observer advances the clock by 1 s after each checkpoint: 2 s had
  // passed at the snapshot (after checkpoints 0 and 20), so the resumed run
  // reads 2 and 3 s at 40 and 60, as the uninterrupted run does.
  EXPECT_EQ(rest.checkpoints[0].wall_seconds, 2.0);
  EXPECT_EQ(rest.checkpoints[1].wall_seconds, 3.0);
}

std::string SnapshotAt(const Case& c, int64_t k) {
  FakeClock clock;
  const RunLog run =
      Train(c, TrainHooks{.snapshot_due = [k](int64_t step) { return step == k; }}, clock);
  EXPECT_EQ(run.snapshots.size(), 1u);
  return run.snapshots.empty() ? "" : run.snapshots[0].second;
}

absl::Status ResumeStatus(const Case& c, std::string_view bytes) {
  auto data = LoadDataset(c.data, 5);
  if (!data.ok()) return data.status();
  FakeClock clock;
  return Trainer(c.config, &clock).Train(*data, TrainHooks{.resume_from = bytes}).status();
}

TEST(TrainerSnapshot, DamagedSnapshotsAreRejectedByTheChecksum) {
  const Case c = Cases()[1];
  const std::string good = SnapshotAt(c, 25);
  ASSERT_TRUE(ResumeStatus(c, good).ok());
  // One flipped bit anywhere: in the weights, the stream state, the header's length.
  for (size_t at : {good.size() / 2, good.size() - 3, size_t{30}, size_t{17}}) {
    std::string bad = good;
    bad[at] ^= 0x10;
    const absl::Status s = ResumeStatus(c, bad);
    EXPECT_EQ(s.code(), absl::StatusCode::kDataLoss) << at << ": " << s;
  }
  for (size_t size : {size_t{1}, size_t{10}, size_t{24}, good.size() / 3, good.size() - 1}) {
    const absl::Status s = ResumeStatus(c, good.substr(0, size));
    EXPECT_EQ(s.code(), absl::StatusCode::kDataLoss) << size << ": " << s;
  }
  EXPECT_EQ(ResumeStatus(c, good + "x").code(), absl::StatusCode::kDataLoss);
  std::string future = good;
  future[8] = 2;  // version 2
  EXPECT_EQ(ResumeStatus(c, future).code(), absl::StatusCode::kFailedPrecondition);
}

TEST(TrainerSnapshot, ASnapshotOfAnotherConfigOrDatasetIsRefused) {
  const Case c = Cases()[1];
  const std::string bytes = SnapshotAt(c, 25);
  Case other_lr = c;
  other_lr.config.learning_rate = 0.06;
  EXPECT_EQ(ResumeStatus(other_lr, bytes).code(), absl::StatusCode::kFailedPrecondition);
  Case other_size = c;
  other_size.data.train_examples = 71;  // the epoch order has another length
  const absl::Status s = ResumeStatus(other_size, bytes);
  EXPECT_EQ(s.code(), absl::StatusCode::kDataLoss) << s;
  EXPECT_NE(s.message().find("epoch order"), std::string::npos) << s;
  // Threads may differ (results may then differ in the last bits, not the layout).
  Case threads = c;
  threads.config.threads = 2;
  EXPECT_TRUE(ResumeStatus(threads, bytes).ok());
}

TEST(TrainerSnapshot, FrameRoundTripsAndNamesItsFailures) {
  const std::string frame = FrameSnapshot("payload");
  ASSERT_EQ(frame.size(), kSnapshotHeaderBytes + 7);
  auto payload = UnframeSnapshot(frame);
  ASSERT_TRUE(payload.ok());
  EXPECT_EQ(*payload, "payload");
  std::string bad = frame;
  bad[kSnapshotHeaderBytes + 1] ^= 1;
  EXPECT_NE(UnframeSnapshot(bad).status().message().find("checksum"), std::string::npos);
  EXPECT_NE(UnframeSnapshot("not a snapshot at all, 24+").status().message().find("magic"),
            std::string::npos);
}

}  // namespace
}  // namespace deepsweep::ml
