#include "ml/trainer.h"

#include <atomic>
#include <cmath>
#include <cstring>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "common/clock.h"
#include "gtest/gtest.h"
#include "ml/random.h"

namespace deepsweep::ml {
namespace {

// The XOR of quadrants: x uniform on [-1, 1]^d, label 1 iff x0 * x1 > 0. The
// Bayes error is 0, but no linear model beats 50%: a known answer that needs a
// hidden layer.
int32_t XorLabel(const float* x) { return x[0] * x[1] > 0 ? 1 : 0; }

class XorStream final : public TrainingStream {
 public:
  XorStream(int dim, uint64_t seed, bool random_labels)
      : dim_(dim), rng_(seed, 7), random_labels_(random_labels) {}
  int input_dim() const override { return dim_; }
  int num_classes() const override { return 2; }
  void NextBatch(Eigen::Ref<ExampleMatrix> x, int32_t* y) override {
    for (Eigen::Index j = 0; j < x.cols(); ++j) {
      for (int i = 0; i < dim_; ++i) x(i, j) = static_cast<float>(rng_.Uniform(-1, 1));
      y[j] = random_labels_ ? static_cast<int32_t>(rng_.UniformInt(2)) : XorLabel(&x(0, j));
    }
  }
  void SaveState(ByteWriter& out) const override { rng_.Save(out); }
  void RestoreState(ByteReader& in) override { rng_.Restore(in); }

 private:
  int dim_;
  Rng rng_;
  bool random_labels_;
};

Examples XorSet(int dim, int n, uint64_t seed) {
  XorStream stream(dim, seed, false);
  Examples set;
  set.x.resize(dim, n);
  set.y.resize(static_cast<size_t>(n));
  stream.NextBatch(set.x, set.y.data());
  return set;
}

Dataset XorDataset(int dim, uint64_t seed, bool random_labels = false) {
  Dataset d;
  d.name = "xor";
  d.input_dim = dim;
  d.num_classes = 2;
  d.train = std::make_unique<XorStream>(dim, seed, random_labels);
  d.validation = XorSet(dim, 500, seed + 1);
  d.test = XorSet(dim, 1000, seed + 2);
  d.probe = XorSet(dim, 100, seed + 3);
  return d;
}

TrainConfig SmallConfig() {
  TrainConfig c;
  c.hidden = {16};
  c.learning_rate = 0.1;
  c.batch_size = 10;
  c.updates = 4000;
  c.checkpoint_every = 1000;
  c.probe_examples = 50;
  c.jacobian_examples = 2;
  c.histogram_bins = 10;
  c.seed = 3;
  return c;
}

TEST(Trainer, LearnsXorWhichSoftmaxRegressionCannot) {
  FakeClock clock;
  Dataset data = XorDataset(2, 11);
  auto result = Trainer(SmallConfig(), &clock).Train(data, nullptr);
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_EQ(result->status, TrainStatus::kSucceeded);
  EXPECT_EQ(result->steps, 4000);
  EXPECT_LT(result->last_checkpoint.test_error, 0.05);
  EXPECT_LT(result->last_checkpoint.validation_error, 0.05);

  TrainConfig linear = SmallConfig();
  linear.hidden = {};
  Dataset data2 = XorDataset(2, 11);
  auto flat = Trainer(linear, &clock).Train(data2, nullptr);
  ASSERT_TRUE(flat.ok());
  EXPECT_GT(flat->last_checkpoint.test_error, 0.3);
  EXPECT_TRUE(flat->last_checkpoint.layers.empty());
}

TEST(Trainer, CheckpointsAtZeroEveryKAndTheEnd) {
  FakeClock clock;
  TrainConfig c = SmallConfig();
  c.updates = 25;
  c.checkpoint_every = 10;
  Dataset data = XorDataset(2, 1);
  std::vector<CheckpointMetrics> seen;
  auto result = Trainer(c, &clock).Train(data, [&](const CheckpointMetrics& m) {
    seen.push_back(m);
    return false;
  });
  ASSERT_TRUE(result.ok());
  ASSERT_EQ(seen.size(), 4u);
  EXPECT_EQ(seen[0].step, 0);
  EXPECT_EQ(seen[1].step, 10);
  EXPECT_EQ(seen[2].step, 20);
  EXPECT_EQ(seen[3].step, 25);
  EXPECT_EQ(seen[3].examples_seen, 250);
  EXPECT_TRUE(std::isnan(seen[0].train_nll));
  EXPECT_GT(seen[1].train_nll, 0);
  // One hidden layer: one LayerStats with full histograms.
  ASSERT_EQ(seen[0].layers.size(), 1u);
  EXPECT_EQ(seen[0].layers[0].layer, 1);
  EXPECT_EQ(seen[0].layers[0].activation.histogram.size(), 10u);
  EXPECT_EQ(seen[0].layers[0].activation.hist_lo, -1.0);  // tanh's range
  EXPECT_GT(seen[0].layers[0].activation.jacobian_sv_mean, 0);
  EXPECT_GT(seen[0].layers[0].weight_grad.std, 0);
}

TEST(Trainer, ObserverStopsTraining) {
  FakeClock clock;
  Dataset data = XorDataset(2, 1);
  int calls = 0;
  auto result = Trainer(SmallConfig(), &clock).Train(data, [&](const CheckpointMetrics& m) {
    ++calls;
    return m.step >= 2000;
  });
  ASSERT_TRUE(result.ok());
  EXPECT_EQ(result->status, TrainStatus::kStopped);
  EXPECT_EQ(result->steps, 2000);
  EXPECT_EQ(calls, 3);
}

// Sets `stop` while serving batch `at`, as a heartbeat thread would between
// two checkpoints.
class StoppingStream final : public TrainingStream {
 public:
  StoppingStream(std::unique_ptr<TrainingStream> inner, int64_t at, std::atomic<bool>* stop)
      : inner_(std::move(inner)), at_(at), stop_(stop) {}
  int input_dim() const override { return inner_->input_dim(); }
  int num_classes() const override { return inner_->num_classes(); }
  void NextBatch(Eigen::Ref<ExampleMatrix> x, int32_t* y) override {
    if (++served_ == at_) stop_->store(true);
    inner_->NextBatch(x, y);
  }
  void SaveState(ByteWriter& out) const override { inner_->SaveState(out); }
  void RestoreState(ByteReader& in) override { inner_->RestoreState(in); }

 private:
  std::unique_ptr<TrainingStream> inner_;
  int64_t at_;
  std::atomic<bool>* stop_;
  int64_t served_ = 0;
};

TEST(Trainer, StopFlagStopsBeforeTheNextUpdate) {
  FakeClock clock;
  Dataset data = XorDataset(2, 1);
  std::atomic<bool> stop{false};
  data.train = std::make_unique<StoppingStream>(std::move(data.train), 1234, &stop);
  int checkpoints = 0;
  auto result = Trainer(SmallConfig(), &clock)
                    .Train(
                        data,
                        [&](const CheckpointMetrics&) {
                          ++checkpoints;
                          return false;
                        },
                        &stop);
  ASSERT_TRUE(result.ok());
  EXPECT_EQ(result->status, TrainStatus::kStopped);
  EXPECT_EQ(result->steps, 1234);  // the update whose batch set the flag still ran
  EXPECT_EQ(checkpoints, 2);       // steps 0 and 1000
}

TEST(Trainer, HugeLearningRateDivergesInsteadOfCrashing) {
  FakeClock clock;
  TrainConfig c = SmallConfig();
  c.activation = Activation::kIdentity;
  c.learning_rate = 1e30;
  Dataset data = XorDataset(2, 1);
  auto result = Trainer(c, &clock).Train(data, nullptr);
  ASSERT_TRUE(result.ok());
  EXPECT_EQ(result->status, TrainStatus::kDiverged);
  EXPECT_LT(result->steps, c.updates);
  EXPECT_FALSE(result->reason.empty());
}

// Every number a checkpoint holds, in order, for a byte comparison.
std::vector<double> Flatten(const std::vector<CheckpointMetrics>& all) {
  std::vector<double> out;
  auto add_q = [&](const QuantityStats& q) {
    for (double v : {q.mean, q.std, q.p02, q.p50, q.p98, q.saturated_fraction, q.jacobian_sv_mean,
                     q.hist_lo, q.hist_hi}) {
      out.push_back(v);
    }
    for (float h : q.histogram) out.push_back(h);
  };
  for (const auto& m : all) {
    for (double v : {static_cast<double>(m.step), m.train_nll, m.train_loss, m.test_error,
                     m.test_nll, m.validation_error, m.validation_nll, m.wall_seconds}) {
      out.push_back(v);
    }
    for (const auto& l : m.layers) {
      add_q(l.activation);
      add_q(l.backprop_grad);
      add_q(l.weight_grad);
    }
  }
  return out;
}

std::vector<double> RunAndFlatten(uint64_t seed, int batch, int threads = 1,
                                  std::vector<int> hidden = {20, 20}, int64_t updates = 300) {
  FakeClock clock;
  TrainConfig c = SmallConfig();
  c.hidden = std::move(hidden);
  c.threads = threads;
  c.updates = updates;
  c.checkpoint_every = updates / 3;
  c.batch_size = batch;
  c.seed = seed;
  Dataset data = XorDataset(6, 5);
  std::vector<CheckpointMetrics> seen;
  auto result = Trainer(c, &clock).Train(data, [&](const CheckpointMetrics& m) {
    seen.push_back(m);
    return false;
  });
  EXPECT_TRUE(result.ok());
  return Flatten(seen);
}

TEST(Trainer, SameSeedSameBytesDifferentSeedsDiffer) {
  for (int batch : {10, 128}) {
    const std::vector<double> a = RunAndFlatten(1, batch), b = RunAndFlatten(1, batch),
                              c = RunAndFlatten(2, batch);
    ASSERT_EQ(a.size(), b.size());
    EXPECT_EQ(0, std::memcmp(a.data(), b.data(), a.size() * sizeof(double))) << batch;
    ASSERT_EQ(a.size(), c.size());
    EXPECT_NE(0, std::memcmp(a.data(), c.data(), a.size() * sizeof(double))) << batch;
  }
}

// Threads per trial split each product's output in fixed ranges, and every
// output element is computed the same way whatever range holds it: the same
// bits for every thread count (layers wide enough to be split), on every ISA
// this CPU has.
TEST(Trainer, EveryThreadCountGivesTheSameBits) {
  for (KernelIsa isa : {KernelIsa::kGeneric, KernelIsa::kAvx2, KernelIsa::kAvx512}) {
    if (!KernelIsaSupported(isa)) continue;
    ASSERT_TRUE(SelectKernelIsa(isa).ok());
    for (int batch : {10, 32}) {
      const std::vector<double> one = RunAndFlatten(1, batch, 1, {160, 170}, 30);
      for (int threads : {2, 3}) {
        const std::vector<double> many = RunAndFlatten(1, batch, threads, {160, 170}, 30);
        ASSERT_EQ(one.size(), many.size());
        EXPECT_EQ(0, std::memcmp(one.data(), many.data(), one.size() * sizeof(double)))
            << KernelIsaName(isa) << " batch " << batch << " threads " << threads;
      }
    }
  }
  ASSERT_TRUE(SelectKernelIsa(BestKernelIsa()).ok());
}

TEST(Trainer, RejectsBadConfigAndDataNamingTheField) {
  FakeClock clock;
  struct Case {
    void (*mutate)(TrainConfig&);
    const char* field;
  };
  const Case cases[] = {
      {[](TrainConfig& c) { c.batch_size = 0; }, "batch_size"},
      {[](TrainConfig& c) { c.learning_rate = -1; }, "learning_rate"},
      {[](TrainConfig& c) { c.momentum = 1; }, "momentum"},
      {[](TrainConfig& c) { c.checkpoint_every = 0; }, "checkpoint_every"},
      {[](TrainConfig& c) {
         c.hidden = {3, -1};
       },
       "hidden"},
      {[](TrainConfig& c) { c.jacobian_examples = 1000; }, "jacobian_examples"},
      {[](TrainConfig& c) { c.probe_examples = 5000; }, "probe_examples"},
  };
  for (const Case& k : cases) {
    TrainConfig c = SmallConfig();
    k.mutate(c);
    Dataset data = XorDataset(2, 1);
    auto result = Trainer(c, &clock).Train(data, nullptr);
    ASSERT_EQ(result.status().code(), absl::StatusCode::kInvalidArgument) << k.field;
    EXPECT_NE(result.status().message().find(k.field), std::string::npos)
        << result.status().message();
  }
  Dataset bad = XorDataset(2, 1);
  bad.test.y[3] = 7;
  auto result = Trainer(SmallConfig(), &clock).Train(bad, nullptr);
  EXPECT_NE(result.status().message().find("label 7"), std::string::npos);
}

TEST(Trainer, WallAndMonitorSecondsComeFromTheClock) {
  FakeClock clock;
  Dataset data = XorDataset(2, 1);
  TrainConfig c = SmallConfig();
  c.updates = 10;
  c.checkpoint_every = 10;
  auto result = Trainer(c, &clock).Train(data, [&](const CheckpointMetrics&) {
    clock.Advance(absl::Seconds(2));
    return false;
  });
  ASSERT_TRUE(result.ok());
  // Two checkpoints; the observer's 2 s after the first count as training time.
  EXPECT_DOUBLE_EQ(result->last_checkpoint.wall_seconds, 2.0);
  EXPECT_DOUBLE_EQ(result->last_checkpoint.monitor_seconds, 0.0);
}

}  // namespace
}  // namespace deepsweep::ml
