#include "ml/mlp.h"

#include <cmath>
#include <limits>
#include <string>
#include <tuple>
#include <vector>

#include "gtest/gtest.h"

namespace deepsweep::ml {
namespace {

constexpr Activation kAllActivations[] = {
    Activation::kSigmoid, Activation::kTanh,      Activation::kSoftsign,
    Activation::kRelu,    Activation::kLeakyRelu, Activation::kElu,
    Activation::kSelu,    Activation::kGelu,      Activation::kIdentity};

template <typename Scalar>
Eigen::Matrix<Scalar, Eigen::Dynamic, Eigen::Dynamic> RandomInputs(int rows, int cols,
                                                                   uint64_t seed) {
  Rng rng(seed);
  Eigen::Matrix<Scalar, Eigen::Dynamic, Eigen::Dynamic> x(rows, cols);
  for (Eigen::Index i = 0; i < x.size(); ++i) x.data()[i] = static_cast<Scalar>(rng.Uniform(-1, 1));
  return x;
}

std::vector<int32_t> RandomLabels(int n, int classes, uint64_t seed) {
  Rng rng(seed);
  std::vector<int32_t> y(n);
  for (auto& v : y) v = static_cast<int32_t>(rng.UniformInt(classes));
  return y;
}

// Mean cost of the batch, the function the gradients differentiate.
double Cost(const Mlp<double>& net, Loss loss, const Eigen::MatrixXd& x,
            const std::vector<int32_t>& y) {
  Pass<double> pass;
  return EvaluateSet(net, loss, x, y.data(), pass).loss / static_cast<double>(x.cols());
}

// Central differences in double on every weight and bias of a 3-layer net.
class GradientCheck : public ::testing::TestWithParam<std::tuple<Activation, Loss>> {};

TEST_P(GradientCheck, BackpropMatchesFiniteDifferences) {
  const auto [activation, loss] = GetParam();
  MlpShape shape{.input_dim = 5, .hidden = {6, 4}, .output_dim = 3, .activation = activation};
  auto net = Mlp<double>::Create(shape);
  ASSERT_TRUE(net.ok());
  Rng rng(17);
  net->Initialize(Init::kHeNormal, 1.0, rng);
  // Non-zero biases so the check also covers their path.
  for (int l = 0; l < net->num_layers(); ++l) {
    for (Eigen::Index i = 0; i < net->biases(l).size(); ++i)
      net->biases(l)(i) = rng.Uniform(-0.3, 0.3);
  }
  const Eigen::MatrixXd x = RandomInputs<double>(5, 7, 3);
  const std::vector<int32_t> y = RandomLabels(7, 3, 4);

  Pass<double> pass;
  Forward(*net, x, pass);
  Backward(*net, loss, y.data(), pass);
  Gradients<double> grads;
  ComputeGradients(*net, x, pass, grads);

  const double h = 1e-6;
  double worst = 0;
  auto check = [&](double& param, double analytic) {
    const double saved = param;
    param = saved + h;
    const double up = Cost(*net, loss, x, y);
    param = saved - h;
    const double down = Cost(*net, loss, x, y);
    param = saved;
    const double numeric = (up - down) / (2 * h);
    const double err =
        std::abs(numeric - analytic) / std::max(1e-4, std::abs(numeric) + std::abs(analytic));
    worst = std::max(worst, err);
  };
  for (int l = 0; l < net->num_layers(); ++l) {
    for (Eigen::Index i = 0; i < net->weights(l).size(); ++i) {
      check(net->weights(l).data()[i], grads.weights[l].data()[i]);
    }
    for (Eigen::Index i = 0; i < net->biases(l).size(); ++i) {
      check(net->biases(l)(i), grads.biases[l](i));
    }
  }
  EXPECT_LT(worst, 1e-6) << ActivationName(activation) << "/" << LossName(loss);
}

INSTANTIATE_TEST_SUITE_P(EveryActivationAndLoss, GradientCheck,
                         ::testing::Combine(::testing::ValuesIn(kAllActivations),
                                            ::testing::Values(Loss::kNll, Loss::kQuadratic)),
                         [](const auto& info) {
                           return std::string(ActivationName(std::get<0>(info.param))) + "_" +
                                  std::string(LossName(std::get<1>(info.param)));
                         });

// The fused float step (small-batch kernels, in-place update) equals
// W - eta * dW computed in double from the same starting point.
class SgdStepTest : public ::testing::TestWithParam<std::tuple<GemmBackend, int>> {};

TEST_P(SgdStepTest, FusedFloatStepMatchesDoubleGradientStep) {
  const auto [backend, batch] = GetParam();
  MlpShape shape{
      .input_dim = 37, .hidden = {50, 41, 20}, .output_dim = 10, .activation = Activation::kTanh};
  auto net_f = Mlp<float>::Create(shape);
  auto net_d = Mlp<double>::Create(shape);
  Rng rf(1), rd(1);
  net_f->Initialize(Init::kNormalized, 1.0, rf);
  net_d->Initialize(Init::kNormalized, 1.0, rd);
  const Eigen::MatrixXd x = RandomInputs<double>(37, batch, 2);
  const std::vector<int32_t> y = RandomLabels(batch, 10, 3);

  Pass<double> pd;
  Forward(*net_d, x, pd);
  const BatchLoss want_loss = Backward(*net_d, Loss::kNll, y.data(), pd);
  Gradients<double> g;
  ComputeGradients(*net_d, x, pd, g);

  const double rate = 0.5;
  Sgd<float> sgd(SgdOptions{.learning_rate = rate}, backend);
  Pass<float> pf;
  const Eigen::MatrixXf xf = x.cast<float>();
  const BatchLoss got_loss = sgd.Step(*net_f, Loss::kNll, xf, y.data(), pf);
  EXPECT_NEAR(got_loss.loss, want_loss.loss, 1e-4 * batch);
  for (int l = 0; l < net_f->num_layers(); ++l) {
    const Eigen::MatrixXd want = net_d->weights(l) - rate * g.weights[l];
    EXPECT_LT((net_f->weights(l).cast<double>() - want).cwiseAbs().maxCoeff(), 1e-5) << l;
    const Eigen::VectorXd want_b = net_d->biases(l) - rate * g.biases[l];
    EXPECT_LT((net_f->biases(l).cast<double>() - want_b).cwiseAbs().maxCoeff(), 1e-5) << l;
  }
  EXPECT_EQ(sgd.updates(), 1);
}

INSTANTIATE_TEST_SUITE_P(
    Backends, SgdStepTest,
    ::testing::Combine(::testing::Values(GemmBackend::kAuto, GemmBackend::kEigen,
                                         GemmBackend::kSmallBatch, GemmBackend::kBlas),
                       ::testing::Values(1, 10, 128)),
    [](const auto& info) {
      return std::string(GemmBackendName(std::get<0>(info.param))) + "_batch" +
             std::to_string(std::get<1>(info.param));
    });

TEST(Sgd, MomentumAccumulatesVelocity) {
  // With mu and a fixed minibatch, the second update is eta g2 + mu eta g1.
  MlpShape shape{
      .input_dim = 4, .hidden = {5}, .output_dim = 2, .activation = Activation::kIdentity};
  auto net = Mlp<double>::Create(shape);
  Rng rng(1);
  net->Initialize(Init::kLecunNormal, 1.0, rng);
  auto reference = *net;
  const Eigen::MatrixXd x = RandomInputs<double>(4, 3, 5);
  const std::vector<int32_t> y = RandomLabels(3, 2, 6);
  Sgd<double> sgd(SgdOptions{.learning_rate = 0.1, .momentum = 0.9});
  Pass<double> pass;
  sgd.Step(*net, Loss::kNll, x, y.data(), pass);
  sgd.Step(*net, Loss::kNll, x, y.data(), pass);

  Pass<double> p;
  Gradients<double> g1, g2;
  Forward(reference, x, p);
  Backward(reference, Loss::kNll, y.data(), p);
  ComputeGradients(reference, x, p, g1);
  auto after_one = reference;
  for (int l = 0; l < 2; ++l) after_one.weights(l) -= 0.1 * g1.weights[l];
  for (int l = 0; l < 2; ++l) after_one.biases(l) -= 0.1 * g1.biases[l];
  Forward(after_one, x, p);
  Backward(after_one, Loss::kNll, y.data(), p);
  ComputeGradients(after_one, x, p, g2);
  for (int l = 0; l < 2; ++l) {
    const Eigen::MatrixXd want =
        after_one.weights(l) - 0.1 * g2.weights[l] - 0.9 * 0.1 * g1.weights[l];
    EXPECT_LT((net->weights(l) - want).cwiseAbs().maxCoeff(), 1e-12);
  }
}

TEST(Mlp, DepthZeroIsSoftmaxRegressionAndDepth64Works) {
  for (int depth : {0, 64}) {
    MlpShape shape{.input_dim = 3, .hidden = std::vector<int>(depth, 4), .output_dim = 2};
    auto net = Mlp<float>::Create(shape);
    ASSERT_TRUE(net.ok());
    EXPECT_EQ(net->num_layers(), depth + 1);
    Rng rng(1);
    net->Initialize(Init::kNormalized, 1.0, rng);
    Pass<float> pass;
    const Eigen::MatrixXf x = RandomInputs<float>(3, 2, 1);
    Forward(*net, x, pass);
    EXPECT_EQ(pass.s.back().rows(), 2);
    EXPECT_TRUE(pass.s.back().allFinite());
  }
}

TEST(Mlp, RejectsBadShapesNamingTheField) {
  EXPECT_NE(Mlp<float>::Create({.input_dim = 0, .hidden = {}, .output_dim = 2})
                .status()
                .message()
                .find("input_dim"),
            std::string::npos);
  EXPECT_NE(Mlp<float>::Create({.input_dim = 3, .hidden = {4, 0}, .output_dim = 2})
                .status()
                .message()
                .find("hidden layer 2"),
            std::string::npos);
  EXPECT_EQ(Mlp<float>::Create({.input_dim = 3, .hidden = std::vector<int>(65, 2), .output_dim = 2})
                .status()
                .code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_FALSE(Mlp<float>::Create({.input_dim = 3, .hidden = {}, .output_dim = 1}).ok());
}

TEST(Mlp, IsFiniteSeesNaNAndInf) {
  auto net = Mlp<float>::Create({.input_dim = 2, .hidden = {3}, .output_dim = 2});
  EXPECT_TRUE(net->IsFinite());
  net->weights(1)(0, 0) = std::numeric_limits<float>::quiet_NaN();
  EXPECT_FALSE(net->IsFinite());
  net->weights(1)(0, 0) = 0;
  net->biases(0)(2) = std::numeric_limits<float>::infinity();
  EXPECT_FALSE(net->IsFinite());
}

TEST(Loss, KnownValues) {
  // Logits (0, 0): p = (1/2, 1/2); nll = log 2; quadratic = 1/2 (1/4 + 1/4).
  Eigen::MatrixXd o = Eigen::MatrixXd::Zero(2, 1);
  const int32_t y = 1;
  Eigen::MatrixXd grad;
  const BatchLoss nll = EvaluateLoss<double>(Loss::kNll, o, &y, 1.0, &grad);
  EXPECT_NEAR(nll.loss, std::log(2.0), 1e-15);
  EXPECT_NEAR(grad(0, 0), 0.5, 1e-15);
  EXPECT_NEAR(grad(1, 0), -0.5, 1e-15);
  const BatchLoss quad = EvaluateLoss<double>(Loss::kQuadratic, o, &y, 1.0, &grad);
  EXPECT_NEAR(quad.loss, 0.25, 1e-15);
  EXPECT_NEAR(quad.nll, std::log(2.0), 1e-15);
  // Ties go to the first class: predicts 0, label 1 -> one error.
  EXPECT_EQ(nll.errors, 1);
  // Huge logits do not overflow.
  o << 1000, -1000;
  const int32_t y0 = 0;
  EXPECT_NEAR(EvaluateLoss<double>(Loss::kNll, o, &y0, 1.0, nullptr).loss, 0.0, 1e-12);
}

TEST(Loss, ParsesNames) {
  EXPECT_EQ(*ParseLoss("nll"), Loss::kNll);
  EXPECT_EQ(*ParseLoss("quadratic"), Loss::kQuadratic);
  EXPECT_NE(ParseLoss("mse").status().message().find("nll, quadratic"), std::string::npos);
}

TEST(Activation, ParsesEveryNameAndListsThemOnError) {
  for (Activation f : kAllActivations) EXPECT_EQ(*ParseActivation(ActivationName(f)), f);
  const auto bad = ParseActivation("swish");
  ASSERT_EQ(bad.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(bad.status().message().find("softsign"), std::string::npos);
}

TEST(Activation, SaturationDefinitions) {
  EXPECT_TRUE(IsSaturated(Activation::kTanh, 3.0, std::tanh(3.0)));
  EXPECT_FALSE(IsSaturated(Activation::kTanh, 2.0, std::tanh(2.0)));
  EXPECT_TRUE(IsSaturated(Activation::kSigmoid, -5.0, 1 / (1 + std::exp(5.0))));
  EXPECT_FALSE(IsSaturated(Activation::kSigmoid, -3.0, 1 / (1 + std::exp(3.0))));
  EXPECT_FALSE(IsSaturated(Activation::kSoftsign, 10.0, 10.0 / 11.0));
  EXPECT_TRUE(IsSaturated(Activation::kSoftsign, 60.0, 60.0 / 61.0));
  EXPECT_TRUE(IsSaturated(Activation::kRelu, -1.0, 0.0));
  EXPECT_FALSE(IsSaturated(Activation::kRelu, 1.0, 1.0));
  EXPECT_FALSE(IsSaturated(Activation::kIdentity, 1e9, 1e9));
  // The vectorized derivative agrees with the scalar one.
  for (Activation f : kAllActivations) {
    Eigen::MatrixXd s(1, 5), a(1, 5), g = Eigen::MatrixXd::Ones(1, 5);
    s << -2.5, -0.3, 0.01, 0.7, 3.0;
    ApplyActivation<double>(f, s, a);
    MultiplyByDerivative<double>(f, s, a, g);
    for (int i = 0; i < 5; ++i) EXPECT_NEAR(g(0, i), Derivative(f, s(0, i), a(0, i)), 1e-12);
  }
}

}  // namespace
}  // namespace deepsweep::ml
