// Findings of Glorot & Bengio (2010) cheap enough to check in seconds, on the
// paper's own Shapeset-3x2 through the real data pipeline (ml/data) and the
// real Trainer and LayerProbe (ml/). Each assertion would fail if the trainer,
// the initializers or the probe were wrong. Settings, and why they were chosen,
// are in docs/REPRODUCTION.md ("Findings tests").
#include <algorithm>
#include <cstdint>
#include <vector>

#include "gtest/gtest.h"
#include "ml/data/dataset_factory.h"
#include "ml/trainer.h"

namespace deepsweep::ml {
namespace {

// Shapeset online stream with small evaluation sets: the findings are about
// layer statistics on the 300 probe scenes, not about test error.
Dataset Shapeset(uint64_t seed) {
  DatasetOptions options;
  options.name = "shapeset";
  options.train_examples = 0;
  options.validation_examples = 300;
  options.test_examples = 500;
  options.probe_examples = 300;
  auto dataset = LoadDataset(options, seed);
  EXPECT_TRUE(dataset.ok()) << dataset.status();
  return *std::move(dataset);
}

// Every checkpoint of one run.
std::vector<CheckpointMetrics> TrainOnShapeset(const TrainConfig& config, uint64_t seed) {
  FakeClock clock;
  Dataset data = Shapeset(seed);
  std::vector<CheckpointMetrics> seen;
  auto result = Trainer(config, &clock).Train(data, [&](const CheckpointMetrics& m) {
    seen.push_back(m);
    return false;
  });
  EXPECT_TRUE(result.ok()) << result.status();
  EXPECT_EQ(result->status, TrainStatus::kSucceeded) << result->reason;
  return seen;
}

// Paper Fig. 2: a 4-layer sigmoid net with the standard init on Shapeset. Its
// top hidden layer is driven to 0 (saturated) within the first few hundred
// updates while the first layer stays at 0.5 and the layers below the top move
// up, not down; the net sits at the "guess one class" error level meanwhile.
//
// Width 100 instead of the paper's 1000: the drop is faster the wider the net
// (at lr 0.1 after 1000 updates the top mean is 0.24 at width 100, 0.145 at
// 200, 0.105 at 300) and faster the larger the rate; width 100 at lr 0.3 gives
// top means of 0.048-0.055 at update 1000 over seeds 1-5 and 11-13, far from
// the 0.15 bound, in about a third of a second per seed.
TEST(GlorotFindings, SigmoidTopHiddenLayerSaturatesWithinAThousandUpdates) {
  TrainConfig config;
  config.activation = Activation::kSigmoid;
  config.init = Init::kStandard;
  config.hidden = {100, 100, 100, 100};
  config.learning_rate = 0.3;
  config.batch_size = 10;
  config.updates = 1000;
  config.checkpoint_every = 250;
  config.probe_examples = 300;
  config.jacobian_examples = 0;
  for (uint64_t seed : {1, 2, 3}) {
    SCOPED_TRACE(seed);
    config.seed = seed;
    const std::vector<CheckpointMetrics> run = TrainOnShapeset(config, seed);
    ASSERT_EQ(run.size(), 5u);  // steps 0, 250, 500, 750, 1000
    // At init every layer sits at sigmoid(0) = 0.5: saturation is learned.
    for (const LayerStats& l : run.front().layers) {
      EXPECT_NEAR(l.activation.mean, 0.5, 0.03) << "layer " << l.layer << " at step 0";
    }
    const std::vector<LayerStats>& end = run.back().layers;
    ASSERT_EQ(end.size(), 4u);
    EXPECT_LT(end[3].activation.mean, 0.15) << "top layer at step 1000";
    EXPECT_LT(run[2].layers[3].activation.mean, 0.15) << "top layer at step 500";
    EXPECT_NEAR(end[0].activation.mean, 0.5, 0.02) << "layer 1";
    EXPECT_NEAR(end[1].activation.mean, 0.5, 0.1) << "layer 2";
    EXPECT_GT(end[2].activation.mean, 0.55) << "layer 3 moves the other way";
    // Saturated top units are nearly constant across examples.
    EXPECT_LT(end[3].activation.std, 0.25 * run.front().layers[3].activation.std);
    // Stuck near the 83.3% error of always guessing one single-shape class.
    EXPECT_GT(run.back().test_error, 0.75);
  }
}

// The layer statistics of an untrained 5-layer tanh net of `width` units per
// layer on the 300 Shapeset probe scenes, with `jacobian_examples` exact
// Jacobian SVDs per layer (the costly part: about 0.3 s per 1000 x 1000 net
// and example, 8x less at width 500).
std::vector<LayerStats> AtInit(Init init, int width, int jacobian_examples, uint64_t seed) {
  TrainConfig config;
  config.activation = Activation::kTanh;
  config.init = init;
  config.hidden = std::vector<int>(5, width);
  config.updates = 0;
  config.probe_examples = 300;
  config.jacobian_examples = jacobian_examples;
  config.seed = seed;
  const std::vector<CheckpointMetrics> run = TrainOnShapeset(config, seed);
  EXPECT_EQ(run.size(), 1u);
  return run.empty() ? std::vector<LayerStats>{} : run.front().layers;
}

double ActivationStd(const std::vector<LayerStats>& layers, int layer) {
  return layers[layer - 1].activation.std;
}

// Fig. 6, at the paper's width 1000 (its layer 1 then has nearly the fan-in
// of the others: 1024 pixels). Standard init: Var[W] = 1/(3 n), so in the near-linear regime each
// layer's activation std is sqrt(1/3) = 0.58 times the one below and layer 5
// is about a tenth of layer 1 (0.099-0.108 over seeds 1-5).
//
// Normalized init: n Var[W] = 1 keeps the linear part of the signal, but tanh
// still contracts it a little per layer (Var[tanh(s)] < Var[s]), so layer 5 is
// about 0.6 of layer 1 (0.587-0.624 over seeds 1-5; the wide-net variance
// recursion predicts 0.62), not "within 15%": every layer stays within 20% of
// the one below it (ratios 0.83-0.93) instead of losing 42% per layer.
TEST(GlorotFindings, TanhActivationSpreadShrinksUpwardUnderStandardInitOnly) {
  const std::vector<LayerStats> standard = AtInit(Init::kStandard, 1000, 0, 1);
  const std::vector<LayerStats> normalized = AtInit(Init::kNormalized, 1000, 0, 1);
  ASSERT_EQ(standard.size(), 5u);
  ASSERT_EQ(normalized.size(), 5u);

  EXPECT_LT(ActivationStd(standard, 5), 0.15 * ActivationStd(standard, 1));
  EXPECT_GT(ActivationStd(normalized, 5), 0.5 * ActivationStd(normalized, 1));
  for (int l = 2; l <= 5; ++l) {
    const double r_standard = ActivationStd(standard, l) / ActivationStd(standard, l - 1);
    const double r_normalized = ActivationStd(normalized, l) / ActivationStd(normalized, l - 1);
    EXPECT_NEAR(r_standard, 0.58, 0.06) << "standard, layer " << l;
    EXPECT_GE(r_normalized, 0.8) << "normalized, layer " << l;
    EXPECT_LE(r_normalized, 1.0) << "normalized, layer " << l;
  }
  // Nothing saturates at init: the problems of Figs. 2-3 come from training.
  for (const LayerStats& l : standard) EXPECT_LT(l.activation.saturated_fraction, 0.01);
}

// At width 500 (the Jacobian SVDs dominate the cost). Fig. 7: back-propagated
// gradients dC/ds shrink going down under the standard init (layer 1 about a
// tenth of layer 5), much less under the normalized one (about 0.57). Fig. 8 /
// Eq. 14: under the standard init the weight gradients, products of the two
// opposite trends, stay alike in every layer (within 7% over seeds 1-4).
// Section 5: the mean singular value of each layer Jacobian is about 0.5 with
// the standard init (0.48-0.49) and about 0.8 with the normalized one
// (0.74-0.81) in layers 2-5, whose Jacobians are square (layer 1's is
// 500 x 1024, so its singular values sit higher).
TEST(GlorotFindings, GradientsAndJacobiansAtInitFollowTheVarianceArgument) {
  const std::vector<LayerStats> standard = AtInit(Init::kStandard, 500, 1, 2);
  const std::vector<LayerStats> normalized = AtInit(Init::kNormalized, 500, 1, 2);
  ASSERT_EQ(standard.size(), 5u);
  ASSERT_EQ(normalized.size(), 5u);

  EXPECT_LT(standard[0].backprop_grad.std, 0.15 * standard[4].backprop_grad.std);
  EXPECT_GT(normalized[0].backprop_grad.std, 0.5 * normalized[4].backprop_grad.std);

  double lo = standard[0].weight_grad.std, hi = lo;
  for (const LayerStats& l : standard) {
    lo = std::min(lo, l.weight_grad.std);
    hi = std::max(hi, l.weight_grad.std);
  }
  EXPECT_LT(hi / lo, 1.15) << "standard weight-gradient std across layers";

  for (int l = 2; l <= 5; ++l) {
    EXPECT_NEAR(standard[l - 1].activation.jacobian_sv_mean, 0.49, 0.04) << "standard " << l;
    EXPECT_GE(normalized[l - 1].activation.jacobian_sv_mean, 0.7) << "normalized " << l;
    EXPECT_LE(normalized[l - 1].activation.jacobian_sv_mean, 0.9) << "normalized " << l;
  }
}

}  // namespace
}  // namespace deepsweep::ml
