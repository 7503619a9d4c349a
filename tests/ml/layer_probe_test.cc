#include "ml/layer_probe.h"

#include <algorithm>
#include <cmath>
#include <numbers>
#include <vector>

#include "Eigen/SVD"
#include "gtest/gtest.h"
#include "ml/random.h"

namespace deepsweep::ml {
namespace {

TEST(Summarize, KnownDistribution) {
  // 0, 1, ..., 100: mean 50, p02 = 2, p50 = 50, p98 = 98 exactly.
  std::vector<float> v;
  for (int i = 100; i >= 0; --i) v.push_back(static_cast<float>(i));
  const double lo = 0, hi = 100;
  QuantityStats q = Summarize(v, 4, &lo, &hi);
  EXPECT_DOUBLE_EQ(q.mean, 50);
  EXPECT_NEAR(q.std, std::sqrt(850.0), 1e-9);  // (101^2 - 1) / 12
  EXPECT_DOUBLE_EQ(q.p02, 2);
  EXPECT_DOUBLE_EQ(q.p50, 50);
  EXPECT_DOUBLE_EQ(q.p98, 98);
  ASSERT_EQ(q.histogram.size(), 4u);
  // Bins [0,25) [25,50) [50,75) [75,100]: 25, 25, 25, 26 values.
  EXPECT_FLOAT_EQ(q.histogram[0], 25.0f / 101);
  EXPECT_FLOAT_EQ(q.histogram[3], 26.0f / 101);
  // Interpolated quantile: 4 values, p50 halfway between the middle two.
  std::vector<float> w = {4, 1, 3, 2};
  EXPECT_DOUBLE_EQ(Summarize(w, 2).p50, 2.5);
}

// Units saturated to the last bit (f'(s) == 0 in float) give zero rows of the
// layer Jacobian, which the probe leaves out of its SVD (Eigen 3.4.0's float
// BDCSVD crashed on such a 200 x 1024 matrix): the mean singular value must
// still be that of the whole J = diag(f'(s)) W, zero singular values included.
TEST(LayerProbeJacobian, SaturatedUnitsCountAsZeroSingularValues) {
  constexpr int kInputs = 40, kUnits = 30;
  MlpShape shape{
      .input_dim = kInputs, .hidden = {kUnits}, .output_dim = 3, .activation = Activation::kTanh};
  auto net = Mlp<float>::Create(shape);
  Rng rng(7);
  net->Initialize(Init::kNormalized, 1.0, rng);
  // Two units in three saturate: a bias of 50 puts tanh at exactly 1.0f.
  for (int u = 0; u < kUnits; ++u) net->biases(0)(u) = u % 3 == 0 ? 0.0f : 50.0f;
  Examples probe;
  probe.x.resize(kInputs, 1);
  for (Eigen::Index i = 0; i < probe.x.size(); ++i) {
    probe.x.data()[i] = static_cast<float>(rng.Uniform(-1, 1));
  }
  probe.y.push_back(0);
  const Eigen::MatrixXf x = probe.x;
  LayerProbe layer_probe(ProbeOptions{.histogram_bins = 10, .jacobian_examples = 1},
                         std::move(probe), Loss::kNll);
  const std::vector<LayerStats> stats = layer_probe.Measure(*net);

  // The reference: J in double from the same pre-activations, all its rows.
  const Eigen::MatrixXd w = net->weights(0).cast<double>();
  const Eigen::VectorXf s = net->weights(0) * x.col(0) + net->biases(0);
  Eigen::MatrixXd j = w;
  int zero_rows = 0;
  for (int u = 0; u < kUnits; ++u) {
    const float a = std::tanh(s(u));
    const double slope = 1.0 - static_cast<double>(a) * a;
    zero_rows += slope == 0 ? 1 : 0;
    j.row(u) *= slope;
  }
  ASSERT_EQ(zero_rows, 20);
  const double want = Eigen::JacobiSVD<Eigen::MatrixXd>(j).singularValues().mean();
  ASSERT_EQ(stats.size(), 1u);
  EXPECT_GT(want, 0.05);
  EXPECT_NEAR(stats[0].activation.jacobian_sv_mean, want, 1e-5 * want);
}

// The paper's init-time facts (Section 4.2.1, Figs. 6-8) on a 5 x 1000 tanh net
// with inputs uniform in [-1, 1].
struct InitFacts {
  std::vector<LayerStats> layers;
};

InitFacts MeasureAtInit(Init init) {
  constexpr int kWidth = 1000, kExamples = 300;
  MlpShape shape{.input_dim = kWidth,
                 .hidden = std::vector<int>(5, kWidth),
                 .output_dim = 10,
                 .activation = Activation::kTanh};
  auto net = Mlp<float>::Create(shape);
  Rng rng(2010);
  net->Initialize(init, 1.0, rng);
  Examples probe;
  probe.x.resize(kWidth, kExamples);
  for (Eigen::Index i = 0; i < probe.x.size(); ++i) {
    probe.x.data()[i] = static_cast<float>(rng.Uniform(-1, 1));
  }
  for (int i = 0; i < kExamples; ++i) probe.y.push_back(static_cast<int32_t>(rng.UniformInt(10)));
  LayerProbe layer_probe(ProbeOptions{.histogram_bins = 20, .jacobian_examples = 1},
                         std::move(probe), Loss::kNll);
  return {layer_probe.Measure(*net)};
}

// The wide-net (mean-field) prediction of each layer's activation std:
//   Var[s_1] = n Var[W] Var[x],  Var[a_l] = E[tanh(z)^2], z ~ N(0, Var[s_l]),
//   Var[s_{l+1}] = n Var[W] Var[a_l]
// with the Gaussian expectation by the trapezoid rule over +-10 sd.
std::vector<double> PredictedActivationStd(double n_var_w, double var_x, int layers) {
  std::vector<double> out;
  double var_s = n_var_w * var_x;
  for (int l = 0; l < layers; ++l) {
    const int steps = 20000;
    const double lim = 10.0, h = 2 * lim / steps;
    double e = 0;
    for (int i = 0; i <= steps; ++i) {
      const double z = -lim + i * h;
      const double t = std::tanh(z * std::sqrt(var_s));
      e += (i == 0 || i == steps ? 0.5 : 1.0) * t * t * std::exp(-0.5 * z * z);
    }
    e *= h / std::sqrt(2 * std::numbers::pi);
    out.push_back(std::sqrt(e));
    var_s = n_var_w * e;
  }
  return out;
}

TEST(PaperInitFacts, StandardVersusNormalizedOnFiveByThousandTanh) {
  const InitFacts standard = MeasureAtInit(Init::kStandard);
  const InitFacts normalized = MeasureAtInit(Init::kNormalized);
  ASSERT_EQ(standard.layers.size(), 5u);
  ASSERT_EQ(normalized.layers.size(), 5u);

  // Activation std follows the variance recursion within 2% (n Var[W] = 1/3
  // standard, 1 normalized; Var[x] = 1/3).
  const std::vector<double> want_std = PredictedActivationStd(1.0 / 3, 1.0 / 3, 5);
  const std::vector<double> want_norm = PredictedActivationStd(1.0, 1.0 / 3, 5);
  for (int l = 0; l < 5; ++l) {
    EXPECT_NEAR(standard.layers[l].activation.std / want_std[l], 1.0, 0.02) << l + 1;
    EXPECT_NEAR(normalized.layers[l].activation.std / want_norm[l], 1.0, 0.02) << l + 1;
  }
  // Fig. 6: standard shrinks about 0.58x per layer; normalized keeps each
  // layer within 15% of the one below (the slow tanh contraction remains).
  for (int l = 1; l < 5; ++l) {
    const double r_std = standard.layers[l].activation.std / standard.layers[l - 1].activation.std;
    const double r_norm =
        normalized.layers[l].activation.std / normalized.layers[l - 1].activation.std;
    EXPECT_NEAR(r_std, 0.58, 0.03) << "standard, layer " << l + 1;
    EXPECT_GE(r_norm, 0.84) << "normalized, layer " << l + 1;
    EXPECT_LE(r_norm, 1.0) << "normalized, layer " << l + 1;
  }

  // Mean Jacobian singular value: about 0.49 standard, 0.72-0.85 normalized
  // (averaged over layers; layer 1 sits lower because its f' is smaller).
  double sv_std = 0, sv_norm = 0;
  for (int l = 0; l < 5; ++l) {
    sv_std += standard.layers[l].activation.jacobian_sv_mean / 5;
    sv_norm += normalized.layers[l].activation.jacobian_sv_mean / 5;
    EXPECT_GT(normalized.layers[l].activation.jacobian_sv_mean,
              standard.layers[l].activation.jacobian_sv_mean + 0.15)
        << l + 1;
  }
  EXPECT_NEAR(sv_std, 0.49, 0.03);
  EXPECT_GE(sv_norm, 0.72);
  EXPECT_LE(sv_norm, 0.85);

  // Fig. 7: back-propagated gradients shrink going down by >5x under standard,
  // by <2x under normalized.
  EXPECT_LT(standard.layers[0].backprop_grad.std, 0.2 * standard.layers[4].backprop_grad.std);
  EXPECT_GT(normalized.layers[0].backprop_grad.std, 0.5 * normalized.layers[4].backprop_grad.std);

  // Fig. 8 / Eq. 14: weight-gradient spread about equal in every layer.
  for (const InitFacts* facts : {&standard, &normalized}) {
    double lo = 1e9, hi = 0;
    for (const auto& l : facts->layers) {
      lo = std::min(lo, l.weight_grad.std);
      hi = std::max(hi, l.weight_grad.std);
    }
    EXPECT_LT(hi / lo, 1.15);
  }
  // Nothing saturates at init with these small weights.
  EXPECT_LT(standard.layers[0].activation.saturated_fraction, 0.01);
}

}  // namespace
}  // namespace deepsweep::ml
